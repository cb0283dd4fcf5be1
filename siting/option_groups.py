"""The option groups of :class:`siting.options.Options`, each field declared once.

Each field states its type, unit (``json_schema_extra["unit"]``), default, bounds and help
text. The defaults are read from the domain's parameter classes
(:class:`geodata.defaults.DemandParameters`, :class:`optimizer.lockers.LockerParameters`,
:class:`optimizer.stations.StationParameters`, :class:`optimizer.rural.RuralParameters`,
:class:`optimizer.hubs.HubParameters`), where each is written with its source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from geodata.coverage import TOO_LITTLE_BELOW
from geodata.defaults import DemandParameters
from geodata.errors import ParameterError
from optimizer.hierarchy import TIERS, unknown_tiers
from optimizer.hubs import HubParameters
from optimizer.lockers import LockerParameters
from optimizer.rural import RuralParameters
from optimizer.stations import StationParameters

__all__ = [
    "AreaOptions",
    "Datum",
    "DemandOptions",
    "Growth",
    "HubOptions",
    "LockerOptions",
    "OptionGroup",
    "OutputOptions",
    "RuleOptions",
    "RuralOptions",
    "SolverOptions",
    "StationOptions",
    "check_tier_list",
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


class OptionGroup(BaseModel):
    """Base of the option groups: frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class AreaOptions(OptionGroup):
    """Where to plan, beyond the OSM file."""

    boundary: str | None = _opt(
        None, "GeoJSON or GPKG polygon to clip the study area to (none: the file's bounds)")
    boundary_crs: Datum = _opt("auto", "Datum of the boundary (DataV files are GCJ-02)")
    district: str | None = _opt(
        None, "The district of a boundary file of several, by name or adcode; 'all': their "
        "union (needed for such a file)")
    min_coverage: float = _opt(
        TOO_LITTLE_BELOW, "Smallest share of the boundary the OSM data must cover for a plan; "
        "lower it to plan only the part an extract covers", "share", ge=0, le=1)

    @field_validator("boundary", mode="before")
    @classmethod
    def _path_text(cls, value: object) -> object:
        return str(value) if isinstance(value, Path) else value


class Growth(OptionGroup):
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


class DemandOptions(OptionGroup):
    """How floor area becomes residents and residents become parcels (:mod:`geodata.defaults`)."""

    mode: Literal["buildings", "communities"] = _opt(
        "buildings", "With a community table: 'buildings' keeps the OSM buildings, labelled "
        "and weighted by the table; 'communities' plans on the table's communities instead")
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
        values = self.model_dump(exclude={"growth", "mode"})
        if self.growth is not None:
            values["growth_factor"] = self.growth.factor
        return DemandParameters(**values)


def _lp(name: str) -> Any:
    return _default(LockerParameters, name)


class LockerOptions(OptionGroup):
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


class StationOptions(OptionGroup):
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


class RuralOptions(OptionGroup):
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


class HubOptions(OptionGroup):
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
    sorting_capacity: float | None = _opt(
        _hp("sorting_capacity"), "Items a hub's sorting lines handle per day (R6; none: the "
        "site's capacity)", "items/day", gt=0)
    automatic_sorting: bool = _opt(
        _hp("automatic_sorting"), "Plan automatic sorting at a hub over R6's threshold "
        "(false: R6 fails there)")

    def parameters(self) -> HubParameters:
        """Return the hub model's parameters."""
        return HubParameters(**self.model_dump(exclude={"county_centre"}))


class RuleOptions(OptionGroup):
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


class SolverOptions(OptionGroup):
    """MILP solver and the run's solver budget (:mod:`optimizer.budget`)."""

    name: Literal["highs", "cbc"] = _opt("highs", "MILP solver")
    time_limit: float = _opt(60.0, "Solver seconds of the whole run, shared by the locker "
                             "phases and the tiers in turn", "s", gt=0, le=86_400)
    work_limit: int | None = _opt(
        None, "Branch-and-bound nodes of each MIP solve: a plan that does not depend on the "
        "machine's speed or load; time_limit is then each solve's safety limit", "nodes", gt=0)


class OutputOptions(OptionGroup):
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
