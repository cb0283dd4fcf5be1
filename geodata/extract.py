"""The elements of one OpenStreetMap file, parsed once and shared by every stage of a run.

:func:`geodata.osm.read_osm` parses the file once (with expat) into an :class:`OsmData`: its
nodes, ways and relations as plain dictionaries, in file order, in the form osmnx builds from
OSM XML (an Overpass-like response: ``type``, ``id``, ``tags``, ``lat``/``lon``, ``nodes``,
``members``). Every stage reads from it instead of the file: the osmnx feature frames and the
raw street graph are built from these elements, and the boundary, community, village and
network passes walk them.

osmnx offers no public function that builds features or a graph from parsed data (its
``features_from_xml`` and ``graph_from_xml`` take a file path and parse it each time), so
:meth:`OsmData.features` and :meth:`OsmData.graph` call the two private functions those public
ones call after parsing: ``osmnx.features._create_gdf`` and ``osmnx.graph._create_graph``. The
osmnx version range is pinned in ``pyproject.toml`` for that reason.

Objects derived from the elements (the street graph, admin boundary lines) are kept on the
:class:`OsmData` they came from (:meth:`OsmData.derived`), so a run, or each district of a city
run sharing one extract, builds each once; they are not pickled with it, so shipping an extract
to a worker sends only the elements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import geopandas as gpd
import networkx as nx
from osmnx import features as ox_features
from osmnx import graph as ox_graph
from shapely.geometry import Polygon

__all__ = ["ElementBuilder", "OsmData", "member_refs"]

T = TypeVar("T")

#: Attributes of ``<node>``, ``<way>`` and ``<relation>`` read as numbers (as osmnx does).
_FLOAT_ATTRS = ("lat", "lon")
_INT_ATTRS = ("changeset", "id", "uid", "version")
#: Element attributes osmnx drops from its feature frames.
_META_COLUMNS = ("changeset", "timestamp", "uid", "user", "version")


class OsmData:
    """The parsed elements of one OSM file.

    Parameters
    ----------
    elements
        Nodes, ways and relations in file order, as built by :class:`ElementBuilder`.

    Attributes
    ----------
    elements
        The elements; treat them as read-only (copy before changing one).
    """

    def __init__(self, elements: list[dict[str, Any]]) -> None:
        self.elements = elements
        self._derived: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"elements": self.elements}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.elements = state["elements"]
        self._derived = {}

    def of_type(self, kind: str) -> Iterator[dict[str, Any]]:
        """Yield the elements of one type (``"node"``, ``"way"`` or ``"relation"``) in order."""
        return (e for e in self.elements if e["type"] == kind)

    def derived(self, key: str, build: Callable[[OsmData], T]) -> T:
        """Return ``build(self)``, built on the first call for ``key`` and kept after.

        Parameters
        ----------
        key
            Name of the derived object.
        build
            Builds it from this data; its result must not be changed by callers.

        Returns
        -------
        object
            The derived object.
        """
        if key not in self._derived:
            self._derived[key] = build(self)
        return self._derived[key]

    def node_coords(self) -> dict[int, tuple[float, float]]:
        """Return ``{node id: (lon, lat)}`` of every node with coordinates."""
        return self.derived("node_coords", lambda d: {
            e["id"]: (e["lon"], e["lat"]) for e in d.of_type("node") if "lon" in e})

    def features(self, tags: dict[str, bool | str | list[str]]) -> gpd.GeoDataFrame:
        """Return osmnx's feature frame for ``tags``, as ``osmnx.features_from_xml`` would.

        Parameters
        ----------
        tags
            osmnx tag filter.

        Returns
        -------
        geopandas.GeoDataFrame
            Indexed by ``(element, id)``, in WGS84, without the element metadata columns.

        Raises
        ------
        osmnx._errors.InsufficientResponseError
            When no element matches.
        """
        # osmnx pops keys from the dictionaries it is given: hand it copies
        fresh = [{**e, "tags": dict(e["tags"])} for e in self.elements]
        gdf = ox_features._create_gdf([{"elements": fresh}], Polygon(), tags)
        return gdf.drop(columns=[c for c in _META_COLUMNS if c in gdf.columns])

    def graph(self) -> nx.MultiDiGraph:
        """Return osmnx's graph of every way, unsimplified, as ``osmnx.graph_from_xml`` would.

        Returns
        -------
        networkx.MultiDiGraph
            Nodes with ``x``/``y`` in WGS84, one edge per way segment (both directions unless
            one-way), with osmnx's way tags and ``length``.
        """
        return ox_graph._create_graph([{"elements": self.elements}], bidirectional=False)


def member_refs(relation: dict[str, Any], kind: str, role: str | None = None) -> list[int]:
    """Return the ids of a relation's members of one type (and role), in order.

    Parameters
    ----------
    relation
        A relation element of :attr:`OsmData.elements`.
    kind
        Member type: ``"node"``, ``"way"`` or ``"relation"``.
    role
        Member role (``"label"``, ``"admin_centre"``, ...); ``None`` for any.

    Returns
    -------
    list of int
        The members' ids.
    """
    return [m["ref"] for m in relation["members"]
            if m["type"] == kind and (role is None or m.get("role") == role)]


class ElementBuilder:
    """Expat callbacks that build the elements of an OSM XML file as osmnx does.

    Feed it the start and end of every XML element (:meth:`start`, :meth:`end`); the
    elements are in :attr:`elements`.
    """

    def __init__(self) -> None:
        self.elements: list[dict[str, Any]] = []
        self._current: dict[str, Any] | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        """Take the start of an XML element."""
        if tag in ("node", "way", "relation"):
            element: dict[str, Any] = {"type": tag, "tags": {}}
            if tag == "relation":
                element["members"] = []
            element.update(attrs)
            if tag == "way":
                element["nodes"] = []
            element.update({k: float(attrs[k]) for k in _FLOAT_ATTRS if k in attrs
                            and tag != "relation"})
            element.update({k: int(attrs[k]) for k in _INT_ATTRS if k in attrs})
            self._current = element
        elif self._current is None:
            return
        elif tag == "tag":
            self._current["tags"][attrs["k"]] = attrs["v"]
        elif tag == "nd":
            self._current["nodes"].append(int(attrs["ref"]))
        elif tag == "member":
            self._current["members"].append(
                {k: (int(v) if k == "ref" else v) for k, v in attrs.items()})

    def end(self, tag: str) -> None:
        """Take the end of an XML element."""
        if tag in ("node", "way", "relation") and self._current is not None:
            self.elements.append(self._current)
            self._current = None
