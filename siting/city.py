"""City mode: plan a city district by district, in parallel, and merge the plans.

The city is split into districts by administrative boundaries, the districts are planned in
parallel and the district plans are merged into one city plan.

Districts
---------
From the OSM file's ``boundary=administrative`` relations at one ``admin_level`` (8: the 街道
sub-districts of a Chinese city; relations cut off at the extract's edge are rebuilt by noding
their ways with the area outline, as :mod:`geodata.communities` does for communities), or from
the features of a boundary file (a DataV GeoJSON with several features; GCJ-02 is detected
and converted). Districts are clipped to the study area.

Coverage across district borders (the buffer)
---------------------------------------------
Each district plans the demand it *owns*: the homes inside its polygon (a home on a shared
border goes to the first district in order). Candidate sites and the walking network are taken
inside the district polygon **buffered by the walking radius** (``buffer_m``, default the
radius): a walk of at most the radius from a home in the district never leaves that buffer, so
every locker a home could reach is a candidate, including lockers across the border. Two
districts may open the same site; the merge then adds their modules at that site. Since each
district's solution holds rule R2 per locker (compartments 1.0-1.3 x the parcels it serves),
the sum does too. An existing locker's capacity is given to the district that contains it only,
so two districts never fill the same existing compartments.

The merged plan is feasible for the whole city but not proven optimal for it: its cost is the
cost of the union of sites and modules, ``bound`` and ``gap`` are left empty, and each
district's own status, bound and gap are listed in ``summary["districts"]``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.area import StudyArea, study_area
from geodata.errors import BoundaryError, InputDataError
from siting.scenario import Districts, Scenario

__all__ = ["CityPlan", "district_plan", "merge_districts", "plan_city", "plan_city_on_cluster",
           "split_districts"]

log = logging.getLogger(__name__)

_STATUS_ORDER = ("optimal", "time_limit", "feasible", "not_solved", "infeasible", "error")
_MIN_DISTRICT_M2 = 10_000.0


@dataclass(frozen=True)
class CityPlan:
    """A merged city plan.

    Attributes
    ----------
    summary
        The content of the city's ``summary.json``.
    layers
        The merged layers (projected CRS).
    districts
        One row per district with its polygon and result.
    out
        The output folder, or ``None``.
    """

    summary: dict[str, Any]
    layers: dict[str, gpd.GeoDataFrame]
    districts: gpd.GeoDataFrame
    out: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _osm_districts(osm: Path, area: StudyArea, admin_level: int) -> gpd.GeoDataFrame:
    """District polygons from the OSM relations at ``admin_level`` (in ``area.crs``)."""
    import osmium

    from geodata import communities as comm

    data = comm._AdminData()
    level = str(admin_level)

    class _Relations(osmium.SimpleHandler):  # type: ignore[misc]
        def relation(self, rel: osmium.osm.Relation) -> None:
            if rel.tags.get("boundary") != "administrative" or rel.tags.get("admin_level") != level:
                return
            ways = [m.ref for m in rel.members if m.type == "w"]
            data.cutting_ways.update(ways)
            label = next((m.ref for m in rel.members if m.type == "n" and m.role == "label"), None)
            data.communities[rel.id] = comm._Community(
                rel_id=rel.id, name=rel.tags.get("name", ""),
                name_en=rel.tags.get("name:en", ""), label_node=label, ways=ways)

    from geodata.osm import read_osm

    extract = read_osm(osm)
    try:
        _Relations().apply_file(str(extract.xml_path))
        comm._GeometryPass(data, read_roads=False).apply_file(str(extract.xml_path),
                                                             locations=True)
    except RuntimeError as err:
        raise InputDataError(osm, f"cannot read admin boundaries ({err})",
                             "give an OpenStreetMap XML or PBF file") from err
    frame = comm._admin_communities(data, area)
    if frame is None or frame.empty:
        raise BoundaryError(
            osm, f"no boundary=administrative relation with admin_level={admin_level} covers "
            "the study area",
            "use another admin_level (8: sub-districts, 6: districts) or districts from a file")
    return gpd.GeoDataFrame({"district": frame["community"].to_numpy(),
                             "name": frame["name"].to_numpy()},
                            geometry=frame.geometry.to_numpy(), crs=area.crs)


def _file_districts(spec: Districts, area: StudyArea) -> gpd.GeoDataFrame:
    from geodata.coords import geometry_gcj02_to_wgs84

    path = Path(str(spec.file))
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as err:  # noqa: BLE001 - pyogrio raises several types
        raise BoundaryError(path, f"cannot be read ({err})", "give a GeoJSON or GPKG file"
                            ) from err
    if frame.empty:
        raise BoundaryError(path, "has no features", "give a file with one polygon per district")
    if spec.name_field not in frame.columns:
        raise BoundaryError(path, f"no property {spec.name_field!r} (properties: "
                            f"{', '.join(c for c in frame.columns if c != 'geometry')})",
                            "set area.districts.name_field to the property naming districts")
    if frame.crs is not None and not frame.crs.is_geographic:
        frame = frame.to_crs(4326)
    datum = spec.datum
    if datum == "auto":
        datum = "gcj02" if {"adcode", "center", "acroutes"} <= set(frame.columns) else "wgs84"
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if datum == "gcj02":
        geoms = geometry_gcj02_to_wgs84(geoms)
    wgs = gpd.GeoSeries(geoms, crs=4326).to_crs(area.crs)
    clipped = shapely.intersection(wgs.to_numpy(), area.projected)
    keep = shapely.area(clipped) >= _MIN_DISTRICT_M2
    if not keep.any():
        raise BoundaryError(path, "no district overlaps the OSM data",
                            "check that the file covers the OSM extract")
    ids = frame.get("adcode", pd.Series(range(len(frame)))).astype(str).to_numpy()
    return gpd.GeoDataFrame({"district": ids[keep],
                             "name": frame[spec.name_field].astype(str).to_numpy()[keep]},
                            geometry=clipped[keep], crs=area.crs)


def split_districts(scenario: Scenario) -> tuple[gpd.GeoDataFrame, StudyArea]:
    """Return the districts of a city scenario, clipped to its study area.

    Parameters
    ----------
    scenario
        A scenario with ``area.districts``.

    Returns
    -------
    districts : geopandas.GeoDataFrame
        ``district``, ``name`` and polygons in the area's projected CRS, in a stable order
        (by ``district``).
    area : geodata.area.StudyArea
        The city's study area.

    Raises
    ------
    BoundaryError
        When no district covers the area, or the boundary file cannot be used.
    """
    from geodata.osm import read_osm

    spec = scenario.area.districts
    if spec is None:
        raise InputDataError(None, f"scenario {scenario.name!r} has no area.districts",
                             "add [area.districts] to plan a city by districts")
    extract = read_osm(scenario.area.osm)
    area = study_area(extract, boundary=scenario.area.boundary,
                      boundary_crs=scenario.area.boundary_crs)
    frame = (_osm_districts(Path(scenario.area.osm), area, spec.admin_level)
             if spec.source == "osm" else _file_districts(spec, area))
    frame = frame.sort_values("district", kind="stable").reset_index(drop=True)
    log.info("city: %d districts (%s) in %s", len(frame), spec.source, area.name)
    return frame, area


def district_plan(scenario: Scenario, district: BaseGeometry, owned: BaseGeometry, *,
                  name: str, crs: pyproj.CRS | str) -> dict[str, Any]:
    """Plan one district with the border buffer (see the module docstring).

    Parameters
    ----------
    scenario
        The city scenario (its parameters apply).
    district
        The district polygon, projected.
    owned
        The part of ``district`` whose homes this district plans (the polygon less earlier
        districts).
    name
        District name.
    crs
        The projected CRS of the polygons.

    Returns
    -------
    dict
        ``layers`` (projected GeoDataFrames), ``records`` (rule checks), ``status``,
        ``objective``, ``bound``, ``gap``, ``n_demand``.
    """
    from geodata.buildings import buildings_from_osm, read_siting_features
    from geodata.candidates import candidates_from_osm
    from geodata.communities import communities_from_osm
    from geodata.demand import demand_from_buildings
    from geodata.distances import network_distances
    from geodata.network import walk_network
    from geodata.osm import read_osm
    from geodata.walking import residential_compounds
    from maps.layers import locker_layers
    from optimizer.compliance import locker_compliance
    from optimizer.lockers import LockerParameters, LockerProblem, solve_lockers
    from optimizer.rules import preset
    from siting.batch import plan_kwargs

    kw = plan_kwargs(scenario, out=None)
    rules = preset(scenario.rules.preset, overrides=scenario.rules.overrides or None)
    r2 = rules.get("R2")
    radius = float(scenario.parameters.radius_m)
    spec = scenario.area.districts
    buffer_m = radius if spec is None or spec.buffer_m is None else float(spec.buffer_m)
    lp = LockerParameters(**{**asdict(kw["locker_params"]), "radius_m": radius,
                             "ratio": (r2.low, r2.high)})
    extract = read_osm(scenario.area.osm)
    city = study_area(extract, boundary=scenario.area.boundary,
                      boundary_crs=scenario.area.boundary_crs)
    crs = pyproj.CRS(crs)
    buffered = shapely.intersection(district.buffer(buffer_m), city.projected)
    to_wgs = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    polygon = shapely.transform(buffered, lambda xy: np.column_stack(
        to_wgs.transform(xy[:, 0], xy[:, 1])))
    area = StudyArea(polygon=polygon, crs=crs, projected=buffered,
                     source=f"district {name} + {buffer_m:g} m", name=name)
    walk = walk_network(extract, area)
    features = read_siting_features(extract)
    buildings = buildings_from_osm(extract, area, features=features)
    communities = communities_from_osm(extract, area)
    demand = demand_from_buildings(buildings, communities, kw["demand_params"])
    demand = demand[shapely.covered_by(demand.geometry.to_numpy(), owned)].reset_index(drop=True)
    candidates = candidates_from_osm(extract, area, buildings, features=features)
    foreign = candidates["existing"].to_numpy(bool) & ~shapely.covered_by(
        candidates.geometry.to_numpy(), owned)
    candidates = candidates[~foreign].reset_index(drop=True)
    reach = network_distances(walk, shapely.get_coordinates(demand.geometry),
                              shapely.get_coordinates(candidates.geometry), radius_m=radius,
                              compounds=residential_compounds(features, area))
    capacity = candidates["capacity_compartments"].to_numpy(dtype=float)
    problem = LockerProblem(
        daily_parcels=demand["daily_parcels"].to_numpy(dtype=float),
        pair_demand=reach.rows, pair_site=reach.cols, pair_walk_m=reach.dist_m,
        n_sites=len(candidates), existing=candidates["existing"].to_numpy(dtype=bool),
        existing_capacity=np.where(np.isnan(capacity), lp.existing_capacity, capacity),
    )
    plan = solve_lockers(problem, lp, mode=kw["mode"], budget=kw["budget"],
                         budget_kind=kw["budget_kind"], solver=kw["solver"],
                         time_limit=kw["time_limit"])
    reasons, reasons_zh = reach.off_street_reasons(plan.reasons, plan.reasons_zh)
    plan = replace(plan, reasons=reasons, reasons_zh=reasons_zh)
    layers = locker_layers(plan, demand=demand, candidates=candidates, communities=communities,
                           boundary=district, reach=reach)
    names = dict(zip(communities["community"], communities["name"], strict=True))
    records = locker_compliance(plan, rules, daily_parcels=problem.daily_parcels,
                                community=demand["community"].to_numpy(), community_names=names)
    for r in records:
        r["district"] = name
    return {"layers": layers, "records": records, "status": plan.status,
            "objective": plan.objective, "bound": plan.bound, "gap": plan.gap,
            "n_demand": len(demand), "lp": asdict(lp)}


def _merge_lockers(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    both = pd.concat(frames, ignore_index=True)
    if both.empty:
        return gpd.GeoDataFrame(both, geometry="geometry", crs=frames[0].crs)
    agg = both.groupby("site_id", sort=True).agg(
        name=("name", "first"), source=("source", "first"), kind=("kind", "first"),
        geometry=("geometry", "first"), modules=("modules", "sum"),
        compartments=("compartments", "sum"), daily_parcels_served=("daily_parcels_served", "sum"),
        existing=("existing", "first"), districts=("district", lambda s: ",".join(sorted(set(s)))),
    ).reset_index()
    agg["fill_ratio"] = np.round(agg["compartments"] / agg["daily_parcels_served"].where(
        agg["daily_parcels_served"] > 0), 3)
    return gpd.GeoDataFrame(agg, geometry="geometry", crs=frames[0].crs)


def _merge_communities(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    both = pd.concat(frames, ignore_index=True)
    crs = frames[0].crs
    if both.empty:
        return gpd.GeoDataFrame(both, geometry="geometry", crs=crs)
    num = [c for c in ("daily_parcels", "served_parcels", "compartments") if c in both]
    agg = both.groupby("community", sort=True).agg(
        name=("name", "first"), geometry=("geometry", lambda g: shapely.union_all(list(g))),
        **{c: (c, "sum") for c in num})
    agg = agg.reset_index()
    if {"compartments", "served_parcels"} <= set(agg.columns):
        agg["ratio"] = agg["compartments"] / agg["served_parcels"].where(agg["served_parcels"] > 0)
    return gpd.GeoDataFrame(agg, geometry="geometry", crs=crs)


def merge_districts(parts: list[dict[str, Any]], districts: gpd.GeoDataFrame) -> tuple[
        dict[str, gpd.GeoDataFrame], dict[str, Any]]:
    """Merge district plans into one city plan.

    Parameters
    ----------
    parts
        :func:`district_plan` results, in the order of ``districts``.
    districts
        The districts (``district``, ``name``, polygons).

    Returns
    -------
    layers : dict
        Merged layers: shared sites appear once with their modules added.
    totals : dict
        ``status`` (the worst district status), ``objective`` (cost of the merged plan),
        ``lockers``, ``modules``, ``compartments``, coverage counts and rule records.
    """
    crs = districts.crs
    names = districts["name"].tolist()
    layers: dict[str, gpd.GeoDataFrame] = {}
    for key in ("demand", "assignments", "uncovered"):
        frames = [p["layers"][key].assign(district=n) for p, n in zip(parts, names, strict=True)]
        layers[key] = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                                       crs=crs)
    cands = pd.concat([p["layers"]["candidates"] for p in parts], ignore_index=True)
    cands = cands.sort_values("chosen", ascending=False, kind="stable").drop_duplicates("site_id")
    layers["candidates"] = gpd.GeoDataFrame(cands.sort_values("site_id").reset_index(drop=True),
                                            geometry="geometry", crs=crs)
    layers["lockers"] = _merge_lockers(
        [p["layers"]["lockers"].assign(district=n) for p, n in zip(parts, names, strict=True)])
    layers["communities"] = _merge_communities([p["layers"]["communities"] for p in parts])
    layers["boundary"] = gpd.GeoDataFrame(
        {"name": names, "district": districts["district"].to_numpy()},
        geometry=districts.geometry.to_numpy(), crs=crs)
    lp = parts[0]["lp"]
    lockers = layers["lockers"]
    new = ~lockers["existing"].astype(bool)
    cost = lp["site_cost"] * int(new.sum()) + lp["module_cost"] * float(lockers.loc[new,
                                                                                    "modules"].sum())
    demand = layers["demand"]
    covered = demand["locker_id"].notna()
    total = float(demand["daily_parcels"].sum())
    status = max((p["status"] for p in parts),
                 key=lambda s: _STATUS_ORDER.index(s) if s in _STATUS_ORDER else len(_STATUS_ORDER))
    totals = {
        "status": status, "objective": float(cost), "bound": None, "gap": None,
        "lockers": len(lockers), "new_lockers": int(new.sum()),
        "existing_lockers": int((~new).sum()), "modules": int(lockers["modules"].sum()),
        "compartments": float(lockers["compartments"].sum()),
        "demand_points": len(demand), "covered": int(covered.sum()),
        "uncovered": int((~covered).sum()),
        "parcel_share_covered": round(float(demand.loc[covered, "daily_parcels"].sum()) / total,
                                      6) if total else 1.0,
        "records": [r for p in parts for r in p["records"]],
    }
    return layers, totals


def plan_city(scenario: Scenario, *, out: str | Path | None = None, client: Any = None,
              offline_map: bool = True) -> CityPlan:
    """Plan a city by districts and merge them (see the module docstring).

    Parameters
    ----------
    scenario
        A scenario with ``area.districts``.
    out
        Output folder (written atomically: ``plan.gpkg``, ``summary.json``,
        ``candidates.csv``, ``map.html``); ``None`` to write nothing.
    client
        A ``distributed.Client`` to plan the districts in parallel; ``None`` plans them one
        after the other in this process.
    offline_map
        Inline Leaflet in ``map.html``.

    Returns
    -------
    CityPlan
        The merged summary and layers, and the districts.

    Raises
    ------
    geodata.errors.SitingError
        Any input, parameter, solver or output problem of any district.
    """
    from maps.files import atomic_folder, write_candidates_csv, write_gpkg, write_summary
    from maps.plan_map import plan_map, save_map

    t0 = time.perf_counter()
    districts, area = split_districts(scenario)
    geoms = list(districts.geometry)
    owned = [shapely.difference(g, shapely.union_all(geoms[:k])) if k else g
             for k, g in enumerate(geoms)]
    args = [(scenario, g, o) for g, o in zip(geoms, owned, strict=True)]
    names = districts["name"].tolist()
    crs = area.crs.to_wkt()
    if client is None:
        parts = [district_plan(*a, name=n, crs=crs) for a, n in zip(args, names, strict=True)]
    else:
        futures = [client.submit(district_plan, *a, name=n, crs=crs, pure=False)
                   for a, n in zip(args, names, strict=True)]
        parts = client.gather(futures)
    layers, totals = merge_districts(parts, districts)
    records = totals.pop("records")
    seconds = round(time.perf_counter() - t0, 3)
    summary: dict[str, Any] = {
        "status": totals["status"], "objective": totals["objective"], "bound": None,
        "gap": None, "solve_s": seconds,
        "parameters": {"osm": scenario.area.osm, "scenario": scenario.name,
                       "mode": scenario.parameters.mode, "radius_m": scenario.parameters.radius_m,
                       "rules": scenario.rules.preset, "districts": asdict_districts(scenario),
                       "locker": parts[0]["lp"] if parts else None},
        "counts": {k: totals[k] for k in ("lockers", "new_lockers", "existing_lockers",
                                          "modules", "compartments", "demand_points")},
        "coverage": {k: totals[k] for k in ("demand_points", "covered", "uncovered",
                                            "parcel_share_covered")},
        "rules": records,
        "districts": [
            {"district": d, "name": n, "status": p["status"], "objective": p["objective"],
             "bound": p["bound"], "gap": p["gap"], "demand_points": p["n_demand"]}
            for d, n, p in zip(districts["district"], names, parts, strict=True)],
        "decomposition": ("districts planned separately with candidates within the walking "
                          "radius of each district; sites shared by two districts add their "
                          "modules; the merged plan is feasible, not proven optimal"),
        "attribution": "© OpenStreetMap contributors, ODbL 1.0",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    written = None
    if out is not None:
        title = (f"{area.name} 智能快件箱布局方案（{len(districts)} 个分区）"
                 if scenario.lang == "zh"
                 else f"{area.name}: smart parcel locker plan, {len(districts)} districts")
        with atomic_folder(out) as tmp:
            write_gpkg(layers, tmp / "plan.gpkg")
            write_candidates_csv(layers["candidates"], tmp / "candidates.csv")
            save_map(plan_map(layers, title=title, lang=scenario.lang, offline=offline_map),
                     tmp / "map.html")
            write_summary(summary, tmp / "summary.json")
        written = Path(out)
    log.info("city: %d districts, %d lockers, %d modules, %.1f%% of parcels covered, %s, "
             "in %.1f s", len(districts), totals["lockers"], totals["modules"],
             100 * totals["parcel_share_covered"], totals["status"], seconds)
    return CityPlan(summary=summary, layers=layers, districts=districts, out=written,
                    timings={"total": seconds})


def asdict_districts(scenario: Scenario) -> dict[str, Any] | None:
    """Return the district settings of a scenario as a JSON-ready dict.

    Parameters
    ----------
    scenario
        The scenario.

    Returns
    -------
    dict or None
        ``area.districts`` dumped, or ``None``.
    """
    spec = scenario.area.districts
    return None if spec is None else spec.model_dump(mode="json")


def plan_city_on_cluster(scenario: Scenario, *, out: str | Path | None = None) -> CityPlan:
    """:func:`plan_city`, with the districts in parallel when called on a Dask worker.

    Parameters
    ----------
    scenario
        A scenario with ``area.districts``.
    out
        Output folder, or ``None``.

    Returns
    -------
    CityPlan
        As :func:`plan_city`.
    """
    try:
        from distributed import get_worker, worker_client

        get_worker()
    except (ImportError, ValueError):
        return plan_city(scenario, out=out)
    with worker_client() as client:
        return plan_city(scenario, out=out, client=client)
