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
import numpy as np
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

    def boxes(self) -> np.ndarray:
        """Return each element's WGS84 box ``(minx, miny, maxx, maxy)``, shape ``(n, 4)``.

        A node's box is its point, a way's the box of its nodes, a relation's the box of its
        members (relations within relations followed); ``nan`` where no coordinate is known.
        """
        return self.derived("boxes", _element_boxes)

    def within(self, box: tuple[float, float, float, float]) -> OsmData:
        """Return the elements that may reach into ``box``, each complete, in file order.

        Kept: every element whose box (:meth:`boxes`) meets ``box``, with every member of a
        kept area relation (multipolygons and boundaries, and the relations in them) and
        every node of a kept way. Any geometry osmnx builds from the elements lies within its
        element's box, so a stage that clips to an area inside ``box`` finds the same
        features, streets and boundaries in the result as in the whole data. Other relations
        (bus routes, ...) are kept with the members that meet ``box`` only: no stage builds a
        geometry from them, and a route would otherwise pull in streets across the city.

        Parameters
        ----------
        box
            ``(minx, miny, maxx, maxy)`` in WGS84.

        Returns
        -------
        OsmData
            The kept elements (the same dictionaries, not copies).
        """
        b = self.boxes()
        with np.errstate(invalid="ignore"):
            meets = ((b[:, 0] <= box[2]) & (b[:, 2] >= box[0]) & (b[:, 1] <= box[3])
                     & (b[:, 3] >= box[1]))
        index = self.derived("index", _element_index)
        keep = set(np.flatnonzero(meets).tolist())
        todo = [i for i in keep if _completed(self.elements[i])]
        while todo:
            e = self.elements[todo.pop()]
            refs = ([("node", r) for r in e["nodes"]] if e["type"] == "way"
                    else [(m["type"], m["ref"]) for m in e["members"]])
            for ref in refs:
                i = index.get(ref)
                if i is not None and i not in keep:
                    keep.add(i)
                    if _completed(self.elements[i]):
                        todo.append(i)
        return OsmData([self.elements[i] for i in sorted(keep)])

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
        fresh = [{**e, "tags": dict(e["tags"])} for e in self._feature_candidates(set(tags))]
        gdf = ox_features._create_gdf([{"elements": fresh}], Polygon(), tags)
        return gdf.drop(columns=[c for c in _META_COLUMNS if c in gdf.columns])

    def _feature_candidates(self, keys: set[str]) -> list[dict[str, Any]]:
        """Return the elements osmnx needs for features with one of ``keys``, in file order.

        osmnx keeps the nodes, ways and area relations having one of the query's keys and
        builds a geometry for every way; giving it only the ways it can keep (or that outline
        an area relation it can keep) and every node (for coordinates) yields the same frame
        with far less work when few elements match.
        """
        if not keys:  # osmnx then keeps every tagged element
            return self.elements
        areas = [e for e in self.of_type("relation")
                 if e["tags"].get("type") in _AREA_RELATIONS and keys & e["tags"].keys()]
        outlines = {ref for r in areas for ref in member_refs(r, "way")}
        return [e for e in self.elements if e["type"] == "node"
                or (e["type"] == "way" and (keys & e["tags"].keys() or e["id"] in outlines))
                or (e["type"] == "relation" and e in areas)]

    def graph(self) -> nx.MultiDiGraph:
        """Return osmnx's graph of every way, unsimplified, as ``osmnx.graph_from_xml`` would.

        Returns
        -------
        networkx.MultiDiGraph
            Nodes with ``x``/``y`` in WGS84, one edge per way segment (both directions unless
            one-way), with osmnx's way tags and ``length``.
        """
        return ox_graph._create_graph([{"elements": self.elements}], bidirectional=False)


#: Relation types osmnx builds geometries from, the only ones whose members every stage needs.
_AREA_RELATIONS = ("multipolygon", "boundary")


def _completed(element: dict[str, Any]) -> bool:
    """Whether :meth:`OsmData.within` keeps all the parts of a kept element (ways, areas)."""
    return element["type"] == "way" or (
        element["type"] == "relation" and (element["tags"].get("type") in _AREA_RELATIONS
                                           or "boundary" in element["tags"]))


def _element_index(data: OsmData) -> dict[tuple[str, int], int]:
    """``{(type, id): position}`` of every element."""
    return {(e["type"], e["id"]): i for i, e in enumerate(data.elements)}


def _element_boxes(data: OsmData) -> np.ndarray:
    """Boxes of :meth:`OsmData.boxes`: nodes, then ways, then relations until none grows."""
    boxes = np.full((len(data.elements), 4), np.nan)
    index = data.derived("index", _element_index)
    coords = data.node_coords()
    for i, e in enumerate(data.elements):
        if e["type"] == "node" and e["id"] in coords:
            boxes[i] = coords[e["id"]] * 2
        elif e["type"] == "way":
            xy = np.array([coords[n] for n in e["nodes"] if n in coords]).reshape(-1, 2)
            if len(xy):
                boxes[i] = (*xy.min(axis=0), *xy.max(axis=0))
    relations = [i for i, e in enumerate(data.elements) if e["type"] == "relation"]
    for _ in range(len(relations) + 1):  # a chain of nested relations grows one per round
        grown = False
        for i in relations:
            members = [index[m["type"], m["ref"]] for m in data.elements[i]["members"]
                       if (m["type"], m["ref"]) in index]
            if not members:
                continue
            mb = boxes[members]
            new = np.array([np.nanmin(mb[:, 0]), np.nanmin(mb[:, 1]), np.nanmax(mb[:, 2]),
                            np.nanmax(mb[:, 3])]) if not np.isnan(mb).all() else boxes[i]
            if not np.array_equal(new, boxes[i], equal_nan=True):
                boxes[i], grown = new, True
        if not grown:
            break
    return boxes


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
