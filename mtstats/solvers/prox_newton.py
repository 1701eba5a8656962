r"""Proximal Newton for the logistic loss on rows that are passed over, not held.

The logistic loss has no sufficient statistics, so data out of core are
visited once per outer step (Lee, Sun & Saunders 2014; the scheme of
GLMNET, Friedman, Hastie & Tibshirani 2010, and of skglm's ``ProxNewton``).
At the point :math:`x_k = (W_k, b_k)` one pass
(:mod:`mtstats.solvers._newton_pass`) returns the loss :math:`F_k`, its
gradient :math:`g_k` and the per-task Hessian blocks :math:`K_k`; the step
solves the quadratic model

.. math::

    x_{k+1/2} = \arg\min_x\; \langle g_k, x - x_k\rangle
    + \tfrac12 (x - x_k)^\top K_k (x - x_k) + \Omega(x)

in memory, by FISTA on a :class:`~mtstats._statistics_design.StatisticsDesign`
(a squared loss with Gram statistics :math:`K_k` and
:math:`\tilde c = K_k x_k - g_k`), followed by a backtracking line search on
the true objective along :math:`x_{k+1/2} - x_k` (each trial one pass).

**Duality gap.** With :math:`q_i = p_i + \kappa_t h_i`, :math:`\kappa_t =
-g_{b,t}/n_t` (the intercept's Newton step), the dual point :math:`\theta_i
= -\rho\, s_i (q_i - y_i)` sums to zero over every task (feasible with free
intercepts) and :math:`q_i \in [0, 1]` whenever :math:`|\kappa_t| \le 1`;
:math:`X^\top\theta = -\rho(G + m\kappa)` needs no rows, and
:math:`\rho` is the penalty's dual scaling. The dual value
:math:`-\sum_i s_i H(y_i + \rho(q_i - y_i)) - \Omega^*(\rho V)` needs the
rows at :math:`x_k`, and is computed in the pass of the next trial point: the
gap of step ``k`` costs no pass of its own, and the fit stops at the first
point whose gap meets the tolerance of :func:`~mtstats.solvers.solve`.
Without a penalty (``alpha = 0``) there is no dual certificate, as in FISTA;
the fit then stops when the model's predicted decrease (half the squared
Newton decrement) falls below the tolerance, and ``dual_gap_`` is NaN.

References
----------
Lee, J. D., Sun, Y. and Saunders, M. A. (2014). Proximal Newton-type
methods for minimizing composite functions. SIAM J. Optim. 24(3).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._backend import to_namespace, to_numpy
from .._components import ComponentDesign
from .._designs import PooledDesign
from .._statistics_design import StatisticsDesign
from ..datafits.smooth import _GapPenalty
from ..losses import SquaredLoss
from .fista import TOL_FLOOR, SolveResult, solve

__all__ = ["RowPasses", "newton_rows", "prox_newton_solve"]

#: Armijo constant of the line search and its fewest step fraction.
ARMIJO, MIN_STEP = 1e-4, 2.0**-30
#: Most accurate relative gap asked of an inner solve (Gram values lose
#: digits to cancellation below it).
INNER_FLOOR = 1e-13


class RowPasses:
    """A design whose rows are visited by passes (out of core).

    Parameters
    ----------
    evaluate : callable
        ``evaluate(W, b, dual=None)``: the summed
        :func:`~mtstats.solvers._newton_pass.chunk_pass` over all rows.
    n_features : int
    weights : ndarray of shape (T,)
        Task weights :math:`w_t` (the row weights of a task sum to them).
    class_rate : ndarray of shape (T,)
        Weighted share of the positive class per task.
    xp : namespace
    n_passes : int
        Passes already made (the moments).
    """

    has_rows = False

    def __init__(self, evaluate, n_features, weights, class_rate, xp, n_passes=0):
        self._evaluate, self.xp = evaluate, xp
        self.n_features, self.n_tasks = int(n_features), int(weights.shape[0])
        self.coef_shape = (self.n_features, self.n_tasks)
        self.weights, self.class_rate = weights, class_rate
        self.n_passes = n_passes

    def evaluate(self, W, b, dual=None):
        """One pass at the model coefficients ``W`` (NumPy) and ``b``."""
        self.n_passes += 1
        return self._evaluate(W, b, dual)

    def null_point(self, fit_intercept):
        """Intercepts of the intercept-only model and its loss (closed form)."""
        rate = np.clip(self.class_rate, 1e-300, 1 - 1e-16)
        if not fit_intercept:
            return np.zeros(self.n_tasks), float(np.sum(self.weights) * math.log(2))
        entropy = -(rate * np.log(rate) + (1 - rate) * np.log1p(-rate))
        return np.log(rate) - np.log1p(-rate), float(self.weights @ entropy)


def newton_rows(design):
    """The :class:`RowPasses` under ``design`` (pooled or stacked), or None."""
    while not isinstance(design, RowPasses) and hasattr(design, "base"):
        design = design.base
    return design if isinstance(design, RowPasses) else None


def _wrap_like(design, inner):
    """``inner`` wrapped the way ``design`` wraps its rows."""
    if isinstance(design, ComponentDesign):
        return ComponentDesign(inner, design.n_parts)
    if isinstance(design, PooledDesign):
        return PooledDesign(inner)
    return inner


def _model_coef(design, W):
    """Per-task model coefficients (NumPy, (d, T) or (d, 1) pooled)."""
    if isinstance(design, ComponentDesign):
        W = design.collapse(W)
    return to_numpy(W)


def _variable_gradient(design, G):
    """Gradient in the solver's variable from per-task ``G`` (d, T)."""
    if isinstance(design, PooledDesign):
        return np.sum(G, axis=1, keepdims=True)
    if isinstance(design, ComponentDesign):
        return np.concatenate([G] * design.n_parts, axis=0)
    return G


def quadratic_model(stats, W, b):
    """Statistics of the quadratic model at ``(W, b)`` (module docstring)."""
    H, m, n = stats["H"], stats["m"], stats["n"]
    Wt = np.broadcast_to(W.T, (H.shape[0], H.shape[1]))
    c = np.einsum("tij,tj->ti", H, Wt) + m * b[:, None] - stats["G"]
    ybar = np.einsum("ti,ti->t", m, Wt) + n * b - stats["g_b"]
    K = np.concatenate([np.concatenate([H, m[:, :, None]], axis=2),
                        np.concatenate([m, n[:, None]], axis=1)[:, None, :]], axis=1)
    rhs = np.concatenate([c, ybar[:, None]], axis=1)
    # the least "y'y" that makes the model a squared loss on some rows
    yy = np.einsum("ti,tij,tj->t", rhs, np.linalg.pinv(K, hermitian=True), rhs)
    return H, m.T, c.T, n, ybar, yy


def prox_newton_solve(loss, penalty, design, y, s, W0=None, b0=None, *,
                      fit_intercept=True, tol=1e-4, max_iter=1000, warn=True,
                      max_outer=100, **_):
    """Minimise ``loss + penalty`` over rows visited by passes (see module).

    Same signature and :class:`~mtstats.solvers.SolveResult` as
    :func:`~mtstats.solvers.solve`; ``max_iter`` bounds every inner FISTA
    solve, ``max_outer`` the Newton steps.
    """
    rows, xp = newton_rows(design), design.xp
    if not hasattr(penalty, "conjugate") or hasattr(penalty, "free_mean"):
        raise ValueError(
            "Out of core, the logistic loss is fitted by proximal Newton with a "
            "duality-gap stop, which does not support shrunk intercepts "
            "(intercept_shrinkage) or a free shared mean (shared_mean=True) yet. "
            "Fit these in memory, or on a sample.")
    smooth = getattr(penalty, "smooth", None)
    use_gap = penalty.alpha > 0  # as in FISTA: alpha = 0 has no dual certificate

    def regulariser(W):  # the penalty and its smooth part (graph Laplacian)
        return float(penalty.value(W)) + (0.0 if smooth is None
                                          else float(smooth.value(W)))

    b_null, f_null = rows.null_point(fit_intercept)
    W = xp.zeros(design.coef_shape, dtype=xp.float64) if W0 is None else W0
    b = to_namespace(xp, b_null, xp.float64) if b0 is None or not fit_intercept else b0
    null_objective = f_null + regulariser(xp.zeros_like(W))
    gap_scale = max(null_objective, 1e-300)
    tol_gap = max(tol, TOL_FLOOR * float(np.finfo(np.float64).eps))
    stats = rows.evaluate(_model_coef(design, W), to_numpy(b))
    objective = float(stats["value"]) + regulariser(W)
    history, lower, converged = [objective], -math.inf, False
    best = (objective, W, b)           # lowest objective seen
    inner_tol = 1e-3
    for _ in range(max_outer):
        step = _newton_step(design, penalty, stats, W, b, fit_intercept,
                            max(inner_tol, INNER_FLOOR), max_iter)
        dW, db = step.W - W, (step.b - b) if fit_intercept else 0 * b
        G = to_namespace(xp, _variable_gradient(design, stats["G"].T), xp.float64)
        g_b = to_namespace(xp, stats["g_b"], xp.float64)
        decrease = (float(xp.sum(G * dW) + xp.sum(g_b * db))
                    + regulariser(step.W) - regulariser(W))
        gap_penalty = penalty if smooth is None else _GapPenalty(penalty, smooth, W)
        dual = (_dual_spec(design, gap_penalty, stats, fit_intercept, xp)
                if use_gap else None)
        t, accepted = 1.0, None
        while t >= MIN_STEP:
            W_try, b_try = W + t * dW, b + t * db
            new = rows.evaluate(_model_coef(design, W_try), to_numpy(b_try),
                                None if dual is None else (
                                    _model_coef(design, W), to_numpy(b),
                                    dual[0], dual[1]))
            value = float(new["value"]) + regulariser(W_try)
            if value <= best[0] + 4e-16 * abs(best[0]):  # ties: the newer point
                best = (value, W_try, b_try)
            if dual is not None:  # every dual value bounds the optimum below
                lower = max(lower, float(new["dual"]) - dual[2])
                dual = None
            slack = 1e-13 * max(abs(objective), 1.0)
            if value <= objective + ARMIJO * t * min(decrease, 0.0) + slack:
                accepted = (W_try, b_try, new, value)
                break
            t *= 0.5
        if use_gap:
            gap = best[0] - lower
            converged = abs(gap) <= tol_gap * gap_scale
        else:  # unpenalised: the model's predicted decrease (Newton decrement)
            gap = -decrease
            converged = gap <= tol_gap * gap_scale
        if converged or accepted is None:
            break
        W, b, stats, objective = accepted
        history.append(objective)
        inner_tol = min(inner_tol, 1e-2 * abs(gap) / gap_scale)
    n_outer = len(history)
    objective, W, b = best
    gap = objective - lower if use_gap else math.nan
    if warn and not converged:
        warnings.warn(
            f"Proximal Newton did not converge in {n_outer} steps "
            f"({rows.n_passes} passes over the data): relative "
            f"{'duality gap' if use_gap else 'Newton decrement'} "
            f"{(gap if use_gap else -decrease) / gap_scale:.3g} > tol={tol:g}. "
            "Increase max_iter, loosen tol, or standardise the features.",
            ConvergenceWarning, stacklevel=3)
    return SolveResult(W, b, n_outer, converged, gap, objective, null_objective,
                       history)


def _newton_step(design, penalty, stats, W, b, fit_intercept, tol, max_iter):
    """Minimiser of the quadratic model at ``(W, b)`` (FISTA on statistics)."""
    xp = design.xp
    inner = StatisticsDesign(*(to_namespace(xp, v, xp.float64) for v in
                               quadratic_model(stats, _model_coef(design, W),
                                               to_numpy(b))))
    placeholder = to_namespace(xp, np.zeros(0), xp.float64)
    return solve(SquaredLoss(), penalty, _wrap_like(design, inner), placeholder,
                 placeholder, W, b, fit_intercept=fit_intercept, tol=tol,
                 max_iter=max_iter, warn=False)


def _dual_spec(design, penalty, stats, fit_intercept, xp):
    """``(kappa, rho, conjugate)`` of the dual point at the current step, or
    None when the intercept correction leaves the logistic domain."""
    kappa = np.zeros_like(stats["n"])
    if fit_intercept:
        kappa = -stats["g_b"] / np.where(stats["n"] > 0, stats["n"], 1.0)
        if np.max(np.abs(kappa)) > 1:
            return None
    V = -(stats["G"] + stats["m"] * kappa[:, None]).T
    V = to_namespace(xp, _variable_gradient(design, V), xp.float64)
    rho = penalty.dual_scaling(V)
    return kappa, float(rho), float(penalty.conjugate(rho * V))
