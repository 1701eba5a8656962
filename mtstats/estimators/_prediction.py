"""Prediction and scoring mixins of the mtstats estimators.

They sit left of :class:`~mtstats.estimators._base.MultitaskLinearModel`
(and of scikit-learn's mixins) and turn its linear predictor into
predictions, probabilities and scores on the observed labels.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from ..losses import LogisticLoss
from ..metrics import task_mean_score


class ObservedScoreMixin:
    """``score`` on observed labels only (left of scikit-learn's mixins)."""

    def score(self, X, y, sample_weight=None):
        """R^2 (regressors) or accuracy (classifiers) of the predictions.

        In the wide layout, the mean over tasks of each task's score on its
        observed entries (NaN, or None among string labels, marks unobserved
        ones); on a fully observed ``Y`` the regressors' value is
        scikit-learn's ``r2_score(Y, Y_pred, sample_weight=sample_weight)``.

        Parameters
        ----------
        X : array-like or DataFrame
            Same layout as in ``fit``.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True targets.
        sample_weight : array-like of shape (n_samples,), optional
            Weight of every row (in the wide layout, of each of its observed
            entries): weighted R^2 or accuracy.

        Returns
        -------
        float
        """
        if np.ndim(y) == 2:
            return task_mean_score(self, X, y, sample_weight=sample_weight)
        return super().score(X, y, sample_weight=sample_weight)


class MultitaskRegressorMixin(ObservedScoreMixin, RegressorMixin):
    """Prediction for squared-loss models."""

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : array-like or DataFrame
            Same layout as in ``fit``. In the long layout every task must have
            been seen in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            A dask Series, partitioned as ``X``, for a dask DataFrame ``X``.
        """
        dask_result = _out_of_core(self, "predict", X)
        return self._decision(X) if dask_result is None else dask_result


class MultitaskClassifierMixin(ObservedScoreMixin, ClassifierMixin):
    """Prediction for binary logistic models (two classes shared by tasks)."""

    def decision_function(self, X):
        """Log-odds of ``classes_[1]``: (n,) or (n, n_tasks) in the wide layout
        (a dask Series for a dask DataFrame ``X``)."""
        dask_result = _out_of_core(self, "decision_function", X)
        return self._decision(X) if dask_result is None else dask_result

    def predict_proba(self, X):
        """Class probabilities.

        Returns
        -------
        proba : ndarray
            Shape (n_samples, 2) in the long layout or for 1-D y (columns in
            ``classes_`` order); in the wide multitask layout (n_samples,
            n_tasks), the probability of ``classes_[1]`` for every task, as
            scikit-learn's multi-output convention for binary outputs. A
            dask DataFrame (columns ``classes_``) for a dask DataFrame ``X``.
        """
        dask_result = _out_of_core(self, "predict_proba", X)
        if dask_result is not None:
            return dask_result
        eta = self._decision(X)
        p = LogisticLoss().inverse_link(np.asarray(eta))
        if eta.ndim == 2:
            return p
        return np.column_stack([1 - p, p])

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted class labels, same shape as the decision function."""
        dask_result = _out_of_core(self, "predict", X)
        if dask_result is not None:
            return dask_result
        positive = self._decision(X) > 0
        return self.classes_[positive.astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


def _out_of_core(estimator, method, X):
    """``method`` mapped over the partitions of a dask DataFrame ``X``, else None."""
    if not hasattr(X, "__dask_graph__"):
        return None
    from .._dask import map_prediction  # Dask is imported only there

    return map_prediction(estimator, method, X)
