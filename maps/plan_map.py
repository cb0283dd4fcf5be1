"""Draw a district locker plan as an interactive Leaflet map that works offline.

:func:`plan_map` takes the layers of a plan (the study boundary, communities, demand points,
candidate sites, chosen lockers, assignment lines and uncovered demand, each a GeoDataFrame in
any CRS) and draws each as one ``folium.GeoJson`` layer, so thousands of points stay fast. Only
Leaflet is used; with ``offline=True`` (the default) it is embedded in the page
(:mod:`maps.assets`), so the saved ``map.html`` opens without network, apart from the basemap
tiles. Every string from the data is escaped (:mod:`maps.controls`).

Besides the plan itself the map draws what a planner looks at: walking catchments per site
(layer ``catchments``, computed by the caller), a hexagon "heat" layer of uncovered daily
parcels (:mod:`maps.hexbins`, from the ``uncovered`` layer), communities filled by compartments
per daily parcel when the ``communities`` layer has ``ratio`` (or ``compartments`` and
``daily_parcels``), and measure, fullscreen and search controls (:mod:`maps.widgets`). The
basemap is OpenStreetMap, Gaode or Tianditu (:mod:`maps.basemaps`); on Gaode every layer is
shifted to GCJ-02, the datum of its tiles. Given the extract's streets, buildings, water and
green, the map also draws them as an offline basemap (:mod:`maps.basemap_layer`), shown when
there are no tiles.
"""

from __future__ import annotations

import html
import logging
import math
import time
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Figure
from shapely.geometry import mapping

from geodata.errors import CRSError, InputDataError, OutputError, ParameterError
from maps.assets import make_offline
from maps.basemap_layer import add_offline_basemap, round_coordinates
from maps.basemaps import add_basemap, check_basemap, shift_for_basemap
from maps.controls import (
    Attribution,
    HtmlControl,
    LegendItem,
    MapStyle,
    MetricScale,
    SafePopup,
    legend_html,
    title_html,
)
from maps.hexbins import hex_bins
from maps.i18n import check_lang, label
from maps.layer_styles import LAYER_SPECS, community_colour, is_missing
from maps.widgets import FullscreenControl, MeasureControl, SearchControl, WidgetStyle

__all__ = ["LAYER_COLUMNS", "SEARCHED_LAYERS", "plan_map", "save_map"]

_UNSET: Any = object()

log = logging.getLogger(__name__)

#: The layers a plan map draws, bottom to top, with the columns each must have.
LAYER_COLUMNS: dict[str, tuple[str, ...]] = {
    "boundary": (),
    "communities": ("community", "name"),
    "heat": ("hex_id", "points", "weight"),
    "catchments": ("site_id",),
    "assignments": ("demand_id", "locker_id", "walk_m"),
    "hub_links": ("station_id", "hub_id", "daily_parcels"),
    "candidates": ("site_id", "source", "kind", "name", "existing"),
    "demand": (
        "demand_id",
        "community",
        "community_name",
        "residents",
        "daily_parcels",
        "locker_id",
        "walk_m",
    ),
    "uncovered": ("demand_id", "community", "daily_parcels", "reason"),
    "lockers": (
        "site_id",
        "modules",
        "compartments",
        "daily_parcels_served",
        "existing",
        "name",
    ),
    # the hierarchy tiers (siting.tiers), each its own layer and symbol
    "stations": ("id", "name", "floor_area_m2"),
    "cargo_stations": ("id", "name"),
    "village_stations": ("id", "name", "village"),
    "township_stations": ("id", "name", "township"),
    "hubs": ("id", "name", "daily_parcels", "automatic_sorting"),
}

#: Layers the search box looks in.
SEARCHED_LAYERS: tuple[str, ...] = ("lockers", "candidates", "catchments", "uncovered", "demand",
                                    "stations", "cargo_stations", "village_stations",
                                    "township_stations", "hubs")

#: Popup rows per layer: (column, label key). Missing optional columns are skipped.
_POPUP_ROWS: dict[str, tuple[tuple[str, str], ...]] = {
    "heat": (
        ("points", "field.points"),
        ("weight", "field.heat_parcels"),
    ),
    "catchments": (
        ("site_id", "field.site_id"),
        ("kind", "field.kind"),
        ("radius_m", "field.radius_m"),
        ("area_m2", "field.area_m2"),
    ),
    "communities": (
        ("community", "field.community"),
        ("daily_parcels", "field.daily_parcels"),
        ("compartments", "field.compartments"),
        ("ratio", "field.ratio"),
        ("community_ratio", "field.community_ratio"),
    ),
    "assignments": (
        ("demand_id", "field.demand_id"),
        ("locker_id", "field.locker_id"),
        ("share", "field.share"),
        ("daily_parcels", "field.daily_parcels"),
        ("walk_m", "field.walk_m"),
    ),
    "candidates": (
        ("site_id", "field.site_id"),
        ("source", "field.source"),
        ("kind", "field.kind"),
        ("existing", "field.existing"),
    ),
    "demand": (
        ("community_name", "field.community"),
        ("residents", "field.residents"),
        ("daily_parcels", "field.daily_parcels"),
        ("locker_id", "field.locker_id"),
        ("walk_m", "field.walk_m"),
    ),
    "uncovered": (
        ("community", "field.community"),
        ("daily_parcels", "field.daily_parcels"),
        ("reason", "field.reason"),
    ),
    "lockers": (
        ("site_id", "field.site_id"),
        ("name", "field.name"),
        ("status", "field.status"),
        ("modules", "field.modules"),
        ("compartments", "field.compartments"),
        ("daily_parcels_served", "field.daily_parcels_served"),
    ),
    "hub_links": (
        ("station", "field.station"),
        ("hub_id", "field.hub_id"),
        ("daily_parcels", "field.daily_parcels"),
        ("drive_km", "field.drive_km"),
    ),
    "stations": (
        ("id", "field.site_id"),
        ("community_name", "field.community"),
        ("planned_area_m2", "field.planned_area_m2"),
        ("available_area_m2", "field.available_area_m2"),
        ("area_basis", "field.area_basis"),
        ("area_parameter", "field.area_parameter"),
        ("area_source", "field.area_source"),
        ("capped_by_area", "field.capped_by_area"),
        ("daily_parcels", "field.daily_parcels"),
        ("existing", "field.reused"),
    ),
    "cargo_stations": (
        ("id", "field.site_id"),
        ("centre", "field.centre"),
        ("floor_area_m2", "field.floor_area_m2"),
        ("walk_m", "field.walk_m"),
    ),
    "village_stations": (
        ("id", "field.site_id"),
        ("village", "field.village"),
        ("township", "field.township"),
        ("daily_parcels", "field.daily_parcels"),
        ("placed_by", "field.placed_by"),
        ("drive_network_m", "field.drive_network_m"),
    ),
    "township_stations": (
        ("id", "field.site_id"),
        ("township", "field.township"),
        ("daily_parcels", "field.daily_parcels"),
        ("placed_by", "field.placed_by"),
    ),
    "hubs": (
        ("id", "field.site_id"),
        ("daily_parcels", "field.daily_parcels"),
        ("stations", "field.stations"),
        ("automatic_sorting", "field.automatic_sorting"),
        ("county_centre", "field.county_centre"),
    ),
}

#: Popup columns holding a share (0 to 1), shown as a percentage.
_PERCENT_COLUMNS = frozenset({"share"})


def _text(value: object, lang: str, *, percent: bool = False) -> str | None:
    """Format a cell for a popup: plain text, or ``None`` for an empty cell.

    Parameters
    ----------
    value
        The cell.
    lang
        {"zh", "en"}: language of yes/no.
    percent
        Whether the cell is a share (0 to 1), written as a percentage with one decimal.

    Returns
    -------
    str or None
        The text, or ``None`` when the cell is empty.
    """
    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    if percent and isinstance(value, Real):
        return f"{float(value):.1%}"
    if isinstance(value, bool | np.bool_):
        return label("value.yes" if value else "value.no", lang)
    if isinstance(value, Integral):
        return f"{int(value):,}"
    if isinstance(value, Real):
        number = float(value)
        if number.is_integer() or abs(number) >= 100:
            return f"{int(round(number)):,}"
        return f"{number:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def _prepare(layers: Mapping[str, gpd.GeoDataFrame | None]) -> dict[str, gpd.GeoDataFrame]:
    """Check every layer at once, reproject to EPSG:4326 and drop empty geometries."""
    problems: list[str] = []
    unknown = sorted(set(layers) - set(LAYER_COLUMNS))
    if unknown:
        problems.append(f"unknown layer(s) {unknown}; known: {list(LAYER_COLUMNS)}")
    out: dict[str, gpd.GeoDataFrame] = {}
    for name in LAYER_COLUMNS:
        frame = layers.get(name)
        if frame is None or len(frame) == 0:
            continue
        if not isinstance(frame, gpd.GeoDataFrame):
            problems.append(f"layer {name!r} is a {type(frame).__name__}, not a GeoDataFrame")
            continue
        if frame.crs is None:
            raise CRSError(
                None,
                f"layer {name!r} has no CRS",
                "set it with gdf.set_crs(...) to the CRS its coordinates are in",
            )
        missing = [c for c in LAYER_COLUMNS[name] if c not in frame.columns]
        if missing:
            problems.append(f"layer {name!r} lacks column(s) {missing}")
            continue
        frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
        out[name] = frame.to_crs("EPSG:4326")
    if problems:
        raise InputDataError(
            None,
            "; ".join(problems),
            "pass the layers named in maps.plan_map.LAYER_COLUMNS, "
            "each a GeoDataFrame with the columns listed there",
        )
    return out


def _collection(
    frame: gpd.GeoDataFrame,
    name: str,
    lang: str,
    style: Callable[[pd.Series], dict[str, Any]],
    title: Callable[[pd.Series], object] | None = None,
) -> dict[str, Any]:
    """Build a GeoJSON FeatureCollection with pre-formatted popup text and per-feature style.

    Coordinates are rounded to 6 decimals (0.1 m): the digits below add a fifth to the page.
    """
    rows = [(col, key) for col, key in _POPUP_ROWS.get(name, ()) if col in frame.columns]
    features: list[dict[str, Any]] = []
    shapes = round_coordinates(frame.geometry.to_numpy())
    for (_, row), shape in zip(frame.iterrows(), shapes, strict=True):
        props: dict[str, Any] = {
            col: _text(row[col], lang, percent=col in _PERCENT_COLUMNS) for col, _ in rows
        }
        props["_title"] = _text(title(row), lang) if title else None
        props["style"] = style(row)
        features.append({"type": "Feature", "id": len(features),
                         "geometry": mapping(shape), "properties": props})
    return {"type": "FeatureCollection", "features": features}


def _feature_style(feature: dict[str, Any]) -> dict[str, Any]:
    """Return the style (for symbols: the ``DivIcon`` options) stored in a feature's properties."""
    return feature["properties"]["style"]


def _community_names(frames: dict[str, gpd.GeoDataFrame]) -> dict[object, str]:
    if "communities" in frames:
        table = frames["communities"][["community", "name"]]
    elif "demand" in frames:
        table = frames["demand"][["community", "community_name"]]
    else:
        return {}
    names: dict[object, str] = {}
    for community, name in table.itertuples(index=False):
        if not is_missing(community):
            names.setdefault(community, str(community) if is_missing(name) else str(name))
    return names


def _summary(frames: dict[str, gpd.GeoDataFrame], lang: str) -> list[LegendItem]:
    items: list[LegendItem] = []
    if "lockers" in frames:
        lockers = frames["lockers"]
        existing = int(lockers["existing"].map(lambda v: not is_missing(v) and bool(v)).sum())
        items.append(
            LegendItem(
                f"{label('summary.lockers', lang)}: {len(lockers)} "
                f"({label('value.new', lang)} {len(lockers) - existing}, "
                f"{label('value.existing', lang)} {existing})"
            )
        )
        compartments = pd.to_numeric(lockers["compartments"], errors="coerce").sum()
        items.append(LegendItem(f"{label('summary.compartments', lang)}: {int(compartments):,}"))
    if "demand" in frames:
        demand = frames["demand"]
        parcels = pd.to_numeric(demand["daily_parcels"], errors="coerce").fillna(0.0)
        covered = demand["locker_id"].map(lambda v: _text(v, lang) is not None)
        share = parcels[covered].sum() / parcels.sum() if parcels.sum() > 0 else float("nan")
        items.append(LegendItem(f"{label('summary.demand', lang)}: {len(demand):,}"))
        if not math.isnan(share):
            items.append(LegendItem(f"{label('summary.covered', lang)}: {share:.1%}"))
    if "uncovered" in frames:
        items.append(LegendItem(f"{label('summary.uncovered', lang)}: {len(frames['uncovered'])}"))
    return items


def plan_map(
    layers: Mapping[str, gpd.GeoDataFrame | None],
    *,
    title: str,
    lang: str = "zh",
    offline: bool = True,
    rules: Mapping[str, object] | None = None,
    basemap: str | None = "osm",
    tianditu_key: str | None = None,
    heat_size_m: float | None = 120.0,
    widgets: bool = True,
    max_legend_communities: int = 10,
    tiles: str | None = _UNSET,
    base_features: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Draw a locker plan on a Leaflet map.

    Parameters
    ----------
    layers
        Layer name -> GeoDataFrame in any CRS, with the columns of :data:`LAYER_COLUMNS`:
        ``boundary``, ``communities``, ``catchments`` (a walking-catchment polygon per site,
        ``site_id`` and optionally ``name``, ``kind``, ``radius_m``, ``area_m2``), ``demand``,
        ``candidates``, ``lockers``, ``assignments``, ``uncovered``, and ``heat`` (hexagons,
        normally derived from ``uncovered``), and the hierarchy tiers of
        :func:`siting.tiers.run_tiers` (``stations``, ``cargo_stations``,
        ``village_stations``, ``township_stations``, ``hubs``, each with its own symbol and
        legend row, and ``hub_links``). Any layer may be missing, ``None`` or empty.
    title
        Plain-text title of the map and the page (escaped).
    lang
        Language of labels, legend and layer names: {"zh", "en"}.
    offline
        Embed Leaflet and its images in the page (no CDN request). With ``False`` the map keeps
        folium's CDN links and is smaller.
    rules
        Plan rules to list in the legend, for example ``{"R2": "compartments 1.0-1.3 x daily
        parcels"}``; keys and values are shown as escaped text.
    basemap
        {"osm", "gaode", "tianditu", "none"} (``None`` = "none"). Tiles are fetched from the
        network and may be missing offline. On "gaode" every layer is shifted from WGS84 to
        GCJ-02 so that it lands on Gaode's streets.
    tianditu_key
        Tianditu key (``tk``) for ``basemap="tianditu"``; ``None`` reads the environment
        variable ``TIANDITU_KEY``.
    heat_size_m
        Circumradius in metres of the hexagons binning uncovered daily parcels into the
        ``heat`` layer; ``None`` draws no heat layer.
    widgets
        Add the measure, fullscreen and search controls.
    max_legend_communities
        How many communities the legend lists by colour.
    tiles
        Older spelling of ``basemap`` (``"OpenStreetMap"`` or ``None``); overrides it if given.
    base_features
        The extract's streets, buildings, water and green
        (:func:`geodata.basemap.basemap_features`), drawn as a light offline basemap under the
        plan (:mod:`maps.basemap_layer`): the base layer shown when ``basemap`` is "none", a
        choice in the layer control and the fallback when the tiles fail otherwise. ``None``
        draws none.

    Returns
    -------
    folium.Map
        The map; write it with :func:`save_map`.

    Raises
    ------
    ParameterError
        If ``lang``, ``basemap`` or ``max_legend_communities`` is out of range, or Tianditu
        is chosen without a key.
    CRSError
        If a layer has no CRS.
    InputDataError
        If a layer name is unknown, a layer is not a GeoDataFrame or lacks a column.
    """
    start = time.perf_counter()
    check_lang(lang)
    if max_legend_communities < 0:
        raise ParameterError(
            f"max_legend_communities={max_legend_communities} is negative. Fix: pass 0 or more"
        )
    chosen = check_basemap(basemap if tiles is _UNSET else tiles)
    frames = _prepare(layers)
    uncovered = frames.get("uncovered")
    if lang == "zh" and uncovered is not None and "reason_zh" in uncovered.columns:
        zh = uncovered["reason_zh"].fillna("").astype(str)
        frames["uncovered"] = uncovered.assign(reason=zh.where(zh != "", uncovered["reason"]))
    if heat_size_m is not None and "uncovered" in frames and "heat" not in frames:
        weight = "daily_parcels" if "daily_parcels" in frames["uncovered"].columns else None
        frames["heat"] = hex_bins(frames["uncovered"], size_m=heat_size_m, weight=weight)
        frames = {name: frames[name] for name in LAYER_COLUMNS if name in frames}
    frames = shift_for_basemap(frames, chosen)
    fmap = folium.Map(tiles=None, zoom_start=15, zoom_snap=0.25)
    if offline:
        make_offline(fmap)
    root = fmap.get_root()
    if isinstance(root, Figure):
        root.title = html.escape(title)
    MapStyle().add_to(fmap)
    add_basemap(fmap, chosen, lang=lang, key=tianditu_key)
    if base_features is not None and len(base_features):
        base = shift_for_basemap({"base": base_features.to_crs("EPSG:4326")}, chosen)["base"]
        add_offline_basemap(fmap, base, name=label("basemap.offline", lang), tiles=chosen != "none")
    Attribution().add_to(fmap)
    MetricScale().add_to(fmap)

    legend: list[LegendItem] = []
    searchable: list[str] = []
    for name, frame in frames.items():
        spec = LAYER_SPECS[name](frame, lang)
        data = _collection(spec.frame, name, lang, spec.style, spec.title)
        if spec.symbol:
            layer = folium.GeoJson(
                data, name=label(f"layer.{name}", lang), show=spec.show,
                marker=folium.Marker(icon=folium.DivIcon(class_name="ps-symbol")),
                style_function=_feature_style,
            )
        else:
            marker = (None if spec.radius is None
                      else folium.CircleMarker(radius=spec.radius, fill=True))
            layer = folium.GeoJson(
                data, name=label(f"layer.{name}", lang), show=spec.show, marker=marker
            )
        if name in _POPUP_ROWS:
            layer.add_child(SafePopup([(col, label(key, lang)) for col, key in _POPUP_ROWS[name]]))
        layer.add_to(fmap)
        legend.extend(spec.legend)
        if name in SEARCHED_LAYERS:
            searchable.append(layer.get_name())

    names = _community_names(frames)
    shown = list(names.items())[:max_legend_communities]
    community_items = [
        LegendItem(str(n), "circle", community_colour(c), community_colour(c)) for c, n in shown
    ]
    if len(names) > len(shown):
        community_items.append(LegendItem(label("legend.more", lang, n=len(names) - len(shown))))
    rule_items = [LegendItem(f"{key}: {value}") for key, value in (rules or {}).items()]
    if chosen == "gaode":
        rule_items.append(LegendItem(label("note.gcj02", lang)))
    sections = [
        (label("legend.title", lang), legend),
        (label("legend.communities", lang), community_items),
        (label("legend.summary", lang), _summary(frames, lang)),
        (label("legend.rules", lang), rule_items),
    ]
    HtmlControl(title_html(title), position="topright", css_class="ps-box").add_to(fmap)
    HtmlControl(legend_html(sections), position="bottomleft", css_class="ps-box ps-legend").add_to(
        fmap
    )
    folium.LayerControl(collapsed=False).add_to(fmap)
    if widgets:
        WidgetStyle().add_to(fmap)
        SearchControl(searchable, lang=lang).add_to(fmap)
        MeasureControl(lang=lang).add_to(fmap)
        FullscreenControl(lang=lang).add_to(fmap)

    extent = [frames["boundary"]] if "boundary" in frames else list(frames.values())
    if extent:
        minx, miny, maxx, maxy = pd.concat([f.geometry for f in extent]).total_bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    log.info(
        "plan map: %d layers, %d features, lang=%s, basemap=%s, offline=%s in %.2f s",
        len(frames),
        sum(len(f) for f in frames.values()),
        lang,
        chosen,
        offline,
        time.perf_counter() - start,
    )
    return fmap


def save_map(fmap: folium.Map, path: str | Path) -> Path:
    """Write a map to an HTML file, creating its folder.

    Parameters
    ----------
    fmap
        A map from :func:`plan_map`.
    path
        Target file, usually ``.../map.html``.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OutputError
        If the file or its folder cannot be written.
    """
    start = time.perf_counter()
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(fmap.get_root().render(), encoding="utf-8")
    except OSError as exc:
        raise OutputError(
            f"{target}: cannot write the map ({exc}). Fix: choose a writable output folder"
        ) from exc
    log.info(
        "saved map %s (%d kB) in %.2f s",
        target,
        target.stat().st_size // 1024,
        time.perf_counter() - start,
    )
    return target
