"""Small Leaflet controls written for the plan map: measure, fullscreen, search.

Each is a few dozen lines of plain JavaScript on Leaflet's own API (``L.Control``,
``L.DomUtil``, ``map.distance``), so an offline map needs nothing beyond Leaflet. Text found in
the data (site names and ids) is only ever written with ``textContent``.
"""

from __future__ import annotations

from collections.abc import Sequence

from branca.element import MacroElement
from jinja2 import Template

from maps.i18n import label

__all__ = [
    "FullscreenControl",
    "MeasureControl",
    "SearchControl",
    "WIDGET_CSS",
    "WidgetStyle",
]

#: CSS of the three controls (added once per map by :class:`WidgetStyle`).
WIDGET_CSS = """
.ps-tool { background: #fff; border-radius: 4px; box-shadow: 0 1px 5px rgba(0,0,0,0.4); }
.ps-tool button { display: block; min-width: 30px; height: 30px; padding: 0 7px; border: 0;
  background: #fff; cursor: pointer; font: 13px/30px Arial, "PingFang SC", "Microsoft YaHei",
  sans-serif; color: #222; border-radius: 4px; }
.ps-tool button:hover { background: #f4f4f4; }
.ps-tool button.ps-on { background: #ffe8cc; }
.ps-measure-out { padding: 0 8px 4px; font: 12px Arial, sans-serif; white-space: nowrap; }
.ps-search input { width: 190px; height: 28px; border: 0; padding: 0 8px; border-radius: 4px;
  font: 13px Arial, "PingFang SC", "Microsoft YaHei", sans-serif; }
.ps-search ul { list-style: none; margin: 0; padding: 0; max-height: 240px; overflow-y: auto; }
.ps-search li { padding: 3px 8px; cursor: pointer; font: 12px Arial, "PingFang SC",
  "Microsoft YaHei", sans-serif; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; max-width: 260px; }
.ps-search li:hover, .ps-search li.ps-active { background: #ffe8cc; }
.ps-fullscreen { position: fixed !important; left: 0; top: 0; width: 100vw !important;
  height: 100vh !important; z-index: 10000; }
"""


class WidgetStyle(MacroElement):
    """The CSS of the widgets (add once per map)."""

    _template = Template(
        "{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}"
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "WidgetStyle"
        self.css = WIDGET_CSS


class MeasureControl(MacroElement):
    """Measure a walking line: switch it on, click points, read the length; switch off to clear.

    Parameters
    ----------
    lang
        {"zh", "en"}: language of the button and readout.
    position
        Corner of the map.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, text) {
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function () {
                var box = L.DomUtil.create("div", "ps-tool ps-measure leaflet-bar");
                var button = L.DomUtil.create("button", "", box);
                var out = L.DomUtil.create("div", "ps-measure-out", box);
                button.type = "button"; button.textContent = text.button;
                button.title = text.hint;
                out.style.display = "none";
                var on = false, points = [], line = null, dots = L.layerGroup();
                function length() {
                    var total = 0;
                    for (var i = 1; i < points.length; i++) {
                        total += map.distance(points[i - 1], points[i]);
                    }
                    return total;
                }
                function show() {
                    var m = length();
                    out.textContent = text.distance + ": " + (m < 1000 ?
                        Math.round(m) + " m" : (m / 1000).toFixed(2) + " km");
                }
                function add(e) {
                    points.push(e.latlng);
                    L.circleMarker(e.latlng, {radius: 3, color: "#d94801"}).addTo(dots);
                    if (line) { line.setLatLngs(points); } else {
                        line = L.polyline(points, {color: "#d94801", weight: 3,
                                                   dashArray: "6 4"}).addTo(map);
                    }
                    show();
                }
                function toggle() {
                    on = !on;
                    button.classList.toggle("ps-on", on);
                    out.style.display = on ? "" : "none";
                    map.getContainer().style.cursor = on ? "crosshair" : "";
                    if (on) {
                        map.doubleClickZoom.disable(); dots.addTo(map);
                        map.on("click", add); show();
                    } else {
                        map.doubleClickZoom.enable(); map.off("click", add);
                        if (line) { map.removeLayer(line); line = null; }
                        dots.clearLayers(); map.removeLayer(dots); points = [];
                    }
                }
                L.DomEvent.on(button, "click", function (e) {
                    L.DomEvent.stop(e); toggle();
                });
                L.DomEvent.disableClickPropagation(box);
                control.length = length;
                return box;
            };
            control.addTo(map);
            map.psMeasure = control;
        })({{ this._parent.get_name() }}, {{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, *, lang: str, position: str = "topleft") -> None:
        super().__init__()
        self._name = "MeasureControl"
        self.position = position
        self.text = {
            "button": label("widget.measure", lang),
            "hint": label("widget.measure_hint", lang),
            "distance": label("widget.distance", lang),
        }


class FullscreenControl(MacroElement):
    """Show the map over the whole window (and the whole screen where the browser allows it).

    Parameters
    ----------
    lang
        {"zh", "en"}: language of the button's tooltip.
    position
        Corner of the map.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, text) {
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function () {
                var box = L.DomUtil.create("div", "ps-tool ps-fullscreen-control leaflet-bar");
                var button = L.DomUtil.create("button", "", box);
                button.type = "button"; button.textContent = text.enter;
                button.title = text.enter;
                L.DomEvent.on(button, "click", function (e) {
                    L.DomEvent.stop(e);
                    var page = map.getContainer();
                    var on = !page.classList.contains("ps-fullscreen");
                    page.classList.toggle("ps-fullscreen", on);
                    button.classList.toggle("ps-on", on);
                    button.title = button.textContent = on ? text.exit : text.enter;
                    try {
                        if (on && page.requestFullscreen) {
                            page.requestFullscreen().catch(function () {});
                        } else if (!on && document.fullscreenElement) {
                            document.exitFullscreen().catch(function () {});
                        }
                    } catch (err) { /* the CSS class alone fills the window */ }
                    map.invalidateSize();
                });
                L.DomEvent.disableClickPropagation(box);
                return box;
            };
            control.addTo(map);
        })({{ this._parent.get_name() }}, {{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, *, lang: str, position: str = "topleft") -> None:
        super().__init__()
        self._name = "FullscreenControl"
        self.position = position
        self.text = {
            "enter": label("widget.fullscreen", lang),
            "exit": label("widget.fullscreen_exit", lang),
        }


class SearchControl(MacroElement):
    """Find a feature by site id, demand id or name, zoom to it and open its popup.

    Parameters
    ----------
    layers
        The ``folium.GeoJson`` layers to search, by their JavaScript names (``get_name()``);
        hidden layers are switched on when a match in them is chosen.
    lang
        {"zh", "en"}: language of the placeholder and messages.
    fields
        Feature properties matched (case-insensitive substring).
    position
        Corner of the map.
    max_results
        Length of the result list.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, groups, fields, text, limit) {
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function () {
                var box = L.DomUtil.create("div", "ps-tool ps-search leaflet-bar");
                var input = L.DomUtil.create("input", "", box);
                var list = L.DomUtil.create("ul", "", box);
                input.type = "search"; input.placeholder = text.placeholder;
                input.setAttribute("aria-label", text.placeholder);
                function find(query) {
                    var q = query.trim().toLowerCase(), hits = [];
                    if (!q) { return hits; }
                    groups.forEach(function (group) {
                        group.eachLayer(function (layer) {
                            var p = (layer.feature || {}).properties || {};
                            for (var i = 0; i < fields.length && hits.length < limit; i++) {
                                var v = p[fields[i]];
                                if (v != null && String(v).toLowerCase().indexOf(q) >= 0) {
                                    hits.push({group: group, layer: layer,
                                               text: String(p._title != null ? p._title : v)
                                                     + (p.site_id && p._title !== p.site_id
                                                        ? " (" + p.site_id + ")" : "")});
                                    return;
                                }
                            }
                        });
                    });
                    return hits;
                }
                function go(hit) {
                    if (!map.hasLayer(hit.group)) { map.addLayer(hit.group); }
                    var where = hit.layer.getLatLng ? hit.layer.getLatLng()
                                                    : hit.layer.getBounds().getCenter();
                    if (hit.layer.getLatLng) {
                        map.setView(where, Math.max(map.getZoom(), 17));
                    } else { map.fitBounds(hit.layer.getBounds()); }
                    hit.layer.fire("click", {latlng: where}, true);
                    list.textContent = "";
                }
                var current = [];
                function update() {
                    current = find(input.value);
                    list.textContent = "";
                    if (input.value.trim() && !current.length) {
                        L.DomUtil.create("li", "", list).textContent = text.none;
                    }
                    current.forEach(function (hit, i) {
                        var item = L.DomUtil.create("li", i ? "" : "ps-active", list);
                        item.textContent = hit.text;
                        L.DomEvent.on(item, "click", function () { go(hit); });
                    });
                }
                L.DomEvent.on(input, "input", update);
                L.DomEvent.on(input, "keydown", function (e) {
                    if (e.key === "Enter" && current.length) { go(current[0]); }
                });
                L.DomEvent.disableClickPropagation(box);
                L.DomEvent.disableScrollPropagation(box);
                control.find = find; control.go = go;
                return box;
            };
            control.addTo(map);
            map.psSearch = control;
        })({{ this._parent.get_name() }}, [{{ this.layers|join(", ") }}],
           {{ this.fields|tojson }}, {{ this.text|tojson }}, {{ this.max_results }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        layers: Sequence[str],
        *,
        lang: str,
        fields: Sequence[str] = ("site_id", "_title", "name", "demand_id"),
        position: str = "topleft",
        max_results: int = 10,
    ) -> None:
        super().__init__()
        self._name = "SearchControl"
        for name in layers:
            if not name.replace("_", "").isalnum():
                raise ValueError(f"{name!r} is not a JavaScript layer name")
        self.layers = list(layers)
        self.fields = list(fields)
        self.position = position
        self.max_results = int(max_results)
        self.text = {
            "placeholder": label("widget.search", lang),
            "none": label("widget.no_match", lang),
        }
