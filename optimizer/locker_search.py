r"""A local search over open sites that joins isolated groups of homes (a better start).

Given its open sites, a plan's homes split into the connected parts of the reach graph among
them; no parcel crosses from one part to another, so each part :math:`C` needs at least
:math:`\lceil \rho^- (D_C - Q_C)/K \rceil` new modules of its own (:math:`Q_C` the existing
capacity in it), and the rounding is paid once per part. On the Shanghai street grid, where
every home has the same parcels, a minimum cover leaves dozens of small parts and pays 23
modules of rounding. The search estimates a set of open sites by

.. math:: F(S) = f\,|S_\text{new}| + g \textstyle\sum_C \lceil \rho^- (D_C - Q_C)/K \rceil,

and improves it by the moves of a swap local search for covering problems (Jacobs and
Brusco, 1995): open a closed site, and close at most one open site whose homes stay reached.
A move is kept when it lowers :math:`F`. :math:`F` is an estimate, not a plan: the caller sizes
modules on the sites found with the model itself and keeps them only when that plan is cheaper.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .budget import active_budget
from .locker_bounds import Reach, modules_for

if TYPE_CHECKING:
    from .lockers import LockerParameters, _Reduced

__all__ = ["GroupCost", "join_groups", "joined_sites"]


class GroupCost:
    r"""The estimate :math:`F(S)` of a set of open sites (module docstring).

    Parameters
    ----------
    homes
        The homes, sites and reach.
    site_cost, module_cost
        :math:`f` and :math:`g`.
    compartments
        Compartments per module, :math:`K`.
    low_ratio
        Least compartments per daily parcel, :math:`\rho^-` (rule R2, seed 004 五(二)).
    """

    def __init__(
        self,
        homes: Reach,
        *,
        site_cost: float,
        module_cost: float,
        compartments: int,
        low_ratio: float,
    ) -> None:
        self.reach = sparse.csc_array(homes.reach)
        self.shared = sparse.csr_array(self.reach.T @ self.reach)
        self.parcels = np.asarray(homes.parcels, dtype=float)
        self.existing = np.asarray(homes.existing, dtype=bool)
        self.capacity = np.where(self.existing, homes.capacity, 0.0)
        self.f, self.g = site_cost, module_cost
        self.k, self.low = compartments, low_ratio

    def __call__(self, open_sites: np.ndarray) -> float:
        """Return :math:`F` of ``open_sites`` (a mask), ``inf`` when a home is not reached."""
        cols = np.flatnonzero(open_sites | self.existing)
        sub = self.reach[:, cols]
        first = sparse.csr_array(sub)
        if np.any(np.diff(first.indptr) == 0):
            return float("inf")
        parts, label = connected_components(self.shared[cols][:, cols], directed=False)
        home_part = label[first.indices[first.indptr[:-1]]]
        load = np.bincount(home_part, weights=self.parcels, minlength=parts)
        held = np.bincount(label, weights=self.capacity[cols], minlength=parts)
        modules = modules_for(np.maximum(load - held, 0.0), self.low, self.k).sum()
        return float(self.f * np.count_nonzero(open_sites & ~self.existing) + self.g * modules)

    def redundant(self, open_sites: np.ndarray) -> np.ndarray:
        """Return the open new sites whose homes all stay reached without them."""
        cols = np.flatnonzero(open_sites | self.existing)
        count = np.asarray(self.reach[:, cols].sum(axis=1)).ravel()
        single = sparse.csr_array(self.reach[count == 1]).indices
        spare = open_sites & ~self.existing
        spare[single] = False
        return np.flatnonzero(spare)


def join_groups(
    cost: GroupCost, open_sites: np.ndarray, *, time_limit: float, seed: int = 0
) -> tuple[np.ndarray, float]:
    """Improve ``open_sites`` by opening one site and closing at most one, while :math:`F` falls.

    Parameters
    ----------
    cost
        The estimate :math:`F`.
    open_sites
        Boolean mask of a plan's open sites (reaching every home).
    time_limit
        Seconds to search; the search also ends when a full round finds no better move.
    seed
        Seed of the order in which closed sites are tried.

    Returns
    -------
    tuple
        The best mask found and its :math:`F`.
    """
    rng = np.random.default_rng(seed)
    best = open_sites.copy()
    value = cost(best)
    t0 = time.perf_counter()
    improved = True
    while improved and time.perf_counter() - t0 < time_limit:
        improved = False
        for j in rng.permutation(np.flatnonzero(~best & ~cost.existing)):
            if time.perf_counter() - t0 >= time_limit:
                break
            best[j] = True
            moves = [(cost(best), -1)]
            for i in cost.redundant(best):
                if time.perf_counter() - t0 >= time_limit:
                    break  # one estimate takes milliseconds: the limit holds to that
                if i != j:
                    best[i] = False
                    moves.append((cost(best), int(i)))
                    best[i] = True
            new_value, drop = min(moves)
            if new_value < value - 1e-6:
                value, improved = new_value, True
                if drop >= 0:
                    best[drop] = False
            else:
                best[j] = False
    return best, value


def joined_sites(
    red: _Reduced, params: LockerParameters, open_sites: np.ndarray, *, time_limit: float | None
) -> np.ndarray | None:
    """Return open sites whose estimate :math:`F` beats ``open_sites``', or ``None``.

    Parameters
    ----------
    red
        The reduced instance of :mod:`optimizer.lockers` (every home served).
    params
        The locker parameters.
    open_sites
        Boolean mask of a plan's open sites over ``red.sites``.
    time_limit
        The solver's limit; the search takes a quarter of it (15 s when ``None``), within
        the run's budget, which it is charged to. Under a work limit it does not run: its
        outcome depends on the clock.

    Returns
    -------
    numpy.ndarray or None
        The better mask (existing lockers and forced sites included), or ``None`` when none
        was found.
    """
    limit = 15.0 if time_limit is None else time_limit / 4
    budget = active_budget()
    if budget is not None:
        if budget.work_limit is not None or budget.keeps_start():
            return None  # a timed search would make a work-limited run depend on the clock
        limit = budget.limit(limit, has_start=True) or limit
    cost = GroupCost(Reach.of(red), site_cost=params.site_cost, module_cost=params.module_cost,
                     compartments=params.compartments_per_module, low_ratio=params.ratio[0])
    t0 = time.perf_counter()
    found, value = join_groups(cost, open_sites, time_limit=limit)
    if budget is not None:
        budget.charge(time.perf_counter() - t0)
    return found | red.existing | red.forced if value < cost(open_sites) - 1e-6 else None
