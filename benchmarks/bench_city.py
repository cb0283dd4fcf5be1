"""City mode at size: tiled **synthetic** cities planned on a local Dask cluster.

Usage::

    python benchmarks/bench_city.py [--tiles 1 4 16] [--workers 2] [--out benchmarks/results]

For each size, :mod:`benchmarks.city_tiles` writes ``k x k`` copies of the Chengdu extract (a
synthetic city, not a real place) as an OSM PBF; the city scenario (its ``admin_level=8``
sub-districts as districts, lockers and stations) is planned by :func:`siting.city.plan_city`
on a fresh ``LocalCluster`` of ``--workers`` single-threaded worker processes. Printed per run:
tiles, districts, homes, home-site pairs, wall seconds (generation excluded), each worker's
own peak memory (its process's high-water resident set) and this process's (the client holding the
whole city's extract; the peak so far, as sizes run in turn), the city's cost, its lower
bound and gap (:mod:`optimizer.city_bound`), and every district's status and gap. The rows go to
``city_scaling.json`` and the curve (homes against seconds and memory) to
``city_scaling.png`` in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.city_tiles import EXTRACTS, clip_extract, write_city  # noqa: E402

__all__ = ["main", "run_size", "scaling_chart", "whole_optimum"]

ROOT = Path(__file__).resolve().parents[1]

_SCENARIO = """
name = "tiled-city-{tiles}"
tiers = {tiers}
[area]
osm = "{osm}"
[area.districts]
source = "osm"
admin_level = 8
[parameters]
radius_m = {radius}
[solver]
time_limit = {limit}
"""


def _peak_rss_mb() -> float:
    """This process's own peak resident memory in MB.

    On Linux, ``VmHWM`` of ``/proc/self/status``: ``getrusage``'s ``ru_maxrss`` carries a
    spawned process's parent's peak across fork and exec, so a worker started by a client
    that had grown would report the client's peak as its own.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_size(tiles: int, *, workers: int, tiers: list[str], radius: float, limit: float,
             folder: Path) -> dict[str, Any]:
    """Generate a ``tiles``-copy city and plan it on a fresh local cluster; return one row.

    Parameters
    ----------
    tiles
        Copies of the Chengdu extract (a square).
    workers
        Dask worker processes (one thread each).
    tiers
        Tiers planned.
    radius, limit
        Walking radius (m) and solver time limit (s) of every district.
    folder
        Where the city's file and plan are written.

    Returns
    -------
    dict
        The row printed and saved.
    """
    from distributed import Client, LocalCluster

    from siting.city import plan_city
    from siting.scenario import load_scenarios

    osm = write_city(clip_extract(EXTRACTS["chengdu"]), folder / f"city-{tiles}.osm.pbf",
                     tiles=tiles)
    path = folder / f"city-{tiles}.toml"
    path.write_text(_SCENARIO.format(tiles=tiles, tiers=json.dumps(tiers), osm=osm.name,
                                     radius=radius, limit=limit), encoding="utf-8")
    scenario = load_scenarios(path)[0].scenario
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, memory_limit=0) as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        city = plan_city(scenario, out=folder / f"plan-{tiles}", client=client)
        seconds = time.perf_counter() - t0
        peaks = sorted(client.run(_peak_rss_mb).values())
    s = city.summary
    return {
        "tiles": tiles, "districts": len(s["districts"]),
        "homes": s["coverage"]["demand_points"], "pairs": s["counts"]["pairs_within_radius"],
        "seconds": round(seconds, 1), "peak_mb_per_worker": [round(p) for p in peaks],
        "peak_mb_client": round(_peak_rss_mb()),
        "cost": s["objective"], "bound": s["bound"], "gap": s["gap"], "status": s["status"],
        "bound_status": s["city_bound"]["status"], "bound_solve_s": s["city_bound"]["solve_s"],
        "district_status": [(d["name"], d["status"], d["gap"]) for d in s["districts"]],
    }


def whole_optimum(osm: Path, *, radius: float, limit: float) -> dict[str, Any]:
    """Plan the whole city as one locker plan (no districts); its status, cost and bound.

    The reference the merged city plan and its bound are measured against: the cheapest
    plan of every home at once, where the solver proves it within ``limit``.
    """
    from siting.options import PlanOptions
    from siting.pipeline import run_plan

    t0 = time.perf_counter()
    s = run_plan(osm, PlanOptions(radius_m=radius, time_limit=limit)).summary
    return {"status": s["status"], "cost": s["objective"], "bound": s["bound"],
            "seconds": round(time.perf_counter() - t0, 1)}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.2f} %"


def _print_row(row: dict[str, Any]) -> None:
    bound = "–" if row["bound"] is None else f"{row['bound']:,.0f}"
    print(f"tiles {row['tiles']:>3} | districts {row['districts']:>3} | homes {row['homes']:>6,} "
          f"| pairs {row['pairs']:>9,} | {row['seconds']:>7.1f} s | peak MB per worker "
          f"{row['peak_mb_per_worker']}, client {row['peak_mb_client']} "
          f"| cost {row['cost']:,.0f} | bound {bound} "
          f"| gap {_pct(row['bound'] and row['gap'])} (split problems {row['bound_status']})",
          flush=True)
    if "whole" in row:
        w = row["whole"]
        wb = "–" if w["bound"] is None else f"{w['bound']:,.0f}"
        print(f"    whole city as one plan: {w['status']}, cost {w['cost']:,.0f}, bound {wb} "
              f"({w['seconds']} s); merged plan "
              f"{_pct(row['cost'] / w['cost'] - 1)} above its cost")
    statuses = [status for _, status, _ in row["district_status"]]
    gaps = [gap for _, _, gap in row["district_status"] if gap is not None]
    print("    districts: " + ", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses)))
          + f"; largest district gap {_pct(max(gaps, default=None))}")
    if len(statuses) <= 12:  # every district's status and gap are in city_scaling.json
        for name, status, gap in row["district_status"]:
            print(f"    {name}: {status}, gap {_pct(gap)}")


def scaling_chart(rows: list[dict[str, Any]], out: Path) -> Path:
    """Draw homes against seconds and peak worker memory; return the PNG path.

    Parameters
    ----------
    rows
        :func:`run_size` rows.
    out
        The PNG to write.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    homes = [r["homes"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    panels = [("wall seconds", [r["seconds"] for r in rows], "tab:blue"),
              ("peak MB (largest worker)", [max(r["peak_mb_per_worker"]) for r in rows],
               "tab:red")]
    for ax, (label, values, colour) in zip(axes, panels, strict=True):
        ax.plot(homes, values, "o-", color=colour)
        ax.set(xlabel="homes", ylabel=label)
        for row, v in zip(rows, values, strict=True):
            ax.annotate(f"{row['tiles']} tiles", (row["homes"], v), textcoords="offset points",
                        xytext=(4, -10), fontsize=8)
    fig.suptitle("City mode on a local Dask cluster; synthetic city: the Chengdu extract tiled",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the sizes, print and save the rows (and the curve from three sizes on)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiles", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tiers", nargs="+", default=["lockers", "stations"])
    ap.add_argument("--radius", type=float, default=300.0)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--whole-up-to", type=int, default=1, metavar="TILES",
                    help="also plan cities of at most this many copies as one plan (lockers, "
                         "one process, 10x the time limit), the reference for cost and bound")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at start; synthetic tiled cities")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-city-") as tmp:
        for tiles in args.tiles:
            row = run_size(tiles, workers=args.workers, tiers=args.tiers, radius=args.radius,
                           limit=args.time_limit, folder=Path(tmp))
            if tiles <= args.whole_up_to:
                row["whole"] = whole_optimum(Path(tmp) / f"city-{tiles}.osm.pbf",
                                             radius=args.radius, limit=10 * args.time_limit)
            row["load_after"] = round(os.getloadavg()[0], 1)
            rows.append(row)
            _print_row(row)
            (args.out / "city_scaling.json").write_text(json.dumps(rows, indent=1,
                                                                   ensure_ascii=False))
    if len(rows) >= 3:
        print(scaling_chart(rows, args.out / "city_scaling.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
