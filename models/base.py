"""Column types and helpers shared by every table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import JSON, DateTime
from sqlalchemy.types import TypeDecorator

_clock: Callable[[], datetime] | None = None


def utcnow() -> datetime:
    """The current time, aware, in UTC (or the simulated time a demo replay has set)."""
    if _clock is not None:
        return _clock()
    return datetime.now(UTC)


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Make utcnow() follow `clock` (an aware-UTC callable), or real time again with None.

    Only the demo's replay of a past quarter uses this; everything else passes `now` in."""
    global _clock
    _clock = clock


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; SQLite's naive values come back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # Refuse silently-local times: every time in lianxi is aware.
            raise ValueError("naive datetime given; use aware UTC datetimes")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSON(), "sqlite")


class _Identified(Protocol):
    @property
    def id(self) -> int | None: ...


def row_id(row: _Identified) -> int:
    """The id of a row that is in the database (read from it, or added and flushed).

    A table's `id` is `int | None` because a new row has none until it is flushed; this is
    where code that holds a stored row says so, and a row that is not stored is a bug."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id: it is not stored yet (flush it first)")
    return row.id
