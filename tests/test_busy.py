"""models.busy: which database errors are transient, and retrying them."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from models import make_engine
from models.busy import is_busy_error, is_transient_error, is_unavailable_error, retry_transient


def test_a_locked_sqlite_database_is_busy_and_a_constraint_is_not(tmp_path):
    path = tmp_path / "b.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    quick = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as raw:
        quick.execute("BEGIN IMMEDIATE")
    holder.rollback()
    error = OperationalError("BEGIN IMMEDIATE", {}, raw.value)
    assert is_busy_error(error) and is_transient_error(error)
    assert not is_unavailable_error(error)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(IntegrityError) as dup, engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert not is_transient_error(dup.value)
    wrapped = RuntimeError("job failed")
    wrapped.__cause__ = error
    assert is_busy_error(wrapped)


def test_retry_transient_retries_busy_errors_only():
    calls: list[int] = []
    waits: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise sqlite3.OperationalError("database is locked")
        return "ok"

    assert retry_transient(flaky, what="test", sleep=waits.append, delay=0.1) == "ok"
    assert len(calls) == 3 and waits == [0.1, 0.2]

    def broken() -> None:
        raise sqlite3.OperationalError("no such table: x")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        retry_transient(broken, what="test", sleep=waits.append)
    assert waits == [0.1, 0.2]

    def always_busy() -> None:
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        retry_transient(always_busy, what="test", attempts=3, sleep=waits.append, delay=1)
    assert waits[2:] == [1, 2]
