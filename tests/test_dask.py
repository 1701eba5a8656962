"""Fits from dask DataFrames on a distributed.LocalCluster, against in-memory fits.

The cluster (two worker processes on localhost) starts and stops inside
this module; the data are written to Parquet under a temporary folder and
read back with ``dask.dataframe.read_parquet``, as a user with data larger
than memory would. The expected values are the in-memory fits on the same
rows (tolerance at the solver's floor), and for the unpenalised logistic
model statsmodels' GLM.
"""

from __future__ import annotations

import logging
import multiprocessing

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from distributed import Client, LocalCluster

import mtstats

pytestmark = pytest.mark.dask

FEATURES = ["x0", "x1", "x2"]
N_TASKS = 5


@pytest.fixture(scope="module")
def client():
    before = set(multiprocessing.active_children())
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()
    assert client.status == "closed"
    assert cluster.status.name == "closed"
    left = [p for p in multiprocessing.active_children() if p not in before]
    assert not left, f"worker processes left running: {left}"


def _frame(seed=0, n=2400, sorted_by_task=False):
    rng = np.random.default_rng(seed)
    X = 2.5 * rng.normal(size=(n, 3)) + 2.0
    codes = rng.integers(0, N_TASKS, size=n)
    if sorted_by_task:
        codes = np.sort(codes)
    W = rng.normal(size=(N_TASKS, 3))
    eta = np.einsum("ij,ij->i", X - 2.0, W[codes]) / 2.5 + 0.4 * codes - 0.8
    frame = pd.DataFrame(X, columns=FEATURES)
    frame["task"] = np.array([f"school {k}" for k in range(N_TASKS)])[codes]
    frame["score"] = eta + rng.normal(size=n)
    frame["passed"] = np.where(rng.random(n) < 1 / (1 + np.exp(-eta)), "yes", "no")
    frame["weight"] = rng.uniform(0.5, 2.0, size=n)
    return frame


def _parquet(frame, folder, npartitions):
    dd.from_pandas(frame, npartitions=npartitions, sort=False).to_parquet(folder)
    return dd.read_parquet(folder)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    frame = _frame()
    return frame, _parquet(frame, tmp_path_factory.mktemp("rows"), 6)


def _fit_both(name, frame, ddf, weighted=False, **params):
    target = "passed" if name.endswith("Classifier") else "score"
    params = {"task_column": "task", "tol": 1e-15, "max_iter": 100_000, **params}
    cls = getattr(mtstats, name)
    columns = FEATURES + ["task"]
    memory = cls(**params).fit(frame[columns], frame[target],
                               sample_weight=frame["weight"] if weighted else None)
    # the gap floor of the row passes: decomposition models creep below 1e-13
    out_of_core = cls(**{**params, "tol": max(params["tol"], 1e-13)}).fit(
        ddf[columns], ddf[target],
        sample_weight=ddf["weight"] if weighted else None)
    return memory, out_of_core


def _assert_same_fit(memory, out_of_core, rtol=1e-8):
    scale = np.linalg.norm(memory.coef_)
    assert np.linalg.norm(out_of_core.coef_ - memory.coef_) <= rtol * scale
    np.testing.assert_allclose(out_of_core.intercept_, memory.intercept_,
                               rtol=rtol, atol=rtol * (1 + scale))
    assert list(out_of_core.tasks_) == list(memory.tasks_)
    np.testing.assert_array_equal(out_of_core.n_samples_per_task_,
                                  memory.n_samples_per_task_)
    assert out_of_core.converged_


ALL_ESTIMATORS = sorted(name for name in mtstats.__all__
                        if name.endswith(("Regressor", "Classifier")))
# the default run: one family per loss; every family under -m slow
REPRESENTATIVE = {"GroupLassoRegressor", "TraceNormClassifier"}
SLOW = pytest.mark.slow


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=() if name in REPRESENTATIVE else pytest.mark.slow)
    for name in ALL_ESTIMATORS])
def test_dask_fit_equals_in_memory_fit(client, data, name):
    frame, ddf = data
    memory, out_of_core = _fit_both(name, frame, ddf, alpha=0.02)
    _assert_same_fit(memory, out_of_core)
    if name.endswith("Regressor"):
        assert out_of_core.n_passes_ == 1  # one pass of sufficient statistics
    else:  # classes, moments, then one pass per Newton trial point
        assert 3 <= out_of_core.n_passes_ <= 100
        assert list(out_of_core.classes_) == ["no", "yes"]
    assert not hasattr(memory, "n_passes_")
    columns = FEATURES + ["task"]
    np.testing.assert_allclose(out_of_core.predict(frame[columns][:50])
                               if name.endswith("Regressor") else
                               out_of_core.decision_function(frame[columns][:50]),
                               memory.predict(frame[columns][:50])
                               if name.endswith("Regressor") else
                               memory.decision_function(frame[columns][:50]),
                               rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("name", ["TraceNormRegressor",
                                  pytest.param("GroupLassoClassifier", marks=SLOW)])
def test_sample_weight_series(client, data, name):
    frame, ddf = data
    memory, out_of_core = _fit_both(name, frame, ddf, weighted=True, alpha=0.02)
    _assert_same_fit(memory, out_of_core)


def test_unpenalised_logistic_matches_statsmodels(client, data):
    frame, ddf = data
    est = mtstats.PooledClassifier(alpha=0.0, task_column="task", tol=1e-13,
                                   task_weight="n_samples").fit(
        ddf[FEATURES + ["task"]], ddf["passed"])
    dummies = pd.get_dummies(frame["task"], dtype=float)
    design = np.column_stack([frame[FEATURES].to_numpy(), dummies.to_numpy()])
    glm = sm.GLM((frame["passed"] == "yes").to_numpy(float), design,
                 family=sm.families.Binomial()).fit(tol=1e-14)
    np.testing.assert_allclose(est.coef_[0], glm.params[:3], rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, glm.params[3:], rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", ["TraceNormRegressor",
                                  pytest.param("GroupLassoClassifier", marks=SLOW)])
def test_partition_order_does_not_matter(client, data, name):
    frame, ddf = data
    target = "passed" if name.endswith("Classifier") else "score"
    reversed_ddf = dd.concat([ddf.partitions[i]
                              for i in reversed(range(ddf.npartitions))])
    params = {"task_column": "task", "tol": 1e-14, "alpha": 0.02}
    forward = getattr(mtstats, name)(**params).fit(ddf[FEATURES + ["task"]],
                                                   ddf[target])
    backward = getattr(mtstats, name)(**params).fit(
        reversed_ddf[FEATURES + ["task"]], reversed_ddf[target])
    np.testing.assert_allclose(backward.coef_, forward.coef_, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(backward.intercept_, forward.intercept_,
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["GroupLassoRegressor",
                                  pytest.param("TraceNormClassifier", marks=SLOW)])
def test_a_task_spanning_every_partition(client, tmp_path, name):
    frame = _frame(seed=3, sorted_by_task=True)
    frame.loc[frame.index[::7], "task"] = "everywhere"  # in all 12 partitions
    ddf = _parquet(frame, tmp_path / "rows", 12)
    memory, out_of_core = _fit_both(name, frame, ddf, alpha=0.02)
    _assert_same_fit(memory, out_of_core)
    assert "everywhere" in list(out_of_core.tasks_)


def _error_message(fit):
    with pytest.raises(ValueError) as error:
        fit()
    return str(error.value)


@pytest.mark.parametrize("name", ["GroupLassoRegressor", "GroupLassoClassifier"])
def test_nan_inside_one_partition_gives_the_in_memory_error(client, tmp_path, name):
    frame = _frame(seed=4)
    frame.loc[1500, "x1"] = np.nan  # in the fourth of six partitions
    ddf = _parquet(frame, tmp_path / "rows", 6)
    target = "passed" if name.endswith("Classifier") else "score"
    est = getattr(mtstats, name)(task_column="task")
    columns = FEATURES + ["task"]
    in_memory = _error_message(lambda: est.fit(frame[columns], frame[target]))
    out_of_core = _error_message(lambda: est.fit(ddf[columns], ddf[target]))
    assert out_of_core == in_memory
    assert "Input X contains NaN" in out_of_core


def test_one_class_task_and_third_class_are_refused_as_in_memory(client, tmp_path):
    frame = _frame(seed=5)
    frame.loc[frame["task"] == "school 2", "passed"] = "no"
    ddf = _parquet(frame, tmp_path / "one_class", 4)
    est = mtstats.TraceNormClassifier(task_column="task")
    columns = FEATURES + ["task"]
    in_memory = _error_message(lambda: est.fit(frame[columns], frame["passed"]))
    out_of_core = _error_message(lambda: est.fit(ddf[columns], ddf["passed"]))
    assert "Task 'school 2' has only one class ('no')" in in_memory
    assert out_of_core.split(" among")[0] == in_memory.split(" among")[0]
    frame.loc[3, "passed"] = "maybe"
    ddf = _parquet(frame, tmp_path / "three", 4)
    message = _error_message(lambda: est.fit(ddf[columns], ddf["passed"]))
    assert "Only binary classification is supported" in message


def test_statistics_pass_is_public_and_saves(client, data, tmp_path):
    frame, ddf = data
    grams = mtstats.TaskGrams.from_dask(ddf[FEATURES + ["task"]], ddf["score"],
                                        task_column="task")
    direct = mtstats.TaskGrams.from_arrays(frame[FEATURES + ["task"]],
                                           frame["score"], task_column="task")
    np.testing.assert_allclose(grams.comoment, direct.comoment, rtol=1e-12)
    grams.save(tmp_path / "grams.npz")
    est = mtstats.TraceNormRegressor(alpha=0.02, task_column="task").fit(
        mtstats.TaskGrams.load(tmp_path / "grams.npz"))
    assert est.coef_.shape == (N_TASKS, 3)


def test_refusals_name_the_problem(client, data):
    _, ddf = data
    with pytest.raises(ValueError, match="set task_column"):
        mtstats.GroupLassoRegressor().fit(ddf[FEATURES], ddf["score"])
    with pytest.raises(TypeError, match="must be a dask Series"):
        mtstats.GroupLassoRegressor(task_column="task").fit(
            ddf[FEATURES + ["task"]], ddf["score"].compute())
    with pytest.raises(ValueError, match="intercept_shrinkage"):
        mtstats.GroupLassoClassifier(task_column="task", intercept_shrinkage=2.0).fit(
            ddf[FEATURES + ["task"]], ddf["passed"])


def test_readme_example_runs_as_a_script(tmp_path):
    """The README's "Data larger than memory" example, verbatim, as a script
    (its own LocalCluster, started and stopped by the example)."""
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Data larger than memory")[1]
    example = section.split("```python")[1].split("```")[0]
    (tmp_path / "example.py").write_text(example)
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    passes = done.stdout.splitlines()[0].split()
    assert passes[0] == "1" and int(passes[1]) >= 3
    assert (tmp_path / "scores_grams.npz").exists()


def test_predictions_on_a_dask_frame_are_lazy_and_equal(client, data):
    frame, ddf = data
    columns = FEATURES + ["task"]
    clf = mtstats.TraceNormClassifier(alpha=0.02, task_column="task").fit(
        frame[columns], frame["passed"])
    labels = clf.predict(ddf[columns])
    proba = clf.predict_proba(ddf[columns])
    assert hasattr(labels, "__dask_graph__") and hasattr(proba, "__dask_graph__")
    np.testing.assert_array_equal(labels.compute().to_numpy(),
                                  clf.predict(frame[columns]))
    np.testing.assert_allclose(proba.compute().to_numpy(),
                               clf.predict_proba(frame[columns]), rtol=1e-12)
    assert list(proba.columns) == ["no", "yes"]
    reg = mtstats.GroupLassoRegressor(alpha=0.02, task_column="task").fit(
        ddf[columns], ddf["score"])
    np.testing.assert_allclose(reg.predict(ddf[columns]).compute().to_numpy(),
                               reg.predict(frame[columns]), rtol=1e-12)
