"""The exact reductions never change the optimum (random instances, before and after)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial import cKDTree

from optimizer.models import max_cover, reduce_max_cover, reduce_set_cover, set_cover
from optimizer.models.reductions import dominated_columns, identical_rows


def _planar(seed: int, n: int, m: int, reach: float) -> sparse.csr_array:
    rng = np.random.default_rng(seed)
    demand, sites = rng.random((n, 2)), rng.random((m, 2))
    r = np.sqrt(reach / (m * np.pi))
    pairs = cKDTree(demand).sparse_distance_matrix(cKDTree(sites), r, output_type="coo_matrix")
    return sparse.csr_array((np.ones(pairs.nnz, bool), (pairs.row, pairs.col)), shape=(n, m))


@pytest.mark.parametrize("seed", range(8))
def test_set_cover_reductions_keep_the_optimum(seed: int) -> None:
    a = _planar(seed, 150, 40, 4.0)
    cost = np.random.default_rng(seed).integers(1, 4, 40).astype(float) if seed % 2 else None
    before = set_cover(a, cost, reduce=False)
    after = set_cover(a, cost, reduce=True)
    assert before.status == after.status == "optimal"
    assert after.objective == pytest.approx(before.objective)
    assert np.array_equal(before.uncovered, after.uncovered)
    dense = a.toarray()
    coverable = dense.any(axis=1)
    assert dense[coverable][:, after.open_sites].any(axis=1).all()


@pytest.mark.parametrize("seed", range(6))
def test_max_cover_reductions_keep_the_optimum(seed: int) -> None:
    a = _planar(seed, 150, 40, 4.0)
    w = np.random.default_rng(seed).integers(0, 5, 150).astype(float)
    for p in (3, 8):
        before = max_cover(a, w, p, reduce=False)
        after = max_cover(a, w, p, reduce=True)
        assert before.status == after.status == "optimal"
        assert after.objective == pytest.approx(before.objective)


def test_reduce_set_cover_pieces() -> None:
    # row 0 only site 0 -> forced; row 3 is a superset of row 2 -> dropped;
    # site 3 covers a subset of site 2 at equal cost -> dominated; row 4 uncoverable
    a = np.array(
        [
            [1, 0, 0, 0],
            [0, 1, 1, 0],
            [0, 0, 1, 1],
            [0, 1, 1, 1],
            [0, 0, 0, 0],
            [0, 0, 1, 1],
        ]
    )
    red = reduce_set_cover(a)
    assert red.uncovered.tolist() == [4]
    assert 0 in red.forced.tolist()
    assert 3 not in red.cols.tolist()
    assert 3 not in red.rows.tolist() and 5 not in red.rows.tolist()


def test_dominated_columns_keeps_one_of_equal_columns() -> None:
    a = sparse.csr_array(np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1]], dtype=bool))
    mask = dominated_columns(a, np.array([2.0, 2.0, 1.0]))
    assert mask is not None and mask.tolist() == [False, True, False]
    mask = dominated_columns(a, np.array([3.0, 2.0, 1.0]))
    assert mask is not None and mask.tolist() == [True, False, False]


def test_identical_rows_finds_exact_duplicates() -> None:
    a = sparse.csr_array(np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1], [0, 0, 0], [0, 1, 0]]))
    assert identical_rows(a.indptr, a.indices).tolist() == [0, 1, 0, 3, 1]
    vals = np.array([1.0, 2.0, 3.0, 1.0, 2.5, 3.0])
    assert identical_rows(a.indptr, a.indices, vals).tolist() == [0, 1, 2, 3, 1]


def test_reduce_max_cover_sums_weights_of_identical_rows() -> None:
    a = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    red = reduce_max_cover(a, [1.0, 2.0, 4.0, 8.0])
    assert sorted(red.weights.tolist()) == [3.0, 4.0]
    assert red.uncovered.tolist() == [3]
    assert red.row_of[0] == red.row_of[1] != red.row_of[2]


def test_reductions_shrink_a_planar_instance() -> None:
    a = _planar(0, 3000, 600, 7.0)
    red = reduce_set_cover(a)
    assert red.a.shape[0] < 0.3 * 3000
    assert red.a.nnz < 0.3 * a.nnz
