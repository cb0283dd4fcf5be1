"""The planner's console holds no solver banner or internal note unless ``--debug`` asks for
them (issue 26, point 5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO_OSM = ROOT / "examples" / "data" / "chengdu_tianfu_square.osm.xz"
BANNER = ("Running HiGHS", "THIRD_PARTY_NOTICES")
NOTE = "the solver reported objective"


def _plan_console(out: Path, *extra: str) -> str:
    """Run ``siting plan`` on the demo extract; return its stdout and stderr together."""
    done = subprocess.run(
        [sys.executable, "-m", "siting", "plan", "--osm", str(DEMO_OSM), "--radius-m", "150",
         "--out", str(out), *extra],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def consoles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("console")
    return {"plain": _plan_console(base / "plain"),
            "debug": _plan_console(base / "debug", "--debug")}


def test_plan_console_has_no_solver_banner_or_note(consoles: dict[str, str]) -> None:
    plain = consoles["plain"]
    assert "optimal:" in plain and "map:" in plain
    for text in (*BANNER, NOTE):
        assert text not in plain


def test_debug_shows_the_banner_and_the_note(consoles: dict[str, str]) -> None:
    for text in (*BANNER, NOTE):
        assert text in consoles["debug"]
