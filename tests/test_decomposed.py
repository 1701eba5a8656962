"""Decomposition models (W = P + Q): cvxpy optimum, exact alpha_max, recovery."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from test_structure_estimators import CLARABEL, _blocks

from mtstats import (
    GroupLassoRegressorCV,
    IndependentRegressorCV,
    TraceNormRegressorCV,
    regularization_path,
)
from mtstats.datasets import make_multitask_classification, make_multitask_regression
from mtstats.estimators.cv_decomposed import DirtyRegressorCV, SparseLowRankRegressorCV
from mtstats.estimators.decomposed import (
    DirtyClassifier,
    DirtyRegressor,
    SparseLowRankClassifier,
    SparseLowRankRegressor,
)
from mtstats.estimators.robust import (
    RobustGroupLassoClassifier,
    RobustGroupLassoRegressor,
    RobustTraceNormClassifier,
    RobustTraceNormRegressor,
)
from mtstats.penalties.components import ColumnL21, L1Inf


def _cvx_norms(P, Q, name, block_norm):
    """The two parts' norms, written independently of mtstats."""
    d, T = P.shape
    if name == "dirty":
        block = (cp.sum(cp.max(cp.abs(P), axis=1)) if block_norm == "linf"
                 else cp.sum(cp.norm(P, 2, axis=1)))
        return block, cp.sum(cp.abs(Q))
    if name == "sparse_low_rank":
        return cp.normNuc(P), cp.sum(cp.abs(Q))
    columns = cp.sum(cp.norm(Q, 2, axis=0))
    if name == "robust_trace":
        return cp.normNuc(P), columns
    return cp.sum(cp.norm(P, 2, axis=1)), columns


MODELS = {
    "dirty": (DirtyRegressor, DirtyClassifier, dict(shared_ratio=0.7)),
    "dirty_l21": (DirtyRegressor, DirtyClassifier,
                  dict(shared_ratio=0.65, block_norm="l21")),
    "sparse_low_rank": (SparseLowRankRegressor, SparseLowRankClassifier,
                        dict(shared_ratio=0.6)),
    "robust_trace": (RobustTraceNormRegressor, RobustTraceNormClassifier,
                     dict(shared_ratio=0.55)),
    "robust_group": (RobustGroupLassoRegressor, RobustGroupLassoClassifier,
                     dict(shared_ratio=0.55)),
}


def _data(loss, layout, seed):
    make = make_multitask_regression if loss == "squared" else \
        make_multitask_classification
    X, y, _ = make(n_tasks=4, n_features=5, n_samples=(20, 40), layout=layout,
                   random_state=seed,
                   **({"missing_fraction": 0.2} if layout == "wide" else {}))
    return X, y


def _loss_terms(blocks, W, b, loss):
    terms = []
    for t, (X_t, y_t) in enumerate(blocks):
        eta = X_t @ W[:, t] + (0.0 if b is None else b[t])
        if loss == "squared":
            terms.append(0.5 * cp.sum_squares(y_t - eta) / len(y_t))
        else:
            terms.append(cp.sum(cp.logistic(eta) - cp.multiply(y_t, eta)) / len(y_t))
    return cp.sum(terms)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("name", list(MODELS))
def test_objective_reaches_the_cvxpy_optimum(name, loss, layout, fit_intercept):
    regressor, classifier, params = MODELS[name]
    est = (regressor if loss == "squared" else classifier)(
        **params, fit_intercept=fit_intercept, tol=1e-10, max_iter=100_000,
        task_column=-1 if layout == "long" else None)
    X, y = _data(loss, layout, seed=3)
    est.set_params(alpha=0.3 * est.alpha_max(X, y)).fit(X, y)
    blocks = _blocks(X, y, layout)
    d, T = X.shape[1] - (layout == "long"), len(blocks)
    P, Q = cp.Variable((d, T)), cp.Variable((d, T))
    b = cp.Variable(T) if fit_intercept else None
    shared, other = _cvx_norms(P, Q, name.replace("_l21", ""),
                               params.get("block_norm", "linf"))
    s = params["shared_ratio"]
    objective = _loss_terms(blocks, P + Q, b, loss) + est.alpha * (
        s * shared + (1 - s) * other)
    problem = cp.Problem(cp.Minimize(objective))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "may be inaccurate"
        problem.solve(**CLARABEL)
    # our parts, evaluated in the cvxpy expression: an independent objective
    P.value, Q.value = (getattr(est, n).T for n in est._part_names)
    if fit_intercept:
        b.value = est.intercept_
    ours = objective.value
    assert est.converged_
    assert abs(ours - problem.value) <= 1e-6 * abs(problem.value)
    assert ours == pytest.approx(est.objective_, rel=1e-7)
    assert est.dual_gap_ <= 1e-8 * abs(problem.value)
    np.testing.assert_allclose(est.coef_, sum(getattr(est, n)
                                              for n in est._part_names), atol=1e-12)


@pytest.mark.parametrize("name", list(MODELS))
def test_alpha_max_is_exact(name):
    regressor, _, params = MODELS[name]
    X, y = _data("squared", "wide", seed=1)
    est = regressor(**params, tol=1e-10)
    top = est.alpha_max(X, y)
    assert np.abs(est.set_params(alpha=1.001 * top).fit(X, y).coef_).max() == 0
    assert np.abs(est.set_params(alpha=0.98 * top).fit(X, y).coef_).max() > 0


@pytest.mark.parametrize("norm", [L1Inf, ColumnL21])
def test_part_prox_matches_cvxpy(norm):
    rng = np.random.default_rng(0)
    V = 2 * rng.standard_normal((6, 4))
    Z = cp.Variable(V.shape)
    value = (cp.sum(cp.max(cp.abs(Z), axis=1)) if norm is L1Inf
             else cp.sum(cp.norm(Z, 2, axis=0)))
    cp.Problem(cp.Minimize(0.5 * cp.sum_squares(Z - V) + 0.7 * 1.3 * value)).solve(
        **CLARABEL)
    np.testing.assert_allclose(norm(0.7).prox(V, 1.3), Z.value, atol=1e-7)
    # the dual norm is the dual: <V, W> <= norm(W) * dual(V) with equality
    W = rng.standard_normal(V.shape)
    assert np.sum(V * W) <= norm(1.0).norm(W) * norm(1.0).dual_norm(V) + 1e-12


def test_warm_start_and_path_reuse_the_parts():
    X, y = _data("squared", "wide", seed=2)
    est = DirtyRegressor(alpha=0.05, tol=1e-10, warm_start=True).fit(X, y)
    n_cold = est.n_iter_
    est.fit(X, y)
    assert est.n_iter_ < n_cold / 2
    path = regularization_path(DirtyRegressor(tol=1e-8), X, y, n_alphas=6)
    assert np.abs(path.coef[0]).max() < 1e-12  # alpha_max: zero up to rounding
    assert np.abs(path.coef[-1]).max() > 0.1
    assert path.converged.all()


# ------------------------------------------------------------------ recovery

def _long(W, seed, n=40, noise=1.0):
    """Long-layout data from known coefficients W (d x T)."""
    rng = np.random.default_rng(seed)
    d, T = W.shape
    X = rng.standard_normal((n * T, d))
    tasks = np.repeat(np.arange(T), n)
    y = np.einsum("ij,ji->i", X, W[:, tasks]) + noise * rng.standard_normal(n * T)
    return np.column_stack([X, tasks]), y


def _error(est, W):
    return np.linalg.norm(est.coef_.T - W) / np.linalg.norm(W)


CV = dict(alphas=12, cv=3, random_state=0, task_column=-1)


def test_dirty_model_recovers_block_plus_sparse_coefficients():
    rng = np.random.default_rng(0)
    d, T = 20, 8
    W = np.zeros((d, T))
    W[:4] = rng.choice([-1, 1], (4, T)) * rng.uniform(1, 2, (4, T))
    W[rng.integers(4, d, T), np.arange(T)] = rng.choice([-1, 1], T) * 1.5
    X, y = _long(W, seed=1)
    dirty = DirtyRegressorCV(**CV).fit(X, y)
    peers = [IndependentRegressorCV(penalty="l1", **CV), GroupLassoRegressorCV(**CV)]
    errors = [_error(p.fit(X, y), W) for p in peers]
    # measured: 0.17 against 0.20 (per-task lasso) and 0.24 (group lasso)
    assert _error(dirty, W) < 0.95 * min(errors)
    assert np.all(np.abs(dirty.block_coef_[:, :4]) > 0)


def test_sparse_low_rank_recovers_rank_one_plus_sparse_coefficients():
    rng = np.random.default_rng(0)
    d, T = 20, 8
    W = np.outer(rng.standard_normal(d), rng.standard_normal(T))
    W[rng.integers(0, d, T), np.arange(T)] += rng.choice([-1, 1], T) * 2
    X, y = _long(W, seed=1)
    model = SparseLowRankRegressorCV(**CV).fit(X, y)
    peers = [TraceNormRegressorCV(**CV), IndependentRegressorCV(penalty="l1", **CV)]
    errors = [_error(p.fit(X, y), W) for p in peers]
    # measured: 0.11 against 0.17 (trace norm) and 0.20 (per-task lasso)
    assert _error(model, W) < 0.85 * min(errors)


@pytest.mark.parametrize("cls", [RobustTraceNormRegressor, RobustGroupLassoRegressor])
def test_robust_models_rank_the_outlier_tasks_first(cls):
    rng = np.random.default_rng(0)
    d, T, outliers = 20, 10, [1, 5]
    if cls is RobustTraceNormRegressor:
        W = np.outer(rng.standard_normal(d), rng.uniform(0.5, 1.5, T))
    else:
        W = np.zeros((d, T))
        W[:4] = rng.standard_normal((4, T))
    W[:, outliers] = 2 * rng.standard_normal((d, 2))
    X, y = _long(W, seed=2, n=60, noise=0.5)
    est = cls(shared_ratio=0.52, task_column=-1)
    est.set_params(alpha=0.3 * est.alpha_max(X, y)).fit(X, y)
    strength = np.linalg.norm(est.outlier_coef_, axis=1)
    assert sorted(np.argsort(strength)[-2:]) == outliers
    assert set(outliers) <= set(est.outlier_tasks_)


def test_bad_ratio_and_unsupported_options_are_refused():
    X, y = _data("squared", "wide", seed=0)
    with pytest.raises(ValueError, match="shared_ratio"):
        DirtyRegressor(shared_ratio=1.0).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        DirtyRegressor(alpha=0.0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        DirtyClassifier(alpha=0.05).fit(X, (np.nan_to_num(y) > 0).astype(int))


# ------------------------------------------------ the how-to page's own code

def _page_code_blocks():
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "docs" /
            "adding_a_formulation.rst").read_text(encoding="utf-8")
    blocks = []
    for chunk in text.split(".. code-block:: python\n")[1:]:
        lines = [line for line in chunk.splitlines()[1:]]
        body = []
        for line in lines:
            if line and not line.startswith("    "):
                break
            body.append(line[4:])
        blocks.append("\n".join(body))
    return blocks


def test_the_how_to_page_code_runs_and_reaches_the_optimum():
    """The page's estimator pair and its parts example work as the page says."""
    first, second = _page_code_blocks()
    namespace = {}
    exec(first, namespace)  # noqa: S102 - our own documentation
    X, y = _data("squared", "wide", seed=4)
    est = namespace["BlockRegressor"](alpha=0.05, tol=1e-10).fit(X, y)
    W = cp.Variable((X.shape[1], y.shape[1]))
    b = cp.Variable(y.shape[1])
    blocks = _blocks(X, y, "wide")
    problem = cp.Problem(cp.Minimize(_loss_terms(blocks, W, b, "squared") + 0.05 *
                                     cp.sum(cp.max(cp.abs(W), axis=1))))
    problem.solve(**CLARABEL)
    assert abs(est.objective_ - problem.value) <= 1e-6 * problem.value
    exec(second, namespace)  # noqa: S102
    from mtstats.estimators._prediction import MultitaskRegressorMixin

    model = type("LowRankPlusFeaturesRegressor",
                 (MultitaskRegressorMixin, namespace["_LowRankPlusFeaturesModel"]), {})
    fitted = model(alpha=0.05).fit(X, y)
    np.testing.assert_allclose(fitted.low_rank_coef_ + fitted.feature_coef_,
                               fitted.coef_, atol=1e-12)
