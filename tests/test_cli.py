"""The command line as a new user meets it: plan load/show, units, invites, members."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lianxi.cli import app
from tests.conftest import BANNER_PLAN, REGION_PLAN, table_counts

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures" / "plans"


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def cli(settings_env, engine):
    return engine


def test_banner_plan_load_then_show_json_has_every_seed_figure(cli):
    result = run("plan", "load", str(BANNER_PLAN))
    assert result.exit_code == 0, result.output
    assert "已加载计划" in result.output
    shown = run("plan", "show", "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["baseline"] == {"mining": 69, "exploration": 49}
    batches = {b["key"]: b for b in data["batches"]}
    assert [b["target"] for b in data["batches"]] == [46, 7, 11, 39, 23, 28]
    assert batches["consolidate"]["zones_count"] == 19
    assert "旗林草局" in batches["consolidate"]["units"] and "旗公安局" in batches["close"]["units"]
    targets = {t["key"]: t["value"] for t in data["targets"]}
    assert targets["reduce_mining"] + targets["reduce_exploration"] == targets["reduce_total"] == 34
    assert targets["max_mines"] == 65 and targets["min_large_medium_ratio"] == 0.75 and targets["green_mines"] == 3
    assert len(data["zones"]) == 19
    zones = {z["seq"]: z for z in data["zones"]}
    assert (zones[11]["mining"], zones[11]["deep"]) == (2, 1)
    assert (zones[13]["mining"], zones[13]["exploration"]) == (2, 3)
    assert (zones[16]["mining"], zones[16]["deep"], zones[16]["exploration"]) == (1, 1, 1)
    assert [zones[s]["proposed"] for s in (6, 15, 19)] == [1, 1, 1]
    assert data["totals"]["zone_mining"] == 27 and data["totals"]["zone_exploration_with_deep"] == 19


def test_region_plan_show_by_key(cli):
    assert run("plan", "load", str(BANNER_PLAN)).exit_code == 0
    assert run("plan", "load", str(REGION_PLAN)).exit_code == 0
    data = json.loads(run("plan", "show", "--plan", "inner-mongolia-2022", "--json").stdout)
    tasks = {b["key"]: b for b in data["batches"]}
    assert tasks["coal_mines"]["target"] == 107
    assert [b["count"] for b in tasks["coal_mines"]["breakdown"]] == [22, 11, 20, 54]
    assert [b["count"] for b in tasks["noncoal_mines"]["breakdown"]] == [186, 161, 464, 465]
    assert len(data["leagues"]) == 12
    text = run("plan", "show", "--plan", "inner-mongolia-2022").stdout
    assert "1276" in text or "1,276" in text
    # Without --plan, the plan loaded last is shown.
    assert json.loads(run("plan", "show", "--json").stdout)["key"] == "inner-mongolia-2022"


def test_loading_a_plan_twice_changes_nothing(cli):
    assert run("plan", "load", str(BANNER_PLAN)).exit_code == 0
    before = table_counts(cli)
    again = run("plan", "load", str(BANNER_PLAN))
    assert again.exit_code == 0 and "未做更改" in again.output
    assert table_counts(cli) == before


@pytest.mark.parametrize(
    ("fixture", "field"),
    [
        ("bad-zone-mining.yaml", "zones"),
        ("malformed.yaml", "<yaml>"),
        ("unknown-unit.yaml", "units"),
        ("bad-breakdown.yaml", "breakdown"),
    ],
)
def test_bad_plan_files_are_refused_with_exit_2_and_nothing_changed(cli, tmp_path, fixture, field):
    assert run("plan", "load", str(BANNER_PLAN)).exit_code == 0
    before = table_counts(cli)
    path = tmp_path / fixture
    shutil.copy(FIXTURES / fixture, path)
    result = run("plan", "load", str(path))
    assert result.exit_code == 2
    # A field's problem names the field; a file YAML cannot read says so, with no <yaml> marker.
    if field == "<yaml>":
        assert "未通过校验" in result.output and "计划文件格式有误" in result.output
    else:
        assert "未通过校验" in result.output and "字段 " in result.output and field in result.output
    assert "<" not in result.output
    assert table_counts(cli) == before


def test_one_zone_count_changed_names_the_field(cli, tmp_path):
    text = BANNER_PLAN.read_text(encoding="utf-8")
    assert "name: 张佳花岗岩整合区" in text
    head, tail = text.split("name: 张佳花岗岩整合区", 1)
    tail = tail.replace("mining: 2", "mining: 3", 1)
    bad = tmp_path / "urad-middle-banner.yaml"
    bad.write_text(head + "name: 张佳花岗岩整合区" + tail, encoding="utf-8")
    result = run("plan", "load", str(bad))
    assert result.exit_code == 2
    assert "zones" in result.output and "27" in result.output
    assert run("plan", "show").exit_code != 0  # nothing was loaded


def test_missing_file_and_no_plan(cli, tmp_path):
    result = run("plan", "load", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    shown = run("plan", "show")
    assert shown.exit_code == 2 and "尚未加载" in shown.output


def test_units_invites_and_members(cli):
    assert run("plan", "load", str(BANNER_PLAN)).exit_code == 0
    units = run("unit", "list")
    assert units.exit_code == 0 and "旗林草局" in units.output and "苏木镇" in units.output
    created = run("invite", "create", "--unit", "林草局", "--role", "contact", "--days", "3")
    assert created.exit_code == 0, created.output
    code = created.stdout.strip().splitlines()[0]
    assert len(code) == 10 and code.isalnum()
    bad_role = run("invite", "create", "--unit", "林草局", "--role", "boss")
    assert bad_role.exit_code == 2 and "未知角色" in bad_role.output
    bad_unit = run("invite", "create", "--unit", "不存在", "--role", "contact")
    assert bad_unit.exit_code == 2 and "找不到单位" in bad_unit.output
    bad_days = run("invite", "create", "--unit", "林草局", "--role", "contact", "--days", "0")
    assert bad_days.exit_code == 2 and "天数" in bad_days.output
    members = run("member", "list")
    assert members.exit_code == 0 and "还没有成员" in members.output

    from models import session_scope
    from oversight.members import redeem_invite

    with session_scope(cli) as s:
        redeem_invite(session=s, telegram_user_id=555, name="王五", code=code)
    listed = run("member", "list")
    assert "王五" in listed.output and "旗林草局" in listed.output


def test_zone_leaders_are_assigned_from_the_command_line(cli):
    from sqlmodel import select

    from models import Member, Unit, session_scope

    assert run("plan", "load", str(BANNER_PLAN)).exit_code == 0
    with session_scope(cli) as s:
        gov = s.exec(select(Unit).where(Unit.key == "banner_gov")).one()
        # The leader joined without a name: the CLI calls them by unit and role, as the documents do.
        leader = Member(plan_id=gov.plan_id, telegram_user_id=77, name="", unit_id=gov.id, role="zone_leader")
        contact = Member(plan_id=gov.plan_id, telegram_user_id=78, name="联络乙", unit_id=gov.id, role="contact")
        s.add_all([leader, contact])
        s.flush()
        leader_id, contact_id = leader.id, contact.id
    ok = run("zone", "assign", "--zone", "6", "--member", str(leader_id))
    assert ok.exit_code == 0 and "已指定旗人民政府包联领导包联6号查干此老" in ok.output, ok.output
    listing = run("zone", "list")
    assert "旗人民政府包联领导" in listing.output and "常兴扎嘎乌苏" in listing.output
    assert f"#{leader_id}" not in listing.output and "成员" not in listing.output
    not_leader = run("zone", "assign", "--zone", "6", "--member", str(contact_id))
    assert not_leader.exit_code == 2 and "不是包联领导" in not_leader.output
    assert run("zone", "assign", "--zone", "99", "--member", str(leader_id)).exit_code == 2


def test_progress_shows_every_target_in_text_and_json(cli):
    """lianxi progress [--plan KEY] [--json]: seed 000's seven targets and seed 003's counts,
    causes (22/11/20/54 …) and twelve leagues; with no ledger loaded, no target has a figure yet."""
    assert run("plan", "load", str(BANNER_PLAN)).exit_code == 0
    assert run("plan", "load", str(REGION_PLAN)).exit_code == 0
    banner = run("progress", "--plan", "urad-middle-banner")
    assert banner.exit_code == 0, banner.output
    assert "一、总体目标" in banner.stdout and "二、各批次" in banner.stdout
    # No ledger loaded: no figure, the plan's baseline cited as the plan's.
    assert (
        "全旗矿山总数：目标控制在65个以内（2030年12月31日前），台账尚未载入采矿权，现状暂无法计算；实施方案基数采矿权69宗。"
        in banner.stdout
    )
    data = json.loads(run("progress", "--plan", "urad-middle-banner", "--json").stdout)
    targets = {t["key"]: t for t in data["targets"]}
    assert [targets[k]["value"] for k in ("reduce_mining", "reduce_exploration", "reduce_total")] == [15, 19, 34]
    assert targets["max_mines"]["now"] is None and targets["restart"]["value"] == 28
    assert all(t["unloaded"] and t["expected"] is None and not t["behind"] for t in data["targets"])
    region = json.loads(run("progress", "--plan", "inner-mongolia-2022", "--json").stdout)
    values = {t["key"]: t["value"] for t in region["targets"]}
    assert values["restart_idle"] == 1383 and values["convert_exploration"] == 1302
    causes = {b["key"]: [c["seed"] for c in b["causes"]] for b in region["breakdown"]}
    assert causes["coal_mines"] == [22, 11, 20, 54] and causes["noncoal_mines"] == [186, 161, 464, 465]
    assert causes["coal_convert"] == [20, 21] and causes["noncoal_convert"] == [82]
    assert [b["seed"] for b in region["breakdown"]] == [107, 41, 119, 1276, 82, 1060]
    assert len(region["leagues"]) == 12
    text = run("progress", "--plan", "inner-mongolia-2022").stdout
    assert (
        "停产矿山复工复产：目标1383个，方案未定期限，台账尚未载入采矿权，现状暂无法计算" in text
        and "2022年12月31日前盘活一批矿业权" in text
    )
    assert "鄂尔多斯市：停产矿山0个" in text
    assert run("progress", "--plan", "nosuch").exit_code == 2


def test_plan_milestones_shown_set_refused_and_cleared(cli):
    """Seed 000 gives 升级改造 only 2025–2030 (二(三)); an admin may set milestones between."""
    assert run("plan", "load", str(BANNER_PLAN)).exit_code == 0
    shown = run("plan", "milestones", "upgrade")
    assert shown.exit_code == 0 and "2025-01-01  0%" in shown.stdout and "2030-12-31  100%" in shown.stdout
    assert "2026-01-01  0%" in run("plan", "milestones", "reduce_mining", "--target").stdout
    done = run("plan", "milestones", "upgrade", "2026-12-31=10%", "2028-12-31=0.5")
    assert done.exit_code == 0, done.output
    assert "2026-12-31  10%" in done.stdout and "2028-12-31  50%" in done.stdout
    late = run("plan", "milestones", "upgrade", "2031-06-30=0.9")
    assert late.exit_code == 2 and "晚于期限" in late.output
    assert run("plan", "milestones", "upgrade", "明年=0.5").exit_code == 2
    assert run("plan", "milestones", "nosuch").exit_code == 2
    assert run("plan", "load", str(BANNER_PLAN)).exit_code == 0  # unchanged file: milestones kept
    assert "2026-12-31  10%" in run("plan", "milestones", "upgrade").stdout
    cleared = run("plan", "milestones", "upgrade", "--clear")
    assert cleared.exit_code == 0 and "2026-12-31" not in cleared.stdout
    region = run("plan", "load", str(REGION_PLAN))
    assert region.exit_code == 0
    assert "方案未载明期限" in run("plan", "milestones", "coal_mines", "--plan", "inner-mongolia-2022").stdout
