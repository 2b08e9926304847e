"""A year an admin adds changes what the product computes: a problem's deadline (also one already
set on estimated days), the quarterly brief's next run, and whether a week asks for reports."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from jobs.reminders import send_calendar_reminders, send_weekly_reminders
from models import AuditLog, OutboxMessage, Problem, Role
from oversight import workdays
from oversight.holiday_notice import missing_years, parse_notice, store_notice
from oversight.lookups import format_todo, todo_for_unit
from oversight.problems import problem_card, raise_problem
from oversight.schedules import next_fire_time
from tests.test_holiday_notice import MADE_UP_2027
from tests.test_problems import People

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_a_stored_year_recounts_a_deadline_set_on_estimated_days(session: Session, banner_plan_id: int) -> None:
    cast = People(session, banner_plan_id)
    petition = cast.category("petition")  # 信访: 10 working days
    assert petition.limit_days == 10
    # Raised on Tuesday 2026-12-29: 12-30, 12-31, then 2027 counted Monday to Friday (元旦 included).
    early = raise_problem(
        session=session,
        plan_id=banner_plan_id,
        actor=cast.emergency_contact,
        text="群众反映矿区道路施工扰民，需信访局协调答复",
        category_id=petition.id,
        now=sh(2026, 12, 29, 10, 0),
    )
    session.commit()
    assert early.due_on == date(2027, 1, 12)
    assert workdays.is_estimated(early.due_on)
    assert "2027年1月12日（估算）" in problem_card(session=session, problem=early)
    todo = format_todo(todo_for_unit(session=session, unit_id=early.owner_unit_id, today=date(2026, 12, 30)))
    assert "期限 2027年1月12日（估算）" in todo

    store_notice(session=session, parsed=parse_notice(MADE_UP_2027), actor="member:1")
    session.commit()
    session.refresh(early)
    assert early.due_on == date(2027, 1, 13)  # 1月1日 is now a holiday
    assert not workdays.is_estimated(early.due_on)
    assert "2027年1月13日" in problem_card(session=session, problem=early) and "估算" not in problem_card(
        session=session, problem=early
    )
    [moved] = session.exec(select(AuditLog).where(AuditLog.action == "problem.due_recounted")).all()
    assert moved.detail == {"from": "2027-01-12", "to": "2027-01-13", "calendar_year": 2027}

    later = raise_problem(
        session=session,
        plan_id=banner_plan_id,
        actor=cast.emergency_contact,
        text="春节前矿区复工手续需信访局协调",
        category_id=petition.id,
        now=sh(2027, 2, 4, 10, 0),  # Thursday before 春节 (2月6日–14日 off, 2月20日 worked)
    )
    session.commit()
    assert later.due_on == date(2027, 2, 24)
    assert session.exec(select(Problem).where(Problem.id == later.id)).one().due_on == date(2027, 2, 24)


def test_a_stored_year_moves_the_next_quarterly_brief(session: Session) -> None:
    after_q4 = sh(2026, 12, 31, 18, 0)
    assert next_fire_time("@quarterly-wd5 09:00", after_q4) == sh(2027, 1, 7, 9, 0)  # 元旦 counted: estimated
    store_notice(session=session, parsed=parse_notice(MADE_UP_2027), actor="member:1")
    session.commit()
    assert next_fire_time("@quarterly-wd5 09:00", after_q4) == sh(2027, 1, 8, 9, 0)


def test_a_stored_year_turns_a_holiday_week_into_one_without_reminders(session: Session, banner_plan_id: int) -> None:
    People(session, banner_plan_id)
    # 2027-W06 is 2月8日 to 14日: a week of 春节 in the made-up notice.
    estimated = send_weekly_reminders(session=session, period="2027-W06", now=sh(2027, 2, 15, 9, 0))
    session.rollback()
    assert estimated["queued"] > 0 and "skipped" not in estimated
    store_notice(session=session, parsed=parse_notice(MADE_UP_2027), actor="member:1")
    session.commit()
    before = len(session.exec(select(OutboxMessage)).all())
    stored = send_weekly_reminders(session=session, period="2027-W06", now=sh(2027, 2, 15, 9, 0))
    assert stored == {"week": "2027-W06", "skipped": "no working day", "units_without_report": [], "queued": 0}
    assert len(session.exec(select(OutboxMessage)).all()) == before


def test_which_years_an_admin_should_add() -> None:
    assert missing_years(date(2026, 11, 14)) == []
    assert missing_years(date(2026, 11, 15)) == [2027]
    assert missing_years(date(2027, 3, 1)) == [2027]
    assert missing_years(date(2026, 10, 1), notice_from=(10, 1)) == [2027]


def _calendar_messages(session: Session) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).where(col(OutboxMessage.dedupe_key).startswith("calendar:"))).all())


def test_admins_are_reminded_weekly_of_a_missing_year_until_it_is_stored(session: Session, banner_plan_id: int) -> None:
    cast = People(session, banner_plan_id)
    admin = cast.member("office", Role.ADMIN, "管理员孙")
    retired = cast.member("office", Role.ADMIN, "管理员钱")
    retired.active = False
    session.commit()

    # Before 15 November (the plan's day) nothing is missing: 2026 has data.
    out = send_calendar_reminders(session=session, period="2026-W41", now=sh(2026, 10, 9, 9, 0))
    assert out == {"week": "2026-W41", "missing": [], "queued": 0}
    assert _calendar_messages(session) == []

    # From 15 November, 2027 is missing: the one active admin is told, in words, and how to add it.
    out = send_calendar_reminders(session=session, period="2026-W47", now=sh(2026, 11, 16, 9, 0))
    session.commit()
    assert out["missing"] == [2027] and out["queued"] == 1
    [told] = _calendar_messages(session)
    assert told.chat_id == admin.telegram_user_id
    assert "2027年的法定节假日和调休安排还没有录入本系统" in told.text and "/calendar" in told.text
    recipients = {m.chat_id for m in _calendar_messages(session)}
    assert retired.telegram_user_id not in recipients
    assert cast.office.telegram_user_id not in recipients and cast.emergency_contact.telegram_user_id not in recipients

    # The same week again (a rerun, a second worker): nothing more. The next week: once more.
    send_calendar_reminders(session=session, period="2026-W47", now=sh(2026, 11, 19, 9, 0))
    session.commit()
    assert len(_calendar_messages(session)) == 1
    send_calendar_reminders(session=session, period="2026-W48", now=sh(2026, 11, 23, 9, 0))
    session.commit()
    assert len(_calendar_messages(session)) == 2

    # Once the year is stored, the reminders stop.
    store_notice(session=session, parsed=parse_notice(MADE_UP_2027), actor="member:1")
    session.commit()
    out = send_calendar_reminders(session=session, period="2026-W49", now=sh(2026, 11, 30, 9, 0))
    session.commit()
    assert out["missing"] == [] and out["queued"] == 0
    assert len(_calendar_messages(session)) == 2
