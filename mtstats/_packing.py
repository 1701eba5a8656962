r"""Packing the long layout into padded blocks of similar-sized tasks.

The long layout gives every row a task, with unequal task sizes ``n_t``. To
apply the per-task products :math:`X_t w_t` and :math:`X_t^\top r_t` without
a Python loop over tasks (thousands of tiny calls on a GPU) or an N x T
matrix, the tasks are sorted by size and cut greedily into *blocks*: a block
starts with the largest remaining task (``L_k`` rows) and takes every further
task with at least ``L_k / (1 + PAD_WASTE)`` rows. Each block is stored as one
array of shape (T_k, L_k, d), shorter tasks padded with zero rows, so a
product over all its tasks is one batched ``matmul``. Padding adds at most
``PAD_WASTE`` (25 %) to the rows; equal-sized tasks make a single block with
no padding at all. The number of blocks grows like the logarithm of
``max n_t / min n_t``.

The packing is built on the host with NumPy, once per fit, gathering the rows
straight into the packed array in chunks (no sorted or centred copy of ``X``
besides it), so the peak memory is ``X`` plus its packed copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Largest share of padding rows per block (relative to its real rows).
PAD_WASTE = 0.25
#: Rows copied per fancy-indexing step while packing (bounds temporaries).
CHUNK_ROWS = 1 << 16


@dataclass
class PackedTasks:
    """Rows of the long layout packed by task (NumPy arrays).

    Attributes
    ----------
    blocks : list of ndarray of shape (T_k, L_k, d)
        Views into one packed array; padding rows are zero.
    block_tasks : list of int ndarray of shape (T_k,)
        Task of every slot of every block.
    inverse : int ndarray of shape (n_tasks,) or None
        Position of every task in ``concat(block_tasks)``; ``None`` when that
        concatenation is already ``0, ..., T - 1``.
    task_index : int ndarray of shape (n_padded,)
        Task of every packed row (padding rows included).
    destination : int ndarray of shape (n_rows,)
        Packed position of every input row.
    offsets : ndarray of shape (n_tasks, d)
        Per-task feature means subtracted from the rows (zeros if not centred).
    """

    blocks: list
    block_tasks: list
    inverse: np.ndarray | None
    task_index: np.ndarray
    destination: np.ndarray
    offsets: np.ndarray

    def scatter(self, values):
        """Row values (n_rows,) in packed order, zero on the padding."""
        out = np.zeros(self.task_index.shape[0], dtype=values.dtype)
        out[self.destination] = values
        return out


def _cut_blocks(sizes):
    """Greedy blocks of tasks sorted by decreasing size: [(tasks, L_k)]."""
    order = np.argsort(-sizes, kind="stable")
    blocks, start = [], 0
    while start < order.shape[0]:
        length = int(sizes[order[start]])
        stop = start + int(np.sum(sizes[order[start:]] * (1 + PAD_WASTE) >= length))
        blocks.append((order[start:stop], length))
        start = stop
    return blocks


def pack_tasks(X, task_index, sizes, center, weights=None):
    """Pack the rows of ``X`` (n_rows, d) by task; optionally centre each task.

    Parameters
    ----------
    X : ndarray of shape (n_rows, d)
        Features, any memory order.
    task_index : int ndarray of shape (n_rows,)
        Task of every row.
    sizes : int ndarray of shape (n_tasks,)
        Rows per task (``bincount(task_index)``), all positive.
    center : bool or "global"
        Subtract every task's feature means from its rows (``True``) or the
        feature means of all rows (``"global"``).
    weights : ndarray of shape (n_rows,), optional
        Sample weights: the means are then weighted means.

    Returns
    -------
    PackedTasks
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n_tasks, d = sizes.shape[0], X.shape[1]
    cuts = _cut_blocks(sizes)
    slot_start = np.empty(n_tasks, dtype=np.int64)
    position = 0
    for tasks, length in cuts:
        slot_start[tasks] = position + length * np.arange(tasks.shape[0])
        position += length * tasks.shape[0]
    row_order = np.argsort(task_index, kind="stable")
    first_row = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(task_index.shape[0], dtype=np.int64)
    rank[row_order] = np.arange(task_index.shape[0]) - np.repeat(first_row, sizes)
    destination = slot_start[task_index] + rank
    source = np.full(position, -1, dtype=np.int64)
    source[destination] = np.arange(task_index.shape[0])
    packed = np.empty((position, d), dtype=X.dtype)
    for a in range(0, position, CHUNK_ROWS):  # a gather: sequential writes
        index = source[a:a + CHUNK_ROWS]
        padding = index < 0
        chunk = packed[a:a + CHUNK_ROWS]
        chunk[...] = X[np.where(padding, 0, index)]
        chunk[padding] = 0
    blocks, offsets, position = [], np.zeros((n_tasks, d), dtype=X.dtype), 0
    global_mean = None
    if center == "global":
        global_mean = (X.mean(axis=0, dtype=np.float64) if weights is None else
                       np.einsum("i,ij->j", weights, X, dtype=np.float64)
                       / weights.sum()).astype(X.dtype)
    packed_weights = None
    if weights is not None:
        packed_weights = np.zeros(packed.shape[0])
        packed_weights[destination] = weights
    for tasks, length in cuts:
        rows = slice(position, position + length * tasks.shape[0])
        block = packed[rows].reshape(tasks.shape[0], length, d)
        position += length * tasks.shape[0]
        if center:
            mass = None if packed_weights is None else packed_weights[rows].reshape(
                tasks.shape[0], length)
            _center_block(block, sizes[tasks], offsets, tasks,
                          global_mean if center == "global" else None, mass)
        blocks.append(block)
    block_tasks = [tasks for tasks, _ in cuts]
    flat = np.concatenate(block_tasks)
    inverse = None
    if not np.array_equal(flat, np.arange(n_tasks)):
        inverse = np.empty(n_tasks, dtype=np.int64)
        inverse[flat] = np.arange(n_tasks)
    task_index_packed = np.concatenate([np.repeat(tasks, length)
                                        for tasks, length in cuts])
    return PackedTasks(blocks, block_tasks, inverse, task_index_packed,
                       destination, offsets)


def _center_block(block, sizes, offsets, tasks, global_mean=None, weights=None):
    """Subtract each task's mean (or ``global_mean``) from its real rows, in
    place, in chunks; ``weights`` (T_k, L_k), zero on the padding, weigh the
    means."""
    n_slots, length, d = block.shape
    if global_mean is None and weights is not None:
        means = (np.einsum("tld,tl->td", block, weights, dtype=np.float64)
                 / weights.sum(axis=1)[:, None]).astype(block.dtype)
    elif global_mean is None:
        means = (block.sum(axis=1, dtype=np.float64) / sizes[:, None]).astype(
            block.dtype)
    else:
        means = np.broadcast_to(global_mean, (n_slots, d))
    offsets[tasks] = means
    step = max(1, CHUNK_ROWS // length)
    rows = np.arange(length)
    for a in range(0, n_slots, step):
        real = (rows[None, :] < sizes[a:a + step, None])[:, :, None]
        block[a:a + step] -= np.where(real, means[a:a + step, None, :],
                                      np.zeros((), dtype=block.dtype))
