"""High precision is reachable: FISTA's certificate at 1e-10 and below.

The settings are scikit-learn's own precision tests
(``sklearn/linear_model/tests/test_coordinate_descent.py``):

* ``test_multi_task_lasso_vs_skglm`` -- a 5 x 4 Vandermonde design, 3 tasks,
  ``alpha = 0.1``, whose reference numbers come from skglm 0.5;
* ``test_enet_ridge_consistency`` -- ``make_regression`` with 300 samples,
  100 features, effective rank 10 (ill-conditioned), 3 targets, where the
  elastic net with ``l1_ratio = 0`` must equal ``Ridge(solver="svd")``;

plus a d > n group lasso against ``MultiTaskLasso`` and the elastic-net mix
against ``MultiTaskElasticNet``. Every case runs with the row datafit and the
Gram datafit (:mod:`mtstats.datafits`). Coefficients must agree to 1e-6 (of
the largest coefficient) and intercepts to 1e-7.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskElasticNet, MultiTaskLasso, Ridge

import mtstats
import mtstats.datafits

COEF_RTOL = 1e-6  # of the largest reference coefficient
INTERCEPT_ATOL = 1e-7


@pytest.fixture(params=["rows", "gram"])
def datafit_form(request, monkeypatch):
    """Force the solver's datafit to rows or to Gram statistics."""
    monkeypatch.setattr(mtstats.datafits, "gram_pays",
                        lambda design, s: request.param == "gram")
    return request.param


def fit_strictly(est, X, Y):
    """Fit; a ConvergenceWarning is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return est.fit(X, Y)


def reference(est, X, Y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, Y)


def assert_same_model(est, coef, intercept):
    scale = np.abs(coef).max()
    np.testing.assert_allclose(est.coef_, coef, rtol=0, atol=COEF_RTOL * scale)
    np.testing.assert_allclose(est.intercept_, intercept, rtol=0,
                               atol=INTERCEPT_ATOL)


def group_lasso_objective(X, Y, coef, intercept, alpha):
    R = Y - X @ coef.T - intercept
    return (np.sum(R * R) / (2 * X.shape[0])
            + alpha * np.linalg.norm(coef, axis=0).sum())


def test_vandermonde_group_lasso_matches_skglm(datafit_form):
    """Regression test: FISTA stalled at a gap of 2e-7 (never converging
    at tol=1e-10) because rounding made its line search halve the step to
    1e-30; scikit-learn's numbers (from skglm) are met to its tolerances."""
    X = np.vander(np.arange(5), 4)
    Y = np.arange(15).reshape(5, 3)
    est = fit_strictly(mtstats.GroupLassoRegressor(alpha=0.1, tol=1e-10,
                                                   max_iter=50_000), X, Y)
    null = 0.5 * np.sum((Y - Y.mean(axis=0)) ** 2) / 5
    assert est.converged_ and 0 <= est.dual_gap_ <= 1e-10 * null
    np.testing.assert_allclose(group_lasso_objective(X, Y, est.coef_,
                                                     est.intercept_, 0.1),
                               0.4965993692547902, rtol=1e-10)
    np.testing.assert_allclose(est.intercept_, [0.219942959407, 1.219942959407,
                                                2.219942959407], rtol=1e-7)
    np.testing.assert_allclose(
        est.coef_, np.tile([-0.032075014794, 0.25430904614, 2.44785152982, 0],
                           (3, 1)), rtol=1e-6)


@pytest.mark.parametrize("tol", [1e-10, 1e-13])
def test_wide_group_lasso_matches_multitask_lasso(datafit_form, tol):
    """d > n (50 x 200): the objective used to sit 9e-12 above scikit-learn's
    optimum, whatever the number of iterations."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 200)) + rng.uniform(-1, 1, 200)
    W = np.zeros((200, 3))
    W[:5] = rng.standard_normal((5, 3))
    Y = X @ W + 0.1 * rng.standard_normal((50, 3)) + [1.0, -2.0, 3.0]
    alpha = 0.01
    est = fit_strictly(mtstats.GroupLassoRegressor(alpha=alpha, tol=tol,
                                                   max_iter=100_000), X, Y)
    ref = reference(MultiTaskLasso(alpha=alpha, tol=1e-14, max_iter=1_000_000),
                    X, Y)
    p_est = group_lasso_objective(X, Y, est.coef_, est.intercept_, alpha)
    p_ref = group_lasso_objective(X, Y, ref.coef_, ref.intercept_, alpha)
    null = 0.5 * np.sum((Y - Y.mean(axis=0)) ** 2) / 50
    assert p_est <= p_ref + tol * null
    if tol < 1e-12:
        assert_same_model(est, ref.coef_, ref.intercept_)


def _enet_ridge_data(seed, n_targets=3):
    """``test_enet_ridge_consistency``'s data (scikit-learn)."""
    X, y = make_regression(n_samples=300, n_features=100, n_targets=n_targets,
                           effective_rank=10, n_informative=50,
                           random_state=np.random.RandomState(seed))
    return X, y


@pytest.mark.parametrize("ridge_alpha", [1e-6, 1e-1, 1.0, 1e6])
def test_enet_ridge_consistency(datafit_form, ridge_alpha):
    """The group-lasso family at ``l1_ratio = 0`` and the ridge penalty both
    equal ``Ridge(solver="svd")`` at ``alpha = ridge_alpha / n``."""
    X, Y = _enet_ridge_data(0)
    ridge = Ridge(alpha=ridge_alpha, solver="svd").fit(X, Y)
    for est in (mtstats.GroupLassoRegressor(l1_ratio=0.0, alpha=ridge_alpha / 300),
                mtstats.IndependentRegressor(penalty="l2", alpha=ridge_alpha / 300)):
        fit_strictly(est.set_params(tol=1e-15, max_iter=100_000), X, Y)
        assert est.converged_
        assert_same_model(est, ridge.coef_, ridge.intercept_)


def test_single_target_ridge_consistency(datafit_form):
    X, y = _enet_ridge_data(1, n_targets=1)
    ridge = Ridge(alpha=0.1, solver="svd").fit(X, y)
    est = fit_strictly(mtstats.IndependentRegressor(
        penalty="l2", alpha=0.1 / 300, tol=1e-15, max_iter=100_000), X, y)
    assert_same_model(est, ridge.coef_[None, :], [ridge.intercept_])


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_enet_data_matches_multitask_elastic_net(datafit_form, l1_ratio):
    X, Y = _enet_ridge_data(2)
    est = mtstats.GroupLassoRegressor(l1_ratio=l1_ratio, tol=1e-13,
                                      max_iter=100_000)
    alpha = 0.05 * est.alpha_max(X, Y)
    fit_strictly(est.set_params(alpha=alpha), X, Y)
    cls = MultiTaskLasso if l1_ratio == 1.0 else MultiTaskElasticNet
    params = {} if l1_ratio == 1.0 else {"l1_ratio": l1_ratio}
    ref = reference(cls(alpha=alpha, tol=1e-13, max_iter=100_000, **params), X, Y)
    assert_same_model(est, ref.coef_, ref.intercept_)


def test_float32_reaches_its_tolerance_floor():
    """float32 stays float32; a tol below float32's resolution is floored at
    a few epsilons (documented) and converges there."""
    X, Y = _enet_ridge_data(3)
    X, Y = X / X.std(), Y / Y.std()
    est32 = fit_strictly(mtstats.GroupLassoRegressor(alpha=1e-3, tol=1e-12,
                                                     max_iter=100_000),
                         X.astype(np.float32), Y.astype(np.float32))
    est64 = fit_strictly(mtstats.GroupLassoRegressor(alpha=1e-3, tol=1e-12,
                                                     max_iter=100_000), X, Y)
    assert est32.converged_ and est32.coef_.dtype == np.float32
    assert est32.intercept_.dtype == np.float32
    null = 0.5 * np.sum((Y - Y.mean(axis=0)) ** 2) / X.shape[0]
    eps32 = np.finfo(np.float32).eps
    assert est32.dual_gap_ <= 8 * eps32 * null * (1 + 1e-3)
    # the float32 fit is as good as float32 data allow, in float64 terms
    p32 = group_lasso_objective(X, Y, est32.coef_.astype(float),
                                est32.intercept_.astype(float), 1e-3)
    p64 = group_lasso_objective(X, Y, est64.coef_, est64.intercept_, 1e-3)
    assert p32 - p64 <= 50 * eps32 * null


def _difference_formula(loss, eta, zeta, y):
    """``l(eta) - l(zeta) - l'(zeta)(eta - zeta)`` row by row, naively."""
    one = np.ones(1)
    return np.array([
        loss.value(eta[i:i + 1], y[i:i + 1], one)
        - loss.value(zeta[i:i + 1], y[i:i + 1], one)
        - loss.gradient(zeta[i:i + 1], y[i:i + 1], one)[0] * (eta[i] - zeta[i])
        for i in range(eta.shape[0])])


@pytest.mark.parametrize("loss", [mtstats.losses.SquaredLoss(),
                                  mtstats.losses.LogisticLoss()],
                         ids=lambda loss: loss.name)
def test_bregman_divergence_keeps_its_relative_precision(loss, rng):
    """The line search's Bregman term, ``l(eta) - l(zeta) - l'(zeta)(eta -
    zeta)``, against the naive difference (moderate steps, where it still has
    digits) and against its second-order expansion ``l''(zeta) diff^2 / 2``
    (steps of 1e-7, where the difference has no digit left and the
    expansion is exact to 1e-7); ``y`` cancels."""
    zeta = 8 * rng.standard_normal(200)
    y = (rng.random(200) < 0.5).astype(float)
    eta = zeta + 0.1 * rng.standard_normal(200)
    np.testing.assert_allclose(loss.bregman(eta, zeta, y),
                               _difference_formula(loss, eta, zeta, y),
                               rtol=1e-9, atol=1e-13)
    eta = zeta + 1e-7 * rng.uniform(0.5, 1.0, 200) * rng.choice([-1, 1], 200)
    q = 1 / (1 + np.exp(np.abs(zeta)))  # p (1 - p) without cancellation
    curvature = q * (1 - q) if loss.name == "logistic" else np.ones_like(zeta)
    second_order = 0.5 * curvature * (eta - zeta) ** 2
    np.testing.assert_allclose(loss.bregman(eta, zeta, y), second_order,
                               rtol=1e-6, atol=1e-300)
    np.testing.assert_array_equal(loss.bregman(eta, zeta, y),
                                  loss.bregman(eta, zeta, 1 - y))


def test_small_scale_features_do_not_slow_the_intercepts_down():
    """Regression test: with centred features of small scale (effective rank
    10) the intercepts' curvature, 300 times the coefficients', set one step
    for both, and a group lasso took 2,300 iterations to tol=1e-10; the
    intercepts now step in their own metric."""
    X, Y = _enet_ridge_data(2)
    est = mtstats.GroupLassoRegressor(tol=1e-10, max_iter=100_000)
    est.set_params(alpha=0.05 * est.alpha_max(X, Y))
    assert fit_strictly(est, X, Y).n_iter_ <= 300


def test_gram_statistics_are_used_where_they_pay(rng):
    from mtstats._designs import SharedDesign
    from mtstats.datafits import GramDatafit, RowDatafit, make_datafit

    squared, logistic = mtstats.losses.SquaredLoss(), mtstats.losses.LogisticLoss()
    tall, wide = rng.standard_normal((400, 20)), rng.standard_normal((20, 400))
    for X, expected in ((tall, GramDatafit), (wide, RowDatafit)):
        Y, s = rng.standard_normal((X.shape[0], 3)), np.full((X.shape[0], 3), 0.1)
        assert type(make_datafit(squared, SharedDesign(X, 3), Y, s)) is expected
        assert type(make_datafit(logistic, SharedDesign(X, 3), Y, s)) is RowDatafit
