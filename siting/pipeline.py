"""The district locker plan, end to end: OSM in, proven plan out, map and GIS files written.

This module only orchestrates: every step is a call into :mod:`geodata`, :mod:`optimizer` or
:mod:`maps`, in that order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.area import StudyArea, study_area
from geodata.basemap import basemap_features, land_cover_from_features, with_basemap_tags
from geodata.buildings import SITING_TAGS, buildings_from_osm, read_siting_features
from geodata.candidates import candidates_from_osm
from geodata.catchments import walking_catchments
from geodata.commercial_areas import commercial_areas_from_osm
from geodata.communities import communities_from_osm
from geodata.coverage import data_coverage, require_coverage
from geodata.defaults import DemandParameters
from geodata.demand import demand_from_buildings
from geodata.distances import Reach, network_distances
from geodata.errors import OsmFileError
from geodata.fallbacks import (
    homes_from_street_grid,
    homes_from_villages,
    sites_from_street_corners,
    sites_from_villages,
)
from geodata.guards import check_area_size
from geodata.network import Network, street_lines, walk_network
from geodata.old_compounds import building_years, old_compounds
from geodata.osm import OsmExtract, read_osm
from geodata.planner_data import (
    homes_from_planner_communities,
    input_rows,
    label_demand,
    prohibit_sites,
    required_sites,
    sites_from_inventory,
)
from geodata.rural import villages_from_osm
from geodata.villages import communities_from_villages
from geodata.walking import ACCESS_CAP_M, residential_compounds
from maps.exports import export_sites
from maps.files import atomic_folder, write_candidates_csv, write_gpkg, write_summary
from maps.i18n import rule_state_label
from maps.layers import locker_layers
from maps.plan_map import LAYER_COLUMNS, plan_map, save_map
from maps.report import write_report
from optimizer.budget import SolveBudget, stage
from optimizer.compliance import (
    locker_compliance,
    rule_state,
    rule_state_counts,
    target_compliance,
    unevaluated_records,
)
from optimizer.goals import SEARCH_FACTOR, commercial_area_compliance, old_compound_compliance
from optimizer.hierarchy import check_tiers
from optimizer.hubs import HubParameters
from optimizer.lockers import (
    LockerParameters,
    LockerPlan,
    LockerProblem,
    ModelSize,
    model_size,
    solve_lockers,
)
from optimizer.rules import WALK_RADIUS_M, RuleSet, preset
from optimizer.rural import RuralParameters
from optimizer.stations import StationParameters
from siting.options import Options, PlanOptions, with_values
from siting.summary import plan_summary
from siting.tiers import run_tiers

__all__ = ["DEMO_OSM", "District", "PlanOptions", "PlanResult", "export_candidates",
           "locker_outcome", "locker_parameters", "locker_problem", "plan", "read_district",
           "run_plan", "solve_locker_tier", "write_plan", "write_plan_files"]

log = logging.getLogger(__name__)

#: The embedded default: Chengdu, Qingyang and Jinjiang districts around Tianfu Square
#: (© OpenStreetMap contributors, ODbL).
DEMO_OSM = (
    Path(__file__).resolve().parents[1] / "examples" / "data" / "chengdu_tianfu_square.osm.xz"
)

#: Files every plan folder holds (issue 3's contract); more may be added, never renamed.
OUTPUT_FILES = ("plan.gpkg", "summary.json", "candidates.csv", "map.html")
#: The planning report and site exports written beside them.
REPORT_FILES = ("report.html", "report.pdf", "report.png", "exports/")


Progress = Callable[[str, str, float], None]


@dataclass(frozen=True)
class PlanResult:
    """What :func:`plan` returns.

    Attributes
    ----------
    summary
        The content of ``summary.json``.
    layers
        The GeoPackage layers (projected CRS), keyed by layer name.
    locker_plan
        The solved model in index form.
    out
        The output folder, or ``None`` when nothing was written.
    locker_problem
        The locker model's input (homes, sites and pairs in reach), in the order of the
        ``demand`` and ``candidates`` layers.
    """

    summary: dict[str, Any]
    layers: dict[str, gpd.GeoDataFrame]
    locker_plan: LockerPlan
    out: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    locker_problem: LockerProblem | None = None


class _Stages:
    """Times each stage and reports it to the caller's progress callback."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()

    def done(self, name: str, what: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._t, 3)
        self._t = now
        log.info("%s: %s (%.2f s)", name, what, self.timings[name])
        if self.progress is not None:
            self.progress(name, what, self.timings[name])


def plan(
    osm: str | Path,
    *,
    boundary: str | Path | None = None,
    boundary_crs: Literal["auto", "wgs84", "gcj02"] | None = None,
    out: str | Path | None = None,
    radius_m: float | None = None,
    mode: Literal["min-cost", "max-cover"] | None = None,
    budget: int | None = None,
    budget_kind: Literal["modules", "sites"] | None = None,
    time_limit: float | None = None,
    work_limit: int | None = None,
    solver: Literal["highs", "cbc"] | None = None,
    rules: str | None = None,
    lang: Literal["zh", "en"] | None = None,
    offline_map: bool | None = None,
    demand_params: DemandParameters | None = None,
    locker_params: LockerParameters | None = None,
    rule_overrides: Mapping[str, Any] | None = None,
    communities: gpd.GeoDataFrame | None = None,
    inventory: gpd.GeoDataFrame | None = None,
    tiers: Sequence[str] | None = None,
    county_centre: tuple[float, float] | None = None,
    hub_sites: gpd.GeoDataFrame | None = None,
    hub_params: HubParameters | None = None,
    basemap: str | None = None,
    tianditu_key: str | None = None,
    progress: Progress | None = None,
    solve_budget: SolveBudget | None = None,
    station_params: StationParameters | None = None,
    rural_params: RuralParameters | None = None,
    settings: Options | Mapping[str, Any] | None = None,
    district: str | None = None,
    demand_mode: Literal["buildings", "communities"] | None = None,
) -> PlanResult:
    """Plan smart parcel lockers (and the tiers asked for) for one district.

    The keyword face of :func:`run_plan`: the options become one :class:`PlanOptions`. Every
    option is declared, with its default, unit and bounds, in :class:`siting.options.Options`;
    a keyword left at ``None`` keeps the value of ``settings`` (else the model's default).

    Parameters
    ----------
    osm
        OpenStreetMap file: ``.osm``, ``.osm.bz2``, ``.osm.xz`` or ``.osm.pbf``.
    boundary
        GeoJSON or GPKG polygon to clip to; ``None`` for the file's ``<bounds>``.
    boundary_crs
        Datum of the boundary: ``{"auto", "wgs84", "gcj02"}``.
    out
        Output folder (written atomically); ``None`` to write nothing.
    radius_m
        Longest walk from home to locker (GB 50180-2018 5-minute circle: 300 m).
    mode
        ``{"min-cost", "max-cover"}``.
    budget
        New modules (or sites, per ``budget_kind``) allowed in ``max-cover`` mode.
    budget_kind
        ``{"modules", "sites"}``.
    time_limit
        Solver seconds of the whole run, shared by the locker phases and the tiers in the
        order they are solved (:mod:`optimizer.budget`); ``solve_budget`` replaces it.
    work_limit
        Branch-and-bound nodes of each MIP solve (``None``: none): the plan then does not
        depend on the machine's speed or load, and ``time_limit`` is each solve's safety
        limit (:mod:`optimizer.budget`); ``solve_budget`` replaces it.
    solver
        ``{"highs", "cbc"}``.
    rules
        Rules preset: ``{"national", "guangdong", "shanxi", "zhengzhou", "xinyang"}``.
    lang
        Language of the map: ``{"zh", "en"}``.
    offline_map
        Inline Leaflet in ``map.html`` (works with no network).
    demand_params, locker_params
        Model parameters; documented defaults when ``None``.
    rule_overrides
        Rule values replacing the preset's, e.g. ``{"R2": (1.0, 1.2)}``.
    communities
        A planner's community table (:func:`geodata.user_inputs.read_communities`): it labels
        the OSM buildings and gives them its residents (``demand_mode``).
    inventory
        A planner's existing lockers and stations (:func:`geodata.user_inputs.read_inventory`).
    tiers
        Tiers to plan: ``lockers`` always, plus any of ``{"stations", "villages",
        "townships", "hubs"}``, solved in that sequence.
    county_centre
        WGS84 ``(lon, lat)`` of a given county centre for the ``hubs`` tier (R5); ``None``
        lets the model place it.
    hub_sites
        A planner's hub sites (:func:`geodata.user_inputs.read_hub_sites`) for the ``hubs``
        tier, with their capacity and cost where given.
    hub_params
        Hub model parameters (:class:`optimizer.hubs.HubParameters`), e.g. ``county_hubs``,
        the number of hubs the planner asks for (R5); documented defaults when ``None``.
    basemap
        Map tiles: ``{"osm", "gaode", "tianditu", "none"}`` (Gaode shifts drawing to GCJ-02).
    tianditu_key
        Tianditu key (else the ``TIANDITU_KEY`` environment variable).
    progress
        Called as ``progress(stage, what, seconds)`` after each stage.
    solve_budget
        The run's solver budget, with its stop flag and live progress callable
        (:class:`optimizer.budget.SolveBudget`); ``None`` for one of ``time_limit`` seconds.
    station_params, rural_params
        Station and rural tier parameters (:class:`optimizer.stations.StationParameters`,
        :class:`optimizer.rural.RuralParameters`), e.g. the 500 m station and 300 m cargo radii.
    settings
        Every option as an :class:`siting.options.Options`, or a mapping of dotted paths (or
        groups) to values, e.g. ``{"stations.radius_m": 400}``; the keywords above override it.
    district
        The feature of a boundary file of several districts to plan, by name or adcode
        (``"all"``: their union); required for such a file (:func:`geodata.area.study_area`).
    demand_mode
        ``{"buildings", "communities"}``: with a community table, ``"buildings"`` keeps the OSM
        buildings and labels and weights them with the table
        (:func:`geodata.planner_data.label_demand`); ``"communities"`` replaces them with the
        table's communities (:func:`geodata.planner_data.homes_from_planner_communities`).

    Returns
    -------
    PlanResult
        Summary, layers and the solved plan.

    Raises
    ------
    geodata.errors.SitingError
        Any input, parameter, solver or output problem, with a message naming the fix; an
        unknown option names the nearest valid one.
    """
    base = settings if isinstance(settings, Options) or settings is None else with_values(
        None, settings, source="settings")
    keywords = {k: v for k, v in locals().items()
                if k not in ("osm", "out", "progress", "solve_budget", "settings", "base")}
    options = PlanOptions(base, **keywords)
    return run_plan(osm, options, out=out, progress=progress, solve_budget=solve_budget)


def run_plan(
    osm: str | Path,
    options: PlanOptions,
    *,
    extract: OsmExtract | None = None,
    area: StudyArea | None = None,
    owned: shapely.Geometry | None = None,
    out: str | Path | None = None,
    progress: Progress | None = None,
    solve_budget: SolveBudget | None = None,
) -> PlanResult:
    """Run the district pipeline, one named stage after another.

    Read, study area, networks, demand, candidates, distances, lockers, tiers, compliance,
    outputs. :func:`plan`, ``siting plan``, a batch scenario and every district of a city run this.

    Parameters
    ----------
    osm
        OpenStreetMap file.
    options
        The plan's options.
    extract
        ``osm`` as already read by :func:`geodata.osm.read_osm` (a city's districts share
        one); ``None`` reads it.
    area
        A study area given by the caller (a city's district with its border buffer); ``None``
        builds it from ``options.boundary``.
    owned
        The part of ``area`` whose homes this plan serves (a city's district without its
        buffer); ``None`` for the whole area. Existing lockers outside it are left to the
        district that owns them.
    out
        Output folder (written atomically); ``None`` to write nothing.
    progress
        Called as ``progress(stage, what, seconds)`` after each stage.
    solve_budget
        The run's solver budget; ``None`` for one of ``options.time_limit`` seconds.

    Returns
    -------
    PlanResult
        Summary, layers and the solved plan.
    """
    check_tiers(options.tiers)
    rule_set = preset(options.rules, overrides=options.rule_overrides)
    lp = locker_parameters(options, rule_set)
    stages = _Stages(progress)
    d = read_district(osm, options, extract=extract, area=area, owned=owned, stages=stages,
                      radius_m=lp.radius_m)
    if owned is None:  # a city's district counts toward the city's coverage
        require_coverage(d.area, d.walk, shapely.get_coordinates(d.demand.geometry),
                         at_least=options.settings.area.min_coverage)
    problem, reach = locker_problem(d, lp, inventory=options.inventory)
    stages.done("distances", f"{len(problem.pair_demand):,} home–site pairs within "
                f"{lp.radius_m:g} m walk")
    stages.done("model", describe_size(model_size(problem, lp)))
    run_budget = solve_budget or SolveBudget(options.time_limit, work_limit=options.work_limit)
    locker_plan = solve_locker_tier(problem, lp, options, run_budget, stages)
    layers, records, target = locker_outcome(d, problem, reach, locker_plan, lp, rule_set)
    tier_summary: dict[str, Any] = {}
    if set(options.tiers) - {"lockers"}:
        with run_budget:
            done = run_tiers(options.tiers, extract=d.extract, area=d.area, walk=d.walk,
                             demand=d.demand.assign(
                                 locker_id=layers["demand"]["locker_id"].to_numpy()),
                             lockers=layers["lockers"], communities=d.communities,
                             candidates=d.candidates, rules=rule_set, solver=options.solver,
                             time_limit=options.time_limit, county_centre=options.county_centre,
                             hub_sites=options.hub_sites, hub_params=options.hub_params,
                             station_params=options.station_params,
                             rural_params=options.rural_params)
        layers.update(done.layers)
        records.extend(done.records)
        tier_summary = done.summary
        stages.done(
            "tiers", ", ".join(f"{k}: {v.get('status', '')}" for k, v in tier_summary.items())
        )
    records.extend(_goal_records(d, rule_set, locker_plan, layers, radius_m=lp.radius_m))
    records.extend(unevaluated_records(rule_set, records, tiers=tuple(options.tiers)))
    summary = plan_summary(
        locker_plan, problem, layers, parameters=_parameters(osm, options), lp=lp,
        dp=options.demand_params, records=records,
        rules_applied=rule_set.as_records(), walk_nodes=d.walk.n_nodes,
        walk_edges=d.walk.n_edges)
    summary.update(tiers=tier_summary, target_2025=target, time_budget=run_budget.as_record())
    summary["study_area"] = data_coverage(
        d.area, d.walk, shapely.get_coordinates(d.demand.geometry)).as_record()
    stages.done("compliance", ", ".join(f"{n} {state}" for state, n in
                                        rule_state_counts(records).items())
                + f" of {len(records)} rule checks")
    summary.update(demand_source=d.demand_source, timings_s=dict(stages.timings))
    summary["input_rows"] = input_rows(
        d.area, d.demand, d.candidates, communities=options.communities,
        inventory=options.inventory, hub_sites=options.hub_sites, prohibited=d.prohibited,
        opened=dict(zip(d.candidates["site_id"].to_numpy()[locker_plan.sites],
                        locker_plan.modules.tolist(), strict=True)),
        hubs_planned="hubs" in options.tiers)
    written = None
    if out is not None:
        written = write_plan(out, layers, summary, records, options, d)
        stages.done("write", f"{written}/ ({', '.join(OUTPUT_FILES + REPORT_FILES)})")
    summary["timings_s"] = dict(stages.timings)
    return PlanResult(summary=summary, layers=layers, locker_plan=locker_plan, out=written,
                      timings=dict(stages.timings), locker_problem=problem)


def locker_parameters(options: PlanOptions, rules: RuleSet) -> LockerParameters:
    """Return the locker parameters of a plan: its radius and R2's ratio (004 五(二)).

    Parameters
    ----------
    options
        The plan's options.
    rules
        The rule set applied (R2's window, overrides included).

    Returns
    -------
    LockerParameters
        ``options.locker_params`` (or the defaults) with ``radius_m`` and ``ratio`` set.
    """
    base = options.locker_params
    r2 = rules.get("R2")
    ratio = base.ratio if r2 is None else (r2.low, r2.high)
    return replace(base, radius_m=float(options.radius_m), ratio=ratio)


def _parameters(osm: str | Path, options: PlanOptions) -> dict[str, Any]:
    """Return the run's options as recorded in ``summary.json["parameters"]``."""
    return {
        "osm": str(osm),
        "boundary": None if options.boundary is None else str(options.boundary),
        "district": options.district,
        "mode": options.mode, "budget": options.budget, "budget_kind": options.budget_kind,
        "solver": options.solver, "time_limit": options.time_limit,
        "work_limit": options.work_limit, "rules": options.rules,
        "tiers": list(options.tiers), "options": options.settings.record(),
    }


def locker_problem(d: District, lp: LockerParameters, *,
                   inventory: gpd.GeoDataFrame | None = None) -> tuple[LockerProblem, Reach]:
    """Build the locker model's input: walking distances of every home–site pair in reach.

    Parameters
    ----------
    d
        The district.
    lp
        Locker parameters (``radius_m``, ``existing_capacity``).
    inventory
        The planner's inventory: its required sites (必选) are forced open.

    Returns
    -------
    problem : LockerProblem
        Arrays of the homes, sites and pairs within the walk radius.
    reach : geodata.distances.Reach
        The pairs with the street and access parts of each walk (:mod:`geodata.walking`).
    """
    reach = network_distances(d.walk, shapely.get_coordinates(d.demand.geometry),
                              shapely.get_coordinates(d.candidates.geometry),
                              radius_m=lp.radius_m,
                              compounds=residential_compounds(d.features, d.area))
    capacity = d.candidates["capacity_compartments"].to_numpy(dtype=float)
    problem = LockerProblem(
        daily_parcels=d.demand["daily_parcels"].to_numpy(dtype=float),
        pair_demand=reach.rows,
        pair_site=reach.cols,
        pair_walk_m=reach.dist_m,
        n_sites=len(d.candidates),
        existing=d.candidates["existing"].to_numpy(dtype=bool),
        existing_capacity=np.where(np.isnan(capacity), lp.existing_capacity, capacity),
        forced=required_sites(d.candidates, inventory),
        # R2 per community (004 五(二)) on mapped communities; road-block stand-ins per locker
        community=d.demand["community"].where(d.demand["community"].isin(
            d.communities.loc[d.communities["source"] != "road-block", "community"])).to_numpy(),
    )
    return problem, reach


def solve_locker_tier(problem: LockerProblem, lp: LockerParameters, options: PlanOptions,
                      run_budget: SolveBudget, stages: _Stages) -> LockerPlan:
    """Solve the locker model within the run's budget (stage ``solve``)."""
    with run_budget, stage("lockers"):
        locker_plan = solve_lockers(problem, lp, mode=options.mode, budget=options.budget,
                                    budget_kind=options.budget_kind, solver=options.solver,
                                    time_limit=options.time_limit)
    locker_plan = _stopped_status(locker_plan, run_budget)
    gap = "unknown" if locker_plan.gap is None else format(locker_plan.gap, ".2%")
    stages.done("solve", f"{locker_plan.status}: {len(locker_plan.sites)} lockers, "
                f"{int(locker_plan.modules.sum())} modules, gap {gap}")
    return locker_plan


def locker_outcome(
    d: District, problem: LockerProblem, reach: Reach, locker_plan: LockerPlan,
    lp: LockerParameters, rules: RuleSet,
) -> tuple[dict[str, gpd.GeoDataFrame], list[dict], dict | None]:
    """Return the locker tier's layers, rule records (R2, the 2025 target) and target share.

    Parameters
    ----------
    d
        The district.
    problem, locker_plan
        The locker model and its solution.
    reach
        Its pairs (:func:`locker_problem`): the walks' parts, and the homes off the streets.
    lp
        Locker parameters.
    rules
        The rule set applied.

    Returns
    -------
    tuple
        Layers (with ``catchments``), records, and the 2025 target share (or ``None``).
    """
    community = d.demand["community"].to_numpy()
    names = dict(zip(d.communities["community"], d.communities["name"], strict=True))
    reasons, reasons_zh = reach.off_street_reasons(locker_plan.reasons, locker_plan.reasons_zh)
    locker_plan = replace(locker_plan, reasons=reasons, reasons_zh=reasons_zh)
    layers = locker_layers(locker_plan, demand=d.demand, candidates=d.candidates,
                           communities=d.communities, boundary=d.area.projected, reach=reach)
    records = locker_compliance(locker_plan, rules, daily_parcels=problem.daily_parcels,
                                community=community, community_names=names)
    target_records, target = target_compliance(
        rules, residents=float(d.demand["residents"].sum()), units=len(locker_plan.sites),
        compartments=float(locker_plan.compartments.sum()))
    records.extend(target_records)
    layers["catchments"] = walking_catchments(
        d.walk, shapely.get_coordinates(d.candidates.geometry)[locker_plan.sites],
        radius_m=lp.radius_m,
        site_ids=list(d.candidates["site_id"].to_numpy()[locker_plan.sites]))
    return layers, records, target


def write_plan(out: str | Path, layers: dict[str, gpd.GeoDataFrame], summary: dict[str, Any],
               records: list[dict], options: PlanOptions, d: District) -> Path:
    """Write a plan's folder atomically: the plan files, the report and the site exports.

    Parameters
    ----------
    out
        The output folder.
    layers, summary, records
        The plan's layers, summary and rule records.
    options
        The plan's options (language, map tiles).
    d
        The district (its name and street lines for the exports).

    Returns
    -------
    pathlib.Path
        The folder.
    """
    title = _title(d.area.name, options.lang)
    with atomic_folder(out) as tmp:
        write_plan_files(tmp, layers, summary, title=title, lang=options.lang,
                         offline_map=options.offline_map, rules=_map_rules(records, options.lang),
                         basemap=options.basemap, tianditu_key=options.tianditu_key,
                         base_features=d.basemap)
        write_report(summary, layers, tmp, lang=options.lang, title=title)
        roads = street_lines(d.walk)
        for name in ("lockers", "candidates"):
            export_sites(layers[name], tmp / "exports", stem=name, roads=roads)
    return Path(out)


def write_plan_files(folder: Path, layers: dict[str, gpd.GeoDataFrame], summary: dict[str, Any],
                     *, title: str, lang: Literal["zh", "en"], offline_map: bool = True,
                     rules: dict[str, str] | None = None, basemap: str = "osm",
                     tianditu_key: str | None = None,
                     base_features: gpd.GeoDataFrame | None = None) -> None:
    """Write :data:`OUTPUT_FILES` of a plan or a city into ``folder``.

    Parameters
    ----------
    folder
        The (temporary, atomic) output folder.
    layers, summary
        The plan's layers and summary.
    title, lang, offline_map, rules, basemap, tianditu_key
        The map's title, language, inlined Leaflet, legend lines per rule and tiles.
    base_features
        The offline basemap drawn from the extract (``None``: none).
    """
    write_gpkg(layers, folder / "plan.gpkg")
    write_candidates_csv(layers["candidates"], folder / "candidates.csv")
    fmap = plan_map(_map_layers(layers), title=title, lang=lang, offline=offline_map,
                    rules=rules, basemap=basemap, tianditu_key=tianditu_key,
                    base_features=base_features)
    save_map(fmap, folder / "map.html")
    write_summary(summary, folder / "summary.json")


@dataclass(frozen=True)
class District:
    """The inputs of every tier: study area, walking network, demand and candidate sites."""

    extract: OsmExtract
    area: StudyArea
    walk: Network
    demand: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    demand_source: str
    features: gpd.GeoDataFrame
    basemap: gpd.GeoDataFrame | None = None
    #: What each prohibited inventory row removed (:func:`geodata.planner_data.prohibit_sites`).
    prohibited: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_district(
    osm: str | Path,
    options: PlanOptions,
    *,
    extract: OsmExtract | None = None,
    area: StudyArea | None = None,
    owned: shapely.Geometry | None = None,
    stages: _Stages | None = None,
    radius_m: float = WALK_RADIUS_M,
) -> District:
    """Read the OSM file once and build the study area, network, demand and candidate sites.

    Every stage reads the one in-memory extract (:class:`geodata.osm.OsmExtract`), never the
    file again.

    Parameters
    ----------
    osm
        OpenStreetMap file.
    options
        The plan's options (boundary, demand parameters, planner's tables).
    extract, area, owned
        As for :func:`run_plan`.
    stages
        The stage timer (``None``: stages are only logged).
    radius_m
        Walk radius (the size guard's reach).

    Returns
    -------
    District
        The tiers' inputs.
    """
    stages = stages or _Stages(None)
    if extract is None:
        extract = read_osm(osm)
    if area is None:
        area = study_area(extract, boundary=options.boundary, boundary_crs=options.boundary_crs,
                          boundary_name=options.district)
    check_area_size(extract, area, radius_m=radius_m)
    stages.done(
        "read", f"{Path(osm).name}, area {area.projected.area / 1e6:.2f} km² ({area.source})"
    )
    margin_m = _walk_margin(options, radius_m)
    walk = walk_network(extract, area, margin_m=margin_m)
    stages.done(
        "network",
        f"{walk.n_nodes} nodes, {walk.n_edges} edges; dropped "
        f"{walk.dropped.outside_component_nodes} nodes off the largest component, "
        f"{walk.dropped.outside_area_nodes} beyond {margin_m:g} m of the area",
    )
    features = read_siting_features(extract, tags=with_basemap_tags(SITING_TAGS))
    buildings = buildings_from_osm(extract, area, features=features)
    basemap = basemap_features(area, streets=street_lines(walk), buildings=buildings,
                               land_cover=land_cover_from_features(features, area))
    params = options.demand_params
    if options.communities is not None and options.demand_mode == "communities":
        homes, communities = homes_from_planner_communities(
            options.communities, buildings, area,
            floor_area_per_resident_m2=params.floor_area_per_resident_m2)
        demand, extra_sites = demand_from_buildings(homes, communities, params), None
        demand_source = "the planner's community table"
    else:
        demand, communities, extra_sites, demand_source = _demand(
            extract, area, walk, buildings, params
        )
        if options.communities is not None:
            demand, communities = label_demand(demand, communities, options.communities, area,
                                               params)
            demand_source += ", labelled and weighted by the planner's community table"
    if owned is not None:
        demand, communities = _owned_demand(demand, communities, owned)
    stages.done(
        "demand",
        f"{len(demand)} demand points from {demand_source}, "
        f"{demand['residents'].sum():,.0f} residents, {demand['daily_parcels'].sum():,.0f} "
        f"parcels/day in {len(communities)} communities",
    )
    candidates = candidates_from_osm(extract, area, buildings, features=features)
    for more in (extra_sites, None if options.inventory is None
                 else sites_from_inventory(options.inventory, area)):
        if more is not None:
            candidates = pd.concat([candidates, more[candidates.columns]], ignore_index=True)
    if owned is not None:
        foreign = candidates["existing"].to_numpy(bool) & ~shapely.covered_by(
            candidates.geometry.to_numpy(), owned)
        candidates = candidates[~foreign].reset_index(drop=True)
    candidates, prohibited = prohibit_sites(candidates, options.inventory, area)
    stages.done(
        "candidates",
        f"{len(candidates)} sites ({int(candidates['existing'].sum())} existing lockers)",
    )
    return District(extract, area, walk, demand, communities, candidates, demand_source,
                    features, basemap, prohibited)


def _walk_margin(options: PlanOptions, radius_m: float) -> float:
    """Return how far beyond the study area the walk network reaches, in metres.

    The longest walk the plan measures (the locker radius; the stations' and cargo stations'
    when that tier is planned) or the access cap, whichever is longer: a walk from a point in
    the area, and the access leg to its nearest street, then run on the same streets as on the
    whole file (:mod:`geodata.network`, 5).
    """
    p = StationParameters()
    stations = max(p.radius_m, p.cargo_radius_m) if "stations" in options.tiers else 0.0
    return max(radius_m, stations, ACCESS_CAP_M)


def _owned_demand(demand: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
                  owned: shapely.Geometry) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Keep the homes in ``owned``, their communities, and the homeless communities in it.

    A community without homes (R1 still asks a station of it) belongs to the district holding
    its representative point.
    """
    homeless = ~communities["community"].isin(demand["community"]).to_numpy()
    demand = demand[shapely.covered_by(demand.geometry.to_numpy(), owned)].reset_index(drop=True)
    inside = shapely.covered_by(communities.geometry.representative_point().to_numpy(), owned)
    keep = communities["community"].isin(demand["community"]).to_numpy() | (homeless & inside)
    return demand, communities[keep].reset_index(drop=True)


def export_candidates(
    osm: str | Path,
    out: str | Path,
    *,
    boundary: str | Path | None = None,
    boundary_crs: Literal["auto", "wgs84", "gcj02"] | None = None,
    inventory: gpd.GeoDataFrame | None = None,
    lang: Literal["zh", "en"] | None = None,
    basemap: str | None = None,
    tianditu_key: str | None = None,
    offline_map: bool | None = None,
    progress: Progress | None = None,
) -> gpd.GeoDataFrame:
    """Export the candidate sites of a district before any optimization.

    Writes ``map.html`` (study area and candidates), ``candidates.csv`` and
    ``exports/candidates.{geojson,gpkg,kml,csv,xlsx}`` atomically into ``out``.

    Parameters
    ----------
    osm, boundary, boundary_crs, inventory, lang, basemap, tianditu_key, offline_map, progress
        As for :func:`plan` (``None``: the default of :class:`siting.options.Options`).
    out
        Output folder.

    Returns
    -------
    geopandas.GeoDataFrame
        The candidate sites (projected CRS).
    """
    stages = _Stages(progress)
    options = PlanOptions(boundary=boundary, boundary_crs=boundary_crs, inventory=inventory,
                          lang=lang, basemap=basemap, tianditu_key=tianditu_key,
                          offline_map=offline_map)
    d = read_district(osm, options, stages=stages)
    layers = {
        "boundary": gpd.GeoDataFrame(
            {"name": ["study area"]}, geometry=[d.area.projected], crs=d.area.crs
        ),
        "candidates": d.candidates,
    }
    title = (f"{d.area.name} 候选站点" if options.lang == "zh"
             else f"{d.area.name}: candidate sites")
    with atomic_folder(out) as tmp:
        write_candidates_csv(d.candidates, tmp / "candidates.csv")
        export_sites(d.candidates, tmp / "exports", stem="candidates", roads=street_lines(d.walk))
        fmap = plan_map(
            layers,
            title=title,
            lang=options.lang,
            offline=options.offline_map,
            basemap=options.basemap,
            tianditu_key=options.tianditu_key,
            base_features=d.basemap,
        )
        save_map(fmap, tmp / "map.html")
    stages.done("write", f"{out}/ (map.html, candidates.csv, exports/)")
    return d.candidates


def _demand(
    extract: OsmExtract,
    area: StudyArea,
    walk: Network,
    buildings: gpd.GeoDataFrame,
    params: DemandParameters,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame | None, str]:
    """Demand from residential buildings; else from villages; else from the street grid.

    Returns the demand, the communities, extra candidate sites of the fallback (or ``None``)
    and a description of the source.
    """
    communities = communities_from_osm(extract, area)
    if buildings["residential"].astype(bool).any():
        return demand_from_buildings(buildings, communities, params), communities, None, "buildings"
    villages = villages_from_osm(extract, area)
    if len(villages):
        communities = communities_from_villages(villages, area)
        homes = homes_from_villages(villages, params)
        return (
            demand_from_buildings(homes, communities, params),
            communities,
            sites_from_villages(villages),
            "village nodes",
        )
    homes = homes_from_street_grid(walk, area.projected, params)
    if homes.empty:
        raise OsmFileError(
            extract.path,
            "no residential buildings, no place=village nodes and no residential streets in "
            "the study area",
            "use an extract with buildings or residential roads, or a boundary that covers them",
        )
    return (
        demand_from_buildings(homes, communities, params),
        communities,
        sites_from_street_corners(walk, area.projected),
        f"a street grid at {params.residents_per_km2:,.0f} residents/km²",
    )


def _goal_records(
    d: District,
    rules: RuleSet,
    locker_plan: LockerPlan,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    radius_m: float,
) -> list[dict]:
    """G2 and G3 records (:mod:`optimizer.goals`) of the plan's lockers and stations."""
    records = []
    locker_xy = shapely.get_coordinates(d.candidates.geometry)[locker_plan.sites]
    if rules.get("G2") is not None:
        areas = commercial_areas_from_osm(d.features, d.area)
        nearest = np.full(len(areas), np.inf)
        if len(areas) and len(locker_xy):
            nearest = network_distances(d.walk, shapely.get_coordinates(areas.geometry),
                                        locker_xy, radius_m=SEARCH_FACTOR * radius_m).nearest()
        names = [n or f"{k} {i}" for n, k, i in zip(areas["name"], areas["kind"],
                                                      areas["osm_id"], strict=True)]
        records += commercial_area_compliance(rules, names=names, kinds=list(areas["kind"]),
                                              ids=list(areas["osm_id"]), nearest_m=nearest,
                                              radius_m=radius_m)
    stations = layers.get("stations")
    old = old_compounds(d.communities, d.demand, years=building_years(d.features))
    records += old_compound_compliance(
        rules, old, community=d.demand["community"].to_numpy(),
        served=locker_plan.assignment >= 0,
        stations=None if stations is None else set(stations["community"].astype(str)),
        names=dict(zip(d.communities["community"], d.communities["name"], strict=True)),
        radius_m=radius_m)
    return records


def _map_layers(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Keep the layers the plan map knows how to draw."""
    return {k: v for k, v in layers.items() if k in LAYER_COLUMNS}


def _title(name: str, lang: str) -> str:
    return f"{name} 智能快件箱布局方案" if lang == "zh" else f"{name}: smart parcel locker plan"


def _map_rules(records: list[dict], lang: str) -> dict[str, str]:
    """One legend line per rule id: the district-level record, its state in ``lang``."""
    lines: dict[str, str] = {}
    for r in records:
        if "place" not in r and r["id"] not in lines:
            state = rule_state(r)
            # a rule not judged says why; a judged one what the plan achieved
            key = "achieved" if state in ("passed", "failed") else "reason"
            text = (r.get(f"{key}_zh") if lang == "zh" else None) or r.get(key) or ""
            lines[r["id"]] = (f"{_STATE_MARK[state]} {rule_state_label(state, lang)}: "
                              f"{text} [{r['clause']}]")
    return lines


#: The legend's mark of each rule state.
_STATE_MARK = {"passed": "✓", "failed": "✗", "not evaluated": "–", "not applicable": "○"}


def describe_size(size: ModelSize) -> str:
    """Return the model's size: homes, sites, pairs, rows, columns and parts.

    No solve time is predicted: measured by ``python benchmarks/size_guard.py``, the Chengdu
    extract (2,482 home–site pairs) was proven in 4.5 s and its clipped copy (2,084 pairs) in
    69 s, more than the factor of 3 an estimate must keep (the run stops at its time limit
    whatever the size).

    Parameters
    ----------
    size
        The locker model's size (:func:`optimizer.lockers.model_size`).

    Returns
    -------
    str
        One line for the command line and the log.
    """
    return (f"{size.homes:,} homes, {size.sites:,} sites, {size.pairs:,} pairs, "
            f"{size.rows:,} rows x {size.columns:,} columns in {size.parts:,} parts "
            f"(largest {size.largest_part_pairs:,} pairs)")


def _stopped_status(locker_plan: LockerPlan, run_budget: SolveBudget) -> LockerPlan:
    """Call a plan ``interrupted`` when a stop was requested and it is not proven optimal."""
    if run_budget.stopped and locker_plan.status != "optimal":
        return replace(locker_plan, status="interrupted")
    return locker_plan
