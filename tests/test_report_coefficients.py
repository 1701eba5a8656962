"""Coefficient tests after selection: calibration, coverage, power, cross-checks.

The simulations draw data with a known truth (``make_multitask_regression``)
and check the properties the methods claim: aggregated multi-split p-values
of null coefficients are conservative, intervals cover at least at the
nominal rate, the subspace contrasts cover their projection estimand at the
nominal rate, and per-split standard errors are statsmodels' own. Fast
versions run by default; ``pytest -m slow`` runs larger ones.
"""

import joblib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from mtstats import (
    ClusteredRegressor,
    GroupLassoClassifier,
    GroupLassoRegressor,
    IndependentRegressor,
    SharedPrivateRegressor,
    TraceNormRegressor,
)
from mtstats.datasets import make_multitask_classification, make_multitask_regression
from mtstats.report._aggregation import aggregate_confint, aggregate_pvalues
from mtstats.report.coefficients import (
    COLUMNS,
    EB_COLUMNS,
    CoefficientResult,
    coefficient_tests,
    refit_on_split,
)

LEVEL = 0.05


def _group_sparse(seed, n_tasks=5, n_features=10):
    return make_multitask_regression(
        n_tasks=n_tasks, n_features=n_features, n_samples=(60, 100), n_informative=3,
        structure="group_sparse", layout="long", as_frame=True, random_state=seed)


def _rows(result):
    return result.table[result.table["task"] != "__all__"]


def _multisplit_simulation(n_datasets, n_splits):
    null_p, split_null_p, group_null_p, covered, detected, covered_1 = (
        [], [], [], [], [], [])
    for rep in range(n_datasets):
        X, y, truth = _group_sparse(100 + rep)
        estimator = GroupLassoRegressor(alpha=0.1, task_column="task")
        result = coefficient_tests(estimator, X, y, n_splits=n_splits,
                                   random_state=rep)
        single = _rows(coefficient_tests(estimator, X, y, n_splits=1,
                                         random_state=rep))
        rows = _rows(result)
        w = truth.coef.ravel()
        null = w == 0
        null_p.append(rows["p_value"].to_numpy()[null])
        first = result.split_pvalues[0].ravel()[null]
        split_null_p.append(first[first < 1])  # selected nulls: exact given A
        inside = (rows["conf_low"] <= w) & (w <= rows["conf_high"])
        covered.append(inside.to_numpy()[~null])
        finite = np.isfinite(single["conf_low"]).to_numpy()  # selected in split 1
        inside = (single["conf_low"] <= w) & (w <= single["conf_high"])
        covered_1.append(inside.to_numpy()[~null & finite])
        detected.append((rows["p_value"] < LEVEL).to_numpy()[np.abs(w) > 0.5])
        group = result.table[result.table["task"] == "__all__"]
        group_null_p.append(np.delete(group["p_value"].to_numpy(), truth.support))
    return [np.concatenate(a) for a in
            (null_p, split_null_p, group_null_p, covered, detected, covered_1)]


def _check_multisplit(n_datasets, n_splits):
    null_p, split_null_p, group_null_p, covered, detected, covered_1 = (
        _multisplit_simulation(n_datasets, n_splits))
    n = null_p.size
    margin = 3 * np.sqrt(LEVEL * (1 - LEVEL) / n)
    rejection = np.mean(null_p < LEVEL)
    # conservative by design: no excess of small p-values
    ks_excess = stats.kstest(null_p, "uniform", alternative="greater").pvalue
    ks_split = stats.kstest(split_null_p, "uniform").pvalue
    coverage = covered.mean()
    power = detected.mean()
    print(f"\nmultisplit B={n_splits}, {n_datasets} datasets: null rejection at 5% "
          f"{rejection:.4f} (n={n}), KS excess-small p={ks_excess:.3g}; single-split "
          f"null p (selected) KS uniform p={ks_split:.3g} (n={split_null_p.size}); "
          f"group null rejection {np.mean(group_null_p < LEVEL):.3f} "
          f"(n={group_null_p.size}); coverage of non-null {coverage:.3f} "
          f"(n={covered.size}), of one split {covered_1.mean():.3f} "
          f"(n={covered_1.size}); power |w|>0.5 {power:.3f} (n={detected.size})")
    assert rejection <= LEVEL + margin
    assert ks_excess > 0.01
    assert ks_split > 0.001  # per-split p-values of selected nulls: uniform
    assert np.mean(group_null_p < LEVEL) <= LEVEL + 3 * np.sqrt(
        LEVEL * (1 - LEVEL) / group_null_p.size)
    assert coverage >= 0.95 - 3 * np.sqrt(0.05 * 0.95 / covered.size)
    # one split (Wasserman & Roeder): exact t intervals given the selection
    assert abs(covered_1.mean() - 0.95) <= 3 * np.sqrt(0.05 * 0.95 / covered_1.size)
    assert power >= 0.8


def test_multisplit_null_calibration_coverage_and_power():
    _check_multisplit(n_datasets=5, n_splits=10)


@pytest.mark.slow
def test_multisplit_null_calibration_coverage_and_power_long():
    _check_multisplit(n_datasets=40, n_splits=50)


def _subspace_coverage(n_datasets):
    covered = []
    for rep in range(n_datasets):
        X, y, truth = make_multitask_regression(
            n_tasks=6, n_features=8, n_samples=(50, 80), rank=2,
            structure="low_rank", as_frame=True, random_state=200 + rep)
        estimator = TraceNormRegressor(alpha=0.2, task_column="task")
        split = refit_on_split(estimator, X, y, random_state=rep)
        result = coefficient_tests(estimator, X, y, n_splits=1, random_state=rep)
        U, features = split["structure"], X.drop(columns="task").to_numpy()
        task_of_row = split["task"]
        for t in range(6):
            rows = ~split["in_a"] & (task_of_row == t)
            mean = truth.intercept[t] + features[rows] @ truth.coef[t]
            Z = np.column_stack([np.ones(rows.sum()), features[rows] @ U])
            target = U @ np.linalg.lstsq(Z, mean, rcond=None)[0][1:]  # estimand
            table = _rows(result).iloc[8 * t:8 * (t + 1)]
            covered.append((table["conf_low"] <= target)
                           & (target <= table["conf_high"]))
    return np.concatenate(covered)


@pytest.mark.parametrize("n_datasets", [12, pytest.param(80, marks=pytest.mark.slow)])
def test_subspace_split_covers_projection_estimand(n_datasets):
    covered = _subspace_coverage(n_datasets)
    # rows of one task share a fit: widen the binomial error accordingly
    margin = 3 * np.sqrt(0.05 * 0.95 / (covered.size / 8))
    print(f"\nsubspace_split single-split coverage of the projection estimand "
          f"{covered.mean():.3f} (n={covered.size})")
    assert abs(covered.mean() - 0.95) <= margin


def test_single_split_matches_statsmodels():
    X, y, _ = _group_sparse(3)
    estimator = GroupLassoRegressor(alpha=0.1, task_column="task")
    split = refit_on_split(estimator, X, y, random_state=7)
    result = coefficient_tests(estimator, X, y, n_splits=1, random_state=7)
    longer = coefficient_tests(estimator, X, y, n_splits=3, random_state=7)
    np.testing.assert_array_equal(longer.split_pvalues[0], result.split_pvalues[0])
    rows, features = _rows(result), X.drop(columns="task").to_numpy()
    selected = split["selected"]
    assert np.all(selected == selected[0])  # L21: one row support for all tasks
    for t, task in enumerate(sorted(X["task"].unique())):
        half_b = ~split["in_a"] & (X["task"].to_numpy() == task)
        fit = sm.OLS(y.to_numpy()[half_b],
                     sm.add_constant(features[half_b][:, selected[t]])).fit()
        mine = rows[rows["task"] == task][selected[t]]
        np.testing.assert_allclose(mine["std_error"], fit.bse[1:], rtol=1e-10)
        np.testing.assert_allclose(mine["estimate_inference"], fit.params[1:],
                                   rtol=1e-10)
        np.testing.assert_allclose(mine["p_value"], fit.pvalues[1:], rtol=1e-8)
        np.testing.assert_allclose(mine[["conf_low", "conf_high"]],
                                   fit.conf_int()[1:], rtol=1e-8)
        np.testing.assert_allclose(split["results"][t].bse, fit.bse, rtol=1e-12)
        assert (rows[rows["task"] == task][~selected[t]]["p_value"] == 1).all()


def test_task_refit_is_per_task_ols_on_all_data():
    X, y, _ = _group_sparse(4, n_tasks=3, n_features=4)
    result = coefficient_tests(IndependentRegressor(task_column="task"), X, y)
    assert result.method == "task_refit"
    rows, features = _rows(result), X.drop(columns="task").to_numpy()
    for task in sorted(X["task"].unique()):
        mask = (X["task"] == task).to_numpy()
        fit = sm.OLS(y.to_numpy()[mask], sm.add_constant(features[mask])).fit()
        mine = rows[rows["task"] == task]
        np.testing.assert_allclose(mine["std_error"], fit.bse[1:], rtol=1e-10)
        np.testing.assert_allclose(mine["df"], fit.df_resid)
    assert (rows["n_splits"] == 0).all()


def test_cluster_split_pools_tasks_with_fixed_effects():
    X, y, truth = make_multitask_regression(
        n_tasks=4, n_features=3, n_samples=(60, 80), structure="clustered",
        n_clusters=2, as_frame=True, random_state=5)
    estimator = ClusteredRegressor(n_clusters=2, alpha=0.1, ridge_ratio=0.5,
                                   task_column="task", random_state=0)
    split = refit_on_split(estimator, X, y, random_state=1)
    result = coefficient_tests(estimator, X, y, n_splits=1, random_state=1)
    assert result.method == "cluster_split"
    assert set(result.table["estimand"]) == {"cluster_coef"}
    rows, features = _rows(result), X.drop(columns="task").to_numpy()
    labels, tasks = split["structure"], np.array(sorted(X["task"].unique()))
    for cluster in np.unique(labels):
        members = tasks[labels == cluster]
        half_b = ~split["in_a"] & X["task"].isin(members).to_numpy()
        dummies = pd.get_dummies(X["task"][half_b]).to_numpy(float)
        fit = sm.OLS(y.to_numpy()[half_b],
                     np.column_stack([dummies, features[half_b]])).fit()
        for task in members:
            mine = rows[rows["task"] == task]
            np.testing.assert_allclose(mine["std_error"], fit.bse[-3:], rtol=1e-10)
            np.testing.assert_allclose(mine["estimate_inference"], fit.params[-3:],
                                       rtol=1e-10)


def test_aggregation_formula_and_interval_inversion():
    rng = np.random.default_rng(0)
    P = rng.uniform(size=(20, 3)) ** 2
    gammas = np.arange(1, 20) / 20  # ceil(0.05 * 20) / 20, ..., 19 / 20
    expected = [min(1, (1 - np.log(0.05)) * min(np.quantile(P[:, j], g) / g
                                                 for g in gammas)) for j in range(3)]
    np.testing.assert_allclose(aggregate_pvalues(P), expected)
    # inversion: the aggregated p-value is above the level inside the bounds
    est = rng.normal(1.0, 0.2, size=(20, 2))
    se, df = np.full((20, 2), 0.3), np.full((20, 2), 30.0)
    tested = np.ones((20, 2), bool)
    tested[1:, 1] = False  # tested in 1 of 20 splits (< gamma_min): unbounded
    low, high = aggregate_confint(est, se, df, tested, 0.95)
    assert np.isinf(low[1]) and np.isinf(high[1])

    def p_at(beta):
        t = np.abs(est[:, 0] - beta) / se[:, 0]
        return aggregate_pvalues(2 * stats.t.sf(t, df[:, 0])[:, None])[0]

    assert p_at(low[0] + 1e-6) > 0.05 >= p_at(low[0] - 1e-3)
    assert p_at(high[0] - 1e-6) > 0.05 >= p_at(high[0] + 1e-3)
    one = aggregate_confint(est[:1], se[:1], df[:1], tested[:1], 0.9)
    half = stats.t.ppf(0.95, 30) * 0.3
    np.testing.assert_allclose(one, [est[0] - half, est[0] + half])


def test_classification_path_gives_finite_p_values():
    X, y, _ = make_multitask_classification(
        n_tasks=3, n_features=4, n_samples=(80, 120), structure="group_sparse",
        n_informative=2, as_frame=True, random_state=0)
    result = coefficient_tests(GroupLassoClassifier(alpha=0.02, task_column="task"),
                               X, y, n_splits=5, random_state=0)
    p = result.table["p_value"].to_numpy()
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    assert result.table["testable"].all()
    assert "GLM Binomial" in " ".join(result.notes)


def test_wide_layout_uses_observed_rows():
    X, Y, truth = make_multitask_regression(
        n_tasks=3, n_features=4, n_samples=120, layout="wide", missing_fraction=0.2,
        structure="group_sparse", n_informative=2, random_state=0)
    estimator = GroupLassoRegressor(alpha=0.05)
    result = coefficient_tests(estimator, X, Y, n_splits=5, random_state=0)
    rows = _rows(result)
    assert len(rows) == 12 and rows["testable"].all()
    np.testing.assert_allclose(rows["estimate"], estimator.fit(X, Y).coef_.ravel())
    strong = np.abs(truth.coef.ravel()) > 0.5
    assert (rows["p_value"].to_numpy()[strong] < LEVEL).all()


def test_defaults_and_other_estimators_run():
    X, y, _ = _group_sparse(6, n_tasks=3, n_features=4)
    expected = {TraceNormRegressor(alpha=0.1, task_column="task"): "subspace_split",
                SharedPrivateRegressor(task_column="task"): "subspace_split",
                SharedPrivateRegressor(kind="mean", task_column="task"): "task_refit",
                IndependentRegressor(penalty="l1", alpha=0.05,
                                     task_column="task"): "multisplit"}
    for estimator, method in expected.items():
        result = coefficient_tests(estimator, X, y, n_splits=3, random_state=0)
        assert result.method == method
        table = result.table
        assert (table["p_fwer"].fillna(1) >= table["p_value"] - 1e-12).all()
        assert np.isfinite(result.table["p_value"]).all()


def test_parallel_splits_equal_sequential():
    X, y, _ = _group_sparse(8, n_tasks=3, n_features=4)
    estimator = GroupLassoRegressor(alpha=0.1, task_column="task")
    one = coefficient_tests(estimator, X, y, n_splits=4, random_state=0)
    with joblib.parallel_config(backend="threading"):  # no process start-up cost
        two = coefficient_tests(estimator, X, y, n_splits=4, random_state=0,
                                n_jobs=2)
    pd.testing.assert_frame_equal(one.table, two.table)


def test_report_outputs(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y, _ = make_multitask_regression(n_tasks=4, n_features=5, layout="long",
                                        as_frame=True, structure="group_sparse",
                                        random_state=0)
    result = coefficient_tests(GroupLassoRegressor(alpha=0.05, task_column="task"),
                               X, y, n_splits=5, random_state=0)
    assert isinstance(result, CoefficientResult)
    assert list(result.to_frame().columns) == COLUMNS
    assert len(result.to_frame()) == 4 * 5 + 5
    text = str(result.summary())
    assert "Task task_00" in text and "Multiplicity" in text
    assert "Estimand" in text and "All tasks" in text
    assert "<table" in result._repr_html_()
    rows = _rows(result)  # intervals and p-values come from one aggregation
    excludes_zero = (rows["conf_low"] > 0) | (rows["conf_high"] < 0)
    assert excludes_zero.any()
    assert (rows["p_value"][excludes_zero] <= 0.05 + 1e-9).all()
    ax = result.plot()
    assert ax.images and ax.images[0].norm.vcenter == 0
    plt.close(ax.figure)
    path = result.to_html(tmp_path / "coefficients.html")
    assert "data:image/png;base64" in path.read_text(encoding="utf-8")
    with pytest.raises(AttributeError):
        result.method = "other"  # frozen


def test_bad_inputs():
    X, y, _ = _group_sparse(9, n_tasks=3, n_features=4)
    estimator = GroupLassoRegressor(alpha=0.1, task_column="task")
    with pytest.raises(ValueError, match="multisplit.*subspace_split"):
        coefficient_tests(estimator, X, y, method="bootstrap")
    with pytest.raises(ValueError, match="n_splits"):
        coefficient_tests(estimator, X, y, n_splits=0)
    with pytest.raises(ValueError, match="fraction"):
        coefficient_tests(estimator, X, y, fraction=1.0)
    with pytest.raises(ValueError, match="Clustered"):
        coefficient_tests(estimator, X, y, method="cluster_split")
    # a one-row task is fitted (issue 9) but cannot be tested
    one_row = pd.concat([X, X.head(1).assign(task="tiny")])
    rows = _rows(coefficient_tests(estimator, one_row, pd.concat([y, y.head(1)]),
                                   n_splits=3, random_state=0))
    tiny = rows[rows["task"] == "tiny"]
    assert len(tiny) and not tiny["testable"].any() and tiny["p_value"].isna().all()


@pytest.mark.parametrize("n_rows", [2, 5, 9])
def test_task_too_small_for_half_b_is_not_testable(n_rows):
    # 2 rows: all in half A; 5: 2 rows in half B (< 3); 9: 4 rows in half B,
    # fewer than the 5 parameters of the refit (intercept + 4 selected)
    X, y, _ = _group_sparse(10, n_tasks=3, n_features=4)
    small = (X["task"] == "task_02").to_numpy()
    keep = ~small | (np.cumsum(small) <= n_rows)
    result = coefficient_tests(GroupLassoRegressor(alpha=0.01, task_column="task"),
                               X[keep], y[keep], n_splits=3, random_state=0)
    rows = _rows(result)
    small_rows = rows[rows["task"] == "task_02"]
    assert not small_rows["testable"].any() and (small_rows["n_splits"] == 0).all()
    assert small_rows["p_value"].isna().all() and small_rows["p_adj"].isna().all()
    others = rows[rows["task"] != "task_02"]
    assert others["testable"].all() and np.isfinite(others["p_adj"]).all()
    assert others["selected"].all()  # so |S| = 4 in every split


def test_shrinkage_columns_in_summary_and_highlights():
    X, y, _ = _group_sparse(11, n_tasks=6, n_features=5)
    estimator = GroupLassoRegressor(alpha=0.1, task_column="task")
    plain = coefficient_tests(estimator, X, y, n_splits=3, random_state=0)
    assert plain.table[EB_COLUMNS].isna().all().all()  # off by default
    assert "lfsr" not in str(plain.summary())
    result = coefficient_tests(estimator, X, y, n_splits=3, random_state=0,
                               shrinkage=True)
    rows = _rows(result)
    called = (rows["eb_sign"] != 0).to_numpy()
    assert called.any() and (rows["lfsr"][called] <= 0.05).all()
    np.testing.assert_array_equal(result.significant()[:len(rows)],
                                  called | (rows["p_adj"] < 0.05).to_numpy())
    assert "lfsr" in str(result.summary()) and "svalue" in str(result.summary())
    tables, status = result.highlights()
    assert "lfsr" in status and {"eb_mean", "lfsr"} <= set(tables[0][1])
    assert len(tables[0][1]) == int(result.significant()[:len(rows)].sum())
    # the interval excludes 0 exactly when lfsr < (1 - level) / 2
    excludes = (rows["eb_low"] > 0) | (rows["eb_high"] < 0)
    np.testing.assert_array_equal(excludes, rows["lfsr"] < 0.025)
