"""Walks on a street graph read straight from an OSM file: a reference independent of geodata.

Nothing here imports the project: the file is parsed with the standard library's XML reader,
each walkable ``highway`` way becomes its straight segments in a networkx graph (lengths
Euclidean in the projected CRS the caller gives), nothing is clipped, and only the largest
connected component is kept. A point is placed on the nearest point of its nearest segment
(shapely alone), and a walk is the access leg of each end plus the networkx shortest path
between the placed points, or the straight line where the walking model documents a direct
walk (``geodata/walking.py``, 4): both points in one ``landuse=residential`` compound (read
here from the file's closed ways; the extracts hold no residential multipolygon), or nearer to
each other than either is to its street.

The walkable ways are those the walking model documents (``geodata/network.py``), restated
here: every ``highway`` but motorways, their links, construction, proposed, abandoned, raceway
and bus guideway ways; not ``foot=no``; not ``access=private|no`` unless
``foot=yes|designated|permissive``.
"""

from __future__ import annotations

import bz2
import lzma
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import networkx as nx
import numpy as np
import pyproj
import shapely

EXCLUDED = {"motorway", "motorway_link", "construction", "proposed", "abandoned", "raceway",
            "bus_guideway"}
FOOT_ALLOWED = {"yes", "designated", "permissive"}

Node = tuple[float, float]
Segment = tuple[Node, Node]


def _elements(path: Path) -> Iterator[ET.Element]:
    stream: IO[bytes]
    if path.suffix == ".xz":
        stream = lzma.open(path, "rb")
    elif path.suffix == ".bz2":
        stream = bz2.open(path, "rb")
    else:
        stream = path.open("rb")
    with stream:
        for _, element in ET.iterparse(stream, events=("end",)):
            if element.tag in ("node", "way"):
                yield element


def _walkable(tags: dict[str, str]) -> bool:
    if "highway" not in tags or tags["highway"] in EXCLUDED or tags.get("foot") == "no":
        return False
    return not (tags.get("access") in ("private", "no") and tags.get("foot") not in FOOT_ALLOWED)


def read_file(path: Path) -> tuple[dict[int, tuple[float, float]], list[list[int]],
                                   list[list[int]]]:
    """The file's node positions (lon, lat), walkable ways and residential compounds.

    Ways are lists of node ids; compounds are the closed ``landuse=residential`` ways.
    """
    nodes: dict[int, tuple[float, float]] = {}
    ways: list[list[int]] = []
    compounds: list[list[int]] = []
    for element in _elements(path):
        if element.tag == "node":
            nodes[int(element.get("id", 0))] = (float(element.get("lon", 0)),
                                                float(element.get("lat", 0)))
        else:
            tags = {t.get("k", ""): t.get("v", "") for t in element.iter("tag")}
            refs = [int(nd.get("ref", 0)) for nd in element.iter("nd")]
            if _walkable(tags):
                ways.append(refs)
            if tags.get("landuse") == "residential" and len(refs) > 3 and refs[0] == refs[-1]:
                compounds.append(refs)
        element.clear()
    return nodes, ways, compounds


def street_graph(
    nodes: dict[int, tuple[float, float]], ways: list[list[int]], to_xy: pyproj.Transformer
) -> tuple[nx.Graph, list[Segment]]:
    """The walkable ways as straight segments, largest connected component only.

    Nodes are ``(x, y)`` projected by ``to_xy`` and rounded to the millimetre; each edge's
    ``weight`` is its length in metres.
    """
    ids = sorted({n for way in ways for n in way if n in nodes})
    x, y = to_xy.transform([nodes[n][0] for n in ids], [nodes[n][1] for n in ids])
    at = {n: (round(float(a), 3), round(float(b), 3)) for n, a, b in zip(ids, x, y, strict=True)}
    graph: nx.Graph = nx.Graph()
    for way in ways:
        points = [at[n] for n in way if n in at]
        for a, b in zip(points[:-1], points[1:], strict=True):
            if a != b:
                graph.add_edge(a, b, weight=float(np.hypot(b[0] - a[0], b[1] - a[1])))
    largest = max(nx.connected_components(graph), key=len)
    graph = graph.subgraph(largest).copy()
    return graph, [(a, b) for a, b in graph.edges]


def compound_of(
    nodes: dict[int, tuple[float, float]], compounds: list[list[int]],
    to_xy: pyproj.Transformer, points: np.ndarray,
) -> np.ndarray:
    """Index of a compound holding each point (the first in file order), ``-1`` for none."""
    out = np.full(len(points), -1)
    for k, ring in reversed(list(enumerate(compounds))):
        if all(n in nodes for n in ring):
            x, y = to_xy.transform([nodes[n][0] for n in ring], [nodes[n][1] for n in ring])
            polygon = shapely.make_valid(shapely.Polygon(np.column_stack([x, y])))
            out[shapely.contains_xy(polygon, points[:, 0], points[:, 1])] = k
    return out


def place(
    graph: nx.Graph, segments: list[Segment], points: np.ndarray, tag: str
) -> np.ndarray:
    """Split the nearest segment of each point at its nearest point; return the access legs.

    The placed point of ``points[k]`` becomes node ``(tag, k)`` of ``graph``; ``segments`` are
    the graph's edges, their ends being the nodes' coordinates.
    """
    lines = [shapely.LineString(s) for s in segments]
    tree = shapely.STRtree(lines)
    on_segment: dict[int, list[tuple[float, tuple[str, int]]]] = defaultdict(list)
    access = np.empty(len(points))
    for k, xy in enumerate(points):
        point = shapely.Point(xy)
        s = int(tree.nearest(point))
        access[k] = lines[s].distance(point)
        on_segment[s].append((lines[s].project(point), (tag, k)))
    for s, placed in on_segment.items():
        a, b = segments[s]
        length = lines[s].length
        chain = [(0.0, a), *sorted(placed), (length, b)]
        graph.remove_edge(a, b)
        for (d0, n0), (d1, n1) in zip(chain[:-1], chain[1:], strict=True):
            graph.add_edge(n0, n1, weight=max(d1 - d0, 0.0))
    return access


def reference_walks(
    path: Path, crs: pyproj.CRS, homes: np.ndarray, sites: np.ndarray, *, cutoff_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Walk of each ``(homes[k], sites[k])`` pair on the file's streets, in metres.

    Returns
    -------
    walk
        The street walk (access leg of each end plus the shortest path between the placed
        points), or the straight line where it is a direct walk; ``inf`` beyond ``cutoff_m``.
    direct
        Which pairs walk straight.
    """
    nodes, ways, compounds = read_file(path)
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    graph, segments = street_graph(nodes, ways, to_xy)
    access = place(graph, segments, np.vstack([homes, sites]), "p")
    n = len(homes)
    walk = np.full(n, np.inf)
    by_site: dict[tuple[float, float], list[int]] = defaultdict(list)
    for k, xy in enumerate(sites):
        by_site[(float(xy[0]), float(xy[1]))].append(k)
    for pairs in by_site.values():
        street = nx.single_source_dijkstra_path_length(graph, ("p", n + pairs[0]),
                                                       cutoff=cutoff_m, weight="weight")
        for k in pairs:
            walk[k] = access[k] + street.get(("p", k), np.inf) + access[n + k]
    straight = np.hypot(*(homes - sites).T)
    home_in, site_in = (compound_of(nodes, compounds, to_xy, p) for p in (homes, sites))
    direct = (home_in >= 0) & (home_in == site_in)
    direct |= straight <= np.minimum(access[:n], access[n:])
    walk = np.where(direct, np.minimum(walk, straight), walk)
    return np.where(walk <= cutoff_m, walk, np.inf), direct
