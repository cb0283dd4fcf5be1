"""The locker model against brute force on small random instances, both modes, both solvers."""

from __future__ import annotations

import functools
import itertools
from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from optimizer.lockers import (
    LockerParameters,
    LockerProblem,
    dominated_sites,
    model_size,
    solve_lockers,
)


def random_instance(
    seed: int,
    *,
    n_demand: int = 5,
    n_sites: int = 4,
    existing: int = 0,
    radius: float = 260.0,
    compartments_per_module: int = 20,
    ratio_high: float = 1.3,
    min_parcels: float = 4.0,
):
    """Points and sites uniform in a 500 m square, straight-line walks, the first sites existing."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 500, size=(n_demand, 2))
    sites = rng.uniform(0, 500, size=(n_sites, 2))
    dist = np.hypot(*(pts[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    d, s = np.nonzero(dist <= radius)
    is_existing = np.zeros(n_sites, dtype=bool)
    is_existing[:existing] = True
    capacity = np.where(is_existing, rng.integers(15, 40, n_sites), 0).astype(float)
    problem = LockerProblem(
        daily_parcels=rng.uniform(min_parcels, 25, n_demand).round(1),
        pair_demand=d,
        pair_site=s,
        pair_walk_m=dist[d, s],
        n_sites=n_sites,
        existing=is_existing,
        existing_capacity=capacity,
    )
    params = LockerParameters(
        radius_m=radius,
        compartments_per_module=compartments_per_module,
        ratio=(1.0, ratio_high),
        site_cost=100.0,
        module_cost=30.0,
    )
    return problem, params


def most_served(problem: LockerProblem, params: LockerParameters, open_new, modules) -> float:
    """Most parcels servable with these new sites and modules (scipy's own MILP, binary z)."""
    lo, hi = params.ratio
    k = params.compartments_per_module
    is_open = problem.existing.copy()
    is_open[list(open_new)] = True
    use = np.flatnonzero(is_open[problem.pair_site])
    pd_, ps_ = problem.pair_demand[use], problem.pair_site[use]
    n_x, n = len(use), problem.n_demand
    d = problem.daily_parcels
    rows: list[np.ndarray] = []
    bounds: list[tuple[float, float]] = []
    for i in range(n):  # sum_j x_ij - z_i = 0
        row = np.zeros(n_x + n)
        row[np.flatnonzero(pd_ == i)] = 1.0
        row[n_x + i] = -1.0
        rows.append(row)
        bounds.append((0.0, 0.0))
    for j in range(problem.n_sites):
        if not is_open[j]:
            continue
        load = np.zeros(n_x + n)
        load[np.flatnonzero(ps_ == j)] = d[pd_[ps_ == j]]
        rows.append(load)
        if problem.existing[j]:
            bounds.append((-np.inf, float(problem.existing_capacity[j])))
        else:
            m = modules[list(open_new).index(j)]
            bounds.append((k * m / hi, k * m / lo))
    c = np.concatenate([np.zeros(n_x), -d])
    integrality = np.concatenate([np.zeros(n_x), np.ones(n)])
    res = milp(
        c,
        constraints=LinearConstraint(np.array(rows), *np.array(bounds).T),
        integrality=integrality,
        bounds=Bounds(0, 1),
    )
    return -res.fun if res.status == 0 else -1.0


def brute_force(problem: LockerProblem, params: LockerParameters, budget=None):
    """Best (served parcels, -cost) over every subset of new sites and every module vector."""
    k = params.compartments_per_module
    reach = np.bincount(
        problem.pair_site,
        weights=problem.daily_parcels[problem.pair_demand],
        minlength=problem.n_sites,
    )
    new = np.flatnonzero(~problem.existing)
    best = (-1.0, 0.0)
    for size in range(len(new) + 1):
        for subset in itertools.combinations(new, size):
            ranges = [range(1, int(params.ratio[1] * reach[j] / k) + 1) for j in subset]
            for modules in itertools.product(*ranges):
                if budget is not None and sum(modules) > budget:
                    continue
                served = most_served(problem, params, subset, modules)
                if served < 0:
                    continue
                cost = params.site_cost * size + params.module_cost * sum(modules)
                key = (round(served, 6), -cost)
                best = max(best, key)
    return best[0], -best[1]


def plan_key(problem, plan):
    served = plan.assignment >= 0
    cover = problem.daily_parcels[served].sum()
    shares = np.bincount(plan.pair_demand, weights=plan.pair_share, minlength=problem.n_demand)
    assert np.allclose(shares[served], 1.0) and np.allclose(shares[~served], 0.0)
    new = ~problem.existing[plan.sites]
    cost = 100.0 * np.count_nonzero(new & (plan.modules > 0)) + 30.0 * plan.modules.sum()
    return round(cover, 6), cost


@functools.cache
def expected(seed: int, budget: int | None):
    problem, params = random_instance(seed, existing=seed % 2)
    return brute_force(problem, params, budget=budget)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("seed", range(8))
def test_min_cost_matches_brute_force(seed, solver):
    problem, params = random_instance(seed, existing=seed % 2)
    plan = solve_lockers(problem, params, mode="min-cost", solver=solver)
    assert plan.status == "optimal"
    cover, cost = expected(seed, None)
    got_cover, got_cost = plan_key(problem, plan)
    assert got_cover == pytest.approx(cover)
    assert got_cost == pytest.approx(cost)
    assert plan.objective == pytest.approx(cost)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("seed", range(8))
def test_max_cover_matches_brute_force(seed, solver):
    problem, params = random_instance(100 + seed, existing=seed % 2)
    budget = 2 + seed % 3
    plan = solve_lockers(problem, params, mode="max-cover", budget=budget, solver=solver)
    assert plan.status == "optimal"
    cover, cost = expected(100 + seed, budget)
    got_cover, got_cost = plan_key(problem, plan)
    assert got_cover == pytest.approx(cover)
    assert got_cost == pytest.approx(cost)
    assert plan.modules.sum() <= budget


@pytest.mark.parametrize("seed", range(6))
def test_plan_invariants(seed):
    problem, params = random_instance(200 + seed, n_demand=30, n_sites=15, existing=2)
    plan = solve_lockers(problem, params)
    k = params.compartments_per_module
    load = plan.site_load(problem.daily_parcels)
    new = ~problem.existing[plan.sites]
    # R2 per locker, hence per community under proportional attribution
    assert np.all(plan.compartments[new] >= load[new] - 1e-6)
    assert np.all(plan.compartments[new] <= 1.3 * load[new] + 1e-6)
    assert np.all(plan.compartments == np.where(new, k * plan.modules, plan.compartments))
    # every served point walks within the radius to its locker
    served = plan.assignment >= 0
    assert np.all(plan.walk_m[served] <= params.radius_m + 1e-9)
    # served + unserved = all: a served point has no reason, each unserved one has its reason
    assert all(r == "" for r, s in zip(plan.reasons, served, strict=True) if s)
    assert all(r != "" for r, s in zip(plan.reasons, served, strict=True) if not s)


def test_dominance_never_changes_the_optimum():
    dropped = 0
    for seed in range(10):
        problem, params = random_instance(300 + seed, n_demand=8, n_sites=8)
        dropped += int(dominated_sites(problem).sum())
        capped = LockerParameters(
            radius_m=params.radius_m,
            compartments_per_module=params.compartments_per_module,
            site_cost=params.site_cost,
            module_cost=params.module_cost,
            max_modules_per_site=10**6,  # a cap that never binds switches the reduction off
        )
        full = solve_lockers(problem, capped)
        reduced = solve_lockers(problem, params)
        assert reduced.kept_sites <= full.kept_sites
        assert plan_key(problem, reduced) == pytest.approx(plan_key(problem, full))
    assert dropped > 0  # the instances do exercise the reduction


def two_homes_of_one_community(community):
    """Home 0 (10 parcels/day) reaches only site 0, home 1 (50) only site 1; 24-compartment
    modules, R2 at 1.0-1.3."""
    problem = LockerProblem(
        daily_parcels=np.array([10.0, 50.0]),
        pair_demand=np.array([0, 1]),
        pair_site=np.array([0, 1]),
        pair_walk_m=np.array([100.0, 100.0]),
        n_sites=2,
        existing=np.zeros(2, dtype=bool),
        existing_capacity=np.zeros(2),
        community=community,
    )
    return problem, LockerParameters(compartments_per_module=24)


def test_r2_per_community_serves_what_per_locker_cannot():
    """Per locker neither home fits: 10 parcels cannot fill a module (24 > 1.3 x 10) and 50 fit
    no whole number of modules (48 < 50, 72 > 65). Per community (60 parcels/day, so at most 78
    compartments) three modules serve home 1; home 0 as well would need 96 > 78."""
    alone, params = two_homes_of_one_community(None)
    assert model_size(alone, params).parts == 1  # site 0 reaches too few parcels: dropped
    assert (solve_lockers(alone, params).assignment == -1).all()
    joined, _ = two_homes_of_one_community(np.array(["c", "c"], dtype=object))
    assert model_size(joined, params).parts == 1 and model_size(joined, params).sites == 2
    plan = solve_lockers(joined, params)
    assert plan.status == "optimal"
    assert plan.assignment.tolist() == [-1, 1] and plan.modules.tolist() == [3]
    assert plan.attribution_community.tolist() == ["c"]
    assert plan.attribution_compartments.tolist() == pytest.approx([72.0])
    assert plan.reasons[0].startswith("serving it with the homes served would break R2")
    apart, _ = two_homes_of_one_community(np.array(["a", "b"], dtype=object))
    reasons = solve_lockers(apart, params).reasons
    assert reasons[0].startswith("too few parcels to fill one")
    assert reasons[1].startswith("serving it with the homes served would break R2")


@pytest.mark.parametrize("seed", range(6))
def test_homes_left_out_for_too_few_parcels_are(seed):
    """Each home said to have too few parcels, counting its communities, has none of its
    sites reach K / 1.3 of homes without a community plus all parcels of the communities met."""
    problem, params = random_instance(400 + seed, n_demand=30, n_sites=40, radius=60.0,
                                      min_parcels=1.0)
    rng = np.random.default_rng(seed)
    labels = rng.choice(np.array(["a", "b", None], dtype=object), problem.n_demand,
                        p=[0.1, 0.1, 0.8])
    problem = replace(problem, community=labels)
    plan = solve_lockers(problem, params)
    d = problem.daily_parcels
    told = [i for i, r in enumerate(plan.reasons) if r.startswith("too few parcels")]
    assert told  # the instances do leave homes out for that reason
    for i in told:
        for j in problem.pair_site[problem.pair_demand == i]:
            homes = problem.pair_demand[problem.pair_site == j]
            met = {labels[h] for h in homes} - {None}
            allowance = d[[h for h in homes if labels[h] is None]].sum() + sum(
                d[labels == c].sum() for c in met)
            assert allowance * params.ratio[1] < params.compartments_per_module
    served = plan.assignment >= 0
    assert all(r == "" for r, s in zip(plan.reasons, served, strict=True) if s)
    assert all(r != "" for r, s in zip(plan.reasons, served, strict=True) if not s)
