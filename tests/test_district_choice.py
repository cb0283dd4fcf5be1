"""A boundary file of several districts (DataV) needs one picked; too little data is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geodata.area import study_area
from geodata.errors import BoundaryError
from geodata.osm import read_osm


def test_a_city_file_without_a_district_lists_them(chengdu_osm: Path, datav_dir: Path) -> None:
    with pytest.raises(BoundaryError) as info:
        study_area(read_osm(chengdu_osm), boundary=datav_dir / "510100_full.json")
    text = str(info.value)
    assert "holds 20 areas: 锦江区 (510104) *, 青羊区 (510105) *" in text
    assert "简阳市 (510185)" in text and "简阳市 (510185) *" not in text
    # the district holding most of the extract is the example, and 'all' is offered
    assert "--district 青羊区, or --district all" in info.value.fix


def test_all_merges_the_districts_and_a_name_or_adcode_picks_one(
        chengdu_osm: Path, datav_dir: Path) -> None:
    extract = read_osm(chengdu_osm)
    city = datav_dir / "510100_full.json"
    merged = study_area(extract, boundary=city, boundary_name="all")
    assert merged.boundary is not None and merged.name == "510100_full"
    by_name = study_area(extract, boundary=city, boundary_name="青羊区")
    by_code = study_area(extract, boundary=city, boundary_name="510105")
    assert by_code.name == by_name.name == "青羊区"
    assert by_code.polygon.equals(by_name.polygon)
    assert by_name.area_km2 < merged.area_km2


def test_siting_plan_without_district_lists_them(chengdu_osm: Path, datav_dir: Path,
                                                 tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    base = [sys.executable, "-m", "siting", "plan", "--osm", str(chengdu_osm), "--out",
            str(tmp_path / "out"), "--boundary", str(datav_dir / "510100_full.json")]
    run = subprocess.run(base, capture_output=True, text=True, env=env, timeout=300)
    said = " ".join(run.stderr.split())
    assert run.returncode == 2 and "holds 20 areas: 锦江区 (510104) *, 青羊区 (510105) *" in said
    assert "简阳市 (510185)" in said and "--district all" in said
    run = subprocess.run([*base, "--district", "青羊区"], capture_output=True, text=True,
                         env=env, timeout=300)
    said = " ".join(run.stderr.split())
    assert run.returncode == 2 and "covers only 3.74 % of 青羊区" in said
    # the error names the fix: a lower floor plans the part the extract covers
    assert "--set area.min_coverage=0.03" in said
    run = subprocess.run([*base, "--district", "510105", "--set", "area.min_coverage=0.03",
                          "--tiers", "lockers", "--radius-m", "250"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal"
    assert summary["parameters"]["district"] == "510105"
    assert summary["parameters"]["options"]["area"]["min_coverage"] == 0.03
    block = summary["study_area"]
    assert 66.0 < block["boundary_km2"] < 66.6
    assert block["data_coverage_share"] == pytest.approx(0.0374, abs=5e-5)
    # only the part of 青羊区 inside the extract is planned: less than the extract's own box
    assert block["study_area_km2"] < 3.2


@pytest.mark.parametrize(("district", "figure"), [
    ("all", "covers only 0.0224 % of 510100_full (3.2 of 14,327.1 km²)"),
    ("510105", "covers only 3.74 % of 青羊区 (2.5 of 66.3 km²)"),
])
def test_the_chengdu_extract_covers_too_little_of_its_districts(
        chengdu_osm: Path, datav_dir: Path, district: str, figure: str) -> None:
    from siting import plan

    with pytest.raises(BoundaryError) as info:
        plan(chengdu_osm, boundary=datav_dir / "510100_full.json", district=district, out=None)
    assert figure + ", under the 5 % a plan needs" in str(info.value)


@pytest.mark.slow
def test_one_district_of_a_city_file_is_planned(shanghai_osm: Path, datav_dir: Path) -> None:
    """黄浦区 (310101) of DataV's Shanghai file: 20.4 km², 99 % covered by the road extract."""
    from siting import plan

    result = plan(shanghai_osm, boundary=datav_dir / "310000_full.json", district="310101",
                  time_limit=20, out=None)
    block = result.summary["study_area"]
    assert 20.0 < block["boundary_km2"] < 21.0 and block["data_coverage_share"] > 0.95
    assert result.summary["parameters"]["district"] == "310101"
    assert result.summary["coverage"]["demand_points"] > 1000
    assert result.summary["status"] in ("optimal", "time_limit")
    assert len(result.layers["lockers"]) > 0
