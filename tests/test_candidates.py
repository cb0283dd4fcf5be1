"""Candidate sites from OSM POIs and residential ground floors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata.area import study_area
from geodata.buildings import buildings_from_osm
from geodata.candidates import CANDIDATE_COLUMNS, KINDS, candidates_from_osm, classify_poi
from geodata.errors import InputDataError, ParameterError
from geodata.osm import read_osm


@pytest.fixture(scope="module")
def chengdu(chengdu_inputs):
    extract, area, features, buildings = chengdu_inputs
    sites = candidates_from_osm(extract, area, buildings, features=features)
    return extract, area, features, buildings, sites


def test_chengdu_counts_per_kind(chengdu) -> None:
    _, _, _, buildings, sites = chengdu
    assert list(sites.columns) == CANDIDATE_COLUMNS
    counts = sites["kind"].value_counts()
    assert set(counts.index) <= set(KINDS)
    assert counts["convenience"] == 18  # shop=convenience nodes, all inside the box
    assert counts["post_office"] == 2
    assert counts["community_centre"] >= 1  # 青石桥社区居委会, an office=government node
    homes = buildings[buildings["residential"] & (buildings["footprint_m2"] >= 15)]
    assert counts["residential_ground_floor"] == len(homes)
    assert 100 < counts["residential_ground_floor"] < 1000
    assert "existing_locker" not in counts  # none mapped in this extract
    assert not sites["existing"].any()
    assert sites["capacity_compartments"].isna().all()
    names = set(sites.loc[sites["kind"] == "community_centre", "name"])
    assert any("居委会" in n for n in names)


def test_chengdu_ids_geometry_and_order(chengdu) -> None:
    _, area, _, _, sites = chengdu
    assert sites["site_id"].is_unique
    assert sites["site_id"].tolist() == sorted(sites["site_id"])
    assert sites["site_id"].str.fullmatch(r"c-(gf-)?(node|way|relation)-\d+").all()
    for sid, oid in zip(sites["site_id"], sites["osm_id"], strict=True):
        assert sid.endswith(oid.replace("/", "-"))
    assert sites.crs.equals(area.crs)
    assert (sites.geom_type == "Point").all()
    assert sites.within(area.projected).all()
    gf = sites[sites["kind"] == "residential_ground_floor"]
    assert gf["source"].str.endswith("(ground floor)").all()
    assert (gf["source"] == "building=apartments (ground floor)").sum() > 200
    poi = sites[sites["kind"] == "convenience"]
    assert (poi["source"] == "shop=convenience").all()


def test_chengdu_floor_area_is_the_containing_building(chengdu) -> None:
    _, _, _, buildings, sites = chengdu
    gf = sites[sites["kind"] == "residential_ground_floor"].set_index("osm_id")
    footprint = buildings.set_index("osm_id")["footprint_m2"]
    np.testing.assert_allclose(gf["floor_area_m2"], footprint[gf.index])
    pois = sites[sites["kind"] != "residential_ground_floor"]
    inside = pois["floor_area_m2"].notna()
    assert inside.any() and (~inside).any()
    for point, area in pois[["geometry", "floor_area_m2"]].itertuples(index=False):
        containing = buildings[buildings.contains(point)]
        if np.isnan(area):
            assert containing.empty
        else:
            assert area == pytest.approx(containing["footprint_m2"].max())


def test_reading_features_inside_gives_same_sites(chengdu) -> None:
    extract, area, _, buildings, sites = chengdu
    assert candidates_from_osm(extract, area, buildings).equals(sites)


def test_puyang_courier_post_office_is_an_express_shop(puyang_osm: Path) -> None:
    extract = read_osm(puyang_osm)
    area = study_area(extract)
    sites = candidates_from_osm(extract, area, buildings_from_osm(extract, area))
    shops = sites[sites["kind"] == "express_shop"]
    assert len(shops) == 1
    row = shops.iloc[0]
    assert row["name"] == "申通快递" and row["source"] == "amenity=post_office (courier brand)"
    assert "post_office" not in set(sites["kind"])


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (
            {"amenity": "parcel_locker", "capacity": "48"},
            ("existing_locker", "amenity=parcel_locker"),
        ),
        (
            {"amenity": "vending_machine", "vending": "parcel_pickup"},
            ("existing_locker", "vending=parcel_pickup"),
        ),
        (
            {"amenity": "vending_machine", "brand": "丰巢"},
            ("existing_locker", "amenity=vending_machine (locker brand)"),
        ),
        ({"amenity": "vending_machine", "vending": "drinks"}, None),
        ({"shop": "courier", "name": "顺丰速运"}, ("express_shop", "shop=courier")),
        ({"office": "courier"}, ("express_shop", "office=courier")),
        (
            {"amenity": "post_office", "brand": "中通快递"},
            ("express_shop", "amenity=post_office (courier brand)"),
        ),
        (
            {"amenity": "post_office", "name": "菜鸟驿站"},
            ("express_shop", "amenity=post_office (courier brand)"),
        ),
        (
            {"amenity": "post_office", "brand:en": "SF Express"},
            ("express_shop", "amenity=post_office (courier brand)"),
        ),
        (
            {"amenity": "post_office", "name": "中国邮政", "brand": "中国邮政"},
            ("post_office", "amenity=post_office"),
        ),
        ({"amenity": "community_centre"}, ("community_centre", "amenity=community_centre")),
        (
            {"office": "government", "name": "青石桥社区居委会"},
            ("community_centre", "office=government (community office)"),
        ),
        ({"office": "government", "name": "青羊区民政局"}, None),
        ({"shop": "convenience", "name": float("nan")}, ("convenience", "shop=convenience")),
        ({"shop": "supermarket"}, None),
        ({"amenity": "restaurant"}, None),
    ],
)
def test_classify_poi(tags: dict, expected: tuple[str, str] | None) -> None:
    assert classify_poi(tags) == expected


def _features(rows: list[tuple[str, int, dict, tuple[float, float]]]) -> gpd.GeoDataFrame:
    index = pd.MultiIndex.from_tuples([(e, i) for e, i, _, _ in rows], names=["element", "id"])
    return gpd.GeoDataFrame(
        [tags for _, _, tags, _ in rows],
        index=index,
        geometry=[shapely.Point(xy) for _, _, _, xy in rows],
        crs="EPSG:4326",
    )


def test_lockers_capacity_and_same_spot_deduplication(chengdu) -> None:
    extract, area, _, buildings, _ = chengdu
    lon, lat = 104.0620, 30.6600
    step = 1 / 111_320  # about one metre of latitude
    features = _features(
        [
            (
                "node",
                1,
                {"amenity": "parcel_locker", "capacity": "120", "name": "丰巢"},
                (lon, lat),
            ),
            ("node", 2, {"shop": "convenience", "name": "红旗连锁"}, (lon, lat + 2 * step)),
            ("node", 3, {"shop": "convenience"}, (lon + 0.001, lat)),
            ("node", 4, {"shop": "convenience", "name": "全家"}, (lon + 0.001, lat + step)),
            ("node", 5, {"amenity": "parcel_locker", "capacity": "many"}, (lon + 0.002, lat)),
            ("node", 6, {"amenity": "restaurant"}, (lon + 0.003, lat)),
            ("node", 7, {"shop": "convenience"}, (100.0, 10.0)),  # far outside the area
        ]
    )
    sites = candidates_from_osm(extract, area, buildings.iloc[0:0], features=features)
    assert sites["site_id"].tolist() == ["c-node-1", "c-node-4", "c-node-5"]
    locker = sites.set_index("site_id").loc["c-node-1"]
    assert locker["existing"] and locker["kind"] == "existing_locker"
    assert locker["capacity_compartments"] == 120
    assert np.isnan(sites.set_index("site_id").loc["c-node-5", "capacity_compartments"])
    assert sites.set_index("site_id").loc["c-node-4", "name"] == "全家"


def test_input_checks(chengdu) -> None:
    extract, area, features, buildings, _ = chengdu
    with pytest.raises(InputDataError, match="residential"):
        candidates_from_osm(extract, area, buildings.drop(columns="residential"), features=features)
    with pytest.raises(InputDataError, match="StudyArea"):
        candidates_from_osm(extract, area, buildings.to_crs(4326), features=features)
    with pytest.raises(ParameterError, match="min_ground_floor_m2"):
        candidates_from_osm(extract, area, buildings, features=features, min_ground_floor_m2=-1)
