"""A **synthetic** city (or county) made by tiling a real OSM extract k x k times.

Usage::

    python benchmarks/city_tiles.py OUT.osm.pbf [--tiles 16] [--extract chengdu]

The result is not a real place: it is ``k x k`` copies of one real extract (the Chengdu
extract around Tianfu Square vendored for the demo for a city, the Puyang rural extract of
``../shared`` for a county; both
© OpenStreetMap contributors, ODbL) laid side by side, for measuring city mode at sizes no
extract in the repository has. Each copy is the extract **clipped to its ``<bounds>`` box**
(ways cut where they leave the box, at new nodes on its edge; areas such as land use closed
along the edge; a building kept whole when its centroid is in the box, else dropped, as the
pipeline counts it; nodes, ways and members outside dropped), then shifted:

- **coordinates** by whole boxes, so copy ``(row, col)`` fills the box ``col`` boxes east and
  ``row`` boxes north of the original (the Chengdu box is about 1.78 km x 1.81 km); copies
  abut and do not overlap (but for the parts of buildings across a box edge), and their
  streets do not connect;
- **ids** of nodes, ways and relations, and every reference to them, by ``tile x`` :data:`ID_SPAN`
  (ids of the nodes and way pieces the clipping adds start at :data:`NEW_IDS` within the span);
- **names** of ``boundary=administrative`` relations get the suffix ``" #<tile>"``, so each
  copy's sub-districts (``admin_level=8``) and communities (``admin_level=10``) are distinct
  districts and communities of the city.

Each copy also gets its box outline as a way tagged ``boundary=administrative`` at
``--outline-level`` (default 8): the sub-district relations of a copy are cut at its box edge,
and the outline closes them there as the file's ``<bounds>`` does in the original. An extract
without usable admin relations (Puyang's townships have no ``admin_level``) gets with
``--tile-relation`` one relation per copy at that level named ``"<extract> #<tile>"``, the
copy being one district. The file's header box is the union of the copies' boxes.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import osmium
import shapely
from osmium.osm.mutable import Node, Relation, Way

from geodata.osm import read_osm
from siting.pipeline import DEMO_OSM

__all__ = ["EXTRACTS", "ID_SPAN", "NEW_IDS", "Template", "clip_extract", "main", "write_city"]

#: Id offset between copies (OSM ids are below 2e10 today; int64 holds 100 copies easily).
ID_SPAN = 10**11
#: First id, within a copy's span, of the nodes and way pieces the clipping adds.
NEW_IDS = 9 * 10**10
#: Ids (within a copy's span) of the outline's four corner nodes, and of the outline way and
#: the copy's relation.
_CORNERS = NEW_IDS - 10
#: How far (degrees, about 10 m) admin boundary lines reach beyond a copy's box.
REACH_OUT_DEG = 1e-4
_OUTLINE = NEW_IDS - 1

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"
#: Short names of the extracts this script tiles.
EXTRACTS = {
    "chengdu": DEMO_OSM,
    "puyang": _SHARED / "puyang_qingzu_rural.osm",
}

_Tags = dict[str, str]


@dataclass
class Template:
    """One extract clipped to its box: the copy every tile shifts.

    Attributes
    ----------
    box
        ``(minlon, minlat, maxlon, maxlat)`` of the extract's bounds.
    nodes
        Node id -> (lon, lat, tags).
    ways
        Way id -> (node ids, tags); pieces of a cut way have new ids.
    relations
        Relation id -> (members as (type, ref, role), tags).
    """

    box: tuple[float, float, float, float]
    nodes: dict[int, tuple[float, float, _Tags]] = field(default_factory=dict)
    ways: dict[int, tuple[list[int], _Tags]] = field(default_factory=dict)
    relations: dict[int, tuple[list[tuple[str, int, str]], _Tags]] = field(default_factory=dict)


def _read(path: Path) -> tuple[dict, dict, dict]:
    nodes: dict[int, tuple[float, float, _Tags]] = {}
    ways: dict[int, tuple[list[int], _Tags]] = {}
    rels: dict[int, tuple[list[tuple[str, int, str]], _Tags]] = {}
    for obj in osmium.FileProcessor(str(path)):
        if isinstance(obj, osmium.osm.Node):
            nodes[obj.id] = (obj.location.lon, obj.location.lat, dict(obj.tags))
        elif isinstance(obj, osmium.osm.Way):
            ways[obj.id] = ([n.ref for n in obj.nodes], dict(obj.tags))
        elif isinstance(obj, osmium.osm.Relation):
            rels[obj.id] = ([(m.type, m.ref, m.role) for m in obj.members], dict(obj.tags))
    return nodes, ways, rels


class _Clipper:
    """Cuts ways at the box edge, adding a node where a way crosses it."""

    def __init__(self, box: tuple[float, float, float, float], nodes: dict) -> None:
        self.box = shapely.box(box[0], box[1], box[2], box[3])
        self.wider = self.box.buffer(REACH_OUT_DEG, join_style="mitre")
        self.nodes = nodes
        self.by_xy = {(x, y): i for i, (x, y, _) in nodes.items()}
        self.next_id = NEW_IDS

    def _node_at(self, x: float, y: float) -> int:
        key = (x, y)
        if key not in self.by_xy:
            self.by_xy[key] = self.next_id
            self.nodes[self.next_id] = (x, y, {})
            self.next_id += 1
        return self.by_xy[key]

    def _ids(self, line: shapely.LineString | shapely.LinearRing) -> list[int]:
        return [self._node_at(float(x), float(y)) for x, y in shapely.get_coordinates(line)]

    def pieces(self, refs: list[int], tags: _Tags, *, boundary: bool) -> list[list[int]]:
        """Return the node lists of the parts of a way inside the box.

        A closed building is kept whole when its centroid is in the box, else dropped: each
        building stays in the one copy the pipeline would count it in. Another closed way
        (land use, a multipolygon's ring) is cut as an area, closed along the box edge, so what
        lies inside it stays inside; an open way is cut as a line, an admin ``boundary`` line
        :data:`REACH_OUT_DEG` beyond the box, so that it crosses the box's outline as the
        uncut line crosses the extract's bounds (cut exactly at the edge, rounding may end it a
        hair short, and two areas it separates would merge).
        """
        kept = [r for r in refs if r in self.nodes]
        xy = [self.nodes[r][:2] for r in kept]
        closed = len(xy) >= 4 and refs[0] == refs[-1] and "highway" not in tags
        if closed and "building" in tags:
            return [kept] if self.box.contains(shapely.Polygon(xy).centroid) else []
        if len(xy) < 2 or self.box.contains(shapely.LineString(xy)):
            return [kept] if len(xy) >= 2 else []
        if closed and not boundary:
            inside = shapely.intersection(shapely.make_valid(shapely.Polygon(xy)), self.box)
            return [self._ids(p.exterior) for p in shapely.get_parts(inside)
                    if isinstance(p, shapely.Polygon) and not p.is_empty]
        parts = shapely.get_parts(shapely.line_merge(
            shapely.intersection(shapely.LineString(xy), self.wider if boundary else self.box)))
        return [self._ids(p) for p in parts
                if isinstance(p, shapely.LineString) and len(p.coords) >= 2]


def clip_extract(path: Path) -> Template:
    """Read an OSM extract and clip it to its ``<bounds>`` box (see the module docstring).

    Parameters
    ----------
    path
        An OSM file with bounds (any format :func:`geodata.osm.read_osm` reads).

    Returns
    -------
    Template
        The clipped extract.
    """
    extract = read_osm(path)
    x0, y0, x1, y1 = extract.bounds.bounds
    box = (x0, y0, x1, y1)
    nodes, ways, rels = _read(Path(extract.xml_path))
    clipper = _Clipper(box, nodes)
    template = Template(box=box)
    pieces: dict[int, list[int]] = {}
    boundary = {ref for members, tags in rels.values() if "boundary" in tags
                for kind, ref, _ in members if kind == "w"}
    for way_id, (refs, tags) in sorted(ways.items()):
        parts = clipper.pieces(refs, tags, boundary=way_id in boundary or "boundary" in tags)
        ids = [way_id] + [clipper.next_id + k for k in range(len(parts) - 1)]
        clipper.next_id += len(parts) - 1
        pieces[way_id] = ids
        for piece_id, part in zip(ids, parts, strict=False):
            template.ways[piece_id] = (part, tags)
    used = {r for refs, _ in template.ways.values() for r in refs}
    inside = shapely.box(x0, y0, x1, y1)
    template.nodes = {i: v for i, v in nodes.items()
                      if i in used or (v[2] and inside.contains(shapely.Point(v[0], v[1])))}
    for rel_id, (members, tags) in rels.items():
        kept: list[tuple[str, int, str]] = []
        for kind, ref, role in members:
            if kind == "w":
                kept.extend(("w", p, role) for p in pieces.get(ref, []) if p in template.ways)
            elif kind == "n" and ref in template.nodes or kind == "r" and ref in rels:
                kept.append((kind, ref, role))
        template.relations[rel_id] = (kept, tags)
    return template


def _renamed(tags: _Tags, tile: int) -> _Tags:
    if tags.get("boundary") != "administrative":
        return tags
    out = dict(tags)
    for key in ("name", "name:zh", "name:en"):
        if key in out:
            out[key] = f"{out[key]} #{tile}"
    return out


@dataclass(frozen=True)
class _Copy:
    """Where one copy goes: its index and its shift in degrees."""

    tile: int
    dx: float
    dy: float

    @property
    def base(self) -> int:
        return self.tile * ID_SPAN


def _copy_nodes(template: Template, c: _Copy) -> Iterator[Node]:
    for i in sorted(template.nodes):
        lon, lat, tags = template.nodes[i]
        yield Node(id=c.base + i, location=(lon + c.dx, lat + c.dy), tags=tags, version=1)
    x0, y0, x1, y1 = template.box
    for k, (lon, lat) in enumerate([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]):
        yield Node(id=c.base + _CORNERS + k, location=(lon + c.dx, lat + c.dy), version=1)


def _copy_ways(template: Template, c: _Copy, outline_level: int) -> Iterator[Way]:
    for i in sorted(template.ways):
        refs, tags = template.ways[i]
        yield Way(id=c.base + i, nodes=[c.base + r for r in refs], tags=tags, version=1)
    corners = [c.base + _CORNERS + k for k in (0, 1, 2, 3, 0)]
    yield Way(id=c.base + _OUTLINE, nodes=corners, version=1,
              tags={"boundary": "administrative", "admin_level": str(outline_level),
                    "note": "synthetic: edge of one copy of a tiled extract"})


def _copy_relations(template: Template, c: _Copy, outline_level: int,
                    tile_relation: str | None) -> Iterator[Relation]:
    for i in sorted(template.relations):
        members, tags = template.relations[i]
        yield Relation(id=c.base + i, members=[(k, c.base + r, role) for k, r, role in members],
                       tags=_renamed(tags, c.tile), version=1)
    if tile_relation is not None:
        yield Relation(id=c.base + _OUTLINE, members=[("w", c.base + _OUTLINE, "outer")],
                       tags={"type": "boundary", "boundary": "administrative",
                             "admin_level": str(outline_level),
                             "name": f"{tile_relation} #{c.tile}"}, version=1)


def write_city(template: Template, out: Path, *, tiles: int, outline_level: int = 8,
               tile_relation: str | None = None) -> Path:
    """Write ``tiles`` shifted copies of ``template`` to one OSM file (see the docstring).

    Parameters
    ----------
    template
        From :func:`clip_extract`.
    out
        Output path (``.osm.pbf``, or ``.osm`` for XML).
    tiles
        Number of copies, a square (1, 4, 16, 36, 100, ...).
    outline_level
        ``admin_level`` of each copy's box outline (and of its relation).
    tile_relation
        Name of a relation per copy (one district per copy), or ``None`` for none.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    ValueError
        When ``tiles`` is not a positive square.
    """
    side = math.isqrt(tiles)
    if tiles < 1 or side * side != tiles:
        raise ValueError(f"--tiles {tiles} is not a square (1, 4, 16, 36, 100, ...)")
    x0, y0, x1, y1 = template.box
    header = osmium.io.Header()
    header.add_box(osmium.osm.Box(osmium.osm.Location(x0, y0),
                                  osmium.osm.Location(x0 + side * (x1 - x0),
                                                      y0 + side * (y1 - y0))))
    copies = [_Copy(t, (t % side) * (x1 - x0), (t // side) * (y1 - y0)) for t in range(tiles)]
    out.parent.mkdir(parents=True, exist_ok=True)
    with osmium.SimpleWriter(str(out), header=header, overwrite=True) as writer:
        for stream in ([_copy_nodes(template, c) for c in copies],
                       [_copy_ways(template, c, outline_level) for c in copies],
                       [_copy_relations(template, c, outline_level, tile_relation)
                        for c in copies]):
            for objects in stream:
                for obj in objects:
                    writer.add(obj)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: write a tiled city; print its counts."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("out", type=Path, help="output .osm.pbf")
    ap.add_argument("--tiles", type=int, default=4, help="copies, a square (default 4)")
    ap.add_argument("--extract", default="chengdu",
                    help=f"{' or '.join(EXTRACTS)}, or a path (default chengdu)")
    ap.add_argument("--outline-level", type=int, default=8)
    ap.add_argument("--tile-relation", default=None,
                    help="name of one admin relation per copy (e.g. 濮阳县 for Puyang)")
    args = ap.parse_args(argv)
    src = EXTRACTS.get(args.extract, Path(args.extract))
    template = clip_extract(src)
    write_city(template, args.out, tiles=args.tiles, outline_level=args.outline_level,
               tile_relation=args.tile_relation)
    print(f"{args.out}: {args.tiles} copies of {src.name} (synthetic), "
          f"{args.tiles * len(template.nodes):,} nodes, {args.tiles * len(template.ways):,} ways, "
          f"{args.tiles * len(template.relations):,} relations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
