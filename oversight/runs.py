"""Scheduled runs are records: (job, period) is unique, state moves
pending → working → done / failed with a RunTransition row per change, and every move is
a conditional UPDATE so two workers (or a restart) cannot run the same period twice.

Also the worker lease: the row that makes one worker process the active one."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import RunState, RunTransition, ScheduledRun, WorkerLease, utcnow
from models.base import row_id
from models.db import table_of
from oversight.errors import ScheduleError

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=5)
ERROR_LIMIT = 2000

_runs = table_of(ScheduledRun)
_leases = table_of(WorkerLease)


class RunLostError(ScheduleError):
    message = "该次运行已不归本工作进程所有（可能已超时被回收）。"


def get_run(*, session: Session, job: str, period: str) -> ScheduledRun | None:
    """The run of (job, period) as the database has it now (not a stale copy from the session)."""
    return session.exec(
        select(ScheduledRun)
        .where(ScheduledRun.job == job, ScheduledRun.period == period)
        .execution_options(populate_existing=True)
    ).first()


def is_final(run: ScheduledRun, *, max_attempts: int = MAX_ATTEMPTS) -> bool:
    """True when the run will not be tried again: done, or failed `max_attempts` times."""
    return run.state in (RunState.DONE, RunState.WITHDRAWN) or (
        run.state == RunState.FAILED and run.attempts >= max_attempts
    )


def _transition(
    session: Session, *, run_id: int, from_state: str, to_state: str, worker_id: str, note: str, at: datetime
) -> None:
    session.add(
        RunTransition(
            run_id=run_id, from_state=from_state, to_state=to_state, worker_id=worker_id, note=note[:ERROR_LIMIT], at=at
        )
    )


def _refresh(session: Session, run_id: int) -> ScheduledRun:
    run = session.get(ScheduledRun, run_id, populate_existing=True)
    assert run is not None
    return run


def _insert_pending(
    session: Session, *, job: str, period: str, worker_id: str, note: str, now: datetime
) -> ScheduledRun:
    """Insert the (job, period) row as pending, or get the one another process just inserted."""
    try:
        # A savepoint: on PostgreSQL a unique violation would otherwise abort the whole transaction.
        with session.begin_nested():
            run = ScheduledRun(job=job, period=period, state=RunState.PENDING, created_at=now)
            session.add(run)
            session.flush()
            assert run.id is not None
            _transition(
                session, run_id=run.id, from_state="", to_state=RunState.PENDING, worker_id=worker_id, note=note, at=now
            )
            session.flush()
        return run
    except IntegrityError:
        existing = get_run(session=session, job=job, period=period)
        if existing is None:  # pragma: no cover - the constraint fired, so the row exists
            raise
        return existing


def _move_run(
    session: Session, run: ScheduledRun, *, to_state: str, note: str, now: datetime, **values: object
) -> bool:
    """Move `run` from the state it was read in to `to_state` (setting `values`) by a conditional
    UPDATE, with its transition row; False when another process moved it first."""
    from_state = run.state
    res = session.connection().execute(
        update(_runs).where(_runs.c.id == run.id, _runs.c.state == from_state).values(state=to_state, **values)
    )
    if res.rowcount != 1:
        return False
    _transition(session, run_id=row_id(run), from_state=from_state, to_state=to_state, worker_id="", note=note, at=now)
    return True


def request_run(*, session: Session, job: str, period: str, actor: str, now: datetime | None = None) -> ScheduledRun:
    """Record a request to run (job, period): a pending row, or a failed one put back to pending."""
    now = now or utcnow()
    run = get_run(session=session, job=job, period=period)
    if run is None:
        return _insert_pending(session, job=job, period=period, worker_id="", note=f"run-now by {actor}", now=now)
    if run.state in (RunState.FAILED, RunState.WITHDRAWN):
        _move_run(
            session,
            run,
            to_state=RunState.PENDING,
            note=f"run-now by {actor}: attempts reset",
            now=now,
            attempts=0,
            error="",
        )
        return _refresh(session, row_id(run))
    return run


def request_again(*, session: Session, job: str, period: str, actor: str, reason: str, now: datetime) -> ScheduledRun:
    """Put a done (job, period) back to pending, with its transition row saying why: for a run whose
    effect was taken back since (an ad-hoc meeting's brief withdrawn when the meeting left its day,
    the meeting now back on it). The job must find what it recorded before and build on it, not
    record it twice (the brief job redrafts the withdrawn brief in its row). Any other state is as
    request_run leaves it."""
    run = get_run(session=session, job=job, period=period)
    if run is None or run.state != RunState.DONE:
        return request_run(session=session, job=job, period=period, actor=actor, now=now)
    _move_run(
        session,
        run,
        to_state=RunState.PENDING,
        note=f"again by {actor}: {reason}"[:ERROR_LIMIT],
        now=now,
        attempts=0,
        error="",
        finished_at=None,
    )
    return _refresh(session, row_id(run))


def withdraw_run(
    *, session: Session, job: str, period: str, actor: str, reason: str, now: datetime | None = None
) -> ScheduledRun | None:
    """Take back (job, period): pending, failed awaiting a retry, or being worked on becomes
    withdrawn (final; the reason is its error), with its transition row. A worker running it finds
    it withdrawn before it records anything (is_withdrawn) and cannot finish it. None when there
    is no such run or it is already final."""
    now = now or utcnow()
    run = get_run(session=session, job=job, period=period)
    if run is None or run.state not in (RunState.PENDING, RunState.FAILED, RunState.WORKING):
        return None
    moved = _move_run(
        session,
        run,
        to_state=RunState.WITHDRAWN,
        note=f"withdrawn by {actor}: {reason}",
        now=now,
        error=f"withdrawn: {reason}"[:ERROR_LIMIT],
        finished_at=now,
    )
    if not moved:
        return None  # it moved meanwhile (claimed, finished or failed): read it again to withdraw it
    session.flush()
    return _refresh(session, row_id(run))


def is_withdrawn(*, session: Session, job: str, period: str) -> bool:
    """True when (job, period) has been withdrawn. Asked by a worker in the transaction that records
    the run's effects, before it records them: the run's row is locked first (a no-op conditional
    UPDATE: the row lock on PostgreSQL, the write lock on SQLite), so a withdrawal either committed
    before and is seen here, or waits for this transaction and finds what it recorded."""
    session.connection().execute(
        update(_runs).where(_runs.c.job == job, _runs.c.period == period).values(state=_runs.c.state)
    )
    run = get_run(session=session, job=job, period=period)
    return run is not None and run.state == RunState.WITHDRAWN


def claim_run(
    *,
    session: Session,
    job: str,
    period: str,
    worker_id: str,
    now: datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    retry_after: timedelta = RETRY_AFTER,
) -> ScheduledRun | None:
    """Take (job, period) for `worker_id`: create it if new, move pending or retryable-failed to working.

    Returns None when it is done, being worked on, finally failed, or failed too recently
    to retry. Exactly one of several concurrent callers gets the run.
    """
    now = now or utcnow()
    run = get_run(session=session, job=job, period=period)
    if run is None:
        run = _insert_pending(session, job=job, period=period, worker_id=worker_id, note="scheduled", now=now)
    if run.state not in (RunState.PENDING, RunState.FAILED):
        return None
    from_state = run.state
    res = session.connection().execute(
        update(_runs)
        .where(
            _runs.c.id == run.id,
            _runs.c.state == from_state,
            or_(
                _runs.c.state == RunState.PENDING,
                and_(
                    _runs.c.state == RunState.FAILED,
                    _runs.c.attempts < max_attempts,
                    or_(_runs.c.finished_at.is_(None), _runs.c.finished_at <= now - retry_after),
                ),
            ),
        )
        .values(
            state=RunState.WORKING,
            worker_id=worker_id,
            started_at=now,
            finished_at=None,
            attempts=_runs.c.attempts + 1,
            error="",
        )
    )
    if res.rowcount != 1:
        return None
    claimed = _refresh(session, row_id(run))
    _transition(
        session,
        run_id=row_id(claimed),
        from_state=from_state,
        to_state=RunState.WORKING,
        worker_id=worker_id,
        note=f"attempt {claimed.attempts}",
        at=now,
    )
    session.flush()
    return claimed


def _finish(
    session: Session, *, run_id: int, worker_id: str, to_state: str, now: datetime, note: str, **values: object
) -> ScheduledRun:
    res = session.connection().execute(
        update(_runs)
        .where(_runs.c.id == run_id, _runs.c.state == RunState.WORKING, _runs.c.worker_id == worker_id)
        .values(state=to_state, finished_at=now, **values)
    )
    if res.rowcount != 1:
        raise RunLostError()
    _transition(
        session, run_id=run_id, from_state=RunState.WORKING, to_state=to_state, worker_id=worker_id, note=note, at=now
    )
    session.flush()
    return _refresh(session, run_id)


def finish_run(
    *, session: Session, run_id: int, worker_id: str, result: dict[str, Any], now: datetime | None = None
) -> ScheduledRun:
    """Mark a working run done with its result; RunLostError if it is no longer ours."""
    return _finish(
        session,
        run_id=run_id,
        worker_id=worker_id,
        to_state=RunState.DONE,
        now=now or utcnow(),
        note="done",
        result=result,
    )


def fail_run(
    *,
    session: Session,
    run_id: int,
    worker_id: str,
    error: str,
    now: datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> ScheduledRun:
    """Mark a working run failed with its error; it is retried until `max_attempts`."""
    run = _finish(
        session,
        run_id=run_id,
        worker_id=worker_id,
        to_state=RunState.FAILED,
        now=now or utcnow(),
        note=error,
        error=error[:ERROR_LIMIT],
    )
    if run.attempts >= max_attempts:
        logger.error(
            "run %s %s/%s failed finally after %d attempts: %s", run.id, run.job, run.period, run.attempts, error
        )
    return run


def reap_stuck_runs(
    *, session: Session, timeout: timedelta, now: datetime | None = None, worker_id: str = "reaper"
) -> list[int]:
    """Fail runs that have been working longer than `timeout` (their worker died); returns their ids."""
    now = now or utcnow()
    stuck = session.exec(
        select(ScheduledRun)
        .where(ScheduledRun.state == RunState.WORKING, col(ScheduledRun.started_at) < now - timeout)
        .execution_options(populate_existing=True)
    ).all()
    reaped: list[int] = []
    for run in stuck:
        res = session.connection().execute(
            update(_runs)
            .where(_runs.c.id == run.id, _runs.c.state == RunState.WORKING, _runs.c.started_at == run.started_at)
            .values(state=RunState.FAILED, finished_at=now, error=f"stuck: no result within {timeout}")
        )
        if res.rowcount == 1:
            _transition(
                session,
                run_id=row_id(run),
                from_state=RunState.WORKING,
                to_state=RunState.FAILED,
                worker_id=worker_id,
                note=f"stuck since {run.started_at:%Y-%m-%d %H:%M:%S} UTC (worker {run.worker_id}); timeout {timeout}",
                at=now,
            )
            logger.warning(
                "run %s %s/%s reaped: working since %s on %s",
                run.id,
                run.job,
                run.period,
                run.started_at,
                run.worker_id,
            )
            reaped.append(row_id(run))
    session.flush()
    return reaped


def requeue_orphaned_runs(*, session: Session, worker_id: str, now: datetime | None = None) -> list[int]:
    """Runs left working by another worker, taken over by `worker_id` on acquiring the lease.

    Only the lease holder runs jobs, so a run still working under another worker id belongs
    to a worker that lost the lease (killed, or frozen past its lease). Nothing of such a run
    was committed: its job body commits with finish_run, which refuses a worker that lost the
    run. So it goes working -> failed -> pending and runs again now, not after the stuck timeout."""
    now = now or utcnow()
    orphans = session.exec(
        select(ScheduledRun)
        .where(ScheduledRun.state == RunState.WORKING, ScheduledRun.worker_id != worker_id)
        .execution_options(populate_existing=True)
    ).all()
    requeued: list[int] = []
    for run in orphans:
        res = session.connection().execute(
            update(_runs)
            .where(_runs.c.id == run.id, _runs.c.state == RunState.WORKING, _runs.c.worker_id == run.worker_id)
            .values(state=RunState.PENDING, finished_at=now, error=f"orphaned: worker {run.worker_id} lost the lease")
        )
        if res.rowcount == 1:
            _transition(
                session,
                run_id=row_id(run),
                from_state=RunState.WORKING,
                to_state=RunState.FAILED,
                worker_id=worker_id,
                note=f"worker {run.worker_id} lost the lease mid-run",
                at=now,
            )
            _transition(
                session,
                run_id=row_id(run),
                from_state=RunState.FAILED,
                to_state=RunState.PENDING,
                worker_id=worker_id,
                note="requeued at once by the new lease holder",
                at=now,
            )
            logger.warning(
                "run %s %s/%s orphaned by %s; requeued by %s", run.id, run.job, run.period, run.worker_id, worker_id
            )
            requeued.append(row_id(run))
    session.flush()
    return requeued


def due_runs(
    *,
    session: Session,
    now: datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    retry_after: timedelta = RETRY_AFTER,
) -> list[ScheduledRun]:
    """Runs waiting for a worker: pending (run-now requests) or failed and due for a retry."""
    now = now or utcnow()
    return list(
        session.exec(
            select(ScheduledRun)
            .where(
                or_(
                    col(ScheduledRun.state) == RunState.PENDING,
                    and_(
                        col(ScheduledRun.state) == RunState.FAILED,
                        col(ScheduledRun.attempts) < max_attempts,
                        col(ScheduledRun.finished_at) <= now - retry_after,
                    ),
                )
            )
            .order_by(col(ScheduledRun.id))
            .execution_options(populate_existing=True)
        ).all()
    )


def run_transitions(*, session: Session, run_id: int) -> list[RunTransition]:
    return list(
        session.exec(select(RunTransition).where(RunTransition.run_id == run_id).order_by(col(RunTransition.id))).all()
    )


# --- The worker lease ---------------------------------------------------------------


def acquire_lease(*, session: Session, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take the lease if it is free, expired or already ours; True if `holder` now holds it."""
    now = now or utcnow()
    res = session.connection().execute(
        update(_leases)
        .where(_leases.c.name == name, or_(_leases.c.holder == holder, _leases.c.expires_at < now))
        .values(holder=holder, expires_at=now + ttl, acquired_at=now)
    )
    if res.rowcount == 1:
        return True
    try:
        with session.begin_nested():
            session.add(WorkerLease(name=name, holder=holder, expires_at=now + ttl, acquired_at=now))
            session.flush()
    except IntegrityError:
        return False  # someone else holds a live lease
    return True


def renew_lease(*, session: Session, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Extend our lease; False if another worker has taken it."""
    now = now or utcnow()
    res = session.connection().execute(
        update(_leases).where(_leases.c.name == name, _leases.c.holder == holder).values(expires_at=now + ttl)
    )
    return res.rowcount == 1


def release_lease(*, session: Session, name: str, holder: str, now: datetime | None = None) -> bool:
    """Give the lease up (expire it now) so a standby can take over at once."""
    now = now or utcnow()
    res = session.connection().execute(
        update(_leases)
        .where(_leases.c.name == name, _leases.c.holder == holder)
        .values(expires_at=now - timedelta(microseconds=1))
    )
    return res.rowcount == 1


def lease_holder(*, session: Session, name: str, now: datetime | None = None) -> str | None:
    """Who holds a live lease, or None."""
    now = now or utcnow()
    lease = session.get(WorkerLease, name, populate_existing=True)
    if lease is None or lease.expires_at < now:
        return None
    return lease.holder
