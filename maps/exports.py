"""Export candidate or chosen sites for the tools planners use: GeoJSON, GPKG, KML, CSV, XLSX.

Every file has the same rows and columns: the sites' own columns, WGS84 ``lon``/``lat``,
GCJ-02 ``lon_gcj02``/``lat_gcj02`` (for pasting into Gaode/AutoNavi or Tencent tools) and
``street``, the name of the nearest named street within ``street_radius_m`` (empty if none).
Geometries are WGS84 points in every format (KML is WGS84 by definition; Google Earth and
奥维互动地图 read it as such). CSV is written as UTF-8 with a byte-order mark, so Excel shows
Chinese names correctly; XLSX cells holding text are typed as text, so a name that starts with
``=`` stays a name and never becomes a formula.
"""

from __future__ import annotations

import logging
import math
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from numbers import Integral, Real
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from openpyxl import Workbook

from geodata.coords import wgs84_to_gcj02
from geodata.errors import CRSError, InputDataError, OutputError, ParameterError
from maps.layer_styles import is_missing

__all__ = [
    "COORD_COLUMNS",
    "EXPORT_FORMATS",
    "export_sites",
    "nearest_street",
    "site_table",
]

log = logging.getLogger(__name__)

#: The formats :func:`export_sites` writes, with their file suffixes.
EXPORT_FORMATS: dict[str, str] = {
    "geojson": ".geojson",
    "gpkg": ".gpkg",
    "kml": ".kml",
    "csv": ".csv",
    "xlsx": ".xlsx",
}

#: Columns added to every export.
COORD_COLUMNS: tuple[str, ...] = ("lon", "lat", "lon_gcj02", "lat_gcj02", "street")

_KML_NS = "http://www.opengis.net/kml/2.2"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0 / XLSX


def _street_name(value: object) -> str | None:
    """Return a road's name; of a list (osmnx merged ways), the first non-empty in sorted order."""
    if isinstance(value, list | tuple | np.ndarray):
        names = [str(v) for v in value if not is_missing(v) and str(v).strip()]
        return min(names) if names else None
    if is_missing(value) or not str(value).strip():
        return None
    return str(value)


def nearest_street(
    sites: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 100.0,
) -> pd.Series:
    """Return the name of the nearest named road of each site.

    Parameters
    ----------
    sites
        Sites (points or any geometry) with a CRS.
    roads
        Road lines with a CRS and a ``name`` column (OSM highway ways, e.g. osmnx graph
        edges; a list of names counts by its first); rows with a ``highway`` column empty
        are ignored.
    max_distance_m
        Roads farther than this many metres are not considered.

    Returns
    -------
    pandas.Series
        Street name per site (index of ``sites``), ``""`` where no named road is near.

    Raises
    ------
    CRSError
        If ``sites`` or ``roads`` has no CRS.
    InputDataError
        If ``roads`` has no ``name`` column.
    ParameterError
        If ``max_distance_m`` is not positive.
    """
    if sites.crs is None or roads.crs is None:
        raise CRSError(None, "sites or roads have no CRS", "set it with gdf.set_crs(...)")
    if "name" not in roads.columns:
        raise InputDataError(
            None,
            f"the roads have no 'name' column (columns: {list(roads.columns)[:12]})",
            "pass OSM highway ways with their name tag, e.g. osmnx graph edges",
        )
    if not max_distance_m > 0:
        raise ParameterError(f"max_distance_m={max_distance_m!r} must be positive. Fix: pass 100")
    out = pd.Series("", index=sites.index, dtype=object)
    named = roads.assign(_street=roads["name"].map(_street_name))
    keep = named["_street"].notna()
    if "highway" in named.columns:
        keep &= named["highway"].notna()
    named = named.loc[keep, ["_street", named.geometry.name]]
    if len(sites) == 0 or len(named) == 0:
        return out
    utm = sites.estimate_utm_crs()
    points = gpd.GeoDataFrame(
        {"_row": np.arange(len(sites))},
        geometry=sites.geometry.representative_point().to_crs(utm).to_numpy(),
        crs=utm,
    )
    joined = gpd.sjoin_nearest(
        points, named.to_crs(utm), max_distance=max_distance_m, distance_col="_d"
    )
    joined = joined.sort_values(["_row", "_d", "_street"], kind="stable")
    best = joined.drop_duplicates("_row")
    out.iloc[best["_row"].to_numpy()] = best["_street"].to_numpy()
    return out


def site_table(
    sites: gpd.GeoDataFrame,
    *,
    roads: gpd.GeoDataFrame | None = None,
    street_radius_m: float = 100.0,
) -> gpd.GeoDataFrame:
    """Return the sites as WGS84 points with the coordinate and street columns of every export.

    Parameters
    ----------
    sites
        Candidate or chosen sites, any CRS; non-point geometries are replaced by a point
        inside them.
    roads
        Named road lines for ``street`` (see :func:`nearest_street`); ``None`` leaves it empty.
    street_radius_m
        Search radius for the nearest street.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns of ``sites`` (cells that are lists or dicts become text), then ``lon``,
        ``lat``, ``lon_gcj02``, ``lat_gcj02`` (7 decimals, about 1 cm) and ``street``; index
        reset; CRS EPSG:4326.

    Raises
    ------
    CRSError
        If ``sites`` has no CRS.
    InputDataError
        If a site has no geometry or a column name clashes with the added columns.
    """
    if sites.crs is None:
        raise CRSError(None, "the sites have no CRS", "set it with gdf.set_crs(...)")
    clash = [c for c in COORD_COLUMNS if c in sites.columns]
    if clash:
        raise InputDataError(
            None,
            f"the sites already have column(s) {clash}",
            "drop or rename them; the export computes them from the geometry",
        )
    empty = sites.geometry.isna() | sites.geometry.is_empty
    if empty.any():
        raise InputDataError(
            None,
            f"{int(empty.sum())} site(s) have no geometry (first row {sites.index[empty][0]!r})",
            "drop them or give them a location",
        )
    wgs = sites.to_crs(4326).reset_index(drop=True)
    points = wgs.geometry.representative_point()
    table = pd.DataFrame(wgs.drop(columns=wgs.geometry.name))
    for col in table.columns:
        if table[col].dtype == object:
            table[col] = table[col].map(
                lambda v: ", ".join(map(str, v)) if isinstance(v, list | tuple | dict) else v
            )
    lon, lat = points.x.to_numpy(), points.y.to_numpy()
    glon, glat = wgs84_to_gcj02(lon, lat)
    table["lon"] = np.round(lon, 7)
    table["lat"] = np.round(lat, 7)
    table["lon_gcj02"] = np.round(glon, 7)
    table["lat_gcj02"] = np.round(glat, 7)
    table["street"] = (
        ""
        if roads is None
        else nearest_street(wgs, roads, max_distance_m=street_radius_m).to_numpy()
    )
    return gpd.GeoDataFrame(table, geometry=points.to_numpy(), crs=4326)


def _cell(value: object) -> object:
    """Return a cell as a plain Python value for KML, XLSX and GPKG (``None`` when empty)."""
    if is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    return _CONTROL.sub("", str(value))


def _for_ogr(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make object columns text (GDAL wants one type per column); empty stays empty."""
    out = table.copy()
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object:
            kinds = {type(v) for v in out[col] if not is_missing(v)}
            if kinds <= {bool, np.bool_} and kinds:
                out[col] = out[col].map(lambda v: None if is_missing(v) else bool(v))
            else:
                out[col] = out[col].map(lambda v: None if is_missing(v) else _cell(v))
    return out


def _text(value: object) -> str:
    cell = _cell(value)
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return str(cell)


def _write_kml(table: gpd.GeoDataFrame, path: Path, *, title: str) -> None:
    ET.register_namespace("", _KML_NS)
    root = ET.Element(f"{{{_KML_NS}}}kml")
    doc = ET.SubElement(root, f"{{{_KML_NS}}}Document")
    ET.SubElement(doc, f"{{{_KML_NS}}}name").text = _CONTROL.sub("", title)
    columns = [c for c in table.columns if c != table.geometry.name]
    for _, row in table.iterrows():
        mark = ET.SubElement(doc, f"{{{_KML_NS}}}Placemark")
        ident = _text(row["site_id"]) if "site_id" in columns else ""
        name = _text(row["name"]) if "name" in columns else ""
        ET.SubElement(mark, f"{{{_KML_NS}}}name").text = name or ident
        lines = [f"{c}: {_text(row[c])}" for c in columns if _text(row[c])]
        ET.SubElement(mark, f"{{{_KML_NS}}}description").text = "\n".join(lines)
        extended = ET.SubElement(mark, f"{{{_KML_NS}}}ExtendedData")
        for col in columns:
            if col == "name":
                continue  # the Placemark's own <name>; a Data "name" would clash in GDAL
            data = ET.SubElement(extended, f"{{{_KML_NS}}}Data", name=str(col))
            ET.SubElement(data, f"{{{_KML_NS}}}value").text = _text(row[col])
        point = ET.SubElement(mark, f"{{{_KML_NS}}}Point")
        ET.SubElement(point, f"{{{_KML_NS}}}coordinates").text = (
            f"{row.geometry.x:.7f},{row.geometry.y:.7f}"
        )
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _write_xlsx(table: gpd.GeoDataFrame, path: Path, *, sheet: str) -> None:
    book = Workbook()
    ws = book.worksheets[0]
    ws.title = re.sub(r"[\[\]:*?/\\]", "_", sheet)[:31] or "sites"
    columns = [c for c in table.columns if c != table.geometry.name]
    ws.append([str(c) for c in columns])
    for values in table[columns].itertuples(index=False):
        ws.append([_cell(v) for v in values])
    for row in ws.iter_rows(min_row=1):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
    ws.freeze_panes = "A2"
    book.save(path)


def export_sites(
    sites: gpd.GeoDataFrame,
    out_dir: str | Path,
    *,
    stem: str = "sites",
    roads: gpd.GeoDataFrame | None = None,
    formats: Sequence[str] = tuple(EXPORT_FORMATS),
    street_radius_m: float = 100.0,
) -> dict[str, Path]:
    """Write sites to GeoJSON, GPKG, KML, CSV and XLSX with WGS84 and GCJ-02 coordinates.

    Parameters
    ----------
    sites
        Candidate or chosen sites (e.g. the ``candidates`` or ``lockers`` layer), any CRS.
    out_dir
        Folder to write into (created if needed).
    stem
        File name without suffix, e.g. ``"candidates"`` -> ``candidates.kml``.
    roads
        Named road lines for the ``street`` column (see :func:`nearest_street`).
    formats
        Any of {"geojson", "gpkg", "kml", "csv", "xlsx"}.
    street_radius_m
        Search radius for the nearest street, in metres.

    Returns
    -------
    dict of str to pathlib.Path
        Format -> file written, in the order of ``formats``.

    Raises
    ------
    ParameterError
        If a format is unknown or ``stem`` is not a plain file name.
    CRSError, InputDataError
        If the sites cannot be turned into a table (see :func:`site_table`).
    OutputError
        If a file cannot be written.
    """
    start = time.perf_counter()
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown:
        raise ParameterError(
            f"formats {unknown} are not export formats. Fix: use some of {list(EXPORT_FORMATS)}"
        )
    if not stem or Path(stem).name != stem or stem.startswith("."):
        raise ParameterError(f"stem={stem!r} is not a plain file name. Fix: pass e.g. 'lockers'")
    table = site_table(sites, roads=roads, street_radius_m=street_radius_m)
    folder = Path(out_dir)
    written: dict[str, Path] = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            path = folder / f"{stem}{EXPORT_FORMATS[fmt]}"
            path.unlink(missing_ok=True)  # GPKG and GeoJSON drivers refuse or append otherwise
            if fmt == "geojson":
                _for_ogr(table).to_file(path, driver="GeoJSON", engine="pyogrio")
            elif fmt == "gpkg":
                _for_ogr(table).to_file(path, layer=stem, driver="GPKG", engine="pyogrio")
            elif fmt == "kml":
                _write_kml(table, path, title=stem)
            elif fmt == "csv":
                frame = pd.DataFrame(table.drop(columns=table.geometry.name))
                frame.to_csv(path, index=False, encoding="utf-8-sig")
            else:
                _write_xlsx(table, path, sheet=stem)
            written[fmt] = path
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot write the site exports ({exc}). Fix: choose a writable folder"
        ) from exc
    log.info(
        "exported %d sites (%d with a street) as %s to %s in %.2f s",
        len(table),
        int((table["street"] != "").sum()),
        ", ".join(written),
        folder,
        time.perf_counter() - start,
    )
    return written
