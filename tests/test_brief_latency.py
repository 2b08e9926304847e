"""The bot stays quick while the worker compiles a region-scale brief: 200 one-line reports
have a p95 reply latency within 2× of the same burst without the brief, on SQLite and on
PostgreSQL, and "database is locked" appears nowhere.

The database is the region benchmark's (bench/brief.py: the 内蒙古 2022 plan, 2,685 rights,
~50,000 reports, 5,000 problems, 35,000 problem events). The brief is compiled by the real worker
process (`lianxi worker`, asked to run it as /schedule's 立即运行 does); the bot is the real one
over HTTP.
20 contacts each send ten `/report 文字`, each after the answer to the one before and a pause; during
the brief they go on until it is done, and the reports sent while it is being compiled are measured
(at least one per contact: on PostgreSQL the brief takes a few seconds, 41 reports in one run).
The worker runs at its default nice +10 (Settings.WORKER_NICE), as `lianxi worker` does.

Slow (marked): the region database is generated once per run (~11 s on SQLite), and the test
waits for the brief to finish (~20-40 s on a loaded machine); ~85 s in all on SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bench.brief import SCALES, generate
from models import Member, Plan, Report, Role, ScheduledRun, Unit, make_engine, session_scope
from oversight.members import create_invite, redeem_invite
from oversight.reports import default_task_for
from oversight.runs import request_run
from tests.conftest import PG_URL
from tests.harness import running_bot

ROOT = Path(__file__).resolve().parent.parent
CONTACTS, EACH = 20, 10
PAUSE = (0.3, 1.0)  # between a contact's answer and its next report: ~25 reports a second in all
PERIOD = SCALES["region"][2]
_template: Path | None = None


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def region_url(request, tmp_path, tmp_path_factory) -> str:
    """A region-scale database: SQLite generated once per session and copied, or PostgreSQL."""
    global _template
    if request.param == "postgresql":
        from tests.conftest import _pg_db

        url = _pg_db()
        generate("region", None, url=url)
        return url
    if _template is None:
        _template = tmp_path_factory.mktemp("region") / "region.db"
        generate("region", _template)
    target = tmp_path / "region.db"
    shutil.copy(_template, target)
    return f"sqlite:///{target}"


def _run_state(engine) -> str | None:
    with session_scope(engine) as s:
        run = s.exec(select(ScheduledRun).where(ScheduledRun.job == "brief", ScheduledRun.period == PERIOD)).first()
        return run.state if run is not None else None


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


async def _burst(h, users, rng: random.Random, keep_going=None) -> list[tuple[float, float]]:
    """Every contact's ten reports (and more while keep_going() holds): each one's start and latency."""
    samples: list[tuple[float, float]] = []

    async def contact(user) -> None:
        await asyncio.sleep(rng.uniform(0, PAUSE[1]))
        k = 0
        while k < EACH or (keep_going is not None and keep_going()):
            mark = h.server.mark()
            started = time.monotonic()
            await user.send(f"/report 第{k + 1}次报送：本周完成矿业权现场核查{rng.randrange(1, 30)}宗")
            reply = await h.server.wait_for(user.id, lambda m: "已报送" in str(m.get("text")), timeout=60, after=mark)
            assert "系统繁忙" not in reply["text"]
            samples.append((started, time.monotonic() - started))
            k += 1
            await asyncio.sleep(rng.uniform(*PAUSE))

    await asyncio.gather(*(contact(u) for u in users))
    return samples


@pytest.mark.slow
async def test_reports_stay_quick_during_a_region_brief(region_url, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.WARNING)
    monkeypatch.setenv("DATABASE_URL", region_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    from config.settings import get_settings

    get_settings.cache_clear()
    engine = make_engine(region_url)
    rng = random.Random(11)
    with session_scope(engine) as s:
        plan_id = s.exec(select(Plan.id)).one()
        units = [
            u
            for u in s.exec(select(Unit).where(Unit.plan_id == plan_id).order_by(col(Unit.id))).all()
            if u.kind != "government"
        ]
        people: list[int] = []
        for unit in units:
            probe = Member(plan_id=plan_id, unit_id=unit.id, role=Role.CONTACT, name="probe")
            if default_task_for(session=s, member=probe) is None:
                continue
            for _ in range(4):
                if len(people) == CONTACTS:
                    break
                _, code = create_invite(
                    session=s, plan_id=plan_id, unit_id=unit.id, role=Role.CONTACT, created_by="test"
                )
                uid = 720_000 + len(people)
                redeem_invite(session=s, telegram_user_id=uid, name=f"联络员{len(people)}", code=code)
                people.append(uid)
        assert len(people) == CONTACTS, "the region plan has too few units with a task to report on"
        before = s.exec(select(func.count()).select_from(Report)).one()

    async with running_bot(engine, plan_id) as h:
        users = [h.server.user(uid, f"联络员{k}") for k, uid in enumerate(people)]
        quiet = [lat for _, lat in await _burst(h, users, rng)]

        env = {
            **os.environ,
            "DATABASE_URL": region_url,
            "DATA_DIR": str(tmp_path / "data"),
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": "",
        }
        log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen(
            [sys.executable, "-m", "lianxi", "worker", "--poll", "0.2", "--lease", "6"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        try:
            with session_scope(engine) as s:
                request_run(session=s, job="brief", period=PERIOD, actor="test")
            for _ in range(600):  # the worker takes it (up to 60 s), then into its queries
                if _run_state(engine) in ("working", "done", "failed"):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            # Reports go on until the brief is done; those sent while it was working are measured.
            working: dict[str, float] = {}
            if _run_state(engine) == "working":
                working["from"] = time.monotonic()

            async def watch() -> None:
                for _ in range(3000):
                    state = await asyncio.to_thread(_run_state, engine)
                    if state == "working":
                        working.setdefault("from", time.monotonic())
                    elif state in ("done", "failed"):
                        working["until"] = time.monotonic()
                        return
                    await asyncio.sleep(0.1)

            watcher = asyncio.create_task(watch())
            sent = await _burst(h, users, rng, keep_going=lambda: "until" not in working)
            await watcher
            busy = [lat for at, lat in sent if working.get("from", float("inf")) <= at < working["until"]]
            state = _run_state(engine)
        finally:
            worker.terminate()
            try:
                await asyncio.to_thread(worker.wait, 30)
            except subprocess.TimeoutExpired:
                worker.kill()
    out = (tmp_path / "worker.log").read_text()
    engine_reports = make_engine(region_url)
    with session_scope(engine_reports) as s:
        after = s.exec(select(func.count()).select_from(Report)).one()
    engine.dispose()
    engine_reports.dispose()

    figures = (
        f"{region_url.split(':')[0]}: p95 {_p95(quiet) * 1000:.0f} ms without the brief, "
        f"{_p95(busy) * 1000:.0f} ms during it ({len(busy)} reports sent while the brief was being compiled)"
    )
    print(figures)
    assert state == "done", out[-3000:]
    assert len(busy) >= CONTACTS, f"too few reports during the brief to measure ({figures})"
    assert after - before == len(quiet) + len(sent)
    assert len(quiet) == CONTACTS * EACH
    assert "database is locked" not in out and "database is locked" not in caplog.text
    assert _p95(busy) <= 2 * _p95(quiet), figures
