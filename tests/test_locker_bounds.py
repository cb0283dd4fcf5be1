"""The rows of :mod:`optimizer.locker_bounds` never cut off an optimal locker plan, and the
estimate of :mod:`optimizer.locker_search` never exceeds a plan on its sites.

Each random instance's ``min-cost`` model (1)-(5), every point served, is written here again
from scratch and solved by scipy's interface to HiGHS: its optimum is the truth. The rows are
then built over this model's own columns, from the groups of the optimal plan and of a random
set of open sites, with the site floor of an independently solved set cover. Valid rows keep
the optimum: the model with them may not cost more, nor may its linear relaxation.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from optimizer.locker_bounds import Reach, isolated_groups, rounding_rows, site_count_row
from optimizer.locker_search import GroupCost, join_groups

N_INSTANCES = 200
K = 24
LOW, HIGH = 1.0, 1.3
SITE_COST, MODULE_COST = 20_000.0, 6_000.0


def instance(seed: int) -> Reach:
    """6-12 points x 4-8 sites in a planar square, equal parcels in half of them."""
    rng = np.random.default_rng(seed)
    n, s = int(rng.integers(6, 13)), int(rng.integers(4, 9))
    homes, sites = rng.uniform(0, 600, (n, 2)), rng.uniform(0, 600, (s, 2))
    dist = np.hypot(*(homes[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    reach = sparse.csr_array((dist <= rng.uniform(150, 320)).astype(float))
    if seed % 2:
        parcels = np.full(n, 10600 / 365)  # the street grid's equal homes
    else:
        parcels = np.round(rng.uniform(5, 60, n), 1)
    existing = np.zeros(s, dtype=bool)
    existing[: int(rng.integers(0, 2))] = True
    capacity = np.where(existing, rng.integers(20, 80, s), 0).astype(float)
    return Reach(reach, parcels, existing, capacity)


class Model:
    """Columns y (sites), m (sites; zero for existing ones), x (pairs) of model (1)-(5)."""

    def __init__(self, inst: Reach) -> None:
        coo = sparse.coo_array(inst.reach)
        pd_, ps_ = coo.row, coo.col
        n, s, p = inst.reach.shape[0], inst.reach.shape[1], len(pd_)
        self.n_cols = 2 * s + p
        self.y_cols, self.m_cols = np.arange(s), s + np.arange(s)
        x, pairs = 2 * s + np.arange(p), np.arange(p)
        new = (~inst.existing).astype(float)

        def rows(r: np.ndarray, c: np.ndarray, v: np.ndarray, m: int) -> sparse.csr_array:
            return sparse.csr_array((v, (r, c)), shape=(m, self.n_cols))

        load = rows(ps_, x, inst.parcels[pd_], s)
        mods = rows(np.arange(s), self.m_cols, np.full(s, float(K)), s)
        none = np.full(max(n, s, p), -np.inf)
        blocks = [
            (rows(pd_, x, np.ones(p), n), np.ones(n), np.ones(n)),  # (1), every point served
            (rows(np.r_[pairs, pairs], np.r_[x, ps_], np.r_[np.ones(p), -np.ones(p)], p),
             none[:p], np.zeros(p)),  # (2) x_ij <= y_j
            (LOW * load - mods, none[:s], np.where(inst.existing, np.inf, 0.0)),  # (3)
            (load, none[:s], np.where(inst.existing, inst.capacity, np.inf)),  # (3')
            (mods - HIGH * load, none[:s], np.zeros(s)),  # (4)
            (rows(np.r_[np.arange(s), np.arange(s)], np.r_[self.y_cols, self.m_cols],
                  np.r_[new, -new], s), none[:s], np.zeros(s)),  # (5) y_j <= m_j
        ]
        self.a = sparse.vstack([b[0] for b in blocks]).tocsr()
        self.lo = np.concatenate([b[1] for b in blocks])
        self.hi = np.concatenate([b[2] for b in blocks])
        self.c = np.r_[SITE_COST * new, MODULE_COST * new, np.zeros(p)]
        self.col_lo = np.r_[inst.existing.astype(float), np.zeros(s + p)]
        self.col_hi = np.r_[np.ones(s), np.where(inst.existing, 0.0, np.inf), np.ones(p)]
        self.integer = np.r_[np.ones(2 * s, dtype=int), np.zeros(p, dtype=int)]

    def solve(
        self,
        extra: list[tuple[sparse.csr_array, np.ndarray]],
        *,
        relax: bool = False,
        open_sites: np.ndarray | None = None,
    ) -> OptimizeResult:
        """Minimise the cost with the ``extra`` rows (``>=`` their bounds) added.

        ``open_sites`` opens exactly those sites (a mask) and closes the others.
        """
        col_lo, col_hi = self.col_lo.copy(), self.col_hi.copy()
        if open_sites is not None:
            col_lo[self.y_cols] = col_hi[self.y_cols] = open_sites.astype(float)
        a = sparse.vstack([self.a, *(r for r, _ in extra)]).tocsr()
        lo = np.concatenate([self.lo, *(b for _, b in extra)])
        hi = np.r_[self.hi, np.full(len(lo) - len(self.hi), np.inf)]
        return milp(self.c, constraints=LinearConstraint(a, lo, hi),
                    integrality=self.integer * (not relax), bounds=Bounds(col_lo, col_hi),
                    options={"mip_rel_gap": 1e-9, "time_limit": 20})


def min_cover(inst: Reach) -> int:
    """Fewest new sites reaching every point no existing locker reaches (scipy, exact)."""
    alone = np.asarray(inst.reach[:, np.flatnonzero(inst.existing)].sum(axis=1)).ravel() == 0
    a = inst.reach[np.flatnonzero(alone)][:, np.flatnonzero(~inst.existing)]
    if a.shape[0] == 0:
        return 0
    res = milp(np.ones(a.shape[1]), constraints=LinearConstraint(a, 1, np.inf),
               integrality=np.ones(a.shape[1], dtype=int), bounds=Bounds(0, 1))
    assert res.fun is not None
    return round(res.fun)


Solved = list[tuple[int, Reach, Model, OptimizeResult]]


@pytest.fixture(scope="module")
def solved() -> Solved:
    """The first :data:`N_INSTANCES` instances where every point can be served, solved."""
    found: Solved = []
    seed = 0
    while len(found) < N_INSTANCES:
        seed += 1
        inst = instance(seed)
        model = Model(inst)
        best = model.solve([])
        if best.status == 0:  # else some point cannot be served under R2: not min-cost
            found.append((seed, inst, model, best))
    return found


def test_rows_never_cut_off_the_optimum(solved: Solved) -> None:
    cut = 0
    for seed, inst, model, best in solved:
        rng = np.random.default_rng(seed)
        plans = [best.x[model.y_cols] > 0.5, rng.random(inst.reach.shape[1]) < 0.5]
        groups = [g for plan in plans for g in isolated_groups(inst.reach, plan)]
        extra = [
            rounding_rows(inst, groups, m_cols=model.m_cols, n_cols=model.n_cols, compartments=K,
                          low_ratio=LOW),
            site_count_row(model.y_cols[~inst.existing], model.n_cols, min_cover(inst)),
        ]
        with_rows = model.solve(extra)
        assert with_rows.status == 0, f"seed {seed}: the rows make the model infeasible"
        assert with_rows.fun <= best.fun + 1e-6, f"seed {seed}: {with_rows.fun} > {best.fun}"
        lp = model.solve([], relax=True).x
        cut += any(np.any(rows @ lp < lower - 1e-6) for rows, lower in extra)
    assert cut >= N_INSTANCES // 10, f"the rows cut the LP optimum off on only {cut} instances"


def test_group_estimate_never_exceeds_a_plan_on_its_sites(solved: Solved) -> None:
    checked = tight = 0
    for seed, inst, model, best in solved:
        rng = np.random.default_rng(seed)
        sites = (best.x[model.y_cols] > 0.5) | (rng.random(inst.reach.shape[1]) < 0.2)
        plan = model.solve([], open_sites=sites)
        if plan.status != 0:  # an added site cannot fill one module under R2
            continue
        cost = GroupCost(inst, site_cost=SITE_COST, module_cost=MODULE_COST, compartments=K,
                         low_ratio=LOW)
        checked += 1
        estimate = cost(sites)
        assert estimate <= plan.fun + 1e-6, f"seed {seed}: estimate {estimate} > plan {plan.fun}"
        tight += estimate >= plan.fun - 1e-6
        found, value = join_groups(cost, sites, time_limit=1.0)
        assert value <= estimate and value == cost(found) and np.isfinite(value)
    assert checked >= N_INSTANCES // 2 and tight >= checked // 2, (checked, tight)
