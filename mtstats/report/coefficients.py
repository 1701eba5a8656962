r"""Which coefficients matter, per task: tests and intervals after selection.

Penalised fits select (a support, a rank, task clusters) from the same data a
naive refit would test on, which makes naive p-values anti-conservative (Leeb
& Poetscher 2005). Every method here separates the two steps by sample
splitting: structure from half A of every task's rows, classical statsmodels
inference on half B, aggregated over many random splits. Without selection
(ridge-type penalties) the classical per-task fit is already valid.
"""

from __future__ import annotations

from dataclasses import fields
from numbers import Integral, Real

from sklearn.base import clone
from sklearn.utils import check_random_state

from ..estimators.baselines import _BaselineModel
from ..estimators.clustered import _ClusteredModel
from ..estimators.shared_private import _SharedPrivateModel
from ..estimators.structured import _TraceNormModel
from ._aggregation import COLUMNS, EB_COLUMNS, shrinkage_note, tidy_table
from ._coefficient_result import CoefficientResult
from ._multisplit import Blocks, run_split
from ._multisplit import describe as _describe
from ._parallel import parallel_map

__all__ = ["COLUMNS", "EB_COLUMNS", "CoefficientResult", "coefficient_tests",
           "refit_on_split"]

METHODS = ("auto", "multisplit", "subspace_split", "cluster_split", "task_refit")


def _default_method(estimator):
    if isinstance(estimator, _TraceNormModel):
        return "subspace_split"
    if isinstance(estimator, _ClusteredModel):
        return "cluster_split"
    if isinstance(estimator, _SharedPrivateModel):
        return "subspace_split" if estimator.kind == "subspace" else "task_refit"
    if isinstance(estimator, _BaselineModel) and estimator.penalty == "l2":
        return "task_refit"
    return "multisplit"  # group lasso, l1 baselines, anything else with coef_


def _check(estimator, method, n_splits, fraction, confidence_level):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    if not isinstance(n_splits, Integral) or n_splits < 1:
        raise ValueError(f"n_splits must be a positive integer; got {n_splits!r}.")
    for name, value in [("fraction", fraction), ("confidence_level", confidence_level)]:
        if not isinstance(value, Real) or not 0 < value < 1:
            raise ValueError(f"{name} must be in (0, 1); got {value!r}.")
    method = _default_method(estimator) if method == "auto" else method
    if method == "cluster_split" and not isinstance(estimator, _ClusteredModel):
        raise ValueError("method='cluster_split' needs a Clustered* estimator "
                         f"(task_clusters_); got {type(estimator).__name__}.")
    return method


def _setup(estimator, X, y, method, n_splits, fraction, confidence_level):
    method = _check(estimator, method, n_splits, fraction, confidence_level)
    full = clone(estimator).fit(X, y)
    return method, full, Blocks.from_fit(full, X, y)


def _seeds(random_state, n_splits):
    return check_random_state(random_state).randint(0, 2**31 - 1, size=n_splits)


def _run_split(seed, *, estimator, method, fraction, shrink, **blocks):
    """:func:`run_split` with the fields of its :class:`Blocks` as keywords."""
    return run_split(seed, Blocks(**blocks), estimator, method, fraction, shrink=shrink)


def coefficient_tests(estimator, X, y, *, method="auto", n_splits=50, fraction=0.5,
                      confidence_level=0.95, adjust="holm", shrinkage=False,
                      random_state=None, n_jobs=None, verbose=0):
    r"""Per-(task, feature) p-values and intervals for a penalised multitask model.

    ``estimate`` is the penalised fit on all the data; inference comes from
    refits by statsmodels (OLS for regressors, GLM Binomial for classifiers,
    always with an intercept) on data the selection did not see.

    * ``"multisplit"`` (default for group lasso and ``penalty="l1"``;
      Meinshausen, Meier & Buehlmann 2009). Split ``b = 1..B``: every task's
      rows into A (``fraction``) and B, stratified by task (and class). The
      model fitted on A selects :math:`S_t` (non-zero rows of :math:`W` for
      L21, the same for every task; non-zero entries otherwise); on B,
      statsmodels of :math:`y_t` on :math:`[1, X_{t,S_t}]` gives :math:`p_{jt}
      ^{(b)}`, and 1 where :math:`j \notin S_t`. A task with
      :math:`|S_t| \ge n_{B,t} - 1` is left untested in the split (p = 1);
      a split in which every task is so is redrawn, up to 20 times (with one
      task, hdi's rule). Aggregation:

      .. math::

          P_{jt} = \min\Bigl(1, (1 - \log\gamma_{\min}) \min_{\gamma}
          \frac{q_\gamma(\{p^{(b)}_{jt}\}_b)}{\gamma}\Bigr),\quad
          \gamma \in \{\lceil 0.05B\rceil / B, \ldots, 1 - 1/B\}.

      ``p_value`` aggregates the unadjusted per-split p-values (a valid
      p-value per coefficient); ``p_fwer`` is the exact MMB procedure, with
      the within-model Bonferroni :math:`\min(1, |S| p^{(b)})`, :math:`|S|`
      the selected (task, term) pairs of the split: it controls the FWER
      over all pairs by itself. Estimand (``"coef"``): :math:`w_{jt}`,
      assuming the screening property (the selected set contains the true
      support in most splits).
    * ``"subspace_split"`` (default for trace norm and shared subspace): on A,
      :math:`U_r` = left singular vectors of :math:`W_A` with
      :math:`\sigma_k > 10^{-6}\sigma_1` (``shared_basis_`` for
      SharedPrivate); on B, per task, a fit on :math:`[1, X_t U_r]` and the
      contrast ``res.t_test`` of :math:`e_j^\top U_r \gamma_t`. Estimand:
      the projection of :math:`w_t` on span(:math:`U_r`), conditional on the
      learned subspace; it equals :math:`w_{jt}` when the span contains the
      true coefficients.
    * ``"cluster_split"`` (default for clustered models): clusters from the
      fit on A; on B per cluster a pooled fit with task fixed effects (task
      dummies) and common slopes. Estimand: the cluster-level coefficient,
      reported for every task of the cluster.
    * ``"task_refit"`` (default for ridge-type penalties: ``penalty="l2"``,
      SharedPrivate ``kind="mean"``): nothing is selected, so the model (all
      features) is fixed before seeing the data and per-task OLS/GLM on all
      the data is valid classical inference, with no splitting. Estimand:
      the coefficient of the task's own full linear model (not the shrunken
      penalised target). Needs :math:`n_t > p + 1`.

    Intervals (``conf_low``, ``conf_high``) invert the aggregated p-value:
    the hull of :math:`\{\beta: P_{jt}(\beta) > 1 - \text{level}\}`, where
    :math:`P(\beta)` aggregates the split p-values of :math:`H_0: w_{jt} =
    \beta` (untested splits count as 1). The true value is excluded only
    when its aggregated p-value is at most :math:`1-\text{level}`, so
    coverage is at least nominal (conservative by the factor above);
    marginal, not simultaneous; infinite for a coefficient tested in too few
    splits. With ``n_splits=1`` this is the single-split t interval
    (Wasserman & Roeder 2009).

    Multiplicity: ``p_adj`` = ``multipletests(p_value, method=adjust)`` over
    all (task, term) pairs of testable tasks; the group rows form their own
    family. Group rows (``task == "__all__"``) test :math:`H_0: w_{j1} =
    \ldots = w_{jT} = 0`: per split :math:`\sum z_{jt}^2`, :math:`z = \Phi
    ^{-1}(1 - p/2)` over the independent units tested (tasks, or clusters),
    referred to :math:`\chi^2` with that many df, then aggregated as above.
    Tasks have separate samples, so given A the z's are independent (wide
    layout: assumes errors independent across tasks).

    Parameters
    ----------
    estimator : mtstats estimator
        Fitted or not (a clone is fitted); long layout (``task_column``) or
        wide (shared ``X``, ``Y`` with NaN: tasks use their observed rows and
        whole rows go to A or B).
    X, y : array-like
        The data, as for ``estimator.fit``.
    method : str, default="auto"
        ``"multisplit"``, ``"subspace_split"``, ``"cluster_split"`` or
        ``"task_refit"`` (see above); ``"auto"`` picks the default of the
        estimator's class.
    n_splits : int, default=50
        Random splits B (1: a single split).
    fraction : float, default=0.5
        Share of every task's rows in half A (selection).
    confidence_level : float, default=0.95
        Level of the (marginal) intervals.
    adjust : str, default="holm"
        Any ``statsmodels.stats.multitest.multipletests`` method.
    shrinkage : bool, default=False
        Add the exploratory empirical-Bayes columns (see Notes): every
        feature's half-B refits shrunk across tasks. Costs one prior fit per
        (split, tested feature), several times the run time without it.
    random_state : int, RandomState or None
        Seed of the splits; split ``b`` is the same for every ``n_splits``.
    n_jobs : int or None
        Parallel splits (joblib).
    verbose : int
        Progress bar when non-zero.

    Returns
    -------
    CoefficientResult
        ``table`` columns: task, term, estimate (penalised), estimate_inference
        (median refit over tested splits), std_error (median), statistic and
        df (one split or ``task_refit`` only, else NaN), p_value, p_adj,
        adj_method, p_fwer, conf_low, conf_high, conf_level, method,
        estimand, selected (in the penalised fit), selection_freq (share of
        splits testing the pair), n_splits (splits in which the task could be
        refitted; 0 for ``task_refit``), testable. A task too small for the
        refit in every split (2 rows: all kept in A; or fewer rows in half B
        than parameters) is reported, not raised: ``testable == False`` and
        NaN inference, outside the multiplicity family. Then ``EB_COLUMNS``:
        eb_mean, eb_low, eb_high (posterior mean and equal-tailed interval
        at ``confidence_level``), lfsr, svalue, eb_sign (+1/-1 where
        ``lfsr <= 1 - confidence_level``, else 0); NaN without
        ``shrinkage``, for ``"cluster_split"``, untestable tasks and the
        group rows.

    See Also
    --------
    refit_on_split : the statsmodels results of one split.

    Notes
    -----
    Shrinkage (Stephens 2017). In split :math:`b`, for every feature
    :math:`j` tested in at least 2 tasks, the half-B estimates :math:`x_{jt}`
    (contrasts for ``"subspace_split"``; the full refits for
    ``"task_refit"``) form a normal-means problem :math:`x_{jt} \mid
    \theta_{jt} \sim N(\theta_{jt}, s_{jt}^2)`, :math:`\theta_{jt} \sim
    \pi_0\delta_0 + \sum_k \pi_k N(\mu_j, \sigma_k^2)`, fitted by
    :func:`~mtstats.report._empirical_bayes.shrink_effects` (null weight
    :math:`\lambda_0 = 3`, no bootstrap;
    :math:`s_{jt}`: the error whose normal tail gives the t test's p-value).
    A pair not tested in a split is exactly 0 there. The split posteriors
    are pooled as an equal mixture over the :math:`B` splits: :math:`P_\pm
    = B^{-1}\sum_b P^{(b)}(\theta_{jt} \gtrless 0)`, ``lfsr`` :math:`= 1 -
    \max(P_+, P_-)`, ``eb_mean`` the mean of the split means, the interval
    that of the mixture, each split's mass on either side of 0 spread as
    the normal of its non-zero part's mean and variance (so it excludes 0
    exactly when lfsr < (1 - level)/2); ``svalue`` over the (task, term)
    pairs of testable tasks. A rarely selected coefficient cannot get a
    small lfsr. Assumptions: a feature's coefficients are exchangeable
    across tasks (one prior), the refits normal with known errors and,
    given the split, independent across tasks (separate rows); the
    screening property for the estimand :math:`w_{jt}`. Not for
    ``"cluster_split"``: its pooled refit already borrows strength within a
    cluster, and a prior over a few clusters (chosen to differ) is not
    estimable.

    Half B is independent of the selection, so given A the normal-means
    model is the usual one; but the false sign rate of the calls is a
    model-based guarantee, not a frequentist bound like ``p_adj``, which
    stays the primary output. Simulations (``benchmarks/results/
    coefficient_shrinkage.md``; AR(1) correlation 0.8, t_3 noise, 8 tasks,
    group lasso, 30 replicates each): no false sign call with shared, partly
    shared or no effects (0 of 71, 0 of 12, no call), but the power per
    (task, coefficient) rose only from 0.06 (Holm) to 0.10 with shared
    effects, and not at all with partly shared ones (0.05, 0.03): with
    :math:`T` tasks the prior's default null penalty keeps :math:`\pi_0 \ge
    9/(T + 9)`. For ``"subspace_split"`` the calls concern the projection
    estimand, not :math:`w_{jt}`.

    References
    ----------
    Meinshausen, N., Meier, L. and Buehlmann, P. (2009). p-values for
    high-dimensional regression. JASA 104, 1671-1681.
    Wasserman, L. and Roeder, K. (2009). High-dimensional variable selection.
    Ann. Statist. 37, 2178-2201.
    Dezeure, R., Buehlmann, P., Meier, L. and Meinshausen, N. (2015).
    High-dimensional inference: confidence intervals, p-values and
    R-software hdi. Statist. Sci. 30, 533-558.
    Stephens, M. (2017). False discovery rates: a new deal. Biostatistics 18,
    275-294.

    Examples
    --------
    >>> from mtstats import GroupLassoRegressor
    >>> from mtstats.datasets import make_multitask_regression
    >>> from mtstats.report.coefficients import coefficient_tests
    >>> X, y, truth = make_multitask_regression(n_tasks=4, n_features=5,
    ...     layout="long", as_frame=True, structure="group_sparse", random_state=0)
    >>> result = coefficient_tests(GroupLassoRegressor(alpha=0.05,
    ...     task_column="task"), X, y, n_splits=10, random_state=0)
    >>> result.method, len(result.table)
    ('multisplit', 25)
    >>> bool((result.table["p_value"] <= 1).all())
    True
    """
    method, full, blocks = _setup(estimator, X, y, method, n_splits, fraction,
                                  confidence_level)
    seeds = [0] if method == "task_refit" else _seeds(random_state, n_splits)
    shrink = confidence_level if shrinkage and method != "cluster_split" else None
    data = {field.name: getattr(blocks, field.name) for field in fields(blocks)}
    splits = parallel_map(_run_split, seeds, shared=dict(
        data, estimator=estimator, method=method, fraction=fraction, shrink=shrink),
        n_jobs=n_jobs, verbose=verbose, description="coefficient splits")
    table, split_p = tidy_table(full, splits, method, confidence_level, adjust)
    notes = _describe(method, splits, fraction, confidence_level, adjust,
                      blocks.classifier)
    if shrinkage:
        notes.append(shrinkage_note(method, confidence_level))
    return CoefficientResult(table, tuple(notes), method=method,
                             conf_level=confidence_level, split_pvalues=split_p)


def refit_on_split(estimator, X, y, *, method="auto", fraction=0.5,
                   random_state=None):
    """The statsmodels refits of the first split of :func:`coefficient_tests`.

    With the same ``random_state``, ``method`` and ``fraction`` this is split
    1 of ``coefficient_tests``, so its per-task results (``.params``,
    ``.bse``, ``.summary()``) can be checked against the table.

    Parameters
    ----------
    estimator, X, y, method, fraction, random_state
        As in :func:`coefficient_tests`.

    Returns
    -------
    split : dict
        ``in_a`` (bool per row of the per-task blocks; in the long layout the
        rows of ``X``), ``rows`` (row of ``X`` of every block row), ``task``
        (task index of every block row), ``groups`` (``(tasks, basis, tested,
        fixed_effects)`` per refit: the design of task ``t`` is ``[1, X_t @
        basis]``), ``results`` (group index -> statsmodels results),
        ``selected``, ``structure`` (subspace basis or cluster labels) and
        the per-task arrays ``est``, ``se``, ``pval``, ``tested``.
    """
    method, _, blocks = _setup(estimator, X, y, method, 1, fraction, 0.5)
    seed = 0 if method == "task_refit" else _seeds(random_state, 1)[0]
    out = run_split(seed, blocks, estimator, method, fraction, keep=True)
    return {**out, "rows": blocks.unit, "task": blocks.task}
