r"""The p-center problem, solved exactly as a sequence of set-covering decision problems.

Open exactly :math:`p` sites so that the largest (weighted) cost of serving any demand point
from its nearest open site is as small as possible:

.. math::

    r^* = \min_{S \subseteq J,\ |S| = p}\ \max_{i \in I}\ \min_{j \in S,\ (i,j) \text{ allowed}}
          w_i d_{ij}

Costs come as a dense matrix (``inf`` marks a forbidden pair) or a sparse one (a pair that is
not stored is forbidden, a stored 0 is free), as for :func:`~optimizer.models.p_median`;
neither is densified. Rows with no allowed pair are reported as uncovered and left out.

**Method.** The optimum :math:`r^*` is one of the distinct values
:math:`V = \{w_i d_{ij} : (i, j) \text{ allowed}\}`, and a radius :math:`r` is achievable with
:math:`p` sites exactly when the set-covering decision problem

.. math::

    \exists\, y \in \{0, 1\}^J:\quad
    (1)\; \textstyle\sum_{j:\, w_i d_{ij} \le r} y_j \ge 1 \quad \forall i, \qquad
    (2)\; \textstyle\sum_j y_j \le p

has a solution. Achievability is monotone in :math:`r`, so :math:`r^*` is found by bisection
over the sorted values of :math:`V` no smaller than the lower bound
:math:`\max_i \min_j w_i d_{ij}` (every point needs some site), each step one decision problem
(Minieka 1970, "The m-center problem", SIAM Review 12(1); Daskin 2000, "A new approach to
solving the vertex p-center problem to optimality", Comm. Oper. Res. Soc. Japan 45(9)).
Each decision is settled by the cheapest proof available: the exact set-cover reductions of
:mod:`optimizer.models.reductions` (which keep the minimum number of sites, so a count of
forced sites above :math:`p` already proves "no"), then a greedy cover (a cover of at most
:math:`p` sites proves "yes"), and only then the MILP :math:`\min \sum_j y_j` subject to (1),
(2) on the reduced instance, whose infeasibility proves "no". After a "yes" the upper end of
the search drops to the radius the found sites actually reach, which can be below :math:`r`.

The search keeps a proven lower bound (the smallest value not yet ruled out) and the best
plan found, so a run stopped by its time limit reports both; the plan reached when they meet
is optimal. Fewer than :math:`p` sites may suffice: the plan is then completed to :math:`p`
with the lowest-index closed sites, which cannot lengthen any distance.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from geodata.errors import ParameterError

from ..milp import Milp, SolverName, solve_milp
from ._inputs import check_options, check_p, cost_pairs, nonnegative_vector
from .cover import greedy_set_cover
from .median_heuristic import MedianPairs, nearest_open
from .reductions import reduce_set_cover
from .solution import Solution, failed_solution

__all__ = ["p_center"]

log = logging.getLogger(__name__)


@dataclass
class _Search:
    """State of the bisection: candidate radii, proven bound, best plan, time spent."""

    pairs: MedianPairs
    cost: np.ndarray
    values: np.ndarray
    lo: int
    hi: int
    best: np.ndarray | None = None
    build_s: float = 0.0
    solve_s: float = 0.0
    decisions: int = 0
    status: str = "optimal"


def p_center(
    cost: Any,
    p: int,
    *,
    weights: Any = None,
    solver: SolverName = "highs",
    time_limit: float | None = None,
    gap: float = 1e-6,
    reduce: bool = True,
) -> Solution:
    r"""Open exactly ``p`` sites minimising the largest cost of serving a point from the nearest.

    .. math::

        \min_{|S| = p}\ \max_i\ \min_{j \in S,\ (i,j) \text{ allowed}} w_i d_{ij}

    solved by bisection over the distinct costs, each step a set-covering decision problem
    (constraints (1)-(2) of this module's docstring).

    Parameters
    ----------
    cost
        Demand x site cost :math:`d_{ij} \ge 0`: a numpy array (``inf`` forbids a pair) or a
        ``scipy.sparse`` matrix (pairs not stored are forbidden).
    p
        Number of sites to open, ``1 <= p <= n_sites``.
    weights
        Weight :math:`w_i \ge 0` per demand row for the weighted p-center; ``None`` for 1
        (the classic, unweighted problem).
    solver
        ``"highs"`` (default) or ``"cbc"``.
    time_limit
        Seconds of solver time in total (all decision problems); ``None`` for no limit.
    gap
        Relative gap between the best radius and the proven bound at which the search stops.
    reduce
        Apply the exact set-cover reductions to every decision problem. Turning it off
        changes the time, never the optimum.

    Returns
    -------
    Solution
        ``objective`` is the largest weighted cost :math:`r`, ``bound`` a proven lower bound
        on :math:`r^*`; ``assignment`` is each row's nearest open allowed site (ties to the
        lowest index). A status of ``"infeasible"`` means no ``p`` sites give every coverable
        row an allowed open site; ``"time_limit"`` comes with the best plan found, if any.

    Raises
    ------
    ParameterError
        If the shapes disagree, a cost or weight is negative or NaN, ``p`` is not in
        ``1..n_sites``, or an option is out of range.
    """
    t0 = time.perf_counter()
    check_options(solver, time_limit, gap)
    pairs0 = cost_pairs(cost)
    n, m = pairs0.shape
    w = nonnegative_vector(weights, n, name="weights", default=1.0)
    p = check_p(p, m)
    if p > m:
        raise ParameterError(f"p={p} exceeds the {m} candidate sites of cost")
    pairs = MedianPairs(pairs0.rows, pairs0.cols, pairs0.values, n, m)
    uncovered = np.flatnonzero(np.diff(pairs.indptr) == 0)
    wd = w[pairs.rows] * pairs.dist
    if wd.size == 0:
        open_sites = np.arange(p, dtype=np.int64)
        return _solution("optimal", open_sites, 0.0, pairs, wd, uncovered, t0, 0.0, solver)
    # pairs are sorted by cost within a row: its first pair is its nearest allowed site
    lower = float(np.max(wd[pairs.indptr[:-1][np.diff(pairs.indptr) > 0]]))
    values = np.unique(wd[wd >= lower])
    search = _Search(pairs, wd, values, 0, values.size - 1)
    start = _farthest_first(pairs, wd, p)
    reached = _radius(pairs, wd, start)
    if np.isfinite(reached):
        search.best, search.hi = start, int(np.searchsorted(values, reached))
    search.build_s = time.perf_counter() - t0
    log.info(
        "p_center: %d x %d (%d allowed pairs), p=%d, %d candidate radii from %.6g",
        n,
        m,
        wd.size,
        p,
        values.size,
        lower,
    )
    _bisect(search, p, solver=solver, time_limit=time_limit, gap=gap, reduce=reduce)
    bound = float(values[search.lo])
    if search.best is None:
        return failed_solution(
            search.status,
            None if search.status == "infeasible" else bound,
            uncovered,
            search.build_s,
            search.solve_s,
            solver,
            name="p_center",
        )
    return _solution(
        search.status,
        _complete(search.best, p),
        bound,
        pairs,
        wd,
        uncovered,
        t0,
        search.solve_s,
        solver,
        build_s=search.build_s,
    )


def _bisect(
    search: _Search,
    p: int,
    *,
    solver: SolverName,
    time_limit: float | None,
    gap: float,
    reduce: bool,
) -> None:
    """Narrow ``[lo, hi]`` by decision problems until the plan's radius meets the bound."""
    values = search.values
    while True:
        radius = values[search.hi] if search.best is not None else None
        if radius is not None and radius - values[search.lo] <= gap * max(radius, 1e-9):
            return
        if search.best is None and search.lo == search.hi:
            mid = search.hi
        else:
            mid = (search.lo + search.hi) // 2
        left = None if time_limit is None else time_limit - search.solve_s
        if left is not None and left <= 0:
            search.status = "time_limit"
            return
        answer = _decide(search, float(values[mid]), p, solver=solver, left=left, reduce=reduce)
        search.decisions += 1
        if answer is None:
            search.status = "time_limit"
            return
        if answer.size == 0:
            if mid == values.size - 1:
                search.status = "infeasible"
                return
            search.lo = mid + 1
            continue
        search.best = answer
        reached = _radius(search.pairs, search.cost, answer)
        search.hi = int(np.searchsorted(values, reached))


def _decide(
    search: _Search, radius: float, p: int, *, solver: SolverName, left: float | None,
    reduce: bool,
) -> np.ndarray | None:
    """Return at most ``p`` sites covering every row within ``radius``.

    Empty when no such sites exist, ``None`` when the solver ran out of time to tell.
    """
    t0 = time.perf_counter()
    pairs = search.pairs
    within = search.cost <= radius
    coverage = sparse.csr_array(
        (np.ones(int(within.sum()), dtype=bool), (pairs.rows[within], pairs.cols[within])),
        shape=(pairs.n, pairs.m),
    )
    if reduce:
        red = reduce_set_cover(coverage)
        a, cols, forced = red.a, red.cols, red.forced
    else:
        a = coverage[np.diff(coverage.indptr) > 0]
        cols, forced = np.arange(pairs.m), np.zeros(0, dtype=np.int64)
    cap = p - forced.size
    verdict: np.ndarray | None
    if cap < 0:
        verdict = np.zeros(0, dtype=np.int64)
    elif a.shape[0] == 0:
        verdict = forced
    else:
        greedy = greedy_set_cover(a, np.ones(a.shape[1])) > 0.5
        if greedy.sum() <= cap:
            verdict = np.union1d(forced, cols[greedy])
        else:
            search.build_s += time.perf_counter() - t0
            return _decide_milp(search, a, cols, forced, cap, solver=solver, left=left)
    search.build_s += time.perf_counter() - t0
    log.info("p_center: radius %.6g %s without the solver", radius,
             "achievable" if verdict.size else "ruled out")
    return verdict


def _decide_milp(
    search: _Search,
    a: sparse.csr_array,
    cols: np.ndarray,
    forced: np.ndarray,
    cap: int,
    *,
    solver: SolverName,
    left: float | None,
) -> np.ndarray | None:
    """Solve min sum y s.t. a y >= 1, sum y <= cap; sites if feasible, empty if not, else None."""
    t0 = time.perf_counter()
    n_r, m_r = a.shape
    budget_row = sparse.csr_array(
        (np.ones(m_r), (np.zeros(m_r, dtype=np.int64), np.arange(m_r))), shape=(1, m_r)
    )
    milp = Milp(
        c=np.ones(m_r),
        a=sparse.vstack([a.astype(float), budget_row], format="csc"),
        row_lower=np.concatenate((np.ones(n_r), [-np.inf])),
        row_upper=np.concatenate((np.full(n_r, np.inf), [cap])),
        col_lower=np.zeros(m_r),
        col_upper=np.ones(m_r),
        integrality=np.ones(m_r, dtype=bool),
    )
    search.build_s += time.perf_counter() - t0
    res = solve_milp(milp, solver=solver, time_limit=left, gap=1e-6)
    search.solve_s += res.solve_s
    log.info("p_center: decision MILP %d x %d, cap %d: %s in %.3f s", n_r, m_r, cap,
             res.status, res.solve_s)
    if res.x is not None:
        return np.union1d(forced, cols[res.x > 0.5])
    if res.status == "infeasible" or (res.bound is not None and res.bound > cap + 1e-6):
        return np.zeros(0, dtype=np.int64)
    return None


def _farthest_first(pairs: MedianPairs, wd: np.ndarray, p: int) -> np.ndarray:
    """Open the nearest site of the worst-served row, ``p`` times (Gonzalez's heuristic)."""
    first = pairs.indptr[:-1]
    coverable = np.diff(pairs.indptr) > 0
    is_open = np.zeros(pairs.m, dtype=bool)
    for _ in range(p):
        _, pos = nearest_open(pairs, is_open)
        worst = np.where(pos >= 0, wd[np.maximum(pos, 0)], np.inf)
        worst[~coverable] = -1.0
        i = int(np.argmax(worst))
        if is_open[pairs.cols[first[i]]]:
            break  # the worst row is already at its nearest site: no site helps it
        is_open[pairs.cols[first[i]]] = True
    return np.flatnonzero(is_open)


def _nearest(pairs: MedianPairs, open_sites: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each row's nearest open site and its pair position, ``-1`` where it has none."""
    if pairs.rows.size == 0:
        none = np.full(pairs.n, -1, dtype=np.int64)
        return none, none
    is_open = np.zeros(pairs.m, dtype=bool)
    is_open[open_sites] = True
    return nearest_open(pairs, is_open)


def _radius(pairs: MedianPairs, wd: np.ndarray, open_sites: np.ndarray) -> float:
    """Largest weighted cost from a row to its nearest open site (``inf`` if a row has none)."""
    _, pos = _nearest(pairs, open_sites)
    if np.any(pos[np.diff(pairs.indptr) > 0] < 0):
        return float("inf")
    return float(wd[pos[pos >= 0]].max()) if np.any(pos >= 0) else 0.0


def _complete(open_sites: np.ndarray, p: int) -> np.ndarray:
    """``open_sites`` plus the lowest-index closed sites, ``p`` in all, sorted."""
    chosen = [int(j) for j in open_sites]
    taken = set(chosen)
    j = 0
    while len(chosen) < p:
        if j not in taken:
            chosen.append(j)
        j += 1
    return np.sort(np.asarray(chosen, dtype=np.int64))


def _solution(
    status: str,
    open_sites: np.ndarray,
    bound: float,
    pairs: MedianPairs,
    wd: np.ndarray,
    uncovered: np.ndarray,
    t0: float,
    solve_s: float,
    solver: str,
    *,
    build_s: float | None = None,
) -> Solution:
    """Return the :class:`Solution` of the plan ``open_sites``: radius, nearest sites, gap."""
    site, _ = _nearest(pairs, open_sites)
    objective = _radius(pairs, wd, open_sites)
    build_s = time.perf_counter() - t0 if build_s is None else build_s
    return Solution.from_result(
        status, objective, bound, open_sites, site, uncovered, build_s, solve_s, solver,
        name="p_center", measure="radius",
    )
