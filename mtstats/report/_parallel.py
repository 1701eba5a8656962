"""Parallel loops with an optional progress bar (joblib underneath)."""

from __future__ import annotations

import sys

from joblib import Parallel, delayed


def parallel_map(function, items, *, shared=None, n_jobs=None, verbose=0,
                 description=""):
    """``[function(item, **shared) for item in items]`` in parallel, in order.

    Parameters
    ----------
    function : callable
        A module-level function (picklable by reference), called as
        ``function(item, **shared)``.
    items : iterable
        One call per item; what differs between calls (an index, a seed, a
        ``(train, test)`` pair).
    shared : dict, optional
        Keyword arguments passed unchanged to every call: the data every call
        reads. Pass each large object (array, DataFrame) as its own keyword,
        not packed in a tuple, list or other container.
    n_jobs : int or None, default=None
        Follows joblib (None: one job unless a ``joblib.parallel_config``
        says otherwise, -1: all cores).
    verbose : int, default=0
        Show a progress bar (tqdm when installed, else a plain counter on
        stderr).
    description : str, default=""
        Label of the progress bar.

    Returns
    -------
    list
        The results, in the order of ``items``.

    Notes
    -----
    The data goes through ``shared`` rather than a closure or a
    ``functools.partial`` because joblib ships the *arguments* of a call
    efficiently but not the function: under
    ``joblib.parallel_config(backend="dask")`` every argument that is
    weak-referenceable and larger than 1 kB (arrays, DataFrames, not tuples
    or lists, and not custom objects, which dask sizes at a few bytes) is
    scattered to the cluster once per ``parallel_map`` and every task gets a
    reference to it; with the default loky backend large arrays are memory
    mapped once. The function itself is not scattered: everything a closure
    or a partial captures would be serialized again with every task batch
    sent to the cluster.
    """
    items = list(items)
    shared = {} if shared is None else dict(shared)
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(function)(item, **shared) for item in items)
    if not verbose:
        return list(results)
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        collected = []
        for i, result in enumerate(results, 1):
            collected.append(result)
            print(f"\r{description} {i}/{len(items)}", end="", file=sys.stderr)
        print(file=sys.stderr)
        return collected
    return list(tqdm(results, total=len(items), desc=description))
