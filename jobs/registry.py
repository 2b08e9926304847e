"""The jobs the worker runs, and the one entry point APScheduler calls (`run_job`).

A job is a module-level function `(*, session, period, now) -> dict` making one domain
call; it runs in the same transaction that marks its run done, so what it queues
(outbox messages, a brief row) is committed exactly when the run is recorded."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from jobs import run_reports
from models import RunState, ScheduledRun, session_scope, utcnow
from models.base import row_id
from oversight import runs
from oversight.dates import local_zone
from oversight.errors import ScheduleError
from oversight.schedules import JOB_DEFS, define_job, get_schedule, last_fire_time, period_for, trigger_for

logger = logging.getLogger(__name__)

JobFunc = Callable[..., dict]
JOBS: dict[str, JobFunc] = {}
RUN_JOB_REF = "jobs.registry:run_job"


class JobNotReadyError(ScheduleError):
    message = "该任务的实现模块尚未安装。"


def register(
    name: str, *, label: str | None = None, cron: str | None = None, period_rule: str | None = None
) -> Callable[[JobFunc], JobFunc]:
    """Decorator: make `func` the body of job `name` (with a default schedule if `cron` is given)."""

    def decorate(func: JobFunc) -> JobFunc:
        if cron is not None:
            define_job(name, label=label or name, cron=cron, **({"period_rule": period_rule} if period_rule else {}))
        JOBS[name] = func
        return func

    return decorate


def _lazy(module: str, what: str) -> Any:
    """Import a job module written elsewhere; a clear error if it is not there yet."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise JobNotReadyError(f"{what}模块（{module}）尚未实现，本期未生成。") from exc


@register("brief")
def brief_job(*, session: Session, period: str, now: datetime) -> dict:
    """Compile the quarterly brief (jobs.brief, written separately)."""
    return _lazy("jobs.brief", "简报").run(session=session, period=period, now=now)


@register("notice_draft")
def notice_draft_job(*, session: Session, period: str, now: datetime) -> dict:
    """Draft the quarter's notice from the accountability findings and send it to the conveners."""
    return _lazy("jobs.notices", "通报草稿").run(session=session, period=period, now=now)


@register("notice_publish")
def notice_publish_job(*, session: Session, period: str, now: datetime) -> dict:
    """Publish a notice the convener approved (period notice-<id>; requested by the approval)."""
    return _lazy("jobs.notices", "通报印发").publish_run(session=session, period=period, now=now)


@register("notice_preview")
def notice_preview_job(*, session: Session, period: str, now: datetime) -> dict:
    """The notice draft as a PDF to whoever asked in chat (period notice-<id>-p<n>-m<member>)."""
    return _lazy("jobs.notices", "通报预览").preview_run(session=session, period=period, now=now)


@register("brief_render")
def brief_render_job(*, session: Session, period: str, now: datetime) -> dict:
    """Render a draft brief again with the office's 编者按 (period brief-<id>-r<n>; requested by the edit)."""
    return _lazy("jobs.brief", "简报").render_run(session=session, period=period, now=now)


@register("brief_distribute")
def brief_distribute_job(*, session: Session, period: str, now: datetime) -> dict:
    """Distribute a signed brief (period brief-<id>; requested by the sign-off)."""
    return _lazy("jobs.brief", "简报").distribute_run(session=session, period=period, now=now)


@register("minutes")
def minutes_job(*, session: Session, period: str, now: datetime) -> dict:
    """Write a held meeting's 会议纪要 and send it (period meeting-<id>; requested in /meeting)."""
    return _lazy("jobs.minutes", "会议纪要").run(session=session, period=period, now=now)


@register("review")
def review_job(*, session: Session, period: str, now: datetime) -> dict:
    """The half-yearly accountability review (工作问效) and its rectification ledger."""
    return _lazy("jobs.review", "工作问效").run(session=session, period=period, now=now)


@register("weekly_reminder")
def weekly_reminder_job(*, session: Session, period: str, now: datetime) -> dict:
    from jobs.reminders import send_weekly_reminders

    return send_weekly_reminders(session=session, period=period, now=now)


@register("daily_digest")
def daily_digest_job(*, session: Session, period: str, now: datetime) -> dict:
    from jobs.reminders import send_daily_digest

    return send_daily_digest(session=session, period=period, now=now)


@register("calendar_reminder")
def calendar_reminder_job(*, session: Session, period: str, now: datetime) -> dict:
    from jobs.reminders import send_calendar_reminders

    return send_calendar_reminders(session=session, period=period, now=now)


# --- Running one (job, period) --------------------------------------------------------


@dataclass
class RunContext:
    """What `run_job` needs from the active worker: set when it becomes active."""

    engine: Engine
    worker_id: str
    clock: Callable[[], datetime] = utcnow
    tz: ZoneInfo = field(default_factory=local_zone)
    max_attempts: int = runs.MAX_ATTEMPTS
    retry_after: timedelta = runs.RETRY_AFTER


_context: RunContext | None = None


def set_context(ctx: RunContext) -> None:
    global _context
    _context = ctx


def clear_context(ctx: RunContext) -> None:
    """Forget `ctx` if it is still the current one (another worker may have replaced it)."""
    global _context
    if _context is ctx:
        _context = None


def execute_run(*, ctx: RunContext, job: str, period: str) -> ScheduledRun | None:
    """Claim (job, period), run its body, and record done or failed; None if not ours to run."""
    with session_scope(ctx.engine) as session:
        run = runs.claim_run(
            session=session,
            job=job,
            period=period,
            worker_id=ctx.worker_id,
            now=ctx.clock(),
            max_attempts=ctx.max_attempts,
            retry_after=ctx.retry_after,
        )
    if run is None:
        logger.debug("run -- %s/%s not claimed (done, working or not due)", job, period)
        return None
    logger.info("run %s %s/%s started (attempt %d) on %s", run.id, job, period, run.attempts, ctx.worker_id)
    try:
        with session_scope(ctx.engine) as session:
            func = JOBS.get(job)
            if func is None:
                raise JobNotReadyError(f"任务“{job}”没有注册实现。")
            result = func(session=session, period=period, now=ctx.clock())
            done = runs.finish_run(
                session=session,
                run_id=row_id(run),
                worker_id=ctx.worker_id,
                result=result or {},
                now=ctx.clock(),
            )
            run_reports.report_done(session=session, run=done, result=result or {}, now=ctx.clock())
        logger.info("run %s %s/%s done: %s", run.id, job, period, result)
        return done
    except runs.RunLostError:
        with session_scope(ctx.engine) as session:
            now_run = runs.get_run(session=session, job=job, period=period)
        if now_run is not None and now_run.state == RunState.WITHDRAWN:
            logger.info("run %s %s/%s withdrawn while it ran (%s)", run.id, job, period, now_run.error)
            return now_run
        logger.warning("run %s %s/%s lost to another worker; its effects were rolled back", run.id, job, period)
        return None
    except Exception as exc:  # recorded on the run and logged with its traceback, then retried
        error = exc.message if isinstance(exc, ScheduleError) else f"{type(exc).__name__}: {exc}"
        logger.exception("run %s %s/%s failed: %s", run.id, job, period, error)
        try:
            with session_scope(ctx.engine) as session:
                failed = runs.fail_run(
                    session=session,
                    run_id=row_id(run),
                    worker_id=ctx.worker_id,
                    error=error,
                    now=ctx.clock(),
                    max_attempts=ctx.max_attempts,
                )
                run_reports.report_failed(
                    session=session,
                    run=failed,
                    error=exc,
                    now=ctx.clock(),
                    max_attempts=ctx.max_attempts,
                    retry_after=ctx.retry_after,
                )
                return failed
        except runs.RunLostError:
            logger.warning("run %s %s/%s lost to another worker before its failure was recorded", run.id, job, period)
            return None


def current_period(*, ctx: RunContext, job: str, now: datetime) -> str:
    """The period of the latest fire of `job`'s schedule at or before `now`."""
    with session_scope(ctx.engine) as session:
        row = get_schedule(session=session, job=job)
        expr = row.cron if row else JOB_DEFS[job].cron
    fire = last_fire_time(trigger_for(expr, ctx.tz), now) or now
    return period_for(job, fire, ctx.tz)


def run_job(job_name: str) -> None:
    """APScheduler's entry point: run `job_name` for the period of its latest fire time."""
    ctx = _context
    if ctx is None:
        logger.warning("run -- %s fired with no active worker in this process; skipped", job_name)
        return
    period = current_period(ctx=ctx, job=job_name, now=ctx.clock())
    execute_run(ctx=ctx, job=job_name, period=period)
