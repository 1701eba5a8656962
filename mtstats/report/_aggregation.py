r"""Aggregation over random sample splits: p-values, intervals, posteriors.

Quantile aggregation of p-values with the ``1 - log(gamma_min)`` factor
(Meinshausen, Meier & Buehlmann 2009) and the matching confidence intervals,
found by inverting the aggregated test over a grid refined by bisection; the
empirical-Bayes shrinkage of every split's half-B estimates across tasks
(:func:`shrink_split`) and the pooling of the split posteriors
(:func:`aggregate_posteriors`); the tidy table of
:func:`mtstats.report.coefficient_tests` (:func:`tidy_table`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import special
from statsmodels.stats.multitest import multipletests

from ..estimators.structured import _GroupLassoModel
from ._coefficient_result import GROUP_ROW
from ._empirical_bayes import shrink_effects, svalues

#: Options of the per-feature priors: one fit per split and feature, so no
#: Bayesian bootstrap (20 times the cost); a null weight of 3 held the false
#: sign rate in benchmarks/bench_coefficient_shrinkage.py where 1 did not.
SHRINK_OPTIONS = {"null_penalty": 3.0, "n_bootstrap": 0}
EB_COLUMNS = ["eb_mean", "eb_low", "eb_high", "lfsr", "svalue", "eb_sign"]
COLUMNS = ["task", "term", "estimate", "estimate_inference", "std_error",
           "statistic", "df", "p_value", "p_adj", "adj_method", "p_fwer",
           "conf_low", "conf_high", "conf_level", "method", "estimand", "selected",
           "selection_freq", "n_splits", "testable", *EB_COLUMNS]
ESTIMANDS = {"multisplit": "coef", "task_refit": "coef",
             "subspace_split": "projection_on_span(U_r)",
             "cluster_split": "cluster_coef"}
MIN_UNITS = 2  # tasks tested in a split below which a feature is not shrunk

_CHUNK = 256  # (task, feature) pairs per block of the interval search


def _gammas(n_splits):
    return np.arange(int(np.ceil(0.05 * n_splits)), n_splits) / n_splits


def aggregate_pvalues(P):
    """Quantile aggregation over axis 0 with the ``1 - log(gamma_min)`` factor.

    ``P_j = min(1, (1 - log gamma_min) min_gamma q_gamma(P_j^(b)) / gamma)``
    over ``gamma = ceil(0.05 B)/B, ..., 1 - 1/B`` (numpy's linear quantile, R
    type 7). With one split, the split's p-value.
    """
    P = np.asarray(P, dtype=np.float64)
    B = P.shape[0]
    if B == 1:
        return P[0]
    gammas = _gammas(B)
    ordered = np.sort(P, axis=0)
    position = gammas * (B - 1)  # np.quantile(..., method="linear"), vectorised
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, B - 1)
    shape = (-1,) + (1,) * (P.ndim - 1)
    frac = (position - low).reshape(shape)
    q = ordered[low] + frac * (ordered[high] - ordered[low])
    ratio = q / gammas.reshape(shape)
    return np.minimum(1.0, (1 - np.log(gammas[0])) * ratio.min(axis=0))


def _aggregated_at(est, se, df, tested, beta):
    """Aggregated p-value of H0: w = beta; est etc. (B, m), beta (m, G)."""
    t = np.abs(est[..., None] - beta[None]) / se[..., None]
    pb = np.ones(t.shape)  # untested: p = 1 whatever beta
    tested = np.broadcast_to(tested[..., None], t.shape)
    df = np.broadcast_to(df[..., None], t.shape)
    normal = tested & np.isinf(df)
    student = tested & ~normal
    pb[normal] = 2 * special.ndtr(-t[normal])
    pb[student] = 2 * special.stdtr(df[student], -t[student])
    return aggregate_pvalues(pb)


def aggregate_confint(est, se, df, tested, level, n_grid=64, n_bisect=30):
    """Hull of ``{beta: aggregated p-value of H0: w = beta > 1 - level}``.

    Arrays are (n_splits, m); untested splits count as p = 1 for every beta.
    A grid between far brackets locates the outermost crossings, refined by
    bisection; an end whose bracket is still above the level is infinite.
    """
    B, m = est.shape
    alpha = 1 - level
    if B == 1:
        half = np.where(np.isinf(df), special.ndtri(1 - alpha / 2),
                        special.stdtrit(np.where(np.isinf(df), 1, df), 1 - alpha / 2))
        ok = tested[0]
        return (np.where(ok, est[0] - half[0] * se[0], -np.inf),
                np.where(ok, est[0] + half[0] * se[0], np.inf))
    gmin = _gammas(B)[0]
    tail = alpha * gmin / (4 * (1 - np.log(gmin)))
    k = np.where(np.isinf(df), special.ndtri(1 - tail),
                 special.stdtrit(np.where(np.isinf(df), 1, df), 1 - tail))
    low, high = np.full(m, -np.inf), np.full(m, np.inf)
    for start in range(0, m, _CHUNK):
        cols = slice(start, min(start + _CHUNK, m))
        args = (est[:, cols], se[:, cols], df[:, cols], tested[:, cols])
        if not args[3].any():
            continue
        reach = k[:, cols] * args[1]
        ends = [np.min(np.where(args[3], args[0] - reach, np.inf), axis=0),
                np.max(np.where(args[3], args[0] + reach, -np.inf), axis=0)]
        some = np.isfinite(ends[0])
        ends = [np.where(some, e, 0.0) for e in ends]
        grid = ends[0][:, None] + np.outer(ends[1] - ends[0], np.linspace(0, 1, n_grid))
        above = _aggregated_at(*args, grid) > alpha
        for side, out in ((0, low), (1, high)):
            idx = np.argmax(above, axis=1) if side == 0 else \
                n_grid - 1 - np.argmax(above[:, ::-1], axis=1)
            edge = idx == (0 if side == 0 else n_grid - 1)
            rows = np.arange(grid.shape[0])
            inner = grid[rows, idx]
            step = -1 if side == 0 else 1
            outer = grid[rows, np.clip(idx + step, 0, n_grid - 1)]
            for _ in range(n_bisect):
                mid = (inner + outer) / 2
                up = _aggregated_at(*args, mid[:, None])[:, 0] > alpha
                inner, outer = np.where(up, mid, inner), np.where(up, outer, mid)
            value = np.where(edge, -np.inf if side == 0 else np.inf, inner)
            value[~above.any(axis=1)] = np.nan  # empty confidence set
            value[~some] = -np.inf if side == 0 else np.inf
            out[cols] = value
    return low, high


def _normal_se(est, se, df):
    """Standard errors giving the normal likelihood the t test's p-value.

    ``|x| / Phi^-1(1 - p/2)`` with ``p`` the two-sided t p-value on ``df``
    degrees of freedom (``se`` itself where ``df`` is infinite or ``x`` is 0),
    so that the normal-means model does not read a t statistic as a z.
    """
    t = np.abs(est) / se
    df = np.broadcast_to(df, t.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = -special.ndtri(special.stdtr(np.where(np.isinf(df), 1, df), -t))
        out = np.where(np.isinf(df) | ~(t > 1e-8), se, se * t / z)
    return np.where(np.isfinite(out) & (out > 0), out, se)


def shrink_split(out, level):
    """Empirical-Bayes shrinkage, per feature, of one split's refits across tasks.

    For every feature :math:`j` tested in at least ``MIN_UNITS`` tasks,
    :func:`~mtstats.report._empirical_bayes.shrink_effects` of the half-B
    estimates :math:`x_{jt}` with their (t-matched, :func:`_normal_se`)
    standard errors. Adds ``eb_pos``, ``eb_neg``, ``eb_mean`` and ``eb_sd``
    (n_tasks, n_features) to ``out``: the posterior :math:`P(\\theta > 0)`,
    :math:`P(\\theta < 0)`, mean and sd; pairs not shrunk are an atom at 0.
    """
    est, tested = out["est"], out["tested"]
    se = _normal_se(est, out["se"], out["df"][:, None])
    post = {k: np.zeros(est.shape) for k in ("eb_pos", "eb_neg", "eb_mean", "eb_sd")}
    for j in np.flatnonzero(tested.sum(axis=0) >= MIN_UNITS):
        rows = np.flatnonzero(tested[:, j])
        effects, _ = shrink_effects(est[rows, j], se[rows, j], level=level,
                                    **SHRINK_OPTIONS)
        for key, column in (("eb_pos", "prob_positive"), ("eb_neg", "prob_negative"),
                            ("eb_mean", "eb_mean"), ("eb_sd", "eb_sd")):
            post[key][rows, j] = np.nan_to_num(effects[column].to_numpy())
    out.update(post)


def _pooled_cdf(value, parts):
    """CDF at ``value`` (m,) of the mixture over splits of spike-and-slab posteriors.

    Split ``b``: an atom ``1 - pos - neg`` at 0; mass ``neg`` (``pos``) spread
    as a normal ``N(mc, sc^2)`` truncated to the negatives (positives), the
    normal matched to the mean and variance of the non-zero part.
    """
    pos, neg, mc, sc = parts
    v = np.broadcast_to(value, mc.shape)
    z, z0 = (v - mc) / sc, -mc / sc
    log_ndtr = special.log_ndtr
    with np.errstate(over="ignore", invalid="ignore"):
        below = neg * np.minimum(1, np.exp(log_ndtr(z) - log_ndtr(z0)))
        above = pos * np.minimum(1, np.exp(log_ndtr(-z) - log_ndtr(-z0)))
    cdf = np.where(v < 0, np.nan_to_num(below), 1 - np.nan_to_num(above))
    return cdf.mean(axis=0)


def aggregate_posteriors(pos, neg, mean, sd, level, n_bisect=60):
    r"""Pool split posteriors (arrays (B, m)) into lfsr, mean and interval.

    The pooled posterior is the equal mixture over all splits, a pair not
    shrunk in a split counting as an atom at 0: :math:`P_\pm = \bar p_\pm`,
    :math:`\mathrm{lfsr} = 1 - \max(P_+, P_-)`, ``eb_mean`` the mean of the
    split means and the equal-tailed ``level`` interval of the mixture
    (:func:`_pooled_cdf`). Its sign probabilities are exact, so the interval
    excludes 0 exactly when ``lfsr < (1 - level) / 2``.
    """
    slab = np.clip(pos + neg, 0, 1)
    live = slab > 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        mc = np.where(live, mean / slab, 0.0)
        var = np.where(live, (sd**2 + mean**2) / slab - mc**2, 0.0)
    scale = np.maximum(np.abs(mc), 1.0) * 1e-8
    parts = (pos, neg, mc, np.maximum(np.sqrt(np.maximum(var, 0)), scale))
    reach = 10 * parts[3]
    p_pos, p_neg = pos.mean(axis=0), neg.mean(axis=0)
    tail = (1 - level) / 2
    ends = []
    for q in (tail, 1 - tail):
        low = np.min(np.minimum(mc, 0) - reach, axis=0) - 1e-12
        high = np.max(np.maximum(mc, 0) + reach, axis=0) + 1e-12
        for _ in range(n_bisect):
            mid = (low + high) / 2
            below = _pooled_cdf(mid, parts) < q
            low, high = np.where(below, mid, low), np.where(below, high, mid)
        atom = (p_neg < q) & (1 - p_pos >= q)  # the quantile is the atom at 0
        ends.append(np.where(atom, 0.0, high))
    return dict(eb_mean=mean.mean(axis=0), eb_low=ends[0], eb_high=ends[1],
                lfsr=1 - np.maximum(p_pos, p_neg), sign=np.where(p_pos > p_neg, 1, -1))


def _adjust(p, method):
    out = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        out[finite] = multipletests(p[finite], method=method)[1]
    return out


def _eb_columns(s, ok, level):
    """The ``EB_COLUMNS`` (n_tasks, n_features) from the stacked split posteriors."""
    B, T, p = s["est"].shape
    if "eb_pos" not in s:
        return {name: np.full((T, p), np.nan) for name in EB_COLUMNS}
    pooled = aggregate_posteriors(*(s[k].reshape(B, -1) for k in
                                    ("eb_pos", "eb_neg", "eb_mean", "eb_sd")), level)
    cols = {k: np.where(ok[:, None], v.reshape(T, p), np.nan)
            for k, v in pooled.items()}
    cols["svalue"] = svalues(cols["lfsr"].ravel()).reshape(T, p)
    cols["eb_sign"] = np.where(cols["lfsr"] <= 1 - level, cols.pop("sign"), 0.0)
    cols["eb_sign"][~ok] = np.nan
    return cols


def tidy_table(full, splits, method, level, adjust):
    """The table of :func:`coefficient_tests` and the per-split p-values."""
    key = ["est", "se", "pval", "tested", "usable", "df", "group_p"]
    key += [k for k in ("eb_pos", "eb_neg", "eb_mean", "eb_sd") if k in splits[0]]
    s = {k: np.stack([split[k] for split in splits]) for k in key}
    B, T, p = s["est"].shape
    ok = s["usable"].any(axis=0)
    pval = aggregate_pvalues(s["pval"])
    n_tested = s["tested"].sum(axis=(1, 2))[:, None, None]
    fwer = aggregate_pvalues(np.minimum(1.0, n_tested * s["pval"]))
    df = np.repeat(s["df"][:, :, None], p, axis=2)
    low, high = aggregate_confint(*(a.reshape(B, -1) for a in
                                    (s["est"], s["se"], df, s["tested"])), level)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: never tested
        est, se = np.nanmedian(s["est"], axis=0), np.nanmedian(s["se"], axis=0)
    single = B == 1
    cols = {
        "estimate": full.coef_, "estimate_inference": est, "std_error": se,
        "statistic": est / se if single else np.full((T, p), np.nan),
        "df": df[0] if single else np.full((T, p), np.nan), "p_value": pval,
        "p_fwer": np.full((T, p), np.nan) if method == "task_refit" else fwer,
        "conf_low": low.reshape(T, p), "conf_high": high.reshape(T, p)}
    for name in cols:
        if name not in ("estimate",):
            cols[name] = np.where(ok[:, None], cols[name], np.nan)
    terms = [str(f) for f in getattr(full, "feature_names_in_", [f"x{j}" for j in
                                                              range(p)])]
    frame = pd.DataFrame({"task": np.repeat([str(t) for t in full.tasks_], p),
                          "term": terms * T,
                          **{k: np.ravel(v) for k, v in cols.items()}})
    frame["p_adj"] = _adjust(frame["p_value"].to_numpy(), adjust)
    selected = full.coef_ != 0
    if isinstance(full, _GroupLassoModel):
        selected = np.repeat(selected.any(axis=0)[None], T, axis=0)
    frame["selected"] = np.ravel(selected)
    frame["selection_freq"] = np.ravel(s["tested"].mean(axis=0)) \
        if method != "task_refit" else np.nan
    frame["n_splits"] = np.repeat(s["usable"].sum(axis=0), p) * (method != "task_refit")
    frame["testable"] = np.repeat(ok, p)
    for name, value in _eb_columns(s, ok, level).items():
        frame[name] = np.ravel(value)
    group = pd.DataFrame({"task": GROUP_ROW, "term": terms,
                          "p_value": aggregate_pvalues(s["group_p"]),
                          "selected": selected.any(axis=0),
                          "testable": ok.any()})
    if single:
        group["statistic"] = splits[0]["group_stat"]
        group["df"] = splits[0]["group_df"]
    if method != "task_refit":
        group["selection_freq"] = s["tested"].any(axis=1).mean(axis=0)
        group["n_splits"] = B
    group["p_adj"] = _adjust(group["p_value"].to_numpy(float), adjust)
    table = pd.concat([frame, group], ignore_index=True)
    table["adj_method"] = adjust
    table["conf_level"], table["method"] = level, method
    table["estimand"] = ESTIMANDS[method]
    table["n_splits"] = table["n_splits"].fillna(0).astype(int)
    return table[COLUMNS], s["pval"]


def shrinkage_note(method, level):
    """The note on the empirical-Bayes columns of :func:`coefficient_tests`."""
    if method == "cluster_split":
        return ("Empirical-Bayes columns: not computed for cluster_split (the "
                "pooled cluster refit already borrows strength within a cluster, "
                "and a prior across a few clusters, chosen to differ, is not "
                "estimable).")
    alpha = 1 - level
    estimand = (" The calls concern the estimand above (the projection on the "
                "learned subspace), not w_jt." if method == "subspace_split" else "")
    return (
        "Empirical-Bayes columns (model-based, secondary to p_adj; Stephens "
        "2017): in every split, per feature, the refit estimates (half B; all "
        "the data for task_refit) of the tasks testing it are shrunk across "
        "tasks (normal means, prior = point mass at 0 + scale mixture of "
        "normals about a common mode, fitted per feature "
        "and split); the split posteriors are pooled as an equal mixture over "
        "all splits, a pair not tested in a split counting as exactly 0. lfsr = "
        f"1 - max(P(w > 0), P(w < 0)); eb_sign: sign called where lfsr <= "
        f"{alpha:.2g} (expected share of wrong signs among the calls about "
        f"{alpha:.2g} if the model holds). Assumes tasks exchangeable per "
        "feature, normal refit estimates and independence across tasks given "
        "the split." + estimand)
