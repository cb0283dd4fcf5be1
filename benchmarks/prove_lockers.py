"""Prove the locker model on every real extract, and on a synthetic 20,000-home district.

Usage: python benchmarks/prove_lockers.py [--quick] [--cases chengdu puyang shanghai district]
       [--copies N] [--out benchmarks/results]

Targets (issue 12, point 2), on a 2-core machine:

- ``chengdu``, ``puyang``, ``shanghai``: proven (gap <= 1e-4) in under 60 s each;
- ``district``: proven, or within 0.1 %, in 10 minutes, with its gap.

Each extract's :class:`~optimizer.lockers.LockerProblem` is built the way the district
pipeline (``siting.pipeline.plan``) builds it, from the public :mod:`geodata` functions:
study area from the file's bounds, walking network, demand from residential buildings, else
one point per ``place=village`` node, else the 100 m street grid (the pipeline's choice, in
that order), candidates from OSM plus the fallback's sites (village nodes, street corners),
network distances within 300 m, existing lockers at their tagged capacity or the default.
The R2 ratio comes from the ``national`` rules preset, as in the pipeline; it equals the
default of :class:`~optimizer.lockers.LockerParameters`. Communities only label demand
points; a point's daily parcels do not depend on them, so the village fallback's Voronoi
communities are not rebuilt here.

- ``chengdu``: the vendored ``examples/data/chengdu_tianfu_square.osm.xz`` (buildings);
- ``puyang``: ``../shared/data/osm/puyang_qingzu_rural.osm`` (village nodes);
- ``shanghai``: ``../shared/data/osm/shanghai_center_roads.osm`` (roads only: street-grid
  demand, street-corner sites), 300 m walking radius;
- ``district``: **synthetic**. The Chengdu problem tiled ``--copies`` times (default: enough
  copies for about 20,000 homes, 48 for the 416 Chengdu homes). Copy ``k`` has its demand and
  site indices shifted by ``k`` times the Chengdu counts, and its homes reach only its own
  sites, as copies of the extract laid side by side, with shifted ids and coordinates more
  than a walking radius apart, would. It is a scale test, not a real city.

Every case is built and solved in a fresh process (spawned), one after the other, so no case
pays for another's memory or imports. ``solve_lockers(problem, params, mode="min-cost",
time_limit=..., gap=1e-4)`` is timed by the wall clock; building the problem is not timed.

The table (homes, sites, pairs, status, objective, bound, gap, seconds, target met) is printed
and written to ``prove_lockers.md`` in ``--out`` (``prove_lockers_quick.md`` with ``--quick``,
kept out of git). Exit status 1 when a target is missed (not with ``--quick``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optimizer.lockers import LockerParameters, LockerProblem  # noqa: E402

__all__ = ["CASES", "build_case", "main", "run_case", "tile"]

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "osm"
RESULTS = Path(__file__).resolve().parent / "results"

#: Case name -> OSM file (``district`` tiles ``chengdu``).
EXTRACTS = {
    "chengdu": ROOT / "examples" / "data" / "chengdu_tianfu_square.osm.xz",
    "puyang": SHARED / "puyang_qingzu_rural.osm",
    "shanghai": SHARED / "shanghai_center_roads.osm",
}
CASES = (*EXTRACTS, "district")

RADIUS_M = 300.0
GAP = 1e-4
EXTRACT_SECONDS = 60.0
DISTRICT_SECONDS = 600.0
DISTRICT_GAP = 1e-3
DISTRICT_HOMES = 20_000
QUICK_SECONDS = 10.0
QUICK_COPIES = 4


def build_case(osm: Path) -> tuple[LockerProblem, LockerParameters, str]:
    """Build one extract's locker problem with the district pipeline's own stages.

    Parameters
    ----------
    osm
        The OSM file.

    Returns
    -------
    tuple
        The problem (walks along the streets, R2 per mapped community), the locker parameters
        (300 m, R2 ratio of the ``national`` preset) and the demand source.
    """
    from optimizer.rules import preset
    from siting.options import PlanOptions
    from siting.pipeline import locker_parameters, locker_problem, read_district

    options = PlanOptions(radius_m=RADIUS_M)
    params = locker_parameters(options, preset(options.rules))
    district = read_district(osm, options, radius_m=RADIUS_M)
    problem, _ = locker_problem(district, params)
    return problem, params, district.demand_source


def tile(problem: LockerProblem, copies: int) -> LockerProblem:
    """``copies`` disjoint copies of ``problem`` side by side (a synthetic district).

    Parameters
    ----------
    problem
        The problem to copy.
    copies
        Number of copies (at least 1).

    Returns
    -------
    LockerProblem
        Demand and site indices of copy ``k`` shifted by ``k * n_demand`` and ``k * n_sites``;
        no home of one copy reaches a site of another.
    """
    k = np.repeat(np.arange(copies), len(problem.pair_demand))
    return LockerProblem(
        daily_parcels=np.tile(problem.daily_parcels, copies),
        pair_demand=np.tile(problem.pair_demand, copies) + k * problem.n_demand,
        pair_site=np.tile(problem.pair_site, copies) + k * problem.n_sites,
        pair_walk_m=np.tile(problem.pair_walk_m, copies),
        n_sites=problem.n_sites * copies,
        existing=np.tile(problem.existing, copies),
        existing_capacity=np.tile(problem.existing_capacity, copies),
    )


def run_case(name: str, *, time_limit: float, copies: int | None) -> dict[str, Any]:
    """Build and solve one case (in a worker process); return its row.

    Parameters
    ----------
    name
        One of :data:`CASES`.
    time_limit
        Solver seconds per phase.
    copies
        Copies of Chengdu for ``district``; ``None`` for about :data:`DISTRICT_HOMES` homes.

    Returns
    -------
    dict
        ``case``, ``source``, ``copies``, ``homes``, ``sites``, ``pairs``, ``status``,
        ``objective``, ``bound``, ``gap`` (of the deciding phase, named in ``deciding``: the
        cost in CNY, or the parcels a day served for a ``cover`` phase), ``phases`` (each
        phase's status and solver seconds), ``seconds`` (wall clock of the solve),
        ``build_s``, ``time_limit``.
    """
    from optimizer.lockers import solve_lockers

    t0 = time.perf_counter()
    problem, params, source = build_case(EXTRACTS["chengdu" if name == "district" else name])
    if name == "district":
        copies = copies or max(1, round(DISTRICT_HOMES / problem.n_demand))
        problem = tile(problem, copies)
        source = f"synthetic: {copies} × Chengdu"
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    plan = solve_lockers(problem, params, mode="min-cost", time_limit=time_limit, gap=GAP)
    seconds = time.perf_counter() - t0
    deciding = next(
        (p.name for p in plan.phases if (p.objective, p.bound) == (plan.objective, plan.bound)), ""
    )
    return {
        "case": name,
        "source": source,
        "copies": copies if name == "district" else None,
        "homes": problem.n_demand,
        "sites": problem.n_sites,
        "pairs": len(problem.pair_demand),
        "status": plan.status,
        "objective": plan.objective,
        "bound": plan.bound,
        "gap": plan.gap,
        "deciding": deciding,
        "phases": " · ".join(f"{p.name} {p.status} {p.solve_s:.1f} s" for p in plan.phases),
        "seconds": seconds,
        "build_s": build_s,
        "time_limit": time_limit,
    }


def verdict(row: dict[str, Any], *, quick: bool) -> str:
    """Whether the row meets its target: ``yes``, ``no`` or why it is not judged."""
    gap = row["gap"]
    if row["case"] == "district":
        if row["homes"] < 0.9 * DISTRICT_HOMES:
            return f"not judged ({row['homes']:,} homes, target about {DISTRICT_HOMES:,})"
        ok = gap is not None and gap <= DISTRICT_GAP and row["seconds"] <= DISTRICT_SECONDS
        limit = DISTRICT_SECONDS
    else:
        ok = row["status"] == "optimal" and gap is not None and gap <= GAP
        ok = ok and row["seconds"] < EXTRACT_SECONDS
        limit = EXTRACT_SECONDS
    if not ok and quick and row["time_limit"] < limit:
        return f"not judged (quick: {row['time_limit']:g} s limit)"
    return "yes" if ok else "no"


def _num(x: float | None, fmt: str) -> str:
    return "–" if x is None or not math.isfinite(x) else format(x, fmt)


def table(rows: list[dict[str, Any]], *, quick: bool) -> str:
    """The Markdown table of the rows."""
    head = (
        "case",
        "demand from",
        "homes",
        "sites",
        "pairs",
        "status",
        "phase",
        "objective",
        "bound",
        "gap",
        "seconds",
        "solver phases",
        "target",
        "met",
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        target = (
            f"gap ≤ {DISTRICT_GAP:g} in {DISTRICT_SECONDS:g} s"
            if r["case"] == "district"
            else f"gap ≤ {GAP:g} in {EXTRACT_SECONDS:g} s"
        )
        cells = (
            r["case"],
            r["source"],
            f"{r['homes']:,}",
            f"{r['sites']:,}",
            f"{r['pairs']:,}",
            r["status"],
            r["deciding"],
            _num(r["objective"], ",.0f"),
            _num(r["bound"], ",.0f"),
            _num(r["gap"], ".2e"),
            f"{r['seconds']:.1f}",
            r["phases"],
            target,
            verdict(r, quick=quick),
        )
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines.append(
        "\nObjective, bound and gap are the deciding phase's (the widest gap when unproven): "
        "`cost` in CNY (new sites and modules), `cover` in parcels a day served. Seconds: wall "
        "clock of `solve_lockers`; building the problem is not timed. `district` is synthetic "
        "(Chengdu tiled, copies disjoint)."
    )
    return "\n".join(lines)


def _machine() -> str:
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    try:
        import highspy

        highs = getattr(highspy.Highs(), "version", lambda: "?")()
    except Exception:  # noqa: BLE001 - only a label
        highs = "?"
    return (
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, "
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, HiGHS {highs}, "
        f"PYTHONHASHSEED={os.environ.get('PYTHONHASHSEED', 'random')}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the cases, print and write the table; return the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_SECONDS:g} s limits, {QUICK_COPIES} copies",
    )
    ap.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    ap.add_argument(
        "--copies",
        type=int,
        default=None,
        help=f"copies of Chengdu in 'district' (default: about {DISTRICT_HOMES:,} homes)",
    )
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if args.copies is not None and args.copies < 1:
        ap.error("--copies must be at least 1")
    copies = args.copies or (QUICK_COPIES if args.quick else None)
    rows = []
    for name in args.cases:
        limit = (
            QUICK_SECONDS
            if args.quick
            else (DISTRICT_SECONDS if name == "district" else EXTRACT_SECONDS)
        )
        with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
            row = pool.submit(run_case, name, time_limit=limit, copies=copies).result()
        rows.append(row)
        print(
            f"{name}: {row['status']}, gap {_num(row['gap'], '.2e')}, "
            f"{row['seconds']:.1f} s (built in {row['build_s']:.1f} s)",
            file=sys.stderr,
        )
    text = (
        f"Locker model, min-cost, {RADIUS_M:g} m, gap {GAP:g}"
        f"{' (QUICK run)' if args.quick else ''}: {_machine()}\n\n"
        f"{table(rows, quick=args.quick)}\n"
    )
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"prove_lockers{'_quick' if args.quick else ''}.md"
    path.write_text(text, encoding="utf-8")
    print(f"written to {path}", file=sys.stderr)
    missed = [r["case"] for r in rows if verdict(r, quick=args.quick) == "no"]
    return 1 if missed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
