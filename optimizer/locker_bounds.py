r"""Valid inequalities that lift the bound of the ``min-cost`` locker model above its floor.

The floor of :mod:`optimizer.lockers`, :math:`f \cdot SC^* + g \lceil \rho^- (D-Q)/K \rceil`,
adds a site count that only the set-cover integer program sees to a module count that holds
every parcel exactly. The linear relaxation of the whole model sees neither: on the largest
part of the Shanghai street grid it opens 359.5 fractional sites where every plan needs 363,
and it fills every module to the last compartment. The rows below are valid for *every* plan
that serves every servable point (``min-cost``), so a bound of the model with them is a bound
of the problem.

*Site count.* A plan's new sites reach every point that no existing locker reaches, so

.. math:: \textstyle\sum_{j\,\text{new}} y_j \ge \lceil SC^* \rceil

with :math:`SC^*` the proven set-cover bound (the site half of the floor, now inside the
model, where the solver can add the module half to it). With sites the planner forces open,
:math:`SC^*` counts them and covers only the points they leave: a bound of the problem with
its forced sites.

*Groups round up.* A group :math:`H` of points whose parcels only reach new sites
:math:`N(H)` needs :math:`\sum_{j \in N(H)} K m_j \ge \rho^- \sum_{j \in N(H)} L_j \ge \rho^- D_H`
by (1) and (3); the left side is :math:`K` times an integer, so

.. math:: \textstyle\sum_{j \in N(H)} m_j \ge \lceil \rho^- D_H / K \rceil,

the rounding (Chvátal–Gomory) step of the capacity rows over one group (Chvátal, 1973). It
cuts off the relaxation, which fills every module to the last compartment, where the group
wastes part of a module. The groups :math:`H` are the connected parts of the reach graph among
a plan's open sites: exactly where that plan pays for rounding. Groups reaching an existing
locker are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .milp import Milp

if TYPE_CHECKING:
    from .lockers import LockerParameters, _Layout, _Reduced

__all__ = [
    "Reach",
    "isolated_groups",
    "lift_whole_model",
    "modules_for",
    "rounding_rows",
    "site_count_row",
    "with_rows",
]


@dataclass(frozen=True)
class Reach:
    """Homes, sites and which home reaches which site: what the rows and the search read.

    Attributes
    ----------
    reach
        Home x site 0/1 reach matrix.
    parcels
        Daily parcels of each home.
    existing
        Boolean mask of existing lockers over sites (always open).
    capacity
        Compartments of each existing locker (read for existing lockers only).
    """

    reach: sparse.csr_array
    parcels: np.ndarray
    existing: np.ndarray
    capacity: np.ndarray

    @staticmethod
    def of(red: _Reduced) -> Reach:
        """Return the reach data of a reduced instance of :mod:`optimizer.lockers`."""
        reach = sparse.csr_array(
            (np.ones(len(red.pair_d)), (red.pair_d, red.pair_s)),
            shape=(len(red.demand), len(red.sites)),
        )
        return Reach(reach, red.parcels, red.existing, red.capacity)


def modules_for(parcels: np.ndarray | float, low_ratio: float, compartments: int) -> np.ndarray:
    r"""Return the fewest whole modules that hold ``parcels``: :math:`\lceil \rho^- D/K \rceil`.

    Parameters
    ----------
    parcels
        Daily parcels :math:`D` (one figure or an array).
    low_ratio
        Least compartments per daily parcel, :math:`\rho^-` (rule R2, seed 004 五(二)).
    compartments
        Compartments per module, :math:`K`.

    Returns
    -------
    numpy.ndarray
        The module counts (as floats).
    """
    return np.ceil(low_ratio * np.asarray(parcels, dtype=float) / compartments - 1e-9)


def site_count_row(
    y_cols: np.ndarray, n_cols: int, sites_floor: int
) -> tuple[sparse.csr_array, np.ndarray]:
    """Return the row ``sum of new-site y >= sites_floor`` (the set-cover bound).

    Parameters
    ----------
    y_cols
        Model columns of the new sites' open variables.
    n_cols
        Columns of the model.
    sites_floor
        The proven set-cover bound of the points no existing locker reaches, rounded up.

    Returns
    -------
    tuple
        The row (shape ``(1, n_cols)``) and its lower bound.
    """
    row = sparse.csr_array(
        (np.ones(len(y_cols)), (np.zeros(len(y_cols), dtype=int), y_cols)), shape=(1, n_cols)
    )
    return row, np.array([float(sites_floor)])


def isolated_groups(reach: sparse.csr_array, open_sites: np.ndarray) -> list[np.ndarray]:
    """Return the points of each connected part of the reach graph among ``open_sites``.

    Parameters
    ----------
    reach
        Point x site 0/1 reach matrix.
    open_sites
        Boolean mask over sites.

    Returns
    -------
    list of numpy.ndarray
        Point indices of each part; points no open site reaches are left out.
    """
    cols = np.flatnonzero(open_sites)
    sub = sparse.csr_array(reach[:, cols])
    served = np.flatnonzero(np.diff(sub.indptr) > 0)
    if not len(served):
        return []
    _, label = connected_components(sub.T @ sub, directed=False)
    point_label = label[sub.indices[sub.indptr[served]]]
    order = np.argsort(point_label, kind="stable")
    cuts = np.flatnonzero(np.diff(point_label[order])) + 1
    return [served[part] for part in np.split(order, cuts)]


def rounding_rows(
    homes: Reach,
    groups: list[np.ndarray],
    *,
    m_cols: np.ndarray,
    n_cols: int,
    compartments: int,
    low_ratio: float,
) -> tuple[sparse.csr_array, np.ndarray]:
    r"""Return the rounding rows of the groups (module docstring), one per group that rounds.

    Each row is :math:`\sum_{j \in N(H)} m_j \ge \lceil \rho^- D_H/K \rceil`. Valid only where
    every point is served (``min-cost``). A group is skipped when it reaches an existing locker
    or when its modules round up exactly.

    Parameters
    ----------
    homes
        The homes, sites and reach.
    groups
        Home indices of each group :math:`H` (see :func:`isolated_groups`).
    m_cols
        Model column of each site's module count (read for new sites only).
    n_cols
        Columns of the model.
    compartments
        Compartments per module, :math:`K`.
    low_ratio
        Least compartments per daily parcel, :math:`\rho^-` (rule R2, seed 004 五(二)).

    Returns
    -------
    tuple
        The rows (shape ``(n_rows, n_cols)``) and their lower bounds.
    """
    cols: list[np.ndarray] = []
    lower: list[float] = []
    for group in groups:
        total = float(homes.parcels[group].sum())
        whole = float(modules_for(total, low_ratio, compartments))
        near = np.flatnonzero(homes.reach[group].sum(axis=0) > 0)
        if whole - low_ratio * total / compartments < 1e-6 or homes.existing[near].any():
            continue
        cols.append(m_cols[near])
        lower.append(whole)
    if not lower:
        return sparse.csr_array((0, n_cols)), np.zeros(0)
    rows = np.repeat(np.arange(len(lower)), [len(c) for c in cols])
    matrix = sparse.csr_array(
        (np.ones(len(rows)), (rows, np.concatenate(cols))), shape=(len(lower), n_cols)
    )
    return matrix, np.asarray(lower)


def with_rows(milp: Milp, *blocks: tuple[sparse.csr_array, np.ndarray]) -> Milp:
    """Return ``milp`` with each block of ``(rows, lower bounds)`` added as ``>=`` rows.

    Parameters
    ----------
    milp
        The model.
    *blocks
        Rows over the model's columns, and their lower bounds.

    Returns
    -------
    Milp
        The same model with the rows appended (no upper bound).
    """
    lower = np.concatenate([milp.row_lower, *(lo for _, lo in blocks)])
    upper = np.concatenate([milp.row_upper, np.full(len(lower) - len(milp.row_lower), np.inf)])
    a = sparse.vstack([milp.a, *(rows for rows, _ in blocks)]).tocsr()
    return Milp(c=milp.c, a=a, row_lower=lower, row_upper=upper, col_lower=milp.col_lower,
                col_upper=milp.col_upper, integrality=milp.integrality, offset=milp.offset)


def lift_whole_model(
    milp: Milp,
    red: _Reduced,
    lay: _Layout,
    params: LockerParameters,
    *,
    sites_floor: float | None,
    open_sites: np.ndarray,
) -> Milp:
    """Return the whole ``min-cost`` model (every point served) with the rows above added.

    Parameters
    ----------
    milp
        The whole model, built with every point served.
    red, lay
        Its reduced instance and column layout.
    params
        The locker parameters.
    sites_floor
        The proven set-cover bound of the new sites, or ``None`` when it is unknown.
    open_sites
        Boolean mask of a plan's open sites; its isolated groups give the rounding rows.

    Returns
    -------
    Milp
        The model with the site-count row (when ``sites_floor`` is known) and the rounding
        rows of the plan's groups.
    """
    new = red.new_sites
    homes = Reach.of(red)
    m_cols = np.full(len(red.sites), -1)
    m_cols[new] = lay.m + np.arange(len(new))
    y_cols = lay.y + np.arange(len(red.sites))
    groups = isolated_groups(homes.reach, open_sites)
    blocks = [rounding_rows(homes, groups, m_cols=m_cols, n_cols=lay.n,
                            compartments=params.compartments_per_module,
                            low_ratio=params.ratio[0])]
    if sites_floor is not None:
        blocks.append(site_count_row(y_cols[new], lay.n, int(np.ceil(sites_floor - 1e-6))))
    return with_rows(milp, *blocks)
