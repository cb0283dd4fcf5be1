"""Check a plan against the plans' rules: required, achieved, passed, and the clause.

Every record is a dict with the keys ``summary.json`` promises: ``id``, ``clause``,
``required``, ``achieved``, ``passed``, plus ``source`` (seed file id), ``quote``, and where a
rule is checked per place, ``place`` and ``reason``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .lockers import LockerPlan
from .rules import Rule, RuleSet
from .targets import target_share

__all__ = ["community_compartments", "locker_compliance", "rule_record", "target_compliance"]


def rule_record(
    rule: Rule,
    *,
    required: str,
    achieved: str,
    passed: bool,
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
        Whether the rule is met.
    achieved_zh
        ``achieved`` in Chinese, for Chinese reports (kept as ``achieved_zh``).
    **extra
        ``place``, ``reason`` and other keys; ``None`` values are left out.

    Returns
    -------
    dict
        JSON-ready record for ``summary.json["rules"]``, with the rule's ``source`` and
        ``quote`` (its wording in the plan).
    """
    rec = {"id": rule.id, "clause": f"{rule.source} {rule.clause}", "required": required,
           "achieved": achieved, "passed": bool(passed), "source": rule.source,
           "quote": rule.quote, "achieved_zh": achieved_zh}
    rec.update(extra)
    return {k: v for k, v in rec.items() if v is not None}


def community_compartments(
    plan: LockerPlan,
    daily_parcels: np.ndarray,
    community: np.ndarray,
) -> pd.DataFrame:
    """Attribute each locker's compartments to communities in proportion to their parcels.

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
        Indexed by community: ``daily_parcels`` (all), ``served_parcels``, ``compartments``
        and ``ratio`` (compartments per served daily parcel; NaN where none is served).
    """
    parcels = np.asarray(daily_parcels, dtype=float)
    community = np.asarray(community).astype(str)
    flow = plan.pair_share * parcels[plan.pair_demand]
    load = plan.site_load(parcels)
    per_site = np.zeros(int(plan.sites.max(initial=-1)) + 1)
    per_site[plan.sites] = np.divide(
        plan.compartments, load, out=np.zeros(len(load)), where=load > 0
    )
    frame = pd.DataFrame(
        {
            "community": community[plan.pair_demand],
            "served_parcels": flow,
            "compartments": flow * per_site[plan.pair_site],
        }
    )
    table = frame.groupby("community").sum()
    totals = pd.Series(parcels, index=community).groupby(level=0).sum().rename("daily_parcels")
    table = table.reindex(totals.index, fill_value=0.0).join(totals)
    table["ratio"] = table["compartments"] / table["served_parcels"].where(
        table["served_parcels"] > 0
    )
    return table[["daily_parcels", "served_parcels", "compartments", "ratio"]]


def locker_compliance(
    plan: LockerPlan,
    rules: RuleSet,
    *,
    daily_parcels: np.ndarray,
    community: np.ndarray,
    community_names: dict[str, str] | None = None,
) -> list[dict]:
    """Compliance records of the locker tier: R2 per community and G1 coverage.

    Parameters
    ----------
    plan
        The locker plan.
    rules
        The rule set applied (R2's range is read from it).
    daily_parcels, community
        Per demand point.
    community_names
        Display name per community id.

    Returns
    -------
    list of dict
        One R2 record for the district, one per community, and one G1 record.
    """
    names = community_names or {}
    r2 = rules.get("R2")
    lo, hi = r2.low, r2.high
    table = community_compartments(plan, daily_parcels, community)
    served = table[table["served_parcels"] > 0]
    tol = 1e-6
    ok = (served["ratio"] >= lo - tol) & (served["ratio"] <= hi + tol)
    records = [
        rule_record(
            r2,
            required=f"{lo:g}–{hi:g} compartments per daily parcel in every community",
            achieved=(
                f"{int(ok.sum())} of {len(served)} served communities within range; ratios "
                f"{served['ratio'].min():.3f}–{served['ratio'].max():.3f}"
                if len(served)
                else "no community served"
            ),
            achieved_zh=(
                f"{len(served)} 个有服务的社区中 {int(ok.sum())} 个达标；格口比 "
                f"{served['ratio'].min():.3f}–{served['ratio'].max():.3f}"
                if len(served)
                else "无社区获得服务"
            ),
            passed=bool(ok.all()),
        )
    ]
    for cid, row in served.iterrows():
        records.append(
            rule_record(
                r2,
                required=f"{lo:g}–{hi:g}",
                achieved=f"{row['ratio']:.3f} ({row['compartments']:.0f} compartments for "
                f"{row['served_parcels']:.1f} parcels/day)",
                achieved_zh=f"{row['ratio']:.3f}（{row['compartments']:.0f} 个格口，日均 "
                f"{row['served_parcels']:.1f} 件）",
                passed=bool(ok[cid]),
                place=names.get(str(cid), str(cid)),
                community=str(cid),
            )
        )
    g1 = rules.get("G1")
    if g1 is not None:
        parcels = np.asarray(daily_parcels, dtype=float)
        share = float(parcels[plan.assignment >= 0].sum() / parcels.sum()) if parcels.sum() else 1.0
        records.append(
            rule_record(
                g1,
                required="residential areas basically fully covered by smart lockers",
                achieved=f"{share:.1%} of daily parcels within the walking radius of a locker",
                achieved_zh=f"{share:.1%} 的日均件量在快件箱步行半径内",
                passed=share >= 0.95,
                threshold=0.95,
            )
        )
    return records


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
        "source": share["source"],
        "quote": share["quote"],
    }
    return [record], share
