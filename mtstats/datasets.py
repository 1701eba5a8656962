"""Synthetic multitask data with a known ground truth.

The generators draw a coefficient matrix with a chosen cross-task structure,
features from a standard normal, and targets from the linear model (Gaussian
noise for regression, Bernoulli with a logistic link for classification).
They return the truth alongside the data so that tests and examples can check
recovery.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch, check_random_state

STRUCTURES = ("low_rank", "group_sparse", "clustered", "shared_subspace",
              "shared_mean", "independent")

__all__ = ["STRUCTURES", "make_multitask_classification", "make_multitask_regression"]


def _coefficients(structure, n_features, n_tasks, rank, n_informative, n_clusters,
                  rng):
    """True coefficients (n_tasks, n_features) and structure-specific truth."""
    truth = {}
    if structure == "low_rank":
        U = rng.standard_normal((n_features, rank))
        V = rng.standard_normal((rank, n_tasks))
        W = U @ V / np.sqrt(rank)
    elif structure == "group_sparse":
        support = np.sort(rng.choice(n_features, n_informative, replace=False))
        W = np.zeros((n_features, n_tasks))
        W[support] = rng.standard_normal((n_informative, n_tasks))
        truth["support"] = support
    elif structure == "clustered":
        centers = 2.0 * rng.standard_normal((n_features, n_clusters))
        labels = rng.permutation(np.arange(n_tasks) % n_clusters)
        W = centers[:, labels] + 0.1 * rng.standard_normal((n_features, n_tasks))
        truth["clusters"] = labels
    elif structure == "shared_subspace":
        basis, _ = np.linalg.qr(rng.standard_normal((n_features, rank)))
        # coordinates scaled so that coefficients have entries of order one
        shared = rng.standard_normal((rank, n_tasks)) * np.sqrt(n_features / rank)
        # private parts orthogonal to the subspace in feature space and to the
        # shared coordinates in task space: span(basis) is then exactly the
        # top-`rank` left singular subspace of W
        private = 0.1 * rng.standard_normal((n_features, n_tasks))
        private -= basis @ (basis.T @ private)
        task_space, _ = np.linalg.qr(shared.T)
        private -= (private @ task_space) @ task_space.T
        W = basis @ shared + private
        truth["subspace"] = basis
    elif structure == "shared_mean":
        shared = rng.standard_normal(n_features)
        deviations = 0.3 * rng.standard_normal((n_features, n_tasks))
        deviations -= deviations.mean(axis=1, keepdims=True)
        W = shared[:, None] + deviations
        truth["shared_coef"] = shared
    elif structure == "independent":
        W = rng.standard_normal((n_features, n_tasks))
    else:
        raise ValueError(f"structure must be one of {STRUCTURES}; got {structure!r}.")
    return W.T, truth


def _task_sizes(n_samples, n_tasks, rng):
    if np.isscalar(n_samples):
        return np.full(n_tasks, int(n_samples))
    sizes = np.asarray(n_samples)
    if sizes.shape == (2,):
        return rng.integers(sizes[0], sizes[1] + 1, size=n_tasks)
    if sizes.shape != (n_tasks,):
        raise ValueError("n_samples must be an int, a (low, high) pair or one "
                         "size per task.")
    return sizes.astype(int)


def _make(kind, *, n_tasks, n_features, n_samples, structure, noise, rank,
          n_informative, n_clusters, layout, missing_fraction, as_frame,
          random_state):
    if structure == "group_sparse" and n_informative > n_features:
        raise ValueError(f"n_informative={n_informative} exceeds n_features="
                         f"{n_features}; lower n_informative.")
    if structure == "shared_subspace" and rank > n_features:
        raise ValueError(f"rank={rank} exceeds n_features={n_features}; lower rank.")
    rng = check_random_state(random_state)
    rng = np.random.default_rng(rng.randint(2**31))
    coef, truth = _coefficients(structure, n_features, n_tasks, rank, n_informative,
                                n_clusters, rng)
    intercept = 0.5 * rng.standard_normal(n_tasks)
    tasks = np.array([f"task_{t:02d}" for t in range(n_tasks)], dtype=object)
    if layout == "wide":
        n_rows = int(np.max(_task_sizes(n_samples, 1, rng)))
        X = rng.standard_normal((n_rows, n_features))
        eta = X @ coef.T + intercept
    elif layout == "long":
        sizes = _task_sizes(n_samples, n_tasks, rng)
        task_index = rng.permutation(np.repeat(np.arange(n_tasks), sizes))
        X = rng.standard_normal((task_index.shape[0], n_features))
        eta = np.einsum("ij,ij->i", X, coef[task_index]) + intercept[task_index]
    else:
        raise ValueError(f"layout must be 'wide' or 'long'; got {layout!r}.")
    if kind == "regression":
        y = eta + noise * rng.standard_normal(eta.shape)
    else:
        y = (rng.random(eta.shape) < 1 / (1 + np.exp(-eta))).astype(float)
    if layout == "wide" and missing_fraction > 0:
        y[rng.random(y.shape) < missing_fraction] = np.nan
    truth = Bunch(coef=coef, intercept=intercept, tasks=tasks, structure=structure,
                  **truth)
    feature_names = [f"x{j}" for j in range(n_features)]
    if layout == "long":
        if as_frame:
            import pandas as pd

            frame = pd.DataFrame(X, columns=feature_names)
            frame["task"] = tasks[task_index]
            return frame, pd.Series(y, name="y"), truth
        return np.column_stack([X, task_index]), y, truth
    if as_frame:
        import pandas as pd

        return (pd.DataFrame(X, columns=feature_names),
                pd.DataFrame(y, columns=list(tasks)), truth)
    return X, y, truth


_PARAMS_DOC = """
    Parameters
    ----------
    n_tasks : int, default=10
    n_features : int, default=20
    n_samples : int, (low, high) or array of shape (n_tasks,), default=(20, 80)
        Samples per task (long layout; unequal by default). In the wide layout
        the largest value is the number of shared rows.
    structure : {"low_rank", "group_sparse", "clustered", "shared_subspace", \
"shared_mean", "independent"}, default="low_rank"
        How the true coefficient vectors of the tasks relate.
    noise : float, default=1.0
        Standard deviation of the Gaussian noise (regression only).
    rank : int, default=2
        Rank of ``W`` (``low_rank``) or subspace dimension (``shared_subspace``).
    n_informative : int, default=5
        Non-zero rows of ``W`` (``group_sparse``).
    n_clusters : int, default=3
        Number of task clusters (``clustered``).
    layout : {"long", "wide"}, default="long"
        Long: ``X`` has the task index as its last column (``task_column=-1``)
        or, with ``as_frame``, a string column ``"task"``. Wide: shared ``X``
        and ``Y`` of shape (n_samples, n_tasks).
    missing_fraction : float, default=0.0
        Wide layout: share of labels set to NaN (unobserved).
    as_frame : bool, default=False
        Return pandas objects.
    random_state : int, RandomState or None, default=None

    Returns
    -------
    X : ndarray or DataFrame
    y : ndarray, Series or DataFrame
    truth : Bunch
        ``coef`` (n_tasks, n_features), ``intercept``, ``tasks``, and by
        structure ``support``, ``clusters``, ``subspace`` or ``shared_coef``.
"""


def make_multitask_regression(n_tasks=10, n_features=20, n_samples=(20, 80), *,
                              structure="low_rank", noise=1.0, rank=2,
                              n_informative=5, n_clusters=3, layout="long",
                              missing_fraction=0.0, as_frame=False,
                              random_state=None):
    return _make("regression", n_tasks=n_tasks, n_features=n_features,
                 n_samples=n_samples, structure=structure, noise=noise, rank=rank,
                 n_informative=n_informative, n_clusters=n_clusters, layout=layout,
                 missing_fraction=missing_fraction, as_frame=as_frame,
                 random_state=random_state)


def make_multitask_classification(n_tasks=10, n_features=20, n_samples=(20, 80), *,
                                  structure="low_rank", rank=2, n_informative=5,
                                  n_clusters=3, layout="long", missing_fraction=0.0,
                                  as_frame=False, random_state=None):
    return _make("classification", n_tasks=n_tasks, n_features=n_features,
                 n_samples=n_samples, structure=structure, noise=0.0, rank=rank,
                 n_informative=n_informative, n_clusters=n_clusters, layout=layout,
                 missing_fraction=missing_fraction, as_frame=as_frame,
                 random_state=random_state)


make_multitask_regression.__doc__ = (
    "Multitask regression data with a known coefficient structure.\n" + _PARAMS_DOC
    + """
    Examples
    --------
    >>> from mtstats.datasets import make_multitask_regression
    >>> X, y, truth = make_multitask_regression(n_tasks=4, n_features=3,
    ...                                         random_state=0)
    >>> X.shape[1], truth.coef.shape
    (4, (4, 3))
""")
make_multitask_classification.__doc__ = (
    "Multitask binary classification data (logistic link), known structure.\n"
    + _PARAMS_DOC.replace("""    noise : float, default=1.0
        Standard deviation of the Gaussian noise (regression only).
""", ""))
