"""WGS84 <-> GCJ-02 coordinate conversion (vectorised), for points, geometries and frames.

GCJ-02 is the obfuscated datum that Chinese map providers (AutoNavi/高德, Tencent, and the
DataV boundary files) publish; it is WGS84 shifted by a smooth, position-dependent offset of a
few hundred metres. OpenStreetMap is WGS84, so GCJ-02 data must be converted before it is laid
over OSM.

The forward transform is the published GCJ-02 formula (Krasovsky 1940 ellipsoid, semi-major
axis 6,378,245 m, eccentricity squared 0.00669342162296594323). It has no closed-form inverse:
:func:`gcj02_to_wgs84` solves ``wgs84_to_gcj02(w) = g`` by fixed-point iteration
``w <- w - (wgs84_to_gcj02(w) - g)`` until every step is below ``tol`` degrees (default 1e-9,
i.e. about 0.1 mm), well inside the 1e-7 degree target.

Outside China (the usual rectangle: longitude 72.004 to 137.8347 east, latitude 0.8293 to
55.8271 north) both transforms are the identity, as the providers do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geodata.errors import ParameterError

__all__ = [
    "in_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "geometry_wgs84_to_gcj02",
    "geometry_gcj02_to_wgs84",
    "frame_wgs84_to_gcj02",
    "frame_gcj02_to_wgs84",
]

_A = 6378245.0
_EE = 0.00669342162296594323
_CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)

G = TypeVar("G", bound=shapely.Geometry | np.ndarray)

FloatArray = NDArray[np.float64]


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return where points fall in the box where GCJ-02 applies.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees (any broadcastable shapes).

    Returns
    -------
    numpy.ndarray of bool
        ``True`` inside the out-of-China box test's China rectangle.
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    x0, y0, x1, y1 = _CHINA_BOX
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def _offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS84, in degrees, at WGS84 positions (no out-of-China test)."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    wave_x = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + wave_x
        + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + wave_x
        + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    try:
        x, y = np.broadcast_arrays(x, y)
    except ValueError as exc:
        raise ParameterError(
            f"lon and lat have shapes {x.shape} and {y.shape} that do not match. Fix: pass "
            "arrays of the same length"
        ) from exc
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitudes/latitudes to GCJ-02.

    Parameters
    ----------
    lon, lat
        WGS84 degrees (scalars or arrays of the same shape).

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)``, same shape; points outside China are returned unchanged.

    Raises
    ------
    ParameterError
        When the shapes of ``lon`` and ``lat`` do not broadcast.
    """
    x, y = _as_arrays(lon, lat)
    d_lon, d_lat = _offset(x, y)
    inside = in_china(x, y)
    return np.where(inside, x + d_lon, x), np.where(inside, y + d_lat, y)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol: float = 1e-9, max_iter: int = 30
) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitudes/latitudes to WGS84 by fixed-point iteration.

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees (scalars or arrays of the same shape).
    tol
        Stop when every coordinate moved less than this many degrees in one step.
    max_iter
        Upper bound on the number of iterations (about 5 are needed for ``tol=1e-9``).

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 ``(lon, lat)``, same shape; points outside China are returned unchanged.

    Raises
    ------
    ParameterError
        When the shapes do not broadcast, or ``tol``/``max_iter`` are not positive.
    """
    if not tol > 0 or max_iter < 1:
        raise ParameterError(
            f"tol={tol!r} and max_iter={max_iter!r} must be positive. Fix: use the defaults"
        )
    gx, gy = _as_arrays(lon, lat)
    wx, wy = gx.copy(), gy.copy()
    inside = in_china(gx, gy)
    for _ in range(max_iter):
        d_lon, d_lat = _offset(wx, wy)
        step_x = np.where(inside, wx + d_lon - gx, 0.0)
        step_y = np.where(inside, wy + d_lat - gy, 0.0)
        wx = wx - step_x
        wy = wy - step_y
        finite = np.isfinite(step_x) & np.isfinite(step_y)
        if (
            not np.any(finite)
            or max(
                float(np.max(np.abs(step_x[finite]), initial=0.0)),
                float(np.max(np.abs(step_y[finite]), initial=0.0)),
            )
            < tol
        ):
            break
    return wx, wy


def _transform_geometry(
    geom: G, func: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]
) -> G:
    def apply(coords: FloatArray) -> FloatArray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    # shapely's stubs take one geometry or an array of them, not a type variable bound to both
    return shapely.transform(geom, apply)  # type: ignore[type-var]


def geometry_wgs84_to_gcj02(geom: G) -> G:
    """Convert a shapely geometry (or an array of them) from WGS84 to GCJ-02.

    Parameters
    ----------
    geom
        Geometry with longitude/latitude coordinates; z values are dropped.

    Returns
    -------
    shapely.Geometry
        The same kind of geometry in GCJ-02.
    """
    return _transform_geometry(geom, wgs84_to_gcj02)


def geometry_gcj02_to_wgs84(geom: G) -> G:
    """Convert a shapely geometry (or an array of them) from GCJ-02 to WGS84.

    Parameters
    ----------
    geom
        Geometry with GCJ-02 longitude/latitude coordinates; z values are dropped.

    Returns
    -------
    shapely.Geometry
        The same kind of geometry in WGS84.
    """
    return _transform_geometry(geom, gcj02_to_wgs84)


def _convert_frame(frame: gpd.GeoDataFrame, convert: Callable[[np.ndarray], np.ndarray]
                   ) -> gpd.GeoDataFrame:
    """Return a copy of a longitude/latitude frame with ``convert`` applied to its geometry."""
    if frame.crs is not None and not frame.crs.is_geographic:
        raise ParameterError(
            f"the frame is in the projected CRS {frame.crs.to_string()}, but GCJ-02 is defined "
            "on longitude/latitude. Fix: call .to_crs(4326) first"
        )
    out = frame.copy()
    geoms = convert(np.asarray(frame.geometry.values, dtype=object))
    out[frame.geometry.name] = gpd.GeoSeries(geoms, index=frame.index, crs=4326)
    return out


def frame_gcj02_to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of a GeoDataFrame with its active geometry converted GCJ-02 -> WGS84.

    Parameters
    ----------
    frame
        Longitude/latitude data in GCJ-02 (its ``crs`` is usually EPSG:4326 or unset, because
        GCJ-02 has no EPSG code).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with WGS84 coordinates and ``crs`` EPSG:4326.

    Raises
    ------
    ParameterError
        When the frame is in a projected CRS.
    """
    return _convert_frame(frame, geometry_gcj02_to_wgs84)


def frame_wgs84_to_gcj02(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of a GeoDataFrame with its active geometry converted WGS84 -> GCJ-02.

    Parameters
    ----------
    frame
        Longitude/latitude data in WGS84.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with GCJ-02 coordinates; ``crs`` stays EPSG:4326 (GCJ-02 has no EPSG code).

    Raises
    ------
    ParameterError
        When the frame is in a projected CRS.
    """
    return _convert_frame(frame, geometry_wgs84_to_gcj02)
