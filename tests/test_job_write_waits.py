"""The worker's document jobs keep SQLite's write lock for milliseconds, not for their renders:
while the notice draft, its preview and its publication (and the half-yearly review) run as the
worker runs them (jobs.registry.execute_run), a write like the bot's (BEGIN IMMEDIATE, one row,
COMMIT) from another connection never waits 200 ms."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlmodel import col, select

from jobs.registry import RunContext, execute_run
from models import AuditLog, Notice, ScheduledRun, session_scope
from oversight.notices import approve_notice, request_preview
from tests.test_accountability import AFTER_Q1
from tests.test_notices import cast  # noqa: F401 (fixture)

LIMIT = 0.2


def _writes_during(engine, work: Callable[[], object]) -> tuple[object, list[float]]:
    """Run `work` in a thread; meanwhile write one row at a time, each timed."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(work()))
    thread.start()
    waits: list[float] = []
    while thread.is_alive():
        started = time.monotonic()
        with session_scope(engine) as s:
            s.add(AuditLog(actor="test:bot", action="test.write", detail={}))
        waits.append(time.monotonic() - started)
        time.sleep(0.01)
    thread.join()
    return (result[0] if result else None), waits


def test_the_bot_writes_while_notice_jobs_render(settings_env, engine, cast):  # noqa: F811
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one write lock; PostgreSQL locks rows")
    ctx = RunContext(engine=engine, worker_id="test-worker", clock=lambda: AFTER_Q1)
    seen: dict[str, list[float]] = {}

    def run(job: str, period: str) -> None:
        started = time.monotonic()
        done, waits = _writes_during(engine, lambda: execute_run(ctx=ctx, job=job, period=period))
        assert isinstance(done, ScheduledRun) and done.state == "done", (job, done)
        seen[job] = [time.monotonic() - started, *waits]

    run("notice_draft", "2026Q1")
    with session_scope(engine) as s:
        notice = s.exec(select(Notice)).one()
        nid = notice.id
        request_preview(session=s, notice_id=nid, actor=cast.convener, now=AFTER_Q1)
    with session_scope(engine) as s:
        preview = s.exec(select(ScheduledRun).where(ScheduledRun.job == "notice_preview")).one().period
    run("notice_preview", preview)
    with session_scope(engine) as s:
        approve_notice(session=s, notice_id=nid, actor=cast.convener, now=AFTER_Q1)
    run("notice_publish", f"notice-{nid}")
    with session_scope(engine) as s:
        assert s.get(Notice, nid).state == "published"
        assert s.exec(select(AuditLog.id).where(col(AuditLog.action) == "test.write")).first() is not None

    for job, (took, *waits) in seen.items():
        # Each job renders a PDF (about a second), so the bot wrote many times meanwhile.
        assert len(waits) >= 3, (job, took, waits)
        assert max(waits) < LIMIT, f"{job} ({took:.2f} s): the bot's write waited {max(waits) * 1000:.0f} ms"
    print({job: f"{took:.2f} s, {len(w)} writes, max {max(w) * 1000:.0f} ms" for job, (took, *w) in seen.items()})
