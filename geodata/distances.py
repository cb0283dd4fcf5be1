"""Network distances between point sets, kept only within a radius, as sparse triplets.

On a **walk** network, distances follow the walking model of :mod:`geodata.walking`: each
point is placed on the nearest point of its nearest street edge, and a walk is::

    access(i) + shortest_path(edge point(i), edge point(j)) + access(j)

on the network with one virtual node per point splitting its edge; points whose access leg
exceeds the access cap (150 m) walk no street, and two points in one mapped residential
compound, or nearer to each other than to the street, may walk the straight line between
them instead. Each pair
carries its access part (``Reach.access_m``; the rest of the walk is its street part).

On a **drive** network (one-way streets), a distance is::

    offset(i) + shortest_path(node(i), node(j)) + offset(j)

where ``node(.)`` is the nearest network node and ``offset(.)`` the straight-line distance to
it (:meth:`geodata.network.Network.snap`); two points at the same node go straight.

Only pairs with a distance ``<= radius_m`` are kept. Memory scales with the pairs kept, never
with ``origins x destinations``: Dijkstra runs (``scipy.sparse.csgraph.dijkstra`` with
``limit``) from the side with fewer points (from its distinct snapped nodes on a drive network;
on a walk network from its virtual nodes, or the edge end a point lies on: only that side gets
virtual nodes, and the other side is reached through either end of its edges, plus the
straight run along an edge the two share), in chunks whose dense ``chunk x graph nodes`` block
holds at most ``max_block`` entries (1e7 by default, 80 MB of float64), and each chunk is
expanded to point pairs at once and filtered by the radius.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geodata.errors import CRSError, ParameterError
from geodata.network import Network, as_points
from geodata.walking import (
    ACCESS_CAP_M,
    REASON_OFF_STREET,
    EdgeIndex,
    Located,
    compound_ids,
    edge_index,
    locate_on_edges,
    walking_graph,
)

__all__ = ["Reach", "network_distances"]

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
#: Pairs found one way: origin or source index, destination or target index, distance, access.
_Part = tuple[IntArray, IntArray, FloatArray, FloatArray]

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
    access_m
        The access part of each pair's distance in metres: the straight legs between the points
        and the network (the whole distance for a direct walk); the rest is its street part
        (:attr:`street_m`).
    origin_access_m
        Each origin's access leg in metres (its snap offset on a drive network).
    access_cap_m
        The longest access leg walked (:data:`geodata.walking.ACCESS_CAP_M`; ``inf`` on a drive
        network).
    """

    rows: IntArray
    cols: IntArray
    dist_m: FloatArray
    shape: tuple[int, int]
    radius_m: float
    access_m: FloatArray
    origin_access_m: FloatArray
    access_cap_m: float = math.inf

    @property
    def street_m(self) -> FloatArray:
        """Street part of each pair's distance in metres (``dist_m - access_m``)."""
        return np.maximum(self.dist_m - self.access_m, 0.0)

    def off_street(self) -> NDArray[np.bool_]:
        """Return which origins lie beyond the access cap from every street.

        Returns
        -------
        numpy.ndarray
            ``(n_origins,)`` bool: ``True`` where the access leg exceeds :attr:`access_cap_m`.
        """
        return self.origin_access_m > self.access_cap_m

    def parts(self, rows: ArrayLike, cols: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Return the street and access parts of the given pairs.

        Parameters
        ----------
        rows, cols
            Origin and destination index of each pair asked; every pair must be in reach.

        Returns
        -------
        street_m, access_m : numpy.ndarray
            The parts of each pair's distance in metres.

        Raises
        ------
        ParameterError
            When a pair is not in reach.
        """
        key = self.rows * self.shape[1] + self.cols
        asked = np.asarray(rows, dtype=np.int64) * self.shape[1] + np.asarray(cols, np.int64)
        at = np.minimum(np.searchsorted(key, asked), max(len(key) - 1, 0))
        if len(asked) and (not len(key) or np.any(key[at] != asked)):
            raise ParameterError("a pair asked is not in reach. Fix: ask only for pairs in reach")
        return self.street_m[at], self.access_m[at]

    def off_street_reasons(
        self, reasons: list[str], reasons_zh: list[str]
    ) -> tuple[list[str], list[str]]:
        """Name the access cap as the reason of each origin off the street and out of reach.

        Parameters
        ----------
        reasons, reasons_zh
            Why each origin is unserved (English, Chinese; empty when served).

        Returns
        -------
        reasons, reasons_zh : list of str
            The same, with :data:`geodata.walking.REASON_OFF_STREET` for every origin beyond the
            access cap that has no pair in reach.
        """
        reasons, reasons_zh = list(reasons), list(reasons_zh)
        alone = self.off_street()
        alone[self.rows] = False
        for i in np.flatnonzero(alone):
            args = {"access": self.origin_access_m[i], "cap": self.access_cap_m}
            reasons[i] = REASON_OFF_STREET[0].format(**args)
            if reasons_zh:
                reasons_zh[i] = REASON_OFF_STREET[1].format(**args)
        return reasons, reasons_zh

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
    access_cap_m: float = ACCESS_CAP_M,
    compounds: gpd.GeoSeries | None = None,
) -> Reach:
    """Network distances from origins to destinations, kept where ``<= radius_m``.

    On a walk network, by the walking model of :mod:`geodata.walking` (edge-located points,
    access cap, direct walks within a compound or between neighbours); on a drive network,
    from the snapped nodes, two points at the same node walking straight between them (their
    off-network legs share one stretch of ground).

    Parameters
    ----------
    network
        The network; for a directed (drive) network the distance runs origin -> destination.
    origins_xy, destinations_xy
        ``(m, 2)`` and ``(k, 2)`` points in metres, in ``network.crs``.
    radius_m
        Largest distance kept, in metres (access legs included).
    max_block
        Upper bound on the entries of one dense Dijkstra block (``chunk x graph nodes``).
    access_cap_m
        Longest straight access leg to the walk network, in metres; ignored on a drive network.
    compounds
        Mapped residential compounds (:func:`geodata.walking.residential_compounds`) in
        ``network.crs``; two points in one compound may walk straight. Walk network only.

    Returns
    -------
    Reach
        COO triplets ``(rows, cols, dist_m)`` sorted by ``(rows, cols)``, with the access part
        of each pair.

    Raises
    ------
    ParameterError
        When ``radius_m`` or ``access_cap_m`` is not a positive number, ``max_block`` is below
        1, or the points are not ``(m, 2)`` arrays of finite numbers.
    CRSError
        When every point is more than 100 km from the network (points given in degrees, or in
        another CRS than ``network.crs``).
    """
    t0 = time.perf_counter()
    radius_m = _positive(radius_m, "radius_m", "e.g. 300")
    if max_block < 1:
        raise ParameterError(f"max_block={max_block!r} must be at least 1. Fix: use the default")
    o_xy, d_xy = as_points(origins_xy), as_points(destinations_xy)
    if network.kind == "walk":
        cap = _positive(access_cap_m, "access_cap_m", f"e.g. {ACCESS_CAP_M:g}")
        found = _walk_pairs(network, o_xy, d_xy, radius_m, max_block, cap, compounds)
    else:
        cap = math.inf
        found = _node_pairs(network, o_xy, d_xy, radius_m, max_block)
    parts, o_access, n_sources = found
    rows, cols, dist, access = (np.concatenate([p[k] for p in parts]) for k in range(4))
    order = np.lexsort((dist, cols, rows))
    rows, cols, dist, access = rows[order], cols[order], dist[order], access[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])][: len(rows)]
    reach = Reach(
        rows=rows[first].astype(np.int64),
        cols=cols[first].astype(np.int64),
        dist_m=dist[first].astype(np.float64),
        shape=(len(o_xy), len(d_xy)),
        radius_m=radius_m,
        access_m=access[first].astype(np.float64),
        origin_access_m=o_access,
        access_cap_m=cap,
    )
    log.info(
        "network_distances: %d x %d points, %d pairs within %.0f m (Dijkstra from %d sources) "
        "on the %s network; %.2f s",
        *reach.shape,
        reach.nnz,
        radius_m,
        n_sources,
        network.kind,
        time.perf_counter() - t0,
    )
    return reach


def _positive(value: object, name: str, example: str) -> float:
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    number = float(value) if real else float("nan")  # type: ignore[arg-type]
    if not (math.isfinite(number) and number > 0):
        raise ParameterError(
            f"{name}={value!r} must be a positive number of metres. Fix: {example}"
        )
    return number


def _check_near(network: Network, label: str, access: FloatArray) -> None:
    if len(access) and float(access.min()) > _FAR_M:
        raise CRSError(
            None,
            f"all {label} are more than {_FAR_M / 1000:.0f} km from the network "
            f"(nearest {float(access.min()) / 1000:.0f} km)",
            f"give the points in metres in the network's CRS {network.crs.to_string()} "
            "(e.g. GeoSeries.to_crs(network.crs))",
        )


def _walk_pairs(
    network: Network,
    o_xy: FloatArray,
    d_xy: FloatArray,
    radius_m: float,
    max_block: int,
    cap: float,
    compounds: gpd.GeoSeries | None,
) -> tuple[list[_Part], FloatArray, int]:
    """Pairs by the walking model: along the streets from edge-located points, and direct."""
    edges = edge_index(network)
    o_loc, d_loc = locate_on_edges(edges, o_xy), locate_on_edges(edges, d_xy)
    _check_near(network, "origins", o_loc.access_m)
    _check_near(network, "destinations", d_loc.access_m)
    reach = min(cap, radius_m)
    o_ok = np.flatnonzero(o_loc.access_m <= reach)
    d_ok = np.flatnonzero(d_loc.access_m <= reach)
    from_origins = len(o_ok) <= len(d_ok)
    (s_loc, s_ok), (t_loc, t_ok) = ((o_loc, o_ok), (d_loc, d_ok))[:: 1 if from_origins else -1]
    parts: list[_Part] = []
    for s_pt, t_pt, dist, access in _street_pairs(
        network, edges, (s_loc, s_ok), (t_loc, t_ok), radius_m, max_block
    ):
        parts.append((s_pt, t_pt, dist, access) if from_origins else (t_pt, s_pt, dist, access))
    rows, cols, straight = _near_pairs(o_xy, d_xy, radius_m)
    o_acc, d_acc = o_loc.access_m[rows], d_loc.access_m[cols]
    # two points on one edge walk along it (Dijkstra leaves from the source's edge ends)
    along = o_acc + np.abs(o_loc.along_m[rows] - d_loc.along_m[cols]) + d_acc
    same = (o_loc.edge[rows] == d_loc.edge[cols]) & (np.maximum(o_acc, d_acc) <= cap)
    same &= along <= radius_m
    parts.append((rows[same], cols[same], along[same], (o_acc + d_acc)[same]))
    o_in, d_in = compound_ids(compounds, o_xy), compound_ids(compounds, d_xy)
    neighbours = straight <= np.minimum(o_acc, d_acc)
    direct = neighbours | ((o_in[rows] >= 0) & (o_in[rows] == d_in[cols]))
    parts.append((rows[direct], cols[direct], straight[direct], straight[direct]))
    return parts, o_loc.access_m, len(s_ok) if len(t_ok) else 0


def _street_pairs(
    network: Network,
    edges: EdgeIndex,
    src: tuple[Located, IntArray],
    tgt: tuple[Located, IntArray],
    radius_m: float,
    max_block: int,
) -> list[_Part]:
    """Point pairs within the radius along the streets, chunk by chunk.

    Dijkstra runs from each source's node on the network with the sources' virtual nodes
    (:func:`geodata.walking.walking_graph`); a target is reached through either end of its edge,
    so it stands for two points, one at each end, offset by its access leg and its run along
    the edge. A source on the target's own edge is reached through an end, too: the straight run
    along that edge is added by the caller.
    """
    (s_loc, s_pts), (t_loc, t_pts) = src, tgt
    if not len(s_pts) or not len(t_pts):
        return []
    sources = Located(s_loc.edge[s_pts], s_loc.along_m[s_pts], s_loc.access_m[s_pts])
    graph, s_nodes = walking_graph(network, edges, sources)
    k, t_edge, t_along = len(t_pts), t_loc.edge[t_pts], t_loc.along_m[t_pts]
    t_acc = t_loc.access_m[t_pts]
    ends = np.concatenate([edges.u[t_edge], edges.v[t_edge]])
    to_end = np.concatenate([t_along, edges.length[t_edge] - t_along]) + np.tile(t_acc, 2)
    found = _pairs(
        graph,
        (np.arange(len(s_pts)), s_nodes, sources.access_m),
        (np.arange(2 * k), ends, to_end),
        radius_m,
        max_block,
    )
    return [
        (s_pts[s], t_pts[t % k], dist, sources.access_m[s] + t_acc[t % k])
        for s, t, dist, _ in found
    ]


def _node_pairs(
    network: Network, o_xy: FloatArray, d_xy: FloatArray, radius_m: float, max_block: int
) -> tuple[list[_Part], FloatArray, int]:
    """Pairs from the points' nearest nodes (drive networks), and straight at a shared node."""
    o_node, o_off = network.snap(o_xy)
    d_node, d_off = network.snap(d_xy)
    _check_near(network, "origins", o_off)
    _check_near(network, "destinations", d_off)
    # Points that cannot be within the radius even at their own node are left out early.
    o_ok = np.flatnonzero(o_off <= radius_m)
    d_ok = np.flatnonzero(d_off <= radius_m)
    parts: list[_Part] = []
    n_sources = 0
    if len(o_ok) and len(d_ok):
        from_origins = len(np.unique(o_node[o_ok])) <= len(np.unique(d_node[d_ok]))
        if from_origins:
            graph = network.adjacency
            src, tgt = (o_ok, o_node, o_off), (d_ok, d_node, d_off)
        else:
            graph = network.adjacency.T.tocsr()
            src, tgt = (d_ok, d_node, d_off), (o_ok, o_node, o_off)
        for s_pts, t_pts, dist, access in _pairs(graph, src, tgt, radius_m, max_block):
            if from_origins:
                parts.append((s_pts, t_pts, dist, access))
            else:
                parts.append((t_pts, s_pts, dist, access))
        n_sources = len(np.unique(src[1][src[0]]))
    rows, cols, straight = _near_pairs(o_xy, d_xy, radius_m)
    same = o_node[rows] == d_node[cols]
    parts.append((rows[same], cols[same], straight[same], straight[same]))
    return parts, o_off, n_sources


def _near_pairs(
    o_xy: FloatArray, d_xy: FloatArray, radius_m: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """Point pairs whose straight line is within the radius, with its length."""
    if not len(o_xy) or not len(d_xy):
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    near = cKDTree(o_xy).sparse_distance_matrix(
        cKDTree(d_xy), radius_m, output_type="coo_matrix"
    )
    rows, cols = near.row.astype(np.int64), near.col.astype(np.int64)
    return rows, cols, np.hypot(*(o_xy[rows] - d_xy[cols]).T)


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
) -> list[_Part]:
    """Point pairs (source point, target point, distance, access) within the radius, chunked."""
    s_points, s_node, s_off = src
    t_points, t_node, t_off = tgt
    s_nodes, s_start, s_count, s_ordered = _group(s_points, s_node)
    t_nodes, t_start, t_count, t_ordered = _group(t_points, t_node)
    # Smallest offset at each distinct node: a node pair whose path plus these exceeds the
    # radius cannot hold any point pair.
    s_min = np.minimum.reduceat(s_off[s_ordered], s_start)
    t_min = np.minimum.reduceat(t_off[t_ordered], t_start)
    limit = radius_m - float(s_min.min()) - float(t_min.min())
    if limit < 0:
        return []
    n = graph.shape[0]
    chunk = max(1, int(max_block // max(n, 1)))
    out: list[_Part] = []
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
) -> _Part:
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
    access = s_off[s_pt] + t_off[t_pt]
    dist = access + path[pair]
    keep = dist <= radius_m
    return s_pt[keep], t_pt[keep], dist[keep], access[keep]
