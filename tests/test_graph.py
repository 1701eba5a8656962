"""Graph-regularised models (SRMTL / TGL): optimum, gap, alpha_max, recovery.

Expected values come from an independent cvxpy/Clarabel formulation of the
whole objective, from bisection on the dual norm's defining equation, and
from data generated with a known coefficient matrix.
"""

import warnings
from functools import partial

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from test_fista import CLARABEL, loss_numpy, make_problem, null_gradient

from mtstats import IndependentRegressor
from mtstats._scaling import DataScale
from mtstats.datafits import make_datafit
from mtstats.estimators.cv_graph import GraphClassifierCV, GraphRegressorCV
from mtstats.estimators.graph import GraphClassifier, GraphRegressor
from mtstats.penalties.graph import GraphPenalty
from mtstats.solvers import SolveResult

FIT_TOL = 1e-11
OBJ_RTOL = 1e-6
COEF_ATOL = 1e-4
L1_RATIO = 0.4  # the graph term gets 60% of alpha: it moves the solution


def _estimator(loss, problem, **params):
    cls = GraphRegressor if loss == "squared" else GraphClassifier
    params = {"tol": FIT_TOL, "max_iter": 100_000, **params}
    return cls(task_column=problem.task_column, **params)


def _random_graph(seed, n_tasks):
    rng = np.random.default_rng(100 + seed)
    A = np.triu(2 * rng.random((n_tasks, n_tasks)) * (rng.random((n_tasks,
                                                                  n_tasks)) < 0.7), 1)
    return A + A.T


def _adjacency(graph, n_tasks):
    if isinstance(graph, str):
        return np.diag(np.ones(n_tasks - 1), 1) + np.diag(np.ones(n_tasks - 1), -1)
    return np.asarray(graph, dtype=float)


def _sparse_norm(W, m, lib=np):
    if lib is cp:
        return (1 - m) * cp.sum(cp.abs(W)) + m * cp.sum(cp.norm(W, 2, axis=1))
    return (1 - m) * np.abs(W).sum() + m * np.linalg.norm(W, axis=1).sum()


def objective(blocks, loss, coef, intercept, alpha, m, A, rho=L1_RATIO):
    """The objective at coefficients (T, d) and intercepts (T,), in NumPy."""
    data = sum(loss_numpy(loss, X_t @ coef[t] + intercept[t], y_t).mean()
               for t, (X_t, y_t) in enumerate(blocks))
    W = coef.T
    laplacian = np.diag(A.sum(axis=1)) - A
    quad = np.trace(W @ laplacian @ W.T)  # sum over unordered edges
    return data + alpha * (rho * _sparse_norm(W, m) + 0.5 * (1 - rho) * quad)


def cvxpy_fit(blocks, loss, alpha, m, A, fit_intercept=True, positive=False,
              rho=L1_RATIO):
    """Optimal value, coefficients (T, d) and intercepts by Clarabel."""
    d, T = blocks[0][0].shape[1], len(blocks)
    W = cp.Variable((d, T))
    b = cp.Variable(T) if fit_intercept else cp.Constant(np.zeros(T))
    terms = []
    for t, (X_t, y_t) in enumerate(blocks):
        eta = X_t @ W[:, t] + b[t]
        if loss == "squared":
            terms.append(0.5 * cp.sum_squares(eta - y_t) / len(y_t))
        else:
            terms.append(cp.sum(cp.logistic(eta) - cp.multiply(y_t, eta)) / len(y_t))
    edges = [(s, t) for s in range(T) for t in range(s + 1, T) if A[s, t] > 0]
    quad = sum(A[s, t] * cp.sum_squares(W[:, s] - W[:, t]) for s, t in edges)
    penalty = alpha * (rho * _sparse_norm(W, m, cp) + 0.5 * (1 - rho) * quad)
    problem = cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms)) + penalty),
                         [W >= 0] if positive else [])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Solution may be inaccurate")
        problem.solve(solver=cp.CLARABEL, **CLARABEL)
    assert problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE), problem.status
    intercept = b.value if fit_intercept else np.zeros(T)
    return problem.value, W.value.T, intercept


def package_gap(est, X, y, coef, intercept):
    """The solver's duality gap at (coef, intercept), intercepts profiled.

    Returns the gap, the primal objective there and the profiled intercepts
    (user units; the test data need no rescaling).
    """
    problem = est._prepare(X, y)
    assert problem.scale == DataScale()
    penalty = est._pooling(est._solver_penalty(est._make_penalty(), problem.scale),
                           problem)
    datafit = make_datafit(problem.loss, problem.design, problem.y, problem.s,
                           penalty=penalty)
    W, b = problem.solver_point(coef, intercept)
    gap, primal, W, b = datafit.duality_gap(penalty, W, b, datafit.state(W, b),
                                            est.fit_intercept)
    _, b_user, _ = problem.solution(SolveResult(W, b, 0, True, gap, primal, 0.0))
    return gap, primal, b_user


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return est.fit(X, y)


# ------------------------------------------------------------------ cvxpy


def _cases():
    for loss in ("squared", "logistic"):
        for layout in ("wide", "long"):
            for fit_intercept in (True, False):
                for graph in ("random", "chain"):
                    for m in (0.0, 0.5):
                        yield pytest.param(loss, layout, fit_intercept, graph, m,
                                           id=f"{loss}-{layout}-{fit_intercept}-"
                                              f"{graph}-m{m}")


@pytest.mark.parametrize(("loss", "layout", "fit_intercept", "graph", "m"),
                         list(_cases()))
def test_matches_cvxpy_and_gap_certifies(loss, layout, fit_intercept, graph, m):
    problem = make_problem(4, loss, layout)
    T = problem.n_tasks
    graph = _random_graph(4, T) if graph == "random" else graph
    A = _adjacency(graph, T)
    est = _estimator(loss, problem, graph=graph, l1_ratio=L1_RATIO, l21_ratio=m,
                     fit_intercept=fit_intercept)
    alpha = 0.3 * est.alpha_max(problem.X, problem.y)
    _fit(est.set_params(alpha=alpha), problem.X, problem.y)
    reference, coef, intercept = cvxpy_fit(problem.blocks, loss, alpha, m, A,
                                           fit_intercept)
    ours = objective(problem.blocks, loss, est.coef_, est.intercept_, alpha, m, A)
    assert ours == pytest.approx(est.objective_, rel=1e-9)
    assert abs(ours - reference) <= OBJ_RTOL * abs(reference), (ours, reference)
    np.testing.assert_allclose(est.coef_, coef, atol=COEF_ATOL)
    np.testing.assert_array_equal(est.graph_, A)
    # the graph term matters here: without it the solution is elsewhere
    plain = _estimator(loss, problem, graph=np.zeros((T, T)), l1_ratio=L1_RATIO,
                       l21_ratio=m, fit_intercept=fit_intercept, alpha=alpha)
    assert np.abs(_fit(plain, problem.X, problem.y).coef_ - est.coef_).max() > 1e-2

    # the certificate: ~0 at both optima (first order in the distance to the
    # optimum, ~1e-6 for Clarabel's), >= the suboptimality elsewhere
    best = min(reference, ours)
    gap, primal, _ = package_gap(est, problem.X, problem.y, coef, intercept)
    assert primal - best - 1e-10 * best <= gap <= 1e-5 * best, gap
    gap, _, _ = package_gap(est, problem.X, problem.y, est.coef_, est.intercept_)
    assert abs(gap) <= 1e-9 * best, gap
    rng = np.random.default_rng(0)
    moved = coef + 0.05 * rng.standard_normal(coef.shape)
    gap, primal, b_star = package_gap(est, problem.X, problem.y, moved, intercept)
    assert primal == pytest.approx(objective(problem.blocks, loss, moved, b_star,
                                             alpha, m, A), rel=1e-10)
    assert primal - best > 1e-4 * best  # a clearly suboptimal point
    assert gap >= primal - best


@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("m", [0.0, 0.5])
def test_positive_matches_cvxpy_with_the_constraint(loss, m):
    problem = make_problem(5, loss, "long")
    A = _random_graph(5, problem.n_tasks)
    est = _estimator(loss, problem, graph=A, l1_ratio=L1_RATIO, l21_ratio=m,
                     positive=True)
    alpha = 0.2 * est.alpha_max(problem.X, problem.y)
    _fit(est.set_params(alpha=alpha), problem.X, problem.y)
    assert np.all(est.coef_ >= 0) and np.any(est.coef_ > 0)
    reference, coef, _ = cvxpy_fit(problem.blocks, loss, alpha, m, A, positive=True)
    ours = objective(problem.blocks, loss, est.coef_, est.intercept_, alpha, m, A)
    assert abs(ours - reference) <= OBJ_RTOL * abs(reference), (ours, reference)
    np.testing.assert_allclose(est.coef_, coef, atol=COEF_ATOL)
    unconstrained = _estimator(loss, problem, graph=A, l1_ratio=L1_RATIO,
                               l21_ratio=m, alpha=alpha)
    assert np.any(_fit(unconstrained, problem.X, problem.y).coef_ < -1e-3)


def test_intercept_shrinkage_matches_cvxpy():
    problem = make_problem(6, "squared", "long")
    X, y, T = problem.X, problem.y, problem.n_tasks
    A, lam = _random_graph(6, T), 5.0
    est = _estimator("squared", problem, graph=A, l1_ratio=L1_RATIO,
                     intercept_shrinkage=lam, alpha=0.05)
    _fit(est, X, y)
    blocks = problem.blocks
    d = blocks[0][0].shape[1]
    W, b, mu = cp.Variable((d, T)), cp.Variable(T), cp.Variable()
    data = sum(0.5 * cp.sum_squares(X_t @ W[:, t] + b[t] - y_t) / len(y_t)
               for t, (X_t, y_t) in enumerate(blocks))
    edges = [(s, t) for s in range(T) for t in range(s + 1, T) if A[s, t] > 0]
    quad = sum(A[s, t] * cp.sum_squares(W[:, s] - W[:, t]) for s, t in edges)
    at_mean = b + X[:, :-1].mean(axis=0) @ W  # intercepts at the grand mean
    counts = np.array([len(y_t) for _, y_t in blocks])
    prior = 0.5 * cp.sum(cp.multiply(lam / counts, cp.square(at_mean - mu)))
    penalty = 0.05 * (L1_RATIO * cp.sum(cp.abs(W)) + 0.5 * (1 - L1_RATIO) * quad)
    reference = cp.Problem(cp.Minimize(data + penalty + prior))
    reference.solve(solver=cp.CLARABEL, **CLARABEL)
    assert est.objective_ == pytest.approx(reference.value, rel=OBJ_RTOL)
    np.testing.assert_allclose(est.coef_, W.value.T, atol=COEF_ATOL)
    np.testing.assert_allclose(est.intercept_, b.value, atol=COEF_ATOL)


@pytest.mark.parametrize("lam", [0.0, 4.0])
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_gap_is_the_same_from_rows_and_gram_statistics(layout, lam):
    """The smooth wrapper's gap over a row, Gram or pooling datafit alike."""
    problem = make_problem(10, "squared", layout)
    est = _estimator("squared", problem, graph=_random_graph(10, problem.n_tasks),
                     l1_ratio=L1_RATIO, l21_ratio=0.5, alpha=0.05,
                     intercept_shrinkage=lam)
    prepared = est._prepare(problem.X, problem.y)
    penalty = est._pooling(est._make_penalty(), prepared)
    rng = np.random.default_rng(1)
    W = rng.standard_normal(prepared.design.coef_shape)
    b = rng.standard_normal(problem.n_tasks)
    gaps = []
    for gram in (False, True):
        datafit = make_datafit(prepared.loss, prepared.design, prepared.y,
                               prepared.s, gram=gram, penalty=penalty)
        gaps.append(datafit.duality_gap(penalty, W, b, datafit.state(W, b))[:2])
    np.testing.assert_allclose(gaps[0], gaps[1], rtol=1e-10)
    assert gaps[0][0] > 0


def test_regularization_path_and_warm_start():
    from mtstats import regularization_path

    X, y, _ = drifting_tasks(3)
    est = GraphRegressor(l21_ratio=0.5, task_column=-1, tol=1e-8)
    path = regularization_path(est, X, y, n_alphas=5)
    assert path.converged.all() and np.all(path.coef[0] == 0)
    last = est.set_params(alpha=path.alphas[-1]).fit(X, y)
    np.testing.assert_allclose(last.coef_, path.coef[-1], atol=1e-5)
    warm = GraphRegressor(path.alphas[-1], l21_ratio=0.5, task_column=-1, tol=1e-8,
                          warm_start=True).fit(X, y)
    assert warm.fit(X, y).n_iter_ <= 10


# ------------------------------------------------------------------ alpha_max


def _dual_row(s, m):
    """Dual norm of (1-m)|.|_1 + m|.|_2 at s >= 0, by bisection."""
    lo, hi = 0.0, np.abs(s).sum() + 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        above = np.linalg.norm(np.clip(s - mid * (1 - m), 0, None)) > mid * m
        lo, hi = (mid, hi) if above else (lo, mid)
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("m", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_alpha_max_is_exact(loss, m, positive):
    problem = make_problem(8, loss, "wide")
    est = _estimator(loss, problem, graph=_random_graph(8, problem.n_tasks),
                     l1_ratio=L1_RATIO, l21_ratio=m, positive=positive, tol=1e-14)
    G = -null_gradient(problem, np.ones(problem.n_tasks))
    S = np.clip(G, 0, None) if positive else np.abs(G)
    reference = max(_dual_row(s, m) for s in S) / L1_RATIO
    alpha_max = est.alpha_max(problem.X, problem.y)
    assert alpha_max == pytest.approx(reference, rel=1e-12)
    above = est.set_params(alpha=alpha_max * (1 + 1e-10)).fit(problem.X, problem.y)
    assert np.all(above.coef_ == 0.0)
    below = est.set_params(alpha=alpha_max * (1 - 1e-4)).fit(problem.X, problem.y)
    assert np.any(below.coef_ != 0.0)


def test_dual_norm_is_exact_for_every_mix(rng):
    G = rng.standard_normal((40, 6)) * np.exp(rng.standard_normal((40, 1)))
    G[0] = 1.0  # ties
    G[1, :3] = 0.0
    for m in (1e-12, 1e-6, 0.01, 0.5, 0.99):
        penalty = GraphPenalty(1.0, 1.0, m)
        reference = max(_dual_row(np.abs(g), m) for g in G)
        assert float(penalty.dual_norm(G)) == pytest.approx(reference, rel=1e-13)


# ------------------------------------------------------------------ recovery


def drifting_tasks(seed, n_tasks=10, n_per_task=15, n_features=8):
    """Tasks along a chain: W[:, t] = w0 + t * delta / T + small noise."""
    rng = np.random.default_rng(seed)
    w0, delta = rng.standard_normal(n_features), 2 * rng.standard_normal(n_features)
    steps = np.arange(n_tasks) / n_tasks
    W = w0[:, None] + np.outer(delta, steps) + 0.05 * rng.standard_normal(
        (n_features, n_tasks))
    X = rng.standard_normal((n_tasks * n_per_task, n_features))
    task = np.repeat(np.arange(n_tasks), n_per_task)
    y = np.einsum("ij,ji->i", X, W[:, task]) + rng.standard_normal(task.shape[0])
    return np.column_stack([X, task]), y, W


def _best_error(make, X, y, W, alphas):
    errors = [np.linalg.norm(make(a).fit(X, y).coef_.T - W) / np.linalg.norm(W)
              for a in alphas]
    return min(errors)


@pytest.mark.parametrize("seed", [0, 1])
def test_chain_recovers_drifting_coefficients_better_than_independent(seed):
    X, y, W = drifting_tasks(seed)
    alphas = np.geomspace(1e-3, 10, 13)
    graph = _best_error(lambda a: GraphRegressor(a, l1_ratio=0.05, task_column=-1),
                        X, y, W, alphas)
    independent = min(
        _best_error(partial(IndependentRegressor, penalty=penalty, task_column=-1),
                    X, y, W, alphas) for penalty in ("l2", "l1"))
    print(f"relative Frobenius error: graph {graph:.3f}, independent "
          f"{independent:.3f}")
    assert graph < 0.7 * independent


# ------------------------------------------------------------------ contract


# parametrize_with_checks runs on the graph models from tests/test_estimators.py
# and tests/test_cv_estimators.py (they are in mtstats.__all__).


def test_cv_searches_alpha_and_l1_ratio():
    X, y, _ = drifting_tasks(2)
    est = GraphRegressorCV(l1_ratio=[0.05, 0.5], alphas=6, cv=3, random_state=0,
                           task_column=-1).fit(X, y)
    assert est.alphas_.shape == (2, 6) and est.scores_path_.shape == (2, 6, 3)
    assert est.l1_ratio_ in (0.05, 0.5)
    refit = GraphRegressor(est.alpha_, l1_ratio=est.l1_ratio_, task_column=-1)
    np.testing.assert_allclose(refit.fit(X, y).coef_, est.coef_, atol=1e-6)
    data = make_problem(0, "logistic", "wide_full")
    clf = GraphClassifierCV(alphas=4, cv=3, random_state=0).fit(data.X, data.y)
    assert clf.graph_.shape == (4, 4) and clf.alphas_.shape == (4,)


# ------------------------------------------------------------------ graph input


def _long(rng, labels, n=12, d=3):
    rows = [np.column_stack([rng.standard_normal((n, d)), np.full(n, t)])
            for t in range(len(labels))]
    X = pd.DataFrame(np.vstack(rows), columns=["a", "b", "c", "task"])
    X["task"] = np.repeat(labels, n)
    return X, rng.standard_normal(X.shape[0])


def test_dataframe_graph_is_reordered_to_the_task_labels(rng):
    X, y = _long(rng, ["x", "y", "z"])
    A = np.array([[0, 2.0, 0], [2.0, 0, 0.5], [0, 0.5, 0]])
    frame = pd.DataFrame(A, index=["x", "y", "z"], columns=["x", "y", "z"])
    shuffled = frame.loc[["z", "x", "y"], ["y", "z", "x"]]
    a = GraphRegressor(0.05, graph=A, task_column="task").fit(X, y)
    b = GraphRegressor(0.05, graph=shuffled, task_column="task").fit(X, y)
    np.testing.assert_array_equal(b.graph_, A)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-12)
    # the diagonal is ignored
    c = GraphRegressor(0.05, graph=A + np.diag([5.0, 1.0, 3.0]),
                       task_column="task").fit(X, y)
    np.testing.assert_allclose(c.coef_, a.coef_, atol=1e-12)


@pytest.mark.parametrize(("graph", "match"), [
    ("ring", "graph"),
    (np.ones((2, 2)), r"shape \(2, 2\).*3 tasks"),
    (np.array([[0, 1, 0], [2, 0, 1], [0, 1, 0.0]]), "symmetric"),
    (np.array([[0, -1, 0], [-1, 0, 1], [0, 1, 0.0]]), "non-negative"),
    (np.array([[0, np.nan, 0], [np.nan, 0, 1], [0, 1, 0.0]]), "finite"),
    (pd.DataFrame(np.zeros((3, 3)), index=list("xyw"), columns=list("xyz")),
     r"index.*missing \['z'\], unknown \['w'\]"),
    (pd.DataFrame(np.zeros((2, 2)), index=list("xy"), columns=list("xy")),
     r"missing \['z'\]"),
])
def test_bad_graphs_are_refused_clearly(graph, match, rng):
    X, y = _long(rng, ["x", "y", "z"])
    with pytest.raises(ValueError, match=match):
        GraphRegressor(graph=graph, task_column="task").fit(X, y)


def test_unsupported_settings_are_refused(rng):
    X, y = _long(rng, ["x", "y", "z"])
    with pytest.raises(ValueError, match="noise"):
        GraphRegressor(task_weight="noise", task_column="task").fit(X, y)
    with pytest.raises(ValueError, match="intercept_shrinkage"):
        GraphRegressor(l1_ratio=0.0, intercept_shrinkage=1.0,
                       task_column="task").fit(X, y)
    with pytest.raises(TypeError):
        GraphRegressor(shared_mean=True)  # no free mean: the L1 part is not centred
    with pytest.raises(ValueError, match="not a norm"):
        GraphRegressor(l1_ratio=0.0, task_column="task").alpha_max(X, y)


def test_graph_term_alone_fits_without_a_gap(rng):
    """l1_ratio=0: a smooth problem; the residual stop reaches the optimum."""
    problem = make_problem(9, "squared", "wide_full")
    A = _random_graph(9, problem.n_tasks)
    est = _estimator("squared", problem, graph=A, l1_ratio=0.0, alpha=0.3,
                     tol=1e-12)
    _fit(est, problem.X, problem.y)
    reference, coef, _ = cvxpy_fit(problem.blocks, "squared", 0.3, 0.0, A, rho=0.0)
    ours = objective(problem.blocks, "squared", est.coef_, est.intercept_, 0.3, 0.0,
                     A, rho=0.0)
    assert abs(ours - reference) <= OBJ_RTOL * abs(reference)
    np.testing.assert_allclose(est.coef_, coef, atol=COEF_ATOL)


# ------------------------------------------------------------------ penalty


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("m", [0.0, 0.4, 1.0])
def test_prox_matches_cvxpy(m, positive, rng):
    penalty = GraphPenalty(0.7, 0.6, m, positive)
    V, step = rng.standard_normal((6, 4)), 0.8
    Z = cp.Variable(V.shape)
    problem = cp.Problem(
        cp.Minimize(0.5 * cp.sum_squares(Z - V)
                    + step * 0.7 * 0.6 * _sparse_norm(Z, m, cp)),
        [Z >= 0] if positive else [])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Solution may be inaccurate")
        problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-11, tol_gap_rel=1e-11,
                      tol_feas=1e-11)
    np.testing.assert_allclose(penalty.prox(V, step), Z.value, atol=1e-6)


def test_penalty_runs_in_every_namespace(xp, rng):
    G = rng.standard_normal((7, 5))
    for positive in (False, True):
        penalty = GraphPenalty(0.3, 0.5, 0.4, positive)
        numpy_prox = penalty.prox(G, 0.9)
        prox = penalty.prox(xp.asarray(G), 0.9)
        prox = prox.get() if hasattr(prox, "get") else np.asarray(prox)
        np.testing.assert_allclose(prox, numpy_prox, atol=1e-14)
        assert float(penalty.dual_norm(xp.asarray(G))) == pytest.approx(
            float(penalty.dual_norm(G)), rel=1e-14)
    lap = penalty.on_graph(_random_graph(0, 5), xp, np.float64).smooth
    W = xp.asarray(rng.standard_normal((7, 5)))
    assert float(lap.value(W)) >= 0


def test_rescaled_scales_the_two_parts_apart():
    penalty = GraphPenalty(0.5, 0.4, 0.3).on_graph(np.ones((3, 3)), np, np.float64)
    scaled = penalty.rescaled(2.0, 3.0)
    assert scaled.threshold == pytest.approx(0.5 * 0.4 * 6.0)
    assert scaled.smooth.strength == pytest.approx(0.5 * 0.6 * 18.0)
    assert scaled.l21_ratio == 0.3 and scaled.graph is penalty.graph
