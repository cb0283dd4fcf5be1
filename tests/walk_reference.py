"""An independent reference for walks: networkx on the unsimplified street segments.

Written apart from :mod:`geodata.walking` on purpose: every merged edge of the network is cut
back into its straight segments (the unsimplified graph, Euclidean lengths), each point is
placed on its nearest segment by shapely alone, and walks are networkx shortest paths between
the placed points, with the model's documented rules (access cap, direct walks) applied on top.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
import numpy as np
import shapely
from osm_walks import place

from geodata.network import Network

CAP_M = 150.0


def segment_graph(net: Network) -> tuple[nx.Graph, list[tuple[tuple, tuple]]]:
    """The unsimplified walk graph: one node per distinct vertex, one edge per segment."""
    graph: nx.Graph[tuple] = nx.Graph()
    segments: list[tuple[tuple, tuple]] = []
    for u, v, data in net.graph.edges(data=True):
        ends = (net.graph.nodes[u], net.graph.nodes[v])
        line = data.get("geometry") or shapely.LineString([(e["x"], e["y"]) for e in ends])
        coords = [tuple(np.round(c, 3)) for c in line.coords]
        for a, b in zip(coords[:-1], coords[1:], strict=True):
            if a != b and not graph.has_edge(a, b):
                graph.add_edge(a, b, weight=float(np.hypot(b[0] - a[0], b[1] - a[1])))
                segments.append((a, b))
    return graph, segments


def walks(
    net: Network,
    homes: np.ndarray,
    sites: np.ndarray,
    pairs: list[tuple[int, int]],
    compound_of_home: np.ndarray,
    compound_of_site: np.ndarray,
) -> dict[tuple[int, int], float]:
    """The reference walk of each ``(home, site)`` pair asked."""
    graph, segments = segment_graph(net)
    both = np.vstack([homes, sites])
    access = place(graph, segments, both, "p")
    h_acc, s_acc = access[: len(homes)], access[len(homes) :]
    out: dict[tuple[int, int], float] = {}
    by_site: dict[int, list[int]] = defaultdict(list)
    for i, j in pairs:
        by_site[j].append(i)
    for j, homes_of_site in by_site.items():
        street: dict = {}
        if s_acc[j] <= CAP_M:
            street = nx.single_source_dijkstra_path_length(graph, ("p", len(homes) + j))
        for i in homes_of_site:
            along = street.get(("p", i), np.inf) if h_acc[i] <= CAP_M else np.inf
            walk = h_acc[i] + along + s_acc[j]
            straight = float(np.hypot(*(homes[i] - sites[j])))
            same = compound_of_home[i] >= 0 and compound_of_home[i] == compound_of_site[j]
            if same or straight <= min(h_acc[i], s_acc[j]):
                walk = min(walk, straight)
            out[(i, j)] = walk
    return out
