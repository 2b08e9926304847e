"""The one notion of a period (期别) the product counts over: a quarter, a half-year or an
ad-hoc meeting's quarter-to-date, parsed from its key, labelled in Chinese, bounded in the
zone from Settings (TIMEZONE).

Keys:
- "2026Q1" — a quarter (季度), 2026年第一季度;
- "2026H1" — a half-year (半年), 2026年上半年;
- "2026-04-15" — an ad-hoc meeting's period: from the first day of that quarter to that day
  (the worker's manual-run key "adhoc-20260415T093000" names the same period).

A period is the half-open span [start, end) of aware UTC moments, first_day..last_day in
local calendar days. The brief, the notice rules, the review, the worker and the CLI all
parse periods here; a caller that takes only some kinds says so with `kinds=`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from oversight.dates import cn_date_range, local_zone
from oversight.errors import InvalidInputError

QUARTERLY, HALFYEARLY, ADHOC = "quarterly", "halfyearly", "adhoc"
KINDS = (QUARTERLY, HALFYEARLY, ADHOC)
MIN_YEAR, MAX_YEAR = 2000, 2099

CN_QUARTER = ("一", "二", "三", "四")
CN_HALF = ("上", "下")

_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")
_HALF_RE = re.compile(r"^(\d{4})H([12])$")
_DAY_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_ADHOC_RUN_RE = re.compile(r"^ADHOC-(\d{4})(\d{2})(\d{2})T\d{6}$")

_FORMS = {
    QUARTERLY: "季度写作 2026Q1（四位年份，季度1–4）",
    HALFYEARLY: "半年写作 2026H1（上半年 H1，下半年 H2）",
    ADHOC: "临时会议写作会议日期 2026-04-15",
}


class PeriodError(InvalidInputError):
    message = "期别格式不正确：季度写作 2026Q1，半年写作 2026H1，临时会议写作会议日期 2026-04-15。"


@dataclass(frozen=True)
class Period:
    """A period: its key, kind, local calendar days (inclusive) and zone."""

    key: str  # "2026Q1", "2026H2" or "2026-04-15"
    kind: str  # quarterly | halfyearly | adhoc
    first_day: date
    last_day: date  # inclusive
    tz: ZoneInfo

    @property
    def year(self) -> int:
        return self.last_day.year

    @property
    def start(self) -> datetime:
        """First instant of the period (aware UTC)."""
        return local_midnight(self.first_day, self.tz)

    @property
    def end(self) -> datetime:
        """First instant after the period (aware UTC): the period is [start, end)."""
        return local_midnight(self.last_day + timedelta(days=1), self.tz)

    @property
    def label(self) -> str:
        """2026年第一季度, 2026年上半年, 2026年4月1日至2026年4月15日."""
        if self.kind == QUARTERLY:
            return f"{self.year}年第{CN_QUARTER[(self.first_day.month - 1) // 3]}季度"
        if self.kind == HALFYEARLY:
            return f"{self.year}年{CN_HALF[(self.first_day.month - 1) // 6]}半年"
        return cn_date_range(self.first_day, self.last_day)

    def as_of(self, now: datetime) -> datetime:
        """The moment a computation looks at: the period's end, or `now` if that is earlier."""
        return min(self.end, now)

    def as_of_day(self, now: datetime) -> date:
        """The last day a computation at `now` looks at, as a figure's 截至 date: the period's last
        day once it has ended (its end is the midnight after it), else today."""
        return self.last_day if self.has_ended(now) else now.astimezone(self.tz).date()

    def has_ended(self, now: datetime) -> bool:
        return now >= self.end

    def previous(self) -> Period:
        """The quarter or half before this one (2026Q1 → 2025Q4; 2026H1 → 2025H2); for an
        ad-hoc period, the quarter before the one it lies in."""
        before = self.first_day - timedelta(days=1)
        if self.kind == HALFYEARLY:
            return half(before.year, 1 if before.month <= 6 else 2, self.tz)
        return quarter(before.year, (before.month - 1) // 3 + 1, self.tz)


def local_midnight(day: date, tz: ZoneInfo | None = None) -> datetime:
    """The first instant of local calendar day `day`, as aware UTC."""
    return datetime.combine(day, time(0), tz or local_zone()).astimezone(UTC)


def quarter(year: int, q: int, tz: ZoneInfo | None = None) -> Period:
    first = date(year, 3 * q - 2, 1)
    after = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return Period(f"{year}Q{q}", QUARTERLY, first, after - timedelta(days=1), tz or local_zone())


def half(year: int, h: int, tz: ZoneInfo | None = None) -> Period:
    first = date(year, 6 * h - 5, 1)
    after = date(year + 1, 1, 1) if h == 2 else date(year, 7, 1)
    return Period(f"{year}H{h}", HALFYEARLY, first, after - timedelta(days=1), tz or local_zone())


def adhoc(day: date, tz: ZoneInfo | None = None) -> Period:
    """An ad-hoc meeting's period: its quarter up to and including `day`."""
    first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return Period(day.isoformat(), ADHOC, first, day, tz or local_zone())


def parse_period(text: str, *, kinds: tuple[str, ...] = KINDS, tz: ZoneInfo | None = None) -> Period:
    """The period a key names (see the module doc); PeriodError, in Chinese, when the key is
    malformed, out of 2000–2099, or of a kind the caller does not take."""
    value = (text or "").strip()[:40]
    upper = value.upper()
    forms = "，".join(_FORMS[k] for k in kinds)
    bad = PeriodError(f"期别“{value}”格式不正确：{forms}。")
    zone = tz or local_zone()
    period: Period | None = None
    if m := _QUARTER_RE.match(upper):
        if MIN_YEAR <= int(m.group(1)) <= MAX_YEAR:
            period = quarter(int(m.group(1)), int(m.group(2)), zone)
    elif m := _HALF_RE.match(upper):
        if MIN_YEAR <= int(m.group(1)) <= MAX_YEAR:
            period = half(int(m.group(1)), int(m.group(2)), zone)
    elif m := (_DAY_RE.match(upper) or _ADHOC_RUN_RE.match(upper)):
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError as exc:
            raise bad from exc
        if MIN_YEAR <= day.year <= MAX_YEAR:
            period = adhoc(day, zone)
    if period is None or period.kind not in kinds:
        raise bad
    return period


def quarter_of(moment: datetime, tz: ZoneInfo | None = None) -> str:
    """The key of the quarter containing `moment` (local zone)."""
    local = moment.astimezone(tz or local_zone())
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def half_of(moment: datetime, tz: ZoneInfo | None = None) -> str:
    """The key of the half-year containing `moment` (local zone)."""
    local = moment.astimezone(tz or local_zone())
    return f"{local.year}H{1 if local.month <= 6 else 2}"


def previous_period(key: str) -> str:
    """The key of the quarter or half before `key` (2026Q1 → 2025Q4; 2026H1 → 2025H2)."""
    return parse_period(key).previous().key


def period_label(key: str) -> str | None:
    """The Chinese label of a period key, or None if the key names no period."""
    try:
        return parse_period(key).label
    except PeriodError:
        return None
