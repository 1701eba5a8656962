r"""Task designs on a sparse ``X`` (SciPy CSR/CSC), never densified.

The same linear operators as :mod:`mtstats._designs`, for a
``scipy.sparse`` feature matrix; the solver and the datafits see no
difference. The feature centring (offsets :math:`c_t`) is applied inside the
operator instead of to ``X``, as scikit-learn does for sparse input
(``_preprocess_data``), so ``X`` keeps its zeros:

* :class:`SparseSharedDesign` -- wide layout, one ``X`` (n, d) for all tasks,

  .. math::

      \eta = XW - \mathbf 1 (c^\top W) + \mathbf 1 b^\top,\qquad
      A^\top R = \big(X^\top R - c\,\mathbf 1^\top R,\ \mathbf 1^\top R\big);

* :class:`SparseStackedDesign` -- long layout, row ``i`` in task ``t(i)``,

  .. math::

      \eta_i = x_i^\top w_{t(i)} - c_{t(i)}^\top w_{t(i)} + b_{t(i)},\qquad
      G_{jt} = \sum_{i \in t} X_{ij} R_i - c_{tj} \sum_{i \in t} R_i.

  Both products are one sparse matrix-vector product with the N x dT matrix
  :math:`Z` that holds the entry :math:`X_{ij}` at column :math:`jT + t(i)`:
  :math:`\eta = Z\,\mathrm{vec}(W)` and :math:`\mathrm{vec}(G) = Z^\top R`.
  ``Z`` shares the values and row pointers of ``X``; only its column
  indices are new, so it costs one index array of ``nnz`` entries and each
  product ``O(nnz)`` work, with no N x T matrix and no loop over tasks.

Pooled coefficients (:class:`~mtstats._designs.PooledDesign`) use the
``pooled_*`` methods; Gram statistics (:mod:`mtstats.datafits.grams`) use
:meth:`gram_costs` and :meth:`gram_statistics`, with dense d x d Gram
matrices from sparse products. The centred Gram matrix is expanded,
:math:`X_c^\top S X_c = X^\top S X - (X^\top S\mathbf 1) c^\top - c\,
(\mathbf 1^\top S X) + (\mathbf 1^\top S\mathbf 1)\, c c^\top`, which loses
digits to cancellation only when the offsets dwarf the spread of the
features. Sparse designs are NumPy/SciPy only: ``device="cuda"`` is refused.
"""

from __future__ import annotations

import copy

import numpy as np
from array_api_compat import is_numpy_namespace
from array_api_compat import numpy as np_compat
from scipy import sparse

from ._sparse_linalg import (
    SparseGrams,
    as_csr,
    centred_gram,
    column_means,
    rowwise_products,
)

__all__ = ["SPARSE_FORMATS", "SparseSharedDesign", "SparseStackedDesign",
           "as_csr", "build_sparse_design", "column_means", "rowwise_products"]

#: Sparse formats accepted as they are; others are converted to the first.
SPARSE_FORMATS = ("csr", "csc")


class SparseSharedDesign(SparseGrams):
    """One sparse ``X`` (n, d) for all tasks; offsets ``c`` applied implicitly.

    Parameters
    ----------
    X : scipy.sparse matrix or array of shape (n, d)
    n_tasks : int
    offset : ndarray of shape (d,) or None
        The feature offsets ``c`` (``None``: no centring).
    """

    def __init__(self, X, n_tasks, offset=None):
        self.X = as_csr(X)
        self.offset = offset
        self.xp = np_compat
        self.n_features = self.X.shape[1]
        self.n_tasks = n_tasks
        self.coef_shape = (self.n_features, n_tasks)

    def linear_part(self, W):
        """Return ``X W - 1 (c^T W)`` (n, T)."""
        eta = self.X @ W
        return eta if self.offset is None else eta - (self.offset @ W)[None, :]

    def broadcast_tasks(self, b):
        """Spread per-task values ``b`` (T,) to the shape of ``eta``."""
        return b[None, :]

    def forward(self, W, b):
        """Return ``eta = X W - 1 (c^T W) + 1 b^T``."""
        return self.linear_part(W) + self.broadcast_tasks(b)

    def task_sums(self, R):
        """Per-task sums of an ``eta``-shaped array (T,)."""
        return np.sum(R, axis=0)

    def adjoint(self, R):
        """Return ``(X^T R - c 1^T R, 1^T R)``."""
        g = self.task_sums(R)
        G = self.X.T @ R
        return (G if self.offset is None else G - self.offset[:, None] * g[None, :]), g

    def pooled_linear_part(self, w):
        """``X_c w`` for one coefficient column ``w`` (d, 1): (n, 1)."""
        eta = self.X @ w
        return eta if self.offset is None else eta - self.offset @ w

    def pooled_adjoint(self, R):
        """``X_c^T (R 1)`` (d, 1): the adjoint of :meth:`pooled_linear_part`."""
        r = np.sum(R, axis=1)
        G = self.X.T @ r
        if self.offset is not None:
            G = G - self.offset * np.sum(r)
        return G[:, None]

    def pooled_gram(self, R):
        """``sum_t X_c^T diag(R[:, t]) X_c`` (d, d) for row weights ``R`` (n, T)."""
        return centred_gram(self.X, np.sum(R, axis=1), self.offset)

    def one_task(self):
        """The same design for a single task."""
        return SparseSharedDesign(self.X, 1, self.offset)

    def restrict(self, columns):
        """The design on the feature columns ``columns`` (screening)."""
        columns = np.asarray(columns)
        offset = None if self.offset is None else self.offset[columns]
        return SparseSharedDesign(self.X[:, columns], self.n_tasks, offset)

    def gram_costs(self, s, pooled):
        """``(rows_cost, setup, stored)`` in flops and entries for
        :func:`~mtstats.datafits.grams.gram_pays`."""
        n, d, T = self.X.shape[0], self.n_features, self.n_tasks
        shared = pooled or bool(np.all(s == s[0:1, :]))
        rows_cost = 4 * self.X.nnz * (1 if pooled else T) + 2 * n * T
        setup = self._setup_cost() * (1 if shared else T)
        return rows_cost, setup, d * d if shared else T * d * d

    def gram_matrices(self, s, pooled):
        """``(H, task_scale)``: one Gram matrix with per-task scales when the
        columns of ``s`` are constant, else one per task (T, d, d)."""
        X, c = self.X, self.offset
        if pooled:
            return self.pooled_gram(s), None
        if bool(np.all(s == s[0:1, :])):
            return centred_gram(X, np.ones(X.shape[0], dtype=s.dtype), c), s[0, :]
        return np.stack([centred_gram(X, s[:, t], c)
                         for t in range(self.n_tasks)]), None


class SparseStackedDesign(SparseGrams):
    """Rows of a sparse ``X`` (N, d) in tasks ``task_index``; offsets implicit.

    Parameters
    ----------
    X : scipy.sparse matrix or array of shape (N, d)
    task_index : int ndarray of shape (N,)
    n_tasks : int
    offsets : ndarray of shape (n_tasks, d) or None
        The per-task feature offsets ``c_t`` (``None``: no centring).
    """

    def __init__(self, X, task_index, n_tasks, offsets=None):
        self.X = as_csr(X)
        self.task_index = np.asarray(task_index, dtype=np.intp)
        self.offsets = offsets
        self.xp = np_compat
        self.n_tasks, self.n_features = n_tasks, self.X.shape[1]
        self.coef_shape = (self.n_features, n_tasks)
        width = self.n_features * n_tasks
        itype = np.int32 if width < np.iinfo(np.int32).max else np.int64
        columns = np.repeat(self.task_index, np.diff(self.X.indptr)).astype(itype)
        columns += self.X.indices.astype(itype) * itype(n_tasks)
        self.Z = sparse.csr_array((self.X.data, columns, self.X.indptr),
                                  shape=(self.X.shape[0], width))

    def with_offsets(self, offsets):
        """The same rows with the offsets ``offsets`` (T, d)."""
        design = copy.copy(self)
        design.offsets = offsets
        return design

    def raw_adjoint(self, R):
        """``X_t^T R_t`` for every task, without offsets (d, T)."""
        return np.reshape(self.Z.T @ R, self.coef_shape)

    def linear_part(self, W):
        """Return ``x_i^T w_{t(i)} - c_{t(i)}^T w_{t(i)}`` for every row."""
        eta = self.Z @ np.reshape(W, (-1,))
        if self.offsets is None:
            return eta
        return eta - np.sum(self.offsets * W.T, axis=1)[self.task_index]

    def broadcast_tasks(self, b):
        """Return ``b_{t(i)}`` for every row."""
        return b[self.task_index]

    def forward(self, W, b):
        """Return ``eta_i = x_i^T w_{t(i)} - c_{t(i)}^T w_{t(i)} + b_{t(i)}``."""
        return self.linear_part(W) + self.broadcast_tasks(b)

    def task_sums(self, R):
        """Per-task sums of a row vector (T,)."""
        return np.bincount(self.task_index, weights=R,
                           minlength=self.n_tasks).astype(R.dtype, copy=False)

    def adjoint(self, R):
        """Return ``(G, g)``: ``G[:, t] = X_{t,c}^T R_t`` and ``g_t = sum(R_t)``."""
        g = self.task_sums(R)
        G = self.raw_adjoint(R)
        return (G if self.offsets is None else G - self.offsets.T * g[None, :]), g

    def pooled_linear_part(self, w):
        """``x_i^T w - c_{t(i)}^T w`` for every row, ``w`` (d, 1): (N,)."""
        eta = self.X @ w[:, 0]
        if self.offsets is None:
            return eta
        return eta - (self.offsets @ w[:, 0])[self.task_index]

    def pooled_adjoint(self, R):
        """``sum_i (x_i - c_{t(i)}) R_i`` (d, 1), the adjoint of
        :meth:`pooled_linear_part`."""
        G = self.X.T @ R
        if self.offsets is not None:
            G = G - self.offsets.T @ self.task_sums(R)
        return G[:, None]

    def pooled_gram(self, R):
        """``sum_i R_i (x_i - c_{t(i)})(x_i - c_{t(i)})^T`` (d, d)."""
        H = centred_gram(self.X, R)
        if self.offsets is not None:
            C = self.offsets
            BC = self.raw_adjoint(R) @ C
            H -= BC + BC.T
            H += C.T @ (self.task_sums(R)[:, None] * C)
        return H

    def restrict(self, columns):
        """The design on the feature columns ``columns`` (screening)."""
        columns = np.asarray(columns)
        offsets = None if self.offsets is None else self.offsets[:, columns]
        return SparseStackedDesign(self.X[:, columns], self.task_index,
                                   self.n_tasks, offsets)

    def gram_costs(self, s, pooled):
        """``(rows_cost, setup, stored)`` as for :class:`SparseSharedDesign`."""
        d, T = self.n_features, self.n_tasks
        rows_cost = 4 * self.X.nnz + 4 * self.X.shape[0]
        return rows_cost, self._setup_cost(), d * d if pooled else T * d * d

    def gram_matrices(self, s, pooled):
        r"""``(H, None)``: :math:`\sum_t H_t` (d, d) when ``pooled``, else
        :math:`H_t` (T, d, d), all from one product :math:`Z^\top S Z`,
        which is block diagonal (block ``t`` on columns ``jT + t``)."""
        if pooled:
            return self.pooled_gram(s), None
        d, T = self.coef_shape
        M = (self.Z.T @ (sparse.diags_array(s) @ self.Z)).tocoo()
        H = np.zeros((T, d, d), dtype=M.dtype)
        H[M.row % T, M.row // T, M.col // T] = M.data
        if self.offsets is not None:
            C = self.offsets
            BC = np.einsum("jt,tk->tjk", self.raw_adjoint(s), C)
            H -= BC + np.swapaxes(BC, 1, 2)
            H += self.task_sums(s)[:, None, None] * (C[:, :, None] * C[:, None, :])
        return H, None


def build_sparse_design(data, xp, s_rows, center=True):
    """A sparse design for :func:`mtstats._designs.build_design` (not pooled).

    Rows stay in their original order (no packing). ``center`` is as there:
    per-task feature means (long layout), the column means (wide layout,
    and ``"global"`` in the long one), or no offsets.

    Returns
    -------
    design, y, sample_weight, offsets
        As :func:`~mtstats._designs.build_design`.

    Raises
    ------
    ValueError
        For a namespace other than NumPy (sparse input is CPU-only).
    """
    if not is_numpy_namespace(xp):
        raise ValueError(
            "Sparse X is supported on the CPU only (device='cpu'); for "
            "device='cuda' pass a dense X (e.g. X.toarray()).")
    X = as_csr(data.X)
    dtype, n_tasks = X.dtype, data.n_tasks
    offsets = np.zeros((n_tasks, X.shape[1]), dtype=dtype)
    weights = data.sample_weight  # None, or positive row weights: weighted means
    if center == "global" or (center and data.layout == "wide"):
        offsets[:] = column_means(X, weights)
    if data.layout == "wide":
        design = SparseSharedDesign(X, n_tasks, offsets[0] if center else None)
    else:
        design = SparseStackedDesign(X, data.task_index, n_tasks)
        if center and center != "global":
            counts = np.bincount(data.task_index, weights=weights, minlength=n_tasks)
            sums = design.raw_adjoint(np.ones(X.shape[0]) if weights is None
                                      else weights)
            offsets[:] = (sums / counts[None, :]).T
        if center:
            design = design.with_offsets(offsets)
    return (design, np.asarray(data.y, dtype=dtype), np.asarray(s_rows, dtype=dtype),
            offsets)
