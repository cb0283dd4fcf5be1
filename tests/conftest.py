"""Shared fixtures: real data files, skipped with a reason where they are absent (failed on CI)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geodata.area import StudyArea, study_area
from geodata.osm import OsmExtract, read_osm

ROOT = Path(__file__).resolve().parents[1]
SHARED_OSM = ROOT.parent / "shared" / "data" / "osm"
VENDORED_CHENGDU = ROOT / "examples" / "data" / "chengdu_tianfu_square.osm.xz"


def _shared_file(name: str) -> Path:
    path = SHARED_OSM / name
    if not path.exists():
        reason = f"{path} is absent: the shared OSM extracts live in ../shared/data/osm"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def chengdu_osm() -> Path:
    """The vendored Chengdu extract (always present)."""
    return VENDORED_CHENGDU


@pytest.fixture(scope="session")
def chengdu_osm_plain() -> Path:
    """The uncompressed Chengdu extract from ../shared."""
    return _shared_file("chengdu_tianfu_square.osm")


@pytest.fixture(scope="session")
def shanghai_osm() -> Path:
    """Central Shanghai, highway ways only, from ../shared."""
    return _shared_file("shanghai_center_roads.osm")


#: A 2.3 km x 2.0 km box of central Shanghai (WGS84 west, south, east, north): 319 street-grid
#: homes and 3,539 home-site pairs in the Shanghai extract, a locker model that one
#: branch-and-bound node does not prove (gap 0.13 % under ``--work-limit 1``, measured).
SHANGHAI_CENTRE_BOX = (121.462, 31.224, 121.486, 31.242)


@pytest.fixture(scope="session")
def shanghai_centre(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:data:`SHANGHAI_CENTRE_BOX` as a GeoJSON boundary file."""
    west, south, east, north = SHANGHAI_CENTRE_BOX
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    path = tmp_path_factory.mktemp("boundary") / "shanghai_centre.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "shanghai_centre"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def puyang_osm() -> Path:
    """Rural Puyang County, Henan, from ../shared."""
    return _shared_file("puyang_qingzu_rural.osm")


@pytest.fixture(scope="session")
def datav_dir() -> Path:
    """DataV (GCJ-02) administrative boundaries from ../shared."""
    path = SHARED_OSM / "admin_datav"
    if not path.exists():
        reason = f"{path} is absent: the DataV boundaries live in ../shared/data/osm/admin_datav"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def chengdu_inputs(chengdu_osm: Path, tmp_path_factory: pytest.TempPathFactory):
    """Extract, study area, OSM features and buildings of the vendored Chengdu file."""
    from geodata.area import study_area
    from geodata.buildings import buildings_from_osm, read_siting_features
    from geodata.osm import read_osm

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POSTAL_SITING_CACHE", str(tmp_path_factory.mktemp("osm-cache")))
        extract = read_osm(chengdu_osm)
    area = study_area(extract)
    features = read_siting_features(extract)
    return extract, area, features, buildings_from_osm(extract, area, features=features)


@pytest.fixture(scope="module")
def chengdu(chengdu_osm_plain: Path) -> tuple[OsmExtract, StudyArea]:
    """The shared Chengdu extract, read, and its study area (the file's bounds)."""
    extract = read_osm(chengdu_osm_plain)
    return extract, study_area(extract)


@pytest.fixture(scope="module")
def centre(chengdu: tuple[OsmExtract, StudyArea], tmp_path_factory: pytest.TempPathFactory
           ) -> StudyArea:
    """A 600 m square in the middle of the Chengdu extract: streets run out of it on all sides."""
    extract, area = chengdu
    x, y = area.projected.centroid.coords[0]
    frame = gpd.GeoDataFrame({"name": ["centre"]},
                             geometry=[shapely.box(x - 300, y - 300, x + 300, y + 300)],
                             crs=area.crs)
    path = tmp_path_factory.mktemp("centre") / "centre.gpkg"
    frame.to_file(path, driver="GPKG")
    return study_area(extract, boundary=path)
