"""The reminder before a circulated meeting (issue 15): on the last working day before the meeting's
day, the worker's daily job queues to the contacts of each member unit that has not answered the
notice one message with the meeting's time and the notice's two buttons; once, and to no unit that
answered."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from jobs.reminders import send_daily_digest
from models import CallbackToken, OutboxMessage, utcnow
from oversight import convening as C
from oversight.dates import cn_datetime
from oversight.members import members_of_unit
from tests.seed_quarter import seed_quarter

SH = ZoneInfo("Asia/Shanghai")


def sh(y: int, m: int, d: int, hh: int = 9) -> datetime:
    return datetime(y, m, d, hh, tzinfo=SH).astimezone(UTC)


def reminders(session: Session, meeting_id: int) -> list[OutboxMessage]:
    rows = session.exec(select(OutboxMessage)).all()
    return [r for r in rows if (r.dedupe_key or "").startswith(f"meeting:{meeting_id}:remind:")]


def test_units_that_have_not_answered_are_reminded_once_the_working_day_before(
    session: Session, banner_plan_id: int
) -> None:
    seed = seed_quarter(session=session, plan_id=banner_plan_id)
    office = seed.members["office_a"]
    # Monday 9 March 2026 at 10:00; notice out on Wednesday the 4th; the last working day before is Friday the 6th.
    starts = sh(2026, 3, 9, 10)
    m = C.schedule_meeting(session=session, actor=office, kind="quarterly", starts_at=starts, now=sh(2026, 3, 4))
    C.add_agenda_item(session=session, meeting_id=m.id, actor=office, text="听取工作进展汇报", now=sh(2026, 3, 4))
    C.circulate(session=session, meeting_id=m.id, actor=office, now=sh(2026, 3, 4))
    C.answer_attendance(
        session=session, meeting_id=m.id, actor=seed.members["forestry"], attendee="张林", now=sh(2026, 3, 4, 11)
    )
    C.answer_attendance(
        session=session, meeting_id=m.id, actor=seed.members["water"], excused=True, now=sh(2026, 3, 4, 11)
    )
    session.commit()

    # Thursday: a working day still lies between it and the meeting: nothing.
    send_daily_digest(session=session, period="2026-03-05", now=sh(2026, 3, 5))
    assert reminders(session, m.id) == []

    # Friday: each contact of each unit that has not answered, and no one else.
    result = send_daily_digest(session=session, period="2026-03-06", now=sh(2026, 3, 6))
    session.commit()
    silent = [r for r in C.attendance_of(session=session, meeting_id=m.id) if r["state"] == "none"]
    assert {r["unit_id"] for r in silent}.isdisjoint({seed.units["forestry"], seed.units["water"]}) and silent
    expected = {
        c.telegram_user_id: r["unit"]
        for r in silent
        for c in members_of_unit(session=session, unit_id=r["unit_id"])
        if c.telegram_user_id is not None and c.active
    }
    sent = reminders(session, m.id)
    assert {s.chat_id for s in sent} == set(expected) and len(sent) == len(expected) == result["meeting_reminders"]
    for msg in sent:
        assert (
            msg.text.startswith("【参会提醒】")
            and cn_datetime(starts) in msg.text
            and expected[msg.chat_id] in msg.text
        )
        assert "确认参会（报参会人员）" in msg.text and "请假" in msg.text
        [row] = msg.payload["buttons"]
        tokens = [session.get(CallbackToken, b["token"]) for b in row]
        assert [(t.action, t.args, t.user_id) for t in tokens if t] == [
            ("meeting.attend", {"mid": m.id}, msg.chat_id),
            ("meeting.excuse", {"mid": m.id}, msg.chat_id),
        ]

    # The job run again the same day (a retry) or a unit answering after: nothing more is queued.
    tokens_before = len(session.exec(select(CallbackToken)).all())
    again = send_daily_digest(session=session, period="2026-03-06", now=sh(2026, 3, 6, 15))
    assert again["meeting_reminders"] == 0 and len(reminders(session, m.id)) == len(sent)
    assert len(session.exec(select(CallbackToken)).all()) == tokens_before  # no buttons minted for nothing

    # On the meeting's day: no reminder (the notice and the day before were the time to answer).
    send_daily_digest(session=session, period="2026-03-09", now=sh(2026, 3, 9, 8))
    assert len(reminders(session, m.id)) == len(sent)


def test_no_reminder_when_the_notice_went_out_that_day_or_every_unit_answered(
    session: Session, banner_plan_id: int
) -> None:
    seed = seed_quarter(session=session, plan_id=banner_plan_id)
    office = seed.members["office_a"]
    # Notice out on Friday 6 March for Monday: the notice itself is the day's message.
    m = C.schedule_meeting(
        session=session, actor=office, kind="quarterly", starts_at=sh(2026, 3, 9, 10), now=sh(2026, 3, 6, 8)
    )
    C.add_agenda_item(session=session, meeting_id=m.id, actor=office, text="听取工作进展汇报", now=sh(2026, 3, 6, 8))
    C.circulate(session=session, meeting_id=m.id, actor=office, now=sh(2026, 3, 6, 8))
    session.commit()
    send_daily_digest(session=session, period="2026-03-06", now=sh(2026, 3, 6, 9))
    assert reminders(session, m.id) == []
    # A meeting whose units all answered: nobody reminded on the day before.
    later = C.schedule_meeting(
        session=session, actor=office, kind="quarterly", starts_at=sh(2026, 3, 17, 10), now=sh(2026, 3, 10)
    )
    C.add_agenda_item(session=session, meeting_id=later.id, actor=office, text="听取工作进展汇报", now=sh(2026, 3, 10))
    C.circulate(session=session, meeting_id=later.id, actor=office, now=sh(2026, 3, 10))
    for row in C.attendance_of(session=session, meeting_id=later.id):
        contacts = [c for c in members_of_unit(session=session, unit_id=row["unit_id"]) if c.active]
        if contacts:
            C.answer_attendance(
                session=session, meeting_id=later.id, actor=contacts[0], excused=True, now=sh(2026, 3, 10, 11)
            )
    session.commit()
    silent = {r["unit_id"] for r in C.attendance_of(session=session, meeting_id=later.id) if r["state"] == "none"}
    send_daily_digest(session=session, period="2026-03-16", now=sh(2026, 3, 16))
    chats = {r.chat_id for r in reminders(session, later.id)}
    assert chats == {
        c.telegram_user_id for u in silent for c in members_of_unit(session=session, unit_id=u) if c.telegram_user_id
    }
    assert chats == set()  # every unit with a contact answered: the silent ones have nobody to remind


async def test_the_reminder_reaches_the_contact_in_chat_and_its_button_answers(engine, banner_plan_id) -> None:
    """Through the real bot: the office circulates in chat; on the last working day before the
    meeting the reminder reaches the unit's contact with the meeting's time, and its 请假 button
    records the answer; the unit is not reminded again."""
    from datetime import date, timedelta

    from models import MeetingAttendance, Role, session_scope
    from oversight.dates import local_day, local_zone
    from oversight.workdays import is_workday
    from tests.harness import running_bot
    from tests.test_bot_meetings import meeting_row, when_text

    async with running_bot(engine, banner_plan_id) as h:
        office = await h.join(9701, "办公室丁", "旗政府办公室", Role.OFFICE)
        forestry = await h.join(9702, "林草联络员", "林草局", Role.CONTACT)
        start = await h.say(office, "/meeting", "请选择要安排的会议")
        await h.press(office, start, "安排季度例会", "请发送会议日期和时间")
        card = await h.say(office, when_text(10)[0], "议程")
        await h.press(office, card, "添加议题", "请发送要添加的议题")
        card = await h.say(office, "听取工作进展汇报", "听取工作进展汇报")
        ask = await h.press(office, card, "下发会议通知", "确认下发")
        await h.press(office, ask, "确认下发", "下发会议通知，共")
        await h.server.wait_for(forestry.id, "【会议通知】")
        m = meeting_row(engine)
        assert m.starts_at is not None
        day: date = local_day(m.starts_at) - timedelta(days=1)
        while not is_workday(day):
            day -= timedelta(days=1)
        assert day > datetime.now(local_zone()).date()
        with session_scope(engine) as s:
            assert C.remind_unanswered(session=s, now=utcnow(), today=day) >= 1
        msg = await h.server.wait_for(forestry.id, "【参会提醒】", timeout=30)
        assert cn_datetime(m.starts_at) in msg["text"] and "旗林草局尚未答复" in msg["text"]
        await h.press(forestry, msg, "请假", "请假")
        with session_scope(engine) as s:
            [row] = s.exec(select(MeetingAttendance).where(MeetingAttendance.meeting_id == m.id)).all()
            assert row.state == "excused"
            assert C.remind_unanswered(session=s, now=utcnow(), today=day) == 0
