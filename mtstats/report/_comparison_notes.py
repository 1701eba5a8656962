"""Method notes of :func:`mtstats.report.compare_to_baselines` (the Methods
appendix of the task report)."""

from __future__ import annotations

import numpy as np

__all__ = ["method_notes"]


def method_notes(test, design, J, ratio, metrics, adjust, alpha, level, table,
                 n_tasks):
    """The method notes of a comparison: test, direction, multiplicity,
    empirical Bayes, fairness and the power caveat, as plain strings."""
    factor = 1 + J * float(np.mean(ratio))
    name = ("Nadeau-Bengio corrected resampled t-test" if test == "nb" else
            "percentile bootstrap stretched to the Nadeau-Bengio variance")
    notes = [
        f"Test: {name} over J = {J} splits ({design}); n_test/n_train = "
        f"{np.mean(ratio):.4g}, so the variance of the mean difference is "
        f"{factor:.3g} times that of the naive resampled t-test.",
        "diff = score(multitask) - score(baseline), sign flipped for losses "
        "(mse, log_loss, brier): positive means the multitask model is better; "
        f"conf_low/conf_high: per-task {level:.0%} CI, not adjusted.",
        f"p_adj: {adjust} adjustment across the {n_tasks} tasks of each metric and "
        f"baseline; verdict 'helped'/'hurt' where p_adj < {alpha}.",
        "Across tasks: Wilcoxon signed-rank and sign tests on the tasks' mean "
        "differences; DerSimonian-Laird random-effects pooled diff with Q, I2, "
        "tau2 (tasks share splits and, for the multitask model, one fit, so "
        "the pooled CI treats dependent tasks as independent).",
        "Fair baselines: same splits and preprocessing for every model; tuned "
        "baselines must get the same inner-CV budget as the multitask model.",
    ]
    notes.append(
        "Empirical Bayes (eb_mean, eb_low/eb_high, lfsr, svalue, eb_verdict): "
        "the tasks' mean differences, with their NB standard errors, are "
        "shrunk towards a prior fitted to all tasks (point mass at zero plus "
        "normals about a common mode; Stephens 2017); lfsr is the posterior "
        "probability that a task's sign is wrong, and eb_verdict calls the "
        f"tasks with lfsr <= {alpha} once the global null is rejected at {alpha} "
        f"(false sign rate {alpha}); eb_low/eb_high: {1 - 2 * alpha:.0%} "
        "posterior interval. Assumes "
        "exchangeable tasks and normal, independent per-task differences.")
    if "r2" in metrics:
        notes.append("r2 is out-of-sample, about the task's training-fold mean.")
    primary = table[table["metric"] == metrics[0]]
    if not primary["reject"].any():
        notes.append(
            f"Power caveat: no task survives the {adjust} adjustment at {alpha}. "
            "Per-task resampled tests have little power at typical task sizes; "
            "read the per-task effects and CIs and the across-task summary, and "
            "do not read this as evidence of no effect.")
    return notes
