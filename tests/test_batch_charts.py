"""Batch charts and comparison page, on a real radius x rules sweep of the Chengdu extract."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from maps.batch_charts import comparison_charts, comparison_page, swept_parameter, tradeoff_figure
from maps.fonts import FONT_FAMILY, drawing_style
from maps.i18n import label
from siting.batch import RESULT_COLUMNS, run_scenario
from siting.scenario import load_scenarios


@pytest.fixture(scope="module")
def sweep(chengdu_osm: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    """Four real plans: radius 200 and 400 m, national and Guangdong rules."""
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "chengdu.osm.xz").symlink_to(chengdu_osm)
    (folder / "sweep.toml").write_text("""
name = "tianfu"
[area]
osm = "chengdu.osm.xz"
[solver]
time_limit = 30
[sweep]
radius_m = [200, 400]
rules = ["national", "guangdong"]
""", encoding="utf-8")
    out = folder / "out"
    rows = [run_scenario(run, out) for run in load_scenarios(folder / "sweep.toml")]
    table = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    assert (table["status"] == "optimal").all(), table["error"].tolist()
    return table, out


@pytest.mark.slow
def test_tradeoff_plots_sites_cost_and_coverage_against_the_swept_radius(sweep):
    table, _ = sweep
    assert swept_parameter(table) == "radius_m"
    with drawing_style():
        fig = tradeoff_figure(table, "radius_m", lang="zh")
        FigureCanvasAgg(fig).draw()
        axes = fig.get_axes()
        titles = [ax.get_title() for ax in axes]
        assert titles == [label(f"batch.{m}", "zh") for m in ("sites", "cost", "coverage")]
        for ax, column, scale in zip(axes, ("sites", "cost", "coverage"), (1, 1, 100),
                                     strict=True):
            lines = ax.get_lines()
            assert len(lines) == 2  # one per rules preset
            for line, (_, part) in zip(lines, table.groupby("rules", sort=True), strict=True):
                part = part.sort_values("radius_m")
                assert np.asarray(line.get_xdata()).tolist() == [200, 400]
                assert np.allclose(line.get_ydata(), scale * part[column].to_numpy(float))
            assert ax.get_xlabel() == label("batch.param.radius_m", "zh")
        # the legend sits below the panels, clear of every one of them
        (legend,) = fig.legends
        assert [t.get_text() for t in legend.get_texts()] == ["rules=guangdong",
                                                              "rules=national"]
        box = legend.get_window_extent()
        assert not any(box.overlaps(ax.get_window_extent()) for ax in axes)
        # every label is drawn with the bundled font (Chinese titles, not boxes)
        texts = [t for t in fig.findobj(Text) if t.get_text().strip()]
        assert texts and {t.get_fontname() for t in texts} == {FONT_FAMILY}


@pytest.mark.slow
def test_charts_and_page_read_money_and_percentages(sweep, tmp_path):
    table, _ = sweep
    failed = table.iloc[[0]].assign(status="failed", scenario="broken", error="OsmFileError: x")
    files = comparison_charts(pd.concat([table, failed], ignore_index=True), tmp_path)
    assert sorted(files) == ["scenarios.png", "tradeoff.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in files.values())
    page = comparison_page(table, files, tmp_path, lang="zh").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2 and label("batch.title", "zh") in page
    row = table.iloc[0]
    assert f"{round(row['cost']):,} 元" in page and f"{row['coverage']:.1%}" in page
    body = page[page.index("<tbody>"):]
    assert not re.search(r"\de[-+]\d|\.0 元", body)  # no 1.2e-16, no 3,794,000.0
    assert f'href="{row["scenario"]}/map.html"' in page


def test_no_swept_parameter_means_no_tradeoff_chart(tmp_path):
    table = pd.DataFrame([{c: np.nan for c in RESULT_COLUMNS} | {
        "scenario": "one", "status": "optimal", "sites": 43.0, "cost": 3_794_000.0,
        "coverage": 0.9973, "mode": "min-cost", "radius_m": 300.0, "budget": np.nan,
        "growth_factor": 1.0, "time_limit": 30.0}])
    assert swept_parameter(table) is None
    assert sorted(comparison_charts(table, tmp_path, lang="en")) == ["scenarios.png"]
