"""``mtstats report``: a per-task report from a CSV file in long layout.

Reads one row per observation (a task column, a target column, numeric
feature columns), tunes ``alpha`` of the chosen estimator and of the
independent and pooled baselines by task-stratified cross-validation, then
writes the full HTML report (:func:`mtstats.report.task_report`) and prints
its summary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV

import mtstats

from .model_selection import RepeatedTaskStratifiedKFold, TaskStratifiedKFold

ESTIMATORS = {
    "trace-norm": ("TraceNorm", {}),
    "group-lasso": ("GroupLasso", {}),
    "clustered": ("Clustered", {"n_clusters": 2}),
    "shared-subspace": ("SharedPrivate", {"kind": "subspace"}),
    "shared-mean": ("SharedPrivate", {"kind": "mean"}),
    "independent": ("Independent", {}),
    "pooled": ("Pooled", {}),
}


def load_long_csv(path, task, target, features=None, min_rows=2,
                  drop_small_tasks=False):
    """Read and check a long-layout CSV; every problem is a ValueError."""
    frame = pd.read_csv(path)
    columns = list(frame.columns)
    for role, name in (("task", task), ("target", target)):
        if name not in columns:
            raise ValueError(f"{role} column {name!r} is not in {path}; its columns "
                             f"are {columns}.")
    if features is None:
        features = [c for c in columns if c not in (task, target)]
    missing = [c for c in features if c not in columns]
    if missing:
        raise ValueError(f"feature column(s) {missing} are not in {path}.")
    if not features:
        raise ValueError("no feature columns: the file has only the task and "
                         "target columns.")
    for name in features:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            example = frame[name].dropna().iloc[0] if frame[name].notna().any() else ""
            raise ValueError(
                f"feature column {name!r} is not numeric (e.g. {example!r}); encode "
                "it (one-hot, ordinal) or leave it out with --features.")
    for name in [*features, target, task]:
        n_missing = int(frame[name].isna().sum())
        if n_missing:
            raise ValueError(f"column {name!r} has {n_missing} missing values; "
                             "impute or remove those rows first.")
    sizes = frame[task].value_counts()
    small = sizes[sizes < min_rows]
    if len(small):
        listing = ", ".join(f"{t!r} ({n} rows)" for t, n in small.items())
        if not drop_small_tasks:
            raise ValueError(
                f"{len(small)} task(s) have fewer than {min_rows} rows, too few "
                f"for the cross-validation: {listing}. Pass --drop-small-tasks to "
                "leave them out (they are then listed in the report).")
        frame = frame[~frame[task].isin(small.index)]
    return frame[[*features, task]], frame[target], list(small.index)


def _is_classification(y, kind):
    if kind != "auto":
        return kind == "classification"
    return not pd.api.types.is_numeric_dtype(y) or y.nunique() == 2


def _tuned(estimator, X, y, folds, seed):
    """The estimator with ``alpha`` chosen by task-stratified CV."""
    try:  # norm penalties: a grid below the alpha that zeroes everything
        grid = estimator.alpha_max(X, y) * np.geomspace(1.0, 1e-3, 10)
    except ValueError:  # ridge-type penalties have no alpha_max
        grid = np.geomspace(10.0, 1e-4, 11)
    cv = TaskStratifiedKFold(folds, task_column=estimator.task_column,
                             random_state=seed)
    search = GridSearchCV(estimator, {"alpha": [float(a) for a in grid]}, cv=cv)
    return search.fit(X, y).best_estimator_


def report(args):
    """Run the report job."""
    from .report import task_report

    features = args.features.split(",") if args.features else None
    X, y, dropped = load_long_csv(args.csv, args.task, args.target, features,
                                  min_rows=2 * args.folds,
                                  drop_small_tasks=args.drop_small_tasks)
    suffix = "Classifier" if _is_classification(y, args.kind) else "Regressor"
    prefix, params = ESTIMATORS[args.estimator]
    make = {name: getattr(mtstats, name + suffix)
            for name in (prefix, "Independent", "Pooled")}
    estimator = make[prefix](task_column=args.task, **params)
    if args.alpha is not None:
        tuned = {"mtl": estimator.set_params(alpha=args.alpha)}
        tuned.update({n.lower(): make[n](task_column=args.task, alpha=args.alpha)
                      for n in ("Independent", "Pooled")})
    else:
        tuned = {"mtl": _tuned(estimator, X, y, args.folds, args.seed)}
        tuned.update({n.lower(): _tuned(make[n](task_column=args.task), X, y,
                                        args.folds, args.seed)
                      for n in ("Independent", "Pooled")})
    cv = RepeatedTaskStratifiedKFold(n_splits=args.folds, n_repeats=args.repeats,
                                     task_column=args.task, random_state=args.seed)
    result = task_report(
        tuned.pop("mtl"), X, y, baselines=tuned, cv=cv, n_splits=args.splits,
        random_state=args.seed,
        n_jobs=args.n_jobs, verbose=args.verbose,
        notes=([f"Tasks left out for having fewer than {2 * args.folds} rows: "
                f"{dropped}."] if dropped else []))
    result.to_html(args.out)
    print(result.summary())
    print(f"\nwrote {args.out}")
    return 0


def add_report_parser(commands):
    """Register the ``report`` sub-command."""
    run = commands.add_parser(
        "report", help="per-task report (comparison with baselines, coefficient "
        "tests, calibration) from a long-layout CSV")
    run.add_argument("csv", help="CSV file, one row per observation")
    run.add_argument("--task", required=True, help="task column")
    run.add_argument("--target", required=True, help="target column")
    run.add_argument("--features", help="comma-separated feature columns "
                     "(default: every other column)")
    run.add_argument("--estimator", choices=sorted(ESTIMATORS), default="trace-norm")
    run.add_argument("--kind", choices=["auto", "regression", "classification"],
                     default="auto", help="auto: classification when the target "
                     "has two values or is not numeric")
    run.add_argument("--alpha", type=float, help="fixed alpha for every model "
                     "(default: tuned by task-stratified CV)")
    run.add_argument("--folds", type=int, default=5)
    run.add_argument("--repeats", type=int, default=4)
    run.add_argument("--splits", type=int, default=20,
                     help="sample splits of the coefficient tests")
    run.add_argument("--drop-small-tasks", action="store_true")
    run.add_argument("--out", default="report.html")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--n-jobs", type=int, default=None)
    run.add_argument("--verbose", type=int, default=0)
    run.set_defaults(func=report)
