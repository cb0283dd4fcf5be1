"""Point symbols of the hierarchy tiers: one regular shape per tier, drawn as inline SVG.

Each tier has its own shape (square, diamond, triangle, pentagon, hexagon), so tiers stay
apart on a grey printout as well as by colour. The same SVG marks the features on the map (as a
Leaflet ``DivIcon``, no image file to fetch offline) and their rows in the legend.
"""

from __future__ import annotations

import html
import math
from typing import Any, Literal

__all__ = ["SHAPES", "Shape", "symbol_icon", "symbol_svg"]

Shape = Literal["square", "diamond", "triangle", "pentagon", "hexagon"]

#: Shape -> (number of corners, angle of the first corner in degrees, clockwise from up).
SHAPES: dict[str, tuple[int, float]] = {
    "square": (4, 45.0),
    "diamond": (4, 0.0),
    "triangle": (3, 0.0),
    "pentagon": (5, 0.0),
    "hexagon": (6, 30.0),
}


def symbol_svg(shape: str, stroke: str, fill: str, size: float) -> str:
    """Return an inline SVG of ``shape``, ``size`` pixels square.

    Parameters
    ----------
    shape
        A key of :data:`SHAPES`.
    stroke, fill
        CSS colours of the outline and the inside.
    size
        Width and height in pixels.

    Returns
    -------
    str
        An ``<svg>`` element (the colours are escaped).

    Raises
    ------
    KeyError
        If ``shape`` is not a known shape (a programming error).
    """
    corners, start = SHAPES[shape]
    r = 8.6
    points = " ".join(
        f"{10 + r * math.sin(math.radians(start + 360 * k / corners)):.2f},"
        f"{10 - r * math.cos(math.radians(start + 360 * k / corners)):.2f}"
        for k in range(corners)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size:g}" height="{size:g}" '
        f'viewBox="0 0 20 20"><polygon points="{points}" fill="{html.escape(fill)}" '
        f'stroke="{html.escape(stroke)}" stroke-width="2" stroke-linejoin="round"/></svg>'
    )


def symbol_icon(shape: str, stroke: str, fill: str, size: float) -> dict[str, Any]:
    """Return Leaflet ``DivIcon`` options drawing ``shape`` centred on its point.

    Parameters
    ----------
    shape, stroke, fill, size
        As in :func:`symbol_svg`.

    Returns
    -------
    dict
        ``html``, ``iconSize``, ``iconAnchor`` and ``className`` (``ps-symbol``).
    """
    return {
        "html": symbol_svg(shape, stroke, fill, size),
        "iconSize": [size, size],
        "iconAnchor": [size / 2, size / 2],
        "className": "ps-symbol",
    }
