"""``benchmarks/RESULTS.md``: one entry per benchmark command, each replacing its older self.

An entry is the command, its date, the commit and the machine (cores, memory, load average),
then the benchmark's own text. :func:`write_entry` replaces the entry of the same command and
keeps every other one.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
from pathlib import Path

__all__ = ["RESULTS", "machine", "write_entry"]

#: The file every benchmark writes its latest result to.
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

_HEAD = "# Benchmark results\n\nOne entry per command, written by the command itself.\n"
_START = "<!-- entry: {} -->"
_END = "<!-- end: {} -->"


def _commit() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty.strip() else "")


def machine(load_start: float) -> str:
    """One line: cores, physical memory, load average at the start and now.

    Parameters
    ----------
    load_start
        The 1-minute load average when the benchmark started.

    Returns
    -------
    str
        E.g. ``"2 cores, 23.4 GiB, load average 0.8 at start, 1.9 at end"``.
    """
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return (f"{os.cpu_count()} cores, {memory / 2**30:.1f} GiB, load average "
            f"{load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end")


def write_entry(command: str, body: str, *, load_start: float, path: Path = RESULTS) -> Path:
    """Write ``body`` as the entry of ``command`` in ``path``, replacing its older entry.

    Parameters
    ----------
    command
        The command line that produced the result (the entry's key).
    body
        Markdown text of the result.
    load_start
        The 1-minute load average when the benchmark started.
    path
        The results file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    entry = (f"{_START.format(command)}\n## `{command}`\n\n{today}, commit {_commit()}, "
             f"{machine(load_start)}.\n\n{body.strip()}\n{_END.format(command)}\n")
    text = path.read_text(encoding="utf-8") if path.exists() else _HEAD
    block = re.compile(re.escape(_START.format(command)) + r".*?" +
                       re.escape(_END.format(command)) + r"\n?", re.S)
    if block.search(text):
        text = block.sub(lambda _: entry, text)
    else:
        text = text.rstrip("\n") + "\n\n" + entry
    path.write_text(text, encoding="utf-8")
    return path
