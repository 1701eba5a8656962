r"""Accelerated proximal gradient (FISTA) for every mtstats estimator.

Solves

.. math::

    \min_{W, b}\; F(W, b) + g(W), \qquad
    F(W, b) = \sum_i s_i\, l(\eta_i, y_i),\quad \eta = \mathcal{A}(W, b),

with ``A`` a task design, ``l`` a loss, ``g`` a penalty and unpenalised
intercepts ``b``. The kernel is written once against the array API standard
and runs unchanged on NumPy, CuPy and ``array_api_strict``. It sees ``F``
only through a datafit (:mod:`mtstats.datafits`): rows of the design for any
loss, or per-task Gram statistics for the squared loss when they are cheaper.

Algorithm: FISTA (Beck & Teboulle, SIAM J. Imaging Sci. 2009) with a
backtracking line search on the step, started from a power-iteration estimate
of the Lipschitz constant, and the gradient adaptive restart of O'Donoghue &
Candes (Found. Comput. Math. 2015). One product with the data per iteration
(forward and adjoint for rows): the state of the extrapolated point is formed
from the two last states by linearity. The intercepts take steps ``ratio``
times as long as the coefficients (a fixed diagonal metric,
:func:`~mtstats.datafits._common.step_metric`), so that features of small
scale, whose curvature is far below the intercepts', are not crawled along
with the intercepts' step. Three details keep high precision reachable:

* the sufficient-decrease test of the line search sums elementwise Bregman
  divergences of the loss (:math:`\tfrac12\lVert A(x - z)\rVert_s^2` for
  the squared loss) instead of differencing two objectives, and allows for
  rounding, so that rounding can never collapse the step;
* every restart, which resets the momentum, also tries a step twice as long
  (the line search halves it again where needed), so the step follows the
  local curvature instead of only shrinking (Scheinberg, Goldfarb & Bai,
  Found. Comput. Math. 2014, let the step grow in the same spirit);
* the iterate returned is the one with the smallest certified gap.

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
the optimum. The tolerance is floored at ``TOL_FLOOR`` machine epsilons
(1.8e-15 in float64, 9.5e-7 in float32): a gap below that is rounding noise.
Where no conjugate is available (or ``alpha = 0``) it stops when the
gradient-mapping residual has fallen to ``tol`` times its first value.

Host transfers. Each line-search trial brings the few scalars it needs
(objective, test, momentum restart test, penalty value) to the host in one
transfer; on CuPy that is one synchronisation per trial.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

from sklearn.exceptions import ConvergenceWarning

from ..datafits import RowDatafit, make_datafit
from ..datafits._common import to_floats

__all__ = ["NumericalBreakdown", "SolveResult", "alpha_max", "duality_gap",
           "profile_intercepts", "solve"]

#: Most step halvings in one backtracking line search: 2**-200 of a step that
#: satisfied the Lipschitz bound means the objective is not smooth there.
MAX_HALVINGS = 200
#: Factor by which the step may grow at every momentum restart.
STEP_GROWTH = 2.0
#: Smallest relative duality-gap tolerance, in machine epsilons of the dtype.
TOL_FLOOR = 8


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

    Per-task Newton steps (see :meth:`mtstats.datafits.RowDatafit.profile`).
    """
    datafit = RowDatafit(loss, design, y, s)
    _, b, _ = datafit.profile(None, b, eta_lin + design.broadcast_tasks(b), n_newton)
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
    datafit = RowDatafit(loss, design, y, s)
    gap, primal, _, b = datafit.duality_gap(
        penalty, W, b, eta_lin + design.broadcast_tasks(b), fit_intercept)
    return gap, primal, b


def alpha_max(loss, penalty, design, y, s, fit_intercept=True):
    """Smallest ``alpha`` for which ``W = 0`` is optimal (norm penalties).

    ``alpha_max = Omega^D(A^T theta_0)`` with ``theta_0`` the negative loss
    gradient of the intercept-only model and ``Omega^D`` the dual norm; for the
    L21/ridge mix it is divided by ``l1_ratio``. The sign matters for the
    non-negative penalties (``positive=True``), whose dual gauge sees only
    the positive part of ``A^T theta_0``.
    """
    datafit = make_datafit(loss, design, y, s, gram=False, penalty=penalty)
    _, _, state = datafit.null_model(fit_intercept)
    G, _, _ = datafit.linearize(state)
    norm = penalty.dual_norm(-G)
    if norm is None:
        raise ValueError(f"{penalty!r} is not a norm; it has no alpha_max.")
    return float(norm) / getattr(penalty, "l1_ratio", 1.0)


def _line_search(datafit, penalty, state_z, Wz, bz, W_prev, b_prev, step,
                 step_base, ratio, n_iter):
    """One proximal-gradient step from ``z`` with backtracking on the step.

    The intercepts move ``ratio`` times as far as the coefficients (zero:
    not fitted), and lengths are measured in that metric. ``step_base`` is
    the longest step not known to be too long: a step
    passing only the loose test (the strict one failing by rounding alone) is
    accepted up to it. Returns the new point, its state, the accepted step,
    ``step_base`` and the host scalars of that step (one transfer per trial):
    objective (loss + penalty), squared step length ``sq`` and the restart
    test ``uphill``.
    """
    xp = datafit.xp
    G, g_b, _ = lin = datafit.linearize(state_z)
    grad_sq = xp.sum(G * G) + xp.sum(g_b * g_b)
    for _ in range(MAX_HALVINGS):
        W = penalty.prox(Wz - step * G, step)
        b = bz - (step * ratio) * g_b if ratio > 0 else bz
        dW, db = W - Wz, b - bz
        state = datafit.state(W, b)
        f_new = datafit.value(state)
        sq = xp.sum(dW * dW) + (xp.sum(db * db) / ratio if ratio > 0 else 0.0)
        strict, loose = datafit.decrease_violation(state, state_z, f_new, lin, dW,
                                                   db, sq, step)
        uphill = xp.sum(dW * (W - W_prev)) + (
            xp.sum(db * (b - b_prev)) / ratio if ratio > 0 else 0.0)
        g2, f, strict, loose, sq, uphill, pen = to_floats(
            xp, [grad_sq, f_new, strict, loose, sq, uphill, penalty.value(W)])
        _check_finite(g2, "squared gradient norm", n_iter, step)
        # accept on the strict test, or on the loose one (the two differ only
        # by rounding) at a step not known to be too long
        if (math.isfinite(f) and (strict <= 0 or (loose <= 0 and step <= step_base))
                or step < 1e-30):
            _check_finite(f, "objective", n_iter, step)
            return W, b, state, step, step_base, {"objective": f + pen, "sq": sq,
                                                  "uphill": uphill}
        if not (math.isfinite(f) and loose <= 0) and step <= step_base:
            step_base = 0.5 * step  # clearly too long: no longer trusted
        step *= 0.5
    raise NumericalBreakdown(
        f"FISTA stopped at iteration {n_iter}: the line search found no "
        f"sufficient decrease in {MAX_HALVINGS} step halvings (objective "
        f"{f}). Check the data for extreme values or scales.")


def solve(loss, penalty, design, y, s, W0=None, b0=None, *, fit_intercept=True,
          tol=1e-4, max_iter=1000, check_every=10, restart=True, warn=True,
          datafit=None):
    """Minimise ``loss + penalty`` over ``(W, b)`` by FISTA.

    Parameters
    ----------
    loss, penalty, design : objects
        See :mod:`mtstats.losses`, :mod:`mtstats.penalties`,
        :mod:`mtstats._designs`.
    y, s : arrays shaped like the linear predictor
        Targets and sample weights.
    W0, b0 : arrays, optional
        Warm start (default zeros, intercepts of the null model). A warm start
        sets the point only: the momentum and the step start afresh, as at a
        restart, so two solves of 5 iterations chained by a warm start are not
        one solve of 10 iterations (the second starts without momentum).
    fit_intercept : bool
        Fit unpenalised per-task intercepts.
    tol : float
        Relative duality-gap tolerance (see the module docstring), floored at
        ``TOL_FLOOR`` machine epsilons of the data's dtype.
    max_iter : int
        Maximum number of iterations.
    check_every : int
        Iterations between two duality-gap evaluations (each costs about one
        iteration).
    restart : bool
        Gradient adaptive restart of the momentum (which also lets the step
        grow).
    warn : bool
        Emit a ``ConvergenceWarning`` when stopping unconverged.
    datafit : object, optional
        A datafit for ``(loss, design, y, s)``; default
        :func:`mtstats.datafits.make_datafit`, which picks rows or Gram
        statistics.

    Returns
    -------
    SolveResult
        With the iterate of smallest certified gap (the last one where no
        gap is available).
    """
    if datafit is None:
        from .prox_newton import newton_rows, prox_newton_solve

        if newton_rows(design) is not None:  # rows out of core: proximal Newton
            return prox_newton_solve(loss, penalty, design, y, s, W0, b0,
                                     fit_intercept=fit_intercept, tol=tol,
                                     max_iter=max_iter, warn=warn)
        datafit = make_datafit(loss, design, y, s, penalty=penalty)
    xp = datafit.xp
    W, b, state = datafit.null_model(fit_intercept)
    null_objective = float(datafit.value(state) + penalty.value(W))
    gap_scale = max(null_objective, 1e-300)
    if W0 is not None or (b0 is not None and fit_intercept):
        W = W if W0 is None else xp.asarray(W0, dtype=y.dtype)
        b = b if b0 is None or not fit_intercept else xp.asarray(b0, dtype=y.dtype)
        state = datafit.state(W, b)
    use_gap = hasattr(penalty, "conjugate") and penalty.alpha > 0
    tol_gap = max(tol, TOL_FLOOR * float(xp.finfo(y.dtype).eps))

    lipschitz, ratio = datafit.lipschitz(fit_intercept)
    step = step_base = 1.0 / lipschitz
    _check_finite(step, "initial step (1 / Lipschitz constant)", 0, step)
    state_x, state_z, Wz, bz, W_prev, b_prev = state, state, W, b, W, b
    momentum, history, best, first_residual = 1.0, [], None, None
    converged, n_iter, residual = False, 0, math.nan
    for n_iter in range(1, max_iter + 1):
        W, b, state_new, step, step_base, host = _line_search(
            datafit, penalty, state_z, Wz, bz, W_prev, b_prev, step, step_base,
            ratio if fit_intercept else 0.0, n_iter)
        history.append(host["objective"])
        residual = math.sqrt(host["sq"]) / step
        first_residual = residual if first_residual is None else first_residual
        # gradient restart: momentum pointing uphill resets the sequence
        if restart and host["uphill"] < 0:
            momentum, beta, step = 1.0, 0.0, step * STEP_GROWTH
        else:
            new_momentum = 0.5 * (1 + math.sqrt(1 + 4 * momentum * momentum))
            beta, momentum = (momentum - 1) / new_momentum, new_momentum
        Wz, bz = (W, b) if beta == 0 else (W + beta * (W - W_prev),
                                           b + beta * (b - b_prev))
        state_z = datafit.extrapolate(state_new, state_x, beta)
        W_prev, b_prev, state_x = W, b, state_new
        if n_iter % check_every == 0 or n_iter == max_iter:
            if use_gap:
                gap, primal, W_star, b_star = datafit.duality_gap(
                    penalty, W, b, state_x, fit_intercept)
                if best is None or abs(gap) < abs(best[0]):
                    best = (gap, primal, W_star, b_star)
                # a clearly negative gap means an inexact dual point: go on
                converged = abs(best[0]) <= tol_gap * gap_scale
                if not converged and getattr(datafit, "adopts_profile", False):
                    # move the iteration along the free directions to the
                    # profiled point (lower objective): the current, previous
                    # and extrapolated points are translated alike, so the
                    # momentum is kept
                    dW, db = W_star - W, b_star - b
                    W, W_prev, Wz = W_star, W_prev + dW, Wz + dW
                    b, b_prev, bz = b_star, b_prev + db, bz + db
                    state_x, state_z = datafit.state(W, b), datafit.state(Wz, bz)
            else:
                converged = residual <= tol * max(first_residual, 1e-300)
            if converged:
                break

    if use_gap and best is None:  # max_iter < 1
        best = datafit.duality_gap(penalty, W, b, state_x, fit_intercept)
    if use_gap:
        gap, objective, W, b = best
    else:
        if fit_intercept:
            W, b, state_x = datafit.profile(W, b, state_x)
        objective = float(datafit.value(state_x) + penalty.value(W))
        gap = math.nan
    if warn and not converged:
        criterion = (f"relative duality gap {gap / gap_scale:.3g}" if use_gap else
                     f"relative gradient-mapping residual "
                     f"{residual / max(first_residual or 0.0, 1e-300):.3g}")
        warnings.warn(
            f"FISTA did not converge in {max_iter} iterations: {criterion} > "
            f"tol={tol:g}. Increase max_iter, loosen tol, or standardise the "
            "features.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return SolveResult(W, b, n_iter, converged, gap, objective, null_objective,
                       history)
