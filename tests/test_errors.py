"""Bad input at the command line: one clear message (file, field, fix), exit code, no
traceback, and nothing written or overwritten (issue 8, point 1)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from siting.cli import app

ROOT = Path(__file__).resolve().parents[1]
PRIOR = {"summary.json": b'{"status": "optimal", "from": "an earlier run"}\n',
         "map.html": b"<html>earlier map</html>\n"}


def _prior(out: Path) -> None:
    """An earlier output folder that a failed run must leave alone."""
    out.mkdir(parents=True)
    for name, data in PRIOR.items():
        (out / name).write_bytes(data)


def _unchanged(out: Path) -> None:
    assert sorted(p.name for p in out.iterdir()) == sorted(PRIOR)
    for name, data in PRIOR.items():
        assert (out / name).read_bytes() == data
    # no temporary folder left beside it
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")] == []


def _cli(*args: str) -> tuple[int, str]:
    """Run the CLI in this process; return the exit code and stderr with lines joined."""
    result = CliRunner().invoke(app, list(args))
    text = result.stderr if result.stderr else result.output
    assert "Traceback" not in text
    return result.exit_code, re.sub(r"\s+", " ", text)


def _cli_process(*args: str, env: dict[str, str] | None = None, timeout: float = 300):
    done = subprocess.run([sys.executable, "-m", "siting", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})
    assert "Traceback" not in done.stderr
    return done.returncode, re.sub(r"\s+", " ", done.stderr), done.stdout


def _plan_fails(osm: Path, out: Path, *extra: str) -> str:
    _prior(out)
    code, err = _cli("plan", "--osm", str(osm), "--out", str(out), *extra)
    assert code == 2, err
    assert "error: " in err and "Fix: " in err
    _unchanged(out)
    return err


def _strip(src: Path, dst: Path, *, drop_keys: set[str]) -> Path:
    tree = ET.parse(src)
    root = tree.getroot()
    for el in list(root):
        if el.tag == "way" and any(t.get("k") in drop_keys for t in el.iter("tag")):
            root.remove(el)
    tree.write(dst, encoding="utf-8", xml_declaration=True)
    return dst


def test_missing_file(tmp_path: Path) -> None:
    err = _plan_fails(tmp_path / "nowhere.osm", tmp_path / "out")
    assert "nowhere.osm" in err and "does not exist" in err


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.osm").write_bytes(b"")
    err = _plan_fails(tmp_path / "empty.osm", tmp_path / "out")
    assert "empty.osm" in err and "empty (0 bytes)" in err and "download or export" in err


def test_truncated_xml(chengdu_osm_plain: Path, tmp_path: Path) -> None:
    data = chengdu_osm_plain.read_bytes()
    (tmp_path / "cut.osm").write_bytes(data[: len(data) // 3])
    err = _plan_fails(tmp_path / "cut.osm", tmp_path / "out")
    assert "cut.osm" in err and "truncated or corrupt at line" in err


def test_truncated_xz(chengdu_osm: Path, tmp_path: Path) -> None:
    data = chengdu_osm.read_bytes()
    (tmp_path / "cut.osm.xz").write_bytes(data[: len(data) // 2])
    err = _plan_fails(tmp_path / "cut.osm.xz", tmp_path / "out")
    assert "cut.osm.xz" in err and "xz stream is truncated" in err


def test_truncated_pbf(chengdu_osm_plain: Path, tmp_path: Path) -> None:
    import osmium

    whole = tmp_path / "whole.osm.pbf"
    with osmium.SimpleWriter(str(whole)) as writer:
        for obj in osmium.FileProcessor(str(chengdu_osm_plain)):
            writer.add(obj)
    data = whole.read_bytes()
    (tmp_path / "cut.osm.pbf").write_bytes(data[: len(data) // 2])
    err = _plan_fails(tmp_path / "cut.osm.pbf", tmp_path / "out")
    assert "cut.osm.pbf" in err and "PBF data is truncated or corrupt" in err


def test_xml_that_is_not_osm(tmp_path: Path) -> None:
    (tmp_path / "track.osm").write_text('<?xml version="1.0"?>\n<gpx version="1.1"><trk>'
                                        '<trkpt lat="30.66" lon="104.06"/></trk></gpx>\n')
    err = _plan_fails(tmp_path / "track.osm", tmp_path / "out")
    assert "track.osm" in err and "root element is <gpx>, not <osm>" in err
    assert "coordinate that is not a number" not in err  # not re-wrapped as another fault


def test_no_roads_and_no_buildings(chengdu_osm_plain: Path, tmp_path: Path) -> None:
    bare = _strip(chengdu_osm_plain, tmp_path / "bare.osm", drop_keys={"highway", "building"})
    err = _plan_fails(bare, tmp_path / "out")
    assert "bare.osm" in err and "highway" in err and "streets" in err


def test_boundary_outside_the_data(chengdu_osm: Path, datav_dir: Path, tmp_path: Path) -> None:
    zhengzhou = datav_dir / "410100_full.json"
    err = _plan_fails(chengdu_osm, tmp_path / "out", "--boundary", str(zhengzhou))
    assert "410100_full.json" in err and "does not overlap" in err and "chengdu" in err


def test_boundary_in_metres_without_a_crs(chengdu_osm: Path, tmp_path: Path) -> None:
    """UTM metres in a GeoJSON that declares no CRS: not longitude/latitude."""
    ring = [[405000, 3391000], [406000, 3391000], [406000, 3392000], [405000, 3391000]]
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "block"},
        "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    (tmp_path / "metres.geojson").write_text(json.dumps(doc))
    err = _plan_fails(chengdu_osm, tmp_path / "out", "--boundary", str(tmp_path / "metres.geojson"))
    assert "metres.geojson" in err and "not longitude/latitude" in err and "EPSG:4326" in err


@pytest.mark.parametrize("out", ["afile/out", "afile"])
def test_output_folder_under_a_file(chengdu_osm: Path, tmp_path: Path, out: str) -> None:
    """Root ignores chmod, so the unwritable folder is one whose parent is a regular file."""
    (tmp_path / "afile").write_bytes(b"not a folder")
    code, err = _cli("plan", "--osm", str(chengdu_osm), "--out", str(tmp_path / out))
    assert code == 2
    assert "afile is a file, not a folder" in err and "--out" in err
    assert "read" not in err.split("error:")[0]  # refused before any stage ran
    assert (tmp_path / "afile").read_bytes() == b"not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_output_folder_under_proc(chengdu_osm: Path) -> None:
    code, err = _cli("plan", "--osm", str(chengdu_osm), "--out", "/proc/postal-siting/out")
    assert code == 2 and "/proc/postal-siting/out" in err and "cannot write" in err


def _scenario(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'name = "{name}"\n{body}', encoding="utf-8")
    return path


def test_bad_scenarios(tmp_path: Path) -> None:
    """Unknown key, wrong type, negative radius and an escaping path: each file is rejected
    naming the file, the field, the value and the fix; no plan folder is written."""
    sub = tmp_path / "scenarios"
    sub.mkdir()
    files = [
        _scenario(sub, "unknown", 'colour = "red"\n[area]\nosm = "demo"\n'),
        _scenario(sub, "wrongtype", '[area]\nosm = "demo"\n[parameters]\nradius_m = "far"\n'),
        _scenario(sub, "negative", '[area]\nosm = "demo"\n[parameters]\nradius_m = -5\n'),
        _scenario(sub, "escape", '[area]\nosm = "../../etc/secret.osm"\n'),
    ]
    out = tmp_path / "batch"
    code, err, _ = _cli_process("batch", *map(str, files), "--out", str(out), "--workers", "1")
    assert code == 1, err
    assert "unknown.toml: field 'colour' = \"red\": unknown key" in err
    assert "wrongtype.toml: field 'parameters.radius_m' = \"far\"" in err
    assert "negative.toml: field 'parameters.radius_m' = -5" in err and "greater than 0" in err
    assert "escape.toml: field 'area.osm' = \"../../etc/secret.osm\"" in err
    assert "outside the scenario's folder" in err
    assert err.count("Fix: correct the field(s)") >= 4
    # only the batch's results table lists the failures: no scenario folder was written
    assert not out.exists() or not [p for p in out.iterdir() if p.is_dir()]


@pytest.mark.slow
def test_gcj02_boundary_given_as_wgs84_names_the_offset(
    chengdu_osm_plain: Path, datav_dir: Path, tmp_path: Path
) -> None:
    import geopandas as gpd

    frame = gpd.read_file(datav_dir / "510100_full.json")[["name", "geometry"]]
    qingyang = tmp_path / "qingyang.geojson"
    frame[frame["name"] == "青羊区"].to_file(qingyang, driver="GeoJSON")
    code, err, _ = _cli_process("candidates", "--osm", str(chengdu_osm_plain), "--boundary",
                                str(qingyang), "--boundary-crs", "wgs84",
                                "--out", str(tmp_path / "out"))
    assert code == 0, err
    m = re.search(r"qingyang\.geojson: boundary given as WGS84 but .* probably GCJ-02, offset "
                  r"by about (\d+) m here\. Fix: pass --boundary-crs gcj02", err)
    assert m, err
    assert 200 <= int(m.group(1)) <= 700


@pytest.mark.slow
def test_budget_too_small_for_any_site_says_so(chengdu_osm: Path, tmp_path: Path) -> None:
    """A max-cover budget of 0 modules: a valid (empty) plan, exit 0, said loudly, and the
    rules it misses (G1 coverage) listed."""
    out = tmp_path / "out"
    code, err, _ = _cli_process("plan", "--osm", str(chengdu_osm), "--mode", "max-cover",
                                "--budget", "0", "--out", str(out))
    assert code == 0, err
    assert "0 of 416 buildings served" in err
    assert ("warning: the plan serves none of the 416 demand points: --mode max-cover "
            "--budget 0 (modules) opens no locker") in err
    assert "Fix: raise --budget" in err
    assert "rule not met: G1" in err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["coverage"]["covered"] == 0 and summary["counts"]["lockers"] == 0
    assert any(r["id"] == "G1" and not r["passed"] for r in summary["rules"])


@pytest.mark.slow
def test_highs_missing_falls_back_to_cbc(chengdu_osm: Path, tmp_path: Path) -> None:
    block = tmp_path / "block"
    block.mkdir()
    (block / "highspy.py").write_text('raise ImportError("highspy blocked by this test")\n')
    out = tmp_path / "out"
    # at 150 m CBC proves the demo in seconds (at 300 m it needs minutes)
    code, err, _ = _cli_process("plan", "--osm", str(chengdu_osm), "--out", str(out),
                                "--radius-m", "150", env={"PYTHONPATH": str(block)})
    assert code == 0, err
    assert "RuntimeWarning: solver 'highs' is not installed; falling back to 'cbc'" in err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal"
    assert {p["name"] for p in summary["phases"]} and summary["gap"] <= 1e-4
