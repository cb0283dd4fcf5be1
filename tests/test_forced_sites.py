"""Sites a planner requires (必选) or prohibits (禁用), and existing lockers, on real data.

An inventory written as a planner writes it (Chinese headers and values) on the Chengdu demo
extract: an existing locker of 120 compartments alone gives the optimal plan to beat; the same
locker with a site forced that the plan leaves closed, one prohibited that it opens, and a
prohibited point no candidate stands near gives the constrained plan.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from geodata.errors import InputDataError
from geodata.table_columns import PROHIBITED_REACH_M
from geodata.user_inputs import read_inventory
from optimizer.lockers import LockerProblem, dominated_sites, solve_lockers
from siting.pipeline import PlanResult, plan

#: A ground-floor site the optimal plan leaves closed; 1,501 parcels/day in its walk.
CLOSED = ("c-gf-way-1355617331", 104.07040035016577, 30.65575145024252)
#: A site the optimal plan opens with 45 modules; the nearest other candidate is 34 m away.
OPENED = ("c-gf-way-1355663581", 104.06594315102738, 30.66286940002582)
#: A point more than 150 m from every new candidate site (inside the study area).
EMPTY = (104.05472, 30.65971)

LOCKER = "类型,名称,经度,纬度,格口数,要求\n快件箱,丰巢 西御街,104.0603,30.6631,120,\n"
INVENTORY = LOCKER + (
    f"点位,必选点位,{CLOSED[1]},{CLOSED[2]},,必选\n"
    f"点位,禁用点位,{OPENED[1]},{OPENED[2]},,禁用\n"
    f"点位,空地,{EMPTY[0]},{EMPTY[1]},,禁用\n"
)


def planned(osm: Path, folder: Path, table: str) -> PlanResult:
    (folder / "inventory.csv").write_text(table, encoding="utf-8")
    return plan(osm, out=None, inventory=read_inventory(folder / "inventory.csv", datum="wgs84"))


@pytest.fixture(scope="module")
def optimum(chengdu_osm: Path, tmp_path_factory: pytest.TempPathFactory) -> PlanResult:
    return planned(chengdu_osm, tmp_path_factory.mktemp("locker"), LOCKER)


@pytest.fixture(scope="module")
def constrained(chengdu_osm: Path, tmp_path_factory: pytest.TempPathFactory) -> PlanResult:
    return planned(chengdu_osm, tmp_path_factory.mktemp("forced"), INVENTORY)


def open_sites(result: PlanResult) -> dict[str, int]:
    lockers = result.layers["lockers"]
    return dict(zip(lockers["site_id"], lockers["modules"], strict=True))


def test_the_optimum_leaves_one_site_closed_and_opens_the_other(optimum: PlanResult) -> None:
    assert optimum.summary["status"] == "optimal"
    assert optimum.locker_plan.bound == pytest.approx(optimum.locker_plan.objective)
    sites = open_sites(optimum)
    assert CLOSED[0] not in sites and sites[OPENED[0]] >= 1


def test_required_site_opens_and_prohibited_site_does_not(optimum: PlanResult,
                                                           constrained: PlanResult) -> None:
    sites = open_sites(constrained)
    assert sites["c-user/3"] >= 1  # the required row, opened as a new locker
    assert OPENED[0] not in sites
    assert OPENED[0] not in set(constrained.layers["candidates"]["site_id"])
    plan_ = constrained.locker_plan
    assert constrained.summary["status"] == "optimal"
    assert plan_.bound is not None and plan_.objective is not None
    assert plan_.bound <= plan_.objective * (1 + 1e-6)
    assert optimum.locker_plan.objective is not None
    # a constrained problem costs no less (here the same: 3,714,000 CNY, other sites swapped)
    assert plan_.objective >= optimum.locker_plan.objective * (1 - 1e-9)
    assert len(plan_.forced_refused) == 0


def test_input_rows_say_what_each_row_became(constrained: PlanResult) -> None:
    rows = {r["row"]: r for r in constrained.summary["input_rows"]}
    modules = open_sites(constrained)["c-user/3"]
    assert rows[2]["status"] == "used" and "120 compartments" in rows[2]["reason"]
    assert rows[3]["status"] == "used"
    assert rows[3]["reason"] == f"required: opened as a new locker with {modules} modules"
    assert rows[4]["status"] == "used"
    assert rows[4]["reason"].startswith(f"prohibited: candidate site {OPENED[0]}")
    assert rows[5]["status"] == "dropped"
    assert f"within {PROHIBITED_REACH_M:g} m" in rows[5]["reason"]


def test_existing_locker_serves_homes_with_its_compartments(constrained: PlanResult) -> None:
    lockers = constrained.layers["lockers"]
    mine = lockers[lockers["site_id"] == "c-user/2"]
    assert len(mine) == 1 and bool(mine["existing"].iloc[0])
    assert mine["compartments"].iloc[0] == 120 and mine["modules"].iloc[0] == 0
    served = float(mine["daily_parcels_served"].iloc[0])
    assert 0 < served <= 120 + 1e-6
    r2 = [r for r in constrained.summary["rules"] if r["id"] == "R2" and "community" in r]
    held = sum(r.get("existing_compartments") or 0.0 for r in r2)
    took = sum(r.get("existing_served_parcels") or 0.0 for r in r2)
    assert took == pytest.approx(served, rel=1e-6)
    assert held == pytest.approx(120, rel=1e-6)  # all its compartments, where its homes are


def test_an_action_on_a_locker_row_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "inventory.csv"
    table.write_text("类型,经度,纬度,要求\n快件箱,104.06,30.66,必选\n点位,104.06,30.66,禁止入内\n",
                     encoding="utf-8")
    with pytest.raises(InputDataError) as err:
        read_inventory(table, datum="wgs84")
    assert "rows 2" in str(err.value) and "'禁止入内'" in str(err.value)


def test_required_and_prohibited_read_in_english(tmp_path: Path) -> None:
    table = tmp_path / "inventory.csv"
    table.write_text("kind,lon,lat,action\nsite,104.06,30.66,required\n"
                     "candidate site,104.07,30.66,Prohibited\nsite,104.05,30.66,\n",
                     encoding="utf-8")
    inv = read_inventory(table, datum="wgs84")
    assert inv["action"].tolist() == ["required", "prohibited", ""]
    assert not np.asarray(inv["existing"]).any()


def test_a_forced_site_is_never_dominated() -> None:
    # sites 0 and 1 reach homes {0, 1}; site 2 reaches {0}, inside both
    problem = LockerProblem(
        daily_parcels=np.array([30.0, 30.0]), pair_demand=np.array([0, 1, 0, 1, 0]),
        pair_site=np.array([0, 0, 1, 1, 2]), pair_walk_m=np.full(5, 100.0), n_sites=3,
        existing=np.zeros(3, dtype=bool), existing_capacity=np.zeros(3))
    assert dominated_sites(problem).tolist() == [False, True, True]
    forced = replace(problem, forced=np.array([False, True, True]))
    assert dominated_sites(forced).tolist() == [True, False, False]
    # 60 parcels need 3 modules of 24 (R2 >= 1 per parcel): one site holds them all (38,000
    # CNY); forced, sites 1 and 2 open and share the 3 modules (58,000 CNY)
    assert solve_lockers(problem).objective == pytest.approx(20_000 + 3 * 6_000)
    plan_ = solve_lockers(forced)
    assert plan_.status == "optimal" and plan_.sites.tolist() == [1, 2]
    assert (plan_.modules >= 1).all()
    assert plan_.objective == pytest.approx(2 * 20_000 + 3 * 6_000)
    assert plan_.bound == pytest.approx(plan_.objective)
