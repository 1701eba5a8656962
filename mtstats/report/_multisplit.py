"""Sample-splitting engine behind :func:`mtstats.report.coefficient_tests`.

One split: draw halves A/B of every task, fit the multitask model on A, read
the structure to test (a support, a subspace or task clusters), refit
statsmodels OLS/GLM on B and return per-(task, feature) contrasts. The
aggregation over splits (Meinshausen, Meier & Buehlmann 2009) lives in
:mod:`mtstats.report._aggregation`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import special, stats
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from .._tasks import encode_tasks, split_task_column
from ..estimators.structured import _GroupLassoModel
from ._aggregation import shrink_split

MAX_DRAWS = 20  # draws of one split before a task is left untested (as hdi)
RANK_TOL = 1e-6  # r = #{sigma_k > RANK_TOL * sigma_1}


def _take(obj, rows):
    return obj.iloc[rows] if hasattr(obj, "iloc") else np.asarray(obj)[rows]


@dataclass(frozen=True)
class Blocks:
    """The data as per-task blocks; ``unit`` is the row of the original ``X``."""

    X: object
    y: object
    layout: str
    features: np.ndarray
    target: np.ndarray
    task: np.ndarray
    unit: np.ndarray
    n_tasks: int
    classifier: bool

    @classmethod
    def from_fit(cls, fitted, X, y):
        """Blocks for data ``(X, y)`` on which ``fitted`` was fitted."""
        classes = getattr(fitted, "classes_", None)
        n_tasks = len(fitted.tasks_)
        if fitted.task_column is not None:
            feats, task_values = split_task_column(X, fitted.task_column)
            _, task = encode_tasks(task_values, known_tasks=fitted.tasks_)
            target = np.ravel(np.asarray(y))
            unit = np.arange(target.shape[0])
            feats = np.asarray(feats, dtype=np.float64)
            layout = "long"
        else:  # wide: per-task blocks on the observed rows
            X_all = np.asarray(X, dtype=np.float64)
            Y = np.asarray(y).reshape(X_all.shape[0], -1)
            observed = ~np.isnan(Y) if Y.dtype.kind == "f" else np.ones(Y.shape, bool)
            unit, task = np.nonzero(observed)
            order = np.lexsort((unit, task))
            unit, task = unit[order], task[order]
            feats, target, layout = X_all[unit], Y[unit, task], "wide"
        if classes is not None:
            target = (target == classes[1])
        return cls(X, y, layout, feats, target.astype(np.float64), task, unit,
                   n_tasks, classes is not None)

    def fit(self, estimator, in_a):
        """A clone of ``estimator`` fitted on the rows in half A."""
        units = np.unique(self.unit[in_a])
        return clone(estimator).fit(_take(self.X, units), _take(self.y, units))


def draw_split(blocks, fraction, rng):
    """Boolean mask of the long rows in half A.

    Long layout: stratified by task (and class): every task puts
    ``round(fraction * n_t)`` rows in A, at least 2 (1 per class) and at most
    ``n_t - 1`` (all of a task's rows when it has 2). Wide layout: original
    rows go to A or B for every task at once, so that errors correlated
    across tasks never leak from B into the selection; rows are then moved
    to A until every task has 2 labels (both classes) there.
    """
    low = 1 if blocks.classifier else 2
    if blocks.layout == "long":
        strata = blocks.task * 2 + blocks.target.astype(np.int64) * blocks.classifier
        in_a = np.zeros(strata.shape[0], dtype=bool)
        for stratum in np.unique(strata):
            rows = np.flatnonzero(strata == stratum)
            n_a = int(np.clip(np.floor(fraction * rows.size + .5), low,
                              max(rows.size - 1, low)))
            in_a[rng.permutation(rows)[:n_a]] = True
        return in_a
    units = rng.permutation(np.unique(blocks.unit))
    in_a = np.isin(blocks.unit, units[:int(np.floor(fraction * units.size + .5))])
    strata = blocks.task * 2 + blocks.target.astype(np.int64) * blocks.classifier
    for stratum in np.unique(strata):
        rows = rng.permutation(np.flatnonzero(strata == stratum))
        missing = low - in_a[rows].sum()
        if missing > 0:
            in_a |= np.isin(blocks.unit, blocks.unit[rows[~in_a[rows]][:missing]])
    return in_a


def plan(method, fitted, n_tasks, n_features):
    """Refit groups ``(tasks, basis, tested, fixed_effects)`` and selection."""
    eye = np.eye(n_features)
    if method == "task_refit":
        groups = [([t], eye, np.ones(n_features, bool), False) for t in range(n_tasks)]
        return groups, np.ones((n_tasks, n_features), bool), None
    W = np.asarray(fitted.coef_, dtype=np.float64)
    if method == "multisplit":
        selected = W != 0
        if isinstance(fitted, _GroupLassoModel):  # row support of L21
            selected = np.repeat(selected.any(axis=0)[None], n_tasks, axis=0)
        groups = [([t], eye[:, selected[t]], selected[t], False)
                  for t in range(n_tasks)]
        return groups, selected, None
    if method == "subspace_split":
        basis = getattr(fitted, "shared_basis_", None)
        if basis is None:
            U, s, _ = np.linalg.svd(W.T, full_matrices=False)
            basis = U[:, s > RANK_TOL * s[0]] if s.size and s[0] > 0 else U[:, :0]
        tested = np.full(n_features, basis.shape[1] > 0)
        groups = [([t], basis, tested, False) for t in range(n_tasks)]
        return groups, np.repeat(tested[None], n_tasks, axis=0), basis
    labels = np.asarray(fitted.task_clusters_)
    groups = [(list(np.flatnonzero(labels == c)), eye, np.ones(n_features, bool),
               True) for c in np.unique(labels)]
    return groups, np.ones((n_tasks, n_features), bool), labels


def _n_fixed(group):
    return len(group[0]) if group[3] else 1  # task dummies, or one intercept


def _rows_b(blocks, in_a, group):
    return np.flatnonzero(~in_a & np.isin(blocks.task, group[0]))


def refit(blocks, in_a, group):
    """statsmodels OLS/GLM of one group on half B, or None if not estimable."""
    tasks, basis, _, fixed_effects = group
    rows = _rows_b(blocks, in_a, group)
    Z = blocks.features[rows] @ basis
    if fixed_effects:
        Z = np.column_stack([blocks.task[rows][:, None] == np.asarray(tasks), Z])
    else:
        Z = np.column_stack([np.ones(rows.size), Z])
    y = blocks.target[rows]
    if rows.size < Z.shape[1] + 1 or (blocks.classifier and any(
            np.unique(y[blocks.task[rows] == t]).size < 2 for t in tasks)):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if blocks.classifier:
                return sm.GLM(y, Z * 1.0, family=sm.families.Binomial()).fit()
            return sm.OLS(y, Z * 1.0).fit()
        except (np.linalg.LinAlgError, ValueError, RuntimeError):
            return None


def _draw(blocks, estimator, method, fraction, rng):
    """Draw a split; redraw (up to MAX_DRAWS) while no refit has enough rows.

    A group (task or cluster) is short when its half B has at most as many
    rows as parameters (``|S| >= n_B - 1`` with the intercept). As in hdi,
    a split in which every group is short is redrawn; otherwise the short
    groups are left untested in this split (p = 1). With one task this is
    hdi's rule; with many, one small task does not force endless redraws.
    """
    T, p = blocks.n_tasks, blocks.features.shape[1]
    n_draws = 0
    while True:
        n_draws += 1
        in_a = (np.zeros(blocks.task.shape, bool) if method == "task_refit"
                else draw_split(blocks, fraction, rng))
        fitted = None if method == "task_refit" else blocks.fit(estimator, in_a)
        groups, selected, structure = plan(method, fitted, T, p)
        n_b = np.array([_rows_b(blocks, in_a, g).size for g in groups])
        fits = n_b > np.array([g[1].shape[1] + _n_fixed(g) for g in groups])
        if method == "task_refit" or fits.any() or n_draws == MAX_DRAWS:
            return in_a, groups, selected, structure, fits, n_draws


def run_split(seed, blocks, estimator, method, fraction, keep=False, shrink=None):
    """One split: per-(task, feature) estimates, errors and raw p-values on B.

    ``shrink``: None, or the level of the empirical-Bayes shrinkage of the
    refits across tasks (:func:`~mtstats.report._aggregation.shrink_split`).
    """
    rng = np.random.default_rng(seed)
    T, p = blocks.n_tasks, blocks.features.shape[1]
    in_a, groups, selected, structure, fits, n_draws = _draw(
        blocks, estimator, method, fraction, rng)
    out = dict(est=np.full((T, p), np.nan), se=np.full((T, p), np.nan),
               df=np.full(T, np.nan), pval=np.ones((T, p)),
               tested=np.zeros((T, p), bool), selected=selected,
               usable=np.zeros(T, bool), unit=np.zeros(T, np.int64),
               draws=n_draws, structure=structure, in_a=in_a, results={},
               groups=groups if keep else None)
    with threadpool_limits(1, user_api="blas"):  # small problems: threads only cost
        _refit_groups(blocks, in_a, groups, fits, out, keep)
        _group_test(out)
        if shrink is not None:
            shrink_split(out, shrink)
    return out


def _refit_groups(blocks, in_a, groups, fits, out, keep):
    p = blocks.features.shape[1]
    for g, group in enumerate(groups):
        tasks, basis, tested, _ = group
        out["unit"][tasks] = g  # independent units of the group test
        if not tested.any():  # nothing selected: nothing to refit
            out["usable"][tasks] = fits[g]
            continue
        res = refit(blocks, in_a, group) if fits[g] else None
        if res is None:
            continue
        R = np.zeros((p, res.params.shape[0]))
        R[:, _n_fixed(group):] = basis
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            # a feature outside span(U_r) has a zero contrast whose variance
            # can round below zero; it is dropped just below (sd not > 0)
            warnings.simplefilter("ignore", RuntimeWarning)
            contrast = res.t_test(R[tested])
        effect, sd = np.ravel(contrast.effect), np.ravel(contrast.sd)
        valid = np.isfinite(effect) & np.isfinite(sd) & (sd > 0)  # sd 0: U_j = 0
        cols = np.flatnonzero(tested)[valid]
        for t in tasks:
            out["est"][t, cols], out["se"][t, cols] = effect[valid], sd[valid]
            out["pval"][t, cols] = np.ravel(contrast.pvalue)[valid]
            out["tested"][t, cols] = True
        out["df"][tasks] = np.inf if blocks.classifier else res.df_resid
        out["usable"][tasks] = True
        if keep:
            out["results"][g] = res


def _group_test(out):
    """Per feature: chi2 over independent units (tasks or clusters) of z**2."""
    first = np.unique(out["unit"], return_index=True)[1]
    tested = out["tested"][first]
    z2 = np.where(tested, special.ndtri(out["pval"][first] / 2) ** 2, 0.0)
    out["group_stat"] = z2.sum(axis=0)
    out["group_df"] = tested.sum(axis=0)
    with np.errstate(invalid="ignore"):
        chi2 = stats.chi2.sf(out["group_stat"], out["group_df"])
    out["group_p"] = np.where(out["group_df"] > 0, chi2, 1.0)


_METHOD_NOTES = {
    "multisplit": (
        "Method: multi-sample splitting (Meinshausen, Meier & Buehlmann 2009): "
        "the model fitted on half A selects S_t (non-zero rows of W for group "
        "lasso, non-zero entries otherwise); statsmodels {engine} of y_t on an "
        "intercept and X_t[:, S_t] on half B gives p-values (1 when not selected)."
        " Estimand 'coef': w_jt. Assumes the screening property (S_t contains "
        "the true support in most splits) and a correct {model} model on S_t. "
        "p_fwer: the MMB FWER-adjusted p-value over all (task, term) pairs "
        "(per split Bonferroni by the number of selected pairs)."),
    "subspace_split": (
        "Method: subspace sample splitting: U_r from half A (left singular "
        "vectors of W_A with sigma_k > 1e-6 sigma_1, or shared_basis_); "
        "statsmodels {engine} of y_t on [1, X_t U_r] on half B, contrast "
        "e_j' U_r gamma_t by res.t_test. Estimand 'projection_on_span(U_r)': "
        "entry j of the projection of w_t on the learned subspace (in the "
        "metric of X_t), conditional on U_r; aggregated over splits it tests "
        "w_jt itself only if span(U_r) contains the true coefficients. "
        "When U_r varies between splits so does the estimand, and the "
        "aggregated interval can be empty (NaN). Ranks r over splits: {ranks}."),
    "cluster_split": (
        "Method: cluster sample splitting: task clusters from the fit on half "
        "A; on half B one pooled statsmodels {engine} per cluster with task "
        "fixed effects and common slopes. Estimand 'cluster_coef': the slope of "
        "the task's cluster, shared by its tasks (a within-cluster average when "
        "tasks of an estimated cluster differ). Rows of one cluster repeat one "
        "test, which the (task, term) multiplicity family counts several times "
        "(conservative)."),
    "task_refit": (
        "Method: per-task statsmodels {engine} of y_t on an intercept and all "
        "features, on all the data. The penalty selects nothing, so the model "
        "is fixed before seeing the data and classical inference is valid "
        "without splitting (correct {model} model, independent errors, n_t > p "
        "+ 1). Estimand 'coef': the coefficient of the task's own full model, "
        "not the shrunken penalised target."),
}


def describe(method, splits, fraction, level, adjust, classifier):
    """Notes: method, estimand, assumptions, intervals, multiplicity, counts."""
    engine, model = ("GLM Binomial", "logistic") if classifier else ("OLS", "linear")
    ranks = np.unique([0 if s["structure"] is None or np.ndim(s["structure"]) != 2
                       else s["structure"].shape[1] for s in splits],
                      return_counts=True)
    notes = [_METHOD_NOTES[method].format(engine=engine, model=model, ranks=", ".join(
        f"{r} ({c} splits)" for r, c in zip(*ranks, strict=True)))]
    B = len(splits)
    if method != "task_refit":
        notes.append(
            f"{B} random splits, a share {fraction:g} of every task's rows in half "
            "A (stratified by task). p_value: per-split p-values aggregated by "
            "quantiles with the (1 - log gamma_min) factor (a valid p-value per "
            "coefficient); with one split the single-split p-value (Wasserman & "
            f"Roeder 2009). {level:.0%} intervals: hull of the values beta whose "
            "aggregated p-value for H0: w = beta exceeds the level (conservative; "
            "marginal, not simultaneous; infinite if tested in too few splits)."
            " estimate_inference, std_error: medians over the splits testing the "
            "pair.")
    untested = sum(int(np.sum(~s["usable"])) for s in splits)
    redrawn = sum(s["draws"] > 1 for s in splits)
    if untested or redrawn:
        notes.append(f"{redrawn} split(s) redrawn because no refit had more rows "
                     f"in half B than parameters; {untested} task-split refit(s) "
                     "impossible (too few rows in half B; p = 1 in that split).")
    notes.append(
        f"Multiplicity: p_adj = multipletests(method={adjust!r}) over all (task, "
        "term) pairs of testable tasks. Rows task='__all__': H0 w_j = 0 in every "
        "task, sum of z^2 (z = Phi^-1(1 - p/2)) over independently refitted tasks "
        "(or clusters) against chi2 with that many df, aggregated like p_value, "
        f"adjusted ({adjust}) as their own family over terms; assumes errors "
        "independent across tasks.")
    return notes
