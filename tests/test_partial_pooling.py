"""Partial pooling: the free shared mean (``shared_mean``) and intercept shrinkage.

Expected values come from cvxpy (an independent formulation of the whole
objective, with the common intercept as a variable), from closed forms (the
balanced-design BLUP of a random intercept; the within-task least-squares
fit as the limit of strong deviation penalties) and from the simulation's
known truth.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from mtstats import (
    GroupLassoClassifier,
    GroupLassoRegressor,
    IndependentClassifier,
    IndependentRegressor,
    PooledClassifier,
    PooledRegressor,
    TraceNormClassifier,
    TraceNormRegressor,
)
from mtstats.datafits import GramDatafit, PoolingDatafit, RowDatafit
from mtstats.penalties import L21, TraceNorm
from mtstats.penalties.pooling import PartialPooling

FIT_TOL = 1e-10


def _long_data(rng, n_tasks=5, n_features=4, sizes=(6, 30), classifier=False,
               spread=0.3):
    sizes = rng.integers(sizes[0], sizes[1], n_tasks)
    w0 = rng.standard_normal(n_features)
    rows, ys = [], []
    for t, n in enumerate(sizes):
        X = rng.standard_normal((n, n_features)) + 0.3 * rng.standard_normal()
        w = w0 + spread * rng.standard_normal(n_features)
        eta = X @ w + 0.5 * rng.standard_normal()
        if classifier:
            y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
        else:
            y = eta + rng.standard_normal(n)
        rows.append(np.column_stack([X, np.full(n, t)]))
        ys.append(y)
    return np.vstack(rows), np.concatenate(ys)


def _cvxpy_fit(X, y, structure, alpha, lam, classifier, shared_mean):
    """The full objective in cvxpy: mean losses + alpha g(W P) + q(u), u the
    intercepts at the grand mean of the features."""
    task = X[:, -1].astype(int)
    F = X[:, :-1]
    T, d = task.max() + 1, F.shape[1]
    W, b, mu = cp.Variable((d, T)), cp.Variable(T), cp.Variable()
    terms = []
    for t in range(T):
        rows = task == t
        eta = F[rows] @ W[:, t] + b[t]
        if classifier:
            loss = cp.sum(cp.logistic(eta) - cp.multiply(y[rows], eta))
        else:
            loss = 0.5 * cp.sum_squares(eta - y[rows])
        terms.append(loss / rows.sum())
    V = W - cp.sum(W, axis=1, keepdims=True) / T if shared_mean else W
    if structure == "l21":
        penalty = alpha * cp.sum(cp.norm(V, 2, axis=1))
    elif structure == "trace":
        penalty = alpha * cp.normNuc(V)
    else:
        penalty = 0.5 * alpha * cp.sum_squares(V)
    counts = np.bincount(task)
    # the random intercepts are those at the grand mean of the features
    at_mean = b + F.mean(axis=0) @ W
    prior = (0.5 * cp.sum(cp.multiply(lam / counts, cp.square(at_mean - mu)))
             if lam else 0)
    problem = cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms)) + penalty + prior))
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-11, tol_gap_rel=1e-11,
                  tol_feas=1e-11)
    return problem.value, W.value.T, b.value


ESTIMATORS = {
    ("l21", False): GroupLassoRegressor, ("l21", True): GroupLassoClassifier,
    ("trace", False): TraceNormRegressor, ("trace", True): TraceNormClassifier,
    ("ridge", False): IndependentRegressor, ("ridge", True): IndependentClassifier,
}


@pytest.mark.parametrize("classifier", [False, True], ids=["squared", "logistic"])
@pytest.mark.parametrize("structure", ["l21", "trace", "ridge"])
@pytest.mark.parametrize("shared_mean,lam", [(True, 0.0), (False, 7.0), (True, 7.0)],
                         ids=["mean", "intercepts", "both"])
def test_matches_cvxpy(structure, classifier, shared_mean, lam):
    rng = np.random.default_rng(3)
    X, y = _long_data(rng, classifier=classifier)
    alpha = 0.05
    reference, coef, intercept = _cvxpy_fit(X, y, structure, alpha, lam, classifier,
                                            shared_mean)
    est = ESTIMATORS[structure, classifier](
        alpha, shared_mean=shared_mean, intercept_shrinkage=lam, task_column=-1,
        tol=FIT_TOL, max_iter=50000).fit(X, y)
    assert est.converged_
    assert est.objective_ == pytest.approx(reference, rel=1e-6)
    np.testing.assert_allclose(est.coef_, coef, atol=2e-4)
    np.testing.assert_allclose(est.intercept_, intercept, atol=2e-4)
    # the certified gap is a true bound on the distance to cvxpy's optimum
    assert est.objective_ - reference <= max(est.dual_gap_, 0) + 1e-8 * reference
    if shared_mean:
        np.testing.assert_allclose(est.mean_coef_, coef.mean(axis=0), atol=2e-4)


@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_gram_and_row_datafits_agree(lam):
    rng = np.random.default_rng(4)
    X, y = _long_data(rng, n_tasks=6)
    est = GroupLassoRegressor(0.02, shared_mean=True, intercept_shrinkage=lam,
                              task_column=-1)
    problem = est._prepare(X, y)
    penalty = est._pooling(est._solver_penalty(L21(0.02), problem.scale), problem)
    from mtstats.datafits.grams import task_grams
    from mtstats.solvers import solve

    rows = PoolingDatafit(RowDatafit(problem.loss, problem.design, problem.y,
                                     problem.s), True, penalty.intercept_prior)
    gram = PoolingDatafit(GramDatafit(task_grams(problem.design, problem.y,
                                                 problem.s), problem.design,
                                      problem.y.dtype), True,
                          penalty.intercept_prior)
    a = solve(problem.loss, penalty, problem.design, problem.y, problem.s,
              tol=1e-12, max_iter=20000, datafit=rows)
    b = solve(problem.loss, penalty, problem.design, problem.y, problem.s,
              tol=1e-12, max_iter=20000, datafit=gram)
    assert a.converged and b.converged
    np.testing.assert_allclose(a.W, b.W, atol=1e-7)
    np.testing.assert_allclose(a.b, b.b, atol=1e-7)


def _balanced_within_centred(rng, n_tasks, n, d):
    """Balanced tasks whose features have mean zero in every task."""
    X = rng.standard_normal((n_tasks, n, d))
    X -= X.mean(axis=1, keepdims=True)
    task_effect = 2.0 * rng.standard_normal(n_tasks)
    y = X @ rng.standard_normal(d) + task_effect[:, None] + rng.standard_normal(
        (n_tasks, n))
    task = np.repeat(np.arange(n_tasks), n)
    return np.column_stack([X.reshape(-1, d), task]), y.ravel()


@pytest.mark.parametrize("estimator", [PooledRegressor, GroupLassoRegressor,
                                       TraceNormRegressor])
@pytest.mark.parametrize("lam", [0.5, 4.0, 40.0])
def test_intercepts_are_the_balanced_blup(estimator, lam):
    """With features centred in every task the intercepts decouple from the
    coefficients: b_t = mu + n/(n + lambda) (ybar_t - mu), mu the grand mean."""
    rng = np.random.default_rng(5)
    n = 12
    X, y = _balanced_within_centred(rng, 9, n, 3)
    est = estimator(0.01, intercept_shrinkage=lam, task_column=-1,
                    tol=1e-12, max_iter=20000).fit(X, y)
    ybar = y.reshape(9, n).mean(axis=1)
    expected = ybar.mean() + n / (n + lam) * (ybar - ybar.mean())
    np.testing.assert_allclose(est.intercept_, expected, atol=1e-8)


def test_auto_shrinkage_estimates_the_variance_ratio():
    """lambda = sigma^2 / tau^2 recovered on a large random-intercept design."""
    rng = np.random.default_rng(6)
    n_tasks, sigma, tau = 400, 2.0, 0.5
    sizes = rng.integers(5, 30, n_tasks)
    task = np.repeat(np.arange(n_tasks), sizes)
    X = rng.standard_normal((task.size, 3)) + rng.standard_normal((n_tasks, 3))[task]
    y = (X @ np.array([1.0, -1.0, 0.5]) + tau * rng.standard_normal(n_tasks)[task]
         + sigma * rng.standard_normal(task.size))
    est = PooledRegressor(0.0, intercept_shrinkage="auto", task_column=-1).fit(
        np.column_stack([X, task]), y)
    truth = sigma**2 / tau**2
    # sd of the moment estimator of tau^2 here is about 0.25 tau^2 (4 sd: 1)
    assert truth / 2 < est.intercept_shrinkage_ < truth * 2
    assert est.intercept_shrinkage_ == pytest.approx(truth, rel=0.5)


def test_auto_shrinkage_pools_fully_without_task_effects():
    rng = np.random.default_rng(7)
    task = np.repeat(np.arange(50), 20)
    X = rng.standard_normal((1000, 2))
    y = X @ np.array([1.0, 2.0]) + rng.standard_normal(1000)
    est = PooledRegressor(0.0, intercept_shrinkage="auto", task_column=-1).fit(
        np.column_stack([X, task]), y)
    lam = est.intercept_shrinkage_
    # tau^2 estimated at about 0 (or a large ratio): the intercepts keep less
    # than a quarter of their own evidence
    assert 20 / (20 + lam) < 0.25


@pytest.mark.parametrize("estimator,structure", [
    (GroupLassoRegressor, "l21"), (TraceNormRegressor, "trace")])
def test_strong_penalty_gives_the_within_task_least_squares_fit(estimator, structure):
    """At alpha >= alpha_max every deviation is zero and the free mean model is
    the fixed-effects (within) least-squares fit."""
    rng = np.random.default_rng(8)
    X, y = _long_data(rng, n_tasks=6, sizes=(15, 40))
    est = estimator(1.0, shared_mean=True, task_column=-1, tol=1e-12)
    top = est.alpha_max(X, y)
    est.set_params(alpha=1.01 * top).fit(X, y)
    task = X[:, -1].astype(int)
    F = X[:, :-1]
    means = np.stack([F[task == t].mean(axis=0) for t in range(6)])
    ybar = np.array([y[task == t].mean() for t in range(6)])
    # equal task weights: every row of task t weighs 1/n_t
    weights = 1.0 / np.bincount(task)[task]
    ols = LinearRegression(fit_intercept=False).fit(F - means[task], y - ybar[task],
                                                    sample_weight=weights)
    np.testing.assert_allclose(est.coef_, np.tile(ols.coef_, (6, 1)), atol=1e-7)
    np.testing.assert_allclose(est.mean_coef_, ols.coef_, atol=1e-7)
    below = estimator(0.9 * top, shared_mean=True, task_column=-1).fit(X, y)
    assert np.ptp(below.coef_, axis=0).max() > 1e-6


def test_shared_mean_recovers_the_population_mean():
    rng = np.random.default_rng(9)
    n_tasks, d = 30, 4
    w0 = np.array([2.0, -1.0, 0.5, 0.0])
    rows, ys = [], []
    for t in range(n_tasks):
        X = rng.standard_normal((60, d))
        ys.append(X @ (w0 + 0.2 * rng.standard_normal(d)) + rng.standard_normal(60))
        rows.append(np.column_stack([X, np.full(60, t)]))
    X, y = np.vstack(rows), np.concatenate(ys)
    est = IndependentRegressor(0.05, shared_mean=True, task_column=-1).fit(X, y)
    # standard error of each mean coordinate ~ sqrt(0.2^2/30 + 1/1800) = 0.045
    np.testing.assert_allclose(est.mean_coef_, w0, atol=0.2)
    plain = IndependentRegressor(5.0, task_column=-1).fit(X, y)
    # a ridge towards zero of the same strength shrinks the mean; this does not
    assert np.abs(plain.coef_.mean(axis=0) - w0).max() > 0.5


def test_one_class_and_one_row_tasks_fit_with_shrinkage():
    rng = np.random.default_rng(10)
    X, y = _long_data(rng, n_tasks=6, classifier=True)
    task = X[:, -1]
    y[task == 0] = 1.0  # task 0: one class
    keep = (task != 1) | (np.cumsum(task == 1) == 1)  # task 1: one row
    X, y = X[keep], y[keep]
    with pytest.raises(ValueError, match="intercept_shrinkage"):
        GroupLassoClassifier(0.05, task_column=-1).fit(X, y)
    est = GroupLassoClassifier(0.05, intercept_shrinkage="auto",
                               task_column=-1).fit(X, y)
    assert est.converged_ and np.all(np.isfinite(est.intercept_))
    proba = est.predict_proba(X)[:, 1]
    assert np.all((proba > 0) & (proba < 1))
    # the one-class task leans to its class, but less than all the way
    assert 0.5 < proba[X[:, -1] == 0].mean() < 1.0
    reg_X, reg_y = _long_data(rng, n_tasks=5)
    single = np.column_stack([rng.standard_normal((1, 4)), [[9]]])
    reg_X, reg_y = np.vstack([reg_X, single]), np.append(reg_y, 50.0)
    est = PooledRegressor(0.01, intercept_shrinkage=10.0, task_column=-1).fit(
        reg_X, reg_y)
    mu = np.median(est.intercept_)
    # the one-row task keeps about 1/(1 + 10) of its own deviation
    assert abs(est.intercept_[-1] - mu) < 0.3 * abs(50.0 - mu)


def test_no_pooling_keeps_the_plain_problem():
    """Both options off: no wrapper, the penalty is the plain one."""
    rng = np.random.default_rng(11)
    X, y = _long_data(rng)
    est = GroupLassoRegressor(0.05, task_column=-1)
    problem = est._prepare(X, y)
    penalty = L21(0.05)
    assert est._pooling(penalty, problem) is penalty
    pooled = GroupLassoRegressor(0.05, shared_mean=True, task_column=-1)
    assert isinstance(pooled._pooling(penalty, problem), PartialPooling)


def test_partial_pooling_penalty_properties():
    rng = np.random.default_rng(12)
    W = rng.standard_normal((5, 7))
    for inner in (L21(0.3), TraceNorm(0.3)):
        pen = PartialPooling(inner, free_mean=True)
        Z = pen.prox(W, 0.7)
        # the mean model is untouched, the deviations are the inner prox
        np.testing.assert_allclose(Z.mean(axis=1), W.mean(axis=1), atol=1e-12)
        centred = W - W.mean(axis=1, keepdims=True)
        np.testing.assert_allclose(Z - Z.mean(axis=1, keepdims=True),
                                   inner.prox(centred, 0.7), atol=1e-12)
        # prox optimality against random competitors
        def objective(V, pen=pen):
            return 0.5 * np.sum((V - W) ** 2) + 0.7 * float(pen.value(V))
        for _ in range(20):
            assert objective(Z) <= objective(Z + 1e-3 * rng.standard_normal(W.shape))
    with pytest.raises(ValueError, match="L1"):
        from mtstats.penalties import L1
        PartialPooling(L1(0.1), free_mean=True)
    with pytest.raises(ValueError, match="penalty='l2'"):
        IndependentRegressor(penalty="l1", shared_mean=True, task_column=-1).fit(
            *_long_data(rng))


@pytest.mark.parametrize("estimator", [PooledClassifier, GroupLassoClassifier])
def test_classifier_intercept_shrinkage_moves_towards_the_common_intercept(estimator):
    rng = np.random.default_rng(13)
    X, y = _long_data(rng, n_tasks=8, classifier=True)
    free = estimator(0.05, task_column=-1).fit(X, y)
    shrunk = estimator(0.05, intercept_shrinkage=1e4, task_column=-1).fit(X, y)
    grand = X[:, :-1].mean(axis=0)

    def at_mean(est):  # the intercepts the shrinkage acts on
        return est.intercept_ + est.coef_ @ grand

    assert np.std(at_mean(shrunk)) < 0.05 * np.std(at_mean(free))
