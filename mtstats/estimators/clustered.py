"""Convex clustered multitask learning: tasks grouped into ``n_clusters``."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.cluster import KMeans

from .._backend import to_numpy
from .._sklearn_compat import Interval
from ..penalties import ClusterNorm
from ._base import COMMON_CONSTRAINTS, SHARED_MEAN_CONSTRAINT, MultitaskLinearModel
from ._prediction import MultitaskClassifierMixin, MultitaskRegressorMixin
from .structured import _CLASSIFIER_FITTED_DOC, _FITTED_DOC, STRUCTURE_PARAMETERS_DOC


def cluster_strengths(alpha, ratio, name="ridge_ratio"):
    r"""MALSAR's ``(rho1, rho2)`` of an overall strength and a ridge share.

    :math:`\rho_1 = \alpha(1 - r)`, :math:`\rho_2 = \alpha r`, so that
    :class:`~mtstats.penalties.ClusterNorm` ``(rho1, rho2, k)`` is
    :math:`\alpha\eta\min_M \operatorname{tr}(W(\eta I+M)^{-1}W^\top)`
    with :math:`\eta = r/(1-r)`: linear in ``alpha`` at a fixed ``r``.
    """
    if not 0 < ratio < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1; got {ratio!r}.")
    return alpha * (1 - ratio), alpha * ratio


def cluster_tasks(similarity, n_clusters, random_state):
    """Spectral clustering of tasks from the learned ``M``.

    The rows of the top ``n_clusters`` eigenvectors of ``M`` (normalised to
    unit length, Ng, Jordan & Weiss 2002) are grouped by k-means.
    """
    _, vectors = np.linalg.eigh(similarity)
    embedding = vectors[:, ::-1][:, :n_clusters]
    norms = np.linalg.norm(embedding, axis=1, keepdims=True)
    embedding = embedding / np.where(norms > 0, norms, 1.0)
    kmeans = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state)
    return kmeans.fit_predict(embedding)


class _ClusteredModel(MultitaskLinearModel):
    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "ridge_ratio": [Interval(Real, 0, 1, closed="neither")],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        **SHARED_MEAN_CONSTRAINT,
    }

    def __init__(self, n_clusters=2, *, alpha=0.02, ridge_ratio=0.5,
                 random_state=None, task_column=None, task_weight=None,
                 fit_intercept=True, intercept_shrinkage=0.0, shared_mean=False,
                 tol=1e-4, max_iter=5000, warm_start=False, device="cpu"):
        self.n_clusters = n_clusters
        self.alpha = alpha
        self.ridge_ratio = ridge_ratio
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

    def _make_penalty(self):
        rho1, rho2 = cluster_strengths(self.alpha, self.ridge_ratio)
        return ClusterNorm(rho1, rho2, self.n_clusters)

    def _check_problem(self, problem):
        if self.n_clusters > problem.design.n_tasks:
            raise ValueError(f"n_clusters={self.n_clusters} exceeds the number of "
                             f"tasks ({problem.design.n_tasks}).")

    def _store_structure(self, result, penalty):
        W = to_numpy(result.W).astype(np.float64)
        self.task_similarity_ = penalty.similarity(W)
        if self.n_clusters == 1:
            self.task_clusters_ = np.zeros(W.shape[1], dtype=np.int64)
        else:
            self.task_clusters_ = cluster_tasks(self.task_similarity_,
                                                self.n_clusters, self.random_state)


_CLUSTERED_DOC = r"""{kind} with convex task clustering (clustered MTL).

    Minimises over ``W`` (and, implicitly, the task-similarity matrix ``M``)

    .. math::

        \sum_t \frac{{w_t}}{{n_t}} \sum_{{i \in t}} l(x_i^\top W_{{\cdot t}} + b_t,
        y_i) + \alpha\,\eta \min_{{M}}
        \operatorname{{tr}}\big(W(\eta I + M)^{{-1}}W^\top\big),
        \qquad \eta = \frac{{r}}{{1 - r}},

    over symmetric ``M`` with :math:`0 \preceq M \preceq I`,
    :math:`\operatorname{{tr}} M = k`, with {loss} loss and
    ``r = ridge_ratio``: the convex relaxation of k-means clustering of the
    task coefficient vectors (Jacob, Bach & Vert, 2008; Zhou, Chen & Ye,
    2011; MALSAR's ``{malsar}``). For a hard clustering (``M`` the projector
    on the cluster indicators) the penalty is

    .. math::

        \alpha\Big((1 - r) \sum_t \lVert w_t - \bar w_{{c(t)}}\rVert_2^2
        + r \lVert W\rVert_F^2\Big),

    the spread of the tasks around their cluster centres plus a ridge. In
    MALSAR's parameters :math:`\rho_1 = \alpha(1-r)` (clustering) and
    :math:`\rho_2 = \alpha r` (ridge), :math:`\eta = \rho_2/\rho_1`; at a
    fixed ``r`` the penalty is linear in ``alpha``, the overall strength
    (as with the group lasso's ``l1_ratio``). The problem is jointly convex
    in ``(W, M)``; the minimum over ``M`` has a closed form in the singular
    values of ``W`` (:class:`mtstats.penalties.ClusterNorm`), so FISTA runs
    on ``W`` alone, each step a thin SVD and a water-filling, and stops on
    an exact duality gap.

    Parameters
    ----------
    n_clusters : int, default=2
        ``k``, the number of task clusters (the trace of ``M``).
    alpha : float, default=0.02
        Overall strength of the penalty (> 0), which it scales linearly.
    ridge_ratio : float in (0, 1), default=0.5
        ``r``, the share of the ridge term. Near 0 the penalty is the
        clustering term alone (cluster centres barely shrunk); near 1 it is a
        plain ridge :math:`\alpha\lVert W\rVert_F^2` that ignores the
        clusters.
    random_state : int, RandomState or None, default=None
        Seed of the k-means step that turns ``M`` into ``task_clusters_``.
    {common}

    {fitted}
    task_similarity_ : ndarray of shape (n_tasks, n_tasks)
        The optimal ``M``: large entries join tasks of one cluster.
    task_clusters_ : ndarray of shape (n_tasks,)
        Cluster labels from spectral clustering of ``M``.

    See Also
    --------
    SharedPrivate{suffix} : shared subspace or shared mean model.

    References
    ----------
    .. [1] L. Jacob, F. Bach, J.-P. Vert, "Clustered multi-task learning: a
       convex formulation", NIPS (2008).
    .. [2] J. Zhou, J. Chen, J. Ye, "Clustered multi-task learning via
       alternating structure optimization", NIPS (2011).

    Examples
    --------
    >>> from mtstats import Clustered{suffix}
    >>> from mtstats.datasets import {maker}
    >>> X, y, truth = {maker}(n_tasks=6, n_features=5,
    ...     structure="clustered", n_clusters=2, random_state=0)
    >>> est = Clustered{suffix}(2, alpha=0.2, ridge_ratio=0.5, task_column=-1,
    ...                         random_state=0).fit(X, y)
    >>> est.task_similarity_.shape
    (6, 6)
    """


class ClusteredRegressor(MultitaskRegressorMixin, _ClusteredModel):
    __doc__ = _CLUSTERED_DOC.format(
        kind="Multitask linear regression", loss="squared", malsar="Least_CMTL",
        suffix="Regressor", common=STRUCTURE_PARAMETERS_DOC, fitted=_FITTED_DOC,
        maker="make_multitask_regression")


class ClusteredClassifier(MultitaskClassifierMixin, _ClusteredModel):
    __doc__ = _CLUSTERED_DOC.format(
        kind="Multitask binary logistic regression", loss="logistic",
        malsar="Logistic_CMTL", suffix="Classifier", common=STRUCTURE_PARAMETERS_DOC,
        fitted=_CLASSIFIER_FITTED_DOC,
        maker="make_multitask_classification")
