"""The record of each tier above the lockers in ``summary.json["tiers"]``, and "not applicable".

:func:`not_applicable_record` lives in :mod:`optimizer.compliance` (the R2 check builds such
records too) and is re-exported here, where the tiers import it.

Every tier reports one shape: ``status``, ``objective``, ``bound``, ``gap``, ``solve_s``,
``counts`` and ``problems`` (one sentence per failed per-place check: rule, place, what is
missing), plus what the tier adds (``method``, ``fed_by``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .compliance import not_applicable_record, rule_state
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
