"""Scores that use observed labels only (NaN or None marks an unobserved one).

In the wide layout a target matrix ``Y`` (n_samples, n_tasks) may leave
entries unobserved. The estimators fit on the observed entries, and every
score here is computed on them too; scikit-learn's metrics would instead
fail on (or return NaN for) the missing entries, which silently breaks
``cross_val_score`` and lets ``GridSearchCV`` pick its first candidate.

* ``estimator.score`` of every mtstats estimator: the mean over tasks of
  each task's R^2 (regressors) or accuracy (classifiers) on its observed
  entries -- on a fully observed ``Y`` the R^2 is scikit-learn's
  ``r2_score(Y, Y_pred)`` (uniform average over outputs).
* :func:`observed_scorer` turns any scikit-learn scoring name or scorer into
  one that skips unobserved entries, for ``cross_val_score``,
  ``GridSearchCV(scoring=...)`` and the like.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.metrics import accuracy_score, check_scoring, get_scorer, r2_score

from ._labels import observed_class_labels

__all__ = ["observed_scorer", "task_mean_score"]


def _observed(Y):
    return observed_class_labels(np.asarray(Y).reshape(len(Y), -1))


def task_mean_score(estimator, X, Y, metric=None, sample_weight=None):
    """Mean over tasks of ``metric`` on each task's observed entries.

    Parameters
    ----------
    estimator : estimator
        A fitted mtstats estimator, wide layout.
    X : array-like of shape (n_samples, n_features)
        Features.
    Y : array-like of shape (n_samples, n_tasks)
        NaN (or None) marks an unobserved entry.
    metric : callable or None
        ``metric(y_true, y_pred)``; default R^2 for regressors and accuracy
        for classifiers.
    sample_weight : array-like of shape (n_samples,), optional
        Weight of every row, passed to ``metric`` for the row's observed
        entries (``metric`` must then accept ``sample_weight``); entries of
        zero weight count as unobserved.

    Returns
    -------
    float
    """
    Y = np.asarray(Y)
    if metric is None:
        metric = accuracy_score if is_classifier(estimator) else r2_score
    predicted = np.asarray(estimator.predict(X)).reshape(Y.shape)
    observed = _observed(Y)
    values = Y if Y.dtype == object else Y.astype(np.float64)
    if sample_weight is None:
        scores = [metric(values[observed[:, t], t], predicted[observed[:, t], t])
                  for t in range(Y.shape[1]) if observed[:, t].any()]
        return float(np.mean(scores))
    weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if weight.shape[0] != Y.shape[0]:
        raise ValueError(f"sample_weight has {weight.shape[0]} entries but Y has "
                         f"{Y.shape[0]} rows.")
    observed &= (weight > 0)[:, None]
    scores = [metric(values[rows, t], predicted[rows, t], sample_weight=weight[rows])
              for t in range(Y.shape[1]) if (rows := observed[:, t]).any()]
    return float(np.mean(scores))


class _FixedResponses(BaseEstimator):
    """Stands in for an estimator: returns precomputed responses for a subset
    of entries, so that any scikit-learn scorer can score that subset."""

    def __init__(self, responses=None, classes=None):
        self.responses = responses
        self.classes = classes
        if classes is not None:
            self.classes_ = classes

    def predict(self, X):
        """Precomputed predictions."""
        return self.responses["predict"]()

    def predict_proba(self, X):
        """Precomputed probabilities, (n, 2) in ``classes_`` order."""
        p = self.responses["predict_proba"]()
        return np.column_stack([1 - p, p])

    def decision_function(self, X):
        """Precomputed decision values."""
        return self.responses["decision_function"]()


class _FixedClassifier(ClassifierMixin, _FixedResponses):
    pass


class _FixedRegressor(RegressorMixin, _FixedResponses):
    pass


class _LazyResponses:
    """Each response method of ``estimator`` on ``X``, computed once, on
    demand (a scorer needs one of them)."""

    def __init__(self, estimator, X):
        self.estimator, self.X, self.cache = estimator, X, {}

    def restricted(self, mask):
        """``{method: () -> output[mask]}`` for an (n, T) boolean mask."""
        return {name: (lambda name=name: self.get(name)[mask])
                for name in ("predict", "predict_proba", "decision_function")}

    def get(self, name):
        if name not in self.cache:
            self.cache[name] = np.asarray(getattr(self.estimator, name)(self.X))
        return self.cache[name]


def _entries(value, mask):
    """A per-row ``value`` (n,) spread over the entries ``mask`` (n, T) selects;
    any other value as it is."""
    if np.ndim(value) == 1 and np.shape(value)[0] == mask.shape[0]:
        return np.broadcast_to(np.asarray(value)[:, None], mask.shape)[mask]
    return value


def observed_scorer(scoring=None, average="tasks"):
    """A scorer that uses observed entries only.

    Parameters
    ----------
    scoring : str, callable or None
        Any scikit-learn scoring name (``"r2"``, ``"neg_mean_squared_error"``,
        ``"roc_auc"``, ``"neg_log_loss"``, ...) or scorer; ``None`` uses
        ``estimator.score``.
    average : {"tasks", "pooled"}
        ``"tasks"``: score each task's observed entries and average over
        tasks (scikit-learn's uniform average over outputs); ``"pooled"``:
        score all observed entries together, as the long layout pools rows.

    Returns
    -------
    callable
        ``scorer(estimator, X, y, **params)``. With a 1-D ``y`` (long layout)
        it is the plain scikit-learn scorer. ``params`` (e.g.
        ``sample_weight``) go to the scorer; those with one entry per row are
        spread over the row's observed entries.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_val_score
    >>> from mtstats import GroupLassoRegressor
    >>> from mtstats.metrics import observed_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 4))
    >>> Y = X @ rng.standard_normal((4, 3)) + rng.standard_normal((60, 3))
    >>> Y[::7, 1] = np.nan                         # unobserved labels
    >>> scores = cross_val_score(GroupLassoRegressor(0.01), X, Y, cv=3,
    ...                          scoring=observed_scorer("neg_mean_squared_error"))
    >>> bool(np.all(np.isfinite(scores)))
    True
    """
    if average not in ("tasks", "pooled"):
        raise ValueError(f"average must be 'tasks' or 'pooled'; got {average!r}.")

    def scorer(estimator, X, y, **params):
        base = (check_scoring(estimator) if scoring is None
                else get_scorer(scoring) if isinstance(scoring, str) else scoring)
        Y = np.asarray(y)
        if Y.ndim == 1:
            return base(estimator, X, y, **params)
        observed = _observed(Y)
        if average == "pooled":
            groups = [observed]
        else:
            groups = [observed * (np.arange(Y.shape[1]) == t)
                      for t in range(Y.shape[1]) if observed[:, t].any()]
        kind = _FixedClassifier if is_classifier(estimator) else _FixedRegressor
        classes = getattr(estimator, "classes_", None)
        responses = _LazyResponses(estimator, X)
        scores = []
        for mask in groups:  # the stand-in ignores its X: a placeholder of n rows
            view = kind(responses.restricted(mask), classes)
            scores.append(base(view, np.zeros((int(mask.sum()), 1)), Y[mask],
                               **{k: _entries(v, mask) for k, v in params.items()}))
        return float(np.mean(scores))

    return scorer
