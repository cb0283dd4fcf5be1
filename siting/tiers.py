"""The last-mile hierarchy above the lockers: stations, villages, townships and hubs.

:func:`run_tiers` is pure orchestration of the domain functions, solved in a documented
**sequence**, each tier taking the tier below as fixed input:

1. ``lockers`` (solved by :func:`siting.pipeline.plan` before this module is called).
2. ``stations``: community end-stations (R1,
   :func:`optimizer.stations.plan_community_stations`, a MILP on the walking network) in
   every residential community, then neighbourhood cargo stations (R7,
   :func:`optimizer.stations.plan_cargo_stations`) at the centres
   :func:`geodata.centres.centres_from_osm` finds, at candidates the end-stations left free.
   Communities built by the village fallback of the demand model (``source ==
   "village-voronoi"``) are villages, not residential communities (社区): R1 does not apply to
   them and they are served by the ``villages`` tier.
3. ``villages`` and ``townships``: :func:`optimizer.rural.plan_rural` on the drive network
   (:func:`geodata.network.drive_network`) with the villages and townships of
   :func:`geodata.rural.rural_places_from_osm` (R3, R4, G4). An area without any
   ``place=village`` node gets a "not applicable" record instead.
4. ``hubs``: the capacitated facility location of :mod:`optimizer.hubs` (R5, R6) on the drive
   network.

Why a sequence and not one model: the tiers share no decision. A station's site does not depend
on where the hub goes (the plans fix one end-station per community, 1–2 stations per village,
one per township), and the hub model only needs the stations' points and parcels. Solving them
in turn keeps each model small and gives each tier its own bound and gap in the summary.

What feeds the hubs, and the hub candidates: :mod:`optimizer.hub_inputs`. The layers:
:mod:`maps.tier_layers`; the tier records: :mod:`optimizer.tier_records`.

Open hubs whose whole daily throughput (in and out) reaches R6's threshold are flagged
``automatic_sorting`` when the planner allows it; each states its ``sorting_capacity``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pyproj

from geodata.area import StudyArea
from geodata.centres import centres_from_osm
from geodata.errors import ParameterError
from geodata.hub_sites import hub_sites_from_osm
from geodata.network import Network, drive_network
from geodata.osm import OsmExtract
from geodata.rural import rural_places_from_osm
from geodata.tier_inputs import points_xy
from geodata.villages import VILLAGE_SOURCE
from maps.tier_layers import (
    TIER_LAYERS,
    cargo_station_layer,
    empty_layer,
    hub_layer,
    hub_link_layer,
    station_layer,
    township_station_layer,
    village_station_layer,
)
from optimizer.budget import stage
from optimizer.hierarchy import check_tiers
from optimizer.hub_inputs import (
    GIVEN_CENTRE,
    chain_record,
    county_centre_flags,
    hub_candidates,
    hub_feeders,
    hub_sites_note,
)
from optimizer.hubs import HubParameters, solve_hubs
from optimizer.milp import SolverName
from optimizer.rules import RuleSet
from optimizer.rural import RuralParameters
from optimizer.solve_record import RULE_BASED
from optimizer.stations import StationParameters, plan_cargo_stations, plan_community_stations
from optimizer.tier_records import not_applicable_record, tier_summary
from siting.tier_problems import cargo_problem, drive_hub_problem, rural_plan, station_problem

__all__ = ["TIER_LAYERS", "TierOutputs", "drive_margin_m", "run_tiers"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TierOutputs:
    """What :func:`run_tiers` adds to a plan.

    Attributes
    ----------
    layers
        GeoPackage layers (projected CRS): ``stations``, ``cargo_stations``,
        ``village_stations``, ``township_stations``, ``hubs``, ``hub_links``, for the tiers
        planned.
    records
        Compliance records (``id``, ``clause``, ``required``, ``achieved``, ``passed``, and
        ``place``/``reason`` where checked per place).
    summary
        Per tier: ``status``, ``objective``, ``bound``, ``gap``, ``solve_s``, ``counts``, and
        ``problems`` (one sentence per failed check: rule, place, what is missing).
    """

    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)
    summary: dict[str, dict] = field(default_factory=dict)


def run_tiers(
    tiers: Sequence[str],
    *,
    extract: OsmExtract,
    area: StudyArea,
    walk: Network,
    demand: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    rules: RuleSet,
    solver: SolverName = "highs",
    time_limit: float | None = 60.0,
    county_centre: tuple[float, float] | None = None,
    hub_sites: gpd.GeoDataFrame | None = None,
    station_params: StationParameters | None = None,
    rural_params: RuralParameters | None = None,
    hub_params: HubParameters | None = None,
    lockers: gpd.GeoDataFrame | None = None,
) -> TierOutputs:
    """Plan the tiers above the lockers in sequence (see the module docstring).

    Parameters
    ----------
    tiers
        Tiers of the plan, from ``{"lockers", "stations", "villages", "townships", "hubs"}``
        (``lockers`` is planned by the caller and ignored here).
    extract, area
        The OSM file and study area.
    walk
        The walking network (community and cargo stations).
    demand, communities, candidates
        The locker tier's demand points (with the ``locker_id`` serving each, when planned),
        communities and candidate sites (``area.crs``).
    rules
        The rule set applied.
    solver, time_limit
        Passed to every MILP.
    county_centre
        WGS84 ``(lon, lat)`` of a county centre the planner gives (forced open in the hub
        tier), or ``None`` to let the model place it.
    hub_sites
        The planner's hub sites (:func:`geodata.user_inputs.read_hub_sites`), candidates
        with their own capacity and cost beside those of the OSM data, or ``None``.
    station_params, rural_params, hub_params
        Model parameters; the documented defaults when ``None``.
    lockers
        The locker tier's ``lockers`` layer: the homes in no community send their parcels to
        the hubs from their locker (:func:`optimizer.hub_inputs.hub_feeders`); ``None``
        without it.

    Returns
    -------
    TierOutputs
        Layers, compliance records and a per-tier summary.

    Raises
    ------
    ParameterError
        If a tier is unknown or ``county_centre`` is not a WGS84 (lon, lat).
    InfeasiblePlanError
        When the hub tier cannot be met (a station no hub reaches, too little capacity),
        naming R5, the place and what is missing.
    SolverError
        If a solver stops without a solution.
    """
    check_tiers(tiers)
    centre_xy = None if county_centre is None else _project_centre(county_centre, area)
    out = TierOutputs()
    drive: Network | None = None

    def drive_net() -> Network:
        nonlocal drive
        if drive is None:
            t0 = time.perf_counter()
            margin_m = drive_margin_m(hub_params)
            drive = drive_network(extract, area, margin_m=margin_m)
            log.info("tiers: drive network %d nodes (%d in the area), %d edges, area grown by "
                     "%g m (%.2f s)", drive.n_nodes, int(drive.in_area.sum()), drive.n_edges,
                     margin_m, time.perf_counter() - t0)
        return drive

    if "stations" in tiers:
        with stage("stations"):
            _stations(out, demand=demand, communities=communities, candidates=candidates, walk=walk,
                      extract=extract, area=area, rules=rules, params=station_params,
                      solver=solver, time_limit=time_limit)
    if {"villages", "townships"} & set(tiers):
        with stage("rural"):
            _rural(out, tiers, extract=extract, area=area, network=drive_net(),
                   candidates=candidates, rules=rules, params=rural_params)
    if "hubs" in tiers:
        with stage("hubs"):
            _hubs(out, extract=extract, area=area, network=drive_net(), demand=demand,
                  lockers=lockers, communities=communities, rules=rules, centre_xy=centre_xy,
                  params=hub_params, hub_sites=hub_sites, solver=solver, time_limit=time_limit)
    return out


def drive_margin_m(params: HubParameters | None = None) -> float:
    """Return how far beyond the study area the drive network reaches, in metres.

    Half the longest drive the hub tier keeps (``max_drive_km``), plus 1 % for the difference
    between the edges' great-circle lengths and straight distances in the projected CRS: a
    drive of at most ``max_drive_km`` between two points of the area never runs farther than
    half of it from the area, so the cut network measures it as the whole file does
    (:mod:`geodata.network`, 5). The rural tiers' drives (a township's villages to its 1-median)
    are exact up to the same length.

    Parameters
    ----------
    params
        The hub parameters (the documented defaults when ``None``).

    Returns
    -------
    float
        The margin in metres (50,500 m at the default 100 km).
    """
    p = params or HubParameters()
    return 0.5 * p.max_drive_km * 1000.0 * _PROJECTION_SLACK


#: Allowance for straight distances in the projected CRS against great-circle edge lengths
#: (UTM's scale factor is within 0.1 % of 1 in its zone; the sphere against the ellipsoid, 0.5 %).
_PROJECTION_SLACK = 1.01


def _project_centre(centre: tuple[float, float], area: StudyArea) -> np.ndarray:
    try:
        lon, lat = (float(v) for v in centre)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"county_centre={centre!r} must be a WGS84 (lon, lat) pair, "
                             "e.g. (115.03, 35.71)") from err
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ParameterError(f"county_centre={centre!r} is not a WGS84 (lon, lat): longitude "
                             "in [-180, 180] first, latitude in [-90, 90] second")
    tr = pyproj.Transformer.from_crs("EPSG:4326", area.crs, always_xy=True)
    return np.array(tr.transform(lon, lat), dtype=float)


def _stations(
    out: TierOutputs,
    *,
    demand: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    walk: Network,
    extract: OsmExtract,
    area: StudyArea,
    rules: RuleSet,
    params: StationParameters | None,
    solver: SolverName,
    time_limit: float | None,
) -> None:
    t0 = time.perf_counter()
    source = communities["source"] if "source" in communities.columns else None
    urban = communities if source is None else communities[(source != VILLAGE_SOURCE).to_numpy()]
    crs = candidates.crs
    if urban.empty:
        out.records.extend(not_applicable_record(
            rules, "R1", "a >= 15 m2 end-station in each residential community",
            "the area has no residential community (社区); its villages are served by the "
            "villages tier"))
        out.layers["stations"] = empty_layer(crs, ["id", "name", "community", "floor_area_m2"])
        out.summary["stations"] = tier_summary("not applicable", counts={"communities": 0})
    else:
        problem = station_problem(demand, urban, candidates, walk, rules, params=params)
        sp = plan_community_stations(problem, rules, params=params, solver=solver,
                                     time_limit=time_limit)
        out.layers["stations"] = station_layer(sp.stations, candidates)
        out.records.extend(sp.records)
        out.summary["stations"] = tier_summary(
            sp.solve, counts={"communities": len(sp.communities),
                    "communities_passing_r1": int(sp.communities["passed"].sum()),
                    "communities_without_homes": int((~sp.communities["evaluated"]).sum()),
                    "stations": len(sp.stations), "reused": int(sp.stations["reused"].sum())},
            records=sp.records)
    centres = centres_from_osm(extract, area)
    used = tuple(out.layers["stations"]["site_id"]) if "site_id" in out.layers["stations"] else ()
    cargo_records: list[dict] = []
    if centres.empty:
        out.records.extend(not_applicable_record(
            rules, "R7", "a cargo station at each neighbourhood centre",
            "the data identifies no neighbourhood centre (place=neighbourhood|quarter, "
            "amenity=marketplace)"))
        out.layers["cargo_stations"] = empty_layer(crs, ["id", "name", "centre", "floor_area_m2"])
    else:
        cargo = plan_cargo_stations(cargo_problem(centres, candidates, walk, rules, params=params,
                                                  exclude=used), rules, params=params)
        out.layers["cargo_stations"] = cargo_station_layer(cargo.stations, candidates)
        cargo_records = cargo.records
        out.records.extend(cargo_records)
    out.summary["cargo_stations"] = tier_summary(
        RULE_BASED, counts={"centres": len(centres),
                              "cargo_stations": len(out.layers["cargo_stations"])},
        records=cargo_records, method="optimal matching of centres to candidates (most centres "
        "served, then reuse, then shortest walk)")
    log.info("tiers: stations %d, cargo stations %d (%.2f s)", len(out.layers["stations"]),
             len(out.layers["cargo_stations"]), time.perf_counter() - t0)


def _rural(
    out: TierOutputs,
    tiers: Sequence[str],
    *,
    extract: OsmExtract,
    area: StudyArea,
    network: Network,
    candidates: gpd.GeoDataFrame,
    rules: RuleSet,
    params: RuralParameters | None,
) -> None:
    t0 = time.perf_counter()
    villages, townships = rural_places_from_osm(extract, area)
    crs = area.crs
    if not (villages["place"] == "village").any():
        _no_villages(out, tiers, rules, crs)
        return
    rp = rural_plan(villages, townships, network, rules, candidates=candidates, params=params)
    vs, ts = rp.village_stations, rp.township_stations
    if "villages" in tiers:
        tnames = dict(zip(townships["township_id"], townships["name"], strict=True))
        out.layers["village_stations"] = village_station_layer(vs, tnames, crs)
        recs = [r for r in rp.records if r["id"] in ("R3", "G4")]
        out.records.extend(recs)
        out.summary["villages"] = tier_summary(
            rp.solve, records=recs, method="R3 count per village from its parcels; sites by "
            "reuse order, else the village node on the drive network (the village's own point "
            "where the network does not reach it); a second at the far end of the village",
            unreached=rp.unreached,
            counts={"villages": int((villages["place"] == "village").sum()),
                    "hamlets": int((villages["place"] == "hamlet").sum()),
                    "village_stations": len(vs),
                    "villages_with_two": int((vs["rank"] == 2).sum())})
    if "townships" in tiers:
        out.layers["township_stations"] = township_station_layer(ts, crs)
        recs = [r for r in rp.records if r["id"] == "R4"]
        out.records.extend(recs)
        out.summary["townships"] = tier_summary(
            rp.solve, records=recs, method="seat (reusing a candidate near it), else the "
            "drive-network 1-median of its villages (exact by enumeration)",
            counts={"townships": len(townships), "with_seat": int(townships["has_seat"].sum()),
                    "township_stations": len(ts)})
    log.info("tiers: %d village stations, %d township stations (%.2f s)", len(vs), len(ts),
             time.perf_counter() - t0)


#: The rules of the rural tiers that do not apply to an area without villages, by the tiers
#: that check them: R3 and G4 the villages, R4 the townships, G5 the three tiers together.
_RURAL_RULES: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {
    ("villages",): (("R3", "1–2 stations per administrative village"),
                    ("G4", "every administrative village reached by the drive network")),
    ("townships",): (("R4", "1 station per township"),),
    ("villages", "townships", "hubs"): (("G5", "county hub -> township station -> village "
                                         "station for every village"),),
}


def _no_villages(out: TierOutputs, tiers: Sequence[str], rules: RuleSet, crs: object) -> None:
    """Mark the rural tiers and their rules not applicable: the area maps no village."""
    why = "the area maps no place=village node (administrative village)"
    for checked_by, checks in _RURAL_RULES.items():
        if not set(checked_by) <= set(tiers):
            continue
        for rid, req in checks:
            out.records.extend(not_applicable_record(rules, rid, req, why))
        if len(checked_by) == 1:
            (tier,) = checked_by
            out.layers[TIER_LAYERS[tier][0]] = empty_layer(crs, ["id", "name", "daily_parcels"])
            out.summary[tier] = tier_summary("not applicable", reason=why)


def _hubs(
    out: TierOutputs,
    *,
    extract: OsmExtract,
    area: StudyArea,
    network: Network,
    demand: gpd.GeoDataFrame,
    lockers: gpd.GeoDataFrame | None,
    communities: gpd.GeoDataFrame,
    rules: RuleSet,
    centre_xy: np.ndarray | None,
    params: HubParameters | None,
    hub_sites: gpd.GeoDataFrame | None,
    solver: SolverName,
    time_limit: float | None,
) -> None:
    t0 = time.perf_counter()
    p = params or HubParameters()
    feeders = hub_feeders(out.layers, demand, communities, lockers)
    sites = hub_candidates(hub_sites_from_osm(extract, area, network, inventory=hub_sites),
                           centre_xy, daily_parcels=float(feeders.parcels.sum()), params=p)
    hnames = [str(n) for n in sites["name"]]
    forced = [str(k) == GIVEN_CENTRE for k in sites["source"]]
    hub_xy = points_xy(sites)
    problem = drive_hub_problem(
        feeders.xy, feeders.parcels, hub_xy, network, params=p, forced=forced,
        capacity=sites["capacity"].to_numpy(float) if "capacity" in sites else None,
        fixed_cost=sites["fixed_cost"].to_numpy(float) if "fixed_cost" in sites else None,
        station_names=tuple(feeders.names), hub_names=tuple(hnames))
    hp = solve_hubs(problem, rules, params=p, place=area.name, solver=solver,
                    time_limit=time_limit)
    open_h, a = hp.open_hubs, hp.assignment
    hub_id = {j: f"hub-{i + 1:02d}" for i, j in enumerate(open_h)}
    served = np.bincount(a[a >= 0], minlength=problem.n_hubs)
    out.layers["hubs"] = hub_layer({
        "id": [hub_id[j] for j in open_h], "name": [hnames[j] for j in open_h],
        "source": [str(sites["source"].iloc[j]) for j in open_h],
        "forced": [forced[j] for j in open_h],
        "county_centre": county_centre_flags(open_h, forced, hp.throughput),
        "daily_parcels": hp.load[open_h], "throughput": hp.throughput[open_h],
        "stations": served[open_h],
        "automatic_sorting": hp.automatic_sorting[open_h].astype(bool),
        "capacity": problem.capacity[open_h], "sorting_capacity": hp.sorting_capacity[open_h],
    }, hub_xy[open_h], area.crs)
    km = {(int(s), int(h)): float(d) for s, h, d in
          zip(problem.pair_station, problem.pair_hub, problem.pair_km, strict=True)}
    out.layers["hub_links"] = hub_link_layer({
        "id": [f"link-{s}" for s in feeders.ids], "station_id": feeders.ids,
        "station": feeders.names, "hub_id": [hub_id[j] for j in a],
        "daily_parcels": feeders.parcels,
        "drive_km": [km[(i, int(j))] for i, j in enumerate(a)],
    }, feeders.xy, hub_xy[a], area.crs)
    recs = list(hp.records)
    g5 = chain_record(rules, out.layers, feeders, a, place=area.name,
                      unreached=out.summary.get("villages", {}).get("unreached", ()))
    recs.extend([g5] if g5 else [])
    out.records.extend(recs)
    out.summary["hubs"] = tier_summary(
        hp.solve, records=recs, fed_by=feeders.fed_by, parcel_km=round(hp.parcel_km, 1),
        hub_sites=hub_sites_note(sites), outbound_ratio=p.outbound_ratio,
        vehicle_km=round(hp.vehicle_km, 1),
        counts={"candidates": problem.n_hubs, "open": len(open_h),
                "automatic_sorting": int(hp.automatic_sorting.sum()),
                "stations": problem.n_stations,
                "daily_parcels": round(float(feeders.parcels.sum()), 1),
                "throughput": round(float(hp.throughput.sum()), 1)})
    log.info("tiers: %d of %d hub candidates open for %d %s (%.2f s)", len(open_h),
             problem.n_hubs, problem.n_stations, feeders.fed_by, time.perf_counter() - t0)
