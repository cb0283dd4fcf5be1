"""The columns of a planner's tables, declared once: headers, units, types, allowed values.

A planner writes a community table, an inventory of existing sites and a table of hub sites in
a spreadsheet, in Chinese or English. Each :class:`Table` here lists its :class:`Column` s: the
name the readers of :mod:`geodata.user_inputs` use (``key``), the Chinese and English headers a
template prints, further headers accepted (``aliases``), the unit, the type, whether the column
is required and, for a column of choices, the words accepted for each value. The readers, their
error messages and the fill-in templates (``siting template``) all read these declarations.

A header may carry its unit in brackets, ``使用面积(m²)``, ``area (m2)``, ``面积（平方米）``: the
unit must then be one of the spellings of the column's unit (:data:`UNIT_SPELLINGS`).
Headers are matched without regard to case, spaces, ``_`` or ``-``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "COMMUNITY_TABLE",
    "PROHIBITED_REACH_M",
    "HUB_SITE_TABLE",
    "INVENTORY_TABLE",
    "TABLES",
    "UNIT_SPELLINGS",
    "UNIT_ZH",
    "Column",
    "Table",
    "split_header",
]

ColumnType = Literal["text", "number", "count", "yes/no", "year", "degrees", "choice"]

#: Spellings accepted in a header for each unit.
UNIT_SPELLINGS: Mapping[str, frozenset[str]] = {
    "m²": frozenset({"m²", "m2", "㎡", "平方米", "平米", "m^2", "sqm", "sq m"}),
    "°": frozenset({"°", "度", "deg", "degree", "degrees", "decimal degrees", "十进制度"}),
    "items/day": frozenset({"items/day", "件/日", "件/天", "件每日", "items per day"}),
    "CNY/day": frozenset({"cny/day", "元/日", "元/天", "yuan/day", "rmb/day"}),
}
#: How a Chinese header writes each unit.
UNIT_ZH: Mapping[str, str] = {"m²": "m²", "°": "°", "items/day": "件/日", "CNY/day": "元/日"}

#: How far from a prohibited site's point the candidate site it removes may lie (m): a map
#: app's point and the OSM feature a candidate stands on (a shop's node, a building's
#: representative point) are often tens of metres apart.
PROHIBITED_REACH_M = 50.0

_UNIT_IN_HEADER = re.compile(r"^(?P<base>.*?)\s*[(（\[【](?P<unit>[^)）\]】]*)[)）\]】]\s*$")


def _norm(text: str) -> str:
    """Compare headers and words without case, spaces, ``_`` or ``-``."""
    return re.sub(r"[\s_\-]+", "", str(text).strip().lower())


def split_header(header: str) -> tuple[str, str | None]:
    """Split a header into its name and the unit written in brackets after it.

    Parameters
    ----------
    header
        A table header, e.g. ``"使用面积(m²)"``.

    Returns
    -------
    tuple of str and str or None
        The name (``"使用面积"``) and the unit (``"m²"``), ``None`` when no unit is written.
    """
    match = _UNIT_IN_HEADER.match(str(header).strip())
    if match is None:
        return str(header).strip(), None
    return match["base"], match["unit"].strip()


@dataclass(frozen=True)
class Column:
    """One column of a planner's table.

    Attributes
    ----------
    key
        The name the readers use (and the English template header).
    zh
        The Chinese template header.
    aliases
        Further headers accepted, Chinese or English.
    unit
        The unit (a key of :data:`UNIT_SPELLINGS`), ``""`` when the value has none.
    type
        ``{"text", "number", "count", "yes/no", "year", "degrees", "choice"}``.
    required
        Whether every table must have it.
    help_zh, help_en
        What to write in it.
    example_zh, example_en
        The value of the templates' example row.
    values
        For a ``choice`` column: each value the readers use, with the words accepted for it.
    """

    key: str
    zh: str
    aliases: tuple[str, ...] = ()
    unit: str = ""
    type: ColumnType = "text"
    required: bool = False
    help_zh: str = ""
    help_en: str = ""
    example_zh: str = ""
    example_en: str = ""
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def header(self, lang: Literal["zh", "en"]) -> str:
        """Return the template header, with its unit in brackets.

        Parameters
        ----------
        lang
            ``{"zh", "en"}``.

        Returns
        -------
        str
            e.g. ``"使用面积(m²)"`` or ``"area_m2"`` (an English key names its unit).
        """
        if lang == "en":
            return self.key
        return f"{self.zh}({UNIT_ZH[self.unit]})" if self.unit else self.zh

    def names(self) -> frozenset[str]:
        """Return every accepted header, normalized (no case, spaces, ``_`` or ``-``)."""
        return frozenset(_norm(n) for n in (self.key, self.zh, *self.aliases))

    def choice(self, word: str) -> str | None:
        """Return the value a written word stands for, ``None`` when it is not accepted.

        Parameters
        ----------
        word
            A cell of a ``choice`` column.

        Returns
        -------
        str or None
            The value the readers use (e.g. ``"station"`` for ``"驿站"``).
        """
        key = _norm(word)
        for value, words in self.values.items():
            if key == _norm(value) or key in {_norm(w) for w in words}:
                return value
        return None

    def allowed(self) -> str:
        """Return the accepted words of a ``choice`` column, for a message or a template."""
        return "; ".join(f"{v} = {' / '.join(w)}" for v, w in self.values.items())


@dataclass(frozen=True)
class Table:
    """The columns of one kind of planner table.

    Attributes
    ----------
    name
        ``{"communities", "inventory", "hub_sites"}``.
    title_zh, title_en
        What the table holds.
    columns
        Its columns, in template order.
    one_of
        Groups of columns of which each table must have at least one.
    """

    name: str
    title_zh: str
    title_en: str
    columns: tuple[Column, ...]
    one_of: tuple[tuple[str, ...], ...] = ()

    def column(self, key: str) -> Column:
        """Return the column named ``key``.

        Parameters
        ----------
        key
            A column's :attr:`Column.key`.

        Returns
        -------
        Column
            The declaration.
        """
        return next(c for c in self.columns if c.key == key)

    def match(self, header: str) -> tuple[Column | None, str | None]:
        """Return the column a header names and the unit written in it.

        Parameters
        ----------
        header
            A header as found in a file.

        Returns
        -------
        tuple
            The column (``None`` when the header names none) and the unit (``None`` if absent).
        """
        full = _norm(header)
        for col in self.columns:
            if full in col.names():
                return col, None
        base, unit = split_header(header)
        key = _norm(base)
        return next((c for c in self.columns if key in c.names()), None), unit

    def describe(self, lang: Literal["zh", "en"] = "en") -> str:
        """Return the columns in words: header, unit, required or optional, accepted values.

        Parameters
        ----------
        lang
            ``{"zh", "en"}``.

        Returns
        -------
        str
            One line per column.
        """
        lines = []
        for col in self.columns:
            need = ("必填" if lang == "zh" else "required") if col.required else (
                "选填" if lang == "zh" else "optional")
            text = col.help_zh if lang == "zh" else col.help_en
            lines.append(f"{col.header(lang)}: {need}; {text}"
                         + (f" ({col.allowed()})" if col.values else ""))
        if self.one_of:
            groups = ", ".join(" / ".join(self.column(k).header(lang) for k in g)
                               for g in self.one_of)
            lines.append(("至少填写其一: " if lang == "zh" else "at least one of: ") + groups)
        return "\n".join(lines)


_DATUM = Column(
    "datum", "坐标系", ("crs", "coordinate system", "坐标系统", "datum"), type="choice",
    help_zh="本行坐标的坐标系；空则用命令行 --datum 声明的坐标系",
    help_en="datum of this row's coordinates; empty: the datum declared with --datum",
    example_zh="GCJ-02", example_en="GCJ-02",
    values={"gcj02": ("GCJ-02", "GCJ02", "火星坐标", "高德", "腾讯", "国测局"),
            "wgs84": ("WGS84", "WGS-84", "WGS 84", "GPS", "EPSG:4326"),
            "cgcs2000": ("CGCS2000", "CGCS 2000", "国家2000", "2000国家大地坐标系", "EPSG:4490")},
)
_LON = Column("lon", "经度", ("lng", "longitude", "x", "经度坐标"), unit="°", type="degrees",
              required=True, help_zh="经度，十进制度", help_en="longitude, decimal degrees",
              example_zh="104.0655", example_en="104.0655")
_LAT = Column("lat", "纬度", ("latitude", "y", "纬度坐标"), unit="°", type="degrees",
              required=True, help_zh="纬度，十进制度", help_en="latitude, decimal degrees",
              example_zh="30.6592", example_en="30.6592")

#: A planner's community table (:func:`geodata.user_inputs.read_communities`).
COMMUNITY_TABLE = Table(
    "communities", "社区表", "community table",
    (
        Column("name", "社区名称",
               ("小区名称", "社区", "小区", "名称", "community", "community name"), required=True,
               help_zh="社区或小区名称", help_en="community or compound name",
               example_zh="文翁社区", example_en="Wenweng community"),
        Column("households", "户数", ("住户数", "总户数", "hh", "household count"),
               type="count", help_zh="户数（人口为空时按每户 2.62 人计）",
               help_en="households (residents = 2.62 per household when residents is empty)",
               example_zh="1200", example_en="1200"),
        Column("residents", "人口", ("人口数", "常住人口", "居民", "居民数", "人数", "population"),
               type="count", help_zh="常住人口", help_en="residents",
               example_zh="3100", example_en="3100"),
        _LON, _LAT, _DATUM,
        Column("new", "新建社区", ("是否新建", "新建", "new community"), type="yes/no",
               values={"yes": ("是", "新", "新建", "true", "1", "y"),
                       "no": ("否", "旧", "老旧", "false", "0", "n")},
               help_zh="是否新建居住社区（规则 R1）；空：按新建计",
               help_en="a new residential community (rule R1); empty: counted as new",
               example_zh="否", example_en="no"),
        Column("old", "老旧小区", ("是否老旧小区", "老旧", "old compound"), type="yes/no",
               values={"yes": ("是", "旧", "老旧", "老旧小区", "true", "1", "y"),
                       "no": ("否", "新", "新建", "false", "0", "n")},
               help_zh="是否老旧小区（规则 G3）", help_en="an old compound (rule G3)",
               example_zh="是", example_en="yes"),
        Column("built_year", "建成年份", ("建成年代", "建成时间", "year built", "built"),
               type="year", help_zh="建成年份（规则 G3）", help_en="year built (rule G3)",
               example_zh="1998", example_en="1998"),
    ),
    one_of=(("households", "residents"),),
)

#: A planner's inventory of existing lockers, stations and rooms
#: (:func:`geodata.user_inputs.read_inventory`).
INVENTORY_TABLE = Table(
    "inventory", "现有设施与可用用房", "existing sites and available rooms",
    (
        Column("kind", "类型", ("设施类型", "type", "site type"), type="choice", required=True,
               values={"locker": ("快件箱", "智能快件箱", "快递柜", "智能快递柜", "快递箱",
                                  "parcel locker"),
                       "station": ("驿站", "快递驿站", "服务站", "快递服务站", "末端服务站",
                                   "综合服务站", "community station"),
                       "room": ("机房", "用房", "可用用房", "空置用房", "房间", "available room"),
                       "site": ("点位", "候选点位", "选址点位", "快件箱点位", "candidate site")},
               help_zh="快件箱（已有）、驿站（已有）、机房（可建驿站的用房）或点位（可新建快件箱的"
                       "位置，配合「要求」列必选或禁用）",
               help_en="locker (existing), station (existing), room (a room a station can use) "
                       "or site (a place for a new locker; see action: required or prohibited)",
               example_zh="快件箱", example_en="locker"),
        Column("name", "名称", ("站点名称", "设施名称", "site name"), help_zh="名称",
               help_en="name", example_zh="丰巢 文翁路", example_en="Wenweng Rd locker"),
        Column("compartments", "格口数", ("格口", "格口数量", "compartment count"),
               type="count", help_zh="快件箱的格口数",
               help_en="a locker's compartments", example_zh="120", example_en="120"),
        Column("area_m2", "使用面积", ("面积", "建筑面积", "area", "floor area", "usable area"),
               unit="m²", type="number", help_zh="驿站或用房的使用面积（规则 R1）",
               help_en="usable floor area of a station or room (rule R1)",
               example_zh="", example_en=""),
        _LON, _LAT, _DATUM,
        Column("action", "要求", ("处理", "选址要求", "必选禁用", "facility type"),
               type="choice",
               values={"required": ("必选", "必建", "强制", "必须", "force", "forced"),
                       "prohibited": ("禁用", "禁止", "禁建", "不可用", "forbid", "forbidden")},
               help_zh="仅用于点位行：必选＝在此新建快件箱（至少一个模组）；禁用＝不在此建箱"
                       f"（移除 {PROHIBITED_REACH_M:g} 米内最近的候选点位）；空＝作为普通候选点位",
               help_en="site rows only: required = open a new locker here (at least one "
                       "module); prohibited = no locker here (the nearest candidate site within "
                       f"{PROHIBITED_REACH_M:g} m is removed); empty = an ordinary candidate site",
               example_zh="", example_en=""),
    ),
)

#: A planner's table of sites where a sorting hub can stand
#: (:func:`geodata.user_inputs.read_hub_sites`).
HUB_SITE_TABLE = Table(
    "hub_sites", "分拨中心候选场地", "hub sites",
    (
        Column("name", "名称", ("场地名称", "site name"), required=True, help_zh="场地名称",
               help_en="site name", example_zh="天府分拨点", example_en="Tianfu hub site"),
        Column("capacity", "处理能力", ("日处理能力", "能力"), unit="items/day", type="number",
               help_zh="日处理能力 > 0", help_en="items per day > 0",
               example_zh="30000", example_en="30000"),
        Column("fixed_cost", "固定成本", ("日固定成本", "成本", "cost"), unit="CNY/day",
               type="number", help_zh="每日固定成本 > 0", help_en="fixed cost per day > 0",
               example_zh="15000", example_en="15000"),
        Column("floor_area_m2", "建筑面积", ("面积", "floor area", "area"), unit="m²",
               type="number", help_zh="建筑面积 > 0", help_en="floor area > 0",
               example_zh="", example_en=""),
        _LON, _LAT, _DATUM,
    ),
)

#: Every planner table, by name.
TABLES: Mapping[str, Table] = {t.name: t for t in (COMMUNITY_TABLE, INVENTORY_TABLE,
                                                    HUB_SITE_TABLE)}
