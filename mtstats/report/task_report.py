"""Everything about one multitask fit in one object and one HTML file."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier

from ._render import html_section, write_html
from ._results import Summary
from .calibration import calibration_report
from .coefficients import coefficient_tests
from .comparison import compare_to_baselines


def glance(estimator):
    """One row per task plus one model row (broom's ``glance``).

    Per task: samples, coefficient norm and non-zero count; model row:
    estimator, penalty strength, rank and non-zero rows of ``W``, solver
    status.
    """
    W = estimator.coef_
    rows = pd.DataFrame({
        "task": [str(t) for t in estimator.tasks_],
        "n_train": estimator.n_samples_per_task_,
        "coef_norm": np.linalg.norm(W, axis=1),
        "nnz": (W != 0).sum(axis=1),
        "intercept": estimator.intercept_,
    })
    singular = np.linalg.svd(W, compute_uv=False)
    model = pd.DataFrame([{
        "estimator": type(estimator).__name__,
        "alpha": estimator.get_params().get("alpha"),
        "rank": int(np.sum(singular > 1e-8 * max(singular.max(), 1e-300))),
        "nnz_rows": int(np.sum(np.any(W != 0, axis=0))),
        "objective": estimator.objective_,
        "converged": estimator.converged_,
        "n_iter": estimator.n_iter_,
        "dual_gap": estimator.dual_gap_,
    }])
    return rows, model


@dataclass(frozen=True, repr=False)
class TaskReport:
    """Comparison with baselines, coefficient tests and calibration, per task.

    Attributes
    ----------
    tasks : DataFrame
        One row per task of the fit on all the data (``glance``).
    model : DataFrame
        One row: the estimator, its penalty, rank, solver status.
    comparison, coefficients, calibration : ReportResult
        The three reports (see :func:`compare_to_baselines`,
        :func:`coefficient_tests`, :func:`calibration_report`).
    notes : tuple of str
    """

    tasks: pd.DataFrame
    model: pd.DataFrame
    comparison: object
    coefficients: object
    calibration: object
    notes: tuple = field(default_factory=tuple)
    title = "mtstats task report"

    def to_frame(self):
        """The per-task ``glance`` table (the parts have their own)."""
        return self.tasks.copy()

    def summary(self):
        """The model, per-task and comparison summaries in one text/HTML."""
        return Summary(self.title, [("Model", self.model), ("Tasks", self.tasks)]
                       + self.comparison.summary().tables, self.notes
                       + tuple(self.comparison.notes))

    def to_html(self, path):
        """Write every part, with figures, to one self-contained HTML file."""
        overview = Summary("Model and tasks", [("Model", self.model),
                                               ("Tasks", self.tasks)], self.notes)
        sections = [html_section(overview.as_html())]
        sections += [part.html_section() for part in
                     (self.comparison, self.coefficients, self.calibration)]
        write_html(path, self.title, sections)
        return path

    def __str__(self):
        return self.summary().as_text()

    def __repr__(self):
        return f"<TaskReport: {len(self.tasks)} tasks>"

    def _repr_html_(self):
        return self.summary().as_html()


def task_report(estimator, X, y, *, baselines=None, cv=None, n_splits=50,
                random_state=None, n_jobs=None, verbose=0, notes=()):
    """Fit ``estimator`` on all the data and build every per-task report.

    Parameters
    ----------
    estimator : mtstats estimator
        Unfitted; long layout (``task_column`` set).
    X, y : DataFrame/array and array
        The data, as for ``estimator.fit``.
    baselines : dict, optional
        Passed to :func:`compare_to_baselines` (default: independent and
        pooled fits with the same ``alpha``).
    cv : splitter, optional
        Resampling of the comparison (default: that of
        :func:`compare_to_baselines`).
    n_splits : int, default=50
        Sample splits of the coefficient tests (:func:`coefficient_tests`).
    random_state : int or None
        Seed of every resampling step.
    n_jobs, verbose : optional
        Parallel jobs and progress bars of the resampling steps.
    notes : sequence of str
        Extra notes for the report (e.g. how the data were prepared).

    Returns
    -------
    TaskReport

    Examples
    --------
    >>> from mtstats import TraceNormRegressor
    >>> from mtstats.datasets import make_multitask_regression
    >>> from mtstats.model_selection import RepeatedTaskStratifiedKFold
    >>> from mtstats.report import task_report
    >>> X, y, _ = make_multitask_regression(n_tasks=3, n_features=3,
    ...     n_samples=(30, 40), as_frame=True, random_state=0)
    >>> cv = RepeatedTaskStratifiedKFold(n_splits=3, n_repeats=1,
    ...                                  task_column="task", random_state=0)
    >>> report = task_report(TraceNormRegressor(alpha=0.05, task_column="task"),
    ...                      X, y, cv=cv, random_state=0)
    >>> len(report.tasks)
    3
    """
    fitted = clone(estimator).fit(X, y)
    tasks, model = glance(fitted)
    shared = dict(random_state=random_state, n_jobs=n_jobs, verbose=verbose)
    comparison = compare_to_baselines(estimator, X, y, baselines=baselines, cv=cv,
                                      **shared)
    coefficients = coefficient_tests(estimator, X, y, n_splits=n_splits, **shared)
    calibration = calibration_report(estimator, X, y, **shared)
    kind = "classifier" if is_classifier(estimator) else "regressor"
    notes = (*notes, f"Estimator: {fitted!r} ({kind}), fitted on all "
             f"{int(tasks['n_train'].sum())} rows of {len(tasks)} tasks.")
    return TaskReport(tasks, model, comparison, coefficients, calibration,
                      tuple(notes))
