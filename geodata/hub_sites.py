"""Sites where a county sorting hub can stand (rule R5), from OpenStreetMap and the planner.

A sorting hub (县级分拨中心 / 县域仓配中心, seed 003 专栏5 "1123"; 001 专栏5; 000 四(一)3) is a
warehouse on industrial or logistics land, reached by heavy trucks. A site is taken from, in
this order:

``osm-building``
    A building tagged ``building=warehouse|industrial``, or named as a sorting or logistics
    centre (:data:`SORTING_NAME`: 分拨, 分拣, 转运中心, 处理中心, 仓配, 物流园, 物流中心), of at
    least ``min_floor_m2`` floor area. A residential building (the rule of
    :mod:`geodata.buildings`) is never a site, whatever its name.
``osm-land``
    A ``landuse=industrial|logistics`` polygon of at least ``min_floor_m2`` floor area, its
    floor area taken as the plot area times ``site_coverage``.
``osm-depot``
    An ``amenity=post_depot`` (an existing postal sorting depot), floor area unknown.
``planner``
    A row of the planner's hub-site table (``inventory``), kept as given.

OSM sites are kept only within ``road_m`` of a main road of the drive network
(:data:`MAIN_ROADS`: motorway, trunk, primary, secondary and their links), and never inside
residential land (a ``landuse=residential`` polygon): a sorting hub's trucks do not belong in a
residential area, whatever the building inside it is tagged. The same holds for the fallback
road nodes; the planner's own sites are kept as given. Where the data has
none (the Chengdu, Shanghai and Puyang extracts map no industrial or logistics land), the
fallback is stated in every site's ``source`` (``drive-node-main-road``): the drive-network
nodes in the study area on trunk or primary roads (else on secondary roads), thinned to the
node nearest the centre of each ``fallback_spacing_m`` grid cell. A road node is never a
residential building.

Capacity and fixed cost come from floor area: ``capacity = parcels_per_m2 x floor area`` and
``fixed_cost = cost_per_m2 x floor area``; they are NaN where the floor area is unknown (a
depot, a road node), and the hub model then uses its stated defaults
(:class:`optimizer.hubs.HubParameters`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.area import StudyArea
from geodata.buildings import buildings_from_osm, clip_polygons, osm_ids, read_siting_features
from geodata.errors import ParameterError
from geodata.network import Network
from geodata.osm import OsmExtract

__all__ = [
    "FALLBACK_SOURCE",
    "HUB_SITE_COLUMNS",
    "HUB_SITE_TAGS",
    "MAIN_ROADS",
    "SORTING_NAME",
    "HubSiteParameters",
    "hub_sites_from_osm",
]

log = logging.getLogger(__name__)

#: Columns of :func:`hub_sites_from_osm`.
HUB_SITE_COLUMNS = ["site_id", "name", "source", "floor_area_m2", "capacity", "fixed_cost",
                    "road_m", "geometry"]
#: osmnx tag filter of the features a hub site can come from (residential land to exclude).
HUB_SITE_TAGS: dict[str, bool | str | list[str]] = {
    "building": True,
    "landuse": ["industrial", "logistics", "residential"],
    "amenity": "post_depot",
    "name": True,
}
#: Names of existing sorting and logistics centres.
SORTING_NAME = re.compile("分拨|分拣|转运中心|处理中心|仓配|物流园|物流中心")
#: Road classes a hub must be near (trucks): the first group, else the second, is also where
#: the fallback puts nodes.
MAIN_ROADS: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link"),
    ("secondary", "secondary_link"),
)
#: ``source`` of the fallback sites.
FALLBACK_SOURCE = "drive-node-main-road"
_HUB_BUILDINGS = ("warehouse", "industrial")


@dataclass(frozen=True)
class HubSiteParameters:
    """Parameters of hub sites, each with its source.

    Attributes
    ----------
    road_m
        Longest straight line from a site to a main road. Default 1,000 m: a stated
        assumption (a short access road for trucks).
    min_floor_m2
        Smallest floor area of an OSM building or plot taken as a hub. Default 1,000 m2: a
        stated assumption (a smaller warehouse is a shop's storeroom, not a sorting centre).
    site_coverage
        Floor area of an industrial or logistics plot per m2 of plot. Default 0.3: the minimum
        building coverage (建筑系数 >= 30 %) of 《工业项目建设用地控制指标》 (国土资发〔2008〕24号),
        one storey.
    parcels_per_m2
        Items a day one m2 of sorting floor handles. Default 10: a stated assumption (a
        10,000 m2 county centre sorting 100,000 items a day).
    cost_per_m2
        Daily cost of one m2 (rent and operation). Default 2 CNY: a stated assumption (county
        warehouse rent of 15–30 CNY per m2 a month, doubled for operation), so a 10,000 m2
        centre costs the 20,000 CNY a day of :class:`optimizer.hubs.HubParameters`.
    fallback_spacing_m
        Grid cell of the fallback road nodes. Default 1,000 m, a stated assumption.
    """

    road_m: float = 1000.0
    min_floor_m2: float = 1000.0
    site_coverage: float = 0.3
    parcels_per_m2: float = 10.0
    cost_per_m2: float = 2.0
    fallback_spacing_m: float = 1000.0

    def __post_init__(self) -> None:
        bad = [f"{k}={v!r}" for k, v in vars(self).items() if not (v > 0 and np.isfinite(v))]
        if bad:
            raise ParameterError(f"hub site parameters must be positive and finite: "
                                 f"{', '.join(bad)}")


def hub_sites_from_osm(
    extract: OsmExtract,
    area: StudyArea,
    network: Network,
    *,
    inventory: gpd.GeoDataFrame | None = None,
    params: HubSiteParameters | None = None,
) -> gpd.GeoDataFrame:
    """Sites where a sorting hub can stand (see the module docstring).

    Parameters
    ----------
    extract, area
        The OSM file and study area.
    network
        The drive network (:func:`geodata.network.drive_network`), ``area.crs``.
    inventory
        The planner's hub sites (points, any CRS) with ``name`` and optionally
        ``floor_area_m2``, ``capacity`` (items/day) and ``fixed_cost`` (CNY/day), or ``None``.
    params
        :class:`HubSiteParameters` (the documented defaults when ``None``).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`HUB_SITE_COLUMNS`, points in ``area.crs``. Every row is a planner
        site or an OSM site near a main road; when there is none, the fallback road nodes.
    """
    t0 = time.perf_counter()
    p = params or HubSiteParameters()
    features = read_siting_features(extract, tags=HUB_SITE_TAGS)
    roads = _main_road_lines(network, MAIN_ROADS[0] + MAIN_ROADS[1])
    residential = _residential_land(features, area)
    osm = pd.concat([_building_sites(extract, area, features, p), _land_sites(area, features, p),
                     _depot_sites(area, features)], ignore_index=True)
    osm["road_m"] = shapely.distance(roads, np.asarray(osm.geometry.values, dtype=object))
    inside = shapely.within(np.asarray(osm.geometry.values, dtype=object), residential)
    if inside.any():
        log.info("hub sites: %d OSM site(s) inside residential land left out: %s",
                 int(inside.sum()), ", ".join(osm.loc[inside, "site_id"].astype(str)))
    osm = osm[(osm["road_m"] <= p.road_m).to_numpy() & ~inside]
    parts = [_planner_sites(inventory, area, roads), osm]
    sites = pd.concat([f for f in parts if len(f)], ignore_index=True) if any(
        len(f) for f in parts) else _fallback_sites(network, p, residential)
    floor = sites["floor_area_m2"].astype(float)
    sites["capacity"] = sites["capacity"].astype(float).fillna(floor * p.parcels_per_m2)
    sites["fixed_cost"] = sites["fixed_cost"].astype(float).fillna(floor * p.cost_per_m2)
    sites = gpd.GeoDataFrame(sites[HUB_SITE_COLUMNS], geometry="geometry", crs=area.crs)
    log.info("hub sites: %d (%s) in %.2f s", len(sites),
             ", ".join(f"{k} {v}" for k, v in sites["source"].value_counts().items()),
             time.perf_counter() - t0)
    return sites.reset_index(drop=True)


def _frame(ids: Iterable[str], names: Iterable[str], source: str, floor: Iterable[float],
           points: Iterable[shapely.Geometry], crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"site_id": list(ids), "name": list(names), "source": source,
         "floor_area_m2": np.asarray(list(floor), float)},
        geometry=list(points), crs=crs).assign(capacity=np.nan, fixed_cost=np.nan)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].fillna("").astype(str)
    return pd.Series("", index=frame.index)


def _building_sites(extract: OsmExtract, area: StudyArea, features: gpd.GeoDataFrame,
                    p: HubSiteParameters) -> gpd.GeoDataFrame:
    """Warehouse or industrial buildings, or named sorting centres; never residential."""
    b = buildings_from_osm(extract, area, features=features)
    named = b["name"].str.contains(SORTING_NAME)
    keep = (b["building"].isin(_HUB_BUILDINGS) | named) & ~b["residential"]
    keep &= b["floor_area_m2"] >= p.min_floor_m2
    b = b[keep]
    return _frame(b["osm_id"], b["name"], "osm-building", b["floor_area_m2"],
                  b.geometry.representative_point(), area.crs)


def _land_sites(area: StudyArea, features: gpd.GeoDataFrame,
                p: HubSiteParameters) -> gpd.GeoDataFrame:
    """Industrial or logistics plots, floor area = plot x coverage."""
    poly = features.geom_type.isin(["Polygon", "MultiPolygon"])
    land = features[poly & _col(features, "landuse").isin(["industrial", "logistics"]).to_numpy()]
    plots = clip_polygons(land.geometry.to_crs(area.crs), area)
    floor = plots.area.to_numpy() * p.site_coverage
    keep = floor >= p.min_floor_m2
    return _frame(osm_ids(land.index[keep]), _col(land, "name")[keep], "osm-land", floor[keep],
                  plots[keep].representative_point(), area.crs)


def _residential_land(features: gpd.GeoDataFrame, area: StudyArea) -> shapely.Geometry:
    """Union of the ``landuse=residential`` polygons, in ``area.crs`` (empty when none)."""
    poly = features.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    land = features[poly & (_col(features, "landuse") == "residential").to_numpy()]
    return shapely.union_all(shapely.make_valid(np.asarray(land.geometry.to_crs(area.crs).values,
                                                           dtype=object)))


def _depot_sites(area: StudyArea, features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Existing postal sorting depots (``amenity=post_depot``), floor area unknown."""
    dep = features[(_col(features, "amenity") == "post_depot").to_numpy()]
    if "building" in dep.columns:  # a depot mapped on its building is read as that building
        dep = dep[dep["building"].isna()]
    pts = dep.geometry.to_crs(area.crs).representative_point()
    inside = pts.within(area.projected).to_numpy()
    return _frame(osm_ids(dep.index[inside]), _col(dep, "name")[inside], "osm-depot",
                  np.full(int(inside.sum()), np.nan), pts[inside], area.crs)


def _planner_sites(inventory: gpd.GeoDataFrame | None, area: StudyArea,
                   roads: shapely.Geometry) -> gpd.GeoDataFrame:
    """Return the planner's hub sites in the study area (capacity and cost where given).

    A site outside the area is left out (:func:`geodata.planner_data.input_rows` lists it).
    """
    if inventory is None or inventory.empty:
        return _frame([], [], "planner", [], [], area.crs).assign(road_m=[])
    inv = inventory.to_crs(area.crs)
    ids = [f"planner/{i + 1}" for i in range(len(inv))]
    inside = inv.intersects(area.projected).to_numpy()
    inv = inv[inside]
    floor = (inv["floor_area_m2"] if "floor_area_m2" in inv else pd.Series(np.nan, inv.index))
    out = _frame(np.asarray(ids)[inside], _col(inv, "name"), "planner",
                 floor.astype(float), inv.geometry.representative_point(), area.crs)
    for key in ("capacity", "fixed_cost"):
        if key in inv.columns:
            out[key] = inv[key].astype(float).to_numpy()
    out["road_m"] = shapely.distance(roads, np.asarray(out.geometry.values, dtype=object))
    return out


def _main_road_lines(network: Network, classes: tuple[str, ...]) -> shapely.Geometry:
    """Union of the drive network's edges of the given ``highway`` classes (any of a list)."""
    return shapely.MultiLineString(_edge_lines(network, classes))


def _on_class(data: dict, classes: tuple[str, ...]) -> bool:
    """Whether an edge carries one of ``classes`` (osmnx merges tags into an unordered list)."""
    hw = data.get("highway", "")
    return bool(set(hw if isinstance(hw, list) else [hw]) & set(classes))


def _edge_lines(network: Network, classes: tuple[str, ...]) -> list[shapely.LineString]:
    nodes = network.graph.nodes
    lines = []
    for u, v, data in network.graph.edges(data=True):
        if _on_class(data, classes):
            lines.append(data.get("geometry") or shapely.LineString(
                [(nodes[u]["x"], nodes[u]["y"]), (nodes[v]["x"], nodes[v]["y"])]))
    return lines


def _fallback_sites(network: Network, p: HubSiteParameters, residential: shapely.Geometry
                    ) -> gpd.GeoDataFrame:
    """Area drive nodes on trunk/primary roads (else secondary), off residential land, 1 a cell."""
    outside = ~shapely.within(shapely.points(network.xy), residential) & network.in_area
    rows, road = np.flatnonzero(outside), "any"
    for classes, label in zip(MAIN_ROADS, ("trunk or primary", "secondary"), strict=True):
        on = {n for u, v, d in network.graph.edges(data=True) if _on_class(d, classes)
              for n in (u, v)}
        hit = np.flatnonzero(np.isin(network.node_ids, sorted(on)) & outside)
        if len(hit):
            rows, road = hit, label
            break
    xy = network.xy[rows]
    cell = np.floor(xy / p.fallback_spacing_m)
    centre = (cell + 0.5) * p.fallback_spacing_m
    off = np.hypot(*(xy - centre).T)
    order = np.lexsort((network.node_ids[rows], off, cell[:, 1], cell[:, 0]))
    first = np.r_[True, np.any(np.diff(cell[order], axis=0) != 0, axis=1)]
    pick = rows[order[first]]
    names = [f"drive-node/{network.node_ids[k]} on a {road} road (fallback: no industrial or "
             "logistics site mapped)" for k in pick]
    frame = _frame([f"drive-node/{network.node_ids[k]}" for k in pick], names, FALLBACK_SOURCE,
                   np.full(len(pick), np.nan), gpd.points_from_xy(*network.xy[pick].T), network.crs)
    return frame.assign(road_m=0.0)
