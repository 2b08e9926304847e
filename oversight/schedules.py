"""Job schedules as data: admins set them, the worker follows them.

Admins write a schedule in words ("每周五下午三点", "工作日每天 8:30", "每季度结束后第5个工作日 09:00":
`oversight.schedule_text`) or as an expression. Stored is one canonical expression:
- a standard 5-field cron (分 时 日 月 星期, 0 or 7 = Sunday), its arithmetic by croniter;
- `@workdays HH:MM`: each working day of the Chinese calendar (`oversight.workdays`);
- `@quarterly-wdN HH:MM`: the N-th working day after each quarter ends.
Each has a picklable APScheduler trigger (the worker's job store) that also looks back
(`last_fire_time`: the catch-up of a run missed while no worker was up). A job that messages
people runs at most once an hour (MIN_MESSAGING_INTERVAL_MINUTES); a fire time counted in working
days of a year without holiday data is shown 估算.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from croniter import CroniterBadDateError, croniter
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import JobSchedule, Member, Role, RunState, RunWatcher, ScheduledRun, Unit, utcnow
from models.base import row_id
from oversight import runs, schedule_text
from oversight.audit import audit
from oversight.dates import cn_datetime, local_zone
from oversight.errors import ScheduleError
from oversight.facts import Chat
from oversight.outbox import queued_under
from oversight.periods import period_label
from oversight.schedule_text import PhraseError, describe_cron, looks_like_phrase, parse_phrase
from oversight.workdays import ESTIMATE_MARK, is_estimated, is_workday, nth_workday_after

# How a job's fire time maps to the period its run covers.
PERIOD_PREV_QUARTER = "prev_quarter"  # firing in April covers 2026Q1
PERIOD_WEEK_BEFORE = "week_before"  # the ISO week of the day before: Monday covers the week just ended
PERIOD_DAY = "day"  # the local date
PERIOD_MINUTE = "minute"  # the local minute (jobs without a natural period)
PERIOD_PREV_HALF = "prev_half"  # firing in July covers 2026H1, in January the previous year's H2
PERIOD_WEEK = "week"  # the ISO week of the fire day


@dataclass(frozen=True)
class JobDef:
    """A job the worker knows: its Chinese name, default schedule and period rule."""

    name: str
    label: str
    cron: str
    period_rule: str
    summary: str = ""
    audience: str = ""  # who its messages go to (联络员, 召集人和办公室 …); "" for a job that messages nobody


JOB_DEFS: dict[str, JobDef] = {}


def define_job(
    name: str,
    *,
    label: str,
    cron: str,
    period_rule: str = PERIOD_MINUTE,
    summary: str = "",
    audience: str = "相关人员",
) -> JobDef:
    """Declare a job and its default schedule (validated); returns the definition."""
    job_def = JobDef(
        name=name, label=label, cron=normalize_expr(cron), period_rule=period_rule, summary=summary, audience=audience
    )
    check_interval(job_def, job_def.cron)
    JOB_DEFS[name] = job_def
    return job_def


def check_interval(job_def: JobDef, expr: str) -> None:
    """Refuse a schedule that would message people more often than once an hour, saying why."""
    if not job_def.audience or min_interval_minutes(expr) >= MIN_MESSAGING_INTERVAL_MINUTES:
        return
    raise ScheduleError(
        f"“{job_def.label}”每次运行都会给{job_def.audience}发送消息，最多每小时运行一次，"
        f"以免频繁打扰大家（Telegram 也会限制频繁发送）。“{describe(expr)}”过于频繁，"
        "请改为每小时一次或更长的间隔，例如“每周一 9:00”“每天 17:30”。"
    )


# --- Expressions ---------------------------------------------------------------

CRON_HELP = "格式：分 时 日 月 星期，例如 0 9 * * 1 表示每周一 9:00。"
QUARTERLY_HELP = "格式：@quarterly-wdN HH:MM，例如 @quarterly-wd5 09:00 表示每季度结束后第5个工作日 09:00。"
WORDS_HELP = (
    "可以这样写：每周五 15:00、每周一上午9点、每天 17:30、工作日每天 8:30、每月1日 9:00、"
    "每季度结束后第5个工作日 09:00；也可以写 cron 表达式（分 时 日 月 星期，例如 0 9 * * 1）。"
)
_QUARTERLY_RE = re.compile(r"^@quarterly-wd(\d{1,3})\s+(\d{1,2}):(\d{2})$", re.IGNORECASE)
_WORKDAYS_RE = re.compile(r"^@workdays\s+(\d{1,2}):(\d{2})$", re.IGNORECASE)
_FIELDS = (
    ("minute", "分钟", 0, 59),
    ("hour", "小时", 0, 23),
    ("day", "日", 1, 31),
    ("month", "月", 1, 12),
    ("day_of_week", "星期", 0, 7),
)
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # standard cron numbering: 0 = Sunday
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MAX_QUARTERLY_WORKDAY = 40
MIN_MESSAGING_INTERVAL_MINUTES = 60


def _cron_error(expr: str, reason: str) -> ScheduleError:
    return ScheduleError(f"“{expr}” 不是有效的 cron 表达式：{reason}。{CRON_HELP}")


def _parse_at(expr: str, pattern: re.Pattern[str], help_text: str, n_max: int | None) -> tuple[int, int, int] | None:
    """(n, hour, minute) of `@quarterly-wdN HH:MM` or (0, hour, minute) of `@workdays HH:MM`; errors in Chinese."""
    m = pattern.match(expr)
    if m is None:
        raise ScheduleError(f"“{expr}” 不是有效的{'季度' if n_max else '工作日'}表达式。{help_text}")
    values = [int(g) for g in m.groups()]
    n, hour, minute = values if n_max else [0, *values]
    kind = "季度" if n_max else "工作日"
    if n_max and not 1 <= n <= n_max:
        raise ScheduleError(f"“{expr}” 不是有效的季度表达式：第 N 个工作日须在1–{n_max}之间。{help_text}")
    if hour > 23:
        raise ScheduleError(f"“{expr}” 不是有效的{kind}表达式：小时须在0–23之间。{help_text}")
    if minute > 59:
        raise ScheduleError(f"“{expr}” 不是有效的{kind}表达式：分钟须在0–59之间。{help_text}")
    return n, hour, minute


def _parse_quarterly(expr: str) -> tuple[int, int, int] | None:
    """(n, hour, minute) of a `@quarterly-wdN HH:MM` expression, None if it is not one; errors in Chinese."""
    if not expr.lower().startswith("@quarterly"):
        return None
    return _parse_at(expr, _QUARTERLY_RE, QUARTERLY_HELP, MAX_QUARTERLY_WORKDAY)


def _parse_workdays(expr: str) -> tuple[int, int] | None:
    """(hour, minute) of a `@workdays HH:MM` expression (each working day), None if it is not one."""
    if not expr.lower().startswith("@workdays"):
        return None
    parsed = _parse_at(expr, _WORKDAYS_RE, "格式：@workdays HH:MM，例如 @workdays 08:30 表示工作日每天 8:30。", None)
    assert parsed is not None
    return parsed[1], parsed[2]


def _check_cron(expr: str) -> None:
    """Refuse what is not a standard 5-field cron, field by field, in Chinese (croniter does the arithmetic)."""
    fields = expr.split()
    if len(fields) != 5:
        raise _cron_error(expr, f"须有5个字段（分 时 日 月 星期），这里有{len(fields)}个")
    for i, ((_, label, lo, hi), value) in enumerate(zip(_FIELDS, fields, strict=True)):
        names = _DOW_NAMES if i == 4 else _MONTH_NAMES if i == 3 else ()
        words = re.findall(r"[a-zA-Z]+", value)
        probe = ["0", "0", "*", "*", "*"]
        probe[i] = value
        known_words = all(w.lower() in names for w in words)
        if known_words and re.fullmatch(r"[0-9a-zA-Z*,/\-]+", value) and croniter.is_valid(" ".join(probe)):
            continue
        if known_words and re.fullmatch(r"[0-9*,/\-]+", value) and not re.search(r"/0*(?:[,]|$)", value):
            if i == 4:
                raise _cron_error(expr, "星期须在0–7之间（0和7都表示星期日）")
            raise _cron_error(expr, f"{label}须在{lo}–{hi}之间")
        raise _cron_error(expr, f"{label}字段“{value}”无法识别")
    if fields[2] != "*" and fields[4] != "*":
        # Classic cron ORs day-of-month and day-of-week: refuse the ambiguity rather than guess.
        raise _cron_error(expr, "不能同时限定“日”和“星期”，请只指定其一，另一个写 *")
    try:
        # Each field may be valid and the day still not exist (2月30日, 4月31日): such a schedule
        # never fires, and its next run cannot be computed for the reply or the worker.
        croniter(expr, datetime(2026, 1, 1)).get_next(datetime)
    except CroniterBadDateError as exc:
        raise _cron_error(expr, "所指定的日期不存在（如2月30日、4月31日），任务永远不会运行") from exc


def normalize_expr(expr: str) -> str:
    """The canonical form of a schedule written as words or as an expression; ScheduleError (Chinese) if invalid."""
    text = " ".join((expr or "").split())
    if not text:
        raise ScheduleError(f"时间安排不能为空。{WORDS_HELP}")
    if len(text) > 100:
        raise ScheduleError(f"时间安排过长（{len(text)}字）。{WORDS_HELP}")
    if looks_like_phrase(text):
        try:
            return normalize_expr(parse_phrase(text))
        except PhraseError as exc:
            raise ScheduleError(f"“{text}”无法识别为时间安排：{exc.reason}。{WORDS_HELP}") from exc
    quarterly = _parse_quarterly(text)
    if quarterly is not None:
        n, hour, minute = quarterly
        return f"@quarterly-wd{n} {hour:02d}:{minute:02d}"
    daily = _parse_workdays(text)
    if daily is not None:
        return f"@workdays {daily[0]:02d}:{daily[1]:02d}"
    if text.startswith("@"):
        raise ScheduleError(f"“{text}” 不是支持的表达式，请用5字段 cron 或季度表达式。{CRON_HELP}{QUARTERLY_HELP}")
    _check_cron(text)
    return text


def depends_on_calendar(expr: str) -> bool:
    """Whether the fire times of `expr` are counted in working days (so may be 估算)."""
    return normalize_expr(expr).startswith(("@quarterly", "@workdays"))


def min_interval_minutes(expr: str) -> int:
    """The shortest gap between two fires of `expr`, in minutes (a day for the working-day forms)."""
    text = normalize_expr(expr)
    if text.startswith("@"):
        return 24 * 60
    return schedule_text.min_interval_minutes(text)


def _floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _cron_next(expr: str, moment: datetime, tz: ZoneInfo) -> datetime:
    """The first fire of `expr` at or after `moment`."""
    local = moment.astimezone(tz)
    start = _floor_second(local) - timedelta(seconds=1) if local.microsecond == 0 else _floor_second(local)
    fire: datetime = croniter(expr, start).get_next(datetime)
    return fire


def _cron_prev(expr: str, moment: datetime, tz: ZoneInfo) -> datetime:
    """The last fire of `expr` at or before `moment`."""
    local = moment.astimezone(tz)
    fire: datetime = croniter(expr, _floor_second(local) + timedelta(seconds=1)).get_prev(datetime)
    return fire


class CronExprTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no type information
    """A standard 5-field cron, its arithmetic by croniter (module-level: picklable into the job store)."""

    def __init__(self, expr: str, timezone: ZoneInfo | None = None) -> None:
        self.expr = expr
        self.timezone = timezone or local_zone()

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "expr": self.expr, "tz": self.timezone.key}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.expr, self.timezone = state["expr"], ZoneInfo(state["tz"])

    def __str__(self) -> str:
        return f"cron[{self.expr}] [{self.timezone.key}]"

    def __repr__(self) -> str:
        return f"<CronExprTrigger {self.expr!r} tz={self.timezone.key}>"

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        threshold = previous_fire_time + timedelta(microseconds=1) if previous_fire_time else now
        return _cron_next(self.expr, threshold, self.timezone)

    def last_fire_time(self, now: datetime) -> datetime | None:
        """The latest fire time at or before `now`."""
        return _cron_prev(self.expr, now, self.timezone)


class WorkdayTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no type information
    """Fires at HH:MM on each working day of the Chinese calendar (`@workdays HH:MM`)."""

    def __init__(self, hour: int, minute: int, timezone: ZoneInfo | None = None) -> None:
        self.hour = hour
        self.minute = minute
        self.timezone = timezone or local_zone()

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "hour": self.hour, "minute": self.minute, "tz": self.timezone.key}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.hour, self.minute, self.timezone = state["hour"], state["minute"], ZoneInfo(state["tz"])

    def __str__(self) -> str:
        return f"workdays {self.hour:02d}:{self.minute:02d} [{self.timezone.key}]"

    def __repr__(self) -> str:
        return f"<WorkdayTrigger at={self.hour:02d}:{self.minute:02d} tz={self.timezone.key}>"

    def _fire(self, day: date) -> datetime:
        return datetime.combine(day, time(self.hour, self.minute), tzinfo=self.timezone)

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        threshold = previous_fire_time + timedelta(microseconds=1) if previous_fire_time else now
        day = threshold.astimezone(self.timezone).date()
        for _ in range(400):  # the longest holiday is days, not months
            if is_workday(day) and self._fire(day) >= threshold:
                return self._fire(day)
            day += timedelta(days=1)
        return None  # pragma: no cover

    def last_fire_time(self, now: datetime) -> datetime | None:
        """The latest fire time at or before `now`."""
        day = now.astimezone(self.timezone).date()
        for _ in range(400):
            if is_workday(day) and self._fire(day) <= now:
                return self._fire(day)
            day -= timedelta(days=1)
        return None  # pragma: no cover


class QuarterlyWorkdayTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no type information
    """Fires at HH:MM on the n-th working day after each quarter ends (module-level: picklable)."""

    def __init__(self, n: int, hour: int, minute: int, timezone: ZoneInfo | None = None) -> None:
        self.n = n
        self.hour = hour
        self.minute = minute
        self.timezone = timezone or local_zone()

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "n": self.n, "hour": self.hour, "minute": self.minute, "tz": self.timezone.key}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.n, self.hour, self.minute = state["n"], state["hour"], state["minute"]
        self.timezone = ZoneInfo(state["tz"])

    def __str__(self) -> str:
        return f"quarterly-wd{self.n} {self.hour:02d}:{self.minute:02d} [{self.timezone.key}]"

    def __repr__(self) -> str:
        return f"<QuarterlyWorkdayTrigger n={self.n} at={self.hour:02d}:{self.minute:02d} tz={self.timezone.key}>"

    def fire_for_quarter_end(self, quarter_end: date) -> datetime:
        """The fire time for the quarter that ends on `quarter_end`."""
        day = nth_workday_after(quarter_end, self.n)
        return datetime.combine(day, time(self.hour, self.minute), tzinfo=self.timezone)

    def _quarter_ends(self, moment: datetime, first: int, last: int) -> list[date]:
        """Quarter ends from `first` to `last` quarters relative to the quarter of `moment` (-1 = the previous one)."""
        local = moment.astimezone(self.timezone)
        index = local.year * 4 + (local.month - 1) // 3
        return [_quarter_end(*divmod(i, 4)) for i in range(index + first, index + last + 1)]

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        threshold = previous_fire_time + timedelta(microseconds=1) if previous_fire_time else now
        # The previous quarter's fire may still be ahead (early in a quarter); else the current one's.
        for end in self._quarter_ends(threshold, -1, 1):
            fire = self.fire_for_quarter_end(end)
            if fire >= threshold:
                return fire
        return None  # pragma: no cover - the current quarter's fire is always ahead

    def last_fire_time(self, now: datetime) -> datetime | None:
        """The latest fire time at or before `now`."""
        for end in reversed(self._quarter_ends(now, -2, -1)):
            fire = self.fire_for_quarter_end(end)
            if fire <= now:
                return fire
        return None  # pragma: no cover


def _quarter_end(year: int, quarter0: int) -> date:
    """The last day of quarter `quarter0` (0-based) of `year`."""
    month = (quarter0 + 1) * 3
    return (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)) - timedelta(days=1)


def trigger_for(expr: str, tz: ZoneInfo | None = None) -> BaseTrigger:
    """An APScheduler trigger for a schedule expression or phrase (validated)."""
    tz = tz or local_zone()
    text = normalize_expr(expr)
    quarterly = _parse_quarterly(text)
    if quarterly is not None:
        return QuarterlyWorkdayTrigger(*quarterly, timezone=tz)
    daily = _parse_workdays(text)
    if daily is not None:
        return WorkdayTrigger(*daily, timezone=tz)
    return CronExprTrigger(text, timezone=tz)


def last_fire_time(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The latest time at or before `now` that `trigger` fires (APScheduler only looks forward)."""
    if isinstance(trigger, CronExprTrigger | WorkdayTrigger | QuarterlyWorkdayTrigger):
        return trigger.last_fire_time(now)
    raise TypeError(f"not a lianxi trigger: {trigger!r}")


def next_fire_time(expr: str, now: datetime, tz: ZoneInfo | None = None) -> datetime | None:
    """The next fire time strictly after `now`, in `tz`."""
    tz = tz or local_zone()
    fire = trigger_for(expr, tz).get_next_fire_time(None, now + timedelta(microseconds=1))
    return fire.astimezone(tz) if fire else None


def next_fire_times(expr: str, now: datetime, *, count: int = 3, tz: ZoneInfo | None = None) -> list[datetime]:
    """The next `count` fire times strictly after `now`, in `tz`."""
    tz = tz or local_zone()
    trigger = trigger_for(expr, tz)
    out: list[datetime] = []
    fire = trigger.get_next_fire_time(None, now + timedelta(microseconds=1))
    while fire is not None and len(out) < count:
        out.append(fire.astimezone(tz))
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return out


def fire_time_text(expr: str, fire: datetime, tz: ZoneInfo | None = None) -> str:
    """2027年1月8日 09:00, marked （估算） when it was counted on a year without holiday data."""
    tz = tz or local_zone()
    text = cn_datetime(fire, tz)
    if depends_on_calendar(expr) and is_estimated(fire.astimezone(tz).date()):
        text += ESTIMATE_MARK
    return text


# --- Periods -------------------------------------------------------------------


def period_for(job: str, fire_time: datetime, tz: ZoneInfo | None = None) -> str:
    """The period key a run of `job` fired at `fire_time` covers (e.g. 2026Q1, 2026-W15, 2026-04-08)."""
    tz = tz or local_zone()
    job_def = JOB_DEFS.get(job)
    rule = job_def.period_rule if job_def else PERIOD_MINUTE
    local = fire_time.astimezone(tz)
    if rule == PERIOD_PREV_QUARTER:
        q = (local.month - 1) // 3  # the quarter before the current one, 0-based
        year = local.year if q else local.year - 1
        return f"{year}Q{q or 4}"
    if rule == PERIOD_PREV_HALF:
        return f"{local.year}H1" if local.month > 6 else f"{local.year - 1}H2"
    if rule == PERIOD_WEEK_BEFORE:
        iso = (local.date() - timedelta(days=1)).isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if rule == PERIOD_WEEK:
        iso = local.date().isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if rule == PERIOD_DAY:
        return local.date().isoformat()
    return local.strftime("%Y-%m-%dT%H:%M")


def adhoc_period(now: datetime, tz: ZoneInfo | None = None) -> str:
    """The period key of a manual run requested at `now`."""
    tz = tz or local_zone()
    return "adhoc-" + now.astimezone(tz).strftime("%Y%m%dT%H%M%S")


def is_adhoc(period: str) -> bool:
    return period.startswith("adhoc-")


def run_period_label(period: str) -> str:
    """A run's period in words (never the internal key): 2026年第一季度, 2026年上半年,
    2026年第15周（4月6日至4月12日）, 2026年4月8日, 临时一期."""
    if is_adhoc(period):
        return "临时一期"
    if re.fullmatch(r"\d{4}[QH]\d", period) and (label := period_label(period)):
        return label  # the one period vocabulary (oversight.periods)
    if m := re.fullmatch(r"(\d{4})-W(\d{2})", period):
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        sunday = monday + timedelta(days=6)
        return f"{m.group(1)}年第{int(m.group(2))}周（{monday.month}月{monday.day}日至{sunday.month}月{sunday.day}日）"
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?", period):
        text = f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日"
        return text + (f" {m.group(4)}:{m.group(5)}" if m.group(4) else "")
    if m := re.fullmatch(r"notice-(\d+)", period):
        return f"第{m.group(1)}号通报"
    return "本期"


# A brief run for a day (an ad-hoc meeting's, or one asked for by hand) or a half-year is not a
# quarterly brief: the office calls it by the brief's own name (oversight.briefdata's title ends so).
DATED_BRIEF_LABEL = "工作简报"
_QUARTER_RE = re.compile(r"\d{4}Q[1-4]")


def run_label(job: str, period: str) -> str:
    """A run's name wherever it reaches a user (the 立即运行 replies, the refusal to run a period
    twice): the job's label, except that a brief run for anything but a quarter is 工作简报, never
    季度简报 (2026年12月5日)."""
    if job == "brief" and not _QUARTER_RE.fullmatch(period):
        return DATED_BRIEF_LABEL
    return JOB_DEFS[job].label if job in JOB_DEFS else job


# --- Descriptions ----------------------------------------------------------------


def describe(expr: str) -> str:
    """A schedule in the product's own Chinese: 每周五 15:00, 工作日每天 08:30, 每季度结束后第5个工作日 09:00."""
    text = normalize_expr(expr)
    quarterly = _parse_quarterly(text)
    if quarterly is not None:
        n, hour, minute = quarterly
        return f"每季度结束后第{n}个工作日 {hour:02d}:{minute:02d}"
    daily = _parse_workdays(text)
    if daily is not None:
        return f"工作日每天 {daily[0]:02d}:{daily[1]:02d}"
    return describe_cron(text)


# --- Schedule rows ---------------------------------------------------------------


def get_schedule(*, session: Session, job: str) -> JobSchedule | None:
    return session.exec(select(JobSchedule).where(JobSchedule.job == job)).first()


def require_schedule(*, session: Session, job: str) -> JobSchedule:
    """The schedule of `job`, or a Chinese error listing the jobs there are."""
    row = get_schedule(session=session, job=job)
    if row is None:
        names = "、".join(f"{j}（{d.label}）" for j, d in JOB_DEFS.items())
        raise ScheduleError(f"未知任务“{job}”。可用任务：{names}")
    return row


def ensure_default_schedules(*, session: Session, now: datetime | None = None) -> list[JobSchedule]:
    """Create the schedule row of every defined job that has none; returns the rows created."""
    now = now or utcnow()
    created = []
    existing = set(session.exec(select(JobSchedule.job)).all())
    for job_def in JOB_DEFS.values():
        if job_def.name in existing:
            continue
        row = JobSchedule(job=job_def.name, cron=job_def.cron, updated_at=now, updated_by="default")
        try:
            with session.begin_nested():  # another process may be creating it right now
                session.add(row)
        except IntegrityError:
            continue
        audit(
            session=session,
            actor="system",
            action="schedule.created",
            object_type="job_schedule",
            object_id=job_def.name,
            detail={"cron": job_def.cron},
            at=now,
        )
        created.append(row)
    return created


def list_schedules(
    *, session: Session, now: datetime | None = None, tz: ZoneInfo | None = None
) -> list[dict[str, Any]]:
    """Every schedule with its Chinese name and description and its next run time (in `tz`)."""
    tz = tz or local_zone()
    now = now or utcnow()
    order = {name: i for i, name in enumerate(JOB_DEFS)}
    rows = sorted(session.exec(select(JobSchedule)).all(), key=lambda r: (order.get(r.job, len(order)), r.job))
    result = []
    for row in rows:
        job_def = JOB_DEFS.get(row.job)
        upcoming = [] if row.paused else next_fire_times(row.cron, now, tz=tz)
        next_run = upcoming[0] if upcoming else None
        result.append(
            {
                "job": row.job,
                "name": job_def.label if job_def else row.job,
                "cron": row.cron,
                "description": describe(row.cron),
                "paused": row.paused,
                "next_run": next_run,
                "next_runs": upcoming,
                "next_runs_text": [fire_time_text(row.cron, t, tz) for t in upcoming],
                "next_run_text": "已暂停"
                if row.paused
                else (fire_time_text(row.cron, next_run, tz) if next_run else "—"),
                "version": row.version,
                "updated_at": row.updated_at,
                "updated_by": row.updated_by,
            }
        )
    return result


def set_schedule(*, session: Session, job: str, cron: str, actor: str, now: datetime | None = None) -> JobSchedule:
    """Change a job's schedule; the running worker picks it up by the version bump."""
    row = require_schedule(session=session, job=job)
    expr = normalize_expr(cron)
    if job in JOB_DEFS:
        check_interval(JOB_DEFS[job], expr)
    if expr == row.cron:
        return row
    now = now or utcnow()
    old = row.cron
    row.cron, row.version, row.updated_at, row.updated_by = expr, row.version + 1, now, actor
    session.add(row)
    audit(
        session=session,
        actor=actor,
        action="schedule.set",
        object_type="job_schedule",
        object_id=job,
        detail={"from": old, "to": expr, "version": row.version},
        at=now,
    )
    return row


def _set_paused(*, session: Session, job: str, actor: str, paused: bool, now: datetime | None) -> JobSchedule:
    row = require_schedule(session=session, job=job)
    if row.paused == paused:
        return row
    now = now or utcnow()
    row.paused, row.updated_at, row.updated_by = paused, now, actor
    session.add(row)
    audit(
        session=session,
        actor=actor,
        action="schedule.paused" if paused else "schedule.resumed",
        object_type="job_schedule",
        object_id=job,
        at=now,
    )
    return row


def pause_schedule(*, session: Session, job: str, actor: str, now: datetime | None = None) -> JobSchedule:
    """Pause a job: it does not fire, and runs missed while paused are not caught up."""
    return _set_paused(session=session, job=job, actor=actor, paused=True, now=now)


def resume_schedule(*, session: Session, job: str, actor: str, now: datetime | None = None) -> JobSchedule:
    """Resume a paused job from its next fire time on."""
    return _set_paused(session=session, job=job, actor=actor, paused=False, now=now)


def request_run_now(
    *,
    session: Session,
    job: str,
    actor: str,
    period: str | None = None,
    now: datetime | None = None,
    notify_chat_id: int | None = None,
) -> ScheduledRun:
    """Ask the worker to run `job` for `period` (default: a new ad-hoc period) as soon as it polls;
    `notify_chat_id` is told the result when the run is done or has failed."""
    require_schedule(session=session, job=job)
    now = now or utcnow()
    period = (period or "").strip() or adhoc_period(now)
    existing = runs.get_run(session=session, job=job, period=period)
    if existing is not None and existing.state == RunState.DONE:
        finished = cn_datetime(existing.finished_at) if existing.finished_at else ""
        raise ScheduleError(
            f"“{run_label(job, period)}”{run_period_label(period)}已于 {finished} 完成，不会重复执行。"
            "如需另出一期，请不指定期别（将作为临时一期运行）。"
        )
    run = runs.request_run(session=session, job=job, period=period, actor=actor, now=now)
    if notify_chat_id is not None:
        assert run.id is not None
        session.add(RunWatcher(run_id=run.id, chat_id=notify_chat_id, requested_at=now))
    audit(
        session=session,
        actor=actor,
        action="schedule.run_now",
        object_type="scheduled_run",
        object_id=run.id,
        detail={"job": job, "period": period},
        at=now,
    )
    return run


def run_watchers(*, session: Session, run_id: int) -> list[RunWatcher]:
    """Who asked for this run and has not been told its result yet."""
    return list(
        session.exec(select(RunWatcher).where(RunWatcher.run_id == run_id, col(RunWatcher.notified_at).is_(None))).all()
    )


def mark_watchers_told(*, session: Session, watchers: list[RunWatcher], now: datetime) -> None:
    """Record that `watchers` were told the final result (a retried failure keeps them waiting)."""
    for w in watchers:
        w.notified_at = now
        session.add(w)


def missed_period(
    *,
    session: Session,
    schedule: JobSchedule,
    now: datetime,
    tz: ZoneInfo | None = None,
    max_attempts: int = runs.MAX_ATTEMPTS,
) -> tuple[datetime, str] | None:
    """The latest fire time at or before `now` and its period, if that period still needs a run.

    Only the latest fire counts (a worker down for three weeks sends one weekly reminder,
    for the last week; down across two quarter ends, one brief, for the last quarter),
    and only a fire after the schedule row last changed: a fire time the schedule in force
    never had (before install, before a cron change, while paused) is not "missed".
    """
    tz = tz or local_zone()
    if schedule.paused:
        return None
    fire = last_fire_time(trigger_for(schedule.cron, tz), now)
    if fire is None or fire < schedule.updated_at:
        return None
    period = period_for(schedule.job, fire, tz)
    run = runs.get_run(session=session, job=schedule.job, period=period)
    if run is not None and (run.state == RunState.WORKING or runs.is_final(run, max_attempts=max_attempts)):
        return None
    return fire, period


# --- The jobs lianxi ships ------------------------------------------------------------

define_job(
    "brief",
    label="季度简报",
    cron="@quarterly-wd5 09:00",
    period_rule=PERIOD_PREV_QUARTER,
    summary="汇总上一季度进展，生成联席会议工作简报",
    audience="召集人和办公室",
)
define_job(
    "notice_draft",
    label="季度通报草稿",
    cron="@quarterly-wd3 09:00",
    period_rule=PERIOD_PREV_QUARTER,
    summary="在简报前起草上一季度的通报，交办公室修改、召集人审定",
    audience="召集人和办公室",
)
define_job(
    "review",
    label="半年工作问效",
    cron="0 9 10 1,7 *",
    period_rule=PERIOD_PREV_HALF,
    summary="每半年对各单位和包联领导问效评分，跟踪整改台账，报召集人",
    audience="召集人和办公室",
)
define_job(
    "weekly_reminder",
    label="每周报送提醒",
    cron="0 9 * * 1",
    period_rule=PERIOD_WEEK_BEFORE,
    summary="提醒上周未报送进展的单位联络员",
    audience="各单位联络员",
)
define_job(
    "daily_digest",
    label="每日逾期督办",
    cron="0 8 * * *",
    period_rule=PERIOD_DAY,
    summary="工作日把逾期未办结的问题和议定事项汇总发给办公室",
    audience="办公室",
)
define_job(
    "calendar_reminder",
    label="节假日数据提醒",
    cron="0 9 * * 1",
    period_rule=PERIOD_WEEK,
    summary="下一年节假日安排尚未录入时（每年11月15日起），每周提醒管理员添加",
    audience="管理员",
)


# What the weekly_reminder run tells whoever pressed 立即运行 (oversight.facts.Chat): the units
# that owed the week's report and did not file it, and the reminders queued to their contacts.
WEEKLY_RUN_TEXTS: dict[str, str] = {
    "skipped": "这一周全是节假日，没有工作日，不要求报送，未发送提醒。",
    "none_due": "这一周还没有需要报送进展的单位（成员单位联络员加入系统后起算），未发送提醒。",
    "all_reported": "应报送的{n}个单位都已报送进展，无需提醒。",
    "missing_one": "{names}未报送，已向其联络员发送{sent}条提醒。",
    "missing": "{n}个单位未报送（{names}），已向其联络员发送{sent}条提醒。",
    "missing_one_nobody": "{names}未报送，目前没有联络员加入，未发送提醒。",
    "missing_nobody": "{n}个单位未报送（{names}），目前都没有联络员加入，未发送提醒。",
}
WEEKLY_NAMES_SHOWN = 10


def weekly_run_facts(*, session: Session, result: dict[str, Any]) -> Chat:
    """The weekly reminder run's line, from its result's unit ids and the week's reminder rows in
    the outbox (dedupe keys weekly:<week>:<member>): who owed a report, who did not file it, how
    many reminders went to their contacts; nobody due or nobody reached is said in words."""
    say = Chat(WEEKLY_RUN_TEXTS)
    if result.get("skipped"):
        say.fact("skipped")
        return say
    due = [int(u) for u in result.get("due_unit_ids") or []]
    missing = [int(u) for u in result.get("unit_ids") or []]
    if not due:
        say.fact("none_due", n=0)
        return say
    if not missing:
        say.fact("all_reported", {"unit": due}, n=len(due))
        return say
    units = {u.id: u.name for u in session.exec(select(Unit).where(col(Unit.id).in_(missing))).all()}
    shown = [units[u] for u in missing if u in units][:WEEKLY_NAMES_SHOWN]
    names = "、".join(shown) + ("等" if len(missing) > WEEKLY_NAMES_SHOWN else "")
    # The week's reminders to contacts of the units named (a unit that reported after an earlier
    # run reminded it is not named, and neither are its reminders).
    contacts = {row_id(m) for m in session.exec(select(Member).where(col(Member.unit_id).in_(missing))).all()}
    prefix = f"weekly:{result['week']}:"
    sent = [
        row_id(m)
        for m in queued_under(session=session, prefix=prefix)
        if int(str(m.dedupe_key)[len(prefix) :]) in contacts
    ]
    kind = "missing_one" if len(missing) == 1 else "missing"
    ids: dict[str, list[int]] = {"unit": missing}
    if sent:
        say.fact(kind, {**ids, "message": sent}, n=len(missing), names=names, sent=len(sent))
    else:
        say.fact(f"{kind}_nobody", ids, n=len(missing), names=names, sent=0)
    return say


# What the calendar_reminder run tells whoever pressed 立即运行: the admins the week's reminder reached.
CALENDAR_RUN_TEXTS: dict[str, str] = {
    "complete": "节假日数据齐全，无需提醒。",
    "told": "{years}的节假日安排尚未添加，已提醒{n}位管理员。",
    "told_nobody": "{years}的节假日安排尚未添加，目前没有管理员加入，未发送提醒。",
}


def calendar_run_facts(*, session: Session, result: dict[str, Any]) -> Chat:
    """The calendar reminder run's line: the years missing and the admins the week's reminders went
    to (outbox rows calendar:<years>:<week>:<chat>, and the active admins of those chats), cited."""
    say = Chat(CALENDAR_RUN_TEXTS)
    years = [int(y) for y in result.get("missing") or []]
    if not years:
        say.fact("complete")
        return say
    sent = [m for m in queued_under(session=session, prefix="calendar:") if f":{result['week']}:" in str(m.dedupe_key)]
    chats = {m.chat_id for m in sent}
    admins = [
        m
        for m in session.exec(
            select(Member).where(Member.role == Role.ADMIN, col(Member.active).is_(True)).order_by(col(Member.id))
        ).all()
        if m.telegram_user_id in chats
    ]
    text = "、".join(f"{y}年" for y in years)
    if admins:
        ids = {"member": [row_id(m) for m in admins], "message": [row_id(m) for m in sent]}
        say.fact("told", ids, years=text, n=len(admins))
    else:
        say.fact("told_nobody", years=text, n=0)
    return say
