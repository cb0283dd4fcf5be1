"""Residential communities (社区) from OpenStreetMap, or road-bounded blocks when OSM has none.

Rule R1 (seed 004 五(二) 公共末端工程) asks for one end-station per residential community, so
the plan needs community polygons. Two sources, tried in this order:

**OSM community boundaries** (``source="osm-admin10"``). In China, OSM maps 社区 as
``boundary=administrative`` relations with ``admin_level=10``. Extracts cut from a box hold
only some of their member ways (the Chengdu extract has 9 such relations, but osmnx can close
only 2 of them), so the relations are not assembled ring by ring. Instead:

1. every way present that belongs to an ``admin_level`` 6, 8 or 10 relation (or is itself
   tagged ``boundary=administrative`` at those levels) is noded together with the study-area
   outline and polygonized into *faces*; faces outside the area are dropped;
2. each noded edge remembers which community relations its ways belong to (one way often
   borders two communities, and also the sub-district and district);
3. faces are labelled greedily: the (face, community) pair whose shared boundary is longest is
   labelled first, then scores are recomputed. Boundary shared with a face *already labelled
   with that community* no longer counts, since a community does not lie on both sides of its
   own boundary. Ties go to the community whose ``label`` node lies in the face, then to the
   smaller id. Faces with no remaining evidence stay unassigned (for instance the side of a
   district border whose communities are not in the file);
4. faces are merged per community; the ``name:en`` of the label node fills a missing
   ``name:en`` of the relation.

**Road-bounded blocks** (``source="road-block"``), when the area has no ``admin_level=10``
boundary (rural extracts, or OSM without communities): the road network (``roads``, projected
lines; by default the extract's ``highway`` ways of classes tertiary and above, links left out)
is noded with the area outline and polygonized; blocks under 2,000 m2 (slivers between
carriageways and junction islands) are dropped, and blocks are named ``block-001``,
``block-002``, ... from north to south, then west to east, by centroid.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from geodata.area import StudyArea
from geodata.errors import CRSError, ParameterError
from geodata.extract import OsmData, member_refs
from geodata.osm import OsmExtract

__all__ = [
    "COMMUNITY_COLUMNS",
    "ROAD_BLOCK_HIGHWAYS",
    "admin_areas_from_osm",
    "communities_from_osm",
    "road_blocks",
]

log = logging.getLogger(__name__)

#: Columns of the frames returned here, geometry last.
COMMUNITY_COLUMNS = ["community", "name", "name_en", "source", "area_m2", "geometry"]

#: ``highway=*`` classes whose ways bound road blocks when ``roads`` is not given.
ROAD_BLOCK_HIGHWAYS: frozenset[str] = frozenset(
    {"motorway", "trunk", "primary", "secondary", "tertiary"}
)

#: Admin levels whose ways cut the area into faces; only level 10 names communities.
_CUTTING_LEVELS = frozenset({"6", "8", "10"})
_COMMUNITY_LEVEL = "10"
#: Two pieces of linework closer than this (metres) are the same line.
_SNAP_M = 0.01
#: Shared boundary shorter than this (metres) is no evidence.
_MIN_EVIDENCE_M = 1.0


@dataclass
class _Community:
    rel_id: int
    name: str
    name_en: str
    label_node: int | None
    ways: list[int]


@dataclass
class _AdminData:
    communities: dict[int, _Community] = field(default_factory=dict)
    cutting_ways: set[int] = field(default_factory=set)
    way_lines: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    label_points: dict[int, tuple[float, float, str]] = field(default_factory=dict)
    road_lines: dict[int, list[tuple[float, float]]] = field(default_factory=dict)


def _admin_relations(data: _AdminData, osm: OsmData, level: str) -> None:
    """Administrative relations at the cutting levels and their member ways."""
    cutting = _CUTTING_LEVELS if level == _COMMUNITY_LEVEL else {level}
    for rel in osm.of_type("relation"):
        tags = rel["tags"]
        if tags.get("boundary") != "administrative" or tags.get("admin_level") not in cutting:
            continue
        ways = member_refs(rel, "way")
        data.cutting_ways.update(ways)
        if tags.get("admin_level") == level:
            label = next(iter(member_refs(rel, "node", "label")), None)
            data.communities[rel["id"]] = _Community(
                rel_id=rel["id"],
                name=tags.get("name") or tags.get("name:zh") or "",
                name_en=tags.get("name:en") or "",
                label_node=label,
                ways=ways,
            )


def _admin_geometry(data: _AdminData, osm: OsmData, *, read_roads: bool) -> None:
    """Boundary and road way lines, and the label nodes, of the relations found."""
    coords = osm.node_coords()
    labels = {c.label_node for c in data.communities.values() if c.label_node}
    for node in osm.of_type("node"):
        if node["id"] in labels and node["id"] in coords:
            data.label_points[node["id"]] = (*coords[node["id"]], node["tags"].get("name:en") or "")
    for way in osm.of_type("way"):
        tags = way["tags"]
        cutting = way["id"] in data.cutting_ways or (
            tags.get("boundary") == "administrative" and tags.get("admin_level") in _CUTTING_LEVELS
        )
        road = read_roads and tags.get("highway") in ROAD_BLOCK_HIGHWAYS
        if not (cutting or road):
            continue
        line = [coords[n] for n in way["nodes"] if n in coords]
        if len(line) < 2:
            continue
        if cutting:
            data.cutting_ways.add(way["id"])
            data.way_lines[way["id"]] = line
        if road:
            data.road_lines[way["id"]] = line


def _read_admin(osm: OsmData, *, read_roads: bool, level: str = _COMMUNITY_LEVEL) -> _AdminData:
    data = _AdminData()
    _admin_relations(data, osm, level)
    _admin_geometry(data, osm, read_roads=read_roads)
    return data


def _project_lines(lines: dict[int, list[tuple[float, float]]], area: StudyArea) -> gpd.GeoSeries:
    ids = sorted(lines)
    series = gpd.GeoSeries([LineString(lines[i]) for i in ids], index=ids, crs="EPSG:4326")
    return series.to_crs(area.crs)


def _faces(lines: list[shapely.Geometry], area: StudyArea) -> tuple[list, list]:
    """Node ``lines`` with the area outline; return (edges, faces inside the area)."""
    outline = area.projected.boundary
    noded = shapely.union_all(np.asarray([*lines, outline], dtype=object))
    edges = list(shapely.get_parts(noded))
    polygons = shapely.get_parts(shapely.polygonize(edges))
    inside = shapely.contains(area.projected, shapely.point_on_surface(polygons))
    faces = []
    for poly in polygons[inside]:
        clipped = shapely.intersection(poly, area.projected)
        if clipped.area > 0:
            faces.append(clipped)
    return edges, faces


def _label_faces(
    edges: list[BaseGeometry],
    faces: list[BaseGeometry],
    edge_comms: list[frozenset[int]],
    label_face: dict[int, int],
) -> dict[int, int]:
    """Greedy labelling of faces (see the module docstring); returns face index -> relation id."""
    face_tree = shapely.STRtree([shapely.boundary(f) for f in faces])
    mids = list(shapely.line_interpolate_point(np.asarray(edges, dtype=object), 0.5,
                                               normalized=True))
    edge_faces: list[list[int]] = [
        sorted(int(i) for i in face_tree.query(m, predicate="dwithin", distance=_SNAP_M))
        for m in mids
    ]
    face_edges: dict[int, list[int]] = defaultdict(list)
    for e, fs in enumerate(edge_faces):
        if edge_comms[e]:
            for f in fs:
                face_edges[f].append(e)
    lengths = [float(shapely.length(e)) for e in edges]
    labels: dict[int, int] = {}
    while True:
        best: tuple[float, int, int, int] | None = None
        for f in sorted(face_edges):
            if f in labels:
                continue
            score: dict[int, float] = defaultdict(float)
            for e in face_edges[f]:
                across = [g for g in edge_faces[e] if g != f]
                for c in edge_comms[e]:
                    if any(labels.get(g) == c for g in across):
                        continue
                    score[c] += lengths[e]
            for c, s in score.items():
                if s < _MIN_EVIDENCE_M:
                    continue
                key = (-round(s, 3), -int(label_face.get(c) == f), c, f)
                if best is None or key < best:
                    best = key
        if best is None:
            return labels
        labels[best[3]] = best[2]


def _admin_communities(data: _AdminData, area: StudyArea) -> gpd.GeoDataFrame | None:
    if not data.communities or not data.way_lines:
        return None
    ways = _project_lines(data.way_lines, area)
    ways = ways[ways.intersects(area.projected)]
    if ways.empty:
        return None
    edges, faces = _faces(list(ways.values), area)
    if not faces:
        return None
    membership: dict[int, set[int]] = defaultdict(set)
    for community in data.communities.values():
        for w in community.ways:
            membership[w].add(community.rel_id)
    way_tree = shapely.STRtree(ways.values)
    way_ids = ways.index.to_numpy()
    edge_comms = []
    for edge in edges:
        mid = edge.interpolate(0.5, normalized=True)
        hits = way_tree.query(mid, predicate="dwithin", distance=_SNAP_M)
        comms: set[int] = set()
        for h in hits:
            comms |= membership.get(int(way_ids[h]), set())
        edge_comms.append(frozenset(comms))

    label_face: dict[int, int] = {}
    face_tree = shapely.STRtree(faces)
    for community in data.communities.values():
        point = data.label_points.get(community.label_node or -1)
        if point is None:
            continue
        xy = (
            gpd.GeoSeries([shapely.Point(point[0], point[1])], crs="EPSG:4326")
            .to_crs(area.crs)
            .iloc[0]
        )
        hit = face_tree.query(xy, predicate="within")
        if len(hit):
            label_face[community.rel_id] = int(hit[0])

    labels = _label_faces(edges, faces, edge_comms, label_face)
    if not labels:
        return None
    by_comm: dict[int, list[shapely.Geometry]] = defaultdict(list)
    for f, c in labels.items():
        by_comm[c].append(faces[f])
    rows = []
    for rel_id in sorted(by_comm):
        community = data.communities[rel_id]
        name_en = community.name_en
        if not name_en and community.label_node in data.label_points:
            name_en = data.label_points[community.label_node][2]
        geom = shapely.union_all(by_comm[rel_id])
        rows.append(
            {
                "community": f"relation/{rel_id}",
                "name": community.name,
                "name_en": name_en,
                "source": "osm-admin10",
                "area_m2": geom.area,
                "geometry": geom,
            }
        )
    missing = sorted(set(data.communities) - set(by_comm))
    unassigned = sum(1 for f in range(len(faces)) if f not in labels)
    if missing:
        log.info(
            "%d admin_level=10 relations have no face in the area: %s",
            len(missing),
            ", ".join(data.communities[m].name or str(m) for m in missing),
        )
    log.debug("%d faces, %d labelled, %d unassigned", len(faces), len(labels), unassigned)
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=area.crs)
    return frame.sort_values("community", kind="stable").reset_index(drop=True)


def road_blocks(
    roads: gpd.GeoDataFrame | gpd.GeoSeries, area: StudyArea, *, min_area_m2: float = 2000.0
) -> gpd.GeoDataFrame:
    """Cut the study area into blocks bounded by roads.

    Parameters
    ----------
    roads
        Road centre lines in ``area.crs`` (for instance a projected network's edges).
    area
        The study area.
    min_area_m2
        Blocks smaller than this are dropped as slivers (default 2,000 m2).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`COMMUNITY_COLUMNS`, ``community`` and ``name`` ``"block-001"``, ...
        numbered from north to south, then west to east, by centroid; ``source`` is
        ``"road-block"``. The whole area is one block when no road crosses it.

    Raises
    ------
    CRSError
        If ``roads`` is not in ``area.crs``.
    ParameterError
        If ``min_area_m2`` is negative.
    """
    if not min_area_m2 >= 0:
        raise ParameterError(
            f"min_area_m2={min_area_m2!r} must be 0 or more. Fix: give a sliver threshold in m2"
        )
    if roads.crs is None or not area.crs.equals(roads.crs):
        raise CRSError(
            None,
            f"roads are in {roads.crs!r}, the study area in {area.crs.to_string()}",
            "project the roads with .to_crs(area.crs) before cutting blocks",
        )
    geoms = np.asarray(roads.geometry.values, dtype=object)
    lines = [g for g in geoms if g is not None and not g.is_empty and g.intersects(area.projected)]
    _, faces = _faces(lines, area)
    faces = [f for f in faces if f.area >= min_area_m2]
    centroids = [f.centroid for f in faces]
    order = sorted(
        range(len(faces)),
        key=lambda i: (-round(centroids[i].y, 2), round(centroids[i].x, 2)),
    )
    rows = []
    for n, i in enumerate(order, start=1):
        block = f"block-{n:03d}"
        rows.append(
            {
                "community": block,
                "name": block,
                "name_en": block,
                "source": "road-block",
                "area_m2": faces[i].area,
                "geometry": faces[i],
            }
        )
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in COMMUNITY_COLUMNS[:-1]}, geometry=[], crs=area.crs)[
            COMMUNITY_COLUMNS
        ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=area.crs)[COMMUNITY_COLUMNS]


def admin_areas_from_osm(extract: OsmExtract, area: StudyArea, *, admin_level: int
                         ) -> gpd.GeoDataFrame:
    """Return the areas of the ``boundary=administrative`` relations at one ``admin_level``.

    Relations cut off at the extract's edge are rebuilt as for communities (module docstring),
    with the ways of the relations at that level as the only cutting lines.

    Parameters
    ----------
    extract
        The OSM file, as read by :func:`geodata.osm.read_osm`.
    area
        The study area; the result is in ``area.crs`` and inside ``area.projected``.
    admin_level
        OSM admin level (8: the 街道 sub-districts of a Chinese city; 10: communities).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`COMMUNITY_COLUMNS` (``community`` is ``"relation/<id>"``), sorted by
        it; empty when no relation at that level covers the area.
    """
    data = _read_admin(extract.data, read_roads=False, level=str(admin_level))
    frame = _admin_communities(data, area)
    if frame is None:
        return gpd.GeoDataFrame(columns=COMMUNITY_COLUMNS, geometry="geometry", crs=area.crs)
    return frame[COMMUNITY_COLUMNS]


def communities_from_osm(
    extract: OsmExtract,
    area: StudyArea,
    *,
    roads: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    min_block_m2: float = 2000.0,
) -> gpd.GeoDataFrame:
    """Community polygons for the area: OSM ``admin_level=10`` boundaries, else road blocks.

    Parameters
    ----------
    extract
        The OSM file, as read by :func:`geodata.osm.read_osm`.
    area
        The study area; the result is in ``area.crs`` and inside ``area.projected``.
    roads
        Road lines in ``area.crs`` for the road-block fallback; ``None`` reads the extract's
        ``highway`` ways of classes :data:`ROAD_BLOCK_HIGHWAYS`.
    min_block_m2
        Sliver threshold for road blocks (default 2,000 m2).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`COMMUNITY_COLUMNS`: ``community`` (stable id: ``"relation/11124371"``
        or ``"block-001"``), ``name`` (Chinese ``name``), ``name_en`` (``name:en`` or ``""``),
        ``source`` (``{"osm-admin10", "road-block"}``), ``area_m2`` and a (multi)polygon,
        sorted by ``community``. Communities do not overlap; parts of the area may belong to
        none (see the module docstring).

    Raises
    ------
    CRSError
        If ``roads`` is given in another CRS than ``area.crs``.
    """
    t0 = time.perf_counter()
    data = _read_admin(extract.data, read_roads=roads is None)
    frame = _admin_communities(data, area)
    if frame is not None and not frame.empty:
        frame = frame[COMMUNITY_COLUMNS]
        log.info(
            "communities: %d OSM admin_level=10 communities (of %d relations), %.3f km2 of "
            "%.3f km2, in %.2f s",
            len(frame),
            len(data.communities),
            frame["area_m2"].sum() / 1e6,
            area.projected.area / 1e6,
            time.perf_counter() - t0,
        )
        return frame
    if roads is None:
        roads = (
            _project_lines(data.road_lines, area)
            if data.road_lines
            else gpd.GeoSeries([], crs=area.crs)
        )
    blocks = road_blocks(roads, area, min_area_m2=min_block_m2)
    log.info(
        "communities: no admin_level=10 boundary in the area; %d road blocks of %d road lines "
        "in %.2f s",
        len(blocks),
        len(roads),
        time.perf_counter() - t0,
    )
    return blocks
