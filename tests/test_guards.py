"""The size guard refuses an area too large for the machine early, with the estimate and a hint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geodata.area import study_area
from geodata.errors import AreaTooLargeError, ParameterError
from geodata.guards import (
    ERROR_FACTOR,
    MAX_SHARE,
    bytes_needed,
    check_area_size,
    estimate_size,
)
from geodata.osm import read_osm


def test_the_demo_district_fits_this_machine(chengdu_osm: Path) -> None:
    extract = read_osm(chengdu_osm)
    est = check_area_size(extract, study_area(extract), radius_m=300.0)
    assert est.fits and est.n_nodes == extract.n_nodes
    assert 0 < est.bytes_needed < 2 * 2**30  # measured peak 376 MB (benchmarks/results/)


def test_too_large_an_area_is_refused_with_the_estimate_and_the_fix(shanghai_osm: Path) -> None:
    extract = read_osm(shanghai_osm)
    area = study_area(extract)
    est = estimate_size(extract, area, radius_m=300.0)
    with pytest.raises(AreaTooLargeError) as err:
        check_area_size(extract, area, radius_m=300.0, memory_bytes=est.bytes_needed // 2)
    text = str(err.value)
    assert str(shanghai_osm) in text and "too large for this machine" in text
    assert f"{extract.n_nodes:,} OSM nodes" in text and "needed" in text
    assert "--boundary" in text and "city mode" in text


def test_a_longer_walk_needs_more_memory(chengdu_osm: Path) -> None:
    extract = read_osm(chengdu_osm)
    area = study_area(extract)
    short = estimate_size(extract, area, radius_m=200.0)
    long = estimate_size(extract, area, radius_m=800.0)
    assert long.pairs > short.pairs and long.bytes_needed > short.bytes_needed


def test_bad_guard_parameters_are_named(chengdu_osm: Path) -> None:
    extract = read_osm(chengdu_osm)
    area = study_area(extract)
    with pytest.raises(ParameterError, match="radius_m"):
        estimate_size(extract, area, radius_m=-1.0)
    with pytest.raises(ParameterError, match="max_share"):
        estimate_size(extract, area, radius_m=300.0, max_share=1.5)


#: The table the guard's coefficients are fitted on (``python benchmarks/size_guard.py``).
SIZE_TABLE = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "size_guard.json"


def _table() -> list[dict]:
    return json.loads(SIZE_TABLE.read_text(encoding="utf-8"))


def test_the_estimate_is_within_its_factor_of_every_measured_peak() -> None:
    rows = _table()
    assert len(rows) >= 5 and max(r["homes"] for r in rows) >= 42_000
    for r in rows:
        estimate = bytes_needed(r["nodes"], r["estimated_pairs"])
        factor = max(estimate / r["peak_bytes"], r["peak_bytes"] / estimate)
        assert factor <= ERROR_FACTOR <= 3.0, (r["file"], estimate, r["peak_bytes"])


def test_a_42000_home_city_is_allowed_on_a_24_gb_machine() -> None:
    big = max(_table(), key=lambda r: r["homes"])
    assert big["homes"] >= 42_000
    assert bytes_needed(big["nodes"], big["estimated_pairs"]) <= MAX_SHARE * 24e9
