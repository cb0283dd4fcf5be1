"""Print the stage timings of a full district locker plan (default: the Chengdu demo).

Usage: python benchmarks/stages.py [OSM_FILE] [--repeat N]

``first`` is the first run in this process, as one ``siting plan`` command runs it; the later
runs may reuse what the process already holds (imports, and any cache a library keeps).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from siting.pipeline import DEMO_OSM, plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("osm", nargs="?", default=str(DEMO_OSM))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs: list[dict[str, float]] = []
    totals = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            result = plan(args.osm, out=Path(tmp) / "plan")
            totals.append(time.perf_counter() - t0)
        runs.append(result.timings)
    print(
        f"{Path(args.osm).name}: {result.summary['status']}, gap {result.summary['gap']}, "
        f"{result.summary['counts']['lockers']} lockers, "
        f"{result.summary['counts']['modules']} modules"
    )
    print(f"{'stage':<12} {'first s':>8} {'median s':>9} {'max s':>8}")
    for stage in runs[0]:
        values = [r[stage] for r in runs]
        print(f"{stage:<12} {values[0]:8.2f} {statistics.median(values):9.2f} {max(values):8.2f}")
    print(f"{'total':<12} {totals[0]:8.2f} {statistics.median(totals):9.2f} {max(totals):8.2f}")


if __name__ == "__main__":
    main()
