"""The worker meets a database another connection keeps locked: its lease renewal fails,
it logs one line per attempt, steps down before the lease could lapse under it, and takes
the lease again once the lock is released; the process never ends of it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest

from jobs.worker import Worker
from models import make_engine, session_scope
from models.db import sqlite_file
from oversight.runs import lease_holder
from tests.test_worker import calls, wait_for  # noqa: F401 - the fixture, used by name

LEASE = 3.0


@pytest.mark.usefixtures("calls")  # every job a stub: only the lease is under test
async def test_worker_survives_a_held_write_lock_and_takes_the_lease_back(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = sqlite_file(db_url)
    if path is None:
        pytest.skip("SQLite's write lock (PostgreSQL has no database-wide lock to hold)")
    engine = make_engine(db_url, busy_timeout_ms=200)
    worker = Worker(engine=engine, worker_id="busy-worker", lease_seconds=LEASE, poll_seconds=0.05)
    task = asyncio.create_task(worker.run_forever())
    caplog.set_level(logging.INFO, logger="jobs.worker")
    try:
        await wait_for(lambda: worker.active, 10)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held by someone else
        try:
            await asyncio.sleep(2 * LEASE)
            assert not task.done(), task.exception() if task.done() else None
            assert not worker.active  # stepped down before the lease could lapse under it
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert "could not renew the lease, database busy or unavailable (database is locked)" in caplog.text
        assert "stepping down to standby" in caplog.text
        assert "Traceback" not in caplog.text
        await wait_for(lambda: worker.active, 10)  # the lease taken again once the lock is gone
        with session_scope(engine) as s:
            assert lease_holder(session=s, name="worker") == "busy-worker"
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 10)
        engine.dispose()
    assert task.exception() is None
