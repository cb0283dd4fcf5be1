"""Rural places from OpenStreetMap: administrative villages, hamlets and townships.

Villages
--------
Every ``place=village`` node is an administrative village (建制村, the unit of rule R3) and
every ``place=hamlet`` node a natural village (自然村) that belongs to one. Villages are keyed
by OSM node id (``"node/123"``): names repeat (郎寨村 is two villages 7 km apart in Puyang).

Townships
---------
A township (乡镇, the unit of rule R4) is a ``boundary=administrative`` relation with a
``name`` and either ``admin_level=8`` or *no* ``admin_level`` (rural exports such as Puyang's
lack it; any other level is not a township), or a ``place=town`` node. Relations and nodes are
merged by name (``郎中`` matches ``郎中乡``: the suffixes 镇/乡/街道 are ignored). The seat is,
in this order, the relation's ``admin_centre`` member when that node is in the file, the
``place=town`` node of the same name, or none (the seat lies outside the extract). Town nodes
of one name closer than ``town_merge_m`` (default 2 km) are one town (Puyang has two 庆祖镇
nodes 470 m apart); the node with the most tags (the one carrying ``name:en``) is kept.

Villages to townships
---------------------
The territory of each township inside the study area is rebuilt from whatever boundary ways
the file has, even when its polygon cannot be assembled (Puyang has 1–3 of each township's
4–8 ways). The ways and the area's outline are noded and polygonised into faces; a face is
labelled with

1. the township whose seat lies in it, else
2. the one township that is a member of *every* boundary way on the face's edge, after
   removing townships whose seat lies in another face.

A face that stays ambiguous, and every village when no boundary way is present, is assigned
to the nearest township seat (a Voronoi split). ``assigned_by`` records which rule applied.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from geodata.area import StudyArea
from geodata.errors import ParameterError
from geodata.extract import OsmData, member_refs
from geodata.osm import OsmExtract

__all__ = [
    "TOWNSHIP_COLUMNS",
    "VILLAGE_COLUMNS",
    "assign_villages",
    "rural_places_from_osm",
    "townships_from_osm",
    "villages_from_osm",
]

log = logging.getLogger(__name__)

#: Columns of :func:`villages_from_osm` (``township``/``assigned_by`` after assignment).
VILLAGE_COLUMNS = ["village_id", "osm_id", "name", "place", "township", "assigned_by", "geometry"]
#: Columns of :func:`townships_from_osm`; ``geometry`` is the seat (empty point when unknown).
TOWNSHIP_COLUMNS = [
    "township_id",
    "name",
    "source",
    "relation_id",
    "seat_osm_id",
    "has_seat",
    "territory",
    "geometry",
]

_SUFFIX = re.compile(r"(街道|镇|乡)$")
_FACE_EDGE_M = 1.0


def _key(name: str) -> str:
    return _SUFFIX.sub("", name.strip())


@dataclass
class _Rural:
    places: list[tuple[int, str, str, float, float, int]] = field(default_factory=list)
    relations: dict[int, tuple[str, list[int], int | None]] = field(default_factory=dict)
    way_rels: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    way_lines: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    centres: dict[int, tuple[float, float]] = field(default_factory=dict)


def _rural_relations(data: _Rural, osm: OsmData) -> None:
    """Named administrative relations (township level or unlevelled) and their ways."""
    for rel in osm.of_type("relation"):
        tags = rel["tags"]
        name = tags.get("name", "") or tags.get("name:zh", "")
        if tags.get("boundary") != "administrative" or not name:
            continue
        if tags.get("admin_level") not in (None, "8"):
            continue
        ways = member_refs(rel, "way")
        centre = next(iter(member_refs(rel, "node", "admin_centre")), None)
        data.relations[rel["id"]] = (name, ways, centre)
        for w in ways:
            data.way_rels[w].add(rel["id"])


def _rural_geometry(data: _Rural, osm: OsmData) -> None:
    """Places (village, hamlet, town nodes), admin centres and the relations' way lines."""
    centres = {c for _, _, c in data.relations.values() if c is not None}
    coords = osm.node_coords()
    for node in osm.of_type("node"):
        if node["id"] not in coords:
            continue
        lon, lat = coords[node["id"]]
        tags = node["tags"]
        if node["id"] in centres:
            data.centres[node["id"]] = (lon, lat)
        place = tags.get("place")
        if place in ("village", "hamlet", "town"):
            name = tags.get("name") or tags.get("name:zh") or ""
            data.places.append((node["id"], place, name, lon, lat, len(tags)))
    for way in osm.of_type("way"):
        if way["id"] in data.way_rels:
            line = [coords[n] for n in way["nodes"] if n in coords]
            if len(line) >= 2:
                data.way_lines[way["id"]] = line


def _read(osm: OsmData) -> _Rural:
    data = _Rural()
    _rural_relations(data, osm)
    _rural_geometry(data, osm)
    return data


def _project(area: StudyArea) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4326", area.crs, always_xy=True)


def villages_from_osm(extract: OsmExtract, area: StudyArea) -> gpd.GeoDataFrame:
    """Administrative villages (``place=village``) and hamlets (``place=hamlet``) in the area.

    Parameters
    ----------
    extract
        The OSM file.
    area
        The study area; nodes outside ``area.projected`` are dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`VILLAGE_COLUMNS` in ``area.crs``, sorted by ``osm_id``: ``village_id``
        (``"node/<id>"``), ``osm_id``, ``name``, ``place`` (``{"village", "hamlet"}``);
        ``township`` and ``assigned_by`` are empty until :func:`assign_villages`.
    """
    return _villages(_read(extract.data), area)


def _villages(data: _Rural, area: StudyArea) -> gpd.GeoDataFrame:
    rows = sorted(p for p in data.places if p[1] in ("village", "hamlet"))
    tr = _project(area)
    x, y = tr.transform([r[3] for r in rows], [r[4] for r in rows])
    frame = gpd.GeoDataFrame(
        {
            "village_id": [f"node/{r[0]}" for r in rows],
            "osm_id": [r[0] for r in rows],
            "name": [r[2] for r in rows],
            "place": [r[1] for r in rows],
            "township": "",
            "assigned_by": "",
        },
        geometry=gpd.points_from_xy(x, y),
        crs=area.crs,
    )
    frame = frame[frame.within(area.projected)].reset_index(drop=True)
    return frame[VILLAGE_COLUMNS]


def townships_from_osm(
    extract: OsmExtract, area: StudyArea, *, town_merge_m: float = 2000.0
) -> gpd.GeoDataFrame:
    """Townships from named admin relations (level 8 or none) and ``place=town`` nodes.

    Parameters
    ----------
    extract
        The OSM file.
    area
        The study area.
    town_merge_m
        Town nodes of one name closer than this are one town (default 2,000 m).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`TOWNSHIP_COLUMNS` in ``area.crs``, sorted by ``township_id``:
        ``township_id`` (``"relation/<id>"`` or ``"node/<id>"`` for a town with no relation),
        ``name``, ``source`` (``"relation+seat"``, ``"relation"`` or ``"place=town"``),
        ``relation_id`` (0 when none), ``seat_osm_id`` (0 when none), ``has_seat``,
        ``territory`` (the township's part of the area rebuilt from its boundary ways, or
        ``None``) and the seat point (empty when the seat is outside the file).

    Raises
    ------
    ParameterError
        If ``town_merge_m`` is negative.
    """
    if not town_merge_m >= 0:
        raise ParameterError(f"town_merge_m={town_merge_m!r} must be 0 or more (metres)")
    return _townships(_read(extract.data), area, town_merge_m)


def _townships(data: _Rural, area: StudyArea, merge_m: float) -> gpd.GeoDataFrame:
    tr = _project(area)
    towns: list[tuple[int, str, Point, int]] = []
    for nid, place, name, lon, lat, ntags in sorted(data.places):
        if place != "town" or not name:
            continue
        pt = Point(tr.transform(lon, lat))
        if not pt.within(area.projected):
            continue
        same = next(
            (k for k, t in enumerate(towns)
             if _key(t[1]) == _key(name) and t[2].distance(pt) < merge_m),
            None,
        )
        if same is None:
            towns.append((nid, name, pt, ntags))
        elif ntags > towns[same][3]:
            towns[same] = (nid, name, pt, ntags)
    rows = []
    used_towns: set[int] = set()
    for rid in sorted(data.relations):
        name, _, centre = data.relations[rid]
        seat_id, seat = 0, Point()
        if centre in data.centres:
            cand = Point(tr.transform(*data.centres[centre]))
            if cand.within(area.projected):
                seat_id, seat = centre, cand
        town = next((t for t in towns if _key(t[1]) == _key(name)), None)
        if town is not None:
            used_towns.add(town[0])
            if seat_id == 0:
                seat_id, seat = town[0], town[2]
        placed = "relation+seat" if seat_id else "relation"
        rows.append((f"relation/{rid}", name, placed, rid, seat_id, seat))
    for nid, name, pt, _ in towns:
        if nid not in used_towns:
            rows.append((f"node/{nid}", name, "place=town", 0, nid, pt))
    frame = gpd.GeoDataFrame(
        {
            "township_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "source": [r[2] for r in rows],
            "relation_id": np.array([r[3] for r in rows], dtype=np.int64),
            "seat_osm_id": np.array([r[4] for r in rows], dtype=np.int64),
            "has_seat": [not r[5].is_empty for r in rows],
            "territory": None,
        },
        geometry=gpd.GeoSeries([r[5] for r in rows], crs=area.crs),
        crs=area.crs,
    )
    frame["territory"] = _territories(data, frame, area)
    return frame.sort_values("township_id", kind="stable").reset_index(drop=True)[TOWNSHIP_COLUMNS]


def _territories(
    data: _Rural, towns: gpd.GeoDataFrame, area: StudyArea
) -> list[BaseGeometry | None]:
    """Label the faces cut by the boundary ways (see the module docstring)."""
    rel_of = {int(r): i for i, r in enumerate(towns["relation_id"]) if r}
    tr = _project(area)
    lines, line_rels = [], []
    for wid, coords in sorted(data.way_lines.items()):
        rels = {rel_of[r] for r in data.way_rels[wid] if r in rel_of}
        if not rels:
            continue
        xy = np.asarray(coords, dtype=float)
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        lines.append(LineString(zip(x, y, strict=True)))
        line_rels.append(rels)
    out: list[BaseGeometry | None] = [None] * len(towns)
    if not lines:
        return out
    noded = shapely.node(shapely.union_all([*lines, area.projected.boundary]))
    faces = list(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded).tolist()).geoms))
    faces = [f for f in faces if f.representative_point().within(area.projected)]
    seats = towns.geometry
    seat_face = {}
    for i, seat in enumerate(seats):
        if seat.is_empty:
            continue
        for k, f in enumerate(faces):
            if f.covers(seat):
                seat_face[i] = k
    parts: dict[int, list[BaseGeometry]] = defaultdict(list)
    for k, face in enumerate(faces):
        owners = [i for i, kk in seat_face.items() if kk == k]
        if len(owners) != 1:
            edge = face.boundary.buffer(_FACE_EDGE_M)
            sets = [r for line, r in zip(lines, line_rels, strict=True)
                    if line.intersection(edge).length > 10 * _FACE_EDGE_M]
            common = set.intersection(*sets) if sets else set()
            common -= {i for i, kk in seat_face.items() if kk != k}
            owners = sorted(common)
        if len(owners) == 1:
            parts[owners[0]].append(face)
    for i, polys in parts.items():
        out[i] = shapely.union_all(polys)
    return out


def assign_villages(villages: gpd.GeoDataFrame, townships: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give each village its township: by rebuilt territory, else by the nearest seat.

    Parameters
    ----------
    villages
        From :func:`villages_from_osm`.
    townships
        From :func:`townships_from_osm`, same CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``villages`` with ``township`` (a ``township_id``, ``""`` when the area has
        no township at all) and ``assigned_by`` (``{"territory", "nearest-seat", ""}``).
    """
    out = villages.copy()
    out["township"], out["assigned_by"] = "", ""
    for tid, terr in zip(townships["township_id"], townships["territory"], strict=True):
        if terr is None:
            continue
        inside = out.within(terr) & (out["township"] == "")
        out.loc[inside, "township"] = tid
        out.loc[inside, "assigned_by"] = "territory"
    seated = townships[townships["has_seat"]]
    left = out["township"] == ""
    if left.any() and len(seated):
        sx = np.c_[seated.geometry.x, seated.geometry.y]
        vx = np.c_[out.geometry.x, out.geometry.y][left.to_numpy()]
        near = np.argmin(((vx[:, None, :] - sx[None, :, :]) ** 2).sum(-1), axis=1)
        out.loc[left, "township"] = seated["township_id"].to_numpy()[near]
        out.loc[left, "assigned_by"] = "nearest-seat"
    return out


def rural_places_from_osm(
    extract: OsmExtract, area: StudyArea, *, town_merge_m: float = 2000.0
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Villages with their townships, and the townships, read in one go.

    Parameters
    ----------
    extract
        The OSM file.
    area
        The study area.
    town_merge_m
        See :func:`townships_from_osm`.

    Returns
    -------
    villages : geopandas.GeoDataFrame
        As :func:`assign_villages` returns them.
    townships : geopandas.GeoDataFrame
        As :func:`townships_from_osm` returns them.

    Raises
    ------
    ParameterError
        If ``town_merge_m`` is negative.
    """
    t0 = time.perf_counter()
    if not town_merge_m >= 0:
        raise ParameterError(f"town_merge_m={town_merge_m!r} must be 0 or more (metres)")
    data = _read(extract.data)
    towns = _townships(data, area, town_merge_m)
    villages = assign_villages(_villages(data, area), towns)
    log.info(
        "rural places: %d villages, %d hamlets, %d townships (%d with a seat, %d with a "
        "territory); %d villages by territory, %d by nearest seat, in %.2f s",
        int((villages["place"] == "village").sum()),
        int((villages["place"] == "hamlet").sum()),
        len(towns),
        int(towns["has_seat"].sum()),
        int(towns["territory"].notna().sum()),
        int((villages["assigned_by"] == "territory").sum()),
        int((villages["assigned_by"] == "nearest-seat").sum()),
        time.perf_counter() - t0,
    )
    return villages, towns
