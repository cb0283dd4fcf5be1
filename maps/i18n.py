"""Labels of the plan map in Chinese and English.

Every piece of text the map draws itself (layer names, legend entries, popup field names) comes
from :data:`LABELS`, so a map is wholly in one language. Text from OpenStreetMap or a user file
(names, ids, reasons) is never translated, only escaped.
"""

from __future__ import annotations

from typing import Literal

from geodata.errors import ParameterError
from optimizer.compliance import RuleState

__all__ = ["LABELS", "Lang", "LANGS", "label", "check_lang", "rule_state_label"]

Lang = Literal["zh", "en"]

#: The languages a map can be drawn in.
LANGS: tuple[str, ...] = ("zh", "en")

#: key -> (Chinese, English)
LABELS: dict[str, tuple[str, str]] = {
    # layers
    "layer.boundary": ("研究区边界", "Study area"),
    "layer.communities": ("社区", "Communities"),
    "layer.demand": ("需求点（楼栋）", "Demand points (buildings)"),
    "layer.candidates": ("候选站点", "Candidate sites"),
    "layer.lockers": ("智能快件箱", "Parcel lockers"),
    "layer.assignments": ("服务分配", "Assignments"),
    "layer.uncovered": ("未覆盖需求", "Uncovered demand"),
    "layer.basemap": ("OpenStreetMap 底图", "OpenStreetMap basemap"),
    "layer.catchments": ("步行服务范围", "Walking catchments"),
    "layer.heat": ("未覆盖件量热力（六边形）", "Uncovered parcels (hexagons)"),
    "layer.stations": ("社区末端综合服务站", "Community end-stations"),
    "layer.cargo_stations": ("街坊快递货物集散站", "Neighbourhood cargo stations"),
    "layer.village_stations": ("村级寄递物流综合服务站", "Village stations"),
    "layer.township_stations": ("乡镇快递综合服务站", "Township stations"),
    "layer.hubs": ("县级分拨中心", "Sorting hubs"),
    "layer.hub_links": ("站点—分拨中心连线", "Station to hub links"),
    # basemaps
    "basemap.osm": ("OpenStreetMap 底图", "OpenStreetMap basemap"),
    "basemap.gaode": ("高德地图底图（GCJ-02）", "Gaode basemap (GCJ-02)"),
    "basemap.tianditu": ("天地图底图", "Tianditu basemap"),
    "basemap.labels": ("天地图注记", "Tianditu labels"),
    "basemap.offline": ("离线底图（OSM 数据）", "Offline basemap (OSM extract)"),
    "note.gcj02": (
        "高德底图：图层已由 WGS84 转换为 GCJ-02 显示",
        "Gaode basemap: layers shifted from WGS84 to GCJ-02 for display",
    ),
    # widgets
    "widget.measure": ("测距", "Measure"),
    "widget.measure_hint": (
        "点击开始测距，在地图上逐点单击；再次点击结束并清除",
        "Click to start, then click points on the map; click again to clear",
    ),
    "widget.distance": ("距离", "Distance"),
    "widget.fullscreen": ("全屏", "Full screen"),
    "widget.fullscreen_exit": ("退出全屏", "Exit full screen"),
    "widget.search": ("搜索站点编号或名称", "Search site id or name"),
    "widget.no_match": ("无匹配结果", "No match"),
    # legend
    "legend.title": ("图例", "Legend"),
    "legend.locker_new": ("新建快件箱（大小 = 格口数）", "New locker (size = compartments)"),
    "legend.locker_existing": ("现有快件箱", "Existing locker"),
    "legend.communities": ("社区配色", "Community colours"),
    "legend.more": ("另有 {n} 个社区", "{n} more communities"),
    "legend.summary": ("方案概况", "Plan summary"),
    "legend.rules": ("规划规则", "Plan rules"),
    "legend.ratio": ("社区格口/日件量", "Community compartments per daily parcel"),
    "legend.ratio_below": ("低于 {low}", "below {low}"),
    "legend.ratio_within": ("{low}–{high}（达标）", "{low}–{high} (meets rule)"),
    "legend.ratio_above": ("高于 {high}", "above {high}"),
    "legend.ratio_none": ("无快件箱服务", "no locker serves it"),
    "legend.heat": ("未覆盖日件量 / 六边形", "Uncovered daily parcels per hexagon"),
    "legend.heat_class": ("≤ {limit}", "≤ {limit}"),
    "legend.catchment": ("步行服务范围", "Walking catchment"),
    "legend.station": ("社区末端综合服务站（≥15 m²）", "Community end-station (≥ 15 m²)"),
    "legend.cargo_station": ("街坊快递货物集散站", "Neighbourhood cargo station"),
    "legend.village_station": ("村级服务站", "Village station"),
    "legend.township_station": ("乡镇综合服务站", "Township station"),
    "legend.hub": ("分拨中心", "Sorting hub"),
    "legend.hub_auto": (
        "分拨中心（达 R6 阈值，全自动分拣）",
        "Sorting hub at the R6 threshold (automatic sorting)",
    ),
    "legend.hub_link": ("站点—分拨中心", "Station to hub"),
    "summary.lockers": ("快件箱", "Lockers"),
    "summary.compartments": ("格口", "Compartments"),
    "summary.demand": ("需求点", "Demand points"),
    "summary.covered": ("覆盖率（按日件量）", "Covered (by daily parcels)"),
    "summary.uncovered": ("未覆盖需求点", "Uncovered points"),
    # popup fields
    "field.site_id": ("站点编号", "Site id"),
    "field.name": ("名称", "Name"),
    "field.modules": ("组数", "Modules"),
    "field.compartments": ("格口数", "Compartments"),
    "field.daily_parcels_served": ("日服务件量", "Daily parcels served"),
    "field.status": ("状态", "Status"),
    "field.demand_id": ("需求点编号", "Demand id"),
    "field.community": ("社区", "Community"),
    "field.id": ("编号", "Id"),
    "field.community_name": ("社区", "Community"),
    "field.residents": ("居民数", "Residents"),
    "field.daily_parcels": ("日均件量", "Daily parcels"),
    "field.locker_id": ("服务快件箱", "Locker"),
    "field.walk_m": ("步行距离（米）", "Walk (m)"),
    "field.drive_network_m": ("距车行路网（米）", "To the drive network (m)"),
    "field.source": ("来源", "Source"),
    "field.kind": ("类型", "Kind"),
    "field.existing": ("现有", "Existing"),
    "field.reason": ("原因", "Reason"),
    "field.ratio": ("格口/日件量", "Compartments per daily parcel"),
    "field.community_ratio": ("格口/社区全部日件量（R2）",
                              "Compartments per daily parcel, all homes (R2)"),
    "field.share": ("该住宅件量占比", "Share of the home's parcels"),
    "field.points": ("需求点数", "Demand points"),
    "field.heat_parcels": ("未覆盖日件量", "Uncovered daily parcels"),
    "field.radius_m": ("步行半径（米）", "Walk radius (m)"),
    "field.area_m2": ("面积（平方米）", "Area (m²)"),
    "field.floor_area_m2": ("使用面积（平方米）", "Floor area (m²)"),
    "field.required_m2": ("所需面积（平方米）", "Required area (m²)"),
    "field.planned_area_m2": ("规划使用面积（平方米）", "Planned usable area (m²)"),
    "field.available_area_m2": ("站点可用面积（平方米）", "Available area at the site (m²)"),
    "field.area_basis": ("可用面积依据", "Available area rests on"),
    "field.area_parameter": ("默认值参数", "Default set by"),
    "field.capped_by_area": ("面积限制件量", "Load capped by the area"),
    "field.area_source": ("可用面积来源", "Source of the available area"),
    "field.reused": ("利用现有网点", "Reuses an outlet"),
    "field.centre": ("街坊中心", "Neighbourhood centre"),
    "field.village": ("行政村", "Village"),
    "field.township": ("乡镇", "Township"),
    "field.placed_by": ("选址依据", "Placed by"),
    "field.stations": ("服务站点数", "Stations served"),
    "field.station": ("站点", "Station"),
    "field.hub_id": ("分拨中心", "Hub"),
    "field.drive_km": ("车程（公里）", "Drive (km)"),
    "field.automatic_sorting": ("全自动分拣", "Automatic sorting"),
    "field.county_centre": ("县级仓配中心", "County centre"),
    # report
    "report.title": ("智能快件箱布局方案报告", "Parcel locker plan report"),
    "report.attribution": (
        "底图数据 © OpenStreetMap contributors (ODbL)",
        "Map data © OpenStreetMap contributors (ODbL)",
    ),
    "report.kpis": ("关键指标", "Key figures"),
    "report.rules": ("规划规则符合性", "Compliance with the plan rules"),
    "report.rules_count": ("共 {n} 条检查：通过 {passed} 条，未通过 {failed} 条，"
                           "未评估 {unevaluated} 条，不适用 {not_applicable} 条",
                           "{n} checks: {passed} passed, {failed} failed, {unevaluated} not "
                           "evaluated, {not_applicable} not applicable"),
    "report.no_rules": ("摘要中没有规则检查结果", "The summary has no rule checks"),
    "report.communities": ("各社区格口与日件量", "Compartments and daily parcels by community"),
    "report.no_communities": ("没有社区图层", "No communities layer"),
    "report.input_rows": ("规划方表格各行的去向", "What became of each planner table row"),
    "report.input_rows_count": ("共 {n} 行，{dropped} 行未使用（原因见上表）",
                                "{n} rows, {dropped} not used (reasons above)"),
    "report.input_rows_tally": ("共 {n} 行：已用 {used} 行，未用 {dropped} 行",
                                "{n} rows: {used} used, {dropped} not used"),
    "report.input_row_line": ("{file} 第 {row} 行（{name}）未用：{reason}",
                              "{file} row {row} ({name}) not used: {reason}"),
    "report.input_rows_more": ("另有 {n} 行未用，见 HTML 报告",
                               "{n} more rows not used in the HTML report"),
    "report.input_file": ("文件", "file"),
    "report.input_row": ("行", "row"),
    "report.input_name": ("名称", "name"),
    "report.input_status": ("使用", "used"),
    "report.input_reason": ("说明", "what became of it"),
    "report.input_used": ("已用", "used"),
    "report.input_dropped": ("未用", "not used"),
    "report.ratio_class": ("格口/日件量评价", "Ratio check"),
    "report.map": ("方案示意图", "Plan map"),
    "report.chart_title": ("各社区格口数与日件量", "Compartments and daily parcels"),
    "report.chart": (
        "格口数与日件量（黑线：{low}–{high} 倍日件量）",
        "Compartments vs daily parcels (black: {low}–{high} × parcels)",
    ),
    "report.no_chart": ("无社区格口数据", "No per-community compartments"),
    "legend.more_rules": ("另有 {n} 条规则见 HTML 报告", "{n} more rules in the HTML report"),
    "kpi.status": ("求解状态", "Solver status"),
    "kpi.objective": ("目标函数值", "Objective"),
    "kpi.bound": ("最优下界", "Best bound"),
    "kpi.gap": ("最优间隙", "Gap"),
    "kpi.solve_s": ("求解时间（秒）", "Solve time (s)"),
    "kpi.counts": ("数量", "Count"),
    "kpi.coverage": ("覆盖", "Coverage"),
    "count.demand_points": ("需求点", "demand points"),
    "count.residents": ("居民", "residents"),
    "count.daily_parcels": ("日均件量", "daily parcels"),
    "count.communities": ("社区", "communities"),
    "count.candidates": ("候选站点", "candidate sites"),
    "count.candidates_after_reduction": ("约简后候选站点", "candidates after reduction"),
    "count.pairs_within_radius": ("半径内楼栋—站点对", "home–site pairs within radius"),
    "count.walk_network_nodes": ("步行路网节点", "walk network nodes"),
    "count.walk_network_edges": ("步行路网路段", "walk network edges"),
    "count.lockers": ("快件箱", "lockers"),
    "count.new_lockers": ("新建快件箱", "new lockers"),
    "count.existing_lockers": ("现有快件箱", "existing lockers"),
    "count.modules": ("箱体模组", "modules"),
    "count.compartments": ("格口", "compartments"),
    "count.covered": ("已覆盖需求点", "covered demand points"),
    "count.uncovered": ("未覆盖需求点", "uncovered demand points"),
    "count.parcel_share_covered": ("件量覆盖率", "share of parcels covered"),
    "report.r2_note": (
        "R2 按模型的口径判定：每个新建快件箱为某社区配设的格口不少于该箱承接该社区日均件量的 "
        "{low} 倍，该社区的格口合计不多于其全部日均件量的 {high} 倍；"
        "未划入社区的楼栋没有可依的社区投递量，按每个新建快件箱判定"
        "（格口为这些楼栋在该箱日均件量的 {low}–{high} 倍）。"
        "没有快件箱可承接的件量计入 G1 覆盖率，不计入 R2。",
        "R2 is judged as the model holds it: each new locker carries at least {low} "
        "compartment(s) per daily parcel it takes from a community, and the community's "
        "compartments in all are at most {high} per daily parcel of all its parcels; homes in "
        "no community have no community's deliveries to measure against and are judged per new "
        "locker ({low}–{high} compartments per daily parcel they send there). Parcels no locker "
        "takes count against G1's coverage, not R2.",
    ),
    "report.stations": ("末端综合服务站面积（R1）", "End-station floor areas (R1)"),
    "report.area_default": (
        "{n} 个站点的可用面积为默认假设值（参数 {parameter}），并非实测或规划方清单所给；"
        "其中 {capped} 个站点的件量受该面积限制。",
        "{n} station(s) stand on a stated default area (parameter {parameter}), neither "
        "measured nor from a planner's inventory; that figure caps the load of {capped} of them.",
    ),
    "basis.planner inventory": ("规划方清单", "planner inventory"),
    "basis.OSM measured": ("OSM 实测", "OSM measured"),
    "basis.default": ("默认假设值", "stated default"),
    "basis.unknown": ("未知", "unknown"),
    "report.unassigned": ("未划入社区的楼栋", "buildings outside any community"),
    "report.data_coverage": ("OSM 数据覆盖边界比例", "Boundary covered by the OSM data"),
    "report.boundary_km2": ("边界面积", "Boundary area"),
    "batch.title": ("方案比较", "Scenario comparison"),
    "batch.planned": ("{n} 个方案中 {ok} 个已规划；地图数据 © OpenStreetMap contributors，ODbL 1.0",
                      "{ok} of {n} scenarios planned; map data © OpenStreetMap contributors, "
                      "ODbL 1.0"),
    "batch.sites": ("快件箱（个）", "Lockers"),
    "batch.cost": ("费用（元）", "Cost (CNY)"),
    "batch.coverage": ("件量覆盖率（%）", "Parcels covered (%)"),
    "batch.param.radius_m": ("步行半径（米）", "Walking radius (m)"),
    "batch.param.budget": ("预算", "Budget"),
    "batch.param.growth_factor": ("件量增长系数", "Parcel growth factor"),
    "batch.param.time_limit": ("求解时限（秒）", "Solver time limit (s)"),
    "batch.tradeoff": ("快件箱、费用与覆盖率随{x}的变化", "Lockers, cost and coverage against {x}"),
    "batch.per_scenario": ("各方案的快件箱、费用与覆盖率",
                           "Lockers, cost and coverage per scenario"),
    "report.partial_data": (
        "警告：OSM 数据只覆盖边界面积的 {share}（{covered} / {whole} km²），方案只含有数据的部分",
        "Warning: the OSM data covers only {share} of the boundary ({covered} of {whole} km²); "
        "the plan covers only that part",
    ),
    "status.optimal": ("最优（已证明）", "optimal (proven)"),
    "status.time_limit": ("达到时限（未证明最优）", "time limit (not proven optimal)"),
    "status.work_limit": ("达到计算量上限（未证明最优）", "work limit (not proven optimal)"),
    "status.feasible": ("可行方案（未证明最优）", "feasible (not proven optimal)"),
    "status.infeasible": ("不可行", "infeasible"),
    "status.error": ("求解出错", "solver error"),
    "rule.id": ("编号", "Id"),
    "rule.clause": ("条款", "Clause"),
    "rule.required": ("要求", "Required"),
    "rule.achieved": ("实际", "Achieved"),
    "rule.passed": ("结论", "Result"),
    "rule.pass": ("通过", "pass"),
    "rule.fail": ("未通过", "fail"),
    "rule.not_evaluated": ("未评估", "not evaluated"),
    "rule.not_applicable": ("不适用", "not applicable"),
    # values
    "value.existing": ("现有", "existing"),
    "value.new": ("新建", "new"),
    "value.yes": ("是", "yes"),
    "value.no": ("否", "no"),
    "value.none": ("—", "—"),
    # attribution
    "attribution": (
        "© OpenStreetMap contributors (ODbL)",
        "© OpenStreetMap contributors (ODbL)",
    ),
}


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if the map can be drawn in it.

    Parameters
    ----------
    lang
        A language code.

    Returns
    -------
    Lang
        The same code, typed.

    Raises
    ------
    ParameterError
        If ``lang`` is not one of {"zh", "en"}.
    """
    if lang not in LANGS:
        raise ParameterError(
            f"lang={lang!r} is not a map language. Fix: pass one of {', '.join(LANGS)}"
        )
    return lang  # type: ignore[return-value]


def label(key: str, lang: str, **values: object) -> str:
    """Return the label ``key`` in ``lang``, with ``{name}`` fields filled from ``values``.

    Parameters
    ----------
    key
        A key of :data:`LABELS`.
    lang
        One of {"zh", "en"}.
    **values
        Values for the ``{name}`` fields of the label.

    Returns
    -------
    str
        The label (plain text, not HTML-escaped).

    Raises
    ------
    ParameterError
        If ``lang`` is unknown.
    KeyError
        If ``key`` is not a label (a programming error, not a user error).
    """
    text = LABELS[key][LANGS.index(check_lang(lang))]
    return text.format(**values) if values else text


#: The label of each rule state (:func:`optimizer.compliance.rule_state`).
_STATE_LABELS: dict[str, str] = {"passed": "rule.pass", "failed": "rule.fail",
                                 "not evaluated": "rule.not_evaluated",
                                 "not applicable": "rule.not_applicable"}


def rule_state_label(state: RuleState, lang: str) -> str:
    """Return the wording of a rule record's state in ``lang`` (通过, 未通过, 未评估, 不适用).

    Parameters
    ----------
    state
        A state of :data:`optimizer.compliance.RULE_STATES`.
    lang
        One of {"zh", "en"}.

    Returns
    -------
    str
        The label.
    """
    return label(_STATE_LABELS[state], lang)
