"""Benchmark instances shared by our location models and spopt's.

Every instance carries one dense demand x site cost matrix (what spopt's ``from_cost_matrix``
takes) and, derived from exactly the same numbers, the sparse pairs within the service radius
(what our covering models take), so both tools solve the same problem:

- :func:`random_planar`: demand and sites uniform in a square, Euclidean metres, with the
  radius that puts about 7 sites within reach of a point (points out of every site's reach are
  redrawn, so that spopt's set cover stays feasible);
- :func:`random_pmedian`: ``n`` nodes that are both demand points and candidate sites;
- :func:`chengdu`: the district pipeline's demand points (residential buildings) and candidate
  sites on the Chengdu walking network, network distances (all pairs);
- :func:`shanghai`: street-grid demand cells and street-corner sites (the pipeline's fallback
  for an extract without buildings) on the Shanghai walking network, network distances within
  the walking radius; points out of reach are left out before sampling.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from scipy import sparse
from scipy.spatial.distance import cdist

from geodata.area import study_area
from geodata.buildings import buildings_from_osm, read_siting_features
from geodata.candidates import candidates_from_osm
from geodata.communities import communities_from_osm
from geodata.defaults import DemandParameters
from geodata.demand import demand_from_buildings
from geodata.distances import network_distances
from geodata.errors import InputDataError
from geodata.fallbacks import homes_from_street_grid, sites_from_street_corners
from geodata.network import walk_network
from geodata.osm import read_osm

__all__ = [
    "SITES_IN_REACH",
    "Instance",
    "chengdu",
    "random_planar",
    "random_pmedian",
    "shanghai",
]

log = logging.getLogger(__name__)

SITES_IN_REACH = 7.0
"""Mean number of candidate sites within the radius of a demand point (random instances)."""

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"


@dataclass(frozen=True, eq=False)
class Instance:
    """One benchmark instance.

    Attributes
    ----------
    name
        Short label printed in the table (``random``, ``chengdu``, ``shanghai``).
    cost
        Dense demand x site cost matrix in metres (float64).
    radius
        Service radius in metres: site ``j`` covers point ``i`` when ``cost[i, j] <= radius``.
    weights
        Demand weight per point (float64, e.g. daily parcels).
    """

    name: str
    cost: np.ndarray
    radius: float
    weights: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_demand, n_sites)``."""
        n, m = self.cost.shape
        return n, m

    def reach(self) -> sparse.csr_array:
        """Return the costs of the pairs within the radius as a CSR array.

        Returns
        -------
        scipy.sparse.csr_array
            Cost at every pair with ``cost <= radius`` (0 m pairs stored as explicit zeros).
        """
        rows, cols = np.nonzero(self.cost <= self.radius)
        return sparse.csr_array((self.cost[rows, cols], (rows, cols)), shape=self.shape)

    def sites_in_reach(self) -> float:
        """Mean number of sites within the radius of a demand point."""
        return float(np.count_nonzero(self.cost <= self.radius)) / self.shape[0]


def _radius(area_m2: float, n_sites: int) -> float:
    """Radius putting :data:`SITES_IN_REACH` sites in reach on average at this density."""
    return float(np.sqrt(SITES_IN_REACH * area_m2 / (np.pi * n_sites)))


def random_planar(
    n_demand: int, *, n_sites: int | None = None, seed: int = 0
) -> Instance:
    """Demand and sites uniform in a square, with about 7 sites in reach of each point.

    Parameters
    ----------
    n_demand
        Number of demand points (the square's side grows as its square root, 100 m per point).
    n_sites
        Number of candidate sites; ``None`` for ``n_demand // 5``.
    seed
        Seed of the local random generator.

    Returns
    -------
    Instance
        Euclidean costs in metres; integer weights 1..12. Every point has a site in reach.
    """
    rng = np.random.default_rng(seed)
    m = n_sites if n_sites is not None else max(n_demand // 5, 2)
    side = 100.0 * np.sqrt(n_demand)
    radius = _radius(side * side, m)
    sites = rng.uniform(0.0, side, size=(m, 2))
    demand = rng.uniform(0.0, side, size=(n_demand, 2))
    cost = cdist(demand, sites)
    for _ in range(100):
        bare = np.flatnonzero((cost <= radius).sum(axis=1) == 0)
        if bare.size == 0:
            break
        demand[bare] = rng.uniform(0.0, side, size=(bare.size, 2))
        cost[bare] = cdist(demand[bare], sites)
    weights = rng.integers(1, 13, size=n_demand).astype(float)
    return Instance("random", cost, radius, weights)


def random_pmedian(n_nodes: int, *, seed: int = 0) -> Instance:
    """``n_nodes`` points uniform in a square, each a demand point and a candidate site.

    Parameters
    ----------
    n_nodes
        Number of nodes.
    seed
        Seed of the local random generator.

    Returns
    -------
    Instance
        Euclidean ``n x n`` costs in metres (radius 0, unused); integer weights 1..12.
    """
    rng = np.random.default_rng(seed)
    side = 100.0 * np.sqrt(n_nodes)
    points = rng.uniform(0.0, side, size=(n_nodes, 2))
    weights = rng.integers(1, 13, size=n_nodes).astype(float)
    return Instance("random", cdist(points, points), 0.0, weights)


def _osm(name: str, osm: Path | None) -> Path:
    """The shared OSM file ``name`` (or ``osm``), or an error saying where it is expected."""
    path = osm if osm is not None else _SHARED / name
    if not path.exists():
        raise InputDataError(path, "the benchmark's OSM extract is missing",
                             "check out ../shared next to the repository, or pass the file")
    return path


def chengdu(*, radius_m: float = 300.0, osm: Path | None = None) -> Instance:
    """The Chengdu district pipeline's demand points and candidates, network distances.

    Parameters
    ----------
    radius_m
        Walking radius in metres.
    osm
        The Chengdu extract; ``None`` for ``../shared/data/osm/chengdu_tianfu_square.osm``.

    Returns
    -------
    Instance
        All-pairs walking distances (dense), weights = daily parcels per point.

    Raises
    ------
    InputDataError
        If the extract is missing, or some pair has no network path.
    """
    t0 = time.perf_counter()
    path = _osm("chengdu_tianfu_square.osm", osm)
    extract = read_osm(path)
    area = study_area(extract)
    walk = walk_network(extract, area)
    features = read_siting_features(extract)
    buildings = buildings_from_osm(extract, area, features=features)
    communities = communities_from_osm(extract, area)
    demand = demand_from_buildings(buildings, communities, DemandParameters())
    sites = candidates_from_osm(extract, area, buildings, features=features)
    reach = network_distances(walk, shapely.get_coordinates(demand.geometry),
                              shapely.get_coordinates(sites.geometry), radius_m=100_000.0)
    cost = np.full(reach.shape, np.inf)
    cost[reach.rows, reach.cols] = reach.dist_m
    # the dense models need every pair: keep the sites most homes reach, the homes that reach
    # all of them (a few homes and sites lie on streets cut off from the rest)
    finite = np.isfinite(cost)
    cols = finite.mean(axis=0) > 0.5
    rows = finite[:, cols].all(axis=1)
    cols &= finite[rows].all(axis=0)
    cost = cost[np.ix_(rows, cols)]
    if cost.size == 0:
        raise InputDataError(path, "no block of homes and sites all reach each other",
                             "use an extract whose streets connect")
    log.info("chengdu instance: %d x %d in %.1f s (%d homes, %d sites cut off left out)",
             *cost.shape, time.perf_counter() - t0, (~rows).sum(), (~cols).sum())
    return Instance("chengdu", cost, radius_m,
                    demand["daily_parcels"].to_numpy(dtype=float)[rows])


def shanghai(
    n_demand: int, n_sites: int, *, radius_m: float = 350.0, seed: int = 0,
    osm: Path | None = None,
) -> Instance:
    """Street-grid demand and street-corner sites on the Shanghai walking network.

    The demand cells are 35 m squares along residential streets (11,550 cells), the sites the
    junctions of residential streets (2,502). ``n_sites`` sites are drawn, then ``n_demand``
    cells among those with a site within ``radius_m`` walking distance.

    Parameters
    ----------
    n_demand, n_sites
        Sizes, at most 11,550 and 2,502.
    radius_m
        Walking radius in metres (350 m gives about 7 of 2,000 sites in reach).
    seed
        Seed of the local random generator.
    osm
        The Shanghai extract; ``None`` for ``../shared/data/osm/shanghai_center_roads.osm``.

    Returns
    -------
    Instance
        Dense costs: the walking distance within the radius, ``2 * radius_m`` beyond it (only
        whether a pair is in reach matters to the covering models); weights 1..12.

    Raises
    ------
    InputDataError
        If the extract is missing or has too few cells or corners for the sizes.
    """
    t0 = time.perf_counter()
    path = _osm("shanghai_center_roads.osm", osm)
    rng = np.random.default_rng(seed)
    extract = read_osm(path)
    area = study_area(extract)
    walk = walk_network(extract, area)
    homes = homes_from_street_grid(walk, area.projected, DemandParameters(grid_cell_m=35.0))
    corners = sites_from_street_corners(walk, area.projected)
    if n_sites > len(corners):
        raise InputDataError(path, f"only {len(corners)} street corners for {n_sites} sites",
                             "ask for fewer sites")
    site_xy = shapely.get_coordinates(corners.geometry)[
        np.sort(rng.choice(len(corners), n_sites, replace=False))]
    home_xy = shapely.get_coordinates(shapely.centroid(homes.geometry.to_numpy()))
    reach = network_distances(walk, home_xy, site_xy, radius_m=radius_m)
    coverable = np.flatnonzero(np.bincount(reach.rows, minlength=len(home_xy)) > 0)
    if n_demand > coverable.size:
        raise InputDataError(path, f"only {coverable.size} grid cells within {radius_m} m of a "
                             f"site, {n_demand} asked", "ask for fewer demand points")
    keep = np.sort(rng.choice(coverable, n_demand, replace=False))
    new_row = np.full(len(home_xy), -1)
    new_row[keep] = np.arange(n_demand)
    mask = new_row[reach.rows] >= 0
    cost = np.full((n_demand, n_sites), 2.0 * radius_m)
    cost[new_row[reach.rows[mask]], reach.cols[mask]] = reach.dist_m[mask]
    weights = rng.integers(1, 13, size=n_demand).astype(float)
    log.info("shanghai instance: %d x %d in %.1f s", n_demand, n_sites, time.perf_counter() - t0)
    return Instance("shanghai", cost, radius_m, weights)
