"""Nothing lost: a run killed mid-solve leaves the earlier output folder byte-identical, and an
interrupted swap is restored on the next run (issue 8, point 2)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maps.files import atomic_folder

ROOT = Path(__file__).resolve().parents[1]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _earlier(out: Path) -> dict[str, str]:
    out.mkdir(parents=True)
    (out / "summary.json").write_text('{"status": "optimal", "run": "earlier"}\n')
    (out / "map.html").write_text("<html>earlier</html>\n")
    (out / "exports").mkdir()
    (out / "exports" / "lockers.csv").write_text("site_id\nS1\n")
    return _digest(out)


@pytest.mark.slow
def test_sigkill_mid_solve_leaves_the_earlier_folder_intact(
    shanghai_osm: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plan"
    before = _earlier(out)
    proc = subprocess.Popen(
        [sys.executable, "-m", "siting", "plan", "--osm", str(shanghai_osm), "--time-limit",
         "300", "--out", str(out)],
        cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    seen = []
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 240
        for line in proc.stderr:
            seen.append(line)
            if "distances" in line:
                break
            assert time.monotonic() < deadline, "".join(seen)
        else:
            pytest.fail(f"the run ended before solving: {''.join(seen)}")
        time.sleep(3.0)  # inside the solver now (the Shanghai model takes far longer)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert _digest(out) == before
    # the next run (any atomic write) clears nothing of the earlier results either
    assert sorted(p.name for p in out.iterdir()) == ["exports", "map.html", "summary.json"]


def test_failure_inside_the_block_keeps_the_earlier_folder(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    before = _earlier(out)
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_folder(out) as tmp:
            (tmp / "summary.json").write_text("half")
            raise RuntimeError("disk full")
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_interrupted_swap_is_restored_on_the_next_run(tmp_path: Path) -> None:
    """Killed between the two renames: the target is gone, the backup holds the old results."""
    out = tmp_path / "plan"
    before = _earlier(out)
    out.rename(tmp_path / ".plan.previous")
    with pytest.raises(RuntimeError):
        with atomic_folder(out):
            raise RuntimeError("fails again")
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_successful_swap_replaces_the_whole_folder(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    _earlier(out)
    with atomic_folder(out) as tmp:
        (tmp / "summary.json").write_text('{"run": "new"}\n')
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]
