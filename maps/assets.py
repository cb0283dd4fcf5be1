"""Inline Leaflet into a Folium map so that the saved HTML needs no network.

Folium links Leaflet, jQuery, Bootstrap, Font Awesome and awesome-markers from CDNs. The plan
map uses only Leaflet (markers are circles, controls are plain Leaflet controls), so an offline
map drops every CDN link and embeds Leaflet's JavaScript and CSS, read at run time from the
``xstatic-leaflet`` package. The images that Leaflet's CSS refers to by relative URL
(``images/layers.png`` ...) are inlined as ``data:`` URIs, so no request fails.
"""

from __future__ import annotations

import base64
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, Figure
from xstatic.pkg import leaflet as xstatic_leaflet

__all__ = ["InlineAsset", "leaflet_css", "leaflet_js", "leaflet_version", "make_offline"]

log = logging.getLogger(__name__)

_DATA_DIR = Path(xstatic_leaflet.BASE_DIR)
_CSS_URL = re.compile(r"url\((['\"]?)(images/[A-Za-z0-9_.-]+\.png)\1\)")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)


class InlineAsset(Element):
    """A ``<script>`` or ``<style>`` element whose code is written into the page verbatim.

    The code is not passed through Jinja (library code may contain ``{{``), and any closing
    tag inside it is broken up so that it cannot end the element early.

    Parameters
    ----------
    code
        JavaScript or CSS source.
    tag
        ``"script"`` or ``"style"``.
    """

    def __init__(self, code: str, *, tag: str) -> None:
        super().__init__()
        self._name = "InlineAsset"
        self.tag = tag
        self.code = re.sub(f"</({tag})", r"<\\/\1", code, flags=re.IGNORECASE)

    def render(self, **kwargs: Any) -> str:
        """Return the element as HTML."""
        return f"<{self.tag}>\n{self.code}\n</{self.tag}>"


def leaflet_version() -> str:
    """Return the version of the Leaflet that offline maps embed.

    Returns
    -------
    str
        For example ``"1.9.3"``.
    """
    return str(xstatic_leaflet.VERSION)


@lru_cache(maxsize=1)
def leaflet_js() -> str:
    """Return Leaflet's minified JavaScript, without its source-map comment.

    Returns
    -------
    str
        The code of ``leaflet.js`` from ``xstatic-leaflet``.
    """
    code = (_DATA_DIR / "leaflet.js").read_text(encoding="utf-8")
    return _SOURCE_MAP.sub("", code)


@lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Return Leaflet's CSS with its images inlined as ``data:`` URIs.

    Returns
    -------
    str
        The code of ``leaflet.css`` from ``xstatic-leaflet`` without comments; every
        ``url(images/*.png)`` is replaced by ``url("data:image/png;base64,...")``.
    """
    css = _CSS_COMMENT.sub("", (_DATA_DIR / "leaflet.css").read_text(encoding="utf-8"))

    def inline(match: re.Match[str]) -> str:
        data = base64.b64encode((_DATA_DIR / match.group(2)).read_bytes()).decode("ascii")
        return f'url("data:image/png;base64,{data}")'

    return _CSS_URL.sub(inline, css)


def make_offline(fmap: folium.Map) -> folium.Map:
    """Drop the CDN links of ``fmap`` and embed Leaflet into its page instead.

    Only Leaflet is embedded: jQuery, Bootstrap, Font Awesome and awesome-markers are left
    out, so the map must not use ``folium.Popup``, ``folium.Icon`` or other elements that need
    them. Tile layers still load their tiles from the network when it is there.

    Parameters
    ----------
    fmap
        A map that has not been rendered yet. It is changed in place.

    Returns
    -------
    folium.Map
        ``fmap`` itself.
    """
    # Instance attributes: folium's class-level lists are shared by every map.
    fmap.default_js = []
    fmap.default_css = []
    root = fmap.get_root()
    assert isinstance(root, Figure), "a folium map's root is a branca Figure"
    header = root.header
    header.add_child(InlineAsset(leaflet_css(), tag="style"), name="leaflet_css")
    header.add_child(InlineAsset(leaflet_js(), tag="script"), name="leaflet")
    log.debug(
        "embedded Leaflet %s (%d bytes of JS and CSS)",
        leaflet_version(),
        len(leaflet_js()) + len(leaflet_css()),
    )
    return fmap
