"""``mtstats report``: a per-task report from a CSV file in long layout.

Reads one row per observation (a task column, a target column, numeric
feature columns), tunes ``alpha`` of the chosen estimator (with its
``ridge_ratio`` or ``shared_ratio``, where it has one) and of the
independent and pooled baselines by task-stratified cross-validation, then
writes the full HTML report (:func:`mtstats.report.task_report`) and prints
its summary.
"""

from __future__ import annotations

import argparse

from sklearn.base import clone, is_classifier

import mtstats

from ._cli_common import (
    check_output,
    float_above,
    int_at_least,
    n_jobs,
    separator,
    write_atomically,
)
from ._cli_io import load_long_csv
from .model_selection import RepeatedTaskStratifiedKFold, TaskStratifiedKFold

ESTIMATORS = {
    "trace-norm": ("TraceNorm", {}),
    "group-lasso": ("GroupLasso", {}),
    "clustered": ("Clustered", {"n_clusters": 2}),
    "shared-subspace": ("SharedPrivate", {"kind": "subspace"}),
    "shared-mean": ("SharedPrivate", {"kind": "mean"}),
    "dirty": ("Dirty", {}),
    "sparse-low-rank": ("SparseLowRank", {}),
    "robust-trace-norm": ("RobustTraceNorm", {}),
    "robust-group-lasso": ("RobustGroupLasso", {}),
    "graph-chain": ("Graph", {"graph": "chain"}),
    "independent": ("Independent", {}),
    "pooled": ("Pooled", {}),
}


N_ALPHAS = 10
#: Default of ``--partial-pooling`` (chosen on benchmarks/bench_mixed.py).
PARTIAL_POOLING = True


def _stratify(classification):
    """Folds of a classifier are stratified on task and class."""
    return "task_label" if classification else "task"


def _tuned(estimator, X, y, folds, seed):
    """The estimator at the ``alpha`` (and ratio) its cross-validated twin picks.

    The twin (``GroupLassoRegressorCV`` for ``GroupLassoRegressor``, ...)
    fits one warm-started regularisation path per task-stratified fold over
    its default grid (``alpha_max`` down to ``alpha_max / 1000`` for the
    norms, a curvature-scaled grid for the ridge-type penalties), for every
    value of its default list of ``ridge_ratio`` (clustered) or
    ``shared_ratio`` (shared/private models).
    """
    twin = getattr(mtstats, type(estimator).__name__ + "CV")
    tuned = ("alpha", *twin._path_params)
    params = {k: v for k, v in estimator.get_params().items() if k not in tuned}
    cv = TaskStratifiedKFold(folds, task_column=estimator.task_column,
                             stratify=_stratify(is_classifier(estimator)),
                             random_state=seed)
    if is_classifier(estimator):  # a proper scoring rule (benchmarks/bench_mixed.py)
        params.setdefault("scoring", "neg_log_loss")
    search = twin(alphas=N_ALPHAS, cv=cv, **params).fit(X, y)
    return clone(estimator).set_params(
        **{name: float(getattr(search, name + "_")) for name in tuned})


def report(args):
    """Run the report job.

    Every check (the file, its columns, the target against ``--kind``, the
    output path) runs before the first fit; the HTML file is written to a
    temporary file and moved into place only when complete.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``mtstats report`` arguments.

    Returns
    -------
    int
        The exit status, 0.
    """
    features = ([c.strip() for c in args.features.split(",") if c.strip()]
                if args.features else None)
    X, y, dropped, classification = load_long_csv(
        args.csv, args.task, args.target, features, kind=args.kind, sep=args.sep,
        min_rows=2 * args.folds, drop_small_tasks=args.drop_small_tasks)
    check_output(args.out, option="--out", inputs=[args.csv], force=args.force)
    result = _compute(args, X, y, dropped, classification)
    write_atomically(args.out, result.to_html, force=args.force)
    print(result.summary())
    print(f"\nwrote {args.out}")
    return 0


def _compute(args, X, y, dropped, classification):
    """Tune, fit and cross-validate the models; the :class:`TaskReport`."""
    from .report import task_report

    suffix = "Classifier" if classification else "Regressor"
    prefix, params = ESTIMATORS[args.estimator]
    shrink = {"intercept_shrinkage": "auto"} if args.partial_pooling else {}
    make = {name: getattr(mtstats, name + suffix)
            for name in (prefix, "Independent", "Pooled")}
    # the decomposition and graph models have no free shared mean
    if args.partial_pooling and "shared_mean" in make[prefix]._get_param_names():
        params = {**params, "shared_mean": True}
    params = {**params, **shrink}
    estimator = make[prefix](task_column=args.task, **params)
    if args.alpha is not None:
        tuned = {"mtl": estimator.set_params(alpha=args.alpha)}
        tuned.update({n.lower(): make[n](task_column=args.task, alpha=args.alpha,
                                         **shrink)
                      for n in ("Independent", "Pooled")})
    else:
        tuned = {"mtl": _tuned(estimator, X, y, args.folds, args.seed)}
        tuned.update({n.lower(): _tuned(make[n](task_column=args.task, **shrink),
                                        X, y, args.folds, args.seed)
                      for n in ("Independent", "Pooled")})
    cv = RepeatedTaskStratifiedKFold(n_splits=args.folds, n_repeats=args.repeats,
                                     task_column=args.task,
                                     stratify=_stratify(classification),
                                     random_state=args.seed)
    return task_report(
        tuned.pop("mtl"), X, y, baselines=tuned, cv=cv, n_splits=args.splits,
        adjust=args.adjust, random_state=args.seed, n_jobs=args.n_jobs,
        verbose=args.verbose,
        notes=([f"Tasks left out for having fewer than {2 * args.folds} rows: "
                f"{dropped}."] if dropped else []))


def add_report_parser(commands):
    """Register the ``report`` sub-command.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The sub-command registry of the ``mtstats`` parser.
    """
    run = commands.add_parser(
        "report", help="per-task report (comparison with baselines, coefficient "
        "tests, calibration) from a long-layout CSV",
        description="Per-task report from a CSV file with one row per "
        "observation: a task column, a target column and numeric features.")
    run.add_argument("csv", help="CSV file, one row per observation")
    run.add_argument("--task", required=True, help="task column (read as text)")
    run.add_argument("--target", required=True, help="target column")
    run.add_argument("--features", help="comma-separated feature columns "
                     "(default: every other column)")
    run.add_argument("--sep", type=separator, help="field separator, one "
                     "character or '\\t' (default: guessed among ',', ';', tab "
                     "and '|', else ',')")
    run.add_argument("--estimator", choices=sorted(ESTIMATORS), default="trace-norm",
                     help="multitask estimator compared with the independent and "
                     "pooled baselines (default: %(default)s)")
    run.add_argument("--kind", choices=["auto", "regression", "classification"],
                     default="auto", help="auto: classification when the target "
                     "has two values or is not numeric (default: %(default)s)")
    run.add_argument("--partial-pooling", action=argparse.BooleanOptionalAction,
                     default=PARTIAL_POOLING,
                     help="shrink the multitask model towards the tasks' mean "
                     "model (shared_mean=True, where the estimator has it) and "
                     "every model's intercepts "
                     "towards a common one (intercept_shrinkage='auto'), as a "
                     "mixed model does; the baselines' coefficients stay "
                     "independent or pooled (default: %(default)s)")
    run.add_argument("--alpha", type=float_above(0), help="fixed alpha > 0 for "
                     "every model, ratios at their defaults (default: alpha, and "
                     "the ridge or shared ratio of the clustered and shared-* "
                     "estimators, tuned by task-stratified CV)")
    run.add_argument("--folds", type=int_at_least(2), default=5,
                     help="cross-validation folds, >= 2 (default: %(default)s)")
    run.add_argument("--repeats", type=int_at_least(1), default=4,
                     help="repeats of the cross-validation comparing the models, "
                     ">= 1 (default: %(default)s)")
    run.add_argument("--splits", type=int_at_least(1), default=20,
                     help="sample splits of the coefficient tests, >= 1 "
                     "(default: %(default)s)")
    run.add_argument("--adjust", choices=["holm", "fdr_bh"], default="holm",
                     help="multiplicity adjustment of the per-task tests: holm "
                     "(family-wise error) or fdr_bh (Benjamini-Hochberg false "
                     "discovery rate); the empirical-Bayes verdicts control the "
                     "false sign rate either way (default: %(default)s)")
    run.add_argument("--drop-small-tasks", action="store_true",
                     help="leave out tasks with fewer than 2 x --folds rows "
                     "instead of stopping (they are listed in the report)")
    run.add_argument("--out", default="report.html", help="HTML file to write; "
                     "never the input file (default: %(default)s)")
    run.add_argument("--force", action="store_true",
                     help="overwrite --out if it already exists")
    run.add_argument("--seed", type=int, default=0,
                     help="random seed of the folds and splits (default: "
                     "%(default)s)")
    run.add_argument("--n-jobs", type=n_jobs, default=None,
                     help="parallel jobs of the cross-validation (default: 1; "
                     "-1: every core)")
    run.add_argument("--verbose", type=int_at_least(0), default=0,
                     help="progress messages, 0 (none) and up")
    run.set_defaults(func=report)
