from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.coords import (
    frame_gcj02_to_wgs84,
    frame_wgs84_to_gcj02,
    gcj02_to_wgs84,
    geometry_gcj02_to_wgs84,
    geometry_wgs84_to_gcj02,
    in_china,
    wgs84_to_gcj02,
)
from geodata.errors import ParameterError

GEOD = pyproj.Geod(ellps="WGS84")

# WGS84 reference points: Tianfu Square (Chengdu), People's Square (Shanghai),
# Erqi Tower (Zhengzhou), Canton Tower (Guangzhou)
REFERENCE = {
    "chengdu": (104.0657, 30.6574),
    "shanghai": (121.4752, 31.2317),
    "zhengzhou": (113.6686, 34.7566),
    "guangzhou": (113.3245, 23.1064),
}


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize("city", sorted(REFERENCE))
def test_round_trip_under_a_metre_and_offset_a_few_hundred_metres(city: str) -> None:
    lon, lat = REFERENCE[city]
    glon, glat = wgs84_to_gcj02(lon, lat)
    offset = float(_metres(lon, lat, glon, glat))
    assert 100.0 < offset < 800.0
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert float(_metres(lon, lat, wlon, wlat)) < 1.0
    assert abs(float(wlon) - lon) < 1e-7
    assert abs(float(wlat) - lat) < 1e-7


@settings(max_examples=300, deadline=None)
@given(
    lon=st.floats(min_value=73.5, max_value=134.7),
    lat=st.floats(min_value=18.2, max_value=53.5),
)
def test_inverse_solves_the_forward_transform(lon: float, lat: float) -> None:
    wlon, wlat = gcj02_to_wgs84(lon, lat)
    glon, glat = wgs84_to_gcj02(wlon, wlat)
    assert abs(float(glon) - lon) < 1e-7
    assert abs(float(glat) - lat) < 1e-7


def test_vectorised_over_arrays_of_any_shape() -> None:
    rng = np.random.default_rng(3)
    lon = rng.uniform(100, 120, size=(4, 5))
    lat = rng.uniform(22, 40, size=(4, 5))
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon.shape == glat.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            one = wgs84_to_gcj02(lon[i, j], lat[i, j])
            assert float(one[0]) == glon[i, j]
            assert float(one[1]) == glat[i, j]


def test_identity_outside_china() -> None:
    lon = np.array([2.3522, -74.006, 139.6917, 151.2093])  # Paris, New York, Tokyo, Sydney
    lat = np.array([48.8566, 40.7128, 35.6895, -33.8688])
    assert not in_china(lon, lat).any()
    for func in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_mismatched_shapes_raise() -> None:
    with pytest.raises(ParameterError, match="do not match"):
        wgs84_to_gcj02([104.0, 105.0], [30.0, 31.0, 32.0])


def test_geometry_round_trip() -> None:
    lon, lat = REFERENCE["chengdu"]
    square = shapely.box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)
    shifted = geometry_wgs84_to_gcj02(square)
    assert shifted.geom_type == "Polygon"
    assert not shifted.equals_exact(square, 1e-4)
    back = geometry_gcj02_to_wgs84(shifted)
    assert back.equals_exact(square, 1e-8)


def test_frame_conversion_keeps_columns(datav_dir) -> None:
    frame = gpd.read_file(datav_dir / "510100_full.json")
    wgs = frame_gcj02_to_wgs84(frame)
    assert list(wgs.columns) == list(frame.columns)
    assert wgs.crs.to_epsg() == 4326
    assert (wgs["name"] == frame["name"]).all()
    # every vertex moved by the GCJ-02 offset (Chengdu: a few hundred metres)
    a = shapely.get_coordinates(frame.geometry.iloc[0])
    b = shapely.get_coordinates(wgs.geometry.iloc[0])
    moved = _metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    assert moved.min() > 100.0 and moved.max() < 800.0
    back = frame_wgs84_to_gcj02(wgs)
    c = shapely.get_coordinates(back.geometry.iloc[0])
    assert np.abs(c - a).max() < 1e-7


def test_frame_in_projected_crs_is_refused(datav_dir) -> None:
    frame = gpd.read_file(datav_dir / "510100_full.json").to_crs(32648)
    with pytest.raises(ParameterError, match="projected CRS"):
        frame_gcj02_to_wgs84(frame)
