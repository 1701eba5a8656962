r"""Benchmark the fast, tuned fits of issue 8 against their peers, in one process.

Run from the repository root, on an idle machine::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_tuned.py

Sections (``--sections`` picks some; ``--quick`` is a smoke test on tiny
problems, written to ``results/tuned_quick.md``):

``l21``
    Group lasso on a shared ``X`` with sparse ground truth against
    scikit-learn's ``MultiTaskLasso``, celer and skglm, at ``alpha_max / 10``
    and ``alpha_max / 50``, every solver timed at the loosest tolerance whose
    solution reaches the same relative duality gap (1e-6), measured by one
    function for all (``bench_spine.assess``).
``cv``
    A whole tuned fit: ``GroupLassoRegressorCV`` against ``MultiTaskLassoCV``
    with the same alpha grid and the same folds; both stop on the same
    absolute duality gap (scikit-learn's ``tol`` is relative to
    ``||Y_c||^2 / n`` = twice mtstats' ``P(0)``, so mtstats gets ``2 tol``).
``trace``
    The trace norm against cvxpy + SCS (eps 1e-7) at a relative gap of 1e-6,
    on the two problems of ``bench_spine.py`` and a larger one.
``long``
    The long layout with 1000 tasks, 1e6 rows and 50 features: time and peak
    memory of one ``GroupLassoRegressor`` fit, in a fresh subprocess, for
    this checkout and (``--before PATH``) an older checkout at ``PATH``.

The tables give every time as a ratio to mtstats' (``time / mtstats``; above
1 means mtstats is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLassoCV
from sklearn.model_selection import KFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_spine as spine  # noqa: E402

import mtstats  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "tuned.md"
L21_SIZES = ((500, 1000, 20), (2000, 500, 50), (10000, 2000, 100), (100, 2000, 10))
QUICK_L21_SIZES = ((60, 40, 5),)
ALPHA_DIVISORS = (10, 50)
CV_SIZES = ((600, 300, 30), (2000, 500, 50))
QUICK_CV_SIZES = ((80, 30, 5),)
TRACE_SIZES = ((200, 50, 20), (500, 100, 30), (1000, 200, 50))
QUICK_TRACE_SIZES = ((60, 15, 5),)
LONG_SHAPE = (1000, 1_000_000, 50)  # tasks, rows, features
QUICK_LONG_SHAPE = (20, 2000, 5)

_LONG_CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np
n_tasks, n_rows, d = map(int, sys.argv[1:4])
import mtstats
rng = np.random.default_rng(0)
X = rng.standard_normal((n_rows, d))
tasks = np.sort(rng.integers(0, n_tasks, n_rows)).astype(np.float64)
W = rng.standard_normal((d, n_tasks)) * (rng.random((d, 1)) < 0.2)
y = np.einsum("ij,ij->i", X, W.T[tasks.astype(int)]) + rng.standard_normal(n_rows)
Xt = np.column_stack([X, tasks])
del X
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
est = mtstats.GroupLassoRegressor(alpha=0.01, task_column=-1, tol=1e-4,
                                  max_iter=100000)
warnings.simplefilter("ignore")
start = time.perf_counter()
est.fit(Xt, y)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak_extra": after - before,
                  "x_bytes": Xt.nbytes, "n_iter": int(est.n_iter_),
                  "converged": bool(est.converged_)}))
"""


def log(message):
    spine.log(message)


# ------------------------------------------------------------------- L21


def l21_problem(size, divisor):
    X, Y = spine.make_problem(*size)
    return X, Y, spine.alpha_max(X, Y, "l21") / divisor, "l21"


def l21_section(sizes, target, repeats):
    rows = []
    for size in sizes:
        for divisor in ALPHA_DIVISORS:
            log(f"  l21 {size}, alpha_max/{divisor}")
            problem = l21_problem(size, divisor)
            results = [spine.run_iterative(name, fit, start(target, problem[2]),
                                           problem, target, repeats)
                       for name, (fit, start) in spine.L21_SOLVERS.items()]
            mt = next(r.seconds for r in results if r.solver == "mtstats")
            for r in results:
                rows.append(["x".join(map(str, size)), f"max/{divisor}", r.solver,
                             r.setting, f"{r.seconds:.3f}", f"{r.seconds / mt:.2f}",
                             f"{r.quality.rel_gap:.1e}", r.note])
    headers = ["n x d x T", "alpha", "solver", "setting", "time [s]",
               "time / mtstats", "rel. gap", "note"]
    intro = ("Shared X, sparse truth (d/20 active rows), same objective for all; "
             f"each solver at the loosest tolerance reaching a relative gap of "
             f"{target:g}. Goal: scikit-learn's time / mtstats >= 2.")
    return ["## Group lasso (L21) against coordinate descent", "", intro, ""] + \
        spine.markdown_table(headers, rows)


# -------------------------------------------------------------------- CV


def cv_section(sizes, n_alphas, repeats):
    rows = []
    for size in sizes:
        log(f"  cv {size}")
        X, Y = spine.make_problem(*size)
        a_max = spine.alpha_max(X, Y, "l21")
        alphas = a_max * np.geomspace(1.0, 1e-3, n_alphas)
        folds = list(KFold(5, shuffle=True, random_state=0).split(X))
        ours = mtstats.GroupLassoRegressorCV(
            alphas=alphas, cv=folds, tol=2e-4, max_iter=200_000,
            scoring="neg_mean_squared_error")
        peer = MultiTaskLassoCV(alphas=alphas, cv=folds, tol=1e-4,
                                max_iter=1_000_000)
        t_ours, _, _ = spine.best_time(lambda e=ours, a=X, b=Y: e.fit(a, b), repeats)
        t_peer, _, _ = spine.best_time(lambda e=peer, a=X, b=Y: e.fit(a, b), repeats)
        diff = float(np.max(np.abs(ours.coef_ - peer.coef_)))
        for name, seconds, alpha in (("mtstats GroupLassoRegressorCV", t_ours,
                                      ours.alpha_),
                                     ("scikit-learn MultiTaskLassoCV", t_peer,
                                      peer.alpha_)):
            rows.append(["x".join(map(str, size)), name, f"{seconds:.3f}",
                         f"{seconds / t_ours:.2f}", f"{alpha / a_max:.4g}",
                         f"{diff:.1e}"])
    headers = ["n x d x T", "estimator", "time [s]", "time / mtstats",
               "alpha_ / alpha_max", "max |coef diff|"]
    intro = (f"{n_alphas} alphas from alpha_max to alpha_max/1000, the same 5 "
             "folds, the same absolute gap criterion, refit at the chosen alpha "
             "included. Goal: scikit-learn's time / mtstats >= 2.")
    return ["## Full path + cross-validation", "", intro, ""] + \
        spine.markdown_table(headers, rows)


# ------------------------------------------------------------------ trace


def trace_section(sizes, target, repeats):
    rows = []
    for size in sizes:
        log(f"  trace {size}")
        X, Y = spine.make_problem(*size)
        problem = (X, Y, 0.1 * spine.alpha_max(X, Y, "trace"), "trace")
        ours = spine.run_iterative("mtstats", spine.fit_mtstats_trace, 30 * target,
                                   problem, target, repeats)
        scs = spine.run_cvxpy("cvxpy+SCS", "SCS", {"eps_abs": 1e-7, "eps_rel": 1e-7},
                              problem, 1)
        for r in (ours, scs):
            rows.append(["x".join(map(str, size)), r.solver, r.setting,
                         f"{r.seconds:.3f}", f"{r.seconds / ours.seconds:.1f}",
                         f"{r.quality.rel_gap:.1e}", r.note])
    headers = ["n x d x T", "solver", "setting", "time [s]", "time / mtstats",
               "rel. gap", "note"]
    intro = ("alpha = alpha_max/10; mtstats at the loosest tolerance reaching "
             f"a relative gap of {target:g}; SCS at eps 1e-7 (its time includes "
             "cvxpy's canonicalisation). Goal: time / mtstats >= 100.")
    return ["## Trace norm against cvxpy + SCS", "", intro, ""] + \
        spine.markdown_table(headers, rows)


# ------------------------------------------------------------------- long


def run_long(shape, pythonpath=None):
    env = {k: v for k, v in os.environ.items() if k not in spine.OPENBLAS_OVERRIDES}
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    proc = subprocess.run([sys.executable, "-c", _LONG_CHILD, *map(str, shape)],
                          capture_output=True, text=True, env=env, check=False,
                          cwd=pythonpath or Path.cwd())
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def long_section(shape, before):
    rows = []
    for label, path in (("this checkout", None), ("before", before)):
        if label == "before" and path is None:
            continue
        log(f"  long layout {shape}, {label}")
        result = run_long(shape, path)
        if "error" in result:
            rows.append([label, "failed", "", "", "", result["error"]])
            continue
        rows.append([label, f"{result['seconds']:.2f}", result["n_iter"],
                     result["converged"],
                     f"{result['peak_extra'] / 2**20:.0f} MiB",
                     f"{result['peak_extra'] / result['x_bytes']:.2f}"])
    n_tasks, n_rows, d = shape
    intro = (f"{n_tasks} tasks, {n_rows} rows, {d} features (X with the task "
             f"column: {n_rows * (d + 1) * 8 / 2**20:.0f} MiB); one "
             "GroupLassoRegressor fit (alpha 0.01, tol 1e-4) in a fresh process; "
             "peak = growth of the maximum resident set during fit.")
    return ["## Long layout at scale", "", intro, ""] + spine.markdown_table(
        ["code", "fit time [s]", "n_iter", "converged", "peak during fit",
         "peak / X"], rows)


# ----------------------------------------------------------------- driver


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sections", default="l21,cv,trace,long",
                        help="comma-separated subset of l21,cv,trace,long")
    parser.add_argument("--target-gap", type=float, default=1e-6)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--n-alphas", type=int, default=100)
    parser.add_argument("--before", type=Path, default=None,
                        help="an older checkout for the long-layout comparison")
    parser.add_argument("--l21-sizes", default=None,
                        help="L21 problems as n:d:T,n:d:T (default: the four of "
                             "the issue)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    return parser.parse_args(argv)


def main(argv=None):
    spine.reexec_without_openblas_overrides()
    args = parse_args(argv)
    quick = args.quick
    if quick:
        args.repeats = 1
    sections = args.sections.split(",")
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.filterwarnings("ignore", module="cvxpy")
    loads, start = [spine.load_average()], time.perf_counter()
    body = []
    if "l21" in sections:
        sizes = QUICK_L21_SIZES if quick else L21_SIZES
        if args.l21_sizes:
            sizes = [tuple(map(int, s.split(":"))) for s in args.l21_sizes.split(",")]
        body += l21_section(sizes, args.target_gap, args.repeats) + [""]
    if "cv" in sections:
        body += cv_section(QUICK_CV_SIZES if quick else CV_SIZES,
                           10 if quick else args.n_alphas, args.repeats) + [""]
    if "trace" in sections:
        body += trace_section(QUICK_TRACE_SIZES if quick else TRACE_SIZES,
                              args.target_gap, args.repeats) + [""]
    if "long" in sections:
        body += long_section(QUICK_LONG_SHAPE if quick else LONG_SHAPE,
                             args.before) + [""]
    loads.append(spine.load_average())
    header = ["# mtstats tuned-fit benchmark", "",
              "Generated by `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python "
              "benchmarks/bench_tuned.py " + " ".join(sys.argv[1:]) + "`.", "",
              f"- time = best of {args.repeats}; 1-min load average "
              f"{loads[0]:.2f} at start, {loads[1]:.2f} at end; total "
              f"{time.perf_counter() - start:.0f} s.", ""]
    text = "\n".join(header + body + spine.environment_section()) + "\n"
    output = args.output or RESULTS.with_name("tuned_quick.md" if quick
                                              else "tuned.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
