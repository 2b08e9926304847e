"""Working days on the Chinese calendar: statutory holidays and make-up working days (调休).

Data comes from the `chinesecalendar` package, which covers a fixed range of years
(the State Council publishes each year's arrangement in the preceding November). Outside
that range we fall back to "Monday to Friday" and warn once per year per process, so a
stale package shows up in the logs instead of silently shifting deadlines.
"""

from __future__ import annotations

import functools
import logging
import threading
from datetime import date, timedelta
from typing import Literal

import chinese_calendar
from chinese_calendar import constants as _cc_data

logger = logging.getLogger(__name__)

_ONE_DAY = timedelta(days=1)

# The package's own range check raises NotImplementedError outside these years; reading
# the bounds from its data keeps us right when the package is upgraded.
_FIRST_YEAR = min(d.year for d in _cc_data.holidays)
_LAST_YEAR = max(d.year for d in _cc_data.holidays)

_warned_years: set[int] = set()
_warn_lock = threading.Lock()

Light = Literal["red", "yellow", "green"]


def covered_years() -> tuple[int, int]:
    """Return the first and last year the holiday data covers (inclusive)."""
    return _FIRST_YEAR, _LAST_YEAR


def _warn_uncovered(year: int) -> None:
    """Log one warning per process for a year the holiday data does not cover."""
    with _warn_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    logger.warning(
        "chinesecalendar has no holiday data for %d (covers %d-%d); "
        "counting Monday to Friday as working days. Upgrade chinesecalendar.",
        year,
        _FIRST_YEAR,
        _LAST_YEAR,
    )


@functools.lru_cache(maxsize=8192)
def _calendar_workday(day: date) -> bool:
    """The package's answer, remembered: each answer scans its holiday tables (~25 µs), and
    counting the working days of a long-open problem asks about every day in between."""
    return chinese_calendar.is_workday(day)


def is_workday(day: date) -> bool:
    """Return whether people work on `day` in mainland China."""
    if _FIRST_YEAR <= day.year <= _LAST_YEAR:
        return _calendar_workday(day)
    _warn_uncovered(day.year)
    return day.weekday() < 5


def add_workdays(start: date, days: int) -> date:
    """Return the date `days` working days after `start` (before it if negative).

    `start` itself is not counted; with `days == 0` the result is `start` if it is a
    working day, else the next working day.
    """
    if days == 0:
        day = start
        while not is_workday(day):
            day += _ONE_DAY
        return day
    step = _ONE_DAY if days > 0 else -_ONE_DAY
    remaining = abs(days)
    day = start
    while remaining:
        day += step
        if is_workday(day):
            remaining -= 1
    return day


def workdays_between(start: date, end: date) -> int:
    """Return the number of working days in (start, end]; 0 if end <= start."""
    count = 0
    day = start + _ONE_DAY
    while day <= end:
        if is_workday(day):
            count += 1
        day += _ONE_DAY
    return count


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
