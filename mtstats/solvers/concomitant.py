r"""Concomitant noise scales: each task's loss weighted by its estimated noise.

With ``task_weight="noise"`` a regressor solves, jointly in the coefficients
``W``, the intercepts ``b`` and one noise scale per task (Owen [1]_; the
smoothed concomitant lasso of Ndiaye et al. [2]_),

.. math::

    \min_{W,\, b,\, \sigma \ge \sigma_{\min}}\;
    \sum_t w_t\Big[\frac{\lVert y_t - X_t W_{\cdot t} - b_t\rVert^2}
    {2 n_t \sigma_t} + \frac{\sigma_t}{2}\Big] + \alpha\,\Omega(W),

with base task weights :math:`w_t = 1`. A noisy task gets a large
:math:`\sigma_t` and so a small weight :math:`w_t/\sigma_t` on its mean loss.
:math:`(r, \sigma) \mapsto \lVert r\rVert^2/\sigma` is the perspective of the
square, so the problem is jointly convex. (A shared mean or shrunk
intercepts, :class:`~mtstats.penalties.PartialPooling`, are refused for now.)

**In the solver's variables.** Task ``t``'s rows carry :math:`s_i = w_t/n_t`
(:func:`mtstats._designs.build_design`). Let :math:`q_t = \sum_{i\in t}
s_i r_i^2` (twice the task's squared loss) and :math:`w_t = \sum_{i\in t}
s_i`. The data may have been rescaled exactly (:mod:`mtstats._scaling`):
``y`` divided by :math:`c_y` and the penalty by :math:`c_y^2 c_w`. The
objective in those variables is the original one divided by :math:`c_y^2
c_w`:

.. math::

    J(W, b, \sigma) = \rho\sum_t\Big[\frac{q_t}{2\sigma_t}
    + \frac{w_t\sigma_t}{2}\Big] + g(W),\qquad \rho = 1/c_y,

with :math:`\sigma` in the units of the rescaled ``y``.

**Block minimisation.** For fixed :math:`\sigma`, ``J`` is the ordinary
objective with sample weights :math:`\rho s_i/\sigma_t`: one call of the
solver, warm-started. For fixed ``(W, b)``, setting
:math:`\partial J/\partial\sigma_t = \rho(w_t - q_t/\sigma_t^2)/2` to zero
gives the closed form

.. math::

    \hat\sigma_t = \max\Big(\sigma_{\min,t},\ \sqrt{q_t / w_t}\Big)
    = \max\Big(\sigma_{\min,t},\ \sqrt{\tfrac{1}{n_t}\textstyle\sum_{i\in t}
    r_i^2}\Big),

the root mean square of the task's residuals. ``J`` is smooth in
:math:`\sigma` on :math:`[\sigma_{\min}, \infty)`, its nonsmooth parts (the
penalty and the bound) are separable over the two blocks, and each block
minimisation has a unique solution (:math:`\partial^2 J/\partial\sigma_t^2 =
\rho q_t/\sigma_t^3`). So every limit point of the alternation is a
stationary point, which is a global minimiser by convexity (Tseng [3]_; for
two blocks, Grippo & Sciandrone [4]_). Where the update of :math:`\sigma`
contracts slowly (near the top of a path) it is extrapolated (Aitken,
:func:`_next_scale`); that changes only the next subproblem, and the first
extrapolation that raises ``J`` ends them, so the tail is plain block
minimisation. Objective, noise scales and certificate are always taken at
:math:`(W, b, \hat\sigma(W, b))`.

**Certificate.** Minimising over :math:`\sigma` leaves :math:`\rho\sum_t
\varphi_t(\lVert r_t\rVert_s) + g(W)` with the Huber-like
:math:`\varphi_t(u) = \sqrt{w_t}\,u` for :math:`u \ge \sqrt{w_t}
\sigma_{\min,t}`, else :math:`u^2/(2\sigma_{\min,t}) + w_t\sigma_{\min,t}/2`.
Its Fenchel dual, over :math:`\theta` with :math:`\sum_{i\in t}\theta_i = 0`
and :math:`\lVert\theta_t\rVert_{1/s} = (\sum_{i\in t}\theta_i^2/s_i)^{1/2}
\le \rho\sqrt{w_t}`, is

.. math::

    D(\theta) = \sum_t\Big[\langle\theta_t, y_t\rangle
    - \frac{\sigma_{\min,t}}{2}\Big(\frac{\lVert\theta_t\rVert_{1/s}^2}{\rho}
    - \rho w_t\Big)\Big] - g^*(A^\top\theta).

Take :math:`\theta = c\,\rho s r/\hat\sigma`, the dual point that the solver
uses for the weighted problem at :math:`\hat\sigma`, where ``c`` is the
penalty's ``dual_scaling``. It is feasible because :math:`\hat\sigma_t \ge
\sqrt{q_t/w_t}` and :math:`c \le 1`. Subtracting the weighted problem's dual
leaves

.. math::

    J(W, b, \hat\sigma) - D(\theta) = \mathrm{gap}_{\hat\sigma}(W, b)
    + \frac{\rho}{2}\sum_t(\hat\sigma_t - \sigma_{\min,t})
      \Big(w_t - c^2\frac{q_t}{\hat\sigma_t^2}\Big),

where :math:`\mathrm{gap}_{\hat\sigma}` is the usual gap of the weighted
problem (:func:`~mtstats.datafits._common.quadratic_gap`). The correction is
:math:`\tfrac{\rho}{2}(1 - c^2)\sum w_t(\hat\sigma_t - \sigma_{\min,t})`
over the tasks above the bound. It vanishes at the optimum, so the
certificate does too, but it is of first order in :math:`1 - c` where the
weighted gap is of second order: the certificate falls more slowly than the
inner gap, and the rounds (warm-started, each about ``check_every`` inner
iterations) go on until it is small. The alternation stops when this gap
is at most ``tol`` times :math:`J_0`, the joint objective of the
intercept-only model (:math:`\rho\sum_t w_t\,\mathrm{std}(y_t)` with
intercepts). The returned :math:`(W, b, \hat\sigma)` is then certified
within ``tol * J_0`` of the joint optimum.
Penalties without a conjugate (or ``alpha = 0``) have no gap. There the
alternation stops when one round changes ``J`` by at most ``tol * J_0``,
which certifies only an approximate fixed point of the block minimisation.

**Lower bound.** :math:`\sigma_{\min,t} = 10^{-2}\max(\hat\sigma_{0,t},
\operatorname{median}_s\hat\sigma_{0,s})`, with :math:`\hat\sigma_{0,t}` the
residual RMS of the intercept-only model (the standard deviation of
:math:`y_t`; Ndiaye et al. take :math:`\sigma_0 \propto \lVert
y\rVert/\sqrt n`). The median keeps a task with (nearly) constant targets
from getting an unbounded weight: the inner solver takes one step for all
tasks, so a weight ratio ``r`` costs about :math:`\sqrt r` times more
iterations. Where every target is constant the bound is the square root of
the smallest normal number.

**Cost.** Gram statistics (:mod:`mtstats.datafits.grams`) are linear in the
sample weights. The cached ones of the base weights are therefore rescaled per
task instead of recomputed. The Lipschitz bound is that of the base weights
times the largest factor :math:`\rho/\sigma_t`, so no power iteration runs per
round.

References
----------
.. [1] A. B. Owen, "A robust hybrid of lasso and ridge regression",
   Contemporary Mathematics 443 (2007).
.. [2] E. Ndiaye, O. Fercoq, A. Gramfort, V. Leclere, J. Salmon, "Efficient
   smoothed concomitant lasso estimation for high dimensional regression",
   Journal of Physics: Conference Series 904 (2017).
.. [3] P. Tseng, "Convergence of a block coordinate descent method for
   nondifferentiable minimization", J. Optim. Theory Appl. 109 (2001).
.. [4] L. Grippo, M. Sciandrone, "On the convergence of the block nonlinear
   Gauss-Seidel method under convex constraints", Oper. Res. Lett. 26 (2000).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..datafits import RowDatafit, make_datafit
from ..datafits._common import is_plain_squared
from ..datafits.reweighted import KnownLipschitz, reweight_tasks
from ..penalties.pooling import PartialPooling
from ._concomitant_steps import (
    _joint_gap,
    _joint_objective,
    _next_scale,
    _noise_scale,
    _null_scales,
    _residual_squares,
)
from .fista import TOL_FLOOR, SolveResult
from .fista import solve as _fista_solve

__all__ = ["ConcomitantResult", "concomitant_solver", "null_noise_weights",
           "solve_concomitant"]


@dataclass(frozen=True)
class ConcomitantResult(SolveResult):
    """A :class:`~mtstats.solvers.SolveResult` with per-task noise scales.

    ``noise_scale`` is a NumPy array (n_tasks,) in the units of the solver's
    ``y``. ``objective``, ``gap`` and ``null_objective`` (:math:`J_0`) are
    those of the joint problem, ``n_iter`` counts the inner iterations of all
    rounds, and ``objective_history`` holds the joint objective after each
    round.
    """

    noise_scale: object = None
    n_outer_iter: int = 0


def solve_concomitant(loss, penalty, design, y, s, W0=None, b0=None, *,
                      solve=_fista_solve, sigma_min=None, max_outer_iter=100,
                      tol=1e-4, y_scale=1.0, fit_intercept=True, warn=True,
                      gram="auto", **solve_kwargs):
    r"""Minimise the joint objective over ``(W, b, sigma)`` (module docstring).

    Parameters
    ----------
    loss : SquaredLoss
        Only the plain squared loss has a concomitant scale.
    penalty, design, y, s, W0, b0 :
        As for :func:`~mtstats.solvers.fista.solve`. ``s`` are the base
        weights (:math:`w_t/n_t`).
    solve : callable, default=:func:`~mtstats.solvers.fista.solve`
        The inner solver, with the signature of ``fista.solve`` and a
        ``datafit=`` keyword. The joint gap is computed only with
        ``fista.solve``, whose solution minimises ``penalty`` itself.
    sigma_min : float or array of shape (n_tasks,), optional
        Lower bounds on the noise scales (default: module docstring).
    max_outer_iter : int, default=100
        Most rounds of the block minimisation.
    tol : float, default=1e-4
        Stop when the joint duality gap is at most ``tol`` times the joint
        objective of the intercept-only model (floored as in ``fista``).
    y_scale : float, default=1.0
        :math:`c_y`: ``y`` was divided by it, and the penalty by
        :math:`c_y^2` (times the task weights' scale), see
        :mod:`mtstats._scaling`.
    fit_intercept, warn : bool
        As for ``fista.solve``.
    gram : {"auto", True, False}, default="auto"
        Passed to :func:`~mtstats.datafits.make_datafit`.
    **solve_kwargs
        Passed to every inner solve (``max_iter``, ``check_every``, ...).

    Returns
    -------
    ConcomitantResult
        With the noise scales :math:`\hat\sigma(W)` of the returned point.
    """
    if not is_plain_squared(loss):
        raise ValueError("The concomitant noise scale (task_weight='noise') is for "
                         f"regression with the squared loss; got {loss!r}.")
    if isinstance(penalty, PartialPooling):
        raise ValueError("task_weight='noise' cannot be combined with a shared "
                         "mean (shared_mean=True) or shrunk intercepts "
                         "(intercept_shrinkage != 0) yet.")
    if max_outer_iter < 1:
        raise ValueError(f"max_outer_iter must be >= 1; got {max_outer_iter!r}.")
    xp, rho = design.xp, 1.0 / y_scale
    eps_floor = TOL_FLOOR * float(xp.finfo(y.dtype).eps)
    base = make_datafit(loss, design, y, s, gram)
    lipschitz, ratio = base.lipschitz(fit_intercept)
    cache = [None, None]

    def datafit_for(sigma):  # weights rho s / sigma; reused for the same sigma
        if cache[0] is not sigma:
            factor = rho / sigma
            scaled = reweight_tasks(base, loss, design, y, s,
                                     xp.asarray(factor, dtype=y.dtype))
            cache[:] = sigma, KnownLipschitz(
                scaled, (lipschitz * float(factor.max()), ratio))
        return cache[1]

    w, W, b, rms0, sigma_min = _null_scales(base, design, y, s, fit_intercept,
                                            sigma_min)
    pen0 = float(penalty.value(W))
    scale = max(_joint_objective(rms0**2 * w, w, np.maximum(rms0, sigma_min), rho,
                                 pen0), 1e-300)
    if W0 is not None or (b0 is not None and fit_intercept):
        W = W if W0 is None else xp.asarray(W0, dtype=y.dtype)
        b = b if b0 is None or not fit_intercept else xp.asarray(b0, dtype=y.dtype)
        if fit_intercept:
            W, b, _ = base.profile(W, b, base.state(W, b))
    q = _residual_squares(design, y, s, W, b)
    sigma = sigma_hat = _noise_scale(q, w, sigma_min)
    objective = _joint_objective(q, w, sigma, rho, float(penalty.value(W)))
    use_gap = (solve is _fista_solve and hasattr(penalty, "conjugate")
               and penalty.alpha > 0)
    history, n_iter, gap, converged, n_outer = [], 0, math.nan, False, 0
    trail, extrapolate = [sigma], True
    while n_outer < max_outer_iter and not converged:
        n_outer += 1
        # the inner gap, relative to the inner null objective, must sit well
        # below the outer tolerance, relative to the joint null objective
        inner_null = rho * float(np.sum(rms0**2 * w / (2 * sigma))) + pen0
        inner_tol = max(0.5 * tol * scale / max(inner_null, 1e-300), eps_floor)
        result = solve(loss, penalty, design, y, s, W, b, fit_intercept=fit_intercept,
                       tol=inner_tol, warn=False, datafit=datafit_for(sigma),
                       **solve_kwargs)
        n_iter += result.n_iter
        W, b = result.W, result.b
        q = _residual_squares(design, y, s, W, b)
        pen = (float(penalty.value(W)) if solve is _fista_solve
               else result.objective - rho * float(np.sum(q / (2 * sigma))))
        sigma_hat = _noise_scale(q, w, sigma_min)
        previous, objective = objective, _joint_objective(q, w, sigma_hat, rho, pen)
        history.append(objective)
        tol_outer = max(tol, eps_floor * max(1.0, inner_null / scale))
        if use_gap:
            gap = _joint_gap(datafit_for(sigma_hat), penalty, W, b, q, w,
                             sigma_hat, sigma_min, rho)
            converged = abs(gap) <= tol_outer * scale
        else:
            converged = abs(previous - objective) <= tol_outer * scale
        # an extrapolated sigma that raised J ends extrapolation: plain block
        # minimisation (monotone) from there on
        extrapolate = extrapolate and objective <= previous + eps_floor * scale
        sigma, trail = _next_scale(trail, sigma_hat, sigma_min, extrapolate)
    if warn and not converged:
        what = (f"relative joint duality gap {gap / scale:.3g}" if use_gap else
                f"last change {(previous - objective) / scale:.3g} (relative)")
        warnings.warn(
            f"The concomitant noise-scale fit did not converge in {n_outer} "
            f"rounds: {what} > tol={tol:g}. Increase max_iter, loosen tol, or "
            "standardise the features.", ConvergenceWarning, stacklevel=3)
    return ConcomitantResult(W, b, n_iter, converged, gap, objective, scale,
                             history, noise_scale=sigma_hat, n_outer_iter=n_outer)


def concomitant_solver(inner=_fista_solve, *, y_scale=1.0):
    """A solver with the signature of :func:`~mtstats.solvers.fista.solve` that
    runs :func:`solve_concomitant` around ``inner``."""
    return partial(solve_concomitant, solve=inner, y_scale=y_scale)


def null_noise_weights(loss, design, y, s, fit_intercept=True, y_scale=1.0):
    r"""Sample weights :math:`\rho s_i / \hat\sigma_t` at the intercept-only model.

    ``W = 0`` is optimal for the joint problem exactly when it is optimal for
    the ordinary problem with these weights (the optimality conditions split
    over the two blocks), so ``alpha_max`` and the default grids of
    ``task_weight="noise"`` come from them.
    """
    base = RowDatafit(loss, design, y, s)  # one forward product, no statistics
    _, _, _, rms0, sigma_min = _null_scales(base, design, y, s, fit_intercept)
    factor = (1.0 / y_scale) / np.maximum(rms0, sigma_min)
    return s * design.broadcast_tasks(design.xp.asarray(factor, dtype=y.dtype))
