"""Documented defaults for the parameters the postal plans leave open.

The five 14th Five-Year postal plans fix rules (R1-R7 in ``PLAN_RULES.md``) but not how many
people live in a building or how many parcels they receive. Those numbers are scenario
parameters: each default here comes with its source in :data:`SOURCES`, so a report can print
where every number on a map comes from, and a planner can override any of them.

Building heights follow the same idea: when OSM gives neither ``building:levels`` nor
``height``, :data:`DEFAULT_LEVELS` gives a storey count by ``building`` tag, a stated
assumption listed in :data:`SOURCES` as well.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType

from geodata.errors import ParameterError

__all__ = [
    "DEFAULT_LEVELS",
    "DEFAULT_LEVELS_OTHER",
    "DemandParameters",
    "METRES_PER_LEVEL",
    "RESIDENTIAL_BUILDING_TAGS",
    "SOURCES",
]

#: Storey height used to turn an OSM ``height`` (metres) into a number of levels.
METRES_PER_LEVEL = 3.0

#: ``building=*`` values that count as homes wherever they stand.
RESIDENTIAL_BUILDING_TAGS: frozenset[str] = frozenset(
    {
        "apartments",
        "residential",
        "house",
        "detached",
        "dormitory",
        "terrace",
        "semidetached_house",
        "bungalow",
    }
)

#: Levels assumed by ``building`` tag when OSM has neither ``building:levels`` nor ``height``.
DEFAULT_LEVELS: Mapping[str, float] = MappingProxyType(
    {
        "apartments": 6.0,
        "residential": 6.0,
        "dormitory": 6.0,
        "house": 2.0,
        "detached": 2.0,
        "semidetached_house": 2.0,
        "terrace": 2.0,
        "bungalow": 1.0,
        "commercial": 4.0,
        "office": 4.0,
        "retail": 2.0,
        "hotel": 8.0,
        "hospital": 5.0,
        "school": 4.0,
        "kindergarten": 2.0,
        "university": 5.0,
        "public": 4.0,
        "government": 4.0,
        "church": 1.0,
        "temple": 1.0,
        "roof": 1.0,
        "carport": 1.0,
        "garage": 1.0,
        "garages": 1.0,
        "shed": 1.0,
        "kiosk": 1.0,
        "industrial": 2.0,
        "warehouse": 1.0,
        "stadium": 2.0,
    }
)

#: Levels for a ``building`` value not in :data:`DEFAULT_LEVELS`. A ``building=yes`` that stands
#: inside ``landuse=residential`` counts as a home and takes the ``residential`` default instead.
DEFAULT_LEVELS_OTHER = 3.0

#: Where each default comes from, keyed by parameter name.
SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "floor_area_per_resident_m2": (
            "36 m2 of floor area per resident: the low end of China's urban average of about "
            "36-40 m2 per resident (PLAN_RULES.md, 'What the plans do not fix'); used when no "
            "census count is given"
        ),
        "parcels_per_resident_per_year": (
            "106 parcels per resident per year: national target of over 1,500 亿件 "
            "(150 billion items) by 2025 (seed 002 「“十四五”邮政业发展规划」 一(三) 主要目标) "
            "divided by 14.1 亿 (1.41 billion) residents"
        ),
        "locker_share": (
            "1.0 (all parcels): rule R2 sizes compartments on the community's whole average "
            "daily deliveries (seed 004 「广东省邮政业发展“十四五”规划」 五(二) 公共末端工程)"
        ),
        "growth_factor": "1.0: today's volume; raise it for a what-if on future growth",
        "village_residents": (
            "1,500 residents per administrative village, a stated assumption: China has about "
            "490,000 建制村 for some 500 million rural residents (~1,000 each), and villages on "
            "the Henan plain are larger; used when OSM buildings are too sparse to count homes"
        ),
        "hamlet_residents": "300 residents per hamlet (自然村), a stated assumption",
        "residents_per_km2": (
            "10,000 residents per km2 of residential street grid, a stated assumption in the "
            "range of Chinese urban built-up densities; used only when an extract has no "
            "buildings, override with census figures"
        ),
        "grid_cell_m": "100 m street-grid cells: finer than the 300 m walking radius",
        "levels": (
            f"OSM building:levels when tagged; else height / {METRES_PER_LEVEL:g} m per storey; "
            "else an assumed count by building type (apartments, residential and dormitory 6: "
            "the walk-up block typical of older urban compounds; house types 2; bungalow 1; "
            f"commercial and office 4; others {DEFAULT_LEVELS_OTHER:g}), a stated assumption"
        ),
    }
)


@dataclass(frozen=True)
class DemandParameters:
    """How floor area becomes residents and residents become daily parcels.

    Parameters
    ----------
    floor_area_per_resident_m2
        Residential floor area per resident, in m2 (default 36; source in :data:`SOURCES`).
    parcels_per_resident_per_year
        Parcels delivered per resident per year (default 106).
    locker_share
        Share of parcels that go through lockers and stations, in ``(0, 1]`` (default 1.0).
    growth_factor
        Multiplier on today's volume for a future year (default 1.0).
    village_residents, hamlet_residents
        Residents per ``place=village`` / ``place=hamlet`` node, used where buildings are too
        sparse to count homes (defaults 1,500 and 300).
    residents_per_km2
        Residents per km2 of street grid, used where an extract has no buildings at all
        (default 10,000).
    grid_cell_m
        Side of a street-grid demand cell in metres (default 100).

    Raises
    ------
    ParameterError
        If a value is not a finite positive number, or ``locker_share`` is above 1.
    """

    floor_area_per_resident_m2: float = 36.0
    parcels_per_resident_per_year: float = 106.0
    locker_share: float = 1.0
    growth_factor: float = 1.0
    village_residents: float = 1500.0
    hamlet_residents: float = 300.0
    residents_per_km2: float = 10_000.0
    grid_cell_m: float = 100.0

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{f.name}={value!r} is not a number")
            elif not math.isfinite(value) or value <= 0:
                problems.append(f"{f.name}={value!r} must be a finite number above 0")
        if not problems and self.locker_share > 1:
            problems.append(f"locker_share={self.locker_share!r} is above 1 (it is a share)")
        if problems:
            raise ParameterError(
                "invalid demand parameters: "
                + "; ".join(problems)
                + ". Fix: give positive values (defaults: "
                + ", ".join(f"{f.name}={f.default}" for f in fields(self))
                + ")"
            )

    @property
    def daily_parcels_per_resident(self) -> float:
        """Parcels per resident per day through lockers and stations, growth included."""
        return self.parcels_per_resident_per_year * self.locker_share * self.growth_factor / 365.0

    def describe(self) -> dict[str, str]:
        """Each parameter's value with its source, for reports.

        Returns
        -------
        dict of str to str
            ``{name: "value (source)"}``; a value changed from the default says so.
        """
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            note = SOURCES[f.name] if value == f.default else "set by the planner"
            out[f.name] = f"{value:g} ({note})"
        return out
