"""The tiled synthetic city of ``benchmarks/city_tiles.py``: four copies of the Chengdu extract.

Ids must be unique and counts four times one copy's; copies must be the same data shifted by
whole boxes; the pipeline must read the file and find each copy's sub-districts as districts
of their own, with the areas they have in one copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pytest

from benchmarks.city_tiles import ID_SPAN, Template, clip_extract, write_city
from geodata.osm import read_osm


@pytest.fixture(scope="module")
def template(chengdu_osm: Path) -> Template:
    return clip_extract(chengdu_osm)


def _objects(path: Path) -> dict[str, dict[int, Any]]:
    out: dict[str, dict[int, Any]] = {"n": {}, "w": {}, "r": {}}
    counts = {"n": 0, "w": 0, "r": 0}
    for obj in osmium.FileProcessor(str(path)):
        value: Any
        if isinstance(obj, osmium.osm.Node):
            kind, value = "n", (obj.location.lon, obj.location.lat)
        elif isinstance(obj, osmium.osm.Way):
            kind, value = "w", [n.ref for n in obj.nodes]
        else:
            kind, value = "r", dict(obj.tags).get("name")
        counts[kind] += 1
        out[kind][obj.id] = value
    assert counts == {k: len(v) for k, v in out.items()}, "an id is repeated"
    return out


def test_four_tiles_have_unique_ids_four_times_the_counts_and_shifted_copies(
        tmp_path: Path, template: Template) -> None:
    path = write_city(template, tmp_path / "city.osm.pbf", tiles=4)
    objs = _objects(path)
    # each copy adds its outline: four corner nodes and one way
    assert len(objs["n"]) == 4 * (len(template.nodes) + 4)
    assert len(objs["w"]) == 4 * (len(template.ways) + 1)
    assert len(objs["r"]) == 4 * len(template.relations)
    nodes = objs["n"]
    for refs in objs["w"].values():
        assert all(r in nodes for r in refs)  # every way's nodes are in the file
    x0, y0, x1, y1 = template.box
    some = sorted(template.nodes)[:50]
    copy0 = np.array([nodes[i] for i in some])
    copy3 = np.array([nodes[3 * ID_SPAN + i] for i in some])  # row 1, column 1
    assert np.allclose(copy3 - copy0, [x1 - x0, y1 - y0])
    # copy 0 stays in its box, but for buildings across its edge (their centroids inside)
    edge = 0.001  # about 100 m
    assert all(x0 - edge <= x <= x1 + edge and y0 - edge <= y <= y1 + edge
               for i, (x, y) in nodes.items() if i < ID_SPAN)
    names = [n for n in objs["r"].values() if n and n.startswith("少城街道")]
    assert sorted(names) == [f"少城街道 #{t}" for t in range(4)]
    extract = read_osm(path)
    assert extract.has_bounds
    assert extract.bounds.area == pytest.approx(4 * (x1 - x0) * (y1 - y0), rel=1e-6)


def test_city_mode_finds_each_copys_sub_districts(tmp_path: Path, template: Template) -> None:
    from siting.city import split_districts
    from siting.scenario import load_scenarios

    for tiles in (1, 4):
        write_city(template, tmp_path / f"city{tiles}.osm.pbf", tiles=tiles)
        (tmp_path / f"city{tiles}.toml").write_text(f"""
name = "tiles-{tiles}"
[area]
osm = "city{tiles}.osm.pbf"
[area.districts]
source = "osm"
admin_level = 8
""", encoding="utf-8")
    one, _ = split_districts(load_scenarios(tmp_path / "city1.toml")[0].scenario)
    four, _ = split_districts(load_scenarios(tmp_path / "city4.toml")[0].scenario)
    assert set(one["name"]) == {"西御河街道 #0", "春熙路街道 #0", "少城街道 #0"}
    assert len(four) == 4 * len(one) and four["name"].is_unique
    area_one = dict(zip(one["name"].str[:-3], one.area, strict=True))
    for name, area in zip(four["name"], four.area, strict=True):
        assert area == pytest.approx(area_one[name.split(" #")[0]], rel=1e-3)
