"""Cross-validated twins of the graph models (``alpha`` and ``l1_ratio``).

Each twin is its base estimator (:mod:`mtstats.estimators.graph`) plus the
cross-validation parameters of :class:`~mtstats.estimators._cv.MultitaskCVMixin`;
a list of ``l1_ratio`` values is searched jointly with ``alpha``, one
warm-started path per value and fold, as the group lasso twin does.
"""

from __future__ import annotations

from numbers import Real

from .._sklearn_compat import Interval
from ._cv import MultitaskCVMixin, cv_constraints
from ._cv_docs import cv_doc
from ._param_docs import SHARED_MEAN_DOC
from .graph import GRAPH_PARAMETERS_DOC, GraphClassifier, GraphRegressor, _GraphModel

__all__ = ["GraphClassifierCV", "GraphRegressorCV"]


class _GraphCV(MultitaskCVMixin):
    _path_params = ("l1_ratio",)
    _parameter_constraints = cv_constraints(
        _GraphModel._parameter_constraints,
        l1_ratio=[Interval(Real, 0, 1, closed="both"), "array-like"])

    def __init__(self, *, graph="chain", l1_ratio=0.5, l21_ratio=0.0,
                 positive=False, alphas=100, eps=1e-3, cv=None, scoring=None,
                 n_jobs=None, random_state=None, task_column=None,
                 task_weight=None, fit_intercept=True, intercept_shrinkage=0.0,
                 tol=1e-4, max_iter=5000, warm_start=False, device="cpu"):
        self.graph = graph
        self.l1_ratio = l1_ratio
        self.l21_ratio = l21_ratio
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


_OWN = GRAPH_PARAMETERS_DOC.replace(
    "l1_ratio : float in [0, 1]", "l1_ratio : float or list of float in [0, 1]"
).replace("weighs both equally).", "weighs both equally); a list is searched "
          "jointly with ``alpha``\n        (one grid per value, ``l1_ratio_`` the "
          "best).")

_MEAN_COEF_DOC = """
    mean_coef_ : ndarray of shape (n_features,)
        With ``shared_mean=True``: the unpenalised mean model :math:`w_0`,
        the tasks' mean coefficients."""

_GRAPH = dict(
    penalty=r"\alpha\Big(\rho\,N(W) + \frac{1-\rho}{2}\sum_{(s,t)\in E}"
            r"a_{st}\lVert W_{\cdot s} - W_{\cdot t}\rVert_2^2\Big),"
            "\n        "
            r"\quad N(W) = (1-m)\lVert W\rVert_1 + m\textstyle\sum_j\lVert W_{j\cdot}"
            r"\rVert_2",
    own=_OWN,
    searched="A list of ``l1_ratio`` values is searched too, as by "
             "``MultiTaskElasticNetCV``. ", ratio="l1_ratio",
    grid="``alpha_max``; for ``l1_ratio=0`` (the graph term alone) it is ten "
         "times the loss curvature scale (the largest eigenvalue of the loss "
         "Hessian in the coefficients, at the intercept-only model).",
    fitted_extra="""
    graph_ : ndarray of shape (n_tasks, n_tasks)
        The adjacency used, in the order of ``tasks_``.
    l1_ratio_ : float
        The selected ``l1_ratio``.""")


def _doc(name):
    text = cv_doc(name, **_GRAPH)
    text = text.replace(SHARED_MEAN_DOC + "\n    ", "").replace(_MEAN_COEF_DOC, "")
    return text.replace(f"from mtstats import {name}",
                        f"from mtstats.estimators.cv_graph import {name}")


class GraphRegressorCV(_GraphCV, GraphRegressor):
    __doc__ = _doc("GraphRegressorCV")


class GraphClassifierCV(_GraphCV, GraphClassifier):
    __doc__ = _doc("GraphClassifierCV")
