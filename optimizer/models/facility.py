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
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from scipy import sparse

from geodata.errors import ParameterError

from ..milp import Milp, SolverName, solve_milp
from ._inputs import check_options, cost_pairs, nonnegative_vector
from .solution import Solution, failed_solution, relative_gap

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
    solver: SolverName = "highs",
    time_limit: float | None = None,
    gap: float = 1e-6,
    reduce: bool = True,
) -> Solution:
    r"""Open sites and route every demand point within capacity at least total cost.

    The model is (1)-(5) of this module's docstring:
    :math:`\min \sum_j f_j y_j + \sum c_{ij} x_{ij}` subject to full service (1), capacity (2),
    strong linking (3), aggregate capacity (4) and bounds (5).

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
        of each row. Rows with no allowed site are in ``uncovered`` and left out; if the rest
        cannot be served within capacity the status is ``"infeasible"``.

    Raises
    ------
    ParameterError
        If the shapes disagree, a value is negative or NaN, or an option is out of range.
    """
    t0 = time.perf_counter()
    check_options(solver, time_limit, gap)
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
    counts = np.diff(pairs.indptr)
    uncovered = np.flatnonzero(counts == 0)
    rows_kept = np.flatnonzero(counts > 0)
    row_new = np.full(n, -1, dtype=np.int64)
    row_new[rows_kept] = np.arange(rows_kept.size)
    pr, pc, pv = pairs.rows, pairs.cols, pairs.values
    if single_source and reduce:
        usable = d[pr] <= s[pc]
        pr, pc, pv = pr[usable], pc[usable], pv[usable]
    q, nr = pr.size, rows_kept.size
    dq, sq = d[pr], s[pc]
    if reduce:
        link = (dq < sq) | (dq == 0)
        xub = np.where(dq > 0, np.minimum(1.0, sq / np.where(dq > 0, dq, 1.0)), 1.0)
    else:
        link = np.ones(q, dtype=bool)
        xub = np.ones(q)
    nl = int(link.sum())
    xcol = m + np.arange(q)
    lk = np.flatnonzero(link)
    r_assign = row_new[pr]
    r_cap = nr + pc
    r_link = nr + m + np.arange(nl)
    r_total = nr + m + nl
    rows_idx = np.concatenate(
        (r_assign, r_cap, nr + np.arange(m), r_link, r_link, np.full(m, r_total))
    )
    cols_idx = np.concatenate((xcol, xcol, np.arange(m), xcol[lk], pc[lk], np.arange(m)))
    vals = np.concatenate((np.ones(q), dq, -s, np.ones(nl), -np.ones(nl), s))
    a = sparse.csc_array((vals, (rows_idx, cols_idx)), shape=(r_total + 1, m + q))
    total = float(d[rows_kept].sum())
    row_lower = np.concatenate((np.ones(nr), np.full(m + nl, -np.inf), [total]))
    row_upper = np.concatenate((np.ones(nr), np.zeros(m + nl), [np.inf]))
    milp = Milp(
        c=np.concatenate((f, pv)),
        a=a,
        row_lower=row_lower,
        row_upper=row_upper,
        col_lower=np.concatenate((forced.astype(float), np.zeros(q))),
        col_upper=np.concatenate((np.ones(m), xub)),
        integrality=np.concatenate((np.ones(m, dtype=bool), np.full(q, single_source))),
    )
    build_s = time.perf_counter() - t0
    log.info(
        "capacitated_facility_location: built %d x %d model (%d nnz, %d links) from %d x %d "
        "in %.3f s",
        milp.shape[0],
        milp.shape[1],
        a.nnz,
        nl,
        n,
        m,
        build_s,
    )
    res = solve_milp(milp, solver=solver, time_limit=time_limit, gap=gap)
    if res.x is None:
        return failed_solution(
            res.status,
            res.bound,
            uncovered,
            build_s,
            res.solve_s,
            solver,
            name="capacitated_facility_location",
        )
    y = res.x[:m] > 0.5
    x = np.clip(res.x[m:], 0.0, 1.0)
    if single_source:
        x = np.round(x)
    x[~y[pc]] = 0.0
    allocation = sparse.csr_array((x, (pr, pc)), shape=(n, m))
    allocation.eliminate_zeros()
    order = np.lexsort((pc, -x, pr))
    first = order[np.concatenate(([True], pr[order][1:] != pr[order][:-1]))]
    assignment = np.full(n, -1, dtype=np.int64)
    assignment[pr[first]] = np.where(x[first] > 0, pc[first], -1)
    objective = float(f[y].sum() + pv @ x)
    bound = res.bound if res.bound is None else min(res.bound, objective)
    log.info(
        "capacitated_facility_location: %s, cost %.6g with %d sites, solved in %.3f s (%s)",
        res.status,
        objective,
        int(y.sum()),
        res.solve_s,
        solver,
    )
    return Solution(
        status=res.status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        open_sites=np.flatnonzero(y).astype(np.int64),
        assignment=assignment,
        uncovered=uncovered,
        build_s=build_s,
        solve_s=res.solve_s,
        solver=solver,
        allocation=allocation,
    )
