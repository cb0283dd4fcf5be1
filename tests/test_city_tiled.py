"""Acceptance of city mode at size: a synthetic 4-tile city on a Dask cluster (issue 15).

Four copies of an extract (``benchmarks/city_tiles.py``) are planned in city mode by
``siting batch``, once on a local cluster and once through ``--scheduler`` (a ``dask
scheduler`` and a ``dask worker`` started on localhost). The merged plan must keep every served
home within the walking radius of its locker by the pipeline's own walking model (the
``walk_m`` columns), hold R2 per community and per locker (004 五(二)), and report the city's
cost with a city-wide lower bound and gap, and the status that gap proves. Lockers only, at a
small radius, to keep it quick (``benchmarks/bench_city.py`` plans the stations too).

Two sizes of one path: four copies of the whole Chengdu extract (12 sub-districts, minutes:
``full``), and four copies of a box of a ninth of it (:data:`SMALL_BOX`: 8 sub-district parts,
112 homes) for every test run.
"""

from __future__ import annotations

import json
import lzma
import re
from pathlib import Path

import pyogrio
import pytest
from test_batch import _remote_cluster
from typer.testing import CliRunner

from benchmarks.city_tiles import Template, clip_extract, write_city
from optimizer.milp import DEFAULT_GAP
from siting.summary import validate_summary

RADIUS_M = 200.0

#: The middle ninth of the Chengdu extract's box (WGS84 west, south, east, north), about
#: 600 m x 600 m across parts of 西御河街道 and 春熙路街道.
SMALL_BOX = (104.0604, 30.6598, 104.0666, 30.6652)


def _boxed(chengdu: Path, folder: Path, box: tuple[float, float, float, float]) -> Path:
    """The Chengdu extract with its ``<bounds>`` set to ``box``, to be clipped to it."""
    west, south, east, north = box
    xml = lzma.decompress(chengdu.read_bytes()).decode("utf-8")
    bounds = f'<bounds minlat="{south}" minlon="{west}" maxlat="{north}" maxlon="{east}"/>'
    xml, count = re.subn(r"<bounds [^>]*/>", bounds, xml, count=1)
    assert count == 1
    path = folder / "boxed.osm"
    path.write_text(xml, encoding="utf-8")
    return path


def _city_scenario(folder: Path, template: Template) -> Path:
    write_city(template, folder / "city4.osm.pbf", tiles=4)
    path = folder / "city4.toml"
    path.write_text(f"""
name = "city4"
tiers = ["lockers"]
[area]
osm = "city4.osm.pbf"
[area.districts]
source = "osm"
admin_level = 8
[parameters]
radius_m = {RADIUS_M:g}
[solver]
time_limit = 60
""", encoding="utf-8")
    return path


def _check_city(folder: Path, districts: int) -> None:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    validate_summary(summary)
    assert len(summary["districts"]) == districts
    assert all(d["status"] in ("optimal", "time_limit") for d in summary["districts"])
    # the city-wide bound (optimizer.city_bound) and the gap of the merged plan to it
    assert summary["bound"] is not None and summary["gap"] is not None
    assert 0 < summary["bound"] <= summary["objective"] + 1e-6
    assert summary["gap"] == pytest.approx(
        (summary["objective"] - summary["bound"]) / summary["objective"], abs=1e-9)
    # the copies' districts share border sites: far from the bound, so not optimal
    assert summary["gap"] > 100 * DEFAULT_GAP
    assert summary["status"] in ("feasible", "time_limit")
    gpkg = folder / "plan.gpkg"
    demand = pyogrio.read_dataframe(gpkg, layer="demand")
    served = demand.dropna(subset=["locker_id"])
    assert len(served) > 0.9 * len(demand)
    assert (served["walk_m"] <= RADIUS_M + 1e-6).all()
    assignments = pyogrio.read_dataframe(gpkg, layer="assignments")
    assert (assignments["walk_m"] <= RADIUS_M + 1e-6).all()
    lockers = pyogrio.read_dataframe(gpkg, layer="lockers")
    assert set(served["locker_id"]) <= set(lockers["site_id"])
    assert (lockers["compartments"] >= lockers["daily_parcels_served"] - 1e-6).all()
    communities = pyogrio.read_dataframe(gpkg, layer="communities")
    assert communities["community_ratio"].notna().any()
    assert (communities["community_ratio"].dropna() <= 1.3 + 1e-6).all()


def _local_and_remote(tmp_path: Path, template: Template, districts: int) -> None:
    """Plan the 4-tile city on a local cluster and on a remote scheduler; check both."""
    from siting.cli import app

    scenario = _city_scenario(tmp_path, template)
    local = CliRunner().invoke(app, ["batch", str(scenario), "--out", str(tmp_path / "local"),
                                     "--workers", "2"])
    assert local.exit_code == 0, local.output
    _check_city(tmp_path / "local" / "city4", districts)
    with _remote_cluster(tmp_path) as address:
        remote = CliRunner().invoke(app, ["batch", str(scenario), "--out",
                                          str(tmp_path / "remote"), "--scheduler", address])
    assert remote.exit_code == 0, remote.output
    _check_city(tmp_path / "remote" / "city4", districts)
    one = json.loads((tmp_path / "local" / "city4" / "summary.json").read_text())
    two = json.loads((tmp_path / "remote" / "city4" / "summary.json").read_text())
    assert one["objective"] == two["objective"]
    # the split problems stop at their time limits: their bounds, valid both, may differ then
    assert one["bound"] <= one["objective"] and two["bound"] <= two["objective"]
    if one["city_bound"]["status"] == two["city_bound"]["status"] == "optimal":
        assert one["bound"] == two["bound"]


@pytest.mark.slow
def test_small_tiled_city_on_a_local_cluster_and_a_remote_scheduler(
        tmp_path: Path, chengdu_osm: Path) -> None:
    template = clip_extract(_boxed(chengdu_osm, tmp_path, SMALL_BOX))
    _local_and_remote(tmp_path, template, districts=8)


@pytest.mark.full  # minutes on 2 cores: `make test-full`
def test_four_tile_city_on_a_local_cluster_and_a_remote_scheduler(
        tmp_path: Path, chengdu_osm: Path) -> None:
    _local_and_remote(tmp_path, clip_extract(chengdu_osm), districts=12)
