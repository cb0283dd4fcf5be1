"""Neighbourhood centres (街坊中心), the places rule R7 gives a cargo station.

OpenStreetMap has no tag for a 街坊中心 (the service core of a residential block in GB
50180-2018). What the data does identify, in order of trust:

``place``
    ``place=neighbourhood`` or ``place=quarter`` nodes: named neighbourhoods mapped at their
    centre. On the Chengdu extract the five ``place=quarter`` nodes in the area are the label
    points of the 社区 (商业街社区, 骡马市社区...): community centres, the nearest thing the
    data has to a 街坊中心; with the four markets, 9 centres are found.
``marketplace``
    ``amenity=marketplace`` (a market is the traditional centre of a neighbourhood).
``retail``
    ``landuse=retail`` / ``landuse=commercial`` polygons of at least ``min_retail_m2``, at
    their representative point (off by default: in a city core such as Chengdu's these are
    office and mall blocks, not neighbourhood centres).

Centres closer than ``merge_m`` (default 150 m) are one centre (the earlier source wins).
Nothing is invented where the data is silent: an area with none of these tags has no centre
and R7 is reported as not applicable.
"""

from __future__ import annotations

import logging
import time

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.area import StudyArea
from geodata.buildings import read_siting_features
from geodata.errors import ParameterError
from geodata.osm import OsmExtract

__all__ = ["CENTRE_COLUMNS", "CENTRE_SOURCES", "centres_from_osm"]

log = logging.getLogger(__name__)

#: Columns of :func:`centres_from_osm`.
CENTRE_COLUMNS = ["centre_id", "name", "source", "osm_id", "geometry"]
#: The evidence :func:`centres_from_osm` can use, most trusted first.
CENTRE_SOURCES = ("place", "marketplace", "retail")


def _select(
    features: gpd.GeoDataFrame, source: str, min_retail_m2: float, crs: object
) -> gpd.GeoDataFrame:
    def col(name: str) -> pd.Series:
        return features[name] if name in features.columns else pd.Series("", index=features.index)

    if source == "place":
        keep = col("place").isin(["neighbourhood", "quarter"])
    elif source == "marketplace":
        keep = col("amenity") == "marketplace"
    else:
        keep = col("landuse").isin(["retail", "commercial"])
    sel = features[keep.fillna(False).astype(bool)].to_crs(crs)
    if source == "retail":
        sel = sel[sel.geometry.area >= min_retail_m2]
    names = (sel["name"] if "name" in sel.columns else pd.Series("", index=sel.index)).fillna("")
    return gpd.GeoDataFrame(
        {"name": names.astype(str).to_numpy(), "source": source,
         "osm_id": [f"{t}/{i}" for t, i in sel.index]},
        geometry=sel.geometry.representative_point().to_numpy(), crs=crs,
    )


def centres_from_osm(
    extract: OsmExtract,
    area: StudyArea,
    *,
    sources: tuple[str, ...] = ("place", "marketplace"),
    merge_m: float = 150.0,
    min_retail_m2: float = 5000.0,
) -> gpd.GeoDataFrame:
    """Neighbourhood centres identified by the OSM data (see the module docstring).

    Parameters
    ----------
    extract
        The OSM file.
    area
        The study area; centres outside it are dropped.
    sources
        Which evidence to use, a subset of :data:`CENTRE_SOURCES`.
    merge_m
        Centres closer than this are one.
    min_retail_m2
        Smallest retail/commercial polygon counted (source ``"retail"``).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CENTRE_COLUMNS` in ``area.crs``: ``centre_id`` (``"nc-001"``...),
        ``name``, ``source``, ``osm_id`` (``"node/123"``) and the point.

    Raises
    ------
    ParameterError
        If a source is unknown or a distance negative.
    """
    t0 = time.perf_counter()
    unknown = [s for s in sources if s not in CENTRE_SOURCES]
    if unknown or not (merge_m >= 0 and min_retail_m2 >= 0):
        raise ParameterError(
            f"centres_from_osm: sources must be among {CENTRE_SOURCES} (got {unknown}), "
            f"merge_m={merge_m!r} and min_retail_m2={min_retail_m2!r} must be >= 0")
    tags: dict[str, bool | str | list[str]] = {}
    if "place" in sources:
        tags["place"] = ["neighbourhood", "quarter"]
    if "marketplace" in sources:
        tags["amenity"] = ["marketplace"]
    if "retail" in sources:
        tags["landuse"] = ["retail", "commercial"]
    parts = []
    if tags:
        features = read_siting_features(extract, tags=tags)
        parts = [_select(features, s, min_retail_m2, area.crs) for s in sources if len(features)]
    kept = [p for p in parts if len(p)]
    found = pd.concat(kept, ignore_index=True) if kept else None
    if found is None:
        out = gpd.GeoDataFrame(columns=CENTRE_COLUMNS, geometry="geometry", crs=area.crs)
    else:
        found = gpd.GeoDataFrame(found, geometry="geometry", crs=area.crs)
        found = found[found.within(area.projected)].reset_index(drop=True)
        xy = np.c_[found.geometry.x, found.geometry.y]
        keep: list[int] = []
        for i in range(len(found)):
            if all(np.hypot(*(xy[i] - xy[k])) >= merge_m for k in keep):
                keep.append(i)
        out = found.iloc[keep].reset_index(drop=True)
        out.insert(0, "centre_id", [f"nc-{i + 1:03d}" for i in range(len(out))])
        out = out[CENTRE_COLUMNS]
    by_source = ", ".join(f"{(out['source'] == s).sum()} {s}" for s in sources)
    log.info("neighbourhood centres: %d (%s) in %.2f s", len(out), by_source,
             time.perf_counter() - t0)
    return out
