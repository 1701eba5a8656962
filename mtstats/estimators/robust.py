r"""Robust multitask models: a shared structure plus a column-sparse outlier part.

Most tasks share a structure (a low-dimensional subspace, or a set of
features); a few outlier tasks do not. The outlier part is penalised by the
column group norm :class:`~mtstats.penalties.components.ColumnL21`, so its
non-zero columns name the outlier tasks (``outlier_tasks_``).
"""

from __future__ import annotations

from ..penalties import L21, TraceNorm
from ..penalties.components import ColumnL21
from ._decomposed import SHARED_RATIO_DOC, DecomposedModel
from ._param_docs import COMMON_PARAMETERS_DOC
from ._prediction import MultitaskClassifierMixin, MultitaskRegressorMixin
from .decomposed import _fitted_doc

__all__ = ["RobustGroupLassoClassifier", "RobustGroupLassoRegressor",
           "RobustTraceNormClassifier", "RobustTraceNormRegressor"]


class _RobustModel(DecomposedModel):
    def __init__(self, alpha=0.01, *, shared_ratio=0.55, task_column=None,
                 task_weight=None, fit_intercept=True, intercept_shrinkage=0.0,
                 tol=1e-4, max_iter=5000, warm_start=False, device="cpu"):
        self.alpha = alpha
        self.shared_ratio = shared_ratio
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.intercept_shrinkage = intercept_shrinkage
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device


_OUTLIER_PARTS = """
    outlier_coef_ : ndarray of shape (n_tasks, n_features)
        The column-sparse part: non-zero only for outlier tasks.
    outlier_tasks_ : ndarray
        Labels of the tasks whose outlier part is non-zero."""

_ROBUST_DOC = r"""{kind}: {title}.

    Fits :math:`W = {shared} + S` (``coef_ = {shared_attr} + outlier_coef_``)
    by minimising

    .. math::

        \sum_t \frac{{w_t}}{{n_t}} \sum_{{i \in t}} l(x_i^\top W_{{\cdot t}}
        + b_t, y_i) + \alpha\Big(s\,{shared_norm} + (1 - s)\sum_t \lVert
        S_{{\cdot t}}\rVert_2\Big),

    with {loss} loss. {story} The column group norm on ``S`` sets whole
    columns to zero: the tasks with a non-zero column are the outlier tasks
    (``outlier_tasks_``), which keep their own coefficients instead of
    distorting the shared part. Only ``s`` a little above 1/2 lets both
    parts be used: a task's own direction costs ``s`` times its norm in the
    shared part and ``1 - s`` times it in ``S`` (so ``s <= 1/2`` leaves
    ``S = 0``), while a direction shared by many tasks is cheaper in the
    shared part only while :math:`s/(1-s)` stays below a factor of order
    :math:`\sqrt T`. The ``*CV`` twin searches ``s`` in (0.52, 0.56,
    0.62). MALSAR's ``{malsar}``. Every step proxes the two parts
    separately, in closed form.

    Parameters
    ----------
    {ratio}
    {common}

    {fitted}

    See Also
    --------
    {see_also}

    References
    ----------
    {references}

    Examples
    --------
    >>> import numpy as np
    >>> from mtstats import {name}{suffix}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 5))
    >>> {example_y}
    >>> est = {name}{suffix}(alpha=0.05).fit(X, Y)
    >>> est.outlier_coef_.shape
    (4, 5)
    """

_TRACE = dict(
    name="RobustTraceNorm", title="low rank plus outlier tasks", shared="L",
    shared_attr="low_rank_coef_", shared_norm=r"\lVert L\rVert_*",
    story="The tasks that are not outliers share a low-dimensional subspace "
          "(trace norm on ``L``; Chen, Zhou & Ye, KDD 2011).",
    references=".. [1] J. Chen, J. Zhou, J. Ye, \"Integrating low-rank and "
               "group-sparse structures for robust multi-task learning\", "
               "KDD (2011).")
_TRACE_PARTS = """
    low_rank_coef_ : ndarray of shape (n_tasks, n_features)
        ``L``: the low-rank shared part.""" + _OUTLIER_PARTS

_GROUP = dict(
    name="RobustGroupLasso", title="shared features plus outlier tasks",
    shared="P", shared_attr="shared_features_coef_",
    shared_norm=r"\sum_j \lVert P_{j\cdot}\rVert_2",
    story="The tasks that are not outliers select features jointly (L21 "
          "norm on the rows of ``P``): robust multitask feature learning "
          "(rMTFL; Gong, Ye & Zhang, KDD 2012).",
    references=".. [1] P. Gong, J. Ye, C. Zhang, \"Robust multi-task feature "
               "learning\", KDD (2012).")
_GROUP_PARTS = """
    shared_features_coef_ : ndarray of shape (n_tasks, n_features)
        ``P``: the part with a shared row (feature) support.""" + _OUTLIER_PARTS


def _robust_doc(spec, kind, suffix, malsar, parts, see_also):
    regressor = suffix == "Regressor"
    y = ("Y = X @ np.outer(rng.standard_normal(5), [1.0, 0.5, -1.0, 2.0]) + "
         "rng.standard_normal((80, 4))")
    return _ROBUST_DOC.format(
        kind=kind, suffix=suffix, malsar=malsar,
        loss="squared" if regressor else "logistic",
        ratio=SHARED_RATIO_DOC.format(default="0.55"), common=COMMON_PARAMETERS_DOC,
        fitted=_fitted_doc(suffix, parts), see_also=see_also,
        example_y=y if regressor else f"Y = (({y[4:]}) > 0).astype(int)", **spec)


class _RobustTraceNormModel(_RobustModel):
    _norms = (TraceNorm, ColumnL21)
    _part_names = ("low_rank_coef_", "outlier_coef_")


class RobustTraceNormRegressor(MultitaskRegressorMixin, _RobustTraceNormModel):
    __doc__ = _robust_doc(
        _TRACE, "Multitask linear regression", "Regressor", "Least_RMTL / RMTL's "
        "\"Trace\" with outliers", _TRACE_PARTS,
        "TraceNormRegressor : the low-rank part alone.")


class RobustTraceNormClassifier(MultitaskClassifierMixin, _RobustTraceNormModel):
    __doc__ = _robust_doc(
        _TRACE, "Multitask binary logistic regression", "Classifier",
        "Least_RMTL (least squares only there)", _TRACE_PARTS,
        "TraceNormClassifier : the low-rank part alone.")


class _RobustGroupLassoModel(_RobustModel):
    _norms = (L21, ColumnL21)
    _part_names = ("shared_features_coef_", "outlier_coef_")


class RobustGroupLassoRegressor(MultitaskRegressorMixin, _RobustGroupLassoModel):
    __doc__ = _robust_doc(
        _GROUP, "Multitask linear regression", "Regressor", "Least_rMTFL",
        _GROUP_PARTS, "GroupLassoRegressor : the shared-feature part alone.")


class RobustGroupLassoClassifier(MultitaskClassifierMixin, _RobustGroupLassoModel):
    __doc__ = _robust_doc(
        _GROUP, "Multitask binary logistic regression", "Classifier",
        "Logistic_rMTFL", _GROUP_PARTS,
        "GroupLassoClassifier : the shared-feature part alone.")
