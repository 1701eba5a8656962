"""Sparse X (SciPy CSR/CSC), both layouts: the fits of dense X, never densified.

The per-estimator fits run for one estimator per family by default, all of
them with ``pytest -m slow`` (see _representatives.py).
"""

import inspect
import tracemalloc
import warnings
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from _representatives import cases, kept_by_default
from array_api_compat import numpy as np_compat
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import get_tags

import mtstats
from mtstats import _sparse_moments
from mtstats._designs import build_design
from mtstats._sparse_designs import SparseSharedDesign, column_means
from mtstats._tasks import split_task_column, validate_fit_input
from mtstats._variance_components import estimate_intercept_shrinkage
from mtstats.datafits import RowDatafit, make_datafit
from mtstats.datafits.grams import gram_pays
from mtstats.losses import LogisticLoss, SquaredLoss
from mtstats.solvers._restrict import can_restrict, restrict_design

NAMES = [name for name in mtstats.__all__  # other estimators join as they land
         if name.endswith(("Regressor", "Classifier"))]
CV_NAMES = [name for name in mtstats.__all__ if name.endswith("CV")]
FORMATS = [sp.csr_matrix, sp.csc_array]
TIGHT = dict(tol=1e-12, max_iter=50_000)


def _data(layout, classifier, seed=0, n_tasks=3, n_features=5, n_rows=24,
          density=0.3):
    """Sparse-ish features with non-zero column means (so centring matters).

    Long layout: the task column is the last one (task 0 is a stored zero).
    """
    rng = np.random.default_rng(seed)
    n = n_rows * n_tasks if layout == "long" else n_rows
    X = (rng.random((n, n_features)) < density) * (1.0 + rng.standard_normal(
        (n, n_features)))
    W = rng.standard_normal((n_features, n_tasks))
    if layout == "long":
        task = np.repeat(np.arange(n_tasks), n_rows)
        eta = np.einsum("ij,ji->i", X, W[:, task]) + 0.5 * task
        y = eta + 0.5 * rng.standard_normal(n)
        if classifier:
            # not balanced: a null model's log-odds are not a rounding error
            cuts = np.array([np.quantile(y[task == t], 0.4) for t in range(n_tasks)])
            y = (y > cuts[task]).astype(int)
        return np.column_stack([X, task]), y
    Y = X @ W + np.arange(n_tasks) + 0.5 * rng.standard_normal((n, n_tasks))
    return X, ((Y > np.quantile(Y, 0.4, axis=0)).astype(int) if classifier else Y)


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clone(estimator).fit(X, y)


def _estimator(name, layout, **params):
    estimator = getattr(mtstats, name)()
    defaults = dict(task_column=-1 if layout == "long" else None, **TIGHT)
    if "alpha" in estimator.get_params():
        defaults["alpha"] = 0.05
    return estimator.set_params(**{**defaults, **params})


def _assert_same_fit(estimator, layout, seed=0, formats=FORMATS, **data_kw):
    X, y = _data(layout, is_classifier(estimator), seed, **data_kw)
    dense = _fit(estimator, X, y)
    for to_sparse in formats:
        fitted = _fit(estimator, to_sparse(X), y)
        np.testing.assert_allclose(fitted.coef_, dense.coef_, rtol=0, atol=1e-8)
        np.testing.assert_allclose(fitted.intercept_, dense.intercept_, rtol=0,
                                   atol=1e-8)
        for method in ("predict", "decision_function", "predict_proba"):
            if hasattr(dense, method):  # the same model on sparse and dense X
                predicted = getattr(fitted, method)(to_sparse(X))
                np.testing.assert_allclose(predicted, getattr(fitted, method)(X),
                                           rtol=0, atol=1e-12)
                if method != "predict" or not is_classifier(dense):
                    np.testing.assert_allclose(
                        predicted, getattr(dense, method)(X), rtol=0, atol=1e-7)
    return dense


@pytest.mark.parametrize(
    "name, layout, fit_intercept",
    cases(NAMES, ["wide", "long"], [True, False],
          keep=lambda name, layout, _: kept_by_default(name, layout)))
def test_sparse_fit_equals_dense_fit(name, layout, fit_intercept):
    _assert_same_fit(_estimator(name, layout, fit_intercept=fit_intercept), layout)


VARIANTS = [
    ("GroupLassoRegressor", dict(intercept_shrinkage="auto")),
    ("GroupLassoClassifier", dict(intercept_shrinkage="auto")),
    ("IndependentRegressor", dict(intercept_shrinkage=5.0)),  # global centring
    ("GroupLassoRegressor", dict(task_weight="noise")),
    ("GroupLassoRegressor", dict(task_weight="n_samples", l1_ratio=0.5)),
    ("GroupLassoRegressor", dict(shared_mean=True)),
    ("TraceNormClassifier", dict(shared_mean=True)),
    ("IndependentClassifier", dict(penalty="l1")),
    ("PooledRegressor", dict(intercept_shrinkage=2.0)),
]


@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize(("name", "params"), VARIANTS,
                         ids=[f"{n}-{next(iter(p))}" for n, p in VARIANTS])
def test_sparse_variants_equal_dense(name, params, layout):
    _assert_same_fit(_estimator(name, layout, **params), layout,
                     formats=[sp.csr_array])


def test_sparse_missing_labels_and_float32():
    X, Y = _data("wide", False, seed=3)
    Y[::4, 1] = np.nan  # per-task Gram matrices (weights differ by column)
    estimator = _estimator("GroupLassoRegressor", "wide")
    dense, fitted = _fit(estimator, X, Y), _fit(estimator, sp.csr_array(X), Y)
    np.testing.assert_allclose(fitted.coef_, dense.coef_, atol=1e-8)
    single = _fit(estimator.set_params(tol=1e-5), sp.csr_array(X.astype(np.float32)), Y)
    assert single.coef_.dtype == np.float32
    np.testing.assert_allclose(single.coef_, dense.coef_, atol=1e-3)


def test_sparse_sample_weight_if_supported():
    estimator = _estimator("GroupLassoRegressor", "long")
    if "sample_weight" not in inspect.signature(estimator.fit).parameters:
        pytest.skip("fit has no sample_weight yet")
    X, y = _data("long", False, seed=4)
    weight = np.random.default_rng(0).uniform(0.5, 2.0, y.shape[0])
    dense = clone(estimator).fit(X, y, sample_weight=weight)
    fitted = clone(estimator).fit(sp.csr_array(X), y, sample_weight=weight)
    np.testing.assert_allclose(fitted.coef_, dense.coef_, atol=1e-8)


def test_sparse_separation_warning_matches_dense():
    X = np.array([[0.0, 1.0], [0.0, 2.0], [1.0, 0.0], [2.0, 0.0]] * 2)
    y = np.array([0, 0, 1, 1] * 2)
    for name in ("PooledClassifier", "IndependentClassifier"):  # joint, per task
        estimator = getattr(mtstats, name)(alpha=0.0, max_iter=50)
        for matrix in (X, sp.csr_array(X)):
            with pytest.warns(ConvergenceWarning, match="separable"):
                warnings.filterwarnings("ignore", "FISTA", ConvergenceWarning)
                assert not clone(estimator).fit(matrix, y).converged_


@pytest.mark.parametrize("name", cases(
    CV_NAMES,  # the only wide-layout twin here is kept too
    keep=lambda name: kept_by_default(name) or name == "GroupLassoRegressorCV"))
def test_cv_twin_fits_sparse(name):
    layout = "wide" if name.startswith("GroupLassoRegressor") else "long"
    estimator = getattr(mtstats, name)(alphas=3, eps=0.05, cv=3, tol=1e-8,
                                       max_iter=2_000, random_state=0)
    estimator.set_params(task_column=-1 if layout == "long" else None)
    X, y = _data(layout, is_classifier(estimator), seed=5)
    dense, fitted = _fit(estimator, X, y), _fit(estimator, sp.csr_array(X), y)
    assert fitted.alpha_ == pytest.approx(dense.alpha_)
    np.testing.assert_allclose(fitted.coef_, dense.coef_, atol=1e-6)
    np.testing.assert_allclose(fitted.predict(sp.csc_array(X)), dense.predict(X),
                               atol=1e-6)


def test_regularization_path_screens_sparse_designs():
    X, Y = _data("wide", False, seed=6, n_features=12)
    estimator = _estimator("GroupLassoRegressor", "wide", tol=1e-10)
    dense = mtstats.regularization_path(estimator, X, Y, n_alphas=8)
    fitted = mtstats.regularization_path(estimator, sp.csr_array(X), Y, n_alphas=8)
    np.testing.assert_allclose(fitted.coef, dense.coef, atol=1e-7)
    np.testing.assert_allclose(fitted.intercept, dense.intercept, atol=1e-7)


def test_sparse_input_checks():
    X, y = _data("long", False)
    estimator = _estimator("GroupLassoRegressor", "long")
    bad = sp.csr_array(X)
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clone(estimator).fit(bad, y)
    bad.data[0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        clone(estimator).fit(bad, y)
    with pytest.raises(ValueError, match="sparse"):
        clone(estimator).set_params(task_column=99).fit(sp.csr_array(X), y)
    fitted = clone(estimator).fit(sp.coo_array(X), y)  # other formats: as CSR
    assert get_tags(estimator).input_tags.sparse
    np.testing.assert_allclose(fitted.predict(sp.lil_array(X)),
                               clone(estimator).fit(X, y).predict(X), atol=1e-8)


def test_sparse_refuses_cuda_namespace():
    array_api_strict = pytest.importorskip("array_api_strict")
    X, y = _data("long", False)
    data, *_ = validate_fit_input(_estimator("GroupLassoRegressor", "long"),
                                  sp.csr_array(X), y, classifier=False)
    with pytest.raises(ValueError, match="CPU only"):
        build_design(data, array_api_strict)


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_large_sparse_fit_is_never_densified(layout):
    """200_000 x 2_000 at density 1e-4: dense X would take 3.2 GB."""
    rng = np.random.default_rng(0)
    n, d, n_tasks = 200_000, 2_000, 5
    X = sp.random(n, d, density=1e-4, format="csr", random_state=rng)
    if layout == "long":
        task = rng.integers(0, n_tasks, n)
        X = sp.hstack([X, sp.csr_array(task[:, None].astype(float))], format="csr")
        y = rng.standard_normal(n)
    else:
        y = rng.standard_normal((n, n_tasks))
    estimator = mtstats.GroupLassoRegressor(
        alpha=1e-4, max_iter=5, task_column=-1 if layout == "long" else None)
    sparse_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    vectors = 8 * (n * n_tasks + d * n_tasks)  # eta-sized and W-sized arrays
    tracemalloc.start()
    try:
        _fit(estimator, X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * sparse_bytes + 20 * vectors  # well under 200 MB
    assert peak < 200 * 2**20


@pytest.mark.parametrize("center", [True, False, "global"])
@pytest.mark.parametrize("pooled", [False, True])
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_sparse_design_is_the_dense_operator(layout, pooled, center):
    """Values, gradients, Gram statistics, curvature and restriction agree."""
    X, y = _data(layout, False, seed=7)
    if layout == "wide":
        y[::5, 0] = np.nan  # weights not constant down the columns
    data, *_ = validate_fit_input(_estimator("GroupLassoRegressor", layout), X, y,
                                  classifier=False)
    dense, y_d, s_d, c_d = build_design(data, np_compat, None, pooled, center)
    sparse, y_s, s_s, c_s = build_design(replace(data, X=sp.csr_array(data.X)),
                                         np_compat, None, pooled, center)
    np.testing.assert_allclose(c_s, c_d, atol=1e-14)
    assert gram_pays(sparse, s_s) and can_restrict(sparse)
    rng = np.random.default_rng(1)
    W, b = rng.standard_normal(dense.coef_shape), rng.standard_normal(data.n_tasks)
    columns = np.array([0, 2, 3])
    pairs = [(make_datafit(SquaredLoss(), sparse, y_s, s_s, gram=gram),
              make_datafit(SquaredLoss(), dense, y_d, s_d, gram=False))
             for gram in (False, True)]
    pairs.append((RowDatafit(LogisticLoss(), sparse, (y_s > 0) * 1.0, s_s),
                  RowDatafit(LogisticLoss(), dense, (y_d > 0) * 1.0, s_d)))
    pairs.append((RowDatafit(SquaredLoss(), restrict_design(sparse, columns), y_s,
                             s_s),
                  RowDatafit(SquaredLoss(), restrict_design(dense, columns), y_d,
                             s_d)))
    for fit_s, fit_d in pairs:
        V = W[:len(columns)] if fit_s.coef_shape[0] == 3 else W
        state_s, state_d = fit_s.state(V, b), fit_d.state(V, b)
        assert float(fit_s.value(state_s)) == pytest.approx(
            float(fit_d.value(state_d)), rel=1e-12)
        for a, z in zip(fit_s.linearize(state_s)[:2], fit_d.linearize(state_d)[:2],
                        strict=True):
            np.testing.assert_allclose(a, z, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(fit_s.lipschitz(), fit_d.lipschitz(), rtol=1e-6)
    if not pooled:  # the curvature blocks of a free shared mean
        blocks = [RowDatafit(SquaredLoss(), design, yy, ss).profile_blocks(
            design.forward(W, b), free_mean=True)
            for design, yy, ss in ((sparse, y_s, s_s), (dense, y_d, s_d))]
        for a, z in zip(*blocks, strict=True):
            np.testing.assert_allclose(a, z, rtol=1e-11, atol=1e-12)


def test_sparse_split_task_column_keeps_features_sparse():
    X, _ = _data("long", False)
    for matrix in (sp.csr_array(X), sp.csc_matrix(X), sp.coo_array(X)):
        features, tasks = split_task_column(matrix, -1)
        assert sp.issparse(features) and features.format in ("csr", "csc")
        np.testing.assert_array_equal(features.toarray(), X[:, :-1])
        np.testing.assert_array_equal(tasks, X[:, -1])


def test_high_dimensional_sparse_design_skips_the_gram_statistics():
    X = sp.random(2_000, 5_000, density=1e-3, format="csr", random_state=0)
    design = SparseSharedDesign(X, 10, column_means(X))
    assert not gram_pays(design, np.ones((2_000, 10)))


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_sparse_shrinkage_moments_match_dense(layout, monkeypatch):
    X, y = _data(layout, False, seed=8)
    data, *_ = validate_fit_input(_estimator("GroupLassoRegressor", layout), X, y,
                                  classifier=False)
    expected = estimate_intercept_shrinkage(data, False)
    assert 0 < expected < 1e3 * data.n_samples_per_task.max()  # not a cap
    sparse_data = replace(data, X=sp.csr_array(data.X))
    assert estimate_intercept_shrinkage(sparse_data, False) == pytest.approx(
        expected, rel=1e-9)
    monkeypatch.setattr(_sparse_moments, "GRAM_LIMIT", 0)  # LSQR instead
    assert estimate_intercept_shrinkage(sparse_data, False) == pytest.approx(
        expected, rel=1e-6)
