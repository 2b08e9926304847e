"""The one way dates and times are written for people: 2026年1月8日, 2026年1月8日 09:05.

Every chat message, document and CLI line that shows a date goes through these functions, so
a user never sees two styles (zero-padded or not, ISO or Chinese). Dates are written in Arabic
numerals without zero padding, as GB/T 9704 writes a 成文日期. Aware datetimes are shown in the
zone from Settings (TIMEZONE); a plain `date` is already a calendar day and is shown as it is.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from config.settings import get_settings
from oversight.errors import InvalidInputError


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


# --- Dates and times typed in chat ---------------------------------------------------------

_DATE_RE = re.compile(r"^(?:(\d{4})\s*[年\-/.]\s*)?(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*[日号]?")
_TIME_RE = re.compile(
    r"^(上午|下午|晚上|早上|中午)?\s*(\d{1,2})\s*(?:[:：]\s*(\d{1,2})|[点时]\s*(半|\d{1,2})?\s*分?)?$"
)
DATE_EXAMPLE = "2026年12月15日、12月15日或 2026-12-15"
DATETIME_EXAMPLE = "12月15日 9:30、2026年12月15日下午3点或 2026-12-15 15:00"
TYPED_MAX = 40


def _typed(text: str, what: str) -> str:
    body = " ".join((text or "").split())
    if not body or len(body) > TYPED_MAX:
        raise InvalidInputError(f"请发送{what}，不超过{TYPED_MAX}个字。")
    return body


def _day_of(text: str, *, today: date) -> tuple[date, str]:
    """The calendar day at the start of `text` and what follows it; a day without its year is the
    next such day from `today` on."""
    m = _DATE_RE.match(text)
    if m is None:
        raise InvalidInputError(f"“{text}”不是有效日期，请按 {DATE_EXAMPLE} 的格式发送。")
    year, month, dom = (int(g) if g else None for g in m.groups())
    assert month is not None and dom is not None  # the pattern requires both
    candidates = [year] if year else [today.year, today.year + 1]
    for y in candidates:
        try:
            day = date(y, month, dom)
        except ValueError:
            named = f"{y}年{month}月{dom}日" if year else f"{month}月{dom}日"
            raise InvalidInputError(f"没有{named}这一天，请检查后重新发送。") from None
        if year or day >= today:
            return day, text[m.end() :].strip()
    return day, text[m.end() :].strip()


def parse_cn_date(text: str, *, today: date) -> date:
    """A day typed in chat: 2026年12月15日, 12月15日 (this year, or the next if it has passed), 2026-12-15."""
    body = _typed(text, "日期")
    day, rest = _day_of(body, today=today)
    if rest:
        raise InvalidInputError(f"“{body}”不是有效日期，请按 {DATE_EXAMPLE} 的格式发送。")
    return day


def parse_cn_datetime(text: str, *, now: datetime, tz: ZoneInfo | None = None) -> datetime:
    """A day and a time typed in chat, in the shown zone, returned aware in UTC: 12月15日 9:30,
    2026年12月15日下午3点, 12月15日上午9点半, 2026-12-15 15:00."""
    zone = tz or local_zone()
    body = _typed(text, "日期和时间")
    day, rest = _day_of(body, today=local_day(now, zone))
    if not rest:
        raise InvalidInputError(f"请同时写明时间，如 {DATETIME_EXAMPLE}。")
    m = _TIME_RE.match(rest)
    if m is None:
        raise InvalidInputError(f"“{rest}”不是有效时间，请按 {DATETIME_EXAMPLE} 的格式发送。")
    part, hour_s, minute_s, dot_s = m.groups()
    hour = int(hour_s)
    minute = 30 if dot_s == "半" else int(minute_s or dot_s or 0)
    if part in ("下午", "晚上") and 1 <= hour < 12:
        hour += 12
    if part == "中午" and hour < 3:
        hour += 12
    if hour > 23 or minute > 59 or (part in ("上午", "早上") and hour > 12):
        raise InvalidInputError(f"“{rest}”不是有效时间，请按 {DATETIME_EXAMPLE} 的格式发送。")
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return local.astimezone(UTC)
