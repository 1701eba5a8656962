"""The result object of :func:`mtstats.report.compare_to_baselines`.

:class:`ComparisonResult` holds the per-task comparison table, the pooled
across-task table and the per-resample differences, and formats them: a text
or HTML summary and forest plots of the per-task differences.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._render import plot_label
from ._results import ReportResult, Summary

__all__ = ["ComparisonResult"]

_TESTS = ["diff", "conf_low", "conf_high", "p_value", "p_adj", "verdict"]
_EB = ["eb_mean", "eb_low", "eb_high", "lfsr", "svalue", "eb_verdict"]
#: The score shown next to the primary metric in the per-task tables.
_SECONDARY = {"regression": "r2", "classification": "auc"}
POOLED_SHOWN = ["metric", "baseline", "n_tasks", "n_positive", "n_helped", "n_hurt",
                 "wilcoxon_p", "sign_test_p", "re_diff", "re_conf_low",
                 "re_conf_high", "i2", "tau2"]
_COLORS = {"helped": "tab:green", "hurt": "tab:red"}


@dataclass(frozen=True, repr=False)
class ComparisonResult(ReportResult):
    """Per-task comparison of a multitask model with baselines (immutable).

    Returned by :func:`compare_to_baselines`; its methods only format what
    it holds.

    Parameters
    ----------
    table : DataFrame
        One row per task x metric x baseline (STATISTICS 4.1
        ``tidy_comparison``); ``diff > 0`` means the multitask model is better.
    notes : tuple of str
        Method notes (test, J, correction, direction, caveats).
    pooled : DataFrame
        One row per metric x baseline, ``task="__pooled__"``: Wilcoxon and
        sign tests over the tasks' mean differences and the random-effects
        pooled difference with its CI, Q, I2 and tau2.
    differences : DataFrame
        Long table of the per-resample scores and differences.
    estimator_name : str
        Class name of the multitask estimator.
    """

    pooled: pd.DataFrame = field(default_factory=pd.DataFrame)
    differences: pd.DataFrame = field(default_factory=pd.DataFrame)
    estimator_name: str = ""
    title = "Multitask versus baselines"

    def _rows(self, metric, baseline):
        metric = self.table["metric"].iloc[0] if metric is None else metric
        baseline = self.table["baseline"].iloc[0] if baseline is None else baseline
        rows = self.table[(self.table["metric"] == metric)
                          & (self.table["baseline"] == baseline)]
        if rows.empty:
            raise ValueError(f"No rows for metric={metric!r}, baseline={baseline!r}; "
                             f"metrics {list(self.table['metric'].unique())}, "
                             f"baselines {list(self.table['baseline'].unique())}.")
        pooled = self.pooled[(self.pooled["metric"] == metric)
                             & (self.pooled["baseline"] == baseline)]
        return metric, baseline, rows, pooled.iloc[0]

    def task_tables(self):
        """Per baseline, one row per task: the primary metric's scores, the
        R² (regressors) or AUC (classifiers) scores next to them, the test.

        Returns
        -------
        list of (str, DataFrame)
            Caption and table; columns ``task, n_test, <metric>_mtl,
            <metric>_baseline`` for the primary and the secondary metric, then
            ``diff, conf_low, conf_high, p_value, p_adj, verdict`` and the
            empirical-Bayes columns where the table has them.
        """
        metrics = list(dict.fromkeys(self.table["metric"]))
        kind = "classification" if metrics[0] in ("log_loss", "brier", "auc") \
            else "regression"
        extra = _SECONDARY[kind]
        tables = []
        for baseline in self.table["baseline"].unique():
            metric, _, rows, _ = self._rows(None, baseline)
            frame = rows[["task", "n_test"]].reset_index(drop=True)
            shown = [metric] + ([extra] if extra in metrics and extra != metric
                                else [])
            for name in shown:
                scores = self.table[(self.table["metric"] == name)
                                    & (self.table["baseline"] == baseline)]
                scores = scores.set_index("task")
                for column, suffix in (("score_mtl", "mtl"),
                                       ("score_baseline", "baseline")):
                    frame[f"{name}_{suffix}"] = rows["task"].map(
                        scores[column]).to_numpy()
            tests = [c for c in _TESTS + _EB if c in rows.columns]
            frame[tests] = rows[tests].to_numpy()
            frame = frame.astype({c: float for c in tests if c not in
                                  ("verdict", "eb_verdict")})
            tables.append((f"{metric}: {self.estimator_name} vs {baseline} "
                           "(diff > 0: multitask better)", frame))
        return tables

    def summary(self):
        """Per-task tables (primary metric), the pooled table and method notes.

        Returns
        -------
        Summary
            Text via ``str()``, HTML via ``_repr_html_()``.
        """
        tables = self.task_tables()
        tables.append(("Across tasks", self.pooled[POOLED_SHOWN]))
        return Summary(f"{self.title}: {self.estimator_name}", tables, self.notes)

    def plot(self, metric=None, baseline=None, ax=None):
        """Forest plot of per-task differences with CIs and the pooled diamond.

        Parameters
        ----------
        metric, baseline : str, optional
            Which comparison; default the first metric and baseline.
        ax : matplotlib Axes, optional
            Where to draw; a new figure by default.

        Returns
        -------
        ax : matplotlib Axes
        """
        metric, baseline, rows, pooled = self._rows(metric, baseline)
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6.4, 1.6 + 0.28 * len(rows)))
        rows = rows.sort_values("diff")
        positions = np.arange(len(rows))
        for y_pos, row in zip(positions, rows.itertuples(), strict=True):
            ax.errorbar(row.diff, y_pos, fmt="o", color=_COLORS.get(row.verdict, "0.4"),
                        xerr=[[row.diff - row.conf_low], [row.conf_high - row.diff]])
        labels = [plot_label(t) for t in rows["task"]]
        if np.isfinite(pooled["re_diff"]):
            y_pos, low, mid, high = -1.5, pooled["re_conf_low"], pooled["re_diff"], \
                pooled["re_conf_high"]
            ax.fill([low, mid, high, mid], [y_pos, y_pos + 0.35, y_pos, y_pos - 0.35],
                    color="k")
            positions, labels = np.append(positions, y_pos), labels + ["pooled (RE)"]
        ax.axvline(0, color="k", linewidth=0.8, linestyle="--")
        ax.set_yticks(positions, labels)
        ax.set_xlabel(f"{plot_label(metric)} difference (positive = multitask better)")
        ax.set_title(f"{plot_label(self.estimator_name)} vs {plot_label(baseline)}")
        return ax

    def figures(self):
        """One forest plot per baseline for the primary metric.

        Returns
        -------
        list of (str, matplotlib Figure)
            Caption and figure; empty without matplotlib (the ``[plot]`` extra).
        """
        try:
            from matplotlib.figure import Figure
        except ImportError:  # pragma: no cover - matplotlib is the [plot] extra
            return []
        out = []
        for baseline in self.table["baseline"].unique():
            metric, _, rows, _ = self._rows(None, baseline)
            fig = Figure(figsize=(6.4, 1.6 + 0.28 * len(rows)), layout="constrained")
            self.plot(metric, baseline, ax=fig.add_subplot())
            out.append((f"Per-task {metric} difference, {self.estimator_name} vs "
                        f"{baseline}: mean over resamples with its CI; red: sharing "
                        "hurt, green: helped (adjusted); diamond: pooled "
                        "random-effects estimate.", fig))
        return out
