"""A planner's own community table and locker inventory, through the whole pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from geodata.user_inputs import read_communities, read_inventory
from siting.pipeline import plan


def test_planner_tables_drive_demand_and_keep_existing_lockers(chengdu_osm, tmp_path):
    communities = tmp_path / "communities.csv"
    communities.write_text(
        "name,lon,lat,households\n"
        "文翁小区,104.0600,30.6600,800\n"
        "商业街小区,104.0660,30.6640,1200\n"
        "<script>alert(1)</script>,104.0620,30.6580,500\n",
        encoding="utf-8",
    )
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "kind,name,lon,lat,compartments\nlocker,丰巢 A,104.0661,30.6641,120\n", encoding="utf-8"
    )
    result = plan(
        chengdu_osm,
        out=tmp_path / "out",
        communities=read_communities(communities, datum="wgs84"),
        inventory=read_inventory(inventory, datum="wgs84"),
    )
    summary = result.summary
    assert summary["demand_source"] == "the planner's community table"
    # residents = households x 2.62 (2020 census household size), all of it, in three points
    assert summary["counts"]["residents"] == pytest.approx(2500 * 2.62, rel=1e-6)
    lockers = result.layers["lockers"]
    existing = lockers[lockers["existing"]]
    assert len(existing) == 1 and existing["compartments"].iloc[0] == 120
    assert existing["daily_parcels_served"].iloc[0] <= 120 + 1e-6
    assert summary["status"] == "optimal"
    html = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert np.isclose(result.layers["demand"]["residents"].sum(), summary["counts"]["residents"])
