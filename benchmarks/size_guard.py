"""Peak memory and solve time of one plan across sizes: what the size guard is fitted on.

Usage::

    python benchmarks/size_guard.py [--tiles 1 4 16 64 121] [--real chengdu shanghai puyang]
    python benchmarks/size_guard.py --report     # table, fit and RESULTS.md from the JSON

Plans, each in a child process of its own, the real extracts named by ``--real`` and the tiled
**synthetic** cities of :mod:`benchmarks.city_tiles` (``k`` copies of the Chengdu extract: about
400 homes a copy, 48,000 in 121 copies), each as **one** plan (``siting.pipeline.plan``, lockers,
no output written), and records per run:

- what the size guard sees before any heavy work (:func:`geodata.guards.estimate_size`: the
  file's nodes, the estimated home–site pairs) and its estimate with the coefficients in code;
- the locker model's homes, pairs, parts and largest part (:func:`optimizer.lockers.model_size`);
- the child's peak resident memory (``VmHWM`` of ``/proc/self/status``, read before anything
  else is built), the solve stage's and the walk phase's seconds, and the plan's wall seconds.

The guard is not allowed to refuse a run here (its estimate is recorded instead): the
benchmark measures the sizes it would refuse. Rows go to ``benchmarks/results/size_guard.json``
as they finish; the report fits the memory model ``bytes = a + b·nodes + c·pairs`` (non-negative
least squares on the relative error) and the solve-time model ``seconds = k·pairs``, prints both
with their largest error factor on the table, and writes the entry of this command in
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import nnls

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.results_log import write_entry  # noqa: E402

__all__ = ["fit_memory", "fit_solve", "main", "measure"]

OUT = Path(__file__).resolve().parent / "results" / "size_guard.json"
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"
REAL = {"chengdu": _SHARED / "chengdu_tianfu_square.osm",
        "shanghai": _SHARED / "shanghai_center_roads.osm",
        "puyang": _SHARED / "puyang_qingzu_rural.osm"}


def _vm_hwm_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise OSError("no VmHWM in /proc/self/status (Linux only)")


def measure(osm: Path, *, radius: float, time_limit: float) -> dict[str, Any]:
    """Plan ``osm`` as one plan in this process; its sizes, peak memory and seconds.

    Run it in a fresh process: the peak is the process's own.

    Parameters
    ----------
    osm
        The OSM file.
    radius
        Walk radius (m).
    time_limit
        Solver seconds of the run.

    Returns
    -------
    dict
        One row of the table (see the module docstring).
    """
    import siting.pipeline
    from geodata.guards import SizeEstimate, estimate_size
    from optimizer.lockers import model_size

    seen: list[SizeEstimate] = []

    def record(extract: Any, area: Any, *, radius_m: float) -> SizeEstimate:
        seen.append(estimate_size(extract, area, radius_m=radius_m))
        return seen[-1]

    siting.pipeline.check_area_size = record  # type: ignore[assignment]  # measure, never refuse
    t0 = time.perf_counter()
    result = siting.pipeline.plan(osm, radius_m=radius, time_limit=time_limit)
    seconds = time.perf_counter() - t0
    peak = _vm_hwm_bytes()
    assert result.locker_problem is not None
    options = siting.pipeline.PlanOptions.of({"radius_m": radius})
    size = model_size(result.locker_problem, siting.pipeline.locker_parameters(
        options, siting.pipeline.preset(options.rules)))
    walk = [p for p in result.locker_plan.phases if p.name == "walk"]
    est = seen[0]
    return {
        "file": osm.name, "radius_m": radius, "time_limit_s": time_limit,
        "nodes": est.n_nodes, "ways": est.n_ways, "area_km2": round(est.area_km2, 2),
        "estimated_pairs": est.pairs, "estimated_bytes_then": est.bytes_needed,
        "homes": size.homes, "sites": size.sites, "pairs": size.pairs, "parts": size.parts,
        "largest_part_pairs": size.largest_part_pairs,
        "peak_bytes": peak, "plan_s": round(seconds, 2),
        "solve_s": result.timings.get("solve"), "status": result.locker_plan.status,
        "walk_solve_s": round(walk[0].solve_s, 3) if walk else None,
        "walk_columns": walk[0].columns if walk else None,
    }


def _child(osm: Path, *, radius: float, time_limit: float) -> dict[str, Any]:
    load = os.getloadavg()[0]
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(osm), "--radius", str(radius),
         "--time-limit", str(time_limit)], check=True, capture_output=True, text=True)
    row: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    row["load_before"] = round(load, 1)
    row["load_after"] = round(os.getloadavg()[0], 1)
    return row


def _save(row: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    """Add ``row`` to the rows in ``path``, replacing that of the same file and radius."""
    rows = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    rows = [r for r in rows if (r["file"], r["radius_m"]) != (row["file"], row["radius_m"])]
    rows = sorted(rows + [row], key=lambda r: (r["file"].startswith("chengdu_x"), r["homes"],
                                                r["radius_m"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(row), flush=True)
    return rows


def fit_memory(rows: list[dict[str, Any]]) -> tuple[float, float, float]:
    """Fit ``bytes = a + b·nodes + c·estimated pairs`` on the rows' peaks.

    Non-negative least squares on the relative error (each row divided by its peak), so the
    small runs weigh as much as the large ones.

    Returns
    -------
    tuple of float
        ``(a, b, c)``: bytes, bytes per node, bytes per estimated pair.
    """
    x = np.array([[1.0, r["nodes"], r["estimated_pairs"]] for r in rows])
    y = np.array([float(r["peak_bytes"]) for r in rows])
    coef, _ = nnls(x / y[:, None], np.ones(len(y)))
    return float(coef[0]), float(coef[1]), float(coef[2])


def fit_solve(rows: list[dict[str, Any]]) -> float:
    """Fit ``seconds = k·pairs`` on the solve stage's seconds (geometric mean of the ratios).

    Only the plans proven optimal count: one stopped at its time limit says only that its
    solve would take longer.
    """
    ratios = [r["solve_s"] / r["pairs"] for r in rows if _proven(r)]
    return math.exp(sum(math.log(q) for q in ratios) / len(ratios))


def _proven(row: dict[str, Any]) -> bool:
    return bool(row["status"] == "optimal" and row["pairs"] and row["solve_s"])


def _factor(estimate: float, measured: float) -> float:
    return max(estimate / measured, measured / estimate)


def report(rows: list[dict[str, Any]], command: str, load_start: float, *,
           rewritten: bool = False) -> str:
    """Print the table, the fits and their largest error factors; write the RESULTS.md entry.

    Parameters
    ----------
    rows
        The measured rows.
    command
        The command the entry is filed under.
    load_start
        The load average when this command started.
    rewritten
        Whether the report is rewritten from the JSON (``--report``): the machine line's load
        is then the report's, each row's own load is in its ``load`` column.

    Returns
    -------
    str
        The entry's text.
    """
    from geodata.guards import bytes_needed

    a, b, c = fit_memory(rows)
    k = fit_solve(rows)
    lines = [
        "| file | radius m | nodes | est. pairs | homes | pairs | parts | peak | guard now | × | "
        "fit | × | solve s | k·pairs | × | walk s/pair | plan s | load |",
        "|---|" + "---:|" * 17,
    ]
    worst_guard = worst_fit = worst_solve = 1.0
    for r in rows:
        guard = bytes_needed(r["nodes"], r["estimated_pairs"])
        fit = a + b * r["nodes"] + c * r["estimated_pairs"]
        solve_est = k * r["pairs"]
        fg, ff = _factor(guard, r["peak_bytes"]), _factor(fit, r["peak_bytes"])
        fs = _factor(solve_est, r["solve_s"]) if _proven(r) else float("nan")
        worst_guard, worst_fit = max(worst_guard, fg), max(worst_fit, ff)
        worst_solve = max(worst_solve, fs) if not math.isnan(fs) else worst_solve
        per_pair = (f"{r['walk_solve_s'] / r['pairs'] * 1e6:.1f} µs"
                    if r.get("walk_solve_s") is not None and r["pairs"] else "–")
        fs_text = "–" if math.isnan(fs) else f"{fs:.1f}"
        lines.append(
            f"| {r['file']} | {r['radius_m']:g} | {r['nodes']:,} | {r['estimated_pairs']:,} | "
            f"{r['homes']:,} | "
            f"{r['pairs']:,} | {r['parts']:,} | {r['peak_bytes'] / 2**30:.2f} GiB | "
            f"{guard / 2**30:.2f} GiB | {fg:.2f} | {fit / 2**30:.2f} GiB | {ff:.2f} | "
            f"{r['solve_s']:.1f} ({r['status']}) | {solve_est:.1f} | {fs_text} | {per_pair} | "
            f"{r['plan_s']:.0f} | {r['load_before']:.1f}–{r['load_after']:.1f} |")
    lines += [
        "",
        f"Memory fit `bytes = a + b·nodes + c·estimated pairs`: a = {a:,.0f}, b = {b:,.1f}, "
        f"c = {c:,.1f}; largest error factor {worst_fit:.2f} (the guard's coefficients in code: "
        f"{worst_guard:.2f}).",
        f"Solve-time fit `seconds = k·pairs` on the plans proven optimal: k = {k:.3g} s; "
        f"largest error factor {worst_solve:.1f} (a plan stopped at its time limit, "
        "`time_limit`, needed longer than its `solve s`).",
        "",
        "Columns: `est. pairs` is the guard's estimate before the network is built, `pairs` the "
        "locker model's; `peak` the planning process's VmHWM; `guard now` the estimate of "
        "`geodata.guards.bytes_needed` as committed, `fit` this run's fit; `×` the factor "
        "between estimate and measurement; `solve s` the solve stage; `walk s/pair` the walk "
        "phase's solver seconds per pair; `load` the 1-minute load average before and after. "
        "Each row is saved in `benchmarks/results/size_guard.json` as it finishes, replacing the "
        "row of the same file and radius.",
    ]
    if rewritten:
        lines.insert(0, f"Report rewritten from `{OUT.relative_to(OUT.parents[2])}` with "
                        "`--report`: the machine line's load is the report's, each row's is in "
                        "its `load` column.\n")
    text = "\n".join(lines)
    print(text)
    write_entry(command, text, load_start=load_start)
    return text


def main(argv: list[str] | None = None) -> int:
    """Command line: measure the sizes, or with ``--report`` only rewrite the report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--tiles", type=int, nargs="*", default=[1, 4, 16, 64, 121])
    ap.add_argument("--real", nargs="*", default=list(REAL), choices=list(REAL))
    ap.add_argument("--radius", type=float, default=300.0)
    ap.add_argument("--longer-walk", type=float, default=600.0,
                    help="radius (m) the 16-copy city is also planned at, so that the fit sees "
                         "pairs vary apart from nodes (default 600)")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--report", action="store_true", help="only the report, from --out")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(measure(args.child, radius=args.radius, time_limit=args.time_limit)))
        return 0
    load_start = os.getloadavg()[0]
    command = "python benchmarks/size_guard.py"
    if args.report:
        report(json.loads(args.out.read_text(encoding="utf-8")), command, load_start,
               rewritten=True)
        return 0
    from benchmarks.city_tiles import EXTRACTS, clip_extract, write_city

    rows: list[dict[str, Any]] = []
    for name in args.real:
        rows = _save(_child(REAL[name], radius=args.radius, time_limit=args.time_limit), args.out)
    template = clip_extract(EXTRACTS["chengdu"])
    with tempfile.TemporaryDirectory() as tmp:
        for tiles in sorted(args.tiles):
            city = write_city(template, Path(tmp) / f"chengdu_x{tiles}.osm.pbf", tiles=tiles)
            for radius in sorted({args.radius} | ({args.longer_walk} if tiles == 16 else set())):
                rows = _save(_child(city, radius=radius, time_limit=args.time_limit), args.out)
            city.unlink()
    report(rows, command, load_start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
