"""Orthogonal shared + private decompositions of the task coefficients."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._backend import to_namespace, to_numpy
from .._separation import separated_tasks
from .._sklearn_compat import Interval, StrOptions
from ..penalties import ClusterNorm, SharedMean, SubspaceRidge
from ..solvers import SolveResult, solve
from ._base import (
    COMMON_CONSTRAINTS,
    SHARED_MEAN_CONSTRAINT,
    MultitaskLinearModel,
)
from ._prediction import MultitaskClassifierMixin, MultitaskRegressorMixin
from .clustered import cluster_strengths
from .structured import _CLASSIFIER_FITTED_DOC, _FITTED_DOC, STRUCTURE_PARAMETERS_DOC


def top_left_singular_vectors(W, n_components):
    """Orthonormal basis (d x h) of the top ``h`` left singular vectors of ``W``."""
    U, _, _ = np.linalg.svd(np.asarray(W, dtype=np.float64), full_matrices=False)
    return U[:, :n_components]


@dataclass(frozen=True)
class AlternatingResult(SolveResult):
    """A :class:`~mtstats.solvers.SolveResult` that also counts alternations."""

    n_outer_iter: int = 0


def alternating_aso(loss, penalty, design, y, s, W0=None, b0=None, *,
                    max_outer_iter=50, tol=1e-4, **kwargs):
    """Alternate a FISTA solve for W (basis fixed) and the basis update.

    ``penalty`` is the convex :class:`~mtstats.penalties.ClusterNorm` of the
    same problem (in the solver's variables); its ``alpha``, ``beta`` and
    ``k`` set the iASO strengths and the subspace dimension. Each half-step
    lowers the same objective: for fixed ``Theta`` the penalty is
    :class:`~mtstats.penalties.SubspaceRidge`; for fixed ``W`` the best
    ``Theta`` spans the top left singular vectors of ``W``. The problem is
    not jointly convex: the result is a stationary point. Other keyword
    arguments go to every :func:`~mtstats.solvers.solve`.
    """
    xp = design.xp
    kwargs["tol"] = tol
    start = SubspaceRidge(penalty.alpha, penalty.beta,
                          xp.zeros((design.n_features, 0), dtype=y.dtype))
    result = solve(loss, start, design, y, s, W0, b0, **kwargs)
    previous, n_outer = np.inf, 0
    while n_outer < max_outer_iter:
        n_outer += 1
        basis = top_left_singular_vectors(to_numpy(result.W), penalty.k)
        ridge = SubspaceRidge(penalty.alpha, penalty.beta,
                              to_namespace(xp, basis, basis.dtype))
        ridge.basis = xp.astype(ridge.basis, y.dtype)
        result = solve(loss, ridge, design, y, s, result.W, result.b, **kwargs)
        if previous - result.objective <= tol * result.null_objective:
            break
        previous = result.objective
    values = {f.name: getattr(result, f.name) for f in fields(result)}
    return AlternatingResult(**values, n_outer_iter=n_outer)


class _SharedPrivateModel(MultitaskLinearModel):
    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "kind": [StrOptions({"subspace", "mean"})],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "shared_ratio": [Interval(Real, 0, 1, closed="left")],
        "shared_penalty": [StrOptions({"l2", "l1"})],
        "solver": [StrOptions({"convex", "alternating"})],
        "max_outer_iter": [Interval(Integral, 1, None, closed="left")],
        "unseen_task": [StrOptions({"shared", "error"})],
        **SHARED_MEAN_CONSTRAINT,
    }

    def __init__(self, kind="subspace", *, n_components=1, alpha=0.02,
                 shared_ratio=0.5, shared_penalty="l2", solver="convex",
                 max_outer_iter=50, unseen_task="shared", task_column=None,
                 task_weight=None, fit_intercept=True, intercept_shrinkage=0.0,
                 shared_mean=False, tol=1e-4, max_iter=5000, warm_start=False,
                 device="cpu"):
        self.kind = kind
        self.n_components = n_components
        self.alpha = alpha
        self.shared_ratio = shared_ratio
        self.shared_penalty = shared_penalty
        self.solver = solver
        self.max_outer_iter = max_outer_iter
        self.unseen_task = unseen_task
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.intercept_shrinkage = intercept_shrinkage
        self.shared_mean = shared_mean
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device

    def _make_penalty(self):
        ratio = self.shared_ratio
        if self.kind == "mean":
            if not 0 <= ratio < 1:
                raise ValueError("shared_ratio must lie in [0, 1) for kind='mean'; "
                                 f"got {ratio!r}.")
            return SharedMean(self.alpha * (1 - ratio), self.alpha * ratio,
                              self.shared_penalty)
        if not 0 < ratio < 1:
            raise ValueError("shared_ratio must lie strictly between 0 and 1 for "
                             f"kind='subspace' (0 is for kind='mean'); got {ratio!r}.")
        rho1, rho2 = cluster_strengths(self.alpha, ratio, "shared_ratio")
        return ClusterNorm(rho1, rho2, self.n_components)

    def _check_problem(self, problem):
        if self.solver == "alternating" and self.kind == "subspace" and (
                self.shared_mean or problem.intercept_prior is not None):
            raise ValueError("solver='alternating' supports neither shared_mean "
                             "nor intercept_shrinkage; use solver='convex'.")
        if self.kind == "subspace" and self.n_components > problem.design.n_features:
            raise ValueError(f"n_components={self.n_components} exceeds the number "
                             f"of features ({problem.design.n_features}).")

    def _solver(self):
        if self.kind == "subspace" and self.solver == "alternating":
            return partial(alternating_aso, max_outer_iter=self.max_outer_iter)
        return solve

    def _free_mean(self):
        """``shared_mean=True``, or ``kind="mean"`` with an unpenalised
        shared model (``shared_ratio=0``): profiled exactly, so the duality
        gap certifies the fit (:mod:`mtstats.penalties.pooling`)."""
        return self.shared_mean or (self.kind == "mean" and self.shared_ratio == 0)

    def _unbounded(self, problem, penalty):
        if not (self._is_classifier() and isinstance(penalty, SharedMean)
                and penalty.beta == 0):
            return super()._unbounded(problem, penalty)
        if not separated_tasks(problem.data, True, self.fit_intercept):
            return False
        warnings.warn(
            "shared_ratio=0 leaves the shared model unpenalised, and the classes "
            "of the pooled tasks are separable by one hyperplane (with per-task "
            "intercepts), so the logistic loss has no finite minimiser: the "
            "shared coefficients grow without bound and the fitted ones are "
            "arbitrary (converged_ is False). Use shared_ratio > 0.",
            ConvergenceWarning, stacklevel=3)
        return True

    def _store_structure(self, result, penalty):
        W = to_numpy(result.W)
        if hasattr(result, "n_outer_iter"):
            self.n_outer_iter_ = result.n_outer_iter
        if self.kind == "mean":
            w0, V = SharedMean.split(W)
            self.shared_coef_ = np.repeat(w0[None, :], W.shape[1], axis=0)
            self.private_coef_ = V.T
            return
        basis = top_left_singular_vectors(W, self.n_components).astype(W.dtype)
        shared = basis @ (basis.T @ W)
        self.shared_basis_ = basis
        self.shared_coef_ = shared.T
        self.private_coef_ = (W - shared).T

    def _predicts_unseen_tasks(self):
        return self.kind == "mean" and self.unseen_task == "shared"

    def _unseen_task_model(self):
        # Python's default warning filter shows this once per call site.
        warnings.warn("Predicting tasks not seen in fit with the shared model "
                      "(shared_coef_, mean intercept); set unseen_task='error' to "
                      "refuse instead.", UserWarning, stacklevel=4)
        return self.shared_coef_[0], np.mean(self.intercept_)


_SHARED_PRIVATE_DOC = r"""{kind}, coefficients split into shared + private parts.

    Every task's coefficients are ``coef_ = shared_coef_ + private_coef_``
    with the two parts exactly orthogonal. Two decompositions, chosen by
    ``kind``:

    * ``"subspace"`` -- a feature subspace shared by all tasks (alternating
      structure optimisation; Ando & Zhang, 2005). The convex relaxation
      (cASO; Chen, Tang, Liu & Ye, 2009; MALSAR's ``{malsar}``) minimises

      .. math::

          \text{{loss}} + \alpha\,\eta\min_M \operatorname{{tr}}\big(
          W^\top(\eta I + M)^{{-1}} W\big),\quad \eta = \frac{{s}}{{1-s}},

      over d x d ``M`` with :math:`0 \preceq M \preceq I`,
      :math:`\operatorname{{tr}} M = h` (``n_components``), ``s =
      shared_ratio``. For ``M`` the projector :math:`\Theta\Theta^\top` on
      an h-dimensional subspace the penalty is :math:`\alpha\lVert(I -
      \Theta\Theta^\top)W\rVert_F^2 + \alpha s\lVert\Theta\Theta^\top
      W\rVert_F^2`: the private parts pay ``alpha``, the shared part
      ``s * alpha``. In MALSAR's parameters :math:`\rho_1 = \alpha(1-s)`,
      :math:`\rho_2 = \alpha s`, :math:`\eta = \rho_2/\rho_1`.
      ``shared_basis_`` (:math:`\Theta`, d x h) spans the top ``h``
      eigenvectors of the optimal ``M`` (equivalently the top left singular
      vectors of ``W``), ``shared_coef_ = (Theta Theta^T W)^T`` and
      ``private_coef_`` the rest. The convex solver needs one thin SVD of
      ``W`` (d x T) per iteration, never a d x d eigendecomposition, so it
      also serves large ``d``. ``solver="alternating"`` runs the original
      non-convex iASO instead: for fixed :math:`\Theta` a ridge fit with the
      penalty above, then :math:`\Theta` from the top-h singular vectors of
      ``W``, until the objective stalls. Use it when an exactly rank-h
      shared part matters more than a global optimum; prefer the convex
      solver otherwise.
    * ``"mean"`` -- a shared model plus task deviations (mean-regularised
      MTL; Evgeniou & Pontil, 2004): :math:`W = w_0\mathbf 1^\top + V`,
      :math:`V\mathbf 1 = 0`, penalty

      .. math::

          \alpha\big(s\,h(w_0) + (1 - s)\lVert V\rVert_F^2\big),

      with :math:`h` the squared L2 norm or, with ``shared_penalty="l1"``,
      the L1 norm (a sparse shared model). ``s = 0`` leaves the shared
      model unpenalised, the original formulation of Evgeniou & Pontil;
      no duality gap exists then, and the solver stops on the
      gradient-mapping residual (``dual_gap_`` is NaN). Tasks not seen in
      ``fit`` are predicted by the shared model :math:`w_0` with the mean
      intercept (a warning says so; ``unseen_task="error"`` refuses
      instead).

    With {loss} loss. In both, ``alpha`` is the overall strength: at a fixed
    ``shared_ratio`` the penalty is linear in it.

    Parameters
    ----------
    kind : {{"subspace", "mean"}}, default="subspace"
        The decomposition.
    n_components : int, default=1
        ``h``, the shared subspace dimension (``kind="subspace"``).
    alpha : float, default=0.02
        Overall strength of the penalty (> 0), which it scales linearly.
    shared_ratio : float in [0, 1), default=0.5
        ``s``, the share of the strength put on the shared part (see above):
        small values share strongly, values near 1 leave the tasks nearly
        independent (a plain ridge for ``kind="subspace"``, barely penalised
        deviations from the shared model for ``kind="mean"``).
        ``kind="subspace"`` needs ``s > 0``; ``kind="mean"``
        accepts ``s = 0``, an unpenalised shared model.
    shared_penalty : {{"l2", "l1"}}, default="l2"
        Penalty on the shared model (``kind="mean"``).
    solver : {{"convex", "alternating"}}, default="convex"
        Subspace solver (``kind="subspace"``), see above.
    max_outer_iter : int, default=50
        Alternations of the alternating solver.
    unseen_task : {{"shared", "error"}}, default="shared"
        ``kind="mean"``: predict unseen tasks with the shared model, or raise.
    {common}

    {fitted}
    shared_coef_ : ndarray of shape (n_tasks, n_features)
        Shared part of every task's coefficients.
    private_coef_ : ndarray of shape (n_tasks, n_features)
        Private part, orthogonal to the shared part.
    shared_basis_ : ndarray of shape (n_features, n_components)
        ``kind="subspace"``: orthonormal basis of the shared subspace.
    n_outer_iter_ : int
        ``solver="alternating"``: alternations run.

    See Also
    --------
    Clustered{suffix} : tasks grouped into clusters.
    TraceNorm{suffix} : low rank without an explicit split.

    References
    ----------
    .. [1] R. K. Ando, T. Zhang, "A framework for learning predictive
       structures from multiple tasks and unlabeled data", JMLR 6 (2005).
    .. [2] J. Chen, L. Tang, J. Liu, J. Ye, "A convex formulation for
       learning shared structures from multiple tasks", ICML (2009).
    .. [3] T. Evgeniou, M. Pontil, "Regularized multi-task learning", KDD
       (2004).

    Examples
    --------
    >>> import numpy as np
    >>> from mtstats import SharedPrivate{suffix}
    >>> from mtstats.datasets import {maker}
    >>> X, y, truth = {maker}(n_tasks=5, n_features=6,
    ...     structure="shared_mean", random_state=0)
    >>> est = SharedPrivate{suffix}("mean", task_column=-1).fit(X, y)
    >>> bool(np.allclose(est.shared_coef_ + est.private_coef_, est.coef_))
    True
    """


class SharedPrivateRegressor(MultitaskRegressorMixin, _SharedPrivateModel):
    __doc__ = _SHARED_PRIVATE_DOC.format(
        kind="Multitask linear regression", loss="squared", malsar="Least_CASO",
        suffix="Regressor", common=STRUCTURE_PARAMETERS_DOC, fitted=_FITTED_DOC,
        maker="make_multitask_regression")


class SharedPrivateClassifier(MultitaskClassifierMixin, _SharedPrivateModel):
    __doc__ = _SHARED_PRIVATE_DOC.format(
        kind="Multitask binary logistic regression", loss="logistic",
        malsar="Logistic_CASO", suffix="Classifier", common=STRUCTURE_PARAMETERS_DOC,
        fitted=_CLASSIFIER_FITTED_DOC,
        maker="make_multitask_classification")
