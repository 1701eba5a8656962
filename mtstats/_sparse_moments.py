r"""Within-task least squares on a sparse ``X``, for ``intercept_shrinkage="auto"``.

:func:`mtstats._variance_components.estimate_intercept_shrinkage` needs, for
regression, the slopes :math:`\hat\beta` of the within-task fit (features
and targets centred on their task means), the residual variance and the
tasks' mean residuals. The dense code centres a copy of ``X``; here the
centring stays implicit. With observation ``p`` on row ``r(p)`` of ``X`` in
task ``t(p)`` with frequency weight :math:`v_p`, the slopes solve the normal
equations

.. math::

    \Big(X^\top K X - \sum_t n_t\,\bar x_t\bar x_t^\top\Big)\beta
    = X^\top\tilde r,\qquad
    K = \operatorname{diag}\Big(\sum_{p:\,r(p)=i} v_p\Big),\quad
    \tilde r_i = \sum_{p:\,r(p)=i} v_p\,(y_p - \bar y_{t(p)}),

a d x d system from sparse products (solved by least squares, which also
gives its rank), when that matrix fits in :data:`GRAM_LIMIT` bytes. Larger
``d`` uses LSQR on the implicitly centred, weighted operator, whose limit
from zero is the same minimum-norm solution; its rank is then taken as
:math:`\min(d, N - T)`. Neither copies ``X`` densely, nor repeats its rows
per task in the wide layout.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import LinearOperator, lsqr

__all__ = ["observations", "within_task_fit"]

#: Largest d x d normal-equation matrix (bytes); beyond it, LSQR.
GRAM_LIMIT = 256 * 2**20


def observations(data):
    """``(row, y, task, weight)`` of every observed target (no copy of ``X``)."""
    weight = (np.ones(data.X.shape[0]) if data.sample_weight is None
              else np.asarray(data.sample_weight, dtype=np.float64))
    if data.layout == "long":
        return (np.arange(data.y.shape[0]), np.asarray(data.y, dtype=np.float64),
                data.task_index, weight)
    rows, tasks = np.nonzero(data.observed)
    return (rows, np.asarray(data.y[rows, tasks], dtype=np.float64), tasks,
            weight[rows])


def _normal_equations(X, rows, v, yc, x_mean, counts):
    n = X.shape[0]
    multiplicity = np.bincount(rows, weights=v, minlength=n)
    gram = (X.T @ (sparse.diags_array(multiplicity) @ X)).toarray()
    gram -= x_mean.T @ (counts[:, None] * x_mean)
    rhs = X.T @ np.bincount(rows, weights=v * yc, minlength=n)
    beta, _, rank, _ = np.linalg.lstsq(gram, rhs, rcond=None)
    return beta, rank


def _lsqr(X, rows, task, v, yc, x_mean):
    n, d = X.shape
    n_tasks, root = x_mean.shape[0], np.sqrt(v)

    def matvec(beta):
        return root * ((X @ beta)[rows] - (x_mean @ beta)[task])

    def rmatvec(u):
        u = root * u
        return (X.T @ np.bincount(rows, weights=u, minlength=n)
                - x_mean.T @ np.bincount(task, weights=u, minlength=n_tasks))

    operator = LinearOperator((rows.shape[0], d), matvec=matvec, rmatvec=rmatvec,
                              dtype=np.float64)
    beta = lsqr(operator, root * yc, atol=1e-12, btol=1e-12)[0]
    return beta, min(d, rows.shape[0] - n_tasks)


def within_task_fit(data):
    """The moments of the within-task least-squares fit of sparse ``data``.

    Returns
    -------
    (a, v, counts, sigma2) or None
        The tasks' mean residuals ``a`` with their sampling variances ``v``,
        the summed weights per task and the residual variance; ``None``
        when no degree of freedom is left for the variance.
    """
    rows, y, task, v = observations(data)
    X = sparse.csr_array(data.X, dtype=np.float64)
    n_tasks = data.n_tasks
    counts = np.bincount(task, weights=v, minlength=n_tasks)
    incidence = sparse.csr_array((v, (rows, task)), shape=(X.shape[0], n_tasks))
    x_mean = ((X.T @ incidence).toarray() / counts[None, :]).T
    y_mean = np.bincount(task, weights=v * y, minlength=n_tasks) / counts
    yc = y - y_mean[task]
    if X.shape[1] ** 2 * 8 <= GRAM_LIMIT:
        beta, rank = _normal_equations(X, rows, v, yc, x_mean, counts)
    else:
        beta, rank = _lsqr(X, rows, task, v, yc, x_mean)
    dof = float(np.sum(v)) - n_tasks - rank
    if dof < 1:
        return None
    residual = yc - ((X @ beta)[rows] - (x_mean @ beta)[task])
    sigma2 = float(np.sum(v * residual**2) / dof)
    return y_mean - x_mean @ beta, sigma2 / counts, counts, sigma2
