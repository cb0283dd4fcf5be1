"""Charts and the comparison page of a batch of what-if scenarios.

``tradeoff.png`` plots lockers, cost and parcel coverage against the parameter the batch sweeps
(the walking radius, else the budget, the growth factor or the time limit), one line per
combination of the other settings that vary (the rules preset in a radius x rules sweep), with
one legend below the three panels, clear of the data. ``scenarios.png`` shows the same three
figures per scenario. ``comparison.html`` embeds both and the results table, cost in whole yuan
with its unit and shares as percentages. Every chart is drawn with the bundled font
(:mod:`maps.fonts`), so Chinese labels and scenario names read on any machine.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from maps.files import atomic_file
from maps.fonts import drawing_style
from maps.i18n import check_lang, label

__all__ = ["SWEPT", "comparison_charts", "comparison_page", "swept_parameter", "tradeoff_figure"]

#: Parameters a chart can put on its x axis, in the order one is chosen.
SWEPT: tuple[str, ...] = ("radius_m", "budget", "growth_factor", "time_limit")
_SETTINGS = ("area", "rules", "mode", "budget", "growth_factor", "solver", "time_limit", "tiers",
             "radius_m")
_MEASURES = ("sites", "cost", "coverage")
_COLOURS = {"sites": "#4477aa", "cost": "#ee6677", "coverage": "#228833"}


def swept_parameter(table: pd.DataFrame) -> str | None:
    """Return the parameter a batch sweeps: the first of :data:`SWEPT` with two or more values.

    Parameters
    ----------
    table
        The results table (successful rows).

    Returns
    -------
    str or None
        A column name, or ``None`` when no numeric parameter varies.
    """
    return next((c for c in SWEPT if table[c].nunique() >= 2), None)


def _varying(table: pd.DataFrame, exclude: str) -> list[str]:
    return [c for c in _SETTINGS if c != exclude and table[c].nunique(dropna=False) > 1]


def _values(table: pd.DataFrame, measure: str) -> np.ndarray:
    """Return a measure per row: lockers, cost in yuan (``min-cost`` rows only), coverage in %."""
    if measure == "coverage":
        return 100 * table["coverage"].to_numpy(float)
    if measure == "cost":
        return np.where(table["mode"] == "min-cost", table["cost"].to_numpy(float), np.nan)
    return table[measure].to_numpy(float)


def _money(value: float, lang: str) -> str:
    return f"{round(value):,} {'元' if lang == 'zh' else 'CNY'}"


def _style_axis(ax: Axes, measure: str, lang: str, *, values_on: str) -> None:
    """Title the panel with its measure and write its values' ticks with separators."""
    ax.set_title(label(f"batch.{measure}", lang), fontsize=10)
    ax.grid(alpha=0.3)
    axis = ax.yaxis if values_on == "y" else ax.xaxis
    axis.set_major_locator(MaxNLocator(nbins=4 if values_on == "x" else "auto"))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def tradeoff_figure(table: pd.DataFrame, x: str, *, lang: str = "zh") -> Figure:
    """Draw lockers, cost and coverage against the swept parameter ``x``.

    Parameters
    ----------
    table
        Successful rows of the results table.
    x
        The swept column (see :func:`swept_parameter`).
    lang
        {"zh", "en"}.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels; one line per combination of the other varying settings; the legend
        (when there are several lines) below the panels.
    """
    check_lang(lang)
    groups = _varying(table, exclude=x)
    fig = Figure(figsize=(12, 4.4), dpi=110, layout="constrained")
    axes = fig.subplots(1, len(_MEASURES))
    keyed = table.groupby(groups, dropna=False, sort=True) if groups else [((), table)]
    for key, part in keyed:
        part = part.sort_values(x)
        values = key if isinstance(key, tuple) else (key,)
        name = ", ".join(f"{g}={v}" for g, v in zip(groups, values, strict=True))
        for ax, measure in zip(axes, _MEASURES, strict=True):
            ax.plot(part[x], _values(part, measure), marker="o", label=name or None)
    for ax, measure in zip(axes, _MEASURES, strict=True):
        ax.set_xlabel(label(f"batch.param.{x}", lang))
        ax.set_xticks(sorted(table[x].unique()))
        _style_axis(ax, measure, lang, values_on="y")
    axes[-1].set_ylim(0, 105)
    handles, names = axes[0].get_legend_handles_labels()
    if len(names) > 1:
        fig.legend(handles, names, loc="outside lower center", ncols=min(len(names), 3),
                   fontsize=8, frameon=False)
    fig.suptitle(label("batch.tradeoff", lang, x=label(f"batch.param.{x}", lang)))
    return fig


def _scenarios_figure(table: pd.DataFrame, lang: str) -> Figure:
    """Draw lockers, cost and coverage per scenario as bars, each labelled with its value."""
    fig = Figure(figsize=(12, 0.45 * len(table) + 1.8), dpi=110, layout="constrained")
    axes = fig.subplots(1, len(_MEASURES), sharey=True)
    y = np.arange(len(table))
    for ax, measure in zip(axes, _MEASURES, strict=True):
        values = _values(table, measure)
        bars = ax.barh(y, np.nan_to_num(values), color=_COLOURS[measure])
        ax.bar_label(bars, [_measure_text(v, measure, lang) for v in values], fontsize=7,
                     padding=2)
        ax.margins(x=0.25)
        _style_axis(ax, measure, lang, values_on="x")
    axes[0].set_yticks(y, table["scenario"].tolist(), fontsize=7)
    axes[0].invert_yaxis()
    axes[-1].set_xlim(0, 125)
    fig.suptitle(label("batch.per_scenario", lang))
    return fig


def _measure_text(value: float, measure: str, lang: str) -> str:
    if math.isnan(value):
        return ""
    if measure == "cost":
        return _money(value, lang)
    return f"{value:.1f}%" if measure == "coverage" else f"{value:,.0f}"


def _save_png(fig: Figure, target: Path) -> Path:
    FigureCanvasAgg(fig)
    return atomic_file(target, lambda tmp: fig.savefig(tmp, format="png"))


def comparison_charts(table: pd.DataFrame, out: Path, *, lang: str = "zh") -> dict[str, Path]:
    """Draw the comparison charts (matplotlib, Agg canvas) as PNG files.

    ``tradeoff.png`` (see :func:`tradeoff_figure`) is drawn when the successful rows sweep a
    parameter of :data:`SWEPT`; ``scenarios.png`` always, when a row succeeded.

    Parameters
    ----------
    table
        The results table.
    out
        The batch folder.
    lang
        {"zh", "en"}: language of the labels.

    Returns
    -------
    dict
        File name to path of the charts written.
    """
    check_lang(lang)
    ok = table[table["status"] != "failed"]
    files: dict[str, Path] = {}
    if ok.empty:
        return files
    with drawing_style():
        x = swept_parameter(ok)
        if x is not None:
            files["tradeoff.png"] = _save_png(tradeoff_figure(ok, x, lang=lang),
                                              out / "tradeoff.png")
        files["scenarios.png"] = _save_png(_scenarios_figure(ok, lang), out / "scenarios.png")
    return files


def _cell(value: object, column: str, lang: str) -> str:
    """Return a table cell as a reader wants it: shares in per cent, cost in whole yuan."""
    if not isinstance(value, float):
        return str(value)
    if math.isnan(value):
        return ""
    if column in ("coverage", "gap"):
        return f"{max(value, 0.0):.2%}" if column == "gap" else f"{value:.1%}"
    if column == "cost":
        return _money(value, lang)
    if column == "seconds":
        return f"{value:,.1f}"
    return f"{value:,.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:.3g}"


_SHOWN: Sequence[str] = ("scenario", "status", "sites", "modules", "compartments", "stations",
                         "hubs", "coverage", "cost", "rules_passed", "rules_total", "rules_failed",
                         "rules_not_evaluated", "rules_not_applicable", "gap", "seconds",
                         "skipped", "error")

_PAGE = """<!DOCTYPE html>
<html lang="{html_lang}"><head><meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }}
tr.failed td {{ background: #fde8e8; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{title}</h1>
<p>{planned}</p>
{images}
<table><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table>
</body></html>
"""


def _row_html(row: pd.Series, lang: str) -> str:
    cells = []
    for c in _SHOWN:
        text = html.escape(_cell(row.get(c, math.nan), c, lang))
        if c == "scenario" and row["status"] != "failed":
            link = html.escape(f"{row['scenario']}/map.html", quote=True)
            text = f'<a href="{link}">{text}</a>'
        cells.append(f"<td>{text}</td>")
    cls = ' class="failed"' if row["status"] == "failed" else ""
    return f"<tr{cls}>{''.join(cells)}</tr>"


def comparison_page(table: pd.DataFrame, charts: Mapping[str, Path], out: Path, *,
                    lang: str = "zh") -> Path:
    """Write ``comparison.html``: the charts (embedded) and the results table, all escaped.

    Parameters
    ----------
    table
        The results table.
    charts
        Chart file name to path (from :func:`comparison_charts`).
    out
        The batch folder.
    lang
        {"zh", "en"}: language of the title and the note.

    Returns
    -------
    pathlib.Path
        The page.
    """
    check_lang(lang)
    images = "".join(
        f'<figure><img alt="{html.escape(name, quote=True)}" src="data:image/png;base64,'
        f'{base64.b64encode(Path(path).read_bytes()).decode("ascii")}"><figcaption>'
        f"{html.escape(name)}</figcaption></figure>"
        for name, path in charts.items())
    ok = int((table["status"] != "failed").sum())
    page = _PAGE.format(
        html_lang="zh-CN" if lang == "zh" else "en",
        title=html.escape(label("batch.title", lang)),
        planned=html.escape(label("batch.planned", lang, ok=ok, n=len(table))),
        images=images,
        head="".join(f"<th>{html.escape(c)}</th>" for c in _SHOWN),
        body="\n".join(_row_html(row, lang) for _, row in table.iterrows()),
    )
    target = out / "comparison.html"
    return atomic_file(target, lambda tmp: tmp.write_text(page, encoding="utf-8"))
