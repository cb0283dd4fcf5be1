"""Scenario files: what-if runs described in TOML, validated, expanded and hashed.

A scenario file names an area, a rules preset, the parameters the plans leave open, the tiers
to plan, the solver and, optionally, the planner's own inputs. A ``[sweep]`` table lists
several values for some fields; the file then stands for the cartesian product of them::

    name = "tianfu"

    [area]
    osm = "chengdu.osm.xz"            # or "demo" for the vendored Chengdu extract

    [rules]
    preset = "national"

    [parameters]
    radius_m = 300
    growth = { rate = 0.1, base_year = 2021, target_year = 2025 }

    [solver]
    name = "highs"
    time_limit = 60

    [sweep]
    radius_m = [200, 300, 400]
    rules = ["national", "guangdong"]

gives six scenarios named ``tianfu__radius_m-200__rules-national`` and so on (sweep keys in
file order, values in list order).

Every option of :class:`siting.options.Options` has its table: ``[demand]``, ``[lockers]``,
``[stations]``, ``[rural]``, ``[hubs]``, ``[rules]``, ``[solver]``, ``[output]``, ``tiers``, and
``boundary``/``boundary_crs`` in ``[area]``, e.g. ``[stations]`` ``radius_m = 400``. The
``[parameters]`` keys and ``lang`` above set the same options (:data:`PARAMETER_PATHS`); an
option set both ways is an error. A sweep key is a short name of :data:`SWEEP_ALIASES` or any
dotted option path (``"stations.radius_m" = [400, 600]``).

Rules of the file
-----------------
* Unknown keys and bad values are errors; every fault of a file is reported at once, naming
  the file, the field, the value found and the fix (:class:`ScenarioError`); an unknown key
  names the nearest valid one.
* Paths are relative to the scenario file and must stay inside its folder (or inside the
  ``root`` given to :func:`load_scenarios`): ``..`` that climbs out, or an absolute path
  elsewhere, is an error, so a scenario shared with a colleague cannot read files outside the
  folder it came in (``--root FOLDER`` widens it). The word ``"demo"`` as ``area.osm`` names
  the vendored Chengdu extract.
* ``growth = {rate, base_year, target_year}`` sets the growth factor
  ``(1 + rate) ** (target_year - base_year)``; ``growth_factor`` sets it directly.

The **input hash** of a scenario (:func:`input_hash`) is the sha256 of its validated content
(paths replaced by the names and sha256 of the files they point at) and the package version;
the batch runner skips a scenario whose hash is unchanged and whose outputs are complete.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import itertools
import json
import logging
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from copy import copy, deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from geodata.cache import file_sha256
from geodata.errors import InputDataError
from optimizer.hierarchy import TIERS
from siting.options import (
    GROUPS,
    AreaOptions,
    DemandOptions,
    Growth,
    HubOptions,
    LockerOptions,
    Options,
    OutputOptions,
    PlanOptions,
    RuleOptions,
    RuralOptions,
    SolverOptions,
    StationOptions,
    check_tier_list,
    nearest_key,
    option_faults,
    set_path,
)

__all__ = [
    "INPUT_KEYS",
    "KNOWN_TIERS",
    "PARAMETER_PATHS",
    "SWEEP_ALIASES",
    "Area",
    "Districts",
    "Growth",
    "Inputs",
    "Parameters",
    "Rules",
    "Scenario",
    "ScenarioError",
    "ScenarioRun",
    "SolverSettings",
    "UserInput",
    "expand_sweep",
    "input_hash",
    "load_many",
    "load_scenarios",
    "package_version",
    "plan_kwargs",
    "plan_options",
]

log = logging.getLogger(__name__)

#: The tiers a scenario may list (the one vocabulary of :mod:`optimizer.hierarchy`).
KNOWN_TIERS: tuple[str, ...] = TIERS

#: ``area.osm`` value that names the vendored Chengdu extract.
DEMO_KEYWORD = "demo"

_NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$"


class ScenarioError(InputDataError):
    """A scenario file is unreadable or invalid; ``faults`` lists every problem found.

    Parameters
    ----------
    path
        The scenario file.
    faults
        One dict per problem: ``field``, ``value``, ``problem``, ``fix``.
    """

    def __init__(self, path: str | Path | None, faults: Sequence[Mapping[str, str]]) -> None:
        self.faults = [dict(f) for f in faults]
        lines = [
            f"field '{f['field']}' = {f['value']}: {f['problem']} (fix: {f['fix']})"
            for f in self.faults
        ]
        n = len(lines)
        problem = (lines[0] if n == 1 else f"{n} problems:\n  - " + "\n  - ".join(lines))
        super().__init__(path, problem, "correct the field(s) named above and run again")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Districts(_Model):
    """City mode: split the area into districts by administrative boundaries.

    Attributes
    ----------
    source
        ``"osm"``: the OSM file's ``boundary=administrative`` relations at ``admin_level``;
        ``"file"``: the features of ``file`` (a GeoJSON/GPKG such as a DataV file).
    admin_level
        OSM admin level of the districts (8: 街道 sub-districts in China).
    file
        Boundary file for ``source="file"``, relative to the scenario file.
    datum
        Datum of ``file``: {"auto", "wgs84", "gcj02"}.
    name_field
        Property of ``file`` that names each district.
    buffer_m
        Candidate sites are taken within this distance of a district (default: the walking
        radius), so homes near a border may use a locker across it.
    """

    source: Literal["osm", "file"] = "osm"
    admin_level: int = Field(default=8, ge=2, le=11)
    file: str | None = None
    datum: Literal["auto", "wgs84", "gcj02"] = "auto"
    name_field: str = "name"
    buffer_m: float | None = Field(default=None, ge=0, le=5000)

    @model_validator(mode="after")
    def _file_matches_source(self) -> Districts:
        if self.source == "file" and not self.file:
            raise ValueError("source = 'file' needs file = 'districts.geojson'")
        if self.source == "osm" and self.file:
            raise ValueError("file is only read with source = 'file'")
        return self


class Area(AreaOptions):
    """Where to plan: an OSM file, optionally cut to a boundary or split into districts."""

    osm: str = Field(min_length=1)
    districts: Districts | None = None


def _legacy(path: str) -> Any:
    """Return the ``[parameters]`` field that sets option ``path``, with its bounds and help.

    Its default is ``None`` (the option's default applies), but for the radius, mode and budget
    kind, which the first scenario files recorded with their values.
    """
    group, name = path.split(".")
    model = Options.model_fields[group].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    info = copy(model.model_fields[name])
    if name not in ("radius_m", "mode", "budget_kind"):
        info.default = None
    info.json_schema_extra = {**(info.json_schema_extra or {}), "option": path}  # type: ignore[dict-item]
    return info


class Parameters(_Model):
    """``[parameters]``, the first scenario files' table: each key sets one option.

    The option (its default, unit, bounds and help) is the one :data:`PARAMETER_PATHS` names;
    ``None`` keeps its default.
    """

    radius_m: float = _legacy("lockers.radius_m")
    mode: Literal["min-cost", "max-cover"] = _legacy("lockers.mode")
    budget: int | None = _legacy("lockers.budget")
    budget_kind: Literal["modules", "sites"] = _legacy("lockers.budget_kind")
    parcels_per_resident_per_year: float | None = _legacy(
        "demand.parcels_per_resident_per_year")
    locker_share: float | None = _legacy("demand.locker_share")
    floor_area_per_resident_m2: float | None = _legacy("demand.floor_area_per_resident_m2")
    growth_factor: float | None = _legacy("demand.growth_factor")
    growth: Growth | None = _legacy("demand.growth")
    compartments_per_module: int | None = _legacy("lockers.compartments_per_module")
    site_cost: float | None = _legacy("lockers.site_cost")
    module_cost: float | None = _legacy("lockers.module_cost")
    max_modules_per_site: int | None = _legacy("lockers.max_modules_per_site")
    county_hubs: int | None = _legacy("hubs.county_hubs")
    hub_sorting_capacity: float | None = _legacy("hubs.sorting_capacity")
    automatic_sorting: bool | None = _legacy("hubs.automatic_sorting")

    @property
    def effective_growth_factor(self) -> float | None:
        """The growth factor from ``growth`` or ``growth_factor`` (``None``: the default)."""
        return self.growth.factor if self.growth is not None else self.growth_factor


#: The keys of ``[parameters]`` and the option each sets.
PARAMETER_PATHS: Mapping[str, str] = {
    k: str((f.json_schema_extra or {})["option"])  # type: ignore[index]
    for k, f in Parameters.model_fields.items()}

#: Short sweep keys and the field each one varies (any dotted field path works too, e.g.
#: ``stations.radius_m``).
SWEEP_ALIASES: Mapping[str, str] = {
    **{k: f"parameters.{k}" for k in PARAMETER_PATHS if k != "growth"},
    "rules": "rules.preset",
    "preset": "rules.preset",
    "solver": "solver.name",
    "time_limit": "solver.time_limit",
    "work_limit": "solver.work_limit",
    "tiers": "tiers",
    "lang": "lang",
}

#: The rules and solver tables are the options' groups.
Rules = RuleOptions
SolverSettings = SolverOptions


class UserInput(_Model):
    """A planner's own table: CSV, XLSX or GeoJSON, with its datum declared."""

    path: str = Field(min_length=1)
    datum: Literal["wgs84", "gcj02"]
    sheet: str | None = None


class Inputs(_Model):
    """Planner-supplied communities, existing facilities and hub sites.

    Each is read by :mod:`geodata.user_inputs` (``read_<key>``).
    """

    communities: UserInput | None = None
    inventory: UserInput | None = None
    hub_sites: UserInput | None = None


class Scenario(_Model):
    """One what-if run (a sweep already expanded).

    Its option tables are those of :class:`siting.options.Options` (``[demand]``,
    ``[lockers]``, ``[stations]``, ``[rural]``, ``[hubs]``, ``[rules]``, ``[solver]``,
    ``[output]``, ``tiers``, and ``boundary``/``boundary_crs`` of ``[area]``); the first files'
    ``[parameters]`` and ``lang`` set the same options (:data:`PARAMETER_PATHS`).
    """

    name: str = Field(pattern=_NAME_RE)
    description: str = ""
    area: Area
    rules: RuleOptions = Field(default_factory=RuleOptions)
    parameters: Parameters = Field(default_factory=Parameters)
    tiers: list[str] = Field(default_factory=lambda: ["lockers"], min_length=1)
    solver: SolverOptions = Field(default_factory=SolverOptions)
    inputs: Inputs = Field(default_factory=Inputs)
    lang: Literal["zh", "en"] = OutputOptions.model_fields["lang"].default
    demand: DemandOptions = Field(default_factory=DemandOptions)
    lockers: LockerOptions = Field(default_factory=LockerOptions)
    stations: StationOptions = Field(default_factory=StationOptions)
    rural: RuralOptions = Field(default_factory=RuralOptions)
    hubs: HubOptions = Field(default_factory=HubOptions)
    output: OutputOptions = Field(default_factory=OutputOptions)

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: list[str]) -> list[str]:
        check_tier_list(value)
        return value

    @model_validator(mode="after")
    def _valid_options(self) -> Scenario:
        self.options()
        return self

    def options(self) -> Options:
        """Return the scenario's options (:class:`siting.options.Options`).

        Returns
        -------
        Options
            Every option the scenario sets, defaults for the others.

        Raises
        ------
        ValueError
            When ``[parameters]`` (or ``lang``) and an option table set the same option, or
            the options are inconsistent (``max-cover`` without a budget).
        """
        doc: dict[str, Any] = {g: getattr(self, g).model_dump(exclude_unset=True)
                               for g in GROUPS if g != "area"}
        doc["area"] = self.area.model_dump(include=set(AreaOptions.model_fields))
        doc["tiers"] = tuple(self.tiers)
        legacy = {PARAMETER_PATHS[k]: getattr(self.parameters, k)
                  for k in self.parameters.model_fields_set}
        if "lang" in self.model_fields_set:
            legacy["output.lang"] = self.lang
        for path, value in legacy.items():
            group, key = path.split(".")
            if key in doc[group]:
                raise ValueError(f"{path} is set twice (also by [parameters] or lang); keep one")
            if value is not None:
                doc[group][key] = value
        try:
            return Options.model_validate(doc)
        except ValidationError as err:
            raise ValueError("; ".join(f"{f['field']}: {f['problem']}"
                                       for f in option_faults(err))) from None


#: The planner's tables of ``[inputs]``, each a :class:`UserInput`.
INPUT_KEYS: tuple[str, ...] = tuple(Inputs.model_fields)


@dataclass(frozen=True)
class ScenarioRun:
    """A validated scenario ready to run.

    Attributes
    ----------
    scenario
        The validated scenario; its paths are absolute.
    source
        The scenario file.
    sweep
        The swept field values of this run (field path to value), empty without a sweep.
    input_hash
        See :func:`input_hash`.
    """

    scenario: Scenario
    source: Path
    sweep: dict[str, Any] = field(default_factory=dict)
    input_hash: str = ""

    @property
    def name(self) -> str:
        """The scenario's (unique) name, also its output folder name."""
        return self.scenario.name


def plan_kwargs(scenario: Scenario, *, out: Path | None) -> dict[str, Any]:
    """Keyword arguments of :func:`siting.pipeline.plan` for a scenario.

    The planner's own inputs (community table, inventory, hub sites) are read here, so a bad
    file fails this scenario with a message naming it.

    Parameters
    ----------
    scenario
        A validated scenario with absolute paths.
    out
        The scenario's output folder, or ``None``.

    Returns
    -------
    dict
        Keyword arguments for ``plan(scenario.area.osm, **kwargs)``: ``settings`` (every
        option), the tables, ``out``, and each option under its ``plan()`` keyword too.
    """
    from siting.options import KEYWORDS, PARAMETER_KEYWORDS

    options = plan_options(scenario)
    kwargs: dict[str, Any] = {"settings": options.settings, "out": out}
    for key in (*KEYWORDS, *PARAMETER_KEYWORDS, *INPUT_KEYS):
        value = getattr(options, key)
        if value is not None or (key in KEYWORDS and key != "rule_overrides"):
            kwargs[key] = list(value) if key == "tiers" else value
    return kwargs


def plan_options(scenario: Scenario) -> PlanOptions:
    """Return the options of a scenario's plan (or of each district of a city scenario).

    Parameters
    ----------
    scenario
        A validated scenario with absolute paths.

    Returns
    -------
    siting.options.PlanOptions
        The scenario's options and its planner's tables, read.
    """
    from geodata import user_inputs

    tables = {}
    for key in INPUT_KEYS:
        item = getattr(scenario.inputs, key)
        if item is not None:
            reader = getattr(user_inputs, f"read_{key}")
            tables[key] = reader(item.path, datum=item.datum, sheet=item.sheet)
    return PlanOptions(scenario.options(), **tables)


def package_version() -> str:
    """Return the installed postal-siting version (``"0+unknown"`` when not installed).

    Returns
    -------
    str
        The version string.
    """
    try:
        return importlib.metadata.version("postal-siting")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _value_text(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _allowed_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str] | None:
    """Return the keys allowed at ``loc`` (the parent of an unknown key), or ``None``."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(str(part))
        if info is None:
            return None
        ann = info.annotation
        args = getattr(ann, "__args__", ())
        current = next((a for a in (ann, *args) if isinstance(a, type)
                        and issubclass(a, BaseModel)), None)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return None


def _fix_for(err: Mapping[str, Any], loc: Sequence[str | int]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = _allowed_keys(Scenario, loc[:-1])
        allowed_text = f"; allowed here: {', '.join(allowed)}" if allowed else ""
        near = nearest_key(str(loc[-1]), allowed or [])
        near_text = f"did you mean '{near}'? " if near else ""
        return f"{near_text}remove the key or correct its spelling{allowed_text}"
    if kind == "missing":
        return "add this field"
    if kind == "literal_error":
        return f"use one of {ctx.get('expected', 'the allowed values')}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return "give a value in the allowed range"
    if kind == "string_pattern_mismatch":
        return "use letters, digits, '_', '-' or '.' (at most 80 characters)"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "give a value of the right type (a number without quotes, a string in quotes)"
    return "see the problem stated and the example scenarios in examples/scenarios/"


def _faults_from(err: ValidationError, *, swept: Mapping[str, str]) -> list[dict[str, str]]:
    faults = []
    for e in err.errors(include_url=False):
        loc = [str(p) for p in e["loc"]]
        dotted = ".".join(loc)
        where = dotted or "(file)"
        for path, key in swept.items():
            if dotted == path or dotted.startswith(path + "."):
                where = f"{dotted} (from sweep.{key})"
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        # a check of the whole scenario's options names its fields in its message
        value = _value_text(e.get("input")) if loc else "(the scenario's options)"
        faults.append({
            "field": where,
            "value": "(absent)" if e["type"] == "missing" else value,
            "problem": msg,
            "fix": _fix_for(e, loc),
        })
    return faults


def _slug(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, list | tuple):
        value = "+".join(_slug(v) for v in value)
    text = re.sub(r"[^A-Za-z0-9.+-]+", "_", str(value)).strip("_")
    return text or "x"


def expand_sweep(
    raw: Mapping[str, Any], *, base_name: str
) -> tuple[list[tuple[str, dict[str, Any], dict[str, Any]]], list[dict[str, str]]]:
    """Expand the ``[sweep]`` table of a raw scenario into the cartesian product.

    Parameters
    ----------
    raw
        The parsed TOML document.
    base_name
        The scenario name (``name`` or the file stem).

    Returns
    -------
    runs : list of tuple
        ``(name, raw_document, swept_values)`` per combination, in file order; one entry
        (``swept_values`` empty) without a sweep.
    faults : list of dict
        Problems of the sweep table itself (unknown keys, empty or non-list values).
    """
    doc = {k: deepcopy(v) for k, v in raw.items() if k != "sweep"}
    sweep = raw.get("sweep")
    if sweep is None:
        return [(base_name, {**doc, "name": base_name}, {})], []
    faults: list[dict[str, str]] = []
    if not isinstance(sweep, dict):
        return [], [{"field": "sweep", "value": _value_text(sweep), "problem": "is not a table",
                     "fix": "write [sweep] with one list of values per field"}]
    keys: list[tuple[str, str, list[Any]]] = []
    for key, values in sweep.items():
        path = SWEEP_ALIASES.get(key, key)
        if path in ("name", "sweep") or (path not in SWEEP_ALIASES.values() and "." not in path):
            faults.append({"field": f"sweep.{key}", "value": _value_text(values),
                           "problem": "is not a field that can be swept",
                           "fix": f"use one of {', '.join(SWEEP_ALIASES)} or a dotted field path "
                                  "such as parameters.radius_m"})
            continue
        if not isinstance(values, list) or not values:
            faults.append({"field": f"sweep.{key}", "value": _value_text(values),
                           "problem": "is not a non-empty list",
                           "fix": f"write {key} = [value1, value2, ...]"})
            continue
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) != len(values):
            faults.append({"field": f"sweep.{key}", "value": _value_text(values),
                           "problem": "lists a value twice", "fix": "list each value once"})
            continue
        keys.append((key, path, values))
    if faults:
        return [], faults
    runs = []
    for combo in itertools.product(*(v for _, _, v in keys)):
        one = deepcopy(doc)
        name = base_name
        swept: dict[str, Any] = {}
        for (key, path, _), value in zip(keys, combo, strict=True):
            set_path(one, path, deepcopy(value))
            name += f"__{key}-{_slug(value)}"
            swept[path] = value
        one["name"] = name
        runs.append((name, one, swept))
    return runs, []


def _resolve_path(
    value: str, *, folder: Path, root: Path, field_name: str, faults: list[dict[str, str]]
) -> str:
    """Absolute, normalised path of a scenario path; a fault if it escapes ``root`` or is absent."""
    candidate = Path(os.path.normpath(folder / Path(value).expanduser()))
    try:
        candidate.relative_to(root)
    except ValueError:
        faults.append({
            "field": field_name, "value": _value_text(value),
            "problem": f"points outside the scenario's folder {root}",
            "fix": "give a path relative to the scenario file inside its folder, or name a "
                   "folder that holds both with --root FOLDER (siting batch and siting plan "
                   "--scenario)",
        })
        return str(candidate)
    if not candidate.is_file():
        faults.append({
            "field": field_name, "value": _value_text(value),
            "problem": f"no such file ({candidate})",
            "fix": "correct the path; it is relative to the scenario file",
        })
    return str(candidate)


def _raw_path_faults(doc: Mapping[str, Any], folder: Path, root: Path) -> list[dict[str, str]]:
    """Path faults of a document that failed validation, so all faults come out at once."""
    faults: list[dict[str, str]] = []
    area = doc.get("area")
    if isinstance(area, dict):
        for key in ("osm", "boundary"):
            value = area.get(key)
            if isinstance(value, str) and value and not (key == "osm" and value == DEMO_KEYWORD):
                _resolve_path(value, folder=folder, root=root, field_name=f"area.{key}",
                              faults=faults)
    return faults


def _resolved(scenario: Scenario, *, folder: Path, root: Path) -> tuple[Scenario, list[dict]]:
    faults: list[dict[str, str]] = []
    area = scenario.area
    if area.osm == DEMO_KEYWORD:
        from siting.pipeline import DEMO_OSM

        osm = str(DEMO_OSM)
    else:
        osm = _resolve_path(area.osm, folder=folder, root=root, field_name="area.osm",
                            faults=faults)
    boundary = (None if area.boundary is None else
                _resolve_path(area.boundary, folder=folder, root=root,
                              field_name="area.boundary", faults=faults))
    districts = area.districts
    if districts is not None and districts.file is not None:
        districts = districts.model_copy(update={"file": _resolve_path(
            districts.file, folder=folder, root=root, field_name="area.districts.file",
            faults=faults)})
    inputs = {}
    for key in INPUT_KEYS:
        item: UserInput | None = getattr(scenario.inputs, key)
        if item is not None:
            inputs[key] = item.model_copy(update={"path": _resolve_path(
                item.path, folder=folder, root=root, field_name=f"inputs.{key}.path",
                faults=faults)})
    new_area = area.model_copy(update={"osm": osm, "boundary": boundary, "districts": districts})
    return scenario.model_copy(update={
        "area": new_area, "inputs": scenario.inputs.model_copy(update=inputs)}), faults


def _files_of(scenario: Scenario) -> dict[str, str]:
    files = {"area.osm": scenario.area.osm}
    if scenario.area.boundary:
        files["area.boundary"] = scenario.area.boundary
    if scenario.area.districts is not None and scenario.area.districts.file:
        files["area.districts.file"] = scenario.area.districts.file
    for key in INPUT_KEYS:
        item = getattr(scenario.inputs, key)
        if item is not None:
            files[f"inputs.{key}.path"] = item.path
    return files


def input_hash(scenario: Scenario) -> str:
    """Hash of what a run's result depends on: the scenario, its input files and the version.

    Parameters
    ----------
    scenario
        A scenario with absolute paths (as :func:`load_scenarios` returns it).

    Returns
    -------
    str
        64 hex digits: sha256 of the scenario content (each path replaced by its file's name and
        sha256, so moving a folder does not change it), and the package version.
    """
    content = scenario.model_dump(mode="json")
    if content["solver"]["work_limit"] is None:  # unset: the hash of earlier runs holds
        del content["solver"]["work_limit"]
    for group in ("demand", "lockers", "stations", "rural", "hubs", "output"):
        if not getattr(scenario, group).model_fields_set:  # likewise for the later tables
            del content[group]
    files = {}
    for key, path in sorted(_files_of(scenario).items()):
        p = Path(path)
        files[key] = [p.name, file_sha256(p) if p.is_file() else "missing"]
    content["area"]["osm"] = None
    content["area"]["boundary"] = None
    if content["area"].get("districts"):
        content["area"]["districts"]["file"] = None
    for key in INPUT_KEYS:
        if content["inputs"].get(key):
            content["inputs"][key]["path"] = None
    blob = json.dumps({"scenario": content, "files": files, "version": package_version()},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError(path, [{"field": "(file)", "value": str(path),
                                    "problem": "the scenario file does not exist",
                                    "fix": "check the path"}]) from None
    except UnicodeDecodeError as err:
        raise ScenarioError(path, [{"field": "(file)", "value": f"byte {err.start}",
                                    "problem": "is not UTF-8 text",
                                    "fix": "save the file as UTF-8"}]) from None
    except OSError as err:
        raise ScenarioError(path, [{"field": "(file)", "value": str(path),
                                    "problem": f"cannot be read ({err.strerror or err})",
                                    "fix": "check the path and its permissions"}]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(path, [{"field": "(file)", "value": "(TOML syntax)",
                                    "problem": f"is not valid TOML: {err}",
                                    "fix": "correct the TOML syntax at the line named"}]) from None


def load_scenarios(path: str | Path, *, root: str | Path | None = None) -> list[ScenarioRun]:
    """Read one scenario file and return its runs (several with a ``[sweep]``).

    Parameters
    ----------
    path
        The TOML file.
    root
        Folder that every path of the scenario must stay inside; default the scenario file's
        own folder.

    Returns
    -------
    list of ScenarioRun
        Validated runs with absolute paths and their input hash, in sweep order.

    Raises
    ------
    ScenarioError
        Listing every fault of the file at once (unreadable file, TOML syntax, unknown key,
        wrong type or value, a path that escapes the folder or does not exist).
    """
    path = Path(path).expanduser().absolute()
    folder = path.parent
    root_dir = Path(os.path.normpath(Path(root).expanduser().absolute())) if root else folder
    raw = _read_toml(path)
    base_name = raw.get("name", path.name.removesuffix(".toml"))
    if not isinstance(base_name, str):
        base_name = str(base_name)
    runs_raw, faults = expand_sweep(raw, base_name=base_name)
    runs: list[ScenarioRun] = []
    seen: set[str] = set()
    for name, doc, swept in runs_raw:
        swept_keys = {p: k for k, p in ((k, SWEEP_ALIASES.get(k, k))
                                        for k in (raw.get("sweep") or {}))}
        try:
            scenario = Scenario.model_validate(doc)
        except ValidationError as err:
            for fault in [*_faults_from(err, swept=swept_keys), *_raw_path_faults(doc, folder,
                                                                                  root_dir)]:
                if fault not in faults:
                    faults.append(fault)
            continue
        scenario, path_faults = _resolved(scenario, folder=folder, root=root_dir)
        for fault in path_faults:
            if fault not in faults:
                faults.append(fault)
        if name in seen:
            faults.append({"field": "sweep", "value": name, "problem": "two runs share a name",
                           "fix": "make the swept values distinct"})
        seen.add(name)
        runs.append(ScenarioRun(scenario=scenario, source=path, sweep=swept))
    if faults:
        raise ScenarioError(path, faults)
    hashed = [ScenarioRun(scenario=r.scenario, source=r.source, sweep=r.sweep,
                          input_hash=input_hash(r.scenario)) for r in runs]
    log.info("scenario %s: %d run(s)", path.name, len(hashed))
    return hashed


def load_many(paths: Iterable[str | Path], *, root: str | Path | None = None,
              ) -> tuple[list[ScenarioRun], list[tuple[Path, ScenarioError]]]:
    """Load several scenario files, keeping the faults of each bad file apart.

    Parameters
    ----------
    paths
        Scenario files.
    root
        See :func:`load_scenarios`.

    Returns
    -------
    runs : list of ScenarioRun
        The runs of every good file, in order.
    errors : list of tuple
        ``(file, error)`` per file that could not be loaded.

    Raises
    ------
    ScenarioError
        If two files define runs with the same name.
    """
    runs: list[ScenarioRun] = []
    errors: list[tuple[Path, ScenarioError]] = []
    names: dict[str, Path] = {}
    for p in paths:
        try:
            loaded = load_scenarios(p, root=root)
        except ScenarioError as err:
            errors.append((Path(p), err))
            continue
        for run in loaded:
            if run.name in names:
                raise ScenarioError(p, [{
                    "field": "name", "value": run.name,
                    "problem": f"the scenario name is also used by {names[run.name]}",
                    "fix": "give each scenario file its own name = '...'"}])
            names[run.name] = run.source
        runs.extend(loaded)
    return runs, errors
