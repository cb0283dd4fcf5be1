"""Array inputs of the tiers above the lockers: demand points, site reach and hub reach.

The station and hub models (:mod:`optimizer.stations`, :mod:`optimizer.hubs`) take arrays and
network distances as triplets (:class:`geodata.distances.Reach`); this module turns the
GeoDataFrames and networks of the other geodata modules into them, so no model sees a
geometry or a network.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from numpy.typing import ArrayLike

from .distances import Reach, network_distances
from .errors import InfeasiblePlanError
from .network import Network

__all__ = ["StationPoints", "community_new_flags", "hub_reach", "points_xy", "reach_among",
           "station_points"]


@dataclass(frozen=True)
class StationPoints:
    """The points a community end-station serves.

    Attributes
    ----------
    xy
        ``(n, 2)`` coordinates: the homes (demand points) first, then the representative point
        of each community without a home.
    community
        Community id of each point (object array).
    daily_parcels
        Daily parcels of each point (0 for a community's representative point).
    n_homes
        How many of the points are homes (the first ``n_homes``).
    """

    xy: np.ndarray
    community: np.ndarray
    daily_parcels: np.ndarray
    n_homes: int


def points_xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Return the ``(n, 2)`` coordinates of a point layer.

    Parameters
    ----------
    frame
        Points (projected CRS).

    Returns
    -------
    numpy.ndarray
        ``x, y`` rows, float64.
    """
    return np.c_[frame.geometry.x, frame.geometry.y].astype(float).reshape(-1, 2)


def community_new_flags(communities: gpd.GeoDataFrame) -> tuple[np.ndarray, bool | None]:
    """Return which communities are new residential communities, and how that is known.

    Parameters
    ----------
    communities
        Communities, with an optional bool ``new`` column (a planner's table) and
        ``new_given`` (whether the planner marked it).

    Returns
    -------
    new : numpy.ndarray
        Bool per community (``True`` where not marked).
    marked : bool or None
        ``None`` without a ``new`` column; else whether the planner's table marks it.
    """
    if "new" not in communities.columns:
        return np.ones(len(communities), dtype=bool), None
    new = communities["new"].fillna(True).astype(bool).to_numpy()
    given = "new_given" in communities.columns and bool(communities["new_given"].any())
    return new, given


def station_points(demand: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> StationPoints:
    """Return the homes of the given communities, and a point for each without a home.

    Parameters
    ----------
    demand
        Demand points (``community``, ``daily_parcels``).
    communities
        The communities to serve (``community``, polygon), same CRS.

    Returns
    -------
    StationPoints
        Homes first, then each home-less community's representative point with 0 parcels.
    """
    pts = demand[demand["community"].isin(communities["community"])]
    empty = communities[~communities["community"].isin(pts["community"])]
    rp = empty.geometry.representative_point()
    return StationPoints(
        xy=np.r_[points_xy(pts), np.c_[rp.x, rp.y].reshape(-1, 2)],
        community=np.r_[pts["community"].to_numpy().astype(object),
                        empty["community"].to_numpy().astype(object)],
        daily_parcels=np.r_[pts["daily_parcels"].to_numpy(float), np.zeros(len(empty))],
        n_homes=len(pts),
    )


def reach_among(network: Network, origins_xy: ArrayLike, dest_xy: ArrayLike, *,
                radius_m: float, among: ArrayLike | None = None) -> Reach:
    """Return the network distances from origins to some destinations, within a radius.

    Parameters
    ----------
    network
        The walk or drive network.
    origins_xy, dest_xy
        Points, ``(n, 2)`` and ``(m, 2)``, in the network's CRS.
    radius_m
        Longest distance kept.
    among
        Indices of the destinations to measure (all when ``None``), sorted ascending.

    Returns
    -------
    Reach
        Pairs whose ``cols`` index ``dest_xy`` (all ``m`` of them), sorted by ``(rows, cols)``.
    """
    dest = np.asarray(dest_xy, dtype=float).reshape(-1, 2)
    if among is None:
        return network_distances(network, origins_xy, dest, radius_m=radius_m)
    idx = np.asarray(among, dtype=np.int64)
    reach = network_distances(network, origins_xy, dest[idx], radius_m=radius_m)
    return dataclasses.replace(reach, cols=idx[reach.cols], shape=(reach.shape[0], len(dest)))


def hub_reach(network: Network, hub_xy: ArrayLike, station_xy: ArrayLike, *,
              max_drive_km: float, hub_names: tuple[str, ...] = ()) -> Reach:
    """Return the drive distances hub -> station within ``max_drive_km`` (rule R5's reach).

    Parameters
    ----------
    network
        The drive network.
    hub_xy
        Candidate hub points; a point outside the network (an external county seat) reaches
        it at its nearest node.
    station_xy
        The points sending parcels to hubs.
    max_drive_km
        Longest drive from a station to its hub.
    hub_names
        Labels for the error.

    Returns
    -------
    Reach
        Rows index the hubs, columns the stations, distances in metres.

    Raises
    ------
    InfeasiblePlanError
        Naming R5, when every hub candidate (a given county centre, say) lies farther than
        ``max_drive_km`` from the drive network.
    """
    hubs = np.asarray(hub_xy, dtype=float).reshape(-1, 2)
    _, offset = network.snap(hubs)
    if len(offset) and float(offset.min()) > max_drive_km * 1000.0:
        names = hub_names or tuple(f"hub {j}" for j in range(len(hubs)))
        raise InfeasiblePlanError(
            f"R5 (county sorting centre): every hub candidate ({', '.join(names[:5])}) is at "
            f"least {offset.min() / 1000:,.0f} km from the drive network of the study area, "
            f"beyond the {max_drive_km:g} km a hub may serve; give a county centre within "
            "reach (--county-centre LON,LAT in WGS84) or leave it out so the model places one"
        )
    return network_distances(network, hubs, station_xy, radius_m=max_drive_km * 1000.0)
