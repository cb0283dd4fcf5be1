r"""Exact reductions of covering problems: what can be removed without changing the optimum.

For a demand x site 0/1 matrix :math:`A` with row :math:`i` covered by the sites
:math:`N(i) = \{j : a_{ij} = 1\}` and site :math:`j` covering :math:`C(j) = \{i : a_{ij} = 1\}`:

* **Uncoverable rows** (:math:`N(i) = \emptyset`) are set aside and reported.
* **Identical rows** are merged (for max cover their weights are summed). Found by hashing each
  row's sorted index tuple, then checked element by element, so a hash collision can only
  miss a merge, never make a wrong one.
* **Row dominance** (set cover): if :math:`N(a) \subsetneq N(b)`, every cover of :math:`a`
  covers :math:`b`, so row :math:`b` is dropped.
* **Column dominance**: site :math:`j` is dropped when another site :math:`k` has
  :math:`C(j) \subseteq C(k)` and :math:`(c_k, -|C(k)|, k) < (c_j, -|C(j)|, j)`
  lexicographically (so :math:`c_k \le c_j`). This order is strict and transitive, so every
  dropped site has an undropped dominator and swapping it in never costs more; of identical
  columns with equal cost the lowest index stays.
* **Forced and free columns** (set cover): a row with one site forces that site open; a site of
  cost 0 can be opened at no cost. Both are opened and the rows they cover removed.

Subset tests use sparse products :math:`A A^\top` (rows) and :math:`A^\top A` (columns),
computed in chunks; they run only when their work, :math:`\sum_j |C(j)|^2` or
:math:`\sum_i |N(i)|^2`, is below a budget, and are skipped (never approximated) otherwise.
Set-cover reductions are iterated to a fixpoint.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from ._inputs import concat_ranges, coverage_matrix, nonnegative_vector

__all__ = [
    "CoverReduction",
    "MaxCoverReduction",
    "dominated_columns",
    "identical_rows",
    "reduce_max_cover",
    "reduce_set_cover",
    "rows_containing_another",
]

log = logging.getLogger(__name__)

#: Default limit on the pair work of one subset test (sum of squared column or row counts).
DEFAULT_BUDGET = 60_000_000
_CHUNK_WORK = 4_000_000


def identical_rows(
    indptr: np.ndarray, indices: np.ndarray, values: np.ndarray | None = None
) -> np.ndarray:
    """Return, for each CSR row, the lowest-index row identical to it.

    Parameters
    ----------
    indptr, indices
        CSR structure with sorted indices and no duplicates.
    values
        Optional stored values that must also match (compared bit for bit).

    Returns
    -------
    numpy.ndarray
        ``rep`` of shape ``(n_rows,)``: ``rep[i] <= i`` and rows ``i`` and ``rep[i]`` are equal.
    """
    indptr = np.asarray(indptr, dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int64)
    n = len(indptr) - 1
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    counts = np.diff(indptr)
    rng = np.random.default_rng(0x5EED)
    n_cols = int(indices.max()) + 1 if indices.size else 1
    r1 = rng.integers(0, np.iinfo(np.uint64).max, size=n_cols, dtype=np.uint64, endpoint=True)
    r2 = rng.integers(0, np.iinfo(np.uint64).max, size=n_cols, dtype=np.uint64, endpoint=True)
    e1, e2 = r1[indices], r2[indices]
    if values is not None:
        bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
        e1 = e1 * (bits | np.uint64(1))
        e2 = e2 ^ (bits * np.uint64(0x9E3779B97F4A7C15))
    h1 = _row_sums(e1, indptr)
    h2 = _row_sums(e2, indptr)
    order = np.lexsort((h2, h1, counts))
    same = np.zeros(n, dtype=bool)
    same[1:] = (
        (counts[order[1:]] == counts[order[:-1]])
        & (h1[order[1:]] == h1[order[:-1]])
        & (h2[order[1:]] == h2[order[:-1]])
    )
    group = np.cumsum(~same) - 1
    first = order[~same]
    rep = np.empty(n, dtype=np.int64)
    rep[order] = first[group]
    cand = np.flatnonzero(rep != np.arange(n))
    if cand.size:
        a_idx = concat_ranges(indptr[cand], counts[cand])
        b_idx = concat_ranges(indptr[rep[cand]], counts[cand])
        diff = indices[a_idx] != indices[b_idx]
        if values is not None:
            v = np.asarray(values)
            diff |= v[a_idx] != v[b_idx]
        owner = np.repeat(np.arange(cand.size), counts[cand])
        bad = np.bincount(owner[diff], minlength=cand.size) > 0
        rep[cand[bad]] = cand[bad]
    return rep


def _row_sums(e: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    cs = np.zeros(e.size + 1, dtype=np.uint64)
    np.cumsum(e, dtype=np.uint64, out=cs[1:])
    return cs[indptr[1:]] - cs[indptr[:-1]]


def _subset_pairs(a: sparse.csr_array, *, budget: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Distinct row pairs ``(s, b)`` with ``N(s)`` a subset of ``N(b)``; ``None`` if too costly."""
    n, _ = a.shape
    at = sparse.csr_array(a.T)
    colcount = np.diff(at.indptr).astype(np.int64)
    work_per_row = np.bincount(
        np.repeat(np.arange(n), np.diff(a.indptr)), weights=colcount[a.indices], minlength=n
    )
    if work_per_row.sum() > budget:
        return None
    rowcount = np.diff(a.indptr)
    ai = a.astype(np.int32)
    ati = at.astype(np.int32)
    smalls, bigs = [], []
    cum = np.cumsum(work_per_row)
    start = 0
    while start < n:
        base = cum[start - 1] if start else 0.0
        stop = max(start + 1, int(np.searchsorted(cum, base + _CHUNK_WORK, side="right")))
        stop = min(stop, n)
        g = sparse.coo_array(ai[start:stop] @ ati)
        small = g.row.astype(np.int64) + start
        big = g.col.astype(np.int64)
        hit = (g.data == rowcount[small]) & (small != big)
        smalls.append(small[hit])
        bigs.append(big[hit])
        start = stop
    if not smalls:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(smalls), np.concatenate(bigs)


def rows_containing_another(
    a: sparse.csr_array, *, budget: int = DEFAULT_BUDGET
) -> np.ndarray | None:
    r"""Mark rows whose site set strictly contains another row's site set.

    Parameters
    ----------
    a
        Boolean CSR demand x site matrix.
    budget
        Skip the test (return ``None``) when :math:`\sum_j |C(j)|^2` exceeds it.

    Returns
    -------
    numpy.ndarray or None
        Boolean mask of rows that are redundant in a set cover, or ``None`` if skipped.
    """
    pairs = _subset_pairs(a, budget=budget)
    if pairs is None:
        return None
    small, big = pairs
    rowcount = np.diff(a.indptr)
    strict = rowcount[big] > rowcount[small]
    mask = np.zeros(a.shape[0], dtype=bool)
    mask[big[strict]] = True
    return mask


def dominated_columns(
    a: sparse.csr_array, cost: np.ndarray, *, budget: int = DEFAULT_BUDGET
) -> np.ndarray | None:
    r"""Mark sites dominated by another site (covers a superset and costs no more).

    Parameters
    ----------
    a
        Boolean CSR demand x site matrix.
    cost
        Cost per site.
    budget
        Skip the test (return ``None``) when :math:`\sum_i |N(i)|^2` exceeds it.

    Returns
    -------
    numpy.ndarray or None
        Boolean mask of dominated sites, or ``None`` if skipped. See the module docstring for
        the tie-breaking order that keeps exactly one of each group of equal sites.
    """
    at = sparse.csr_array(a.T)
    at.sort_indices()
    pairs = _subset_pairs(at, budget=budget)
    if pairs is None:
        return None
    small, big = pairs
    m = a.shape[1]
    count = np.diff(at.indptr)
    rank = np.empty(m, dtype=np.int64)
    rank[np.lexsort((np.arange(m), -count, cost))] = np.arange(m)
    hit = rank[big] < rank[small]
    mask = np.zeros(m, dtype=bool)
    mask[small[hit]] = True
    mask[count == 0] = True
    return mask


@dataclass(frozen=True)
class CoverReduction:
    """A set-cover instance after exact reductions, with the maps back to the original.

    Attributes
    ----------
    a
        Reduced boolean CSR matrix, ``len(rows) x len(cols)``.
    cost
        Cost of each kept site.
    rows
        Original index of each kept row.
    cols
        Original index of each kept site.
    forced
        Original indices of sites opened by the reductions (forced or free).
    uncovered
        Original rows that no site covers.
    rounds
        Reduction rounds until nothing changed.
    """

    a: sparse.csr_array
    cost: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    forced: np.ndarray
    uncovered: np.ndarray
    rounds: int


def reduce_set_cover(
    coverage: Any, cost: Any = None, *, budget: int = DEFAULT_BUDGET
) -> CoverReduction:
    """Apply the exact set-cover reductions of this module until nothing changes.

    Parameters
    ----------
    coverage
        Demand x site 0/1 matrix (numpy or ``scipy.sparse``).
    cost
        Cost per site, non-negative; ``None`` for unit costs.
    budget
        Work limit of each subset test (see :func:`rows_containing_another`).

    Returns
    -------
    CoverReduction
        The reduced instance. Opening ``forced`` plus an optimal cover of the reduced instance
        (mapped through ``cols``) is an optimal cover of every coverable row of the original.

    Raises
    ------
    ParameterError
        If ``coverage`` is not a 0/1 matrix or ``cost`` has the wrong shape or a negative value.
    """
    t0 = time.perf_counter()
    a0 = coverage_matrix(coverage)
    n, m = a0.shape
    cost0 = nonnegative_vector(cost, m, name="cost", default=1.0)
    counts = np.diff(a0.indptr)
    uncovered = np.flatnonzero(counts == 0)
    rows = np.flatnonzero(counts > 0)
    cols = np.arange(m)
    a = a0[rows]
    c = cost0.copy()
    forced: list[np.ndarray] = []
    rounds = 0
    while True:
        rounds += 1
        changed = False
        # forced (a row with a single site) and free (cost 0) sites
        counts = np.diff(a.indptr)
        colcount = np.bincount(a.indices, minlength=a.shape[1])
        opened = np.zeros(a.shape[1], dtype=bool)
        opened[a.indices[a.indptr[:-1][counts == 1]]] = True
        opened |= (c == 0) & (colcount > 0)
        if opened.any():
            hit = (
                np.bincount(
                    np.repeat(np.arange(a.shape[0]), counts),
                    weights=opened[a.indices],
                    minlength=a.shape[0],
                )
                > 0
            )
            forced.append(cols[opened])
            a, rows = a[~hit], rows[~hit]
            changed = True
        keep = ~opened & (np.bincount(a.indices, minlength=a.shape[1]) > 0)
        if not keep.all():
            a, cols, c = a[:, np.flatnonzero(keep)], cols[keep], c[keep]
            a.sort_indices()
        if a.shape[0] == 0:
            break
        rep = identical_rows(a.indptr, a.indices)
        first = rep == np.arange(a.shape[0])
        if not first.all():
            a, rows = a[first], rows[first]
            changed = True
        contained = rows_containing_another(a, budget=budget)
        if contained is not None and contained.any():
            a, rows = a[~contained], rows[~contained]
            changed = True
        dominated = dominated_columns(a, c, budget=budget)
        if dominated is not None and dominated.any():
            keep = ~dominated
            a, cols, c = a[:, np.flatnonzero(keep)], cols[keep], c[keep]
            a.sort_indices()
            changed = True
        if not changed:
            break
    forced_all = np.unique(np.concatenate(forced)) if forced else np.zeros(0, dtype=np.int64)
    a = a.astype(bool)
    log.info(
        "set-cover reductions: %d x %d (%d nnz) -> %d x %d (%d nnz), %d sites forced, "
        "%d rows uncoverable, %d rounds in %.3f s",
        n,
        m,
        a0.nnz,
        a.shape[0],
        a.shape[1],
        a.nnz,
        forced_all.size,
        uncovered.size,
        rounds,
        time.perf_counter() - t0,
    )
    return CoverReduction(a, c, rows, cols, forced_all, uncovered, rounds)


@dataclass(frozen=True)
class MaxCoverReduction:
    """A max-cover instance after exact reductions.

    Attributes
    ----------
    a
        Reduced boolean CSR matrix, ``len(weights) x len(cols)``.
    weights
        Weight of each kept row (the sum over the identical original rows it stands for).
    rows
        Original index of the representative of each kept row.
    row_of
        For every original row, the kept row that stands for it, or -1 (uncoverable or
        weight 0).
    cols
        Original index of each kept site.
    uncovered
        Original rows that no site covers.
    """

    a: sparse.csr_array
    weights: np.ndarray
    rows: np.ndarray
    row_of: np.ndarray
    cols: np.ndarray
    uncovered: np.ndarray


def reduce_max_cover(
    coverage: Any, weights: Any, *, budget: int = DEFAULT_BUDGET
) -> MaxCoverReduction:
    """Merge identical rows, drop rows of weight 0 and dominated sites of a max-cover instance.

    Parameters
    ----------
    coverage
        Demand x site 0/1 matrix (numpy or ``scipy.sparse``).
    weights
        Non-negative weight per demand row.
    budget
        Work limit of the column subset test.

    Returns
    -------
    MaxCoverReduction
        The reduced instance; for any ``p`` its optimum equals the original's.

    Raises
    ------
    ParameterError
        If the inputs have the wrong shape or values.
    """
    t0 = time.perf_counter()
    a0 = coverage_matrix(coverage)
    n, m = a0.shape
    w0 = nonnegative_vector(weights, n, name="weights")
    counts = np.diff(a0.indptr)
    uncovered = np.flatnonzero(counts == 0)
    live = np.flatnonzero((counts > 0) & (w0 > 0))
    a = a0[live]
    cols = np.arange(m)
    dominated = dominated_columns(a, np.zeros(m), budget=budget)
    if dominated is not None and dominated.any():
        cols = np.flatnonzero(~dominated)
        a = a[:, cols]
        a.sort_indices()
    rep = identical_rows(a.indptr, a.indices)
    first = np.flatnonzero(rep == np.arange(a.shape[0]))
    new_id = np.full(a.shape[0], -1, dtype=np.int64)
    new_id[first] = np.arange(first.size)
    group = new_id[rep]
    weights_red = np.bincount(group, weights=w0[live], minlength=first.size)
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[live] = group
    a = a[first].astype(bool)
    log.info(
        "max-cover reductions: %d x %d (%d nnz) -> %d x %d (%d nnz), %d rows uncoverable in %.3f s",
        n,
        m,
        a0.nnz,
        a.shape[0],
        a.shape[1],
        a.nnz,
        uncovered.size,
        time.perf_counter() - t0,
    )
    return MaxCoverReduction(a, weights_red, live[first], row_of, cols, uncovered)
