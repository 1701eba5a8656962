"""Missing labels (NaN in a wide Y) work wherever they work in ``fit``:
``score``, cross-validation scorers, ``GridSearchCV``, the splitter and the
reports all use the observed entries only."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

import mtstats
from mtstats.metrics import observed_scorer
from mtstats.model_selection import TaskStratifiedKFold
from mtstats.report import calibration_report, compare_to_baselines

ALPHAS = [0.3, 0.1, 0.03, 0.01, 0.003]


@pytest.fixture(scope="module")
def masked():
    """Wide data with a quarter of the labels unobserved."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((90, 5))
    W = rng.standard_normal((5, 1)) @ rng.standard_normal((1, 4))
    Y = X @ W + rng.standard_normal((90, 4))
    Y[rng.random(Y.shape) < 0.25] = np.nan
    return X, Y


def _long(X, Y):
    rows, tasks = np.nonzero(~np.isnan(Y))
    return np.column_stack([X[rows], tasks]), Y[rows, tasks], rows


def test_score_uses_observed_entries(masked):
    """Regression test: score raised "Input contains NaN"."""
    X, Y = masked
    estimator = mtstats.TraceNormRegressor(0.05).fit(X, Y)
    prediction = estimator.predict(X)
    expected = np.mean([r2_score(Y[~np.isnan(Y[:, t]), t],
                                 prediction[~np.isnan(Y[:, t]), t])
                        for t in range(Y.shape[1])])
    assert estimator.score(X, Y) == pytest.approx(expected, rel=1e-12)
    full = np.where(np.isnan(Y), prediction + 1.0, Y)  # fully observed: sklearn's
    assert estimator.score(X, full) == pytest.approx(
        r2_score(full, prediction), rel=1e-12)


def test_classifier_score_uses_observed_entries(masked):
    X, Y = masked
    labels = np.where(Y > 0, 1.0, 0.0)
    labels[np.isnan(Y)] = np.nan
    estimator = mtstats.GroupLassoClassifier(0.01).fit(X, labels)
    prediction = estimator.predict(X)
    expected = np.mean([accuracy_score(labels[~np.isnan(Y[:, t]), t],
                                       prediction[~np.isnan(Y[:, t]), t])
                        for t in range(Y.shape[1])])
    assert estimator.score(X, labels) == pytest.approx(expected, rel=1e-12)


def test_cross_val_score_is_finite(masked):
    """Regression test: cross_val_score returned only NaN."""
    X, Y = masked
    scores = cross_val_score(mtstats.GroupLassoRegressor(0.05), X, Y,
                             cv=TaskStratifiedKFold(3, random_state=0))
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("scoring", ["r2", "neg_mean_squared_error",
                                     "neg_mean_absolute_error"])
def test_observed_scorer_averages_tasks_like_scikit_learn(masked, scoring):
    X, Y = masked
    estimator = mtstats.GroupLassoRegressor(0.05).fit(X, Y)
    prediction = estimator.predict(X)
    metric = {"r2": r2_score, "neg_mean_squared_error": mean_squared_error,
              "neg_mean_absolute_error": lambda a, b: np.mean(np.abs(a - b))}[scoring]
    sign = 1 if scoring == "r2" else -1
    seen = ~np.isnan(Y)
    per_task = [sign * metric(Y[seen[:, t], t], prediction[seen[:, t], t])
                for t in range(Y.shape[1])]
    assert observed_scorer(scoring)(estimator, X, Y) == pytest.approx(
        np.mean(per_task), rel=1e-12)
    observed = ~np.isnan(Y)
    pooled = sign * metric(Y[observed], prediction[observed])
    assert observed_scorer(scoring, average="pooled")(estimator, X, Y) == \
        pytest.approx(pooled, rel=1e-12)


def test_grid_search_on_masked_data_picks_the_long_layout_alpha(masked):
    """Regression test: GridSearchCV on NaN-masked data silently picked the
    first alpha. With the same row splits and a pooled MSE, the wide fit on
    the observed entries is the long fit, so the choice and the scores must
    agree."""
    X, Y = masked
    row_folds = list(KFold(4, shuffle=True, random_state=0).split(X))
    X_long, y_long, rows = _long(X, Y)
    long_folds = [(np.flatnonzero(np.isin(rows, train)),
                   np.flatnonzero(np.isin(rows, test))) for train, test in row_folds]
    common = dict(param_grid={"alpha": ALPHAS}, error_score="raise")
    wide = GridSearchCV(mtstats.TraceNormRegressor(tol=1e-10), cv=row_folds,
                        scoring=observed_scorer("neg_mean_squared_error",
                                                average="pooled"), **common)
    long = GridSearchCV(mtstats.TraceNormRegressor(tol=1e-10, task_column=-1),
                        cv=long_folds, scoring="neg_mean_squared_error", **common)
    wide.fit(X, Y)
    long.fit(X_long, y_long)
    assert wide.best_params_ == long.best_params_
    assert wide.best_params_["alpha"] != ALPHAS[0]
    np.testing.assert_allclose(wide.cv_results_["mean_test_score"],
                               long.cv_results_["mean_test_score"], rtol=1e-6)


def test_grid_search_default_score_on_masked_data_is_finite(masked):
    X, Y = masked
    search = GridSearchCV(mtstats.GroupLassoRegressor(), {"alpha": ALPHAS},
                          cv=TaskStratifiedKFold(3, random_state=0),
                          error_score="raise").fit(X, Y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_task_stratified_kfold_spreads_every_task_in_the_wide_layout():
    rng = np.random.default_rng(3)
    Y = rng.standard_normal((60, 5))
    Y[rng.random(Y.shape) < 0.6] = np.nan
    Y[:, 4] = np.nan
    Y[[1, 8, 20, 33, 41, 55], 4] = 1.0  # a rare task: 6 labels, 3 folds
    observed = ~np.isnan(Y)
    for train, test in TaskStratifiedKFold(3, random_state=0).split(Y, Y):
        assert np.all(observed[train].sum(axis=0) >= 2)
        assert np.all(observed[test].sum(axis=0) >= 1)
    with pytest.raises(ValueError, match="needs y"):
        next(TaskStratifiedKFold(3).split(Y))


def test_reports_use_observed_entries(masked):
    X, Y = masked
    estimator = mtstats.GroupLassoRegressor(0.05)
    comparison = compare_to_baselines(estimator, X, Y, cv=4, random_state=0)
    counts = (~np.isnan(Y)).sum(axis=0)
    table = comparison.to_frame().groupby("task")
    np.testing.assert_allclose(table["n_train"].first() + table["n_test"].first(),
                               counts)
    wide = calibration_report(estimator, X, Y, random_state=0).to_frame()
    X_long, y_long, _ = _long(X, Y)
    frame = pd.DataFrame(X_long[:, :-1], columns=[f"x{j}" for j in range(5)])
    frame["task"] = X_long[:, -1].astype(int)
    long = calibration_report(estimator.set_params(task_column="task"), frame, y_long,
                              random_state=0).to_frame()
    assert list(wide["n"]) == list(long["n"])
    assert sorted(set(wide["n"])) == sorted(set(counts))
