"""Print the figures the walking model changes, for each extract: pairs, coverage, cost.

Usage: python benchmarks/walk_change.py [OSM_FILE ...] [--time-limit S]

Without files: the Chengdu demo and every extract in ``../shared/data/osm``. Each file is
planned (lockers only, 300 m walk) and one line is printed with the home–site pairs within the
radius, the homes no site is within reach of (off street: beyond the access cap), the homes and
parcel share covered, the status, the cost and gap, and the distances stage time.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from siting.pipeline import DEMO_OSM, plan

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("osm", nargs="*")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    files = args.osm or [str(DEMO_OSM), *sorted(str(p) for p in SHARED.glob("*.osm"))]
    print(
        "file | homes | pairs | out of reach (off street) | covered | parcel share | status | "
        "cost | gap | distances s"
    )
    for osm in files:
        result = plan(osm, out=None, time_limit=args.time_limit)
        s = result.summary
        cov = s["coverage"]
        reasons = result.locker_plan.reasons
        alone = sum(r.startswith("no candidate site within") or "access cap" in r for r in reasons)
        off = sum("access cap" in r for r in reasons)
        print(
            f"{Path(osm).name} | {cov['demand_points']} | {s['counts']['pairs_within_radius']} | "
            f"{alone} ({off}) | "
            f"{cov['covered']} | {cov['parcel_share_covered']:.4f} | {s['status']} | "
            f"{s['objective']:,.0f} | {s['gap']} | {s['timings_s']['distances']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
