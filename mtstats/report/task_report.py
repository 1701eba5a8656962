"""Everything about one multitask fit in one object and one HTML file."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier

from ._overview import Overview, build_overview
from ._render import error_text, render, write_html
from ._results import Summary
from ._sections import page_sections, report_text
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
    comparison, coefficients, calibration : ReportResult or None
        The three reports (see :func:`compare_to_baselines`,
        :func:`coefficient_tests`, :func:`calibration_report`); None for a
        part that could not be computed (see ``errors``).
    notes : tuple of str
        Notes on the data and the fit (shown in the "Model and data" part).
    errors : dict
        Part name -> ``"ExceptionType: message"`` for every part that could
        not be computed.
    """

    tasks: pd.DataFrame
    model: pd.DataFrame
    comparison: object
    coefficients: object
    calibration: object
    notes: tuple = field(default_factory=tuple)
    errors: dict = field(default_factory=dict)
    title = "mtstats task report"

    @property
    def estimator_name(self):
        """Class name of the multitask estimator."""
        if len(self.model) and "estimator" in self.model:
            return str(self.model["estimator"].iloc[0])
        return ""

    @cached_property
    def overview(self):
        """The one-screen summary (:func:`~mtstats.report._overview.build_overview`)."""
        try:
            return build_overview(self.comparison, self.calibration, self.tasks,
                                  estimator=self.estimator_name)
        except Exception as error:  # noqa: BLE001 - the other parts still show
            text = f"The summary could not be computed: {error_text(error)}"
            warnings.warn(text, RuntimeWarning, stacklevel=2)
            return Overview.failed(text)

    @property
    def page_title(self):
        """``"mtstats task report: <estimator>"``."""
        name = self.estimator_name
        return f"{self.title}: {name}" if name else self.title

    @property
    def subtitle(self):
        """Tasks, rows and kind of problem, in one line."""
        kind = getattr(self.calibration, "kind", "") or self.overview.kind
        rows = int(self.tasks["n_train"].sum()) if "n_train" in self.tasks else 0
        return f"{len(self.tasks)} tasks, {rows} rows" + (f", {kind}" if kind else "")

    def to_frame(self):
        """The per-task ``glance`` table (the parts have their own)."""
        return self.tasks.copy()

    def summary(self):
        """The overview, its sentences and short per-part summaries.

        Returns
        -------
        Summary
            Text that fits a terminal (lines of at most 100 characters) via
            ``str()``; HTML (the report without figures) via
            ``_repr_html_()``.
        """
        return TaskSummary(self)

    def to_html(self, path):
        """Write every part, with figures, to one self-contained HTML file."""
        write_html(path, self.page_title, page_sections(self), self.subtitle)
        return path

    def __str__(self):
        return self.summary().as_text()

    def __repr__(self):
        return f"<TaskReport: {len(self.tasks)} tasks>"

    def _repr_html_(self):
        return render("fragment.html", title=self.page_title, subtitle=self.subtitle,
                      sections=page_sections(self))


class TaskSummary(Summary):
    """A task report's summary: text for a terminal, HTML without figures."""

    def __init__(self, report):
        overview = report.overview
        super().__init__(report.page_title, [("Overview", overview.frame),
                                             ("Model", report.model),
                                             ("Tasks", report.tasks)], report.notes)
        self.report = report

    def as_text(self):
        """Plain text, every line at most 100 characters."""
        return report_text(self.report)

    def as_html(self):
        """The report's HTML without figures (a notebook-sized view)."""
        return render("fragment.html", title=self.report.page_title,
                      subtitle=self.report.subtitle,
                      sections=page_sections(self.report, figures=False))


def _attempt(name, function, *args, **kwargs):
    """``function(*args, **kwargs)``; on failure None, the error text and a
    warning (a part that fails never sinks the report)."""
    try:
        return function(*args, **kwargs), None
    except Exception as error:  # noqa: BLE001 - reported on the page
        text = error_text(error)
        warnings.warn(f"task_report: the {name} part could not be computed "
                      f"({text}); the report shows the other parts.", RuntimeWarning,
                      stacklevel=3)
        return None, text


def task_report(estimator, X, y, *, baselines=None, cv=None, n_splits=50,
                adjust="holm", random_state=None, n_jobs=None, verbose=0, notes=()):
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
    adjust : {"holm", "fdr_bh", "fdr_by"}, default="holm"
        Multiplicity adjustment of the per-task comparison tests and of the
        coefficient tests: Holm controls the family-wise error rate,
        ``"fdr_bh"`` (Benjamini-Hochberg) the false discovery rate. The
        empirical-Bayes verdicts (false sign rate) do not depend on it.
    random_state : int or None
        Seed of every resampling step.
    n_jobs, verbose : optional
        Parallel jobs and progress bars of the resampling steps.
    notes : sequence of str
        Extra notes for the report (e.g. how the data were prepared).

    Returns
    -------
    TaskReport
        A part (comparison, coefficients, calibration) that raises is left
        out: its attribute is None, ``errors`` names the exception, the
        report says "This section could not be computed" in its place and a
        ``RuntimeWarning`` is issued; the other parts are kept.

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
    parts, errors = {}, {}
    for name, function, options in (
            ("comparison", compare_to_baselines,
             dict(baselines=baselines, cv=cv, adjust=adjust)),
            ("coefficients", coefficient_tests, dict(n_splits=n_splits, adjust=adjust)),
            ("calibration", calibration_report, {})):
        parts[name], error = _attempt(name, function, estimator, X, y, **options,
                                      **shared)
        if error is not None:
            errors[name] = error
    kind = "classifier" if is_classifier(estimator) else "regressor"
    notes = (*notes, f"Estimator: {fitted!r} ({kind}), fitted on all "
             f"{int(tasks['n_train'].sum())} rows of {len(tasks)} tasks.")
    return TaskReport(tasks, model, notes=tuple(notes), errors=errors, **parts)
