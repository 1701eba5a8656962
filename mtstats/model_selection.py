"""Cross-validation splitters that keep every task in every fold.

A multitask model predicts only for tasks it has seen, so a fold must never
hold a task that is absent from its training part. scikit-learn's ``KFold``
on data sorted by task breaks that; :class:`TaskStratifiedKFold` stratifies
the folds on the task column instead (every task is split ``n_splits`` ways),
and with ``stratify="task_label"`` on task and class, so that a classifier
never meets a training fold in which a task has a single class.

Stratifying on task and class is a parameter of the two splitters rather
than a further pair of classes, because scikit-learn keeps separate splitter
classes for splitters that read different inputs (``KFold`` ignores ``y``,
``StratifiedKFold`` reads it, ``GroupKFold`` needs ``groups``), and both
variants here read the same inputs (the task column of ``X``, and ``y``) and
differ only in their strata, as ``train_test_split(stratify=...)`` says what
to stratify on.

Rows that cannot be split (a stratum with fewer than ``n_splits`` rows: a
small task, or a rare class of a task) are put in every training fold and in
no test fold, with one ``UserWarning`` that names their tasks: the union of
the test folds is every other row.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target

from ._labels import observed_class_labels
from ._tasks import encode_tasks, split_task_column

__all__ = ["RepeatedTaskStratifiedKFold", "TaskStratifiedKFold"]

STRATIFY = ("task", "task_label")


def _observations(X, y, task_column):
    """``(rows, tasks, Y, names)``: the row and the task of every observed
    label, the targets as a 2-D array (None without ``y``) and the tasks'
    labels. Long layout: one observation per row; wide layout: every entry
    of ``Y`` that is not NaN or None."""
    if task_column is not None:
        _, task_values = split_task_column(X, task_column)
        names, tasks = encode_tasks(task_values)
        Y = None if y is None else np.asarray(y).reshape(len(tasks), -1)
        return np.arange(len(tasks)), tasks, Y, np.asarray(names).tolist()
    if y is None:
        raise ValueError("In the wide layout (task_column=None) TaskStratifiedKFold "
                         "needs y to see which labels are observed.")
    Y = np.asarray(y).reshape(len(y), -1)
    rows, tasks = np.nonzero(observed_class_labels(Y))
    names = list(y.columns) if hasattr(y, "columns") else list(range(Y.shape[1]))
    return rows, tasks, Y, names


def _units(tasks, labels):
    """Stratification unit of every observation: its task, or (labels given)
    its task and class."""
    if labels is None:
        return tasks
    if labels.size and type_of_target(labels).startswith("continuous"):
        raise ValueError("stratify='task_label' stratifies on class labels, but y "
                         "is continuous; use stratify='task'.")
    codes = np.unique(labels.astype(str), return_inverse=True)[1].reshape(-1)
    return tasks * (codes.max(initial=0) + 1) + codes


def _row_strata(rows, tasks, units, n_rows, wide):
    """Stratum of every row: the unit of its observation (long layout) or of
    its rarest observed task (wide layout, so that rare tasks are spread over
    the folds first); -1 for a row with no observed label."""
    if not wide:
        return units
    n_tasks = int(tasks.max(initial=-1)) + 1
    unit_of = np.full((n_rows, n_tasks), -1, dtype=np.int64)
    unit_of[rows, tasks] = units
    rarity = np.where(unit_of >= 0, np.bincount(tasks, minlength=n_tasks)[None, :],
                      np.iinfo(np.int64).max)
    rarest = np.argmin(rarity, axis=1) if n_tasks else np.zeros(n_rows, int)
    strata = unit_of[np.arange(n_rows), rarest] if n_tasks else unit_of[:, 0]
    return np.where(np.any(unit_of >= 0, axis=1), strata, -1)


def _strata(splitter, X, y, n_splits):
    """``(strata, only_train)``: the stratum of every row and the mask of the
    rows holding an observation of a task (or task-class cell) with fewer than
    ``n_splits`` observations, warned about once.

    In the wide layout, rows whose stratum still has fewer than ``n_splits``
    rows (their rarest task has enough labels, but few rows have it as the
    rarest) are pooled into one stratum, or into the largest one if they are
    too few for a stratum of their own: they are still tested.
    """
    if splitter.stratify not in STRATIFY:
        raise ValueError(f"stratify must be one of {STRATIFY}; "
                         f"got {splitter.stratify!r}.")
    by_label = splitter.stratify == "task_label"
    if by_label and y is None:
        raise ValueError("stratify='task_label' needs the class labels y.")
    wide = splitter.task_column is None
    rows, tasks, Y, names = _observations(X, y, splitter.task_column)
    n_rows = (X.shape[0] if hasattr(X, "shape") else len(X)) if Y is None \
        else Y.shape[0]  # a sparse X has no len()
    if n_splits > n_rows:  # scikit-learn's message
        raise ValueError(f"Cannot have number of splits n_splits={n_splits} greater "
                         f"than the number of samples: n_samples={n_rows}.")
    units = _units(tasks, Y[rows, tasks if wide else 0] if by_label else None)
    _, inverse, counts = np.unique(units, return_inverse=True, return_counts=True)
    small = counts[inverse.reshape(-1)] < n_splits
    only_train = np.zeros(n_rows, dtype=bool)
    only_train[rows[small]] = True
    strata = _row_strata(rows, tasks, units, n_rows, wide)
    values, inverse, counts = np.unique(strata[~only_train], return_inverse=True,
                                        return_counts=True)
    few = counts[inverse.reshape(-1)] < n_splits  # wide layout only
    if few.any():
        pooled = strata[~only_train]
        pooled[few] = (strata.min(initial=0) - 1 if few.sum() >= n_splits
                       else values[np.argmax(counts)])
        strata = strata.copy()
        strata[~only_train] = pooled
    if only_train.all() or (few.all() and few.sum() < n_splits):
        raise ValueError(
            f"No {'(task, class) stratum' if by_label else 'task'} has "
            f"n_splits={n_splits} rows, so nothing can be split; use fewer folds.")
    listed = np.unique(tasks[small])
    if listed.size:
        more = f" and {listed.size - 10} more" if listed.size > 10 else ""
        warnings.warn(
            f"{type(splitter).__name__}: task(s) {[names[t] for t in listed[:10]]}"
            f"{more} have fewer than n_splits={n_splits} "
            f"{'observed labels' if wide else 'rows'}{' of a class' * by_label}; "
            f"the {int(only_train.sum())} row(s) concerned are put in every "
            "training fold and in no test fold: they are only trained on, never "
            "tested.", UserWarning, stacklevel=3)
    return strata, only_train


def _split_strata(strata, only_train, n_splits, shuffle, random_state):
    """Stratified K-fold of the splittable rows; the others in every train."""
    keep, extra = np.flatnonzero(~only_train), np.flatnonzero(only_train)
    folds = StratifiedKFold(n_splits, shuffle=shuffle, random_state=random_state)
    for train, test in folds.split(np.zeros(keep.size), strata[keep]):
        yield np.sort(np.concatenate([keep[train], extra])), keep[test]


class TaskStratifiedKFold(StratifiedKFold):
    """K-fold split stratified by task (and class): every fold holds every task.

    Every stratum (a task, or a task's class with ``stratify="task_label"``)
    is split ``n_splits`` ways, so every task is in every training and every
    test fold. Rows of a stratum with fewer than ``n_splits`` rows cannot be
    split: they are put in every training fold and in no test fold, with one
    ``UserWarning`` naming their tasks (the first 10). The test folds thus
    partition all the other rows, and their union is every row but those.
    With ``stratify="task_label"`` a task with at least ``n_splits`` rows of
    each class has both classes in every training and every test fold, and a
    task with fewer rows of a class keeps them in every training fold.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds.
    task_column : str, int or None, default=None
        The task column of ``X`` (as given to the estimators). ``None``: wide
        layout, where ``Y`` (n_samples, n_tasks) may leave labels unobserved
        (NaN or None); rows are stratified on their rarest observed task, so
        every task's observed labels are spread over the folds, and a task
        (or task-class cell) with fewer than ``n_splits`` observed labels puts
        every row that holds one of them in every training fold. Rows with no
        observed label form a stratum of their own; strata left with fewer
        than ``n_splits`` rows are pooled (they are still tested).
    stratify : {"task", "task_label"}, default="task"
        The strata. ``"task"``: the task of each row. ``"task_label"``: the
        task and the class label ``y`` of each row (in the wide layout, the
        label of the row's stratum task); the default ``cv`` of the
        classifiers' ``*CV`` twins and of the reports on classifiers.
    shuffle : bool, default=True
        Shuffle each stratum's rows before splitting.
    random_state : int, RandomState or None, default=None
        Seed of the shuffle.

    See Also
    --------
    RepeatedTaskStratifiedKFold : The same split, repeated with new shuffles.

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score
    >>> from mtstats import TraceNormClassifier, TraceNormRegressor
    >>> from mtstats.datasets import (make_multitask_classification,
    ...                               make_multitask_regression)
    >>> from mtstats.model_selection import TaskStratifiedKFold
    >>> X, y, _ = make_multitask_regression(n_tasks=4, random_state=0)
    >>> cv = TaskStratifiedKFold(5, task_column=-1, random_state=0)
    >>> scores = cross_val_score(TraceNormRegressor(task_column=-1), X, y, cv=cv)
    >>> scores.shape
    (5,)
    >>> X, y, _ = make_multitask_classification(n_tasks=3, n_features=4,
    ...                                         n_samples=40, random_state=0)
    >>> cv = TaskStratifiedKFold(4, task_column=-1, stratify="task_label",
    ...                          random_state=0)
    >>> all(len(set(zip(X[train, -1], y[train]))) == 6  # 3 tasks x 2 classes
    ...     for train, test in cv.split(X, y))
    True
    """

    def __init__(self, n_splits=5, *, task_column=None, stratify="task",
                 shuffle=True, random_state=None):
        super().__init__(n_splits=n_splits, shuffle=shuffle,
                         random_state=random_state)
        self.task_column = task_column
        self.stratify = stratify

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays stratified on the strata.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_columns)
            The data; in the long layout it holds the task column.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks), optional
            Targets; needed in the wide layout and for
            ``stratify="task_label"``.
        groups : None
            Ignored, for compatibility.

        Returns
        -------
        splits : generator of (ndarray, ndarray)
            Training and test row indices of every fold.
        """
        strata, only_train = _strata(self, X, y, self.n_splits)
        return _split_strata(strata, only_train, self.n_splits, self.shuffle,
                             self.random_state)


class RepeatedTaskStratifiedKFold(RepeatedStratifiedKFold):
    """:class:`TaskStratifiedKFold` repeated with different shuffles.

    The strata, and the rows only trained on (strata with fewer than
    ``n_splits`` rows, warned about once), are those of
    :class:`TaskStratifiedKFold`; each repeat shuffles anew.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds of each repeat.
    n_repeats : int, default=10
        Number of repeats.
    task_column : str, int or None, default=None
        The task column of ``X``; ``None``: wide layout (see
        :class:`TaskStratifiedKFold`).
    stratify : {"task", "task_label"}, default="task"
        Stratify on the task, or on the task and the class label.
    random_state : int, RandomState or None, default=None
        Seed of the shuffles.

    See Also
    --------
    TaskStratifiedKFold : One repeat.

    Examples
    --------
    >>> from mtstats.datasets import make_multitask_classification
    >>> from mtstats.model_selection import RepeatedTaskStratifiedKFold
    >>> X, y, _ = make_multitask_classification(n_tasks=3, n_features=4,
    ...                                         n_samples=40, random_state=0)
    >>> cv = RepeatedTaskStratifiedKFold(n_splits=4, n_repeats=3, task_column=-1,
    ...                                  stratify="task_label", random_state=0)
    >>> cv.get_n_splits()
    12
    >>> len(list(cv.split(X, y)))
    12
    """

    def __init__(self, *, n_splits=5, n_repeats=10, task_column=None,
                 stratify="task", random_state=None):
        super().__init__(n_splits=n_splits, n_repeats=n_repeats,
                         random_state=random_state)
        self.task_column = task_column
        self.stratify = stratify

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays of every repeat.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_columns)
            The data; in the long layout it holds the task column.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks), optional
            Targets; needed in the wide layout and for
            ``stratify="task_label"``.
        groups : None
            Ignored, for compatibility.

        Returns
        -------
        splits : generator of (ndarray, ndarray)
            Training and test row indices, ``n_splits`` per repeat.
        """
        n_splits = self.cvargs["n_splits"]
        strata, only_train = _strata(self, X, y, n_splits)
        rng = check_random_state(self.random_state)
        return (split for _ in range(self.n_repeats)
                for split in _split_strata(strata, only_train, n_splits, True, rng))
