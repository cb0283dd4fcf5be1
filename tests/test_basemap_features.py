"""Basemap features of real extracts: streets by class, buildings, water and green."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from test_map import basemap_from_osm

from geodata.area import study_area
from geodata.basemap import (
    BASEMAP_KINDS,
    BASEMAP_TAGS,
    read_land_cover,
    street_class,
    with_basemap_tags,
)
from geodata.buildings import SITING_TAGS, buildings_from_osm, read_siting_features
from geodata.candidates import candidates_from_osm
from geodata.old_compounds import building_years
from geodata.osm import read_osm


@pytest.fixture(scope="module")
def chengdu_base(chengdu_osm_plain: Path) -> gpd.GeoDataFrame:
    return basemap_from_osm(chengdu_osm_plain)


def test_street_classes_follow_the_highway_tag():
    assert street_class("primary_link") == "major" and street_class("secondary") == "major"
    assert street_class("tertiary") == "medium" and street_class("unclassified") == "medium"
    assert street_class("residential") == "minor" and street_class("service") == "minor"
    assert street_class("footway") == "path" and street_class("steps") == "path"


def test_chengdu_basemap_holds_its_streets_buildings_water_and_green(chengdu_base):
    counts = chengdu_base["kind"].value_counts()
    assert set(counts.index) <= set(BASEMAP_KINDS)
    assert counts["land"] == 1 and counts["building"] > 1000  # 1,034 building polygons
    for kind in ("street_major", "street_medium", "street_minor", "street_path", "green", "water"):
        assert counts[kind] > 0, kind
    order = chengdu_base["kind"].map(BASEMAP_KINDS.index)
    assert order.is_monotonic_increasing  # drawing order, land first
    land = chengdu_base.geometry.iloc[0]
    polygons = chengdu_base[chengdu_base["kind"].isin(["building", "green", "water"])]
    assert polygons.within(land.buffer(1.0)).all()  # clipped to the study area
    assert chengdu_base[chengdu_base["kind"].str.startswith("street_")].intersects(land).all()
    # The extract's three lakes lie in parks (Renmin Park and the one north of it).
    water = chengdu_base[chengdu_base["kind"] == "water"]
    green = chengdu_base[chengdu_base["kind"] == "green"].union_all().buffer(5.0)
    assert len(water) == 3 and water.intersects(green).all()


def test_the_shared_read_changes_nothing_the_plan_reads(chengdu_osm_plain: Path):
    """Water and green tags added to the one read of the file change no building or site."""
    extract = read_osm(chengdu_osm_plain)
    area = study_area(extract)
    plain = read_siting_features(extract)
    shared = read_siting_features(extract, tags=with_basemap_tags(SITING_TAGS))
    assert len(shared) > len(plain) and plain.index.isin(shared.index).all()
    for features in (plain, shared):
        buildings = buildings_from_osm(extract, area, features=features)
        sites = candidates_from_osm(extract, area, buildings, features=features)
        if features is plain:
            first = buildings, sites
    assert buildings.drop(columns="geometry").equals(first[0].drop(columns="geometry"))
    assert sites.drop(columns="geometry").equals(first[1].drop(columns="geometry"))
    assert building_years(shared).equals(building_years(plain))
    merged = with_basemap_tags({"landuse": "residential", "leisure": True})
    assert merged["leisure"] is True
    assert merged["landuse"] == sorted({"residential", *BASEMAP_TAGS["landuse"]})


def test_puyang_rivers_are_lines_and_its_ponds_water(puyang_osm: Path):
    extract = read_osm(puyang_osm)
    land = read_land_cover(extract, study_area(extract))
    kinds = land["kind"].value_counts()
    assert kinds["waterway"] > 0 and kinds["water"] > 0
    lines = land[land["kind"] == "waterway"].geom_type
    assert lines.isin(["LineString", "MultiLineString"]).all()
    assert land[land["kind"] == "water"].area.min() > 0


def test_shanghai_grid_has_streets_only(shanghai_osm: Path):
    extract = read_osm(shanghai_osm)
    assert read_land_cover(extract, study_area(extract)).empty
