"""Village communities: the Voronoi cells of the village nodes, clipped to the study area.

Where an extract maps villages but no residential buildings (the village fallback of the
demand model, :func:`geodata.fallbacks.homes_from_villages`), each village stands for its
community. Its territory is the part of the study area nearer to its node than to any other
village node (a Voronoi cell), the only territory the data supports without village
boundaries. Communities built this way carry ``source = "village-voronoi"``: they are
villages (村), not residential communities (社区), so R1 does not apply to them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from .area import StudyArea

__all__ = ["VILLAGE_SOURCE", "communities_from_villages"]

#: ``source`` of a community that is a village's Voronoi cell.
VILLAGE_SOURCE = "village-voronoi"


def communities_from_villages(villages: gpd.GeoDataFrame, area: StudyArea) -> gpd.GeoDataFrame:
    """Return one community per village: its Voronoi cell within the study area.

    Parameters
    ----------
    villages
        From :func:`geodata.rural.villages_from_osm` (``village_id``, ``name``, points in
        ``area.crs``); at least one row.
    area
        The study area.

    Returns
    -------
    geopandas.GeoDataFrame
        ``community`` (the village id), ``name``, ``name_en`` (empty), ``source``
        (:data:`VILLAGE_SOURCE`) and the cell polygons, in the villages' order.
    """
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint(list(villages.geometry)), extend_to=area.projected
    )
    cell_of = shapely.STRtree(list(cells.geoms))
    order = cell_of.query(villages.geometry.to_numpy(), predicate="within")
    polygons = np.empty(len(villages), dtype=object)
    polygons[order[0]] = [shapely.intersection(cells.geoms[k], area.projected) for k in order[1]]
    return gpd.GeoDataFrame(
        {
            "community": villages["village_id"].to_numpy(),
            "name": villages["name"].to_numpy(),
            "name_en": "",
            "source": VILLAGE_SOURCE,
        },
        geometry=polygons,
        crs=area.crs,
    )
