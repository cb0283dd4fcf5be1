"""The public exceptions of postal-siting.

Every error a user can cause names the file, the field, the value found and the fix. The tree
has one base, :class:`SitingError`; the leaves also subclass the built-in exception a caller
would expect (``ValueError`` for bad input, ``RuntimeError`` for a plan that cannot be made), so
``except ValueError`` keeps working for callers who do not know this module.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "SitingError",
    "InputDataError",
    "OsmFileError",
    "BoundaryError",
    "CRSError",
    "ParameterError",
    "InfeasiblePlanError",
    "SolverError",
    "OutputError",
    "AreaTooLargeError",
]


class SitingError(Exception):
    """Base of every error raised on purpose by postal-siting."""


class InputDataError(SitingError, ValueError):
    """A file given by the user cannot be used as it is.

    Parameters
    ----------
    path
        The file at fault (``None`` for in-memory input).
    problem
        What is wrong, naming the field and the value found.
    fix
        What the user can do about it.
    """

    def __init__(self, path: str | Path | None, problem: str, fix: str) -> None:
        self.path = None if path is None else Path(path)
        self.problem = problem
        self.fix = fix
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}. Fix: {fix}")


class OsmFileError(InputDataError):
    """An OpenStreetMap file is missing, empty, truncated, not OSM, or lacks what a plan needs."""


class BoundaryError(InputDataError):
    """A boundary file is unreadable, empty, or does not overlap the OSM data."""


class CRSError(InputDataError):
    """Coordinates are in the wrong reference system (for instance GCJ-02 given as WGS84)."""


class ParameterError(SitingError, ValueError):
    """A parameter value is out of its allowed range."""


class AreaTooLargeError(SitingError, ValueError):
    """The study area would need more memory or time than this machine has."""


class InfeasiblePlanError(SitingError, RuntimeError):
    """The plan rules cannot all be met; the message names the rule, the place and the gap."""


class SolverError(SitingError, RuntimeError):
    """No usable MILP solver, or the solver failed without a usable answer."""


class OutputError(SitingError, OSError):
    """The output folder cannot be written."""
