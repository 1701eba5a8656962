r"""Regularisation paths: one warm-started solve per penalty strength.

For a decreasing grid :math:`\alpha_1 > \alpha_2 > \dots > \alpha_K`,
:func:`solve_path` computes

.. math::

    (W_k, b_k) = \arg\min_{W, b}\; F(W, b) + g_{\alpha_k}(W),

starting every solve from the previous solution (warm starts, Friedman,
Hastie & Tibshirani [1]_): neighbouring solutions are close,
so each solve needs few iterations. Every solve is :func:`~.fista.solve`
with its duality-gap stop, so each point of the path carries its own
certificate.

**Screening** (L1 and L21 penalties). The sequential strong rule (Tibshirani
et al. [2]_) drops feature ``j`` at :math:`\alpha_k` when the dual
norm of its gradient row at the previous solution is small,

.. math::

    \lVert \nabla_j F(W_{k-1})\rVert_* < 2\lambda_k - \lambda_{k-1},

with :math:`\lambda = \alpha\rho` the strength of the norm part (``rho`` the
``l1_ratio``; the dual norm is the row's Euclidean norm for L21 and its
largest entry for L1; with ``positive=True`` both are taken of the positive
part of the negative gradient, :math:`(-\nabla_j F)_+`, the dual gauge of
the constrained penalty); features active at :math:`\alpha_{k-1}` are kept. The
solve runs on the design restricted to the kept columns. The rule is a
heuristic, so the result is then checked on the full problem: the duality
gap is recomputed with every feature, and if it misses the tolerance the
features violating the optimality condition
:math:`\lVert \nabla_j F\rVert_* \le \lambda_k` join the working set and the
solve is repeated. A screened point is therefore certified exactly as an
unscreened one. The rule discards nothing when neighbouring strengths differ
by a factor 2 or more (:math:`2\lambda_k \le \lambda_{k-1}`); the default
grid, 100 values over three decades, has neighbours 7% apart.

**Default grids** (:func:`alpha_grid`): ``n_alphas`` values, log-spaced from
a top value down to ``eps`` times it, as in scikit-learn. For norm penalties
the top is ``alpha_max`` (:func:`~.fista.alpha_max`), the smallest strength
whose solution is zero. Quadratic (ridge-type) penalties never zero the
coefficients; their top is ten times :func:`curvature_scale`, the largest
eigenvalue :math:`L` of the loss Hessian in ``W`` at the intercept-only model.
A ridge term :math:`\tfrac{\alpha}{2}\lVert W\rVert_F^2` shrinks the
least-squares coefficient along a Hessian eigenvector of eigenvalue
:math:`\lambda` by :math:`\lambda / (\lambda + \alpha)`, so at
:math:`\alpha = 10L` every direction keeps at most 1/11 of its size (near the
null model, the role ``alpha_max`` plays for norms), and at the bottom,
:math:`10^{-2}L` with ``eps=1e-3``, every direction with
:math:`\lambda \ge L/10` keeps at least 90%. The anchor moves with the data
as ``alpha`` does (squared feature scale, task weights), unlike a fixed
grid.

References
----------
.. [1] J. Friedman, T. Hastie, R. Tibshirani, "Regularization paths for
   generalized linear models via coordinate descent", Journal of Statistical
   Software 33 (2010).
.. [2] R. Tibshirani, J. Bien, J. Friedman, T. Hastie, N. Simon, J. Taylor,
   R. J. Tibshirani, "Strong rules for discarding predictors in lasso-type
   problems", JRSS-B 74 (2012).
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._backend import to_namespace, to_numpy
from ..penalties import L1, L21
from ._restrict import can_restrict, embed_rows, restrict_design, take_rows
from .fista import duality_gap, profile_intercepts, solve

__all__ = ["PathResult", "alpha_grid", "check_alpha_grid", "curvature_scale",
           "solve_path"]


def alpha_grid(alpha_top, n_alphas=100, eps=1e-3):
    """Decreasing grid of ``n_alphas`` values from ``alpha_top`` to ``eps * alpha_top``.

    Log-spaced, as scikit-learn's ``_alpha_grid``. A top that is not
    positive (data without signal) becomes the float resolution, 1e-15.
    """
    if not (isinstance(n_alphas, (int, np.integer)) and n_alphas >= 1):
        raise ValueError(f"n_alphas must be a positive integer; got {n_alphas!r}.")
    if not eps > 0:
        raise ValueError(f"eps must be positive; got {eps!r}.")
    top = float(alpha_top)
    if not (top > 0 and math.isfinite(top)):
        top = float(np.finfo(np.float64).resolution)
    return top * np.geomspace(1.0, eps, int(n_alphas))


def check_alpha_grid(alphas):
    """A user's grid as a decreasing 1-D float array of finite values >= 0."""
    grid = np.asarray(alphas, dtype=np.float64).ravel()
    if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid < 0):
        raise ValueError("alphas must be a non-empty array of finite, non-negative "
                         f"values; got {alphas!r}.")
    return np.sort(grid)[::-1]


def curvature_scale(loss, design, y, s, fit_intercept=True, n_iter=50, seed=0):
    """Largest eigenvalue of the loss Hessian in ``W`` at the intercept-only model.

    :math:`L = \\lambda_{\\max}(A^\\top \\operatorname{diag}(s\\,l''(\\eta_0))
    A)` with ``A`` the design acting on ``W`` only (the intercepts are left
    out, so the scale does not depend on them), by power iteration. It
    anchors the default grid of quadratic penalties (module docstring).
    """
    xp = design.xp
    W = xp.zeros(design.coef_shape, dtype=y.dtype)
    b = xp.zeros((design.n_tasks,), dtype=y.dtype)
    eta_lin = design.linear_part(W)
    if fit_intercept:
        b = profile_intercepts(loss, design, y, s, eta_lin, b)
    weights = s * loss.curvature(eta_lin + design.broadcast_tasks(b), y)
    rng = np.random.default_rng(seed)
    V = xp.asarray(rng.standard_normal(design.coef_shape), dtype=y.dtype)
    estimate = 0.0
    for _ in range(n_iter):
        norm = float(xp.sqrt(xp.sum(V * V)))
        if norm == 0.0:
            return 0.0
        V, _ = design.adjoint(weights * design.linear_part(V / norm))
        new = float(xp.sqrt(xp.sum(V * V)))
        converged = abs(new - estimate) <= 1e-6 * new
        estimate = new
        if converged:
            break
    return estimate


@dataclasses.dataclass(frozen=True)
class PathResult:
    """Output of :func:`solve_path`.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
        The grid, decreasing.
    results : list of SolveResult
        One full-size solution per alpha (solver namespace and scale).
    n_screened : ndarray of int of shape (n_alphas,)
        Features in the final working set of each solve (all of them where
        nothing was screened).
    """

    alphas: np.ndarray
    results: list
    n_screened: np.ndarray


def _norm_strength(penalty):
    """Strength of the norm part of a row-screenable penalty, else None."""
    if type(penalty) is L1:
        return penalty.alpha
    if type(penalty) is L21:
        return penalty.alpha * penalty.l1_ratio
    return None


def _row_scores(penalty, G, xp):
    """Dual norm of every gradient row (NumPy, one value per feature); of the
    rows of ``(-G)_+`` for a non-negative (``positive=True``) penalty."""
    if penalty.positive:
        G = xp.clip(-G, 0.0, None)
    if type(penalty) is L1:
        return to_numpy(xp.max(xp.abs(G), axis=1))
    return to_numpy(xp.sqrt(xp.sum(G * G, axis=1)))


class _FullProblem:
    """The full problem's gradient rows and gap at a (possibly embedded) point."""

    def __init__(self, loss, design, y, s, fit_intercept):
        self.loss, self.design, self.y, self.s = loss, design, y, s
        self.fit_intercept = fit_intercept

    def gradient(self, W, b):
        """Gradient of the data fit in ``W`` at ``(W, b)``."""
        eta = self.design.forward(W, b)
        G, _ = self.design.adjoint(self.loss.gradient(eta, self.y, self.s))
        return G

    def start(self, W0, b0):
        """The first point: ``(W0, b0)``, zeros and null intercepts by default."""
        xp, design = self.design.xp, self.design
        W = xp.zeros(design.coef_shape, dtype=self.y.dtype) if W0 is None else W0
        if b0 is None:
            b = xp.zeros((design.n_tasks,), dtype=self.y.dtype)
            if self.fit_intercept:
                b = profile_intercepts(self.loss, design, self.y, self.s,
                                       design.linear_part(W), b)
        else:
            b = b0
        return W, b

    def certify(self, penalty, W, b):
        """``(gap, objective, profiled intercepts, gradient)``, every feature in."""
        design = self.design
        eta_lin = design.linear_part(W)
        gap, objective, b = duality_gap(self.loss, penalty, design, self.y, self.s,
                                        W, eta_lin, b, self.fit_intercept)
        eta = eta_lin + design.broadcast_tasks(b)
        G, _ = design.adjoint(self.loss.gradient(eta, self.y, self.s))
        return gap, objective, b, G


def _screened_solve(full, penalty, solver, kwargs, W, b, scores, threshold,
                    previous, tol):
    """One strong-rule solve with KKT repair; returns (result, G, n_kept)."""
    xp = full.design.xp
    active = to_numpy(xp.any(W != 0, axis=1))
    keep = (scores >= 2 * threshold - previous) | active
    if not keep.any():
        keep[int(np.argmax(scores))] = True
    n_iter = 0
    while True:
        if keep.all():
            result = solver(full.loss, penalty, full.design, full.y, full.s, W, b,
                            **kwargs)
            W_full = result.W
        else:
            index = to_namespace(xp, np.flatnonzero(keep))
            result = solver(full.loss, penalty, restrict_design(full.design, index),
                            full.y, full.s, take_rows(W, index), b, **kwargs)
            W_full = embed_rows(result.W, keep)
        n_iter += result.n_iter
        gap, objective, b_full, G = full.certify(penalty, W_full, result.b)
        scores = _row_scores(penalty, G, xp)
        violators = ~keep & (scores > threshold)
        converged = abs(gap) <= tol * max(result.null_objective, 1e-300)
        if converged or not violators.any():
            break
        keep |= violators
        W, b = W_full, b_full
    result = dataclasses.replace(result, W=W_full, b=b_full, n_iter=n_iter,
                                 converged=converged, gap=gap, objective=objective)
    return result, G, int(keep.sum())


def solve_path(loss, penalty_for, design, y, s, alphas, W0=None, b0=None, *,
               fit_intercept=True, tol=1e-4, max_iter=1000, check_every=5,
               screening=True, solver=solve, warn=True):
    """Solve along a decreasing grid of penalty strengths with warm starts.

    Parameters
    ----------
    loss, design, y, s : objects
        As for :func:`~.fista.solve`.
    penalty_for : callable
        ``penalty_for(alpha)`` returns the penalty at strength ``alpha`` in
        the solver's variables.
    alphas : array-like of shape (n_alphas,)
        The grid; solved from the largest value down (sorted if needed).
    W0, b0 : arrays, optional
        Start of the first solve (default: the intercept-only model).
    fit_intercept, tol, max_iter, check_every : optional
        Passed to every solve; warm-started solves are short, so the gap is
        checked every 5 iterations by default (10 in :func:`~.fista.solve`).
    screening : bool, default=True
        Sequential strong rules with a KKT check (L1 and L21 penalties on the
        designs of :mod:`mtstats._designs`; ignored otherwise).
    solver : callable, default=:func:`~.fista.solve`
        Any function with the signature of :func:`~.fista.solve`.
    warn : bool, default=True
        One ``ConvergenceWarning`` for the whole path when some solve stops
        unconverged.

    Returns
    -------
    PathResult
    """
    grid = check_alpha_grid(alphas)
    kwargs = dict(fit_intercept=fit_intercept, tol=tol, max_iter=max_iter,
                  check_every=check_every, warn=False)
    full = _FullProblem(loss, design, y, s, fit_intercept)
    W, b = W0, b0
    results, n_screened, scores, previous = [], [], None, None
    for alpha in grid:
        penalty = penalty_for(float(alpha))
        threshold = _norm_strength(penalty)
        can_screen = (screening and threshold is not None and solver is solve
                      and can_restrict(design))
        if not can_screen:
            result = solver(loss, penalty, design, y, s, W, b, **kwargs)
            n_screened.append(design.n_features)
            scores = None
        else:
            if scores is None:
                W, b = full.start(W, b)
                scores = _row_scores(penalty, full.gradient(W, b), design.xp)
                previous = max(threshold, float(scores.max()))
            result, G, kept = _screened_solve(full, penalty, solver, kwargs, W,
                                              b, scores, threshold, previous, tol)
            scores = _row_scores(penalty, G, design.xp)
            previous = threshold
            n_screened.append(kept)
        results.append(result)
        W, b = result.W, result.b
    failed = sum(not r.converged for r in results)
    if warn and failed:
        warnings.warn(f"{failed} of the {len(grid)} solves of the path did not "
                      f"converge to tol={tol:g} in max_iter={max_iter} iterations; "
                      "increase max_iter or loosen tol.", ConvergenceWarning,
                      stacklevel=2)
    return PathResult(grid, results, np.asarray(n_screened))
