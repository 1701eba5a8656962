r"""Entry- and row-separable penalties: L1, L21 (with a ridge mix), ridge.

Row ``j`` of ``W`` holds feature ``j`` across tasks, so the L21 norm
:math:`\sum_j \lVert W_{j\cdot}\rVert_2` selects features jointly for all
tasks (Obozinski, Taskar & Jordan, 2010; Argyriou, Evgeniou & Pontil, 2008).
"""

from __future__ import annotations

from array_api_compat import array_namespace

from ._base import NormPenalty, _check_alpha, frobenius_sq


class L1(NormPenalty):
    r"""Elementwise lasso, :math:`\alpha \sum_{jt} |W_{jt}|`.

    Separable over tasks: with a shared design it is one ``Lasso`` per task.
    """

    def norm(self, W):
        """Sum of absolute values."""
        return array_namespace(W).sum(array_namespace(W).abs(W))

    def prox(self, W, step):
        """Soft thresholding at ``alpha * step``."""
        xp = array_namespace(W)
        return xp.sign(W) * xp.clip(xp.abs(W) - self.alpha * step, 0.0, None)

    def dual_norm(self, G):
        """Largest absolute entry."""
        xp = array_namespace(G)
        return xp.max(xp.abs(G))


def _row_norms(W, xp):
    return xp.sqrt(xp.sum(W * W, axis=1))


class L21:
    r"""Group lasso over rows with an optional ridge mix.

    .. math::

        g(W) = \alpha\Big(\rho \sum_j \lVert W_{j\cdot}\rVert_2
               + \frac{1-\rho}{2}\lVert W\rVert_F^2\Big),

    with ``rho = l1_ratio``: scikit-learn's ``MultiTaskLasso`` (``rho = 1``) and
    ``MultiTaskElasticNet`` penalties exactly.
    """

    def __init__(self, alpha, l1_ratio=1.0):
        self.alpha = _check_alpha(alpha)
        self.l1_ratio = float(l1_ratio)
        if not 0.0 <= self.l1_ratio <= 1.0:
            raise ValueError(f"l1_ratio must be in [0, 1]; got {l1_ratio!r}.")

    def norm(self, W):
        """The L21 norm (sum of row Euclidean norms)."""
        xp = array_namespace(W)
        return xp.sum(_row_norms(W, xp))

    def value(self, W):
        """Penalty value."""
        ridge = 0.5 * (1 - self.l1_ratio) * frobenius_sq(W)
        return self.alpha * (self.l1_ratio * self.norm(W) + ridge)

    def prox(self, W, step):
        """Group soft thresholding, then ridge shrinkage."""
        xp = array_namespace(W)
        norms = _row_norms(W, xp)
        threshold = self.alpha * self.l1_ratio * step
        safe = xp.where(norms > 0, norms, xp.ones_like(norms))
        shrink = xp.clip(1 - threshold / safe, 0.0, None)
        return W * (shrink / (1 + self.alpha * (1 - self.l1_ratio) * step))[:, None]

    def dual_norm(self, G):
        """Largest row norm (dual of the L21 norm)."""
        xp = array_namespace(G)
        return xp.max(_row_norms(G, xp))

    def dual_scaling(self, V):
        """Scale into the dual ball when the penalty is a pure norm."""
        if self.l1_ratio < 1.0 or self.alpha == 0:
            return 1.0 if self.alpha > 0 else 0.0
        norm = float(self.dual_norm(V))
        return 1.0 if norm <= self.alpha else self.alpha / norm

    def conjugate(self, V):
        r""":math:`\sum_j (\lVert V_j\rVert - \alpha\rho)_+^2 / (2\alpha(1-\rho))`."""
        if self.l1_ratio >= 1.0 or self.alpha == 0:
            return 0.0
        xp = array_namespace(V)
        excess = xp.clip(_row_norms(V, xp) - self.alpha * self.l1_ratio, 0.0, None)
        return xp.sum(excess * excess) / (2 * self.alpha * (1 - self.l1_ratio))


    def rescaled(self, weight, scale):
        """This penalty in rescaled variables: ``V -> weight * g(scale * V)``.

        Used to solve at any data scale (:mod:`mtstats._scaling`). The norm
        part scales with ``scale`` and the ridge part with ``scale**2``.
        """
        norm_part = self.alpha * self.l1_ratio * (weight * scale)
        ridge_part = self.alpha * (1 - self.l1_ratio) * (weight * scale * scale)
        alpha = norm_part + ridge_part
        return L21(alpha, norm_part / alpha if alpha > 0 else self.l1_ratio)

    def __repr__(self):
        return f"L21(alpha={self.alpha!r}, l1_ratio={self.l1_ratio!r})"


class SquaredFrobenius:
    r"""Ridge, :math:`\tfrac{\alpha}{2}\lVert W\rVert_F^2` (not a norm)."""

    def __init__(self, alpha):
        self.alpha = _check_alpha(alpha)

    def value(self, W):
        """Penalty value."""
        return 0.5 * self.alpha * frobenius_sq(W)

    def prox(self, W, step):
        """Uniform shrinkage ``W / (1 + alpha step)``."""
        return W / (1 + self.alpha * step)

    def dual_norm(self, G):
        """Not a norm: no ``alpha_max`` exists."""
        return None

    def dual_scaling(self, V):
        """The conjugate is finite everywhere (zero scale only when alpha=0)."""
        return 1.0 if self.alpha > 0 else 0.0

    def conjugate(self, V):
        r""":math:`\lVert V\rVert_F^2 / (2\alpha)`."""
        return frobenius_sq(V) / (2 * self.alpha) if self.alpha > 0 else 0.0


    def rescaled(self, weight, scale):
        """This penalty in rescaled variables: ``V -> weight * g(scale * V)``.

        Used to solve at any data scale (:mod:`mtstats._scaling`). Quadratic:
        ``alpha`` scales with ``scale**2``.
        """
        return SquaredFrobenius(self.alpha * (weight * scale * scale))

    def __repr__(self):
        return f"SquaredFrobenius(alpha={self.alpha!r})"
