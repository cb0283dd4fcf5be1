"""The offline plan map, on a small plan made from real Chengdu buildings and POIs.

The plan here is a stand-in (every 10th POI a locker, each building to its nearest locker)
until ``siting.plan`` produces real plans; the map code does not know the difference.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
from scipy.spatial import cKDTree
from shapely.geometry import LineString, box

from geodata.area import study_area
from geodata.basemap import basemap_features, land_cover_from_features, with_basemap_tags
from geodata.buildings import SITING_TAGS, buildings_from_osm, read_siting_features
from geodata.errors import CRSError, InputDataError, OutputError, ParameterError
from geodata.network import street_lines, walk_network
from geodata.osm import read_osm
from maps.assets import leaflet_css, leaflet_version
from maps.hexbins import hex_bins
from maps.i18n import label
from maps.layer_styles import community_colour
from maps.plan_map import plan_map, save_map

XSS_LOCKER = "<script>alert(1)</script>"
QUOTES_LOCKER = "\"quotes' & <b>bold</b>"
XSS_REASON = "<img src=x onerror=alert(2)>"
XSS_COMMUNITY = "\"社区' <i>x</i>"
XSS_TITLE = "成都 <script>alert(3)</script> 方案"
WALK_LIMIT_M = 300.0
DETOUR = 1.3  # street walk / straight line


def _bounds_box(path: Path) -> gpd.GeoDataFrame:
    head = path.read_text(encoding="utf-8")[:4000]
    found = {k: float(v) for k, v in re.findall(r'(min\w+|max\w+)="([-\d.]+)"', head)}
    shape = box(found["minlon"], found["minlat"], found["maxlon"], found["maxlat"])
    return gpd.GeoDataFrame({"name": ["study area"]}, geometry=[shape], crs="EPSG:4326")


def plan_layers_from_osm(path: Path) -> dict[str, gpd.GeoDataFrame]:
    """A plausible small locker plan from the buildings, POIs and communities of an OSM file."""
    return {name: frame.copy() for name, frame in _plan_layers(Path(path)).items()}


@lru_cache(maxsize=2)  # shared by test_map_browser.py in the same session
def _plan_layers(path: Path) -> dict[str, gpd.GeoDataFrame]:
    boundary = _bounds_box(path)
    utm = boundary.estimate_utm_crs()
    boundary = boundary.to_crs(utm)
    area = boundary.geometry.iloc[0]

    admin = ox.features_from_xml(path, tags={"boundary": "administrative"}).to_crs(utm)
    polygons = admin.geom_type.isin(["Polygon", "MultiPolygon"])
    admin = admin[(admin["admin_level"] == "10") & polygons]
    shapes = [g.intersection(area) for g in admin.geometry]
    rest = area.difference(gpd.GeoSeries(shapes, crs=utm).union_all())
    communities = gpd.GeoDataFrame(
        {
            "community": [str(i[1]) for i in admin.index] + ["rest"],
            "name": list(admin["name"]) + [XSS_COMMUNITY],
        },
        geometry=shapes + [rest],
        crs=utm,
    )

    buildings = ox.features_from_xml(path, tags={"building": True}).to_crs(utm)
    buildings = buildings[buildings.geom_type.isin(["Polygon", "MultiPolygon"])]
    levels = pd.to_numeric(buildings.get("building:levels"), errors="coerce").fillna(6).clip(1, 40)
    residents = np.maximum(1, np.round(buildings.area * levels / 38.0)).astype(int)
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [f"b{i[1]}" for i in buildings.index],
            "residents": residents.to_numpy(),
            "daily_parcels": np.round(residents.to_numpy() * 0.29, 1),
        },
        geometry=buildings.representative_point().to_numpy(),
        crs=utm,
    )
    demand = demand[demand.within(area)].reset_index(drop=True)
    joined = gpd.sjoin(demand, communities, predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    demand["community"] = joined["community"].fillna("rest").to_numpy()
    demand["community_name"] = demand["community"].map(
        dict(zip(communities["community"], communities["name"], strict=True))
    )

    pois = ox.features_from_xml(path, tags={"amenity": True, "shop": True, "office": True})
    pois = pois.to_crs(utm)
    kinds = pois[["amenity", "shop", "office"]].bfill(axis=1).iloc[:, 0]
    candidates = gpd.GeoDataFrame(
        {
            "site_id": [f"{i[0][0]}{i[1]}" for i in pois.index],
            "source": "osm_poi",
            "kind": kinds.to_numpy(),
            "name": pois["name"].to_numpy(),
            "existing": pois["name"].fillna("").str.contains("邮政|快递").to_numpy(),
        },
        geometry=pois.representative_point().to_numpy(),
        crs=utm,
    )
    candidates = candidates[candidates.within(area)].reset_index(drop=True)

    lockers = candidates.iloc[::10].reset_index(drop=True)
    lockers.loc[0, "name"] = XSS_LOCKER
    lockers.loc[1, "name"] = QUOTES_LOCKER
    lockers.loc[[2, 5], "existing"] = True  # stand-ins for lockers already in place
    tree = cKDTree(np.column_stack([lockers.geometry.x, lockers.geometry.y]))
    dist, nearest = tree.query(np.column_stack([demand.geometry.x, demand.geometry.y]))
    walk = np.round(dist * DETOUR, 1)
    covered = walk <= WALK_LIMIT_M
    demand["locker_id"] = np.where(covered, lockers["site_id"].to_numpy()[nearest], None)
    demand["walk_m"] = np.where(covered, walk, np.nan)

    served = demand[covered].groupby("locker_id")["daily_parcels"].sum()
    lockers["daily_parcels_served"] = lockers["site_id"].map(served).fillna(0.0).round(1)
    lockers["modules"] = [max(1, math.ceil(1.15 * s / 60)) for s in lockers["daily_parcels_served"]]
    lockers["compartments"] = lockers["modules"] * 60
    lockers = lockers[
        [
            "site_id",
            "modules",
            "compartments",
            "daily_parcels_served",
            "existing",
            "name",
            "geometry",
        ]
    ]

    locker_xy = dict(zip(lockers["site_id"], lockers.geometry, strict=True))
    hit = demand[covered]
    assignments = gpd.GeoDataFrame(
        {"demand_id": hit["demand_id"], "locker_id": hit["locker_id"], "walk_m": hit["walk_m"]},
        geometry=[
            LineString([p, locker_xy[k]])
            for p, k in zip(hit.geometry, hit["locker_id"], strict=True)
        ],
        crs=utm,
    )
    miss = demand[~covered]
    uncovered = gpd.GeoDataFrame(
        {
            "demand_id": miss["demand_id"],
            "community": miss["community"],
            "daily_parcels": miss["daily_parcels"],
            "reason": [f"nearest locker {w:.0f} m > {WALK_LIMIT_M:.0f} m" for w in walk[~covered]],
        },
        geometry=miss.geometry,
        crs=utm,
    )
    uncovered.iloc[0, uncovered.columns.get_loc("reason")] = XSS_REASON
    communities["daily_parcels"] = (
        communities["community"].map(demand.groupby("community")["daily_parcels"].sum()).fillna(0.0)
    )
    # Compartments of each locker shared among communities in proportion to parcels served.
    per_parcel = lockers.set_index("site_id")["compartments"] / lockers.set_index("site_id")[
        "daily_parcels_served"
    ].where(lambda v: v > 0)
    share = demand[covered].assign(
        c=lambda d: d["daily_parcels"] * d["locker_id"].map(per_parcel).fillna(0.0)
    )
    served_by = share.groupby("community")["daily_parcels"].sum()
    communities["compartments"] = (
        communities["community"].map(share.groupby("community")["c"].sum()).fillna(0.0).round(1)
    )
    communities["ratio"] = (
        communities["compartments"] / communities["community"].map(served_by)
    ).round(3)
    # Straight-line stand-in for the walking catchments the pipeline computes on the network.
    catchments = gpd.GeoDataFrame(
        {
            "site_id": lockers["site_id"],
            "name": lockers["name"],
            "kind": "locker",
            "radius_m": WALK_LIMIT_M,
        },
        geometry=lockers.geometry.buffer(WALK_LIMIT_M / DETOUR, quad_segs=8),
        crs=utm,
    )
    catchments["area_m2"] = catchments.area.round(0)
    return {
        "boundary": boundary,
        "communities": communities,
        "catchments": catchments,
        "demand": demand,
        "candidates": candidates,
        "lockers": lockers,
        "assignments": assignments.reset_index(drop=True),
        "uncovered": uncovered.reset_index(drop=True),
    }


@lru_cache(maxsize=2)  # shared by test_basemaps.py and test_map_browser.py in the same session
def basemap_from_osm(path: Path) -> gpd.GeoDataFrame:
    """The basemap features of an OSM file, read as the pipeline reads them (one pass)."""
    extract = read_osm(path)
    area = study_area(extract)
    features = read_siting_features(extract, tags=with_basemap_tags(SITING_TAGS))
    return basemap_features(
        area,
        streets=street_lines(walk_network(extract, area)),
        buildings=buildings_from_osm(extract, area, features=features),
        land_cover=land_cover_from_features(features, area),
    )


class _Page(HTMLParser):
    """Collect the tags that load resources, and the visible text of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []  # a bare attribute has value ""
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(markup: str) -> _Page:
    page = _Page()
    page.feed(markup)
    page.close()
    return page


def _geojson_layers(page: str) -> list[dict]:
    """The FeatureCollections embedded in the page, in drawing order."""
    return [json.loads(m) for m in re.findall(r"_add\((\{.*?\})\);\s*$", page, flags=re.M)]


#: The GeoJSON layers of the test plan's map, bottom to top (heat is binned from uncovered).
DRAWN = (
    "boundary",
    "communities",
    "heat",
    "catchments",
    "assignments",
    "candidates",
    "demand",
    "uncovered",
    "lockers",
)


def _by_layer(page: str) -> dict[str, dict]:
    collections = _geojson_layers(page)
    assert len(collections) == len(DRAWN)
    return dict(zip(DRAWN, collections, strict=True))


def _control_html(page: str) -> list[str]:
    """The markup of the title box and legend, decoded from the page's JavaScript."""
    return [json.loads(m) for m in re.findall(r"div\.innerHTML = (\".*?\");\s*$", page, re.M)]


def _attribution(page: str) -> str:
    """The visible text of the attribution the map adds to itself."""
    found = re.search(r"attributionControl\.addAttribution\((\".*?\")\);", page)
    assert found, "the map adds no attribution"
    return "".join(_parse(json.loads(found.group(1))).text)


@pytest.fixture(scope="module")
def chengdu_layers(chengdu_osm_plain: Path) -> dict[str, gpd.GeoDataFrame]:
    return plan_layers_from_osm(chengdu_osm_plain)


@pytest.fixture(scope="module")
def offline_html(chengdu_layers, tmp_path_factory) -> str:
    fmap = plan_map(chengdu_layers, title=XSS_TITLE, lang="zh", rules={"R2": "1.0–1.3 × <日件量>"})
    path = save_map(fmap, tmp_path_factory.mktemp("map") / "out" / "map.html")
    return path.read_text(encoding="utf-8")


def test_plan_from_real_data_is_plausible(chengdu_layers):
    sizes = {name: len(frame) for name, frame in chengdu_layers.items()}
    assert sizes["demand"] > 900 and sizes["candidates"] > 150 and sizes["lockers"] > 15
    assert 0 < sizes["uncovered"] < sizes["demand"] / 2
    assert sizes["assignments"] + sizes["uncovered"] == sizes["demand"]
    assert chengdu_layers["demand"]["community"].nunique() == 3


def test_offline_page_loads_nothing_from_the_network(offline_html):
    page = _parse(offline_html)
    for tag, attrs in page.tags:
        for attr in ("src", "href"):
            if tag in {"script", "link", "img", "iframe"} and attrs.get(attr):
                pytest.fail(f"<{tag} {attr}={attrs[attr]!r}> loads a resource")
    assert [t for t, _ in page.tags].count("script") == 3  # Leaflet, folium switches, the map
    assert "sourceMappingURL" not in offline_html
    assert leaflet_css() in offline_html and "Leaflet " + leaflet_version() in offline_html
    for css_url in re.findall(r"url\(([^)]*)\)", leaflet_css()):
        assert css_url.startswith('"data:image/png;base64,') or css_url == "#default#VML"
    urls = set(re.findall(r"https?://[^\s\"'<>\\)]+", offline_html))
    allowed = {
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",  # tile template (may fail offline)
        "https://www.openstreetmap.org/copyright",  # attribution link
        "https://leafletjs.com",  # Leaflet's own attribution prefix
        "http://www.w3.org/2000/svg",  # SVG namespace, not a request
    }
    assert urls <= allowed, urls - allowed


def test_online_page_keeps_cdn_links(chengdu_layers, offline_html):
    online = plan_map(chengdu_layers, title="online", offline=False).get_root().render()
    sources = [a["src"] for t, a in _parse(online).tags if t == "script" and a.get("src")]
    assert any("leaflet" in s and s.startswith("https://") for s in sources)
    assert len(online) < len(offline_html) - 100_000


def test_layers_legend_and_attribution(chengdu_layers, offline_html):
    for name in chengdu_layers:
        assert json.dumps(label(f"layer.{name}", "zh")) in offline_html
    title, legend = (_parse(m) for m in _control_html(offline_html))
    assert "".join(title.text) == XSS_TITLE
    legend_text = "\n".join(legend.text)
    for key in (
        "legend.title",
        "legend.communities",
        "legend.summary",
        "legend.rules",
        "legend.locker_new",
        "layer.uncovered",
    ):
        assert label(key, "zh") in legend_text
    assert "R2: 1.0–1.3 × <日件量>" in legend_text
    assert "L.control.layers(" in offline_html
    assert _attribution(offline_html) == label("attribution", "zh")
    assert "fitBounds(" in offline_html
    english = plan_map(chengdu_layers, title="t", lang="en", tiles=None).get_root().render()
    assert json.dumps("Parcel lockers") in english and "tile.openstreetmap" not in english
    assert _attribution(english) == "© OpenStreetMap contributors (ODbL)"


def test_one_geojson_layer_per_plan_layer(chengdu_layers, offline_html):
    assert offline_html.count("L.geoJson(") == len(DRAWN)
    collections = _by_layer(offline_html)
    heat = hex_bins(chengdu_layers["uncovered"], size_m=120.0, weight="daily_parcels")
    sizes = {name: len(c["features"]) for name, c in collections.items()}
    assert sizes == {**{n: len(chengdu_layers[n]) for n in DRAWN if n != "heat"}, "heat": len(heat)}
    lockers = collections["lockers"]["features"]
    radii = [f["properties"]["style"]["radius"] for f in lockers]
    assert radii == sorted(radii, reverse=True) and radii[0] > radii[-1]
    demand = collections["demand"]["features"]
    colours = {f["properties"]["style"]["fillColor"] for f in demand}
    expected = {community_colour(c) for c in chengdu_layers["demand"]["community"]}
    assert colours == expected
    assert -1 < demand[0]["geometry"]["coordinates"][1] - 30.66 < 1  # reprojected to WGS84
    existing = {f["properties"]["existing"] for f in collections["candidates"]["features"]}
    assert existing == {label("value.yes", "zh"), label("value.no", "zh")}
    status = [f["properties"]["status"] for f in lockers]
    assert status.count(label("value.existing", "zh")) == 2


def test_scale_bar_is_metric_only(offline_html):
    calls = re.findall(r"L\.control\.scale\(([^)]*)\)", offline_html)
    assert len(calls) == 1, calls
    assert re.fullmatch(r'\{position: "bottomleft", metric: true, imperial: false\}', calls[0])


def test_strings_from_data_are_escaped(chengdu_layers, offline_html):
    for raw in (XSS_LOCKER, XSS_REASON, "<b>bold</b>", "<i>x</i>", "<script>alert(3)"):
        assert raw not in offline_html
    page = _parse(offline_html)
    assert not [a for t, a in page.tags if t == "img" or "onerror" in a]
    assert "<title>成都 &lt;script&gt;alert(3)&lt;/script&gt; 方案</title>" in offline_html
    collections = _by_layer(offline_html)
    names = {f["properties"]["_title"] for f in collections["lockers"]["features"]}
    assert {XSS_LOCKER, QUOTES_LOCKER} <= names  # kept as data, drawn with textContent
    reasons = {f["properties"]["reason"] for f in collections["uncovered"]["features"]}
    assert XSS_REASON in reasons
    legend = _parse(_control_html(offline_html)[1])
    assert XSS_COMMUNITY in legend.text
    assert "innerHTML" not in offline_html.split("bindPopup", 1)[1].split("});", 1)[0]


def test_community_colours_are_stable():
    assert community_colour("11124587") == community_colour("11124587")
    assert community_colour(7) == community_colour("7")
    assert len({community_colour(i) for i in range(100)}) == 12
    assert re.fullmatch(r"#[0-9a-f]{6}", community_colour("rest"))


def test_bad_input_names_the_fault(chengdu_layers):
    with pytest.raises(ParameterError, match="lang='fr'"):
        plan_map(chengdu_layers, title="t", lang="fr")
    with pytest.raises(CRSError, match="'lockers' has no CRS"):
        plan_map(
            {"lockers": chengdu_layers["lockers"].set_crs(None, allow_override=True)}, title="t"
        )
    with pytest.raises(InputDataError, match=r"'demand' lacks column\(s\) \['walk_m'\]"):
        plan_map({"demand": chengdu_layers["demand"].drop(columns="walk_m")}, title="t")
    with pytest.raises(InputDataError, match="unknown layer"):
        plan_map({"lokcers": chengdu_layers["lockers"]}, title="t")


def test_missing_and_empty_layers(chengdu_layers, tmp_path):
    only = plan_map(
        {
            "boundary": chengdu_layers["boundary"],
            "lockers": None,
            "demand": chengdu_layers["demand"].iloc[:0],
        },
        title="t",
    )
    html = save_map(only, tmp_path / "m.html").read_text(encoding="utf-8")
    assert html.count("L.geoJson(") == 1 and "fitBounds(" in html
    empty = plan_map({}, title="nothing").get_root().render()
    assert "L.geoJson(" not in empty and "addAttribution" in empty


def test_save_map_reports_unwritable_path(chengdu_layers, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write the map"):
        save_map(plan_map({}, title="t"), blocker / "map.html")


def test_planner_layers_heat_catchments_choropleth(chengdu_layers, offline_html):
    from maps.layer_styles import RATIO_COLOURS, ratio_class

    collections = _by_layer(offline_html)
    uncovered = chengdu_layers["uncovered"]
    heat = collections["heat"]["features"]
    total = sum(float(f["properties"]["weight"].replace(",", "")) for f in heat)
    assert total == pytest.approx(uncovered["daily_parcels"].sum(), rel=0.01)
    assert sum(int(f["properties"]["points"]) for f in heat) == len(uncovered)
    fills = [f["properties"]["style"]["fillColor"] for f in heat]
    assert len(set(fills)) >= 3  # graduated colours
    bins = hex_bins(uncovered, size_m=120.0, weight="daily_parcels").to_crs(uncovered.crs)
    joined = gpd.sjoin(uncovered, bins, predicate="within")
    assert joined.index.is_unique and len(joined) == len(uncovered)  # each point in one hexagon
    assert bins.area.round(0).nunique() == 1 and bins.area.iloc[0] == pytest.approx(
        1.5 * 3**0.5 * 120.0**2, rel=1e-3
    )
    comm = collections["communities"]["features"]
    expected = [RATIO_COLOURS[ratio_class(r)] for r in chengdu_layers["communities"]["ratio"]]
    assert [f["properties"]["style"]["fillColor"] for f in comm] == expected
    catch = collections["catchments"]["features"]
    assert {f["properties"]["site_id"] for f in catch} == set(chengdu_layers["lockers"]["site_id"])
    for name in ("heat", "catchments"):
        assert json.dumps(label(f"layer.{name}", "zh")) in offline_html
    for key in ("widget.search", "widget.measure", "widget.fullscreen"):
        assert json.dumps(label(key, "zh"))[1:-1] in offline_html
    bare = plan_map(chengdu_layers, title="t", widgets=False, heat_size_m=None)
    page = bare.get_root().render()
    assert page.count("L.geoJson(") == len(DRAWN) - 1 and "psSearch" not in page


def test_hex_bins_checks_input(chengdu_layers):
    from maps.hexbins import heat_breaks

    points = chengdu_layers["uncovered"]
    with pytest.raises(ParameterError, match="size_m"):
        hex_bins(points, size_m=0)
    with pytest.raises(ParameterError, match="weight='nope'"):
        hex_bins(points, weight="nope")
    counted = hex_bins(points, size_m=200.0)
    assert counted["points"].sum() == len(points) and (counted["weight"] == counted["points"]).all()
    assert len(hex_bins(points.iloc[:0])) == 0
    limits = heat_breaks(counted["weight"])
    assert limits == sorted(set(limits)) and limits[-1] == counted["weight"].max()


def test_popups_show_shares_as_percentages(chengdu_layers):
    layers = dict(chengdu_layers)
    assignments = layers["assignments"].copy()
    assignments["share"] = np.where(np.arange(len(assignments)) == 0, 0.375, 1.0)
    layers["assignments"] = assignments
    page = plan_map(layers, title="t", lang="en", tiles=None).get_root().render()
    features = _by_layer(page)["assignments"]["features"]
    shares = [f["properties"]["share"] for f in features]
    assert shares[0] == "37.5%" and set(shares[1:]) == {"100.0%"}
