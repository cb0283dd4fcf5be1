r"""Sorting hubs (rules R5, R6): capacitated facility location on the drive network.

The model
---------
Stations :math:`i` (township, village or community stations) receive :math:`d_i` daily parcels
through one hub and send :math:`\theta d_i` (the outbound ratio), so the hub sorts
:math:`t_i = (1 + \theta) d_i` items a day for them; candidate hubs :math:`j`
(:func:`geodata.hub_sites.hub_sites_from_osm`) have capacity :math:`Q_j` items/day and fixed
cost :math:`f_j`; :math:`\delta_{ij}` is the drive distance in km, :math:`g` the cost per
parcel-km.

.. math::

    \min\; & \textstyle\sum_j f_j y_j + g \sum_{ij} d_i \delta_{ij} x_{ij} \\
    (1)\;& \textstyle\sum_j x_{ij} = 1 && \forall i \\
    (2)\;& x_{ij} \le y_j && \forall i, j \\
    (3)\;& \textstyle\sum_i t_i x_{ij} \le Q_j y_j && \forall j \\
    (4)\;& \textstyle\sum_{j} y_j \ge 1; \quad y_j = 1 \;\; j \in F && \text{(R5)}

with :math:`x_{ij} \in \{0,1\}` (a station has one hub) and :math:`y_j \in \{0,1\}`. Rule R5
(seed 003 专栏5 "1123"; 001 专栏5; 000 四(一)3) asks one county warehouse-and-distribution
centre per county: (1) opens at least one hub wherever there are stations, and the planner may
force a given county centre
:math:`F` open (an external point, such as the Puyang county seat outside the extract; its
distances run from the network node nearest to it plus the straight line to it).

R5 is checked on the result: it passes when at least one and at most ``county_hubs`` hubs
open (one per county, unless the planner asks for more, which the record then says); a plan
that needs more hubs than asked (too little capacity) fails it, with the reason.

Rule R6 (seed 004 二(三) 基础设施扩容增效) fits fully automatic sorting at hubs whose whole
daily throughput :math:`L_j = \sum_i t_i x_{ij}` (inbound and outbound parcels of every tier
it serves) reaches the preset's threshold (50,000 items/day; 0 in Zhengzhou, where every
processing centre is automated). The plan states, per open hub, its sorting capacity
:math:`S_j` in items/day (``HubParameters.sorting_capacity``, else the site's :math:`Q_j`)
and whether automatic sorting is planned: it is where :math:`L_j` reaches the threshold and
the planner allows it (``HubParameters.automatic_sorting``). R6 is checked on the result, per
open hub: it fails when :math:`L_j > S_j` (the hub sorts more than its planned sorting
capacity) or when :math:`L_j` reaches the threshold without automatic sorting planned.

Daily vehicle-km: :math:`2 \sum_{ij} d_i \delta_{ij} x_{ij} / V`, where :math:`V` is the parcels
one vehicle carries (out loaded with deliveries, back with pickups).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse

from geodata.errors import InfeasiblePlanError, ParameterError, SolverError

from .compliance import rule_record
from .milp import SolverName
from .models import capacitated_facility_location
from .rules import RuleSet
from .solve_record import SolveRecord

__all__ = [
    "HubParameters",
    "HubPlan",
    "HubProblem",
    "county_centre_record",
    "hub_problem",
    "solve_hubs",
    "throughput_record",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HubParameters:
    """Parameters of the hub model, each with its source.

    Attributes
    ----------
    capacity
        Items/day one hub sorts. Default 100,000: a stated assumption for a county sorting
        centre (twice the R6 automation threshold).
    fixed_cost
        Daily-equivalent cost of operating a hub. Default 20,000 CNY/day, a stated assumption.
    cost_per_parcel_km
        Default 0.05 CNY per parcel-km, a stated assumption (a 3-t van at ~2 CNY/km carrying
        ~40 parcels per km of route, rounded).
    parcels_per_vehicle
        Parcels one delivery vehicle carries. Default 1,000, a stated assumption (a 3-t van).
    max_drive_km
        Longest drive from a station to its hub. Default 100 km.
    outbound_ratio
        Items a station's area sends per item it receives (R6 throughput). Default 1.0: a
        stated assumption from the national balance (every parcel the industry collects is
        delivered somewhere, so the average resident sends as many as they receive, 106 a year
        each way by the national plan, PLAN_RULES.md); give the county's own figure.
    county_hubs
        Hubs the planner asks for. Default ``None``: R5's one county centre per county; more
        when the planner asks (the R5 record says so).
    sorting_capacity
        Items/day the sorting lines planned at one hub handle (R6). Default ``None``: each
        site's own capacity (``capacity``, or the floor-area figure of
        :class:`geodata.hub_sites.HubSiteParameters`); give the county's figure (for instance
        an existing centre's line) and R6 fails at a hub that sorts more.
    automatic_sorting
        Whether the plan may fit automatic sorting (R6). Default ``True``: it is planned at
        every open hub whose throughput reaches R6's threshold; ``False`` (no budget for it,
        a manual centre kept) plans none, and R6 fails at every hub at or over the threshold.

    Every value is positive and finite (``outbound_ratio`` may be 0).

    ``capacity`` and ``fixed_cost`` apply to a hub site whose floor area is unknown; others
    take theirs from floor area (:class:`geodata.hub_sites.HubSiteParameters`).
    """

    capacity: float = 100_000.0
    fixed_cost: float = 20_000.0
    cost_per_parcel_km: float = 0.05
    parcels_per_vehicle: float = 1_000.0
    max_drive_km: float = 100.0
    outbound_ratio: float = 1.0
    county_hubs: int | None = None
    sorting_capacity: float | None = None
    automatic_sorting: bool = True

    def __post_init__(self) -> None:
        bad = [f"{k}={v!r}" for k, v in vars(self).items()
               if v is not None and k != "automatic_sorting"
               and not ((v >= 0 if k == "outbound_ratio" else v > 0) and np.isfinite(v))]
        if bad:
            raise ParameterError(f"hub parameters must be positive and finite: {', '.join(bad)}")


@dataclass(frozen=True)
class HubProblem:
    """A hub instance in index form.

    Attributes
    ----------
    daily_parcels
        :math:`d_i` per station, shape ``(n,)``.
    pair_station, pair_hub, pair_km
        Station-hub pairs within reach and their drive distance in km.
    capacity, fixed_cost
        :math:`Q_j`, :math:`f_j` per candidate hub, shape ``(m,)``.
    forced
        Hubs that must open (a given county centre), shape ``(m,)`` bool.
    station_names, hub_names
        Labels for messages and records.
    """

    daily_parcels: np.ndarray
    pair_station: np.ndarray
    pair_hub: np.ndarray
    pair_km: np.ndarray
    capacity: np.ndarray
    fixed_cost: np.ndarray
    forced: np.ndarray
    station_names: tuple[str, ...] = ()
    hub_names: tuple[str, ...] = ()

    @property
    def n_stations(self) -> int:
        """Number of stations."""
        return len(self.daily_parcels)

    @property
    def n_hubs(self) -> int:
        """Number of candidate hubs."""
        return len(self.capacity)


@dataclass(frozen=True)
class HubPlan:
    """Open hubs, the station assignment, loads, R6 flags and records.

    Attributes
    ----------
    open_hubs
        Indices of open hubs.
    assignment
        Hub index per station.
    load
        Inbound items/day per candidate hub (0 when closed).
    throughput
        Items/day each candidate hub sorts, inbound and outbound (0 when closed).
    automatic_sorting
        Per candidate hub, True when open, its throughput reaches the R6 threshold and the
        planner allows automatic sorting.
    sorting_capacity
        Per candidate hub, the items/day its planned sorting lines handle (R6).
    parcel_km, vehicle_km
        Daily parcel-km and vehicle-km.
    records
        R5 and R6 records.
    solve
        Status, objective, bound, gap and times (:class:`optimizer.solve_record.SolveRecord`).
    """

    open_hubs: np.ndarray
    assignment: np.ndarray
    load: np.ndarray
    throughput: np.ndarray
    automatic_sorting: np.ndarray
    sorting_capacity: np.ndarray
    parcel_km: float
    vehicle_km: float
    records: list[dict] = field(default_factory=list)
    solve: SolveRecord = SolveRecord("")


def hub_problem(
    pair_hub: ArrayLike,
    pair_station: ArrayLike,
    pair_m: ArrayLike,
    daily_parcels: ArrayLike,
    *,
    n_hubs: int,
    params: HubParameters | None = None,
    forced: ArrayLike | None = None,
    capacity: ArrayLike | None = None,
    fixed_cost: ArrayLike | None = None,
    station_names: tuple[str, ...] = (),
    hub_names: tuple[str, ...] = (),
) -> HubProblem:
    """Build a :class:`HubProblem` from the drive distances hub -> station.

    Parameters
    ----------
    pair_hub, pair_station, pair_m
        Hub-station pairs within ``max_drive_km`` and their drive distance in metres
        (:func:`geodata.tier_inputs.hub_reach`).
    daily_parcels
        Daily parcels of each station.
    n_hubs
        Number of candidate hubs.
    params
        :class:`HubParameters` (capacity, fixed cost).
    forced
        Bool per hub that must open, or ``None``.
    capacity, fixed_cost
        Per hub (NaN or ``None``: ``params.capacity`` and ``params.fixed_cost``).
    station_names, hub_names
        Labels.

    Returns
    -------
    HubProblem
        The instance, distances in km.
    """
    p = params or HubParameters()
    return HubProblem(
        daily_parcels=np.asarray(daily_parcels, dtype=float),
        pair_station=np.asarray(pair_station, dtype=np.int64),
        pair_hub=np.asarray(pair_hub, dtype=np.int64),
        pair_km=np.asarray(pair_m, dtype=float) / 1000.0,
        capacity=_per_hub(capacity, p.capacity, n_hubs),
        fixed_cost=_per_hub(fixed_cost, p.fixed_cost, n_hubs),
        forced=np.zeros(n_hubs, bool) if forced is None else np.asarray(forced, bool),
        station_names=station_names, hub_names=hub_names,
    )


def _per_hub(values: ArrayLike | None, default: float, m: int) -> np.ndarray:
    """Per-hub values, the default where ``None`` or NaN."""
    if values is None:
        return np.full(m, default)
    out = np.asarray(values, dtype=float).reshape(m)
    return np.where(np.isnan(out), default, out)


def solve_hubs(
    problem: HubProblem,
    rules: RuleSet,
    *,
    params: HubParameters | None = None,
    place: str = "the study area",
    solver: SolverName = "highs",
    time_limit: float | None = 60.0,
) -> HubPlan:
    """Open hubs and assign stations (the CFL above); flag R6 automatic sorting.

    Parameters
    ----------
    problem
        The instance.
    rules
        The preset (R5, R6 threshold).
    params
        :class:`HubParameters` (cost per parcel-km, parcels per vehicle).
    place
        Name of the county or area, for messages.
    solver, time_limit
        Passed to :func:`optimizer.models.capacitated_facility_location`, which solves the
        model (single-sourced, with ``force_open`` for :math:`F`).

    Returns
    -------
    HubPlan
        The plan with its R5 and R6 records.

    Raises
    ------
    InfeasiblePlanError
        Naming R5, the place and what is missing: a station no hub reaches, or too little
        capacity (also when the solver proves the model infeasible).
    SolverError
        If the solver stops without a solution for another reason.
    """
    t0 = time.perf_counter()
    p = params or HubParameters()
    pr = problem
    d, n, m = pr.daily_parcels, pr.n_stations, pr.n_hubs
    sname = pr.station_names or tuple(f"station {i}" for i in range(n))
    reached = np.bincount(pr.pair_station, minlength=n) > 0
    if not reached.all():
        lost = [sname[i] for i in np.flatnonzero(~reached)]
        raise InfeasiblePlanError(
            f"R5 (county sorting centre) in {place}: {len(lost)} station(s) have no hub "
            f"candidate within {p.max_drive_km:g} km drive: {', '.join(lost[:10])}; add hub "
            "candidates or raise max_drive_km")
    t = d * (1.0 + p.outbound_ratio)
    if t.sum() > pr.capacity.sum() + 1e-9:
        raise InfeasiblePlanError(
            f"R5 (county sorting centre) in {place}: stations send {t.sum():,.0f} items/day (in "
            f"and out) but all {m} hub candidates together sort {pr.capacity.sum():,.0f}; add "
            "hub candidates or raise their capacity")
    cost = sparse.csr_array(
        (p.cost_per_parcel_km * d[pr.pair_station] * pr.pair_km, (pr.pair_station, pr.pair_hub)),
        shape=(n, m),
    )
    cost.sum_duplicates()
    sol = capacitated_facility_location(
        cost, t, pr.capacity, pr.fixed_cost, single_source=True, force_open=pr.forced,
        solver=solver, time_limit=time_limit,
    )
    assignment = sol.assignment
    if not sol.has_solution or assignment is None:
        if sol.status == "infeasible":
            raise InfeasiblePlanError(
                f"R5 (county sorting centre) in {place}: no assignment of {n} stations to hubs "
                "fits the hub capacities (a station's parcels exceed every hub in its reach?); "
                "raise capacity or add hub candidates")
        raise SolverError(f"hubs: solver {sol.solver} returned {sol.status} without a solution")
    y = np.zeros(m, dtype=bool)
    y[sol.open_sites] = True
    served = assignment >= 0
    load = np.bincount(assignment[served], weights=d[served], minlength=m)
    through = np.bincount(assignment[served], weights=t[served], minlength=m)
    walk_km = sparse.csr_array((pr.pair_km + 1e-12, (pr.pair_station, pr.pair_hub)), shape=(n, m))
    km = np.zeros(n)
    km[served] = np.asarray(walk_km[np.flatnonzero(served), assignment[served]]).ravel() - 1e-12
    auto = y & (through >= rules["R6"].low) & p.automatic_sorting
    sorting = pr.capacity if p.sorting_capacity is None else np.full(m, p.sorting_capacity)
    parcel_km = float((d * km).sum())
    vehicle_km = 2.0 * parcel_km / p.parcels_per_vehicle
    hname = pr.hub_names or tuple(f"hub {j}" for j in range(m))
    open_hubs = np.flatnonzero(y)
    asked = p.county_hubs or int(rules["R5"].low)
    records = [county_centre_record(
        rules, [hname[j] for j in open_hubs], asked=asked, place=place,
        reason=_too_many_reason(pr, t.sum(), asked, sname))]
    records += [throughput_record(rules, hname[j], inbound=float(load[j]),
                                  throughput=float(through[j]), outbound_ratio=p.outbound_ratio,
                                  sorting_capacity=float(sorting[j]), automatic=bool(auto[j]))
                for j in open_hubs]
    log.info("hubs: %d of %d candidates open for %d stations (%.0f items/day), %d automatic; "
             "%.0f vehicle-km/day; %s in %.2f s", len(open_hubs), m, n,
             d.sum(), int(auto.sum()), vehicle_km, sol.status, time.perf_counter() - t0)
    return HubPlan(open_hubs, assignment, load, through, auto, sorting, parcel_km, vehicle_km,
                   records,
                   SolveRecord.of(sol, build_s=time.perf_counter() - t0 - sol.solve_s))


def county_centre_record(
    rules: RuleSet, open_names: list[str], *, asked: int, place: str, reason: str | None = None
) -> dict:
    """Rule R5: between one and ``asked`` county sorting centres open.

    Parameters
    ----------
    rules
        The preset (R5: one per county).
    open_names
        Names of the open hubs.
    asked
        Hubs allowed: R5's one, or more when the planner asks (the record then says so).
    place
        The county or area.
    reason
        Why more hubs than asked are open, for a failing record.

    Returns
    -------
    dict
        The R5 record; it fails when no hub or more than ``asked`` hubs open.
    """
    r5 = rules["R5"]
    n = len(open_names)
    ok = 1 <= n <= asked
    more = asked > int(r5.low)
    return rule_record(
        r5, required=f"{asked:g} county sorting centre(s)" + (
            f" (the planner asks for {asked}; R5 asks {r5.low:g} per county)" if more else ""),
        achieved=f"{n} hub(s) open: " + ", ".join(open_names),
        achieved_zh=f"开设 {n} 个分拨中心：" + "、".join(open_names), passed=ok, place=place,
        planner_asked=asked if more else None,
        reason=None if ok else (reason or "no hub opens"),
        reason_zh=None if ok else ("所需分拨中心多于规定数量（分拣能力不足）" if n > asked
                                   else "未开设分拨中心"))


def _too_many_reason(pr: HubProblem, throughput: float, asked: int, sname: tuple[str, ...]
                     ) -> str:
    """Why the plan opens more hubs than asked: capacity, drive-network reach, or cost."""
    top = float(np.sort(pr.capacity)[::-1][:asked].sum())
    if throughput > top + 1e-9:
        return (f"the stations send {throughput:,.0f} items/day (in and out) but the "
                f"{asked} largest hub site(s) sort {top:,.0f}: give a larger site or ask for "
                "more hubs")
    reached = np.bincount(pr.pair_hub, minlength=pr.n_hubs)
    if asked == 1 and reached.max(initial=0) < pr.n_stations:
        best = int(np.argmax(reached))
        left = sorted(set(range(pr.n_stations)) - set(pr.pair_station[pr.pair_hub == best]))
        return (f"no hub candidate reaches every station on the drive network (one-way "
                f"streets, or roads cut at the map's edge): the best reaches "
                f"{reached[best]} of {pr.n_stations}, not " + ", ".join(sname[i] for i in left[:5]))
    return "hauling to fewer hubs costs more than opening another: raise the hub's fixed cost"


def throughput_record(
    rules: RuleSet, hub: str, *, inbound: float, throughput: float, outbound_ratio: float,
    sorting_capacity: float, automatic: bool
) -> dict:
    """Rule R6 for one open hub: its whole throughput against its planned sorting.

    Parameters
    ----------
    rules
        The preset (R6 threshold).
    hub
        The hub's name.
    inbound, throughput
        Items/day the hub receives for its area, and all it sorts (inbound and outbound).
    outbound_ratio
        Outbound items per inbound item assumed.
    sorting_capacity
        Items/day the hub's planned sorting lines handle.
    automatic
        Whether automatic sorting is planned at the hub.

    Returns
    -------
    dict
        The R6 record with ``automatic_sorting``, ``sorting_capacity``, ``load``
        (throughput), ``inbound`` and ``outbound``. It fails when the throughput exceeds the
        sorting capacity, or reaches the threshold without automatic sorting planned.
    """
    r6 = rules["R6"]
    threshold = r6.low
    needed = throughput >= threshold
    out = throughput - inbound
    why, why_zh = [], []
    if needed and not automatic:
        why.append(f"{throughput:,.0f} items/day reach the {threshold:,.0f} threshold but no "
                   "automatic sorting is planned (the planner does not allow it)")
        why_zh.append(f"日均处理 {throughput:,.0f} 件，达到 {threshold:,.0f} 件但未规划全自动分拣")
    if throughput > sorting_capacity + 1e-9:
        why.append(f"{throughput:,.0f} items/day exceed the planned sorting capacity of "
                   f"{sorting_capacity:,.0f}")
        why_zh.append(f"日均处理 {throughput:,.0f} 件，超过规划分拣能力 {sorting_capacity:,.0f} 件")
    state = ("required and planned" if automatic else
             "required, not planned" if needed else "not required")
    state_zh = ("须配置并已规划全自动分拣" if automatic else
                "须配置全自动分拣但未规划" if needed else "无须全自动分拣")
    return rule_record(
        r6, required=f"automatic sorting from {threshold:,.0f} items/day, throughput within "
                     "the planned sorting capacity",
        achieved=f"{throughput:,.0f} items/day ({inbound:,.0f} in + {out:,.0f} out, outbound "
                 f"{outbound_ratio:g} per inbound item) for a sorting capacity of "
                 f"{sorting_capacity:,.0f}; automatic sorting {state}",
        achieved_zh=f"日均处理 {throughput:,.0f} 件（进 {inbound:,.0f} + 出 {out:,.0f}），"
                    f"分拣能力 {sorting_capacity:,.0f} 件；{state_zh}",
        passed=not why, place=hub, automatic_sorting=bool(automatic),
        sorting_capacity=sorting_capacity, load=throughput, inbound=inbound, outbound=out,
        reason="; ".join(why) or None, reason_zh="；".join(why_zh) or None)
