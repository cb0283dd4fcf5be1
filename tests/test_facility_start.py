"""The greedy start of the capacitated facility location, and what it saves at short limits.

On tiny random instances the greedy plan is checked against brute force (feasible, never
cheaper than the optimum); on the Chengdu extract, models stopped far too early to find a plan
of their own (a 0.1 ms limit, after which HiGHS holds no solution) must still return one, whose
feasibility is checked here from its allocation, not taken from the solver.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog
from test_models_cfl import _brute_single, _brute_split, _instance

from geodata.candidates import candidates_from_osm
from geodata.communities import communities_from_osm
from geodata.demand import demand_from_buildings
from geodata.network import walk_network
from optimizer.models import capacitated_facility_location
from optimizer.models.facility_start import FacilityPairs, greedy_start
from optimizer.rules import preset
from optimizer.stations import StationParameters, plan_community_stations
from siting.tier_problems import station_problem

#: A limit far too short for HiGHS to find any plan of its own (it returns none at it).
TINY_S = 1e-4


def _pairs(cost, allowed, demand, capacity, fixed, *, single=False, unserved=None,
           overflow=None, group=None) -> FacilityPairs:
    rows, cols = np.nonzero(allowed)
    m = capacity.size
    return FacilityPairs(
        rows, cols, cost[rows, cols], demand, capacity, fixed, np.zeros(m, dtype=bool),
        np.full(m, -1) if group is None else group,
        None if unserved is None else np.full(demand.size, unserved), overflow, single)


def _plan_cost(p: FacilityPairs, plan) -> float:
    """Cost of a greedy plan recomputed from its shares, slacks priced."""
    served = np.bincount(p.row, weights=plan.share, minlength=p.demand.size)
    load = np.bincount(p.site, weights=p.demand[p.row] * plan.share, minlength=p.capacity.size)
    total = float(p.fixed[plan.open].sum() + p.cost @ plan.share)
    if p.unserved is not None:
        total += float(p.unserved @ (1.0 - served))
    if p.overflow is not None:
        total += p.overflow * float(np.clip(load - p.capacity, 0.0, None).sum())
    return total


def _assert_feasible(p: FacilityPairs, plan, *, full: bool, hard: bool) -> None:
    """Shares in [0, 1] at open sites only, one per row at most (exactly when ``full``),
    every exclusive group with one open site at most, loads within capacity when ``hard``."""
    assert np.all(plan.share >= -1e-12) and np.all(plan.share <= 1 + 1e-12)
    assert np.all(plan.share[~plan.open[p.site]] == 0)
    served = np.bincount(p.row, weights=plan.share, minlength=p.demand.size)
    assert np.all(served <= 1 + 1e-9)
    if full:
        assert np.allclose(served, 1.0)
    if p.single_source:
        assert np.all((plan.share == 0) | (plan.share == 1))
    load = np.bincount(p.site, weights=p.demand[p.row] * plan.share, minlength=p.capacity.size)
    if hard:
        assert np.all(load <= p.capacity + 1e-9)
    grouped = p.group >= 0
    assert np.all(np.bincount(p.group[grouped], weights=plan.open[grouped]) <= 1)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("single", [False, True])
def test_greedy_is_feasible_and_never_below_brute_force(seed: int, single: bool) -> None:
    inst = _instance(30 + seed, 7, 5, forbid=0.3)
    p = _pairs(*inst, single=single)
    best = (_brute_single if single else _brute_split)(*inst)
    plan = greedy_start(p)
    if plan is None:
        return  # hard capacity: the greedy may find no plan (none exists when best is inf)
    assert np.isfinite(best), "the greedy found a plan of an infeasible instance"
    _assert_feasible(p, plan, full=True, hard=True)
    assert _plan_cost(p, plan) >= best - 1e-6


def test_greedy_finds_a_plan_of_most_feasible_hard_instances() -> None:
    found = [greedy_start(_pairs(*_instance(30 + seed, 7, 5, forbid=0.3))) is not None
             for seed in range(6)]
    assert sum(found) >= 4


def _brute_priced(cost, allowed, demand, capacity, fixed, unserved, overflow, group) -> float:
    """Every set of open sites (one per group at most); for each, the LP of x, v and o."""
    n, m = cost.shape
    best = np.inf
    for r in range(0, m + 1):
        for sub in itertools.combinations(range(m), r):
            s = list(sub)
            if len(set(group[s])) < r:
                continue
            ok = allowed[:, s]
            c = np.concatenate((np.where(ok, cost[:, s], 0.0).ravel(), np.full(n, unserved),
                                np.full(r, overflow)))
            a_eq = np.hstack((np.kron(np.eye(n), np.ones((1, r))), np.eye(n),
                              np.zeros((n, r))))
            load = np.kron(demand[None, :], np.eye(r))  # r x (n r): site k's load
            a_ub = np.hstack((load, np.zeros((r, n)), -np.eye(r)))
            bounds = [(0, 1 if f else 0) for f in ok.ravel()] + [(0, 1)] * n + [(0, None)] * r
            res = linprog(c, A_ub=a_ub if r else None, b_ub=capacity[s] if r else None,
                          A_eq=a_eq, b_eq=np.ones(n), bounds=bounds, method="highs")
            assert res.status == 0
            best = min(best, fixed[s].sum() + res.fun)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_priced_greedy_is_feasible_and_never_below_brute_force(seed: int) -> None:
    cost, allowed, demand, capacity, fixed = _instance(40 + seed, 6, 5, forbid=0.4)
    capacity = capacity / 2  # tight: some demand overflows or stays unserved
    group = np.array([0, 0, 1, 2, 2])
    unserved, overflow = 60.0, 4.0
    p = _pairs(cost, allowed, demand, capacity, fixed, unserved=unserved, overflow=overflow,
               group=group)
    plan = greedy_start(p)
    assert plan is not None  # priced unserved demand: always a plan
    _assert_feasible(p, plan, full=False, hard=False)
    best = _brute_priced(cost, allowed, demand, capacity, fixed, unserved, overflow, group)
    assert _plan_cost(p, plan) >= best - 1e-6
    sol = capacitated_facility_location(
        np.where(allowed, cost, np.inf), demand, capacity, fixed, unserved_cost=unserved,
        overflow_cost=overflow, exclusive=group)
    assert sol.status == "optimal" and sol.objective == pytest.approx(best, abs=1e-6)


def test_forced_sites_in_one_exclusive_group_give_no_plan() -> None:
    inst = _instance(50, 5, 4)
    p = _pairs(*inst, unserved=100.0, group=np.array([0, 0, 1, 2]))
    p = FacilityPairs(**{**vars(p), "forced": np.array([True, True, False, False])})
    assert greedy_start(p) is None


@pytest.fixture(scope="module")
def station_instance(chengdu_inputs):
    """The community-station instance (R1) of the vendored Chengdu extract."""
    extract, area, _, buildings = chengdu_inputs
    comms = communities_from_osm(extract, area)
    demand = demand_from_buildings(buildings, comms)
    cand = candidates_from_osm(extract, area, buildings)
    rules = preset("guangdong")
    problem = station_problem(demand, comms, cand, walk_network(extract, area), rules)
    return problem, rules


def test_cfl_on_chengdu_returns_a_feasible_plan_at_a_tiny_limit(station_instance) -> None:
    """Every reachable home served in full within each site's capacity, at a 0.1 ms limit."""
    pr, _ = station_instance
    n, m = len(pr.daily_parcels), len(pr.sites.area_m2)
    d, cap = pr.daily_parcels, pr.sites.area_m2 / StationParameters().m2_per_daily_parcel
    cost = sparse.csr_array((d[pr.pair_point] * pr.pair_walk_m, (pr.pair_point, pr.pair_site)),
                            shape=(n, m))
    sol = capacitated_facility_location(cost, d, cap, np.full(m, 50_000.0), time_limit=TINY_S)
    assert sol.status == "time_limit" and sol.allocation is not None
    x = sol.allocation.toarray()
    reached = np.bincount(pr.pair_point, minlength=n) > 0
    assert np.allclose(x[reached].sum(axis=1), 1.0)
    allowed = np.zeros((n, m), dtype=bool)
    allowed[pr.pair_point, pr.pair_site] = True
    assert np.all(x[~allowed] == 0)
    assert np.all(d @ x <= cap + 1e-6)
    assert set(np.flatnonzero(x.sum(axis=0) > 0)) <= set(sol.open_sites.tolist())
    full = capacitated_facility_location(cost, d, cap, np.full(m, 50_000.0), time_limit=120)
    assert full.objective is not None and sol.objective is not None
    assert sol.objective >= full.objective - 1e-6


def test_stations_on_chengdu_plan_at_a_tiny_limit(station_instance) -> None:
    """The R1 tier returns its greedy plan instead of failing when the solver has no time."""
    pr, rules = station_instance
    quick = plan_community_stations(pr, rules, time_limit=TINY_S)
    assert quick.solve.status == "time_limit"
    assert quick.solve.objective is not None and np.isfinite(quick.solve.objective)
    st = quick.stations
    assert len(st) > 0 and st["site"].is_unique  # one station per site: exclusive (4)
    assert np.all(st["daily_parcels"] <= st["available_area_m2"]
                  / StationParameters().m2_per_daily_parcel + 1e-6)
    assert st["daily_parcels"].sum() <= pr.daily_parcels.sum() + 1e-6
    full = plan_community_stations(pr, rules, time_limit=120)
    assert full.solve.status == "optimal" and full.solve.objective is not None
    assert quick.solve.objective >= full.solve.objective - 1e-6
