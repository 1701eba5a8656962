"""compare_to_baselines: NB statistic, Holm, calibration under the null, power,
report rendering, classification, wide layout and bad input.

Simulations are seeded; the default run keeps small versions (about a minute
on two cores) and ``pytest -m slow`` runs the larger ones (about 5 minutes).
"""

from functools import partial
from unittest import mock

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import GridSearchCV, KFold, ShuffleSplit
from statsmodels.stats.multitest import multipletests

from mtstats import (
    IndependentRegressor,
    PooledRegressor,
    TraceNormClassifier,
    TraceNormRegressor,
)
from mtstats.datasets import make_multitask_classification, make_multitask_regression
from mtstats.model_selection import RepeatedTaskStratifiedKFold
from mtstats.report import _cvtests
from mtstats.report._cvtests import (
    across_tasks,
    adjust_pvalues,
    bootstrap_test,
    nb_ttest,
)
from mtstats.report._empirical_bayes import shrink_effects
from mtstats.report.comparison import ComparisonResult, compare_to_baselines

matplotlib.use("Agg")


class SubsetRidge(RegressorMixin, BaseEstimator):
    """Closed-form ridge per task on a subset of columns (task = last column)."""

    def __init__(self, columns=(0,), alpha=1.0, task_column=-1):
        self.columns = columns
        self.alpha = alpha
        self.task_column = task_column

    def fit(self, X, y):
        X = np.asarray(X, dtype=float)
        task, Z = X[:, -1].astype(int), X[:, list(self.columns)]
        self.coef_ = {}
        for t in np.unique(task):
            Zt, yt = Z[task == t], y[task == t]
            z_mean, y_mean = Zt.mean(axis=0), yt.mean()
            gram = (Zt - z_mean).T @ (Zt - z_mean) + self.alpha * np.eye(Z.shape[1])
            w = np.linalg.solve(gram, (Zt - z_mean).T @ (yt - y_mean))
            self.coef_[t] = (w, y_mean - z_mean @ w)
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        task, Z = X[:, -1].astype(int), X[:, list(self.columns)]
        out = np.empty(len(X))
        for t, (w, b) in self.coef_.items():
            out[task == t] = Z[task == t] @ w + b
        return out


def _null_pvalues(n_datasets, *, n_noise=10, n_tasks=5, n_per_task=40, n_signal=3,
                  test="nb", seed=0):
    r"""Per-task p-values and Holm family-wise rejections under an exact null.

    Null: the "multitask" model and the baseline are the same per-task ridge,
    one fitted on the signal features plus a block ``A`` of ``n_noise``
    irrelevant features, the other on the signal plus a second block ``B``.
    ``A`` and ``B`` are i.i.d. and exchangeable, so the two procedures have
    *equal expected generalisation error* for every task and training size
    (the null of Nadeau & Bengio: :math:`E_D[\mu_D] = 0`), although on any
    one dataset they differ (unlike a model compared with itself, which gives
    d = 0, or a perturbed copy, which tests nothing). Tasks have independent
    data and separate fits, so the per-task p-values within a dataset are
    independent and Holm's FWER is exactly controlled given valid p-values.

    Only the p-values and rejections are read. The empirical-Bayes columns,
    which do not enter them, come from the plug-in posterior
    (``n_bootstrap=0``) instead of 20 bootstrap refits of the prior, which
    took most of each comparison's time: the same p-values, bit for bit.
    """
    rng = np.random.default_rng(seed)
    signal = list(range(n_signal))
    block_a = tuple(signal + list(range(n_signal, n_signal + n_noise)))
    block_b = tuple(signal + list(range(n_signal + n_noise, n_signal + 2 * n_noise)))
    p_values, family_rejects = [], []
    eb_plug_in = partial(shrink_effects, n_bootstrap=0)
    with mock.patch.object(_cvtests, "shrink_effects", eb_plug_in):
        for i in range(n_datasets):
            task = np.repeat(np.arange(n_tasks), n_per_task)
            X = rng.standard_normal((task.size, n_signal + 2 * n_noise))
            W = rng.standard_normal((n_tasks, n_signal))
            y = np.einsum("ij,ij->i", X[:, :n_signal], W[task]) + rng.standard_normal(
                task.size)
            cv = RepeatedTaskStratifiedKFold(n_splits=10, n_repeats=10, task_column=-1,
                                             random_state=i)
            result = compare_to_baselines(
                SubsetRidge(block_a), np.column_stack([X, task]), y,
                baselines={"other_noise": SubsetRidge(block_b)}, cv=cv, metrics="mse",
                test=test, random_state=i)
            p_values.extend(result.table["p_value"])
            family_rejects.append(result.table["reject"].any())
    return np.array(p_values), np.array(family_rejects)


@pytest.fixture(scope="module")
def small_result():
    X, y, _ = make_multitask_regression(n_tasks=4, n_features=5, n_samples=30,
                                        layout="long", as_frame=True, random_state=0)
    cv = RepeatedTaskStratifiedKFold(n_splits=3, n_repeats=3, task_column="task",
                                     random_state=0)
    return compare_to_baselines(TraceNormRegressor(0.1, task_column="task"), X, y,
                                cv=cv, random_state=0)


# ------------------------------------------------------------- the statistic


def test_nb_ttest_matches_hand_computation_with_one_over_kr():
    r, k = 3, 10
    d = np.random.default_rng(1).normal(0.3, 1.0, r * k)
    J, ratio = r * k, 1 / (k - 1)
    se = np.sqrt((1 / J + ratio) * np.var(d, ddof=1))  # 1/(k r), not 1/n
    t = d.mean() / se
    out = nb_ttest(d, ratio, 0.9)
    assert out["statistic"] == pytest.approx(t)
    assert out["df"] == J - 1
    assert out["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), J - 1))
    half = stats.t.ppf(0.95, J - 1) * se
    assert (out["conf_low"], out["conf_high"]) == pytest.approx(
        (d.mean() - half, d.mean() + half))
    # trap 1: the old sklearn example used 1/(n_train + n_test) instead of 1/J
    wrong = d.mean() / np.sqrt((1 / 200 + ratio) * np.var(d, ddof=1))
    assert abs(out["statistic"] - wrong) > 0.05


def test_holm_is_holm_not_holm_sidak():
    p = np.array([0.01, 0.02, 0.03, 0.5])
    p_adj, reject = adjust_pvalues(p, "holm", 0.05)
    np.testing.assert_allclose(p_adj, [0.04, 0.06, 0.06, 0.5])
    np.testing.assert_array_equal(reject, [True, False, False, False])
    assert not np.allclose(p_adj, multipletests(p, method="hs")[1])
    p_adj, _ = adjust_pvalues(np.array([0.01, np.nan]), "holm", 0.05)
    assert p_adj[0] == pytest.approx(0.01) and np.isnan(p_adj[1])


def _hand_holm(p):
    order = np.argsort(p)
    m = len(p)
    adjusted = np.maximum.accumulate(np.minimum(1, (m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def test_table_matches_hand_nb_and_holm(small_result):
    table, diffs = small_result.table, small_result.differences
    J, ratio = 9, 1 / 2  # 3 x 3-fold
    assert (table["test"] == "nb_ttest_3x3").all()
    for (metric, baseline), rows in table.groupby(["metric", "baseline"]):
        d = diffs[(diffs.metric == metric) & (diffs.baseline == baseline)]
        t_hand, p_hand = [], []
        for task in rows["task"]:
            dt = d.loc[d.task == task, "diff"].to_numpy()
            t_hand.append(dt.mean() / np.sqrt((1 / J + ratio) * dt.var(ddof=1)))
            p_hand.append(2 * stats.t.sf(abs(t_hand[-1]), J - 1))
        np.testing.assert_allclose(rows["statistic"], t_hand, rtol=1e-10)
        np.testing.assert_allclose(rows["p_value"], p_hand, rtol=1e-10)
        np.testing.assert_allclose(rows["p_adj"], _hand_holm(np.array(p_hand)),
                                   rtol=1e-10)
    # direction: positive diff = multitask better; mse is a loss
    mse = table[table.metric == "mse"]
    np.testing.assert_allclose(mse["diff"], mse["score_baseline"] - mse["score_mtl"],
                               rtol=1e-10)


def test_ratio_comes_from_fold_sizes_for_random_splits():
    X, y, _ = make_multitask_regression(n_tasks=3, n_features=3, n_samples=40,
                                        random_state=2)
    cv = ShuffleSplit(n_splits=8, test_size=0.25, random_state=0)
    result = compare_to_baselines(IndependentRegressor(task_column=-1), X, y,
                                  baselines={"pooled": PooledRegressor(task_column=-1)},
                                  cv=cv, metrics="mse")
    splits = list(cv.split(X))
    task = X[:, -1]
    for row in result.table.itertuples():
        ratio = np.mean([np.sum(task[te] == row.task) / np.sum(task[tr] == row.task)
                         for tr, te in splits])
        d = result.differences.query("task == @row.task")["diff"].to_numpy()
        se = np.sqrt((1 / 8 + ratio) * d.var(ddof=1))
        assert row.statistic == pytest.approx(d.mean() / se)
        assert row.test == "nb_ttest_J8"


def test_bootstrap_is_stretched_to_the_nb_variance():
    rng = np.random.default_rng(3)
    d = rng.normal(0.2, 1.0, 100)
    ratio = 1 / 9
    nb = nb_ttest(d, ratio, 0.95)
    boot = bootstrap_test(d, ratio, 0.95, np.random.default_rng(0))
    width_nb, width_boot = (nb["conf_high"] - nb["conf_low"],
                            boot["conf_high"] - boot["conf_low"])
    assert width_boot == pytest.approx(width_nb, rel=0.1)
    assert boot["p_value"] == pytest.approx(nb["p_value"], abs=0.05)
    assert np.isnan(boot["df"])


def test_dersimonian_laird_is_truncated_at_zero():
    # homogeneous effects: Q < df, so tau2 = 0 and the RE estimate is the FE one
    effects, variances = np.array([0.1, 0.12, 0.11, 0.09]), np.array([1, 1, 2, 1e0])
    out = across_tasks(effects, variances / 100, 0.95)
    assert out["tau2"] == 0 and out["i2"] == 0
    w = 1 / variances
    assert out["re_diff"] == pytest.approx(np.sum(w * effects) / np.sum(w))
    out = across_tasks(np.array([0.1, 0.5, -0.3, 0.9]), np.full(4, 0.01), 0.95)
    assert out["tau2"] > 0 and 0 < out["i2"] < 1
    assert out["wilcoxon_p"] == pytest.approx(stats.wilcoxon([0.1, 0.5, -0.3, 0.9])
                                              .pvalue)
    assert out["sign_test_p"] == pytest.approx(stats.binomtest(3, 4).pvalue)


# ------------------------------------------------------------- calibration


def _check_null(p_values, family_rejects, n_families, *, max_ks_distance=None):
    level = 0.05
    se_rate = np.sqrt(level * (1 - level) / p_values.size)
    se_fwer = np.sqrt(level * (1 - level) / n_families)
    if max_ks_distance is None:
        assert stats.kstest(p_values, "uniform").pvalue > 0.01
    else:
        assert stats.kstest(p_values, "uniform").statistic < max_ks_distance
    # valid: p-values not stochastically smaller than uniform
    assert stats.kstest(p_values, "uniform", alternative="greater").pvalue > 0.01
    assert np.mean(p_values < level) <= level + 2 * se_rate
    assert np.mean(family_rejects) <= level + 2 * se_fwer


def test_null_pvalues_are_uniform_and_holm_controls_fwer():
    # measured (seed 0, 200 p-values): KS p = 0.32, 2.0% of p < 0.05, FWER 0/40
    p_values, family_rejects = _null_pvalues(40)
    _check_null(p_values, family_rejects, 40)


@pytest.mark.slow
@pytest.mark.parametrize("test", ["nb", "bootstrap"])
def test_null_calibration_large(test):
    """1500 p-values: close to uniform, valid, Holm FWER controlled.

    At this size the two-sided KS test does detect the NB correction's mild
    conservativeness here (measured: NB D = 0.050, p = 0.001; stretched
    bootstrap D = 0.042, p = 0.010; 2.7% and 3.2% of p < 0.05), so the
    distance to uniform is bounded instead, and validity is tested one-sided.
    """
    p_values, family_rejects = _null_pvalues(300, test=test, seed=1)
    _check_null(p_values, family_rejects, 300, max_ks_distance=0.08)


# ------------------------------------------------------------- power


def _power(seeds, n_jobs=None):
    helped, hurt = [], []
    for seed in seeds:
        X, y, _ = make_multitask_regression(n_tasks=10, n_features=20, n_samples=25,
                                            rank=2, layout="long", as_frame=True,
                                            random_state=seed)
        cv = RepeatedTaskStratifiedKFold(n_splits=10, n_repeats=10,
                                         task_column="task", random_state=seed)
        # alphas near each model's CV optimum on this design (fair baseline)
        result = compare_to_baselines(
            TraceNormRegressor(0.3, task_column="task"), X, y,
            baselines={"independent": IndependentRegressor(0.1, task_column="task")},
            cv=cv, metrics="mse", random_state=seed, n_jobs=n_jobs)
        helped.append(np.mean(result.table["verdict"] == "helped"))
        hurt.append(np.mean(result.table["verdict"] == "hurt"))
        assert result.pooled["wilcoxon_p"].iloc[0] < 0.01
    return np.mean(helped), np.mean(hurt)


def test_power_trace_norm_beats_independent_on_low_rank_data():
    # measured: 8/10 tasks helped on seed 0; over seeds 0-4 the fraction is
    # 0.8, 0.4, 0.3, 0.2, 0.5 (mean 0.44), never a task hurt; under the null
    # above at most ~2.5% of tasks get a verdict
    helped, hurt = _power([0], n_jobs=2)
    assert helped >= 0.2
    assert hurt == 0


@pytest.mark.slow
def test_power_large():
    helped, hurt = _power(range(5))
    assert helped >= 0.3
    assert hurt == 0


# ------------------------------------------------------------- report


def test_summary_text_and_html(small_result):
    text = str(small_result.summary())
    for task in ["task_00", "task_01", "task_02", "task_03"]:
        assert task in text
    assert "Across tasks" in text and "Nadeau-Bengio" in text
    assert "positive means the multitask model is better" in text
    html = small_result._repr_html_()
    assert "<table" in html
    assert isinstance(small_result, ComparisonResult)
    assert list(small_result.to_frame().columns) == [
        "task", "n_train", "n_test", "metric", "higher_is_better", "baseline",
        "score_mtl", "score_baseline", "diff", "conf_low", "conf_high", "test",
        "statistic", "df", "p_value", "p_adj", "adj_method", "reject", "verdict",
        "eb_mean", "eb_low", "eb_high", "lfsr", "svalue", "eb_verdict",
        "n_resamples"]
    assert len(small_result.table) == 4 * 2 * 2
    assert (small_result.pooled["task"] == "__pooled__").all()
    assert len(small_result.differences) == 9 * 4 * 2 * 2


def test_power_caveat_when_nothing_survives(small_result):
    primary = small_result.table[small_result.table.metric == "mse"]
    has_caveat = any("Power caveat" in note for note in small_result.notes)
    assert has_caveat == (not primary["reject"].any())


def test_plot_and_html_report(small_result, tmp_path):
    from matplotlib.axes import Axes

    ax = small_result.plot(metric="r2", baseline="pooled")
    assert isinstance(ax, Axes)
    assert len(ax.get_yticklabels()) == 5  # four tasks and the pooled diamond
    import matplotlib.pyplot as plt

    plt.close(ax.figure)
    with pytest.raises(ValueError, match="No rows"):
        small_result.plot(metric="auc")
    path = small_result.to_html(tmp_path / "c.html")
    content = path.read_text()
    assert '<img alt="' in content and 'src="data:image/png;base64,' in content
    assert content.count("<figure>") == 2  # one forest plot per baseline


# ------------------------------------------------------------- other paths


def test_classification_metrics_are_finite():
    X, y, _ = make_multitask_classification(n_tasks=3, n_features=4, n_samples=60,
                                            layout="long", as_frame=True,
                                            random_state=0)
    cv = RepeatedTaskStratifiedKFold(n_splits=3, n_repeats=2, task_column="task",
                                     random_state=0)
    result = compare_to_baselines(TraceNormClassifier(0.01, task_column="task"),
                                  X, y, cv=cv, metrics=["auc", "log_loss"])
    table = result.table
    assert set(table.metric) == {"auc", "log_loss"}
    assert table.higher_is_better.tolist() == [m == "auc" for m in table.metric]
    numeric = table[["score_mtl", "score_baseline", "diff", "conf_low", "conf_high",
                     "p_value", "p_adj"]]
    assert np.isfinite(numeric.to_numpy(dtype=float)).all()
    assert table.loc[table.metric == "auc", "score_mtl"].between(0, 1).all()
    assert str(result.summary()).count("auc:") == 2


def test_wide_layout_scores_observed_rows():
    X, Y, _ = make_multitask_regression(n_tasks=3, n_features=4, n_samples=60,
                                        layout="wide", missing_fraction=0.2,
                                        as_frame=True, random_state=0)
    result = compare_to_baselines(TraceNormRegressor(0.1), X, Y, cv=5,
                                  metrics="mse", random_state=0)
    table = result.table
    assert list(table.task.unique()) == list(Y.columns)
    observed = Y.notna().sum().to_numpy()
    first = table[table.baseline == "independent"]
    np.testing.assert_allclose(first.n_test * 5, observed)
    assert (table.test == "nb_ttest_1x5").all()


def test_same_folds_and_results_with_n_jobs():
    X, y, _ = make_multitask_regression(n_tasks=3, n_features=3, n_samples=20,
                                        random_state=4)
    kwargs = dict(cv=3, metrics="mse", random_state=0)
    one = compare_to_baselines(TraceNormRegressor(0.1, task_column=-1), X, y, **kwargs)
    two = compare_to_baselines(TraceNormRegressor(0.1, task_column=-1), X, y,
                               n_jobs=2, **kwargs)
    pd.testing.assert_frame_equal(one.table, two.table)


def test_meta_estimator_gets_untuned_baselines_with_a_warning():
    X, y, _ = make_multitask_regression(n_tasks=3, n_features=3, n_samples=30,
                                        random_state=5)
    inner = RepeatedTaskStratifiedKFold(n_splits=2, n_repeats=1, task_column=-1,
                                        random_state=0)
    search = GridSearchCV(TraceNormRegressor(task_column=-1),
                          {"alpha": [0.1, 1.0]}, cv=inner)
    with pytest.warns(UserWarning, match="untuned"):
        result = compare_to_baselines(search, X, y, cv=3, metrics="mse")
    assert result.estimator_name == "GridSearchCV"


def test_cv_leaving_a_task_out_raises():
    X, y, _ = make_multitask_regression(n_tasks=3, n_features=3, n_samples=20,
                                        random_state=0)
    order = np.argsort(X[:, -1], kind="stable")
    with pytest.raises(ValueError, match="leaves task"):
        compare_to_baselines(TraceNormRegressor(task_column=-1), X[order], y[order],
                             cv=KFold(3))


def test_unknown_metric_and_options_raise():
    X, y, _ = make_multitask_regression(n_tasks=2, n_features=3, random_state=0)
    estimator = TraceNormRegressor(task_column=-1)
    with pytest.raises(ValueError, match=r"valid metrics are \['mse', 'r2'\]"):
        compare_to_baselines(estimator, X, y, metrics=["mse", "auc"])
    with pytest.raises(ValueError, match="adjust"):
        compare_to_baselines(estimator, X, y, adjust="hs")
    with pytest.raises(ValueError, match="test must be"):
        compare_to_baselines(estimator, X, y, test="naive")
