"""The worker as scenarios: down across a quarter's end, two at once, a frozen active one,
an admin changing a schedule, a run-now request, and the real scheduler firing a job."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from jobs.registry import JOBS
from jobs.worker import JOBSTORE_TABLE, Worker
from models import RunState, ScheduledRun, make_engine, session_scope, utcnow
from oversight.runs import lease_holder, run_transitions
from oversight.schedules import (
    ensure_default_schedules,
    last_fire_time,
    next_fire_time,
    pause_schedule,
    period_for,
    request_run_now,
    set_schedule,
    trigger_for,
)

FAST = {"lease_seconds": 0.6, "poll_seconds": 0.05}

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every job replaced by a stub that records (job, period); the real brief is written elsewhere."""
    seen: list[tuple[str, str]] = []

    def stub_for(name: str) -> Callable[..., dict]:
        def stub(*, session, period: str, now: datetime) -> dict:
            seen.append((name, period))
            return {"stub": name, "period": period}

        return stub

    for name in list(JOBS):
        monkeypatch.setitem(JOBS, name, stub_for(name))
    return seen


async def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def runs_of(engine: Engine, job: str) -> list[ScheduledRun]:
    with session_scope(engine) as s:
        return list(s.exec(select(ScheduledRun).where(ScheduledRun.job == job).order_by(ScheduledRun.id)).all())


def done(engine: Engine, job: str) -> bool:
    return any(r.state == RunState.DONE for r in runs_of(engine, job))


async def run_for(worker: Worker, seconds: float, until: Callable[[], bool] | None = None) -> None:
    """Run `worker` until it is active (and `until` holds), then a little longer, then stop it."""
    task = asyncio.create_task(worker.run_forever())
    await wait_for(lambda: worker.active)
    if until is not None:
        await wait_for(until)
    await asyncio.sleep(seconds)
    await worker.stop()
    await asyncio.wait_for(task, 5)


async def test_worker_down_across_a_quarter_end_makes_the_brief_once(
    engine: Engine, db_url: str, calls: list[tuple[str, str]]
) -> None:
    clock = Clock(sh(2026, 3, 20, 10, 0))
    await run_for(Worker(engine=engine, worker_id="march", clock=clock, **FAST), 0.2)
    assert calls == []  # nothing was due in March after the schedules were set up

    clock.now = sh(2026, 4, 20, 10, 0)  # the brief was due 8 April 09:00; nobody was up
    engine2 = make_engine(db_url)
    await run_for(
        Worker(engine=engine2, worker_id="april", clock=clock, **FAST), 0.3, until=lambda: done(engine, "brief")
    )
    await run_for(Worker(engine=engine2, worker_id="april-again", clock=clock, **FAST), 0.3)
    engine2.dispose()

    assert calls.count(("brief", "2026Q1")) == 1
    assert [c for c in calls if c[0] == "brief"] == [("brief", "2026Q1")]
    # Every job produced its latest missed period once, and nothing else.
    assert sorted(calls) == sorted(
        [
            ("brief", "2026Q1"),
            ("notice_draft", "2026Q1"),
            ("weekly_reminder", "2026-W16"),
            ("daily_digest", "2026-04-20"),
            ("calendar_reminder", "2026-W17"),
        ]
    )
    (brief,) = runs_of(engine, "brief")
    assert (brief.state, brief.worker_id, brief.attempts) == (RunState.DONE, "april", 1)
    with session_scope(engine) as s:
        assert [(t.from_state, t.to_state) for t in run_transitions(session=s, run_id=brief.id)] == [
            ("", "pending"),
            ("pending", "working"),
            ("working", "done"),
        ]


async def test_two_workers_at_once_one_active_one_brief(db_url: str, calls: list[tuple[str, str]]) -> None:
    engines = [make_engine(db_url), make_engine(db_url)]
    clock = Clock(sh(2026, 3, 20, 10, 0))
    with session_scope(engines[0]) as s:
        ensure_default_schedules(session=s, now=clock())
    clock.now = sh(2026, 4, 9, 10, 0)
    workers = [Worker(engine=e, worker_id=f"w{i}", clock=clock, **FAST) for i, e in enumerate(engines)]
    tasks = [asyncio.create_task(w.run_forever()) for w in workers]
    await wait_for(lambda: any(w.active for w in workers))
    for _ in range(30):  # ~0.6 s, a full lease period: never two active
        assert sum(w.active for w in workers) == 1
        await asyncio.sleep(0.02)
    await wait_for(lambda: done(engines[0], "brief"))
    active = next(w for w in workers if w.active)
    for w in workers:
        await w.stop()
    await asyncio.gather(*tasks)
    for e in engines:
        e.dispose()
    assert calls.count(("brief", "2026Q1")) == 1
    assert len(runs_of(engines[0], "brief")) == 1 and runs_of(engines[0], "brief")[0].worker_id == active.worker_id


async def test_standby_takes_over_when_the_active_one_stops_renewing(db_url: str, calls: list[tuple[str, str]]) -> None:
    clock = Clock(sh(2026, 5, 6, 10, 0))
    a = Worker(engine=make_engine(db_url), worker_id="a", clock=clock, **FAST)
    b = Worker(engine=make_engine(db_url), worker_id="b", clock=clock, **FAST)
    task_a = asyncio.create_task(a.run_forever())
    task_b: asyncio.Task | None = None
    try:
        await wait_for(lambda: a.active)
        task_b = asyncio.create_task(b.run_forever())
        await asyncio.sleep(0.3)
        assert a.active and not b.active

        a._renew_lease = lambda: True  # a freezes: it thinks it renews, nothing reaches the db
        await asyncio.sleep(0.3)
        assert not b.active  # the lease has not expired yet: time has not moved
        clock.now += timedelta(seconds=1)  # past the 0.6 s lease
        await wait_for(lambda: b.active)

        del a._renew_lease  # a thaws: its next renewal fails and it stands down
        # (active turns false first; the scheduler is dropped once the poll loop in progress ends)
        await wait_for(lambda: not a.active and a.scheduler is None)
        assert b.scheduler is not None and b.scheduler.running
        with session_scope(b.engine) as s:
            assert lease_holder(session=s, name="worker", now=clock()) == "b"
    finally:  # stopped even when an assertion failed: a worker left running would hang the loop's teardown
        for w in (a, b):
            await w.stop()
        await asyncio.wait_for(asyncio.gather(*(t for t in (task_a, task_b) if t is not None)), 30)
        a.engine.dispose()
        b.engine.dispose()


def stored_next_run(engine: Engine, job: str) -> float | None:
    with engine.connect() as conn:
        return conn.execute(
            text(f"SELECT next_run_time FROM {JOBSTORE_TABLE} WHERE id = :id"), {"id": job}
        ).scalar_one()


async def test_schedule_change_reaches_the_running_worker(engine: Engine, calls: list[tuple[str, str]]) -> None:
    worker = Worker(engine=engine, worker_id="w", **FAST)
    task = asyncio.create_task(worker.run_forever())
    await wait_for(lambda: worker.active)
    expected_old = next_fire_time("0 8 * * *", utcnow())
    assert stored_next_run(engine, "daily_digest") == pytest.approx(expected_old.timestamp())

    with session_scope(engine) as s:
        set_schedule(session=s, job="daily_digest", cron="30 7 * * 2", actor="member:1")
    expected_new = next_fire_time("30 7 * * 2", utcnow())
    await wait_for(lambda: stored_next_run(engine, "daily_digest") == pytest.approx(expected_new.timestamp()))
    job = worker.scheduler.get_job("daily_digest")
    assert (job.next_run_time.hour, job.next_run_time.minute, job.next_run_time.weekday()) == (7, 30, 1)

    with session_scope(engine) as s:
        pause_schedule(session=s, job="daily_digest", actor="member:1")
    await wait_for(lambda: stored_next_run(engine, "daily_digest") is None)
    await worker.stop()
    await task


async def test_run_now_request_is_executed_once(engine: Engine, calls: list[tuple[str, str]]) -> None:
    clock = Clock(sh(2026, 5, 6, 10, 0))
    with session_scope(engine) as s:
        ensure_default_schedules(session=s, now=clock())
        run = request_run_now(session=s, job="brief", actor="member:2", now=clock())
        period = run.period
    worker = Worker(engine=engine, worker_id="w", clock=clock, **FAST)
    await run_for(worker, 0.3, until=lambda: done(engine, "brief"))
    assert period == "adhoc-20260506T100000"
    assert calls == [("brief", period)]
    (brief,) = runs_of(engine, "brief")
    assert brief.result == {"stub": "brief", "period": period}


async def test_real_scheduler_fires_a_job(engine: Engine, calls: list[tuple[str, str]]) -> None:
    # A long poll: after the first pass only APScheduler can start a run.
    worker = Worker(engine=engine, worker_id="w", lease_seconds=3, poll_seconds=60)
    task = asyncio.create_task(worker.run_forever())
    await wait_for(lambda: worker.active)
    await asyncio.sleep(0.1)
    assert calls == []
    worker.scheduler.modify_job("daily_digest", next_run_time=datetime.now(SHANGHAI) + timedelta(seconds=0.2))
    await wait_for(lambda: done(engine, "daily_digest"))
    expected = period_for("daily_digest", last_fire_time(trigger_for("0 8 * * *"), utcnow()))
    assert calls == [("daily_digest", expected)]
    await worker.stop()
    await asyncio.wait_for(task, 5)


# --- The job bodies and the command line ------------------------------------------------


def _unit(session, plan_id: int, short: str):
    from oversight.members import require_unit

    return require_unit(session=session, plan_id=plan_id, text=short)


def test_weekly_reminder_goes_to_contacts_of_units_that_did_not_report(engine: Engine, banner_plan_id: int) -> None:
    from jobs.reminders import send_weekly_reminders
    from models import Member, OutboxMessage, Plan, Report, Role

    with session_scope(engine) as s:
        forestry = _unit(s, banner_plan_id, "林草局")
        natres = _unit(s, banner_plan_id, "自然资源局")
        s.add(
            Member(
                plan_id=banner_plan_id,
                telegram_user_id=1001,
                name="林草联络员",
                unit_id=forestry.id,
                role=Role.CONTACT,
                joined_at=sh(2026, 3, 2, 9, 0),
            )
        )
        s.add(
            Member(
                plan_id=banner_plan_id,
                telegram_user_id=1002,
                name="自然资源联络员",
                unit_id=natres.id,
                role=Role.CONTACT,
                joined_at=sh(2026, 3, 2, 9, 0),
            )
        )
        # In use since March: both units answer for week 15 (a unit answers from when it could act).
        s.get(Plan, banner_plan_id).tracking_since = date(2026, 3, 2)
        s.add(
            Report(plan_id=banner_plan_id, unit_id=natres.id, text="整合区1 完成核查", created_at=sh(2026, 4, 8, 15, 0))
        )
    now = sh(2026, 4, 13, 9, 0)
    with session_scope(engine) as s:
        result = send_weekly_reminders(session=s, period="2026-W15", now=now)
    assert result["queued"] == 1
    assert forestry.name in result["units_without_report"] and natres.name not in result["units_without_report"]
    with session_scope(engine) as s:
        again = send_weekly_reminders(session=s, period="2026-W15", now=now)  # a retried run
        msgs = s.exec(select(OutboxMessage)).all()
    assert again["queued"] == 0
    assert [m.chat_id for m in msgs] == [1001]
    assert "2026年第15周（4月6日至4月12日）尚未报送工作进展" in msgs[0].text


def test_daily_digest_lists_overdue_items_for_the_office(engine: Engine, banner_plan_id: int) -> None:
    from datetime import date

    from jobs.reminders import send_daily_digest
    from models import Decision, Member, OutboxMessage, Problem, Role

    with session_scope(engine) as s:
        forestry = _unit(s, banner_plan_id, "林草局")
        office = _unit(s, banner_plan_id, "办公室")
        s.add(Member(plan_id=banner_plan_id, telegram_user_id=2001, name="办公室", unit_id=office.id, role=Role.OFFICE))
        s.add(
            Problem(
                plan_id=banner_plan_id,
                text="常兴扎嘎乌苏铁矿用林手续未批",
                raised_by_unit_id=office.id,
                owner_unit_id=forestry.id,
                due_on=date(2026, 4, 1),
            )
        )
        s.add(
            Problem(
                plan_id=banner_plan_id,
                text="尚未到期的问题",
                raised_by_unit_id=office.id,
                owner_unit_id=forestry.id,
                due_on=date(2026, 4, 30),
            )
        )
        s.add(
            Decision(
                plan_id=banner_plan_id,
                text="4月3日前报送整合区台账",
                owner_unit_id=forestry.id,
                due_on=date(2026, 4, 3),
            )
        )
    with session_scope(engine) as s:
        result = send_daily_digest(session=s, period="2026-04-08", now=sh(2026, 4, 8, 8, 0))
        assert send_daily_digest(session=s, period="2026-04-06", now=sh(2026, 4, 6, 8, 0))["skipped"]  # 清明
        (msg,) = s.exec(select(OutboxMessage)).all()
    assert (result["problems"], result["decisions"], result["queued"]) == (1, 1, 1)
    assert msg.chat_id == 2001 and msg.text.startswith("【每日督办】2026年4月8日 逾期事项")
    assert "常兴扎嘎乌苏铁矿用林手续未批（应于2026年4月1日前办结，已逾期4个工作日）" in msg.text  # 2, 3, 7, 8 April
    assert "二、逾期未完成的议定事项（1项）" in msg.text and "尚未到期" not in msg.text


def test_brief_job_fails_clearly_while_its_module_is_missing(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from jobs.registry import RunContext, execute_run

    monkeypatch.setitem(sys.modules, "jobs.brief", None)  # as if jobs/brief.py were not written yet
    run = execute_run(ctx=RunContext(engine=engine, worker_id="w"), job="brief", period="2026Q1")
    assert run is not None and run.state == RunState.FAILED
    assert run.error == "简报模块（jobs.brief）尚未实现，本期未生成。"


def test_schedule_cli(settings_env, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from typer.testing import CliRunner

    from lianxi.cli_worker import schedule_app
    from lianxi.common import out

    monkeypatch.setattr(out, "_width", 240)  # one table row per line
    app = typer.Typer()
    app.add_typer(schedule_app, name="schedule")
    runner = CliRunner()
    listed = runner.invoke(app, ["schedule", "list"])
    assert listed.exit_code == 0, listed.output
    assert "季度简报" in listed.output and "每周一 09:00" in listed.output

    refused = runner.invoke(app, ["schedule", "set", "daily_digest", "0 25 * * *"])
    assert refused.exit_code == 2
    assert "小时须在0–23之间" in refused.output
    never = runner.invoke(app, ["schedule", "set", "daily_digest", "0 9 31 2 *"])
    assert never.exit_code == 2 and "永远不会运行" in never.output, never.output

    changed = runner.invoke(app, ["schedule", "set", "daily_digest", "30 7 * * *"])
    assert changed.exit_code == 0 and "每天 07:30" in changed.output and "接下来三次运行" in changed.output
    assert runner.invoke(app, ["schedule", "pause", "weekly_reminder"]).exit_code == 0
    assert "已暂停" in runner.invoke(app, ["schedule", "list"]).output
    queued = runner.invoke(app, ["schedule", "run", "brief", "--period", "2026Q1"])
    assert queued.exit_code == 0 and "已请工作进程立即运行“季度简报”（2026年第一季度）" in queued.output
    assert "2026Q1" not in queued.output
    assert runner.invoke(app, ["schedule", "run", "nosuchjob"]).exit_code == 2
