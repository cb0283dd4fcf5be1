"""The five plans, their clauses, and their 2025 locker-count targets.

Every number here is traced to the seed file of its plan (``/work/shared/seeds``) by a
:class:`Clause`: the seed file id, the section, and the Chinese sentence quoted exactly. The
seeds are text extracted from the plans' PDFs, so a quoted sentence may cross a line or page
break in the seed; :func:`normalize_text` (all whitespace removed) is how a quote is matched.

The plans state targets for their whole area (a province or a city). A study area is a small
part of it, so :func:`target_share` scales a target by residents: the study area's share of the
plan's locker units and compartments is ``residents / population``. No seed gives a
population, so each target documents the resident population of the 2020 census (第七次全国
人口普查) as an assumption the planner can replace.

Targets by 2025 (national: none for lockers, so the national preset has no target):

========== ===================== =================================================
plan       locker target         source
========== ===================== =================================================
xinyang    16,000 compartments   000 三(四)1 行业发展规模
shanxi     9,000 units,          003 二(四)3 基础网络
           160,000 compartments
guangdong  200,000 units         004 表1 第7项
zhengzhou  none as a count       001 专栏4: lockers cover residential, commercial and
                                 government areas (rule G2); its "250 万组" of smart
                                 terminals is kept as a figure, not as units (see below)
========== ===================== =================================================
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from geodata.errors import ParameterError

__all__ = [
    "PLANS",
    "Clause",
    "Figure",
    "Plan",
    "QuantityTarget",
    "TARGETS",
    "normalize_text",
    "target_share",
]

CENSUS_2020 = "第七次全国人口普查 (2020), 常住人口"


@dataclass(frozen=True)
class Plan:
    """One 14th Five-Year postal plan and the seed file that holds its text.

    Parameters
    ----------
    name
        Preset name (``"guangdong"``).
    source
        Seed file id (``"004"``).
    seed_file
        File name in ``/work/shared/seeds``.
    title_zh
        The plan's title.
    issued
        Month of issue, ``YYYY-MM``.
    """

    name: str
    source: str
    seed_file: str
    title_zh: str
    issued: str


#: The five plans by preset name, national first.
PLANS: dict[str, Plan] = {
    p.name: p
    for p in (
        Plan("national", "002", "002_06ed92d19e7d55e1.txt", "“十四五”邮政业发展规划", "2021-12"),
        Plan(
            "guangdong",
            "004",
            "004_d8fd1e1c0f5ef179.txt",
            "广东省邮政业发展“十四五”规划",
            "2021-09",
        ),
        Plan(
            "shanxi", "003", "003_f80a375f444aaf4d.txt", "山西省邮政业发展“十四五”规划", "2021-12"
        ),
        Plan(
            "zhengzhou",
            "001",
            "001_f7d343392146c862.txt",
            "郑州市邮政业发展“十四五”规划",
            "2021-12",
        ),
        Plan(
            "xinyang", "000", "000_4073f7cd30b63775.txt", "信阳市邮政业发展“十四五”规划", "2022-02"
        ),
    )
}
_BY_SOURCE = {p.source: p for p in PLANS.values()}


def normalize_text(text: str) -> str:
    """Drop all whitespace, so a quote matches across the line and page breaks of a seed.

    Parameters
    ----------
    text
        Seed text or a quote.

    Returns
    -------
    str
        ``text`` without any whitespace character.
    """
    return re.sub(r"\s+", "", text)


@dataclass(frozen=True)
class Clause:
    """Where a rule or figure is written: seed file, section, and the sentence quoted.

    Parameters
    ----------
    source
        Seed file id, one of ``"000"`` to ``"004"``.
    clause
        Section of the plan, e.g. ``"五(二) 公共末端工程"``.
    quote
        The Chinese sentence (or table row) as written, at most about 60 characters.
    """

    source: str
    clause: str
    quote: str

    def __post_init__(self) -> None:
        if self.source not in _BY_SOURCE:
            raise ParameterError(
                f"clause source {self.source!r} is not a seed id {sorted(_BY_SOURCE)}"
            )

    @property
    def plan(self) -> str:
        """Preset name of the plan the clause belongs to."""
        return _BY_SOURCE[self.source].name

    @property
    def seed_file(self) -> str:
        """File name of the seed text."""
        return _BY_SOURCE[self.source].seed_file

    def as_record(self) -> dict[str, str]:
        """Return ``{"source", "plan", "clause", "quote"}`` for JSON output."""
        return {
            "source": self.source,
            "plan": self.plan,
            "clause": self.clause,
            "quote": self.quote,
        }


@dataclass(frozen=True)
class Figure:
    """A further number of a plan (express volume, outlets, a 2020 baseline), with its clause.

    Parameters
    ----------
    key
        Identifier, e.g. ``"express_items_per_year"``.
    value
        The number in base units (items, not 亿件).
    unit
        Unit of ``value``.
    year
        The year the number is for (2025 for a target, 2020 for a baseline).
    cite
        Where it is written.
    note
        How to read it, when the plan's wording needs care.
    """

    key: str
    value: float
    unit: str
    year: int
    cite: Clause
    note: str = ""

    def as_record(self) -> dict[str, Any]:
        """Return the figure as a flat dict for JSON output."""
        return {
            "key": self.key,
            "value": self.value,
            "unit": self.unit,
            "year": self.year,
            "note": self.note,
            **self.cite.as_record(),
        }


@dataclass(frozen=True)
class QuantityTarget:
    """A plan's 2025 locker-count target for its whole area, and the population it serves.

    Parameters
    ----------
    plan
        Preset name.
    year
        Target year (2025).
    locker_units
        Smart locker units (组) by ``year``, or ``None`` when the plan sets no unit count.
    compartments
        Compartments (格口) by ``year``, or ``None``.
    cite
        The clause that sets the locker target.
    population
        Resident population of the plan's area, the denominator of :func:`target_share`.
    population_source
        Where ``population`` comes from (the seeds give none: census 2020, an assumption).
    figures
        Other numbers of the plan (express volume, end outlets, 2020 baselines), each traced.
    """

    plan: str
    year: int
    locker_units: int | None
    compartments: int | None
    cite: Clause
    population: int
    population_source: str
    figures: tuple[Figure, ...] = ()

    def figure(self, key: str) -> Figure | None:
        """Return the figure named ``key``, or ``None`` when the plan has none."""
        return next((f for f in self.figures if f.key == key), None)

    def describe(self) -> str:
        """Return the target in one line with its clause, e.g. for ``siting rules``."""
        counts = [
            f"{n:,} {what}"
            for n, what in (
                (self.locker_units, "locker units"),
                (self.compartments, "compartments"),
            )
            if n is not None
        ] or ["no locker count (coverage target)"]
        return (
            f"{self.plan} {self.year}: {', '.join(counts)} "
            f"[{self.cite.source} {self.cite.clause}: {self.cite.quote}]"
        )

    def as_record(self) -> dict[str, Any]:
        """Return the target, its clause and its figures as a dict for ``summary.json``."""
        return {
            "plan": self.plan,
            "year": self.year,
            "locker_units": self.locker_units,
            "compartments": self.compartments,
            "population": self.population,
            "population_source": self.population_source,
            **self.cite.as_record(),
            "figures": [f.as_record() for f in self.figures],
        }


def _c(source: str, clause: str, quote: str) -> Clause:
    return Clause(source, clause, quote)


#: The 2025 targets by preset name (the national plan sets no locker count).
TARGETS: dict[str, QuantityTarget] = {
    "xinyang": QuantityTarget(
        "xinyang",
        2025,
        None,
        16_000,
        _c("000", "三(四)1 行业发展规模", "建成智能快件箱格口 16000 个"),
        6_234_401,
        f"{CENSUS_2020}, 信阳市 (assumption: the plan states no population)",
        (
            Figure(
                "express_items_per_year",
                0.92e8,
                "items/year",
                2025,
                _c("000", "三(四) 主要指标表", "快递业业务量（亿件） 0.52 0.92"),
            ),
            Figure(
                "items_per_resident_per_year",
                13,
                "items/resident/year",
                2025,
                _c("000", "三(四) 主要指标表", "全市人均邮件快件量（件） 8.08 13"),
            ),
            Figure(
                "locker_units_2020",
                240,
                "units",
                2020,
                _c("000", "一(一)2 行业服务能力不断提升", "全市智能快件箱累计投入使用 240 组"),
            ),
            Figure(
                "community_stations_2020",
                418,
                "stations",
                2020,
                _c("000", "一(一)2 行业服务能力不断提升", "共建设社区快递末端综合服务站 418 个"),
            ),
            Figure(
                "village_points_2020",
                2_086,
                "points",
                2020,
                _c("000", "一(一)2 行业服务能力不断提升", "设立农村快递公共取送点数量 2086 个"),
            ),
        ),
    ),
    "shanxi": QuantityTarget(
        "shanxi",
        2025,
        9_000,
        160_000,
        _c("003", "二(四)3 基础网络", "智能快件箱、智能信包箱 9000 组，有效格口 16 万个"),
        34_915_616,
        f"{CENSUS_2020}, 山西省 (assumption: the plan states no population)",
        (
            Figure(
                "express_items_per_year",
                9.5e8,
                "items/year",
                2025,
                _c("003", "专栏1 主要指标", "快递业务量（亿件） 5.4 9.5"),
            ),
            Figure(
                "end_outlets",
                8_000,
                "outlets (more than)",
                2025,
                _c(
                    "003",
                    "专栏1 主要指标",
                    "快递许可企业、备案分支机构及末端网点（个） 6000 >8000",
                ),
            ),
            Figure(
                "express_logistics_parks",
                25,
                "parks (more than)",
                2025,
                _c("003", "专栏1 主要指标", "快递物流园区（个） 16 >25"),
            ),
            Figure(
                "locker_units_2020",
                5_027,
                "units",
                2020,
                _c("003", "一(一)1(5) 快递规模和能力不断壮大提升", "运营智能快件箱 5027 组"),
            ),
        ),
    ),
    "guangdong": QuantityTarget(
        "guangdong",
        2025,
        200_000,
        None,
        _c("004", "表1 发展指标 第7项", "智能快件箱 | 万组 | 6 | 20"),
        126_012_510,
        f"{CENSUS_2020}, 广东省 (assumption: the plan states no population)",
        (
            Figure(
                "express_items_per_year",
                480e8,
                "items/year",
                2025,
                _c("004", "表1 发展指标 第2项", "快递业务量 | 亿件 | 220.8 | 480"),
            ),
            Figure(
                "items_per_resident_per_year",
                300,
                "items/resident/year (more than)",
                2025,
                _c("004", "二(三) 发展质效显著优化", "年人均寄递业务量突破 300 件"),
            ),
            Figure(
                "end_outlets",
                40_000,
                "outlets",
                2025,
                _c("004", "表1 发展指标 第8项", "末端服务网点 | 个 | 20000 | 40000"),
            ),
            Figure(
                "locker_units_2020",
                61_000,
                "units",
                2020,
                _c("004", "一(一) 基础设施更加完善", "投入运营智能快件箱 6.1 万组，箱递率达 10%"),
            ),
            Figure(
                "locker_delivery_share_2020",
                0.10,
                "share of parcels",
                2020,
                _c("004", "一(一) 基础设施更加完善", "投入运营智能快件箱 6.1 万组，箱递率达 10%"),
            ),
        ),
    ),
    "zhengzhou": QuantityTarget(
        "zhengzhou",
        2025,
        None,
        None,
        _c("001", "专栏4 快递“入区”工程", "全市智能快件箱居民区、商业区、政务区等实现全覆盖"),
        12_600_574,
        f"{CENSUS_2020}, 郑州市 (assumption: the plan states no population)",
        (
            Figure(
                "smart_terminals",
                2_500_000,
                "组 as written (more than)",
                2025,
                _c("001", "二(四)2 基础网络", "智能收投终端超过 250 万组"),
                note="one per 5 residents if read as units; the 2020 stock was 52万 "
                "compartments, so this likely counts compartments: not used as a target",
            ),
            Figure(
                "community_end_outlets",
                20_000,
                "outlets (more than)",
                2025,
                _c("001", "专栏4 快递“入区”工程", "全市城市社区末端综合服务网点累计超过2万个"),
            ),
            Figure(
                "express_items_per_year",
                122e8,
                "items/year",
                2025,
                _c("001", "二(四)1 规模实力", "快递服务业务量达到 122 亿件"),
            ),
            Figure(
                "daily_peak_items",
                2e7,
                "items/day (more than)",
                2025,
                _c("001", "二(四)2 基础网络", "形成日峰值超过 2000 万件的处理能力"),
            ),
            Figure(
                "compartments_2020",
                520_000,
                "compartments (more than)",
                2020,
                _c(
                    "001",
                    "一(一)2 服务能力显著增强",
                    "全市智能快件箱累计投入使用格口数超过 52 万个",
                ),
            ),
        ),
    ),
}


def target_share(
    target: QuantityTarget,
    residents: float,
    *,
    planned_units: int | None = None,
    planned_compartments: int | None = None,
) -> dict[str, Any]:
    """Scale a plan's locker target to a study area by its residents, and compare a plan with it.

    The share is ``residents / target.population``; the study area's part of the target is the
    plan's units and compartments times that share. With ``planned_units`` or
    ``planned_compartments`` (what a siting run built, existing lockers included), the result
    also gives the ratio planned / share (1.0 = on target).

    Parameters
    ----------
    target
        The plan's target (``RuleSet.target``).
    residents
        Residents of the study area.
    planned_units, planned_compartments
        Locker units and compartments in the study area's plan, if known.

    Returns
    -------
    dict
        ``plan``, ``year``, ``residents``, ``population``, ``population_source``, ``share``,
        ``locker_units`` and ``compartments`` (the study area's share, ``None`` where the plan
        sets none), ``planned_units``, ``planned_compartments``, ``units_ratio``,
        ``compartments_ratio`` (``None`` when not computable), ``source``, ``clause``, ``quote``.

    Raises
    ------
    ParameterError
        If ``residents`` is negative, not finite, or more than the plan's population, or a
        planned count is negative.
    """
    if not math.isfinite(residents) or residents < 0:
        raise ParameterError(f"residents={residents!r} must be a finite number >= 0")
    if residents > target.population:
        raise ParameterError(
            f"residents={residents:,.0f} exceed the population of the {target.plan} plan's area "
            f"({target.population:,}); pick the preset of the plan that covers the study area"
        )
    for name, value in (
        ("planned_units", planned_units),
        ("planned_compartments", planned_compartments),
    ):
        if value is not None and value < 0:
            raise ParameterError(f"{name}={value!r} must be >= 0")
    share = residents / target.population
    units = None if target.locker_units is None else target.locker_units * share
    comps = None if target.compartments is None else target.compartments * share

    def ratio(planned: int | None, due: float | None) -> float | None:
        return None if planned is None or not due else planned / due

    return {
        "plan": target.plan,
        "year": target.year,
        "residents": residents,
        "population": target.population,
        "population_source": target.population_source,
        "share": share,
        "locker_units": units,
        "compartments": comps,
        "planned_units": planned_units,
        "planned_compartments": planned_compartments,
        "units_ratio": ratio(planned_units, units),
        "compartments_ratio": ratio(planned_compartments, comps),
        **target.cite.as_record(),
    }
