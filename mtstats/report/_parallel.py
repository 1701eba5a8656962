"""Parallel loops with an optional progress bar (joblib underneath)."""

from __future__ import annotations

import sys

from joblib import Parallel, delayed


def parallel_map(function, items, *, n_jobs=None, verbose=0, description=""):
    """``[function(item) for item in items]`` in parallel, in order.

    With ``verbose`` a progress bar is shown (tqdm when installed, else a
    plain counter on stderr). ``n_jobs`` follows joblib (None: one job,
    -1: all cores).
    """
    items = list(items)
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(function)(item) for item in items)
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
