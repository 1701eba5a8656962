"""The words of the task report: headings, plain-language notes, references,
and the sentences that sum up the overview.

Kept apart from the logic so that the prose can be read and edited in one
place; :func:`sentences` is the only function that reads numbers.
"""

from __future__ import annotations

import numpy as np

from ._text import format_number, short_label

__all__ = ["HEADINGS", "PLAIN", "REFERENCES", "sentences"]

HURT, HELPED = "hurt", "helped"
LOSSES = ("mse", "log_loss", "brier")
METRIC_LABELS = {"r2": "R²", "mse": "MSE", "auc": "AUC", "log_loss": "log-loss",
                 "brier": "Brier score"}


def metric_label(metric):
    """``"R²"`` for ``"r2"``, ..., the name itself when unknown."""
    return METRIC_LABELS.get(metric, str(metric))


def _finite(value):
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def _names(tasks, limit=4):
    names = [short_label(t, 30) for t in tasks]
    if len(names) > limit:
        names = names[:limit] + [f"{len(tasks) - limit} more"]
    return ", ".join(names)


REFERENCES = (
    "Nadeau, C. & Bengio, Y. (2003). Inference for the generalization error. "
    "Machine Learning 52, 239-281.",
    "Holm, S. (1979). A simple sequentially rejective multiple test procedure. "
    "Scandinavian Journal of Statistics 6, 65-70.",
    "Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a "
    "practical and powerful approach to multiple testing. Journal of the Royal "
    "Statistical Society B 57, 289-300.",
    "DerSimonian, R. & Laird, N. (1986). Meta-analysis in clinical trials. "
    "Controlled Clinical Trials 7, 177-188.",
    "Stephens, M. (2017). False discovery rates: a new deal. Biostatistics 18, "
    "275-294 (local false sign rate, adaptive shrinkage).",
    "Meinshausen, N., Meier, L. & Bühlmann, P. (2009). P-values for "
    "high-dimensional regression. Journal of the American Statistical "
    "Association 104, 1671-1681.",
    "Lei, J., G'Sell, M., Rinaldo, A., Tibshirani, R. J. & Wasserman, L. (2018). "
    "Distribution-free predictive inference for regression. Journal of the "
    "American Statistical Association 113, 1094-1111.",
    "Demšar, J. (2006). Statistical comparisons of classifiers over multiple data "
    "sets. Journal of Machine Learning Research 7, 1-30.",
    "Bröcker, J. & Smith, L. A. (2007). Increasing the reliability of reliability "
    "diagrams. Weather and Forecasting 22, 651-661.",
)

PLAIN = {
    "comparison": (
        "Every model was refitted on the same cross-validation splits and scored "
        "on rows it had not seen. The gain is how much better the multitask "
        "model scored than a baseline (for errors such as MSE or log-loss: how "
        "much lower its error was), so a positive gain favours sharing. A task "
        "is called helped or hurt only when its interval excludes zero after "
        "allowing for the number of tasks tested; 'no detectable difference' "
        "means the data cannot tell, not that the models are equal. The "
        "'Across tasks' table pools the tasks' gains."),
    "coefficients": (
        "Which features matter for which task. Each row is one feature's effect "
        "in one task with its 95% interval and a p-value adjusted for the number "
        "of effects tested; only the effects unlikely to be zero are shown (the "
        "full table is behind the toggle). The model chose its features from "
        "the same data, so the tests use sample splitting: features are chosen "
        "on one half of the rows and tested on the other, which keeps the "
        "p-values honest."),
    "classification": (
        "Whether the predicted probabilities mean what they say: among cases "
        "given 70%, about 70% should be positive. Held-out predictions are used. "
        "A calibration slope below 1 means the predictions are too extreme, "
        "above 1 too timid; ECE is the average gap between predicted and "
        "observed frequencies (its p-value asks whether the gap exceeds chance). "
        "In the diagrams a calibrated task follows the diagonal."),
    "regression": (
        "Whether the uncertainty of the predictions can be trusted. Each task "
        "gets prediction intervals meant to contain a fixed share of new "
        "outcomes (the nominal coverage); 'coverage' is the share they actually "
        "contained on held-out rows. PIT values check the shape of the errors: "
        "a flat histogram is good, a slope means biased predictions, a U or a "
        "hump errors wider or narrower than the other tasks'."),
    "model": (
        "The multitask model refitted on all rows: its penalty, how many "
        "dimensions the tasks share (rank), whether the solver converged, and "
        "per task the number of rows and the size of its coefficients."),
}

HEADINGS = {"summary": "Summary", "comparison": "Does sharing help? Multitask "
            "versus baselines", "coefficients": "Which features matter? "
            "Coefficient tests", "calibration": "Can the predictions be trusted? "
            "Calibration", "model": "Model and data", "methods": "Methods and "
            "references"}


def _pooled_sentence(ov):
    metric, base = metric_label(ov.primary), short_label(ov.baseline, 40)
    gain, low, high = (ov.pooled.get(k, np.nan) for k in
                       ("re_diff", "re_conf_low", "re_conf_high"))
    if not all(_finite(v) for v in (gain, low, high)):
        return ("No pooled gain across tasks is available (it needs at least two "
                "tasks with a usable variance).")
    loss = ov.primary in ("mse", "log_loss", "brier")
    f = format_number
    if low > 0 or high < 0:
        better = low > 0
        word = ("lower" if loss else "higher") if better else \
            ("higher" if loss else "lower")
        lo, hi = sorted((abs(low), abs(high)))
        return (f"Across tasks, the multitask model's {metric} is on average "
                f"{f(abs(gain))} {word} than {base}'s (95% CI {f(lo)} to {f(hi)}, "
                "random-effects pooled): sharing "
                f"{'helps' if better else 'hurts'} overall.")
    return (f"Across tasks, the pooled gain in {metric} over {base} is {f(gain)} "
            f"(95% CI {f(low)} to {f(high)}, positive = multitask better): no overall "
            "difference is detectable.")


def _calibration_sentence(ov, present):
    flagged = ov.frame.loc[ov.frame["calibration"] == "check", "task"].tolist()
    rated = int(ov.frame["calibration"].isin(["ok", "check"]).sum())
    if not present or rated == 0:
        return "Calibration could not be assessed."
    what = ("predicted probabilities" if ov.kind == "classification"
            else "prediction intervals")
    if not flagged:
        return (f"Calibration: no task is flagged; the {what} agree with the "
                "held-out outcomes within chance.")
    return (f"Calibration: {len(flagged)} of {rated} tasks flagged for a closer look "
            f"({_names(flagged)}): {'its' if len(flagged) == 1 else 'their'} {what} "
            "depart from the held-out outcomes by more than chance explains.")


def sentences(ov, has_comparison, has_calibration):
    """Three or four sentences that sum up an :class:`Overview` in words:
    helped and hurt tasks, the pooled gain, calibration, what to read next.

    Parameters
    ----------
    ov : Overview
        The overview without its sentences.
    has_comparison, has_calibration : bool
        Whether those parts were computed.

    Returns
    -------
    tuple of str
    """
    frame, out = ov.frame, []
    counts = frame["verdict"].value_counts()
    hurt = frame.loc[frame["verdict"] == HURT, "task"].tolist()
    helped, rated = int(counts.get(HELPED, 0)), int(counts.sum() - counts.get("", 0))
    if not has_comparison or ov.primary is None:
        out.append("The comparison with the baselines could not be computed.")
    else:
        against = f"Against the strongest baseline ({short_label(ov.baseline, 40)})"
        if helped or hurt:
            hurt_text = f"hurt {len(hurt)} ({_names(hurt)})" if hurt else "hurt none"
            first = (f"{against}, the multitask model helped {helped} of {rated} "
                     f"tasks, {hurt_text} and made no detectable difference for "
                     f"the other {rated - helped - len(hurt)}.")
        else:
            first = (f"{against}, no single task shows a detectable difference "
                     f"({rated} tasks tested one at a time).")
        out += [first, _pooled_sentence(ov)]
    out.append(_calibration_sentence(ov, has_calibration))
    flagged = frame.loc[frame["calibration"] == "check", "task"].tolist()
    if hurt:
        step = (f"Next: open the comparison section for {_names(hurt)}; such tasks "
                "may be better fitted separately or with less sharing.")
    elif flagged:
        what = ("predicted probabilities" if ov.kind == "classification"
                else "prediction intervals")
        step = ("Next: look at the calibration plots of the flagged tasks before "
                f"relying on their {what}.")
    elif has_comparison and _finite(ov.pooled.get("re_conf_low")) \
            and ov.pooled["re_conf_low"] > 0:
        step = ("Next: the coefficient section shows which features drive each "
                "task.")
    else:
        step = ("Next: the per-task intervals in the comparison section show how "
                "large a difference could still be missed; more data or more "
                "cross-validation repeats would narrow them.")
    out.append(step)
    return tuple(out)
