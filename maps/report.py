"""One report per run: ``report.html``, and a printable one-page ``report.pdf`` / ``.png``.

``report.html`` holds the KPIs, rule compliance, communities, map and chart.

The HTML page is self-contained (images are PNG ``data:`` URIs, no script, no link), so it can
be mailed or archived as one file; every string from the data or the summary is escaped. The
static map and the chart are drawn with matplotlib's object API (no pyplot global state, Agg
canvas) in a local UTM projection, without basemap tiles, so the report is made offline. The
printable page is the same content drawn on one A4 matplotlib figure, saved as PDF and PNG.
Every image is drawn with the font the package ships (:mod:`maps.fonts`), never a system font,
and the PDF embeds the subset of it the page uses.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
import textwrap
import time
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from geodata.demand import UNASSIGNED
from geodata.errors import InputDataError, OutputError, ParameterError
from maps.fonts import drawing_style
from maps.i18n import LABELS, check_lang, label, rule_state_label
from maps.layer_styles import RATIO_COLOURS, RATIO_RANGE, community_ratio, is_missing, ratio_class
from optimizer.compliance import rule_state, rule_state_counts

__all__ = ["write_report", "report_html", "report_figures"]

log = logging.getLogger(__name__)

_KPI_KEYS = ("status", "objective", "bound", "gap", "solve_s")
#: Below this a float is a solver's or a sum's rounding noise, and reads 0.
_NOISE = 1e-9
_RULE_COLUMNS = ("id", "clause", "required", "achieved", "passed")
_NEW, _EXISTING, _UNCOVERED = "#e6550d", "#08519c", "#d7191c"

_CSS = """
body { font: 14px/1.5 "Helvetica Neue", Arial, "PingFang SC", "Noto Sans CJK SC",
  "Microsoft YaHei", sans-serif; color: #222; max-width: 1100px; margin: 24px auto;
  padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px;
  border-bottom: 1px solid #ddd; padding-bottom: 3px; }
.kpis { display: flex; flex-wrap: wrap; gap: 10px; }
.kpi { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; min-width: 120px; }
.kpi .v { font-size: 19px; font-weight: 600; } .kpi .k { color: #666; font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #c62828; font-weight: 600; }
.na { color: #666666; }
.warn { color: #b3261e; font-weight: 600; border-left: 4px solid #b3261e; padding-left: 8px; }
img { max-width: 100%; border: 1px solid #eee; }
.note { color: #666; font-size: 12px; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
  table, img { break-inside: avoid; } }
"""


def _fmt(value: object, lang: str) -> str:
    """Return a value as short plain text (not yet escaped)."""
    if is_missing(value):
        return label("value.none", lang)
    if isinstance(value, bool | np.bool_):
        return label("value.yes" if value else "value.no", lang)
    if isinstance(value, Integral):
        return f"{int(value):,}"
    if isinstance(value, Real):
        number = float(value)
        if math.isinf(number):
            return "∞"
        if abs(number) < _NOISE:
            return "0"
        if number.is_integer() and abs(number) < 1e15:
            return f"{int(number):,}"
        if abs(number) >= 100:
            return f"{number:,.1f}"
        return f"{number:.4g}"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_fmt(v, lang)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_fmt(v, lang) for v in value)
    return str(value)


def _solver_figure(key: str, summary: Mapping[str, Any], lang: str) -> str:
    """Return a solver figure as a reader wants it.

    A status word, a gap in per cent, money in whole yuan (``min-cost``) or parcels a day
    (``max-cover``).
    """
    value = summary[key]
    if key == "status" and f"status.{value}" in LABELS:
        return label(f"status.{value}", lang)
    if is_missing(value) or not isinstance(value, Real):
        return _fmt(value, lang)
    if key == "gap":
        return f"{max(float(value), 0.0):.2%}"
    if key in ("objective", "bound"):
        cover = summary.get("parameters", {}).get("mode") == "max-cover"
        unit = ("件/日" if lang == "zh" else "parcels/day") if cover else (
            "元" if lang == "zh" else "CNY")
        return f"{round(float(value)):,} {unit}"
    return _fmt(value, lang)


def _share(value: object, lang: str) -> str:
    """Return a share (0 to 1) as a percentage, one decimal."""
    if is_missing(value) or not isinstance(value, Real):
        return _fmt(value, lang)
    return f"{float(value):.1%}"


def _data_kpis(summary: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """Return the boundary's area and the share the OSM data covers (``study_area``)."""
    block = summary.get("study_area")
    if not isinstance(block, Mapping) or "data_coverage_share" not in block:
        return []
    return [
        (label("report.data_coverage", lang), _share(block["data_coverage_share"], lang)),
        (label("report.boundary_km2", lang), f"{_fmt(block.get('boundary_km2'), lang)} km²"),
    ]


def _partial_warning(summary: Mapping[str, Any], lang: str) -> str | None:
    """Return the warning for a boundary the data covers only in part, else ``None``."""
    block = summary.get("study_area")
    if not isinstance(block, Mapping) or not block.get("partial"):
        return None
    return label("report.partial_data", lang, share=_share(block.get("data_coverage_share"), lang),
                 covered=_fmt(block.get("data_covered_km2"), lang),
                 whole=_fmt(block.get("boundary_km2"), lang))


def _kpis(summary: Mapping[str, Any], layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> list[
    tuple[str, str]
]:
    """(label, value) pairs: solver figures, data coverage, counts, coverage, lockers."""
    out: list[tuple[str, str]] = []
    for key in _KPI_KEYS:
        if key in summary:
            out.append((label(f"kpi.{key}", lang), _solver_figure(key, summary, lang)))
    out.extend(_data_kpis(summary, lang))
    for group in ("counts", "coverage"):
        block = summary.get(group)
        if isinstance(block, Mapping):
            for key, value in block.items():
                if not isinstance(value, Mapping | list):
                    name = label(f"count.{key}", lang) if f"count.{key}" in LABELS else key
                    text = _share(value, lang) if "share" in key else _fmt(value, lang)
                    out.append((f"{label(f'kpi.{group}', lang)} · {name}", text))
    lockers = layers.get("lockers")
    if lockers is not None and len(lockers):
        out.append((label("summary.lockers", lang), _fmt(len(lockers), lang)))
        if "compartments" in lockers.columns:
            total = pd.to_numeric(lockers["compartments"], errors="coerce").sum()
            out.append((label("summary.compartments", lang), _fmt(int(total), lang)))
    return out


#: CSS class of each rule state.
_STATE_CLASS = {"passed": "pass", "failed": "fail", "not evaluated": "na", "not applicable": "na"}


def _verdict(rule: Mapping[str, Any], lang: str) -> tuple[str, str]:
    """Return a record's state in ``lang`` and its CSS class (pass, fail, not evaluated, n/a)."""
    state = rule_state(rule)
    return rule_state_label(state, lang), _STATE_CLASS[state]


def _rule_id(rule: Mapping[str, Any], lang: str) -> str:
    """Return the rule's id and, for a per-place record, the place (``R2 · 文翁社区``)."""
    if rule.get("community") == UNASSIGNED:
        place = label("report.unassigned", lang)
    else:
        place = str(rule.get("place") or "")
    return _fmt(rule.get("id"), lang) + (f" · {place}" if place else "")


#: Record field -> the field holding it in Chinese: for ``required``, the plan's own words.
_ZH_FIELDS = {"required": "quote", "achieved": "achieved_zh", "reason": "reason_zh"}


def _text_of(rule: Mapping[str, Any], field: str, lang: str) -> str:
    """Return a record's ``required`` or ``achieved`` text in ``lang`` (Chinese where given).

    The ``achieved`` text of a failed record ends with its ``reason``, when it has one.
    """
    zh = rule.get(_ZH_FIELDS[field])
    text = str(zh) if lang == "zh" and zh else _fmt(rule.get(field), lang)
    if field == "achieved" and rule_state(rule) != "passed" and rule.get("reason"):
        text += f" — {_text_of(rule, 'reason', lang)}"
    return text


def _r2_range(summary: Mapping[str, Any]) -> tuple[str, str]:
    """Return R2's range as applied (``summary["rules_applied"]``), else the plans' default."""
    for rule in summary.get("rules_applied") or []:
        value = rule.get("value") if isinstance(rule, Mapping) else None
        if isinstance(value, Sequence) and len(value) == 2 and rule.get("id") == "R2":
            return f"{float(value[0]):g}", f"{float(value[1]):g}"
    return f"{RATIO_RANGE[0]:g}", f"{RATIO_RANGE[1]:g}"


def _rules(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rules = summary.get("rules") or []
    if not isinstance(rules, Sequence) or not all(isinstance(r, Mapping) for r in rules):
        raise InputDataError(
            None,
            "summary['rules'] is not a list of {id, clause, required, achieved, passed} records",
            "pass the summary written by the planner (optimizer.compliance)",
        )
    return list(rules)


def _community_table(layers: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """One row per community: id, name, daily parcels, compartments, ratio and its class."""
    frame = layers.get("communities")
    if frame is None or len(frame) == 0:
        return pd.DataFrame()
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    cols = [c for c in ("community", "name", "daily_parcels", "compartments") if c in table]
    out = table[cols].copy()
    ratio = community_ratio(table)
    if ratio is not None:
        out["ratio"] = ratio.round(3).to_numpy()
        out["_class"] = ratio.map(ratio_class).to_numpy()
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- figures


def _draw_map(ax: Axes, layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> None:
    """Draw the plan on ``ax`` in local UTM: communities, catchments, demand, sites."""
    present = {k: v for k, v in layers.items() if v is not None and len(v) and v.crs is not None}
    ax.set_axis_off()
    if not present:
        return
    base = present.get("boundary", next(iter(present.values())))
    utm = base.to_crs(4326).estimate_utm_crs()
    frames = {k: v.to_crs(utm) for k, v in present.items()}
    if "communities" in frames:
        comm = frames["communities"]
        ratio = community_ratio(comm)
        colours = (
            ratio.map(ratio_class).map(RATIO_COLOURS)
            if ratio is not None
            else pd.Series("#dddddd", index=comm.index)
        )
        comm.plot(ax=ax, color=colours.to_numpy(), alpha=0.35, edgecolor="#555555", linewidth=0.6)
    if "catchments" in frames:
        frames["catchments"].boundary.plot(ax=ax, color=_NEW, linewidth=0.4, alpha=0.6)
    if "demand" in frames:
        frames["demand"].plot(ax=ax, color="#777777", markersize=1.5, alpha=0.6)
    if "uncovered" in frames:
        frames["uncovered"].plot(ax=ax, color=_UNCOVERED, markersize=6, marker="x", linewidth=0.8)
    if "lockers" in frames:
        lockers = frames["lockers"]
        existing = lockers.get("existing", pd.Series(False, index=lockers.index))
        existing = existing.map(lambda v: not is_missing(v) and bool(v))
        size = pd.to_numeric(lockers.get("compartments", 60), errors="coerce").fillna(60)
        lockers.plot(
            ax=ax,
            color=np.where(existing, _EXISTING, _NEW),
            markersize=np.clip(np.sqrt(np.asarray(size, dtype=float)) * 2.0, 8, 120),
            edgecolor="white",
            linewidth=0.5,
            zorder=5,
        )
    if "boundary" in frames:
        frames["boundary"].boundary.plot(ax=ax, color="#222222", linewidth=1.2, linestyle="--")
    ax.set_aspect("equal")
    handles = [
        ax.scatter([], [], color=_NEW, s=30, label=label("value.new", lang)),
        ax.scatter([], [], color=_EXISTING, s=30, label=label("value.existing", lang)),
        ax.scatter(
            [], [], color=_UNCOVERED, marker="x", s=20, label=label("layer.uncovered", lang)
        ),
    ]
    # below the map, clear of the data
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.01), ncols=3,
              fontsize=7, frameon=False)
    ax.text(
        0.99, 0.01, "© OpenStreetMap contributors (ODbL)", transform=ax.transAxes,
        ha="right", va="bottom", fontsize=6, color="#444444",
    )


def _draw_chart(ax: Axes, table: pd.DataFrame, lang: str) -> None:
    """Compartments against daily parcels per community, with the rule's band."""
    if table.empty or not {"daily_parcels", "compartments"} <= set(table.columns):
        ax.set_axis_off()
        ax.text(0.5, 0.5, label("report.no_chart", lang), ha="center", va="center")
        return
    names = [
        str(n) if not is_missing(n) else str(c)
        for c, n in zip(table["community"], table.get("name", table["community"]), strict=True)
    ]
    y = np.arange(len(table))
    parcels = pd.to_numeric(table["daily_parcels"], errors="coerce").fillna(0).to_numpy()
    compartments = pd.to_numeric(table["compartments"], errors="coerce").fillna(0).to_numpy()
    ax.barh(y - 0.2, parcels, height=0.4, color="#9ecae1", label=label("field.daily_parcels", lang))
    ax.barh(y + 0.2, compartments, height=0.4, color=_NEW, label=label("field.compartments", lang))
    low, high = RATIO_RANGE
    for i, value in enumerate(parcels):
        ax.plot([low * value, high * value], [i + 0.2] * 2, color="#222222", linewidth=1.2)
    ax.set_yticks(y, [n[:18] for n in names], fontsize=7)
    ax.invert_yaxis()
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.06), ncols=2,
              frameon=False)  # below the axis, clear of the bars
    ax.set_title(label("report.chart", lang, low=f"{low:g}", high=f"{high:g}"), fontsize=9)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    return buffer.getvalue()


def report_figures(
    layers: Mapping[str, gpd.GeoDataFrame], *, lang: str = "zh"
) -> tuple[bytes, bytes]:
    """Draw the static map and the community chart of a plan.

    Parameters
    ----------
    layers
        The plan's layers (``boundary``, ``communities``, ``catchments``, ``demand``,
        ``uncovered``, ``lockers``; any may be missing), any CRS.
    lang
        {"zh", "en"}.

    Returns
    -------
    tuple of bytes
        PNG images: the map and the chart.
    """
    check_lang(lang)
    table = _community_table(layers)
    with drawing_style():
        map_fig = Figure(figsize=(7, 7))
        _draw_map(map_fig.add_subplot(), layers, lang)
        chart_fig = Figure(figsize=(7, max(2.5, 0.45 * len(table) + 1.2)))
        _draw_chart(chart_fig.add_subplot(), table, lang)
        return _png(map_fig), _png(chart_fig)


# --------------------------------------------------------------------------- HTML


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _table_html(header: Sequence[str], rows: Sequence[Sequence[tuple[str, str]]]) -> str:
    """Return a table; each cell is ``(text, css_class)``; all text escaped."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{html.escape(cls)}">{html.escape(text)}</td>' if cls else
            f"<td>{html.escape(text)}</td>"
            for text, cls in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _input_rows_html(summary: Mapping[str, Any], lang: str) -> list[str]:
    """Return the planner's table rows, used or not and why (``summary["input_rows"]``)."""
    records = summary.get("input_rows") or []
    if not records:
        return []
    header = [label(f"report.input_{k}", lang) for k in ("file", "row", "name", "status",
                                                          "reason")]
    rows = [[(str(r["file"]), ""), (str(r["row"]), "num"), (str(r["name"]), ""),
             (label(f"report.input_{r['status']}", lang),
              "pass" if r["status"] == "used" else "fail"), (str(r["reason"]), "")]
            for r in records]
    dropped = sum(1 for r in records if r["status"] == "dropped")
    return [f"<h2>{html.escape(label('report.input_rows', lang))}</h2>", _table_html(header, rows),
            '<p class="note">' + html.escape(label("report.input_rows_count", lang,
                                                   n=len(records), dropped=dropped)) + "</p>"]


#: Columns of the stations' floor-area table (R1), in order.
_STATION_AREA_COLUMNS = ("id", "community_name", "daily_parcels", "planned_area_m2",
                         "available_area_m2", "area_basis", "area_parameter")


def _station_areas_html(stations: gpd.GeoDataFrame | None, lang: str) -> list[str]:
    """Return the table of each station's planned and available area and that area's basis.

    Empty when the plan has no station or a layer from before the area's basis was kept.
    """
    if stations is None or stations.empty or "area_basis" not in stations:
        return []
    header = [label(f"field.{c}", lang) for c in _STATION_AREA_COLUMNS]
    rows = [[(label(f"basis.{rec[c]}", lang) if c == "area_basis" else _fmt(rec[c], lang),
              "num" if c.endswith(("_m2", "parcels")) else "")
             for c in _STATION_AREA_COLUMNS] for _, rec in stations.iterrows()]
    out = [f"<h2>{html.escape(label('report.stations', lang))}</h2>", _table_html(header, rows)]
    default = stations[stations["area_basis"] == "default"]
    if len(default):
        note = label("report.area_default", lang, n=len(default),
                     parameter=", ".join(sorted(set(default["area_parameter"]))),
                     capped=int(default["capped_by_area"].astype(bool).sum()))
        out.append(f'<p class="note">{html.escape(note)}</p>')
    return out


def report_html(
    summary: Mapping[str, Any],
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    lang: str = "zh",
    title: str | None = None,
    images: tuple[bytes, bytes] | None = None,
) -> str:
    """Return the report page as HTML text.

    Parameters
    ----------
    summary
        The run's summary (``summary.json``): ``status``, ``objective``, ``bound``, ``gap``,
        ``solve_s``, ``counts``, ``coverage`` and ``rules`` (list of ``{id, clause, required,
        achieved, passed}``); any may be missing.
    layers
        The plan's layers; ``communities`` gives the per-community table.
    lang
        {"zh", "en"}.
    title
        Plain-text title; defaults to the localized "Locker plan report".
    images
        PNG map and chart from :func:`report_figures`; drawn here when ``None``.

    Returns
    -------
    str
        A self-contained HTML page (no script, no external resource).

    Raises
    ------
    ParameterError
        If ``lang`` is unknown.
    InputDataError
        If ``summary["rules"]`` is not a list of records.
    """
    check_lang(lang)
    rules = _rules(summary)
    heading = title if title is not None else label("report.title", lang)
    map_png, chart_png = images if images is not None else report_figures(layers, lang=lang)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{html.escape(heading)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(heading)}</h1>",
        f'<p class="note">{html.escape(label("report.attribution", lang))}</p>',
    ]
    warning = _partial_warning(summary, lang)
    if warning:
        parts.append(f'<p class="warn">{html.escape(warning)}</p>')
    parts += [
        f"<h2>{html.escape(label('report.kpis', lang))}</h2><div class=\"kpis\">",
    ]
    for key, value in _kpis(summary, layers, lang):
        parts.append(
            f'<div class="kpi"><div class="v">{html.escape(value)}</div>'
            f'<div class="k">{html.escape(key)}</div></div>'
        )
    parts.append("</div>")

    parts.append(f"<h2>{html.escape(label('report.rules', lang))}</h2>")
    if rules:
        header = [label(f"rule.{k}", lang) for k in _RULE_COLUMNS]
        rows = []
        for rule in rules:
            mark = _verdict(rule, lang)
            rows.append(
                [
                    (_rule_id(rule, lang), ""),
                    (_fmt(rule.get("clause"), lang), ""),
                    (_text_of(rule, "required", lang), ""),
                    (_text_of(rule, "achieved", lang), ""),
                    mark,
                ]
            )
        parts.append(_table_html(header, rows))
        counts = rule_state_counts(rules)
        parts.append(
            '<p class="note">'
            + html.escape(label("report.rules_count", lang, n=len(rules),
                                passed=counts["passed"], failed=counts["failed"],
                                unevaluated=counts["not evaluated"],
                                not_applicable=counts["not applicable"]))
            + "</p>"
        )
        if any(r.get("id") == "R2" for r in rules):
            low, high = _r2_range(summary)
            parts.append(f'<p class="note">'
                         f'{html.escape(label("report.r2_note", lang, low=low, high=high))}</p>')
    else:
        parts.append(f'<p class="note">{html.escape(label("report.no_rules", lang))}</p>')

    table = _community_table(layers)
    parts.append(f"<h2>{html.escape(label('report.communities', lang))}</h2>")
    if table.empty:
        parts.append(f'<p class="note">{html.escape(label("report.no_communities", lang))}</p>')
    else:
        wanted = ("community", "name", "daily_parcels", "compartments", "ratio")
        cols = [c for c in wanted if c in table]
        header = [label(f"field.{c}", lang) for c in cols]
        low, high = (f"{v:g}" for v in RATIO_RANGE)
        if "_class" in table:
            header.append(label("report.ratio_class", lang))
        rows = []
        for _, rec in table.iterrows():
            row = [
                (_fmt(rec[c], lang), "" if c in ("community", "name") else "num") for c in cols
            ]
            if "_class" in table:
                key = rec["_class"]
                cls = {"within": "pass", "none": ""}.get(key, "fail")
                row.append((label(f"legend.ratio_{key}", lang, low=low, high=high), cls))
            rows.append(row)
        parts.append(_table_html(header, rows))

    parts.extend(_input_rows_html(summary, lang))
    parts += _station_areas_html(layers.get("stations"), lang)
    parts.append(f"<h2>{html.escape(label('report.map', lang))}</h2>")
    parts.append(f'<img alt="{html.escape(label("report.map", lang))}" src="{_data_uri(map_png)}">')
    parts.append(f"<h2>{html.escape(label('report.chart_title', lang))}</h2>")
    parts.append(
        f'<img alt="{html.escape(label("report.chart_title", lang))}" src="{_data_uri(chart_png)}">'
    )
    parts.append("</body></html>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- printable page


def _printable(
    summary: Mapping[str, Any],
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    lang: str,
    title: str,
) -> Figure:
    """One A4 portrait page: title, KPIs, map, chart, the planner's rows and the rule table."""
    fig = Figure(figsize=(8.27, 11.69))
    fig.text(0.05, 0.978, title, fontsize=15, va="top")
    warning = _partial_warning(summary, lang)
    if warning:
        fig.text(0.05, 0.954, warning, fontsize=7.5, color="#b3261e", va="top")
    kpis = _kpis(summary, layers, lang)[:12]
    for i, (key, value) in enumerate(kpis):
        col, row = i % 4, i // 4
        fig.text(0.05 + 0.235 * col, 0.925 - 0.035 * row, value, fontsize=11)
        fig.text(0.05 + 0.235 * col, 0.913 - 0.035 * row, key[:34], fontsize=6.5, color="#555555")
    _draw_map(fig.add_axes((0.03, 0.42, 0.5, 0.42)), layers, lang)
    rows_text = _input_rows_text(summary, lang)
    chart_box = (0.66, 0.63, 0.31, 0.18) if rows_text else (0.66, 0.45, 0.31, 0.36)
    _draw_chart(fig.add_axes(chart_box), _community_table(layers), lang)
    if rows_text:
        fig.text(0.56, 0.585, label("report.input_rows", lang), fontsize=9, va="top")
        fig.text(0.56, 0.565, rows_text, fontsize=6, va="top", linespacing=1.4)
    rules = _rules(summary)
    ax = fig.add_axes((0.05, 0.03, 0.9, 0.36))
    ax.set_axis_off()
    ax.set_title(label("report.rules", lang), fontsize=10, loc="left")
    if rules:
        # the area-wide record of each rule first, then the per-place ones
        shown = sorted(rules, key=lambda r: bool(r.get("place")))[:12]
        cells = [
            [
                _wrapped(_rule_id(r, lang), 12),
                _wrapped(_fmt(r.get("clause"), lang), 24),
                _wrapped(_text_of(r, "required", lang), 34),
                _wrapped(_text_of(r, "achieved", lang), 34),
                _verdict(r, lang)[0],
            ]
            for r in shown
        ]
        header = [label(f"rule.{k}", lang) for k in _RULE_COLUMNS]
        grid = ax.table(cellText=cells, colLabels=header, loc="upper left",
                        colWidths=[0.14, 0.2, 0.27, 0.27, 0.12], cellLoc="left")
        grid.auto_set_font_size(False)
        grid.set_fontsize(6.5)
        for (i, j), cell in grid.get_celld().items():
            lines = 1 if i == 0 else max(c.count("\n") + 1 for c in cells[i - 1])
            cell.set_height(0.036 * lines)
            if i > 0 and j == 4:
                colour = {"pass": "#1a7f37", "fail": "#c62828"}.get(_verdict(shown[i - 1], lang)[1])
                cell.get_text().set_color(colour or "#666666")
        if len(rules) > len(shown):
            # at the foot of the page, below the table however tall its rows are
            fig.text(0.05, 0.006, label("legend.more_rules", lang, n=len(rules) - len(shown)),
                     fontsize=7, va="bottom")
    return fig


#: Rows left out that the printable page lists (the HTML report lists every row).
_PAGE_DROPPED_ROWS = 6


def _input_rows_text(summary: Mapping[str, Any], lang: str) -> str:
    """Return the printable page's account of the planner's table rows, or ``""``.

    The count of rows used and not used, then each row not used with its reason (at most
    :data:`_PAGE_DROPPED_ROWS`, two lines each; the rest counted).
    """
    records = summary.get("input_rows") or []
    if not records:
        return ""
    dropped = [r for r in records if r["status"] == "dropped"]
    lines = [label("report.input_rows_tally", lang, n=len(records),
                   used=len(records) - len(dropped), dropped=len(dropped))]
    lines.extend(_wrapped(label("report.input_row_line", lang, file=r["file"], row=r["row"],
                                name=r["name"] or "-", reason=r["reason"]), 90, lines=2)
                 for r in dropped[:_PAGE_DROPPED_ROWS])
    if len(dropped) > _PAGE_DROPPED_ROWS:
        lines.append(label("report.input_rows_more", lang,
                           n=len(dropped) - _PAGE_DROPPED_ROWS))
    return "\n".join(lines)


def _wrapped(text: str, width: int, lines: int = 3) -> str:
    """Wrap ``text`` at ``width`` columns (a CJK character takes two), in ``lines`` lines at most.

    The last line is cut with … when the text is longer.
    """
    if any(ord(ch) >= 0x2E80 for ch in text):
        width = max(width // 2, 4)
    parts = textwrap.wrap(text, width) or [""]
    if len(parts) > lines:
        parts = [*parts[: lines - 1], parts[lines - 1][: width - 1] + "…"]
    return "\n".join(parts)


def write_report(
    summary: Mapping[str, Any],
    layers: Mapping[str, gpd.GeoDataFrame],
    out_dir: str | Path,
    *,
    lang: str = "zh",
    title: str | None = None,
    printable: Sequence[str] = ("pdf", "png"),
) -> Path:
    """Write ``report.html`` and its printable one-page ``report.pdf`` / ``report.png``.

    Parameters
    ----------
    summary
        The run's summary (see :func:`report_html`).
    layers
        The plan's layers (GeoDataFrames in any CRS).
    out_dir
        Folder to write into (created if needed).
    lang
        {"zh", "en"}: language of every label.
    title
        Plain-text title (escaped); defaults to the localized "Locker plan report".
    printable
        Printable copies to write: any of {"pdf", "png"}.

    Returns
    -------
    pathlib.Path
        The ``report.html`` written.

    Raises
    ------
    ParameterError
        If ``lang`` is unknown.
    InputDataError
        If ``summary["rules"]`` is not a list of records.
    OutputError
        If a file cannot be written.
    """
    start = time.perf_counter()
    check_lang(lang)
    unknown = [p for p in printable if p not in ("pdf", "png")]
    if unknown:
        raise ParameterError(f"printable={unknown} unknown. Fix: use 'pdf' and/or 'png'")
    heading = title if title is not None else label("report.title", lang)
    folder = Path(out_dir)
    page = report_html(summary, layers, lang=lang, title=heading)
    target = folder / "report.html"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
        if printable:
            with drawing_style():
                fig = _printable(summary, layers, lang=lang, title=heading)
                FigureCanvasAgg(fig)
                for kind in printable:
                    fig.savefig(folder / f"report.{kind}", format=kind, dpi=150)
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot write the report ({exc}). Fix: choose a writable folder"
        ) from exc
    log.info(
        "report %s (%d kB%s) in %.2f s",
        target,
        target.stat().st_size // 1024,
        "".join(f", report.{k}" for k in printable),
        time.perf_counter() - start,
    )
    return target
