"""Drives between the study area's nodes are those of the whole file's roads.

The reference (tests/osm_drives.py) reads the OSM file itself, builds the drivable ways one-way
where tagged with networkx, keeps their largest strongly connected component and cuts nothing;
the drive network is compared with it on every ordered pair of its nodes in the area.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from osm_drives import drives, road_graph
from scipy.sparse.csgraph import dijkstra

from geodata.network import Network, drive_network
from siting.tiers import drive_margin_m


@pytest.fixture(scope="module")
def reference(chengdu_osm_plain: Path) -> nx.DiGraph:
    return road_graph(chengdu_osm_plain)


def _area_drives(net: Network, reference: nx.DiGraph) -> tuple[np.ndarray, np.ndarray]:
    """Drives between the network's area nodes, on the network and on the reference."""
    rows = np.flatnonzero(net.in_area)
    ids = net.node_ids[rows].tolist()
    ref = drives(reference, ids)
    expected = np.array([[ref.get((a, b), np.inf) for b in ids] for a in ids])
    ours = dijkstra(net.adjacency, directed=True, indices=rows)[:, rows]
    return ours, expected


def test_drives_in_the_chengdu_box_are_the_whole_files(chengdu, reference) -> None:
    """The plan's drive network: every drive between two of its nodes in the box, both ways."""
    net = drive_network(*chengdu, margin_m=drive_margin_m())
    assert set(net.node_ids.tolist()) <= set(reference.nodes)
    ours, expected = _area_drives(net, reference)
    # 204 of its nodes lie in the box; each reaches every other one and comes back
    assert ours.shape == (204, 204)
    assert np.isfinite(expected).all()
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-3)
    assert float(expected.max()) == pytest.approx(3_483.2, abs=0.1)
    # cut at the box itself, 805 of the drives have no route and 394 more are longer
    bare, _ = _area_drives(drive_network(*chengdu), reference)
    assert int(np.isinf(bare).sum()) == 805
    assert int((~np.isclose(bare, expected, rtol=1e-9, atol=1e-3)).sum()) == 805 + 394


def test_drives_up_to_twice_the_margin_are_kept(chengdu, centre, reference) -> None:
    """Cut to a 600 m square grown by 250 m: a drive of at most 495 m (500 m less 1 %) between
    two of the square's nodes is the whole file's; longer ones may leave the grown square."""
    extract, _ = chengdu
    grown = drive_network(extract, centre, margin_m=250.0)
    assert grown.n_nodes == 111 and grown.dropped.outside_area_nodes == 232 - 111
    ours, expected = _area_drives(grown, reference)
    within = expected <= 2 * 250.0 / 1.01
    assert ours.shape == (15, 15) and int(within.sum()) == 73
    np.testing.assert_allclose(ours[within], expected[within], rtol=1e-9, atol=1e-3)
    longer = ~np.isclose(ours, expected, rtol=1e-9, atol=1e-3)
    assert int(longer.sum()) == 16 and (ours[longer] > expected[longer]).all()
