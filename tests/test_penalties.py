"""Penalties: prox optimality, the Moreau identity, closed forms, dual norms."""

import cvxpy as cp
import numpy as np
import pytest

from mtstats.penalties import L1, L21, SquaredFrobenius, TraceNorm

NORMS = [L1(0.3), L21(0.3), TraceNorm(0.3)]
ALL = [*NORMS, L21(0.3, l1_ratio=0.4), SquaredFrobenius(0.3)]


def _cvxpy_value(penalty, Z):
    if isinstance(penalty, L1):
        return penalty.alpha * cp.sum(cp.abs(Z))
    if isinstance(penalty, TraceNorm):
        return penalty.alpha * cp.normNuc(Z)
    if isinstance(penalty, SquaredFrobenius):
        return 0.5 * penalty.alpha * cp.sum_squares(Z)
    rho = penalty.l1_ratio
    return penalty.alpha * (rho * cp.sum(cp.norm(Z, 2, axis=1))
                            + 0.5 * (1 - rho) * cp.sum_squares(Z))


@pytest.mark.parametrize("penalty", ALL, ids=repr)
def test_prox_matches_cvxpy(penalty, rng):
    V, step = rng.standard_normal((6, 4)), 0.8
    Z = cp.Variable(V.shape)
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(Z - V)
                                     + step * _cvxpy_value(penalty, Z)))
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-11, tol_gap_rel=1e-11,
                  tol_feas=1e-11)
    np.testing.assert_allclose(penalty.prox(V, step), Z.value, atol=1e-6)


@pytest.mark.parametrize("penalty", NORMS, ids=repr)
def test_prox_optimality_and_moreau_identity(penalty, rng):
    """v - prox(v) is the projection of v on the dual ball of radius alpha*step.

    For a norm, u in the subdifferential of alpha*Omega at z iff
    Omega^D(u) <= alpha and <u, z> = alpha * Omega(z); with u = (v - z)/step
    this is prox optimality, and v = prox(v) + Proj(v) is Moreau's identity.
    """
    step = 0.7
    for scale in (0.05, 1.0, 5.0):  # inside, around and outside the ball
        V = scale * rng.standard_normal((7, 5))
        Z = penalty.prox(V, step)
        U = (V - Z) / step
        assert float(penalty.dual_norm(U)) <= penalty.alpha * (1 + 1e-12)
        assert np.sum(U * Z) == pytest.approx(float(penalty.value(Z)), abs=1e-10)
        # projection onto the ball is the identity inside it
        if float(penalty.dual_norm(V)) <= penalty.alpha * step:
            np.testing.assert_allclose(Z, 0, atol=1e-14)


@pytest.mark.parametrize("penalty", NORMS, ids=repr)
def test_dual_norm_is_the_dual(penalty, rng):
    """<G, W> <= Omega(W) * Omega^D(G), with equality attained at the argmax."""
    unit = type(penalty)(1.0)
    for _ in range(20):
        G, W = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
        assert np.sum(G * W) <= float(unit.norm(W)) * float(unit.dual_norm(G)) + 1e-12


def test_closed_forms(rng):
    W = rng.standard_normal((5, 3))
    assert float(L1(2.0).value(W)) == pytest.approx(2 * np.abs(W).sum())
    assert float(L21(2.0).value(W)) == pytest.approx(
        2 * np.linalg.norm(W, axis=1).sum())
    assert float(TraceNorm(2.0).value(W)) == pytest.approx(
        2 * np.linalg.svd(W, compute_uv=False).sum())
    assert float(TraceNorm(1.0).dual_norm(W)) == pytest.approx(np.linalg.norm(W, 2))
    np.testing.assert_allclose(SquaredFrobenius(2.0).prox(W, 0.5), W / 2)


@pytest.mark.parametrize("penalty", [L21(0.3, l1_ratio=0.4), SquaredFrobenius(0.3)],
                         ids=repr)
def test_conjugate_by_fenchel_young(penalty, rng):
    """g*(V) >= <V, W> - g(W) for all W, with equality at W = grad g*(V)."""
    V = rng.standard_normal((6, 3))
    conj = float(penalty.conjugate(V))
    for _ in range(50):
        W = rng.standard_normal((6, 3))
        assert conj >= np.sum(V * W) - float(penalty.value(W)) - 1e-12
    Z = cp.Variable(V.shape)
    best = cp.Problem(cp.Maximize(cp.sum(cp.multiply(V, Z))
                                  - _cvxpy_value(penalty, Z)))
    best.solve(solver=cp.CLARABEL)
    assert conj == pytest.approx(best.value, rel=1e-6)


def test_negative_alpha_is_rejected():
    with pytest.raises(ValueError, match="alpha must be a non-negative"):
        L21(-1.0)
    with pytest.raises(ValueError, match="l1_ratio"):
        L21(1.0, l1_ratio=1.5)


@pytest.mark.parametrize("penalty", ALL, ids=repr)
def test_penalties_run_in_every_namespace(penalty, xp, rng):
    V = rng.standard_normal((6, 4))
    Z = penalty.prox(xp.asarray(V), 0.5)
    np.testing.assert_allclose(np.asarray(Z) if not hasattr(Z, "get") else Z.get(),
                               penalty.prox(V, 0.5), atol=1e-12)
    assert float(penalty.value(xp.asarray(V))) == pytest.approx(float(penalty.value(V)))
