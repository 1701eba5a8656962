r"""Sparse linear algebra shared by the sparse designs (SciPy only).

CSR conversion, column means, the implicitly centred Gram matrix

.. math::

    X_c^\top \operatorname{diag}(v) X_c = X^\top \operatorname{diag}(v) X
    - (X^\top v)\, c^\top - c\, (X^\top v)^\top + (\mathbf 1^\top v)\,
    c c^\top,\qquad X_c = X - \mathbf 1 c^\top,

the row-wise products of the long layout's prediction, and the Gram
statistics common to both sparse designs
(:mod:`mtstats._sparse_designs`).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["SparseGrams", "as_csr", "centred_gram", "column_means",
           "rowwise_products"]


def as_csr(X):
    """``X`` as a ``scipy.sparse.csr_array`` (no copy when already CSR)."""
    return sparse.csr_array(X)


def column_means(X, weights=None):
    """Column means of a sparse ``X`` (d,), accumulated in float64 (weighted
    by ``weights`` (n,), if given)."""
    if weights is not None:
        return (np.asarray(X.T @ weights, dtype=np.float64).ravel()
                / np.sum(weights)).astype(X.dtype)
    return (np.asarray(X.sum(axis=0, dtype=np.float64)).ravel()
            / X.shape[0]).astype(X.dtype)


def centred_gram(X, v, c=None):
    r""":math:`X_c^\top \operatorname{diag}(v) X_c` (d, d), dense, with
    :math:`X_c = X - \mathbf 1 c^\top` implicit (``c=None``: no centring)."""
    H = (X.T @ (sparse.diags_array(v) @ X)).toarray().astype(
        np.result_type(X.dtype, v.dtype), copy=False)
    if c is not None:
        xv = X.T @ v
        H -= np.outer(xv, c) + np.outer(c, xv)
        H += np.sum(v) * np.outer(c, c)
    return H


def rowwise_products(X, coef, index):
    """``eta_i = x_i^T coef[index[i]]`` for a sparse ``X`` in ``O(nnz)``.

    The long layout's prediction: ``coef`` (k, d) holds one model per row
    of it and ``index`` (n,) picks a model for every row of ``X``.
    """
    X = as_csr(X)
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    values = X.data * coef[index[rows], X.indices]
    dtype = np.result_type(X.dtype, coef.dtype)
    return np.bincount(rows, weights=values, minlength=X.shape[0]).astype(dtype)


class SparseGrams:
    """Gram statistics of a sparse design (see :mod:`mtstats.datafits.grams`)."""

    def gram_statistics(self, y, s, pooled):
        """The fields of :class:`~mtstats.datafits.grams.GramStatistics` (a dict).

        ``m``, ``c``, ``n`` and ``ybar`` are adjoint products (the centring
        included); the Gram matrices come from :meth:`gram_matrices`.
        """
        sy = s * y
        m, n = self.adjoint(s)
        c, ybar = self.adjoint(sy)
        H, task_scale = self.gram_matrices(s, pooled)
        return dict(H=H, task_scale=task_scale, m=m, c=c, n=n, ybar=ybar,
                    yy=self.task_sums(sy * y), pooled=pooled)

    def _setup_cost(self):
        """Flops of ``X^T S X``: the sum over rows of their squared nnz."""
        per_row = np.diff(self.X.indptr).astype(np.float64)
        return float(per_row @ per_row)
