r"""Elementwise losses on the linear predictor.

Every loss is a sum over rows (and tasks) of ``s * l(eta, y)``, where the
sample weights ``s`` carry the per-task averaging: ``s = w_t / n_t`` on the
observed rows of task ``t``. A loss knows nothing about designs or
penalties; it provides

* ``value(eta, y, s)``: :math:`\sum_i s_i\, l(\eta_i, y_i)`,
* ``gradient(eta, y, s)``: :math:`s_i\, \partial l / \partial \eta_i`,
* ``curvature(eta, y)``: :math:`\partial^2 l / \partial \eta^2` (the IRLS
  weights), with the global bound ``curvature_bound``,
* ``bregman(eta, zeta, y)``: the elementwise Bregman divergence
  :math:`l(\eta) - l(\zeta) - l'(\zeta)(\eta - \zeta)`, computed without
  the cancellation of that difference (the solver's line-search test),
* ``dual(theta, y, s)``: :math:`-\sum_i F_i^*(-\theta_i)`, the loss part of
  the Fenchel dual objective used for duality gaps,
* ``inverse_link(eta)``: the mean function.

All methods are written against the array API standard.
"""

from __future__ import annotations

from array_api_compat import array_namespace

__all__ = ["LogisticLoss", "SquaredLoss"]


class SquaredLoss:
    r"""Half squared error, :math:`l(\eta, y) = \tfrac12 (y - \eta)^2`.

    With equal task weights and a fully observed shared design the objective
    :math:`\sum_t \frac{1}{2n}\lVert y_t - X w_t - b_t\rVert^2` is exactly
    scikit-learn's ``MultiTaskLasso`` data fit.
    """

    name = "squared"
    curvature_bound = 1.0

    def value(self, eta, y, s):
        """Weighted sum of losses."""
        xp = array_namespace(eta, y, s)
        residual = eta - y
        return 0.5 * xp.sum(s * residual * residual)

    def gradient(self, eta, y, s):
        """Weighted derivative with respect to ``eta``."""
        return s * (eta - y)

    def curvature(self, eta, y):
        """Second derivative (identically one)."""
        return array_namespace(eta).ones_like(eta)

    def bregman(self, eta, zeta, y):
        r"""Elementwise Bregman divergence :math:`\tfrac12(\eta - \zeta)^2`."""
        diff = eta - zeta
        return 0.5 * diff * diff

    def dual(self, theta, y, s):
        r"""Dual objective term :math:`\sum_i \theta_i y_i - \theta_i^2/(2 s_i)`.

        Rows with ``s_i = 0`` (unobserved labels) must have ``theta_i = 0`` and
        contribute nothing.
        """
        xp = array_namespace(theta, y, s)
        positive = s > 0
        safe_s = xp.where(positive, s, xp.ones_like(s))
        term = theta * y - theta * theta / (2 * safe_s)
        return xp.sum(xp.where(positive, term, xp.zeros_like(term)))

    def inverse_link(self, eta):
        """Identity."""
        return eta


def _sigmoid(eta, xp):
    decay = xp.exp(-xp.abs(eta))
    return xp.where(eta >= 0, 1 / (1 + decay), decay / (1 + decay))


def _xlogx(q, xp):
    positive = q > 0
    safe = xp.where(positive, q, xp.ones_like(q))
    return xp.where(positive, q * xp.log(safe), xp.zeros_like(q))


class LogisticLoss:
    r"""Binary log-loss, :math:`l(\eta, y) = \log(1 + e^\eta) - y\eta`, y in {0, 1}.

    ``eta`` is the log-odds of the positive class (``classes_[1]``).
    """

    name = "logistic"
    curvature_bound = 0.25
    newton_step_limit = 4.0  # log-odds units per intercept Newton step

    def value(self, eta, y, s):
        """Weighted sum of losses, computed stably with ``logaddexp``."""
        xp = array_namespace(eta, y, s)
        return xp.sum(s * (xp.logaddexp(xp.zeros_like(eta), eta) - y * eta))

    def gradient(self, eta, y, s):
        """Weighted derivative ``s (p - y)``."""
        return s * (_sigmoid(eta, array_namespace(eta)) - y)

    def curvature(self, eta, y):
        """Second derivative ``p (1 - p)``."""
        p = _sigmoid(eta, array_namespace(eta))
        return p * (1 - p)

    def bregman(self, eta, zeta, y):
        r"""Elementwise Bregman divergence of the log-loss (``y`` cancels).

        With :math:`\Delta = \eta - \zeta`, :math:`\sigma = \operatorname{sign}
        \zeta` and :math:`q = 1/(1 + e^{|\zeta|})`,

        .. math::

            l(\eta) - l(\zeta) - l'(\zeta)\Delta
            = \operatorname{log1p}\big(q\operatorname{expm1}(-\sigma\Delta)\big)
              + \sigma q\Delta,

        whose two terms are of order :math:`q|\Delta|`, not of order
        :math:`l(\eta)`: the divergence keeps its relative precision for
        small steps.
        """
        xp = array_namespace(eta, zeta)
        diff = eta - zeta
        sign = xp.where(zeta >= 0, xp.ones_like(zeta), -xp.ones_like(zeta))
        q = _sigmoid(-xp.abs(zeta), xp)
        return xp.log1p(q * xp.expm1(-sign * diff)) + sign * q * diff

    def dual(self, theta, y, s):
        r"""Dual term :math:`-\sum_i s_i\, [q_i \log q_i + (1-q_i)\log(1-q_i)]`.

        Here :math:`q_i = y_i - \theta_i / s_i` must lie in [0, 1]; it does for
        any ``theta`` that is a scaled (factor in [0, 1]) negative gradient.
        """
        xp = array_namespace(theta, y, s)
        positive = s > 0
        safe_s = xp.where(positive, s, xp.ones_like(s))
        q = xp.clip(y - theta / safe_s, 0.0, 1.0)
        entropy = _xlogx(q, xp) + _xlogx(1 - q, xp)
        return -xp.sum(xp.where(positive, s * entropy, xp.zeros_like(s)))

    def inverse_link(self, eta):
        """Logistic sigmoid, the probability of the positive class."""
        return _sigmoid(eta, array_namespace(eta))
