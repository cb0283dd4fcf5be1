"""The districts of a city, for city mode: from OSM admin relations or a boundary file.

City mode (``[area.districts]`` in a scenario) plans a city district by district with one
pipeline. Its districts come from the OSM file's ``boundary=administrative`` relations at one
``admin_level`` (:func:`geodata.communities.admin_areas_from_osm`; 8: the 街道 sub-districts of
a Chinese city), or from the features of a boundary file (a DataV GeoJSON with one feature per
district; GCJ-02 detected from DataV's properties and converted to WGS84). Either way they
are clipped to the study area, in a stable order (by ``district``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .area import _DATAV_PROPERTIES, StudyArea
from .communities import admin_areas_from_osm
from .coords import geometry_gcj02_to_wgs84
from .errors import BoundaryError
from .osm import OsmExtract

__all__ = ["MIN_DISTRICT_M2", "districts_from_file", "districts_from_osm"]

#: A district clipped to less than this (m²) is a sliver of a neighbour's boundary: dropped.
MIN_DISTRICT_M2 = 10_000.0


def _frame(ids: np.ndarray, names: np.ndarray, geoms: np.ndarray, area: StudyArea
           ) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame({"district": ids, "name": names}, geometry=geoms, crs=area.crs)
    return frame.sort_values("district", kind="stable").reset_index(drop=True)


def districts_from_osm(extract: OsmExtract, area: StudyArea, *, admin_level: int
                       ) -> gpd.GeoDataFrame:
    """Return the districts of the OSM relations at ``admin_level`` within the study area.

    Parameters
    ----------
    extract
        The OSM file.
    area
        The city's study area.
    admin_level
        OSM admin level of the districts (8: 街道, 6: 区/县).

    Returns
    -------
    geopandas.GeoDataFrame
        ``district`` (``"relation/<id>"``), ``name`` and polygons in ``area.crs``.

    Raises
    ------
    BoundaryError
        When no relation at that level covers the area.
    """
    frame = admin_areas_from_osm(extract, area, admin_level=admin_level)
    if frame.empty:
        raise BoundaryError(
            extract.path, f"no boundary=administrative relation with admin_level={admin_level} "
            "covers the study area",
            "use another admin_level (8: sub-districts, 6: districts) or districts from a file")
    return _frame(frame["community"].to_numpy(), frame["name"].to_numpy(),
                  frame.geometry.to_numpy(), area)


def districts_from_file(path: str | Path, area: StudyArea, *, name_field: str = "name",
                        datum: Literal["auto", "wgs84", "gcj02"] = "auto") -> gpd.GeoDataFrame:
    """Return the districts of a boundary file (one feature each) within the study area.

    Parameters
    ----------
    path
        GeoJSON or GPKG file.
    area
        The city's study area.
    name_field
        Property naming each district.
    datum
        ``{"auto", "wgs84", "gcj02"}``: ``auto`` takes a file with DataV's properties
        (``adcode``, ``center``, ``acroutes``) as GCJ-02.

    Returns
    -------
    geopandas.GeoDataFrame
        ``district`` (``adcode``, else the feature's row number), ``name`` and polygons in
        ``area.crs``; districts of less than :data:`MIN_DISTRICT_M2` within the area dropped.

    Raises
    ------
    BoundaryError
        When the file cannot be read, has no features or no ``name_field``, or no district
        overlaps the study area.
    """
    path = Path(path)
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as err:  # noqa: BLE001 - pyogrio raises several types
        raise BoundaryError(path, f"cannot be read ({err})", "give a GeoJSON or GPKG file"
                            ) from err
    if frame.empty:
        raise BoundaryError(path, "has no features", "give a file with one polygon per district")
    if name_field not in frame.columns:
        raise BoundaryError(path, f"no property {name_field!r} (properties: "
                            f"{', '.join(c for c in frame.columns if c != 'geometry')})",
                            "set area.districts.name_field to the property naming districts")
    if frame.crs is not None and not frame.crs.is_geographic:
        frame = frame.to_crs(4326)
    if datum == "auto":
        datum = "gcj02" if _DATAV_PROPERTIES <= set(frame.columns) else "wgs84"
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if datum == "gcj02":
        geoms = np.asarray([geometry_gcj02_to_wgs84(g) for g in geoms], dtype=object)
    clipped = shapely.intersection(gpd.GeoSeries(geoms, crs=4326).to_crs(area.crs).to_numpy(),
                                   area.projected)
    keep = shapely.area(clipped) >= MIN_DISTRICT_M2
    if not keep.any():
        raise BoundaryError(path, "no district overlaps the OSM data",
                            "check that the file covers the OSM extract")
    ids = frame.get("adcode", pd.Series(range(len(frame)))).astype(str).to_numpy()
    return _frame(ids[keep], frame[name_field].astype(str).to_numpy()[keep], clipped[keep], area)
