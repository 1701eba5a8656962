"""Aggregation of per-split p-values and intervals over random sample splits.

Quantile aggregation of p-values with the ``1 - log(gamma_min)`` factor
(Meinshausen, Meier & Buehlmann 2009) and the matching confidence intervals,
found by inverting the aggregated test over a grid refined by bisection.
Used by :func:`mtstats.report.coefficient_tests`.
"""

from __future__ import annotations

import numpy as np
from scipy import special

_CHUNK = 256  # (task, feature) pairs per block of the interval search


def _gammas(n_splits):
    return np.arange(int(np.ceil(0.05 * n_splits)), n_splits) / n_splits


def aggregate_pvalues(P):
    """Quantile aggregation over axis 0 with the ``1 - log(gamma_min)`` factor.

    ``P_j = min(1, (1 - log gamma_min) min_gamma q_gamma(P_j^(b)) / gamma)``
    over ``gamma = ceil(0.05 B)/B, ..., 1 - 1/B`` (numpy's linear quantile, R
    type 7). With one split, the split's p-value.
    """
    P = np.asarray(P, dtype=np.float64)
    B = P.shape[0]
    if B == 1:
        return P[0]
    gammas = _gammas(B)
    ordered = np.sort(P, axis=0)
    position = gammas * (B - 1)  # np.quantile(..., method="linear"), vectorised
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, B - 1)
    shape = (-1,) + (1,) * (P.ndim - 1)
    frac = (position - low).reshape(shape)
    q = ordered[low] + frac * (ordered[high] - ordered[low])
    ratio = q / gammas.reshape(shape)
    return np.minimum(1.0, (1 - np.log(gammas[0])) * ratio.min(axis=0))


def _aggregated_at(est, se, df, tested, beta):
    """Aggregated p-value of H0: w = beta; est etc. (B, m), beta (m, G)."""
    t = np.abs(est[..., None] - beta[None]) / se[..., None]
    pb = np.ones(t.shape)  # untested: p = 1 whatever beta
    tested = np.broadcast_to(tested[..., None], t.shape)
    df = np.broadcast_to(df[..., None], t.shape)
    normal = tested & np.isinf(df)
    student = tested & ~normal
    pb[normal] = 2 * special.ndtr(-t[normal])
    pb[student] = 2 * special.stdtr(df[student], -t[student])
    return aggregate_pvalues(pb)


def aggregate_confint(est, se, df, tested, level, n_grid=64, n_bisect=30):
    """Hull of ``{beta: aggregated p-value of H0: w = beta > 1 - level}``.

    Arrays are (n_splits, m); untested splits count as p = 1 for every beta.
    A grid between far brackets locates the outermost crossings, refined by
    bisection; an end whose bracket is still above the level is infinite.
    """
    B, m = est.shape
    alpha = 1 - level
    if B == 1:
        half = np.where(np.isinf(df), special.ndtri(1 - alpha / 2),
                        special.stdtrit(np.where(np.isinf(df), 1, df), 1 - alpha / 2))
        ok = tested[0]
        return (np.where(ok, est[0] - half[0] * se[0], -np.inf),
                np.where(ok, est[0] + half[0] * se[0], np.inf))
    gmin = _gammas(B)[0]
    tail = alpha * gmin / (4 * (1 - np.log(gmin)))
    k = np.where(np.isinf(df), special.ndtri(1 - tail),
                 special.stdtrit(np.where(np.isinf(df), 1, df), 1 - tail))
    low, high = np.full(m, -np.inf), np.full(m, np.inf)
    for start in range(0, m, _CHUNK):
        cols = slice(start, min(start + _CHUNK, m))
        args = (est[:, cols], se[:, cols], df[:, cols], tested[:, cols])
        if not args[3].any():
            continue
        reach = k[:, cols] * args[1]
        ends = [np.min(np.where(args[3], args[0] - reach, np.inf), axis=0),
                np.max(np.where(args[3], args[0] + reach, -np.inf), axis=0)]
        some = np.isfinite(ends[0])
        ends = [np.where(some, e, 0.0) for e in ends]
        grid = ends[0][:, None] + np.outer(ends[1] - ends[0], np.linspace(0, 1, n_grid))
        above = _aggregated_at(*args, grid) > alpha
        for side, out in ((0, low), (1, high)):
            idx = np.argmax(above, axis=1) if side == 0 else \
                n_grid - 1 - np.argmax(above[:, ::-1], axis=1)
            edge = idx == (0 if side == 0 else n_grid - 1)
            rows = np.arange(grid.shape[0])
            inner = grid[rows, idx]
            step = -1 if side == 0 else 1
            outer = grid[rows, np.clip(idx + step, 0, n_grid - 1)]
            for _ in range(n_bisect):
                mid = (inner + outer) / 2
                up = _aggregated_at(*args, mid[:, None])[:, 0] > alpha
                inner, outer = np.where(up, mid, inner), np.where(up, outer, mid)
            value = np.where(edge, -np.inf if side == 0 else np.inf, inner)
            value[~above.any(axis=1)] = np.nan  # empty confidence set
            value[~some] = -np.inf if side == 0 else np.inf
            out[cols] = value
    return low, high
