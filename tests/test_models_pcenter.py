"""p-center against brute force over every subset of p sites, on both solvers."""

from __future__ import annotations

import itertools
from typing import get_args

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import cdist

from geodata.errors import ParameterError
from optimizer.milp import SolverName
from optimizer.models import Solution, p_center

SOLVERS = get_args(SolverName)


def _brute(d: np.ndarray, w: np.ndarray, p: int) -> float:
    """Smallest largest weighted cost over every p-subset; inf if none serves every row."""
    coverable = np.isfinite(d).any(axis=1)
    dc = d[coverable]
    wd = np.where(np.isfinite(dc), w[coverable, None] * np.where(np.isfinite(dc), dc, 0), np.inf)
    best = np.inf
    for sub in itertools.combinations(range(d.shape[1]), p):
        nearest = dc[:, list(sub)].min(axis=1)
        if np.all(np.isfinite(nearest)):
            best = min(best, float(wd[:, list(sub)].min(axis=1).max(initial=0.0)))
    return best


def _integer_instance(seed: int, n: int = 12, m: int = 7, *, forbid: float = 0.0):
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 12, (n, m)).astype(float)  # integers: many ties between distances
    if forbid:
        d[rng.random((n, m)) < forbid] = np.inf
    return d, rng.integers(0, 4, n).astype(float)


def _to_sparse(d: np.ndarray) -> sparse.csr_array:
    rows, cols = np.nonzero(np.isfinite(d))
    return sparse.csr_array((d[rows, cols], (rows, cols)), shape=d.shape)


def _check(sol: Solution, d: np.ndarray, w: np.ndarray, p: int, expected: float) -> None:
    if not np.isfinite(expected):
        assert sol.status == "infeasible" and not sol.has_solution
        return
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expected, abs=1e-12)
    assert sol.bound == pytest.approx(expected, abs=1e-12)
    assert sol.gap is not None and sol.gap <= 1e-6
    assert sol.open_sites.size == p
    assert sol.assignment is not None
    served = sol.assignment >= 0
    assert np.array_equal(served, np.isfinite(d).any(axis=1))
    assert sol.uncovered.tolist() == np.flatnonzero(~served).tolist()
    rows = np.flatnonzero(served)
    nearest = d[rows][:, sol.open_sites].min(axis=1)
    assert np.allclose(d[rows, sol.assignment[served]], nearest)
    assert float(np.max(w[rows] * nearest, initial=0.0)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", range(4))
def test_dense_matches_brute_force(seed: int, solver: SolverName) -> None:
    d, w = _integer_instance(seed)
    for p in (1, 2, 3):
        unweighted = _brute(d, np.ones(len(d)), p)
        weighted = _brute(d, w, p)
        for reduce in (True, False):
            _check(p_center(d, p, solver=solver, reduce=reduce), d, np.ones(len(d)), p,
                   unweighted)
            _check(p_center(d, p, weights=w, solver=solver, reduce=reduce), d, w, p, weighted)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", range(4))
def test_sparse_missing_pairs_are_forbidden(seed: int, solver: SolverName) -> None:
    d, w = _integer_instance(20 + seed, forbid=0.5)
    for p in (1, 2, 3):
        expected = _brute(d, w, p)
        _check(p_center(_to_sparse(d), p, weights=w, solver=solver), d, w, p, expected)
        _check(p_center(d, p, weights=w, solver=solver, reduce=False), d, w, p, expected)


@pytest.mark.parametrize("solver", SOLVERS)
def test_planar_instances_need_the_solver_and_match_brute_force(solver: SolverName) -> None:
    solver_seconds = 0.0
    for seed in range(3):
        rng = np.random.default_rng(40 + seed)
        demand, sites = rng.random((40, 2)), rng.random((14, 2))
        d = cdist(demand, sites)
        w = np.ones(len(d))
        for p in (2, 3, 4):
            for reduce in (True, False):
                sol = p_center(d, p, solver=solver, reduce=reduce)
                _check(sol, d, w, p, _brute(d, w, p))
                solver_seconds += sol.solve_s
    assert solver_seconds > 0  # some decisions were settled by the MILP, not the shortcuts


def test_unreachable_demand_is_reported_and_left_out() -> None:
    d = np.array([[1.0, 5.0], [np.inf, np.inf], [4.0, 2.0]])
    sol = p_center(d, 1)
    assert sol.status == "optimal" and sol.objective == 4.0
    assert sol.uncovered.tolist() == [1]
    assert sol.assignment is not None and sol.assignment.tolist() == [0, -1, 0]


def test_no_allowed_pair_at_all_is_optimal_at_zero() -> None:
    sol = p_center(sparse.csr_array((3, 4)), 2)
    assert sol.status == "optimal" and sol.objective == 0.0 and sol.open_sites.size == 2
    assert sol.uncovered.tolist() == [0, 1, 2]


@pytest.mark.parametrize("solver", SOLVERS)
def test_too_few_sites_to_reach_every_row_is_infeasible(solver: SolverName) -> None:
    d = np.full((3, 3), np.inf)
    np.fill_diagonal(d, 1.0)
    sol = p_center(_to_sparse(d), 2, solver=solver)
    assert sol.status == "infeasible" and not sol.has_solution and sol.assignment is None
    assert p_center(_to_sparse(d), 3, solver=solver).objective == 1.0


def test_bad_inputs_raise_parameter_error() -> None:
    d = np.ones((3, 2))
    with pytest.raises(ParameterError, match="p=3"):
        p_center(d, 3)
    with pytest.raises(ParameterError, match="p=0"):
        p_center(d, 0)
    with pytest.raises(ParameterError, match="weights"):
        p_center(d, 1, weights=-np.ones(3))
    with pytest.raises(ParameterError, match="cost"):
        p_center(-d, 1)
    with pytest.raises(ParameterError, match="solver"):
        p_center(d, 1, solver="gurobi")  # type: ignore[arg-type]


def test_time_limit_keeps_a_valid_bound_and_plan() -> None:
    rng = np.random.default_rng(7)
    d = cdist(rng.random((40, 2)), rng.random((14, 2)))
    w = np.ones(len(d))
    expected = _brute(d, w, 3)
    sol = p_center(d, 3, time_limit=1e-3, reduce=False)
    assert sol.status in ("time_limit", "optimal")
    assert sol.bound is not None and sol.bound <= expected + 1e-12
    if sol.has_solution:
        assert sol.objective is not None and sol.objective >= expected - 1e-12
        assert sol.gap == pytest.approx((sol.objective - sol.bound) / sol.objective)
