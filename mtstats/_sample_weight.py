r"""Sample weights of ``fit``: validation, and the rows they keep.

scikit-learn's convention: ``sample_weight[i] >= 0`` multiplies row ``i``'s
loss, so that an integer weight is the same as repeating the row and a zero
weight the same as dropping it (frequency weights). Every task's loss is its
weighted *mean*, normalised by the task's summed weight
(:func:`mtstats._designs.row_sample_weights`), so the objective is

.. math::

    \sum_t w_t\,\frac{\sum_{i\in t} v_i\, l(\eta_i, y_i)}{\sum_{i\in t} v_i}
    + \alpha\,\Omega(W).

Multiplying every weight of a task by a constant therefore changes nothing,
except where a summed weight counts observations: ``task_weight="n_samples"``
(:math:`w_t = \sum_{i\in t} v_i`) and the intercept shrinkage, whose
:math:`\lambda` is in units of observations (``"auto"`` estimates it from the
weighted moments, :mod:`mtstats._variance_components`).

Rows with zero weight are dropped right after validation
(:func:`drop_zero_weight_rows`): they then reach nothing downstream -- not the exact
rescaling (:mod:`mtstats._scaling`), the feature and target centring, the
separation check (:mod:`mtstats._separation`) nor the task sizes. Everything
else that averages over rows (centring offsets, target means, moments of the
``"auto"`` shrinkage, the noise scales of ``task_weight="noise"``) uses the
weighted averages, so that repeating a row and doubling its weight agree.
In the wide layout one weight per row applies to every task of that row.
"""

from __future__ import annotations

from numbers import Number

import numpy as np

from ._sklearn_compat import _check_sample_weight

__all__ = ["check_sample_weight", "drop_zero_weight_rows"]


def check_sample_weight(sample_weight, n_samples):
    """Validate ``sample_weight`` of ``fit`` for ``n_samples`` rows.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        Row weights; a number gives every row that weight.
    n_samples : int
        Rows of ``X``.

    Returns
    -------
    ndarray of shape (n_samples,) or None
        Float64 weights (``None`` stays ``None``). The caller's array is
        never modified.

    Raises
    ------
    ValueError
        When the weights are not 1-D with one entry per row, not finite,
        negative, or all zero.
    """
    if sample_weight is None:
        return None
    if not isinstance(sample_weight, Number):
        sample_weight = np.asarray(sample_weight)
    if np.ndim(sample_weight) == 1 and len(sample_weight) != n_samples:
        raise ValueError(
            f"sample_weight has {len(sample_weight)} entries but X has "
            f"{n_samples} rows; "
            "pass one weight per row of X (in the wide layout a row's weight "
            "applies to all of its tasks).")
    rows = np.broadcast_to(np.zeros((), dtype=np.float64), (n_samples, 1))
    return _check_sample_weight(sample_weight, rows, dtype=np.float64,
                                ensure_non_negative=True)


def drop_zero_weight_rows(weight, *arrays):
    """``arrays`` (indexed by row) and ``weight`` without the zero-weight rows.

    Returns the arrays unchanged when ``weight`` is ``None`` or positive
    everywhere (no copy).
    """
    if weight is None or bool(np.all(weight > 0)):
        return (*arrays, weight)
    keep = weight > 0
    return (*(array[keep] for array in arrays), weight[keep])
