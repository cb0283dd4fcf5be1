"""What every location model returns: the :class:`Solution` record."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..milp import relative_gap

__all__ = ["Solution", "failed_solution", "relative_gap"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Solution:
    """The outcome of one location model, in the indices of the caller's matrices.

    Attributes
    ----------
    status
        ``"optimal"`` (proven within the requested relative gap), ``"time_limit"`` (stopped by
        the time limit, with or without an incumbent), ``"infeasible"``, ``"unbounded"`` or
        ``"error"``.
    objective
        Objective value of the solution (total cost; covered weight for :func:`max_cover`),
        or ``None`` when there is no solution.
    bound
        Best proven bound on the optimum: a lower bound for the minimising models, an upper
        bound for :func:`max_cover`; ``None`` when unknown.
    gap
        ``|objective - bound| / max(|objective|, 1e-9)``, or ``None``.
    open_sites
        Sorted site (column) indices opened; empty when there is no solution.
    assignment
        Site serving each demand row, ``-1`` when none does (uncovered, or not covered within
        the budget of :func:`max_cover`). Cover models give the lowest-index open site that
        covers the row; :func:`p_median` the nearest open site; single-source CFL its only
        site; split CFL the site serving the largest share. ``None`` without a solution.
    uncovered
        Demand rows no site can serve at all (no covering site, or no allowed pair in a sparse
        cost matrix). They are left out of the model and reported here, never made infeasible.
    build_s
        Seconds spent checking inputs, reducing and building the model (and heuristics).
    solve_s
        Seconds spent inside the solver (all rounds).
    solver
        ``"highs"`` or ``"cbc"``.
    allocation
        For :func:`capacitated_facility_location` only: CSR matrix (demand x site) of the
        fraction of each demand served by each site (0/1 when single-sourced); otherwise
        ``None``.
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    open_sites: np.ndarray
    assignment: np.ndarray | None
    uncovered: np.ndarray
    build_s: float
    solve_s: float
    solver: str
    allocation: sparse.csr_array | None = None

    @classmethod
    def from_result(
        cls,
        status: str,
        objective: float,
        bound: float | None,
        open_sites: np.ndarray,
        assignment: np.ndarray,
        uncovered: np.ndarray,
        build_s: float,
        solve_s: float,
        solver: str,
        *,
        name: str,
        measure: str = "cost",
        maximise: bool = False,
        allocation: sparse.csr_array | None = None,
    ) -> Solution:
        """Return the :class:`Solution` of a run that found a feasible plan.

        The solver's bound is clamped to the plan's own objective, which is itself a bound
        (no better plan than one in hand can be worse than it), and the gap is computed from
        the two.

        Parameters
        ----------
        status
            The solver's status (``"optimal"``, ``"time_limit"``, ...).
        objective
            The plan's objective, recomputed on the caller's full matrices.
        bound
            Proven bound from the solver, or ``None`` when unknown.
        open_sites
            Site (column) indices opened, in the caller's indices.
        assignment, uncovered, build_s, solve_s, solver
            Stored as given; see the class attributes.
        name
            Model name for the log line.
        measure
            What the objective measures, for the log line (``"cost"``, ``"radius"``, ...).
        maximise
            ``True`` for a maximising model (:func:`max_cover`): the bound is an upper bound and
            is raised to the objective; otherwise it is a lower bound and lowered to it.
        allocation
            Demand x site fractions (capacitated facility location only).

        Returns
        -------
        Solution
            With the clamped bound, its relative gap and the open sites sorted as int64.
        """
        if bound is not None:
            bound = max(bound, objective) if maximise else min(bound, objective)
        log.info(
            "%s: %s, %s %.6g with %d sites, %d rows uncovered, solved in %.3f s (%s)",
            name,
            status,
            measure,
            objective,
            len(open_sites),
            uncovered.size,
            solve_s,
            solver,
        )
        return cls(
            status=status,
            objective=objective,
            bound=bound,
            gap=relative_gap(objective, bound),
            open_sites=np.sort(np.asarray(open_sites, dtype=np.int64)),
            assignment=assignment,
            uncovered=uncovered,
            build_s=build_s,
            solve_s=solve_s,
            solver=solver,
            allocation=allocation,
        )

    @property
    def is_optimal(self) -> bool:
        """Whether the solver proved the solution optimal within the gap tolerance."""
        return self.status == "optimal"

    @property
    def has_solution(self) -> bool:
        """Whether a feasible solution (optimal or incumbent) is available."""
        return self.objective is not None

    @property
    def total_s(self) -> float:
        """Build plus solve seconds."""
        return self.build_s + self.solve_s


def failed_solution(
    status: str,
    bound: float | None,
    uncovered: np.ndarray,
    build_s: float,
    solve_s: float,
    solver: str,
    *,
    name: str = "model",
) -> Solution:
    """Return the :class:`Solution` of a run that ended without a feasible solution.

    Parameters
    ----------
    status
        The solver's status (``"infeasible"``, ``"time_limit"``, ...).
    bound
        Proven bound, if any.
    uncovered
        Demand rows no site can serve.
    build_s, solve_s
        Seconds spent building and solving.
    solver
        Solver name.
    name
        Model name for the log line.

    Returns
    -------
    Solution
        With no objective, no open sites and no assignment.
    """
    log.info("%s: %s without a solution after %.3f s (%s)", name, status, solve_s, solver)
    return Solution(
        status=status,
        objective=None,
        bound=bound,
        gap=None,
        open_sites=np.zeros(0, dtype=np.int64),
        assignment=None,
        uncovered=uncovered,
        build_s=build_s,
        solve_s=solve_s,
        solver=solver,
    )
