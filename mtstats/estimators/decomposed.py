r"""Decomposition models: the dirty model and sparse plus low rank.

Each class states the norms of its parts and the attributes that hold them
(:mod:`mtstats.estimators._decomposed` does the rest); the robust models
live in :mod:`mtstats.estimators.robust`.
"""

from __future__ import annotations

from .._sklearn_compat import StrOptions
from ..penalties import L1, L21, TraceNorm
from ..penalties.components import L1Inf
from ._decomposed import SHARED_RATIO_DOC, DecomposedModel
from ._param_docs import COMMON_PARAMETERS_DOC
from ._prediction import MultitaskClassifierMixin, MultitaskRegressorMixin
from .structured import _CLASSIFIER_FITTED_DOC, _FITTED_DOC

__all__ = ["DirtyClassifier", "DirtyRegressor", "SparseLowRankClassifier",
           "SparseLowRankRegressor"]

def _fitted_doc(kind, parts):
    base = _CLASSIFIER_FITTED_DOC if kind == "Classifier" else _FITTED_DOC
    base = base.split("\n    mean_coef_")[0] + "\n    task_noise_scale_" + \
        base.split("\n    task_noise_scale_")[1]
    return base + parts


class _DirtyModel(DecomposedModel):
    _part_names = ("block_coef_", "sparse_coef_")
    _parameter_constraints = {**DecomposedModel._parameter_constraints,
                              "block_norm": [StrOptions({"linf", "l21"})]}

    def __init__(self, alpha=0.01, *, shared_ratio=0.7, block_norm="linf",
                 task_column=None, task_weight=None, fit_intercept=True,
                 intercept_shrinkage=0.0, tol=1e-4, max_iter=5000,
                 warm_start=False, device="cpu"):
        self.alpha = alpha
        self.shared_ratio = shared_ratio
        self.block_norm = block_norm
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.intercept_shrinkage = intercept_shrinkage
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device

    def _part_norms(self):
        return (L1Inf if self.block_norm == "linf" else L21, L1)


_DIRTY_DOC = r"""{kind}: the dirty model, shared block support plus sparse exceptions.

    Fits :math:`W = P + Q` (``coef_ = block_coef_ + sparse_coef_``) by
    minimising

    .. math::

        \sum_t \frac{{w_t}}{{n_t}} \sum_{{i \in t}} l(x_i^\top(P + Q)_{{\cdot t}}
        + b_t, y_i) + \alpha\big(s\,\Omega(P) + (1 - s)\lVert Q\rVert_1\big),

    with {loss} loss, :math:`\Omega(P) = \sum_j \max_t |P_{{jt}}|` (the
    L1/L-infinity norm of Jalali et al., ``block_norm="linf"``) or
    :math:`\sum_j \lVert P_{{j\cdot}}\rVert_2` (``"l21"``): features that all
    tasks use go into ``P``, task-specific ones into ``Q`` (Jalali,
    Ravikumar, Sanghavi & Ruan, NIPS 2010; MALSAR's ``{malsar}``, RMTL has
    no dirty model). The two parts are both used only for
    :math:`1 < s/(1-s) < T` with ``linf`` (below, ``Q = 0``; above, ``P =
    0``, since :math:`\lVert v\rVert_\infty \le \lVert v\rVert_1 \le
    T\lVert v\rVert_\infty`); the default ``s = 0.7`` puts the ratio at 2.3.
    The prox of each part is closed form (L1/L-infinity through the
    projection on the L1 ball of Duchi et al. 2008).

    Parameters
    ----------
    {ratio}
    block_norm : {{"linf", "l21"}}, default="linf"
        :math:`\Omega`, the row norm of the shared block part.
    {common}

    {fitted}

    See Also
    --------
    GroupLasso{suffix} : the block part alone.
    RobustGroupLasso{suffix} : shared features plus outlier tasks.

    References
    ----------
    .. [1] A. Jalali, P. Ravikumar, S. Sanghavi, C. Ruan, "A dirty model for
       multi-task learning", NIPS (2010).
    .. [2] J. Duchi, S. Shalev-Shwartz, Y. Singer, T. Chandra, "Efficient
       projections onto the l1-ball for learning in high dimensions", ICML
       (2008).

    Examples
    --------
    >>> import numpy as np
    >>> from mtstats import Dirty{suffix}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 6))
    >>> {example_y}
    >>> est = Dirty{suffix}(alpha=0.05).fit(X, Y)
    >>> bool(np.allclose(est.block_coef_ + est.sparse_coef_, est.coef_))
    True
    """

_DIRTY_PARTS = """
    block_coef_ : ndarray of shape (n_tasks, n_features)
        ``P``: the part with a shared row support.
    sparse_coef_ : ndarray of shape (n_tasks, n_features)
        ``Q``: the elementwise sparse, task-specific part."""


class DirtyRegressor(MultitaskRegressorMixin, _DirtyModel):
    __doc__ = _DIRTY_DOC.format(
        kind="Multitask linear regression", loss="squared", malsar="Least_Dirty",
        suffix="Regressor", ratio=SHARED_RATIO_DOC.format(default="0.7"),
        common=COMMON_PARAMETERS_DOC,
        fitted=_fitted_doc("Regressor", _DIRTY_PARTS),
        example_y="Y = X[:, :2] @ rng.standard_normal((2, 3)) + "
                  "0.1 * rng.standard_normal((60, 3))")


class DirtyClassifier(MultitaskClassifierMixin, _DirtyModel):
    __doc__ = _DIRTY_DOC.format(
        kind="Multitask binary logistic regression", loss="logistic",
        malsar="Logistic_Dirty (not in MALSAR 1.1: its Dirty is least squares)",
        suffix="Classifier", ratio=SHARED_RATIO_DOC.format(default="0.7"),
        common=COMMON_PARAMETERS_DOC,
        fitted=_fitted_doc("Classifier", _DIRTY_PARTS),
        example_y="Y = (X[:, :2] @ rng.standard_normal((2, 3)) > 0).astype(int)")


class _SparseLowRankModel(DecomposedModel):
    _norms = (TraceNorm, L1)
    _part_names = ("low_rank_coef_", "sparse_coef_")

    def __init__(self, alpha=0.01, *, shared_ratio=0.6, task_column=None,
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


_SPARSE_LOW_RANK_DOC = r"""{kind}: a low-rank shared part plus a sparse part.

    Fits :math:`W = L + S` (``coef_ = low_rank_coef_ + sparse_coef_``) by
    minimising

    .. math::

        \sum_t \frac{{w_t}}{{n_t}} \sum_{{i \in t}} l(x_i^\top(L + S)_{{\cdot t}}
        + b_t, y_i) + \alpha\big(s\lVert L\rVert_* + (1 - s)\lVert S
        \rVert_1\big),

    with {loss} loss: the tasks share a low-dimensional subspace (trace
    norm) up to sparse, task-specific exceptions: the incoherent sparse and
    low-rank patterns of Chen, Liu & Ye (KDD 2010), MALSAR's ``{malsar}``,
    in penalised rather than constrained form. Each step soft-thresholds
    the singular values of ``L`` and the entries of ``S``.

    Parameters
    ----------
    {ratio}
    {common}

    {fitted}

    See Also
    --------
    TraceNorm{suffix} : the low-rank part alone.
    RobustTraceNorm{suffix} : low rank plus outlier tasks.

    References
    ----------
    .. [1] J. Chen, J. Liu, J. Ye, "Learning incoherent sparse and low-rank
       patterns from multiple tasks", KDD (2010).

    Examples
    --------
    >>> import numpy as np
    >>> from mtstats import SparseLowRank{suffix}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 5))
    >>> {example_y}
    >>> est = SparseLowRank{suffix}(alpha=0.05).fit(X, Y)
    >>> est.low_rank_coef_.shape
    (3, 5)
    """

_SPARSE_LOW_RANK_PARTS = """
    low_rank_coef_ : ndarray of shape (n_tasks, n_features)
        ``L``: the low-rank part.
    sparse_coef_ : ndarray of shape (n_tasks, n_features)
        ``S``: the sparse part."""


class SparseLowRankRegressor(MultitaskRegressorMixin, _SparseLowRankModel):
    __doc__ = _SPARSE_LOW_RANK_DOC.format(
        kind="Multitask linear regression", loss="squared",
        malsar="Least_SparseTrace", suffix="Regressor",
        ratio=SHARED_RATIO_DOC.format(default="0.6"), common=COMMON_PARAMETERS_DOC,
        fitted=_fitted_doc("Regressor", _SPARSE_LOW_RANK_PARTS),
        example_y="Y = X @ np.outer(rng.standard_normal(5), [1.0, 0.5, -1.0]) + "
                  "rng.standard_normal((60, 3))")


class SparseLowRankClassifier(MultitaskClassifierMixin, _SparseLowRankModel):
    __doc__ = _SPARSE_LOW_RANK_DOC.format(
        kind="Multitask binary logistic regression", loss="logistic",
        malsar="Least_SparseTrace (least squares only there)", suffix="Classifier",
        ratio=SHARED_RATIO_DOC.format(default="0.6"), common=COMMON_PARAMETERS_DOC,
        fitted=_fitted_doc("Classifier", _SPARSE_LOW_RANK_PARTS),
        example_y="Y = (X @ np.outer(rng.standard_normal(5), [1.0, 0.5, -1.0]) > 0)"
                  ".astype(int)")
