"""Column subsets of a task design, for screening along a path.

A working set of features is a subset of the columns of ``X``; the design
restricted to it is a design of the same kind on ``X[:, columns]``, and the
coefficient rows move between the two by a gather. Only the designs of
:mod:`mtstats._designs` are known here, and designs with a ``restrict``
method (the sparse ones, :mod:`mtstats._sparse_designs`); any other design
is never restricted (:func:`can_restrict` is False and the path solves it
whole).
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from .._backend import to_namespace
from .._designs import PooledDesign, SharedDesign, StackedDesign

__all__ = ["can_restrict", "embed_rows", "restrict_design", "take_rows"]


def can_restrict(design):
    """Whether :func:`restrict_design` knows this kind of design."""
    if type(design) is PooledDesign:
        return can_restrict(design.base)
    if callable(getattr(design, "restrict", None)):  # sparse designs
        return True
    if type(design) is StackedDesign:
        return hasattr(design, "blocks") or hasattr(design, "bounds")
    return type(design) is SharedDesign


def restrict_design(design, columns):
    """The design on the feature columns ``columns`` (an index array)."""
    xp = design.xp
    if type(design) is PooledDesign:
        return PooledDesign(restrict_design(design.base, columns))
    if callable(getattr(design, "restrict", None)):
        return design.restrict(columns)
    if type(design) is SharedDesign:
        return SharedDesign(xp.take(design.X, columns, axis=1), design.n_tasks)
    if hasattr(design, "blocks"):  # tasks packed in (T_k, L_k, d) blocks
        blocks = [xp.take(X, columns, axis=2) for X in design.blocks]
        return StackedDesign(blocks, design.block_tasks, design.inverse,
                             design.task_index)
    return StackedDesign(xp.take(design.X, columns, axis=1), design.bounds,
                         design.task_index)


def take_rows(W, rows):
    """Coefficient rows ``rows`` of ``W`` (the restricted variable)."""
    return array_namespace(W).take(W, rows, axis=0)


def embed_rows(W_sub, keep):
    """Full coefficients: the rows of ``W_sub`` where ``keep`` is True, else 0.

    A gather from ``W_sub`` with a zero row appended, so it needs no
    indexed assignment (not in the array API standard).
    """
    xp = array_namespace(W_sub)
    padded = xp.concat([W_sub, xp.zeros((1, W_sub.shape[1]), dtype=W_sub.dtype)])
    position = np.cumsum(keep) - 1
    index = np.where(keep, position, W_sub.shape[0])
    return xp.take(padded, to_namespace(xp, index), axis=0)

