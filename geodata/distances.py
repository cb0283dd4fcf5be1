"""Network distances between point sets, kept only within a radius, as sparse triplets.

The distance from origin ``i`` to destination ``j`` is::

    offset(i) + shortest_path(node(i), node(j)) + offset(j)

where ``node(.)`` is the nearest network node and ``offset(.)`` the straight-line distance to
it (:meth:`geodata.network.Network.snap`). Only pairs with a distance ``<= radius_m`` are kept.

Memory scales with the pairs kept, never with ``origins x destinations``: Dijkstra runs
(``scipy.sparse.csgraph.dijkstra`` with ``limit``) from the distinct snapped nodes of the side
with fewer distinct nodes, in chunks whose dense ``chunk x network nodes`` block holds at most
``max_block`` entries (1e7 by default, 80 MB of float64), and each chunk is expanded to point
pairs at once and filtered by the radius.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geodata.errors import CRSError, ParameterError
from geodata.network import Network

__all__ = ["Reach", "network_distances"]

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_FAR_M = 100_000.0


@dataclass(frozen=True, eq=False)
class Reach:
    """Origin-destination pairs within a radius, with their network distance.

    The triplets are the truth: a pair is in reach if and only if it is a triplet, whatever its
    distance, including 0 m (an origin and a destination at the same network node). Sparse
    matrices drop explicit zeros under some operations, so test membership with
    :meth:`coverage` (ones, never zero) rather than with ``to_csr() > 0``.

    Attributes
    ----------
    rows
        Origin index of each pair (int64), sorted by ``(rows, cols)``.
    cols
        Destination index of each pair (int64).
    dist_m
        Network distance of each pair in metres (float64), ``<= radius_m``.
    shape
        ``(n_origins, n_destinations)``.
    radius_m
        The radius the pairs were kept within.
    """

    rows: IntArray
    cols: IntArray
    dist_m: FloatArray
    shape: tuple[int, int]
    radius_m: float

    @property
    def nnz(self) -> int:
        """Number of pairs in reach."""
        return int(self.rows.shape[0])

    def to_csr(self) -> sp.csr_array:
        """Return the distances as a CSR array (explicit zeros kept for 0 m pairs).

        Returns
        -------
        scipy.sparse.csr_array
            ``shape`` array with ``dist_m`` at ``(rows, cols)``. Pairs at 0 m are stored as
            explicit zeros, and ``nnz`` equals :attr:`nnz` as built; do not call
            ``eliminate_zeros`` on it.
        """
        return sp.csr_array((self.dist_m, (self.rows, self.cols)), shape=self.shape)

    def coverage(self) -> sp.csr_array:
        """Return the 0/1 reach matrix (``int8``, 1 for every pair in reach).

        Returns
        -------
        scipy.sparse.csr_array
            ``shape`` array with 1 at every ``(rows, cols)``.
        """
        ones = np.ones(self.nnz, dtype=np.int8)
        return sp.csr_array((ones, (self.rows, self.cols)), shape=self.shape)

    def nearest(self) -> FloatArray:
        """Return the distance from each origin to its nearest destination in reach.

        Returns
        -------
        numpy.ndarray
            ``(n_origins,)`` float64: the shortest ``dist_m`` of each origin's pairs, ``inf``
            where no destination is within :attr:`radius_m`.
        """
        out = np.full(self.shape[0], np.inf)
        np.minimum.at(out, self.rows, self.dist_m)
        return out


def network_distances(
    network: Network,
    origins_xy: ArrayLike,
    destinations_xy: ArrayLike,
    *,
    radius_m: float,
    max_block: int = 10_000_000,
) -> Reach:
    """Network distances from origins to destinations, kept where ``<= radius_m``.

    A distance is the origin's snap offset, the shortest path between the snapped nodes and the
    destination's snap offset. Two points snapped to the *same* node walk straight between
    them instead (the shorter of the two): their off-network legs share one stretch of ground,
    and counting both would put, say, a village 160 m from its road at 320 m from itself.

    Parameters
    ----------
    network
        The network; for a directed (drive) network the distance runs origin -> destination.
    origins_xy, destinations_xy
        ``(m, 2)`` and ``(k, 2)`` points in metres, in ``network.crs``.
    radius_m
        Largest distance kept, in metres (snap offsets included).
    max_block
        Upper bound on the entries of one dense Dijkstra block (``chunk x network nodes``).

    Returns
    -------
    Reach
        COO triplets ``(rows, cols, dist_m)`` sorted by ``(rows, cols)``.

    Raises
    ------
    ParameterError
        When ``radius_m`` is not a positive finite number, ``max_block`` is below 1, or the
        points are not ``(m, 2)`` arrays of finite numbers.
    CRSError
        When every point is more than 100 km from the network (points given in degrees, or in
        another CRS than ``network.crs``).
    """
    t0 = time.perf_counter()
    real = isinstance(radius_m, numbers.Real) and not isinstance(radius_m, bool)
    radius = float(radius_m) if real else float("nan")
    if not (math.isfinite(radius) and radius > 0):
        raise ParameterError(
            f"radius_m={radius_m!r} must be a positive number of metres. Fix: e.g. 300"
        )
    radius_m = radius
    if max_block < 1:
        raise ParameterError(f"max_block={max_block!r} must be at least 1. Fix: use the default")
    o_node, o_off = network.snap(origins_xy)
    d_node, d_off = network.snap(destinations_xy)
    shape = (len(o_node), len(d_node))
    for label, off in (("origins", o_off), ("destinations", d_off)):
        if len(off) and float(off.min()) > _FAR_M:
            raise CRSError(
                None,
                f"all {label} are more than {_FAR_M / 1000:.0f} km from the network "
                f"(nearest {float(off.min()) / 1000:.0f} km)",
                f"give the points in metres in the network's CRS {network.crs.to_string()} "
                "(e.g. GeoSeries.to_crs(network.crs))",
            )

    # Points that cannot be within the radius even at their own node are left out early.
    o_ok = np.flatnonzero(o_off <= radius_m)
    d_ok = np.flatnonzero(d_off <= radius_m)
    parts: list[tuple[IntArray, IntArray, FloatArray]] = []
    n_sources = 0
    if len(o_ok) and len(d_ok):
        from_origins = len(np.unique(o_node[o_ok])) <= len(np.unique(d_node[d_ok]))
        if from_origins:
            graph = network.adjacency
            src, tgt = (o_ok, o_node, o_off), (d_ok, d_node, d_off)
        else:
            graph = network.adjacency.T.tocsr()
            src, tgt = (d_ok, d_node, d_off), (o_ok, o_node, o_off)
        for s_pts, t_pts, dist in _pairs(graph, src, tgt, radius_m, max_block):
            if from_origins:
                parts.append((s_pts, t_pts, dist))
            else:
                parts.append((t_pts, s_pts, dist))
        n_sources = len(np.unique(src[1][src[0]]))

    parts.append(_same_node_pairs(origins_xy, destinations_xy, o_node, d_node, radius_m))
    if parts:
        rows = np.concatenate([p[0] for p in parts]).astype(np.int64)
        cols = np.concatenate([p[1] for p in parts]).astype(np.int64)
        dist = np.concatenate([p[2] for p in parts]).astype(np.float64)
        order = np.lexsort((dist, cols, rows))
        rows, cols, dist = rows[order], cols[order], dist[order]
        first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])][: len(rows)]
        rows, cols, dist = rows[first], cols[first], dist[first]
    else:
        rows = np.empty(0, dtype=np.int64)
        cols = np.empty(0, dtype=np.int64)
        dist = np.empty(0, dtype=np.float64)
    reach = Reach(rows=rows, cols=cols, dist_m=dist, shape=shape, radius_m=float(radius_m))
    log.info(
        "network_distances: %d x %d points, %d pairs within %.0f m (Dijkstra from %d nodes) "
        "on the %s network; %.2f s",
        shape[0],
        shape[1],
        reach.nnz,
        radius_m,
        n_sources,
        network.kind,
        time.perf_counter() - t0,
    )
    return reach


def _same_node_pairs(
    origins_xy: ArrayLike, destinations_xy: ArrayLike, o_node: IntArray, d_node: IntArray,
    radius_m: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Straight-line pairs within the radius between points snapped to the same node."""
    o_xy = np.asarray(origins_xy, dtype=float).reshape(-1, 2)
    d_xy = np.asarray(destinations_xy, dtype=float).reshape(-1, 2)
    if not len(o_xy) or not len(d_xy):
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    near = cKDTree(o_xy).sparse_distance_matrix(
        cKDTree(d_xy), radius_m, output_type="coo_matrix"
    )
    rows, cols = near.row.astype(np.int64), near.col.astype(np.int64)
    same = o_node[rows] == d_node[cols]
    dist = np.hypot(*(o_xy[rows[same]] - d_xy[cols[same]]).T)
    return rows[same], cols[same], dist


def _group(points: IntArray, node: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Group points by snapped node: unique nodes, start offsets, counts, points in node order."""
    order = np.argsort(node[points], kind="stable")
    ordered = points[order]
    nodes, start, count = np.unique(node[ordered], return_index=True, return_counts=True)
    return nodes, start, count, ordered


def _pairs(
    graph: sp.csr_array,
    src: tuple[IntArray, IntArray, FloatArray],
    tgt: tuple[IntArray, IntArray, FloatArray],
    radius_m: float,
    max_block: int,
) -> list[tuple[IntArray, IntArray, FloatArray]]:
    """Point pairs (source point, target point, distance) within the radius, chunk by chunk."""
    s_points, s_node, s_off = src
    t_points, t_node, t_off = tgt
    s_nodes, s_start, s_count, s_ordered = _group(s_points, s_node)
    t_nodes, t_start, t_count, t_ordered = _group(t_points, t_node)
    # Smallest offset at each distinct node: a node pair whose path plus these exceeds the
    # radius cannot hold any point pair.
    s_min = np.minimum.reduceat(s_off[s_ordered], s_start)
    t_min = np.minimum.reduceat(t_off[t_ordered], t_start)
    limit = radius_m - float(s_min.min()) - float(t_min.min())
    n = graph.shape[0]
    chunk = max(1, int(max_block // max(n, 1)))
    out: list[tuple[IntArray, IntArray, FloatArray]] = []
    for lo in range(0, len(s_nodes), chunk):
        hi = min(lo + chunk, len(s_nodes))
        block = dijkstra(graph, directed=True, indices=s_nodes[lo:hi], limit=limit)
        block = np.atleast_2d(block)[:, t_nodes]
        si, ti = np.nonzero(block + s_min[lo:hi, None] + t_min[None, :] <= radius_m)
        if len(si) == 0:
            continue
        path = block[si, ti]
        si = si + lo
        out.append(
            _expand(
                si,
                ti,
                path,
                (s_start, s_count, s_ordered, s_off),
                (t_start, t_count, t_ordered, t_off),
                radius_m,
            )
        )
    return out


def _expand(
    si: IntArray,
    ti: IntArray,
    path: FloatArray,
    s_groups: tuple[IntArray, IntArray, IntArray, FloatArray],
    t_groups: tuple[IntArray, IntArray, IntArray, FloatArray],
    radius_m: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Expand node pairs to every point pair they stand for, and keep those within the radius."""
    s_start, s_count, s_ordered, s_off = s_groups
    t_start, t_count, t_ordered, t_off = t_groups
    cs = s_count[si]
    ct = t_count[ti]
    total = cs * ct
    pair = np.repeat(np.arange(len(si)), total)
    first = np.cumsum(total) - total
    k = np.arange(int(total.sum())) - first[pair]
    s_pt = s_ordered[s_start[si][pair] + k // ct[pair]]
    t_pt = t_ordered[t_start[ti][pair] + k % ct[pair]]
    dist = s_off[s_pt] + path[pair] + t_off[t_pt]
    keep = dist <= radius_m
    return s_pt[keep], t_pt[keep], dist[keep]
