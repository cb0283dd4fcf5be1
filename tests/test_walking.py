"""The walking model (geodata.walking): walks follow the streets from edge-located points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from walk_reference import walks

from geodata.area import study_area
from geodata.distances import network_distances
from geodata.network import Network, walk_network
from geodata.osm import read_osm
from geodata.walking import ACCESS_CAP_M
from siting.pipeline import plan

LAT0, LON0 = 30.66, 104.06
#: UTM zone 48N, the zone of the study areas built around (LON0, LAT0).
UTM = pyproj.CRS("EPSG:32648")
_TO_UTM = pyproj.Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
_X0, _Y0 = _TO_UTM.transform(LON0, LAT0)


def _lat_lon(x: float, y: float) -> tuple[float, float]:
    """Latitude and longitude of the point x metres east, y north of (LON0, LAT0) in UTM."""
    lon, lat = _TO_UTM.transform(_X0 + x, _Y0 + y, direction="INVERSE")
    return lat, lon


def _street_layout(path: Path, ways: list[list[tuple[float, float]]]) -> Network:
    """Write ways (metres east/north of a point in Chengdu) as an OSM file; build its network."""
    ids: dict[tuple[float, float], int] = {}
    refs = [[ids.setdefault(xy, len(ids) + 1) for xy in way] for way in ways]
    (lat_lo, lon_lo), (lat_hi, lon_hi) = _lat_lon(-900, -900), _lat_lon(900, 900)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">',
        f'<bounds minlat="{lat_lo:.7f}" minlon="{lon_lo:.7f}" maxlat="{lat_hi:.7f}" '
        f'maxlon="{lon_hi:.7f}"/>',
        *(
            '<node id="{}" version="1" lat="{:.7f}" lon="{:.7f}"/>'.format(i, *_lat_lon(*xy))
            for xy, i in ids.items()
        ),
        *(
            f'<way id="{k}" version="1">{"".join(f"<nd ref={chr(34)}{i}{chr(34)}/>" for i in r)}'
            '<tag k="highway" v="residential"/></way>'
            for k, r in enumerate(refs, start=1)
        ),
        "</osm>",
    ]
    path.write_text("\n".join(lines))
    extract = read_osm(path)
    return walk_network(extract, study_area(extract))


def _projected(net: Network, points: list[tuple[float, float]]) -> np.ndarray:
    assert net.crs == UTM
    return np.array([(_X0 + x, _Y0 + y) for x, y in points])


@pytest.fixture(scope="module")
def bent_street(tmp_path_factory: pytest.TempPathFactory) -> Network:
    """One street 600 m east then 600 m north: its only nodes are its two ends."""
    path = tmp_path_factory.mktemp("layout") / "bent.osm"
    return _street_layout(path, [[(-300, 0), (300, 0)], [(300, 0), (300, 600)]])


def test_walk_goes_along_the_edge_when_the_nearest_node_is_far(bent_street: Network) -> None:
    assert bent_street.n_nodes == 2  # the bend is no node: nearest nodes are 300 m away
    home, site = _projected(bent_street, [(0, 20), (100, -25)])
    _, to_node = bent_street.snap(np.array([home, site]))
    assert np.all(to_node > 200)
    reach = network_distances(bent_street, [home], [site], radius_m=300)
    assert reach.nnz == 1
    # 20 m to the street, 100 m along it, 25 m to the site (metres within projection error)
    assert reach.dist_m[0] == pytest.approx(145.0, abs=0.5)
    assert reach.street_m[0] == pytest.approx(100.0, abs=0.5)
    assert reach.access_m[0] == pytest.approx(45.0, abs=0.5)


def test_walk_follows_the_bend_not_the_straight_line(bent_street: Network) -> None:
    """Home near one leg, site near the other: the walk goes round the corner."""
    home, site = _projected(bent_street, [(200, 10), (310, 100)])
    reach = network_distances(bent_street, [home], [site], radius_m=300)
    assert reach.dist_m[0] == pytest.approx(10 + 100 + 100 + 10, abs=0.5)
    assert float(np.hypot(*(home - site))) < 150  # the straight line would be much shorter


def test_home_far_from_any_street_gets_the_reason(bent_street: Network) -> None:
    home, near_home, site = _projected(bent_street, [(-100, 400), (-100, 100), (-100, 10)])
    reach = network_distances(bent_street, [home, near_home], [site], radius_m=1000)
    assert reach.off_street().tolist() == [True, False]
    assert 0 not in reach.rows and 1 in reach.rows  # 400 m off street: walks no street
    reasons, reasons_zh = reach.off_street_reasons(["no site", "no site"], ["无", "无"])
    assert reasons[0].startswith("400 m from the nearest walkable street")
    assert f"{ACCESS_CAP_M:g} m access cap" in reasons[0] and "接入上限" in reasons_zh[0]
    assert reasons[1] == "no site"  # within the cap: its reason stays


def test_neighbours_nearer_than_their_street_walk_straight(bent_street: Network) -> None:
    home, site = _projected(bent_street, [(0, 120), (30, 120)])
    reach = network_distances(bent_street, [home], [site], radius_m=300)
    assert reach.dist_m[0] == pytest.approx(30.0, abs=0.01)
    assert reach.street_m[0] == 0.0 and reach.access_m[0] == reach.dist_m[0]


@pytest.fixture(scope="module")
def chengdu_plan(chengdu_inputs):
    extract, area, features, _ = chengdu_inputs
    result = plan(extract.path, out=None, time_limit=60)
    # the plan's network: the area grown by its 300 m radius (siting.pipeline)
    return result, walk_network(extract, area, margin_m=300.0), features, area


def _compound_of(features, area, points: np.ndarray) -> np.ndarray:
    land = features.loc[features["landuse"] == "residential"].geometry
    land = land[land.geom_type.isin(["Polygon", "MultiPolygon"])].to_crs(area.crs)
    out = np.full(len(points), -1)
    for k, polygon in enumerate(shapely.make_valid(land.values)):
        inside = shapely.contains_xy(polygon, points[:, 0], points[:, 1]) & (out < 0)
        out[inside] = k
    return out


def test_chengdu_plan_walks_match_networkx_from_edge_located_points(chengdu_plan) -> None:
    result, walk, features, area = chengdu_plan
    lp = result.locker_plan
    homes = shapely.get_coordinates(result.layers["demand"].geometry)
    sites = shapely.get_coordinates(result.layers["candidates"].geometry)
    pairs = list(zip(lp.pair_demand.tolist(), lp.pair_site.tolist(), strict=True))
    assert len(pairs) > 400
    expected = walks(walk, homes, sites, pairs, _compound_of(features, area, homes),
                     _compound_of(features, area, sites))
    got = dict(zip(pairs, lp.pair_walk_m.tolist(), strict=True))
    # the reference measures the UTM plane; the network's edge lengths are osmnx's great
    # circles on a sphere, up to about 0.3 % apart from them at this latitude
    off = {p: (got[p], e) for p, e in expected.items() if abs(got[p] - e) > 0.5 + 5e-3 * e}
    assert not off, f"{len(off)} of {len(pairs)} walks differ, e.g. {list(off.items())[:5]}"
    assert max(got.values()) <= 300.0


def test_chengdu_layers_split_each_walk(chengdu_plan) -> None:
    result, *_ = chengdu_plan
    for name in ("assignments", "demand"):
        layer = result.layers[name].dropna(subset=["walk_m"])
        parts = layer["street_m"] + layer["access_m"]
        assert np.allclose(parts, layer["walk_m"], atol=0.11), name
        assert (layer["access_m"] >= 0).all() and (layer["street_m"] >= 0).all()
    assert (result.layers["assignments"]["street_m"] > 0).any()
