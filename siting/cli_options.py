"""``siting plan``'s options: flags and ``--set`` read into :class:`siting.options.Options`.

Each option flag of ``siting plan`` sets one field of the options model (:data:`FLAGS`); its
help text, unit and default are the model's (:func:`flag_help`), so a flag never holds a
default of its own. ``--set group.field=value`` reaches every field; values are read as TOML
(``400``, ``true``, ``[1.0, 1.2]``, ``"text"``; a bare word is text). ``--scenario FILE`` starts
from a scenario file's options; the flags, then ``--set``, override it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from geodata.errors import ParameterError
from siting.options import Options, OptionsError, PlanOptions, field_paths, with_values

__all__ = ["FLAGS", "flag_help", "parse_set", "plan_options_from_flags", "scenario_run"]

#: ``siting plan`` parameters that set one option, and the option's dotted path.
FLAGS: Mapping[str, str] = {
    "boundary": "area.boundary",
    "boundary_crs": "area.boundary_crs",
    "district": "area.district",
    "demand": "demand.mode",
    "radius_m": "lockers.radius_m",
    "mode": "lockers.mode",
    "budget": "lockers.budget",
    "budget_kind": "lockers.budget_kind",
    "site_cost": "lockers.site_cost",
    "module_cost": "lockers.module_cost",
    "compartments_per_module": "lockers.compartments_per_module",
    "max_modules_per_site": "lockers.max_modules_per_site",
    "parcels_per_resident": "demand.parcels_per_resident_per_year",
    "locker_share": "demand.locker_share",
    "growth_factor": "demand.growth_factor",
    "station_radius_m": "stations.radius_m",
    "cargo_radius_m": "stations.cargo_radius_m",
    "village_radius_m": "rural.village_radius_m",
    "seat_radius_m": "rural.seat_radius_m",
    "max_drive_km": "hubs.max_drive_km",
    "county_hubs": "hubs.county_hubs",
    "county_centre": "hubs.county_centre",
    "time_limit": "solver.time_limit",
    "work_limit": "solver.work_limit",
    "solver": "solver.name",
    "rules": "rules.preset",
    "tiers": "tiers",
    "lang": "output.lang",
    "basemap": "output.basemap",
    "tianditu_key": "output.tianditu_key",
}


def flag_help(path: str) -> str:
    """Return the help text of the flag setting option ``path``: the model's, unit, default.

    Parameters
    ----------
    path
        Dotted option path, e.g. ``"stations.radius_m"``.

    Returns
    -------
    str
        ``"<help> (<unit>; default <value>)."``
    """
    info = field_paths()[path]
    unit = (info.json_schema_extra or {}).get("unit")
    default = info.default if info.default_factory is None else info.get_default(
        call_default_factory=True)
    shown = ",".join(default) if isinstance(default, tuple) else default
    where = f"{unit}; " if unit else ""
    return f"{info.description} ({where}default {'none' if shown is None else shown})."


def _value(text: str) -> Any:
    """Read a ``--set`` value as TOML; a bare word is text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_set(items: Sequence[str]) -> dict[str, Any]:
    """Read ``--set group.field=value`` items into dotted paths and values.

    Parameters
    ----------
    items
        The ``--set`` values as given.

    Returns
    -------
    dict
        Path to value (later items win).

    Raises
    ------
    ParameterError
        For an item without ``=``.
    """
    values: dict[str, Any] = {}
    for item in items:
        path, eq, text = item.partition("=")
        if not eq or not path.strip():
            raise ParameterError(f"--set {item!r} is not FIELD=VALUE. Fix: write e.g. "
                                 "--set stations.radius_m=400")
        values[path.strip()] = _value(text.strip())
    return values


def _lon_lat(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise ParameterError(f"--county-centre {text!r} is not LON,LAT. Fix: write e.g. "
                             "--county-centre 115.03,35.71") from None
    return lon, lat


def plan_options_from_flags(flags: Mapping[str, Any], sets: Sequence[str], *,
                            base: PlanOptions | None = None,
                            tables: Mapping[str, Any] | None = None) -> PlanOptions:
    """Return a plan's options: ``base`` (a scenario's), then the flags given, then ``--set``.

    Parameters
    ----------
    flags
        ``siting plan`` parameter name to value (``None``: not given), keys of :data:`FLAGS`.
    sets
        The ``--set`` items.
    base
        The options to start from (a scenario's); ``None`` for the model's defaults.
    tables
        The planner's tables read from the command line, replacing those of ``base``.

    Returns
    -------
    PlanOptions
        The options.

    Raises
    ------
    OptionsError
        Every bad value or unknown ``--set`` field at once, the nearest field named.
    """
    values: dict[str, Any] = {}
    for name, value in flags.items():
        if value is None:
            continue
        if hasattr(value, "value"):  # a Typer choice
            value = value.value
        if name == "county_centre":
            value = _lon_lat(value)
        values[FLAGS[name]] = str(value) if isinstance(value, Path) else value
    settings: Options = base.settings if base is not None else Options()
    if values:
        settings = with_values(settings, values, source="flags")
    extra = parse_set(sets)
    if extra:
        settings = with_values(settings, extra, source="--set")
    kept = {} if base is None else {k: getattr(base, k) for k in
                                   ("communities", "inventory", "hub_sites")}
    kept.update({k: v for k, v in (tables or {}).items() if v is not None})
    return PlanOptions(settings, **kept)


def scenario_run(path: Path, *, root: Path | None) -> Any:
    """Load a scenario file for ``siting plan --scenario``: exactly one run.

    Parameters
    ----------
    path
        The scenario file.
    root
        Folder its paths must stay inside (``--root``); ``None``: the file's folder.

    Returns
    -------
    siting.scenario.ScenarioRun
        The run.

    Raises
    ------
    ScenarioError
        If the file is invalid.
    OptionsError
        If it stands for several runs (a ``[sweep]``).
    """
    from siting.scenario import load_scenarios

    runs = load_scenarios(path, root=root)
    if len(runs) != 1:
        raise OptionsError([{
            "field": "sweep", "value": f"{len(runs)} runs", "problem": "siting plan runs one "
            "scenario", "fix": f"run them with siting batch {path}, or remove [sweep]"}],
            source="--scenario")
    return runs[0]
