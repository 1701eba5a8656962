"""Datafits with every task's weights rescaled, without recomputing statistics.

Used where task weights change between solves on the same data (the
concomitant noise-scale fit of :mod:`mtstats.solvers.concomitant` divides
task ``t``'s weights by its noise scale every round): the per-task Gram
statistics are linear in the task's weights, so they are rescaled instead
of recomputed, and a known Lipschitz bound is passed on instead of a new
power iteration.
"""

from __future__ import annotations

from dataclasses import replace

from .gram import GramDatafit
from .grams import task_grams
from .rows import RowDatafit

__all__ = ["KnownLipschitz", "reweight_tasks"]


class KnownLipschitz:
    """A datafit whose Lipschitz bound is given (every other call delegates)."""

    def __init__(self, datafit, lipschitz):
        self._datafit, self._lipschitz = datafit, lipschitz

    def __getattr__(self, name):
        return getattr(self._datafit, name)

    def lipschitz(self, fit_intercept=True):
        return self._lipschitz


def reweight_tasks(base, loss, design, y, s, factor):
    """``base`` (for weights ``s``) with task ``t``'s weights times ``factor[t]``."""
    xp = design.xp
    if isinstance(base, GramDatafit):
        g = base.grams
        if g.pooled:  # only the sum over tasks is stored: recompute
            s_new = s * design.broadcast_tasks(factor)
            return GramDatafit(task_grams(design, y, s_new), design, y.dtype)
        if g.task_scale is not None:
            H, task_scale = g.H, g.task_scale * factor
        else:
            ordered = factor if g.order is None else xp.take(factor, g.order)
            H, task_scale = g.H * ordered[:, None, None], None
        grams = replace(g, H=H, task_scale=task_scale, m=g.m * factor[None, :],
                        c=g.c * factor[None, :], n=g.n * factor,
                        ybar=g.ybar * factor, yy=g.yy * factor)
        return GramDatafit(grams, design, y.dtype)
    return RowDatafit(loss, design, y, s * design.broadcast_tasks(factor))
