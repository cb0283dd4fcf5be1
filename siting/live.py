"""What a long run shows while it solves, and what Ctrl-C does to it.

Progress comes from :class:`optimizer.budget.SolveBudget`: every few seconds of a solve, the
stage, seconds, best objective, bound and gap. On a terminal it is a live status line; when
the output is not a terminal (a log file, a pipe) each update is a plain line.

The first Ctrl-C asks the solves to stop at their best plan, which is then written as usual
(status ``interrupted``, with its bound and gap) through the atomic output folder. The second
Ctrl-C ends the process at once by the default action of SIGINT, before any new folder is
swapped in, so the earlier output folder stays as it was.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from rich.console import Console
from rich.status import Status
from rich.text import Text

from optimizer.budget import SolveBudget, SolveProgress
from siting.console_text import stage_line

__all__ = ["SolveDisplay", "stop_on_ctrl_c"]

#: A finished solve shorter than this is not shown (it is still logged).
SHOW_DONE_AFTER_S = 1.0


class SolveDisplay:
    """Show solver progress on ``console``: a live status on a terminal, else plain lines.

    Parameters
    ----------
    console
        Where to show it (the command line's stderr console).
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._status: Status | None = None

    def __call__(self, update: SolveProgress) -> None:
        """Show one update (the progress callable of a :class:`SolveBudget`)."""
        line = update.describe()
        if update.status == "running" and self.console.is_terminal:
            if self._status is None:
                self._status = self.console.status(Text(line))
                self._status.start()
            else:
                self._status.update(Text(line))
            return
        if update.status != "running" and update.elapsed_s < SHOW_DONE_AFTER_S:
            return
        self.close()
        self.console.print(stage_line("solving", line), highlight=False)

    def close(self) -> None:
        """Remove the live status line, if one is shown."""
        if self._status is not None:
            self._status.stop()
            self._status = None


@contextmanager
def stop_on_ctrl_c(budget: SolveBudget, console: Console) -> Iterator[None]:
    """Within the block, the first SIGINT stops ``budget``; the second ends the process.

    Parameters
    ----------
    budget
        The run's budget, stopped by the first Ctrl-C.
    console
        Where to say what happens.

    Yields
    ------
    None
    """

    def first(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        budget.stop()
        console.print("[yellow]interrupted:[/yellow] stopping at the best plan so far and "
                      "writing it; press Ctrl-C again to quit at once (the earlier output "
                      "folder is then kept as it was)", highlight=False)

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
