"""Task structure: cluster norm, shared/private penalties, and their estimators.

Expected values come from cvxpy (``matrix_frac`` expresses the trace term),
closed forms, and the generators' known ground truth.
"""

import cvxpy as cp
import numpy as np
import pytest

from mtstats.penalties import ClusterNorm, SharedMean, SubspaceRidge
from mtstats.penalties.spectral import waterfill

CLARABEL = dict(solver=cp.CLARABEL, tol_gap_abs=1e-11, tol_gap_rel=1e-11,
                tol_feas=1e-11, max_iter=500)


def _cluster_term(penalty, Z, orientation):
    """cvxpy expression of the cluster norm, with its M variable and constraints."""
    m = Z.shape[1] if orientation == "tasks" else Z.shape[0]
    M = cp.Variable((m, m), symmetric=True)
    P = penalty.eta * np.eye(m) + M
    frac = cp.matrix_frac(Z.T if orientation == "tasks" else Z, P)
    constraints = [M >> 0, np.eye(m) - M >> 0, cp.trace(M) == penalty.k]
    return penalty.scale * frac, constraints


# ------------------------------------------------------------- water-filling


def test_waterfill_satisfies_kkt(rng):
    sigma = np.abs(rng.standard_normal(7)) * 3
    for budget in (1, 2.5, 4):
        lam = waterfill(sigma, 0.3, budget)
        assert lam.sum() == pytest.approx(budget)
        assert np.all((lam >= 0) & (lam <= 1))
        free = (lam > 1e-12) & (lam < 1 - 1e-12)
        # interior lambdas share one multiplier sigma^2 / (shift + lambda)^2
        ratios = sigma[free] / (0.3 + lam[free])
        np.testing.assert_allclose(ratios, ratios[0])
        assert np.all(sigma[lam >= 1 - 1e-12] / 1.3 >= ratios[0] - 1e-12)
        assert np.all(sigma[lam <= 1e-12] / 0.3 <= ratios[0] + 1e-12)


def test_waterfill_with_fewer_directions_than_budget():
    np.testing.assert_array_equal(waterfill(np.array([2.0, 1.0, 0.0]), 0.1, 2.5),
                                  [1.0, 1.0, 0.0])


def test_waterfill_runs_in_every_namespace(xp, rng):
    sigma = np.abs(rng.standard_normal(6))
    lam = waterfill(xp.asarray(sigma), 0.2, 2)
    lam = lam.get() if hasattr(lam, "get") else np.asarray(lam)
    np.testing.assert_allclose(lam, waterfill(sigma, 0.2, 2), atol=1e-12)


# ------------------------------------------------------------- cluster norm


@pytest.mark.parametrize("orientation", ["tasks", "features"])
def test_cluster_norm_value_and_prox_match_cvxpy(orientation, rng):
    penalty = ClusterNorm(0.3, 0.2, 2)
    W = rng.standard_normal((6, 4))
    term, constraints = _cluster_term(penalty, cp.Constant(W), orientation)
    problem = cp.Problem(cp.Minimize(term), constraints)
    problem.solve(**CLARABEL)
    assert float(penalty.value(W)) == pytest.approx(problem.value, rel=1e-6)

    Z = cp.Variable(W.shape)
    term, constraints = _cluster_term(penalty, Z, orientation)
    step = 0.7
    prox = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(Z - W) + step * term),
                      constraints)
    prox.solve(**CLARABEL)
    ours = penalty.prox(W, step)

    def objective(V):
        return 0.5 * np.sum((V - W) ** 2) + step * float(penalty.value(V))

    assert objective(ours) <= prox.value * (1 + 1e-7)
    np.testing.assert_allclose(ours, Z.value, atol=1e-5)


def test_cluster_norm_similarity_is_feasible_and_optimal(rng):
    penalty = ClusterNorm(0.5, 0.1, 2)
    W = rng.standard_normal((5, 4))
    M = penalty.similarity(W)
    eigenvalues = np.linalg.eigvalsh(M)
    assert np.trace(M) == pytest.approx(2)
    assert eigenvalues.min() >= -1e-12 and eigenvalues.max() <= 1 + 1e-12
    at_M = penalty.scale * np.trace(W @ np.linalg.inv(penalty.eta * np.eye(4) + M)
                                    @ W.T)
    assert at_M == pytest.approx(float(penalty.value(W)), rel=1e-10)


def test_cluster_norm_conjugate_by_fenchel_young(rng):
    penalty = ClusterNorm(0.4, 0.3, 2)
    V = rng.standard_normal((5, 4))
    conjugate = float(penalty.conjugate(V))
    for _ in range(50):
        W = rng.standard_normal((5, 4))
        assert conjugate >= np.sum(V * W) - float(penalty.value(W)) - 1e-12
    # equality at the maximiser W = V S / (2c), S = eta I + M*(V)
    Z = cp.Variable(V.shape)
    term, constraints = _cluster_term(penalty, Z, "tasks")
    best = cp.Problem(cp.Maximize(cp.sum(cp.multiply(V, Z)) - term), constraints)
    best.solve(**CLARABEL)
    assert conjugate == pytest.approx(best.value, rel=1e-6)


@pytest.mark.parametrize("penalty", [SharedMean(0.3, 0.2), SharedMean(0.3, 0.2, "l1"),
                                     "subspace"], ids=repr)
def test_composite_prox_and_conjugate_match_cvxpy(penalty, rng):
    W = rng.standard_normal((5, 4))
    if penalty == "subspace":
        basis, _ = np.linalg.qr(rng.standard_normal((5, 2)))
        penalty = SubspaceRidge(0.3, 0.2, basis)

    def cvx_value(Z):
        if isinstance(penalty, SubspaceRidge):
            shared = penalty.basis @ (penalty.basis.T @ Z)
            return ((penalty.alpha + penalty.beta) * cp.sum_squares(Z - shared)
                    + penalty.beta * cp.sum_squares(shared))
        w0 = cp.sum(Z, axis=1) / Z.shape[1]
        h = cp.sum_squares(w0) if penalty.shared == "l2" else cp.norm1(w0)
        deviations = Z - cp.reshape(w0, (Z.shape[0], 1), order="F") @ np.ones((1, 4))
        return penalty.beta * h + penalty.alpha * cp.sum_squares(deviations)

    Z = cp.Variable(W.shape)
    cp.Problem(cp.Minimize(0.5 * cp.sum_squares(Z - W) + 0.6 * cvx_value(Z))).solve(
        **CLARABEL)
    np.testing.assert_allclose(penalty.prox(W, 0.6), Z.value, atol=1e-6)
    V = 0.1 * rng.standard_normal(W.shape)  # inside the L1 box: conjugate finite
    assert penalty.dual_scaling(V) == 1.0
    best = cp.Problem(cp.Maximize(cp.sum(cp.multiply(V, Z)) - cvx_value(Z)))
    best.solve(**CLARABEL)
    assert float(penalty.conjugate(V)) == pytest.approx(best.value, rel=1e-6, abs=1e-9)


def test_subspace_penalty_runs_in_every_namespace(xp, rng):
    W = rng.standard_normal((6, 4))
    basis, _ = np.linalg.qr(rng.standard_normal((6, 2)))
    for penalty in (ClusterNorm(0.3, 0.2, 2), SharedMean(0.3, 0.2, "l1"),
                    SubspaceRidge(0.3, 0.2, xp.asarray(basis))):
        Z = penalty.prox(xp.asarray(W), 0.5)
        Z = Z.get() if hasattr(Z, "get") else np.asarray(Z)
        reference = penalty if not isinstance(penalty, SubspaceRidge) else \
            SubspaceRidge(0.3, 0.2, basis)
        np.testing.assert_allclose(Z, reference.prox(W, 0.5), atol=1e-10)
        assert float(penalty.value(xp.asarray(W))) == pytest.approx(
            float(reference.value(W)))
