"""Graph-regularised multitask models: related tasks get similar coefficients.

MALSAR's SRMTL and temporal group lasso (TGL) and RMTL's ``Graph`` model:
a task graph pulls the coefficient vectors of neighbouring tasks together
(a smooth Laplacian term, added to the datafit), and a sparse-group norm
selects features (the non-smooth part, proxed), see
:mod:`mtstats.penalties.graph`.
"""

from __future__ import annotations

from numbers import Real

from .._sklearn_compat import Interval, StrOptions
from .._task_graph import GRAPH_NAMES, resolve_graph
from ..penalties.graph import GraphPenalty
from ._base import COMMON_CONSTRAINTS, COMMON_PARAMETERS_DOC, MultitaskLinearModel
from ._prediction import MultitaskClassifierMixin, MultitaskRegressorMixin
from .structured import _FITTED_DOC

__all__ = ["GraphClassifier", "GraphRegressor"]

GRAPH_CONSTRAINTS = {
    **COMMON_CONSTRAINTS,
    "graph": [StrOptions(set(GRAPH_NAMES)), "array-like"],
    "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    "l21_ratio": [Interval(Real, 0, 1, closed="both")],
    "positive": ["boolean"],
}

GRAPH_PARAMETERS_DOC = ('graph : {"chain", "complete"}, array-like or DataFrame, '
                        'default="chain"') + r"""
        The task graph, weights :math:`a_{st} \ge 0`. ``"chain"``: the tasks
        in the order of ``tasks_`` (sorted labels in the long layout, the
        columns of ``Y`` in the wide one), consecutive tasks joined with
        weight 1, e.g. visits or years (MALSAR's temporal smoothness; one
        task has no edge); ``"complete"``: every pair joined with weight 1
        (shrinkage towards the tasks' mean, Evgeniou & Pontil 2004). An
        array of shape (n_tasks, n_tasks): symmetric, finite, non-negative
        weights in the order of ``tasks_``. A DataFrame: the same, with the
        task labels as index and columns (reordered to ``tasks_``). The
        diagonal is ignored. ``graph_`` holds the adjacency used.
    l1_ratio : float in [0, 1], default=0.5
        :math:`\rho`, the share of the sparse norm in the penalty, the rest
        going to the graph term (scikit-learn's ``ElasticNet`` meaning; 0.5
        weighs both equally). ``l1_ratio=0`` is the graph term alone: no
        ``alpha`` zeroes the coefficients, and the solver stops on the
        gradient-mapping residual (no duality gap).
    l21_ratio : float in [0, 1], default=0.0
        :math:`m`, the share of the row (group) norm in the sparse norm:
        0 is the lasso (SRMTL), 1 the group lasso and values in between the
        sparse group lasso (TGL).
    positive : bool, default=False
        Constrain every coefficient to be non-negative, :math:`W \ge 0`
        (intercepts stay free); the prox clips at zero first, the gap
        certifies the constrained problem, and ``alpha_max`` is that of the
        constrained problem.
    """

_GRAPH_FITTED = (_FITTED_DOC.replace(
    """    mean_coef_ : ndarray of shape (n_features,)
        With ``shared_mean=True``: the unpenalised mean model :math:`w_0`,
        the tasks' mean coefficients.
""", "") + """
    graph_ : ndarray of shape (n_tasks, n_tasks)
        The adjacency used, in the order of ``tasks_`` (symmetric, zero
        diagonal).""")


class _GraphModel(MultitaskLinearModel):
    _parameter_constraints = dict(GRAPH_CONSTRAINTS)

    def __init__(self, alpha=0.01, *, graph="chain", l1_ratio=0.5, l21_ratio=0.0,
                 positive=False, task_column=None, task_weight=None,
                 fit_intercept=True, intercept_shrinkage=0.0, tol=1e-4,
                 max_iter=5000, warm_start=False, device="cpu"):
        self.alpha = alpha
        self.graph = graph
        self.l1_ratio = l1_ratio
        self.l21_ratio = l21_ratio
        self.positive = positive
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.intercept_shrinkage = intercept_shrinkage
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device

    def _make_penalty(self):
        """The penalty, its task graph set later (:meth:`_pooling`)."""
        return GraphPenalty(self.alpha, self.l1_ratio, self.l21_ratio,
                            self.positive)

    def _check_problem(self, problem):
        if self._noise_weighted():
            raise ValueError(
                f"{type(self).__name__} does not support task_weight='noise': the "
                "concomitant noise-scale fit has no place for the graph term. Use "
                "task_weight=None, 'n_samples' or an array.")

    def _pooling(self, penalty, problem):
        """Set the task graph on the penalty (the tasks are known here, at
        every solve, path point and ``alpha_max``), then pool as usual."""
        penalty = penalty.on_graph(resolve_graph(self.graph, problem.tasks),
                                   problem.design.xp, problem.data.X.dtype)
        if problem.intercept_prior is not None and penalty.threshold == 0.0:
            raise ValueError(
                "intercept_shrinkage needs l1_ratio > 0 in the graph models: "
                "with the graph term alone the solver has no duality gap for "
                "the shrunk intercepts. Use intercept_shrinkage=0 or "
                "l1_ratio > 0.")
        return super()._pooling(penalty, problem)

    def _set_solution(self, problem, result, penalty, structure=True):
        self.graph_ = resolve_graph(self.graph, problem.tasks)
        return super()._set_solution(problem, result, penalty, structure)


_GRAPH_DOC = r"""{kind} with a task graph (SRMTL / temporal group lasso).

    Minimises

    .. math::

        \sum_t \frac{{w_t}}{{n_t}} \sum_{{i \in t}} l(x_i^\top W_{{\cdot t}} + b_t,
        y_i) + \alpha\Big(\rho\,N(W) + \frac{{1-\rho}}{{2}}\sum_{{(s,t)\in E}}
        a_{{st}}\lVert W_{{\cdot s}} - W_{{\cdot t}}\rVert_2^2\Big),

    .. math::

        N(W) = (1-m)\sum_{{jt}}|W_{{jt}}| + m\sum_j\lVert W_{{j\cdot}}\rVert_2,

    with {loss} loss, ``rho = l1_ratio``, ``m = l21_ratio``, ``E`` the edges
    of the task graph ``graph`` (each unordered pair once) with weights
    :math:`a_{{st}}`, and, with ``positive=True``, subject to
    :math:`W \ge 0`. The graph term is :math:`\tfrac{{1-\rho}}{{2}}
    \operatorname{{tr}}(W\Lambda W^\top)` with :math:`\Lambda = D - A` the
    graph Laplacian: tasks joined by an edge are pulled towards each other,
    while a model shared by connected tasks is free. With ``m = 0`` this is
    MALSAR's ``{malsar}`` (SRMTL: its :math:`\rho_1 \lVert WR\rVert_F^2 +
    \rho_2\lVert W\rVert_1` with :math:`\rho_1 = \alpha(1-\rho)/2`,
    :math:`\rho_2 = \alpha\rho`, up to the scaling of its summed losses, see
    ``task_weight="n_samples"``) and RMTL's ``Graph`` model with a lasso
    term; on ``graph="chain"`` with ``m = 1`` it is the temporal group
    lasso of Zhou et al. (KDD 2011) without its ridge term, and with
    ``0 < m < 1`` its sparse-group variant.

    The graph term is smooth and joins the data fit's gradient; the sparse
    norm is proxed in closed form (soft thresholding, then row shrinkage),
    and the solver stops on the duality gap of the whole objective.
    ``task_weight="noise"`` is not supported.

    Parameters
    ----------
    alpha : float, default=0.01
        Penalty strength; see :meth:`alpha_max` (which is
        :math:`N^*(\nabla_W) / \rho` at the intercept-only model, the graph
        term having no gradient at ``W = 0``).
    {graph}{common}

    {fitted}

    See Also
    --------
    GroupLasso{suffix} : shared sparsity without a task graph.
    Independent{suffix} : one model per task (the baseline).

    References
    ----------
    .. [1] J. Zhou, J. Chen, J. Ye, "MALSAR: Multi-tAsk Learning via
       StructurAl Regularization", Arizona State University (2011)
       (``Least_SRMTL``, ``Logistic_SRMTL``, ``Least_TGL``).
    .. [2] J. Zhou, L. Yuan, J. Liu, J. Ye, "A multi-task learning
       formulation for predicting disease progression", KDD (2011).
    .. [3] H. Cao, J. Zhou, E. Schwarz, "RMTL: an R library for multi-task
       learning", Bioinformatics 35 (2019).
    .. [4] N. Simon, J. Friedman, T. Hastie, R. Tibshirani, "A sparse-group
       lasso", Journal of Computational and Graphical Statistics 22 (2013).

    Examples
    --------
    >>> import numpy as np
    >>> from mtstats.estimators.graph import Graph{suffix}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 5))
    >>> W = np.outer(rng.standard_normal(5), np.ones(4)) + 0.1 * np.arange(4)
    >>> {example_y}
    >>> est = Graph{suffix}(alpha=0.05, graph="chain").fit(X, Y)
    >>> est.coef_.shape, est.graph_.shape
    ((4, 5), (4, 4))
    """


class GraphRegressor(MultitaskRegressorMixin, _GraphModel):
    __doc__ = _GRAPH_DOC.format(
        kind="Multitask linear regression", loss="squared", malsar="Least_SRMTL",
        suffix="Regressor", graph=GRAPH_PARAMETERS_DOC, common=COMMON_PARAMETERS_DOC,
        fitted=_GRAPH_FITTED,
        example_y="Y = X @ W + rng.standard_normal((60, 4))")


class GraphClassifier(MultitaskClassifierMixin, _GraphModel):
    __doc__ = _GRAPH_DOC.format(
        kind="Multitask binary logistic regression", loss="logistic",
        malsar="Logistic_SRMTL", suffix="Classifier", graph=GRAPH_PARAMETERS_DOC,
        common=COMMON_PARAMETERS_DOC,
        fitted=_GRAPH_FITTED + """
    classes_ : ndarray of shape (2,)
        The two class labels shared by all tasks.""",
        example_y="Y = (X @ W + rng.standard_normal((60, 4)) > 0).astype(int)")
