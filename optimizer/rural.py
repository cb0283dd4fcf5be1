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
whose nearest village is :math:`v`; without one, the village node snapped to the drive network
(the village's own point when the network does not reach it, see *Reach*). A second
station goes to the drive-network node of the village's Voronoi cell, within the village
radius, farthest from the first station (it serves the far end of the village).

*Reach.* R3 asks for a station in every administrative village, and the station stands in the
village whether or not the map has its road: a village farther than ``max_snap_m`` from the
drive network gets its station(s) all the same (the first at a candidate site, else at the
village's own point) and meets R3. What the missing road breaks is delivery to it (G4,
建制村快递服务通达率): the village counts as not reached, its G4 record fails with its
distance to the mapped network, and G5 counts its stations as not chained to a hub. Its
parcels still go to its township's station (every parcel reaches a hub).

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

import numpy as np
import pandas as pd

from geodata.errors import InfeasiblePlanError, ParameterError
from geodata.rural_reach import Near, RuralInputs

from .compliance import rule_record
from .rules import Rule, RuleSet
from .solve_record import RULE_BASED, SolveRecord
from .stations import REUSE_ORDER

__all__ = ["MAX_VILLAGE_STATIONS", "TOWNSHIP_STATION_COLUMNS", "VILLAGE_STATION_COLUMNS",
           "RuralParameters", "RuralPlan", "plan_rural", "three_tier_record"]

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
        stated assumption (a courier walks or rides the last kilometre off the road). A
        village beyond it keeps its station(s) and fails G4 and G5, named; a township beyond
        it gets no station and fails R4 and G5, named.
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
        stations), ``site_id``, ``site_kind``, ``placed_by``, the point's ``x``, ``y``, the
        village's ``drive_network_m`` (metres to the nearest node of the drive network) and
        ``reached`` (that distance is at most ``max_snap_m``).
    township_stations
        One row per township: ``station_id``, ``township_id``, ``township``,
        ``daily_parcels`` (its villages'), ``site_id``, ``site_kind``, ``placed_by``, ``x``,
        ``y``.
    records
        Compliance records (R3 per village and overall, R4 per township and overall, G4 per
        village and overall).
    unreached
        Villages and townships the drive network does not reach, as ``name (id, distance to
        the network)``: the villages keep their stations, the townships get none.
    solve
        Status (:data:`optimizer.solve_record.RULE_BASED`) and the seconds spent.
    """

    village_stations: pd.DataFrame
    township_stations: pd.DataFrame
    records: list[dict] = field(default_factory=list)
    unreached: list[str] = field(default_factory=list)
    solve: SolveRecord = SolveRecord(RULE_BASED)


#: Columns of :attr:`RuralPlan.village_stations` and :attr:`RuralPlan.township_stations`.
VILLAGE_STATION_COLUMNS = ["station_id", "village_id", "village", "township", "rank",
                           "daily_parcels", "site_id", "site_kind", "placed_by", "x", "y",
                           "drive_network_m", "reached"]
TOWNSHIP_STATION_COLUMNS = ["station_id", "township_id", "township", "daily_parcels", "site_id",
                            "site_kind", "placed_by", "x", "y"]

#: A placed station: site id, kind, how it was placed, x, y.
_Placed = tuple[str, str, str, float, float]


def _best_site(inputs: RuralInputs, near: Near | None) -> int | None:
    """Return the best candidate among ``near``: reuse order first, then distance."""
    if near is None or not len(near[0]):
        return None
    idx, d = near
    rank = pd.Series(inputs.site_kind[idx]).map(
        {k: i for i, k in enumerate(REUSE_ORDER)}).fillna(99).to_numpy()
    return int(idx[np.lexsort((d, rank))[0]])


def _at_site(inputs: RuralInputs, j: int, how: str) -> _Placed:
    x, y = inputs.site_xy[j]
    return (inputs.site_id[j], inputs.site_kind[j], how, float(x), float(y))


def _at_node(inputs: RuralInputs, node: int, how: str) -> _Placed:
    x, y = inputs.node_xy[node]
    return (f"drive-node/{inputs.node_ids[node]}", "drive_node", how, float(x), float(y))


def _village_parcels(inputs: RuralInputs, params: RuralParameters) -> np.ndarray:
    """Daily parcels of each administrative village, its hamlets' included."""
    per_day = params.parcels_per_resident_per_day
    parcels = np.full(len(inputs.villages), params.village_residents * per_day)
    for v in inputs.hamlet_village:
        parcels[v] += params.hamlet_residents * per_day
    return parcels


def _at_village(inputs: RuralInputs, v: int) -> _Placed:
    """Return village ``v``'s own point: no candidate site and no mapped road near it."""
    x, y = inputs.village_xy[v]
    return (str(inputs.villages["village_id"].iloc[v]), "village_point", "village-point",
            float(x), float(y))


def _village_sites(inputs: RuralInputs, v: int, n: int, reached: bool) -> list[_Placed]:
    """Place ``n`` (1 or 2) stations in village ``v`` (the module docstring's *Where*)."""
    j = _best_site(inputs, inputs.village_sites[v])
    if j is not None:
        first = _at_site(inputs, j, "candidate")
    elif reached:
        first = _at_node(inputs, int(inputs.village_node[v]), "village-node")
    else:
        first = _at_village(inputs, v)
    placed = [first]
    cell = inputs.village_cells[v]
    if n >= 2 and len(cell):
        far = np.hypot(*(inputs.node_xy[cell] - [first[3], first[4]]).T)
        if far.max() > 0:
            placed.append(_at_node(inputs, int(cell[np.argmax(far)]), "far-end-of-village"))
    return placed


def plan_rural(
    inputs: RuralInputs,
    rules: RuleSet,
    *,
    params: RuralParameters | None = None,
) -> RuralPlan:
    """Place village stations (R3) and township stations (R4); check G4.

    Parameters
    ----------
    inputs
        The villages, townships, sites and drive-network measures
        (:func:`geodata.rural_reach.rural_inputs`, with this ``params``' radii).
    rules
        The preset applied (R3 range, R4, G4's share).
    params
        :class:`RuralParameters` (the documented defaults when ``None``).

    Returns
    -------
    RuralPlan
        The stations and the compliance records.

    Raises
    ------
    InfeasiblePlanError
        If a township cannot be placed (R4).
    """
    t0 = time.perf_counter()
    params = params or RuralParameters()
    r3, r4, g4 = rules["R3"], rules["R4"], rules["G4"]
    admin, off = inputs.villages, inputs.village_off
    reached = off <= params.max_snap_m
    parcels = _village_parcels(inputs, params)
    vs = pd.DataFrame(_village_rows(inputs, r3, params, parcels),
                      columns=VILLAGE_STATION_COLUMNS)
    records = _village_records(inputs, r3, vs, params)
    t_off = inputs.township_off
    t_reached = t_off <= params.max_snap_m
    ts = pd.DataFrame(_township_rows(inputs, np.flatnonzero(t_reached), parcels),
                      columns=TOWNSHIP_STATION_COLUMNS)
    records += _township_records(inputs, r4, ts, params)
    unreached = [_off_network(row.name, row.village_id, o) for row, o, r in
                 zip(admin.itertuples(index=False), off, reached, strict=True) if not r]
    if g4 is not None:
        records += _reach_records(inputs, g4, vs, params, unreached)
    unreached += [_off_network(t.name, t.township_id, o) for t, o, r in
                  zip(inputs.townships.itertuples(index=False), t_off, t_reached, strict=True)
                  if not r]
    dt = time.perf_counter() - t0
    log.info("rural stations: %d village stations in %d villages (%d not reached by the drive "
             "network), %d township stations, in %.2f s", len(vs), len(admin),
             int((~reached).sum()), len(ts), dt)
    return RuralPlan(vs, ts, records, unreached, SolveRecord(RULE_BASED, build_s=dt))


def _off_network(name: str, place_id: str, offset_m: float) -> str:
    """Name a place the drive network does not reach, with its distance to the network."""
    return f"{name} ({place_id}, {offset_m:,.0f} m)"


def _village_rows(inputs: RuralInputs, r3: Rule, params: RuralParameters,
                  parcels: np.ndarray) -> list[tuple]:
    """One row per village station (:data:`VILLAGE_STATION_COLUMNS`), every village's."""
    lo, hi = int(round(r3.low)), int(round(r3.high))
    rows = []
    for v, row in enumerate(inputs.villages.itertuples(index=False)):
        off = float(inputs.village_off[v])
        reached = off <= params.max_snap_m
        n = max(lo, min(2, hi)) if parcels[v] > params.second_station_parcels else lo
        placed = _village_sites(inputs, v, n, reached)
        for rank, (site, kind, how, x, y) in enumerate(placed, start=1):
            rows.append((f"vs-{row.osm_id}-{rank}", row.village_id, row.name,
                         row.township, rank, parcels[v] / len(placed), site, kind, how, x, y,
                         round(off, 1), reached))
    return rows


def _village_records(inputs: RuralInputs, r3: Rule, vs: pd.DataFrame,
                     params: RuralParameters) -> list[dict]:
    """Return the R3 records (004 五(二)): overall, then per village."""
    lo, hi = int(round(r3.low)), int(round(r3.high))
    admin = inputs.villages
    got = vs["village_id"].value_counts().reindex(admin["village_id"], fill_value=0)
    parcels = vs.groupby("village_id")["daily_parcels"].sum()
    records = []
    for row, n in zip(admin.itertuples(index=False), got, strict=True):
        ok = lo <= n <= hi
        d = float(parcels.get(row.village_id, 0.0))
        records.append(rule_record(
            r3, required=f"{lo}–{hi} stations",
            achieved=f"{n} station(s) for {d:.0f} parcels/day",
            achieved_zh=f"{n} 个站点，日均 {d:.0f} 件", passed=ok, place=row.name,
            village_id=row.village_id, **({} if ok else _r3_reason(int(n), lo, hi, params))))
    ok3 = sum(r["passed"] for r in records)
    records.insert(0, rule_record(
        r3, required=f"{lo}–{hi} stations in each of {len(admin)} administrative villages",
        achieved=f"{len(vs)} stations; {ok3} of {len(admin)} villages within range",
        achieved_zh=f"共 {len(vs)} 个站点；{len(admin)} 个行政村中 {ok3} 个达标",
        passed=ok3 == len(admin),
    ))
    return records


def _reach_records(inputs: RuralInputs, g4: Rule, vs: pd.DataFrame, params: RuralParameters,
                   unreached: Sequence[str]) -> list[dict]:
    """Return the G4 records (建制村快递服务通达率): overall, then per village.

    Every village has a station (R3's range starts at 1); it is reached when it lies within
    ``max_snap_m`` of the drive network. Each village's record carries that distance as
    ``drive_network_m``.
    """
    admin, cut = inputs.villages, params.max_snap_m
    got = vs["village_id"].value_counts().reindex(admin["village_id"], fill_value=0)
    records = []
    for row, n, off in zip(admin.itertuples(index=False), got, inputs.village_off, strict=True):
        d, ok = round(float(off), 1), bool(off <= cut)
        records.append(rule_record(
            g4, required=f"a station, and the village within {cut:g} m of the mapped drive "
            "network (delivery by road)",
            achieved=f"{n} station(s); {d:,.0f} m from the drive network",
            achieved_zh=f"{n} 个站点；距车行路网 {d:,.0f} 米", passed=ok, place=row.name,
            village_id=row.village_id, drive_network_m=d,
            **({} if ok else _unreached_reason(d, cut))))
    k, total = sum(r["passed"] for r in records), len(admin)
    share = k / total
    records.insert(0, rule_record(
        g4, required=f"at least {g4.low:.0%} of administrative villages reached: a station, "
        f"and the village within {cut:g} m of the mapped drive network",
        achieved=f"{k} of {total} villages reached ({share:.1%})",
        achieved_zh=f"{total} 个行政村中 {k} 个车行可达（{share:.1%}）",
        passed=share >= g4.low - 1e-9, threshold=g4.low,
        reason=(f"not reached by the drive network (distance to it): {_named(unreached)}"
                if unreached else None),
        reason_zh=("车行路网不可达（距路网距离）："
                   f"{_named(unreached, sep='、', more='等 {} 处')}" if unreached else None)))
    return records


def _township_records(inputs: RuralInputs, r4: Rule, ts: pd.DataFrame,
                      params: RuralParameters) -> list[dict]:
    """Return the R4 records: per township and overall."""
    need = round(r4.low)
    placed_by = dict(zip(ts["township_id"], ts["placed_by"], strict=True))
    records, ok4 = [], 0
    for t, o in zip(inputs.townships.itertuples(index=False), inputs.township_off, strict=True):
        reached = bool(o <= params.max_snap_m)
        ok4 += int(reached and need == 1)
        how_placed = placed_by.get(t.township_id)
        records.append(rule_record(
            r4, required=f"{need} station",
            achieved=f"1 station ({how_placed})" if reached else "0 stations",
            achieved_zh=f"1 个站点（{how_placed}）" if reached else "0 个站点",
            passed=reached and need == 1, place=t.name, township_id=t.township_id,
            **({} if reached else _unreached_reason(float(o), params.max_snap_m)),
        ))
    records.append(rule_record(
        r4, required=f"{need} station in each of {len(inputs.townships)} townships",
        achieved=f"{len(ts)} township stations, {ok4} reached by the drive network",
        achieved_zh=f"{len(ts)} 个乡镇站点，{ok4} 个车行可达",
        passed=ok4 == len(inputs.townships),
    ))
    return records


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
    village_reached: Sequence[bool] | None = None,
) -> dict:
    """Check goal G5 (县级分拨 + 乡镇营业集散 + 村级营业): every village chained to a county hub.

    A village station is chained when its village is reached by the drive network and it lies
    under a township station that a county hub serves; G5 passes when every one is, and every
    village and township is reached.

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
    village_reached
        Per village station, whether the drive network reaches its village (the
        ``reached`` column of :attr:`RuralPlan.village_stations`); ``None``: all are.

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
    reached = ([True] * len(village_townships) if village_reached is None
               else [bool(r) for r in village_reached])
    chained = sum(1 for t, r in zip(village_townships, reached, strict=True)
                  if r and township_has_hub.get(str(t), False))
    return rule_record(
        g5, required="county hub -> township station -> village station for every village",
        achieved=f"{chained} of {len(village_townships)} village stations chained to a hub via "
                 f"{len(towns) - len(broken)} township station(s)",
        achieved_zh=f"{len(village_townships)} 个村级站点中 {chained} 个经 "
                    f"{len(towns) - len(broken)} 个乡镇站点接入分拨中心",
        passed=not broken and not unreached, place=place,
        reason="; ".join(
            ([f"townships without a station served by a hub: {', '.join(broken)}"] if broken
             else []) + ([f"not reached by the drive network (distance to it): "
                          f"{_named(unreached)}"] if unreached else [])) or None,
        reason_zh="；".join(
            ([f"乡镇站点未接入分拨中心的乡镇：{'、'.join(broken)}"] if broken else [])
            + ([f"车行路网不可达（距路网距离）：{_named(unreached, sep='、', more='等 {} 处')}"]
               if unreached else [])) or None)


def _township_rows(inputs: RuralInputs, reached: np.ndarray, parcels: np.ndarray
                   ) -> list[tuple]:
    """One station per reached township (the module docstring): seat, 1-median or territory."""
    rows = []
    admin, towns = inputs.villages, inputs.townships
    for i in reached:
        t = towns.iloc[i]
        mine = (admin["township"] == t["township_id"]).to_numpy()
        load = float(parcels[mine].sum())
        sid = f"ts-{t['township_id'].replace('/', '-')}"
        j = _best_site(inputs, inputs.seat_sites[i]) if t["has_seat"] else None
        if j is not None:
            placed = _at_site(inputs, j, "candidate-near-seat")
        elif t["has_seat"]:
            placed = _at_node(inputs, int(inputs.township_node[i]), "seat")
        elif mine.any():
            placed = _at_node(inputs, _median_node(inputs, i, parcels[mine]),
                              "1-median-of-villages")
        elif inputs.township_node[i] >= 0:
            placed = _at_node(inputs, int(inputs.township_node[i]), "territory")
        else:
            raise InfeasiblePlanError(
                f"R4 (one station per township): township {t['name']} ({t['township_id']}) has "
                "no seat, no village and no boundary inside the area; give its seat as a point "
                "or drop it from the plan"
            )
        rows.append((sid, t["township_id"], t["name"], load, *placed))
    return rows


def _median_node(inputs: RuralInputs, i: int, parcels: np.ndarray) -> int:
    """Return the drive-network 1-median of township ``i``'s villages (nodes it may use)."""
    pool, reach = inputs.median_pool[i], inputs.median_reach[i]
    assert pool is not None and reach is not None, "rural_inputs measures every seatless one"
    cost = np.full(len(pool), np.inf)
    total = np.zeros(len(pool))
    np.add.at(total, reach.rows, reach.dist_m * parcels[reach.cols])
    full = np.bincount(reach.rows, minlength=len(pool)) == len(parcels)
    cost[full] = total[full]
    return int(pool[np.argmin(cost)])
