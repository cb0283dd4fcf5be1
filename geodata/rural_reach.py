"""Array inputs of the rural tiers: villages, townships and sites on the drive network.

:func:`rural_inputs` measures, once, everything :func:`optimizer.rural.plan_rural` needs from
the geometry and the drive network, so the model sees only arrays and attribute tables (a
station stands in the study area: every node below is one of the network's nodes in the area,
:attr:`geodata.network.Network.in_area`, and a place's offset is to the nearest of them; the
drive distances run on the whole network, beyond the area too):

- each administrative village's snap offset and node on the network, the administrative
  village each hamlet and each candidate site belongs to (the nearest, a hamlet's within its
  township), the candidate sites within the village radius (straight line) and the
  network nodes of the village's Voronoi cell within that radius;
- each township's offset from the network, measured at what locates it (its seat; else its
  nearest administrative village; else its territory), its seat or territory node, the
  candidate sites within the seat radius of its seat, and for a township placed at the
  1-median of its villages the drive distances from the nodes of its territory to them.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from .distances import Reach, network_distances
from .errors import InfeasiblePlanError
from .network import Network
from .tier_inputs import points_xy

__all__ = ["MEDIAN_RADIUS_M", "RuralInputs", "rural_inputs"]

#: Radius of the drive distances of a township's 1-median: every node reaches every village.
MEDIAN_RADIUS_M = 1e6

#: Sites within a radius of one place: site indices (ascending) and straight-line metres.
Near = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class RuralInputs:
    """What the rural model needs from the geometry and the drive network, as arrays.

    Attributes
    ----------
    villages
        The administrative villages (``village_id``, ``name``, ``township``, ``osm_id``).
    townships
        The townships (``township_id``, ``name``, ``has_seat``).
    hamlet_village
        Per hamlet, the index of the administrative village its residents are counted in.
    node_xy, node_ids
        The drive network's nodes: coordinates and OSM ids.
    village_xy, village_off, village_node
        Per administrative village: its point, its distance to the network and nearest node.
    village_sites
        Per administrative village, the candidate sites within the village radius whose
        nearest administrative village it is.
    village_cells
        Per administrative village, the nodes of its Voronoi cell within the village radius.
    township_off
        Per township, metres to the network at what locates it (0 when nothing does).
    township_node
        Per township, the node of its seat (with a seat) or of its territory (without seat or
        village); -1 otherwise (placed at its villages' 1-median, or nowhere).
    seat_sites
        Per township with a seat, the candidate sites within the seat radius of it.
    median_pool, median_reach
        Per township without a seat but with villages, the nodes it may stand on and the drive
        distances from them to its villages (``None`` for the other townships).
    site_id, site_kind, site_xy
        The candidate sites.
    """

    villages: pd.DataFrame
    townships: pd.DataFrame
    hamlet_village: np.ndarray
    node_xy: np.ndarray
    node_ids: np.ndarray
    village_xy: np.ndarray
    village_off: np.ndarray
    village_node: np.ndarray
    village_sites: tuple[Near, ...]
    village_cells: tuple[np.ndarray, ...]
    township_off: np.ndarray
    township_node: np.ndarray
    seat_sites: tuple[Near | None, ...]
    median_pool: tuple[np.ndarray | None, ...]
    median_reach: tuple[Reach | None, ...]
    site_id: np.ndarray
    site_kind: np.ndarray
    site_xy: np.ndarray


def rural_inputs(
    villages: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    network: Network,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    village_radius_m: float,
    seat_radius_m: float,
) -> RuralInputs:
    """Measure the rural tiers' inputs (see the module docstring).

    Parameters
    ----------
    villages, townships
        From :func:`geodata.rural.rural_places_from_osm`.
    network
        The drive network, same CRS.
    candidates
        Candidate sites (``site_id``, ``kind``), or ``None``.
    village_radius_m, seat_radius_m
        Straight-line reach of a village around its point, and of a township seat.

    Returns
    -------
    RuralInputs
        The arrays.

    Raises
    ------
    InfeasiblePlanError
        Naming R3, when the area has no administrative village.
    """
    admin = villages[villages["place"] == "village"].reset_index(drop=True)
    if admin.empty:
        raise InfeasiblePlanError(
            "R3 (stations per administrative village): the area has no place=village node; "
            "give village points or use an extract that maps them"
        )
    sites = candidates if candidates is not None else gpd.GeoDataFrame(
        {"site_id": [], "kind": []}, geometry=gpd.GeoSeries([], crs=villages.crs))
    vxy = points_xy(admin)
    village_node, village_off = network.snap(vxy, in_area=True)
    tree = cKDTree(vxy)
    site_village = tree.query(points_xy(sites))[1] if len(sites) else np.zeros(0, np.int64)
    nearest_village = np.where(network.in_area, tree.query(network.xy)[1], -1)
    t_node, t_off = _township_nodes(townships, admin, village_off, network)
    median = [_median(t, admin, network) if not t["has_seat"] else (None, None)
              for _, t in townships.iterrows()]
    return RuralInputs(
        villages=pd.DataFrame(admin[["village_id", "name", "township", "osm_id"]]),
        townships=pd.DataFrame(townships[["township_id", "name", "has_seat"]]),
        hamlet_village=_hamlet_villages(villages, admin, vxy),
        node_xy=network.xy, node_ids=np.asarray(network.node_ids),
        village_xy=vxy, village_off=village_off, village_node=village_node,
        village_sites=tuple(_near(sites, pt, village_radius_m, site_village == v)
                            for v, pt in enumerate(admin.geometry)),
        village_cells=tuple(np.flatnonzero(
            (nearest_village == v) & (np.hypot(*(network.xy - xy).T) <= village_radius_m))
            for v, xy in enumerate(vxy)),
        township_off=t_off, township_node=t_node,
        seat_sites=tuple(_near(sites, t.geometry, seat_radius_m, None) if t["has_seat"] else None
                         for _, t in townships.iterrows()),
        median_pool=tuple(m[0] for m in median), median_reach=tuple(m[1] for m in median),
        site_id=sites["site_id"].to_numpy(), site_kind=sites["kind"].to_numpy(),
        site_xy=points_xy(sites),
    )


def _hamlet_villages(villages: gpd.GeoDataFrame, admin: gpd.GeoDataFrame, vxy: np.ndarray
                     ) -> np.ndarray:
    """Return the nearest administrative village of each hamlet, in its township when it has one."""
    out = []
    for _, h in villages[villages["place"] == "hamlet"].iterrows():
        same = (admin["township"] == h["township"]).to_numpy()
        pool = np.flatnonzero(same) if same.any() else np.arange(len(admin))
        out.append(pool[np.argmin(np.hypot(*(vxy[pool] - [h.geometry.x, h.geometry.y]).T))])
    return np.asarray(out, dtype=np.int64)


def _near(sites: gpd.GeoDataFrame, point: shapely.Point, radius: float,
          allowed: np.ndarray | None) -> Near:
    """Return the sites within ``radius`` of ``point`` (and allowed), with their distance."""
    d = sites.distance(point).to_numpy() if len(sites) else np.zeros(0)
    ok = d <= radius
    if allowed is not None:
        ok &= allowed
    idx = np.flatnonzero(ok)
    return idx, d[idx]


def _township_nodes(townships: gpd.GeoDataFrame, admin: gpd.GeoDataFrame,
                    village_off: np.ndarray, network: Network) -> tuple[np.ndarray, np.ndarray]:
    """Each township's seat or territory node, and its offset from the network.

    The offset is measured at what locates the township: its seat when mapped; else its
    nearest administrative village (the 1-median serves its villages); else its territory.
    """
    node = np.full(len(townships), -1, dtype=np.int64)
    off = np.zeros(len(townships))
    for i, (_, t) in enumerate(townships.iterrows()):
        mine = (admin["township"] == t["township_id"]).to_numpy()
        if t["has_seat"]:
            at, o = network.snap([[t.geometry.x, t.geometry.y]], in_area=True)
        elif mine.any():
            off[i] = village_off[mine].min()
            continue
        elif t["territory"] is not None:
            rp = t["territory"].representative_point()
            at, o = network.snap([[rp.x, rp.y]], in_area=True)
        else:
            continue
        node[i], off[i] = at[0], o[0]
    return node, off


def _median(t: pd.Series, admin: gpd.GeoDataFrame, network: Network
            ) -> tuple[np.ndarray | None, Reach | None]:
    """Return the nodes a seatless township may use and their drive distances to its villages."""
    mine = (admin["township"] == t["township_id"]).to_numpy()
    if not mine.any():
        return None, None
    pool = np.flatnonzero(network.in_area)
    if t["territory"] is not None:
        inside = shapely.contains_xy(t["territory"], *network.xy[pool].T)
        pool = pool[inside] if inside.any() else pool
    reach = network_distances(network, network.xy[pool], points_xy(admin)[mine],
                              radius_m=MEDIAN_RADIUS_M)
    return pool, reach
