"""Candidate sites for parcel lockers and end-stations, from OpenStreetMap.

A candidate is a place where a locker can stand or a station can open. Each comes from one OSM
tag, kept in ``source`` so a planner can check it:

=============================  =========================================================
kind                           OSM evidence
=============================  =========================================================
``existing_locker``            ``amenity=parcel_locker``; ``vending=parcel_pickup`` or
                               ``parcel_mail_in``; a locker brand (丰巢, 速递易, ...) on an
                               ``amenity=vending_machine``. ``existing`` is True and
                               ``capacity_compartments`` comes from ``capacity``.
``express_shop``               ``shop=courier``, ``office=courier``, or an
                               ``amenity=post_office`` whose ``brand``, ``operator`` or
                               ``name`` is a courier (顺丰, 中通, 圆通, 申通, 韵达, 京东, 菜鸟,
                               极兔, 百世, 德邦, ...): in China such outlets are private.
``post_office``                ``amenity=post_office`` (China Post).
``community_centre``           ``amenity=community_centre``, or an ``office=government`` /
                               ``amenity=townhall`` whose name is a community office
                               (社区居委会, 社区服务中心/站, 党群服务中心).
``convenience``                ``shop=convenience``.
``residential_ground_floor``   the ground floor of a residential building (see
                               :mod:`geodata.buildings`) of at least 15 m2, the smallest
                               end-station rule R1 allows (seed 004 五(二) 公共末端工程).
=============================  =========================================================

POIs mapped as areas stand at their representative point. A POI inside a building gets that
building's footprint as ``floor_area_m2``: the size of the building, *not* the room a station
could use. POIs closer than 5 m are one place: the kind earlier in the table above wins, then
the named one, then the smaller id.

The room a station could use at a site is :func:`station_floor_areas`: a planner's inventory
gives its rooms' own ``area_m2``; an OSM site is at most one ground-floor unit of
:data:`GROUND_FLOOR_UNIT_M2` (a stated assumption), and never more than its building's
footprint; a site in no building has no known room (0 m2).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.area import StudyArea
from geodata.buildings import osm_ids, read_siting_features
from geodata.errors import InputDataError, ParameterError
from geodata.osm import OsmExtract

__all__ = [
    "AREA_BASES",
    "AREA_PARAMETER",
    "CANDIDATE_COLUMNS",
    "COURIER_BRANDS",
    "GROUND_FLOOR_UNIT_M2",
    "KINDS",
    "LOCKER_BRANDS",
    "candidates_from_osm",
    "classify_poi",
    "station_area_basis",
    "station_floor_areas",
]

log = logging.getLogger(__name__)

#: Candidate kinds, in the order that wins when two POIs share a spot.
KINDS = (
    "existing_locker",
    "express_shop",
    "post_office",
    "community_centre",
    "convenience",
    "residential_ground_floor",
)

#: Columns of the frame returned by :func:`candidates_from_osm`, geometry last.
CANDIDATE_COLUMNS = [
    "site_id",
    "source",
    "kind",
    "name",
    "name_en",
    "existing",
    "capacity_compartments",
    "floor_area_m2",
    "osm_id",
    "geometry",
]

#: Courier brands (Chinese and Latin spellings) and words (快递, 驿站) that mark a private
#: express outlet when found on an ``amenity=post_office``.
COURIER_BRANDS = (
    "顺丰",
    "中通",
    "圆通",
    "申通",
    "韵达",
    "京东",
    "菜鸟",
    "极兔",
    "百世",
    "德邦",
    "天天快递",
    "快递",
    "驿站",
    "SF Express",
    "ZTO",
    "YTO",
    "STO Express",
    "Yunda",
    "JD Logistics",
    "Cainiao",
    "J&T",
    "Best Express",
    "Deppon",
)

#: Smart-locker operators whose vending machines are parcel lockers.
LOCKER_BRANDS = ("丰巢", "速递易", "格格货栈", "近邻宝", "Hive Box")

_COURIER = re.compile("|".join(re.escape(b) for b in COURIER_BRANDS), re.IGNORECASE)
_LOCKER = re.compile("|".join(re.escape(b) for b in LOCKER_BRANDS), re.IGNORECASE)
_COMMUNITY_OFFICE = re.compile(r"社区.*(居委会|居民委员会|服务中心|服务站)|党群服务中心|居委会")
_NAME_KEYS = ("brand", "brand:zh", "brand:en", "operator", "name", "name:zh", "name:en")
#: POIs closer than this (metres) are one place.
DEDUP_M = 5.0

#: Usable floor area of one ground-floor unit (a street shop or a ground-floor flat turned
#: into a station) at an OSM site, in m2. A stated assumption: a street-front unit of a Chinese
#: residential block is typically 30–100 m2; the upper end, 100 m2, is taken: well above R1's
#: 15 m2, below the footprint of a whole building. Override it per scenario.
GROUND_FLOOR_UNIT_M2 = 100.0

#: ``source`` prefix of the sites of a planner's inventory (:mod:`geodata.planner_data`).
PLANNER_SOURCE = "user:"


def _tag(tags: dict[str, Any], key: str) -> str:
    value = tags.get(key)
    return value if isinstance(value, str) else ""


def classify_poi(tags: dict[str, Any]) -> tuple[str, str] | None:
    """Decide whether an OSM feature is a candidate site, and of which kind.

    Parameters
    ----------
    tags
        The feature's OSM tags (missing keys or NaN values are ignored).

    Returns
    -------
    tuple of (str, str) or None
        ``(kind, source)``, for instance ``("convenience", "shop=convenience")``; ``None``
        when the feature is not a candidate.
    """
    amenity, shop = _tag(tags, "amenity"), _tag(tags, "shop")
    office, vending = _tag(tags, "office"), _tag(tags, "vending")
    names = " ".join(_tag(tags, k) for k in _NAME_KEYS)
    if amenity == "parcel_locker":
        return "existing_locker", "amenity=parcel_locker"
    if "parcel_pickup" in vending or "parcel_mail_in" in vending:
        return "existing_locker", f"vending={vending}"
    if amenity == "vending_machine" and _LOCKER.search(names):
        return "existing_locker", "amenity=vending_machine (locker brand)"
    if shop == "courier":
        return "express_shop", "shop=courier"
    if office == "courier":
        return "express_shop", "office=courier"
    if amenity == "post_office":
        if _COURIER.search(names):
            return "express_shop", "amenity=post_office (courier brand)"
        return "post_office", "amenity=post_office"
    if amenity == "community_centre":
        return "community_centre", "amenity=community_centre"
    if (office == "government" or amenity == "townhall") and _COMMUNITY_OFFICE.search(names):
        key = "office=government" if office == "government" else "amenity=townhall"
        return "community_centre", f"{key} (community office)"
    if shop == "convenience":
        return "convenience", "shop=convenience"
    return None


def _capacity(value: Any) -> float:
    if not isinstance(value, str):
        return np.nan
    match = re.match(r"^\s*(\d+)\s*$", value)
    return float(match.group(1)) if match else np.nan


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _poi_sites(
    features: gpd.GeoDataFrame, area: StudyArea, buildings: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    keys = [k for k in ("amenity", "shop", "office", "vending") if k in features.columns]
    if not keys or features.empty:
        return gpd.GeoDataFrame(columns=CANDIDATE_COLUMNS, geometry="geometry", crs=area.crs)
    pois = features.loc[features[keys].notna().any(axis=1)]
    tag_cols = [c for c in pois.columns if c != "geometry"]
    records = pois[tag_cols].to_dict("records")
    rows = []
    for osm_id, tags, geom in zip(osm_ids(pois.index), records, pois.geometry, strict=True):
        found = classify_poi(tags)
        if found is None or geom is None or geom.is_empty:
            continue
        kind, source = found
        existing = kind == "existing_locker"
        rows.append(
            {
                "site_id": "c-" + osm_id.replace("/", "-"),
                "source": source,
                "kind": kind,
                "name": _text(tags.get("name")),
                "name_en": _text(tags.get("name:en")),
                "existing": existing,
                "capacity_compartments": _capacity(tags.get("capacity")) if existing else np.nan,
                "floor_area_m2": np.nan,
                "osm_id": osm_id,
                "geometry": geom if geom.geom_type == "Point" else geom.representative_point(),
            }
        )
    if not rows:
        return gpd.GeoDataFrame(columns=CANDIDATE_COLUMNS, geometry="geometry", crs=area.crs)
    sites = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326").to_crs(area.crs)
    sites = sites.loc[sites.within(area.projected)].reset_index(drop=True)
    if len(buildings) and len(sites):
        hits = gpd.sjoin(
            sites[["geometry"]],
            buildings[["footprint_m2", "geometry"]].reset_index(drop=True),
            how="left",
            predicate="within",
        )
        hits = hits.sort_values("footprint_m2", ascending=False, kind="stable")
        hits = hits[~hits.index.duplicated(keep="first")].reindex(sites.index)
        sites["floor_area_m2"] = hits["footprint_m2"].to_numpy(dtype=float)
    return _deduplicate(sites)


def _deduplicate(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if len(sites) < 2:
        return sites
    rank = sites["kind"].map({k: i for i, k in enumerate(KINDS)})
    order = sites.assign(_rank=rank, _unnamed=sites["name"] == "").sort_values(
        ["_rank", "_unnamed", "site_id"], kind="stable"
    )
    tree = shapely.STRtree(sites.geometry.values)
    dropped: set[int] = set()
    for i in order.index:
        if i in dropped:
            continue
        near = tree.query(sites.geometry.iloc[i], predicate="dwithin", distance=DEDUP_M)
        dropped.update(int(j) for j in near if int(j) != i)
    if dropped:
        log.info("candidates: %d POIs within %g m of a kept one dropped", len(dropped), DEDUP_M)
    return sites.drop(index=sorted(dropped)).reset_index(drop=True)


def _ground_floor_sites(
    buildings: gpd.GeoDataFrame, features: gpd.GeoDataFrame, min_area: float
) -> gpd.GeoDataFrame:
    homes = buildings.loc[
        buildings["residential"].astype(bool) & (buildings["footprint_m2"] >= min_area)
    ]
    names_en: dict[str, str] = {}
    if "name:en" in features.columns:
        tagged = features.loc[features["name:en"].notna(), "name:en"]
        names_en = dict(zip(osm_ids(tagged.index), tagged.astype(str), strict=True))
    in_landuse = homes["building"] == "yes"
    source = np.where(
        in_landuse,
        "building=yes in landuse=residential (ground floor)",
        "building=" + homes["building"].astype(str) + " (ground floor)",
    )
    return gpd.GeoDataFrame(
        {
            "site_id": ["c-gf-" + i.replace("/", "-") for i in homes["osm_id"]],
            "source": source,
            "kind": "residential_ground_floor",
            "name": homes["name"].to_numpy(),
            "name_en": [names_en.get(i, "") for i in homes["osm_id"]],
            "existing": False,
            "capacity_compartments": np.nan,
            "floor_area_m2": homes["footprint_m2"].to_numpy(dtype=float),
            "osm_id": homes["osm_id"].to_numpy(),
        },
        geometry=homes.geometry.representative_point().to_numpy(),
        crs=buildings.crs,
    )


def candidates_from_osm(
    extract: OsmExtract,
    area: StudyArea,
    buildings: gpd.GeoDataFrame,
    *,
    features: gpd.GeoDataFrame | None = None,
    min_ground_floor_m2: float = 15.0,
) -> gpd.GeoDataFrame:
    """Candidate locker and station sites: existing lockers, POIs and residential ground floors.

    Parameters
    ----------
    extract
        The OSM file.
    area
        The study area; the result is in ``area.crs`` and inside ``area.projected``.
    buildings
        From :func:`geodata.buildings.buildings_from_osm` for the same area.
    features
        Features already read by :func:`geodata.buildings.read_siting_features`; read from
        ``extract`` (amenity, shop, office and vending tags) when ``None``.
    min_ground_floor_m2
        Smallest footprint whose ground floor is a candidate (default 15 m2, rule R1).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CANDIDATE_COLUMNS`, sorted by ``site_id``: ``site_id``
        (``"c-node-123"``, ``"c-way-456"``, ground floors ``"c-gf-way-456"``), ``source``
        (the OSM tag), ``kind`` (one of :data:`KINDS`), ``name``, ``name_en``, ``existing``,
        ``capacity_compartments`` (existing lockers with a ``capacity`` tag, else NaN),
        ``floor_area_m2`` (footprint of the building the site is in, NaN outside buildings),
        ``osm_id`` and the point.

    Raises
    ------
    InputDataError
        If ``buildings`` lacks a column or is in another CRS than ``area.crs``.
    ParameterError
        If ``min_ground_floor_m2`` is negative.
    """
    t0 = time.perf_counter()
    if not min_ground_floor_m2 >= 0:
        raise ParameterError(
            f"min_ground_floor_m2={min_ground_floor_m2!r} must be 0 or more. "
            "Fix: give a floor area in m2 (default 15, rule R1)"
        )
    needed = ["osm_id", "building", "name", "footprint_m2", "residential", "geometry"]
    missing = [c for c in needed if c not in buildings.columns]
    if missing:
        raise InputDataError(
            None,
            f"buildings lack the column(s) {', '.join(missing)}",
            "pass the frame returned by buildings_from_osm(extract, area)",
        )
    if len(buildings) and (buildings.crs is None or not area.crs.equals(buildings.crs)):
        raise InputDataError(
            None,
            f"buildings are in {buildings.crs!r}, the study area in {area.crs.to_string()}",
            "build the buildings for the same StudyArea with buildings_from_osm",
        )
    if features is None:
        features = read_siting_features(
            extract, tags={"amenity": True, "shop": True, "office": True, "vending": True}
        )
    pois = _poi_sites(features, area, buildings)
    floors = _ground_floor_sites(buildings, features, min_ground_floor_m2)
    parts = [p for p in (pois, floors) if len(p)]
    if parts:
        sites = pd.concat(parts, ignore_index=True)
    else:
        sites = gpd.GeoDataFrame(columns=CANDIDATE_COLUMNS, geometry="geometry", crs=area.crs)
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=area.crs)
    sites["existing"] = sites["existing"].astype(bool)
    for col in ("capacity_compartments", "floor_area_m2"):
        sites[col] = sites[col].astype(float)
    sites = sites.sort_values("site_id", kind="stable").reset_index(drop=True)
    counts = sites["kind"].value_counts()
    log.info(
        "candidates: %d sites (%s) in %.2f s",
        len(sites),
        ", ".join(f"{counts.get(k, 0)} {k}" for k in KINDS),
        time.perf_counter() - t0,
    )
    return sites[CANDIDATE_COLUMNS]


def _area_cases(candidates: gpd.GeoDataFrame, unit_m2: float
                ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Return the sites' given floor areas and the masks of :data:`AREA_BASES`' cases, in order.

    The cases: a planner's room with its area; a planner's room without one; an OSM building
    larger than one ground-floor unit (the stated default); a smaller OSM building (its
    measured footprint). Sites in none of them stand in no mapped building.
    """
    if not unit_m2 > 0:
        raise ParameterError(f"unit_m2={unit_m2!r} must be a positive floor area in m2 "
                             f"(default {GROUND_FLOOR_UNIT_M2:g}, one ground-floor unit)")
    given = candidates["floor_area_m2"].to_numpy(dtype=float)
    planner = candidates["source"].astype(str).str.startswith(PLANNER_SOURCE).to_numpy()
    known = np.isfinite(given)
    return given, [planner & known, planner, known & (given > unit_m2), known]


#: Where a site's available floor area comes from, one per case of :func:`_area_cases` (the
#: last for a site in no mapped building): ``planner inventory``, ``OSM measured`` (the
#: building's footprint), ``default`` (the stated ground-floor unit) or ``unknown``.
AREA_BASES: tuple[str, ...] = ("planner inventory", "unknown", "default", "OSM measured",
                               "unknown")

#: The parameter that sets the ``default`` floor area.
AREA_PARAMETER = "StationParameters.ground_floor_unit_m2"


def station_floor_areas(
    candidates: gpd.GeoDataFrame, *, unit_m2: float = GROUND_FLOOR_UNIT_M2
) -> tuple[np.ndarray, np.ndarray]:
    """Return the floor area a station could use at each candidate, and its source.

    Parameters
    ----------
    candidates
        Candidate sites (``source``, ``floor_area_m2``): OSM sites carry their building's
        footprint, a planner's inventory the room's own area.
    unit_m2
        Floor area of one ground-floor unit at an OSM site (default
        :data:`GROUND_FLOOR_UNIT_M2`, a stated assumption).

    Returns
    -------
    tuple of numpy.ndarray
        ``available_m2`` (float; 0 where unknown) and ``area_source`` (str) per candidate.

    Raises
    ------
    ParameterError
        If ``unit_m2`` is not a positive number.
    """
    given, cases = _area_cases(candidates, unit_m2)
    planner, known = cases[1], cases[3]
    available = np.where(known, np.where(planner, given, np.minimum(given, unit_m2)), 0.0)
    source = np.select(
        cases,
        [
            "planner inventory (area_m2)",
            "planner inventory gives no area_m2: unknown",
            f"one ground-floor unit ({unit_m2:g} m2, assumed) of an OSM building",
            "OSM building footprint, smaller than one ground-floor unit",
        ],
        "OSM site in no mapped building: unknown",
    )
    return available, source.astype(str)


def station_area_basis(
    candidates: gpd.GeoDataFrame, *, unit_m2: float = GROUND_FLOOR_UNIT_M2
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per candidate, what its available floor area rests on, as data.

    Parameters
    ----------
    candidates
        Candidate sites (``source``, ``floor_area_m2``).
    unit_m2
        Floor area of one ground-floor unit at an OSM site (see :func:`station_floor_areas`).

    Returns
    -------
    tuple of numpy.ndarray
        ``area_basis`` (one of :data:`AREA_BASES`) and ``area_parameter`` (the name of the
        parameter that set the figure, :data:`AREA_PARAMETER`, where the basis is
        ``default``; else empty) per candidate.

    Raises
    ------
    ParameterError
        If ``unit_m2`` is not a positive number.
    """
    _, cases = _area_cases(candidates, unit_m2)
    basis = np.select(cases, list(AREA_BASES[:-1]), AREA_BASES[-1]).astype(str)
    parameter = np.where(basis == "default", AREA_PARAMETER, "").astype(str)
    return basis, parameter
