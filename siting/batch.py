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

import pandas as pd

from geodata.errors import (
    InfeasiblePlanError,
    InputDataError,
    OutputError,
    ParameterError,
    SitingError,
)
from maps.batch_charts import comparison_charts, comparison_page
from maps.files import atomic_file
from optimizer.budget import SolveBudget, SolveProgress
from optimizer.compliance import rule_state_counts
from siting.scenario import ScenarioError, ScenarioRun, plan_kwargs

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
    "source", "folder", "input_hash", "rules_failed", "rules_not_evaluated",
    "rules_not_applicable",
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


def _nan(value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out


def _base_row(run: ScenarioRun, folder: Path) -> dict[str, Any]:
    s = run.scenario
    o = s.options()
    return {
        "scenario": run.name,
        "status": "failed",
        "sites": math.nan, "compartments": math.nan, "modules": math.nan,
        "stations": math.nan, "hubs": math.nan, "coverage": math.nan, "cost": math.nan,
        "rules_passed": math.nan, "rules_total": math.nan, "rules_failed": math.nan,
        "rules_not_evaluated": math.nan, "rules_not_applicable": math.nan, "gap": math.nan,
        "seconds": math.nan, "error": "", "skipped": False,
        "radius_m": float(o.lockers.radius_m), "rules": s.rules.preset, "mode": o.lockers.mode,
        "budget": _nan(o.lockers.budget),
        "growth_factor": _nan(o.demand.parameters().growth_factor),
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
    states = rule_state_counts(records)
    row.update({
        "status": str(summary.get("status", "unknown")),
        "sites": _nan(counts.get("lockers")),
        "compartments": _nan(counts.get("compartments")),
        "modules": _nan(counts.get("modules")),
        "stations": _tier_count(summary, tiers, "stations", "stations"),
        "hubs": _tier_count(summary, tiers, "hubs", "open"),
        "coverage": _nan(summary.get("coverage", {}).get("parcel_share_covered")),
        "cost": _nan(summary.get("objective")),
        "rules_passed": float(states["passed"]),
        "rules_total": float(len(records)),
        "rules_failed": float(states["failed"]),
        "rules_not_evaluated": float(states["not evaluated"]),
        "rules_not_applicable": float(states["not applicable"]),
        "gap": _nan(summary.get("gap")),
        "seconds": round(seconds, 3),
    })
    return row


def _tier_count(summary: Mapping[str, Any], tiers: set[str], tier: str, key: str) -> float:
    """Return a tier's count from ``summary["tiers"]`` (NaN when the tier was not asked for)."""
    if tier not in tiers:
        return math.nan
    return _nan(summary.get("tiers", {}).get(tier, {}).get("counts", {}).get(key, 0))


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
        if run.scenario.area.districts is not None:
            from siting.city import plan_city_on_cluster

            summary = plan_city_on_cluster(run.scenario, out=folder).summary
        else:
            from siting.pipeline import plan

            summary = plan(run.scenario.area.osm, solve_budget=_solve_budget(run),
                           **plan_kwargs(run.scenario, out=folder)).summary
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
    # ":0": the scheduler's HTTP server takes a free port, so a batch never fails because
    # another program (another batch) holds Dask's default 8787
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)
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
    for path, load_error in load_errors:
        row = _load_error_row(path, load_error)
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

