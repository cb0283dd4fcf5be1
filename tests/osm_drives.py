"""Drives on a road graph read straight from an OSM file: a reference independent of geodata.

Nothing here imports the project: the file is parsed with the standard library's XML reader
(:func:`osm_walks._elements`), each drivable ``highway`` way becomes its segments in a networkx
``DiGraph`` on the OSM node ids, one way only where the way is tagged one-way, nothing is
clipped, and only the largest strongly connected component is kept. A segment's length is the
great-circle distance between its ends on the sphere of radius 6,371,009 m (the mean earth
radius osmnx measures edges with).

The drivable ways are those the drive network documents (``geodata/network.py``), restated
here: ``motorway``, ``trunk``, ``primary``, ``secondary``, ``tertiary`` and their ``_link``
roads, ``unclassified``, ``residential`` and ``living_street``, not ``access=private|no``. A
way is one-way forward when tagged ``oneway=yes|true|1`` or ``junction=roundabout``, backward
when tagged ``oneway=-1|reverse`` (the OSM wiki's ``oneway`` key).
"""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
from osm_walks import _elements

DRIVABLE = {"motorway", "trunk", "primary", "secondary", "tertiary", "motorway_link",
            "trunk_link", "primary_link", "secondary_link", "tertiary_link", "unclassified",
            "residential", "living_street"}
EARTH_RADIUS_M = 6_371_009.0


def _great_circle(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance in metres between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _direction(tags: dict[str, str]) -> int:
    """+1 one way along the node order, -1 against it, 0 both ways."""
    oneway = tags.get("oneway", "")
    if oneway in ("-1", "reverse"):
        return -1
    if oneway in ("yes", "true", "1") or tags.get("junction") == "roundabout":
        return 1
    return 0


def road_graph(path: Path) -> nx.DiGraph:
    """The file's drivable ways as a directed graph, largest strongly connected component only.

    Nodes are OSM node ids with ``lon``/``lat``; each edge's ``weight`` is its length in metres
    (the shortest of parallel segments).
    """
    lonlat: dict[int, tuple[float, float]] = {}
    graph: nx.DiGraph = nx.DiGraph()
    for element in _elements(path):
        if element.tag == "node":
            lonlat[int(element.get("id", 0))] = (float(element.get("lon", 0)),
                                                 float(element.get("lat", 0)))
            continue
        tags = {t.get("k", ""): t.get("v", "") for t in element.iter("tag")}
        if tags.get("highway") in DRIVABLE and tags.get("access") not in ("private", "no"):
            refs = [int(nd.get("ref", 0)) for nd in element.iter("nd")]
            step = _direction(tags)
            for a, b in zip(refs[:-1], refs[1:], strict=True):
                if a not in lonlat or b not in lonlat:
                    continue
                length = _great_circle(lonlat[a], lonlat[b])
                for u, v in [(a, b)] * (step >= 0) + [(b, a)] * (step <= 0):
                    if u != v and length < graph.get_edge_data(u, v, {}).get("weight", math.inf):
                        graph.add_edge(u, v, weight=length)
        element.clear()
    largest = max(nx.strongly_connected_components(graph), key=len)
    graph = graph.subgraph(largest).copy()
    for n in graph.nodes:
        graph.nodes[n]["lon"], graph.nodes[n]["lat"] = lonlat[n]
    return graph


def drives(graph: nx.DiGraph, nodes: list[int]) -> dict[tuple[int, int], float]:
    """Shortest drive in metres between every ordered pair of ``nodes`` (absent: no route)."""
    wanted = set(nodes)
    out: dict[tuple[int, int], float] = {}
    for a in nodes:
        for b, d in nx.single_source_dijkstra_path_length(graph, a, weight="weight").items():
            if b in wanted:
                out[(a, b)] = float(d)
    return out
