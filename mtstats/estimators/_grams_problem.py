r"""A fitting problem from per-task statistics instead of rows.

:func:`prepare_from_grams` is :func:`~mtstats.estimators._problem.prepare_problem`
for data summarised by a :class:`~mtstats.TaskGrams` (in memory, from a
file, or from Dask, :mod:`mtstats._dask`). It takes the same steps on the
statistics that the in-memory path takes on the rows, so both fits solve the
same problem:

* task weights :math:`w_t` and the exact power-of-two rescaling
  (:mod:`mtstats._scaling`, from the columns' largest absolute values);
* intercept shrinkage, ``"auto"`` estimated from the moments
  (:func:`mtstats._variance_components.estimate_from_moments`);
* target centring on the task means and feature centring on the task (or,
  with shrunk intercepts, the global) means, by the shift
  :math:`\sum_i v_i (z_i - a)(z_i - a)^\top = M_t + n_t(\mu_t - a)(\mu_t -
  a)^\top`, exact up to rounding of the small correction;
* row weights :math:`s_i = w_t v_i / n_t`, which multiply the statistics of
  task :math:`t` by :math:`w_t / n_t`.

The result holds a :class:`~mtstats._statistics_design.StatisticsDesign` for
the squared loss; the logistic loss, which has no sufficient statistics,
gets a row-pass design from :mod:`mtstats._dask` built on the same setup.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._backend import namespace_for_device, to_namespace
from .._designs import PooledDesign
from .._scaling import DataScale, check_representable, power_of_two_scale
from .._statistics_design import StatisticsDesign, TaskSummary
from .._task_checks import _check_task_sizes
from .._tasks import task_weights
from .._variance_components import estimate_from_moments
from ..penalties.pooling import InterceptPrior
from ..task_grams import TaskGrams
from ._problem import FitProblem

__all__ = ["GramSetup", "prepare_from_grams", "prepare_out_of_core",
           "setup_from_grams"]


@dataclass(frozen=True)
class GramSetup:
    """The solver's units of a problem summarised by statistics (NumPy)."""

    weights: np.ndarray      # task weights w_t, divided by scale.weight
    scale: DataScale
    shrinkage: float
    y_means: np.ndarray      # subtracted target means (zeros: none)
    offsets: np.ndarray      # (T, d) feature offsets c_t
    center: object           # True, "global" or False


def setup_from_grams(estimator, grams, classifier):
    """Validate ``grams`` for ``estimator`` and fix the solver's units.

    Sets ``n_features_in_`` and ``feature_names_in_`` as ``validate_data``
    does for rows.
    """
    if getattr(estimator, "task_column", None) is None:
        raise ValueError(
            f"{type(estimator).__name__} got per-task statistics (long layout), "
            "so it needs task_column set (any value not among the feature "
            "names); the wide layout takes rows only.")
    if isinstance(estimator.task_weight, str) and estimator.task_weight == "noise":
        raise ValueError(
            "task_weight='noise' re-weights every task by its residual scale "
            "inside the fit, which this out-of-core path does not support; use "
            "task_weight=None, 'n_samples' or an array.")
    d = grams.n_features
    estimator.n_features_in_ = d
    if grams.feature_names is not None:
        estimator.feature_names_in_ = np.asarray(grams.feature_names, dtype=object)
    else:
        vars(estimator).pop("feature_names_in_", None)
    _check_task_sizes(grams.n_samples, grams.tasks, grams.n_rows)
    weights = task_weights(estimator.task_weight, grams.weight)
    scale = DataScale(power_of_two_scale(grams.max_abs[:d]),
                      1.0 if classifier else power_of_two_scale(grams.max_abs[d:]),
                      power_of_two_scale(weights))
    if scale != DataScale():
        check_representable(scale)
    shrinkage = _shrinkage(estimator, grams, classifier)
    fit_intercept = estimator.fit_intercept
    y_means = (grams.mean[:, d].copy() if fit_intercept and not classifier
               else np.zeros(grams.n_tasks))
    center = fit_intercept and ("global" if shrinkage > 0 else True)
    if center == "global":
        total = np.sum(grams.weight)
        offsets = np.repeat((grams.weight @ grams.mean[:, :d] / total)[None, :],
                            grams.n_tasks, axis=0)
    elif center:
        offsets = grams.mean[:, :d].copy()
    else:
        offsets = np.zeros((grams.n_tasks, d))
    return GramSetup(weights / scale.weight, scale, shrinkage, y_means, offsets,
                     center)


def _shrinkage(estimator, grams, classifier):
    value = getattr(estimator, "intercept_shrinkage", 0.0)
    if not estimator.fit_intercept or grams.n_tasks < 2:
        return 0.0
    if isinstance(value, str):
        return estimate_from_moments(grams.weight, grams.mean, grams.comoment,
                                     classifier)
    return float(value)


def solver_statistics(grams, setup):
    """``(H, m, c, n, ybar, yy)`` of the solver (rescaled, centred, weighted)."""
    d, scale = grams.n_features, setup.scale
    shift = np.column_stack([setup.offsets, setup.y_means])
    delta = grams.mean - shift                       # mu_t - a_t
    n = grams.weight
    second = grams.comoment + n[:, None, None] * delta[:, :, None] * delta[:, None, :]
    first = n[:, None] * delta
    per_row = setup.weights / n                      # s_i = per_row[t] * v_i
    units = np.append(np.full(d, 1.0 / scale.x), 1.0 / scale.y)
    second = second * (per_row[:, None, None] * units[None, :, None]
                       * units[None, None, :])
    first = first * per_row[:, None] * units[None, :]
    return (second[:, :d, :d], first[:, :d].T, second[:, :d, d].T,
            setup.weights.copy(), first[:, d], second[:, d, d])


def prepare_from_grams(estimator, grams, loss, design=None, classes=None,
                       setup=None):
    """The :class:`FitProblem` of ``estimator`` for statistics ``grams``.

    ``design`` (with ``setup``) replaces the statistics design: the row
    passes of the logistic loss (:mod:`mtstats._dask`).
    """
    classifier = estimator._is_classifier()
    if design is None and classifier:
        raise ValueError(
            f"{type(estimator).__name__} is a classifier: the logistic loss has "
            "no sufficient statistics, so it cannot be fitted from a TaskGrams. "
            "Pass the rows as a dask DataFrame instead (each proximal-Newton "
            "step is one pass over them).")
    if setup is None:
        setup = setup_from_grams(estimator, grams, classifier)
    xp = namespace_for_device(estimator.device)
    dtype = np.float64
    if design is None:
        design = StatisticsDesign(*(to_namespace(xp, v, dtype)
                                    for v in solver_statistics(grams, setup)))
    if estimator._pooled:
        design = PooledDesign(design)
    prior = None
    if setup.shrinkage > 0:
        kappa = setup.shrinkage * setup.weights / grams.weight
        prior = InterceptPrior(to_namespace(xp, kappa, dtype),
                               to_namespace(xp, setup.y_means, dtype))
    placeholder = to_namespace(xp, np.zeros(0), dtype)
    data = TaskSummary(np.empty((0, grams.n_features)), grams.n_samples,
                       grams.weight)
    return FitProblem(data, _task_array(grams.tasks), classes, False, loss, design,
                      placeholder, placeholder, setup.offsets, setup.y_means,
                      setup.scale, estimator._pooled, setup.shrinkage, prior)


def _task_array(tasks):
    """Task labels as mtstats stores them (an object array of Python values)."""
    return np.asarray([t.item() if hasattr(t, "item") else t for t in tasks],
                      dtype=object)


def prepare_out_of_core(estimator, X, y, loss, sample_weight=None):
    """The problem for a :class:`~mtstats.TaskGrams` or dask collections, or
    None for data in memory (the usual path)."""
    if isinstance(X, TaskGrams):
        if y is not None or sample_weight is not None:
            raise ValueError(
                "A TaskGrams already holds the targets and the sample weights: "
                "call fit(grams) without y and sample_weight.")
        return prepare_from_grams(estimator, X, loss)
    if hasattr(X, "__dask_graph__"):  # a dask collection; dask imported only now
        from .._dask import prepare_from_dask

        return prepare_from_dask(estimator, X, y, loss, sample_weight)
    return None
