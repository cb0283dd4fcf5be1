"""The offline basemap: the extract's streets, buildings, water and green as one light base layer.

A plan map opened without network gets no tiles. This layer draws the basemap features of
the extract (:func:`geodata.basemap.basemap_features`) in light colours under the plan, so a
planner still sees on which street and in which building a locker stands:

- it is one Leaflet base layer, listed in the layer control next to the tile basemap; with no
  tile basemap it is the one shown, and with one it takes over by itself when the tiles cannot
  be loaded (the first tile fails before any has loaded: no network, or the service is down);
- it draws on one ``<canvas>`` in a pane of its own between the tiles and the plan's layers,
  so every overlay stays above it and its thousands of features add no SVG elements;
- it is small: geometries are simplified (0.5 m), their coordinates rounded to 6 decimals
  (0.1 m) and merged into one multi-geometry per kind, written as compact JSON;
- it carries the ODbL attribution of the OpenStreetMap data it is drawn from.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from folium.map import Layer
from jinja2 import Template
from shapely import GeometryType

from geodata.basemap import BASEMAP_KINDS
from maps.controls import ATTRIBUTION_HTML

__all__ = [
    "BASEMAP_PANE",
    "BASEMAP_STYLES",
    "COORD_DECIMALS",
    "OfflineBasemap",
    "TileFallback",
    "basemap_collection",
    "round_coordinates",
]

log = logging.getLogger(__name__)

#: The Leaflet pane of the offline basemap: above the tiles (200), below the overlays (400).
BASEMAP_PANE = "psBasemap"

#: Leaflet path style of each kind: light, so the plan reads clearly on top.
BASEMAP_STYLES: dict[str, dict[str, Any]] = {
    "land": {"stroke": False, "fillColor": "#f4f1ec", "fillOpacity": 1.0},
    "green": {"stroke": False, "fillColor": "#d6e9c6", "fillOpacity": 1.0},
    "water": {"stroke": False, "fillColor": "#b5d3ec", "fillOpacity": 1.0},
    "waterway": {"color": "#9cc3e4", "weight": 2, "fill": False},
    "building": {"color": "#c8beb2", "weight": 0.6, "fillColor": "#dfd7cd", "fillOpacity": 1.0},
    "street_path": {"color": "#cfc7bb", "weight": 1, "fill": False},
    "street_minor": {"color": "#ffffff", "weight": 3, "fill": False},
    "street_medium": {"color": "#fdf1d2", "weight": 4, "fill": False},
    "street_major": {"color": "#f7d592", "weight": 5, "fill": False},
}


#: Decimals kept of longitudes and latitudes written into a map: 6 is 0.1 m.
COORD_DECIMALS = 6


def round_coordinates(geoms: np.ndarray, decimals: int = COORD_DECIMALS) -> np.ndarray:
    """Round every coordinate of some geometries, so the page holds no digits below 0.1 m.

    Parameters
    ----------
    geoms
        An array of shapely geometries.
    decimals
        Decimals kept.

    Returns
    -------
    numpy.ndarray
        The geometries with rounded coordinates (``decimals=6``: a 17-digit longitude becomes
        10 characters; the shift is at most 0.06 m).
    """
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def _merged(geoms: np.ndarray, polygonal: bool) -> shapely.Geometry:
    parts = shapely.get_parts(geoms)
    parts = parts[~shapely.is_empty(parts)]
    if polygonal:
        return shapely.multipolygons(parts[shapely.get_type_id(parts) == GeometryType.POLYGON])
    return shapely.multilinestrings(parts[shapely.get_type_id(parts) == GeometryType.LINESTRING])


def basemap_collection(
    frame: gpd.GeoDataFrame, *, tolerance_m: float = 0.5, decimals: int = COORD_DECIMALS
) -> dict[str, Any]:
    """Turn basemap features into a small GeoJSON FeatureCollection, one feature per kind.

    Parameters
    ----------
    frame
        ``kind`` and geometry (:func:`geodata.basemap.basemap_features`), in any CRS.
    tolerance_m
        Geometries are simplified to this many metres (in the frame's CRS when projected,
        else in its local UTM zone).
    decimals
        Decimals kept of each longitude and latitude (6 is 0.1 m).

    Returns
    -------
    dict
        A FeatureCollection in WGS84, in drawing order, each feature's ``properties`` its
        ``kind``; kinds with nothing to draw are left out.
    """
    if frame.crs is not None and frame.crs.is_geographic:
        frame = frame.to_crs(frame.estimate_utm_crs())
    simple = frame.geometry.simplify(tolerance_m, preserve_topology=True).to_crs("EPSG:4326")
    features = []
    for kind in BASEMAP_KINDS:
        geoms = simple[(frame["kind"] == kind).to_numpy()].to_numpy()
        if not len(geoms):
            continue
        polygonal = "fillColor" in BASEMAP_STYLES[kind]
        shape = round_coordinates(np.array([_merged(geoms, polygonal)]), decimals)[0]
        if shape.is_empty:
            continue
        features.append({"type": "Feature", "properties": {"kind": kind},
                         "geometry": shapely.geometry.mapping(shape)})
    return {"type": "FeatureCollection", "features": features}


class OfflineBasemap(Layer):
    """A base layer drawing the extract's own streets, buildings, water and green on a canvas.

    Parameters
    ----------
    data
        From :func:`basemap_collection`.
    name
        Name in the layer control.
    show
        Whether it is the base layer shown when the map opens.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function (map, name) {
            var pane = map.getPane(name) || map.createPane(name);
            pane.style.zIndex = 250;
            pane.style.pointerEvents = "none";
            var styles = {{ this.styles|tojson }};
            return L.geoJson({{ this.data_json }}, {
                pane: name,
                renderer: L.canvas({pane: name, padding: 0.5}),
                interactive: false,
                attribution: {{ this.attribution|tojson }},
                style: function (feature) { return styles[feature.properties.kind]; }
            });
        })({{ this._parent.get_name() }}, {{ this.pane|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any], *, name: str, show: bool) -> None:
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "OfflineBasemap"
        self.pane = BASEMAP_PANE
        self.styles = BASEMAP_STYLES
        self.attribution = ATTRIBUTION_HTML
        # Compact JSON of coordinates and kind names only; "<" cannot occur, but never let
        # the data close the script element.
        self.data_json = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")


class TileFallback(MacroElement):
    """Show the offline basemap instead of the tiles when the first tile fails to load.

    Every tile layer of the map is removed (so no more requests fail) and the offline basemap
    added; the layer control follows. A tile service that has served one tile is never dropped.

    Parameters
    ----------
    basemap
        The offline basemap layer, already added to the map's children.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, base) {
            var loaded = false, swapped = false, tiles = [];
            map.eachLayer(function (l) { if (l instanceof L.TileLayer) { tiles.push(l); } });
            tiles.forEach(function (t) {
                t.on("tileload", function () { loaded = true; });
                t.on("tileerror", function () {
                    if (loaded || swapped) { return; }
                    swapped = true;
                    tiles.forEach(function (u) { map.removeLayer(u); });
                    map.addLayer(base);
                });
            });
        })({{ this._parent.get_name() }}, {{ this.basemap.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, basemap: OfflineBasemap) -> None:
        super().__init__()
        self._name = "TileFallback"
        self.basemap = basemap


def add_offline_basemap(
    fmap: folium.Map, frame: gpd.GeoDataFrame, *, name: str, tiles: bool
) -> OfflineBasemap:
    """Add the offline basemap to a map, after its tile layers.

    Parameters
    ----------
    fmap
        The map, its tile layers (if any) already added.
    frame
        Basemap features in the datum of the map's other layers.
    name
        Name in the layer control.
    tiles
        Whether the map has a tile basemap: the offline one is then a choice in the layer
        control and the fallback when the tiles fail; otherwise it is shown from the start.

    Returns
    -------
    OfflineBasemap
        The layer added.
    """
    data = basemap_collection(frame)
    layer = OfflineBasemap(data, name=name, show=not tiles)
    layer.add_to(fmap)
    if tiles:
        TileFallback(layer).add_to(fmap)
    log.debug("offline basemap: %d kinds, %d bytes", len(data["features"]), len(layer.data_json))
    return layer
