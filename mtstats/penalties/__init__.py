"""Penalties on the coefficient matrix ``W`` (n_features x n_tasks).

Grouped by the structure of their proximal operator: entry/row separable
(:mod:`~mtstats.penalties.rowwise`) and spectral
(:mod:`~mtstats.penalties.spectral`).
"""

from .rowwise import L1, L21, SquaredFrobenius
from .spectral import TraceNorm

__all__ = ["L1", "L21", "SquaredFrobenius", "TraceNorm"]
