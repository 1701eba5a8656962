"""Fits from ``dask.dataframe`` collections: the only module that imports Dask.

Dask (https://docs.dask.org) reads Parquet or CSV in partitions and runs on
one machine or a ``distributed`` cluster; mtstats only maps a NumPy function
over the partitions and sums the results in a binary tree of
``dask.delayed`` calls, so the driver holds :math:`O(T d^2)` numbers, never
rows. ``dask.compute`` runs the graph on the active scheduler: the threads
of this process by default, or a ``distributed.Client``'s cluster.

* Squared loss: one pass computes a :class:`~mtstats.TaskGrams`
  (:func:`dask_task_grams`), then the fit is solved in memory from it.
* Logistic loss: a pass for the classes, a pass for the moments (task
  sizes, means, class rates), then one pass per proximal-Newton trial point
  (:mod:`mtstats.solvers.prox_newton`).
"""

from __future__ import annotations

import operator

import dask
import numpy as np
import pandas as pd

from ._backend import namespace_for_device
from ._labels import check_one_kind, encode_classes, encode_tasks
from ._task_checks import _check_classes_per_task
from ._tasks import split_task_column
from .estimators._grams_problem import prepare_from_grams, setup_from_grams
from .solvers._newton_pass import PassPlan, add_passes, chunk_pass
from .solvers.prox_newton import RowPasses
from .task_grams import TaskGrams

__all__ = ["dask_task_grams", "is_dask_collection", "map_prediction",
           "prepare_from_dask"]


def is_dask_collection(value):
    """Whether ``value`` is a Dask collection (checked without importing it)."""
    return hasattr(value, "__dask_graph__")


#: Column names of the target and the weights inside the partitions.
TARGET, WEIGHT = "__mtstats_target__", "__mtstats_weight__"


def _partitions(X, y, sample_weight):
    """Delayed pandas partitions of ``X`` with ``y`` (and ``sample_weight``)
    as extra columns: one collection, so the three stay aligned whatever
    Dask's optimiser does to the partitions."""
    extra = {TARGET: y} if sample_weight is None else {TARGET: y,
                                                       WEIGHT: sample_weight}
    for name, value in zip(("y", "sample_weight"), extra.values(), strict=False):
        if not is_dask_collection(value):
            raise TypeError(f"X is a dask DataFrame, so {name} must be a dask "
                            f"Series too (got {type(value).__name__}).")
    try:
        frame = X.assign(**extra)
    except (ValueError, NotImplementedError) as error:
        raise ValueError(
            "X, y and sample_weight must be partitioned alike (e.g. columns of "
            f"one dask DataFrame); Dask could not align them: {error}") from error
    return frame.to_delayed()


def _split(part):
    """``(X, y, v)`` of one pandas partition (``v`` None without weights)."""
    v = part[WEIGHT].to_numpy(dtype=np.float64) if WEIGHT in part else None
    return part.drop(columns=[c for c in (TARGET, WEIGHT) if c in part]), \
        part[TARGET], v


def _tree_sum(items, combine):
    """Sum delayed ``items`` pairwise (depth log2 n)."""
    items = list(items)
    while len(items) > 1:
        items = [dask.delayed(combine)(items[i], items[i + 1]) if i + 1 < len(items)
                 else items[i] for i in range(0, len(items), 2)]
    return items[0]


def _encode_labels(y, classes):
    """0/1 labels against ``classes``; missing or unknown labels refused."""
    values = np.asarray(y, dtype=object)
    missing = pd.isna(values)
    if missing.any():
        raise ValueError(f"y has {int(missing.sum())} missing label(s) (None/NaN) in "
                         "one partition; a classifier needs every label.")
    return encode_classes(values, classes)[1]


def _chunk_grams(part, task_column, classes, name):
    X, y, v = _split(part)
    if classes is not None:
        y = _encode_labels(y, classes)
    return TaskGrams.from_arrays(X, y, task_column=task_column, sample_weight=v,
                                 estimator_name=name)


def dask_task_grams(X, y, *, task_column, sample_weight=None, classes=None,
                    estimator_name=None):
    """:class:`~mtstats.TaskGrams` of a dask DataFrame, in one pass.

    Parameters
    ----------
    X : dask.dataframe.DataFrame
        Features and the task column.
    y : dask.dataframe.Series
        Targets, partitioned like ``X``.
    task_column : str
        The column of ``X`` naming every row's task.
    sample_weight : dask.dataframe.Series, optional
        Non-negative frequency weights, partitioned like ``X``.
    classes : array of shape (2,), optional
        Encode ``y`` as ``y == classes[1]`` (a classifier's moments).
    estimator_name : str, optional
        Named in validation errors.

    Examples
    --------
    >>> import dask.dataframe as dd, numpy as np, pandas as pd
    >>> from mtstats._dask import dask_task_grams
    >>> df = pd.DataFrame({"x": np.arange(6.0), "y": np.arange(6.0) % 4,
    ...                    "task": list("aabbcc")})
    >>> ddf = dd.from_pandas(df, npartitions=2)
    >>> dask_task_grams(ddf[["x", "task"]], ddf["y"], task_column="task")
    TaskGrams(n_tasks=3, n_features=1, n_samples=6)
    """
    parts = [dask.delayed(_chunk_grams)(part, task_column, classes, estimator_name)
             for part in _partitions(X, y, sample_weight)]
    (total,) = dask.compute(_tree_sum(parts, operator.add))
    return total


def _chunk_newton(part, task_column, tasks, classes, plan, W, b, dual):
    X, y, v = _split(part)
    v = np.ones(len(X)) if v is None else v
    features, task_values = split_task_column(X, task_column)
    _, index = encode_tasks(task_values, known_tasks=tasks)
    keep = v > 0
    return chunk_pass(np.asarray(features, dtype=np.float64)[keep], index[keep],
                      _encode_labels(y, classes)[keep], v[keep], plan, W, b, dual)


def _distinct(part):
    """The distinct labels of one partition (as a set)."""
    return set(pd.unique(np.asarray(part, dtype=object)).tolist())


def _classes(y):
    """The two classes of ``y`` (one pass over the labels, no shuffle)."""
    parts = [dask.delayed(_distinct)(part) for part in y.to_delayed()]
    (values,) = dask.compute(_tree_sum(parts, operator.or_))
    values = np.asarray(sorted(values, key=repr), dtype=object)
    if pd.isna(values).any():
        raise ValueError("y has missing labels (None/NaN); a classifier needs "
                         "every label.")
    check_one_kind(values, "y")
    classes, _ = encode_classes(np.unique(values.tolist()))
    return classes


def prepare_from_dask(estimator, X, y, loss, sample_weight=None):
    """The fitting problem of ``estimator`` on dask collections (module doc)."""
    task_column = getattr(estimator, "task_column", None)
    if task_column is None:
        raise ValueError(f"{type(estimator).__name__} got a dask DataFrame: set "
                         "task_column (the long layout); the wide layout takes "
                         "in-memory arrays only.")
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, "
                         "but the target y is None.")
    classifier = estimator._is_classifier()
    name = type(estimator).__name__
    classes = _classes(y) if classifier else None
    grams = dask_task_grams(X, y, task_column=task_column,
                            sample_weight=sample_weight, classes=classes,
                            estimator_name=name)
    passes = 2 if classifier else 1
    if not classifier:
        problem = prepare_from_grams(estimator, grams, loss)
        base = problem.design
        while hasattr(base, "base"):  # pooled
            base = base.base
        base.n_passes = passes
        return problem
    setup = setup_from_grams(estimator, grams, classifier=True)
    d = grams.n_features
    rate = grams.mean[:, d]
    _check_classes_per_task(np.rint(rate * grams.n_samples), grams.n_samples,
                            grams.tasks, classes, estimator)
    plan = dask.delayed(PassPlan(setup.offsets, setup.scale.x,
                                 setup.weights / grams.weight), pure=True)
    shared = dask.delayed((task_column, np.asarray(grams.tasks, dtype=object),
                           classes), pure=True)
    parts = _partitions(X, y, sample_weight)

    def evaluate(W, b, dual):
        point = dask.delayed((W, b, dual), pure=True)
        chunks = [dask.delayed(_chunk_newton_packed)(part, shared, plan, point)
                  for part in parts]
        (total,) = dask.compute(_tree_sum(chunks, add_passes))
        return total

    rows = RowPasses(evaluate, d, setup.weights, rate,
                     namespace_for_device(estimator.device), n_passes=passes)
    return prepare_from_grams(estimator, grams, loss, design=rows, classes=classes,
                              setup=setup)


def _chunk_newton_packed(part, shared, plan, point):
    task_column, tasks, classes = shared
    return _chunk_newton(part, task_column, tasks, classes, plan, *point)


def _empty_prediction(estimator, method, columns, index):
    if columns is not None:
        return pd.DataFrame({c: pd.Series([], dtype=float) for c in columns},
                            index=index)
    labels = method == "predict" and hasattr(estimator, "classes_")
    dtype = estimator.classes_.dtype if labels else float
    return pd.Series([], dtype=dtype, index=index)


def _predict_partition(part, estimator, method, columns):
    if len(part) == 0:  # Dask's metadata, or an empty partition
        return _empty_prediction(estimator, method, columns, part.index)
    values = getattr(type(estimator), method)(estimator, part)
    if columns is None:
        return pd.Series(values, index=part.index)
    return pd.DataFrame(values, index=part.index, columns=columns)


def map_prediction(estimator, method, X):
    """``estimator.method`` on every partition of ``X``: a dask Series (a
    DataFrame with the classes as columns for ``predict_proba``)."""
    columns = ([str(c) for c in estimator.classes_] if method == "predict_proba"
               else None)
    meta = _empty_prediction(estimator, method, columns, X._meta.index)
    return X.map_partitions(_predict_partition, estimator, method, columns,
                            meta=meta)
