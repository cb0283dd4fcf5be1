"""Sorting hubs (R5/R6): the capacitated facility location, R6 flags, clear infeasibility."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from geodata.errors import InfeasiblePlanError
from optimizer.hubs import HubParameters, HubProblem, solve_hubs
from optimizer.rules import preset
from optimizer.rural import RuralParameters
from siting.tier_problems import drive_hub_problem, rural_plan


def line_instance(parcels, hub_x, *, capacity=100_000.0, fixed=20_000.0, forced=None):
    """Stations and hubs on a line; every pair in reach, distance in km."""
    st_x = np.arange(len(parcels), dtype=float) * 10.0
    grid = np.meshgrid(np.arange(len(parcels)), np.arange(len(hub_x)), indexing="ij")
    s, h = grid[0].ravel(), grid[1].ravel()
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
    assert plan.solve.status == "optimal"
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
        assert plan.solve.objective == pytest.approx(best, rel=1e-6)


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


# --------------------------------------------------------------------- real data (Puyang, all)


@pytest.fixture(scope="module")
def puyang_rural(puyang_osm):
    from geodata.area import study_area
    from geodata.buildings import buildings_from_osm
    from geodata.candidates import candidates_from_osm
    from geodata.hub_sites import hub_sites_from_osm
    from geodata.network import drive_network
    from geodata.osm import read_osm
    from geodata.rural import rural_places_from_osm

    ex = read_osm(puyang_osm)
    area = study_area(ex)
    net = drive_network(ex, area)
    v, t = rural_places_from_osm(ex, area)
    cand = candidates_from_osm(ex, area, buildings_from_osm(ex, area))
    return {"net": net, "v": v, "t": t, "cand": cand, "sites": hub_sites_from_osm(ex, area, net)}


def puyang_hubs(pr, *, per_resident=106.0, params=None):
    """Township stations of Puyang (per-capita volume given) sent to the extract's hub sites."""
    rural = rural_plan(pr["v"], pr["t"], pr["net"], preset("guangdong"), candidates=pr["cand"],
                       params=RuralParameters(parcels_per_resident_per_year=per_resident))
    st, sites = rural.township_stations, pr["sites"]
    problem = drive_hub_problem(
        st[["x", "y"]].to_numpy(), st["daily_parcels"],
        np.c_[sites.geometry.x, sites.geometry.y], pr["net"], params=params,
        capacity=sites["capacity"], fixed_cost=sites["fixed_cost"],
        hub_names=tuple(sites["name"]))
    return solve_hubs(problem, preset("guangdong"), params=params, place="濮阳县")


def only_r6(plan):
    (r6,) = [r for r in plan.records if r["id"] == "R6"]
    return r6


def test_r6_fails_on_puyang_over_its_sorting_capacity_or_without_automation(puyang_rural):
    # national volume (106 items per resident a year, 002): the one hub sorts 47,744 items a
    # day in and out; a planned sorting capacity of 40,000 (a county's existing line) is short
    plan = puyang_hubs(puyang_rural, params=HubParameters(sorting_capacity=40_000.0))
    r6 = only_r6(plan)
    assert r6["load"] == pytest.approx(47_744, abs=1) and r6["sorting_capacity"] == 40_000
    assert r6["passed"] is False and not r6["automatic_sorting"]
    assert r6["reason"] == "47,744 items/day exceed the planned sorting capacity of 40,000"
    assert plan.sorting_capacity[plan.open_hubs].tolist() == [40_000.0]
    # Guangdong's volume (300 items per resident a year, 004 表1): 135,123 a day reach the
    # 50,000 threshold, and the planner allows no automatic sorting: R6 fails at the hub
    big = puyang_hubs(puyang_rural, per_resident=300.0,
                      params=HubParameters(capacity=200_000, automatic_sorting=False))
    r6 = only_r6(big)
    assert r6["load"] == pytest.approx(135_123, abs=1) and r6["sorting_capacity"] == 200_000
    assert r6["passed"] is False and not r6["automatic_sorting"]
    assert not big.automatic_sorting.any()
    assert r6["reason"] == ("135,123 items/day reach the 50,000 threshold but no automatic "
                            "sorting is planned (the planner does not allow it)")
    assert "required, not planned" in r6["achieved"]


def test_r6_on_puyang_whole_throughput(puyang_rural):
    # national volume: 54 villages x 1,500 residents plus hamlets receive 23,872 items a day
    # and send as many: 47,744 < 50,000, no automatic sorting needed; the road-node site
    # sorts 100,000 (HubParameters.capacity): R6 passes
    plan = puyang_hubs(puyang_rural)
    r6 = only_r6(plan)
    assert r6["inbound"] == pytest.approx(23_872, abs=1)
    assert r6["load"] == pytest.approx(2 * r6["inbound"])
    assert r6["sorting_capacity"] == 100_000 and not r6["automatic_sorting"]
    assert r6["passed"] is True and "reason" not in r6
    # Guangdong's volume: 135,123 a day, automatic sorting planned on a 200,000 site: passes
    big = puyang_hubs(puyang_rural, per_resident=300.0, params=HubParameters(capacity=200_000))
    r6 = only_r6(big)
    assert r6["load"] == pytest.approx(135_123, abs=1) and r6["automatic_sorting"]
    assert r6["passed"] is True and "required and planned" in r6["achieved"]


def test_r5_fails_when_the_plan_needs_more_hubs_than_asked(puyang_rural):
    small = HubParameters(capacity=30_000.0)  # each road-node site sorts 30,000 a day
    plan = puyang_hubs(puyang_rural, params=small)
    r5 = plan.records[0]
    assert r5["id"] == "R5" and len(plan.open_hubs) == 2 and not r5["passed"]
    assert "47,744 items/day" in r5["reason"] and "30,000" in r5["reason"]
    # the planner asks for two hubs: R5 passes and the record says it was asked
    plan = puyang_hubs(puyang_rural, params=HubParameters(capacity=30_000.0, county_hubs=2))
    r5 = plan.records[0]
    assert r5["passed"] and r5["planner_asked"] == 2 and "planner asks for 2" in r5["required"]
    # and by default one hub sorts it all: R5 passes
    assert puyang_hubs(puyang_rural).records[0]["passed"]


@pytest.mark.parametrize("fixture", ["chengdu_osm_plain", "shanghai_osm", "puyang_osm"])
def test_no_hub_site_is_a_residential_building(fixture, request):
    from geodata.area import study_area
    from geodata.buildings import buildings_from_osm
    from geodata.hub_sites import hub_sites_from_osm
    from geodata.network import drive_network
    from geodata.osm import read_osm

    ex = read_osm(request.getfixturevalue(fixture))
    area = study_area(ex)
    sites = hub_sites_from_osm(ex, area, drive_network(ex, area))
    assert len(sites) > 0
    homes = buildings_from_osm(ex, area)
    homes = homes[homes["residential"]]
    if len(homes):  # Shanghai's file maps no building at all
        assert not sites.geometry.intersects(homes.union_all()).any()
    # none of them maps industrial land: every site is a main-road node, and says so
    assert (sites["source"] == "drive-node-main-road").all()
    assert sites["name"].str.contains("fallback").all()


def test_every_parcel_of_chengdu_reaches_a_hub_once(chengdu_osm):
    """Lockers, stations and hubs on the Chengdu demo: the hubs receive the demand's parcels.

    The feeders are recomputed here from the plan's own ``demand`` and ``stations`` layers: the
    end-stations carry their communities' homes, the homes in no community (``unassigned``)
    go to the hub through the locker that serves each (its ``locker_id``), and those no
    locker serves from their mean point.
    """
    from siting.pipeline import plan

    result = plan(chengdu_osm, tiers=("lockers", "stations", "hubs"), out=None)
    layers, summary = result.layers, result.summary
    demand, links, hubs = layers["demand"], layers["hub_links"], layers["hubs"]
    total = float(demand["daily_parcels"].sum())
    assert total == pytest.approx(11_494.1, abs=0.1)
    assert float(links["daily_parcels"].sum()) == pytest.approx(total, rel=1e-3)
    assert float(hubs["daily_parcels"].sum()) == pytest.approx(total, rel=1e-3)
    assert float(hubs["throughput"].sum()) == pytest.approx(2 * total, rel=1e-3)
    # every station's load, once; every community fully carried by its stations
    stations = layers["stations"]
    by_id = links.set_index("station_id")["daily_parcels"]
    assert by_id.reindex(stations["id"]).to_numpy() == pytest.approx(
        stations["daily_parcels"].to_numpy())
    loose = demand[demand["community"] == "unassigned"]
    assert float(loose["daily_parcels"].sum()) == pytest.approx(2_275.3, abs=0.1)
    per_locker = loose.groupby("locker_id")["daily_parcels"].sum()
    assert by_id.reindex("locker-" + per_locker.index).to_numpy() == pytest.approx(
        per_locker.to_numpy())
    unserved = float(loose.loc[loose["locker_id"].isna(), "daily_parcels"].sum())
    assert unserved == pytest.approx(29.2, abs=0.1) and by_id["homes-none"] == pytest.approx(
        unserved)
    t = summary["tiers"]["hubs"]
    assert t["fed_by"] == "stations+lockers+homes"
    assert t["counts"]["daily_parcels"] == pytest.approx(total, abs=0.1)
    # on the file's roads (not cut at the box, one-way streets driven both ways round) one
    # road-node hub reaches all 27 feeders, st-018 and the one home no locker serves included:
    # one hub opens and R5 (one per county) holds. Clipped at the box before, two opened.
    r5 = next(r for r in summary["rules"] if r["id"] == "R5")
    assert t["counts"]["open"] == len(hubs) == 1 and r5["passed"] is True
    assert t["counts"]["stations"] == 27 and int(hubs["stations"].iloc[0]) == 27
    assert len(links) == 27 and (links["hub_id"] == hubs["id"].iloc[0]).all()
    assert {"st-018", "homes-none"} <= set(links["station_id"])
