"""The ``siting`` command line: ``demo``, ``plan`` and ``rules``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from geodata.errors import SitingError
from optimizer.compliance import rule_state, rule_state_counts
from optimizer.rules import WALK_RADIUS_M
from siting.batch_cli import batch

app = typer.Typer(
    name="siting",
    help="Site parcel lockers, stations and hubs under China's 14th Five-Year postal plans.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out_console = Console()


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


#: Solver seconds of a whole run when ``--time-limit`` is not given (``plan``'s default).
DEFAULT_TIME_LIMIT = 60.0

DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]
BasemapOpt = Annotated[Basemap, typer.Option(help="Map tiles (Gaode draws the plan in GCJ-02).")]
TiandituOpt = Annotated[
    str | None, typer.Option(help="Tianditu key (else the TIANDITU_KEY environment variable).")
]


def _lon_lat(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not LON,LAT, e.g. 115.03,35.71") from None
    return lon, lat


def _hub_sites(debug: bool, path: Path | None, datum: PlannerDatum | None) -> Any:
    """Read ``--hub-sites`` (its datum declared); a bad table is one message and exit 2."""
    from geodata.user_inputs import read_hub_sites

    if path is None:
        if datum is not None:
            raise typer.BadParameter("--hub-sites-datum is given without --hub-sites FILE")
        return None
    if datum is None:
        raise typer.BadParameter("--hub-sites needs its datum: add --hub-sites-datum wgs84 "
                                 "(GPS, OSM) or gcj02 (Gaode/AutoNavi, Tencent)")
    return _call(debug, lambda *, progress: read_hub_sites(path, datum=datum.value))


def _progress(stage: str, what: str, seconds: float) -> None:
    console.print(f"[bold]{stage:>11}[/bold]  {what}  [dim]({seconds:.2f} s)[/dim]")


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
        console.print(f"[red]error:[/red] {err}", highlight=False)
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
        console.print(f"[yellow]warning:[/yellow] the plan serves none of the "
                      f"{cov['demand_points']} demand points: {why}. Fix: raise --budget, or "
                      "use --mode min-cost or a larger --radius-m", highlight=False)
    records = summary.get("rules", [])
    for r in records:
        if rule_state(r) == "failed":
            where = f" in {r['place']}" if r.get("place") else ""
            console.print(f"[yellow]rule not met:[/yellow] {r['id']}{where} "
                          f"{escape('[' + str(r.get('clause', '')) + ']')}: required "
                          f"{escape(str(r.get('required')))}, achieved "
                          f"{escape(str(r.get('achieved')))}", highlight=False)
    for state, why in (("not evaluated", "tier not planned or data missing"),
                       ("not applicable", "the rule does not apply here")):
        ids = sorted({r["id"] for r in records if rule_state(r) == state})
        if ids:
            console.print(f"{state} ({why}, see summary.json rules): {', '.join(ids)}",
                          highlight=False)
    counts = rule_state_counts(records)
    console.print(", ".join(f"{n} {state}" for state, n in counts.items())
                  + f" of {len(records)} rule checks", highlight=False)


def _gap(gap: float | None) -> str:
    """Format the relative gap as a percentage (``unknown`` when the solver gave no bound)."""
    return "unknown" if gap is None else f"{max(gap, 0.0):.2%}"


def _run(debug: bool, **kwargs: object) -> None:
    from optimizer.budget import SolveBudget
    from siting.live import SolveDisplay, stop_on_ctrl_c
    from siting.pipeline import plan

    _check_out(debug, kwargs.get("out"))
    display = SolveDisplay(console)
    seconds = kwargs.get("time_limit", DEFAULT_TIME_LIMIT)
    budget = SolveBudget(float(seconds), progress=display,  # type: ignore[arg-type]
                         work_limit=kwargs.get("work_limit"))  # type: ignore[arg-type]
    try:
        with stop_on_ctrl_c(budget, console):
            result = _call(debug, plan, solve_budget=budget, **kwargs)
    finally:
        display.close()
    s = result.summary
    cov = s["coverage"]
    console.print(
        f"[bold green]{s['status']}[/bold green]: {s['counts']['lockers']} lockers, "
        f"{s['counts']['modules']} modules, {s['counts']['compartments']:.0f} compartments; "
        f"{cov['covered']} of {cov['demand_points']} buildings served "
        f"({cov['parcel_share_covered']:.1%} of parcels); gap {_gap(s['gap'])}",
        highlight=False,
    )
    _warn_plan(s)
    if result.out is not None:
        out_console.print(f"map: {result.out / 'map.html'}", highlight=False)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out/demo"),
    lang: Annotated[Lang, typer.Option(help="Language of the map.")] = Lang.zh,
    basemap: BasemapOpt = Basemap.osm,
    debug: DebugOpt = False,
) -> None:
    """Plan lockers for the embedded Chengdu extract (offline) and write the map and files."""
    from siting.pipeline import DEMO_OSM

    _run(debug, osm=DEMO_OSM, out=out, lang=lang.value, basemap=basemap.value)


@app.command("plan")
def plan_cmd(
    osm: Annotated[
        Path, typer.Option("--osm", help="OSM file: .osm, .osm.bz2, .osm.xz, .osm.pbf.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder (written atomically).")],
    boundary: Annotated[
        Path | None, typer.Option(help="GeoJSON or GPKG polygon to clip the study area to.")
    ] = None,
    boundary_crs: Annotated[
        Datum, typer.Option(help="Datum of the boundary (DataV files are GCJ-02).")
    ] = Datum.auto,
    radius_m: Annotated[
        float, typer.Option("--radius-m", help="Longest walk to a locker (m).")
    ] = WALK_RADIUS_M,
    mode: Annotated[Mode, typer.Option(help="Objective.")] = Mode.min_cost,
    budget: Annotated[int | None, typer.Option(help="New modules allowed (max-cover).")] = None,
    budget_kind: Annotated[
        str, typer.Option(help="What --budget counts: modules or sites.")
    ] = "modules",
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.001, help="Solver seconds of the whole run, "
                            "shared by the locker phases and tiers in turn.")
    ] = DEFAULT_TIME_LIMIT,
    work_limit: Annotated[
        int | None, typer.Option("--work-limit", min=1, help="Branch-and-bound nodes of each "
                                 "MIP solve: a plan that does not depend on the machine's "
                                 "speed or load; --time-limit is then each solve's safety "
                                 "limit.")
    ] = None,
    solver: Annotated[Solver, typer.Option(help="MILP solver.")] = Solver.highs,
    rules: Annotated[str, typer.Option(help="Rules preset.")] = "national",
    tiers: Annotated[
        str, typer.Option(help="Comma-separated: lockers,stations,villages,townships,hubs.")
    ] = "lockers",
    county_centre: Annotated[
        str | None, typer.Option(help="Given county centre for hubs, as LON,LAT (WGS84).")
    ] = None,
    hub_sites: Annotated[
        Path | None, typer.Option(help="Planner's hub sites (CSV, XLSX, GeoJSON): name, lon, "
                                       "lat; optional capacity, fixed_cost, floor_area_m2.")
    ] = None,
    hub_sites_datum: Annotated[
        PlannerDatum | None, typer.Option(help="Datum of --hub-sites (required with it).")
    ] = None,
    county_hubs: Annotated[
        int | None, typer.Option(min=1, help="Hubs the planner asks for (R5: 1 per county).")
    ] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the map.")] = Lang.zh,
    basemap: BasemapOpt = Basemap.osm,
    tianditu_key: TiandituOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Plan lockers (and the other tiers) for one district from an OSM file."""
    from optimizer.hubs import HubParameters

    _run(
        debug,
        osm=osm,
        out=out,
        boundary=boundary,
        boundary_crs=boundary_crs.value,
        radius_m=radius_m,
        mode=mode.value,
        budget=budget,
        budget_kind=budget_kind,
        time_limit=time_limit,
        work_limit=work_limit,
        solver=solver.value,
        rules=rules,
        tiers=tuple(t.strip() for t in tiers.split(",") if t.strip()),
        county_centre=_lon_lat(county_centre),
        hub_sites=_hub_sites(debug, hub_sites, hub_sites_datum),
        hub_params=None if county_hubs is None else HubParameters(county_hubs=county_hubs),
        lang=lang.value,
        basemap=basemap.value,
        tianditu_key=tianditu_key,
    )


@app.command()
def candidates(
    osm: Annotated[
        Path, typer.Option("--osm", help="OSM file: .osm, .osm.bz2, .osm.xz, .osm.pbf.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder (written atomically).")],
    boundary: Annotated[
        Path | None, typer.Option(help="GeoJSON or GPKG polygon to clip the study area to.")
    ] = None,
    boundary_crs: Annotated[Datum, typer.Option(help="Datum of the boundary.")] = Datum.auto,
    lang: Annotated[Lang, typer.Option(help="Language of the map.")] = Lang.zh,
    basemap: BasemapOpt = Basemap.osm,
    tianditu_key: TiandituOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Export the candidate-site map and tables of a district, before any optimization."""
    from siting.pipeline import export_candidates

    _check_out(debug, out)
    sites = _call(
        debug,
        export_candidates,
        osm=osm,
        out=out,
        boundary=boundary,
        boundary_crs=boundary_crs.value,
        lang=lang.value,
        basemap=basemap.value,
        tianditu_key=tianditu_key,
    )
    console.print(f"{len(sites)} candidate sites", highlight=False)
    out_console.print(f"map: {out / 'map.html'}", highlight=False)


@app.command()
def rules(
    preset: Annotated[str, typer.Option(help="Plan preset.")] = "national",
) -> None:
    """Print the rules of a plan preset with the clause each comes from."""
    from optimizer.rules import preset as load_preset

    try:
        rule_set = load_preset(preset)
    except SitingError as err:
        console.print(f"[red]error:[/red] {err}", highlight=False)
        raise typer.Exit(2) from None
    table = Table(title=f"rules: {rule_set.name}", show_lines=False)
    for col in ("id", "rule", "value", "unit", "source", "clause"):
        table.add_column(col)
    for r in rule_set:
        source = r.source + (f" (from {r.inherited_from})" if r.inherited_from else "")
        table.add_row(r.id, r.title_zh, r.value_text, r.unit, source, f"{r.clause}: {r.quote}")
    out_console.print(table)
    if rule_set.target is not None:
        out_console.print(f"2025 target: {rule_set.target.describe()}", highlight=False)


app.command("batch")(batch)


def main() -> None:
    """Entry point for ``python -m siting``."""
    app(prog_name="siting")


if __name__ == "__main__":
    main()
