"""Seed 003's region deadlines remind their owners (issue 14 deliver 4): the daily job tells a league's
contacts once when its 底数核实台账 (due 2022-09-20) or its 盘活一批 (due 2022-12-31) is near, once a week
while it is overdue, and the office's digest lists the leagues' overdue items."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from jobs.reminders import send_daily_digest
from models import Member, OutboxMessage, Right, Role, Unit, session_scope
from tests.conftest import REGION_PLAN, load_bundled_plan

SH = ZoneInfo("Asia/Shanghai")


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 8, 0, tzinfo=SH)


def _texts(s: Session, chat_id: int) -> list[str]:
    rows = s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)).all()
    return [m.text for m in rows]


def test_region_deadlines_remind_the_league_and_reach_the_office_digest(engine: Engine) -> None:
    p = load_bundled_plan(engine, REGION_PLAN)
    with session_scope(engine) as s:
        units = {u.key: u for u in s.exec(select(Unit).where(Unit.plan_id == p)).all()}
        ordos, baotou = units["ordos"], units["baotou"]
        s.add(Member(plan_id=p, unit_id=ordos.id, role=Role.CONTACT, name="鄂尔多斯联络员", telegram_user_id=501))
        s.add(Member(plan_id=p, unit_id=baotou.id, role=Role.CONTACT, name="包头联络员", telegram_user_id=502))
        s.add(Member(plan_id=p, unit_id=units["natres"].id, role=Role.OFFICE, name="办公室", telegram_user_id=503))
        s.add(Right(plan_id=p, code="M-1", name="M-1", kind="mining", locality_unit_id=ordos.id))
        s.add(Right(plan_id=p, code="M-2", name="M-2", kind="mining", locality_unit_id=baotou.id))

    # A month before: nothing to say yet.
    with session_scope(engine) as s:
        send_daily_digest(session=s, period="2022-08-22", now=_at(date(2022, 8, 22)))
        assert _texts(s, 501) == [] and _texts(s, 503) == []
    # Friday before Tuesday's deadline: each league told once, a second run adds nothing.
    with session_scope(engine) as s:
        first = send_daily_digest(session=s, period="2022-09-16", now=_at(date(2022, 9, 16)))
        again = send_daily_digest(session=s, period="2022-09-16", now=_at(date(2022, 9, 16)))
    assert first["region_reminders"] >= 2 and again["region_reminders"] == 0
    with session_scope(engine) as s:
        (soon,) = _texts(s, 502)
        assert soon.startswith(
            "【工作提醒】\n包头市人民政府：按实施方案三（三），请于2022年9月20日前报送底数核实情况及工作措施台账"
        )
        assert "/ledger" in soon
        assert _texts(s, 503) == []  # nothing overdue for the office yet
        # 鄂尔多斯市 files its baseline on the deadline.
        right = s.exec(select(Right).where(Right.plan_id == p, Right.code == "M-1")).one()
        right.baseline_on = date(2022, 9, 20)
        s.add(right)
    with session_scope(engine) as s:
        late = send_daily_digest(session=s, period="2022-09-26", now=_at(date(2022, 9, 26)))
        assert send_daily_digest(session=s, period="2022-09-27", now=_at(date(2022, 9, 27)))["region_reminders"] == 0
        assert late["regions"] == 11  # every league but 鄂尔多斯市
        baotou_texts = _texts(s, 502)
        assert len(baotou_texts) == 2 and baotou_texts[1].startswith("【逾期提醒】\n包头市人民政府：")
        assert "按实施方案三（三），应于2022年9月20日前报送底数核实情况" in baotou_texts[1]
        assert "；至今未完成，已逾期4个工作日。" in baotou_texts[1]
        assert _texts(s, 501) == [_texts(s, 501)[0]]  # 鄂尔多斯市: only the earlier reminder
        (digest,) = [t for t in _texts(s, 503) if t.startswith("【每日督办】2022年9月26日")]
        assert "一、逾期未完成的盟市事项（11项）" in digest
        assert "包头市人民政府：底数核实台账（应于2022年9月20日前完成，已逾期4个工作日）" in digest
        assert "鄂尔多斯市人民政府" not in digest
    # 盘活一批: 鄂尔多斯市 reminded before the end of 2022, then weekly while nothing there is activated.
    with session_scope(engine) as s:
        send_daily_digest(session=s, period="2022-12-28", now=_at(date(2022, 12, 28)))
        send_daily_digest(session=s, period="2023-01-04", now=_at(date(2023, 1, 4)))
        send_daily_digest(session=s, period="2023-01-05", now=_at(date(2023, 1, 5)))
        ordos_texts = _texts(s, 501)
    assert [t.split("\n")[0] for t in ordos_texts] == ["【工作提醒】", "【工作提醒】", "【逾期提醒】"]
    assert "请于2022年12月31日前盘活一批矿业权" in ordos_texts[1] and "/report" in ordos_texts[1]
    assert (
        "按实施方案三（二），应于2022年12月31日前盘活一批矿业权（停产矿山复工复产或探矿权转采矿权）" in ordos_texts[2]
    )
