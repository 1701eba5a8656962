"""The FISTA kernel runs unchanged on every array namespace and agrees with NumPy."""

import numpy as np
import pytest

from mtstats._backend import namespace_for_device, to_numpy
from mtstats._designs import build_design
from mtstats._tasks import TaskData
from mtstats.losses import LogisticLoss, SquaredLoss
from mtstats.penalties import L1, L21, SquaredFrobenius, TraceNorm
from mtstats.solvers import alpha_max, solve

PENALTIES = [L1(0.02), L21(0.05), L21(0.05, l1_ratio=0.5), TraceNorm(0.05),
             SquaredFrobenius(0.05)]


def _data(layout, classification, rng):
    n, d, T = 60, 5, 3
    X = rng.standard_normal((n, d)) + 1.0
    W = rng.standard_normal((d, T))
    if layout == "wide":
        Y = X @ W + rng.standard_normal((n, T))
        if classification:
            Y = (Y > np.median(Y, axis=0)).astype(float)
        observed = rng.random((n, T)) > 0.2
        return TaskData("wide", X, np.where(observed, Y, 0.0), observed, None,
                        observed.sum(axis=0))
    index = rng.permutation(np.arange(n) % T)
    y = np.einsum("ij,ji->i", X, W[:, index]) + rng.standard_normal(n)
    if classification:
        y = (y > np.median(y)).astype(float)
    return TaskData("long", X, y, None, index, np.bincount(index))


def _to_numpy(a):
    return to_numpy(a) if hasattr(a, "get") else np.asarray(a)


@pytest.mark.parametrize("penalty", PENALTIES, ids=repr)
@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("loss", [SquaredLoss(), LogisticLoss()], ids=lambda x: x.name)
@pytest.mark.parametrize("pooled", [False, True], ids=["per-task", "pooled"])
def test_solve_agrees_across_namespaces(xp, penalty, layout, loss, pooled, rng):
    data = _data(layout, loss.name == "logistic", rng)
    reference = solve(loss, penalty, *build_design(data, namespace_for_device("cpu"),
                                                   pooled=pooled)[:3], tol=1e-10)
    design, y, s, _ = build_design(data, xp, pooled=pooled)
    result = solve(loss, penalty, design, y, s, tol=1e-10)
    assert result.converged and reference.converged
    np.testing.assert_allclose(_to_numpy(result.W), reference.W, atol=1e-7)
    np.testing.assert_allclose(_to_numpy(result.b), reference.b, atol=1e-7)
    assert result.objective == pytest.approx(reference.objective, rel=1e-10)


def test_alpha_max_runs_in_every_namespace(xp, rng):
    data = _data("long", False, rng)
    design, y, s, _ = build_design(data, xp)
    expected = alpha_max(SquaredLoss(), L21(1.0), *build_design(
        data, namespace_for_device("cpu"))[:3])
    assert alpha_max(SquaredLoss(), L21(1.0), design, y, s) == pytest.approx(expected)


def test_unknown_device_is_rejected():
    with pytest.raises(ValueError, match="device must be 'cpu' or 'cuda'"):
        namespace_for_device("tpu")
