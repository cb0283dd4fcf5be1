"""Batch what-if runs on Dask: many scenarios, one results table, comparison charts.

:func:`run_batch` sends every scenario to a Dask ``distributed`` cluster (a local one of
``workers`` processes with one thread each by default, or an existing scheduler given by its
address). Each scenario writes its own folder ``OUT/<scenario>/`` with the same files as
``siting plan`` (``plan.gpkg``, ``summary.json``, ``candidates.csv``, ``map.html``), written
atomically, and a marker ``batch.json`` with the scenario's input hash. At the end the batch
writes ``results.parquet`` and ``results.csv`` (one row per scenario, :data:`RESULT_COLUMNS`),
``tradeoff.png``, ``scenarios.png`` and ``comparison.html``.

Resuming
--------
A rerun skips a scenario whose input hash (scenario content, sha256 of its input files and the
package version; see :func:`siting.scenario.input_hash`) equals the one in its folder's marker
and whose four output files are all there. A scenario that failed on its *input* (a bad file,
a bad parameter, rules that cannot be met: the same input fails the same way) is recorded in
``OUT/.batch/failed/<scenario>.json`` and skipped too while its hash is unchanged; failures
of another kind (solver trouble, a lost worker, an output error) are retried. Pass
``retry_failed=True`` (``--retry-failed``) to retry them all.

Isolation
---------
A scenario runs inside :func:`run_scenario`, which never raises: an error becomes a row with
``status="failed"`` and the error message, and the other scenarios go on. A worker that dies is
recorded the same way. Output folders are written through :func:`maps.files.atomic_folder`, so
a killed run leaves no half-written folder.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geodata.errors import (
    InfeasiblePlanError,
    InputDataError,
    OutputError,
    ParameterError,
    SitingError,
)
from maps.files import atomic_file
from optimizer.budget import SolveBudget, SolveProgress
from siting.scenario import INPUT_KEYS, Scenario, ScenarioError, ScenarioRun

__all__ = [
    "MARKER",
    "OUTPUT_FILES",
    "RESULT_COLUMNS",
    "BatchResult",
    "comparison_charts",
    "comparison_page",
    "completed_row",
    "plan_kwargs",
    "run_batch",
    "rows_as_dicts",
    "run_scenario",
    "summary_row",
    "write_results",
]

log = logging.getLogger(__name__)

#: Files every scenario folder holds (as ``siting plan`` writes them).
OUTPUT_FILES: tuple[str, ...] = ("plan.gpkg", "summary.json", "candidates.csv", "map.html")

#: The marker a finished scenario leaves in its folder: its input hash and its results row.
MARKER = "batch.json"

#: Columns of ``results.parquet`` / ``results.csv``, in order.
RESULT_COLUMNS: tuple[str, ...] = (
    "scenario", "status", "sites", "compartments", "modules", "stations", "hubs", "coverage",
    "cost", "rules_passed", "rules_total", "gap", "seconds", "error", "skipped", "radius_m",
    "rules", "mode", "budget", "growth_factor", "solver", "time_limit", "tiers", "area",
    "source", "folder", "input_hash",
)

_INPUT_ERRORS = (InputDataError, ParameterError, InfeasiblePlanError)

#: Dask event topic on which a scenario's solves report their latest status to the batch.
PROGRESS_TOPIC = "siting-solve-progress"


@dataclass(frozen=True)
class BatchResult:
    """What :func:`run_batch` returns.

    Attributes
    ----------
    table
        One row per scenario, columns :data:`RESULT_COLUMNS`.
    out
        The batch folder.
    files
        The table, charts and page written, by name.
    seconds
        Wall-clock seconds of the batch.
    """

    table: pd.DataFrame
    out: Path
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failed(self) -> pd.DataFrame:
        """The rows of scenarios that failed."""
        return self.table[self.table["status"] == "failed"]


# --------------------------------------------------------------------------- one scenario


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
        Keyword arguments for ``plan(scenario.area.osm, **kwargs)``.
    """
    from geodata import user_inputs
    from geodata.defaults import DemandParameters
    from optimizer.hubs import HubParameters
    from optimizer.lockers import LockerParameters

    p = scenario.parameters
    demand = {k: v for k, v in {
        "floor_area_per_resident_m2": p.floor_area_per_resident_m2,
        "parcels_per_resident_per_year": p.parcels_per_resident_per_year,
        "locker_share": p.locker_share,
        "growth_factor": p.effective_growth_factor,
    }.items() if v is not None}
    locker = {k: v for k, v in {
        "compartments_per_module": p.compartments_per_module,
        "site_cost": p.site_cost,
        "module_cost": p.module_cost,
        "max_modules_per_site": p.max_modules_per_site,
    }.items() if v is not None}
    kwargs: dict[str, Any] = {
        "boundary": scenario.area.boundary,
        "boundary_crs": scenario.area.boundary_crs,
        "out": out,
        "radius_m": p.radius_m,
        "mode": p.mode,
        "budget": p.budget,
        "budget_kind": p.budget_kind,
        "time_limit": scenario.solver.time_limit,
        "work_limit": scenario.solver.work_limit,
        "solver": scenario.solver.name,
        "rules": scenario.rules.preset,
        "lang": scenario.lang,
        "demand_params": DemandParameters(**demand),
        "locker_params": LockerParameters(**locker),
    }
    kwargs["tiers"] = list(scenario.tiers)
    if scenario.rules.overrides:
        kwargs["rule_overrides"] = dict(scenario.rules.overrides)
    if p.county_hubs is not None:
        kwargs["hub_params"] = HubParameters(county_hubs=p.county_hubs)
    for key in INPUT_KEYS:
        item = getattr(scenario.inputs, key)
        if item is not None:
            reader = getattr(user_inputs, f"read_{key}")
            kwargs[key] = reader(item.path, datum=item.datum, sheet=item.sheet)
    return kwargs


def _nan(value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out


def _base_row(run: ScenarioRun, folder: Path) -> dict[str, Any]:
    s = run.scenario
    p = s.parameters
    return {
        "scenario": run.name,
        "status": "failed",
        "sites": math.nan, "compartments": math.nan, "modules": math.nan,
        "stations": math.nan, "hubs": math.nan, "coverage": math.nan, "cost": math.nan,
        "rules_passed": math.nan, "rules_total": math.nan, "gap": math.nan,
        "seconds": math.nan, "error": "", "skipped": False,
        "radius_m": float(p.radius_m), "rules": s.rules.preset, "mode": p.mode,
        "budget": _nan(p.budget), "growth_factor": _nan(p.effective_growth_factor or 1.0),
        "solver": s.solver.name, "time_limit": float(s.solver.time_limit),
        "tiers": ",".join(s.tiers), "area": Path(s.area.osm).name,
        "source": str(run.source), "folder": str(folder), "input_hash": run.input_hash,
    }


def summary_row(summary: Mapping[str, Any], run: ScenarioRun, folder: Path, seconds: float
                ) -> dict[str, Any]:
    """Build the results row of a finished plan from its ``summary.json`` content.

    Parameters
    ----------
    summary
        The plan summary.
    run
        The scenario run.
    folder
        Its output folder.
    seconds
        Wall-clock seconds of the run.

    Returns
    -------
    dict
        A row with the keys :data:`RESULT_COLUMNS`.
    """
    row = _base_row(run, folder)
    counts = summary.get("counts", {})
    records = [r for r in summary.get("rules", []) if isinstance(r, Mapping)]
    tiers = set(run.scenario.tiers)
    row.update({
        "status": str(summary.get("status", "unknown")),
        "sites": _nan(counts.get("lockers")),
        "compartments": _nan(counts.get("compartments")),
        "modules": _nan(counts.get("modules")),
        "stations": _nan(counts.get("stations", 0 if "stations" in tiers else math.nan)),
        "hubs": _nan(counts.get("hubs", 0 if "hubs" in tiers else math.nan)),
        "coverage": _nan(summary.get("coverage", {}).get("parcel_share_covered")),
        "cost": _nan(summary.get("objective")),
        "rules_passed": float(sum(bool(r.get("passed")) for r in records)),
        "rules_total": float(len(records)),
        "gap": _nan(summary.get("gap")),
        "seconds": round(seconds, 3),
    })
    return row


def _atomic_write_text(path: Path, text: str) -> None:
    atomic_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _failed_record(out: Path, name: str) -> Path:
    return out / ".batch" / "failed" / f"{name}.json"


def completed_row(run: ScenarioRun, out: Path, *, retry_failed: bool = False
                  ) -> dict[str, Any] | None:
    """Return the recorded row of a scenario a rerun can skip, or ``None`` when it must run.

    Parameters
    ----------
    run
        The scenario run.
    out
        The batch folder.
    retry_failed
        Never skip a recorded failure.

    Returns
    -------
    dict or None
        The earlier row, marked ``skipped``, when the folder is complete (all of
        :data:`OUTPUT_FILES` and a marker with the same input hash), or when the same input
        failed on its input before; else ``None``.
    """
    folder = out / run.name
    marker = folder / MARKER
    candidates = [marker] if all((folder / f).is_file() for f in OUTPUT_FILES) else []
    if not retry_failed:
        candidates.append(_failed_record(out, run.name))
    for path in candidates:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if record.get("input_hash") == run.input_hash and isinstance(record.get("row"), dict):
            row = {**_base_row(run, folder), **record["row"], "skipped": True}
            return {k: row.get(k) for k in RESULT_COLUMNS}
    return None


def _error_text(err: BaseException) -> str:
    if isinstance(err, SitingError):
        return f"{type(err).__name__}: {err}"
    last = traceback.extract_tb(err.__traceback__)[-1:] if err.__traceback__ else []
    where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{type(err).__name__}: {err}{where}"


def _record(run: ScenarioRun, out: Path, row: dict[str, Any], *, ok: bool,
            input_error: bool) -> None:
    record = {"input_hash": run.input_hash, "scenario": run.name, "row": row,
              "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    text = json.dumps(record, ensure_ascii=False, indent=2, default=str) + "\n"
    failed = _failed_record(out, run.name)
    if ok:
        _atomic_write_text(out / run.name / MARKER, text)
        failed.unlink(missing_ok=True)
    elif input_error:
        failed.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write_text(failed, text)
    else:
        failed.unlink(missing_ok=True)


def run_scenario(run: ScenarioRun, out: str | Path) -> dict[str, Any]:
    """Run one scenario and write its folder; never raises.

    Runs on a Dask worker (or anywhere). A city scenario (``area.districts``) runs its
    districts through :func:`siting.city.plan_city`, in parallel on the same cluster when
    called on a worker.

    Parameters
    ----------
    run
        The scenario run.
    out
        The batch folder; the scenario writes ``out/<name>/``.

    Returns
    -------
    dict
        The results row (keys :data:`RESULT_COLUMNS`); a failure has ``status="failed"`` and
        the error message in ``error``.
    """
    out = Path(out)
    folder = out / run.name
    t0 = time.perf_counter()
    try:
        kwargs = plan_kwargs(run.scenario, out=folder)
        if run.scenario.area.districts is not None:
            from siting.city import plan_city_on_cluster

            result = plan_city_on_cluster(run.scenario, out=folder)
            summary = result.summary
        else:
            from siting.pipeline import plan

            summary = plan(run.scenario.area.osm, solve_budget=_solve_budget(run),
                           **kwargs).summary
        row = summary_row(summary, run, folder, time.perf_counter() - t0)
        _record(run, out, row, ok=True, input_error=False)
    except Exception as err:  # noqa: BLE001 - isolation: any failure becomes a row
        log.warning("scenario %s failed: %s", run.name, err)
        row = _base_row(run, folder)
        row.update(error=_error_text(err), seconds=round(time.perf_counter() - t0, 3))
        try:
            _record(run, out, row, ok=False, input_error=isinstance(err, _INPUT_ERRORS))
        except OSError:
            log.warning("could not record the failure of %s", run.name)
    return {k: row.get(k) for k in RESULT_COLUMNS}


# --------------------------------------------------------------------------- the batch


def _solve_budget(run: ScenarioRun) -> SolveBudget | None:
    """On a Dask worker: the scenario's budget, each solve's status sent to the batch client.

    ``None`` elsewhere (the pipeline then makes a budget of the scenario's ``time_limit``).
    """
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None

    def publish(update: SolveProgress) -> None:
        worker.log_event(PROGRESS_TOPIC, {"scenario": run.name, "status": update.describe()})

    return SolveBudget(float(run.scenario.solver.time_limit), progress=publish,
                       work_limit=run.scenario.solver.work_limit)


def _load_error_row(path: Path, err: ScenarioError) -> dict[str, Any]:
    row: dict[str, Any] = {k: math.nan for k in RESULT_COLUMNS}
    row.update(scenario=path.name.removesuffix(".toml"), status="failed",
               error=f"{type(err).__name__}: {err}", skipped=False, rules="", mode="",
               solver="", tiers="", area="", source=str(path), folder="", input_hash="")
    return row


def _client(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as err:
            raise ParameterError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({err}). Fix: start it with "
                "`dask scheduler` and give its address, e.g. tcp://127.0.0.1:8786"
            ) from err
        return client, None
    if workers < 1:
        raise ParameterError(f"workers={workers} must be at least 1. Fix: --workers 2")
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    return Client(cluster), cluster


def run_batch(
    runs: Sequence[ScenarioRun],
    *,
    out: str | Path,
    scheduler: str | None = None,
    workers: int = 2,
    retry_failed: bool = False,
    load_errors: Sequence[tuple[Path, ScenarioError]] = (),
    progress: Callable[[int, int, dict[str, Any]], None] | None = None,
    charts: bool = True,
    status: Callable[[str, str], None] | None = None,
) -> BatchResult:
    """Run scenarios on a Dask cluster and write the results table, charts and page.

    Parameters
    ----------
    runs
        Scenario runs (from :func:`siting.scenario.load_scenarios`); names must be unique.
    out
        The batch folder; each scenario writes ``out/<name>/``.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); ``None`` starts a
        ``LocalCluster`` of ``workers`` processes with one thread each.
    workers
        Worker processes of the local cluster.
    retry_failed
        Rerun scenarios that failed before on unchanged input.
    load_errors
        Scenario files that could not be loaded: each becomes a failure row.
    progress
        Called as ``progress(done, total, row)`` after each scenario.
    charts
        Write ``tradeoff.png``, ``scenarios.png`` and ``comparison.html``.
    status
        Called as ``status(scenario, line)`` with each solve's latest progress (stage,
        seconds, objective, bound, gap) while scenarios run; called from Dask's client thread.

    Returns
    -------
    BatchResult
        The table, the files written and the wall-clock seconds.

    Raises
    ------
    ParameterError
        When two runs share a name, ``workers`` is below 1 or the scheduler is unreachable.
    OutputError
        When ``out`` cannot be written.
    """
    t0 = time.perf_counter()
    out = Path(out).absolute()
    names = [r.name for r in runs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ParameterError(f"scenario names used twice: {dupes}. Fix: rename the scenarios")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{out}: cannot create the batch folder ({err.strerror or err}). "
                          "Fix: choose a folder you can write to with --out") from err
    rows: dict[str, dict[str, Any]] = {}
    order = [p.name.removesuffix(".toml") for p, _ in load_errors] + names
    total = len(order)
    for path, err in load_errors:
        row = _load_error_row(path, err)
        rows[row["scenario"]] = row
        if progress:
            progress(len(rows), total, row)
    todo = []
    for run in runs:
        done = completed_row(run, out, retry_failed=retry_failed)
        if done is None:
            todo.append(run)
            continue
        rows[run.name] = done
        if progress:
            progress(len(rows), total, done)
    log.info("batch: %d scenarios, %d skipped (unchanged), %d to run", total,
             total - len(todo) - len(load_errors), len(todo))
    if todo:
        _run_on_cluster(todo, out, scheduler, workers, rows, total, progress, status)
    table = pd.DataFrame([rows[n] for n in order if n in rows], columns=list(RESULT_COLUMNS))
    files = write_results(table, out)
    if charts:
        pngs = comparison_charts(table, out)
        files.update(pngs)
        files["comparison.html"] = comparison_page(table, pngs, out)
    seconds = time.perf_counter() - t0
    log.info("batch: %d ok, %d failed, %d skipped in %.1f s",
             int((table["status"] != "failed").sum()), int((table["status"] == "failed").sum()),
             int(table["skipped"].astype(bool).sum()), seconds)
    return BatchResult(table=table, out=out, files=files, seconds=seconds)


def _run_on_cluster(todo: Sequence[ScenarioRun], out: Path, scheduler: str | None,
                    workers: int, rows: dict[str, dict[str, Any]], total: int,
                    progress: Callable[[int, int, dict[str, Any]], None] | None,
                    status: Callable[[str, str], None] | None) -> None:
    from distributed import as_completed

    client, cluster = _client(scheduler, workers)
    if status is not None:
        client.subscribe_topic(PROGRESS_TOPIC,
                               lambda event: status(event[1]["scenario"], event[1]["status"]))
    try:
        futures = []
        run_of = {}
        for run in todo:
            fut = client.submit(run_scenario, run, str(out), pure=False,
                                key=f"scenario-{run.name}-{uuid.uuid4().hex[:8]}")
            futures.append(fut)
            run_of[fut.key] = run
        for fut in as_completed(futures):
            run = run_of[fut.key]
            try:
                row = fut.result()
            except Exception as err:  # noqa: BLE001 - a lost worker is one failed row
                row = _base_row(run, out / run.name)
                row["error"] = f"the worker running it failed: {_error_text(err)}"
            rows[run.name] = row
            if progress:
                progress(len(rows), total, row)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- outputs


def write_results(table: pd.DataFrame, out: Path) -> dict[str, Path]:
    """Write ``results.parquet`` and ``results.csv`` atomically.

    Parameters
    ----------
    table
        The results table.
    out
        The batch folder.

    Returns
    -------
    dict
        ``{"results.parquet": path, "results.csv": path}``.
    """
    frame = table.copy()
    for col in ("error", "status", "scenario", "rules", "mode", "solver", "tiers", "area",
                "source", "folder", "input_hash"):
        frame[col] = frame[col].fillna("").astype(str)
    frame["skipped"] = frame["skipped"].fillna(False).astype(bool)
    for col in set(RESULT_COLUMNS) - set(frame.select_dtypes(exclude="number").columns):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    files = {}
    for name, writer in (("results.parquet", lambda p: frame.to_parquet(p, index=False)),
                         ("results.csv", lambda p: frame.to_csv(p, index=False))):
        files[name] = atomic_file(out / name, writer)
    return files


def _varying(table: pd.DataFrame, exclude: str) -> list[str]:
    cols = ["area", "rules", "mode", "budget", "growth_factor", "solver", "time_limit", "tiers",
            "radius_m"]
    return [c for c in cols if c != exclude and table[c].nunique(dropna=False) > 1]


def comparison_charts(table: pd.DataFrame, out: Path) -> dict[str, Path]:
    """Draw the comparison charts (matplotlib, Agg canvas) as PNG files.

    ``tradeoff.png`` plots compartments and parcel coverage against the walking radius, one
    line per combination of the other varying settings (the rules preset in a radius x rules
    sweep); it is drawn when the successful rows have at least two radii. ``scenarios.png``
    shows compartments and coverage per scenario.

    Parameters
    ----------
    table
        The results table.
    out
        The batch folder.

    Returns
    -------
    dict
        File name to path of the charts written.
    """
    from matplotlib.figure import Figure

    ok = table[table["status"] != "failed"].copy()
    files: dict[str, Path] = {}
    if ok.empty:
        return files
    if ok["radius_m"].nunique() >= 2:
        groups = _varying(ok, exclude="radius_m")
        fig = Figure(figsize=(10, 4.2), dpi=110, layout="constrained")
        ax_c, ax_v = fig.subplots(1, 2)
        keyed = ok.groupby(groups, dropna=False, sort=True) if groups else [("all", ok)]
        for key, part in keyed:
            part = part.sort_values("radius_m")
            label = (", ".join(f"{g}={v}" for g, v in zip(groups, key if isinstance(key, tuple)
                                                           else (key,), strict=True))
                     if groups else "scenarios")
            ax_c.plot(part["radius_m"], part["compartments"], marker="o", label=label)
            ax_v.plot(part["radius_m"], 100 * part["coverage"], marker="o", label=label)
        ax_c.set(xlabel="walking radius (m)", ylabel="locker compartments",
                 title="Compartments against radius")
        ax_v.set(xlabel="walking radius (m)", ylabel="parcels covered (%)",
                 title="Coverage against radius")
        for ax in (ax_c, ax_v):
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle("Trade-off: a longer walk needs fewer lockers and covers more homes")
        files["tradeoff.png"] = _save_png(fig, out / "tradeoff.png")
    fig = Figure(figsize=(10, 0.45 * len(ok) + 1.6), dpi=110, layout="constrained")
    ax_c, ax_v = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(ok))
    ax_c.barh(y, ok["compartments"].to_numpy(float), color="#4477aa")
    ax_v.barh(y, 100 * ok["coverage"].to_numpy(float), color="#228833")
    ax_c.set_yticks(y, ok["scenario"].tolist(), fontsize=7)
    ax_c.invert_yaxis()
    ax_c.set(xlabel="compartments", title="Compartments per scenario")
    ax_v.set(xlabel="parcels covered (%)", title="Coverage per scenario", xlim=(0, 100))
    files["scenarios.png"] = _save_png(fig, out / "scenarios.png")
    return files


def _save_png(fig: Any, target: Path) -> Path:
    return atomic_file(target, lambda tmp: fig.savefig(tmp, format="png"))


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:,.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def comparison_page(table: pd.DataFrame, charts: Mapping[str, Path], out: Path) -> Path:
    """Write ``comparison.html``: the charts (embedded) and the results table, all escaped.

    Parameters
    ----------
    table
        The results table.
    charts
        Chart file name to path (from :func:`comparison_charts`).
    out
        The batch folder.

    Returns
    -------
    pathlib.Path
        The page.
    """
    shown = ["scenario", "status", "sites", "modules", "compartments", "stations", "hubs",
             "coverage", "cost", "rules_passed", "rules_total", "gap", "seconds", "skipped",
             "error"]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown)
    body = []
    for _, row in table.iterrows():
        cls = ' class="failed"' if row["status"] == "failed" else ""
        cells = []
        for c in shown:
            text = _cell(row[c])
            if c == "scenario" and row["status"] != "failed":
                link = html.escape(f"{row['scenario']}/map.html", quote=True)
                cells.append(f'<td><a href="{link}">{html.escape(text)}</a></td>')
            else:
                cells.append(f"<td>{html.escape(text)}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    images = []
    for name, path in charts.items():
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        images.append(f'<figure><img alt="{html.escape(name, quote=True)}" '
                      f'src="data:image/png;base64,{data}"><figcaption>{html.escape(name)}'
                      "</figcaption></figure>")
    ok = int((table["status"] != "failed").sum())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Scenario comparison</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }}
tr.failed td {{ background: #fde8e8; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>Scenario comparison</h1>
<p>{ok} of {len(table)} scenarios planned; map data © OpenStreetMap contributors, ODbL 1.0.</p>
{''.join(images)}
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
</body></html>
"""
    target = out / "comparison.html"
    _atomic_write_text(target, page)
    return target


def rows_as_dicts(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the table as plain dicts (NaN as ``None``), for JSON or display.

    Parameters
    ----------
    table
        The results table.

    Returns
    -------
    list of dict
        One dict per row.
    """
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in table.to_dict(orient="records")]

