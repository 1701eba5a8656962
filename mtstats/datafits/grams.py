r"""Sufficient statistics of the weighted squared loss, per task.

For task ``t`` with rows :math:`x_i`, targets :math:`y_i` and sample weights
:math:`s_i` the squared loss :math:`\tfrac12\sum_i s_i(x_i^\top w_t + b_t -
y_i)^2` is a quadratic in :math:`(w_t, b_t)` fixed by

.. math::

    H_t = \sum_i s_i x_i x_i^\top,\quad m_t = \sum_i s_i x_i,\quad
    c_t = \sum_i s_i y_i x_i,\quad n_t = \sum_i s_i,\quad
    \bar y_t = \sum_i s_i y_i,\quad q_t = \sum_i s_i y_i^2

(skglm's Gram datafits, Bertrand et al., NeurIPS 2022, keep the same
statistics). With one shared ``X`` and weights constant down each column of
``s`` (no missing labels) all :math:`H_t` are multiples of :math:`X^\top X`
and one d x d matrix is stored; otherwise one per task. Pooled coefficients
only need :math:`\sum_t H_t`.

:func:`gram_pays` decides from a flop count whether the statistics are worth
computing; :func:`task_grams` computes them from a design.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._designs import PooledDesign, SharedDesign, StackedDesign

#: Most bytes the per-task Gram matrices may take (T d^2 entries).
GRAM_MEMORY = 256 * 2**20
#: Iterations over which the one-off cost of the statistics is amortised.
GRAM_HORIZON = 100


@dataclass
class GramStatistics:
    """The statistics of :mod:`this module <mtstats.datafits.grams>`.

    Attributes
    ----------
    H : array of shape (d, d) or (T, d, d)
        Shared Gram matrix (``task_scale`` or ``pooled`` set), else per task,
        stored in the order ``order`` when that is not ``None``.
    task_scale : array of shape (T,) or None
        ``H_t = task_scale[t] * H`` for a shared ``H``.
    m, c : arrays of shape (d, T)
    n, ybar, yy : arrays of shape (T,)
    pooled : bool
        ``H`` is :math:`\\sum_t H_t` for one pooled coefficient column.
    order, inverse : int arrays of shape (T,) or None
        Task order of a per-task ``H`` and its inverse permutation.
    """

    H: object
    task_scale: object
    m: object
    c: object
    n: object
    ybar: object
    yy: object
    pooled: bool = False
    order: object = None
    inverse: object = None


def _constant_columns(xp, s):
    """Whether every column of ``s`` (n, T) is constant."""
    return bool(xp.all(s == s[0:1, :]))


def gram_pays(design, s):
    """Whether Gram statistics make a squared-loss solve cheaper.

    Compares, in flops, the row form (one forward and one adjoint product
    per iteration) with the Gram form (one product with the statistics per
    iteration, plus computing them once), over ``GRAM_HORIZON`` iterations,
    and checks that per-task Gram matrices fit in ``GRAM_MEMORY``. Sparse
    designs (:mod:`mtstats._sparse_designs`) count their flops in non-zeros
    (``gram_costs``); designs other than these and those of
    :mod:`mtstats._designs` always use rows.
    """
    pooled = isinstance(design, PooledDesign)
    base = design.base if pooled else design
    sparse = hasattr(base, "gram_costs")  # sparse designs count their own flops
    if not (sparse or isinstance(base, SharedDesign | StackedDesign)):
        return False
    d, T = base.n_features, base.n_tasks
    k = 1 if pooled else T
    itemsize = 4 if s.dtype == base.xp.float32 else 8
    if sparse:
        rows_cost, setup, stored = base.gram_costs(s, pooled)
    elif isinstance(base, SharedDesign):
        n = base.X.shape[0]
        shared = pooled or _constant_columns(base.xp, s)
        rows_cost = 4 * n * d * k + (2 * n * T if pooled else 0)
        setup = n * d * d * (1 if shared else T)
        stored = d * d if shared else T * d * d
    else:
        n = sum(int(X.shape[0] * X.shape[1]) for X in base.blocks)
        rows_cost = 4 * n * d
        setup = n * d * d
        stored = T * d * d  # also the transient of the pooled sum
    gram_cost = 2 * d * d * k + 4 * d * T
    return (stored * itemsize <= GRAM_MEMORY
            and setup + GRAM_HORIZON * gram_cost < GRAM_HORIZON * rows_cost)


def task_grams(design, y, s):
    """:class:`GramStatistics` of ``design`` for targets ``y``, weights ``s``."""
    pooled = isinstance(design, PooledDesign)
    base = design.base if pooled else design
    if hasattr(base, "gram_statistics"):  # sparse designs
        return GramStatistics(**base.gram_statistics(y, s, pooled))
    if isinstance(base, SharedDesign):
        return _shared(base, y, s, pooled)
    if isinstance(base, StackedDesign):
        return _stacked(base, y, s, pooled)
    raise TypeError(f"No Gram statistics for a {type(base).__name__}.")


def _shared(design, y, s, pooled):
    xp, X = design.xp, design.X
    sy = s * y
    m, c = X.T @ s, X.T @ sy
    n, ybar, yy = xp.sum(s, axis=0), xp.sum(sy, axis=0), xp.sum(sy * y, axis=0)
    if pooled:
        H = X.T @ (X * xp.sum(s, axis=1)[:, None])
        return GramStatistics(H, None, m, c, n, ybar, yy, pooled=True)
    if _constant_columns(xp, s):
        return GramStatistics(X.T @ X, s[0, :], m, c, n, ybar, yy)
    H = xp.stack([X.T @ (X * s[:, t:t + 1]) for t in range(design.n_tasks)])
    return GramStatistics(H, None, m, c, n, ybar, yy)


def _stacked(design, y, s, pooled):
    xp = design.xp
    H, m, c, n, ybar, yy = [], [], [], [], [], []
    for X, (a, z) in zip(design.blocks, design.spans, strict=True):
        sk = xp.reshape(s[a:z], X.shape[:2])
        syk = sk * xp.reshape(y[a:z], X.shape[:2])
        Xt = xp.matrix_transpose(X)
        if bool(xp.all((sk == sk[:, 0:1]) | (sk == 0))):
            Hk = xp.matmul(Xt, X) * sk[:, 0][:, None, None]
        else:
            Hk = xp.matmul(Xt, X * sk[:, :, None])
        H.append(xp.sum(Hk, axis=0) if pooled else Hk)
        m.append(xp.matmul(Xt, sk[:, :, None])[:, :, 0])
        c.append(xp.matmul(Xt, syk[:, :, None])[:, :, 0])
        n.append(xp.sum(sk, axis=1))
        ybar.append(xp.sum(syk, axis=1))
        yy.append(xp.sum(syk * xp.reshape(y[a:z], X.shape[:2]), axis=1))
    m, c = (xp.permute_dims(design.per_task(v), (1, 0)) for v in (m, c))
    n, ybar, yy = (design.per_task(v) for v in (n, ybar, yy))
    if pooled:
        total = H[0]
        for Hk in H[1:]:
            total = total + Hk
        return GramStatistics(total, None, m, c, n, ybar, yy, pooled=True)
    H = H[0] if len(H) == 1 else xp.concat(H, axis=0)
    order = None if design.inverse is None else xp.concat(design.block_tasks)
    return GramStatistics(H, None, m, c, n, ybar, yy, order=order,
                     inverse=design.inverse)
