"""Input layouts: the one module that knows how users hand tasks to mtstats.

Two layouts are accepted, both native to scikit-learn:

* **wide** (``task_column=None``): one design ``X`` of shape
  ``(n_samples, n_features)`` shared by every task and targets ``Y`` of shape
  ``(n_samples, n_tasks)``; ``NaN`` in ``Y`` marks an unobserved label. A 1-D
  ``y`` is a single task (and then ``NaN`` is an error, not a missing label).
* **long** (``task_column`` given): one row per observation, the task named by
  a column of ``X`` (a DataFrame column name or an integer position); ``y`` has
  shape ``(n_samples,)``. Task labels may be any hashable values.

This module validates input and turns it into :class:`TaskData`, a plain
bundle of NumPy arrays; :mod:`mtstats._designs` turns that into the linear
operators the solver uses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse
from sklearn.utils.validation import check_array, column_or_1d, validate_data

from ._labels import (
    encode_classes,
    encode_tasks,
    observed_class_labels,
)
from ._sample_weight import check_sample_weight, drop_zero_weight_rows
from ._sparse_designs import SPARSE_FORMATS
from ._task_checks import (
    _check_class_labels,
    _check_classes_per_task,
    _check_task_sizes,
)

__all__ = ["TaskData", "center_targets", "encode_tasks", "split_task_column",
           "task_weights", "validate_fit_input"]



@dataclass(frozen=True)
class TaskData:
    """Validated multitask data (NumPy arrays only).

    Attributes
    ----------
    layout : {"wide", "long"}
    X : ndarray or scipy.sparse CSR/CSC matrix of shape (n_rows, n_features)
        Feature matrix, task column removed, float32 or float64; a sparse
        ``X`` stays sparse (:mod:`mtstats._sparse_designs`).
    y : ndarray
        Wide: ``(n_rows, n_tasks)`` with unobserved entries set to 0.
        Long: ``(n_rows,)``. Classification targets are encoded as 0/1.
    observed : ndarray of bool of shape (n_rows, n_tasks) or None
        Wide layout only: which labels are observed.
    task_index : ndarray of int of shape (n_rows,) or None
        Long layout only: the task of every row, as an index into ``tasks``.
    n_samples_per_task : ndarray of int of shape (n_tasks,)
    sample_weight : ndarray of shape (n_rows,) or None
        Non-negative row weights multiplying each row's loss (``None``: all
        one). A task's mean loss is normalised by its summed weight, so an
        integer weight is the same as repeating the row.
    """

    layout: str
    X: np.ndarray
    y: np.ndarray
    observed: np.ndarray | None
    task_index: np.ndarray | None
    n_samples_per_task: np.ndarray
    sample_weight: np.ndarray | None = None

    @property
    def n_tasks(self):
        """Number of tasks."""
        return self.n_samples_per_task.shape[0]

    def row_weights(self):
        """Row weights shaped like ``y``: ``sample_weight`` (ones by default)
        times the observed mask in the wide layout (float64)."""
        weight = (np.ones(self.X.shape[0]) if self.sample_weight is None
                  else np.asarray(self.sample_weight, dtype=np.float64))
        if self.layout == "wide":
            return self.observed * weight[:, None]
        return weight

    def weight_per_task(self):
        """Every task's summed row weight: its effective number of samples
        (``n_samples_per_task`` as floats without sample weights)."""
        if self.sample_weight is None:
            return self.n_samples_per_task.astype(np.float64)
        rows = self.row_weights()
        if self.layout == "wide":
            return rows.sum(axis=0)
        return np.bincount(self.task_index, weights=rows, minlength=self.n_tasks)


def split_task_column(X, task_column):
    """Separate the task column from the features of a long-layout ``X``.

    Returns
    -------
    features : DataFrame or ndarray
        ``X`` without the task column (still a DataFrame if ``X`` was one).
    task_values : ndarray of shape (n_rows,)
        The raw task label of every row.
    """
    if hasattr(X, "columns"):
        columns = list(X.columns)
        if task_column in columns:
            position = columns.index(task_column)
        elif isinstance(task_column, (int, np.integer)) and -len(columns) <= (
            task_column
        ) < len(columns):
            position = int(task_column) % len(columns)
        else:
            raise ValueError(
                f"task_column={task_column!r} is not a column of X; "
                f"X has columns {columns}."
            )
        task_values = np.asarray(X.iloc[:, position])
        features = X.drop(columns=X.columns[position])
        return features, task_values
    if isinstance(task_column, str):
        raise ValueError(
            f"task_column={task_column!r} names a column, but X is not a "
            "DataFrame; pass a DataFrame or an integer column position."
        )
    if sparse.issparse(X):
        return _split_sparse(X, task_column)
    array = np.asarray(X, dtype=object) if not hasattr(X, "shape") else X
    if getattr(array, "ndim", 0) != 2:
        raise ValueError(
            f"X must be 2-D (n_samples, n_columns) in the long layout; got "
            f"shape {getattr(array, 'shape', None)}."
        )
    n_columns = array.shape[1]
    if not isinstance(task_column, (int, np.integer)) or not (
        -n_columns <= task_column < n_columns
    ):
        raise ValueError(
            f"task_column={task_column!r} is not a column position of X, "
            f"which has {n_columns} columns."
        )
    position = int(task_column) % n_columns
    keep = [j for j in range(n_columns) if j != position]
    return array[:, keep], np.asarray(array[:, position])


def _split_sparse(X, task_column):
    """:func:`split_task_column` of a sparse ``X``: the task column comes out
    dense (n_rows,), the features stay sparse (CSR or CSC, others as CSR)."""
    n_columns = X.shape[1]
    if not isinstance(task_column, (int, np.integer)) or not (
            -n_columns <= task_column < n_columns):
        raise ValueError(
            f"task_column={task_column!r} is not a column position of the sparse "
            f"X, which has {n_columns} columns (a sparse X has no column names).")
    X = X if X.format in SPARSE_FORMATS else X.tocsr()
    position = int(task_column) % n_columns
    keep = np.flatnonzero(np.arange(n_columns) != position)
    return X[:, keep], X[:, [position]].toarray().ravel()


def validate_fit_input(estimator, X, y, *, classifier, sample_weight=None):
    """Validate ``(X, y)`` and ``sample_weight`` for ``estimator.fit``.

    Sets ``n_features_in_`` (and ``feature_names_in_``) on ``estimator``
    through scikit-learn's ``validate_data``; the task column, if any, is not a
    feature. Every row is validated; rows of zero ``sample_weight`` are then
    dropped (:mod:`mtstats._sample_weight`), so task sizes and class checks
    count only rows with a positive weight.

    Returns
    -------
    data : TaskData
    tasks : ndarray of shape (n_tasks,)
        The task labels.
    classes : ndarray of shape (2,) or None
    y_is_1d : bool
        Wide layout with a single 1-D target.
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the "
            "target y is None."
        )
    dtype = [np.float64, np.float32]
    task_column = getattr(estimator, "task_column", None)
    if task_column is None:
        return _validate_wide(estimator, X, y, classifier, dtype, sample_weight)
    features, task_values = split_task_column(X, task_column)
    X_num = validate_data(estimator, features, dtype=dtype, ensure_min_samples=1,
                          accept_sparse=SPARSE_FORMATS)
    y = column_or_1d(y, warn=True)
    if y.shape[0] != X_num.shape[0]:
        raise ValueError(
            f"X has {X_num.shape[0]} rows but y has {y.shape[0]} entries."
        )
    tasks, task_index = encode_tasks(task_values)
    weight = check_sample_weight(sample_weight, X_num.shape[0])
    if classifier:
        _check_class_labels(y, all_observed=True)
    else:
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
    all_counts = np.bincount(task_index, minlength=tasks.shape[0])
    X_num, y, task_index, weight = drop_zero_weight_rows(weight, X_num, y,
                                                         task_index)
    counts = np.bincount(task_index, minlength=tasks.shape[0])
    classes, y_num = None, y
    if classifier:
        classes, y_num = encode_classes(y)
        _check_task_sizes(counts, tasks, all_counts)
        _check_classes_per_task(
            np.bincount(task_index, weights=y_num, minlength=tasks.shape[0]),
            counts, tasks, classes, estimator)
    else:
        _check_task_sizes(counts, tasks, all_counts)
    data = TaskData("long", X_num, y_num.astype(X_num.dtype), None, task_index,
                    counts, weight)
    return data, tasks, classes, False


def _validate_wide(estimator, X, y, classifier, dtype, sample_weight=None):
    X_num = validate_data(estimator, X, dtype=dtype, ensure_min_samples=1,
                          accept_sparse=SPARSE_FORMATS)
    tasks = np.asarray(list(y.columns), dtype=object) if hasattr(y, "columns") \
        else None
    y_arr = np.asarray(y)
    y_is_1d = y_arr.ndim == 1
    if y_arr.ndim == 1:
        y_arr = column_or_1d(y_arr)
    elif y_arr.ndim != 2:
        raise ValueError(f"y must be 1-D or 2-D; got shape {y_arr.shape}.")
    if y_arr.shape[0] != X_num.shape[0]:
        raise ValueError(
            f"X has {X_num.shape[0]} rows but y has {y_arr.shape[0]}."
        )
    Y = y_arr.reshape(y_arr.shape[0], -1)
    weight = check_sample_weight(sample_weight, X_num.shape[0])
    if tasks is None:
        tasks = np.arange(Y.shape[1])
    classes = None
    if classifier:
        # None/NaN mark unobserved labels in a 2-D Y; in a 1-D y, an error
        _check_class_labels(Y, all_observed=y_is_1d)
        observed = observed_class_labels(Y)
        all_counts = observed.sum(axis=0)
        X_num, Y, observed, weight = drop_zero_weight_rows(weight, X_num, Y,
                                                           observed)
        classes, Y01 = encode_classes(Y[observed])
        Y_num = np.zeros(Y.shape)
        Y_num[observed] = Y01
        counts = observed.sum(axis=0)
        _check_task_sizes(counts, tasks, all_counts)
        _check_classes_per_task(Y_num.sum(axis=0), counts, tasks, classes,
                                estimator)
    else:
        Y_num = check_array(Y, dtype=np.float64, ensure_all_finite="allow-nan",
                            input_name="y", ensure_min_samples=1)
        if np.isinf(Y_num).any():
            raise ValueError("Input y contains infinity.")
        if y_is_1d and np.isnan(Y_num).any():
            raise ValueError(
                "Input y contains NaN. NaN marks an unobserved label only in a "
                "2-D Y with one column per task."
            )
        observed = ~np.isnan(Y_num)
        all_counts = observed.sum(axis=0)
        X_num, Y_num, observed, weight = drop_zero_weight_rows(weight, X_num,
                                                               Y_num, observed)
        counts = observed.sum(axis=0)
        _check_task_sizes(counts, tasks, all_counts)
        Y_num = np.where(observed, Y_num, 0.0)
    data = TaskData("wide", X_num, Y_num.astype(X_num.dtype), observed, None,
                    counts.astype(np.int64), weight)
    return data, tasks, classes, y_is_1d


def task_weights(spec, n_samples_per_task):
    """Per-task weights multiplying each task's mean loss.

    ``n_samples_per_task``: the tasks' (effective) sizes, their summed sample
    weights (:meth:`TaskData.weight_per_task`). ``None`` gives 1 for every
    task; ``"n_samples"`` gives ``n_t`` (turning
    mean losses into summed losses, as in MALSAR and RMTL); ``"noise"`` gives
    1 for every task, the base weights that the concomitant fit divides by
    each task's estimated noise scale (:mod:`mtstats.solvers.concomitant`);
    an array gives its values, which must be finite and non-negative with
    one entry per task.
    """
    n_tasks = n_samples_per_task.shape[0]
    if spec is None or (isinstance(spec, str) and spec == "noise"):
        return np.ones(n_tasks)
    if isinstance(spec, str):
        if spec != "n_samples":
            raise ValueError(
                "task_weight must be None, 'n_samples', 'noise' or an array; "
                f"got {spec!r}."
            )
        return n_samples_per_task.astype(np.float64)
    weights = np.asarray(spec, dtype=np.float64).ravel()
    if weights.shape[0] != n_tasks:
        raise ValueError(
            f"task_weight has {weights.shape[0]} entries but there are "
            f"{n_tasks} tasks."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        bad = weights[~(np.isfinite(weights) & (weights >= 0))]
        raise ValueError(f"task_weight must be finite and non-negative; got "
                         f"{bad[:5].tolist()}.")
    if not weights.sum() > 0:
        raise ValueError(
            "task_weight is zero for every task, so the objective does not depend "
            "on the data; give at least one task a positive weight."
        )
    return weights


def center_targets(data):
    """Subtract every task's mean observed target (regression with intercepts).

    The means are weighted by ``sample_weight`` when the data carry one.

    An exact reparametrisation of the intercepts (``b_t`` becomes ``b_t -
    mean_t``) that keeps large target offsets from costing precision in the
    solver and in its duality gap.

    Returns
    -------
    data : TaskData
        With centred targets (unobserved entries stay 0).
    means : ndarray of shape (n_tasks,)
        The subtracted means, to add back to the intercepts.
    """
    weighted = data.sample_weight is not None
    if data.layout == "wide":
        rows = data.row_weights() if weighted else data.observed
        means = (data.y * rows).sum(axis=0) / data.weight_per_task()
        y = (data.y - means) * data.observed
    else:
        values = data.y * data.sample_weight if weighted else data.y
        means = np.bincount(data.task_index, weights=values,
                            minlength=data.n_tasks) / data.weight_per_task()
        y = data.y - means[data.task_index]
    return replace(data, y=y.astype(data.y.dtype)), means
