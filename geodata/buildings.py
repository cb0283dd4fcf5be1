"""Building footprints from OpenStreetMap: storeys, floor area and whether people live there.

Every building polygon of the extract is projected to the study area's CRS and clipped to the
area (a building cut by the area's edge keeps only its inside part, so floor area is not
counted twice by neighbouring areas).

Storeys (``levels``) come from, in order:

1. ``building:levels`` (``levels_source="tag-levels"``), at least 1 (a tagged ``0.3`` is a
   one-storey canopy) and at most :data:`MAX_LEVELS` (higher values are mapping errors);
2. ``height`` divided by :data:`geodata.defaults.METRES_PER_LEVEL` (3 m), rounded, at least 1
   (``"tag-height"``);
3. an assumed count by building type from :data:`geodata.defaults.DEFAULT_LEVELS`
   (``"default"``).

A building is **residential** when its ``building`` tag is one of
:data:`geodata.defaults.RESIDENTIAL_BUILDING_TAGS` (apartments, residential, house, detached,
dormitory, terrace, semidetached_house, bungalow), or when it is a plain ``building=yes`` whose
representative point lies inside a ``landuse=residential`` area: most Chinese residential
compounds are mapped as a ``landuse=residential`` outline with untyped blocks inside.

Building osmnx's feature frame is the slow step, so :func:`read_siting_features` builds one
frame with every tag the demand and candidate steps need, from the extract's elements (the
file is parsed once, by :func:`geodata.osm.read_osm`); pass it as ``features=`` to
:func:`buildings_from_osm` and :func:`geodata.candidates.candidates_from_osm`.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from osmnx._errors import InsufficientResponseError
from shapely.geometry.base import BaseGeometry

from geodata.area import StudyArea
from geodata.defaults import (
    DEFAULT_LEVELS,
    DEFAULT_LEVELS_OTHER,
    METRES_PER_LEVEL,
    RESIDENTIAL_BUILDING_TAGS,
)
from geodata.osm import OsmExtract

__all__ = [
    "BUILDING_COLUMNS",
    "MAX_LEVELS",
    "SITING_TAGS",
    "buildings_from_osm",
    "clip_polygons",
    "osm_ids",
    "read_siting_features",
]

log = logging.getLogger(__name__)

#: Tags read by :func:`read_siting_features`: buildings, the land use of homes (residential) and
#: of commercial and government areas (rule G2, :mod:`geodata.commercial_areas`), and every POI
#: key that can make a candidate site.
SITING_TAGS: dict[str, bool | str | list[str]] = {
    "building": True,
    "landuse": ["residential", "commercial", "retail", "governmental"],
    "amenity": True,
    "shop": True,
    "office": True,
    "vending": True,
}

#: Columns of the frame returned by :func:`buildings_from_osm`, geometry last.
BUILDING_COLUMNS = [
    "osm_id",
    "building",
    "name",
    "levels",
    "levels_source",
    "footprint_m2",
    "floor_area_m2",
    "residential",
    "geometry",
]

#: ``building:levels`` above this is taken as a mapping error and ignored.
MAX_LEVELS = 200.0

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|metres|meters)?\s*$")


def read_siting_features(
    extract: OsmExtract, *, tags: dict[str, bool | str | list[str]] | None = None
) -> gpd.GeoDataFrame:
    """Return the OSM features the demand and candidate steps need, from the extract's elements.

    Parameters
    ----------
    extract
        The OSM file, as read by :func:`geodata.osm.read_osm`.
    tags
        osmnx tag filter; default :data:`SITING_TAGS`.

    Returns
    -------
    geopandas.GeoDataFrame
        osmnx's features frame in WGS84, indexed by ``(element, id)``; empty (with a
        ``geometry`` column) when nothing matches.
    """
    t0 = time.perf_counter()
    try:
        features = extract.data.features(dict(tags or SITING_TAGS))
    except InsufficientResponseError:
        features = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    log.info(
        "built %d OSM features of %s in %.2f s",
        len(features),
        extract.path.name,
        time.perf_counter() - t0,
    )
    return features


def osm_ids(index: pd.Index) -> list[str]:
    """Turn an osmnx ``(element, id)`` index into ``"way/123"`` strings.

    Parameters
    ----------
    index
        The index of an osmnx features frame.

    Returns
    -------
    list of str
        One ``"<element>/<id>"`` per row.
    """
    return [f"{element}/{osm_id}" for element, osm_id in index]


def clip_polygons(geoms: gpd.GeoSeries, area: StudyArea) -> gpd.GeoSeries:
    """Clip polygons (already in ``area.crs``) to the area, keeping only polygonal parts.

    Parameters
    ----------
    geoms
        Polygons or multipolygons in the area's projected CRS.
    area
        The study area.

    Returns
    -------
    geopandas.GeoSeries
        Same index; empty polygons where nothing of a shape is left inside the area.
    """
    values = shapely.make_valid(np.asarray(geoms.values, dtype=object))
    clipped = shapely.intersection(values, area.projected)
    polygonal = [_polygonal_part(g) for g in clipped]
    return gpd.GeoSeries(polygonal, index=geoms.index, crs=geoms.crs)


def _polygonal_part(geom: BaseGeometry | None) -> BaseGeometry:
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.Polygon()
    return shapely.union_all(parts)


def _parse_number(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    match = _NUMBER.match(value.replace(",", "."))
    if match is None:
        return None
    number = float(match.group(1))
    return number if number > 0 and np.isfinite(number) else None


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([np.nan] * len(frame), index=frame.index, dtype=object)


def _levels(
    building: pd.Series, levels_tag: pd.Series, height_tag: pd.Series, residential: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    levels = np.empty(len(building), dtype=float)
    sources: list[str] = []
    for i, (kind, lv, ht, res) in enumerate(
        zip(building, levels_tag, height_tag, residential, strict=True)
    ):
        tagged = _parse_number(lv)
        if tagged is not None and tagged <= MAX_LEVELS:
            levels[i], source = max(1.0, tagged), "tag-levels"
        elif (height := _parse_number(ht)) is not None:
            levels[i], source = max(1.0, float(round(height / METRES_PER_LEVEL))), "tag-height"
        else:
            key = "residential" if (res and kind not in DEFAULT_LEVELS) else kind
            levels[i], source = DEFAULT_LEVELS.get(key, DEFAULT_LEVELS_OTHER), "default"
        sources.append(source)
    return levels, sources


def _empty_buildings(area: StudyArea) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {
            "osm_id": pd.Series([], dtype=object),
            "building": pd.Series([], dtype=object),
            "name": pd.Series([], dtype=object),
            "levels": pd.Series([], dtype=float),
            "levels_source": pd.Series([], dtype=object),
            "footprint_m2": pd.Series([], dtype=float),
            "floor_area_m2": pd.Series([], dtype=float),
            "residential": pd.Series([], dtype=bool),
        },
        geometry=gpd.GeoSeries([], crs=area.crs),
    )
    return frame[BUILDING_COLUMNS]


def buildings_from_osm(
    extract: OsmExtract, area: StudyArea, *, features: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Return building footprints with storeys, floor area and a residential flag.

    Parameters
    ----------
    extract
        The OSM file.
    area
        The study area; the result is in ``area.crs`` and clipped to ``area.projected``.
    features
        Features already read by :func:`read_siting_features` (WGS84, osmnx layout); read
        from ``extract`` when ``None``. Must include the ``building`` and ``landuse`` tags.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per building polygon with at least 1 m2 inside the area, sorted by ``osm_id``,
        columns :data:`BUILDING_COLUMNS`: ``osm_id`` (``"way/123"``), ``building`` (tag),
        ``name``, ``levels``, ``levels_source`` (``{"tag-levels", "tag-height", "default"}``),
        ``footprint_m2`` (inside the area), ``floor_area_m2`` (footprint x levels),
        ``residential`` (see the module docstring) and the polygon geometry.
    """
    t0 = time.perf_counter()
    if features is None:
        features = read_siting_features(extract, tags={"building": True, "landuse": "residential"})
    if "building" not in features.columns or features.empty:
        log.warning("no building polygons in %s", extract.path.name)
        return _empty_buildings(area)

    polygonal = features.geom_type.isin(["Polygon", "MultiPolygon"])
    tagged = features["building"].notna() & (features["building"] != "no")
    raw = features.loc[polygonal & tagged]
    if raw.empty:
        log.warning("no building polygons in %s", extract.path.name)
        return _empty_buildings(area)

    projected = raw.geometry.to_crs(area.crs)
    clipped = clip_polygons(projected, area)
    footprint = clipped.area.to_numpy()
    keep = footprint >= 1.0
    raw, clipped, footprint = raw.loc[keep], clipped.loc[keep], footprint[keep]

    building = raw["building"].astype(str)
    points = clipped.representative_point()
    landuse = _column(features, "landuse")
    res_land = features.loc[(landuse == "residential") & polygonal]
    in_res_land = np.zeros(len(raw), dtype=bool)
    if not res_land.empty:
        land = shapely.union_all(shapely.make_valid(res_land.geometry.to_crs(area.crs).values))
        shapely.prepare(land)
        in_res_land = shapely.contains(land, points.values)
    residential = building.isin(RESIDENTIAL_BUILDING_TAGS).to_numpy() | (
        (building == "yes").to_numpy() & in_res_land
    )
    levels, sources = _levels(
        building, _column(raw, "building:levels"), _column(raw, "height"), residential
    )
    name = _column(raw, "name")
    frame = gpd.GeoDataFrame(
        {
            "osm_id": osm_ids(raw.index),
            "building": building.to_numpy(),
            "name": name.where(name.notna(), "").astype(str).to_numpy(),
            "levels": levels,
            "levels_source": sources,
            "footprint_m2": footprint,
            "floor_area_m2": footprint * levels,
            "residential": residential,
        },
        geometry=clipped.to_numpy(),
        crs=area.crs,
    )
    frame = frame.sort_values("osm_id", kind="stable").reset_index(drop=True)
    log.info(
        "buildings: %d polygons in the area (%d residential, %d with tagged levels) in %.2f s",
        len(frame),
        int(frame["residential"].sum()),
        int((frame["levels_source"] != "default").sum()),
        time.perf_counter() - t0,
    )
    return frame[BUILDING_COLUMNS]
