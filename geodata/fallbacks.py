"""Demand and candidate sites where an extract has too few buildings: villages, or a street grid.

OSM buildings are the best demand source (:mod:`geodata.demand`). Where they are missing the
plan still needs homes, so two documented fallbacks give "building-like" frames that
:func:`geodata.demand.demand_from_buildings` turns into demand points as usual:

* **villages** — one point per ``place=village`` / ``place=hamlet`` node, with a documented
  number of residents each (rural extracts: buildings are sparse, villages are mapped);
* **street grid** — square cells over the area, kept where a residential street passes within
  half a cell, with a documented density (urban extracts with roads only).

Each frame carries the ``floor_area_m2`` that yields its residents at the configured floor area
per resident, so residents and parcels follow one formula whatever the source.

Candidate sites follow the same sources: a locker at each village centre (G1: 村村有箱, villages
get lockers where feasible), or at each street corner of a residential street. They are added
to the OSM candidates, never instead of them.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .defaults import DemandParameters
from .network import Network

__all__ = [
    "RESIDENTIAL_STREETS",
    "homes_from_street_grid",
    "homes_from_villages",
    "sites_from_street_corners",
    "sites_from_villages",
]

log = logging.getLogger(__name__)

#: Street classes that front homes, for the street-grid fallback.
RESIDENTIAL_STREETS = frozenset({"residential", "living_street", "unclassified", "tertiary"})


def _homes(
    osm_ids: list[str],
    names: list[str],
    residents: np.ndarray,
    geometry: object,
    crs: object,
    params: DemandParameters,
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "osm_id": osm_ids,
            "name": names,
            "floor_area_m2": residents * params.floor_area_per_resident_m2,
            "residential": True,
        },
        geometry=geometry,
        crs=crs,
    )


def homes_from_villages(
    villages: gpd.GeoDataFrame, params: DemandParameters | None = None
) -> gpd.GeoDataFrame:
    """One home point per village or hamlet node.

    Parameters
    ----------
    villages
        From :func:`geodata.rural.villages_from_osm` (``osm_id``, ``name``, ``place``).
    params
        ``village_residents`` and ``hamlet_residents`` set the residents of each point.

    Returns
    -------
    geopandas.GeoDataFrame
        Building-like frame: ``osm_id`` (``"node/<id>"``), ``name``, ``floor_area_m2``,
        ``residential``, point geometry.
    """
    params = params or DemandParameters()
    residents = np.where(
        villages["place"].to_numpy() == "hamlet", params.hamlet_residents, params.village_residents
    ).astype(float)
    return _homes(
        [f"node/{i}" for i in villages["osm_id"]],
        list(villages["name"]),
        residents,
        villages.geometry.to_numpy(),
        villages.crs,
        params,
    )


def homes_from_street_grid(
    network: Network, area_polygon: BaseGeometry, params: DemandParameters | None = None
) -> gpd.GeoDataFrame:
    """Square cells over the area, kept where a residential street runs within half a cell.

    Parameters
    ----------
    network
        A projected network whose edges carry ``highway`` tags (walk or drive).
    area_polygon
        The study area in the network's CRS.
    params
        ``grid_cell_m`` and ``residents_per_km2`` set the cells and their residents.

    Returns
    -------
    geopandas.GeoDataFrame
        Building-like frame: ``osm_id`` (``"grid/<row>-<col>"``), ``name`` (empty),
        ``floor_area_m2``, ``residential``, cell polygons clipped to the area.
    """
    params = params or DemandParameters()
    cell = params.grid_cell_m
    lines = [line for _, _, line in _residential_edges(network)]
    x0, y0, x1, y1 = area_polygon.bounds
    cols = np.arange(int(np.ceil((x1 - x0) / cell)))
    rows = np.arange(int(np.ceil((y1 - y0) / cell)))
    rr, cc = (a.ravel() for a in np.meshgrid(rows, cols, indexing="ij"))
    boxes = shapely.box(x0 + cc * cell, y0 + rr * cell, x0 + (cc + 1) * cell, y0 + (rr + 1) * cell)
    if lines:
        tree = shapely.STRtree(lines)
        centres = shapely.centroid(boxes)
        near = np.unique(tree.query(centres, predicate="dwithin", distance=cell / 2)[0])
    else:
        near = np.zeros(0, dtype=int)
    clipped = shapely.intersection(boxes[near], area_polygon)
    keep = shapely.area(clipped) > 0.05 * cell * cell
    clipped, near = clipped[keep], near[keep]
    residents = shapely.area(clipped) / 1e6 * params.residents_per_km2
    log.info(
        "street-grid demand: %d cells of %g m along %d residential street edges",
        len(near),
        cell,
        len(lines),
    )
    return _homes(
        [f"grid/{r}-{c}" for r, c in zip(rr[near], cc[near], strict=True)],
        [""] * len(near),
        residents,
        clipped,
        network.crs,
        params,
    )


def _residential_edges(network: Network) -> list[tuple[int, int, shapely.LineString]]:
    """Edges of residential street classes, as (u, v, line) in the network's CRS.

    A merged edge has one ``highway``, its most important class (:mod:`geodata.edge_tags`).
    """
    nodes = network.graph.nodes
    found = []
    for u, v, data in network.graph.edges(data=True):
        if data.get("highway") in RESIDENTIAL_STREETS:
            line = data.get("geometry") or shapely.LineString(
                [(nodes[u]["x"], nodes[u]["y"]), (nodes[v]["x"], nodes[v]["y"])]
            )
            found.append((u, v, line))
    return found


def _sites(
    ids: list[str], source: str, kind: str, names: list[str], geometry: object, crs: object
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "site_id": ids,
            "source": source,
            "kind": kind,
            "name": names,
            "name_en": "",
            "existing": False,
            "capacity_compartments": np.nan,
            "floor_area_m2": np.nan,
            "osm_id": [i.removeprefix("c-") for i in ids],
        },
        geometry=geometry,
        crs=crs,
    )


def sites_from_villages(villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a candidate locker site at each village or hamlet node (``village_centre``).

    Parameters
    ----------
    villages
        From :func:`geodata.rural.villages_from_osm`.

    Returns
    -------
    geopandas.GeoDataFrame
        Candidate columns of :data:`geodata.candidates.CANDIDATE_COLUMNS`.
    """
    return _sites(
        [f"c-node-{i}" for i in villages["osm_id"]],
        "place=village|hamlet",
        "village_centre",
        list(villages["name"]),
        villages.geometry.to_numpy(),
        villages.crs,
    )


def sites_from_street_corners(network: Network, area_polygon: BaseGeometry) -> gpd.GeoDataFrame:
    """Return a candidate locker site at each residential street junction (``street_corner``).

    Parameters
    ----------
    network
        A projected network whose edges carry ``highway`` tags.
    area_polygon
        The study area in the network's CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Candidate columns of :data:`geodata.candidates.CANDIDATE_COLUMNS`, sorted by id.
    """
    ends = sorted({n for u, v, _ in _residential_edges(network) for n in (u, v)})
    nodes = network.graph.nodes
    points = shapely.points([(nodes[n]["x"], nodes[n]["y"]) for n in ends]) if ends else []
    frame = _sites(
        [f"c-node-{n}" for n in ends],
        "highway junction",
        "street_corner",
        [""] * len(ends),
        points,
        network.crs,
    )
    return frame[frame.within(area_polygon)].reset_index(drop=True)
