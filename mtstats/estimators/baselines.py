"""The baselines every multitask comparison needs: independent and pooled fits.

* ``Independent*``: one penalised model per task. The penalties used here
  separate over tasks, so the joint solve is exactly one fit per task.
* ``Pooled*``: one coefficient vector for all tasks (``W = w 1^T``) with
  per-task intercepts, i.e. a fixed-effects-for-the-intercept model.
"""

from __future__ import annotations

from .._sklearn_compat import StrOptions
from ..penalties import L1, SquaredFrobenius
from ._base import (
    COMMON_CONSTRAINTS,
    COMMON_PARAMETERS_DOC,
    SHARED_MEAN_CONSTRAINT,
    MultitaskLinearModel,
)
from ._param_docs import POSITIVE_DOC, POSITIVE_SHARED_MEAN_DOC
from ._prediction import MultitaskClassifierMixin, MultitaskRegressorMixin
from .structured import _CLASSIFIER_FITTED_DOC, _FITTED_DOC, STRUCTURE_PARAMETERS_DOC


class _BaselineModel(MultitaskLinearModel):
    _parameter_constraints = {
        **COMMON_CONSTRAINTS, "penalty": [StrOptions({"l1", "l2"})],
        "positive": ["boolean"],
    }

    def __init__(self, alpha=0.01, *, penalty="l2", positive=False,
                 task_column=None, task_weight=None, fit_intercept=True,
                 intercept_shrinkage=0.0, tol=1e-4, max_iter=5000,
                 warm_start=False, device="cpu"):
        self.alpha = alpha
        self.penalty = penalty
        self.positive = positive
        self.task_column = task_column
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.intercept_shrinkage = intercept_shrinkage
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.device = device

    def _make_penalty(self):
        kind = L1 if self.penalty == "l1" else SquaredFrobenius
        return kind(self.alpha, positive=self.positive)


class _IndependentModel(_BaselineModel):
    _parameter_constraints = {**_BaselineModel._parameter_constraints,
                              **SHARED_MEAN_CONSTRAINT}

    def __init__(self, alpha=0.01, *, penalty="l2", positive=False,
                 shared_mean=False, task_column=None, task_weight=None,
                 fit_intercept=True, intercept_shrinkage=0.0, tol=1e-4,
                 max_iter=5000, warm_start=False, device="cpu"):
        super().__init__(alpha, penalty=penalty, positive=positive,
                         task_column=task_column,
                         task_weight=task_weight, fit_intercept=fit_intercept,
                         intercept_shrinkage=intercept_shrinkage, tol=tol,
                         max_iter=max_iter, warm_start=warm_start, device=device)
        self.shared_mean = shared_mean

    def _check_problem(self, problem):
        if self.shared_mean and self.penalty == "l1":
            raise ValueError("shared_mean=True needs penalty='l2': the lasso's "
                             "proximal operator does not keep deviations from "
                             "the shared mean summing to zero.")


_PENALTY_DOC = r"""alpha : float, default=0.01
        Penalty strength.
    penalty : {{"l2", "l1"}}, default="l2"
        ``"l2"``: :math:`\frac{{\alpha}}{{2}}\lVert W\rVert_F^2` (ridge);
        ``"l1"``: :math:`\alpha \sum |W_{{jt}}|` (lasso).
    {positive}
    {common}"""

_INDEPENDENT_DOC = r"""One {kind} per task, fitted in one call (no-sharing baseline).

    Minimises :math:`\sum_t \frac{{w_t}}{{n_t}} \sum_{{i\in t}} l(x_i^\top
    W_{{\cdot t}} + b_t, y_i) + \alpha\,\Omega(W)` with {loss} loss and a
    penalty that separates over tasks, so task ``t``'s coefficients are those
    of its own fit: with ``penalty="l2"`` and unit task weights, {equivalent}.
    With ``shared_mean=True`` the ridge acts on the deviations from the
    tasks' mean model instead, and the tasks are no longer independent: this
    is the mean-regularised multitask model of Evgeniou & Pontil (KDD 2004)
    with an unpenalised mean, the penalised form of random slopes with
    independent components.

    Parameters
    ----------
    {params}

    {fitted}

    See Also
    --------
    Pooled{suffix} : the opposite baseline, one model for all tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from mtstats import Independent{suffix}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 3))
    >>> {example_y}
    >>> Independent{suffix}(alpha=0.01).fit(X, Y).coef_.shape
    (2, 3)
    """

_POOLED_DOC = r"""One {kind} shared by every task, with per-task intercepts.

    Minimises :math:`\sum_t \frac{{w_t}}{{n_t}} \sum_{{i\in t}} l(x_i^\top w
    + b_t, y_i) + \alpha\,\Omega(w)` with {loss} loss: the complete-pooling
    baseline (tasks differ only in their intercepts). ``coef_`` repeats ``w``
    for every task.

    Parameters
    ----------
    {params}

    {fitted}

    See Also
    --------
    Independent{suffix} : the opposite baseline, no pooling.

    Examples
    --------
    >>> import numpy as np
    >>> from mtstats import Pooled{suffix}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 3))
    >>> {example_y}
    >>> est = Pooled{suffix}(alpha=0.01).fit(X, Y)
    >>> bool(np.allclose(est.coef_[0], est.coef_[1]))
    True
    """

_REG = dict(kind="linear regression", loss="squared", suffix="Regressor",
            params=_PENALTY_DOC.format(common=STRUCTURE_PARAMETERS_DOC,
                                       positive=POSITIVE_SHARED_MEAN_DOC),
            fitted=_FITTED_DOC,
            equivalent="scikit-learn's ``Ridge(alpha=alpha * n_t)`` on the task",
            example_y="Y = X @ rng.standard_normal((3, 2)) + "
                      "rng.standard_normal((40, 2))")
_CLF = dict(kind="logistic regression", loss="logistic", suffix="Classifier",
            params=_PENALTY_DOC.format(common=STRUCTURE_PARAMETERS_DOC,
                                       positive=POSITIVE_SHARED_MEAN_DOC),
            fitted=_CLASSIFIER_FITTED_DOC,
            equivalent="scikit-learn's ``LogisticRegression(C=1 / (alpha * n_t))``"
                       " on the task",
            example_y="Y = (X @ rng.standard_normal((3, 2)) > 0).astype(int)")


_POOLED_PARAMS = _PENALTY_DOC.format(common=COMMON_PARAMETERS_DOC,
                                     positive=POSITIVE_DOC)


class IndependentRegressor(MultitaskRegressorMixin, _IndependentModel):
    __doc__ = _INDEPENDENT_DOC.format(**_REG)


class IndependentClassifier(MultitaskClassifierMixin, _IndependentModel):
    __doc__ = _INDEPENDENT_DOC.format(**_CLF)


class PooledRegressor(MultitaskRegressorMixin, _BaselineModel):
    __doc__ = _POOLED_DOC.format(**{**_REG, "params": _POOLED_PARAMS})
    _pooled = True


class PooledClassifier(MultitaskClassifierMixin, _BaselineModel):
    __doc__ = _POOLED_DOC.format(**{**_CLF, "params": _POOLED_PARAMS})
    _pooled = True
