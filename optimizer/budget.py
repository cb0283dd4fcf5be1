"""One solver-time budget for a whole run, a stop request, and live progress of every solve.

A run (one plan: the locker phases, then the other tiers) opens a :class:`SolveBudget` with
``with budget:``; every :func:`optimizer.milp.solve_milp` call inside it consults the budget.

How the budget is shared
------------------------
The budget is the solver time of the whole run, spent in the order the solves come (locker
phases, then stations, villages, townships, hubs). Each solver call may use what is left of
the budget (and never more than its own ``time_limit``), less what a caller set aside for a
later solve (:meth:`SolveBudget.reserve`: the locker model keeps a slice for its walk phase,
and each of its parts a share of its seconds for its cost phase, :func:`open_share_s`; a
reserve made inside a share is kept out of that share too), and within the share of it the
caller gives the block it runs in (:meth:`SolveBudget.share`:
the locker model's parts, smallest first, by :func:`in_turn`), but at least ``floor_s``; a
call with a feasible start never gets more than the run has left. Once the budget is spent:

* a call given a feasible start (a plan to improve, such as the locker model's cost phase)
  is not run: it returns its start, unproven (status ``"time_limit"``), and the caller keeps
  its own valid bound (:func:`optimizer.milp.solve_milp`);
* a call without one (it must find a first plan: a set cover, the start of a locker part, a
  later tier) still gets ``floor_s`` seconds, so every part and tier gets a plan.

Only the second kind can take the run past its budget, by at most ``floor_s`` each. The
seconds each stage used are recorded (:meth:`SolveBudget.as_record`).

A deterministic work limit
--------------------------
With ``work_limit`` (``--work-limit N``) each MIP call ends after ``N`` branch-and-bound
nodes (HiGHS ``mip_max_nodes``, CBC ``maxNodes``) and status ``"work_limit"``, whatever the
machine's speed or load. Nothing is then shared by time: each call gets the whole ``seconds``
as its own wall-clock safety limit, and a start is never kept for want of time. A run whose
every solve ends by proof or by the work limit is reproducible; one that reaches the safety
limit says ``"time_limit"`` and is not.

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
import itertools
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from geodata.errors import ParameterError

__all__ = ["MIN_CALL_S", "SolveBudget", "SolveProgress", "active_budget", "current_stage",
           "in_turn", "open_share_s", "reserving", "sharing", "stage"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Fewest open seconds worth a solver call that has a start to fall back on.
MIN_CALL_S = 0.05

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
        ``time_limit``). With ``work_limit``, the wall-clock safety limit of each call.
    progress
        Called with a :class:`SolveProgress` every ``every_s`` seconds of a solve and when it
        ends; ``None`` to only log.
    every_s
        Seconds between two progress reports of one solve.
    floor_s
        Seconds a call without a start may use even when the budget is spent; default: 5 %
        of ``seconds``, at least 1 s.
    grace_s
        Most seconds of a solver call that starts after :meth:`stop`.
    work_limit
        Branch-and-bound nodes of each MIP call (``None``: no work limit, time sharing).

    Raises
    ------
    ParameterError
        If ``seconds``, ``every_s`` or ``work_limit`` is not positive.
    """

    def __init__(
        self,
        seconds: float | None,
        *,
        progress: Callable[[SolveProgress], None] | None = None,
        every_s: float = 2.0,
        floor_s: float | None = None,
        grace_s: float = 1.0,
        work_limit: int | None = None,
    ) -> None:
        if seconds is not None and not seconds > 0:
            raise ParameterError(f"time budget {seconds!r} must be a positive number of seconds")
        if not every_s > 0:
            raise ParameterError(f"every_s={every_s!r} must be positive")
        if work_limit is not None and not (isinstance(work_limit, int) and work_limit > 0):
            raise ParameterError(f"work limit {work_limit!r} must be a positive whole number of "
                                 "branch-and-bound nodes")
        self.seconds = seconds
        self.progress = progress
        self.every_s = every_s
        self.floor_s = floor_s if floor_s is not None else max(1.0, 0.05 * (seconds or 0.0))
        self.grace_s = grace_s
        self.work_limit = work_limit
        self.spent: dict[str, float] = {}
        self.late: dict[str, float] = {}
        self.kept_starts = 0
        self._reserved_s = 0.0
        self._share_ends_at = math.inf
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
        """Return the seconds left of the budget (``None``: no budget, or a work limit)."""
        if self.seconds is None or self.work_limit is not None:
            return None
        return max(0.0, self.seconds - self.used_s())

    def _open_s(self) -> float | None:
        """Return the seconds left that no :meth:`reserve` set aside."""
        left = self.left_s()
        return None if left is None else max(0.0, left - self._reserved_s)

    def _shared_s(self) -> float | None:
        """Return the open seconds within the current :meth:`share`."""
        open_s = self._open_s()
        if open_s is None:
            return None
        return max(0.0, min(open_s, self._share_ends_at - self.used_s()))

    @contextmanager
    def share(self, fraction: float) -> Iterator[None]:
        """Within the block, calls get at most ``fraction`` of the seconds open at its start.

        What the block leaves unused stays open for the solves after it.

        Parameters
        ----------
        fraction
            Share of the open seconds, in ``[0, 1]``.

        Yields
        ------
        None
        """
        open_s = self._shared_s()
        previous = self._share_ends_at
        if open_s is not None:
            self._share_ends_at = min(previous, self.used_s() + fraction * open_s)
        try:
            yield
        finally:
            self._share_ends_at = previous

    @contextmanager
    def reserve(self, seconds: float) -> Iterator[None]:
        """Set ``seconds`` aside for a solve that comes after the block.

        Calls inside the block get what is left less the reserve, and the current
        :meth:`share` ends that much earlier, so a reserve made inside a share is kept out of
        the share too; the solve after the block gets the reserve.

        Parameters
        ----------
        seconds
            Seconds to keep for later.

        Yields
        ------
        None
        """
        previous = self._share_ends_at
        self._reserved_s += seconds
        self._share_ends_at = previous - seconds
        try:
            yield
        finally:
            self._reserved_s -= seconds
            self._share_ends_at = previous

    def open_share_s(self, fraction: float) -> float:
        """Return ``fraction`` of the seconds open to the next call (its :meth:`share`).

        ``0.0`` without a time budget (none, a work limit, or after :meth:`stop`).

        Parameters
        ----------
        fraction
            Share of the open seconds, in ``[0, 1]``.

        Returns
        -------
        float
            Seconds, e.g. to :meth:`reserve` for a later solve.
        """
        open_s = self._shared_s()
        if open_s is None or self.work_limit is not None or self._stopped:
            return 0.0
        return fraction * open_s

    def limit(self, time_limit: float | None, *, has_start: bool = False) -> float | None:
        """Return the time limit of the next call: its share of what is open, at least ``floor_s``.

        A call with a start to fall back on never gets more than the run has open. After
        :meth:`stop`, ``grace_s``; with a work limit, ``seconds`` (no sharing).

        Parameters
        ----------
        time_limit
            The call's own limit (``None``: none); never exceeded.
        has_start
            Whether the call has a feasible start.

        Returns
        -------
        float or None
            Seconds for the call, ``None`` for no limit.
        """
        open_s = self._shared_s()
        if self._stopped:
            share = self.grace_s
        elif self.work_limit is not None and self.seconds is not None:
            share = self.seconds
        elif open_s is None:
            return time_limit
        else:
            share = max(open_s, self.floor_s)
            if has_start:
                share = min(share, self._open_s() or 0.0)
        return share if time_limit is None else min(time_limit, share)

    def keeps_start(self) -> bool:
        """Whether a call with a feasible start should return it unsolved: the time is spent.

        Never after :meth:`stop` (calls then get ``grace_s``) nor with a work limit. A spent
        :meth:`share` does not count: the call then gets ``floor_s``.

        Returns
        -------
        bool
            ``True`` when less than :data:`MIN_CALL_S` of the run's budget is open.
        """
        open_s = self._open_s()
        timed = not self._stopped and self.work_limit is None
        return timed and open_s is not None and open_s < MIN_CALL_S

    def charge(self, seconds: float) -> None:
        """Record ``seconds`` of solver time against the current stage."""
        name = current_stage() or "solve"
        self.spent[name] = self.spent.get(name, 0.0) + seconds

    def overran(self, limit: float | None, seconds: float) -> None:
        """Record how far a call of the current stage ran past its time limit, if it did.

        The solver checks its limit between steps of its own; on a loaded machine a step can
        run seconds past it, and those seconds come out of the later solves' budget.

        Parameters
        ----------
        limit
            The call's time limit (``None``: none).
        seconds
            The seconds it ran.
        """
        if limit is not None and seconds > limit:
            name = current_stage() or "solve"
            self.late[name] = max(self.late.get(name, 0.0), seconds - limit)

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
            "late_s": {k: round(v, 3) for k, v in self.late.items()},
            "work_limit": self.work_limit,
            "kept_starts": self.kept_starts,
            "rule": _WORK_RULE if self.work_limit is not None else _TIME_RULE,
        }


_TIME_RULE = (
    "each solver call gets what is left of the budget (at most its own time limit, less what "
    "is set aside for a later solve); once it is spent, a call with a feasible start keeps "
    "that start unsolved (kept_starts counts them) and a call without one gets floor_s; "
    "stages in the order they are solved; after a stop the running MIP ends at its "
    "incumbent, later calls get grace_s"
)
_WORK_RULE = (
    "each MIP call ends after work_limit branch-and-bound nodes (status work_limit) or when "
    "proven; budget_s is each call's wall-clock safety limit, not shared; after a stop the "
    "running MIP ends at its incumbent, later calls get grace_s"
)


def active_budget() -> SolveBudget | None:
    """Return the budget of the run in progress, or ``None``."""
    return _BUDGET.get()


@contextmanager
def reserving(seconds: float) -> Iterator[None]:
    """Set ``seconds`` of the active budget aside for a solve after the block (no budget: no-op).

    Parameters
    ----------
    seconds
        Seconds to keep for later (:meth:`SolveBudget.reserve`).

    Yields
    ------
    None
    """
    budget = active_budget()
    if budget is None:
        yield
        return
    with budget.reserve(seconds):
        yield


def open_share_s(fraction: float) -> float:
    """Return ``fraction`` of the seconds open to the next call of the active budget.

    ``0.0`` without a time budget (:meth:`SolveBudget.open_share_s`). With :func:`reserving`
    it keeps a slice for a later solve out of the calls before it, also out of their share.

    Parameters
    ----------
    fraction
        Share of the open seconds, in ``[0, 1]``.

    Returns
    -------
    float
        Seconds.
    """
    budget = active_budget()
    return 0.0 if budget is None else budget.open_share_s(fraction)


@contextmanager
def sharing(fraction: float) -> Iterator[None]:
    """Give the solves inside the block ``fraction`` of the active budget's open seconds.

    No-op without a time budget (none, or a work limit).

    Parameters
    ----------
    fraction
        Share of the open seconds (:meth:`SolveBudget.share`).

    Yields
    ------
    None
    """
    budget = active_budget()
    if budget is None or budget.work_limit is not None or fraction >= 1.0:
        yield
        return
    with budget.share(fraction):
        yield


def in_turn(items: Iterable[T], *, size: Callable[[T], float]) -> Iterator[T]:
    """Yield ``items`` smallest first, each with a share of the active budget by its size.

    Item ``k`` gets ``size_k / (size_k + sizes of the items after it)`` of the seconds open
    when its turn comes (:meth:`SolveBudget.share`), so small items (which prove quickly) go
    first and the largest gets what is left; seconds an item does not use pass on. The share
    is open while the loop body runs. Without a time budget the order alone applies.

    Parameters
    ----------
    items
        What to solve, e.g. the independent parts of a model.
    size
        A positive size of each item (e.g. its pairs); ties keep the given order.

    Yields
    ------
    T
        The items, in ascending size.
    """
    ordered = sorted(items, key=size)
    sizes = [float(size(item)) for item in ordered]
    after = list(itertools.accumulate(reversed(sizes)))[::-1]
    for item, own, rest in zip(ordered, sizes, after, strict=True):
        with sharing(own / rest if rest > 0 else 1.0):
            yield item


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
