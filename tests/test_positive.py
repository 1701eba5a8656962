"""Non-negative coefficients (``positive=True``) for L1, L21 (+ ridge) and ridge.

With ``positive=True`` the penalty is ``g(W) + indicator(W >= 0)``. Checked
here: the closed-form proxes against cvxpy, the conjugates by Fenchel-Young
(equality at ``U = (V - prox(V)) / step``, the subgradient condition), the
duality gap at the cvxpy optimum and at feasible points, every estimator
against a cvxpy formulation of its documented objective

    sum_t task_weight_t * mean_{i in t} loss(x_i^T w_t + b_t, y_i) + g(W)
    subject to W >= 0,

scikit-learn's ``Lasso(positive=True)``, ``alpha_max`` under positivity,
screened paths, a ``*CV`` twin and the refusals.
"""

from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso
from sklearn.utils._param_validation import InvalidParameterError
from test_fista import loss_numpy, make_problem

import mtstats
from mtstats import regularization_path
from mtstats.penalties import L1, L21, SquaredFrobenius
from mtstats.penalties.pooling import PartialPooling
from mtstats.solvers.fista import duality_gap
from mtstats.solvers.path import _row_scores

PROX_ATOL = 1e-7
OBJ_RTOL = 1e-6  # mtstats objective vs the cvxpy optimum
COEF_ATOL = 1e-4  # mtstats coefficients vs cvxpy's
FIT_TOL = 1e-10
CLARABEL = dict(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10,
                tol_feas=1e-10, max_iter=500)
# The prox problems are tiny: SCS at 1e-12 reaches ~1e-13, while Clarabel
# stalls near 1e-6 at the zero rows of the L21 prox (the cone's apex).
SCS = dict(solver=cp.SCS, eps_abs=1e-12, eps_rel=1e-12, max_iters=200_000)

POSITIVE = [L1(0.3, positive=True), L21(0.3, positive=True),
            L21(0.3, l1_ratio=0.4, positive=True),
            L21(0.3, l1_ratio=0.0, positive=True),
            SquaredFrobenius(0.3, positive=True)]
NORMS = POSITIVE[:2]


def _cvx_penalty(penalty, Z):
    """``g(Z)`` without the constraint (imposed separately)."""
    if isinstance(penalty, L1):
        return penalty.alpha * cp.sum(cp.abs(Z))
    if isinstance(penalty, SquaredFrobenius):
        return 0.5 * penalty.alpha * cp.sum_squares(Z)
    rho = penalty.l1_ratio
    return penalty.alpha * (rho * cp.sum(cp.norm(Z, 2, axis=1))
                            + 0.5 * (1 - rho) * cp.sum_squares(Z))


def _solve(problem, settings=CLARABEL):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Solution may be inaccurate")
        problem.solve(**settings)
    assert problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE), problem.status


# ---------------------------------------------------------------- penalties


@pytest.mark.parametrize("penalty", POSITIVE, ids=repr)
def test_prox_matches_cvxpy_on_the_orthant(penalty, rng):
    for scale, step in ((1.0, 0.8), (0.2, 1.5), (3.0, 0.1)):
        V = scale * rng.standard_normal((6, 4))
        Z = cp.Variable(V.shape)
        _solve(cp.Problem(cp.Minimize(0.5 * cp.sum_squares(Z - V)
                                      + step * _cvx_penalty(penalty, Z)), [Z >= 0]),
               SCS)
        prox = penalty.prox(V, step)
        assert np.all(prox >= 0)
        np.testing.assert_allclose(prox, Z.value, atol=PROX_ATOL)


@pytest.mark.parametrize("penalty", POSITIVE, ids=repr)
def test_prox_satisfies_fenchel_young_with_equality(penalty, rng):
    """``U = (V - prox(V)) / step`` lies in the subdifferential of ``g`` at
    ``Z = prox(V)`` iff ``g(Z) + g*(U) = <U, Z>`` with ``g*(U)`` finite: the
    prox and the conjugate (dual gauge, scaling) describe the same function."""
    step = 0.7
    for scale in (0.05, 1.0, 5.0):
        V = scale * rng.standard_normal((7, 5))
        Z = penalty.prox(V, step)
        U = (V - Z) / step
        assert penalty.dual_scaling(U) == pytest.approx(1.0, abs=1e-12)
        lhs = float(penalty.value(Z)) + float(penalty.conjugate(U))
        assert lhs == pytest.approx(np.sum(U * Z), abs=1e-10)
        if penalty in NORMS and float(penalty.dual_norm(V)) <= penalty.alpha * step:
            np.testing.assert_array_equal(Z, 0)  # inside the dual set: zero


@pytest.mark.parametrize("penalty", POSITIVE, ids=repr)
def test_conjugate_is_the_sup_over_the_orthant(penalty, rng):
    """``g*(V) = sup_{Z >= 0} <V, Z> - g(Z)`` (cvxpy), at ``c V`` with ``c``
    from ``dual_scaling``; for the norms a slightly larger ``c`` is infeasible
    (unbounded sup), so the scaling is the largest feasible one."""
    V = rng.standard_normal((6, 3)) + 0.3
    c = penalty.dual_scaling(V)
    conj = float(penalty.conjugate(c * V))
    for _ in range(50):  # Fenchel-Young inequality at random feasible points
        W = np.abs(rng.standard_normal((6, 3)))
        assert conj >= np.sum(c * V * W) - float(penalty.value(W)) - 1e-12
    Z = cp.Variable(V.shape)
    best = cp.Problem(cp.Maximize(cp.sum(cp.multiply(c * V, Z))
                                  - _cvx_penalty(penalty, Z)), [Z >= 0])
    _solve(best, SCS)
    assert conj == pytest.approx(best.value, abs=1e-7)
    if penalty in NORMS:
        assert c < 1
        # beyond the scaling, the sup is unbounded along the argmax direction
        over = np.maximum(1.01 * c * V, 0)
        # the argmax entry (L1) or row (L21) of the positive part
        size = over if isinstance(penalty, L1) else np.linalg.norm(
            over, axis=1, keepdims=True) * np.ones((1, 3))
        direction = np.where(size == size.max(), over, 0.0)
        over = 1.01 * c * V
        slope = np.sum(over * direction) - float(penalty.value(direction))
        assert slope > 0


@pytest.mark.parametrize("penalty", POSITIVE, ids=repr)
def test_dual_gauge_sees_only_positive_parts(penalty, rng):
    V = rng.standard_normal((6, 3))
    plain = type(penalty)(**{k: v for k, v in vars(penalty).items()
                             if k != "positive"})
    if penalty.dual_norm(V) is not None:
        assert float(penalty.dual_norm(V)) == pytest.approx(
            float(plain.dual_norm(np.maximum(V, 0))))
        assert float(penalty.dual_norm(-np.abs(V))) == 0.0
    assert float(penalty.conjugate(V)) == pytest.approx(
        float(plain.conjugate(np.maximum(V, 0))))


def test_value_is_infinite_off_the_orthant_and_rescaling_keeps_the_sign(rng):
    W = np.abs(rng.standard_normal((5, 3)))
    for penalty in POSITIVE:
        plain = type(penalty)(**{k: v for k, v in vars(penalty).items()
                                 if k != "positive"})
        assert float(penalty.value(W)) == pytest.approx(float(plain.value(W)))
        W[2, 1] = -1e-3
        assert float(penalty.value(W)) == np.inf
        W[2, 1] = 1.0
        rescaled = penalty.rescaled(0.5, 4.0)
        assert rescaled.positive and "positive=True" in repr(rescaled)
        assert "positive" not in repr(plain)


@pytest.mark.parametrize("penalty", POSITIVE, ids=repr)
def test_positive_penalties_run_in_every_namespace(penalty, xp, rng):
    V = rng.standard_normal((6, 4))
    Z = penalty.prox(xp.asarray(V), 0.5)
    np.testing.assert_allclose(np.asarray(Z) if not hasattr(Z, "get") else Z.get(),
                               penalty.prox(V, 0.5), atol=1e-12)
    for W in (np.abs(V), V):
        assert float(penalty.value(xp.asarray(W))) == float(penalty.value(W))
    assert float(penalty.conjugate(xp.asarray(V))) == pytest.approx(
        float(penalty.conjugate(V)))


def test_screening_scores_use_positive_parts(rng):
    from array_api_compat import numpy as xp

    G = rng.standard_normal((6, 3))
    np.testing.assert_allclose(_row_scores(L1(1.0, positive=True), G, xp),
                               np.maximum(-G, 0).max(axis=1))
    np.testing.assert_allclose(_row_scores(L21(1.0, positive=True), G, xp),
                               np.linalg.norm(np.maximum(-G, 0), axis=1))


# ------------------------------------------------ estimators against cvxpy

# family, constructor parameters, penalty kind, l1_ratio, pooled
MODELS = {
    "grouplasso": ("GroupLasso", {}, "l21", 1.0, False),
    "grouplasso-mix": ("GroupLasso", {"l1_ratio": 0.5}, "l21", 0.5, False),
    "independent-l1": ("Independent", {"penalty": "l1"}, "l1", 1.0, False),
    "independent-l2": ("Independent", {"penalty": "l2"}, "ridge", 1.0, False),
    "pooled-l1": ("Pooled", {"penalty": "l1"}, "l1", 1.0, True),
    "pooled-l2": ("Pooled", {"penalty": "l2"}, "ridge", 1.0, True),
}


def _estimator(name, loss, problem, **params):
    family, extra, _, _, _ = MODELS[name]
    suffix = "Regressor" if loss == "squared" else "Classifier"
    cls = getattr(mtstats, family + suffix)
    return cls(task_column=problem.task_column, positive=True, **extra, **params)


def _penalty(name, alpha):
    _, _, kind, rho, _ = MODELS[name]
    if kind == "l1":
        return L1(alpha, positive=True)
    if kind == "ridge":
        return SquaredFrobenius(alpha, positive=True)
    return L21(alpha, rho, positive=True)


def _objective(problem, loss, penalty, coef, intercept, pooled):
    data = sum(loss_numpy(loss, X_t @ coef[t] + intercept[t], y_t).mean()
               for t, (X_t, y_t) in enumerate(problem.blocks))
    return data + float(penalty.value(coef[:1].T if pooled else coef.T))


def _cvxpy_optimum(problem, loss, penalty, pooled, fit_intercept):
    """The documented objective (unit task weights) under ``W >= 0``."""
    d, T = problem.n_features, problem.n_tasks
    b = cp.Variable(T) if fit_intercept else cp.Constant(np.zeros(T))
    W = cp.Variable((d, 1) if pooled else (d, T))
    terms = []
    for t, (X_t, y_t) in enumerate(problem.blocks):
        eta = X_t @ W[:, 0 if pooled else t] + b[t]
        if loss == "squared":
            terms.append(0.5 * cp.sum_squares(eta - y_t) / y_t.shape[0])
        else:
            terms.append(cp.sum(cp.logistic(eta) - cp.multiply(y_t, eta))
                         / y_t.shape[0])
    prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms))
                                  + _cvx_penalty(penalty, W)), [W >= 0])
    _solve(prob)
    coef = np.maximum(W.value, 0).T  # feasible up to cvxpy's residuals
    coef = np.repeat(coef, T, axis=0) if pooled else coef
    intercept = np.asarray(b.value, dtype=float).reshape(T)
    return prob.value, coef, intercept


def _alpha(name, est, problem, loss):
    if MODELS[name][2] == "ridge":
        return 0.1 if loss == "squared" else 0.05
    return 0.2 * est.alpha_max(problem.X, problem.y)


def _cases():
    for name in MODELS:
        for loss in ("squared", "logistic"):
            for layout in ("wide", "long"):
                for fit_intercept in (True, False):
                    if layout == "long" and not fit_intercept:
                        continue  # the layout is covered with intercepts
                    yield pytest.param(name, loss, layout, fit_intercept,
                                       id=f"{name}-{loss}-{layout}-"
                                          f"{'icpt' if fit_intercept else 'noicpt'}")


@pytest.mark.parametrize(("name", "loss", "layout", "fit_intercept"), list(_cases()))
def test_estimator_reaches_the_constrained_cvxpy_optimum(name, loss, layout,
                                                         fit_intercept):
    problem = make_problem(1, loss, layout)  # seed 1: every constraint active
    est = _estimator(name, loss, problem, fit_intercept=fit_intercept,
                     tol=FIT_TOL, max_iter=100_000)
    alpha = _alpha(name, est, problem, loss)
    est.set_params(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(problem.X, problem.y)
    assert est.converged_
    assert np.all(est.coef_ >= 0)
    pooled = MODELS[name][4]
    penalty = _penalty(name, alpha)
    ours = _objective(problem, loss, penalty, est.coef_, est.intercept_, pooled)
    assert ours == pytest.approx(est.objective_, rel=1e-8)
    best, coef, intercept = _cvxpy_optimum(problem, loss, penalty, pooled,
                                           fit_intercept)
    at_cvxpy = _objective(problem, loss, penalty, coef, intercept, pooled)
    assert abs(ours - best) <= OBJ_RTOL * abs(best), (ours, best)
    assert ours <= at_cvxpy + OBJ_RTOL * abs(at_cvxpy)
    np.testing.assert_allclose(est.coef_, coef, atol=COEF_ATOL)
    # the constraint is active: the unconstrained fit has negative entries
    free = _estimator(name, loss, problem, fit_intercept=fit_intercept,
                      alpha=alpha, tol=1e-6, max_iter=100_000)
    free.set_params(positive=False).fit(problem.X, problem.y)
    assert free.coef_.min() < -1e-3


@pytest.mark.parametrize("name", ["grouplasso", "grouplasso-mix", "independent-l1",
                                  "independent-l2"])
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_duality_gap_certifies_the_constrained_problem(name, loss, rng):
    """Gap ~0 at the cvxpy optimum, >= 0 at feasible points, and no smaller
    than the true suboptimality (gap >= P(W) - P*)."""
    problem = make_problem(2, loss, "wide")
    est = _estimator(name, loss, problem)
    alpha = _alpha(name, est, problem, loss)
    est.set_params(alpha=alpha)
    fitted = est._prepare(problem.X, problem.y)
    penalty = _penalty(name, alpha)
    best, coef, intercept = _cvxpy_optimum(problem, loss, penalty, False, True)
    design = fitted.design

    def gap_at(coef_t, intercept_t):
        W, b = fitted.solver_point(coef_t, intercept_t)
        gap, primal, _ = duality_gap(fitted.loss, penalty, design, fitted.y,
                                     fitted.s, W, design.linear_part(W), b)
        return gap, primal

    gap, primal = gap_at(coef, intercept)
    assert abs(gap) <= 1e-7 * abs(best), gap
    assert primal == pytest.approx(best, rel=1e-7)
    for scale in (0.1, 1.0):
        random = scale * np.abs(rng.standard_normal(coef.shape))
        gap, primal = gap_at(random, intercept)
        assert gap >= primal - best - 1e-9 >= -1e-9


# ------------------------------------------------------------ scikit-learn


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_independent_l1_equals_sklearn_positive_lasso(fit_intercept):
    """One Lasso(positive=True) per task: (1/2n)||y - Xw - b||^2 + alpha||w||_1
    is the mean squared loss plus the L1 penalty, alpha for alpha."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((70, 8)) + 0.5
    Y = X @ rng.standard_normal((8, 3)) + 0.5 * rng.standard_normal((70, 3)) + 1.0
    alpha = 0.05
    est = mtstats.IndependentRegressor(alpha, penalty="l1", positive=True,
                                       fit_intercept=fit_intercept, tol=1e-14,
                                       max_iter=100_000)
    for t in range(3):  # one task, 1-D y
        ref = Lasso(alpha=alpha, positive=True, fit_intercept=fit_intercept,
                    tol=1e-12, max_iter=100_000).fit(X, Y[:, t])
        est.fit(X, Y[:, t])
        np.testing.assert_allclose(est.coef_[0], ref.coef_, atol=1e-6)
        np.testing.assert_allclose(est.intercept_[0], ref.intercept_, atol=1e-6)
        assert (ref.coef_ == 0).any() and (est.coef_[0] == 0).any()
    est.fit(X, Y)  # all tasks at once: the same per-task fits
    for t in range(3):
        ref = Lasso(alpha=alpha, positive=True, fit_intercept=fit_intercept,
                    tol=1e-12, max_iter=100_000).fit(X, Y[:, t])
        np.testing.assert_allclose(est.coef_[t], ref.coef_, atol=1e-6)


# ---------------------------------------------------------------- alpha_max


def _signed_data(loss, seed=0):
    """Strongest association negative, a weaker one positive: alpha_max under
    positivity is set by the positive one and is smaller than the plain one."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((120, 5))
    eta = X @ np.array([-2.0, 0.7, 0.0, -1.0, 0.4])
    eta = np.column_stack([eta, eta + 0.3 * rng.standard_normal(120)])
    if loss == "squared":
        return X, eta + 0.5 * rng.standard_normal(eta.shape)
    return X, (eta + rng.logistic(size=eta.shape) > 0).astype(int)


@pytest.mark.parametrize("name", ["grouplasso", "grouplasso-mix", "independent-l1",
                                  "pooled-l1"])
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_alpha_max_under_positivity(name, loss):
    X, Y = _signed_data(loss)
    family, extra, kind, rho, pooled = MODELS[name]
    suffix = "Regressor" if loss == "squared" else "Classifier"
    est = getattr(mtstats, family + suffix)(positive=True, tol=1e-10,
                                            max_iter=100_000, **extra)
    top = est.alpha_max(X, Y)
    plain = est.__class__(**{**est.get_params(), "positive": False}).alpha_max(X, Y)
    # reference: the positive part of -G at the intercept-only model, rows of
    # (X - mean)^T (y - mean) / n
    V = (X - X.mean(0)).T @ (Y - Y.mean(0)) / X.shape[0]
    V = V.sum(axis=1, keepdims=True) if pooled else V
    Vp = np.maximum(V, 0)
    reference = (Vp.max() if kind == "l1" else np.linalg.norm(Vp, axis=1).max()) / rho
    assert top == pytest.approx(reference, rel=1e-10)
    assert 0 < top < 0.8 * plain
    est.set_params(alpha=top * 1.001).fit(X, Y)
    assert np.all(est.coef_ == 0)
    est.set_params(alpha=top * 0.98).fit(X, Y)
    assert np.all(est.coef_ >= 0) and est.coef_.max() > 0


# ---------------------------------------------------------- paths and CV


@pytest.mark.parametrize("name", ["grouplasso", "independent-l1"])
def test_screened_positive_path_equals_the_unscreened_one(name):
    X, Y = _signed_data("squared", seed=1)
    family, extra, _, _, _ = MODELS[name]
    est = getattr(mtstats, family + "Regressor")(positive=True, tol=1e-9,
                                                 max_iter=100_000, **extra)
    screened = regularization_path(est, X, Y, n_alphas=8)
    plain = regularization_path(est, X, Y, n_alphas=8, screening=False)
    assert screened.converged.all() and plain.converged.all()
    assert np.all(screened.coef >= 0)
    np.testing.assert_allclose(screened.coef, plain.coef, atol=1e-4)
    assert np.abs(screened.coef[0]).max() < 1e-12  # the grid starts at alpha_max


@pytest.mark.parametrize("name", ["GroupLassoRegressorCV", "IndependentClassifierCV",
                                  "PooledRegressorCV"])
def test_cv_twins_fit_non_negative_models(name):
    loss = "logistic" if "Classifier" in name else "squared"
    X, Y = _signed_data(loss, seed=2)
    params = {} if name.startswith("GroupLasso") else {"penalty": "l1"}
    est = getattr(mtstats, name)(positive=True, alphas=6, cv=3, random_state=0,
                                 **params).fit(X, Y)
    assert est.positive is True
    assert np.all(est.coef_ >= 0) and est.coef_.max() > 0
    base = getattr(mtstats, name[:-2])(positive=True, **params)
    assert est.alphas_[0] == pytest.approx(base.alpha_max(X, Y), rel=1e-10)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("name", ["GroupLassoRegressor", "IndependentRegressor",
                                  "GroupLassoRegressorCV"])
def test_positive_with_a_shared_mean_is_refused(name):
    X, Y = _signed_data("squared")
    est = getattr(mtstats, name)(positive=True, shared_mean=True)
    with pytest.raises(ValueError, match="positive=True cannot be combined with "
                                         "shared_mean=True"):
        est.fit(X, Y)
    with pytest.raises(ValueError, match="positive=True cannot be combined"):
        PartialPooling(L21(1.0, positive=True), free_mean=True)


def test_positive_must_be_a_boolean():
    X, Y = _signed_data("squared")
    with pytest.raises(InvalidParameterError, match="positive"):
        mtstats.PooledRegressor(positive="yes").fit(X, Y)
