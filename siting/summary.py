"""``summary.json``: assembled here for a plan and for a city, checked by one JSON Schema.

A plan, a batch scenario (a plan in a folder) and a city (district plans merged) write the same
schema, ``siting/summary.schema.json``: the city adds ``districts`` and ``decomposition`` and
keeps its older ``parameters.radius_m``, ``parameters.scenario`` and ``parameters.districts``.
Keys are a contract with planners' scripts: extend, never rename.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd

from geodata.defaults import DemandParameters
from optimizer.city_bound import city_gap
from optimizer.lockers import LockerParameters, LockerPlan, LockerProblem
from optimizer.milp import DEFAULT_GAP

__all__ = ["ATTRIBUTION", "SCHEMA_PATH", "city_summary", "merged_status", "plan_summary",
           "schema", "validate_summary", "worst_status"]

#: The JSON Schema every ``summary.json`` meets.
SCHEMA_PATH = Path(__file__).with_name("summary.schema.json")

ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"

_STATUS_ORDER = ("optimal", "rule-based", "not applicable", "work_limit", "time_limit", "feasible",
                 "interrupted", "not_solved", "infeasible", "error")


def _created() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def plan_summary(
    locker_plan: LockerPlan,
    problem: LockerProblem,
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    parameters: Mapping[str, Any],
    lp: LockerParameters,
    dp: DemandParameters,
    records: list[dict],
    rules_applied: list[dict],
    walk_nodes: int,
    walk_edges: int,
) -> dict[str, Any]:
    """Return the summary of one district plan (the caller adds the tiers and budget keys).

    Parameters
    ----------
    locker_plan, problem
        The solved locker model and its problem.
    layers
        The plan's layers (``demand``, ``communities``).
    parameters
        The run's options as JSON-ready values (``osm``, ``boundary``, ``mode``, ...).
    lp, dp
        The locker and demand parameters applied.
    records, rules_applied
        Rule checks and the rule set's records.
    walk_nodes, walk_edges
        Size of the walking network.

    Returns
    -------
    dict
        ``status``, ``objective``, ``bound``, ``gap``, ``solve_s``, ``build_s``,
        ``parameters``, ``counts``, ``coverage``, ``rules``, ``rules_applied``, ``phases``,
        ``attribution``, ``created``.
    """
    parcels = problem.daily_parcels
    served = locker_plan.assignment >= 0
    existing = problem.existing[locker_plan.sites]
    total = float(parcels.sum())
    return {
        "status": locker_plan.status,
        "objective": locker_plan.objective,
        "bound": locker_plan.bound,
        "gap": locker_plan.gap,
        "solve_s": round(locker_plan.solve_s, 3),
        "build_s": round(locker_plan.build_s, 3),
        "parameters": {**parameters, "locker": asdict(lp), "demand": asdict(dp)},
        "counts": {
            "demand_points": problem.n_demand,
            "residents": round(float(layers["demand"]["residents"].sum()), 1),
            "daily_parcels": round(total, 2),
            "communities": int(len(layers["communities"])),
            "candidates": problem.n_sites,
            "candidates_after_reduction": locker_plan.kept_sites,
            "pairs_within_radius": len(problem.pair_demand),
            "walk_network_nodes": walk_nodes,
            "walk_network_edges": walk_edges,
            "lockers": len(locker_plan.sites),
            "new_lockers": int((~existing).sum()),
            "existing_lockers": int(existing.sum()),
            "modules": int(locker_plan.modules.sum()),
            "compartments": float(locker_plan.compartments.sum()),
        },
        "coverage": _coverage(len(served), int(served.sum()),
                              float(parcels[served].sum()), total),
        "rules": records,
        "rules_applied": rules_applied,
        "phases": [asdict(p) for p in locker_plan.phases],
        "attribution": ATTRIBUTION,
        "created": _created(),
    }


def _coverage(points: int, covered: int, parcels_covered: float, parcels: float
              ) -> dict[str, Any]:
    return {"demand_points": points, "covered": covered, "uncovered": points - covered,
            "parcel_share_covered": round(parcels_covered / parcels, 6) if parcels else 1.0}


def worst_status(statuses: Sequence[str]) -> str:
    """Return the least settled of several statuses (``optimal`` is the most settled).

    Parameters
    ----------
    statuses
        Statuses of parts of one plan (districts, tiers).

    Returns
    -------
    str
        The worst of them; an unknown status counts as worse than every known one.
    """
    rank = {s: k for k, s in enumerate(_STATUS_ORDER)}
    return max(statuses, key=lambda s: rank.get(s, len(rank)), default="not_solved")


def merged_status(statuses: Sequence[str], gap: float | None) -> str:
    """Return the status of a plan merged from parts planned alone, as a claim on the whole.

    Parts proven optimal alone do not make their union optimal for the whole problem (a city's
    districts share the sites near their borders, a hub could serve two districts). The merged
    plan is ``"optimal"`` only when its gap to a valid lower bound of the whole problem is
    within the solver's tolerance (:data:`optimizer.milp.DEFAULT_GAP`). Otherwise it is the
    least settled of the parts' statuses, ``"feasible"`` where every part was optimal (a plan
    with no proof); ``"rule-based"`` and ``"not applicable"`` parts keep their word, and a part
    the problem does not apply to is left out when others were planned.

    Parameters
    ----------
    statuses
        The parts' statuses (districts, or one tier's districts).
    gap
        Relative gap of the merged plan to a lower bound of the whole problem; ``None`` when
        there is no such bound.

    Returns
    -------
    str
        The merged plan's status.
    """
    if gap is not None and gap <= DEFAULT_GAP:
        return "optimal"
    planned = [s for s in statuses if s != "not applicable"] or list(statuses)
    worst = worst_status(planned)
    return "feasible" if worst == "optimal" else worst


def _sum_numbers(dicts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Key-wise sum of the numbers of several dicts (other values: the first one's)."""
    out: dict[str, Any] = {}
    for d in dicts:
        for k, v in d.items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                out.setdefault(k, v)
            else:
                out[k] = out.get(k, 0) + v
    return out


def _merged_tiers(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per tier: the status of the merged tier, summed counts and objective, every problem.

    A tier merged from districts has no lower bound of the whole city's tier (a hub per
    district, one station per candidate site): it is never ``optimal`` (:func:`merged_status`).
    """
    names = list(dict.fromkeys(t for p in parts for t in p.get("tiers", {})))
    merged = {}
    for name in names:
        tiers = [p["tiers"][name] for p in parts if name in p.get("tiers", {})]
        objectives = [t.get("objective") for t in tiers]
        merged[name] = {
            "status": merged_status([t["status"] for t in tiers], None),
            "objective": None if None in objectives else sum(objectives),
            "bound": None, "gap": None,
            "solve_s": round(sum(t.get("solve_s", 0.0) for t in tiers), 3),
            "counts": _sum_numbers([t.get("counts", {}) for t in tiers]),
            "problems": [q for t in tiers for q in t.get("problems", [])],
        }
    return merged


def city_summary(
    parts: Sequence[Mapping[str, Any]],
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    districts: Sequence[Mapping[str, Any]],
    city: Mapping[str, Any],
    target_2025: Any,
    seconds: float,
    bound: float | None,
) -> dict[str, Any]:
    """Return the summary of a city: its district plans' summaries merged.

    Parameters
    ----------
    parts
        The district plans' summaries, in district order.
    layers
        The merged layers (``lockers``, ``demand``, ``communities``, ``candidates``).
    districts
        One entry per district: ``district`` (id) and ``name``.
    city
        City keys added to ``parameters`` (``scenario``, ``radius_m``, ``districts``).
    target_2025
        The 2025 target share of the whole city (:func:`optimizer.compliance.target_compliance`).
    seconds
        Wall-clock seconds of the city run.
    bound
        A lower bound of the whole city's locker cost (:mod:`optimizer.city_bound`), ``None``
        when there is none (``max-cover`` mode).

    Returns
    -------
    dict
        The plan's keys (objective: the cost of the merged sites and modules; ``bound``, its
        ``gap`` and the ``status`` they prove, :func:`merged_status`) plus ``districts`` and
        ``decomposition``.
    """
    lp = parts[0]["parameters"]["locker"]
    lockers, demand = layers["lockers"], layers["demand"]
    new = ~lockers["existing"].astype(bool)
    covered = demand["locker_id"].notna().to_numpy()
    parcels = demand["daily_parcels"].to_numpy(float)
    objective = float(lp["site_cost"] * int(new.sum())
                      + lp["module_cost"] * float(lockers.loc[new, "modules"].sum()))
    gap = city_gap(objective, bound)
    counts = _sum_numbers([p["counts"] for p in parts])
    counts.update({
        "communities": len(layers["communities"]), "candidates": len(layers["candidates"]),
        "lockers": len(lockers), "new_lockers": int(new.sum()),
        "existing_lockers": int((~new).sum()), "modules": int(lockers["modules"].sum()),
        "compartments": float(lockers["compartments"].sum()),
    })
    return {
        "status": merged_status([p["status"] for p in parts], gap),
        "objective": objective, "bound": bound, "gap": gap,
        "solve_s": round(seconds, 3),
        "build_s": round(sum(p["build_s"] for p in parts), 3),
        "parameters": {**parts[0]["parameters"], **city},
        "counts": counts,
        "coverage": _coverage(len(demand), int(covered.sum()), float(parcels[covered].sum()),
                              float(parcels.sum())),
        "rules": [{**r, "district": d["name"]} for p, d in zip(parts, districts, strict=True)
                  for r in p["rules"]],
        "rules_applied": parts[0]["rules_applied"],
        "phases": [{**ph, "district": d["name"]} for p, d in zip(parts, districts, strict=True)
                   for ph in p["phases"]],
        "attribution": ATTRIBUTION,
        "created": _created(),
        "tiers": _merged_tiers(parts),
        "target_2025": target_2025,
        "time_budget": {"by_district": [{"district": d["name"], **p["time_budget"]}
                                        for p, d in zip(parts, districts, strict=True)]},
        "demand_source": "; ".join(dict.fromkeys(p["demand_source"] for p in parts)),
        "timings_s": {"total": round(seconds, 3)},
        "districts": [
            {**d, "status": p["status"], "objective": p["objective"], "bound": p["bound"],
             "gap": p["gap"], "demand_points": p["coverage"]["demand_points"],
             "tiers": {k: v["status"] for k, v in p["tiers"].items()}}
            for p, d in zip(parts, districts, strict=True)],
        "decomposition": ("districts planned separately by the same pipeline, with candidates "
                          "within the walking radius of each district; sites shared by two "
                          "districts add their modules; the merged plan is feasible, and its "
                          "gap is measured against a city-wide lower bound (city_bound): it is "
                          "optimal only within the solver's gap tolerance of that bound; the "
                          "merged tiers have no city-wide bound"),
    }


@cache
def schema() -> dict[str, Any]:
    """Return the JSON Schema of ``summary.json``.

    Returns
    -------
    dict
        The schema (draft 2020-12).
    """
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def validate_summary(summary: Mapping[str, Any]) -> None:
    """Check a summary (as written to ``summary.json``) against :func:`schema`.

    Parameters
    ----------
    summary
        The summary, as read back from ``summary.json``.

    Raises
    ------
    jsonschema.ValidationError
        Naming the first key that breaks the schema.
    """
    import jsonschema

    jsonschema.validate(summary, schema(), cls=jsonschema.Draft202012Validator)
