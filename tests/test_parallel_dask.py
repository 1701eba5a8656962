"""The ``*CV`` folds and the report resamples on a Dask cluster.

Under ``joblib.parallel_config(backend="dask")`` the results equal the
sequential ones, and the data is scattered to the cluster once per parallel
loop, not serialized with every task: every submitted task calls a
module-level function (no closure or partial carrying the data) and gets the
data as futures. One local cluster (two single-threaded worker processes)
serves the whole module; ``pytest -m slow`` adds the full ``task_report``
comparisons.
"""

import inspect
import multiprocessing
import os
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

from dask.sizeof import sizeof  # noqa: E402

from mtstats import (  # noqa: E402
    GroupLassoClassifier,
    GroupLassoRegressor,
    GroupLassoRegressorCV,
)
from mtstats.datasets import (  # noqa: E402
    make_multitask_classification,
    make_multitask_regression,
)
from mtstats.model_selection import RepeatedTaskStratifiedKFold  # noqa: E402
from mtstats.report import task_report  # noqa: E402
from mtstats.report.calibration import calibration_report  # noqa: E402


@pytest.fixture(scope="module")
def client():
    """A local cluster and its client, closed (with its processes) at the end."""
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    before_mp = set(multiprocessing.active_children())  # e.g. loky's pool
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        workers = list(client.run(os.getpid).values())
        assert len(workers) == 2 and os.getpid() not in workers
        yield client
    finally:
        client.close()
        cluster.close()
    assert client.status == "closed"
    assert not set(multiprocessing.active_children()) - before_mp
    # new children, but the interpreter's resource tracker (it lives until exit)
    new = [p for p in me.children(recursive=True) if p.pid not in before
           and not any("resource_tracker" in part for part in p.cmdline())]
    _, alive = psutil.wait_procs(new, timeout=10)
    assert not alive, f"processes left running: {alive}"
    assert not any(psutil.pid_exists(pid) for pid in workers)


@pytest.fixture
def record(client, monkeypatch):
    """Every ``Client.scatter`` call and every task joblib submits."""
    log = {"scattered": [], "tasks": []}
    scatter, submit = distributed.Client.scatter, distributed.Client.submit

    def counting_scatter(self, data, *args, **kwargs):
        log["scattered"].append(data)
        return scatter(self, data, *args, **kwargs)

    def recording_submit(self, *args, **kwargs):
        log["tasks"].extend(kwargs.get("tasks") or [])
        return submit(self, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "scatter", counting_scatter)
    monkeypatch.setattr(distributed.Client, "submit", recording_submit)
    yield log
    log["scattered"].clear()
    log["tasks"].clear()


def _check_payloads(tasks, limit, skip_first=True):
    """Every task calls a plain function and carries no value over ``limit``
    bytes other than futures (the first argument, the per-call item, aside)."""
    assert tasks, "nothing was submitted to the cluster"
    for function, args, kwargs in tasks:
        assert inspect.isfunction(function) and function.__closure__ is None, function
        values = [*args[1 if skip_first else 0:], *kwargs.values()]
        for value in values:
            if isinstance(value, distributed.Future):
                continue
            assert len(pickle.dumps(value)) < limit, (function.__name__, type(value))


def _regression(n_tasks=4, n_samples=40, random_state=0):
    X, y, _ = make_multitask_regression(n_tasks=n_tasks, n_features=6,
                                        n_samples=n_samples, layout="long",
                                        as_frame=True, random_state=random_state)
    return X, y


def _assert_tables_equal(left, right):
    pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-10,
                                  atol=1e-12)


def test_cv_estimator_matches_sequential(record):
    X, y = _regression()
    options = dict(cv=3, alphas=5, task_column="task", random_state=0)
    reference = GroupLassoRegressorCV(**options).fit(X, y)
    with joblib.parallel_config(backend="dask"):
        fitted = GroupLassoRegressorCV(**options).fit(X, y)
    assert fitted.alpha_ == reference.alpha_
    np.testing.assert_allclose(fitted.coef_, reference.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fitted.scores_path_, reference.scores_path_,
                               rtol=0, atol=1e-12)
    assert len(record["tasks"]) == 3  # the three folds ran on the cluster
    assert sum(data is X for data in record["scattered"]) == 1
    assert sum(data is y for data in record["scattered"]) == 1
    for _, args, _ in record["tasks"]:
        assert isinstance(args[1], distributed.Future)  # X
        assert isinstance(args[2], distributed.Future)  # y
    _check_payloads(record["tasks"], limit=len(pickle.dumps(X)) // 4,
                    skip_first=False)


def test_calibration_classifier_matches_sequential(record):
    X, y, _ = make_multitask_classification(n_tasks=4, n_features=5,
                                            n_samples=(60, 80), layout="long",
                                            as_frame=True, random_state=1)
    options = dict(cv=3, recalibrate="sigmoid", n_resamples=50, random_state=0)
    estimator = GroupLassoClassifier(alpha=0.05, task_column="task")
    reference = calibration_report(estimator, X, y, **options)
    with joblib.parallel_config(backend="dask"):
        result = calibration_report(estimator, X, y, n_jobs=2, **options)
    _assert_tables_equal(result.table, reference.table)
    _assert_tables_equal(result.curve, reference.curve)
    _assert_tables_equal(result.augment, reference.augment)
    functions = {function.__name__ for function, _, _ in record["tasks"]}
    assert functions == {"_fit_predict", "_one_task"}
    assert sum(data is X for data in record["scattered"]) == 1
    _check_payloads(record["tasks"], limit=len(pickle.dumps(X)) // 4)


@pytest.mark.slow
def test_task_report_matches_sequential(record):
    X, y = _regression(n_tasks=4, n_samples=(30, 40))
    cv = RepeatedTaskStratifiedKFold(n_splits=3, n_repeats=2, task_column="task",
                                     random_state=0)
    estimator = GroupLassoRegressor(alpha=0.05, task_column="task")
    options = dict(cv=cv, n_splits=6, random_state=0)
    reference = task_report(estimator, X, y, **options)
    with joblib.parallel_config(backend="dask"):
        report = task_report(estimator, X, y, n_jobs=2, **options)
    assert report.errors == reference.errors == {}
    for part in ("comparison", "coefficients", "calibration"):
        _assert_tables_equal(getattr(report, part).table,
                             getattr(reference, part).table)
    _assert_tables_equal(report.comparison.differences,
                         reference.comparison.differences)
    functions = {function.__name__ for function, _, _ in record["tasks"]}
    assert functions == {"fit_and_score", "_run_split", "_fit_predict"}
    _check_payloads(record["tasks"], limit=len(pickle.dumps(X)) // 4)


def _scatters(record, n_tasks, n_splits):
    X, y, _ = make_multitask_classification(n_tasks=n_tasks, n_features=5,
                                            n_samples=(40, 50), layout="long",
                                            as_frame=True, random_state=2)
    cv = RepeatedTaskStratifiedKFold(n_splits=2, n_repeats=n_splits // 2,
                                     task_column="task", random_state=0)
    record["scattered"].clear()
    record["tasks"].clear()
    with joblib.parallel_config(backend="dask"):
        report = task_report(GroupLassoClassifier(alpha=0.05, task_column="task"),
                             X, y, cv=cv, n_splits=n_splits, random_state=0,
                             n_jobs=2)
    assert report.errors == {}
    _check_payloads(record["tasks"], limit=len(pickle.dumps(X)) // 4)
    assert all(sizeof(data) > 1000 for data in record["scattered"])
    return len(record["scattered"]), len(record["tasks"])


@pytest.mark.slow
def test_scatters_do_not_grow_with_tasks_or_splits(record):
    small, small_tasks = _scatters(record, n_tasks=6, n_splits=4)
    large, large_tasks = _scatters(record, n_tasks=12, n_splits=8)
    assert large_tasks > small_tasks  # more work was submitted ...
    assert large == small > 0  # ... with the same data shipped
