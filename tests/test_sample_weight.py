"""``sample_weight`` in ``fit``: an integer weight repeats a row, a zero weight
drops it (scikit-learn's convention), for every estimator and its *CV twin.

Expected values come from the repeated or reduced data, or from scikit-learn
(Ridge, Lasso, LogisticRegression with ``sample_weight`` on one task). The
default run fits one estimator (and twin) per family, in one layout; ``pytest
-m slow`` fits every one in both (see _representatives.py).
"""

import numpy as np
import pytest
import sklearn
from _representatives import cases, kept_by_default
from scipy import sparse
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import Lasso, LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, make_scorer, r2_score
from sklearn.model_selection import PredefinedSplit

import mtstats
from mtstats import regularization_path
from mtstats._scaling import DataScale
from mtstats.datasets import make_multitask_classification, make_multitask_regression


def _estimator_names(cv):
    """Estimator classes of ``mtstats.__all__`` (read at import time, so new
    estimators are covered): the *CV twins or the others."""
    return [name for name in mtstats.__all__ if name[0].isupper()
            and isinstance(getattr(mtstats, name), type)
            and issubclass(getattr(mtstats, name), BaseEstimator)
            and name.endswith("CV") == cv]


NAMES = _estimator_names(cv=False)
CV_NAMES = _estimator_names(cv=True)
LAYOUTS = ["wide", "long"]
PRECISE = {"tol": 1e-10, "max_iter": 100_000}


def _data(classifier, layout, seed=0, n_tasks=3):
    """3 tasks, 4 features, 20 rows per task; wide targets miss 10 % of labels."""
    make = make_multitask_classification if classifier else make_multitask_regression
    X, y, _ = make(n_tasks=n_tasks, n_features=4, n_samples=20, layout=layout,
                   missing_fraction=0.1 if layout == "wide" else 0.0,
                   random_state=seed)
    return np.asarray(X, dtype=np.float64), np.asarray(y)


def _estimator(name, layout, **params):
    est = getattr(mtstats, name)()
    settings = {**PRECISE, **params}
    if "alpha" in est.get_params():
        settings.setdefault("alpha", 0.05)
    if layout == "long":
        settings["task_column"] = -1
    return est.set_params(**settings)


def _weights(n, low, high, seed=1):
    return np.random.default_rng(seed).integers(low, high + 1, size=n)


def _assert_same_fit(fitted, expected, rtol=1e-6):
    scale = max(np.abs(expected.coef_).max(), np.abs(expected.intercept_).max(), 1.0)
    np.testing.assert_allclose(fitted.coef_, expected.coef_, rtol=rtol,
                               atol=rtol * scale)
    np.testing.assert_allclose(fitted.intercept_, expected.intercept_, rtol=rtol,
                               atol=rtol * scale)


def _classifier(name):
    return is_classifier(getattr(mtstats, name)())


@pytest.mark.parametrize("name, layout", cases(NAMES, LAYOUTS, keep=kept_by_default))
def test_integer_weights_are_repeated_rows(name, layout):
    X, y = _data(_classifier(name), layout)
    w = _weights(len(y), 1, 3)
    est = _estimator(name, layout)
    weighted = clone(est).fit(X, y, sample_weight=w)
    repeated = clone(est).fit(np.repeat(X, w, axis=0), np.repeat(y, w, axis=0))
    _assert_same_fit(weighted, repeated)


@pytest.mark.parametrize("name, layout", cases(NAMES, LAYOUTS, keep=kept_by_default))
def test_zero_weight_is_a_dropped_row(name, layout):
    X, y = _data(_classifier(name), layout)
    w = _weights(len(y), 0, 2, seed=2)
    est = _estimator(name, layout)
    weighted = clone(est).fit(X, y, sample_weight=w)
    kept = w > 0
    dropped = clone(est).fit(X[kept], y[kept], sample_weight=w[kept])
    _assert_same_fit(weighted, dropped, rtol=1e-12)
    np.testing.assert_array_equal(weighted.n_samples_per_task_,
                                  dropped.n_samples_per_task_)


SETTINGS = [{"task_weight": "n_samples"}, {"intercept_shrinkage": "auto"},
            {"intercept_shrinkage": 2.0}, {"shared_mean": True},
            {"task_weight": "noise"}, {"fit_intercept": False}]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: repr(s)[1:-1])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ["GroupLassoRegressor", "GroupLassoClassifier"])
def test_weighted_sizes_shrinkage_and_noise_scales_follow_the_repeats(name, layout,
                                                                      settings):
    """Task sizes, the "auto" shrinkage, the grand-mean centring and the noise
    scales are weighted: the same as on the repeated rows."""
    if "noise" in settings.values() and "Classifier" in name:
        pytest.skip("task_weight='noise' is for regression")
    X, y = _data("Classifier" in name, layout)
    w = _weights(len(y), 1, 4, seed=3)
    est = _estimator(name, layout, **settings)
    weighted = clone(est).fit(X, y, sample_weight=w)
    repeated = clone(est).fit(np.repeat(X, w, axis=0), np.repeat(y, w, axis=0))
    _assert_same_fit(weighted, repeated)
    assert weighted.intercept_shrinkage_ == pytest.approx(
        repeated.intercept_shrinkage_, rel=1e-9)
    if "noise" in settings.values():
        np.testing.assert_allclose(weighted.task_noise_scale_,
                                   repeated.task_noise_scale_, rtol=1e-6)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_zero_weight_row_with_huge_values_changes_nothing(layout):
    X, y = _data(False, layout)
    est = _estimator("TraceNormRegressor", layout)
    wild = X[:1].copy()
    wild[0, 0] = 1e200  # the task column (long layout: the last) is kept
    X_wild = np.vstack([X, wild])
    y_wild = np.concatenate([y, 1e200 * np.ones_like(y[:1])])
    w = np.append(np.ones(len(y)), 0.0)
    assert clone(est)._prepare(X_wild, y_wild, w).scale == DataScale()
    weighted = clone(est).fit(X_wild, y_wild, sample_weight=w)
    plain = clone(est).fit(X, y)
    _assert_same_fit(weighted, plain, rtol=1e-9)


def test_sparse_features_follow_the_repeats():
    X, y = _data(False, "wide")
    w = _weights(len(y), 1, 3)
    est = _estimator("GroupLassoRegressor", "wide", intercept_shrinkage=2.0)
    weighted = clone(est).fit(sparse.csr_array(X), y, sample_weight=w)
    repeated = clone(est).fit(sparse.csr_array(np.repeat(X, w, axis=0)),
                              np.repeat(y, w, axis=0))
    _assert_same_fit(weighted, repeated)


def test_one_task_matches_scikit_learn_with_sample_weight(rng):
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.standard_normal(40) + 3.0
    v = rng.uniform(0.2, 3.0, size=40)
    v[:5] = 0.0
    total, alpha = v.sum(), 0.05
    # mtstats: sum_i v_i l_i / sum_i v_i + penalty
    ridge = Ridge(alpha=alpha * total).fit(X, y, sample_weight=v)  # sum v r^2 + ...
    ours = mtstats.IndependentRegressor(alpha, **PRECISE).fit(X, y, sample_weight=v)
    np.testing.assert_allclose(ours.coef_[0], ridge.coef_, rtol=1e-8)
    assert ours.intercept_[0] == pytest.approx(ridge.intercept_, rel=1e-8)
    # Lasso rescales the weights to sum to n: the same weighted mean loss
    lasso = Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y, sample_weight=v)
    ours = mtstats.IndependentRegressor(alpha, penalty="l1", **PRECISE).fit(
        X, y, sample_weight=v)
    np.testing.assert_allclose(ours.coef_[0], lasso.coef_, rtol=1e-6, atol=1e-8)
    assert ours.intercept_[0] == pytest.approx(lasso.intercept_, rel=1e-6)
    labels = (y > 3.0).astype(int)
    logistic = LogisticRegression(C=1 / (alpha * total), tol=1e-12, max_iter=10_000)
    logistic.fit(X, labels, sample_weight=v)
    ours = mtstats.IndependentClassifier(alpha, **PRECISE).fit(X, labels,
                                                                sample_weight=v)
    np.testing.assert_allclose(ours.coef_[0], logistic.coef_[0], rtol=1e-5)
    assert ours.intercept_[0] == pytest.approx(logistic.intercept_[0], rel=1e-5)


def test_weighted_path_is_the_path_of_the_repeated_rows():
    X, y = _data(False, "long")
    w = _weights(len(y), 1, 3)
    est = _estimator("GroupLassoRegressor", "long")
    weighted = regularization_path(est, X, y, n_alphas=4, sample_weight=w)
    repeated = regularization_path(est, np.repeat(X, w, axis=0),
                                   np.repeat(y, w, axis=0), n_alphas=4)
    np.testing.assert_allclose(weighted.alphas, repeated.alphas, rtol=1e-12)
    np.testing.assert_allclose(weighted.coef, repeated.coef, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ["TraceNormRegressor", "TraceNormClassifier"])
def test_score_uses_the_weights(name, layout):
    classifier = "Classifier" in name
    X, y = _data(classifier, layout)
    est = _estimator(name, layout).fit(X, y)
    w = np.random.default_rng(4).uniform(0.0, 2.0, size=len(y))
    metric = accuracy_score if classifier else r2_score
    predicted = est.predict(X)
    if layout == "long":
        expected = metric(y, predicted, sample_weight=w)
    else:  # mean over tasks of the weighted score of each task's observed labels
        observed = ~np.isnan(y.astype(float))
        expected = np.mean([metric(y[observed[:, t], t], predicted[observed[:, t], t],
                                   sample_weight=w[observed[:, t]])
                            for t in range(y.shape[1])])
    assert est.score(X, y, sample_weight=w) == pytest.approx(expected, rel=1e-12)


# -- errors -------------------------------------------------------------------

BAD = [(lambda n: -np.ones(n), "Negative values"),
       (lambda n: np.r_[np.nan, np.ones(n - 1)], "NaN"),
       (lambda n: np.r_[np.inf, np.ones(n - 1)], "infinity"),
       (lambda n: np.ones(n - 1), "sample_weight has {m} entries but X has {n} rows"),
       (lambda n: np.ones((n, 2)), "1D"),
       (lambda n: np.zeros(n), "non-zero")]


@pytest.mark.parametrize("make_bad, message", BAD)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_bad_weights_are_refused_clearly(layout, make_bad, message):
    X, y = _data(False, layout)
    est = _estimator("IndependentRegressor", layout)
    with pytest.raises(ValueError, match=message.format(n=len(y), m=len(y) - 1)):
        est.fit(X, y, sample_weight=make_bad(len(y)))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("classifier", [False, True])
def test_a_task_with_only_zero_weights_is_named(layout, classifier):
    X, y = _data(classifier, layout)
    w = np.ones(len(y))
    if layout == "long":
        tasks = np.where(X[:, -1] == 1, "b", np.where(X[:, -1] == 0, "a", "c"))
        X = X.astype(object)
        X[:, -1] = tasks
        w[tasks == "b"] = 0.0
        match = r"Task 'b' has sample_weight 0 on all of its 20 observed targets"
    else:  # task 1 observed in the first 10 rows only, which weigh 0
        y = y.astype(float)
        y[10:, 1] = np.nan
        w[:10] = 0.0
        n_observed = int((~np.isnan(y[:10, 1])).sum())
        match = f"Task 1 has sample_weight 0 on all of its {n_observed} observed"
    est = _estimator("TraceNormClassifier" if classifier else "TraceNormRegressor",
                     layout)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y, sample_weight=w)


def test_class_checks_count_only_rows_with_a_positive_weight():
    X, y = _data(True, "long")
    w = np.ones(len(y))
    first = X[:, -1] == 0
    w[first & (y == 1)] = 0.0  # task 0 keeps only its class-0 rows
    est = _estimator("IndependentClassifier", "long")
    kept = int((first & (y == 0)).sum())
    match = rf"Task 0 has only one class \(0(\.0)?\) among its {kept} "
    with pytest.raises(ValueError, match=match):
        est.fit(X, y, sample_weight=w)
    est.set_params(intercept_shrinkage=1.0).fit(X, y, sample_weight=w)  # allowed


# -- the *CV twins ------------------------------------------------------------


@pytest.fixture
def routing():
    """Metadata routing enabled for one test, restored afterwards."""
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _cv_problem(name, layout, seed=0):
    """Data, integer weights and the folds of the weighted and repeated rows
    (every copy of a row in the fold of its original)."""
    X, y = _data(_classifier(name), layout, seed=seed)
    w = _weights(len(y), 1, 3, seed=seed + 5)
    fold = np.arange(len(y)) % 3
    repeated = (np.repeat(X, w, axis=0), np.repeat(y, w, axis=0))
    return (X, y, w, PredefinedSplit(fold), repeated,
            PredefinedSplit(np.repeat(fold, w)))


@pytest.mark.parametrize("name, layout", cases(CV_NAMES, LAYOUTS, keep=kept_by_default))
def test_cv_twin_with_weighted_scores_is_the_repeated_fit(name, layout, routing):
    """Weighted fold fits and (routed) weighted scores: the same alpha_, scores
    and refit as on the repeated rows; the refit is the base fit at alpha_."""
    X, y, w, folds, (X_rep, y_rep), folds_rep = _cv_problem(name, layout)
    est = _estimator(name, layout, alphas=3, eps=0.1, tol=1e-8)
    defaults = type(est)._base_class()().get_params()
    est.set_params(**{key: defaults[key] for key in est._path_params})  # one candidate
    weighted = clone(est).set_params(cv=folds).set_score_request(sample_weight=True)
    weighted.fit(X, y, sample_weight=w)
    repeated = clone(est).set_params(cv=folds_rep).fit(X_rep, y_rep)
    assert weighted.alpha_ == pytest.approx(repeated.alpha_, rel=1e-12)
    np.testing.assert_allclose(weighted.scores_path_, repeated.scores_path_,
                               rtol=1e-6, atol=1e-9)
    _assert_same_fit(weighted, repeated, rtol=1e-5)
    base_class = type(weighted)._base_class()
    params = {key: value for key, value in weighted.get_params().items()
              if key in base_class._get_param_names()}
    params.update({key: getattr(weighted, f"{key}_") for key in weighted._path_params})
    base = base_class(**params).set_params(alpha=weighted.alpha_)
    _assert_same_fit(weighted, base.fit(X, y, sample_weight=w), rtol=1e-12)


def _recording_scorer(received):
    def negative_mse(y_true, y_pred, sample_weight=None):
        received.append(sample_weight)
        return -np.average((y_true - y_pred) ** 2, weights=sample_weight)

    return make_scorer(negative_mse)


def test_a_scorer_that_requests_sample_weight_receives_the_test_rows(routing):
    X, y, w, folds, _, _ = _cv_problem("IndependentRegressorCV", "long")
    received = []
    scorer = _recording_scorer(received).set_score_request(sample_weight=True)
    est = _estimator("IndependentRegressorCV", "long", alphas=2, cv=folds,
                     scoring=scorer)
    est.fit(X, y, sample_weight=w)
    tests = [test for _, test in folds.split()]
    assert len(received) == 2 * len(tests)  # two alphas per fold
    for k, test in enumerate(tests):
        for got in received[2 * k:2 * k + 2]:
            np.testing.assert_array_equal(got, w[test])


def test_a_scorer_must_state_whether_it_wants_the_weights(routing):
    X, y, w, folds, _, _ = _cv_problem("IndependentRegressorCV", "long")
    received = []
    est = _estimator("IndependentRegressorCV", "long", alphas=2, cv=folds,
                     scoring=_recording_scorer(received))
    with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
        est.fit(X, y, sample_weight=w)
    est.set_params(scoring=_recording_scorer(received).set_score_request(
        sample_weight=False)).fit(X, y, sample_weight=w)
    assert received and all(got is None for got in received)


def test_without_routing_weights_reach_the_fold_fits_but_not_the_scorer():
    X, y, w, folds, _, _ = _cv_problem("IndependentRegressorCV", "long")
    received = []
    est = _estimator("IndependentRegressorCV", "long", alphas=2, cv=folds,
                     scoring=_recording_scorer(received))
    est.fit(X, y, sample_weight=w)
    assert received and all(got is None for got in received)
    unweighted = clone(est).fit(X, y)
    assert not np.allclose(est.coef_, unweighted.coef_)
    with pytest.raises(ValueError, match="groups"):
        est.fit(X, y, sample_weight=w, groups=np.zeros(len(y)))
