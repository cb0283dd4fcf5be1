"""Hexagon bins of weighted points: the "heat" layer of uncovered parcels, as plain polygons.

A heat map plugin cannot be bundled from a maintained package, and its blur hides where the
demand is. Binning into hexagons of fixed size (in metres, in a local UTM projection) gives
polygons that any GIS opens and that a legend can explain.
"""

from __future__ import annotations

import logging
import math
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.errors import CRSError, ParameterError

__all__ = ["hex_bins", "HEAT_COLOURS", "heat_breaks"]

log = logging.getLogger(__name__)

#: Graduated colours from few to many parcels (ColorBrewer YlOrRd, 5 classes).
HEAT_COLOURS: tuple[str, ...] = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")

_SQRT3 = math.sqrt(3.0)


def _axial(x: np.ndarray, y: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Axial coordinates (q, r) of the pointy-top hexagons of circumradius ``size``."""
    qf = (_SQRT3 / 3.0 * x - y / 3.0) / size
    rf = (2.0 / 3.0 * y) / size
    sf = -qf - rf
    q, r, s = np.round(qf), np.round(rf), np.round(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def hex_bins(
    points: gpd.GeoDataFrame,
    *,
    size_m: float = 120.0,
    weight: str | None = None,
) -> gpd.GeoDataFrame:
    """Bin points into hexagons and sum a weight per hexagon.

    Parameters
    ----------
    points
        Point features in any CRS with a known CRS; other geometries use their representative
        point.
    size_m
        Circumradius of a hexagon in metres (centre to corner); a hexagon covers
        ``2.6 * size_m**2`` square metres.
    weight
        Column to sum (e.g. ``daily_parcels``); ``None`` counts points.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per non-empty hexagon, heaviest first: ``hex_id`` (``"q,r"``), ``points``,
        ``weight``, in the CRS of ``points``.

    Raises
    ------
    CRSError
        If ``points`` has no CRS.
    ParameterError
        If ``size_m`` is not positive or ``weight`` is not a column.
    """
    start = time.perf_counter()
    if points.crs is None:
        raise CRSError(None, "the points to bin have no CRS", "set it with gdf.set_crs(...)")
    if not size_m > 0:
        raise ParameterError(f"size_m={size_m!r} must be positive. Fix: pass e.g. 120")
    if weight is not None and weight not in points.columns:
        raise ParameterError(
            f"weight={weight!r} is not a column of the points ({list(points.columns)}). "
            "Fix: pass a numeric column or None to count points"
        )
    points = points[points.geometry.notna() & ~points.geometry.is_empty]
    empty = gpd.GeoDataFrame(
        {"hex_id": [], "points": [], "weight": []}, geometry=[], crs=points.crs
    )
    if len(points) == 0:
        return empty
    utm = points.estimate_utm_crs()
    xy = shapely.get_coordinates(points.geometry.representative_point().to_crs(utm))
    q, r = _axial(xy[:, 0], xy[:, 1], size_m)
    values = (
        np.ones(len(points))
        if weight is None
        else pd.to_numeric(points[weight], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    )
    table = (
        pd.DataFrame({"q": q, "r": r, "w": values})
        .groupby(["q", "r"], sort=True)
        .agg(points=("w", "size"), weight=("w", "sum"))
        .reset_index()
        .sort_values(["weight", "q", "r"], ascending=[False, True, True], kind="stable")
    )
    cx = size_m * _SQRT3 * (table["q"].to_numpy() + table["r"].to_numpy() / 2.0)
    cy = size_m * 1.5 * table["r"].to_numpy()
    angles = np.deg2rad(30.0 + 60.0 * np.arange(7))  # pointy top; last corner closes the ring
    rings = np.stack(
        [cx[:, None] + size_m * np.cos(angles), cy[:, None] + size_m * np.sin(angles)], axis=-1
    )
    hexagons = shapely.polygons(rings)
    out = gpd.GeoDataFrame(
        {
            "hex_id": [f"{a},{b}" for a, b in zip(table["q"], table["r"], strict=True)],
            "points": table["points"].to_numpy(dtype=int),
            "weight": np.round(table["weight"].to_numpy(dtype=float), 3),
        },
        geometry=hexagons,
        crs=utm,
    ).to_crs(points.crs)
    log.info(
        "hex bins: %d points into %d hexagons of %.0f m in %.2f s",
        len(points),
        len(out),
        size_m,
        time.perf_counter() - start,
    )
    return out


def heat_breaks(values: np.ndarray | pd.Series, *, classes: int = len(HEAT_COLOURS)) -> list[float]:
    """Return upper class limits for graduated colours: quantiles rounded to 2 significant digits.

    Parameters
    ----------
    values
        The values to classify (e.g. parcels per hexagon).
    classes
        Number of classes, at most ``len(HEAT_COLOURS)``.

    Returns
    -------
    list of float
        Increasing, distinct upper limits; the last is the maximum. Empty for no values.
    """
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return []
    limits: list[float] = []
    for share in np.linspace(0.0, 1.0, min(classes, len(HEAT_COLOURS)) + 1)[1:-1]:
        value = float(np.quantile(data, share))
        if value > 0:
            digits = 1 - int(math.floor(math.log10(abs(value))))
            value = round(value, digits)
        if not limits or value > limits[-1]:
            limits.append(value)
    top = float(data.max())
    if not limits or top > limits[-1]:
        limits.append(top)
    return limits
