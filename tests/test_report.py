"""The run report (HTML, PDF, PNG) on a plan made from real Chengdu data."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_map import XSS_COMMUNITY, plan_layers_from_osm

from geodata.errors import InputDataError, ParameterError
from maps.i18n import label
from maps.report import write_report
from optimizer.compliance import not_evaluated_record
from optimizer.rules import preset
from optimizer.tier_records import not_applicable_record

XSS_CLAUSE = "004 五(一) <script>alert(1)</script>"
XSS_PLACE = "\"文翁' <img src=x onerror=alert(2)>"
SUMMARY: dict[str, Any] = {
    "status": "optimal",
    "objective": 31.0,
    "bound": 31.0,
    "gap": 0.0,
    "solve_s": 2.5,
    "counts": {"demand": 1029, "candidates": 303},
    "coverage": {"demand_points": 1029, "covered": 700, "share_parcels": 0.71},
    "rules": [
        {"id": "R1", "clause": XSS_CLAUSE, "required": "≤ 300 m", "achieved": "298 m",
         "passed": True},
        {"id": "R2", "clause": "004 五(二)", "required": "1.0–1.3", "achieved": "0.92 of demand",
         "passed": False, "place": XSS_PLACE, "quote": "按照社区日均投递量的 1-1.3 倍配设格口",
         "achieved_zh": "0.92 倍日均件量", "reason": "one module too few",
         "reason_zh": "少配一个模组"},
    ],
}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []  # a bare attribute has value ""
        self.text: list[str] = []
        self.rows = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self.rows += tag == "tr"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def layers(chengdu_osm_plain: Path):
    return plan_layers_from_osm(chengdu_osm_plain)


@pytest.fixture(scope="module")
def report(layers, tmp_path_factory) -> Path:
    return write_report(SUMMARY, layers, tmp_path_factory.mktemp("report") / "out", lang="zh")


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def test_writes_html_pdf_and_png(report):
    assert report.name == "report.html"
    assert (report.parent / "report.pdf").read_bytes().startswith(b"%PDF")
    png = (report.parent / "report.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 50_000


def test_html_is_self_contained_and_escaped(report):
    page = _parse(report)
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    images = [str(a["src"]) for t, a in page.tags if t == "img"]
    assert len(images) == 2 and all(s.startswith("data:image/png;base64,") for s in images)
    assert not [a for _, a in page.tags if any(k.startswith("on") for k in a)]
    text = "".join(page.text)
    for raw in (XSS_CLAUSE, XSS_PLACE, XSS_COMMUNITY):
        assert raw in text  # shown as text ...
    html = report.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html  # ... never as markup


def test_tables_and_kpis(report, layers):
    page = _parse(report)
    text = "".join(page.text)
    for key in ("report.kpis", "report.rules", "report.communities", "kpi.status", "rule.fail"):
        assert label(key, "zh") in text
    assert label("status.optimal", "zh") in text and "1,029" in text
    # header + 2 rules, header + one row per community
    assert page.rows == 1 + len(SUMMARY["rules"]) + 1 + len(layers["communities"])
    assert text.count(label("rule.pass", "zh")) >= 1
    assert label("legend.ratio_within", "zh", low="1", high="1.3") in text


def test_rules_read_in_the_report_language(report, layers, tmp_path):
    """Chinese: the plan's own wording and the Chinese achieved text; English: the English."""
    zh = "".join(_parse(report).text)
    assert "按照社区日均投递量的 1-1.3 倍配设格口" in zh and "0.92 倍日均件量" in zh
    assert "0.92 of demand" not in zh and "0.92 倍日均件量 — 少配一个模组" in zh
    en = "".join(_parse(write_report(SUMMARY, layers, tmp_path, lang="en", printable=())).text)
    assert "1.0–1.3" in en and "0.92 of demand — one module too few" in en
    assert "0.92 倍日均件量" not in en
    # R2's two readings explained: per community, and per locker for homes in no community
    assert label("report.r2_note", "zh", low="1", high="1.3") in zh
    assert "按每个新建快件箱判定" in zh
    assert label("report.r2_note", "en", low="1", high="1.3") in en
    assert "judged per new locker (1–1.3 compartments" in en


def test_english_report(layers, tmp_path):
    path = write_report(SUMMARY, layers, tmp_path, lang="en", printable=())
    text = "".join(_parse(path).text)
    assert "Parcel locker plan report" in text and "Compliance with the plan rules" in text
    assert label("report.kpis", "zh") not in text
    assert not (tmp_path / "report.pdf").exists()


def test_report_without_layers_or_rules(tmp_path):
    path = write_report({"status": "infeasible"}, {}, tmp_path, printable=("png",))
    text = "".join(_parse(path).text)
    assert label("report.no_rules", "zh") in text and label("status.infeasible", "zh") in text
    assert (tmp_path / "report.png").exists()


def test_bad_input_names_the_fault(layers, tmp_path):
    with pytest.raises(InputDataError, match="rules"):
        write_report({"rules": "R1 passed"}, layers, tmp_path)
    with pytest.raises(ParameterError, match="lang='fr'"):
        write_report(SUMMARY, layers, tmp_path, lang="fr")
    with pytest.raises(ParameterError, match="printable"):
        write_report(SUMMARY, layers, tmp_path, printable=("docx",))


def test_solver_figures_read_as_money_and_per_cent(tmp_path):
    """A gap the solver leaves as 1.2e-16 reads 0.00 %; a cost of 3793999.9999999995 reads
    3,794,000 元, in whole yuan with its unit (and parcels a day in max-cover)."""
    summary = {"status": "optimal", "objective": 3793999.9999999995, "bound": 3793000.4,
               "gap": 1.227e-16, "parameters": {"mode": "min-cost"}}
    text = write_report(summary, {}, tmp_path / "zh", lang="zh").read_text(encoding="utf-8")
    assert "3,794,000 元" in text and "3,793,000 元" in text and "0.00%" in text
    assert "e-16" not in text and "3,794,000.0" not in text
    summary = {**summary, "objective": 11494.2, "bound": 11494.2, "parameters": {
        "mode": "max-cover"}}
    text = write_report(summary, {}, tmp_path / "en", lang="en").read_text(encoding="utf-8")
    assert "11,494 parcels/day" in text


def test_shares_read_as_percentages_and_partial_data_is_warned(tmp_path):
    """The study_area block of a plan whose boundary the extract covers in part (青羊区 on the
    Chengdu extract, as tests/test_coverage.py measures it)."""
    area = {"data_coverage_share": 0.0374, "boundary_km2": 66.27, "study_area_km2": 2.48,
            "data_covered_km2": 2.48, "partial": True}
    summary = {"status": "optimal", "coverage": {"parcel_share_covered": 0.99731},
               "study_area": area}
    path = write_report(summary, {}, tmp_path / "a", printable=())
    assert 'class="warn"' in path.read_text(encoding="utf-8")
    text = "".join(_parse(path).text)
    assert "99.7%" in text and "0.99731" not in text and "66.27 km²" in text
    warning = label("report.partial_data", "zh", share="3.7%", covered="2.48", whole="66.27")
    assert warning in text
    whole = {**summary, "study_area": {**area, "data_coverage_share": 1.0, "partial": False}}
    page = write_report(whole, {}, tmp_path / "b", printable=()).read_text(encoding="utf-8")
    assert "100.0%" in page and 'class="warn"' not in page and "警告" not in page


def test_not_evaluated_and_not_applicable_have_their_own_wording(layers, tmp_path):
    """A rule not evaluated is not counted failed, one not applicable not counted passed."""
    rules = preset("national")
    summary = {**SUMMARY, "rules": [
        *SUMMARY["rules"],
        not_evaluated_record(rules["G3"], need="which compounds are old",
                             need_zh="哪些小区是老旧小区"),
        *not_applicable_record(rules, "R7", "a cargo station at each neighbourhood centre",
                               "no neighbourhood centre is mapped"),
    ]}
    for lang, count in (("zh", "共 4 条检查：通过 1 条，未通过 1 条，未评估 1 条，不适用 1 条"),
                        ("en", "4 checks: 1 passed, 1 failed, 1 not evaluated, 1 not applicable")):
        text = "".join(_parse(write_report(summary, layers, tmp_path / lang, lang=lang,
                                           printable=())).text)
        assert count in text
        assert label("rule.not_applicable", lang) in text
        assert label("rule.not_evaluated", lang) in text
    assert "no neighbourhood centre is mapped" in text


def _row(row: int, status: str, reason: str) -> dict[str, Any]:
    return {"table": "communities", "file": "社区表.xlsx", "row": row, "name": f"小区{row}",
            "status": status, "reason": reason}


@pytest.mark.parametrize(("lang", "tally", "line", "more"), [
    ("zh", "共 9 行：已用 1 行，未用 8 行", "社区表.xlsx 第 3 行（小区3）未用：outside",
     "另有 2 行未用，见 HTML 报告"),
    ("en", "9 rows: 1 used, 8 not used", "社区表.xlsx row 3 (小区3) not used: outside",
     "2 more rows not used in the HTML report"),
])
def test_the_pdf_lists_the_rows_not_used(tmp_path: Path, lang: str, tally: str, line: str,
                                         more: str) -> None:
    """The printable page counts the planner's rows and lists the first six left out."""
    from pypdf import PdfReader

    rows = [_row(2, "used", "labels 3 buildings"),
            *(_row(n, "dropped", f"outside the study area, {n}00 m from its edge")
              for n in range(3, 11))]
    write_report({**SUMMARY, "input_rows": rows}, {}, tmp_path / "with", lang=lang,
                 printable=("pdf",))
    text = " ".join(PdfReader(tmp_path / "with" / "report.pdf").pages[0].extract_text().split())
    assert tally in text and line in text and more in text
    assert "小区8" in text and "小区9" not in text  # the sixth left out is shown, not the 7th
    write_report(SUMMARY, {}, tmp_path / "without", lang=lang, printable=("pdf",))
    text = PdfReader(tmp_path / "without" / "report.pdf").pages[0].extract_text()
    assert label("report.input_rows", lang) not in text
