"""Which residential compounds are old (老旧小区), the ones rule G3 asks facilities for.

The plans ask lockers, mailboxes and end-stations in old compounds under renovation (seed 002
二(三)10, 003 专栏3, 004 四(三)). The renovation programme they refer to, 城镇老旧小区改造
(国务院办公厅《关于全面推进城镇老旧小区改造工作的指导意见》, 国办发〔2020〕23号, not among the
seed files), defines old compounds as those built early (建成年代较早) and focuses the renovation
on those completed by the end of 2000 (重点改造2000年底前建成的老旧小区); :data:`OLD_BEFORE_YEAR`
is that threshold.

A community is old, in this order of evidence:

1. the planner's communities table (:func:`geodata.user_inputs.read_communities`): its ``old``
   column (yes/no), else its ``built_year`` (old when before :data:`OLD_BEFORE_YEAR`);
2. OSM dates of its homes: the first four-digit year of ``start_date``, ``construction_date``
   or ``building:age`` (:data:`DATE_TAGS`; a value without a year, such as an age in years, is
   ignored); the community is old when more than half of the floor area of its dated homes was
   built before :data:`OLD_BEFORE_YEAR` (a stated assumption: "most of its homes", by floor
   area);
3. otherwise nothing says: its status is unknown (``None``), and rule G3 is not evaluated for
   it.
"""

from __future__ import annotations

import logging
import re

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.buildings import osm_ids

__all__ = ["DATE_TAGS", "OLD_BEFORE_YEAR", "building_years", "old_compounds"]

log = logging.getLogger(__name__)

#: Compounds built before this year are old: 国办发〔2020〕23号 focuses on those completed by
#: the end of 2000.
OLD_BEFORE_YEAR = 2001

#: OSM tags that can date a building, in order of preference.
DATE_TAGS = ("start_date", "construction_date", "building:age")

_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")


def building_years(features: gpd.GeoDataFrame) -> pd.Series:
    """Return the year each dated OSM building was built.

    Parameters
    ----------
    features
        From :func:`geodata.buildings.read_siting_features` (osmnx layout, all tags kept).

    Returns
    -------
    pandas.Series
        Year (float) indexed by ``osm_id`` (``"way/123"``), for the buildings whose
        :data:`DATE_TAGS` hold a four-digit year; empty when none does.
    """
    if "building" not in features.columns:
        return pd.Series(dtype=float)
    homes = features.loc[features["building"].notna()]
    year = pd.Series(np.nan, index=homes.index)
    for tag in DATE_TAGS:
        if tag in homes.columns:
            found = homes[tag].astype("string").str.extract(_YEAR, expand=False)
            year = year.fillna(pd.to_numeric(found, errors="coerce").astype(float))
    year.index = pd.Index(osm_ids(homes.index))
    return year.dropna()


def old_compounds(
    communities: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    years: pd.Series | None = None,
    before: int = OLD_BEFORE_YEAR,
) -> pd.DataFrame:
    """Say which communities are old, and on what evidence.

    Parameters
    ----------
    communities
        ``community``; a planner's table adds ``old`` and ``built_year``.
    demand
        Demand points (``community``, ``osm_id``, ``floor_area_m2``).
    years
        From :func:`building_years`; ``None`` or empty when the extract dates no building.
    before
        Old when built before this year (default :data:`OLD_BEFORE_YEAR`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``community``: ``old`` (True, False or None when nothing says), ``evidence``
        and ``evidence_zh`` (what decided it; ``""`` when nothing did).
    """
    out = pd.DataFrame({"old": None, "evidence": "", "evidence_zh": ""},
                       index=pd.Index(communities["community"].astype(str), name="community"))
    out["old"] = out["old"].astype(object)
    dated = _dated_shares(demand, years, before)
    flags = communities["old"] if "old" in communities.columns else [None] * len(out)
    built = (communities["built_year"] if "built_year" in communities.columns
             else [np.nan] * len(out))
    for k, flag, year in zip(out.index, flags, built, strict=True):
        if flag is True or flag is False:
            out.loc[k] = [flag, f"planner's table: old={'yes' if flag else 'no'}",
                          f"规划方提供的社区表：{'是' if flag else '否'}老旧小区"]
        elif year is not None and np.isfinite(year):
            out.loc[k] = [bool(year < before), f"planner's table: built {year:.0f}",
                          f"规划方提供的社区表：建成于 {year:.0f} 年"]
        elif k in dated.index:
            share, area = dated.at[k, "share"], dated.at[k, "area"]
            out.loc[k] = [bool(share > 0.5), f"OSM dates: {share:.0%} of {area:,.0f} m2 dated "
                          f"floor area built before {before}",
                          f"OSM 建成年代：已标注年代的 {area:,.0f} 平方米建筑面积中 {share:.0%} "
                          f"建于 {before} 年前"]
    known = out["old"].dropna().astype(bool)
    log.info("old compounds: %d old, %d not old, %d unknown (before %d)", int(known.sum()),
             int((~known).sum()), len(out) - len(known), before)
    return out


def _dated_shares(demand: pd.DataFrame, years: pd.Series | None, before: int) -> pd.DataFrame:
    """Per community: floor area of dated homes (``area``) and its share built before ``before``."""
    if years is None or years.empty:
        return pd.DataFrame(columns=["area", "share"], dtype=float)
    year = demand["osm_id"].astype(str).map(years)
    dated = demand.loc[year.notna()].assign(early=(year[year.notna()] < before).to_numpy())
    area = dated.groupby("community")["floor_area_m2"].sum()
    early = dated[dated["early"]].groupby("community")["floor_area_m2"].sum()
    table = pd.DataFrame({"area": area, "share": early.reindex(area.index, fill_value=0.0) / area})
    return table[table["area"] > 0]
