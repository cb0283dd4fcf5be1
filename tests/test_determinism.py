"""Same input, same plan: two runs give identical ``plan.gpkg`` layers and ``summary.json`` but
for timestamps and timings; OSM strings are escaped in the map and report (issue 8, points 3
and 4)."""

from __future__ import annotations

import json
import lzma
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal

from siting.pipeline import plan

#: Keys that carry clock time, not the plan.
TIMING_KEYS = {"created", "timings_s", "solve_s", "build_s"}


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


@pytest.mark.slow
def test_plan_gpkg_layers_are_identical(two_runs: tuple[Path, Path]) -> None:
    a, b = two_runs
    layers_a = [name for name, _ in pyogrio.list_layers(a / "plan.gpkg")]
    assert layers_a == [name for name, _ in pyogrio.list_layers(b / "plan.gpkg")]
    assert {"demand", "candidates", "lockers", "assignments", "uncovered"} <= set(layers_a)
    for layer in layers_a:
        fa = gpd.read_file(a / "plan.gpkg", layer=layer)
        fb = gpd.read_file(b / "plan.gpkg", layer=layer)
        assert_geodataframe_equal(fa, fb, check_like=False, check_less_precise=False,
                                  normalize=False)


@pytest.mark.slow
def test_summary_is_identical_but_for_timings(two_runs: tuple[Path, Path]) -> None:
    a, b = two_runs
    sa = json.loads((a / "summary.json").read_text(encoding="utf-8"))
    sb = json.loads((b / "summary.json").read_text(encoding="utf-8"))
    assert sa["status"] == "optimal"
    assert _without_timings(sa) == _without_timings(sb)
    assert (a / "candidates.csv").read_bytes() == (b / "candidates.csv").read_bytes()


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
