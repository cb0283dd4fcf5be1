"""Size guard: refuse a study area too large for this machine before any heavy work starts.

:func:`check_area_size` is called right after the study area is made. It estimates, from
counts that are already known (the OSM file's nodes and ways, the area in km², the walking
radius), how much memory the plan would need, and raises
:class:`~geodata.errors.AreaTooLargeError` with the estimate and a hint when that is more than
a share of the machine's physical memory.

The estimate is ``bytes = BASE_BYTES + BYTES_PER_NODE × nodes + BYTES_PER_PAIR × pairs``
(:func:`bytes_needed`), where ``nodes`` are the OSM file's nodes (every one is read, whatever the
boundary) and ``pairs`` the home–site pairs within the radius estimated as
``demand points × candidate density × π r² × DETOUR``, demand points and candidates taken as a
share of the ways inside the area. Its coefficients are fitted on the peak resident memory of
one plan per size, from a few hundred to about 48,000 homes, measured by
``python benchmarks/size_guard.py`` (the table: ``benchmarks/results/size_guard.json`` and the
command's entry in ``benchmarks/RESULTS.md``); on every size of that table the estimate is
within :data:`ERROR_FACTOR` of the measured peak (``tests/test_guards.py`` checks it).
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass

from geodata.area import StudyArea
from geodata.errors import AreaTooLargeError, ParameterError
from geodata.osm import OsmExtract

__all__ = [
    "BASE_BYTES",
    "BYTES_PER_NODE",
    "BYTES_PER_PAIR",
    "ERROR_FACTOR",
    "MAX_SHARE",
    "SizeEstimate",
    "bytes_needed",
    "check_area_size",
    "estimate_size",
    "physical_memory",
]

log = logging.getLogger(__name__)

# Fitted by ``python benchmarks/size_guard.py`` (non-negative least squares on the relative
# error of the peak resident memory of one plan per size; see its entry in benchmarks/RESULTS.md).
#: Interpreter and libraries loaded, the smallest plan's working set.
BASE_BYTES = 358_000_000
#: Per OSM node of the file: the extract in memory, networks and feature frames.
BYTES_PER_NODE = 3_910
#: Per estimated home–site pair within the radius: distances, model columns and rows.
BYTES_PER_PAIR = 617
#: Largest factor between the estimate and the measured peak on the benchmark's table.
ERROR_FACTOR = 1.5
#: Largest share of the machine's memory a plan may take.
MAX_SHARE = 0.75
#: Share of the ways inside the area taken as demand points, and as candidate sites.
WAY_SHARE = 0.3
#: Walking paths are longer than straight lines: the walk disc is about this share of the
#: straight-line disc (a 1.3 detour factor, squared).
DETOUR = 0.6


@dataclass(frozen=True)
class SizeEstimate:
    """What a plan of one area is expected to need.

    Attributes
    ----------
    area_km2
        The study area.
    n_nodes, n_ways
        Elements of the OSM file (all are read, whatever the boundary).
    area_share
        Share of the file's box covered by the study area.
    demand_points, candidates
        Estimated demand points and candidate sites inside the area.
    pairs
        Estimated home–site pairs within the walking radius.
    bytes_needed
        Estimated peak memory of the run.
    memory_bytes
        Memory the estimate is compared with.
    max_share
        Largest share of ``memory_bytes`` a run may take.
    """

    area_km2: float
    n_nodes: int
    n_ways: int
    area_share: float
    demand_points: int
    candidates: int
    pairs: int
    bytes_needed: int
    memory_bytes: int
    max_share: float

    @property
    def fits(self) -> bool:
        """Whether the estimate is within ``max_share`` of ``memory_bytes``."""
        return self.bytes_needed <= self.max_share * self.memory_bytes

    def describe(self) -> str:
        """One line: area, counts, pairs and memory needed against memory available."""
        return (
            f"{self.area_km2:,.1f} km², {self.n_nodes:,} OSM nodes and {self.n_ways:,} ways, "
            f"about {self.demand_points:,} demand points × {self.candidates:,} candidate sites "
            f"→ {self.pairs:,} home–site pairs: about {_gib(self.bytes_needed)} of memory "
            f"needed (measured within {ERROR_FACTOR:.1f}x), "
            f"{_gib(self.max_share * self.memory_bytes)} usable "
            f"({self.max_share:.0%} of {_gib(self.memory_bytes)})"
        )


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def physical_memory() -> int:
    """Return the physical memory of this machine in bytes.

    Returns
    -------
    int
        ``SC_PHYS_PAGES × SC_PAGE_SIZE``; 4 GiB when the platform cannot say.
    """
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return 4 * 2**30
    if pages <= 0 or size <= 0:
        return 4 * 2**30
    return int(pages) * int(size)


def bytes_needed(n_nodes: int, pairs: float) -> float:
    """Return the estimated peak memory of a plan (the fitted model of the module docstring).

    Parameters
    ----------
    n_nodes
        Nodes of the OSM file.
    pairs
        Estimated home–site pairs within the radius.

    Returns
    -------
    float
        Bytes.
    """
    return BASE_BYTES + BYTES_PER_NODE * n_nodes + BYTES_PER_PAIR * pairs


def estimate_size(
    extract: OsmExtract,
    area: StudyArea,
    *,
    radius_m: float,
    memory_bytes: int | None = None,
    max_share: float = MAX_SHARE,
) -> SizeEstimate:
    """Estimate the memory a plan of ``area`` needs, from cheap counts only.

    Parameters
    ----------
    extract
        The OSM file (its node and way counts, read while validating it).
    area
        The study area (its km² and its share of the file's box).
    radius_m
        Longest walk from home to a site (m).
    memory_bytes
        Memory to compare with; the machine's physical memory when ``None``.
    max_share
        Largest share of ``memory_bytes`` a run may take, in ``(0, 1]``.

    Returns
    -------
    SizeEstimate
        The estimate; ``fits`` says whether it is within bounds.

    Raises
    ------
    ParameterError
        If ``radius_m``, ``memory_bytes`` or ``max_share`` is out of range.
    """
    if not (math.isfinite(radius_m) and radius_m > 0):
        raise ParameterError(f"radius_m={radius_m!r} must be a positive number of metres")
    if memory_bytes is not None and memory_bytes <= 0:
        raise ParameterError(f"memory_bytes={memory_bytes!r} must be a positive number of bytes")
    if not 0 < max_share <= 1:
        raise ParameterError(f"max_share={max_share!r} must be in (0, 1]")
    area_km2 = max(area.area_km2, 1e-6)
    box = extract.bounds.area
    share = min(1.0, area.polygon.area / box) if box > 0 else 1.0
    ways = extract.n_ways * share
    demand = WAY_SHARE * ways
    sites = WAY_SHARE * ways
    disc_km2 = math.pi * (radius_m / 1000.0) ** 2 * DETOUR
    per_point = min(sites, sites / area_km2 * disc_km2)
    pairs = demand * per_point
    needed = bytes_needed(extract.n_nodes, pairs)
    return SizeEstimate(
        area_km2=area_km2,
        n_nodes=extract.n_nodes,
        n_ways=extract.n_ways,
        area_share=share,
        demand_points=int(round(demand)),
        candidates=int(round(sites)),
        pairs=int(round(pairs)),
        bytes_needed=int(needed),
        memory_bytes=int(memory_bytes if memory_bytes is not None else physical_memory()),
        max_share=max_share,
    )


def check_area_size(
    extract: OsmExtract,
    area: StudyArea,
    *,
    radius_m: float,
    memory_bytes: int | None = None,
    max_share: float = MAX_SHARE,
) -> SizeEstimate:
    """Refuse an area too large for this machine, early, with the estimate and a hint.

    Call it right after :func:`geodata.area.study_area`, before the network is built.

    Parameters
    ----------
    extract, area, radius_m, memory_bytes, max_share
        As in :func:`estimate_size`.

    Returns
    -------
    SizeEstimate
        The estimate, when it fits.

    Raises
    ------
    AreaTooLargeError
        When the estimated memory exceeds ``max_share × memory_bytes``; the message gives the
        estimate and the fix (a boundary, a coarser demand level, or city mode).
    ParameterError
        If ``radius_m``, ``memory_bytes`` or ``max_share`` is out of range.
    """
    t0 = time.perf_counter()
    est = estimate_size(extract, area, radius_m=radius_m, memory_bytes=memory_bytes,
                        max_share=max_share)
    log.info("check_area_size: %s; %s in %.3f s", est.describe(),
             "fits" if est.fits else "too large", time.perf_counter() - t0)
    if not est.fits:
        raise AreaTooLargeError(
            f"{extract.path}: the study area is too large for this machine: {est.describe()}. "
            "Fix: cut the area with --boundary (one district or 街道 at a time), plan on a "
            "coarser demand level (a community table instead of single buildings), or use "
            "city mode (siting batch with [area.districts]) to split it into districts "
            "planned one by one"
        )
    return est
