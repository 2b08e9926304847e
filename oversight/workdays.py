"""The one working-day calendar of the product: statutory holidays and make-up working days (调休).

Every working-day computation (deadlines, 督办 colours, the quarterly schedules, reminders, the
rules, the brief and the review) goes through this module; nothing else asks chinesecalendar or
counts Monday to Friday on its own.

Data, per year:
- the years the `chinesecalendar` package ships (2004 to the package's last year), and
- years an admin stored from the State Council's notice (国务院办公厅关于20XX年部分节假日安排的通知,
  parsed by `oversight.holiday_notice`), kept in the table `calendaryear`. A stored year replaces the
  package's data for that year.
A year in neither is *estimated*: Monday to Friday count as working days, a warning is logged once
per year per process, and every date the product shows that was computed on such a year is marked
估算 (`is_estimated`).

The answers are in memory: one immutable snapshot of sets per process, so a lookup is a set
membership test (the brief and the rules ask about every day of long spans). The snapshot is
replaced — the cache invalidated — when this process stores a year (`store_year`), and when
`refresh(session=…)` sees that the stored years changed in the database (another process stored
one); the edges call `refresh` at the start of their work (the worker every poll, the bot and the
CLI per transaction), which costs one small query at most once every `REFRESH_SECONDS`.

Public API (keyword-only where new; the older positional functions keep their signatures):
- `is_workday(day)`, `is_holiday(day)`, `add_workdays(start, days)`, `workdays_between(start, end)`,
  `nth_workday_after(day, n)`, `workdays_in(first, last)`, `has_workday(first, last)`,
  `due_light(due=, today=)`;
- `is_estimated(day)`, `any_estimated(days)`, `estimate_mark(day)`, `known_years()`,
  `first_estimated_year()`, `covered_years()` (the package's range), `data_version()`;
- `year_data(year)` (holidays, make-up days, names, source of one known year), `year_json(year)`;
- `refresh(session=…)`, `store_year(session=…, …)`, `reset()` (package data only; for tests).

A year's notice may place days in the previous year (e.g. 2018-12-30 for 元旦 2019); they are stored
with the year whose notice names them and answered like any other day.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import chinese_calendar
from chinese_calendar import constants as _cc_data
from sqlmodel import Session, col, select

from models import CalendarYear, utcnow
from oversight.audit import audit

logger = logging.getLogger(__name__)

_ONE_DAY = timedelta(days=1)

# The package's own range check raises NotImplementedError outside these years; reading
# the bounds from its data keeps us right when the package is upgraded.
_FIRST_YEAR: int = min(d.year for d in _cc_data.holidays)  # the package ships no types
_LAST_YEAR: int = max(d.year for d in _cc_data.holidays)
PACKAGE_SOURCE = f"chinesecalendar {getattr(chinese_calendar, '__version__', '')}".strip()

# How often (seconds) `refresh` asks the database whether the stored years changed.
REFRESH_SECONDS = 30.0
ESTIMATE_MARK = "（估算）"

_warned_years: set[int] = set()
_warn_lock = threading.Lock()

Light = Literal["red", "yellow", "green"]


@dataclass(frozen=True)
class YearData:
    """One year's arrangement: holidays (放假 days, weekends inside a holiday included), make-up
    working days (weekend days worked, 调休上班), the festival each belongs to, and where it came from."""

    year: int
    holidays: tuple[date, ...]
    workdays: tuple[date, ...]
    names: Mapping[date, str] = field(default_factory=dict)
    source: str = ""
    stored_by: str = ""
    stored_at: datetime | None = None
    stored: bool = False  # an admin's year (database), not the package's


# The package keeps each day's festival by its English name.
_ZH_NAMES = {h.value: h.chinese for h in _cc_data.Holiday}


def _package_year(year: int) -> YearData:
    holidays = {d: _ZH_NAMES.get(h, h) for d, h in _cc_data.holidays.items() if d.year == year}
    workdays = {d: _ZH_NAMES.get(h, h) for d, h in _cc_data.workdays.items() if d.year == year}
    return YearData(
        year=year,
        holidays=tuple(sorted(holidays)),
        workdays=tuple(sorted(workdays)),
        names={**holidays, **workdays},
        source=PACKAGE_SOURCE,
    )


_PACKAGE_YEARS: dict[int, YearData] = {y: _package_year(y) for y in range(_FIRST_YEAR, _LAST_YEAR + 1)}


@dataclass(frozen=True)
class _Snapshot:
    """What the process answers from: built once per change, never mutated."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    years: frozenset[int]
    stored: Mapping[int, int]  # year -> version of the stored rows it was built from
    data: Mapping[int, YearData]
    version: int


def _build(stored: Mapping[int, YearData], versions: Mapping[int, int], version: int) -> _Snapshot:
    data = {**_PACKAGE_YEARS, **stored}
    holidays: set[date] = set()
    workdays: set[date] = set()
    for year in sorted(data):
        holidays.update(data[year].holidays)
        workdays.update(data[year].workdays)
    # A stored year wins over the package for the dates it names (a later notice wins over an earlier one).
    for year in sorted(stored):
        holidays.difference_update(stored[year].workdays)
        workdays.difference_update(stored[year].holidays)
    return _Snapshot(
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        years=frozenset(data),
        stored=dict(versions),
        data=data,
        version=version,
    )


_snapshot = _build({}, {}, 0)
_swap_lock = threading.Lock()
_checked_at = float("-inf")


def _install(stored: Mapping[int, YearData], versions: Mapping[int, int]) -> None:
    global _snapshot
    with _swap_lock:
        _snapshot = _build(stored, versions, _snapshot.version + 1)


def reset() -> None:
    """Forget stored years: package data only (a fresh process; for tests)."""
    global _checked_at
    _install({}, {})
    _checked_at = float("-inf")


# --- Answers -----------------------------------------------------------------------------


def covered_years() -> tuple[int, int]:
    """Return the first and last year the package's holiday data covers (inclusive)."""
    return _FIRST_YEAR, _LAST_YEAR


def known_years() -> frozenset[int]:
    """Every year with official data: the package's and the stored ones."""
    return _snapshot.years


def first_estimated_year(after: int | None = None) -> int:
    """The first year after the package's first year (or after `after`) that has no data."""
    years = _snapshot.years
    year = max(_FIRST_YEAR, (after or _FIRST_YEAR - 1) + 1)
    while year in years:
        year += 1
    return year


def data_version() -> int:
    """A number that changes whenever this process's calendar data changes (for caches built on it)."""
    return _snapshot.version


def is_estimated(day: date) -> bool:
    """Whether `day` lies in a year without official data (its working days are Monday to Friday, 估算)."""
    return day.year not in _snapshot.years


def any_estimated(days: Iterable[date | None]) -> bool:
    """Whether any of `days` (None ignored) lies beyond the known data."""
    years = _snapshot.years
    return any(d is not None and d.year not in years for d in days)


def estimate_mark(day: date | None) -> str:
    """ "（估算）" after a date computed beyond the known data, else ""."""
    return ESTIMATE_MARK if day is not None and day.year not in _snapshot.years else ""


# The log record's attribute naming the year, so an edge (the CLI) can tell its user in Chinese.
UNCOVERED_YEAR = "uncovered_year"


def _warn_uncovered(year: int) -> None:
    """Log one warning per process for a year the holiday data does not cover."""
    if year in _warned_years:
        return
    with _warn_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    logger.warning(
        "no holiday data for %d (chinesecalendar covers %d-%d; stored years: %s); "
        "counting Monday to Friday as working days. An admin can add the year from the State "
        "Council's notice (/calendar, or lianxi calendar import).",
        year,
        _FIRST_YEAR,
        _LAST_YEAR,
        ",".join(str(y) for y in sorted(_snapshot.stored)) or "none",
        extra={UNCOVERED_YEAR: year},
    )


def _answer(snap: _Snapshot, day: date) -> bool:
    if day in snap.workdays:
        return True
    if day in snap.holidays:
        return False
    if day.year not in snap.years:
        _warn_uncovered(day.year)
    return day.weekday() < 5


def is_workday(day: date) -> bool:
    """Return whether people work on `day` in mainland China."""
    return _answer(_snapshot, day)


def is_holiday(day: date) -> bool:
    """Whether `day` is a day off of a statutory holiday (放假, weekends inside it included)."""
    return day in _snapshot.holidays


def add_workdays(start: date, days: int) -> date:
    """Return the date `days` working days after `start` (before it if negative).

    `start` itself is not counted; with `days == 0` the result is `start` if it is a
    working day, else the next working day.
    """
    snap = _snapshot
    if days == 0:
        day = start
        while not _answer(snap, day):
            day += _ONE_DAY
        return day
    step = _ONE_DAY if days > 0 else -_ONE_DAY
    remaining = abs(days)
    day = start
    while remaining:
        day += step
        if _answer(snap, day):
            remaining -= 1
    return day


def workdays_between(start: date, end: date) -> int:
    """Return the number of working days in (start, end]; 0 if end <= start."""
    snap = _snapshot
    count = 0
    day = start + _ONE_DAY
    while day <= end:
        if _answer(snap, day):
            count += 1
        day += _ONE_DAY
    return count


def workdays_in(first: date, last: date) -> int:
    """The number of working days in [first, last] (both included); 0 if last < first."""
    return workdays_between(first - _ONE_DAY, last)


def has_workday(first: date, last: date) -> bool:
    """Whether [first, last] holds at least one working day (a reporting week that counts)."""
    snap = _snapshot
    day = first
    while day <= last:
        if _answer(snap, day):
            return True
        day += _ONE_DAY
    return False


def nth_workday_after(day: date, n: int) -> date:
    """Return the n-th working day strictly after `day` (n >= 1)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return add_workdays(day, n)


def due_light(*, due: date, today: date) -> Light:
    """Return the /todo light: red when overdue, yellow within 3 working days, else green."""
    if today > due:
        return "red"
    if workdays_between(today, due) <= 3:
        return "yellow"
    return "green"


# --- Years, as shown and stored -------------------------------------------------------------


def year_data(year: int) -> YearData | None:
    """The arrangement of `year` the calendar answers from; None for a year without data."""
    return _snapshot.data.get(year)


def year_json(data: YearData) -> dict[str, Any]:
    """`lianxi calendar show --json`: {"year", "holidays": [ISO], "workdays": [ISO], "source"}."""
    return {
        "year": data.year,
        "holidays": [d.isoformat() for d in data.holidays],
        "workdays": [d.isoformat() for d in data.workdays],
        "source": data.source,
    }


def _from_row(row: CalendarYear) -> YearData:
    names = {date.fromisoformat(k): str(v) for k, v in (row.names or {}).items()}
    return YearData(
        year=row.year,
        holidays=tuple(sorted(date.fromisoformat(d) for d in row.holidays)),
        workdays=tuple(sorted(date.fromisoformat(d) for d in row.workdays)),
        names=names,
        source=row.source,
        stored_by=row.stored_by,
        stored_at=row.stored_at,
        stored=True,
    )


def refresh(*, session: Session, max_age: float = REFRESH_SECONDS) -> bool:
    """Bring this process's calendar up to date with the stored years; True if it changed.

    Asks the database at most once every `max_age` seconds (0: now): one query of (year, version).
    """
    global _checked_at
    now = time.monotonic()
    if now - _checked_at < max_age:
        return False
    versions = dict(session.exec(select(CalendarYear.year, CalendarYear.version)).all())
    _checked_at = now
    if versions == dict(_snapshot.stored):
        return False
    rows = session.exec(select(CalendarYear).order_by(col(CalendarYear.year))).all()
    _install({r.year: _from_row(r) for r in rows}, {r.year: r.version for r in rows})
    logger.info("calendar: stored years now %s", ",".join(f"{y}(v{v})" for y, v in sorted(versions.items())) or "none")
    return True


def store_year(
    *,
    session: Session,
    year: int,
    holidays: Mapping[date, str],
    workdays: Mapping[date, str],
    source: str,
    notice_text: str,
    actor: str,
    now: datetime | None = None,
) -> CalendarYear:
    """Store (or replace) a year's arrangement, audit who did it, and answer from it at once.

    `holidays` and `workdays` map each date to its festival's name. The caller has shown the
    parsed year to the admin and had it confirmed (`oversight.holiday_notice`).
    """
    now = now or utcnow()
    row = session.get(CalendarYear, year)
    before = year_data(year)
    previous = year_json(before) if before is not None else None
    names = {d.isoformat(): n for d, n in {**holidays, **workdays}.items()}
    if row is None:
        row = CalendarYear(year=year, version=0)
    row.holidays = sorted(d.isoformat() for d in holidays)
    row.workdays = sorted(d.isoformat() for d in workdays)
    row.names = dict(sorted(names.items()))
    row.source = source[:300]
    row.notice_text = notice_text[:20000]
    row.stored_at, row.stored_by = now, actor
    row.version += 1
    session.add(row)
    session.flush()
    audit(
        session=session,
        actor=actor,
        action="calendar.replaced" if previous is not None else "calendar.stored",
        object_type="calendar_year",
        object_id=year,
        detail={
            "year": year,
            "version": row.version,
            "source": row.source,
            "holidays": len(row.holidays),
            "workdays": len(row.workdays),
            "previous": previous,
        },
        at=now,
    )
    rows = session.exec(select(CalendarYear)).all()
    _install({r.year: _from_row(r) for r in rows}, {r.year: r.version for r in rows})
    # Until the transaction commits, the database may still say otherwise (a rollback): the next
    # refresh, in whichever session, checks again instead of trusting this process's copy.
    global _checked_at
    _checked_at = float("-inf")
    return row
