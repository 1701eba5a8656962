r"""Accelerated proximal gradient (FISTA) for every mtstats estimator.

Solves

.. math::

    \min_{W, b}\; F(W, b) + g(W), \qquad
    F(W, b) = \sum_i s_i\, l(\eta_i, y_i),\quad \eta = \mathcal{A}(W, b),

with ``A`` a task design, ``l`` a loss, ``g`` a penalty and unpenalised
intercepts ``b``. The kernel is written once against the array API standard
and runs unchanged on NumPy, CuPy and ``array_api_strict``.

Algorithm: FISTA (Beck & Teboulle, SIAM J. Imaging Sci. 2009) with a
backtracking line search on the step, started from a power-iteration estimate
of the Lipschitz constant, and the gradient adaptive restart of O'Donoghue &
Candes (Found. Comput. Math. 2015). One forward and one adjoint application of
the design per iteration: the extrapolated predictor is formed from the two
last predictors by linearity.

Stopping. Where the penalty has a Fenchel conjugate the solver stops on the
**duality gap** relative to the null objective,

.. math::

    P(W, b^*(W)) - D(\theta) \le \text{tol}\cdot P_0,

where :math:`b^*(W)` are the intercepts that are optimal for the current
``W`` (Newton steps per task), :math:`\theta` is the negative loss gradient
there scaled into the domain of the penalty's conjugate, and :math:`P_0` is
the objective of the intercept-only model (``W = 0``). For squared loss on a
shared design :math:`P_0 = \tfrac12\sum_t w_t \widehat{\mathrm{Var}}(y_t)`,
the same scale as scikit-learn's ``tol * ||y||^2``. The gap bounds the
suboptimality, so "converged" means the objective is within ``tol * P_0`` of
the optimum. Where no conjugate is available (or ``alpha = 0``) it stops when
the gradient-mapping residual has fallen to ``tol`` times its first value.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

from sklearn.exceptions import ConvergenceWarning

from .._designs import lipschitz_constant

__all__ = ["NumericalBreakdown", "SolveResult", "alpha_max", "duality_gap",
           "profile_intercepts", "solve"]

#: Most step halvings in one backtracking line search: 2**-200 of a step that
#: satisfied the Lipschitz bound means the objective is not smooth there.
MAX_HALVINGS = 200


class NumericalBreakdown(ValueError, FloatingPointError):
    """The solve met a non-finite step, objective or gradient.

    Raised instead of looping or returning NaN coefficients. It derives from
    ``ValueError`` (the input is the usual cause: degenerate weights, data at
    an extreme scale) and from ``FloatingPointError``.
    """


def _check_finite(value, what, n_iter, step):
    if not math.isfinite(value):
        raise NumericalBreakdown(
            f"FISTA stopped at iteration {n_iter}: the {what} is {value} (step "
            f"{step:.3g}). Check the data for extreme values or scales, and the "
            "task weights and alpha for degenerate values."
        )


@dataclass(frozen=True)
class SolveResult:
    """Output of :func:`solve` (arrays in the solver's namespace)."""

    W: object
    b: object
    n_iter: int
    converged: bool
    gap: float
    objective: float
    null_objective: float
    objective_history: list = field(default_factory=list, repr=False)


def profile_intercepts(loss, design, y, s, eta_lin, b, n_newton=100):
    """Intercepts that minimise the loss for a fixed linear part ``eta_lin``.

    Per-task Newton steps until the step is negligible. One step is exact
    for squared loss; for losses with a ``newton_step_limit`` (logistic: 4
    log-odds units) every step is clipped, which keeps Newton stable far
    from the optimum.
    """
    xp = design.xp
    limit = getattr(loss, "newton_step_limit", None)
    for _ in range(n_newton):
        eta = eta_lin + design.broadcast_tasks(b)
        grad = design.task_sums(loss.gradient(eta, y, s))
        hess = design.task_sums(s * loss.curvature(eta, y))
        tiny = 1e-12 * xp.max(design.task_sums(s))
        step = grad / xp.where(hess > tiny, hess, tiny)
        if limit is not None:
            step = xp.clip(step, -limit, limit)
        b = b - step
        if float(xp.max(xp.abs(step))) < 1e-13 * max(1.0, float(xp.max(xp.abs(b)))):
            break
    return b


def duality_gap(loss, penalty, design, y, s, W, eta_lin, b, fit_intercept=True):
    """Duality gap at ``W`` with intercepts profiled out.

    Returns
    -------
    gap : float
    primal : float
        Objective at ``(W, b*(W))``.
    b_star : array
        The profiled intercepts.
    """
    if fit_intercept:
        b = profile_intercepts(loss, design, y, s, eta_lin, b)
    eta = eta_lin + design.broadcast_tasks(b)
    primal = float(loss.value(eta, y, s) + penalty.value(W))
    theta = -loss.gradient(eta, y, s)
    V, _ = design.adjoint(theta)
    scale = penalty.dual_scaling(V)
    dual = float(loss.dual(scale * theta, y, s) - penalty.conjugate(scale * V))
    return primal - dual, primal, b


def _null_model(loss, design, y, s, fit_intercept):
    xp = design.xp
    W0 = xp.zeros(design.coef_shape, dtype=y.dtype)
    b0 = xp.zeros((design.n_tasks,), dtype=y.dtype)
    eta_lin = design.linear_part(W0)
    if fit_intercept:
        b0 = profile_intercepts(loss, design, y, s, eta_lin, b0)
    return W0, b0, eta_lin


def alpha_max(loss, penalty, design, y, s, fit_intercept=True):
    """Smallest ``alpha`` for which ``W = 0`` is optimal (norm penalties).

    ``alpha_max = Omega^D(A^T theta_0)`` with ``theta_0`` the negative loss
    gradient of the intercept-only model and ``Omega^D`` the dual norm; for the
    L21/ridge mix it is divided by ``l1_ratio``.
    """
    W0, b0, eta_lin = _null_model(loss, design, y, s, fit_intercept)
    grad = loss.gradient(eta_lin + design.broadcast_tasks(b0), y, s)
    V, _ = design.adjoint(grad)
    norm = penalty.dual_norm(V)
    if norm is None:
        raise ValueError(f"{penalty!r} is not a norm; it has no alpha_max.")
    return float(norm) / getattr(penalty, "l1_ratio", 1.0)


def solve(loss, penalty, design, y, s, W0=None, b0=None, *, fit_intercept=True,
          tol=1e-4, max_iter=1000, check_every=10, restart=True, warn=True):
    """Minimise ``loss + penalty`` over ``(W, b)`` by FISTA.

    Parameters
    ----------
    loss, penalty, design : objects
        See :mod:`mtstats.losses`, :mod:`mtstats.penalties`,
        :mod:`mtstats._designs`.
    y, s : arrays shaped like the linear predictor
        Targets and sample weights.
    W0, b0 : arrays, optional
        Warm start (default zeros, intercepts of the null model).
    fit_intercept : bool
        Fit unpenalised per-task intercepts.
    tol : float
        Relative duality-gap tolerance (see the module docstring).
    max_iter : int
        Maximum number of iterations.
    check_every : int
        Iterations between two duality-gap evaluations (each costs one adjoint).
    restart : bool
        Gradient adaptive restart of the momentum.
    warn : bool
        Emit a ``ConvergenceWarning`` when stopping unconverged.

    Returns
    -------
    SolveResult
    """
    xp = design.xp
    W_null, b_null, eta_null = _null_model(loss, design, y, s, fit_intercept)
    null_objective = float(loss.value(eta_null + design.broadcast_tasks(b_null),
                                      y, s) + penalty.value(W_null))
    gap_scale = max(null_objective, 1e-300)
    W = W_null if W0 is None else xp.asarray(W0, dtype=y.dtype)
    b = b_null if b0 is None or not fit_intercept else xp.asarray(b0, dtype=y.dtype)
    use_gap = hasattr(penalty, "conjugate") and penalty.alpha > 0
    eps = float(xp.finfo(y.dtype).eps)

    step = 1.0 / (loss.curvature_bound * lipschitz_constant(design, s))
    _check_finite(step, "initial step (1 / Lipschitz constant)", 0, step)
    eta_x = design.forward(W, b)
    Wz, bz, eta_z, W_prev, b_prev = W, b, eta_x, W, b
    momentum, history, gap, first_residual = 1.0, [], math.inf, None
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter + 1):
        f_z = float(loss.value(eta_z, y, s))
        G, g_b = design.adjoint(loss.gradient(eta_z, y, s))
        _check_finite(f_z, "objective", n_iter, step)
        _check_finite(float(xp.sum(G * G) + xp.sum(g_b * g_b)),
                      "squared gradient norm", n_iter, step)
        for _ in range(MAX_HALVINGS):
            W = penalty.prox(Wz - step * G, step)
            b = bz - step * g_b if fit_intercept else bz
            dW, db = W - Wz, b - bz
            eta_x_new = design.forward(W, b)
            f_new = float(loss.value(eta_x_new, y, s))
            sq = float(xp.sum(dW * dW) + xp.sum(db * db))
            bound = f_z + float(xp.sum(G * dW) + xp.sum(g_b * db)) + sq / (2 * step)
            if f_new <= bound + 10 * eps * abs(f_z) or step < 1e-30:
                break
            step *= 0.5
        else:
            raise NumericalBreakdown(
                f"FISTA stopped at iteration {n_iter}: the line search found no "
                f"sufficient decrease in {MAX_HALVINGS} step halvings (objective "
                f"{f_z}). Check the data for extreme values or scales.")
        _check_finite(f_new, "objective", n_iter, step)
        history.append(f_new + float(penalty.value(W)))
        residual = math.sqrt(sq) / step
        first_residual = residual if first_residual is None else first_residual
        # gradient restart: momentum pointing uphill resets the sequence
        uphill = float(xp.sum(dW * (W - W_prev)) + xp.sum(db * (b - b_prev))) < 0
        if restart and uphill:
            momentum, beta = 1.0, 0.0
        else:
            new_momentum = 0.5 * (1 + math.sqrt(1 + 4 * momentum * momentum))
            beta, momentum = (momentum - 1) / new_momentum, new_momentum
        Wz, bz = W + beta * (W - W_prev), b + beta * (b - b_prev)
        eta_z = eta_x_new + beta * (eta_x_new - eta_x)
        W_prev, b_prev, eta_x = W, b, eta_x_new
        if n_iter % check_every == 0 or n_iter == max_iter:
            if use_gap:
                eta_lin = eta_x - design.broadcast_tasks(b)
                gap, _, _ = duality_gap(loss, penalty, design, y, s, W, eta_lin, b,
                                        fit_intercept)
                # a clearly negative gap means an inexact dual point: go on
                converged = abs(gap) <= tol * gap_scale
            else:
                converged = residual <= tol * max(first_residual, 1e-300)
            if converged:
                break

    eta_lin = eta_x - design.broadcast_tasks(b)
    if use_gap:
        gap, objective, b = duality_gap(loss, penalty, design, y, s, W, eta_lin, b,
                                        fit_intercept)
    else:
        if fit_intercept:
            b = profile_intercepts(loss, design, y, s, eta_lin, b)
        eta = eta_lin + design.broadcast_tasks(b)
        objective = float(loss.value(eta, y, s) + penalty.value(W))
        gap = math.nan
    if warn and not converged:
        criterion = (f"relative duality gap {gap / gap_scale:.3g}" if use_gap else
                     f"relative gradient-mapping residual "
                     f"{residual / max(first_residual, 1e-300):.3g}")
        warnings.warn(
            f"FISTA did not converge in {max_iter} iterations: {criterion} > "
            f"tol={tol:g}. Increase max_iter, loosen tol, or standardise the "
            "features.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return SolveResult(W, b, n_iter, converged, gap, objective, null_objective,
                       history)
