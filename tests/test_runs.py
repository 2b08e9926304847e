"""Runs are records: one claim per (job, period), a transition row per change, stuck runs reaped."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import RunState, RunTransition, ScheduledRun, make_engine, session_scope
from oversight.runs import (
    MAX_ATTEMPTS,
    acquire_lease,
    claim_run,
    due_runs,
    fail_run,
    finish_run,
    is_final,
    lease_holder,
    reap_stuck_runs,
    release_lease,
    renew_lease,
    run_transitions,
)

T0 = datetime(2026, 4, 8, 1, 0, tzinfo=UTC)


def states(session: Session, run_id: int) -> list[tuple[str, str]]:
    return [(t.from_state, t.to_state) for t in run_transitions(session=session, run_id=run_id)]


def test_claim_twice_gives_the_run_once(session: Session) -> None:
    first = claim_run(session=session, job="brief", period="2026Q1", worker_id="a", now=T0)
    session.commit()
    assert first is not None and first.state == RunState.WORKING and first.attempts == 1
    assert claim_run(session=session, job="brief", period="2026Q1", worker_id="b", now=T0) is None
    done = finish_run(
        session=session, run_id=first.id, worker_id="a", result={"issue": 3}, now=T0 + timedelta(minutes=1)
    )
    session.commit()
    assert done.state == RunState.DONE and done.result == {"issue": 3}
    assert claim_run(session=session, job="brief", period="2026Q1", worker_id="b", now=T0 + timedelta(days=1)) is None
    assert states(session, first.id) == [("", "pending"), ("pending", "working"), ("working", "done")]
    assert session.exec(select(ScheduledRun)).all() == [done]


def test_two_processes_racing_for_one_period_one_wins(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    results: list[int | None] = []
    lock = threading.Lock()

    def contend(engine: Engine, name: str) -> None:
        barrier.wait()
        with session_scope(engine) as s:
            run = claim_run(session=s, job="weekly_reminder", period="2026-W15", worker_id=name, now=T0)
            got = run.id if run else None
        with lock:
            results.append(got)

    threads = [threading.Thread(target=contend, args=(e, f"w{i}")) for i, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    for e in engines:
        e.dispose()
    assert len(results) == 4
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    with session_scope(make_engine(db_url)) as s:
        rows = s.exec(select(ScheduledRun)).all()
        assert len(rows) == 1 and rows[0].state == RunState.WORKING
        assert states(s, rows[0].id) == [("", "pending"), ("pending", "working")]


def test_failed_run_is_retried_after_a_pause_until_attempts_run_out(session: Session) -> None:
    run = claim_run(session=session, job="brief", period="2026Q1", worker_id="a", now=T0)
    fail_run(session=session, run_id=run.id, worker_id="a", error="简报模块尚未实现", now=T0)
    session.commit()
    assert (
        claim_run(session=session, job="brief", period="2026Q1", worker_id="a", now=T0 + timedelta(minutes=1)) is None
    )
    assert [r.id for r in due_runs(session=session, now=T0 + timedelta(minutes=6))] == [run.id]
    now = T0
    for attempt in range(2, MAX_ATTEMPTS + 1):
        now += timedelta(minutes=6)
        again = claim_run(session=session, job="brief", period="2026Q1", worker_id="a", now=now)
        assert again is not None and again.attempts == attempt
        final = fail_run(session=session, run_id=run.id, worker_id="a", error="still missing", now=now)
    session.commit()
    assert is_final(final)
    assert claim_run(session=session, job="brief", period="2026Q1", worker_id="a", now=now + timedelta(days=1)) is None
    assert due_runs(session=session, now=now + timedelta(days=1)) == []


def test_stuck_run_is_reaped_and_claimed_again(session: Session) -> None:
    run = claim_run(session=session, job="daily_digest", period="2026-04-08", worker_id="dead", now=T0)
    session.commit()
    assert reap_stuck_runs(session=session, timeout=timedelta(minutes=30), now=T0 + timedelta(minutes=29)) == []
    assert reap_stuck_runs(session=session, timeout=timedelta(minutes=30), now=T0 + timedelta(minutes=31)) == [run.id]
    session.commit()
    later = T0 + timedelta(minutes=40)
    again = claim_run(session=session, job="daily_digest", period="2026-04-08", worker_id="alive", now=later)
    session.commit()
    assert again is not None and again.worker_id == "alive" and again.attempts == 2
    # The dead worker cannot finish a run it no longer owns.
    from oversight.runs import RunLostError

    try:
        finish_run(session=session, run_id=run.id, worker_id="dead", result={}, now=later)
        raise AssertionError("a reaped worker finished a run")
    except RunLostError:
        session.rollback()
    finish_run(session=session, run_id=run.id, worker_id="alive", result={"queued": 2}, now=later)
    session.commit()
    assert states(session, run.id) == [
        ("", "pending"),
        ("pending", "working"),
        ("working", "failed"),
        ("failed", "working"),
        ("working", "done"),
    ]
    notes = [t.note for t in session.exec(select(RunTransition).where(RunTransition.run_id == run.id))]
    assert any("stuck since" in n for n in notes)


def test_lease_is_held_by_one_until_it_expires(session: Session) -> None:
    ttl = timedelta(seconds=30)
    assert acquire_lease(session=session, name="worker", holder="a", ttl=ttl, now=T0)
    session.commit()
    assert not acquire_lease(session=session, name="worker", holder="b", ttl=ttl, now=T0 + timedelta(seconds=10))
    assert renew_lease(session=session, name="worker", holder="a", ttl=ttl, now=T0 + timedelta(seconds=20))
    session.commit()
    assert not acquire_lease(session=session, name="worker", holder="b", ttl=ttl, now=T0 + timedelta(seconds=45))
    assert acquire_lease(session=session, name="worker", holder="b", ttl=ttl, now=T0 + timedelta(seconds=51))
    session.commit()
    assert not renew_lease(session=session, name="worker", holder="a", ttl=ttl, now=T0 + timedelta(seconds=52))
    assert lease_holder(session=session, name="worker", now=T0 + timedelta(seconds=52)) == "b"
    assert release_lease(session=session, name="worker", holder="b", now=T0 + timedelta(seconds=53))
    session.commit()
    assert lease_holder(session=session, name="worker", now=T0 + timedelta(seconds=53)) is None
    assert acquire_lease(session=session, name="worker", holder="a", ttl=ttl, now=T0 + timedelta(seconds=53))
