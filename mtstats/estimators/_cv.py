"""One cross-validation mixin for every ``*CV`` twin.

A twin names its base estimator (by inheriting from it) and the
hyper-parameters it searches besides ``alpha`` (``_path_params``); this mixin
does the rest, as scikit-learn's ``LinearModelCV`` does for ``LassoCV``:

1. prepare the whole data once (validation; the ``alpha`` grid is computed
   here, so in a pipeline it is the grid of the transformed data);
2. on every training fold, one warm-started regularisation path over the
   grid (:func:`~mtstats.estimators._path.problem_path`), every ``alpha``
   scored on the fold's held-out rows;
3. ``alpha_`` maximises the mean score over folds (ties: the largest
   ``alpha``, the simplest model); refit on all the data at ``alpha_``.
"""

from __future__ import annotations

import copy
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.metrics import get_scorer, get_scorer_names, r2_score
from sklearn.model_selection import check_cv
from sklearn.utils import indexable
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)

from .._sample_weight import check_sample_weight
from .._sklearn_compat import (
    Interval,
    StrOptions,
    _check_method_params,
    _fit_context,
    _own_metadata_request,
    _raise_for_params,
    _routing_enabled,
)
from ..metrics import observed_scorer
from ..model_selection import TaskStratifiedKFold
from ..solvers.path import check_alpha_grid
from ._base import MultitaskLinearModel
from ._path import default_alpha_grid, problem_path

__all__ = ["FoldScorer", "MultitaskCVMixin", "cv_constraints"]

CV_CONSTRAINTS = {
    "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "eps": [Interval(Real, 0, None, closed="neither")],
    "cv": ["cv_object"],
    "scoring": [StrOptions(set(get_scorer_names())), callable, None],
    "n_jobs": [Integral, None],
    "random_state": ["random_state"],
}


def cv_constraints(base, **changes):
    """Parameter constraints of a twin: its base's without ``alpha``, plus
    the cross-validation parameters and ``changes``."""
    constraints = {k: v for k, v in base.items() if k != "alpha"}
    return {**constraints, **CV_CONSTRAINTS, **changes}


#: Scorers whose value on a 2-D target is the plain mean over its columns,
#: as :func:`~mtstats.metrics.observed_scorer` averages over tasks.
UNIFORM_OVER_TASKS = frozenset({"r2", "explained_variance", "neg_mean_squared_error",
                                "neg_root_mean_squared_error",
                                "neg_mean_absolute_error"})


class FoldScorer:
    """The score of one point of a path on a held-out fold.

    ``None``: ``estimator.score``; a name: :func:`~mtstats.metrics.observed_scorer`
    of it; a callable: itself. On a fully observed wide regression target the
    mean over tasks is one call of scikit-learn's metric (uniform average
    over outputs, the same value), not one call per task. ``params`` (the
    routed metadata, e.g. ``sample_weight``) go to the scorer.
    """

    def __init__(self, scoring):
        self.scoring = scoring

    def __call__(self, estimator, X, y, **params):
        if callable(self.scoring):
            return self.scoring(estimator, X, y, **params)
        Y = np.asarray(y)
        complete = (Y.ndim == 2 and not estimator._is_classifier()
                    and Y.dtype.kind in "iuf" and not np.isnan(Y).any())
        if self.scoring is None:
            return (r2_score(Y, estimator.predict(X), **params) if complete
                    else estimator.score(X, y, **params))
        if complete and self.scoring in UNIFORM_OVER_TASKS:
            return get_scorer(self.scoring)(estimator, X, y, **params)
        return observed_scorer(self.scoring)(estimator, X, y, **params)


class _OwnScoreRequests:
    """The routing stand-in of ``scoring=None``: the metadata that the ``*CV``
    estimator's own ``score`` requests (``estimator.score`` of every fold)."""

    def __init__(self, estimator):
        self.estimator = estimator

    def get_metadata_routing(self):
        """The estimator's own requests (a ``MetadataRequest``)."""
        return _own_metadata_request(self.estimator)


def _rows(data, index, dtype=None):
    """Rows ``index`` of an array, a sparse matrix (CSR after ``indexable``),
    a DataFrame/Series or a (nested) list."""
    if hasattr(data, "iloc"):
        return data.iloc[index]
    if sparse.issparse(data):
        return data[index]
    return np.asarray(data, dtype=None if hasattr(data, "shape") else dtype)[index]


def _path_scores(estimator, X, y, train, test, alphas, scorer, sample_weight=None,
                 score_params=None):
    """Scores of every ``alpha`` on ``test`` of the path fitted on ``train``
    (with the training rows' ``sample_weight``; ``score_params``, indexed by
    row, are passed to the scorer for the test rows)."""
    # a list X may mix numbers and task labels: keep them apart (no casting)
    weight = None if sample_weight is None else sample_weight[train]
    problem = estimator._prepare(_rows(X, train, object), _rows(y, train), weight)
    path = problem_path(estimator, problem, alphas)
    X_test, y_test = _rows(X, test, object), _rows(y, test)
    params = _check_method_params(X, score_params or {}, test)
    scores = []
    for alpha, result in zip(path.alphas, path.results, strict=True):
        fitted = copy.copy(estimator).set_params(alpha=alpha)
        fitted._set_solution(problem, result, fitted._make_penalty(),
                             structure=False)
        scores.append(scorer(fitted, X_test, y_test, **params))
    return np.asarray(scores, dtype=np.float64)


class MultitaskCVMixin:
    """``fit`` by cross-validation along the ``alpha`` path (left of the base).

    Subclasses inherit from their base estimator and list in
    ``_path_params`` the parameter that may hold several candidate values
    (``l1_ratio`` of the group lasso, ``ridge_ratio`` of the clustered and
    ``shared_ratio`` of the shared/private models), searched jointly with
    ``alpha``; every other parameter is passed to the base estimator
    unchanged.
    """

    _path_params: tuple = ()

    @classmethod
    def _base_class(cls):
        """The estimator this twin cross-validates."""
        return next(c for c in cls.__mro__ if issubclass(c, MultitaskLinearModel)
                    and not issubclass(c, MultitaskCVMixin))

    def _candidates(self):
        """Every combination of the searched parameters besides ``alpha``."""
        if not self._path_params:
            return [{}]
        (name,) = self._path_params
        values = np.atleast_1d(np.asarray(getattr(self, name), dtype=np.float64))
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"{name} must be a number or a 1-D list of numbers; "
                             f"got {getattr(self, name)!r}.")
        # every candidate must be a valid value of the base estimator's parameter
        allowed = self._base_class()._parameter_constraints.get(name, [])
        for value in values:
            if not any(c.is_satisfied_by(float(value)) for c in allowed
                       if isinstance(c, Interval)):
                raise ValueError(f"Every {name} must be {allowed[0]}; got "
                                 f"{float(value)!r}.")
        return [{name: float(value)} for value in values]

    def _grid(self, problem, params):
        if isinstance(self.alphas, Integral):
            return default_alpha_grid(self, problem, int(self.alphas), self.eps,
                                      **params)
        return check_alpha_grid(self.alphas)

    def _splitter(self, y):
        if self.cv is None or isinstance(self.cv, Integral):
            n_splits = 5 if self.cv is None else int(self.cv)
            # classifiers: task x class strata, so no training fold leaves a
            # task with one class (rare classes are only trained on)
            stratify = "task_label" if self._is_classifier() else "task"
            return TaskStratifiedKFold(n_splits, task_column=self.task_column,
                                       stratify=stratify,
                                       random_state=self.random_state)
        return check_cv(self.cv, y, classifier=self._is_classifier())

    def _fold_estimator(self, params):
        """A base estimator with this twin's parameters and ``params``."""
        base = self._base_class()
        own = self.get_params(deep=False)
        names = [name for name in base._get_param_names() if name in own]
        return base(**{name: own[name] for name in names}).set_params(**params)

    def _routing_scorer(self):
        """The scorer whose metadata requests the routing follows: for
        ``scoring=None`` the fold estimators' ``score``, which requests what
        this estimator's ``set_score_request`` says."""
        if self.scoring is None:
            return _OwnScoreRequests(self)
        return get_scorer(self.scoring)

    def get_metadata_routing(self):
        """Metadata routing of ``fit``: to the splitter and to the scorer.

        ``sample_weight`` is consumed by ``fit`` itself (every fold fit and
        the refit); the splitter's ``split`` and the scorer's ``score`` get
        the metadata they request (see scikit-learn's metadata routing user
        guide).

        Returns
        -------
        routing : MetadataRouter
            The routing information.
        """
        return (MetadataRouter(owner=self)
                .add_self_request(self)
                .add(splitter=self._splitter(None),
                     method_mapping=MethodMapping().add(caller="fit", callee="split"))
                .add(scorer=self._routing_scorer(),
                     method_mapping=MethodMapping().add(caller="fit", callee="score")))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        r"""Choose ``alpha`` by cross-validation, then refit on all the data.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_columns)
            Features; in the long layout also the task column.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets (see ``task_column``).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of every row (in the wide layout, of all the
            row's observed targets), used by every fold fit and by the refit:
            each task's loss is its weighted mean, :math:`\sum_{i\in t} v_i
            l_i / \sum_{i\in t} v_i`, so an integer weight is the same as
            repeating the row and a zero weight the same as dropping it. The
            held-out scores are unweighted unless metadata routing is enabled
            and the scorer requests ``sample_weight``
            (``set_score_request(sample_weight=True)`` on a scorer, or on this
            estimator for ``scoring=None``); ``alpha_`` maximises the plain
            mean of the fold scores.
        **params : dict
            Metadata routed to the splitter's ``split`` and the scorer (only
            with ``sklearn.set_config(enable_metadata_routing=True)``).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        _raise_for_params(params, self, "fit")
        problem = self._prepare(X, y, sample_weight)
        X, y = indexable(X, y)
        sample_weight = check_sample_weight(sample_weight, len(y))
        split_params, score_params = {}, {}
        if _routing_enabled():
            metadata = dict(params) if sample_weight is None else {
                **params, "sample_weight": sample_weight}
            routed = process_routing(self, "fit", **metadata)
            split_params, score_params = routed.splitter.split, routed.scorer.score
        candidates = self._candidates()
        grids = np.stack([self._grid(problem, params) for params in candidates])
        splits = list(self._splitter(y).split(X, y, **split_params))
        scorer = FoldScorer(self.scoring)
        scores = Parallel(n_jobs=self.n_jobs)(
            delayed(_path_scores)(self._fold_estimator(params), X, y, train, test,
                                  grid, scorer, sample_weight, score_params)
            for params, grid in zip(candidates, grids, strict=True)
            for train, test in splits)
        scores = np.reshape(scores, (len(candidates), len(splits), grids.shape[1]))
        scores = np.moveaxis(scores, 2, 1)  # (n_candidates, n_alphas, n_folds)
        mean = np.mean(scores, axis=2)
        if np.all(np.isnan(mean)):
            raise ValueError("Every cross-validation score is NaN; check scoring.")
        best = np.unravel_index(np.argmax(np.where(np.isnan(mean), -np.inf, mean)),
                                mean.shape)
        single = len(candidates) == 1
        self.alphas_ = grids[0] if single else grids
        self.scores_path_ = scores[0] if single else scores
        self.alpha_ = float(grids[best])
        params = candidates[best[0]]
        for name, value in params.items():
            setattr(self, f"{name}_", value)
        penalty = self._penalty_at(alpha=self.alpha_, **params)
        W0, b0 = self._warm_start_point(problem)
        result = self._solve_problem(problem, penalty, W0, b0)
        return self._set_solution(problem, result, penalty)
