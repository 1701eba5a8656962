r"""Per-task calibration metrics of probabilities against 0/1 outcomes.

The numbers behind :func:`~mtstats.report.calibration.calibration_report` for
classifiers, for any one task's ``(y, p)``: reliability bins (the edges of
``sklearn.calibration.calibration_curve``), ECE with its consistency-resampling
p-value, MCE and the exact Brier decomposition, calibration slope and
intercept, Spiegelhalter's :math:`Z`, Hosmer-Lemeshow and the ICI
(:func:`calibration_metrics`), and the per-task recalibration maps
(:func:`recalibration_map`), cross-fitted over the folds of the report.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from statsmodels.nonparametric.smoothers_lowess import lowess
from statsmodels.stats.diagnostic_gen import test_chisquare_binning
from statsmodels.tools.sm_exceptions import PerfectSeparationError

from ._conformal import wilson_interval

__all__ = ["HL_CAVEATS", "calibration_metrics", "recalibration_map"]

_EPS = 1e-10
_GLM_KEYS = ("citl", "citl_low", "citl_high", "citl_p",
             "slope", "slope_low", "slope_high", "slope_p")
HL_CAVEATS = (
    "Hosmer-Lemeshow (secondary): G = 10 equal-count groups of p, chi-square "
    "with df = G because the predictions are held out (df = G - 2 applies "
    "in-sample only). Its value depends on the grouping (Bertolini et al. "
    "2000); it has little power for small n and flags trivial miscalibration "
    "for large n (Kramer & Zimmerman 2007; Paul, Pennell & Lemeshow 2013); it "
    "says nothing about the direction of miscalibration. Read the slope and "
    "intercept first.")


# ------------------------------------------------------------------ binning


def _bins(p, n_bins, strategy, min_bin_size):
    """Edges and bin ids exactly as ``sklearn.calibration.calibration_curve``."""
    if strategy == "quantile":
        n_bins = int(min(n_bins, max(1, p.shape[0] // min_bin_size)))
        edges = np.percentile(p, np.linspace(0, 1, n_bins + 1) * 100)
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        raise ValueError(
            f"strategy must be 'quantile' or 'uniform'; got {strategy!r}.")
    return edges, np.searchsorted(edges[1:-1], p)


def _binned(y, p, edges, ids):
    """Per-bin counts, observed frequency and mean prediction (non-empty bins)."""
    size = edges.shape[0] - 1
    n_k = np.bincount(ids, minlength=size)
    keep = np.flatnonzero(n_k)
    obar = np.bincount(ids, weights=y, minlength=size)[keep] / n_k[keep]
    pbar = np.bincount(ids, weights=p, minlength=size)[keep] / n_k[keep]
    return keep, n_k[keep], obar, pbar


def _consistency(p, ids, keep, n_k, pbar, ece, n_resamples, rng):
    """Bröcker-Smith resampling: ECE p-value and 95% per-bin bands of frac_pos."""
    if n_resamples == 0:
        return np.nan, np.full((2, keep.shape[0]), np.nan)
    order = np.argsort(ids, kind="stable")
    p_sorted, starts = p[order], np.concatenate([[0], np.cumsum(n_k)[:-1]])
    chunk, frac = max(1, 2**21 // p.shape[0]), []
    for start in range(0, n_resamples, chunk):
        draws = rng.random((min(chunk, n_resamples - start), p.shape[0])) < p_sorted
        frac.append(np.add.reduceat(draws, starts, axis=1, dtype=np.int64) / n_k)
    frac = np.vstack(frac)
    ece_star = np.abs(frac - pbar) @ (n_k / n_k.sum())
    p_value = (1 + np.sum(ece_star >= ece - 1e-12)) / (n_resamples + 1)
    return p_value, np.quantile(frac, [0.025, 0.975], axis=0)


# ----------------------------------------------------------- single metrics


def _glm_fits(y, p):
    """Binomial GLMs ``(CITL, slope)`` of ``y`` on ``logit p``; ``None`` where
    not estimable (one class; constant ``p`` or perfect separation: slope)."""
    lp = logit(np.clip(p, _EPS, 1 - _EPS))
    if y.min() == y.max():
        return None, None
    family = sm.families.Binomial()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            citl = sm.GLM(y, np.ones_like(lp), family=family, offset=lp).fit()
            slope = sm.GLM(y, np.column_stack([np.ones_like(lp), lp]),
                           family=family).fit() if np.ptp(lp) > 0 else None
        except (np.linalg.LinAlgError, ValueError, PerfectSeparationError):
            return None, None  # pragma: no cover - statsmodels < 0.14 raises
    if any("separation" in str(w.message).lower() for w in caught):
        slope = None
    return citl, slope


def _logistic_calibration(y, p):
    """CITL and slope with Wald 95% CIs and tests of 0 and 1."""
    citl, slope = _glm_fits(y, p)
    out = dict.fromkeys(_GLM_KEYS, np.nan)
    if citl is not None:
        out.update(zip(_GLM_KEYS[:4], (citl.params[0], *citl.conf_int()[0],
                                       citl.pvalues[0]), strict=True))
    if slope is not None:
        z = (slope.params[1] - 1) / slope.bse[1]
        out.update(zip(_GLM_KEYS[4:], (slope.params[1], *slope.conf_int()[1],
                                       2 * stats.norm.sf(abs(z))), strict=True))
    return out


def _spiegelhalter(y, p):
    den = np.sqrt(np.sum((1 - 2 * p) ** 2 * p * (1 - p)))
    z = np.sum((y - p) * (1 - 2 * p)) / den if den > 0 else np.nan
    return z, 2 * stats.norm.sf(abs(z))


def _hosmer_lemeshow(y, p):
    groups = min(10, y.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        res = test_chisquare_binning(np.column_stack([1 - y, y]),
                                     np.column_stack([1 - p, p]), sort_var=p,
                                     bins=groups, df=groups)
    return res.statistic, res.df, res.pvalue


def _ici(y, p):
    """Integrated calibration index: mean |lowess(y ~ p) - p| (Austin 2019)."""
    if y.shape[0] < 3 or np.ptp(p) == 0:
        return np.nan
    smooth = lowess(y, p, frac=0.75, it=0, delta=0.01 * np.ptp(p),
                    return_sorted=False)
    return float(np.nanmean(np.abs(np.clip(smooth, 0, 1) - p)))


def calibration_metrics(y, p, *, n_bins=10, strategy="quantile", min_bin_size=10,
                        n_resamples=1000, random_state=None):
    r"""Calibration of probabilities ``p`` against 0/1 outcomes ``y`` (one task).

    With bins :math:`k` holding :math:`n_k` predictions, observed frequency
    :math:`\bar o_k`, mean prediction :math:`\bar p_k`, :math:`N = \sum n_k`
    and event rate :math:`\bar o`:

    .. math::

        \mathrm{ECE} = \sum_k \tfrac{n_k}{N} |\bar o_k - \bar p_k|, \quad
        \mathrm{BS} = \mathrm{REL} - \mathrm{RES} + \mathrm{UNC}
                      + \mathrm{WBV} - \mathrm{WBC}

    with :math:`\mathrm{REL} = \sum_k \frac{n_k}{N}(\bar p_k - \bar o_k)^2`,
    :math:`\mathrm{RES} = \sum_k \frac{n_k}{N}(\bar o_k - \bar o)^2`,
    :math:`\mathrm{UNC} = \bar o(1 - \bar o)` (Murphy 1973) and the within-bin
    variance and covariance :math:`\mathrm{WBV} = \frac1N \sum_i (p_i - \bar
    p_{k(i)})^2`, :math:`\mathrm{WBC} = \frac2N \sum_i (o_i - \bar o_{k(i)})
    (p_i - \bar p_{k(i)})`, which make the identity exact (Stephenson, Coelho &
    Jolliffe 2008). Debiased squared ECE: :math:`\sum_k \frac{n_k}{N}[(\bar
    o_k - \bar p_k)^2 - \bar o_k(1 - \bar o_k)/(n_k - 1)]` (Kumar et al. 2019).
    Calibration intercept (CITL) :math:`a` and slope :math:`b` from
    :math:`\operatorname{logit} P(y=1) = a + b \operatorname{logit} p`, the
    intercept with :math:`b` fixed at 1 by an offset (Cox 1958; Van Calster et
    al. 2016, 2019): ``statsmodels`` binomial GLMs, Wald CIs, tests of
    :math:`a = 0` and :math:`b = 1`. Spiegelhalter (1986): :math:`Z = \sum (y -
    p)(1 - 2p) / \sqrt{\sum (1 - 2p)^2 p(1 - p)}`. The ECE p-value resamples
    :math:`y^* \sim \mathrm{Bernoulli}(p)` (consistency resampling, Bröcker &
    Smith 2007), :math:`(1 + \#\{\mathrm{ECE}^* \ge \mathrm{ECE}\})/(B + 1)`,
    which is valid for held-out predictions.

    Parameters
    ----------
    y : array-like of shape (n,)
        Outcomes coded 0/1.
    p : array-like of shape (n,)
        Predicted probabilities of 1.
    n_bins : int, default=10
        Number of bins (at most; see ``min_bin_size``).
    strategy : {"quantile", "uniform"}, default="quantile"
        Bin edges as in :func:`sklearn.calibration.calibration_curve`:
        percentiles of ``p`` or equal widths; bins are right-closed
        (``np.searchsorted(edges[1:-1], p)``). ``ece_uniform`` always uses
        ten uniform bins, for comparison with published numbers.
    min_bin_size : int, default=10
        Quantile bins only: use at most ``n // min_bin_size`` bins, so that
        every bin holds about ``min_bin_size`` rows or more.
    n_resamples : int, default=1000
        Consistency resamples ``B`` for the ECE p-value and the bands (0: skip).
    random_state : int, Generator or None, default=None
        Seed of the resampling.

    Returns
    -------
    metrics : dict
        ``n, n_pos, brier, rel, res, unc, wbv, wbc, ece, ece_p, mce,
        ece_debiased_sq, ece_uniform, citl, citl_low, citl_high, citl_p, slope,
        slope_low, slope_high, slope_p, spiegelhalter_z, spiegelhalter_p,
        hl_stat, hl_df, hl_p, ici, auc, log_loss, n_bins, strategy``; the
        slope is NaN when the outcomes are perfectly separated by ``p``.
    curve : DataFrame
        One row per non-empty bin: ``bin, lower, upper, n, mean_pred,
        frac_pos, ci_low, ci_high`` (95% Wilson) and ``band_low, band_high``
        (95% consistency band of ``frac_pos`` under calibration).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.95, 2000)
    >>> metrics, curve = calibration_metrics(rng.binomial(1, p), p, random_state=0)
    >>> bool(0.8 < metrics["slope"] < 1.2), len(curve)
    (True, 10)
    """
    y, p = np.asarray(y, dtype=float).ravel(), np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape or y.shape[0] == 0:
        raise ValueError(f"y and p need the same non-zero length; got {y.shape[0]} "
                         f"and {p.shape[0]}.")
    if np.any((y != 0) & (y != 1)) or np.any(~(p >= 0) | ~(p <= 1)):
        raise ValueError("y must be 0/1 and p must lie in [0, 1].")
    rng = np.random.default_rng(random_state)
    edges, ids = _bins(p, n_bins, strategy, min_bin_size)
    keep, n_k, obar, pbar = _binned(y, p, edges, ids)
    w, gap, N = n_k / y.shape[0], obar - pbar, y.shape[0]
    lookup = np.full(edges.shape[0] - 1, -1)
    lookup[keep] = np.arange(keep.shape[0])
    within = lookup[ids]
    ece = float(w @ np.abs(gap))
    ece_p, bands = _consistency(p, ids, keep, n_k, pbar, ece, n_resamples, rng)
    u_edges, u_ids = _bins(p, 10, "uniform", 1)
    _, u_n, u_obar, u_pbar = _binned(y, p, u_edges, u_ids)
    correction = np.where(n_k > 1, obar * (1 - obar) / np.maximum(n_k - 1, 1), 0.0)
    z, z_p = _spiegelhalter(y, p)
    hl_stat, hl_df, hl_p = _hosmer_lemeshow(y, p)
    both = 0 < y.sum() < N
    metrics = {
        "n": N, "n_pos": int(y.sum()), "brier": brier_score_loss(y, p, labels=[0, 1]),
        "rel": float(w @ gap**2), "res": float(w @ (obar - y.mean()) ** 2),
        "unc": y.mean() * (1 - y.mean()),
        "wbv": np.mean((p - pbar[within]) ** 2),
        "wbc": 2 * np.mean((y - obar[within]) * (p - pbar[within])),
        "ece": ece, "ece_p": ece_p, "mce": float(np.max(np.abs(gap))),
        "ece_debiased_sq": float(w @ (gap**2 - correction)),
        "ece_uniform": float(u_n @ np.abs(u_obar - u_pbar) / N),
        **_logistic_calibration(y, p),
        "spiegelhalter_z": z, "spiegelhalter_p": z_p,
        "hl_stat": hl_stat, "hl_df": hl_df, "hl_p": hl_p, "ici": _ici(y, p),
        "auc": roc_auc_score(y, p) if both else np.nan,
        "log_loss": log_loss(y, np.clip(p, _EPS, 1 - _EPS), labels=[0, 1]),
        "n_bins": int(edges.shape[0] - 1), "strategy": strategy,
    }
    ci_low, ci_high = wilson_interval(np.round(obar * n_k), n_k)
    curve = pd.DataFrame({
        "bin": keep, "lower": edges[keep], "upper": edges[keep + 1], "n": n_k,
        "mean_pred": pbar, "frac_pos": obar, "ci_low": ci_low, "ci_high": ci_high,
        "band_low": bands[0], "band_high": bands[1]})
    return metrics, curve


# ------------------------------------------------------------ recalibration


class _LogisticRecalibration:
    """Platt-type map ``expit(a + b logit p)`` fitted by binomial GLM."""

    def fit(self, p, y):
        _, slope = _glm_fits(np.asarray(y, float), np.asarray(p, float))
        self.coef_ = (0.0, 1.0) if slope is None else tuple(slope.params)
        return self

    def predict(self, p):
        return expit(self.coef_[0] + self.coef_[1] * logit(np.clip(p, _EPS, 1 - _EPS)))


def recalibration_map(method):
    """An unfitted per-task recalibration map with ``fit(p, y)``/``predict(p)``.

    ``"sigmoid"``: logistic recalibration on the logit scale, the minimal form
    of ``CalibratedClassifierCV(FrozenEstimator(model), method="sigmoid")``
    (unsmoothed targets); ``"isotonic"``:
    ``IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)``.
    """
    if method == "sigmoid":
        return _LogisticRecalibration()
    if method == "isotonic":
        return IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
    raise ValueError(f"recalibrate must be None, 'sigmoid' or 'isotonic'; got "
                     f"{method!r}.")


def _cross_fitted_recalibration(y, p, fold, method):
    """Recalibrated probabilities, each from a map fitted on the other folds."""
    q = np.empty_like(p)
    for k in np.unique(fold):
        out = fold == k
        q[out] = recalibration_map(method).fit(p[~out], y[~out]).predict(p[out])
    return q, recalibration_map(method).fit(p, y)
