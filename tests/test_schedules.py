"""Schedules are data: defaults, Chinese descriptions, refusals, the quarterly trigger, periods."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

import jobs.registry  # noqa: F401  (defines the jobs)
from models import AuditLog, JobSchedule, RunState, RunTransition
from oversight.errors import ScheduleError
from oversight.schedules import (
    QuarterlyWorkdayTrigger,
    describe,
    ensure_default_schedules,
    last_fire_time,
    list_schedules,
    missed_period,
    normalize_expr,
    pause_schedule,
    period_for,
    request_run_now,
    resume_schedule,
    set_schedule,
    trigger_for,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    """A Shanghai wall-clock time."""
    return datetime(*args, tzinfo=SHANGHAI)


def test_defaults_are_created_once_and_listed_in_chinese(session: Session) -> None:
    now = sh(2026, 4, 1, 10, 0)
    created = ensure_default_schedules(session=session, now=now)
    session.commit()
    assert {r.job for r in created} == {
        "brief",
        "notice_draft",
        "review",
        "weekly_reminder",
        "daily_digest",
        "calendar_reminder",
    }
    assert ensure_default_schedules(session=session, now=now) == []

    rows = {r["job"]: r for r in list_schedules(session=session, now=now)}
    assert rows["brief"]["name"] == "季度简报"
    assert rows["brief"]["cron"] == "@quarterly-wd5 09:00"
    assert rows["brief"]["description"] == "每季度结束后第5个工作日 09:00"
    assert rows["brief"]["next_run"] == sh(2026, 4, 8, 9, 0)  # Qingming holiday 4–6 April is skipped
    assert rows["notice_draft"]["next_run"] == sh(2026, 4, 3, 9, 0)
    assert rows["weekly_reminder"]["description"] == "每周一 09:00"
    assert rows["weekly_reminder"]["next_run"] == sh(2026, 4, 6, 9, 0)
    assert rows["daily_digest"]["description"] == "每天 08:00"
    assert rows["daily_digest"]["next_run_text"] == "2026年4月2日 08:00"
    assert rows["weekly_reminder"]["next_runs"] == [sh(2026, 4, 6, 9, 0), sh(2026, 4, 13, 9, 0), sh(2026, 4, 20, 9, 0)]
    assert "outbox" not in rows
    assert rows["review"]["name"] == "半年工作问效" and rows["review"]["next_run"] == sh(2026, 7, 10, 9, 0)
    assert period_for("review", sh(2026, 7, 10, 9, 0)) == "2026H1"
    assert period_for("review", sh(2027, 1, 10, 9, 0)) == "2026H2"


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("30 8 * * 1-5", "每周一至周五 08:30"),
        ("0 9 * * 0,6", "每周六、周日 09:00"),
        ("0 9 * * 7", "每周日 09:00"),
        ("0 9 1 * *", "每月1日 09:00"),
        ("@quarterly-wd10 14:30", "每季度结束后第10个工作日 14:30"),
    ],
)
def test_descriptions_are_chinese(expr: str, text: str) -> None:
    assert describe(expr) == text


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("*/15 9-17 * * 1-5", "每周一至周五 9:00至17:59，每15分钟"),
        ("0 9 10 1,7 *", "每年1月、7月的10日 09:00"),  # not "在 09:00，每月的 10 号，仅在 1月 和 7月"
        ("0 9,15 * * *", "每天 09:00、15:00"),
        ("0 */2 * * *", "每2小时整点"),
        ("0 * * * *", "每小时整点"),
        ("* * * * *", "每分钟"),
        ("0 9 * 1,7 1", "每年1月、7月的每周一 09:00"),
        ("@workdays 08:30", "工作日每天 08:30"),
    ],
)
def test_uncommon_expressions_read_as_the_products_own_chinese(expr: str, text: str) -> None:
    assert describe(expr) == text


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("0 25 * * *", "小时须在0–23之间"),
        ("61 9 * * *", "分钟须在0–59之间"),
        ("0 9 * *", "须有5个字段"),
        ("0 9 * * 8", "星期须在0–7之间"),
        ("0 9 32 * *", "日须在1–31之间"),
        ("x 9 * * *", "分钟字段“x”无法识别"),
        ("0 9 1 * 1", "不能同时限定"),
        # Every field in range, but no such day: it would never run (the CLI printed a traceback).
        ("0 9 31 2 *", "所指定的日期不存在（如2月30日、4月31日），任务永远不会运行"),
        ("0 9 31 4,6,9,11 *", "所指定的日期不存在"),
    ],
)
def test_invalid_cron_is_refused_with_a_chinese_message(session: Session, expr: str, reason: str) -> None:
    ensure_default_schedules(session=session)
    session.commit()
    with pytest.raises(ScheduleError) as info:
        set_schedule(session=session, job="daily_digest", cron=expr, actor="test")
    assert info.value.message.startswith(f"“{expr}” 不是有效的 cron 表达式：{reason}")
    assert "格式：分 时 日 月 星期，例如 0 9 * * 1 表示每周一 9:00。" in info.value.message
    session.rollback()
    assert session.exec(select(JobSchedule).where(JobSchedule.job == "daily_digest")).one().cron == "0 8 * * *"


def test_exact_message_for_hour_25() -> None:
    with pytest.raises(ScheduleError) as info:
        normalize_expr("0 25 * * *")
    assert info.value.message == (
        "“0 25 * * *” 不是有效的 cron 表达式：小时须在0–23之间。"
        "格式：分 时 日 月 星期，例如 0 9 * * 1 表示每周一 9:00。"
    )


@pytest.mark.parametrize("expr", ["@quarterly-wd0 09:00", "@quarterly-wd5 25:00", "@quarterly 09:00", "@daily"])
def test_invalid_special_forms_are_refused(expr: str) -> None:
    with pytest.raises(ScheduleError) as info:
        normalize_expr(expr)
    assert "@quarterly-wdN HH:MM" in info.value.message


def test_unknown_job_is_refused(session: Session) -> None:
    ensure_default_schedules(session=session)
    with pytest.raises(ScheduleError) as info:
        set_schedule(session=session, job="outbox", cron="0 9 * * *", actor="test")
    assert "未知任务“outbox”" in info.value.message and "brief（季度简报）" in info.value.message


def test_set_schedule_bumps_version_and_audits(session: Session) -> None:
    ensure_default_schedules(session=session, now=sh(2026, 4, 1, 9, 0))
    row = set_schedule(
        session=session, job="daily_digest", cron=" 30  7 * * * ", actor="member:7", now=sh(2026, 4, 2, 9, 0)
    )
    session.commit()
    assert (row.cron, row.version, row.updated_by) == ("30 7 * * *", 2, "member:7")
    assert set_schedule(session=session, job="daily_digest", cron="30 7 * * *", actor="x").version == 2  # unchanged
    audit = session.exec(select(AuditLog).where(AuditLog.action == "schedule.set")).one()
    assert audit.detail == {"from": "0 8 * * *", "to": "30 7 * * *", "version": 2}


def test_pause_and_resume(session: Session) -> None:
    ensure_default_schedules(session=session)
    pause_schedule(session=session, job="weekly_reminder", actor="cli")
    rows = {r["job"]: r for r in list_schedules(session=session)}
    assert rows["weekly_reminder"]["paused"] and rows["weekly_reminder"]["next_run"] is None
    assert rows["weekly_reminder"]["next_run_text"] == "已暂停"
    resume_schedule(session=session, job="weekly_reminder", actor="cli")
    assert {r["job"]: r for r in list_schedules(session=session)}["weekly_reminder"]["next_run"] is not None
    actions = session.exec(
        select(AuditLog.action).where(AuditLog.object_id == "weekly_reminder").order_by(AuditLog.id)
    ).all()
    assert actions == ["schedule.created", "schedule.paused", "schedule.resumed"]


def test_cron_weekdays_follow_crontab_not_apscheduler_numbering() -> None:
    # APScheduler 3 counts 0 = Monday; our expressions are crontab (1 = Monday).
    trigger = trigger_for("0 9 * * 1")
    fire = trigger.get_next_fire_time(None, sh(2026, 4, 8, 12, 0))
    assert fire == sh(2026, 4, 13, 9, 0) and fire.weekday() == 0


def test_quarterly_wd5_fire_times_for_2026() -> None:
    trigger = trigger_for("@quarterly-wd5 09:00")
    fires = []
    fire = trigger.get_next_fire_time(None, sh(2026, 1, 1, 0, 0))
    while fire.year == 2026:
        fires.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    assert fires == [
        sh(2026, 1, 8, 9, 0),  # New Year holiday 1–3 January
        sh(2026, 4, 8, 9, 0),  # after 31 March: 1, 2, 3 April, Qingming 4–6 off, 7, 8
        sh(2026, 7, 7, 9, 0),
        sh(2026, 10, 13, 9, 0),  # National Day 1–7 October; Saturday 10 October is a make-up working day
    ]


def test_quarterly_trigger_looks_back_and_pickles() -> None:
    trigger = trigger_for("@quarterly-wd5 09:00")
    assert isinstance(trigger, QuarterlyWorkdayTrigger)
    assert last_fire_time(trigger, sh(2026, 4, 8, 8, 59)) == sh(2026, 1, 8, 9, 0)
    assert last_fire_time(trigger, sh(2026, 4, 8, 9, 0)) == sh(2026, 4, 8, 9, 0)
    clone = pickle.loads(pickle.dumps(trigger))
    assert clone.get_next_fire_time(None, sh(2026, 5, 1, 0, 0)) == sh(2026, 7, 7, 9, 0)


def test_cron_looks_back() -> None:
    assert last_fire_time(trigger_for("0 9 * * 1"), sh(2026, 4, 12, 23, 0)) == sh(2026, 4, 6, 9, 0)
    assert last_fire_time(trigger_for("*/5 * * * *"), sh(2026, 4, 12, 23, 7)) == sh(2026, 4, 12, 23, 5)
    assert last_fire_time(trigger_for("0 9 1 1 *"), sh(2026, 4, 12, 23, 7)) == sh(2026, 1, 1, 9, 0)


def test_period_for() -> None:
    assert period_for("brief", sh(2026, 4, 8, 9, 0)) == "2026Q1"
    assert period_for("brief", sh(2026, 1, 8, 9, 0)) == "2025Q4"
    assert period_for("notice_draft", sh(2026, 10, 9, 9, 0)) == "2026Q3"
    assert period_for("weekly_reminder", sh(2026, 4, 13, 9, 0)) == "2026-W15"  # Monday: the week just ended
    assert period_for("daily_digest", sh(2026, 4, 8, 8, 0)) == "2026-04-08"
    assert period_for("daily_digest", datetime(2026, 4, 7, 16, 30, tzinfo=UTC)) == "2026-04-08"  # Shanghai date


def test_run_now_request_is_recorded_for_the_worker(session: Session) -> None:
    ensure_default_schedules(session=session)
    run = request_run_now(session=session, job="brief", actor="member:3", now=sh(2026, 4, 9, 15, 30))
    session.commit()
    assert (run.period, run.state) == ("adhoc-20260409T153000", RunState.PENDING)
    again = request_run_now(session=session, job="brief", actor="member:3", period="2026Q1")
    assert again.period == "2026Q1" and again.state == RunState.PENDING
    transitions = session.exec(select(RunTransition).where(RunTransition.run_id == run.id)).all()
    assert [(t.from_state, t.to_state) for t in transitions] == [("", "pending")]
    assert session.exec(select(AuditLog).where(AuditLog.action == "schedule.run_now")).all()


def test_run_now_for_a_done_period_is_refused(session: Session) -> None:
    from oversight.runs import claim_run, finish_run

    ensure_default_schedules(session=session)
    run = claim_run(session=session, job="brief", period="2026Q1", worker_id="w")
    finish_run(session=session, run_id=run.id, worker_id="w", result={})
    session.commit()
    with pytest.raises(ScheduleError) as info:
        request_run_now(session=session, job="brief", actor="cli", period="2026Q1")
    assert "不会重复执行" in info.value.message


def test_missed_period_only_counts_fires_after_the_schedule_was_set(session: Session) -> None:
    ensure_default_schedules(session=session, now=sh(2026, 3, 20, 10, 0))
    session.commit()
    brief = session.exec(select(JobSchedule).where(JobSchedule.job == "brief")).one()
    assert missed_period(session=session, schedule=brief, now=sh(2026, 3, 25, 0, 0)) is None  # Jan fire predates it
    assert missed_period(session=session, schedule=brief, now=sh(2026, 5, 1, 0, 0)) == (sh(2026, 4, 8, 9, 0), "2026Q1")
    # Down across two quarter ends: only the latest quarter is produced.
    assert missed_period(session=session, schedule=brief, now=sh(2026, 8, 1, 0, 0))[1] == "2026Q2"
