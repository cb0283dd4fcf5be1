"""Checks and conversions shared by the location models: nothing here densifies a matrix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from geodata.errors import ParameterError

__all__ = [
    "CostPairs",
    "check_options",
    "check_p",
    "concat_ranges",
    "cost_pairs",
    "coverage_matrix",
    "nonnegative_vector",
]

_SOLVERS = ("highs", "cbc")


def check_options(solver: str, time_limit: float | None, gap: float) -> None:
    """Raise :class:`ParameterError` for an unknown solver, a bad time limit or a bad gap.

    Parameters
    ----------
    solver
        Solver name.
    time_limit
        Seconds, or ``None``.
    gap
        Relative MIP gap.

    Raises
    ------
    ParameterError
        If any option is out of range.
    """
    if solver not in _SOLVERS:
        raise ParameterError(f"solver={solver!r} is unknown; use one of {_SOLVERS}")
    if time_limit is not None and not (np.isfinite(time_limit) and time_limit > 0):
        raise ParameterError(f"time_limit={time_limit!r} must be a positive number of seconds")
    if not (np.isfinite(gap) and 0 <= gap < 1):
        raise ParameterError(f"gap={gap!r} must be a relative gap in [0, 1), e.g. 1e-6")


def check_p(p: Any, n_sites: int) -> int:
    """Return ``p`` as an int after checking ``1 <= p``.

    Parameters
    ----------
    p
        Number of sites to open.
    n_sites
        Number of candidate sites (only named in messages).

    Returns
    -------
    int
        ``p``.

    Raises
    ------
    ParameterError
        If ``p`` is not a whole number of at least 1.
    """
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 1:
        raise ParameterError(
            f"p={p!r} must be a whole number of sites, at least 1 (there are {n_sites} candidates)"
        )
    return int(p)


def _is_sparse(x: Any) -> bool:
    return sparse.issparse(x)


def coverage_matrix(coverage: Any, *, name: str = "coverage") -> sparse.csr_array:
    """Return a demand x site 0/1 matrix as a boolean CSR array without stored zeros.

    Parameters
    ----------
    coverage
        A 2-D numpy array or ``scipy.sparse`` matrix of 0/1 (or booleans).
    name
        Argument name used in error messages.

    Returns
    -------
    scipy.sparse.csr_array
        Boolean, canonical (sorted indices, no duplicates, no explicit zeros).

    Raises
    ------
    ParameterError
        If the input is not 2-D or holds a value other than 0 and 1.
    """
    if _is_sparse(coverage):
        a = sparse.csr_array(coverage)
        values = a.data
    else:
        arr = np.asarray(coverage)
        if arr.ndim != 2:
            raise ParameterError(
                f"{name} must be a 2-D demand x site matrix, got shape {arr.shape}"
            )
        a = sparse.csr_array(arr)
        values = a.data
    if a.ndim != 2:
        raise ParameterError(f"{name} must be a 2-D demand x site matrix, got shape {a.shape}")
    if values.size and values.dtype != bool:
        bad = ~((values == 0) | (values == 1))
        if np.any(bad):
            raise ParameterError(
                f"{name} must hold only 0 and 1 (site covers demand point or not); found "
                f"{values[bad][0]!r}"
            )
    a = a.astype(bool)
    a.sum_duplicates()
    a.eliminate_zeros()
    a.sort_indices()
    return a


def nonnegative_vector(
    values: Any, size: int, *, name: str, default: float | None = None
) -> np.ndarray:
    """Return a finite, non-negative float vector of length ``size``.

    Parameters
    ----------
    values
        Array-like, or ``None`` to use ``default`` everywhere.
    size
        Expected length.
    name
        Argument name used in error messages.
    default
        Value used when ``values`` is ``None``; ``None`` makes the argument required.

    Returns
    -------
    numpy.ndarray
        Float64 vector.

    Raises
    ------
    ParameterError
        If the shape is wrong or a value is negative, NaN or infinite.
    """
    if values is None:
        if default is None:
            raise ParameterError(f"{name} is required")
        return np.full(size, float(default))
    if _is_sparse(values):
        raise ParameterError(f"{name} must be a 1-D numpy array, not a sparse matrix")
    arr = np.asarray(values, dtype=float)
    if arr.shape != (size,):
        raise ParameterError(f"{name} has shape {arr.shape}, expected ({size},)")
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise ParameterError(
            f"{name}[{k}] = {arr[k]!r}: every value must be finite and non-negative"
        )
    return arr


@dataclass(frozen=True)
class CostPairs:
    """The allowed (demand, site) pairs of a cost matrix, sorted by demand then site.

    Attributes
    ----------
    rows, cols
        Demand and site index of each allowed pair.
    values
        Cost of each pair.
    shape
        ``(n_demand, n_sites)`` of the original matrix.
    dense
        Whether every pair is allowed.
    """

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    shape: tuple[int, int]
    dense: bool

    @property
    def indptr(self) -> np.ndarray:
        """CSR row pointer of the pairs."""
        return np.concatenate(([0], np.cumsum(np.bincount(self.rows, minlength=self.shape[0]))))


def cost_pairs(cost: Any, *, name: str = "cost") -> CostPairs:
    """Return the allowed pairs of a dense or sparse cost matrix.

    A dense matrix allows every pair except those holding ``inf``; a sparse matrix allows
    exactly its stored entries (explicit zeros included: a stored 0 is a free pair).

    Parameters
    ----------
    cost
        Demand x site cost, a 2-D numpy array or ``scipy.sparse`` matrix.
    name
        Argument name used in error messages.

    Returns
    -------
    CostPairs
        The allowed pairs.

    Raises
    ------
    ParameterError
        If the matrix is not 2-D, or holds NaN, ``-inf`` or a negative value.
    """
    if _is_sparse(cost):
        a = sparse.csr_array(cost, dtype=float)
        if a.ndim != 2:
            raise ParameterError(f"{name} must be a 2-D demand x site matrix, got shape {a.shape}")
        a.sum_duplicates()
        a.sort_indices()
        values = np.asarray(a.data, dtype=float)
        _check_cost_values(values, name, allow_inf=False)
        rows = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
        cols = a.indices.astype(np.int64)
        dense = a.nnz == a.shape[0] * a.shape[1]
        return CostPairs(rows, cols, values, (int(a.shape[0]), int(a.shape[1])), dense)
    arr = np.asarray(cost, dtype=float)
    if arr.ndim != 2:
        raise ParameterError(f"{name} must be a 2-D demand x site matrix, got shape {arr.shape}")
    _check_cost_values(arr.ravel(), name, allow_inf=True)
    finite = np.isfinite(arr)
    if finite.all():
        n, m = arr.shape
        rows = np.repeat(np.arange(n), m)
        cols = np.tile(np.arange(m), n)
        return CostPairs(rows, cols, arr.ravel().copy(), (n, m), True)
    rows, cols = np.nonzero(finite)
    return CostPairs(rows, cols, arr[rows, cols], (arr.shape[0], arr.shape[1]), False)


def _check_cost_values(values: np.ndarray, name: str, *, allow_inf: bool) -> None:
    bad = np.isnan(values) | (values < 0) | (~allow_inf & np.isinf(values))
    if np.any(bad):
        v = values[np.flatnonzero(bad)[0]]
        extra = "; mark a forbidden pair with inf (dense) or leave it out (sparse)"
        raise ParameterError(f"{name} holds {v!r}: costs must be non-negative numbers{extra}")


def concat_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return ``concatenate([arange(s, s + c) for s, c in zip(starts, counts)])``, vectorised.

    Parameters
    ----------
    starts, counts
        Integer arrays of equal length; counts non-negative.

    Returns
    -------
    numpy.ndarray
        The concatenated ranges (int64).
    """
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    keep = counts > 0
    counts, starts = counts[keep], starts[keep]
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    out = np.ones(total, dtype=np.int64)
    out[0] = starts[0]
    out[ends[:-1]] = starts[1:] - (starts[:-1] + counts[:-1] - 1)
    return np.cumsum(out)
