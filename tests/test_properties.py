"""Hypothesis property tests of the locker model on random small instances.

Invariants: coverage radius respected, compartment ratio (R2) within bounds at every new
locker, demand conserved (shares sum to 1 for a served point, 0 for an unserved one), and the
objective never better than the brute-force optimum (and, being proven optimal, equal to it).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_lockers import brute_force, random_instance

from optimizer.lockers import LockerParameters, LockerProblem, solve_lockers

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw: st.DrawFn, *, max_demand: int = 5, max_sites: int = 4):
    """A random instance: points and sites in a 500 m square, straight-line walks."""
    n_demand = draw(st.integers(1, max_demand))
    n_sites = draw(st.integers(1, max_sites))
    seed = draw(st.integers(0, 2**32 - 1))
    radius = draw(st.sampled_from([150.0, 260.0, 400.0]))
    n_existing = draw(st.integers(0, min(1, n_sites)))
    k = draw(st.sampled_from([10, 20]))
    hi = draw(st.sampled_from([1.0, 1.3, 1.6]))
    return random_instance(seed, n_demand=n_demand, n_sites=n_sites, existing=n_existing,
                           radius=radius, compartments_per_module=k, ratio_high=hi,
                           min_parcels=3.0)


def _check_invariants(problem: LockerProblem, params: LockerParameters, plan) -> None:
    lo, hi = params.ratio
    served = plan.assignment >= 0
    # coverage radius: every served point, and every share it sends, within the radius
    assert np.all(plan.walk_m[served] <= params.radius_m + 1e-9)
    used = plan.pair_share > 1e-9
    assert np.all(plan.pair_walk_m[used] <= params.radius_m + 1e-9)
    # demand conserved
    shares = np.bincount(plan.pair_demand, weights=plan.pair_share, minlength=problem.n_demand)
    assert np.allclose(shares[served], 1.0, atol=1e-6)
    assert np.allclose(shares[~served], 0.0, atol=1e-6)
    assert np.all(plan.pair_share >= -1e-9)
    # only open sites take parcels, and unserved points have a reason
    assert set(plan.pair_site[used].tolist()) <= set(plan.sites.tolist())
    assert all(r == "" for r, v in zip(plan.reasons, served, strict=True) if v)
    assert all(r != "" for r, v in zip(plan.reasons, served, strict=True) if not v)
    # R2 at every new locker; existing ones within their capacity
    load = plan.site_load(problem.daily_parcels)
    new = ~problem.existing[plan.sites]
    tol = 1e-6
    assert np.all(plan.compartments[new] >= lo * load[new] - tol)
    assert np.all(plan.compartments[new] <= hi * load[new] + tol)
    assert np.all(plan.compartments[new] == params.compartments_per_module * plan.modules[new])
    old = ~new
    assert np.all(load[old] <= problem.existing_capacity[plan.sites][old] + tol)


def _cover_and_cost(problem: LockerProblem, params: LockerParameters, plan) -> tuple[float, float]:
    served = plan.assignment >= 0
    new = ~problem.existing[plan.sites]
    cost = (params.site_cost * np.count_nonzero(new & (plan.modules > 0))
            + params.module_cost * plan.modules.sum())
    return float(problem.daily_parcels[served].sum()), float(cost)


@SETTINGS
@given(instances())
def test_min_cost_invariants_and_never_beats_brute_force(inst) -> None:
    problem, params = inst
    plan = solve_lockers(problem, params, mode="min-cost")
    _check_invariants(problem, params, plan)
    assert plan.status == "optimal"
    cover, cost = _cover_and_cost(problem, params, plan)
    best_cover, best_cost = brute_force(problem, params)
    # min-cost serves all servable demand, then minimises cost: never better than the optimum
    assert cover <= best_cover + 1e-6
    assert cover == pytest.approx(best_cover, abs=1e-6)
    assert cost >= best_cost - 1e-6
    assert cost == pytest.approx(best_cost, abs=1e-6)


@SETTINGS
@given(instances(), st.integers(0, 4))
def test_max_cover_invariants_and_never_beats_brute_force(inst, budget: int) -> None:
    problem, params = inst
    plan = solve_lockers(problem, params, mode="max-cover", budget=budget)
    _check_invariants(problem, params, plan)
    assert plan.status == "optimal"
    assert int(plan.modules.sum()) <= budget
    cover, _ = _cover_and_cost(problem, params, plan)
    best_cover, _ = brute_force(problem, params, budget=budget)
    assert cover <= best_cover + 1e-6
    assert cover == pytest.approx(best_cover, abs=1e-6)
