"""Estimators that share structure across tasks: group lasso and trace norm."""

from __future__ import annotations

from numbers import Real

from .._sklearn_compat import Interval
from ..penalties import L21, TraceNorm
from ._base import (
    COMMON_CONSTRAINTS,
    COMMON_PARAMETERS_DOC,
    SHARED_MEAN_CONSTRAINT,
    SHARED_MEAN_DOC,
    MultitaskLinearModel,
)
from ._param_docs import POSITIVE_SHARED_MEAN_DOC
from ._prediction import MultitaskClassifierMixin, MultitaskRegressorMixin

#: Parameter docs of the estimators that take ``shared_mean``.
STRUCTURE_PARAMETERS_DOC = SHARED_MEAN_DOC + "\n    " + COMMON_PARAMETERS_DOC

_FITTED_DOC = """Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients, one row per task.
    intercept_ : ndarray of shape (n_tasks,)
        Per-task intercepts.
    tasks_ : ndarray of shape (n_tasks,)
        Task labels (column names or indices of ``Y`` in the wide layout).
    n_samples_per_task_ : ndarray of shape (n_tasks,)
        Observed samples of every task (those with a positive
        ``sample_weight``; the effective size is their summed weight).
    n_iter_ : int
        FISTA iterations run.
    dual_gap_ : float
        Final (absolute) duality gap; at the level of rounding error
        (about 1e-15 times the objective) it can come out slightly negative.
    objective_ : float
        Final objective value.
    converged_ : bool
        Whether the relative gap fell below ``tol``.
    intercept_shrinkage_ : float
        The intercept shrinkage :math:`\\lambda` used (``"auto"`` resolved;
        0 for unpenalised intercepts).
    mean_coef_ : ndarray of shape (n_features,)
        With ``shared_mean=True``: the unpenalised mean model :math:`w_0`,
        the tasks' mean coefficients.
    task_noise_scale_ : ndarray of shape (n_tasks,)
        With ``task_weight="noise"``: every task's estimated noise scale
        :math:`\\sigma_t` (the residual root mean square, floored).
    n_features_in_ : int
        Number of features (the task column is not counted).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` is a DataFrame."""

_CLASSIFIER_FITTED_DOC = _FITTED_DOC + """
    classes_ : ndarray of shape (2,)
        The two class labels shared by all tasks."""


class _GroupLassoModel(MultitaskLinearModel):
    _parameter_constraints = {
        **COMMON_CONSTRAINTS, **SHARED_MEAN_CONSTRAINT,
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "positive": ["boolean"],
    }

    def __init__(self, alpha=0.01, *, l1_ratio=1.0, positive=False,
                 shared_mean=False, task_column=None, task_weight=None,
                 fit_intercept=True, intercept_shrinkage=0.0, tol=1e-4,
                 max_iter=5000, warm_start=False, device="cpu"):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.positive = positive
        self.shared_mean = shared_mean
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.intercept_shrinkage = intercept_shrinkage
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device

    def _make_penalty(self):
        return L21(self.alpha, self.l1_ratio, positive=self.positive)


_GROUP_LASSO_DOC = r"""{kind} with joint feature selection (L21 / group lasso).

    Minimises

    .. math::

        \sum_t \frac{{w_t}}{{n_t}} \sum_{{i \in t}} l(x_i^\top W_{{\cdot t}} + b_t,
        y_i) + \alpha\Big(\rho \sum_j \lVert W_{{j\cdot}}\rVert_2
        + \frac{{1-\rho}}{{2}} \lVert W\rVert_F^2\Big),

    with {loss} loss, ``rho = l1_ratio`` (and, with ``positive=True``,
    subject to :math:`W \ge 0`): a feature is used by all tasks or
    by none (Obozinski, Taskar & Jordan, Stat. Comput. 2010; Argyriou,
    Evgeniou & Pontil, NIPS 2006; MALSAR's ``{malsar}``). For a fully
    observed shared design and squared loss this is scikit-learn's
    ``MultiTaskLasso`` (``l1_ratio=1``) or ``MultiTaskElasticNet`` objective,
    and ``alpha`` means the same.

    Parameters
    ----------
    alpha : float, default=0.01
        Penalty strength; see :meth:`alpha_max`.
    l1_ratio : float in [0, 1], default=1.0
        Share of the L21 norm in the penalty; the rest is ridge.
    {positive}
    {common}

    {fitted}

    See Also
    --------
    TraceNorm{suffix} : low-rank sharing instead of shared sparsity.
    Independent{suffix} : one model per task (the baseline).

    References
    ----------
    .. [1] G. Obozinski, B. Taskar, M. I. Jordan, "Joint covariate selection
       and joint subspace selection for multiple classification problems",
       Statistics and Computing 20 (2010).
    .. [2] J. Zhou, J. Chen, J. Ye, "MALSAR: Multi-tAsk Learning via
       StructurAl Regularization", Arizona State University (2011).

    Examples
    --------
    >>> import numpy as np
    >>> from mtstats import GroupLasso{suffix}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 5))
    >>> {example_y}
    >>> est = GroupLasso{suffix}(alpha=0.05).fit(X, Y)
    >>> est.coef_.shape
    (3, 5)
    """


class GroupLassoRegressor(MultitaskRegressorMixin, _GroupLassoModel):
    __doc__ = _GROUP_LASSO_DOC.format(
        kind="Multitask linear regression", loss="squared", malsar="Least_L21",
        suffix="Regressor", common=STRUCTURE_PARAMETERS_DOC, fitted=_FITTED_DOC,
        positive=POSITIVE_SHARED_MEAN_DOC,
        example_y="Y = X[:, :2] @ rng.standard_normal((2, 3)) + "
                  "rng.standard_normal((60, 3))")


class GroupLassoClassifier(MultitaskClassifierMixin, _GroupLassoModel):
    __doc__ = _GROUP_LASSO_DOC.format(
        kind="Multitask binary logistic regression", loss="logistic",
        malsar="Logistic_L21", suffix="Classifier", common=STRUCTURE_PARAMETERS_DOC,
        fitted=_CLASSIFIER_FITTED_DOC, positive=POSITIVE_SHARED_MEAN_DOC,
        example_y="Y = (X[:, :2] @ rng.standard_normal((2, 3)) > 0).astype(int)")


class _TraceNormModel(MultitaskLinearModel):
    _parameter_constraints = {**COMMON_CONSTRAINTS, **SHARED_MEAN_CONSTRAINT}

    def __init__(self, alpha=0.01, *, shared_mean=False, task_column=None,
                 task_weight=None, fit_intercept=True, intercept_shrinkage=0.0,
                 tol=1e-4, max_iter=5000, warm_start=False, device="cpu"):
        self.alpha = alpha
        self.shared_mean = shared_mean
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.intercept_shrinkage = intercept_shrinkage
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device

    def _make_penalty(self):
        return TraceNorm(self.alpha)


_TRACE_NORM_DOC = r"""{kind} with low-rank sharing (trace-norm penalty).

    Minimises

    .. math::

        \sum_t \frac{{w_t}}{{n_t}} \sum_{{i \in t}} l(x_i^\top W_{{\cdot t}} + b_t,
        y_i) + \alpha \lVert W\rVert_*,

    with {loss} loss and :math:`\lVert W\rVert_* = \sum_k \sigma_k(W)` the
    nuclear norm: the tasks' coefficient vectors share a low-dimensional
    subspace (Ji & Ye, ICML 2009; Pong et al., SIAM J. Optim. 2010; MALSAR's
    ``{malsar}``). Each FISTA step soft-thresholds the singular values.

    Parameters
    ----------
    alpha : float, default=0.01
        Penalty strength; see :meth:`alpha_max`.
    {common}

    {fitted}

    See Also
    --------
    GroupLasso{suffix} : shared sparsity instead of low rank.
    Independent{suffix} : one model per task (the baseline).

    References
    ----------
    .. [1] S. Ji, J. Ye, "An accelerated gradient method for trace norm
       minimization", ICML (2009).
    .. [2] T. K. Pong, P. Tseng, S. Ji, J. Ye, "Trace norm regularization:
       reformulations, algorithms, and multi-task learning", SIAM Journal on
       Optimization 20 (2010).

    Examples
    --------
    >>> import numpy as np
    >>> from mtstats import TraceNorm{suffix}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 5))
    >>> {example_y}
    >>> est = TraceNorm{suffix}(alpha=0.05).fit(X, Y)
    >>> est.coef_.shape
    (3, 5)
    """


class TraceNormRegressor(MultitaskRegressorMixin, _TraceNormModel):
    __doc__ = _TRACE_NORM_DOC.format(
        kind="Multitask linear regression", loss="squared", malsar="Least_Trace",
        suffix="Regressor", common=STRUCTURE_PARAMETERS_DOC, fitted=_FITTED_DOC,
        example_y="Y = X @ np.outer(rng.standard_normal(5), [1.0, 0.5, -1.0]) + "
                  "rng.standard_normal((60, 3))")


class TraceNormClassifier(MultitaskClassifierMixin, _TraceNormModel):
    __doc__ = _TRACE_NORM_DOC.format(
        kind="Multitask binary logistic regression", loss="logistic",
        malsar="Logistic_Trace", suffix="Classifier", common=STRUCTURE_PARAMETERS_DOC,
        fitted=_CLASSIFIER_FITTED_DOC,
        example_y="Y = (X @ np.outer(rng.standard_normal(5), [1.0, 0.5, -1.0]) > 0)"
                  ".astype(int)")
