r"""A smooth quadratic penalty added to any datafit (graph Laplacian terms).

Smooth parts of a penalty go to the gradient, not to the prox: for a
quadratic :math:`q(W)` such as the task-graph term
:math:`\tfrac c2\operatorname{tr}(W\Lambda W^\top)` of
:class:`~mtstats.penalties.graph.GraphPenalty`, :class:`SmoothDatafit`
presents :math:`F + q` to the solver and the penalty keeps only its
non-smooth part :math:`g`.

The state of a point is ``(inner_state, W)``, linear in ``(W, b)``. The
line search's sufficient-decrease test gains the exact Bregman term of the
quadratic, :math:`q(x) - q(z) - \langle\nabla q(z), x - z\rangle =
q(x - z)`, and the Lipschitz constant gains :math:`c\lambda_{\max}(\Lambda)`.

Duality gap. With :math:`u` the loss gradient on the rows,
:math:`G_F = A^\top u` its gradient in ``W``, :math:`v = \nabla q(W)` and
the scaling ``c`` of the *full* gradient :math:`G_F + v` into the domain of
:math:`g^*`, the dual point :math:`(\theta, \nu) = (cu, cv)` of
:math:`\min F + q + g` gives the gap

.. math::

    [F + F^*(cu)] + [q(W) + q^*(cv)] + g(W) + g^*\big(-c(G_F + v)\big),
    \qquad q^*(cv) = c^2 q(W),

because :math:`q^*(\nabla q(W)) = \langle\nabla q(W), W\rangle - q(W) =
q(W)` and :math:`q^*` is 2-homogeneous. The inner datafit's own gap
(rows, Gram statistics or partial pooling) computes it when handed
:class:`_GapPenalty`, a view of the penalty whose scaling acts on
:math:`V - v` (:math:`V = -G_F`), whose value is :math:`g + q` and whose
conjugate is :math:`g^*(cV - cv) + c^2q(W)`. For the squared loss this is
:func:`~mtstats.datafits._common.quadratic_gap` of :math:`F + q`:
:math:`(1-c)^2q + c\langle v, W\rangle = (1 + c^2)q` since
:math:`\langle v, W\rangle = 2q`.
"""

from __future__ import annotations


class _GapPenalty:
    """``g`` seen by an inner duality gap that does not know ``q`` (module
    docstring); ``c`` is remembered from ``dual_scaling``."""

    def __init__(self, penalty, quadratic, W):
        self.penalty, self.alpha = penalty, penalty.alpha
        self.v, self.q = quadratic.gradient(W), quadratic.value(W)
        self.scale = None

    def dual_scaling(self, V):
        self.scale = self.penalty.dual_scaling(V - self.v)
        return self.scale

    def value(self, W):
        return self.penalty.value(W) + self.q

    def conjugate(self, V):
        c = self.scale
        return self.penalty.conjugate(V - c * self.v) + c * c * self.q


class SmoothDatafit:
    """``F + q`` for a datafit ``F`` and a smooth quadratic ``q``.

    Parameters
    ----------
    inner : datafit
        Rows, Gram statistics or partial pooling (:mod:`mtstats.datafits`).
    quadratic : object
        With ``value(W)``, ``gradient(W)`` (linear in ``W``) and ``lipschitz``,
        e.g. :class:`~mtstats.penalties.graph.LaplacianQuadratic`.
    """

    def __init__(self, inner, quadratic):
        self.inner, self.smooth = inner, quadratic
        self.xp, self.design = inner.xp, inner.design
        self.coef_shape, self.n_tasks = inner.coef_shape, inner.n_tasks
        self.quadratic, self.eps = inner.quadratic, inner.eps
        self.adopts_profile = getattr(inner, "adopts_profile", False)

    def state(self, W, b):
        """``(inner state, W)``."""
        return self.inner.state(W, b), W

    def extrapolate(self, new, old, beta):
        """State of ``x + beta (x - x_old)``."""
        if beta == 0:
            return new
        return (self.inner.extrapolate(new[0], old[0], beta),
                new[1] + beta * (new[1] - old[1]))

    def value(self, state):
        """``F + q`` at the state."""
        return self.inner.value(state[0]) + self.smooth.value(state[1])

    def linearize(self, state):
        """Gradient of ``F + q``; the third entry is the inner linearisation."""
        lin = self.inner.linearize(state[0])
        return lin[0] + self.smooth.gradient(state[1]), lin[1], lin

    def decrease_violation(self, new, z, f_new, lin, dW, db, sq, step):
        """The inner test plus the exact Bregman term of ``q``, ``q(dW)``."""
        inner_f = f_new - self.smooth.value(new[1])
        extra = self.smooth.value(dW)
        return tuple(v + extra for v in self.inner.decrease_violation(
            new[0], z[0], inner_f, lin[2], dW, db, sq, step))

    def lipschitz(self, fit_intercept=True):
        """Inner constant plus :math:`c\\lambda_{\\max}` (``q`` acts on ``W``
        only, so the intercept step ratio is kept)."""
        lipschitz, ratio = self.inner.lipschitz(fit_intercept)
        return lipschitz + self.smooth.lipschitz, ratio

    def profile(self, W, b, state, *args):
        """The inner profile (intercepts; ``q`` does not depend on them, nor on
        a shift of ``W`` shared by all tasks, as the Laplacian's kernel)."""
        W, b, inner = self.inner.profile(W, b, state[0], *args)
        return W, b, (inner, W)

    def null_model(self, fit_intercept):
        """``W = 0`` and the inner null intercepts (``q(0) = 0``)."""
        W, b, inner = self.inner.null_model(fit_intercept)
        return W, b, (inner, W)

    def duality_gap(self, penalty, W, b, state, fit_intercept=True):
        """The gap of ``F + q + g`` (module docstring); ``(gap, primal, W, b)``."""
        gap_penalty = _GapPenalty(penalty, self.smooth, W)
        return self.inner.duality_gap(gap_penalty, W, b, state[0], fit_intercept)
