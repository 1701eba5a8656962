"""Correctness of the FISTA solver behind every mtstats estimator.

The objective of every estimator is

    sum_t task_weight_t * mean_{i in t} loss(x_i^T w_t + b_t, y_i) + penalty(W)

with W (n_features x n_tasks) and unpenalised per-task intercepts b. The tests
check it against

1. an independent cvxpy/Clarabel formulation of the same objective (every
   loss x penalty x layout, pooled baselines, task weights);
2. scikit-learn's MultiTaskLasso / MultiTaskElasticNet;
3. per-task scikit-learn Lasso, Ridge and LogisticRegression;
4. layout equivalences (long vs wide, NaN-masked wide vs observed rows);
5. solver properties (alpha_max, duality gap, warm start, convergence
   warnings, float32).

The mtstats objective is always recomputed here with NumPy from ``coef_`` and
``intercept_``; ``objective_`` is only compared with that recomputation.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import (
    Lasso,
    LogisticRegression,
    MultiTaskElasticNet,
    MultiTaskLasso,
    Ridge,
)

import mtstats

SEEDS = (0, 1, 2)
N_FEATURES = 6
N_TASKS = 4
N_WIDE = 50
N_LONG = (12, 25, 40, 60)  # unequal task sizes of the long layout
MISSING = 0.2  # share of NaN-masked labels in the wide layout

FIT_TOL = 1e-10  # mtstats tol for the cvxpy comparisons
# mtstats tol where coefficients are compared with scikit-learn. The gap is
# quadratic in the coefficient error: tol=1e-12 certifies coefficients only
# to ~1e-6 (and misses 1e-6 on Ridge, long layout); 1e-14 is about the
# finest gap float64 resolves on objectives of order one.
COEF_TOL = 1e-14
LAYOUT_FIT_TOL = 1e-12  # mtstats tol of the layout equivalences
OBJ_RTOL = 1e-6  # mtstats objective vs cvxpy
SELF_RTOL = 1e-8  # objective_ vs the NumPy recomputation
COEF_ATOL = 1e-6  # coefficients vs scikit-learn
LAYOUT_ATOL = 1e-8  # coefficients across equivalent layouts
CLARABEL = dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10,
                max_iter=500)

# --------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------


@dataclass
class Problem:
    """What ``fit`` gets, plus each task's observed rows for the references."""

    X: np.ndarray
    y: np.ndarray
    task_column: int | None
    blocks: list  # [(X_t, y_t)] in task order (tasks are labelled 0..T-1)

    @property
    def n_tasks(self):
        return len(self.blocks)

    @property
    def n_features(self):
        return self.blocks[0][0].shape[1]

    @property
    def n_samples(self):
        return np.array([y_t.shape[0] for _, y_t in self.blocks])


def _targets(rng, eta, loss, task=None):
    """Noisy targets; logistic ones are balanced within each task.

    Balanced classes keep the intercepts well determined: with one positive
    among 50 labels the objective is nearly flat along the intercept and no
    solver pins the coefficients to 1e-6.
    """
    if loss == "squared":
        return eta + rng.standard_normal(eta.shape)
    if task is None:
        eta = eta - np.median(eta, axis=0)
    else:
        medians = np.array([np.median(eta[task == t]) for t in range(task.max() + 1)])
        eta = eta - medians[task]
    return (eta + rng.logistic(size=eta.shape) > 0).astype(np.float64)


def _both_classes(y, rows):
    """Make sure the observed ``rows`` of one task hold both classes."""
    if np.unique(y[rows]).shape[0] < 2:
        y[rows[0]], y[rows[1]] = 0.0, 1.0


def make_problem(seed, loss, layout, n_features=N_FEATURES, n_tasks=N_TASKS,
                 missing=MISSING):
    """Random multitask problem.

    layout: "wide" (shared X, ~20% NaN-masked labels), "wide_full" (shared X,
    every label observed), "long" (task column last, unequal n_t, shuffled
    rows) or "long_full" (the wide_full problem in the long layout).
    """
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n_features, n_tasks))
    W *= (rng.random(n_features) < 0.7)[:, None]  # some shared zero rows
    b = rng.standard_normal(n_tasks)
    shift = rng.standard_normal(n_features)  # non-centred features
    if layout in ("wide", "wide_full", "long_full"):
        X = rng.standard_normal((N_WIDE, n_features)) + shift
        Y = _targets(rng, X @ W + b, loss)
        if layout == "wide":
            observed = rng.random(Y.shape) >= missing
        else:
            observed = np.ones(Y.shape, dtype=bool)
        for t in range(n_tasks):
            rows = np.flatnonzero(observed[:, t])
            assert rows.shape[0] >= 5
            if loss == "logistic":
                _both_classes(Y[:, t], rows)
        blocks = [(X[observed[:, t]], Y[observed[:, t], t]) for t in range(n_tasks)]
        if layout == "long_full":
            X_long = np.vstack([np.column_stack([X, np.full(N_WIDE, t)])
                                for t in range(n_tasks)])
            return Problem(X_long, Y.T.ravel(), n_features, blocks)
        Y = np.where(observed, Y, np.nan)
        return Problem(X, Y, None, blocks)
    assert layout == "long"
    sizes = rng.permutation(np.array(N_LONG[:n_tasks]))
    task = np.repeat(np.arange(n_tasks), sizes)
    rng.shuffle(task)
    X = rng.standard_normal((task.shape[0], n_features)) + shift
    y = _targets(rng, np.einsum("ij,ji->i", X, W[:, task]) + b[task], loss, task)
    if loss == "logistic":
        for t in range(n_tasks):
            _both_classes(y, np.flatnonzero(task == t))
    blocks = [(X[task == t], y[task == t]) for t in range(n_tasks)]
    return Problem(np.column_stack([X, task]), y, n_features, blocks)


# --------------------------------------------------------------------------
# Models: estimator, NumPy penalty, cvxpy penalty
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """One penalty: which estimator fits it and how to evaluate it."""

    name: str
    family: str  # estimator name without Regressor/Classifier
    params: tuple  # extra constructor parameters
    kind: str  # "l1", "l21", "trace", "ridge"
    l1_ratio: float = 1.0
    pooled: bool = False

    def estimator(self, loss, problem, **params):
        suffix = "Regressor" if loss == "squared" else "Classifier"
        cls = getattr(mtstats, self.family + suffix)
        return cls(task_column=problem.task_column, **dict(self.params), **params)

    def penalty_numpy(self, alpha, W):
        """``alpha * Omega(W)`` for W (d, T) (or (d, 1) when pooled)."""
        if self.kind == "l1":
            return alpha * np.abs(W).sum()
        if self.kind == "ridge":
            return 0.5 * alpha * (W ** 2).sum()
        if self.kind == "trace":
            return alpha * np.linalg.svd(W, compute_uv=False).sum()
        rho = self.l1_ratio
        return alpha * (rho * np.linalg.norm(W, axis=1).sum()
                        + 0.5 * (1 - rho) * (W ** 2).sum())

    def penalty_cvxpy(self, alpha, W):
        if self.kind == "l1":
            return alpha * cp.sum(cp.abs(W))
        if self.kind == "ridge":
            return 0.5 * alpha * cp.sum_squares(W)
        if self.kind == "trace":
            return alpha * cp.normNuc(W)
        rho = self.l1_ratio
        return alpha * (rho * cp.sum(cp.norm(W, 2, axis=1))
                        + 0.5 * (1 - rho) * cp.sum_squares(W))

    def dual_norm(self, G):
        """Dual norm of Omega, divided by l1_ratio (None for ridge)."""
        if self.kind == "l1":
            return np.abs(G).max()
        if self.kind == "trace":
            return np.linalg.svd(G, compute_uv=False).max()
        if self.kind == "l21":
            return np.linalg.norm(G, axis=1).max() / self.l1_ratio
        return None


L1 = Model("l1", "Independent", (("penalty", "l1"),), "l1")
L21 = Model("l21", "GroupLasso", (("l1_ratio", 1.0),), "l21")
L21_MIX = Model("l21_rho0.5", "GroupLasso", (("l1_ratio", 0.5),), "l21", 0.5)
TRACE = Model("trace", "TraceNorm", (), "trace")
RIDGE = Model("ridge", "Independent", (("penalty", "l2"),), "ridge")
POOLED_L1 = Model("pooled_l1", "Pooled", (("penalty", "l1"),), "l1", pooled=True)
POOLED_L2 = Model("pooled_l2", "Pooled", (("penalty", "l2"),), "ridge",
                  pooled=True)
PENALTIES = (L1, L21, L21_MIX, TRACE, RIDGE)
POOLED = (POOLED_L1, POOLED_L2)
LOSSES = ("squared", "logistic")


def resolve_weights(task_weight, problem):
    if task_weight is None:
        return np.ones(problem.n_tasks)
    if isinstance(task_weight, str):
        return problem.n_samples.astype(np.float64)
    return np.asarray(task_weight, dtype=np.float64)


def loss_numpy(loss, eta, y):
    if loss == "squared":
        return 0.5 * (y - eta) ** 2
    return np.logaddexp(0.0, eta) - y * eta


def null_gradient(problem, weights, pooled=False):
    """Loss gradient wrt W of the intercept-only model (both losses).

    For squared and logistic loss alike the intercept-only fit predicts the
    task mean, so the gradient is ``X_t^T (w_t / n_t) (mean(y_t) - y_t)``.
    """
    G = np.column_stack([
        X_t.T @ (w_t / y_t.shape[0] * (y_t.mean() - y_t))
        for (X_t, y_t), w_t in zip(problem.blocks, weights, strict=True)
    ])
    return G.sum(axis=1, keepdims=True) if pooled else G


def reference_alpha_max(model, problem, weights):
    return model.dual_norm(null_gradient(problem, weights, model.pooled))


def default_alpha(model, loss, problem, weights):
    """A mid-path alpha: 0.2 alpha_max for norms, a fixed ridge otherwise."""
    if model.kind == "ridge":
        return 0.1 if loss == "squared" else 0.05
    return 0.2 * reference_alpha_max(model, problem, weights)


def numpy_objective(est, model, loss, problem, alpha, weights):
    """The objective at (coef_, intercept_), recomputed from scratch."""
    return objective_at(est.coef_, est.intercept_, model, loss, problem, alpha,
                        weights)


def objective_at(coef, intercept, model, loss, problem, alpha, weights):
    """The objective at coefficients (T, d) and intercepts (T,)."""
    assert coef.shape == (problem.n_tasks, problem.n_features)
    assert intercept.shape == (problem.n_tasks,)
    data = sum(
        w_t * loss_numpy(loss, X_t @ coef[t] + intercept[t], y_t).mean()
        for t, ((X_t, y_t), w_t) in enumerate(zip(problem.blocks, weights,
                                                   strict=True))
    )
    if model.pooled:
        np.testing.assert_array_equal(coef, np.broadcast_to(coef[0], coef.shape))
        W = coef[:1].T
    else:
        W = coef.T
    return data + model.penalty_numpy(alpha, W)


def intercept_only_objective(loss, problem, weights):
    """Objective of W = 0 with optimal intercepts (the solver's P_0)."""
    total = 0.0
    for (_, y_t), w_t in zip(problem.blocks, weights, strict=True):
        mean = y_t.mean()
        eta = np.log(mean / (1 - mean)) if loss == "logistic" else mean
        total += w_t * loss_numpy(loss, np.full_like(y_t, eta), y_t).mean()
    return total


def cvxpy_objective(model, loss, problem, alpha, weights, fit_intercept=True):
    """Optimal value of the same objective, by Clarabel at tight tolerances.

    Near a degenerate cone point (zero rows of W, repeated zero singular
    values) Clarabel's primal residual on the epigraph variables can stall
    just above ``tol_feas=1e-10`` although the gap is far below 1e-10; it then
    reports "optimal_inaccurate". The problem is unconstrained in (W, b), so
    the objective evaluated with NumPy at the returned (W, b) is an exact
    upper bound on the optimum whatever the residuals; it is returned along
    with ``problem.value`` and both are compared with mtstats.
    """
    d, T = problem.n_features, problem.n_tasks
    b = cp.Variable(T) if fit_intercept else cp.Constant(np.zeros(T))
    if model.pooled:
        w = cp.Variable(d)
        columns, penalised = [w] * T, w
    else:
        W = cp.Variable((d, T))
        columns, penalised = [W[:, t] for t in range(T)], W
    terms = []
    for t, (X_t, y_t) in enumerate(problem.blocks):
        eta = X_t @ columns[t] + b[t]
        scale = weights[t] / y_t.shape[0]
        if loss == "squared":
            terms.append(scale * 0.5 * cp.sum_squares(eta - y_t))
        else:
            terms.append(scale * cp.sum(cp.logistic(eta) - cp.multiply(y_t, eta)))
    objective = cp.sum(cp.hstack(terms)) + model.penalty_cvxpy(alpha, penalised)
    prob = cp.Problem(cp.Minimize(objective))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Solution may be inaccurate")
        prob.solve(solver=cp.CLARABEL, **CLARABEL)
    assert prob.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE), prob.status
    if model.pooled:
        coef = np.tile(w.value, (T, 1))
    else:
        coef = W.value.T
    at_point = objective_at(coef, b.value, model, loss, problem, alpha, weights)
    return prob.value, at_point


def fit_quietly(est, X, y):
    """Fit, turning a ConvergenceWarning into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return est.fit(X, y)


# --------------------------------------------------------------------------
# 1. cvxpy reference
# --------------------------------------------------------------------------


def _check_against_cvxpy(model, loss, problem, task_weight=None,
                         fit_intercept=True):
    weights = resolve_weights(task_weight, problem)
    alpha = default_alpha(model, loss, problem, weights)
    est = model.estimator(loss, problem, alpha=alpha, task_weight=task_weight,
                          fit_intercept=fit_intercept, tol=FIT_TOL,
                          max_iter=100_000)
    fit_quietly(est, problem.X, problem.y)
    assert est.converged_
    if problem.task_column is not None:
        np.testing.assert_array_equal(est.tasks_.astype(float),
                                      np.arange(problem.n_tasks))
    np.testing.assert_array_equal(est.n_samples_per_task_, problem.n_samples)

    p_mtstats = numpy_objective(est, model, loss, problem, alpha, weights)
    p_cvxpy, p_cvxpy_point = cvxpy_objective(model, loss, problem, alpha, weights,
                                             fit_intercept)
    assert abs(est.objective_ - p_mtstats) <= SELF_RTOL * abs(p_mtstats), (
        est.objective_, p_mtstats)
    assert abs(p_mtstats - p_cvxpy) <= OBJ_RTOL * abs(p_cvxpy), (p_mtstats, p_cvxpy)
    assert abs(p_mtstats - p_cvxpy_point) <= OBJ_RTOL * abs(p_cvxpy_point), (
        p_mtstats, p_cvxpy_point)
    return est


def _cases(models, losses, layouts, seeds):
    for loss in losses:
        for model in models:
            for layout in layouts:
                for seed in seeds:
                    yield pytest.param(model, loss, layout, seed,
                                       id=f"{loss}-{model.name}-{layout}-seed{seed}")


@pytest.mark.parametrize(("model", "loss", "layout", "seed"),
                         list(_cases(PENALTIES, LOSSES, ("wide", "long"), SEEDS)))
def test_objective_matches_cvxpy(model, loss, layout, seed):
    _check_against_cvxpy(model, loss, make_problem(seed, loss, layout))


@pytest.mark.parametrize(("model", "loss", "layout", "seed"),
                         list(_cases(POOLED, LOSSES, ("wide", "long"), SEEDS)))
def test_pooled_objective_matches_cvxpy(model, loss, layout, seed):
    est = _check_against_cvxpy(model, loss, make_problem(seed, loss, layout))
    assert np.ptp(est.intercept_) > 0  # per-task intercepts, not one


TASK_WEIGHT_ARRAY = np.array([0.5, 2.0, 1.0, 1.5])


@pytest.mark.parametrize("task_weight", ["n_samples", "array"])
@pytest.mark.parametrize(("model", "loss", "layout", "seed"), [
    *_cases((L21, TRACE, L1), LOSSES, ("long",), SEEDS[:1]),
    *_cases((L21_MIX, RIDGE, POOLED_L1), ("squared",), ("wide",), SEEDS[1:2]),
])
def test_task_weight_matches_cvxpy(model, loss, layout, seed, task_weight):
    if task_weight == "array":
        task_weight = TASK_WEIGHT_ARRAY
    _check_against_cvxpy(model, loss, make_problem(seed, loss, layout),
                         task_weight=task_weight)


@pytest.mark.parametrize(("model", "loss", "layout", "seed"), [
    *_cases(PENALTIES + POOLED, LOSSES, ("long",), SEEDS[:1]),
    *_cases((L21, TRACE), LOSSES, ("wide",), SEEDS[:1]),
])
def test_no_intercept_matches_cvxpy(model, loss, layout, seed):
    est = _check_against_cvxpy(model, loss, make_problem(seed, loss, layout),
                               fit_intercept=False)
    np.testing.assert_array_equal(est.intercept_, 0.0)


def test_task_weight_changes_the_fit():
    """The weights enter the objective (no silent fallback to equal weights)."""
    problem = make_problem(0, "squared", "long")
    fits = [mtstats.GroupLassoRegressor(alpha=0.05, task_column=N_FEATURES,
                                        task_weight=w, tol=COEF_TOL)
            .fit(problem.X, problem.y).coef_
            for w in (None, "n_samples", TASK_WEIGHT_ARRAY)]
    assert not np.allclose(fits[0], fits[1])
    assert not np.allclose(fits[0], fits[2])


# --------------------------------------------------------------------------
# 2. scikit-learn MultiTaskLasso / MultiTaskElasticNet
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("fraction", [0.5, 0.2, 0.05])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_group_lasso_matches_sklearn_multitask(l1_ratio, fraction, seed):
    problem = make_problem(seed, "squared", "wide_full")
    X, Y = problem.X, problem.y
    est = mtstats.GroupLassoRegressor(l1_ratio=l1_ratio, tol=COEF_TOL,
                                      max_iter=100_000)
    alpha = fraction * est.alpha_max(X, Y)
    fit_quietly(est.set_params(alpha=alpha), X, Y)
    if l1_ratio == 1.0:
        ref = MultiTaskLasso(alpha=alpha, tol=1e-12, max_iter=1_000_000)
    else:
        ref = MultiTaskElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12,
                                  max_iter=1_000_000)
    fit_quietly(ref, X, Y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=0, atol=COEF_ATOL)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=0,
                               atol=COEF_ATOL)
    if fraction == 0.5 and l1_ratio == 1.0:
        assert np.any(np.all(est.coef_ == 0, axis=0))  # a jointly dropped feature


# --------------------------------------------------------------------------
# 3. per-task scikit-learn Lasso, Ridge, LogisticRegression
# --------------------------------------------------------------------------


def _per_task_reference(penalty, loss, alpha, n_t):
    if loss == "logistic":
        assert penalty == "l2"
        return LogisticRegression(C=1 / (alpha * n_t), tol=1e-12, max_iter=1000,
                                  solver="newton-cholesky")
    if penalty == "l1":
        return Lasso(alpha=alpha, tol=1e-12, max_iter=1_000_000)
    return Ridge(alpha=alpha * n_t, solver="cholesky")


@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize(("penalty", "loss", "alpha"), [
    ("l1", "squared", 0.05), ("l2", "squared", 0.1), ("l2", "logistic", 0.05),
])
def test_independent_matches_sklearn_per_task(penalty, loss, alpha, layout):
    problem = make_problem(3, loss, layout)
    model = L1 if penalty == "l1" else RIDGE
    est = model.estimator(loss, problem, alpha=alpha, tol=COEF_TOL,
                          max_iter=100_000)
    fit_quietly(est, problem.X, problem.y)
    for t, (X_t, y_t) in enumerate(problem.blocks):
        ref = _per_task_reference(penalty, loss, alpha, y_t.shape[0])
        fit_quietly(ref, X_t, y_t)
        np.testing.assert_allclose(est.coef_[t], np.ravel(ref.coef_), rtol=0,
                                   atol=COEF_ATOL, err_msg=f"task {t}")
        np.testing.assert_allclose(est.intercept_[t], np.ravel(ref.intercept_)[0],
                                   rtol=0, atol=COEF_ATOL, err_msg=f"task {t}")


# --------------------------------------------------------------------------
# 4. layout equivalences
# --------------------------------------------------------------------------

ALL_MODELS = (L1, L21, L21_MIX, TRACE, RIDGE, POOLED_L1, POOLED_L2)
# Penalties with a ridge part: strongly convex, so the optimum is unique, but
# the duality gap is quadratic in the coefficient error and reaches float64
# resolution (~1e-15) while the coefficients are only pinned to
# sqrt(2 gap / (alpha (1 - rho))) ~ 1e-7. At tol=1e-12 the two layouts then
# agree to 2e-8..1e-6, not 1e-8 (finding reported with the tests); both fits
# still meet their certificate (test_nan_wide_equals_long_certified).
RIDGE_TYPE = ("l21_rho0.5", "ridge", "pooled_l2")


def _layout_cases(losses, ridge_type=None):
    """(model, loss) cases; ``ridge_type`` True/False keeps only/none of them."""
    for loss in losses:
        for model in ALL_MODELS:
            if ridge_type is None or (model.name in RIDGE_TYPE) == ridge_type:
                yield pytest.param(model, loss, id=f"{loss}-{model.name}")


def _fit(model, loss, problem, alpha, tol=LAYOUT_FIT_TOL):
    est = model.estimator(loss, problem, alpha=alpha, tol=tol, max_iter=100_000)
    fit_quietly(est, problem.X, problem.y)
    assert est.converged_
    return est


def _observed_rows_long(wide):
    """The NaN-masked wide problem as a long-layout problem on observed rows."""
    X_long = np.vstack([np.column_stack([X_t, np.full(y_t.shape[0], t)])
                        for t, (X_t, y_t) in enumerate(wide.blocks)])
    y_long = np.concatenate([y_t for _, y_t in wide.blocks])
    return Problem(X_long, y_long, N_FEATURES, wide.blocks)


def _same_fit(a, b):
    np.testing.assert_array_equal(a.n_samples_per_task_, b.n_samples_per_task_)
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=0, atol=LAYOUT_ATOL)
    np.testing.assert_allclose(b.intercept_, a.intercept_, rtol=0, atol=LAYOUT_ATOL)


@pytest.mark.parametrize(("model", "loss"), list(_layout_cases(LOSSES)))
def test_long_full_equals_wide_full(model, loss):
    wide = make_problem(4, loss, "wide_full")
    long = make_problem(4, loss, "long_full")
    alpha = default_alpha(model, loss, wide, np.ones(N_TASKS))
    _same_fit(_fit(model, loss, wide, alpha), _fit(model, loss, long, alpha))


@pytest.mark.parametrize(("model", "loss"), list(_layout_cases(LOSSES, False)))
def test_nan_wide_equals_long_on_observed_rows(model, loss):
    wide = make_problem(5, loss, "wide")
    assert np.isnan(wide.y).any()
    long = _observed_rows_long(wide)
    alpha = default_alpha(model, loss, wide, np.ones(N_TASKS))
    _same_fit(_fit(model, loss, wide, alpha), _fit(model, loss, long, alpha))


@pytest.mark.parametrize(("model", "loss"), list(_layout_cases(LOSSES, True)))
def test_nan_wide_equals_long_certified(model, loss):
    """What the solver does guarantee: both fits reach the same optimum.

    Each converged fit is within ``tol * P_0`` of the optimal objective; with
    a ridge part of strength ``mu = alpha (1 - rho)`` the objective (intercepts
    profiled out) is mu-strongly convex in W, so each fit is within
    ``sqrt(2 tol P_0 / mu)`` of the unique optimum.
    """
    wide = make_problem(5, loss, "wide")
    long = _observed_rows_long(wide)
    weights = np.ones(N_TASKS)
    alpha = default_alpha(model, loss, wide, weights)
    a, b = _fit(model, loss, wide, alpha), _fit(model, loss, long, alpha)
    budget = LAYOUT_FIT_TOL * intercept_only_objective(loss, wide, weights)
    p_a = numpy_objective(a, model, loss, wide, alpha, weights)
    p_b = numpy_objective(b, model, loss, wide, alpha, weights)
    assert abs(p_a - p_b) <= budget
    mu = alpha * (1 - model.l1_ratio) if model.kind == "l21" else alpha
    W_a = a.coef_[:1] if model.pooled else a.coef_
    W_b = b.coef_[:1] if model.pooled else b.coef_
    assert np.linalg.norm(W_a - W_b) <= 2 * np.sqrt(2 * budget / mu)


# --------------------------------------------------------------------------
# 5. solver properties
# --------------------------------------------------------------------------

NORM_MODELS = (L21, L21_MIX, TRACE, L1, POOLED_L1)


def _alpha_max_cases():
    for loss in LOSSES:
        for model in NORM_MODELS:
            for layout in ("wide", "long"):
                yield pytest.param(model, loss, layout,
                                   id=f"{loss}-{model.name}-{layout}")


def _alpha_max_fit(model, loss, layout, factor):
    problem = make_problem(6, loss, layout)
    est = model.estimator(loss, problem, tol=1e-8, max_iter=100_000)
    alpha_max = est.alpha_max(problem.X, problem.y)
    fit_quietly(est.set_params(alpha=factor * alpha_max), problem.X, problem.y)
    return est


@pytest.mark.parametrize(("model", "loss", "layout"), list(_alpha_max_cases()))
def test_alpha_max_matches_dual_norm(model, loss, layout):
    problem = make_problem(6, loss, layout)
    est = model.estimator(loss, problem)
    reference = reference_alpha_max(model, problem, np.ones(N_TASKS))
    assert est.alpha_max(problem.X, problem.y) == pytest.approx(reference, rel=1e-10)


@pytest.mark.parametrize("factor", [1 + 1e-12, 1.5, 10.0])
@pytest.mark.parametrize(("model", "loss", "layout"), list(_alpha_max_cases()))
def test_all_zero_above_alpha_max(model, loss, layout, factor):
    est = _alpha_max_fit(model, loss, layout, factor)
    assert np.all(est.coef_ == 0.0), np.abs(est.coef_).max()


@pytest.mark.parametrize(("model", "loss", "layout"), list(_alpha_max_cases()))
def test_not_all_zero_below_alpha_max(model, loss, layout):
    est = _alpha_max_fit(model, loss, layout, 0.9)
    assert np.any(est.coef_ != 0.0)


def test_alpha_max_undefined_for_ridge():
    problem = make_problem(0, "squared", "wide_full")
    with pytest.raises(ValueError, match="not a norm"):
        mtstats.IndependentRegressor(penalty="l2").alpha_max(problem.X, problem.y)


def _gap_cases():
    for loss in LOSSES:
        for model in ALL_MODELS:
            for layout in ("wide", "long"):
                yield pytest.param(model, loss, layout,
                                   id=f"{loss}-{model.name}-{layout}")


@pytest.mark.parametrize("tol", [1e-4, 1e-7])
@pytest.mark.parametrize(("model", "loss", "layout"), list(_gap_cases()))
def test_duality_gap_bounds_suboptimality(model, loss, layout, tol):
    problem = make_problem(7, loss, layout)
    weights = np.ones(N_TASKS)
    alpha = default_alpha(model, loss, problem, weights)
    est = model.estimator(loss, problem, alpha=alpha, tol=tol, max_iter=100_000)
    fit_quietly(est, problem.X, problem.y)
    assert est.converged_
    null = intercept_only_objective(loss, problem, weights)
    assert 0.0 <= est.dual_gap_ <= tol * null
    # the gap certifies suboptimality: compare with a tight reference fit
    tight = model.estimator(loss, problem, alpha=alpha, tol=COEF_TOL,
                            max_iter=100_000)
    fit_quietly(tight, problem.X, problem.y)
    p = numpy_objective(est, model, loss, problem, alpha, weights)
    p_star = numpy_objective(tight, model, loss, problem, alpha, weights)
    assert p_star - 1e-12 * abs(p_star) <= p <= p_star + est.dual_gap_ + 1e-12 * abs(
        p_star)


# Iterations are counted in steps of check_every=10, and most of these fits
# converge within 10-40 iterations from a cold start: too coarse to resolve a
# warm start's head start. So the warm start is compared with the cold one at
# an equal budget of iterations (its certified gap must be smaller), and the
# counts to convergence only must not be larger.
@pytest.mark.parametrize(("model", "loss"), [
    pytest.param(m, loss, id=f"{loss}-{m.name}")
    for loss in LOSSES for m in (L21, L21_MIX, TRACE, L1, RIDGE, *POOLED)
])
def test_warm_start_needs_fewer_iterations(model, loss):
    problem = make_problem(8, loss, "long")
    alpha = default_alpha(model, loss, problem, np.ones(N_TASKS))
    warm = model.estimator(loss, problem, alpha=alpha, warm_start=True, tol=1e-8,
                           max_iter=100_000)
    fit_quietly(warm, problem.X, problem.y)
    head = clone(warm)
    fit_quietly(warm.set_params(alpha=1.02 * alpha), problem.X, problem.y)
    cold = model.estimator(loss, problem, alpha=1.02 * alpha, tol=1e-8,
                           max_iter=100_000)
    fit_quietly(cold, problem.X, problem.y)
    assert warm.converged_ and cold.converged_
    assert warm.n_iter_ <= cold.n_iter_, (warm.n_iter_, cold.n_iter_)
    # same optimum: both objectives within tol * P_0 of it
    weights = np.ones(N_TASKS)
    p_warm, p_cold = (numpy_objective(e, model, loss, problem, 1.02 * alpha, weights)
                      for e in (warm, cold))
    assert abs(p_warm - p_cold) <= 1e-8 * intercept_only_objective(loss, problem,
                                                                   weights)
    # at an equal budget of 5 iterations the warm start is far closer
    budget = {"alpha": 1.02 * alpha, "max_iter": 5}
    fit_quietly(head, problem.X, problem.y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        head.set_params(**budget).fit(problem.X, problem.y)
        behind = model.estimator(loss, problem, **budget).fit(problem.X, problem.y)
    assert 0 <= head.dual_gap_ < 0.1 * behind.dual_gap_
    # refitting the same problem from its own solution stops at the first check
    fit_quietly(warm, problem.X, problem.y)
    assert warm.n_iter_ <= 10


@pytest.mark.parametrize(("model", "loss", "layout"), [
    pytest.param(m, loss, layout, id=f"{loss}-{m.name}-{layout}")
    for loss in LOSSES for m in (L21, TRACE, RIDGE, POOLED_L2)
    for layout in ("wide", "long")
])
def test_convergence_warning(model, loss, layout):
    problem = make_problem(9, loss, layout)
    alpha = default_alpha(model, loss, problem, np.ones(N_TASKS))
    est = model.estimator(loss, problem, alpha=alpha, tol=1e-10, max_iter=2)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        est.fit(problem.X, problem.y)
    assert est.converged_ is False
    assert est.n_iter_ == 2


@pytest.mark.parametrize(("model", "loss", "layout"), [
    pytest.param(m, loss, layout, id=f"{loss}-{m.name}-{layout}")
    for loss in LOSSES for m in (L21, TRACE, L1, RIDGE, POOLED_L2)
    for layout in ("wide", "long")
])
def test_float32(model, loss, layout):
    problem = make_problem(10, loss, layout)
    alpha = default_alpha(model, loss, problem, np.ones(N_TASKS))
    X32, y32 = problem.X.astype(np.float32), problem.y.astype(np.float32)
    est64 = model.estimator(loss, problem, alpha=alpha, tol=1e-6, max_iter=100_000)
    est32 = model.estimator(loss, problem, alpha=alpha, tol=1e-6, max_iter=100_000)
    fit_quietly(est64, problem.X, problem.y)
    fit_quietly(est32, X32, y32)
    assert est32.coef_.dtype == np.float32
    assert est32.intercept_.dtype == np.float32
    if loss == "squared":
        p64, p32 = est64.predict(problem.X), est32.predict(X32)
    else:
        p64, p32 = est64.predict_proba(problem.X), est32.predict_proba(X32)
    assert p32.dtype == np.float32
    np.testing.assert_allclose(p32, p64, rtol=1e-3)
