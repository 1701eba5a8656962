r"""Penalties on the singular values of ``W``.

The trace (nuclear) norm :math:`\lVert W\rVert_* = \sum_k \sigma_k(W)` is the
convex envelope of rank on the spectral-norm ball; penalising it makes the
task coefficient vectors share a low-dimensional subspace (Ji & Ye, ICML
2009; Pong, Tseng, Ji & Ye, SIAM J. Optim. 2010).
"""

from __future__ import annotations

from array_api_compat import array_namespace

from ._base import NormPenalty


class TraceNorm(NormPenalty):
    r"""Nuclear norm :math:`\alpha \sum_k \sigma_k(W)`."""

    def norm(self, W):
        """Sum of singular values."""
        xp = array_namespace(W)
        return xp.sum(xp.linalg.svdvals(W))

    def prox(self, W, step):
        """Singular value soft thresholding at ``alpha * step``."""
        xp = array_namespace(W)
        U, sigma, Vt = xp.linalg.svd(W, full_matrices=False)
        shrunk = xp.clip(sigma - self.alpha * step, 0.0, None)
        return (U * shrunk[None, :]) @ Vt

    def dual_norm(self, G):
        """Spectral norm (largest singular value)."""
        xp = array_namespace(G)
        return xp.max(xp.linalg.svdvals(G))


def waterfill(sigma, shift, budget):
    r"""Solve :math:`\min_\lambda \sum_i \sigma_i^2/(\text{shift}+\lambda_i)`.

    Over :math:`0 \le \lambda_i \le 1`, :math:`\sum_i \lambda_i = \text{budget}`
    (``budget`` at most the number of non-zero ``sigma``; the rest of the
    capped simplex sits on zero singular values and does not change the
    value). The KKT conditions give :math:`\lambda_i = \mathrm{clip}(\tau
    \sigma_i - \text{shift}, 0, 1)` with the scalar ``tau`` found exactly:
    the constraint sum is piecewise linear in ``tau`` with breakpoints
    ``shift/sigma_i`` and ``(1 + shift)/sigma_i``, evaluated all at once
    (no iteration, array API only).

    Parameters
    ----------
    sigma : array of shape (r,)
        Non-negative singular values.
    shift : float
        Positive ``eta`` of the cluster norm.
    budget : float
        Target sum of ``lambda``.

    Returns
    -------
    lam : array of shape (r,)
    """
    xp = array_namespace(sigma)
    positive = sigma > 0
    n_positive = int(xp.sum(xp.astype(positive, xp.int32)))
    if n_positive == 0:
        return xp.zeros_like(sigma)
    if budget >= n_positive:
        return xp.astype(positive, sigma.dtype)
    safe = xp.where(positive, sigma, xp.ones_like(sigma))
    inf = xp.full_like(sigma, float("inf"))
    knots = xp.concat([xp.where(positive, shift / safe, inf),
                       xp.where(positive, (1 + shift) / safe, inf)])
    knots = xp.sort(knots[knots < float("inf")])

    def total(tau):  # sum_i clip(tau_j sigma_i - shift, 0, 1), for every tau_j
        return xp.sum(xp.clip(tau[:, None] * sigma[None, :] - shift, 0.0, 1.0),
                      axis=1)

    sums = total(knots)
    # the budget lies in (sums[j - 1], sums[j]]
    j = int(xp.sum(xp.astype(sums < budget, xp.int32)))
    lo, hi = knots[j - 1], knots[j]
    s_lo, s_hi = sums[j - 1], sums[j]
    tau = lo + (hi - lo) * (budget - s_lo) / (s_hi - s_lo)
    return xp.clip(tau * sigma - shift, 0.0, 1.0)


class ClusterNorm:
    r"""Convex clustered-MTL / shared-subspace penalty (a spectral function).

    .. math::

        g(W) = c \min_{M \in \mathcal{M}_k} \operatorname{tr}\big(W (\eta I +
        M)^{-1} W^\top\big), \quad c = \alpha\eta(1+\eta),\ \eta = \beta/\alpha,

    with :math:`\mathcal{M}_k = \{M = M^\top,\ 0 \preceq M \preceq I,\
    \operatorname{tr} M = k\}` (Jacob, Bach & Vert, 2008; Zhou, Chen & Ye,
    2011; MALSAR's ``CMTL``). ``M`` is T x T (task clustering) or, applied to
    :math:`W^\top`, d x d (the convex shared subspace of Chen et al., 2009,
    cASO); both orientations give the same function of the singular values
    :math:`\sigma` of ``W``:

    .. math::

        g(W) = c \min_{\lambda \in [0,1]^r,\ \sum\lambda = k}
        \sum_i \frac{\sigma_i^2}{\eta + \lambda_i},

    so the partial minimum over ``M`` is closed-form (:func:`waterfill`),
    the proximal operator is a thin SVD plus one water-filling, and the
    Fenchel conjugate is
    :math:`g^*(Z) = \frac{1}{4c}\big(\eta\lVert Z\rVert_F^2 + \sum_{i \le k}
    \sigma_i(Z)^2\big)`, which gives an exact duality gap.

    Parameters
    ----------
    alpha : float
        ``rho1``: overall strength (> 0).
    beta : float
        ``rho2``: strength of the ridge-like part that keeps tasks close to
        their cluster or subspace (> 0).
    k : int
        Trace of ``M``: the number of clusters, or the subspace dimension.
    """

    def __init__(self, alpha, beta, k):
        self.alpha, self.beta, self.k = float(alpha), float(beta), int(k)
        if not (self.alpha > 0 and self.beta > 0):
            raise ValueError("ClusterNorm needs alpha > 0 and beta > 0; got "
                             f"alpha={alpha!r}, beta={beta!r}.")
        if self.k < 1:
            raise ValueError(f"k must be a positive integer; got {k!r}.")
        self.eta = self.beta / self.alpha
        self.scale = self.alpha * self.eta * (1 + self.eta)

    def _spectral_value(self, sigma, shift):
        xp = array_namespace(sigma)
        lam = waterfill(sigma, shift, self.k)
        return xp.sum(sigma * sigma / (shift + lam))

    def value(self, W):
        """Penalty value (the minimum over ``M`` taken in closed form)."""
        xp = array_namespace(W)
        return self.scale * self._spectral_value(xp.linalg.svdvals(W), self.eta)

    def similarity(self, W):
        r"""The minimising ``M`` (T x T) for the task (column) orientation.

        ``M = V diag(lambda) V^T`` with ``V`` the eigenvectors of
        :math:`W^\top W`; any budget left over after the non-zero singular
        values is spread evenly on the null space.
        """
        xp = array_namespace(W)
        eigvals, V = xp.linalg.eigh(W.T @ W)
        sigma = xp.sqrt(xp.clip(eigvals, 0.0, None))
        tol = float(xp.max(sigma)) * 1e-10 * max(W.shape)
        sigma = xp.where(sigma > tol, sigma, xp.zeros_like(sigma))
        lam = waterfill(sigma, self.eta, self.k)
        n_null = int(xp.sum(xp.astype(sigma == 0, xp.int32)))
        leftover = self.k - float(xp.sum(lam))
        if n_null and leftover > 0:
            lam = xp.where(sigma == 0, xp.full_like(lam, leftover / n_null), lam)
        return (V * lam[None, :]) @ V.T

    def prox(self, W, step):
        r"""Shrink the singular values: :math:`s_i = \sigma_i(\eta+\lambda_i) /
        (\eta + \lambda_i + 2\,\text{step}\,c)` with ``lambda`` water-filled at
        the shifted :math:`\eta' = \eta + 2\,\text{step}\,c`."""
        xp = array_namespace(W)
        U, sigma, Vt = xp.linalg.svd(W, full_matrices=False)
        shifted = self.eta + 2 * step * self.scale
        lam = waterfill(sigma, shifted, self.k)
        shrunk = sigma * (shifted - 2 * step * self.scale + lam) / (shifted + lam)
        return (U * shrunk[None, :]) @ Vt

    def dual_norm(self, G):
        """Not a norm: no ``alpha_max`` exists."""
        return None

    def dual_scaling(self, V):
        """The conjugate is finite everywhere."""
        return 1.0

    def conjugate(self, V):
        r""":math:`(\eta\lVert V\rVert_F^2 + \sum_{i\le k}\sigma_i(V)^2)/(4c)`."""
        xp = array_namespace(V)
        sigma = xp.sort(xp.linalg.svdvals(V))
        top = xp.sum(sigma[max(sigma.shape[0] - self.k, 0):] ** 2)
        return (self.eta * xp.sum(V * V) + top) / (4 * self.scale)


    def rescaled(self, weight, scale):
        """This penalty in rescaled variables: ``V -> weight * g(scale * V)``.

        Used to solve at any data scale (:mod:`mtstats._scaling`). Homogeneous
        of degree 2 in ``W``; ``eta`` is unchanged.
        """
        factor = weight * scale * scale
        return ClusterNorm(self.alpha * factor, self.beta * factor, self.k)

    def __repr__(self):
        return (f"ClusterNorm(alpha={self.alpha!r}, beta={self.beta!r}, "
                f"k={self.k!r})")
