r"""Per-task calibration of held-out predictions: reliability and intervals.

:func:`calibration_report` cross-fits an mtstats estimator, so that every
prediction comes from a model fitted without that row, and measures, task by
task, how far its probabilities (classifiers) or conformal intervals
(regressors) are from what they claim. :func:`calibration_metrics` gives the
per-task classification numbers for any ``(y, p)``; :func:`interval_metrics`,
:func:`conformal_quantile` and :func:`conformal_pit` the regression ones.

The metrics live in :mod:`mtstats.report._calibration_metrics` and
:mod:`mtstats.report._conformal`, the result object in
:mod:`mtstats.report._calibration_result`; all public names are importable
from here.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state

from .._tasks import encode_tasks, split_task_column
from ..model_selection import TaskStratifiedKFold
from ._calibration_metrics import (  # noqa: F401 - HL_CAVEATS re-exported
    HL_CAVEATS,
    _cross_fitted_recalibration,
    calibration_metrics,
    recalibration_map,
)
from ._calibration_result import CalibrationResult, _classification_notes
from ._conformal import (
    METHODS,
    conformal_pit,
    conformal_quantile,
    evaluate_conformal,
    interval_metrics,
    regression_notes,
)
from ._folds import wide_to_long
from ._parallel import parallel_map

__all__ = ["CalibrationResult", "calibration_metrics", "calibration_report",
           "conformal_pit", "conformal_quantile", "interval_metrics",
           "recalibration_map"]


# ------------------------------------------------------ held-out predictions


def _rows(data, index):
    return data.iloc[index] if hasattr(data, "iloc") else np.asarray(data)[index]


def _fit_predict(fold, *, estimator, X, y, classes, n_splits):
    """Predictions on the test rows of ``fold = (k, train, test)``."""
    k, train, test = fold
    try:
        model = clone(estimator).fit(_rows(X, train), y[train])
        if classes is None:
            return np.asarray(model.predict(_rows(X, test)), dtype=float)
        column = list(model.classes_).index(classes[1])
        return model.predict_proba(_rows(X, test))[:, column]
    except ValueError as error:
        raise ValueError(
            f"Cross-fitting fold {k + 1} of {n_splits} failed: {error} "
            "Every task needs enough rows (and, for a classifier, both "
            "classes) in every training part; use a smaller cv.") from error


def _held_out(estimator, X, y, cv, seed, n_jobs, verbose):
    """Cross-fitted predictions: every row predicted by a model not fitted on it."""
    task_column = getattr(estimator, "task_column", None)
    if task_column is None:
        raise ValueError(
            "calibration_report needs the long layout: set the estimator's "
            "task_column (one row per observation, the task in a column of X, y "
            "1-D). The wide layout (Y with one column per task) is not supported; "
            "stack it into the long layout first.")
    _, task_values = split_task_column(X, task_column)
    tasks, task_index = encode_tasks(task_values)
    y = np.asarray(y).ravel()
    if y.shape[0] != task_index.shape[0]:
        raise ValueError(f"X has {task_index.shape[0]} rows but y has {y.shape[0]}.")
    if isinstance(cv, Integral):
        if cv < 2:
            raise ValueError(f"cv must be at least 2; got {cv}.")
        stratify = "task"  # classifiers: task x class where every cell splits
        if is_classifier(estimator):  # (every row is held out once)
            cells = np.column_stack([task_index, np.unique(y, return_inverse=True)[1]
                                     .reshape(-1)])
            if np.unique(cells, axis=0, return_counts=True)[1].min() >= cv:
                stratify = "task_label"
        cv = TaskStratifiedKFold(int(cv), task_column=task_column, shuffle=True,
                                 stratify=stratify, random_state=seed)
    if isinstance(cv, TaskStratifiedKFold):
        counts = np.bincount(task_index, minlength=len(tasks))
        if counts.min() < cv.n_splits:
            t = int(np.argmin(counts))
            raise ValueError(
                f"Task {tasks[t]!r} has {counts[t]} rows, fewer than the "
                f"{cv.n_splits} cross-fitting folds; use a smaller cv or merge "
                "small tasks.")
    splits = list(cv.split(X, y))
    fold = np.full(y.shape[0], -1)
    for k, (_, test) in enumerate(splits):
        if np.any(fold[test] >= 0):
            raise ValueError("cv must hold every row out exactly once (K-fold); "
                             "a row is held out twice.")
        fold[test] = k
    if np.any(fold < 0):
        raise ValueError("cv must hold every row out exactly once (K-fold); "
                         f"{np.sum(fold < 0)} rows are never held out.")
    classes = np.unique(y) if is_classifier(estimator) else None
    if classes is not None and classes.shape[0] != 2:
        raise ValueError(f"Binary outcomes needed; y has {classes.shape[0]} classes.")

    predictions = parallel_map(
        _fit_predict, [(k, *split) for k, split in enumerate(splits)], shared=dict(
            estimator=estimator, X=X, y=y, classes=classes, n_splits=len(splits)),
        n_jobs=n_jobs, verbose=verbose, description="cross-fitting")
    pred = np.empty(y.shape[0])
    for (_, test), values in zip(splits, predictions, strict=True):
        pred[test] = values
    y_num = (y == classes[1]).astype(float) if classes is not None else y.astype(float)
    return tasks, task_index, fold, y_num, pred, classes


def _seeds(random_state):
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**31 - 1)))
    return np.random.SeedSequence(check_random_state(random_state).randint(2**31 - 1))


# -------------------------------------------------------------------- report


def _one_task(task, *, task_index, y, p, fold, method, options):
    """Metrics (and recalibration) of ``task = (t, seed sequence)``."""
    t, child = task
    rows, rng = task_index == t, np.random.default_rng(child)
    stages, fitted_map = [("held_out", p[rows])], None
    if method is not None:
        q, fitted_map = _cross_fitted_recalibration(y[rows], p[rows], fold[rows],
                                                    method)
        stages.append(("recalibrated", q))
    out = [(stage, *calibration_metrics(y[rows], values, random_state=rng,
                                        **options)) for stage, values in stages]
    return out, fitted_map, stages


def _classification(tasks, task_index, fold, y, p, options, children, n_jobs,
                    verbose):
    method = options.pop("recalibrate")
    results = parallel_map(
        _one_task, list(enumerate(children)),
        shared=dict(task_index=task_index, y=y, p=p, fold=fold, method=method,
                    options=options),
        n_jobs=n_jobs, verbose=verbose, description="calibration per task")
    records, curves = [], []
    augment = pd.DataFrame({"task": tasks[task_index], "row": np.arange(y.shape[0]),
                            "fold": fold, "y": y, "proba": p})
    for t, (out, _, stages) in enumerate(results):
        for stage, metrics, curve in out:
            records.append({"task": tasks[t], "stage": stage, **metrics})
            curves.append(curve.assign(task=tasks[t], stage=stage))
        if method is not None:
            augment.loc[task_index == t, "proba_recalibrated"] = stages[1][1]
    curve = pd.concat(curves, ignore_index=True)
    curve = curve[["task", "stage"] + [c for c in curve if c not in ("task", "stage")]]
    recalibrators = None if method is None else {
        tasks[t]: fitted for t, (_, fitted, _) in enumerate(results)}
    return pd.DataFrame.from_records(records), curve, augment, recalibrators


def calibration_report(estimator, X, y, *, cv=5, n_bins=10, strategy="quantile",
                       interval_alpha=0.1, recalibrate=None, n_resamples=1000,
                       random_state=None, n_jobs=None, verbose=0):
    r"""Per-task calibration of an mtstats estimator's held-out predictions.

    Every prediction is **cross-fitted**: ``cv`` task-stratified folds
    (:class:`~mtstats.model_selection.TaskStratifiedKFold`, shuffled), the
    estimator refitted on the other folds. In-sample predictions of a
    (penalised) fit are optimistic: too confident where it overfits, and every
    metric and test below would be biased by it.

    **Classifiers** (per task, see :func:`calibration_metrics`): reliability
    curve with Wilson CIs and consistency bands, calibration slope :math:`b`
    and intercept :math:`a` in :math:`\operatorname{logit} P(y = 1) = a + b
    \operatorname{logit} \hat p` (targets 1 and 0; :math:`b < 1`: predictions
    too extreme, as from an under-penalised fit; :math:`b > 1`: too moderate),
    ECE with its consistency-resampling p-value, the Brier score as
    :math:`\mathrm{REL} - \mathrm{RES} + \mathrm{UNC} + \mathrm{WBV} -
    \mathrm{WBC}`, Spiegelhalter's :math:`Z`, Hosmer-Lemeshow (secondary), AUC
    and log loss. ``recalibrate`` fits a per-task map on the held-out
    predictions; its effect is measured by cross-fitting over the same folds
    (the map applied to fold :math:`k` is fitted on the task's other folds).

    **Regressors**: per-task (Mondrian) split-conformal intervals
    :math:`\hat y \pm \hat q_t` (Vovk, Gammerman & Shafer 2005; Lei et al.
    2018), :math:`\hat q_t` the :math:`\lceil (n+1)(1-\alpha) \rceil`-th
    smallest absolute residual of :math:`n` calibration rows of task
    :math:`t`. Each task's cross-fitted rows are split at random into halves;
    each half calibrates the other. Within a task, the cross-fitted residuals
    are exchangeable (i.i.d. rows, exchangeable fold labels, a symmetric
    fitting algorithm), so every evaluated row is covered with probability
    :math:`\ge 1 - \alpha` (and :math:`< 1 - \alpha + 1/(n+1)` without ties).
    Pooled split conformal (one :math:`\hat q` for all tasks) is reported
    beside it: it guarantees coverage only on average over tasks, and its
    per-task coverage and PIT show which tasks one interval does not fit.

    Parameters
    ----------
    estimator : mtstats estimator
        Unfitted classifier or regressor in the long layout (``task_column``).
    X : DataFrame or array-like of shape (n_samples, n_columns)
        Features and the task column.
    y : array-like of shape (n_samples,)
        Binary labels (classifiers) or targets (regressors).
    cv : int or splitter, default=5
        Number of task-stratified folds (for a classifier stratified on task
        and class when every task has ``cv`` rows of each class), or a
        splitter whose test parts partition the rows (each row held out
        exactly once).
    n_bins : int, default=10
        Bins of the reliability curve (quantile bins are reduced to keep about
        10 rows per bin on small tasks).
    strategy : {"quantile", "uniform"}, default="quantile"
        Bin edges: quantiles of the task's predictions, or equal widths.
    interval_alpha : float, default=0.1
        Regressors: intervals of nominal coverage ``1 - interval_alpha``.
    recalibrate : {None, "sigmoid", "isotonic"}, default=None
        Classifiers: per-task recalibration to fit and evaluate (isotonic needs
        many rows per task; the sklearn documentation advises against it well
        below 1000).
    n_resamples : int, default=1000
        Consistency resamples for the ECE p-value and bands (0: skip).
    random_state : int, Generator or None, default=None
        Seed of the folds, the resampling and the conformal halves.
    n_jobs : int or None, default=None
        Parallel jobs (joblib) over folds and tasks.
    verbose : int, default=0
        Show progress bars.

    Returns
    -------
    CalibrationResult
        ``table`` one row per task (and stage, or method).

    References
    ----------
    Murphy (1973), J. Appl. Meteor. 12:595; Stephenson, Coelho & Jolliffe
    (2008), Wea. Forecasting 23:752; Cox (1958), Biometrika 45:562; Van
    Calster et al. (2016), J. Clin. Epidemiol. 74:167 and (2019), BMC Med.
    17:230; Spiegelhalter (1986), Stat. Med. 5:421; Hosmer & Lemeshow (1980),
    Commun. Stat. A 9:1043; Bröcker & Smith (2007), Wea. Forecasting 22:651;
    Vovk, Gammerman & Shafer (2005), Algorithmic Learning in a Random World;
    Lei et al. (2018), JASA 113:1094; Barber et al. (2021), Ann. Stat. 49:486.

    Examples
    --------
    >>> from mtstats import IndependentClassifier
    >>> from mtstats.datasets import make_multitask_classification
    >>> from mtstats.report.calibration import calibration_report
    >>> X, y, _ = make_multitask_classification(n_tasks=3, n_features=4,
    ...     layout="long", as_frame=True, random_state=0)
    >>> result = calibration_report(IndependentClassifier(task_column="task"),
    ...                             X, y, n_resamples=200, random_state=0)
    >>> result.table[["task", "n", "slope", "ece"]].shape
    (3, 4)
    >>> print(result.summary())  # doctest: +ELLIPSIS
    mtstats calibration report
    ...
    """
    if strategy not in ("quantile", "uniform"):
        raise ValueError(f"strategy must be 'quantile' or 'uniform'; got {strategy!r}.")
    if recalibrate is not None:
        recalibration_map(recalibrate)
        if not is_classifier(estimator):
            raise ValueError("recalibrate applies to classifiers only.")
    if not 0 < interval_alpha < 1:
        raise ValueError(f"interval_alpha must lie in (0, 1); got {interval_alpha}.")
    if not (isinstance(n_bins, Integral) and n_bins >= 1):
        raise ValueError(f"n_bins must be a positive integer; got {n_bins!r}.")
    if not (isinstance(n_resamples, Integral) and n_resamples >= 0):
        raise ValueError(f"n_resamples must be a non-negative integer; got "
                         f"{n_resamples!r}.")
    if getattr(estimator, "task_column", None) is None and np.ndim(y) == 2:
        estimator, X, y = wide_to_long(estimator, X, y)  # observed labels only
    root = _seeds(random_state)
    cv_seed = int(root.generate_state(1)[0] % (2**31 - 1))
    tasks, task_index, fold, y, pred, classes = _held_out(
        estimator, X, y, cv, cv_seed, n_jobs, verbose)
    children = root.spawn(len(tasks))
    scheme = (f"Held-out predictions: {fold.max() + 1}-fold cross-fitting "
              "(folds stratified by task); each row is predicted by a model "
              "fitted without it. In-sample predictions would be optimistic.")
    if classes is None:
        table, pit = evaluate_conformal(y, pred, task_index, tasks, interval_alpha,
                                        np.random.default_rng(children[0]))
        pit["fold"] = fold[pit["row"].to_numpy()]
        augment = pit.loc[pit["method"] == METHODS[0], ["task", "row", "fold", "y",
                                                        "fitted"]]
        notes = (scheme, *regression_notes(interval_alpha))
        return CalibrationResult(table, notes, pit=pit, augment=augment,
                                 kind="regression")
    options = dict(n_bins=n_bins, strategy=strategy, n_resamples=n_resamples,
                   recalibrate=recalibrate)
    table, curve, augment, maps = _classification(
        tasks, task_index, fold, y, pred, options, children, n_jobs, verbose)
    notes = (scheme, *_classification_notes(classes, strategy, n_resamples,
                                            recalibrate))
    return CalibrationResult(table, notes, curve=curve, augment=augment,
                             kind="classification", recalibrators=maps)
