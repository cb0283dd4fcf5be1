"""Where a city run's worker memory goes: the same districts in one process and on a cluster.

Usage::

    python benchmarks/city_memory.py [--tiles 16] [--districts 30] [--time-limit 10]

Writes the tiled **synthetic** city of :mod:`benchmarks.bench_city` and plans it twice:

1. in this process, its first ``--districts`` districts in turn, each result dropped: after
   each, the resident memory (MB), the peak so far and the number of Python objects the
   garbage collector tracks (constant when the pipeline keeps nothing from a district);
2. the whole city with :func:`siting.city.plan_city` on a ``LocalCluster`` of two
   single-threaded workers: every 10 s each worker's resident memory and peak (MB), and when
   the city bound's split problems start.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_city import _SCENARIO, _peak_rss_mb  # noqa: E402
from benchmarks.city_tiles import EXTRACTS, clip_extract, write_city  # noqa: E402

__all__ = ["in_process", "main", "on_cluster"]


def _rss_mb() -> tuple[int, int]:
    """This process's resident memory and its peak so far, in MB."""
    return psutil.Process().memory_info().rss >> 20, round(_peak_rss_mb())


def in_process(path: Path, districts: int, limit: float) -> None:
    """Plan the first ``districts`` districts in turn here; print memory after each."""
    from geodata.osm import read_osm
    from siting.city import district_areas, district_plan, split_districts
    from siting.options import PlanOptions
    from siting.scenario import load_scenarios, plan_options

    scenario = load_scenarios(path)[0].scenario
    extract = read_osm(scenario.area.osm)
    found, city = split_districts(scenario, extract=extract)
    base = plan_options(scenario)
    options = PlanOptions(base.settings, time_limit=limit, communities=base.communities,
                          inventory=base.inventory, hub_sites=base.hub_sites)
    areas = district_areas(found, city, buffer_m=float(options.radius_m))
    print(f"in one process: {len(areas)} districts, start {_rss_mb()[0]} MB", flush=True)
    for k, (area, owned) in enumerate(areas[:districts]):
        district_plan(scenario.area.osm, options, area, owned, extract.within(area.polygon))
        gc.collect()
        rss, peak = _rss_mb()
        print(f"  district {k + 1:3d}: {rss} MB, peak {peak} MB, "
              f"{len(gc.get_objects()):,} objects", flush=True)


def on_cluster(path: Path, limit: float) -> None:
    """Plan the whole city on two workers; print their memory every 10 s."""
    from distributed import Client, LocalCluster

    import siting.city
    from siting.scenario import load_scenarios

    scenario = load_scenarios(path)[0].scenario
    scenario = scenario.model_copy(
        update={"solver": scenario.solver.model_copy(update={"time_limit": limit})})
    t0 = time.perf_counter()
    bound = siting.city.city_bound

    def timed_bound(*args: Any, **kwargs: Any) -> Any:
        print(f"  {time.perf_counter() - t0:6.1f} s: split problems start", flush=True)
        return bound(*args, **kwargs)

    siting.city.city_bound = timed_bound
    done = threading.Event()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, memory_limit=0) as cluster, Client(cluster) as client:

        def sample() -> None:
            while not done.wait(10.0):
                workers = sorted(client.run(_rss_mb).values())
                print(f"  {time.perf_counter() - t0:6.1f} s: workers (MB, peak MB) {workers}",
                      flush=True)

        print("on a 2-worker cluster:", flush=True)
        threading.Thread(target=sample, daemon=True).start()
        try:
            siting.city.plan_city(scenario, out=None, client=client)
        finally:
            done.set()
            siting.city.city_bound = bound
        print(f"  {time.perf_counter() - t0:6.1f} s: done, workers (MB, peak MB) "
              f"{sorted(client.run(_rss_mb).values())}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run both measurements on one tiled city (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiles", type=int, default=16)
    ap.add_argument("--districts", type=int, default=30)
    ap.add_argument("--time-limit", type=float, default=10.0)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        osm = write_city(clip_extract(EXTRACTS["chengdu"]), folder / "city.osm.pbf",
                         tiles=args.tiles)
        path = folder / "city.toml"
        path.write_text(_SCENARIO.format(tiles=args.tiles, tiers='["lockers", "stations"]',
                                         osm=osm.name, radius=300.0, limit=args.time_limit),
                        encoding="utf-8")
        in_process(path, args.districts, args.time_limit)
        on_cluster(path, args.time_limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
