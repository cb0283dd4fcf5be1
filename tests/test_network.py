from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import osmnx as ox
import pytest
import shapely

from geodata.area import StudyArea, study_area
from geodata.edge_tags import HIGHWAY_RANKING
from geodata.errors import OsmFileError, ParameterError
from geodata.extract import OsmData
from geodata.network import (
    DRIVE_HIGHWAYS,
    WALK_EXCLUDED_HIGHWAYS,
    Network,
    _highway_way_tags,
    drive_network,
    street_lines,
    walk_network,
)
from geodata.osm import OsmExtract, read_osm
from siting.tiers import drive_margin_m


@pytest.fixture(scope="module")
def chengdu_walk(chengdu: tuple[OsmExtract, StudyArea]) -> Network:
    return walk_network(*chengdu)


@pytest.fixture(scope="module")
def chengdu_drive(chengdu: tuple[OsmExtract, StudyArea]) -> Network:
    return drive_network(*chengdu, margin_m=drive_margin_m())


def _edge_values(graph: nx.MultiDiGraph, key: str) -> set:
    values: set = set()
    value: object
    for _, _, value in graph.edges(data=key):
        values.update(value if isinstance(value, list) else [value])
    return values


def _assert_consistent(net: Network, area: StudyArea) -> None:
    n = net.n_nodes
    assert net.node_ids.shape == (n,)
    assert np.all(np.diff(net.node_ids) > 0)
    assert net.xy.shape == (n, 2)
    assert net.adjacency.shape == (n, n)
    assert net.crs == area.crs
    assert set(net.graph.nodes) == set(net.node_ids.tolist())
    if net.kind == "drive":  # the plan's margin holds the whole file: one strong component
        assert net.dropped.outside_area_nodes == 0 and nx.is_strongly_connected(net.graph)
    else:  # every edge meets the area, its ends may lie outside it
        assert shapely.intersects(area.projected, street_lines(net).geometry.to_numpy()).all()
    for i in (0, n // 2, n - 1):
        node = net.graph.nodes[int(net.node_ids[i])]
        assert (node["x"], node["y"]) == tuple(net.xy[i])
    assert np.all(net.adjacency.data > 0)
    assert None not in _edge_values(net.graph, "highway")


def test_chengdu_walk_network(chengdu_walk: Network, chengdu) -> None:
    _, area = chengdu
    net = chengdu_walk
    _assert_consistent(net, area)
    assert net.kind == "walk"
    # README (all highway classes): 700 nodes simplified, 622 clipped to the box. The walk
    # filter also drops 9 private/construction/foot=no ways; the largest component of the
    # whole file has 633 nodes, 9 of which (28 edges) lie only on streets wholly outside the box
    assert (net.n_nodes, net.n_edges) == (624, 1_724)
    assert (net.dropped.outside_area_nodes, net.dropped.outside_area_edges) == (9, 28)
    assert net.dropped.outside_component_nodes == 48
    # README pitfall: 21,246 of the raw osmnx edges have no highway tag
    assert net.dropped.non_highway_edges == 21_246
    assert not _edge_values(net.graph, "highway") & WALK_EXCLUDED_HIGHWAYS
    assert "footway" in _edge_values(net.graph, "highway")
    # walking both ways: symmetric adjacency, every edge has its reverse
    diff = net.adjacency - net.adjacency.T
    assert abs(diff).max() < 1e-9
    assert all(net.graph.has_edge(v, u) for u, v in net.graph.edges())


def test_walk_network_keeps_the_streets_linked_outside_the_area(chengdu_walk, chengdu) -> None:
    """长发街 and 东门街 by the north-west corner connect to the rest outside the box only:
    clipped before its components were taken, the network lost them (82 edges)."""
    names = _edge_values(chengdu_walk.graph, "name")
    assert {"长发街", "东门街"} <= names
    grown = walk_network(*chengdu, margin_m=300.0)
    assert grown.dropped.outside_area_edges == 0  # the whole component lies within 300 m
    assert nx.is_weakly_connected(grown.graph)


def test_walks_from_the_area_are_those_of_the_whole_file(chengdu, centre: StudyArea) -> None:
    """Cut to the area grown by the radius, no walk of at most the radius changes."""
    from geodata.distances import network_distances

    extract, _ = chengdu
    x0, y0, x1, y1 = centre.projected.bounds
    grid = np.array([(x, y) for x in np.arange(x0 + 10, x1, 40.0)
                     for y in np.arange(y0 + 10, y1, 40.0)])
    whole = walk_network(extract, centre, margin_m=1e5)
    grown = walk_network(extract, centre, margin_m=300.0)
    bare = walk_network(extract, centre)
    assert grown.n_edges < whole.n_edges
    reach = [network_distances(net, grid, grid[::3], radius_m=300.0)
             for net in (whole, grown, bare)]
    assert reach[0].nnz > 2_000
    for k in ("rows", "cols", "dist_m", "access_m"):
        np.testing.assert_array_equal(getattr(reach[1], k), getattr(reach[0], k))
    # cut at the area itself, walks that leave it and come back are lost, and points by the
    # edge are placed on a farther street
    walks = [dict(zip(zip(r.rows.tolist(), r.cols.tolist(), strict=True), r.dist_m, strict=True))
             for r in (reach[0], reach[2])]
    changed = [p for p in walks[0].keys() | walks[1].keys()
               if abs(walks[0].get(p, np.inf) - walks[1].get(p, np.inf)) > 1.0]
    assert len(changed) > 100


def test_walk_margin_must_be_metres(chengdu) -> None:
    with pytest.raises(ParameterError, match="margin_m"):
        walk_network(*chengdu, margin_m=-1.0)


def test_walk_drops_ways_closed_to_walkers(chengdu_walk: Network, chengdu) -> None:
    extract, _ = chengdu
    tags = _highway_way_tags(extract.data)
    closed = {w for w, t in tags.items() if t.get("foot") == "no"}
    assert closed  # the file has primary roads tagged foot=no
    assert not closed & _edge_values(chengdu_walk.graph, "osmid")


def test_merged_edges_take_their_most_important_class(chengdu_walk: Network, chengdu) -> None:
    """osmnx merges the ways' tags in set order; each merged tag is resolved by one rule."""
    extract, _ = chengdu
    tags = _highway_way_tags(extract.data)
    rank = {name: k for k, name in enumerate(HIGHWAY_RANKING)}
    mixed = 0
    for _, _, data in chengdu_walk.graph.edges(data=True):
        assert isinstance(data["highway"], str)
        ways = data["osmid"] if isinstance(data["osmid"], list) else [data["osmid"]]
        classes = {tags[w]["highway"] for w in ways}
        mixed += len(classes) > 1
        assert data["highway"] == min(classes, key=rank.__getitem__)
        for key, value in data.items():
            if isinstance(value, list):
                assert value == sorted(set(value), key=str), key
    assert mixed > 10  # Chengdu has streets that change class between two junctions


def test_chengdu_drive_network(chengdu_drive: Network, chengdu) -> None:
    _, area = chengdu
    net = chengdu_drive
    _assert_consistent(net, area)
    assert net.kind == "drive"
    # the file's largest strong component: 232 of the 260 nodes of its largest weak one (28
    # are on one-way ends, driven in or out only), 204 of them in <bounds>
    # (the shared data README's 213 nodes and 415 edges are the drive classes clipped to it)
    assert (net.n_nodes, net.n_edges, int(net.in_area.sum())) == (232, 483, 204)
    assert (net.dropped.outside_component_nodes, net.dropped.outside_component_edges) == (28, 34)
    assert _edge_values(net.graph, "highway") <= DRIVE_HIGHWAYS
    # one-way streets stay one-way
    assert abs(net.adjacency - net.adjacency.T).max() > 1.0


def test_adjacency_holds_the_shortest_parallel_edge(chengdu_walk: Network) -> None:
    net = chengdu_walk
    index = {int(node): i for i, node in enumerate(net.node_ids)}
    best: dict[tuple[int, int], float] = {}
    length: float
    for u, v, length in net.graph.edges(data="length"):
        if u != v:
            key = (index[u], index[v])
            best[key] = min(best.get(key, np.inf), max(float(length), 1e-3))
    coo = net.adjacency.tocoo()
    assert len(best) == coo.nnz
    for i, j, value in zip(coo.row, coo.col, coo.data, strict=True):
        assert value == pytest.approx(best[(int(i), int(j))])


def test_puyang_drive_network_is_the_files_strong_component(puyang_osm: Path) -> None:
    extract = read_osm(puyang_osm)
    net = drive_network(extract, study_area(extract), margin_m=drive_margin_m())
    # the file's 595 drive nodes, 581 in its largest strong component, 528 of them in <bounds>
    # (the shared data README: 542 nodes and 1,480 edges clipped to <bounds>)
    assert (net.n_nodes, net.n_edges, int(net.in_area.sum())) == (581, 1_588, 528)
    assert net.n_nodes + net.dropped.outside_component_nodes == 595
    assert nx.is_strongly_connected(net.graph)


@pytest.mark.slow
def test_shanghai_drive_network_is_the_files_strong_component(shanghai_osm: Path) -> None:
    extract = read_osm(shanghai_osm)
    net = drive_network(extract, study_area(extract), margin_m=drive_margin_m())
    # README: 3,827 nodes and 8,970 edges simplified, 3,813 in the largest weak component;
    # 3,679 in the largest strong one (no <bounds>: the area is the node extent)
    assert (net.n_nodes, net.n_edges) == (3_679, 8_790)
    assert net.dropped.outside_component_nodes == 141
    assert int(net.in_area.sum()) >= 3_670 and nx.is_strongly_connected(net.graph)


def test_snap_returns_nearest_node(chengdu_walk: Network) -> None:
    net = chengdu_walk
    rng = np.random.default_rng(7)
    lo, hi = net.xy.min(axis=0), net.xy.max(axis=0)
    points = rng.uniform(lo, hi, size=(300, 2))
    index, offset = net.snap(points)
    brute = np.linalg.norm(points[:, None, :] - net.xy[None, :, :], axis=2)
    np.testing.assert_allclose(offset, brute.min(axis=1))
    np.testing.assert_allclose(brute[np.arange(300), index], offset)
    at_nodes, zero = net.snap(net.xy[:50])
    np.testing.assert_array_equal(zero, 0.0)
    np.testing.assert_allclose(net.xy[at_nodes], net.xy[:50])
    empty_index, empty_offset = net.snap(np.empty((0, 2)))
    assert empty_index.shape == empty_offset.shape == (0,)
    with pytest.raises(ParameterError, match="shape"):
        net.snap(np.zeros((3, 3)))
    with pytest.raises(ParameterError, match="NaN"):
        net.snap([[np.nan, 1.0]])


def test_area_without_streets(chengdu, tmp_path: Path) -> None:
    extract, _ = chengdu
    # a 20 m square at the point of a 40 m grid farthest from every street
    streets = shapely.union_all(street_lines(walk_network(*chengdu)).geometry.to_numpy())
    area = study_area(extract)
    lo = np.array(area.projected.bounds[:2])
    xs = np.arange(lo[0], lo[0] + 1500, 40.0)
    ys = np.arange(lo[1], lo[1] + 1500, 40.0)
    cells = np.array([(x, y) for x in xs for y in ys])
    nearest = shapely.distance(streets, shapely.points(cells))
    assert nearest.max() > 20
    x, y = cells[np.argmax(nearest)]
    square_utm = shapely.box(x - 10, y - 10, x + 10, y + 10)
    frame = gpd.GeoDataFrame({"name": ["empty"]}, geometry=[square_utm], crs=area.crs)
    path = tmp_path / "empty.gpkg"
    frame.to_file(path, driver="GPKG")
    empty = study_area(extract, boundary=path)
    with pytest.raises(OsmFileError, match="no walk highway ways inside the study area"):
        walk_network(extract, empty)


def test_file_without_highways(chengdu_osm_plain: Path, tmp_path: Path) -> None:
    """The real Chengdu file with its highway ways filtered out (buildings etc. remain)."""
    out = tmp_path / "no_highways.osm"
    with osmium.SimpleWriter(str(out)) as writer:
        for obj in osmium.FileProcessor(str(chengdu_osm_plain)):
            if isinstance(obj, osmium.osm.Way) and "highway" in obj.tags:
                continue
            writer.add(obj)
    extract = read_osm(out)
    with pytest.raises(OsmFileError, match="no drive highway ways") as info:
        drive_network(extract, study_area(extract))
    assert info.value.path == out


def test_graph_of_the_elements_is_osmnx_reading_the_file(chengdu_osm_plain: Path) -> None:
    """The graph built from the parsed elements equals osmnx's own read of the file."""
    ours = read_osm(chengdu_osm_plain).data.graph()
    theirs = ox.graph_from_xml(chengdu_osm_plain, simplify=False, retain_all=True)
    assert ours.number_of_edges() > 20_000
    assert list(ours.nodes(data=True)) == list(theirs.nodes(data=True))
    assert list(ours.edges(keys=True, data=True)) == list(theirs.edges(keys=True, data=True))


def test_networks_of_one_extract_share_one_raw_graph(chengdu: tuple[OsmExtract, StudyArea],
                                                     chengdu_walk: Network,
                                                     chengdu_drive: Network) -> None:
    """The walk and drive networks are cut from one graph, built once per extract."""
    extract, _ = chengdu

    def again(data: OsmData) -> tuple[nx.MultiDiGraph, int]:
        raise AssertionError("the raw graph was built again")

    graph, _ = extract.data.derived("highway_graph", again)
    assert set(chengdu_walk.graph.nodes) <= set(graph.nodes)
    assert set(chengdu_drive.graph.nodes) <= set(graph.nodes)
