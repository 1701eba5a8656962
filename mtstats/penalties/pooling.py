r"""Partial pooling: a shared mean model left free, and intercepts shrunk together.

A mixed model with random intercepts and random slopes shrinks every task's
coefficients towards the *population mean*, not towards zero, and every
task's intercept towards a common intercept. :class:`PartialPooling` gives
any penalty on the coefficient matrix ``W`` (n_features x n_tasks) both
properties:

* ``free_mean=True`` -- the decomposition :math:`W = w_0\mathbf 1^\top + V`
  with :math:`V\mathbf 1 = 0`: the shared mean model
  :math:`w_0 = \tfrac1T W\mathbf 1` is unpenalised and the structure acts on
  the deviations, :math:`g_c(W) = g(WP)`, :math:`P = I - \tfrac1T\mathbf
  1\mathbf 1^\top`. For the penalties whose proximal operator preserves
  the subspace :math:`\{Z: Z\mathbf 1 = 0\}` (the row-wise L21/ridge mix,
  the squared Frobenius norm, and every spectral penalty: trace norm,
  cluster norm) the proximal operator splits exactly over the orthogonal
  parts :math:`W\tfrac1T\mathbf 1\mathbf 1^\top` (kept) and :math:`WP`
  (proxed); the conjugate is :math:`g^*(Z)` on :math:`Z\mathbf 1 = 0` and
  :math:`+\infty` elsewhere, and the dual norm is that of :math:`ZP`. For
  the L21 and squared Frobenius norms :math:`g(WP) = \min_{w}
  g(W - w\mathbf 1^\top)`, so centring and an unpenalised free shift are
  the same model. The elementwise L1 norm does not preserve centring and is
  refused, and so is a non-negativity constraint (``positive=True``):
  :math:`W \ge 0` bounds the sum :math:`w_0\mathbf 1^\top + V`, so the
  proximal operator no longer splits over the two parts.
* ``intercept_prior`` -- a quadratic penalty on the intercepts at the grand
  mean of the features, :math:`q(u) = \tfrac12\min_\mu\sum_t\kappa_t(u_t -
  \mu)^2`, the penalised form of a random intercept :math:`u_t \sim N(\mu,
  \tau^2)` with grand-mean-centred covariates (:class:`InterceptPrior`).
  It is smooth, so the datafit adds it (:mod:`mtstats.datafits.pooling`);
  this class only carries it there.

The solver needs stationarity in the free directions (the pooled gradient
:math:`G\mathbf 1` and the intercept gradient) for its duality gap; the
datafit of :mod:`mtstats.datafits.pooling` profiles them out before every
gap, as it does for plain intercepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from array_api_compat import array_namespace

from .rowwise import L1

__all__ = ["InterceptPrior", "PartialPooling"]


@dataclass(frozen=True)
class InterceptPrior:
    r"""The intercept penalty :math:`\tfrac12\min_\mu\sum_t\kappa_t(u_t -
    \mu)^2` in the solver's variables.

    It acts on the intercepts at the grand mean of the features, :math:`u_t
    = b_t + a_t`: the solver centres the features on their grand mean
    (:func:`mtstats._designs.build_design`, ``center="global"``), so its
    intercepts ``b`` are those intercepts up to the subtracted target means
    :math:`a_t` (regression; zero for classifiers).

    Attributes
    ----------
    kappa : array of shape (n_tasks,)
        Weights :math:`\kappa_t > 0`.
    anchor : array of shape (n_tasks,)
        :math:`a_t`.
    """

    kappa: object
    anchor: object


def center_tasks(W):
    """``W P``: every row of ``W`` minus its mean over the tasks (columns)."""
    xp = array_namespace(W)
    return W - xp.mean(W, axis=1, keepdims=True)


class PartialPooling:
    """A penalty with a free shared mean and/or shrunk intercepts.

    Parameters
    ----------
    penalty : object
        The structure penalty (:mod:`mtstats.penalties`), acting on ``W`` or,
        with ``free_mean``, on the deviations ``W P``.
    free_mean : bool
        Leave the mean model :math:`w_0` unpenalised.
    intercept_prior : InterceptPrior or None
        The intercept penalty, in the solver's namespace; ``None`` for
        unpenalised intercepts.
    """

    def __init__(self, penalty, free_mean=False, intercept_prior=None):
        if free_mean and isinstance(penalty, L1):
            raise ValueError("The elementwise L1 penalty cannot be centred on a "
                             "shared mean (its proximal operator does not keep "
                             "deviations summing to zero); use penalty='l2' or a "
                             "group penalty with shared_mean=True.")
        if free_mean and getattr(penalty, "positive", False):
            raise ValueError("positive=True cannot be combined with shared_mean=True: "
                             "the constraint W >= 0 couples the free shared mean "
                             "and the centred deviations, so the proximal "
                             "operator no longer splits over them. Use "
                             "shared_mean=False with positive=True.")
        self.penalty = penalty
        self.free_mean = bool(free_mean)
        self.intercept_prior = intercept_prior

    @property
    def alpha(self):
        """Strength of the structure penalty."""
        return self.penalty.alpha

    @property
    def l1_ratio(self):
        """``l1_ratio`` of the structure penalty (1 for pure norms)."""
        return getattr(self.penalty, "l1_ratio", 1.0)

    def _part(self, W):
        return center_tasks(W) if self.free_mean else W

    def value(self, W):
        """``g(W P)`` (or ``g(W)`` without a free mean)."""
        return self.penalty.value(self._part(W))

    def prox(self, W, step):
        """Mean part kept, deviations proxed (the parts are orthogonal)."""
        if not self.free_mean:
            return self.penalty.prox(W, step)
        xp = array_namespace(W)
        mean = xp.mean(W, axis=1, keepdims=True)
        return mean + center_tasks(self.penalty.prox(W - mean, step))

    def dual_norm(self, G):
        """Dual norm of ``G P``; ``None`` where the penalty is not a norm."""
        return self.penalty.dual_norm(self._part(G))

    def dual_scaling(self, V):
        """Scaling of the structure penalty at ``V P``."""
        return self.penalty.dual_scaling(self._part(V))

    def conjugate(self, V):
        """``g^*(V P)``: ``V 1 = 0`` is enforced by profiling the mean model."""
        return self.penalty.conjugate(self._part(V))

    def __repr__(self):
        prior = None if self.intercept_prior is None else "..."
        return (f"PartialPooling({self.penalty!r}, free_mean={self.free_mean}, "
                f"intercept_prior={prior})")
