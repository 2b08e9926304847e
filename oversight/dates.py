"""The one way dates and times are written for people: 2026年1月8日, 2026年1月8日 09:05.

Every chat message, document and CLI line that shows a date goes through these functions, so
a user never sees two styles (zero-padded or not, ISO or Chinese). Dates are written in Arabic
numerals without zero padding, as GB/T 9704 writes a 成文日期. Aware datetimes are shown in the
zone from Settings (TIMEZONE); a plain `date` is already a calendar day and is shown as it is.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from config.settings import get_settings


def local_zone() -> ZoneInfo:
    """The zone every date is shown and scheduled in (Settings.TIMEZONE)."""
    return get_settings().tz


def local_day(moment: date | datetime, tz: ZoneInfo | None = None) -> date:
    """The calendar day of `moment` in the shown zone (a plain date is returned as it is)."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("naive datetime: times are stored aware, in UTC")
        return moment.astimezone(tz or local_zone()).date()
    return moment


def cn_date(moment: date | datetime, tz: ZoneInfo | None = None) -> str:
    """2026年1月8日."""
    day = local_day(moment, tz)
    return f"{day.year}年{day.month}月{day.day}日"


def cn_datetime(moment: datetime, tz: ZoneInfo | None = None) -> str:
    """2026年1月8日 09:05 (the time zero-padded, as a clock shows it)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times are stored aware, in UTC")
    local = moment.astimezone(tz or local_zone())
    return f"{cn_date(local.date())} {local:%H:%M}"


def cn_date_range(first: date, last: date) -> str:
    """2026年1月1日至2026年3月31日 (both ends whole: one date format everywhere)."""
    if first == last:
        return cn_date(first)
    return f"{cn_date(first)}至{cn_date(last)}"
