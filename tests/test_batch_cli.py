"""The results table of ``siting batch`` is readable on an 80-column terminal."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from siting.batch import RESULT_COLUMNS
from siting.batch_cli import results_view
from siting.scenario import load_many

SCENARIOS = Path(__file__).resolve().parents[1] / "examples" / "scenarios"


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    """A results table of the shipped scenarios: planned, stopped, skipped and failed rows."""
    runs, errors = load_many(sorted(SCENARIOS.glob("*.toml")))
    assert not errors and len(runs) >= 6
    rows = []
    for i, run in enumerate(runs):
        failed = i == len(runs) - 1
        rows.append({
            "scenario": run.name,
            "status": "failed" if failed else ("time_limit" if i == 2 else "optimal"),
            "skipped": i == 1,
            "error": "InputDataError: no residential building" if failed else "",
            **({} if failed else {
                "sites": 187.0 + i, "modules": 1029.0 + 10 * i, "compartments": 30_870.0 + i,
                "coverage": 0.982 - i / 100, "cost": 3_794_000.0 + 6_000 * i,
                "rules_passed": 124.0, "rules_total": 127.0, "gap": 0.0037 * i,
                "seconds": 57.85 + i}),
        })
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


def _render(frame: pd.DataFrame, width: int) -> str:
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    console.print(results_view(frame, console))
    return console.export_text()


def _expected_texts(row: pd.Series) -> list[str]:
    if row["status"] == "failed":
        return [row["scenario"], "failed"]
    return [row["scenario"], row["status"], f"{row['sites']:g}", f"{row['modules']:,.0f}",
            f"{row['compartments']:,.0f}", f"{row['coverage']:.1%}", f"{row['cost']:,.0f}",
            f"{row['rules_passed']:g}/{row['rules_total']:g}", f"{row['gap']:.2g}",
            f"{row['seconds']:.1f}"]


@pytest.mark.parametrize("width", [80, 60])
def test_narrow_terminal_shows_every_label_and_value_whole(results: pd.DataFrame,
                                                           width: int) -> None:
    text = _render(results, width)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    for label in ("sites", "modules", "compartments", "coverage", "cost (CNY)", "rules", "gap",
                  "seconds"):
        assert label in text
    for _, row in results.iterrows():
        for value in _expected_texts(row):
            assert value in text, f"{value!r} of {row['scenario']} missing at width {width}"
    assert "optimal (skipped)" in text


def test_wide_terminal_keeps_one_row_per_scenario(results: pd.DataFrame) -> None:
    text = _render(results, 200)
    assert "…" not in text
    lines = text.splitlines()
    for _, row in results.iterrows():
        line = next(line for line in lines if f" {row['scenario']} " in line)
        assert all(value in line for value in _expected_texts(row))


def test_failed_row_shows_no_figures(results: pd.DataFrame) -> None:
    failed = results[results["status"] == "failed"]
    text = _render(failed, 80)
    assert failed["scenario"].iloc[0] in text and "failed" in text
    assert failed["rules_total"].isna().all() and failed["cost"].isna().all()
    assert "nan" not in text and "/" not in text and "0.0" not in text
