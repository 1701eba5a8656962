"""Per-task calibration flags of the report overview: "ok" or "check".

The rules read the calibration table of :func:`calibration_report`:

* classifiers (``stage == "held_out"`` rows): "check" when the 95% CI of
  the calibration slope excludes 1 or the ECE consistency-resampling test
  has ``ece_p < alpha``;
* regressors: "check" when the per-task (Mondrian) conformal interval's
  coverage differs from its nominal level (``binom_p < alpha``), when that
  interval is not estimable (too few rows), or when the pooled PIT's
  Kolmogorov-Smirnov test has ``pit_ks_p < alpha`` (the task's residuals are
  shifted or spread unlike the other tasks': one shared interval width, or
  the shared model, misfits it). The Mondrian PIT is uniform by
  construction, so its KS test is not used.

Flags are per task and not adjusted for the number of tasks: about one
well-calibrated task in twenty is flagged by chance at ``alpha = 0.05``.
"""

from __future__ import annotations

import numpy as np

from ._conformal import METHODS

__all__ = ["calibration_flags", "calibration_rule"]


def calibration_rule(kind, alpha=0.05, nominal=None):
    """The flag rule in words, for the report's legend and methods."""
    chance = (f"per task, not adjusted (about 1 task in {round(1 / alpha)} is flagged "
              "by chance).")
    if kind == "classification":
        return ("'check' when the 95% CI of the calibration slope excludes 1 or the "
                f"ECE consistency test has p < {alpha:g}, on held-out predictions; "
                + chance)
    level = f"{nominal:.0%}" if nominal is not None and np.isfinite(nominal) \
        else "nominal"
    return (f"'check' when the per-task conformal interval's coverage differs from "
            f"its {level} target (binomial p < {alpha:g}) or cannot be estimated, "
            f"or the pooled-PIT KS test has p < {alpha:g} (the task's errors are "
            "shifted or spread unlike the other tasks'); " + chance)


def _number(value):
    """``float(value)``, NaN when it is missing or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _known(*values):
    return any(np.isfinite(_number(v)) for v in values)


def _classification(table, alpha):
    if "stage" in table:
        table = table[table["stage"] == "held_out"]
    flags = {}
    for row in table.to_dict("records"):
        low, high = row.get("slope_low", np.nan), row.get("slope_high", np.nan)
        reasons = []
        if _number(high) < 1:
            reasons.append("slope < 1")
        if _number(low) > 1:
            reasons.append("slope > 1")
        if _number(row.get("ece_p")) < alpha:
            reasons.append("ECE")
        known = _known(low, high, row.get("ece_p"))
        flags[str(row["task"])] = ("check" if reasons else "ok" if known else "",
                                   ", ".join(reasons))
    return flags


def _regression(table, alpha):
    flags = {}
    if "method" not in table:
        return flags
    pooled = {str(r["task"]): r for r in
              table[table["method"] == METHODS[1]].to_dict("records")}
    for row in table[table["method"] == METHODS[0]].to_dict("records"):
        key, reasons = str(row["task"]), []
        other = pooled.get(key, {})
        if row.get("estimable") in (False, np.False_):
            reasons.append("no interval")
        elif _number(row.get("binom_p")) < alpha:
            reasons.append("coverage")
        if _number(other.get("pit_ks_p")) < alpha:
            reasons.append("PIT")
        known = _known(row.get("binom_p"), other.get("pit_ks_p")) or bool(reasons)
        flags[key] = ("check" if reasons else "ok" if known else "",
                      ", ".join(reasons))
    return flags


def calibration_flags(calibration, alpha=0.05):
    """Per-task flags and the rule that made them.

    Parameters
    ----------
    calibration : CalibrationResult or None
        The calibration part of the report; None gives no flags.
    alpha : float, default=0.05
        Level of every test.

    Returns
    -------
    flags : dict
        ``str(task) -> (flag, reason)``: flag "ok", "check", or "" when the
        numbers are missing; reason e.g. ``"slope < 1, ECE"``.
    rule : str
        The rule in words ("" without a calibration).
    """
    if calibration is None or getattr(calibration, "table", None) is None \
            or calibration.table.empty:
        return {}, ""
    table = calibration.table
    if calibration.kind == "classification":
        return _classification(table, alpha), calibration_rule("classification", alpha)
    nominal = table["nominal"].iloc[0] if "nominal" in table else None
    return _regression(table, alpha), calibration_rule("regression", alpha, nominal)
