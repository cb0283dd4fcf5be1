"""Demand and sites from a planner's own tables (see :mod:`geodata.user_inputs`).

A planner's community table (residents or households per community) replaces the residents
that OSM footprints would give:

* a **polygon** community spreads its residents over the residential buildings inside it, in
  proportion to their floor area; with no building inside, it becomes one point at its
  representative point;
* a **point** community is one demand point.

An inventory of existing lockers and stations joins the OSM candidate sites: lockers as
``existing_locker`` with their compartments (kept open by the locker model), stations as
``express_shop`` (reusable by the station tier).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from .area import StudyArea
from .candidates import CANDIDATE_COLUMNS

__all__ = ["homes_from_planner_communities", "sites_from_inventory"]


def homes_from_planner_communities(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    area: StudyArea,
    *,
    floor_area_per_resident_m2: float,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Building-like homes carrying the planner's residents, and the community polygons.

    Parameters
    ----------
    communities
        From :func:`geodata.user_inputs.read_communities` (WGS84; ``community``, ``name``,
        ``residents``).
    buildings
        From :func:`geodata.buildings.buildings_from_osm` (``area.crs``).
    area
        The study area; communities outside it are dropped.
    floor_area_per_resident_m2
        Converts residents back into the ``floor_area_m2`` that
        :func:`geodata.demand.demand_from_buildings` turns into the same residents.

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        Homes (``osm_id``, ``name``, ``floor_area_m2``, ``residential``, geometry) and
        communities (``community``, ``name``, ``name_en``, ``source``, ``new``,
        ``new_given``, ``old``, ``built_year``, polygon geometry).
    """
    comm = communities.to_crs(area.crs)
    comm = comm[comm.intersects(area.projected)].reset_index(drop=True)
    polygonal = comm.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    homes = buildings.loc[buildings["residential"].astype(bool)]
    parts = []
    for k, row in comm.iterrows():
        inside = (
            homes[homes.representative_point().within(row.geometry)] if polygonal[k] else homes[:0]
        )
        if len(inside):
            share = inside["floor_area_m2"].to_numpy(float)
            share = share / share.sum()
            geometry = inside.geometry.to_numpy()
            ids = list(inside["osm_id"])
            names = list(inside["name"])
        else:
            share = np.ones(1)
            geometry = [row.geometry.representative_point()]
            ids = [row["community"]]
            names = [row["name"]]
        parts.append(
            gpd.GeoDataFrame(
                {
                    "osm_id": ids,
                    "name": names,
                    "floor_area_m2": share * row["residents"] * floor_area_per_resident_m2,
                    "residential": True,
                },
                geometry=geometry,
                crs=area.crs,
            )
        )
    homes_out = (
        pd.concat(parts, ignore_index=True)
        if parts
        else gpd.GeoDataFrame(
            {"osm_id": [], "name": [], "floor_area_m2": [], "residential": []},
            geometry=[],
            crs=area.crs,
        )
    )
    shapes = np.where(polygonal, comm.geometry.to_numpy(), comm.geometry.buffer(50.0).to_numpy())
    polygons = gpd.GeoDataFrame(
        {
            "community": comm["community"],
            "name": comm["name"],
            "name_en": "",
            "source": comm["source"],
            "new": comm["new"] if "new" in comm else True,
            "new_given": comm["new_given"] if "new_given" in comm else False,
            "old": comm["old"] if "old" in comm else None,
            "built_year": comm["built_year"] if "built_year" in comm else np.nan,
        },
        geometry=list(shapes),
        crs=area.crs,
    )
    polygons["geometry"] = polygons.geometry.intersection(area.projected)
    return gpd.GeoDataFrame(homes_out, geometry="geometry", crs=area.crs), polygons


def sites_from_inventory(inventory: gpd.GeoDataFrame, area: StudyArea) -> gpd.GeoDataFrame:
    """Candidate-site rows for a planner's existing lockers and stations inside the area.

    Parameters
    ----------
    inventory
        From :func:`geodata.user_inputs.read_inventory` (WGS84; ``site_id``, ``name``,
        ``kind`` in ``{"locker", "station"}``, ``compartments``, ``area_m2``).
    area
        The study area.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`geodata.candidates.CANDIDATE_COLUMNS` in ``area.crs``; a station's
        ``floor_area_m2`` is its room's ``area_m2`` (see
        :func:`geodata.candidates.station_floor_areas`).
    """
    inv = inventory.to_crs(area.crs)
    inv = inv[inv.within(area.projected)].reset_index(drop=True)
    locker = (inv["kind"] == "locker").to_numpy()
    return gpd.GeoDataFrame(
        {
            "site_id": [f"c-{i}" for i in inv["site_id"]],
            "source": inv["source"].to_numpy(),
            "kind": np.where(locker, "existing_locker", "express_shop"),
            "name": inv["name"].to_numpy(),
            "name_en": "",
            "existing": locker,
            "capacity_compartments": inv["compartments"].to_numpy(float),
            "floor_area_m2": inv["area_m2"].to_numpy(float) if "area_m2" in inv else np.nan,
            "osm_id": "",
        },
        geometry=inv.geometry.to_numpy(),
        crs=area.crs,
    )[CANDIDATE_COLUMNS]
