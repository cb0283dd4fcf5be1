"""The rule registry: for each rule id of ``PLAN_RULES.md``, how it is enforced and checked.

One place to grep a rule id and find its values (by preset, :mod:`optimizer.rules`), the
function that enforces it (a model constraint or a placement), the function that writes its
record in ``summary.json["rules"]`` and the tests that make that check fail on real data.
Rule values and the defaults they imply are declared once in :mod:`optimizer.rules`
(:data:`optimizer.rules.R2_RATIO`, :data:`optimizer.rules.WALK_RADIUS_M`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .rules import PRESETS, RULE_IDS, Rule, RuleValue, preset

__all__ = ["REGISTRY", "RuleEntry", "resolve", "rule_values", "rules_markdown"]


@dataclass(frozen=True)
class RuleEntry:
    """How one rule is enforced and checked.

    Attributes
    ----------
    id
        Rule id (``R1`` to ``R7``, ``G1`` to ``G5``).
    enforced
        How the plan holds it: a model constraint, a placement or a check only.
    where
        Dotted name of the function that enforces it.
    check
        Dotted name of the function that writes its record.
    tests
        ``tests/<file>.py::<test>`` that fail when the rule is missed on real data.
    """

    id: str
    enforced: str
    where: str
    check: str
    tests: tuple[str, ...]


def _entry(rule_id: str, enforced: str, where: str, check: str, *tests: str) -> RuleEntry:
    return RuleEntry(rule_id, enforced, where, check, tests)


#: Every rule id, with where it is enforced and checked.
REGISTRY: dict[str, RuleEntry] = {e.id: e for e in (
    _entry("R1", "placement: a station only where the site's available area holds its planned "
           "area, within the station walk of its community",
           "optimizer.stations.plan_community_stations",
           "optimizer.stations.plan_community_stations",
           "test_stations.py::test_r1_fails_named_where_every_candidate_is_too_small"),
    _entry("R2", "constraints (3a)-(4b) of the locker model per community (at least 1 "
           "compartment per parcel each new locker takes from it, at most 1.3 x all its daily "
           "parcels), "
           "and (3)-(4)/(3b)-(4b) per locker for homes in no community",
           "optimizer.lockers.solve_lockers", "optimizer.compliance.locker_compliance",
           "test_compliance.py::test_r2_fails_below_the_parcels_taken_and_above_the_community",
           "test_compliance.py::test_r2_fails_at_a_locker_short_of_its_community_parcels",
           "test_compliance.py::test_r2_is_held_per_locker_for_homes_in_no_community"),
    _entry("R3", "placement per village on the drive network", "optimizer.rural.plan_rural",
           "optimizer.rural.plan_rural",
           "test_rural.py::test_r3_fails_where_a_village_has_no_site_for_a_second_station"),
    _entry("R4", "placement at the seat, else the villages' 1-median",
           "optimizer.rural.plan_rural", "optimizer.rural.plan_rural",
           "test_rural.py::test_unreached_township_fails_r4_and_breaks_g5"),
    _entry("R5", "check: open hubs at most the number asked", "optimizer.hubs.solve_hubs",
           "optimizer.hubs.county_centre_record",
           "test_hubs.py::test_r5_fails_when_the_plan_needs_more_hubs_than_asked"),
    _entry("R6", "check on each hub's whole throughput, in and out, against its planned "
           "sorting capacity and automatic sorting", "optimizer.hubs.solve_hubs",
           "optimizer.hubs.throughput_record",
           "test_hubs.py::test_r6_fails_on_puyang_over_its_sorting_capacity_or_without_automation",
           "test_hubs.py::test_r6_on_puyang_whole_throughput"),
    _entry("R7", "optimal assignment of neighbourhood centres to sites",
           "optimizer.stations.plan_cargo_stations", "optimizer.stations.plan_cargo_stations",
           "test_stations.py::test_r7_fails_for_a_centre_with_no_candidate_in_reach"),
    _entry("G1", "check: share of parcels within a locker's walk",
           "optimizer.lockers.solve_lockers",
           "optimizer.compliance.locker_compliance",
           "test_compliance.py::test_g1_uses_the_rule_value_and_its_override"),
    _entry("G2", "check: a locker within the walk of each commercial or government area",
           "optimizer.goals.commercial_area_compliance",
           "optimizer.goals.commercial_area_compliance",
           "test_goals.py::test_g2_fails_where_areas_lie_beyond_the_lockers_walk"),
    _entry("G3", "check: every home of an old compound served, and a station when planned",
           "optimizer.goals.old_compound_compliance", "optimizer.goals.old_compound_compliance",
           "test_goals.py::test_g3_fails_for_an_old_compound_with_a_home_left_out"),
    _entry("G4", "check: villages reached (a station, on the mapped drive network) over villages",
           "optimizer.rural.plan_rural", "optimizer.rural.plan_rural",
           "test_rural_roads.py::test_village_off_the_mapped_roads_has_its_station_and_fails_g4",
           "test_rural.py::test_villages_beyond_the_drive_network_keep_stations_and_fail_g4"),
    _entry("G5", "check of the county -> township -> village links",
           "optimizer.hub_inputs.chain_record", "optimizer.rural.three_tier_record",
           "test_rural.py::test_unreached_township_fails_r4_and_breaks_g5",
           "test_rural_roads.py::test_g5_evaluated_beside_urban_homes"),
)}


def resolve(dotted: str) -> Callable[..., Any]:
    """Return the function a registry entry names.

    Parameters
    ----------
    dotted
        ``package.module.function``.

    Returns
    -------
    callable
        The function.
    """
    module, _, name = dotted.rpartition(".")
    found: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return found


def rule_values(rule_id: str) -> dict[str, RuleValue]:
    """Return a rule's value in each preset that carries it.

    Parameters
    ----------
    rule_id
        One of :data:`optimizer.rules.RULE_IDS`.

    Returns
    -------
    dict
        Preset name to value (``None`` for a qualitative goal).
    """
    return {name: rule.value for name in PRESETS
            if (rule := preset(name).get(rule_id)) is not None}




def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rule_section(entry: RuleEntry, by_preset: dict[str, Rule]) -> list[str]:
    first = next(iter(by_preset.values()))
    lines = [f"## {entry.id}: {first.title_en} ({first.title_zh})", "",
             f"- kind: {first.kind}",
             f"- enforced: {entry.enforced}",
             f"- where: `{entry.where}`",
             f"- record written by: `{entry.check}`",
             "- tests, each failing when the rule is missed on real data:",
             *(f"  - `tests/{ref}`" for ref in entry.tests),
             "", "| preset | value | unit | source | clause | quote |", "|---|---|---|---|---|---|"]
    for name, rule in by_preset.items():
        origin = f" (from {rule.inherited_from})" if rule.inherited_from else ""
        lines.append(f"| {name} | {rule.value_text} | {_cell(rule.unit)} | {rule.source}{origin} "
                     f"| {_cell(rule.clause)} | {_cell(rule.quote)} |")
    also = dict.fromkeys(c for rule in by_preset.values() for c in rule.also)
    if also:
        lines += ["", "Also stated, without its number, in:", "",
                  *(f"- {c.source} {c.clause}: {c.quote}" for c in also)]
    return [*lines, ""]


def rules_markdown() -> str:
    """Render the registry and the presets' rule values as the markdown of ``docs/rules.md``.

    Each rule id gets a section: how it is enforced, the function that enforces it, the
    function that writes its record, its tests, and its value, unit and clause in each preset
    that carries it (clauses of :mod:`optimizer.rules`, from ``PLAN_RULES.md``).

    Returns
    -------
    str
        The page, ending with a newline.
    """
    sets = {name: preset(name) for name in PRESETS}
    lines = ["# Rules", "",
             "Generated from `optimizer/rule_registry.py` and the presets of `optimizer/rules.py` "
             "by `python -m siting rules --markdown > docs/rules.md`; do not edit by hand "
             "(`tests/test_rule_registry.py` fails when this page is stale). How the locker model "
             "holds R2 and when each check fails are told in [model.md](model.md).", ""]
    for rule_id in RULE_IDS:
        by_preset = {name: rule for name, rules in sets.items()
                     if (rule := rules.get(rule_id)) is not None}
        lines += _rule_section(REGISTRY[rule_id], by_preset)
    return "\n".join(lines)
