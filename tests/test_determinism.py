"""Same input, same plan: two runs give identical ``plan.gpkg`` layers and ``summary.json`` but
for timestamps and timings; OSM strings are escaped in the map and report (issue 8, points 3
and 4).

Issue 17: the same holds across processes whose string hashing differs. Each case below runs
the ``siting`` CLI in separate processes with different ``PYTHONHASHSEED`` values and a fresh
cache folder each, and compares what they wrote.
"""

from __future__ import annotations

import json
import lzma
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal

from geodata.cache import CACHE_ENV_VAR
from siting.pipeline import DEMO_OSM, plan

ROOT = Path(__file__).resolve().parents[1]

#: Keys that carry clock time, not the plan.
TIMING_KEYS = {"created", "timings_s", "solve_s", "build_s", "used_s", "by_stage_s"}


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


@pytest.fixture(scope="module")
def two_runs(chengdu_osm: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("determinism")
    for name in ("a", "b"):
        plan(chengdu_osm, out=root / name, time_limit=60)
    return root / "a", root / "b"


def _assert_same_layers(a: Path, b: Path) -> list[str]:
    """Assert two GeoPackages hold the same layers, row for row; return the layer names."""
    layers = [name for name, _ in pyogrio.list_layers(a)]
    assert layers == [name for name, _ in pyogrio.list_layers(b)]
    for layer in layers:
        fa = gpd.read_file(a, layer=layer)
        fb = gpd.read_file(b, layer=layer)
        try:
            assert_geodataframe_equal(fa, fb, check_like=False, check_less_precise=False,
                                      normalize=False)
        except AssertionError as err:
            raise AssertionError(f"layer {layer!r} differs: {err}") from err
    return layers


def _assert_same_summary(a: Path, b: Path) -> dict[str, Any]:
    """Assert two ``summary.json`` are equal but for timings; return the first."""
    sa = json.loads((a / "summary.json").read_text(encoding="utf-8"))
    sb = json.loads((b / "summary.json").read_text(encoding="utf-8"))
    assert _without_timings(sa) == _without_timings(sb)
    return sa


def _assert_same_plan(a: Path, b: Path) -> dict[str, Any]:
    """Assert two plan folders hold the same plan; return the first summary."""
    _assert_same_layers(a / "plan.gpkg", b / "plan.gpkg")
    assert (a / "candidates.csv").read_bytes() == (b / "candidates.csv").read_bytes()
    return _assert_same_summary(a, b)


@pytest.mark.slow
def test_plan_gpkg_layers_are_identical(two_runs: tuple[Path, Path]) -> None:
    a, b = two_runs
    layers = _assert_same_layers(a / "plan.gpkg", b / "plan.gpkg")
    assert {"demand", "candidates", "lockers", "assignments", "uncovered"} <= set(layers)


@pytest.mark.slow
def test_summary_is_identical_but_for_timings(two_runs: tuple[Path, Path]) -> None:
    a, b = two_runs
    assert _assert_same_plan(a, b)["status"] == "optimal"


@pytest.mark.slow
def test_osm_names_are_escaped_in_map_and_report(chengdu_osm: Path, tmp_path: Path) -> None:
    """A ``<script>`` name in the OSM file reaches the page as text, never as markup."""
    xml = lzma.decompress(chengdu_osm.read_bytes()).decode("utf-8")
    evil = '<script>alert("pwn")</script>'
    escaped = evil.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&quot;")
    count = xml.count('k="name" v="')
    assert count > 50
    # every OSM name (streets, buildings, POIs, communities) becomes the attack string
    bad = re.sub(r'k="name" v="[^"]*"', f'k="name" v="{escaped}"', xml)
    src = tmp_path / "evil.osm"
    src.write_text(bad, encoding="utf-8")
    out = tmp_path / "out"
    plan(src, out=out, time_limit=60, lang="en")
    for page in ("map.html", "report.html"):
        text = (out / page).read_text(encoding="utf-8")
        assert evil not in text, page
        assert "alert(" in text or page == "report.html"  # the name survives, as text
    table = (out / "candidates.csv").read_text(encoding="utf-8")
    assert '<script>alert(""pwn"")</script>' in table  # data files keep the name (CSV-quoted)


# --------------------------------------------------------------------------- across processes


def _siting_per_seed(args: list[str], tmp: Path, seeds: tuple[str, ...] = ("1", "2"), *,
                     timeout: float = 600) -> list[Path]:
    """Run ``python -m siting ARGS --out FOLDER`` once per hash seed, side by side.

    Each process gets its own ``PYTHONHASHSEED`` and an empty cache folder, so neither an
    in-process nor a disk cache can carry one run's result into another. Returns the output
    folders, in the order of ``seeds``; each process may take ``timeout`` seconds.
    """
    runs = []
    for seed in seeds:
        out = tmp / f"seed{seed}" / "out"
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT),
               CACHE_ENV_VAR: str(tmp / f"seed{seed}" / "cache")}
        command = [sys.executable, "-m", "siting", *args, "--out", str(out)]
        runs.append((out, subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True)))
    for _, process in runs:
        log, _ = process.communicate(timeout=timeout)
        assert process.returncode == 0, log[-3000:]
    return [out for out, _ in runs]


def _box(path: Path, west: float, south: float, east: float, north: float) -> Path:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": path.stem},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}), encoding="utf-8")
    return path


@pytest.mark.slow
def test_street_grid_plan_is_the_same_for_every_hash_seed(shanghai_osm: Path,
                                                           tmp_path: Path) -> None:
    """Shanghai's streets change class between junctions: merged ways decide the grid."""
    # about 1.7 x 1.3 km south-west of Xujiahui, where merged edges are part residential
    boundary = _box(tmp_path / "xuhui.geojson", 121.446, 31.183, 121.464, 31.195)
    a, *others = _siting_per_seed(
        ["plan", "--osm", str(shanghai_osm), "--boundary", str(boundary), "--lang", "en",
         "--basemap", "none"], tmp_path, seeds=("1", "2", "3"))
    for b in others:
        summary = _assert_same_plan(a, b)
    assert summary["demand_source"].startswith("a street grid")
    assert summary["status"] == "optimal" and summary["counts"]["demand_points"] > 20


#: Branch-and-bound nodes of each MIP solve in the work-limited run of the whole street grid.
WORK_LIMIT = "10"


@pytest.mark.slow
def test_street_grid_box_under_a_work_limit_is_the_same_for_every_hash_seed(
    shanghai_osm: Path, shanghai_centre: Path, tmp_path: Path
) -> None:
    """The path of the test below on a box of the grid: its solve stops unproven by node count.

    Two processes side by side, each under the other's load; a box whose locker model one
    node does not prove at a 250 m walk (``conftest.SHANGHAI_CENTRE_BOX``).
    """
    a, b = _siting_per_seed(
        ["plan", "--osm", str(shanghai_osm), "--boundary", str(shanghai_centre),
         "--work-limit", "1", "--time-limit", "600", "--radius-m", "250", "--lang", "en",
         "--basemap", "none"],
        tmp_path)
    summary = _assert_same_plan(a, b)
    assert summary["demand_source"].startswith("a street grid")
    assert summary["status"] == "work_limit" and summary["gap"] > 0
    assert summary["time_budget"]["work_limit"] == 1
    assert {p["status"] for p in summary["phases"]} <= {"optimal", "work_limit"}


@pytest.mark.full
def test_whole_street_grid_plan_is_the_same_for_every_hash_seed_under_a_work_limit(
    shanghai_osm: Path, tmp_path: Path
) -> None:
    """Its solve stops unproven; under ``--work-limit`` where it stops does not depend on load.

    The three processes run side by side, so each solves under a different load. Slow: the
    test took 6 min 32 s at a load average of 4 to 6 on 2 cores (one run alone took 16 min at
    15), most of it in the root of the largest part's model.
    """
    a, *others = _siting_per_seed(
        ["plan", "--osm", str(shanghai_osm), "--work-limit", WORK_LIMIT, "--time-limit", "1800",
         "--lang", "en", "--basemap", "none"], tmp_path, seeds=("1", "2", "3"), timeout=3600)
    for b in others:
        summary = _assert_same_plan(a, b)
    assert summary["counts"]["demand_points"] > 3000
    assert summary["status"] == "work_limit" and summary["gap"] > 0
    assert summary["time_budget"]["work_limit"] == int(WORK_LIMIT)
    # every solve ended by proof or by the work limit, none by the (safety) time limit
    assert {p["status"] for p in summary["phases"]} <= {"optimal", "work_limit"}


@pytest.mark.slow
def test_buildings_and_stations_are_the_same_for_every_hash_seed(tmp_path: Path) -> None:
    a, b = _siting_per_seed(["plan", "--osm", str(DEMO_OSM), "--tiers", "lockers,stations",
                             "--rules", "guangdong", "--basemap", "none"], tmp_path)
    summary = _assert_same_plan(a, b)
    assert summary["demand_source"] == "buildings"
    assert summary["tiers"]["stations"]["status"] == "optimal"


@pytest.mark.slow
def test_villages_and_every_tier_are_the_same_for_every_hash_seed(puyang_osm: Path,
                                                                  tmp_path: Path) -> None:
    a, b = _siting_per_seed(["plan", "--osm", str(puyang_osm), "--rules", "guangdong",
                             "--tiers", "lockers,stations,villages,townships,hubs",
                             "--county-centre", "115.03,35.71", "--basemap", "none"], tmp_path)
    summary = _assert_same_plan(a, b)
    assert summary["demand_source"] == "village nodes"
    tiers = summary["tiers"]
    assert tiers["hubs"]["status"] == "optimal"  # no solve stopped at its time limit
    assert {t["status"] for t in tiers.values()} <= {"optimal", "rule-based", "not applicable"}


@pytest.mark.slow
def test_candidates_are_the_same_for_every_hash_seed(shanghai_osm: Path, tmp_path: Path) -> None:
    boundary = _box(tmp_path / "xuhui.geojson", 121.446, 31.183, 121.464, 31.195)
    a, b = _siting_per_seed(["candidates", "--osm", str(shanghai_osm), "--boundary",
                             str(boundary), "--basemap", "none"], tmp_path)
    layers = _assert_same_layers(a / "exports" / "candidates.gpkg",
                                 b / "exports" / "candidates.gpkg")
    assert layers
    assert (a / "candidates.csv").read_bytes() == (b / "candidates.csv").read_bytes()


def _results(folder: Path) -> pd.DataFrame:
    table = pd.read_csv(folder / "results.csv", keep_default_na=False)
    return table.drop(columns=["seconds", "folder"])


@pytest.mark.slow
def test_batch_with_a_planners_table_is_the_same_for_every_hash_seed(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "chengdu.osm.xz").symlink_to(DEMO_OSM)
    (scenarios / "communities.csv").write_text(
        "name,lon,lat,households\n文翁小区,104.0600,30.6600,800\n"
        "商业街小区,104.0660,30.6640,1200\n祠堂街小区,104.0620,30.6580,500\n", encoding="utf-8")
    (scenarios / "table.toml").write_text("""name = "table"
[area]
osm = "chengdu.osm.xz"
[inputs]
communities = { path = "communities.csv", datum = "wgs84" }
[sweep]
"parameters.radius_m" = [250, 300]
""", encoding="utf-8")
    a, b = _siting_per_seed(["batch", str(scenarios / "table.toml"), "--workers", "2"], tmp_path)
    pd.testing.assert_frame_equal(_results(a), _results(b))
    names = _results(a)["scenario"].tolist()
    assert len(names) == 2
    for name in names:
        summary = _assert_same_plan(a / name, b / name)
        assert summary["demand_source"] == ("buildings, labelled and weighted by the "
                                            "planner's community table")


@pytest.mark.slow
def test_city_mode_is_the_same_for_every_hash_seed(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "chengdu.osm.xz").symlink_to(DEMO_OSM)
    (scenarios / "city.toml").write_text("""name = "city"
[area]
osm = "chengdu.osm.xz"
[area.districts]
source = "osm"
admin_level = 8
[solver]
work_limit = 500
""", encoding="utf-8")
    # the city bound's split problems stop by node count, not by the clock (60 s)
    a, b = _siting_per_seed(["batch", str(scenarios / "city.toml"), "--workers", "2"], tmp_path)
    pd.testing.assert_frame_equal(_results(a), _results(b))
    summary = _assert_same_plan(a / "city", b / "city")
    assert len(summary["districts"]) == 3
    assert summary["city_bound"]["status"] in ("optimal", "work_limit")
