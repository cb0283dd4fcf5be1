"""One solver-time budget for a whole run, a stop request, and live progress of every solve.

A run (one plan: the locker phases, then the other tiers) opens a :class:`SolveBudget` with
``with budget:``; every :func:`optimizer.milp.solve_milp` call inside it consults the budget.

How the budget is shared
------------------------
The budget is the solver time of the whole run, spent in the order the solves come (locker
phases, then stations, villages, townships, hubs). Each solver call may use what is left of
the budget (and never more than its own ``time_limit``), but at least ``floor_s`` seconds, so a
tier that comes after an exhausted budget still gets a short solve instead of none. The run
may therefore overrun the budget by at most ``floor_s`` per call that starts after it ran out;
the seconds each stage used are recorded (:meth:`SolveBudget.as_record`).

Stopping
--------
:meth:`SolveBudget.stop` (the command line calls it on the first Ctrl-C) ends the MIP solve
that is running as soon as it holds a feasible solution; that solve's status is
``"interrupted"`` and it keeps its bound. Each solve that starts after the stop gets at most
``grace_s`` seconds (default 1 s), so the other parts and phases still get a plan and a bound
(many small parts are proven in that time); a run that was stopped and is not proven optimal
is reported ``"interrupted"``. Linear programs (the walk phase) are not interrupted.

What CBC lacks: only HiGHS is stopped by :meth:`SolveBudget.stop` and reports while it runs.
A CBC solve (a PuLP subprocess) reports once, when it ends, and runs to its time limit after a
stop; a Ctrl-C typed in a terminal also reaches the CBC process itself, which then stops
(status ``"interrupted"``) without handing its incumbent back through PuLP, so that solve has
no solution.

Progress
--------
While HiGHS solves a MIP it reports its best objective, bound and gap every ``every_s``
seconds, and once when the solve ends, as a :class:`SolveProgress`: logged at INFO and passed to
the budget's ``progress`` callable.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from geodata.errors import ParameterError

__all__ = ["SolveBudget", "SolveProgress", "active_budget", "current_stage", "stage"]

log = logging.getLogger(__name__)

_BUDGET: contextvars.ContextVar[SolveBudget | None] = contextvars.ContextVar(
    "solve_budget", default=None
)
_STAGE: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "solve_stage", default=()
)


@dataclass(frozen=True)
class SolveProgress:
    """The state of one running (or just finished) solve.

    Attributes
    ----------
    stage
        What is being solved, e.g. ``"lockers/cost"`` or ``"stations"``.
    elapsed_s
        Seconds since this solve started.
    objective
        Objective of the best solution so far, as the solver minimises it (``None``: none yet).
    bound
        The solver's best proven lower bound (``None``: unknown).
    gap
        Relative gap between them (``None``: unknown).
    left_s
        Seconds left of the run's budget (``None``: no budget).
    status
        ``"running"`` while solving, else the solve's final status.
    """

    stage: str
    elapsed_s: float
    objective: float | None
    bound: float | None
    gap: float | None
    left_s: float | None
    status: str = "running"

    def describe(self) -> str:
        """Return one line: stage, seconds, objective, bound, gap and the budget left."""
        gap = "–" if self.gap is None else f"{max(self.gap, 0.0):.2%}"
        left = "" if self.left_s is None else f", budget left {self.left_s:.0f} s"
        return (f"{self.stage}: {self.status} {self.elapsed_s:.0f} s, objective "
                f"{_number(self.objective)}, bound {_number(self.bound)}, gap {gap}{left}")


def _number(value: float | None) -> str:
    """Format an objective or bound: whole units with thousands separators when large."""
    if value is None:
        return "–"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.6g}"


class SolveBudget:
    """The solver seconds of a whole run, a stop flag, and where progress goes.

    Parameters
    ----------
    seconds
        Solver seconds for the whole run; ``None`` for no budget (each call keeps its own
        ``time_limit``).
    progress
        Called with a :class:`SolveProgress` every ``every_s`` seconds of a solve and when it
        ends; ``None`` to only log.
    every_s
        Seconds between two progress reports of one solve.
    floor_s
        Seconds any solver call may use even when the budget is spent; default: 5 % of
        ``seconds``, at least 1 s.
    grace_s
        Most seconds of a solver call that starts after :meth:`stop`.

    Raises
    ------
    ParameterError
        If ``seconds`` or ``every_s`` is not positive.
    """

    def __init__(
        self,
        seconds: float | None,
        *,
        progress: Callable[[SolveProgress], None] | None = None,
        every_s: float = 2.0,
        floor_s: float | None = None,
        grace_s: float = 1.0,
    ) -> None:
        if seconds is not None and not seconds > 0:
            raise ParameterError(f"time budget {seconds!r} must be a positive number of seconds")
        if not every_s > 0:
            raise ParameterError(f"every_s={every_s!r} must be positive")
        self.seconds = seconds
        self.progress = progress
        self.every_s = every_s
        self.floor_s = floor_s if floor_s is not None else max(1.0, 0.05 * (seconds or 0.0))
        self.grace_s = grace_s
        self.spent: dict[str, float] = {}
        self._stopped = False
        self._tokens: list[contextvars.Token[SolveBudget | None]] = []

    def __enter__(self) -> SolveBudget:
        self._tokens.append(_BUDGET.set(self))
        return self

    def __exit__(self, *exc: object) -> None:
        _BUDGET.reset(self._tokens.pop())

    @property
    def stopped(self) -> bool:
        """Whether a stop was requested."""
        return self._stopped

    def stop(self) -> None:
        """End the running MIP at its incumbent, and give later solves ``grace_s`` each."""
        self._stopped = True
        log.warning("stop requested: each solve ends at its best plan so far")

    def used_s(self) -> float:
        """Return the solver seconds used so far."""
        return sum(self.spent.values())

    def left_s(self) -> float | None:
        """Return the seconds left of the budget (``None`` when there is no budget)."""
        return None if self.seconds is None else max(0.0, self.seconds - self.used_s())

    def limit(self, time_limit: float | None) -> float | None:
        """Return the time limit of the next call: what is left, at least ``floor_s``.

        After :meth:`stop`, ``grace_s``.

        Parameters
        ----------
        time_limit
            The call's own limit (``None``: none); never exceeded.

        Returns
        -------
        float or None
            Seconds for the call, ``None`` for no limit.
        """
        left = self.left_s()
        if self._stopped:
            share = self.grace_s
        elif left is None:
            return time_limit
        else:
            share = max(left, self.floor_s)
        return share if time_limit is None else min(time_limit, share)

    def charge(self, seconds: float) -> None:
        """Record ``seconds`` of solver time against the current stage."""
        name = current_stage() or "solve"
        self.spent[name] = self.spent.get(name, 0.0) + seconds

    def report(self, update: SolveProgress) -> None:
        """Log a progress update and pass it to the ``progress`` callable."""
        log.info("%s", update.describe())
        if self.progress is not None:
            self.progress(update)

    def as_record(self) -> dict[str, Any]:
        """Return how the budget was spent, for ``summary.json``."""
        return {
            "budget_s": self.seconds,
            "used_s": round(self.used_s(), 3),
            "floor_s": self.floor_s,
            "stopped": self._stopped,
            "grace_s": self.grace_s,
            "by_stage_s": {k: round(v, 3) for k, v in self.spent.items()},
            "rule": "each solver call gets what is left of the budget (at most its own time "
                    "limit), at least floor_s, stages in the order they are solved; after a "
                    "stop the running MIP ends at its incumbent, later calls get grace_s",
        }


def active_budget() -> SolveBudget | None:
    """Return the budget of the run in progress, or ``None``."""
    return _BUDGET.get()


def current_stage() -> str:
    """Return the label of the solve in progress, e.g. ``"lockers/cost"`` (``""``: none)."""
    return "/".join(_STAGE.get())


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Label the solves inside the block (labels nest: ``lockers`` then ``cost``).

    Parameters
    ----------
    name
        The label of this level.

    Yields
    ------
    None
    """
    token = _STAGE.set((*_STAGE.get(), name))
    try:
        yield
    finally:
        _STAGE.reset(token)


def progress_clock() -> Callable[[], bool]:
    """Return a callable that is true once every ``every_s`` of the active budget."""
    budget = active_budget()
    every = budget.every_s if budget is not None else 2.0
    last = [time.perf_counter()]

    def due() -> bool:
        now = time.perf_counter()
        if now - last[0] < every:
            return False
        last[0] = now
        return True

    return due
