"""Solvers: one accelerated proximal-gradient kernel for every estimator."""

from .fista import NumericalBreakdown, SolveResult, alpha_max, duality_gap, solve
from .path import PathResult, solve_path

__all__ = ["NumericalBreakdown", "PathResult", "SolveResult", "alpha_max",
           "duality_gap", "solve", "solve_path"]
