r"""Lagrangian upper bounds and exact site fixing for the maximal covering problem.

Relaxing the coverage constraints :math:`z_i \le \sum_j a_{ij} y_j` of
:func:`~optimizer.models.max_cover` with multipliers :math:`0 \le \lambda_i \le w_i` gives

.. math::

    L(\lambda) = \sum_i (w_i - \lambda_i) + \max_{|S| \le p} \sum_{j \in S} s_j, \qquad
    s_j = \sum_i a_{ij} \lambda_i \ge 0,

an upper bound on the covered weight for every :math:`\lambda`; its smallest value equals the
LP bound (Galvão & ReVelle 1996, "A Lagrangean heuristic for the maximal covering location
problem", EJOR 88(1)). Subgradient steps (Held, Wolfe & Crowder 1974) lower it, and the
best-:math:`p` sets :math:`S` met on the way are tried as plans. The same :math:`\lambda`
bounds the plans that open site :math:`j` (:math:`L - s_{(p)} + s_j` when :math:`j \notin S`)
and those that keep it closed (:math:`L - s_j + s_{(p+1)}` when :math:`j \in S`). A site whose
"open" bound is below the incumbent's weight :math:`U` is closed for good, one whose "closed"
bound is below :math:`U` opened for good: only plans worse than the incumbent are lost, and
the incumbent itself stays feasible, so the optimum is kept.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["CoverBound", "FixedCover", "fix_sites", "lagrangian_max_cover"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoverBound:
    r"""Result of :func:`lagrangian_max_cover`.

    Attributes
    ----------
    bound
        Best upper bound :math:`\min_\lambda L(\lambda)` found.
    best_open
        Best plan found (boolean mask of at most ``p`` sites), the start or better.
    best_weight
        Weight it covers.
    bound_if_open, bound_if_closed
        Per site, an upper bound on every plan that opens it, or keeps it closed.
    iterations
        Subgradient iterations run.
    """

    bound: float
    best_open: np.ndarray
    best_weight: float
    bound_if_open: np.ndarray
    bound_if_closed: np.ndarray
    iterations: int

    def proven(self, gap: float) -> bool:
        """Whether the bound proves the best plan optimal within the relative ``gap``."""
        return self.bound <= self.best_weight + gap * max(abs(self.best_weight), 1e-9)


def lagrangian_max_cover(
    a: sparse.csr_array,
    w: np.ndarray,
    p: int,
    start: np.ndarray,
    *,
    gap: float = 1e-6,
    max_iterations: int = 2_000,
    time_limit: float = 20.0,
) -> CoverBound:
    """Lower the Lagrangian bound by subgradient steps, improving the incumbent on the way.

    Parameters
    ----------
    a
        Boolean CSR demand x site matrix; ``p`` is below its number of sites.
    w
        Weight per row.
    p
        Most sites to open.
    start
        Boolean mask of a feasible plan (at most ``p`` sites).
    gap
        Relative gap at which the bound proves the incumbent and the steps stop.
    max_iterations
        Most subgradient steps.
    time_limit
        Seconds after which the steps stop with what they have.

    Returns
    -------
    CoverBound
        Bound, best plan and per-site bounds.
    """
    t0 = time.perf_counter()
    m = a.shape[1]
    af = a.astype(float)
    at = sparse.csr_array(af.T)
    best_open = start.astype(bool).copy()
    best_weight = _covered(af, w, best_open)
    lam = w / np.maximum(np.diff(a.indptr), 1)
    bound, theta, stale, steps = np.inf, 2.0, 0, 0
    if_open, if_closed = np.full(m, np.inf), np.full(m, np.inf)
    while steps < max_iterations:
        steps += 1
        s = at @ lam
        order = np.argsort(-s, kind="stable")
        top = np.zeros(m, dtype=bool)
        top[order[:p]] = True
        value = float(np.sum(w - lam) + s[top].sum())
        if_open = np.minimum(if_open, np.where(top, value, value - s[order[p - 1]] + s))
        if_closed = np.minimum(if_closed, np.where(top, value - s + s[order[p]], value))
        covered = af @ top.astype(float)
        weight = float(w[covered > 0].sum())
        if weight > best_weight:
            best_open, best_weight = top, weight
        if not np.isfinite(bound) or value < bound - 1e-9 * max(abs(bound), 1.0):
            stale = 0
        else:
            stale += 1
            if stale >= 30:
                theta, stale = theta / 2, 0
        bound = min(bound, value)
        if bound <= best_weight + gap * max(abs(best_weight), 1e-9) or theta < 1e-4:
            break
        if time.perf_counter() - t0 > time_limit:
            break
        g = covered - (w > lam)
        norm = float(g @ g)
        if norm == 0:
            break
        lam = np.clip(lam - theta * (value - best_weight) / norm * g, 0.0, w)
    log.info("max_cover: Lagrangian bound %.6g, incumbent %.6g after %d steps in %.3f s",
             bound, best_weight, steps, time.perf_counter() - t0)
    return CoverBound(bound, best_open, best_weight, if_open, if_closed, steps)


def _covered(af: sparse.csr_array, w: np.ndarray, is_open: np.ndarray) -> float:
    """Weight of the rows an open set covers."""
    return float(w[(af @ is_open.astype(float)) > 0].sum())


@dataclass(frozen=True)
class FixedCover:
    """A max-cover instance after Lagrangian fixing, with the map back.

    Attributes
    ----------
    a
        Boolean CSR matrix of the rows no forced site covers, over the free sites.
    weights
        Weight of each kept row.
    cols
        Index (in the fixing's input) of each free site.
    forced
        Indices (in the fixing's input) of the sites opened for good.
    forced_weight
        Weight the forced sites cover.
    p
        Sites left to open among the free ones.
    start
        The incumbent restricted to the free sites (boolean mask).
    """

    a: sparse.csr_array
    weights: np.ndarray
    cols: np.ndarray
    forced: np.ndarray
    forced_weight: float
    p: int
    start: np.ndarray


def fix_sites(a: sparse.csr_array, w: np.ndarray, p: int, lag: CoverBound) -> FixedCover:
    """Close and open the sites the Lagrangian bounds settle, and drop what they decide.

    Parameters
    ----------
    a
        Boolean CSR demand x site matrix given to :func:`lagrangian_max_cover`.
    w
        Weight per row.
    p
        Most sites to open.
    lag
        Its result.

    Returns
    -------
    FixedCover
        The smaller instance; the incumbent is feasible in it.
    """
    tol = 1e-9 * max(abs(lag.best_weight), 1.0)
    closed = (lag.bound_if_open < lag.best_weight - tol) & ~lag.best_open
    opened = (lag.bound_if_closed < lag.best_weight - tol) & lag.best_open
    forced = np.flatnonzero(opened)
    hit = (a @ opened.astype(np.int64)) > 0
    free = ~closed & ~opened
    cols = np.flatnonzero(free)
    sub = sparse.csr_array(a[np.flatnonzero(~hit)][:, cols])
    reach = np.diff(sub.indptr) > 0
    log.info("max_cover: Lagrangian fixing closes %d and opens %d of %d sites",
             int(closed.sum()), forced.size, a.shape[1])
    return FixedCover(
        a=sparse.csr_array(sub[np.flatnonzero(reach)]),
        weights=w[~hit][reach],
        cols=cols,
        forced=forced,
        forced_weight=float(w[hit].sum()),
        p=p - forced.size,
        start=lag.best_open[cols],
    )
