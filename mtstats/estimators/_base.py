"""The estimator base: layouts in, one solve, NumPy fitted attributes out.

A concrete estimator states only its loss (by being a regressor or a
classifier), its penalty (``_make_penalty``) and whether coefficients are
pooled across tasks. ``fit`` builds the loss/penalty/design triple in locals
(:mod:`mtstats.estimators._problem`), calls :func:`mtstats.solvers.solve` and
stores NumPy arrays; it never mutates a constructor parameter.
"""

from __future__ import annotations

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from .._scaling import DataScale
from .._separation import separated_tasks
from .._sklearn_compat import Interval, StrOptions, _fit_context
from .._sparse_designs import SPARSE_FORMATS, rowwise_products
from .._statistics_design import out_of_core_passes
from .._tasks import encode_tasks, split_task_column
from ..losses import LogisticLoss, SquaredLoss
from ..penalties._base import is_norm
from ..penalties.pooling import PartialPooling
from ..solvers import alpha_max, solve
from ..solvers.concomitant import concomitant_solver, null_noise_weights
from ._grams_problem import prepare_out_of_core
from ._param_docs import COMMON_PARAMETERS_DOC, SHARED_MEAN_DOC  # noqa: F401
from ._problem import prepare_problem

COMMON_CONSTRAINTS = {
    "alpha": [Interval(Real, 0, None, closed="left")],
    "task_column": "no_validation",
    "task_weight": [None, StrOptions({"n_samples", "noise"}), "array-like"],
    "fit_intercept": ["boolean"],
    "intercept_shrinkage": [StrOptions({"auto"}), Interval(Real, 0, None,
                                                           closed="left")],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "warm_start": ["boolean"],
    "device": [StrOptions({"cpu", "cuda"})],
}

SHARED_MEAN_CONSTRAINT = {"shared_mean": ["boolean"]}

class MultitaskLinearModel(BaseEstimator):
    """Base class: shared fitting logic of every mtstats linear estimator.

    ``fit`` runs three steps that paths and the ``*CV`` estimators reuse:
    :meth:`_prepare` (validate, rescale, centre, build the design: once per
    data set), :meth:`_solve_problem` (one solve at a given penalty, possibly
    warm-started) and :meth:`_set_solution` (fitted attributes in the user's
    units).
    """

    _pooled = False
    _parameter_constraints: dict = dict(COMMON_CONSTRAINTS)

    def _make_loss(self):
        return LogisticLoss() if self._is_classifier() else SquaredLoss()

    def _is_classifier(self):
        return isinstance(self, ClassifierMixin)

    def _prepare(self, X, y, sample_weight=None):
        """Validate ``(X, y)`` and build the problem (a :class:`FitProblem`):
        from rows in memory, a :class:`~mtstats.TaskGrams` or dask collections
        (:mod:`mtstats.estimators._grams_problem`)."""
        problem = prepare_out_of_core(self, X, y, self._make_loss(), sample_weight)
        if problem is not None:
            return problem
        return prepare_problem(self, X, y, self._make_loss(), sample_weight)

    def _penalty_at(self, **params):
        """The penalty with hyper-parameters ``params`` (e.g. ``alpha``)
        replacing this estimator's; the estimator itself is not modified."""
        if not params:
            return self._make_penalty()
        view = copy.copy(self)
        vars(view).update(params)
        return view._make_penalty()

    def _warm_start_point(self, problem):
        """Previous solution in the solver's (scaled, centred) parametrisation."""
        if not (self.warm_start and hasattr(self, "coef_")):
            return None, None
        if (list(self.tasks_) != list(problem.tasks)
                or self.coef_.shape[1] != problem.design.n_features):
            return None, None
        return problem.solver_point(self.coef_, self.intercept_)

    def _solver_penalty(self, penalty, scale):
        """``penalty`` on the solver's variable of the problem rescaled by ``scale``."""
        if scale == DataScale():
            return penalty
        problem = (f"At the scale of these data (features of order {scale.x:.3g}, "
                   f"targets of order {scale.y:.3g}) the penalty strengths "
                   f"of {penalty!r} are not representable in floating point; "
                   "rescale X and y (e.g. StandardScaler) before fitting.")
        try:
            rescaled = penalty.rescaled(1.0 / scale.objective, scale.coef)
        except ValueError as error:
            raise ValueError(problem) from error
        for name in ("alpha", "beta"):
            before, after = getattr(penalty, name, 0.0), getattr(rescaled, name, 0.0)
            if before > 0 and not (0 < after < np.inf):
                raise ValueError(problem)
        return rescaled

    def _check_problem(self, problem):
        """Refuse settings the data cannot support (hook for subclasses)."""

    def _free_mean(self):
        """Whether the shared mean model is unpenalised (hook)."""
        return bool(getattr(self, "shared_mean", False))

    def _pooling(self, penalty, problem):
        """``penalty`` (solver units) with the free shared mean and the intercept
        prior of ``problem`` (:class:`~mtstats.penalties.PartialPooling`), or
        unchanged when neither is asked for."""
        free_mean = self._free_mean()
        prior = problem.intercept_prior
        if not free_mean and prior is None:
            return penalty
        return PartialPooling(penalty, free_mean, prior)

    def _solver(self):
        """The solve function, with the signature of :func:`~mtstats.solvers.solve`
        (hook for subclasses)."""
        return solve

    def _noise_weighted(self):
        """Whether ``task_weight="noise"`` (refused for classifiers)."""
        noise = isinstance(self.task_weight, str) and self.task_weight == "noise"
        if noise and self._is_classifier():
            raise ValueError(
                f"task_weight='noise' estimates a noise scale per task, which only "
                f"regression has; {type(self).__name__} is a classifier. Use "
                "task_weight=None, 'n_samples' or an array.")
        return noise

    def _solver_for(self, problem):
        """:meth:`_solver`, run inside the concomitant noise-scale fit
        (:mod:`mtstats.solvers.concomitant`) when ``task_weight="noise"``."""
        if not self._noise_weighted():
            return self._solver()
        return concomitant_solver(self._solver(), y_scale=problem.scale.y)

    def _solve_problem(self, problem, penalty, W0=None, b0=None):
        """One solve of ``problem`` with ``penalty`` (in the user's units)."""
        self._check_problem(problem)
        return self._solver_for(problem)(
            problem.loss,
            self._pooling(self._solver_penalty(penalty, problem.scale), problem),
            problem.design, problem.y, problem.s, W0, b0,
            fit_intercept=self.fit_intercept, tol=self.tol, max_iter=self.max_iter)

    def _set_solution(self, problem, result, penalty, structure=True):
        """Store a solution of ``problem`` as fitted attributes.

        ``structure=False`` skips the structure attributes (cluster labels,
        shared parts): enough to predict, for scoring along a path.
        """
        coef, intercept, result = problem.solution(result)
        self.coef_ = coef
        self.intercept_ = intercept
        self.tasks_ = problem.tasks
        self.n_samples_per_task_ = problem.data.n_samples_per_task
        self.n_iter_ = result.n_iter
        self.dual_gap_ = result.gap
        self.objective_ = result.objective
        noise = getattr(result, "noise_scale", None)
        if noise is not None:  # in the user's units
            self.task_noise_scale_ = (noise * problem.scale.y).astype(coef.dtype)
        else:
            vars(self).pop("task_noise_scale_", None)
        self.intercept_shrinkage_ = problem.intercept_shrinkage
        passes = out_of_core_passes(problem.design)
        if passes is None:
            vars(self).pop("n_passes_", None)
        else:
            self.n_passes_ = passes
        if self._free_mean():
            self.mean_coef_ = coef.mean(axis=0)
        unbounded = self._unbounded(problem, penalty)  # warns when it is
        self.converged_ = result.converged and not unbounded
        self._layout = problem.data.layout
        self._y_is_1d = problem.y_is_1d
        if problem.classes is not None:
            self.classes_ = problem.classes
        if structure or self._predicts_unseen_tasks():
            self._store_structure(result, penalty)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        r"""Fit the model jointly over all tasks.

        Parameters
        ----------
        X : array-like, DataFrame, dask DataFrame or TaskGrams
            Features, of shape (n_samples, n_columns); in the long layout
            also the task column. A ``dask.dataframe.DataFrame`` (long
            layout, with ``y`` and ``sample_weight`` dask Series partitioned
            alike) is fitted out of core; a :class:`~mtstats.TaskGrams`
            (regressors, long layout, ``y`` omitted) from its statistics.
            See the user guide's "Data larger than memory".
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets (see ``task_column``); required except with a TaskGrams.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of every row (in the wide layout, of all the
            row's observed targets). Each task's loss is its weighted mean,
            :math:`\sum_{i\in t} v_i l_i / \sum_{i\in t} v_i`, so an integer
            weight is the same as repeating the row and a zero weight the
            same as dropping it; the task sizes :math:`n_t` of
            ``task_weight="n_samples"`` and ``intercept_shrinkage`` are the
            summed weights. ``None``: every row weighs 1.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        problem = self._prepare(X, y, sample_weight)
        penalty = self._make_penalty()
        W0, b0 = self._warm_start_point(problem)
        result = self._solve_problem(problem, penalty, W0, b0)
        return self._set_solution(problem, result, penalty)

    def _unbounded(self, problem, penalty):
        """Warn and return True when an unpenalised logistic fit has no minimiser.

        Only ``alpha = 0`` (and ``beta = 0`` where there is one) leaves the
        logistic loss unpenalised; on (quasi-)separated classes it then
        decreases forever along a separating direction, and the solver's
        coefficients are an arbitrary point on the way (scikit-learn warns in
        this case too).
        """
        if (not self._is_classifier() or penalty.alpha != 0
                or getattr(penalty, "beta", 0)):
            return False
        if not hasattr(problem.data, "task_index"):  # rows out of core: unknown
            return False
        separated = separated_tasks(problem.data, self._pooled, self.fit_intercept)
        if not separated:
            return False
        tasks = problem.tasks
        labels = [tasks[t].item() if hasattr(tasks[t], "item") else tasks[t]
                  for t in separated]
        warnings.warn(
            f"alpha=0 and the classes of task(s) {labels[:10]} are separable by "
            "a hyperplane, so the unpenalised logistic loss has no finite "
            "minimiser: the coefficients grow without bound and the fitted ones "
            "are arbitrary (converged_ is False). Use alpha > 0.",
            ConvergenceWarning, stacklevel=3)
        return True

    def _store_structure(self, result, penalty):
        """Set structure-specific fitted attributes (hook for subclasses)."""

    def _predicts_unseen_tasks(self):
        """Whether tasks not seen in fit get a prediction (hook).

        Subclasses returning True define ``_unseen_task_model()`` giving the
        ``(coef, intercept)`` used for such tasks.
        """
        return False

    def alpha_max(self, X, y, sample_weight=None):
        """Smallest ``alpha`` at which every coefficient is zero.

        For ``alpha > alpha_max`` the fitted coefficients are exactly zero; at
        ``alpha_max`` itself ``W = 0`` is optimal but rounding may leave
        entries of order 1e-16.

        Computed from the dual norm of the loss gradient of the intercept-only
        model on ``(X, y)`` with this estimator's settings; useful to build an
        ``alpha`` grid, e.g. ``alpha_max * np.geomspace(1, 1e-3, 20)``.
        """
        penalty = self._make_penalty()
        if not is_norm(penalty):
            raise ValueError(f"{self!r} has no alpha_max: its penalty is not a norm, "
                             "so no finite alpha sets every coefficient to zero.")
        return self._alpha_max(self._prepare(X, y, sample_weight), penalty)

    def _alpha_max(self, problem, penalty):
        """``alpha_max`` of a prepared problem for a norm ``penalty``."""
        scale = problem.scale
        # in the rescaled problem alpha is divided by x * y * weight
        factor = scale.x * scale.y * scale.weight
        s = problem.s
        if self._noise_weighted():  # the weights of the joint problem at W = 0
            s = null_noise_weights(problem.loss, problem.design, problem.y, s,
                                   self.fit_intercept, scale.y)
        return factor * alpha_max(problem.loss, self._pooling(penalty, problem),
                                  problem.design, problem.y, s,
                                  self.fit_intercept)

    def _decision(self, X):
        """Linear predictor: (n,) in the long layout or for 1-D y, else (n, T)."""
        check_is_fitted(self)
        task_column = self.task_column
        if task_column is None:
            X_num = validate_data(self, X, dtype=[np.float64, np.float32],
                                  reset=False, accept_sparse=SPARSE_FORMATS)
            eta = X_num @ self.coef_.T + self.intercept_
            return eta[:, 0] if self._y_is_1d else eta
        features, task_values = split_task_column(X, task_column)
        _, index = encode_tasks(task_values, known_tasks=self.tasks_,
                                allow_unknown=self._predicts_unseen_tasks())
        X_num = validate_data(self, features, dtype=[np.float64, np.float32],
                              reset=False, accept_sparse=SPARSE_FORMATS)
        coef, intercept = self.coef_, self.intercept_
        if np.any(index < 0):  # index -1 selects the appended shared model
            shared_coef, shared_intercept = self._unseen_task_model()
            coef = np.vstack([coef, shared_coef[None, :]])
            intercept = np.append(intercept, shared_intercept)
        if sparse.issparse(X_num):  # O(nnz): no dense (n, d) copy of coef rows
            return rowwise_products(X_num, coef, index) + intercept[index]
        return np.einsum("ij,ij->i", X_num, coef[index]) + intercept[index]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = True  # CSR/CSC X, never densified
        return tags
