"""Task graphs: a weighted adjacency between tasks, resolved against their labels.

The graph estimators (:mod:`mtstats.estimators.graph`) take a graph before
the tasks are known; :func:`resolve_graph` turns it into the adjacency in
the order of the fitted tasks (``tasks_``) once the data have been read.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GRAPH_NAMES", "resolve_graph"]

#: Named graphs: tasks in the order of ``tasks_``, weights 1.
GRAPH_NAMES = ("chain", "complete")

#: Relative asymmetry |A - A^T| / max|A| accepted as rounding.
SYMMETRY_RTOL = 1e-10


def _named(name, n_tasks):
    if name == "chain":  # consecutive tasks (e.g. time points) joined
        A = np.zeros((n_tasks, n_tasks))
        i = np.arange(n_tasks - 1)
        A[i, i + 1] = A[i + 1, i] = 1.0
        return A
    if name == "complete":
        return np.ones((n_tasks, n_tasks)) - np.eye(n_tasks)
    raise ValueError(f"Unknown graph {name!r}: use one of {list(GRAPH_NAMES)}, a "
                     "(n_tasks, n_tasks) adjacency array, or a DataFrame whose "
                     "index and columns are the task labels.")


def _labels_text(labels, limit=10):
    shown = ", ".join(repr(v) for v in labels[:limit])
    return f"[{shown}{', ...' if len(labels) > limit else ''}]"


def _from_frame(frame, tasks):
    """The DataFrame's weights reordered to ``tasks`` (labels must match)."""
    wanted = list(tasks)
    for axis, labels in (("index", list(frame.index)), ("columns",
                                                        list(frame.columns))):
        if len(set(labels)) != len(labels):
            raise ValueError(f"The graph DataFrame's {axis} repeats task labels.")
        given, known = set(labels), set(wanted)
        missing = [t for t in wanted if t not in given]
        unknown = [v for v in labels if v not in known]
        if missing or unknown:
            raise ValueError(
                f"The graph DataFrame's {axis} must hold exactly the task labels "
                f"{_labels_text(wanted)}: missing {_labels_text(missing)}, "
                f"unknown {_labels_text(unknown)}.")
    try:
        return np.array(frame.loc[wanted, wanted].to_numpy(dtype=np.float64))
    except (TypeError, ValueError) as error:
        raise ValueError("The graph DataFrame must hold numeric weights.") from error


def resolve_graph(graph, tasks):
    """The adjacency of ``graph`` in the order of ``tasks``.

    Parameters
    ----------
    graph : {"chain", "complete"}, array-like or DataFrame
        ``"chain"``: consecutive tasks of ``tasks`` joined with weight 1;
        ``"complete"``: every pair joined with weight 1; an array: the
        (n_tasks, n_tasks) weights in the order of ``tasks``; a DataFrame:
        weights indexed by the task labels on both axes (reordered).
    tasks : array-like of shape (n_tasks,)
        The task labels, in the solver's order.

    Returns
    -------
    ndarray of shape (n_tasks, n_tasks)
        Symmetric, finite, non-negative weights with a zero diagonal (the
        diagonal of a given graph is ignored: a self-loop adds nothing to
        :math:`\\sum_{(s,t)} a_{st}\\lVert w_s - w_t\\rVert^2`).

    Raises
    ------
    ValueError
        For an unknown name, a shape that is not (n_tasks, n_tasks), labels
        that do not match the tasks, or weights that are not finite,
        non-negative and symmetric.
    """
    n_tasks = len(tasks)
    if isinstance(graph, str):
        return _named(graph, n_tasks)
    if hasattr(graph, "loc") and hasattr(graph, "columns"):
        A = _from_frame(graph, tasks)
    else:
        try:
            A = np.array(graph, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError("graph must be 'chain', 'complete', a numeric "
                             "(n_tasks, n_tasks) array or a DataFrame; got "
                             f"{type(graph).__name__}.") from error
    if A.shape != (n_tasks, n_tasks):
        raise ValueError(f"graph has shape {A.shape}, but there are {n_tasks} "
                         f"tasks (in the order of tasks_: {_labels_text(list(tasks))})"
                         f"; it must be ({n_tasks}, {n_tasks}).")
    if not np.all(np.isfinite(A)):
        raise ValueError("graph weights must be finite (no NaN or inf).")
    np.fill_diagonal(A, 0.0)
    if np.any(A < 0):
        raise ValueError("graph weights must be non-negative; got "
                         f"{A.min():.3g}.")
    asymmetry = np.abs(A - A.T)
    if np.any(asymmetry > SYMMETRY_RTOL * max(np.abs(A).max(initial=0.0), 1e-300)):
        s, t = np.unravel_index(np.argmax(asymmetry), A.shape)
        raise ValueError(f"graph must be symmetric: the weight of ({s}, {t}) is "
                         f"{A[s, t]:.6g} but that of ({t}, {s}) is {A[t, s]:.6g}.")
    return 0.5 * (A + A.T)
