"""The map `siting demo` writes, opened in headless Chromium with the network cut."""

from __future__ import annotations

import pytest
from test_map_browser import ARTIFACTS, FIND_MAP, TILE_HOST, driver  # noqa: F401 (fixture)

from siting.pipeline import plan

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(chengdu_osm, tmp_path_factory):
    return plan(chengdu_osm, out=tmp_path_factory.mktemp("demo") / "out")


def test_demo_map_renders_every_plan_layer_offline(driver, demo):  # noqa: F811
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get((demo.out / "map.html").resolve().as_uri())
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "return typeof L !== 'undefined' && "
            "document.querySelectorAll('.leaflet-overlay-pane path').length > 0"
        )
    )
    state = driver.execute_script(
        "var counts = {}; " + FIND_MAP + ".eachLayer(function (l) {"
        "  var p = l.feature && l.feature.properties; if (!p) { return; }"
        "  var key = p.site_id !== undefined && p.modules !== undefined ? 'lockers'"
        "    : p.reason !== undefined ? 'uncovered'"
        "    : p.residents !== undefined ? 'demand' : 'other';"
        "  counts[key] = (counts[key] || 0) + 1; });"
        "return {counts: counts,"
        " externalScripts: Array.from(document.scripts).filter(s => s.src).length,"
        " externalSheets: Array.from(document.styleSheets).filter(s => s.href).length,"
        " resources: performance.getEntriesByType('resource').map(e => e.name),"
        " legend: document.querySelectorAll('.ps-legend').length,"
        " control: document.querySelectorAll('.leaflet-control-layers').length,"
        " attribution: document.querySelector('.leaflet-control-attribution').textContent};"
    )
    layers = demo.layers
    assert state["counts"].get("lockers") == len(layers["lockers"])
    assert state["counts"].get("demand") == len(layers["demand"])
    assert state["counts"].get("uncovered", 0) == len(layers["uncovered"])
    assert state["externalScripts"] == 0 and state["externalSheets"] == 0
    assert [r for r in state["resources"] if TILE_HOST not in r] == []
    assert state["legend"] == 1 and state["control"] == 1
    assert "OpenStreetMap contributors" in state["attribution"]
    errors = [
        e
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and TILE_HOST not in e["message"]
    ]
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "demo_map.png"))
