"""Shared machinery of the penalties: the Fenchel-conjugate bookkeeping.

A penalty ``g(W) = alpha * Omega(W)`` on the coefficient matrix ``W``
(n_features x n_tasks) offers

* ``value(W)``: ``alpha * Omega(W)``,
* ``prox(W, step)``: :math:`\\arg\\min_Z \\tfrac12\\lVert Z - W\\rVert_F^2 +
  \\text{step}\\cdot g(Z)` (threshold ``alpha * step``),
* ``dual_norm(G)``: the dual norm of ``Omega`` (``alpha_max`` and gaps), or
  ``None`` where ``Omega`` is not a norm,
* ``dual_scaling(V)`` and ``conjugate(V)``: a factor ``c`` in (0, 1] that puts
  ``c V`` in the domain of :math:`g^*`, and :math:`g^*(V)` there. Together they
  turn any gradient into a feasible dual point (see
  :func:`mtstats.solvers.fista.duality_gap`).
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace


def _check_alpha(alpha):
    alpha = float(alpha)
    if not alpha >= 0:
        raise ValueError(f"alpha must be a non-negative number; got {alpha!r}.")
    return alpha


class NormPenalty:
    """``alpha * Omega`` with ``Omega`` a norm: its conjugate is the indicator
    of the dual-norm ball of radius ``alpha``.

    Subclasses define ``norm``, ``prox`` and ``dual_norm``.
    """

    def __init__(self, alpha):
        self.alpha = _check_alpha(alpha)

    def value(self, W):
        """Penalty value ``alpha * Omega(W)``."""
        return self.alpha * self.norm(W)

    def dual_scaling(self, V):
        """Largest ``c <= 1`` with ``dual_norm(c V) <= alpha``."""
        norm = float(self.dual_norm(V))
        return 1.0 if norm <= self.alpha else self.alpha / norm

    def conjugate(self, V):
        """Zero: ``V`` is assumed scaled into the dual ball."""
        return 0.0

    def rescaled(self, weight, scale):
        """This penalty in rescaled variables: ``V -> weight * g(scale * V)``.

        Used to solve at any data scale (:mod:`mtstats._scaling`). A norm is
        positively homogeneous, so only ``alpha`` changes.
        """
        return type(self)(self.alpha * (weight * scale))

    def __repr__(self):
        return f"{type(self).__name__}(alpha={self.alpha!r})"


def is_norm(penalty):
    """Whether ``penalty`` is ``alpha`` times a norm (has a dual norm, hence an
    ``alpha_max``): its ``is_norm`` attribute, else whether ``dual_norm``
    answers on a 1 x 1 zero matrix."""
    flag = getattr(penalty, "is_norm", None)
    if flag is not None:
        return bool(flag)
    return penalty.dual_norm(np.zeros((1, 1))) is not None


def frobenius_sq(W):
    """Squared Frobenius norm."""
    xp = array_namespace(W)
    return xp.sum(W * W)
