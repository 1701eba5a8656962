"""Cross-validated twins of the decomposition models (``alpha`` and ``shared_ratio``).

Each twin is its base estimator plus the cross-validation parameters of
:class:`~mtstats.estimators._cv.MultitaskCVMixin`; a sequence of
``shared_ratio`` values is searched jointly with ``alpha``, one
warm-started path per value and fold.
"""

from __future__ import annotations

from numbers import Real

from .._sklearn_compat import Interval, StrOptions
from ._cv import MultitaskCVMixin, cv_constraints
from ._cv_docs import cv_doc
from ._decomposed import DecomposedModel
from ._param_docs import SHARED_MEAN_DOC
from .decomposed import (
    DirtyClassifier,
    DirtyRegressor,
    SparseLowRankClassifier,
    SparseLowRankRegressor,
)
from .robust import (
    RobustGroupLassoClassifier,
    RobustGroupLassoRegressor,
    RobustTraceNormClassifier,
    RobustTraceNormRegressor,
)

__all__ = ["DirtyClassifierCV", "DirtyRegressorCV", "RobustGroupLassoClassifierCV",
           "RobustGroupLassoRegressorCV", "RobustTraceNormClassifierCV",
           "RobustTraceNormRegressorCV", "SparseLowRankClassifierCV",
           "SparseLowRankRegressorCV"]

#: Default ``shared_ratio`` candidates, by model. Both parts are used only
#: for ``eta = s / (1 - s)`` in a window above 1 (at ``s <= 0.5`` a single
#: task's own deviation costs no less in the sparse or outlier part than in
#: the shared one): up to ``T`` for the dirty model with L1/L-infinity, of
#: order ``sqrt(d T)`` for sparse + low rank, of order ``sqrt(T)`` for the
#: robust models (where it is narrow: on 8 tasks rMTFL's closes near
#: ``s = 0.58``). The candidates sit in those windows (eta 1.5, 3, 5.7 and
#: 1.1, 1.3, 1.6).
DECOMPOSITION_RATIOS = (0.6, 0.75, 0.85)
ROBUST_RATIOS = (0.52, 0.56, 0.62)

_RATIO_DOC = """shared_ratio : float or sequence of float in (0, 1), default={default}
        ``s``, the share of ``alpha`` on the shared part (see the base
        estimator). A sequence is searched jointly with ``alpha`` (one path
        per value and fold, ``shared_ratio_`` the best).
    """


class _DecomposedCV(MultitaskCVMixin):
    _path_params = ("shared_ratio",)
    _parameter_constraints = cv_constraints(
        DecomposedModel._parameter_constraints,
        shared_ratio=[Interval(Real, 0, 1, closed="neither"), "array-like"])

    def __init__(self, *, shared_ratio=DECOMPOSITION_RATIOS, alphas=100, eps=1e-3,
                 cv=None, scoring=None, n_jobs=None, random_state=None,
                 task_column=None, task_weight=None, fit_intercept=True,
                 intercept_shrinkage=0.0, tol=1e-4, max_iter=5000,
                 warm_start=False, device="cpu"):
        self.shared_ratio = shared_ratio
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


class _DirtyCV(_DecomposedCV):
    _parameter_constraints = {**_DecomposedCV._parameter_constraints,
                              "block_norm": [StrOptions({"linf", "l21"})]}

    def __init__(self, *, shared_ratio=DECOMPOSITION_RATIOS, block_norm="linf",
                 alphas=100, eps=1e-3, cv=None, scoring=None, n_jobs=None,
                 random_state=None, task_column=None, task_weight=None,
                 fit_intercept=True, intercept_shrinkage=0.0, tol=1e-4,
                 max_iter=5000, warm_start=False, device="cpu"):
        super().__init__(
            shared_ratio=shared_ratio, alphas=alphas, eps=eps, cv=cv,
            scoring=scoring, n_jobs=n_jobs, random_state=random_state,
            task_column=task_column, task_weight=task_weight,
            fit_intercept=fit_intercept, intercept_shrinkage=intercept_shrinkage,
            tol=tol, max_iter=max_iter, warm_start=warm_start, device=device)
        self.block_norm = block_norm


class _RobustCV(_DecomposedCV):
    def __init__(self, *, shared_ratio=ROBUST_RATIOS, alphas=100, eps=1e-3,
                 cv=None, scoring=None, n_jobs=None, random_state=None,
                 task_column=None, task_weight=None, fit_intercept=True,
                 intercept_shrinkage=0.0, tol=1e-4, max_iter=5000,
                 warm_start=False, device="cpu"):
        super().__init__(
            shared_ratio=shared_ratio, alphas=alphas, eps=eps, cv=cv,
            scoring=scoring, n_jobs=n_jobs, random_state=random_state,
            task_column=task_column, task_weight=task_weight,
            fit_intercept=fit_intercept, intercept_shrinkage=intercept_shrinkage,
            tol=tol, max_iter=max_iter, warm_start=warm_start, device=device)


def _doc(name, penalty, parts, own="", ratios=DECOMPOSITION_RATIOS):
    text = cv_doc(
        name, penalty=penalty, own=_RATIO_DOC.format(default=str(ratios)) + own,
        searched="A sequence of ``shared_ratio`` values is searched too, as "
                 "``l1_ratio`` by ``MultiTaskElasticNetCV``. ",
        ratio="shared_ratio", example_shapes="((3, 8), (3, 8, 3))",
        fitted_extra=parts + """
    shared_ratio_ : float
        The selected ``shared_ratio``.""")
    return text.replace(SHARED_MEAN_DOC + "\n    ", "")


_DIRTY = dict(penalty=r"\alpha\big(s\,\Omega(P) + (1-s)\lVert Q\rVert_1\big),"
                      r"\quad W = P + Q",
              parts="""
    block_coef_, sparse_coef_ : ndarray of shape (n_tasks, n_features)
        The two parts at ``alpha_``.""",
              own="""block_norm : {"linf", "l21"}, default="linf"
        The row norm of the block part.
    """)
_SPARSE_LOW_RANK = dict(
    penalty=r"\alpha\big(s\lVert L\rVert_* + (1-s)\lVert S\rVert_1\big),"
            r"\quad W = L + S",
    parts="""
    low_rank_coef_, sparse_coef_ : ndarray of shape (n_tasks, n_features)
        The two parts at ``alpha_``.""")
_OUTLIERS = """
    outlier_coef_ : ndarray of shape (n_tasks, n_features)
        The column-sparse part at ``alpha_``.
    outlier_tasks_ : ndarray
        Tasks whose outlier part is non-zero."""
_ROBUST_TRACE = dict(
    penalty=r"\alpha\big(s\lVert L\rVert_* + (1-s)\textstyle\sum_t"
            r"\lVert S_{\cdot t}\rVert_2\big),\quad W = L + S",
    parts="""
    low_rank_coef_ : ndarray of shape (n_tasks, n_features)
        The low-rank part at ``alpha_``.""" + _OUTLIERS)
_ROBUST_GROUP = dict(
    penalty=r"\alpha\big(s\textstyle\sum_j\lVert P_{j\cdot}\rVert_2 + (1-s)"
            r"\sum_t\lVert S_{\cdot t}\rVert_2\big),\quad W = P + S",
    parts="""
    shared_features_coef_ : ndarray of shape (n_tasks, n_features)
        The shared-feature part at ``alpha_``.""" + _OUTLIERS)


class DirtyRegressorCV(_DirtyCV, DirtyRegressor):
    __doc__ = _doc("DirtyRegressorCV", **_DIRTY)


class DirtyClassifierCV(_DirtyCV, DirtyClassifier):
    __doc__ = _doc("DirtyClassifierCV", **_DIRTY)


class SparseLowRankRegressorCV(_DecomposedCV, SparseLowRankRegressor):
    __doc__ = _doc("SparseLowRankRegressorCV", **_SPARSE_LOW_RANK)


class SparseLowRankClassifierCV(_DecomposedCV, SparseLowRankClassifier):
    __doc__ = _doc("SparseLowRankClassifierCV", **_SPARSE_LOW_RANK)


class RobustTraceNormRegressorCV(_RobustCV, RobustTraceNormRegressor):
    __doc__ = _doc("RobustTraceNormRegressorCV", **_ROBUST_TRACE, ratios=ROBUST_RATIOS)


class RobustTraceNormClassifierCV(_RobustCV, RobustTraceNormClassifier):
    __doc__ = _doc("RobustTraceNormClassifierCV", **_ROBUST_TRACE, ratios=ROBUST_RATIOS)


class RobustGroupLassoRegressorCV(_RobustCV, RobustGroupLassoRegressor):
    __doc__ = _doc("RobustGroupLassoRegressorCV", **_ROBUST_GROUP, ratios=ROBUST_RATIOS)


class RobustGroupLassoClassifierCV(_RobustCV, RobustGroupLassoClassifier):
    __doc__ = _doc("RobustGroupLassoClassifierCV", **_ROBUST_GROUP,
                   ratios=ROBUST_RATIOS)
