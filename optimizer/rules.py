"""The plan rules as data: one preset per plan, every rule traced to the clause of its plan.

Ids follow ``PLAN_RULES.md``: R1 to R7 are hard rules (constraints), G1 to G5 coverage goals.
A scenario picks a preset and may override values::

    rules = preset("xinyang", overrides={"R2": (1.0, 1.2)})
    rules["R2"].value, rules["R2"].clause, rules.target.compartments

Which clause a preset applies
-----------------------------
A planner applies the plan of the place (a Xinyang planner: Xinyang's plan) and, above it, the
national plan. Each rule of a preset therefore cites, in this order:

1. the preset's own plan, where that plan states the rule *with its number* (a layout of one
   station per tier, such as 000 四(一)3 "县级分拨+乡镇营业集散+村级营业", counts as one each);
2. otherwise the national plan, where it does;
3. otherwise the one plan that quantifies the rule. That is Guangdong's plan (004) for R1 (15 m²),
   R2 (1 to 1.3 compartments per daily delivery), R3 (1 to 2 stations per village) and R6
   (automation from 50,000 items a day): no other plan of the five gives these numbers. R5
   (one centre per county) is stated with its count only by Shanxi (003 专栏5), G1 (lockers
   cover urban residential areas) only by Guangdong and Zhengzhou.

A rule cited from another plan is marked ``inherited_from`` (that plan's name), and ``also``
lists the clauses of the preset's own plan (or the national plan) that state the rule without
its number, so the output shows both the local mandate and where the number comes from.

Where the own plan is stricter or different, its number wins: Shanxi builds *one* village
point per administrative village (003 专栏5 "原则上每个行政村设立一个"), so R3 is (1, 1); in
Zhengzhou every processing centre is automated (001 专栏3 "处理中心自动化设备使用率达 100%"), so
the R6 threshold is 0 items/day; G4 (villages reached) is > 90 % in the national and Shanxi
plans and 100 % in Guangdong, Zhengzhou and Xinyang.

Every preset carries R1 to R7 (the models need them) and G1, G3, G4, G5. G2 (lockers also in
commercial and government areas) is Zhengzhou's own widening of G1 and is not borrowed by the
other presets: their plans do not ask for it.

G1's share: Guangdong's clause asks *basic* full coverage (004 二(三)
"城市住宅区智能快件箱基本全覆盖"); "基本" is read as at least :data:`BASICALLY_FULL` = 95 % of
the daily parcels of residential areas within a locker's walk (a stated assumption; override it
per scenario). Zhengzhou asks full coverage (001 专栏4 "实现全覆盖"): 100 %.

Values: shares are fractions (0.9 for "> 90 %", a floor); a ``(low, high)`` tuple is an
inclusive range; qualitative goals (G3, G5) have ``value=None`` and cannot be overridden.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from geodata.errors import ParameterError

from .targets import PLANS, TARGETS, Clause, QuantityTarget

__all__ = ["BASICALLY_FULL", "PRESETS", "R2_RATIO", "RULE_IDS", "WALK_RADIUS_M", "Rule", "RuleSet",
           "RuleValue", "preset"]

log = logging.getLogger(__name__)

RuleValue = float | tuple[float, float] | None

#: Preset names, national first.
PRESETS: tuple[str, ...] = tuple(PLANS)

#: G1's share for "基本全覆盖" (basically full coverage): a stated assumption, see above.
BASICALLY_FULL = 0.95

#: R2: compartments per daily parcel, 1 to 1.3 (004 五(二) "按照社区日均投递量的 1-1.3 倍配设格口").
R2_RATIO: tuple[float, float] = (1.0, 1.3)

#: Longest walk from home to locker by default: the 5-minute walking circle of GB 50180-2018
#: (about 300 m); a parameter of a scenario, not a rule of the plans.
WALK_RADIUS_M = 300.0

#: Every rule id, in display order.
RULE_IDS: tuple[str, ...] = ("R1", "R2", "R3", "R4", "R5", "R6", "R7", "G1", "G2", "G3", "G4", "G5")

# id -> (title_zh, title_en, unit); R ids are constraints, G ids goals
_META: dict[str, tuple[str, str, str]] = {
    "R1": (
        "新建居住社区邮政快递末端综合服务站使用面积",
        "Usable floor area of the end-station of a new residential community, at least",
        "m2",
    ),
    "R2": (
        "智能揽投设施格口数与社区日均投递量之比",
        "Locker compartments per average daily delivery of the community",
        "ratio",
    ),
    "R3": (
        "每个建制村的村级寄递物流综合服务站",
        "Village stations per administrative village",
        "stations per village",
    ),
    "R4": (
        "每个乡镇的快递综合服务站（承担中转）",
        "Township express station (also transfers) per township",
        "stations per township",
    ),
    "R5": (
        "每个县的县级分拨（仓配）中心",
        "County sorting / warehouse-and-distribution centre per county",
        "centres per county",
    ),
    "R6": (
        "分拣中心配置全自动分拣设备的日均处理量门槛",
        "Daily throughput from which a sorting centre has fully automatic sorting",
        "items/day",
    ),
    "R7": (
        "街坊中心配置快递货物集散站",
        "Cargo consolidation station per neighbourhood centre",
        "stations per neighbourhood centre",
    ),
    "G1": (
        "城市住宅区智能快件箱覆盖",
        "Smart-locker coverage of urban residential areas",
        "share",
    ),
    "G2": (
        "居民区、商业区、政务区智能快件箱全覆盖",
        "Smart-locker coverage of residential, commercial and government areas",
        "share",
    ),
    "G3": (
        "老旧小区改造配建智能快件箱、信包箱和末端综合服务站",
        "Lockers, mailboxes and end-stations in renovated old compounds",
        "",
    ),
    "G4": (
        "建制村快递服务通达率",
        "Share of administrative villages reached by express service",
        "share",
    ),
    "G5": (
        "县级分拨、乡镇集散、村级网点三级农村寄递网络",
        "Three-tier rural network: county hub, township station, village point",
        "",
    ),
}

# Every clause a preset cites, quoted exactly from its seed (matched with whitespace removed).
_CLAUSES: dict[str, Clause] = {
    k: Clause(*v)
    for k, v in {
        # Guangdong 004
        "gd_end": (
            "004",
            "五(二) 公共末端工程",
            "新建居住社区应建设使用面积不小于 15 平方米的邮政快递末端综合服务站",
        ),
        "gd_ratio": (
            "004",
            "五(二) 公共末端工程",
            "智能揽投设施按照社区日均投递量的 1-1.3 倍配设格口",
        ),
        "gd_village": ("004", "五(二) 公共末端工程", "每个建制村建设 1-2 个村级寄递物流综合服务站"),
        "gd_centre": ("004", "五(二) 公共末端工程", "在街坊中心配置快递货物集散站"),
        "gd_sort": (
            "004",
            "二(三) 基础设施扩容增效",
            "日均处理量 5 万件以上的分拣中心全部配置全自动分拣设备",
        ),
        "gd_lockers": (
            "004",
            "二(三) 基础设施扩容增效",
            "城市住宅区智能快件箱基本全覆盖，有条件的农村地区实现村村有箱",
        ),
        "gd_reach": ("004", "二(三) 发展质效显著优化; 表1 第5项", "全省建制村快递服务通达率 100%"),
        "gd_township": ("004", "四(三) 加快农村基础设施建设", "力争实现“一乡一所，一村一站”"),
        "gd_rural": (
            "004",
            "四(三) 加快农村基础设施建设",
            "加强以县级分拨中心、乡镇服务网点、村级寄递物流综合服务站为支撑的农村基础设施建设",
        ),
        "gd_old": (
            "004",
            "四(三) 加快城市末端基础建设",
            "在城镇老旧小区改造中，开展智能快件箱、智能信包箱和邮政快递末端综合服务站改造建设",
        ),
        # National 002
        "cn_community": (
            "002",
            "二(三)10 建强寄递末端网络",
            "推动城市居住社区配建邮政快递服务场所和设施",
        ),
        "cn_centre": ("002", "二(三)10 建强寄递末端网络", "在街坊中心配置快递货物集散站"),
        "cn_old": (
            "002",
            "二(三)10 建强寄递末端网络",
            "在城镇老旧小区改造中，因地制宜开展智能快件箱、智能信包箱和邮政快递末端综合服务站改造建设",
        ),
        "cn_rural": (
            "002",
            "二(三)10 建强寄递末端网络",
            "加快完善农村寄递物流体系，大力推进村级寄递物流综合服务站建设",
        ),
        "cn_village": ("002", "专栏6 快递进村工程", "支持村级寄递物流综合服务站建设"),
        "cn_township": ("002", "专栏6 快递进村工程", "实现乡乡有网点、村村有服务"),
        "cn_reach": ("002", "专栏1 主要指标 第5项", "建制村快递服务通达率（%） 50 >90"),
        "cn_terminals": ("002", "一(三)2 基础网络", "城市地区智能收投设施更好满足多元化需求"),
        "cn_smart": (
            "002",
            "专栏8 智慧邮政建设工程",
            "发展智能收投、智能仓储、机器人分拣、无人化运输",
        ),
        # Shanxi 003
        "sx_county": ("003", "专栏5 全省农村三级寄递物流体系建设", "每个县建成一个县域仓配中心"),
        "sx_township": (
            "003",
            "专栏5 全省农村三级寄递物流体系建设",
            "每个乡镇建设或改造提升一个标准化快递综合服务站、承担中转功能",
        ),
        "sx_village": (
            "003",
            "专栏5 全省农村三级寄递物流体系建设",
            "原则上每个行政村设立一个标准化村级快递便民服务点",
        ),
        "sx_rural": ("003", "三(三)7 促进城乡区域协调发展", "开展全省农村三级寄递物流体系建设"),
        "sx_reach": ("003", "专栏1 主要指标 第7项", "建制村快递服务通达率（%） 50 >90"),
        "sx_old": (
            "003",
            "专栏3 城镇小区邮政设施建设改造工程",
            "为基础设施不完善的老旧小区增设智能快件箱、智能信包箱、公共服务站等便民寄递服务设施",
        ),
        "sx_end": (
            "003",
            "三(一)3 完善寄递末端网络服务水平",
            "鼓励邮政快递企业和社会第三方企业共同建设末端综合服务场所",
        ),
        "sx_nodes": (
            "003",
            "三(一)3 完善寄递末端网络服务水平",
            "加快社区、高等院校、商务中心、地铁站周边等末端节点布局",
        ),
        "sx_sort": ("003", "三(五)13 加快行业数字化转型", "在大中型中转场地，增加自动分拣线"),
        # Zhengzhou 001
        "zz_new": (
            "001",
            "三(三)3 优化城市寄递服务网络",
            "落实在新城区开发、旧城区改造中同步开展智能快件箱、智能信包箱和邮政快递末端综合服务网点规划建设",
        ),
        "zz_lockers": (
            "001",
            "专栏4 快递“入区”工程",
            "全市智能快件箱居民区、商业区、政务区等实现全覆盖",
        ),
        "zz_rural": (
            "001",
            "专栏5 快递“进村”工程",
            "“县级处理中心+乡镇营业集散+村级综合业务”的布局",
        ),
        "zz_reach": (
            "001",
            "专栏5 快递“进村”工程",
            "全市实现乡乡有网点、村村通快递，建制村快递通达率达100%",
        ),
        "zz_sort": ("001", "专栏3 寄递业务枢纽能力提升工程", "处理中心自动化设备使用率达 100%"),
        # Xinyang 000
        "xy_rural": (
            "000",
            "四(一)3 加快农村服务网络建设",
            "“县级分拨+乡镇营业集散+村级营业”的布局",
        ),
        "xy_reach": ("000", "三(四) 主要指标表", "建制村快递服务通达率（%） 71.86 100"),
        "xy_reach2": ("000", "四(一)3 加快农村服务网络建设", "全市建制村快递通达率达到 100%"),
        "xy_urban": ("000", "四(一)2 优化城市服务网络布局", "解决城市末端投递“最后一百米”难题"),
        "xy_sort": ("000", "四(四) 创新应用，加快产业数字转型", "自动分拣与自动化装卸系统"),
    }.items()
}

_SEED_FILE = {p.source: p.seed_file for p in PLANS.values()}

_Spec = tuple[RuleValue, str, tuple[str, ...]]  # value, clause key, also keys

# preset -> id -> (value, clause that fixes the value, clauses of the own/national plan stating it)
_TABLE: dict[str, dict[str, _Spec]] = {
    "national": {
        "R1": (15.0, "gd_end", ("cn_community",)),
        "R2": (R2_RATIO, "gd_ratio", ()),
        "R3": ((1.0, 2.0), "gd_village", ("cn_village",)),
        "R4": (1.0, "cn_township", ()),
        "R5": (1.0, "sx_county", ("cn_rural",)),
        "R6": (50_000.0, "gd_sort", ("cn_smart",)),
        "R7": (1.0, "cn_centre", ()),
        "G1": (BASICALLY_FULL, "gd_lockers", ("cn_terminals",)),
        "G3": (None, "cn_old", ()),
        "G4": (0.9, "cn_reach", ()),
        "G5": (None, "cn_rural", ("cn_township",)),
    },
    "guangdong": {
        "R1": (15.0, "gd_end", ()),
        "R2": (R2_RATIO, "gd_ratio", ()),
        "R3": ((1.0, 2.0), "gd_village", ("gd_township",)),
        "R4": (1.0, "gd_township", ()),
        "R5": (1.0, "gd_rural", ()),
        "R6": (50_000.0, "gd_sort", ()),
        "R7": (1.0, "gd_centre", ("cn_centre",)),
        "G1": (BASICALLY_FULL, "gd_lockers", ()),
        "G3": (None, "gd_old", ("cn_old",)),
        "G4": (1.0, "gd_reach", ()),
        "G5": (None, "gd_rural", ()),
    },
    "shanxi": {
        "R1": (15.0, "gd_end", ("sx_end",)),
        "R2": (R2_RATIO, "gd_ratio", ()),
        "R3": ((1.0, 1.0), "sx_village", ()),
        "R4": (1.0, "sx_township", ()),
        "R5": (1.0, "sx_county", ()),
        "R6": (50_000.0, "gd_sort", ("sx_sort",)),
        "R7": (1.0, "cn_centre", ()),
        "G1": (BASICALLY_FULL, "gd_lockers", ("sx_nodes",)),
        "G3": (None, "sx_old", ()),
        "G4": (0.9, "sx_reach", ()),
        "G5": (None, "sx_rural", ("sx_county", "sx_township")),
    },
    "zhengzhou": {
        "R1": (15.0, "gd_end", ("zz_new",)),
        "R2": (R2_RATIO, "gd_ratio", ()),
        "R3": ((1.0, 2.0), "gd_village", ("zz_reach",)),
        "R4": (1.0, "zz_reach", ("zz_rural",)),
        "R5": (1.0, "zz_rural", ()),
        "R6": (0.0, "zz_sort", ()),
        "R7": (1.0, "cn_centre", ()),
        "G1": (1.0, "zz_lockers", ()),
        "G2": (1.0, "zz_lockers", ()),
        "G3": (None, "zz_new", ()),
        "G4": (1.0, "zz_reach", ()),
        "G5": (None, "zz_rural", ()),
    },
    "xinyang": {
        "R1": (15.0, "gd_end", ("cn_community",)),
        "R2": (R2_RATIO, "gd_ratio", ()),
        "R3": ((1.0, 2.0), "gd_village", ("xy_rural",)),
        "R4": (1.0, "xy_rural", ()),
        "R5": (1.0, "xy_rural", ()),
        "R6": (50_000.0, "gd_sort", ("xy_sort",)),
        "R7": (1.0, "cn_centre", ()),
        "G1": (BASICALLY_FULL, "gd_lockers", ("xy_urban",)),
        "G3": (None, "cn_old", ()),
        "G4": (1.0, "xy_reach", ("xy_reach2",)),
        "G5": (None, "xy_rural", ()),
    },
}


@dataclass(frozen=True)
class Rule:
    """One plan rule as a preset applies it.

    Parameters
    ----------
    id
        ``"R1"`` to ``"R7"`` (constraints) or ``"G1"`` to ``"G5"`` (goals).
    title_zh, title_en
        What the rule asks.
    kind
        {"constraint", "goal"}.
    value
        A number, an inclusive ``(low, high)`` range, or ``None`` for a qualitative goal.
    unit
        Unit of ``value`` (``"m2"``, ``"ratio"``, ``"share"``, ``"items/day"``...).
    source
        Seed file id of the clause that fixes the value (``"004"``).
    clause
        Section of that plan (``"五(二) 公共末端工程"``).
    quote
        The sentence of the clause, quoted exactly.
    plan
        The preset applying the rule (``"xinyang"``).
    inherited_from
        Name of the plan the clause comes from when it is not ``plan`` itself, else ``None``.
    also
        Clauses of ``plan`` (or of the national plan) that state the rule without its number.
    plan_value
        The value the plans give; differs from ``value`` after an override.
    """

    id: str
    title_zh: str
    title_en: str
    kind: Literal["constraint", "goal"]
    value: RuleValue
    unit: str
    source: str
    clause: str
    quote: str
    plan: str
    inherited_from: str | None = None
    also: tuple[Clause, ...] = ()
    plan_value: RuleValue = None

    @property
    def overridden(self) -> bool:
        """Whether a scenario replaced the plans' value."""
        return self.value != self.plan_value

    @property
    def low(self) -> float:
        """The lower end of a range, or the value itself.

        Raises
        ------
        ParameterError
            If the rule is qualitative (``value is None``).
        """
        return _ends(self)[0]

    @property
    def high(self) -> float:
        """The upper end of a range, or the value itself.

        Raises
        ------
        ParameterError
            If the rule is qualitative (``value is None``).
        """
        return _ends(self)[1]

    @property
    def value_text(self) -> str:
        """The value for a table: ``"15"``, ``"1–1.3"``, or ``"—"`` for a qualitative goal."""
        if self.value is None:
            return "—"
        low, high = _ends(self)
        return f"{low:g}" if low == high else f"{low:g}–{high:g}"

    def as_record(self) -> dict[str, Any]:
        """Return the rule as a JSON-ready dict (ranges as lists)."""

        def as_json(v: RuleValue) -> float | list[float] | None:
            return list(v) if isinstance(v, tuple) else v

        return {
            "id": self.id,
            "kind": self.kind,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "value": as_json(self.value),
            "unit": self.unit,
            "plan": self.plan,
            "source": self.source,
            "seed_file": _SEED_FILE[self.source],
            "clause": self.clause,
            "quote": self.quote,
            "inherited_from": self.inherited_from,
            "also": [c.as_record() for c in self.also],
            "plan_value": as_json(self.plan_value),
            "overridden": self.overridden,
        }


def _ends(rule: Rule) -> tuple[float, float]:
    if rule.value is None:
        raise ParameterError(f"rule {rule.id} ({rule.title_en}) is qualitative and has no value")
    if isinstance(rule.value, tuple):
        return rule.value
    return rule.value, rule.value


def _build(name: str) -> tuple[Rule, ...]:
    rules = []
    for rid in RULE_IDS:
        if rid not in _TABLE[name]:
            continue
        value, key, also = _TABLE[name][rid]
        title_zh, title_en, unit = _META[rid]
        kind: Literal["constraint", "goal"] = "constraint" if rid[0] == "R" else "goal"
        cite = _CLAUSES[key]
        rules.append(
            Rule(
                rid,
                title_zh,
                title_en,
                kind,
                value,
                unit,
                cite.source,
                cite.clause,
                cite.quote,
                plan=name,
                inherited_from=None if cite.plan == name else cite.plan,
                also=tuple(_CLAUSES[k] for k in also),
                plan_value=value,
            )
        )
    return tuple(rules)


def _number(x: object) -> float | None:
    """Return ``x`` as a float when it is a finite real number >= 0 (not a bool), else None."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) and x >= 0 else None


def _check_value(rule: Rule, new: object) -> tuple[RuleValue, str | None]:
    """Return the override as the rule's value type, or ``(None, fault)``."""
    where = f"{rule.id} ({rule.title_en}, unit {rule.unit or '-'})"
    if rule.value is None:
        return None, f"{where} is qualitative: it has no value to override"
    if isinstance(rule.value, tuple):
        pair = list(new) if isinstance(new, list | tuple) else []
        low, high = (_number(pair[0]), _number(pair[1])) if len(pair) == 2 else (None, None)
        if low is None or high is None or low > high:
            return None, f"{where} takes a range (low, high) with 0 <= low <= high, got {new!r}"
        if rule.unit == "stations per village" and low < 1:
            return None, f"{where}: every village needs a station (low >= 1), got {new!r}"
        return (low, high), None
    got = _number(new)
    if got is None:
        return None, f"{where} takes one number >= 0, got {new!r}"
    if rule.unit == "share" and got > 1:
        return None, f"{where} is a share between 0 and 1, got {new!r}"
    return got, None


@dataclass(frozen=True)
class RuleSet:
    """The rules one preset applies, and its plan's 2025 locker target.

    Build it with :func:`preset`. Iterating yields the rules in id order (R1...R7, G1...G5);
    ``rules["R2"]`` is a rule the preset must carry, ``rules.get("G2")`` one it may lack.

    Parameters
    ----------
    name
        Preset name, one of :data:`PRESETS`.
    rules
        The rules, in id order.
    target
        The plan's 2025 quantity target, ``None`` for the national plan (which sets no count).
    """

    name: str
    rules: tuple[Rule, ...]
    target: QuantityTarget | None

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __contains__(self, rule_id: object) -> bool:
        return any(r.id == rule_id for r in self.rules)

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids of the rules in this preset."""
        return tuple(r.id for r in self.rules)

    def get(self, rule_id: str) -> Rule | None:
        """Return the rule ``rule_id``, or ``None`` when this preset does not carry it (G2).

        Parameters
        ----------
        rule_id
            ``"R1"`` to ``"R7"``, ``"G1"`` to ``"G5"``.

        Returns
        -------
        Rule or None
            The rule as this preset applies it.

        Raises
        ------
        ParameterError
            If ``rule_id`` is not a rule id at all (a typo).
        """
        if rule_id not in RULE_IDS:
            raise ParameterError(f"unknown rule id {rule_id!r}; rule ids are {', '.join(RULE_IDS)}")
        return next((r for r in self.rules if r.id == rule_id), None)

    def __getitem__(self, rule_id: str) -> Rule:
        """Return the rule ``rule_id``, which this preset must carry.

        Parameters
        ----------
        rule_id
            ``"R1"`` to ``"R7"``, ``"G1"`` to ``"G5"``.

        Returns
        -------
        Rule
            The rule as this preset applies it.

        Raises
        ------
        ParameterError
            If ``rule_id`` is not a rule id, or this preset does not carry it (G2 outside
            Zhengzhou).
        """
        rule = self.get(rule_id)
        if rule is None:
            raise ParameterError(f"the {self.name} preset carries no rule {rule_id}")
        return rule

    def with_overrides(self, overrides: Mapping[str, object]) -> RuleSet:
        """Return a copy with some values replaced (a scenario's choices); clauses are kept.

        Parameters
        ----------
        overrides
            Rule id to new value: a number, or a ``(low, high)`` pair (a list is accepted) for a
            range rule. Shares are fractions between 0 and 1.

        Returns
        -------
        RuleSet
            A new rule set; each overridden rule keeps its plan value in ``plan_value``.

        Raises
        ------
        ParameterError
            Naming every unknown id, id absent from the preset, and value of the wrong type or
            out of range, all at once.
        """
        faults: list[str] = []
        new_values: dict[str, RuleValue] = {}
        for rid, new in overrides.items():
            rule = self.get(rid) if rid in RULE_IDS else None
            if rid not in RULE_IDS:
                faults.append(f"unknown rule id {rid!r} (rule ids are {', '.join(RULE_IDS)})")
            elif rule is None:
                faults.append(
                    f"rule {rid} is not part of preset {self.name!r} ({', '.join(self.ids)})"
                )
            else:
                value, fault = _check_value(rule, new)
                if fault:
                    faults.append(fault)
                else:
                    new_values[rid] = value
        if faults:
            raise ParameterError(f"rule overrides for preset {self.name!r}: " + "; ".join(faults))
        rules = tuple(replace(r, value=new_values[r.id]) if r.id in new_values else r for r in self)
        if new_values:
            log.info(
                "rules: preset %s, %d override(s): %s",
                self.name,
                len(new_values),
                ", ".join(f"{k}={v}" for k, v in new_values.items()),
            )
        return replace(self, rules=rules)

    def as_records(self) -> list[dict[str, Any]]:
        """Return the rules as JSON-ready dicts (for ``summary.json`` and report tables).

        Returns
        -------
        list of dict
            One dict per rule with ``id``, ``kind``, ``title_zh``, ``title_en``, ``value``,
            ``unit``, ``plan``, ``source``, ``seed_file``, ``clause``, ``quote``,
            ``inherited_from``, ``also``, ``plan_value``, ``overridden``.
        """
        return [r.as_record() for r in self]


_PRESETS: dict[str, RuleSet] = {n: RuleSet(n, _build(n), TARGETS.get(n)) for n in PRESETS}


def preset(name: str, *, overrides: Mapping[str, object] | None = None) -> RuleSet:
    """Return the rules of one plan, optionally with a scenario's overrides.

    Parameters
    ----------
    name
        {"national", "guangdong", "shanxi", "zhengzhou", "xinyang"} (case-insensitive).
    overrides
        Rule id to value, see :meth:`RuleSet.with_overrides`.

    Returns
    -------
    RuleSet
        The preset's rules and its 2025 target.

    Raises
    ------
    ParameterError
        If ``name`` is not a preset (the message lists them), or an override is invalid.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in _PRESETS:
        raise ParameterError(f"unknown rules preset {name!r}; presets are {', '.join(PRESETS)}")
    rules = _PRESETS[key]
    return rules.with_overrides(overrides) if overrides else rules
