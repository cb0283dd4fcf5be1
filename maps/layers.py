"""Turn a solved locker plan into the GIS layers planners receive.

The column names are a contract (``plan.gpkg`` layers of issue 3): ``demand`` has
``demand_id, community, residents, daily_parcels, locker_id, walk_m``; ``lockers`` has
``site_id, modules, compartments, daily_parcels_served, existing``; ``uncovered`` has
``reason``. Columns are only ever added, never renamed. Given the plan's :class:`Reach`, each
walk of ``demand`` and ``assignments`` also splits into ``street_m`` (along the streets) and
``access_m`` (the straight legs, :mod:`geodata.walking`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.distances import Reach
from optimizer.compliance import community_compartments
from optimizer.lockers import LockerPlan

__all__ = ["locker_layers"]


def locker_layers(
    plan: LockerPlan,
    *,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    boundary: BaseGeometry,
    reach: Reach | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Build the GIS layers of a locker plan, all in the demand's projected CRS.

    Layers: ``boundary``, ``communities``, ``demand``, ``candidates``, ``lockers``,
    ``assignments`` and ``uncovered``.

    Parameters
    ----------
    plan
        The solved plan; its indices refer to the rows of ``demand`` and ``candidates``.
    demand
        Demand points (``demand_id``, ``community``, ``community_name``, ``residents``,
        ``daily_parcels``).
    candidates
        Candidate sites (``site_id``, ``source``, ``kind``, ``name``, ``existing``).
    communities
        Community polygons (``community``, ``name``).
    boundary
        The study area in the same CRS.
    reach
        The home-site pairs the plan was solved on; when given, ``demand`` and
        ``assignments`` get ``street_m`` and ``access_m`` beside ``walk_m``.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        The layers, keyed by their GeoPackage layer names.
    """
    crs = demand.crs
    demand = demand.reset_index(drop=True)
    candidates = candidates.reset_index(drop=True)
    parcels = demand["daily_parcels"].to_numpy(dtype=float)
    site_ids = candidates["site_id"].to_numpy()
    served = plan.assignment >= 0

    out = demand.copy()
    out["locker_id"] = [site_ids[j] if j >= 0 else None for j in plan.assignment]
    out["walk_m"] = np.round(plan.walk_m, 1)
    walk_parts = ["street_m", "access_m"] if reach is not None else []
    if reach is not None:
        home = np.flatnonzero(served)
        for column, part in zip(walk_parts, reach.parts(home, plan.assignment[home]), strict=True):
            out[column] = np.nan
            out.loc[home, column] = np.round(part, 1)
    out = out[
        [
            "demand_id",
            "community",
            "community_name",
            "residents",
            "daily_parcels",
            "locker_id",
            "walk_m",
            *walk_parts,
            *[c for c in demand.columns if c in ("osm_id", "name")],
            "geometry",
        ]
    ]

    lockers = candidates.iloc[plan.sites][["site_id", "name", "source", "kind", "geometry"]].copy()
    lockers["modules"] = plan.modules
    lockers["compartments"] = plan.compartments
    lockers["daily_parcels_served"] = np.round(plan.site_load(parcels), 2)
    lockers["existing"] = candidates["existing"].to_numpy(dtype=bool)[plan.sites]
    lockers["fill_ratio"] = np.round(
        lockers["compartments"]
        / lockers["daily_parcels_served"].where(lockers["daily_parcels_served"] > 0),
        3,
    )
    lockers = lockers.reset_index(drop=True)

    site_xy = shapely.get_coordinates(candidates.geometry)
    dem_xy = shapely.get_coordinates(demand.geometry)
    lines = (
        shapely.linestrings(np.stack([dem_xy[plan.pair_demand], site_xy[plan.pair_site]], axis=1))
        if len(plan.pair_demand)
        else np.empty(0, dtype=object)
    )
    assignments = gpd.GeoDataFrame(
        {
            "demand_id": demand["demand_id"].to_numpy()[plan.pair_demand],
            "locker_id": site_ids[plan.pair_site],
            "share": np.round(plan.pair_share, 4),
            "daily_parcels": np.round(plan.pair_share * parcels[plan.pair_demand], 3),
            "walk_m": np.round(plan.pair_walk_m, 1),
            **(
                dict(zip(walk_parts, np.round(reach.parts(plan.pair_demand, plan.pair_site), 1),
                         strict=True))
                if reach is not None
                else {}
            ),
        },
        geometry=lines,
        crs=crs,
    )

    missing = ~served
    uncovered = demand.loc[
        missing, ["demand_id", "community", "community_name", "daily_parcels", "geometry"]
    ].copy()
    uncovered.insert(4, "reason", [plan.reasons[i] for i in np.flatnonzero(missing)])
    if plan.reasons_zh:
        uncovered.insert(5, "reason_zh", [plan.reasons_zh[i] for i in np.flatnonzero(missing)])

    table = community_compartments(plan, parcels, demand["community"].to_numpy())
    comm = communities[["community", "name", "geometry"]].merge(
        table, left_on="community", right_index=True, how="left"
    )
    comm = gpd.GeoDataFrame(comm, geometry="geometry", crs=crs)

    cand = candidates.copy()
    cand["chosen"] = np.isin(np.arange(len(cand)), plan.sites)
    return {
        "boundary": gpd.GeoDataFrame({"name": ["study area"]}, geometry=[boundary], crs=crs),
        "communities": comm,
        "demand": gpd.GeoDataFrame(out, geometry="geometry", crs=crs),
        "candidates": gpd.GeoDataFrame(cand, geometry="geometry", crs=crs),
        "lockers": gpd.GeoDataFrame(lockers, geometry="geometry", crs=crs),
        "assignments": assignments,
        "uncovered": gpd.GeoDataFrame(uncovered, geometry="geometry", crs=crs),
    }
