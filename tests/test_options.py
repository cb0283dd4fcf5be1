"""The options model: every option reachable from the Python API, a scenario and the CLI, with
one default; unknown keys name the nearest valid one. ``summary.json`` naming every option is
checked on a real plan in ``test_plan_cli.py``."""

from __future__ import annotations

import inspect
import json
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from geodata.defaults import DemandParameters
from optimizer.hubs import HubParameters
from optimizer.lockers import LockerParameters
from optimizer.rural import RuralParameters
from optimizer.stations import StationParameters
from siting.cli import app, plan_command
from siting.cli_options import FLAGS
from siting.options import (
    KEYWORDS,
    PARAMETER_KEYWORDS,
    Options,
    OptionsError,
    PlanOptions,
    field_paths,
    with_values,
)
from siting.pipeline import plan
from siting.scenario import PARAMETER_PATHS, SWEEP_ALIASES, Parameters, load_scenarios

PATHS = field_paths()

#: The domain classes whose defaults the groups take (the one place each is written).
DOMAIN = {"demand": DemandParameters, "lockers": LockerParameters,
          "stations": StationParameters, "rural": RuralParameters, "hubs": HubParameters}


def other_values(path: str) -> dict[str, Any]:
    """Option ``path`` set to :func:`other_value` (with what it needs: a budget for max-cover)."""
    extra = {"lockers.budget": 5} if path == "lockers.mode" else {}
    return {path: other_value(path), **extra}


def other_value(path: str) -> Any:
    """A valid value of option ``path`` that is not its default."""
    info = PATHS[path]
    default = info.default
    ann = info.annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if path == "tiers":
        return ("lockers", "stations")
    if path == "demand.growth":
        return {"rate": 0.1, "base_year": 2021, "target_year": 2025}
    if path == "rules.overrides":
        return {"R2": (1.0, 1.2)}
    if path == "rules.preset":
        return "guangdong"
    if path == "hubs.county_centre":
        return (104.06, 30.66)
    if typing.get_origin(ann) is typing.Literal:
        return next(v for v in typing.get_args(ann) if v != default)
    if ann is bool:
        return not default
    kind = ann if isinstance(ann, type) else args[0]
    if kind is str:
        return "b.geojson" if path == "area.boundary" else "key"
    if kind is int:
        return 5 if default is None else default + 1
    return 0.5 * default if default else 2.0


def test_group_defaults_are_the_domain_classes_defaults() -> None:
    for group, cls in DOMAIN.items():
        model = Options().model_dump()[group]
        domain = {f.name: getattr(cls(), f.name) for f in fields(cls)}
        shared = set(model) & set(domain)
        assert shared, group
        assert {k: model[k] for k in shared} == {k: domain[k] for k in shared}, group
    assert Options().stations.radius_m == 500 and Options().stations.cargo_radius_m == 300


def test_every_option_has_help_and_a_non_default_value() -> None:
    assert len(PATHS) > 45
    for path, info in PATHS.items():
        assert info.description, path
        got = with_values(None, other_values(path))
        assert got != Options(), path


def test_python_api_reaches_every_option_with_one_default() -> None:
    sig = inspect.signature(plan)
    # plan()'s option keywords hold no default of their own: None takes the model's
    for key in (*KEYWORDS, *PARAMETER_KEYWORDS):
        assert key in sig.parameters and sig.parameters[key].default is None, key
    assert {p.split(".")[0] for p in KEYWORDS.values()} | {
        g for g, _ in PARAMETER_KEYWORDS.values()} >= {"area", "lockers", "solver", "output"}
    for path in PATHS:
        value = other_value(path)
        options = PlanOptions(with_values(None, other_values(path)))
        record = options.settings.record()
        node: Any = record
        for part in path.split("."):
            node = node[part]
        expected = json.loads(json.dumps(value))
        if path == "output.tianditu_key":
            expected = "(given)"
        assert node == expected, path


def test_keywords_and_parameter_objects_reach_the_model() -> None:
    options = PlanOptions(radius_m=250, time_limit=7, station_params=StationParameters(
        radius_m=420.0, cargo_radius_m=250.0), rural_params=RuralParameters(max_snap_m=800.0),
        hub_params=HubParameters(county_hubs=2), tiers=["lockers", "stations"])
    s = options.settings
    assert (s.lockers.radius_m, s.solver.time_limit) == (250, 7)
    assert (s.stations.radius_m, s.stations.cargo_radius_m) == (420, 250)
    assert options.station_params == StationParameters(radius_m=420.0, cargo_radius_m=250.0)
    assert s.rural.max_snap_m == 800 and s.hubs.county_hubs == 2
    assert s.tiers == ("lockers", "stations")


def test_unknown_keys_name_the_nearest_valid_key() -> None:
    with pytest.raises(OptionsError) as info:
        with_values(None, {"stations.radiusm": 400, "station.radius_m": 400,
                           "lockers.radius_m": -1})
    text = str(info.value)
    assert "did you mean 'stations.radius_m'" in text
    assert "did you mean 'stations'" in text
    assert "lockers.radius_m = -1" in text
    assert len(info.value.faults) == 3
    with pytest.raises(OptionsError, match="did you mean radius_m"):
        PlanOptions.of({"radius": 200})
    with pytest.raises(OptionsError, match="did you mean 'stations.radius_m'"):
        plan("unused.osm", settings={"stations.radiusm": 400})


def test_max_cover_needs_a_budget() -> None:
    with pytest.raises(OptionsError, match="needs a budget"):
        PlanOptions(mode="max-cover")


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def test_a_scenario_reaches_every_option(tmp_path: Path) -> None:
    (tmp_path / "b.geojson").write_text("{}")
    for path in PATHS:
        values = other_values(path)
        lines = {"": [], "area": ['osm = "demo"']}
        for one, value in values.items():
            group, _, key = one.partition(".")
            if key:
                lines.setdefault(group, []).append(f"{key} = {_toml_value(value)}")
            else:
                lines[""].append(f"{group} = {_toml_value(value)}")
        text = "\n".join(lines.pop("")) + "\n" + "".join(
            f"[{g}]\n" + "\n".join(body) + "\n" for g, body in lines.items())
        file = tmp_path / "s.toml"
        file.write_text(text, encoding="utf-8")
        got = load_scenarios(file)[0].scenario.options()
        if path == "area.boundary":
            values = {path: str(tmp_path / "b.geojson")}
        assert got == with_values(None, values), path


def test_legacy_parameters_keep_their_keys_and_default_to_the_model() -> None:
    for key, path in PARAMETER_PATHS.items():
        assert path in PATHS, key
        info = Parameters.model_fields[key]
        assert info.default in (None, PATHS[path].default), key
        assert info.description == PATHS[path].description, key
    assert all(p.startswith("parameters.") or p.split(".")[0] in ("rules", "solver")
               or p in ("tiers", "lang") for p in SWEEP_ALIASES.values())


def test_a_swept_dotted_option_and_a_misspelt_one(tmp_path: Path) -> None:
    file = tmp_path / "s.toml"
    file.write_text('[area]\nosm = "demo"\n[sweep]\n"stations.radius_m" = [400, 600]\n',
                    encoding="utf-8")
    runs = load_scenarios(file)
    assert [r.scenario.options().stations.radius_m for r in runs] == [400, 600]
    file.write_text('[area]\nosm = "demo"\n[stations]\nradiusm = 400\n', encoding="utf-8")
    with pytest.raises(Exception, match="did you mean 'radius_m'"):
        load_scenarios(file)
    file.write_text('[area]\nosm = "demo"\n[parameters]\nradius_m = 200\n[lockers]\n'
                    'radius_m = 250\n', encoding="utf-8")
    with pytest.raises(Exception, match="set twice"):
        load_scenarios(file)


def _printed(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["plan", "--out", "unused", "--print-options", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _at(record: dict[str, Any], path: str) -> Any:
    node: Any = record
    for part in path.split("."):
        node = node[part]
    return node


def test_the_cli_reaches_every_option_with_set() -> None:
    defaults = _printed([])
    assert defaults == Options().record()
    for path in PATHS:
        args = [a for k, v in other_values(path).items() for a in ("--set",
                                                                   f"{k}={_toml_value(v)}")]
        expected = with_values(None, other_values(path)).record()
        assert _printed(args) == expected, path


def _flag_text(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def test_each_option_flag_sets_its_option_and_holds_no_default() -> None:
    params = {p.name: p for p in plan_command().params}
    for name, path in FLAGS.items():
        assert path in PATHS, name
        assert params[name].default is None, name  # the model's default, not the flag's
        value = other_value(path)
        flag = params[name].opts[0]
        got = _printed([flag, _flag_text(value)] + (
            ["--budget", "5"] if path == "lockers.mode" else []))
        assert _at(got, path) == json.loads(json.dumps(value)) or (
            path == "output.tianditu_key" and _at(got, path) == "(given)"), name
    result = CliRunner().invoke(app, ["plan", "--out", "x", "--print-options", "--set",
                                      "stations.radiusm=400"])
    assert result.exit_code == 2
    assert "did you mean 'stations.radius_m'" in " ".join(result.output.split())
