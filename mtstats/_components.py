r"""The components layer: a design on stacked parts ``(W_1; ...; W_K)``, ``W = sum``.

The decomposition models (dirty, sparse + low rank, robust MTL, rMTFL;
:mod:`mtstats.estimators.decomposed`) write the coefficient matrix as a sum
of parts with a different penalty on each. :class:`ComponentDesign` wraps
any task design ``A`` (:mod:`mtstats._designs`) into the design of the
stacked variable,

.. math::

    \tilde A(W_1; \dots; W_K, b) = A\Big(\sum_k W_k, b\Big),\qquad
    \tilde A^\top R = (A^\top R; \dots; A^\top R),

so the solver, the datafits, the duality gap, ``alpha_max`` and the paths
see one ordinary (K d x T) variable and stay unchanged; only the penalty
(:class:`~mtstats.penalties.components.Decomposition`) knows the parts.
The Lipschitz constant of the stacked problem is ``K`` times that of ``A``
(the power iteration finds it through ``forward`` and ``adjoint``).
"""

from __future__ import annotations

from .datafits.grams import task_grams

__all__ = ["ComponentDesign"]


class ComponentDesign:
    """``K`` stacked copies of the coefficient block of ``base``.

    Parameters
    ----------
    base : design
        A design of :mod:`mtstats._designs` (not pooled).
    n_parts : int
        ``K``, the number of parts.
    """

    def __init__(self, base, n_parts):
        self.base, self.n_parts = base, int(n_parts)
        self.xp = base.xp
        self.n_tasks = base.n_tasks
        self.n_features = base.n_features * self.n_parts
        self.coef_shape = (self.n_features, self.n_tasks)

    def split(self, W):
        """The parts ``[W_1, ..., W_K]``, each (d, T)."""
        d = self.base.n_features
        return [W[k * d:(k + 1) * d, :] for k in range(self.n_parts)]

    def collapse(self, W):
        """``W_1 + ... + W_K``: the model's coefficients."""
        parts = self.split(W)
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total

    def stack(self, G):
        """``(G; ...; G)``: the adjoint of :meth:`collapse`."""
        return self.xp.concat([G] * self.n_parts, axis=0)

    def linear_part(self, W):
        """Linear predictor of the summed parts."""
        return self.base.linear_part(self.collapse(W))

    def broadcast_tasks(self, b):
        """Spread per-task values to the shape of ``eta``."""
        return self.base.broadcast_tasks(b)

    def forward(self, W, b):
        """``eta = A(sum_k W_k, b)``."""
        return self.base.forward(self.collapse(W), b)

    def task_sums(self, R):
        """Per-task sums of an ``eta``-shaped array."""
        return self.base.task_sums(R)

    def adjoint(self, R):
        """``((A^T R; ...; A^T R), per-task sums)``."""
        G, g = self.base.adjoint(R)
        return self.stack(G), g

    def gram_statistics(self, y, s, pooled):
        """Gram statistics of the stacked variable (designs without rows):
        those of ``base`` repeated in every block, since the stacked
        Hessian is :math:`\tilde A^\top \tilde A = J \\otimes A^\top A`."""

        inner = task_grams(self.base, y, s)
        K, xp = self.n_parts, self.xp
        H = inner.H
        if inner.task_scale is None and H.ndim == 3:
            H = xp.concat([xp.concat([H] * K, axis=2)] * K, axis=1)
        else:
            H = xp.concat([xp.concat([H] * K, axis=1)] * K, axis=0)
        return {"H": H, "task_scale": inner.task_scale,
                "m": xp.concat([inner.m] * K, axis=0),
                "c": xp.concat([inner.c] * K, axis=0), "n": inner.n,
                "ybar": inner.ybar, "yy": inner.yy, "pooled": inner.pooled,
                "order": inner.order, "inverse": inner.inverse}
