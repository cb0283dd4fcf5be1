"""Sorting hubs (R5/R6): the capacitated facility location, R6 flags, clear infeasibility."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from geodata.errors import InfeasiblePlanError
from optimizer.hubs import HubParameters, HubProblem, solve_hubs
from optimizer.rules import preset


def line_instance(parcels, hub_x, *, capacity=100_000.0, fixed=20_000.0, forced=None):
    """Stations and hubs on a line; every pair in reach, distance in km."""
    st_x = np.arange(len(parcels), dtype=float) * 10.0
    s, h = np.meshgrid(np.arange(len(parcels)), np.arange(len(hub_x)), indexing="ij")
    s, h = s.ravel(), h.ravel()
    return HubProblem(
        daily_parcels=np.asarray(parcels, float), pair_station=s, pair_hub=h,
        pair_km=np.abs(st_x[s] - np.asarray(hub_x, float)[h]),
        capacity=np.full(len(hub_x), capacity), fixed_cost=np.full(len(hub_x), fixed),
        forced=np.zeros(len(hub_x), bool) if forced is None else np.asarray(forced, bool),
    )


def test_hub_over_50000_is_flagged_for_automatic_sorting():
    # 15,000 + 12,500 parcels in near hub 0, as many out (55,000 >= 50,000); 8,000 far away
    problem = line_instance([15_000, 12_500, 0, 0, 0, 0, 0, 0, 0, 0, 8_000], [5.0, 100.0])
    plan = solve_hubs(problem, preset("guangdong"), params=HubParameters(cost_per_parcel_km=0.05))
    assert plan.status == "optimal"
    assert set(plan.open_hubs) == {0, 1}
    assert plan.load[0] == pytest.approx(27_500)
    assert plan.throughput[0] == pytest.approx(55_000)
    assert plan.automatic_sorting.tolist() == [True, False]
    r6 = [r for r in plan.records if r["id"] == "R6"]
    assert [r["automatic_sorting"] for r in r6] == [True, False]
    assert [r["load"] for r in r6] == [pytest.approx(55_000), pytest.approx(16_000)]
    # inbound only (no outbound): 27,500 < 50,000, not flagged
    inbound_only = solve_hubs(problem, preset("guangdong"), params=HubParameters(outbound_ratio=0))
    assert not inbound_only.automatic_sorting.any()
    assert all(r["clause"].startswith("004 二(三)") for r in r6)
    # vehicle-km recomputed from the assignment
    km = np.abs(np.arange(11) * 10.0 - np.array([5.0, 100.0])[plan.assignment])
    parcel_km = float((problem.daily_parcels * km).sum())
    assert plan.parcel_km == pytest.approx(parcel_km)
    assert plan.vehicle_km == pytest.approx(2 * parcel_km / 1_000)


def test_below_threshold_not_flagged_and_zhengzhou_automates_all():
    problem = line_instance([10_000, 10_000], [0.0, 10.0])
    plan = solve_hubs(problem, preset("guangdong"))
    assert not plan.automatic_sorting.any()
    plan = solve_hubs(problem, preset("zhengzhou"))  # 001 专栏3: 100 % automated, threshold 0
    assert plan.automatic_sorting[plan.open_hubs].all()


def test_matches_brute_force_on_small_instances():
    rng = np.random.default_rng(7)
    for _ in range(5):
        parcels = rng.integers(500, 15_000, 5).astype(float)
        hubs = rng.uniform(0, 40, 3)
        problem = line_instance(parcels, hubs, capacity=50_000.0, fixed=5_000.0)
        plan = solve_hubs(problem, preset("national"))
        best = np.inf
        for assign in itertools.product(range(3), repeat=5):
            a = np.array(assign)
            load = np.bincount(a, weights=2 * parcels, minlength=3)  # in and out
            if (load > 50_000).any():
                continue
            km = np.abs(np.arange(5) * 10.0 - hubs[a])
            best = min(best, 5_000.0 * len(set(assign)) + 0.05 * (parcels * km).sum())
        assert plan.objective == pytest.approx(best, rel=1e-6)


def test_forced_county_centre_opens():
    problem = line_instance([1_000, 1_000], [0.0, 10.0, 500.0], forced=[False, False, True])
    plan = solve_hubs(problem, preset("shanxi"))
    assert 2 in plan.open_hubs


def test_capacity_shortfall_names_rule_place_and_missing():
    problem = line_instance([30_000, 30_000], [0.0], capacity=100_000.0)  # 120,000 in and out
    with pytest.raises(InfeasiblePlanError, match=r"R5.*濮阳县.*120,000 items/day.*100,000"):
        solve_hubs(problem, preset("national"), place="濮阳县")


def test_station_out_of_reach_named():
    problem = HubProblem(
        daily_parcels=np.array([10.0, 10.0]), pair_station=np.array([0]),
        pair_hub=np.array([0]), pair_km=np.array([1.0]), capacity=np.array([100.0]),
        fixed_cost=np.array([1.0]), forced=np.array([False]), station_names=("甲村", "乙村"),
    )
    with pytest.raises(InfeasiblePlanError, match="R5.*乙村"):
        solve_hubs(problem, preset("national"))
