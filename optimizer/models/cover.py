r"""Covering models: the minimum-cost set cover and the maximal covering location problem.

Both take a demand x site 0/1 matrix :math:`A` (:math:`a_{ij} = 1` when site :math:`j` can
serve demand point :math:`i`, e.g. within walking reach), as a numpy array or a
``scipy.sparse`` matrix; it is never densified. Each model is built as one sparse
:class:`~optimizer.milp.Milp` after the exact reductions of :mod:`optimizer.models.reductions`
and solved by HiGHS (one ``passModel`` call) or CBC (through PuLP), from a greedy start.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from scipy import sparse

from ..milp import Milp, MilpResult, SolverName, solve_milp
from ._inputs import check_options, check_p, coverage_matrix, nonnegative_vector
from .cover_bounds import CoverBound, FixedCover, fix_sites, lagrangian_max_cover
from .reductions import reduce_max_cover, reduce_set_cover
from .solution import Solution, failed_solution

__all__ = ["first_open_site", "max_cover", "set_cover"]

log = logging.getLogger(__name__)


def set_cover(
    coverage: Any,
    cost: Any = None,
    *,
    solver: SolverName = "highs",
    time_limit: float | None = None,
    gap: float = 1e-6,
    reduce: bool = True,
) -> Solution:
    r"""Open the cheapest set of sites that covers every coverable demand point.

    .. math::

        \min\; & \textstyle\sum_j c_j y_j \\
        (1)\;& \textstyle\sum_{j} a_{ij} y_j \ge 1 && \forall i \text{ with } N(i) \ne \emptyset \\
        (2)\;& y_j \in \{0, 1\} && \forall j

    Rows no site covers (:math:`N(i) = \emptyset`) cannot be met by any plan: they are left
    out and reported in :attr:`Solution.uncovered`, not declared infeasible.

    Parameters
    ----------
    coverage
        Demand x site 0/1 matrix :math:`A`, numpy array or ``scipy.sparse``.
    cost
        Cost :math:`c_j \ge 0` per site; ``None`` for 1 (minimise the number of sites).
    solver
        ``"highs"`` (default) or ``"cbc"``.
    time_limit
        Solver seconds before it stops with its incumbent; ``None`` for no limit.
    gap
        Relative MIP gap at which the solution counts as optimal.
    reduce
        Apply the exact reductions (uncoverable, identical and dominating rows; dominated,
        forced and free sites) before building the model. Turning it off changes the time,
        never the optimum.

    Returns
    -------
    Solution
        Open sites, total cost, the solver's bound and gap; ``assignment`` is the lowest-index
        open site covering each row.

    Raises
    ------
    ParameterError
        If ``coverage`` is not a 2-D 0/1 matrix, ``cost`` has the wrong shape or a negative
        value, or an option is out of range.
    """
    t0 = time.perf_counter()
    check_options(solver, time_limit, gap)
    a0 = coverage_matrix(coverage)
    cost0 = nonnegative_vector(cost, a0.shape[1], name="cost", default=1.0)
    a, c, cols, forced, uncovered = _reduce_set_cover(a0, cost0, reduce)
    result: MilpResult | None = None
    chosen = np.zeros(0, dtype=np.int64)
    if a.shape[0] > 0:
        start = greedy_set_cover(a, c)
        milp = _set_cover_milp(a, c)
        build_s = time.perf_counter() - t0
        log.info(
            "set_cover: built %d x %d model (%d nnz) from %d x %d in %.3f s",
            *a.shape,
            a.nnz,
            *a0.shape,
            build_s,
        )
        result = solve_milp(milp, solver=solver, time_limit=time_limit, gap=gap, start=start)
        if result.x is not None:
            chosen = cols[result.x > 0.5]
    else:
        build_s = time.perf_counter() - t0
    forced_cost = float(cost0[forced].sum())
    bound: float | None
    if result is None:
        status, bound, solve_s = "optimal", forced_cost, 0.0
        has_x = True
    else:
        status, solve_s, has_x = result.status, result.solve_s, result.x is not None
        bound = None if result.bound is None else result.bound + forced_cost
    if not has_x:
        return failed_solution(status, bound, uncovered, build_s, solve_s, solver, name="set_cover")
    open_sites = np.unique(np.concatenate((forced, chosen))).astype(np.int64)
    objective = float(cost0[open_sites].sum())
    return Solution.from_result(
        status, objective, bound, open_sites, first_open_site(a0, open_sites), uncovered,
        build_s, solve_s, solver, name="set_cover",
    )


def max_cover(
    coverage: Any,
    weights: Any,
    p: int,
    *,
    solver: SolverName = "highs",
    time_limit: float | None = None,
    gap: float = 1e-6,
    reduce: bool = True,
) -> Solution:
    r"""Open at most ``p`` sites covering the largest total demand weight.

    .. math::

        \max\; & \textstyle\sum_i w_i z_i \\
        (1)\;& z_i \le \textstyle\sum_j a_{ij} y_j && \forall i \\
        (2)\;& \textstyle\sum_j y_j \le p \\
        (3)\;& y_j \in \{0, 1\},\; 0 \le z_i \le 1 && \forall i, j

    :math:`z_i` may be continuous: with integral :math:`y` the optimum sets
    :math:`z_i = \min(1, \sum_j a_{ij} y_j) \in \{0, 1\}`. Identical rows are merged (weights
    summed), rows of weight 0 and dominated sites dropped; fewer than ``p`` sites are opened
    when fewer suffice to cover everything coverable. Lagrangian bounds on the relaxed
    constraints (1) (:mod:`optimizer.models.cover_bounds`) then either prove the greedy or an
    improved plan optimal, with no MILP, or close and open sites for good before it.

    Parameters
    ----------
    coverage
        Demand x site 0/1 matrix :math:`A`, numpy array or ``scipy.sparse``.
    weights
        Weight :math:`w_i \ge 0` per demand row (e.g. daily parcels).
    p
        Most sites to open, at least 1.
    solver
        ``"highs"`` (default) or ``"cbc"``.
    time_limit
        Solver seconds before it stops with its incumbent; ``None`` for no limit.
    gap
        Relative MIP gap at which the solution counts as optimal.
    reduce
        Apply the exact reductions (row merging, site dominance) and the Lagrangian bound and
        site fixing. Turning it off changes the time, never the optimum.

    Returns
    -------
    Solution
        ``objective`` is the covered weight and ``bound`` an upper bound on it;
        ``assignment`` is the lowest-index open site covering each row, ``-1`` if none.

    Raises
    ------
    ParameterError
        If the shapes disagree, a weight is negative, ``p < 1`` or an option is out of range.
    """
    t0 = time.perf_counter()
    check_options(solver, time_limit, gap)
    a0 = coverage_matrix(coverage)
    w0 = nonnegative_vector(weights, a0.shape[0], name="weights")
    p = check_p(p, a0.shape[1])
    a, w, cols, uncovered = _reduce_max_cover(a0, w0, reduce)
    if a.shape[1] <= p or a.shape[0] == 0:
        chosen: np.ndarray | None = cols if a.shape[0] else np.zeros(0, dtype=np.int64)
        status, upper, solve_s = "optimal", None, 0.0
        build_s = time.perf_counter() - t0
    else:
        start_y = greedy_max_cover(a, w, p)
        build_s = time.perf_counter() - t0
        status, y, upper, solve_s, milp_build_s = _solve_max_cover(
            a, w, p, start_y, solver=solver, time_limit=time_limit, gap=gap, fix=reduce
        )
        build_s += milp_build_s
        chosen = None if y is None else cols[y]
    if chosen is None:
        return failed_solution(status, upper, uncovered, build_s, solve_s, solver, name="max_cover")
    open_sites = np.sort(chosen).astype(np.int64)
    assignment = first_open_site(a0, open_sites)
    objective = float(w0[assignment >= 0].sum())
    bound = objective if status == "optimal" and upper is None else upper
    return Solution.from_result(
        status, objective, bound, open_sites, assignment, uncovered, build_s, solve_s, solver,
        name="max_cover", measure="weight covered", maximise=True,
    )


def _coverable(a0: sparse.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """Return a mask of the rows some site covers and the indices of those none covers."""
    coverable = np.diff(a0.indptr) > 0
    return coverable, np.flatnonzero(~coverable)


def _reduce_set_cover(
    a0: sparse.csr_array, cost0: np.ndarray, reduce: bool
) -> tuple[sparse.csr_array, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the rows and sites left to model, their costs, kept, forced and uncovered indices.

    With ``reduce`` these are :func:`.reductions.reduce_set_cover`'s; without, only the rows no
    site covers are dropped.
    """
    if reduce:
        red = reduce_set_cover(a0, cost0)
        return red.a, red.cost, red.cols, red.forced, red.uncovered
    coverable, uncovered = _coverable(a0)
    m = a0.shape[1]
    return a0[coverable], cost0, np.arange(m), np.zeros(0, dtype=np.int64), uncovered


def _set_cover_milp(a: sparse.csr_array, c: np.ndarray) -> Milp:
    """Return the set-cover MILP (1)-(2) of :func:`set_cover` over the rows and sites left."""
    n_r, m_r = a.shape
    return Milp(
        c=c,
        a=sparse.csc_array(a, dtype=float),
        row_lower=np.ones(n_r),
        row_upper=np.full(n_r, np.inf),
        col_lower=np.zeros(m_r),
        col_upper=np.ones(m_r),
        integrality=np.ones(m_r, dtype=bool),
    )


def _reduce_max_cover(
    a0: sparse.csr_array, w0: np.ndarray, reduce: bool
) -> tuple[sparse.csr_array, np.ndarray, np.ndarray, np.ndarray]:
    """Return the rows and sites left to model, their weights, kept and uncovered indices.

    With ``reduce`` these are :func:`.reductions.reduce_max_cover`'s; without, only the rows no
    site covers are dropped.
    """
    if reduce:
        red = reduce_max_cover(a0, w0)
        return red.a, red.weights, red.cols, red.uncovered
    coverable, uncovered = _coverable(a0)
    return a0[coverable], w0[coverable], np.arange(a0.shape[1]), uncovered


def _solve_max_cover(
    a: sparse.csr_array,
    w: np.ndarray,
    p: int,
    start_y: np.ndarray,
    *,
    solver: SolverName,
    time_limit: float | None,
    gap: float,
    fix: bool,
) -> tuple[str, np.ndarray | None, float | None, float, float]:
    """Bound, fix and solve; return status, open-site mask, upper bound, solve and build s."""
    m = a.shape[1]
    solve_s = 0.0
    lag: CoverBound | None = None
    if fix:
        t0 = time.perf_counter()
        budget = 20.0 if time_limit is None else min(20.0, 0.25 * time_limit)
        lag = lagrangian_max_cover(a, w, p, start_y, gap=gap, time_limit=budget)
        solve_s = time.perf_counter() - t0
        if lag.proven(gap):
            return "optimal", lag.best_open, lag.bound, solve_s, 0.0
        fixed = fix_sites(a, w, p, lag)
    else:
        fixed = FixedCover(a, w, np.arange(m), np.zeros(0, dtype=np.int64), 0.0, p, start_y)
    left = None if time_limit is None else max(time_limit - solve_s, 1e-3)
    status, y_free, upper, milp_s, build_s = _max_cover_milp(
        fixed, solver=solver, time_limit=left, gap=gap
    )
    solve_s += milp_s
    y: np.ndarray | None = None
    if y_free is not None:
        y = np.zeros(m, dtype=bool)
        y[fixed.forced] = True
        y[fixed.cols[y_free]] = True
    elif lag is not None:
        y = lag.best_open  # the solver stopped without a plan: keep the incumbent
    if upper is not None:
        upper += fixed.forced_weight
    if lag is not None:
        upper = lag.bound if upper is None else min(upper, lag.bound)
    return status, y, upper, solve_s, build_s


def _max_cover_milp(
    fixed: FixedCover, *, solver: SolverName, time_limit: float | None, gap: float
) -> tuple[str, np.ndarray | None, float | None, float, float]:
    """Solve the max-cover MILP on the free sites; status, mask, upper bound, solve, build s."""
    t0 = time.perf_counter()
    a, w, p = fixed.a, fixed.weights, fixed.p
    n_r, m_r = a.shape
    if n_r == 0 or m_r <= p:
        return "optimal", np.full(m_r, n_r > 0), float(w.sum()), 0.0, 0.0
    covered = (a @ fixed.start.astype(float)) > 0.5
    big = sparse.hstack(
        [-sparse.csc_array(a, dtype=float), sparse.eye_array(n_r, format="csc")], format="csr"
    )
    budget_row = sparse.csr_array(
        (np.ones(m_r), (np.zeros(m_r, dtype=np.int64), np.arange(m_r))), shape=(1, m_r + n_r)
    )
    milp = Milp(
        c=np.concatenate((np.zeros(m_r), -w)),
        a=sparse.vstack([big, budget_row], format="csc"),
        row_lower=np.full(n_r + 1, -np.inf),
        row_upper=np.concatenate((np.zeros(n_r), [p])),
        col_lower=np.zeros(m_r + n_r),
        col_upper=np.ones(m_r + n_r),
        integrality=np.concatenate((np.ones(m_r, dtype=bool), np.zeros(n_r, dtype=bool))),
    )
    build_s = time.perf_counter() - t0
    log.info("max_cover: built %d x %d model (%d nnz), p=%d in %.3f s",
             milp.shape[0], milp.shape[1], big.nnz + budget_row.nnz, p, build_s)
    start = np.concatenate((fixed.start.astype(float), covered.astype(float)))
    res = solve_milp(milp, solver=solver, time_limit=time_limit, gap=gap, start=start)
    y = res.x[:m_r] > 0.5 if res.x is not None else None
    upper = None if res.bound is None else -res.bound
    return res.status, y, upper, res.solve_s, build_s



def first_open_site(a: sparse.csr_array, open_sites: np.ndarray) -> np.ndarray:
    """Return the lowest-index open site covering each row, ``-1`` where none does.

    Parameters
    ----------
    a
        Boolean CSR demand x site matrix.
    open_sites
        Sorted indices of open sites.

    Returns
    -------
    numpy.ndarray
        Site index per row (int64).
    """
    out = np.full(a.shape[0], -1, dtype=np.int64)
    if open_sites.size == 0:
        return out
    sub = sparse.csr_array(a[:, open_sites])
    sub.sort_indices()
    has = np.diff(sub.indptr) > 0
    out[has] = open_sites[sub.indices[sub.indptr[:-1][has]]]
    return out


def greedy_set_cover(a: sparse.csr_array, cost: np.ndarray) -> np.ndarray:
    """Return a 0/1 vector of sites covering every row, chosen greedily then pruned.

    Parameters
    ----------
    a
        Boolean CSR matrix in which every row has a site.
    cost
        Non-negative cost per site.

    Returns
    -------
    numpy.ndarray
        Float 0/1 vector over the sites.
    """
    n, m = a.shape
    csc = sparse.csc_array(a)
    uncovered = np.ones(n, dtype=bool)
    count = np.diff(csc.indptr).astype(float)
    price = np.maximum(cost, 1e-12)
    chosen = []
    left = n
    while left > 0:
        j = int(np.argmax(count / price))
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        new = rows[uncovered[rows]]
        uncovered[new] = False
        left -= new.size
        sub = a[new]
        count -= np.bincount(sub.indices, minlength=m)
        chosen.append(j)
    times = np.zeros(n, dtype=np.int64)
    for j in chosen:
        times[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]] += 1
    keep = np.zeros(m, dtype=bool)
    keep[chosen] = True
    for j in sorted(chosen, key=lambda k: -cost[k]):
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        if np.all(times[rows] >= 2):
            keep[j] = False
            times[rows] -= 1
    return keep.astype(float)


def greedy_max_cover(a: sparse.csr_array, w: np.ndarray, p: int) -> np.ndarray:
    """Return a 0/1 vector of at most ``p`` sites picked for the most newly covered weight.

    Parameters
    ----------
    a
        Boolean CSR demand x site matrix.
    w
        Weight per row.
    p
        Most sites.

    Returns
    -------
    numpy.ndarray
        Boolean vector over the sites.
    """
    n, m = a.shape
    csc = sparse.csc_array(a)
    gain = csc.T @ w if n else np.zeros(m)
    gain = np.asarray(gain, dtype=float)
    uncovered = np.ones(n, dtype=bool)
    y = np.zeros(m, dtype=bool)
    for _ in range(min(p, m)):
        gain[y] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        y[j] = True
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        new = rows[uncovered[rows]]
        uncovered[new] = False
        sub = a[new]
        gain -= np.bincount(
            sub.indices, weights=np.repeat(w[new], np.diff(sub.indptr)), minlength=m
        )
    return y
