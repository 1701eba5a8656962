r"""Task designs: the linear operator from coefficients to linear predictors.

A multitask linear model maps the coefficient matrix ``W`` (n_features x
n_tasks) and the intercepts ``b`` (n_tasks,) to a linear predictor ``eta``:

* :class:`SharedDesign` -- one ``X`` for all tasks, ``eta = X W + 1 b^T`` of
  shape (n_rows, n_tasks); forward and adjoint are GEMMs.
* :class:`StackedDesign` -- every row belongs to one task,
  ``eta_i = x_i^T w_{t(i)} + b_{t(i)}``. The tasks are packed into a few
  zero-padded blocks of equal-sized tasks (:mod:`mtstats._packing`), so
  forward and adjoint are one batched matrix-vector product per block: O(N d)
  work in all, never O(N d T), no N x T matrix and no Python loop over tasks.
* :class:`PooledDesign` -- one coefficient vector for all tasks
  (``W = w 1^T``) with per-task intercepts, on top of either design.

The objects hold device arrays but no loss or penalty; the solver reaches
them through a datafit (:mod:`mtstats.datafits`), which calls ``forward``,
``adjoint``, ``task_sums`` and ``broadcast_tasks``. All code is written
against the array API standard.
"""

from __future__ import annotations

import math

import numpy as np
from array_api_compat import array_namespace
from scipy import sparse

from ._backend import to_namespace
from ._packing import pack_tasks
from ._sparse_designs import SparseSharedDesign, build_sparse_design
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

    def pooled_linear_part(self, w):
        """``X w`` for one coefficient column ``w`` (d, 1): (n, 1)."""
        return self.X @ w

    def pooled_adjoint(self, R):
        """``X^T (R 1)``: the adjoint of :meth:`pooled_linear_part`, (d, 1)."""
        return self.X.T @ self.xp.sum(R, axis=1, keepdims=True)

    def pooled_gram(self, R):
        """``sum_t X^T diag(R[:, t]) X`` (d, d) for row weights ``R`` (n, T)."""
        return self.X.T @ (self.X * self.xp.sum(R, axis=1, keepdims=True))


class StackedDesign:
    r"""Each row belongs to one task; tasks packed into padded blocks.

    Block ``k`` holds ``T_k`` tasks of at most ``L_k`` rows as an array
    ``X_k`` of shape (T_k, L_k, d), shorter tasks padded with zero rows. The
    linear predictor is the concatenation of the flattened blocks; padded
    rows get zero sample weight, so they never enter a loss.

    Parameters
    ----------
    blocks : list of arrays of shape (T_k, L_k, d)
    block_tasks : list of int arrays of shape (T_k,)
        The task of every slot of every block.
    inverse : int array of shape (n_tasks,) or None
        Position of every task in the concatenated ``block_tasks`` (``None``
        when that concatenation is ``0, 1, ..., T - 1``).
    task_index : int array of shape (n_padded_rows,)
        Task of every (padded) row, used to broadcast per-task values.
    """

    def __init__(self, blocks, block_tasks, inverse, task_index):
        self.blocks = blocks
        self.block_tasks = block_tasks
        self.inverse = inverse
        self.task_index = task_index
        self.xp = array_namespace(blocks[0])
        self.n_features = blocks[0].shape[2]
        self.n_tasks = sum(int(tasks.shape[0]) for tasks in block_tasks)
        self.coef_shape = (self.n_features, self.n_tasks)
        stops = np.cumsum([X.shape[0] * X.shape[1] for X in blocks])
        self.spans = list(zip([0, *stops[:-1].tolist()], stops.tolist(),
                               strict=True))

    def per_task(self, parts, axis=0):
        """Concatenate per-block results along ``axis``, in task order."""
        xp = self.xp
        out = parts[0] if len(parts) == 1 else xp.concat(parts, axis=axis)
        return out if self.inverse is None else xp.take(out, self.inverse, axis=axis)

    def _flat(self, parts):
        return parts[0] if len(parts) == 1 else self.xp.concat(parts)

    def block_rows(self, R):
        """``R`` (n_padded_rows,) cut into (T_k, L_k) arrays, block by block."""
        xp = self.xp
        return [xp.reshape(R[a:z], X.shape[:2])
                for X, (a, z) in zip(self.blocks, self.spans, strict=True)]

    def linear_part(self, W):
        """Return ``eta_i = x_i^T w_{t(i)}`` for every padded row."""
        xp = self.xp
        parts = []
        for X, tasks in zip(self.blocks, self.block_tasks, strict=True):
            Wk = W if len(self.blocks) == 1 and self.inverse is None else xp.take(
                W, tasks, axis=1)
            eta = xp.matmul(X, xp.permute_dims(Wk, (1, 0))[:, :, None])
            parts.append(xp.reshape(eta, (-1,)))
        return self._flat(parts)

    def broadcast_tasks(self, b):
        """Return ``b_{t(i)}`` for every padded row."""
        return self.xp.take(b, self.task_index)

    def forward(self, W, b):
        """Return ``eta_i = x_i^T w_{t(i)} + b_{t(i)}``."""
        return self.linear_part(W) + self.broadcast_tasks(b)

    def task_sums(self, R):
        """Per-task sums of a row vector (T,)."""
        xp = self.xp
        return self.per_task([xp.sum(Rk, axis=1) for Rk in self.block_rows(R)])

    def adjoint(self, R):
        """Return ``(G, g)``: ``G[:, t] = X_t^T R_t`` and ``g_t = sum(R_t)``."""
        xp = self.xp
        G = [xp.matmul(xp.matrix_transpose(X), Rk[:, :, None])[:, :, 0]
             for X, Rk in zip(self.blocks, self.block_rows(R), strict=True)]
        return xp.permute_dims(self.per_task(G), (1, 0)), self.task_sums(R)

    def pooled_linear_part(self, w):
        """``x_i^T w`` for every padded row, one coefficient column ``w`` (d, 1)."""
        xp = self.xp
        return self._flat([xp.reshape(xp.matmul(X, w), (-1,)) for X in self.blocks])

    def pooled_adjoint(self, R):
        """``sum_i x_i R_i`` (d, 1): the adjoint of :meth:`pooled_linear_part`."""
        xp = self.xp
        G = 0
        for X, Rk in zip(self.blocks, self.block_rows(R), strict=True):
            flat = xp.reshape(X, (-1, X.shape[2]))
            G = G + xp.matrix_transpose(flat) @ xp.reshape(Rk, (-1, 1))
        return G

    def pooled_gram(self, R):
        """``sum_i R_i x_i x_i^T`` (d, d) for row weights ``R`` (padded rows)."""
        xp = self.xp
        H = 0
        for X, Rk in zip(self.blocks, self.block_rows(R), strict=True):
            flat = xp.reshape(X, (-1, X.shape[2]))
            H = H + xp.matrix_transpose(flat) @ (flat * xp.reshape(Rk, (-1, 1)))
        return H


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
        return self.base.pooled_linear_part(W)

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
        return self.base.pooled_adjoint(R), self.task_sums(R)


def power_iteration(apply, coef_shape, n_tasks, xp, dtype, n_iter=30, rtol=1e-6,
                    seed=0):
    """Largest eigenvalue of a positive semi-definite map on ``(W, b)``.

    ``apply(W, b) -> (W', b')``. The estimate approaches the eigenvalue from
    below; the solver's line search corrects any remaining underestimate.
    One host transfer per iteration.
    """
    rng = np.random.default_rng(seed)
    W = rng.standard_normal(coef_shape)
    b = rng.standard_normal(n_tasks)
    norm = float(np.sqrt(np.sum(W * W) + np.sum(b * b)))
    W, b = xp.asarray(W / norm, dtype=dtype), xp.asarray(b / norm, dtype=dtype)
    estimate = 0.0
    for _ in range(n_iter):
        W, b = apply(W, b)
        new = float(xp.sqrt(xp.sum(W * W) + xp.sum(b * b)))
        if not new > 0.0:  # zero map, or NaN: returned as is
            estimate = new
            break
        W, b = W / new, b / new
        converged = abs(new - estimate) <= rtol * new
        estimate = new
        if converged:
            break
    return max(estimate, np.finfo(np.float64).tiny)


def scaled_map(apply, ratio):
    """``D^(1/2) A D^(1/2)`` for a map ``A`` on ``(W, b)``, ``D = diag(I, ratio)``.

    The curvature of the loss in the metric where the intercepts move
    ``ratio`` times as far as the coefficients (``ratio = 0``: ``W`` alone).
    """
    root = math.sqrt(ratio)

    def scaled(W, b):
        G, g = apply(W, root * b)
        return G, root * g

    return scaled


def lipschitz_constant(design, sample_weight, n_iter=30, seed=0, ratio=1.0):
    """Largest eigenvalue of ``D^(1/2) A^T diag(s) A D^(1/2)`` by power iteration.

    ``A`` is the design operator acting on ``(W, b)`` and ``D = diag(I,
    ratio)`` weighs the intercepts (see :func:`scaled_map`); the curvature of
    the loss multiplies this to bound the Lipschitz constant of the gradient.
    With one ``X`` for all tasks and weights constant down each column of
    ``s`` (no missing labels), task ``t``'s block is ``s_t`` times the same
    matrix, so the power iteration runs on one task, ``T`` times cheaper.
    """
    xp = design.xp
    if (type(design) in (SharedDesign, SparseSharedDesign) and design.n_tasks > 1
            and bool(xp.all(sample_weight == sample_weight[0:1, :]))):
        largest = float(xp.max(sample_weight[0, :]))
        ones = xp.ones((design.X.shape[0], 1), dtype=sample_weight.dtype)
        one = (design.one_task() if type(design) is SparseSharedDesign
               else SharedDesign(design.X, 1))
        return largest * lipschitz_constant(one, ones,
                                            n_iter=n_iter, seed=seed, ratio=ratio)

    def apply(W, b):
        return design.adjoint(sample_weight * design.forward(W, b))

    return power_iteration(scaled_map(apply, ratio), design.coef_shape,
                           design.n_tasks, xp, sample_weight.dtype,
                           n_iter=n_iter, seed=seed)


def row_sample_weights(data, task_weight=None):
    r"""The solver's weights ``s`` in the rows' original order (NumPy).

    ``objective = sum(s * loss(eta, y))``: row ``i`` of task ``t`` gets
    :math:`w_t\, v_i / \sum_{j \in t} v_j` with ``v`` the sample weights
    (ones by default) and ``w`` the task weights, zero on unobserved labels.
    Shaped like ``y``: (n_rows, n_tasks) in the wide layout, (n_rows,) in
    the long one.
    """
    sizes = data.weight_per_task()
    weights = task_weights(task_weight, sizes)
    per_unit = weights / np.where(sizes > 0, sizes, 1.0)
    rows = data.row_weights()
    if data.layout == "wide":
        return rows * per_unit[None, :]
    return rows * per_unit[data.task_index]


def build_design(data, xp, task_weight=None, pooled=False, center=True):
    """Turn :class:`~mtstats._tasks.TaskData` into device arrays and a design.

    With ``center=True`` (used whenever intercepts are fitted) every task's
    features are shifted by an offset ``c_t`` -- the task's feature means in
    the long layout, the column means of ``X`` in the wide one -- so that the
    intercepts are nearly orthogonal to the coefficients and the problem is
    well conditioned; the means are weighted by ``data.sample_weight``, if
    any. ``center="global"`` shifts every task by the feature
    means of all rows instead (used when the intercepts are shrunk together:
    their penalty acts on the intercepts at the grand mean, which are then
    the solver's own; :mod:`mtstats.datafits.pooling`). The shift is an
    exact reparametrisation: the solver's
    intercepts ``b'`` map back by ``b_t = b'_t - c_t^T w_t``, and the penalty,
    which does not involve ``b``, is unchanged.

    In the long layout the rows are packed task by task into zero-padded
    blocks (:func:`mtstats._packing.pack_tasks`); ``y`` and ``s`` follow that
    packing, with ``s = 0`` on the padding. Peak memory is ``X`` plus its
    packed copy (at most ``1 + PAD_WASTE`` times ``X``).

    A sparse ``X`` (SciPy CSR/CSC) gives the designs of
    :mod:`mtstats._sparse_designs` instead: rows in their original order, the
    offsets applied inside the operator, ``X`` never densified (NumPy only).

    Returns
    -------
    design : SharedDesign, StackedDesign or PooledDesign
    y : array
        Targets shaped like ``eta`` (rows packed by task in the long layout).
    sample_weight : array
        ``s`` with ``objective = sum(s * loss(eta, y))``: ``w_t / n_t`` on the
        observed rows of task ``t``, zero on unobserved labels and padding.
    offsets : ndarray of shape (n_tasks, n_features)
        The NumPy feature offsets ``c_t`` (zeros when ``center=False``).
    """
    dtype = data.X.dtype
    s_rows = row_sample_weights(data, task_weight)
    if sparse.issparse(data.X):  # rows in their order, offsets in the operator
        design, y, s, offsets = build_sparse_design(data, xp, s_rows, center)
        return (PooledDesign(design) if pooled else design), y, s, offsets
    n_tasks, n_features = data.n_tasks, data.X.shape[1]
    offsets = np.zeros((n_tasks, n_features), dtype=dtype)
    if data.layout == "wide":
        s = s_rows
        X = data.X
        if center:
            offsets[:] = (X.mean(axis=0) if data.sample_weight is None else
                          np.average(X, axis=0, weights=data.sample_weight))
            X = X - offsets[0]
        design = SharedDesign(to_namespace(xp, X, dtype), n_tasks)
        y = data.y
    else:
        packed = pack_tasks(data.X, data.task_index, data.n_samples_per_task,
                            center, weights=data.sample_weight)
        offsets[:] = packed.offsets
        y = packed.scatter(data.y)
        s = packed.scatter(s_rows)
        inverse = None if packed.inverse is None else to_namespace(xp,
                                                                    packed.inverse)
        design = StackedDesign([to_namespace(xp, X, dtype) for X in packed.blocks],
                               [to_namespace(xp, t) for t in packed.block_tasks],
                               inverse, to_namespace(xp, packed.task_index))
        del packed
    if pooled:
        design = PooledDesign(design)
    return (design, to_namespace(xp, y, dtype), to_namespace(xp, s, dtype),
            offsets)
