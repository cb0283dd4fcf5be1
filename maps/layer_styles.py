"""How each layer of the plan map looks: colours, circle sizes, legend rows.

Each layer name maps to a function that returns a :class:`LayerSpec`: the rows to draw (sorted
when order matters), the Leaflet style of each feature, its popup title and its legend rows.
Colours are fixed per community id (CRC-32 into a 12-colour palette), so the same community has
the same colour on every map.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from maps.controls import LegendItem
from maps.hexbins import HEAT_COLOURS, heat_breaks
from maps.i18n import label
from maps.symbols import symbol_icon
from optimizer.rules import R2_RATIO

__all__ = [
    "LAYER_SPECS",
    "RATIO_COLOURS",
    "RATIO_RANGE",
    "LayerSpec",
    "TIER_SYMBOLS",
    "community_colour",
    "community_ratio",
    "is_missing",
    "locker_radius",
    "ratio_class",
]

# Colour-blind-friendly, distinct on a light basemap (Okabe-Ito and Tableau hues).
_PALETTE = (
    "#1b9e77",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#a6761d",
    "#1f78b4",
    "#b15928",
    "#6a3d9a",
    "#33a02c",
    "#d95f02",
    "#17becf",
    "#8c564b",
)
_NEW, _EXISTING, _UNCOVERED, _GREY = "#e6550d", "#08519c", "#d7191c", "#8c8c8c"
_CATCHMENT = "#d94801"

#: Compartments per daily parcel that a community must have: rule R2 (004 五(二)), 1.0-1.3.
RATIO_RANGE: tuple[float, float] = R2_RATIO

#: Fill of a community by its ratio class.
RATIO_COLOURS: dict[str, str] = {
    "below": "#de2d26",
    "within": "#31a354",
    "above": "#3182bd",
    "none": "#bdbdbd",
}


def community_colour(community: object) -> str:
    """Return the colour of a community, the same in every run and on every map.

    Parameters
    ----------
    community
        A community id (its ``str()`` is hashed with CRC-32).

    Returns
    -------
    str
        A CSS hex colour from a 12-colour palette.
    """
    return _PALETTE[zlib.crc32(str(community).encode("utf-8")) % len(_PALETTE)]


def is_missing(value: object) -> bool:
    """Return whether a cell is empty (``None``, ``NA``, ``NaT`` or NaN).

    Parameters
    ----------
    value
        A cell of a data frame.

    Returns
    -------
    bool
        ``True`` for an empty cell.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def locker_radius(compartments: object) -> float:
    """Return the radius in pixels of a locker's circle; its area grows with compartments.

    Parameters
    ----------
    compartments
        Number of compartments (empty counts as 0).

    Returns
    -------
    float
        4 px plus 0.5 px per square root of a compartment, at most 22 px (60 -> 7.9,
        600 -> 16.2).
    """
    value = 0.0 if is_missing(compartments) else float(compartments)  # type: ignore[arg-type]
    return round(min(22.0, 4.0 + 0.5 * math.sqrt(max(value, 0.0))), 1)


@dataclass(frozen=True)
class LayerSpec:
    """How one layer is drawn.

    Attributes
    ----------
    frame
        The rows to draw, in drawing order (later rows on top).
    style
        Row -> Leaflet path options (``color``, ``fillColor``, ``radius`` ...).
    legend
        Legend rows for the layer.
    title
        Row -> popup title, or ``None`` for no title.
    radius
        Default circle radius for point features; ``None`` for lines and areas.
    show
        Whether the layer is on when the map opens.
    symbol
        Points are drawn as tier symbols (:mod:`maps.symbols`): ``style`` returns the
        ``DivIcon`` options of each row instead of path options.
    """

    frame: gpd.GeoDataFrame
    style: Callable[[pd.Series], dict[str, Any]]
    legend: tuple[LegendItem, ...]
    title: Callable[[pd.Series], object] | None = None
    radius: float | None = None  # points are circle markers of this default radius
    show: bool = True
    symbol: bool = False  # points are DivIcons whose options ``style`` returns


def _name_or_id(row: pd.Series) -> object:
    return row["site_id"] if is_missing(row["name"]) else row["name"]


def _boundary(frame: gpd.GeoDataFrame, lang: str) -> LayerSpec:
    style = {"color": "#222222", "weight": 2.5, "fill": False, "dashArray": "6 4"}
    return LayerSpec(
        frame, lambda r: style, (LegendItem(label("layer.boundary", lang), "area", "#222222"),)
    )


def community_ratio(frame: pd.DataFrame) -> pd.Series | None:
    """Return each community's compartments per daily parcel, if the frame has the figures.

    Parameters
    ----------
    frame
        The communities layer: a ``ratio`` column, or ``compartments`` and ``daily_parcels``.

    Returns
    -------
    pandas.Series or None
        The ratio (NaN where no parcel is served), or ``None`` if the columns are absent.
    """
    if "ratio" in frame.columns:
        return pd.to_numeric(frame["ratio"], errors="coerce").astype(float)
    if {"compartments", "daily_parcels"} <= set(frame.columns):
        parcels = pd.to_numeric(frame["daily_parcels"], errors="coerce").astype(float)
        compartments = pd.to_numeric(frame["compartments"], errors="coerce").astype(float)
        return compartments / parcels.where(parcels > 0)
    return None


def ratio_class(ratio: object, *, low: float = RATIO_RANGE[0], high: float = RATIO_RANGE[1]) -> str:
    """Return the class of a community's ratio: {"below", "within", "above", "none"}.

    Parameters
    ----------
    ratio
        Compartments per daily parcel (empty or 0 means no locker serves the community).
    low, high
        The range the rule asks for.

    Returns
    -------
    str
        The class; ratios within 0.5 % of a limit count as within (rounding).
    """
    if is_missing(ratio) or not float(ratio) > 0:  # type: ignore[arg-type]
        return "none"
    value = float(ratio)  # type: ignore[arg-type]
    if value < low * 0.995:
        return "below"
    if value > high * 1.005:
        return "above"
    return "within"


def _communities(frame: gpd.GeoDataFrame, lang: str) -> LayerSpec:
    ratio = community_ratio(frame)
    if ratio is None:

        def style(row: pd.Series) -> dict[str, Any]:
            colour = community_colour(row["community"])
            return {"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.10}

        fill = "rgba(102,102,102,.15)"
        item = LegendItem(label("layer.communities", lang), "area", "#666666", fill)
        return LayerSpec(frame, style, (item,), title=lambda r: r["name"])

    frame = frame.assign(ratio=ratio.round(3).to_numpy(), _class=ratio.map(ratio_class).to_numpy())

    def choropleth(row: pd.Series) -> dict[str, Any]:
        return {
            "color": community_colour(row["community"]),
            "weight": 1.5,
            "fillColor": RATIO_COLOURS[row["_class"]],
            "fillOpacity": 0.35,
        }

    low, high = (f"{v:g}" for v in RATIO_RANGE)
    items = [LegendItem(label("legend.ratio", lang))]
    for key in ("below", "within", "above", "none"):
        text = label(f"legend.ratio_{key}", lang, low=low, high=high)
        items.append(LegendItem(text, "area", "#666666", RATIO_COLOURS[key]))
    return LayerSpec(frame, choropleth, tuple(items), title=lambda r: r["name"])


def _catchments(frame: gpd.GeoDataFrame, lang: str) -> LayerSpec:
    style = {
        "color": _CATCHMENT,
        "weight": 1.2,
        "dashArray": "4 3",
        "fillColor": _CATCHMENT,
        "fillOpacity": 0.06,
    }
    title = _name_or_id if "name" in frame.columns else (lambda r: r["site_id"])
    item = LegendItem(label("legend.catchment", lang), "area", _CATCHMENT, "rgba(217,72,1,.1)")
    return LayerSpec(frame, lambda r: style, (item,), title=title)


def _heat(frame: gpd.GeoDataFrame, lang: str) -> LayerSpec:
    limits = heat_breaks(frame["weight"])
    colours = HEAT_COLOURS[len(HEAT_COLOURS) - len(limits) :]

    def colour(value: float) -> str:
        for limit, hue in zip(limits, colours, strict=True):
            if value <= limit:
                return hue
        return colours[-1]

    def style(row: pd.Series) -> dict[str, Any]:
        return {
            "color": "#99000d",
            "weight": 0.5,
            "fillColor": colour(float(row["weight"])),
            "fillOpacity": 0.65,
        }

    items = [LegendItem(label("legend.heat", lang))]
    for limit, hue in zip(limits, colours, strict=True):
        text = label("legend.heat_class", lang, limit=f"{float(f'{limit:.3g}'):,g}")
        items.append(LegendItem(text, "area", "#99000d", hue))
    return LayerSpec(frame, style, tuple(items))


def _assignments(frame: gpd.GeoDataFrame, lang: str) -> LayerSpec:
    style = {"color": "#555555", "weight": 1, "opacity": 0.55}
    return LayerSpec(
        frame, lambda r: style, (LegendItem(label("layer.assignments", lang), "line", "#555555"),)
    )


def _candidates(frame: gpd.GeoDataFrame, lang: str) -> LayerSpec:
    style = {"color": _GREY, "weight": 0.5, "fillColor": _GREY, "fillOpacity": 0.7, "radius": 2.5}
    item = LegendItem(label("layer.candidates", lang), "circle", _GREY, _GREY)
    return LayerSpec(frame, lambda r: style, (item,), title=_name_or_id, radius=2.5, show=False)


def _demand(frame: gpd.GeoDataFrame, lang: str) -> LayerSpec:
    def style(row: pd.Series) -> dict[str, Any]:
        colour = community_colour(row["community"])
        return {
            "color": colour,
            "weight": 0.8,
            "radius": 3,
            "fillColor": colour,
            "fillOpacity": 0.75,
        }

    item = LegendItem(label("layer.demand", lang), "circle", "#666666", "#999999")
    return LayerSpec(frame, style, (item,), title=lambda r: r["demand_id"], radius=3)


def _uncovered(frame: gpd.GeoDataFrame, lang: str) -> LayerSpec:
    style = {
        "color": _UNCOVERED,
        "weight": 2.5,
        "fillColor": _UNCOVERED,
        "fillOpacity": 0.35,
        "radius": 6,
    }
    item = LegendItem(label("layer.uncovered", lang), "circle", _UNCOVERED, "rgba(215,25,28,.35)")
    return LayerSpec(frame, lambda r: style, (item,), title=lambda r: r["demand_id"], radius=6)


def _lockers(frame: gpd.GeoDataFrame, lang: str) -> LayerSpec:
    existing = frame["existing"].map(lambda v: not is_missing(v) and bool(v))
    frame = frame.assign(
        status=existing.map(lambda e: label("value.existing" if e else "value.new", lang)),
        _fill=existing.map(lambda e: _EXISTING if e else _NEW),
        _radius=frame["compartments"].map(locker_radius),
    ).sort_values("_radius", ascending=False, kind="stable")  # small circles on top

    def style(row: pd.Series) -> dict[str, Any]:
        return {
            "color": "#ffffff",
            "weight": 1.5,
            "radius": row["_radius"],
            "fillColor": row["_fill"],
            "fillOpacity": 0.9,
        }

    items = (
        LegendItem(label("legend.locker_new", lang), "circle", "#ffffff", _NEW),
        LegendItem(label("legend.locker_existing", lang), "circle", "#ffffff", _EXISTING),
    )
    return LayerSpec(frame, style, items, title=_name_or_id, radius=8)


#: Symbol of each hierarchy tier: (shape, stroke, fill, size in px); larger tiers draw larger.
TIER_SYMBOLS: dict[str, tuple[str, str, str, float]] = {
    "stations": ("square", "#00441b", "#41ab5d", 16.0),
    "cargo_stations": ("diamond", "#3f007d", "#9e9ac8", 17.0),
    "village_stations": ("triangle", "#01665e", "#35978f", 16.0),
    "township_stations": ("pentagon", "#67000d", "#fb6a4a", 20.0),
    "hubs": ("hexagon", "#000000", "#525252", 26.0),
}
_HUB_AUTO = "#ffd700"


def _tier(name: str, legend_key: str) -> Callable[[gpd.GeoDataFrame, str], LayerSpec]:
    shape, stroke, fill, size = TIER_SYMBOLS[name]
    icon = symbol_icon(shape, stroke, fill, size)

    def spec(frame: gpd.GeoDataFrame, lang: str) -> LayerSpec:
        item = LegendItem(label(legend_key, lang), shape, stroke, fill)
        return LayerSpec(frame, lambda r: icon, (item,), title=lambda r: r["name"], symbol=True)

    return spec


def _hubs(frame: gpd.GeoDataFrame, lang: str) -> LayerSpec:
    shape, stroke, fill, size = TIER_SYMBOLS["hubs"]
    auto = frame["automatic_sorting"].map(lambda v: not is_missing(v) and bool(v))
    icons = {False: symbol_icon(shape, stroke, fill, size),
             True: symbol_icon(shape, stroke, _HUB_AUTO, size)}
    items = (
        LegendItem(label("legend.hub", lang), shape, stroke, fill),
        LegendItem(label("legend.hub_auto", lang), shape, stroke, _HUB_AUTO),
    )
    return LayerSpec(frame.assign(_auto=auto.to_numpy()), lambda r: icons[bool(r["_auto"])],
                     items, title=lambda r: r["name"], symbol=True)


def _hub_links(frame: gpd.GeoDataFrame, lang: str) -> LayerSpec:
    style = {"color": "#252525", "weight": 2, "opacity": 0.6, "dashArray": "8 4"}
    item = LegendItem(label("legend.hub_link", lang), "line", "#252525")
    return LayerSpec(frame, lambda r: style, (item,))


LAYER_SPECS: dict[str, Callable[[gpd.GeoDataFrame, str], LayerSpec]] = {
    "boundary": _boundary,
    "communities": _communities,
    "heat": _heat,
    "catchments": _catchments,
    "assignments": _assignments,
    "candidates": _candidates,
    "demand": _demand,
    "uncovered": _uncovered,
    "lockers": _lockers,
    "hub_links": _hub_links,
    "stations": _tier("stations", "legend.station"),
    "cargo_stations": _tier("cargo_stations", "legend.cargo_station"),
    "village_stations": _tier("village_stations", "legend.village_station"),
    "township_stations": _tier("township_stations", "legend.township_station"),
    "hubs": _hubs,
}
