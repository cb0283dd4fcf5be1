"""A planner's own community table and locker inventory, through the whole pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geodata.user_inputs import read_communities, read_inventory
from siting.pipeline import plan


def test_planner_tables_drive_demand_and_keep_existing_lockers(chengdu_osm, tmp_path):
    communities = tmp_path / "communities.csv"
    communities.write_text(
        "name,lon,lat,households\n"
        "文翁小区,104.0600,30.6600,800\n"
        "商业街小区,104.0660,30.6640,1200\n"
        "<script>alert(1)</script>,104.0620,30.6580,500\n",
        encoding="utf-8",
    )
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "kind,name,lon,lat,compartments\nlocker,丰巢 A,104.0661,30.6641,120\n", encoding="utf-8"
    )
    result = plan(
        chengdu_osm,
        out=tmp_path / "out",
        communities=read_communities(communities, datum="wgs84"),
        inventory=read_inventory(inventory, datum="wgs84"),
        demand_mode="communities",
    )
    summary = result.summary
    assert summary["demand_source"] == "the planner's community table"
    # residents = households x 2.62 (2020 census household size), all of it, in three points
    assert summary["counts"]["residents"] == pytest.approx(2500 * 2.62, rel=1e-6)
    lockers = result.layers["lockers"]
    existing = lockers[lockers["existing"]]
    assert len(existing) == 1 and existing["compartments"].iloc[0] == 120
    assert existing["daily_parcels_served"].iloc[0] <= 120 + 1e-6
    assert summary["status"] == "optimal"
    html = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert np.isclose(result.layers["demand"]["residents"].sum(), summary["counts"]["residents"])


# --------------------------------------------------------------------------- hubs on Puyang

RURAL_TIERS = ("lockers", "villages", "townships", "hubs")


def test_planner_hub_sites_give_the_hubs_and_their_capacity(puyang_osm, tmp_path):
    from geodata.user_inputs import read_hub_sites
    from optimizer.hubs import HubParameters

    # two sites of 30,000 items/day each: Puyang's township stations send ~47,700 (in and
    # out), more than one sorts, so both open; the planner asks for two hubs (R5 passes)
    table = tmp_path / "hubs.csv"
    table.write_text("name,lon,lat,capacity,fixed_cost\n"
                     "庆祖分拨点,115.0187,35.5183,30000,15000\n"
                     "八公桥分拨点,115.0700,35.5300,30000,\n"
                     "濮阳城区分拨点,115.0300,35.7600,90000,\n", encoding="utf-8")
    sites = read_hub_sites(table, datum="wgs84")
    result = plan(puyang_osm, rules="guangdong", tiers=RURAL_TIERS, hub_sites=sites,
                  hub_params=HubParameters(county_hubs=2))
    hubs = result.layers["hubs"]
    assert set(hubs["name"]) == {"庆祖分拨点", "八公桥分拨点"}
    assert (hubs["source"] == "planner").all() and (hubs["capacity"] == 30_000).all()
    for pt in sites.to_crs(hubs.crs).geometry[:2]:  # each hub stands where the planner put it
        assert hubs.geometry.distance(pt).min() < 0.01
    assert (hubs["throughput"] <= 30_000 + 1e-6).all()
    assert hubs["throughput"].sum() == pytest.approx(2 * result.layers["township_stations"][
        "daily_parcels"].sum())
    (r5,) = [r for r in result.summary["rules"] if r["id"] == "R5"]
    assert r5["passed"] and r5["planner_asked"] == 2
    assert "planner" in result.summary["tiers"]["hubs"]["hub_sites"]
    assert "fallback" not in result.summary["tiers"]["hubs"]["hub_sites"]
    # the site 25 km north of the extract is no candidate, and is listed with the reason
    rows = [(r["table"], r["row"], r["status"]) for r in result.summary["input_rows"]]
    assert rows == [("hub_sites", 2, "used"), ("hub_sites", 3, "used"),
                    ("hub_sites", 4, "dropped")]
    assert result.summary["input_rows"][0]["reason"] == "a candidate hub site (30,000 items/day)"
    assert result.summary["input_rows"][2]["reason"].startswith("outside the study area, 2")
    # not asked for two, the same table fails R5 with the capacity as the reason
    one = plan(puyang_osm, rules="guangdong", tiers=RURAL_TIERS, hub_sites=sites)
    (r5,) = [r for r in one.summary["rules"] if r["id"] == "R5"]
    assert not r5["passed"] and "30,000" in r5["reason"]


def test_bad_hub_site_table_names_file_field_and_fix(tmp_path):
    import os
    import subprocess
    import sys

    from geodata.errors import InputDataError
    from geodata.user_inputs import read_hub_sites

    table = tmp_path / "hubs.csv"
    table.write_text("name,lon,lat,capacity,floor_area_m2\n"
                     "甲,115.02,35.52,-5,2000\n"
                     ",115.07,35.53,40000,abc\n", encoding="utf-8")
    with pytest.raises(InputDataError) as info:
        read_hub_sites(table, datum="wgs84")
    text = str(info.value)
    assert str(table) in text and "Fix:" in text
    # every fault at once: field, row (header is row 1) and value
    assert "column 'name', rows 3: empty" in text
    assert "column 'capacity', rows 2: value '-5' is not a number > 0" in text
    assert "column 'floor_area_m2', rows 3: value 'abc'" in text
    # the CLI says the same in one line and exits 2, before any planning
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, "-m", "siting", "plan", "--osm", "x.osm", "--out",
           str(tmp_path / "out"), "--hub-sites", str(table)]
    run = subprocess.run([*cmd, "--hub-sites-datum", "wgs84"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert run.returncode == 2 and "column 'capacity'" in run.stderr and "hubs.csv" in run.stderr
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 2 and "--hub-sites-datum" in run.stderr


def test_urban_parcels_reach_a_hub_beside_township_stations(puyang_osm, tmp_path):
    # Puyang maps villages and townships but no urban homes: the planner's community table
    # adds a compound of 600 households in the Qingzu town seat, and the inventory a parcel
    # shop and a locker beside it. The township stations and the town's parcels (those its
    # lockers hold included) go to the same hubs, and count in their throughput.
    communities = tmp_path / "communities.csv"
    communities.write_text("name,lon,lat,households\n庆祖镇镇区小区,115.0180,35.5195,600\n",
                           encoding="utf-8")
    inventory = tmp_path / "inventory.csv"
    inventory.write_text("kind,name,lon,lat,compartments\n"
                         "station,镇区驿站,115.0183,35.5192,\n"
                         "locker,镇区快件箱,115.0181,35.5196,60\n", encoding="utf-8")
    result = plan(puyang_osm, rules="guangdong",
                  tiers=("lockers", "stations", "villages", "townships", "hubs"),
                  communities=read_communities(communities, datum="wgs84"),
                  inventory=read_inventory(inventory, datum="wgs84"),
                  demand_mode="communities")
    layers = result.layers
    town = float(layers["demand"]["daily_parcels"].sum())
    lockers = layers["lockers"]
    assert len(lockers) >= 1
    assert lockers["daily_parcels_served"].sum() == pytest.approx(town, abs=0.01)  # 2 decimals
    links, hubs = layers["hub_links"], layers["hubs"]
    rural = float(layers["township_stations"]["daily_parcels"].sum())
    assert set(layers["township_stations"]["id"]) <= set(links["station_id"])
    urban = links[~links["station_id"].isin(layers["township_stations"]["id"])]
    # the shop has no floor area given, so R1 (>= 15 m2) names the compound and no end-station
    # is built: the compound's homes send their parcels to the hub themselves
    (r1,) = [r for r in result.summary["rules"] if r["id"] == "R1" and "place" in r]
    assert not r1["passed"] and r1["place"] == "庆祖镇镇区小区"
    assert set(urban["station_id"]) == {"homes-user/2"} | set(layers["stations"]["id"])
    assert urban["daily_parcels"].sum() == pytest.approx(town)
    assert (urban["hub_id"].isin(hubs["id"])).all()
    per_hub = links.groupby("hub_id")["daily_parcels"].sum()
    assert per_hub.reindex(hubs["id"]).to_numpy() == pytest.approx(hubs["daily_parcels"])
    assert hubs["daily_parcels"].sum() == pytest.approx(rural + town)
    assert hubs["throughput"].sum() == pytest.approx(2 * (rural + town))
    assert result.summary["tiers"]["hubs"]["fed_by"] == "township_stations+homes"
