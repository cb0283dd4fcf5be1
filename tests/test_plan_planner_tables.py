"""``siting plan`` with a planner's own tables as planners write them, on the Chengdu extract.

A community table in XLSX and an inventory in CSV, Chinese headers and values, GCJ-02 points
as a map app shows them, each with a repeated row and a row outside the extract: the OSM
buildings stay and take the table's labels, every row is used or listed with its reason, the
inventory's lockers are in the plan, and the same tables through a scenario's ``[inputs]`` give
the same plan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pyogrio
import pytest
from typer.testing import CliRunner

from geodata.coords import wgs84_to_gcj02
from siting.cli import app

#: WGS84 points: four inside the extract's box (104.054–104.073, 30.654–30.671), one 2.3 km out
PLACES = {"文翁小区": (104.0600, 30.6600), "商业街小区": (104.0660, 30.6640),
          "丰巢 商业街": (104.0661, 30.6641), "丰巢 文翁路": (104.0598, 30.6598),
          "外": (104.0900, 30.6400)}


def _gcj(place: str) -> tuple[float, float]:
    lon, lat = wgs84_to_gcj02(np.array([PLACES[place][0]]), np.array([PLACES[place][1]]))
    return round(float(lon[0]), 6), round(float(lat[0]), 6)


def _tables(folder: Path) -> tuple[Path, Path]:
    """Write the community table (XLSX, openpyxl) and the inventory (CSV) a planner writes."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["社区名称", "户数", "人口", "经度", "纬度", "坐标系"])
    sheet.append(["文翁小区", 1200, None, *_gcj("文翁小区"), "GCJ-02"])      # row 2
    sheet.append(["商业街小区", None, 3000, *_gcj("商业街小区"), "GCJ-02"])   # row 3
    sheet.append(["商业街小区", None, 3000, *_gcj("商业街小区"), "GCJ-02"])   # row 4: repeat
    sheet.append(["望江社区", 900, None, *_gcj("外"), "GCJ-02"])             # row 5: outside
    communities = folder / "社区表.xlsx"
    book.save(communities)
    rows = [("快件箱", "丰巢 商业街", 120, "丰巢 商业街"),
            ("快件箱", "丰巢 文翁路", 80, "丰巢 文翁路"),
            ("快件箱", "丰巢 商业街", 120, "丰巢 商业街"),  # row 4: repeat
            ("快件箱", "丰巢 望江", 60, "外")]  # row 5: outside
    inventory = folder / "现有设施与用房.csv"
    inventory.write_text("类型,名称,格口数,经度,纬度,坐标系\n" + "".join(
        f"{kind},{name},{n},{_gcj(place)[0]},{_gcj(place)[1]},GCJ-02\n"
        for kind, name, n, place in rows), encoding="utf-8-sig")
    return communities, inventory


SCENARIO = """
name = "tables"
tiers = ["lockers"]
[area]
osm = "chengdu.osm.xz"
[lockers]
radius_m = 250
[inputs.communities]
path = "社区表.xlsx"
datum = "gcj02"
[inputs.inventory]
path = "现有设施与用房.csv"
datum = "gcj02"
"""


def _outcome(folder: Path) -> tuple[dict[str, Any], list[str], Any]:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    lockers = pyogrio.read_dataframe(folder / "plan.gpkg", layer="lockers")
    sites = sorted(f"{s}:{m}" for s, m in zip(lockers["site_id"], lockers["modules"],
                                               strict=True))
    return summary, sites, lockers


def test_chinese_tables_from_the_cli_and_from_a_scenario_give_one_plan(
        tmp_path: Path, chengdu_osm: Path) -> None:
    communities, inventory = _tables(tmp_path)
    cli = CliRunner().invoke(app, [
        "plan", "--osm", str(chengdu_osm), "--out", str(tmp_path / "cli"),
        "--communities", str(communities), "--inventory", str(inventory), "--datum", "gcj02",
        "--tiers", "lockers", "--radius-m", "250"])
    assert cli.exit_code == 0, cli.output
    summary, sites, lockers = _outcome(tmp_path / "cli")
    # the OSM buildings stay, labelled and weighted by the table (--demand buildings)
    assert summary["demand_source"].endswith(", labelled and weighted by the planner's "
                                             "community table")
    demand = pyogrio.read_dataframe(tmp_path / "cli" / "plan.gpkg", layer="demand")
    labelled = demand.groupby("community_name")["residents"].agg(["size", "sum"])
    assert labelled.loc["文翁小区", "sum"] == pytest.approx(1200 * 2.62)
    assert labelled.loc["商业街小区", "sum"] == pytest.approx(3000)
    assert labelled.loc["文翁小区", "size"] > 1 and labelled.loc["商业街小区", "size"] > 1
    assert len(demand) > 300 and demand["community_name"].nunique() > 2
    # every table row: used, or left out with its reason
    rows = {(r["table"], r["row"]): r for r in summary["input_rows"]}
    assert sorted(rows) == [("communities", n) for n in range(2, 6)] + [
        ("inventory", n) for n in range(2, 6)]
    for table in ("communities", "inventory"):
        assert [rows[table, n]["status"] for n in range(2, 6)] == ["used", "used", "dropped",
                                                                   "dropped"]
        assert rows[table, 4]["reason"].startswith("repeats row ")
        assert rows[table, 5]["reason"].startswith("outside the study area, ")
    assert rows["communities", 4]["reason"] == "repeats row 3 (the same name at the same point)"
    assert rows["inventory", 4]["reason"] == "repeats row 2 (the same kind at the same point)"
    assert rows["communities", 2]["reason"] == (
        f"labels {labelled.loc['文翁小区', 'size']} buildings, which carry its 3,144 residents "
        "by floor area")
    assert rows["inventory", 2]["reason"] == ("an existing locker, kept open "
                                              "(120 compartments)")
    # the inventory's two lockers in the area are in the plan, with their compartments
    existing = lockers[lockers["existing"].astype(bool)]
    assert sorted(existing["compartments"]) == [80, 120]
    assert summary["status"] == "optimal"

    (tmp_path / "chengdu.osm.xz").symlink_to(chengdu_osm)
    (tmp_path / "tables.toml").write_text(SCENARIO, encoding="utf-8")
    run = CliRunner().invoke(app, ["plan", "--scenario", str(tmp_path / "tables.toml"),
                                   "--out", str(tmp_path / "scenario")])
    assert run.exit_code == 0, run.output
    again, sites_again, _ = _outcome(tmp_path / "scenario")
    assert (again["status"], again["objective"]) == (summary["status"], summary["objective"])
    assert sites_again == sites
    assert again["input_rows"] == summary["input_rows"]
