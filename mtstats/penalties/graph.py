r"""Graph-regularised penalty: a sparse-group norm plus a task-graph Laplacian.

.. math::

    g(W) = \alpha\rho\,N(W) + \frac{\alpha(1-\rho)}{2}\sum_{(s,t)\in E}
           a_{st}\lVert W_{\cdot s} - W_{\cdot t}\rVert_2^2,\qquad
    N(W) = (1-m)\lVert W\rVert_1 + m\sum_j\lVert W_{j\cdot}\rVert_2,

with ``rho = l1_ratio``, ``m = l21_ratio`` and ``a`` the weighted adjacency
of a task graph; the quadratic is :math:`\tfrac{\alpha(1-\rho)}{2}
\operatorname{tr}(W\Lambda W^\top)`, :math:`\Lambda = D - A` the graph
Laplacian. This is MALSAR's SRMTL (``m = 0``) and, on a chain of tasks,
its temporal group lasso (TGL, ``m > 0``) (Zhou, Chen & Ye 2011; Zhou,
Yuan, Liu & Ye, KDD 2011).

The quadratic is smooth: the datafit adds it to the loss
(:class:`~mtstats.datafits.smooth.SmoothDatafit`, through ``smooth``), and
``value``, ``prox``, ``dual_norm``, ``dual_scaling`` and ``conjugate`` of
:class:`GraphPenalty` are those of the non-smooth part :math:`\alpha\rho N`
only. Its prox is closed form: entrywise soft thresholding, then row-wise
group shrinkage (the sparse-group-lasso prox; Friedman, Hastie & Tibshirani
2010; Simon et al. 2013). With ``positive=True`` the entries are clipped at
zero before the group shrinkage (the indicator of :math:`W \ge 0` is added).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from array_api_compat import array_namespace

from .._backend import to_namespace
from ._base import _check_alpha

__all__ = ["GraphPenalty", "LaplacianQuadratic", "graph_laplacian"]

#: Relative step to the left of the closed-form root of the sparse-group dual
#: norm (beyond its rounding), and most Newton steps polishing it from there.
NEWTON_BACKOFF = 1e-6
MAX_NEWTON = 100


def graph_laplacian(adjacency):
    """``D - A`` of a symmetric non-negative adjacency (NumPy, diagonal ignored)."""
    A = np.array(adjacency, dtype=np.float64)
    np.fill_diagonal(A, 0.0)
    return np.diag(A.sum(axis=1)) - A


@dataclass(frozen=True)
class LaplacianQuadratic:
    r"""The smooth part :math:`q(W) = \tfrac{c}{2}\operatorname{tr}(W\Lambda W^\top)`.

    Attributes
    ----------
    laplacian : array of shape (n_tasks, n_tasks)
        :math:`\Lambda`, in the solver's namespace.
    eigmax : float
        Its largest eigenvalue.
    strength : float
        :math:`c = \alpha(1-\rho)`.
    """

    laplacian: object
    eigmax: float
    strength: float

    def gradient(self, W):
        r""":math:`c\,W\Lambda`."""
        return self.strength * (W @ self.laplacian)

    def value(self, W):
        r""":math:`\tfrac12\langle W, c\,W\Lambda\rangle`."""
        return 0.5 * array_namespace(W).sum(W * self.gradient(W))

    @property
    def lipschitz(self):
        """Lipschitz constant of the gradient, :math:`c\\,\\lambda_{\\max}`."""
        return self.strength * self.eigmax


def _psi(s, a, r, m, xp):
    """``psi(a)`` of :func:`_row_dual_norms` and its slope (<= -1 where > 0)."""
    excess = xp.clip(s - a[:, None] * r, 0.0, None)
    norm = xp.sqrt(xp.sum(excess * excess, axis=1))
    slope = -r * xp.sum(excess, axis=1) / xp.where(norm > 0, norm, 1.0) - m
    return norm - a * m, slope


def _row_dual_norms(S, m, xp):
    r"""Dual norm of :math:`(1-m)\lVert\cdot\rVert_1 + m\lVert\cdot\rVert_2` of
    every row of ``S`` (entries >= 0).

    The dual ball is :math:`(1-m)B_\infty + mB_2`, so the dual norm of a row
    ``s`` is the root ``a`` of :math:`\psi(a) = \lVert(s - ar)_+\rVert_2 - am`
    (``r = 1 - m``), convex and decreasing with slope at most :math:`-(r + m)
    = -1` where positive, so its root is well conditioned. On the piece
    where the ``k`` largest entries exceed :math:`ar`, :math:`\psi = 0` is
    the quadratic :math:`(kr^2 - m^2)a^2 - 2rS_1a + S_2 = 0` (``S_1, S_2`` the
    sums of those entries and of their squares); the piece is found from the
    signs at the breakpoints :math:`a = s_{(k)}/r` and the root taken in a
    cancellation-free form. Its discriminant still cancels where
    :math:`m \ll 1` (relative error up to :math:`\sqrt{\epsilon}`), so the
    root, moved slightly left (or to the lower bound :math:`\max_i s_i`), is
    polished by Newton steps on :math:`\psi`: from the left of the root of a
    convex decreasing function they rise monotonically to it.
    """
    if m == 0.0:
        return xp.max(S, axis=1)
    if m == 1.0:
        return xp.sqrt(xp.sum(S * S, axis=1))
    r = 1.0 - m
    s = xp.sort(S, axis=1, descending=True)
    S1, S2 = xp.cumulative_sum(s, axis=1), xp.cumulative_sum(s * s, axis=1)
    k = xp.arange(1, s.shape[1] + 1, dtype=s.dtype)
    # psi * (psi + 2am) at the breakpoints a = s_k / r (<= 0 up to the piece)
    before1, before2 = S1 - s, S2 - s * s
    at_break = before2 - 2 * s * before1 + (k - 1) * s * s - (s * (m / r)) ** 2
    count = xp.sum(xp.astype(at_break <= 0, s.dtype), axis=1)
    pick = xp.astype(k[None, :] == xp.clip(count, 1.0, None)[:, None], s.dtype)
    n_act, sum1, sum2 = (xp.sum(pick * v, axis=1) for v in (k[None, :], S1, S2))
    A, B = n_act * r * r - m * m, r * sum1
    root = xp.sqrt(xp.clip(B * B - A * sum2, 0.0, None))
    nonzero = B > 0
    a = xp.where(nonzero, sum2 / xp.where(nonzero, B + root, 1.0), 0.0)
    a = xp.maximum(a * (1.0 - NEWTON_BACKOFF), s[:, 0])
    value, _ = _psi(s, a, r, m, xp)
    a = xp.where(value >= 0, a, s[:, 0])  # max_i s_i is always left of the root
    top = float(xp.max(a)) if a.shape[0] else 0.0
    for _ in range(MAX_NEWTON):
        value, slope = _psi(s, a, r, m, xp)
        step = xp.where(value > 0, -value / slope, 0.0)
        a = a + step
        if float(xp.max(step)) <= 2 * float(xp.finfo(s.dtype).eps) * top:
            break
    return a


class GraphPenalty:
    r"""Sparse-group norm plus a graph Laplacian quadratic (module docstring).

    Parameters
    ----------
    alpha : float
        Overall strength.
    l1_ratio : float in [0, 1], default=0.5
        :math:`\rho`, the share of the non-smooth part.
    l21_ratio : float in [0, 1], default=0.0
        :math:`m`, the share of the row (group) norm inside :math:`N`.
    positive : bool, default=False
        Constrain :math:`W \ge 0`.
    graph : tuple (laplacian, eigmax) or None
        The Laplacian in the solver's namespace and its largest eigenvalue
        (:meth:`on_graph`); ``None`` until the tasks are known.
    """

    def __init__(self, alpha, l1_ratio=0.5, l21_ratio=0.0, positive=False,
                 graph=None):
        self.alpha = _check_alpha(alpha)
        self.l1_ratio, self.l21_ratio = float(l1_ratio), float(l21_ratio)
        for name, value in (("l1_ratio", self.l1_ratio),
                            ("l21_ratio", self.l21_ratio)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]; got {value!r}.")
        self.positive, self.graph = bool(positive), graph

    def _replace(self, **changes):
        params = dict(alpha=self.alpha, l1_ratio=self.l1_ratio,
                      l21_ratio=self.l21_ratio, positive=self.positive,
                      graph=self.graph)
        return GraphPenalty(**{**params, **changes})

    def on_graph(self, adjacency, xp, dtype):
        """This penalty on the task graph ``adjacency`` (NumPy, T x T)."""
        lap = graph_laplacian(adjacency)
        eigmax = float(np.linalg.eigvalsh(lap)[-1]) if lap.size else 0.0
        return self._replace(graph=(to_namespace(xp, lap, dtype), max(eigmax, 0.0)))

    @property
    def threshold(self):
        """Strength of the non-smooth part, :math:`\\alpha\\rho`."""
        return self.alpha * self.l1_ratio

    @property
    def smooth(self):
        """The :class:`LaplacianQuadratic` (``None`` when it vanishes)."""
        if self.graph is None:
            raise ValueError("The task graph of this GraphPenalty is not set; "
                             "call on_graph() with the tasks' adjacency first.")
        strength = self.alpha * (1.0 - self.l1_ratio)
        laplacian, eigmax = self.graph
        if strength == 0.0 or eigmax == 0.0:
            return None
        return LaplacianQuadratic(laplacian, eigmax, strength)

    def norm(self, W):
        """:math:`N(W)`."""
        xp, m = array_namespace(W), self.l21_ratio
        rows = xp.sum(xp.sqrt(xp.sum(W * W, axis=1))) if m > 0 else 0.0
        return (1.0 - m) * xp.sum(xp.abs(W)) + m * rows

    def value(self, W):
        """:math:`\\alpha\\rho N(W)` (``inf`` off :math:`W \\ge 0` when positive)."""
        value = self.threshold * self.norm(W)
        if self.positive:
            xp = array_namespace(W)
            value = xp.where(xp.any(W < 0), xp.inf, value)
        return value

    def prox(self, W, step):
        """Soft threshold (clip at 0 first when positive), then shrink rows."""
        xp, m = array_namespace(W), self.l21_ratio
        t1, t2 = self.threshold * step * (1.0 - m), self.threshold * step * m
        if self.positive:
            Z = xp.clip(W - t1, 0.0, None)
        else:
            Z = xp.sign(W) * xp.clip(xp.abs(W) - t1, 0.0, None)
        if t2 > 0:
            norms = xp.sqrt(xp.sum(Z * Z, axis=1))
            safe = xp.where(norms > 0, norms, 1.0)
            Z = Z * xp.clip(1.0 - t2 / safe, 0.0, None)[:, None]
        return Z

    def _dual(self, G):
        xp = array_namespace(G)
        S = xp.clip(G, 0.0, None) if self.positive else xp.abs(G)
        return xp.max(_row_dual_norms(S, self.l21_ratio, xp))

    def dual_norm(self, G):
        """Dual norm of :math:`N` (of the positive part when positive); ``None``
        when ``l1_ratio = 0`` (no ``alpha`` zeroes the coefficients)."""
        return None if self.l1_ratio == 0.0 else self._dual(G)

    def dual_scaling(self, V):
        """Largest ``c <= 1`` with ``c V`` in the domain of the conjugate."""
        if self.threshold == 0.0:
            return 0.0
        norm = float(self._dual(V))
        return 1.0 if norm <= self.threshold else self.threshold / norm

    @property
    def conjugate(self):
        """Zero on the scaled domain; absent when there is no non-smooth part
        (the solver then stops on the gradient-mapping residual)."""
        if self.threshold == 0.0:
            raise AttributeError("GraphPenalty without a non-smooth part has no "
                                 "duality gap.")
        return _zero_conjugate

    def rescaled(self, weight, scale):
        """``V -> weight * g(scale * V)``: the norm part scales with
        ``weight * scale``, the quadratic with ``weight * scale**2``."""
        norm_part = self.threshold * (weight * scale)
        smooth_part = self.alpha * (1.0 - self.l1_ratio) * (weight * scale * scale)
        alpha = norm_part + smooth_part
        return self._replace(alpha=alpha,
                             l1_ratio=norm_part / alpha if alpha > 0 else self.l1_ratio)

    def __repr__(self):
        return (f"GraphPenalty(alpha={self.alpha!r}, l1_ratio={self.l1_ratio!r}, "
                f"l21_ratio={self.l21_ratio!r}, positive={self.positive!r})")


def _zero_conjugate(V):
    """The conjugate of a gauge on its domain."""
    return 0.0
