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


# ---------------------------------------------------- datafits and packing


def _unequal_long(rng, sizes=(3, 40, 9, 17, 1, 25, 8), d=4):
    """Long-layout data with very unequal task sizes (several packed blocks)."""
    index = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    X = rng.standard_normal((index.shape[0], d)) + 2.0
    y = X @ rng.standard_normal(d) + rng.standard_normal(index.shape[0])
    return TaskData("long", X, y, None, index, np.bincount(index))


@pytest.mark.parametrize("pooled", [False, True], ids=["per-task", "pooled"])
def test_stacked_design_is_the_per_row_model_and_its_adjoint(xp, pooled, rng):
    """Packed blocks compute eta_i = x_i^T w_t(i) + b_t(i) for every input row,
    and ``adjoint`` is the adjoint of ``forward`` (padding included)."""
    from mtstats._packing import pack_tasks

    data = _unequal_long(rng)
    design, _, _, offsets = build_design(data, xp, pooled=pooled)
    assert len(design.base.blocks if pooled else design.blocks) > 1
    T, d = data.n_tasks, data.X.shape[1]
    W = rng.standard_normal((d, 1 if pooled else T))
    b = rng.standard_normal(T)
    eta = _to_numpy(design.forward(xp.asarray(W), xp.asarray(b)))
    destination = pack_tasks(data.X, data.task_index, data.n_samples_per_task,
                             True).destination
    Xc = data.X - offsets[data.task_index]
    columns = np.zeros(data.task_index.shape[0], dtype=int) if pooled else \
        data.task_index
    np.testing.assert_allclose(eta[destination],
                               np.einsum("ij,ji->i", Xc, W[:, columns])
                               + b[data.task_index], atol=1e-12)
    R = rng.standard_normal(eta.shape[0])
    G, g = design.adjoint(xp.asarray(R))
    lhs = float(np.sum((eta - _to_numpy(design.broadcast_tasks(xp.asarray(b)))) * R)
                + np.sum(b * _to_numpy(g)))
    rhs = float(np.sum(W * _to_numpy(G)) + np.sum(b * _to_numpy(g)))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_packing_pads_with_zero_rows_and_centres_each_task(rng):
    from mtstats._packing import PAD_WASTE, pack_tasks

    data = _unequal_long(rng)
    packed = pack_tasks(data.X, data.task_index, data.n_samples_per_task, True)
    flat = np.concatenate([X.reshape(-1, X.shape[2]) for X in packed.blocks])
    padding = np.ones(flat.shape[0], dtype=bool)
    padding[packed.destination] = False
    assert np.all(flat[padding] == 0)
    for t in range(data.n_tasks):
        rows = data.task_index == t
        np.testing.assert_allclose(packed.offsets[t], data.X[rows].mean(axis=0))
        np.testing.assert_allclose(flat[packed.destination[rows]],
                                   data.X[rows] - packed.offsets[t], atol=1e-12)
    for X, tasks in zip(packed.blocks, packed.block_tasks, strict=True):
        assert X.shape[1] <= (1 + PAD_WASTE) * data.n_samples_per_task[tasks].min()


@pytest.mark.parametrize("penalty", [L21(0.05), L1(0.02), TraceNorm(0.05),
                                     SquaredFrobenius(0.05)], ids=repr)
@pytest.mark.parametrize("layout", ["wide", "wide-full", "long", "long-unequal"])
@pytest.mark.parametrize("pooled", [False, True], ids=["per-task", "pooled"])
def test_gram_datafit_equals_row_datafit(xp, penalty, layout, pooled, rng):
    """Gram statistics and rows give the same solution, gap and objective."""
    from mtstats.datafits import GramDatafit, RowDatafit, make_datafit

    if layout == "long-unequal":
        data = _unequal_long(rng)
    else:
        data = _data(layout.split("-")[0], False, rng)
        if layout == "wide-full":
            data = TaskData("wide", data.X, data.y, np.ones_like(data.observed),
                            None, np.full(data.n_tasks, data.X.shape[0]))
    design, y, s, _ = build_design(data, xp, pooled=pooled)
    loss = SquaredLoss()
    rows = make_datafit(loss, design, y, s, gram=False)
    gram = make_datafit(loss, design, y, s, gram=True)
    assert isinstance(rows, RowDatafit) and isinstance(gram, GramDatafit)
    assert make_datafit(loss, design, y, s, gram=True).grams is gram.grams  # cached
    a = solve(loss, penalty, design, y, s, tol=1e-12, datafit=rows)
    b = solve(loss, penalty, design, y, s, tol=1e-12, datafit=gram)
    assert a.converged and b.converged
    np.testing.assert_allclose(_to_numpy(b.W), _to_numpy(a.W), atol=1e-6)
    np.testing.assert_allclose(_to_numpy(b.b), _to_numpy(a.b), atol=1e-6)
    assert b.objective == pytest.approx(a.objective, rel=1e-10)
    assert b.null_objective == pytest.approx(a.null_objective, rel=1e-12)


@pytest.mark.parametrize("penalty", [L21(0.05), TraceNorm(0.05),
                                     SquaredFrobenius(0.05)], ids=repr)
@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("loss", [SquaredLoss(), LogisticLoss()], ids=lambda x: x.name)
def test_partial_pooling_agrees_across_namespaces(xp, penalty, layout, loss, rng):
    """Free shared mean and shrunk intercepts: the profiled solve is one kernel."""
    from mtstats.penalties.pooling import InterceptPrior, PartialPooling

    data = _data(layout, loss.name == "logistic", rng)
    kappa = 3.0 / data.n_samples_per_task
    anchor = rng.standard_normal(data.n_tasks)

    def pooled_solve(namespace):
        design, y, s, _ = build_design(data, namespace, center="global")
        prior = InterceptPrior(namespace.asarray(kappa), namespace.asarray(anchor))
        return solve(loss, PartialPooling(penalty, True, prior), design, y, s,
                     tol=1e-10, max_iter=20000)

    reference = pooled_solve(namespace_for_device("cpu"))
    result = pooled_solve(xp)
    assert result.converged and reference.converged
    np.testing.assert_allclose(_to_numpy(result.W), reference.W, atol=1e-7)
    np.testing.assert_allclose(_to_numpy(result.b), reference.b, atol=1e-7)
    assert result.objective == pytest.approx(reference.objective, rel=1e-10)
