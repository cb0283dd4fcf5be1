"""How much of the boundary the extract's data covers.

A district boundary is often larger than the OSM extract planned with it: the extract ends at
its box, or holds only the streets within some radius (the Shanghai extract is a circle in its
box). The plan then covers only the part with data, and a planner must be told how large that
part is. The rule:

1. the boundary is its whole polygon as given (:attr:`geodata.area.StudyArea.boundary`), or the
   study area when no boundary file was given;
2. it is cut into squares of :data:`CELL_M` (1 km) in the local UTM grid;
3. a square *holds data* when a street of the walking network (its lines, sampled every half
   square) or a demand point (a building, or the village node or street-grid point that stands
   in for buildings) lies in it;
4. the share is the area of the study area (the boundary within the extract's bounds) in
   squares that hold data, divided by the boundary's whole area; below :data:`PARTIAL_BELOW`
   (95 %) the data is *partial* and a warning is logged; below :data:`TOO_LITTLE_BELOW` (5 %,
   the default of the option ``area.min_coverage``) a plan would describe a corner of the
   boundary as if it were the whole, and :func:`require_coverage` refuses it.

The square is 1 km because rural data is sparse: on the complete Puyang extract (its own box,
79 km²) 96 % of the area lies in 1 km squares with a street or a home, only 52 % in 250 m ones.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from geodata.area import StudyArea, to_projected
from geodata.errors import BoundaryError
from geodata.network import Network, street_lines

__all__ = ["CELL_M", "PARTIAL_BELOW", "TOO_LITTLE_BELOW", "DataCoverage", "city_coverage",
           "data_coverage", "require_coverage"]

log = logging.getLogger(__name__)

#: Side of the squares that hold data or not, in metres.
CELL_M = 1000.0
#: Below this share of the boundary the data is called partial.
PARTIAL_BELOW = 0.95
#: Below this share of the boundary a plan is refused.
TOO_LITTLE_BELOW = 0.05


@dataclass(frozen=True)
class DataCoverage:
    """The share of a boundary that an extract's streets and homes cover.

    Attributes
    ----------
    data_coverage_share
        Share of the boundary's area in squares that hold data (0 to 1).
    boundary_km2
        Area of the whole boundary (the study area when there is no boundary file).
    study_area_km2
        Area of the study area: the boundary cut to the extract's bounds.
    data_covered_km2
        Area of the boundary in squares that hold data.
    partial
        Whether the share is below ``partial_below``.
    cell_m, partial_below
        The rule's square and threshold.
    rule
        The rule in words.
    """

    data_coverage_share: float
    boundary_km2: float
    study_area_km2: float
    data_covered_km2: float
    partial: bool
    cell_m: float
    partial_below: float
    rule: str

    def as_record(self) -> dict[str, Any]:
        """Return the figures as plain JSON-ready data (``summary.json["study_area"]``).

        Returns
        -------
        dict
            The attributes, areas rounded to 0.01 km² and the share to 4 decimals.
        """
        record = asdict(self)
        for key in ("boundary_km2", "study_area_km2", "data_covered_km2"):
            record[key] = round(record[key], 2)
        record["data_coverage_share"] = round(self.data_coverage_share, 4)
        return record


def data_coverage(
    area: StudyArea,
    streets: Network,
    homes: NDArray[np.float64] | None = None,
    *,
    cell_m: float = CELL_M,
    partial_below: float = PARTIAL_BELOW,
) -> DataCoverage:
    """Measure the share of the boundary that the extract's streets and homes cover.

    Parameters
    ----------
    area
        The study area; its ``boundary`` (when a boundary file was given) is the whole.
    streets
        The walking network, in ``area.crs``.
    homes
        ``(n, 2)`` demand point coordinates in ``area.crs`` (metres), or ``None``.
    cell_m
        Side of the squares, in metres.
    partial_below
        Share below which the data is called partial (and a warning is logged).

    Returns
    -------
    DataCoverage
        The share, the areas and whether the data is partial.
    """
    whole_m2, covered = _covered(area, streets, homes, cell_m)
    share = min(covered / whole_m2, 1.0) if whole_m2 > 0 else 1.0
    result = DataCoverage(
        data_coverage_share=share,
        boundary_km2=whole_m2 / 1e6,
        study_area_km2=area.area_km2,
        data_covered_km2=covered / 1e6,
        partial=share < partial_below,
        cell_m=cell_m,
        partial_below=partial_below,
        rule=f"share of the boundary's area that lies inside the extract, in {cell_m:g} m squares "
        f"of the local UTM grid holding a street of the walking network or a demand point; "
        f"partial below {partial_below:.0%}",
    )
    _warn_partial(result, area.name)
    return result


def _covered(area: StudyArea, streets: Network, homes: NDArray[np.float64] | None,
             cell_m: float) -> tuple[float, float]:
    """Return the boundary's whole area and the area of it in squares holding data (m²)."""
    whole = area.projected if area.boundary is None else to_projected(area.boundary, area.crs)
    lines = shapely.segmentize(street_lines(streets).geometry.to_numpy(), cell_m / 2)
    xy = [shapely.get_coordinates(lines)]
    if homes is not None:
        xy.append(np.asarray(homes, dtype=float).reshape(-1, 2))
    cells = np.unique(np.floor(np.vstack(xy) / cell_m).astype(np.int64), axis=0)
    squares = shapely.box(*(cells * cell_m).T, *((cells + 1) * cell_m).T)
    # data exists only inside the extract: squares count within the study area alone
    covered = shapely.intersection(shapely.union_all(squares), area.projected).area
    return float(whole.area), float(covered)


def require_coverage(area: StudyArea, streets: Network, homes: NDArray[np.float64] | None,
                     *, at_least: float = TOO_LITTLE_BELOW) -> float:
    """Refuse a boundary the extract's data covers less than ``at_least`` of.

    Parameters
    ----------
    area
        The study area (its ``boundary``, when a boundary file was given, is the whole).
    streets
        The walking network, in ``area.crs``.
    homes
        ``(n, 2)`` demand point coordinates in ``area.crs``, or ``None``.
    at_least
        The smallest share planned (default :data:`TOO_LITTLE_BELOW`, 5 %; the option
        ``area.min_coverage``).

    Returns
    -------
    float
        The share covered.

    Raises
    ------
    BoundaryError
        Naming the share, the areas and the fix.
    """
    whole_m2, covered = _covered(area, streets, homes, CELL_M)
    share = min(covered / whole_m2, 1.0) if whole_m2 > 0 else 1.0
    if share < at_least:
        raise BoundaryError(
            None if area.source == "osm-bounds" else area.source,
            f"the OSM data covers only {100 * share:.3g} % of {area.name} ({covered / 1e6:.1f} "
            f"of {whole_m2 / 1e6:,.1f} km²), under the {100 * at_least:g} % a plan needs",
            "use an OSM extract that covers the boundary, or a boundary inside the extract "
            "(--district for one district of a file of several, or no --boundary to plan the "
            "extract's own area)" + _lower_floor(share))
    return share


def _lower_floor(share: float) -> str:
    """Name the floor that plans the part the data covers: the share, one digit, rounded down.

    The floor is the option ``area.min_coverage`` (flag ``--set``, scenario ``[area]``).
    """
    if share <= 0:
        return ""
    step = 10.0 ** math.floor(math.log10(share))
    floor = math.floor(share / step) * step
    return (f"; or plan only the part the data covers with --set area.min_coverage={floor:.1g} "
            f"(min_coverage = {floor:.1g} in a scenario's [area])")


def _warn_partial(result: DataCoverage, name: str) -> None:
    if result.partial:
        log.warning(
            "the OSM data covers only %.0f %% of %s (%.1f of %.1f km²): the plan covers only "
            "that part. Fix: use an extract that covers the whole boundary, or a smaller "
            "boundary", 100 * result.data_coverage_share, name, result.data_covered_km2,
            result.boundary_km2,
        )


def city_coverage(
    districts: Sequence[Mapping[str, Any]], owned_km2: Sequence[float], city: StudyArea
) -> DataCoverage:
    """Combine the districts' data coverage into the city's.

    Each district measured its share on its own study area (the district with its border
    buffer, :func:`data_coverage`); the city's covered area is the sum of each share times the
    area the district owns (its polygon less the earlier districts'), so no square counts twice.

    Parameters
    ----------
    districts
        The districts' ``summary["study_area"]`` records, in district order.
    owned_km2
        The area each district owns, in km², same order.
    city
        The city's study area; its ``boundary`` (when a boundary file was given) is the whole.

    Returns
    -------
    DataCoverage
        The city's share, areas and whether its data is partial.
    """
    whole = city.projected if city.boundary is None else to_projected(city.boundary, city.crs)
    first = districts[0]
    covered = sum(float(d["data_coverage_share"]) * a
                  for d, a in zip(districts, owned_km2, strict=True))
    boundary_km2 = whole.area / 1e6
    share = min(covered / boundary_km2, 1.0) if boundary_km2 > 0 else 1.0
    result = DataCoverage(
        data_coverage_share=share, boundary_km2=boundary_km2, study_area_km2=city.area_km2,
        data_covered_km2=covered, partial=share < first["partial_below"],
        cell_m=first["cell_m"], partial_below=first["partial_below"],
        rule=f"{first['rule']}; a city sums each district's share times the area it owns",
    )
    _warn_partial(result, city.name)
    return result

