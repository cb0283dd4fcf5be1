r"""The p-median problem, solved exactly with the radius formulation.

Open exactly :math:`p` sites and send every demand point to its nearest open site, minimising
the weighted total cost. Costs come as a dense matrix (``inf`` marks a forbidden pair) or a
sparse one (a pair that is not stored is forbidden, a stored 0 is free); neither is densified.

The default **radius formulation** (Elloumi 2010; Garcia, Labbé & Marín 2011, "Solving large
p-median problems with a radius formulation", INFORMS J. Computing 23(4)) replaces the
assignment variables by one variable per demand point and distinct distance. For demand
:math:`i` let :math:`D_{i0} < D_{i1} < \dots < D_{i,G_i-1}` be its distinct allowed costs and
:math:`z_{ik} = 1` when no open site is within :math:`D_{ik}`:

.. math::

    \min\; & \textstyle\sum_i w_i \big(D_{i0} + \sum_{k=0}^{K_i-1}
             (D_{i,k+1} - D_{ik})\, z_{ik}\big) \\
    (1)\;& z_{i0} + \textstyle\sum_{j: d_{ij} = D_{i0}} y_j \ge 1 && \forall i \\
    (2)\;& z_{ik} - z_{i,k-1} + \textstyle\sum_{j: d_{ij} = D_{ik}} y_j \ge 0
           && \forall i,\ 1 \le k < K_i \\
    (3)\;& -z_{i,K_i-1} + \textstyle\sum_{j: d_{ij} \ge D_{iK_i}} y_j \ge 0
           && \forall i \text{ not allowed at every site} \\
    (4)\;& \textstyle\sum_j y_j = p \\
    (5)\;& y_j \in \{0,1\},\; 0 \le z_{ik} \le 1

Chaining (2) keeps one non-zero per allowed pair (the cumulative form
:math:`z_{ik} + \sum_{d_{ij} \le D_{ik}} y_j \ge 1` has as many per distance level) with the
same LP bound: for fixed :math:`y` both give
:math:`z_{ik} = \max(0, 1 - \sum_{d_{ij} \le D_{ik}} y_j)`. Constraint (3) keeps a point whose
allowed sites are not all sites from being left unserved.

With :math:`K_i = G_i - 1` the model is exact. Following Garcia et al., smaller radius counts
:math:`K_i` give a relaxation that charges at most :math:`D_{iK_i}` to point :math:`i`; its
optimum is a lower bound, and is the optimum when every point is served within its modelled
radius. The solver starts from radii around a greedy-plus-interchange solution and enlarges
:math:`K_i` for the points served too far until that holds, then reports the relaxation's
bound, which is valid for the full problem.

Demand rows with identical cost rows are merged first (their weights summed); rows with no
allowed site are reported as uncovered and left out.

``formulation="assignment"`` builds the classic model instead (:math:`x_{ij}` per allowed pair,
:math:`\sum_j x_{ij} = 1`, :math:`x_{ij} \le y_j`, :math:`\sum_j y_j = p`), mainly to check the
radius model against it.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

import numpy as np
from scipy import sparse

from geodata.errors import ParameterError

from ..milp import Milp, SolverName, solve_milp
from ._inputs import CostPairs, check_options, check_p, cost_pairs, nonnegative_vector
from .median_bounds import LagrangeBound, lagrangian_bound
from .median_heuristic import MedianPairs, nearest_open, pmedian_heuristic
from .reductions import identical_rows
from .solution import Solution, failed_solution

__all__ = ["p_median"]

log = logging.getLogger(__name__)

Formulation = Literal["radius", "assignment"]


def p_median(
    cost: Any,
    weights: Any,
    p: int,
    *,
    solver: SolverName = "highs",
    time_limit: float | None = None,
    gap: float = 1e-6,
    reduce: bool = True,
    formulation: Formulation = "radius",
) -> Solution:
    r"""Open exactly ``p`` sites minimising the weighted cost of serving points from the nearest.

    .. math::

        \min\; & \textstyle\sum_i w_i \min_{j \text{ open},\, (i,j) \text{ allowed}} d_{ij}
        \quad \text{s.t.} \quad \textstyle\sum_j y_j = p,\; y_j \in \{0, 1\}

    solved through the radius formulation given in this module's docstring (objective and
    constraints (1)-(5)).

    Parameters
    ----------
    cost
        Demand x site cost :math:`d_{ij} \ge 0`: a numpy array (``inf`` forbids a pair) or a
        ``scipy.sparse`` matrix (pairs not stored are forbidden).
    weights
        Weight :math:`w_i \ge 0` per demand row.
    p
        Number of sites to open, ``1 <= p <= n_sites``.
    solver
        ``"highs"`` (default) or ``"cbc"``.
    time_limit
        Seconds of solver time in total (all rounds); ``None`` for no limit.
    gap
        Relative MIP gap at which the solution counts as optimal.
    reduce
        Merge identical demand rows, and truncate the radii around a heuristic solution
        (radius formulation only). Turning it off changes the time, never the optimum.
    formulation
        ``"radius"`` (default) or ``"assignment"``.

    Returns
    -------
    Solution
        Open sites, total weighted cost, bound and gap; ``assignment`` is each row's nearest
        open allowed site (ties to the lowest index). A status of ``"infeasible"`` means no
        ``p`` sites give every coverable row an allowed open site.

    Raises
    ------
    ParameterError
        If the shapes disagree, a cost or weight is negative or NaN, ``p`` is not in
        ``1..n_sites``, or an option is out of range.
    """
    t0 = time.perf_counter()
    check_options(solver, time_limit, gap)
    given, w0, p = _check(cost, weights, p, formulation)
    uncovered = np.flatnonzero(np.diff(given.indptr) == 0)
    pairs, w = _reduce(given, w0, reduce)
    if pairs.n == 0:
        status, solve_s = "optimal", 0.0
        chosen: np.ndarray | None = np.arange(p)
        build_s = time.perf_counter() - t0
        bound: float | None = 0.0
    else:
        heur = pmedian_heuristic(pairs, w, p)
        build_s = time.perf_counter() - t0
        log.info(
            "p_median: %d x %d (%d allowed pairs) -> %d rows, heuristic in %.3f s",
            *given.shape,
            given.rows.size,
            pairs.n,
            build_s,
        )
        status, chosen, bound, solve_s, extra_build = _solve(
            pairs,
            w,
            p,
            heur,
            solver=solver,
            time_limit=time_limit,
            gap=gap,
            formulation=formulation,
            truncate=reduce,
        )
        build_s += extra_build
    if chosen is None:
        return failed_solution(status, bound, uncovered, build_s, solve_s, solver, name="p_median")
    site, objective = _read_plan(given, w0, chosen)
    return Solution.from_result(
        status, objective, bound, chosen, site, uncovered, build_s, solve_s, solver,
        name="p_median",
    )


def _check(
    cost: Any, weights: Any, p: Any, formulation: str
) -> tuple[CostPairs, np.ndarray, int]:
    """Check the inputs; return all allowed pairs, the weight per row and ``p``."""
    if formulation not in ("radius", "assignment"):
        raise ParameterError(
            f"formulation={formulation!r} is unknown; use 'radius' or 'assignment'"
        )
    pairs = cost_pairs(cost)
    n, m = pairs.shape
    w = nonnegative_vector(weights, n, name="weights")
    p = check_p(p, m)
    if p > m:
        raise ParameterError(f"p={p} exceeds the {m} candidate sites of cost")
    return pairs, w, p


def _reduce(given: CostPairs, w0: np.ndarray, reduce: bool) -> tuple[MedianPairs, np.ndarray]:
    """Drop rows with no allowed site and, with ``reduce``, merge identical rows.

    Returns the pairs of the rows kept, renumbered, and their (summed) weights. A merged row of
    weight 0 allowed at every site constrains nothing and is dropped too.
    """
    n, m = given.shape
    indptr = given.indptr
    counts = np.diff(indptr)
    if reduce:
        rep = identical_rows(indptr, given.cols, given.values)
        keep = (rep == np.arange(n)) & (counts > 0)
        kept = np.flatnonzero(keep)
        new_id = np.full(n, -1, dtype=np.int64)
        new_id[kept] = np.arange(kept.size)
        w = np.bincount(new_id[rep][counts > 0], weights=w0[counts > 0], minlength=kept.size)
        drop = (w == 0) & (counts[kept] == m)
        kept, w = kept[~drop], w[~drop]
    else:
        kept = np.flatnonzero(counts > 0)
        w = w0[kept]
    row_new = np.full(n, -1, dtype=np.int64)
    row_new[kept] = np.arange(kept.size)
    take = row_new[given.rows] >= 0
    pairs = MedianPairs(
        row_new[given.rows[take]], given.cols[take], given.values[take], kept.size, m
    )
    return pairs, w


def _read_plan(given: CostPairs, w0: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, float]:
    """Return each row's nearest open site (``-1`` if none) and the plan's weighted cost."""
    n, m = given.shape
    full = MedianPairs(given.rows, given.cols, given.values, n, m)
    is_open = np.zeros(m, dtype=bool)
    is_open[chosen] = True
    site, pos = nearest_open(full, is_open)
    served = pos >= 0
    return site, float(np.sum(w0[served] * full.dist[pos[served]]))


def _true_cost(pairs: MedianPairs, w: np.ndarray, is_open: np.ndarray) -> tuple[float, np.ndarray]:
    """Weighted cost of an open set (``inf`` if a row has no open site) and each row's level."""
    _, pos = nearest_open(pairs, is_open)
    if np.any(pos < 0):
        return np.inf, np.full(pairs.n, -1, dtype=np.int64)
    return float(np.sum(w * pairs.dist[pos])), pairs.level[pos]


def _solve(
    pairs: MedianPairs,
    w: np.ndarray,
    p: int,
    heur: np.ndarray,
    *,
    solver: SolverName,
    time_limit: float | None,
    gap: float,
    formulation: Formulation,
    truncate: bool,
) -> tuple[str, np.ndarray | None, float | None, float, float]:
    """Bound, fix and solve; return status, open sites, bound, solve and build seconds."""
    best_cost, _ = _true_cost(pairs, w, heur)
    best = heur if np.isfinite(best_cost) else None
    if formulation == "assignment":
        tb = time.perf_counter()
        milp, start = _assignment_model(pairs, w, p, best)
        build_s = time.perf_counter() - tb
        res = solve_milp(milp, solver=solver, time_limit=time_limit, gap=gap, start=start)
        chosen = np.flatnonzero(res.x[: pairs.m] > 0.5) if res.x is not None else None
        return res.status, chosen, res.bound, res.solve_s, build_s
    m = pairs.m
    sites = np.arange(m)
    work = pairs
    y_lower = np.zeros(m)
    lag_bound, cutoff, solve_s = -np.inf, np.inf, 0.0
    lag: LagrangeBound | None = None

    def proven() -> bool:
        return lag_bound >= best_cost - gap * max(abs(best_cost), 1e-9)

    def restrict() -> bool:
        """Close the sites no plan cheaper than the incumbent opens; True if nothing is left."""
        nonlocal sites, work, y_lower, cutoff
        assert lag is not None and best is not None
        tol = 1e-9 * max(abs(best_cost), 1.0)
        keep = np.zeros(m, dtype=bool)
        keep[sites] = True
        keep &= lag.bound_if_open <= best_cost + tol
        keep |= best
        cutoff = best_cost
        sites = np.flatnonzero(keep)
        new_col = np.cumsum(keep) - 1
        take = keep[pairs.cols]
        work = MedianPairs(
            pairs.rows[take], new_col[pairs.cols[take]], pairs.dist[take], pairs.n, sites.size
        )
        y_lower = (lag.bound_if_closed[sites] > best_cost + tol).astype(float)
        log.info(
            "p_median: Lagrangian fixing keeps %d of %d sites (%d forced open)",
            sites.size,
            m,
            int(y_lower.sum()),
        )
        return bool(np.any(np.diff(work.indptr) == 0) or sites.size < p)

    def radii() -> np.ndarray:
        k = work.levels - 1
        if truncate and start_y is not None:
            _, level = _true_cost(work, w, start_y)
            k = np.minimum(k, 2 * level + 2)
        return k

    if truncate and best is not None and p < m:
        budget = 20.0 if time_limit is None else min(20.0, 0.25 * time_limit)
        lag = lagrangian_bound(pairs, w, p, best, gap=gap, time_limit=budget)
        solve_s += time.perf_counter() - lag.started
        best, best_cost, lag_bound = lag.best_open, lag.best_cost, lag.bound
        if proven():
            return "optimal", np.flatnonzero(best), lag_bound, solve_s, 0.0
        if restrict():
            # no plan on the kept sites: none beats the incumbent
            return "optimal", np.flatnonzero(best), best_cost, solve_s, 0.0
    start_y = best[sites] if best is not None else None
    k = radii()
    lower_red = -np.inf
    build_s = 0.0
    status = "error"
    rounds = 0
    while True:
        rounds += 1
        tb = time.perf_counter()
        milp, start = _radius_model(work, w, p, k, start_y, y_lower=y_lower)
        build_s += time.perf_counter() - tb
        left = None if time_limit is None else max(time_limit - solve_s, 1e-3)
        res = solve_milp(milp, solver=solver, time_limit=left, gap=gap, start=start)
        solve_s += res.solve_s
        status = res.status
        if res.bound is not None:
            lower_red = max(lower_red, res.bound)
        if res.x is None:
            break
        y = res.x[: work.m] > 0.5
        cost_y, level_y = _true_cost(work, w, y)
        improved = cost_y < best_cost
        if improved:
            best = np.zeros(m, dtype=bool)
            best[sites[y]] = True
            best_cost, start_y = cost_y, y
            if lag is not None and status == "optimal":
                if proven():
                    return "optimal", np.flatnonzero(best), lag_bound, solve_s, build_s
                n_sites = sites.size
                if restrict():
                    return "optimal", np.flatnonzero(best), best_cost, solve_s, build_s
                if sites.size < n_sites:
                    start_y = best[sites]
                    k = radii()
                    lower_red = -np.inf
                    continue
        if status != "optimal":
            break
        far = level_y > k
        log.info(
            "p_median: radius round %d, %d z columns, %d rows served beyond their radius",
            rounds,
            milp.shape[1] - work.m,
            int(far.sum()),
        )
        if not far.any() or best_cost <= lower_red + gap * max(abs(best_cost), 1e-9):
            break
        k = np.where(far, np.minimum(work.levels - 1, np.maximum(level_y, 2 * k + 1)), k)
        if time_limit is not None and solve_s >= time_limit:
            status = "time_limit"
            break
    if status == "infeasible" and best is not None:
        # the kept sites cannot beat the incumbent: it is optimal
        status, lower_red = "optimal", np.inf
    lower = max(lag_bound, min(lower_red, cutoff))
    if (
        best is not None
        and status == "optimal"
        and best_cost > lower + gap * max(abs(best_cost), 1e-9)
    ):
        status = "time_limit"
    chosen = np.flatnonzero(best) if best is not None and status != "infeasible" else None
    return status, chosen, (lower if np.isfinite(lower) else None), solve_s, build_s


def _radius_model(
    pairs: MedianPairs,
    w: np.ndarray,
    p: int,
    k: np.ndarray,
    best: np.ndarray | None,
    *,
    y_lower: np.ndarray | None = None,
) -> tuple[Milp, np.ndarray | None]:
    """Build the (possibly truncated) radius formulation with radius counts ``k`` per row."""
    n, m = pairs.n, pairs.m
    k = np.asarray(k, dtype=np.int64)
    counts = np.diff(pairs.indptr)
    tail = counts < m
    nrows_i = k + tail
    rowbase = np.concatenate(([0], np.cumsum(nrows_i)))
    zbase = np.concatenate(([0], np.cumsum(k)))
    n_rows, n_z = int(rowbase[-1]), int(zbase[-1])
    r, lev = pairs.rows, pairs.level
    in_chain = lev < k[r]
    in_tail = ~in_chain & tail[r]
    y_row = np.where(in_chain, rowbase[r] + lev, rowbase[r] + k[r])
    y_sel = in_chain | in_tail
    # z_{ik}: +1 in row (i, k), -1 in row (i, k + 1) when that row exists
    z_owner = np.repeat(np.arange(n), k)
    z_k = np.arange(n_z) - zbase[z_owner]
    z_col = m + np.arange(n_z)
    has_next = (z_k + 1 < k[z_owner]) | tail[z_owner]
    rows_idx = np.concatenate(
        (
            y_row[y_sel],
            rowbase[z_owner] + z_k,
            (rowbase[z_owner] + z_k + 1)[has_next],
            np.full(m, n_rows),
        )
    )
    cols_idx = np.concatenate((pairs.cols[y_sel], z_col, z_col[has_next], np.arange(m)))
    vals = np.concatenate(
        (np.ones(int(y_sel.sum())), np.ones(n_z), -np.ones(int(has_next.sum())), np.ones(m))
    )
    a = sparse.csc_array((vals, (rows_idx, cols_idx)), shape=(n_rows + 1, m + n_z))
    # distinct distances per row, by level: the pair where each level starts
    level_start = np.flatnonzero(
        np.concatenate(([True], (r[1:] != r[:-1]) | (pairs.dist[1:] != pairs.dist[:-1])))
    )
    lbase = np.concatenate(([0], np.cumsum(pairs.levels)))
    dist_of_level = pairs.dist[level_start]
    d_here = dist_of_level[lbase[z_owner] + z_k]
    d_next = dist_of_level[lbase[z_owner] + z_k + 1]
    c = np.concatenate((np.zeros(m), w[z_owner] * (d_next - d_here)))
    offset = float(np.sum(w * dist_of_level[lbase[:-1]]))
    first_row = np.zeros(n_rows + 1, dtype=bool)
    first_row[rowbase[:-1][nrows_i > 0]] = True
    row_lower = np.where(first_row, 1.0, 0.0)
    row_lower[n_rows] = p
    row_upper = np.full(n_rows + 1, np.inf)
    row_upper[n_rows] = p
    milp = Milp(
        c=c,
        a=a,
        row_lower=row_lower,
        row_upper=row_upper,
        col_lower=np.concatenate((np.zeros(m) if y_lower is None else y_lower, np.zeros(n_z))),
        col_upper=np.ones(m + n_z),
        integrality=np.concatenate((np.ones(m, dtype=bool), np.zeros(n_z, dtype=bool))),
        offset=offset,
    )
    start = None
    if best is not None:
        _, pos = nearest_open(pairs, best)
        d1 = pairs.dist[pos]
        z = (d1[z_owner] > d_here).astype(float)
        start = np.concatenate((best.astype(float), z))
    return milp, start


def _assignment_model(
    pairs: MedianPairs, w: np.ndarray, p: int, best: np.ndarray | None
) -> tuple[Milp, np.ndarray | None]:
    """Build the classic model: x per allowed pair, sum_j x_ij = 1, x_ij <= y_j, sum y = p."""
    n, m = pairs.n, pairs.m
    q = pairs.rows.size
    xcol = m + np.arange(q)
    rows_idx = np.concatenate((pairs.rows, n + np.arange(q), n + np.arange(q), np.full(m, n + q)))
    cols_idx = np.concatenate((xcol, xcol, pairs.cols, np.arange(m)))
    vals = np.concatenate((np.ones(q), np.ones(q), -np.ones(q), np.ones(m)))
    a = sparse.csc_array((vals, (rows_idx, cols_idx)), shape=(n + q + 1, m + q))
    row_lower = np.concatenate((np.ones(n), np.full(q, -np.inf), [p]))
    row_upper = np.concatenate((np.ones(n), np.zeros(q), [p]))
    milp = Milp(
        c=np.concatenate((np.zeros(m), w[pairs.rows] * pairs.dist)),
        a=a,
        row_lower=row_lower,
        row_upper=row_upper,
        col_lower=np.zeros(m + q),
        col_upper=np.ones(m + q),
        integrality=np.concatenate((np.ones(m, dtype=bool), np.zeros(q, dtype=bool))),
    )
    start = None
    if best is not None:
        _, pos = nearest_open(pairs, best)
        x = np.zeros(q)
        x[pos] = 1.0
        start = np.concatenate((best.astype(float), x))
    return milp, start
