"""Check the coverage goals G2 and G3 of a plan, each place on its own and the area as a whole.

G2 (seed 001 专栏4 快递“入区”工程: 全市智能快件箱居民区、商业区、政务区等实现全覆盖): every
commercial and government area (:mod:`geodata.commercial_areas`) has a locker of the plan
within the lockers' walking radius; the share of such areas must reach the rule's value (1.0,
全覆盖). Residential areas, the third part of the clause, are rule G1's check.

G3 (seed 002 二(三)10, 003 专栏3, 004 四(三): lockers, mailboxes and end-stations in old
compounds under renovation): each old compound (:mod:`geodata.old_compounds`) passes when
every one of its homes is served by a locker (within the walking radius) and, when the
stations tier is planned, it has a community end-station of its own. Smart mailboxes (信包箱)
are not sited by this tool, so they are not checked; the record says so.

Where the data to judge a goal is missing, the goal's record says "not evaluated" and names the
data that would decide it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

from .compliance import not_evaluated_record, rule_record
from .rules import Rule, RuleSet

__all__ = ["SEARCH_FACTOR", "commercial_area_compliance", "old_compound_compliance"]

#: Walks to the nearest locker are measured up to this many times the walking radius (a
#: reporting bound: farther ones read "more than").
SEARCH_FACTOR = 3.0

#: Chinese names of the kinds of :data:`geodata.commercial_areas.AREA_KINDS`.
KIND_ZH = {"commercial": "商业区", "retail": "商业区（零售）", "government": "政务区",
           "government_office": "政府机关", "townhall": "政府驻地"}

_G2_NEED = ("commercial or government areas in the study area (OSM landuse=commercial|retail|"
            "governmental, office=government or amenity=townhall)",
            "研究区内的商业区或政务区（OSM landuse=commercial|retail|governmental、"
            "office=government 或 amenity=townhall）")
_G3_NEED = ("which compounds are old (老旧小区): a planner's communities table with an 'old' "
            "(yes/no) or 'built_year' column, or OSM start_date on the residential buildings",
            "哪些小区是老旧小区：规划方社区表的 old（是/否）或 built_year 列，或住宅楼的 OSM "
            "start_date 标签")


def commercial_area_compliance(
    rules: RuleSet,
    *,
    names: Sequence[str],
    kinds: Sequence[str],
    ids: Sequence[str],
    nearest_m: np.ndarray,
    radius_m: float,
) -> list[dict]:
    """G2 records: one per commercial or government area, and one for the study area.

    Parameters
    ----------
    rules
        The rule set; without G2 (every preset but Zhengzhou's) there is no record.
    names, kinds, ids
        Display name, kind and OSM id (kept as ``osm_id``) of each area.
    nearest_m
        Walk from each area to the nearest locker of the plan; ``inf`` where none is within
        ``SEARCH_FACTOR * radius_m``.
    radius_m
        The lockers' walking radius.

    Returns
    -------
    list of dict
        The study-area record first (``threshold`` = the rule's share), then one per area;
        a single "not evaluated" record when there is no area.
    """
    g2 = rules.get("G2")
    if g2 is None:
        return []
    if not len(names):
        return [not_evaluated_record(g2, need=_G2_NEED[0], need_zh=_G2_NEED[1])]
    near = np.asarray(nearest_m, dtype=float)
    ok = near <= radius_m
    share = float(ok.mean())
    required = f"a locker within {radius_m:g} m walk of each commercial and government area"
    records = [rule_record(
        g2, required=f"{required}: at least {g2.low:.0%} of them (residential areas: G1)",
        achieved=f"{int(ok.sum())} of {len(ok)} areas ({share:.1%}) have a locker within "
        f"{radius_m:g} m walk",
        achieved_zh=f"{len(ok)} 个商业区、政务区中 {int(ok.sum())} 个（{share:.1%}）步行 "
        f"{radius_m:g} 米内有快件箱",
        passed=share >= g2.low - 1e-9, threshold=g2.low)]
    far = f"more than {SEARCH_FACTOR * radius_m:g} m"
    far_zh = f"超过 {SEARCH_FACTOR * radius_m:g} 米"
    for name, kind, osm_id, d, hit in zip(names, kinds, ids, near, ok, strict=True):
        walk, walk_zh = (f"{d:.0f} m", f"{d:.0f} 米") if np.isfinite(d) else (far, far_zh)
        records.append(rule_record(
            g2, required=f"a locker within {radius_m:g} m walk",
            achieved=f"{kind}: nearest locker {walk} walk",
            achieved_zh=f"{KIND_ZH.get(kind, kind)}：最近的快件箱步行 {walk_zh}",
            passed=bool(hit), place=name, osm_id=osm_id,
            reason=None if hit else f"no locker within {radius_m:g} m walk",
            reason_zh=None if hit else f"步行 {radius_m:g} 米内无快件箱"))
    return records


def old_compound_compliance(
    rules: RuleSet,
    old: pd.DataFrame,
    *,
    community: np.ndarray,
    served: np.ndarray,
    stations: Collection[str] | None,
    names: dict[str, str],
    radius_m: float,
) -> list[dict]:
    """G3 records: one per old compound, and one for the study area.

    Parameters
    ----------
    rules
        The rule set; without G3 there is no record.
    old
        From :func:`geodata.old_compounds.old_compounds` (``old``, ``evidence``,
        ``evidence_zh`` by community).
    community, served
        Per demand point: its community, and whether a locker of the plan serves it.
    stations
        Communities with an end-station of the plan; ``None`` when the stations tier is not
        planned (then stations are not checked, and the record says so).
    names
        Display name per community id.
    radius_m
        The lockers' walking radius.

    Returns
    -------
    list of dict
        The study-area record first, then one per old compound; a single "not evaluated"
        record when nothing says which compounds are old.
    """
    g3 = rules.get("G3")
    if g3 is None:
        return []
    known = old["old"].dropna().astype(bool)
    if known.empty:
        return [not_evaluated_record(g3, need=_G3_NEED[0], need_zh=_G3_NEED[1])]
    station_part = ("and an end-station of its own" if stations is not None else
                    "(end-stations not checked: the stations tier is not planned)")
    required = (f"every home of each old compound within {radius_m:g} m walk of a locker "
                f"{station_part}; smart mailboxes (信包箱) are not sited, not checked")
    community = np.asarray(community).astype(str)
    unserved = community[~np.asarray(served, dtype=bool)]
    records = [
        _old_compound_record(g3, k, old.loc[k], homes=int((community == k).sum()),
                             unserved=int((unserved == k).sum()),
                             station=None if stations is None else k in stations,
                             name=names.get(k, k), required=required, radius_m=radius_m)
        for k in known.index[known.to_numpy()]
    ]
    failed = sum(not r["passed"] for r in records)
    unknown = len(old) - len(known)
    n = len(records)
    records.insert(0, rule_record(
        g3, required=required,
        achieved=f"{n - failed} of {n} old compounds served ({len(known) - n} not old, "
        f"{unknown} with no data on their age)",
        achieved_zh=f"{n} 个老旧小区中 {n - failed} 个达标（{len(known) - n} 个非老旧小区，"
        f"{unknown} 个无建成年代数据）",
        passed=failed == 0))
    return records


def _old_compound_record(rule: Rule, k: str, old: pd.Series, *, homes: int, unserved: int,
                         station: bool | None, name: str, required: str, radius_m: float
                         ) -> dict:
    """Return the G3 record of old compound ``k`` (``station`` None: no stations tier)."""
    faults = []
    if unserved:
        faults.append((f"{unserved} of {homes} homes not within {radius_m:g} m walk of a locker",
                       f"{homes} 栋住宅中 {unserved} 栋步行 {radius_m:g} 米内无快件箱"))
    if station is False:
        faults.append(("no end-station in the compound", "小区内无末端综合服务站"))
    has = {None: ("", ""), True: ("; has an end-station", "；有末端综合服务站"),
           False: ("; no end-station", "；无末端综合服务站")}[station]
    return rule_record(
        rule, required=required,
        achieved=f"{homes - unserved} of {homes} homes served{has[0]} (old by {old['evidence']})",
        achieved_zh=f"{homes} 栋住宅中 {homes - unserved} 栋获服务{has[1]}（{old['evidence_zh']}）",
        passed=not faults, place=name, community=k,
        reason="; ".join(f[0] for f in faults) or None,
        reason_zh="；".join(f[1] for f in faults) or None)
