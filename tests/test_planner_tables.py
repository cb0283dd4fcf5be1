"""Planner tables as planners write them: Chinese or English headers, units, values, datums."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata.coords import wgs84_to_gcj02
from geodata.errors import InputDataError
from geodata.table_columns import COMMUNITY_TABLE, INVENTORY_TABLE
from geodata.user_inputs import read_communities, read_hub_sites, read_inventory

ROOT = Path(__file__).resolve().parents[1]

# two points near Tianfu Square (WGS84) and their GCJ-02 form, as a map app shows them
LON, LAT = np.array([104.0600, 104.0660]), np.array([30.6600, 30.6640])
GLON, GLAT = wgs84_to_gcj02(LON, LAT)


def _siting(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "siting", *args], capture_output=True,
                          text=True, env=env, timeout=300, cwd=ROOT)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_template_filled_in_reads_back(tmp_path: Path, lang: str) -> None:
    run = _siting("template", "--lang", lang, "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    stem = {"zh": ("社区表", "现有设施与用房"), "en": ("communities", "inventory")}[lang]
    for suffix in (".csv", ".xlsx"):
        communities = tmp_path / f"{stem[0]}{suffix}"
        inventory = tmp_path / f"{stem[1]}{suffix}"
        # the template as written: its example row reads back
        example = read_communities(communities)
        assert example["name"].tolist() == [COMMUNITY_TABLE.column("name").example_zh
                                            if lang == "zh" else "Wenweng community"]
        assert example["residents"].tolist() == [3100.0]
        # filled in by a planner: the template's own headers, two rows of values
        read = pd.read_csv if suffix == ".csv" else pd.read_excel
        headers = list(read(communities).columns)
        filled = pd.DataFrame([["甲", 100, None, GLON[0], GLAT[0], "GCJ-02", "是", "否", 2019],
                               ["乙", None, 700, LON[1], LAT[1], "WGS84", "否", "是", 1990]],
                              columns=headers)
        _write(filled, communities)
        got = read_communities(communities)
        assert got["name"].tolist() == ["甲", "乙"]
        assert got["residents"].tolist() == pytest.approx([262.0, 700.0])
        assert got["new"].tolist() == [True, False] and got["old"].tolist() == [False, True]
        assert got["built_year"].tolist() == [2019.0, 1990.0]
        assert np.allclose(got.geometry.x, LON, atol=2e-5)
        assert np.allclose(got.geometry.y, LAT, atol=2e-5)
        headers = list(read(inventory).columns)
        kinds = {"zh": ("快件箱", "驿站", "机房", "点位", "必选"),
                 "en": ("locker", "station", "room", "site", "required")}[lang]
        filled = pd.DataFrame([[kinds[0], "柜", 60, None, LON[0], LAT[0], "WGS84", None],
                               [kinds[1], "站", None, 45.5, LON[1], LAT[1], "WGS84", None],
                               [kinds[2], "房", None, 30, LON[0], LAT[1], "WGS84", None],
                               [kinds[3], "点", None, None, LON[1], LAT[0], "WGS84", kinds[4]]],
                              columns=headers)
        _write(filled, inventory)
        inv = read_inventory(inventory)
        assert inv["kind"].tolist() == ["locker", "station", "room", "site"]
        assert inv["action"].tolist() == ["", "", "", "required"]
        assert inv["compartments"].iloc[0] == 60 and inv["area_m2"].iloc[1] == 45.5


def _write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        frame.to_excel(path, index=False)


def test_chinese_headers_units_and_values(tmp_path: Path) -> None:
    table = tmp_path / "社区.csv"
    table.write_text("社区名称,户数（户）,坐标系,经度,纬度\n"
                     f"文翁,800,GCJ-02,{GLON[0]},{GLAT[0]}\n"
                     f"商业街,1200,高德,{GLON[1]},{GLAT[1]}\n", encoding="utf-8")
    got = read_communities(table)
    assert got["residents"].tolist() == pytest.approx([800 * 2.62, 1200 * 2.62])
    assert np.allclose(got.geometry.x, LON, atol=2e-5)
    rooms = tmp_path / "rooms.csv"
    rooms.write_text("类型,使用面积(㎡),lng,lat\n驿站,40,104.06,30.66\n机房,25,104.07,30.66\n",
                     encoding="utf-8")
    inv = read_inventory(rooms, datum="cgcs2000")
    assert inv["kind"].tolist() == ["station", "room"]
    assert inv["area_m2"].tolist() == [40.0, 25.0]
    assert inv.geometry.x.tolist() == pytest.approx([104.06, 104.07])  # CGCS2000 = WGS84


def test_a_unit_other_than_the_columns_is_refused(tmp_path: Path) -> None:
    rooms = tmp_path / "rooms.csv"
    rooms.write_text("类型,使用面积(亩),经度,纬度\n驿站,0.1,104.06,30.66\n", encoding="utf-8")
    with pytest.raises(InputDataError) as info:
        read_inventory(rooms, datum="wgs84")
    assert "unit '亩' is not m²" in str(info.value) and "使用面积(m²)" in info.value.fix


def test_faults_name_the_header_as_written(tmp_path: Path) -> None:
    rooms = tmp_path / "rooms.csv"
    rooms.write_text("类型,格口数,经度,纬度\n报刊亭,12,104.06,30.66\n快件箱,很多,104.07,30.66\n",
                     encoding="utf-8")
    with pytest.raises(InputDataError) as info:
        read_inventory(rooms, datum="wgs84")
    text = str(info.value)
    assert "column '类型', rows 2: value '报刊亭'" in text and "驿站" in text
    assert "column '格口数', rows 3: value '很多'" in text


def test_no_datum_anywhere_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "c.csv"
    table.write_text("name,households,lon,lat,datum\na,10,104.06,30.66,\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="rows 2: empty, and no datum is declared"):
        read_communities(table)
    assert read_communities(table, datum="wgs84")["datum"].tolist() == ["wgs84"]


def test_missing_columns_list_the_declared_ones(tmp_path: Path) -> None:
    table = tmp_path / "c.csv"
    table.write_text("小区,经度,纬度\na,104.06,30.66\n", encoding="utf-8")
    with pytest.raises(InputDataError) as info:
        read_communities(table, datum="wgs84")
    assert "none of the columns '户数' ('households'), '人口' ('residents')" in str(info.value)
    assert INVENTORY_TABLE.title_en not in info.value.fix and "户数" in info.value.fix


def test_empty_and_repeated_rows_are_listed_not_used(tmp_path: Path) -> None:
    table = tmp_path / "c.csv"
    table.write_text("社区名称,人口,经度,纬度\n"
                     "甲,100,104.06,30.66\n"
                     ",,,\n"
                     "\n"
                     "乙,200,104.07,30.66\n"
                     "甲,100,104.06,30.66\n"
                     "甲,50,104.08,30.66\n", encoding="utf-8")
    got = read_communities(table, datum="wgs84")
    # the rows kept keep their spreadsheet row numbers
    assert got["row"].tolist() == [2, 5, 7] and got["community"].tolist()[1] == "user/5"
    dropped = got.attrs["input_rows"]
    assert [(r["row"], r["reason"]) for r in dropped] == [
        (3, "empty row"), (4, "empty row"),
        (6, "repeats row 2 (the same name at the same point)")]
    hubs = tmp_path / "h.xlsx"
    pd.DataFrame({"名称": ["A", None, "A"], "处理能力(件/日)": [100, None, 100],
                  "经度": [115.0, None, 115.0], "纬度": [35.5, None, 35.5]}).to_excel(
        hubs, index=False)
    sites = read_hub_sites(hubs, datum="wgs84")
    assert len(sites) == 1 and sites["capacity"].tolist() == [100.0]
    assert [r["row"] for r in sites.attrs["input_rows"]] == [3, 4]


# --------------------------------------------------------------- a plan with the tables (Chengdu)

def _chengdu_tables(folder: Path) -> tuple[Path, Path]:
    """A community table (CSV, 坐标系 per row) and an inventory (XLSX), Chinese, in GCJ-02.

    城外社区 lies 170 m east of the extract's box (lon 104.07276); row 5 repeats row 2; the
    third locker lies 700 m outside.
    """
    lon, lat = np.array([104.0600, 104.0660, 104.0745]), np.array([30.6600, 30.6640, 30.6620])
    glon, glat = wgs84_to_gcj02(lon, lat)
    communities = folder / "社区表.csv"
    pd.DataFrame({"社区名称": ["文翁社区", "商业街社区", "城外社区", "文翁社区"],
                  "户数": [800, None, 500, 800], "人口": [None, 3144, None, None],
                  "经度": [*glon, glon[0]], "纬度": [*glat, glat[0]],
                  "坐标系": ["GCJ-02", "高德", "GCJ-02", "GCJ-02"]}).to_csv(
        communities, index=False, encoding="utf-8-sig")
    ilon, ilat = wgs84_to_gcj02(np.array([104.0661, 104.0620, 104.0800]),
                                np.array([30.6641, 30.6580, 30.6600]))
    inventory = folder / "现有设施.xlsx"
    pd.DataFrame({"类型": ["快件箱", "驿站", "快件箱"], "名称": ["丰巢 A", "菜鸟驿站", "城外柜"],
                  "格口数": [120, None, 60], "使用面积(m²)": [None, 40, None],
                  "经度": ilon, "纬度": ilat}).to_excel(inventory, index=False)
    return communities, inventory


def test_plan_keeps_labels_and_weights_the_osm_buildings(chengdu_osm, tmp_path):
    from geodata.area import study_area
    from geodata.buildings import buildings_from_osm
    from geodata.osm import read_osm
    from siting import plan
    from siting.summary import validate_summary

    communities, inventory = _chengdu_tables(tmp_path)
    table = read_communities(communities)
    result = plan(chengdu_osm, communities=table,
                  inventory=read_inventory(inventory, datum="gcj02"), out=tmp_path / "out")
    extract = read_osm(chengdu_osm)
    homes = buildings_from_osm(extract, study_area(extract))["residential"].sum()
    demand = result.layers["demand"]
    # every OSM residential building is kept as a demand point (the table replaced them: 1)
    assert result.summary["coverage"]["demand_points"] == len(demand) == homes > 400
    # each table community labels the buildings in reach and gives them its residents
    for cid, residents in (("user/2", 800 * 2.62), ("user/3", 3144.0)):
        mine = demand[demand["community"] == cid]
        assert len(mine) > 5 and mine["residents"].sum() == pytest.approx(residents)
    # the GCJ-02 points were moved to WGS84: the labelled buildings lie within 300 m of them
    point = table.to_crs(demand.crs).geometry.iloc[0]
    assert demand[demand["community"] == "user/2"].distance(point).max() <= 300.0
    rows = {(r["table"], r["row"]): r for r in result.summary["input_rows"]}
    assert {k: r["status"] for k, r in rows.items()} == {
        ("communities", 2): "used", ("communities", 3): "used",
        ("communities", 4): "dropped", ("communities", 5): "dropped",
        ("inventory", 2): "used", ("inventory", 3): "used", ("inventory", 4): "dropped"}
    far = rows[("communities", 4)]["reason"]
    assert far.startswith("outside the study area, ") and 100 < float(
        far.split(", ")[1].split(" m")[0]) < 250
    assert rows[("communities", 5)]["reason"] == "repeats row 2 (the same name at the same point)"
    lockers = result.layers["lockers"]
    existing = lockers[lockers["existing"]]
    assert existing["compartments"].tolist() == [120] and existing["name"].tolist() == ["丰巢 A"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    validate_summary(summary)
    assert summary["input_rows"] == result.summary["input_rows"]
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "城外社区" in report and "未用" in report


def test_demand_communities_replaces_the_buildings(chengdu_osm, tmp_path):
    from siting import plan

    communities, inventory = _chengdu_tables(tmp_path)
    result = plan(chengdu_osm, communities=read_communities(communities),
                  inventory=read_inventory(inventory, datum="gcj02"), out=None,
                  demand_mode="communities")
    assert result.summary["coverage"]["demand_points"] == 2
    assert result.summary["counts"]["residents"] == pytest.approx(800 * 2.62 + 3144)
    assert [r["status"] for r in result.summary["input_rows"]].count("dropped") == 3


def test_a_polygon_community_labels_the_buildings_it_contains(chengdu_osm):
    """祠堂街社区 given as its OSM polygon with 1,000 residents, and a 20 m square with no
    building in it: the buildings inside the polygon (by their points) share the 1,000 by floor
    area, the others keep what their floor area gives, the square stands as one point."""
    import geopandas as gpd
    import shapely

    from geodata.area import study_area
    from geodata.buildings import buildings_from_osm
    from geodata.communities import communities_from_osm
    from geodata.defaults import DemandParameters
    from geodata.demand import demand_from_buildings
    from geodata.osm import read_osm
    from geodata.planner_data import label_demand

    extract = read_osm(chengdu_osm)
    area = study_area(extract)
    osm = communities_from_osm(extract, area)
    demand = demand_from_buildings(buildings_from_osm(extract, area), osm)
    polygon = osm.loc[osm["name"] == "祠堂街社区", "geometry"].iloc[0]
    homes = shapely.get_coordinates(demand.geometry)
    free = next(shapely.box(x - 10, y - 10, x + 10, y + 10)
                for x in np.linspace(*area.projected.bounds[::2], 40)
                for y in np.linspace(*area.projected.bounds[1::2], 40)
                if shapely.Point(x, y).within(area.projected)
                and not shapely.box(x - 10, y - 10, x + 10, y + 10).intersects(
                    shapely.MultiPoint(homes)))
    table = gpd.GeoDataFrame(
        {"community": ["user/2", "user/3"], "row": [2, 3], "name": ["祠堂街", "空地"],
         "residents": [1000.0, 50.0], "new": True, "new_given": False, "old": None,
         "built_year": np.nan, "source": "user:t.csv"},
        geometry=[polygon, free], crs=area.crs).to_crs(4326)
    labelled, communities = label_demand(demand, osm, table, area, DemandParameters())
    inside = shapely.contains_xy(polygon, homes[:, 0], homes[:, 1])
    assert inside.sum() > 5
    by_id = labelled.set_index("demand_id")
    mine = by_id.loc[demand["demand_id"][inside]]
    assert (mine["community"] == "user/2").all()
    assert mine["residents"].sum() == pytest.approx(1000.0)
    assert mine["residents"].to_numpy() == pytest.approx(
        1000.0 * mine["floor_area_m2"].to_numpy() / mine["floor_area_m2"].sum())
    others = by_id.loc[demand["demand_id"][~inside]]
    assert (others["community"] != "user/2").all()
    assert others["residents"].to_numpy() == pytest.approx(
        demand["residents"][~inside].to_numpy())
    alone = labelled[labelled["community"] == "user/3"]
    assert len(alone) == 1 and alone["residents"].iloc[0] == pytest.approx(50.0)
    assert len(labelled) == len(demand) + 1
    assert {"user/2", "user/3"} <= set(communities["community"])
