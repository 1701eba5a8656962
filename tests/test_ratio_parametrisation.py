"""Clustered and shared/private models: ``alpha`` is an overall strength and a
ratio splits it (issue 9, point 3).

``ClusteredRegressor(alpha, ridge_ratio=r)`` is MALSAR's CMTL at
``rho1 = alpha (1 - r)``, ``rho2 = alpha r``; ``SharedPrivate*`` maps
``shared_ratio=s`` to the same pair (cASO) or to ``alpha (1 - s)`` on the
private deviations and ``alpha s`` on the shared model (``kind="mean"``).
"""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold

import mtstats
from mtstats._designs import SharedDesign
from mtstats.datasets import make_multitask_classification, make_multitask_regression
from mtstats.losses import SquaredLoss
from mtstats.penalties import ClusterNorm, SharedMean
from mtstats.solvers import solve

#: (estimator, the penalty class at MALSAR's (rho1, rho2) of alpha and ratio)
MODELS = {
    "clustered": (lambda a, r: mtstats.ClusteredRegressor(2, alpha=a, ridge_ratio=r),
                  lambda a, r: ClusterNorm(a * (1 - r), a * r, 2)),
    "subspace": (lambda a, r: mtstats.SharedPrivateRegressor(
                     "subspace", n_components=2, alpha=a, shared_ratio=r),
                 lambda a, r: ClusterNorm(a * (1 - r), a * r, 2)),
    "mean-l2": (lambda a, r: mtstats.SharedPrivateRegressor(
                    "mean", alpha=a, shared_ratio=r),
                lambda a, r: SharedMean(a * (1 - r), a * r, "l2")),
    "mean-l1": (lambda a, r: mtstats.SharedPrivateRegressor(
                    "mean", alpha=a, shared_ratio=r, shared_penalty="l1"),
                lambda a, r: SharedMean(a * (1 - r), a * r, "l1")),
}


def _wide(seed=0, n=40, d=6, T=5, structure="clustered"):
    X, Y, _ = make_multitask_regression(n_tasks=T, n_features=d, n_samples=n,
                                        structure=structure, n_clusters=2,
                                        layout="wide", random_state=seed)
    return X, Y


# ------------------------------------------------------------------ the penalty


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("ratio", [0.05, 0.5, 0.95])
def test_penalty_is_linear_in_alpha_at_a_fixed_ratio(name, ratio, rng):
    make, _ = MODELS[name]
    W = rng.standard_normal((6, 5))
    unit = float(make(1.0, ratio)._make_penalty().value(W))
    for alpha in (1e-3, 0.37, 2.0, 1e4):
        value = float(make(alpha, ratio)._make_penalty().value(W))
        assert value == pytest.approx(alpha * unit, rel=1e-12)


@pytest.mark.parametrize("name", list(MODELS))
def test_estimator_penalty_is_the_penalty_class_at_mapped_strengths(name, rng):
    make, reference = MODELS[name]
    W = rng.standard_normal((6, 5))
    for alpha, ratio in [(0.02, 0.5), (3.0, 0.1), (0.4, 0.9)]:
        ours = make(alpha, ratio)._make_penalty()
        assert float(ours.value(W)) == pytest.approx(
            float(reference(alpha, ratio).value(W)), rel=1e-12)


def test_cluster_penalty_is_a_ridge_share_on_exact_clusters(rng):
    """Tasks exactly on k cluster centres (rank W <= k): the convex penalty is
    its hard-clustering form with zero spread, ``alpha * r * ||W||_F^2``; on
    any W the hard form at any clustering bounds it from above."""
    centres = rng.standard_normal((6, 2))
    labels = np.array([0, 1, 0, 1, 1])
    W = centres[:, labels]
    for alpha, r in [(0.3, 0.2), (5.0, 0.7)]:
        est = mtstats.ClusteredRegressor(2, alpha=alpha, ridge_ratio=r)
        value = float(est._make_penalty().value(W))
        assert value == pytest.approx(alpha * r * np.sum(W**2), rel=1e-10)
        noisy = W + 0.3 * rng.standard_normal(W.shape)
        means = np.stack([noisy[:, labels == c].mean(axis=1) for c in (0, 1)], 1)
        spread = np.sum((noisy - means[:, labels]) ** 2)
        hard = alpha * ((1 - r) * spread + r * np.sum(noisy**2))
        assert float(est._make_penalty().value(noisy)) <= hard * (1 + 1e-12)


def test_shared_mean_penalty_formula(rng):
    W = rng.standard_normal((6, 5))
    w0 = W.mean(axis=1)
    V = W - w0[:, None]
    for alpha, s in [(0.5, 0.0), (0.5, 0.3), (2.0, 0.9)]:
        l2 = mtstats.SharedPrivateRegressor("mean", alpha=alpha, shared_ratio=s)
        l1 = mtstats.SharedPrivateRegressor("mean", alpha=alpha, shared_ratio=s,
                                            shared_penalty="l1")
        assert float(l2._make_penalty().value(W)) == pytest.approx(
            alpha * (s * np.sum(w0**2) + (1 - s) * np.sum(V**2)), rel=1e-12)
        assert float(l1._make_penalty().value(W)) == pytest.approx(
            alpha * (s * np.sum(np.abs(w0)) + (1 - s) * np.sum(V**2)), rel=1e-12)


# ------------------------------------------------------- the optimum, mapped


@pytest.mark.parametrize("name", list(MODELS))
def test_fit_is_the_optimum_of_the_rho_formulation(name):
    """``fit`` at (alpha, ratio) lands on the minimiser that FISTA finds for
    the penalty class at MALSAR's (rho1, rho2), solved directly on the raw
    design (no rescaling, no estimator)."""
    make, reference = MODELS[name]
    X, Y = _wide(structure="shared_mean" if name.startswith("mean") else "clustered")
    alpha, ratio = 0.3, 0.25
    est = make(alpha, ratio).set_params(tol=1e-12, max_iter=100000).fit(X, Y)
    n, T = Y.shape
    result = solve(SquaredLoss(), reference(alpha, ratio), SharedDesign(X, T), Y,
                   np.full((n, T), 1.0 / n), tol=1e-12, max_iter=100000)
    assert result.converged and est.converged_
    np.testing.assert_allclose(est.coef_, np.asarray(result.W).T, atol=1e-6)
    np.testing.assert_allclose(est.intercept_, np.asarray(result.b), atol=1e-6)
    assert est.objective_ == pytest.approx(result.objective, rel=1e-9)


def test_doubling_alpha_is_doubling_both_strengths():
    """Where the old (alpha, beta) pair levelled off, the new alpha scales the
    whole penalty: fitting at 2 alpha equals the rho formulation at (2 rho1,
    2 rho2)."""
    X, Y = _wide()
    est = mtstats.ClusteredRegressor(2, alpha=0.2, ridge_ratio=0.3, tol=1e-12,
                                     max_iter=100000)
    once, twice = est.fit(X, Y).coef_, est.set_params(alpha=0.4).fit(X, Y).coef_
    n, T = Y.shape
    direct = solve(SquaredLoss(), ClusterNorm(2 * 0.2 * 0.7, 2 * 0.2 * 0.3, 2),
                   SharedDesign(X, T), Y, np.full((n, T), 1.0 / n), tol=1e-12,
                   max_iter=100000)
    np.testing.assert_allclose(twice, np.asarray(direct.W).T, atol=1e-6)
    assert np.linalg.norm(twice) < np.linalg.norm(once)


def test_unpenalised_shared_mean_reaches_the_cvxpy_optimum():
    """shared_ratio=0: Evgeniou & Pontil's mean-regularised MTL, w0 free."""
    X, y, _ = make_multitask_regression(n_tasks=4, n_features=5, n_samples=(20, 40),
                                        structure="shared_mean", random_state=1)
    alpha = 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = mtstats.SharedPrivateRegressor("mean", alpha=alpha, shared_ratio=0.0,
                                             task_column=-1, tol=1e-10,
                                             max_iter=100000).fit(X, y)
    # the free shared mean is profiled, so the fit is certified by its gap
    # (dual_gap_ may come out negative at the level of rounding, as documented)
    assert est.converged_ and -1e-14 * est.objective_ <= est.dual_gap_ <= 1e-9
    tasks = X[:, -1].astype(int)
    blocks = [(X[tasks == t, :-1], y[tasks == t]) for t in range(4)]
    W, b = cp.Variable((5, 4)), cp.Variable(4)
    V = W - cp.reshape(cp.sum(W, axis=1) / 4, (5, 1), order="F") @ np.ones((1, 4))
    fit = sum(0.5 * cp.sum_squares(y_t - X_t @ W[:, t] - b[t]) / len(y_t)
              for t, (X_t, y_t) in enumerate(blocks))
    problem = cp.Problem(cp.Minimize(fit + alpha * cp.sum_squares(V)))
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-11, tol_gap_rel=1e-11)
    np.testing.assert_allclose(est.coef_, W.value.T, atol=1e-5)
    assert est.objective_ == pytest.approx(problem.value, rel=1e-7)


def test_unpenalised_shared_mean_on_pooled_separable_classes_warns():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    tasks = np.repeat([0, 1, 2], 20)
    y = (X[:, 0] > 0).astype(int)  # one hyperplane separates every task
    est = mtstats.SharedPrivateClassifier("mean", alpha=0.1, shared_ratio=0.0,
                                          task_column=-1, max_iter=200)
    with pytest.warns(ConvergenceWarning, match="shared_ratio=0"):
        est.fit(np.column_stack([X, tasks]), y)
    assert not est.converged_


# -------------------------------------------------------------- validation


@pytest.mark.parametrize(("est", "match"), [
    (mtstats.ClusteredRegressor(ridge_ratio=0.0), "ridge_ratio"),
    (mtstats.ClusteredRegressor(ridge_ratio=1.0), "ridge_ratio"),
    (mtstats.SharedPrivateRegressor(shared_ratio=1.0), "shared_ratio"),
    (mtstats.SharedPrivateRegressor("subspace", shared_ratio=0.0), "kind='subspace'"),
    (mtstats.ClusteredRegressorCV(ridge_ratio=[0.5, 1.0]), "ridge_ratio"),
    (mtstats.SharedPrivateRegressorCV("mean", shared_ratio=[0.5, 1.0]),
     "shared_ratio"),
    (mtstats.SharedPrivateRegressorCV(shared_ratio=[0.0, 0.5]), "kind='subspace'"),
])
def test_ratios_outside_their_range_are_refused(est, match):
    X, Y = _wide()
    if hasattr(est, "alphas"):
        est.set_params(alphas=3, cv=2)
    with pytest.raises(ValueError, match=match):
        est.fit(X, Y)


def test_beta_is_gone():
    for cls in (mtstats.ClusteredRegressor, mtstats.ClusteredClassifierCV,
                mtstats.SharedPrivateClassifier, mtstats.SharedPrivateRegressorCV):
        assert "beta" not in cls().get_params()


# ------------------------------------------------------------------ CV twins


@pytest.mark.parametrize(("cls", "params", "ratio"), [
    (mtstats.ClusteredRegressorCV, {"n_clusters": 2}, "ridge_ratio"),
    (mtstats.SharedPrivateRegressorCV, {"kind": "mean"}, "shared_ratio"),
    (mtstats.SharedPrivateRegressorCV, {"n_components": 2}, "shared_ratio"),
])
def test_cv_twin_searches_alpha_and_the_ratio(cls, params, ratio):
    X, y, _ = make_multitask_regression(n_tasks=5, n_features=4, n_samples=(30, 50),
                                        structure="clustered", n_clusters=2,
                                        random_state=0)
    ratios = [0.0, 0.3, 0.8] if params.get("kind") == "mean" else [0.1, 0.5, 0.9]
    cv = cls(**params, **{ratio: ratios}, task_column=-1, alphas=5, cv=3,
             random_state=0).fit(X, y)
    assert cv.scores_path_.shape == (3, 5, 3) and cv.alphas_.shape == (3, 5)
    mean = cv.scores_path_.mean(axis=2)
    i, j = np.unravel_index(np.argmax(mean), mean.shape)
    assert getattr(cv, ratio + "_") == ratios[i]
    assert cv.alpha_ == cv.alphas_[i, j]
    # at a fixed ratio the penalty is linear in alpha: one grid for every ratio
    np.testing.assert_allclose(cv.alphas_, np.broadcast_to(cv.alphas_[0], (3, 5)))
    base = cls._base_class()(**params, alpha=cv.alpha_,
                             **{ratio: getattr(cv, ratio + "_")}, task_column=-1)
    np.testing.assert_allclose(cv.coef_, base.fit(X, y).coef_, atol=1e-10)


def test_cv_twin_default_ratio_lists():
    assert mtstats.ClusteredRegressorCV().ridge_ratio == (0.02, 0.2, 0.9)
    assert mtstats.SharedPrivateClassifierCV().shared_ratio == (0.02, 0.2, 0.9)
    X, Y = _wide(T=4)
    cv = mtstats.ClusteredRegressorCV(2, alphas=4, cv=KFold(3)).fit(X, Y)
    assert cv.scores_path_.shape == (3, 4, 3)
    assert cv.ridge_ratio_ in (0.02, 0.2, 0.9)


def test_a_single_ratio_keeps_the_one_path_shapes():
    X, Y = _wide(T=4)
    cv = mtstats.SharedPrivateRegressorCV("mean", shared_ratio=0.2, alphas=4,
                                          cv=KFold(3)).fit(X, Y)
    assert cv.scores_path_.shape == (4, 3) and cv.alphas_.shape == (4,)
    assert cv.shared_ratio_ == 0.2


def test_classifier_twin_with_the_default_ratios():
    X, y, _ = make_multitask_classification(n_tasks=4, n_features=3,
                                            n_samples=(40, 60), structure="clustered",
                                            n_clusters=2, random_state=0)
    cv = mtstats.ClusteredClassifierCV(2, task_column=-1, alphas=4, cv=3,
                                       random_state=0).fit(X, y)
    assert cv.scores_path_.shape == (3, 4, 3)
    assert cv.ridge_ratio_ in (0.02, 0.2, 0.9) and cv.alpha_ in cv.alphas_
