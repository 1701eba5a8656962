"""Penalties on the coefficient matrix ``W`` (n_features x n_tasks).

Grouped by the structure of their proximal operator: entry/row separable
(:mod:`~mtstats.penalties.rowwise`), spectral
(:mod:`~mtstats.penalties.spectral`) and orthogonal shared + private sums
(:mod:`~mtstats.penalties.composite`).
"""

from .composite import SharedMean, SubspaceRidge
from .rowwise import L1, L21, SquaredFrobenius
from .spectral import ClusterNorm, TraceNorm

__all__ = ["L1", "L21", "ClusterNorm", "SharedMean", "SquaredFrobenius",
           "SubspaceRidge", "TraceNorm"]
