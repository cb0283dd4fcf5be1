"""The rule registry: every rule id has its enforcing function, its check and a real test;
rule values and the defaults they imply are declared once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from optimizer.lockers import LockerParameters
from optimizer.rule_registry import REGISTRY, resolve, rule_values
from optimizer.rules import R2_RATIO, RULE_IDS, WALK_RADIUS_M

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


def test_values_by_preset_come_from_the_rule_set() -> None:
    assert set(rule_values("R2").values()) == {R2_RATIO}
    assert rule_values("R3")["shanxi"] == (1.0, 1.0)
    assert set(rule_values("G2")) == {"zhengzhou"}


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
