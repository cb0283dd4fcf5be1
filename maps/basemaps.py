"""Basemaps a Chinese planner expects: OpenStreetMap, Gaode (AutoNavi) and Tianditu.

Each basemap is a :class:`Basemap`: tile URL templates, attribution and the datum its tiles are
drawn in. Gaode tiles are in GCJ-02 (the shifted datum of Chinese web maps), so a map drawn on
them must shift every WGS84 geometry to GCJ-02 first (:func:`shift_for_basemap`); OSM and
Tianditu (CGCS2000, which agrees with WGS84 to well under a metre) need no shift.

Tianditu (天地图) serves tiles only with a key (``tk``), free from
https://console.tianditu.gov.cn/. Pass it as ``tianditu_key=`` or set the environment variable
``TIANDITU_KEY``; without one, choosing Tianditu raises :class:`~geodata.errors.ParameterError`.
The key is written into the page's tile URLs, as Tianditu requires; do not publish a map made
with a private key.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import folium
import geopandas as gpd

from geodata.coords import frame_wgs84_to_gcj02
from geodata.errors import ParameterError
from maps.controls import ATTRIBUTION_HTML
from maps.i18n import label

__all__ = [
    "BASEMAPS",
    "TIANDITU_ENV",
    "Basemap",
    "BasemapName",
    "add_basemap",
    "check_basemap",
    "shift_for_basemap",
    "tianditu_key",
]

log = logging.getLogger(__name__)

BasemapName = Literal["osm", "gaode", "tianditu", "none"]

#: Environment variable read for the Tianditu key when none is passed.
TIANDITU_ENV = "TIANDITU_KEY"

# Spellings accepted for each basemap (the ``tiles=`` keyword of older callers included).
_ALIASES: dict[str, str] = {
    "osm": "osm",
    "openstreetmap": "osm",
    "gaode": "gaode",
    "amap": "gaode",
    "autonavi": "gaode",
    "tianditu": "tianditu",
    "tdt": "tianditu",
    "none": "none",
    "": "none",
}


@dataclass(frozen=True)
class Basemap:
    """One basemap.

    Attributes
    ----------
    key
        Short name: {"osm", "gaode", "tianditu", "none"}.
    urls
        Tile URL templates, bottom first (Tianditu has a road layer and a label layer);
        ``{lang}`` is filled with the provider's language code, ``{tk}`` with the key.
    subdomains
        Leaflet ``{s}`` subdomains.
    attribution
        Attribution HTML of the tiles.
    datum
        {"wgs84", "gcj02"}: the datum the tiles are drawn in.
    max_zoom
        Highest zoom the provider serves.
    """

    key: str
    urls: tuple[str, ...]
    subdomains: str
    attribution: str
    datum: Literal["wgs84", "gcj02"]
    max_zoom: int


#: The basemaps a map can use, by key.
BASEMAPS: dict[str, Basemap] = {
    "osm": Basemap(
        "osm",
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
        "abc",
        ATTRIBUTION_HTML,
        "wgs84",
        19,
    ),
    "gaode": Basemap(
        "gaode",
        (
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang={lang}&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
        ),
        "1234",
        '© <a href="https://www.amap.com/">高德地图 AutoNavi</a>',
        "gcj02",
        18,
    ),
    "tianditu": Basemap(
        "tianditu",
        (
            "https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk={tk}",
            "https://t{s}.tianditu.gov.cn/DataServer?T={lang}_w&x={x}&y={y}&l={z}&tk={tk}",
        ),
        "01234567",
        '© <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>',
        "wgs84",
        18,
    ),
}

# Provider language codes: Gaode ``lang=``; Tianditu label layer (cva Chinese, eva English).
_LANG_CODES: dict[str, dict[str, str]] = {
    "gaode": {"zh": "zh_cn", "en": "en"},
    "tianditu": {"zh": "cva", "en": "eva"},
    "osm": {"zh": "", "en": ""},
}


def check_basemap(name: str | None) -> BasemapName:
    """Return the key of a basemap from any accepted spelling.

    Parameters
    ----------
    name
        {"osm", "gaode", "tianditu", "none"} (case-insensitive; also "OpenStreetMap",
        "amap", "autonavi", "tdt"), or ``None`` for no basemap.

    Returns
    -------
    BasemapName
        The key.

    Raises
    ------
    ParameterError
        If the name is not a known basemap.
    """
    key = _ALIASES.get("none" if name is None else str(name).strip().lower())
    if key is None:
        raise ParameterError(
            f"basemap={name!r} is not a basemap. Fix: pass one of osm, gaode, tianditu, none"
        )
    return key  # type: ignore[return-value]


def tianditu_key(key: str | None = None) -> str:
    """Return the Tianditu key: ``key`` if given, else the ``TIANDITU_KEY`` environment variable.

    Parameters
    ----------
    key
        A key passed by the caller.

    Returns
    -------
    str
        The key, stripped.

    Raises
    ------
    ParameterError
        If neither gives a key.
    """
    found = (key or os.environ.get(TIANDITU_ENV, "")).strip()
    if not found:
        raise ParameterError(
            "basemap 'tianditu' needs a Tianditu key (tk) and none was given. Fix: get a free "
            f"key at https://console.tianditu.gov.cn/ and pass tianditu_key=... or set "
            f"{TIANDITU_ENV}, or choose basemap 'osm' or 'gaode'"
        )
    return found


def add_basemap(
    fmap: folium.Map,
    name: str | None,
    *,
    lang: str,
    key: str | None = None,
) -> Basemap | None:
    """Add the tile layers of a basemap to a map.

    Parameters
    ----------
    fmap
        The map.
    name
        A basemap (see :func:`check_basemap`).
    lang
        {"zh", "en"}: language of the layer name and, where the provider has it, of the tiles.
    key
        Tianditu key; ``None`` reads ``TIANDITU_KEY``.

    Returns
    -------
    Basemap or None
        The basemap added, ``None`` for "none".

    Raises
    ------
    ParameterError
        If the name is unknown, or Tianditu is chosen without a key.
    """
    chosen = check_basemap(name)
    if chosen == "none":
        return None
    base = BASEMAPS[chosen]
    fill = {"lang": _LANG_CODES[chosen][lang]}
    if chosen == "tianditu":
        fill["tk"] = tianditu_key(key)
    for i, url in enumerate(base.urls):
        for field, value in fill.items():
            url = url.replace("{" + field + "}", value)
        folium.TileLayer(
            url,
            attr=base.attribution,
            name=label(f"basemap.{chosen}", lang) if i == 0 else label("basemap.labels", lang),
            subdomains=base.subdomains,
            max_zoom=base.max_zoom,
            max_native_zoom=base.max_zoom,
            overlay=i > 0,
            control=i == 0,
        ).add_to(fmap)
    log.debug("basemap %s (%s tiles)", chosen, base.datum)
    return base


def shift_for_basemap(
    frames: Mapping[str, gpd.GeoDataFrame], name: str | None
) -> dict[str, gpd.GeoDataFrame]:
    """Shift WGS84 layers to the datum of a basemap's tiles.

    On Gaode (GCJ-02 tiles) every geometry is moved by the GCJ-02 offset (about 250 m in
    Chengdu), so it lands on the right street of the tiles; on the other basemaps the frames
    are returned unchanged.

    Parameters
    ----------
    frames
        Layer name -> GeoDataFrame in EPSG:4326 (WGS84).
    name
        A basemap (see :func:`check_basemap`).

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        The layers to draw on that basemap.

    Raises
    ------
    ParameterError
        If the name is unknown or a frame is in a projected CRS.
    """
    chosen = check_basemap(name)
    if chosen == "none" or BASEMAPS[chosen].datum == "wgs84":
        return dict(frames)
    return {layer: frame_wgs84_to_gcj02(frame) for layer, frame in frames.items()}
