"""scikit-learn contract, pipelines, cross-validation and the device switch."""

import pickle

import numpy as np
import pandas as pd
import pytest
from _expected_checks import tolerance_limited_checks
from _representatives import kept_by_default, parametrize_with_checks_by_default
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.compose import make_column_transformer
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mtstats
from mtstats.datasets import make_multitask_classification, make_multitask_regression
from mtstats.model_selection import TaskStratifiedKFold


def _default(name):
    """The estimator with defaults, but one cluster: sklearn's checks use 1 task."""
    estimator = getattr(mtstats, name)()
    return estimator.set_params(n_clusters=1) if "Clustered" in name else estimator


ESTIMATORS = [_default(name) for name in mtstats.__all__  # *CV: test_cv_estimators
              if name.endswith(("Regressor", "Classifier"))]
VARIANTS = [
    mtstats.GroupLassoRegressor(l1_ratio=0.5),
    mtstats.IndependentRegressor(penalty="l1"),
    mtstats.PooledClassifier(penalty="l1"),
    mtstats.SharedPrivateRegressor("mean"),
    mtstats.SharedPrivateClassifier("mean", shared_penalty="l1"),
    mtstats.SharedPrivateRegressor(solver="alternating"),
]
REGRESSORS = [e for e in ESTIMATORS if is_regressor(e)]
CLASSIFIERS = [e for e in ESTIMATORS if is_classifier(e)]


def _expected_failures(estimator):
    """Checks that cannot pass, each with its reason."""
    if "Clustered" in type(estimator).__name__:
        return {"check_methods_sample_order_invariance":
                "the check sets n_clusters=2 on a one-task problem; mtstats "
                "raises a ValueError rather than fit more clusters than tasks"}
    return tolerance_limited_checks(estimator)


#: The default run checks one member of each family, at its defaults (see
#: _representatives.py); ``pytest -m slow`` checks every estimator and the
#: variants.
@parametrize_with_checks_by_default(
    ESTIMATORS + VARIANTS, keep=lambda estimator: estimator in ESTIMATORS
    and kept_by_default(type(estimator).__name__),
    expected_failed_checks=_expected_failures)
def test_sklearn_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def schools():
    X, y, truth = make_multitask_regression(
        n_tasks=6, n_features=4, n_samples=(25, 50), noise=0.5, as_frame=True,
        random_state=1)
    return X, y, truth


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_clone_and_pickle_round_trip(estimator, rng):
    X = rng.standard_normal((40, 3))
    Y = X @ rng.standard_normal((3, 2)) + rng.standard_normal((40, 2))
    if is_classifier(estimator):
        Y = (Y > 0).astype(int)
    fitted = clone(estimator).set_params(alpha=0.05).fit(X, Y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    assert clone(fitted).get_params() == fitted.get_params()
    assert not hasattr(clone(fitted), "coef_")


@pytest.mark.parametrize("estimator", REGRESSORS, ids=lambda e: type(e).__name__)
def test_long_layout_in_cross_validation(estimator, schools):
    X, y, _ = schools
    est = clone(estimator).set_params(alpha=0.01, task_column="task")
    cv = TaskStratifiedKFold(5, task_column="task", random_state=0)
    scores = cross_val_score(est, X, y, cv=cv, scoring="r2")
    assert scores.shape == (5,) and np.all(np.isfinite(scores))
    if not isinstance(est, mtstats.PooledRegressor):  # pooled cannot fit low rank
        assert scores.mean() > 0.5  # noise sd 0.5 on a signal with variance ~4


def test_plain_kfold_on_shuffled_rows_works_as_in_the_readme(schools):
    X, y, _ = schools
    scores = cross_val_score(mtstats.TraceNormRegressor(alpha=0.01, task_column="task"),
                             X, y, cv=5, scoring="r2")
    assert np.all(np.isfinite(scores))


def test_task_stratified_folds_hold_every_task(schools):
    X, y, _ = schools
    cv = TaskStratifiedKFold(4, task_column="task", random_state=0)
    for train, test in cv.split(X, y):
        assert set(X["task"].iloc[test]) == set(X["task"]) == set(X["task"].iloc[train])


def test_grid_search_over_a_pipeline_that_passes_the_task_column(schools):
    X, y, _ = schools
    features = [c for c in X.columns if c != "task"]
    scaler = make_column_transformer(
        (StandardScaler(), features), remainder="passthrough",
        verbose_feature_names_out=False).set_output(transform="pandas")
    pipe = make_pipeline(scaler, mtstats.TraceNormRegressor(task_column="task"))
    search = GridSearchCV(pipe, {"tracenormregressor__alpha": [0.001, 0.01, 0.1]},
                          cv=TaskStratifiedKFold(3, task_column="task")).fit(X, y)
    best = search.best_estimator_[-1]
    assert list(best.feature_names_in_) == features
    assert search.predict(X).shape == y.shape
    assert search.best_score_ > 0.5


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=lambda e: type(e).__name__)
def test_classifier_outputs_in_both_layouts(estimator):
    X, y, _ = make_multitask_classification(n_tasks=4, n_features=3, n_samples=40,
                                            random_state=0)
    labels = np.where(y == 1, "pass", "fail")
    clf = clone(estimator).set_params(task_column=-1).fit(X, labels)
    proba = clf.predict_proba(X)
    assert list(clf.classes_) == ["fail", "pass"] and proba.shape == (160, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    decision = clf.decision_function(X)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-decision)))
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(decision > 0) * 1])
    Xw, Yw, _ = make_multitask_classification(n_tasks=3, n_features=3, n_samples=60,
                                              layout="wide", random_state=0)
    wide = clone(estimator).fit(Xw, Yw)
    assert wide.predict_proba(Xw).shape == (60, 3)
    assert wide.decision_function(Xw).shape == (60, 3)


def test_feature_names_from_dataframes(rng):
    X = pd.DataFrame(rng.standard_normal((30, 3)), columns=["age", "iq", "ses"])
    est = mtstats.GroupLassoRegressor(alpha=0.01).fit(X, rng.standard_normal((30, 2)))
    np.testing.assert_array_equal(est.feature_names_in_, ["age", "iq", "ses"])
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(X.to_numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype, rng):
    X = rng.standard_normal((40, 3)).astype(dtype)
    Y = (X @ rng.standard_normal((3, 2))).astype(dtype)
    est = mtstats.TraceNormRegressor(alpha=0.01).fit(X, Y)
    assert est.coef_.dtype == dtype and est.predict(X).dtype == dtype


def test_wide_layout_with_missing_labels_predicts_every_task(rng):
    X = rng.standard_normal((50, 3))
    Y = X @ rng.standard_normal((3, 4))
    Y[rng.random(Y.shape) < 0.3] = np.nan
    est = mtstats.TraceNormRegressor(alpha=1e-4, tol=1e-8).fit(X, Y)
    observed = ~np.isnan(Y)
    np.testing.assert_allclose(est.predict(X)[observed], Y[observed], atol=1e-2)
    np.testing.assert_array_equal(est.n_samples_per_task_, observed.sum(axis=0))


def test_cuda_without_a_gpu_raises_a_helpful_error(rng):
    from conftest import HAS_CUDA

    if HAS_CUDA:
        pytest.skip("a GPU is present")
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    with pytest.raises((ImportError, RuntimeError), match="pip install"):
        mtstats.TraceNormRegressor(device="cuda").fit(X, Y)


@pytest.mark.gpu
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_cuda_fit_matches_cpu_fit(estimator, layout):
    make = (make_multitask_classification if is_classifier(estimator)
            else make_multitask_regression)
    X, y, _ = make(n_tasks=5, n_features=6, n_samples=(30, 60), layout=layout,
                   random_state=0)
    params = {"alpha": 0.02, "tol": 1e-10, "max_iter": 20000}
    if layout == "long":
        params["task_column"] = -1
    cpu = clone(estimator).set_params(**params).fit(X, y)
    gpu = clone(estimator).set_params(device="cuda", **params).fit(X, y)
    assert isinstance(gpu.coef_, np.ndarray)
    np.testing.assert_allclose(gpu.coef_, cpu.coef_, atol=1e-6)
    np.testing.assert_allclose(gpu.intercept_, cpu.intercept_, atol=1e-6)


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_large_target_offsets_keep_exact_intercepts(layout, rng):
    """Regression test: intercepts far from zero (scores around 1000) were
    reported as converged at a wrong value."""
    from sklearn.linear_model import Ridge

    X = 10 * rng.standard_normal((90, 3))
    Y = X @ rng.standard_normal((3, 3)) + rng.standard_normal((90, 3)) + 1000
    if layout == "wide":
        est = mtstats.IndependentRegressor(alpha=0.1, tol=1e-10).fit(X, Y)
        blocks = [(X, Y[:, t]) for t in range(3)]
    else:
        tasks = np.arange(90) % 3
        y = Y[np.arange(90), tasks]
        est = mtstats.IndependentRegressor(alpha=0.1, tol=1e-10, task_column=-1)
        est.fit(np.column_stack([X, tasks]), y)
        blocks = [(X[tasks == t], y[tasks == t]) for t in range(3)]
    assert est.converged_ and est.dual_gap_ >= -1e-12
    for t, (X_t, y_t) in enumerate(blocks):
        ridge = Ridge(alpha=0.1 * len(y_t)).fit(X_t, y_t)
        assert est.intercept_[t] == pytest.approx(ridge.intercept_, abs=1e-6)
        np.testing.assert_allclose(est.coef_[t], ridge.coef_, atol=1e-8)


def test_alpha_max_of_a_ridge_model_is_refused_clearly(rng):
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    with pytest.raises(ValueError, match=r"IndependentRegressor\(\) has no alpha_max"):
        mtstats.IndependentRegressor().alpha_max(X, Y)
    alpha = mtstats.GroupLassoRegressor().alpha_max(X, Y)
    assert np.all(mtstats.GroupLassoRegressor(alpha=alpha).fit(X, Y).coef_ == 0)
