"""``mtstats demo``: every estimator on generated data, per-task held-out R^2.

It generates multitask data with a known structure, tunes and fits the
multitask estimators and the independent and pooled baselines on a training
split, and prints every task's held-out R^2 side by side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, train_test_split

from . import (
    GroupLassoRegressor,
    IndependentRegressor,
    PooledRegressor,
    TraceNormRegressor,
)
from ._cli_common import check_output, float_above, int_at_least, write_atomically
from .datasets import STRUCTURES, make_multitask_regression

MODELS = {
    "trace-norm": TraceNormRegressor,
    "group-lasso": GroupLassoRegressor,
    "independent": IndependentRegressor,
    "pooled": PooledRegressor,
}


def _alpha_grid(model, X, y, n_alphas=10):
    """Geometric grid below ``alpha_max`` (norm penalties) or a wide ridge grid."""
    if getattr(model, "penalty", None) == "l2":
        return np.geomspace(100.0, 1e-4, n_alphas + 3)
    return model.alpha_max(X, y) * np.geomspace(1.0, 1e-3, n_alphas)


def _tuned(model_cls, X, y, seed):
    model = model_cls(task_column=-1)
    search = GridSearchCV(model, {"alpha": _alpha_grid(model, X, y)},
                          cv=KFold(3, shuffle=True, random_state=seed),
                          scoring="neg_mean_squared_error")
    return search.fit(X, y).best_estimator_


def per_task_scores(models, X_test, y_test):
    """Held-out R^2 of every model on every task (rows: tasks)."""
    task_index = X_test[:, -1].astype(int)
    rows = []
    for t in np.unique(task_index):
        rows_t = task_index == t
        rows.append([r2_score(y_test[rows_t], m.predict(X_test[rows_t]))
                     for m in models.values()])
    return np.unique(task_index), np.array(rows)


def format_table(tasks, names, scores, n_test):
    """Plain-text table of per-task scores with a mean row."""
    header = f"{'task':>8} {'n_test':>6} " + " ".join(f"{n:>12}" for n in names)
    lines = [header, "-" * len(header)]
    for t, row, n in zip(tasks, scores, n_test, strict=True):
        lines.append(f"{t:>8} {n:>6} " + " ".join(f"{v:>12.3f}" for v in row))
    lines.append("-" * len(header))
    lines.append(f"{'mean':>8} {int(np.sum(n_test)):>6} "
                 + " ".join(f"{v:>12.3f}" for v in scores.mean(axis=0)))
    return "\n".join(lines)


def demo(args):
    """Run the demo job and print the per-task comparison.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``mtstats demo`` arguments.

    Returns
    -------
    int
        The exit status, 0.
    """
    if args.write_csv:  # before any work: never overwrite without --force
        check_output(args.write_csv, option="--write-csv", force=args.force)
    X, y, truth = make_multitask_regression(
        n_tasks=args.n_tasks, n_features=args.n_features, n_samples=(20, 60),
        structure=args.structure, noise=args.noise, random_state=args.seed)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=X[:, -1], random_state=args.seed)
    models = {name: _tuned(cls, X_train, y_train, args.seed)
              for name, cls in MODELS.items()}
    if args.write_csv:
        names = [f"x{j}" for j in range(X.shape[1] - 1)]
        frame = pd.DataFrame(X[:, :-1], columns=names)
        frame.insert(0, "task", truth.tasks[X[:, -1].astype(int)])
        frame["y"] = y
        write_atomically(args.write_csv,
                         lambda path: frame.to_csv(path, index=False),
                         force=args.force)
        print(f"wrote {len(frame)} rows to {args.write_csv}")
    tasks, scores = per_task_scores(models, X_test, y_test)
    n_test = np.bincount(X_test[:, -1].astype(int))
    print(f"mtstats demo: {args.n_tasks} tasks, {args.n_features} features, "
          f"structure={args.structure!r}, noise={args.noise}, seed={args.seed}")
    print("alpha chosen by 3-fold CV: " + ", ".join(
        f"{n}={m.alpha:.3g}" for n, m in models.items()))
    print("\nHeld-out R^2 per task (30% of each task's rows):")
    print(format_table([truth.tasks[t] for t in tasks], list(models), scores,
                       n_test))
    return 0


def add_demo_parser(commands):
    """Register the ``demo`` sub-command.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The sub-command registry of the ``mtstats`` parser.
    """
    run = commands.add_parser("demo", help="fit all estimators on generated data "
                              "and print per-task held-out R^2 against the "
                              "baselines")
    run.add_argument("--n-tasks", type=int_at_least(2), default=12,
                     help="number of tasks, >= 2 (default: %(default)s)")
    run.add_argument("--n-features", type=int_at_least(1), default=30,
                     help="number of features, >= 1 (default: %(default)s)")
    run.add_argument("--structure", choices=STRUCTURES, default="low_rank",
                     help="how the true coefficients of the tasks relate "
                     "(default: %(default)s)")
    run.add_argument("--noise", type=float_above(0, inclusive=True), default=2.0,
                     help="standard deviation of the noise, >= 0 (default: "
                     "%(default)s)")
    run.add_argument("--seed", type=int, default=0,
                     help="random seed of the data and splits (default: "
                     "%(default)s)")
    run.add_argument("--write-csv", metavar="PATH", help="also write the generated "
                     "data in long layout (task column 'task', target 'y') to PATH")
    run.add_argument("--force", action="store_true",
                     help="overwrite the --write-csv file if it already exists")
    run.set_defaults(func=demo)
