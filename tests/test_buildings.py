"""Buildings from OSM: counts, clipping, storeys and the residential rule, on real data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geodata.area import study_area
from geodata.buildings import (
    BUILDING_COLUMNS,
    SITING_TAGS,
    buildings_from_osm,
    osm_ids,
    read_siting_features,
)
from geodata.defaults import (
    DEFAULT_LEVELS,
    DEFAULT_LEVELS_OTHER,
    METRES_PER_LEVEL,
    RESIDENTIAL_BUILDING_TAGS,
)
from geodata.osm import read_osm


@pytest.fixture(scope="module")
def chengdu(chengdu_inputs):
    return chengdu_inputs


def test_chengdu_count_and_columns(chengdu) -> None:
    extract, area, features, buildings = chengdu
    raw = features[
        features["building"].notna() & features.geom_type.isin(["Polygon", "MultiPolygon"])
    ]
    assert len(raw) == 1034  # measured with osmnx, shared/data/osm/README.md
    assert list(buildings.columns) == BUILDING_COLUMNS
    # every file polygon with at least 1 m2 inside the box is kept, nothing else
    inside = raw.geometry.to_crs(area.crs).intersection(area.projected).area
    expected = sorted(i for i, a in zip(osm_ids(raw.index), inside, strict=True) if a >= 1.0)
    assert buildings["osm_id"].tolist() == expected
    assert len(buildings) >= 1030
    assert buildings["osm_id"].is_unique
    assert buildings["osm_id"].str.fullmatch(r"(way|relation)/\d+").all()


def test_chengdu_geometry_is_projected_and_clipped(chengdu) -> None:
    _, area, _, buildings = chengdu
    assert buildings.crs.equals(area.crs)
    assert buildings.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert buildings.within(area.projected.buffer(1e-6)).all()
    np.testing.assert_allclose(buildings["footprint_m2"], buildings.area)
    assert (buildings["footprint_m2"] >= 1.0).all()
    # largest footprints of a city centre: big, but not absurd
    assert buildings["footprint_m2"].max() < 100_000


def test_chengdu_levels_follow_tags_then_defaults(chengdu) -> None:
    _, _, features, buildings = chengdu
    tags = features.copy()
    tags.index = osm_ids(features.index)
    tags = tags.loc[buildings["osm_id"]]
    source = buildings["levels_source"].to_numpy()
    assert set(source) <= {"tag-levels", "tag-height", "default"}
    assert (source == "tag-levels").sum() > 100
    tagged = source == "tag-levels"
    np.testing.assert_array_equal(
        buildings["levels"][tagged],
        np.maximum(1.0, tags["building:levels"][tagged].astype(float)),
    )
    by_height = source == "tag-height"
    assert by_height.any()
    heights = tags["height"][by_height].str.extract(r"([\d.]+)")[0].astype(float)
    np.testing.assert_array_equal(
        buildings["levels"][by_height],
        np.maximum(1.0, np.round(heights.to_numpy() / METRES_PER_LEVEL)),
    )
    assert tags["building:levels"][by_height].isna().all()
    default = buildings[source == "default"]
    for kind, levels, residential in default[["building", "levels", "residential"]].itertuples(
        index=False
    ):
        if kind in DEFAULT_LEVELS:
            assert levels == DEFAULT_LEVELS[kind]
        elif residential:  # building=yes in landuse=residential
            assert levels == DEFAULT_LEVELS["residential"]
        else:
            assert levels == DEFAULT_LEVELS_OTHER
    np.testing.assert_allclose(
        buildings["floor_area_m2"], buildings["footprint_m2"] * buildings["levels"]
    )
    assert (buildings["levels"] >= 1).all()


def test_chengdu_residential_rule(chengdu) -> None:
    _, area, features, buildings = chengdu
    landuse = features[
        (features["landuse"] == "residential")
        & features.geom_type.isin(["Polygon", "MultiPolygon"])
    ].to_crs(area.crs)
    points = gpd.GeoDataFrame(geometry=buildings.representative_point(), crs=area.crs)
    in_landuse = gpd.sjoin(points, landuse[["geometry"]], predicate="within").index.unique()
    expected = buildings["building"].isin(RESIDENTIAL_BUILDING_TAGS)
    expected |= (buildings["building"] == "yes") & buildings.index.isin(in_landuse)
    assert (buildings["residential"] == expected).all()
    # apartments dominate; the landuse rule adds some building=yes blocks
    res = buildings[buildings["residential"]]
    assert (res["building"] == "apartments").sum() > 300
    assert 0 < (res["building"] == "yes").sum() < (buildings["building"] == "yes").sum()
    assert not buildings.loc[buildings["building"] == "commercial", "residential"].any()


def test_reading_features_inside_gives_same_frame(chengdu) -> None:
    extract, area, _, buildings = chengdu
    again = buildings_from_osm(extract, area)
    assert again.equals(buildings)


_TINY_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="handwritten test">
 <bounds minlat="30.0000" minlon="104.0000" maxlat="30.0100" maxlon="104.0100"/>
 {nodes}
 <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  <tag k="building" v="apartments"/><tag k="building:levels" v="5"/><tag k="name" v="一号楼"/></way>
 <way id="2"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
  <tag k="building" v="commercial"/><tag k="height" v="31.5 m"/></way>
 <way id="3"><nd ref="9"/><nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="9"/>
  <tag k="building" v="yes"/></way>
 <way id="4"><nd ref="13"/><nd ref="14"/><nd ref="15"/><nd ref="16"/><nd ref="13"/>
  <tag k="building" v="yes"/><tag k="building:levels" v="not a number"/></way>
 <way id="5"><nd ref="17"/><nd ref="18"/><nd ref="19"/><nd ref="20"/><nd ref="17"/>
  <tag k="landuse" v="residential"/></way>
 <way id="6"><nd ref="21"/><nd ref="22"/><nd ref="23"/><nd ref="24"/><nd ref="21"/>
  <tag k="building" v="house"/></way>
</osm>
"""


def _square(node_id: int, lon: float, lat: float, size: float) -> str:
    corners = [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size)]
    return "\n ".join(
        f'<node id="{node_id + i}" lat="{y:.6f}" lon="{x:.6f}"/>'
        for i, (x, y) in enumerate(corners)
    )


@pytest.fixture
def tiny(tmp_path: Path):
    nodes = "\n ".join(
        [
            _square(1, 104.001, 30.001, 0.0003),  # apartments, 5 levels
            _square(5, 104.003, 30.001, 0.0003),  # commercial, 31.5 m high
            _square(9, 104.0055, 30.0055, 0.0002),  # yes, inside landuse=residential
            _square(13, 104.001, 30.006, 0.0002),  # yes, outside, bad levels tag
            _square(17, 104.005, 30.005, 0.003),  # landuse=residential
            _square(21, 104.0095, 30.003, 0.001),  # house, half outside the box
        ]
    )
    path = tmp_path / "tiny.osm"
    path.write_text(_TINY_OSM.format(nodes=nodes), encoding="utf-8")
    extract = read_osm(path)
    return extract, study_area(extract)


def test_tiny_file_levels_and_residential(tiny) -> None:
    extract, area = tiny
    b = buildings_from_osm(extract, area).set_index("osm_id")
    assert b.index.tolist() == ["way/1", "way/2", "way/3", "way/4", "way/6"]
    assert (b.loc["way/1", "levels"], b.loc["way/1", "levels_source"]) == (5.0, "tag-levels")
    assert b.loc["way/1", "name"] == "一号楼"
    assert (b.loc["way/2", "levels"], b.loc["way/2", "levels_source"]) == (10.0, "tag-height")
    assert b.loc["way/3", "residential"] and b.loc["way/3", "levels"] == 6.0
    assert not b.loc["way/4", "residential"]
    assert (b.loc["way/4", "levels"], b.loc["way/4", "levels_source"]) == (
        DEFAULT_LEVELS_OTHER,
        "default",
    )
    assert b.loc["way/6", "residential"] and b.loc["way/6", "levels"] == 2.0
    # the house sticks out of the box by half: only the inside half counts
    full = (
        gpd.GeoSeries([shapely.box(104.0095, 30.003, 104.0105, 30.004)], crs=4326)
        .to_crs(area.crs)
        .area.iloc[0]
    )
    assert b.loc["way/6", "footprint_m2"] == pytest.approx(full / 2, rel=0.01)


def test_file_without_buildings_gives_empty_frame(tmp_path: Path) -> None:
    path = tmp_path / "roads.osm"
    path.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        '<node id="1" lat="30.0" lon="104.0"/><node id="2" lat="30.01" lon="104.01"/>'
        '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way></osm>',
        encoding="utf-8",
    )
    extract = read_osm(path)
    b = buildings_from_osm(extract, study_area(extract))
    assert b.empty and list(b.columns) == BUILDING_COLUMNS


def test_features_equal_osmnx_reading_the_file(chengdu_osm_plain: Path) -> None:
    """The frame built from the parsed elements is the one osmnx builds from the file."""
    extract = read_osm(chengdu_osm_plain)
    ours = read_siting_features(extract)
    theirs = ox.features_from_xml(chengdu_osm_plain, tags=dict(SITING_TAGS))
    assert len(ours) > 1000
    assert_geodataframe_equal(ours, theirs)
