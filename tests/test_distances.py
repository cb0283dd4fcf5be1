from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from walk_reference import walks

from geodata.area import study_area
from geodata.distances import Reach, network_distances
from geodata.errors import CRSError, ParameterError
from geodata.network import Network, drive_network, walk_network
from geodata.osm import read_osm


@pytest.fixture(scope="module")
def chengdu_walk(chengdu_osm_plain: Path) -> Network:
    extract = read_osm(chengdu_osm_plain)
    return walk_network(extract, study_area(extract))


@pytest.fixture(scope="module")
def chengdu_drive(chengdu_osm_plain: Path) -> Network:
    extract = read_osm(chengdu_osm_plain)
    return drive_network(extract, study_area(extract))


def _random_points(net: Network, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lo, hi = net.xy.min(axis=0), net.xy.max(axis=0)
    return rng.uniform(lo, hi, size=(n, 2))


def _reference(net: Network, origins: np.ndarray, destinations: np.ndarray, radius: float):
    """All pairs within radius on a drive network, by networkx Dijkstra on net.graph and
    brute-force snapping; points at the same node walk the straight line when it is shorter."""

    def snap(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = np.linalg.norm(points[:, None, :] - net.xy[None, :, :], axis=2)
        idx = d.argmin(axis=1)
        return net.node_ids[idx], d[np.arange(len(points)), idx]

    o_node, o_off = snap(origins)
    d_node, d_off = snap(destinations)
    pairs: dict[tuple[int, int], float] = {}
    for i, (node, off) in enumerate(zip(o_node, o_off, strict=True)):
        lengths = nx.single_source_dijkstra_path_length(
            net.graph, int(node), cutoff=radius, weight="length"
        )
        for j, (dnode, doff) in enumerate(zip(d_node, d_off, strict=True)):
            path = lengths.get(int(dnode))
            walk = off + path + doff if path is not None else np.inf
            if dnode == node:
                walk = min(walk, float(np.linalg.norm(origins[i] - destinations[j])))
            if walk <= radius:
                pairs[(i, j)] = walk
    return pairs


def _as_dict(reach: Reach) -> dict[tuple[int, int], float]:
    return {
        (int(i), int(j)): float(d)
        for i, j, d in zip(reach.rows, reach.cols, reach.dist_m, strict=True)
    }


def _assert_same(reach: Reach, expected: dict[tuple[int, int], float]) -> None:
    got = _as_dict(reach)
    # pairs right at the radius may flip on rounding; everything else must agree exactly
    radius = reach.radius_m
    assert {k for k, v in got.items() if v < radius - 1e-3} == {
        k for k, v in expected.items() if v < radius - 1e-3
    }
    for key, dist in got.items():
        if key in expected:
            assert dist == pytest.approx(expected[key], abs=1e-3)


def test_walk_distances_match_networkx(chengdu_walk: Network) -> None:
    """Walks from edge-located points (tests/walk_reference.py), every pair of the points."""
    origins = _random_points(chengdu_walk, 60, seed=1)
    destinations = _random_points(chengdu_walk, 80, seed=2)
    reach = network_distances(chengdu_walk, origins, destinations, radius_m=500.0)
    assert reach.shape == (60, 80)
    assert reach.nnz > 100
    pairs = [(i, j) for i in range(60) for j in range(80)]
    outside = np.full(80, -1)
    expected = walks(chengdu_walk, origins, destinations, pairs, outside[:60], outside)
    got = _as_dict(reach)
    # osmnx's great-circle edge lengths are up to about 0.3 % from the UTM plane's
    near_edge = {k for k, v in expected.items() if abs(v - 500.0) < 5.0}
    assert {k for k, v in expected.items() if v <= 500.0} - near_edge == set(got) - near_edge
    for key, dist in got.items():
        assert dist == pytest.approx(expected[key], abs=0.5 + 5e-3 * dist)
    np.testing.assert_allclose(reach.street_m + reach.access_m, reach.dist_m)


@pytest.mark.parametrize(("n_origins", "n_destinations"), [(6, 300), (300, 6)])
def test_drive_distances_follow_one_way_streets(
    chengdu_drive: Network, n_origins: int, n_destinations: int
) -> None:
    """Both code paths: Dijkstra from the origins, and from the destinations (reverse graph)."""
    origins = _random_points(chengdu_drive, n_origins, seed=3)
    destinations = _random_points(chengdu_drive, n_destinations, seed=4)
    reach = network_distances(chengdu_drive, origins, destinations, radius_m=900.0)
    assert reach.nnz > 50
    _assert_same(reach, _reference(chengdu_drive, origins, destinations, 900.0))


def test_drive_distances_are_not_symmetric(chengdu_drive: Network) -> None:
    points = _random_points(chengdu_drive, 200, seed=5)
    forward = _as_dict(network_distances(chengdu_drive, points[:100], points[100:], radius_m=800.0))
    backward = _as_dict(
        network_distances(chengdu_drive, points[100:], points[:100], radius_m=800.0)
    )
    differ = [k for k, v in forward.items() if abs(backward.get((k[1], k[0]), np.inf) - v) > 1.0]
    assert differ


def test_triplets_sorted_within_radius_and_chunking_invariant(chengdu_walk: Network) -> None:
    origins = _random_points(chengdu_walk, 400, seed=6)
    destinations = _random_points(chengdu_walk, 150, seed=7)
    reach = network_distances(chengdu_walk, origins, destinations, radius_m=300.0)
    assert reach.rows.dtype == reach.cols.dtype == np.int64
    assert np.all(reach.dist_m <= 300.0) and np.all(reach.dist_m >= 0.0)
    order = np.lexsort((reach.cols, reach.rows))
    np.testing.assert_array_equal(order, np.arange(reach.nnz))
    assert len({(int(i), int(j)) for i, j in zip(reach.rows, reach.cols, strict=True)}) == reach.nnz
    # one source node per Dijkstra chunk gives the same triplets
    small = network_distances(
        chengdu_walk, origins, destinations, radius_m=300.0, max_block=chengdu_walk.n_nodes
    )
    np.testing.assert_array_equal(small.rows, reach.rows)
    np.testing.assert_array_equal(small.cols, reach.cols)
    np.testing.assert_allclose(small.dist_m, reach.dist_m)
    # a smaller radius keeps exactly the pairs under it
    tighter = network_distances(chengdu_walk, origins, destinations, radius_m=150.0)
    keep = reach.dist_m <= 150.0
    np.testing.assert_array_equal(tighter.rows, reach.rows[keep])
    np.testing.assert_array_equal(tighter.cols, reach.cols[keep])


def test_zero_distances_survive(chengdu_walk: Network) -> None:
    nodes = chengdu_walk.xy[[10, 20, 30]]
    reach = network_distances(chengdu_walk, nodes, nodes, radius_m=50.0)
    got = _as_dict(reach)
    for i in range(3):
        assert got[(i, i)] == 0.0
    csr = reach.to_csr()
    assert csr.nnz == reach.nnz
    cover = reach.coverage()
    assert cover.nnz == reach.nnz
    assert np.all(cover.data == 1)
    assert cover[0, 0] == 1


def test_points_beyond_the_radius_of_any_node(chengdu_walk: Network) -> None:
    far = chengdu_walk.xy.max(axis=0) + 5_000.0
    near = chengdu_walk.xy[:5]
    reach = network_distances(chengdu_walk, np.vstack([near, far]), near, radius_m=400.0)
    assert reach.shape == (6, 5)
    assert 5 not in set(reach.rows.tolist())
    empty = network_distances(chengdu_walk, np.empty((0, 2)), near, radius_m=400.0)
    assert empty.shape == (0, 5) and empty.nnz == 0
    assert empty.to_csr().shape == (0, 5)


def test_bad_input(chengdu_walk: Network) -> None:
    points = chengdu_walk.xy[:3]
    for radius in (0.0, -5.0, float("nan"), float("inf"), "300"):
        with pytest.raises(ParameterError, match="radius_m"):
            network_distances(chengdu_walk, points, points, radius_m=radius)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="shape"):
        network_distances(chengdu_walk, points[:, :1], points, radius_m=300.0)
    lonlat = np.array([[104.06, 30.66], [104.065, 30.662]])
    with pytest.raises(CRSError, match="km from the network"):
        network_distances(chengdu_walk, lonlat, points, radius_m=300.0)


@pytest.mark.slow
def test_memory_scales_with_pairs_on_shanghai(shanghai_osm: Path) -> None:
    extract = read_osm(shanghai_osm)
    net = drive_network(extract, study_area(extract))
    origins = _random_points(net, 50_000, seed=8)
    destinations = _random_points(net, 5_000, seed=9)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        reach = network_distances(net, origins, destinations, radius_m=300.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    seconds = time.perf_counter() - t0
    assert reach.nnz > 10_000
    assert seconds < 10.0
    # a dense 50,000 x 5,000 float64 matrix would need 2 GB
    assert peak < 250e6
    assert np.all(reach.dist_m <= 300.0)
