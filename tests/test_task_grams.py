"""TaskGrams: per-task sufficient statistics, chunk-additive, and fits from them.

Expected values come from NumPy's own weighted covariance (``np.cov`` with
``aweights``) and from the in-memory fit on the rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mtstats
from mtstats import TaskGrams

FEATURES = ["x0", "x1", "x2"]


def _frame(seed=0, n=600, n_tasks=5, offset=50.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) + offset  # a large mean: centring must not cancel
    task = rng.choice([f"s{k}" for k in range(n_tasks)], size=n)
    codes = np.unique(task, return_inverse=True)[1]
    W = rng.normal(size=(n_tasks, 3))
    y = np.einsum("ij,ij->i", X - offset, W[codes]) + codes + rng.normal(size=n)
    frame = pd.DataFrame(X, columns=FEATURES)
    frame["task"] = task
    return frame, pd.Series(y + 1000.0, name="y"), rng.uniform(0.2, 3.0, size=n)


def test_statistics_match_numpy_weighted_moments():
    X, y, w = _frame()
    grams = TaskGrams.from_arrays(X, y, task_column="task", sample_weight=w)
    Z = np.column_stack([X[FEATURES].to_numpy(), y.to_numpy()])
    for t, label in enumerate(grams.tasks):
        rows = (X["task"] == label).to_numpy()
        v = w[rows]
        assert grams.n_samples[t] == rows.sum()
        np.testing.assert_allclose(grams.weight[t], v.sum(), rtol=1e-14)
        np.testing.assert_allclose(grams.mean[t], np.average(Z[rows], axis=0,
                                                             weights=v), rtol=1e-14)
        # np.cov with aweights and ddof=0 is M_t / n_t
        expected = np.cov(Z[rows].T, aweights=v, ddof=0) * v.sum()
        np.testing.assert_allclose(grams.comoment[t], expected, rtol=1e-11,
                                   atol=1e-9 * np.abs(expected).max())
    np.testing.assert_array_equal(grams.max_abs, np.abs(Z).max(axis=0))
    assert grams.feature_names == tuple(FEATURES)


@pytest.mark.parametrize("seed", [0, 1])
def test_chunks_add_up_in_any_order(seed):
    X, y, w = _frame(seed)
    whole = TaskGrams.from_arrays(X, y, task_column="task", sample_weight=w)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    chunks = np.array_split(order, 9)
    parts = [TaskGrams.from_arrays(X.iloc[c], y.iloc[c], task_column="task",
                                   sample_weight=w[c]) for c in chunks]
    forward = sum(parts)
    backward = sum(parts[::-1])
    for total in (forward, backward):
        np.testing.assert_array_equal(total.tasks, whole.tasks)
        np.testing.assert_array_equal(total.n_samples, whole.n_samples)
        np.testing.assert_allclose(total.mean, whole.mean, rtol=1e-13)
        np.testing.assert_allclose(total.comoment, whole.comoment, rtol=1e-10,
                                   atol=1e-10 * np.abs(whole.comoment).max())


def test_chunks_with_disjoint_tasks_union_their_labels():
    X, y, _ = _frame()
    first = X["task"].isin(["s0", "s1"]).to_numpy()
    a = TaskGrams.from_arrays(X[first], y[first], task_column="task")
    b = TaskGrams.from_arrays(X[~first], y[~first], task_column="task")
    assert list(a.tasks) == ["s0", "s1"]
    total = b + a
    assert list(total.tasks) == ["s0", "s1", "s2", "s3", "s4"]
    whole = TaskGrams.from_arrays(X, y, task_column="task")
    np.testing.assert_allclose(total.comoment, whole.comoment, rtol=1e-12)


def test_integral_float_labels_become_integers_as_in_memory():
    X, y, _ = _frame()
    X = X.assign(task=pd.factorize(X["task"], sort=True)[0].astype(float))
    grams = TaskGrams.from_arrays(X, y, task_column="task")
    est = mtstats.GroupLassoRegressor(alpha=0.1, task_column="task").fit(X, y)
    assert grams.tasks.dtype.kind == "i"
    assert list(grams.tasks) == list(est.tasks_)


def test_save_and_load_round_trip(tmp_path):
    X, y, w = _frame()
    grams = TaskGrams.from_arrays(X, y, task_column="task", sample_weight=w)
    path = tmp_path / "grams.npz"
    grams.save(path)
    back = TaskGrams.load(path)
    for field in ("tasks", "n_samples", "weight", "mean", "comoment", "max_abs"):
        np.testing.assert_array_equal(getattr(back, field), getattr(grams, field))
    assert back.feature_names == grams.feature_names
    unnamed = TaskGrams.from_arrays(X[FEATURES].to_numpy(), y, X["task"].to_numpy())
    unnamed.save(tmp_path / "unnamed.npz")
    assert TaskGrams.load(tmp_path / "unnamed.npz").feature_names is None


REGRESSORS = sorted(name for name in mtstats.__all__ if name.endswith("Regressor"))


@pytest.mark.parametrize("name", REGRESSORS)
def test_fit_from_statistics_equals_fit_from_rows(name):
    X, y, w = _frame()
    params = {"task_column": "task", "tol": 1e-12, "max_iter": 100_000}
    reference = getattr(mtstats, name)(**params).fit(X, y, sample_weight=w)
    grams = TaskGrams.from_arrays(X, y, task_column="task", sample_weight=w)
    est = getattr(mtstats, name)(**params).fit(grams)
    scale = np.linalg.norm(reference.coef_)
    assert np.linalg.norm(est.coef_ - reference.coef_) <= 1e-8 * scale
    np.testing.assert_allclose(est.intercept_, reference.intercept_, rtol=1e-8)
    assert list(est.tasks_) == list(reference.tasks_)
    np.testing.assert_array_equal(est.n_samples_per_task_,
                                  reference.n_samples_per_task_)
    assert est.n_passes_ == 0 and not hasattr(reference, "n_passes_")
    np.testing.assert_allclose(est.predict(X), reference.predict(X), rtol=1e-8)


@pytest.mark.parametrize("options", [{"intercept_shrinkage": "auto"},
                                     {"intercept_shrinkage": 3.0},
                                     {"task_weight": "n_samples"},
                                     {"fit_intercept": False},
                                     {"shared_mean": True}])
def test_options_from_statistics_equal_rows(options):
    X, y, _ = _frame(offset=2.0)
    params = {"task_column": "task", "tol": 1e-12, "max_iter": 100_000,
              "alpha": 0.05, **options}
    reference = mtstats.TraceNormRegressor(**params).fit(X, y)
    est = mtstats.TraceNormRegressor(**params).fit(
        TaskGrams.from_arrays(X, y, task_column="task"))
    np.testing.assert_allclose(est.intercept_shrinkage_,
                               reference.intercept_shrinkage_, rtol=1e-9)
    assert np.linalg.norm(est.coef_ - reference.coef_) <= 1e-8 * np.linalg.norm(
        reference.coef_)
    np.testing.assert_allclose(est.intercept_, reference.intercept_, rtol=1e-8)


def test_refusals_name_the_problem():
    X, y, _ = _frame()
    grams = TaskGrams.from_arrays(X, y, task_column="task")
    with pytest.raises(ValueError, match="no sufficient statistics"):
        mtstats.GroupLassoClassifier(task_column="task").fit(grams)
    with pytest.raises(ValueError, match="without y"):
        mtstats.GroupLassoRegressor(task_column="task").fit(grams, y)
    with pytest.raises(ValueError, match="needs task_column"):
        mtstats.GroupLassoRegressor().fit(grams)
    with pytest.raises(ValueError, match="task_weight='noise'"):
        mtstats.GroupLassoRegressor(task_column="task", task_weight="noise").fit(grams)
    with pytest.raises(ValueError, match="different feature names"):
        grams + TaskGrams.from_arrays(X.rename(columns={"x0": "z"}), y,
                                      task_column="task")


def test_bad_rows_give_the_in_memory_message():
    X, y, _ = _frame()
    X.loc[7, "x1"] = np.nan
    with pytest.raises(ValueError) as in_memory:
        mtstats.GroupLassoRegressor(task_column="task").fit(X, y)
    with pytest.raises(ValueError) as from_chunk:
        TaskGrams.from_arrays(X, y, task_column="task",
                              estimator_name="GroupLassoRegressor")
    assert str(from_chunk.value) == str(in_memory.value)


def test_the_core_never_imports_dask():
    """Dask stays optional: importing mtstats, fitting in memory and from
    TaskGrams load no dask module (a fresh interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, mtstats\n"
        "rng = np.random.default_rng(0)\n"
        "X, y, t = rng.normal(size=(60, 2)), rng.normal(size=60), np.arange(60) % 3\n"
        "g = mtstats.TaskGrams.from_arrays(X, y, t)\n"
        "mtstats.GroupLassoRegressor(alpha=0.1, task_column=0).fit(g)\n"
        "mtstats.GroupLassoRegressor(alpha=0.1).fit(X, np.c_[y, y])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_task_of_zero_weight_is_refused_as_in_memory():
    """Rows of weight 0 are left out, but their task is not silently dropped:
    fit refuses it with the in-memory message, also after chunks are added."""
    X, y, w = _frame()
    w = np.where(X["task"] == "s3", 0.0, w)
    with pytest.raises(ValueError) as in_memory:
        mtstats.GroupLassoRegressor(task_column="task").fit(X, y, sample_weight=w)
    chunks = [slice(0, 300), slice(300, None)]
    grams = sum(TaskGrams.from_arrays(X[c], y[c], task_column="task",
                                      sample_weight=w[c]) for c in chunks)
    assert "s3" in list(grams.tasks) and grams.n_samples[3] == 0
    with pytest.raises(ValueError) as from_statistics:
        mtstats.GroupLassoRegressor(task_column="task").fit(grams)
    assert str(from_statistics.value) == str(in_memory.value)
