"""Per-task (Mondrian) split-conformal intervals and their evaluation.

The numbers behind the regression part of :func:`calibration_report`: the
conformal quantile, randomised conformal PIT values, interval metrics
(coverage with a Wilson CI and a binomial test, width, Winkler score), and the
two-half evaluation scheme on cross-fitted residuals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from ._render import plot_label

METHODS = ("mondrian_split_conformal", "pooled_split_conformal")


def conformal_quantile(scores, alpha):
    r"""Split-conformal quantile of nonconformity ``scores`` at level ``1 - alpha``.

    The :math:`k`-th smallest score with :math:`k = \lceil (n+1)(1-\alpha)
    \rceil`; ``inf`` when :math:`k > n` (too few calibration scores). Taken by
    sorting: ``np.quantile(s, k / n, method="higher")`` picks the
    :math:`(k+1)`-th smallest score whenever :math:`k < n` and is conservative.
    """
    scores = np.sort(np.asarray(scores, dtype=float))
    k = int(np.ceil((scores.shape[0] + 1) * (1 - alpha) - 1e-12))
    return np.inf if k > scores.shape[0] else float(scores[k - 1])


def min_calibration_size(alpha):
    r"""Smallest :math:`n` with a finite quantile: :math:`\lceil (n+1)(1-\alpha)
    \rceil \le n`."""
    return int(np.ceil((1 - alpha) / alpha - 1e-12))


def conformal_pit(residuals, calibration, rng):
    """Randomised rank of every residual among the calibration residuals.

    ``u = (#{c < r} + V (#{c == r} + 1)) / (n_cal + 1)`` with ``V`` uniform:
    exactly uniform on (0, 1) when ``r`` is exchangeable with the calibration
    residuals (Vovk, Gammerman & Shafer 2005, conformal predictive systems).
    """
    calibration = np.sort(np.asarray(calibration, dtype=float))
    residuals = np.asarray(residuals, dtype=float)
    below = np.searchsorted(calibration, residuals, side="left")
    ties = np.searchsorted(calibration, residuals, side="right") - below
    v = rng.random(residuals.shape[0])
    return (below + v * (ties + 1)) / (calibration.shape[0] + 1)


def wilson_interval(count, nobs, conf_level=0.95):
    """Wilson score interval of ``count / nobs``, clipped to contain it.

    statsmodels' ``proportion_confint(..., method="wilson")`` can return
    ``0.9999999999999998`` at ``count == nobs`` (95%: ``n = 10, 13, 25, 28,
    ...``) or a lower bound just above 0 at ``count == 0`` (``n = 3, 6, 7,
    12, ...``): the bound lands on the wrong side of the proportion and error
    bars such as ``high - count / nobs`` go negative.

    Parameters
    ----------
    count, nobs : int or array of int
        Successes and trials (``nobs > 0``).
    conf_level : float, default=0.95
        Confidence level of the interval.

    Returns
    -------
    low, high : float or ndarray
        With ``0 <= low <= count / nobs <= high <= 1``.
    """
    low, high = proportion_confint(count, nobs, alpha=1 - conf_level,
                                   method="wilson")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.divide(count, nobs)
    return np.clip(np.minimum(low, p), 0, 1), np.clip(np.maximum(high, p), 0, 1)


def interval_metrics(y, lower, upper, alpha, conf_level=0.95):
    """Coverage (Wilson CI, two-sided binomial test of ``1 - alpha``), mean
    width and mean interval (Winkler) score of the intervals ``[lower, upper]``.
    """
    y, lower, upper = (np.asarray(a, dtype=float) for a in (y, lower, upper))
    n = y.shape[0]
    covered = (lower <= y) & (y <= upper)
    k = int(covered.sum())
    low, high = wilson_interval(k, n, conf_level)
    below = np.clip(lower - y, 0, None)
    above = np.clip(y - upper, 0, None)
    score = (upper - lower) + (2 / alpha) * (below + above)
    return {
        "n": n, "nominal": 1 - alpha, "coverage": k / n, "cov_low": low,
        "cov_high": high,
        "binom_p": stats.binomtest(k, n, p=1 - alpha).pvalue,
        "mean_width": float(np.mean(upper - lower)),
        "interval_score": float(np.mean(score)),
    }


def _halves(task_index, n_tasks, rng):
    """A random half of every task's rows (True) and the rest (False)."""
    first = np.zeros(task_index.shape[0], dtype=bool)
    for t in range(n_tasks):
        rows = rng.permutation(np.flatnonzero(task_index == t))
        first[rows[: rows.shape[0] // 2]] = True
    return first


def evaluate_conformal(y, fitted, task_index, tasks, alpha, rng):
    """Two-half cross-conformal evaluation of per-task and pooled intervals.

    Every task's cross-fitted rows are split at random into halves A and B.
    Mondrian: the quantile of task ``t``'s absolute residuals in A gives the
    half-width for its rows in B, and vice versa. Pooled: the quantile over
    every task's A rows serves every task's B rows, and vice versa. PIT values
    rank each signed residual among the other half's signed residuals.

    Returns
    -------
    table : DataFrame
        One row per task and method (``tidy_intervals``).
    rows : DataFrame
        One row per sample and method: interval, coverage and PIT.
    """
    y, fitted = np.asarray(y, dtype=float), np.asarray(fitted, dtype=float)
    resid = y - fitted
    half = _halves(task_index, len(tasks), rng)
    records, frames = [], []
    for method in METHODS:
        width = np.full(y.shape[0], np.inf)
        pit = np.empty(y.shape[0])
        n_cal = np.zeros(len(tasks), dtype=int)
        for t in range(len(tasks)):
            in_task = task_index == t
            for target in (half, ~half):
                rows = in_task & target
                pool = ~target if method == METHODS[1] else in_task & ~target
                width[rows] = conformal_quantile(np.abs(resid[pool]), alpha)
                pit[rows] = conformal_pit(resid[rows], resid[pool], rng)
            scope = np.ones_like(in_task) if method == METHODS[1] else in_task
            n_cal[t] = min(np.sum(scope & half), np.sum(scope & ~half))
        lower, upper = fitted - width, fitted + width
        for t, task in enumerate(tasks):
            rows = task_index == t
            all_scores = np.abs(resid if method == METHODS[1] else resid[rows])
            estimable = bool(np.all(np.isfinite(width[rows])))
            ks = stats.kstest(pit[rows], "uniform")
            metrics = interval_metrics(y[rows], lower[rows], upper[rows], alpha)
            if not estimable:
                metrics.update(coverage=np.nan, cov_low=np.nan, cov_high=np.nan,
                               binom_p=np.nan, mean_width=np.inf,
                               interval_score=np.inf)
            records.append({"task": task, "method": method, **metrics,
                            "pit_ks": ks.statistic, "pit_ks_p": ks.pvalue,
                            "estimable": estimable, "n_cal": int(n_cal[t]),
                            "q_hat": conformal_quantile(all_scores, alpha)})
        frames.append(pd.DataFrame({
            "row": np.arange(y.shape[0]), "task": np.asarray(tasks)[task_index],
            "method": method, "half": np.where(half, "A", "B"), "y": y,
            "fitted": fitted, "lower": lower, "upper": upper,
            "covered": (lower <= y) & (y <= upper), "pit": pit,
        }))
    return pd.DataFrame.from_records(records), pd.concat(frames, ignore_index=True)


def regression_notes(alpha):
    """Method notes of the regression calibration report."""
    return [
        f"Intervals of nominal coverage {1 - alpha:g}: split conformal on the "
        "cross-fitted absolute residuals, per task (Mondrian) and pooled over "
        "tasks. Each task's rows are split at random into halves and each half "
        "calibrates the other; per row, P(cover) >= 1 - alpha per task for "
        "Mondrian, only on average over tasks for pooled. Not estimable: a half "
        f"with fewer than {min_calibration_size(alpha)} rows (infinite interval).",
        "cov_low/cov_high (95% Wilson) and binom_p (binomial test of the "
        "nominal level) treat rows as independent; rows sharing a calibration "
        "half are not, so read them as approximate (for Mondrian they are "
        "conservative: the two halves' errors partly cancel).",
        "PIT: randomised rank of each signed residual among the other half's "
        "(Mondrian: the task's; pooled: all tasks'). Mondrian PIT is uniform by "
        "construction (its KS test is a conservative check); pooled PIT and its "
        "KS test show tasks whose residuals differ from the others' (bias: "
        "skewed; spread: U- or hump-shaped).",
        "q_hat: the half-width from all of a task's held-out residuals, for "
        "intervals around the model refitted on all rows (the K-fold 'CV' "
        "interval; unlike CV+ (Barber et al. 2021, coverage >= 1 - 2 alpha) it "
        "has no finite-sample guarantee, and is usually slightly conservative).",
    ]


def regression_tables(table):
    """Summary tables: one per interval method."""
    columns = ["task", "n", "coverage", "cov_low", "cov_high", "binom_p",
               "mean_width", "interval_score", "pit_ks_p", "estimable", "q_hat"]
    return [(f"{method.replace('_', ' ')} (nominal {table['nominal'].iloc[0]:g})",
             table.loc[table["method"] == method, columns])
            for method in METHODS]


def plot_intervals(table, pit, tasks, axes, grid):
    """Coverage dot-plot (Wilson CIs, nominal line) and per-task PIT histograms.

    ``grid(n_panels, axes, first_row_wide)`` makes or checks the axes; returns
    the array ``[coverage_axis, pit_axis_1, ...]``.
    """
    axes = grid(len(tasks) + 1, axes, True)
    ax = axes[0]
    position = {task: i for i, task in enumerate(tasks)}
    for j, method in enumerate(METHODS):
        rows = table[(table["method"] == method) & table["task"].isin(tasks)]
        x = rows["task"].map(position).to_numpy(float) + (j - 0.5) * 0.3
        cov = rows["coverage"].to_numpy(float)
        ax.errorbar(x, cov, yerr=[cov - rows["cov_low"], rows["cov_high"] - cov],
                    fmt="o", ms=4, capsize=2, label=method.replace("_", " "))
    ax.axhline(table["nominal"].iloc[0], ls="--", color="grey", label="nominal")
    ax.set_xticks(range(len(tasks)), [plot_label(t) for t in tasks], rotation=45,
                  ha="right", fontsize=8)
    ax.set_ylabel("coverage")
    ax.legend(fontsize=8)
    for ax, task in zip(axes[1:], tasks, strict=False):
        for method, style in zip(METHODS[::-1], ({"alpha": 0.5},
                                                 {"histtype": "step", "lw": 1.5}),
                                 strict=True):
            u = pit.loc[(pit["task"] == task) & (pit["method"] == method), "pit"]
            ax.hist(u, bins=10, range=(0, 1), density=True,
                    label=method.split("_")[0], **style)
        ax.axhline(1, color="grey", ls=":")
        ax.set_title(f"PIT {plot_label(task)}", fontsize=9)
    axes[1].legend(fontsize=7)
    return axes
