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

What feeds the hubs
-------------------
Every tier's parcels reach a hub: the lowest rural tier planned above the villages (township
stations, each carrying its villages' parcels: county hub -> township station -> village
point, G5; else the village stations) *and* the urban one (the community end-stations with
their loads, plus, per residential community, the parcels no end-station carries, sent from
the mean point of its homes; else the homes of each community aggregated at their mean point).

Hub candidates
--------------
* The sites of :func:`geodata.hub_sites.hub_sites_from_osm`: warehouse, industrial or
  logistics land and buildings, postal depots and named sorting centres near a main road,
  never a residential building; where the data has none, drive-network nodes on trunk or
  primary roads, which the summary (``hubs.hub_sites``) says. A planner's hub-site table
  (``hub_sites``) adds its sites with their own capacity and cost; then the fallback is not
  used.
* A county centre given by the planner (``county_centre``, WGS84 lon/lat) is *the* hub
  (R5: one county warehouse-and-distribution centre, "taken as a given external point"),
  forced open; the sites above are added only when the stations send more than one hub's
  capacity. It may lie outside the extract (Puyang's county seat is north of the box): its
  distances run along the straight line to the nearest drive node and then on the network.

Open hubs whose whole daily throughput (in and out) reaches R6's threshold are flagged
``automatic_sorting``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geodata.area import StudyArea
from geodata.centres import centres_from_osm
from geodata.errors import ParameterError
from geodata.hub_sites import FALLBACK_SOURCE, hub_sites_from_osm
from geodata.network import Network, drive_network
from geodata.osm import OsmExtract
from geodata.rural import rural_places_from_osm
from optimizer.budget import stage
from optimizer.hierarchy import check_tiers
from optimizer.hubs import HubParameters, hub_problem_on_network, solve_hubs
from optimizer.milp import SolverName
from optimizer.rules import RuleSet
from optimizer.rural import RuralParameters, plan_rural, three_tier_record
from optimizer.stations import (
    StationParameters,
    plan_cargo_stations,
    plan_community_stations,
    rule_record,
)

__all__ = ["TIER_LAYERS", "TierOutputs", "run_tiers"]

log = logging.getLogger(__name__)

#: GeoPackage layers each tier writes (a contract: never renamed).
TIER_LAYERS: dict[str, tuple[str, ...]] = {
    "stations": ("stations", "cargo_stations"),
    "villages": ("village_stations",),
    "townships": ("township_stations",),
    "hubs": ("hubs", "hub_links"),
}
_REUSED = ("express_shop", "post_office")


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


def _tier_summary(
    status: str,
    *,
    objective: float | None = None,
    bound: float | None = None,
    gap: float | None = None,
    solve_s: float = 0.0,
    counts: dict[str, Any] | None = None,
    records: Sequence[dict] = (),
    **extra: Any,
) -> dict[str, Any]:
    problems = [
        f"{r['id']} {r.get('place', '')}: {r.get('reason') or r['achieved']}".replace("  ", " ")
        for r in records
        if not r["passed"] and "place" in r
    ]
    return {"status": status, "objective": objective, "bound": bound, "gap": gap,
            "solve_s": round(float(solve_s), 3), "counts": counts or {}, "problems": problems,
            **extra}


def _not_applicable(rules: RuleSet, rule_id: str, required: str, why: str) -> dict:
    rule = rules.get(rule_id)
    if rule is None:
        return {}
    return rule_record(rule, required=required, achieved="not applicable", passed=True,
                       reason=f"not applicable: {why}", applicable=False)


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
        The locker tier's demand points, communities and candidate sites (``area.crs``).
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
            drive = drive_network(extract, area)
            log.info("tiers: drive network %d nodes, %d edges (%.2f s)", drive.n_nodes,
                     drive.n_edges, time.perf_counter() - t0)
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
                  communities=communities, rules=rules, centre_xy=centre_xy,
                  params=hub_params, hub_sites=hub_sites, solver=solver, time_limit=time_limit)
    return out


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
    source = (communities["source"] if "source" in communities.columns
              else pd.Series("", index=communities.index))
    urban = communities[(source != "village-voronoi").to_numpy()]
    crs = candidates.crs
    if urban.empty:
        rec = _not_applicable(rules, "R1", "a >= 15 m2 end-station in each residential community",
                              "the area has no residential community (社区); its villages are "
                              "served by the villages tier")
        out.records.extend([rec] if rec else [])
        out.layers["stations"] = _empty(crs, ["id", "name", "community", "floor_area_m2"])
        out.summary["stations"] = _tier_summary("not applicable", counts={"communities": 0})
    else:
        sp = plan_community_stations(demand, urban, candidates, walk, rules, params=params,
                                     solver=solver, time_limit=time_limit)
        st = sp.stations
        names = candidates.drop_duplicates("site_id").set_index("site_id")["name"]
        out.layers["stations"] = gpd.GeoDataFrame({
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
        }, geometry=st.geometry.values, crs=crs)
        out.records.extend(sp.records)
        npass = int(sp.communities["passed"].sum())
        out.summary["stations"] = _tier_summary(
            sp.status, objective=sp.objective, bound=sp.bound, gap=sp.gap, solve_s=sp.solve_s,
            counts={"communities": len(sp.communities), "communities_passing_r1": npass,
                    "stations": len(st), "reused": int(st["reused"].sum())},
            records=sp.records)
    centres = centres_from_osm(extract, area)
    used = tuple(out.layers["stations"]["site_id"]) if "site_id" in out.layers["stations"] else ()
    if centres.empty:
        rec = _not_applicable(rules, "R7", "a cargo station at each neighbourhood centre",
                              "the data identifies no neighbourhood centre (place=neighbourhood"
                              "|quarter, amenity=marketplace)")
        out.records.extend([rec] if rec else [])
        cargo_records: list[dict] = []
        out.layers["cargo_stations"] = _empty(crs, ["id", "name", "centre", "floor_area_m2"])
    else:
        cargo = plan_cargo_stations(centres, candidates, walk, rules, params=params, exclude=used)
        cs = cargo.stations
        out.layers["cargo_stations"] = gpd.GeoDataFrame({
            "id": [f"cs-{c}" for c in cs["centre_id"]],
            "name": [f"{c or i} 快递货物集散站"
                     for c, i in zip(cs["centre"], cs["centre_id"], strict=True)],
            "centre_id": cs["centre_id"], "centre": cs["centre"], "site_id": cs["site_id"],
            "kind": cs["kind"], "reused": cs["kind"].isin(_REUSED).to_numpy(),
            "existing": cs["kind"].isin(_REUSED).to_numpy(),
            "floor_area_m2": cs["floor_area_m2"], "walk_m": cs["walk_m"],
        }, geometry=cs.geometry.values, crs=crs)
        cargo_records = cargo.records
        out.records.extend(cargo_records)
    out.summary["cargo_stations"] = _tier_summary(
        "rule-based", counts={"centres": len(centres),
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
        why = "the area maps no place=village node (administrative village)"
        for tier, rid, req in (("villages", "R3", "1–2 stations per administrative village"),
                               ("townships", "R4", "1 station per township")):
            if tier in tiers:
                rec = _not_applicable(rules, rid, req, why)
                out.records.extend([rec] if rec else [])
                layer = TIER_LAYERS[tier][0]
                out.layers[layer] = _empty(crs, ["id", "name", "daily_parcels"])
                out.summary[tier] = _tier_summary("not applicable", reason=why)
        return
    rp = plan_rural(villages, townships, network, rules, candidates=candidates, params=params)
    tnames = dict(zip(townships["township_id"], townships["name"], strict=True))
    vs, ts = rp.village_stations, rp.township_stations
    if "villages" in tiers:
        out.layers["village_stations"] = gpd.GeoDataFrame({
            "id": vs["station_id"],
            "name": [f"{v} 村级寄递物流综合服务站" + (f" {r}" if r > 1 else "")
                     for v, r in zip(vs["village"], vs["rank"], strict=True)],
            "village_id": vs["village_id"], "village": vs["village"],
            "township_id": vs["township"], "township": vs["township"].map(tnames).fillna(""),
            "rank": vs["rank"].astype(int), "daily_parcels": vs["daily_parcels"],
            "site_id": vs["site_id"], "kind": vs["site_kind"],
            "existing": vs["site_kind"].isin(_REUSED).to_numpy(), "placed_by": vs["placed_by"],
        }, geometry=vs.geometry.values, crs=crs)
        recs = [r for r in rp.records if r["id"] in ("R3", "G4")]
        out.records.extend(recs)
        nv = int((villages["place"] == "village").sum())
        out.summary["villages"] = _tier_summary(
            "rule-based", records=recs, method="R3 count per village from its parcels; sites by "
            "reuse order, else the village node; a second at the far end of the village",
            unreached=rp.unreached,
            counts={"villages": nv, "hamlets": int((villages["place"] == "hamlet").sum()),
                    "village_stations": len(vs),
                    "villages_with_two": int((vs["rank"] == 2).sum())})
    if "townships" in tiers:
        out.layers["township_stations"] = gpd.GeoDataFrame({
            "id": ts["station_id"],
            "name": [f"{t} 乡镇快递综合服务站" for t in ts["township"]],
            "township_id": ts["township_id"], "township": ts["township"],
            "daily_parcels": ts["daily_parcels"], "site_id": ts["site_id"],
            "kind": ts["site_kind"], "existing": ts["site_kind"].isin(_REUSED).to_numpy(),
            "placed_by": ts["placed_by"],
        }, geometry=ts.geometry.values, crs=crs)
        recs = [r for r in rp.records if r["id"] == "R4"]
        out.records.extend(recs)
        out.summary["townships"] = _tier_summary(
            "rule-based", records=recs, method="seat (reusing a candidate near it), else the "
            "drive-network 1-median of its villages (exact by enumeration)",
            counts={"townships": len(townships), "with_seat": int(townships["has_seat"].sum()),
                    "township_stations": len(ts)})
    log.info("tiers: %d village stations, %d township stations (%.2f s)", len(vs), len(ts),
             time.perf_counter() - t0)


def _feeders(
    out: TierOutputs, demand: gpd.GeoDataFrame, communities: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, list[str], list[str], str]:
    """Points sending parcels to hubs: xy, daily parcels, ids, names and the tiers they are.

    The rural tier (township stations, else village stations) and, always, the urban one: the
    community end-stations with the parcels no end-station carries, else the homes of each
    residential community (not a village of the demand model's fallback).
    """
    xy, parcels, ids, names, tiers = [], [], [], [], []
    for layer in ("township_stations", "village_stations"):
        frame = out.layers.get(layer)
        if frame is not None and len(frame):
            xy.extend(np.c_[frame.geometry.x, frame.geometry.y])
            parcels.extend(frame["daily_parcels"].to_numpy(float))
            ids.extend(frame["id"])
            names.extend(frame["name"])
            tiers.append(layer)
            break
    st = out.layers.get("stations")
    st = st if st is not None and len(st) else None
    if st is not None:
        xy.extend(np.c_[st.geometry.x, st.geometry.y])
        parcels.extend(st["daily_parcels"].to_numpy(float))
        ids.extend(st["id"])
        names.extend(st["name"])
    carried = st.groupby("community")["daily_parcels"].sum() if st is not None else pd.Series()
    source = (communities["source"] if "source" in communities.columns
              else pd.Series("", index=communities.index))
    urban = set(communities.loc[(source != "village-voronoi").to_numpy(), "community"])
    homes = demand[demand["community"].isin(urban).to_numpy() | (not tiers and not urban)]
    pts = homes.assign(_x=homes.geometry.x, _y=homes.geometry.y,
                       community=homes["community"].fillna("").astype(str))
    before = len(ids)
    for k, grp in pts.groupby("community", sort=True):
        rest = float(grp["daily_parcels"].sum()) - float(carried.get(k, 0.0))
        if rest > 1e-6:
            xy.append(np.array([grp["_x"].mean(), grp["_y"].mean()]))
            parcels.append(rest)
            cname = grp["community_name"].iloc[0] if "community_name" in grp else k
            ids.append(f"homes-{k or 'none'}")
            names.append(f"homes of {cname or 'no community'}")
    if st is not None or len(ids) > before:
        tiers.append("stations" if st is not None else "homes")
    return (np.asarray(xy, float).reshape(-1, 2), np.asarray(parcels, float), ids, names,
            "+".join(tiers))


def _hubs(
    out: TierOutputs,
    *,
    extract: OsmExtract,
    area: StudyArea,
    network: Network,
    demand: gpd.GeoDataFrame,
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
    sxy, parcels, sids, snames, fed_by = _feeders(out, demand, communities)
    sites = hub_sites_from_osm(extract, area, network, inventory=hub_sites)
    if centre_xy is not None:
        given = gpd.GeoDataFrame({"site_id": ["county-centre-given"],
                                  "name": ["县级分拨中心（规划给定）"],
                                  "source": ["county-centre-given"]},
                                 geometry=gpd.points_from_xy([centre_xy[0]], [centre_xy[1]]),
                                 crs=area.crs)
        # the given county centre is the hub (R5); other sites only when it cannot sort all
        fits = parcels.sum() * (1.0 + p.outbound_ratio) <= p.capacity
        sites = pd.concat([given] if fits else [given, sites], ignore_index=True)
    hnames = [str(n) for n in sites["name"]]
    hsource = [str(k) for k in sites["source"]]
    forced = [k == "county-centre-given" for k in hsource]
    hxy = list(np.c_[sites.geometry.x, sites.geometry.y])
    cap = sites["capacity"].to_numpy(float) if "capacity" in sites else None
    fixed = sites["fixed_cost"].to_numpy(float) if "fixed_cost" in sites else None
    hub_xy = np.asarray(hxy, float).reshape(-1, 2)
    problem = hub_problem_on_network(sxy, parcels, hub_xy, network, params=p, forced=forced,
                                     capacity=cap, fixed_cost=fixed,
                                     station_names=tuple(snames), hub_names=tuple(hnames))
    hp = solve_hubs(problem, rules, params=p, place=area.name, solver=solver,
                    time_limit=time_limit)
    open_h = hp.open_hubs
    hub_id = {j: f"hub-{i + 1:02d}" for i, j in enumerate(open_h)}
    served = np.bincount(hp.assignment[hp.assignment >= 0], minlength=problem.n_hubs)
    out.layers["hubs"] = gpd.GeoDataFrame({
        "id": [hub_id[j] for j in open_h], "name": [hnames[j] for j in open_h],
        "source": [hsource[j] for j in open_h], "forced": [forced[j] for j in open_h],
        "county_centre": _county_centre_flags(open_h, forced, hp.throughput),
        "daily_parcels": hp.load[open_h], "throughput": hp.throughput[open_h],
        "stations": served[open_h],
        "automatic_sorting": hp.automatic_sorting[open_h].astype(bool),
        "capacity": problem.capacity[open_h],
    }, geometry=gpd.points_from_xy(hub_xy[open_h, 0], hub_xy[open_h, 1]), crs=area.crs)
    km = {(int(s), int(h)): float(d) for s, h, d in
          zip(problem.pair_station, problem.pair_hub, problem.pair_km, strict=True)}
    a = hp.assignment
    out.layers["hub_links"] = gpd.GeoDataFrame({
        "id": [f"link-{s}" for s in sids], "station_id": sids, "station": snames,
        "hub_id": [hub_id[j] for j in a], "daily_parcels": parcels,
        "drive_km": [km[(i, int(j))] for i, j in enumerate(a)],
    }, geometry=[shapely.LineString([sxy[i], hub_xy[j]]) for i, j in enumerate(a)],
        crs=area.crs)
    recs = list(hp.records)
    vs, tsl = out.layers.get("village_stations"), out.layers.get("township_stations")
    chained = vs is not None and len(vs) and tsl is not None and len(tsl)
    if chained and fed_by == "township_stations":
        has_hub = dict(zip(sids, a >= 0, strict=True))
        g5 = three_tier_record(
            rules, vs["township_id"].to_numpy(),
            {t: bool(has_hub.get(s, False))
             for t, s in zip(tsl["township_id"], tsl["id"], strict=True)},
            place=area.name, unreached=out.summary.get("villages", {}).get("unreached", ()))
        if g5:
            recs.append(g5)
    out.records.extend(recs)
    out.summary["hubs"] = _tier_summary(
        hp.status, objective=hp.objective, bound=hp.bound, gap=hp.gap, solve_s=hp.solve_s,
        records=recs, fed_by=fed_by, parcel_km=round(hp.parcel_km, 1),
        hub_sites=_hub_sites_note(sites), outbound_ratio=p.outbound_ratio,
        vehicle_km=round(hp.vehicle_km, 1),
        counts={"candidates": problem.n_hubs, "open": len(open_h),
                "automatic_sorting": int(hp.automatic_sorting.sum()),
                "stations": problem.n_stations,
                "daily_parcels": round(float(parcels.sum()), 1),
                "throughput": round(float(hp.throughput.sum()), 1)})
    log.info("tiers: %d of %d hub candidates open for %d %s (%.2f s)", len(open_h),
             problem.n_hubs, problem.n_stations, fed_by, time.perf_counter() - t0)


def _hub_sites_note(sites: gpd.GeoDataFrame) -> str:
    """Say where the hub candidates come from, and when it is the road-node fallback."""
    counts = ", ".join(f"{v} {k}" for k, v in sites["source"].value_counts().items())
    if (sites["source"] == FALLBACK_SOURCE).all():
        return (f"{counts}: the data maps no industrial, logistics or depot site near a main "
                "road, so hubs stand at drive-network nodes on trunk or primary roads")
    return counts


def _county_centre_flags(open_h: np.ndarray, forced: list[bool], load: np.ndarray) -> list[bool]:
    """Flag the county centre (R5): the given one, else the busiest hub."""
    if any(forced[j] for j in open_h):
        return [bool(forced[j]) for j in open_h]
    top = open_h[np.argmax(load[open_h])] if len(open_h) else -1
    return [bool(j == top) for j in open_h]


def _empty(crs: Any, columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in columns},
                            geometry=gpd.GeoSeries([], crs=crs), crs=crs)
