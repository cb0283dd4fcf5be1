r"""A lower bound of a whole city's locker cost from its districts, by splitting shared sites.

Why a sum of district optima is no bound
----------------------------------------
City mode plans each district alone (:mod:`siting.city`). A site near a border is in reach of
the homes of two districts, and each district pays its whole fixed cost :math:`f` and rounds its
own modules up; in one plan of the whole city the site is paid once and its modules are rounded
once. So a district's optimum may count a shared site in full that the city's optimum shares,
and the sum of district optima may lie *above* the city's optimum.

The cost-splitting relaxation
-----------------------------
Let district :math:`d` have the homes :math:`H_d` it serves (``min-cost``: every home it can
serve) with daily parcels :math:`d_i`, and the sites :math:`J_d` in reach of them. Give each
site :math:`j` weights :math:`w_{dj} \ge 0` over the districts reaching it with
:math:`\sum_{d: j \in J_d} w_{dj} = 1` (here: each district's share of the parcels in reach of
:math:`j`). District :math:`d`'s *split problem* is the locker model (:mod:`optimizer.lockers`)
on :math:`H_d \times J_d` with

- the costs :math:`w_{dj} f` and :math:`w_{dj} g` per site and module of site :math:`j`;
- every :math:`i \in H_d` served (:math:`\sum_{j} x_{ij} = 1`), :math:`x_{ij} \le y_j`;
- the capacity rows :math:`\rho^- \sum_{i \in H_d} d_i x_{ij} \le K m_j` (R2's lower end per
  locker, implied by (3) and (3b) of the locker model), :math:`y_j \le m_j`, the module cap;
  an existing locker :math:`j` takes at most its capacity :math:`Q_j` from :math:`d`'s homes;
- R2's upper end and the per-community rows **dropped**.

Take any plan :math:`(y, m, x)` of the whole city serving every home the districts serve, and
restrict it to district :math:`d`: the same :math:`y_j, m_j` on :math:`J_d`, :math:`x` on
:math:`H_d`. It serves :math:`H_d` from sites in reach; each site's modules hold the parcels of
all its homes, so also of :math:`d`'s; an existing locker takes from :math:`d` at most what it
takes in all. Only the dropped rows could fail, so the restriction is feasible for the split
problem, at split cost :math:`\sum_{j \in J_d} w_{dj} (f y_j + g m_j)`. Summed over districts,
the weights of each site add up to one, so the split costs add up to the plan's cost (sites in
no district's reach are never opened by a cheapest plan). Hence, with :math:`LB_d` any valid
lower bound of district :math:`d`'s split problem (the solver's proven bound),

.. math:: \sum_d LB_d \;\le\; \sum_d \text{split cost}_d(\text{plan}) \;=\; \text{cost}(\text{plan})

for every plan, the cheapest included: :math:`\sum_d LB_d` is a lower bound of the city. Every
cost is a whole multiple of :math:`\gcd(f, g)` (here 2,000 CNY), so the bound is rounded up to
one. Better weights (a Lagrangian dual over them) can only raise it; any weights are valid.

Which city problem it bounds: the homes and reach of the districts' own problems (city mode's
homes, the same walking model); an existing locker's capacity is offered to every district
reaching it. City mode gives an existing locker only to the district containing it, so the
bound holds for the whole area solved as one plan too as long as no existing locker lies in a
neighbour's border buffer (none in the extracts here); ``tests/test_city_bound.py`` checks it
against the whole area solved as one plan.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .budget import SolveBudget
from .lockers import LockerParameters
from .milp import Milp, SolverName, relative_gap, solve_milp

__all__ = ["DistrictReach", "SplitBound", "city_gap", "city_lower_bound", "split_bound",
           "split_weights"]


@dataclass(frozen=True)
class DistrictReach:
    """One district's homes to serve and the sites in their reach, sites named city-wide.

    Attributes
    ----------
    daily_parcels
        Daily parcels of each home the district serves, shape ``(n,)``.
    pair_demand, pair_site
        Home-site pairs within the walking radius (indices into ``daily_parcels`` and
        ``site_keys``).
    site_keys
        City-wide id of each site (the same site in two districts has the same key).
    existing, existing_capacity
        Whether each site is an existing locker, and its compartments.
    """

    daily_parcels: np.ndarray
    pair_demand: np.ndarray
    pair_site: np.ndarray
    site_keys: np.ndarray
    existing: np.ndarray
    existing_capacity: np.ndarray

    def parcels_in_reach(self) -> np.ndarray:
        """Daily parcels of the district's homes in reach of each site."""
        return np.bincount(self.pair_site, weights=self.daily_parcels[self.pair_demand],
                           minlength=len(self.site_keys))


@dataclass(frozen=True)
class SplitBound:
    """A district's split problem solved: its proven lower bound (``None`` when unknown)."""

    status: str
    bound: float | None
    objective: float | None
    solve_s: float


def split_weights(districts: Sequence[DistrictReach]) -> list[np.ndarray]:
    """Weights of each district's sites: its share of the parcels in reach of the site.

    Parameters
    ----------
    districts
        All districts of the city.

    Returns
    -------
    list of numpy.ndarray
        Per district, one weight per site; a site's weights over the districts add up to one
        (equal shares where no district's parcels reach it).
    """
    parcels = [d.parcels_in_reach() for d in districts]
    total: dict[object, float] = {}
    count: dict[object, int] = {}
    for d, p in zip(districts, parcels, strict=True):
        for key, v in zip(d.site_keys.tolist(), p.tolist(), strict=True):
            total[key] = total.get(key, 0.0) + v
            count[key] = count.get(key, 0) + 1
    out = []
    for d, p in zip(districts, parcels, strict=True):
        keys = d.site_keys.tolist()
        tot = np.array([total[k] for k in keys])
        share = np.divide(p, tot, out=np.zeros_like(p), where=tot > 0)
        out.append(np.where(tot > 0, share, 1.0 / np.array([count[k] for k in keys])))
    return out


def _split_milp(d: DistrictReach, weights: np.ndarray, lp: LockerParameters) -> Milp:
    """Columns: y and m of each new site, then x of each pair (see the module docstring)."""
    n_s, n_p, n_h = len(d.site_keys), len(d.pair_demand), len(d.daily_parcels)
    new = ~d.existing.astype(bool)
    y, m, x = np.arange(n_s), n_s + np.arange(n_s), 2 * n_s + np.arange(n_p)
    load = d.daily_parcels[d.pair_demand]
    pn = new[d.pair_site]
    blocks = [  # (rows, cols, values, lower, upper) of each family of rows
        (d.pair_demand, x, np.ones(n_p), np.ones(n_h), np.ones(n_h)),  # each home served
        (np.r_[np.arange(pn.sum()), np.arange(pn.sum())], np.r_[x[pn], y[d.pair_site[pn]]],
         np.r_[np.ones(pn.sum()), -np.ones(pn.sum())], np.full(pn.sum(), -np.inf),
         np.zeros(pn.sum())),  # x_ij <= y_j
        (np.r_[d.pair_site, np.arange(n_s)], np.r_[x, m],
         np.r_[np.where(pn, lp.ratio[0] * load, load),
               np.where(new, -lp.compartments_per_module, 0.0)],
         np.full(n_s, -np.inf), np.where(new, 0.0, d.existing_capacity)),  # capacity
        (np.r_[np.arange(n_s), np.arange(n_s)], np.r_[y, m],
         np.r_[np.ones(n_s), -np.ones(n_s)], np.full(n_s, -np.inf), np.zeros(n_s)),  # y <= m
    ]
    rows, cols, vals, lo, hi, start = [], [], [], [], [], 0
    for r, c, v, low, up in blocks:
        rows.append(r + start)
        cols.append(c)
        vals.append(v)
        lo.append(low)
        hi.append(up)
        start += len(low)
    a = sparse.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(start, 2 * n_s + n_p))
    cap = np.inf if lp.max_modules_per_site is None else float(lp.max_modules_per_site)
    col_upper = np.r_[new.astype(float), np.where(new, cap, 0.0), np.ones(n_p)]
    c = np.r_[weights * lp.site_cost * new, weights * lp.module_cost * new, np.zeros(n_p)]
    return Milp(c=c, a=a, row_lower=np.concatenate(lo), row_upper=np.concatenate(hi),
                col_lower=np.zeros(len(c)), col_upper=col_upper,
                integrality=np.r_[np.ones(2 * n_s, bool), np.zeros(n_p, bool)])

#: Seconds each part of a split problem gets at least, so that every part has a bound.
_MIN_PART_S = 1.0


def _dominated(d: DistrictReach, weights: np.ndarray, lp: LockerParameters) -> np.ndarray:
    r"""Mask of the split problem's new sites an exact reduction drops.

    A new site reaching none of the district's homes is never opened by a cheapest plan. A
    new site :math:`j` whose homes all lie in the reach of a new site :math:`k` with
    :math:`w_{dk} \le w_{dj}` is dominated: moving :math:`j`'s homes and modules to
    :math:`k` keeps every row of the split problem (only R2's lower end bounds a site's
    load, and no module cap is set) and costs no more. Among equal reach and weight the
    first site stays. With a module cap nothing is dropped but the unreached sites.
    """
    n_s = len(d.site_keys)
    cover = sparse.csc_array((np.ones(len(d.pair_demand)), (d.pair_demand, d.pair_site)),
                             shape=(len(d.daily_parcels), n_s))
    size = np.bincount(d.pair_site, minlength=n_s)
    new = ~d.existing.astype(bool)
    drop = new & (size == 0)
    cols = np.flatnonzero(new & (size > 0))
    if lp.max_modules_per_site is not None or len(cols) == 0:
        return drop
    sub = cover[:, cols]
    overlap = sparse.coo_array(sub.T @ sub)
    a, b = cols[overlap.row], cols[overlap.col]
    within = (a != b) & (overlap.data == size[a])
    cheaper = (weights[b] < weights[a]) | ((weights[b] == weights[a])
                                           & ((size[b] > size[a]) | (b < a)))
    drop[a[within & cheaper]] = True
    return drop


def _parts(d: DistrictReach, keep: np.ndarray) -> list[tuple[DistrictReach, np.ndarray]]:
    """Cut the split problem on the kept sites into parts sharing no home or site.

    Returns each part and the positions of its sites in ``d``; the split problem's optimum
    and bound are the sums of its parts'.
    """
    on = keep[d.pair_site]
    pd_, ps_ = d.pair_demand[on], d.pair_site[on]
    n_h, n_s = len(d.daily_parcels), len(d.site_keys)
    graph = sparse.coo_array((np.ones(len(pd_)), (pd_, n_h + ps_)), shape=(n_h + n_s,) * 2)
    _, label = connected_components(graph, directed=False)
    parts = []
    for lab in np.unique(label[:n_h]):
        homes = np.flatnonzero(label[:n_h] == lab)
        sites = np.flatnonzero(keep & (label[n_h:] == lab))
        pos_h = np.full(n_h, -1)
        pos_h[homes] = np.arange(len(homes))
        pos_s = np.full(n_s, -1)
        pos_s[sites] = np.arange(len(sites))
        mine = pos_h[pd_] >= 0
        parts.append((DistrictReach(
            daily_parcels=d.daily_parcels[homes], pair_demand=pos_h[pd_[mine]],
            pair_site=pos_s[ps_[mine]], site_keys=d.site_keys[sites],
            existing=d.existing[sites], existing_capacity=d.existing_capacity[sites]), sites))
    return parts


def split_bound(d: DistrictReach, weights: np.ndarray, lp: LockerParameters, *,
                solver: SolverName = "highs", time_limit: float | None = 60.0,
                work_limit: int | None = None) -> SplitBound:
    """Solve one district's split problem; its proven bound is its share of the city bound.

    Dominated sites are dropped first (exact, :func:`_dominated`) and the rest is solved in
    parts sharing no home or site, smallest first, within ``time_limit`` (each part gets at
    least one second, so every part has a bound). With a ``work_limit`` each part ends after
    that many branch-and-bound nodes and gets all of ``time_limit`` as its safety limit, so
    the bound does not depend on the machine's speed or load.

    Parameters
    ----------
    d
        The district.
    weights
        Its weight of each of its sites (:func:`split_weights`).
    lp
        Locker parameters (costs, module size, R2's lower ratio, module cap).
    solver, time_limit
        As for :func:`optimizer.milp.solve_milp`.
    work_limit
        Branch-and-bound nodes of each part's solve (``None``: no limit).

    Returns
    -------
    SplitBound
        Status, proven bound and objective of the split problem.
    """
    t0 = time.perf_counter()
    results = []
    # small parts first (most prove at once)
    parts = sorted(_parts(d, ~_dominated(d, weights, lp)), key=lambda p: len(p[0].pair_site))
    # one budget for the parts: each gets what is left (the largest, last, a second at least),
    # or under a work limit its nodes, with all of time_limit as its safety limit
    with SolveBudget(time_limit, floor_s=_MIN_PART_S, work_limit=work_limit):
        for part, sites in parts:
            res = solve_milp(_split_milp(part, weights[sites], lp), solver=solver)
            bound = res.bound if res.bound is not None else (
                res.objective if res.status == "optimal" else None)
            results.append(SplitBound(res.status, bound, res.objective, res.solve_s))
    unsettled = [r.status for r in results if r.status != "optimal"]
    bounds = [r.bound for r in results]
    objectives = [r.objective for r in results]
    return SplitBound(
        unsettled[0] if unsettled else "optimal",
        None if None in bounds else float(sum(b for b in bounds if b is not None)),
        None if None in objectives else float(sum(o for o in objectives if o is not None)),
        time.perf_counter() - t0)


def city_lower_bound(bounds: Sequence[SplitBound], lp: LockerParameters
                     ) -> float | None:
    """Sum the districts' split bounds into the city's bound, rounded up to a cost step.

    Parameters
    ----------
    bounds
        :func:`split_bound` of every district.
    lp
        Locker parameters (``site_cost``, ``module_cost``).

    Returns
    -------
    float or None
        The bound, or ``None`` when some district's split problem has no proven bound.
    """
    if any(b.bound is None for b in bounds):
        return None
    total = float(sum(b.bound for b in bounds if b.bound is not None))
    f, g = lp.site_cost, lp.module_cost
    if float(f).is_integer() and float(g).is_integer() and (f or g):
        step = math.gcd(int(f), int(g))
        total = step * math.ceil((total - 1e-6 * abs(total)) / step)  # solver tolerance
    return total


def city_gap(cost: float, bound: float | None) -> float | None:
    """Return the relative gap of the city's cost to its bound (``None`` without a bound)."""
    return None if bound is None else relative_gap(cost, bound)
