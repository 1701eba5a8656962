"""Solvers: one accelerated proximal-gradient kernel for every estimator."""

from .fista import NumericalBreakdown, SolveResult, alpha_max, duality_gap, solve

__all__ = ["NumericalBreakdown", "SolveResult", "alpha_max", "duality_gap", "solve"]
