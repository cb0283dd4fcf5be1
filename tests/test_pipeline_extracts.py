"""`siting plan` on other OSM files: PBF input, a rural county, a roads-only city centre."""

from __future__ import annotations

import json
import lzma

import osmium
import pytest

from siting.pipeline import plan

FILES = {"plan.gpkg", "summary.json", "candidates.csv", "map.html"}


def test_pbf_input_gives_the_same_plan(chengdu_osm, tmp_path):
    xml = tmp_path / "chengdu.osm"
    xml.write_bytes(lzma.decompress(chengdu_osm.read_bytes()))
    pbf = tmp_path / "chengdu.osm.pbf"
    header = osmium.io.Header()  # real extracts carry their box, as <bounds> in XML
    header.add_box(
        osmium.osm.Box(
            osmium.osm.Location(104.05422, 30.65434), osmium.osm.Location(104.07276, 30.67066)
        )
    )
    with osmium.SimpleWriter(str(pbf), header=header) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    from_xml = plan(chengdu_osm)
    from_pbf = plan(pbf, out=tmp_path / "out")
    assert FILES <= {p.name for p in (tmp_path / "out").iterdir()}
    assert from_pbf.summary["status"] == "optimal"
    assert from_pbf.summary["objective"] == pytest.approx(from_xml.summary["objective"])


def test_rural_county_plans_a_locker_per_village(puyang_osm, tmp_path):
    result = plan(puyang_osm, out=tmp_path / "puyang")
    summary = json.loads((tmp_path / "puyang" / "summary.json").read_text(encoding="utf-8"))
    assert summary["demand_source"] == "village nodes"
    # 54 villages and 4 hamlets (data README), each one demand point
    assert summary["counts"]["demand_points"] == 58
    assert summary["status"] == "optimal"
    assert summary["coverage"]["uncovered"] == 0
    assert set(result.layers["candidates"]["kind"]) >= {"village_centre"}


@pytest.mark.slow
def test_roads_only_city_centre_uses_the_street_grid(shanghai_osm, shanghai_centre, tmp_path):
    """A box of central Shanghai at a 250 m walk, its solve ended by a node count so the gap is
    the machine's.

    Under a time limit the gap depends on the machine and its load (the whole grid at
    ``time_limit=30`` gave 97.7 %, 89.8 % of parcels covered, at a load average of 11: measured),
    so no figure of it can be asserted. Under ``--work-limit 1`` every run stops at the
    same plan: 3,590,000 CNY against a bound of 3,584,000 (gap 0.17 %, three cost steps of
    2,000), measured on the walk network grown past the box (at 300 m one node proves the box).
    The tolerance, 0.5 % (17,950 CNY), is less than one site (20,000 CNY): a plan with one more
    site than that, or a bound one site weaker, breaks it; an improvement may prove the plan
    (gap 0).
    """
    result = plan(shanghai_osm, boundary=shanghai_centre, out=tmp_path / "shanghai",
                  time_limit=600, work_limit=1, radius_m=250)
    assert FILES <= {p.name for p in (tmp_path / "shanghai").iterdir()}
    summary = result.summary
    assert summary["demand_source"].startswith("a street grid")
    assert summary["counts"]["demand_points"] > 250
    assert summary["status"] in ("work_limit", "optimal")
    assert 0 < summary["bound"] <= summary["objective"]
    assert summary["gap"] == pytest.approx(
        (summary["objective"] - summary["bound"]) / summary["objective"], rel=1e-9, abs=1e-12)
    assert summary["gap"] < 0.005
    assert summary["coverage"]["parcel_share_covered"] > 0.985  # 98.99 % measured at 250 m
