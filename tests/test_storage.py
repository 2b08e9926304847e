"""Storage: WAL, busy timeout and BEGIN IMMEDIATE on SQLite (two processes write it), aware
UTC times on every backend, and migrations that run from empty."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlmodel import select

from models import Plan, make_engine, session_scope, utcnow
from models.migrate import current, upgrade


def _increment(url: str, times: int) -> None:
    engine = make_engine(url)
    for _ in range(times):
        with session_scope(engine) as s:
            plan = s.exec(select(Plan).where(Plan.key == "counter")).one()
            # Read, then write later in the same transaction: the classic lost update.
            value = int(plan.short_name)
            plan.short_name = str(value + 1)
            s.add(plan)
    engine.dispose()


def test_two_processes_incrementing_lose_no_update(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as s:
        s.add(Plan(key="counter", name="计数", short_name="0", content_hash="x"))
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_increment, args=(url, 60)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with session_scope(engine) as s:
        assert s.exec(select(Plan).where(Plan.key == "counter")).one().short_name == "120"


def test_sqlite_runs_in_wal_with_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_times_are_aware_utc_and_naive_ones_are_refused(engine):
    shanghai = timezone(timedelta(hours=8))
    at = datetime(2026, 4, 8, 9, 0, tzinfo=shanghai)
    with session_scope(engine) as s:
        s.add(Plan(key="t", name="t", content_hash="x", loaded_at=at))
    with session_scope(engine) as s:
        loaded = s.exec(select(Plan).where(Plan.key == "t")).one().loaded_at
    assert loaded.tzinfo is not None and loaded.utcoffset() == timedelta(0)
    assert loaded == at
    with pytest.raises(Exception, match="naive"), session_scope(engine) as s:
        s.add(Plan(key="n", name="n", content_hash="x", loaded_at=datetime(2026, 1, 1)))
        s.flush()
    assert utcnow().tzinfo is not None


def test_migrations_reach_head(db_url):
    assert current(db_url) is not None
    upgrade(db_url)  # idempotent
    from alembic.script import ScriptDirectory

    from models.migrate import alembic_config

    assert current(db_url) == ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()


def test_migrations_build_exactly_the_models_tables_and_indexes(db_url):
    # A column or index declared in models/ but missing from migrations/ (or the reverse) would
    # differ between a migrated database and the models the code queries with.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import models  # noqa: F401  (registers every table)

    def ours(obj, name, type_, reflected, compare_to):
        # The worker's APScheduler job store keeps its own table in the same database.
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table != "apscheduler_jobs"

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": ours})
            diffs = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert diffs == []


def test_telegram_ids_beyond_32_bits_are_stored(engine, banner_plan_id):
    from models import ChatState, GroupBinding, Member, OutboxMessage, Unit

    user_id, group_id = 7_123_456_789, -1_001_234_567_890
    with session_scope(engine) as s:
        unit = s.exec(select(Unit).where(Unit.plan_id == banner_plan_id)).first()
        s.add(Member(plan_id=banner_plan_id, telegram_user_id=user_id, unit_id=unit.id, role="contact"))
        s.add(OutboxMessage(chat_id=group_id, text="通报"))
        s.add(GroupBinding(plan_id=banner_plan_id, chat_id=group_id))
        s.add(ChatState(chat_id=user_id, user_id=user_id, flow="flag"))
    with session_scope(engine) as s:
        assert s.exec(select(Member.telegram_user_id)).one() == user_id
        assert s.exec(select(OutboxMessage.chat_id)).one() == group_id
        assert s.get(GroupBinding, banner_plan_id).chat_id == group_id


def test_wal_is_checkpointed_by_its_own_thread_not_in_the_commits(db_url):
    import sqlite3
    import time as _time

    from models import ProcessedUpdate
    from models.db import WalCheckpointer

    engine = make_engine(db_url)
    checkpointer = WalCheckpointer(engine, interval=0.02, quiet=0.1).start()
    try:
        if engine.dialect.name != "sqlite":
            assert checkpointer.path is None and checkpointer._thread is None  # nothing to do elsewhere
            return
        for n in range(50):
            with session_scope(engine) as s:
                s.add(ProcessedUpdate(update_id=900_000 + n, at=utcnow()))
        with engine.connect() as conn:  # the commits no longer checkpoint...
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        deadline = _time.monotonic() + 5
        while checkpointer.checkpoints < 1 and _time.monotonic() < deadline:
            _time.sleep(0.02)
        assert checkpointer.checkpoints >= 1  # ...the thread does, once the writes are quiet
        other = sqlite3.connect(checkpointer.path)
        try:
            _busy, log_frames, done = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            other.close()
        assert log_frames == done  # every committed frame is in the database file
    finally:
        checkpointer.stop()
        engine.dispose()


def test_wal_is_checkpointed_under_constant_writes_too(tmp_path):
    import time as _time

    from models import ProcessedUpdate
    from models.db import WalCheckpointer

    url = f"sqlite:///{tmp_path / 'busy.db'}"
    upgrade(url)
    engine = make_engine(url)
    checkpointer = WalCheckpointer(engine, interval=0.02, quiet=3600, longest=0.2).start()  # never quiet
    try:
        deadline = _time.monotonic() + 5
        n = 0
        while checkpointer.checkpoints < 1 and _time.monotonic() < deadline:
            with session_scope(engine) as s:
                s.add(ProcessedUpdate(update_id=800_000 + n, at=utcnow()))
            n += 1
        assert checkpointer.checkpoints >= 1
    finally:
        checkpointer.stop()
        engine.dispose()
