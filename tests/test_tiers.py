"""The whole last-mile hierarchy through ``siting.pipeline.plan`` (issue 5's acceptance).

Communities, villages and townships are counted here independently from the OSM tags, parsed
with ``xml.etree``; walks are recomputed with networkx on the walking graph.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from walk_reference import walks

from geodata.area import study_area
from geodata.network import walk_network
from geodata.osm import read_osm
from optimizer.milp import DEFAULT_GAP
from siting.pipeline import plan

ALL_TIERS = ("lockers", "stations", "villages", "townships", "hubs")
PUYANG_SEAT = (115.03, 35.71)  # a planner-given county centre north of the box (濮阳县 seat)


def tags_of(el: ET.Element) -> dict[str, str]:
    return {t.attrib["k"]: t.attrib["v"] for t in el.findall("tag")}


def strip(name: str) -> str:
    return re.sub("(镇|乡|街道)$", "", name)


# --------------------------------------------------------------------------- Chengdu (R1)


@pytest.fixture(scope="module")
def admin10(chengdu_osm_plain):
    """relation/<id> -> name of every admin_level=10 community boundary in the file."""
    root = ET.parse(chengdu_osm_plain).getroot()
    out = {}
    for rel in root.findall("relation"):
        t = tags_of(rel)
        if t.get("boundary") == "administrative" and t.get("admin_level") == "10":
            out[f"relation/{rel.get('id')}"] = t.get("name", "")
    return out


@pytest.fixture(scope="module")
def chengdu_plan(chengdu_osm):
    # with walks along the streets past the box the stations' proof took 28-57 s at load
    # averages 7-10 (9 s on the network cut at the box): more than the default minute leaves
    # it after the lockers
    return plan(chengdu_osm, rules="guangdong", tiers=("lockers", "stations"), out=None,
                time_limit=180)


@pytest.fixture(scope="module")
def walk_graph(chengdu_osm):
    ex = read_osm(chengdu_osm)
    # the plan's network: the area grown by the stations' 500 m walk (siting.pipeline)
    return walk_network(ex, study_area(ex), margin_m=500.0)


def walks_to_nearest(walk, homes_xy: np.ndarray, stations_xy: np.ndarray) -> np.ndarray:
    """Shortest walk from each home to any station by the walking model, on networkx
    (tests/walk_reference.py)."""
    pairs = [(i, j) for i in range(len(homes_xy)) for j in range(len(stations_xy))]
    found = walks(walk, homes_xy, stations_xy, pairs, np.full(len(homes_xy), -1),
                  np.full(len(stations_xy), -1))
    out = np.full(len(homes_xy), np.inf)
    for (i, _), walk_m in found.items():
        out[i] = min(out[i], walk_m)
    return out


def test_every_admin10_community_has_a_station_or_the_reason(chengdu_plan, admin10, walk_graph):
    layers, summary = chengdu_plan.layers, chengdu_plan.summary
    assert admin10 and set(admin10) <= set(layers["communities"]["community"])
    stations, demand = layers["stations"], layers["demand"]
    assert summary["tiers"]["stations"]["status"] == "optimal"
    assert summary["tiers"]["stations"]["gap"] == pytest.approx(0.0, abs=1e-6)
    r1 = {r["community"]: r for r in summary["rules"] if r["id"] == "R1" and "community" in r}
    bounds = layers["communities"].set_index("community").geometry
    checked = 0
    for rel, name in admin10.items():
        mine = stations[stations["community"] == rel]
        rec = r1[rel]
        assert rec["place"] == name and rec["clause"] == "004 五(二) 公共末端工程"
        if not rec["passed"]:
            assert "candidate" in rec["reason"] or "homes" in rec["reason"], name
            continue
        assert len(mine) >= 1 and (mine["floor_area_m2"] >= 15.0).all(), name
        assert (mine["floor_area_m2"] >= mine["required_m2"] - 1e-6).all()
        # homes inside the boundary (geometry, not the plan's community labels) and their walk
        homes = demand[demand.geometry.within(bounds.loc[rel])]
        if homes.empty:
            continue
        walks = walks_to_nearest(walk_graph, np.c_[homes.geometry.x, homes.geometry.y],
                                 np.c_[mine.geometry.x, mine.geometry.y])
        # the reference measures the UTM plane, the network osmnx's great circles (<= 0.3 %)
        assert walks.max() <= 500.0 * 1.005 + 0.5, (name, walks.max())
        checked += len(homes)
    assert checked > 100
    assert summary["tiers"]["stations"]["counts"]["stations"] == len(stations)
    # cargo stations (R7) at the neighbourhood centres the data identifies
    r7 = [r for r in summary["rules"] if r["id"] == "R7"]
    assert r7 and all(r["passed"] or r["reason"] for r in r7 if "place" in r)
    assert not set(layers["cargo_stations"]["site_id"]) & set(stations["site_id"])


def test_station_areas_reach_the_gpkg_the_records_and_the_report(chengdu_osm, tmp_path):
    """Planned area, available area and that figure's basis are columns of the stations layer,
    fields of the R1 records and a table of the report, each station on its own row."""
    out = tmp_path / "plan"
    plan(chengdu_osm, rules="guangdong", tiers=("lockers", "stations"), out=out)
    st = gpd.read_file(out / "plan.gpkg", layer="stations")
    for col in ("planned_area_m2", "available_area_m2", "area_source", "area_basis",
                "area_parameter", "capped_by_area", "floor_area_m2", "required_m2"):
        assert col in st.columns, col
    assert (st["area_basis"] == "default").all() and (st["available_area_m2"] == 100.0).all()
    assert (st["area_parameter"] == "StationParameters.ground_floor_unit_m2").all()
    capped = st[st["capped_by_area"].astype(bool)]
    assert np.allclose(capped["daily_parcels"], 1000.0)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["tiers"]["stations"]["counts"]["communities_without_homes"] == 1  # 宽巷子社区
    listed = [s for r in summary["rules"] if r["id"] == "R1" for s in r.get("stations", [])]
    assert sorted(s["site_id"] for s in listed) == sorted(st["site_id"])
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "末端综合服务站面积（R1）" in report and "默认假设值" in report
    assert (f"{len(st)} 个站点的可用面积为默认假设值（参数 StationParameters.ground_floor_unit_m2）"
            f"，并非实测或规划方清单所给；其中 {len(capped)} 个站点的件量受该面积限制。") in report


def test_unmeetable_rule_names_rule_place_and_what_is_missing(chengdu_osm, admin10):
    result = plan(chengdu_osm, rules="guangdong", tiers=("lockers", "stations"),
                  rule_overrides={"R1": 10000})
    failed = [r for r in result.summary["rules"] if r["id"] == "R1" and r["passed"] is False]
    per_place = {r["place"]: r["reason"] for r in failed if "place" in r}
    with_homes = set(admin10.values()) - {"宽巷子社区"}  # no home mapped: not evaluated
    assert with_homes == set(per_place)
    assert set(per_place.values()) == {"no candidate of >= 10000 m2 within 500 m walk"}
    problems = result.summary["tiers"]["stations"]["problems"]
    assert not [p for p in problems if "宽巷子社区" in p]
    for name in with_homes:
        assert f"R1 {name}: no candidate of >= 10000 m2 within 500 m walk" in problems
    assert result.layers["stations"].empty


# --------------------------------------------------------------------------- Puyang (R3-R6)


@pytest.fixture(scope="module")
def puyang_tags(puyang_osm):
    root = ET.parse(puyang_osm).getroot()
    villages, townships = set(), set()
    for node in root.findall("node"):
        t = tags_of(node)
        if t.get("place") == "village":
            villages.add(f"node/{node.get('id')}")
        if t.get("place") == "town" and t.get("name"):
            townships.add(strip(t["name"]))
    for rel in root.findall("relation"):
        t = tags_of(rel)
        if (t.get("boundary") == "administrative" and t.get("name")
                and t.get("admin_level") in (None, "8")):
            townships.add(strip(t["name"]))
    return villages, townships


def primary_lines(path, crs):
    """The extract's highway=primary ways, projected to ``crs``."""
    root = ET.parse(path).getroot()
    node = {n.attrib["id"]: (float(n.attrib["lon"]), float(n.attrib["lat"]))
            for n in root.findall("node")}
    tr = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    lines = [shapely.LineString([tr.transform(*node[nd.attrib["ref"]]) for nd in way.findall("nd")])
             for way in root.findall("way") if tags_of(way).get("highway") == "primary"]
    return shapely.MultiLineString(lines)


def check_rural(layers, puyang_tags):
    villages, townships = puyang_tags
    vs, ts = layers["village_stations"], layers["township_stations"]
    counts = vs["village_id"].value_counts()
    assert set(counts.index) == villages and len(villages) == 54
    assert counts.between(1, 2).all()
    assert {strip(n) for n in ts["township"]} == townships and len(townships) == 4
    assert ts["township_id"].is_unique and len(ts) == len(townships)
    assert "territory" not in ts.columns
    # every township station sends its parcels to one hub
    links = layers["hub_links"]
    assert set(links["station_id"]) == set(ts["id"])
    assert set(links["hub_id"]) <= set(layers["hubs"]["id"])
    assert links["daily_parcels"].sum() == pytest.approx(vs["daily_parcels"].sum())


def test_puyang_all_tiers_county_centre_placed(puyang_osm, puyang_tags):
    result = plan(puyang_osm, rules="guangdong", tiers=ALL_TIERS)
    layers, summary = result.layers, result.summary
    check_rural(layers, puyang_tags)
    hubs = layers["hubs"]
    assert len(hubs) >= 1 and not hubs["forced"].any() and hubs["county_centre"].sum() == 1
    # the extract maps no industrial or logistics site: hubs stand on the primary roads
    # (S212, S215, read here from the XML), never on a building, and the summary says so
    assert (hubs["source"] == "drive-node-main-road").all()
    assert "trunk or primary" in summary["tiers"]["hubs"]["hub_sites"]
    primary = primary_lines(puyang_osm, hubs.crs)
    assert all(primary.distance(pt) < 1.0 for pt in hubs.geometry)
    # R6 on the whole throughput: inbound and as many outbound (outbound ratio 1)
    assert hubs["throughput"].to_numpy() == pytest.approx(2 * hubs["daily_parcels"].to_numpy())
    # a county of 58 villages: every hub far below R6's 50,000 items a day, none automated
    assert hubs["throughput"].max() < 50_000
    assert not hubs["automatic_sorting"].any()
    ids = {r["id"] for r in summary["rules"]}
    assert {"R1", "R3", "R4", "R5", "R6", "R7", "G4", "G5"} <= ids
    r5 = [r for r in summary["rules"] if r["id"] == "R5"]
    assert r5[0]["passed"] and r5[0]["clause"]
    assert all(r["passed"] for r in summary["rules"] if r["id"] in ("R3", "R4", "G4", "G5"))
    t = summary["tiers"]["hubs"]
    assert t["status"] == "optimal" and t["gap"] == pytest.approx(0.0, abs=1e-6)
    assert t["vehicle_km"] > 0 and t["fed_by"] == "township_stations"
    # a tier's status is a claim on its whole problem: optimal with a bound within the solver's
    # tolerance; the tiers placed by rule (no bound) say so
    assert t["bound"] is not None and t["gap"] <= DEFAULT_GAP
    for name in ("villages", "townships", "cargo_stations"):
        tier = summary["tiers"][name]
        assert tier["status"] == "rule-based" and tier["bound"] is None, name


def test_puyang_county_centre_given_and_gpkg_layers(puyang_osm, puyang_tags, tmp_path):
    out = tmp_path / "plan"
    result = plan(puyang_osm, rules="guangdong", tiers=ALL_TIERS, county_centre=PUYANG_SEAT,
                  out=out, lang="en")
    names = {n for n, _ in pyogrio.list_layers(out / "plan.gpkg")}
    assert {"stations", "village_stations", "township_stations", "hubs"} <= names
    layers = {n: gpd.read_file(out / "plan.gpkg", layer=n)
              for n in ("village_stations", "township_stations", "hubs", "hub_links")}
    check_rural(layers, puyang_tags)
    hubs = layers["hubs"]
    assert len(hubs) == 1 and bool(hubs["forced"].iloc[0]) and bool(hubs["county_centre"].iloc[0])
    assert hubs.geometry.iloc[0].distance(shapely.Point(PUYANG_SEAT)) < 1e-6  # WGS84 in gpkg
    assert (layers["hub_links"]["hub_id"] == hubs["id"].iloc[0]).all()
    # the seat is outside the box: the links reach beyond the study area
    area = study_area(read_osm(puyang_osm))
    seat = pyproj.Transformer.from_crs(4326, area.crs, always_xy=True).transform(*PUYANG_SEAT)
    assert not area.projected.contains(shapely.Point(seat))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["tiers"]["hubs"]["counts"]["open"] == 1
    assert {r["id"] for r in summary["rules"]} >= {"R3", "R4", "R5"}
    html = (out / "map.html").read_text(encoding="utf-8")
    for key in ("Village stations", "Township stations", "Sorting hubs"):
        assert key in html
    assert result.summary["tiers"]["villages"]["counts"]["villages"] == 54
