"""Set cover and max cover against brute force over every subset of sites."""

from __future__ import annotations

import itertools
from typing import Any, get_args

import numpy as np
import pytest
from scipy import sparse

from geodata.errors import ParameterError
from optimizer.milp import SolverName
from optimizer.models import max_cover, set_cover
from optimizer.models.cover import greedy_max_cover
from optimizer.models.cover_bounds import fix_sites, lagrangian_max_cover

SOLVERS = get_args(SolverName)


def _coverage(seed: int, n: int = 14, m: int = 8, density: float = 0.25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, m)) < density).astype(np.int8)


def _brute_set_cover(a: np.ndarray, cost: np.ndarray) -> float:
    coverable = a.any(axis=1)
    best = np.inf
    for r in range(a.shape[1] + 1):
        for sub in itertools.combinations(range(a.shape[1]), r):
            if a[coverable][:, list(sub)].any(axis=1).all():
                best = min(best, float(cost[list(sub)].sum()))
    return best


def _brute_max_cover(a: np.ndarray, w: np.ndarray, p: int) -> float:
    best = 0.0
    for sub in itertools.combinations(range(a.shape[1]), min(p, a.shape[1])):
        best = max(best, float(w[a[:, list(sub)].any(axis=1)].sum()))
    return best


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", range(6))
def test_set_cover_matches_brute_force(seed: int, solver: SolverName) -> None:
    a = _coverage(seed)
    cost = np.random.default_rng(100 + seed).integers(1, 6, a.shape[1]).astype(float)
    expected = _brute_set_cover(a, cost)
    for matrix in (a, sparse.csr_array(a)):
        sol = set_cover(matrix, cost, solver=solver)
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(expected)
        assert sol.gap is not None and sol.gap <= 1e-6
        assert sol.uncovered.tolist() == np.flatnonzero(~a.any(axis=1)).tolist()
        covered = a[:, sol.open_sites].any(axis=1)
        assert np.array_equal(covered, a.any(axis=1))
        assert sol.assignment is not None
        assert np.all(sol.assignment[~covered] == -1)
        assert np.all(a[np.flatnonzero(covered), sol.assignment[covered]] == 1)


def test_set_cover_unit_cost_counts_sites() -> None:
    a = _coverage(3, 15, 8, 0.3)
    sol = set_cover(a)
    assert sol.objective == sol.open_sites.size == _brute_set_cover(a, np.ones(8))


def test_set_cover_with_nothing_to_cover() -> None:
    sol = set_cover(np.zeros((4, 3)))
    assert sol.status == "optimal" and sol.objective == 0
    assert sol.uncovered.tolist() == [0, 1, 2, 3]
    assert sol.open_sites.size == 0


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", range(5))
def test_max_cover_matches_brute_force(seed: int, solver: SolverName) -> None:
    a = _coverage(50 + seed, 15, 8, 0.2)
    w = np.random.default_rng(seed).integers(0, 9, a.shape[0]).astype(float)
    for p in (1, 2, 3, 5):
        expected = _brute_max_cover(a, w, p)
        sol = max_cover(sparse.coo_array(a), w, p, solver=solver)
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(expected)
        assert sol.bound == pytest.approx(expected)
        assert sol.open_sites.size <= p
        assert sol.objective == pytest.approx(w[a[:, sol.open_sites].any(axis=1)].sum())


def test_max_cover_p_at_least_sites_opens_what_covers() -> None:
    a = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]])
    sol = max_cover(a, [2.0, 3.0, 9.0], 5)
    assert sol.objective == 5.0
    assert sol.uncovered.tolist() == [2]
    assert sol.assignment is not None and sol.assignment.tolist() == [0, 1, -1]


def test_bad_inputs_raise_parameter_error() -> None:
    unknown: Any = "gurobi"  # not a SolverName, on purpose
    a = np.eye(3)
    with pytest.raises(ParameterError, match="0 and 1"):
        set_cover(2 * a)
    with pytest.raises(ParameterError, match="cost"):
        set_cover(a, [1, -1, 1])
    with pytest.raises(ParameterError, match="weights"):
        max_cover(a, [1, -2, 1], 1)
    with pytest.raises(ParameterError, match="weights"):
        max_cover(a, [1, 1], 1)
    with pytest.raises(ParameterError, match="p=0"):
        max_cover(a, [1, 1, 1], 0)
    with pytest.raises(ParameterError, match="solver"):
        set_cover(a, solver=unknown)
    with pytest.raises(ParameterError, match="2-D"):
        set_cover(np.ones(3))


@pytest.mark.parametrize("solver", SOLVERS)
def test_max_cover_lagrangian_fixing_keeps_the_optimum(solver: SolverName) -> None:
    fixed_any = unproven_any = False
    for seed in range(4):
        a = _coverage(seed, 60, 14, 0.3)
        w = np.random.default_rng(seed).integers(1, 13, a.shape[0]).astype(float)
        for p in (2, 3, 4):
            expected = _brute_max_cover(a, w, p)
            lag_in = sparse.csr_array(a.astype(bool))
            lag = lagrangian_max_cover(lag_in, w, p, greedy_max_cover(lag_in, w, p))
            assert lag.bound >= expected - 1e-9 and lag.best_weight <= expected + 1e-9
            fixed = fix_sites(lag_in, w, p, lag)
            fixed_any |= fixed.cols.size < a.shape[1]
            unproven_any |= not lag.proven(1e-6)
            left = min(fixed.p, fixed.cols.size)
            best_kept = max(
                float(w[a[:, [*fixed.forced, *sub]].any(axis=1)].sum())
                for sub in itertools.combinations(fixed.cols.tolist(), left)
            )
            assert best_kept == pytest.approx(expected)
            for reduce in (True, False):
                sol = max_cover(a, w, p, solver=solver, reduce=reduce)
                assert sol.status == "optimal"
                assert sol.objective == pytest.approx(expected)
                assert sol.bound is not None and expected <= sol.bound <= expected * (1 + 1e-6)
    assert fixed_any  # the fixing closed or opened some site on these instances
    assert unproven_any  # and the bound alone did not settle every instance: the MILP ran
