"""A fitting problem prepared once: validated, rescaled, centred, on the device.

``fit``, :func:`mtstats.regularization_path` and the ``*CV`` estimators share
three steps: prepare the problem (this module), solve it at given
hyper-parameters (possibly warm-started, possibly along a path), and map a
solution back to fitted attributes in the user's units. Preparing once and
solving many times is what makes paths cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._backend import namespace_for_device, to_namespace, to_numpy
from .._designs import build_design
from .._scaling import DataScale, rescale_data, unscale_result
from .._tasks import TaskData, center_targets, task_weights, validate_fit_input
from .._variance_components import estimate_intercept_shrinkage
from ..penalties.pooling import InterceptPrior

__all__ = ["FitProblem", "prepare_problem"]


@dataclass(frozen=True)
class FitProblem:
    """Everything a solve needs, in the solver's variables.

    Attributes
    ----------
    data : TaskData
        The validated data after rescaling and target centring (NumPy).
    tasks, classes, y_is_1d :
        As returned by :func:`mtstats._tasks.validate_fit_input`.
    loss : object
        Squared or logistic loss.
    design, y, s : objects
        The task design and the targets and sample weights on the device.
    x_offsets : ndarray of shape (n_tasks, n_features)
        Feature centring offsets (:func:`mtstats._designs.build_design`).
    y_means : ndarray of shape (n_tasks,)
        Subtracted target means (regression with intercepts).
    scale : DataScale
        Exact power-of-two rescaling of the data (:mod:`mtstats._scaling`).
    pooled : bool
        One coefficient vector for all tasks.
    intercept_shrinkage : float
        ``lambda``, the strength of the intercept shrinkage in units of
        observations (``"auto"`` resolved; 0 for unpenalised intercepts).
    intercept_prior : InterceptPrior or None
        The intercept penalty in the solver's units, on the device, with
        weights ``kappa_t = lambda w_t / n_t`` (``None`` when ``lambda = 0``
        or no intercepts are fitted).
    """

    data: TaskData
    tasks: np.ndarray
    classes: np.ndarray | None
    y_is_1d: bool
    loss: object
    design: object
    y: object
    s: object
    x_offsets: np.ndarray
    y_means: np.ndarray
    scale: DataScale
    pooled: bool
    intercept_shrinkage: float = 0.0
    intercept_prior: object = None

    def solution(self, result):
        """Fitted ``(coef, intercept, result)`` in the user's units.

        ``coef`` has shape (n_tasks, n_features), ``intercept`` (n_tasks,);
        ``result`` is the :class:`~mtstats.solvers.SolveResult` with gap and
        objective mapped back to the original scale.
        """
        V = to_numpy(result.W)
        if self.pooled:
            V = np.repeat(V, self.data.n_tasks, axis=1)
        b = to_numpy(result.b) + self.y_means - np.sum(self.x_offsets * V.T, axis=1)
        result = unscale_result(result, self.scale, to_numpy)
        coef = np.ascontiguousarray((V * self.scale.coef).T.astype(V.dtype))
        intercept = (b * self.scale.y).astype(V.dtype)
        return coef, intercept, result

    def solver_point(self, coef, intercept):
        """``(W, b)`` in the solver's variables for fitted ``coef``, ``intercept``
        (the inverse of :meth:`solution`), on the device."""
        coef = coef / self.scale.coef
        W = coef[:1].T if self.pooled else coef.T
        b = (intercept / self.scale.y - self.y_means
             + np.sum(self.x_offsets * coef, axis=1))
        xp, dtype = self.design.xp, self.data.X.dtype
        return to_namespace(xp, W, dtype), to_namespace(xp, b, dtype)


def prepare_problem(estimator, X, y, loss, sample_weight=None):
    """Validate ``(X, y)`` and build the problem ``estimator`` solves.

    Sets ``n_features_in_`` (and ``feature_names_in_``) on ``estimator``
    through scikit-learn's ``validate_data``. With ``sample_weight`` every
    task's loss is its weighted mean and the task sizes are the summed
    weights (:mod:`mtstats._sample_weight`).
    """
    classifier = estimator._is_classifier()
    data, tasks, classes, y_is_1d = validate_fit_input(
        estimator, X, y, classifier=classifier, sample_weight=sample_weight)
    xp = namespace_for_device(estimator.device)
    weights = task_weights(estimator.task_weight, data.weight_per_task())
    data, weights, scale = rescale_data(data, not classifier, weights)
    shrinkage = resolve_intercept_shrinkage(estimator, data, classifier)
    y_means = np.zeros(data.n_tasks)
    if estimator.fit_intercept and not classifier:
        data, y_means = center_targets(data)
    center = estimator.fit_intercept and ("global" if shrinkage > 0 else True)
    design, y_xp, s, offsets = build_design(data, xp, weights, estimator._pooled,
                                            center=center)
    prior = None
    if shrinkage > 0:
        kappa = shrinkage * np.asarray(weights, dtype=np.float64) / (
            data.weight_per_task())
        dtype = data.X.dtype
        prior = InterceptPrior(to_namespace(xp, kappa, dtype),
                               to_namespace(xp, y_means, dtype))
    return FitProblem(data, tasks, classes, y_is_1d, loss, design, y_xp, s,
                      offsets, y_means, scale, estimator._pooled, shrinkage, prior)


def resolve_intercept_shrinkage(estimator, data, classifier):
    """The estimator's ``intercept_shrinkage`` as a number (``"auto"`` estimated,
    :func:`mtstats._variance_components.estimate_intercept_shrinkage`); 0
    without intercepts or with one task."""
    value = getattr(estimator, "intercept_shrinkage", 0.0)
    if not estimator.fit_intercept or data.n_tasks < 2:
        return 0.0
    if isinstance(value, str):
        return estimate_intercept_shrinkage(data, classifier)
    return float(value)
