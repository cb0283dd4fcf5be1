"""Demand points from residential buildings, and the documented demand parameters."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from geodata.communities import communities_from_osm
from geodata.defaults import SOURCES, DemandParameters
from geodata.demand import (
    DEMAND_COLUMNS,
    NEAREST_COMMUNITY_M,
    UNASSIGNED,
    community_demand,
    demand_from_buildings,
)
from geodata.errors import CRSError, InputDataError, ParameterError


@pytest.fixture(scope="module")
def chengdu(chengdu_inputs):
    extract, area, _, buildings = chengdu_inputs
    communities = communities_from_osm(extract, area)
    return area, buildings, communities, demand_from_buildings(buildings, communities)


def test_one_point_per_residential_building(chengdu) -> None:
    area, buildings, _, demand = chengdu
    assert list(demand.columns) == DEMAND_COLUMNS
    homes = buildings[buildings["residential"]]
    assert len(demand) == len(homes) > 300
    assert sorted(demand["osm_id"]) == sorted(homes["osm_id"])
    assert demand["demand_id"].is_unique
    assert demand["demand_id"].tolist() == sorted(demand["demand_id"])
    for did, oid in zip(demand["demand_id"], demand["osm_id"], strict=True):
        digits = oid.split("/")[1]
        assert did == (f"d-{digits}" if oid.startswith("way/") else f"d-r{digits}")
    assert demand.crs.equals(area.crs)
    assert (demand.geom_type == "Point").all()
    assert demand.within(area.projected).all()
    footprints = homes.set_index("osm_id").geometry
    assert all(
        footprints[o].contains(p) for o, p in zip(demand["osm_id"], demand.geometry, strict=True)
    )


def test_residents_and_parcels_identities(chengdu) -> None:
    _, buildings, _, demand = chengdu
    params = DemandParameters()
    floor = buildings.loc[buildings["residential"], "floor_area_m2"].sum()
    assert demand["residents"].sum() == pytest.approx(floor / 36.0, rel=1e-12)
    np.testing.assert_allclose(demand["residents"], demand["floor_area_m2"] / 36.0, rtol=1e-15)
    np.testing.assert_allclose(
        demand["daily_parcels"], demand["residents"] * 106.0 * 1.0 * 1.0 / 365.0, rtol=1e-15
    )
    assert params.daily_parcels_per_resident == pytest.approx(106 / 365)
    # a dense city centre: tens of thousands of residents, thousands of parcels a day
    assert 10_000 < demand["residents"].sum() < 200_000


def test_communities_assigned_inside_or_nearest(chengdu) -> None:
    _, _, communities, demand = chengdu
    polys = communities.set_index("community").geometry
    names = communities.set_index("community")["name"]
    assigned = demand[demand["community"] != UNASSIGNED]
    assert len(assigned) > 0.7 * len(demand)
    for cid, cname, point in assigned[["community", "community_name", "geometry"]].itertuples(
        index=False
    ):
        assert cname == names[cid]
        assert polys[cid].distance(point) <= NEAREST_COMMUNITY_M
        if not polys[cid].contains(point):  # joined the nearest: no community contains it
            assert not polys.contains(point).any()
            assert polys[cid].distance(point) == pytest.approx(polys.distance(point).min())
    rest = demand[demand["community"] == UNASSIGNED]
    assert len(rest) > 0  # Jinjiang side of the box
    assert (rest["community_name"] == UNASSIGNED).all()
    for point in rest.geometry:
        assert polys.distance(point).min() > NEAREST_COMMUNITY_M


def test_community_demand_sums(chengdu) -> None:
    _, _, communities, demand = chengdu
    table = community_demand(demand)
    assert list(table.columns) == [
        "community",
        "community_name",
        "buildings",
        "floor_area_m2",
        "residents",
        "daily_parcels",
    ]
    assert table["community"].tolist() == sorted(table["community"])
    assert table["buildings"].sum() == len(demand)
    assert table["residents"].sum() == pytest.approx(demand["residents"].sum())
    assert table["daily_parcels"].sum() == pytest.approx(demand["daily_parcels"].sum())
    assert set(table["community"]) - {UNASSIGNED} <= set(communities["community"])
    one = table.set_index("community").loc["relation/11124587"]  # 西华门
    mine = demand[demand["community"] == "relation/11124587"]
    assert one["daily_parcels"] == pytest.approx(mine["daily_parcels"].sum())


def test_parameters_scale_demand(chengdu) -> None:
    _, buildings, communities, demand = chengdu
    params = DemandParameters(floor_area_per_resident_m2=40.0, locker_share=0.5, growth_factor=1.5)
    other = demand_from_buildings(buildings, communities, params)
    np.testing.assert_allclose(other["residents"], demand["residents"] * 36 / 40)
    np.testing.assert_allclose(
        other["daily_parcels"], demand["daily_parcels"] * 36 / 40 * 0.5 * 1.5
    )
    assert (other["community"] == demand["community"]).all()


def test_no_communities_means_all_unassigned(chengdu) -> None:
    _, buildings, communities, demand = chengdu
    other = demand_from_buildings(buildings, communities.iloc[0:0])
    assert (other["community"] == UNASSIGNED).all()
    np.testing.assert_allclose(other["residents"], demand["residents"])


def test_input_checks(chengdu) -> None:
    _, buildings, communities, _ = chengdu
    with pytest.raises(CRSError, match="communities"):
        demand_from_buildings(buildings, communities.to_crs(4326))
    with pytest.raises(CRSError, match="projected"):
        demand_from_buildings(buildings.to_crs(4326), communities.to_crs(4326))
    with pytest.raises(InputDataError, match="residential"):
        demand_from_buildings(buildings.drop(columns="residential"), communities)


@pytest.mark.parametrize(
    "field",
    [
        "floor_area_per_resident_m2",
        "parcels_per_resident_per_year",
        "locker_share",
        "growth_factor",
    ],
)
@pytest.mark.parametrize("value", [0.0, -1.0, math.nan, math.inf])
def test_parameters_reject_non_positive(field: str, value: float) -> None:
    with pytest.raises(ParameterError, match=field):
        DemandParameters(**{field: value})


def test_parameters_defaults_and_sources() -> None:
    params = DemandParameters()
    assert (
        params.floor_area_per_resident_m2,
        params.parcels_per_resident_per_year,
        params.locker_share,
        params.growth_factor,
    ) == (36.0, 106.0, 1.0, 1.0)
    with pytest.raises(ParameterError, match="locker_share"):
        DemandParameters(locker_share=1.2)
    with pytest.raises(ValueError, match="not a number"):
        DemandParameters(growth_factor="2")  # type: ignore[arg-type]
    for f in dataclasses.fields(DemandParameters):
        assert f.name in SOURCES and SOURCES[f.name]
    assert "1,500" in SOURCES["parcels_per_resident_per_year"]
    described = DemandParameters(growth_factor=1.2).describe()
    assert described["growth_factor"].startswith("1.2 (set by the planner")
    assert "36-40" in described["floor_area_per_resident_m2"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.locker_share = 0.5  # type: ignore[misc]
