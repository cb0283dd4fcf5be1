"""Communities from OSM admin_level=10 boundaries, and road blocks where there are none."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import osmium
import pytest
import shapely

from geodata.area import StudyArea, study_area
from geodata.communities import COMMUNITY_COLUMNS, communities_from_osm, road_blocks
from geodata.errors import CRSError, ParameterError
from geodata.osm import read_osm

CHENGDU_COMMUNITIES = {
    "文翁社区",
    "祠堂街社区",
    "宽巷子社区",
    "商业街社区",
    "西华门社区",
    "骡马市社区",
    "陕西街社区",
    "鼓楼社区",
    "升平社区",
}


@pytest.fixture(scope="module")
def chengdu(chengdu_inputs):
    extract, area, _, _ = chengdu_inputs
    return extract, area, communities_from_osm(extract, area)


def _place_nodes(path: Path, area: StudyArea) -> dict[str, shapely.Point]:
    """Named place nodes (community label points, sub-district centres), read independently."""
    found: dict[str, tuple[float, float]] = {}
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE):
        if not isinstance(obj, osmium.osm.Node):  # the processor reads nodes only
            continue
        if obj.tags.get("place") in {"quarter", "suburb"} and "name" in obj.tags:
            found[obj.tags["name"]] = (obj.location.lon, obj.location.lat)
    names = sorted(found)
    points = gpd.GeoSeries([shapely.Point(found[n]) for n in names], crs="EPSG:4326").to_crs(
        area.crs
    )
    return dict(zip(names, points, strict=True))


def test_chengdu_has_all_nine_communities(chengdu) -> None:
    _, area, comms = chengdu
    assert list(comms.columns) == COMMUNITY_COLUMNS
    assert set(comms["name"]) == CHENGDU_COMMUNITIES
    assert (comms["source"] == "osm-admin10").all()
    assert comms["community"].str.fullmatch(r"relation/\d+").all()
    assert comms["community"].is_unique
    assert comms["community"].tolist() == sorted(comms["community"])
    assert comms.crs.equals(area.crs)
    names_en = dict(zip(comms["name"], comms["name_en"], strict=True))
    assert names_en["西华门社区"] == "Xihuamen"
    # the relation has no name:en; it comes from its label node
    assert names_en["商业街社区"] == "Shangyejie"


def test_chengdu_areas_are_sensible_and_disjoint(chengdu) -> None:
    _, area, comms = chengdu
    sizes = dict(zip(comms["name"], comms.area / 1e6, strict=True))
    # 宽巷子 lies west of the box: its one member way in the file cuts a sliver off the west
    # edge; every other community is mostly inside and measures 0.1-1 km2
    assert 0 < sizes.pop("宽巷子社区") < 0.02
    for name, km2 in sizes.items():
        assert 0.1 <= km2 <= 1.0, (name, km2)
    for a, b in itertools.combinations(comms.geometry, 2):
        assert a.intersection(b).area < 1.0
    union = shapely.union_all(comms.geometry.values)
    assert union.difference(area.projected).area < 1.0
    total = comms.area.sum()
    assert total == pytest.approx(union.area, rel=1e-9)
    # the south-east of the box is Jinjiang district (春熙路街道), whose communities are not in
    # the file: it stays unassigned
    assert 0.6 * area.projected.area < total < 0.9 * area.projected.area
    assert comms["area_m2"].tolist() == pytest.approx(comms.area.tolist())


def test_chengdu_label_nodes_fall_in_their_community(chengdu) -> None:
    extract, area, comms = chengdu
    places = _place_nodes(extract.xml_path, area)
    by_name = dict(zip(comms["name"], comms.geometry, strict=True))
    labelled = [n for n in CHENGDU_COMMUNITIES if n in places]
    assert len(labelled) >= 5
    for name in labelled:
        assert by_name[name].contains(places[name]), name
        others = [g for n, g in by_name.items() if n != name]
        assert not any(g.contains(places[name]) for g in others), name
    # 春熙路街道's centre is on the unassigned Jinjiang side
    assert not any(g.contains(places["春熙路街道"]) for g in by_name.values())


def test_chengdu_is_deterministic(chengdu) -> None:
    extract, area, comms = chengdu
    assert communities_from_osm(extract, area).equals(comms)


def test_puyang_falls_back_to_road_blocks(puyang_osm: Path) -> None:
    extract = read_osm(puyang_osm)
    area = study_area(extract)
    blocks = communities_from_osm(extract, area)
    assert list(blocks.columns) == COMMUNITY_COLUMNS
    assert (blocks["source"] == "road-block").all()
    n = len(blocks)
    assert n >= 5
    assert blocks["community"].tolist() == [f"block-{i:03d}" for i in range(1, n + 1)]
    assert (blocks.area >= 2000).all()
    union = shapely.union_all(blocks.geometry.values)
    assert union.difference(area.projected).area < 1.0
    assert union.area == pytest.approx(blocks.area.sum(), rel=1e-9)
    # blocks cover the box except dropped slivers
    assert union.area > 0.99 * area.projected.area
    ys = [round(c.y, 2) for c in blocks.centroid]
    assert ys == sorted(ys, reverse=True)


def test_road_blocks_cross_gives_four_named_blocks(chengdu) -> None:
    _, area, _ = chengdu
    x0, y0, x1, y1 = area.projected.bounds
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    roads = gpd.GeoSeries(
        [
            shapely.LineString([(mx, y0 - 50), (mx, y1 + 50)]),
            shapely.LineString([(x0 - 50, my), (x1 + 50, my)]),
            shapely.LineString([(mx + 1, my + 1), (mx + 20, my + 20)]),  # a dangle
        ],
        crs=area.crs,
    )
    blocks = road_blocks(roads, area)
    assert blocks["community"].tolist() == ["block-001", "block-002", "block-003", "block-004"]
    c = blocks.centroid
    assert c.iloc[0].x < mx < c.iloc[1].x and c.iloc[0].y > my  # north-west, north-east
    assert c.iloc[2].x < mx < c.iloc[3].x and c.iloc[2].y < my  # south-west, south-east
    assert blocks.area.sum() == pytest.approx(area.projected.area, rel=1e-9)
    # no road at all: the whole area is one block
    one = road_blocks(gpd.GeoSeries([], crs=area.crs), area)
    assert len(one) == 1 and one.area.iloc[0] == pytest.approx(area.projected.area)


def test_road_blocks_drop_slivers(chengdu) -> None:
    _, area, _ = chengdu
    x0, y0, _, _ = area.projected.bounds
    corner = shapely.LineString([(x0 - 10, y0 + 30), (x0 + 30, y0 - 10)])  # cuts ~ 400 m2
    blocks = road_blocks(gpd.GeoSeries([corner], crs=area.crs), area)
    assert len(blocks) == 1
    kept = road_blocks(gpd.GeoSeries([corner], crs=area.crs), area, min_area_m2=0)
    assert len(kept) == 2


def test_road_blocks_check_crs_and_threshold(chengdu) -> None:
    _, area, _ = chengdu
    wgs84 = gpd.GeoSeries([shapely.LineString([(104.06, 30.65), (104.06, 30.68)])], crs=4326)
    with pytest.raises(CRSError, match="to_crs"):
        road_blocks(wgs84, area)
    with pytest.raises(ParameterError, match="min_area_m2"):
        road_blocks(wgs84.to_crs(area.crs), area, min_area_m2=-1)
