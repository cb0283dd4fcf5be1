"""Hub sites from logistics land, warehouses and depots; never inside residential land (R5).

No extract in ../shared maps ``landuse=industrial``, ``building=warehouse`` or
``amenity=post_depot`` (every hub candidate there is the road-node fallback), and only the
Chengdu extract may be vendored. These tests therefore derive a file from the real, vendored
Chengdu extract (``examples/data/chengdu_tianfu_square.osm.xz``): every node, way, relation,
geometry and every other tag is the file's own, and the test writes a temporary copy in which
it changes exactly one tag of each of these real elements:

- ``way/498650290`` (富力广场, ``building=yes``, 16 levels): ``building=warehouse``;
- ``way/620291492`` (九龙新城, ``building=yes``, inside the real ``landuse=residential``
  ``way/885994823``): ``building=warehouse``;
- ``way/1252894077`` (领地中心, ``landuse=commercial``): ``landuse=industrial``;
- ``node/5614569517`` (``amenity=post_office``): ``amenity=post_depot``;
- for the control only, ``way/885994823``: ``landuse=residential`` -> ``landuse=construction``.

The retagged uses are not real; what the code reads of them (outlines, storeys, distances to
the real main roads, the real residential land around them) is.
"""

from __future__ import annotations

import lzma
import xml.etree.ElementTree as ET

import numpy as np
import pyproj
import pytest
import shapely

from geodata.area import study_area
from geodata.hub_sites import hub_sites_from_osm
from geodata.network import drive_network
from geodata.osm import read_osm
from optimizer.hub_inputs import hub_sites_note

WAREHOUSE = ("way", "498650290", "building", "warehouse")
IN_RESIDENTIAL = ("way", "620291492", "building", "warehouse")
INDUSTRIAL = ("way", "1252894077", "landuse", "industrial")
DEPOT = ("node", "5614569517", "amenity", "post_depot")
NOT_RESIDENTIAL = ("way", "885994823", "landuse", "construction")


def retagged_copy(src, dst, changes):
    """Write ``src`` (the real extract) to ``dst`` with one tag of each element changed."""
    with lzma.open(src) as fh:
        tree = ET.parse(fh)
    root = tree.getroot()
    done = set()
    for kind, osm_id, key, value in changes:
        (el,) = [e for e in root.findall(kind) if e.get("id") == osm_id]
        (tag,) = [t for t in el.findall("tag") if t.get("k") == key]
        tag.set("v", value)
        done.add((kind, osm_id))
    assert len(done) == len(changes)
    tree.write(dst, encoding="utf-8", xml_declaration=True)
    return root


def plot_area(root, way_id, area):
    """Area (m2) inside the study area of a way's outline, from the file's node coordinates."""
    nodes = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    (way,) = [w for w in root.findall("way") if w.get("id") == way_id]
    lonlat = np.array([nodes[nd.get("ref")] for nd in way.findall("nd")])
    tr = pyproj.Transformer.from_crs(4326, area.crs, always_xy=True)
    poly = shapely.Polygon(np.c_[tr.transform(lonlat[:, 0], lonlat[:, 1])])
    return poly.intersection(area.projected).area


def sites_of(path, monkeypatch, tmp_path):
    monkeypatch.setenv("POSTAL_SITING_CACHE", str(tmp_path / "cache"))
    ex = read_osm(path)
    area = study_area(ex)
    return hub_sites_from_osm(ex, area, drive_network(ex, area)), area


def test_logistics_land_warehouse_and_depot_are_sites_residential_land_is_not(
        chengdu_osm, tmp_path, monkeypatch):
    path = tmp_path / "chengdu_retagged.osm"
    root = retagged_copy(chengdu_osm, path, [WAREHOUSE, IN_RESIDENTIAL, INDUSTRIAL, DEPOT])
    sites, area = sites_of(path, monkeypatch, tmp_path)
    by_source = sites.groupby("source")["site_id"].apply(sorted).to_dict()
    assert by_source == {"osm-building": ["way/498650290"], "osm-land": ["way/1252894077"],
                         "osm-depot": ["node/5614569517"]}
    # the warehouse inside residential land is no site, and no road node is needed
    assert "way/620291492" not in set(sites["site_id"])
    assert hub_sites_note(sites) == "1 osm-building, 1 osm-land, 1 osm-depot"
    assert (sites["road_m"] <= 1000.0).all()
    rows = sites.set_index("site_id")
    # the plot: floor area = its area in the study area x 0.3 (国土资发〔2008〕24号 coverage),
    # capacity 10 items/day and cost 2 CNY/day per m2 (HubSiteParameters)
    floor = 0.3 * plot_area(root, "1252894077", area)
    assert floor == pytest.approx(3_632, rel=0.01)
    assert rows.loc["way/1252894077", "floor_area_m2"] == pytest.approx(floor, rel=0.005)
    assert rows.loc["way/1252894077", "capacity"] == pytest.approx(10 * floor, rel=0.005)
    assert rows.loc["way/1252894077", "fixed_cost"] == pytest.approx(2 * floor, rel=0.005)
    # the warehouse: its outline times its 16 tagged storeys
    floor = 16 * plot_area(root, "498650290", area)
    assert rows.loc["way/498650290", "floor_area_m2"] == pytest.approx(floor, rel=0.005)
    # the depot: floor area unknown, so the hub model's stated defaults apply
    assert np.isnan(rows.loc["node/5614569517", ["floor_area_m2", "capacity",
                                                "fixed_cost"]].astype(float)).all()


def test_the_warehouse_is_a_site_once_its_land_is_not_residential(
        chengdu_osm, tmp_path, monkeypatch):
    # control: the same warehouse with the residential land around it retagged as a building
    # site: the residential exclusion, nothing else, kept it out above
    path = tmp_path / "chengdu_control.osm"
    retagged_copy(chengdu_osm, path, [IN_RESIDENTIAL, NOT_RESIDENTIAL])
    sites, _ = sites_of(path, monkeypatch, tmp_path)
    assert sites["site_id"].tolist() == ["way/620291492"]
    assert sites["source"].tolist() == ["osm-building"]
