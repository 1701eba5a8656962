"""The one-screen summary of a task report: one row per task and a few sentences.

:func:`build_overview` reads a :class:`ComparisonResult` and a
:class:`CalibrationResult` (either may be None, any number may be NaN) and
returns an :class:`Overview`: per task its size, the scores of the multitask
model and of the strongest baseline, the gain on the primary metric with its
interval, a verdict, the family-wise test and a calibration flag; and the
plain-language sentences that sum them up (:mod:`._wording`). The rules
are in :meth:`Overview.legend` and :mod:`._calibration_flags`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ._calibration_flags import calibration_flags
from ._text import short_label
from ._wording import _finite, metric_label, sentences

__all__ = ["Overview", "build_overview", "strongest_baseline"]

DISPLAY_METRICS = {"regression": ("r2", "mse"), "classification": ("auc", "log_loss")}
ADJUSTMENTS = {"holm": ("Holm", "family-wise error"),
               "fdr_bh": ("Benjamini-Hochberg", "false discovery rate"),
               "fdr_by": ("Benjamini-Yekutieli", "false discovery rate")}
EB_COLUMNS = ("eb_mean", "eb_low", "eb_high", "eb_verdict")
HURT = "hurt"


def strongest_baseline(comparison, metric):
    """The baseline with the smallest pooled random-effects gain on ``metric``.

    The strongest competitor across tasks (``pooled["re_diff"]``, positive =
    multitask better); the first baseline when no pooled gain is finite.
    """
    table = comparison.table
    names = list(dict.fromkeys(table.loc[table["metric"] == metric, "baseline"]))
    pooled = getattr(comparison, "pooled", None)
    if pooled is None or pooled.empty or "re_diff" not in pooled:
        return names[0] if names else None
    rows = pooled[(pooled["metric"] == metric) & pooled["baseline"].isin(names)]
    gains = pd.to_numeric(rows["re_diff"], errors="coerce").to_numpy(float)
    if not np.isfinite(gains).any():
        return names[0] if names else None
    return rows["baseline"].iloc[int(np.nanargmin(gains))]


@dataclass(frozen=True)
class Overview:
    """The summary table and sentences of a task report (immutable).

    Attributes
    ----------
    frame : DataFrame
        One row per task, hurt tasks first: ``task, n``, ``<metric>_mtl`` and
        ``<metric>_baseline`` for every metric of ``metrics``, ``gain,
        gain_low, gain_high`` (primary metric, positive = multitask better),
        ``verdict``, ``significant_fw`` (the adjusted test), ``calibration``
        ("ok", "check" or "") and ``calibration_reason``.
    metrics : tuple of str
        Metrics whose scores are shown.
    primary : str or None
        The primary metric (the comparison's first).
    baseline : str or None
        The strongest baseline (:func:`strongest_baseline`).
    estimator : str
    empirical_bayes : bool
        Whether verdicts and intervals are the empirical-Bayes ones.
    adjust : str
        Adjustment of the per-task tests (``"holm"``, ...).
    alpha : float
    kind : str
        ``"regression"`` or ``"classification"`` (``""`` when unknown).
    sentences : tuple of str
    calibration_rule : str
    pooled : dict
        ``re_diff, re_conf_low, re_conf_high`` of the primary metric and the
        strongest baseline (NaN when missing).
    """

    frame: pd.DataFrame
    metrics: tuple = ()
    primary: str | None = None
    baseline: str | None = None
    estimator: str = ""
    empirical_bayes: bool = False
    adjust: str = "holm"
    alpha: float = 0.05
    kind: str = ""
    sentences: tuple = ()
    calibration_rule: str = ""
    pooled: dict = field(default_factory=dict)

    @classmethod
    def failed(cls, note):
        """An overview without tasks whose only sentence is ``note``."""
        columns = ["task", "n", "gain", "gain_low", "gain_high", "verdict",
                   "significant_fw", "calibration", "calibration_reason"]
        return cls(pd.DataFrame(columns=columns), sentences=(str(note),))

    @property
    def interval_label(self):
        """The interval shown with the gain: the empirical-Bayes posterior
        interval at ``1 - 2 alpha`` (it excludes 0 about when the lfsr call
        is made), else the 95% confidence interval."""
        if self.empirical_bayes:
            return f"{1 - 2 * self.alpha:.0%} post."
        return "95% CI"

    @property
    def adjust_label(self):
        """``("Holm", "family-wise error")`` for ``"holm"``, ..."""
        return ADJUSTMENTS.get(self.adjust, (str(self.adjust), "error rate"))

    def caption(self):
        """What the table compares, on which metric, against which baseline."""
        if self.primary is None:
            return "Per task (the comparison with the baselines is missing)."
        return (f"Per task: {self.estimator or 'the multitask model'} versus the "
                f"strongest baseline, {short_label(self.baseline, 60)} (smallest "
                f"pooled gain across tasks). Gain: on {metric_label(self.primary)}, "
                "the primary metric; positive means the multitask model is better.")

    def legend(self):
        """One line per rule: what the verdict, the adjusted test and the flag
        control."""
        level = f"{self.alpha:.0%}"
        name, rate = self.adjust_label
        lines = []
        if self.primary is not None and self.empirical_bayes:
            lines += [f"Verdict: empirical Bayes (adaptive shrinkage across tasks), "
                      f"false sign rate ≤ {level}: helped or hurt when the posterior "
                      f"probability of the wrong sign (lfsr) is ≤ {self.alpha:g} and "
                      "not every task could be unaffected (global test). Gain: "
                      f"posterior mean and {1 - 2 * self.alpha:.0%} interval.",
                      f"{name} column: the per-task test after {name}'s adjustment "
                      f"across tasks, {rate} ≤ {level}."]
        elif self.primary is not None:
            lines.append(f"Verdict: per-task test after {name}'s adjustment across "
                         f"tasks, {rate} ≤ {level}. Gain: mean over resamples with "
                         "its 95% confidence interval (not adjusted).")
        if self.calibration_rule:
            lines.append(f"Calibration: {self.calibration_rule}")
        return lines

    def counts(self):
        """``{"helped": k, "hurt": k, ...}`` over the tasks."""
        return self.frame["verdict"].value_counts().to_dict()


def _rows(table, metric, baseline):
    rows = table[(table["metric"] == metric) & (table["baseline"] == baseline)]
    return {str(task): row for task, row in zip(rows["task"], rows.to_dict("records"),
                                                strict=True)}


def _gain(row, empirical_bayes):
    if empirical_bayes:
        verdict = row.get("eb_verdict")
        verdict = verdict if isinstance(verdict, str) else row.get("verdict")
        return row.get("eb_mean"), row.get("eb_low"), row.get("eb_high"), verdict
    return row.get("diff"), row.get("conf_low"), row.get("conf_high"), \
        row.get("verdict")


def _significant(row, alpha):
    if "reject" in row and row["reject"] is not None and not pd.isna(row["reject"]):
        return bool(row["reject"])
    p = row.get("p_adj")
    return bool(float(p) < alpha) if _finite(p) else None


def _task_sizes(tasks, table, calibration):
    sizes = {}
    if calibration is not None and "n" in calibration.table:
        sizes.update({str(t): n for t, n in zip(calibration.table["task"],
                                                calibration.table["n"], strict=True)})
    if table is not None and {"n_train", "n_test"} <= set(table.columns):
        totals = table["n_train"] + table["n_test"]
        sizes.update({str(t): n for t, n in zip(table["task"], totals, strict=True)})
    if tasks is not None and "n_train" in tasks:
        sizes.update({str(t): n for t, n in zip(tasks["task"], tasks["n_train"],
                                                strict=True)})
    return {t: int(round(float(n))) if _finite(n) else None for t, n in sizes.items()}


def build_overview(comparison, calibration, tasks=None, alpha=0.05, estimator=""):
    """The overview of a task report from its parts.

    Parameters
    ----------
    comparison : ComparisonResult or None
        Gives the primary metric (its first), the strongest baseline, the
        scores, gains, verdicts and the pooled gain.
    calibration : CalibrationResult or None
        Gives the calibration flags (:func:`calibration_flags`).
    tasks : DataFrame, optional
        ``task, n_train``: the task sizes of the fit on all rows.
    alpha : float, default=0.05
        Level of the verdicts and flags.
    estimator : str, optional
        Name of the multitask model.

    Returns
    -------
    Overview
    """
    table = getattr(comparison, "table", None)
    if table is not None and table.empty:
        table = None
    primary = baseline = None
    kind = getattr(calibration, "kind", "") if calibration is not None else ""
    metrics, empirical_bayes, adjust, pooled = (), False, "holm", {}
    if table is not None:
        primary = table["metric"].iloc[0]
        baseline = strongest_baseline(comparison, primary)
        present = list(dict.fromkeys(table["metric"]))
        kind = ("classification" if primary in ("auc", "log_loss", "brier")
                else "regression")
        metrics = tuple(m for m in DISPLAY_METRICS.get(kind, ()) if m in present)
        if primary not in metrics:
            metrics = (primary, *metrics)
        empirical_bayes = set(EB_COLUMNS) <= set(table.columns)
        if "adj_method" in table and table["adj_method"].notna().any():
            adjust = str(table["adj_method"].dropna().iloc[0])
        rows = comparison.pooled
        rows = rows[(rows["metric"] == primary) & (rows["baseline"] == baseline)] \
            if {"metric", "baseline"} <= set(rows.columns) else rows.iloc[:0]
        pooled = {key: float(rows[key].iloc[0]) if len(rows) and key in rows
                  and _finite(rows[key].iloc[0]) else np.nan
                  for key in ("re_diff", "re_conf_low", "re_conf_high")}
    flags, rule = calibration_flags(calibration, alpha)
    sizes = _task_sizes(tasks, table, calibration)
    by_metric = {m: _rows(table, m, baseline) for m in metrics}
    order = list(by_metric.get(primary, {}))
    for source in (flags, sizes):
        order += [t for t in source if t not in order]
    labels = {}
    for source in ((table, "task"), (getattr(calibration, "table", None), "task"),
                   (tasks, "task")):
        if source[0] is not None:
            labels.update({str(t): t for t in source[0][source[1]]
                           if str(t) not in labels})
    records = []
    for key in order:
        record = {"task": labels.get(key, key), "n": sizes.get(key)}
        for m in metrics:
            row = by_metric[m].get(key, {})
            record[f"{m}_mtl"] = row.get("score_mtl", np.nan)
            record[f"{m}_baseline"] = row.get("score_baseline", np.nan)
        row = by_metric.get(primary, {}).get(key, {})
        gain, low, high, verdict = _gain(row, empirical_bayes) if row else \
            (np.nan, np.nan, np.nan, None)
        flag, reason = flags.get(key, ("", ""))
        records.append({**record, "gain": gain, "gain_low": low, "gain_high": high,
                        "verdict": verdict if isinstance(verdict, str) else "",
                        "significant_fw": _significant(row, alpha) if row else None,
                        "calibration": flag, "calibration_reason": reason})
    columns = ["task", "n", *[f"{m}_{s}" for m in metrics for s in ("mtl", "baseline")],
               "gain", "gain_low", "gain_high", "verdict", "significant_fw",
               "calibration", "calibration_reason"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for column in columns[2:-6]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    hurt_first = np.argsort(frame["verdict"].ne(HURT).to_numpy(), kind="stable")
    frame = frame.iloc[hurt_first].reset_index(drop=True)
    overview = Overview(frame, metrics, primary, baseline, estimator, empirical_bayes,
                        adjust, alpha, kind, (), rule, pooled)
    return replace(overview, sentences=sentences(overview, comparison is not None,
                                                 calibration is not None))
