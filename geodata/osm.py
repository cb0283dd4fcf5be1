"""Read OpenStreetMap files (XML, compressed XML, PBF) into an :class:`OsmExtract`.

Plain ``.osm`` XML is used where it lies. ``.osm.xz``, ``.osm.bz2`` and ``.osm.gz`` are
decompressed, and ``.osm.pbf`` is converted with pyosmium, into plain XML in the cache folder
(:mod:`geodata.cache`), keyed by the sha256 of the input, so a second run reuses the copy.

Every file is stream-parsed once (with expat): the one pass validates it, counts its nodes, ways
and relations, reads ``<bounds>`` (or the box of all nodes when the file has none: Overpass
output, such as the Shanghai extract) and keeps every element in memory
(:class:`geodata.extract.OsmData`), which the stages of a run read instead of the file.
"""

from __future__ import annotations

import bz2
import gzip
import io
import logging
import lzma
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.parsers import expat

import shapely
from shapely.geometry import MultiPolygon, Polygon

from geodata.cache import cached_file, file_sha256
from geodata.errors import OsmFileError
from geodata.extract import ElementBuilder, OsmData

__all__ = ["OsmExtract", "read_osm", "SUPPORTED_SUFFIXES"]

log = logging.getLogger(__name__)

#: File-name endings :func:`read_osm` accepts, mapped to the format read.
SUPPORTED_SUFFIXES: dict[str, str] = {
    ".osm": "xml",
    ".xml": "xml",
    ".osm.xz": "xz",
    ".osm.bz2": "bz2",
    ".osm.gz": "gz",
    ".osm.pbf": "pbf",
    ".pbf": "pbf",
}

_MAGIC = {
    "xz": b"\xfd7zXZ\x00",
    "bz2": b"BZh",
    "gz": b"\x1f\x8b",
}
_REDOWNLOAD = "download or export the file again and check that the transfer completed"


@dataclass(frozen=True)
class OsmExtract:
    """An OpenStreetMap file, read once: its elements in memory, its bounds and counts.

    Attributes
    ----------
    path
        The file the user gave (``.osm``, ``.osm.bz2``, ``.osm.xz`` or ``.osm.pbf``).
    xml_path
        Plain OSM XML with the same content, the one parsed: ``path`` itself, or a
        decompressed or converted copy in the cache folder.
    bounds
        The file's ``<bounds>`` box in WGS84, or the box of its nodes when it has none.
    has_bounds
        Whether ``bounds`` came from a ``<bounds>`` element.
    n_nodes, n_ways, n_relations
        Element counts found while validating the file.
    generator
        The ``generator`` attribute of the ``<osm>`` element (``""`` when absent).
    data
        The file's elements (:class:`geodata.extract.OsmData`), which the stages read.
    """

    path: Path
    xml_path: Path
    bounds: Polygon
    has_bounds: bool
    n_nodes: int = 0
    n_ways: int = 0
    n_relations: int = 0
    generator: str = ""
    data: OsmData = field(default_factory=lambda: OsmData([]), repr=False, compare=False)

    def within(self, area: Polygon | MultiPolygon, *, margin_deg: float = 0.005) -> OsmExtract:
        """Return the part of the extract a plan of ``area`` reads (a city's district).

        The elements that may reach into the box of ``area`` grown by ``margin_deg``
        (:meth:`geodata.extract.OsmData.within`), with ``bounds`` that box within the file's
        and the counts of what is kept, so a district of a large city reads and holds its
        own part only. The plan of any area inside the box is the same as on the whole
        extract.

        Parameters
        ----------
        area
            The study area in WGS84.
        margin_deg
            Margin around its box in degrees (0.005°: about 500 m).

        Returns
        -------
        OsmExtract
            The same file, its data cut to the box.
        """
        minx, miny, maxx, maxy = area.bounds
        box = shapely.box(minx - margin_deg, miny - margin_deg, maxx + margin_deg,
                          maxy + margin_deg)
        data = self.data.within(box.bounds)
        kinds = [e["type"] for e in data.elements]
        cut = shapely.intersection(box, self.bounds)
        return replace(self, bounds=cut if isinstance(cut, Polygon) else box,
                       n_nodes=kinds.count("node"), n_ways=kinds.count("way"),
                       n_relations=kinds.count("relation"), data=data)


@dataclass(frozen=True)
class _Scan:
    bounds: tuple[float, float, float, float] | None
    node_box: tuple[float, float, float, float] | None
    n_nodes: int
    n_ways: int
    n_relations: int
    generator: str
    data: OsmData


def read_osm(path: str | Path) -> OsmExtract:
    """Open and validate an OpenStreetMap file.

    Parameters
    ----------
    path
        An ``.osm`` (or ``.xml``), ``.osm.xz``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file.

    Returns
    -------
    OsmExtract
        The file, a plain-XML path osmnx can read, its WGS84 bounds and element counts.

    Raises
    ------
    OsmFileError
        When the file is missing, empty, has an unknown extension, is compressed in another
        format than its name says, is truncated or corrupt, is XML but not OSM (root element
        other than ``<osm>``), or holds no nodes.
    """
    t0 = time.perf_counter()
    src = Path(path).expanduser()
    fmt = _format_of(src)
    _check_file(src, fmt)
    if fmt == "xml":
        xml_path, hit = src, False
    else:
        xml_path, hit = _derived_xml(src, fmt)
    try:
        scan = _scan_xml(xml_path, shown=src, fmt=fmt)
    except OsmFileError:
        if xml_path != src:
            xml_path.unlink(missing_ok=True)
        raise
    if scan.bounds is not None:
        box, has_bounds = scan.bounds, True
    elif scan.node_box is not None:
        box, has_bounds = scan.node_box, False
    else:  # pragma: no cover - _scan_xml raises when there are no nodes
        raise OsmFileError(src, "the file holds no nodes", _REDOWNLOAD)
    minx, miny, maxx, maxy = box
    if not (minx < maxx and miny < maxy):
        raise OsmFileError(
            src,
            f"the data covers no area (box {minx},{miny},{maxx},{maxy})",
            "export a larger area that contains roads and buildings",
        )
    extract = OsmExtract(
        path=src,
        xml_path=xml_path,
        bounds=shapely.box(minx, miny, maxx, maxy),
        has_bounds=has_bounds,
        n_nodes=scan.n_nodes,
        n_ways=scan.n_ways,
        n_relations=scan.n_relations,
        generator=scan.generator,
        data=scan.data,
    )
    log.info(
        "read_osm: %s (%s%s): %d nodes, %d ways, %d relations, bounds %s %s in %.2f s",
        src.name,
        fmt,
        ", cached XML" if hit else "",
        scan.n_nodes,
        scan.n_ways,
        scan.n_relations,
        "from <bounds>" if has_bounds else "from node extent",
        tuple(round(v, 5) for v in box),
        time.perf_counter() - t0,
    )
    return extract


def _format_of(src: Path) -> str:
    name = src.name.lower()
    for suffix in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return SUPPORTED_SUFFIXES[suffix]
    raise OsmFileError(
        src,
        f"unknown file extension {''.join(src.suffixes) or '(none)'!r}",
        "give an OpenStreetMap file ending in " + ", ".join(SUPPORTED_SUFFIXES),
    )


def _check_file(src: Path, fmt: str) -> None:
    if not src.exists():
        raise OsmFileError(src, "the file does not exist", "check the path and the file name")
    if not src.is_file():
        raise OsmFileError(src, "the path is not a file", "give the path of an OSM file")
    if src.stat().st_size == 0:
        raise OsmFileError(src, "the file is empty (0 bytes)", _REDOWNLOAD)
    with src.open("rb") as fh:
        head = fh.read(64)
    found = _sniff(head)
    if found is not None and found != fmt:
        names = {"xz": ".osm.xz", "bz2": ".osm.bz2", "gz": ".osm.gz", "pbf": ".osm.pbf"}
        raise OsmFileError(
            src,
            f"the name says {fmt!r} but the content is {found!r}",
            f"rename the file to end in {names.get(found, '.osm')}",
        )


def _sniff(head: bytes) -> str | None:
    for fmt, magic in _MAGIC.items():
        if head.startswith(magic):
            return fmt
    if b"OSMHeader" in head[:16]:
        return "pbf"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "xml"
    return None


def _derived_xml(src: Path, fmt: str) -> tuple[Path, bool]:
    def write(tmp: Path) -> None:
        if fmt == "pbf":
            _pbf_to_xml(src, tmp)
        else:
            _decompress(src, tmp, fmt)

    return cached_file(file_sha256(src), ".osm", write)


def _decompress(src: Path, dst: Path, fmt: str) -> None:
    try:
        with _open_compressed(src, fmt) as fin, dst.open("wb") as fout:
            shutil.copyfileobj(fin, fout, length=1 << 20)
    except (EOFError, OSError, lzma.LZMAError) as exc:
        raise OsmFileError(
            src, f"the {fmt} stream is truncated or corrupt ({exc})", _REDOWNLOAD
        ) from exc
    log.debug("decompressed %s to %s", src, dst)


def _open_compressed(src: Path, fmt: str) -> io.BufferedIOBase:
    if fmt == "xz":
        return lzma.open(src, "rb")
    if fmt == "bz2":
        return bz2.open(src, "rb")
    return gzip.open(src, "rb")


def _pbf_to_xml(src: Path, dst: Path) -> None:
    import osmium

    try:
        reader = osmium.io.Reader(str(src), osmium.osm.osm_entity_bits.NOTHING)
        header = reader.header()
        reader.close()
        out = osmium.io.File(str(dst), "osm")
        with osmium.SimpleWriter(out, header=header, overwrite=True) as writer:
            for obj in osmium.FileProcessor(str(src)):
                writer.add(obj)
    except RuntimeError as exc:
        raise OsmFileError(
            src, f"the PBF data is truncated or corrupt ({exc})", _REDOWNLOAD
        ) from exc
    log.debug("converted %s to %s", src, dst)


def _scan_xml(xml_path: Path, *, shown: Path, fmt: str) -> _Scan:
    """Stream-parse the XML once: check it, count and keep its elements, read its box."""
    what = "XML" if fmt == "xml" else f"XML (decompressed from {fmt})"
    state = _ScanState()
    builder = ElementBuilder()

    def start(tag: str, attrs: dict[str, str]) -> None:
        builder.start(tag, attrs)
        if tag == "node":
            state.n_nodes += 1
            lat, lon = attrs.get("lat"), attrs.get("lon")
            if lat is not None and lon is not None:
                state.add_point(float(lon), float(lat))
        elif tag == "way":
            state.n_ways += 1
        elif tag == "relation":
            state.n_relations += 1
        elif tag == "bounds":
            if state.bounds is None:
                state.bounds = _bounds_of(attrs, shown)
        elif state.root is None:
            state.root = tag
            if tag != "osm":
                raise OsmFileError(
                    shown,
                    f"the root element is <{tag}>, not <osm>: this {what} is not "
                    "OpenStreetMap data",
                    "give an OSM XML file (an openstreetmap.org export, Overpass output "
                    "with `out meta;` or `out;`, or an .osm.pbf file)",
                )
            state.generator = attrs.get("generator", "")
        if state.root is None:
            raise OsmFileError(
                shown,
                f"the first element is <{tag}>, not <osm>: this {what} is not OpenStreetMap data",
                "give an OSM XML file whose root element is <osm>",
            )

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    try:
        with xml_path.open("rb") as fh:
            parser.ParseFile(fh)
    except OsmFileError:
        raise  # raised by the callbacks (not OSM); it is a ValueError, so keep it apart
    except expat.ExpatError as exc:
        raise OsmFileError(
            shown,
            f"the {what} is truncated or corrupt at line {exc.lineno}, column {exc.offset} "
            f"({expat.errors.messages[exc.code]})",
            _REDOWNLOAD,
        ) from None
    except ValueError as exc:
        raise OsmFileError(
            shown, f"an element has an id or a coordinate that is not a number ({exc})",
            _REDOWNLOAD,
        ) from None
    except KeyError as exc:
        raise OsmFileError(
            shown, f"a <tag>, <nd> or <member> lacks its {exc} attribute", _REDOWNLOAD
        ) from None
    if state.n_nodes == 0 or state.minx == float("inf"):
        raise OsmFileError(
            shown,
            f"the file holds no nodes with coordinates ({state.n_ways} ways, "
            f"{state.n_relations} relations)",
            "export the area again with its nodes (Overpass: end the query with `>; out;`)",
        )
    node_box = (state.minx, state.miny, state.maxx, state.maxy)
    return _Scan(state.bounds, node_box, state.n_nodes, state.n_ways, state.n_relations,
                 state.generator, OsmData(builder.elements))


class _ScanState:
    """Mutable counters filled by the expat callbacks of :func:`_scan_xml`."""

    def __init__(self) -> None:
        self.root: str | None = None
        self.generator = ""
        self.bounds: tuple[float, float, float, float] | None = None
        self.n_nodes = self.n_ways = self.n_relations = 0
        self.minx = self.miny = float("inf")
        self.maxx = self.maxy = float("-inf")

    def add_point(self, x: float, y: float) -> None:
        if x < self.minx:
            self.minx = x
        if x > self.maxx:
            self.maxx = x
        if y < self.miny:
            self.miny = y
        if y > self.maxy:
            self.maxy = y


def _bounds_of(attrs: dict[str, str], shown: Path) -> tuple[float, float, float, float]:
    try:
        minlon, minlat = float(attrs["minlon"]), float(attrs["minlat"])
        maxlon, maxlat = float(attrs["maxlon"]), float(attrs["maxlat"])
    except (KeyError, ValueError) as exc:
        raise OsmFileError(
            shown,
            f"the <bounds> element is malformed ({attrs}): {exc}",
            "remove the <bounds> element (the box of the nodes is then used) or fix it",
        ) from None
    return minlon, minlat, maxlon, maxlat
