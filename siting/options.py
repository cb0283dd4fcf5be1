"""Every option of a district plan, declared once: :class:`Options`.

:class:`Options` is a frozen pydantic model, grouped like a scenario file (``area``, ``demand``,
``lockers``, ``stations``, ``rural``, ``hubs``, ``rules``, ``solver``, ``output``, ``tiers``).
Each field states its type, unit, default, bounds and help text; the model's defaults are those
of the domain's parameter classes (:class:`geodata.defaults.DemandParameters`,
:class:`optimizer.lockers.LockerParameters`, :class:`optimizer.stations.StationParameters`,
:class:`optimizer.rural.RuralParameters`, :class:`optimizer.hubs.HubParameters`), read from
them, so each default is written in one place. ``siting.plan()``'s keywords, the ``siting plan``
flags (and ``--set group.field=value``), the scenario file, its sweep keys and
``summary.json["parameters"]["options"]`` all come from this model.

Unknown keys are errors naming the nearest valid key (:class:`OptionsError`).

:class:`PlanOptions` is a plan's options as one value: an :class:`Options` and the planner's
tables (picklable, so a city sends it to each district's Dask task).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from geodata.defaults import DemandParameters
from geodata.errors import ParameterError
from optimizer.hierarchy import TIERS, unknown_tiers
from optimizer.hubs import HubParameters
from optimizer.lockers import LockerParameters
from optimizer.rural import RuralParameters
from optimizer.stations import StationParameters

__all__ = [
    "GROUPS",
    "KEYWORDS",
    "PARAMETER_KEYWORDS",
    "AreaOptions",
    "DemandOptions",
    "Growth",
    "HubOptions",
    "LockerOptions",
    "Options",
    "OptionsError",
    "OutputOptions",
    "PlanOptions",
    "RuleOptions",
    "RuralOptions",
    "SolverOptions",
    "StationOptions",
    "check_tier_list",
    "field_paths",
    "keyword_values",
    "nearest_key",
    "option_faults",
    "with_values",
]

Datum = Literal["auto", "wgs84", "gcj02"]


def _default(cls: type, name: str) -> Any:
    """Return the default of dataclass ``cls``'s field ``name`` (the one place it is written)."""
    field = next(f for f in fields(cls) if f.name == name)
    if field.default is MISSING:
        raise TypeError(f"{cls.__name__}.{name} has no default")
    return field.default


def _opt(default: Any, help: str, unit: str | None = None, **bounds: Any) -> Any:  # noqa: A002
    """Return a model field with its help text and unit (``json_schema_extra["unit"]``)."""
    extra: dict[str, Any] | None = {"unit": unit} if unit else None
    return Field(default=default, description=help, json_schema_extra=extra, **bounds)


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class AreaOptions(_Group):
    """Where to plan, beyond the OSM file."""

    boundary: str | None = _opt(
        None, "GeoJSON or GPKG polygon to clip the study area to (none: the file's bounds)")
    boundary_crs: Datum = _opt("auto", "Datum of the boundary (DataV files are GCJ-02)")

    @field_validator("boundary", mode="before")
    @classmethod
    def _path_text(cls, value: object) -> object:
        return str(value) if isinstance(value, Path) else value


class Growth(_Group):
    """Parcel growth from a base year to a target year at a yearly rate."""

    rate: float = Field(gt=-0.5, le=2.0, description="Yearly growth rate")
    base_year: int = Field(ge=1990, le=2100, description="Year of today's volume")
    target_year: int = Field(ge=1990, le=2100, description="Year planned for")

    @model_validator(mode="after")
    def _order(self) -> Growth:
        if self.target_year < self.base_year:
            raise ValueError(
                f"target_year {self.target_year} is before base_year {self.base_year}"
            )
        return self

    @property
    def factor(self) -> float:
        """``(1 + rate) ** (target_year - base_year)``."""
        return float((1.0 + self.rate) ** (self.target_year - self.base_year))


def _dp(name: str) -> Any:
    return _default(DemandParameters, name)


class DemandOptions(_Group):
    """How floor area becomes residents and residents become parcels (:mod:`geodata.defaults`)."""

    floor_area_per_resident_m2: float = _opt(
        _dp("floor_area_per_resident_m2"), "Residential floor area per resident", "m²",
        gt=0, le=1000)
    parcels_per_resident_per_year: float = _opt(
        _dp("parcels_per_resident_per_year"), "Parcels delivered per resident per year",
        "parcels/resident/year", gt=0, le=10_000)
    locker_share: float = _opt(
        _dp("locker_share"), "Share of parcels through lockers and stations", "share",
        gt=0, le=1)
    growth_factor: float = _opt(
        _dp("growth_factor"), "Multiplier on today's parcel volume for the year planned",
        "factor", gt=0, le=100)
    growth: Growth | None = _opt(
        None, "{rate, base_year, target_year}: sets growth_factor to "
        "(1 + rate) ** (target_year - base_year)")
    village_residents: float = _opt(
        _dp("village_residents"), "Residents per place=village node (no buildings)",
        "residents", gt=0)
    hamlet_residents: float = _opt(
        _dp("hamlet_residents"), "Residents per place=hamlet node (no buildings)",
        "residents", gt=0)
    residents_per_km2: float = _opt(
        _dp("residents_per_km2"), "Residents per km² of street grid (no buildings at all)",
        "residents/km²", gt=0)
    grid_cell_m: float = _opt(_dp("grid_cell_m"), "Side of a street-grid demand cell", "m",
                              gt=0)

    @model_validator(mode="after")
    def _one_growth(self) -> DemandOptions:
        if self.growth is not None and "growth_factor" in self.model_fields_set:
            raise ValueError("give growth = {rate, base_year, target_year} or growth_factor, "
                             "not both")
        return self

    def parameters(self) -> DemandParameters:
        """Return the demand model's parameters (growth applied)."""
        values = self.model_dump(exclude={"growth"})
        if self.growth is not None:
            values["growth_factor"] = self.growth.factor
        return DemandParameters(**values)


def _lp(name: str) -> Any:
    return _default(LockerParameters, name)


class LockerOptions(_Group):
    """The locker model (:mod:`optimizer.lockers`)."""

    radius_m: float = _opt(_lp("radius_m"), "Longest walk from a home to its locker", "m",
                           gt=0, le=5000)
    mode: Literal["min-cost", "max-cover"] = _opt("min-cost", "Objective")
    budget: int | None = _opt(None, "New modules (or sites, per budget_kind) allowed in "
                              "max-cover mode", "modules or sites", ge=0)
    budget_kind: Literal["modules", "sites"] = _opt("modules", "What budget counts")
    compartments_per_module: int = _opt(
        _lp("compartments_per_module"), "Compartments in one locker module", "compartments",
        gt=0, le=1000)
    site_cost: float = _opt(_lp("site_cost"), "Cost of opening a new locker site", "CNY", ge=0)
    module_cost: float = _opt(_lp("module_cost"), "Cost of one locker module", "CNY", ge=0)
    max_modules_per_site: int | None = _opt(
        _lp("max_modules_per_site"), "Cap on modules at one site (none: no cap)", "modules",
        gt=0)
    existing_capacity: float = _opt(
        _lp("existing_capacity"), "Compartments of an existing locker whose data give none",
        "compartments", ge=0)

    @model_validator(mode="after")
    def _budget(self) -> LockerOptions:
        if self.mode == "max-cover" and self.budget is None:
            raise ValueError("mode 'max-cover' needs a budget (new modules or sites): give "
                             "budget = N")
        return self


def _sp(name: str) -> Any:
    return _default(StationParameters, name)


class StationOptions(_Group):
    """Community and cargo stations (:class:`optimizer.stations.StationParameters`)."""

    radius_m: float = _opt(_sp("radius_m"), "Longest walk from a home to its community "
                           "station (R1)", "m", gt=0, le=5000)
    cargo_radius_m: float = _opt(_sp("cargo_radius_m"), "Longest walk from a neighbourhood "
                                 "centre to its cargo station (R7)", "m", gt=0, le=5000)
    m2_per_daily_parcel: float = _opt(_sp("m2_per_daily_parcel"), "Usable floor area per "
                                      "daily parcel", "m²/parcel/day", ge=0)
    new_cost: float = _opt(_sp("new_cost"), "Cost of fitting out a new station", "CNY", ge=0)
    reuse_cost: float = _opt(_sp("reuse_cost"), "Cost of reusing a post office or express "
                             "shop", "CNY", ge=0)
    walk_cost: float = _opt(_sp("walk_cost"), "Cost per daily parcel-metre walked "
                            "(tie-breaker)", "CNY/parcel/m", ge=0)
    ground_floor_unit_m2: float = _opt(_sp("ground_floor_unit_m2"), "Floor area a station "
                                       "can use at an OSM site", "m²", ge=0)


def _rp(name: str) -> Any:
    return _default(RuralParameters, name)


class RuralOptions(_Group):
    """Village and township stations (:class:`optimizer.rural.RuralParameters`)."""

    village_residents: float = _opt(_rp("village_residents"), "Residents of an "
                                    "administrative village", "residents", ge=0)
    hamlet_residents: float = _opt(_rp("hamlet_residents"), "Residents of a hamlet",
                                   "residents", ge=0)
    parcels_per_resident_per_year: float = _opt(
        _rp("parcels_per_resident_per_year"), "Parcels per rural resident per year",
        "parcels/resident/year", ge=0)
    second_station_parcels: float = _opt(_rp("second_station_parcels"), "Daily parcels above "
                                         "which a village gets a second station (R3)",
                                         "parcels/day", ge=0)
    village_radius_m: float = _opt(_rp("village_radius_m"), "Straight-line reach of a village "
                                   "around its node", "m", ge=0)
    seat_radius_m: float = _opt(_rp("seat_radius_m"), "Reach of a township seat for reusing a "
                                "candidate site", "m", ge=0)
    max_snap_m: float = _opt(_rp("max_snap_m"), "Farthest a village or township may lie from "
                             "the drive network", "m", ge=0)


def _hp(name: str) -> Any:
    return _default(HubParameters, name)


class HubOptions(_Group):
    """County sorting hubs (:class:`optimizer.hubs.HubParameters`)."""

    capacity: float = _opt(_hp("capacity"), "Items a hub sorts per day", "items/day", gt=0)
    fixed_cost: float = _opt(_hp("fixed_cost"), "Daily cost of operating a hub", "CNY/day",
                             gt=0)
    cost_per_parcel_km: float = _opt(_hp("cost_per_parcel_km"), "Transport cost",
                                     "CNY/parcel/km", gt=0)
    parcels_per_vehicle: float = _opt(_hp("parcels_per_vehicle"), "Parcels one delivery "
                                      "vehicle carries", "parcels", gt=0)
    max_drive_km: float = _opt(_hp("max_drive_km"), "Longest drive from a station to its hub",
                               "km", gt=0)
    outbound_ratio: float = _opt(_hp("outbound_ratio"), "Items sent per item received (R6)",
                                 "ratio", ge=0)
    county_hubs: int | None = _opt(_hp("county_hubs"), "Hubs the planner asks for (R5: one "
                                   "per county)", "hubs", ge=1, le=100)
    county_centre: tuple[float, float] | None = _opt(
        None, "Given county centre as (lon, lat), forced open (none: the model places it)",
        "degrees WGS84")

    def parameters(self) -> HubParameters:
        """Return the hub model's parameters."""
        return HubParameters(**self.model_dump(exclude={"county_centre"}))


class RuleOptions(_Group):
    """Rules preset and overrides (rule id to a number or a ``[low, high]`` pair)."""

    preset: str = _opt("national", "Rules preset (siting rules lists them)")
    overrides: dict[str, float | tuple[float, float]] = Field(
        default_factory=dict, description="Rule values replacing the preset's, e.g. "
        "{R2 = [1.0, 1.2]}")

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        from optimizer.rules import PRESETS

        key = value.lower()
        if key not in PRESETS:
            raise ValueError(f"unknown rules preset; presets are {', '.join(PRESETS)}")
        return key

    @model_validator(mode="after")
    def _valid_overrides(self) -> RuleOptions:
        from optimizer.rules import preset

        try:
            preset(self.preset, overrides=self.overrides or None)
        except ParameterError as err:
            raise ValueError(str(err)) from None
        return self


class SolverOptions(_Group):
    """MILP solver and the run's solver budget (:mod:`optimizer.budget`)."""

    name: Literal["highs", "cbc"] = _opt("highs", "MILP solver")
    time_limit: float = _opt(60.0, "Solver seconds of the whole run, shared by the locker "
                             "phases and the tiers in turn", "s", gt=0, le=86_400)
    work_limit: int | None = _opt(
        None, "Branch-and-bound nodes of each MIP solve: a plan that does not depend on the "
        "machine's speed or load; time_limit is then each solve's safety limit", "nodes", gt=0)


class OutputOptions(_Group):
    """Maps and reports."""

    lang: Literal["zh", "en"] = _opt("zh", "Language of the map and report")
    basemap: Literal["osm", "gaode", "tianditu", "none"] = _opt(
        "osm", "Map tiles (Gaode draws the plan in GCJ-02)")
    offline_map: bool = _opt(True, "Inline Leaflet in map.html (works with no network)")
    tianditu_key: str | None = _opt(
        None, "Tianditu key (else the TIANDITU_KEY environment variable); never written out")


def check_tier_list(value: Sequence[str]) -> None:
    """Raise ``ValueError`` when ``value`` names an unknown tier or one twice.

    Parameters
    ----------
    value
        Tier names as given.

    Raises
    ------
    ValueError
        Naming the unknown tiers and those to choose from.
    """
    bad = unknown_tiers(value)
    if bad:
        raise ValueError(f"unknown tier(s) {bad}; tiers are {list(TIERS)}"
                         + ("; 'rural' is now 'villages' and 'townships'" if "rural" in bad
                            else ""))
    if len(set(value)) != len(value):
        raise ValueError("a tier is listed twice")


class Options(_Group):
    """Every option of a district plan but its OSM file, output folder and tables.

    Attributes
    ----------
    area, demand, lockers, stations, rural, hubs, rules, solver, output
        The option groups (see each class).
    tiers
        Tiers to plan: ``lockers`` always, plus any of ``{"stations", "villages",
        "townships", "hubs"}``, solved in that sequence.
    """

    area: AreaOptions = Field(default_factory=AreaOptions)
    demand: DemandOptions = Field(default_factory=DemandOptions)
    lockers: LockerOptions = Field(default_factory=LockerOptions)
    stations: StationOptions = Field(default_factory=StationOptions)
    rural: RuralOptions = Field(default_factory=RuralOptions)
    hubs: HubOptions = Field(default_factory=HubOptions)
    rules: RuleOptions = Field(default_factory=RuleOptions)
    solver: SolverOptions = Field(default_factory=SolverOptions)
    output: OutputOptions = Field(default_factory=OutputOptions)
    tiers: tuple[str, ...] = Field(default=("lockers",), min_length=1,
                                   description="Tiers to plan, in order: " + ", ".join(TIERS))

    @field_validator("tiers", mode="before")
    @classmethod
    def _split_tiers(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(t.strip() for t in value.split(",") if t.strip())
        return value

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        check_tier_list(value)
        return value

    def record(self) -> dict[str, Any]:
        """Return the options as written to ``summary.json["parameters"]["options"]``.

        Returns
        -------
        dict
            Every field by group (JSON types); the Tianditu key only as ``"(given)"``.
        """
        out = self.model_dump(mode="json")
        if self.output.tianditu_key:
            out["output"]["tianditu_key"] = "(given)"
        return out


#: The option groups of :class:`Options`, in declaration order.
GROUPS: tuple[str, ...] = tuple(k for k in Options.model_fields if k != "tiers")


def field_paths() -> dict[str, Any]:
    """Return every leaf option's dotted path and its pydantic field info.

    Returns
    -------
    dict
        ``{"stations.radius_m": FieldInfo, ..., "tiers": FieldInfo}`` in model order.
    """
    paths: dict[str, Any] = {}
    for group, info in Options.model_fields.items():
        model = info.annotation
        if group in GROUPS and isinstance(model, type) and issubclass(model, BaseModel):
            paths.update({f"{group}.{k}": v for k, v in model.model_fields.items()})
        else:
            paths[group] = info
    return paths


def nearest_key(key: str, allowed: Sequence[str]) -> str | None:
    """Return the allowed key closest in spelling to ``key`` (:mod:`difflib`), or ``None``.

    Parameters
    ----------
    key
        The unknown key.
    allowed
        The keys valid at its place.

    Returns
    -------
    str or None
        The nearest key, when one is close enough.
    """
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    return close[0] if close else None


class OptionsError(ParameterError):
    """Options that are not valid; ``faults`` lists every problem (field, value, problem, fix).

    Parameters
    ----------
    faults
        One dict per problem: ``field``, ``value``, ``problem``, ``fix``.
    source
        Where the options came from (e.g. ``"--set"``), named in the message.
    """

    def __init__(self, faults: Sequence[Mapping[str, str]], *, source: str = "options") -> None:
        self.faults = [dict(f) for f in faults]
        lines = [f"{f['field']} = {f['value']}: {f['problem']} (fix: {f['fix']})"
                 for f in self.faults]
        super().__init__(f"invalid {source}: " + "; ".join(lines))


def _allowed_at(loc: Sequence[str]) -> list[str]:
    """Return the keys valid inside the model at ``loc`` (a path of group names)."""
    model: type[BaseModel] = Options
    for part in loc:
        ann = getattr(model.model_fields.get(part), "annotation", None)
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return list(model.model_fields)


def option_faults(err: ValidationError) -> list[dict[str, str]]:
    """Return one fault per error of a validation of :class:`Options`, unknown keys named.

    Parameters
    ----------
    err
        The error pydantic raised.

    Returns
    -------
    list of dict
        ``field``, ``value``, ``problem`` and ``fix`` of each error.
    """
    faults = []
    for e in err.errors(include_url=False):
        loc = [str(p) for p in e["loc"]]
        problem = e["msg"].removeprefix("Value error, ")
        fix = "give a value the field allows"
        if e["type"] == "extra_forbidden":
            allowed = _allowed_at(loc[:-1])
            near = nearest_key(loc[-1], allowed)
            problem = "unknown key"
            fix = (f"did you mean '{'.'.join([*loc[:-1], near])}'? " if near else "") + \
                f"keys here: {', '.join(allowed)}"
        faults.append({"field": ".".join(loc) or "(options)",
                       "value": repr(e.get("input"))[:80], "problem": problem, "fix": fix})
    return faults


def _set_path(doc: dict[str, Any], dotted: str, value: Any) -> None:
    node = doc
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def with_values(base: Options | None, values: Mapping[str, Any], *,
                source: str = "options") -> Options:
    """Return ``base`` with the options at dotted paths replaced, validated by the model.

    Parameters
    ----------
    base
        The options to start from (``None``: the defaults).
    values
        Dotted path to value, e.g. ``{"stations.radius_m": 400}``; a group name takes a
        mapping of its fields.
    source
        Where the values came from, named in an error.

    Returns
    -------
    Options
        The new options.

    Raises
    ------
    OptionsError
        Every unknown path (with the nearest valid one) and bad value at once.
    """
    base = base or Options()
    doc = base.model_dump(exclude_unset=True)
    for path, value in values.items():
        if isinstance(value, Mapping) and "." not in path and path in GROUPS:
            for key, item in value.items():
                _set_path(doc, f"{path}.{key}", item)
        else:
            _set_path(doc, path, value)
    try:
        return Options.model_validate(doc)
    except ValidationError as err:
        raise OptionsError(option_faults(err), source=source) from None


#: ``siting.plan()`` keywords (and :class:`PlanOptions` attributes) that set one option.
KEYWORDS: Mapping[str, str] = {
    "boundary": "area.boundary", "boundary_crs": "area.boundary_crs",
    "radius_m": "lockers.radius_m", "mode": "lockers.mode", "budget": "lockers.budget",
    "budget_kind": "lockers.budget_kind", "time_limit": "solver.time_limit",
    "work_limit": "solver.work_limit", "solver": "solver.name", "rules": "rules.preset",
    "rule_overrides": "rules.overrides", "lang": "output.lang",
    "offline_map": "output.offline_map", "basemap": "output.basemap",
    "tianditu_key": "output.tianditu_key", "tiers": "tiers",
    "county_centre": "hubs.county_centre",
}

#: ``siting.plan()`` keywords that take a domain parameter object, and the group each fills.
PARAMETER_KEYWORDS: Mapping[str, tuple[str, frozenset[str]]] = {
    # LockerParameters' radius_m and ratio come from radius_m and rule R2, never from here
    "locker_params": ("lockers", frozenset({"radius_m", "ratio"})),
    "demand_params": ("demand", frozenset()),
    "station_params": ("stations", frozenset()),
    "rural_params": ("rural", frozenset()),
    "hub_params": ("hubs", frozenset()),
}


def keyword_values(keywords: Mapping[str, Any]) -> dict[str, Any]:
    """Translate ``siting.plan()`` keywords into dotted option paths (``None``: not given).

    Parameters
    ----------
    keywords
        Keyword arguments of :func:`siting.pipeline.plan` that set options.

    Returns
    -------
    dict
        Dotted path to value, for :func:`with_values`.

    Raises
    ------
    OptionsError
        For a keyword that is not an option, naming the nearest one.
    """
    values: dict[str, Any] = {}
    faults = []
    for key, value in keywords.items():
        if value is None:
            continue
        if key in KEYWORDS:
            values[KEYWORDS[key]] = tuple(value) if key == "tiers" else value
        elif key in PARAMETER_KEYWORDS:
            group, skip = PARAMETER_KEYWORDS[key]
            values.update({f"{group}.{f.name}": getattr(value, f.name) for f in fields(value)
                           if f.name not in skip})
        else:
            near = nearest_key(key, [*KEYWORDS, *PARAMETER_KEYWORDS])
            faults.append({"field": key, "value": repr(value)[:80], "problem": "unknown option",
                           "fix": f"did you mean {near}?" if near else "see siting.plan's "
                           "keywords"})
    if faults:
        raise OptionsError(faults, source="keywords")
    return values


@dataclass(frozen=True, init=False)
class PlanOptions:
    """A plan's options (:class:`Options`) and the planner's tables, as one value.

    ``PlanOptions(radius_m=200, time_limit=30)`` takes the keywords of
    :func:`siting.pipeline.plan`; ``PlanOptions(settings)`` an :class:`Options`.

    Attributes
    ----------
    settings
        Every option.
    communities, inventory, hub_sites
        The planner's tables (:mod:`geodata.user_inputs`), or ``None``.
    """

    settings: Options
    communities: gpd.GeoDataFrame | None
    inventory: gpd.GeoDataFrame | None
    hub_sites: gpd.GeoDataFrame | None

    def __init__(self, settings: Options | None = None, *,
                 communities: gpd.GeoDataFrame | None = None,
                 inventory: gpd.GeoDataFrame | None = None,
                 hub_sites: gpd.GeoDataFrame | None = None, **keywords: Any) -> None:
        values = keyword_values(keywords)
        chosen = with_values(settings, values) if values else settings or Options()
        object.__setattr__(self, "settings", chosen)
        object.__setattr__(self, "communities", communities)
        object.__setattr__(self, "inventory", inventory)
        object.__setattr__(self, "hub_sites", hub_sites)

    # plan()'s keywords, read from the settings
    @property
    def boundary(self) -> str | None:
        """``area.boundary``."""
        return self.settings.area.boundary

    @property
    def boundary_crs(self) -> Datum:
        """``area.boundary_crs``."""
        return self.settings.area.boundary_crs

    @property
    def radius_m(self) -> float:
        """``lockers.radius_m``."""
        return self.settings.lockers.radius_m

    @property
    def mode(self) -> Literal["min-cost", "max-cover"]:
        """``lockers.mode``."""
        return self.settings.lockers.mode

    @property
    def budget(self) -> int | None:
        """``lockers.budget``."""
        return self.settings.lockers.budget

    @property
    def budget_kind(self) -> Literal["modules", "sites"]:
        """``lockers.budget_kind``."""
        return self.settings.lockers.budget_kind

    @property
    def time_limit(self) -> float:
        """``solver.time_limit``."""
        return self.settings.solver.time_limit

    @property
    def work_limit(self) -> int | None:
        """``solver.work_limit``."""
        return self.settings.solver.work_limit

    @property
    def solver(self) -> Literal["highs", "cbc"]:
        """``solver.name``."""
        return self.settings.solver.name

    @property
    def rules(self) -> str:
        """``rules.preset``."""
        return self.settings.rules.preset

    @property
    def lang(self) -> Literal["zh", "en"]:
        """``output.lang``."""
        return self.settings.output.lang

    @property
    def offline_map(self) -> bool:
        """``output.offline_map``."""
        return self.settings.output.offline_map

    @property
    def basemap(self) -> str:
        """``output.basemap``."""
        return self.settings.output.basemap

    @property
    def tianditu_key(self) -> str | None:
        """``output.tianditu_key``."""
        return self.settings.output.tianditu_key

    @property
    def tiers(self) -> tuple[str, ...]:
        """``tiers``."""
        return self.settings.tiers

    @property
    def county_centre(self) -> tuple[float, float] | None:
        """``hubs.county_centre``."""
        return self.settings.hubs.county_centre

    @property
    def rule_overrides(self) -> dict[str, Any] | None:
        """Rule values replacing the preset's (``None`` when there are none)."""
        return dict(self.settings.rules.overrides) or None

    @property
    def demand_params(self) -> DemandParameters:
        """The demand model's parameters."""
        return self.settings.demand.parameters()

    @property
    def locker_params(self) -> LockerParameters:
        """The locker model's parameters (R2's ratio from the rules is set by the pipeline)."""
        return LockerParameters(**self.settings.lockers.model_dump(
            exclude={"mode", "budget", "budget_kind"}))

    @property
    def station_params(self) -> StationParameters:
        """The station tiers' parameters."""
        return StationParameters(**self.settings.stations.model_dump())

    @property
    def rural_params(self) -> RuralParameters:
        """The rural tiers' parameters."""
        return RuralParameters(**self.settings.rural.model_dump())

    @property
    def hub_params(self) -> HubParameters:
        """The hub model's parameters."""
        return self.settings.hubs.parameters()

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> PlanOptions:
        """Return the options of ``siting.plan()``'s keywords; an unknown keyword is an error.

        Parameters
        ----------
        values
            Keyword arguments of :func:`siting.pipeline.plan` (tables and options).

        Returns
        -------
        PlanOptions
            The options, defaults where a keyword is missing or ``None``.

        Raises
        ------
        OptionsError
            For an unknown keyword (naming the nearest) or a bad value.
        """
        return cls(**values)
