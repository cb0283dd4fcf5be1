"""p-median against brute force, and the radius formulation against the assignment one."""

from __future__ import annotations

import itertools
from typing import Any, get_args

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import cdist

from geodata.errors import ParameterError
from optimizer.milp import SolverName
from optimizer.models import p_median

SOLVERS = get_args(SolverName)


def _brute(d: np.ndarray, w: np.ndarray, p: int) -> float:
    """Every subset of p sites; inf marks a forbidden pair; rows with no allowed site skipped."""
    coverable = np.isfinite(d).any(axis=1)
    best = np.inf
    for sub in itertools.combinations(range(d.shape[1]), p):
        nearest = d[coverable][:, list(sub)].min(axis=1)
        if np.all(np.isfinite(nearest)):
            best = min(best, float(w[coverable] @ nearest))
    return best


def _instance(seed: int, n: int = 12, m: int = 7, *, forbid: float = 0.0):
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 12, (n, m)).astype(float)  # integers: many ties between distances
    if forbid:
        d[rng.random((n, m)) < forbid] = np.inf
    w = rng.integers(0, 6, n).astype(float)
    return d, w


def _check(sol, d, w, expected) -> None:
    if not np.isfinite(expected):
        assert sol.status == "infeasible" and not sol.has_solution
        return
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expected, abs=1e-9)
    assert sol.gap is not None and sol.gap <= 1e-6
    served = sol.assignment >= 0
    assert np.array_equal(served, np.isfinite(d).any(axis=1))
    rows = np.flatnonzero(served)
    assert np.all(np.isin(sol.assignment[served], sol.open_sites))
    assert np.allclose(d[rows, sol.assignment[served]], d[rows][:, sol.open_sites].min(axis=1))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", range(4))
def test_dense_matches_brute_force(seed: int, solver: SolverName) -> None:
    d, w = _instance(seed)
    for p in (1, 2, 3):
        expected = _brute(d, w, p)
        for reduce in (True, False):
            _check(p_median(d, w, p, solver=solver, reduce=reduce), d, w, expected)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", range(4))
def test_sparse_missing_entries_are_forbidden(seed: int, solver: SolverName) -> None:
    d, w = _instance(10 + seed, forbid=0.5)
    rows, cols = np.nonzero(np.isfinite(d))
    sp = sparse.csr_array((d[rows, cols], (rows, cols)), shape=d.shape)
    for p in (1, 2, 3):
        expected = _brute(d, w, p)
        _check(p_median(sp, w, p, solver=solver), d, w, expected)
        _check(p_median(d, w, p, solver=solver, reduce=False), d, w, expected)


def test_sparse_stored_zero_is_an_allowed_free_pair() -> None:
    sp = sparse.coo_array(([0.0, 5.0, 1.0], ([0, 1, 1], [0, 0, 1])), shape=(2, 2))
    sol = p_median(sp, [1.0, 1.0], 1)
    assert sol.objective == 5.0 and sol.open_sites.tolist() == [0]


@pytest.mark.parametrize("seed", range(3))
def test_radius_equals_assignment_formulation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pts = rng.random((60, 2))
    d = cdist(pts, pts[:25])
    w = rng.integers(1, 20, 60).astype(float)
    for p in (2, 4, 7):
        radius = p_median(d, w, p, formulation="radius")
        full_radius = p_median(d, w, p, formulation="radius", reduce=False)
        assignment = p_median(d, w, p, formulation="assignment", reduce=False)
        assert radius.status == full_radius.status == assignment.status == "optimal"
        assert radius.objective == pytest.approx(assignment.objective, rel=1e-6)
        assert full_radius.objective == pytest.approx(assignment.objective, rel=1e-6)


def test_identical_rows_are_merged_without_changing_the_optimum() -> None:
    d, w = _instance(33)
    d2 = np.vstack([d, d[:5]])
    w2 = np.concatenate([w, w[:5]])
    expected = _brute(d2, w2, 2)
    _check(p_median(d2, w2, 2), d2, w2, expected)


def test_bad_inputs_raise_parameter_error() -> None:
    unknown: Any = "flow"  # not a formulation, on purpose
    d = np.ones((3, 2))
    with pytest.raises(ParameterError, match="p=3"):
        p_median(d, np.ones(3), 3)
    with pytest.raises(ParameterError, match="p=0"):
        p_median(d, np.ones(3), 0)
    with pytest.raises(ParameterError, match="weights"):
        p_median(d, -np.ones(3), 1)
    with pytest.raises(ParameterError, match="cost"):
        p_median(-d, np.ones(3), 1)
    with pytest.raises(ParameterError, match="formulation"):
        p_median(d, np.ones(3), 1, formulation=unknown)
