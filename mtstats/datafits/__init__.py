r"""Datafits: the smooth part of the objective, seen from coefficient space.

The solver (:func:`mtstats.solvers.solve`) never touches rows, losses or
designs directly; it talks to a *datafit* for
:math:`F(W, b) = \sum_i s_i\, l(\eta_i, y_i)`, :math:`\eta = A(W, b)`, through

* ``state(W, b)``: a representation of the point that is **linear** in
  ``(W, b)``, and ``extrapolate(new, old, beta)`` to combine two of them, so
  the momentum step of FISTA costs no product with the data;
* ``value(state)`` and ``linearize(state) -> (G, g_b, scale)``: the loss and
  its gradient with respect to ``(W, b)``;
* ``decrease_violation(...)``: the sufficient-decrease test of the line
  search, with its rounding allowance;
* ``lipschitz(fit_intercept) -> (L, ratio)``: the Lipschitz constant in the
  solver's metric and the intercepts' step ratio (:func:`._common.step_metric`);
* ``profile(W, b, state)`` (optimal intercepts for fixed ``W``),
  ``null_model(fit_intercept)`` and ``duality_gap(penalty, W, b, state,
  fit_intercept)``.

Two implementations (in the spirit of skglm's ``Quadratic`` and its Gram
variant; Bertrand et al., "Beyond L1: faster and better sparse models with
skglm", NeurIPS 2022):

* :class:`RowDatafit` -- any loss on the rows of any design; state ``eta``.
* :class:`GramDatafit` -- the squared loss from per-task Gram statistics;
  an iteration costs O(d^2 T) instead of O(n d T).

:func:`make_datafit` picks the Gram form for the plain squared loss when a
flop count says it pays (:func:`~mtstats.datafits.grams.gram_pays`) and
caches the statistics on the design, so repeated solves on the same data (a
regularisation path, warm starts) compute them once.
"""

from __future__ import annotations

from .._statistics_design import has_rows
from ..penalties.pooling import PartialPooling
from ._common import is_plain_squared
from .gram import GramDatafit
from .grams import GramStatistics, gram_pays, task_grams
from .pooling import PoolingDatafit
from .rows import RowDatafit
from .smooth import SmoothDatafit

__all__ = ["GramDatafit", "PoolingDatafit", "RowDatafit", "GramStatistics",
           "make_datafit"]


def make_datafit(loss, design, y, s, gram="auto", penalty=None):
    """The datafit for ``loss`` on ``design`` with targets ``y``, weights ``s``.

    Parameters
    ----------
    loss, design : objects
        See :mod:`mtstats.losses` and :mod:`mtstats._designs`.
    y, s : arrays shaped like the linear predictor
        Targets and sample weights.
    gram : {"auto", True, False}, default="auto"
        Gram statistics for the plain squared loss: when they pay ("auto"),
        always (True) or never (False). Other losses always use rows.
    penalty : object, optional
        A :class:`~mtstats.penalties.PartialPooling` penalty (a free shared
        mean, shrunk intercepts) wraps the datafit in a
        :class:`~mtstats.datafits.pooling.PoolingDatafit`; a penalty (or the
        penalty inside it) with a ``smooth`` quadratic part wraps it in a
        :class:`~mtstats.datafits.smooth.SmoothDatafit`; other penalties
        change nothing.

    Returns
    -------
    RowDatafit, GramDatafit, PoolingDatafit or SmoothDatafit
    """
    inner = _plain_datafit(loss, design, y, s, gram)
    pooled = isinstance(penalty, PartialPooling)
    if pooled:
        inner = PoolingDatafit(inner, penalty.free_mean, penalty.intercept_prior)
    # a smooth part of the penalty (graph Laplacian) joins the datafit
    smooth = getattr(penalty.penalty if pooled else penalty, "smooth", None)
    return inner if smooth is None else SmoothDatafit(inner, smooth)


def _plain_datafit(loss, design, y, s, gram):
    if not has_rows(design):  # statistics only (out of core): Gram or nothing
        if not is_plain_squared(loss):
            raise ValueError(f"{type(loss).__name__} needs rows; this design "
                             "holds only Gram statistics.")
    elif gram is False or not is_plain_squared(loss) or (
            gram == "auto" and not gram_pays(design, s)):
        return RowDatafit(loss, design, y, s)
    cached = getattr(design, "_gram_cache", None)
    if cached is not None and cached[0] is y and cached[1] is s:
        grams = cached[2]
    else:
        grams = task_grams(design, y, s)
        design._gram_cache = (y, s, grams)
    return GramDatafit(grams, design, y.dtype)
