"""``siting plan``: one district plan from an OSM file or a scenario, every option a flag.

Loaded only when ``siting plan`` is used (:class:`siting.cli._Commands`): its flags' help and
defaults are read from the options model (:mod:`siting.cli_options`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from siting.cli import (
    Basemap,
    Datum,
    DebugOpt,
    Lang,
    Mode,
    PlannerDatum,
    Solver,
    _call,
    _check_out,
    _gap,
    _run,
    _warn_plan,
    console,
    out_console,
)
from siting.cli_options import FLAGS, flag_help, plan_options_from_flags, scenario_run
from siting.scenario import plan_options

__all__ = ["plan_cmd", "plan_command"]

plan_app = typer.Typer(pretty_exceptions_enable=False)

RadiusOpt = Annotated[
    float | None, typer.Option("--radius-m", help=flag_help("lockers.radius_m"))]


def plan_command() -> Any:
    """Return the ``siting plan`` command.

    Returns
    -------
    click.Command
        The command (Typer's Click), for :class:`siting.cli._Commands`.
    """
    return typer.main.get_command(plan_app)


@plan_app.command("plan")
def plan_cmd(
    out: Annotated[Path, typer.Option("--out", help="Output folder (written atomically).")],
    osm: Annotated[
        Path | None, typer.Option("--osm", help="OSM file: .osm, .osm.bz2, .osm.xz, .osm.pbf "
                                  "(else the --scenario's).")
    ] = None,
    scenario: Annotated[
        Path | None, typer.Option(help="Plan this scenario file (TOML, one run) in this "
                                  "process; the flags below override its options.")
    ] = None,
    root: Annotated[
        Path | None, typer.Option(help="Folder the --scenario's paths must stay inside "
                                  "(default: the scenario file's folder).")
    ] = None,
    boundary: Annotated[Path | None, typer.Option(help=flag_help("area.boundary"))] = None,
    boundary_crs: Annotated[
        Datum | None, typer.Option(help=flag_help("area.boundary_crs"))] = None,
    communities: Annotated[
        Path | None, typer.Option(help="Planner's community table (CSV, XLSX, GeoJSON): name, "
                                  "lon, lat, households or residents; its datum is --datum.")
    ] = None,
    inventory: Annotated[
        Path | None, typer.Option(help="Planner's existing lockers and rooms (CSV, XLSX, "
                                  "GeoJSON): kind (locker or station), lon, lat; optional "
                                  "name, compartments, area_m2; its datum is --datum.")
    ] = None,
    datum: Annotated[
        PlannerDatum | None, typer.Option(help="Datum of --communities and --inventory (and "
                                          "--hub-sites without --hub-sites-datum).")
    ] = None,
    hub_sites: Annotated[
        Path | None, typer.Option(help="Planner's hub sites (CSV, XLSX, GeoJSON): name, lon, "
                                       "lat; optional capacity, fixed_cost, floor_area_m2.")
    ] = None,
    hub_sites_datum: Annotated[
        PlannerDatum | None, typer.Option(help="Datum of --hub-sites (else --datum).")
    ] = None,
    tiers: Annotated[str | None, typer.Option(help=flag_help("tiers"))] = None,
    radius_m: RadiusOpt = None,
    mode: Annotated[Mode | None, typer.Option(help=flag_help("lockers.mode"))] = None,
    budget: Annotated[int | None, typer.Option(help=flag_help("lockers.budget"))] = None,
    budget_kind: Annotated[
        str | None, typer.Option(help=flag_help("lockers.budget_kind"))] = None,
    site_cost: Annotated[float | None, typer.Option(help=flag_help("lockers.site_cost"))] = None,
    module_cost: Annotated[
        float | None, typer.Option(help=flag_help("lockers.module_cost"))] = None,
    compartments_per_module: Annotated[
        int | None, typer.Option(help=flag_help("lockers.compartments_per_module"))] = None,
    max_modules_per_site: Annotated[
        int | None, typer.Option(help=flag_help("lockers.max_modules_per_site"))] = None,
    parcels_per_resident: Annotated[
        float | None, typer.Option(help=flag_help("demand.parcels_per_resident_per_year"))
    ] = None,
    locker_share: Annotated[
        float | None, typer.Option(help=flag_help("demand.locker_share"))] = None,
    growth_factor: Annotated[
        float | None, typer.Option(help=flag_help("demand.growth_factor"))] = None,
    station_radius_m: Annotated[
        float | None, typer.Option(help=flag_help("stations.radius_m"))] = None,
    cargo_radius_m: Annotated[
        float | None, typer.Option(help=flag_help("stations.cargo_radius_m"))] = None,
    village_radius_m: Annotated[
        float | None, typer.Option(help=flag_help("rural.village_radius_m"))] = None,
    seat_radius_m: Annotated[
        float | None, typer.Option(help=flag_help("rural.seat_radius_m"))] = None,
    max_drive_km: Annotated[
        float | None, typer.Option(help=flag_help("hubs.max_drive_km"))] = None,
    county_centre: Annotated[
        str | None, typer.Option(help="Given county centre for hubs, as LON,LAT (WGS84).")
    ] = None,
    county_hubs: Annotated[int | None, typer.Option(help=flag_help("hubs.county_hubs"))] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help=flag_help("solver.time_limit"))
    ] = None,
    work_limit: Annotated[
        int | None, typer.Option("--work-limit", help=flag_help("solver.work_limit"))
    ] = None,
    solver: Annotated[Solver | None, typer.Option(help=flag_help("solver.name"))] = None,
    rules: Annotated[str | None, typer.Option(help=flag_help("rules.preset"))] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Any option as GROUP.FIELD=VALUE, e.g. "
                                       "stations.radius_m=400 or 'rules.overrides.R2=[1.0,1.2]'"
                                       " (repeatable; --print-options lists them).")
    ] = None,
    print_options: Annotated[
        bool, typer.Option("--print-options", help="Print the options this plan would use "
                           "(JSON, by group) and exit without planning.")
    ] = False,
    lang: Annotated[Lang | None, typer.Option(help=flag_help("output.lang"))] = None,
    basemap: Annotated[Basemap | None, typer.Option(help=flag_help("output.basemap"))] = None,
    tianditu_key: Annotated[
        str | None, typer.Option(help=flag_help("output.tianditu_key"))] = None,
    debug: DebugOpt = False,
) -> None:
    """Plan lockers (and the other tiers) for one district from an OSM file or a scenario."""
    flags = {k: v for k, v in locals().items() if k in FLAGS}
    base, run = None, None
    if scenario is not None:
        run = _call(debug, lambda *, progress: scenario_run(scenario, root=root))
        base = _call(debug, lambda *, progress: plan_options(run.scenario))
    tables = _planner_tables(debug, communities=communities, inventory=inventory,
                             hub_sites=hub_sites, datum=datum, hub_sites_datum=hub_sites_datum)
    options = _call(debug, lambda *, progress: plan_options_from_flags(
        flags, set_ or (), base=base, tables=tables))
    if print_options:
        out_console.print_json(data=options.settings.record())
        return
    if run is not None and run.scenario.area.districts is not None:
        _plan_city(debug, run.scenario, out, changed=bool(tables) or (
            base is not None and options.settings != base.settings))
        return
    source = osm or (None if run is None else Path(run.scenario.area.osm))
    if source is None:
        raise typer.BadParameter("give --osm FILE or --scenario FILE")
    _run(debug, source, out, options)


def _planner_tables(debug: bool, *, communities: Path | None, inventory: Path | None,
                    hub_sites: Path | None, datum: PlannerDatum | None,
                    hub_sites_datum: PlannerDatum | None) -> dict[str, Any]:
    """Read the planner's tables given on the command line (their datum declared)."""
    from geodata import user_inputs

    if hub_sites_datum is not None and hub_sites is None:
        raise typer.BadParameter("--hub-sites-datum is given without --hub-sites FILE")
    tables: dict[str, Any] = {}
    for key, path, given in (("communities", communities, datum),
                             ("inventory", inventory, datum),
                             ("hub_sites", hub_sites, hub_sites_datum or datum)):
        if path is None:
            continue
        if given is None:
            flag = "--hub-sites-datum or --datum" if key == "hub_sites" else "--datum"
            raise typer.BadParameter(f"--{key.replace('_', '-')} needs its datum: add {flag} "
                                     "wgs84 (GPS, OSM) or gcj02 (Gaode/AutoNavi, Tencent)")
        reader = getattr(user_inputs, f"read_{key}")
        tables[key] = _call(debug, lambda *, progress, r=reader, p=path, d=given.value: r(
            p, datum=d))
    return tables


def _plan_city(debug: bool, scenario: Any, out: Path, *, changed: bool) -> None:
    """Plan a city scenario (``area.districts``) in this process, its districts in turn."""
    from siting.city import plan_city

    if changed:
        raise typer.BadParameter("a city scenario (area.districts) is planned with the "
                                 "options of its file: change them there")
    _check_out(debug, out)
    result = _call(debug, lambda *, progress: plan_city(scenario, out=out))
    s = result.summary
    console.print(f"[bold green]{s['status']}[/bold green]: {s['counts']['lockers']} lockers, "
                  f"{s['counts']['modules']} modules in {len(result.districts)} districts; gap "
                  f"{_gap(s['gap'])}", highlight=False)
    _warn_plan(s)
    out_console.print(f"map: {out / 'map.html'}", highlight=False)
