"""Planners' own inputs: communities, existing sites and rooms, and sites for sorting hubs.

Each comes as CSV, XLSX or GeoJSON (GPKG works too) with the columns declared in
:mod:`geodata.table_columns`: Chinese or English headers (``社区名称`` or ``name``), a unit in
brackets where the column has one (``使用面积(m²)``), Chinese or English values (``类型`` =
``快件箱`` / ``驿站`` / ``机房``). ``siting template`` writes tables to fill in. Tables give
coordinates in the columns ``经度``/``纬度`` (``lon``/``lat``); GeoJSON gives them as geometry.
The datum is declared for the file (``datum=``), or row by row in a ``坐标系`` (``datum``)
column, which wins where filled: GCJ-02 (Gaode/AutoNavi and Tencent coordinates) is converted to
WGS84; CGCS2000 is taken as WGS84 (both are geocentric frames aligned to the ITRF; they differ
by centimetres).

Communities need a name and residents or households; households become residents
at :data:`PERSONS_PER_HOUSEHOLD` (2.62, the average household size of China's 2020 census)
unless residents are given. An optional ``new`` column (是/否, yes/no, 新建/旧) marks
the new residential communities rule R1 applies to (seed 004 五(二): 新建居住社区); without
it every community counts as new, and the outputs say so. Optional ``old`` (是/否, 老旧) and
``built_year`` columns say which compounds are old (rule G3, see
:mod:`geodata.old_compounds`). The inventory needs a ``kind`` (``locker`` 快件箱, ``station``
驿站, ``room`` 机房, a room a station can use, or ``site`` 点位, a place for a new locker) and may
give ``compartments`` (lockers), ``area_m2`` (the usable floor area of a station or room),
``name`` and, on site rows, an ``action`` (``要求``): ``required`` 必选 (a new locker opens there)
or ``prohibited`` 禁用 (no locker there: the candidate site nearest it is removed). A
hub-site table names each site (``name``) and may give its ``capacity`` (items/day),
``fixed_cost`` (CNY/day) and ``floor_area_m2``; what it leaves out is derived from floor
area or takes the documented default (:mod:`geodata.hub_sites`).

A row left empty, or one repeating an earlier row (the same name, or for the inventory the
same kind, at the same point), is not used: the frame returned lists it in
``frame.attrs["input_rows"]`` with its reason (see
:func:`geodata.planner_data.input_rows`). Every other fault of a file is reported at once,
naming the file, the row, the column and the value.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.coords import frame_gcj02_to_wgs84, in_china
from geodata.errors import InputDataError, ParameterError
from geodata.table_columns import (
    COMMUNITY_TABLE,
    HUB_SITE_TABLE,
    INVENTORY_TABLE,
    UNIT_SPELLINGS,
    Table,
)

__all__ = [
    "DATUMS",
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

Datum = Literal["wgs84", "gcj02", "cgcs2000"]
#: The datums a table may be in.
DATUMS: tuple[str, ...] = ("wgs84", "gcj02", "cgcs2000")

#: Optional numeric columns of a hub-site table, each > 0 where given.
HUB_SITE_FIELDS: tuple[str, ...] = ("capacity", "fixed_cost", "floor_area_m2")

_MAX_SHOWN = 8
#: Coordinates rounded to this many decimals (about 1 m) are the same point.
_SAME_POINT_DECIMALS = 5


def _check_datum(datum: str | None) -> None:
    if datum is not None and datum not in DATUMS:
        raise ParameterError(f"datum={datum!r} is not allowed. Fix: declare 'wgs84', 'gcj02' "
                             "or 'cgcs2000'")


@dataclass
class _Sheet:
    """A table as read: its columns renamed to the declared keys, and the rows left out."""

    path: Path
    table: Table
    frame: gpd.GeoDataFrame
    headers: dict[str, str]
    dropped: list[dict[str, Any]] = field(default_factory=list)

    def header(self, key: str) -> str:
        """Return the header the file gives the column ``key``."""
        return self.headers.get(key, key)

    def drop(self, positions: list[int], reasons: list[str]) -> None:
        """Leave rows out, listing each with its reason."""
        names = (self.frame["name"] if "name" in self.frame.columns
                 else pd.Series("", index=self.frame.index))
        for pos, reason in zip(positions, reasons, strict=True):
            name = names.iloc[pos]
            self.dropped.append({
                "table": self.table.name, "file": self.path.name,
                "row": int(self.frame["row"].iloc[pos]),
                "name": "" if pd.isna(name) else str(name), "status": "dropped",
                "reason": reason})
        keep = np.ones(len(self.frame), dtype=bool)
        keep[positions] = False
        self.frame = self.frame.loc[keep].reset_index(drop=True)


def _read_sheet(path: Path, sheet: str | None, table: Table) -> _Sheet:
    if not path.is_file():
        raise InputDataError(path, "the file does not exist", "check the path in the scenario")
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputDataError(path, f"file type {suffix!r} is not read",
                             f"give one of {', '.join(TABLE_SUFFIXES)}")
    try:
        if suffix == ".csv":
            raw = pd.read_csv(path, encoding="utf-8-sig", skip_blank_lines=False)
        elif suffix == ".xlsx":
            raw = pd.read_excel(path, sheet_name=sheet or 0, engine="openpyxl")
        else:
            raw = gpd.read_file(path, engine="pyogrio")
    except (ValueError, OSError, KeyError, UnicodeDecodeError) as err:
        raise InputDataError(path, f"cannot be read as {suffix[1:].upper()} ({err})",
                             "save it as UTF-8 CSV, XLSX or GeoJSON") from err
    raw.columns = [str(c).strip() for c in raw.columns]
    frame, headers = _rename(raw, table, path)
    frame["row"] = np.arange(len(frame)) + 2
    read = _Sheet(path, table, frame, headers)
    cells = frame.drop(columns=["row", *(["geometry"] if suffix not in (".csv", ".xlsx")
                                          else [])])
    blank = (cells.isna() | cells.astype(str).apply(lambda c: c.str.strip() == "")).all(axis=1)
    if suffix in (".csv", ".xlsx") and blank.any():
        pos = np.flatnonzero(blank.to_numpy()).tolist()
        read.drop(pos, ["empty row"] * len(pos))
    if suffix in (".csv", ".xlsx"):
        read.frame = _points_from_columns(read)
    elif read.frame.crs is not None and not read.frame.crs.is_geographic:
        read.frame = read.frame.to_crs(4326)
    return read


def _rename(raw: pd.DataFrame, table: Table, path: Path) -> tuple[Any, dict[str, str]]:
    """Rename the headers a table declares to their keys; check the units written in them."""
    headers: dict[str, str] = {}
    faults = []
    for header in raw.columns:
        column, unit = table.match(header)
        if column is None or header == "geometry":
            continue
        if unit is not None and column.unit and _unit_key(unit) not in {
                _unit_key(u) for u in UNIT_SPELLINGS[column.unit]}:
            faults.append(f"column {header!r}: unit {unit!r} is not {column.unit}")
        if column.key in headers:
            faults.append(f"columns {headers[column.key]!r} and {header!r} both give "
                          f"{column.zh} ({column.key})")
        headers[column.key] = header
    if faults:
        raise InputDataError(path, "; ".join(faults),
                             "give each column once, in the unit it takes:\n"
                             + table.describe("zh") + "\n" + table.describe("en"))
    unread = [h for h in raw.columns if h not in headers.values() and h != "geometry"]
    if unread:
        log.info("%s: columns %s are not read (not columns of a %s)", path.name,
                 ", ".join(map(repr, unread)), table.title_en)
    return raw.rename(columns={h: k for k, h in headers.items()}), headers


def _unit_key(unit: str) -> str:
    return "".join(unit.lower().split())


def _points_from_columns(read: _Sheet) -> gpd.GeoDataFrame:
    table, path = read.frame, read.path
    if "lon" not in table.columns or "lat" not in table.columns:
        raise InputDataError(path, f"no coordinate columns (found: {_columns(table)})",
                             "add the columns 经度/lon and 纬度/lat (decimal degrees)")
    x = pd.to_numeric(table["lon"], errors="coerce")
    y = pd.to_numeric(table["lat"], errors="coerce")
    bad = np.flatnonzero((x.isna() | y.isna()).to_numpy()).tolist()
    if bad:
        raise InputDataError(path, f"rows {_rows(read, bad)}: {read.header('lon')}/"
                             f"{read.header('lat')} is not a number",
                             "give decimal degrees in every row")
    geometry = gpd.points_from_xy(x.to_numpy(float), y.to_numpy(float), crs=4326)
    return gpd.GeoDataFrame(table.drop(columns=["lon", "lat"]), geometry=geometry, crs=4326)


def _columns(frame: pd.DataFrame) -> str:
    """List the columns of a table, as found, for a message."""
    return ", ".join(str(c) for c in frame.columns if c != "row")


def _rows(read: _Sheet, positions: list[int]) -> str:
    """Spreadsheet row numbers (header is row 1) of positions in the frame."""
    rows = read.frame["row"].to_numpy()
    shown = ", ".join(str(int(rows[i])) for i in positions[:_MAX_SHOWN])
    more = len(positions) - _MAX_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _datums(read: _Sheet, datum: Datum | None) -> np.ndarray:
    """Return each row's datum: its ``datum`` cell where filled, else the one declared."""
    frame = read.frame
    if "datum" not in frame.columns:
        if datum is None:
            raise InputDataError(read.path, "no datum is declared and the table has no column "
                                 "坐标系 (datum)", "declare the datum (gcj02, wgs84 or cgcs2000) "
                                 "or add a column 坐标系 with GCJ-02, WGS84 or CGCS2000")
        return np.full(len(frame), datum, dtype=object)
    column = read.table.column("datum")
    words = frame["datum"].map(lambda v: "" if pd.isna(v) else str(v).strip())
    found = words.map(lambda w: datum if w == "" else column.choice(w))
    bad = np.flatnonzero(found.isna().to_numpy()).tolist()
    if bad:
        first = words.iloc[bad[0]]
        problem = (f"column {read.header('datum')!r}, rows {_rows(read, bad)}: "
                   + (f"value {first!r} is not a datum" if first else
                      "empty, and no datum is declared"))
        raise InputDataError(read.path, problem, f"write one of {column.allowed()}")
    return found.to_numpy(object)


def _to_wgs84(read: _Sheet, datum: Datum | None) -> gpd.GeoDataFrame:
    frame, path = read.frame, read.path
    empty = (frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    if empty.any():
        raise InputDataError(path, f"rows {_rows(read, np.flatnonzero(empty).tolist())} have "
                             "no geometry", "give every row a location")
    datums = _datums(read, datum)
    xy = shapely.get_coordinates(shapely.point_on_surface(frame.geometry.to_numpy()))
    outside = ~in_china(xy[:, 0], xy[:, 1])
    if outside.any():
        raise InputDataError(
            path, f"rows {_rows(read, np.flatnonzero(outside).tolist())} lie outside China "
            f"(first: lon {xy[outside][0, 0]:g}, lat {xy[outside][0, 1]:g})",
            "give longitude/latitude in degrees (lon first), or check swapped columns")
    out = frame.set_crs(4326, allow_override=True)
    gcj = datums == "gcj02"
    if gcj.any():
        moved = frame_gcj02_to_wgs84(out.loc[gcj])
        geometry = np.asarray(out.geometry.values, dtype=object)
        geometry[gcj] = np.asarray(moved.geometry.values, dtype=object)
        out = out.set_geometry(gpd.GeoSeries(geometry, index=out.index, crs=4326))
    out["datum"] = datums
    return out


def _drop_repeats(read: _Sheet, key: str, what: str) -> None:
    """Leave out the rows repeating an earlier row's ``key`` at the same point."""
    frame = read.frame
    xy = shapely.get_coordinates(shapely.point_on_surface(frame.geometry.to_numpy()))
    xy = np.round(xy, _SAME_POINT_DECIMALS)
    labels = (frame[key].map(lambda v: "" if pd.isna(v) else str(v).strip())
              if key in frame.columns else pd.Series("", index=frame.index))
    first: dict[tuple[str, float, float], int] = {}
    pos, reasons = [], []
    rows = frame["row"].to_numpy()
    for i, (label, (x, y)) in enumerate(zip(labels, xy, strict=True)):
        seen = first.setdefault((label, float(x), float(y)), i)
        if seen != i:
            pos.append(i)
            reasons.append(f"repeats row {int(rows[seen])} ({what} at the same point)")
    if pos:
        read.drop(pos, reasons)


def _numeric(read: _Sheet, column: str, faults: list[str], *, allow_missing: bool,
             positive: bool = False) -> pd.Series:
    frame = read.frame
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    values = pd.to_numeric(frame[column], errors="coerce")
    raw_missing = frame[column].isna()
    bad = (values.isna() & ~raw_missing) | ((values <= 0) if positive else (values < 0))
    if not allow_missing:
        bad |= raw_missing
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy()).tolist()
        faults.append(f"column {read.header(column)!r}, rows {_rows(read, pos)}: value "
                      f"'{frame[column].iloc[pos[0]]}' is not a number "
                      + ("> 0" if positive else ">= 0"))
    return values


def _yes_no(read: _Sheet, column: str, faults: list[str]) -> pd.Series:
    """Return a yes/no column as True/False, None where it is absent or a cell is empty."""
    frame = read.frame
    if column not in frame.columns:
        return pd.Series(None, index=frame.index, dtype=object)
    declared = read.table.column(column)
    text = frame[column].map(lambda v: "" if pd.isna(v) else str(v).strip())
    value = text.map(lambda t: "" if t == "" else declared.choice(t))
    bad = value.isna()
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy()).tolist()
        faults.append(f"column {read.header(column)!r}, rows {_rows(read, pos)}: value "
                      f"'{frame[column].iloc[pos[0]]}' is not yes/no ({declared.allowed()})")
    return value.map(lambda v: True if v == "yes" else False if v == "no" else None
                     ).astype(object)


def _missing_columns(read: _Sheet) -> list[str]:
    """Faults for the required columns (and groups of columns) the table lacks."""
    present = set(read.frame.columns)
    faults = [f"no column {c.zh!r} ({c.key!r})" for c in read.table.columns
              if c.required and c.key not in present and c.key not in ("lon", "lat")]
    for group in read.table.one_of:
        if not present & set(group):
            faults.append("none of the columns " + ", ".join(
                f"{read.table.column(k).zh!r} ({k!r})" for k in group))
    return faults


def _fail(read: _Sheet, faults: list[str]) -> None:
    if faults:
        raise InputDataError(read.path, "; ".join(faults) + f" (columns: "
                             f"{_columns(read.frame)})", "the columns of a "
                             f"{read.table.title_en} (siting template writes one to fill in):\n"
                             + read.table.describe("zh") + "\n" + read.table.describe("en"))


def read_communities(
    path: str | Path,
    *,
    datum: Datum | None = None,
    sheet: str | None = None,
    persons_per_household: float = PERSONS_PER_HOUSEHOLD,
) -> gpd.GeoDataFrame:
    """Read a planner's community table.

    Parameters
    ----------
    path
        CSV, XLSX, GeoJSON or GPKG with the columns of
        :data:`geodata.table_columns.COMMUNITY_TABLE`: a name (``社区名称``), residents
        (``人口``) or households (``户数``), longitude and latitude.
    datum
        {"wgs84", "gcj02", "cgcs2000"}: the datum of the coordinates, for the rows whose
        ``坐标系`` (``datum``) cell is empty or absent; ``None`` when every row gives one.
    sheet
        XLSX sheet name (default: the first sheet).
    persons_per_household
        Residents per household when only ``households`` is given (default 2.62).

    Returns
    -------
    geopandas.GeoDataFrame
        ``community`` (``"user/<row>"``), ``row`` (the spreadsheet row, header row 1),
        ``name``, ``households`` (NaN when not given), ``residents``, ``new`` (a new
        residential community, rule R1; True where the table has no ``new`` column),
        ``new_given`` (whether it has one), ``old`` (True/False from an ``old`` column, None
        where not given) and ``built_year`` (NaN where not given), both read by
        :func:`geodata.old_compounds.old_compounds` (rule G3), ``datum``, ``source`` and a
        WGS84 geometry (point or polygon). ``attrs["input_rows"]`` lists the rows left out.

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
    if not (persons_per_household > 0 and math.isfinite(persons_per_household)):
        raise ParameterError(f"persons_per_household={persons_per_household!r} must be positive")
    read = _read_sheet(path, sheet, COMMUNITY_TABLE)
    _fail(read, _missing_columns(read))
    frame = read.frame = _to_wgs84(read, datum)
    _drop_repeats(read, "name", "the same name")
    frame = read.frame
    faults: list[str] = []
    households = _numeric(read, "households", faults, allow_missing="residents" in frame)
    residents = _numeric(read, "residents", faults, allow_missing="households" in frame)
    residents = residents.fillna(households * persons_per_household)
    if residents.isna().any():
        faults.append(f"rows {_rows(read, np.flatnonzero(residents.isna()).tolist())} give "
                      "neither residents nor households")
    new = _yes_no(read, "new", faults).map(lambda v: v is not False)
    old = _yes_no(read, "old", faults)
    built = _numeric(read, "built_year", faults, allow_missing=True)
    if faults:
        raise InputDataError(path, "; ".join(faults), "give a count >= 0 in every row, "
                             "yes/no (是/否) in the columns 'new' (新建社区) and 'old' (老旧小区) "
                             "and a year in 'built_year' (建成年份)")
    out = gpd.GeoDataFrame(
        {"community": [f"user/{r}" for r in frame["row"]],
         "row": frame["row"].to_numpy(int),
         "name": frame["name"].astype(str).to_numpy(),
         "households": households.to_numpy(float),
         "residents": residents.to_numpy(float),
         "new": new.to_numpy(bool), "new_given": "new" in frame.columns,
         "old": old.to_numpy(object), "built_year": built.to_numpy(float),
         "datum": frame["datum"].to_numpy(object), "source": f"user:{path.name}"},
        geometry=frame.geometry.to_numpy(), crs=4326,
    )
    out.attrs["input_rows"] = read.dropped
    log.info("user communities: %d from %s, %.0f residents, %d rows left out, in %.2f s",
             len(out), path.name, out["residents"].sum(), len(read.dropped),
             time.perf_counter() - t0)
    return out


def read_inventory(path: str | Path, *, datum: Datum | None = None, sheet: str | None = None
                   ) -> gpd.GeoDataFrame:
    """Read a planner's inventory of existing lockers and stations and of available rooms.

    Parameters
    ----------
    path
        CSV, XLSX, GeoJSON or GPKG with the columns of
        :data:`geodata.table_columns.INVENTORY_TABLE`: ``kind`` (``类型``: ``locker`` 快件箱,
        ``station`` 驿站, ``room`` 机房 or ``site`` 点位), optional ``name``, ``compartments``
        (lockers), ``area_m2`` (``使用面积``, the usable floor area of a station or room, rule
        R1) and ``action`` (``要求``, site rows only: ``required`` 必选 or ``prohibited`` 禁用).
    datum
        {"wgs84", "gcj02", "cgcs2000"}: the datum of the rows that do not give one.
    sheet
        XLSX sheet name (default: the first sheet).

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id`` (``"user/<row>"``), ``row``, ``name``, ``kind``, ``compartments`` and
        ``area_m2`` (NaN when not given), ``action`` (``""`` when not given), ``existing``
        (False for sites), ``datum``, ``source`` and WGS84 points. ``attrs["input_rows"]``
        lists the rows left out.

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
    read = _read_sheet(path, sheet, INVENTORY_TABLE)
    _fail(read, _missing_columns(read))
    faults: list[str] = []
    column = INVENTORY_TABLE.column("kind")
    kinds = read.frame["kind"].map(lambda v: None if pd.isna(v) else column.choice(str(v)))
    if kinds.isna().any():
        pos = np.flatnonzero(kinds.isna().to_numpy()).tolist()
        faults.append(f"column {read.header('kind')!r}, rows {_rows(read, pos)}: value "
                      f"{read.frame['kind'].iloc[pos[0]]!r} is not {column.allowed()}")
    _numeric(read, "compartments", faults, allow_missing=True)
    _numeric(read, "area_m2", faults, allow_missing=True)
    actions = _actions(read, kinds, faults)
    if faults:
        raise InputDataError(path, "; ".join(faults), "write the kind as 快件箱/locker, "
                             "驿站/station, 机房/room or 点位/site, compartments and area_m2 as "
                             "numbers >= 0, and 必选/required or 禁用/prohibited only on 点位 rows")
    read.frame["kind"] = kinds.astype(str)
    read.frame["action"] = actions
    read.frame = _to_wgs84(read, datum)
    _drop_repeats(read, "kind", "the same kind")
    frame = read.frame
    names = (frame["name"].fillna("").astype(str).to_numpy() if "name" in frame
             else [""] * len(frame))
    out = gpd.GeoDataFrame(
        {"site_id": [f"user/{r}" for r in frame["row"]], "row": frame["row"].to_numpy(int),
         "name": names, "kind": frame["kind"].to_numpy(str),
         "compartments": _numeric(read, "compartments", [], allow_missing=True).to_numpy(float),
         "area_m2": _numeric(read, "area_m2", [], allow_missing=True).to_numpy(float),
         "action": frame["action"].to_numpy(str),
         "existing": (frame["kind"] != "site").to_numpy(bool),
         "datum": frame["datum"].to_numpy(object),
         "source": f"user:{path.name}"},
        geometry=shapely.point_on_surface(frame.geometry.to_numpy()), crs=4326,
    )
    out.attrs["input_rows"] = read.dropped
    log.info("user inventory: %d lockers, %d stations, %d rooms, %d sites from %s, %d rows left "
             "out, in %.2f s",
             *(int((out["kind"] == k).sum()) for k in ("locker", "station", "room", "site")),
             path.name, len(read.dropped), time.perf_counter() - t0)
    return out


def _actions(read: _Sheet, kinds: pd.Series, faults: list[str]) -> np.ndarray:
    """Return each row's ``action`` (``""`` when empty).

    A word not accepted, or an action on a row that is not a site, is a fault.
    """
    frame = read.frame
    if "action" not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    column = INVENTORY_TABLE.column("action")
    given = frame["action"].map(lambda v: not (pd.isna(v) or str(v).strip() == ""))
    words = frame["action"].where(given, "")
    actions = words.map(lambda v: column.choice(str(v)) if v != "" else "")
    bad = given & actions.isna()
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy()).tolist()
        faults.append(f"column {read.header('action')!r}, rows {_rows(read, pos)}: value "
                      f"{words.iloc[pos[0]]!r} is not {column.allowed()}")
    misplaced = given & ~bad & (kinds != "site")
    if misplaced.any():
        pos = np.flatnonzero(misplaced.to_numpy()).tolist()
        faults.append(f"column {read.header('action')!r}, rows {_rows(read, pos)}: only a "
                      f"{read.header('kind')} of 点位/site can be required or prohibited")
    return actions.fillna("").to_numpy(object)


def read_hub_sites(path: str | Path, *, datum: Datum | None = None, sheet: str | None = None
                   ) -> gpd.GeoDataFrame:
    """Read a planner's table of sites where a sorting hub can stand (rule R5).

    Parameters
    ----------
    path
        CSV, XLSX, GeoJSON or GPKG with the columns of
        :data:`geodata.table_columns.HUB_SITE_TABLE`: ``name`` (``名称``) and optionally
        ``capacity`` (items/day), ``fixed_cost`` (CNY/day) and ``floor_area_m2``, each > 0
        where given.
    datum
        {"wgs84", "gcj02", "cgcs2000"}: the datum of the rows that do not give one.
    sheet
        XLSX sheet name (default: the first sheet).

    Returns
    -------
    geopandas.GeoDataFrame
        ``name``, ``row`` (spreadsheet row), :data:`HUB_SITE_FIELDS` (NaN where not given),
        ``source`` and WGS84 points,
        as :func:`geodata.hub_sites.hub_sites_from_osm` takes them (``inventory=``).
        ``attrs["input_rows"]`` lists the rows left out.

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
    read = _read_sheet(path, sheet, HUB_SITE_TABLE)
    faults = _missing_columns(read)
    names = (read.frame["name"].fillna("").astype(str).str.strip()
             if "name" in read.frame.columns else None)
    if names is not None and (names == "").any():
        faults.append(f"column {read.header('name')!r}, rows "
                      f"{_rows(read, np.flatnonzero((names == '').to_numpy()).tolist())}: empty")
    for key in HUB_SITE_FIELDS:
        _numeric(read, key, faults, allow_missing=True, positive=True)
    if faults:
        raise InputDataError(path, "; ".join(faults),
                             "give each site a name, lon and lat and, where known, capacity "
                             "(items/day), fixed_cost (CNY/day) or floor_area_m2, each > 0")
    read.frame = _to_wgs84(read, datum)
    _drop_repeats(read, "name", "the same name")
    frame = read.frame
    out = gpd.GeoDataFrame(
        {"name": frame["name"].astype(str).str.strip().to_numpy(object),
         "row": frame["row"].to_numpy(int),
         **{k: _numeric(read, k, [], allow_missing=True).to_numpy(float)
            for k in HUB_SITE_FIELDS}, "source": f"user:{path.name}"},
        geometry=shapely.point_on_surface(frame.geometry.to_numpy()), crs=4326,
    )
    out.attrs["input_rows"] = read.dropped
    log.info("user hub sites: %d from %s, %d with a capacity, in %.2f s", len(out),
             path.name, int(out["capacity"].notna().sum()), time.perf_counter() - t0)
    return out
