"""Scenario files: validation with every fault at once, sweeps, paths, hashes, user inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geodata.coords import wgs84_to_gcj02
from geodata.errors import InputDataError, ParameterError
from geodata.user_inputs import read_communities, read_inventory
from siting.batch import plan_kwargs
from siting.scenario import ScenarioError, load_many, load_scenarios

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "scenarios"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def osm_here(tmp_path: Path, chengdu_osm: Path) -> Path:
    link = tmp_path / "chengdu.osm.xz"
    link.symlink_to(chengdu_osm)
    return link


def test_sweep_is_the_cartesian_product_with_stable_names(tmp_path: Path, osm_here: Path) -> None:
    path = _write(tmp_path, "s.toml", """
name = "cd"
[area]
osm = "chengdu.osm.xz"
[sweep]
radius_m = [200, 300, 400]
rules = ["national", "guangdong"]
""")
    runs = load_scenarios(path)
    assert [r.name for r in runs] == [
        f"cd__radius_m-{r}__rules-{p}" for r in (200, 300, 400) for p in ("national", "guangdong")
    ]
    assert [r.scenario.parameters.radius_m for r in runs] == [200, 200, 300, 300, 400, 400]
    assert {r.scenario.rules.preset for r in runs} == {"national", "guangdong"}
    assert runs[0].sweep == {"parameters.radius_m": 200, "rules.preset": "national"}
    assert len({r.input_hash for r in runs}) == 6
    assert runs[0].scenario.area.osm == str(osm_here)
    # same content, same hash; a changed input file changes it
    assert load_scenarios(path)[0].input_hash == runs[0].input_hash


def test_every_fault_is_reported_at_once(tmp_path: Path, osm_here: Path) -> None:
    path = _write(tmp_path, "bad.toml", """
name = "bad"
colour = "red"
[area]
osm = "chengdu.osm.xz"
[parameters]
radius_m = -5
mode = "fastest"
[solver]
time_limit = "long"
""")
    with pytest.raises(ScenarioError) as info:
        load_scenarios(path)
    err = info.value
    fields = {f["field"] for f in err.faults}
    assert {"colour", "parameters.radius_m", "parameters.mode", "solver.time_limit"} <= fields
    text = str(err)
    assert str(path) in text and "-5" in text and "unknown key" in text and "fix:" in text
    assert "pydantic" not in text.lower()
    assert isinstance(err, InputDataError)


@pytest.mark.parametrize("osm", ["../outside.osm", "/etc/hostname"])
def test_paths_that_escape_the_folder_are_refused(tmp_path: Path, osm: str) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (tmp_path / "outside.osm").write_text("<osm/>")
    path = _write(inner, "s.toml", f'[area]\nosm = "{osm}"\n')
    with pytest.raises(ScenarioError, match="outside the scenario's folder"):
        load_scenarios(path)
    # a wider root admits the sibling file
    if osm.startswith(".."):
        assert load_scenarios(path, root=tmp_path)[0].scenario.area.osm == str(
            tmp_path / "outside.osm")


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    missing = _write(tmp_path, "m.toml", '[area]\nosm = "nope.osm"\n')
    broken = _write(tmp_path, "b.toml", '[area\nosm = "x"\n')
    runs, errors = load_many([missing, broken])
    assert runs == []
    assert [p.name for p, _ in errors] == ["m.toml", "b.toml"]
    assert "no such file" in str(errors[0][1])
    assert "not valid TOML" in str(errors[1][1])


def test_growth_and_parameters_reach_the_pipeline(tmp_path: Path, osm_here: Path) -> None:
    path = _write(tmp_path, "g.toml", """
[area]
osm = "chengdu.osm.xz"
[parameters]
radius_m = 250
parcels_per_resident_per_year = 120
locker_share = 0.6
growth = { rate = 0.1, base_year = 2021, target_year = 2025 }
compartments_per_module = 20
[solver]
name = "cbc"
time_limit = 12
""")
    run = load_scenarios(path)[0]
    assert run.name == "g"
    kw = plan_kwargs(run.scenario, out=None)
    assert kw["demand_params"].growth_factor == pytest.approx(1.1**4)
    assert kw["demand_params"].locker_share == 0.6
    assert kw["demand_params"].parcels_per_resident_per_year == 120
    assert kw["locker_params"].compartments_per_module == 20
    assert (kw["radius_m"], kw["solver"], kw["time_limit"]) == (250, "cbc", 12)


def test_growth_with_target_before_base_is_refused(tmp_path: Path, osm_here: Path) -> None:
    path = _write(tmp_path, "g.toml", """
[area]
osm = "chengdu.osm.xz"
[parameters]
growth = { rate = 0.1, base_year = 2025, target_year = 2021 }
""")
    with pytest.raises(ScenarioError, match="before base_year"):
        load_scenarios(path)


def test_bad_sweep_and_rule_overrides(tmp_path: Path, osm_here: Path) -> None:
    path = _write(tmp_path, "s.toml", """
[area]
osm = "chengdu.osm.xz"
[rules]
preset = "national"
overrides = { R9 = 2 }
[sweep]
radius_m = [200, -1]
""")
    with pytest.raises(ScenarioError) as info:
        load_scenarios(path)
    text = str(info.value)
    assert "sweep.radius_m" in text and "R9" in text


def test_examples_load() -> None:
    for path in sorted(EXAMPLES.glob("*.toml")):
        runs = load_scenarios(path, root=EXAMPLES.parent)
        assert runs, path


def test_user_communities_csv_gcj02(tmp_path: Path) -> None:
    lon, lat = np.array([104.060, 104.065]), np.array([30.660, 30.662])
    glon, glat = wgs84_to_gcj02(lon, lat)
    csv = tmp_path / "c.csv"
    csv.write_text("name,lon,lat,households,residents\n"
                   f"文翁,{glon[0]},{glat[0]},100,\n宽巷子,{glon[1]},{glat[1]},,500\n",
                   encoding="utf-8")
    frame = read_communities(csv, datum="gcj02")
    assert frame["residents"].tolist() == pytest.approx([262.0, 500.0])
    assert np.allclose(frame.geometry.x, lon, atol=2e-5)
    assert np.allclose(frame.geometry.y, lat, atol=2e-5)


def test_user_inventory_faults_name_rows(tmp_path: Path) -> None:
    csv = tmp_path / "i.csv"
    csv.write_text("name,lon,lat,kind,compartments\n"
                   "a,104.06,30.66,locker,60\nb,104.07,30.66,kiosk,-3\n", encoding="utf-8")
    with pytest.raises(InputDataError) as info:
        read_inventory(csv, datum="wgs84")
    text = str(info.value)
    assert "rows 3" in text and "'kiosk'" in text and "compartments" in text
    with pytest.raises(ParameterError):
        read_inventory(csv, datum="bd09")  # type: ignore[arg-type]


def test_user_inventory_xlsx_and_geojson(tmp_path: Path) -> None:
    import geopandas as gpd
    import pandas as pd
    import shapely

    xlsx = tmp_path / "i.xlsx"
    pd.DataFrame({"name": ["a"], "经度": [104.06], "纬度": [30.66], "kind": ["Station"]}).to_excel(
        xlsx, index=False)
    frame = read_inventory(xlsx, datum="wgs84")
    assert frame["kind"].tolist() == ["station"] and bool(frame["existing"].all())
    gj = tmp_path / "i.geojson"
    gpd.GeoDataFrame({"kind": ["locker"], "compartments": [48]},
                     geometry=[shapely.Point(104.06, 30.66)], crs=4326).to_file(gj)
    frame = read_inventory(gj, datum="wgs84")
    assert frame["compartments"].tolist() == [48.0]
    out = tmp_path / "far.csv"
    out.write_text("kind,lon,lat\nlocker,30.66,104.06\n")
    with pytest.raises(InputDataError, match="outside China"):
        read_inventory(out, datum="wgs84")


def test_hub_sites_and_county_hubs_reach_the_pipeline(tmp_path: Path, puyang_osm: Path) -> None:
    (tmp_path / "puyang.osm").symlink_to(puyang_osm)
    _write(tmp_path, "hubs.csv", "name,lon,lat,capacity\n庆祖分拨点,115.0187,35.5183,30000\n")
    text = """
[area]
osm = "puyang.osm"
[parameters]
county_hubs = {n}
[inputs]
hub_sites = {{ path = "{path}", datum = "wgs84" }}
"""
    run = load_scenarios(_write(tmp_path, "h.toml", text.format(n=2, path="hubs.csv")))[0]
    kw = plan_kwargs(run.scenario, out=None)
    assert kw["hub_sites"]["name"].tolist() == ["庆祖分拨点"]
    assert kw["hub_sites"]["capacity"].tolist() == [30_000.0]
    assert kw["hub_params"].county_hubs == 2
    assert kw["hub_params"].sorting_capacity is None and kw["hub_params"].automatic_sorting
    # R6: the planned sorting capacity and whether automatic sorting may be planned
    run = load_scenarios(_write(tmp_path, "r6.toml", text.format(n=1, path="hubs.csv").replace(
        "county_hubs = 1", "hub_sorting_capacity = 40000\nautomatic_sorting = false")))[0]
    hp = plan_kwargs(run.scenario, out=None)["hub_params"]
    assert hp.sorting_capacity == 40_000 and hp.automatic_sorting is False
    assert hp.county_hubs is None
    # a bad count, and a table outside the folder, are named with their field and fix
    for n, path, field in ((0, "hubs.csv", "parameters.county_hubs"),
                           (2, "../hubs.csv", "inputs.hub_sites.path")):
        with pytest.raises(ScenarioError) as info:
            load_scenarios(_write(tmp_path, "bad.toml", text.format(n=n, path=path)))
        (fault,) = info.value.faults
        assert fault["field"] == field and fault["fix"]


def test_tiers_are_the_pipelines_names_and_rural_says_what_replaced_it(
    tmp_path: Path, osm_here: Path
) -> None:
    path = _write(tmp_path, "t.toml", """
name = "cd"
tiers = ["lockers", "villages", "townships", "hubs"]
[area]
osm = "chengdu.osm.xz"
""")
    (run,) = load_scenarios(path)
    assert tuple(plan_kwargs(run.scenario, out=tmp_path / "o")["tiers"]) == (
        "lockers", "villages", "townships", "hubs")
    bad = _write(tmp_path, "r.toml", 'name = "cd"\ntiers = ["lockers", "rural"]\n[area]\n'
                 'osm = "chengdu.osm.xz"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenarios(bad)
    assert "'rural' is now 'villages' and 'townships'" in str(err.value)


def test_a_city_scenario_carries_every_option_to_its_districts(tmp_path: Path,
                                                               puyang_osm: Path) -> None:
    """City mode plans each district with the scenario's tiers, inputs and parameters."""
    from siting.scenario import plan_options

    (tmp_path / "puyang.osm").symlink_to(puyang_osm)
    _write(tmp_path, "hubs.csv", "name,lon,lat,capacity\n庆祖分拨点,115.0187,35.5183,30000\n")
    path = _write(tmp_path, "city.toml", """
tiers = ["lockers", "villages", "townships", "hubs"]
[area]
osm = "puyang.osm"
[area.districts]
source = "osm"
admin_level = 8
[parameters]
radius_m = 450
county_hubs = 2
parcels_per_resident_per_year = 300
[rules]
preset = "guangdong"
overrides = { R2 = [1.0, 1.2] }
[inputs]
hub_sites = { path = "hubs.csv", datum = "wgs84" }
""")
    scenario = load_scenarios(path)[0].scenario
    options = plan_options(scenario)
    kw = plan_kwargs(scenario, out=None)
    assert list(options.tiers) == ["lockers", "villages", "townships", "hubs"]
    assert options.radius_m == 450 and options.rules == "guangdong"
    assert dict(options.rule_overrides or {}) == {"R2": (1.0, 1.2)}
    assert options.hub_params is not None and options.hub_params.county_hubs == 2
    assert options.demand_params is not None and options.demand_params == kw["demand_params"]
    assert options.demand_params.parcels_per_resident_per_year == 300
    assert options.hub_sites is not None and options.hub_sites["name"].tolist() == ["庆祖分拨点"]
