"""Screenshot of the first screen of a task report, as a reader first sees it.

Run from the repository root::

    python benchmarks/report_screenshot.py [--out PNG] [--html HTML]

Simulates long-layout multitask regression data
(:func:`mtstats.datasets.make_multitask_regression`, 8 tasks, rank-1
coefficients), makes the last task unlike the others (its coefficients are
replaced by independent, larger ones), runs a quick
:func:`mtstats.report.task_report` of a trace-norm model with a strong
penalty against lightly penalised baselines (5-fold cross-validation
repeated 4 times, 5 sample splits), so that the report has a task that
sharing hurts, writes the HTML report and takes a 1280 x 800 screenshot of
its first screen with headless Chromium. The PNG goes to
``benchmarks/results/report_first_screen.png`` by default. The settings
exercise the layout; they are not a benchmark of the estimator.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

import mtstats
from mtstats.datasets import make_multitask_regression
from mtstats.model_selection import RepeatedTaskStratifiedKFold
from mtstats.report import task_report

ROOT = Path(__file__).resolve().parent
DEFAULT_PNG = ROOT / "results" / "report_first_screen.png"
WINDOW = (1280, 800)
#: Scale of the odd task's coefficients (the others' are about 1).
SCALE = 4.0
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


def find_chromium():
    """Path of the Chromium executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def simulate(n_tasks=8, n_features=8, n_samples=(60, 100), odd_task=True,
             random_state=0):
    """Long-layout regression data; the last task's coefficients unlike the rest.

    Returns
    -------
    X : DataFrame
        Features and the ``task`` column.
    y : ndarray
    """
    X, y, _ = make_multitask_regression(
        n_tasks=n_tasks, n_features=n_features, n_samples=n_samples, rank=1,
        noise=0.5, layout="long", as_frame=True, random_state=random_state)
    if odd_task:
        rng = np.random.default_rng(random_state)
        last = X["task"] == sorted(X["task"].unique())[-1]
        features = X.loc[last].drop(columns="task").to_numpy(float)
        coef = SCALE * rng.standard_normal(features.shape[1])
        y = np.asarray(y, dtype=float).copy()
        y[last.to_numpy()] = features @ coef + 0.5 * rng.standard_normal(last.sum())
    return X, y


def build_report(html_path, n_tasks=8, n_features=8, n_samples=(60, 100), folds=5,
                 repeats=4, n_splits=5, alpha=1.0, random_state=0):
    """Run a quick :func:`task_report` on simulated data and write its HTML.

    The trace-norm model has penalty ``alpha``; the independent and pooled
    baselines ``alpha = 0.01``.

    Returns
    -------
    report : TaskReport
    """
    X, y = simulate(n_tasks, n_features, n_samples, random_state=random_state)
    cv = RepeatedTaskStratifiedKFold(n_splits=folds, n_repeats=repeats,
                                     task_column="task", random_state=random_state)
    estimator = mtstats.TraceNormRegressor(alpha=alpha, task_column="task")
    baselines = {"independent": mtstats.IndependentRegressor(alpha=0.01,
                                                             task_column="task"),
                 "pooled": mtstats.PooledRegressor(alpha=0.01, task_column="task")}
    report = task_report(estimator, X, y, baselines=baselines, cv=cv,
                         n_splits=n_splits,
                         random_state=random_state,
                         notes=["Simulated by benchmarks/report_screenshot.py."])
    report.to_html(html_path)
    return report


def screenshot(html_path, png_path, chromium=None, window=WINDOW, timeout=120):
    """Screenshot of the first screen of ``html_path`` with headless Chromium.

    Returns
    -------
    Path
        ``png_path``.
    """
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("Chromium not found (chromium, /usr/bin/chromium).")
    png_path = Path(png_path).resolve()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                   f"--window-size={window[0]},{window[1]}",
                   f"--screenshot={png_path}", Path(html_path).resolve().as_uri()]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)
    if not png_path.exists():
        raise RuntimeError(f"Chromium wrote no screenshot at {png_path}.")
    return png_path


def first_screen(png_path=DEFAULT_PNG, html_path=None, **options):
    """Build the report (``options`` go to :func:`build_report`) and shoot it.

    Returns
    -------
    png_path, html_path : Path
    """
    if html_path is None:
        html_path = Path(tempfile.mkdtemp(prefix="mtstats_report_")) / "report.html"
    build_report(html_path, **options)
    return screenshot(html_path, png_path), Path(html_path)


def main(argv=None):
    """Command line: ``--out PNG``, ``--html HTML``, ``--tasks``, ``--seed``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(DEFAULT_PNG),
                        help="PNG to write (default: %(default)s)")
    parser.add_argument("--html", help="HTML report to write (default: a "
                        "temporary file)")
    parser.add_argument("--tasks", type=int, default=8, help="number of tasks")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    png, html = first_screen(args.out, args.html, n_tasks=args.tasks,
                             random_state=args.seed)
    print(f"wrote {html}\nwrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
