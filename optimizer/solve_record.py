"""How a tier was solved: one record every tier's plan carries.

Each tier's plan (:class:`optimizer.stations.StationPlan`, :class:`optimizer.stations.CargoPlan`,
:class:`optimizer.rural.RuralPlan`, :class:`optimizer.hubs.HubPlan`) holds a
:class:`SolveRecord` in its ``solve`` attribute (:class:`optimizer.lockers.LockerPlan` gives
one from its own fields, which its callers read directly): the status, the objective and
proven bound with their relative gap when a model was solved, and the seconds spent building and
solving.
A tier placed by rule (cargo matching, village and township stations) has status
``"rule-based"`` and no objective, bound or gap.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Solution

__all__ = ["RULE_BASED", "SolveRecord"]

#: Status of a tier placed by a rule or an exact enumeration, not by a MILP.
RULE_BASED = "rule-based"


@dataclass(frozen=True)
class SolveRecord:
    """Status, objective, bound, gap and times of one tier's solve.

    Attributes
    ----------
    status
        ``"optimal"``, ``"time_limit"``, ... (:class:`optimizer.models.Solution`), or
        :data:`RULE_BASED`.
    objective, bound, gap
        The solver's objective, proven bound and relative gap; ``None`` when unknown or not
        solved by a model.
    build_s
        Seconds spent building the model (or placing by rule).
    solve_s
        Seconds spent in the solver.
    """

    status: str
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    build_s: float = 0.0
    solve_s: float = 0.0

    @classmethod
    def of(cls, solution: Solution, *, build_s: float | None = None) -> SolveRecord:
        """Return the record of a location model's solution.

        Parameters
        ----------
        solution
            What :mod:`optimizer.models` returned.
        build_s
            Seconds spent building, when the caller measured more than the model did.

        Returns
        -------
        SolveRecord
            Its status, objective, bound, gap and times.
        """
        return cls(solution.status, solution.objective, solution.bound, solution.gap,
                   solution.build_s if build_s is None else build_s, solution.solve_s)
