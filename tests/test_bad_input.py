"""The bad-input catalogue: every estimator, every kind of bad or odd input.

Each case states its documented outcome: a ``ValueError`` (or scikit-learn's
``NotFittedError``) whose message names the problem, or a fit that matches a
reference computed another way (a smaller problem, scikit-learn, or a fit at
unit scale). A short ``hypothesis`` property test fuzzes fit -> predict.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from _representatives import cases, kept_by_default
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import MultiTaskLasso, Ridge

import mtstats

NAMES = [name for name in mtstats.__all__ if name.endswith(("Regressor", "Classifier"))]
REGRESSORS = [n for n in NAMES if n.endswith("Regressor")]
CLASSIFIERS = [n for n in NAMES if n.endswith("Classifier")]
#: Degree of homogeneity of each family's penalty in W: how alpha (linear in
#: every penalty, ratios fixed) must change when W is rescaled for the
#: objective to keep its minimiser.
DEGREE = {"GroupLasso": 1, "TraceNorm": 1, "Independent": 2, "Pooled": 2,
          "Clustered": 2, "SharedPrivate": 2, "Dirty": 1, "SparseLowRank": 1,
          "RobustTraceNorm": 1, "RobustGroupLasso": 1,
          "Graph": (1, 2)}  # the sparse part has degree 1, the graph term 2
TASKS = ["a", "b", "c"]
#: The estimators of the tests that fit (and compare fits): one per family by
#: default, every one with ``pytest -m slow`` (see _representatives.py). The
#: checks that refuse an input before fitting run for every estimator.
FITTED = cases(NAMES, keep=kept_by_default)


def make(name, **params):
    """The estimator with test-friendly defaults (long layout, column 'task')."""
    params.setdefault("task_column", "task")
    return getattr(mtstats, name)(**params)


def long_data(name, n=20, d=3, tasks=TASKS, seed=0):
    """Long-layout DataFrame with a 'task' column; both classes in each task."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.standard_normal((n * len(tasks), d)),
                     columns=[f"x{j}" for j in range(d)])
    X["task"] = np.repeat(np.asarray(tasks, dtype=object), n)
    signal = X["x0"] - X[f"x{min(1, d - 1)}"] + 0.5 * rng.standard_normal(len(X))
    if name.endswith("Classifier"):
        # the upper half of each task's rows is class 1: both classes everywhere
        ranks = signal.groupby(X["task"]).rank()
        return X, pd.Series((ranks > n / 2).astype(int))
    return X, pd.Series(signal)


def family(name):
    return name.removesuffix("Regressor").removesuffix("Classifier")


def assert_raises_naming(estimator, X, y, *words):
    with pytest.raises(ValueError) as info:
        estimator.fit(X, y)
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


# -------------------------------------------------- invalid values in X and y


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("value, words", [(np.nan, ["X", "NaN"]),
                                          (np.inf, ["X", "infinity"])])
def test_non_finite_X_is_named(name, value, words):
    X, y = long_data(name)
    X.iloc[3, 1] = value
    assert_raises_naming(make(name), X, y, *words)


@pytest.mark.parametrize("name", NAMES)
def test_infinite_y_is_named(name):
    X, y = long_data(name)
    y = y.astype(float)
    y.iloc[5] = np.inf
    assert_raises_naming(make(name), X, y, "y", "infinity")


@pytest.mark.parametrize("name", NAMES)
def test_nan_in_a_1d_y_is_an_error_not_a_missing_label(name):
    X, y = long_data(name)
    y = y.astype(float)
    y.iloc[5] = np.nan
    assert_raises_naming(make(name), X, y, "y", "NaN")


@pytest.mark.parametrize("name", NAMES)
def test_non_numeric_feature_is_named(name):
    X, y = long_data(name)
    X["x1"] = X["x1"].astype(object)
    X.loc[4, "x1"] = "seven"
    assert_raises_naming(make(name), X, y, "seven")


# ------------------------------------------------------------ task structure


@pytest.mark.parametrize("name", FITTED)
def test_task_with_one_sample_fits(name):
    """Issue 9: one-row tasks are fitted (a classifier's needs its intercept
    shrunk, since its one label is one class)."""
    X, y = long_data(name)
    X = pd.concat([X, X.iloc[[0]].assign(task="lonely")], ignore_index=True)
    y = pd.concat([y, y.iloc[[0]]], ignore_index=True)
    est = make(name)
    if est._is_classifier():
        assert_raises_naming(est, X, y, "'lonely'", "only one class")
        est.set_params(intercept_shrinkage="auto")
    est.fit(X, y)
    assert "lonely" in list(est.tasks_)


@pytest.mark.parametrize("name", NAMES)
def test_task_with_no_observed_label_is_named(name):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 3))
    Y = (X @ rng.standard_normal((3, 3)) > 0).astype(float)
    if name.endswith("Regressor"):
        Y = X @ rng.standard_normal((3, 3))
    Y[:, 2] = np.nan
    assert_raises_naming(make(name, task_column=None), X, Y, "Task 2", "0 samples")


@pytest.mark.parametrize("name", NAMES)
def test_mixed_type_task_column_is_refused(name):
    """Regression test: True and 1 were merged into one task of 40 rows."""
    X, y = long_data(name, tasks=[True, 1, "c"])
    assert_raises_naming(make(name), X, y, "mixes label types", "bool", "integer")


@pytest.mark.parametrize("name", FITTED)
def test_categorical_task_column_equals_the_object_column(name):
    X, y = long_data(name)
    reference = make(name).fit(X, y)
    X_cat = X.assign(task=pd.Categorical(X["task"]))
    fitted = make(name).fit(X_cat, y)
    assert list(fitted.tasks_) == TASKS
    np.testing.assert_allclose(fitted.coef_, reference.coef_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_task_at_prediction_is_named(name):
    X, y = long_data(name)
    estimator = make(name).fit(X, y)
    X_new = X.iloc[:3].assign(task="zzz")
    if name.startswith("SharedPrivate"):  # kind="subspace": no shared model
        estimator.set_params(unseen_task="error")
    with pytest.raises(ValueError, match="Unknown task.*'zzz'"):
        estimator.predict(X_new)


@pytest.mark.parametrize("name", FITTED)
def test_one_task_fits(name):
    X, y = long_data(name, tasks=["only"])
    params = {"n_clusters": 1} if name.startswith("Clustered") else {}
    estimator = make(name, tol=1e-12, **params).fit(X, y)
    assert estimator.coef_.shape == (1, 3) and np.all(np.isfinite(estimator.coef_))
    if name == "IndependentRegressor":  # ridge per task, alpha times n_t
        ridge = Ridge(alpha=estimator.alpha * len(y)).fit(X[["x0", "x1", "x2"]], y)
        np.testing.assert_allclose(estimator.coef_[0], ridge.coef_, atol=1e-6)


# ------------------------------------------------------------- odd columns


@pytest.mark.parametrize("name", FITTED)
def test_constant_column_gets_zero_coefficient(name):
    """A constant feature is absorbed by the intercepts: the fit equals the
    fit without it, with a zero coefficient for it."""
    X, y = long_data(name)
    reference = make(name, tol=1e-10).fit(X, y)
    X_const = X.assign(x_const=7.0)[["x0", "x1", "x2", "x_const", "task"]]
    fitted = make(name, tol=1e-10).fit(X_const, y)
    np.testing.assert_allclose(fitted.coef_[:, 3], 0.0, atol=1e-12)
    np.testing.assert_allclose(fitted.coef_[:, :3], reference.coef_, atol=1e-5)


@pytest.mark.parametrize("name", FITTED)
def test_duplicate_column_cannot_raise_the_optimum(name):
    """Setting the copy's coefficient to zero gives the old optimum, so the
    optimum with a duplicate column is no higher; for the norms that are sums
    over features (L1, L21) it is equal."""
    X, y = long_data(name)
    reference = make(name, tol=1e-10).fit(X, y)
    X_dup = X.assign(x0_copy=X["x0"])[["x0", "x1", "x2", "x0_copy", "task"]]
    fitted = make(name, tol=1e-10).fit(X_dup, y)
    assert fitted.converged_
    slack = 1e-8 * abs(reference.objective_) + 1e-12
    assert fitted.objective_ <= reference.objective_ + slack
    if family(name) == "GroupLasso":
        assert fitted.objective_ == pytest.approx(reference.objective_, rel=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_more_features_than_samples(name):
    X, y = long_data(name, n=8, d=60)
    two_part = family(name) in ("Clustered", "SharedPrivate")  # alpha: the sum
    estimator = make(name, alpha=0.2 if two_part else 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converges: no ConvergenceWarning
        estimator.fit(X, y)
    assert estimator.converged_ and np.all(np.isfinite(estimator.predict(X)))


def test_group_lasso_with_more_features_than_samples_matches_scikit_learn():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((15, 80)), rng.standard_normal((15, 4))
    ours = mtstats.GroupLassoRegressor(alpha=0.05, tol=1e-10).fit(X, Y)
    ref = MultiTaskLasso(alpha=0.05, tol=1e-12, max_iter=100_000).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)


# ------------------------------------------------------------ data scales


def _strengths(name, estimator, factor):
    return {"alpha": estimator.alpha * factor}


def _mixed_strengths(estimator, c):
    """Graph classifier: ``alpha * (rho N(W) + (1 - rho) Q(W))`` with N of degree
    1 and Q of degree 2 keeps its minimiser under ``W -> W / c`` when the two
    strengths become ``alpha rho c`` and ``alpha (1 - rho) c^2``."""
    alpha, rho = estimator.alpha, estimator.l1_ratio
    sparse, smooth = alpha * rho * c, alpha * (1 - rho) * c * c
    return {"alpha": sparse + smooth, "l1_ratio": sparse / (sparse + smooth)}


@pytest.mark.parametrize("exponent, name", cases(
    [330, -330, 60], NAMES, keep=lambda _, name: kept_by_default(name)))
def test_fit_at_any_finite_scale(name, exponent):
    """Regression test: data around 1e100 crashed every estimator with a
    ZeroDivisionError. X scaled by c (and y by c for regression) has the same
    minimiser up to the scale once the strengths are rescaled: regression
    objectives scale by c^2 (W unchanged); for classifiers W -> W / c and a
    penalty of degree k needs its strengths times c^k."""
    c = 2.0**exponent
    X, y = long_data(name)
    unit = make(name, tol=1e-10).fit(X, y)
    X_scaled = X.assign(**{col: X[col] * c for col in ("x0", "x1", "x2")})
    if name.endswith("Regressor"):
        factor, y_scaled, coef_factor = c * c, y * c, 1.0
        strengths = _strengths(name, unit, factor)
    else:
        degree, y_scaled, coef_factor = DEGREE[family(name)], y, 1 / c
        if isinstance(degree, tuple) and abs(exponent) > 100:
            pytest.skip("the rescaled (alpha, l1_ratio) pair is not representable: "
                        "1 - l1_ratio would have to be 2**-330 relative to 1")
        strengths = (_mixed_strengths(unit, c) if isinstance(degree, tuple)
                     else _strengths(name, unit, c ** degree))
    scaled = make(name, tol=1e-10, **strengths).fit(X_scaled, y_scaled)
    assert scaled.converged_
    reference = unit.coef_ * coef_factor
    np.testing.assert_allclose(scaled.coef_, reference,
                               atol=1e-4 * np.max(np.abs(reference)))
    np.testing.assert_allclose(scaled.predict(X_scaled) / (
        c if name.endswith("Regressor") else 1), unit.predict(X) / 1.0,
        atol=1e-4 * float(np.max(np.abs(unit.predict(X)))) + 1e-12)


@pytest.mark.parametrize("name", FITTED)
def test_a_feature_value_of_1e308_fits_or_is_named(name):
    X, y = long_data(name)
    X.loc[0, "x2"] = 1e308
    try:
        estimator = make(name).fit(X, y)
    except ValueError as error:
        assert "scale" in str(error)
    else:
        assert np.all(np.isfinite(estimator.coef_))


@pytest.mark.parametrize("name", REGRESSORS)
def test_unrepresentable_scale_is_refused_with_advice(name):
    X, y = long_data(name)
    X_tiny = X.assign(**{col: X[col] * 1e-300 for col in ("x0", "x1", "x2")})
    assert_raises_naming(make(name), X_tiny, y * 1e300, "Rescale X and y")


# ------------------------------------------------------------- weights


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("layout", ["long", "wide"])
def test_all_zero_task_weights_are_refused(name, layout):
    """Regression test: all-zero weights hung three classifiers and gave NaN
    coefficients elsewhere."""
    X, y = long_data(name)
    params = {}
    if layout == "wide":
        X, y = X[["x0", "x1", "x2"]].to_numpy()[:20], np.column_stack(
            [y.to_numpy()[:20], y.to_numpy()[20:40], y.to_numpy()[40:]])
        params["task_column"] = None
    assert_raises_naming(make(name, task_weight=np.zeros(3), **params), X, y,
                         "task_weight", "zero")


@pytest.mark.parametrize("name", FITTED)
def test_tiny_task_weights_act_as_a_larger_alpha(name):
    """Weights multiply the loss, so weights w * c with alpha * c is the same
    problem; c = 1e-300 used to overflow the step size."""
    X, y = long_data(name)
    unit = make(name, tol=1e-10).fit(X, y)
    c = 1e-300
    tiny = make(name, tol=1e-10, task_weight=np.full(3, c),
                **_strengths(name, unit, c)).fit(X, y)
    np.testing.assert_allclose(tiny.coef_, unit.coef_,
                               atol=1e-5 * np.max(np.abs(unit.coef_)) + 1e-12)


@pytest.mark.parametrize("spec, words", [(np.array([1.0, -1.0, 1.0]), ["negative"]),
                                         (np.array([1.0, np.inf, 1.0]), ["finite"]),
                                         (np.ones(2), ["2 entries", "3 tasks"])])
def test_bad_task_weights_are_named(spec, words):
    X, y = long_data("TraceNormRegressor")
    assert_raises_naming(make("TraceNormRegressor", task_weight=spec), X, y, *words)


# ------------------------------------------------------------ classes


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_one_class_in_a_task_is_named(name):
    X, y = long_data(name)
    y[X["task"] == "b"] = 1
    assert_raises_naming(make(name), X, y, "Task 'b'", "only one class")


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_three_classes_are_refused(name):
    X, y = long_data(name)
    y.iloc[:4] = 2
    assert_raises_naming(make(name), X, y, "binary", "3 classes")


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_mixed_type_class_labels_are_refused(name):
    X, y = long_data(name)
    y = y.astype(object)
    y[y == 1] = True
    y.iloc[0] = 1  # True and 1 compare equal: must not become one class silently
    assert_raises_naming(make(name), X, y, "mixes label types")


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("missing", [None, np.nan])
def test_string_labels_with_missing_entries_in_a_wide_Y(name, missing):
    """Regression test: None or NaN in a "yes"/"no" matrix raised a TypeError
    from inside NumPy; it now marks an unobserved label, as NaN does in a
    float Y, and the fit equals the fit on 0/1 labels with NaN."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 3))
    Y01 = (X @ rng.standard_normal((3, 3)) + rng.standard_normal((40, 3)) > 0)
    Y01 = Y01.astype(float)
    Y01[[0, 5, 9], [0, 1, 2]] = np.nan
    Y = np.where(Y01 == 1, "yes", "no").astype(object)
    Y[np.isnan(Y01)] = missing
    fitted = make(name, task_column=None).fit(X, Y)
    reference = make(name, task_column=None).fit(X, Y01)
    assert list(fitted.classes_) == ["no", "yes"]
    np.testing.assert_allclose(fitted.coef_, reference.coef_, rtol=1e-10)
    np.testing.assert_array_equal(fitted.n_samples_per_task_, [39, 39, 39])


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_missing_label_in_a_1d_y_says_how_missing_labels_are_marked(name):
    X, y = long_data(name)
    y = y.map({0: "no", 1: "yes"}).astype(object)
    y.iloc[7] = None
    assert_raises_naming(make(name), X, y, "missing label", "row 7", "2-D Y")


# ------------------------------------------------- fitted state, parameters


@pytest.mark.parametrize("name", NAMES)
def test_predict_before_fit(name):
    X, _ = long_data(name)
    with pytest.raises(NotFittedError):
        make(name).predict(X)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_number_of_features_at_predict(name):
    X, y = long_data(name)
    X = X.assign(task=X["task"].map({"a": 0, "b": 1, "c": 2})).to_numpy(float)
    estimator = make(name, task_column=-1).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features.*expecting 3"):
        estimator.predict(X[:, [0, 1, 3]])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("param, value", [("alpha", -1.0), ("tol", 0.0),
                                          ("max_iter", 0), ("task_weight", "bad"),
                                          ("device", "tpu")])
def test_bad_hyper_parameters_are_named(name, param, value):
    X, y = long_data(name)
    with pytest.raises(ValueError, match=f"'{param}' parameter"):
        make(name, **{param: value}).fit(X, y)


# ------------------------------------------------------- property: fuzzing


@st.composite
def problems(draw):
    name = draw(st.sampled_from(NAMES))
    n_tasks = draw(st.integers(1, 3))
    n_per_task = draw(st.integers(2, 6))
    n_features = draw(st.integers(1, 4))
    scale = 10.0 ** draw(st.integers(-8, 8))
    values = draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False),
                           min_size=n_tasks * n_per_task * n_features,
                           max_size=n_tasks * n_per_task * n_features))
    X = scale * np.asarray(values).reshape(n_tasks * n_per_task, n_features)
    if name.endswith("Classifier"):  # alternate classes: both in every task
        y = np.tile(np.arange(n_per_task) % 2, n_tasks)
    else:
        y = np.asarray(draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False),
                                     min_size=len(X), max_size=len(X))))
    tasks = np.repeat(np.arange(n_tasks), n_per_task)
    return name, np.column_stack([X, tasks]), y


@settings(max_examples=40, deadline=5000,
          suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_fit_then_predict_never_crashes_or_returns_nan(problem):
    """Any small finite input either fits, with finite predictions of the
    right shape, or is refused with a ValueError naming the problem."""
    name, X, y = problem
    params = {"task_column": -1, "max_iter": 500}
    if name.startswith("Clustered"):
        params["n_clusters"] = 1
    if name.startswith("SharedPrivate"):
        params["n_components"] = 1
    estimator = getattr(mtstats, name)(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning is an allowed outcome
        try:
            estimator.fit(X, y)
        except ValueError as error:
            assert str(error)
            return
        prediction = estimator.predict(X)
    assert prediction.shape == (len(y),)
    if name.endswith("Regressor"):
        assert np.all(np.isfinite(prediction))
    else:
        assert np.all(np.isfinite(estimator.predict_proba(X)))
