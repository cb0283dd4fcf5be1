"""GeoPackage layers of the tiers above the lockers: stations, villages, townships and hubs.

Each function turns a tier's solution (:mod:`optimizer.stations`, :mod:`optimizer.rural`,
:mod:`optimizer.hubs`) into the layer planners receive, with the facility names of the plans
(邮政快递末端综合服务站, 快递货物集散站, 村级寄递物流综合服务站, 乡镇快递综合服务站). Layer
and column names are a contract: extend, never rename.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "REUSED_KINDS",
    "TIER_LAYERS",
    "cargo_station_layer",
    "empty_layer",
    "hub_layer",
    "hub_link_layer",
    "station_layer",
    "township_station_layer",
    "village_station_layer",
]

#: GeoPackage layers each tier writes (a contract: never renamed).
TIER_LAYERS: dict[str, tuple[str, ...]] = {
    "stations": ("stations", "cargo_stations"),
    "villages": ("village_stations",),
    "townships": ("township_stations",),
    "hubs": ("hubs", "hub_links"),
}

#: Candidate kinds that are existing postal or express premises, reused as they are.
REUSED_KINDS = ("express_shop", "post_office")


def empty_layer(crs: Any, columns: Sequence[str]) -> gpd.GeoDataFrame:
    """Return an empty layer with the given columns (a tier that places nothing).

    Parameters
    ----------
    crs
        The layer's CRS.
    columns
        Its attribute columns.

    Returns
    -------
    geopandas.GeoDataFrame
        No rows.
    """
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in columns},
                            geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _at_sites(candidates: gpd.GeoDataFrame, site: pd.Series) -> gpd.GeoSeries:
    """Return the points of the candidate sites a plan uses (``site`` indexes them)."""
    return candidates.geometry.iloc[site.to_numpy(dtype=np.int64)]


def station_layer(stations: pd.DataFrame, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the ``stations`` layer: community end-stations (R1).

    Parameters
    ----------
    stations
        :attr:`optimizer.stations.StationPlan.stations`.
    candidates
        The candidate sites the plan indexes (names, points), in the layer's CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per station.
    """
    st = stations
    names = candidates.drop_duplicates("site_id").set_index("site_id")["name"]
    return gpd.GeoDataFrame({
        "id": st["station_id"],
        "name": [f"{c} 邮政快递末端综合服务站" for c in st["community_name"]],
        "site_name": st["site_id"].map(names).fillna("").astype(str).to_numpy(),
        "community": st["community"],
        "community_name": st["community_name"], "site_id": st["site_id"],
        "kind": st["kind"], "reused": st["reused"].astype(bool),
        "existing": st["reused"].astype(bool), "floor_area_m2": st["floor_area_m2"],
        "required_m2": st["required_m2"], "daily_parcels": st["daily_parcels"],
        "planned_area_m2": st["planned_area_m2"],
        "available_area_m2": st["available_area_m2"], "area_source": st["area_source"],
        "area_basis": st["area_basis"], "area_parameter": st["area_parameter"],
        "capped_by_area": st["capped_by_area"].astype(bool),
    }, geometry=_at_sites(candidates, st["site"]).values, crs=candidates.crs)


def cargo_station_layer(cs: pd.DataFrame, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the ``cargo_stations`` layer: a cargo station per neighbourhood centre (R7).

    Parameters
    ----------
    cs
        :attr:`optimizer.stations.CargoPlan.stations`.
    candidates
        The candidate sites the plan indexes (points), in the layer's CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cargo station.
    """
    reused = cs["kind"].isin(REUSED_KINDS).to_numpy()
    return gpd.GeoDataFrame({
        "id": [f"cs-{c}" for c in cs["centre_id"]],
        "name": [f"{c or i} 快递货物集散站"
                 for c, i in zip(cs["centre"], cs["centre_id"], strict=True)],
        "centre_id": cs["centre_id"], "centre": cs["centre"], "site_id": cs["site_id"],
        "kind": cs["kind"], "reused": reused, "existing": reused,
        "floor_area_m2": cs["floor_area_m2"], "walk_m": cs["walk_m"],
    }, geometry=_at_sites(candidates, cs["site"]).values, crs=candidates.crs)


def village_station_layer(vs: pd.DataFrame, township_names: dict[str, str], crs: Any
                          ) -> gpd.GeoDataFrame:
    """Return the ``village_stations`` layer: 1-2 stations per village (R3).

    Parameters
    ----------
    vs
        :attr:`optimizer.rural.RuralPlan.village_stations`.
    township_names
        Township name per ``township_id``.
    crs
        The layer's CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per village station; ``drive_network_m`` is its village's distance to the
        drive network and ``reached`` whether that network reaches the village (G4).
    """
    return gpd.GeoDataFrame({
        "id": vs["station_id"],
        "name": [f"{v} 村级寄递物流综合服务站" + (f" {r}" if r > 1 else "")
                 for v, r in zip(vs["village"], vs["rank"], strict=True)],
        "village_id": vs["village_id"], "village": vs["village"],
        "township_id": vs["township"], "township": vs["township"].map(township_names).fillna(""),
        "rank": vs["rank"].astype(int), "daily_parcels": vs["daily_parcels"],
        "site_id": vs["site_id"], "kind": vs["site_kind"],
        "existing": vs["site_kind"].isin(REUSED_KINDS).to_numpy(), "placed_by": vs["placed_by"],
        "drive_network_m": vs["drive_network_m"], "reached": vs["reached"].astype(bool),
    }, geometry=gpd.points_from_xy(vs["x"], vs["y"]), crs=crs)


def township_station_layer(ts: pd.DataFrame, crs: Any) -> gpd.GeoDataFrame:
    """Return the ``township_stations`` layer: one station per township (R4).

    Parameters
    ----------
    ts
        :attr:`optimizer.rural.RuralPlan.township_stations`.
    crs
        The layer's CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per township station.
    """
    return gpd.GeoDataFrame({
        "id": ts["station_id"],
        "name": [f"{t} 乡镇快递综合服务站" for t in ts["township"]],
        "township_id": ts["township_id"], "township": ts["township"],
        "daily_parcels": ts["daily_parcels"], "site_id": ts["site_id"],
        "kind": ts["site_kind"], "existing": ts["site_kind"].isin(REUSED_KINDS).to_numpy(),
        "placed_by": ts["placed_by"],
    }, geometry=gpd.points_from_xy(ts["x"], ts["y"]), crs=crs)


def hub_layer(columns: dict[str, Any], hub_xy: np.ndarray, crs: Any) -> gpd.GeoDataFrame:
    """Return the ``hubs`` layer: the open county hubs (R5, R6).

    Parameters
    ----------
    columns
        Attribute columns of the open hubs (``id``, ``name``, ``throughput``, ...).
    hub_xy
        Their coordinates, one row each.
    crs
        The layer's CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per open hub.
    """
    return gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(hub_xy[:, 0], hub_xy[:, 1]),
                            crs=crs)


def hub_link_layer(columns: dict[str, Any], from_xy: np.ndarray, to_xy: np.ndarray, crs: Any
                   ) -> gpd.GeoDataFrame:
    """Return the ``hub_links`` layer: a straight line from each feeder to its hub.

    Parameters
    ----------
    columns
        Attribute columns (``station_id``, ``hub_id``, ``daily_parcels``, ``drive_km``, ...).
    from_xy, to_xy
        The feeders' and their hubs' coordinates, one row per link.
    crs
        The layer's CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per link.
    """
    lines = [shapely.LineString([a, b]) for a, b in zip(from_xy, to_xy, strict=True)]
    return gpd.GeoDataFrame(columns, geometry=lines, crs=crs)
