"""One value per tag on every street edge, whatever order osmnx merged the tags in.

``osmnx.simplify_graph`` merges the OSM ways along a path into one edge. Where the ways
disagree on a tag (a street that is ``residential`` on one way and ``tertiary`` on the next,
or changes its ``name``), osmnx stores ``list(set(values))``: the order of that list follows
Python's per-process string hashing (``PYTHONHASHSEED``), so any code that reads ``[0]`` gets a
different value in each process. :func:`resolve_merged_tags` runs right after simplification and
replaces every merged list by one documented rule, so no consumer can see set order:

* ``highway`` becomes **one class**, the most important of the merged ways, by the ranking
  :data:`HIGHWAY_RANKING` (a stated assumption: the order of the road classes in the OSM wiki's
  ``Key:highway`` table, main roads first, each ``_link`` right after its road, then special
  road types and paths). A street that is partly ``tertiary`` is a ``tertiary`` street. Classes
  outside the ranking come after it, alphabetically.
* every other tag (``name``, ``ref``, ``osmid``, ``lanes``, ``oneway``, ...) stays a list, of
  its **unique values in sorted order** (by type name, then text), so ``[0]`` is the same
  value in every process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import networkx as nx

__all__ = ["HIGHWAY_RANKING", "main_highway", "resolve_merged_tags", "sorted_unique"]

log = logging.getLogger(__name__)

#: Road classes, most important first (OSM wiki ``Key:highway``, each link after its road).
HIGHWAY_RANKING: tuple[str, ...] = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "pedestrian",
    "track",
    "bus_guideway",
    "busway",
    "escape",
    "raceway",
    "road",
    "footway",
    "bridleway",
    "steps",
    "corridor",
    "path",
    "cycleway",
    "construction",
    "proposed",
    "abandoned",
)
_RANK = {name: rank for rank, name in enumerate(HIGHWAY_RANKING)}


def sorted_unique(values: Iterable[object]) -> list[object]:
    """Return the unique values in an order that does not depend on hashing.

    Parameters
    ----------
    values
        Tag values, possibly of mixed types (osmnx keeps ``True`` beside ``"yes"``).

    Returns
    -------
    list
        Each value once, sorted by type name, then by its text.
    """
    unique = {(type(v).__name__, str(v)): v for v in values}
    return [unique[key] for key in sorted(unique)]


def main_highway(values: Iterable[object]) -> str:
    """Return the most important road class among merged ``highway`` values.

    Parameters
    ----------
    values
        ``highway`` values of the ways merged into one edge.

    Returns
    -------
    str
        The class ranked first in :data:`HIGHWAY_RANKING`; classes outside it rank after it,
        alphabetically. ``""`` when ``values`` is empty.
    """
    names = sorted({str(v) for v in values}, key=lambda v: (_RANK.get(v, len(_RANK)), v))
    return names[0] if names else ""


def resolve_merged_tags(graph: nx.MultiDiGraph) -> int:
    """Replace every list-valued edge tag of a simplified graph by its documented value.

    Parameters
    ----------
    graph
        An osmnx graph after ``simplify_graph``; changed in place.

    Returns
    -------
    int
        How many edges had at least one merged (list-valued) tag.
    """
    merged = 0
    for _, _, data in graph.edges(data=True):
        lists = [k for k, v in data.items() if isinstance(v, list)]
        for key in lists:
            data[key] = main_highway(data[key]) if key == "highway" else sorted_unique(data[key])
        merged += bool(lists)
    log.debug("merged tags resolved on %d of %d edges", merged, graph.number_of_edges())
    return merged
