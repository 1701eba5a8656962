"""Cross-validated twins of the twelve estimators (``alpha`` chosen by CV).

Each twin is its base estimator plus the cross-validation parameters
(``alphas``, ``eps``, ``cv``, ``scoring``, ``n_jobs``, ``random_state``);
the machinery is :class:`~mtstats.estimators._cv.MultitaskCVMixin`. The
group lasso, clustered and shared/private twins also search their ratio
(``l1_ratio``, ``ridge_ratio``, ``shared_ratio``) jointly with ``alpha``.
"""

from __future__ import annotations

from numbers import Real

from .._sklearn_compat import Interval
from ._cv import MultitaskCVMixin, cv_constraints
from ._cv_docs import (
    BASELINE,
    CLUSTERED,
    GROUP_LASSO,
    RIDGE_RATIOS,
    SHARED_PRIVATE,
    SHARED_RATIOS,
    TRACE_NORM,
    cv_doc,
)
from .baselines import (
    IndependentClassifier,
    IndependentRegressor,
    PooledClassifier,
    PooledRegressor,
    _BaselineModel,
    _IndependentModel,
)
from .clustered import ClusteredClassifier, ClusteredRegressor, _ClusteredModel
from .shared_private import (
    SharedPrivateClassifier,
    SharedPrivateRegressor,
    _SharedPrivateModel,
)
from .structured import (
    GroupLassoClassifier,
    GroupLassoRegressor,
    TraceNormClassifier,
    TraceNormRegressor,
    _GroupLassoModel,
    _TraceNormModel,
)

__all__ = [
    "ClusteredClassifierCV", "ClusteredRegressorCV", "GroupLassoClassifierCV",
    "GroupLassoRegressorCV", "IndependentClassifierCV", "IndependentRegressorCV",
    "PooledClassifierCV", "PooledRegressorCV", "SharedPrivateClassifierCV",
    "SharedPrivateRegressorCV", "TraceNormClassifierCV", "TraceNormRegressorCV",
]


class _GroupLassoCV(MultitaskCVMixin):
    _path_params = ("l1_ratio",)
    _parameter_constraints = cv_constraints(
        _GroupLassoModel._parameter_constraints,
        l1_ratio=[Interval(Real, 0, 1, closed="both"), "array-like"])

    def __init__(self, *, l1_ratio=1.0, positive=False, alphas=100, eps=1e-3,
                 cv=None, scoring=None, n_jobs=None, random_state=None,
                 task_column=None, task_weight=None, fit_intercept=True,
                 intercept_shrinkage=0.0, shared_mean=False, tol=1e-4,
                 max_iter=5000, warm_start=False, device="cpu"):
        self.l1_ratio = l1_ratio
        self.positive = positive
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.intercept_shrinkage = intercept_shrinkage
        self.shared_mean = shared_mean
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device


class GroupLassoRegressorCV(_GroupLassoCV, GroupLassoRegressor):
    __doc__ = cv_doc("GroupLassoRegressorCV", **GROUP_LASSO)


class GroupLassoClassifierCV(_GroupLassoCV, GroupLassoClassifier):
    __doc__ = cv_doc("GroupLassoClassifierCV", **GROUP_LASSO)


class _TraceNormCV(MultitaskCVMixin):
    _parameter_constraints = cv_constraints(_TraceNormModel._parameter_constraints)

    def __init__(self, *, alphas=100, eps=1e-3, cv=None, scoring=None,
                 n_jobs=None, random_state=None, task_column=None,
                 task_weight=None, fit_intercept=True, intercept_shrinkage=0.0,
                 shared_mean=False, tol=1e-4, max_iter=5000,
                 warm_start=False, device="cpu"):
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.intercept_shrinkage = intercept_shrinkage
        self.shared_mean = shared_mean
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device


class TraceNormRegressorCV(_TraceNormCV, TraceNormRegressor):
    __doc__ = cv_doc("TraceNormRegressorCV", **TRACE_NORM)


class TraceNormClassifierCV(_TraceNormCV, TraceNormClassifier):
    __doc__ = cv_doc("TraceNormClassifierCV", **TRACE_NORM)


class _BaselineCV(MultitaskCVMixin):
    _parameter_constraints = cv_constraints(_BaselineModel._parameter_constraints)

    def __init__(self, *, penalty="l2", positive=False, alphas=100, eps=1e-3,
                 cv=None, scoring=None, n_jobs=None, random_state=None,
                 task_column=None, task_weight=None, fit_intercept=True,
                 intercept_shrinkage=0.0, tol=1e-4, max_iter=5000,
                 warm_start=False, device="cpu"):
        self.penalty = penalty
        self.positive = positive
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.intercept_shrinkage = intercept_shrinkage
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device


class _IndependentCV(_BaselineCV):
    _parameter_constraints = cv_constraints(_IndependentModel._parameter_constraints)

    def __init__(self, *, penalty="l2", positive=False, shared_mean=False,
                 alphas=100, eps=1e-3, cv=None, scoring=None, n_jobs=None,
                 random_state=None, task_column=None, task_weight=None,
                 fit_intercept=True, intercept_shrinkage=0.0, tol=1e-4,
                 max_iter=5000, warm_start=False, device="cpu"):
        super().__init__(penalty=penalty, positive=positive, alphas=alphas,
                         eps=eps, cv=cv,
                         scoring=scoring, n_jobs=n_jobs, random_state=random_state,
                         task_column=task_column, task_weight=task_weight,
                         fit_intercept=fit_intercept,
                         intercept_shrinkage=intercept_shrinkage, tol=tol,
                         max_iter=max_iter, warm_start=warm_start, device=device)
        self.shared_mean = shared_mean


class IndependentRegressorCV(_IndependentCV, IndependentRegressor):
    __doc__ = cv_doc("IndependentRegressorCV", **BASELINE)


class IndependentClassifierCV(_IndependentCV, IndependentClassifier):
    __doc__ = cv_doc("IndependentClassifierCV", **BASELINE)


class PooledRegressorCV(_BaselineCV, PooledRegressor):
    __doc__ = cv_doc("PooledRegressorCV", **BASELINE)


class PooledClassifierCV(_BaselineCV, PooledClassifier):
    __doc__ = cv_doc("PooledClassifierCV", **BASELINE)


class _ClusteredCV(MultitaskCVMixin):
    _path_params = ("ridge_ratio",)
    _parameter_constraints = cv_constraints(
        _ClusteredModel._parameter_constraints,
        ridge_ratio=[Interval(Real, 0, 1, closed="neither"), "array-like"])

    def __init__(self, n_clusters=2, *, ridge_ratio=RIDGE_RATIOS, alphas=100,
                 eps=1e-3, cv=None, scoring=None, n_jobs=None, random_state=None,
                 task_column=None, task_weight=None, fit_intercept=True,
                 intercept_shrinkage=0.0, shared_mean=False, tol=1e-4,
                 max_iter=5000, warm_start=False, device="cpu"):
        self.n_clusters = n_clusters
        self.ridge_ratio = ridge_ratio
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.intercept_shrinkage = intercept_shrinkage
        self.shared_mean = shared_mean
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device


class ClusteredRegressorCV(_ClusteredCV, ClusteredRegressor):
    __doc__ = cv_doc("ClusteredRegressorCV", **CLUSTERED)


class ClusteredClassifierCV(_ClusteredCV, ClusteredClassifier):
    __doc__ = cv_doc("ClusteredClassifierCV", **CLUSTERED)


class _SharedPrivateCV(MultitaskCVMixin):
    _path_params = ("shared_ratio",)
    _parameter_constraints = cv_constraints(
        _SharedPrivateModel._parameter_constraints,
        shared_ratio=[Interval(Real, 0, 1, closed="left"), "array-like"])

    def __init__(self, kind="subspace", *, n_components=1,
                 shared_ratio=SHARED_RATIOS, shared_penalty="l2", solver="convex",
                 max_outer_iter=50, unseen_task="shared", alphas=100, eps=1e-3,
                 cv=None, scoring=None, n_jobs=None, random_state=None,
                 task_column=None, task_weight=None, fit_intercept=True,
                 intercept_shrinkage=0.0, shared_mean=False, tol=1e-4,
                 max_iter=5000, warm_start=False, device="cpu"):
        self.kind = kind
        self.n_components = n_components
        self.shared_ratio = shared_ratio
        self.shared_penalty = shared_penalty
        self.solver = solver
        self.max_outer_iter = max_outer_iter
        self.unseen_task = unseen_task
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.intercept_shrinkage = intercept_shrinkage
        self.shared_mean = shared_mean
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device


class SharedPrivateRegressorCV(_SharedPrivateCV, SharedPrivateRegressor):
    __doc__ = cv_doc("SharedPrivateRegressorCV", **SHARED_PRIVATE)


class SharedPrivateClassifierCV(_SharedPrivateCV, SharedPrivateClassifier):
    __doc__ = cv_doc("SharedPrivateClassifierCV", **SHARED_PRIVATE)
