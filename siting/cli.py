"""The ``siting`` command line: ``demo``, ``plan`` and ``rules``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from geodata.errors import SitingError
from siting.batch_cli import batch
from siting.console_text import labelled, stage_line
from siting.template_cli import template

if TYPE_CHECKING:
    from siting.options import PlanOptions


class _Commands(TyperGroup):
    """The commands; ``plan`` is built when used.

    ``plan``'s flags read the options model (:func:`_help`), whose defaults come from every
    tier's model: imports that ``siting rules``, ``siting batch`` and ``siting demo`` need not
    wait for.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), "plan"]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name == "plan" and "plan" not in self.commands:
            self.add_command(plan_command(), "plan")
        return super().get_command(ctx, cmd_name)


def _help(path: str) -> str:
    """Return the help of the flag setting option ``path`` (read when ``plan`` is built)."""
    from siting.cli_options import flag_help

    return flag_help(path)


app = typer.Typer(
    name="siting",
    cls=_Commands,
    help="Site parcel lockers, stations and hubs under China's 14th Five-Year postal plans.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out_console = Console()
#: ``siting plan`` alone: built into a command when used (:class:`_Commands`).
_plan_app = typer.Typer(pretty_exceptions_enable=False)


class Mode(StrEnum):
    """Objective of the locker model."""

    min_cost = "min-cost"
    max_cover = "max-cover"


class Solver(StrEnum):
    """MILP solver."""

    highs = "highs"
    cbc = "cbc"


class Lang(StrEnum):
    """Language of maps and reports."""

    zh = "zh"
    en = "en"


class DemandMode(StrEnum):
    """What a community table does to the OSM buildings."""

    buildings = "buildings"
    communities = "communities"


class Datum(StrEnum):
    """Datum of a boundary file."""

    auto = "auto"
    wgs84 = "wgs84"
    gcj02 = "gcj02"


class PlannerDatum(StrEnum):
    """Datum of a planner's table (declared, never guessed)."""

    wgs84 = "wgs84"
    gcj02 = "gcj02"


class Basemap(StrEnum):
    """Map tiles."""

    osm = "osm"
    gaode = "gaode"
    tianditu = "tianditu"
    none = "none"


DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]
BasemapOpt = Annotated[
    Basemap | None, typer.Option(help="Map tiles (Gaode draws the plan in GCJ-02).")
]
LangOpt = Annotated[Lang | None, typer.Option(help="Language of the map.")]
TiandituOpt = Annotated[
    str | None, typer.Option(help="Tianditu key (else the TIANDITU_KEY environment variable).")
]


def _progress(stage: str, what: str, seconds: float) -> None:
    console.print(stage_line(stage, what, seconds), highlight=False)


def _call(debug: bool, func: Callable[..., Any], **kwargs: object) -> Any:
    """Run a pipeline function; a SitingError becomes one message and exit code 2."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return func(progress=_progress, **kwargs)
    except SitingError as err:
        if debug:
            raise
        console.print(labelled("error:", "red", err), highlight=False)
        raise typer.Exit(2) from None


def _check_out(debug: bool, out: object) -> None:
    """Refuse an output folder that cannot be written before any work is done."""
    from maps.files import check_output_folder

    if isinstance(out, str | Path):
        _call(debug, lambda *, progress: check_output_folder(out))


def _warn_plan(summary: dict[str, Any]) -> None:
    """Say clearly when a plan serves nobody or misses a rule (the plan is still written)."""
    cov, params = summary["coverage"], summary.get("parameters", {})
    if cov["demand_points"] and not cov["covered"]:
        budget = params.get("budget")
        why = (f"--mode max-cover --budget {budget} ({params.get('budget_kind', 'modules')}) "
               "opens no locker and the area has no existing one"
               if params.get("mode") == "max-cover" else "no candidate site is within the radius")
        console.print(labelled("warning:", "yellow", f"the plan serves none of the "
                               f"{cov['demand_points']} demand points: {why}. Fix: raise "
                               "--budget, or use --mode min-cost or a larger --radius-m"),
                      highlight=False)
    from optimizer.compliance import rule_state, rule_state_counts

    records = summary.get("rules", [])
    for r in records:
        if rule_state(r) == "failed":
            where = f" in {r['place']}" if r.get("place") else ""
            console.print(labelled("rule not met:", "yellow",
                                   f"{r['id']}{where} [{r.get('clause', '')}]: required "
                                   f"{r.get('required')}, achieved {r.get('achieved')}"),
                          highlight=False)
    for state, why in (("not evaluated", "tier not planned or data missing"),
                       ("not applicable", "the rule does not apply here")):
        ids = sorted({r["id"] for r in records if rule_state(r) == state})
        if ids:
            console.print(Text(f"{state} ({why}, see summary.json rules): {', '.join(ids)}"),
                          highlight=False)
    counts = rule_state_counts(records)
    console.print(", ".join(f"{n} {state}" for state, n in counts.items())
                  + f" of {len(records)} rule checks", highlight=False)


def _gap(gap: float | None) -> str:
    """Format the relative gap as a percentage (``unknown`` when the solver gave no bound)."""
    return "unknown" if gap is None else f"{max(gap, 0.0):.2%}"


def _run(debug: bool, osm: Path, out: Path, options: PlanOptions) -> None:
    from optimizer.budget import SolveBudget
    from siting.live import SolveDisplay, stop_on_ctrl_c
    from siting.pipeline import plan

    _check_out(debug, out)
    display = SolveDisplay(console)
    budget = SolveBudget(options.time_limit, progress=display, work_limit=options.work_limit)
    try:
        with stop_on_ctrl_c(budget, console):
            result = _call(debug, plan, osm=osm, out=out, settings=options.settings,
                           communities=options.communities, inventory=options.inventory,
                           hub_sites=options.hub_sites, solve_budget=budget)
    finally:
        display.close()
    s = result.summary
    cov = s["coverage"]
    console.print(labelled(
        f"{s['status']}:", "bold green", f"{s['counts']['lockers']} lockers, "
        f"{s['counts']['modules']} modules, {s['counts']['compartments']:.0f} compartments; "
        f"{cov['covered']} of {cov['demand_points']} buildings served "
        f"({cov['parcel_share_covered']:.1%} of parcels); gap {_gap(s['gap'])}"),
        highlight=False,
    )
    _warn_plan(s)
    if result.out is not None:
        out_console.print(Text(f"map: {result.out / 'map.html'}"), highlight=False)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out/demo"),
    lang: LangOpt = None,
    basemap: BasemapOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Plan lockers for the embedded Chengdu extract (offline) and write the map and files."""
    from siting.cli_options import plan_options_from_flags
    from siting.pipeline import DEMO_OSM

    options = _call(debug, lambda *, progress: plan_options_from_flags(
        {"lang": lang, "basemap": basemap}, ()))
    _run(debug, DEMO_OSM, out, options)


@_plan_app.command("plan")
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
    boundary: Annotated[Path | None, typer.Option(help=_help("area.boundary"))] = None,
    boundary_crs: Annotated[
        Datum | None, typer.Option(help=_help("area.boundary_crs"))] = None,
    district: Annotated[str | None, typer.Option(help=_help("area.district"))] = None,
    demand: Annotated[DemandMode | None, typer.Option(help=_help("demand.mode"))] = None,
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
    tiers: Annotated[str | None, typer.Option(help=_help("tiers"))] = None,
    radius_m: Annotated[
        float | None, typer.Option("--radius-m", help=_help("lockers.radius_m"))] = None,
    mode: Annotated[Mode | None, typer.Option(help=_help("lockers.mode"))] = None,
    budget: Annotated[int | None, typer.Option(help=_help("lockers.budget"))] = None,
    budget_kind: Annotated[
        str | None, typer.Option(help=_help("lockers.budget_kind"))] = None,
    site_cost: Annotated[float | None, typer.Option(help=_help("lockers.site_cost"))] = None,
    module_cost: Annotated[
        float | None, typer.Option(help=_help("lockers.module_cost"))] = None,
    compartments_per_module: Annotated[
        int | None, typer.Option(help=_help("lockers.compartments_per_module"))] = None,
    max_modules_per_site: Annotated[
        int | None, typer.Option(help=_help("lockers.max_modules_per_site"))] = None,
    parcels_per_resident: Annotated[
        float | None, typer.Option(help=_help("demand.parcels_per_resident_per_year"))
    ] = None,
    locker_share: Annotated[
        float | None, typer.Option(help=_help("demand.locker_share"))] = None,
    growth_factor: Annotated[
        float | None, typer.Option(help=_help("demand.growth_factor"))] = None,
    station_radius_m: Annotated[
        float | None, typer.Option(help=_help("stations.radius_m"))] = None,
    cargo_radius_m: Annotated[
        float | None, typer.Option(help=_help("stations.cargo_radius_m"))] = None,
    village_radius_m: Annotated[
        float | None, typer.Option(help=_help("rural.village_radius_m"))] = None,
    seat_radius_m: Annotated[
        float | None, typer.Option(help=_help("rural.seat_radius_m"))] = None,
    max_drive_km: Annotated[
        float | None, typer.Option(help=_help("hubs.max_drive_km"))] = None,
    county_centre: Annotated[
        str | None, typer.Option(help="Given county centre for hubs, as LON,LAT (WGS84).")
    ] = None,
    county_hubs: Annotated[int | None, typer.Option(help=_help("hubs.county_hubs"))] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help=_help("solver.time_limit"))
    ] = None,
    work_limit: Annotated[
        int | None, typer.Option("--work-limit", help=_help("solver.work_limit"))
    ] = None,
    solver: Annotated[Solver | None, typer.Option(help=_help("solver.name"))] = None,
    rules: Annotated[str | None, typer.Option(help=_help("rules.preset"))] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Any option as GROUP.FIELD=VALUE, e.g. "
                                       "stations.radius_m=400 or 'rules.overrides.R2=[1.0,1.2]'"
                                       " (repeatable; --print-options lists them).")
    ] = None,
    print_options: Annotated[
        bool, typer.Option("--print-options", help="Print the options this plan would use "
                           "(JSON, by group) and exit without planning.")
    ] = False,
    lang: Annotated[Lang | None, typer.Option(help=_help("output.lang"))] = None,
    basemap: Annotated[Basemap | None, typer.Option(help=_help("output.basemap"))] = None,
    tianditu_key: Annotated[str | None, typer.Option(help=_help("output.tianditu_key"))] = None,
    debug: DebugOpt = False,
) -> None:
    """Plan lockers (and the other tiers) for one district from an OSM file or a scenario."""
    from siting.cli_options import FLAGS, plan_options_from_flags, scenario_run
    from siting.scenario import plan_options

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


@app.command()
def candidates(
    osm: Annotated[
        Path, typer.Option("--osm", help="OSM file: .osm, .osm.bz2, .osm.xz, .osm.pbf.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder (written atomically).")],
    boundary: Annotated[
        Path | None, typer.Option(help="GeoJSON or GPKG polygon to clip the study area to.")
    ] = None,
    boundary_crs: Annotated[
        Datum | None, typer.Option(help="Datum of the boundary.")] = None,
    lang: LangOpt = None,
    basemap: BasemapOpt = None,
    tianditu_key: TiandituOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Export the candidate-site map and tables of a district, before any optimization."""
    from siting.cli_options import plan_options_from_flags
    from siting.pipeline import export_candidates

    _check_out(debug, out)
    opts = _call(debug, lambda *, progress: plan_options_from_flags(
        {"boundary_crs": boundary_crs, "lang": lang, "basemap": basemap}, ()))
    sites = _call(
        debug,
        export_candidates,
        osm=osm,
        out=out,
        boundary=boundary,
        boundary_crs=opts.boundary_crs,
        lang=opts.lang,
        basemap=opts.basemap,
        tianditu_key=tianditu_key,
    )
    console.print(f"{len(sites)} candidate sites", highlight=False)
    out_console.print(Text(f"map: {out / 'map.html'}"), highlight=False)


@app.command()
def rules(
    preset: Annotated[str, typer.Option(help="Plan preset.")] = "national",
    markdown: Annotated[bool, typer.Option(
        "--markdown", help="Print docs/rules.md instead: every rule, how it is enforced and "
                           "checked, its tests and its value in each preset.")] = False,
) -> None:
    """Print the rules of a plan preset with the clause each comes from."""
    from optimizer.rules import preset as load_preset

    if markdown:
        from optimizer.rule_registry import rules_markdown

        typer.echo(rules_markdown(), nl=False)
        return
    try:
        rule_set = load_preset(preset)
    except SitingError as err:
        console.print(labelled("error:", "red", err), highlight=False)
        raise typer.Exit(2) from None
    table = Table(title=f"rules: {rule_set.name}", show_lines=False)
    for col in ("id", "rule", "value", "unit", "source", "clause"):
        table.add_column(col)
    for r in rule_set:
        source = r.source + (f" (from {r.inherited_from})" if r.inherited_from else "")
        table.add_row(*(Text(v) for v in (r.id, r.title_zh, r.value_text, r.unit, source,
                                          f"{r.clause}: {r.quote}")))
    out_console.print(table)
    if rule_set.target is not None:
        out_console.print(Text(f"2025 target: {rule_set.target.describe()}"),
                          highlight=False)


app.command("batch")(batch)
app.command("template")(template)


def plan_command() -> Any:
    """Return the ``siting plan`` command, its flags' help read from the options model.

    Returns
    -------
    click.Command
        The command (Typer's Click).
    """
    return typer.main.get_command(_plan_app)


def main() -> None:
    """Entry point for ``python -m siting``."""
    app(prog_name="siting")


if __name__ == "__main__":
    main()
