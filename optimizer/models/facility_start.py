r"""A greedy feasible start for the capacitated facility location of :mod:`.facility`.

A solver stopped early (a short time limit, a small node limit, a loaded machine) may end
without any incumbent; handed a feasible plan to start from, it ends with at least that plan.
The greedy here builds one in a few passes over the allowed pairs:

1. open the forced sites;
2. repeatedly open the site of least cost per unit of demand it would serve (its fixed cost plus
   the serving cost of the unserved demand in its reach, up to its capacity, divided by that
   demand), each site filling its room with the demand in its reach, cheapest pair first; with
   priced unserved demand a site opens only when it saves more than it costs, and a pair is used
   only when serving it is cheaper than leaving it unserved;
3. with priced overflow, place each demand still unserved at its cheapest open site beyond
   capacity when that is cheaper than leaving it unserved (or when service is required).

At most one site of an exclusive group opens. With a priced unserved share the result is always
feasible (what is left unserved is priced); with priced overflow and required service it is
feasible when every demand reaches a site that could open; with hard capacity and required
service the greedy may fail, and then there is no start. The plan is a start, not an optimum:
its cost is an upper bound on the model's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FacilityPairs", "GreedyStart", "greedy_start"]

_TOL = 1e-12


@dataclass(frozen=True)
class FacilityPairs:
    """A capacitated facility location in pair form, as the greedy reads it.

    Attributes
    ----------
    row, site, cost
        The allowed pairs: demand row, site, and the cost of serving all of the row there.
    demand, capacity, fixed
        Demand per row, capacity and opening cost per site.
    forced
        Bool per site that must open.
    group
        Exclusive group per site (``-1``: in no group); at most one site of a group opens.
    unserved
        Price of leaving all of a row unserved, per row; ``None`` when service is required.
    overflow
        Price per unit of demand beyond a site's capacity; ``None`` when capacity is hard.
    single_source
        Whether each row is served whole by one site.
    """

    row: np.ndarray
    site: np.ndarray
    cost: np.ndarray
    demand: np.ndarray
    capacity: np.ndarray
    fixed: np.ndarray
    forced: np.ndarray
    group: np.ndarray
    unserved: np.ndarray | None
    overflow: float | None
    single_source: bool


@dataclass(frozen=True)
class GreedyStart:
    """A feasible plan of a :class:`FacilityPairs` instance.

    Attributes
    ----------
    open
        Bool per site: open.
    share
        Share of each pair's row served at its site (``0 <= share <= 1``, a row's shares sum
        to at most 1; to exactly 1 when service is required).
    """

    open: np.ndarray
    share: np.ndarray


def greedy_start(pairs: FacilityPairs) -> GreedyStart | None:
    """Build a feasible plan greedily (steps 1-3 of this module's docstring).

    Parameters
    ----------
    pairs
        The instance.

    Returns
    -------
    GreedyStart or None
        The plan, or ``None`` when the greedy finds none (forced sites in one exclusive group,
        or required service it cannot give).
    """
    state = _Greedy(pairs)
    if not state.open_forced():
        return None
    while state.open_best():
        pass
    if pairs.overflow is not None:
        state.overflow_rest(pairs.overflow)
    reached = np.bincount(pairs.row, minlength=pairs.demand.size) > 0
    if pairs.unserved is None and np.any(state.left[reached] > 1e-9):
        return None
    return GreedyStart(state.open.copy(), state.share.copy())


class _Greedy:
    """The greedy's state: open sites, shares served, demand left, room left."""

    def __init__(self, pairs: FacilityPairs) -> None:
        self.p = pairs
        m = pairs.capacity.size
        self.open = np.zeros(m, dtype=bool)
        self.blocked = np.zeros(m, dtype=bool)
        self.share = np.zeros(pairs.row.size)
        self.left = np.ones(pairs.demand.size)
        self.room = pairs.capacity.astype(float).copy()
        by_site = np.lexsort((pairs.cost, pairs.site))
        bounds = np.searchsorted(pairs.site[by_site], np.arange(m + 1))
        self.pairs_of = [by_site[bounds[j]:bounds[j + 1]] for j in range(m)]

    def open_forced(self) -> bool:
        """Open every forced site; ``False`` when two of them share an exclusive group."""
        for j in np.flatnonzero(self.p.forced):
            if self.blocked[j]:
                return False
            self._open(int(j))
        return True

    def open_best(self) -> bool:
        """Open the site of least cost per unit served (step 2); ``False`` when none is worth it."""
        p, m = self.p, self.p.capacity.size
        usable = self._worth_serving() & ~(self.open | self.blocked)[p.site]
        if p.single_source:
            usable &= (self.left[p.row] >= 1.0) & (p.demand[p.row] <= p.capacity[p.site])
        weight = self.left[p.row] * usable
        reach = np.bincount(p.site, weights=p.demand[p.row] * weight, minlength=m)
        count = np.bincount(p.site, weights=usable, minlength=m)
        served = np.minimum(reach, p.capacity)
        part = np.where(reach > 0, served / np.where(reach > 0, reach, 1.0), 1.0)
        spend = p.fixed + part * np.bincount(p.site, weights=p.cost * weight, minlength=m)
        valid = count > 0
        if p.unserved is not None:
            saved = part * np.bincount(p.site, weights=p.unserved[p.row] * weight, minlength=m)
            valid &= saved > spend
        if not valid.any():
            return False
        tiny = 1e-9 * max(1.0, float(p.demand.max(initial=0.0)))  # zero-demand rows count
        unit = spend[valid] / (served[valid] + tiny * count[valid])
        self._open(int(np.flatnonzero(valid)[np.argmin(unit)]))
        return True

    def overflow_rest(self, price: float) -> None:
        """Serve what is left at its cheapest open site beyond capacity when it pays (step 3).

        ``price`` is the overflow price per unit of demand.
        """
        p = self.p
        ok = self.open[p.site] & (self.left[p.row] > _TOL)
        if p.unserved is not None:
            ok &= p.cost + price * p.demand[p.row] < p.unserved[p.row]
        cand = np.flatnonzero(ok)
        cand = cand[np.lexsort((p.cost[cand], p.row[cand]))]
        first = cand[np.concatenate(([True], p.row[cand][1:] != p.row[cand][:-1]))[:cand.size]]
        rows = p.row[first]
        self.share[first] += self.left[rows]
        self.left[rows] = 0.0

    def _worth_serving(self) -> np.ndarray:
        """Bool per pair: serving its row there costs less than leaving it unserved."""
        if self.p.unserved is None:
            return np.ones(self.p.row.size, dtype=bool)
        return self.p.cost < self.p.unserved[self.p.row]

    def _open(self, j: int) -> None:
        """Open site ``j``, block its exclusive group, and fill its room cheapest pair first."""
        p = self.p
        self.open[j] = True
        if p.group[j] >= 0:
            self.blocked |= p.group == p.group[j]
        worth = self._worth_serving()
        for k in self.pairs_of[j]:
            i = p.row[k]
            if self.left[i] <= _TOL or not worth[k]:
                continue
            take = self._take(i, j)
            self.share[k] += take
            self.left[i] = max(0.0, self.left[i] - take)
            self.room[j] = max(0.0, self.room[j] - take * p.demand[i])

    def _take(self, i: int, j: int) -> float:
        """Share of row ``i`` that fits in the room of site ``j``."""
        d = self.p.demand[i]
        if d <= 0:
            return float(self.left[i])
        if self.p.single_source:
            return 1.0 if self.left[i] >= 1.0 and d <= self.room[j] else 0.0
        return float(min(self.left[i], self.room[j] / d))
