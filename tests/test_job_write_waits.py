"""The worker's document jobs keep SQLite's write lock for milliseconds, not for their renders:
the notice draft, its preview and its publication and the half-yearly review run as the worker
runs them (jobs.registry.execute_run, in a process of its own, warmed up) while a write like the
bot's (BEGIN IMMEDIATE, one row, COMMIT) is made again and again from another connection. Each
write transaction of the job holds the lock under 200 ms, and the bot's writes never wait as
long as a render (the lock is timed in the job's process: on a loaded machine the bot's own
wall-clock waits also count the time it was not scheduled)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import col, select

from models import AuditLog, Notice, ScheduledRun, session_scope
from oversight.notices import approve_notice, request_preview
from tests.test_accountability import AFTER_Q1
from tests.test_notices import cast  # noqa: F401 (fixture)
from tests.test_review import AFTER_H1

LIMIT = 0.2
ROOT = Path(__file__).resolve().parent.parent


# The job as the worker runs it, in a process of its own (as the worker is): the bot's write is
# timed against the job's hold on the database, not against the job's share of this process.
JOB = """
import sys, time
from datetime import datetime
from sqlalchemy import event
from jobs.registry import RunContext, execute_run
from models import Plan, ScheduledRun, make_engine, session_scope
from sqlmodel import select
engine = make_engine(sys.argv[1])
with session_scope(engine) as s:  # a worker that has run before: its ORM set up
    s.exec(select(ScheduledRun)).all(), s.exec(select(Plan)).all()
held, began = [], {}
@event.listens_for(engine, "begin")
def _begin(conn):
    if not conn.get_execution_options().get("lianxi_read_only"):
        began[id(conn)] = time.monotonic()
@event.listens_for(engine, "commit")
def _commit(conn):
    if id(conn) in began:
        held.append(time.monotonic() - began.pop(id(conn)))
now = datetime.fromisoformat(sys.argv[4])
done = execute_run(ctx=RunContext(engine=engine, worker_id="test-worker", clock=lambda: now), job=sys.argv[2], period=sys.argv[3])
print("RUN", done.state if done else None)
print("HELD", max(held), len(held))
"""


def _writes_during(engine, url: str, job: str, period: str, now) -> tuple[str, list[float]]:
    """Run the job in a worker-like process; meanwhile write one row at a time, each timed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", JOB, url, job, period, now.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    waits: list[float] = []
    while proc.poll() is None:
        started = time.monotonic()
        with session_scope(engine) as s:
            s.add(AuditLog(actor="test:bot", action="test.write", detail={}))
        waits.append(time.monotonic() - started)
        time.sleep(0.01)
    return proc.communicate()[0], waits


def test_the_bot_writes_while_notice_jobs_render(settings_env, engine, cast):  # noqa: F811
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one write lock; PostgreSQL locks rows")
    url = str(engine.url.render_as_string(hide_password=False))
    seen: dict[str, list[float]] = {}

    def run(job: str, period: str, now=AFTER_Q1) -> None:
        started = time.monotonic()
        out, waits = _writes_during(engine, url, job, period, now)
        assert "RUN done" in out, (job, out[-3000:])
        held = float(out.split("HELD ")[1].split()[0])
        seen[job] = [time.monotonic() - started, held, *waits]

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
    # The half-yearly review: its records in a short write, its PDF rendered after it.
    run("review", "2026H1", AFTER_H1)

    for job, (took, held, *waits) in seen.items():
        # Each job renders a PDF (a second or more), so the bot wrote many times meanwhile.
        assert len(waits) >= 3, (job, took, waits)
        # The job's longest write transaction (the lock the bot's write can meet) ...
        assert held < LIMIT, f"{job} ({took:.2f} s) held the write lock {held * 1000:.0f} ms"
        # ... and the bot's longest wait: well under a render even on a loaded machine (it was
        # the render's whole time, 1.5 s, when the PDFs were made in the write).
        assert max(waits) < 5 * LIMIT, f"{job} ({took:.2f} s): the bot's write waited {max(waits) * 1000:.0f} ms"
    print(
        {
            job: f"{took:.2f} s, job's longest write {held * 1000:.0f} ms, {len(w)} bot writes, max {max(w) * 1000:.0f} ms"
            for job, (took, held, *w) in seen.items()
        }
    )
    # What the jobs did: published, the review issued (its mark consumed with its run).
    with session_scope(engine) as s:
        assert s.get(Notice, nid).state == "published"
        issued = s.exec(select(AuditLog).where(AuditLog.action == "review.issued")).all()
        assert len(issued) == 1 and issued[0].detail["run_period"] == "2026H1"
        assert s.exec(select(AuditLog.id).where(col(AuditLog.action) == "test.write")).first() is not None
