r"""Penalties on a coefficient matrix written as a sum of parts, ``W = P + Q``.

The dirty model, sparse + low rank, robust MTL and rMTFL all fit
:math:`W = \sum_k W_k` with a different norm on every part,

.. math::

    g(W_1, \dots, W_K) = \alpha \sum_k s_k\, \Omega_k(W_k),

over the stacked variable :math:`(W_1; \dots; W_K)` (K d x T), which a
:class:`~mtstats._components.ComponentDesign` sends to ``W``. The penalty
is separable over the parts, so its proximal operator is the tuple of the
parts' proximal operators (no inner iterations), its conjugate the sum of
theirs, and, since every part sees the same gradient ``G`` of the loss, the
smallest ``alpha`` with ``W = 0`` optimal is :math:`\max_k
\Omega_k^D(G)/s_k` (the dual norm of the infimal convolution).

Two norms used only as parts live here: :class:`L1Inf` (rows, Jalali et al.
2010) and :class:`ColumnL21` (columns: outlier tasks, Chen, Zhou & Ye 2011;
Gong, Ye & Zhang 2012).
"""

from __future__ import annotations

from array_api_compat import array_namespace

from ._base import NormPenalty, _check_alpha


class L1Inf(NormPenalty):
    r"""Row-wise L1/L-infinity norm :math:`\alpha\sum_j \max_t |W_{jt}|`.

    A feature is used by all tasks or by none, with equal magnitudes
    encouraged (Negahban & Wainwright, 2011; the block part of the dirty
    model, Jalali et al., NIPS 2010). The proximal operator is, by Moreau's
    identity, ``W`` minus its projection on the L1 ball of radius
    ``alpha * step`` (row by row), which is closed form after one sort
    (Duchi, Shalev-Shwartz, Singer & Chandra, ICML 2008).
    """

    def norm(self, W):
        """Sum over rows of the largest absolute entry."""
        xp = array_namespace(W)
        return xp.sum(xp.max(xp.abs(W), axis=1))

    def prox(self, W, step):
        """``W - P_{B1(alpha step)}(W)``, row by row."""
        return W - project_rows_l1_ball(W, self.alpha * step)

    def dual_norm(self, G):
        """Largest row L1 norm (the dual of L1/L-infinity)."""
        xp = array_namespace(G)
        return xp.max(xp.sum(xp.abs(G), axis=1))


def project_rows_l1_ball(W, radius):
    r"""Euclidean projection of every row of ``W`` on the L1 ball of ``radius``.

    Row ``v`` inside the ball is kept; otherwise the projection is
    :math:`\mathrm{sign}(v)(|v| - \theta)_+` with :math:`\theta = (\sum_{i
    \le \rho} u_i - r)/\rho`, ``u`` the sorted magnitudes (decreasing) and
    :math:`\rho` the largest ``i`` with :math:`u_i > (\sum_{l \le i} u_l -
    r)/i` (Duchi et al. 2008, Fig. 1); that ``theta`` is also the largest
    of the ``(u_1 + ... + u_i - r)/i``, which needs no gather. Vectorised
    over rows.
    """
    xp = array_namespace(W)
    magnitude = xp.abs(W)
    if radius <= 0:
        return xp.zeros_like(W)
    u = xp.flip(xp.sort(magnitude, axis=1), axis=1)
    cumulative = xp.cumulative_sum(u, axis=1) - radius
    ranks = xp.arange(1, W.shape[1] + 1, dtype=W.dtype)[None, :]
    # theta = max_i (u_1 + ... + u_i - r) / i, attained at i = rho
    theta = xp.max(cumulative / ranks, axis=1, keepdims=True)
    inside = xp.sum(magnitude, axis=1, keepdims=True) <= radius
    theta = xp.where(inside, xp.zeros_like(theta), theta)
    return xp.sign(W) * xp.clip(magnitude - theta, 0.0, None)


class ColumnL21(NormPenalty):
    r"""Group lasso over columns, :math:`\alpha\sum_t \lVert W_{\cdot t}\rVert_2`.

    A whole task's column is zero or not: in the robust models the non-zero
    columns of the outlier part mark the tasks that do not share the
    structure (MALSAR's :math:`\lVert W^\top\rVert_{2,1}`).
    """

    def norm(self, W):
        """Sum of column Euclidean norms."""
        xp = array_namespace(W)
        return xp.sum(xp.sqrt(xp.sum(W * W, axis=0)))

    def prox(self, W, step):
        """Column-wise group soft thresholding at ``alpha * step``."""
        xp = array_namespace(W)
        norms = xp.sqrt(xp.sum(W * W, axis=0))
        safe = xp.where(norms > 0, norms, xp.ones_like(norms))
        return W * xp.clip(1 - self.alpha * step / safe, 0.0, None)[None, :]

    def dual_norm(self, G):
        """Largest column norm."""
        xp = array_namespace(G)
        return xp.max(xp.sqrt(xp.sum(G * G, axis=0)))


class Decomposition:
    r""":math:`\alpha\sum_k s_k\,\Omega_k(W_k)` on stacked parts ``(W_1; ...; W_K)``.

    Parameters
    ----------
    alpha : float
        Overall strength.
    norms : sequence of NormPenalty classes
        :math:`\Omega_k`, one per part (e.g. ``(L1Inf, L1)``).
    shares : sequence of float
        :math:`s_k > 0`, the share of ``alpha`` on every part.
    """

    is_norm = True

    def __init__(self, alpha, norms, shares):
        self.alpha = _check_alpha(alpha)
        self.norms, self.shares = tuple(norms), tuple(float(s) for s in shares)
        if len(self.norms) != len(self.shares) or not all(
                s > 0 for s in self.shares):
            raise ValueError("Decomposition needs one positive share per norm; got "
                             f"{self.shares!r} for {len(self.norms)} norms.")
        self.parts = [norm(self.alpha * share)
                      for norm, share in zip(self.norms, self.shares, strict=True)]

    def split(self, W):
        """The parts ``[W_1, ..., W_K]`` of the stacked variable."""
        d = W.shape[0] // len(self.parts)
        return [W[k * d:(k + 1) * d, :] for k in range(len(self.parts))]

    def value(self, W):
        """Penalty value."""
        return sum(part.value(Wk) for part, Wk in zip(self.parts, self.split(W),
                                                      strict=True))

    def prox(self, W, step):
        """The parts' proximal operators, stacked."""
        xp = array_namespace(W)
        return xp.concat([part.prox(Wk, step) for part, Wk in
                          zip(self.parts, self.split(W), strict=True)], axis=0)

    def dual_norm(self, G):
        r""":math:`\max_k \Omega_k^D(G_k)/s_k`: the dual norm of the unit-strength
        penalty (every part's gradient block equals the loss gradient)."""
        return max(float(part.dual_norm(Gk)) / share for part, Gk, share in
                   zip(self.parts, self.split(G), self.shares, strict=True))

    def dual_scaling(self, V):
        """Largest ``c <= 1`` putting every block of ``c V`` in its dual ball."""
        scale = 1.0
        for part, Vk in zip(self.parts, self.split(V), strict=True):
            scale = min(scale, part.dual_scaling(Vk))
        return scale

    def conjugate(self, V):
        """Zero: ``V`` is assumed scaled into the dual balls."""
        return 0.0

    def rescaled(self, weight, scale):
        """This penalty in rescaled variables (every part is a norm)."""
        return Decomposition(self.alpha * (weight * scale), self.norms, self.shares)

    def __repr__(self):
        names = ", ".join(norm.__name__ for norm in self.norms)
        return (f"Decomposition(alpha={self.alpha!r}, norms=({names}), "
                f"shares={self.shares!r})")
