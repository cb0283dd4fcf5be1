"""The walking model: homes and sites placed on the streets, walks that follow them.

A walk between a home and a site has an *access* part and a *street* part::

    walk = access(home) + street(edge point of home, edge point of site) + access(site)

1. **Edge location.** Each point is placed on the nearest point of the nearest walkable edge of
   the network, using the edge's full geometry (osmnx keeps the ``geometry`` of the ways it
   merges when it simplifies, so the located point lies on the mapped street, never on a chord
   between intersections), as network-analysis tools do. The *access leg* is the straight line
   from the point to that edge point.
2. **Virtual nodes.** Each located point becomes a node of the walking graph that splits its
   edge: the points on one edge are ordered along it and chained ``u - p1 - p2 - ... - v`` with
   the partial lengths (the edge's ``length`` times the fraction of its geometry between them).
   The street part is the shortest path between two located points on that graph, so a home
   and a site on the same street walk along it and no walk detours through an intersection.
   (:mod:`geodata.distances` gives virtual nodes to the side it runs Dijkstra from and reaches
   the other side through the ends of its edges, which gives the same lengths on a smaller
   graph; a point within 1 cm of an edge's end is that end node.)
3. **Access cap.** An access leg longer than :data:`ACCESS_CAP_M` (150 m) is not walked: the
   point is *off street* and gets no walk along the streets. The national residential-area
   standard GB 50180-2018 bounds a 居住街坊 (residential block) by streets and sizes it at
   2-4 ha, at most about 200 m across, so every home of a block lies within about 100 m of a
   street that bounds it; a home more than 150 m from every mapped walkable way is where the map
   misses the paths, and it is reported with :data:`REASON_OFF_STREET` rather than given a long
   straight line across unknown ground.
4. **Direct walks.** OSM does not map every path inside a gated compound (小区). Two points may
   walk straight between them, instead of along the streets when that is shorter, in two cases:

   - both lie inside one mapped ``landuse=residential`` polygon (the compound): residents cross
     their compound on its inner paths and service ways, mapped or not;
   - they are nearer to each other than either is to its street (the straight line is no
     longer than the shorter access leg): going to the street and back would walk the same
     ground twice, so neighbours deep in a block walk straight, and a village point and the
     candidate site at its centre are 0 m apart, not twice the village's distance to its road
     (the old rule for two points at one network node, generalised).

   A direct walk is all access part (street part 0 m) and is not bound by the access cap.
   Reaching the street from inside a compound is the access leg itself: the straight walk
   across the compound to its nearest walkable edge.

The walking model applies to the walking network; driving networks (one-way streets) keep node
snapping (:mod:`geodata.distances`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray

from geodata.area import StudyArea
from geodata.network import Network, as_points, min_csr

__all__ = [
    "ACCESS_CAP_M",
    "REASON_OFF_STREET",
    "EdgeIndex",
    "Located",
    "edge_index",
    "locate_on_edges",
    "walking_graph",
    "compound_ids",
    "residential_compounds",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Longest straight access leg from a point to its street, in metres (GB 50180-2018 街坊 size).
ACCESS_CAP_M = 150.0
#: A located point this close to an edge's end is placed on the end node itself.
_AT_END_M = 0.01
#: Why a home off the street network is not served (English, Chinese); ``{access}`` and
#: ``{cap}`` are metres.
REASON_OFF_STREET = (
    "{access:.0f} m from the nearest walkable street, beyond the {cap:g} m access cap: the map "
    "lacks its paths",
    "距最近可步行道路 {access:.0f} 米，超过 {cap:g} 米接入上限：地图缺少其道路",
)


@dataclass(frozen=True, eq=False)
class EdgeIndex:
    """The walkable edges of a network, one per street (directions merged), with a search tree.

    Attributes
    ----------
    u, v
        Row of each edge's end nodes in ``network.xy`` (``u`` is where the geometry starts).
    length
        Edge length in metres (osmnx's ``length``).
    lines
        Edge geometries (shapely LineStrings) in the network's CRS.
    tree
        ``shapely.STRtree`` of ``lines``.
    """

    u: IntArray
    v: IntArray
    length: FloatArray
    lines: NDArray[np.object_]
    tree: shapely.STRtree


@dataclass(frozen=True, eq=False)
class Located:
    """Points placed on their nearest edge.

    Attributes
    ----------
    edge
        Index of each point's edge in :class:`EdgeIndex`.
    along_m
        Metres along that edge from its ``u`` end to the located point.
    access_m
        Straight distance in metres from each point to its located point.
    """

    edge: IntArray
    along_m: FloatArray
    access_m: FloatArray


def edge_index(network: Network) -> EdgeIndex:
    """Return the network's edges, one per street, with a search tree on their geometry.

    Parameters
    ----------
    network
        A projected network; of a walk network's two directions of a street, the one from the
        lower to the higher node id is kept (self-loops once, one-way edges of a drive
        network as they are).

    Returns
    -------
    EdgeIndex
        The edges; an edge without ``geometry`` is the straight line between its nodes.
    """
    edges = [
        (a, b, data.get("geometry"), float(data["length"]))
        for a, b, data in network.graph.edges(data=True)
        if a <= b or a not in network.graph[b]
    ]
    u_arr = np.searchsorted(network.node_ids, [e[0] for e in edges]).astype(np.int64)
    v_arr = np.searchsorted(network.node_ids, [e[1] for e in edges]).astype(np.int64)
    geoms = np.array([e[2] for e in edges], dtype=object)
    straight = np.flatnonzero(geoms == None)  # noqa: E711 (elementwise)
    geoms[straight] = shapely.linestrings(
        np.stack([network.xy[u_arr[straight]], network.xy[v_arr[straight]]], axis=1)
    )
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    flip = np.hypot(*(start - network.xy[u_arr]).T) > np.hypot(*(start - network.xy[v_arr]).T)
    u_arr[flip], v_arr[flip] = v_arr[flip], u_arr[flip]
    length = np.array([e[3] for e in edges])
    return EdgeIndex(u_arr, v_arr, length, geoms, shapely.STRtree(geoms))


def locate_on_edges(edges: EdgeIndex, xy: ArrayLike) -> Located:
    """Place points on the nearest point of their nearest edge.

    Parameters
    ----------
    edges
        The network's edges (:func:`edge_index`).
    xy
        ``(m, 2)`` points in metres, in the network's CRS.

    Returns
    -------
    Located
        Each point's edge, its position along the edge and its access leg; the position is the
        edge's ``length`` times the fraction of its geometry before the located point.

    Raises
    ------
    geodata.errors.ParameterError
        When ``xy`` is not an ``(m, 2)`` array of finite numbers.
    """
    points = np.asarray(shapely.points(as_points(xy)))
    if len(points) == 0:
        return Located(np.empty(0, np.int64), np.empty(0), np.empty(0))
    (point, nearest), distance = edges.tree.query_nearest(
        points, return_distance=True, all_matches=False
    )
    edge = np.empty(len(points), dtype=np.int64)
    access = np.empty(len(points))
    edge[point], access[point] = nearest, distance
    fraction = shapely.line_locate_point(edges.lines[edge], points, normalized=True)
    return Located(edge, np.asarray(fraction) * edges.length[edge], access)


def walking_graph(
    network: Network, edges: EdgeIndex, located: Located
) -> tuple[sp.csr_array, IntArray]:
    """Return the network's adjacency with a virtual node for each located point.

    Parameters
    ----------
    network
        The walk network (symmetric adjacency).
    edges
        Its edges (:func:`edge_index`).
    located
        The points (:func:`locate_on_edges`).

    Returns
    -------
    graph : scipy.sparse.csr_array
        Symmetric, square: the network's nodes, then one virtual node per point inside an edge;
        each edge holding such points is chained ``u - p1 - ... - v`` in order along it (its
        original ``u - v`` entry is kept, and is no shorter than the chain).
    node : numpy.ndarray
        Each point's node in ``graph``: its edge's end node when it lies within 1 cm of it,
        else its virtual node.
    """
    n, length = network.n_nodes, edges.length[located.edge]
    node = np.where(located.along_m <= _AT_END_M, edges.u[located.edge], edges.v[located.edge])
    inside = np.flatnonzero((located.along_m > _AT_END_M) & (located.along_m < length - _AT_END_M))
    order = inside[np.lexsort((located.along_m[inside], located.edge[inside]))]
    edge, along, m = located.edge[order], located.along_m[order], len(order)
    virtual = n + np.arange(m)
    node[order] = virtual
    change = edge[1:] != edge[:-1]
    first = np.flatnonzero(np.r_[True, change][:m])
    last = np.flatnonzero(np.r_[change, True][:m])
    inner = np.flatnonzero(~np.r_[change, True][:m])
    rows = np.concatenate([edges.u[edge[first]], virtual[inner], virtual[last]])
    cols = np.concatenate([virtual[first], virtual[inner + 1], edges.v[edge[last]]])
    gaps = np.concatenate(
        [along[first], along[inner + 1] - along[inner], edges.length[edge[last]] - along[last]]
    )
    net = network.adjacency.tocoo()
    graph = min_csr(
        np.concatenate([net.row, rows, cols]),
        np.concatenate([net.col, cols, rows]),
        np.concatenate([net.data, gaps, gaps]),
        n + m,
    )
    return graph, node


def residential_compounds(features: gpd.GeoDataFrame, area: StudyArea) -> gpd.GeoSeries:
    """Return the mapped residential compounds (``landuse=residential`` polygons), projected.

    Parameters
    ----------
    features
        OSM features with a ``landuse`` column (:func:`geodata.buildings.read_siting_features`).
    area
        The study area; the polygons are returned in ``area.crs``.

    Returns
    -------
    geopandas.GeoSeries
        One valid polygon or multipolygon per compound.
    """
    if "landuse" not in features.columns:
        return gpd.GeoSeries([], crs=area.crs)
    polygonal = features.geom_type.isin(["Polygon", "MultiPolygon"])
    land = features.loc[(features["landuse"] == "residential") & polygonal, "geometry"]
    return gpd.GeoSeries(shapely.make_valid(land.to_crs(area.crs).values), crs=area.crs)


def compound_ids(compounds: gpd.GeoSeries | None, xy: ArrayLike) -> IntArray:
    """Return the compound each point lies in, ``-1`` outside every compound.

    Parameters
    ----------
    compounds
        Compound polygons (:func:`residential_compounds`) in the points' CRS, or ``None``.
    xy
        ``(m, 2)`` points.

    Returns
    -------
    numpy.ndarray
        ``(m,)`` int64; where compounds overlap, the lowest index.
    """
    points = np.asarray(shapely.points(as_points(xy)))
    out = np.full(len(points), -1, dtype=np.int64)
    if compounds is None or len(compounds) == 0 or len(points) == 0:
        return out
    pt, poly = shapely.STRtree(compounds.values).query(points, predicate="within")
    order = np.lexsort((-poly, pt))
    out[pt[order]] = poly[order]
    return out
