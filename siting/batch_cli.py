"""``siting batch``: run scenario files on a Dask cluster (registered in :mod:`siting.cli`)."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from geodata.errors import SitingError
from siting.console_text import labelled

__all__ = ["batch", "results_view"]

_err = Console(stderr=True)
_out = Console()


def batch(
    scenarios: Annotated[
        list[Path],
        typer.Argument(help="Scenario TOML files (a \\[sweep] table expands to several runs)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Batch folder: one sub-folder per scenario.")],
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of a running Dask scheduler, e.g. "
                     "tcp://10.0.0.5:8786 (default: a local cluster)."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes of the local cluster.")
    ] = 2,
    root: Annotated[
        Path | None,
        typer.Option("--root", help="Folder the scenarios' paths must stay inside "
                     "(default: each scenario file's folder)."),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Rerun scenarios that failed on the same input.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    """Run what-if scenarios in parallel on Dask; write a results table, charts and a page.

    A rerun skips the scenarios whose inputs are unchanged and whose outputs are complete.
    Exit code 0 when every scenario planned, 1 when some failed, 2 on a usage error.
    """
    from siting.batch import run_batch
    from siting.scenario import load_many

    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        runs, load_errors = load_many(scenarios, root=root)
    except SitingError as err:
        if debug:
            raise
        _err.print(f"[red]error:[/red] {err}", highlight=False)
        raise typer.Exit(2) from None
    for _path, rejected in load_errors:
        _err.print(labelled("scenario file rejected:", "red", rejected), highlight=False)
    total = len(runs) + len(load_errors)
    with Progress(TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.description}", markup=False), console=_err,
                  transient=False) as bar:
        task = bar.add_task("", total=total)

        def progress(done: int, _total: int, row: dict[str, Any]) -> None:
            note = "skipped" if row.get("skipped") else row.get("status", "")
            bar.update(task, completed=done, description=f"{row['scenario']}: {note}")

        def status(name: str, line: str) -> None:
            bar.update(task, description=f"{name}: {line}")

        try:
            result = run_batch(runs, out=out, scheduler=scheduler, workers=workers,
                               retry_failed=retry_failed, load_errors=load_errors,
                               progress=progress, status=status)
        except SitingError as err:
            if debug:
                raise
            _err.print(f"[red]error:[/red] {err}", highlight=False)
            raise typer.Exit(2) from None
    _out.print(results_view(result.table, _out))
    for name, path in result.files.items():
        _out.print(Text(f"{name}: {path}"), highlight=False)
    failed = result.failed
    for _, row in failed.iterrows():
        _err.print(labelled("failed:", "red", f"{row['scenario']}: {row['error']}"),
                   highlight=False)
    if len(failed):
        raise typer.Exit(1)


def _fmt(value: object, spec: str = "g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return format(value, spec) if isinstance(value, int | float) else str(value)


#: A width no table reaches: the table's natural width is measured within it.
_UNBOUNDED = 100_000

#: The figures shown for each scenario, in order (see :func:`_figures`).
_LABELS = ("sites", "modules", "compartments", "coverage", "cost (CNY)", "rules", "gap",
           "seconds")


def _figures(r: Any) -> list[str]:
    """Return the text of each of :data:`_LABELS` for one results row."""
    rules = (f"{_fmt(r['rules_passed'])}/{_fmt(r['rules_total'])}"
             if r["status"] != "failed" else "")
    failed = r.get("rules_failed")
    if rules and failed is not None and not math.isnan(failed):
        rules += f" ({_fmt(failed)} failed)"
    return [_fmt(r["sites"]), _fmt(r["modules"], ",.0f"), _fmt(r["compartments"], ",.0f"),
            _fmt(r["coverage"], ".1%"), _fmt(r["cost"], ",.0f"), rules, _fmt(r["gap"], ".2g"),
            _fmt(r["seconds"], ".1f")]


def _status(r: Any) -> str:
    return str(r["status"]) + (" (skipped)" if r["skipped"] else "")


def _wide(frame: Any) -> Table:
    table = Table(title="scenarios")
    table.add_column("scenario")
    table.add_column("status")
    for label in _LABELS:
        table.add_column(label, justify="right")
    for _, r in frame.iterrows():
        table.add_row(Text(str(r["scenario"])), Text(_status(r)), *_figures(r))
    return table


def _stacked(frame: Any) -> Group:
    """One block per scenario: its name and status, then its figures as many to a line as fit."""
    blocks: list[RenderableType] = [Text("scenarios", style="italic", justify="center")]
    for _, r in frame.iterrows():
        head = Text.assemble((str(r["scenario"]), "bold"), "  ", _status(r), overflow="fold")
        figures = [Text.assemble((label, "dim"), " ", text)
                   for label, text in zip(_LABELS, _figures(r), strict=True) if text]
        blocks += [head, Padding(Columns(figures, padding=(0, 3), equal=True), (0, 0, 0, 2))]
    return Group(*blocks)


def results_view(frame: Any, console: Console) -> RenderableType:
    """Return the batch results as a table when it fits the console, else one block per scenario.

    Parameters
    ----------
    frame
        The results table of :func:`siting.batch.run_batch` (columns
        :data:`siting.batch.RESULT_COLUMNS`).
    console
        The console it is printed on; its width picks the layout.

    Returns
    -------
    rich.console.RenderableType
        A table with one row per scenario, or, on a console too narrow for it (an 80-column
        terminal), the scenario's name and status on a line and its figures, labelled, below:
        nothing is cut short either way.
    """
    table = _wide(frame)
    unbounded = console.options.update_width(_UNBOUNDED)
    if Measurement.get(console, unbounded, table).maximum <= console.width:
        return table
    return _stacked(frame)
