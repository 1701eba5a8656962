"""Losses: gradients by finite differences, curvature, Fenchel duals."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from mtstats.losses import LogisticLoss, SquaredLoss

LOSSES = [SquaredLoss(), LogisticLoss()]


def _data(loss, rng, n=30):
    eta = 3 * rng.standard_normal(n)
    y = rng.standard_normal(n) if loss.name == "squared" else (rng.random(n) < 0.4)
    s = rng.random(n)
    return eta, np.asarray(y, dtype=float), s


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.name)
def test_gradient_matches_finite_differences(loss, rng):
    eta, y, s = _data(loss, rng)
    h = 1e-6
    for i in range(eta.shape[0]):
        up, down = eta.copy(), eta.copy()
        up[i] += h
        down[i] -= h
        numeric = (loss.value(up, y, s) - loss.value(down, y, s)) / (2 * h)
        assert numeric == pytest.approx(loss.gradient(eta, y, s)[i], rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.name)
def test_curvature_matches_finite_differences(loss, rng):
    eta, y, s = _data(loss, rng)
    h = 1e-5
    ones = np.ones_like(s)
    up, down = loss.gradient(eta + h, y, ones), loss.gradient(eta - h, y, ones)
    numeric = (up - down) / (2 * h)
    np.testing.assert_allclose(loss.curvature(eta, y), numeric, rtol=1e-6, atol=1e-9)
    assert np.all(loss.curvature(eta, y) <= loss.curvature_bound + 1e-15)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.name)
def test_dual_is_the_conjugate(loss, rng):
    """-F*(-theta) = inf_eta F(eta) + theta * eta, elementwise, checked numerically."""
    eta, y, s = _data(loss, rng, n=6)
    theta = -0.7 * loss.gradient(eta, y, s)  # a scaled negative gradient: feasible
    for i in range(eta.shape[0]):
        def objective(e, i=i):
            return loss.value(np.array([e]), y[i:i + 1], s[i:i + 1]) + theta[i] * e
        numeric = minimize_scalar(objective, bounds=(-40, 40), method="bounded",
                                  options={"xatol": 1e-12}).fun
        closed = loss.dual(theta[i:i + 1], y[i:i + 1], s[i:i + 1])
        assert closed == pytest.approx(numeric, abs=1e-8)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.name)
def test_weak_duality_and_zero_weight_rows(loss, rng):
    eta, y, s = _data(loss, rng)
    s[:5] = 0.0
    theta = -loss.gradient(eta, y, s)
    assert np.all(theta[:5] == 0)
    # Fenchel-Young: F(eta) + F*(-theta) >= <-theta, eta>
    assert loss.value(eta, y, s) - loss.dual(theta, y, s) >= -theta @ eta - 1e-10


def test_logistic_value_is_stable_for_large_eta():
    loss = LogisticLoss()
    eta = np.array([-800.0, 800.0])
    value = loss.value(eta, np.array([0.0, 1.0]), np.ones(2))
    assert np.isfinite(value) and value == pytest.approx(0.0, abs=1e-300)
    np.testing.assert_allclose(loss.inverse_link(eta), [0.0, 1.0])


def test_losses_run_under_array_api_strict(xp, rng):
    for loss in LOSSES:
        eta, y, s = (xp.asarray(a) for a in _data(loss, rng))
        value = float(loss.value(eta, y, s))
        expected = loss.value(*(np.asarray(a) for a in (eta, y, s)))
        assert value == pytest.approx(float(expected))
        loss.gradient(eta, y, s)
        loss.dual(-loss.gradient(eta, y, s), y, s)
