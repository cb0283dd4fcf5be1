"""Check a plan against the plans' rules: required, achieved, passed, and the clause.

Every record is a dict with the keys ``summary.json`` promises: ``id``, ``clause``,
``required``, ``achieved``, ``passed``, ``evaluated``, ``applicable``, plus ``source`` (seed
file id), ``quote``, and where a rule is checked per place, ``place`` and ``reason``.

A record is in one of four states (:func:`rule_state`): passed, failed, not evaluated (the data
or tier that decides it is missing: ``passed`` None, ``evaluated`` False) or not applicable
(``passed`` None, ``applicable`` False). A rule not evaluated is not failed, and one that does
not apply is not passed: counts of failed rules count only ``passed is False``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from geodata.demand import UNASSIGNED
from geodata.errors import ParameterError

from .lockers import LockerPlan
from .rules import Rule, RuleSet
from .targets import target_share

__all__ = [
    "community_compartments",
    "locker_community_compartments",
    "locker_compliance",
    "RULE_STATES",
    "RuleState",
    "not_applicable_record",
    "not_evaluated_record",
    "rule_record",
    "rule_state",
    "rule_state_counts",
    "target_compliance",
    "unevaluated_records",
]

#: Tolerance of the rule comparisons (solver round-off).
_TOL = 1e-6

#: The state of a record (:func:`rule_state`), in the order reports count them.
RuleState = Literal["passed", "failed", "not evaluated", "not applicable"]
RULE_STATES: tuple[RuleState, ...] = ("passed", "failed", "not evaluated", "not applicable")


def rule_record(
    rule: Rule,
    *,
    required: str,
    achieved: str,
    passed: bool | None,
    achieved_zh: str | None = None,
    **extra: Any,
) -> dict:
    """One compliance record: ``id``, ``clause``, ``required``, ``achieved``, ``passed``, ...

    Parameters
    ----------
    rule
        The rule checked.
    required, achieved
        What the rule asks and what the plan gives, as English text.
    passed
        Whether the rule is met; ``None`` exactly when it is not evaluated or not applicable.
    achieved_zh
        ``achieved`` in Chinese, for Chinese reports (kept as ``achieved_zh``).
    **extra
        ``place``, ``reason`` and other keys; ``None`` values are left out. ``evaluated``
        (default True) is False when the data or tier that decides the rule is missing;
        ``applicable`` (default True) is False when the rule does not apply to the place.

    Returns
    -------
    dict
        JSON-ready record for ``summary.json["rules"]``, with the rule's ``source`` and
        ``quote`` (its wording in the plan), and always ``passed`` (bool or None),
        ``evaluated`` and ``applicable`` (bool).

    Raises
    ------
    ParameterError
        If ``passed`` is None for a rule evaluated and applicable, or a bool for one that is not.
    """
    evaluated = bool(extra.pop("evaluated", True))
    applicable = bool(extra.pop("applicable", True))
    if (passed is None) == (evaluated and applicable):
        raise ParameterError(
            f"{rule.id}: passed={passed!r} with evaluated={evaluated}, applicable={applicable}; "
            "a record is passed or failed exactly when it is evaluated and applicable")
    rec: dict[str, Any] = {"id": rule.id, "clause": f"{rule.source} {rule.clause}",
                           "required": required, "achieved": achieved, "source": rule.source,
                           "quote": rule.quote, "achieved_zh": achieved_zh, **extra}
    out = {k: v for k, v in rec.items() if v is not None}
    out.update(passed=None if passed is None else bool(passed), evaluated=evaluated,
               applicable=applicable)
    return out


def rule_state(record: Mapping[str, Any]) -> RuleState:
    """Return the state of a rule record: passed, failed, not evaluated or not applicable.

    Parameters
    ----------
    record
        A record of ``summary.json["rules"]`` (older summaries may lack ``evaluated`` and
        ``applicable``: they count as True).

    Returns
    -------
    str
        One of :data:`RULE_STATES`.
    """
    if record.get("applicable") is False:
        return "not applicable"
    if record.get("evaluated") is False:
        return "not evaluated"
    return "passed" if record.get("passed") else "failed"


def rule_state_counts(records: Iterable[Mapping[str, Any]]) -> dict[RuleState, int]:
    """Return how many records are in each state (:data:`RULE_STATES`, all keys present).

    Parameters
    ----------
    records
        Rule records.

    Returns
    -------
    dict
        State -> count.
    """
    counts = Counter(rule_state(r) for r in records)
    return {state: counts[state] for state in RULE_STATES}


def _compartment_shares(
    plan: LockerPlan, parcels: np.ndarray, community: np.ndarray
) -> pd.DataFrame:
    """Return each locker's compartments and served parcels by community, one row per share.

    New lockers' compartments go to communities as the model gave them (``plan.attribution_*``,
    :math:`w_{jc}`); the rest of each locker's compartments (all of an existing locker's, and
    the share of homes the model held per locker) goes to the homes not so attributed, in
    proportion to the parcels they send there. Columns ``community``, ``site``, ``new`` (a new
    locker: it has modules), ``served_parcels`` and ``compartments``.
    """
    flow = plan.pair_share * parcels[plan.pair_demand]
    given = pd.MultiIndex.from_arrays([plan.attribution_site,
                                       plan.attribution_community.astype(str)])
    free = flow * ~pd.MultiIndex.from_arrays([plan.pair_site, community[plan.pair_demand]]
                                             ).isin(given)
    size = int(plan.sites.max(initial=-1)) + 1
    rest = np.zeros(size)
    rest[plan.sites] = plan.compartments
    np.subtract.at(rest, plan.attribution_site, plan.attribution_compartments)
    free_load = np.bincount(plan.pair_site, weights=free, minlength=size)
    per_site = np.divide(rest, free_load, out=np.zeros(size), where=free_load > 0)
    new = np.zeros(size, dtype=bool)
    new[plan.sites] = plan.modules > 0
    site = np.r_[plan.pair_site, plan.attribution_site].astype(np.int64)
    return pd.DataFrame({
        "community": np.r_[community[plan.pair_demand], plan.attribution_community.astype(str)],
        "site": site,
        "new": new[site],
        "served_parcels": np.r_[flow, np.zeros(len(plan.attribution_site))],
        "compartments": np.r_[free * per_site[plan.pair_site], plan.attribution_compartments],
    })


def community_compartments(
    plan: LockerPlan,
    daily_parcels: np.ndarray,
    community: np.ndarray,
) -> pd.DataFrame:
    """Attribute each locker's compartments to communities (rule R2, seed 004 五(二)).

    New lockers' compartments go to communities as the model gave them (``plan.attribution_*``);
    the rest of each locker's compartments (all of an existing locker's, and the share of homes
    the model held per locker) goes to the homes not so attributed, in proportion to the
    parcels they send there.

    Parameters
    ----------
    plan
        The locker plan.
    daily_parcels
        Daily parcels of each demand point.
    community
        Community id of each demand point.

    Returns
    -------
    pandas.DataFrame
        Indexed by community: ``daily_parcels`` (all, served or not), ``served_parcels``,
        ``compartments``, ``ratio`` (compartments per served daily parcel; NaN where none is
        served), ``community_ratio`` (compartments per daily parcel of the whole community;
        NaN for a community without parcels), and the part of new lockers, on which the model
        holds R2: ``new_served_parcels`` and ``new_compartments``.
    """
    parcels = np.asarray(daily_parcels, dtype=float)
    community = np.asarray(community).astype(str)
    frame = _compartment_shares(plan, parcels, community)
    frame["new_served_parcels"] = frame["served_parcels"].where(frame["new"], 0.0)
    frame["new_compartments"] = frame["compartments"].where(frame["new"], 0.0)
    table = frame.drop(columns=["site", "new"]).groupby("community").sum()
    totals = pd.Series(parcels, index=community).groupby(level=0).sum().rename("daily_parcels")
    table = table.reindex(totals.index, fill_value=0.0).join(totals)
    table["ratio"] = table["compartments"] / table["served_parcels"].where(
        table["served_parcels"] > 0
    )
    table["community_ratio"] = table["compartments"] / table["daily_parcels"].where(
        table["daily_parcels"] > 0
    )
    return table[["daily_parcels", "served_parcels", "compartments", "ratio", "community_ratio",
                  "new_served_parcels", "new_compartments"]]


def locker_community_compartments(
    plan: LockerPlan,
    daily_parcels: np.ndarray,
    community: np.ndarray,
) -> pd.DataFrame:
    r"""Per new locker and community, the compartments and the parcels it takes (R2 per locker).

    The model holds R2's lower end at each new locker for each community it serves ((3b): at
    least :math:`\rho^-` compartments per parcel), and both ends for the homes in no mapped
    community (:data:`geodata.demand.UNASSIGNED`), which have no community's deliveries to be
    measured against ((3)-(4) at a plain site, (3b)/(4b) at a communal one).

    Parameters
    ----------
    plan
        The locker plan.
    daily_parcels, community
        Per demand point.

    Returns
    -------
    pandas.DataFrame
        Indexed by (community, site), one row per new locker and community it takes parcels
        from: ``served_parcels``, ``compartments`` and ``ratio``.
    """
    frame = _compartment_shares(plan, np.asarray(daily_parcels, dtype=float),
                                np.asarray(community).astype(str))
    table = frame[frame["new"]].groupby(["community", "site"])[
        ["served_parcels", "compartments"]].sum()
    table = table[table["served_parcels"] > 0].copy()
    table["ratio"] = table["compartments"] / table["served_parcels"]
    return table


def _within(value: pd.Series, low: pd.Series | float, high: pd.Series | float) -> pd.Series:
    """Whether ``low <= value <= high`` up to solver round-off (relative to the figures)."""
    tol = _TOL * np.maximum(1.0, np.abs(value))
    return (value >= low - tol) & (value <= high + tol)


def _span(ratio: pd.Series) -> str:
    return f"{ratio.min():.3f}–{ratio.max():.3f}" if len(ratio) else "–"


def _r2_records(
    rules: RuleSet,
    table: pd.DataFrame,
    lockers: pd.DataFrame,
    names: dict[str, str],
) -> list[dict]:
    r"""R2 records as the model holds R2: per community, and per locker for homes in none.

    A community (seed 004 五(二)) gets, at each new locker, at least :math:`\rho^-`
    compartments per parcel it takes from it ((3b)) and in all at most :math:`\rho^+` times
    all its daily parcels ((4a)). A parcel no locker takes (no site in reach, or left out by a
    budget) is G1's shortfall, not R2's: a compartment for it would stand where its home
    cannot walk.
    Existing lockers keep their compartments (the model gives them none and holds them to
    their capacity only): each community's record gives their share, the compartments of the
    existing lockers its homes use in proportion to the parcels they take there
    (``existing_compartments``, ``existing_served_parcels``). Homes in no community:
    :math:`\rho^-`–:math:`\rho^+` compartments per parcel at each new locker. A community no
    new locker serves: not applicable.
    """
    r2 = rules["R2"]
    lo, hi = r2.low, r2.high
    comm = table[(table.index != UNASSIGNED) & (table["daily_parcels"] > 0)]
    # a community no new locker serves has no compartments to configure: R2 does not apply
    idle = comm[(comm["new_compartments"] <= _TOL) & (comm["new_served_parcels"] <= _TOL)]
    comm = comm.drop(idle.index)
    mapped = lockers[lockers.index.get_level_values("community") != UNASSIGNED]
    short = mapped[~_within(mapped["ratio"], lo, np.inf)].reset_index("site")
    ok = _within(comm["new_compartments"], lo * comm["new_served_parcels"],
                 hi * comm["daily_parcels"]) & ~comm.index.isin(short.index)
    lockers = (lockers.loc[UNASSIGNED] if UNASSIGNED in lockers.index.get_level_values(0)
               else lockers.iloc[:0].droplevel("community"))
    lock_ok = _within(lockers["ratio"], lo, hi)
    records = [rule_record(
        r2,
        required=f"per community: at each new locker at least {lo:g} compartment(s) per parcel "
        f"it takes from the community, in all at most {hi:g} x all its daily parcels; homes "
        f"in no community: {lo:g}–{hi:g} compartments per parcel at each new locker",
        achieved=f"{int(ok.sum())} of {len(comm)} communities within range ({len(idle)} "
        f"served by no new locker); homes in no community: {int(lock_ok.sum())} of "
        f"{len(lockers)} lockers within range (ratios {_span(lockers['ratio'])})",
        achieved_zh=f"{len(comm)} 个社区中 {int(ok.sum())} 个达标（另 {len(idle)} 个无新建快件箱"
        f"服务）；未划入社区的楼栋：{len(lockers)} 个快件箱中 {int(lock_ok.sum())} 个达标"
        f"（格口比 {_span(lockers['ratio'])}）",
        passed=bool(ok.all() and lock_ok.all()) if len(comm) or len(lockers) else None,
        applicable=bool(len(comm) or len(lockers)))]
    records += [_community_r2_record(r2, cid, row, passed=bool(ok[cid]),
                                     name=names.get(str(cid), str(cid)),
                                     short=short.loc[[cid]] if cid in short.index else None)
                for cid, row in comm.iterrows()]
    records += [_idle_r2_record(rules, cid, row, name=names.get(str(cid), str(cid)))
                for cid, row in idle.iterrows()]
    if len(lockers):
        records.append(_unassigned_r2_record(r2, lockers, lock_ok,
                                             name=names.get(UNASSIGNED, UNASSIGNED)))
    return records


def _existing_share(row: pd.Series) -> dict[str, float]:
    """Return the compartments and parcels of a community's homes at existing lockers."""
    return {"existing_compartments": max(0.0, float(row["compartments"] - row["new_compartments"])),
            "existing_served_parcels": max(0.0, float(row["served_parcels"]
                                                      - row["new_served_parcels"]))}


def _idle_r2_record(rules: RuleSet, cid: Any, row: pd.Series, *, name: str) -> dict:
    """R2 record of a community no new locker serves: not applicable.

    Its parcels are existing lockers' (their compartments are given) or G1's.
    """
    r2 = rules["R2"]
    old = _existing_share(row)
    took = old["existing_served_parcels"]
    held_en = held_zh = ""
    if took > _TOL:
        held_en = (f"existing lockers take {took:.1f} of them with "
                   f"{old['existing_compartments']:.0f} compartments; ")
        held_zh = f"现有快件箱以 {old['existing_compartments']:.0f} 个格口承接其中 {took:.1f} 件；"
    (record,) = not_applicable_record(
        rules, "R2", f"{r2.low:g}–{r2.high:g} compartments per parcel its new lockers take",
        f"no new locker takes its {row['daily_parcels']:.1f} parcels/day: there are no "
        f"compartments to configure; {held_en}goal G1 counts the parcels left out",
        reason_zh=f"无新建快件箱承接其日均 {row['daily_parcels']:.1f} 件，无格口可配；{held_zh}"
        "未覆盖件量计入 G1", place=name, community=str(cid),
        daily_parcels=float(row["daily_parcels"]), **old)
    return record


def _community_r2_record(r2: Rule, cid: Any, row: pd.Series, *, passed: bool, name: str,
                         short: pd.DataFrame | None) -> dict:
    r"""R2 record of one community: its new lockers' compartments against (3b) and (4a).

    ``short`` lists the new lockers (``site``, ``ratio``) giving it fewer than
    :math:`\rho^-` compartments per parcel they take from it, or is ``None``.
    """
    lo, hi = r2.low, r2.high
    took, total, comp = row["new_served_parcels"], row["daily_parcels"], row["new_compartments"]
    old = _existing_share(row)
    held_en = held_zh = ""
    if old["existing_served_parcels"] > _TOL:
        held_en = (f"; existing lockers: {old['existing_compartments']:.0f} compartments for "
                   f"{old['existing_served_parcels']:.1f} parcels/day")
        held_zh = (f"；现有快件箱 {old['existing_compartments']:.0f} 个格口，承接日均 "
                   f"{old['existing_served_parcels']:.1f} 件")
    return rule_record(
        r2, required=f">= {lo:g} x {took:.1f} and <= {hi:g} x {total:.1f}",
        achieved=f"{comp:.0f} compartments for the {took:.1f} parcels/day its new lockers take "
        f"of its {total:.1f} ({comp / total:.3f} x all){held_en}",
        achieved_zh=f"新建快件箱 {comp:.0f} 个格口，承接日均 {took:.1f} 件（社区日均共 "
        f"{total:.1f} 件，为其 {comp / total:.3f} 倍）{held_zh}",
        **old, passed=passed, place=name, community=str(cid), compartments=float(comp),
        served_parcels=float(took), daily_parcels=float(total),
        ratio_served=float(comp / took) if took > 0 else None, ratio_all=float(comp / total),
        reason=None if short is None else "fewer compartments than parcels taken at sites "
        + ", ".join(f"#{s} ({r:.3f})" for s, r in zip(short["site"], short["ratio"],
                                                       strict=True)))


def _unassigned_r2_record(r2: Rule, lockers: pd.DataFrame, ok: pd.Series, *, name: str) -> dict:
    """R2 record of the homes in no community, judged at each new locker that serves them."""
    lo, hi = r2.low, r2.high
    bad = lockers[~ok]
    comp, took = lockers["compartments"].sum(), lockers["served_parcels"].sum()
    return rule_record(
        r2, required=f"{lo:g}–{hi:g} compartments per parcel at each new locker (held per "
        "locker: homes in no community have no community's deliveries)",
        achieved=f"{int(ok.sum())} of {len(lockers)} lockers within range; ratios "
        f"{_span(lockers['ratio'])}; {comp:.0f} compartments for {took:.1f} parcels/day",
        achieved_zh=f"{len(lockers)} 个快件箱中 {int(ok.sum())} 个达标；格口比 "
        f"{_span(lockers['ratio'])}；{comp:.0f} 个格口，日均 {took:.1f} 件",
        passed=bool(ok.all()), place=name, community=UNASSIGNED, judged="per locker",
        compartments=float(comp), served_parcels=float(took),
        reason=("outside the range at sites " + ", ".join(
            f"#{s} ({r:.3f})" for s, r in bad["ratio"].items())) if len(bad) else None)


def locker_compliance(
    plan: LockerPlan,
    rules: RuleSet,
    *,
    daily_parcels: np.ndarray,
    community: np.ndarray,
    community_names: dict[str, str] | None = None,
) -> list[dict]:
    """Compliance records of the locker tier: R2 as the model holds it, and G1 coverage.

    R2 (seed 004 五(二): compartments 1 to 1.3 times the community's average daily
    deliveries) is judged per community and, for homes in no community, per locker, exactly as
    :mod:`optimizer.lockers` holds it (:func:`_r2_records`): a parcel no locker takes is G1's
    shortfall, not R2's. G1 passes when the share of daily parcels within a locker's
    walk reaches the rule's value (:data:`optimizer.rules.BASICALLY_FULL` for "基本全覆盖",
    or the scenario's override).

    Parameters
    ----------
    plan
        The locker plan.
    rules
        The rule set applied (R2's range and G1's share are read from it).
    daily_parcels, community
        Per demand point.
    community_names
        Display name per community id.

    Returns
    -------
    list of dict
        One R2 record for the district, one per community with parcels, one for the homes in
        no community (judged per locker) when a new locker serves some, and one G1 record.
    """
    names = community_names or {}
    r2 = rules.get("R2")
    if r2 is None:
        raise ParameterError("the rule set carries no R2; build it with optimizer.rules.preset")
    records = _r2_records(rules, community_compartments(plan, daily_parcels, community),
                          locker_community_compartments(plan, daily_parcels, community), names)
    g1 = rules.get("G1")
    if g1 is not None:
        parcels = np.asarray(daily_parcels, dtype=float)
        share = float(parcels[plan.assignment >= 0].sum() / parcels.sum()) if parcels.sum() else 1.0
        records.append(
            rule_record(
                g1,
                required=f"at least {g1.low:.0%} of daily parcels of residential areas within "
                "the walking radius of a locker",
                achieved=f"{share:.1%} of daily parcels within the walking radius of a locker",
                achieved_zh=f"{share:.1%} 的日均件量在快件箱步行半径内",
                passed=share >= g1.low - _TOL,
                threshold=g1.low,
            )
        )
    return records


def not_applicable_record(rules: RuleSet, rule_id: str, required: str, why: str,
                          **extra: Any) -> list[dict]:
    """Return the record of a rule that does not apply to a place (none if not in the preset).

    Parameters
    ----------
    rules
        The rule set applied.
    rule_id
        The rule (e.g. ``"R1"`` where the area has no residential community).
    required
        What the rule asks.
    why
        Why it does not apply here.
    **extra
        More keys of the record (``place``, ``community``, ``reason_zh``, ...).

    Returns
    -------
    list of dict
        One record with ``passed`` None (neither met nor failed) and ``applicable`` False, or
        none.
    """
    rule = rules.get(rule_id)
    if rule is None:
        return []
    return [rule_record(rule, required=required, achieved="not applicable",
                        achieved_zh="不适用", passed=None, applicable=False,
                        reason=why, **extra)]


def not_evaluated_record(rule: Rule, *, need: str, need_zh: str, **extra: Any) -> dict:
    """Return a record saying ``rule`` was not evaluated, and what data would decide it.

    Parameters
    ----------
    rule
        The rule not evaluated.
    need, need_zh
        The data (or tiers) that would decide it, in English and Chinese.
    **extra
        More keys of the record (``place``, ...).

    Returns
    -------
    dict
        A :func:`rule_record` with ``evaluated`` False and ``passed`` None (neither met nor
        failed), ``reason`` and ``reason_zh`` naming the data needed.
    """
    return rule_record(rule, required=rule.title_en, achieved="not evaluated",
                       achieved_zh="未评估", passed=None, evaluated=False,
                       reason=f"needs {need}", reason_zh=f"需要{need_zh}",
                       **extra)


def unevaluated_records(rules: RuleSet, records: list[dict], *, tiers: tuple[str, ...] = ()
                        ) -> list[dict]:
    """Return a "not evaluated" record for each rule of ``rules`` that no record checks.

    Every rule listed in ``summary.json["rules_applied"]`` thus has a record: either its check,
    or one that says it was not evaluated and what would decide it
    (:func:`not_evaluated_record`).

    Parameters
    ----------
    rules
        The rule set applied.
    records
        The records the plan's checks gave.
    tiers
        The tiers planned (a rule of a tier not planned says so).

    Returns
    -------
    list of dict
        One record per unchecked rule, in id order.
    """
    done = {r["id"] for r in records}
    planned = ", ".join(tiers) or "lockers"
    return [not_evaluated_record(rule, need=f"a plan with the tiers that check it (planned: "
                                 f"{planned})", need_zh=f"规划相应层级（已规划：{planned}）")
            for rule in rules if rule.id not in done]


def target_compliance(
    rules: RuleSet, *, residents: float, units: int, compartments: float
) -> tuple[list[dict], dict | None]:
    """Compare the plan with the study area's share of its plan's 2025 locker target.

    The share is by residents (:func:`optimizer.targets.target_share`); the check passes when
    the plan reaches the share of every quantity the plan sets (units, compartments).

    Parameters
    ----------
    rules
        The rule set; presets without a quantity target give no record.
    residents
        Residents of the study area.
    units, compartments
        Locker sites and compartments in the plan (existing included).

    Returns
    -------
    tuple
        The compliance records (empty or one) and the share details (or ``None``).
    """
    target = rules.target
    if target is None or (target.locker_units is None and target.compartments is None):
        return [], None
    share = target_share(
        target, residents, planned_units=units, planned_compartments=int(round(compartments))
    )
    due, got, got_zh = [], [], []
    ratios = []
    if share["locker_units"] is not None:
        due.append(f"{share['locker_units']:,.1f} locker units")
        got.append(f"{units:,} units")
        got_zh.append(f"{units:,} 组快件箱")
        ratios.append(share["units_ratio"])
    if share["compartments"] is not None:
        due.append(f"{share['compartments']:,.0f} compartments")
        got.append(f"{compartments:,.0f} compartments")
        got_zh.append(f"{compartments:,.0f} 个格口")
        ratios.append(share["compartments_ratio"])
    record = {
        "id": f"T{target.year}",
        "clause": f"{share['source']} {share['clause']}",
        "required": f"{' and '.join(due)} by {target.year}: the study area's "
        f"{share['share']:.4%} share (by residents) of the {target.plan} target",
        "achieved": " and ".join(got),
        "achieved_zh": "，".join(got_zh),
        "passed": all(r is not None and r >= 1.0 for r in ratios),
        "evaluated": True,
        "applicable": True,
        "source": share["source"],
        "quote": share["quote"],
    }
    return [record], share
