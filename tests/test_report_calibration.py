"""Per-task calibration report: metrics against hand formulas and library
oracles, rejection rates and coverage by seeded simulation, the estimator path.

Simulation tolerances are three binomial standard errors of the simulated
rate (a false alarm about once in 300-700 runs of a test) unless stated.
"""

import matplotlib

matplotlib.use("Agg")

import joblib  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import statsmodels.api as sm  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.special import expit, logit  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.calibration import (  # noqa: E402
    CalibratedClassifierCV,
    calibration_curve,
)
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.metrics import brier_score_loss  # noqa: E402
from statsmodels.stats.proportion import proportion_confint  # noqa: E402

from mtstats import (  # noqa: E402
    IndependentClassifier,
    IndependentRegressor,
    TraceNormClassifier,
    TraceNormRegressor,
)
from mtstats.datasets import (  # noqa: E402
    make_multitask_classification,
    make_multitask_regression,
)
from mtstats.model_selection import (  # noqa: E402
    RepeatedTaskStratifiedKFold,
    TaskStratifiedKFold,
)
from mtstats.report._conformal import evaluate_conformal  # noqa: E402
from mtstats.report.calibration import (  # noqa: E402
    CalibrationResult,
    calibration_metrics,
    calibration_report,
    conformal_pit,
    conformal_quantile,
    interval_metrics,
    recalibration_map,
)

TIDY_CALIBRATION = ["task", "n", "n_pos", "brier", "rel", "res", "unc", "wbv", "wbc",
                    "ece", "mce", "ece_debiased_sq", "ece_p", "citl", "citl_low",
                    "citl_high", "slope", "slope_low", "slope_high",
                    "spiegelhalter_z", "spiegelhalter_p", "hl_stat", "hl_df", "hl_p",
                    "ici", "auc", "log_loss", "n_bins", "strategy"]
CURVE = ["task", "bin", "lower", "upper", "n", "mean_pred", "frac_pos", "ci_low",
         "ci_high", "band_low", "band_high"]
TIDY_INTERVALS = ["task", "n", "nominal", "method", "coverage", "cov_low",
                  "cov_high", "binom_p", "mean_width", "interval_score", "pit_ks",
                  "pit_ks_p", "estimable"]


def _draw(rng, n, scale=1.0):
    """Outcomes from true probabilities; reported p = expit(scale * logit)."""
    eta = rng.normal(0, 1.5, n)
    return rng.binomial(1, expit(eta)).astype(float), expit(scale * eta)


def _simulate(scale, repeats, n, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(repeats):
        y, p = _draw(rng, n, scale)
        rows.append(calibration_metrics(y, p, n_resamples=200, random_state=rng)[0])
    return pd.DataFrame(rows)


def _se(rate, repeats):
    return 3 * np.sqrt(rate * (1 - rate) / repeats)


# ----------------------------------------------------- bins and hand formulas


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
def test_bins_agree_with_sklearn_calibration_curve(strategy, rng):
    y, p = _draw(rng, 997)
    p[:20] = np.round(p[:20], 1)  # values on uniform edges: right-closed bins
    _, curve = calibration_metrics(y, p, strategy=strategy, min_bin_size=1,
                                   n_resamples=0)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy=strategy)
    np.testing.assert_allclose(curve["frac_pos"], prob_true, rtol=1e-12)
    np.testing.assert_allclose(curve["mean_pred"], prob_pred, rtol=1e-12)
    edges = (np.percentile(p, np.linspace(0, 1, 11) * 100) if strategy == "quantile"
             else np.linspace(0, 1, 11))
    counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=10)
    np.testing.assert_array_equal(curve["n"], counts[counts > 0])


def test_empty_bins_are_dropped_and_counted(rng):
    p = rng.uniform(0.0, 0.3, 300)
    y = rng.binomial(1, p).astype(float)
    metrics, curve = calibration_metrics(y, p, strategy="uniform", n_resamples=0)
    assert list(curve["bin"]) == [0, 1, 2]  # bins 3..9 are empty
    assert curve["n"].sum() == 300 and metrics["n_bins"] == 10
    np.testing.assert_allclose(curve[["lower", "upper"]],
                               [[0.0, 0.1], [0.1, 0.2], [0.2, 0.3]])


def test_small_tasks_merge_quantile_bins(rng):
    y, p = _draw(rng, 47)
    metrics, curve = calibration_metrics(y, p, n_resamples=0)
    assert metrics["n_bins"] == 4 and curve["n"].min() >= 10


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
@pytest.mark.parametrize("n", [25, 400])
def test_brier_decomposition_is_an_exact_identity(strategy, n, rng):
    for scale in (0.5, 1.0, 2.0):
        y, p = _draw(rng, n, scale)
        m, _ = calibration_metrics(y, p, strategy=strategy, n_resamples=0)
        identity = m["rel"] - m["res"] + m["unc"] + m["wbv"] - m["wbc"]
        assert abs(m["brier"] - identity) < 1e-12
        assert m["brier"] == pytest.approx(np.mean((p - y) ** 2), abs=1e-15)
        assert m["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-15)
        # binned REL - RES + UNC alone is not the Brier score
        assert abs(m["brier"] - (m["rel"] - m["res"] + m["unc"])) > 1e-6


def test_ece_mce_and_debiased_ece_by_hand(rng):
    y, p = _draw(rng, 500, 1.5)
    m, curve = calibration_metrics(y, p, n_resamples=0)
    edges = np.percentile(p, np.linspace(0, 1, 11) * 100)
    ids = np.searchsorted(edges[1:-1], p)
    ece = mce = sq = 0.0
    for k in range(10):
        yk, pk = y[ids == k], p[ids == k]
        gap = yk.mean() - pk.mean()
        ece += len(yk) / 500 * abs(gap)
        mce = max(mce, abs(gap))
        sq += len(yk) / 500 * (gap**2 - yk.mean() * (1 - yk.mean()) / (len(yk) - 1))
    assert m["ece"] == pytest.approx(ece, abs=1e-14)
    assert m["mce"] == pytest.approx(mce, abs=1e-14)
    assert m["ece_debiased_sq"] == pytest.approx(sq, abs=1e-14)
    uniform, _ = calibration_metrics(y, p, strategy="uniform", n_resamples=0)
    assert m["ece_uniform"] == pytest.approx(uniform["ece"], abs=1e-14)
    low, high = proportion_confint(np.round(curve["frac_pos"] * curve["n"]),
                                   curve["n"], alpha=0.05, method="wilson")
    np.testing.assert_allclose(curve["ci_low"], low)
    np.testing.assert_allclose(curve["ci_high"], high)


def test_spiegelhalter_and_hosmer_lemeshow_by_hand(rng):
    y, p = _draw(rng, 333, 1.3)
    m, _ = calibration_metrics(y, p, n_resamples=0)
    z = np.sum((y - p) * (1 - 2 * p)) / np.sqrt(np.sum((1 - 2 * p) ** 2 * p * (1 - p)))
    assert m["spiegelhalter_z"] == pytest.approx(z, rel=1e-12)
    assert m["spiegelhalter_p"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-12)
    groups = np.array_split(np.argsort(p, kind="quicksort"), 10)
    hl = sum((y[g].sum() - p[g].sum()) ** 2 / (p[g].sum() * (1 - p[g].mean()))
             for g in groups)
    assert m["hl_stat"] == pytest.approx(hl, rel=1e-12)
    # held-out predictions: df = G, not statsmodels' in-sample default G - 2
    assert m["hl_df"] == 10
    assert m["hl_p"] == pytest.approx(stats.chi2.sf(hl, 10), rel=1e-10)


def test_calibration_intercept_and_slope_solve_their_score_equations(rng):
    y, p = _draw(rng, 600, 1.7)
    m, _ = calibration_metrics(y, p, n_resamples=0)
    lp = logit(p)
    assert abs(np.sum(y - expit(m["citl"] + lp))) < 1e-6  # offset model
    fit = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit()
    mu = fit.predict()
    assert abs(np.sum(y - mu)) < 1e-6 and abs(np.sum((y - mu) * lp)) < 1e-6
    assert m["slope"] == pytest.approx(fit.params[1], rel=1e-10)
    np.testing.assert_allclose([m["slope_low"], m["slope_high"]], fit.conf_int()[1])
    z = (fit.params[1] - 1) / fit.bse[1]
    assert m["slope_p"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-10)


def test_degenerate_inputs_give_nan_not_errors():
    p = np.linspace(0.05, 0.95, 40)
    separated, _ = calibration_metrics((p > 0.5).astype(float), p, n_resamples=20,
                                       random_state=0)
    assert np.isnan(separated["slope"]) and np.isfinite(separated["citl"])
    one_class, _ = calibration_metrics(np.zeros(40), p, n_resamples=0)
    assert np.isnan(one_class["auc"]) and np.isnan(one_class["slope"])
    with pytest.raises(ValueError, match="0/1"):
        calibration_metrics(np.full(3, 2.0), np.full(3, 0.5))
    with pytest.raises(ValueError, match="same non-zero length"):
        calibration_metrics(np.zeros(3), np.full(4, 0.5))
    with pytest.raises(ValueError, match="strategy"):
        calibration_metrics(np.zeros(3), np.full(3, 0.5), strategy="kmeans")


def test_consistency_resampling_is_seeded_and_bands_cover_the_diagonal(rng):
    y, p = _draw(rng, 800)
    first, curve = calibration_metrics(y, p, n_resamples=300, random_state=3)
    second, _ = calibration_metrics(y, p, n_resamples=300, random_state=3)
    assert first["ece_p"] == second["ece_p"] and 0 < first["ece_p"] <= 1
    assert np.all(curve["band_low"] <= curve["mean_pred"] + 0.02)
    assert np.all(curve["band_high"] >= curve["mean_pred"] - 0.02)
    assert np.isnan(calibration_metrics(y, p, n_resamples=0)[0]["ece_p"])


class _ProbabilityView(ClassifierMixin, BaseEstimator):
    """A 'model' whose prediction is its single input column, a probability."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X):
        return logit(np.clip(np.asarray(X)[:, 0], 1e-10, 1 - 1e-10))

    def predict(self, X):
        return (np.asarray(X)[:, 0] > 0.5).astype(int)


@pytest.mark.parametrize("method, tol", [("sigmoid", 2e-3), ("isotonic", 1e-12)])
def test_recalibration_maps_match_calibrated_classifier_cv(method, tol, rng):
    y, p = _draw(rng, 3000, 2.0)
    frozen = FrozenEstimator(_ProbabilityView().fit(p[:, None], y))
    oracle = CalibratedClassifierCV(frozen, method=method).fit(p[:, None], y)
    ours = recalibration_map(method).fit(p, y).predict(p)
    # sigmoid differs only by Platt's smoothed targets
    np.testing.assert_allclose(ours, oracle.predict_proba(p[:, None])[:, 1], atol=tol)


# ------------------------------------------------------ rejection rates


def test_calibrated_predictions_keep_nominal_error_rates():
    repeats = 200
    d = _simulate(1.0, repeats, 400, seed=11)
    for low, high, target in (("slope_low", "slope_high", 1), ("citl_low",
                                                               "citl_high", 0)):
        coverage = np.mean((d[low] <= target) & (target <= d[high]))
        assert abs(coverage - 0.95) <= _se(0.95, repeats)
    for column in ("slope_p", "spiegelhalter_p", "ece_p", "hl_p"):
        assert np.mean(d[column] < 0.05) <= 0.05 + _se(0.05, repeats), column
    # ECE is of the size expected under calibration: its p-value is uniform
    assert stats.kstest(d["ece_p"], "uniform").pvalue > 0.001
    assert d["slope"].mean() == pytest.approx(1, abs=0.05)
    # debiased squared ECE is centred at zero; squared ECE is not
    sem = d["ece_debiased_sq"].std() / np.sqrt(repeats)
    assert abs(d["ece_debiased_sq"].mean()) < 4 * sem < d["ece"].pow(2).mean()


def test_over_and_under_confident_predictions_are_detected():
    over, under = _simulate(2.0, 40, 400, seed=12), _simulate(0.5, 40, 400, seed=13)
    assert over["slope"].mean() == pytest.approx(0.5, abs=0.08)
    assert under["slope"].mean() == pytest.approx(2.0, abs=0.3)
    assert (over["slope_high"] < 1).mean() > 0.9
    assert (under["slope_low"] > 1).mean() > 0.9
    for frame in (over, under):
        for column in ("slope_p", "spiegelhalter_p", "ece_p"):
            assert np.mean(frame[column] < 0.05) > 0.9, column


@pytest.mark.slow
def test_calibrated_error_rates_long_simulation():
    repeats = 500
    d = _simulate(1.0, repeats, 300, seed=21)
    coverage = np.mean((d["slope_low"] <= 1) & (1 <= d["slope_high"]))
    assert abs(coverage - 0.95) <= _se(0.95, repeats)
    for column in ("slope_p", "citl_p", "spiegelhalter_p", "ece_p", "hl_p"):
        assert np.mean(d[column] < 0.05) <= 0.05 + _se(0.05, repeats), column


# ------------------------------------------------------------- conformal


def test_conformal_quantile_is_the_kth_order_statistic():
    for n in (9, 19, 20, 50, 99):
        scores = np.random.default_rng(n).permutation(np.arange(1.0, n + 1))
        k = int(np.ceil((n + 1) * 0.9))
        assert conformal_quantile(scores, 0.1) == k
        if k < n:  # the np.quantile(..., method="higher") form overshoots
            assert np.quantile(scores, k / n, method="higher") == k + 1
    assert conformal_quantile(np.arange(8.0), 0.1) == np.inf


def test_conformal_pit_is_the_randomised_rank(rng):
    calibration = rng.standard_normal(19)
    residuals = rng.standard_normal(500)
    u = conformal_pit(residuals, calibration, rng)
    rank = np.sum(calibration[None, :] < residuals[:, None], axis=1)
    assert np.all((rank / 20 <= u) & (u <= (rank + 1) / 20))
    tied = conformal_pit(np.array([1.0]), np.array([0.0, 1.0, 1.0, 2.0]), rng)
    assert 1 / 5 <= tied[0] <= 4 / 5


def test_interval_metrics_by_hand():
    y = np.array([0.0, 1.0, 2.0, 5.0])
    lower, upper = np.array([-1.0, 1.5, 1.0, 0.0]), np.array([1.0, 2.0, 3.0, 4.0])
    m = interval_metrics(y, lower, upper, 0.2)
    assert m["coverage"] == 0.5
    widths, penalty = np.array([2, 0.5, 2, 4]), np.array([0, 0.5, 0, 1]) * 2 / 0.2
    assert m["mean_width"] == pytest.approx(widths.mean())
    assert m["interval_score"] == pytest.approx(np.mean(widths + penalty))
    assert m["binom_p"] == pytest.approx(stats.binomtest(2, 4, 0.8).pvalue)
    low, high = proportion_confint(2, 4, method="wilson")
    assert (m["cov_low"], m["cov_high"]) == pytest.approx((low, high))


def _conformal_runs(repeats, n_tasks, n, seed, scales=None, bias=None):
    rng = np.random.default_rng(seed)
    task_index = np.repeat(np.arange(n_tasks), n)
    scales = np.ones(n_tasks) if scales is None else scales
    shift = np.zeros(n_tasks) if bias is None else bias
    frames = []
    for r in range(repeats):
        y = rng.standard_normal(n_tasks * n) * scales[task_index] + shift[task_index]
        table, _ = evaluate_conformal(y, np.zeros_like(y), task_index,
                                      np.arange(n_tasks), 0.1, rng)
        frames.append(table.assign(repeat=r))
    return pd.concat(frames, ignore_index=True)


def test_mondrian_conformal_covers_every_task_at_the_nominal_rate():
    scales = np.geomspace(0.3, 3, 10)
    d = _conformal_runs(40, 10, 40, seed=5, scales=scales)
    mondrian = d[d["method"] == "mondrian_split_conformal"]
    # split conformal with n_cal = 20: P(cover) = 19/21 exactly (continuous)
    for _, task in mondrian.groupby("task"):
        se = task["coverage"].std() / np.sqrt(len(task))
        assert task["coverage"].mean() >= 0.9 - 3 * se
    se = mondrian["coverage"].std() / np.sqrt(len(mondrian))
    assert abs(mondrian["coverage"].mean() - 19 / 21) < 3 * se
    assert np.mean(mondrian["binom_p"] < 0.05) <= 0.05 + _se(0.05, len(mondrian))
    pooled = d[d["method"] == "pooled_split_conformal"]
    by_task = pooled.groupby("task")["coverage"].mean()
    assert pooled["coverage"].mean() >= 0.9 - 3 * se  # only on average
    assert by_task.iloc[-1] < 0.8 and by_task.iloc[0] > 0.99  # wrong per task
    assert np.mean(pooled["pit_ks_p"] < 0.05) > 0.3  # and PIT shows it


def test_pit_is_uniform_under_a_correct_model_and_detects_bias():
    d = _conformal_runs(15, 20, 60, seed=6)
    pooled = d[d["method"] == "pooled_split_conformal"]
    assert np.mean(pooled["pit_ks_p"] < 0.05) <= 0.05 + _se(0.05, len(pooled))
    assert stats.kstest(pooled["pit_ks_p"], "uniform").pvalue > 0.001
    biased = _conformal_runs(10, 5, 60, seed=7, bias=np.array([1.0, 0, 0, 0, 0]))
    biased = biased[biased["method"] == "pooled_split_conformal"]
    assert np.mean(biased.loc[biased["task"] == 0, "pit_ks_p"] < 0.05) > 0.8
    rng = np.random.default_rng(8)
    y = rng.standard_normal(600)
    _, rows = evaluate_conformal(y, np.zeros(600), np.repeat(np.arange(10), 60),
                                 np.arange(10), 0.1, rng)
    assert stats.kstest(rows["pit"], "uniform").pvalue > 0.001


def test_tasks_too_small_to_calibrate_are_not_estimable():
    rng = np.random.default_rng(9)
    task_index = np.repeat([0, 1], [12, 60])
    y = rng.standard_normal(72)
    table, rows = evaluate_conformal(y, np.zeros(72), task_index, np.array(["a", "b"]),
                                     0.1, rng)
    small = table[(table["task"] == "a") & (table["method"] ==
                                            "mondrian_split_conformal")].iloc[0]
    assert not small["estimable"] and np.isnan(small["coverage"])
    assert table.loc[table["task"] == "b", "estimable"].all()


@pytest.mark.slow
def test_mondrian_coverage_long_simulation():
    d = _conformal_runs(120, 10, 30, seed=10, scales=np.geomspace(0.3, 3, 10))
    mondrian = d[d["method"] == "mondrian_split_conformal"]
    se = mondrian["coverage"].std() / np.sqrt(len(mondrian))
    # n_cal = 15: k = ceil(16 * 0.9) = 15, P(cover) = 15/16 exactly
    assert abs(mondrian["coverage"].mean() - 15 / 16) < 3 * se


# ------------------------------------------------------- estimator path


@pytest.fixture(scope="module")
def classification_result():
    X, y, _ = make_multitask_classification(n_tasks=3, n_features=4, layout="long",
                                            as_frame=True, random_state=0)
    return calibration_report(TraceNormClassifier(task_column="task"), X, y,
                              n_resamples=200, recalibrate="isotonic",
                              random_state=0)


def test_classifier_report_end_to_end(classification_result, tmp_path):
    result = classification_result
    assert isinstance(result, CalibrationResult) and result.kind == "classification"
    assert set(TIDY_CALIBRATION) <= set(result.table.columns)
    assert len(result.table) == 6
    assert sorted(set(result.table["stage"])) == ["held_out", "recalibrated"]
    assert set(CURVE) <= set(result.curve.columns)
    assert result.augment["proba"].between(0, 1).all()
    assert result.augment["fold"].nunique() == 5
    text = str(result.summary())
    assert text.index("slope") < text.index("ece") < text.index("hl_stat")
    assert "Hosmer-Lemeshow" in text and "optimistic" in text
    assert "<table" in result._repr_html_()
    axes = result.plot()
    assert len(axes) == 3 and axes[0].get_xlim() == (0, 1)
    plt.close("all")
    path = result.to_html(tmp_path / "calibration.html")
    assert "data:image/png" in path.read_text()
    fitted = result.recalibrators["task_00"].predict(np.array([0.1, 0.9]))
    assert np.all((0 <= fitted) & (fitted <= 1))


def test_regressor_report_end_to_end(tmp_path):
    X, y, _ = make_multitask_regression(n_tasks=4, n_features=4, n_samples=(40, 60),
                                        as_frame=True, random_state=1)
    result = calibration_report(TraceNormRegressor(task_column="task"), X, y,
                                random_state=0)
    assert result.kind == "regression" and result.curve is None
    assert set(TIDY_INTERVALS) <= set(result.table.columns)
    assert len(result.table) == 8 and result.table["estimable"].all()
    assert set(result.pit["method"]) == {"mondrian_split_conformal",
                                        "pooled_split_conformal"}
    assert "mondrian split conformal" in str(result.summary())
    axes = result.plot(tasks=["task_00", "task_02"])
    assert len(axes) == 3
    plt.close("all")
    assert "data:image/png" in result.to_html(tmp_path / "r.html").read_text()


def test_regressor_held_out_coverage_is_nominal():
    X, y, _ = make_multitask_regression(n_tasks=20, n_features=5, n_samples=60,
                                        as_frame=True, random_state=2)
    result = calibration_report(IndependentRegressor(task_column="task"), X, y,
                                random_state=2)
    mondrian = result.table[result.table["method"] == "mondrian_split_conformal"]
    # 1200 rows, halves of 30: expected 28/31 = 0.903, binomial SE about 0.009
    assert 0.875 < mondrian["coverage"].mean() < 0.935


def _overfit_data(seed, n_tasks=4, n=150, d=12):
    rng = np.random.default_rng(seed)
    task = np.repeat(np.arange(n_tasks), n)
    X = rng.standard_normal((n * n_tasks, d))
    coef = rng.normal(0, 0.5, (n_tasks, d))
    y = rng.binomial(1, expit(np.einsum("ij,ij->i", X, coef[task])))
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(d)])
    frame["task"] = [f"t{t}" for t in task]
    return frame, np.where(y == 1, "yes", "no")


def test_sigmoid_recalibration_moves_an_overconfident_slope_toward_one():
    X, y = _overfit_data(0)
    result = calibration_report(IndependentClassifier(alpha=1e-4, task_column="task"),
                                X, y, recalibrate="sigmoid", n_resamples=0,
                                random_state=0)
    slopes = result.table.pivot(index="task", columns="stage", values="slope")
    assert (slopes["held_out"] < 0.85).all()  # under-penalised: too extreme
    assert ((slopes["recalibrated"] - 1).abs() < (slopes["held_out"] - 1).abs()).all()
    assert "Event: y == 'yes'" in " ".join(result.notes)


def test_reports_are_reproducible_and_parallel_safe():
    X, y, _ = make_multitask_classification(n_tasks=3, n_features=3, as_frame=True,
                                            random_state=4)
    est = IndependentClassifier(task_column="task")
    first = calibration_report(est, X, y, n_resamples=50, random_state=1)
    with joblib.parallel_config(backend="threading"):  # seeds are per task
        second = calibration_report(est, X, y, n_resamples=50, random_state=1,
                                    n_jobs=2)
    pd.testing.assert_frame_equal(first.table, second.table)
    pd.testing.assert_frame_equal(first.curve, second.curve)


def test_custom_partition_splitter_is_accepted():
    X, y, _ = make_multitask_regression(n_tasks=3, n_features=3, n_samples=40,
                                        as_frame=True, random_state=3)
    cv = TaskStratifiedKFold(4, task_column="task", random_state=0)
    result = calibration_report(IndependentRegressor(task_column="task"), X, y, cv=cv,
                                random_state=0)
    assert result.pit["fold"].nunique() == 4


def test_bad_input_raises_clear_errors():
    X, y, _ = make_multitask_classification(n_tasks=3, n_features=3, as_frame=True,
                                            random_state=0)
    est = IndependentClassifier(task_column="task")
    with pytest.raises(ValueError, match="strategy"):
        calibration_report(est, X, y, strategy="kmeans")
    with pytest.raises(ValueError, match="recalibrate"):
        calibration_report(est, X, y, recalibrate="temperature")
    with pytest.raises(ValueError, match="interval_alpha"):
        calibration_report(est, X, y, interval_alpha=1.5)
    small = pd.concat([X, X.iloc[:3].assign(task="tiny")], ignore_index=True)
    with pytest.raises(ValueError, match="'tiny' has 3 rows, fewer than the 5"):
        calibration_report(est, small, np.r_[y, [0.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="exactly once"):
        cv = RepeatedTaskStratifiedKFold(n_splits=3, n_repeats=2, task_column="task")
        calibration_report(est, X, y, cv=cv)
    # the wide layout is stacked into the long one (observed labels only)
    Xw, Yw, _ = make_multitask_classification(n_tasks=2, layout="wide",
                                              random_state=0)
    wide = calibration_report(IndependentClassifier(), Xw, Yw, n_resamples=0)
    assert list(wide.table["n"]) == list((~np.isnan(Yw)).sum(axis=0))
    Xr, yr, _ = make_multitask_regression(n_tasks=2, as_frame=True, random_state=0)
    with pytest.raises(ValueError, match="classifiers only"):
        calibration_report(IndependentRegressor(task_column="task"), Xr, yr,
                           recalibrate="sigmoid")
