"""A sparse mixed-integer program and the two backends that solve it.

Every model in this package is built as one :class:`Milp`: a cost vector, a sparse constraint
matrix and bounds, nothing densified. :func:`solve_milp` hands it to HiGHS in one call through
``highspy`` (the default), or to CBC through PuLP (the fallback, and the route to any other
solver PuLP drives). Both backends report the solver's *own* status, best bound and gap: PuLP
calls a CBC run that was stopped by its time limit with an incumbent "Optimal", so for CBC the
status and bound are read from CBC's log instead. Inside a run's
:class:`optimizer.budget.SolveBudget` each call gets its share of the run's time, reports its
progress and stops on request.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import sparse

from geodata.errors import ParameterError, SolverError

from .budget import SolveProgress, active_budget, current_stage, progress_clock

__all__ = ["Milp", "MilpResult", "SolverName", "available_solvers", "relative_gap", "solve_milp"]

log = logging.getLogger(__name__)

SolverName = Literal["highs", "cbc"]

#: Relative MIP gap at which a solution counts as proven optimal.
DEFAULT_GAP = 1e-6

#: Statuses of a solve stopped before it ended: it may hold no solution of its own.
_STOPPED = ("time_limit", "work_limit", "interrupted")


@dataclass(frozen=True)
class Milp:
    r"""Minimise :math:`c^\top x + \text{offset}` subject to bounds on rows and columns.

    .. math::

        \text{row\_lower} \le A x \le \text{row\_upper}, \qquad
        \text{col\_lower} \le x \le \text{col\_upper}, \qquad
        x_j \in \mathbb{Z} \text{ where integrality}_j

    Use ``-inf``/``inf`` for a missing bound; an equality row has equal bounds.

    Parameters
    ----------
    c
        Cost per column, shape ``(n,)``.
    a
        Constraint matrix, shape ``(m, n)``, any ``scipy.sparse`` format.
    row_lower, row_upper
        Row bounds, shape ``(m,)``.
    col_lower, col_upper
        Column bounds, shape ``(n,)``.
    integrality
        ``True`` where a column must take an integer value, shape ``(n,)``.
    offset
        Constant added to the objective.
    """

    c: np.ndarray
    a: Any  # any scipy.sparse array or matrix: the stubs' union lacks shape and nnz
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    offset: float = 0.0

    def __post_init__(self) -> None:
        m, n = self.a.shape
        for name, size in [
            ("c", n),
            ("col_lower", n),
            ("col_upper", n),
            ("integrality", n),
            ("row_lower", m),
            ("row_upper", m),
        ]:
            got = np.shape(getattr(self, name))
            if got != (size,):
                raise ValueError(f"Milp.{name} has shape {got}, expected ({size},)")

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns of the constraint matrix."""
        return self.a.shape


@dataclass(frozen=True)
class MilpResult:
    """What a solver made of a :class:`Milp`.

    Attributes
    ----------
    status
        ``"optimal"`` (proven within the gap tolerance), ``"time_limit"`` (stopped with or
        without an incumbent), ``"work_limit"`` (stopped at the budget's node limit,
        :class:`optimizer.budget.SolveBudget`), ``"interrupted"`` (stopped on request with
        its incumbent, :meth:`optimizer.budget.SolveBudget.stop`), ``"infeasible"``,
        ``"unbounded"`` or ``"error"``.
    x
        Column values of the best solution found, or ``None`` when there is none.
    objective
        Objective of ``x`` (offset included), or ``None``.
    bound
        Best proven lower bound on the objective, or ``None`` when unknown.
    gap
        Relative gap ``(objective - bound) / max(|objective|, 1e-9)``, or ``None``.
    solve_s
        Wall-clock seconds spent in the solver.
    solver
        ``"highs"`` or ``"cbc"``.
    """

    status: str
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    solve_s: float
    solver: str

    @property
    def has_solution(self) -> bool:
        """Whether a feasible solution (optimal or incumbent) is available."""
        return self.x is not None


def available_solvers() -> list[str]:
    """Return the solvers usable on this machine, preferred first.

    Returns
    -------
    list of str
        A subset of ``["highs", "cbc"]``.
    """
    found = []
    try:
        import highspy  # noqa: F401

        found.append("highs")
    except ImportError:
        pass
    if _cbc_path() is not None:
        found.append("cbc")
    return found


def solve_milp(
    milp: Milp,
    *,
    solver: SolverName = "highs",
    time_limit: float | None = None,
    gap: float = DEFAULT_GAP,
    start: np.ndarray | None = None,
    keep_start: bool = True,
) -> MilpResult:
    """Solve a :class:`Milp` with HiGHS or CBC.

    Parameters
    ----------
    milp
        The problem.
    solver
        ``"highs"`` (through ``highspy``, the default) or ``"cbc"`` (through PuLP). When HiGHS
        is asked for but not installed, CBC is used with a warning.
    time_limit
        Seconds before the solver stops and reports its incumbent; ``None`` for no limit.
        Inside a :class:`optimizer.budget.SolveBudget` the call gets at most what is left of
        the run's budget (at least its floor), is charged for its seconds, reports its
        progress, and stops early when the budget is stopped; once the budget is spent, a
        call with a feasible ``start`` returns it unsolved (status ``"time_limit"``, no
        bound). Under the budget's work limit, each MIP ends after that many
        branch-and-bound nodes (status ``"work_limit"``).
    gap
        Relative MIP gap at which the solver stops and reports ``"optimal"``.
    start
        A feasible solution to start from (column values), or ``None``. A solve stopped (by
        its time or node limit, or on request) before it holds a solution of its own returns
        a feasible start, with the solver's status and bound.
    keep_start
        Whether a spent run budget may return ``start`` unsolved. ``False`` for a rough start
        that is only a safety net: the call then gets the budget's time as a call without a
        start would (at least its floor), and still falls back on the start.

    Returns
    -------
    MilpResult
        The solver's own status, solution, objective, bound and gap.

    Raises
    ------
    ParameterError
        If ``solver`` is not a known name or ``time_limit`` is not positive.
    SolverError
        If no solver is available.
    """
    if solver not in ("highs", "cbc"):
        raise ParameterError(f"solver={solver!r} is unknown; use 'highs' or 'cbc'")
    if time_limit is not None and not time_limit > 0:
        raise ParameterError(f"time_limit={time_limit!r} must be a positive number of seconds")
    usable = available_solvers()
    if solver not in usable:
        if not usable:
            raise SolverError(
                "no MILP solver found: install 'highspy' (pip install highspy) or 'pulp' with CBC"
            )
        warnings.warn(
            f"solver {solver!r} is not installed; falling back to {usable[0]!r}",
            RuntimeWarning,
            stacklevel=2,
        )
        solver = usable[0]  # type: ignore[assignment]
    m, n = milp.shape
    log.info("solving %d rows x %d columns (%d non-zeros) with %s", m, n, milp.a.nnz, solver)
    if n == 0:
        return _solve_empty(milp, solver)
    said = _run_in_budget(milp, solver, time_limit=time_limit, gap=gap, start=start,
                          keep_start=keep_start)
    if said.x is None and said.status in _STOPPED and start is not None \
            and _is_feasible(milp, start):
        said = replace(said, x=np.asarray(start, dtype=float), objective=None)
    res = _own_objective(milp, said, gap)
    if start is None or said.status != "optimal" or res.status == "optimal":
        return res
    # A solver given a start has been seen to prove an optimum yet return a worse solution
    # (HiGHS 1.16); solve once more without the start rather than report that solution.
    log.warning("%s proved no optimum for its own solution from the start; solving again "
                "without it", solver)
    again = _own_objective(
        milp, _run_in_budget(milp, solver, time_limit=time_limit, gap=gap, start=None,
                             keep_start=False), gap
    )
    better = again.objective is not None and (res.objective is None
                                              or again.objective < res.objective)
    return again if better or again.status == "optimal" else res


def _run_in_budget(
    milp: Milp, solver: str, *, time_limit: float | None, gap: float, start: np.ndarray | None,
    keep_start: bool,
) -> MilpResult:
    """Run one solver call within the active budget: its share of time, charged, reported.

    When the budget's time is spent (:meth:`~optimizer.budget.SolveBudget.keeps_start`) and
    ``keep_start`` holds, a
    call with a feasible start returns that start unsolved instead.
    """
    budget = active_budget()
    run = _solve_highs if solver == "highs" else _solve_cbc
    if budget is None:
        return run(milp, time_limit=time_limit, gap=gap, start=start, nodes=None)
    fallback = keep_start and start is not None and _is_feasible(milp, start)
    if start is not None and fallback and budget.keeps_start():
        res = _kept_start(milp, start, solver)
        budget.kept_starts += 1
    else:
        limit = budget.limit(time_limit, has_start=fallback)
        res = run(milp, time_limit=limit, gap=gap, start=start, nodes=budget.work_limit)
        budget.overran(limit, res.solve_s)
    budget.charge(res.solve_s)
    budget.report(SolveProgress(current_stage() or "solve", res.solve_s, res.objective,
                                res.bound, res.gap, budget.left_s(), res.status))
    return res


def _kept_start(milp: Milp, start: np.ndarray, solver: str) -> MilpResult:
    """Return a start as the result of a call the budget had no time for: unproven, no bound."""
    x = np.asarray(start, dtype=float)
    objective = float(np.asarray(milp.c, dtype=float) @ x + milp.offset)
    return MilpResult("time_limit", x, objective, None, None, 0.0, solver)


def _is_feasible(milp: Milp, x: np.ndarray, tol: float = 1e-6) -> bool:
    """Whether ``x`` meets every bound, row and integrality of ``milp`` (relative ``tol``)."""
    x = np.asarray(x, dtype=float)
    if x.shape != (milp.shape[1],) or not np.all(np.isfinite(x)):
        return False
    a = sparse.csr_array(milp.a)
    activity = a @ x
    slack = tol * np.maximum(1.0, abs(a) @ np.abs(x))
    rows = np.all(activity >= milp.row_lower - slack) and np.all(activity <= milp.row_upper + slack)
    cols = np.all(x >= milp.col_lower - tol) and np.all(x <= milp.col_upper + tol)
    whole = x[np.asarray(milp.integrality, dtype=bool)]
    return bool(rows and cols and np.all(np.abs(whole - np.rint(whole)) <= tol))


def _own_objective(milp: Milp, res: MilpResult, gap: float) -> MilpResult:
    """Judge a result by its own solution: objective ``c @ x``, the bound capped at it.

    The objective is recomputed from the returned columns, the bound capped at it, and the
    status kept ``"optimal"`` only when that objective is within ``gap`` of the bound.
    """
    if res.x is None:
        return res
    objective = float(np.asarray(milp.c, dtype=float) @ res.x + milp.offset)
    bound = None if res.bound is None else min(res.bound, objective)
    closed = _minimising_gap(objective, bound)
    status = res.status
    unproven = closed is None or closed > gap * (1 + 1e-6) + 1e-9
    if status == "optimal" and unproven and bool(np.any(milp.integrality)):
        status = "time_limit"
    if res.objective is not None and abs(objective - res.objective) > 1e-6 * max(1, abs(objective)):
        log.info("the solver reported objective %s for a solution worth %s", res.objective,
                 objective)
    return replace(res, status=status, objective=objective, bound=bound, gap=closed)


def _solve_empty(milp: Milp, solver: str) -> MilpResult:
    """Solve the model without columns: optimal at 0 when 0 is within every row's range."""
    feasible = bool(np.all(milp.row_lower <= 0.0) and np.all(milp.row_upper >= 0.0))
    if not feasible:
        return MilpResult("infeasible", None, None, None, None, 0.0, solver)
    return MilpResult("optimal", np.zeros(0), 0.0, 0.0, 0.0, 0.0, solver)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """Return ``|objective - bound| / max(|objective|, 1e-9)``, or ``None`` if either is unknown.

    Parameters
    ----------
    objective
        Value of the incumbent.
    bound
        Proven bound on the optimum.

    Returns
    -------
    float or None
        The relative gap.
    """
    if objective is None or bound is None or not np.isfinite(bound):
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)


def _minimising_gap(objective: float | None, bound: float | None) -> float | None:
    """Return the gap of a minimisation, 0 when the bound overshoots the objective."""
    if objective is None or bound is None:
        return relative_gap(objective, bound)
    return relative_gap(objective, min(bound, objective))


#: Held while standard output is muted: threads of one process (a Dask worker's) share file
#: descriptor 1, and two mutes overlapping would restore the null device for good.
_STDOUT_LOCK = threading.Lock()


@contextmanager
def _stdout_muted(muted: bool) -> Iterator[None]:
    """Send what native code writes to standard output to the null device while ``muted``."""
    if not muted:
        yield
        return
    with _STDOUT_LOCK:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _solve_highs(
    milp: Milp,
    *,
    time_limit: float | None,
    gap: float,
    start: np.ndarray | None,
    nodes: int | None,
) -> MilpResult:
    import highspy

    with _stdout_muted(not log.isEnabledFor(logging.DEBUG)):
        h = highspy.Highs()  # prints HiGHS's banner before any option can be set
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("random_seed", 0)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if nodes is not None:
        h.setOptionValue("mip_max_nodes", int(nodes))
    m, n = milp.shape
    a = sparse.csc_array(milp.a)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = m
    lp.col_cost_ = np.asarray(milp.c, dtype=float)
    lp.col_lower_ = np.asarray(milp.col_lower, dtype=float)
    lp.col_upper_ = np.asarray(milp.col_upper, dtype=float)
    lp.row_lower_ = np.asarray(milp.row_lower, dtype=float)
    lp.row_upper_ = np.asarray(milp.row_upper, dtype=float)
    lp.offset_ = float(milp.offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = m
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    if np.any(milp.integrality):
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in milp.integrality
        ]
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, dtype=float))
        sol.value_valid = True
        h.setSolution(sol)
    is_mip = bool(np.any(milp.integrality))
    if is_mip and active_budget() is not None:
        h.cbMipInterrupt.subscribe(_watch_mip())
    t0 = time.perf_counter()
    h.run()
    solve_s = time.perf_counter() - t0
    status = h.getModelStatus()
    info = h.getInfo()
    S = highspy.HighsModelStatus
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=float) if has_x else None
    objective = float(info.objective_function_value) if has_x else None
    if status == S.kOptimal:
        name = "optimal"
    elif status == S.kInterrupt:
        name = "interrupted"
    elif status == S.kTimeLimit:
        name = "time_limit"
    elif status in (S.kIterationLimit, S.kSolutionLimit):  # node (or iteration) limit: work
        name = "work_limit"
    elif status == S.kInfeasible:
        name = "infeasible"
    elif status in (S.kUnbounded, S.kUnboundedOrInfeasible):
        name = "unbounded"
    else:
        name = "error"
    bound: float | None
    if is_mip:
        dual = float(info.mip_dual_bound)
        bound = dual if np.isfinite(dual) else None
    else:
        bound = objective if name == "optimal" else None
    return MilpResult(
        status=name,
        x=x,
        objective=objective,
        bound=bound,
        gap=_minimising_gap(objective, bound),
        solve_s=solve_s,
        solver="highs",
    )


def _watch_mip() -> Any:
    """Return a HiGHS MIP-interrupt callback: progress every few seconds, stop on request.

    A stop request ends a solve that started before it, once it holds a feasible solution
    (a finite primal bound), so an interrupted solve always has a plan to report; a solve
    started after the stop runs to its (short) limit instead.
    """
    budget = active_budget()
    assert budget is not None
    due = progress_clock()
    name = current_stage() or "solve"
    stoppable = not budget.stopped

    def watch(event: Any) -> None:
        out = event.data_out
        primal = float(out.mip_primal_bound)
        has_incumbent = bool(np.isfinite(primal))
        if stoppable and budget.stopped and has_incumbent:
            event.interrupt()
        if due():
            dual = float(out.mip_dual_bound)
            budget.report(SolveProgress(
                name,
                float(out.running_time),
                primal if has_incumbent else None,
                dual if np.isfinite(dual) else None,
                float(out.mip_gap) if has_incumbent and np.isfinite(dual) else None,
                _left_after(budget.left_s(), float(out.running_time)),
            ))

    return watch


def _left_after(left: float | None, running_s: float) -> float | None:
    """Return the budget left once a running solve's seconds are counted."""
    return None if left is None else max(0.0, left - running_s)


def _cbc_path() -> str | None:
    try:
        from pulp.apis import coin_api
    except ImportError:
        return None
    for path in (coin_api.cbc_path, coin_api.pulp_cbc_path):
        if path and Path(path).is_file():
            return str(path)
    import shutil

    return shutil.which("cbc")


_CBC_RESULT = re.compile(r"^Result - (.+)$", re.MULTILINE)
_CBC_BOUND = re.compile(r"^Lower bound:\s+(\S+)", re.MULTILINE)


def _solve_cbc(
    milp: Milp,
    *,
    time_limit: float | None,
    gap: float,
    start: np.ndarray | None,
    nodes: int | None,
) -> MilpResult:
    import pulp

    m, n = milp.shape
    prob = pulp.LpProblem("milp", pulp.LpMinimize)
    cols = []
    for j in range(n):
        lo = float(milp.col_lower[j])
        hi = float(milp.col_upper[j])
        cols.append(
            prob.add_variable(
                f"x{j}",
                lowBound=lo if np.isfinite(lo) else None,
                upBound=hi if np.isfinite(hi) else None,
                cat=pulp.LpInteger if milp.integrality[j] else pulp.LpContinuous,
            )
        )
    c = np.asarray(milp.c, dtype=float)
    nz = np.flatnonzero(c)
    prob += pulp.LpAffineExpression([(cols[j], c[j]) for j in nz], constant=float(milp.offset))
    a = sparse.csr_array(milp.a)
    for i in range(m):
        lo, hi = float(milp.row_lower[i]), float(milp.row_upper[i])
        row = slice(a.indptr[i], a.indptr[i + 1])
        expr = pulp.LpAffineExpression(
            [(cols[j], v) for j, v in zip(a.indices[row], a.data[row], strict=True)]
        )
        if lo == hi:
            prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{i}", lo)
            continue
        if np.isfinite(lo):
            prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}_lo", lo)
        if np.isfinite(hi):
            prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}_hi", hi)
    if start is not None:
        # a start from another solver may sit a rounding error outside a bound (-5e-17 >= 0)
        for var, value in zip(cols, start, strict=True):
            low = -np.inf if var.lowBound is None else var.lowBound
            high = np.inf if var.upBound is None else var.upBound
            var.setInitialValue(float(min(max(value, low), high)))
    with tempfile.TemporaryDirectory(prefix="siting-cbc-") as tmp:
        log_path = Path(tmp) / "cbc.log"
        cmd = pulp.getSolver(
            "COIN_CMD",
            path=_cbc_path(),
            msg=False,
            timeLimit=time_limit,
            gapRel=gap,
            warmStart=start is not None,
            logPath=str(log_path),
            threads=1,
            maxNodes=nodes,
        )
        t0 = time.perf_counter()
        prob.solve(cmd)
        solve_s = time.perf_counter() - t0
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return _read_cbc_outcome(prob, cols, text, milp, solve_s)


def _read_cbc_outcome(
    prob: object, cols: list, text: str, milp: Milp, solve_s: float
) -> MilpResult:
    import pulp

    result = _CBC_RESULT.search(text)
    said = result.group(1).strip().lower() if result else ""
    is_mip = bool(np.any(milp.integrality))
    if "optimal" in said or (not is_mip and prob.status == pulp.LpStatusOptimal):  # type: ignore[attr-defined]
        name = "optimal"
    elif "infeasible" in said or prob.status == pulp.LpStatusInfeasible:  # type: ignore[attr-defined]
        name = "infeasible"
    elif "unbounded" in said or prob.status == pulp.LpStatusUnbounded:  # type: ignore[attr-defined]
        name = "unbounded"
    elif "ctrl-c" in said:
        name = "interrupted"
    elif "stopped on node" in said or "stopped on iteration" in said:
        name = "work_limit"
    elif "stopped" in said:
        name = "time_limit"
    else:
        name = "error"
    has_x = name in ("optimal", "time_limit", "work_limit") and prob.sol_status in (  # type: ignore[attr-defined]
        pulp.LpSolutionOptimal,
        pulp.LpSolutionIntegerFeasible,
    )
    x = np.array([v.varValue or 0.0 for v in cols]) if has_x else None
    objective = float(milp.c @ x + milp.offset) if x is not None else None
    if name == "optimal":
        bound = objective
    else:
        found = _CBC_BOUND.search(text)
        bound = float(found.group(1)) + milp.offset if found else None
        if objective is not None and bound is not None:
            bound = min(bound, objective)
    return MilpResult(
        status=name,
        x=x,
        objective=objective,
        bound=bound,
        gap=_minimising_gap(objective, bound),
        solve_s=solve_s,
        solver="cbc",
    )
