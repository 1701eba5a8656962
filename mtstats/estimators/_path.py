r"""Regularisation paths of any mtstats estimator, in the user's units.

:func:`regularization_path` prepares the problem once (validation, exact
rescaling, centring: the steps of ``fit``), solves it along a decreasing
``alpha`` grid with warm starts and screening
(:func:`mtstats.solvers.path.solve_path`), and maps every solution back to
coefficients and intercepts as ``fit`` would report them. The ``*CV``
estimators run it on every training fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone

from ..penalties._base import is_norm
from ..solvers.concomitant import null_noise_weights
from ..solvers.path import alpha_grid, check_alpha_grid, curvature_scale, solve_path

__all__ = ["RegularizationPath", "default_alpha_grid", "problem_path",
           "regularization_path"]

#: Quadratic penalties start their default grid at this multiple of the
#: curvature scale (see :mod:`mtstats.solvers.path`).
RIDGE_TOP = 10.0


@dataclass(frozen=True)
class RegularizationPath:
    """Solutions along an ``alpha`` grid (:func:`regularization_path`).

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
        The grid, decreasing.
    coef : ndarray of shape (n_alphas, n_tasks, n_features)
        ``coef_`` at every ``alpha``.
    intercept : ndarray of shape (n_alphas, n_tasks)
        ``intercept_`` at every ``alpha``.
    dual_gap : ndarray of shape (n_alphas,)
        Final duality gap of every solve (NaN where the penalty has none).
    objective : ndarray of shape (n_alphas,)
        Objective at every solution.
    n_iter : ndarray of int of shape (n_alphas,)
        FISTA iterations of every solve.
    converged : ndarray of bool of shape (n_alphas,)
        Whether every solve met ``tol``.
    tasks : ndarray of shape (n_tasks,)
        The task labels.
    """

    alphas: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    dual_gap: np.ndarray
    objective: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    tasks: np.ndarray


def default_alpha_grid(estimator, problem, n_alphas=100, eps=1e-3, **params):
    r"""The default decreasing grid of ``estimator`` on a prepared problem.

    From ``alpha_max`` for norm penalties (group lasso with
    ``l1_ratio > 0``, trace norm, L1), else (ridge-type penalties, cluster
    and shared/private models, whose ``alpha`` weighs a quadratic term) from
    ten times the curvature scale :math:`L` of the loss (module docstring of
    :mod:`mtstats.solvers.path`), down to ``eps`` times the top, log-spaced.
    ``params`` override hyper-parameters other than ``alpha`` (e.g.
    ``l1_ratio``).
    """
    penalty = estimator._penalty_at(alpha=1.0, **params)
    if (is_norm(penalty)
            and getattr(penalty, "l1_ratio", 1.0) > 0):
        top = estimator._alpha_max(problem, penalty)
    else:
        s = problem.s
        if estimator._noise_weighted():  # the joint problem's weights at W = 0
            s = null_noise_weights(problem.loss, problem.design, problem.y, s,
                                   estimator.fit_intercept, problem.scale.y)
        L = curvature_scale(problem.loss, problem.design, problem.y, s,
                            estimator.fit_intercept)
        # the data scale's factor on a quadratic strength; ``penalty.alpha`` is
        # 1 or, for the ratio-parametrised models, the positive share 1 - ratio
        per_unit = (estimator._solver_penalty(penalty, problem.scale).alpha
                    / penalty.alpha)
        top = RIDGE_TOP * L / per_unit
    return alpha_grid(top, n_alphas, eps)


def problem_path(estimator, problem, alphas, screening=True, **params):
    """Solve a prepared problem along ``alphas``.

    Returns a :class:`~mtstats.solvers.path.PathResult`, warm-started from
    the largest ``alpha`` down; ``params`` override hyper-parameters other
    than ``alpha``.
    """
    estimator._check_problem(problem)

    def penalty_for(alpha):
        penalty = estimator._penalty_at(alpha=alpha, **params)
        return estimator._pooling(
            estimator._solver_penalty(penalty, problem.scale), problem)

    return solve_path(problem.loss, penalty_for, problem.design, problem.y,
                      problem.s, alphas, fit_intercept=estimator.fit_intercept,
                      tol=estimator.tol, max_iter=estimator.max_iter,
                      screening=screening, solver=estimator._solver_for(problem))


def regularization_path(estimator, X, y, *, alphas=None, n_alphas=100, eps=1e-3,
                        screening=True, sample_weight=None):
    r"""Fit ``estimator`` along a decreasing grid of ``alpha``, warm-started.

    Every other hyper-parameter (``l1_ratio``, ``ridge_ratio``,
    ``n_clusters``, ...) stays as set on ``estimator``, which is not
    modified. The data are validated, rescaled and centred once, as ``fit``
    does; each solve starts from the previous solution and stops on the
    duality gap (``tol``) of the full problem. For L1 and L21 penalties
    sequential strong rules restrict each solve to a working set of
    features, checked afterwards on the full problem
    (:mod:`mtstats.solvers.path`).

    Parameters
    ----------
    estimator : mtstats estimator
        Any of the twelve estimators; its ``alpha`` is ignored.
    X : array-like or DataFrame of shape (n_samples, n_columns)
        Features, as for ``estimator.fit``.
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Targets, as for ``estimator.fit``.
    alphas : array-like of shape (n_alphas,), optional
        The grid (sorted decreasing). Default: ``n_alphas`` values from the
        top of the default grid down to ``eps`` times it, log-spaced: the top
        is ``alpha_max`` for norm penalties (group lasso, trace norm, L1) and
        ten times the loss curvature scale for quadratic ones (ridge, cluster
        and shared/private models), see :mod:`mtstats.solvers.path`.
    n_alphas : int, default=100
        Length of the default grid.
    eps : float, default=1e-3
        Ratio of the smallest to the largest ``alpha`` of the default grid.
    screening : bool, default=True
        Strong-rule screening with a KKT check (L1 and L21 penalties).
    sample_weight : array-like of shape (n_samples,), optional
        Row weights, as for ``estimator.fit``.

    Returns
    -------
    RegularizationPath
        ``alphas``, ``coef`` (n_alphas, n_tasks, n_features), ``intercept``
        (n_alphas, n_tasks), ``dual_gap``, ``objective``, ``n_iter``,
        ``converged`` and ``tasks``.

    See Also
    --------
    mtstats.GroupLassoRegressorCV : picks ``alpha`` by cross-validation.

    Examples
    --------
    >>> import numpy as np
    >>> from mtstats import GroupLassoRegressor, regularization_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 5))
    >>> Y = X[:, :2] @ rng.standard_normal((2, 3)) + rng.standard_normal((60, 3))
    >>> path = regularization_path(GroupLassoRegressor(), X, Y, n_alphas=10)
    >>> path.coef.shape
    (10, 3, 5)
    >>> bool(np.abs(path.coef[0]).max() < 1e-12)  # alpha_max: nothing selected
    True
    """
    est = clone(estimator)
    est._validate_params()
    problem = est._prepare(X, y, sample_weight)
    grid = (default_alpha_grid(est, problem, n_alphas, eps) if alphas is None
            else check_alpha_grid(alphas))
    path = problem_path(est, problem, grid, screening)
    solutions = [problem.solution(result) for result in path.results]
    return RegularizationPath(
        alphas=grid,
        coef=np.stack([coef for coef, _, _ in solutions]),
        intercept=np.stack([intercept for _, intercept, _ in solutions]),
        dual_gap=np.array([r.gap for _, _, r in solutions]),
        objective=np.array([r.objective for _, _, r in solutions]),
        n_iter=np.array([r.n_iter for _, _, r in solutions]),
        converged=np.array([r.converged for _, _, r in solutions]),
        tasks=problem.tasks)
