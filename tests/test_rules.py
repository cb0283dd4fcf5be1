"""The plan rules as data: presets, clauses traced to the seed texts, overrides, targets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geodata.errors import ParameterError
from optimizer.rules import PRESETS, RULE_IDS, RuleSet, preset
from optimizer.targets import (
    PLANS,
    TARGETS,
    Clause,
    QuantityTarget,
    normalize_text,
    target_share,
)

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
HARD = ("R1", "R2", "R3", "R4", "R5", "R6", "R7")


@pytest.fixture(scope="module")
def seed_texts() -> dict[str, str]:
    if not SEEDS.exists():
        reason = f"{SEEDS} is absent: the plan seed texts live in ../shared/seeds"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return {p.source: normalize_text((SEEDS / p.seed_file).read_text()) for p in PLANS.values()}


def all_clauses() -> list[tuple[str, Clause]]:
    out: list[tuple[str, Clause]] = []
    for name in PRESETS:
        for rule in preset(name):
            out.append((f"{name}:{rule.id}", Clause(rule.source, rule.clause, rule.quote)))
            out += [(f"{name}:{rule.id}:also", c) for c in rule.also]
    for target in TARGETS.values():
        out.append((f"target:{target.plan}", target.cite))
        out += [(f"target:{target.plan}:{f.key}", f.cite) for f in target.figures]
    return out


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_has_r1_to_r7_in_order(name: str) -> None:
    rules = preset(name)
    assert isinstance(rules, RuleSet) and rules.name == name
    assert rules.ids[:7] == HARD
    assert all(rules[rid].kind == "constraint" for rid in HARD)
    assert {"G1", "G3", "G4", "G5"} <= set(rules.ids)
    assert list(rules.ids) == [r for r in RULE_IDS if r in rules]
    for rule in rules:
        assert rule.plan == name
        own = PLANS[name].source
        # a rule is inherited exactly when its clause is from another plan, which it names
        if rule.source == own:
            assert rule.inherited_from is None, rule.id
        else:
            assert rule.inherited_from is not None, rule.id
            assert PLANS[rule.inherited_from].source == rule.source



def _figure(target: QuantityTarget, key: str) -> float:
    figure = target.figure(key)
    assert figure is not None, f"{target.plan} has no figure {key}"
    return figure.value

def test_clause_quotes_occur_in_the_seed_texts(seed_texts: dict[str, str]) -> None:
    clauses = all_clauses()
    assert len(clauses) > 60
    missing = [
        (where, c.source, c.quote)
        for where, c in clauses
        if normalize_text(c.quote) not in seed_texts[c.source]
    ]
    assert missing == []
    assert all(len(c.quote) <= 60 and c.clause for _, c in clauses)


def test_quotes_carry_the_numbers_they_justify() -> None:
    gd = preset("guangdong")
    assert "15 平方米" in gd["R1"].quote and gd["R1"].value == 15.0
    assert "1-1.3 倍" in gd["R2"].quote and gd["R2"].value == (1.0, 1.3)
    assert "1-2 个" in gd["R3"].quote and gd["R3"].value == (1.0, 2.0)
    assert "5 万件" in gd["R6"].quote and gd["R6"].value == 50_000.0
    assert "街坊中心" in gd["R7"].quote
    assert "100%" in gd["G4"].quote and gd["G4"].value == 1.0
    assert ">90" in preset("national")["G4"].quote and preset("national")["G4"].value == 0.9
    sx = preset("shanxi")
    assert sx["G4"].value == 0.9 and sx["G4"].source == "003"
    assert "每个行政村设立一个" in sx["R3"].quote and sx["R3"].value == (1.0, 1.0)
    assert "每个县建成一个" in sx["R5"].quote
    zz = preset("zhengzhou")
    assert "100%" in zz["R6"].quote and zz["R6"].value == 0.0
    assert zz["G2"].value == 1.0 and "商业区" in zz["G2"].quote
    assert preset("xinyang")["G4"].value == 1.0 and preset("xinyang")["G4"].source == "000"


def test_inheritance_follows_own_plan_then_national_then_the_quantifying_plan() -> None:
    gd = preset("guangdong")
    assert [r.inherited_from for r in gd] == [None] * len(gd)
    xy = preset("xinyang")
    assert xy["R1"].inherited_from == "guangdong" and xy["R1"].source == "004"
    assert xy["R2"].clause == "五(二) 公共末端工程"
    assert xy["R7"].inherited_from == "national" and xy["R7"].source == "002"
    assert xy["R5"].inherited_from is None and "县级分拨" in xy["R5"].quote
    # the own plan's qualitative mandate is kept alongside the borrowed number
    assert [c.source for c in xy["R3"].also] == ["000"]
    assert preset("national")["R5"].inherited_from == "shanxi"
    assert preset("national")["R4"].source == "002"


def test_get_and_membership() -> None:
    gd = preset("guangdong")
    assert "G2" not in gd and gd.get("G2") is None
    assert "G2" in preset("zhengzhou")
    with pytest.raises(ParameterError, match="R8"):
        gd.get("R8")
    with pytest.raises(ParameterError, match="guangdong preset carries no rule G2"):
        gd["G2"]
    assert gd["R2"] == gd.get("R2")
    assert len(gd) == 11 and len(preset("zhengzhou")) == 12


def test_unknown_preset_lists_the_valid_names() -> None:
    with pytest.raises(ParameterError) as err:
        preset("henan")
    assert "henan" in str(err.value)
    assert all(name in str(err.value) for name in PRESETS)
    assert preset(" Xinyang ").name == "xinyang"


def test_overrides_return_a_new_ruleset_and_keep_the_clause() -> None:
    base = preset("guangdong")
    new = base.with_overrides({"R2": (1.0, 1.2), "R6": 30_000, "G4": 0.95, "R3": [1, 3]})
    r2 = new["R2"]
    assert r2.value == (1.0, 1.2) and r2.plan_value == (1.0, 1.3) and r2.overridden
    assert r2.clause == base["R2"].clause and r2.quote == base["R2"].quote
    assert new["R6"].value == 30_000.0 and new["R3"].value == (1.0, 3.0)
    assert (new["R2"].low, new["R2"].high) == (1.0, 1.2)
    # the preset itself is untouched
    assert base["R2"].value == (1.0, 1.3) and not base["R2"].overridden
    assert preset("guangdong")["R6"].value == 50_000.0
    assert preset("xinyang", overrides={"R1": 20})["R1"].value == 20.0
    assert base.with_overrides({}) == base


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"R9": 1}, "R9"),
        ({"G2": 1.0}, "G2"),  # not part of the guangdong preset
        ({"R2": 1.1}, "R2"),  # a range needs (low, high)
        ({"R2": (1.3, 1.0)}, "R2"),
        ({"R2": (1.0, "x")}, "R2"),
        ({"R1": "15"}, "R1"),
        ({"R1": True}, "R1"),
        ({"R1": -1}, "R1"),
        ({"R6": float("inf")}, "R6"),
        ({"R1": (10, 20)}, "R1"),
        ({"G4": 1.5}, "G4"),
        ({"G3": 1.0}, "G3"),  # qualitative
        ({"R3": (0, 2)}, "R3"),
    ],
)
def test_bad_overrides_name_the_rule(overrides: dict[str, object], needle: str) -> None:
    with pytest.raises(ParameterError, match=needle):
        preset("guangdong").with_overrides(overrides)


def test_bad_overrides_are_reported_all_at_once() -> None:
    with pytest.raises(ParameterError) as err:
        preset("xinyang").with_overrides({"R1": "big", "X1": 2, "R2": 3})
    assert all(s in str(err.value) for s in ("R1", "X1", "R2", "xinyang"))


def test_quantity_targets_of_the_plans() -> None:
    assert preset("national").target is None
    xy, sx, gd, zz = (preset(p).target for p in ("xinyang", "shanxi", "guangdong", "zhengzhou"))
    assert xy is not None and sx is not None and gd is not None and zz is not None
    assert xy.compartments == 16_000 and xy.locker_units is None
    assert xy.cite.source == "000" and "16000" in xy.cite.quote
    assert _figure(xy, "locker_units_2020") == 240
    assert (sx.locker_units, sx.compartments) == (9_000, 160_000) and sx.cite.source == "003"
    assert gd.locker_units == 200_000 and gd.compartments is None and gd.cite.source == "004"
    assert _figure(gd, "express_items_per_year") == 480e8
    assert zz.locker_units is None and zz.compartments is None
    assert "2025" in xy.describe() and "16,000 compartments" in xy.describe()
    assert "三(四)1" in xy.describe()


@pytest.mark.parametrize("name", ["xinyang", "guangdong"])
def test_population_matches_the_plans_per_resident_volume(name: str) -> None:
    """The documented population is that of the plan's area: volume / population is near the
    plan's own items-per-resident figure (a provincial population would be off by 10x)."""
    target = TARGETS[name]
    volume = _figure(target, "express_items_per_year")
    per_resident = _figure(target, "items_per_resident_per_year")
    assert 0.7 < volume / target.population / per_resident < 1.5
    assert "第七次全国人口普查" in target.population_source


def test_target_share_arithmetic() -> None:
    sx = TARGETS["shanxi"]
    out = target_share(sx, sx.population / 100, planned_units=45, planned_compartments=1_600)
    assert out["share"] == pytest.approx(0.01)
    assert out["locker_units"] == pytest.approx(90.0) and out["compartments"] == pytest.approx(
        1_600
    )
    assert out["units_ratio"] == pytest.approx(0.5) and out["compartments_ratio"] == pytest.approx(
        1.0
    )
    assert out["source"] == "003" and out["clause"] == sx.cite.clause
    xy = target_share(TARGETS["xinyang"], 62_344.01)
    assert xy["compartments"] == pytest.approx(160.0) and xy["locker_units"] is None
    assert xy["units_ratio"] is None
    zero = target_share(TARGETS["guangdong"], 0, planned_units=3)
    assert zero["locker_units"] == 0 and zero["units_ratio"] is None
    json.dumps(out)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), 40e6])
def test_target_share_rejects_bad_residents(bad: float) -> None:
    with pytest.raises(ParameterError, match="residents"):
        target_share(TARGETS["shanxi"], bad)
    with pytest.raises(ParameterError, match="planned_units"):
        target_share(TARGETS["shanxi"], 1_000, planned_units=-2)


@given(st.floats(0, 1.5e7), st.floats(0, 1.5e7))
def test_target_share_is_additive_over_areas(a: float, b: float) -> None:
    target = TARGETS["shanxi"]
    whole = target_share(target, a + b)
    parts = [target_share(target, x) for x in (a, b)]
    assert whole["compartments"] == pytest.approx(sum(p["compartments"] for p in parts), abs=1e-6)
    assert 0 <= whole["locker_units"] <= target.locker_units


def test_records_are_json_ready_and_traced() -> None:
    records = preset("xinyang", overrides={"R2": (1.0, 1.2)}).as_records()
    text = json.dumps(records, ensure_ascii=False)
    assert "五(二) 公共末端工程" in text
    r2 = next(r for r in records if r["id"] == "R2")
    assert r2["value"] == [1.0, 1.2] and r2["plan_value"] == [1.0, 1.3] and r2["overridden"]
    assert r2["seed_file"] == "004_d8fd1e1c0f5ef179.txt" and r2["inherited_from"] == "guangdong"
    keys = {"id", "title_zh", "title_en", "value", "unit", "source", "clause", "quote"}
    assert all(keys <= set(r) for r in records)
    json.dumps(TARGETS["xinyang"].as_record(), ensure_ascii=False)
    assert preset("shanxi")["R3"].value_text == "1"
    assert preset("guangdong")["R2"].value_text == "1–1.3"
    assert preset("guangdong")["G3"].value_text == "—"


def test_cli_lists_rules_with_clauses_and_the_target() -> None:
    import subprocess
    import sys

    def run(preset: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "siting", "rules", "--preset", preset],
            capture_output=True, text=True, timeout=120, env={"COLUMNS": "250", "PATH": ""},
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    guangdong = run("guangdong")
    for rule_id in ("R1", "R2", "R3", "R4", "R5", "R6", "R7"):
        assert f"│ {rule_id} " in guangdong
    assert "五(二) 公共末端工程" in guangdong and "004" in guangdong
    xinyang = run("xinyang")
    assert "16,000 compartments" in xinyang and "000 三(四)1" in xinyang
