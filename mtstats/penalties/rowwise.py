r"""Entry- and row-separable penalties: L1, L21 (with a ridge mix), ridge.

Row ``j`` of ``W`` holds feature ``j`` across tasks, so the L21 norm
:math:`\sum_j \lVert W_{j\cdot}\rVert_2` selects features jointly for all
tasks (Obozinski, Taskar & Jordan, 2010; Argyriou, Evgeniou & Pontil, 2008).

**Non-negative coefficients** (``positive=True``, as in scikit-learn's
``Lasso(positive=True)``). The penalty becomes :math:`g(W) + \iota(W)`, with
:math:`\iota` the indicator of the orthant :math:`\{W \ge 0\}` (0 there,
:math:`+\infty` elsewhere; ``value`` returns ``inf`` at a point with a
negative entry). Every prox keeps its closed form, applied to the positive
part :math:`W_+ = \max(W, 0)`. For the L1 and row-L2 norms :math:`h`: with
:math:`v = v_+ - v_-` and :math:`z \ge 0`,
:math:`\lVert z - v\rVert^2 = \lVert z - v_+\rVert^2 + 2\langle z,
v_-\rangle + \lVert v_-\rVert^2` and :math:`\langle z, v_-\rangle \ge 0`;
the minimiser of :math:`\tfrac12\lVert z - v_+\rVert^2 + \tau h(z)`, the
(group) soft thresholding of :math:`v_+`, is :math:`\ge 0` and vanishes
where :math:`v_+` does, so it zeroes the inner product and attains the bound:
:math:`\operatorname{prox}_{\tau(h + \iota)}(v) = \operatorname{prox}_{\tau
h}(v_+)`. A ridge term divides by :math:`1 + \tau\alpha(1-\rho)` afterwards,
as without the constraint (:math:`h + \iota` is positively homogeneous). The
conjugates see only positive parts, :math:`\sup_{W \ge 0}\langle V,
W\rangle - g(W)` being a function of :math:`V_+`: for L1 the indicator of
:math:`\{V \le \alpha\}`, for L21 that of :math:`\{\max_j \lVert V_{j+}\rVert
\le \alpha\}`, for the ridge :math:`\lVert V_+\rVert_F^2 / (2\alpha)`. So
``dual_norm`` (the gauge behind ``alpha_max`` and ``dual_scaling``) is that
of :math:`V_+`, and the duality gap certifies the constrained problem.
"""

from __future__ import annotations

from array_api_compat import array_namespace

from ._base import NormPenalty, _check_alpha, frobenius_sq


def _positive_part(V, positive):
    """``max(V, 0)`` where ``positive``, else ``V`` unchanged."""
    return array_namespace(V).clip(V, 0.0, None) if positive else V


def _on_orthant(value, W, positive):
    """``value`` plus the indicator of ``W >= 0`` (``inf`` off it) where
    ``positive``; no host transfer."""
    if not positive:
        return value
    xp = array_namespace(W)
    value = xp.asarray(value, dtype=W.dtype)
    return xp.where(xp.any(W < 0), xp.asarray(xp.inf, dtype=W.dtype), value)


def _positive_repr(penalty):
    return ", positive=True" if penalty.positive else ""


class L1(NormPenalty):
    r"""Elementwise lasso, :math:`\alpha \sum_{jt} |W_{jt}|`.

    Separable over tasks: with a shared design it is one ``Lasso`` per task.
    ``positive=True`` adds the constraint :math:`W \ge 0` (module docstring):
    prox :math:`\max(W - \alpha\,\text{step}, 0)`, conjugate the indicator
    of :math:`\{V \le \alpha\}`, dual gauge :math:`\max_{jt} (V_{jt})_+`.
    """

    def __init__(self, alpha, *, positive=False):
        super().__init__(alpha)
        self.positive = bool(positive)

    def norm(self, W):
        """Sum of absolute values."""
        return array_namespace(W).sum(array_namespace(W).abs(W))

    def value(self, W):
        """``alpha * ||W||_1`` (``inf`` off the orthant when ``positive``)."""
        return _on_orthant(self.alpha * self.norm(W), W, self.positive)

    def prox(self, W, step):
        """Soft thresholding at ``alpha * step`` (of the positive part)."""
        xp = array_namespace(W)
        if self.positive:
            return xp.clip(W - self.alpha * step, 0.0, None)
        return xp.sign(W) * xp.clip(xp.abs(W) - self.alpha * step, 0.0, None)

    def dual_norm(self, G):
        """Largest absolute entry (largest positive part when ``positive``)."""
        xp = array_namespace(G)
        return xp.max(_positive_part(G, self.positive) if self.positive
                      else xp.abs(G))

    def rescaled(self, weight, scale):
        """This penalty in rescaled variables (see :meth:`NormPenalty.rescaled`)."""
        return type(self)(self.alpha * (weight * scale), positive=self.positive)

    def __repr__(self):
        return f"L1(alpha={self.alpha!r}{_positive_repr(self)})"


def _row_norms(W, xp):
    return xp.sqrt(xp.sum(W * W, axis=1))


class L21:
    r"""Group lasso over rows with an optional ridge mix.

    .. math::

        g(W) = \alpha\Big(\rho \sum_j \lVert W_{j\cdot}\rVert_2
               + \frac{1-\rho}{2}\lVert W\rVert_F^2\Big),

    with ``rho = l1_ratio``: scikit-learn's ``MultiTaskLasso`` (``rho = 1``) and
    ``MultiTaskElasticNet`` penalties exactly. ``positive=True`` adds the
    constraint :math:`W \ge 0` (module docstring): the prox shrinks the rows
    of :math:`W_+`, and the conjugate and dual norm see the rows of
    :math:`V_+` only.
    """

    def __init__(self, alpha, l1_ratio=1.0, *, positive=False):
        self.alpha = _check_alpha(alpha)
        self.l1_ratio = float(l1_ratio)
        if not 0.0 <= self.l1_ratio <= 1.0:
            raise ValueError(f"l1_ratio must be in [0, 1]; got {l1_ratio!r}.")
        self.positive = bool(positive)

    def norm(self, W):
        """The L21 norm (sum of row Euclidean norms)."""
        xp = array_namespace(W)
        return xp.sum(_row_norms(W, xp))

    def value(self, W):
        """Penalty value."""
        ridge = 0.5 * (1 - self.l1_ratio) * frobenius_sq(W)
        value = self.alpha * (self.l1_ratio * self.norm(W) + ridge)
        return _on_orthant(value, W, self.positive)

    def prox(self, W, step):
        """Group soft thresholding (of ``W_+`` if ``positive``), then ridge."""
        xp = array_namespace(W)
        W = _positive_part(W, self.positive)
        norms = _row_norms(W, xp)
        threshold = self.alpha * self.l1_ratio * step
        safe = xp.where(norms > 0, norms, xp.ones_like(norms))
        shrink = xp.clip(1 - threshold / safe, 0.0, None)
        return W * (shrink / (1 + self.alpha * (1 - self.l1_ratio) * step))[:, None]

    def dual_norm(self, G):
        """Largest row norm (dual of the L21 norm), of ``G_+`` if ``positive``."""
        xp = array_namespace(G)
        return xp.max(_row_norms(_positive_part(G, self.positive), xp))

    def dual_scaling(self, V):
        """Scale into the dual ball when the penalty is a pure norm."""
        if self.l1_ratio < 1.0 or self.alpha == 0:
            return 1.0 if self.alpha > 0 else 0.0
        norm = float(self.dual_norm(V))
        return 1.0 if norm <= self.alpha else self.alpha / norm

    def conjugate(self, V):
        r""":math:`\sum_j (\lVert V_j\rVert - \alpha\rho)_+^2 / (2\alpha(1-\rho))`
        (rows of :math:`V_+` if ``positive``)."""
        if self.l1_ratio >= 1.0 or self.alpha == 0:
            return 0.0
        xp = array_namespace(V)
        norms = _row_norms(_positive_part(V, self.positive), xp)
        excess = xp.clip(norms - self.alpha * self.l1_ratio, 0.0, None)
        return xp.sum(excess * excess) / (2 * self.alpha * (1 - self.l1_ratio))


    def rescaled(self, weight, scale):
        """This penalty in rescaled variables: ``V -> weight * g(scale * V)``.

        Used to solve at any data scale (:mod:`mtstats._scaling`). The norm
        part scales with ``scale`` and the ridge part with ``scale**2``.
        """
        norm_part = self.alpha * self.l1_ratio * (weight * scale)
        ridge_part = self.alpha * (1 - self.l1_ratio) * (weight * scale * scale)
        alpha = norm_part + ridge_part
        return L21(alpha, norm_part / alpha if alpha > 0 else self.l1_ratio,
                   positive=self.positive)

    def __repr__(self):
        return (f"L21(alpha={self.alpha!r}, l1_ratio={self.l1_ratio!r}"
                f"{_positive_repr(self)})")


class SquaredFrobenius:
    r"""Ridge, :math:`\tfrac{\alpha}{2}\lVert W\rVert_F^2` (not a norm).

    ``positive=True`` adds the constraint :math:`W \ge 0`: prox
    :math:`W_+ / (1 + \alpha\,\text{step})`, conjugate
    :math:`\lVert V_+\rVert_F^2 / (2\alpha)`.
    """

    def __init__(self, alpha, *, positive=False):
        self.alpha = _check_alpha(alpha)
        self.positive = bool(positive)

    def value(self, W):
        """Penalty value (``inf`` off the orthant when ``positive``)."""
        return _on_orthant(0.5 * self.alpha * frobenius_sq(W), W, self.positive)

    def prox(self, W, step):
        """Uniform shrinkage ``W / (1 + alpha step)`` (of ``W_+`` if ``positive``)."""
        return _positive_part(W, self.positive) / (1 + self.alpha * step)

    def dual_norm(self, G):
        """Not a norm: no ``alpha_max`` exists."""
        return None

    def dual_scaling(self, V):
        """The conjugate is finite everywhere (zero scale only when alpha=0)."""
        return 1.0 if self.alpha > 0 else 0.0

    def conjugate(self, V):
        r""":math:`\lVert V\rVert_F^2 / (2\alpha)` (:math:`V_+` if ``positive``)."""
        if not self.alpha > 0:
            return 0.0
        return frobenius_sq(_positive_part(V, self.positive)) / (2 * self.alpha)


    def rescaled(self, weight, scale):
        """This penalty in rescaled variables: ``V -> weight * g(scale * V)``.

        Used to solve at any data scale (:mod:`mtstats._scaling`). Quadratic:
        ``alpha`` scales with ``scale**2``.
        """
        return SquaredFrobenius(self.alpha * (weight * scale * scale),
                                positive=self.positive)

    def __repr__(self):
        return f"SquaredFrobenius(alpha={self.alpha!r}{_positive_repr(self)})"
