"""What the hub tier takes from the tiers below, and the checks of the chain it closes.

What feeds the hubs
-------------------
Every tier's parcels reach a hub: the lowest rural tier planned above the villages (township
stations, each carrying its villages' parcels: county hub -> township station -> village
point, G5; else the village stations) *and* the urban one (the community end-stations with
their loads, plus, per residential community, the parcels no end-station carries, sent from
the mean point of its homes; else the homes of each community aggregated at their mean point).

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
        Their ids and names (station ids, or ``homes-<community>``).
    fed_by
        The tiers they are, joined by ``+`` (``township_stations+stations``).
    """

    xy: np.ndarray
    parcels: np.ndarray
    ids: list[str]
    names: list[str]
    fed_by: str


def _urban_communities(communities: gpd.GeoDataFrame) -> set:
    source = (communities["source"] if "source" in communities.columns
              else pd.Series("", index=communities.index))
    return set(communities.loc[(source != VILLAGE_SOURCE).to_numpy(), "community"])


def hub_feeders(layers: Mapping[str, gpd.GeoDataFrame], demand: gpd.GeoDataFrame,
                communities: gpd.GeoDataFrame) -> HubFeeders:
    """Return the points that send parcels to hubs (see the module docstring).

    Parameters
    ----------
    layers
        The tiers' layers planned so far (``township_stations``, ``village_stations``,
        ``stations``).
    demand, communities
        The plan's homes and communities.

    Returns
    -------
    HubFeeders
        Points, parcels, ids, names and the tiers they are.
    """
    xy, parcels, ids, names, tiers = [], [], [], [], []
    for layer in ("township_stations", "village_stations"):
        frame = layers.get(layer)
        if frame is not None and len(frame):
            xy.extend(np.c_[frame.geometry.x, frame.geometry.y])
            parcels.extend(frame["daily_parcels"].to_numpy(float))
            ids.extend(frame["id"])
            names.extend(frame["name"])
            tiers.append(layer)
            break
    st = layers.get("stations")
    st = st if st is not None and len(st) else None
    if st is not None:
        xy.extend(np.c_[st.geometry.x, st.geometry.y])
        parcels.extend(st["daily_parcels"].to_numpy(float))
        ids.extend(st["id"])
        names.extend(st["name"])
    carried = st.groupby("community")["daily_parcels"].sum() if st is not None else pd.Series()
    urban = _urban_communities(communities)
    homes = demand[demand["community"].isin(urban).to_numpy() | (not tiers and not urban)]
    pts = homes.assign(_x=homes.geometry.x, _y=homes.geometry.y,
                       community=homes["community"].fillna("").astype(str))
    before = len(ids)
    for k, grp in pts.groupby("community", sort=True):
        rest = float(grp["daily_parcels"].sum()) - float(carried.get(k, 0.0))
        if rest > 1e-6:
            xy.append(np.array([grp["_x"].mean(), grp["_y"].mean()]))
            parcels.append(rest)
            cname = grp["community_name"].iloc[0] if "community_name" in grp else k
            ids.append(f"homes-{k or 'none'}")
            names.append(f"homes of {cname or 'no community'}")
    if st is not None or len(ids) > before:
        tiers.append("stations" if st is not None else "homes")
    return HubFeeders(np.asarray(xy, float).reshape(-1, 2), np.asarray(parcels, float), ids,
                      names, "+".join(tiers))


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
