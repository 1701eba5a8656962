r"""Pieces shared by the datafits: host transfers and the squared-loss gap."""

from __future__ import annotations

from array_api_compat import array_namespace, is_cupy_namespace

from ..losses import SquaredLoss


def to_floats(xp, values):
    """Python floats of several 0-d arrays (or numbers) with one host transfer.

    On CuPy every ``float(x)`` synchronises the device; stacking first makes
    it one synchronisation for all ``values``. Elsewhere each conversion is
    free, and the values are converted one by one.
    """
    if is_cupy_namespace(xp):  # pragma: no cover - needs a GPU
        stacked = xp.stack([xp.asarray(v, dtype=xp.float64) for v in values])
        return [float(v) for v in stacked.get()]
    return [float(v) for v in values]


def is_plain_squared(loss):
    """Whether ``loss`` is exactly :class:`~mtstats.losses.SquaredLoss`.

    A subclass that overrides ``value`` or ``gradient`` is not: the
    quadratic shortcuts (Gram statistics, exact line-search terms) would
    bypass its overrides.
    """
    cls = type(loss)
    return (isinstance(loss, SquaredLoss) and cls.value is SquaredLoss.value
            and cls.gradient is SquaredLoss.gradient)


def quadratic_gap(penalty, value, W, b, G, g_b):
    r"""Duality gap of the squared loss from its value and gradient.

    With residuals :math:`\rho = y - \eta`, the dual point
    :math:`\theta = c\, s\rho` (``c`` from ``penalty.dual_scaling``) and
    :math:`F = \tfrac12\sum s\rho^2`, the gap :math:`P - D(\theta)` of
    :func:`mtstats.solvers.fista.duality_gap` equals

    .. math::

        (1-c)^2 F + c\,\big(\langle G, W\rangle + \langle g_b, b\rangle\big)
        + g(W) + g^*(-cG),

    where :math:`(G, g_b)` is the gradient of the loss at :math:`(W, b)`,
    because :math:`\sum s\rho y = 2F - \langle G, W\rangle - \langle g_b,
    b\rangle`. Unlike ``P - D`` this form has no cancellation between two
    nearly equal objectives, and it needs no rows: the Gram datafit evaluates
    it from sufficient statistics.

    Returns
    -------
    gap, primal : float
    """
    xp = array_namespace(W, G)
    V = -G
    scale = penalty.dual_scaling(V)
    pen = penalty.value(W)
    inner = xp.sum(G * W) + xp.sum(g_b * b)
    gap = ((1 - scale) ** 2 * value + scale * inner + pen
           + penalty.conjugate(scale * V))
    gap, primal = to_floats(xp, [gap, value + pen])
    return gap, primal


def step_metric(lipschitz, intercept_curvature, fit_intercept):
    r"""Lipschitz constant and intercept step ratio of the solver's metric.

    Coefficients and intercepts can have curvatures of very different sizes
    (features of small scale, centred so that the intercepts decouple): one
    step for both would be set by the larger and crawl along the other. The
    solver therefore steps in the metric :math:`D = \operatorname{diag}(I,
    r)`, intercepts moving ``r`` times as far, with :math:`r = \min(1,
    L_W / L_b)` (:math:`L_W` the Lipschitz constant in ``W`` alone,
    :math:`L_b` the largest intercept curvature): in that metric both blocks
    have curvature :math:`L_W`. FISTA's guarantees hold in any fixed metric.

    Parameters
    ----------
    lipschitz : callable
        ``lipschitz(ratio)``: largest eigenvalue of the Hessian bound in the
        metric ``diag(I, ratio)``.
    intercept_curvature : float
        :math:`L_b`.
    fit_intercept : bool
        Without intercepts only :math:`L_W` matters.

    Returns
    -------
    lipschitz : float
    ratio : float
    """
    coef_only = lipschitz(0.0)
    if not fit_intercept:
        return coef_only, 1.0
    if not (coef_only > 0 and intercept_curvature > coef_only):
        return lipschitz(1.0), 1.0
    ratio = coef_only / intercept_curvature
    return lipschitz(ratio), ratio
