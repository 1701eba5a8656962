"""Docstrings of the ``*CV`` twins: one template, per-family pieces."""

from __future__ import annotations

from ._base import COMMON_PARAMETERS_DOC
from ._param_docs import POSITIVE_DOC, POSITIVE_SHARED_MEAN_DOC
from .structured import _CLASSIFIER_FITTED_DOC, _FITTED_DOC, STRUCTURE_PARAMETERS_DOC

_CV_PARAMETERS_DOC = """alphas : int or array-like of shape (n_alphas,), default=100
        An int: the number of values of the default grid, log-spaced from its
        top down to ``eps`` times the top and computed on the data passed to
        ``fit`` (after any pipeline step before this one). The top is
        {grid} See :func:`mtstats.regularization_path`. An array: the grid
        itself.
    eps : float, default=1e-3
        Ratio of the smallest to the largest ``alpha`` of the default grid.
    cv : int, cross-validation generator, iterable or None, default=None
        ``None`` or an int ``k``: :class:`mtstats.model_selection.TaskStratifiedKFold`
        with ``k`` folds (5 for ``None``), this estimator's ``task_column``,
        shuffled with ``random_state``, so every task is in every training
        fold; a classifier's folds are stratified by task and class
        (``stratify="task_label"``), so no training fold leaves a task with
        one class. Otherwise any scikit-learn splitter or iterable of
        ``(train, test)`` index arrays.
    scoring : str, callable or None, default=None
        ``None``: the estimator's ``score`` (R^2 or accuracy, on observed
        labels only). A scikit-learn scoring name is wrapped with
        :func:`mtstats.metrics.observed_scorer`, so unobserved labels of a
        wide ``Y`` are skipped; a callable ``scorer(estimator, X, y)`` is used
        as it is. Larger is better.
    n_jobs : int or None, default=None
        Folds (and ratio candidates) run in parallel with joblib.
    random_state : int, RandomState or None, default=None
        Shuffle of the default folds{random_state}."""

_CV_FITTED_DOC = """alpha_ : float
        The selected penalty strength.
    alphas_ : ndarray of shape (n_alphas,){alphas_shape}
        The grid, decreasing.
    scores_path_ : ndarray of shape (n_alphas, n_folds){scores_shape}
        Held-out score of every ``alpha`` on every fold (larger is better).
    """

_CV_DOC = r"""{kind} with ``alpha`` chosen by cross-validation.

    The cross-validated twin of :class:`~mtstats.{base}`: for every ``alpha``
    of a decreasing grid it minimises

    .. math::

        \sum_t \frac{{w_t}}{{n_t}} \sum_{{i \in t}} l(x_i^\top W_{{\cdot t}} + b_t,
        y_i) + {penalty}

    on each training fold, along one warm-started regularisation path per
    fold (:func:`mtstats.regularization_path`), scores each ``alpha`` on the
    fold's held-out rows, sets ``alpha_`` to the best mean score over the
    folds (ties go to the larger ``alpha``) and refits on all the data at
    ``alpha_``, as scikit-learn's ``MultiTaskLassoCV`` and
    ``LogisticRegressionCV`` do. {searched}Other structure parameters stay
    fixed; search them with ``GridSearchCV`` around this estimator.

    Parameters
    ----------
    {own}{cv_params}
    {common}

    Attributes
    ----------
    {cv_fitted}{fitted}

    See Also
    --------
    {base} : the same model at a fixed ``alpha``.
    mtstats.regularization_path : the path behind every fold.

    Examples
    --------
    >>> import numpy as np
    >>> from mtstats import {name}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((90, 5))
    >>> {example_y}
    >>> est = {name}({example_args}alphas=8, cv=3, random_state=0).fit(X, Y)
    >>> est.alphas_.shape, est.scores_path_.shape
    {example_shapes}
    >>> bool(est.alphas_.min() <= est.alpha_ <= est.alphas_.max())
    True
    """

_Y = {"Regressor": "Y = X[:, :2] @ rng.standard_normal((2, 3)) + "
                   "rng.standard_normal((90, 3))",
      "Classifier": "Y = (X[:, :2] @ rng.standard_normal((2, 3)) + "
                    "rng.standard_normal((90, 3)) > 0).astype(int)"}
_KIND = {"Regressor": "Multitask linear regression",
         "Classifier": "Multitask binary logistic regression"}
_NORM_GRID = "``alpha_max``, the smallest ``alpha`` that zeroes every coefficient."
_CURVATURE = ("ten times the loss curvature scale (the largest eigenvalue of the "
              "loss Hessian in the coefficients, at the intercept-only model)")


def cv_doc(name, penalty, own="", searched="", grid=_NORM_GRID, example_args="",
         random_state="", fitted_extra="", ratio=None,
         example_shapes="((8,), (8, 3))"):
    suffix = "Classifier" if name.endswith("ClassifierCV") else "Regressor"
    shapes = (f" or (n_{ratio}, n_alphas)", f" or (n_{ratio}, n_alphas, n_folds)")
    cv_fitted = _CV_FITTED_DOC.format(alphas_shape=shapes[0] if ratio else "",
                                      scores_shape=shapes[1] if ratio else "")
    fitted = _CLASSIFIER_FITTED_DOC if suffix == "Classifier" else _FITTED_DOC
    return _CV_DOC.format(
        kind=_KIND[suffix], base=name[:-2], name=name, penalty=penalty,
        searched=searched, own=own,
        common=(COMMON_PARAMETERS_DOC if name.startswith("Pooled")
                else STRUCTURE_PARAMETERS_DOC),
        cv_params=_CV_PARAMETERS_DOC.format(grid=grid, random_state=random_state),
        cv_fitted=cv_fitted,
        fitted=fitted.replace("Attributes\n    ----------\n    ", "") + fitted_extra,
        example_y=_Y[suffix], example_args=example_args,
        example_shapes=example_shapes)


GROUP_LASSO = dict(
    penalty=r"\alpha\Big(\rho \sum_j \lVert W_{j\cdot}\rVert_2 + "
            r"\frac{1-\rho}{2}\lVert W\rVert_F^2\Big)",
    own="""l1_ratio : float or list of float in [0, 1], default=1.0
        ``rho``, the share of the L21 norm in the penalty; a list is searched
        jointly with ``alpha`` (one grid per value, ``l1_ratio_`` the best).
        ``l1_ratio=0`` is a ridge and gets the quadratic default grid.
    """ + POSITIVE_SHARED_MEAN_DOC + "\n    ",
    searched="A list of ``l1_ratio`` values is searched too, as by "
             "``MultiTaskElasticNetCV``. ", ratio="l1_ratio",
    grid="``alpha_max``; for ``l1_ratio=0`` (a ridge) it is " + _CURVATURE + ".",
    fitted_extra="""
    l1_ratio_ : float
        The selected ``l1_ratio``.""")


TRACE_NORM = dict(penalty=r"\alpha \lVert W\rVert_*")


BASELINE = dict(
    penalty=r"\alpha\,\Omega(W)",
    own="""penalty : {"l2", "l1"}, default="l2"
        ``"l2"``: :math:`\\Omega(W) = \\frac{1}{2}\\lVert W\\rVert_F^2`
        (ridge, quadratic default grid); ``"l1"``: :math:`\\Omega(W) = \\sum
        |W_{jt}|` (lasso, from ``alpha_max``). The pooled models constrain
        ``W = w 1^T``.
    """ + POSITIVE_DOC + "\n    ",
    grid="``alpha_max`` for ``penalty=\"l1\"`` and, for ``\"l2\"``, " + _CURVATURE
         + ".")


#: Default candidates of ``ridge_ratio`` and ``shared_ratio``: log-spaced in
#: ``eta = r / (1 - r)`` (0.02, 0.25, 9). On the clustered, shared-subspace and
#: shared-mean generators of :mod:`mtstats.datasets` (12 tasks, 15 features,
#: 15-25 or 40-80 rows per task) cross-validation over these three reached
#: the coefficient error of the best of twelve ratios in [0, 0.98] within 4%,
#: and on independent tasks within 1% (the best ratio is small on structured
#: tasks, 0.9 on independent ones; below 0.02 nothing was gained).
RIDGE_RATIOS = (0.02, 0.2, 0.9)
SHARED_RATIOS = (0.02, 0.2, 0.9)

_RATIO_GRID = (_CURVATURE + ", whatever the ratio (``alpha`` is the overall "
               "strength); the penalty is quadratic, so no ``alpha`` zeroes the "
               "coefficients.")
_RATIO_SHAPES = "((3, 8), (3, 8, 3))"


CLUSTERED = dict(
    penalty=r"\alpha\,\eta \min_{M} \operatorname{tr}"
            r"\big(W(\eta I + M)^{-1}W^\top\big),"
            "\n        " r"\quad \eta = \frac{r}{1 - r}",
    own="""n_clusters : int, default=2
        The number of task clusters (fixed).
    ridge_ratio : float or sequence of float in (0, 1), default=(0.02, 0.2, 0.9)
        ``r``, the share of the ridge term (see the base estimator): MALSAR's
        :math:`\\rho_1 = \\alpha(1-r)`, :math:`\\rho_2 = \\alpha r`. A
        sequence is searched jointly with ``alpha`` (one path per value and
        fold, ``ridge_ratio_`` the best); at a fixed ``r`` the penalty is
        linear in ``alpha``, so the path runs from a strong penalty to a
        weak one of the same shape.
    """,
    searched="A sequence of ``ridge_ratio`` values is searched too, as "
             "``l1_ratio`` by ``MultiTaskElasticNetCV``. ", ratio="ridge_ratio",
    example_shapes=_RATIO_SHAPES,
    grid=_RATIO_GRID, example_args="2, ",
    random_state=", and seed of the k-means step that labels the clusters",
    fitted_extra="""
    task_similarity_ : ndarray of shape (n_tasks, n_tasks)
        The optimal ``M`` at ``alpha_``.
    task_clusters_ : ndarray of shape (n_tasks,)
        Cluster labels from spectral clustering of ``M``.
    ridge_ratio_ : float
        The selected ``ridge_ratio``.""")


SHARED_PRIVATE = dict(
    penalty=r"\alpha\,\Omega_s(W)",
    own="""kind : {"subspace", "mean"}, default="subspace"
        The decomposition (see the base estimator).
    n_components : int, default=1
        Shared subspace dimension (``kind="subspace"``).
    shared_ratio : float or sequence of float in [0, 1), default=(0.02, 0.2, 0.9)
        ``s``, the share of the strength on the shared part: :math:`\\Omega_s`
        is the base estimator's penalty at ``shared_ratio=s`` and ``alpha=1``
        (for ``kind="mean"``, :math:`s\\,h(w_0) + (1-s)\\lVert V\\rVert_F^2`;
        for ``kind="subspace"`` the cASO penalty with MALSAR's
        :math:`\\rho_1 = \\alpha(1-s)`, :math:`\\rho_2 = \\alpha s`). A sequence
        is searched jointly with ``alpha`` (one path per value and fold,
        ``shared_ratio_`` the best). ``kind="subspace"`` needs ``s > 0``;
        ``kind="mean"`` accepts ``s = 0`` (an unpenalised shared model).
    shared_penalty : {"l2", "l1"}, default="l2"
        Penalty on the shared model (``kind="mean"``).
    solver : {"convex", "alternating"}, default="convex"
        Subspace solver (``kind="subspace"``).
    max_outer_iter : int, default=50
        Alternations of the alternating solver.
    unseen_task : {"shared", "error"}, default="shared"
        ``kind="mean"``: predict unseen tasks with the shared model, or raise.
    """,
    searched="A sequence of ``shared_ratio`` values is searched too, as "
             "``l1_ratio`` by ``MultiTaskElasticNetCV``. ", ratio="shared_ratio",
    example_shapes=_RATIO_SHAPES, grid=_RATIO_GRID,
    fitted_extra="""
    shared_coef_ : ndarray of shape (n_tasks, n_features)
        Shared part of every task's coefficients.
    private_coef_ : ndarray of shape (n_tasks, n_features)
        Private part, orthogonal to the shared part.
    shared_basis_ : ndarray of shape (n_features, n_components)
        ``kind="subspace"``: orthonormal basis of the shared subspace.
    shared_ratio_ : float
        The selected ``shared_ratio``.""")
