"""The community-station model (R1) at short time limits, from its greedy start.

Usage::

    python benchmarks/station_start.py [--osm FILE] [--limits 0.0001 1 10 0]

Builds the R1 instance of an OSM extract (default: the vendored Chengdu extract) and plans it
with :func:`optimizer.stations.plan_community_stations` at each limit (``0``: none). Printed per
limit: status, objective, bound, gap, solver seconds, stations and communities passing R1, and
the load average at the start. At a limit too short for the solver to find a plan of its own,
the result is the greedy start of :mod:`optimizer.models.facility_start`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata.area import study_area  # noqa: E402
from geodata.buildings import buildings_from_osm  # noqa: E402
from geodata.candidates import candidates_from_osm  # noqa: E402
from geodata.communities import communities_from_osm  # noqa: E402
from geodata.demand import demand_from_buildings  # noqa: E402
from geodata.network import walk_network  # noqa: E402
from geodata.osm import read_osm  # noqa: E402
from optimizer.rules import preset  # noqa: E402
from optimizer.stations import plan_community_stations  # noqa: E402
from siting.tier_problems import station_problem  # noqa: E402

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    """Print the R1 model's result at each time limit of the command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--osm", type=Path,
                    default=ROOT / "examples" / "data" / "chengdu_tianfu_square.osm.xz")
    ap.add_argument("--limits", type=float, nargs="+", default=[1e-4, 1.0, 10.0, 0.0])
    args = ap.parse_args(argv)
    ex = read_osm(args.osm)
    area = study_area(ex)
    buildings = buildings_from_osm(ex, area)
    comms = communities_from_osm(ex, area)
    rules = preset("guangdong")
    problem = station_problem(demand_from_buildings(buildings, comms), comms,
                              candidates_from_osm(ex, area, buildings), walk_network(ex, area),
                              rules)
    print(f"{args.osm.name}: {len(problem.daily_parcels)} points, "
          f"{len(problem.pair_point)} pairs, {len(problem.sites.area_m2)} sites")
    for limit in args.limits:
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        plan = plan_community_stations(problem, rules, time_limit=limit or None)
        s = plan.solve
        gap = "-" if s.gap is None else f"{s.gap:.2%}"
        bound = "-" if s.bound is None else f"{s.bound:,.0f}"
        said = f"{limit:g} s" if limit else "none"
        print(f"limit {said} (load {load:.1f}): {s.status}, objective "
              f"{s.objective:,.0f}, bound {bound}, gap {gap}, solver {s.solve_s:.2f} s, wall "
              f"{time.perf_counter() - t0:.2f} s, {len(plan.stations)} stations, "
              f"{int(plan.communities['passed'].sum())} of {len(plan.communities)} communities")


if __name__ == "__main__":
    main()
