"""What an offline basemap draws from the extract: streets by class, buildings, water, green.

Without map tiles (no network, or no tile service chosen) a plan map would float on an empty
page. Everything a planner needs to find a locker on the ground is in the OSM extract itself,
so :func:`basemap_features` gathers it into one plain GeoDataFrame with a ``kind`` per row, in
drawing order (:data:`BASEMAP_KINDS`, bottom first):

- ``land``: the study area, the light ground the rest is drawn on;
- ``green``: parks, gardens, pitches, grass, meadows, woods and forests;
- ``water``: water areas (``natural=water``, ``waterway=riverbank``, ``landuse=reservoir`` ...);
- ``waterway``: rivers, canals, streams and ditches drawn as lines;
- ``building``: building footprints;
- ``street_path``, ``street_minor``, ``street_medium``, ``street_major``: streets by class
  (:func:`street_class`).

Streets and buildings are the ones the plan already reads (the walking network's
:func:`geodata.network.street_lines` and :func:`geodata.buildings.buildings_from_osm`), so the
file is not read again for them. Water and green come from a features frame: pass the frame
read once for the plan with :func:`with_basemap_tags` added to its tags
(:func:`land_cover_from_features`), or read them alone with :func:`read_land_cover`.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.area import StudyArea
from geodata.buildings import clip_polygons, read_siting_features
from geodata.osm import OsmExtract

__all__ = [
    "BASEMAP_KINDS",
    "BASEMAP_TAGS",
    "STREET_CLASSES",
    "basemap_features",
    "land_cover_from_features",
    "read_land_cover",
    "street_class",
    "with_basemap_tags",
]

log = logging.getLogger(__name__)

#: Kinds of basemap feature, in drawing order (bottom first).
BASEMAP_KINDS: tuple[str, ...] = (
    "land",
    "green",
    "water",
    "waterway",
    "building",
    "street_path",
    "street_minor",
    "street_medium",
    "street_major",
)

#: Street class of each ``highway`` value; every other value is ``"path"``.
STREET_CLASSES: dict[str, str] = {
    **dict.fromkeys(
        ("motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
         "secondary", "secondary_link"),
        "major",
    ),
    **dict.fromkeys(("tertiary", "tertiary_link", "unclassified"), "medium"),
    **dict.fromkeys(
        ("residential", "living_street", "service", "road", "busway", "bus_guideway"), "minor"
    ),
}

# Tag values of the water areas, the waterways drawn as lines and the green areas, by key.
_WATER_AREAS: dict[str, tuple[str, ...]] = {
    "natural": ("water", "wetland", "bay"),
    "waterway": ("riverbank", "dock"),
    "landuse": ("reservoir", "basin"),
}
_WATERWAYS: dict[str, tuple[str, ...]] = {
    "waterway": ("river", "stream", "canal", "ditch", "drain"),
}
_GREEN_AREAS: dict[str, tuple[str, ...]] = {
    "leisure": ("park", "garden", "pitch", "playground", "nature_reserve", "golf_course"),
    "landuse": ("grass", "forest", "meadow", "village_green", "recreation_ground", "cemetery",
                "orchard"),
    "natural": ("wood", "scrub", "grassland", "heath"),
}

#: The osmnx tag filter of the water and green features.
BASEMAP_TAGS: dict[str, list[str]] = {
    key: sorted({*_WATER_AREAS.get(key, ()), *_WATERWAYS.get(key, ()), *_GREEN_AREAS.get(key, ())})
    for key in ("natural", "waterway", "landuse", "leisure")
}


def with_basemap_tags(
    tags: dict[str, bool | str | list[str]],
) -> dict[str, bool | str | list[str]]:
    """Add :data:`BASEMAP_TAGS` to an osmnx tag filter, so one read of the file serves both.

    The features matched by ``tags`` are the same with or without the added tags; only the
    water and green features are added to the frame.

    Parameters
    ----------
    tags
        An osmnx tag filter, e.g. :data:`geodata.buildings.SITING_TAGS`.

    Returns
    -------
    dict
        A new filter: a key given as ``True`` stays ``True``; the values of a key in both are
        joined.
    """
    merged = dict(tags)
    for key, values in BASEMAP_TAGS.items():
        have = merged.get(key)
        if have is True:
            continue
        given = [] if have is None or have is False else [have] if isinstance(have, str) else have
        merged[key] = sorted({*given, *values})
    return merged


def street_class(highway: str) -> str:
    """Return the drawing class of a street: {"major", "medium", "minor", "path"}.

    Parameters
    ----------
    highway
        The street's ``highway`` tag.

    Returns
    -------
    str
        ``"major"`` for motorways, trunk, primary and secondary roads and their links,
        ``"medium"`` for tertiary and unclassified roads, ``"minor"`` for residential, service
        and living streets, ``"path"`` for everything else (footways, paths, steps, tracks ...).
    """
    return STREET_CLASSES.get(highway, "path")


def _matches(features: gpd.GeoDataFrame, table: dict[str, tuple[str, ...]]) -> np.ndarray:
    hit = np.zeros(len(features), dtype=bool)
    for key, values in table.items():
        if key in features.columns:
            hit |= features[key].isin(values).to_numpy()
    return hit


def _kinds(kind: str, geoms: gpd.GeoSeries) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"kind": [kind] * len(geoms)}, geometry=geoms.to_numpy(), crs=geoms.crs)


def land_cover_from_features(features: gpd.GeoDataFrame, area: StudyArea) -> gpd.GeoDataFrame:
    """Pick the water and green features out of an osmnx features frame, clipped to the area.

    Parameters
    ----------
    features
        osmnx features frame in WGS84, read with :data:`BASEMAP_TAGS` among its tags (see
        :func:`with_basemap_tags`); other features in it are ignored.
    area
        The study area; the result is in ``area.crs`` and clipped to ``area.projected``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``kind`` ({"green", "water", "waterway"}) and geometry; polygons for ``green`` and
        ``water``, lines for ``waterway``. A feature that is both water and green is water.
    """
    if features.empty:
        return gpd.GeoDataFrame({"kind": []}, geometry=[], crs=area.crs)
    polygonal = features.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    linear = features.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    water = polygonal & _matches(features, _WATER_AREAS)
    green = polygonal & _matches(features, _GREEN_AREAS) & ~water
    lines = linear & _matches(features, _WATERWAYS)
    parts = [
        _kinds(kind, clip_polygons(features.geometry[keep].to_crs(area.crs), area))
        for kind, keep in (("green", green), ("water", water))
    ]
    rivers = features.geometry[lines].to_crs(area.crs).intersection(area.projected)
    rivers = rivers.explode(index_parts=False)  # a river crossing the edge twice is two lines
    parts.append(_kinds("waterway", rivers[rivers.geom_type == "LineString"]))
    found = pd.concat(parts, ignore_index=True)
    geoms = found.geometry.to_numpy()
    found = found[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))].reset_index(drop=True)
    log.info("land cover: %s", found["kind"].value_counts().to_dict())
    return gpd.GeoDataFrame(found, geometry="geometry", crs=area.crs)


def read_land_cover(extract: OsmExtract, area: StudyArea) -> gpd.GeoDataFrame:
    """Return the water and green features of an OSM file, from its in-memory extract.

    Parameters
    ----------
    extract
        The OSM file, as read by :func:`geodata.osm.read_osm`.
    area
        The study area.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`land_cover_from_features`; empty when the file has none.
    """
    features = read_siting_features(extract, tags=dict(BASEMAP_TAGS))
    return land_cover_from_features(features, area)


def basemap_features(
    area: StudyArea,
    *,
    streets: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    land_cover: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Gather what an offline basemap draws into one frame, in drawing order.

    Parameters
    ----------
    area
        The study area: drawn as ``land``; the result is in ``area.crs``.
    streets
        Street lines with a ``highway`` column (:func:`geodata.network.street_lines`).
    buildings
        Building footprints (:func:`geodata.buildings.buildings_from_osm`); may be empty.
    land_cover
        Water and green (:func:`land_cover_from_features`); ``None`` for none.

    Returns
    -------
    geopandas.GeoDataFrame
        ``kind`` (one of :data:`BASEMAP_KINDS`) and geometry, sorted by drawing order.
    """
    street_kinds = ["street_" + street_class(str(h)) for h in streets["highway"]]
    parts = [
        gpd.GeoDataFrame({"kind": ["land"]}, geometry=[area.projected], crs=area.crs),
        _kinds("building", buildings.geometry.to_crs(area.crs)),
        gpd.GeoDataFrame({"kind": street_kinds}, geometry=streets.geometry.to_crs(area.crs)),
    ]
    if land_cover is not None:
        parts.append(land_cover[["kind", "geometry"]].to_crs(area.crs))
    frame = pd.concat(parts, ignore_index=True)
    order = frame["kind"].map({kind: i for i, kind in enumerate(BASEMAP_KINDS)})
    frame = frame.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
    frame = frame[frame.geometry.notna() & ~shapely.is_empty(frame.geometry.values)]
    log.info("basemap features: %s", frame["kind"].value_counts().to_dict())
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry", crs=area.crs)
