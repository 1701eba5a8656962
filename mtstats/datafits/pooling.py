r"""The datafit of partial pooling: a free shared mean and shrunk intercepts.

:class:`PoolingDatafit` wraps a row or Gram datafit ``F`` for a
:class:`~mtstats.penalties.pooling.PartialPooling` penalty. It adds the
smooth intercept penalty

.. math::

    q(u) = \tfrac12\min_\mu\sum_t\kappa_t(u_t - \mu)^2
         = \tfrac12 u^\top Q u,\qquad
    Q = \operatorname{diag}(\kappa) - \kappa\kappa^\top/\textstyle\sum_t\kappa_t,

on the intercepts at the grand mean of the features, :math:`u = b + a`
(the solver centres the features on their grand mean when intercepts are
shrunk, and regression targets on each task's mean ``a``;
:class:`~mtstats.penalties.pooling.InterceptPrior`), and, where the shared
mean model :math:`w_0` is free, profiles it out together with the
intercepts. The profile minimises :math:`F(W + \delta\mathbf 1^\top, b) +
q(b + a)` over :math:`(\delta, b)` by Newton steps on the block system

.. math::

    \begin{pmatrix} H & B\\ B^\top & D + Q\end{pmatrix}
    \begin{pmatrix}\delta\\ \Delta b\end{pmatrix} = -\begin{pmatrix}
    G\mathbf 1\\ g_b\end{pmatrix},

with :math:`H = \sum_t X_t^\top S_t X_t`, :math:`B_{\cdot t} = X_t^\top S_t
\mathbf 1`, :math:`D = \operatorname{diag}(\mathbf 1^\top S_t\mathbf 1)`
(:math:`S_t` the loss curvature times the sample weights) and
:math:`(G, g_b)` the gradient of :math:`F + q`. :math:`D + Q` is a diagonal
plus a rank-one matrix, inverted by Sherman-Morrison, so a step costs
:math:`O(d^2 T + d^3)` beyond the curvature statistics: one exact step for
the squared loss (statistics cached), clipped and backtracked Newton steps
for the logistic loss.

At the profiled point the pooled gradient :math:`G\mathbf 1` and the
intercept gradient vanish, which is what the Fenchel dual needs: the
conjugate of :math:`g(WP)` is finite only on :math:`Z\mathbf 1 = 0`, and
the intercept block of the dual constraint holds. The duality gap is then
exact: :math:`q = \tfrac12\lVert Q^{1/2}(b + a)\rVert^2` is a
least-squares term on pseudo-rows (design :math:`Q^{1/2}` on ``b``, target
:math:`-Q^{1/2}a`), so for the squared loss
:func:`~mtstats.datafits._common.quadratic_gap` applies to :math:`F + q`,
and for other losses the pseudo-rows' dual variable :math:`\nu = -Q^{1/2}u`
adds :math:`-\tfrac{c^2}2 u^\top Qu + c\,u^\top Qa` to the dual objective
(``c`` the dual scaling).
"""

from __future__ import annotations

import math

from ._common import quadratic_gap, to_floats

#: Most Newton steps of one profile (non-quadratic losses).
MAX_NEWTON = 50
#: Most halvings of one profile step.
MAX_HALVINGS = 30


class PoolingDatafit:
    """``F + q`` with the free directions profiled (see the module docstring).

    The solver continues from the profiled point after every duality-gap
    check (``adopts_profile``): the free directions may be far stiffer or
    flatter than the penalised ones, and the profile solves them exactly.

    Parameters
    ----------
    inner : RowDatafit or GramDatafit
    free_mean : bool
        Profile the shared mean direction :math:`W \\to W + \\delta\\mathbf 1^\\top`.
    prior : InterceptPrior or None
        The intercept penalty; ``None`` for unpenalised intercepts.
    """

    adopts_profile = True

    def __init__(self, inner, free_mean, prior):
        self.inner, self.free_mean, self.prior = inner, bool(free_mean), prior
        self.xp, self.design = inner.xp, inner.design
        self.coef_shape, self.n_tasks = inner.coef_shape, inner.n_tasks
        self.quadratic = inner.quadratic
        self.eps = inner.eps
        xp = self.xp
        if prior is not None:
            self.kappa = prior.kappa
            self.kappa_sum = xp.sum(prior.kappa)
            self.kappa_max = float(xp.max(prior.kappa))
        self._blocks = None

    # -- the intercept penalty on u = b + a ----------------------------
    def intercepts(self, b, anchor=True):
        """The intercepts ``u`` the penalty acts on (``b + a``; ``b`` alone
        without the ``anchor``)."""
        return b + self.prior.anchor if anchor else b

    def _Q(self, u):
        """``Q u``."""
        xp = self.xp
        return self.kappa * (u - xp.sum(self.kappa * u) / self.kappa_sum)

    def _q(self, u):
        return 0.5 * self.xp.sum(u * self._Q(u))

    # -- the datafit interface -------------------------------------------
    def state(self, W, b):
        """The inner state and ``u`` (affine in the point)."""
        u = None if self.prior is None else self.intercepts(b)
        return self.inner.state(W, b), u

    def extrapolate(self, new, old, beta):
        """State of ``x + beta (x - x_old)``."""
        if beta == 0:
            return new
        u = None if new[1] is None else new[1] + beta * (new[1] - old[1])
        return self.inner.extrapolate(new[0], old[0], beta), u

    def _q_at(self, state):
        return 0.0 if state[1] is None else self._q(state[1])

    def value(self, state):
        """``F + q`` at the state."""
        return self.inner.value(state[0]) + self._q_at(state)

    def linearize(self, state):
        """Gradient of ``F + q``; the third entry is the inner one."""
        G, g_b, extra = self.inner.linearize(state[0])
        if state[1] is not None:
            g_b = g_b + self._Q(state[1])
        return G, g_b, extra

    def decrease_violation(self, new, z, f_new, lin, dW, db, sq, step):
        """The inner test plus the exact Bregman term of ``q``, ``q(du)``."""
        inner_f = f_new - self._q_at(new)
        extra = 0.0 if self.prior is None else self._q(db)
        return tuple(v + extra for v in self.inner.decrease_violation(
            new[0], z[0], inner_f, lin, dW, db, sq, step))

    def lipschitz(self, fit_intercept=True):
        """Inner constant with the intercept curvature raised by ``max kappa``
        (``Q`` has no larger eigenvalue)."""
        if self.prior is None or not fit_intercept:
            return self.inner.lipschitz(fit_intercept)
        return self.inner.lipschitz(fit_intercept, extra_intercept=self.kappa_max)

    # -- profiling the free directions -----------------------------------
    def _apply_inverse(self, E, v):
        """``(diag(E) - kappa kappa^T / sum(kappa))^{-1} v`` by Sherman-Morrison.

        ``E`` holds the diagonal of ``D + Q`` (``h + kappa``); ``v`` has shape
        (T,) or (T, k).
        """
        column = v.ndim == 1
        v = v[:, None] if column else v
        out = v / E[:, None]
        if self.prior is not None:
            xp = self.xp
            k_over_E = self.kappa / E
            denominator = self.kappa_sum - xp.sum(self.kappa * k_over_E)
            out = out + k_over_E[:, None] * ((k_over_E[None, :] @ v) / denominator)
        return out[:, 0] if column else out

    def _blocks_at(self, state):
        """Curvature blocks ``(H, B, h)`` of ``F + q`` (cached when quadratic)."""
        if self._blocks is not None:
            return self._blocks
        _, _, H, B, h = self.inner.profile_blocks(state[0], self.free_mean)
        if self.prior is not None:
            h = h + self.kappa
        if self.quadratic:
            self._blocks = (H, B, h)
        return H, B, h

    def _newton_step(self, state, fit_intercept):
        xp = self.xp
        H, B, h = self._blocks_at(state)
        G, g_b, _ = self.linearize(state)
        delta = db = None
        if fit_intercept:
            tiny = 1e-12 * xp.max(h) + 1e-300
            E = xp.where(h > tiny, h, tiny)
        if self.free_mean:
            C, rhs = H, -xp.sum(G, axis=1)
            if fit_intercept:
                C = H - B @ self._apply_inverse(E, xp.matrix_transpose(B))
                rhs = rhs + B @ self._apply_inverse(E, g_b)
            d = C.shape[0]
            ridge = 1e-12 * (xp.sum(xp.abs(C)) / d) + 1e-300
            delta = xp.linalg.solve(C + ridge * xp.eye(d, dtype=C.dtype), rhs)
        if fit_intercept:
            shift = g_b if delta is None else g_b + xp.matrix_transpose(B) @ delta
            db = -self._apply_inverse(E, shift)
        return delta, db

    def _moved(self, W, b, delta, db, t):
        W_new = W if delta is None else W + (t * delta)[:, None]
        b_new = b if db is None else b + t * db
        return W_new, b_new, self.state(W_new, b_new)

    def profile(self, W, b, state, fit_intercept=True):
        """Minimise over the free directions for fixed deviations; ``(W, b, state)``."""
        if not (self.free_mean or fit_intercept):
            return W, b, state
        xp = self.xp
        limit = getattr(getattr(self.inner, "loss", None), "newton_step_limit", None)
        current = None
        for _ in range(1 if self.quadratic else MAX_NEWTON):
            delta, db = self._newton_step(state, fit_intercept)
            if self.quadratic:
                return self._moved(W, b, delta, db, 1.0)
            if db is not None and limit is not None:
                db = xp.clip(db, -limit, limit)
            current = float(self.value(state)) if current is None else current
            t, moved = 1.0, None
            for _ in range(MAX_HALVINGS):
                candidate = self._moved(W, b, delta, db, t)
                value = float(self.value(candidate[2]))
                if math.isfinite(value) and value <= current + 1e-13 * abs(current):
                    moved = candidate
                    break
                t *= 0.5
            if moved is None:
                break
            W, b, state = moved
            sizes = [xp.max(xp.abs(v)) for v in (delta, db) if v is not None]
            floats = to_floats(xp, [*sizes, xp.max(xp.abs(W)) + xp.max(xp.abs(b))])
            small, top = max(floats[:-1]), floats[-1]
            improvement, current = current - value, value
            if t * small < 1e-12 * max(1.0, top) or improvement <= 1e-15 * abs(value):
                break
        return W, b, state

    def null_model(self, fit_intercept):
        """``W = 0``, zero intercepts, then the free directions profiled."""
        xp = self.xp
        dtype = self.inner.y.dtype if hasattr(self.inner, "y") else self.inner.dtype
        W = xp.zeros(self.coef_shape, dtype=dtype)
        b = xp.zeros((self.n_tasks,), dtype=dtype)
        return self.profile(W, b, self.state(W, b), fit_intercept)

    def duality_gap(self, penalty, W, b, state, fit_intercept=True):
        """Exact duality gap after profiling; ``(gap, primal, W, b)``."""
        W, b, state = self.profile(W, b, state, fit_intercept)
        G, g_b, _ = self.linearize(state)
        if self.quadratic:
            gap, primal = quadratic_gap(penalty, self.value(state), W, b, G, g_b)
            return gap, primal, W, b
        xp, inner = self.xp, self.inner
        eta, u = state
        theta = -inner.loss.gradient(eta, inner.y, inner.s)
        scale = penalty.dual_scaling(-G)
        prior_dual = 0.0
        if u is not None:
            prior_dual = (-0.5 * scale * scale * xp.sum(u * self._Q(u))
                          + scale * xp.sum(u * self._Q(self.prior.anchor)))
        primal, dual = to_floats(xp, [
            inner.loss.value(eta, inner.y, inner.s) + penalty.value(W)
            + self._q_at(state),
            inner.loss.dual(scale * theta, inner.y, inner.s)
            - penalty.conjugate(-scale * G) + prior_dual])
        return primal - dual, primal, W, b
