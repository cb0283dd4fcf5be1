"""Planners' own inputs: communities, existing facilities and sites for sorting hubs.

Both come as CSV, XLSX or GeoJSON (GPKG works too). Tables give coordinates in columns
``lon``/``lat`` (also ``lng``, ``longitude``, ``经度`` and ``latitude``, ``纬度``); GeoJSON gives
them as geometry. The datum must be declared (``"wgs84"`` or ``"gcj02"``: Gaode/AutoNavi and
Tencent coordinates are GCJ-02); GCJ-02 is converted to WGS84.

Communities need a ``name`` and ``residents`` or ``households``; households become residents
at :data:`PERSONS_PER_HOUSEHOLD` (2.62, the average household size of China's 2020 census)
unless ``residents`` is given. An optional ``new`` column (yes/no, true/false, 1/0, 是/否) marks
the new residential communities rule R1 applies to (seed 004 五(二): 新建居住社区); without
it every community counts as new, and the outputs say so. Optional ``old`` (yes/no, 是/否,
旧/老旧) and ``built_year`` columns say which compounds are old (rule G3, see
:mod:`geodata.old_compounds`). The inventory needs a ``kind``
(``locker`` or ``station``) and may give ``compartments`` (lockers), ``area_m2`` (a station
room's usable floor area) and ``name``. A hub-site table names each site
(``name``) and may give its ``capacity`` (items/day), ``fixed_cost`` (CNY/day) and
``floor_area_m2``; what it leaves out is derived from floor area or takes the documented
default (:mod:`geodata.hub_sites`).

Every fault of a file is reported at once, naming the file, the row, the column and the value.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.coords import frame_gcj02_to_wgs84, in_china
from geodata.errors import InputDataError, ParameterError

__all__ = [
    "PERSONS_PER_HOUSEHOLD",
    "HUB_SITE_FIELDS",
    "TABLE_SUFFIXES",
    "read_communities",
    "read_hub_sites",
    "read_inventory",
]

log = logging.getLogger(__name__)

#: Average persons per household, China's seventh census (2020): 2.62.
PERSONS_PER_HOUSEHOLD = 2.62

#: File types read here.
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx", ".geojson", ".json", ".gpkg")

Datum = Literal["wgs84", "gcj02"]

#: Optional numeric columns of a hub-site table, each > 0 where given.
HUB_SITE_FIELDS: tuple[str, ...] = ("capacity", "fixed_cost", "floor_area_m2")

_LON = ("lon", "lng", "longitude", "经度")
_LAT = ("lat", "latitude", "纬度")
_MAX_SHOWN = 8


def _check_datum(datum: str) -> None:
    if datum not in ("wgs84", "gcj02"):
        raise ParameterError(f"datum={datum!r} is not allowed. Fix: declare 'wgs84' or 'gcj02'")


def _read_frame(path: Path, sheet: str | None) -> gpd.GeoDataFrame:
    if not path.is_file():
        raise InputDataError(path, "the file does not exist", "check the path in the scenario")
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputDataError(path, f"file type {suffix!r} is not read",
                             f"give one of {', '.join(TABLE_SUFFIXES)}")
    try:
        if suffix in (".csv", ".xlsx"):
            table = (pd.read_csv(path, encoding="utf-8-sig") if suffix == ".csv" else
                     pd.read_excel(path, sheet_name=sheet or 0, engine="openpyxl"))
            table.columns = [str(c).strip() for c in table.columns]
            return _points_from_columns(table, path)
        frame = gpd.read_file(path, engine="pyogrio")
    except InputDataError:
        raise
    except (ValueError, OSError, KeyError, UnicodeDecodeError) as err:
        raise InputDataError(path, f"cannot be read as {suffix[1:].upper()} ({err})",
                             "save it as UTF-8 CSV, XLSX or GeoJSON") from err
    if frame.crs is not None and not frame.crs.is_geographic:
        frame = frame.to_crs(4326)
    return frame


def _points_from_columns(table: pd.DataFrame, path: Path) -> gpd.GeoDataFrame:
    lower = {c.lower(): c for c in table.columns}
    lon = next((lower[c] for c in _LON if c in lower), None)
    lat = next((lower[c] for c in _LAT if c in lower), None)
    if lon is None or lat is None:
        raise InputDataError(path, f"no coordinate columns (found: {_columns(table)})",
                             "add columns lon and lat (decimal degrees)")
    x = pd.to_numeric(table[lon], errors="coerce")
    y = pd.to_numeric(table[lat], errors="coerce")
    bad = table.index[x.isna() | y.isna()].tolist()
    if bad:
        raise InputDataError(path, f"rows {_rows(bad)}: {lon}/{lat} is not a number",
                             "give decimal degrees in every row")
    geometry = gpd.points_from_xy(x.to_numpy(float), y.to_numpy(float), crs=4326)
    return gpd.GeoDataFrame(table.drop(columns=[lon, lat]), geometry=geometry, crs=4326)


def _columns(frame: pd.DataFrame) -> str:
    """List the columns of a table, as found, for a message."""
    return ", ".join(map(str, frame.columns))


def _rows(index: list[int]) -> str:
    """Spreadsheet row numbers (header is row 1) of 0-based positions."""
    shown = ", ".join(str(i + 2) for i in index[:_MAX_SHOWN])
    return shown + (f" and {len(index) - _MAX_SHOWN} more" if len(index) > _MAX_SHOWN else "")


def _to_wgs84(frame: gpd.GeoDataFrame, datum: Datum, path: Path) -> gpd.GeoDataFrame:
    _check_datum(datum)
    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.any():
        raise InputDataError(path, f"rows {_rows(np.flatnonzero(empty).tolist())} have no "
                             "geometry", "give every row a location")
    pts = shapely.point_on_surface(frame.geometry.to_numpy())
    xy = shapely.get_coordinates(pts)
    outside = ~in_china(xy[:, 0], xy[:, 1])
    if outside.any():
        raise InputDataError(
            path, f"rows {_rows(np.flatnonzero(outside).tolist())} lie outside China "
            f"(first: lon {xy[outside][0, 0]:g}, lat {xy[outside][0, 1]:g})",
            "give longitude/latitude in degrees (lon first), or check swapped columns")
    return frame_gcj02_to_wgs84(frame) if datum == "gcj02" else frame.set_crs(4326,
                                                                            allow_override=True)


def _numeric(frame: pd.DataFrame, column: str, faults: list[str], *, allow_missing: bool,
             positive: bool = False) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    raw_missing = frame[column].isna()
    bad = (values.isna() & ~raw_missing) | ((values <= 0) if positive else (values < 0))
    if not allow_missing:
        bad |= raw_missing
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy()).tolist()
        faults.append(f"column {column!r}, rows {_rows(pos)}: value "
                      f"'{frame[column].iloc[pos[0]]}' is not a number "
                      + ("> 0" if positive else ">= 0"))
    return values


_YES = {"1", "true", "yes", "y", "是"}
_NO = {"0", "false", "no", "n", "否"}
#: Further words of the ``new`` and ``old`` columns: 新/新建 (new), 旧/老旧 (old).
_NEW, _OLD = {"新", "新建"}, {"旧", "老旧", "老旧小区"}


def _yes_no(frame: pd.DataFrame, column: str, faults: list[str], *, yes: set[str],
            no: set[str]) -> pd.Series:
    """Return a yes/no column as True/False, None where it is absent or a cell is empty."""
    if column not in frame:
        return pd.Series(None, index=frame.index, dtype=object)
    text = frame[column].map(lambda v: "" if pd.isna(v) else str(v).strip().lower())
    bad = ~text.isin(yes | no | {""})
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy()).tolist()
        faults.append(f"column {column!r}, rows {_rows(pos)}: value "
                      f"'{frame[column].iloc[pos[0]]}' is not yes/no")
    return text.map(lambda t: True if t in yes else False if t in no else None).astype(object)


def read_communities(
    path: str | Path,
    *,
    datum: Datum,
    sheet: str | None = None,
    persons_per_household: float = PERSONS_PER_HOUSEHOLD,
) -> gpd.GeoDataFrame:
    """Read a planner's community table.

    Parameters
    ----------
    path
        CSV, XLSX, GeoJSON or GPKG with ``name`` and ``residents`` or ``households``.
    datum
        {"wgs84", "gcj02"}: the datum of the coordinates.
    sheet
        XLSX sheet name (default: the first sheet).
    persons_per_household
        Residents per household when only ``households`` is given (default 2.62).

    Returns
    -------
    geopandas.GeoDataFrame
        ``community`` (``"user/<row>"``), ``name``, ``households`` (NaN when not given),
        ``residents``, ``new`` (a new residential community, rule R1; True where the table
        has no ``new`` column), ``new_given`` (whether it has one), ``old`` (True/False from
        an ``old`` column, None where not given) and ``built_year`` (NaN where not given), both
        read by :func:`geodata.old_compounds.old_compounds` (rule G3), ``source`` and a WGS84
        geometry (point or polygon).

    Raises
    ------
    InputDataError
        Naming the file, rows, columns and values of every fault.
    ParameterError
        If ``datum`` is not one of the allowed values.
    """
    t0 = time.perf_counter()
    path = Path(path)
    _check_datum(datum)
    frame = _read_frame(path, sheet)
    faults: list[str] = []
    if "name" not in frame.columns:
        faults.append("no column 'name'")
    if "residents" not in frame.columns and "households" not in frame.columns:
        faults.append("neither a 'residents' nor a 'households' column")
    if not (persons_per_household > 0 and math.isfinite(persons_per_household)):
        raise ParameterError(f"persons_per_household={persons_per_household!r} must be positive")
    if faults:
        raise InputDataError(path, "; ".join(faults) + f" (columns: {_columns(frame)})",
                             "add the columns: name, lon, lat and residents or households")
    households = (_numeric(frame, "households", faults, allow_missing="residents" in frame)
                  if "households" in frame else pd.Series(np.nan, index=frame.index))
    residents = (_numeric(frame, "residents", faults, allow_missing="households" in frame)
                 if "residents" in frame else pd.Series(np.nan, index=frame.index))
    residents = residents.fillna(households * persons_per_household)
    if residents.isna().any():
        faults.append(f"rows {_rows(np.flatnonzero(residents.isna()).tolist())} give neither "
                      "residents nor households")
    new = _yes_no(frame, "new", faults, yes=_YES | _NEW, no=_NO | _OLD)
    new = new.map(lambda v: v is not False)
    old = _yes_no(frame, "old", faults, yes=_YES | _OLD, no=_NO | _NEW)
    built = (_numeric(frame, "built_year", faults, allow_missing=True)
             if "built_year" in frame else pd.Series(np.nan, index=frame.index))
    if faults:
        raise InputDataError(path, "; ".join(faults), "give a count >= 0 in every row, "
                             "yes/no in the columns 'new' and 'old' and a year in 'built_year'")
    frame = _to_wgs84(frame, datum, path)
    out = gpd.GeoDataFrame(
        {"community": [f"user/{i + 2}" for i in range(len(frame))],
         "name": frame["name"].astype(str).to_numpy(),
         "households": households.to_numpy(float),
         "residents": residents.to_numpy(float),
         "new": new.to_numpy(bool), "new_given": "new" in frame.columns,
         "old": old.to_numpy(object), "built_year": built.to_numpy(float),
         "source": f"user:{path.name}"},
        geometry=frame.geometry.to_numpy(), crs=4326,
    )
    log.info("user communities: %d from %s (%s), %.0f residents, in %.2f s", len(out),
             path.name, datum, out["residents"].sum(), time.perf_counter() - t0)
    return out


def read_inventory(path: str | Path, *, datum: Datum, sheet: str | None = None
                   ) -> gpd.GeoDataFrame:
    """Read a planner's inventory of existing lockers and stations.

    Parameters
    ----------
    path
        CSV, XLSX, GeoJSON or GPKG with ``kind`` (``locker`` or ``station``), optional
        ``name``, ``compartments`` (lockers) and ``area_m2`` (the usable floor area of a room
        available for a station, rule R1).
    datum
        {"wgs84", "gcj02"}: the datum of the coordinates.
    sheet
        XLSX sheet name (default: the first sheet).

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id`` (``"user/<row>"``), ``name``, ``kind``, ``compartments`` and ``area_m2``
        (NaN when not given), ``existing`` (True), ``source`` and WGS84 points.

    Raises
    ------
    InputDataError
        Naming the file, rows, columns and values of every fault.
    ParameterError
        If ``datum`` is not one of the allowed values.
    """
    t0 = time.perf_counter()
    path = Path(path)
    _check_datum(datum)
    frame = _read_frame(path, sheet)
    faults: list[str] = []
    if "kind" not in frame.columns:
        raise InputDataError(path, f"no column 'kind' (columns: {_columns(frame)})",
                             "add a column kind with 'locker' or 'station' in each row")
    kinds = frame["kind"].astype(str).str.strip().str.lower()
    bad = ~kinds.isin(["locker", "station"])
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy()).tolist()
        faults.append(f"column 'kind', rows {_rows(pos)}: value {frame['kind'].iloc[pos[0]]!r} "
                      "is not 'locker' or 'station'")
    compartments = (_numeric(frame, "compartments", faults, allow_missing=True)
                    if "compartments" in frame else pd.Series(np.nan, index=frame.index))
    area_m2 = (_numeric(frame, "area_m2", faults, allow_missing=True)
               if "area_m2" in frame else pd.Series(np.nan, index=frame.index))
    if faults:
        raise InputDataError(path, "; ".join(faults),
                             "use kind 'locker' or 'station', compartments and area_m2 >= 0")
    frame = _to_wgs84(frame, datum, path)
    points = shapely.point_on_surface(frame.geometry.to_numpy())
    names = frame["name"].astype(str).to_numpy() if "name" in frame else [""] * len(frame)
    out = gpd.GeoDataFrame(
        {"site_id": [f"user/{i + 2}" for i in range(len(frame))], "name": names,
         "kind": kinds.to_numpy(), "compartments": compartments.to_numpy(float),
         "area_m2": area_m2.to_numpy(float),
         "existing": True, "source": f"user:{path.name}"},
        geometry=points, crs=4326,
    )
    log.info("user inventory: %d lockers, %d stations from %s (%s), in %.2f s",
             int((out["kind"] == "locker").sum()), int((out["kind"] == "station").sum()),
             path.name, datum, time.perf_counter() - t0)
    return out


def read_hub_sites(path: str | Path, *, datum: Datum, sheet: str | None = None
                   ) -> gpd.GeoDataFrame:
    """Read a planner's table of sites where a sorting hub can stand (rule R5).

    Parameters
    ----------
    path
        CSV, XLSX, GeoJSON or GPKG with ``name`` and optionally ``capacity`` (items/day),
        ``fixed_cost`` (CNY/day) and ``floor_area_m2``, each > 0 where given.
    datum
        {"wgs84", "gcj02"}: the datum of the coordinates.
    sheet
        XLSX sheet name (default: the first sheet).

    Returns
    -------
    geopandas.GeoDataFrame
        ``name``, :data:`HUB_SITE_FIELDS` (NaN where not given), ``source`` and WGS84 points,
        as :func:`geodata.hub_sites.hub_sites_from_osm` takes them (``inventory=``).

    Raises
    ------
    InputDataError
        Naming the file, rows, columns and values of every fault.
    ParameterError
        If ``datum`` is not one of the allowed values.
    """
    t0 = time.perf_counter()
    path = Path(path)
    _check_datum(datum)
    frame = _read_frame(path, sheet)
    faults: list[str] = []
    names = (frame["name"].fillna("").astype(str).str.strip() if "name" in frame.columns
             else None)
    if names is None:
        faults.append(f"no column 'name' (columns: {_columns(frame)})")
    elif (names == "").any():
        faults.append(f"column 'name', rows {_rows(np.flatnonzero(names == '').tolist())}: "
                      "empty")
    values = {k: (_numeric(frame, k, faults, allow_missing=True, positive=True)
                  if k in frame.columns else pd.Series(np.nan, index=frame.index))
              for k in HUB_SITE_FIELDS}
    if faults:
        raise InputDataError(path, "; ".join(faults),
                             "give each site a name, lon and lat and, where known, capacity "
                             "(items/day), fixed_cost (CNY/day) or floor_area_m2, each > 0")
    frame = _to_wgs84(frame, datum, path)
    out = gpd.GeoDataFrame(
        {"name": np.asarray(names, dtype=object),
         **{k: v.to_numpy(float) for k, v in values.items()}, "source": f"user:{path.name}"},
        geometry=shapely.point_on_surface(frame.geometry.to_numpy()), crs=4326,
    )
    log.info("user hub sites: %d from %s (%s), %d with a capacity, in %.2f s", len(out),
             path.name, datum, int(out["capacity"].notna().sum()), time.perf_counter() - t0)
    return out
