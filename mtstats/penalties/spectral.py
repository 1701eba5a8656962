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
