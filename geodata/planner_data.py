"""Demand and sites from a planner's own tables (see :mod:`geodata.user_inputs`).

A planner's community table gives residents or households per community. By default
(:func:`label_demand`) it **labels and weights the OSM buildings**: every residential building
keeps its place as a demand point and takes the table's community polygon it lies in, else the
nearest community the table gives as a point within :data:`POINT_COMMUNITY_REACH_M` (300 m);
the community's
residents are spread over its buildings in proportion to their floor area. A community with no
building in reach becomes one demand point at its location. Buildings no table community
reaches keep the residents their floor area gives, and their OSM community.

Asked to (:func:`homes_from_planner_communities`, ``--demand communities``), the table
**replaces** the buildings' residents:

* a **polygon** community spreads its residents over the residential buildings inside it, in
  proportion to their floor area; with no building inside, it becomes one point at its
  representative point;
* a **point** community is one demand point.

A table row outside the study area is not used; :func:`input_rows` lists every row of the
tables, used or not, with what became of it.

An inventory of existing lockers and stations joins the OSM candidate sites: lockers as
``existing_locker`` with their compartments (kept open by the locker model), stations and rooms
as ``express_shop`` (reusable by the station tier, a room's ``area_m2`` its floor area). Its
sites (``site`` 点位) join as ``planner_site``, places for a new locker; a ``required`` (必选)
site is forced open by the locker model (:func:`required_sites`); a ``prohibited`` (禁用) site
joins nothing and removes the new candidate site nearest it within
:data:`~geodata.table_columns.PROHIBITED_REACH_M` (:func:`prohibit_sites`) — ArcGIS
Location-Allocation's required and prohibited facilities.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .area import StudyArea
from .candidates import CANDIDATE_COLUMNS
from .defaults import DemandParameters
from .demand import DEMAND_COLUMNS, demand_from_buildings
from .table_columns import PROHIBITED_REACH_M

__all__ = [
    "POINT_COMMUNITY_REACH_M",
    "homes_from_planner_communities",
    "input_rows",
    "label_demand",
    "prohibit_sites",
    "required_sites",
    "sites_from_inventory",
]

log = logging.getLogger(__name__)

#: How far a building may stand from a community the table gives as a point and still belong
#: to it (m): the 5-minute walk of GB 50180-2018 (300 m), the walk the locker radius takes.
POINT_COMMUNITY_REACH_M = 300.0
#: Radius of the disc standing in for a point community's polygon (m).
_POINT_DISC_M = 50.0


def _in_area(table: gpd.GeoDataFrame, area: StudyArea) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Return a table in ``area.crs`` and which of its rows touch the study area."""
    projected = table.to_crs(area.crs)
    return projected, projected.intersects(area.projected).to_numpy()


def _polygonal(frame: gpd.GeoDataFrame) -> np.ndarray:
    return frame.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()


def _community_polygons(comm: gpd.GeoDataFrame, shapes: list[Any], area: StudyArea
                        ) -> gpd.GeoDataFrame:
    """Return a table's communities as the pipeline's community polygons, cut to the area."""
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
    return polygons


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
    comm, inside = _in_area(communities, area)
    comm = comm[inside].reset_index(drop=True)
    polygonal = _polygonal(comm)
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
    shapes = np.where(polygonal, comm.geometry.to_numpy(),
                      comm.geometry.buffer(_POINT_DISC_M).to_numpy())
    polygons = _community_polygons(comm, list(shapes), area)
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
        :func:`geodata.candidates.station_floor_areas`). Prohibited sites are left out
        (:func:`prohibit_sites` reads them).
    """
    inv, inside = _in_area(inventory, area)
    inv = inv[inside & (_actions(inv) != "prohibited")].reset_index(drop=True)
    locker = (inv["kind"] == "locker").to_numpy()
    return gpd.GeoDataFrame(
        {
            "site_id": [f"c-{i}" for i in inv["site_id"]],
            "source": inv["source"].to_numpy(),
            "kind": np.where(locker, "existing_locker",
                             np.where(inv["kind"] == "site", "planner_site", "express_shop")),
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


def _actions(inventory: gpd.GeoDataFrame) -> np.ndarray:
    """Return each inventory row's ``action`` (``""`` where none is given)."""
    if "action" not in inventory.columns:
        return np.full(len(inventory), "", dtype=object)
    return inventory["action"].fillna("").astype(str).to_numpy(object)


def required_sites(candidates: gpd.GeoDataFrame, inventory: gpd.GeoDataFrame | None
                   ) -> np.ndarray:
    """Return the mask of candidate sites a planner's inventory requires (必选): forced open.

    Parameters
    ----------
    candidates
        The plan's candidate sites (inventory rows are ``"c-user/<row>"``).
    inventory
        From :func:`geodata.user_inputs.read_inventory`, or ``None``.

    Returns
    -------
    numpy.ndarray
        Boolean mask over ``candidates``.
    """
    if inventory is None:
        return np.zeros(len(candidates), dtype=bool)
    ids = {f"c-{i}" for i in inventory["site_id"][_actions(inventory) == "required"]}
    return candidates["site_id"].isin(ids).to_numpy(bool)


def prohibit_sites(candidates: gpd.GeoDataFrame, inventory: gpd.GeoDataFrame | None,
                   area: StudyArea) -> tuple[gpd.GeoDataFrame, dict[str, dict[str, Any]]]:
    """Remove the candidate site each prohibited (禁用) inventory row names.

    A row names the new candidate site nearest its point within
    :data:`~geodata.table_columns.PROHIBITED_REACH_M`, rows taken in table order, each site
    removed once; existing lockers and required sites are never removed.

    Parameters
    ----------
    candidates
        The plan's candidate sites (``area.crs``).
    inventory
        From :func:`geodata.user_inputs.read_inventory`, or ``None``.
    area
        The study area.

    Returns
    -------
    candidates : geopandas.GeoDataFrame
        The sites kept.
    removed : dict
        For each prohibited row inside the area (by its ``site_id``): ``site_id``, ``name``
        and ``distance_m`` of the site it removed, ``site_id`` ``""`` when none lies in reach.
    """
    if inventory is None or not (_actions(inventory) == "prohibited").any():
        return candidates, {}
    inv, inside = _in_area(inventory, area)
    rows = inv[inside & (_actions(inv) == "prohibited")]
    free = ~candidates["existing"].to_numpy(bool) & ~required_sites(candidates, inventory)
    points = candidates.geometry.to_numpy()
    removed: dict[str, dict[str, Any]] = {}
    for sid, point in zip(rows["site_id"], rows.geometry, strict=True):
        dist = np.where(free, shapely.distance(points, point), np.inf)
        j = int(np.argmin(dist)) if len(dist) else -1
        if j < 0 or dist[j] > PROHIBITED_REACH_M:
            removed[sid] = {"site_id": "", "name": "", "distance_m": None}
            continue
        free[j] = False
        removed[sid] = {"site_id": str(candidates["site_id"].iloc[j]),
                        "name": str(candidates["name"].iloc[j] or ""),
                        "distance_m": float(dist[j])}
    gone = {r["site_id"] for r in removed.values() if r["site_id"]}
    log.info("prohibited sites: %d of %d rows removed a candidate site", len(gone), len(removed))
    return candidates[~candidates["site_id"].isin(gone)].reset_index(drop=True), removed


def _nearest_community(points: np.ndarray, comm: gpd.GeoDataFrame) -> np.ndarray:
    """Index into ``comm`` of each point's community, ``-1`` where none is in reach.

    A polygon holds the points it contains (distance 0); a point community reaches
    :data:`POINT_COMMUNITY_REACH_M`. The nearest in reach wins (the first in the table on a
    tie).
    """
    shapes = comm.geometry.to_numpy()
    reach = np.where(_polygonal(comm), 0.0, POINT_COMMUNITY_REACH_M)
    pi, ci = shapely.STRtree(shapes).query(points, predicate="dwithin",
                                           distance=float(reach.max()))
    dist = shapely.distance(points[pi], shapes[ci])
    ok = dist <= reach[ci]
    pi, ci, dist = pi[ok], ci[ok], dist[ok]
    order = np.lexsort((ci, dist, pi))
    pi, ci = pi[order], ci[order]
    label = np.full(len(points), -1, dtype=np.int64)
    first = np.unique(pi, return_index=True)[1]
    label[pi[first]] = ci[first]
    return label


def label_demand(
    demand: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    table: gpd.GeoDataFrame,
    area: StudyArea,
    params: DemandParameters,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Label the demand points with a planner's communities and give them its residents.

    Parameters
    ----------
    demand
        From :func:`geodata.demand.demand_from_buildings` (``area.crs``): the OSM buildings.
    communities
        The communities ``demand`` was labelled with (OSM, ``area.crs``).
    table
        From :func:`geodata.user_inputs.read_communities` (WGS84).
    area
        The study area; table rows outside it are not used.
    params
        Demand parameters (the floor area per resident of a community with no building).

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        The demand (:data:`~geodata.demand.DEMAND_COLUMNS`; the buildings a table community
        reaches carry its name and its residents, spread by floor area; one point per table
        community no building is in reach of) and the communities: the table's (a point
        community's polygon is the hull of its buildings, 50 m around), then the OSM ones that
        keep a building, less the table's.
    """
    comm, inside = _in_area(table, area)
    comm = comm[inside].reset_index(drop=True)
    if comm.empty:
        return demand, communities
    label = _nearest_community(demand.geometry.to_numpy(), comm)
    out = demand.copy()
    held = pd.Series(out["residents"].to_numpy(float)).groupby(label).sum()
    factor = np.ones(len(out))
    for k, row in comm.iterrows():
        mine = label == k
        if mine.any() and held.get(k, 0.0) > 0:
            factor[mine] = row["residents"] / held[k]
            out.loc[mine, "community"] = row["community"]
            out.loc[mine, "community_name"] = row["name"]
    out["residents"] = out["residents"] * factor
    out["daily_parcels"] = out["daily_parcels"] * factor
    reached = set(out["community"])
    alone = comm[~comm["community"].isin(reached)].reset_index(drop=True)
    shapes = [row.geometry if polygonal else shapely.convex_hull(shapely.union_all(
              [row.geometry, *out.geometry[out["community"] == row["community"]]])
              ).buffer(_POINT_DISC_M) for (_, row), polygonal in zip(comm.iterrows(),
                                                                    _polygonal(comm), strict=True)]
    polygons = _community_polygons(comm, shapes, area)
    parts = [out, _stand_ins(alone, polygons, params)] if len(alone) else [out]
    labelled = pd.concat(parts, ignore_index=True).sort_values("demand_id", kind="stable")
    osm = communities[communities["community"].isin(labelled["community"])].copy()
    cut = osm.geometry.difference(shapely.union_all(polygons.geometry.to_numpy()))
    osm["geometry"] = np.where(cut.is_empty.to_numpy(), osm.geometry.to_numpy(), cut.to_numpy())
    log.info("planner communities: %d of %d table rows in the area label %d of %d buildings; "
             "%d have no building in reach and stand as one point", len(comm) - len(alone),
             len(comm), int((label >= 0).sum()), len(demand), len(alone))
    merged = pd.concat([polygons, osm], ignore_index=True)
    return (gpd.GeoDataFrame(labelled.reset_index(drop=True)[DEMAND_COLUMNS], crs=area.crs),
            gpd.GeoDataFrame(merged, geometry="geometry", crs=area.crs))


def _stand_ins(alone: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, params: DemandParameters
               ) -> gpd.GeoDataFrame:
    """One demand point per table community that no building is in reach of."""
    homes = gpd.GeoDataFrame(
        {"osm_id": alone["community"], "name": alone["name"],
         "floor_area_m2": alone["residents"] * params.floor_area_per_resident_m2,
         "residential": True},
        geometry=alone.geometry.representative_point().to_numpy(), crs=polygons.crs)
    stand_in = demand_from_buildings(homes, polygons, params)
    by_id = dict(zip(alone["community"], alone["name"], strict=True))
    stand_in["community"] = stand_in["osm_id"]
    stand_in["community_name"] = stand_in["osm_id"].map(by_id)
    return stand_in


def input_rows(
    area: StudyArea,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    communities: gpd.GeoDataFrame | None = None,
    inventory: gpd.GeoDataFrame | None = None,
    hub_sites: gpd.GeoDataFrame | None = None,
    hubs_planned: bool = True,
    prohibited: Mapping[str, Mapping[str, Any]] | None = None,
    opened: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Say what became of every row of the planner's tables: used, or left out and why.

    A row is left out when its reader found it empty or repeating an earlier row
    (:mod:`geodata.user_inputs`), when it lies outside the study area (the distance to the
    area's edge is given), or when it belongs to another district of a city. Each row left out
    is logged as a warning.

    Parameters
    ----------
    area
        The study area.
    demand
        The plan's demand points (:data:`~geodata.demand.DEMAND_COLUMNS`).
    candidates
        The plan's candidate sites (inventory rows are ``"c-user/<row>"``).
    communities, inventory, hub_sites
        The tables as read by :mod:`geodata.user_inputs` (``None`` when not given). A hub
        site in the area is a candidate of the hubs tier, which reports the sites it opens.
    hubs_planned
        Whether the hubs tier is planned (else no hub site is used).
    prohibited
        What each prohibited inventory row removed (:func:`prohibit_sites`).
    opened
        New modules the plan gives each required site, by candidate ``site_id``; a required
        site missing or at 0 could not open (too few parcels in reach for one module, R2).

    Returns
    -------
    list of dict
        ``table``, ``file``, ``row`` (spreadsheet row, header row 1), ``name``, ``status``
        (``"used"`` or ``"dropped"``) and ``reason``, by table and row.
    """
    rows: list[dict[str, Any]] = []
    for frame in (communities, inventory, hub_sites):
        if frame is not None:
            rows.extend(frame.attrs.get("input_rows", []))
    if communities is not None:
        rows.extend(_community_rows(communities, area, demand))
    if inventory is not None:
        rows.extend(_inventory_rows(inventory, area, candidates, prohibited or {}, opened))
    if hub_sites is not None:
        rows.extend(_hub_site_rows(hub_sites, area, hubs_planned))
    rows.sort(key=lambda r: (r["table"], r["row"]))
    for r in rows:
        if r["status"] == "dropped":
            log.warning("%s row %d (%s) not used: %s", r["file"], r["row"], r["name"] or "-",
                        r["reason"])
    return rows


def _row(table: str, row: pd.Series, used: bool, reason: str) -> dict[str, Any]:
    return {"table": table, "file": str(row["source"]).removeprefix("user:"),
            "row": int(row["row"]), "name": str(row["name"]),
            "status": "used" if used else "dropped", "reason": reason}


def _outside(geometry: Any, area: StudyArea) -> str:
    return (f"outside the study area, {geometry.distance(area.projected):,.0f} m from its edge "
            "(check the datum, or use a boundary or extract that covers it)")


def _community_rows(table: gpd.GeoDataFrame, area: StudyArea, demand: gpd.GeoDataFrame
                    ) -> list[dict[str, Any]]:
    proj, inside = _in_area(table, area)
    held = pd.DataFrame({"community": demand["community"].to_numpy(),
                         "residents": demand["residents"].to_numpy(float),
                         "alone": (demand["osm_id"] == demand["community"]).to_numpy()}
                        ).groupby("community").agg(n=("residents", "size"),
                                                   residents=("residents", "sum"),
                                                   alone=("alone", "all"))
    out = []
    for i, row in table.reset_index(drop=True).iterrows():
        cid = row["community"]
        if not inside[i]:
            out.append(_row("communities", row, False, _outside(proj.geometry.iloc[i], area)))
        elif cid not in held.index:
            out.append(_row("communities", row, False, "lies in another district's part"))
        elif held.at[cid, "alone"]:
            out.append(_row("communities", row, True, f"one demand point at its location "
                            f"carries its {held.at[cid, 'residents']:,.0f} residents (no "
                            "residential building does)"))
        else:
            out.append(_row("communities", row, True, f"labels {held.at[cid, 'n']} buildings, "
                            f"which carry its {held.at[cid, 'residents']:,.0f} residents "
                            "by floor area"))
    return out


def _inventory_rows(table: gpd.GeoDataFrame, area: StudyArea, candidates: gpd.GeoDataFrame,
                    prohibited: Mapping[str, Mapping[str, Any]],
                    opened: Mapping[str, int] | None) -> list[dict[str, Any]]:
    proj, inside = _in_area(table, area)
    sites = set(candidates["site_id"])
    actions = _actions(table)
    out = []
    for i, row in table.reset_index(drop=True).iterrows():
        if not inside[i]:
            out.append(_row("inventory", row, False, _outside(proj.geometry.iloc[i], area)))
        elif actions[i] == "prohibited":
            out.append(_prohibited_row(row, prohibited.get(row["site_id"])))
        elif f"c-{row['site_id']}" not in sites:
            out.append(_row("inventory", row, False, "lies in another district's part"))
        elif row["kind"] == "locker":
            size = (f"{row['compartments']:g} compartments" if pd.notna(row["compartments"])
                    else "compartments not given")
            out.append(_row("inventory", row, True, f"an existing locker, kept open ({size})"))
        elif row["kind"] == "site":
            out.append(_site_row(row, actions[i] == "required", opened))
        else:
            what = "an existing station" if row["kind"] == "station" else "a room for a station"
            floor = (f"{row['area_m2']:g} m²" if pd.notna(row["area_m2"])
                     else "floor area not given")
            out.append(_row("inventory", row, True, f"{what}, a candidate site ({floor})"))
    return out


def _hub_site_rows(table: gpd.GeoDataFrame, area: StudyArea, planned: bool
                   ) -> list[dict[str, Any]]:
    """Rows of the hub-site table: a candidate of the hubs tier (R5) when in the area."""
    proj, inside = _in_area(table, area)
    out = []
    for i, row in table.reset_index(drop=True).iterrows():
        if not inside[i]:
            out.append(_row("hub_sites", row, False, _outside(proj.geometry.iloc[i], area)))
        elif not planned:
            out.append(_row("hub_sites", row, False, "the hubs tier is not planned (--tiers)"))
        else:
            size = (f"{row['capacity']:,.0f} items/day" if pd.notna(row["capacity"])
                    else "capacity from its floor area or the default")
            out.append(_row("hub_sites", row, True, f"a candidate hub site ({size})"))
    return out


def _prohibited_row(row: pd.Series, removed: Mapping[str, Any] | None) -> dict[str, Any]:
    if removed is None or not removed["site_id"]:
        return _row("inventory", row, False, "prohibited, but no new candidate site lies "
                    f"within {PROHIBITED_REACH_M:g} m of it: nothing removed")
    name = f" ({removed['name']})" if removed["name"] else ""
    return _row("inventory", row, True, f"prohibited: candidate site {removed['site_id']}"
                f"{name}, {removed['distance_m']:,.0f} m away, removed")


def _site_row(row: pd.Series, required: bool, opened: Mapping[str, int] | None
              ) -> dict[str, Any]:
    if not required:
        return _row("inventory", row, True, "a candidate site for a new locker")
    if opened is None:
        return _row("inventory", row, True, "required: forced open as a new locker")
    modules = int(opened.get(f"c-{row['site_id']}", 0))
    if modules == 0:
        return _row("inventory", row, False, "required, but not opened: within the walk "
                    "radius it reaches too few parcels to fill one module under R2 (004 五(二))")
    return _row("inventory", row, True, f"required: opened as a new locker with {modules} "
                f"module{'s' if modules > 1 else ''}")
