"""What the hub tier takes from the tiers below, and the checks of the chain it closes.

What feeds the hubs
-------------------
Every home's parcels reach a hub once, from the first point above the home that carries them:

1. the rural tier: the lowest one planned above the villages (township stations, each
   carrying its villages' parcels: county hub -> township station -> village point, G5; else
   the village stations). Their parcels come from the villages' population, so the homes of
   the village communities (``source == "village-voronoi"``) are not sent again;
2. the community end-stations, with their loads (the parcels of the homes they serve; lockers
   inside a community are stocked from its station, so they send nothing of their own);
3. per residential community (or village community when no rural tier is planned), the
   parcels no end-station carries, sent from the mean point of its homes;
4. the homes in no mapped community (``unassigned``): they have no station, so their parcels
   go to the locker that serves each home (its ``locker_id``), one feeder per locker at the
   locker's site; the homes no locker serves are sent from their mean point.

The feeders' parcels therefore sum to the demand's daily parcels when no rural tier is planned
(and to the rural tier's plus the other homes' when one is).

Hub candidates
--------------
The sites of :func:`geodata.hub_sites.hub_sites_from_osm` (with a planner's table), and a
county centre the planner gives (R5: one county warehouse-and-distribution centre, "taken as
a given external point"), forced open; the other sites are kept only when the feeders send
more than one hub's capacity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.demand import UNASSIGNED
from geodata.hub_sites import FALLBACK_SOURCE
from geodata.villages import VILLAGE_SOURCE

from .hubs import HubParameters
from .rules import RuleSet
from .rural import three_tier_record

__all__ = ["GIVEN_CENTRE", "HubFeeders", "chain_record", "county_centre_flags", "hub_candidates",
           "hub_feeders", "hub_sites_note"]

#: ``source`` (and ``site_id``) of the county centre the planner gives.
GIVEN_CENTRE = "county-centre-given"


@dataclass(frozen=True)
class HubFeeders:
    """The points sending parcels to hubs.

    Attributes
    ----------
    xy
        Coordinates, one row per feeder (projected).
    parcels
        Daily parcels of each.
    ids, names
        Their ids and names (station ids, ``homes-<community>``, ``locker-<site_id>`` or
        ``homes-none``).
    fed_by
        The tiers they are, joined by ``+`` (``township_stations+stations``).
    """

    xy: np.ndarray
    parcels: np.ndarray
    ids: list[str]
    names: list[str]
    fed_by: str


def _village_communities(communities: gpd.GeoDataFrame) -> set:
    if "source" not in communities.columns:
        return set()
    return set(communities.loc[(communities["source"] == VILLAGE_SOURCE).to_numpy(), "community"])


def _layer_rows(frame: pd.DataFrame | None) -> pd.DataFrame:
    """Return a tier layer's feeder rows (``x``, ``y``, ``parcels``, ``id``, ``name``)."""
    if frame is None or not len(frame):
        return pd.DataFrame(columns=["x", "y", "parcels", "id", "name"])
    return pd.DataFrame({"x": frame.geometry.x.to_numpy(), "y": frame.geometry.y.to_numpy(),
                         "parcels": frame["daily_parcels"].to_numpy(float),
                         "id": list(frame["id"]), "name": list(frame["name"])})


def _community_rows(homes: gpd.GeoDataFrame, carried: pd.Series) -> pd.DataFrame:
    """Per community, the parcels its end-stations do not carry, at the mean of its homes."""
    rows = []
    for k, grp in homes.groupby("community", sort=True):
        rest = float(grp["daily_parcels"].sum()) - float(carried.get(k, 0.0))
        if rest > 1e-6:
            cname = grp["community_name"].iloc[0] if "community_name" in grp else k
            rows.append((grp.geometry.x.mean(), grp.geometry.y.mean(), rest, f"homes-{k}",
                         f"homes of {cname or k}"))
    return pd.DataFrame(rows, columns=["x", "y", "parcels", "id", "name"])


def _unassigned_rows(homes: gpd.GeoDataFrame, lockers: gpd.GeoDataFrame | None
                     ) -> pd.DataFrame:
    """Homes in no community: per serving locker at its site, the rest at their mean point."""
    at = (homes["locker_id"] if "locker_id" in homes.columns and lockers is not None
          else pd.Series(None, index=homes.index, dtype=object))
    rows = []
    if lockers is not None and len(lockers):
        site = lockers.set_index("site_id")
        for lid, grp in homes[at.notna().to_numpy()].groupby(at[at.notna()], sort=True):
            pt = site.geometry.loc[lid]
            rows.append((pt.x, pt.y, float(grp["daily_parcels"].sum()), f"locker-{lid}",
                         f"homes of no community at locker {lid}"))
    rest = homes[at.isna().to_numpy()]
    if float(rest["daily_parcels"].sum()) > 1e-6:
        rows.append((rest.geometry.x.mean(), rest.geometry.y.mean(),
                     float(rest["daily_parcels"].sum()), "homes-none",
                     "homes of no community served by no locker"))
    return pd.DataFrame(rows, columns=["x", "y", "parcels", "id", "name"])


def hub_feeders(layers: Mapping[str, gpd.GeoDataFrame], demand: gpd.GeoDataFrame,
                communities: gpd.GeoDataFrame, lockers: gpd.GeoDataFrame | None = None
                ) -> HubFeeders:
    """Return the points that send parcels to hubs (see the module docstring).

    Parameters
    ----------
    layers
        The tiers' layers planned so far (``township_stations``, ``village_stations``,
        ``stations``).
    demand, communities
        The plan's homes (with the ``locker_id`` of the locker serving each, when the locker
        tier is planned) and communities.
    lockers
        The locker tier's ``lockers`` layer (``site_id``, points), or ``None``.

    Returns
    -------
    HubFeeders
        Points, parcels, ids, names and the tiers they are (``township_stations``,
        ``stations``, ``lockers``, ``homes``, joined by ``+``).
    """
    parts: list[tuple[str, pd.DataFrame]] = []
    for layer in ("township_stations", "village_stations"):
        if layers.get(layer) is not None and len(layers[layer]):
            parts.append((layer, _layer_rows(layers[layer])))
            break
    rural = bool(parts)
    st = layers.get("stations")
    parts.append(("stations", _layer_rows(st)))
    carried = (st.groupby("community")["daily_parcels"].sum() if st is not None and len(st)
               else pd.Series(dtype=float))
    homes = demand[~demand["community"].isin(_village_communities(communities)).to_numpy()
                   ] if rural else demand
    none = (homes["community"].fillna(UNASSIGNED) == UNASSIGNED).to_numpy()
    parts.append(("homes", _community_rows(homes[~none], carried)))
    loose = _unassigned_rows(homes[none], lockers)
    parts.append(("lockers", loose[loose["id"].str.startswith("locker-")]))
    parts.append(("homes", loose[~loose["id"].str.startswith("locker-")]))
    rows = pd.concat([f for _, f in parts if len(f)] or [_layer_rows(None)], ignore_index=True)
    tiers = list(dict.fromkeys(t for t, f in parts if len(f)))
    return HubFeeders(rows[["x", "y"]].to_numpy(float).reshape(-1, 2),
                      rows["parcels"].to_numpy(float), [str(v) for v in rows["id"]],
                      [str(v) for v in rows["name"]], "+".join(tiers))


def hub_candidates(sites: gpd.GeoDataFrame, centre_xy: np.ndarray | None, *,
                   daily_parcels: float, params: HubParameters) -> gpd.GeoDataFrame:
    """Return the hub candidates: the sites, or a given county centre first (R5).

    Parameters
    ----------
    sites
        From :func:`geodata.hub_sites.hub_sites_from_osm` (``site_id``, ``name``, ``source``,
        points).
    centre_xy
        The given county centre (projected), or ``None``.
    daily_parcels
        Inbound parcels of all feeders.
    params
        Hub parameters (capacity, outbound ratio).

    Returns
    -------
    geopandas.GeoDataFrame
        The candidates; the given centre (``source`` :data:`GIVEN_CENTRE`) is the first row
        and the other sites follow only when it cannot sort everything.
    """
    if centre_xy is None:
        return sites
    given = gpd.GeoDataFrame({"site_id": [GIVEN_CENTRE], "name": ["县级分拨中心（规划给定）"],
                              "source": [GIVEN_CENTRE]},
                             geometry=gpd.points_from_xy([centre_xy[0]], [centre_xy[1]]),
                             crs=sites.crs)
    fits = daily_parcels * (1.0 + params.outbound_ratio) <= params.capacity
    return pd.concat([given] if fits else [given, sites], ignore_index=True)


def hub_sites_note(sites: gpd.GeoDataFrame) -> str:
    """Say where the hub candidates come from, and when it is the road-node fallback.

    Parameters
    ----------
    sites
        The hub candidates (``source``).

    Returns
    -------
    str
        Counts by source, and the fallback's reason when every site is a road node.
    """
    counts = ", ".join(f"{v} {k}" for k, v in sites["source"].value_counts().items())
    if (sites["source"] == FALLBACK_SOURCE).all():
        return (f"{counts}: the data maps no industrial, logistics or depot site near a main "
                "road, so hubs stand at drive-network nodes on trunk or primary roads")
    return counts


def county_centre_flags(open_h: np.ndarray, forced: Sequence[bool], load: np.ndarray
                        ) -> list[bool]:
    """Flag the county centre among the open hubs (R5): the given one, else the busiest.

    Parameters
    ----------
    open_h
        Indices of the open hubs.
    forced
        Per candidate: the planner gave it as the county centre.
    load
        Per candidate: its throughput.

    Returns
    -------
    list of bool
        One flag per open hub.
    """
    if any(forced[j] for j in open_h):
        return [bool(forced[j]) for j in open_h]
    top = open_h[np.argmax(load[open_h])] if len(open_h) else -1
    return [bool(j == top) for j in open_h]


def chain_record(rules: RuleSet, layers: Mapping[str, gpd.GeoDataFrame], feeders: HubFeeders,
                 assignment: np.ndarray, *, place: str, unreached: Sequence[str] = ()
                 ) -> dict[str, Any]:
    """Check G5 (county hub -> township station -> village point) on the planned tiers.

    Parameters
    ----------
    rules
        The rule set applied.
    layers
        The tiers' layers (``village_stations``, ``township_stations``).
    feeders
        The hubs' feeders.
    assignment
        The hub of each feeder (-1: none).
    place
        The area, for the record.
    unreached
        Villages and townships the drive network does not reach.

    Returns
    -------
    dict
        The G5 record, whatever else feeds the hubs (urban homes and stations do not break
        the rural chain; no township station does); empty when the villages or townships
        tier is not planned, the area has no village, or the preset has no G5.
    """
    vs, ts = layers.get("village_stations"), layers.get("township_stations")
    if vs is None or not len(vs) or ts is None:
        return {}
    has_hub = dict(zip(feeders.ids, assignment >= 0, strict=True))
    return three_tier_record(
        rules, vs["township_id"].to_numpy(),
        {t: bool(has_hub.get(s, False)) for t, s in zip(ts["township_id"], ts["id"], strict=True)},
        place=place, unreached=unreached, village_reached=vs["reached"].to_numpy())
