"""The study area: a WGS84 polygon and the local projected CRS all distances are measured in.

:func:`study_area` makes it from an :class:`~geodata.osm.OsmExtract`, either from the
extract's bounds or from a boundary file (GeoJSON, GeoPackage, anything pyogrio reads), cut to
the extract's bounds.

Boundary files from Chinese sources are often in GCJ-02, not WGS84 (DataV/AutoNavi boundaries
are; see ``shared/data/osm/README.md``). With ``boundary_crs="auto"`` the datum is detected:

1. a DataV file (properties ``adcode``, ``center`` and ``acroutes``) is GCJ-02;
2. otherwise, when the OSM file holds ``boundary=administrative`` ways near the boundary, the
   boundary is compared with them as given and after the GCJ-02 -> WGS84 shift: whichever puts
   clearly more OSM boundary vertices within 80 m of the boundary wins (the GCJ-02 offset is
   250-600 m in China, far larger than the gap between two tracings of the same border);
3. otherwise the file is taken as WGS84, and a log line says so.

A file of several named features (a DataV city file holds its districts) is not merged
unasked: ``boundary_name`` picks one by name or adcode, or ``"all"`` their union; without it
the error lists the features and marks those near the OSM data.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon

from geodata.coords import geometry_gcj02_to_wgs84, in_china
from geodata.errors import BoundaryError, CRSError, ParameterError
from geodata.extract import OsmData
from geodata.osm import OsmExtract

__all__ = ["ALL_DISTRICTS", "StudyArea", "study_area", "utm_crs", "to_projected", "BoundaryCRS"]

log = logging.getLogger(__name__)

BoundaryCRS = Literal["auto", "wgs84", "gcj02"]

#: ``boundary_name`` that keeps every feature of a boundary file.
ALL_DISTRICTS = "all"

_DATAV_PROPERTIES = frozenset({"adcode", "center", "acroutes"})
#: How far beyond the extract's box (degrees, about 1 km) a feature counts as near the data.
_NEAR_DEG = 0.01
_MATCH_M = 80.0
_MIN_MATCHES = 5


@dataclass(frozen=True)
class StudyArea:
    """Where a plan is made.

    Attributes
    ----------
    polygon
        The area in WGS84 (EPSG:4326) longitude/latitude. A ``MultiPolygon`` when the boundary
        has several parts inside the extract (a district with an exclave, say).
    crs
        The local UTM zone: every distance and area is computed in it.
    projected
        ``polygon`` in ``crs`` (metres).
    source
        Where the polygon came from: ``"osm-bounds"`` or the boundary file's path.
    name
        A human-readable name (from the boundary's ``name`` or the file name).
    datum
        The datum the boundary file was read in before conversion to WGS84: ``"wgs84"`` or
        ``"gcj02"`` (``"wgs84"`` for ``"osm-bounds"``).
    boundary
        The boundary file's whole polygon in WGS84, before it was cut to the extract's bounds
        (``None`` for ``"osm-bounds"``): what :mod:`geodata.coverage` measures the data against.
    """

    polygon: Polygon | MultiPolygon
    crs: pyproj.CRS
    projected: Polygon | MultiPolygon
    source: str
    name: str
    datum: str = "wgs84"
    boundary: Polygon | MultiPolygon | None = None

    @property
    def area_km2(self) -> float:
        """The area in square kilometres (measured in ``crs``)."""
        return float(self.projected.area) / 1e6


def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """Return the WGS84 UTM zone CRS that contains a point.

    Parameters
    ----------
    lon, lat
        WGS84 degrees.

    Returns
    -------
    pyproj.CRS
        EPSG:326zz north of the equator, EPSG:327zz south of it.

    Raises
    ------
    ParameterError
        When the point is not a valid longitude/latitude.
    """
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ParameterError(
            f"({lon}, {lat}) is not a WGS84 longitude/latitude. Fix: pass degrees, not metres"
        )
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def to_projected(shape: Polygon | MultiPolygon, crs: pyproj.CRS) -> Polygon | MultiPolygon:
    """Return a WGS84 polygon in a projected CRS.

    Parameters
    ----------
    shape
        Longitude/latitude polygon.
    crs
        The target CRS (a study area's UTM zone).

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        The same polygon in ``crs`` coordinates.
    """
    to_crs = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    return shapely.transform(
        shape, lambda xy: np.column_stack(to_crs.transform(xy[:, 0], xy[:, 1]))
    )


def study_area(
    extract: OsmExtract,
    *,
    boundary: str | Path | None = None,
    boundary_crs: BoundaryCRS = "auto",
    boundary_name: str | None = None,
) -> StudyArea:
    """Make the study area of an OSM extract, optionally cut to an administrative boundary.

    Parameters
    ----------
    extract
        The OSM data (from :func:`geodata.osm.read_osm`).
    boundary
        A polygon file (GeoJSON, GeoPackage, Shapefile...). The union of its features (or of
        those picked by ``boundary_name``) is intersected with the extract's bounds. Without
        it, the area is the extract's bounds.
    boundary_crs
        {"auto", "wgs84", "gcj02"}: the datum of a longitude/latitude boundary file. ``"auto"``
        detects GCJ-02 (see the module docstring). Files in a projected CRS are reprojected to
        WGS84 whatever this says, except that ``"gcj02"`` with a projected file is an error.
    boundary_name
        Keep only the features whose ``name`` or ``adcode`` property equals this value
        (``"all"``: every feature). A file of several named features (a DataV city file of
        districts) needs it: without it, the error lists the features' names and adcodes.

    Returns
    -------
    StudyArea
        The WGS84 polygon, its UTM CRS and projected copy, the source and a name.

    Raises
    ------
    BoundaryError
        When the boundary file is missing, unreadable, has no polygons, has no feature named
        ``boundary_name``, holds several named features and ``boundary_name`` is not given, or
        does not overlap the OSM data.
    CRSError
        When ``boundary_crs="gcj02"`` is given for a file in a projected CRS.
    ParameterError
        When ``boundary_crs`` is not one of the allowed values.
    """
    t0 = time.perf_counter()
    if boundary_crs not in ("auto", "wgs84", "gcj02"):
        raise ParameterError(
            f"boundary_crs={boundary_crs!r} is not allowed. Fix: use 'auto', 'wgs84' or 'gcj02'"
        )
    whole: Polygon | MultiPolygon | None = None
    if boundary is None:
        polygon: Polygon | MultiPolygon = extract.bounds
        source, name, datum = "osm-bounds", _stem(extract.path), "wgs84"
    else:
        path = Path(boundary).expanduser()
        frame = _read_boundary(path, boundary_name)
        if boundary_name is None:
            _require_district(frame, path, extract)
        shape = _union_polygons(frame, path)
        whole, datum = _to_wgs84(shape, frame, path, extract, boundary_crs)
        polygon = _clip_to_extract(whole, extract, path)
        source = str(path)
        picked = boundary_name if boundary_name and boundary_name.strip().lower() != \
            ALL_DISTRICTS else None
        name = _feature_name(frame) or picked or _stem(path)
    centroid = polygon.centroid
    crs = utm_crs(centroid.x, centroid.y)
    area = StudyArea(
        polygon=polygon, crs=crs, projected=to_projected(polygon, crs), source=source, name=name,
        datum=datum, boundary=whole,
    )
    log.info(
        "study_area: %s from %s (%s): %.3f km2 in %s, %d parts, in %.2f s",
        name,
        source,
        datum,
        area.area_km2,
        crs.to_string(),
        len(getattr(polygon, "geoms", [polygon])),
        time.perf_counter() - t0,
    )
    return area


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".xz", ".bz2", ".gz", ".pbf", ".osm", ".json", ".geojson", ".gpkg", ".shp"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or path.name


def _read_boundary(path: Path, boundary_name: str | None) -> gpd.GeoDataFrame:
    if not path.exists():
        raise BoundaryError(path, "the boundary file does not exist", "check the path")
    try:
        layers = pyogrio.list_layers(path)
        layer = str(layers[0][0]) if len(layers) > 1 else None
        if layer is not None:
            log.info("boundary %s has %d layers; reading the first, %r", path, len(layers), layer)
        frame = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises several unrelated classes for unreadable files
        raise BoundaryError(
            path,
            f"cannot read the boundary file ({type(exc).__name__}: {exc})",
            "give a GeoJSON or GeoPackage file of polygons",
        ) from exc
    if len(frame) == 0:
        raise BoundaryError(path, "the boundary file has no features", "give a non-empty file")
    if boundary_name is not None and boundary_name.strip().lower() != ALL_DISTRICTS:
        keep = np.zeros(len(frame), dtype=bool)
        for column in ("name", "adcode"):
            if column in frame.columns:
                keep |= frame[column].astype(str).str.strip().to_numpy() == boundary_name.strip()
        if not keep.any():
            names = (
                sorted(frame["name"].astype(str).unique())[:30] if "name" in frame.columns else []
            )
            raise BoundaryError(
                path,
                f"no feature has name or adcode {boundary_name!r}",
                f"pick one of {names}" if names else "drop boundary_name",
            )
        frame = frame.loc[keep]
    return frame


def _features(frame: gpd.GeoDataFrame) -> list[str]:
    """Name the features of a boundary file: ``name (adcode)``, as the file gives them."""
    names = (frame["name"].astype(str).str.strip() if "name" in frame.columns
             else pd.Series("", index=frame.index))
    codes = (frame["adcode"].astype(str).str.strip() if "adcode" in frame.columns
             else pd.Series("", index=frame.index))
    return [f"{n} ({c})" if n and c else n or c for n, c in zip(names, codes, strict=True)]


def _require_district(frame: gpd.GeoDataFrame, path: Path, extract: OsmExtract) -> None:
    """Refuse a file of several named features unless one (or all) is picked.

    A file none of whose features comes near the OSM data is left to the overlap check, which
    says so. Features are compared with the extract's box widened by :data:`_NEAR_DEG` (the
    GCJ-02 offset is under 1 km).
    """
    labels = _features(frame)
    if len(frame) < 2 or len(set(labels)) < 2 or not any(labels):
        return
    # in square degrees: only compared with each other
    overlap = shapely.area(shapely.intersection(np.asarray(frame.geometry.values, dtype=object),
                                                extract.bounds.buffer(_NEAR_DEG)))
    near = overlap > 0
    if not near.any():
        return
    listed = ", ".join(f"{label} *" if hit else label
                       for label, hit in zip(labels, near, strict=True))
    example = labels[int(np.argmax(overlap))].split(" (")[0]
    raise BoundaryError(
        path,
        f"the boundary file holds {len(frame)} areas: {listed} (* near the OSM data "
        f"{extract.path.name})",
        f"pick one by name or adcode with --district (boundary_name=), e.g. --district "
        f"{example}, or --district {ALL_DISTRICTS} for their union",
    )


def _feature_name(frame: gpd.GeoDataFrame) -> str | None:
    if "name" in frame.columns and len(frame) == 1:
        value = frame["name"].iloc[0]
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _union_polygons(frame: gpd.GeoDataFrame, path: Path) -> Polygon | MultiPolygon:
    geoms = shapely.make_valid(np.asarray(frame.geometry.values, dtype=object))
    parts = [
        g
        for g in shapely.get_parts(geoms)
        if g is not None and g.geom_type in ("Polygon", "MultiPolygon")
    ]
    if not parts:
        types = sorted({str(g.geom_type) for g in frame.geometry if g is not None})
        raise BoundaryError(
            path,
            f"the boundary file has no polygons (geometry types found: {types or 'none'})",
            "give a file of Polygon or MultiPolygon features",
        )
    union = shapely.union_all(parts)
    return _polygonal(union)


def _polygonal(geom: shapely.Geometry) -> Polygon | MultiPolygon:
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    polys = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    if len(polys) == 1:
        return polys[0]
    return MultiPolygon(polys)


def _to_wgs84(
    shape: Polygon | MultiPolygon,
    frame: gpd.GeoDataFrame,
    path: Path,
    extract: OsmExtract,
    boundary_crs: str,
) -> tuple[Polygon | MultiPolygon, str]:
    crs = frame.crs
    if crs is not None and not crs.is_geographic:
        if boundary_crs == "gcj02":
            raise CRSError(
                path,
                f"boundary_crs='gcj02' was given but the file is in the projected CRS "
                f"{crs.to_string()}; GCJ-02 is defined on longitude/latitude only",
                "use boundary_crs='auto' or 'wgs84' for projected files",
            )
        log.info("boundary %s is in %s; reprojecting to WGS84", path, crs.to_string())
        shape = _polygonal(gpd.GeoSeries([shape], crs=crs).to_crs(4326).iloc[0])
        return shape, "wgs84"
    if crs is not None and crs.to_epsg() not in (4326, None):
        shape = _polygonal(gpd.GeoSeries([shape], crs=crs).to_crs(4326).iloc[0])
    elif crs is None:
        log.info("boundary %s declares no CRS; taking it as longitude/latitude", path)
    minx, miny, maxx, maxy = shape.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise CRSError(
            path,
            f"the boundary's coordinates ({minx:.1f}, {miny:.1f}, {maxx:.1f}, {maxy:.1f}) are not "
            "longitude/latitude, and the file declares no projected CRS",
            "set the file's CRS (e.g. with ogr2ogr -a_srs) or export it in EPSG:4326",
        )
    datum = boundary_crs
    if boundary_crs == "auto":
        datum = _detect_datum(shape, frame, path, extract)
    elif boundary_crs == "wgs84":
        _warn_if_gcj02(shape, frame, path, extract)
    if datum == "gcj02":
        shape = _polygonal(geometry_gcj02_to_wgs84(shape))
        log.info("boundary %s converted from GCJ-02 to WGS84", path)
    return shape, datum


def _detect_datum(
    shape: Polygon | MultiPolygon, frame: gpd.GeoDataFrame, path: Path, extract: OsmExtract
) -> str:
    if _DATAV_PROPERTIES <= set(frame.columns):
        log.info("boundary %s has the DataV properties adcode/center/acroutes: GCJ-02", path)
        return "gcj02"
    centroid = shape.centroid
    if not bool(in_china(centroid.x, centroid.y)):
        return "wgs84"
    verdict = _compare_with_osm(shape, extract)
    if verdict is None:
        log.info(
            "boundary %s: no OSM boundary ways to compare with; taking it as WGS84 "
            "(pass boundary_crs='gcj02' if it comes from AutoNavi, Tencent or DataV)",
            path,
        )
        return "wgs84"
    log.info("boundary %s matches the OSM admin boundaries best as %s", path, verdict)
    return verdict


def _warn_if_gcj02(
    shape: Polygon | MultiPolygon, frame: gpd.GeoDataFrame, path: Path, extract: OsmExtract
) -> None:
    """Log a warning when a boundary given as WGS84 looks like GCJ-02, naming the offset."""
    centroid = shape.centroid
    if not bool(in_china(centroid.x, centroid.y)):
        return
    datav = _DATAV_PROPERTIES <= set(frame.columns)
    if not datav and _compare_with_osm(shape, extract) != "gcj02":
        return
    to_utm = pyproj.Transformer.from_crs(4326, utm_crs(centroid.x, centroid.y), always_xy=True)
    moved = geometry_gcj02_to_wgs84(centroid)
    (x0, x1), (y0, y1) = to_utm.transform([centroid.x, moved.x], [centroid.y, moved.y])
    offset_m = float(np.hypot(x1 - x0, y1 - y0))
    evidence = (
        "it has the DataV properties adcode/center/acroutes"
        if datav
        else "it lines up with the OSM administrative boundaries only after the GCJ-02 -> WGS84 "
        "shift"
    )
    log.warning(
        "%s: boundary given as WGS84 but %s: it is probably GCJ-02, offset by about %.0f m "
        "here. Fix: pass --boundary-crs gcj02 (or auto)",
        path,
        evidence,
        offset_m,
    )


def _compare_with_osm(shape: Polygon | MultiPolygon, extract: OsmExtract) -> str | None:
    """Which datum puts more OSM admin-boundary vertices within 80 m of the boundary line."""
    lonlat = _osm_admin_vertices(extract.data)
    if len(lonlat) < _MIN_MATCHES:
        return None
    centroid = shape.centroid
    to_utm = pyproj.Transformer.from_crs(4326, utm_crs(centroid.x, centroid.y), always_xy=True)

    def project(geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(
            geom, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))
        )

    points = shapely.points(np.column_stack(to_utm.transform(lonlat[:, 0], lonlat[:, 1])))
    counts = {}
    for datum, geom in (("wgs84", shape), ("gcj02", geometry_gcj02_to_wgs84(shape))):
        line = project(geom.boundary)
        counts[datum] = int(np.count_nonzero(shapely.distance(points, line) <= _MATCH_M))
    log.debug("OSM admin vertices within %.0f m of the boundary: %s", _MATCH_M, counts)
    best, other = ("gcj02", "wgs84") if counts["gcj02"] > counts["wgs84"] else ("wgs84", "gcj02")
    if counts[best] >= _MIN_MATCHES and counts[best] >= 2 * counts[other]:
        return best
    return None


def _osm_admin_vertices(data: OsmData) -> NDArray[np.float64]:
    """Longitude/latitude of the vertices of ``boundary=administrative`` ways in the extract."""
    refs = (ref for way in data.of_type("way")
            if way["tags"].get("boundary") == "administrative" for ref in way["nodes"])
    nodes = data.node_coords()
    coords = [nodes[r] for r in dict.fromkeys(refs) if r in nodes]
    return np.asarray(coords, dtype=float).reshape(-1, 2)


def _clip_to_extract(
    shape: Polygon | MultiPolygon, extract: OsmExtract, path: Path
) -> Polygon | MultiPolygon:
    cut = shape.intersection(extract.bounds)
    clipped = None if cut.is_empty else _polygonal(cut)
    if clipped is None or clipped.area <= 1e-9 * max(extract.bounds.area, 1e-12):
        sb = tuple(round(v, 4) for v in shape.bounds)
        eb = tuple(round(v, 4) for v in extract.bounds.bounds)
        raise BoundaryError(
            path,
            f"the boundary (box {sb}) does not overlap the OSM data {extract.path.name} (box {eb})",
            "give the boundary of an area inside the OSM extract, or an OSM extract that "
            "covers the boundary",
        )
    if isinstance(clipped, MultiPolygon):
        # drop slivers left by cutting a border that runs along the box edge
        keep = [p for p in clipped.geoms if p.area > 1e-4 * clipped.area]
        clipped = keep[0] if len(keep) == 1 else MultiPolygon(keep)
    share = clipped.area / shape.area if shape.area > 0 else 1.0
    if share < 0.999:
        log.info(
            "boundary %s cut to the OSM extract's bounds: %.1f %% of its area kept",
            path,
            100.0 * share,
        )
    return clipped
