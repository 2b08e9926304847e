"""A brief's 第N期 is numbered through the year, and a number never signed is not burnt: when an
ad-hoc meeting's brief is withdrawn (its meeting called off) after later briefs of the year were
drafted, the later ones not yet signed each move down one (a draft, and one the office approved and
the convener has yet to sign), are rendered again with their new numbers, and the office is told
《…第2期》改为第1期; the copies with the old numbers still waiting are not sent, and the next brief
of the year follows on without a gap. A brief once signed keeps its number. Driven through
execute_run on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

from pypdf import PdfReader
from sqlmodel import Session, select

from jobs.brief import brief_summary
from jobs.registry import RunContext, execute_run
from models import AuditLog, Brief, Member, OutboxMessage, utcnow
from oversight import briefs as B
from oversight import convening as C
from oversight import runs
from oversight.dates import local_day, local_zone
from tests.seed_quarter import seed_quarter

OFFICE_CHATS = {9101, 9102}  # 办公室李, 办公室张 (办公室 已调离 is inactive)
CONVENER_CHAT = 9001
TOLD = {
    "draft": "原第{freed}期简报已撤回，期号依次递补：《{old}》改为第{new}期，新的送审稿随后发送。",
    "office_approved": "原第{freed}期简报已撤回，期号依次递补：《{old}》改为第{new}期，新的送签稿随后报召集人签发。",
}


def _first_day(now: datetime) -> date:
    """Two days ahead, or past New Year when the three meetings' days would straddle it."""
    day = local_day(now) + timedelta(days=2)
    return day if (day + timedelta(days=2)).year == day.year else date(day.year + 1, 1, 5)


def _seeded(engine, plan_id: int):
    now = utcnow()
    with Session(engine, expire_on_commit=False) as s:
        seed = seed_quarter(session=s, plan_id=plan_id)
        s.commit()
    return seed, now


def _meeting(engine, seed, day: date, topic: str, now: datetime) -> int:
    """The convener calls an ad-hoc meeting for `day` at 09:00; the worker is asked for its brief."""
    with Session(engine, expire_on_commit=False) as s:
        m = C.schedule_meeting(
            session=s,
            actor=s.get(Member, seed.members["convener"].id),
            kind="adhoc",
            starts_at=datetime.combine(day, time(9), tzinfo=local_zone()),
            topic=topic,
            now=now,
        )
        s.commit()
        return m.id


def _run(engine, job: str, period: str, now: datetime):
    return execute_run(ctx=RunContext(engine=engine, worker_id="w1", clock=lambda: now), job=job, period=period)


def _built(engine, day: date, now: datetime) -> Brief:
    assert _run(engine, "brief", str(day), now).state == "done"
    with Session(engine) as s:
        return s.exec(select(Brief).where(Brief.period == str(day))).one()


def _brief(engine, brief_id: int) -> Brief:
    with Session(engine) as s:
        brief = s.get(Brief, brief_id)
        assert brief is not None
        return brief


def _outbox(engine, prefix: str) -> list[OutboxMessage]:
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [m for m in rows if (m.dedupe_key or "").startswith(prefix)]


def _cancel(engine, seed, meeting_id: int, now: datetime) -> None:
    with Session(engine, expire_on_commit=False) as s:
        C.cancel_meeting(
            session=s,
            meeting_id=meeting_id,
            actor=s.get(Member, seed.members["convener"].id),
            reason="问题已协调解决",
            now=now,
        )
        s.commit()


def _approve(engine, seed, brief: Brief, now: datetime) -> None:
    with Session(engine) as s:
        B.office_approve(session=s, brief_id=brief.id, actor=seed.members["office_a"], now=now)
        s.commit()


def _masthead_no(pdf: str) -> str:
    """The 第N期 printed under the brief's name on its first page."""
    text = re.sub(r"\s+", "", PdfReader(pdf).pages[0].extract_text())
    found = re.findall(r"第(\d+)期", text)
    assert found, text[:200]
    return found[0]


def test_a_withdrawn_brief_frees_its_number_for_the_later_ones_not_yet_signed(engine, banner_plan_id, settings_env):
    seed, now = _seeded(engine, banner_plan_id)
    day_a = _first_day(now)
    day_b, day_c = day_a + timedelta(days=1), day_a + timedelta(days=2)
    meeting_a = _meeting(engine, seed, day_a, "征地矛盾", now)
    _meeting(engine, seed, day_b, "草原占用", now)
    _meeting(engine, seed, day_c, "林地审批", now)
    a = _built(engine, day_a, now)
    b = _built(engine, day_b, now)
    c = _built(engine, day_c, now)
    assert (a.issue_no, b.issue_no, c.issue_no) == (1, 2, 3)
    # A re-render's summary (jobs.brief.render_run writes it again) is the built one while the number stands.
    assert all(x.data["summary"] == brief_summary(x.data, issue_no=x.issue_no) for x in (a, b, c))
    _approve(engine, seed, b, now)  # 第2期 is with the convener to sign; 第3期 is a draft
    assert _brief(engine, b.id).state == "office_approved"
    old_names = {b.id: B.brief_name(b), c.id: B.brief_name(c)}
    waiting = {m.id for m in _outbox(engine, f"briefsign:{b.id}:") + _outbox(engine, f"briefdraft:{c.id}:")}
    assert waiting

    later = now + timedelta(hours=1)
    _cancel(engine, seed, meeting_a, later)  # 第1期's meeting is called off: 第1期 is withdrawn

    b2, c2 = _brief(engine, b.id), _brief(engine, c.id)
    assert _brief(engine, a.id).state == "withdrawn"
    assert (b2.issue_no, b2.state, b2.revision) == (1, "office_approved", b.revision + 1)
    assert (c2.issue_no, c2.state, c2.revision) == (2, "draft", c.revision + 1)
    assert (b2.data["issue_no"], c2.data["issue_no"]) == (1, 2)
    # The office is told, each chat once, which brief takes which number.
    for brief, new in ((b2, 1), (c2, 2)):
        told = _outbox(engine, f"briefrenumbered:{brief.id}:")
        line = TOLD[brief.state].format(freed=1, old=old_names[brief.id], new=new)
        assert sorted(m.chat_id for m in told) == sorted(OFFICE_CHATS) and {m.text for m in told} == {line}
    # The copies with the old numbers still waiting are not sent.
    with Session(engine) as s:
        assert {s.get(OutboxMessage, i).state for i in waiting} == {"dead"}
        audit = s.exec(select(AuditLog).where(AuditLog.action == "brief.renumbered")).all()
        assert sorted((r.object_id, r.detail["from"], r.detail["to"]) for r in audit) == [
            (str(b.id), 2, 1),
            (str(c.id), 3, 2),
        ]

    # The worker renders each again with its new number: the masthead, the chat summary, and the
    # copy to whoever holds it now (the convener to sign 第1期, the office to review 第2期).
    for brief in (b2, c2):
        assert _run(engine, B.RENDER_JOB, B.render_period(brief.id, brief.revision), later).state == "done"
    b3, c3 = _brief(engine, b.id), _brief(engine, c.id)
    assert b3.rendered_revision == b3.revision and c3.rendered_revision == c3.revision
    assert (_masthead_no(b3.pdf_path), _masthead_no(c3.pdf_path)) == ("1", "2")
    assert Path(b3.pdf_path) != Path(b.pdf_path)
    for brief, new in ((b3, 1), (c3, 2)):
        assert brief.data["summary"].startswith(f"【{brief.data['title']}】第{new}期（")
    to_sign = _outbox(engine, f"briefsign:{b.id}:r{b3.revision}:")
    assert {m.chat_id for m in to_sign} == {CONVENER_CHAT} and {m.state for m in to_sign} == {"pending"}
    assert any(f"《{B.brief_name(b3)}》已经联席会议办公室审核" in (m.text or "") for m in to_sign)
    preview = _outbox(engine, f"briefdraft:{c.id}:r{c3.revision}:")
    assert {m.chat_id for m in preview} == OFFICE_CHATS
    assert any((m.text or "").startswith(f"《{B.brief_name(c3)}》送审稿已生成") for m in preview)

    # The convener signs 第1期 from the new copy; the next brief of the year is 第3期: no gap.
    with Session(engine) as s:
        signed = B.sign_brief(session=s, brief_id=b.id, actor=seed.members["convener"], revision=b3.revision, now=later)
        assert (signed.state, signed.issue_no) == ("signed", 1)
        s.commit()
    day_d = day_c + timedelta(days=1)
    _meeting(engine, seed, day_d, "矿区道路", later)
    assert _built(engine, day_d, later).issue_no == 3


def test_a_signed_brief_keeps_its_number_when_an_earlier_one_is_withdrawn(engine, banner_plan_id, settings_env):
    seed, now = _seeded(engine, banner_plan_id)
    day_a = _first_day(now)
    meeting_a = _meeting(engine, seed, day_a, "征地矛盾", now)
    _meeting(engine, seed, day_a + timedelta(days=1), "草原占用", now)
    a = _built(engine, day_a, now)
    b = _built(engine, day_a + timedelta(days=1), now)
    _approve(engine, seed, b, now)
    with Session(engine) as s:
        B.sign_brief(session=s, brief_id=b.id, actor=seed.members["convener"], now=now)
        s.commit()
    _cancel(engine, seed, meeting_a, now + timedelta(hours=1))
    assert _brief(engine, a.id).state == "withdrawn"
    assert (_brief(engine, b.id).issue_no, _brief(engine, b.id).state) == (2, "signed")
    assert _outbox(engine, "briefrenumbered:") == []
    with Session(engine) as s:
        assert runs.get_run(session=s, job=B.RENDER_JOB, period=B.render_period(b.id, b.revision + 1)) is None
