r"""One pass over a chunk of rows for the proximal-Newton outer loop.

At the point :math:`(W, b)` (solver units) a pass returns, summed over the
chunk's rows :math:`i` of task :math:`t`, with :math:`\tilde x_i = (x_i -
c_t)/c_x`, :math:`\eta_i = \tilde x_i^\top w_t + b_t`, :math:`p_i =
\sigma(\eta_i)`, :math:`h_i = p_i(1 - p_i)` and row weights :math:`s_i =
a_t v_i`:

* the loss :math:`\sum_i s_i\, l(\eta_i, y_i)`;
* the gradient :math:`G_t = \sum_i s_i (p_i - y_i)\tilde x_i` and
  :math:`g_t = \sum_i s_i (p_i - y_i)`;
* the Hessian blocks :math:`H_t = \sum_i s_i h_i \tilde x_i\tilde x_i^\top`,
  :math:`m_t = \sum_i s_i h_i \tilde x_i`, :math:`n_t = \sum_i s_i h_i`;
* optionally, at an earlier point, the dual term of its duality gap
  (:mod:`mtstats.solvers.prox_newton`), so that the gap of step ``k`` costs
  no pass of its own.

Every output is a sum over rows, so chunks add up: the pass over data out
of core is this function mapped over the partitions and summed
(:mod:`mtstats._dask`). Memory is that of the chunk plus :math:`O(T d^2)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..losses import LogisticLoss
from ..task_grams import per_task_gram, per_task_sums

__all__ = ["PassPlan", "add_passes", "chunk_pass"]

_LOSS = LogisticLoss()


@dataclass(frozen=True)
class PassPlan:
    """What every chunk needs to map its rows to the solver's units."""

    offsets: np.ndarray   # (T, d) feature offsets c_t
    x_scale: float        # c_x
    per_row: np.ndarray   # (T,) a_t with s_i = a_t v_i


def _linear_predictor(Xs, index, W, b):
    """``eta_i = x_i^T w_{t(i)} + b_{t(i)}`` (one column ``W`` when pooled)."""
    if W.shape[1] == 1:
        return Xs @ W[:, 0] + b[index]
    return np.einsum("ij,ij->i", Xs, W.T[index]) + b[index]


def chunk_pass(X, index, y, v, plan, W, b, dual=None):
    """Sums of one chunk (see the module docstring) as a dict of arrays.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Raw features of the chunk.
    index : int ndarray of shape (n,)
        Task of every row (position in the fit's tasks).
    y : ndarray of shape (n,)
        Labels encoded 0/1.
    v : ndarray of shape (n,)
        Sample weights (ones without).
    plan : PassPlan
        Offsets, scale and row-weight factors of the fit.
    W, b : ndarrays
        The point: (d, T) or (d, 1) pooled, and (T,).
    dual : tuple ``(W0, b0, kappa, rho)``, optional
        Also the dual term :math:`-\\sum_i s_i H(q_i)` at ``(W0, b0)`` with
        :math:`q_i = y_i + \rho(p_i + \\kappa_t h_i - y_i)`.
    """
    T = plan.per_row.shape[0]
    Xs = (X - plan.offsets[index]) / plan.x_scale
    s = plan.per_row[index] * v
    eta = _linear_predictor(Xs, index, W, b)
    p = _LOSS.inverse_link(eta)
    residual = s * (p - y)
    h = s * p * (1.0 - p)
    out = {"value": np.array(_LOSS.value(eta, y, s)),
           "G": per_task_sums(residual[:, None] * Xs, index, T),
           "g_b": np.bincount(index, weights=residual, minlength=T),
           "H": per_task_gram(Xs, index, T, h),
           "m": per_task_sums(h[:, None] * Xs, index, T),
           "n": np.bincount(index, weights=h, minlength=T)}
    if dual is not None:
        W0, b0, kappa, rho = dual
        p0 = _LOSS.inverse_link(_linear_predictor(Xs, index, W0, b0))
        q = p0 + kappa[index] * p0 * (1.0 - p0)
        out["dual"] = np.array(_LOSS.dual(-rho * s * (q - y), y, s))
    return out


def add_passes(first, second):
    """The sums of two chunks' passes."""
    return {key: first[key] + second[key] for key in first}
