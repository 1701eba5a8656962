"""Does multitask learning beat the single-task baselines, task by task?"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import is_classifier
from sklearn.utils import check_random_state

from . import _cvtests as cvt
from . import _folds
from ._comparison_notes import method_notes
from ._comparison_result import ComparisonResult
from ._parallel import parallel_map

__all__ = ["ComparisonResult", "compare_to_baselines"]

_COLUMNS = ["task", "n_train", "n_test", "metric", "higher_is_better", "baseline",
            "score_mtl", "score_baseline", "diff", "conf_low", "conf_high", "test",
            "statistic", "df", "p_value", "p_adj", "adj_method", "reject", "verdict",
            "eb_mean", "eb_low", "eb_high", "lfsr", "svalue", "eb_verdict",
            "n_resamples"]


def _task_column(estimator):
    for obj in (estimator, getattr(estimator, "estimator", None)):
        if obj is not None and hasattr(obj, "task_column"):
            return obj.task_column
    return None


def _default_baselines(estimator, classifier, task_column):
    from .. import estimators as est

    base = estimator
    if not hasattr(base, "alpha") and hasattr(base, "estimator"):
        base = base.estimator
        warnings.warn("The estimator is a meta-estimator (e.g. a search); the "
                      "default baselines are untuned copies with its base alpha. "
                      "Pass baselines tuned with the same inner CV for a fair "
                      "comparison.", UserWarning, stacklevel=3)
    params = {key: getattr(base, key) for key in ("alpha", "task_weight",
              "fit_intercept", "tol", "max_iter", "device") if hasattr(base, key)}
    params["task_column"] = task_column
    kinds = ((est.IndependentClassifier, est.PooledClassifier) if classifier
             else (est.IndependentRegressor, est.PooledRegressor))
    return {"independent": kinds[0](**params), "pooled": kinds[1](**params)}


def compare_to_baselines(estimator, X, y, *, baselines=None, cv=None, metrics=None,
                         test="nb", adjust="holm", confidence_level=0.95, alpha=0.05,
                         random_state=None, n_jobs=None, verbose=0):
    r"""Per-task test of whether a multitask model beats single-task baselines.

    Every model is refitted on the training part of the same resampling
    splits (repeated task-stratified K-fold) and scored on each task's test
    rows. For task :math:`t` and split :math:`j`,
    :math:`d_{tj} = s_{tj}^{MTL} - s_{tj}^{base}`, with the sign flipped for
    losses, so that :math:`d > 0` means the multitask model is better.
    ``test="nb"`` applies the corrected resampled t-test (Nadeau & Bengio
    2003; Bouckaert & Frank 2004),

    .. math::

        t_t = \frac{\bar d_t}{\sqrt{(1/J + n_{test}/n_{train})\,\hat\sigma_t^2}},
        \qquad \nu = J - 1,

    with :math:`J = rK` splits, :math:`\hat\sigma_t^2` the variance of the
    :math:`d_{tj}` (``ddof=1``) and :math:`n_{test}/n_{train} = 1/(K-1)` for
    r x K-fold (the mean actual ratio for other splitters). It estimates the
    algorithm-level question "is learning with sharing better for task t at
    this sample size" (training-set variability included). P-values are
    adjusted across tasks (Holm 1979 by default, valid under the dependence
    a joint fit creates). Across tasks, a Wilcoxon signed-rank and a sign test
    on the :math:`\bar d_t` (Demsar 2006) and a DerSimonian & Laird (1986)
    random-effects meta-analysis with :math:`v_t = (1/J + n_{test}/n_{train})
    \hat\sigma_t^2` give the pooled gain, Q, I2 and tau2.

    Per-task tests have little power with a few dozen rows per task, and a
    family-wise correction takes most of what is left: every task can read
    "no detectable difference" while the pooled gain is clearly positive.
    The empirical-Bayes layer answers per task by borrowing strength
    (:func:`~mtstats.report._empirical_bayes.shrink_effects`, in the spirit
    of adaptive shrinkage, Stephens 2017): the :math:`\bar d_t` with
    standard errors :math:`\sqrt{v_t}` are normal means whose true values
    share one prior (a point mass at zero and a scale mixture of normals
    about a common mode) fitted to all tasks; each task gets a posterior
    mean ``eb_mean``, a :math:`1 - 2\alpha` credible interval ``eb_low,
    eb_high`` (it excludes 0 about when the task is called), the local
    false sign rate ``lfsr`` (posterior probability that the sign of its
    effect is not the reported one) and an ``svalue``. ``eb_verdict`` calls
    the tasks with lfsr at most ``alpha`` once the global null (no task
    affected) is rejected at ``alpha``, which keeps the expected share of
    wrong signs among the "helped" and "hurt" calls at or below ``alpha``
    (the false sign rate; simulations in ``tests/test_empirical_bayes.py``)
    when the model holds; it assumes exchangeable tasks and
    normal, independent :math:`\bar d_t` with the NB variance. ``verdict``
    (``adjust``, Holm by default) keeps family-wise control and is the
    conservative answer.

    Parameters
    ----------
    estimator : estimator
        The multitask model (any scikit-learn estimator, e.g. a search over
        one; classifiers need ``predict_proba``); ``task_column`` is read
        from it or from its ``estimator``.
    X : array-like or DataFrame
        Long layout: features and the task column. Wide layout
        (``task_column=None``): shared features of shape (n, p).
    y : array-like
        Long: (n,). Wide: (n, T) with NaN marking unobserved labels; each
        task is scored on its observed test rows.
    baselines : dict of str to estimator, optional
        Default ``{"independent": Independent*, "pooled": Pooled*}`` with the
        estimator's ``alpha``, ``task_column``, ``task_weight``,
        ``fit_intercept`` and solver settings: the same nominal penalty
        strength, not a tuned comparison.
        Fair baselines see the same folds and the same preprocessing (put it
        inside the estimators so it is fitted on training folds) and get the
        same tuning budget (the same inner CV) as the multitask model: that
        budget is the caller's responsibility when passing tuned baselines.
    cv : int, splitter or iterable of (train, test), optional
        Default ``RepeatedTaskStratifiedKFold(n_splits=10, n_repeats=10)``
        seeded with ``random_state`` (for classifiers, ``stratify="task_label"``
        when every task-class cell has 10 rows, so every row is still tested;
        else on task only); an int K means one
        K-fold. A splitter's ``split(X, strata)`` gets the task labels (task
        x class for classifiers) as ``y``. Wide layout: shuffled repeated
        ``KFold`` over rows. Every test fold must hold every task (else
        ``ValueError``), and the same folds serve every model.
    metrics : str or list of str, optional
        Regression ``"mse"``, ``"r2"`` (default both; out-of-sample R2 about
        the task's training mean); classification ``"log_loss"``,
        ``"brier"``, ``"auc"`` (default all). The first is the primary one.
    test : {"nb", "bootstrap"}, default="nb"
        ``"bootstrap"``: percentile bootstrap (``scipy.stats.bootstrap``) of
        :math:`\bar d_t`, its distribution stretched about :math:`\bar d_t`
        by :math:`\sqrt{1 + J n_{test}/n_{train}}`. A plain bootstrap of the
        :math:`d_{tj}` ignores that splits share rows and is anti-conservative;
        the stretch gives it the NB-corrected variance, keeping the shape.
    adjust : {"holm", "fdr_bh", "fdr_by"}, default="holm"
        ``statsmodels`` ``multipletests`` method across tasks, per metric and
        baseline: Holm (1979) controls the family-wise error rate,
        ``"fdr_bh"`` (Benjamini & Hochberg 1995) the false discovery rate,
        with more power when many tasks differ.
    confidence_level : float, default=0.95
        Level of the per-task and pooled confidence intervals.
    alpha : float, default=0.05
        Level at which adjusted p-values give a "helped"/"hurt" ``verdict``,
        and false sign rate of the empirical-Bayes ``eb_verdict``.
    random_state : int, RandomState or None, default=None
        Seeds the default splits and the bootstrap.
    n_jobs : int, optional
        Splits fitted in parallel (joblib; -1: all cores).
    verbose : int, default=0
        Show a progress bar over the splits.

    Returns
    -------
    ComparisonResult
        ``table`` (task x metric x baseline), ``pooled``, ``differences``,
        ``summary()``, ``plot()``, ``to_html()``.

    See Also
    --------
    mtstats.model_selection.RepeatedTaskStratifiedKFold : the default splits.

    Notes
    -----
    The NB correction is a heuristic for the correlation between splits. In
    the seeded null simulations of ``tests/test_report_comparison.py`` (two
    per-task ridges differing only in which block of pure-noise features they
    see, 10 x 10-fold, 36 training rows per task) the 5% test rejected 0.8%
    of true nulls with 7 features, about 2-3% with 13, and 9% with 23: it is
    conservative for stable learners and anti-conservative when the number of
    features nears the task's training size. Per-task tests have little
    power; lead with the effect sizes, CIs and the across-task summary.

    References
    ----------
    Nadeau, C. & Bengio, Y. (2003). Inference for the generalization error.
    Machine Learning 52, 239-281. Bouckaert, R. R. & Frank, E. (2004).
    Evaluating the replicability of significance tests for comparing learning
    algorithms. PAKDD, 3-12. Holm, S. (1979). A simple sequentially
    rejective multiple test procedure. Scand. J. Statist. 6, 65-70.
    Demsar, J. (2006). Statistical comparisons of classifiers over multiple
    data sets. JMLR 7, 1-30. DerSimonian, R. & Laird, N. (1986).
    Meta-analysis in clinical trials. Controlled Clinical Trials 7, 177-188.
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery
    rate. JRSS B 57, 289-300. Stephens, M. (2017). False discovery rates: a
    new deal. Biostatistics 18, 275-294.

    Examples
    --------
    >>> from mtstats import TraceNormRegressor
    >>> from mtstats.datasets import make_multitask_regression
    >>> from mtstats.model_selection import RepeatedTaskStratifiedKFold
    >>> from mtstats.report import compare_to_baselines
    >>> X, y, _ = make_multitask_regression(n_tasks=4, n_features=5, n_samples=30,
    ...                                     layout="long", as_frame=True,
    ...                                     random_state=0)
    >>> cv = RepeatedTaskStratifiedKFold(n_splits=3, n_repeats=2,
    ...                                  task_column="task", random_state=0)
    >>> result = compare_to_baselines(TraceNormRegressor(0.1, task_column="task"),
    ...                               X, y, cv=cv, random_state=0)
    >>> result.table.shape  # 4 tasks x 2 metrics x 2 baselines
    (16, 26)
    >>> result.table.loc[0, ["task", "metric", "baseline", "test", "n_resamples"]]
    task                task_00
    metric                  mse
    baseline        independent
    test           nb_ttest_2x3
    n_resamples               6
    Name: 0, dtype: object
    """
    if test not in ("nb", "bootstrap"):
        raise ValueError(f"test must be 'nb' or 'bootstrap'; got {test!r}.")
    if adjust not in cvt.ADJUST_METHODS:
        raise ValueError(f"adjust must be one of {cvt.ADJUST_METHODS}; got {adjust!r}.")
    if not (0 < confidence_level < 1 and 0 < alpha < 1):
        raise ValueError("confidence_level and alpha must lie in (0, 1).")
    classifier = is_classifier(estimator)
    metrics = cvt.check_metrics(metrics, classifier)
    task_column = _task_column(estimator)
    if baselines is None:
        baselines = _default_baselines(estimator, classifier, task_column)
    if not isinstance(baselines, dict) or not baselines:
        raise ValueError("baselines must be a non-empty dict name -> estimator.")
    rng = check_random_state(random_state)
    tasks, Y, membership, strata = _folds.layout(X, y, task_column, classifier, cv)
    splits = _folds.make_splits(cv, X, strata, len(Y), random_state)
    n_train, n_test = _folds.check_splits(splits, membership, tasks)
    design, ratio = _folds.fold_design(splits, len(Y), n_train, n_test)
    models = [estimator, *baselines.values()]
    shared = dict(models=models, X=X, y=y, Y=Y, membership=membership,
                  classifier=classifier, metrics=metrics)
    scores = np.stack(parallel_map(cvt.fit_and_score, splits, shared=shared,
                                   n_jobs=n_jobs, verbose=verbose,
                                   description="compare_to_baselines"))
    seed, rows, pooled, diffs = rng.randint(2**31), [], [], []
    label = f"{'nb_ttest' if test == 'nb' else 'bootstrap_nb'}_{design}"
    for k, metric in enumerate(metrics):
        sign = 1.0 if cvt.HIGHER_IS_BETTER[metric] else -1.0
        for b, name in enumerate(baselines, start=1):
            mtl, base = scores[:, 0, :, k], scores[:, b, :, k]
            d = sign * (mtl - base)  # rounding noise (AUC ties) is no difference
            d[np.abs(d) <= 1e-9 * (np.abs(mtl) + np.abs(base))] = 0.0
            res, summary = cvt.family_tests(d, ratio, test, confidence_level, adjust,
                                            alpha, (seed, k, b))
            common = dict(metric=metric, higher_is_better=sign > 0, baseline=name)
            rows += [dict(task=task, n_train=n_train[:, t].mean(),
                          n_test=n_test[:, t].mean(), **common,
                          score_mtl=np.nanmean(mtl[:, t]),
                          score_baseline=np.nanmean(base[:, t]), test=label,
                          adj_method=adjust, **res[t]) for t, task in enumerate(tasks)]
            pooled.append(dict(task="__pooled__", **common, **summary, re_method="dl"))
            diffs.append(pd.DataFrame(dict(
                task=np.tile(np.asarray(tasks, dtype=object), len(splits)), **common,
                resample=np.repeat(np.arange(len(splits)), len(tasks)),
                score_mtl=mtl.ravel(), score_baseline=base.ravel(), diff=d.ravel())))
    table = pd.DataFrame(rows)[_COLUMNS]
    notes = method_notes(test, design, len(splits), ratio, metrics, adjust, alpha,
                   confidence_level, table, len(tasks))
    return ComparisonResult(table=table, notes=tuple(notes),
                            pooled=pd.DataFrame(pooled),
                            differences=pd.concat(diffs, ignore_index=True),
                            estimator_name=type(estimator).__name__)
