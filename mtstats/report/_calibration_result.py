"""The result of :func:`~mtstats.report.calibration.calibration_report`.

:class:`CalibrationResult` holds the per-task calibration table, the reliability
curves (classifiers) or conformal intervals and PIT values (regressors) and the
held-out predictions, and renders them: :meth:`CalibrationResult.summary` (text
and HTML tables), :meth:`CalibrationResult.plot` (reliability diagrams, or
coverage and PIT histograms) and :meth:`CalibrationResult.figures` (the report's
figures, the least calibrated tasks first); also the classification notes
that say how every number was computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._calibration_metrics import HL_CAVEATS
from ._conformal import METHODS, plot_intervals, regression_tables
from ._render import plot_label
from ._results import ReportResult, Summary

__all__ = ["CalibrationResult"]


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _classification_notes(classes, strategy, n_resamples, recalibrate):
    notes = [
        f"Event: y == {_plain(classes[1])!r}. Slope b and intercept a (CITL): binomial "
        "GLMs of y on logit p (slope) and with offset logit p (CITL), Wald 95% "
        "CIs; slope_p tests b = 1, citl_p tests a = 0. b < 1: predictions too "
        "extreme (overfitting, under-penalised); b > 1: too moderate.",
        f"ECE on {strategy} bins (sklearn calibration_curve edges; quantile bins "
        "reduced to keep about 10 rows per bin); ece_uniform uses 10 uniform "
        f"bins. ece_p and the bands: consistency resampling, B = {n_resamples} "
        "(Bröcker & Smith 2007). Brier = rel - res + unc + wbv - wbc exactly "
        "(Stephenson, Coelho & Jolliffe 2008).",
        HL_CAVEATS,
        "p-values are per task and not adjusted for the number of tasks.",
    ]
    if recalibrate is not None:
        notes.append(
            f"Recalibration ({recalibrate}) is fitted per task on the held-out "
            "predictions; the 'recalibrated' rows are cross-fitted over the same "
            "folds (the map scoring fold k is fitted on the task's other folds). "
            "The maps fitted on all held-out rows are in `recalibrators`.")
    return notes


def _grid(n_panels, axes=None, first_row_wide=False):
    """``n_panels`` axes: the given ones (checked), or a new grid of small
    multiples with shared axes (the first row one wide panel if asked)."""
    if axes is not None:
        flat = np.asarray(axes, dtype=object).ravel()
        if flat.shape[0] < n_panels:
            raise ValueError(f"plot needs {n_panels} axes; got {flat.shape[0]}.")
        return flat[:n_panels]
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - optional dependency
        raise ImportError("plot() needs matplotlib: pip install 'mtstats[plot]'."
                          ) from error
    n_grid = n_panels - int(first_row_wide)
    ncols = min(4, n_grid)
    nrows = -(-n_grid // ncols)
    figure = plt.figure(figsize=(3 * ncols, 3 * (nrows + first_row_wide)),
                        layout="constrained")
    spec = figure.add_gridspec(nrows + first_row_wide, ncols)
    flat = [figure.add_subplot(spec[0, :])] if first_row_wide else []
    for i in range(n_grid):
        share = flat[int(first_row_wide)] if i else None
        flat.append(figure.add_subplot(spec[i // ncols + first_row_wide, i % ncols],
                                       sharex=share, sharey=share))
    return np.asarray(flat, dtype=object)


@dataclass(frozen=True, repr=False)
class CalibrationResult(ReportResult):
    """Per-task calibration of held-out predictions (:func:`calibration_report`).

    Attributes
    ----------
    table : DataFrame
        Classifiers: ``tidy_calibration``, one row per task and ``stage``
        (``"held_out"``, and ``"recalibrated"`` with ``recalibrate``).
        Regressors: ``tidy_intervals``, one row per task and ``method``.
    notes : tuple of str
        How every number was computed, with the caveats.
    curve : DataFrame or None
        Classifiers: reliability curve, one row per task, stage and non-empty
        bin: ``task, stage, bin, lower, upper, n, mean_pred, frac_pos, ci_low,
        ci_high, band_low, band_high``.
    pit : DataFrame or None
        Regressors: one row per sample and method: ``half, y, fitted, lower,
        upper, covered, pit, fold``.
    augment : DataFrame
        One row per sample: task, row, fold, outcome and held-out prediction.
    kind : {"classification", "regression"}
    recalibrators : dict or None
        Task -> recalibration map (``predict(p)``) fitted on all held-out rows.
    """

    curve: pd.DataFrame | None = None
    pit: pd.DataFrame | None = None
    augment: pd.DataFrame | None = None
    kind: str = "classification"
    recalibrators: dict | None = None
    title = "mtstats calibration report"

    def _tasks(self, tasks=None):
        known = list(dict.fromkeys(self.table["task"]))
        if tasks is None:
            return known
        tasks = list(tasks)
        unknown = [t for t in tasks if t not in known]
        if unknown:
            raise ValueError(f"Unknown task(s) {unknown}; tasks are {known}.")
        return tasks

    def summary(self):
        """Slope and intercept first, then ECE and the Brier decomposition;
        Hosmer-Lemeshow last (see the notes for its caveats)."""
        if self.kind == "regression":
            return Summary(self.title, regression_tables(self.table), self.notes)
        held = self.table[self.table["stage"] == "held_out"]
        tables = [
            ("Calibration slope and intercept (targets 1 and 0), 95% CIs",
             held[["task", "n", "n_pos", "slope", "slope_low", "slope_high",
                   "slope_p", "citl", "citl_low", "citl_high", "citl_p"]]),
            ("ECE (consistency-resampling p) and Brier decomposition",
             held[["task", "ece", "ece_p", "mce", "ece_debiased_sq", "brier", "rel",
                   "res", "unc", "wbv", "wbc", "spiegelhalter_z",
                   "spiegelhalter_p"]]),
            ("Discrimination; Hosmer-Lemeshow (secondary)",
             held[["task", "auc", "log_loss", "ici", "hl_stat", "hl_df", "hl_p"]]),
        ]
        post = self.table[self.table["stage"] == "recalibrated"]
        if len(post):
            metrics = ["slope", "citl", "ece", "brier", "log_loss"]
            both = held[["task", *metrics]].merge(
                post[["task", *metrics]], on="task", suffixes=("_before", "_after"))
            order = [f"{m}_{s}" for m in metrics for s in ("before", "after")]
            tables.append(("Recalibration, cross-fitted", both[["task", *order]]))
        return Summary(self.title, tables, self.notes)

    def plot(self, tasks=None, axes=None):
        """Reliability diagrams (classifiers) or coverage and PIT (regressors).

        Parameters
        ----------
        tasks : sequence, optional
            Tasks to draw (default: all).
        axes : array of matplotlib Axes, optional
            One per task (regressors: one more, first, for the coverage plot);
            default: a new figure of small multiples with shared axes.

        Returns
        -------
        axes : ndarray of Axes
        """
        tasks = self._tasks(tasks)
        if self.kind == "regression":
            return plot_intervals(self.table, self.pit, tasks, axes, _grid)
        axes = _grid(len(tasks), axes)
        held = self.table[self.table["stage"] == "held_out"].set_index("task")
        for ax, task in zip(axes, tasks, strict=False):
            ax.plot([0, 1], [0, 1], ls=":", color="grey")
            curve = self.curve[self.curve["task"] == task]
            band = curve[curve["stage"] == "held_out"]
            ax.fill_between(band["mean_pred"], band["band_low"], band["band_high"],
                            color="C0", alpha=0.2, lw=0, label="consistency band")
            for i, stage in enumerate(("held_out", "recalibrated")):
                c = curve[curve["stage"] == stage]
                if len(c):
                    err = np.clip([c["frac_pos"] - c["ci_low"],
                                   c["ci_high"] - c["frac_pos"]], 0, None)
                    ax.errorbar(c["mean_pred"], c["frac_pos"], yerr=err,
                                fmt="os"[i], ls="-" if i == 0 else "--", ms=3,
                                capsize=2, color=f"C{i}", label=stage.replace("_", " "))
            p = self.augment.loc[self.augment["task"] == task, "proba"]
            counts, edges = np.histogram(p, bins=20, range=(0, 1))
            ax.bar(edges[:-1], 0.15 * counts / max(counts.max(), 1), width=0.05,
                   align="edge", color="grey", alpha=0.4)
            ax.set(xlim=(0, 1), ylim=(0, 1))
            ax.set_title(f"{plot_label(task)}: slope {held.loc[task, 'slope']:.2f}",
                         fontsize=9)
        for ax in axes:
            spec = ax.get_subplotspec()
            if spec is None or spec.is_last_row():
                ax.set_xlabel("mean predicted probability")
            if spec is None or spec.is_first_col():
                ax.set_ylabel("observed frequency")
        axes[0].legend(fontsize=7, loc="upper left")
        return axes

    def figures(self, max_tasks=12):
        """``[(caption, Figure)]``: at most ``max_tasks`` tasks, the worst first."""
        try:
            import matplotlib  # noqa: F401
        except ImportError:  # pragma: no cover - optional dependency
            return []
        if self.kind == "regression":
            rank = self.table[self.table["method"] == METHODS[1]]
            rank = rank.sort_values("pit_ks_p")
            what = "Coverage with 95% Wilson CIs and per-task PIT histograms"
        else:
            rank = self.table[self.table["stage"] == "held_out"].sort_values(
                ["ece_p", "ece"], ascending=[True, False])
            what = "Reliability diagrams, 95% Wilson CIs and consistency bands"
        tasks = list(rank["task"])
        if len(tasks) > max_tasks:
            tasks = tasks[:max_tasks]
            what += f" ({max_tasks} least calibrated tasks)"
        return [(what, self.plot(tasks=tasks)[0].figure)]
