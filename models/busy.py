"""Recognising a database that is busy (locked by another writer) or briefly unavailable.

These are the errors worth waiting out and retrying: SQLite's "database is locked" after its
busy timeout, PostgreSQL's lock and serialization failures, and a connection the server
dropped. Anything else (a constraint, a syntax error, a missing table) is a bug or bad
input and must not be retried.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

# SQLite's texts for SQLITE_BUSY and SQLITE_LOCKED (sqlite3 gives no error code before 3.11's
# sqlite_errorcode, and the text is what every version has).
_SQLITE_BUSY_TEXTS = ("database is locked", "database is busy", "database table is locked")
# PostgreSQL SQLSTATEs: lock_not_available, serialization_failure, deadlock_detected,
# query_canceled (a statement or lock timeout), and the connection exceptions and
# admin/crash shutdown that a restarting server answers with.
_PG_BUSY_STATES = {"55P03", "40001", "40P01", "57014"}
_PG_UNAVAILABLE_STATES = {"08000", "08001", "08003", "08004", "08006", "57P01", "57P02", "57P03"}


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (SQLAlchemy's .orig) and its causes, each once."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo.extend([getattr(item, "orig", None), item.__cause__, item.__context__])
    return seen


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return state if isinstance(state, str) else None


def is_busy_error(exc: BaseException) -> bool:
    """True when `exc` means another transaction holds the lock (SQLite busy/locked, PostgreSQL
    lock timeout, serialization failure or deadlock)."""
    for item in _chain(exc):
        if isinstance(item, sqlite3.OperationalError) and any(t in str(item).lower() for t in _SQLITE_BUSY_TEXTS):
            return True
        if _sqlstate(item) in _PG_BUSY_STATES:
            return True
    return False


def is_unavailable_error(exc: BaseException) -> bool:
    """True when `exc` means the database could not be reached or dropped the connection."""
    for item in _chain(exc):
        if isinstance(item, DBAPIError) and item.connection_invalidated:
            return True
        if _sqlstate(item) in _PG_UNAVAILABLE_STATES:
            return True
        if isinstance(item, sqlite3.OperationalError) and "unable to open database" in str(item).lower():
            return True
        # psycopg raises a bare OperationalError (no SQLSTATE) when it cannot connect at all.
        psycopg_operational = type(item).__name__ == "OperationalError" and type(item).__module__.startswith("psycopg")
        if psycopg_operational and _sqlstate(item) is None:
            return True
    return False


def is_transient_error(exc: BaseException) -> bool:
    """Busy or unavailable: an error that waiting and retrying may cure."""
    return is_busy_error(exc) or is_unavailable_error(exc)


def retry_transient(
    action: Callable[[], _T],
    *,
    what: str,
    attempts: int = 5,
    delay: float = 0.5,
    max_delay: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> _T:
    """Run `action`; on a transient database error wait (doubling, capped) and run it again, up
    to `attempts` times in all, logging one line per retry; the last error is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if attempt == attempts or not is_transient_error(exc):
                raise
            wait = min(delay * 2 ** (attempt - 1), max_delay)
            logger.warning(
                "%s: database busy or unavailable (%s); retry %d in %.1f s", what, short_error(exc), attempt, wait
            )
            sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises


def short_error(exc: BaseException) -> str:
    """The driver's one-line message, without SQLAlchemy's SQL and parameters."""
    orig = getattr(exc, "orig", None) or exc
    return str(orig).splitlines()[0][:200] if str(orig) else type(orig).__name__
