"""Convening a meeting, on a generated quarter (tests/seed_quarter.py): the drafted agenda lists
exactly what the record holds (checked against queries of its own), attendance is counted per
unit for the review, refusals change nothing, and the minutes are numbered once per year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from models import (
    Decision,
    Meeting,
    MeetingAttendance,
    Notice,
    Plan,
    Problem,
    ProblemCategory,
    ProblemState,
    utcnow,
)
from oversight import convening as C
from oversight.accountability import thresholds_of
from oversight.dates import local_day
from oversight.errors import InvalidInputError, InvalidStateError, PermissionDeniedError
from oversight.measures import tasks_behind
from oversight.members import members_of_unit
from oversight.problems import decline_problem, raise_problem
from tests.chatfacts import assert_circulation_facts, kinds
from tests.seed_quarter import seed_quarter


def test_the_drafted_agenda_is_the_record(session, banner_plan_id):
    seed = seed_quarter(session=session, plan_id=banner_plan_id)
    office, water = seed.members["office_a"], seed.members["water"]
    now = utcnow()
    # A problem declined now, waiting for the office's ruling.
    cat = session.exec(select(ProblemCategory).where(ProblemCategory.plan_id == banner_plan_id)).first()
    p = raise_problem(
        session=session,
        plan_id=banner_plan_id,
        actor=seed.members["forestry"],
        text="取水许可办理进度慢，影响整合区复工",
        category_id=cat.id,
        owner_unit_id=seed.units["water"],
        now=now,
    )
    decline_problem(session=session, problem_id=p.id, actor=water, reason="不属于本单位职责范围", now=now)
    agenda = C.draft_agenda(session=session, actor=office, now=now)
    refs = [i["ref"] for i in agenda]
    today = local_day(now)
    disputed = session.exec(select(Problem.id).where(Problem.state == ProblemState.DISPUTED)).all()
    late_decisions = [
        d.id
        for d in session.exec(select(Decision).where(Decision.state == "open")).all()
        if d.due_on is not None and d.due_on < today
    ]
    late_problems = [
        q.id
        for q in session.exec(
            select(Problem).where(Problem.state.in_((ProblemState.ASSIGNED, ProblemState.ACCEPTED)))
        ).all()
        if q.due_on is not None and q.due_on < today
    ]
    points = thresholds_of(session.get(Plan, banner_plan_id))["behind_points"]
    behind = tasks_behind(session=session, plan_id=banner_plan_id, as_of=now, behind_points=points)
    notice = session.exec(select(Notice).where(Notice.state == "published")).one()
    expected = (
        [f"problem:{i}" for i in sorted(disputed)]
        + [f"problem:{i}" for i in late_problems]
        + [f"decision:{i}" for i in late_decisions]
        + [f"task:{r['task_id']}" for r in behind]
        + [f"notice:{notice.id}"]
    )
    assert p.id in disputed and late_decisions and late_problems
    # Every fact once, each kind where the record has it (overdue items come red-first, by lateness).
    assert sorted(r for r in refs if not r.startswith("baseline")) == sorted(expected[: C.AGENDA_MAX])
    assert refs[: len(disputed)] == [f"problem:{i}" for i in sorted(disputed)]
    assert agenda[0]["text"].startswith(f"待裁定：{sorted(disputed)[0]}号问题（")
    assert all(len(i["text"]) <= C.ITEM_MAX for i in agenda)


def test_scheduling_and_answers_refused_change_nothing(session, banner_plan_id):
    seed = seed_quarter(session=session, plan_id=banner_plan_id)
    office, convener, forestry = seed.members["office_a"], seed.members["convener"], seed.members["forestry"]
    now = utcnow()
    with pytest.raises(InvalidInputError, match="须晚于现在"):
        C.schedule_meeting(session=session, actor=office, kind="quarterly", starts_at=now - timedelta(hours=1), now=now)
    with pytest.raises(InvalidInputError, match="一年以内"):
        C.schedule_meeting(
            session=session, actor=office, kind="quarterly", starts_at=now + timedelta(days=400), now=now
        )
    with pytest.raises(PermissionDeniedError, match="召集人"):
        C.schedule_meeting(session=session, actor=office, kind="adhoc", starts_at=now + timedelta(days=1), now=now)
    with pytest.raises(PermissionDeniedError):
        C.schedule_meeting(
            session=session, actor=forestry, kind="quarterly", starts_at=now + timedelta(days=1), now=now
        )
    assert session.exec(select(Meeting).where(Meeting.state == "scheduled")).all() == []
    m = C.schedule_meeting(
        session=session, actor=convener, kind="adhoc", topic="研究用地", starts_at=now + timedelta(days=1), now=now
    )
    assert m.title == "临时加开联席会议（研究用地）" and m.period == local_day(m.starts_at).isoformat()
    # Not circulated yet: no unit may answer; the office may not mark it held.
    with pytest.raises(InvalidStateError):
        C.answer_attendance(session=session, meeting_id=m.id, actor=forestry, attendee="张林", now=now)
    with pytest.raises(InvalidStateError, match="尚未下发"):
        C.mark_held(session=session, meeting_id=m.id, actor=office, now=now)
    C.add_agenda_item(session=session, meeting_id=m.id, actor=office, text="研究用地问题", now=now)
    C.circulate(session=session, meeting_id=m.id, actor=office, now=now)
    # 改期: not to the past nor to the same time; once circulated, every member unit's contacts told.
    with pytest.raises(InvalidInputError, match="须晚于现在"):
        C.reschedule(session=session, meeting_id=m.id, actor=office, starts_at=now, now=now)
    with pytest.raises(InvalidInputError, match="未作改动"):
        C.reschedule(session=session, meeting_id=m.id, actor=office, starts_at=m.starts_at, now=now)
    with pytest.raises(PermissionDeniedError):
        C.reschedule(
            session=session, meeting_id=m.id, actor=forestry, starts_at=m.starts_at + timedelta(hours=2), now=now
        )
    from models import OutboxMessage

    C.reschedule(session=session, meeting_id=m.id, actor=office, starts_at=m.starts_at + timedelta(hours=2), now=now)
    told = session.exec(select(OutboxMessage).where(OutboxMessage.text.startswith("【会议改期】"))).all()
    reached = {
        c.telegram_user_id
        for u in C.member_units(session=session, plan_id=banner_plan_id)
        for c in members_of_unit(session=session, unit_id=u.id)
    }
    assert {t.chat_id for t in told} == reached - {None} and len(told) == len(reached - {None})
    # The office answers for no unit; a contact answers for its own unit only, once per unit.
    with pytest.raises(PermissionDeniedError):
        C.answer_attendance(session=session, meeting_id=m.id, actor=office, attendee="李某", now=now)
    C.answer_attendance(session=session, meeting_id=m.id, actor=forestry, attendee="张林", now=now)
    C.answer_attendance(session=session, meeting_id=m.id, actor=forestry, excused=True, now=now)
    rows = session.exec(select(MeetingAttendance).where(MeetingAttendance.meeting_id == m.id)).all()
    assert [(r.unit_id, r.state, r.attendee) for r in rows] == [(seed.units["forestry"], "excused", "")]


def test_attendance_by_unit_for_the_review_and_minutes_numbering(session, banner_plan_id):
    seed = seed_quarter(session=session, plan_id=banner_plan_id)
    office = seed.members["office_a"]
    now = utcnow()
    held = []
    for k in range(2):
        m = C.schedule_meeting(
            session=session, actor=office, kind="quarterly", starts_at=now + timedelta(hours=1 + k), now=now
        )
        C.add_agenda_item(session=session, meeting_id=m.id, actor=office, text="听取工作进展汇报", now=now)
        C.circulate(session=session, meeting_id=m.id, actor=office, now=now)
        held.append(m)
    first, second = held
    # Two more, circulated in the same days: one called off, one still to come when the others are held.
    called_off, to_come = (
        C.schedule_meeting(session=session, actor=office, kind="quarterly", starts_at=now + timedelta(hours=h), now=now)
        for h in (2.5, 20)
    )
    for m in (called_off, to_come):
        C.add_agenda_item(session=session, meeting_id=m.id, actor=office, text="研究整改工作", now=now)
        C.circulate(session=session, meeting_id=m.id, actor=office, now=now)
    C.cancel_meeting(session=session, meeting_id=called_off.id, actor=office, reason="议题已另行协调解决", now=now)
    C.answer_attendance(session=session, meeting_id=first.id, actor=seed.members["forestry"], attendee="张林", now=now)
    C.answer_attendance(session=session, meeting_id=second.id, actor=seed.members["forestry"], excused=True, now=now)
    C.answer_attendance(session=session, meeting_id=second.id, actor=seed.members["water"], attendee="罗永刚", now=now)
    day = local_day(first.starts_at)

    def attendance() -> dict:
        return C.attendance_by_unit(session=session, plan_id=banner_plan_id, first=day, last=day + timedelta(days=1))

    # Before any of them is recorded as held, nobody has missed anything.
    assert all(v["called"] == 0 for v in attendance().values())
    later = now + timedelta(hours=3)
    for m in held:
        C.mark_held(session=session, meeting_id=m.id, actor=office, now=later)
    record = attendance()
    forestry, water, natres = (record[seed.units[k]] for k in ("forestry", "water", "natres"))
    # Counted: the two held; not the one called off nor the one still to come (nobody answered those).
    assert (forestry["called"], forestry["attend"], forestry["excused"], forestry["none"]) == (2, 1, 1, 0)
    assert (water["attend"], water["none"], water["missed"]) == (1, 1, [first.id])
    assert (natres["none"], natres["missed"]) == (2, [first.id, second.id])
    assert set(record) == {u.id for u in C.member_units(session=session, plan_id=banner_plan_id)}
    # Outside the window: nothing called.
    before = C.attendance_by_unit(
        session=session, plan_id=banner_plan_id, first=date(2020, 1, 1), last=date(2020, 12, 31)
    )
    assert all(v["called"] == 0 for v in before.values())

    # Minutes: requested only once held, numbered 第1期, 第2期 in the year, recorded once.
    with pytest.raises(InvalidStateError):
        C.request_minutes(session=session, meeting_id=to_come.id, actor=office, now=later)
    for n, m in enumerate(held, 1):
        with pytest.raises(InvalidStateError, match="不能再改期"):
            C.reschedule(session=session, meeting_id=m.id, actor=office, starts_at=later + timedelta(days=1), now=later)
        C.request_minutes(session=session, meeting_id=m.id, actor=office, now=later)
        doc = C.minutes_document(session=session, meeting_id=m.id, now=later)
        assert doc["doc_number"] == f"第{n}期" and doc["attendance"][0]["label"] == "确认参会"
        C.mark_minuted(session=session, meeting_id=m.id, number=doc["minutes_no"], path=f"/tmp/m{n}.pdf", now=later)
        C.mark_minuted(session=session, meeting_id=m.id, number=99, path="/elsewhere.pdf", now=later)
        assert (m.minutes_no, m.minutes_path) == (n, f"/tmp/m{n}.pdf")
    assert C.minutes_document(session=session, meeting_id=first.id, now=later)["doc_number"] == "第1期"


def test_a_meeting_only_scheduled_or_called_off_is_not_the_briefs_last_meeting(session, banner_plan_id):
    from oversight.briefdata import brief_data, parse_period

    seed = seed_quarter(session=session, plan_id=banner_plan_id)
    office = seed.members["office_a"]
    now = utcnow()
    day = local_day(now)
    period = parse_period(f"{day.year}Q{(day.month - 1) // 3 + 1}")

    def last_meeting() -> int | None:
        meeting = brief_data(session=session, plan_id=banner_plan_id, period=period, now=utcnow())["decisions"][
            "meeting"
        ]
        return meeting["id"] if meeting else None

    before = last_meeting()
    coming = C.schedule_meeting(
        session=session, actor=office, kind="quarterly", starts_at=now + timedelta(minutes=30), now=now
    )
    off = C.schedule_meeting(
        session=session, actor=office, kind="quarterly", starts_at=now + timedelta(minutes=40), now=now
    )
    C.cancel_meeting(session=session, meeting_id=off.id, actor=office, reason="召集人另有公务", now=now)
    session.flush()
    assert last_meeting() == before and before not in (coming.id, off.id)


def test_circulation_leaves_out_an_item_no_longer_true(session, banner_plan_id):
    from oversight.meetings import complete_decision

    seed = seed_quarter(session=session, plan_id=banner_plan_id)
    office = seed.members["office_a"]
    now = utcnow()
    m = C.schedule_meeting(session=session, actor=office, kind="quarterly", starts_at=now + timedelta(days=2), now=now)
    C.add_agenda_item(session=session, meeting_id=m.id, actor=office, text="听取工作进展汇报", now=now)
    late = [i["ref"] for i in m.agenda if i["ref"].startswith("decision:")]
    assert late
    done = int(late[0].split(":")[1])
    complete_decision(session=session, decision_id=done, actor=office, now=now)  # done since the draft
    said = C.circulate(session=session, meeting_id=m.id, actor=office, now=now)
    refs = [i["ref"] for i in m.agenda]
    assert f"decision:{done}" not in refs and set(late[1:]) <= set(refs)
    assert m.agenda[-1] == {"text": "听取工作进展汇报", "ref": ""}
    # The office's reply names the item left out by its record and counts the notices queued.
    listed = said.listed()
    assert [f["ids"] for f in listed if f["kind"] == "left_out_one"] == [{"decision": [done]}]
    assert "sent" in kinds(listed) and f"{done}号议定事项" in said.message()
    assert_circulation_facts(session, m.id, said.message(), listed)
    assert all(f"{done}号议定事项（" not in i["text"] for i in m.agenda)


def test_an_adhoc_meetings_brief_is_withdrawn_when_it_is_moved_or_called_off(session, banner_plan_id):
    """The convener calls an ad-hoc meeting for the day after tomorrow: the worker is asked for its
    brief. Moved a day on, the old day's brief is taken back (its run withdrawn, its messages still
    waiting in the outbox never sent; one already delivered stays) and the new day's is asked for;
    called off, that one is withdrawn too and a worker finds nothing to run."""
    from models import AuditLog, OutboxMessage, ScheduledRun
    from oversight import runs
    from oversight.outbox import enqueue_text

    seed = seed_quarter(session=session, plan_id=banner_plan_id)
    convener = seed.members["convener"]
    now = utcnow()
    m = C.schedule_meeting(
        session=session, actor=convener, kind="adhoc", starts_at=now + timedelta(days=2), topic="征地矛盾", now=now
    )
    first_day = local_day(m.starts_at).isoformat()
    assert runs.get_run(session=session, job="brief", period=first_day).state == "pending"
    # Part of the old day's brief already queued for the group: one message sent, one waiting.
    prefix = f"brief:{banner_plan_id}:{first_day}:group"
    sent = enqueue_text(session=session, chat_id=-1001, text="简报摘要（一）", dedupe_key=f"{prefix}:0", now=now)
    waiting = enqueue_text(session=session, chat_id=-1001, text="简报摘要（二）", dedupe_key=f"{prefix}:1", now=now)
    other = enqueue_text(session=session, chat_id=-1001, text="其他消息", dedupe_key="problem:1:x", now=now)
    sent.state = "sent"
    session.add(sent)
    session.flush()

    C.reschedule(session=session, meeting_id=m.id, actor=convener, starts_at=m.starts_at + timedelta(days=1), now=now)
    new_day = local_day(m.starts_at).isoformat()
    assert new_day != first_day and m.period == new_day
    old = runs.get_run(session=session, job="brief", period=first_day)
    assert old.state == "withdrawn" and "会议改期" in old.error and runs.is_final(old)
    assert runs.get_run(session=session, job="brief", period=new_day).state == "pending"
    states = {o.id: o.state for o in session.exec(select(OutboxMessage)).all()}
    assert (states[sent.id], states[waiting.id], states[other.id]) == ("sent", "dead", "pending")
    assert runs.claim_run(session=session, job="brief", period=first_day, worker_id="w1", now=now) is None

    # A second ad-hoc meeting on the new day needs that day's brief: calling one off keeps it.
    twin = C.schedule_meeting(
        session=session, actor=convener, kind="adhoc", starts_at=m.starts_at, topic="用地", now=now
    )
    C.cancel_meeting(session=session, meeting_id=twin.id, actor=convener, reason="与另一会议合并召开", now=now)
    assert runs.get_run(session=session, job="brief", period=new_day).state == "pending"
    C.cancel_meeting(session=session, meeting_id=m.id, actor=convener, reason="问题已协调解决", now=now)
    assert runs.get_run(session=session, job="brief", period=new_day).state == "withdrawn"
    assert not [r for r in runs.due_runs(session=session, now=now) if r.job == "brief"]
    withdrawn = session.exec(select(AuditLog).where(AuditLog.action == "meeting.brief_withdrawn")).all()
    assert [(a.object_id, a.detail["period"], a.detail["run_id"] is not None) for a in withdrawn] == [
        (str(m.id), first_day, True),
        (str(twin.id), new_day, False),
        (str(m.id), new_day, True),
    ]
    assert session.exec(select(ScheduledRun).where(ScheduledRun.period == new_day)).one().error.startswith("withdrawn")


def test_a_contact_who_joins_after_the_notice_went_out_gets_it_once(session, banner_plan_id):
    """The office circulates the next quarterly meeting; a second contact of 旗林草局 joins afterwards
    and gets that notice with its answer buttons (not the meeting called off, nor one already
    held); asked again, nothing more is queued."""
    from models import OutboxMessage, Role
    from oversight.members import create_invite, redeem_invite

    seed = seed_quarter(session=session, plan_id=banner_plan_id)
    office = seed.members["office_a"]
    now = utcnow()
    coming, called_off = (
        C.schedule_meeting(session=session, actor=office, kind="quarterly", starts_at=now + timedelta(days=d), now=now)
        for d in (3, 4)
    )
    for m in (coming, called_off):
        C.add_agenda_item(session=session, meeting_id=m.id, actor=office, text="听取工作进展汇报", now=now)
        C.circulate(session=session, meeting_id=m.id, actor=office, now=now)
    C.cancel_meeting(session=session, meeting_id=called_off.id, actor=office, reason="与季度例会合并召开", now=now)
    _, code = create_invite(
        session=session,
        plan_id=banner_plan_id,
        unit_id=seed.units["forestry"],
        role=Role.CONTACT,
        created_by="t",
        now=now,
    )
    later = now + timedelta(hours=1)
    joined = redeem_invite(session=session, telegram_user_id=777001, name="新联络员", code=code, now=later)
    mine = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 777001)).all()
    assert [m.dedupe_key for m in mine] == [f"meeting:{coming.id}:notice:777001"]
    assert mine[0].text.startswith("【会议通知】") and "（旗林草局）" in mine[0].text
    assert len(mine[0].payload["buttons"][0]) == 2
    assert C.catch_up_notices(session=session, member=joined, now=later) == 0
    # Once the meeting has begun, a newcomer gets no notice for it.
    _, code = create_invite(
        session=session, plan_id=banner_plan_id, unit_id=seed.units["water"], role=Role.CONTACT, created_by="t", now=now
    )
    redeem_invite(
        session=session, telegram_user_id=777002, name="迟到联络员", code=code, now=now + timedelta(days=3, hours=1)
    )
    assert not session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 777002)).all()
