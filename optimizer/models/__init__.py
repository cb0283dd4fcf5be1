"""Exact, sparse location models: covering, median, center and capacitated facility location.

The models: set cover, max cover, p-median, p-center, capacitated facility location.

Every model takes numpy arrays or ``scipy.sparse`` matrices (never densified), applies exact
reductions, builds one sparse :class:`~optimizer.milp.Milp` and solves it with HiGHS (default,
one ``passModel`` call) or CBC through PuLP, returning a :class:`Solution` in the caller's
indices.
"""

from __future__ import annotations

from .center import p_center
from .cover import max_cover, set_cover
from .facility import capacitated_facility_location
from .median import p_median
from .reductions import CoverReduction, MaxCoverReduction, reduce_max_cover, reduce_set_cover
from .solution import Solution

__all__ = [
    "CoverReduction",
    "MaxCoverReduction",
    "Solution",
    "capacitated_facility_location",
    "max_cover",
    "p_center",
    "p_median",
    "reduce_max_cover",
    "reduce_set_cover",
    "set_cover",
]
