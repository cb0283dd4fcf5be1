"""The rule registry: every rule id has its enforcing function, its check and a real test;
rule values and the defaults they imply are declared once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from optimizer.lockers import LockerParameters
from optimizer.rule_registry import REGISTRY, resolve, rule_values
from optimizer.rules import PRESETS, R2_RATIO, RULE_IDS, WALK_RADIUS_M, preset
from optimizer.stations import StationParameters, station_sites
from siting.options import PlanOptions
from siting.pipeline import locker_parameters

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


def test_every_rule_id_has_one_entry() -> None:
    assert list(REGISTRY) == list(RULE_IDS)
    assert all(REGISTRY[k].id == k for k in REGISTRY)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_entry_names_functions_and_tests_that_exist(rule_id: str) -> None:
    entry = REGISTRY[rule_id]
    for dotted in (entry.where, entry.check):
        assert callable(resolve(dotted)), dotted
    assert entry.tests
    for ref in entry.tests:
        file, _, name = ref.partition("::")
        tree = ast.parse((TESTS / file).read_text(encoding="utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name in names, ref


def test_the_check_function_mentions_its_rule() -> None:
    """The check named for a rule reads that rule from the rule set (``rules.get("R2")``)."""
    import inspect

    for entry in REGISTRY.values():
        source = inspect.getsource(resolve(entry.check))
        assert f'"{entry.id}"' in source, entry


#: Each rule's figure in each preset, typed from PLAN_RULES.md and its seeds (not read from the
#: code): R1 15 m2, R2 1-1.3 and R3 1-2 (004 五(二)), Shanxi one village point per village
#: (003 专栏5); R6 from 50,000 items a day (004 二(三)), Zhengzhou automates every centre
#: (001 专栏3: 0); G1 "基本全覆盖" read as 95 % (stated assumption), Zhengzhou "全覆盖" 100 %
#: (001 专栏4), G2 Zhengzhou's only; G4 > 90 % (002 专栏1, 003), 100 % (004 表1, 001, 000).
PLANS_FIGURES: dict[str, dict[str, object]] = {
    "R1": dict.fromkeys(("national", "guangdong", "shanxi", "zhengzhou", "xinyang"), 15.0),
    "R2": dict.fromkeys(("national", "guangdong", "shanxi", "zhengzhou", "xinyang"), (1.0, 1.3)),
    "R3": {"national": (1.0, 2.0), "guangdong": (1.0, 2.0), "shanxi": (1.0, 1.0),
           "zhengzhou": (1.0, 2.0), "xinyang": (1.0, 2.0)},
    "R4": dict.fromkeys(("national", "guangdong", "shanxi", "zhengzhou", "xinyang"), 1.0),
    "R5": dict.fromkeys(("national", "guangdong", "shanxi", "zhengzhou", "xinyang"), 1.0),
    "R6": {"national": 50_000.0, "guangdong": 50_000.0, "shanxi": 50_000.0, "zhengzhou": 0.0,
           "xinyang": 50_000.0},
    "R7": dict.fromkeys(("national", "guangdong", "shanxi", "zhengzhou", "xinyang"), 1.0),
    "G1": {"national": 0.95, "guangdong": 0.95, "shanxi": 0.95, "zhengzhou": 1.0,
           "xinyang": 0.95},
    "G2": {"zhengzhou": 1.0},
    "G3": dict.fromkeys(("national", "guangdong", "shanxi", "zhengzhou", "xinyang")),
    "G4": {"national": 0.9, "guangdong": 1.0, "shanxi": 0.9, "zhengzhou": 1.0, "xinyang": 1.0},
    "G5": dict.fromkeys(("national", "guangdong", "shanxi", "zhengzhou", "xinyang")),
}


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_each_presets_figure_is_its_plans(rule_id: str) -> None:
    assert rule_values(rule_id) == PLANS_FIGURES[rule_id]


@pytest.mark.parametrize("name", PRESETS)
def test_the_locker_model_uses_the_presets_r2_and_the_scenarios_radius(name: str) -> None:
    """The figures the locker model is given are the rule set's, overrides included."""
    own = locker_parameters(PlanOptions(rules=name), preset(name))
    assert own.ratio == PLANS_FIGURES["R2"][name] == (1.0, 1.3)
    # PLAN_RULES.md: lockers within a 300 m walk by default (GB 50180-2018, 5-minute circle)
    assert own.radius_m == 300.0
    overrides = {"R2": (1.0, 1.2)}
    tighter = locker_parameters(PlanOptions(rules=name, radius_m=250.0, rule_overrides=overrides),
                                preset(name, overrides=overrides))
    assert tighter.ratio == (1.0, 1.2) and tighter.radius_m == 250.0


def test_stations_use_r1s_floor_area_and_the_plans_walks() -> None:
    """R1's 15 m2 (overridable) admits a site; stations 500 m and cargo 300 m walk by default."""
    area = np.array([14.9, 15.0, 19.9, 20.0, 100.0])
    assert station_sites(area, preset("guangdong")).tolist() == [1, 2, 3, 4]
    assert station_sites(area, preset("guangdong", overrides={"R1": 20.0})).tolist() == [3, 4]
    # PLAN_RULES.md: community stations within 500 m (10-minute circle), cargo as lockers
    assert StationParameters().radius_m == 500.0
    assert StationParameters().cargo_radius_m == 300.0


def test_defaults_are_declared_once() -> None:
    assert LockerParameters().ratio == R2_RATIO
    assert LockerParameters().radius_m == WALK_RADIUS_M
    literal = re.compile(r"\(1\.0, 1\.3\)|radius_m: float = 300|default=300\.0")
    hits = [f"{p.relative_to(ROOT)}:{i}"
            for pkg in ("geodata", "optimizer", "maps", "siting")
            for p in sorted((ROOT / pkg).rglob("*.py"))
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if literal.search(line) and p.name != "rules.py"]
    assert not hits, f"R2's window or the walk radius declared again: {hits}"


def test_docs_rules_page_is_what_the_registry_renders() -> None:
    """``docs/rules.md`` is generated: regenerate it with ``siting rules --markdown``."""
    from typer.testing import CliRunner

    from siting.cli import app

    result = CliRunner().invoke(app, ["rules", "--markdown"])
    assert result.exit_code == 0, result.output
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert result.output == committed, (
        "docs/rules.md is stale: python -m siting rules --markdown > docs/rules.md")
    for rule_id in RULE_IDS:
        assert f"## {rule_id}: " in committed
        assert REGISTRY[rule_id].where in committed
