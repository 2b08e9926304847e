"""The CLI meets a busy or unreachable database: it retries, and if that lasts past
CLI_BUSY_WAIT_SECONDS it says so in Chinese and exits 2, never with a traceback, nothing written.

The lock is really held by another connection (SQLite's write lock, or a PostgreSQL table lock),
for about two seconds: the wait is the point of the test, kept short by the setting.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from lianxi.cli import app
from models.db import sqlite_file
from oversight.ledger import write_template
from tests.conftest import BANNER_PLAN, table_counts
from tests.test_ledger import ROWS, _fill

runner = CliRunner()


@contextmanager
def write_lock_held(engine: Engine) -> Iterator[None]:
    """Another connection holds the lock the CLI's writes need until the block ends."""
    path = sqlite_file(engine.url)
    if path is not None:
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
        return
    with engine.connect() as conn:
        conn.execute(text('LOCK TABLE "plan" IN ACCESS EXCLUSIVE MODE'))
        try:
            yield
        finally:
            conn.rollback()


@pytest.fixture
def filled(engine: Engine, banner_plan_id: int, tmp_path: Path) -> Path:
    with Session(engine) as s:
        template = write_template(tmp_path / "t.xlsx", session=s, plan_id=banner_plan_id)
    return _fill(template, ROWS, tmp_path / "filled.xlsx")


def test_ledger_import_against_a_held_lock_retries_then_exits_2_in_chinese(
    settings_env, engine: Engine, filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.settings import get_settings

    monkeypatch.setenv("CLI_BUSY_WAIT_SECONDS", "1.5")
    get_settings.cache_clear()
    before = table_counts(engine)
    with write_lock_held(engine):
        result = runner.invoke(app, ["ledger", "import", str(filled)])
    assert result.exit_code == 2, result.output
    assert "数据库正忙" in result.output and "秒后重试" in result.output, result.output
    assert "命令未完成" in result.output and "请稍后重试" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "OperationalError" not in result.output
    assert table_counts(engine) == before


def test_a_lock_released_while_waiting_lets_the_command_through(
    settings_env, engine: Engine, filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.settings import get_settings

    monkeypatch.setenv("CLI_BUSY_WAIT_SECONDS", "8")
    get_settings.cache_clear()
    released = threading.Event()
    holding = write_lock_held(engine)
    holding.__enter__()

    def release() -> None:
        released.wait(1.0)  # hold the lock a second into the command, then let go
        holding.__exit__(None, None, None)

    releaser = threading.Thread(target=release)
    releaser.start()
    try:
        result = runner.invoke(app, ["ledger", "import", str(filled)])
    finally:
        released.set()
        releaser.join()
    assert result.exit_code == 0, result.output
    assert "已导入台账" in result.output and "共6宗（新增6宗" in result.output


def test_an_unreachable_database_is_named_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import get_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))

    # Nothing listens on port 1: every connection is refused at once.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://lianxi:secret-pw@127.0.0.1:1/lianxi")
    monkeypatch.setenv("CLI_BUSY_WAIT_SECONDS", "0.5")
    get_settings.cache_clear()
    for args in (["plan", "show"], ["unit", "list"], ["plan", "load", str(BANNER_PLAN)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "无法连接数据库" in result.output and "DATABASE_URL" in result.output, result.output
        assert "secret-pw" not in result.output and "Traceback" not in result.output
    get_settings.cache_clear()


def test_the_bot_is_not_restarted_by_a_busy_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long-running command gets the message at once; any other is run again until the wait is spent."""
    import typer

    from config.settings import get_settings
    from lianxi.common import invoke_retrying

    monkeypatch.setenv("CLI_BUSY_WAIT_SECONDS", "10")
    get_settings.cache_clear()
    calls: list[int] = []
    now = [0.0]

    def always_busy() -> None:
        calls.append(1)
        now[0] += 0.1  # each attempt takes a moment
        raise sqlite3.OperationalError("database is locked")

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(typer.Exit) as stopped:
        invoke_retrying(always_busy, retry=False, sleep=sleep, clock=lambda: now[0])
    assert calls == [1] and stopped.value.exit_code == 2
    calls.clear()
    now[0] = 0.0
    with pytest.raises(typer.Exit) as stopped:
        invoke_retrying(always_busy, sleep=sleep, clock=lambda: now[0])
    assert stopped.value.exit_code == 2 and 4 <= len(calls) <= 10 and 8 <= now[0] <= 10.5

    def broken() -> None:
        raise sqlite3.OperationalError("no such table: plan")

    with pytest.raises(sqlite3.OperationalError):  # not a busy database: not retried, not hidden
        invoke_retrying(broken, sleep=sleep, clock=lambda: now[0])
    get_settings.cache_clear()
