"""Site exports (GeoJSON, GPKG, KML, CSV, XLSX) on real Chengdu sites and streets."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
from openpyxl import load_workbook
from shapely.geometry import Point
from test_map import QUOTES_LOCKER, XSS_LOCKER, plan_layers_from_osm

from geodata.coords import gcj02_to_wgs84
from geodata.errors import CRSError, InputDataError, ParameterError
from maps.exports import COORD_COLUMNS, EXPORT_FORMATS, export_sites, nearest_street

FORMULA_NAME = "=HYPERLINK(\"http://x\",\"y\")"


@pytest.fixture(scope="module")
def roads(chengdu_osm_plain: Path) -> gpd.GeoDataFrame:
    ways = ox.features_from_xml(chengdu_osm_plain, tags={"highway": True})
    return ways[ways.geom_type.isin(["LineString", "MultiLineString"])]


@pytest.fixture(scope="module")
def sites(chengdu_osm_plain: Path) -> gpd.GeoDataFrame:
    lockers = plan_layers_from_osm(chengdu_osm_plain)["lockers"]
    lockers.loc[3, "name"] = FORMULA_NAME
    lockers.loc[4, "name"] = "多行\n名称\t<&>"
    return lockers  # UTM, as the pipeline keeps it


@pytest.fixture(scope="module")
def exported(sites, roads, tmp_path_factory) -> dict[str, Path]:
    return export_sites(sites, tmp_path_factory.mktemp("exports"), stem="lockers", roads=roads)


def _expected(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    wgs = sites.to_crs(4326).reset_index(drop=True)
    return pd.DataFrame({"site_id": wgs["site_id"], "lon": wgs.geometry.x, "lat": wgs.geometry.y})


def _check_table(table: pd.DataFrame, sites: gpd.GeoDataFrame, fmt: str) -> None:
    expected = _expected(sites)
    assert list(table["site_id"]) == list(expected["site_id"]), fmt
    for col in ("lon", "lat", "lon_gcj02", "lat_gcj02"):
        table[col] = pd.to_numeric(table[col])
    np.testing.assert_allclose(table["lon"], expected["lon"], atol=1e-7, err_msg=fmt)
    np.testing.assert_allclose(table["lat"], expected["lat"], atol=1e-7, err_msg=fmt)
    back = np.column_stack(gcj02_to_wgs84(table["lon_gcj02"], table["lat_gcj02"]))
    np.testing.assert_allclose(back, expected[["lon", "lat"]], atol=2e-7, err_msg=fmt)


def test_every_format_is_written(exported):
    assert list(exported) == list(EXPORT_FORMATS)
    assert all(p.exists() and p.stat().st_size > 0 for p in exported.values())
    assert {p.name for p in exported.values()} == {f"lockers{s}" for s in EXPORT_FORMATS.values()}


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "kml"])
def test_gis_formats_round_trip_through_geopandas(exported, sites, fmt):
    frame = gpd.read_file(exported[fmt])
    assert frame.crs.to_epsg() == 4326 and len(frame) == len(sites)
    _check_table(frame, sites, fmt)
    np.testing.assert_allclose(frame.geometry.x, frame["lon"], atol=1e-7)
    np.testing.assert_allclose(frame.geometry.y, frame["lat"], atol=1e-7)
    names = frame["Name"] if fmt == "kml" else frame["name"]
    expected = sites["name"].where(sites["name"].notna(), sites["site_id"]) if fmt == "kml" else (
        sites["name"]
    )
    assert list(names.fillna("")) == list(expected.fillna("").reset_index(drop=True))
    assert list(frame["street"].fillna("")) == list(
        pd.read_csv(exported["csv"], encoding="utf-8-sig", keep_default_na=False)["street"]
    )


def test_csv_round_trips_through_pandas_and_geopandas(exported, sites):
    table = pd.read_csv(exported["csv"], encoding="utf-8-sig", keep_default_na=False)
    assert list(table.columns[-5:]) == list(COORD_COLUMNS)
    _check_table(table, sites, "csv")
    assert XSS_LOCKER in set(table["name"]) and QUOTES_LOCKER in set(table["name"])
    assert exported["csv"].read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8
    points = gpd.read_file(exported["csv"], X_POSSIBLE_NAMES="lon", Y_POSSIBLE_NAMES="lat")
    assert len(points) == len(sites)
    np.testing.assert_allclose(points.geometry.x, _expected(sites)["lon"], atol=1e-7)


def test_xlsx_round_trips_through_openpyxl(exported, sites):
    sheet = load_workbook(exported["xlsx"]).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = list(rows[0]), rows[1:]
    table = pd.DataFrame(body, columns=header)
    assert len(table) == len(sites)
    _check_table(table, sites, "xlsx")
    assert table["compartments"].tolist() == sites["compartments"].tolist()
    assert table["existing"].tolist() == sites["existing"].astype(bool).tolist()
    cell = sheet.cell(row=5, column=header.index("name") + 1)
    assert cell.value == FORMULA_NAME and cell.data_type == "s"  # text, not a formula
    assert XSS_LOCKER in set(table["name"])


def test_gcj02_columns_have_chengdu_offset(exported):
    table = pd.read_csv(exported["csv"], encoding="utf-8-sig")
    d_lon = table["lon_gcj02"] - table["lon"]
    d_lat = table["lat_gcj02"] - table["lat"]
    assert d_lon.between(0.0022, 0.0028).all() and d_lat.between(-0.0027, -0.0021).all()


def test_street_is_a_named_road_within_radius(exported, sites, roads):
    table = pd.read_csv(exported["csv"], encoding="utf-8-sig", keep_default_na=False)
    named = table[table["street"] != ""]
    assert len(named) >= 0.8 * len(table)  # a dense centre: nearly every site is on a street
    utm = sites.crs
    road_utm = roads.to_crs(utm)
    for i, street in zip(named.index, named["street"], strict=True):
        same = road_utm[road_utm["name"] == street]
        assert len(same) and same.distance(sites.geometry.iloc[i]).min() <= 100.0 + 1e-6
        nearest_named = road_utm[road_utm["name"].notna()].distance(sites.geometry.iloc[i]).min()
        assert same.distance(sites.geometry.iloc[i]).min() == pytest.approx(nearest_named)


def test_no_street_far_from_roads(roads):
    far = gpd.GeoDataFrame({"site_id": ["far"]}, geometry=[Point(104.2, 30.9)], crs=4326)
    near = gpd.GeoDataFrame({"site_id": ["x"]}, geometry=[Point(104.0655, 30.6594)], crs=4326)
    assert nearest_street(far, roads).tolist() == [""]
    assert nearest_street(near, roads, max_distance_m=100).iloc[0] != ""


def test_kml_is_valid_and_escaped(exported):
    raw = exported["kml"].read_text(encoding="utf-8")
    assert "<script>" not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    root = ET.fromstring(raw.encode("utf-8"))
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = root.findall(".//k:Placemark", ns)
    assert {m.findtext("k:name", namespaces=ns) for m in marks} >= {XSS_LOCKER, QUOTES_LOCKER}
    assert not root.findall(".//k:script", ns) and not root.findall(".//script")


def test_bad_requests_name_the_fault(sites, tmp_path):
    with pytest.raises(ParameterError, match="shp"):
        export_sites(sites, tmp_path, formats=("csv", "shp"))
    with pytest.raises(ParameterError, match="plain file name"):
        export_sites(sites, tmp_path, stem="../x")
    with pytest.raises(CRSError):
        export_sites(sites.set_crs(None, allow_override=True), tmp_path)
    with pytest.raises(InputDataError, match="lon"):
        export_sites(sites.assign(lon=1.0), tmp_path)
    one = export_sites(sites.iloc[:2], tmp_path, stem="two", formats=("csv",))
    assert list(one) == ["csv"] and len(pd.read_csv(one["csv"])) == 2
