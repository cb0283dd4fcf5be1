"""Labels of the plan map in Chinese and English.

Every piece of text the map draws itself (layer names, legend entries, popup field names) comes
from :data:`LABELS`, so a map is wholly in one language. Text from OpenStreetMap or a user file
(names, ids, reasons) is never translated, only escaped.
"""

from __future__ import annotations

from typing import Literal

from geodata.errors import ParameterError

__all__ = ["LABELS", "Lang", "LANGS", "label", "check_lang"]

Lang = Literal["zh", "en"]

#: The languages a map can be drawn in.
LANGS: tuple[str, ...] = ("zh", "en")

#: key -> (Chinese, English)
LABELS: dict[str, tuple[str, str]] = {
    # layers
    "layer.boundary": ("研究区边界", "Study area"),
    "layer.communities": ("社区", "Communities"),
    "layer.demand": ("需求点（楼栋）", "Demand points (buildings)"),
    "layer.candidates": ("候选站点", "Candidate sites"),
    "layer.lockers": ("智能快件箱", "Parcel lockers"),
    "layer.assignments": ("服务分配", "Assignments"),
    "layer.uncovered": ("未覆盖需求", "Uncovered demand"),
    "layer.basemap": ("OpenStreetMap 底图", "OpenStreetMap basemap"),
    # legend
    "legend.title": ("图例", "Legend"),
    "legend.locker_new": ("新建快件箱（大小 = 格口数）", "New locker (size = compartments)"),
    "legend.locker_existing": ("现有快件箱", "Existing locker"),
    "legend.communities": ("社区配色", "Community colours"),
    "legend.more": ("另有 {n} 个社区", "{n} more communities"),
    "legend.summary": ("方案概况", "Plan summary"),
    "legend.rules": ("规划规则", "Plan rules"),
    "summary.lockers": ("快件箱", "Lockers"),
    "summary.compartments": ("格口", "Compartments"),
    "summary.demand": ("需求点", "Demand points"),
    "summary.covered": ("覆盖率（按日件量）", "Covered (by daily parcels)"),
    "summary.uncovered": ("未覆盖需求点", "Uncovered points"),
    # popup fields
    "field.site_id": ("站点编号", "Site id"),
    "field.name": ("名称", "Name"),
    "field.modules": ("组数", "Modules"),
    "field.compartments": ("格口数", "Compartments"),
    "field.daily_parcels_served": ("日服务件量", "Daily parcels served"),
    "field.status": ("状态", "Status"),
    "field.demand_id": ("需求点编号", "Demand id"),
    "field.community": ("社区", "Community"),
    "field.community_name": ("社区", "Community"),
    "field.residents": ("居民数", "Residents"),
    "field.daily_parcels": ("日均件量", "Daily parcels"),
    "field.locker_id": ("服务快件箱", "Locker"),
    "field.walk_m": ("步行距离（米）", "Walk (m)"),
    "field.source": ("来源", "Source"),
    "field.kind": ("类型", "Kind"),
    "field.existing": ("现有", "Existing"),
    "field.reason": ("原因", "Reason"),
    "field.ratio": ("格口/日件量", "Compartments per daily parcel"),
    # values
    "value.existing": ("现有", "existing"),
    "value.new": ("新建", "new"),
    "value.yes": ("是", "yes"),
    "value.no": ("否", "no"),
    "value.none": ("—", "—"),
    # attribution
    "attribution": (
        "© OpenStreetMap contributors (ODbL)",
        "© OpenStreetMap contributors (ODbL)",
    ),
}


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if the map can be drawn in it.

    Parameters
    ----------
    lang
        A language code.

    Returns
    -------
    Lang
        The same code, typed.

    Raises
    ------
    ParameterError
        If ``lang`` is not one of {"zh", "en"}.
    """
    if lang not in LANGS:
        raise ParameterError(
            f"lang={lang!r} is not a map language. Fix: pass one of {', '.join(LANGS)}"
        )
    return lang  # type: ignore[return-value]


def label(key: str, lang: str, **values: object) -> str:
    """Return the label ``key`` in ``lang``, with ``{name}`` fields filled from ``values``.

    Parameters
    ----------
    key
        A key of :data:`LABELS`.
    lang
        One of {"zh", "en"}.
    **values
        Values for the ``{name}`` fields of the label.

    Returns
    -------
    str
        The label (plain text, not HTML-escaped).

    Raises
    ------
    ParameterError
        If ``lang`` is unknown.
    KeyError
        If ``key`` is not a label (a programming error, not a user error).
    """
    text = LABELS[key][LANGS.index(check_lang(lang))]
    return text.format(**values) if values else text
