"""Another connection holds the database's write lock for 40 s while a contact sends a
report, the worker renews its lease and an admin runs a CLI command. Afterwards: the worker
is still running (it stood by and took the lease back), the report is stored once the lock
is gone and answered, and the CLI said in Chinese that the database was busy (exit 2)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from models import Report, Role, make_engine, read_only, session_scope
from models.db import sqlite_file
from oversight.ledger import write_template
from tests.harness import running_bot
from tests.test_cli_busy import write_lock_held

ROOT = Path(__file__).resolve().parent.parent
HOLD_SECONDS = 40.0


async def test_a_40_second_write_lock_loses_nothing_and_stops_no_one(settings_env, db_url, banner_plan_id, tmp_path):
    if sqlite_file(db_url) is None:
        pytest.skip("SQLite's database-wide write lock")
    engine = make_engine(db_url, busy_timeout_ms=1000)  # the bot's engine: short waits, then again
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "CLI_BUSY_WAIT_SECONDS": "3"}
    with session_scope(engine) as s:
        template = write_template(tmp_path / "台账.xlsx", session=s, plan_id=banner_plan_id)
    worker_log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "lianxi", "worker", "--poll", "0.2", "--lease", "6"],
        cwd=tmp_path,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        async with running_bot(engine, banner_plan_id) as h:
            user = await h.join(5701, "应急联络员", "应急管理局", Role.CONTACT)
            deadline = time.monotonic() + 60
            while " active: " not in (tmp_path / "worker.log").read_text():
                assert worker.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
                await asyncio.sleep(0.1)
            with write_lock_held(engine):
                held = time.monotonic()
                await user.send("/report 尾矿库排洪设施隐患整改已完成现场复核")
                cli = await asyncio.to_thread(
                    subprocess.run,
                    [sys.executable, "-m", "lianxi", "ledger", "import", str(template)],
                    cwd=tmp_path,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                await asyncio.sleep(max(0.0, HOLD_SECONDS - (time.monotonic() - held)))
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                with session_scope(read_only(engine)) as s:  # reading is never blocked
                    assert s.exec(select(Report)).all() == []
            answer = await h.server.wait_for(user.id, "已报送", timeout=30)
            with session_scope(engine) as s:
                reports = s.exec(select(Report)).all()
            assert [r.text for r in reports] == ["尾矿库排洪设施隐患整改已完成现场复核"]
            assert f"{reports[0].id}号进展报送" in answer["text"]
            texts = [m["text"] for m in h.server.messages(user.id)]
            assert not any("处理时出现错误" in t for t in texts), texts
        deadline = time.monotonic() + 30
        while " active: " not in (tmp_path / "worker.log").read_text().split("stepping down", 1)[-1]:
            assert worker.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            await asyncio.sleep(0.2)
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        worker_log.close()
        engine.dispose()
    log = (tmp_path / "worker.log").read_text()
    assert "could not renew the lease, database busy or unavailable (database is locked)" in log
    assert "Traceback" not in log
    assert cli.returncode == 2, cli.stdout + cli.stderr
    assert "数据库正忙" in cli.stderr + cli.stdout and "Traceback" not in cli.stderr


async def test_a_report_that_meets_a_busy_database_is_kept_and_applied_when_it_frees(
    settings_env, db_url, banner_plan_id, monkeypatch
):
    """The update is in the inbox; then another connection takes the write lock before the
    bot applies it. The contact is told once that the message is kept (no 处理时出现错误),
    and the report is stored and answered once the lock is gone."""
    import sqlite3
    import threading

    from models import inbox

    path = sqlite_file(db_url)
    if path is None:
        pytest.skip("SQLite's database-wide write lock")
    engine = make_engine(db_url, busy_timeout_ms=300)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    real_store = inbox.store
    armed = {"on": False}

    def store_then_lock(eng, rows):
        real_store(eng, rows)
        if armed["on"] and rows:
            armed["on"] = False
            holder.execute("BEGIN IMMEDIATE")  # right after the store, before the bot applies it
            threading.Timer(3.0, lambda: holder.execute("ROLLBACK")).start()

    monkeypatch.setattr(inbox, "store", store_then_lock)
    try:
        async with running_bot(engine, banner_plan_id) as h:
            user = await h.join(5801, "林草联络员", "林草局", Role.CONTACT)
            mark = h.server.mark()
            armed["on"] = True
            await user.send("/report 森林防火通道巡查已完成")
            busy = await h.server.wait_for(user.id, "系统繁忙", timeout=10, after=mark)
            assert "无需重复发送" in busy["text"]
            answer = await h.server.wait_for(user.id, "已报送", timeout=30, after=mark)
            with session_scope(engine) as s:
                reports = s.exec(select(Report)).all()
            assert [r.text for r in reports] == ["森林防火通道巡查已完成"]
            assert f"{reports[0].id}号进展报送" in answer["text"]
            said = [m["text"] for m in h.server.messages(user.id)]
            assert sum("系统繁忙" in t for t in said) == 1 and not any("处理时出现错误" in t for t in said), said
    finally:
        holder.close()
        engine.dispose()
