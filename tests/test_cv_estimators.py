"""The *CV twins: scikit-learn's contract, agreement with MultiTaskLassoCV,
pipelines that scale around the task column, and GridSearchCV on structure."""

import numpy as np
import pandas as pd
import pytest
from _expected_checks import tolerance_limited_checks
from _representatives import parametrize_with_checks_by_default
from sklearn.base import clone
from sklearn.linear_model import MultiTaskElasticNetCV, MultiTaskLassoCV
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import mtstats
from mtstats import regularization_path
from mtstats.datasets import make_multitask_classification, make_multitask_regression
from mtstats.model_selection import TaskStratifiedKFold
from mtstats.preprocessing import TaskColumnTransformer

CV_NAMES = [name for name in mtstats.__all__ if name.endswith("CV")]


def _small(name):
    """Three alphas, three folds, fixed folds; one cluster for one task."""
    estimator = getattr(mtstats, name)(alphas=3, cv=3, random_state=0)
    return estimator.set_params(n_clusters=1) if "Clustered" in name else estimator


def _expected_failures(estimator):
    if "Clustered" in type(estimator).__name__:
        return {"check_methods_sample_order_invariance":
                "the check sets n_clusters=2 on a one-task problem; mtstats "
                "raises a ValueError rather than fit more clusters than tasks"}
    return tolerance_limited_checks(estimator)


#: Every twin is its base estimator (checked in test_estimators.py) plus the
#: one shared MultitaskCVMixin, so the default run checks one twin per kind
#: of search (alpha only, alpha with l1_ratio, ridge_ratio, shared_ratio, the
#: graph's smooth term) and the classification loss once (alpha only); the
#: slow run (``pytest -m slow``) checks all of them, and the expected
#: failures. All the checks of a kept twin take 4-20 s here; a decomposition
#: twin's take 40-100 s (a regressor) to 300 s (a classifier), as their two
#: parts trade off along flat directions and FISTA needs 5-10 times the
#: iterations, so none is checked by default (the default run fits them in
#: test_decomposed.py, test_sparse.py and test_sample_weight.py); the other
#: classifiers take 20-55 s, hence slow only.
REPRESENTATIVE = ["GroupLassoRegressorCV", "ClusteredRegressorCV",
                  "SharedPrivateRegressorCV", "IndependentRegressorCV",
                  "PooledClassifierCV", "GraphRegressorCV"]


@parametrize_with_checks_by_default([_small(name) for name in REPRESENTATIVE],
                                    expected_failed_checks=_expected_failures)
def test_sklearn_contract(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks([_small(name) for name in CV_NAMES
                          if name not in REPRESENTATIVE],
                         expected_failed_checks=_expected_failures)
def test_sklearn_contract_of_every_twin(estimator, check):
    check(estimator)


def test_representative_twins_exist():
    assert set(REPRESENTATIVE) <= set(CV_NAMES)


def test_every_estimator_has_a_cv_twin():
    bases = {name for name in mtstats.__all__ if name.endswith(("Regressor",
                                                                "Classifier"))}
    assert {name[:-2] for name in CV_NAMES} == bases


@pytest.fixture(scope="module")
def wide():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 12)) + rng.standard_normal(12)
    W = np.zeros((12, 4))
    W[:3] = rng.standard_normal((3, 4))
    return X, X @ W + rng.standard_normal((90, 4)) + 5.0


def test_group_lasso_cv_matches_multitask_lasso_cv(wide):
    """Same folds, same grid, MSE on held-out rows: same alpha_, same fit."""
    X, Y = wide
    splits = list(KFold(4, shuffle=True, random_state=0).split(X))
    alphas = np.geomspace(1.0, 1e-3, 15)
    ours = mtstats.GroupLassoRegressorCV(
        alphas=alphas, cv=splits, scoring="neg_mean_squared_error", tol=1e-10,
        max_iter=100000).fit(X, Y)
    theirs = MultiTaskLassoCV(alphas=alphas, cv=splits, tol=1e-12,
                              max_iter=100000).fit(X, Y)
    assert ours.alpha_ == theirs.alpha_
    np.testing.assert_allclose(ours.alphas_, theirs.alphas_)
    np.testing.assert_allclose(-ours.scores_path_, theirs.mse_path_, rtol=1e-6)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-6)


def test_group_lasso_cv_searches_l1_ratio_as_multitask_elastic_net_cv(wide):
    X, Y = wide
    splits = list(KFold(3, shuffle=True, random_state=1).split(X))
    alphas = np.geomspace(0.5, 5e-3, 6)
    ours = mtstats.GroupLassoRegressorCV(
        l1_ratio=[0.3, 0.9], alphas=alphas, cv=splits,
        scoring="neg_mean_squared_error", tol=1e-10, max_iter=100000).fit(X, Y)
    theirs = MultiTaskElasticNetCV(l1_ratio=[0.3, 0.9], alphas=alphas, cv=splits,
                                   tol=1e-12, max_iter=100000).fit(X, Y)
    assert (ours.alpha_, ours.l1_ratio_) == (theirs.alpha_, theirs.l1_ratio_)
    assert ours.scores_path_.shape == (2, 6, 3) and ours.alphas_.shape == (2, 6)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)


def test_refit_is_the_base_fit_at_alpha_():
    X, y, _ = make_multitask_regression(n_tasks=5, n_features=4, n_samples=(30, 50),
                                        structure="clustered", n_clusters=2,
                                        random_state=0)
    cv = mtstats.ClusteredRegressorCV(2, ridge_ratio=0.5, task_column=-1, alphas=4,
                                      random_state=0)
    cv.fit(X, y)
    base = mtstats.ClusteredRegressor(2, alpha=cv.alpha_, ridge_ratio=0.5,
                                      task_column=-1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(cv.coef_, base.coef_)
    np.testing.assert_array_equal(cv.task_clusters_, base.task_clusters_)
    assert cv.scores_path_.shape == (4, 5)  # default: TaskStratifiedKFold(5)
    assert cv.alpha_ == cv.alphas_[np.argmax(cv.scores_path_.mean(axis=1))]


def test_long_layout_classifier_with_string_labels_and_default_folds():
    X, y, _ = make_multitask_classification(n_tasks=4, n_features=3,
                                            n_samples=(30, 60), random_state=0)
    labels = np.where(y == 1, "pass", "fail")
    clf = mtstats.TraceNormClassifierCV(task_column=-1, alphas=4,
                                        scoring="roc_auc", random_state=0)
    clf.fit(X, labels)
    assert list(clf.classes_) == ["fail", "pass"]
    assert clf.predict_proba(X).shape == (len(y), 2)
    assert np.all(np.isfinite(clf.scores_path_)) and clf.scores_path_.max() > 0.7


def test_string_scoring_skips_unobserved_labels(wide):
    X, Y = wide
    Y = Y.copy()
    Y[::5, 1] = np.nan
    Y[1::7, 3] = np.nan
    est = mtstats.GroupLassoRegressorCV(alphas=5, cv=3, random_state=0,
                                        scoring="neg_mean_absolute_error")
    est.fit(X, Y)
    assert np.all(np.isfinite(est.scores_path_)) and np.all(est.scores_path_ < 0)
    default = clone(est).set_params(scoring=None).fit(X, Y)
    assert np.all(np.isfinite(default.scores_path_))


def test_parallel_folds_give_the_same_result(wide):
    X, Y = wide
    est = mtstats.TraceNormRegressorCV(alphas=5, cv=3, random_state=0)
    serial = clone(est).fit(X, Y)
    parallel = clone(est).set_params(n_jobs=2).fit(X, Y)
    np.testing.assert_allclose(parallel.scores_path_, serial.scores_path_)
    assert parallel.alpha_ == serial.alpha_


def test_ridge_type_twins_pick_an_interior_alpha(wide):
    """The quadratic default grid brackets the CV optimum on plain data."""
    X, Y = wide
    est = mtstats.IndependentRegressorCV(alphas=12, cv=3, random_state=0).fit(X, Y)
    best = int(np.argmax(est.scores_path_.mean(axis=1)))
    assert 0 < best < 11


@pytest.fixture(scope="module")
def schools():
    X, y, _ = make_multitask_regression(n_tasks=5, n_features=3, n_samples=(30, 50),
                                        as_frame=True, random_state=2)
    X = X.rename(columns={"task": "school"})
    X[X.columns[0]] *= 1000.0  # features on very different scales
    X[X.columns[1]] *= 0.01
    return X, y


def test_pipeline_with_the_task_column_scaler_tunes_on_scaled_data(schools):
    X, y = schools
    scaler = TaskColumnTransformer(StandardScaler(), task_column="school")
    pipe = make_pipeline(scaler, mtstats.TraceNormRegressorCV(
        task_column="school", alphas=5, cv=3, random_state=0)).fit(X, y)
    scaled = clone(scaler).fit_transform(X)
    assert list(scaled.columns) == list(X.columns)
    pd.testing.assert_series_equal(scaled["school"], X["school"])
    model = pipe[-1]
    base = mtstats.TraceNormRegressor(task_column="school")
    on_scaled = regularization_path(base, scaled, y, n_alphas=5).alphas
    on_raw = regularization_path(base, X, y, n_alphas=5).alphas
    np.testing.assert_allclose(model.alphas_, on_scaled)
    assert not np.allclose(model.alphas_, on_raw)
    assert list(model.feature_names_in_) == [c for c in X.columns if c != "school"]
    assert pipe.score(X, y) > 0.3


@pytest.mark.parametrize("task_column", [0, -1])
def test_task_column_transformer_keeps_integer_positions(task_column, rng):
    X = rng.standard_normal((20, 3)) * 50
    tasks = np.repeat(["a", "b"], 10)
    position = task_column % 4
    X_obj = np.insert(X.astype(object), position, tasks, axis=1)
    out = TaskColumnTransformer(task_column=task_column).fit_transform(X_obj)
    np.testing.assert_array_equal(out[:, position], tasks)
    features = np.delete(out, position, axis=1).astype(float)
    np.testing.assert_allclose(features.mean(axis=0), 0, atol=1e-12)
    numeric = np.column_stack([X, np.repeat([3.0, 7.0], 10)])
    out = TaskColumnTransformer(task_column=-1).fit_transform(numeric)
    np.testing.assert_array_equal(out[:, -1], numeric[:, -1])


def test_grid_search_over_structure_parameters_around_a_cv_twin():
    X, y, _ = make_multitask_regression(n_tasks=6, n_features=3, n_samples=(30, 40),
                                        structure="clustered", n_clusters=2,
                                        random_state=0)
    inner = mtstats.ClusteredRegressorCV(task_column=-1, alphas=3, cv=3,
                                         random_state=0)
    search = GridSearchCV(inner, {"n_clusters": [1, 2], "ridge_ratio": [0.1, 0.5]},
                          cv=TaskStratifiedKFold(3, task_column=-1, random_state=0))
    search.fit(X, y)
    best = search.best_estimator_
    assert best.n_clusters in (1, 2) and best.alpha_ in best.alphas_
    assert search.cv_results_["mean_test_score"].shape == (4,)
