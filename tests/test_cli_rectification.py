"""`lianxi rectification list|close|recheck` on a real database: the same rules as /rectify —
a unit's 销号 waits for the office, the office's closes it, a 回头看 not yet due is refused, a
failed one doubles the deduction; a wrong member is refused with exit code 2 and nothing changes."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session
from typer.testing import CliRunner

from lianxi.cli import app
from models import RectificationItem, session_scope, utcnow
from oversight.dates import local_day
from oversight.review import add_item
from tests.test_accountability import Cast


def test_list_close_and_recheck_from_the_command_line(settings_env, engine, banner_plan_id):
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        it = add_item(
            session=s,
            plan_id=banner_plan_id,
            period="2026H1",
            unit_id=cast.uid("water"),
            source="indicator:reporting",
            item="按周报送工作进展",
            standard="连续8周按时报送",
            deadline=date(2026, 12, 31),
            actor="test",
            now=utcnow(),
        )
        other = add_item(
            session=s,
            plan_id=banner_plan_id,
            period="2026H1",
            unit_id=cast.uid("water"),
            source="indicator:response",
            item="按时接收交办问题",
            standard="交办问题2个工作日内接收",
            deadline=date(2026, 12, 31),
            actor="test",
            now=utcnow(),
        ).id
        s.commit()
        iid, water, eco, office, deduction = it.id, cast["water"].id, cast["eco"].id, cast.office.id, it.deduction
    runner = CliRunner()
    listed = runner.invoke(app, ["rectification", "list", "--unit", "水利局"])
    assert listed.exit_code == 0, listed.output
    assert f"〔{iid}号整改事项〕" in listed.output and "待责任单位指定" in listed.output and "整改中" in listed.output

    wrong = runner.invoke(app, ["rectification", "close", str(iid), "--as", str(eco), "--text", "已整改"])
    assert wrong.exit_code == 2 and "只有责任单位联络员或联席会议办公室" in wrong.output
    asked = runner.invoke(app, ["rectification", "close", str(other), "--as", str(water), "--text", "已按周报送"])
    assert asked.exit_code == 0 and "待办公室核验" in asked.output  # the unit's 销号 waits for the office
    closed = runner.invoke(app, ["rectification", "close", str(iid), "--as", str(office), "--text", "已核实整改到位"])
    assert closed.exit_code == 0 and "已销号待回头看" in closed.output

    early = runner.invoke(
        app, ["rectification", "recheck", str(iid), "--as", str(office), "--failed", "--text", "仍有缺报"]
    )
    assert early.exit_code == 2 and "尚未到期" in early.output
    with session_scope(engine) as s:
        row = s.get(RectificationItem, iid)
        row.recheck_on = local_day(utcnow()) - timedelta(days=1)
        s.add(row)
    failed = runner.invoke(
        app, ["rectification", "recheck", str(iid), "--as", str(office), "--failed", "--text", "9月仍有缺报"]
    )
    assert failed.exit_code == 0 and f"扣分{deduction * 2:g}分" in failed.output, failed.output
    with session_scope(engine) as s:
        row = s.get(RectificationItem, iid)
        assert (row.state, row.misses, row.deduction) == ("reopened", 1, deduction * 2)
