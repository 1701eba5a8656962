"""Docstring text of the parameters every estimator shares (numpydoc).

Kept apart from :mod:`mtstats.estimators._base` so that the base class
module holds code only; the estimators and their ``*CV`` twins format these
into their docstrings.
"""

COMMON_PARAMETERS_DOC = r"""task_column : str, int or None, default=None
        Long layout: the column of ``X`` (DataFrame name or integer position)
        naming each row's task; ``y`` is then 1-D, and ``score`` pools all
        rows (score each task's rows for per-task figures). Every task must
        be seen in ``fit``: cross-validate with
        :class:`mtstats.model_selection.TaskStratifiedKFold`. ``None``: wide
        layout, ``y`` of shape (n_samples, n_tasks) with NaN marking
        unobserved labels.
    task_weight : None, "n_samples", "noise" or array (n_tasks,), default=None
        Weight of each task's mean loss. ``None`` weighs tasks equally;
        ``"n_samples"`` turns mean losses into summed losses (MALSAR/RMTL);
        ``"noise"`` (regression only) weighs task ``t`` by
        :math:`1/\sigma_t`, its noise scale, estimated jointly with the
        coefficients: the convex concomitant objective
        :math:`\sum_t [\lVert y_t - X_t w_t - b_t\rVert^2/(2n_t\sigma_t) +
        \sigma_t/2] + \alpha\,\Omega(W)` with :math:`\sigma_t` bounded
        below (:mod:`mtstats.solvers.concomitant`), stored in
        ``task_noise_scale_``. Noisy tasks then count less, and ``alpha``
        acts as :math:`\alpha\sigma_t` would with equal weights.
    fit_intercept : bool, default=True
        Fit an intercept per task.
    intercept_shrinkage : "auto" or float >= 0, default=0.0
        Shrink the tasks' intercepts towards a common intercept :math:`\mu`
        by the penalty :math:`\tfrac12\sum_t \lambda\frac{w_t}{n_t}(u_t -
        \mu)^2` (:math:`\mu` free), :math:`u_t` the task's intercept at the
        grand mean of the features (grand-mean centring, as multilevel
        models recommend): the penalised form of a random intercept with
        :math:`\lambda = \sigma^2/\tau^2` in units of observations, so that
        each task's intercept keeps the fraction :math:`n_t/(n_t +
        \lambda)` of its own evidence (with ``task_weight="n_samples"``
        these are the mixed model's BLUP equations). ``0``: unpenalised
        intercepts; ``"auto"``: :math:`\lambda` estimated by the method of
        moments (:mod:`mtstats._variance_components`), stored in
        ``intercept_shrinkage_``. With shrinkage, tasks whose labels are all
        one class can be fitted.
    tol : float, default=1e-4
        Stop when the duality gap is below ``tol`` times the objective of the
        intercept-only model (see :func:`mtstats.solvers.solve`). Floored at
        8 machine epsilons of the data's dtype (2e-15 in float64, 1e-6 in
        float32), below which the gap is rounding noise.
    max_iter : int, default=5000
        Maximum number of FISTA iterations.
    warm_start : bool, default=False
        Start from the previous solution when refitting on the same tasks.
        Only the point carries over: FISTA restarts its momentum (and its
        step), so ``max_iter=5`` fitted twice with a warm start is not the
        same as ``max_iter=10`` fitted once.
    device : {"cpu", "cuda"}, default="cpu"
        Solve with NumPy or, on a CUDA GPU, with CuPy. Fitted attributes are
        NumPy arrays either way."""


SHARED_MEAN_DOC = r"""shared_mean : bool, default=False
        Decompose :math:`W = w_0\mathbf 1^\top + V` with :math:`V\mathbf
        1 = 0`, leave the mean model :math:`w_0` unpenalised and put the
        penalty on the deviations :math:`V` (coefficients shrink towards
        the tasks' mean, as random slopes do, instead of towards zero).
        ``mean_coef_`` holds :math:`w_0`."""


POSITIVE_DOC = r"""positive : bool, default=False
        Constrain every coefficient to be non-negative, :math:`W \ge 0`, as
        scikit-learn's ``Lasso(positive=True)`` does (intercepts stay free):
        the penalty gains the indicator of the non-negative orthant. The
        solver's prox stays closed-form, its duality gap certifies the
        constrained problem, and ``alpha_max`` is the smallest ``alpha``
        whose constrained solution is zero. With ``alpha=0`` this is
        non-negative least squares (or logistic regression)."""

#: ``positive`` of the estimators that also take ``shared_mean``.
POSITIVE_SHARED_MEAN_DOC = POSITIVE_DOC + r"""
        Refused together with ``shared_mean=True``: the constraint would
        couple the free mean model to the deviations."""
