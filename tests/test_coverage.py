"""How much of the boundary the extract's data covers, on real extracts and boundaries."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geodata.area import study_area
from geodata.coverage import PARTIAL_BELOW, data_coverage
from geodata.network import walk_network
from geodata.osm import read_osm
from maps.i18n import label

ROOT = Path(__file__).resolve().parents[1]


def _qingyang(datav_dir: Path, folder: Path) -> Path:
    """青羊区 alone, as DataV gives it (GCJ-02): 66 km², of which the extract holds 2.5."""
    collection = json.loads((datav_dir / "510100_full.json").read_text(encoding="utf-8"))
    collection["features"] = [f for f in collection["features"]
                              if f["properties"]["name"] == "青羊区"]
    path = folder / "qingyang.json"
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def _coverage(osm: Path, boundary: Path | None = None):
    extract = read_osm(osm)
    area = study_area(extract, boundary=boundary)
    return area, data_coverage(area, walk_network(extract, area))


def test_a_district_larger_than_the_extract_is_partial_and_warned(
        chengdu_osm_plain, datav_dir, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="geodata.coverage"):
        area, cov = _coverage(chengdu_osm_plain, _qingyang(datav_dir, tmp_path))
    assert 60 < cov.boundary_km2 < 70 and cov.study_area_km2 == pytest.approx(area.area_km2)
    assert cov.study_area_km2 < 3.5 and cov.data_covered_km2 <= cov.study_area_km2 + 1e-9
    assert cov.partial and cov.data_coverage_share == pytest.approx(
        cov.data_covered_km2 / cov.boundary_km2)
    assert cov.data_coverage_share < 0.05
    assert "covers only 4 % of 青羊区" in caplog.text


def test_the_extract_on_its_own_bounds_is_covered(chengdu_osm, caplog):
    with caplog.at_level(logging.WARNING, logger="geodata.coverage"):
        area, cov = _coverage(chengdu_osm)
    assert cov.data_coverage_share == pytest.approx(1.0) and not cov.partial
    assert cov.boundary_km2 == pytest.approx(area.area_km2)
    assert caplog.text == ""


def test_sparse_rural_roads_still_cover_their_extract(puyang_osm):
    _, cov = _coverage(puyang_osm)
    assert PARTIAL_BELOW <= cov.data_coverage_share < 1.0 and not cov.partial


def test_streets_in_part_of_their_box_are_partial(shanghai_osm):
    """The Shanghai roads fill a circle of about 5 km around People's Square, not their box."""
    _, cov = _coverage(shanghai_osm)
    assert cov.partial and 0.4 < cov.data_coverage_share < 0.8


def _box_twice_the_extract(osm: Path, folder: Path) -> Path:
    """A boundary box twice as wide and tall as the extract's, centred on it (WGS84)."""
    import geopandas as gpd
    import shapely

    box = read_osm(osm).bounds
    (x0, y0, x1, y1), (w, h) = box.bounds, (box.bounds[2] - box.bounds[0],
                                            box.bounds[3] - box.bounds[1])
    path = folder / "twice.geojson"
    gpd.GeoDataFrame({"name": ["twice"]}, geometry=[shapely.box(
        x0 - w / 2, y0 - h / 2, x1 + w / 2, y1 + h / 2)], crs=4326).to_file(path)
    return path


@pytest.mark.slow
def test_plan_says_how_much_of_the_boundary_the_data_covers(chengdu_osm_plain, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "siting", "plan", "--osm", str(chengdu_osm_plain), "--boundary",
         str(_box_twice_the_extract(chengdu_osm_plain, tmp_path)), "--out", str(out),
         "--time-limit", "60"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    block = json.loads((out / "summary.json").read_text(encoding="utf-8"))["study_area"]
    # the extract fills a quarter of the box (its streets reach a little beyond)
    assert block["partial"] is True and 0.2 < block["data_coverage_share"] < 0.4
    assert f"the OSM data covers only {100 * block['data_coverage_share']:.0f} % of twice" in (
        done.stderr)
    assert block["boundary_km2"] == pytest.approx(4 * block["study_area_km2"], rel=0.01)
    page = (out / "report.html").read_text(encoding="utf-8")
    share = f"{block['data_coverage_share']:.1%}"
    assert label("report.partial_data", "zh", share=share, covered=block["data_covered_km2"],
                 whole=block["boundary_km2"]) in page


def test_a_boundary_the_data_covers_less_than_5_percent_of_is_refused(
        chengdu_osm_plain, datav_dir, tmp_path):
    """青羊区 alone: the extract's data covers 3.74 % of its 66 km²."""
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "siting", "plan", "--osm", str(chengdu_osm_plain), "--boundary",
         str(_qingyang(datav_dir, tmp_path)), "--out", str(out)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=600, check=False)
    assert done.returncode == 2 and not out.exists()
    said = " ".join(done.stderr.split())  # the console wraps long lines
    assert "covers only 3.74 % of 青羊区 (2.5 of 66.3 km²), under the 5 % a plan needs" in said
    assert "Fix: use an OSM extract that covers the boundary" in said
