"""Rural tiers on the Puyang extract: villages 1-2 stations (R3), townships one (R4), county hub.

The villages and townships are counted here independently, from the OSM tags parsed with
``xml.etree``, not with the code under test.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pyproj
import pytest

from geodata.area import study_area
from geodata.buildings import buildings_from_osm
from geodata.candidates import candidates_from_osm
from geodata.network import drive_network
from geodata.osm import read_osm
from geodata.rural import rural_places_from_osm
from optimizer.hubs import hub_problem_on_network, solve_hubs
from optimizer.rules import preset
from optimizer.rural import RuralParameters, plan_rural


def tags_of(el):
    return {t.get("k"): t.get("v") for t in el.findall("tag")}


@pytest.fixture(scope="module")
def puyang(puyang_osm):
    root = ET.parse(puyang_osm).getroot()
    villages, towns, relations = set(), set(), set()
    for node in root.findall("node"):
        t = tags_of(node)
        if t.get("place") == "village":
            villages.add(f"node/{node.get('id')}")
        if t.get("place") == "town":
            towns.add(re.sub("(镇|乡)$", "", t["name"]))
    for rel in root.findall("relation"):
        t = tags_of(rel)
        if t.get("boundary") == "administrative" and t.get("name") and t.get("admin_level") in (None, "8"):
            relations.add(re.sub("(镇|乡)$", "", t["name"]))
    extract = read_osm(puyang_osm)
    area = study_area(extract)
    net = drive_network(extract, area)
    v, t = rural_places_from_osm(extract, area)
    cand = candidates_from_osm(extract, area, buildings_from_osm(extract, area))
    return {"villages": villages, "townships": towns | relations, "extract": extract,
            "area": area, "net": net, "v": v, "t": t, "cand": cand}


def test_places_match_tags(puyang):
    assert len(puyang["villages"]) == 54 and len(puyang["townships"]) == 4
    v, t = puyang["v"], puyang["t"]
    assert set(v.loc[v["place"] == "village", "village_id"]) == puyang["villages"]
    assert {re.sub("(镇|乡)$", "", n) for n in t["name"]} == puyang["townships"]
    assert len(t) == 4  # the two 庆祖镇 nodes are one town
    assert (v["township"] != "").all()
    qingzu = t.loc[t["name"] == "庆祖镇", "township_id"].item()
    for name in ("庆北村", "庆南村", "庆中村"):
        assert (v.loc[v["name"] == name, "township"] == qingzu).all()


@pytest.mark.parametrize("name, lo, hi", [("guangdong", 1, 2), ("shanxi", 1, 1)])
def test_every_village_and_township_gets_its_stations(puyang, name, lo, hi):
    rules = preset(name)
    params = RuralParameters(second_station_parcels=400.0)  # some villages get a second one
    plan = plan_rural(puyang["v"], puyang["t"], puyang["net"], rules,
                      candidates=puyang["cand"], params=params)
    counts = plan.village_stations["village_id"].value_counts()
    assert set(counts.index) == puyang["villages"]  # hamlets get none of their own
    assert counts.between(lo, hi).all()
    if hi == 2:
        assert (counts == 2).any()
    names = {re.sub("(镇|乡)$", "", n) for n in plan.township_stations["township"]}
    assert names == puyang["townships"]
    assert plan.township_stations["township_id"].is_unique
    # every station stands on the drive network or at a candidate site inside the area
    pts = plan.village_stations.geometry
    assert pts.within(puyang["area"].projected.buffer(1.0)).all()
    r3 = [r for r in plan.records if r["id"] == "R3"]
    assert len(r3) == 55 and all(r["passed"] for r in r3)
    assert all(r["clause"] for r in plan.records)
    # daily parcels are conserved between the villages' stations and their townships
    assert plan.village_stations["daily_parcels"].sum() == pytest.approx(
        plan.township_stations["daily_parcels"].sum())


def test_county_centre_given_as_external_point(puyang):
    plan = plan_rural(puyang["v"], puyang["t"], puyang["net"], preset("xinyang"),
                      candidates=puyang["cand"])
    st = plan.township_stations
    seat = pyproj.Transformer.from_crs(4326, puyang["area"].crs, always_xy=True).transform(
        115.03, 35.71)  # a planner-given point north of the box, where the county seat lies
    xy = np.c_[st.geometry.x, st.geometry.y]
    problem = hub_problem_on_network(xy, st["daily_parcels"], np.r_[xy, [seat]], puyang["net"],
                                     forced=[False] * len(st) + [True])
    hubs = solve_hubs(problem, preset("xinyang"), place="濮阳县")
    assert len(st) in hubs.open_hubs
    assert (hubs.assignment >= 0).all()
    assert hubs.records[0]["id"] == "R5" and hubs.records[0]["passed"]
