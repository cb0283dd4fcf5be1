from __future__ import annotations

import bz2
import logging
import lzma
import pickle
from pathlib import Path

import osmium
import pytest

from geodata.cache import CACHE_ENV_VAR
from geodata.errors import OsmFileError
from geodata.extract import OsmData
from geodata.osm import OsmExtract, read_osm

# Figures published in ../shared/data/osm/README.md
CHENGDU_BOUNDS = (104.05422, 30.65434, 104.07276, 30.67066)
CHENGDU_COUNTS = (11_563, 1_775, 109)
SHANGHAI_NODE_EXTENT = (121.40927, 31.17885, 121.55203, 31.27853)


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV_VAR, str(folder))
    return folder


def _counts(extract: OsmExtract) -> tuple[int, int, int]:
    return extract.n_nodes, extract.n_ways, extract.n_relations


def _assert_bounds(extract: OsmExtract, expected: tuple[float, ...]) -> None:
    assert extract.bounds.bounds == pytest.approx(expected, abs=1e-5)  # README rounds to 1e-5


def test_vendored_xz_is_decompressed_into_the_cache(
    chengdu_osm: Path, cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    extract = read_osm(chengdu_osm)
    assert extract.path == chengdu_osm
    assert extract.xml_path.parent == cache
    assert extract.xml_path.suffix == ".osm"
    assert extract.has_bounds
    _assert_bounds(extract, CHENGDU_BOUNDS)
    assert _counts(extract) == CHENGDU_COUNTS
    with lzma.open(chengdu_osm, "rb") as fh:
        assert extract.xml_path.read_bytes() == fh.read()
    # atomic write: nothing but the final entry is left behind
    assert [p.name for p in cache.iterdir()] == [extract.xml_path.name]

    with caplog.at_level(logging.INFO, logger="geodata"):
        again = read_osm(chengdu_osm)
    assert again.xml_path == extract.xml_path
    assert any("cache hit" in r.getMessage() for r in caplog.records)


def test_plain_xml_is_read_in_place(chengdu_osm_plain: Path, cache: Path) -> None:
    extract = read_osm(chengdu_osm_plain)
    assert extract.xml_path == chengdu_osm_plain
    assert not cache.exists() or not any(cache.iterdir())
    _assert_bounds(extract, CHENGDU_BOUNDS)
    assert _counts(extract) == CHENGDU_COUNTS
    assert extract.generator.startswith("openstreetmap-cgimap")


def test_file_without_bounds_uses_node_extent(shanghai_osm: Path) -> None:
    extract = read_osm(shanghai_osm)
    assert not extract.has_bounds
    _assert_bounds(extract, SHANGHAI_NODE_EXTENT)
    assert _counts(extract) == (21_786, 4_701, 0)


def test_puyang_bounds(puyang_osm: Path) -> None:
    extract = read_osm(puyang_osm)
    assert extract.has_bounds
    _assert_bounds(extract, (114.97020, 35.49810, 115.09210, 35.56270))
    assert _counts(extract) == (4_380, 404, 4)


def _to_pbf(src: Path, dst: Path) -> None:
    reader = osmium.io.Reader(str(src), osmium.osm.osm_entity_bits.NOTHING)
    header = reader.header()
    reader.close()
    with osmium.SimpleWriter(str(dst), header=header) as writer:
        for obj in osmium.FileProcessor(str(src)):
            writer.add(obj)


def test_pbf_is_converted(chengdu_osm_plain: Path, cache: Path, tmp_path: Path) -> None:
    pbf = tmp_path / "chengdu.osm.pbf"
    _to_pbf(chengdu_osm_plain, pbf)
    extract = read_osm(pbf)
    assert extract.xml_path.parent == cache
    assert extract.has_bounds
    _assert_bounds(extract, CHENGDU_BOUNDS)
    assert _counts(extract) == CHENGDU_COUNTS


def test_bz2_is_decompressed(chengdu_osm_plain: Path, cache: Path, tmp_path: Path) -> None:
    packed = tmp_path / "chengdu.osm.bz2"
    packed.write_bytes(bz2.compress(chengdu_osm_plain.read_bytes()))
    extract = read_osm(packed)
    assert extract.xml_path.parent == cache
    assert _counts(extract) == CHENGDU_COUNTS
    assert extract.xml_path.read_bytes() == chengdu_osm_plain.read_bytes()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(OsmFileError, match="does not exist") as info:
        read_osm(tmp_path / "nowhere.osm")
    assert info.value.path == tmp_path / "nowhere.osm"
    assert info.value.fix


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.osm"
    empty.write_bytes(b"")
    with pytest.raises(OsmFileError, match="empty"):
        read_osm(empty)


def test_unknown_extension(chengdu_osm_plain: Path, tmp_path: Path) -> None:
    other = tmp_path / "chengdu.geojson"
    other.write_bytes(chengdu_osm_plain.read_bytes()[:1000])
    with pytest.raises(OsmFileError, match="unknown file extension") as info:
        read_osm(other)
    assert ".osm.pbf" in info.value.fix


def test_truncated_xml(chengdu_osm_plain: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.osm"
    cut.write_bytes(chengdu_osm_plain.read_bytes()[:200_000])
    with pytest.raises(OsmFileError, match="truncated or corrupt at line"):
        read_osm(cut)


def test_truncated_xz_leaves_no_cache_entry(chengdu_osm: Path, cache: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.osm.xz"
    cut.write_bytes(chengdu_osm.read_bytes()[:50_000])
    with pytest.raises(OsmFileError, match="xz stream is truncated"):
        read_osm(cut)
    assert not any(cache.iterdir())


def test_truncated_pbf(chengdu_osm_plain: Path, cache: Path, tmp_path: Path) -> None:
    pbf = tmp_path / "full.osm.pbf"
    _to_pbf(chengdu_osm_plain, pbf)
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(pbf.read_bytes()[: pbf.stat().st_size // 2])
    with pytest.raises(OsmFileError, match="PBF data is truncated"):
        read_osm(cut)
    assert not any(cache.iterdir())


def test_xml_that_is_not_osm(tmp_path: Path) -> None:
    gpx = tmp_path / "track.osm"
    gpx.write_text(
        '<?xml version="1.0"?>\n<gpx version="1.1"><trk><trkseg>'
        '<trkpt lat="30.66" lon="104.06"/></trkseg></trk></gpx>\n'
    )
    with pytest.raises(OsmFileError, match="root element is <gpx>, not <osm>"):
        read_osm(gpx)


def test_compressed_content_with_a_plain_name(chengdu_osm: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "chengdu.osm"
    wrong.write_bytes(chengdu_osm.read_bytes())
    with pytest.raises(OsmFileError, match="content is 'xz'") as info:
        read_osm(wrong)
    assert ".osm.xz" in info.value.fix


def test_osm_without_nodes(chengdu_osm_plain: Path, tmp_path: Path) -> None:
    head = chengdu_osm_plain.read_text(encoding="utf-8").split("\n")[:3]
    bare = tmp_path / "bare.osm"
    bare.write_text("\n".join([*head, "</osm>", ""]), encoding="utf-8")
    with pytest.raises(OsmFileError, match="no nodes"):
        read_osm(bare)


def test_extract_keeps_every_element_and_ships_only_them(chengdu_osm_plain: Path) -> None:
    """One parse keeps all elements; objects built from them stay behind when pickled."""
    extract = read_osm(chengdu_osm_plain)
    kinds = [e["type"] for e in extract.data.elements]
    assert (kinds.count("node"), kinds.count("way"), kinds.count("relation")) == (
        extract.n_nodes, extract.n_ways, extract.n_relations) == (11_563, 1_775, 109)
    size = len(pickle.dumps(extract))
    graph = extract.data.derived("graph", OsmData.graph)
    assert extract.data.derived("graph", OsmData.graph) is graph
    assert len(pickle.dumps(extract)) == size
    assert pickle.loads(pickle.dumps(extract)).data.elements == extract.data.elements
