r"""Parcel demand: one point per residential building, with residents and daily parcels.

For building :math:`b` with residential floor area :math:`A_b` (m2):

.. math::

    \text{residents}_b = A_b / a, \qquad
    \text{daily\_parcels}_b = \text{residents}_b \cdot p \cdot s \cdot g / 365

with :math:`a` the floor area per resident, :math:`p` the parcels per resident per year,
:math:`s` the locker share and :math:`g` the growth factor, all from
:class:`geodata.defaults.DemandParameters` (defaults and sources in
:data:`geodata.defaults.SOURCES`). Rule R2 (seed 004 五(二)) sizes compartments on a
community's *average daily deliveries*; :func:`community_demand` gives exactly that sum.

The point is the building footprint's representative point (always inside the footprint). It
belongs to the community whose polygon contains it; a point outside every community takes the
nearest community within 100 m (a building just across a boundary road), else
``"unassigned"``.
"""

from __future__ import annotations

import logging
import time

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.defaults import DemandParameters
from geodata.errors import CRSError, InputDataError

__all__ = [
    "DEMAND_COLUMNS",
    "NEAREST_COMMUNITY_M",
    "UNASSIGNED",
    "community_demand",
    "demand_from_buildings",
]

log = logging.getLogger(__name__)

#: Community id (and name) of demand that lies in no community.
UNASSIGNED = "unassigned"
#: How far outside every community a building may stand and still join the nearest one (m).
NEAREST_COMMUNITY_M = 100.0

#: Columns of the frame returned by :func:`demand_from_buildings`, geometry last.
DEMAND_COLUMNS = [
    "demand_id",
    "osm_id",
    "name",
    "community",
    "community_name",
    "floor_area_m2",
    "residents",
    "daily_parcels",
    "geometry",
]


def _demand_id(osm_id: str) -> str:
    element, _, number = osm_id.partition("/")
    # ways keep the plain "d-<digits>" form; other elements get a letter so ids stay unique
    return f"d-{number}" if element == "way" else f"d-{element[:1]}{number}"


def _check(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputDataError(
            None,
            f"{what} lack the column(s) {', '.join(missing)}",
            f"build {what} with the geodata functions (they provide {', '.join(columns)})",
        )


def demand_from_buildings(
    buildings: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    params: DemandParameters | None = None,
) -> gpd.GeoDataFrame:
    """One demand point per residential building, with its community, residents and parcels.

    Parameters
    ----------
    buildings
        From :func:`geodata.buildings.buildings_from_osm` (projected CRS).
    communities
        From :func:`geodata.communities.communities_from_osm`, in the same CRS; may be empty
        (every point is then ``"unassigned"``).
    params
        Demand parameters; ``DemandParameters()`` (the documented defaults) when ``None``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`DEMAND_COLUMNS`, sorted by ``demand_id``: ``demand_id`` (``"d-"`` and
        the way id; ``"d-r<id>"`` for relations), ``osm_id``, ``name``, ``community``,
        ``community_name``, ``floor_area_m2``, ``residents``, ``daily_parcels`` and the point.

    Raises
    ------
    InputDataError
        If a frame lacks a required column.
    CRSError
        If buildings and communities are in different or geographic CRSs.
    """
    t0 = time.perf_counter()
    params = params or DemandParameters()
    _check(buildings, ["osm_id", "name", "floor_area_m2", "residential"], "buildings")
    _check(communities, ["community", "name"], "communities")
    crs = buildings.crs
    if crs is None or crs.is_geographic:
        raise CRSError(
            None,
            f"buildings are in {crs!r}, not a projected CRS in metres",
            "build them with buildings_from_osm(extract, area), which projects to area.crs",
        )
    if len(communities) and (communities.crs is None or not crs.equals(communities.crs)):
        raise CRSError(
            None,
            f"communities are in {communities.crs!r}, buildings in {crs.to_string()}",
            "build both for the same StudyArea, or .to_crs() one of them",
        )
    homes = buildings.loc[buildings["residential"].astype(bool)]
    points = gpd.GeoDataFrame(
        {
            "demand_id": [_demand_id(i) for i in homes["osm_id"]],
            "osm_id": homes["osm_id"].to_numpy(),
            "name": homes["name"].to_numpy(),
            "floor_area_m2": homes["floor_area_m2"].to_numpy(dtype=float),
        },
        geometry=homes.geometry.representative_point().to_numpy(),
        crs=crs,
    )
    community = np.full(len(points), UNASSIGNED, dtype=object)
    community_name = np.full(len(points), UNASSIGNED, dtype=object)
    if len(communities) and len(points):
        comm = communities[["community", "name", "geometry"]].reset_index(drop=True)
        inside = gpd.sjoin(points[["geometry"]], comm, how="left", predicate="within")
        # communities do not overlap, but keep the first hit should a caller's frame overlap
        inside = inside[~inside.index.duplicated(keep="first")].reindex(points.index)
        hit = inside["community"].notna().to_numpy()
        community[hit] = inside["community"].to_numpy()[hit]
        community_name[hit] = inside["name"].to_numpy()[hit]
        if (~hit).any():
            near = gpd.sjoin_nearest(
                points.loc[~hit, ["geometry"]],
                comm,
                how="left",
                max_distance=NEAREST_COMMUNITY_M,
                distance_col="_distance",
            )
            near = near.sort_values(["_distance", "community"], kind="stable")
            near = near[~near.index.duplicated(keep="first")]
            near = near[near["community"].notna()]
            pos = points.index.get_indexer(near.index)
            community[pos] = near["community"].to_numpy()
            community_name[pos] = near["name"].to_numpy()
    points["community"] = community
    points["community_name"] = community_name
    points["residents"] = points["floor_area_m2"] / params.floor_area_per_resident_m2
    points["daily_parcels"] = (
        points["residents"]
        * params.parcels_per_resident_per_year
        * params.locker_share
        * params.growth_factor
        / 365.0
    )
    points = points.sort_values("demand_id", kind="stable").reset_index(drop=True)
    if points["demand_id"].duplicated().any():
        dup = points.loc[points["demand_id"].duplicated(), "osm_id"].tolist()[:5]
        raise InputDataError(
            None,
            f"buildings repeat osm_id values (for instance {dup})",
            "pass each building once (buildings_from_osm returns unique ids)",
        )
    log.info(
        "demand: %d residential buildings, %.0f residents, %.0f parcels/day, %d unassigned, "
        "in %.2f s",
        len(points),
        points["residents"].sum(),
        points["daily_parcels"].sum(),
        int((points["community"] == UNASSIGNED).sum()),
        time.perf_counter() - t0,
    )
    return points[DEMAND_COLUMNS]


def community_demand(demand: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """Sum residents and daily parcels per community (rule R2 sizes lockers on the latter).

    Parameters
    ----------
    demand
        From :func:`demand_from_buildings`.

    Returns
    -------
    pandas.DataFrame
        One row per community (``"unassigned"`` included when present), sorted by
        ``community``: ``community``, ``community_name``, ``buildings``, ``floor_area_m2``,
        ``residents``, ``daily_parcels``.

    Raises
    ------
    InputDataError
        If ``demand`` lacks a required column.
    """
    columns = ["community", "community_name", "floor_area_m2", "residents", "daily_parcels"]
    _check(demand, columns, "demand points")
    table = (
        pd.DataFrame(demand[columns])
        .groupby(["community", "community_name"], sort=True)
        .agg(
            buildings=("residents", "size"),
            floor_area_m2=("floor_area_m2", "sum"),
            residents=("residents", "sum"),
            daily_parcels=("daily_parcels", "sum"),
        )
        .reset_index()
    )
    return table.sort_values("community", kind="stable").reset_index(drop=True)
