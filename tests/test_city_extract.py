"""A city's district reads only its part of the city's elements, and plans as on the whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from geodata.osm import read_osm


@pytest.fixture(scope="module")
def chengdu_districts(chengdu_osm: Path, tmp_path_factory: pytest.TempPathFactory):
    """The Chengdu extract, read once, and its three sub-districts with a 300 m buffer."""
    from siting.city import district_areas, split_districts
    from siting.scenario import load_scenarios

    folder = tmp_path_factory.mktemp("city")
    (folder / "chengdu.osm.xz").symlink_to(chengdu_osm)
    (folder / "city.toml").write_text(
        '[area]\nosm = "chengdu.osm.xz"\n[area.districts]\nsource = "osm"\nadmin_level = 8\n',
        encoding="utf-8")
    scenario = load_scenarios(folder / "city.toml")[0].scenario
    extract = read_osm(chengdu_osm)
    districts, city = split_districts(scenario, extract=extract)
    return extract, district_areas(districts, city, buffer_m=300.0)


def _way_box(coords: dict[int, tuple[float, float]], way: dict) -> np.ndarray:
    xy = np.array([coords[n] for n in way["nodes"] if n in coords])
    return np.r_[xy.min(axis=0), xy.max(axis=0)]


def test_within_keeps_what_reaches_the_box_complete(chengdu_districts) -> None:
    extract, areas = chengdu_districts
    area, _ = areas[1]
    cut = extract.within(area.polygon, margin_deg=0.0)
    x0, y0, x1, y1 = area.polygon.bounds
    kept = {(e["type"], e["id"]) for e in cut.data.elements}
    assert 0 < len(kept) < len(extract.data.elements)
    assert (cut.n_nodes, cut.n_ways) == (
        sum(k == "node" for k, _ in kept), sum(k == "way" for k, _ in kept))
    coords = extract.data.node_coords()
    for e in extract.data.elements:
        if e["type"] == "way" and ("way", e["id"]) in kept:  # complete: every node kept
            assert all(("node", n) in kept for n in e["nodes"] if n in coords)
        elif e["type"] == "way":  # dropped: its nodes' box (computed here) misses the area's
            bx0, by0, bx1, by1 = _way_box(coords, e)
            assert bx0 > x1 or bx1 < x0 or by0 > y1 or by1 < y0
        elif e["type"] == "relation" and ("relation", e["id"]) in kept and (
                e["tags"].get("type") in ("multipolygon", "boundary")):  # areas: complete
            present = [(m["type"], m["ref"]) for m in e["members"]]
            assert all(p in kept for p in present
                       if p in {(x["type"], x["id"]) for x in extract.data.elements})
    street = next(e for e in extract.data.elements if e["type"] == "way"
                  and "highway" in e["tags"] and ("way", e["id"]) in kept)
    assert street in cut.data.elements  # the same element, not a copy


def test_district_inputs_on_its_part_equal_those_on_the_whole_city(chengdu_districts) -> None:
    from optimizer.rules import preset
    from siting.options import PlanOptions
    from siting.pipeline import locker_parameters, locker_problem, read_district

    extract, areas = chengdu_districts
    options = PlanOptions(radius_m=300.0)
    lp = locker_parameters(options, preset(options.rules))
    for area, owned in areas:
        whole = read_district(extract.path, options, extract=extract, area=area, owned=owned)
        part = read_district(extract.path, options, extract=extract.within(area.polygon),
                             area=area, owned=owned)
        for name in ("demand", "communities", "candidates"):
            a, b = getattr(whole, name), getattr(part, name)
            pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
            assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), 0).all()
        assert (whole.walk.n_nodes, whole.walk.n_edges) == (part.walk.n_nodes, part.walk.n_edges)
        pw, pp = locker_problem(whole, lp)[0], locker_problem(part, lp)[0]
        for field in ("pair_demand", "pair_site", "pair_walk_m", "daily_parcels"):
            np.testing.assert_array_equal(getattr(pw, field), getattr(pp, field))
        inside = [f.features[f.features.intersects(area.polygon)].index.sort_values()
                  for f in (whole, part)]
        assert inside[0].equals(inside[1])


@pytest.mark.parametrize("tags", [
    "siting", {"place": ["neighbourhood", "quarter"], "amenity": ["marketplace"],
               "landuse": ["retail", "commercial"]}])
def test_features_from_the_elements_they_need_equal_osmnx_on_all(chengdu_osm: Path, tags) -> None:
    from osmnx import features as ox_features
    from shapely.geometry import Polygon

    from geodata.basemap import with_basemap_tags
    from geodata.buildings import SITING_TAGS

    query = with_basemap_tags(SITING_TAGS) if tags == "siting" else tags
    data = read_osm(chengdu_osm).data
    every = [{**e, "tags": dict(e["tags"])} for e in data.elements]
    expected = ox_features._create_gdf([{"elements": every}], Polygon(), dict(query))
    got = data.features(dict(query))
    meta = ["changeset", "timestamp", "uid", "user", "version"]  # dropped by our frames
    expected = expected.drop(columns=[c for c in meta if c in expected.columns])
    pd.testing.assert_frame_equal(got.sort_index(axis=1), expected.sort_index(axis=1))
