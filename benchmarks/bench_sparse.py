r"""Benchmark a sparse multitask L21 regression: mtstats against its peers.

Run from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_sparse.py

(should the two OpenBLAS variables still be set, the script re-executes
itself without them, as ``bench_spine.py`` does). ``--quick`` runs a small
problem once; ``--blas-threads 1`` pins the BLAS pools. The Markdown report
goes to ``benchmarks/results/sparse.md`` and to standard output.

Problem. Wide layout: one sparse ``X`` (n x d, CSR, density ``rho``, positive
entries, so its columns have non-zero means and the intercepts matter),
targets ``Y`` (n x T) from a row-sparse ``W`` plus noise and offsets::

    P(W, b) = ||Y - X W - 1 b^T||_F^2 / (2 n) + alpha * sum_j ||W_j||_2,

which is the objective of all four solvers at the same ``alpha``:

* ``mtstats.GroupLassoRegressor`` (FISTA on the sparse operator, centring
  implicit; ``task_weight=None`` makes its loss ``sum_t (1/(2 n)) ||.||^2``);
* ``sklearn.linear_model.MultiTaskLasso`` (cyclic block coordinate descent;
  scikit-learn >= 1.8 accepts a sparse CSC ``X`` here, older versions do not,
  and then it gets the dense ``X``: the table says which);
* ``skglm.MultiTaskLasso`` and ``skglm.GeneralizedLinearEstimator`` with
  ``QuadraticMultiTask`` + ``L2_1`` and ``MultiTaskBCD`` (working sets, block
  CD, Anderson acceleration); both take a sparse CSC ``X`` and fit the
  intercepts as one more coordinate block (centring a sparse ``X`` would
  densify it).

``alpha = 0.1 alpha_max``. Every solver is run on a grid of its own
tolerances (loosest first, factor sqrt(10)) and timed, best of ``--repeats``,
at the loosest one whose solution reaches the target relative duality gap,
measured for all by one function (:func:`relative_gap`, the dual point of
``bench_spine.py`` built from the residual, with ``X_c^T R = X^T R`` since
``R`` has zero column means). The objective column is ``P`` evaluated by the
script at every solver's ``(coef_, intercept_)``; mtstats' own
``objective_`` is printed next to it, checking that the two objectives are
the same function. JIT compilation (skglm) happens during calibration.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import threadpoolctl
from skglm import GeneralizedLinearEstimator
from skglm import MultiTaskLasso as SkglmMTL
from skglm.datafits import QuadraticMultiTask
from skglm.penalties import L2_1
from skglm.solvers import MultiTaskBCD
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLasso as SklearnMTL

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_spine as spine  # noqa: E402

import mtstats  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "sparse.md"
QUICK_RESULTS = RESULTS.with_name("sparse_quick.md")
SIZE = (20_000, 5_000, 10, 1e-3)  # n, d, T, density
QUICK_SIZE = (2_000, 500, 5, 1e-2)
N_ACTIVE = 50
ALPHA_FRACTION = 0.1
TOLS = 10.0 ** -np.arange(1.0, 9.0, 0.5)


def make_problem(n, d, n_tasks, density, seed=0):
    """Sparse positive ``X`` (CSR); ``Y`` from ``N_ACTIVE`` non-zero rows of ``W``."""
    rng = np.random.default_rng(seed)
    X = sp.random_array((n, d), density=density, format="csr", rng=rng,
                        data_sampler=lambda size: rng.exponential(size=size))
    W = np.zeros((d, n_tasks))
    active = rng.choice(d, min(N_ACTIVE, d), replace=False)
    W[active] = rng.standard_normal((active.shape[0], n_tasks))
    signal = X @ W
    noise = 0.5 * signal.std() * rng.standard_normal((n, n_tasks))
    return X, signal + noise + rng.uniform(-3, 3, n_tasks)


class Problem:
    """Data, ``alpha`` and the common objective and duality gap."""

    def __init__(self, X, Y):
        self.X, self.Y, self.n = X, Y, X.shape[0]
        self.Yc = Y - Y.mean(axis=0)
        self.c = np.asarray(X.mean(axis=0)).ravel()
        self.null = float(np.sum(self.Yc**2)) / (2 * self.n)  # P(0)
        alpha_max = np.max(np.linalg.norm(X.T @ self.Yc, axis=1)) / self.n
        self.alpha = ALPHA_FRACTION * alpha_max

    def objective(self, W, b):
        """``P(W, b)`` with ``W`` of shape (d, T)."""
        R = self.Y - self.X @ W - b
        return (float(np.sum(R * R)) / (2 * self.n)
                + self.alpha * float(np.sum(np.linalg.norm(W, axis=1))))

    def relative_gap(self, W, b):
        """``(P(W, b) - D(theta)) / P(0)`` at the residual's scaled dual point."""
        R = self.Yc - (self.X @ W - self.c @ W)
        scale = np.max(np.linalg.norm(self.X.T @ R, axis=1)) / (self.n * self.alpha)
        theta = R / max(1.0, scale)
        dual = (float(np.sum(self.Yc**2)) - float(np.sum((self.Yc - theta) ** 2))) / (
            2 * self.n)
        return (self.objective(W, b) - dual) / self.null


def fit_mtstats(problem, tol):
    est = mtstats.GroupLassoRegressor(alpha=problem.alpha, tol=tol, max_iter=100_000)
    est.fit(problem.X, problem.Y)
    return est.coef_.T, est.intercept_, est.objective_


def sklearn_input(problem):
    """The sparse CSC ``X`` where scikit-learn takes it, else the dense one."""
    try:
        SklearnMTL(alpha=problem.alpha, max_iter=1).fit(problem.X[:50].tocsc(),
                                                        problem.Y[:50])
        return problem.X.tocsc(), "sparse CSC"
    except (TypeError, ValueError):
        return problem.X.toarray(), "dense (sklearn rejects sparse X)"


def fit_sklearn(problem, tol, X):
    est = SklearnMTL(alpha=problem.alpha, tol=tol, max_iter=1_000_000).fit(X, problem.Y)
    return est.coef_.T, est.intercept_, None


def fit_skglm(problem, tol, X):
    est = SkglmMTL(alpha=problem.alpha, tol=tol, max_iter=200, max_epochs=100_000)
    est.fit(X, problem.Y)
    return est.coef_.T, est.intercept_, None


def fit_skglm_gle(problem, tol, X):
    est = GeneralizedLinearEstimator(
        QuadraticMultiTask(), L2_1(problem.alpha),
        MultiTaskBCD(max_iter=200, max_epochs=100_000, tol=tol, fit_intercept=True))
    est.fit(X, problem.Y)
    return est.coef_, est.intercept_, None  # coef_ is (d, T) here


def calibrate(fit, problem, target):
    """Loosest tolerance of ``TOLS`` reaching ``target``: ``(tol, reached)``."""
    for tol in TOLS:
        W, b, _ = fit(problem, tol)
        if problem.relative_gap(W, b) <= target:
            return tol, True
    return TOLS[-1], False


def run(name, given, fit, problem, target, repeats):
    spine.log(f"{name}: calibrating")
    tol, reached = calibrate(fit, problem, target)
    seconds, runs, (W, b, own) = spine.best_time(lambda: fit(problem, tol), repeats)
    gap = problem.relative_gap(W, b)
    spine.log(f"{name}: tol {tol:.1e}, {seconds:.3f} s, rel. gap {gap:.1e}")
    return dict(name=name, given=given, tol=tol, reached=reached, time=seconds,
                runs=runs, objective=problem.objective(W, b), own=own, gap=gap,
                active=int(np.sum(np.linalg.norm(W, axis=1) > 0)))


def table(rows):
    mine = rows[0]["time"]
    body = [[r["name"], r["given"],
             f"{r['tol']:.1e}" + ("" if r["reached"] else " (!)"),
             f"{r['time']:.3f}", r["runs"], f"{r['objective']:.12g}",
             f"{r['gap']:.1e}", r["active"], f"{mine / r['time']:.2f}"]
            for r in rows]
    return spine.markdown_table(
        ["solver", "X given as", "setting (tol)", "time (s)", "runs",
         "objective P", "rel. gap", "active rows", "mtstats / peer"], body)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target-gap", type=float, default=1e-6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--blas-threads", type=int, default=None)
    parser.add_argument("--output", type=Path, default=None)
    return parser.parse_args(argv)


def report(args, size):
    loads, start = [spine.load_average()], time.perf_counter()
    n, d, n_tasks, density = size
    problem = Problem(*make_problem(n, d, n_tasks, density))
    X_sk, sk_given = sklearn_input(problem)
    X_csc = problem.X.tocsc()
    rows = [run("mtstats GroupLassoRegressor", "sparse CSR", fit_mtstats, problem,
                args.target_gap, args.repeats)]
    for name, given, fit in (
            ("sklearn MultiTaskLasso", sk_given,
             lambda p, t: fit_sklearn(p, t, X_sk)),
            ("skglm MultiTaskLasso", "sparse CSC", lambda p, t: fit_skglm(p, t, X_csc)),
            ("skglm GLE(QuadraticMultiTask, L2_1)", "sparse CSC",
             lambda p, t: fit_skglm_gle(p, t, X_csc))):
        rows.append(run(name, given, fit, problem, args.target_gap, args.repeats))
    loads.append(spine.load_average())
    options = " ".join(sys.argv[1:])
    lines = [
        "# mtstats sparse benchmark", "",
        "Generated by `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python "
        "benchmarks/bench_sparse.py" + (f" {options}" if options else "") + "`.", "",
        f"- Problem: wide layout, X {n} x {d} sparse (density {density:g}, "
        f"{problem.X.nnz} non-zeros, positive entries), T = {n_tasks} tasks, "
        f"{N_ACTIVE} non-zero rows in the true W; dense X would take "
        f"{n * d * 8 / 2**20:.0f} MiB.",
        f"- alpha = {ALPHA_FRACTION} * alpha_max = {problem.alpha:.6g}; target "
        f"relative duality gap {args.target_gap:g}; time = best of {args.repeats} "
        "(`time.perf_counter`, input validation included).",
        "- Objective P = ||Y - XW - 1b^T||^2 / (2n) + alpha ||W||_21 computed by the "
        "script at each solver's (coef_, intercept_); rel. gap = gap / P(0). "
        "mtstats / peer is the ratio of times (< 1: mtstats faster). (!) marks a "
        "solver that missed the target at its tightest setting.",
        f"- mtstats' own `objective_` at its solution: {rows[0]['own']:.12g} (the "
        "same objective as the script's P).",
        f"- BLAS threads: {args.blas_threads or 'library default'}; 1-min load "
        f"average {loads[0]:.2f} at start, {loads[1]:.2f} at end; total wall time "
        f"{time.perf_counter() - start:.0f} s.", ""]
    return "\n".join(lines + table(rows) + [""] + spine.environment_section()) + "\n"


def main(argv=None):
    spine.reexec_without_openblas_overrides()
    args = parse_args(argv)
    if args.quick:
        args.repeats = 1
    output = args.output or (QUICK_RESULTS if args.quick else RESULTS)
    warnings.simplefilter("ignore", ConvergenceWarning)
    limits = (threadpoolctl.threadpool_limits(args.blas_threads, user_api="blas")
              if args.blas_threads else nullcontext())
    with limits:
        text = report(args, QUICK_SIZE if args.quick else SIZE)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
