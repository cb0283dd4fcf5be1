"""The city-wide lower bound (cost splitting over districts) against the whole area as one plan.

Random planar cities: homes cut into two or three districts by their x coordinate, every site in
reach of any district's homes shared. Each district is planned alone by the locker model
(:func:`optimizer.lockers.solve_lockers`, as city mode does); the whole city is planned once by
the same model with every home and site. The split bound must never exceed the whole city's
proven optimum, while the sum of the district optima does on some instances (the reason the
bound is needed). On the real Chengdu extract, city mode's bound must stay below the whole
area planned as one plan by the same pipeline.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from optimizer.city_bound import DistrictReach, city_lower_bound, split_bound, split_weights
from optimizer.lockers import LockerParameters, LockerProblem, solve_lockers

N_INSTANCES = 40
PARAMS = LockerParameters(radius_m=250.0)


def _problem(parcels: np.ndarray, dist: np.ndarray, existing: np.ndarray,
             capacity: np.ndarray) -> LockerProblem:
    d, s = np.nonzero(dist <= PARAMS.radius_m)
    return LockerProblem(daily_parcels=parcels, pair_demand=d, pair_site=s,
                         pair_walk_m=dist[d, s], n_sites=dist.shape[1], existing=existing,
                         existing_capacity=capacity)


def _city(seed: int) -> tuple[LockerProblem, list[np.ndarray]]:
    """A random city and the homes of each district."""
    rng = np.random.default_rng(seed)
    n_homes, n_sites, side = int(rng.integers(20, 40)), int(rng.integers(8, 18)), 900.0
    homes = rng.uniform(0, side, (n_homes, 2))
    sites = rng.uniform(0, side, (n_sites, 2))
    dist = np.hypot(*(homes[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    existing = np.zeros(n_sites, dtype=bool)
    existing[: int(rng.integers(0, 3))] = True
    capacity = np.where(existing, rng.integers(20, 120, n_sites), 0).astype(float)
    parcels = np.round(rng.uniform(3, 60, n_homes), 1)
    k = int(rng.integers(2, 4))
    cut = np.minimum((homes[:, 0] * k // side).astype(int), k - 1)
    return (_problem(parcels, dist, existing, capacity),
            [np.flatnonzero(cut == j) for j in range(k)])


def _district(city: LockerProblem, homes: np.ndarray) -> tuple[DistrictReach, float]:
    """Plan one district alone; return its reach (homes it serves) and its optimum."""
    dense = np.full((city.n_demand, city.n_sites), np.inf)
    dense[city.pair_demand, city.pair_site] = city.pair_walk_m
    part = _problem(city.daily_parcels[homes], dense[homes], city.existing,
                    city.existing_capacity)
    plan = solve_lockers(part, PARAMS, time_limit=30)
    assert plan.status == "optimal"
    served = plan.assignment >= 0
    keep = served[part.pair_demand]
    reach = DistrictReach(
        daily_parcels=part.daily_parcels[served],
        pair_demand=(np.cumsum(served) - 1)[part.pair_demand[keep]],
        pair_site=part.pair_site[keep], site_keys=np.arange(city.n_sites).astype(object),
        existing=city.existing, existing_capacity=city.existing_capacity)
    return reach, float(plan.objective or 0.0)


def test_split_weights_add_up_to_one_per_site() -> None:
    city, parts = _city(7)
    reaches = [_district(city, homes)[0] for homes in parts]
    total = np.zeros(city.n_sites)
    for reach, w in zip(reaches, split_weights(reaches), strict=True):
        total[reach.site_keys.astype(int)] += w
    assert np.allclose(total, 1.0)


def test_city_bound_never_exceeds_the_whole_city_optimum() -> None:
    above = 0
    for seed in range(N_INSTANCES):
        city, parts = _city(seed)
        whole = solve_lockers(city, PARAMS, time_limit=30)
        assert whole.status == "optimal", seed
        planned = [_district(city, homes) for homes in parts]
        reaches = [r for r, _ in planned]
        splits = [split_bound(r, w, PARAMS, time_limit=30)
                  for r, w in zip(reaches, split_weights(reaches), strict=True)]
        bound = city_lower_bound(splits, PARAMS)
        assert bound is not None
        assert bound <= float(whole.objective or 0.0) + 1e-6, seed
        above += sum(obj for _, obj in planned) > float(whole.objective or 0.0) + 1e-6
    # the district optima summed overstate the city's optimum on some instances
    assert above > 0


def test_city_bound_on_chengdu_is_below_the_whole_area_planned_once(
        tmp_path: Path, chengdu_osm: Path) -> None:
    from siting.city import plan_city
    from siting.options import PlanOptions
    from siting.pipeline import run_plan
    from siting.scenario import load_scenarios
    from siting.summary import validate_summary

    (tmp_path / "chengdu.osm.xz").symlink_to(chengdu_osm)
    path = tmp_path / "city.toml"
    path.write_text("""
name = "tianfu-bound"
[area]
osm = "chengdu.osm.xz"
[area.districts]
source = "osm"
admin_level = 8
[parameters]
radius_m = 200
[solver]
time_limit = 60
""", encoding="utf-8")
    city = plan_city(load_scenarios(path)[0].scenario, out=tmp_path / "city")
    whole = run_plan(chengdu_osm, PlanOptions(radius_m=200.0, time_limit=60))
    assert whole.summary["status"] == "optimal"
    summary = json.loads((tmp_path / "city" / "summary.json").read_text())
    validate_summary(summary)
    assert summary["bound"] is not None and summary["gap"] is not None
    assert summary["bound"] <= whole.summary["objective"] + 1e-6
    assert summary["bound"] <= summary["objective"] + 1e-6
    assert all(d["split_bound"] is not None for d in summary["districts"])
    assert city.summary["bound"] == summary["bound"]


def test_split_problem_reduced_and_cut_keeps_its_optimum() -> None:
    """Dropping dominated sites and solving in parts leaves the split optimum unchanged.

    Checked against the whole split formulation solved as one MILP, with the parcel-share
    weights and with random weights (a site may then be dominated by a cheaper one only).
    """
    from optimizer.city_bound import _dominated, _parts, _split_milp
    from optimizer.milp import solve_milp

    rng = np.random.default_rng(3)
    dropped = parts = 0
    for seed in range(N_INSTANCES // 2):
        city, homes = _city(seed)
        reaches = [_district(city, h)[0] for h in homes]
        for reach, share in zip(reaches, split_weights(reaches), strict=True):
            for w in (share, rng.uniform(0.0, 1.0, len(share)).round(1)):
                whole = solve_milp(_split_milp(reach, w, PARAMS), time_limit=30)
                cut = split_bound(reach, w, PARAMS, time_limit=30)
                assert whole.status == cut.status == "optimal", seed
                assert cut.objective == pytest.approx(whole.objective, rel=1e-9, abs=1e-6), seed
                keep = ~_dominated(reach, w, PARAMS)
                dropped += int((~keep & (np.bincount(reach.pair_site, minlength=len(keep))
                                         > 0)).sum())
                parts += len(_parts(reach, keep)) > 1
    assert dropped > 0 and parts > 0  # both reductions were exercised
