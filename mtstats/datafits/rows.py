r"""The row datafit: a loss evaluated on the linear predictor of a design.

:math:`F(W, b) = \sum_i s_i\, l(\eta_i, y_i)` with :math:`\eta = A(W, b)`
(:mod:`mtstats._designs`). Its *state* is :math:`\eta` itself: linear in
``(W, b)``, so the solver forms the predictor of an extrapolated point by
linear combination instead of a new forward product, and each iteration costs
one forward and one adjoint application of the design.
"""

from __future__ import annotations

from .._designs import lipschitz_constant
from ._common import is_plain_squared, quadratic_gap, step_metric, to_floats

#: Rounding of a predictor in the line-search test, in machine epsilons: the
#: strict bound (elementwise rounding) and the loose one (a matrix product
#: with cancellation). See :meth:`RowDatafit.decrease_violation`.
ROUNDING = (4, 256)


def _own_bregman(loss):
    """``loss.bregman`` if the class defining ``value`` defines it too.

    A subclass that overrides ``value`` but inherits ``bregman`` would get a
    line-search test of another loss; it falls back to objective differences.
    """
    def owner(name):
        return next((k for k in type(loss).__mro__ if name in vars(k)), None)

    found = owner("bregman")
    return loss.bregman if found is not None and found is owner("value") else None


class RowDatafit:
    """Loss on rows: works for every loss and design.

    Parameters
    ----------
    loss : object
        See :mod:`mtstats.losses`.
    design : object
        See :mod:`mtstats._designs`.
    y, s : arrays shaped like the linear predictor
        Targets and sample weights.
    """

    def __init__(self, loss, design, y, s):
        self.loss, self.design, self.y, self.s = loss, design, y, s
        self.xp = design.xp
        self.coef_shape, self.n_tasks = design.coef_shape, design.n_tasks
        self.quadratic = is_plain_squared(loss)
        self.bregman = _own_bregman(loss)
        self.eps = float(self.xp.finfo(y.dtype).eps)

    def state(self, W, b):
        """The linear predictor ``eta = A(W, b)``."""
        return self.design.forward(W, b)

    def extrapolate(self, new, old, beta):
        """State of ``x + beta (x - x_old)`` from the states of both points."""
        return new if beta == 0 else new + beta * (new - old)

    def value(self, eta):
        """``F`` at the state (a 0-d array)."""
        return self.loss.value(eta, self.y, self.s)

    def linearize(self, eta):
        """Gradient ``(G, g_b)`` at the state, and what the line search needs.

        The third entry is ``None`` when the loss has a Bregman divergence;
        otherwise the objective there and a rounding scale for it.
        """
        xp = self.xp
        grad = self.loss.gradient(eta, self.y, self.s)
        G, g_b = self.design.adjoint(grad)
        if self.bregman is not None:
            return G, g_b, None
        return G, g_b, (self.value(eta), xp.sum(xp.abs(grad * eta)))

    def decrease_violation(self, eta_new, eta_z, f_new, lin, dW, db, sq, step):
        r"""How far :math:`F(x) - F(z) - \langle\nabla F(z), x - z\rangle` exceeds
        :math:`\lVert x - z\rVert^2 / 2\,\text{step}` (``sq / (2 step)``),
        beyond rounding: a strict and a loose value (see the solver).

        The left side is the sum of the loss's elementwise Bregman divergences
        :math:`s_i B(\eta^x_i, \eta^z_i)`, free of the cancellation of a
        difference of objectives; the allowance covers a rounding
        :math:`\delta` of the two predictors (``eta_z`` is a linear
        combination), :math:`\kappa(\lVert\eta^x - \eta^z\rVert_s\delta +
        \delta^2/2)` with :math:`\kappa` the curvature bound, for a strict and
        a loose :math:`\delta` (``ROUNDING``). A loss without ``bregman``
        falls back to the difference of objectives with an allowance for its
        rounding.
        """
        xp = self.xp
        quad = sq / (2 * step)
        if self.bregman is not None:
            s = self.s
            diff = eta_new - eta_z
            excess = xp.sum(s * self.bregman(eta_new, eta_z, self.y))
            size = self.eps * xp.sqrt(xp.sum(s * (eta_new * eta_new + eta_z * eta_z)))
            spread = xp.sqrt(xp.sum(s * diff * diff))
            kappa = self.loss.curvature_bound
            return tuple(excess - quad - kappa * (spread + 0.5 * k * size) * k * size
                         for k in ROUNDING)
        G, g_b, (f_z, scale_z) = lin
        excess = f_new - f_z - (xp.sum(G * dW) + xp.sum(g_b * db))
        size = self.eps * (xp.abs(f_new) + xp.abs(f_z) + scale_z)
        return tuple(excess - quad - k * size for k in ROUNDING)

    def lipschitz(self, fit_intercept=True, extra_intercept=0.0):
        """Lipschitz constant of the gradient and the intercept step ratio.

        Curvature bound times ``||A||^2_s`` in the metric of
        :func:`~mtstats.datafits._common.step_metric`; ``extra_intercept``
        bounds the curvature a smooth intercept penalty adds.
        """
        kappa = self.loss.curvature_bound

        def bound(ratio):
            return (kappa * lipschitz_constant(self.design, self.s, ratio=ratio)
                    + ratio * extra_intercept)

        intercept = (kappa * float(self.xp.max(self.design.task_sums(self.s)))
                     + extra_intercept)
        return step_metric(bound, intercept, fit_intercept)

    def profile_blocks(self, eta, free_mean):
        r"""Gradient and curvature blocks for profiling (:mod:`.pooling`).

        Returns ``(G, g_b, H, B, h)``: the gradient in ``(W, b)``; with
        ``free_mean`` the pooled curvature :math:`H = \sum_t X_t^\top S_t
        X_t` and :math:`B_{\cdot t} = X_t^\top S_t\mathbf 1` (else
        ``None``); and the intercept curvatures ``h``.
        """
        design = self.design
        G, g_b = design.adjoint(self.loss.gradient(eta, self.y, self.s))
        weights = self.s * self.loss.curvature(eta, self.y)
        H = B = None
        if free_mean:
            B, h = design.adjoint(weights)
            H = design.pooled_gram(weights)
        else:
            h = design.task_sums(weights)
        return G, g_b, H, B, h

    def profile(self, W, b, eta, n_newton=100):
        """Intercepts minimising ``F`` for fixed ``W``; returns ``(W, b, eta)``.

        Per-task Newton steps until the step is negligible. One step is exact
        for squared loss; for losses with a ``newton_step_limit`` (logistic: 4
        log-odds units) every step is clipped, which keeps Newton stable far
        from the optimum.
        """
        xp, design, loss = self.xp, self.design, self.loss
        limit = getattr(loss, "newton_step_limit", None)
        tiny = 1e-12 * xp.max(design.task_sums(self.s))
        for _ in range(n_newton):
            grad = design.task_sums(loss.gradient(eta, self.y, self.s))
            hess = design.task_sums(self.s * loss.curvature(eta, self.y))
            step = grad / xp.where(hess > tiny, hess, tiny)
            if limit is not None:
                step = xp.clip(step, -limit, limit)
            b = b - step
            eta = eta - design.broadcast_tasks(step)
            if self.quadratic:
                break
            small, top = to_floats(xp, [xp.max(xp.abs(step)), xp.max(xp.abs(b))])
            if small < 1e-13 * max(1.0, top):
                break
        return W, b, eta

    def null_model(self, fit_intercept):
        """``W = 0`` and the intercepts of the intercept-only model, with state."""
        xp = self.xp
        W = xp.zeros(self.coef_shape, dtype=self.y.dtype)
        b = xp.zeros((self.n_tasks,), dtype=self.y.dtype)
        eta = self.state(W, b)
        if fit_intercept:
            W, b, eta = self.profile(W, b, eta)
        return W, b, eta

    def duality_gap(self, penalty, W, b, eta, fit_intercept=True):
        """Duality gap at ``W`` with intercepts profiled out.

        Returns
        -------
        gap, primal : float
        W, b_star : arrays
            The point (``W`` unchanged) and the profiled intercepts.
        """
        xp, loss, y, s = self.xp, self.loss, self.y, self.s
        if fit_intercept:
            W, b, eta = self.profile(W, b, eta)
        if self.quadratic:
            G, g_b = self.design.adjoint(loss.gradient(eta, y, s))
            gap, primal = quadratic_gap(penalty, self.value(eta), W, b, G, g_b)
            return gap, primal, W, b
        theta = -loss.gradient(eta, y, s)
        V, _ = self.design.adjoint(theta)
        scale = penalty.dual_scaling(V)
        primal, dual = to_floats(xp, [
            loss.value(eta, y, s) + penalty.value(W),
            loss.dual(scale * theta, y, s) - penalty.conjugate(scale * V)])
        return primal - dual, primal, W, b
