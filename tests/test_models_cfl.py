"""Capacitated facility location against brute force on small random instances."""

from __future__ import annotations

import itertools
from typing import get_args

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from geodata.errors import ParameterError
from optimizer.milp import SolverName
from optimizer.models import capacitated_facility_location

SOLVERS = get_args(SolverName)


def _instance(seed: int, n: int, m: int, *, forbid: float = 0.0):
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 30, (n, m)).astype(float)
    allowed = rng.random((n, m)) >= forbid
    allowed[np.arange(n), rng.integers(0, m, n)] = True
    demand = rng.integers(0, 10, n).astype(float)
    capacity = rng.integers(8, 30, m).astype(float)
    fixed = rng.integers(5, 40, m).astype(float)
    return cost, allowed, demand, capacity, fixed


def _brute_split(cost, allowed, demand, capacity, fixed) -> float:
    """Every subset of sites; for each, the transportation LP over its allowed pairs."""
    n, m = cost.shape
    best = np.inf
    for r in range(1, m + 1):
        for sub in itertools.combinations(range(m), r):
            s = list(sub)
            ok = allowed[:, s]
            if not ok.any(axis=1).all() or capacity[s].sum() < demand.sum():
                continue
            nv = n * r
            c = np.where(ok, cost[:, s], 0.0).ravel()
            a_eq = np.kron(np.eye(n), np.ones(r))
            a_ub = (np.kron(demand[:, None], np.eye(r))
                    .reshape(n, r, r).transpose(2, 0, 1).reshape(r, nv))
            bounds = [(0, 1 if flag else 0) for flag in ok.ravel()]
            res = linprog(
                c,
                A_ub=a_ub,
                b_ub=capacity[s],
                A_eq=a_eq,
                b_eq=np.ones(n),
                bounds=bounds,
                method="highs",
            )
            if res.status == 0:
                best = min(best, fixed[s].sum() + res.fun)
    return best


def _brute_single(cost, allowed, demand, capacity, fixed) -> float:
    """Every assignment of each demand to one allowed site (so every subset of open sites)."""
    n, m = cost.shape
    grid = np.array(list(itertools.product(range(m), repeat=n)))  # (m^n, n)
    ok = allowed[np.arange(n), grid].all(axis=1)
    load = np.zeros((grid.shape[0], m))
    for j in range(m):
        load[:, j] = ((grid == j) * demand).sum(axis=1)
    ok &= (load <= capacity).all(axis=1)
    used = np.stack([(grid == j).any(axis=1) for j in range(m)], axis=1)
    total = cost[np.arange(n), grid].sum(axis=1) + used @ fixed
    return float(total[ok].min()) if ok.any() else np.inf


def _check(sol, cost, allowed, demand, capacity, expected, *, single: bool) -> None:
    if not np.isfinite(expected):
        assert sol.status == "infeasible"
        return
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expected, abs=1e-6)
    assert sol.gap is not None and sol.gap <= 1e-6
    x = sol.allocation.toarray()
    assert np.allclose(x.sum(axis=1), 1.0)
    assert np.all(x[~allowed] == 0)
    assert np.all(x >= 0)
    load = demand @ x
    assert np.all(load <= capacity + 1e-6)
    assert set(np.flatnonzero(x.sum(axis=0) > 0)) <= set(sol.open_sites.tolist())
    if single:
        assert np.all((x == 0) | (x == 1))
        assert np.array_equal(sol.assignment, x.argmax(axis=1))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", range(4))
def test_split_matches_brute_force(seed: int, solver: SolverName) -> None:
    cost, allowed, demand, capacity, fixed = _instance(seed, 8, 5)
    expected = _brute_split(cost, allowed, demand, capacity, fixed)
    for reduce in (True, False):
        sol = capacitated_facility_location(
            cost, demand, capacity, fixed, solver=solver, reduce=reduce
        )
        _check(sol, cost, allowed, demand, capacity, expected, single=False)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", range(4))
def test_single_source_matches_brute_force(seed: int, solver: SolverName) -> None:
    cost, allowed, demand, capacity, fixed = _instance(10 + seed, 7, 5)
    expected = _brute_single(cost, allowed, demand, capacity, fixed)
    for reduce in (True, False):
        sol = capacitated_facility_location(
            cost, demand, capacity, fixed, single_source=True, solver=solver, reduce=reduce
        )
        _check(sol, cost, allowed, demand, capacity, expected, single=True)


@pytest.mark.parametrize("single", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_sparse_cost_missing_entries_are_forbidden(seed: int, single: bool) -> None:
    cost, allowed, demand, capacity, fixed = _instance(20 + seed, 7, 5, forbid=0.5)
    rows, cols = np.nonzero(allowed)
    sp = sparse.coo_array((cost[rows, cols], (rows, cols)), shape=cost.shape)
    dense_inf = np.where(allowed, cost, np.inf)
    brute = _brute_single if single else _brute_split
    expected = brute(cost, allowed, demand, capacity, fixed)
    for c in (sp, dense_inf):
        sol = capacitated_facility_location(c, demand, capacity, fixed, single_source=single)
        _check(sol, cost, allowed, demand, capacity, expected, single=single)


def test_split_is_never_dearer_than_single_source() -> None:
    cost, _, demand, capacity, fixed = _instance(7, 12, 6)
    split = capacitated_facility_location(cost, demand, capacity, fixed)
    single = capacitated_facility_location(cost, demand, capacity, fixed, single_source=True)
    assert split.objective is not None and single.objective is not None
    assert split.objective <= single.objective + 1e-9


def test_row_without_allowed_site_is_reported() -> None:
    cost = sparse.csr_array(np.array([[1.0, 2.0], [0.0, 0.0], [3.0, 1.0]]))
    sol = capacitated_facility_location(cost, [1, 5, 1], [10, 10], [1, 1])
    assert sol.uncovered.tolist() == [1]
    assert sol.assignment is not None and sol.assignment[1] == -1
    assert sol.status == "optimal"


def test_too_little_capacity_is_infeasible() -> None:
    sol = capacitated_facility_location(np.ones((3, 2)), [5, 5, 5], [4, 4], [1, 1])
    assert sol.status == "infeasible"
    assert not sol.has_solution


def test_bad_inputs_raise_parameter_error() -> None:
    with pytest.raises(ParameterError, match="demand"):
        capacitated_facility_location(np.ones((2, 2)), [1, -1], [1, 1], [1, 1])
    with pytest.raises(ParameterError, match="capacity"):
        capacitated_facility_location(np.ones((2, 2)), [1, 1], [1, 1, 1], [1, 1])
    with pytest.raises(ParameterError, match="cost"):
        capacitated_facility_location(np.full((2, 2), np.nan), [1, 1], [1, 1], [1, 1])


@pytest.mark.parametrize("seed", range(4))
def test_forced_sites_stay_open_at_the_brute_force_optimum(seed: int) -> None:
    """Forcing site j open equals brute force with j's fixed cost paid up front."""
    cost, allowed, demand, capacity, fixed = _instance(40 + seed, 6, 4)
    forced = np.array([seed % 4])
    sol = capacitated_facility_location(
        cost, demand, capacity, fixed, single_source=True, force_open=forced
    )
    # With j's fixed cost taken as already paid, brute force may leave j unused; forcing it
    # open then costs exactly its fixed cost more.
    paid = fixed.copy()
    paid[forced] = 0.0
    expected = _brute_single(cost, allowed, demand, capacity, paid) + fixed[forced].sum()
    if not np.isfinite(expected):
        assert sol.status == "infeasible"
        return
    assert sol.status == "optimal"
    assert forced[0] in sol.open_sites
    assert sol.objective == pytest.approx(expected, abs=1e-6)


def _brute_priced(cost, allowed, demand, capacity, fixed, *, unserved, overflow, groups,
                  single):
    """Every assignment (single) or every site subset with its LP (split), slacks priced."""
    n, m = cost.shape
    best = np.inf
    if single:
        grid = np.array(list(itertools.product(range(m + 1), repeat=n)))  # m = unserved
        ok = np.ones(len(grid), dtype=bool)
        total = np.zeros(len(grid))
        for i in range(n):
            site = grid[:, i]
            real = site < m
            ok &= ~real | allowed[i, np.minimum(site, m - 1)]
            total += np.where(real, cost[i, np.minimum(site, m - 1)], unserved)
        used = np.stack([(grid == j).any(axis=1) for j in range(m)], axis=1)
        load = np.stack([((grid == j) * demand).sum(axis=1) for j in range(m)], axis=1)
        total += used @ fixed + overflow * np.clip(load - capacity, 0, None).sum(axis=1)
        for g in np.unique(groups):
            ok &= used[:, groups == g].sum(axis=1) <= 1
        return float(total[ok].min())
    for r in range(m + 1):
        for sub in itertools.combinations(range(m), r):
            s = list(sub)
            if any((groups[s] == g).sum() > 1 for g in groups[s]):
                continue
            ok = allowed[:, s].ravel()
            # variables: x (n*r), v (n), o (r)
            c = np.concatenate((np.where(ok, cost[:, s].ravel(), 0.0), np.full(n, unserved),
                                np.full(r, overflow)))
            a_eq = np.hstack((np.kron(np.eye(n), np.ones(r)), np.eye(n), np.zeros((n, r))))
            a_ub = np.hstack((np.kron(demand[None, :], np.eye(r)), np.zeros((r, n)), -np.eye(r)))
            bounds = [(0, 1 if flag else 0) for flag in ok] + [(0, 1)] * n + [(0, None)] * r
            res = linprog(c, A_ub=a_ub if r else None, b_ub=capacity[s] if r else None,
                          A_eq=a_eq, b_eq=np.ones(n), bounds=bounds, method="highs")
            if res.status == 0:
                best = min(best, fixed[s].sum() + res.fun)
    return best


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("single", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_priced_slacks_and_exclusive_groups_match_brute_force(
    seed: int, single: bool, solver: SolverName
) -> None:
    """Unserved rows and overflow priced, at most one site per group: the brute-force optimum."""
    cost, allowed, demand, capacity, fixed = _instance(60 + seed, 6, 4, forbid=0.4)
    capacity = capacity / 3.0  # tight, so that overflow and leaving rows out both pay
    groups = np.array([0, 0, 1, 2])
    unserved, overflow = 35.0, 4.0
    expected = _brute_priced(cost, allowed, demand, capacity, fixed, unserved=unserved,
                             overflow=overflow, groups=groups, single=single)
    rows, cols = np.nonzero(allowed)
    sp = sparse.coo_array((cost[rows, cols], (rows, cols)), shape=cost.shape)
    for reduce in (True, False):
        sol = capacitated_facility_location(
            sp, demand, capacity, fixed, single_source=single, unserved_cost=unserved,
            overflow_cost=overflow, exclusive=groups, solver=solver, reduce=reduce,
        )
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(expected, abs=1e-6)
        assert not (np.isin([0, 1], sol.open_sites).all())
        assert sol.allocation is not None
        x = sol.allocation.toarray()
        assert np.all(x.sum(axis=1) <= 1 + 1e-9)
        assert np.all(x[~allowed] == 0)


def test_no_usable_pair_leaves_every_row_uncovered_and_opens_only_forced_sites() -> None:
    empty = sparse.csr_array((3, 2))
    sol = capacitated_facility_location(empty, [1, 2, 3], [5, 5], [4, 7], unserved_cost=9.0)
    assert sol.status == "optimal" and sol.objective == 0.0
    assert sol.uncovered.tolist() == [0, 1, 2] and sol.open_sites.size == 0
    forced = capacitated_facility_location(empty, [1, 2, 3], [5, 5], [4, 7], force_open=[1])
    assert forced.open_sites.tolist() == [1] and forced.objective == 7.0
