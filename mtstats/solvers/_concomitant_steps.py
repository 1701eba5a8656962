"""The steps of the concomitant noise-scale fit (:mod:`.concomitant`).

Residual sums, the closed-form noise scale for fixed residuals, the joint
objective and its duality gap, the intercept-only starting scales and the
extrapolated update of the scales between rounds; the derivations are in
the docstring of :mod:`mtstats.solvers.concomitant`.
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import to_numpy
from ..datafits._common import quadratic_gap

#: Default lower bound on a noise scale, relative to the task's null RMS.
SIGMA_MIN_RATIO = 1e-2


def _host(values):
    return np.asarray(to_numpy(values), dtype=np.float64)


def _residual_squares(design, y, s, W, b):
    """``q_t = sum_i s_i r_i^2`` per task (NumPy), from the rows."""
    r = y - design.forward(W, b)
    return _host(design.task_sums(s * r * r))


def _noise_scale(q, w, sigma_min):
    """The optimal ``sigma`` for fixed residuals."""
    rms = np.sqrt(np.divide(q, w, out=np.zeros_like(q), where=w > 0))
    return np.maximum(sigma_min, rms)


def _joint_objective(q, w, sigma, rho, penalty_value):
    return rho * float(np.sum(q / (2 * sigma) + w * sigma / 2)) + penalty_value


def _joint_gap(datafit, penalty, W, b, q, w, sigma, sigma_min, rho):
    """Duality gap of the joint problem at ``(W, b, sigma)`` (module docstring)."""
    state = datafit.state(W, b)
    G, g_b, _ = datafit.linearize(state)
    gap, _ = quadratic_gap(penalty, rho * float(np.sum(q / (2 * sigma))), W, b,
                           G, g_b)
    c = float(penalty.dual_scaling(-G))
    return gap + 0.5 * rho * float(np.sum((sigma - sigma_min)
                                          * (w - c * c * q / sigma**2)))


def _null_scales(base, design, y, s, fit_intercept, sigma_min=None):
    """Task weights, the intercept-only model, its residual RMS and ``sigma_min``."""
    xp = design.xp
    w = _host(design.task_sums(s))
    W, b, _ = base.null_model(fit_intercept)
    rms0 = _noise_scale(_residual_squares(design, y, s, W, b), w, 0.0)
    if sigma_min is None:
        finfo = xp.finfo(y.dtype)
        floor = max(float(np.median(rms0)), math.sqrt(float(finfo.smallest_normal)))
        sigma_min = SIGMA_MIN_RATIO * np.maximum(rms0, floor)
    sigma_min = np.broadcast_to(np.asarray(sigma_min, dtype=np.float64), w.shape)
    return w, W, b, rms0, sigma_min


def _next_scale(trail, sigma_hat, sigma_min, extrapolate):
    r"""The ``sigma`` of the next round, and the trail of plain updates.

    Near the top of a path the update :math:`\sigma \mapsto
    \hat\sigma(W(\sigma))` contracts slowly (rates up to 0.8 seen), but
    steadily. So after two plain updates each task's rate :math:`q =
    \Delta_2/\Delta_1` is estimated and, where :math:`0 < q < 0.95`, the
    update is extrapolated to its limit (Aitken's :math:`\Delta^2`,
    :math:`\hat\sigma + \Delta_2\, q/(1-q)`). This picks only the next
    subproblem: the joint objective and the certificate are always taken at
    :math:`\hat\sigma(W)`.
    """
    trail = [*trail, sigma_hat]
    if len(trail) < 3:
        return sigma_hat, trail
    if not extrapolate:
        return sigma_hat, trail[1:]
    step1, step2 = trail[1] - trail[0], trail[2] - trail[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = step2 / step1
    steady = np.isfinite(rate) & (rate > 0) & (rate < 0.95)
    gain = np.where(steady, rate / np.where(steady, 1 - rate, 1.0), 0.0)
    sigma = np.maximum(sigma_min, sigma_hat + gain * step2)
    return sigma, [sigma]
