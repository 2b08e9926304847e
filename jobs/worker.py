"""The worker process: one active at a time (a lease row), the others on standby.

While active it runs an APScheduler AsyncIOScheduler whose jobs live in the project
database (table apscheduler_jobs), and a poll loop that follows schedule changes, picks
up run-now requests and retries, reaps stuck runs, and catches up a run missed while no
worker was up. Whatever fires a run, claim_run decides: a period is produced once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine
from sqlmodel import select

from jobs.registry import JOBS, RUN_JOB_REF, RunContext, clear_context, execute_run, set_context
from models import JobSchedule, session_scope, utcnow
from models.busy import is_transient_error, short_error
from oversight import runs, workdays
from oversight.dates import local_zone
from oversight.schedules import ensure_default_schedules, missed_period, trigger_for

logger = logging.getLogger(__name__)

LEASE_NAME = "worker"
JOBSTORE_TABLE = "apscheduler_jobs"


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """The scheduling worker; `run_forever` until `stop`."""

    def __init__(
        self,
        *,
        engine: Engine,
        worker_id: str | None = None,
        clock: Callable[[], datetime] | None = None,
        lease_seconds: float = 30,
        poll_seconds: float = 5,
        stuck_timeout: timedelta = timedelta(minutes=30),
        tz: ZoneInfo | None = None,
        max_attempts: int = runs.MAX_ATTEMPTS,
        retry_after: timedelta = runs.RETRY_AFTER,
    ) -> None:
        self.engine = engine
        self.worker_id = worker_id or default_worker_id()
        self.clock = clock or utcnow
        self.lease_ttl = timedelta(seconds=lease_seconds)
        self.renew_every = lease_seconds / 3
        self.poll_seconds = poll_seconds
        self.stuck_timeout = stuck_timeout
        self.tz = tz or local_zone()
        self.ctx = RunContext(
            engine=engine,
            worker_id=self.worker_id,
            clock=self.clock,
            tz=self.tz,
            max_attempts=max_attempts,
            retry_after=retry_after,
        )
        self.scheduler: AsyncIOScheduler | None = None
        self._applied: dict[str, tuple[int, str, bool, int]] = {}
        self._poll_task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self._active = False
        self._renewed_at = 0.0  # time.monotonic() of the last renewal that succeeded

    @property
    def active(self) -> bool:
        """True while this worker holds the lease and runs the scheduler."""
        return self._active

    # --- lease (sync: run in a thread) ---------------------------------------------

    def _acquire_lease(self) -> bool:
        with session_scope(self.engine) as session:
            return runs.acquire_lease(
                session=session, name=LEASE_NAME, holder=self.worker_id, ttl=self.lease_ttl, now=self.clock()
            )

    def _renew_lease(self) -> bool:
        with session_scope(self.engine) as session:
            return runs.renew_lease(
                session=session, name=LEASE_NAME, holder=self.worker_id, ttl=self.lease_ttl, now=self.clock()
            )

    def _release_lease_now(self) -> bool:
        self._release_lease()
        return True

    def _release_lease(self) -> None:
        with session_scope(self.engine) as session:
            runs.release_lease(session=session, name=LEASE_NAME, holder=self.worker_id, now=self.clock())

    async def _lease_call(self, call: Callable[[], bool], what: str) -> bool | None:
        """The lease call's answer, or None when the database did not let it happen (busy,
        unreachable, or a bug: logged, and the loop carries on rather than the process ending)."""
        try:
            return await asyncio.to_thread(call)
        except Exception as exc:
            if is_transient_error(exc):
                logger.warning(
                    "worker %s: could not %s the lease, database busy or unavailable (%s)",
                    self.worker_id,
                    what,
                    short_error(exc),
                )
            else:
                logger.exception("worker %s: could not %s the lease", self.worker_id, what)
            return None

    # --- main loop --------------------------------------------------------------------

    async def run_forever(self) -> None:
        """Stand by until the lease is ours, then schedule; step down if the lease is lost."""
        logger.info(
            "worker %s starting (lease %ss, poll %ss)",
            self.worker_id,
            self.lease_ttl.total_seconds(),
            self.poll_seconds,
        )
        try:
            while not self._stopping.is_set():
                if not self._active:
                    got = await self._lease_call(self._acquire_lease, "acquire")
                    if got:
                        self._renewed_at = time.monotonic()
                        try:
                            await self._activate()
                        except Exception as exc:  # the database went away while starting: stand by again
                            logger.warning(
                                "worker %s could not start scheduling (%s); back to standby",
                                self.worker_id,
                                short_error(exc),
                                exc_info=not is_transient_error(exc),
                            )
                            await self._deactivate(wait_for_runs=False)
                            await self._lease_call(self._release_lease_now, "release")
                    wait = self.renew_every if self._active else min(self.poll_seconds, self.renew_every)
                else:
                    renewed = await self._lease_call(self._renew_lease, "renew")
                    wait = self.renew_every
                    if renewed:
                        self._renewed_at = time.monotonic()
                    elif renewed is False:
                        logger.warning("worker %s lost the lease; back to standby", self.worker_id)
                        await self._deactivate(wait_for_runs=False)
                    elif time.monotonic() - self._renewed_at >= self.lease_ttl.total_seconds() - self.renew_every:
                        # Not renewed and about to lapse: another worker may take it over, so
                        # this one stops scheduling before that can happen.
                        logger.warning(
                            "worker %s could not renew the lease in time; stepping down to standby", self.worker_id
                        )
                        await self._deactivate(wait_for_runs=False)
                    else:
                        wait = max(self.renew_every / 4, 0.05)  # try again soon, while the lease holds
                await self._sleep(wait)
        finally:
            self._stopping.set()
            was_active = self._active
            await self._deactivate(wait_for_runs=True)
            if was_active:
                try:
                    self._release_lease()
                except Exception:  # the lease then simply expires
                    logger.exception("worker %s could not release the lease", self.worker_id)
            logger.info("worker %s stopped", self.worker_id)

    async def stop(self) -> None:
        """Ask `run_forever` to finish the run in progress, release the lease and return."""
        self._stopping.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    # --- becoming active and standing down -------------------------------------------------

    def _load_schedules(self) -> list[JobSchedule]:
        with session_scope(self.engine) as session:
            ensure_default_schedules(session=session, now=self.clock())
            return list(session.exec(select(JobSchedule)).all())

    def _requeue_orphans(self) -> None:
        with session_scope(self.engine) as session:
            runs.requeue_orphaned_runs(session=session, worker_id=self.worker_id, now=self.clock())

    async def _activate(self) -> None:
        logger.info("worker %s acquired the lease; starting the scheduler", self.worker_id)
        await asyncio.to_thread(self._requeue_orphans)
        schedules = await asyncio.to_thread(self._load_schedules)
        store = SQLAlchemyJobStore(engine=self.engine, tablename=JOBSTORE_TABLE)
        self.scheduler = AsyncIOScheduler(
            timezone=self.tz,
            jobstores={"default": store},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self._applied = {}
        self._sync_scheduler(schedules)  # queued as pending jobs, stored on start with replace_existing
        self.scheduler.start()
        for job in self.scheduler.get_jobs():
            if job.id not in self._applied:
                logger.info("removing stored job %s: no schedule for it", job.id)
                job.remove()
        set_context(self.ctx)
        self._active = True
        self._poll_task = asyncio.create_task(self._poll_loop(), name=f"worker-poll-{self.worker_id}")
        logger.info("worker %s active: %d schedules", self.worker_id, len(self._applied))

    async def _deactivate(self, *, wait_for_runs: bool) -> None:
        self._active = False
        clear_context(self.ctx)
        task, self._poll_task = self._poll_task, None
        if task is not None:
            if not wait_for_runs:
                task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                logger.exception("worker %s poll loop failed", self.worker_id)
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the next loop turn
        self.scheduler = None
        self._applied = {}

    # --- the poll loop ------------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        while self._active and not self._stopping.is_set():
            started = time.monotonic()
            try:
                await self.tick()
            except Exception as exc:  # logged; the next tick tries again
                if is_transient_error(exc):  # one line: the database is busy, not broken
                    logger.warning(
                        "worker %s: tick skipped, database busy or unavailable (%s)", self.worker_id, short_error(exc)
                    )
                else:
                    logger.exception("worker %s tick failed", self.worker_id)
            await self._sleep(max(0.0, self.poll_seconds - (time.monotonic() - started)))

    async def tick(self) -> None:
        """One pass: follow schedule changes, reap stuck runs, catch up, run requests and retries."""
        schedules = await asyncio.to_thread(self._read_schedules)
        if self.scheduler is not None:
            self._sync_scheduler(schedules)
        await asyncio.to_thread(self._run_due, schedules)

    def _read_schedules(self) -> list[JobSchedule]:
        with session_scope(self.engine) as session:
            workdays.refresh(session=session, max_age=0)  # a year an admin stored moves the triggers below
            return list(session.exec(select(JobSchedule)).all())

    def _sync_scheduler(self, schedules: list[JobSchedule]) -> None:
        """Make the scheduler's jobs match the schedule rows (added, rescheduled, paused, resumed)."""
        assert self.scheduler is not None
        for row in schedules:
            if row.job not in JOBS:
                continue
            state = (row.version, row.cron, row.paused, workdays.data_version())
            applied = self._applied.get(row.job)
            if applied == state:
                continue
            trigger = trigger_for(row.cron, self.tz)
            if applied is None:
                extra = {"next_run_time": None} if row.paused else {}
                self.scheduler.add_job(
                    RUN_JOB_REF,
                    trigger=trigger,
                    args=[row.job],
                    id=row.job,
                    name=row.job,
                    replace_existing=True,
                    **extra,
                )
            else:
                try:
                    if (applied[0], applied[1], applied[3]) != (row.version, row.cron, state[3]):
                        self.scheduler.reschedule_job(row.job, trigger=trigger)
                    if row.paused:
                        self.scheduler.pause_job(row.job)
                    elif applied[2]:
                        self.scheduler.resume_job(row.job)
                except JobLookupError:
                    self.scheduler.add_job(
                        RUN_JOB_REF, trigger=trigger, args=[row.job], id=row.job, name=row.job, replace_existing=True
                    )
                logger.info(
                    "worker %s: schedule of %s now %r (version %d%s)",
                    self.worker_id,
                    row.job,
                    row.cron,
                    row.version,
                    ", paused" if row.paused else "",
                )
            self._applied[row.job] = state

    def _run_due(self, schedules: list[JobSchedule]) -> None:
        now = self.clock()
        with session_scope(self.engine) as session:
            runs.reap_stuck_runs(session=session, timeout=self.stuck_timeout, now=now, worker_id=self.worker_id)
            missed = []
            for row in schedules:
                if row.job in JOBS:
                    found = missed_period(
                        session=session, schedule=row, now=now, tz=self.tz, max_attempts=self.ctx.max_attempts
                    )
                    if found is not None:
                        missed.append((row.job, *found))
        for job, fire, period in missed:
            logger.info(
                "worker %s: %s fired at %s and %s has no result yet; running it",
                self.worker_id,
                job,
                fire.isoformat(),
                period,
            )
            execute_run(ctx=self.ctx, job=job, period=period)
        with session_scope(self.engine) as session:
            due = [
                (r.job, r.period)
                for r in runs.due_runs(
                    session=session,
                    now=self.clock(),
                    max_attempts=self.ctx.max_attempts,
                    retry_after=self.ctx.retry_after,
                )
            ]
        for job, period in due:
            if not self._active or self._stopping.is_set():
                break
            execute_run(ctx=self.ctx, job=job, period=period)
