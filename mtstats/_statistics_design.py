r"""A design known only through per-task second moments, for data without rows.

When the rows live out of core (:mod:`mtstats.task_grams`, Dask), the
solver still sees a design, but one that holds, per task, the statistics of
:class:`~mtstats.datafits.grams.GramStatistics` in the solver's units
(rescaled, centred, weighted) instead of rows. The Gram datafit
(:class:`~mtstats.datafits.GramDatafit`) needs nothing else: its value,
gradient, Lipschitz constant, intercept profile and duality gap are all
functions of these statistics, so the certificate is the one of the
in-memory fit. ``forward`` and ``adjoint`` are refused with a message.

The proximal-Newton outer loop of the logistic loss
(:mod:`mtstats.solvers.prox_newton`) solves each quadratic model on the
same kind of design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from array_api_compat import array_namespace

__all__ = ["StatisticsDesign", "TaskSummary", "has_rows", "out_of_core_passes"]


@dataclass(frozen=True)
class TaskSummary:
    """What a fit keeps of data it never held in memory.

    Stands in for :class:`~mtstats._tasks.TaskData` in a
    :class:`~mtstats.estimators._problem.FitProblem`: the layout, the task
    sizes and, through the zero-row ``X``, the dtype and the number of
    features.
    """

    X: np.ndarray
    n_samples_per_task: np.ndarray
    weight: np.ndarray
    layout: str = "long"
    y: None = None

    @property
    def n_tasks(self):
        """Number of tasks."""
        return self.n_samples_per_task.shape[0]

    def weight_per_task(self):
        """Summed sample weight of every task."""
        return self.weight


class StatisticsDesign:
    r"""Per-task statistics in place of rows.

    Parameters
    ----------
    H : array of shape (T, d, d)
        :math:`\sum_i s_i x_i x_i^\top` per task.
    m, c : arrays of shape (d, T)
        :math:`\sum_i s_i x_i` and :math:`\sum_i s_i y_i x_i`.
    n, ybar, yy : arrays of shape (T,)
        :math:`\sum_i s_i`, :math:`\sum_i s_i y_i`, :math:`\sum_i s_i y_i^2`.
    """

    has_rows = False
    #: Passes over the rows that produced the statistics (0: given directly).
    n_passes = 0

    def __init__(self, H, m, c, n, ybar, yy):
        self.H, self.m, self.c, self.n, self.ybar, self.yy = H, m, c, n, ybar, yy
        self.xp = array_namespace(H)
        self.n_tasks, self.n_features = int(H.shape[0]), int(H.shape[1])
        self.coef_shape = (self.n_features, self.n_tasks)

    def gram_statistics(self, y, s, pooled):
        """The fields of :class:`~mtstats.datafits.grams.GramStatistics`
        (``y`` and ``s`` are placeholders: the statistics already hold them)."""
        H = self.xp.sum(self.H, axis=0) if pooled else self.H
        return {"H": H, "task_scale": None, "m": self.m, "c": self.c, "n": self.n,
                "ybar": self.ybar, "yy": self.yy, "pooled": pooled}

    def _no_rows(self, *args):
        raise TypeError(
            "This fit holds per-task statistics, not rows (data out of core): "
            "only the squared loss's Gram datafit can use it.")

    forward = adjoint = linear_part = task_sums = broadcast_tasks = _no_rows


def has_rows(design):
    """Whether ``design`` (possibly pooled or stacked in parts) has rows."""
    while hasattr(design, "base"):
        design = design.base
    return getattr(design, "has_rows", True)


def out_of_core_passes(design):
    """Passes over the data of a fit without rows, or None for rows in memory."""
    while hasattr(design, "base"):
        design = design.base
    return None if getattr(design, "has_rows", True) else design.n_passes
