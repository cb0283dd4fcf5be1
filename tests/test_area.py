from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from geodata.area import _osm_admin_vertices, study_area, utm_crs
from geodata.coords import geometry_gcj02_to_wgs84
from geodata.errors import BoundaryError, CRSError, ParameterError
from geodata.osm import OsmExtract, read_osm


@pytest.fixture(scope="module")
def chengdu(chengdu_osm_plain: Path) -> OsmExtract:
    return read_osm(chengdu_osm_plain)


@pytest.fixture(scope="module")
def chengdu_datav(datav_dir: Path) -> Path:
    return datav_dir / "510100_full.json"


@pytest.fixture()
def plain_boundary(chengdu_datav: Path, tmp_path: Path) -> Path:
    """The DataV file without its DataV properties: only name + geometry, still GCJ-02."""
    frame = gpd.read_file(chengdu_datav)[["name", "geometry"]]
    out = tmp_path / "districts.geojson"
    frame.to_file(out, driver="GeoJSON")
    return out


def test_without_boundary_the_area_is_the_bounds(chengdu: OsmExtract) -> None:
    area = study_area(chengdu)
    assert area.polygon.equals(chengdu.bounds)
    assert area.crs.to_epsg() == 32648
    assert area.source == "osm-bounds"
    assert area.name == "chengdu_tianfu_square"
    # README: about 1.8 x 1.8 km
    assert 2.8 < area.area_km2 < 3.6
    to_utm = pyproj.Transformer.from_crs(4326, area.crs, always_xy=True)
    x, y = to_utm.transform(*chengdu.bounds.exterior.xy)
    assert shapely.Polygon(np.column_stack([x, y])).equals_exact(area.projected, 1e-6)


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [(104.06, 30.66, 32648), (121.47, 31.23, 32651), (115.03, 35.53, 32650), (-43.2, -22.9, 32723)],
)
def test_utm_zone(lon: float, lat: float, epsg: int) -> None:
    assert utm_crs(lon, lat).to_epsg() == epsg


def test_utm_zone_refuses_metres() -> None:
    with pytest.raises(ParameterError):
        utm_crs(400_000.0, 3_390_000.0)


def test_shanghai_uses_node_extent_and_its_zone(shanghai_osm: Path) -> None:
    area = study_area(read_osm(shanghai_osm))
    assert area.crs.to_epsg() == 32651
    assert 140 < area.area_km2 < 160  # README: about 14 x 11 km


def test_datav_file_is_detected_as_gcj02(chengdu: OsmExtract, chengdu_datav: Path) -> None:
    area = study_area(chengdu, boundary=chengdu_datav, boundary_name="青羊区")
    assert area.datum == "gcj02"
    assert area.name == "青羊区"
    assert area.source == str(chengdu_datav)
    assert area.polygon.within(chengdu.bounds.buffer(1e-9))
    assert 0.2 * study_area(chengdu).area_km2 < area.area_km2 < study_area(chengdu).area_km2
    # the same feature picked by adcode
    by_code = study_area(chengdu, boundary=chengdu_datav, boundary_name="510105")
    assert by_code.polygon.equals(area.polygon)


def test_gcj02_shift_aligns_datav_with_osm_admin_boundaries(
    chengdu: OsmExtract, chengdu_datav: Path
) -> None:
    """README: median distance OSM admin-6 ways -> DataV boundary is 256 m raw, 39 m shifted."""
    frame = gpd.read_file(chengdu_datav)
    # both district outlines, their shared border included (the OSM admin-6 ways run along it)
    districts = shapely.MultiPolygon(
        [p for g in frame[frame["name"].isin(["青羊区", "锦江区"])].geometry for p in g.geoms]
    )
    crs = utm_crs(104.06, 30.66)
    to_utm = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    lonlat = _osm_admin_vertices(chengdu.data)
    points = shapely.points(np.column_stack(to_utm.transform(lonlat[:, 0], lonlat[:, 1])))

    def near_share(geom: shapely.Geometry) -> float:
        line = shapely.transform(
            shapely.boundary(shapely.get_parts(geom)),
            lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])),
        )
        near = [shapely.distance(points, part) < 60.0 for part in line]
        return float(np.mean(np.logical_or.reduce(near)))

    raw, shifted = near_share(districts), near_share(geometry_gcj02_to_wgs84(districts))
    assert raw < 0.05
    assert shifted > 0.15
    assert shifted > 5 * raw


def test_auto_detects_gcj02_from_osm_admin_ways(chengdu: OsmExtract, plain_boundary: Path) -> None:
    auto = study_area(chengdu, boundary=plain_boundary, boundary_name="青羊区")
    assert auto.datum == "gcj02"
    forced = study_area(
        chengdu, boundary=plain_boundary, boundary_name="青羊区", boundary_crs="gcj02"
    )
    assert auto.polygon.equals(forced.polygon)
    as_wgs = study_area(
        chengdu, boundary=plain_boundary, boundary_name="青羊区", boundary_crs="wgs84"
    )
    assert as_wgs.datum == "wgs84"
    # the two readings differ by the GCJ-02 offset: a band hundreds of metres wide
    moved = as_wgs.projected.symmetric_difference(auto.projected).area
    assert moved > 0.05 * auto.projected.area


def test_undecidable_boundary_is_taken_as_wgs84(chengdu: OsmExtract, plain_boundary: Path) -> None:
    """The whole city: its border is far from every OSM admin way in the small extract."""
    area = study_area(chengdu, boundary=plain_boundary, boundary_name="all")
    assert area.datum == "wgs84"
    assert area.polygon.equals(chengdu.bounds)


def test_projected_boundary_is_reprojected(
    chengdu: OsmExtract, chengdu_datav: Path, tmp_path: Path
) -> None:
    frame = gpd.read_file(chengdu_datav)
    frame = frame[frame["name"] == "锦江区"][["name", "geometry"]]
    wgs = frame.copy()
    wgs["geometry"] = geometry_gcj02_to_wgs84(np.asarray(frame.geometry.values, dtype=object))
    projected = tmp_path / "jinjiang_utm.gpkg"
    wgs.to_crs(32648).to_file(projected, driver="GPKG")
    area = study_area(chengdu, boundary=projected)
    assert area.datum == "wgs84"
    assert area.name == "锦江区"
    reference = study_area(chengdu, boundary=chengdu_datav, boundary_name="锦江区")
    assert (
        area.projected.symmetric_difference(reference.projected).area
        < 1e-3 * reference.projected.area
    )
    with pytest.raises(CRSError, match="projected CRS"):
        study_area(chengdu, boundary=projected, boundary_crs="gcj02")


def test_boundary_outside_the_data(chengdu: OsmExtract, datav_dir: Path) -> None:
    with pytest.raises(BoundaryError, match="does not overlap") as info:
        study_area(chengdu, boundary=datav_dir / "440100_full.json")
    assert "chengdu_tianfu_square.osm" in str(info.value)
    assert info.value.fix


def test_unknown_feature_name_lists_the_names(chengdu: OsmExtract, chengdu_datav: Path) -> None:
    with pytest.raises(BoundaryError, match="no feature") as info:
        study_area(chengdu, boundary=chengdu_datav, boundary_name="不存在区")
    assert "青羊区" in info.value.fix


def test_missing_and_unreadable_boundaries(chengdu: OsmExtract, tmp_path: Path) -> None:
    with pytest.raises(BoundaryError, match="does not exist"):
        study_area(chengdu, boundary=tmp_path / "nowhere.geojson")
    junk = tmp_path / "junk.geojson"
    junk.write_text("this is not json")
    with pytest.raises(BoundaryError, match="cannot read"):
        study_area(chengdu, boundary=junk)


def test_boundary_without_polygons(chengdu: OsmExtract, tmp_path: Path) -> None:
    points = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(104.06, 30.66)], crs=4326)
    path = tmp_path / "points.geojson"
    points.to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryError, match="no polygons"):
        study_area(chengdu, boundary=path)


def test_bad_boundary_crs_value(chengdu: OsmExtract, chengdu_datav: Path) -> None:
    with pytest.raises(ParameterError, match="boundary_crs"):
        study_area(chengdu, boundary=chengdu_datav, boundary_crs="bd09")  # type: ignore[arg-type]
