"""Commercial and government areas from OpenStreetMap, the places rule G2 asks lockers for.

Zhengzhou's plan (seed 001 专栏4 快递“入区”工程: 全市智能快件箱居民区、商业区、政务区等实现全覆盖)
asks smart lockers in residential, commercial and government areas alike. Residential areas
are the homes of the demand step (rule G1); this module finds the other two in the extract:

=======================  =====================================================
kind                     OSM evidence
=======================  =====================================================
``commercial``           ``landuse=commercial`` (商业区: offices, shops, malls)
``retail``               ``landuse=retail`` (商业区: shopping streets, malls)
``government``           ``landuse=governmental`` (政务区: a government compound)
``government_office``    ``office=government`` (政务区: a government office)
``townhall``             ``amenity=townhall`` (政务区: a town or district hall)
=======================  =====================================================

An area is reached at its representative point (a point inside it; for a node, the node):
a stated assumption, since the plan names no point of an area the locker must be near. A
feature is kept when that point lies inside the study area.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.area import StudyArea
from geodata.buildings import osm_ids

__all__ = ["AREA_COLUMNS", "AREA_KINDS", "commercial_areas_from_osm"]

log = logging.getLogger(__name__)

#: ``(key, value) -> kind`` of the features that are commercial or government areas.
AREA_KINDS: dict[tuple[str, str], str] = {
    ("landuse", "commercial"): "commercial",
    ("landuse", "retail"): "retail",
    ("landuse", "governmental"): "government",
    ("office", "government"): "government_office",
    ("amenity", "townhall"): "townhall",
}

#: Columns of the frame returned by :func:`commercial_areas_from_osm`, geometry (a point) last.
AREA_COLUMNS = ["osm_id", "kind", "name", "geometry"]


def commercial_areas_from_osm(features: gpd.GeoDataFrame, area: StudyArea) -> gpd.GeoDataFrame:
    """Return the commercial and government areas of the extract inside the study area.

    Parameters
    ----------
    features
        From :func:`geodata.buildings.read_siting_features` with its default tags (they include
        ``landuse=commercial|retail|governmental``, ``office`` and ``amenity``).
    area
        The study area.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`AREA_COLUMNS` in ``area.crs``: ``osm_id`` (``"way/123"``), ``kind`` (see
        the module docstring; the first match in :data:`AREA_KINDS` order), ``name`` (``""``
        when untagged) and the representative point, sorted by ``osm_id``.
    """
    kind = pd.Series(None, index=features.index, dtype=object)
    for (key, value), label in reversed(AREA_KINDS.items()):
        if key in features.columns:
            kind = kind.mask(features[key] == value, label)
    hit = kind.notna().to_numpy()
    found = features.loc[hit]
    names = found["name"] if "name" in found.columns else pd.Series("", index=found.index)
    points = found.geometry.representative_point().to_crs(area.crs)
    frame = gpd.GeoDataFrame(
        {
            "osm_id": osm_ids(found.index),
            "kind": kind[hit].to_numpy(),
            "name": names.where(names.notna(), "").astype(str).to_numpy(),
        },
        geometry=points.to_numpy(),
        crs=area.crs,
    )
    frame = frame.loc[np.asarray(frame.within(area.projected))]
    frame = frame.sort_values("osm_id", kind="stable").reset_index(drop=True)
    log.info("commercial and government areas: %d (%s)", len(frame),
             ", ".join(f"{k} {n}" for k, n in frame["kind"].value_counts().sort_index().items()))
    return frame[AREA_COLUMNS]
