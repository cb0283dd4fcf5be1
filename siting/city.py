"""City mode: split the city into districts, run the one district pipeline for each, merge.

Each district is a call of :func:`siting.pipeline.run_plan`, the pipeline of ``siting plan``,
with the scenario's every option (tiers, planner inputs, rules, parameters): only its study
area and the part of it whose homes it plans differ. On a Dask cluster the districts run in
parallel. The districts come from :mod:`geodata.districts` (OSM admin relations at one
``admin_level``, or a boundary file; GCJ-02 detected and converted).

Coverage across district borders (the buffer)
---------------------------------------------
Each district plans the demand it *owns*: the homes inside its polygon (a home on a shared
border goes to the first district in order). Its study area is the district polygon
**buffered by the walking radius** (``buffer_m``, default the radius), clipped to the city: a
walk of at most the radius from a home in the district never leaves that buffer, so every
locker a home could reach is a candidate, including lockers across the border. Two districts
may open the same site; the merge then adds their modules at that site. Since each district's
solution holds rule R2 per locker (compartments 1.0-1.3 x the parcels it serves, 004 五(二)),
the sum does too. An existing locker's capacity is given to the district that contains it
only, so two districts never fill the same existing compartments.

The tiers above the lockers are planned per district as in a plan of that district (each
community's station by the district owning its homes, villages and townships in the buffer,
a hub per district unless the planner asks otherwise); their layers are merged with a
``district`` column.

The city's cost and its bound
-----------------------------
The merged plan is feasible for the whole city; its cost (``objective``) is the cost of the
union of sites and modules. Its ``bound`` is a lower bound of the whole city's locker cost, and
``gap`` the gap between the two. A sum of the districts' optima is *not* such a bound: a site
shared by two districts is paid, and its modules rounded, by each of them, once in the city.
The bound is the cost-splitting relaxation of :mod:`optimizer.city_bound` (the argument is in
its docstring): each shared site's fixed and module costs are split between the districts
reaching it in proportion to their parcels in its reach, each district's split problem is
solved (on the cluster, as the districts were), and the sum of their proven bounds bounds
every plan of the whole city. ``summary["city_bound"]`` says how it was made, and each
district's entry its ``split_bound``. In ``max-cover`` mode (a budget) there is no such bound:
``bound`` and ``gap`` stay empty. Districts proven optimal alone do not make the merged plan
optimal: its ``status`` is ``optimal`` only when ``gap`` is within the solver's tolerance
(:data:`optimizer.milp.DEFAULT_GAP`), else the least settled of the districts' statuses, and
``feasible`` when each district was optimal (:func:`siting.summary.merged_status`). The tiers
above the lockers have no city-wide bound: a merged tier is never ``optimal``. The summary has
the schema of a plan's (:mod:`siting.summary`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geodata.area import ALL_DISTRICTS, StudyArea, study_area
from geodata.coverage import city_coverage
from geodata.districts import districts_from_file, districts_from_osm
from geodata.errors import InputDataError
from geodata.osm import OsmExtract, read_osm
from maps.files import atomic_folder
from maps.tier_layers import TIER_LAYERS
from optimizer.city_bound import (
    DistrictReach,
    SplitBound,
    city_lower_bound,
    split_bound,
    split_weights,
)
from optimizer.compliance import target_compliance
from optimizer.rules import preset
from siting.options import PlanOptions
from siting.pipeline import PlanResult, locker_parameters, run_plan, write_plan_files
from siting.scenario import Scenario, plan_options
from siting.summary import city_summary, worst_status

__all__ = ["CityPlan", "asdict_districts", "city_bound", "district_areas", "district_plan",
           "merge_districts", "plan_city", "plan_city_on_cluster", "split_districts"]

log = logging.getLogger(__name__)

#: Layers of the tiers, merged by putting the districts' rows together.
_STACKED = tuple(name for names in TIER_LAYERS.values() for name in names) + ("catchments",)


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


def split_districts(scenario: Scenario, *, extract: OsmExtract | None = None
                    ) -> tuple[gpd.GeoDataFrame, StudyArea]:
    """Return the districts of a city scenario, clipped to its study area.

    Parameters
    ----------
    scenario
        A scenario with ``area.districts``.
    extract
        The scenario's OSM file as already read (:func:`geodata.osm.read_osm`); ``None``
        reads it.

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
    spec = scenario.area.districts
    if spec is None:
        raise InputDataError(None, f"scenario {scenario.name!r} has no area.districts",
                             "add [area.districts] to plan a city by districts")
    if extract is None:
        extract = read_osm(scenario.area.osm)
    area = study_area(extract, boundary=scenario.area.boundary,
                      boundary_crs=scenario.area.boundary_crs, boundary_name=ALL_DISTRICTS)
    if spec.source == "osm":
        frame = districts_from_osm(extract, area, admin_level=spec.admin_level)
    else:
        frame = districts_from_file(str(spec.file), area, name_field=spec.name_field,
                                    datum=spec.datum)
    log.info("city: %d districts (%s) in %s", len(frame), spec.source, area.name)
    return frame, area


def district_areas(districts: gpd.GeoDataFrame, city: StudyArea, *, buffer_m: float
                   ) -> list[tuple[StudyArea, shapely.Geometry]]:
    """Return each district's study area (buffered, within the city) and its owned part.

    Parameters
    ----------
    districts
        From :func:`split_districts`.
    city
        The city's study area.
    buffer_m
        Border buffer (see the module docstring).

    Returns
    -------
    list of tuple
        Per district: its study area and the part of its polygon whose homes it plans (the
        polygon less the earlier districts).
    """
    geoms = list(districts.geometry)
    tree = shapely.STRtree(geoms)
    to_wgs = pyproj.Transformer.from_crs(city.crs, 4326, always_xy=True)
    out = []
    for k, (geom, name) in enumerate(zip(geoms, districts["name"], strict=True)):
        earlier = [geoms[j] for j in sorted(tree.query(geom)) if j < k]  # boxes meeting it
        owned = shapely.difference(geom, shapely.union_all(earlier)) if earlier else geom
        buffered = shapely.intersection(geom.buffer(buffer_m), city.projected)
        polygon = shapely.transform(buffered, lambda xy: np.column_stack(
            to_wgs.transform(xy[:, 0], xy[:, 1])))
        area = StudyArea(polygon=polygon, crs=city.crs, projected=buffered,
                         source=f"district {name} + {buffer_m:g} m", name=str(name))
        out.append((area, owned))
    return out


def district_plan(osm: str | Path, options: PlanOptions, area: StudyArea,
                  owned: shapely.Geometry, extract: OsmExtract | None = None
                  ) -> dict[str, Any]:
    """Plan one district with the one pipeline (:func:`siting.pipeline.run_plan`).

    Parameters
    ----------
    osm
        The city's OSM file.
    options
        The scenario's plan options.
    area, owned
        The district's study area and owned part (:func:`district_areas`).
    extract
        The city's extract (read once for all districts) or the district's part of it
        (:meth:`geodata.osm.OsmExtract.within`); ``None`` reads ``osm``.

    Returns
    -------
    dict
        ``layers`` (projected GeoDataFrames), ``summary`` (a plan's summary) and ``reach``
        (the homes it serves and the sites in their reach, for the city's bound).
    """
    result = run_plan(osm, options, extract=extract, area=area, owned=owned)
    return {"layers": result.layers, "summary": result.summary, "reach": _district_reach(result)}


def _plan_on_cluster(client: Any, plan: Any, areas: list[tuple[StudyArea, shapely.Geometry]],
                     extract: OsmExtract) -> list[dict[str, Any]]:
    """Plan the districts on a cluster, a few per worker thread in flight at a time.

    Each district's part of the extract is cut and sent when its turn comes and dropped when
    it is planned, so neither this process nor a worker holds every district's part at once.
    """
    from distributed import as_completed

    window = 2 * max(sum(client.nthreads().values()), 1)
    todo = iter(range(len(areas)))
    index: dict[Any, int] = {}

    def submit() -> Any:
        k = next(todo, None)
        if k is None:
            return None
        area, owned = areas[k]
        cut = client.scatter(extract.within(area.polygon), hash=False)
        future = client.submit(plan, area, owned, cut, pure=False)
        index[future] = k
        return future

    parts: list[dict[str, Any] | None] = [None] * len(areas)
    running = as_completed([f for f in (submit() for _ in range(window)) if f is not None])
    for future in running:
        parts[index.pop(future)] = future.result()
        follow = submit()
        if follow is not None:
            running.add(follow)
    return [p for p in parts if p is not None]


def _district_reach(result: PlanResult) -> DistrictReach:
    """Return the homes a district plan serves and their pairs in reach, sites by ``site_id``."""
    problem = result.locker_problem
    assert problem is not None, "run_plan returns its locker problem"
    served = result.locker_plan.assignment >= 0
    index = np.cumsum(served) - 1
    keep = served[problem.pair_demand]
    return DistrictReach(
        daily_parcels=problem.daily_parcels[served], pair_demand=index[problem.pair_demand[keep]],
        pair_site=problem.pair_site[keep],
        site_keys=result.layers["candidates"]["site_id"].to_numpy(dtype=object),
        existing=problem.existing, existing_capacity=problem.existing_capacity)


def city_bound(parts: list[dict[str, Any]], options: PlanOptions, *, client: Any = None
               ) -> tuple[float | None, list[SplitBound]]:
    """Return the city's lower bound on its locker cost (:mod:`optimizer.city_bound`).

    Parameters
    ----------
    parts
        :func:`district_plan` results.
    options
        The scenario's plan options (costs, R2, solver, time limit).
    client
        A ``distributed.Client`` to solve the districts' split problems in parallel, or
        ``None``.

    Returns
    -------
    bound : float or None
        The bound (``None`` in ``max-cover`` mode, or when a split problem has no bound).
    splits : list of SplitBound
        Each district's split problem (empty in ``max-cover`` mode).
    """
    if options.mode != "min-cost":
        return None, []
    lp = locker_parameters(options, preset(options.rules, overrides=options.rule_overrides))
    reaches = [p["reach"] for p in parts]
    weights = split_weights(reaches)
    solve = partial(split_bound, lp=lp, solver=options.solver, time_limit=options.time_limit,
                    work_limit=options.work_limit)
    if client is None:
        splits = [solve(r, w) for r, w in zip(reaches, weights, strict=True)]
    else:
        splits = client.gather([client.submit(solve, r, w, pure=False)
                                for r, w in zip(reaches, weights, strict=True)])
    return city_lower_bound(splits, lp), splits


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
    if {"compartments", "daily_parcels"} <= set(agg.columns):
        agg["community_ratio"] = agg["compartments"] / agg["daily_parcels"].where(
            agg["daily_parcels"] > 0)
    return gpd.GeoDataFrame(agg, geometry="geometry", crs=crs)


def _stack(parts: list[dict[str, Any]], names: list[str], key: str, crs: Any
           ) -> gpd.GeoDataFrame:
    frames = [p["layers"][key].assign(district=n)
              for p, n in zip(parts, names, strict=True) if key in p["layers"]]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)


def merge_districts(parts: list[dict[str, Any]], districts: gpd.GeoDataFrame
                    ) -> dict[str, gpd.GeoDataFrame]:
    """Merge district plans into the layers of one city plan.

    Parameters
    ----------
    parts
        :func:`district_plan` results, in the order of ``districts``.
    districts
        The districts (``district``, ``name``, polygons).

    Returns
    -------
    dict
        Merged layers: shared locker sites appear once with their modules added; every
        other layer (homes, assignments, tiers) holds each district's rows with a
        ``district`` column; ``boundary`` holds the districts.
    """
    crs = districts.crs
    names = districts["name"].tolist()
    layers: dict[str, gpd.GeoDataFrame] = {
        key: _stack(parts, names, key, crs) for key in ("demand", "assignments", "uncovered")}
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
    for key in _STACKED:
        if any(key in p["layers"] for p in parts):
            layers[key] = _stack(parts, names, key, crs)
    if "catchments" in layers:
        layers["catchments"] = layers["catchments"].drop_duplicates("site_id").reset_index(
            drop=True)
    return layers


def _city_target(options: PlanOptions, layers: dict[str, gpd.GeoDataFrame]) -> dict | None:
    """Return the city's share of its plan's 2025 locker target, on the merged plan."""
    rules = preset(options.rules, overrides=options.rule_overrides)
    lockers = layers["lockers"]
    _, target = target_compliance(rules, residents=float(layers["demand"]["residents"].sum()),
                                  units=len(lockers),
                                  compartments=float(lockers["compartments"].sum()))
    return target


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
    t0 = time.perf_counter()
    extract = read_osm(scenario.area.osm)
    districts, city = split_districts(scenario, extract=extract)
    options = plan_options(scenario)
    spec = scenario.area.districts
    buffer_m = float(options.radius_m if spec is None or spec.buffer_m is None
                     else spec.buffer_m)
    osm = scenario.area.osm
    areas = district_areas(districts, city, buffer_m=buffer_m)
    # each district gets the part of the city's elements reaching into its area, so its
    # reading stages and a worker's memory grow with the district, not with the city
    if client is None:
        parts = [district_plan(osm, options, a, o, extract.within(a.polygon)) for a, o in areas]
    else:
        parts = _plan_on_cluster(client, partial(district_plan, osm, options), areas, extract)
    layers = merge_districts(parts, districts)
    bound, splits = city_bound(parts, options, client=client)
    seconds = time.perf_counter() - t0
    summary = city_summary(
        [p["summary"] for p in parts], layers,
        districts=[{"district": d, "name": n}
                   for d, n in zip(districts["district"], districts["name"], strict=True)],
        city={"scenario": scenario.name, "radius_m": options.radius_m,
              "districts": asdict_districts(scenario)},
        target_2025=_city_target(options, layers), seconds=seconds, bound=bound)
    summary["study_area"] = city_coverage(
        [p["summary"]["study_area"] for p in parts],
        [float(shapely.area(o)) / 1e6 for _, o in areas], city,
    ).as_record()
    _add_splits(summary, splits)
    written = None
    if out is not None:
        title = (f"{city.name} 智能快件箱布局方案（{len(districts)} 个分区）"
                 if options.lang == "zh"
                 else f"{city.name}: smart parcel locker plan, {len(districts)} districts")
        with atomic_folder(out) as tmp:
            write_plan_files(tmp, layers, summary, title=title, lang=options.lang,
                             offline_map=offline_map)
        written = Path(out)
    log.info("city: %d districts, %d lockers, %d modules, %.1f%% of parcels covered, %s, "
             "in %.1f s", len(districts), summary["counts"]["lockers"],
             summary["counts"]["modules"], 100 * summary["coverage"]["parcel_share_covered"],
             summary["status"], seconds)
    return CityPlan(summary=summary, layers=layers, districts=districts, out=written,
                    timings={"total": round(seconds, 3)})


def _add_splits(summary: dict[str, Any], splits: list[SplitBound]) -> None:
    """Put how the city's bound was made, and each district's split bound, in its summary."""
    for entry, split in zip(summary["districts"], splits, strict=False):
        entry["split_bound"] = split.bound
    summary["city_bound"] = {
        "method": "cost splitting: each shared site's fixed and module costs split between the "
                  "districts reaching it by their parcels in reach; the sum of the districts' "
                  "proven bounds of their split problems (R2's upper end relaxed), rounded up "
                  "to a multiple of the cost step",
        "status": worst_status([s.status for s in splits]) if splits else "not applicable",
        "solve_s": round(sum(s.solve_s for s in splits), 3),
    }


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
