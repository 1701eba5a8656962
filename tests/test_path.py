"""Regularisation paths: warm-started solutions equal cold fits to the gap,
default grids scale with the data, screening changes the work, not the answer."""

import numpy as np
import pytest
from _representatives import kept_by_default
from sklearn.base import clone

import mtstats
from mtstats import regularization_path
from mtstats.datasets import make_multitask_classification, make_multitask_regression
from mtstats.losses import SquaredLoss
from mtstats.penalties import L1, L21
from mtstats.solvers import solve, solve_path
from mtstats.solvers.path import _FullProblem, _screened_solve, curvature_scale

TOL = 1e-7
# family, extra parameters, strong-convexity modulus of the penalty per unit
# alpha (None: no bound used)
FAMILIES = [
    ("GroupLasso", {}, None),
    ("GroupLasso", {"l1_ratio": 0.5}, 0.5),
    ("TraceNorm", {}, None),
    ("Independent", {"penalty": "l1"}, None),
    ("Independent", {"penalty": "l2"}, 1.0),
    ("Pooled", {"penalty": "l2"}, 1.0),
    ("Pooled", {"penalty": "l1"}, None),
    ("Clustered", {"n_clusters": 2, "ridge_ratio": 0.5}, None),
    ("SharedPrivate", {"kind": "mean", "shared_ratio": 0.5}, None),
]


KIND = {"squared": "Regressor", "logistic": "Classifier"}


def _data(loss, layout, seed=0):
    make = (make_multitask_regression if loss == "squared"
            else make_multitask_classification)
    n_samples = 60 if layout == "wide" else (30, 60)
    X, y, _ = make(n_tasks=4, n_features=8, n_samples=n_samples, layout=layout,
                   n_informative=3, random_state=seed)
    return X, y, (-1 if layout == "long" else None)


def _estimator(family, params, loss, task_column, **extra):
    suffix = "Regressor" if loss == "squared" else "Classifier"
    return getattr(mtstats, family + suffix)(task_column=task_column, tol=TOL,
                                             max_iter=50000, **params, **extra)


#: One loss and layout per family by default (the estimator and layout that
#: _representatives.py keeps), all four with ``pytest -m slow``.
@pytest.mark.parametrize(
    ("family", "params", "modulus", "loss", "layout"),
    [pytest.param(family, params, modulus, loss, layout,
                  id=f"{family}-params{i}-{modulus}-{loss}-{layout}",
                  marks=() if kept_by_default(family + KIND[loss], layout)
                  else pytest.mark.slow)
     for i, (family, params, modulus) in enumerate(FAMILIES)
     for loss in ("squared", "logistic") for layout in ("wide", "long")])
def test_path_matches_cold_fits_to_the_certified_gap(family, params, modulus,
                                                     loss, layout):
    X, y, task_column = _data(loss, layout)
    est = _estimator(family, params, loss, task_column)
    path = regularization_path(est, X, y, n_alphas=6)
    assert path.converged.all()
    assert path.coef.shape == (6, 4, 8) and path.intercept.shape == (6, 4)
    assert np.all(np.diff(path.alphas) < 0)
    for k in (1, 3, 5):
        cold = clone(est).set_params(alpha=path.alphas[k]).fit(X, y)
        # both objectives lie within their own gap above the optimum
        bound = max(path.dual_gap[k], cold.dual_gap_) + 1e-12 * cold.objective_
        assert abs(path.objective[k] - cold.objective_) <= bound
        if modulus is not None:  # strong convexity: |W - W*|^2 <= 2 gap / mu
            mu = modulus * path.alphas[k]
            rows = slice(0, 1) if family == "Pooled" else slice(None)
            distance = np.linalg.norm(path.coef[k][rows] - cold.coef_[rows])
            floor = 1e-13 * cold.objective_  # a gap at rounding level
            radius = (np.sqrt(2 * max(path.dual_gap[k], floor) / mu)
                      + np.sqrt(2 * max(cold.dual_gap_, floor) / mu))
            assert distance <= radius
        # predictions of the path's point and the cold fit agree
        np.testing.assert_allclose(path.intercept[k], cold.intercept_, atol=1e-2)


@pytest.mark.parametrize("family", ["GroupLasso", "TraceNorm", "Independent"])
def test_norm_paths_start_at_alpha_max(family):
    X, y, _ = _data("squared", "wide")
    params = {"penalty": "l1"} if family == "Independent" else {}
    est = _estimator(family, params, "squared", None)
    path = regularization_path(est, X, y, n_alphas=4, eps=1e-2)
    assert path.alphas[0] == pytest.approx(est.alpha_max(X, y))
    # zero at alpha_max, up to rounding (a singular value of order 1e-16)
    assert np.abs(path.coef[0]).max() <= 1e-12 * np.abs(path.coef[1]).max()
    np.testing.assert_allclose(path.alphas[-1] / path.alphas[0], 1e-2)


def test_ridge_grid_top_shrinks_every_direction_tenfold(rng):
    """At the top of the quadratic grid each task's ridge coefficients are at
    most 1/11 of its least-squares ones (every Hessian direction shrinks by
    lambda / (lambda + 10 L) <= 1/11)."""
    X = rng.standard_normal((80, 5)) * [1.0, 3.0, 0.5, 2.0, 1.0]
    Y = X @ rng.standard_normal((5, 3)) + rng.standard_normal((80, 3))
    est = mtstats.IndependentRegressor(tol=1e-10, max_iter=50000)
    path = regularization_path(est, X, Y, n_alphas=2)
    Xc = X - X.mean(axis=0)
    for t in range(3):
        ols = np.linalg.lstsq(Xc, Y[:, t] - Y[:, t].mean(), rcond=None)[0]
        assert np.linalg.norm(path.coef[0, t]) <= np.linalg.norm(ols) / 10
        assert np.linalg.norm(path.coef[0, t]) >= np.linalg.norm(ols) / 200


@pytest.mark.parametrize(("name", "params", "x_power"), [
    ("GroupLassoRegressor", {}, 1), ("IndependentRegressor", {}, 2),
    ("ClusteredRegressor", {"n_clusters": 2}, 2),
    ("TraceNormClassifier", {}, 1), ("PooledClassifier", {}, 2)])
def test_default_grids_move_with_the_data_as_alpha_does(name, params, x_power,
                                                        rng):
    """Norm penalties: alpha ~ x * y; quadratic ones: alpha ~ x^2, free of y."""
    X = rng.standard_normal((50, 4))
    Y = X @ rng.standard_normal((4, 3)) + rng.standard_normal((50, 3))
    est = getattr(mtstats, name)(**params)
    if "Classifier" in name:
        Y = (Y > 0).astype(int)
    grid = regularization_path(est, X, Y, n_alphas=2, eps=0.5).alphas
    scaled = regularization_path(est, 4.0 * X, Y, n_alphas=2, eps=0.5).alphas
    np.testing.assert_allclose(scaled, grid * 4.0**x_power, rtol=1e-4)
    if "Regressor" in name:
        y_scaled = regularization_path(est, X, 8.0 * Y, n_alphas=2, eps=0.5).alphas
        np.testing.assert_allclose(y_scaled, grid * (8.0 if x_power == 1 else 1.0),
                                   rtol=1e-4)


@pytest.mark.parametrize("family", ["GroupLasso", "Independent"])
def test_screening_changes_the_work_not_the_solutions(family, rng):
    X = rng.standard_normal((80, 40))
    W = np.zeros((40, 5))
    W[:3] = rng.standard_normal((3, 5))
    Y = X @ W + 0.5 * rng.standard_normal((80, 5))
    params = {"penalty": "l1"} if family == "Independent" else {}
    est = _estimator(family, params, "squared", None)
    # the strong rule needs neighbours closer than a factor 2: 30 alphas
    screened = regularization_path(est, X, Y, n_alphas=30, screening=True)
    full = regularization_path(est, X, Y, n_alphas=30, screening=False)
    assert screened.converged.all() and full.converged.all()
    bound = np.maximum(screened.dual_gap, full.dual_gap) + 1e-12
    assert np.all(np.abs(screened.objective - full.objective) <= bound)
    problem = clone(est)._prepare(X, Y)
    kept = mtstats.estimators._path.problem_path(est, problem, full.alphas).n_screened
    assert np.all(kept[:10] < 20)  # the top of the path is screened


@pytest.mark.parametrize("penalty", [L21(0.05), L1(0.02)], ids=repr)
def test_kkt_check_repairs_a_wrong_working_set(penalty, xp, rng):
    """Force the strong rule to drop the active features: the full-problem
    check must add them back and certify the gap."""
    from mtstats._designs import SharedDesign

    X = rng.standard_normal((60, 10))
    Y = X[:, :3] @ rng.standard_normal((3, 4)) + 0.1 * rng.standard_normal((60, 4))
    design = SharedDesign(xp.asarray(X - X.mean(axis=0)), 4)
    y = xp.asarray(Y - Y.mean(axis=0))
    s = xp.asarray(np.full((60, 4), 1 / 60))
    loss = SquaredLoss()
    full = _FullProblem(loss, design, y, s, True)
    W, b = full.start(None, None)
    scores = np.zeros(10)
    scores[9] = 1.0  # only a noise feature survives the "rule"
    kwargs = dict(fit_intercept=True, tol=1e-8, max_iter=20000, check_every=10,
                  warn=False)
    result, _, kept = _screened_solve(full, penalty, solve, kwargs, W, b, scores,
                                      penalty.alpha, penalty.alpha, 1e-8)
    reference = solve(loss, penalty, design, y, s, tol=1e-8, max_iter=20000)
    assert result.converged and kept >= 3
    scale = reference.null_objective
    assert abs(result.objective - reference.objective) <= 2e-8 * scale
    np.testing.assert_allclose(np.asarray(result.W), np.asarray(reference.W),
                               atol=1e-3)


def test_curvature_scale_is_the_largest_hessian_eigenvalue(xp, rng):
    from mtstats._designs import SharedDesign

    X = rng.standard_normal((50, 6)) * [1.0, 2.0, 0.5, 1.0, 3.0, 1.0]
    Xc = X - X.mean(axis=0)
    design = SharedDesign(xp.asarray(Xc), 3)
    s = xp.asarray(np.full((50, 3), 1 / 50))
    y = xp.asarray(rng.standard_normal((50, 3)))
    expected = np.linalg.eigvalsh(Xc.T @ Xc / 50)[-1]
    assert curvature_scale(SquaredLoss(), design, y, s) == pytest.approx(expected,
                                                                          rel=1e-4)


@pytest.mark.gpu
def test_cuda_path_matches_the_cpu_path():
    X, y, task_column = _data("squared", "long")
    est = _estimator("GroupLasso", {}, "squared", task_column)
    cpu = regularization_path(est, X, y, n_alphas=5)
    gpu = regularization_path(clone(est).set_params(device="cuda"), X, y, n_alphas=5)
    np.testing.assert_allclose(gpu.coef, cpu.coef, atol=1e-6)
    np.testing.assert_allclose(gpu.alphas, cpu.alphas, rtol=1e-10)


def test_solve_path_accepts_any_order_and_warns_once(rng):
    from mtstats._designs import SharedDesign

    X = rng.standard_normal((30, 4))
    design = SharedDesign(X - X.mean(axis=0), 2)
    y = rng.standard_normal((30, 2))
    s = np.full((30, 2), 1 / 30)
    path = solve_path(SquaredLoss(), L21, design, y - y.mean(axis=0), s,
                      [0.01, 0.1, 0.05], max_iter=10, tol=1e-14, warn=False)
    np.testing.assert_array_equal(path.alphas, [0.1, 0.05, 0.01])
    with pytest.warns(Warning, match="of the 3 solves of the path did not converge"):
        solve_path(SquaredLoss(), L21, design, y - y.mean(axis=0), s,
                   [0.01, 0.1, 0.05], max_iter=10, tol=1e-14)


def test_path_leaves_the_estimator_alone_and_checks_alphas(rng):
    X, Y = rng.standard_normal((30, 3)), rng.standard_normal((30, 2))
    est = mtstats.GroupLassoRegressor(alpha=0.3)
    regularization_path(est, X, Y, alphas=[0.1, 0.01])
    assert not hasattr(est, "coef_") and est.alpha == 0.3
    for bad in ([], [0.1, -1.0], [np.nan]):
        with pytest.raises(ValueError, match="alphas must be"):
            regularization_path(est, X, Y, alphas=bad)
    with pytest.raises(ValueError, match="n_clusters=5 exceeds"):
        regularization_path(mtstats.ClusteredRegressor(5), X, Y, n_alphas=2)


def test_alternating_shared_subspace_path_runs(rng):
    X = rng.standard_normal((40, 5))
    Y = X @ np.outer(rng.standard_normal(5), [1.0, 0.5, -1.0]) + rng.standard_normal(
        (40, 3))
    est = mtstats.SharedPrivateRegressor(solver="alternating", max_outer_iter=5)
    path = regularization_path(est, X, Y, n_alphas=3)
    assert np.all(np.isfinite(path.coef)) and path.converged.all()
    cold = clone(est).set_params(alpha=path.alphas[1]).fit(X, Y)
    assert path.objective[1] <= cold.objective_ * (1 + 1e-3)
