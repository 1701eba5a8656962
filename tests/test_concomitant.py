r"""``task_weight="noise"``: the concomitant noise scale of every task.

The estimators minimise, jointly in ``(W, b, sigma)``,

    sum_t [||y_t - X_t w_t - b_t||^2 / (2 n_t sigma_t) + sigma_t / 2]
    + alpha * Omega(W)

subject to ``sigma_t >= sigma_min_t = 1e-2 * max(s_t, median_s s_s)``, with
``s_t`` the (population) standard deviation of ``y_t``
(:mod:`mtstats.solvers.concomitant`). The tests check it against

1. an independent cvxpy/Clarabel formulation (``quad_over_lin``, free
   intercepts, the bound active on one task), objective, coefficients, noise
   scales and the certificate;
2. the known noise scales of generated heteroscedastic data;
3. closed forms: ``alpha = 0`` is per-task least squares with ``sigma`` the
   residual RMS; with one task the fit is the plain fit at ``alpha * sigma``;
   with several it is the plain fit with ``task_weight = 1 / sigma``;
   ``alpha_max`` from the dual norm of the null model's gradient; exact scale
   equivariance ``y -> c y``;
4. the estimator plumbing (classifiers refuse, clone, paths, ``*CV``) and the
   kernel on every array namespace.

The joint objective is always recomputed here with NumPy from ``coef_``,
``intercept_`` and ``task_noise_scale_``.
"""

from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from mtstats import (
    GroupLassoClassifier,
    GroupLassoRegressor,
    GroupLassoRegressorCV,
    IndependentRegressor,
    TraceNormRegressor,
    regularization_path,
)
from mtstats._backend import namespace_for_device, to_numpy
from mtstats._designs import build_design
from mtstats._tasks import TaskData
from mtstats.losses import SquaredLoss
from mtstats.penalties import L21, SquaredFrobenius
from mtstats.solvers.concomitant import solve_concomitant

CLARABEL = dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10, max_iter=500)
FIT_TOL = 1e-10
ALPHA = 0.05

# --------------------------------------------------------------------------
# Data and references
# --------------------------------------------------------------------------


def _long(rng, sigmas, sizes, d=5, constant_task=False):
    """Long layout (task column last), and each task's ``(X_t, y_t)``."""
    T = len(sigmas)
    index = np.repeat(np.arange(T), sizes)
    X = rng.standard_normal((index.size, d)) + 0.5
    W = rng.standard_normal((d, T))
    y = (np.einsum("ij,ji->i", X, W[:, index]) + 1.0 + np.arange(T)[index]
         + np.asarray(sigmas)[index] * rng.standard_normal(index.size))
    if constant_task:
        y[index == 0] = 2.5
    order = rng.permutation(index.size)  # tasks interleaved
    X, y, index = X[order], y[order], index[order]
    blocks = [(X[index == t], y[index == t]) for t in range(T)]
    return np.column_stack([X, index]), y, blocks


def _wide(rng, sigmas, n=60, d=5, constant_task=False):
    """Wide layout with NaN-masked labels, and each task's observed rows."""
    T = len(sigmas)
    X = rng.standard_normal((n, d)) + 0.5
    Y = X @ rng.standard_normal((d, T)) + np.asarray(sigmas) * rng.standard_normal(
        (n, T))
    if constant_task:
        Y[:, 0] = -1.5
    Y[rng.random((n, T)) < 0.2] = np.nan
    blocks = [(X[~np.isnan(Y[:, t])], Y[~np.isnan(Y[:, t]), t]) for t in range(T)]
    return X, Y, blocks


def _sigma_min(blocks):
    """The documented default bound, from the targets alone."""
    spread = np.array([np.std(y) for _, y in blocks])
    return 1e-2 * np.maximum(spread, np.median(spread))


def _joint_objective(blocks, coef, intercept, sigma, penalty_value):
    total = penalty_value
    for t, (X, y) in enumerate(blocks):
        r = y - X @ coef[t] - intercept[t]
        total += r @ r / (2 * len(y) * sigma[t]) + sigma[t] / 2
    return total


PENALTIES = {  # name: (estimator, cvxpy penalty, NumPy penalty) on W (d x T)
    "group_lasso": (GroupLassoRegressor,
                    lambda W: ALPHA * cp.sum(cp.norm(W, 2, axis=1)),
                    lambda W: ALPHA * np.sum(np.linalg.norm(W, axis=1))),
    "ridge": (IndependentRegressor,
              lambda W: ALPHA / 2 * cp.sum_squares(W),
              lambda W: ALPHA / 2 * np.sum(W * W)),
    "trace_norm": (TraceNormRegressor,
                   lambda W: ALPHA * cp.normNuc(W),
                   lambda W: ALPHA * np.linalg.svd(W, compute_uv=False).sum()),
}


def _cvxpy(blocks, penalty, sigma_min):
    d, T = blocks[0][0].shape[1], len(blocks)
    W, b, sigma = cp.Variable((d, T)), cp.Variable(T), cp.Variable(T)
    fit = sum(cp.quad_over_lin(y - X @ W[:, t] - b[t], sigma[t]) / (2 * len(y))
              + sigma[t] / 2 for t, (X, y) in enumerate(blocks))
    problem = cp.Problem(cp.Minimize(fit + penalty(W)), [sigma >= sigma_min])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "solution may be inaccurate" at 1e-10
        problem.solve(solver="CLARABEL", **CLARABEL)
    return problem.value, W.value.T, b.value, sigma.value


# --------------------------------------------------------------------------
# 1. cvxpy
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PENALTIES))
@pytest.mark.parametrize("layout", ["long", "wide"])
def test_joint_problem_matches_cvxpy(name, layout, rng):
    make, cvx_penalty, np_penalty = PENALTIES[name]
    sigmas = [1.0, 0.3, 2.0, 0.7]  # task 0 constant: its bound is active
    if layout == "long":
        X, y, blocks = _long(rng, sigmas, [30, 45, 60, 40], constant_task=True)
        kwargs = {"task_column": -1}
    else:
        X, y, blocks = _wide(rng, sigmas, constant_task=True)
        kwargs = {}
    sigma_min = _sigma_min(blocks)
    value, coef, intercept, sigma = _cvxpy(blocks, cvx_penalty, sigma_min)
    assert sigma[0] == pytest.approx(sigma_min[0], rel=1e-6)  # bound exercised
    assert np.all(sigma[1:] > 1.5 * sigma_min[1:])

    est = make(alpha=ALPHA, task_weight="noise", tol=FIT_TOL, **kwargs).fit(X, y)
    mine = _joint_objective(blocks, est.coef_, est.intercept_,
                            est.task_noise_scale_, np_penalty(est.coef_.T))
    assert est.converged_
    assert mine == pytest.approx(value, rel=1e-6)
    assert est.objective_ == pytest.approx(mine, rel=1e-8)
    np.testing.assert_allclose(est.coef_, coef, atol=1e-4)
    np.testing.assert_allclose(est.task_noise_scale_, sigma, rtol=1e-4)
    # the certificate bounds the distance to the optimum (cvxpy's value is
    # itself accurate to about 1e-9)
    assert -1e-8 * value <= est.dual_gap_ <= FIT_TOL * 10 * value
    assert est.objective_ - value <= est.dual_gap_ + 1e-8 * value


def test_noise_scale_is_the_residual_rms_or_the_bound(rng):
    X, y, blocks = _long(rng, [1.0, 0.2, 3.0], [40, 50, 60], constant_task=True)
    est = GroupLassoRegressor(alpha=ALPHA, task_column=-1, task_weight="noise",
                              tol=1e-8).fit(X, y)
    rms = np.array([np.sqrt(np.mean((y_t - X_t @ est.coef_[t]
                                     - est.intercept_[t]) ** 2))
                    for t, (X_t, y_t) in enumerate(blocks)])
    expected = np.maximum(rms, _sigma_min(blocks))
    np.testing.assert_allclose(est.task_noise_scale_, expected, rtol=1e-10)
    assert est.task_noise_scale_[0] == pytest.approx(_sigma_min(blocks)[0])


# --------------------------------------------------------------------------
# 2. Known noise scales
# --------------------------------------------------------------------------


def test_recovers_known_noise_scales(rng):
    """Heteroscedastic tasks, ``sigma_t`` from 0.2 to 3, ``n_t = 800``, d = 5.

    At a small ``alpha`` the estimate is the residual RMS of a near-least-
    squares fit with ``p = d + 1`` parameters per task, so ``n sigma_hat^2 /
    sigma^2 ~ chi2(n - p)``: ``sigma_hat / sigma`` has mean about
    ``sqrt(1 - p/n) = 0.996`` and standard deviation ``1/sqrt(2(n - p)) =
    0.025``. The shrinkage of ``alpha = 1e-3`` (in noise units, the plain fit
    at ``alpha * sigma``) moves coefficients by about ``1e-3 sigma`` and the
    mean square by about ``1e-6 sigma^2``. A 10% tolerance is four standard
    deviations for each of the six tasks.
    """
    sigmas = np.geomspace(0.2, 3.0, 6)
    X, y, _ = _long(rng, sigmas, [800] * 6)
    est = GroupLassoRegressor(alpha=1e-3, task_column=-1,
                              task_weight="noise").fit(X, y)
    assert est.converged_
    np.testing.assert_allclose(est.task_noise_scale_ / sigmas, 1.0, atol=0.1)


# --------------------------------------------------------------------------
# 3. Closed forms
# --------------------------------------------------------------------------


def test_unpenalised_fit_is_least_squares_with_rms_scales(rng):
    """alpha = 0: W does not depend on sigma (the stop without a gap)."""
    X, y, blocks = _long(rng, [0.5, 1.0, 2.0], [30, 40, 50])
    est = IndependentRegressor(alpha=0.0, task_column=-1, task_weight="noise",
                               tol=1e-12).fit(X, y)
    assert est.converged_ and np.isnan(est.dual_gap_)
    for t, (X_t, y_t) in enumerate(blocks):
        A = np.column_stack([X_t, np.ones(len(y_t))])
        beta, rss, *_ = np.linalg.lstsq(A, y_t, rcond=None)
        np.testing.assert_allclose(est.coef_[t], beta[:-1], atol=1e-8)
        assert est.task_noise_scale_[t] == pytest.approx(
            np.sqrt(rss[0] / len(y_t)), rel=1e-8)


def test_one_task_is_the_plain_fit_at_alpha_times_sigma(rng):
    X, y, _ = _long(rng, [1.5], [80])
    X = X[:, :-1]
    est = GroupLassoRegressor(alpha=ALPHA, task_weight="noise", tol=1e-12).fit(X, y)
    sigma = est.task_noise_scale_[0]
    plain = GroupLassoRegressor(alpha=ALPHA * sigma, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(est.coef_, plain.coef_, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, plain.intercept_, atol=1e-8)


@pytest.mark.parametrize("make", [GroupLassoRegressor, TraceNormRegressor])
def test_tasks_are_weighted_by_the_inverse_noise_scale(make, rng):
    """At the joint optimum W solves the plain problem with weights 1/sigma_t."""
    X, y, _ = _long(rng, [0.3, 1.0, 2.5, 1.0], [40, 60, 50, 70])
    est = make(alpha=ALPHA, task_column=-1, task_weight="noise", tol=1e-12).fit(X, y)
    plain = make(alpha=ALPHA, task_column=-1, task_weight=1 / est.task_noise_scale_,
                 tol=1e-12).fit(X, y)
    np.testing.assert_allclose(est.coef_, plain.coef_, atol=1e-7)
    np.testing.assert_allclose(est.intercept_, plain.intercept_, atol=1e-7)


@pytest.mark.parametrize("factor", [3.0, 1.7 * 2.0**40, 2.0**-45])
def test_scale_equivariance(factor, rng):
    """For a norm penalty, y -> c y maps the solution to (c W, c b, c sigma) at
    the same alpha; 2**40 and 2**-45 go through the internal rescaling."""
    X, y, _ = _long(rng, [0.5, 1.0, 2.0], [40, 50, 60])
    est = GroupLassoRegressor(alpha=ALPHA, task_column=-1, task_weight="noise",
                              tol=1e-12)
    a, b = clone(est).fit(X, y), clone(est).fit(X, factor * y)
    np.testing.assert_allclose(b.coef_ / factor, a.coef_, atol=1e-8)
    np.testing.assert_allclose(b.intercept_ / factor, a.intercept_, atol=1e-8)
    np.testing.assert_allclose(b.task_noise_scale_ / factor, a.task_noise_scale_,
                               rtol=1e-8)
    assert b.objective_ / factor == pytest.approx(a.objective_, rel=1e-8)


def test_alpha_max_from_the_null_model(rng):
    """W = 0 is optimal iff alpha >= max_j ||(x_j^T r_t / (n_t s_t))_t||, r_t
    the centred targets and s_t their standard deviation."""
    X, y, blocks = _long(rng, [0.5, 1.0, 2.0, 1.0], [40, 50, 60, 30])
    G = np.column_stack([
        (X_t - X_t.mean(axis=0)).T @ (y_t - y_t.mean()) / (len(y_t) * np.std(y_t))
        for X_t, y_t in blocks])
    expected = np.max(np.linalg.norm(G, axis=1))
    est = GroupLassoRegressor(task_column=-1, task_weight="noise", tol=1e-10)
    alpha_max = est.alpha_max(X, y)
    assert alpha_max == pytest.approx(expected, rel=1e-10)
    assert np.abs(est.set_params(alpha=alpha_max).fit(X, y).coef_).max() < 1e-12
    assert np.abs(est.set_params(alpha=0.9 * alpha_max).fit(X, y).coef_).max() > 1e-3


# --------------------------------------------------------------------------
# 4. Estimator plumbing and kernels
# --------------------------------------------------------------------------


def test_classifiers_refuse_noise_weights(rng):
    X = rng.standard_normal((60, 3))
    Y = (X @ rng.standard_normal((3, 2)) > 0).astype(float)
    est = GroupLassoClassifier(task_weight="noise")
    with pytest.raises(ValueError, match="regression"):
        est.fit(X, Y)
    with pytest.raises(ValueError, match="regression"):
        est.alpha_max(X, Y)


def test_pooling_options_are_refused(rng):
    X, y, _ = _long(rng, [0.5, 1.0], [30, 30])
    with pytest.raises(ValueError, match="noise"):
        GroupLassoRegressor(task_column=-1, task_weight="noise",
                            shared_mean=True).fit(X, y)


def test_parameters_clone_and_refit(rng):
    X, y, _ = _long(rng, [0.5, 1.0, 2.0], [30, 40, 50])
    est = GroupLassoRegressor(task_column=-1, task_weight="noise")
    copy = clone(est)
    assert copy.get_params()["task_weight"] == "noise"
    assert est.get_params() == copy.get_params()
    copy.fit(X, y)
    assert copy.task_noise_scale_.shape == (3,)
    assert "task_noise_scale_" not in vars(est)  # clone fitted, est untouched
    copy.set_params(task_weight=None).fit(X, y)
    assert not hasattr(copy, "task_noise_scale_")  # stale scales removed
    with pytest.raises(ValueError, match="task_weight"):
        GroupLassoRegressor(task_column=-1, task_weight="nois").fit(X, y)


def test_path_points_are_the_fits_at_each_alpha(rng):
    X, y, _ = _long(rng, [0.3, 1.0, 2.0, 0.7], [40, 50, 60, 30])
    est = TraceNormRegressor(task_column=-1, task_weight="noise", tol=1e-10)
    path = regularization_path(est, X, y, n_alphas=6, eps=1e-2)
    assert path.converged.all()
    for k in (1, 4):
        fit = clone(est).set_params(alpha=path.alphas[k]).fit(X, y)
        np.testing.assert_allclose(path.coef[k], fit.coef_, atol=1e-6)
        assert path.objective[k] == pytest.approx(fit.objective_, rel=1e-8)


def test_cv_twin_refits_with_noise_scales(rng):
    X, y, _ = _long(rng, [0.3, 1.0, 2.0], [60, 60, 60])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        cv = GroupLassoRegressorCV(task_column=-1, task_weight="noise", alphas=5,
                                   cv=3).fit(X, y)
    assert cv.alpha_ in cv.alphas_ and cv.alphas_[0] == pytest.approx(
        GroupLassoRegressor(task_column=-1, task_weight="noise").alpha_max(X, y))
    assert cv.task_noise_scale_.shape == (3,) and cv.converged_


def test_a_constant_task_does_not_stall_the_solver(rng):
    """Its bound is relative to the median spread, so its weight stays within
    100x of the others' and the solver converges well within max_iter."""
    X, y, blocks = _long(rng, [1.0, 0.5, 2.0, 1.0], [50, 50, 50, 50],
                         constant_task=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GroupLassoRegressor(alpha=ALPHA, task_column=-1, task_weight="noise",
                                  max_iter=500).fit(X, y)
    assert est.converged_
    assert est.task_noise_scale_[0] == pytest.approx(_sigma_min(blocks)[0])


def _task_data(layout, rng):
    sigmas = np.array([0.5, 1.0, 2.0])
    if layout == "wide":
        X, Y, _ = _wide(rng, sigmas)
        observed = ~np.isnan(Y)
        return TaskData("wide", X, np.where(observed, Y, 0.0), observed, None,
                        observed.sum(axis=0))
    sizes = np.array([12, 25, 40])  # unequal: several packed blocks
    X, y, _ = _long(rng, sigmas, sizes)
    return TaskData("long", X[:, :-1], y, None, X[:, -1].astype(int), sizes)


@pytest.mark.parametrize("penalty", [L21(0.05), SquaredFrobenius(0.05)], ids=repr)
@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("pooled", [False, True], ids=["per-task", "pooled"])
def test_kernel_agrees_across_namespaces_and_datafits(xp, penalty, layout, pooled,
                                                      rng):
    """Rows and rescaled Gram statistics, NumPy and ``xp``: one solution."""
    data = _task_data(layout, rng)
    cpu = namespace_for_device("cpu")
    reference = solve_concomitant(SquaredLoss(), penalty,
                                  *build_design(data, cpu, pooled=pooled)[:3],
                                  tol=1e-10, gram=False)
    assert reference.converged
    for gram in (False, True):
        design, y, s, _ = build_design(data, xp, pooled=pooled)
        result = solve_concomitant(SquaredLoss(), penalty, design, y, s, tol=1e-10,
                                   gram=gram)
        assert result.converged
        np.testing.assert_allclose(to_numpy(result.W), reference.W, atol=1e-7)
        np.testing.assert_allclose(result.noise_scale, reference.noise_scale,
                                   rtol=1e-8)
        assert result.objective == pytest.approx(reference.objective, rel=1e-10)
