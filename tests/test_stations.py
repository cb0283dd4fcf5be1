"""Community end-stations (R1) and cargo stations (R7) on the Chengdu extract.

Every community with an ``admin_level=10`` boundary (read here with ``xml.etree``) must get a
station of >= 15 m2 within 500 m walk of each of its homes, or a named reason; the walks are
recomputed with networkx on the walk network.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from walk_reference import walks

from geodata.area import study_area
from geodata.buildings import buildings_from_osm
from geodata.candidates import (
    GROUND_FLOOR_UNIT_M2,
    candidates_from_osm,
    station_area_basis,
    station_floor_areas,
)
from geodata.centres import centres_from_osm
from geodata.communities import communities_from_osm
from geodata.demand import demand_from_buildings
from geodata.distances import network_distances
from geodata.network import walk_network
from geodata.osm import read_osm
from geodata.planner_data import sites_from_inventory
from geodata.tier_inputs import points_xy
from optimizer.compliance import rule_state
from optimizer.rules import preset
from optimizer.stations import (
    REUSE_ORDER,
    StationParameters,
    plan_cargo_stations,
    plan_community_stations,
)
from optimizer.tier_records import tier_summary
from siting.tier_problems import cargo_problem, station_problem


def stations(demand, comms, cand, walk, rules):
    """Community end-stations of the given layers (R1), through their array instance."""
    return plan_community_stations(station_problem(demand, comms, cand, walk, rules), rules)


def cargo_stations(centres, cand, walk, rules, *, params=None, exclude=()):
    """Cargo stations of the given centres (R7), through their array instance."""
    problem = cargo_problem(centres, cand, walk, rules, params=params, exclude=exclude)
    return plan_cargo_stations(problem, rules, params=params)


@pytest.fixture(scope="module")
def chengdu(chengdu_osm, chengdu_osm_plain):
    root = ET.parse(chengdu_osm_plain).getroot()
    admin10 = set()
    for rel in root.findall("relation"):
        t = {x.get("k"): x.get("v") for x in rel.findall("tag")}
        if t.get("boundary") == "administrative" and t.get("admin_level") == "10":
            admin10.add(f"relation/{rel.get('id')}")
    ex = read_osm(chengdu_osm)
    area = study_area(ex)
    b = buildings_from_osm(ex, area)
    comms = communities_from_osm(ex, area)
    demand = demand_from_buildings(b, comms)
    cand = candidates_from_osm(ex, area, b)
    walk = walk_network(ex, area)
    plan = stations(demand, comms, cand, walk, preset("guangdong"))
    return {"admin10": admin10, "ex": ex, "area": area, "demand": demand, "comms": comms,
            "cand": cand, "walk": walk, "plan": plan}


def nx_walk(walk, a_xy, b_xy):
    """Walk from a to b by the walking model, on networkx (tests/walk_reference.py)."""
    a_xy, b_xy = np.asarray(a_xy, dtype=float), np.asarray(b_xy, dtype=float)
    pairs = [(i, j) for i in range(len(a_xy)) for j in range(len(b_xy))]
    found = walks(walk, a_xy, b_xy, pairs, np.full(len(a_xy), -1), np.full(len(b_xy), -1))
    out = np.full((len(a_xy), len(b_xy)), np.inf)
    for (i, j), walk_m in found.items():
        out[i, j] = walk_m
    return out


def test_every_admin10_community_has_a_station_or_a_reason(chengdu):
    plan, demand = chengdu["plan"], chengdu["demand"]
    assert chengdu["admin10"] and set(plan.communities["community"]) == chengdu["admin10"]
    assert plan.solve.status == "optimal" and plan.solve.gap == pytest.approx(0, abs=1e-6)
    for _, row in plan.communities.iterrows():
        mine = plan.stations[plan.stations["community"] == row["community"]]
        if not row["passed"]:
            assert row["reason"], row["community"]
            continue
        assert len(mine) >= 1
        assert (mine["floor_area_m2"] >= 15).all()
        assert (mine["floor_area_m2"] >= mine["required_m2"] - 1e-6).all()
        homes = demand[demand["community"] == row["community"]]
        if homes.empty:
            continue
        walks = nx_walk(chengdu["walk"], np.c_[homes.geometry.x, homes.geometry.y],
                        points_xy(chengdu["cand"].iloc[mine["site"]]))
        # the reference measures the UTM plane, the network osmnx's great circles (<= 0.3 %)
        assert walks.min(axis=1).max() <= 500.0 * 1.005 + 0.5, row["name"]
    # parcels of every passing community are all served, and floor area follows the load
    served = plan.stations.groupby("community")["daily_parcels"].sum()
    ok = plan.communities.set_index("community")
    for k, total in served.items():
        if ok.loc[k, "passed"]:
            assert total == pytest.approx(ok.loc[k, "daily_parcels"], rel=1e-6)
    r1 = [r for r in plan.records if r["id"] == "R1"]
    assert len(r1) == len(chengdu["admin10"]) + 1
    assert all(r["clause"] == "004 五(二) 公共末端工程" for r in r1)


def test_a_community_with_no_home_gets_no_station_and_says_why(chengdu):
    """宽巷子社区 has no residential building in the extract: no station for 0 parcels a day
    (it used to get a 15 m2 one), and its R1 record is not evaluated, with the reason."""
    plan = chengdu["plan"]
    row = plan.communities.set_index("name").loc["宽巷子社区"]
    assert row["homes"] == 0 and row["daily_parcels"] == 0.0 and row["stations"] == 0
    assert not row["evaluated"] and "no residential building is mapped" in row["reason"]
    assert row["community"] not in set(plan.stations["community"])
    assert (plan.stations["daily_parcels"] > 0).all()
    rec = next(r for r in plan.records if r.get("place") == "宽巷子社区")
    assert (rec["passed"], rec["evaluated"]) == (None, False)
    assert "no residential building is mapped" in rec["reason"]
    judged = int(plan.communities["evaluated"].sum())
    assert judged == len(plan.communities) - 1
    assert plan.records[0]["achieved"].endswith("1 with no home mapped, not evaluated")


def test_unmeetable_floor_area_is_reported_per_community(chengdu):
    rules = preset("guangdong", overrides={"R1": 1e6})
    plan = stations(chengdu["demand"], chengdu["comms"], chengdu["cand"],
                                   chengdu["walk"], rules)
    assert not plan.communities["passed"].any() and plan.stations.empty
    judged = plan.communities[plan.communities["evaluated"]]
    assert (judged["reason"] == "no candidate of >= 1e+06 m2 within 500 m walk").all()
    assert not plan.records[0]["passed"]
    assert {r["place"] for r in plan.records[1:]} == set(chengdu["comms"]["name"])


def test_cargo_stations_at_neighbourhood_centres(chengdu):
    centres = centres_from_osm(chengdu["ex"], chengdu["area"])
    assert len(centres) > 0 and centres.within(chengdu["area"].projected).all()
    cargo = cargo_stations(centres, chengdu["cand"], chengdu["walk"], preset("guangdong"),
                                exclude=tuple(chengdu["plan"].stations["site_id"]))
    assert len(cargo.records) == len(centres) + 1
    assert (cargo.stations["walk_m"] <= 300.0).all()
    assert (cargo.stations["floor_area_m2"] >= 15).all()
    assert cargo.stations["site_id"].is_unique
    assert not set(cargo.stations["site_id"]) & set(chengdu["plan"].stations["site_id"])
    for rec in cargo.records[1:]:
        assert rec["passed"] or "no free candidate" in rec["reason"]


def test_stations_carry_planned_and_available_area_never_a_footprint(chengdu):
    st = chengdu["plan"].stations
    assert (st["planned_area_m2"] >= 15).all()
    assert (st["available_area_m2"] >= st["planned_area_m2"] - 1e-6).all()
    # one ground-floor unit at most: the demo's sites stand in buildings of ~950 m2 and more
    assert (st["available_area_m2"] <= GROUND_FLOOR_UNIT_M2).all()
    footprint = chengdu["cand"].set_index("site_id").loc[st["site_id"], "floor_area_m2"]
    assert (footprint.to_numpy() > GROUND_FLOOR_UNIT_M2).any()
    assert st["area_source"].str.contains("ground-floor unit|smaller than one").all()
    assert (st["floor_area_m2"] == st["available_area_m2"]).all()
    assert "default" in chengdu["plan"].records[0]["new_communities"]


def test_station_areas_are_data_with_their_basis(chengdu):
    """On Chengdu every station stands on the stated 100 m2 default (no OSM building of the
    sites is smaller, no inventory): the layer's columns and each R1 record say so as data,
    with the parameter's name, and which stations that assumed figure caps (1,000 parcels a
    day at 0.1 m2 per parcel)."""
    plan = chengdu["plan"]
    st = plan.stations
    assert len(st) > 0 and set(st["area_basis"]) == {"default"}
    assert (st["area_parameter"] == "StationParameters.ground_floor_unit_m2").all()
    assert (st["available_area_m2"] == GROUND_FLOOR_UNIT_M2).all()
    capped = st[st["capped_by_area"]]
    assert len(capped) >= 1 and np.allclose(capped["daily_parcels"], 1000.0)
    assert (st.loc[~st["capped_by_area"], "planned_area_m2"] < GROUND_FLOOR_UNIT_M2).all()
    by_site = st.set_index("site_id")
    listed = [s for r in plan.records if "stations" in r for s in r["stations"]]
    assert sorted(s["site_id"] for s in listed) == sorted(st["site_id"])
    for s in listed:
        row = by_site.loc[s["site_id"]]
        assert s["planned_area_m2"] == pytest.approx(row["planned_area_m2"], abs=0.01)
        assert (s["available_area_m2"], s["area_basis"], s["area_parameter"]) == (
            100.0, "default", "StationParameters.ground_floor_unit_m2")
    # an OSM building smaller than one unit is measured, not assumed
    small = chengdu["cand"].assign(floor_area_m2=60.0)
    basis, parameter = station_area_basis(small)
    osm = ~small["source"].astype(str).str.startswith("user:").to_numpy()
    assert (basis[osm] == "OSM measured").all() and (parameter[osm] == "").all()


def test_r1_fails_named_where_every_candidate_is_too_small(chengdu):
    """R1 at 120 m2, more than one ground-floor unit: with footprints as floor areas (954 m2
    and more) every community passed; with rooms of at most 100 m2 each fails, named."""
    assert (chengdu["cand"]["floor_area_m2"] >= 120).sum() > 100
    rules = preset("guangdong", overrides={"R1": 120})
    plan = stations(chengdu["demand"], chengdu["comms"], chengdu["cand"],
                                   chengdu["walk"], rules)
    assert plan.stations.empty and not plan.records[0]["passed"]
    failed = {r["place"]: r["reason"] for r in plan.records[1:] if r["passed"] is False}
    assert set(failed) == set(chengdu["comms"]["name"]) - {"宽巷子社区"}  # it has no home
    assert all(v == "no candidate of >= 120 m2 within 500 m walk" for v in failed.values())


def test_r1_uses_the_rooms_of_a_planner_inventory(chengdu):
    """A planner's 12 m2 room beside every community is never a station; a 40 m2 one is."""
    comms = chengdu["comms"]
    pts = comms.geometry.representative_point().to_crs(4326)
    for area_m2, usable in ((12.0, False), (40.0, True)):
        inventory = gpd.GeoDataFrame(
            {"site_id": [f"room{i}" for i in range(len(pts))], "name": "room", "kind": "station",
             "compartments": np.nan, "area_m2": area_m2, "existing": True,
             "source": "user:rooms.csv"}, geometry=pts.to_numpy(), crs=4326)
        rooms = sites_from_inventory(inventory, chengdu["area"])
        available, source = station_floor_areas(rooms)
        assert (available == area_m2).all() and (source == "planner inventory (area_m2)").all()
        cand = pd.concat([chengdu["cand"], rooms], ignore_index=True)
        plan = stations(chengdu["demand"], comms, cand, chengdu["walk"],
                                       preset("guangdong"))
        used = plan.stations["site_id"].isin(rooms["site_id"])
        assert used.any() == usable
        if usable:
            got = plan.stations[used]
            assert (got["area_source"] == "planner inventory (area_m2)").all()
            assert (got["available_area_m2"] == 40.0).all()
            assert (got["area_basis"] == "planner inventory").all()
            assert (got["area_parameter"] == "").all()
            rec = next(r for r in plan.records if r.get("community") == got["community"].iloc[0])
            room = next(s for s in rec["stations"] if s["site_id"] == got["site_id"].iloc[0])
            assert (room["available_area_m2"], room["area_basis"]) == (40.0, "planner inventory")


def test_r1_is_not_applicable_to_communities_marked_not_new(chengdu):
    comms = chengdu["comms"].assign(new=True, new_given=True)
    comms.loc[comms.index[0], "new"] = False
    plan = stations(chengdu["demand"], comms, chengdu["cand"], chengdu["walk"],
                                   preset("guangdong"))
    old = [r for r in plan.records if r.get("applicable") is False]
    assert [r["place"] for r in old] == [comms["name"].iloc[0]]
    assert old[0]["passed"] is None and rule_state(old[0]) == "not applicable"
    assert not any(comms["name"].iloc[0] in p for p in tier_summary(
        plan.solve, records=plan.records)["problems"])
    assert comms["community"].iloc[0] not in set(plan.stations["community"])
    assert "marked in the planner's communities table" in plan.records[0]["new_communities"]


def test_r7_fails_for_a_centre_with_no_candidate_in_reach(chengdu):
    # 骡马市社区's label point has no candidate of >= 15 m2 within the 300 m walk (R7 default)
    centres = centres_from_osm(chengdu["ex"], chengdu["area"])
    cargo = cargo_stations(centres, chengdu["cand"], chengdu["walk"], preset("guangdong"))
    failed = {r["place"]: r["reason"] for r in cargo.records[1:] if not r["passed"]}
    assert failed == {"骡马市社区": "no free candidate of >= 15 m2 within 300 m walk"}
    assert not cargo.records[0]["passed"]
    # with every centre within reach of some candidate, R7 passes: drop the one that is not
    ok = centres[centres["name"] != "骡马市社区"]
    cargo = cargo_stations(ok, chengdu["cand"], chengdu["walk"], preset("guangdong"))
    assert cargo.records[0]["passed"] and len(cargo.stations) == len(ok)


def conflict(centres, cand, walk, radius_m):
    """Real centres A, B and sites s, t: s reaches both and is A's first choice, t only A."""
    area = cand["floor_area_m2"].fillna(0.0).to_numpy()
    rank = cand["kind"].map({k: i for i, k in enumerate(REUSE_ORDER)}).fillna(99).to_numpy()
    reach = network_distances(walk, np.c_[centres.geometry.x, centres.geometry.y],
                              np.c_[cand.geometry.x, cand.geometry.y], radius_m=radius_m)
    per: dict[int, dict[int, float]] = {}
    for i, j, d in zip(reach.rows, reach.cols, reach.dist_m, strict=True):
        if area[j] >= 15:
            per.setdefault(int(i), {})[int(j)] = float(d)
    for a, b in itertools.permutations(sorted(per), 2):
        for s in sorted(set(per[a]) & set(per[b])):
            worse = [t for t in sorted(set(per[a]) - set(per[b]))
                     if (rank[t], per[a][t]) > (rank[s], per[a][s])]
            if worse:
                return a, b, s, worse[0]
    raise AssertionError("no conflicting pair of centres in the extract")


def test_r7_matching_serves_the_centre_a_greedy_pass_starves(chengdu):
    # Real centres and candidates at a 500 m walk (GB 50180-2018 10-minute circle): centre A's
    # first choice s is centre B's only site once the other sites are taken (exclude), so a
    # pass in centre order gives s to A and leaves B without; the matching serves both.
    centres = centres_from_osm(chengdu["ex"], chengdu["area"])
    cand, walk = chengdu["cand"], chengdu["walk"]
    a, b, s, t = conflict(centres, cand, walk, 500.0)
    keep = {cand["site_id"].iloc[s], cand["site_id"].iloc[t]}
    exclude = tuple(sorted(set(cand["site_id"]) - keep))
    params = StationParameters(cargo_radius_m=500.0)
    cargo = cargo_stations(centres.iloc[[a, b]], cand, walk, preset("guangdong"),
                                params=params, exclude=exclude)
    assert [r["passed"] for r in cargo.records] == [True, True, True]
    got = dict(zip(cargo.stations["centre_id"], cargo.stations["site_id"], strict=True))
    assert got == {centres["centre_id"].iloc[a]: cand["site_id"].iloc[t],
                   centres["centre_id"].iloc[b]: cand["site_id"].iloc[s]}
    # and with t taken as well, only one of them can be served: the other is named, with why
    cargo = cargo_stations(centres.iloc[[a, b]], cand, walk, preset("guangdong"),
                                params=params, exclude=(*exclude, cand["site_id"].iloc[t]))
    assert [r["passed"] for r in cargo.records].count(False) == 2
    assert any("needed by another centre" in r.get("reason", "") for r in cargo.records[1:])
