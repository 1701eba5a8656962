"""Task designs: the linear operator from coefficients to linear predictors.

A multitask linear model maps the coefficient matrix ``W`` (n_features x
n_tasks) and the intercepts ``b`` (n_tasks,) to a linear predictor ``eta``:

* :class:`SharedDesign` -- one ``X`` for all tasks, ``eta = X W + 1 b^T`` of
  shape (n_rows, n_tasks); forward and adjoint are GEMMs.
* :class:`StackedDesign` -- every row belongs to one task,
  ``eta_i = x_i^T w_{t(i)} + b_{t(i)}`` of shape (n_rows,). Rows are sorted by
  task once, so forward and adjoint are one GEMV per contiguous task segment:
  O(N d) work in all, never O(N d T), and no N x T matrix is ever formed.
* :class:`PooledDesign` -- one coefficient vector for all tasks
  (``W = w 1^T``) with per-task intercepts, on top of either design.

The objects hold device arrays but no loss or penalty; the solver only calls
``forward``, ``adjoint``, ``task_sums``, ``broadcast_tasks`` and
``lipschitz``. All code is written against the array API standard.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from ._backend import to_namespace
from ._tasks import task_weights


class SharedDesign:
    """One design matrix ``X`` (n, d) shared by all ``n_tasks`` tasks."""

    def __init__(self, X, n_tasks):
        self.X = X
        self.xp = array_namespace(X)
        self.n_features = X.shape[1]
        self.n_tasks = n_tasks
        self.coef_shape = (self.n_features, n_tasks)

    def linear_part(self, W):
        """Return ``X @ W`` (n, T)."""
        return self.X @ W

    def broadcast_tasks(self, b):
        """Spread per-task values ``b`` (T,) to the shape of ``eta``."""
        return b[None, :]

    def forward(self, W, b):
        """Return ``eta = X W + 1 b^T``."""
        return self.linear_part(W) + self.broadcast_tasks(b)

    def task_sums(self, R):
        """Per-task sums of an ``eta``-shaped array (T,)."""
        return self.xp.sum(R, axis=0)

    def adjoint(self, R):
        """Return ``(X^T R, per-task sums of R)``."""
        return self.X.T @ R, self.task_sums(R)


class StackedDesign:
    """Each row belongs to one task; rows are stored sorted by task.

    Parameters
    ----------
    X : array of shape (N, d)
        Rows sorted by task.
    bounds : list of (start, stop)
        The contiguous row range of every task.
    task_index : array of int of shape (N,)
        Task of every (sorted) row, used to broadcast per-task values.
    """

    def __init__(self, X, bounds, task_index):
        self.X = X
        self.xp = array_namespace(X)
        self.bounds = bounds
        self.task_index = task_index
        self.n_features = X.shape[1]
        self.n_tasks = len(bounds)
        self.coef_shape = (self.n_features, self.n_tasks)

    def linear_part(self, W):
        """Return ``eta_i = x_i^T w_{t(i)}`` (N,)."""
        xp = self.xp
        parts = [self.X[a:z, :] @ W[:, t] for t, (a, z) in enumerate(self.bounds)]
        return xp.concat(parts)

    def broadcast_tasks(self, b):
        """Return ``b_{t(i)}`` for every row (N,)."""
        return self.xp.take(b, self.task_index)

    def forward(self, W, b):
        """Return ``eta_i = x_i^T w_{t(i)} + b_{t(i)}``."""
        return self.linear_part(W) + self.broadcast_tasks(b)

    def task_sums(self, R):
        """Per-task sums of a row vector (T,)."""
        xp = self.xp
        return xp.stack([xp.sum(R[a:z]) for a, z in self.bounds])

    def adjoint(self, R):
        """Return ``(G, g)``: ``G[:, t] = X_t^T R_t`` and ``g_t = sum(R_t)``."""
        xp = self.xp
        G = xp.stack([self.X[a:z, :].T @ R[a:z] for a, z in self.bounds], axis=1)
        return G, self.task_sums(R)


class PooledDesign:
    """One coefficient vector for every task: ``W = w 1^T``, own intercepts."""

    def __init__(self, base):
        self.base = base
        self.xp = base.xp
        self.n_features = base.n_features
        self.n_tasks = base.n_tasks
        self.coef_shape = (self.n_features, 1)

    def linear_part(self, W):
        """Linear predictor of the pooled coefficients ``W`` (d, 1)."""
        if isinstance(self.base, SharedDesign):
            return self.base.X @ W  # (n, 1), broadcasts against (n, T)
        return self.base.X @ self.xp.reshape(W, (-1,))

    def broadcast_tasks(self, b):
        """Spread per-task intercepts to the shape of ``eta``."""
        return self.base.broadcast_tasks(b)

    def forward(self, W, b):
        """Return the linear predictor of ``(w, b)``."""
        return self.linear_part(W) + self.broadcast_tasks(b)

    def task_sums(self, R):
        """Per-task sums of an ``eta``-shaped array."""
        return self.base.task_sums(R)

    def adjoint(self, R):
        """Return ``(sum_t X_t^T R_t, per-task sums)``; the first is (d, 1)."""
        xp = self.xp
        if isinstance(self.base, SharedDesign):
            G = self.base.X.T @ xp.sum(R, axis=1, keepdims=True)
        else:
            G = xp.reshape(self.base.X.T @ R, (-1, 1))
        return G, self.task_sums(R)


def lipschitz_constant(design, sample_weight, n_iter=30, seed=0):
    """Largest eigenvalue of ``A^T diag(s) A`` by power iteration.

    ``A`` is the design operator acting on ``(W, b)``; the curvature of the
    loss multiplies this to bound the Lipschitz constant of the gradient. The
    estimate approaches the eigenvalue from below; the solver's backtracking
    line search corrects any remaining underestimate.
    """
    xp = design.xp
    rng = np.random.default_rng(seed)
    dtype = sample_weight.dtype
    W = xp.asarray(rng.standard_normal(design.coef_shape), dtype=dtype)
    b = xp.asarray(rng.standard_normal(design.n_tasks), dtype=dtype)
    estimate = 0.0
    for _ in range(n_iter):
        norm = float(xp.sqrt(xp.sum(W * W) + xp.sum(b * b)))
        if norm == 0.0:
            break
        W, b = W / norm, b / norm
        W, b = design.adjoint(sample_weight * design.forward(W, b))
        new = float(xp.sqrt(xp.sum(W * W) + xp.sum(b * b)))
        if abs(new - estimate) <= 1e-6 * new:
            estimate = new
            break
        estimate = new
    return max(estimate, np.finfo(np.float64).tiny)


def build_design(data, xp, task_weight=None, pooled=False, center=True):
    """Turn :class:`~mtstats._tasks.TaskData` into device arrays and a design.

    With ``center=True`` (used whenever intercepts are fitted) every task's
    features are shifted by an offset ``c_t`` -- the task's feature means in
    the long layout, the column means of ``X`` in the wide one -- so that the
    intercepts are nearly orthogonal to the coefficients and the problem is
    well conditioned. The shift is an exact reparametrisation: the solver's
    intercepts ``b'`` map back by ``b_t = b'_t - c_t^T w_t``, and the penalty,
    which does not involve ``b``, is unchanged.

    Returns
    -------
    design : SharedDesign, StackedDesign or PooledDesign
    y : array
        Targets shaped like ``eta`` (rows sorted by task in the long layout).
    sample_weight : array
        ``s`` with ``objective = sum(s * loss(eta, y))``: ``w_t / n_t`` on the
        observed rows of task ``t``, zero on unobserved labels.
    offsets : ndarray of shape (n_tasks, n_features)
        The NumPy feature offsets ``c_t`` (zeros when ``center=False``).
    """
    dtype = data.X.dtype
    weights = task_weights(task_weight, data.n_samples_per_task)
    per_row = weights / data.n_samples_per_task
    n_tasks, n_features = data.n_tasks, data.X.shape[1]
    offsets = np.zeros((n_tasks, n_features), dtype=dtype)
    if data.layout == "wide":
        s = data.observed * per_row[None, :]
        X = data.X
        if center:
            offsets[:] = X.mean(axis=0)
            X = X - offsets[0]
        design = SharedDesign(to_namespace(xp, X, dtype), n_tasks)
        y = data.y
    else:
        order = np.argsort(data.task_index, kind="stable")
        index = data.task_index[order]
        X = data.X[order]
        stops = np.cumsum(data.n_samples_per_task)
        bounds = [(int(a), int(z))
                  for a, z in zip(stops - data.n_samples_per_task, stops,
                                  strict=True)]
        if center:
            for t, (a, z) in enumerate(bounds):
                offsets[t] = X[a:z].mean(axis=0)
            X = X - offsets[index]
        design = StackedDesign(to_namespace(xp, X, dtype), bounds,
                               to_namespace(xp, index))
        y = data.y[order]
        s = per_row[index]
    if pooled:
        design = PooledDesign(design)
    return (design, to_namespace(xp, y, dtype), to_namespace(xp, s, dtype),
            offsets)
