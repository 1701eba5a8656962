r"""Per-task sufficient statistics of the squared loss, built in chunks.

For the squared loss in the long layout a multitask fit depends on the data
only through, per task :math:`t` with rows :math:`z_i = (x_i, y_i)` and
sample weights :math:`v_i`,

.. math::

    n_t = \sum_i v_i,\qquad \mu_t = \frac{1}{n_t}\sum_i v_i z_i,\qquad
    M_t = \sum_i v_i (z_i - \mu_t)(z_i - \mu_t)^\top,

the summed weight, the weighted means of features and target and their
centred cross-products (whose blocks are :math:`X_t^\top X_t`,
:math:`X_t^\top y_t` and :math:`y_t^\top y_t` about the means). The uncentred
statistics follow, :math:`\sum_i v_i z_i z_i^\top = M_t + n_t\mu_t\mu_t^\top`.

:class:`TaskGrams` holds them, labelled by task. Two of them add up
(``a + b``: the statistics of the union of their rows, tasks matched by
label) by the pairwise update of Chan, Golub & LeVeque (1979), which keeps
the centred form and so loses no digits to a large mean, whatever the order
of the chunks. They can be computed chunk by chunk from any source (SQL,
Spark, files), saved (:meth:`TaskGrams.save`, a NumPy ``.npz`` without
pickles) and passed to ``fit`` of any mtstats regressor in the long layout.
:meth:`TaskGrams.from_dask` computes them from a ``dask.dataframe`` in
one pass. Memory is :math:`O(T d^2)` whatever the number of rows.

References
----------
Chan, T. F., Golub, G. H. and LeVeque, R. J. (1979). Updating formulae and a
pairwise algorithm for computing sample variances. Technical report
STAN-CS-79-773, Stanford University.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import column_or_1d

from ._labels import encode_tasks
from ._sample_weight import check_sample_weight
from ._tasks import split_task_column

__all__ = ["TaskGrams"]

_FIELDS = ("tasks", "n_samples", "weight", "mean", "comoment", "max_abs")
_OPTIONAL = ("n_rows",)


class TaskGrams:
    r"""Sufficient statistics of the weighted squared loss, per task.

    Build one with :meth:`from_arrays` (one chunk of rows), add chunks with
    ``+``, and pass the total to ``fit`` of a regressor in the long layout
    (``est.fit(grams)``, with ``y`` omitted). See the module docstring for
    the definitions.

    Parameters
    ----------
    tasks : array-like of shape (n_tasks,)
        Task labels, sorted as mtstats sorts them (:func:`numpy.unique`).
    n_samples : array-like of int of shape (n_tasks,)
        Rows of every task (rows of zero weight are not counted).
    weight : array-like of shape (n_tasks,)
        :math:`n_t`, the summed sample weights (``n_samples`` without
        weights).
    mean : array-like of shape (n_tasks, n_features + 1)
        :math:`\mu_t`, the weighted means of the features and (last) target.
    comoment : array-like of shape (n_tasks, n_features + 1, n_features + 1)
        :math:`M_t`, the weighted centred cross-products.
    max_abs : array-like of shape (n_features + 1,)
        Largest absolute value of every column (the fit's exact power-of-two
        rescaling reads it).
    feature_names : sequence of str, optional
        The feature columns' names, checked at prediction time.
    n_rows : array-like of int of shape (n_tasks,), optional
        Rows of every task including those of zero weight (default
        ``n_samples``): a task whose rows all weigh 0 stays listed, and
        ``fit`` refuses it as it refuses such rows in memory.

    See Also
    --------
    TaskGrams.from_dask : the statistics of a ``dask.dataframe`` in one pass.
    mtstats.solvers.prox_newton : the logistic loss, which has none.

    References
    ----------
    Chan, T. F., Golub, G. H. and LeVeque, R. J. (1979). Updating formulae
    and a pairwise algorithm for computing sample variances. Stanford
    STAN-CS-79-773.

    Examples
    --------
    >>> import numpy as np
    >>> from mtstats import TaskGrams
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(100, 3)), rng.normal(size=100)
    >>> task = np.repeat(["a", "b"], 50)
    >>> whole = TaskGrams.from_arrays(X, y, task)
    >>> parts = (TaskGrams.from_arrays(X[:30], y[:30], task[:30])
    ...          + TaskGrams.from_arrays(X[30:], y[30:], task[30:]))
    >>> bool(np.allclose(whole.comoment, parts.comoment))
    True
    >>> parts.tasks.tolist(), parts.n_samples.tolist()
    (['a', 'b'], [50, 50])
    """

    def __init__(self, tasks, n_samples, weight, mean, comoment, max_abs,
                 feature_names=None, n_rows=None):
        self.tasks = np.asarray(tasks)
        self.n_samples = np.asarray(n_samples, dtype=np.int64)
        self.n_rows = self.n_samples.copy() if n_rows is None else np.asarray(
            n_rows, dtype=np.int64)
        self.weight = np.asarray(weight, dtype=np.float64)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.comoment = np.asarray(comoment, dtype=np.float64)
        self.max_abs = np.asarray(max_abs, dtype=np.float64)
        self.feature_names = (None if feature_names is None
                              else tuple(str(name) for name in feature_names))
        self._check_shapes()

    def _check_shapes(self):
        T, k = self.mean.shape if self.mean.ndim == 2 else (None, None)
        ok = (T is not None and self.tasks.shape == (T,)
              and self.n_samples.shape == (T,) and self.weight.shape == (T,)
              and self.n_rows.shape == (T,)
              and self.comoment.shape == (T, k, k) and self.max_abs.shape == (k,))
        if not ok:
            raise ValueError(
                "Inconsistent TaskGrams shapes: tasks "
                f"{self.tasks.shape}, n_samples {self.n_samples.shape}, weight "
                f"{self.weight.shape}, mean {self.mean.shape}, comoment "
                f"{self.comoment.shape}, max_abs {self.max_abs.shape}; expected "
                "(T,), (T,), (T,), (T, d+1), (T, d+1, d+1), (d+1,).")
        if self.feature_names is not None and len(self.feature_names) != k - 1:
            raise ValueError(f"{len(self.feature_names)} feature names for "
                             f"{k - 1} features.")

    @property
    def n_tasks(self):
        """Number of tasks."""
        return self.tasks.shape[0]

    @property
    def n_features(self):
        """Number of features (the target is the last column)."""
        return self.mean.shape[1] - 1

    def __repr__(self):
        return (f"TaskGrams(n_tasks={self.n_tasks}, n_features={self.n_features}, "
                f"n_samples={int(self.n_samples.sum())})")

    @classmethod
    def from_arrays(cls, X, y, task=None, *, sample_weight=None, task_column=None,
                    feature_names=None, estimator_name=None):
        """Statistics of one chunk of rows.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_rows, n_features)
            Features (with the task column when ``task_column`` is given).
        y : array-like of shape (n_rows,)
            Numeric targets.
        task : array-like of shape (n_rows,), optional
            Task label of every row (or give ``task_column``).
        sample_weight : array-like of shape (n_rows,), optional
            Non-negative frequency weights; rows of weight 0 are left out.
        task_column : str or int, optional
            The column of ``X`` holding the task labels.
        feature_names : sequence of str, optional
            Names of the features (default: the DataFrame's columns).
        estimator_name : str, optional
            Named in error messages, as scikit-learn's validation does.

        Raises
        ------
        ValueError
            NaN or infinity in ``X`` or ``y``, mismatched lengths, missing
            task labels, negative or non-finite sample weights.
        """
        if task_column is not None:
            X, task = split_task_column(X, task_column)
        elif task is None:
            raise ValueError("Give the task of every row: task=... or "
                             "task_column=...")
        if feature_names is None and hasattr(X, "columns"):
            feature_names = [str(c) for c in X.columns]
        X = check_array(X, dtype=np.float64, ensure_min_samples=0,
                        input_name="X", estimator=estimator_name)
        y = check_array(column_or_1d(y), ensure_2d=False, dtype=np.float64,
                        input_name="y", ensure_min_samples=0,
                        estimator=estimator_name)
        task = np.asarray(task).reshape(-1)
        if not X.shape[0] == y.shape[0] == task.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows, y {y.shape[0]} entries and "
                             f"the task labels {task.shape[0]}; they must match.")
        v = check_sample_weight(sample_weight, X.shape[0])
        v = np.ones(X.shape[0]) if v is None else np.asarray(v, dtype=np.float64)
        Z = np.column_stack([X, y])
        d1 = Z.shape[1]
        if Z.shape[0] == 0:
            return cls(np.empty(0, dtype=task.dtype), [], [], np.empty((0, d1)),
                       np.empty((0, d1, d1)), np.zeros(d1), feature_names)
        tasks, index = encode_tasks(task)
        T = tasks.shape[0]
        n_rows = np.bincount(index, minlength=T)  # zero weights included
        keep = v > 0  # rows of weight 0 add nothing; their task stays listed
        Z, v, index = Z[keep], v[keep], index[keep]
        counts = np.bincount(index, minlength=T)
        weight = np.bincount(index, weights=v, minlength=T)
        mean = per_task_sums(v[:, None] * Z, index, T) / np.where(
            weight > 0, weight, 1.0)[:, None]
        C = Z - mean[index]  # centred on the task's own mean: no cancellation
        comoment = per_task_gram(C, index, T, v)
        max_abs = np.max(np.abs(Z), axis=0) if Z.shape[0] else np.zeros(d1)
        return cls(_label_array(tasks), counts, weight, mean, comoment, max_abs,
                   feature_names, n_rows=n_rows)

    @classmethod
    def from_dask(cls, X, y, *, task_column, sample_weight=None):
        """Statistics of a ``dask.dataframe.DataFrame`` in one pass.

        ``X`` holds the features and ``task_column``; ``y`` (and
        ``sample_weight``) are dask Series partitioned like ``X``. Runs on the
        active Dask scheduler (a ``distributed.Client``'s cluster if one is
        active); see :func:`mtstats._dask.dask_task_grams`.
        """
        try:
            from ._dask import dask_task_grams  # Dask is imported only here
        except ImportError as error:
            raise ImportError("TaskGrams.from_dask needs Dask: pip install "
                              "'mtstats[dask]'.") from error

        return dask_task_grams(X, y, task_column=task_column,
                               sample_weight=sample_weight)

    def __add__(self, other):
        """Statistics of the union of both sets of rows (tasks matched by label)."""
        if not isinstance(other, TaskGrams):
            return NotImplemented
        if other.mean.shape[1] != self.mean.shape[1]:
            raise ValueError(f"Cannot add TaskGrams of {self.n_features} and "
                             f"{other.n_features} features.")
        if (self.feature_names and other.feature_names
                and self.feature_names != other.feature_names):
            raise ValueError("Cannot add TaskGrams of different feature names: "
                             f"{self.feature_names[:5]} and "
                             f"{other.feature_names[:5]}.")
        if other.n_tasks == 0:
            return self
        if self.n_tasks == 0:
            return other
        tasks, _ = encode_tasks(np.concatenate([self.tasks.astype(object),
                                                other.tasks.astype(object)]))
        total = _empty_like(self, len(tasks))
        for part in (self, other):
            _, where = encode_tasks(part.tasks.astype(object), known_tasks=tasks)
            _accumulate(total, part, where)
        names = self.feature_names or other.feature_names
        return TaskGrams(_label_array(tasks), total["n_samples"], total["weight"],
                         total["mean"], total["comoment"],
                         np.maximum(self.max_abs, other.max_abs), names,
                         n_rows=total["n_rows"])

    def __radd__(self, other):
        if isinstance(other, int) and other == 0:  # sum(list_of_grams)
            return self
        return NotImplemented

    def save(self, path):
        """Write the statistics to ``path`` (a NumPy ``.npz``, no pickles)."""
        if self.tasks.dtype == object:
            raise ValueError("Task labels of object dtype cannot be saved "
                             "without pickles; use str or int labels.")
        names = np.asarray(self.feature_names if self.feature_names else [],
                           dtype=str)
        np.savez(path, **{f: getattr(self, f) for f in _FIELDS + _OPTIONAL},
                 feature_names=names, has_names=self.feature_names is not None)

    @classmethod
    def load(cls, path):
        """Read statistics written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            names = list(data["feature_names"]) if bool(data["has_names"]) else None
            extra = {f: data[f] for f in _OPTIONAL if f in data.files}
            return cls(*(data[f] for f in _FIELDS), feature_names=names, **extra)


def per_task_gram(C, index, n_tasks, weight):
    """``sum_i weight_i c_i c_i^T`` over the rows ``i`` of every task: (T, k, k).

    One GEMM per task present (rows sorted by task once).
    """
    k = C.shape[1]
    out = np.zeros((n_tasks, k, k))
    order = np.argsort(index, kind="stable")
    counts = np.bincount(index, minlength=n_tasks)
    starts = np.concatenate([[0], np.cumsum(counts)])
    for t in np.flatnonzero(counts):
        rows = order[starts[t]:starts[t + 1]]
        Ct = C[rows]
        out[t] = Ct.T @ (Ct * weight[rows, None])
    return out


def per_task_sums(values, index, n_tasks):
    """``sum_i values_i`` over the rows of every task: (T, k) for (n, k) values."""
    return np.stack([np.bincount(index, weights=values[:, j], minlength=n_tasks)
                     for j in range(values.shape[1])], axis=1).reshape(
                         n_tasks, values.shape[1])


def _label_array(tasks):
    """Labels as a plain NumPy array (int, float or str) where one fits."""
    values = list(tasks)
    if all(isinstance(v, int | np.integer) for v in values):
        return np.asarray(values, dtype=np.int64)
    if all(isinstance(v, str) for v in values):
        return np.asarray(values, dtype=str)
    return np.asarray(values, dtype=object)


def _empty_like(grams, n_tasks):
    d1 = grams.mean.shape[1]
    return {"n_samples": np.zeros(n_tasks, dtype=np.int64),
            "n_rows": np.zeros(n_tasks, dtype=np.int64),
            "weight": np.zeros(n_tasks), "mean": np.zeros((n_tasks, d1)),
            "comoment": np.zeros((n_tasks, d1, d1))}


def _accumulate(total, part, where):
    """Add ``part`` into ``total`` at task positions ``where`` (Chan et al.)."""
    na, nb = total["weight"][where], part.weight
    n = na + nb
    delta = part.mean - total["mean"][where]
    share = np.where(n > 0, nb / np.where(n > 0, n, 1.0), 0.0)
    total["mean"][where] += delta * share[:, None]
    total["comoment"][where] += part.comoment + (
        delta[:, :, None] * delta[:, None, :] * (na * share)[:, None, None])
    total["weight"][where] = n
    total["n_samples"][where] += part.n_samples
    total["n_rows"][where] += part.n_rows
