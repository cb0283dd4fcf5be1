"""Walking catchments (isochrones): the ground a site serves within its radius.

A catchment is drawn from the network nodes reachable within the radius (the site's snap
offset included) and the reachable part of each edge leaving them: the points are wrapped in a
concave hull and widened by a half-street buffer, so it follows the streets rather than a circle.
"""

from __future__ import annotations

import logging
import time

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import dijkstra

from .network import Network

__all__ = ["walking_catchments"]

log = logging.getLogger(__name__)

#: Half the width of a street corridor drawn around reachable ground, in metres.
CORRIDOR_M = 25.0


def walking_catchments(
    network: Network,
    sites_xy: ArrayLike,
    *,
    radius_m: float,
    site_ids: list[str] | None = None,
) -> gpd.GeoDataFrame:
    """One catchment polygon per site: where the network lets people walk to it in reach.

    Parameters
    ----------
    network
        The (walking) network, projected.
    sites_xy
        ``(n, 2)`` site coordinates in the network's CRS.
    radius_m
        Longest walk, in metres.
    site_ids
        Ids for the ``site_id`` column; ``0..n-1`` as text when ``None``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id``, ``radius_m``, ``area_m2`` and the polygon, in the network's CRS.
    """
    t0 = time.perf_counter()
    xy = np.asarray(sites_xy, dtype=float).reshape(-1, 2)
    ids = site_ids if site_ids is not None else [str(i) for i in range(len(xy))]
    nodes, offsets = network.snap(xy)
    polygons = []
    if len(xy):
        unique, inverse = np.unique(nodes, return_inverse=True)
        dist = dijkstra(network.adjacency, directed=False, indices=unique, limit=radius_m)
        adj = network.adjacency.tocoo()
        for k in range(len(xy)):
            left = radius_m - offsets[k]
            reach = dist[inverse[k]]
            points = [xy[k]]
            if left > 0:
                inside = np.flatnonzero(reach <= left)
                points.extend(network.xy[inside])
                # part of each edge leaving a reached node, up to the remaining walk
                edge = np.isin(adj.row, inside)
                u, v, length = adj.row[edge], adj.col[edge], adj.data[edge]
                frac = np.clip((left - reach[u]) / np.maximum(length, 1e-9), 0.0, 1.0)
                points.extend(network.xy[u] + (network.xy[v] - network.xy[u]) * frac[:, None])
            hull = shapely.concave_hull(shapely.MultiPoint(np.asarray(points)), ratio=0.3)
            polygons.append(hull.buffer(CORRIDOR_M))
    frame = gpd.GeoDataFrame(
        {"site_id": ids, "radius_m": float(radius_m)}, geometry=polygons, crs=network.crs
    )
    frame["area_m2"] = frame.geometry.area.round(0)
    log.info(
        "walking catchments: %d sites within %.0f m in %.2f s",
        len(frame),
        radius_m,
        time.perf_counter() - t0,
    )
    return frame
