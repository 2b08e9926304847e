"""An ad-hoc meeting's brief that a worker has already begun, when the meeting is called off: the
worker (jobs.registry.execute_run, the brief job as it runs) finds its run withdrawn before it
records or queues anything, so nothing of that brief reaches anyone, and the office is told in one
line that the brief for the cancelled meeting was not sent. Two moments of the cancel: while the
brief is being rendered, and after the worker queued the office's draft but before it was sent."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from sqlmodel import Session, select

import jobs.brief
from jobs.registry import RunContext, execute_run
from models import Brief, Meeting, OutboxMessage, utcnow
from oversight import convening as C
from oversight import runs
from oversight.dates import local_day, local_zone
from tests.seed_quarter import seed_quarter

NOTICE = "因{day}的会议已取消，为该会议编制的简报未发送。"


def _called(engine, banner_plan_id):
    """The convener calls an ad-hoc meeting for the day after tomorrow; the worker is asked for its brief."""
    now = utcnow()
    with Session(engine, expire_on_commit=False) as s:
        seed = seed_quarter(session=s, plan_id=banner_plan_id)
        s.commit()
        m = C.schedule_meeting(
            session=s,
            actor=seed.members["convener"],
            kind="adhoc",
            starts_at=datetime.combine(local_day(now) + timedelta(days=2), time(9), tzinfo=local_zone()),
            topic="征地矛盾",
            now=now,
        )
        s.commit()
        return seed, m.id, local_day(m.starts_at), now


def _cancel(engine, meeting_id: int, convener_id: int, now) -> None:
    """The convener calls the meeting off, in a session of their own (the bot's), committed."""
    from models import Member

    with Session(engine, expire_on_commit=False) as s:
        convener = s.get(Member, convener_id)
        C.cancel_meeting(session=s, meeting_id=meeting_id, actor=convener, reason="问题已协调解决", now=now)
        s.commit()


def _outbox(engine) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def _office_notices(engine, day_text: str) -> list[str]:
    return [m.text for m in _outbox(engine) if m.state == "pending" and m.text == NOTICE.format(day=day_text)]


def test_a_cancel_while_the_brief_is_rendered_leaves_nothing_sent(engine, banner_plan_id, settings_env, monkeypatch):
    seed, meeting_id, day, now = _called(engine, banner_plan_id)
    real_build = jobs.brief.build_brief
    built: list[Path] = []

    def build_then_cancelled(**kw):
        result = real_build(**kw)
        built.extend([Path(result.pdf_path), Path(result.xlsx_path)])
        assert all(p.exists() for p in built)
        _cancel(engine, meeting_id, seed.members["convener"].id, now)  # arrives while the worker renders
        return result

    monkeypatch.setattr(jobs.brief, "build_brief", build_then_cancelled)
    before = {m.id for m in _outbox(engine)}
    done = execute_run(ctx=RunContext(engine=engine, worker_id="w1", clock=lambda: now), job="brief", period=str(day))

    assert built, "the worker had begun the brief"
    assert done is not None and done.state == "withdrawn" and "会议取消" in done.error
    with Session(engine) as s:
        assert s.exec(select(Brief).where(Brief.period == str(day))).all() == []
        assert s.get(Meeting, meeting_id).state == "cancelled"
    assert not any(p.exists() for p in built)  # no record points to them: removed
    new = [m for m in _outbox(engine) if m.id not in before]
    assert not [
        m
        for m in new
        if (m.dedupe_key or "").startswith(("brief", "briefdraft")) and not m.dedupe_key.startswith("briefwithdrawn")
    ]
    from oversight.dates import cn_date

    notices = [m for m in new if (m.dedupe_key or "").startswith("briefwithdrawn:")]
    office_chats = {m.telegram_user_id for k, m in seed.members.items() if k.startswith("office")}
    assert notices and {m.chat_id for m in notices} <= office_chats
    assert {m.text for m in notices} == {NOTICE.format(day=cn_date(day))}
    assert len({m.chat_id for m in notices}) == len(notices)  # one line per office chat
    # The cancel's withdrawal and the worker's are one: no second notice, and a worker finds nothing to run.
    assert (
        execute_run(ctx=RunContext(engine=engine, worker_id="w2", clock=lambda: now), job="brief", period=str(day))
        is None
    )


def test_a_cancel_after_the_draft_was_queued_takes_it_back_unsent(engine, banner_plan_id, settings_env, monkeypatch):
    seed, meeting_id, day, now = _called(engine, banner_plan_id)
    real_word = jobs.brief.ensure_word_copy

    def queued_then_cancelled(brief):
        # publish_brief has committed the brief and queued the office's draft; the run is still working.
        with Session(engine) as s:
            assert runs.get_run(session=s, job="brief", period=str(day)).state == "working"
            drafts = s.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("briefdraft:"))).all()
            assert drafts and {d.state for d in drafts} == {"pending"}
        _cancel(engine, meeting_id, seed.members["convener"].id, now)
        return real_word(brief)

    monkeypatch.setattr(jobs.brief, "ensure_word_copy", queued_then_cancelled)
    done = execute_run(ctx=RunContext(engine=engine, worker_id="w1", clock=lambda: now), job="brief", period=str(day))

    assert done is not None and done.state == "withdrawn"
    outbox = _outbox(engine)
    drafts = [m for m in outbox if (m.dedupe_key or "").startswith("briefdraft:")]
    assert drafts and {m.state for m in drafts} == {"dead"}
    assert all(m.last_error == "withdrawn: 会议取消" for m in drafts)
    from oversight.dates import cn_date

    notices = [m for m in outbox if (m.dedupe_key or "").startswith("briefwithdrawn:")]
    assert notices and {m.text for m in notices} == {NOTICE.format(day=cn_date(day))}
    assert {m.chat_id for m in notices} == {m.chat_id for m in drafts}  # the office that would have had the draft
    assert len({m.chat_id for m in notices}) == len(notices)

    # The draft is still on record (the office's /briefs lists it), but it is not approved, signed or sent.
    import pytest

    from oversight.briefs import office_approve
    from oversight.errors import InvalidStateError

    with Session(engine) as s:
        brief = s.exec(select(Brief).where(Brief.period == str(day))).one()
        with pytest.raises(InvalidStateError, match="会议已取消"):
            office_approve(session=s, brief_id=brief.id, actor=seed.members["office_a"], now=now)


def test_a_brief_signed_before_its_meeting_was_called_off_is_not_distributed(engine, banner_plan_id, settings_env):
    from oversight.briefs import distribute_period, office_approve, sign_brief
    from oversight.dates import cn_date

    seed, meeting_id, day, now = _called(engine, banner_plan_id)
    ctx = RunContext(engine=engine, worker_id="w1", clock=lambda: now)
    assert execute_run(ctx=ctx, job="brief", period=str(day)).state == "done"
    with Session(engine, expire_on_commit=False) as s:
        brief = s.exec(select(Brief).where(Brief.period == str(day))).one()
        office_approve(session=s, brief_id=brief.id, actor=seed.members["office_a"], now=now)
        if brief.state != "signed":
            sign_brief(session=s, brief_id=brief.id, actor=seed.members["convener"], now=now)
        s.commit()
    _cancel(engine, meeting_id, seed.members["convener"].id, now)  # before the worker distributes it
    with Session(engine) as s:  # the cancel withdrew the brief and its distribution run
        assert s.get(Brief, brief.id).state == "withdrawn"
        run = runs.get_run(session=s, job="brief_distribute", period=distribute_period(brief.id))
        assert run.state == "withdrawn" and "会议取消" in run.error
    assert execute_run(ctx=ctx, job="brief_distribute", period=distribute_period(brief.id)) is None

    outbox = _outbox(engine)
    assert not [m for m in outbox if (m.dedupe_key or "").startswith(f"brief:{banner_plan_id}:{day}")]
    notices = [m for m in outbox if (m.dedupe_key or "").startswith("briefwithdrawn:")]
    assert notices and {m.text for m in notices} == {NOTICE.format(day=cn_date(day))}
    assert len({m.chat_id for m in notices}) == len(notices)  # one line per office chat


def test_a_new_meeting_on_the_day_of_a_cancelled_one_gets_its_brief_and_its_own_cancel_notice(
    engine, banner_plan_id, settings_env
):
    """The day's brief was drafted and the meeting called off; the convener calls another ad-hoc
    meeting on that day: it is scheduled (not refused because the day's brief run is done), the
    withdrawn brief is drafted again for it, and when that one is called off too the office is told
    again that the brief was not sent (the first notice does not stand for the second)."""
    from oversight.dates import cn_date

    seed, meeting_id, day, now = _called(engine, banner_plan_id)
    ctx = RunContext(engine=engine, worker_id="w1", clock=lambda: now)
    assert execute_run(ctx=ctx, job="brief", period=str(day)).state == "done"
    _cancel(engine, meeting_id, seed.members["convener"].id, now)
    first = [m for m in _outbox(engine) if (m.dedupe_key or "").startswith("briefwithdrawn:")]
    assert first and {m.text for m in first} == {NOTICE.format(day=cn_date(day))}

    later = now + timedelta(hours=1)
    with Session(engine, expire_on_commit=False) as s:
        from models import Member

        second = C.schedule_meeting(
            session=s,
            actor=s.get(Member, seed.members["convener"].id),
            kind="adhoc",
            starts_at=datetime.combine(local_day(now) + timedelta(days=2), time(10), tzinfo=local_zone()),
            topic="草原占用",
            now=later,
        )
        s.commit()
        assert second.held_on == day
        assert runs.get_run(session=s, job="brief", period=str(day)).state == "pending"
    assert (
        execute_run(
            ctx=RunContext(engine=engine, worker_id="w1", clock=lambda: later), job="brief", period=str(day)
        ).state
        == "done"
    )
    with Session(engine) as s:
        brief = s.exec(select(Brief).where(Brief.period == str(day))).one()
        assert brief.state == "draft" and brief.revision == 1
    drafts = [m for m in _outbox(engine) if (m.dedupe_key or "").startswith(f"briefdraft:{brief.id}:r1:")]
    assert drafts and {m.state for m in drafts} == {"pending"}

    _cancel(engine, second.id, seed.members["convener"].id, later)
    notices = [m for m in _outbox(engine) if (m.dedupe_key or "").startswith("briefwithdrawn:")]
    again = [m for m in notices if m.id not in {f.id for f in first}]
    assert again and {m.chat_id for m in again} == {m.chat_id for m in first}
    assert {m.state for m in _outbox(engine) if m.id in {d.id for d in drafts}} == {"dead"}
