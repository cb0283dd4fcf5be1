"""Basemaps: OSM, Gaode (GCJ-02 tiles, so layers are shifted) and Tianditu (needs a key)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from test_map import basemap_from_osm, plan_layers_from_osm

from geodata.basemap import BASEMAP_KINDS
from geodata.coords import gcj02_to_wgs84
from geodata.errors import ParameterError
from maps.basemap_layer import BASEMAP_PANE, OfflineBasemap, basemap_collection
from maps.basemaps import BASEMAPS, TIANDITU_ENV, check_basemap, tianditu_key
from maps.i18n import label
from maps.plan_map import plan_map

EARTH_M_PER_DEG = 111_320.0
FALLBACK = 'on("tileerror"'  # the offline basemap's watch on the tiles (Leaflet has no such call)


@pytest.fixture(scope="module")
def layers(chengdu_osm_plain: Path):
    return plan_layers_from_osm(chengdu_osm_plain)


def _lockers_xy(page: str) -> np.ndarray:
    """Coordinates of the lockers as drawn in the page (last GeoJSON layer), by site id."""
    last = re.findall(r"_add\((\{.*?\})\);\s*$", page, flags=re.M)[-1]
    features = sorted(json.loads(last)["features"], key=lambda f: f["properties"]["site_id"])
    return np.array([f["geometry"]["coordinates"] for f in features])


def _expected_xy(layers) -> np.ndarray:
    wgs = layers["lockers"].to_crs(4326).sort_values("site_id")
    return np.column_stack([wgs.geometry.x, wgs.geometry.y])


def test_names_and_aliases():
    assert check_basemap("OpenStreetMap") == "osm" and check_basemap(None) == "none"
    assert check_basemap("AMap") == "gaode" and check_basemap("tdt") == "tianditu"
    assert {BASEMAPS[k].datum for k in BASEMAPS} == {"wgs84", "gcj02"}
    with pytest.raises(ParameterError, match="baidu"):
        check_basemap("baidu")


def test_osm_basemap_keeps_wgs84(layers):
    page = plan_map(layers, title="t", basemap="osm").get_root().render()
    np.testing.assert_allclose(_lockers_xy(page), _expected_xy(layers), atol=5e-7)  # 6 decimals
    assert "tile.openstreetmap.org" in page and "autonavi" not in page


def test_markers_on_gaode_land_where_they_belong(layers):
    page = plan_map(layers, title="t", basemap="gaode", lang="en").get_root().render()
    drawn, wgs = _lockers_xy(page), _expected_xy(layers)
    shift = drawn - wgs
    # The GCJ-02 offset at Chengdu's Tianfu Square: about +0.0025 lon, -0.0024 lat.
    assert np.all(np.abs(shift[:, 0] - 0.0025) < 0.0002)
    assert np.all(np.abs(shift[:, 1] + 0.0024) < 0.0002)
    back = np.column_stack(gcj02_to_wgs84(drawn[:, 0], drawn[:, 1]))
    error_m = np.hypot(
        (back[:, 0] - wgs[:, 0]) * EARTH_M_PER_DEG * np.cos(np.radians(wgs[:, 1])),
        (back[:, 1] - wgs[:, 1]) * EARTH_M_PER_DEG,
    )
    assert error_m.max() < 1.0
    assert "webrd0{s}.is.autonavi.com" in page and "lang=en" in page
    assert "tile.openstreetmap.org" not in page
    assert json.dumps(label("note.gcj02", "en"))[1:-1] in page
    assert "fitBounds(" in page
    bounds = re.search(r"fitBounds\(\s*\[\[([\d.]+), ([\d.]+)\], \[([\d.]+), ([\d.]+)\]\]", page)
    assert bounds and float(bounds.group(2)) > 104.05422 + 0.002  # the view is shifted too


def test_tianditu_needs_a_key(layers, monkeypatch):
    monkeypatch.delenv(TIANDITU_ENV, raising=False)
    with pytest.raises(ParameterError, match=TIANDITU_ENV):
        plan_map(layers, title="t", basemap="tianditu")
    monkeypatch.setenv(TIANDITU_ENV, " envkey123 ")
    assert tianditu_key() == "envkey123"
    page = plan_map(layers, title="t", basemap="tianditu").get_root().render()
    assert page.count("tk=envkey123") == 2 and "T=vec_w" in page and "T=cva_w" in page
    english = plan_map(layers, title="t", basemap="tianditu", tianditu_key="k9", lang="en")
    html = english.get_root().render()
    assert "tk=k9" in html and "T=eva_w" in html and "envkey123" not in html
    np.testing.assert_allclose(_lockers_xy(html), _expected_xy(layers), atol=5e-7)


def test_no_basemap(layers):
    page = plan_map(layers, title="t", basemap="none").get_root().render()
    assert "L.tileLayer(" not in page and "addAttribution" in page


@pytest.fixture(scope="module")
def base(chengdu_osm_plain: Path):
    return basemap_from_osm(chengdu_osm_plain)


def _offline_layer(fmap) -> OfflineBasemap:
    return next(c for c in fmap._children.values() if isinstance(c, OfflineBasemap))


def test_offline_basemap_is_one_rounded_feature_per_kind_close_to_the_data(base):
    data = basemap_collection(base)
    kinds = [f["properties"]["kind"] for f in data["features"]]
    assert kinds == [k for k in BASEMAP_KINDS if k in set(base["kind"])]
    numbers = re.findall(r"-?\d+\.\d+", json.dumps(data))
    assert max(len(n.split(".")[1]) for n in numbers) <= 6
    for feature in data["features"]:
        drawn = gpd.GeoSeries([shape(feature["geometry"])], crs=4326).to_crs(base.crs)
        parts = shapely.get_parts(drawn.to_numpy()[0])
        source = shapely.get_parts(base.geometry[base["kind"] == feature["properties"]["kind"]])
        assert len(parts) == len(source)  # nothing dropped
        away = shapely.hausdorff_distance(parts, source)
        assert away.max() < 0.7  # simplified to 0.5 m, rounded to 0.1 m


def test_offline_basemap_is_the_base_layer_without_tiles_and_a_choice_with_them(layers, base):
    bare = plan_map(layers, title="t", basemap="none", base_features=base)
    page = bare.get_root().render()
    name = _offline_layer(bare).get_name()
    assert f"{name}.addTo(" in page and "L.tileLayer(" not in page
    assert FALLBACK not in page and page.count(BASEMAP_PANE) >= 1
    tiled = plan_map(layers, title="t", basemap="osm", base_features=base)
    page = tiled.get_root().render()
    name = _offline_layer(tiled).get_name()
    assert f"{name}.addTo(" not in page  # shown only when the tiles fail
    assert FALLBACK in page and "L.tileLayer(" in page
    control = re.search(r"base_layers : \{(.*?)\}", page, flags=re.S)
    assert control and name in control.group(1)
    assert json.dumps(label("basemap.offline", "zh")) in control.group(1)


def test_offline_basemap_moves_to_gcj02_on_gaode(layers, base):
    page = plan_map(layers, title="t", basemap="gaode", base_features=base).get_root().render()
    found = re.search(r"L\.geoJson\((\{.*?\}), \{", page, flags=re.S)
    assert found
    data = json.loads(found.group(1))
    land = shapely.get_coordinates(shape(data["features"][0]["geometry"]))
    wgs = shapely.get_coordinates(base.to_crs(4326).geometry.iloc[0])
    shift = land.mean(axis=0) - wgs.mean(axis=0)
    # The GCJ-02 offset at Chengdu's Tianfu Square, as for the lockers above.
    assert abs(shift[0] - 0.0025) < 0.0002 and abs(shift[1] + 0.0024) < 0.0002
