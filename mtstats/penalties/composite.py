r"""Penalties on orthogonal shared + private parts of ``W``, whose prox splits.

If :math:`W = P(W) + P^\perp(W)` for an orthogonal projector :math:`P` and the
penalty is a sum :math:`h(P W) + k(P^\perp W)`, then the proximal operator
is the sum of the two parts' proximal operators (the squared distance splits
across orthogonal subspaces), and so is the Fenchel conjugate. Two such
decompositions are used:

* :class:`SharedMean` -- ``P`` averages the task columns: ``W = w0 1^T + V``
  with ``V 1 = 0`` (mean-regularised MTL; Evgeniou & Pontil, KDD 2004).
* :class:`SubspaceRidge` -- ``P = Theta Theta^T`` projects the feature space
  on a shared subspace (alternating structure optimisation; Ando & Zhang,
  JMLR 2005, in the iASO form of Chen et al., ICML 2009).
"""

from __future__ import annotations

from array_api_compat import array_namespace

from ._base import _check_alpha, frobenius_sq


class SharedMean:
    r"""Shared model plus private deviations that sum to zero.

    .. math::

        g(W) = \beta\, h(w_0) + \alpha \lVert V\rVert_F^2,\qquad
        w_0 = \tfrac1T W\mathbf 1,\quad V = W - w_0\mathbf 1^\top,

    with :math:`h = \lVert\cdot\rVert_2^2` (``shared="l2"``) or
    :math:`\lVert\cdot\rVert_1` (``shared="l1"``, a sparse shared model).

    Parameters
    ----------
    alpha : float
        Strength on the private deviations ``V``.
    beta : float
        Strength on the shared model ``w0``.
    shared : {"l2", "l1"}
        Penalty ``h`` on the shared model.
    """

    def __init__(self, alpha, beta, shared="l2"):
        self.alpha, self.beta = _check_alpha(alpha), _check_alpha(beta)
        if shared not in ("l2", "l1"):
            raise ValueError(f"shared must be 'l2' or 'l1'; got {shared!r}.")
        self.shared = shared

    @staticmethod
    def split(W):
        """Return ``(w0, V)``: the column mean and the deviations from it."""
        xp = array_namespace(W)
        w0 = xp.mean(W, axis=1)
        return w0, W - w0[:, None]

    def _shared_value(self, w0):
        xp = array_namespace(w0)
        return xp.sum(w0 * w0) if self.shared == "l2" else xp.sum(xp.abs(w0))

    def value(self, W):
        """Penalty value."""
        w0, V = self.split(W)
        return self.beta * self._shared_value(w0) + self.alpha * frobenius_sq(V)

    def prox(self, W, step):
        """Prox of each orthogonal part; the shared part sees weight ``T``."""
        xp = array_namespace(W)
        w0, V = self.split(W)
        threshold = step * self.beta / W.shape[1]
        if self.shared == "l2":
            w0 = w0 / (1 + 2 * threshold)
        else:
            w0 = xp.sign(w0) * xp.clip(xp.abs(w0) - threshold, 0.0, None)
        return w0[:, None] + V / (1 + 2 * step * self.alpha)

    def dual_norm(self, G):
        """Not a norm: no ``alpha_max`` exists."""
        return None

    def _shared_dual(self, Z):
        xp = array_namespace(Z)
        return xp.sum(Z, axis=1)  # T * mean: the shared part's coordinates

    def dual_scaling(self, Z):
        """Scale into the L1 conjugate's box (sparse shared model only)."""
        if self.shared == "l2":
            return 1.0
        xp = array_namespace(Z)
        norm = float(xp.max(xp.abs(self._shared_dual(Z))))
        return 1.0 if norm <= self.beta else self.beta / norm

    def conjugate(self, Z):
        r""":math:`h^*(\sum_t z_t) + \lVert Z_V\rVert_F^2 / (4\alpha)`."""
        xp = array_namespace(Z)
        z = self._shared_dual(Z)
        _, Z_V = self.split(Z)
        # beta = 0 (an unpenalised shared model) is used only under a free
        # mean (mtstats.penalties.pooling), which profiles z to zero
        shared = (xp.sum(z * z) / (4 * self.beta)
                  if self.shared == "l2" and self.beta > 0 else 0.0)
        return shared + frobenius_sq(Z_V) / (4 * self.alpha)


    def rescaled(self, weight, scale):
        """This penalty in rescaled variables: ``V -> weight * g(scale * V)``.

        Used to solve at any data scale (:mod:`mtstats._scaling`). The private
        part is quadratic; the shared part quadratic or (``"l1"``) a norm.
        """
        quadratic = weight * scale * scale
        shared = quadratic if self.shared == "l2" else weight * scale
        return SharedMean(self.alpha * quadratic, self.beta * shared, self.shared)

    def __repr__(self):
        return (f"SharedMean(alpha={self.alpha!r}, beta={self.beta!r}, "
                f"shared={self.shared!r})")


class SubspaceRidge:
    r"""Ridge penalties of different strength inside and outside a subspace.

    .. math::

        g(W) = (\alpha + \beta) \lVert (I - \Theta\Theta^\top) W\rVert_F^2
        + \beta \lVert \Theta\Theta^\top W\rVert_F^2,

    the iASO penalty :math:`\alpha\lVert u_t\rVert^2 + \beta\lVert w_t
    \rVert^2` after minimising over the shared coordinates, for a fixed
    orthonormal basis ``Theta`` (d x h).
    """

    def __init__(self, alpha, beta, basis):
        self.alpha, self.beta = _check_alpha(alpha), _check_alpha(beta)
        self.basis = basis

    def split(self, W):
        """Return ``(Theta Theta^T W, W - Theta Theta^T W)``."""
        shared = self.basis @ (self.basis.T @ W)
        return shared, W - shared

    def value(self, W):
        """Penalty value."""
        shared, private = self.split(W)
        return (self.alpha + self.beta) * frobenius_sq(private) + \
            self.beta * frobenius_sq(shared)

    def prox(self, W, step):
        """Shrink each part by its own ridge factor."""
        shared, private = self.split(W)
        return shared / (1 + 2 * step * self.beta) + \
            private / (1 + 2 * step * (self.alpha + self.beta))

    def dual_norm(self, G):
        """Not a norm: no ``alpha_max`` exists."""
        return None

    def dual_scaling(self, Z):
        """The conjugate is finite everywhere."""
        return 1.0

    def conjugate(self, Z):
        """Sum of the two ridge conjugates."""
        shared, private = self.split(Z)
        return frobenius_sq(shared) / (4 * self.beta) + \
            frobenius_sq(private) / (4 * (self.alpha + self.beta))


    def rescaled(self, weight, scale):
        """This penalty in rescaled variables: ``V -> weight * g(scale * V)``.

        Used to solve at any data scale (:mod:`mtstats._scaling`). Both parts
        are quadratic.
        """
        factor = weight * scale * scale
        return SubspaceRidge(self.alpha * factor, self.beta * factor, self.basis)

    def __repr__(self):
        return f"SubspaceRidge(alpha={self.alpha!r}, beta={self.beta!r})"
