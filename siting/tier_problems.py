"""The model inputs of the tiers above the lockers, from a district's layers and networks.

Orchestration only: :mod:`geodata.tier_inputs`, :mod:`geodata.rural_reach` and
:mod:`geodata.candidates` turn the layers into arrays and network reach;
:mod:`optimizer.stations` decides which sites R1 admits, and :mod:`optimizer.stations`,
:mod:`optimizer.rural` and :mod:`optimizer.hubs` take the arrays.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from numpy.typing import ArrayLike

from geodata.candidates import station_area_basis, station_floor_areas
from geodata.network import Network
from geodata.rural_reach import rural_inputs
from geodata.tier_inputs import (
    community_new_flags,
    hub_reach,
    points_xy,
    reach_among,
    station_points,
)
from optimizer.hubs import HubParameters, HubProblem, hub_problem
from optimizer.rules import RuleSet
from optimizer.rural import RuralParameters, RuralPlan, plan_rural
from optimizer.stations import (
    CargoProblem,
    StationParameters,
    StationProblem,
    StationSites,
    station_sites,
)

__all__ = ["cargo_problem", "drive_hub_problem", "rural_plan", "station_problem",
           "station_site_table"]


def station_site_table(candidates: gpd.GeoDataFrame, params: StationParameters | None = None
                       ) -> StationSites:
    """Return the candidate sites as the station models take them.

    Parameters
    ----------
    candidates
        Candidate sites (``site_id``, ``kind``, floor area columns).
    params
        :class:`optimizer.stations.StationParameters` (the ground-floor unit).

    Returns
    -------
    optimizer.stations.StationSites
        Ids, kinds and usable floor areas with their source, its basis and parameter.
    """
    p = params or StationParameters()
    area, source = station_floor_areas(candidates, unit_m2=p.ground_floor_unit_m2)
    basis, parameter = station_area_basis(candidates, unit_m2=p.ground_floor_unit_m2)
    return StationSites(site_id=candidates["site_id"].to_numpy(),
                        kind=candidates["kind"].to_numpy(), area_m2=area, area_source=source,
                        area_basis=basis, area_parameter=parameter)


def station_problem(
    demand: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    walk: Network,
    rules: RuleSet,
    *,
    params: StationParameters | None = None,
) -> StationProblem:
    """Return the community end-station instance (R1) of a district.

    Parameters
    ----------
    demand
        Demand points (``community``, ``daily_parcels``).
    communities
        The residential communities (``community``, ``name``, polygon; an optional bool
        ``new`` column from a planner's table).
    candidates
        Candidate sites, same CRS.
    walk
        The walk network.
    rules
        The preset (R1's floor area).
    params
        :class:`optimizer.stations.StationParameters` (radius, ground-floor unit).

    Returns
    -------
    optimizer.stations.StationProblem
        Points of the new communities, their walks to the sites R1 admits, and the sites.
    """
    p = params or StationParameters()
    new, marked = community_new_flags(communities)
    points = station_points(demand, communities[new])
    sites = station_site_table(candidates, p)
    reach = reach_among(walk, points.xy, points_xy(candidates), radius_m=p.radius_m,
                        among=station_sites(sites.area_m2, rules))
    return StationProblem(
        community=communities["community"].to_numpy().astype(object),
        community_name=communities["name"].to_numpy().astype(object), new=new,
        new_marked=marked, point_community=points.community,
        daily_parcels=points.daily_parcels, n_homes=points.n_homes, pair_point=reach.rows,
        pair_site=reach.cols, pair_walk_m=reach.dist_m, sites=sites)


def cargo_problem(
    centres: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    walk: Network,
    rules: RuleSet,
    *,
    params: StationParameters | None = None,
    exclude: tuple[str, ...] = (),
) -> CargoProblem:
    """Return the cargo-station instance (R7) of a district.

    Parameters
    ----------
    centres
        Neighbourhood centres (``centre_id``, ``name``, point).
    candidates
        Candidate sites, same CRS.
    walk
        The walk network.
    rules
        The preset (R1's floor area is the smallest room accepted).
    params
        :class:`optimizer.stations.StationParameters` (``cargo_radius_m``).
    exclude
        ``site_id`` s already used (for instance by community end-stations).

    Returns
    -------
    optimizer.stations.CargoProblem
        Centres, their walks to the free sites R1 admits, and the sites.
    """
    p = params or StationParameters()
    sites = station_site_table(candidates, p)
    taken = candidates["site_id"].isin(exclude).to_numpy()
    reach = reach_among(walk, points_xy(centres), points_xy(candidates),
                        radius_m=p.cargo_radius_m,
                        among=station_sites(sites.area_m2, rules, taken=taken))
    return CargoProblem(
        centre_id=centres["centre_id"].to_numpy().astype(object),
        centre_name=centres["name"].to_numpy().astype(object), pair_centre=reach.rows,
        pair_site=reach.cols, pair_walk_m=reach.dist_m, sites=sites)


def drive_hub_problem(
    station_xy: ArrayLike,
    daily_parcels: ArrayLike,
    hub_xy: ArrayLike,
    network: Network,
    *,
    params: HubParameters | None = None,
    **hubs: Any,
) -> HubProblem:
    """Return the hub instance (R5, R6) on the drive network.

    Parameters
    ----------
    station_xy, daily_parcels
        The points sending parcels to hubs (metres, ``network.crs``) and their daily parcels.
    hub_xy
        Candidate hub points; a point outside the network (an external county seat) reaches
        it at its nearest node.
    network
        The drive network.
    params
        :class:`optimizer.hubs.HubParameters` (``max_drive_km``, capacity, fixed cost).
    **hubs
        ``forced``, ``capacity``, ``fixed_cost``, ``station_names``, ``hub_names``: passed to
        :func:`optimizer.hubs.hub_problem`.

    Returns
    -------
    optimizer.hubs.HubProblem
        Pairs within ``max_drive_km``.

    Raises
    ------
    InfeasiblePlanError
        Naming R5, when every hub candidate lies beyond ``max_drive_km`` of the network.
    """
    p = params or HubParameters()
    reach = hub_reach(network, hub_xy, station_xy, max_drive_km=p.max_drive_km,
                      hub_names=hubs.get("hub_names", ()))
    return hub_problem(reach.rows, reach.cols, reach.dist_m, daily_parcels,
                       n_hubs=reach.shape[0], params=p, **hubs)


def rural_plan(
    villages: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    network: Network,
    rules: RuleSet,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    params: RuralParameters | None = None,
) -> RuralPlan:
    """Place village stations (R3) and township stations (R4) on the drive network.

    Parameters
    ----------
    villages, townships, network, candidates
        As for :func:`geodata.rural_reach.rural_inputs` (the places, the drive network and the
        candidate sites or ``None``).
    rules
        The preset applied (R3 range, R4).
    params
        :class:`optimizer.rural.RuralParameters` (the documented defaults when ``None``).

    Returns
    -------
    optimizer.rural.RuralPlan
        The stations (points as ``x``, ``y``) and the compliance records.

    Raises
    ------
    InfeasiblePlanError
        If there is no administrative village (R3) or a township cannot be placed (R4).
    """
    p = params or RuralParameters()
    inputs = rural_inputs(villages, townships, network, candidates=candidates,
                          village_radius_m=p.village_radius_m, seat_radius_m=p.seat_radius_m)
    return plan_rural(inputs, rules, params=p)
