"""Leaflet-only map controls: title box, legend, attribution and safe feature popups.

None of these needs jQuery or Bootstrap. Text from OpenStreetMap or a user file never reaches
the page as markup: the title and legend are HTML built here with every string passed through
:func:`html.escape`, and popups are built in the browser with ``textContent``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from branca.element import MacroElement
from jinja2 import Template

from maps.symbols import SHAPES, symbol_svg

__all__ = [
    "ATTRIBUTION_HTML",
    "Attribution",
    "HtmlControl",
    "LegendItem",
    "MapStyle",
    "MetricScale",
    "SafePopup",
    "legend_html",
    "title_html",
]

#: The OpenStreetMap attribution, as shown on every map (ODbL 1.0 requires it).
ATTRIBUTION_HTML = (
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors (ODbL)'
)

Position = Literal["topleft", "topright", "bottomleft", "bottomright"]

_CSS = """
.ps-box { background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.35); font: 12px/1.45 "Helvetica Neue", Arial,
  "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #222; }
.ps-title { font-size: 15px; font-weight: 600; max-width: 360px; }
.ps-subtitle { font-size: 11px; font-weight: 400; color: #555; }
.ps-legend { max-height: 45vh; overflow-y: auto; max-width: 280px; }
.ps-legend h4 { margin: 6px 0 2px; font-size: 12px; }
.ps-legend h4:first-child { margin-top: 0; }
.ps-row { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ps-swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px;
  vertical-align: -2px; border: 2px solid transparent; box-sizing: border-box; }
.ps-circle { border-radius: 50%; }
.ps-line { height: 3px; border: 0; vertical-align: 3px; }
.ps-swatch-symbol { border: 0; width: 14px; height: 14px; vertical-align: -3px; }
.ps-symbol { background: none; border: 0; }
.ps-popup-title { font-weight: 600; margin-bottom: 3px; }
.ps-popup th { text-align: left; padding-right: 8px; font-weight: 500; color: #555; }
"""


class MapStyle(MacroElement):
    """The CSS of the title box, legend and popups (add once per map)."""

    _template = Template(
        "{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}"
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MapStyle"
        self.css = _CSS


class HtmlControl(MacroElement):
    """A Leaflet control showing a fixed piece of HTML.

    Parameters
    ----------
    html_text
        Markup built by this module (:func:`title_html`, :func:`legend_html`); any text from
        data in it must already be escaped.
    position
        Corner of the map, one of {"topleft", "topright", "bottomleft", "bottomright"}.
    css_class
        Class of the control's ``<div>``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function () {
                var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
                div.innerHTML = {{ this.html_text|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: Position, css_class: str) -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.html_text = html_text
        self.position = position
        self.css_class = css_class


class Attribution(MacroElement):
    """Add the OpenStreetMap attribution to the map itself, so it stays without basemap tiles.

    Leaflet counts identical attributions once, so a tile layer with the same text does not
    show it twice.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str = ATTRIBUTION_HTML) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = text


class MetricScale(MacroElement):
    """A scale bar in metres and kilometres only (Leaflet's default also shows feet and miles).

    Parameters
    ----------
    position
        Corner of the map, one of {"topleft", "topright", "bottomleft", "bottomright"}.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({position: {{ this.position|tojson }}, metric: true, imperial: false})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, position: Position = "bottomleft") -> None:
        super().__init__()
        self._name = "MetricScale"
        self.position = position


class SafePopup(MacroElement):
    """Popups for the features of a ``folium.GeoJson`` layer, filled with ``textContent``.

    ``folium.GeoJsonPopup`` writes property values into ``innerHTML``; this one cannot run
    markup from the data, whatever the data holds.

    Parameters
    ----------
    rows
        ``(property, label)`` pairs, in display order. Empty values are left out.
    title_key
        Property shown in bold above the table (skipped when absent).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindPopup(function (layer) {
            var p = layer.feature.properties, rows = {{ this.rows|tojson }};
            var box = L.DomUtil.create("div", "ps-popup");
            if (p[{{ this.title_key|tojson }}] != null) {
                L.DomUtil.create("div", "ps-popup-title", box).textContent =
                    String(p[{{ this.title_key|tojson }}]);
            }
            var table = L.DomUtil.create("table", "", box);
            rows.forEach(function (row) {
                var value = p[row[0]];
                if (value === null || value === undefined || value === "") { return; }
                var tr = L.DomUtil.create("tr", "", table);
                L.DomUtil.create("th", "", tr).textContent = row[1];
                L.DomUtil.create("td", "", tr).textContent = String(value);
            });
            return box;
        }, {maxWidth: 360});
        {% endmacro %}
        """
    )

    def __init__(self, rows: Sequence[tuple[str, str]], *, title_key: str = "_title") -> None:
        super().__init__()
        self._name = "SafePopup"
        self.rows = [list(row) for row in rows]
        self.title_key = title_key


@dataclass(frozen=True)
class LegendItem:
    """One row of the legend.

    Attributes
    ----------
    text
        Plain text (escaped when rendered).
    shape
        Swatch drawn before the text: {"circle", "line", "area"}, a tier symbol of
        :data:`maps.symbols.SHAPES`, or ``None`` for a text row.
    stroke, fill
        CSS colours of the swatch.
    """

    text: str
    shape: str | None = None
    stroke: str = "#333333"
    fill: str = "transparent"


def _swatch(item: LegendItem) -> str:
    stroke, fill = html.escape(item.stroke), html.escape(item.fill)
    if item.shape == "circle":
        style = f"border-color:{stroke};background:{fill}"
        return f'<span class="ps-swatch ps-circle" style="{style}"></span>'
    if item.shape == "line":
        return f'<span class="ps-swatch ps-line" style="background:{stroke}"></span>'
    if item.shape == "area":
        return f'<span class="ps-swatch" style="border-color:{stroke};background:{fill}"></span>'
    if item.shape in SHAPES:
        svg = symbol_svg(item.shape, item.stroke, item.fill, 14)
        return f'<span class="ps-swatch ps-swatch-symbol">{svg}</span>'
    return ""


def legend_html(sections: Sequence[tuple[str, Sequence[LegendItem]]]) -> str:
    """Return the legend's markup.

    Parameters
    ----------
    sections
        ``(heading, items)`` pairs; sections without items are left out.

    Returns
    -------
    str
        HTML in which every heading and item text is escaped.
    """
    parts: list[str] = []
    for heading, items in sections:
        if not items:
            continue
        parts.append(f"<h4>{html.escape(heading)}</h4>")
        for item in items:
            text = html.escape(item.text)
            parts.append(f'<div class="ps-row" title="{text}">{_swatch(item)}{text}</div>')
    return "".join(parts)


def title_html(title: str, *, subtitle: str | None = None) -> str:
    """Return the markup of the title box.

    Parameters
    ----------
    title
        Plain text of the title.
    subtitle
        Plain text of a smaller second line.

    Returns
    -------
    str
        HTML with both texts escaped.
    """
    out = f'<div class="ps-title">{html.escape(title)}</div>'
    if subtitle:
        out += f'<div class="ps-subtitle">{html.escape(subtitle)}</div>'
    return out
