r"""Community end-stations (rule R1) and neighbourhood cargo stations (rule R7).

Community end-stations
----------------------
Rule R1 (seed 004, 五(二) 公共末端工程: 新建居住社区应建设使用面积不小于 15 平方米的邮政快递末端
综合服务站) asks one staffed station per residential community. *Within reach* is read
strictly: every residential building (demand point) :math:`i` of community :math:`k` must be
within the station radius :math:`r` (default 500 m walk, the 10-minute circle of GB
50180-2018) of a station of its community. A weighted centre would leave the far homes of a
large community out of reach, which the planner would not accept; when one station cannot reach
every home the model opens a second. A community with no residential building mapped gets no
station (it would handle 0 parcels a day): its R1 record is "not evaluated" and says why.

The clause is for *new* residential communities: a planner's communities table may mark them
(column ``new``); without it every community counts as new, and the R1 record says which
applied. A community not new gets a "not applicable" record (old compounds are goal G3's).

:math:`A_j` is the floor area a station could use at candidate :math:`j`
(:func:`geodata.candidates.station_floor_areas`): a room of a planner's inventory with its own
area, else one ground-floor unit of an OSM building (100 m2, a stated assumption), never a
whole building's footprint. Columns :math:`c = (j, k)` pair candidate :math:`j` (with
:math:`A_j \ge A_{R1}`, the R1 minimum) with a community :math:`k` it reaches;
:math:`y_c \in \{0,1\}` opens it,
:math:`x_{ic} \ge 0` is the share of point :math:`i`'s :math:`d_i` daily parcels it serves,
:math:`s_i, u_c \ge 0` are slacks that turn a missing station or floor area into a named reason
instead of an infeasible model.

.. math::

    \min\; & \textstyle\sum_c f_c y_c + \beta \sum_{i,c} d_i w_{ic} x_{ic}
             + M \sum_i s_i + M_A \sum_c u_c \\
    (1)\;& \textstyle\sum_{c \ni i} x_{ic} + s_i = 1 && \forall i \\
    (2)\;& x_{ic} \le y_c && \forall i, c \\
    (3)\;& a \textstyle\sum_i d_i x_{ic} \le A_j\, y_c + u_c && \forall c = (j, k) \quad (R1) \\
    (4)\;& \textstyle\sum_{k} y_{(j,k)} \le 1 && \forall j

:math:`f_c` is the station cost (lower for an existing post office or express shop, which the
plan asks to reuse), :math:`w_{ic} \le r` the walk, :math:`a` the floor area per daily parcel.
A station's required area is :math:`\max(A_{R1}, a L_c)` with :math:`L_c` its load; (3) keeps
it within the candidate's floor area.

This is the capacitated facility location of :mod:`optimizer.models.facility` with columns as
sites (capacity :math:`A_j / a` parcels, serving cost :math:`\beta d_i w_{ic}`), the unserved
share :math:`s_i` and the overflow :math:`u_c / a` priced, and the columns of one candidate
:math:`j` an exclusive group (4); it is solved by that core model.

Neighbourhood cargo stations
----------------------------
Rule R7 (seed 004 五(二); 002 二(三)10): each neighbourhood centre (from
:func:`geodata.centres.centres_from_osm`) gets a cargo station at a candidate of at least
``min_floor_m2`` within ``radius_m`` walk of it, a candidate serving one centre only. Centres
:math:`c` are matched to candidates :math:`j` by an optimal assignment (a min-cost bipartite
matching, :func:`scipy.optimize.linear_sum_assignment`) with pair cost

.. math:: w_{cj} = \begin{cases} B\, \rho_j + \omega_{cj} & \omega_{cj} \le r \\
                                  M & \text{otherwise} \end{cases}

where :math:`\rho_j` is the candidate's rank in :data:`REUSE_ORDER` (reused kinds first),
:math:`\omega_{cj}` the walk, :math:`B > r` so a better kind outweighs any walk, and
:math:`M` larger than the sum of every admissible cost, so the matching first serves as many
centres as possible, then prefers reuse, then short walks. A greedy pass in the order of the
centres can give a centre's only candidate to a centre that had another; the matching cannot:
a centre fails R7 only when no matching serves it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment

from geodata.candidates import GROUND_FLOOR_UNIT_M2
from geodata.errors import ParameterError, SolverError

from .compliance import not_evaluated_record, rule_record
from .milp import SolverName
from .models import capacitated_facility_location
from .rules import WALK_RADIUS_M, Rule, RuleSet
from .solve_record import RULE_BASED, SolveRecord
from .tier_records import not_applicable_record

__all__ = [
    "REUSE_ORDER",
    "CargoPlan",
    "CargoProblem",
    "StationParameters",
    "StationPlan",
    "StationProblem",
    "StationSites",
    "match_centres",
    "plan_cargo_stations",
    "plan_community_stations",
    "station_sites",
]

log = logging.getLogger(__name__)

#: Candidate kinds a station prefers, best first: existing outlets are reused.
REUSE_ORDER = ("express_shop", "post_office", "community_centre", "convenience",
               "residential_ground_floor")
_REUSED = ("express_shop", "post_office")


@dataclass(frozen=True)
class StationParameters:
    """Parameters of the station tiers, each with its source.

    Attributes
    ----------
    radius_m
        Longest walk from a home to its community station. Default 500 m: the 10-minute
        walking circle of GB 50180-2018.
    m2_per_daily_parcel
        Usable floor area per daily parcel. Default 0.1 m2: a stated assumption (shelving for
        about two days of parcels plus a counter; a 15 m2 room holds ~150 parcels/day).
    new_cost, reuse_cost
        Cost of fitting out a new station, and of reusing an existing post office or express
        shop. Defaults 50,000 and 10,000 CNY, stated assumptions.
    walk_cost
        Cost per daily parcel-metre walked, a tie-breaker. Default 0.01 CNY: one station
        outweighs five million parcel-metres.
    cargo_radius_m
        Longest walk from a neighbourhood centre to its cargo station. Default 300 m (the
        5-minute circle of GB 50180-2018).
    ground_floor_unit_m2
        Floor area a station can use at an OSM site: one ground-floor unit. Default
        :data:`geodata.candidates.GROUND_FLOOR_UNIT_M2` (100 m2), a stated assumption.
    """

    radius_m: float = 500.0
    m2_per_daily_parcel: float = 0.1
    new_cost: float = 50_000.0
    reuse_cost: float = 10_000.0
    walk_cost: float = 0.01
    cargo_radius_m: float = WALK_RADIUS_M
    ground_floor_unit_m2: float = GROUND_FLOOR_UNIT_M2

    def __post_init__(self) -> None:
        bad = [f"{k}={v!r}" for k, v in vars(self).items() if not (v >= 0 and np.isfinite(v))]
        if bad or not self.radius_m > 0:
            raise ParameterError(f"station parameters must be finite and >= 0, radius > 0: "
                                 f"{', '.join(bad) or f'radius_m={self.radius_m!r}'}")


@dataclass(frozen=True)
class StationSites:
    """The candidate sites of the station tiers, one entry each.

    Attributes
    ----------
    site_id
        Their ids (carried into the plans).
    kind
        Their kind (:data:`REUSE_ORDER`; other kinds rank last).
    area_m2
        Floor area a station could use there (:func:`geodata.candidates.station_floor_areas`).
    area_source
        Where that figure comes from, in words.
    area_basis
        The same as data: ``planner inventory``, ``OSM measured``, ``default`` or ``unknown``
        (:data:`geodata.candidates.AREA_BASES`).
    area_parameter
        The parameter that set a ``default`` figure (empty otherwise).
    """

    site_id: np.ndarray
    kind: np.ndarray
    area_m2: np.ndarray
    area_source: np.ndarray
    area_basis: np.ndarray
    area_parameter: np.ndarray


def station_sites(area_m2: np.ndarray, rules: RuleSet, *, taken: np.ndarray | None = None
                  ) -> np.ndarray:
    """Return the indices of the sites a station may use: at least R1's floor area, not taken.

    Parameters
    ----------
    area_m2
        Floor area a station could use at each site.
    rules
        The preset (R1's floor area, the smallest room accepted by R1 and R7).
    taken
        Bool per site already used (by community end-stations, for the cargo tier), or
        ``None``.

    Returns
    -------
    numpy.ndarray
        Sorted site indices.
    """
    ok = np.asarray(area_m2, dtype=float) >= rules["R1"].low
    if taken is not None:
        ok &= ~np.asarray(taken, dtype=bool)
    return np.flatnonzero(ok)


@dataclass(frozen=True)
class StationProblem:
    """A community end-station instance in index form (R1).

    Attributes
    ----------
    community, community_name
        Id and name of every community planned, shape ``(k,)``.
    new
        Bool per community: a new residential community (R1's scope).
    new_marked
        ``None`` when the communities carry no ``new`` flag; else whether a planner's table
        marked them (for the R1 record).
    point_community, daily_parcels
        Community id and daily parcels of each point served, shape ``(n,)``: the homes of the
        new communities, then the representative point of each new one without a home
        (:func:`geodata.tier_inputs.station_points`).
    n_homes
        How many of the points are homes (the first ``n_homes``).
    pair_point, pair_site, pair_walk_m
        Point-site pairs within the station radius and their walk in metres (pairs to sites
        below R1's floor area are ignored).
    sites
        The candidate sites (:class:`StationSites`).
    """

    community: np.ndarray
    community_name: np.ndarray
    new: np.ndarray
    new_marked: bool | None
    point_community: np.ndarray
    daily_parcels: np.ndarray
    n_homes: int
    pair_point: np.ndarray
    pair_site: np.ndarray
    pair_walk_m: np.ndarray
    sites: StationSites


@dataclass(frozen=True)
class StationPlan:
    """Community end-stations and their per-community compliance.

    Attributes
    ----------
    stations
        ``station_id``, ``community``, ``community_name``, ``site`` (index into the sites),
        ``site_id``, ``kind``, ``reused``, ``daily_parcels`` (load), ``planned_area_m2`` (the
        station's usable area, max(R1 minimum, m2 per daily parcel x load)),
        ``available_area_m2`` (what the site offers), ``area_source`` (where that figure comes
        from, in words), ``area_basis`` and ``area_parameter`` (the same as data, see
        :class:`StationSites`), ``capped_by_area`` (the planned area reaches the available
        one: the site's figure caps the station's load), ``floor_area_m2`` (= the available
        area, kept for old scripts) and ``required_m2`` (= the planned area).
    communities
        Per community: ``community``, ``name``, ``homes``, ``daily_parcels``, ``stations``,
        ``max_walk_m``, ``passed``, ``evaluated`` (False for a community with no home mapped:
        it gets no station, and its R1 record says so), ``reason``.
    records
        R1 records: one per community and one overall.
    solve
        Status, objective, bound, gap and times (:class:`optimizer.solve_record.SolveRecord`).
    """

    stations: pd.DataFrame
    communities: pd.DataFrame
    records: list[dict] = field(default_factory=list)
    solve: SolveRecord = SolveRecord("")


@dataclass(frozen=True)
class _Columns:
    """The model's columns: one per (site, community) pair met in reach."""

    of_pair: np.ndarray
    site: np.ndarray
    community: np.ndarray


def _columns(problem: StationProblem, ri: np.ndarray, rj: np.ndarray) -> _Columns:
    comm = problem.point_community
    col_of, uniques = pd.factorize(pd.MultiIndex.from_arrays([rj, comm[ri]]))
    ncol = len(uniques)
    col_j = np.zeros(ncol, dtype=np.int64)
    col_j[col_of] = rj
    col_k = np.empty(ncol, dtype=object)
    col_k[col_of] = comm[ri]
    return _Columns(col_of, col_j, col_k)


def plan_community_stations(
    problem: StationProblem,
    rules: RuleSet,
    *,
    params: StationParameters | None = None,
    solver: SolverName = "highs",
    time_limit: float | None = 60.0,
) -> StationPlan:
    """Site one or more end-stations of at least R1's floor area in every community.

    Parameters
    ----------
    problem
        The instance (:class:`StationProblem`).
    rules
        The preset (R1's floor area).
    params
        :class:`StationParameters` (the documented defaults when ``None``).
    solver, time_limit
        Passed to :func:`optimizer.models.capacitated_facility_location`.

    Returns
    -------
    StationPlan
        Stations, a per-community table with the exact reason of every failure, and records.

    Raises
    ------
    SolverError
        If the solver returns no solution: only on a solver error, since the model starts
        from a feasible greedy plan, which a solve stopped early returns (status
        ``"time_limit"`` or ``"work_limit"``).
    """
    t0 = time.perf_counter()
    p = params or StationParameters()
    r1 = rules["R1"]
    amin = r1.low
    pr, sites = problem, problem.sites
    comm, d, area = pr.point_community, pr.daily_parcels, sites.area_m2
    # a community with no home mapped has 0 parcels a day: no station for it (_NO_HOME)
    keep = (area[pr.pair_site] >= amin) & (pr.pair_point < pr.n_homes)
    ri, rj, rw = pr.pair_point[keep], pr.pair_site[keep], pr.pair_walk_m[keep]
    cols = _columns(pr, ri, rj)
    col_of, col_j, col_k = cols.of_pair, cols.site, cols.community
    ncol = len(col_j)
    n, npair = len(d), len(ri)
    f = np.where(np.isin(sites.kind[col_j], _REUSED), p.reuse_cost, p.new_cost)
    big = 10.0 * p.new_cost
    a_per = p.m2_per_daily_parcel
    sol = capacitated_facility_location(
        sparse.csr_array((p.walk_cost * d[ri] * rw, (ri, col_of)), shape=(n, ncol)),
        d,
        area[col_j] / a_per,
        f,
        unserved_cost=big,
        overflow_cost=big / max(amin, 1.0) * a_per,
        exclusive=col_j,
        solver=solver,
        time_limit=time_limit,
    )
    if sol.allocation is None:
        raise SolverError(f"R1 community stations: solver {sol.solver} returned {sol.status} "
                          "without a solution; raise time_limit or try solver='cbc'")
    y = np.zeros(ncol, dtype=bool)
    y[sol.open_sites] = True
    x = np.asarray(sol.allocation[ri, col_of]).ravel() if npair else np.zeros(0)
    s = 1.0 - np.bincount(ri, weights=x, minlength=n)
    load = np.bincount(col_of, weights=d[ri] * x, minlength=ncol)
    u = np.clip(a_per * load - area[col_j], 0.0, None)
    new = pr.new
    names = dict(zip(pr.community[new], pr.community_name[new], strict=True))
    open_c = np.flatnonzero(y)
    at = col_j[open_c]
    stations = pd.DataFrame({
        "station_id": [f"st-{i + 1:03d}" for i in range(len(open_c))],
        "community": col_k[open_c], "community_name": [names[k] for k in col_k[open_c]],
        "site": at, "site_id": sites.site_id[at], "kind": sites.kind[at],
        "reused": np.isin(sites.kind[at], _REUSED),
        "daily_parcels": load[open_c],
        "planned_area_m2": np.maximum(amin, p.m2_per_daily_parcel * load[open_c]),
        "available_area_m2": area[at], "area_source": sites.area_source[at],
        "area_basis": sites.area_basis[at], "area_parameter": sites.area_parameter[at],
    })
    # the site's floor area, not the parcels, sets the station's size: its load is capped there
    stations["capped_by_area"] = stations["planned_area_m2"] >= stations["available_area_m2"] - 1e-6
    stations["floor_area_m2"] = stations["available_area_m2"]
    stations["required_m2"] = stations["planned_area_m2"]
    any_reach = np.bincount(ri, minlength=n) > 0
    table, records = [], []
    for k in pr.community[new]:
        mine = np.flatnonzero(comm == k)
        if not (mine < pr.n_homes).any():
            table.append((k, names[k], 0, 0.0, 0, float("nan"), False, False, _NO_HOME[0]))
            records.append(not_evaluated_record(r1, need=_NO_HOME[0], need_zh=_NO_HOME[1],
                                                place=names[k], community=k))
            continue
        ck = open_c[col_k[open_c] == k]
        served = np.isin(ri, mine) & np.isin(col_of, ck) & (x > 1e-6)
        miss = mine[s[mine] > 1e-6]
        short = ck[u[ck] > 1e-6]
        reason = reason_zh = None
        if not any_reach[mine].any():
            reason = f"no candidate of >= {amin:g} m2 within {p.radius_m:g} m walk"
            reason_zh = f"步行 {p.radius_m:g} 米内无使用面积不小于 {amin:g} 平方米的候选站点"
        elif len(miss):
            none = miss[~any_reach[miss]]
            if len(none):
                reason = (f"{len(none)} of {len(mine)} homes ({d[none].sum():.0f} parcels/day) "
                          f"have no candidate of >= {amin:g} m2 within {p.radius_m:g} m walk")
                reason_zh = (f"{len(mine)} 栋中 {len(none)} 栋（日均 {d[none].sum():.0f} 件）步行 "
                             f"{p.radius_m:g} 米内无不小于 {amin:g} 平方米的候选站点")
            else:
                reason = (f"the candidates within {p.radius_m:g} m of {len(miss)} homes serve "
                          "neighbouring communities")
                reason_zh = f"{len(miss)} 栋楼 {p.radius_m:g} 米内的候选站点已服务相邻社区"
        elif len(short):
            need_m2 = p.m2_per_daily_parcel * load[short].sum()
            have_m2 = area[col_j[short]].sum()
            reason = (f"candidates within {p.radius_m:g} m too small: need {need_m2:.0f} m2, "
                      f"have {have_m2:.0f} m2")
            reason_zh = (f"{p.radius_m:g} 米内候选站点面积不足：需 {need_m2:.0f} 平方米，"
                         f"仅有 {have_m2:.0f} 平方米")
        ok = reason is None and len(ck) > 0
        walk = float(rw[served].max()) if served.any() else float("nan")
        table.append((k, names[k], int((mine < pr.n_homes).sum()), float(d[mine].sum()), len(ck),
                      walk, ok, True, reason or ""))
        records.append(_community_record(
            r1, sites, col_j[ck], np.maximum(amin, a_per * load[ck]), radius_m=p.radius_m,
            walk=walk, passed=ok, place=names[k], community=k, reason=reason,
            reason_zh=reason_zh))
    frame = pd.DataFrame(table, columns=["community", "name", "homes", "daily_parcels", "stations",
                                         "max_walk_m", "passed", "evaluated", "reason"])
    npass, judged = int(frame["passed"].sum()), int(frame["evaluated"].sum())
    unjudged = (f"; {len(frame) - judged} with no home mapped, not evaluated"
                if judged < len(frame) else "")
    records.insert(0, rule_record(
        r1, required=f"a >= {amin:g} m2 end-station in each of {judged} communities with homes",
        achieved=f"{npass} of {judged} communities; {len(stations)} stations "
                 f"({int(stations['reused'].sum())} reused){unjudged}",
        achieved_zh=f"{judged} 个社区中 {npass} 个达标；共 {len(stations)} 个站点（利用现有 "
                    f"{int(stations['reused'].sum())} 个）"
                    + (f"；{len(frame) - judged} 个社区无楼栋数据，未评估" if unjudged else ""),
        passed=npass == judged, new_communities=_scope(new, pr.new_marked)))
    for k, name in zip(pr.community[~new], pr.community_name[~new], strict=True):
        records.extend(not_applicable_record(
            rules, "R1", "an end-station in a new residential community",
            "the planner's communities table marks this community as not new (R1 is for "
            "新建居住社区)", place=name, community=k,
            reason_zh="规划方社区表标明该社区非新建居住社区（R1 针对新建居住社区）"))
    dt = time.perf_counter() - t0
    log.info("community stations: %d stations for %d communities (%d pass R1), %d columns, "
             "%d pairs, %s, in %.2f s", len(stations), len(frame), npass, ncol, npair,
             sol.status, dt)
    return StationPlan(stations, frame, records, SolveRecord.of(sol, build_s=dt - sol.solve_s))


def _community_record(r1: Rule, sites: StationSites, at: np.ndarray, planned: np.ndarray, *,
                      radius_m: float, walk: float, **extra: Any) -> dict:
    """R1 record of one community: its stations' planned and available areas, text and data."""
    basis = [str(sites.area_basis[j]) for j in at]
    pairs = list(zip(planned, sites.area_m2[at], basis, strict=True))
    far = np.isfinite(walk)
    return rule_record(
        r1, required=f">= {r1.low:g} m2 station within {radius_m:g} m walk of every home",
        achieved=f"{len(at)} station(s), planned/available " + ", ".join(
            f"{m:.0f}/{a:.0f} m2 ({b})" for m, a, b in pairs)
        + (f"; longest walk {walk:.0f} m" if far else ""),
        achieved_zh=f"{len(at)} 个站点，规划/可用面积 " + "、".join(
            f"{m:.0f}/{a:.0f} 平方米（{_BASIS_ZH[b]}）" for m, a, b in pairs)
        + (f"；最远步行 {walk:.0f} 米" if far else ""),
        stations=_station_areas(sites, at, planned), **extra)


#: Chinese words of each area basis (:data:`geodata.candidates.AREA_BASES`).
_BASIS_ZH = {"planner inventory": "规划方清单", "OSM measured": "OSM 实测",
             "default": "默认假设值", "unknown": "未知"}


def _station_areas(sites: StationSites, at: np.ndarray, planned: np.ndarray) -> list[dict]:
    """Each station's planned area, its site's available area and that figure's source, as data.

    Parameters
    ----------
    sites
        The candidate sites.
    at
        Site index of each station.
    planned
        Planned area of each station (m2).

    Returns
    -------
    list of dict
        ``site_id``, ``planned_area_m2``, ``available_area_m2``, ``area_basis``,
        ``area_parameter`` (empty unless the basis is the stated default) and ``area_source``.
    """
    return [{"site_id": str(sites.site_id[j]), "planned_area_m2": round(float(m), 2),
             "available_area_m2": round(float(sites.area_m2[j]), 2),
             "area_basis": str(sites.area_basis[j]),
             "area_parameter": str(sites.area_parameter[j]),
             "area_source": str(sites.area_source[j])}
            for j, m in zip(at, planned, strict=True)]


#: What would decide R1 for a community in which no home is mapped (it gets no station).
_NO_HOME = ("the community's homes: no residential building is mapped in it, so a station "
            "would handle 0 parcels a day and none is planned",
            "该社区的住宅楼栋数据：社区内未标注住宅楼栋，站点日处理量为 0 件，故不设站")


def _scope(new: np.ndarray, marked: bool | None) -> str:
    """Say which communities R1 counts as new residential communities, and from what."""
    if marked is None:
        return (f"all {len(new)} communities count as new residential communities "
                "(default: no 'new' column in a planner's communities table)")
    how = "marked in the planner's communities table" if marked else "default: all new"
    return f"{int(new.sum())} of {len(new)} communities are new ({how})"


@dataclass(frozen=True)
class CargoProblem:
    """A cargo-station instance in index form (R7).

    Attributes
    ----------
    centre_id, centre_name
        Id and name of every neighbourhood centre, shape ``(c,)``.
    pair_centre, pair_site, pair_walk_m
        Centre-site pairs within the cargo radius, to free sites of at least R1's floor area
        (:func:`station_sites`), and their walk in metres.
    sites
        The candidate sites (:class:`StationSites`).
    """

    centre_id: np.ndarray
    centre_name: np.ndarray
    pair_centre: np.ndarray
    pair_site: np.ndarray
    pair_walk_m: np.ndarray
    sites: StationSites


@dataclass(frozen=True)
class CargoPlan:
    """Neighbourhood cargo stations (R7).

    Attributes
    ----------
    stations
        One row per centre served: ``centre_id``, ``centre``, ``site`` (index into the sites),
        ``site_id``, ``kind``, ``floor_area_m2``, ``walk_m``.
    records
        R7 records: per centre and overall.
    solve
        Status (:data:`optimizer.solve_record.RULE_BASED`) and time.
    """

    stations: pd.DataFrame
    records: list[dict] = field(default_factory=list)
    solve: SolveRecord = SolveRecord(RULE_BASED)


def plan_cargo_stations(
    problem: CargoProblem,
    rules: RuleSet,
    *,
    params: StationParameters | None = None,
) -> CargoPlan:
    """Give each neighbourhood centre a cargo station at a candidate near it (R7).

    Parameters
    ----------
    problem
        The instance (:class:`CargoProblem`).
    rules
        The preset (R7; R1's floor area is the smallest room accepted).
    params
        :class:`StationParameters` (``cargo_radius_m``).

    Returns
    -------
    CargoPlan
        Stations and records; a centre without a candidate fails with the reason.
    """
    t0 = time.perf_counter()
    p = params or StationParameters()
    r7, amin = rules["R7"], rules["R1"].low
    pr, sites = problem, problem.sites
    n = len(pr.centre_id)
    rank = pd.Series(sites.kind).map({k: i for i, k in enumerate(REUSE_ORDER)}).fillna(99)
    site, walk = match_centres(pr.pair_centre, pr.pair_site, pr.pair_walk_m, rank.to_numpy(),
                               n_centres=n, radius_m=p.cargo_radius_m)
    reachable = np.bincount(pr.pair_centre, minlength=n) > 0
    records = []
    for i, (cid, name) in enumerate(zip(pr.centre_id, pr.centre_name, strict=True)):
        ok = bool(site[i] >= 0)
        records.append(rule_record(
            r7, required="1 cargo station", achieved="1 station" if ok else "none",
            achieved_zh="1 个站点" if ok else "无", passed=ok, place=name,
            centre_id=cid, **({} if ok else _r7_reason(
                bool(reachable[i]), amin, p.cargo_radius_m))))
    hit = np.flatnonzero(site >= 0)
    at = site[hit]
    stations = pd.DataFrame({
        "centre_id": pr.centre_id[hit], "centre": pr.centre_name[hit], "site": at,
        "site_id": sites.site_id[at], "kind": sites.kind[at],
        "floor_area_m2": sites.area_m2[at], "walk_m": walk[hit].astype(float)})
    records.insert(0, rule_record(
        r7, required=f"a cargo station at each of {n} neighbourhood centres",
        achieved=f"{len(stations)} of {n}",
        achieved_zh=f"{n} 个街坊中心中 {len(stations)} 个设站",
        passed=len(stations) == n))
    log.info("cargo stations: %d of %d neighbourhood centres served (optimal matching)",
             len(stations), n)
    return CargoPlan(stations, records, SolveRecord(RULE_BASED,
                                                    build_s=time.perf_counter() - t0))


def _r7_reason(reachable: bool, amin: float, radius_m: float) -> dict[str, str]:
    """Why a centre has no cargo station: none in reach, or every one in reach matched."""
    if not reachable:
        return {"reason": f"no free candidate of >= {amin:g} m2 within {radius_m:g} m walk",
                "reason_zh": f"步行 {radius_m:g} 米内无空闲的、不小于 {amin:g} 平方米的候选站点"}
    return {"reason": f"every candidate of >= {amin:g} m2 within {radius_m:g} m walk is "
                      "needed by another centre (optimal matching)",
            "reason_zh": f"步行 {radius_m:g} 米内不小于 {amin:g} 平方米的候选站点"
                         "均须服务其他街坊中心（最优匹配）"}


def match_centres(
    centre: np.ndarray,
    site: np.ndarray,
    walk_m: np.ndarray,
    rank: np.ndarray,
    *,
    n_centres: int,
    radius_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Match centres to sites optimally (the assignment of the module docstring, R7).

    Parameters
    ----------
    centre, site, walk_m
        Admissible pairs: centre index, site index and walk in metres (``<= radius_m``).
    rank
        Rank of every site (index into it with ``site``); lower is preferred.
    n_centres
        Number of centres.
    radius_m
        Longest admissible walk; the weight :math:`B` of a rank step is ``radius_m + 1``.

    Returns
    -------
    site_of, walk_of : numpy.ndarray
        Per centre the matched site (``-1`` when none) and its walk (NaN when none).
    """
    site_of = np.full(n_centres, -1, dtype=np.int64)
    walk_of = np.full(n_centres, np.nan)
    if len(site) == 0:
        return site_of, walk_of
    cols, col_of = np.unique(site, return_inverse=True)
    weight = (radius_m + 1.0) * rank[site].astype(float) + walk_m
    big = float(weight.sum()) + 1.0
    cost = np.full((n_centres, len(cols)), big)
    cost[centre, col_of] = weight
    walk = np.full(cost.shape, np.nan)
    walk[centre, col_of] = walk_m
    r, c = linear_sum_assignment(cost)
    hit = cost[r, c] < big
    site_of[r[hit]] = cols[c[hit]]
    walk_of[r[hit]] = walk[r[hit], c[hit]]
    return site_of, walk_of
