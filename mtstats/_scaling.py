r"""Exact internal rescaling, so that a fit works at any finite data scale.

The solver works in double (or single) precision on quantities such as
:math:`\lVert y - XW\rVert^2` and :math:`X^\top X`, which overflow long before
the data do: data around 1e100 once made every estimator fail. Before solving,
``X`` is divided by :math:`c_x` and (squared loss) ``y`` by :math:`c_y`, both
**powers of two** chosen from the largest absolute entry, so the division is
exact in floating point. Data within ``SAFE_RANGE`` of unit scale are left as
they are. The problem in the new variables
:math:`V = W c_x / c_y` is the original one up to the factor :math:`c_y^2`:

.. math::

    \tfrac{1}{2}\lVert y - XW\rVert^2 + g(W)
    = c_y^2\Big(\tfrac{1}{2}\lVert \tilde y - \tilde X V\rVert^2
      + c_y^{-2}\, g\big(V c_y / c_x\big)\Big),

and for the logistic loss (``y`` is not scaled, :math:`c_y = 1`)
:math:`l(\tilde X V) + g(V / c_x)`. The penalty in the new variables is again
a penalty of the same family with rescaled strengths (every penalty's
``rescaled(weight, scale)`` method), so prox, conjugate and duality gap stay
exact. Fitted coefficients, intercepts, objective
and duality gap are mapped back to the original scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

#: Data whose largest entry lies within [1 / SAFE_RANGE, SAFE_RANGE] are solved
#: as they are (rescaling is exact, but it changes the relative scale of the
#: intercepts and so the solver's path); only data beyond are rescaled.
SAFE_RANGE = 2.0**20


def power_of_two_scale(values):
    """A power of two near ``max |values|`` when that lies outside the safe
    range (``1 / SAFE_RANGE`` to ``SAFE_RANGE``), else 1. A sparse matrix
    is read through its stored entries only."""
    if sparse.issparse(values):
        values = values.data
    largest = float(np.max(np.abs(values))) if np.size(values) else 0.0
    if not largest > 0.0 or not math.isfinite(largest) or (
            1.0 / SAFE_RANGE <= largest <= SAFE_RANGE):
        return 1.0
    _, exponent = math.frexp(largest)  # largest = m * 2**exponent, m in [0.5, 1)
    return math.ldexp(1.0, exponent - 1)


@dataclass(frozen=True)
class DataScale:
    """Scales ``x`` and ``y`` dividing the data; ``W = V * y / x``."""

    x: float = 1.0
    y: float = 1.0
    weight: float = 1.0

    @property
    def coef(self):
        """Factor mapping solver coefficients ``V`` back to ``W``."""
        return self.y / self.x

    @property
    def objective(self):
        """Factor mapping solver objectives back to the original scale."""
        return self.y * self.y * self.weight


def rescale_data(data, scale_targets, weights):
    """Divide ``X``, ``y`` (squared loss) and the task weights by powers of two.

    Parameters
    ----------
    data : TaskData
        Validated data.
    scale_targets : bool
        Scale ``y`` too (squared loss); classification targets stay 0/1.
    weights : ndarray of shape (n_tasks,)
        Task weights (:func:`mtstats._tasks.task_weights`); they multiply the
        loss, so dividing them by ``c_w`` multiplies the objective by ``c_w``.

    Returns
    -------
    data : TaskData
        With scaled ``X`` and ``y`` (same dtype).
    weights : ndarray of shape (n_tasks,)
    scale : DataScale
    """
    scale = DataScale(power_of_two_scale(data.X),
                      power_of_two_scale(data.y) if scale_targets else 1.0,
                      power_of_two_scale(weights))
    weights = weights / scale.weight
    if scale == DataScale():
        return data, weights, scale
    check_representable(scale)
    X = (data.X / data.X.dtype.type(scale.x)).astype(data.X.dtype, copy=False)
    y = (data.y / data.y.dtype.type(scale.y)).astype(data.y.dtype, copy=False)
    return replace(data, X=X, y=y), weights, scale


def check_representable(scale):
    """Refuse a :class:`DataScale` whose coefficients or loss overflow."""
    factors = (scale.coef, scale.objective)
    if not all(math.isfinite(f) and math.isfinite(1.0 / f) for f in factors
               if f != 0.0) or 0.0 in factors:
        raise ValueError(
            "The data are too far from unit scale for a floating-point fit: the "
            f"largest feature is of order {scale.x:.3g} and the largest target of "
            f"order {scale.y:.3g} (task weights of order {scale.weight:.3g}), so the "
            "coefficients or the loss overflow. Rescale X and y (e.g. "
            "StandardScaler, or a change of units) before fitting."
        )


def unscale_result(result, scale, to_numpy):
    """Map a :class:`~mtstats.solvers.SolveResult` back to the original scale.

    Raises
    ------
    ValueError
        When the coefficients of the original problem are not representable
        (they overflow the floating-point type).
    """
    if scale == DataScale():
        return result
    W = result.W * scale.coef
    b = result.b * scale.y
    if not (np.all(np.isfinite(to_numpy(W))) and np.all(np.isfinite(to_numpy(b)))):
        raise ValueError(
            "The fitted coefficients overflow the floating-point range: the "
            f"features are of order {scale.x:.3g} and the targets of order "
            f"{scale.y:.3g}. Rescale X or y (e.g. StandardScaler) before fitting."
        )
    factor = scale.objective
    return replace(
        result, W=W, b=b, gap=result.gap * factor,
        objective=result.objective * factor,
        null_objective=result.null_objective * factor,
        objective_history=[value * factor for value in result.objective_history],
    )
