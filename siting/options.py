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

Unknown keys are errors naming the nearest valid key (:class:`OptionsError`). The groups are
declared in :mod:`siting.option_groups` and importable from here.

:class:`PlanOptions` is a plan's options as one value: an :class:`Options` and the planner's
tables (picklable, so a city sends it to each district's Dask task).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import geopandas as gpd
from pydantic import BaseModel, Field, ValidationError, field_validator

from geodata.defaults import DemandParameters
from geodata.errors import ParameterError
from optimizer.hierarchy import TIERS
from optimizer.hubs import HubParameters
from optimizer.lockers import LockerParameters
from optimizer.rural import RuralParameters
from optimizer.stations import StationParameters
from siting.option_groups import (
    AreaOptions,
    Datum,
    DemandOptions,
    Growth,
    HubOptions,
    LockerOptions,
    OptionGroup,
    OutputOptions,
    RuleOptions,
    RuralOptions,
    SolverOptions,
    StationOptions,
    check_tier_list,
)

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
    "set_path",
    "with_values",
]

class Options(OptionGroup):
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


def set_path(doc: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``value`` at a dotted path of nested dicts, making the dicts on the way.

    Parameters
    ----------
    doc
        The nested document, changed in place.
    dotted
        The path, e.g. ``"stations.radius_m"``.
    value
        The value to set.
    """
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
                set_path(doc, f"{path}.{key}", item)
        else:
            set_path(doc, path, value)
    try:
        return Options.model_validate(doc)
    except ValidationError as err:
        raise OptionsError(option_faults(err), source=source) from None


#: ``siting.plan()`` keywords (and :class:`PlanOptions` attributes) that set one option.
KEYWORDS: Mapping[str, str] = {
    "boundary": "area.boundary", "boundary_crs": "area.boundary_crs",
    "district": "area.district", "demand_mode": "demand.mode",
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
    def district(self) -> str | None:
        """``area.district``."""
        return self.settings.area.district

    @property
    def demand_mode(self) -> Literal["buildings", "communities"]:
        """``demand.mode``."""
        return self.settings.demand.mode

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
