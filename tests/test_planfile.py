"""The bundled plan files parse, show the seeds' figures, and bad plan files are refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from oversight.planfile import (
    PlanFileError,
    PlanSpec,
    content_hash,
    parse_plan_file,
    parse_plan_text,
    plan_show_json,
    plan_show_text,
    shown_path,
)

ROOT = Path(__file__).resolve().parent.parent
BANNER = ROOT / "plans" / "urad-middle-banner.yaml"
REGION = ROOT / "plans" / "inner-mongolia-2022.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plans"

# Seed 000 二(一), zone by zone: (name, mining, exploration, deep, proposed).
SEED_ZONES = [
    ("常兴扎嘎乌苏铁矿整合区", 2, 1, 0, 0),
    ("新乌苏铁铜整合区", 1, 1, 0, 0),
    ("284地区金矿整合区", 1, 2, 0, 0),
    ("图古日格地区金矿整合一区", 1, 1, 0, 0),
    ("图古日格地区金矿整合二区", 2, 2, 0, 0),
    ("查干此老地区金矿整合区", 1, 0, 0, 1),
    ("张佳花岗岩整合区", 2, 0, 0, 0),
    ("索伦山菱镁矿整合区", 1, 1, 0, 0),
    ("乌兰西萤石整合区", 1, 1, 0, 0),
    ("乌兰矿区金矿整合区", 1, 1, 0, 0),
    ("乌兰赤老铁矿整合区", 2, 0, 1, 0),
    ("浩尧尔忽洞金矿整合区", 1, 1, 0, 0),
    ("此老图－翁根山地区铁矿整合区", 2, 3, 0, 0),
    ("铎宝花岗岩整合区", 2, 0, 0, 0),
    ("西河村矿区铁矿整合区", 1, 0, 0, 1),
    ("后石兰哈达铁矿整合区", 1, 1, 1, 0),
    ("双胜美地区金矿整合区", 1, 1, 0, 0),
    ("铸合石哈河矿区银金铅锌整合区", 2, 1, 0, 0),
    ("郜北矿区铁矿整合区", 2, 0, 0, 1),
]

# Seed 000 二, batch by batch: (key, name, target, responsible unit names).
SEED_BATCHES = [
    (
        "consolidate",
        "强化整合重组一批",
        46,
        [
            "旗自然资源局",
            "旗应急管理局（矿山安全监管局）",
            "旗林草局",
            "市生态环境局中旗分局",
            "旗文体局",
            "旗水利局",
            "旗发改委",
            "旗交通运输局",
            "旗财政局",
            "旗人武部",
            "旗市场监管局",
        ],
    ),
    ("close", "强化淘汰关闭一批", 7, ["旗自然资源局", "旗财政局", "旗市场监管局", "旗公安局"]),
    (
        "upgrade",
        "加强升级改造一批",
        11,
        [
            "旗应急管理局（矿山安全监管局）",
            "旗工信局",
            "旗自然资源局",
            "旗林草局",
            "市生态环境局中旗分局",
            "旗文体局",
            "旗水利局",
            "旗发改委",
            "旗交通运输局",
            "旗市场监管局",
        ],
    ),
    (
        "grant",
        "优选出让一批",
        39,
        ["旗发改委", "旗自然资源局", "旗林草局", "市生态环境局中旗分局", "旗文体局", "旗水利局", "旗交通运输局"],
    ),
    (
        "convert",
        "推进转采一批",
        23,
        [
            "旗自然资源局",
            "旗应急管理局（矿山安全监管局）",
            "旗工信局",
            "旗林草局",
            "市生态环境局中旗分局",
            "旗文体局",
            "旗水利局",
            "旗交通运输局",
        ],
    ),
    (
        "restart",
        "复工达产一批",
        28,
        [
            "旗应急管理局（矿山安全监管局）",
            "旗自然资源局",
            "旗林草局",
            "市生态环境局中旗分局",
            "旗文体局",
            "旗水利局",
            "旗发改委",
            "旗交通运输局",
            "旗财政局",
            "旗工信局",
            "旗市场监管局",
        ],
    ),
]

LEAGUES = [
    "呼和浩特市",
    "包头市",
    "乌海市",
    "赤峰市",
    "通辽市",
    "鄂尔多斯市",
    "呼伦贝尔市",
    "巴彦淖尔市",
    "乌兰察布市",
    "兴安盟",
    "锡林郭勒盟",
    "阿拉善盟",
]

# Seed 003 一, task by task: (key, target, breakdown counts, lead, cooperating) by short name.
SEED_TASKS = [
    ("coal_mines", 107, [22, 11, 20, 54], ["能源局"], ["自然资源厅", "林草局"]),
    ("coal_convert", 41, [20, 21], ["自然资源厅"], ["生态环境厅", "能源局", "林草局"]),
    ("coal_explore", 119, [], ["自然资源厅"], []),
    (
        "noncoal_mines",
        1276,
        [186, 161, 464, 465],
        ["发改委", "工信厅"],
        ["自然资源厅", "生态环境厅", "应急管理厅", "林草局"],
    ),
    ("noncoal_convert", 82, [82], ["自然资源厅"], ["发改委", "生态环境厅", "应急管理厅", "林草局"]),
    ("noncoal_explore", 1060, [], ["自然资源厅"], []),
]


@pytest.fixture(scope="module")
def banner() -> PlanSpec:
    return parse_plan_file(BANNER)


@pytest.fixture(scope="module")
def region() -> PlanSpec:
    return parse_plan_file(REGION)


def _mutated(path: Path, old: str, new: str) -> str:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


# ------------------------------------------------------------------ the banner plan (seed 000)


def test_banner_header_and_baseline(banner: PlanSpec) -> None:
    shown = plan_show_json(banner)
    assert shown["key"] == "urad-middle-banner"
    assert shown["doc_no"] == "乌中政办发〔2026〕4号"
    assert shown["issued_on"] == "2026-02-04"
    assert shown["baseline"] == {"mining": 69, "exploration": 49}
    assert shown["convener"]["name"] == "旗人民政府"
    assert shown["office"]["unit_name"] == "旗政府办公室"
    assert shown["office"]["notice_prefix"] == "乌中联办通"
    assert shown["office"]["brief_title_lines"] == ["乌拉特中旗非煤矿山资源整合、增储上产", "工作简报"]


def test_banner_targets(banner: PlanSpec) -> None:
    targets = {t["key"]: t["value"] for t in plan_show_json(banner)["targets"]}
    assert targets == {
        "reduce_mining": 15,
        "reduce_exploration": 19,
        "reduce_total": 34,
        "max_mines": 65,
        "min_large_medium_ratio": 0.75,
        "restart": 28,
        "green_mines": 3,
    }
    assert plan_show_json(banner)["totals"]["reduction"] == 34


def test_banner_batches_carry_the_seed_counts_and_responsible_units(banner: PlanSpec) -> None:
    batches = plan_show_json(banner)["batches"]
    assert [(b["key"], b["name"], b["target"]) for b in batches] == [(k, n, t) for k, n, t, _ in SEED_BATCHES]
    for batch, (_, _, _, units) in zip(batches, SEED_BATCHES, strict=True):
        assert batch["responsible"] == units, batch["name"]
        assert batch["units"] == units
        assert batch["implementer"] == "乌拉特中旗人民政府"
    consolidate = batches[0]
    assert (consolidate["zones_count"], consolidate["mining"], consolidate["exploration"]) == (19, 27, 19)


def test_banner_zones_exactly_as_the_seed_lists_them(banner: PlanSpec) -> None:
    zones = plan_show_json(banner)["zones"]
    got = [(z["name"], z["mining"], z["exploration"], z["deep"], z["proposed"]) for z in zones]
    assert got == SEED_ZONES
    assert [z["seq"] for z in zones] == list(range(1, 20))


def test_banner_zone_totals_reconcile_with_the_batch(banner: PlanSpec) -> None:
    totals = plan_show_json(banner)["totals"]
    assert totals["zones"] == 19
    assert totals["zone_mining"] == 27
    assert (totals["zone_exploration"], totals["zone_deep"]) == (17, 2)
    assert totals["zone_exploration_with_deep"] == 19
    assert totals["zone_proposed"] == 3  # 拟设探矿权: not counted among the 46
    assert totals["rights_in_zones"] == 46
    assert len(totals["zone_minerals"]) == 9  # 涉及铁、铜、银、铅、金等9个矿种


def test_banner_timelines_are_the_seeds(banner: PlanSpec) -> None:
    """Seed 000 三: 动员部署 to 2025-12; 组织实施 2026-01 – 2028-12 holds the six batches (三(二));
    升级改造 over 2025–2030 (二(三)); the totals of 一 in 十五五 (2026–2030), restated in 三(三)."""
    data = plan_show_json(banner)
    assert [(p["name"], p["start"], p["end"]) for p in data["phases"]] == [
        ("动员部署阶段", None, "2025-12-31"),
        ("组织实施阶段", "2026-01-01", "2028-12-31"),
        ("巩固提升阶段", "2029-01-01", "2030-12-31"),
    ]
    spans = {b["key"]: (b["start"], b["deadline"], b["milestones"]) for b in data["batches"]}
    implement = ("2026-01-01", "2028-12-31", [])
    assert spans == {
        "consolidate": implement,
        "close": implement,
        "upgrade": ("2025-01-01", "2030-12-31", []),
        "grant": implement,
        "convert": implement,
        "restart": implement,
    }
    assert {(t["start"], t["deadline"]) for t in data["targets"]} == {("2026-01-01", "2030-12-31")}
    assert len(data["targets"]) == 7
    assert "期限：2025年1月1日至2030年12月31日" in plan_show_text(banner)


def test_region_tasks_have_no_invented_deadline(region: PlanSpec) -> None:
    """Seed 003 asks for 盘活一批 by the end of 2022, not for the whole count: no task is due."""
    for batch in plan_show_json(region)["batches"]:
        assert batch["deadline"] is None and batch["milestones"] == []
    assert plan_show_text(region).count("期限：方案未载明") == 6


def test_milestones_are_checked_against_the_timeline() -> None:
    base = "    start: 2025-01-01  # 二(三) 利用五年时间（2025-2030）\n    deadline: 2030-12-31\n"
    assert base in BANNER.read_text(encoding="utf-8")
    good = _mutated(
        BANNER, base, base + "    milestones: [{by: 2026-12-31, share: 0.3}, {by: 2028-12-31, share: 0.6}]\n"
    )
    upgrade = parse_plan_text(good, key="x").task("upgrade")
    assert upgrade is not None and [m.share for m in upgrade.milestones] == [0.3, 0.6]
    cases = {
        "[{by: 2026-12-31, share: 0.5}, {by: 2027-12-31, share: 0.4}]": "tasks[upgrade].milestones[1].share",
        "[{by: 2024-06-30, share: 0.1}]": "tasks[upgrade].milestones[0].by",
        "[{by: 2031-06-30, share: 0.9}]": "tasks[upgrade].milestones[0].by",
        "[{by: 2030-12-31, share: 0.9}]": "tasks[upgrade].milestones[0].share",
    }
    for marks, field in cases.items():
        with pytest.raises(PlanFileError) as caught:
            parse_plan_text(_mutated(BANNER, base, base + f"    milestones: {marks}\n"), key="x")
        assert caught.value.field == field, marks


def test_banner_units_duties_and_meeting(banner: PlanSpec) -> None:
    names = {u.name for u in banner.units}
    assert {
        "旗自然资源局",
        "旗应急管理局（矿山安全监管局）",
        "旗林草局",
        "市生态环境局中旗分局",
        "旗文体局",
        "旗水利局",
        "旗发改委",
        "旗工信局",
        "旗交通运输局",
        "旗财政局",
        "旗人武部",
        "旗市场监管局",
        "旗公安局",
        "旗信访局",
        "属地苏木镇政府",
        "旗政府办公室",
        "旗人民政府",
    } == names
    assert all(u.duties for u in banner.units)
    shown = plan_show_json(banner)
    assert shown["meeting"]["frequency"] == "quarterly"
    assert len(shown["meeting"]["members"]) == 10
    assert "旗公安局" not in shown["meeting"]["members"]
    owners = {c["name"]: c["owner_name"] for c in shown["categories"]}
    assert owners["林草征占用"] == "旗林草局"
    assert owners["环评"] == "市生态环境局中旗分局"
    assert owners["安全生产许可证"] == "旗应急管理局（矿山安全监管局）"
    assert owners["取水许可、水土保持"] == "旗水利局"
    assert owners["营业执照、股权变更"] == "旗市场监管局"
    assert owners["火工用品、社会稳定"] == "旗公安局"
    assert owners["信访"] == "旗信访局"
    assert owners["征地矛盾"] == "属地苏木镇政府"
    for name in (
        "立项",
        "用地",
        "复工复产批复",
        "矿业权整合手续",
        "采矿权",
        "涉法涉诉",
        "股东意见不统一",
        "未按承诺评估缴纳价款",
        "破产",
        "资金紧张",
        "违法",
        "治理整改不到位",
        "市场原因",
        "基建技改",
    ):
        assert name in owners, name
    assert sum(banner.review_weights.values()) == 100


# Each category the plan file marks duty_from_plan, and the words of seed 000 四 that give its work to
# its owner (the owner's duties in the plan file are 四's sentences). Every other category's owner is
# the plan file's own addition: 用地, 复工复产批复, the enterprise and market reasons, 基建技改, 其他.
SEED_FOUR_DUTIES = {
    "safety_licence": "安全生产许可证申领、变更及延续",
    "safety_facilities": "安全设施设计审查、整合后安全设施竣工验收",
    "project_approval": "整合项目立项",
    "techupgrade_approval": "技改项目立项",
    "eia": "环境影响评价审批手续",
    "forest_grass": "征占用草原、林地的审批",
    "consolidation_paperwork": "矿业权变更、整合、关闭注销等手续办理",
    "mining_licence": "矿业权变更、整合、关闭注销等手续办理",
    "reserve_review": "储量核实报告、开发利用方案、矿山生态修复方案评审",
    "water_permit": "取水许可、水土保持方案审批",
    "heritage_review": "历史文物和名胜古迹审核",
    "transport_review": "公路、铁路、机场等审核",
    "military_review": "军事管控区、国防工程设施审核",
    "business_licence": "营业执照、股权变更等手续办理",
    "exit_compensation": "退出补偿政策",
    "explosives": "停止供应火工用品，并维护社会稳定",
    "petition": "信访转办",
    "land_dispute": "征地涉及的社会矛盾",
}


def test_only_the_categories_seed_four_assigns_claim_a_duty(banner: PlanSpec) -> None:
    """按职责分工 rests on seed 000 四: the categories marked duty_from_plan are those whose owner's
    duties (四's sentences) name their work, and no other (用地 is 自然资源局's only by this file)."""
    marked = {c.key for c in banner.categories if c.duty_from_plan}
    assert marked == set(SEED_FOUR_DUTIES), marked ^ set(SEED_FOUR_DUTIES)
    for cat in banner.categories:
        if cat.duty_from_plan:
            owner = banner.unit(cat.owner)
            assert owner is not None and any(SEED_FOUR_DUTIES[cat.key] in d for d in owner.duties), cat.key
    assert not next(c for c in banner.categories if c.key == "land_use").duty_from_plan


def test_a_plan_file_without_duty_marks_loads_and_claims_no_duty() -> None:
    """An older plan file, with no duty_from_plan, still loads; none of its categories claims a duty.
    One marking a category whose owner lists no duties is refused, naming the field."""
    old = BANNER.read_text(encoding="utf-8").replace(" duty_from_plan: true,", "")
    assert " duty_from_plan: true," not in old
    assert not any(c.duty_from_plan for c in parse_plan_text(old, key="x").categories)
    data = yaml.safe_load(BANNER.read_text(encoding="utf-8"))
    next(u for u in data["units"] if u["key"] == "police")["duties"] = []
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(yaml.safe_dump(data, allow_unicode=True), key="x")
    assert caught.value.field == "categories[explosives].duty_from_plan"
    assert "旗公安局" in caught.value.message


def test_the_townships_are_one_unit_named_without_ge_and_known_by_the_seeds_name(banner: PlanSpec) -> None:
    """Seed 000 四 writes 属地各苏木镇政府负责协调…征地…; the plan has one member unit for them,
    named as it acts in a document, 属地苏木镇政府 (no 各: no record shows every township did a
    thing), and the seed's name as an alias. A plan file from before aliases loads with none; a
    name, short name or alias two units share is refused, naming the unit."""
    township = banner.unit("township")
    assert township is not None
    assert (township.name, township.short, township.aliases) == ("属地苏木镇政府", "属地苏木镇", ["属地各苏木镇政府"])
    assert not any("各" in u.name or "各" in u.short for u in banner.units)
    old = BANNER.read_text(encoding="utf-8").replace("    aliases: [属地各苏木镇政府]\n", "")
    assert "aliases" not in old
    assert all(u.aliases == [] for u in parse_plan_text(old, key="x").units)
    data = yaml.safe_load(BANNER.read_text(encoding="utf-8"))
    next(u for u in data["units"] if u["key"] == "petition")["aliases"] = ["属地苏木镇"]
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(yaml.safe_dump(data, allow_unicode=True), key="x")
    assert caught.value.field.startswith("units[") and "属地苏木镇" in caught.value.message
    assert "township" in caught.value.message and "petition" in caught.value.message


def test_banner_text_rendering_states_the_figures(banner: PlanSpec) -> None:
    text = plan_show_text(banner)
    assert "乌中政办发〔2026〕4号" in text
    assert "强化整合重组一批：46宗（19个整合区，采矿权27宗、探矿权19宗）" in text
    assert "消减矿业权：34个" in text
    assert "75%" in text
    assert "16. 后石兰哈达铁矿整合区（铁）：采矿权1，探矿权1，深部探矿权1" in text


# ------------------------------------------------------------------ the region plan (seed 003)


def test_region_baseline(region: PlanSpec) -> None:
    assert plan_show_json(region)["baseline"] == {
        "idle_mines": 1383,
        "idle_coal": 107,
        "idle_noncoal": 1276,
        "excluded_cannot_resume": 166,
        "unconverted_exploration": 1302,
        "unconverted_coal": 160,
        "unconverted_noncoal": 1142,
    }


def test_region_tasks_counts_breakdowns_lead_and_cooperating(region: PlanSpec) -> None:
    short = {u.key: u.short for u in region.units}
    assert len(region.tasks) == 6
    for task, (key, target, counts, lead, cooperating) in zip(region.tasks, SEED_TASKS, strict=True):
        assert task.key == key
        assert task.target == target
        assert [b.count for b in task.breakdown] == counts
        assert [short[k] for k in task.lead] == lead, key
        assert [short[k] for k in task.cooperating] == cooperating, key
        assert [short[k] for k in task.responsible] == LEAGUES, key


def test_region_totals_and_leagues(region: PlanSpec) -> None:
    shown = plan_show_json(region)
    assert shown["totals"]["by_subject"] == {"mines": 1383, "exploration": 1302}
    assert [region.unit(k).short for k in region.leagues] == LEAGUES
    assert shown["convener"]["name"] == "自治区自然资源厅"
    assert shown["office"]["unit_name"] == "自治区自然资源厅"
    assert [c["name"] for c in shown["meeting"]["conveners"]] == ["赵大勇", "田野"]
    members = {region.unit(k).short for k in region.meeting.members}
    assert members == {"发改委", "工信厅", "生态环境厅", "自然资源厅", "应急管理厅", "能源局", "林草局"}
    assert [p.end.isoformat() for p in region.phases] == ["2022-09-20", "2022-12-31"]
    safety = next(c for c in region.categories if c.key == "safety_licence")
    assert (safety.owner, safety.owner_by_sector) == ("emergency", {"coal": "energy"})


def test_region_text_rendering(region: PlanSpec) -> None:
    text = plan_show_text(region)
    assert "加快推进已取得采矿许可证非煤矿山相关手续办理：1276个" in text
    assert "牵头部门：自治区发展和改革委、自治区工业和信息化厅" in text
    assert "阿拉善盟行政公署" in text


# ------------------------------------------------------------------ bad plan files


def test_zone_count_changed_is_refused_naming_the_zone_field() -> None:
    with pytest.raises(PlanFileError) as caught:
        parse_plan_file(FIXTURES / "bad-zone-mining.yaml")
    err = caught.value
    assert re.fullmatch(r"zones\[.+\]\.mining", err.field)
    assert "28" in err.message and "27" in err.message
    assert "强化整合重组一批" in err.message
    assert str(err).startswith(f"字段 {shown_path(err.field)}：") and re.match(
        r"字段 zones (第\d+项|各项)的 mining：", str(err)
    )


def test_deep_right_dropped_is_refused_on_exploration() -> None:
    text = _mutated(BANNER, "mining: 2, exploration: 0, deep: 1}", "mining: 2, exploration: 0, deep: 0}")
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, key="x")
    assert caught.value.field == "zones[*].exploration"
    assert "18" in caught.value.message


@settings(max_examples=30, deadline=None)
@given(index=st.integers(min_value=0, max_value=18), delta=st.sampled_from([-1, 1, 2]))
def test_any_single_zone_change_is_refused(index: int, delta: int) -> None:
    data = yaml.safe_load(BANNER.read_text(encoding="utf-8"))
    zone = data["zones"][index]
    if zone["mining"] + delta < 0:
        delta = 1
    zone["mining"] += delta
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(yaml.safe_dump(data, allow_unicode=True), key="x")
    assert caught.value.field == "zones[*].mining"
    assert f"{27 + delta}宗" in caught.value.message


def test_bad_type_in_a_zone_names_that_zone() -> None:
    text = _mutated(
        BANNER,
        "{seq: 4, name: 图古日格地区金矿整合一区, minerals: [金], mining: 1,",
        "{seq: 4, name: 图古日格地区金矿整合一区, minerals: [金], mining: 一,",
    )
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, key="x")
    assert caught.value.field == "zones[3].mining"
    assert "整数" in caught.value.message


def test_malformed_yaml_reports_line_and_column() -> None:
    with pytest.raises(PlanFileError) as caught:
        parse_plan_file(FIXTURES / "malformed.yaml")
    assert caught.value.field == "<yaml>"
    assert re.search(r"第\d+行第\d+列", caught.value.message)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError) as caught:
        parse_plan_file(tmp_path / "nope.yaml")
    assert caught.value.field == "<file>"
    assert "找不到" in caught.value.message


def test_unknown_unit_key_is_refused() -> None:
    with pytest.raises(PlanFileError) as caught:
        parse_plan_file(FIXTURES / "unknown-unit.yaml")
    assert caught.value.field == "tasks[close].responsible[3]"
    assert "public_security" in caught.value.message


def test_breakdown_not_adding_up_is_refused() -> None:
    with pytest.raises(PlanFileError) as caught:
        parse_plan_file(FIXTURES / "bad-breakdown.yaml")
    assert caught.value.field == "tasks[coal_mines].breakdown"
    assert "108" in caught.value.message and "107" in caught.value.message


def test_region_task_totals_must_match_the_baseline() -> None:
    text = _mutated(REGION, "target: 119", "target: 120")
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, key="x")
    assert caught.value.field == "tasks[coal_explore].target"
    assert "160" in caught.value.message


def test_region_baseline_must_add_up() -> None:
    text = _mutated(REGION, "  unconverted_exploration: 1302", "  unconverted_exploration: 1300")
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, key="x")
    assert caught.value.field == "baseline.unconverted_exploration"


def test_reduction_targets_must_add_up() -> None:
    text = _mutated(BANNER, "value: 34, unit: 个, kind: reduce", "value: 35, unit: 个, kind: reduce")
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, key="x")
    assert caught.value.field == "targets[reduce_total].value"


def test_max_mines_must_be_reachable() -> None:
    text = _mutated(BANNER, "value: 65, unit: 个, kind: max", "value: 50, unit: 个, kind: max")
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, key="x")
    assert caught.value.field == "targets[max_mines].value"
    assert "54" in caught.value.message


def test_overlapping_phases_are_refused() -> None:
    text = _mutated(BANNER, "start: 2029-01-01", "start: 2028-06-01")
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, key="x")
    assert caught.value.field == "phases[consolidate_gains].start"


def test_duplicate_unit_key_is_refused() -> None:
    text = _mutated(BANNER, "  - key: police\n", "  - key: petition\n")
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, key="x")
    assert caught.value.field.startswith("units[")
    assert "petition" in caught.value.message


def test_category_owner_must_exist() -> None:
    text = _mutated(BANNER, "owner: township,", "owner: gacha,")
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, key="x")
    assert caught.value.field == "categories[land_dispute].owner"


def test_unknown_field_is_refused() -> None:
    text = _mutated(
        BANNER,
        "short_name: 乌拉特中旗非煤矿山资源整合、增储上产\n",
        "short_name: 乌拉特中旗非煤矿山资源整合、增储上产\nshortname: 错字\n",
    )
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, key="x")
    assert caught.value.field == "shortname"


# ------------------------------------------------------------------ key, hash, round trip


def test_key_defaults_to_the_file_stem(tmp_path: Path) -> None:
    text = BANNER.read_text(encoding="utf-8").replace("key: urad-middle-banner\n", "", 1)
    path = tmp_path / "my-banner.yaml"
    path.write_text(text, encoding="utf-8")
    assert parse_plan_file(path).key == "my-banner"
    assert parse_plan_text(text, key="other").key == "other"


def test_content_hash_is_stable_and_sensitive(banner: PlanSpec) -> None:
    again = parse_plan_file(BANNER)
    assert content_hash(again) == content_hash(banner)
    assert re.fullmatch(r"[0-9a-f]{64}", content_hash(banner))
    changed = parse_plan_text(
        _mutated(
            BANNER,
            "limit_days: 10, group: other}\n  - {key: land_dispute",
            "limit_days: 11, group: other}\n  - {key: land_dispute",
        ),
        key="urad-middle-banner",
    )
    assert content_hash(changed) != content_hash(banner)


def test_spec_round_trips_through_json(banner: PlanSpec, region: PlanSpec) -> None:
    for spec in (banner, region):
        again = PlanSpec.model_validate(spec.model_dump(mode="json"))
        assert content_hash(again) == content_hash(spec)


def test_the_cuts_equal_the_closures_and_consolidation() -> None:
    """Seed 000: −15 mining rights = 7 closed (二(二)) + 8 absorbed (27 mining rights in 19 zones,
    二(一)); −19 exploration rights = the 19 in the zones. A file that breaks either is refused."""
    spec = parse_plan_file(BANNER)
    close, cons = spec.task("close"), spec.task("consolidate")
    assert close is not None and cons is not None and cons.mining is not None
    assert close.target + cons.mining - len(spec.zones) == 15
    text = _mutated(
        BANNER, "{key: reduce_mining, name: 减少采矿权, value: 15,", "{key: reduce_mining, name: 减少采矿权, value: 14,"
    )
    text = text.replace("value: 34, unit: 个", "value: 33, unit: 个")
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, key="x")
    assert caught.value.field == "targets[reduce_mining].value"
    assert "淘汰关闭7宗 + 整合减少8宗（27宗采矿权整合为19个整合区）= 15宗" in caught.value.message
    text = _mutated(
        BANNER,
        "{key: reduce_exploration, name: 减少探矿权, value: 19,",
        "{key: reduce_exploration, name: 减少探矿权, value: 18,",
    )
    text = text.replace("value: 34, unit: 个", "value: 33, unit: 个")
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, key="x")
    assert caught.value.field == "targets[reduce_exploration].value" and "19" in caught.value.message
