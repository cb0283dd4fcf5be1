"""The record of each tier above the lockers in ``summary.json["tiers"]``, and "not applicable".

Every tier reports one shape: ``status``, ``objective``, ``bound``, ``gap``, ``solve_s``,
``counts`` and ``problems`` (one sentence per failed per-place check: rule, place, what is
missing), plus what the tier adds (``method``, ``fed_by``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .compliance import rule_record, rule_state
from .rules import RuleSet
from .solve_record import SolveRecord

__all__ = ["not_applicable_record", "tier_summary"]


def tier_summary(
    solve: SolveRecord | str,
    *,
    counts: dict[str, Any] | None = None,
    records: Sequence[dict] = (),
    **extra: Any,
) -> dict[str, Any]:
    """Return a tier's record for ``summary.json["tiers"]``.

    Parameters
    ----------
    solve
        How the tier was solved (:class:`optimizer.solve_record.SolveRecord`), or a bare
        status (``not applicable``, ...) for a tier not planned.
    counts
        What the tier placed and served.
    records
        Its rule records; each failed per-place record becomes a sentence in ``problems``.
    **extra
        Keys the tier adds.

    Returns
    -------
    dict
        The record.
    """
    problems = [
        f"{r['id']} {r.get('place', '')}: {r.get('reason') or r['achieved']}".replace("  ", " ")
        for r in records
        if rule_state(r) == "failed" and "place" in r
    ]
    rec = SolveRecord(solve) if isinstance(solve, str) else solve
    return {"status": rec.status, "objective": rec.objective, "bound": rec.bound, "gap": rec.gap,
            "solve_s": round(float(rec.solve_s), 3), "counts": counts or {}, "problems": problems,
            **extra}


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
