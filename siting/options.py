"""The options of one district plan, as one value: what ``siting.plan``'s keywords hold.

:class:`PlanOptions` is plain data (picklable, so a city sends it to each district's Dask task).
Its defaults are those of :func:`siting.pipeline.plan`; the walk radius is declared once, in
:data:`optimizer.rules.WALK_RADIUS_M`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd

from geodata.defaults import DemandParameters
from optimizer.hubs import HubParameters
from optimizer.lockers import LockerParameters
from optimizer.rules import WALK_RADIUS_M

__all__ = ["PlanOptions"]


@dataclass(frozen=True)
class PlanOptions:
    """Every option of a district plan but its OSM file, output folder and callbacks.

    Attributes
    ----------
    boundary, boundary_crs, radius_m, mode, budget, budget_kind, time_limit, work_limit,
    solver, rules, lang, offline_map, demand_params, locker_params, rule_overrides, communities,
    inventory, tiers, county_centre, hub_sites, hub_params, basemap, tianditu_key, district,
    demand_mode
        As the keywords of :func:`siting.pipeline.plan`.
    """

    boundary: str | Path | None = None
    boundary_crs: Literal["auto", "wgs84", "gcj02"] = "auto"
    radius_m: float = WALK_RADIUS_M
    mode: Literal["min-cost", "max-cover"] = "min-cost"
    budget: int | None = None
    budget_kind: Literal["modules", "sites"] = "modules"
    time_limit: float = 60.0
    work_limit: int | None = None
    solver: Literal["highs", "cbc"] = "highs"
    rules: str = "national"
    lang: Literal["zh", "en"] = "zh"
    offline_map: bool = True
    demand_params: DemandParameters | None = None
    locker_params: LockerParameters | None = None
    rule_overrides: Mapping[str, Any] | None = None
    communities: gpd.GeoDataFrame | None = None
    inventory: gpd.GeoDataFrame | None = None
    tiers: Sequence[str] = ("lockers",)
    county_centre: tuple[float, float] | None = None
    hub_sites: gpd.GeoDataFrame | None = None
    hub_params: HubParameters | None = None
    basemap: str = "osm"
    tianditu_key: str | None = None
    district: str | None = None
    demand_mode: Literal["buildings", "communities"] = "buildings"

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> PlanOptions:
        """Return the options named in ``values``, ignoring other keys.

        Parameters
        ----------
        values
            Keyword arguments of :func:`siting.pipeline.plan` (or a superset).

        Returns
        -------
        PlanOptions
            The options, defaults where a name is missing.
        """
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})
