"""Cross-validation splitters that keep every task in every fold.

A multitask model predicts only for tasks it has seen, so a fold must never
hold a task that is absent from its training part. scikit-learn's ``KFold``
on data sorted by task breaks that; :class:`TaskStratifiedKFold` stratifies
the folds on the task column instead (every task is split ``n_splits`` ways).
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

from ._labels import observed_class_labels
from ._tasks import encode_tasks, split_task_column

__all__ = ["RepeatedTaskStratifiedKFold", "TaskStratifiedKFold"]


def _task_labels(X, y, task_column):
    """Stratum of every row: its task (long layout) or, in the wide layout,
    the task with the fewest observed labels among those observed in the row
    (so rare tasks are spread over the folds first); rows with no observed
    label form a stratum of their own."""
    if task_column is not None:
        _, task_values = split_task_column(X, task_column)
        return encode_tasks(task_values)[1]
    if y is None:
        raise ValueError("In the wide layout (task_column=None) TaskStratifiedKFold "
                         "needs y to see which labels are observed.")
    observed = observed_class_labels(np.asarray(y).reshape(len(y), -1))
    counts = observed.sum(axis=0)
    rarity = np.where(observed, counts[None, :], np.iinfo(np.int64).max)
    return np.where(observed.any(axis=1), np.argmin(rarity, axis=1), -1)


class TaskStratifiedKFold(StratifiedKFold):
    """K-fold split stratified by task: every fold holds every task.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds; every task needs at least ``n_splits`` rows.
    task_column : str, int or None, default=None
        The task column of ``X`` (as given to the estimators). ``None``: wide
        layout, where ``Y`` (n_samples, n_tasks) may leave labels unobserved
        (NaN or None); rows are stratified on their rarest observed task, so
        every task's observed labels are spread over the folds.
    shuffle : bool, default=True
        Shuffle each task's rows before splitting.
    random_state : int, RandomState or None, default=None
        Seed of the shuffle.

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score
    >>> from mtstats import TraceNormRegressor
    >>> from mtstats.datasets import make_multitask_regression
    >>> from mtstats.model_selection import TaskStratifiedKFold
    >>> X, y, _ = make_multitask_regression(n_tasks=4, random_state=0)
    >>> cv = TaskStratifiedKFold(5, task_column=-1, random_state=0)
    >>> scores = cross_val_score(TraceNormRegressor(task_column=-1), X, y, cv=cv)
    >>> scores.shape
    (5,)
    """

    def __init__(self, n_splits=5, *, task_column=None, shuffle=True,
                 random_state=None):
        super().__init__(n_splits=n_splits, shuffle=shuffle,
                         random_state=random_state)
        self.task_column = task_column

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays stratified on the task column."""
        return super().split(np.zeros(len(X)), _task_labels(X, y, self.task_column))


class RepeatedTaskStratifiedKFold(RepeatedStratifiedKFold):
    """:class:`TaskStratifiedKFold` repeated with different shuffles.

    Parameters
    ----------
    n_splits : int, default=5
    n_repeats : int, default=10
    task_column : str, int or None, default=None
    random_state : int, RandomState or None, default=None
    """

    def __init__(self, *, n_splits=5, n_repeats=10, task_column=None,
                 random_state=None):
        super().__init__(n_splits=n_splits, n_repeats=n_repeats,
                         random_state=random_state)
        self.task_column = task_column

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays stratified on the task column."""
        return super().split(np.zeros(len(X)), _task_labels(X, y, self.task_column))
