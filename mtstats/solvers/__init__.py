"""Solvers: one accelerated proximal-gradient kernel for every estimator."""

from .fista import SolveResult, alpha_max, duality_gap, solve

__all__ = ["SolveResult", "alpha_max", "duality_gap", "solve"]
