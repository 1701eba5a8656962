"""Scores and statistics behind :func:`mtstats.report.compare_to_baselines`.

Per-task scores on the resampling splits (built in
:mod:`mtstats.report._folds`), the Nadeau-Bengio corrected resampled t-test,
a bootstrap alternative, the adjustment across tasks, the empirical-Bayes
shrinkage of the per-task differences and the across-task summary. All
functions work on plain NumPy arrays; the CV loop lives in
:mod:`mtstats.report.comparison`, the result object in
:mod:`mtstats.report._comparison_result`.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.base import clone
from sklearn.metrics import log_loss, roc_auc_score
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests

from ._empirical_bayes import shrink_effects

REGRESSION_METRICS = ("mse", "r2")
CLASSIFICATION_METRICS = ("log_loss", "brier", "auc")
HIGHER_IS_BETTER = {"mse": False, "r2": True, "log_loss": False, "brier": False,
                    "auc": True}
ADJUST_METHODS = ("holm", "fdr_bh", "fdr_by")


def take(data, index):
    """Rows ``index`` of an array or a pandas object."""
    return data.iloc[index] if hasattr(data, "iloc") else np.asarray(data)[index]


def fit_and_score(split, *, models, X, y, Y, membership, classifier, metrics):
    """Scores of every model on every task's test rows: (n_models, T, n_metrics)."""
    train, test = split
    X_train, X_test, y_train = take(X, train), take(X, test), take(y, train)
    n_tasks = membership.shape[1]
    scores = np.full((len(models), n_tasks, len(metrics)), np.nan)
    for m, model in enumerate(models):
        fitted = clone(model).fit(X_train, y_train)
        if classifier:
            pred = np.asarray(fitted.predict_proba(X_test))
            if Y.shape[1] == 1 and pred.ndim == 2 and pred.shape[1] == 2:
                pred = pred[:, 1]
            positive = fitted.classes_[1]
        else:
            pred = np.asarray(fitted.predict(X_test))
        pred = pred.reshape(len(test), -1)
        for t in range(n_tasks):
            in_test, in_train = membership[test, t], membership[train, t]
            column = 0 if Y.shape[1] == 1 else t
            y_true = Y[test[in_test], column]
            p_t = pred[in_test, 0 if pred.shape[1] == 1 else t]
            train_mean = np.mean(Y[train[in_train], column]) if not classifier else 0
            if classifier:
                y_true = (y_true == positive).astype(float)
            for k, metric in enumerate(metrics):
                scores[m, t, k] = score(metric, y_true, p_t, train_mean)
    return scores


def check_metrics(metrics, classifier):
    """Validated tuple of metric names (the first is the primary one)."""
    valid = CLASSIFICATION_METRICS if classifier else REGRESSION_METRICS
    if metrics is None:
        return valid
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [m for m in metrics if m not in valid]
    if unknown or not metrics:
        kind = "classification" if classifier else "regression"
        raise ValueError(f"Unknown metric(s) {unknown} for {kind}; valid metrics "
                         f"are {list(valid)}.")
    return tuple(dict.fromkeys(metrics))


def score(metric, y_true, pred, train_mean):
    r"""One task's score on its test rows.

    ``pred`` is the prediction (regression) or the probability of the
    positive class (classification, ``y_true`` coded 0/1). ``r2`` is the
    out-of-sample :math:`1 - \sum (y - \hat y)^2 / \sum (y - \bar y_{train})^2`,
    centred at the task's *training* mean, which stays defined and stable on
    small test folds. ``auc`` is NaN when the test rows hold one class.
    """
    if metric == "mse":
        return float(np.mean((y_true - pred) ** 2))
    if metric == "r2":
        total = np.sum((y_true - train_mean) ** 2)
        return float(1 - np.sum((y_true - pred) ** 2) / total) if total > 0 else np.nan
    if metric == "brier":
        return float(np.mean((pred - y_true) ** 2))
    if metric == "log_loss":
        return float(log_loss(y_true, pred, labels=[0, 1]))
    if np.unique(y_true).size < 2:
        return np.nan
    return float(roc_auc_score(y_true, pred))


def nb_ttest(d, ratio, confidence_level):
    r"""Nadeau-Bengio corrected resampled t-test of ``mean(d) = 0``.

    :math:`t = \bar d / \sqrt{(1/J + n_{test}/n_{train})\,\hat\sigma^2}` with
    ``df = J - 1``; NaN entries of ``d`` are dropped first.

    Returns
    -------
    dict
        ``diff, se, conf_low, conf_high, statistic, df, p_value, n_resamples``.
    """
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    J = d.size
    out = dict(diff=np.nan, se=np.nan, conf_low=np.nan, conf_high=np.nan,
               statistic=np.nan, df=np.nan, p_value=np.nan, n_resamples=J)
    if J < 2:
        return out
    mean = float(np.mean(d))
    se = float(np.sqrt((1 / J + ratio) * np.var(d, ddof=1)))
    if se > 0:
        statistic = mean / se
    else:  # identical differences on every resample
        statistic = 0.0 if mean == 0 else np.copysign(np.inf, mean)
    half = stats.t.ppf(0.5 + confidence_level / 2, J - 1) * se
    out.update(diff=mean, se=se, conf_low=mean - half, conf_high=mean + half,
               statistic=statistic, df=J - 1,
               p_value=float(2 * stats.t.sf(abs(statistic), J - 1)))
    return out


def bootstrap_test(d, ratio, confidence_level, rng, n_resamples=9999):
    r"""Percentile bootstrap of ``mean(d)``, stretched by the NB factor.

    The bootstrap treats the J differences as independent, but resamples of
    one dataset share rows, so its spread understates :math:`\mathrm{Var}(\bar
    d)` (an anti-conservative test). Following Nadeau & Bengio's model of
    that correlation, the bootstrap distribution is stretched about
    :math:`\bar d` by :math:`\sqrt{1 + J\,n_{test}/n_{train}}`, which turns its
    variance :math:`\hat\sigma^2/J` into the corrected
    :math:`(1/J + n_{test}/n_{train})\hat\sigma^2`; the bootstrap contributes
    the shape. CI and p-value (twice the smaller tail mass beyond 0) come from
    the same stretched distribution, so they agree.
    """
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    J = d.size
    out = nb_ttest(d, ratio, confidence_level)
    out.update(df=np.nan)
    if J < 2 or np.ptp(d) == 0:
        return out
    options = dict(n_resamples=n_resamples, confidence_level=confidence_level,
                   method="percentile")
    try:
        result = stats.bootstrap((d,), np.mean, rng=rng, **options)
    except TypeError:  # scipy < 1.15 names it random_state
        result = stats.bootstrap((d,), np.mean, random_state=rng, **options)
    mean, stretch = out["diff"], np.sqrt(1 + J * ratio)
    low, high = result.confidence_interval
    draws = mean + stretch * (result.bootstrap_distribution - mean)
    tail = min(np.mean(draws <= 0), np.mean(draws >= 0))
    se = stretch * float(result.standard_error)
    out.update(conf_low=mean + stretch * (low - mean),
               conf_high=mean + stretch * (high - mean), se=se,
               statistic=mean / se if se > 0 else np.nan,
               p_value=float(min(1.0, 2 * max(tail, 1 / (n_resamples + 1)))))
    return out


def adjust_pvalues(p_values, method, alpha):
    """``multipletests`` over the finite p-values; NaN stay NaN (not rejected)."""
    p = np.asarray(p_values, dtype=float)
    p_adj = np.full(p.shape, np.nan)
    reject = np.zeros(p.shape, dtype=bool)
    finite = np.isfinite(p)
    if finite.any():
        reject[finite], p_adj[finite], _, _ = multipletests(p[finite], alpha=alpha,
                                                            method=method)
    return p_adj, reject


#: Verdict of an empirical-Bayes call, by the sign of the called effect.
EB_VERDICTS = {1: "helped", -1: "hurt", 0: "no detectable difference"}


def verdict(reject, diff):
    """"helped", "hurt" or "no detectable difference" (positive = MTL better)."""
    if reject and diff > 0:
        return "helped"
    if reject and diff < 0:
        return "hurt"
    return "no detectable difference"


def family_tests(d, ratio, test, confidence_level, method, alpha, seed):
    r"""Per-task tests of one metric and baseline, adjusted, and the pooled row.

    ``d`` has shape (J, T); ``ratio`` is n_test/n_train per task. The
    meta-analysis and the empirical-Bayes layer (:func:`shrink_effects` on
    the tasks' mean differences) always use the NB variance
    :math:`(1/J + r)\hat\sigma^2`.
    """
    tasks = range(d.shape[1])
    nb = [nb_ttest(d[:, t], ratio[t], confidence_level) for t in tasks]
    res = nb if test == "nb" else [
        bootstrap_test(d[:, t], ratio[t], confidence_level,
                       np.random.default_rng([*seed, t])) for t in tasks]
    p_adj, reject = adjust_pvalues([r["p_value"] for r in res], method, alpha)
    for r, p, rej in zip(res, p_adj, reject, strict=True):
        r.update(p_adj=p, reject=bool(rej), verdict=verdict(rej, r["diff"]))
    pooled = across_tasks([r["diff"] for r in nb], [r["se"] ** 2 for r in nb],
                          confidence_level)
    pooled.update(n_helped=sum(r["verdict"] == "helped" for r in res),
                  n_hurt=sum(r["verdict"] == "hurt" for r in res))
    # the 1 - 2 alpha posterior interval excludes 0 about when lfsr <= alpha
    effects, prior = shrink_effects([r["diff"] for r in nb], [r["se"] for r in nb],
                                    level=1 - 2 * alpha, alpha=alpha)
    for r, row in zip(res, effects.itertuples(index=False), strict=True):
        r.update(eb_mean=row.eb_mean, eb_low=row.eb_low, eb_high=row.eb_high,
                 lfsr=row.lfsr, svalue=row.svalue,
                 eb_verdict=EB_VERDICTS[int(row.eb_sign)])
    pooled.update(eb_n_helped=int(np.sum(effects["eb_sign"] > 0)),
                  eb_n_hurt=int(np.sum(effects["eb_sign"] < 0)),
                  eb_mode=prior["mode"], eb_null_weight=prior["null_weight"])
    return res, pooled


def across_tasks(diffs, variances, confidence_level):
    r"""Across-task summary of per-task mean differences (Demsar 2006).

    Wilcoxon signed-rank test and sign test over the tasks' :math:`\bar d_t`,
    and a DerSimonian-Laird random-effects meta-analysis with variances
    :math:`v_t` (tasks with a non-positive or undefined variance are left out
    of the meta-analysis).
    """
    diffs = np.asarray(diffs, dtype=float)
    variances = np.asarray(variances, dtype=float)
    keep = np.isfinite(diffs)
    d = diffs[keep]
    nonzero = d[d != 0]
    out = dict(n_tasks=int(d.size), mean_diff=float(np.mean(d)) if d.size else np.nan,
               n_positive=int(np.sum(d > 0)), n_negative=int(np.sum(d < 0)),
               wilcoxon_statistic=np.nan, wilcoxon_p=np.nan, sign_test_p=np.nan,
               re_diff=np.nan, re_se=np.nan, re_conf_low=np.nan,
               re_conf_high=np.nan, re_p_value=np.nan, q=np.nan, q_p_value=np.nan,
               i2=np.nan, tau2=np.nan)
    if nonzero.size >= 1:
        out["sign_test_p"] = float(stats.binomtest(int(np.sum(nonzero > 0)),
                                                   nonzero.size, 0.5).pvalue)
    if nonzero.size >= 2:
        wilcoxon = stats.wilcoxon(d, zero_method="wilcox")
        out.update(wilcoxon_statistic=float(wilcoxon.statistic),
                   wilcoxon_p=float(wilcoxon.pvalue))
    meta = keep & np.isfinite(variances) & (variances > 0)
    if meta.sum() >= 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            result = combine_effects(diffs[meta], variances[meta], method_re="dl",
                                     alpha=1 - confidence_level)
            intervals = result.conf_int(alpha=1 - confidence_level)
        # statsmodels 0.15 leaves the DL tau2 (and I2) negative when Q < df;
        # DerSimonian-Laird truncate at 0, where the RE fit is the FE fit
        positive = bool(np.isfinite(result.tau2) and result.tau2 > 0)
        eff = float(result.mean_effect_re if positive else result.mean_effect_fe)
        se = float(result.sd_eff_w_re if positive else result.sd_eff_w_fe)
        low, high = intervals[1] if positive else intervals[0]
        out.update(re_diff=eff, re_se=se, re_conf_low=float(low),
                   re_conf_high=float(high),
                   re_p_value=float(2 * stats.norm.sf(abs(eff / se))),
                   q=float(result.q), q_p_value=float(result.test_homogeneity().pvalue),
                   i2=max(0.0, float(result.i2)) if positive else 0.0,
                   tau2=float(result.tau2) if positive else 0.0)
    return out
