"""Open the offline plan map in headless Chromium with the network cut, and check what renders.

Needs Debian's ``chromium`` and ``chromium-driver``. Without them the tests skip, except on CI
(env ``CI`` set), where they fail: CI installs both.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
from test_map import (
    QUOTES_LOCKER,
    XSS_COMMUNITY,
    XSS_LOCKER,
    XSS_REASON,
    XSS_TITLE,
    basemap_from_osm,
    plan_layers_from_osm,
)

from maps.basemap_layer import BASEMAP_PANE, BASEMAP_STYLES
from maps.i18n import label
from maps.layer_styles import TIER_SYMBOLS
from maps.plan_map import plan_map, save_map
from maps.symbols import SHAPES

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TILE_HOST = "tile.openstreetmap.org"

# Record alert() calls instead of letting them block the page.
CATCH_ALERTS = (
    "window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };"
)

# The Leaflet map of the page (folium names it map_<hex>).
FIND_MAP = "Object.values(window).find(function (v) { return v instanceof L.Map; })"


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        reason = f"{', '.join(missing)} absent: apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        # Every request that leaves the machine goes to a closed port.
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        drv.execute_cdp_cmd("Network.enable", {})
        drv.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {
                "offline": True,
                "latency": 0,
                "downloadThroughput": 0,
                "uploadThroughput": 0,
            },
        )
        drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CATCH_ALERTS})
        yield drv
    finally:
        drv.quit()


@pytest.fixture(scope="module")
def layers(chengdu_osm_plain):
    return plan_layers_from_osm(chengdu_osm_plain)


@pytest.fixture(scope="module")
def loaded(driver, layers):
    """The saved map, opened from disk; returns the driver once Leaflet has drawn it."""
    from selenium.webdriver.support.ui import WebDriverWait

    fmap = plan_map(layers, title=XSS_TITLE, lang="zh", rules={"R2": "1.0–1.3 ×"})
    path = save_map(fmap, ARTIFACTS / "map.html")
    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script(
            "return typeof L !== 'undefined' && "
            "document.querySelectorAll('.leaflet-overlay-pane path').length > 0"
        )
    )
    return driver


def _paths(drv) -> int:
    return drv.execute_script(
        "return document.querySelectorAll('.leaflet-overlay-pane path').length"
    )


def _open_popup(drv, layer_title_or_reason: str) -> str:
    """Fire a click on the feature whose popup title or reason is the given text."""
    return drv.execute_script(
        "var map = " + FIND_MAP + ", want = arguments[0], hit = null;"
        "map.eachLayer(function (l) { var p = l.feature && l.feature.properties;"
        "  if (p && (p._title === want || p.reason === want)) { hit = l; } });"
        "if (!hit) { return null; }"
        "hit.fire('click', {latlng: hit.getLatLng()}, true);"
        "var boxes = document.querySelectorAll('.leaflet-popup-content');"  # closing one fades
        "return boxes.length ? boxes[boxes.length - 1].textContent : '';",
        layer_title_or_reason,
    )


def test_map_renders_offline_without_errors(loaded, layers):
    drv = loaded
    visible = ("boundary", "communities", "catchments", "assignments", "demand", "uncovered",
               "lockers")
    heat = drv.execute_script(
        "var n = 0; " + FIND_MAP + ".eachLayer(function (l) {"
        " if (l.feature && l.feature.properties.points != null) { n++; } }); return n;"
    )
    assert heat > 0
    assert _paths(drv) == sum(len(layers[n]) for n in visible) + heat
    state = drv.execute_script(
        "return {"
        " leaflet: L.version,"
        " externalScripts: Array.from(document.scripts).filter(s => s.src).length,"
        " externalSheets: Array.from(document.styleSheets).filter(s => s.href).length,"
        " sheetsReadable: Array.from(document.styleSheets).every(s => s.cssRules.length > 0),"
        " resources: performance.getEntriesByType('resource').map(e => e.name),"
        " layersControl: document.querySelectorAll('.leaflet-control-layers').length,"
        " overlays: document.querySelectorAll('.leaflet-control-layers-overlays input').length,"
        " legend: (document.querySelector('.ps-legend') || {}).textContent,"
        " title: (document.querySelector('.ps-title') || {}).textContent,"
        " attribution: document.querySelector('.leaflet-control-attribution').textContent,"
        " scale: document.querySelectorAll('.leaflet-control-scale').length,"
        " scaleLines: Array.from(document.querySelectorAll('.leaflet-control-scale-line'))"
        "  .map(e => e.textContent),"
        " alerts: window.__alerts };"
    )
    assert state["leaflet"] == "1.9.3"
    assert state["externalScripts"] == 0 and state["externalSheets"] == 0
    assert state["sheetsReadable"]
    assert [r for r in state["resources"] if TILE_HOST not in r] == []
    assert state["layersControl"] == 1 and state["scale"] == 1
    assert len(state["scaleLines"]) == 1 and re.fullmatch(r"\d+ k?m", state["scaleLines"][0])
    assert state["overlays"] == len(layers) + 1  # + the heat layer binned from uncovered
    assert label("legend.title", "zh") in state["legend"] and XSS_COMMUNITY in state["legend"]
    assert state["title"] == XSS_TITLE
    assert "© OpenStreetMap contributors (ODbL)" in state["attribution"]
    assert state["alerts"] == []
    errors = [
        e
        for e in drv.get_log("browser")
        if e["level"] == "SEVERE" and TILE_HOST not in e["message"]
    ]
    assert errors == []


def test_layer_control_toggles_candidates(loaded, layers):
    drv = loaded
    before = _paths(drv)
    name = label("layer.candidates", "zh")
    box = drv.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".find(l => l.textContent.trim() === arguments[0]).querySelector('input');",
        name,
    )
    assert not box.is_selected()
    box.click()
    assert _paths(drv) == before + len(layers["candidates"])
    box.click()
    assert _paths(drv) == before


def test_popups_show_data_as_text(loaded):
    drv = loaded
    for text in (XSS_LOCKER, QUOTES_LOCKER, XSS_REASON):
        shown = _open_popup(drv, text)
        assert shown is not None and text in shown
        assert (
            drv.execute_script(
                "return document.querySelectorAll('.leaflet-popup-content script, "
                ".leaflet-popup-content img, .leaflet-popup-content b').length"
            )
            == 0
        )
    assert label("value.new", "zh") in _open_popup(drv, XSS_LOCKER)
    assert drv.execute_script("return window.__alerts") == []


def test_real_click_opens_a_locker_popup(loaded, layers):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    drv = loaded
    drv.execute_script(FIND_MAP.join(["(", ").closePopup();"]))
    site = layers["lockers"].sort_values("compartments").iloc[-1]
    x, y, width, height = drv.execute_script(
        "var map = " + FIND_MAP + ", want = arguments[0], hit = null;"
        "map.eachLayer(function (l) { if (l.feature && l.feature.properties.site_id === want)"
        " { hit = l; } });"
        "var pt = map.latLngToContainerPoint(hit.getLatLng()), size = map.getSize();"
        "return [pt.x, pt.y, size.x, size.y];",
        site["site_id"],
    )
    element = drv.find_element("css selector", ".folium-map")
    ActionChains(drv).move_to_element_with_offset(
        element, int(x - width / 2), int(y - height / 2)
    ).click().perform()
    text = drv.execute_script(
        "var box = document.querySelector('.leaflet-popup-content');return box && box.textContent;"
    )
    assert text and site["site_id"] in text and label("field.compartments", "zh") in text
    WebDriverWait(drv, 5).until(
        lambda d: d.execute_script(
            "return getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
        )
    )
    ARTIFACTS.mkdir(exist_ok=True)
    assert drv.save_screenshot(str(ARTIFACTS / "map.png"))


def _click_button(drv, selector: str) -> None:
    drv.find_element("css selector", selector).click()


def test_measure_tool_sums_clicked_distances(loaded):
    from pyproj import Geod

    drv = loaded
    drv.execute_script(FIND_MAP.join(["(", ").closePopup();"]))
    _click_button(drv, ".ps-measure button")
    points = [(30.6580, 104.0600), (30.6620, 104.0600), (30.6620, 104.0660)]
    for lat, lon in points:
        drv.execute_script(
            "(" + FIND_MAP + ").fire('click', {latlng: L.latLng(arguments[0], arguments[1])});",
            lat,
            lon,
        )
    shown = drv.execute_script("return document.querySelector('.ps-measure-out').textContent")
    metres = drv.execute_script("return (" + FIND_MAP + ").psMeasure.length()")
    geod = Geod(ellps="WGS84")
    lats, lons = zip(*points, strict=True)
    expected = geod.line_length(lons, lats)
    assert metres == pytest.approx(expected, rel=0.005)  # Leaflet uses a sphere
    assert shown == f"{label('widget.distance', 'zh')}: {metres / 1000:.2f} km"
    _click_button(drv, ".ps-measure button")
    assert drv.execute_script("return (" + FIND_MAP + ").psMeasure.length()") == 0


def test_fullscreen_fills_the_window(loaded):
    drv = loaded
    _click_button(drv, ".ps-fullscreen-control button")
    size = drv.execute_script(
        "var c = (" + FIND_MAP + ").getContainer(), r = c.getBoundingClientRect();"
        "return [c.classList.contains('ps-fullscreen'), r.width, r.height,"
        " window.innerWidth, window.innerHeight];"
    )
    assert size[0] and size[1] == size[3] and size[2] == size[4]
    _click_button(drv, ".ps-fullscreen-control button")
    drv.execute_script("if (document.fullscreenElement) { document.exitFullscreen(); }")
    assert not drv.execute_script(
        "return (" + FIND_MAP + ").getContainer().classList.contains('ps-fullscreen')"
    )


def test_search_finds_sites_by_id_and_name(loaded, layers):
    from selenium.webdriver.common.keys import Keys

    drv = loaded
    box = drv.find_element("css selector", ".ps-search input")
    assert box.get_attribute("placeholder") == label("widget.search", "zh")
    site = layers["lockers"]["site_id"].iloc[3]
    box.clear()
    box.send_keys(site)
    items = drv.execute_script(
        "return Array.from(document.querySelectorAll('.ps-search li')).map(l => l.textContent)"
    )
    assert items and any(site in i for i in items)
    box.send_keys(Keys.ENTER)
    popup = drv.execute_script(
        "var b = document.querySelectorAll('.leaflet-popup-content');"
        "return b.length ? b[b.length - 1].textContent : null;"
    )
    assert popup and site in popup
    box.clear()
    box.send_keys("<script>alert")
    items = drv.execute_script(
        "return Array.from(document.querySelectorAll('.ps-search li')).map(l => l.textContent)"
    )
    assert any(XSS_LOCKER in i for i in items)
    assert drv.execute_script("return document.querySelectorAll('.ps-search script').length") == 0
    box.clear()
    box.send_keys("no-such-site-zzz")
    assert drv.execute_script(
        "return document.querySelector('.ps-search li').textContent"
    ) == label("widget.no_match", "zh")
    assert drv.execute_script("return window.__alerts") == []


def test_gaode_english_map_renders_offline(driver, layers):
    from selenium.webdriver.support.ui import WebDriverWait

    fmap = plan_map(layers, title="Chengdu plan", lang="en", basemap="gaode")
    path = save_map(fmap, ARTIFACTS / "map_gaode_en.html")
    driver.get_log("browser")  # drop the messages of the maps opened before
    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script(
            "return typeof L !== 'undefined' && "
            "document.querySelectorAll('.leaflet-overlay-pane path').length > 0"
        )
    )
    state = driver.execute_script(
        "return {resources: performance.getEntriesByType('resource').map(e => e.name),"
        " legend: document.querySelector('.ps-legend').textContent,"
        " search: document.querySelector('.ps-search input').placeholder,"
        " measure: document.querySelector('.ps-measure button').textContent,"
        " alerts: window.__alerts};"
    )
    assert [r for r in state["resources"] if "autonavi.com" not in r] == []
    assert label("legend.locker_new", "en") in state["legend"]
    assert label("note.gcj02", "en") in state["legend"]
    assert state["search"] == "Search site id or name" and state["measure"] == "Measure"
    assert state["alerts"] == []
    errors = [
        e
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and "autonavi.com" not in e["message"]
    ]
    assert errors == []
    assert driver.save_screenshot(str(ARTIFACTS / "map_gaode_en.png"))


def test_each_tier_has_its_own_symbol_on_the_map_and_in_the_legend(driver, puyang_osm, tmp_path):
    """Puyang with every tier: each station, village, township and hub is an SVG symbol."""
    from selenium.webdriver.support.ui import WebDriverWait

    from siting.pipeline import plan

    out = tmp_path / "tiers"
    result = plan(puyang_osm, tiers=["lockers", "stations", "villages", "townships", "hubs"],
                  out=out, lang="en")
    tiers = ("stations", "cargo_stations", "village_stations", "township_stations", "hubs")
    expected = sum(len(result.layers[t]) for t in tiers if t in result.layers)
    assert expected > 0
    driver.get((out / "map.html").resolve().as_uri())
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.querySelectorAll('.ps-symbol svg').length")
    )
    state = driver.execute_script(
        "return {"
        " symbols: document.querySelectorAll('.leaflet-marker-pane .ps-symbol svg').length,"
        " shapes: Array.from(new Set(Array.from(document.querySelectorAll("
        "   '.leaflet-marker-pane .ps-symbol polygon')).map(p => p.getAttribute('points')"
        "   .split(' ').length))).sort(),"
        " legendSymbols: document.querySelectorAll('.ps-legend .ps-swatch-symbol svg').length };"
    )
    assert state["symbols"] == expected
    drawn = {t for t in tiers if t in result.layers and len(result.layers[t])}
    corners = {SHAPES[TIER_SYMBOLS[t][0]][0] for t in drawn}
    assert set(state["shapes"]) == corners and len(corners) >= 3
    assert state["legendSymbols"] >= len(drawn)
    driver.save_screenshot(str(ARTIFACTS / "map_tiers.png"))
    errors = [e for e in driver.get_log("browser")
              if e["level"] == "SEVERE" and TILE_HOST not in e["message"]]
    assert errors == []


@pytest.fixture(scope="module")
def base(chengdu_osm_plain):
    return basemap_from_osm(chengdu_osm_plain)


def _hide_overlays_and_controls(drv) -> None:
    """Untick every overlay in the layer control, then hide the controls that cover the map."""
    drv.execute_script(
        "document.querySelectorAll('.leaflet-control-layers-overlays input')"
        ".forEach(function (box) { if (box.checked) { box.click(); } });"
    )
    assert drv.execute_script(
        "return document.querySelectorAll('.leaflet-control-layers-overlays input:checked')"
        ".length"
    ) == 0
    drv.execute_script(
        "document.querySelector('.leaflet-control-container').style.visibility = 'hidden';"
    )
    drv.execute_async_script(  # let the canvas redraw: two animation frames
        "var done = arguments[0]; requestAnimationFrame(function () {"
        " requestAnimationFrame(function () { done(); }); });"
    )


def _screen_xy(drv, points) -> np.ndarray:
    """Page pixels of points (a GeoSeries in any CRS), as the map projects them now."""
    points = points.to_crs(4326)
    return np.array(drv.execute_script(
        "var map = " + FIND_MAP + ", box = map.getContainer().getBoundingClientRect(),"
        " r = window.devicePixelRatio;"
        "return arguments[0].map(function (p) {"
        " var c = map.latLngToContainerPoint(L.latLng(p[1], p[0]));"
        " return [(c.x + box.left) * r, (c.y + box.top) * r]; });",
        [[float(p.x), float(p.y)] for p in points],
    ))


def _colour(css: str) -> np.ndarray:
    return np.array([int(css[i:i + 2], 16) for i in (1, 3, 5)])


def _drawn_in(pixels: np.ndarray, xy: np.ndarray, colour: str, *, near: int) -> np.ndarray:
    """Whether some pixel within ``near`` pixels of each point has the colour (± 12)."""
    h, w, _ = pixels.shape
    found = []
    for x, y in np.round(xy).astype(int):
        patch = pixels[max(0, y - near):min(h, y + near + 1), max(0, x - near):min(w, x + near + 1)]
        found.append(bool((np.abs(patch - _colour(colour)).max(axis=2) <= 12).any()))
    return np.array(found)


def test_offline_basemap_draws_the_streets_and_buildings_of_the_extract(driver, layers, base):
    """Network off, every overlay hidden: the extract's streets and buildings are on screen."""
    from PIL import Image
    from selenium.webdriver.support.ui import WebDriverWait

    fmap = plan_map(layers, title="basemap", lang="zh", base_features=base)
    path = save_map(fmap, ARTIFACTS / "map_offline_basemap.html")
    driver.get(path.resolve().as_uri())
    name = label("basemap.offline", "zh")
    # The OSM tiles fail without network, so the map swaps to the offline basemap by itself.
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "var l = Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
        ".find(l => l.textContent.trim() === arguments[0]);"
        "return l && l.querySelector('input').checked && "
        "document.querySelector('.leaflet-" + BASEMAP_PANE + "-pane canvas') !== null;", name))
    assert driver.execute_script(
        "var n = 0; " + FIND_MAP + ".eachLayer(function (l) {"
        " if (l instanceof L.TileLayer) { n++; } }); return n;") == 0
    _hide_overlays_and_controls(driver)
    assert _paths(driver) == 0
    png = driver.get_screenshot_as_png()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "map_offline_basemap.png").write_bytes(png)
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)

    empty = driver.execute_script(
        "return getComputedStyle(" + FIND_MAP + ".getContainer()).backgroundColor")
    background = np.array([int(v) for v in re.findall(r"\d+", empty)[:3]])
    differs = (np.abs(pixels - background).max(axis=2) > 8).mean()
    assert differs > 0.4, f"only {differs:.1%} of the map differs from its empty background"

    buildings = base[base["kind"] == "building"]
    xy = _screen_xy(driver, buildings.loc[buildings.area.nlargest(40).index].representative_point())
    h, w, _ = pixels.shape
    inside = (xy[:, 0] > 5) & (xy[:, 0] < w - 5) & (xy[:, 1] > 5) & (xy[:, 1] < h - 5)
    assert inside.sum() >= 30
    on = _drawn_in(pixels, xy[inside], BASEMAP_STYLES["building"]["fillColor"], near=1)
    assert on.mean() >= 0.8, f"{on.mean():.0%} of the largest buildings are drawn"

    for kind in ("street_major", "street_minor"):
        streets = base[base["kind"] == kind]
        longest = streets.loc[streets.length.nlargest(25).index]
        xy = _screen_xy(driver, longest.geometry.interpolate(0.5, normalized=True))
        inside = (xy[:, 0] > 5) & (xy[:, 0] < w - 5) & (xy[:, 1] > 5) & (xy[:, 1] < h - 5)
        assert inside.sum() >= 15
        on = _drawn_in(pixels, xy[inside], BASEMAP_STYLES[kind]["color"], near=2)
        assert on.mean() >= 0.8, f"{on.mean():.0%} of the longest {kind} lines are drawn"
    attribution = driver.execute_script(
        "return document.querySelector('.leaflet-control-attribution').textContent")
    assert "© OpenStreetMap contributors (ODbL)" in attribution


def test_map_without_tiles_opens_on_the_offline_basemap_and_requests_nothing(
    driver, layers, base
):
    from selenium.webdriver.support.ui import WebDriverWait

    fmap = plan_map(layers, title="basemap", lang="en", basemap="none", base_features=base)
    path = save_map(fmap, ARTIFACTS / "map_no_tiles.html")
    driver.get_log("browser")
    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "return document.querySelector('.leaflet-" + BASEMAP_PANE + "-pane canvas') !== null"))
    state = driver.execute_script(
        "return {resources: performance.getEntriesByType('resource').map(e => e.name),"
        " base: Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
        "   .map(l => [l.textContent.trim(), l.querySelector('input').checked]),"
        " paneZ: +getComputedStyle(document.querySelector('.leaflet-" + BASEMAP_PANE
        + "-pane')).zIndex,"
        " overlayZ: +getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex};"
    )
    assert state["resources"] == []
    assert state["base"] == [[label("basemap.offline", "en"), True]]
    assert state["paneZ"] < state["overlayZ"]  # the plan stays above the basemap
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
