r"""The capacitated facility location problem, split or single-sourced.

``cost[i, j]`` is the cost of serving *all* of demand point :math:`i` from site :math:`j`; a
fraction :math:`x_{ij}` of it costs :math:`c_{ij} x_{ij}` (the convention of the OR-Library
``cap`` instances). A dense cost matrix allows every pair except those holding ``inf``; a sparse
one allows exactly its stored entries. With demand :math:`d_i`, capacity :math:`s_j` and fixed
cost :math:`f_j`:

.. math::

    \min\; & \textstyle\sum_j f_j y_j + \sum_{(i,j)} c_{ij} x_{ij} \\
    (1)\;& \textstyle\sum_j x_{ij} = 1 && \forall i \\
    (2)\;& \textstyle\sum_i d_i x_{ij} \le s_j y_j && \forall j \\
    (3)\;& x_{ij} \le y_j && \forall (i,j) \text{ with } d_i < s_j \text{ or } d_i = 0 \\
    (4)\;& \textstyle\sum_j s_j y_j \ge \sum_i d_i \\
    (5)\;& y_j \in \{0,1\},\; 0 \le x_{ij} \le \min(1, s_j / d_i)
           \quad (x_{ij} \in \{0,1\} \text{ single-sourced})

The strong linking (3) is what makes the LP bound tight; it is left out only where (2) already
implies it (:math:`d_i \ge s_j > 0` gives :math:`x_{ij} \le (s_j/d_i)\,y_j \le y_j`).
Single-sourced, pairs with :math:`d_i > s_j` cannot be used and are dropped. The aggregate
capacity cut (4) is valid and helps the solver's cover cuts.

Three options turn hard rules into priced or grouped ones, for plans that must name what they
miss instead of failing (the community stations of rule R1 use all three):

- ``unserved_cost`` :math:`M_i`: (1) becomes :math:`\sum_j x_{ij} + v_i = 1` with
  :math:`0 \le v_i \le 1` the unserved share, priced :math:`M_i v_i`;
- ``overflow_cost`` :math:`M_O`: (2) becomes :math:`\sum_i d_i x_{ij} \le s_j y_j + o_j` with
  :math:`o_j \ge 0` the demand beyond capacity, priced :math:`M_O o_j`; (3) then links every
  pair;
- ``exclusive`` groups :math:`G`: at most one site of each group opens,
  :math:`\sum_{j \in G} y_j \le 1` (several candidate roles of one building, say).

With either slack the cut (4) no longer holds and is left out.

The solver is handed a feasible start built greedily (:mod:`.facility_start`) whenever the
greedy finds one, which it always does when the unserved share is priced: a solve stopped
early then ends with at least that plan instead of none. The start is only a safety net: under
a spent run budget the solver still gets the budget's floor, as it would without a start.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

import numpy as np
from scipy import sparse

from geodata.errors import ParameterError

from ..milp import Milp, SolverName, solve_milp
from ._inputs import check_options, cost_pairs, nonnegative_vector
from .facility_start import FacilityPairs, greedy_start
from .solution import Solution, failed_solution

__all__ = ["capacitated_facility_location"]

log = logging.getLogger(__name__)


def capacitated_facility_location(
    cost: Any,
    demand: Any,
    capacity: Any,
    fixed_cost: Any,
    *,
    single_source: bool = False,
    force_open: Any = None,
    unserved_cost: Any = None,
    overflow_cost: float | None = None,
    exclusive: Any = None,
    solver: SolverName = "highs",
    time_limit: float | None = None,
    gap: float = 1e-6,
    reduce: bool = True,
) -> Solution:
    r"""Open sites and route every demand point within capacity at least total cost.

    The model is (1)-(5) of this module's docstring:
    :math:`\min \sum_j f_j y_j + \sum c_{ij} x_{ij}` subject to full service (1), capacity (2),
    strong linking (3), aggregate capacity (4) and bounds (5), with the priced slacks and
    exclusive groups described there when asked for.

    Parameters
    ----------
    cost
        Demand x site cost of serving all of :math:`i` from :math:`j`: numpy array (``inf``
        forbids a pair) or ``scipy.sparse`` matrix (pairs not stored are forbidden).
    demand
        Demand :math:`d_i \ge 0` per row.
    capacity
        Capacity :math:`s_j \ge 0` per site.
    fixed_cost
        Opening cost :math:`f_j \ge 0` per site.
    single_source
        Serve each demand point from one site only (:math:`x_{ij}` binary).
    force_open
        Indices (or a boolean mask) of sites that must open, e.g. a county centre the planner
        has already chosen: their :math:`y_j` is fixed at 1.
    unserved_cost
        Price :math:`M_i` of leaving all of row :math:`i` unserved (scalar or one per row);
        ``None`` requires full service.
    overflow_cost
        Price :math:`M_O` per unit of demand served beyond a site's capacity; ``None`` makes
        capacity hard.
    exclusive
        Group label per site (integers); at most one site of a group opens. ``None`` for no
        groups.
    solver
        ``"highs"`` (default) or ``"cbc"``.
    time_limit
        Solver seconds before it stops with its incumbent; ``None`` for no limit.
    gap
        Relative MIP gap at which the solution counts as optimal.
    reduce
        Add (3) only where needed, tighten the bounds of :math:`x` and drop unusable pairs;
        off, (3) is added for every pair. The optimum is the same either way.

    Returns
    -------
    Solution
        Open sites, total cost, bound and gap; ``allocation`` holds the fractions
        :math:`x_{ij}` as a CSR matrix and ``assignment`` the site serving the largest share
        of each row. ``objective`` includes the priced slacks (unserved share of row
        :math:`i`: one minus its row sum of ``allocation``; overflow of site :math:`j`: its load
        beyond :math:`s_j`). Rows with no allowed site are in ``uncovered`` and left out; if the
        rest cannot be served within capacity the status is ``"infeasible"``. The solver starts
        from a greedy plan (:mod:`optimizer.models.facility_start`) when one is found, always
        with a priced unserved share: a solver stopped before it finds a better plan returns
        that one (status ``"time_limit"`` or ``"work_limit"``, with its gap when a bound is
        known).

    Raises
    ------
    ParameterError
        If the shapes disagree, a value is negative or NaN, or an option is out of range.
    """
    t0 = time.perf_counter()
    check_options(solver, time_limit, gap)
    full, groups = _check(
        cost, demand, capacity, fixed_cost, single_source=single_source, force_open=force_open,
        unserved_cost=unserved_cost, overflow_cost=overflow_cost, exclusive=exclusive,
    )
    counts = np.bincount(full.row, minlength=full.demand.size)
    uncovered, rows_kept = np.flatnonzero(counts == 0), np.flatnonzero(counts > 0)
    pairs, link, xub = _reduce(full, reduce)
    milp = _build(pairs, groups, rows_kept, link, xub)
    build_s = time.perf_counter() - t0
    log.info(
        "capacitated_facility_location: built %d x %d model (%d nnz, %d links) from %d x %d "
        "in %.3f s",
        milp.shape[0],
        milp.shape[1],
        milp.a.nnz,
        int(link.sum()),
        full.demand.size,
        full.capacity.size,
        build_s,
    )
    # a rough start: a spent run budget still gives the solver its floor (keep_start=False)
    res = solve_milp(milp, solver=solver, time_limit=time_limit, gap=gap,
                     start=_start_columns(pairs, rows_kept), keep_start=False)
    if res.x is None:
        return failed_solution(res.status, res.bound, uncovered, build_s, res.solve_s, solver,
                               name="capacitated_facility_location")
    y, objective, assignment, allocation = _read_plan(pairs, rows_kept, res.x)
    return Solution.from_result(
        res.status, objective, res.bound, np.flatnonzero(y), assignment, uncovered, build_s,
        res.solve_s, solver, name="capacitated_facility_location", allocation=allocation,
    )


def _check(
    cost: Any,
    demand: Any,
    capacity: Any,
    fixed_cost: Any,
    *,
    single_source: bool,
    force_open: Any,
    unserved_cost: Any,
    overflow_cost: float | None,
    exclusive: Any,
) -> tuple[FacilityPairs, sparse.csr_array]:
    """Check the inputs; return all allowed pairs and the group x site matrix of ``exclusive``."""
    pairs = cost_pairs(cost)
    n, m = pairs.shape
    d = nonnegative_vector(demand, n, name="demand")
    s = nonnegative_vector(capacity, m, name="capacity")
    f = nonnegative_vector(fixed_cost, m, name="fixed_cost")
    forced = np.zeros(m, dtype=bool)
    if force_open is not None:
        chosen = np.asarray(force_open)
        if chosen.dtype == bool:
            if chosen.shape != (m,):
                raise ParameterError(f"force_open mask has shape {chosen.shape}, expected ({m},)")
            forced = chosen.copy()
        else:
            if chosen.size and (chosen.min() < 0 or chosen.max() >= m):
                raise ParameterError(f"force_open holds site indices outside 0..{m - 1}")
            forced[chosen.astype(np.int64)] = True
    v_cost = None if unserved_cost is None else nonnegative_vector(
        np.broadcast_to(np.asarray(unserved_cost, dtype=float), (n,)), n, name="unserved_cost")
    if overflow_cost is not None and not (np.isfinite(overflow_cost) and overflow_cost >= 0):
        raise ParameterError(f"overflow_cost={overflow_cost!r} must be a non-negative number")
    groups = _exclusive_rows(exclusive, m)
    group_rows, group_cols = groups.nonzero()
    group_of = np.full(m, -1, dtype=np.int64)
    group_of[group_cols] = group_rows
    facility = FacilityPairs(pairs.rows, pairs.cols, pairs.values, d, s, f, forced, group_of,
                             v_cost, overflow_cost, single_source)
    return facility, groups


def _reduce(pairs: FacilityPairs, reduce: bool) -> tuple[FacilityPairs, np.ndarray, np.ndarray]:
    r"""Drop pairs a single source cannot use; mark the pairs that need (3) and bound x.

    Returns the pairs kept, a bool per pair that needs its linking row (3) and the upper bound
    of each pair's :math:`x_{ij}`. Without ``reduce``, or with priced overflow (a site may then
    serve beyond its capacity), every pair is kept and linked, with :math:`x_{ij} \le 1`.
    """
    if not reduce or pairs.overflow is not None:
        return pairs, np.ones(pairs.row.size, dtype=bool), np.ones(pairs.row.size)
    if pairs.single_source:
        usable = pairs.demand[pairs.row] <= pairs.capacity[pairs.site]
        pairs = replace(pairs, row=pairs.row[usable], site=pairs.site[usable],
                        cost=pairs.cost[usable])
    dq, sq = pairs.demand[pairs.row], pairs.capacity[pairs.site]
    link = (dq < sq) | (dq == 0)
    xub = np.where(dq > 0, np.minimum(1.0, sq / np.where(dq > 0, dq, 1.0)), 1.0)
    return pairs, link, xub


def _build(
    pairs: FacilityPairs,
    groups: sparse.csr_array,
    rows_kept: np.ndarray,
    link: np.ndarray,
    xub: np.ndarray,
) -> Milp:
    """Return the MILP (1)-(5) with its priced slacks and exclusive groups, over ``rows_kept``."""
    pr, pc, d, s = pairs.row, pairs.site, pairs.demand, pairs.capacity
    n, m, q, nr = d.size, s.size, pr.size, rows_kept.size
    row_new = np.full(n, -1, dtype=np.int64)
    row_new[rows_kept] = np.arange(nr)
    lk = np.flatnonzero(link)
    nl, ng = lk.size, groups.shape[0]
    n_v = nr if pairs.unserved is not None else 0
    n_o = m if pairs.overflow is not None else 0
    total_cut = n_v == 0 and n_o == 0
    # columns: y (m), x (q), v (n_v), o (n_o); rows: assign (nr), capacity (m), link (nl),
    # exclusive groups (ng), aggregate capacity (0 or 1)
    xcol, vcol, ocol = m + np.arange(q), m + q + np.arange(n_v), m + q + n_v + np.arange(n_o)
    r_link, r_group = nr + m + np.arange(nl), nr + m + nl
    r_total = r_group + ng
    group_rows, group_cols = groups.nonzero()
    rows_idx = np.concatenate((
        row_new[pr], nr + pc, nr + np.arange(m), r_link, r_link,
        np.arange(n_v), nr + np.arange(n_o), r_group + group_rows,
        np.full(m if total_cut else 0, r_total),
    ))
    cols_idx = np.concatenate((
        xcol, xcol, np.arange(m), xcol[lk], pc[lk], vcol, ocol, group_cols,
        np.arange(m) if total_cut else np.zeros(0, dtype=np.int64),
    ))
    vals = np.concatenate((
        np.ones(q), d[pr], -s, np.ones(nl), -np.ones(nl), np.ones(n_v), -np.ones(n_o),
        np.ones(group_cols.size), s if total_cut else np.zeros(0),
    ))
    n_rows = r_total + (1 if total_cut else 0)
    a = sparse.csc_array((vals, (rows_idx, cols_idx)), shape=(n_rows, m + q + n_v + n_o))
    total = float(d[rows_kept].sum())
    unserved = pairs.unserved[rows_kept] if pairs.unserved is not None else np.zeros(0)
    return Milp(
        c=np.concatenate((pairs.fixed, pairs.cost, unserved, np.full(n_o, pairs.overflow))),
        a=a,
        row_lower=np.concatenate((np.ones(nr), np.full(m + nl + ng, -np.inf),
                                  [total] if total_cut else [])),
        row_upper=np.concatenate((np.ones(nr), np.zeros(m + nl), np.ones(ng),
                                  [np.inf] if total_cut else [])),
        col_lower=np.concatenate((pairs.forced.astype(float), np.zeros(q + n_v + n_o))),
        col_upper=np.concatenate((np.ones(m), xub, np.ones(n_v), np.full(n_o, np.inf))),
        integrality=np.concatenate((np.ones(m, dtype=bool), np.full(q, pairs.single_source),
                                    np.zeros(n_v + n_o, dtype=bool))),
    )


def _read_plan(
    pairs: FacilityPairs, rows_kept: np.ndarray, sol: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray, sparse.csr_array]:
    """Return the open mask, true cost, largest-share assignment and allocation of ``sol``."""
    pr, pc, d, s = pairs.row, pairs.site, pairs.demand, pairs.capacity
    n, m, q = d.size, s.size, pr.size
    y = sol[:m] > 0.5
    x = np.clip(sol[m : m + q], 0.0, 1.0)
    if pairs.single_source:
        x = np.round(x)
    x[~y[pc]] = 0.0
    allocation = sparse.csr_array((x, (pr, pc)), shape=(n, m))
    allocation.eliminate_zeros()
    order = np.lexsort((pc, -x, pr))
    first = order[np.concatenate(([True], pr[order][1:] != pr[order][:-1]))[: order.size]]
    assignment = np.full(n, -1, dtype=np.int64)
    assignment[pr[first]] = np.where(x[first] > 0, pc[first], -1)
    objective = float(pairs.fixed[y].sum() + pairs.cost @ x)
    if pairs.unserved is not None:
        served = np.bincount(pr, weights=x, minlength=n)[rows_kept]
        objective += float(pairs.unserved[rows_kept] @ np.clip(1.0 - served, 0.0, None))
    if pairs.overflow is not None:
        load = np.bincount(pc, weights=d[pr] * x, minlength=m)
        objective += pairs.overflow * float(np.clip(load - s, 0.0, None).sum())
    return y, objective, assignment, allocation

def _start_columns(pairs: FacilityPairs, rows_kept: np.ndarray) -> np.ndarray | None:
    """Return the greedy start in the model's columns y, x, v, o (``None``: none found)."""
    plan = greedy_start(pairs)
    if plan is None:
        log.info("capacitated_facility_location: the greedy found no feasible start")
        return None
    n, m = pairs.demand.size, pairs.capacity.size
    parts = [plan.open.astype(float), plan.share]
    if pairs.unserved is not None:
        served = np.bincount(pairs.row, weights=plan.share, minlength=n)
        parts.append(np.clip(1.0 - served[rows_kept], 0.0, 1.0))
    if pairs.overflow is not None:
        load = np.bincount(pairs.site, weights=pairs.demand[pairs.row] * plan.share, minlength=m)
        parts.append(np.clip(load - pairs.capacity, 0.0, None))
    return np.concatenate(parts)


def _exclusive_rows(exclusive: Any, m: int) -> sparse.csr_array:
    """Group x site 0/1 matrix of the exclusive groups with more than one site."""
    if exclusive is None:
        return sparse.csr_array((0, m))
    labels = np.asarray(exclusive)
    if labels.shape != (m,):
        raise ParameterError(f"exclusive has shape {labels.shape}, expected one label per site "
                             f"({m},)")
    _, group = np.unique(labels, return_inverse=True)
    size = np.bincount(group)
    shared = size[group] > 1
    _, row = np.unique(group[shared], return_inverse=True)
    cols = np.flatnonzero(shared)
    return sparse.csr_array((np.ones(cols.size), (row, cols)),
                            shape=(int(row.max()) + 1 if row.size else 0, m))
