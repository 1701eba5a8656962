"""The result object of :func:`mtstats.report.coefficient_tests`.

:class:`CoefficientResult` holds the tidy per-(task, term) table of tests and
intervals after selection, plus the group rows across tasks, and formats it:
a text or HTML summary per task and a heatmap of the estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._render import plot_label
from ._results import ReportResult, Summary

__all__ = ["GROUP_ROW", "CoefficientResult"]

GROUP_ROW = "__all__"


@dataclass(frozen=True, repr=False)
class CoefficientResult(ReportResult):
    """Per-(task, term) tests of a penalised multitask fit.

    Attributes
    ----------
    table : DataFrame
        ``tidy_coefficients``: one row per (task, term), plus one row per
        term with ``task == "__all__"`` (group test across tasks). Columns
        ``COLUMNS`` (see :func:`coefficient_tests`).
    notes : tuple of str
        Method, estimand, assumptions, interval rule, multiplicity.
    method : str
        The method used (``"auto"`` resolved).
    conf_level : float
    split_pvalues : ndarray of shape (n_splits, n_tasks, n_features) or None
        Unadjusted per-split p-values (1 where a coefficient was not tested),
        the input of the aggregation.
    """

    method: str = "multisplit"
    conf_level: float = 0.95
    split_pvalues: np.ndarray | None = None
    title = "Coefficient tests"

    def _tasks(self):
        return self.table[self.table["task"] != GROUP_ROW]

    def summary(self):
        """Per task a block of terms (estimates, errors, CIs, p), then group tests.

        The empirical-Bayes columns (``eb_mean``, ``eb_low``, ``eb_high``,
        ``lfsr``, ``svalue``) are shown where the table has them (not NaN).
        """
        shown = ["term", "estimate", "estimate_inference", "std_error", "conf_low",
                 "conf_high", "p_value", "p_adj", "p_fwer", "selection_freq",
                 "eb_mean", "eb_low", "eb_high", "lfsr", "svalue"]
        shown = [c for c in shown if c in self.table and self.table[c].notna().any()]
        tables = [(f"Task {task}", rows[shown])
                  for task, rows in self._tasks().groupby("task", sort=False)]
        group = self.table[self.table["task"] == GROUP_ROW]
        group = group[[c for c in ["term", "statistic", "df", "p_value", "p_adj"]
                       if group[c].notna().any() or c == "term"]]
        tables.append(("All tasks: H0 coefficient zero in every task (chi2)", group))
        return Summary(f"{self.title} ({self.method}, "
                       f"{self.conf_level:.0%} intervals)", tables, self.notes)

    def _sign_calls(self):
        """Per-(task, term) rows whose sign is called: lfsr <= 1 - conf_level.

        A call here is ``eb_sign != 0`` of :func:`coefficient_tests`.
        """
        if "lfsr" not in self.table:
            return np.zeros(len(self.table), dtype=bool)
        per_task = self.table["task"].ne(GROUP_ROW).to_numpy()
        lfsr = np.where(per_task, self.table["lfsr"].to_numpy(float), np.nan)
        return lfsr <= 1 - self.conf_level

    def significant(self):
        """Boolean mask of the table's significant rows.

        ``p_adj < 1 - conf_level``, or, where the table has an ``lfsr``
        column, an empirical-Bayes sign call: lfsr at most
        ``1 - conf_level``.
        """
        level = 1 - self.conf_level
        mask = self.table["p_adj"].astype(float).lt(level).to_numpy()
        return mask | self._sign_calls()

    def highlights(self, max_rows=25):
        """The significant coefficients only, for the task report.

        Parameters
        ----------
        max_rows : int, default=25
            At most this many per-task rows (the smallest ``p_adj`` or
            ``lfsr``).

        Returns
        -------
        tables : list of (str, DataFrame)
            The significant (task, term) rows (the penalised ``estimate``
            and ``estimate_inference``, the centre of the interval; the
            empirical-Bayes columns where present), then the significant
            group rows; without any, the ``min(10, max_rows)`` smallest
            ``p_adj``.
        status : str
            E.g. ``"7 of 360 coefficients significant"``.
        """
        level = 1 - self.conf_level
        hit = self.significant()
        per_task = self.table["task"].ne(GROUP_ROW).to_numpy()
        shown = ["task", "term", "estimate", "estimate_inference", "conf_low",
                 "conf_high", "p_adj", "eb_mean", "eb_low", "eb_high", "lfsr",
                 "selection_freq"]
        shown = [c for c in shown if c in self.table
                 and (c in ("task", "term") or self.table[c].notna().any())]
        rows = self.table[per_task & hit]
        eb = "lfsr" in self.table and self.table["lfsr"].notna().any()
        rule = f"p_adj < {level:.2g}" + (f" or lfsr <= {level:.2g}" if eb else "")
        status = (f"{len(rows)} of {int(per_task.sum())} coefficients significant "
                  f"({rule})")
        if rows.empty:
            caption = (f"No coefficient is significant ({rule}); the smallest "
                       "adjusted p-values")
            rows = self.table[per_task].nsmallest(min(10, max_rows), "p_adj")
        else:
            caption = f"Significant coefficients ({rule}), by task"
            if len(rows) > max_rows:
                caption += (f": the {max_rows} with the smallest p_adj (or lfsr) "
                            f"of {len(rows)}")
                rank = np.fmin(rows["p_adj"].to_numpy(float), rows["lfsr"].to_numpy(
                    float) if "lfsr" in rows else np.nan)
                rows = rows.iloc[np.sort(np.argsort(rank, kind="stable")[:max_rows])]
        tables = [(caption, rows[shown])]
        group = self.table[~per_task & hit]
        if len(group):
            tables.append(("All tasks: coefficients non-zero in at least one task "
                           f"({rule}, chi2 test)",
                           group[[c for c in ["term", "statistic", "df", "p_value",
                                              "p_adj"] if c in group
                                  and (c == "term" or group[c].notna().any())]]))
        return tables, status

    def plot(self, ax=None):
        """Heatmap of the penalised estimates, tasks x terms, centred at 0.

        Cells with ``p_adj < 1 - conf_level`` are marked with a dot, cells
        whose sign the empirical-Bayes columns call with a ring.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Drawn on a new figure when None.

        Returns
        -------
        ax : matplotlib Axes
        """
        import matplotlib.pyplot as plt
        from matplotlib.colors import CenteredNorm

        rows = self._tasks()
        tasks = list(dict.fromkeys(rows["task"]))
        terms = list(dict.fromkeys(rows["term"]))
        W = rows["estimate"].to_numpy(float).reshape(len(tasks), len(terms))
        hit = (rows["p_adj"].to_numpy(float) < 1 - self.conf_level).reshape(W.shape)
        if ax is None:
            _, ax = plt.subplots(figsize=(1 + 0.5 * len(terms), 1 + 0.4 * len(tasks)))
        image = ax.imshow(W, cmap="RdBu_r", norm=CenteredNorm(), aspect="auto")
        ax.figure.colorbar(image, ax=ax, label="estimate (penalised fit)")
        where = np.nonzero(hit)
        ax.scatter(where[1], where[0], s=12, c="k", marker="o",
                   label=f"p_adj < {1 - self.conf_level:.2g}")
        calls = self._sign_calls()[self.table["task"].ne(GROUP_ROW).to_numpy()]
        if calls.any():
            where = np.nonzero(calls.reshape(W.shape))
            ax.scatter(where[1], where[0], s=60, facecolors="none", edgecolors="k",
                       label=f"lfsr <= {1 - self.conf_level:.2g}")
        ax.set_xticks(range(len(terms)), [plot_label(t) for t in terms], rotation=90)
        ax.set_yticks(range(len(tasks)), [plot_label(t) for t in tasks])
        ax.set_xlabel("term")
        ax.set_ylabel("task")
        ax.set_title(f"Coefficients; dots: significant, rings: sign called "
                     f"({self.method})")
        return ax

    def figures(self):
        """The coefficient heatmap as ``[(caption, Figure)]``."""
        return [("Coefficient heatmap (penalised fit; dots: p_adj below the level; "
                 "rings: empirical-Bayes sign calls)", self.plot().figure)]
