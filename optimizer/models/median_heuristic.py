r"""A greedy-plus-interchange heuristic for the p-median problem, on sparse allowed pairs.

Works on the allowed (demand, site) pairs only, with weighted costs :math:`w_i d_{ij}`; a demand
point with no open allowed site pays a penalty larger than any feasible plan. Greedy adds the
site that lowers the total most, ``p`` times; the interchange then applies the best single swap
(close one open site, open a closed one) while it lowers the total, evaluating all
:math:`p \times m` swaps at once from each point's nearest and second-nearest open site
(Whitaker's fast interchange). Each pass costs :math:`O(\text{pairs} + p\,m)`.
"""

from __future__ import annotations

import logging
import time

import numpy as np

__all__ = ["MedianPairs", "nearest_open", "pmedian_heuristic"]

log = logging.getLogger(__name__)


class MedianPairs:
    """Allowed pairs sorted by demand, then cost, then site, with per-row helpers.

    Parameters
    ----------
    rows, cols, dist
        Demand index, site index and cost of each allowed pair.
    n, m
        Number of demand rows and sites.
    """

    def __init__(
        self, rows: np.ndarray, cols: np.ndarray, dist: np.ndarray, n: int, m: int
    ) -> None:
        order = np.lexsort((cols, dist, rows))
        self.rows = np.asarray(rows, dtype=np.int64)[order]
        self.cols = np.asarray(cols, dtype=np.int64)[order]
        self.dist = np.asarray(dist, dtype=float)[order]
        self.n, self.m = n, m
        self.indptr = np.concatenate(([0], np.cumsum(np.bincount(self.rows, minlength=n))))
        new = np.ones(self.rows.size, dtype=bool)
        new[1:] = (self.rows[1:] != self.rows[:-1]) | (self.dist[1:] != self.dist[:-1])
        #: distance level of each pair within its row (0 = nearest allowed distance)
        gl = np.cumsum(new) - 1
        self.level = gl - gl[self.indptr[self.rows]] if self.rows.size else gl
        #: number of distinct distances per row
        self.levels = np.zeros(n, dtype=np.int64)
        if self.rows.size:
            np.maximum.at(self.levels, self.rows, self.level + 1)


def nearest_open(
    pairs: MedianPairs, is_open: np.ndarray, *, second: bool = False
) -> tuple[np.ndarray, ...]:
    """Return each row's nearest open site, its pair position, and optionally the second one.

    Parameters
    ----------
    pairs
        The sorted pairs.
    is_open
        Boolean mask over the sites.
    second
        Also return the position of the second-nearest open pair.

    Returns
    -------
    tuple of numpy.ndarray
        ``(site, position)``, or ``(site, position, position2)``; ``-1`` where absent. Ties
        go to the lowest site index.
    """
    n = pairs.n
    op = is_open[pairs.cols]
    cum = np.cumsum(op)
    base = np.concatenate(([0], cum))[pairs.indptr[:-1]]
    rank = cum - base[pairs.rows]
    pos1 = np.full(n, -1, dtype=np.int64)
    first = np.flatnonzero(op & (rank == 1))
    pos1[pairs.rows[first]] = first
    site = np.where(pos1 >= 0, pairs.cols[np.maximum(pos1, 0)], -1)
    if not second:
        return site, pos1
    pos2 = np.full(n, -1, dtype=np.int64)
    sec = np.flatnonzero(op & (rank == 2))
    pos2[pairs.rows[sec]] = sec
    return site, pos1, pos2


def pmedian_heuristic(
    pairs: MedianPairs,
    weights: np.ndarray,
    p: int,
    *,
    start: np.ndarray | None = None,
    max_swaps: int | None = None,
    time_limit: float = 30.0,
) -> np.ndarray:
    """Return ``p`` sites chosen by greedy addition and then best-improvement swaps.

    Parameters
    ----------
    pairs
        Allowed pairs; every row must have at least one.
    weights
        Weight per row.
    p
        Number of sites to open (at most the number of sites).
    start
        Boolean mask of ``p`` sites to start the interchange from instead of greedy.
    max_swaps
        Most swaps; ``None`` for ``20 * p + 100``.
    time_limit
        Seconds after which the interchange stops with what it has.

    Returns
    -------
    numpy.ndarray
        Boolean mask of open sites (exactly ``p`` true).
    """
    t0 = time.perf_counter()
    n, m = pairs.n, pairs.m
    c = weights[pairs.rows] * pairs.dist
    penalty = 2.0 * (float(c.max()) if c.size else 0.0) + 1.0
    cur = np.full(n, penalty)
    is_open = np.zeros(m, dtype=bool) if start is None else start.astype(bool).copy()
    for _ in range(p if start is None else 0):
        gain = np.bincount(pairs.cols, weights=np.maximum(0.0, cur[pairs.rows] - c), minlength=m)
        gain[is_open] = -1.0
        j = int(np.argmax(gain))
        is_open[j] = True
        hit = pairs.cols == j
        np.minimum.at(cur, pairs.rows[hit], c[hit])
    swaps = 0
    limit = 20 * p + 100 if max_swaps is None else max_swaps
    open_list = np.flatnonzero(is_open)
    while swaps < limit and p < m and time.perf_counter() - t0 < time_limit:
        _, pos1, pos2 = nearest_open(pairs, is_open, second=True)
        d1 = np.where(pos1 >= 0, c[np.maximum(pos1, 0)], penalty)
        d2 = np.where(pos2 >= 0, c[np.maximum(pos2, 0)], penalty)
        s1 = np.where(pos1 >= 0, pairs.cols[np.maximum(pos1, 0)], -1)
        total = float(d1.sum())
        gain_add = np.bincount(pairs.cols, weights=np.maximum(0.0, d1[pairs.rows] - c), minlength=m)
        slot = np.full(m, -1, dtype=np.int64)
        slot[open_list] = np.arange(p)
        served = s1 >= 0
        loss_base = np.bincount(slot[s1[served]], weights=(d2 - d1)[served], minlength=p)
        pr = pairs.rows
        mine = served[pr]
        pr_m, pc_m, c_m = pr[mine], pairs.cols[mine], c[mine]
        corr = np.maximum(0.0, np.minimum(c_m, d2[pr_m]) - d1[pr_m]) - (d2[pr_m] - d1[pr_m])
        loss = np.bincount(slot[s1[pr_m]] * m + pc_m, weights=corr, minlength=p * m).reshape(p, m)
        delta = loss_base[:, None] + loss - gain_add[None, :]
        delta[:, is_open] = np.inf
        r, a = np.unravel_index(int(np.argmin(delta)), delta.shape)
        if not delta[r, a] < -1e-9 * max(total, 1.0):
            break
        is_open[open_list[r]] = False
        is_open[a] = True
        open_list[r] = a
        swaps += 1
    log.debug(
        "p-median heuristic: %d sites, %d swaps in %.3f s", p, swaps, time.perf_counter() - t0
    )
    return is_open
