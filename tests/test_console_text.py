"""The command line prints bracketed text as it is: rich never reads a message as markup."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from geodata.area import study_area
from geodata.guards import check_area_size
from geodata.osm import read_osm
from siting import cli
from siting.cli import app


def _flat(text: str) -> str:
    """The text with line wrapping undone (rich wraps at the console's width)."""
    return " ".join(text.split())


def test_the_size_guard_message_keeps_area_districts(chengdu_osm: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    extract = read_osm(chengdu_osm)
    area = study_area(extract)

    def refused(*, progress: object) -> object:
        return check_area_size(extract, area, radius_m=300.0, memory_bytes=2**20)

    with pytest.raises(typer.Exit):
        cli._call(False, refused)
    printed = _flat(capsys.readouterr().err)
    assert "too large for this machine" in printed
    assert "(siting batch with [area.districts]) to split it" in printed


def test_a_bracketed_path_in_an_error_is_printed_whole(tmp_path: Path) -> None:
    missing = Path("[area.districts]") / "[bold]x.osm"  # relative: short, never wrapped
    result = CliRunner().invoke(app, ["plan", "--osm", str(missing),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    printed = _flat(result.output)
    assert "error:" in printed and "[area.districts]/[bold]x.osm" in printed
