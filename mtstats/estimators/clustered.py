"""Convex clustered multitask learning: tasks grouped into ``n_clusters``."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.cluster import KMeans

from .._backend import to_numpy
from .._sklearn_compat import Interval
from ..penalties import ClusterNorm
from ._base import COMMON_CONSTRAINTS, COMMON_PARAMETERS_DOC, MultitaskLinearModel
from ._prediction import MultitaskClassifierMixin, MultitaskRegressorMixin
from .structured import _CLASSIFIER_FITTED_DOC, _FITTED_DOC


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
        "beta": [Interval(Real, 0, None, closed="neither")],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_clusters=2, *, alpha=0.01, beta=0.01, random_state=None,
                 task_column=None, task_weight=None, fit_intercept=True, tol=1e-4,
                 max_iter=5000, warm_start=False, device="cpu"):
        self.n_clusters = n_clusters
        self.alpha = alpha
        self.beta = beta
        self.random_state = random_state
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device

    def _make_penalty(self):
        return ClusterNorm(self.alpha, self.beta, self.n_clusters)

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
        y_i) + \rho_1\eta(1+\eta) \min_{{M}}
        \operatorname{{tr}}\big(W(\eta I + M)^{{-1}}W^\top\big),

    over symmetric ``M`` with :math:`0 \preceq M \preceq I`,
    :math:`\operatorname{{tr}} M = k`, :math:`\eta = \rho_2/\rho_1`, with
    {loss} loss: the convex relaxation of k-means clustering of the task
    coefficient vectors (Jacob, Bach & Vert, 2008; Zhou, Chen & Ye, 2011;
    MALSAR's ``{malsar}``). The problem is jointly convex in ``(W, M)``; the
    minimum over ``M`` has a closed form in the singular values of ``W``
    (:class:`mtstats.penalties.ClusterNorm`), so FISTA runs on ``W`` alone,
    each step a thin SVD and a water-filling, and stops on an exact duality
    gap.

    Parameters
    ----------
    n_clusters : int, default=2
        ``k``, the number of task clusters (the trace of ``M``).
    alpha : float, default=0.01
        ``rho1``, the clustering strength (> 0).
    beta : float, default=0.01
        ``rho2``, the ridge-like strength that keeps tasks near their
        cluster (> 0).
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
    >>> est = Clustered{suffix}(2, alpha=0.1, beta=0.1, task_column=-1,
    ...                         random_state=0).fit(X, y)
    >>> est.task_similarity_.shape
    (6, 6)
    """


class ClusteredRegressor(MultitaskRegressorMixin, _ClusteredModel):
    __doc__ = _CLUSTERED_DOC.format(
        kind="Multitask linear regression", loss="squared", malsar="Least_CMTL",
        suffix="Regressor", common=COMMON_PARAMETERS_DOC, fitted=_FITTED_DOC,
        maker="make_multitask_regression")


class ClusteredClassifier(MultitaskClassifierMixin, _ClusteredModel):
    __doc__ = _CLUSTERED_DOC.format(
        kind="Multitask binary logistic regression", loss="logistic",
        malsar="Logistic_CMTL", suffix="Classifier", common=COMMON_PARAMETERS_DOC,
        fitted=_CLASSIFIER_FITTED_DOC,
        maker="make_multitask_classification")
