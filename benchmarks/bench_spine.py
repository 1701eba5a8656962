r"""Benchmark the mtstats estimator spine against its peers, at a matched gap.

Run from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_spine.py

(the two OpenBLAS variables slow NumPy's BLAS on the benchmark machine; should
they still be set, the script re-executes itself without them before any
timing). ``--quick`` runs tiny problems as a smoke test, ``--blas-threads 1``
pins the BLAS pools to one thread (robust when other processes share the
CPU); ``--help`` lists the other options. The Markdown report goes to
``benchmarks/results/spine.md`` and to standard output.

Problems. Shared design ``X`` (n x d), full targets ``Y`` (n x T), squared loss
and per-task intercepts::

    P(W, b) = ||Y - X W - 1 b^T||_F^2 / (2 n) + alpha * Omega(W),

with ``Omega`` the L21 norm (sum of the row norms of ``W``, d x T) or the
trace norm. Every library below minimises exactly this ``P`` with the same
``alpha`` -- no rescaling is applied to ``alpha`` or to the loss:

* ``mtstats.GroupLassoRegressor`` / ``mtstats.TraceNormRegressor`` (FISTA);
* ``sklearn.linear_model.MultiTaskLasso`` (cyclic coordinate descent);
* ``skglm.MultiTaskLasso`` (working sets + block CD + Anderson acceleration);
* ``celer``'s ``mtl_path`` (working sets + dual extrapolation). ``celer 0.7``'s
  ``MultiTaskLasso.fit`` calls ``self._validate_data``, which scikit-learn
  >= 1.6 removed, so the script does what that ``fit`` does: centre ``X`` and
  ``Y``, call ``celer.homotopy.mtl_path(alphas=[alpha])`` and recover the
  intercepts;
* ``cvxpy`` with Clarabel (interior point) and SCS (ADMM), trace norm only.

The tolerances do not mean the same thing across libraries (mtstats: gap
relative to ``P(0)``; scikit-learn: gap relative to ``||Y_c||^2 / n``, i.e.
twice ``P(0)``; celer: the same as scikit-learn; skglm: an absolute bound on
the violation of the optimality conditions). So each iterative solver is run
on a grid of tolerances, loosest first, and timed at the loosest one whose
solution reaches the target relative duality gap, measured by ONE function
(:func:`dual_objective`) for all of them.

Duality gap. With centred data ``X_c, Y_c`` (profiling the intercepts out)
and ``Omega^D`` the dual norm (largest row norm for L21, spectral norm for
the trace norm), the Fenchel dual of ``P`` is::

    D(theta) = (||Y_c||^2 - ||Y_c - theta||^2) / (2 n)
    s.t. Omega^D(X_c^T theta) <= n * alpha,  1^T theta = 0,

and ``theta = R / max(1, Omega^D(X_c^T R) / (n alpha))`` with the residual
``R = Y_c - X_c W`` is feasible. ``gap = P(W, b) - D(theta) >= P(W, b) - P*``
is evaluated at every solver's returned ``(coef_, intercept_)`` and divided by
``P(0) = ||Y_c||^2 / (2 n)``. :func:`verify_dual` checks this dual against
cvxpy on a tiny problem (primal with an explicit intercept, dual in its raw
form) and the report prints the check.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import cvxpy as cp
import numpy as np
import threadpoolctl
from celer.homotopy import mtl_path
from skglm import MultiTaskLasso as SkglmMTL
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLasso as SklearnMTL

import mtstats

OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
REEXEC_MARKER = "BENCH_SPINE_REMOVED_ENV"
RESULTS = Path(__file__).resolve().parent / "results" / "spine.md"
QUICK_RESULTS = RESULTS.with_name("spine_quick.md")
PACKAGES = ("numpy", "scipy", "scikit-learn", "skglm", "celer", "numba", "cvxpy",
            "clarabel", "scs", "threadpoolctl", "mtstats")
L21_SIZES = ((200, 500, 20), (1000, 200, 50), (100, 2000, 10))
TRACE_SIZES = ((200, 50, 20), (500, 100, 30))
QUICK_L21_SIZES = ((60, 40, 5),)
QUICK_TRACE_SIZES = ((60, 15, 5),)
ALPHA_FRACTION = 0.1
LONG_RUN = 10.0  # seconds: a run this long is not repeated
TOL_STEP = 10 ** -0.5
TOL_STEPS = 12
CLARABEL_TIGHT = {"tol_gap_abs": 1e-9, "tol_gap_rel": 1e-9, "tol_feas": 1e-9}


# --------------------------------------------------------------------------
# environment
# --------------------------------------------------------------------------

def reexec_without_openblas_overrides():
    """Restart the interpreter without the OpenBLAS variables, if set.

    They must be absent when NumPy loads OpenBLAS, hence a fresh process; the
    names removed travel in ``REEXEC_MARKER`` so the report can say so.
    """
    present = [name for name in OPENBLAS_OVERRIDES if name in os.environ]
    if not present:
        return
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
    env[REEXEC_MARKER] = ",".join(present)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def package_versions():
    """Installed version of every library the benchmark touches."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    versions["mtstats (imported)"] = mtstats.__version__
    versions["mtstats git"] = git_revision()
    return versions


def git_revision():
    """Commit of the repository holding mtstats, with a mark when dirty."""
    root = Path(mtstats.__file__).resolve().parents[1]
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                             capture_output=True, text=True, check=True).stdout
        dirty = subprocess.run(["git", "status", "--porcelain", "mtstats"],
                               cwd=root, capture_output=True, text=True,
                               check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev.strip() + (" (mtstats/ has uncommitted changes)" if dirty else "")


def cpu_model():
    """CPU model name from /proc/cpuinfo (or the platform string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_rows():
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries."""
    rows = []
    for info in threadpoolctl.threadpool_info():
        rows.append([info.get("user_api"), info.get("internal_api"),
                     info.get("architecture", "-"), info.get("version") or "-",
                     info.get("num_threads"), info.get("threading_layer", "-"),
                     Path(info.get("filepath", "")).name])
    return rows


def environment_section():
    """Markdown section: machine, environment variables, versions, BLAS."""
    removed = os.environ.get(REEXEC_MARKER, "")
    lines = ["## Environment", "",
             f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores; "
             f"{platform.platform()}",
             "- OpenBLAS overrides: "
             + (f"{removed} set; removed by re-executing" if removed
                else "none of " + ", ".join(OPENBLAS_OVERRIDES) + " set"),
             ""]
    versions = package_versions()
    lines += markdown_table(["library", "version"], list(versions.items()))
    lines += ["", "BLAS / OpenMP libraries loaded in this process "
              "(`threadpoolctl.threadpool_info()`; *kernel* is OpenBLAS's "
              "`architecture`):", ""]
    lines += markdown_table(["user_api", "internal_api", "kernel", "version",
                             "threads", "threading", "library"], blas_rows())
    return lines


# --------------------------------------------------------------------------
# problems and the common objective / duality gap
# --------------------------------------------------------------------------

def make_problem(n, d, n_tasks, seed=0):
    """Correlated Gaussian design with offsets; jointly sparse coefficients."""
    rng = np.random.default_rng(seed)
    n_active = max(2, d // 20)
    latent = rng.standard_normal((n, d))
    X = 0.5 * latent + 0.5 * np.roll(latent, 1, axis=1) + rng.uniform(-1, 1, d)
    W = np.zeros((d, n_tasks))
    W[rng.choice(d, n_active, replace=False)] = rng.standard_normal(
        (n_active, n_tasks))
    signal = X @ W
    noise = rng.standard_normal((n, n_tasks)) * signal.std()
    return X, signal + noise + rng.uniform(-3, 3, n_tasks)


def centre(X, Y):
    """Column-centred copies of ``X`` and ``Y`` (profiles the intercepts)."""
    return X - X.mean(axis=0), Y - Y.mean(axis=0)


def l21_norm(W):
    """Sum of the Euclidean norms of the rows of ``W`` (d x T)."""
    return float(np.sum(np.linalg.norm(W, axis=1)))


def max_row_norm(G):
    """Dual of the L21 norm: the largest row norm."""
    return float(np.max(np.linalg.norm(G, axis=1)))


def nuclear_norm(W):
    """Sum of the singular values."""
    return float(np.sum(np.linalg.svd(W, compute_uv=False)))


def spectral_norm(G):
    """Dual of the nuclear norm: the largest singular value."""
    return float(np.linalg.norm(G, 2))


NORMS = {"l21": (l21_norm, max_row_norm), "trace": (nuclear_norm, spectral_norm)}


def alpha_max(X, Y, penalty):
    """Smallest ``alpha`` with ``W = 0`` optimal: ``Omega^D(X_c^T Y_c) / n``."""
    Xc, Yc = centre(X, Y)
    return NORMS[penalty][1](Xc.T @ Yc) / X.shape[0]


def null_objective(Y):
    """``P(0) = ||Y_c||^2 / (2 n)``, the intercept-only objective."""
    Yc = Y - Y.mean(axis=0)
    return float(np.sum(Yc * Yc)) / (2 * Y.shape[0])


def primal_objective(X, Y, W, b, alpha, penalty):
    """``P(W, b)`` at the returned coefficients (d x T) and intercepts (T,)."""
    R = Y - X @ W - b
    return float(np.sum(R * R)) / (2 * X.shape[0]) + alpha * NORMS[penalty][0](W)


def dual_objective(X, Y, W, alpha, penalty):
    """``D(theta)`` at the feasible dual point built from the residual of ``W``."""
    n = X.shape[0]
    Xc, Yc = centre(X, Y)
    R = Yc - Xc @ W
    theta = R / max(1.0, NORMS[penalty][1](Xc.T @ R) / (n * alpha))
    diff = Yc - theta
    return (float(np.sum(Yc * Yc)) - float(np.sum(diff * diff))) / (2 * n)


@dataclass
class Quality:
    """Objective and relative duality gap of one solution."""

    objective: float
    rel_gap: float


def assess(problem, W, b):
    """Common objective and relative gap ``(P(W, b) - D) / P(0)``."""
    X, Y, alpha, penalty = problem
    primal = primal_objective(X, Y, W, b, alpha, penalty)
    gap = primal - dual_objective(X, Y, W, alpha, penalty)
    return Quality(primal, gap / null_objective(Y))


# --------------------------------------------------------------------------
# verification of the dual against cvxpy
# --------------------------------------------------------------------------

def cvxpy_penalty(W, penalty):
    """cvxpy expression of ``Omega(W)``."""
    if penalty == "l21":
        return cp.sum(cp.norm(W, 2, axis=1))
    return cp.normNuc(W)


def cvxpy_dual_norm_constraint(G, bound, penalty):
    """cvxpy constraint ``Omega^D(G) <= bound``."""
    if penalty == "l21":
        return cp.norm(G, 2, axis=1) <= bound
    return cp.sigma_max(G) <= bound


def cvxpy_primal_with_intercept(X, Y, alpha, penalty):
    """Solve ``P`` with an explicit intercept variable; return ``(P*, W, b)``."""
    n, d = X.shape
    W, b = cp.Variable((d, Y.shape[1])), cp.Variable(Y.shape[1])
    fit = cp.sum_squares(Y - X @ W - np.ones((n, 1)) @ cp.reshape(b, (1, -1),
                                                                   order="C"))
    prob = cp.Problem(cp.Minimize(fit / (2 * n) + alpha * cvxpy_penalty(W, penalty)))
    prob.solve(solver=cp.CLARABEL, **CLARABEL_TIGHT)
    assert prob.status == cp.OPTIMAL, prob.status
    return prob.value, W.value, b.value


def cvxpy_raw_dual(X, Y, alpha, penalty):
    """Solve the dual in its raw form (uncentred ``Y``, explicit ``1^T theta = 0``).

    ``max <theta, Y>/n - ||theta||^2/(2n)`` s.t. ``Omega^D(X^T theta) <= n alpha``.
    """
    n = X.shape[0]
    theta = cp.Variable(Y.shape)
    objective = cp.sum(cp.multiply(theta, Y)) / n - cp.sum_squares(theta) / (2 * n)
    constraints = [cp.sum(theta, axis=0) == 0,
                   cvxpy_dual_norm_constraint(X.T @ theta, n * alpha, penalty)]
    prob = cp.Problem(cp.Maximize(objective), constraints)
    prob.solve(solver=cp.CLARABEL, **CLARABEL_TIGHT)
    assert prob.status == cp.OPTIMAL, prob.status
    return prob.value


def verify_dual(penalty, seed=1):
    """Compare :func:`dual_objective` with cvxpy's primal and dual optima."""
    X, Y = make_problem(40, 12, 4, seed=seed)
    alpha = 0.2 * alpha_max(X, Y, penalty)
    p_star, W, b = cvxpy_primal_with_intercept(X, Y, alpha, penalty)
    d_star = cvxpy_raw_dual(X, Y, alpha, penalty)
    ours = dual_objective(X, Y, W, alpha, penalty)
    gap = assess((X, Y, alpha, penalty), W, b).rel_gap
    return [penalty, f"{p_star:.12f}", f"{d_star:.12f}", f"{ours:.12f}",
            f"{(p_star - d_star) / null_objective(Y):.1e}", f"{gap:.1e}"]


def verification_section():
    """Markdown section with the dual check on a tiny problem."""
    rows = [verify_dual(penalty) for penalty in ("l21", "trace")]
    lines = ["## Check of the common duality gap against cvxpy", "",
             "Tiny problem (n=40, d=12, T=4, alpha = 0.2 alpha_max), Clarabel at "
             "1e-9 tolerances. *P\\** solves the primal with an explicit "
             "intercept variable, *D\\** the raw dual (uncentred Y, constraint "
             "1^T theta = 0); *D(theta)* is this script's dual at cvxpy's primal "
             "solution. P\\* = D\\* = D(theta) and a gap near zero validate "
             "`dual_objective`.", ""]
    lines += markdown_table(["penalty", "P* (cvxpy primal)", "D* (cvxpy dual)",
                             "D(theta) (script)", "(P*-D*)/P(0)",
                             "script rel. gap at cvxpy solution"], rows)
    return lines


# --------------------------------------------------------------------------
# solvers: each takes (X, Y, alpha, tol) and returns (W (d x T), b (T,))
# --------------------------------------------------------------------------

def fit_mtstats_l21(X, Y, alpha, tol):
    """mtstats FISTA; ``tol``: duality gap relative to ``P(0)``."""
    est = mtstats.GroupLassoRegressor(alpha=alpha, tol=tol, max_iter=200_000)
    est.fit(X, Y)
    return est.coef_.T, est.intercept_


def fit_mtstats_trace(X, Y, alpha, tol):
    """mtstats FISTA with singular value thresholding."""
    est = mtstats.TraceNormRegressor(alpha=alpha, tol=tol, max_iter=200_000)
    est.fit(X, Y)
    return est.coef_.T, est.intercept_


def fit_sklearn(X, Y, alpha, tol):
    """scikit-learn CD; stops when gap <= tol * ||Y_c||^2 / n = 2 tol P(0)."""
    est = SklearnMTL(alpha=alpha, tol=tol, max_iter=1_000_000).fit(X, Y)
    return est.coef_.T, est.intercept_


def fit_skglm(X, Y, alpha, tol):
    """skglm block CD on centred data; ``tol`` bounds the KKT violation.

    ``skglm.MultiTaskLasso`` does not centre: with ``fit_intercept=True`` on
    the raw ``X`` it updates the intercept as one more coordinate, which is
    about ten times slower here when the columns of ``X`` have non-zero means.
    So it gets the same centring as scikit-learn and celer do internally.
    """
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    est = SkglmMTL(alpha=alpha, tol=tol, max_iter=200, max_epochs=100_000,
                   fit_intercept=False)
    est.fit(X - x_mean, Y - y_mean)
    W = est.coef_.T
    return W, y_mean - x_mean @ W


def fit_celer(X, Y, alpha, tol):
    """celer's ``MultiTaskLasso.fit`` done by hand (it fails on sklearn >= 1.6).

    Stops when gap <= tol * ||Y_c||^2 / n.
    """
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    Xc = np.asfortranarray(X - x_mean)
    Yc = np.asfortranarray(Y - y_mean)
    _, coefs, _ = mtl_path(Xc, Yc, alphas=[alpha], tol=tol, max_iter=200)
    W = coefs[..., 0].T
    return W, y_mean - x_mean @ W


def fit_cvxpy(X, Y, alpha, penalty, solver, options):
    """cvxpy on centred data (build + canonicalise + solve)."""
    n, d = X.shape
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    Xc, Yc = X - x_mean, Y - y_mean
    W = cp.Variable((d, Y.shape[1]))
    objective = cp.sum_squares(Yc - Xc @ W) / (2 * n) + alpha * cvxpy_penalty(
        W, penalty)
    prob = cp.Problem(cp.Minimize(objective))
    prob.solve(solver=solver, **options)
    return W.value, y_mean - x_mean @ W.value, prob.status, prob.solver_stats


# tolerance grid start of each iterative solver, as a function of
# (target relative gap, alpha)
L21_SOLVERS = {
    "mtstats": (fit_mtstats_l21, lambda target, alpha: 30 * target),
    "scikit-learn": (fit_sklearn, lambda target, alpha: 30 * target),
    "celer": (fit_celer, lambda target, alpha: 30 * target),
    "skglm": (fit_skglm, lambda target, alpha: 1e-2 * alpha),
}


# --------------------------------------------------------------------------
# calibration and timing
# --------------------------------------------------------------------------

def best_time(func, repeats):
    """Best wall time of up to ``repeats`` calls (``time.perf_counter``).

    Returns ``(seconds, runs, result of the fastest call)``; a call longer
    than ``LONG_RUN`` seconds ends the repeats (keeps cvxpy's slowest solve to
    one run).
    """
    best, best_result, runs = np.inf, None, 0
    while runs < repeats:
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
        runs += 1
        if elapsed < best:
            best, best_result = elapsed, result
        if elapsed > LONG_RUN:
            break
    return best, runs, best_result


def log(message):
    """Progress line on standard error."""
    print(message, file=sys.stderr, flush=True)


def calibrate(fit, problem, start_tol, target):
    """Loosest tolerance on a geometric grid whose solution reaches ``target``.

    Returns ``(tol, reached)``; when no grid point reaches the target, the
    tightest tolerance and ``False``.
    """
    X, Y, alpha, _ = problem
    tol = start_tol
    for _ in range(TOL_STEPS):
        W, b = fit(X, Y, alpha, tol)
        if assess(problem, W, b).rel_gap <= target:
            return tol, True
        tol *= TOL_STEP
    return tol / TOL_STEP, False


@dataclass
class Row:
    """One solver on one problem."""

    solver: str
    setting: str
    seconds: float
    runs: int
    quality: Quality
    note: str = ""
    tol: float | None = None


def run_iterative(name, fit, start_tol, problem, target, repeats):
    """Calibrate the tolerance of one solver, then time it."""
    X, Y, alpha, _ = problem
    start = time.perf_counter()
    tol, reached = calibrate(fit, problem, start_tol, target)
    calibration = time.perf_counter() - start
    seconds, runs, (W, b) = best_time(lambda: fit(X, Y, alpha, tol), repeats)
    log(f"    {name}: tol {tol:.2g} (calibration {calibration:.1f} s), "
        f"best {seconds:.3f} s")
    note = "" if reached else f"target {target:g} not reached"
    return Row(name, f"tol={tol:.2g}", seconds, runs, assess(problem, W, b),
               note, tol)


def run_cvxpy(name, solver, options, problem, repeats):
    """Time one cvxpy solver (fixed settings, no calibration)."""
    X, Y, alpha, penalty = problem
    seconds, runs, (W, b, status, stats) = best_time(
        lambda: fit_cvxpy(X, Y, alpha, penalty, solver, options), repeats)
    log(f"    {name} {options}: best {seconds:.3f} s")
    setting = ", ".join(f"{k}={v:g}" for k, v in options.items()) or "defaults"
    return Row(name, setting, seconds, runs, assess(problem, W, b),
               f"{status}, {stats.num_iters} iterations, solver-only time "
               f"{stats.solve_time:.3g} s")


# --------------------------------------------------------------------------
# the two benchmarks
# --------------------------------------------------------------------------

def make_benchmark_problem(size, penalty):
    """Data and ``alpha = ALPHA_FRACTION * alpha_max`` for one size."""
    X, Y = make_problem(*size)
    return X, Y, ALPHA_FRACTION * alpha_max(X, Y, penalty), penalty


def l21_rows(size, target, repeats):
    """All L21 solvers on one problem size."""
    problem = make_benchmark_problem(size, "l21")
    return [run_iterative(name, fit, start(target, problem[2]), problem, target,
                          repeats)
            for name, (fit, start) in L21_SOLVERS.items()]


def trace_rows(size, target, repeats):
    """mtstats and cvxpy (Clarabel, SCS) on one trace-norm problem size."""
    problem = make_benchmark_problem(size, "trace")
    return [
        run_iterative("mtstats", fit_mtstats_trace, 30 * target, problem, target,
                      repeats),
        run_cvxpy("cvxpy + Clarabel", cp.CLARABEL, {}, problem, repeats),
        run_cvxpy("cvxpy + SCS", cp.SCS, {}, problem, repeats),
        run_cvxpy("cvxpy + SCS", cp.SCS, {"eps_abs": 1e-7, "eps_rel": 1e-7},
                  problem, repeats),
    ]


def format_rows(size, rows):
    """Markdown rows: time ratio to mtstats, objective excess over the best."""
    mt_seconds = next(r.seconds for r in rows if r.solver == "mtstats")
    best = min(r.quality.objective for r in rows)
    n, d, n_tasks = size
    return [[f"{n}x{d}x{n_tasks}", r.solver, r.setting, f"{r.seconds:.4f}",
             r.runs, f"{r.seconds / mt_seconds:.2f}",
             f"{r.quality.objective:.10f}",
             f"{(r.quality.objective - best) / abs(best):.1e}",
             f"{r.quality.rel_gap:.1e}", r.note] for r in rows]


HEADERS = ["n x d x T", "solver", "setting", "time [s]", "runs", "time / mtstats",
           "objective P(W, b)", "(P - P_best) / P_best", "rel. gap", "note"]


def benchmark_section(title, intro, sizes, make_rows, target, repeats):
    """Run one benchmark over its sizes; Markdown lines and the raw rows."""
    table, results = [], []
    for size in sizes:
        log(f"  {title}: n, d, T = {size}")
        rows = make_rows(size, target, repeats)
        results.append((size, rows))
        table += format_rows(size, rows)
    lines = [f"## {title}", "", intro, ""] + markdown_table(HEADERS, table)
    return lines, results


def self_report_row(size, penalty, tol):
    """mtstats' own ``objective_`` and ``dual_gap_`` against the script's."""
    X, Y, alpha, _ = problem = make_benchmark_problem(size, penalty)
    est = (mtstats.GroupLassoRegressor if penalty == "l21"
           else mtstats.TraceNormRegressor)(alpha=alpha, tol=tol, max_iter=200_000)
    est.fit(X, Y)
    ours = assess(problem, est.coef_.T, est.intercept_)
    p0 = null_objective(Y)
    alpha_ratio = est.alpha_max(X, Y) / alpha_max(X, Y, penalty) - 1
    return [penalty, "x".join(map(str, size)), f"{alpha_ratio:.1e}",
            f"{tol:.2g}", est.n_iter_,
            est.converged_, f"{est.objective_:.12f}", f"{ours.objective:.12f}",
            f"{(est.objective_ - ours.objective) / p0:.1e}",
            f"{est.dual_gap_ / p0:.2e}", f"{ours.rel_gap:.2e}"]


def self_report_section(results):
    """Markdown section comparing mtstats' fitted attributes with the script."""
    rows = [self_report_row(size, penalty, row.tol)
            for penalty, sized_rows in results.items()
            for size, rows in sized_rows
            for row in rows if row.solver == "mtstats"]
    lines = ["## mtstats' own report vs the script", "",
             "`est.alpha_max(X, Y)`, `objective_` and `dual_gap_ / P(0)` of "
             "the fitted estimator against this script's alpha_max, objective "
             "and relative gap (same fit, at the calibrated tolerance).", ""]
    return lines + markdown_table(
        ["penalty", "n x d x T", "alpha_max rel. diff", "tol", "n_iter_",
         "converged_", "objective_", "script objective", "difference / P(0)",
         "dual_gap_ / P(0)", "script rel. gap"], rows)


def markdown_table(headers, rows):
    """Lines of a GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------

def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target-gap", type=float, default=1e-6,
                        help="relative duality gap every iterative solver must "
                             "reach (default 1e-6)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed repeats; the best is reported (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny problems, one repeat: a smoke test")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit the BLAS thread pools (threadpoolctl) for "
                             "the whole run (default: the libraries' own)")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"Markdown report (default {RESULTS}, or "
                             f"{QUICK_RESULTS.name} with --quick)")
    return parser.parse_args(argv)


def load_average():
    """The 1-minute load average (NaN where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def header_lines(args, elapsed, loads):
    """Title and settings of the report."""
    options = " ".join(sys.argv[1:])
    lines = ["# mtstats spine benchmark", "",
             "Generated by `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python "
             "benchmarks/bench_spine.py" + (f" {options}" if options else "")
             + "`.", "",
             f"- alpha = {ALPHA_FRACTION} * alpha_max; target relative duality "
             f"gap {args.target_gap:g}; time = best of {args.repeats} "
             "(`time.perf_counter`, includes input validation).",
             "- Objective and gap are computed by the script for every solver "
             "at its returned `(coef_, intercept_)`; rel. gap = gap / P(0)."]
    lines.append(f"- BLAS threads: {args.blas_threads or 'library default'}; "
                 f"1-min load average {loads[0]:.2f} at start, {loads[1]:.2f} "
                 f"at end (other processes on the machine distort the times, "
                 f"multi-threaded BLAS most); total wall time {elapsed:.0f} s.")
    return lines


L21_INTRO = (
    "Shared X, full Y, `alpha` identical for all (every library's objective is "
    "(1/(2n))||Y - XW - b||^2 + alpha sum_j ||W_j||, no rescaling). Each "
    "iterative solver is timed at the loosest tolerance of a grid (factor "
    "sqrt(10) apart) whose solution reaches the target gap; *setting* is that "
    "tolerance in the solver's own units. JIT compilation (skglm, numba) "
    "happens during calibration, before timing.")
TRACE_INTRO = (
    "(1/(2n))||Y - XW - b||^2 + alpha ||W||_*; cvxpy gets centred data (the "
    "intercept is recovered as for the other solvers) and its time includes "
    "building and canonicalising the problem; the solver-only time is in the "
    "note. SCS runs at its defaults and at eps 1e-7.")


def main(argv=None):
    """Run both benchmarks, write the Markdown report and print it."""
    reexec_without_openblas_overrides()
    args = parse_args(argv)
    if args.quick:
        args.repeats = 1
    output = args.output or (QUICK_RESULTS if args.quick else RESULTS)
    l21_sizes = QUICK_L21_SIZES if args.quick else L21_SIZES
    trace_sizes = QUICK_TRACE_SIZES if args.quick else TRACE_SIZES
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.filterwarnings("ignore", module="cvxpy")
    limits = (threadpoolctl.threadpool_limits(args.blas_threads, user_api="blas")
              if args.blas_threads else nullcontext())
    with limits:
        text = run_all(args, l21_sizes, trace_sizes)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)


def run_all(args, l21_sizes, trace_sizes):
    """Every section of the report, as one Markdown string."""
    loads = [load_average()]
    start = time.perf_counter()
    log("checking the dual against cvxpy")
    body = verification_section() + [""]
    l21_lines, l21_results = benchmark_section(
        "L21 (group lasso / MultiTaskLasso)", L21_INTRO, l21_sizes, l21_rows,
        args.target_gap, args.repeats)
    trace_lines, trace_results = benchmark_section(
        "Trace norm", TRACE_INTRO, trace_sizes, trace_rows, args.target_gap,
        args.repeats)
    body += l21_lines + [""] + trace_lines + [""]
    body += self_report_section({"l21": l21_results, "trace": trace_results})
    elapsed = time.perf_counter() - start
    loads.append(load_average())
    lines = (header_lines(args, elapsed, loads) + [""] + body + [""]
             + environment_section())
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
