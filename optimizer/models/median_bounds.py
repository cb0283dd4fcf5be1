r"""Lagrangian lower bounds and exact site fixing for the p-median problem.

Relaxing the assignment constraints :math:`\sum_j x_{ij} = 1` of the classic p-median model
with multipliers :math:`\lambda_i` gives, for allowed pairs with weighted costs
:math:`c_{ij} = w_i d_{ij}`,

.. math::

    L(\lambda) = \sum_i \lambda_i + \min_{|S| = p} \sum_{j \in S} \rho_j, \qquad
    \rho_j = \sum_i \min(0,\, c_{ij} - \lambda_i),

a lower bound on the optimum for every :math:`\lambda` (its best value equals the LP bound).
Subgradient steps (Held, Wolfe & Crowder) raise it. The same :math:`\lambda` also bounds the
plans that open site :math:`j` (:math:`L - \rho_{(p)} + \rho_j` when :math:`j \notin S`) or keep
it closed (:math:`L - \rho_j + \rho_{(p+1)}` when :math:`j \in S`). A site whose "open" bound
exceeds the incumbent's cost :math:`U` can be closed for good, one whose "closed" bound exceeds
:math:`U` opened for good: no plan better than the incumbent is lost. The sets :math:`S` met
along the way are also tried as plans, which improves :math:`U`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from .median_heuristic import MedianPairs, nearest_open, pmedian_heuristic

__all__ = ["LagrangeBound", "lagrangian_bound"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LagrangeBound:
    r"""Result of :func:`lagrangian_bound`.

    Attributes
    ----------
    bound
        Best lower bound :math:`\max_\lambda L(\lambda)` found.
    best_open
        Best plan found (boolean mask of ``p`` sites), the incumbent or better.
    best_cost
        Its weighted cost.
    bound_if_open
        Per site, a lower bound on every plan that opens it.
    bound_if_closed
        Per site, a lower bound on every plan that keeps it closed.
    iterations
        Subgradient iterations run.
    started
        ``time.perf_counter()`` when the run began.
    """

    bound: float
    best_open: np.ndarray
    best_cost: float
    bound_if_open: np.ndarray
    bound_if_closed: np.ndarray
    iterations: int
    started: float


def _plan_cost(pairs: MedianPairs, c: np.ndarray, is_open: np.ndarray) -> float:
    _, pos = nearest_open(pairs, is_open)
    if np.any(pos < 0):
        return np.inf
    return float(c[pos].sum())


def lagrangian_bound(
    pairs: MedianPairs,
    weights: np.ndarray,
    p: int,
    incumbent: np.ndarray,
    *,
    gap: float = 1e-6,
    max_iterations: int = 600,
    time_limit: float = 20.0,
) -> LagrangeBound:
    """Run subgradient optimisation of the Lagrangian bound from a feasible plan.

    Parameters
    ----------
    pairs
        Allowed pairs (every row has one).
    weights
        Weight per row.
    p
        Number of sites to open.
    incumbent
        A feasible plan (boolean mask of ``p`` sites).
    gap
        Stop once the bound is within this relative gap of the best plan.
    max_iterations
        Most subgradient steps.
    time_limit
        Seconds after which to stop.

    Returns
    -------
    LagrangeBound
        Bound, best plan and the per-site bounds used for fixing.
    """
    t0 = time.perf_counter()
    n, m = pairs.n, pairs.m
    rows, cols = pairs.rows, pairs.cols
    c = weights[rows] * pairs.dist
    best_open = incumbent.copy()
    ub = _plan_cost(pairs, c, best_open)
    # start from each row's second-cheapest allowed cost (its cheapest when it has one)
    second = np.minimum(pairs.indptr[:-1] + 1, pairs.indptr[1:] - 1)
    lam = c[second].copy()
    best = -np.inf
    lb_open = np.full(m, -np.inf)
    lb_closed = np.full(m, -np.inf)
    step, stall = 2.0, 0
    tried: set[bytes] = set()
    it = 0
    while it < max_iterations:
        it += 1
        diff = np.minimum(0.0, c - lam[rows])
        rho = np.bincount(cols, weights=diff, minlength=m)
        if p < m:
            part = np.argpartition(rho, [p - 1, p])
            chosen = part[:p]
            r_p, r_p1 = rho[part[p - 1]], rho[part[p]]
        else:
            chosen = np.arange(m)
            r_p, r_p1 = np.max(rho), np.inf
        lagr = float(lam.sum() + rho[chosen].sum())
        in_s = np.zeros(m, dtype=bool)
        in_s[chosen] = True
        np.maximum(lb_open, np.where(in_s, lagr, lagr - r_p + rho), out=lb_open)
        np.maximum(lb_closed, np.where(in_s, lagr - rho + r_p1, lagr), out=lb_closed)
        if not np.isfinite(best) or lagr > best + 1e-12 * max(abs(best), 1.0):
            best, stall = lagr, 0
        else:
            stall += 1
            if stall >= 15:
                step, stall = step / 2.0, 0
        key = in_s.tobytes()
        if key not in tried:
            tried.add(key)
            cost = _plan_cost(pairs, c, in_s)
            if cost < ub:
                improved = pmedian_heuristic(pairs, weights, p, start=in_s)
                cost2 = _plan_cost(pairs, c, improved)
                best_open, ub = (improved, cost2) if cost2 < cost else (in_s, cost)
        if best >= ub - gap * max(abs(ub), 1e-9) or step < 1e-5:
            break
        if time.perf_counter() - t0 > time_limit:
            break
        g = 1.0 - np.bincount(rows, weights=((diff < 0) & in_s[cols]).astype(float), minlength=n)
        norm = float(g @ g)
        if norm == 0:
            break
        lam = np.maximum(0.0, lam + step * (ub - lagr) / norm * g)
    log.info(
        "p-median Lagrangian bound %.6g vs plan %.6g (gap %.3g%%) after %d steps in %.3f s",
        best,
        ub,
        100 * (ub - best) / max(abs(ub), 1e-9),
        it,
        time.perf_counter() - t0,
    )
    return LagrangeBound(best, best_open, ub, lb_open, lb_closed, it, t0)
