"""An ad-hoc meeting moved to another day after its brief was asked for: a brief made for the old
day never goes out as the new day's. Whenever the move comes — before the worker starts the brief,
while it builds it, after the office has the draft, after the convener signed it, or when the
meeting moves twice or comes back to its first day — the old day's brief is withdrawn (its run,
its record, its messages still waiting), the office is told in one line once it had something of
it, and the worker builds the new day's brief from the record as it then stands, numbered as the
issue the withdrawn one never became. Driven through execute_run on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

import jobs.brief
from jobs.registry import RunContext, execute_run
from models import AuditLog, Brief, Meeting, Member, OutboxMessage, row_id, utcnow
from oversight import briefs as B
from oversight import convening as C
from oversight import runs
from oversight.briefdata import parse_period
from oversight.dates import cn_date, cn_datetime, local_day, local_zone
from oversight.errors import InvalidStateError
from tests.seed_quarter import seed_quarter

TITLE = "临时加开联席会议（征地矛盾）"
MOVED = "{title}已由{old}改至{new}召开，为原定会议编制的《{name}》已撤回，不再审核、签发；将按改期后的会议重新编制简报送审。"
OFFICE_CHATS = {9101, 9102}  # 办公室李, 办公室张 (办公室 已调离 is inactive)


def _called(engine, plan_id: int):
    """The convener calls an ad-hoc meeting for the day after tomorrow at 09:00 (Beijing time, so that a
    second meeting two hours later falls on the same day at any hour the suite runs); the worker is
    asked for its brief."""
    now = utcnow()
    starts = datetime.combine(local_day(now) + timedelta(days=2), time(9), tzinfo=local_zone())
    with Session(engine, expire_on_commit=False) as s:
        seed = seed_quarter(session=s, plan_id=plan_id)
        s.commit()
        m = C.schedule_meeting(
            session=s,
            actor=seed.members["convener"],
            kind="adhoc",
            starts_at=starts,
            topic="征地矛盾",
            now=now,
        )
        s.commit()
        assert m.title == TITLE
        return seed, m.id, m.starts_at, now


def _move(engine, seed, meeting_id: int, starts_at: datetime, now: datetime) -> str:
    """The convener moves the meeting (the bot's session, committed); the new day's period key."""
    with Session(engine, expire_on_commit=False) as s:
        m = C.reschedule(
            session=s,
            meeting_id=meeting_id,
            actor=s.get(Member, seed.members["convener"].id),
            starts_at=starts_at,
            now=now,
        )
        s.commit()
        return m.period


def _run(engine, job: str, period: str, now: datetime):
    return execute_run(ctx=RunContext(engine=engine, worker_id="w1", clock=lambda: now), job=job, period=period)


def _outbox(engine) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def _keyed(engine, prefix: str) -> list[OutboxMessage]:
    return [m for m in _outbox(engine) if (m.dedupe_key or "").startswith(prefix)]


def _brief(engine, period: str) -> Brief | None:
    with Session(engine) as s:
        return s.exec(select(Brief).where(Brief.period == period)).first()


def _drafts_of(engine, brief: Brief) -> list[OutboxMessage]:
    """The office's preview messages of `brief` at its current revision (one PDF and one text a chat)."""
    return _keyed(engine, f"briefdraft:{brief.id}:r{brief.revision}:")


def test_moved_before_the_worker_starts_builds_only_the_new_days_brief(engine, banner_plan_id, settings_env):
    seed, mid, starts, now = _called(engine, banner_plan_id)
    old = str(local_day(starts))
    new = _move(engine, seed, mid, starts + timedelta(days=1), now)

    assert new != old and _run(engine, "brief", old, now) is None  # withdrawn: nothing to run
    done = _run(engine, "brief", new, now)
    assert done is not None and done.state == "done"
    assert _brief(engine, old) is None
    brief = _brief(engine, new)
    assert brief is not None and brief.kind == "adhoc" and brief.state == "draft"
    # The new day's brief: its period is the meeting's new day, it reads the record as of its making.
    assert parse_period(brief.period).last_day == local_day(starts + timedelta(days=1))
    assert brief.data["period"]["key"] == new and brief.data["period"]["ended"] is False
    assert datetime.fromisoformat(brief.data["compiled_at"]) == now
    last = brief.data["decisions"]["meeting"]
    assert last is None or last["id"] != mid  # 上次会议 is never the meeting the brief is for
    assert {m.chat_id for m in _drafts_of(engine, brief)} == OFFICE_CHATS
    # Nothing had been built for the old day: the office has no line about it.
    assert not _keyed(engine, "briefmoved:") and not _keyed(engine, "briefwithdrawn:")


def test_moved_while_the_brief_is_built_records_nothing_of_the_old_day(
    engine, banner_plan_id, settings_env, monkeypatch
):
    seed, mid, starts, now = _called(engine, banner_plan_id)
    old = str(local_day(starts))
    real_build = jobs.brief.build_brief
    built: list[Path] = []
    moved: list[str] = []

    def build_then_moved(**kw):
        result = real_build(**kw)
        if not moved:  # the first build is the old day's: the convener moves the meeting meanwhile
            built.extend([Path(result.pdf_path), Path(result.xlsx_path)])
            moved.append(_move(engine, seed, mid, starts + timedelta(days=1), now))
        return result

    monkeypatch.setattr(jobs.brief, "build_brief", build_then_moved)
    done = _run(engine, "brief", old, now)

    assert built and moved
    assert done is not None and done.state == "withdrawn" and "会议改期" in done.error
    assert _brief(engine, old) is None and not any(p.exists() for p in built)
    # Nothing of the old day reached anyone, so the office is told nothing about it; its brief comes.
    assert not _keyed(engine, "briefdraft:") and not _keyed(engine, "briefmoved:")
    assert _run(engine, "brief", moved[0], now).state == "done"
    brief = _brief(engine, moved[0])
    assert brief is not None and {m.chat_id for m in _drafts_of(engine, brief)} == OFFICE_CHATS


def test_moved_twice_while_the_brief_is_built(engine, banner_plan_id, settings_env, monkeypatch):
    """Moved while the first day's brief is built, and again before the second day's is begun: only
    the third day's brief is made."""
    seed, mid, starts, now = _called(engine, banner_plan_id)
    first = str(local_day(starts))
    real_build = jobs.brief.build_brief
    days: list[str] = []

    def build_then_moved_twice(**kw):
        result = real_build(**kw)
        if not days:
            days.append(_move(engine, seed, mid, starts + timedelta(days=1), now))
            days.append(_move(engine, seed, mid, starts + timedelta(days=3), now))
        return result

    monkeypatch.setattr(jobs.brief, "build_brief", build_then_moved_twice)
    assert _run(engine, "brief", first, now).state == "withdrawn"
    second, third = days
    assert _run(engine, "brief", second, now) is None
    with Session(engine) as s:
        assert runs.get_run(session=s, job="brief", period=second).state == "withdrawn"
    assert _run(engine, "brief", third, now).state == "done"
    with Session(engine) as s:
        made = s.exec(select(Brief)).all()
        assert [b.period for b in made] == [third]
        assert s.get(Meeting, mid).period == third
    assert not _keyed(engine, "briefmoved:")


def test_moved_after_the_draft_withdraws_it_and_the_new_day_has_its_issue(engine, banner_plan_id, settings_env):
    seed, mid, starts, now = _called(engine, banner_plan_id)
    old = str(local_day(starts))
    assert _run(engine, "brief", old, now).state == "done"
    draft = _brief(engine, old)
    assert draft is not None and draft.state == "draft"
    # One office chat has the draft already; the other's is still waiting in the outbox.
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("briefdraft:"))).all()
        delivered = {r.id for r in rows if r.chat_id == 9101}
        for r in rows:
            if r.id in delivered:
                r.state = "sent"
                s.add(r)
        # A reminder of the waiting draft is queued as well (remind_waiting, the day after).
        assert B.remind_waiting(session=s, now=now + timedelta(days=4)) >= 1
        s.commit()

    later = now + timedelta(hours=1)
    new_starts = starts + timedelta(days=1)
    new = _move(engine, seed, mid, new_starts, later)

    with Session(engine) as s:
        withdrawn = s.get(Brief, draft.id)
        assert withdrawn.state == "withdrawn"
        audit = s.exec(select(AuditLog).where(AuditLog.action == "brief.withdrawn")).one()
        assert audit.detail == {"from": "draft", "reason": "会议改期", "revision": 0}
        assert B.waiting_briefs(session=s, member=seed.members["office_a"]) == []
    drafts = _keyed(engine, f"briefdraft:{draft.id}:")
    assert {m.state for m in drafts if m.id in delivered} == {"sent"}  # delivered stays delivered
    assert {m.state for m in drafts if m.id not in delivered} == {"dead"}  # the waiting one is never sent
    assert {m.state for m in _keyed(engine, f"briefremind:{draft.id}:")} == {"dead"}
    # The office, both chats, one line: which meeting moved, from when to when, which brief is withdrawn.
    told = _keyed(engine, "briefmoved:")
    line = MOVED.format(title=TITLE, old=cn_datetime(starts), new=cn_datetime(new_starts), name=B.brief_name(draft))
    assert sorted(m.chat_id for m in told) == sorted(OFFICE_CHATS) and {m.text for m in told} == {line}

    # The copy the office holds is refused, with the reason.
    with Session(engine) as s, pytest.raises(InvalidStateError, match="会议已改期，简报已撤回"):
        B.office_approve(session=s, brief_id=draft.id, actor=seed.members["office_a"], revision=0, now=later)

    # The new day's brief: built as of its own moment, numbered as the issue the withdrawn one never was.
    assert _run(engine, "brief", new, later).state == "done"
    fresh = _brief(engine, new)
    assert fresh is not None and fresh.id != draft.id and fresh.state == "draft"
    assert fresh.issue_no == draft.issue_no
    assert datetime.fromisoformat(fresh.data["compiled_at"]) == later
    assert {m.chat_id for m in _drafts_of(engine, fresh)} == OFFICE_CHATS
    with Session(engine) as s:
        assert [b.id for b in B.waiting_briefs(session=s, member=seed.members["office_a"])] == [fresh.id]
        approved = B.office_approve(
            session=s, brief_id=fresh.id, actor=seed.members["office_a"], revision=fresh.revision, now=later
        )
        assert approved.state in ("office_approved", "signed")


def _signed(engine, seed, period: str, now: datetime) -> Brief:
    assert _run(engine, "brief", period, now).state == "done"
    with Session(engine, expire_on_commit=False) as s:
        brief = s.exec(select(Brief).where(Brief.period == period)).one()
        B.office_approve(session=s, brief_id=brief.id, actor=seed.members["office_a"], now=now)
        if brief.state != "signed":
            B.sign_brief(session=s, brief_id=brief.id, actor=seed.members["convener"], now=now)
        s.commit()
        assert brief.state == "signed"
        return brief


def test_moved_after_signing_the_brief_is_not_distributed(engine, banner_plan_id, settings_env):
    seed, mid, starts, now = _called(engine, banner_plan_id)
    old = str(local_day(starts))
    brief = _signed(engine, seed, old, now)
    new = _move(engine, seed, mid, starts + timedelta(days=1), now)

    with Session(engine) as s:
        assert s.get(Brief, brief.id).state == "withdrawn"
        run = runs.get_run(session=s, job=B.DISTRIBUTE_JOB, period=B.distribute_period(brief.id))
        assert run.state == "withdrawn" and "会议改期" in run.error
        audit = s.exec(select(AuditLog).where(AuditLog.action == "brief.withdrawn")).one()
        assert audit.detail["from"] == "signed"
    assert _run(engine, B.DISTRIBUTE_JOB, B.distribute_period(brief.id), now) is None
    assert not _keyed(engine, f"brief:{banner_plan_id}:{old}")  # not to 报/送/发, not to the group
    assert {m.state for m in _keyed(engine, f"briefsign:{brief.id}:")} <= {"dead"}
    told = _keyed(engine, "briefmoved:")
    assert {m.chat_id for m in told} == OFFICE_CHATS and len(told) == len(OFFICE_CHATS)
    assert all("已撤回，不再审核、签发" in m.text for m in told)
    with Session(engine) as s, pytest.raises(InvalidStateError, match="会议已改期"):
        B.sign_brief(session=s, brief_id=brief.id, actor=seed.members["convener"], now=now)
    assert _run(engine, "brief", new, now).state == "done"
    assert _brief(engine, new).issue_no == brief.issue_no


def test_moved_while_the_signed_brief_is_distributed_sends_nothing(engine, banner_plan_id, settings_env, monkeypatch):
    """The worker has begun the distribution when the meeting moves: it finds the brief withdrawn,
    queues nothing, and its run is withdrawn, not done."""
    seed, mid, starts, now = _called(engine, banner_plan_id)
    brief = _signed(engine, seed, str(local_day(starts)), now)
    real = jobs.brief.brief_to_distribute

    def moved_first(**kw):
        _move(engine, seed, mid, starts + timedelta(days=1), now)
        return real(**kw)

    monkeypatch.setattr(jobs.brief, "brief_to_distribute", moved_first)
    done = _run(engine, B.DISTRIBUTE_JOB, B.distribute_period(brief.id), now)
    assert done is not None and done.state == "withdrawn"
    assert not _keyed(engine, f"brief:{banner_plan_id}:")
    with Session(engine) as s:
        assert s.get(Brief, brief.id).state == "withdrawn" and s.get(Brief, brief.id).distributed_at is None


def test_moved_after_distribution_stops_what_is_still_waiting(engine, banner_plan_id, settings_env):
    seed, mid, starts, now = _called(engine, banner_plan_id)
    old = str(local_day(starts))
    brief = _signed(engine, seed, old, now)
    assert _run(engine, B.DISTRIBUTE_JOB, B.distribute_period(brief.id), now).state == "done"
    queued = _keyed(engine, f"brief:{banner_plan_id}:{old}")
    assert len(queued) >= 2
    with Session(engine) as s:
        first = s.get(OutboxMessage, queued[0].id)
        first.state = "sent"
        s.add(first)
        s.commit()
    new_starts = starts + timedelta(days=1)
    new = _move(engine, seed, mid, new_starts, now)

    states = {m.id: m.state for m in _keyed(engine, f"brief:{banner_plan_id}:{old}")}
    assert states.pop(queued[0].id) == "sent" and set(states.values()) == {"dead"}
    with Session(engine) as s:
        assert s.get(Brief, brief.id).state == "distributed"  # what went out is history
    told = _keyed(engine, "briefmoved:")
    assert {m.chat_id for m in told} == OFFICE_CHATS
    assert {m.text for m in told} == {
        f"{TITLE}已由{cn_datetime(starts)}改至{cn_datetime(new_starts)}召开，为原定会议编制的《{B.brief_name(brief)}》"
        "已发出的不再收回，尚未发出的已停发；将按改期后的会议另编一期简报送审。"
    }
    assert _run(engine, "brief", new, now).state == "done"
    assert _brief(engine, new).issue_no == brief.issue_no + 1  # a new issue: the first was issued


def test_moved_away_and_back_redrafts_the_first_days_brief(engine, banner_plan_id, settings_env):
    """Drafted for day A and approved by the office, moved to B (B drafted), moved back to A the next
    day: B's draft is withdrawn and A's is built again from the record as it stands then — a meeting
    held meanwhile is its 上次会议 — as a new draft and revision, so no button of the first copies
    applies, and the office is reminded of it as waiting since it was built again."""
    seed, mid, starts, now = _called(engine, banner_plan_id)
    day_a = str(local_day(starts))
    assert _run(engine, "brief", day_a, now).state == "done"
    first = _brief(engine, day_a)
    with Session(engine) as s:  # the office approved it: it waits for the convener's signature
        B.office_approve(session=s, brief_id=first.id, actor=seed.members["office_a"], revision=0, now=now)
        s.commit()
    day_b = _move(engine, seed, mid, starts + timedelta(days=1), now)
    assert _run(engine, "brief", day_b, now).state == "done"
    draft_b = _brief(engine, day_b)
    assert draft_b.issue_no == first.issue_no

    # Meanwhile a quarterly meeting is held.
    later = now + timedelta(days=1)
    with Session(engine) as s:
        held = Meeting(
            plan_id=banner_plan_id,
            kind="quarterly",
            period=f"{local_day(now).year}Q{(local_day(now).month - 1) // 3 + 1}",
            held_on=local_day(now),
            title="季度联席会议（改期期间召开）",
            state="held",
            starts_at=now + timedelta(hours=1),
            held_at=now + timedelta(hours=2),
            created_at=now,
        )
        s.add(held)
        s.commit()
        held_id = held.id
    assert (first.data["decisions"]["meeting"] or {}).get("id") != held_id

    first_word = Path(first.pdf_path).with_suffix(".docx").stat().st_mtime_ns
    back = _move(engine, seed, mid, starts, later)  # back to day A, its run done long since
    assert back == day_a
    with Session(engine) as s:
        assert s.get(Brief, draft_b.id).state == "withdrawn"
        assert s.get(Brief, first.id).state == "withdrawn"
        assert runs.get_run(session=s, job="brief", period=day_a).state == "pending"
    told_b = _keyed(engine, f"briefmoved:{draft_b.id}:")
    assert {m.chat_id for m in told_b} == OFFICE_CHATS

    assert _run(engine, "brief", day_a, later).state == "done"
    again = _brief(engine, day_a)
    assert again.id == first.id and again.state == "draft" and again.revision == first.revision + 1
    assert again.issue_no == first.issue_no
    assert datetime.fromisoformat(again.data["compiled_at"]) == later
    assert again.data["decisions"]["meeting"]["id"] == held_id  # 上次会议 as the record now stands
    assert {m.chat_id for m in _drafts_of(engine, again)} == OFFICE_CHATS
    word = Path(again.pdf_path).with_suffix(".docx")
    assert word.exists() and word.stat().st_mtime_ns != first_word  # written again, not the withdrawn one's
    with Session(engine) as s:
        with pytest.raises(InvalidStateError, match="更新的版本"):
            B.office_approve(session=s, brief_id=first.id, actor=seed.members["office_a"], revision=0, now=later)
        assert [b.id for b in B.waiting_briefs(session=s, member=seed.members["office_a"])] == [first.id]
        redrafted = s.exec(select(AuditLog).where(AuditLog.action == "brief.redrafted")).one()
        assert redrafted.object_id == str(first.id)
        # Waiting with the office since it was built again, not since the withdrawn one's approval.
        assert B.remind_waiting(session=s, now=later + timedelta(days=10)) == len(OFFICE_CHATS)
        s.commit()
    reminders = _keyed(engine, f"briefremind:{first.id}:draft:")
    assert {m.chat_id for m in reminders} == OFFICE_CHATS
    assert {m.text for m in reminders} == {
        f"提醒：《{B.brief_name(again)}》送审稿自{cn_date(later)}起待办公室审核，尚未分发。"
    }
    assert cn_date(local_day(starts)) in parse_period(again.period).label


def test_moved_after_the_worker_queued_the_draft_before_its_run_ended(
    engine, banner_plan_id, settings_env, monkeypatch
):
    """The worker has recorded the old day's brief and queued the office's draft, and is writing its
    Word copy, when the meeting moves: the draft waiting in the outbox is taken back, the brief is
    withdrawn, the office is told in one line, and the run ends withdrawn, not done."""
    seed, mid, starts, now = _called(engine, banner_plan_id)
    old = str(local_day(starts))
    real_word = jobs.brief.ensure_word_copy
    moved: list[str] = []

    def queued_then_moved(brief):
        if not moved:
            with Session(engine) as s:
                assert runs.get_run(session=s, job="brief", period=old).state == "working"
            moved.append(_move(engine, seed, mid, starts + timedelta(days=1), now))
        return real_word(brief)

    monkeypatch.setattr(jobs.brief, "ensure_word_copy", queued_then_moved)
    done = _run(engine, "brief", old, now)

    assert done is not None and done.state == "withdrawn"
    withdrawn = _brief(engine, old)
    assert withdrawn is not None and withdrawn.state == "withdrawn"
    drafts = _keyed(engine, f"briefdraft:{withdrawn.id}:")
    assert drafts and {m.state for m in drafts} == {"dead"}
    told = _keyed(engine, "briefmoved:")
    assert {m.chat_id for m in told} == OFFICE_CHATS and len(told) == len(OFFICE_CHATS)
    assert _run(engine, "brief", moved[0], now).state == "done"
    fresh = _brief(engine, moved[0])
    assert fresh.issue_no == withdrawn.issue_no and {m.chat_id for m in _drafts_of(engine, fresh)} == OFFICE_CHATS


def test_moved_back_to_a_day_whose_brief_went_out_tells_the_office_that_one_stands(
    engine, banner_plan_id, settings_env
):
    """Distributed for day A, moved to B (B drafted as 第2期), moved back to A: B's draft is withdrawn,
    and since A's brief went out already (one brief a plan and day) nothing new is made for A; the
    office is told that A's 第1期 stands, not that a brief for the new day follows."""
    seed, mid, starts, now = _called(engine, banner_plan_id)
    day_a = str(local_day(starts))
    out = _signed(engine, seed, day_a, now)
    assert _run(engine, B.DISTRIBUTE_JOB, B.distribute_period(out.id), now).state == "done"
    day_b = _move(engine, seed, mid, starts + timedelta(days=1), now)
    assert _run(engine, "brief", day_b, now).state == "done"
    draft_b = _brief(engine, day_b)
    assert draft_b.issue_no == out.issue_no + 1

    assert _move(engine, seed, mid, starts, now) == day_a
    with Session(engine) as s:
        assert s.get(Brief, draft_b.id).state == "withdrawn"
        assert s.get(Brief, out.id).state == "distributed"
        assert runs.get_run(session=s, job="brief", period=day_a).state == "done"  # not asked again
    told = _keyed(engine, f"briefmoved:{draft_b.id}:")
    assert {m.chat_id for m in told} == OFFICE_CHATS
    assert {m.text for m in told} == {
        f"{TITLE}已由{cn_datetime(starts + timedelta(days=1))}改至{cn_datetime(starts)}召开，为原定会议编制的"
        f"《{B.brief_name(draft_b)}》已撤回，不再审核、签发；{cn_date(local_day(starts))}已有《{B.brief_name(out)}》"
        "（已签发并分发），不再另编。"
    }
    assert _run(engine, "brief", day_a, now) is None
    with Session(engine) as s:
        assert [b.id for b in s.exec(select(Brief).where(Brief.period == day_a)).all()] == [out.id]


def test_another_meeting_on_a_day_its_first_meeting_left_gets_the_days_brief(engine, banner_plan_id, settings_env):
    """The day's brief was drafted, the meeting moved away, and the convener calls another ad-hoc
    meeting on that day: it is scheduled (not refused because the day's brief run is done) and the
    day's withdrawn brief is drafted again for it."""
    seed, mid, starts, now = _called(engine, banner_plan_id)
    day_a = str(local_day(starts))
    assert _run(engine, "brief", day_a, now).state == "done"
    first = _brief(engine, day_a)
    _move(engine, seed, mid, starts + timedelta(days=1), now)
    later = now + timedelta(hours=1)
    with Session(engine, expire_on_commit=False) as s:
        other = C.schedule_meeting(
            session=s,
            actor=s.get(Member, seed.members["convener"].id),
            kind="adhoc",
            starts_at=starts + timedelta(hours=2),
            topic="草原占用",
            now=later,
        )
        s.commit()
        assert other.period == day_a
        assert runs.get_run(session=s, job="brief", period=day_a).state == "pending"
    assert _run(engine, "brief", day_a, later).state == "done"
    again = _brief(engine, day_a)
    assert again.id == first.id and again.state == "draft" and again.revision == first.revision + 1
    assert datetime.fromisoformat(again.data["compiled_at"]) == later
    assert {m.chat_id for m in _drafts_of(engine, again)} == OFFICE_CHATS


def test_a_days_brief_is_made_only_for_the_plans_meeting_that_day(engine, banner_plan_id, settings_env):
    """Two plans in one deployment, the banner's and the region's. The region has an ad-hoc meeting on
    day A too; the banner's moves from A to B before the worker starts: A's run stays for the region
    and makes the region's brief only, B's makes the banner's only. A day no plan meets on (a brief
    asked for by hand) is every plan's."""
    from tests.conftest import REGION_PLAN, load_bundled_plan

    region = load_bundled_plan(engine, REGION_PLAN)
    seed, mid, starts, now = _called(engine, banner_plan_id)
    day_a = str(local_day(starts))
    with Session(engine) as s:
        s.add(
            Meeting(
                plan_id=region,
                kind="adhoc",
                period=day_a,
                held_on=local_day(starts),
                title="自治区临时联席会议",
                state="scheduled",
                starts_at=starts,
                created_at=now,
            )
        )
        s.commit()
    day_b = _move(engine, seed, mid, starts + timedelta(days=1), now)

    assert _run(engine, "brief", day_a, now).state == "done"
    assert _run(engine, "brief", day_b, now).state == "done"
    with Session(engine) as s:
        made = sorted((b.period, b.plan_id) for b in s.exec(select(Brief)).all())
        assert made == sorted([(day_a, region), (day_b, banner_plan_id)])
        nobody_meets = parse_period(local_day(starts + timedelta(days=5)).isoformat())
        assert [row_id(p) for p in B.plans_to_brief(session=s, period=nobody_meets)] == sorted([banner_plan_id, region])
