"""Resampling splits behind :func:`mtstats.report.compare_to_baselines`.

The data's layout (tasks, targets, task membership, strata), the splits
built from ``cv`` and checked to hold every task in every fold, and their
r x K-fold design with its n_test/n_train ratio.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

from .._labels import observed_class_labels
from .._tasks import encode_tasks, split_task_column


def wide_to_long(estimator, X, y):
    """The wide problem as the equivalent long one: one row per observed label.

    With a shared design the long fit on the stacked observed entries equals
    the wide fit (same objective), so reports that need the long layout run
    on it. Returns ``(estimator, X_long, y_long)``, the estimator a clone
    whose ``task_column`` names the added task column.
    """
    if "task_column" not in estimator.get_params():
        raise ValueError(
            f"{type(estimator).__name__} has no task_column parameter, so the "
            "wide layout cannot be stacked into the long one; pass the long "
            "layout (one row per observation, the task in a column of X).")
    Y = np.asarray(y)
    Y = Y.reshape(len(Y), -1)
    rows, columns = np.nonzero(observed_class_labels(Y))
    tasks = list(y.columns) if hasattr(y, "columns") else list(range(Y.shape[1]))
    features = pd.DataFrame(np.asarray(X)[rows],
                            columns=[str(c) for c in getattr(X, "columns", [])] or
                            [f"x{j}" for j in range(np.shape(X)[1])])
    name = "task"
    while name in features.columns:
        name += "_"
    label_of = np.empty(len(tasks), dtype=object)
    label_of[:] = tasks
    features[name] = label_of[columns]
    return clone(estimator).set_params(task_column=name), features, Y[rows, columns]


def layout(X, y, task_column, classifier, cv):
    """``(tasks, Y, membership, strata)`` of either layout.

    ``Y`` is 2-D (one column in the long layout), ``membership[i, t]`` says
    row ``i`` is an observation of task ``t``, ``strata`` are the labels the
    splits stratify on: task (x class for classifiers with at least K rows in
    every task-class cell) in the long layout, none in the wide one.
    """
    Y = np.asarray(y)
    if task_column is None:
        Y = np.asarray(y, dtype=float).reshape(len(Y), -1)
        tasks = list(y.columns) if hasattr(y, "columns") else list(range(Y.shape[1]))
        return tasks, Y, np.isfinite(Y), None
    if Y.ndim != 1:
        raise ValueError("In the long layout (task_column set) y must be 1-D.")
    tasks, task_index = encode_tasks(split_task_column(X, task_column)[1])
    strata = task_index
    if classifier:
        both = task_index * 2 + (Y == np.unique(Y)[-1])
        n_folds = 10 if cv is None else cv if isinstance(cv, Integral) else (
            getattr(cv, "n_splits", None) or getattr(cv, "cvargs", {}).get("n_splits"))
        if n_folds and np.bincount(both, minlength=2 * len(tasks)).min() >= n_folds:
            strata = both
    membership = task_index[:, None] == np.arange(len(tasks))
    return list(tasks), Y.reshape(-1, 1), membership, strata


def make_splits(cv, X, strata, n_rows, random_state):
    """``[(train, test)]`` index arrays; ``strata=None`` means unstratified."""
    if cv is None or isinstance(cv, Integral):
        n_splits, n_repeats = (10, 10) if cv is None else (int(cv), 1)
        kind = RepeatedKFold if strata is None else RepeatedStratifiedKFold
        splitter = kind(n_splits=n_splits, n_repeats=n_repeats,
                        random_state=random_state)
        splits = splitter.split(np.zeros((n_rows, 1)), strata)
    else:
        splits = cv.split(X, strata) if hasattr(cv, "split") else cv
    out = []
    for train, test in splits:
        train, test = np.asarray(train), np.asarray(test)
        out.append(tuple(np.flatnonzero(a) if a.dtype == bool else a.astype(int)
                         for a in (train, test)))
    if len(out) < 2:
        raise ValueError(f"cv gave {len(out)} split(s); the resampled tests need "
                         "at least 2 (10x10 repeated K-fold by default).")
    return out


def check_splits(splits, membership, tasks):
    """Rows per task in every train and test part, shape (J, T) each.

    ``membership[i, t]``: row ``i`` is an observation of task ``t``. Every
    task needs 2 training rows and 1 test row in every split.
    """
    n_train = np.array([membership[train].sum(axis=0) for train, _ in splits])
    n_test = np.array([membership[test].sum(axis=0) for _, test in splits])
    for j in range(len(splits)):
        missing = [tasks[t] for t in np.flatnonzero((n_test[j] < 1)
                                                     | (n_train[j] < 2))]
        if missing:
            raise ValueError(
                f"cv split {j} leaves task(s) {missing[:10]} out of its test fold "
                "(or with fewer than 2 training rows). Every fold must hold every "
                "task: use mtstats.model_selection.RepeatedTaskStratifiedKFold, "
                "fewer folds, or drop tasks with too few rows.")
    return n_train, n_test


def fold_design(splits, n_rows, n_train, n_test):
    """``(label, ratio)``: r x K-fold name and n_test/n_train per task.

    When consecutive blocks of K test sets partition the rows (repeated
    K-fold) the ratio is 1/(K-1) (Bouckaert & Frank 2004); otherwise it is
    the mean of the actual per-task ratios over the splits.
    """
    J, covered, K = len(splits), 0, None
    for k, (_, test) in enumerate(splits):
        covered += len(test)
        if covered >= n_rows:
            K = k + 1
            break
    if K is not None and K > 1 and J % K == 0 and all(
            np.array_equal(np.sort(np.concatenate([t for _, t in splits[s:s + K]])),
                           np.arange(n_rows)) for s in range(0, J, K)):
        return f"{J // K}x{K}", np.full(n_train.shape[1], 1 / (K - 1))
    return f"J{J}", np.mean(n_test / n_train, axis=0)
