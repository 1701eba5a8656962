r"""False sign rate and power of the empirical-Bayes coefficient columns.

Run from the repository root::

    python benchmarks/bench_coefficient_shrinkage.py

It simulates the designs of ``tests/test_coefficient_shrinkage.py`` (AR(1)
correlation 0.8 across 15 features, t noise with 3 degrees of freedom, 8
tasks of 60-160 rows, three effects of sizes 0.6-1.0) and runs
:func:`mtstats.report.coefficient_tests` with ``shrinkage=True`` on every
replicate; the data, the estimator and the counts come from that test module,
so the slow tests and this script measure the same thing. Per scenario it
reports the false sign rate of the sign calls (``eb_sign != 0``, lfsr <=
0.05) with its Monte-Carlo error, and the power per (task, coefficient) of
the calls, of the Holm-adjusted multi-split p-values of the same fits and of
the feature-level group test. Scenarios:

``shared``, ``partial``, ``null`` (group lasso, ``method="multisplit"``)
    See the test module; ``partial`` puts each effect in a random half of
    the tasks (0 in the others).
``shared_trace`` (trace norm, ``method="subspace_split"``)
    The ``shared`` data; the calls are judged against the coefficients
    themselves although the estimand is their projection on the learned
    subspace.
Sensitivity
    ``shared``, ``partial`` and ``null`` again with other settings of
    :func:`~mtstats.report._empirical_bayes.shrink_effects` (whose defaults
    are the method): ``--variants`` is a comma-separated list of
    ``null_penalty`` or ``null_penalty/n_bootstrap`` (default ``1,1/10``; e.g.
    ``1/10`` adds the Bayesian bootstrap of the prior, ten times the cost).

Options: ``--replicates`` (per main scenario), ``--trace-replicates``,
``--sensitivity-replicates`` (per variant and scenario),
``--splits``, ``--n-jobs`` (replicates in parallel, one BLAS thread each),
``--output`` (default ``results/coefficient_shrinkage.md``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ["PYTHONPATH"] = os.pathsep.join(  # for the worker processes
    filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))
import test_coefficient_shrinkage as sim  # noqa: E402

import mtstats  # noqa: E402
from mtstats import GroupLassoRegressor, TraceNormRegressor  # noqa: E402
from mtstats.report import _aggregation  # noqa: E402
from mtstats.report.coefficients import coefficient_tests  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "coefficient_shrinkage.md"
#: TraceNormRegressorCV on half of every task's rows: median alpha of 3 draws.
TRACE_ALPHA = 1.0
SEEDS = {"shared": 10_000, "partial": 20_000, "null": 30_000, "shared_trace": 10_000}


def _estimator(scenario):
    if scenario == "shared_trace":
        return TraceNormRegressor(alpha=TRACE_ALPHA, task_column="task")
    return GroupLassoRegressor(alpha=sim.ALPHA, task_column="task")


def _options(variant):
    """``shrink_effects`` options of a variant ``"penalty[/n_bootstrap]"``."""
    if variant == "default":
        return {}
    penalty, _, boot = variant.partition("/")
    return dict(null_penalty=float(penalty), n_bootstrap=int(boot or 0))


def _one(seed, scenario, n_splits, variant="default"):
    """One replicate: counts, seconds with and without the shrinkage."""
    data = "shared" if scenario == "shared_trace" else scenario
    original = _aggregation.SHRINK_OPTIONS
    _aggregation.SHRINK_OPTIONS = {**original, **_options(variant)}
    try:
        with threadpool_limits(1):
            X, y, _ = sim.make_design(seed, data)
            start = time.perf_counter()
            coefficient_tests(_estimator(scenario), X, y, n_splits=n_splits,
                              random_state=seed, shrinkage=False)
            plain = time.perf_counter() - start
            counts = sim.replicate(seed, data, n_splits, _estimator(scenario))
    finally:
        _aggregation.SHRINK_OPTIONS = original
    return dict(counts, scenario=scenario, plain_seconds=plain, variant=variant)


def _fmt(value, se=None, digits=3):
    text = f"{value:.{digits}f}"
    return text if se is None or not np.isfinite(se) else f"{text} ± {se:.{digits}f}"


def _table(frame):
    lines = ["| scenario | null_penalty[/n_bootstrap] | replicates | calls | "
             "false calls | FSR (pooled) | tolerance | FSR (per replicate) | "
             "tolerance | power EB | "
             "power Holm | power group | Holm wrong signs | s / replicate (EB) | "
             "s / replicate (no EB) |", "|" + "---|" * 15]
    for (scenario, penalty), rows in frame.groupby(["scenario", "variant"],
                                                   sort=False):
        s = sim.summarise(rows.to_dict("records"))
        lines.append(
            f"| {scenario} | {penalty} | {s['replicates']} | {s['calls']} | "
            f"{s['false_calls']} | {_fmt(s['fsr'])} | {_fmt(s['fsr_tolerance'])} | "
            f"{_fmt(s['fsr_replicate'])} | {_fmt(s['fsr_replicate_tolerance'])} | "
            f"{_fmt(s['power_eb'], s['power_eb_se'])} | "
            f"{_fmt(s['power_holm'], s['power_holm_se'])} | "
            f"{_fmt(s['power_group'], s['power_group_se'])} | {s['holm_false']} | "
            f"{s['seconds']:.1f} | {rows['plain_seconds'].mean():.1f} |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicates", type=int, default=30)
    parser.add_argument("--sensitivity-replicates", type=int, default=8)
    parser.add_argument("--trace-replicates", type=int, default=8)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--variants", default="1,1/10")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    main_scenarios = ("shared", "partial", "null")
    jobs = [(SEEDS[s] + r, s, args.splits) for s in main_scenarios
            for r in range(args.replicates)]
    jobs += [(SEEDS["shared_trace"] + r, "shared_trace", args.splits)
             for r in range(args.trace_replicates)]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    jobs += [(SEEDS[s] + r, s, args.splits, v) for v in variants
             for s in main_scenarios for r in range(args.sensitivity_replicates)]
    load, start = os.getloadavg()[0], time.perf_counter()
    rows = Parallel(n_jobs=args.n_jobs)(delayed(_one)(*job) for job in jobs)
    total = time.perf_counter() - start
    frame = pd.DataFrame(rows)
    digest = hashlib.sha256((ROOT / "mtstats/report/_empirical_bayes.py")
                            .read_bytes()).hexdigest()[:12]
    command = "python benchmarks/bench_coefficient_shrinkage.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    text = [
        "# Empirical-Bayes coefficient columns: false sign rate and power", "",
        f"Generated by `{command.strip()}` (mtstats {mtstats.__version__}, "
        f"`_empirical_bayes.py` sha256 {digest}); {len(jobs)} replicates on "
        f"{args.n_jobs} processes in {total / 60:.1f} min, 1-min load average "
        f"{load:.1f} at start, {os.getloadavg()[0]:.1f} at end; "
        f"{platform.platform()}.", "",
        f"Design: {sim.N_TASKS} tasks of 60-160 rows, {sim.N_FEATURES} features "
        f"with AR(1) correlation {sim.RHO}, t noise with {sim.NOISE_DF} df, effects "
        f"{', '.join(f'{v:g}' for v in sim.SIZES)} (random signs) on features "
        f"{', '.join(map(str, sim.SUPPORT))}; GroupLassoRegressor(alpha="
        f"{sim.ALPHA}) with method='multisplit', TraceNormRegressor(alpha="
        f"{TRACE_ALPHA}) with 'subspace_split'; {args.splits} splits, fraction "
        "0.5. Calls: eb_sign != 0 (lfsr <= 0.05); a call is false when its "
        "sign differs from the true coefficient's (0 included). Holm: p_adj < "
        "0.05 with the sign of estimate_inference.", "",
        "FSR (pooled) = false calls / calls; its tolerance is twice the binomial "
        "error at 0.05 for that many calls (calls within a replicate are "
        "correlated, so the real Monte-Carlo error is larger). FSR (per "
        "replicate) = mean of false / max(calls, 1) (under the global null: the "
        "share of replicates with any call), tolerance twice the binomial error "
        "at 0.05 for that many replicates. Powers: share of the non-zero (task, "
        "coefficient) pairs called with the right sign (group: share of non-zero "
        "features with group p_adj < 0.05), ± one replicate-clustered standard "
        "error. Times: seconds of coefficient_tests per replicate, one BLAS "
        "thread.", "",
        "null_penalty: the Dirichlet weight lambda_0 of the prior's point mass "
        "at 0; 'default' is `_aggregation.SHRINK_OPTIONS` (3, no bootstrap), "
        "the method. With T units its penalised estimate satisfies pi_0 >= "
        "(lambda_0 - 1) / (T + lambda_0 - 1): "
        f"{2 / (sim.N_TASKS + 2):.2f} for 3 at T = {sim.N_TASKS}, 0 for 1.", ""]
    text += _table(frame) + [""]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(text), encoding="utf-8")
    print("\n".join(text))


if __name__ == "__main__":
    main()
