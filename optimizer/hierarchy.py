"""The tiers of the delivery network a plan can hold, named once for every entry point.

The CLI (``--tiers``), the Python API (``siting.plan(tiers=...)``), scenario files (``tiers``)
and the outputs (one GeoPackage layer and one ``summary.json["tiers"]`` entry per tier) all
use these names.
"""

from __future__ import annotations

from collections.abc import Sequence

from geodata.errors import ParameterError

__all__ = ["TIERS", "unknown_tiers", "check_tiers"]

#: Smart lockers (R2), community and cargo stations (R1, R7), village stations (R3, G4),
#: township stations (R4), county hubs (R5, R6); the rural chain is G5.
TIERS: tuple[str, ...] = ("lockers", "stations", "villages", "townships", "hubs")


def unknown_tiers(tiers: Sequence[str]) -> list[str]:
    """Return the names in ``tiers`` that are not tiers, sorted.

    Parameters
    ----------
    tiers
        Tier names as given.

    Returns
    -------
    list of str
        The unknown names (empty when every name is a tier).
    """
    return sorted(set(tiers) - set(TIERS))


def check_tiers(tiers: Sequence[str]) -> None:
    """Raise when ``tiers`` names something that is not a tier.

    Parameters
    ----------
    tiers
        Tier names as given.

    Raises
    ------
    ParameterError
        Naming the unknown tiers and the ones to choose from.
    """
    unknown = unknown_tiers(tiers)
    if unknown:
        raise ParameterError(f"tiers {unknown} are unknown; choose from {', '.join(TIERS)}")
