r"""Village stations (rule R3) and township stations (rule R4) on the drive network.

The model
---------
Each administrative village :math:`v` (``place=village``) gets :math:`n_v` village stations
(村级寄递物流综合服务站) with

.. math::

    n_v = \begin{cases} \max(\underline{R3}, \min(2, \overline{R3})) & d_v > T \\
                        \underline{R3} & \text{otherwise} \end{cases}

where :math:`[\underline{R3}, \overline{R3}]` is the preset's R3 range (seed 004 五(二):
每个建制村建设 1-2 个村级寄递物流综合服务站; Shanxi 003 专栏5: 原则上每个行政村设立一个, so
(1, 1)), :math:`d_v` the village's daily parcels (its own plus those of the hamlets closest to
it in its township) and :math:`T` the second-station threshold (:class:`RuralParameters`).

*Where.* The first station takes the best candidate site (an express shop or post office
before a convenience shop or community centre, then the nearest) within the village radius
whose nearest village is :math:`v`; without one, the village node snapped to the drive network.
A second station goes to the drive-network node of the village's Voronoi cell, within the
village radius, farthest from the first station (it serves the far end of the village).

Each township :math:`t` gets exactly one township station (乡镇快递综合服务站, R4: seed 003 专栏5
"1123", 004 四(三) 一乡一所): at the best candidate within the seat radius of its seat, else
the seat snapped to the drive network; when the seat is outside the extract, at the
drive-network 1-median of its villages,

.. math:: \arg\min_{k \in K_t} \textstyle\sum_{v \in t} d_v\, \mathrm{dist}(k, v),

:math:`K_t` being the drive nodes inside the township's rebuilt territory (all nodes when it
has none). A township with no seat, no village and no territory raises
:class:`~geodata.errors.InfeasiblePlanError` naming R4 and the township.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geodata.distances import network_distances
from geodata.errors import InfeasiblePlanError, ParameterError
from geodata.network import Network

from .compliance import rule_record
from .rules import RuleSet
from .solve_record import RULE_BASED, SolveRecord
from .stations import REUSE_ORDER

__all__ = ["MAX_VILLAGE_STATIONS", "RuralParameters", "RuralPlan", "plan_rural",
           "three_tier_record"]

log = logging.getLogger(__name__)

#: Most stations the model places in one village: the plans' R3 range is 1–2 (seed 004 五(二)).
MAX_VILLAGE_STATIONS = 2


@dataclass(frozen=True)
class RuralParameters:
    """Parameters of the rural tiers, each with its source.

    Attributes
    ----------
    village_residents
        Residents of an administrative village. Default 1,500: a stated assumption (China has
        about 490,000 建制村 for some 500 million rural residents, ~1,000 each; villages on
        the Henan plain are larger). OSM buildings are too sparse to count them.
    hamlet_residents
        Residents of a hamlet (自然村). Default 300, a stated assumption.
    parcels_per_resident_per_year
        Default 106: the national plan's 1,500 亿件 over 14.1 亿 residents (PLAN_RULES.md);
        an upper bound for rural areas, override with the county's figure.
    second_station_parcels
        Daily parcels above which a village gets a second station (when R3 allows 2).
        Default 500: a stated assumption, about what a 15–20 m2 village point handles.
    village_radius_m
        Straight-line reach of a village around its node. Default 1,500 m, a stated
        assumption (half the typical spacing of villages on the North China Plain).
    seat_radius_m
        Reach of a township seat for reusing a candidate site. Default 1,000 m.
    max_snap_m
        Farthest a village node or a township (its seat; else its nearest village; else its
        territory) may lie from the drive network (the largest connected part of the drive
        roads) and still be reached by it. Default 1,000 m: a
        stated assumption (a courier walks or rides the last kilometre off the road); a place
        beyond it is not reached and fails R3 or R4, G4 and G5, named.
    """

    village_residents: float = 1500.0
    hamlet_residents: float = 300.0
    parcels_per_resident_per_year: float = 106.0
    second_station_parcels: float = 500.0
    village_radius_m: float = 1500.0
    seat_radius_m: float = 1000.0
    max_snap_m: float = 1000.0

    def __post_init__(self) -> None:
        bad = [f"{k}={v!r}" for k, v in vars(self).items() if not (v >= 0 and np.isfinite(v))]
        if bad:
            raise ParameterError(f"rural parameters must be finite and >= 0: {', '.join(bad)}")

    @property
    def parcels_per_resident_per_day(self) -> float:
        """Daily parcels of one resident."""
        return self.parcels_per_resident_per_year / 365.0


@dataclass(frozen=True)
class RuralPlan:
    """Village and township stations with their compliance records.

    Attributes
    ----------
    village_stations
        One row per station: ``station_id``, ``village_id``, ``village``, ``township``,
        ``rank`` (1 or 2), ``daily_parcels`` (the village's, split evenly between its
        stations), ``site_id``, ``site_kind``, ``placed_by`` and the point.
    township_stations
        One row per township: ``station_id``, ``township_id``, ``township``,
        ``daily_parcels`` (its villages'), ``site_id``, ``site_kind``, ``placed_by``, point.
    records
        Compliance records (R3 per village and overall, R4 per township and overall, G4).
    unreached
        Villages and townships the drive network does not reach (``name (id)``); they get
        no station.
    solve
        Status (:data:`optimizer.solve_record.RULE_BASED`) and the seconds spent.
    """

    village_stations: gpd.GeoDataFrame
    township_stations: gpd.GeoDataFrame
    records: list[dict] = field(default_factory=list)
    unreached: list[str] = field(default_factory=list)
    solve: SolveRecord = SolveRecord(RULE_BASED)


def _best_site(
    point: shapely.Point, sites: gpd.GeoDataFrame | None, radius: float, allowed: np.ndarray | None
) -> pd.Series | None:
    """Return the best candidate near ``point``: reuse order first, then distance."""
    if sites is None or not len(sites):
        return None
    d = sites.distance(point).to_numpy()
    ok = d <= radius
    if allowed is not None:
        ok &= allowed
    if not ok.any():
        return None
    rank = sites["kind"].map({k: i for i, k in enumerate(REUSE_ORDER)}).fillna(99).to_numpy()
    idx = np.flatnonzero(ok)
    return sites.iloc[int(idx[np.lexsort((d[idx], rank[idx]))[0]])]


def plan_rural(
    villages: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    network: Network,
    rules: RuleSet,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    params: RuralParameters | None = None,
) -> RuralPlan:
    """Place village stations (R3) and township stations (R4).

    Parameters
    ----------
    villages
        From :func:`geodata.rural.rural_places_from_osm` (with ``township``).
    townships
        From the same call.
    network
        The drive network (:func:`geodata.network.drive_network`), same CRS.
    rules
        The preset applied (R3 range, R4).
    candidates
        Candidate sites (:func:`geodata.candidates.candidates_from_osm`), or ``None``.
    params
        :class:`RuralParameters` (the documented defaults when ``None``).

    Returns
    -------
    RuralPlan
        The stations and the compliance records.

    Raises
    ------
    InfeasiblePlanError
        If there is no administrative village (R3) or a township cannot be placed (R4).
    """
    t0 = time.perf_counter()
    params = params or RuralParameters()
    r3, r4, g4 = rules["R3"], rules["R4"], rules["G4"]
    lo, hi = int(round(r3.low)), int(round(r3.high))
    per_day = params.parcels_per_resident_per_day
    admin = villages[villages["place"] == "village"].reset_index(drop=True)
    if admin.empty:
        raise InfeasiblePlanError(
            "R3 (stations per administrative village): the area has no place=village node; "
            "give village points or use an extract that maps them"
        )
    vxy = np.c_[admin.geometry.x, admin.geometry.y]
    parcels = np.full(len(admin), params.village_residents * per_day)
    for _, h in villages[villages["place"] == "hamlet"].iterrows():
        same = (admin["township"] == h["township"]).to_numpy()
        pool = np.flatnonzero(same) if same.any() else np.arange(len(admin))
        near = pool[np.argmin(np.hypot(*(vxy[pool] - [h.geometry.x, h.geometry.y]).T))]
        parcels[near] += params.hamlet_residents * per_day
    nearest_village = cKDTree(vxy).query(network.xy)[1]
    site_village = (
        cKDTree(vxy).query(np.c_[candidates.geometry.x, candidates.geometry.y])[1]
        if candidates is not None and len(candidates)
        else None
    )
    off = network.snap(vxy)[1]
    rows, records, unreached = [], [], []
    for v, row in admin.iterrows():
        if off[v] > params.max_snap_m:
            unreached.append(f"{row['name']} ({row['village_id']})")
            records.append(rule_record(
                r3, required=f"{lo}–{hi} stations", achieved="0 stations", achieved_zh="0 个站点",
                passed=False, place=row["name"], village_id=row["village_id"],
                **_unreached_reason(float(off[v]), params.max_snap_m)))
            continue
        n = max(lo, min(2, hi)) if parcels[v] > params.second_station_parcels else lo
        allowed = None if site_village is None else site_village == v
        c = _best_site(row.geometry, candidates, params.village_radius_m, allowed)
        if c is not None:
            first = (c["site_id"], c["kind"], "candidate", c.geometry)
        else:
            node = int(network.snap(vxy[v : v + 1])[0][0])
            first = (f"drive-node/{network.node_ids[node]}", "drive_node", "village-node",
                     shapely.Point(network.xy[node]))
        placed = [first]
        if n >= 2:
            cell = np.flatnonzero(
                (nearest_village == v)
                & (np.hypot(*(network.xy - vxy[v]).T) <= params.village_radius_m)
            )
            far = np.hypot(*(network.xy[cell] - [first[3].x, first[3].y]).T)
            if len(cell) and far.max() > 0:
                node = int(cell[np.argmax(far)])
                placed.append((f"drive-node/{network.node_ids[node]}", "drive_node",
                               "far-end-of-village", shapely.Point(network.xy[node])))
        for rank, (site, kind, how, pt) in enumerate(placed, start=1):
            rows.append((f"vs-{row['osm_id']}-{rank}", row["village_id"], row["name"],
                         row["township"], rank, parcels[v] / len(placed), site, kind, how, pt))
        got = len(placed)
        records.append(rule_record(
            r3, required=f"{lo}–{hi} stations", achieved=f"{got} station(s) for "
            f"{parcels[v]:.0f} parcels/day", achieved_zh=f"{got} 个站点，日均 {parcels[v]:.0f} 件",
            passed=lo <= got <= hi, place=row["name"],
            village_id=row["village_id"],
            **({} if lo <= got <= hi else _r3_reason(got, lo, hi, params)),
        ))
    vs = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["station_id", "village_id", "village", "township", "rank",
                                    "daily_parcels", "site_id", "site_kind", "placed_by",
                                    "geometry"]),
        geometry="geometry", crs=villages.crs,
    )
    ok3 = sum(r["passed"] for r in records)
    records.insert(0, rule_record(
        r3, required=f"{lo}–{hi} stations in each of {len(admin)} administrative villages",
        achieved=f"{len(vs)} stations; {ok3} of {len(admin)} villages within range",
        achieved_zh=f"共 {len(vs)} 个站点；{len(admin)} 个行政村中 {ok3} 个达标",
        passed=ok3 == len(admin),
    ))
    t_off = _township_offsets(townships, admin, off, network)
    t_reached = t_off <= params.max_snap_m
    carried = np.where(off <= params.max_snap_m, parcels, 0.0)  # an unreached village sends none
    ts_rows = _township_rows(townships[t_reached], admin, carried, network, candidates, params)
    ts = gpd.GeoDataFrame(
        pd.DataFrame(ts_rows, columns=["station_id", "township_id", "township", "daily_parcels",
                                       "site_id", "site_kind", "placed_by", "geometry"]),
        geometry="geometry", crs=villages.crs,
    )
    need = round(r4.low)
    placed_by = dict(zip(ts["township_id"], ts["placed_by"], strict=True))
    ok4 = 0
    for (_, t), o in zip(townships.iterrows(), t_off, strict=True):
        reached = bool(o <= params.max_snap_m)
        ok4 += int(reached and need == 1)
        if not reached:
            unreached.append(f"{t['name']} ({t['township_id']})")
        how_placed = placed_by.get(t["township_id"])
        records.append(rule_record(
            r4, required=f"{need} station",
            achieved=f"1 station ({how_placed})" if reached else "0 stations",
            achieved_zh=f"1 个站点（{how_placed}）" if reached else "0 个站点",
            passed=reached and need == 1, place=t["name"], township_id=t["township_id"],
            **({} if reached else _unreached_reason(float(o), params.max_snap_m)),
        ))
    records.append(rule_record(
        r4, required=f"{need} station in each of {len(townships)} townships",
        achieved=f"{len(ts)} township stations, {ok4} reached by the drive network",
        achieved_zh=f"{len(ts)} 个乡镇站点，{ok4} 个车行可达",
        passed=ok4 == len(townships),
    ))
    if g4 is not None:
        records.append(rule_record(
            g4, required=f"at least {g4.value:.0%} of administrative villages reached",
            achieved=f"{vs['village_id'].nunique()} of {len(admin)} villages have a station",
            achieved_zh=f"{len(admin)} 个行政村中 {vs['village_id'].nunique()} 个有站点",
            passed=vs["village_id"].nunique() / len(admin) >= g4.value,
            reason=(f"not reached by the drive network: {_named(unreached)}"
                    if unreached else None),
        ))
    dt = time.perf_counter() - t0
    log.info("rural stations: %d village stations in %d villages, %d township stations, in %.2f s",
             len(vs), len(admin), len(ts), dt)
    return RuralPlan(vs, ts, records, unreached, SolveRecord(RULE_BASED, build_s=dt))


def _township_offsets(
    townships: gpd.GeoDataFrame, admin: gpd.GeoDataFrame, village_off: np.ndarray,
    network: Network,
) -> np.ndarray:
    """Metres from each township to the drive network, measured at what locates it.

    Its seat when mapped; else its nearest administrative village (the 1-median serves its
    villages); else its territory. A township with none of these is left to
    :func:`_township_rows`, which names it.
    """
    out = np.zeros(len(townships))
    for i, (_, t) in enumerate(townships.iterrows()):
        mine = (admin["township"] == t["township_id"]).to_numpy()
        if t["has_seat"]:
            out[i] = network.snap([[t.geometry.x, t.geometry.y]])[1][0]
        elif mine.any():
            out[i] = village_off[mine].min()
        elif t["territory"] is not None:
            rp = t["territory"].representative_point()
            out[i] = network.snap([[rp.x, rp.y]])[1][0]
    return out


def _named(places: Sequence[str], *, sep: str = ", ", more: str = "and {} more",
           shown: int = 10) -> str:
    """Join the first ``shown`` places and say how many more there are."""
    rest = len(places) - shown
    return sep.join(places[:shown]) + (f" {more.format(rest)}" if rest > 0 else "")


def _unreached_reason(offset_m: float, max_snap_m: float) -> dict[str, str]:
    """Why a place is not reached: how far it lies from the drive network."""
    return {
        "reason": f"not reached by the drive network: {offset_m:,.0f} m from its nearest node, "
                  f"more than {max_snap_m:g} m",
        "reason_zh": f"车行路网不可达：距最近路网节点 {offset_m:,.0f} 米，超过 {max_snap_m:g} 米",
    }


def _r3_reason(got: int, lo: int, hi: int, params: RuralParameters) -> dict[str, str]:
    """Why a village has a station count outside R3's range: ``reason`` and ``reason_zh``."""
    if lo > MAX_VILLAGE_STATIONS:
        return {
            "reason": f"R3 asks at least {lo} stations but the plans' range is 1–2 and the model "
                      f"places at most {MAX_VILLAGE_STATIONS} per village; override R3 to (1, 2)",
            "reason_zh": f"R3 要求至少 {lo} 个站点，而规划范围为 1–2 个、模型每村至多设 "
                         f"{MAX_VILLAGE_STATIONS} 个；请将 R3 改为 (1, 2)",
        }
    return {
        "reason": f"only {got} station(s): no drive-network node of the village's Voronoi cell "
                  f"within {params.village_radius_m:g} m for a second station",
        "reason_zh": f"仅 {got} 个站点：本村泰森多边形内 {params.village_radius_m:g} 米范围无可设"
                     "第二个站点的车行路网节点",
    }


def three_tier_record(
    rules: RuleSet,
    village_townships: Sequence[str],
    township_has_hub: Mapping[str, bool],
    *,
    place: str,
    unreached: Sequence[str] = (),
) -> dict:
    """Check goal G5 (县级分拨 + 乡镇营业集散 + 村级营业): every village chained to a county hub.

    Every village station lies under a township station that a county hub serves, and every
    village and township is reached by the drive network.

    Parameters
    ----------
    rules
        The preset (G5's clause).
    village_townships
        The ``township_id`` of each village station.
    township_has_hub
        Per ``township_id`` with a township station: whether a hub serves that station.
    place
        The county or area, for the record.
    unreached
        Villages and townships the drive network does not reach (:attr:`RuralPlan.unreached`):
        their chain is broken.

    Returns
    -------
    dict
        The G5 record (an empty dict when the preset has no G5); ``reason`` lists the
        townships whose chain is broken and the places not reached.
    """
    g5 = rules["G5"]
    if g5 is None:
        return {}
    towns = list(dict.fromkeys(str(t) for t in village_townships))
    broken = [t for t in towns if not township_has_hub.get(t, False)]
    chained = sum(1 for t in village_townships if township_has_hub.get(str(t), False))
    return rule_record(
        g5, required="county hub -> township station -> village station for every village",
        achieved=f"{chained} of {len(village_townships)} village stations chained to a hub via "
                 f"{len(towns) - len(broken)} township station(s)",
        achieved_zh=f"{len(village_townships)} 个村级站点中 {chained} 个经 "
                    f"{len(towns) - len(broken)} 个乡镇站点接入分拨中心",
        passed=not broken and not unreached, place=place,
        reason="; ".join(
            ([f"townships without a station served by a hub: {', '.join(broken)}"] if broken
             else []) + ([f"not reached by the drive network: {_named(unreached)}"]
                         if unreached else [])) or None,
        reason_zh="；".join(
            ([f"乡镇站点未接入分拨中心的乡镇：{'、'.join(broken)}"] if broken else [])
            + ([f"车行路网不可达：{_named(unreached, sep='、', more='等 {} 处')}"]
               if unreached else [])) or None)


def _township_rows(
    townships: gpd.GeoDataFrame,
    admin: gpd.GeoDataFrame,
    parcels: np.ndarray,
    network: Network,
    candidates: gpd.GeoDataFrame | None,
    params: RuralParameters,
) -> list[tuple]:
    rows = []
    for _, t in townships.iterrows():
        mine = (admin["township"] == t["township_id"]).to_numpy()
        load = float(parcels[mine].sum())
        sid = f"ts-{t['township_id'].replace('/', '-')}"
        if t["has_seat"]:
            c = _best_site(t.geometry, candidates, params.seat_radius_m, None)
            if c is not None:
                rows.append((sid, t["township_id"], t["name"], load, c["site_id"], c["kind"],
                             "candidate-near-seat", c.geometry))
                continue
            node = int(network.snap([[t.geometry.x, t.geometry.y]])[0][0])
            how = "seat"
        elif mine.any():
            pool = np.arange(network.n_nodes)
            if t["territory"] is not None:
                inside = shapely.contains_xy(t["territory"], network.xy[:, 0], network.xy[:, 1])
                pool = np.flatnonzero(inside) if inside.any() else pool
            vxy = np.c_[admin.geometry.x, admin.geometry.y][mine]
            reach = network_distances(network, network.xy[pool], vxy, radius_m=1e6)
            cost = np.full(len(pool), np.inf)
            total = np.zeros(len(pool))
            np.add.at(total, reach.rows, reach.dist_m * parcels[mine][reach.cols])
            full = np.bincount(reach.rows, minlength=len(pool)) == mine.sum()
            cost[full] = total[full]
            node = int(pool[np.argmin(cost)])
            how = "1-median-of-villages"
        elif t["territory"] is not None:
            rp = t["territory"].representative_point()
            node = int(network.snap([[rp.x, rp.y]])[0][0])
            how = "territory"
        else:
            raise InfeasiblePlanError(
                f"R4 (one station per township): township {t['name']} ({t['township_id']}) has "
                "no seat, no village and no boundary inside the area; give its seat as a point "
                "or drop it from the plan"
            )
        rows.append((sid, t["township_id"], t["name"], load,
                     f"drive-node/{network.node_ids[node]}", "drive_node", how,
                     shapely.Point(network.xy[node])))
    return rows
