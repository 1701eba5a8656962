r"""The Gram datafit: the squared loss from per-task sufficient statistics.

With the statistics of :mod:`mtstats.datafits.grams` and
:math:`x = (W, b)`, the loss is the quadratic

.. math::

    F(x) = \tfrac12\langle x, Kx\rangle - \langle x, \tilde c\rangle
           + \tfrac12\textstyle\sum_t q_t,\qquad
    (Kx)_t = \begin{pmatrix} H_t w_t + m_t b_t \\ m_t^\top w_t + n_t b_t
             \end{pmatrix},\quad
    \tilde c_t = \begin{pmatrix} c_t \\ \bar y_t\end{pmatrix},

so an iteration costs one product with the Gram matrices, O(d^2 T), instead
of a forward and an adjoint product with the rows, O(n d T). The state of a
point is :math:`(W, b, Kx)` (linear in ``x``, so extrapolated points cost no
product); the gradient is :math:`Kx - \tilde c`; the line-search term
:math:`F(x) - F(z) - \langle\nabla F(z), x - z\rangle = \tfrac12\langle x - z,
Kx - Kz\rangle` is exact; the intercepts are profiled in closed form; and the
duality gap is :func:`~mtstats.datafits._common.quadratic_gap`, the same
certificate as with rows. Only the objective value,
:math:`\tfrac12 q - \langle x, \tilde c\rangle + \tfrac12\langle x, Kx\rangle`,
loses digits to cancellation (about ``eps * q`` in absolute terms).
"""

from __future__ import annotations

from .._designs import power_iteration, scaled_map
from ._common import quadratic_gap, step_metric
from .rows import ROUNDING


class GramDatafit:
    """Squared loss on :class:`~mtstats.datafits.grams.GramStatistics`.

    Parameters
    ----------
    grams : GramStatistics
    design : object
        The design the statistics come from (shapes and namespace).
    dtype : dtype
        Floating dtype of the solve.
    """

    quadratic = True

    def __init__(self, grams, design, dtype):
        xp = design.xp
        self.grams, self.design, self.xp, self.dtype = grams, design, xp, dtype
        self.coef_shape, self.n_tasks = design.coef_shape, design.n_tasks
        self.eps = float(xp.finfo(dtype).eps)
        g = grams
        self.c = xp.sum(g.c, axis=1, keepdims=True) if g.pooled else g.c
        self.half_yy = 0.5 * xp.sum(g.yy)
        tiny = 1e-12 * xp.max(g.n)
        self.n_safe = xp.where(g.n > tiny, g.n, tiny)

    def hessian(self, W, b):
        """``K (W, b)``: the Hessian of the loss applied to a point."""
        g, xp = self.grams, self.xp
        if g.pooled:
            return (g.H @ W + g.m @ b[:, None],
                    (xp.matrix_transpose(g.m) @ W)[:, 0] + g.n * b)
        if g.task_scale is not None:
            HW = (g.H @ W) * g.task_scale[None, :]
        else:
            Wt = xp.permute_dims(W, (1, 0))
            if g.order is not None:
                Wt = xp.take(Wt, g.order, axis=0)
            HWt = xp.matmul(g.H, Wt[:, :, None])[:, :, 0]
            if g.inverse is not None:
                HWt = xp.take(HWt, g.inverse, axis=0)
            HW = xp.permute_dims(HWt, (1, 0))
        return HW + g.m * b[None, :], xp.sum(g.m * W, axis=0) + g.n * b

    def state(self, W, b):
        """``(W, b, K_W, K_b)``."""
        return (W, b, *self.hessian(W, b))

    def extrapolate(self, new, old, beta):
        """State of ``x + beta (x - x_old)``."""
        if beta == 0:
            return new
        return tuple(a + beta * (a - o) for a, o in zip(new, old, strict=True))

    def value(self, state):
        """``F`` at the state (a 0-d array)."""
        xp = self.xp
        W, b, KW, Kb = state
        return (0.5 * (xp.sum(W * KW) + xp.sum(b * Kb)) - xp.sum(W * self.c)
                - xp.sum(b * self.grams.ybar) + self.half_yy)

    def linearize(self, state):
        """Gradient ``(G, g_b)`` and the norm of ``K x`` (a rounding scale)."""
        xp = self.xp
        _, _, KW, Kb = state
        scale = xp.sqrt(xp.sum(KW * KW) + xp.sum(Kb * Kb))
        return KW - self.c, Kb - self.grams.ybar, scale

    def decrease_violation(self, new, z, f_new, lin, dW, db, sq, step):
        r"""Excess of :math:`\tfrac12\langle x - z, Kx - Kz\rangle` over
        ``sq / (2 step)``, beyond the rounding of the two products (strict and
        loose, as for rows)."""
        xp = self.xp
        excess = 0.5 * (xp.sum(dW * (new[2] - z[2])) + xp.sum(db * (new[3] - z[3])))
        size = self.eps * (xp.sqrt(xp.sum(new[2] * new[2]) + xp.sum(new[3] * new[3]))
                           + lin[2]) * xp.sqrt(sq)
        return tuple(excess - sq / (2 * step) - k * size for k in ROUNDING)

    def lipschitz(self, fit_intercept=True, extra_intercept=0.0):
        """Largest eigenvalue of ``K`` (power iteration on the statistics) in
        the metric of :func:`~mtstats.datafits._common.step_metric`, and the
        intercept step ratio; ``extra_intercept`` as for rows."""
        def bound(ratio):
            return power_iteration(scaled_map(self.hessian, ratio), self.coef_shape,
                                   self.n_tasks, self.xp,
                                   self.dtype) + ratio * extra_intercept

        intercept = float(self.xp.max(self.grams.n)) + extra_intercept
        return step_metric(bound, intercept, fit_intercept)

    def profile_blocks(self, state, free_mean):
        """``(G, g_b, H, B, h)`` as :meth:`RowDatafit.profile_blocks
        <mtstats.datafits.RowDatafit.profile_blocks>`, from the statistics."""
        g, xp = self.grams, self.xp
        G, g_b, _ = self.linearize(state)
        H = B = None
        if free_mean:
            B = g.m
            if g.task_scale is not None:
                H = g.H * xp.sum(g.task_scale)
            else:
                H = xp.sum(g.H, axis=0)
        return G, g_b, H, B, g.n

    def profile(self, W, b, state):
        """Optimal intercepts for fixed ``W`` (closed form); ``(W, b, state)``."""
        g = self.grams
        W, b, KW, Kb = state
        step = (Kb - g.ybar) / self.n_safe
        shift = g.m @ step[:, None] if g.pooled else g.m * step[None, :]
        state = (W, b - step, KW - shift, Kb - g.n * step)
        return W, state[1], state

    def null_model(self, fit_intercept):
        """``W = 0`` and the intercepts of the intercept-only model, with state."""
        xp = self.xp
        W = xp.zeros(self.coef_shape, dtype=self.dtype)
        b = xp.zeros((self.n_tasks,), dtype=self.dtype)
        state = self.state(W, b)
        if fit_intercept:
            W, b, state = self.profile(W, b, state)
        return W, b, state

    def duality_gap(self, penalty, W, b, state, fit_intercept=True):
        """Duality gap, primal objective, ``W`` and profiled intercepts (see rows)."""
        if fit_intercept:
            W, b, state = self.profile(W, b, state)
        G, g_b, _ = self.linearize(state)
        gap, primal = quadratic_gap(penalty, self.value(state), W, b, G, g_b)
        return gap, primal, W, b
