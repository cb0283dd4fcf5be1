"""Walking and driving networks of a study area, from the extract's elements through osmnx.

The pipeline (one INFO log line per network, with what was dropped at each step):

1. osmnx's unsimplified graph of every way (:meth:`geodata.extract.OsmData.graph`, as
   ``osmnx.graph_from_xml(..., simplify=False, retain_all=True)`` builds it), once per
   extract and shared by its networks. osmnx turns *every* way into edges, buildings and
   landuse included (``shared/data/osm/README.md``, pitfalls), so
2. only edges with a ``highway`` tag are kept, then only the classes of the network kind:

   - **walk**: every ``highway`` except ``motorway``, ``motorway_link``, ``construction``,
     ``proposed``, ``abandoned``, ``raceway`` and ``bus_guideway``; ways tagged ``foot=no`` are
     dropped, and so are ``access=private|no`` ways unless they say
     ``foot=yes|designated|permissive``. One-way tags do not bind walkers: every edge is
     added in both directions, and the adjacency matrix is symmetric.
   - **drive**: ``motorway``, ``trunk``, ``primary``, ``secondary``, ``tertiary``, their
     ``_link`` roads, ``unclassified``, ``residential`` and ``living_street`` (``service`` roads
     are left out, as in the README's measured counts). One-way tags are kept.

3. isolated nodes are dropped and the graph is simplified (``osmnx.simplify_graph``); the tags
   osmnx merges into lists (in an order that follows string hashing) are resolved at once by
   :func:`geodata.edge_tags.resolve_merged_tags`: ``highway`` is the most important class of
   the merged ways, every other tag the sorted list of its values;
4. it is projected to the study area's UTM CRS;
5. only the largest connected component of the whole file's graph is kept (**walk**: weakly
   connected; **drive**: strongly connected, below), then the graph is cut to the study area
   grown by ``margin_m``: an edge is kept when its geometry meets the grown area, with both its
   ends. Components are taken before the cut, so a street whose links run outside the area
   stays connected through them.

   **walk**: a walk of at most ``margin_m`` from a point in the area, or the access leg to its
   nearest street, never leaves the grown area, so the cut changes neither (the pipeline grows
   the area by the plan's longest walk or the access cap, whichever is longer).

   **drive**: the *strongly* connected component, because a drive is a round trip: the hub's
   vehicle goes to every station it serves and comes back, and a village or township station
   is served the same way. In the weakly connected component a node can be reachable one way
   only: in the Chengdu extract 28 of the 260 nodes of its largest weak component (5 of them in
   the box) lie on one-way streets that end at the file's edge or where only roads outside the
   drive classes go on, and a point snapped to one could be reached and never left, or left and
   never reached. In the strong component every node reaches every other one and back on the
   file's roads.

   A shortest drive of length ``d`` (its straight legs to the network included) between two
   points never runs farther than ``d / 2`` from the nearer of them, so cut at ``margin_m``
   the network keeps exactly every drive of at most ``2 * margin_m`` between points of the
   area, and the longer ones stay longer than that. :func:`siting.tiers.drive_margin_m` grows
   the area by half the hub tier's longest drive (``max_drive_km``) plus 1 % for the
   difference between the edges' great-circle lengths and distances in the projected CRS.
   Measured against the file's roads read independently (``tests/test_drive_routes.py``): on
   the Chengdu box every drive between its 204 nodes in the box is the file's; cut at the box
   itself, 805 of those drives had no route and 394 were longer.
   Places stay those of the study area: what stands on a drive node (a fallback hub site, a
   village or township station) stands on a node in the area (:attr:`Network.in_area`).

Edge lengths are osmnx's great-circle ``length`` in metres (summed along simplified edges).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pyproj
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from osmnx import graph as ox_graph
from scipy.spatial import cKDTree

from geodata.area import StudyArea
from geodata.edge_tags import HIGHWAY_RANKING, resolve_merged_tags
from geodata.errors import CRSError, OsmFileError, ParameterError
from geodata.extract import OsmData
from geodata.osm import OsmExtract

__all__ = [
    "Network",
    "Dropped",
    "NetworkKind",
    "walk_network",
    "drive_network",
    "street_lines",
    "WALK_EXCLUDED_HIGHWAYS",
    "DRIVE_HIGHWAYS",
]

log = logging.getLogger(__name__)

NetworkKind = Literal["walk", "drive"]

#: ``oneway`` values osmnx reads as one way (``osmnx.graph._add_paths``, osmnx 2.1).
_ONEWAY = {"yes", "true", "1", "-1", "reverse", "T", "F"}

#: ``highway`` values left out of the walking network.
WALK_EXCLUDED_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "construction",
        "proposed",
        "abandoned",
        "raceway",
        "bus_guideway",
    }
)
#: ``highway`` values of the driving network.
DRIVE_HIGHWAYS = frozenset(HIGHWAY_RANKING[: HIGHWAY_RANKING.index("living_street") + 1])
_FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})
_NO_ACCESS = frozenset({"private", "no"})
_MIN_EDGE_M = 1e-3

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Dropped:
    """What the network pipeline removed, step by step.

    Attributes
    ----------
    non_highway_edges
        Raw osmnx edges without a ``highway`` tag (buildings, landuse, boundaries...).
    excluded_edges
        Highway edges of classes or access tags outside the network kind.
    isolated_nodes
        Nodes left without any edge by the two filters above.
    outside_area_nodes, outside_area_edges
        Nodes and edges of the largest component cut off at the study area grown by the
        margin.
    outside_component_nodes, outside_component_edges
        Nodes and edges of the whole file's graph outside its largest component (weakly
        connected for a walk network, strongly connected for a drive network).
    """

    non_highway_edges: int
    excluded_edges: int
    isolated_nodes: int
    outside_area_nodes: int
    outside_area_edges: int
    outside_component_nodes: int
    outside_component_edges: int


@dataclass(frozen=True, eq=False)
class Network:
    """A routable street network in a projected CRS.

    Attributes
    ----------
    kind
        ``"walk"`` or ``"drive"``.
    graph
        The simplified, projected, cut osmnx ``MultiDiGraph`` (largest component only,
        reaching beyond the study area by the margin).
        Node ``x``/``y`` are metres in ``crs``; edge ``length`` is metres.
    node_ids
        OSM node ids; row ``i`` of ``xy`` and of ``adjacency`` is node ``node_ids[i]``
        (sorted ascending).
    xy
        ``(n, 2)`` node coordinates in metres.
    adjacency
        ``(n, n)`` CSR array: ``adjacency[i, j]`` is the length in metres of the shortest edge
        from ``i`` to ``j`` (parallel edges reduced to the shortest). Symmetric for walking.
        Self-loops are left out; edges shorter than 1 mm are stored as 1 mm, so no edge is an
        explicit zero that sparse arithmetic could drop.
    crs
        The projected CRS of ``xy`` (the study area's UTM zone).
    dropped
        Counts of what the pipeline removed (see :class:`Dropped`).
    in_area
        ``(n,)`` bool: which nodes lie in the study area itself (its border included), not only
        in the margin around it.
    """

    kind: str
    graph: nx.MultiDiGraph
    node_ids: IntArray
    xy: FloatArray
    adjacency: sp.csr_array
    crs: pyproj.CRS
    dropped: Dropped
    in_area: NDArray[np.bool_]
    _tree: cKDTree = field(init=False, repr=False, compare=False)
    _area_rows: IntArray = field(init=False, repr=False, compare=False)
    _area_tree: cKDTree = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tree", cKDTree(self.xy))
        rows = np.flatnonzero(self.in_area).astype(np.int64)
        object.__setattr__(self, "_area_rows", rows)
        object.__setattr__(self, "_area_tree", cKDTree(self.xy[rows].reshape(-1, 2)))

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges of ``graph`` (directed, parallel edges counted)."""
        return int(self.graph.number_of_edges())

    def snap(self, xy: ArrayLike, *, in_area: bool = False) -> tuple[IntArray, FloatArray]:
        """Snap points to their nearest network node.

        Parameters
        ----------
        xy
            ``(m, 2)`` points in metres, in ``crs``.
        in_area
            Snap to the nodes in the study area only (:attr:`in_area`): where a station or a
            site will stand. Distances snap to every node.

        Returns
        -------
        node_index : numpy.ndarray of int
            Row of the nearest node in ``xy``/``node_ids``/``adjacency``, for each point.
        offset_m : numpy.ndarray of float
            Straight-line distance in metres from each point to that node.

        Raises
        ------
        ParameterError
            When ``xy`` is not an ``(m, 2)`` array of finite numbers, or ``in_area`` is asked
            of a network without a node in the area.
        """
        points = as_points(xy)
        if len(points) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=float)
        if not in_area:
            offset, index = self._tree.query(points)
            return np.asarray(index, dtype=np.int64), np.asarray(offset, dtype=float)
        if len(self._area_rows) == 0:
            raise ParameterError("the network has no node in the study area. Fix: snap to "
                                 "every node (in_area=False)")
        offset, index = self._area_tree.query(points)
        return self._area_rows[np.asarray(index, dtype=np.int64)], np.asarray(offset, float)


def walk_network(extract: OsmExtract, area: StudyArea, *, margin_m: float = 0.0) -> Network:
    """Build the walking network of a study area.

    Parameters
    ----------
    extract
        The OSM data.
    area
        The study area; the network is in ``area.crs``.
    margin_m
        How far beyond the area walks may go, in metres: the network holds every edge of the
        largest component that meets ``area.projected`` grown by it (module docstring, 5).

    Returns
    -------
    Network
        Undirected in use: every street is walkable both ways and the adjacency is symmetric.

    Raises
    ------
    OsmFileError
        When the file has no walkable highway ways in the area.
    ParameterError
        When ``margin_m`` is negative or not finite.
    """
    _check_margin(margin_m)
    return _build(extract, area, "walk", margin_m)


def _check_margin(margin_m: float) -> None:
    if not (np.isfinite(margin_m) and margin_m >= 0):
        raise ParameterError(f"margin_m={margin_m!r} must be a finite number of metres >= 0. "
                             "Fix: pass the longest walk or drive measured, e.g. 300")


def drive_network(extract: OsmExtract, area: StudyArea, *, margin_m: float = 0.0) -> Network:
    """Build the driving network of a study area.

    Parameters
    ----------
    extract
        The OSM data.
    area
        The study area; the network is in ``area.crs``.
    margin_m
        How far beyond the area drives may go, in metres: the network holds every edge of the
        largest strongly connected component that meets ``area.projected`` grown by it, and
        every drive of at most ``2 * margin_m`` between points of the area is the whole file's
        (module docstring, 5).

    Returns
    -------
    Network
        Directed: one-way streets keep their direction.

    Raises
    ------
    OsmFileError
        When the file has no drivable highway node in the area.
    ParameterError
        When ``margin_m`` is negative or not finite.
    """
    _check_margin(margin_m)
    return _build(extract, area, "drive", margin_m)


def as_points(xy: ArrayLike) -> FloatArray:
    """Return ``xy`` as an ``(m, 2)`` float array, checked.

    Parameters
    ----------
    xy
        Points in metres.

    Returns
    -------
    numpy.ndarray
        ``(m, 2)`` float64.

    Raises
    ------
    ParameterError
        When ``xy`` is not an ``(m, 2)`` array of finite numbers.
    """
    points = np.asarray(xy, dtype=float)
    if points.ndim == 1 and points.size == 0:
        points = points.reshape(0, 2)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ParameterError(
            f"points have shape {points.shape}, expected (m, 2). Fix: pass an array of x, y "
            "rows in metres"
        )
    if not np.all(np.isfinite(points)):
        raise ParameterError("points contain NaN or infinite coordinates. Fix: drop them")
    return points


def _build(extract: OsmExtract, area: StudyArea, kind: NetworkKind, margin_m: float) -> Network:
    t0 = time.perf_counter()
    if not area.crs.is_projected:
        raise CRSError(
            None,
            f"the study area's CRS {area.crs.to_string()} is not projected",
            "make the area with geodata.area.study_area",
        )
    graph, n_non_highway, n_excluded, n_isolated = _projected_graph(extract, area, kind)
    n_edges_before = graph.number_of_edges()
    graph, cut = _component_then_cut(graph, area.projected.buffer(margin_m),
                                     strongly=kind == "drive")
    node_ids, xy = _nodes(graph)
    in_area = shapely.intersects_xy(area.projected, xy[:, 0], xy[:, 1])
    # a drive network's places stand on its nodes in the area; a walk's on its edges
    if graph.number_of_edges() == 0 or (kind == "drive" and not in_area.any()):
        raise OsmFileError(
            extract.path,
            f"the file has no {kind} highway ways inside the study area {area.name!r} "
            f"({n_edges_before} edges outside it)",
            "check the boundary, or export an OSM area that covers it",
        )
    dropped = Dropped(n_non_highway, n_excluded, n_isolated, *cut)
    adjacency = _adjacency(graph, node_ids, symmetric=kind == "walk")
    network = Network(kind=kind, graph=graph, node_ids=node_ids, xy=xy, adjacency=adjacency,
                      crs=area.crs, dropped=dropped, in_area=in_area)
    log.info(
        "%s_network: %d nodes, %d edges, %.1f km in %s (+%g m); dropped %d non-highway and %d "
        "excluded edges, %d nodes/%d edges outside the area, %d nodes/%d edges outside the "
        "largest component; %.2f s",
        kind,
        network.n_nodes,
        network.n_edges,
        float(adjacency.sum()) / 1000.0 / (2.0 if kind == "walk" else 1.0),
        area.name,
        margin_m,
        n_non_highway,
        n_excluded,
        dropped.outside_area_nodes,
        dropped.outside_area_edges,
        dropped.outside_component_nodes,
        dropped.outside_component_edges,
        time.perf_counter() - t0,
    )
    return network


def _nodes(graph: nx.MultiDiGraph) -> tuple[IntArray, FloatArray]:
    """Return the graph's node ids (ascending) and their ``(n, 2)`` coordinates."""
    node_ids = np.array(sorted(graph.nodes), dtype=np.int64)
    x = np.fromiter((graph.nodes[n]["x"] for n in node_ids), dtype=float, count=len(node_ids))
    y = np.fromiter((graph.nodes[n]["y"] for n in node_ids), dtype=float, count=len(node_ids))
    return node_ids, np.column_stack([x, y]).reshape(-1, 2)


def _projected_graph(
    extract: OsmExtract, area: StudyArea, kind: NetworkKind
) -> tuple[nx.MultiDiGraph, int, int, int]:
    """Return the file's ways of the kind, simplified and projected to ``area.crs`` (1-4).

    Returns the graph and the counts of non-highway edges, excluded edges and isolated nodes.
    """
    raw, n_non_highway = extract.data.derived("highway_graph", _highway_graph)
    way_tags = extract.data.derived("highway_way_tags", _highway_way_tags)
    graph = raw.copy()
    ids: Iterable[tuple[int, int, int, int]] = graph.edges(keys=True, data="osmid")
    excluded: list[Any] = [(u, v, k) for u, v, k, osmid in ids
                if not _keeps(kind, way_tags.get(int(osmid), {}))]
    graph.remove_edges_from(excluded)
    isolated = [n for n, degree in graph.degree() if degree == 0]
    graph.remove_nodes_from(isolated)
    if graph.number_of_edges() == 0:
        raise OsmFileError(
            extract.path,
            f"the file has no {kind} highway ways ({raw.number_of_edges()} highway edges, none "
            f"of a {kind} class)",
            "export an area that contains streets",
        )
    if kind == "walk":
        _add_reverse_edges(graph)
    graph = ox.simplify_graph(graph)
    resolve_merged_tags(graph)
    graph = ox.projection.project_graph(graph, to_crs=area.crs)
    return graph, n_non_highway, len(excluded), len(isolated)


def _component_then_cut(
    graph: nx.MultiDiGraph, grown: shapely.Geometry, *, strongly: bool
) -> tuple[nx.MultiDiGraph, tuple[int, int, int, int]]:
    """Keep the largest (weak or strong) component, then its edges meeting ``grown`` (5).

    Returns the graph and the nodes and edges cut at the area, then outside the component.
    """
    n_nodes, n_edges = graph.number_of_nodes(), graph.number_of_edges()
    components = (nx.strongly_connected_components if strongly
                  else nx.weakly_connected_components)
    largest = max(components(graph), key=len)
    graph = graph.subgraph(largest).copy()
    off_component = (n_nodes - graph.number_of_nodes(), n_edges - graph.number_of_edges())
    edges: list[tuple[int, int, int, Any]] = list(graph.edges(keys=True, data="geometry"))
    nodes = graph.nodes
    lines = [line or shapely.LineString([(nodes[u]["x"], nodes[u]["y"]),
                                          (nodes[v]["x"], nodes[v]["y"])])
             for u, v, _, line in edges]
    shapely.prepare(grown)
    meets = shapely.intersects(grown, lines) if lines else np.empty(0, dtype=bool)
    cut: list[Any] = [(u, v, k) for (u, v, k, _), keep in zip(edges, meets, strict=True)
                      if not keep]
    graph.remove_edges_from(cut)
    isolated = [n for n, degree in graph.degree() if degree == 0]
    graph.remove_nodes_from(isolated)
    return graph, (len(isolated), len(cut), *off_component)


def _keeps(kind: NetworkKind, tags: dict[str, str]) -> bool:
    highway = tags.get("highway")
    if highway is None:
        return False
    if kind == "drive":
        return highway in DRIVE_HIGHWAYS and tags.get("access") not in _NO_ACCESS
    if highway in WALK_EXCLUDED_HIGHWAYS:
        return False
    foot = tags.get("foot")
    if foot == "no":
        return False
    return not (tags.get("access") in _NO_ACCESS and foot not in _FOOT_ALLOWED)


def _add_reverse_edges(graph: nx.MultiDiGraph) -> None:
    """Add the missing opposite direction of every edge (walkers ignore one-way tags)."""
    missing = [
        (v, u, {**data, "reversed": not data.get("reversed", False), "oneway": False})
        for u, v, data in graph.edges(data=True)
        if not graph.has_edge(v, u)
    ]
    graph.add_edges_from(missing)
    for _, _, data in graph.edges(data=True):
        data["oneway"] = False


def _adjacency(graph: nx.MultiDiGraph, node_ids: IntArray, *, symmetric: bool) -> sp.csr_array:
    n = len(node_ids)
    lengths: Iterable[tuple[int, int, float]] = graph.edges(data="length")
    edges = [(u, v, float(d)) for u, v, d in lengths if u != v]
    if not edges:
        return sp.csr_array((n, n), dtype=float)
    u_ids = np.fromiter((e[0] for e in edges), dtype=np.int64, count=len(edges))
    v_ids = np.fromiter((e[1] for e in edges), dtype=np.int64, count=len(edges))
    length = np.fromiter((e[2] for e in edges), dtype=float, count=len(edges))
    rows = np.searchsorted(node_ids, u_ids)
    cols = np.searchsorted(node_ids, v_ids)
    if symmetric:
        rows, cols = np.concatenate([rows, cols]), np.concatenate([cols, rows])
        length = np.concatenate([length, length])
    return min_csr(rows, cols, length, n)


def min_csr(rows: IntArray, cols: IntArray, length: FloatArray, n: int) -> sp.csr_array:
    """Return the ``(n, n)`` adjacency of weighted links, parallel links reduced to the shortest.

    Parameters
    ----------
    rows, cols, length
        The links and their lengths in metres.
    n
        Number of nodes.

    Returns
    -------
    scipy.sparse.csr_array
        ``[i, j]`` is the shortest length from ``i`` to ``j``, at least 1 mm (no explicit zero
        that sparse arithmetic could drop).
    """
    length = np.maximum(length, _MIN_EDGE_M)
    order = np.lexsort((length, cols, rows))
    rows, cols, length = rows[order], cols[order], length[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return sp.csr_array((length[first], (rows[first], cols[first])), shape=(n, n))


def _highway_graph(data: OsmData) -> tuple[nx.MultiDiGraph, int]:
    """Return the raw osmnx graph of the ``highway`` ways, and how many edges the others make.

    osmnx builds the graph from the ``highway`` ways and their nodes only; the other ways'
    edges are counted as osmnx would make them (a segment each way, one way only when
    :func:`osmnx.graph._is_path_one_way` says so) without building them. Kept on the
    extract's data (:meth:`geodata.extract.OsmData.derived`): do not mutate it.
    """
    t0 = time.perf_counter()
    ways = [w for w in data.of_type("way") if "highway" in w["tags"]]
    used = {n for w in ways for n in w["nodes"]}
    nodes = [e for e in data.of_type("node") if e["id"] in used]
    # osmnx refuses to build a graph of nothing; the network stages then say what is missing
    graph = (OsmData(nodes + ways).graph() if ways
             else nx.MultiDiGraph(crs=ox.settings.default_crs))
    graph.remove_nodes_from([n for n, degree in graph.degree() if degree == 0])
    other = sum(max(len(w["nodes"]) - 1, 0)
                * (1 if ox_graph._is_path_one_way(w["tags"], False, _ONEWAY) else 2)
                for w in data.of_type("way") if "highway" not in w["tags"])
    log.debug(
        "osmnx graph: %d highway edges kept, %d other edges dropped, %.2f s",
        graph.number_of_edges(),
        other,
        time.perf_counter() - t0,
    )
    return graph, other


def _highway_way_tags(data: OsmData) -> dict[int, dict[str, str]]:
    """Return the ``highway``/``foot``/``access`` tags of every way with a ``highway`` tag.

    osmnx keeps ``access`` but not ``foot`` on edges, so the tags are read here.
    """
    wanted = ("highway", "foot", "access")
    return {
        way["id"]: {k: v for k, v in way["tags"].items() if k in wanted}
        for way in data.of_type("way")
        if "highway" in way["tags"]
    }


def street_lines(network: Network) -> gpd.GeoDataFrame:
    """Return the network's edges as lines with their ``name`` and ``highway`` tags.

    A merged edge's ``highway`` is already one class (:mod:`geodata.edge_tags`); of its names,
    the first in sorted order is kept.

    Parameters
    ----------
    network
        A projected network.

    Returns
    -------
    geopandas.GeoDataFrame
        ``name`` (empty when untagged), ``highway`` and the line, in the network's CRS; one row
        per direction-free edge.
    """
    nodes = network.graph.nodes
    rows: dict[tuple[int, int], tuple[str, str, shapely.LineString]] = {}
    for u, v, data in network.graph.edges(data=True):
        key = (min(u, v), max(u, v))
        if key in rows:
            continue
        name, highway = data.get("name", ""), data.get("highway", "")
        name = name[0] if isinstance(name, list) else name
        line = data.get("geometry") or shapely.LineString(
            [(nodes[u]["x"], nodes[u]["y"]), (nodes[v]["x"], nodes[v]["y"])]
        )
        rows[key] = (str(name or ""), str(highway or ""), line)
    values = list(rows.values())
    return gpd.GeoDataFrame(
        {"name": [r[0] for r in values], "highway": [r[1] for r in values]},
        geometry=[r[2] for r in values],
        crs=network.crs,
    )
