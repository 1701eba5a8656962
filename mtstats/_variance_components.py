r"""Data-driven strength of the intercept shrinkage (``intercept_shrinkage="auto"``).

The intercept penalty :math:`\tfrac12\sum_t\kappa_t(b_t - \mu)^2` with
:math:`\kappa_t = \lambda\, w_t / n_t` is the penalised form of a random
intercept :math:`b_t \sim N(\mu, \tau^2)` when :math:`\lambda =
\sigma^2/\tau^2`, the ratio of the noise variance to the between-task
variance, in units of observations: with the coefficients fixed, task
:math:`t`'s intercept is the best linear unbiased predictor

.. math::

    b_t - \mu = \frac{n_t}{n_t + \lambda}\,(\bar r_t - \mu),

:math:`\bar r_t` the mean of its partial residuals, whatever the task
weights. ``"auto"`` estimates :math:`\lambda` by the method of moments:

* regression -- the within-task least-squares fit (every task's features
  and targets centred on the task's means) gives the slopes :math:`\hat\beta`
  and :math:`\hat\sigma^2 = \mathrm{RSS}/(N - T - p)`; the tasks' mean
  residuals :math:`a_t = \bar y_t - \bar x_t^\top\hat\beta` have variance
  :math:`\tau^2 + \sigma^2/n_t`, so :math:`\hat\tau^2 = \max(0,
  s_a^2 - \overline{\sigma^2/n_t})` (the unbalanced one-way ANOVA estimator;
  Searle, Casella & McCulloch, *Variance Components*, 1992, ch. 3);
* classification -- on the logit scale the noise variance is 1 per
  observation (the binomial log-likelihood has unit weight), so
  :math:`\lambda = 1/\tau^2`, with :math:`\tau^2` estimated from the tasks'
  empirical logits :math:`a_t = \log\frac{k_t + 1/2}{n_t - k_t + 1/2}` and
  their sampling variances :math:`1/(k_t + 1/2) + 1/(n_t - k_t + 1/2)`
  (Cox & Snell, *Analysis of Binary Data*, 1989, sec. 2.1.6) in the same way.

A between-task variance estimated at zero means full pooling; it is capped
at :data:`POOLED_FACTOR` times the largest task size, where the shrinkage
factor is below 1/1000.

With ``sample_weight`` the weights are frequency weights: :math:`n_t` and
:math:`k_t` are summed weights, the means weighted means, the fit weighted
least squares and :math:`N` the total weight, so that a row of weight 2
counts as that row twice.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import sparse

from ._sparse_moments import within_task_fit

__all__ = ["estimate_intercept_shrinkage"]

#: ``lambda`` of a zero between-task variance, in units of the largest task.
POOLED_FACTOR = 1e3


def _ratio(a, v, counts, noise):
    """``noise / tau^2`` from task effects ``a`` with sampling variances ``v``."""
    if a.shape[0] < 2:
        return 0.0
    tau2 = float(np.var(a, ddof=1) - np.mean(v))
    top = POOLED_FACTOR * float(counts.max())
    if not tau2 > 0:
        return top
    return float(min(noise / tau2, top))


def _task_rows(data):
    """``(X_rows, y_rows, task_index, weights)`` of every observed target."""
    weight = (np.ones(data.X.shape[0]) if data.sample_weight is None
              else data.sample_weight)
    if data.layout == "long":
        return data.X, data.y, data.task_index, weight
    rows, tasks = np.nonzero(data.observed)
    return data.X[rows], data.y[rows, tasks], tasks, weight[rows]


def estimate_intercept_shrinkage(data, classifier):
    """Method-of-moments ``lambda = sigma^2 / tau^2`` (module docstring).

    Parameters
    ----------
    data : TaskData
        Validated data (targets 0/1 for a classifier).
    classifier : bool
        Logistic (logit-scale moments) rather than squared loss.

    Returns
    -------
    float
        The shrinkage strength in units of observations (0: no shrinkage,
        one task only).
    """
    if sparse.issparse(data.X):  # no dense or row-repeated copy of X
        if classifier:  # the logit moments do not involve X
            return estimate_intercept_shrinkage(
                replace(data, X=np.empty((data.X.shape[0], 0))), classifier)
        moments = within_task_fit(data)
        return 0.0 if moments is None else _ratio(*moments)
    X, y, task, v = _task_rows(data)
    counts = np.bincount(task, weights=v, minlength=data.n_tasks)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if classifier:
        k = np.bincount(task, weights=v * y, minlength=data.n_tasks)
        a = np.log((k + 0.5) / (counts - k + 0.5))
        v = 1.0 / (k + 0.5) + 1.0 / (counts - k + 0.5)
        return _ratio(a, v, counts, 1.0)
    x_mean = np.stack([np.bincount(task, weights=v * X[:, j],
                                   minlength=data.n_tasks)
                       for j in range(X.shape[1])], axis=1) / counts[:, None]
    y_mean = np.bincount(task, weights=v * y, minlength=data.n_tasks) / counts
    Xc, yc = X - x_mean[task], y - y_mean[task]
    root = np.sqrt(v)
    beta, _, rank, _ = np.linalg.lstsq(Xc * root[:, None], yc * root, rcond=None)
    dof = float(np.sum(v)) - data.n_tasks - rank
    if dof < 1:
        return 0.0
    sigma2 = float(np.sum(v * (yc - Xc @ beta) ** 2) / dof)
    a = y_mean - x_mean @ beta
    return _ratio(a, sigma2 / counts, counts, sigma2)


def estimate_from_moments(weight, mean, comoment, classifier):
    """:func:`estimate_intercept_shrinkage` from per-task moments.

    ``weight`` (T,), ``mean`` (T, d+1) and ``comoment`` (T, d+1, d+1) are
    the summed weights, means and centred cross-products of features and
    (last) target (:class:`mtstats.TaskGrams`); the estimator is the same,
    the within-task fit solved from the pooled normal equations.
    """
    counts = np.asarray(weight, dtype=np.float64)
    d = mean.shape[1] - 1
    if classifier:
        k = counts * mean[:, d]
        a = np.log((k + 0.5) / (counts - k + 0.5))
        v = 1.0 / (k + 0.5) + 1.0 / (counts - k + 0.5)
        return _ratio(a, v, counts, 1.0)
    within = np.sum(comoment, axis=0)
    Sxx, Sxy, Syy = within[:d, :d], within[:d, d], within[d, d]
    beta, rank = np.zeros(d), 0
    if d:
        eigval, eigvec = np.linalg.eigh(Sxx)
        # the rank lstsq would find on the rows: singular values sqrt(eigval)
        cutoff = np.sqrt(max(eigval.max(), 0.0)) * np.finfo(float).eps * max(
            float(np.sum(counts)), d)
        keep = np.sqrt(np.clip(eigval, 0.0, None)) > cutoff
        rank = int(keep.sum())
        beta = eigvec[:, keep] @ ((eigvec[:, keep].T @ Sxy) / eigval[keep])
    dof = float(np.sum(counts)) - counts.shape[0] - rank
    if dof < 1:
        return 0.0
    rss = max(Syy - 2 * beta @ Sxy + beta @ Sxx @ beta, 0.0)
    sigma2 = rss / dof
    a = mean[:, d] - mean[:, :d] @ beta
    return _ratio(a, sigma2 / counts, counts, sigma2)
