r"""Detect separation: when an unpenalised logistic model has no finite fit.

The maximum-likelihood logistic fit exists if and only if the two classes
are neither completely nor quasi-completely separated by a hyperplane
(Albert & Anderson, 1984). Separation is decided exactly by the linear
program of Konis (2007): with signed rows :math:`a_i = s_i (x_i, 1)`,
:math:`s_i = \pm 1`,

.. math::

    \max_{\beta}\ \textstyle\sum_i a_i^\top \beta \quad\text{s.t.}\quad
    a_i^\top\beta \ge 0\ \forall i,\quad -1 \le \beta \le 1,

whose optimum is 0 when the fit exists and positive when some direction
separates the classes (then the likelihood keeps increasing along it).

References
----------
.. [1] A. Albert, J. A. Anderson, "On the existence of maximum likelihood
   estimates in logistic regression models", Biometrika 71 (1984).
.. [2] K. Konis, "Linear programming algorithms for detecting separated data
   in binary logistic regression models", DPhil thesis, Oxford (2007).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog


def is_separated(design, labels):
    """Whether rows ``design`` (n, p) with 0/1 ``labels`` are separated.

    ``design`` must already hold the intercept column(s). Columns are scaled
    to unit maximum, which leaves separability unchanged. A sparse
    ``design`` stays sparse (HiGHS takes a sparse constraint matrix).
    """
    if sparse.issparse(design):
        largest = sparse.csc_array(abs(design)).max(axis=0).toarray().ravel()
        A = (sparse.diags_array(2.0 * labels - 1.0) @ sparse.csc_array(design)
             @ sparse.diags_array(1.0 / np.where(largest > 0, largest, 1.0)))
        objective = -np.asarray(A.sum(axis=0)).ravel()
    else:
        largest = np.max(np.abs(design), axis=0)
        A = design / np.where(largest > 0, largest, 1.0)
        A = A * (2.0 * labels - 1.0)[:, None]
        objective = -A.sum(axis=0)
    result = linprog(objective, A_ub=-A, b_ub=np.zeros(A.shape[0]),
                     bounds=(-1.0, 1.0), method="highs")
    return bool(result.status == 0 and -result.fun > 1e-7 * A.shape[0])


def _task_rows(data, t):
    if data.layout == "wide":
        rows = data.observed[:, t]
        return data.X[rows], data.y[rows, t]
    rows = data.task_index == t
    return data.X[rows], data.y[rows]


def separated_tasks(data, pooled, fit_intercept=True):
    """Tasks for which the unpenalised logistic fit does not exist.

    Sample weights play no part: rows of zero weight were dropped at
    validation (:mod:`mtstats._sample_weight`), and positive weights do not
    change whether the classes are separable.

    Parameters
    ----------
    data : TaskData
        Classification data (0/1 targets).
    pooled : bool
        One coefficient vector for every task (per-task intercepts): the
        check is then joint, and all tasks or none are returned.
    fit_intercept : bool
        Whether the model has per-task intercepts.

    Returns
    -------
    list of int
        Indices of the separated tasks.
    """
    blocks = [_task_rows(data, t) for t in range(data.n_tasks)]
    if not pooled:
        return [t for t, (X_t, y_t) in enumerate(blocks)
                if is_separated(_with_intercepts(X_t, [X_t.shape[0]], fit_intercept),
                                y_t)]
    sizes = [X_t.shape[0] for X_t, _ in blocks]
    stack = sparse.vstack if sparse.issparse(data.X) else np.vstack
    design = _with_intercepts(stack([X_t for X_t, _ in blocks]), sizes,
                              fit_intercept)
    labels = np.concatenate([y_t for _, y_t in blocks])
    return list(range(data.n_tasks)) if is_separated(design, labels) else []


def _with_intercepts(X, sizes, fit_intercept):
    """``X`` with one intercept (indicator) column per block of rows (sparse
    when ``X`` is)."""
    if sparse.issparse(X):
        X = sparse.csr_array(X, dtype=np.float64)
        if not fit_intercept:
            return X
        block = np.repeat(np.arange(len(sizes)), sizes)
        indicators = sparse.csr_array(
            (np.ones(X.shape[0]), (np.arange(X.shape[0]), block)),
            shape=(X.shape[0], len(sizes)))
        return sparse.hstack([X, indicators], format="csr")
    X = np.asarray(X, dtype=np.float64)
    if not fit_intercept:
        return X
    indicators = np.zeros((X.shape[0], len(sizes)))
    starts = np.cumsum([0, *sizes])
    for k, (a, z) in enumerate(zip(starts[:-1], starts[1:], strict=True)):
        indicators[a:z, k] = 1.0
    return np.hstack([X, indicators])
