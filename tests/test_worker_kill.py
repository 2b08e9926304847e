"""A worker killed with SIGKILL while it renders the brief: after a restart there is exactly
one brief for the period, sent once. Real processes (`lianxi worker`), a real database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import select

from models import Brief, OutboxMessage, RunState, ScheduledRun, session_scope
from oversight.runs import run_transitions
from oversight.schedules import ensure_default_schedules, request_run_now
from tests.seed_quarter import seed_quarter

LIANXI = str(Path(sys.executable).parent / "lianxi")


def _start_worker(tmp_path: Path, name: str) -> subprocess.Popen:
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [LIANXI, "worker", "--poll", "0.1", "--lease", "1"],
        cwd=tmp_path,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _brief_run(engine) -> ScheduledRun | None:
    with session_scope(engine) as s:
        return s.exec(select(ScheduledRun).where(ScheduledRun.job == "brief", ScheduledRun.period == "2026Q1")).first()


def _wait(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_sigkill_during_rendering_gives_one_brief_after_restart(settings_env, engine, banner_plan_id, tmp_path):
    with session_scope(engine) as s:
        seed = seed_quarter(session=s, plan_id=banner_plan_id)
        ensure_default_schedules(session=s)
        request_run_now(session=s, job="brief", actor="test", period="2026Q1")

    first = _start_worker(tmp_path, "first")
    try:
        _wait(lambda: _brief_run(engine).state == RunState.WORKING, 60, "the first worker to start the brief")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    run = _brief_run(engine)
    assert run.state == RunState.WORKING, "the brief finished before the kill; the test proves nothing"
    with session_scope(engine) as s:
        assert s.exec(select(Brief)).all() == []  # nothing of the killed run was committed
        assert s.exec(select(OutboxMessage).where(OutboxMessage.kind == "document")).all() == []

    second = _start_worker(tmp_path, "second")
    try:
        _wait(lambda: _brief_run(engine).state == RunState.DONE, 90, "the restarted worker to finish the brief")
    finally:
        second.send_signal(signal.SIGINT)
        try:
            second.wait(15)
        except subprocess.TimeoutExpired:
            second.kill()

    with session_scope(engine) as s:
        briefs = s.exec(select(Brief).where(Brief.period == "2026Q1")).all()
        assert len(briefs) == 1
        assert Path(briefs[0].pdf_path).read_bytes().startswith(b"%PDF")
        docs = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "document")).all()
        # A draft until signed off: each active office member gets its PDF to preview exactly once.
        office = {m for m in seed.recipients if m in (9101, 9102)}
        assert office and {d.chat_id for d in docs} == office
        for chat in office:
            mine = [Path(d.payload["path"]).suffix for d in docs if d.chat_id == chat]
            assert mine == [".pdf"], chat
        run = s.exec(select(ScheduledRun).where(ScheduledRun.job == "brief", ScheduledRun.period == "2026Q1")).one()
        states = [(t.from_state, t.to_state) for t in run_transitions(session=s, run_id=run.id)]
    assert states[-4:] == [("working", "failed"), ("failed", "pending"), ("pending", "working"), ("working", "done")]
