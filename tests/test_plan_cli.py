"""``siting plan`` on real data: tier radii from the command line, and ``--scenario`` (one
scenario in this process) giving the plan ``siting batch`` gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
from typer.testing import CliRunner

from geodata.coords import wgs84_to_gcj02
from siting.cli import app
from siting.options import field_paths


def _plan(out: Path, *args: str) -> tuple[dict[str, Any], Any, Any]:
    result = CliRunner().invoke(app, ["plan", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    stations = pyogrio.read_dataframe(out / "plan.gpkg", layer="stations")
    cargo = pyogrio.read_dataframe(out / "plan.gpkg", layer="cargo_stations")
    return summary, stations, cargo


@pytest.mark.slow
def test_station_and_cargo_radii_from_the_cli_move_the_stations_tier(
        tmp_path: Path, chengdu_osm: Path) -> None:
    """500 m station / 300 m cargo walks (the defaults) against 300 m / 500 m.

    The community-station model is solved before the cargo stations, so the count of
    stations answers to the station radius alone, and a cargo walk over 300 m to the cargo
    radius alone.
    """
    common = ["--osm", str(chengdu_osm), "--tiers", "lockers,stations", "--time-limit", "600"]
    s0, stations0, cargo0 = _plan(tmp_path / "default", *common)
    s1, stations1, cargo1 = _plan(tmp_path / "changed", *common, "--station-radius-m", "300",
                                  "--cargo-radius-m", "500")
    # summary.json's parameters name every option of the model, as given
    for path in field_paths():
        group, _, key = path.partition(".")
        assert key in s1["parameters"]["options"][group] if key else group in s1[
            "parameters"]["options"], path
    assert s1["parameters"]["options"]["stations"] == {
        **s0["parameters"]["options"]["stations"], "radius_m": 300.0, "cargo_radius_m": 500.0}
    assert s0["tiers"]["stations"]["status"] == s1["tiers"]["stations"]["status"] == "optimal"
    # a 300 m walk needs more end-stations than a 500 m one to serve every community (R1)
    # (宽巷子社区 has no home: no station, R1 not evaluated there)
    for s in (s0, s1):
        counts = s["tiers"]["stations"]["counts"]
        assert counts["communities_without_homes"] == 1
        assert counts["communities_passing_r1"] == counts["communities"] - 1
    assert len(stations1) > len(stations0)
    # cargo stations: within 300 m by default; the 500 m radius reaches a centre 300 m missed
    assert cargo0["walk_m"].max() <= 300.0
    assert 300.0 < cargo1["walk_m"].max() <= 500.0
    assert len(cargo1) > len(cargo0)
    assert any("300 m" in p for p in s0["tiers"]["cargo_stations"]["problems"])


SCENARIO = """
name = "one"
[area]
osm = "chengdu.osm.xz"
[lockers]
radius_m = 250
site_cost = 15000
[solver]
time_limit = 120
work_limit = 500
"""


def _lockers(folder: Path) -> list[str]:
    layer = pyogrio.read_dataframe(folder / "plan.gpkg", layer="lockers")
    return sorted(f"{s}:{m}" for s, m in zip(layer["site_id"], layer["modules"], strict=True))


@pytest.mark.slow
def test_plan_scenario_gives_the_batch_plan(tmp_path: Path, chengdu_osm: Path) -> None:
    (tmp_path / "chengdu.osm.xz").symlink_to(chengdu_osm)
    scenario = tmp_path / "one.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    single = CliRunner().invoke(app, ["plan", "--scenario", str(scenario), "--out",
                                      str(tmp_path / "single")])
    assert single.exit_code == 0, single.output
    batch = CliRunner().invoke(app, ["batch", str(scenario), "--out", str(tmp_path / "batch"),
                                     "--workers", "1"])
    assert batch.exit_code == 0, batch.output
    a = json.loads((tmp_path / "single" / "summary.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "batch" / "one" / "summary.json").read_text(encoding="utf-8"))
    assert a["parameters"]["options"] == b["parameters"]["options"]
    assert a["parameters"]["options"]["lockers"]["radius_m"] == 250
    assert (a["status"], a["objective"], a["counts"]) == (b["status"], b["objective"],
                                                          b["counts"])
    assert _lockers(tmp_path / "single") == _lockers(tmp_path / "batch" / "one")


def test_plan_scenario_refuses_a_sweep_and_names_root(tmp_path: Path, chengdu_osm: Path) -> None:
    (tmp_path / "chengdu.osm.xz").symlink_to(chengdu_osm)
    swept = tmp_path / "s.toml"
    swept.write_text('[area]\nosm = "chengdu.osm.xz"\n[sweep]\nradius_m = [200, 300]\n',
                     encoding="utf-8")
    result = CliRunner().invoke(app, ["plan", "--scenario", str(swept), "--out",
                                      str(tmp_path / "o")])
    assert result.exit_code == 2 and "siting batch" in result.output
    inner = tmp_path / "inner"
    inner.mkdir()
    outside = inner / "o.toml"
    outside.write_text(f'[area]\nosm = "{tmp_path / "chengdu.osm.xz"}"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["plan", "--scenario", str(outside), "--out",
                                      str(tmp_path / "o"), "--print-options"])
    assert result.exit_code == 2 and "--root" in result.output
    result = CliRunner().invoke(app, ["plan", "--scenario", str(outside), "--root",
                                      str(tmp_path), "--out", str(tmp_path / "o"),
                                      "--print-options"])
    assert result.exit_code == 0, result.output


def test_planner_tables_from_the_cli_in_gcj02(tmp_path: Path, chengdu_osm: Path) -> None:
    """--communities (planned on, --demand communities) and --inventory with --datum gcj02 reach
    the plan, at their WGS84 place."""
    points = {"文翁小区": (104.0600, 30.6600), "商业街小区": (104.0660, 30.6640),
              "丰巢 A": (104.0661, 30.6641)}
    gcj = {k: wgs84_to_gcj02(np.array([lon]), np.array([lat])) for k, (lon, lat) in
           points.items()}
    text = {k: f"{float(x[0]):.7f},{float(y[0]):.7f}" for k, (x, y) in gcj.items()}
    communities = tmp_path / "communities.csv"
    communities.write_text("name,lon,lat,households\n"
                           f"文翁小区,{text['文翁小区']},800\n"
                           f"商业街小区,{text['商业街小区']},1200\n", encoding="utf-8")
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(f"kind,name,lon,lat,compartments\nlocker,丰巢 A,{text['丰巢 A']},120\n",
                         encoding="utf-8")
    result = CliRunner().invoke(app, ["plan", "--osm", str(chengdu_osm), "--out",
                                      str(tmp_path / "out"), "--communities", str(communities),
                                      "--inventory", str(inventory), "--datum", "gcj02",
                                      "--demand", "communities"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["demand_source"] == "the planner's community table"
    assert summary["counts"]["residents"] == pytest.approx(2000 * 2.62, rel=1e-6)
    lockers = pyogrio.read_dataframe(tmp_path / "out" / "plan.gpkg", layer="lockers")
    existing = lockers[lockers["existing"].astype(bool)].to_crs(4326)
    assert len(existing) == 1 and existing["compartments"].iloc[0] == 120
    # read back in WGS84, the existing locker stands where the planner's GCJ-02 point says
    assert abs(existing.geometry.x.iloc[0] - 104.0661) < 1e-5
    assert abs(existing.geometry.y.iloc[0] - 30.6641) < 1e-5
