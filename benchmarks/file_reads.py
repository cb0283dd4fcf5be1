"""Count how often one district plan parses its OSM file, by parser.

Usage: python benchmarks/file_reads.py [OSM_FILE] [--tiers lockers,stations,hubs]

The parsers are counted where the libraries are entered: expat parsers created outside osmnx
(one per pass over an XML file), osmnx reads of an XML file (each parses it twice: once with
ElementTree for the root's attributes, once with SAX), and pyosmium handler passes. Nothing of
the plan is changed; the plan writes no files.
"""

from __future__ import annotations

import argparse
import functools
from collections import Counter
from collections.abc import Callable
from typing import Any
from xml.parsers import expat

import osmium
import osmnx._osm_xml as ox_xml

from siting.pipeline import DEMO_OSM, plan

COUNTS: Counter[str] = Counter()
_IN_OSMNX: list[bool] = []


def _counted(name: str, func: Callable[..., Any], *, osmnx: bool = False) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _IN_OSMNX:
            COUNTS[name] += 1
        if osmnx:
            _IN_OSMNX.append(True)
        try:
            return func(*args, **kwargs)
        finally:
            if osmnx:
                _IN_OSMNX.pop()

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("osm", nargs="?", default=str(DEMO_OSM))
    parser.add_argument("--tiers", default="lockers")
    args = parser.parse_args()
    expat.ParserCreate = _counted("expat pass", expat.ParserCreate)
    ox_xml._overpass_json_from_xml = _counted(
        "osmnx XML read (ElementTree + SAX)", ox_xml._overpass_json_from_xml, osmnx=True)
    osmium.SimpleHandler.apply_file = _counted(  # type: ignore[method-assign]
        "pyosmium pass", osmium.SimpleHandler.apply_file)
    result = plan(args.osm, tiers=tuple(args.tiers.split(",")), work_limit=10)
    print(f"{args.osm}: tiers {args.tiers}, {result.summary['counts']['lockers']} lockers")
    for name, n in sorted(COUNTS.items()):
        print(f"  {name:<36} {n:3d}")
    print(f"  {'total passes over the file':<36} {sum(COUNTS.values()):3d}")


if __name__ == "__main__":
    main()
