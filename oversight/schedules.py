"""Job schedules as data: admins set them, the worker follows them.

An expression is either a standard 5-field cron (分 时 日 月 星期, 0 or 7 = Sunday) or
`@quarterly-wdN HH:MM`: the N-th working day (Chinese calendar) after each quarter ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import JobSchedule, RunState, ScheduledRun, utcnow
from oversight import runs
from oversight.audit import audit
from oversight.errors import ScheduleError
from oversight.workdays import nth_workday_after

SHANGHAI = ZoneInfo("Asia/Shanghai")

# How a job's fire time maps to the period its run covers.
PERIOD_PREV_QUARTER = "prev_quarter"  # firing in April covers 2026Q1
PERIOD_WEEK_BEFORE = "week_before"  # the ISO week of the day before: Monday covers the week just ended
PERIOD_DAY = "day"  # the local date
PERIOD_MINUTE = "minute"  # the local minute (jobs without a natural period)
PERIOD_PREV_HALF = "prev_half"  # firing in July covers 2026H1, in January the previous year's H2


@dataclass(frozen=True)
class JobDef:
    """A job the worker knows: its Chinese name, default schedule and period rule."""

    name: str
    label: str
    cron: str
    period_rule: str
    summary: str = ""


JOB_DEFS: dict[str, JobDef] = {}


def define_job(name: str, *, label: str, cron: str, period_rule: str = PERIOD_MINUTE, summary: str = "") -> JobDef:
    """Declare a job and its default schedule (validated); returns the definition."""
    job_def = JobDef(name=name, label=label, cron=normalize_expr(cron), period_rule=period_rule, summary=summary)
    JOB_DEFS[name] = job_def
    return job_def


# --- Expressions ---------------------------------------------------------------

CRON_HELP = "格式：分 时 日 月 星期，例如 0 9 * * 1 表示每周一 9:00。"
QUARTERLY_HELP = "格式：@quarterly-wdN HH:MM，例如 @quarterly-wd5 09:00 表示每季度结束后第5个工作日 09:00。"
_QUARTERLY_RE = re.compile(r"^@quarterly-wd(\d{1,3})\s+(\d{1,2}):(\d{2})$", re.IGNORECASE)
_FIELDS = (
    ("minute", "分钟", 0, 59),
    ("hour", "小时", 0, 23),
    ("day", "日", 1, 31),
    ("month", "月", 1, 12),
    ("day_of_week", "星期", 0, 7),
)
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # standard cron numbering: 0 = Sunday
_DOW_ZH = ("日", "一", "二", "三", "四", "五", "六")
MAX_QUARTERLY_WORKDAY = 40


def _cron_error(expr: str, reason: str) -> ScheduleError:
    return ScheduleError(f"“{expr}” 不是有效的 cron 表达式：{reason}。{CRON_HELP}")


def _parse_quarterly(expr: str) -> tuple[int, int, int] | None:
    """(n, hour, minute) of a `@quarterly-wdN HH:MM` expression, None if it is not one; errors in Chinese."""
    if not expr.lower().startswith("@quarterly"):
        return None
    m = _QUARTERLY_RE.match(expr)
    if m is None:
        raise ScheduleError(f"“{expr}” 不是有效的季度表达式。{QUARTERLY_HELP}")
    n, hour, minute = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not 1 <= n <= MAX_QUARTERLY_WORKDAY:
        raise ScheduleError(
            f"“{expr}” 不是有效的季度表达式：第 N 个工作日须在 1–{MAX_QUARTERLY_WORKDAY} 之间。{QUARTERLY_HELP}"
        )
    if hour > 23:
        raise ScheduleError(f"“{expr}” 不是有效的季度表达式：小时须在 0–23 之间。{QUARTERLY_HELP}")
    if minute > 59:
        raise ScheduleError(f"“{expr}” 不是有效的季度表达式：分钟须在 0–59 之间。{QUARTERLY_HELP}")
    return n, hour, minute


def _dow_value(token: str, expr: str) -> int:
    token = token.strip().lower()
    if token.isdigit():
        value = int(token)
        if value > 7:
            raise _cron_error(expr, "星期须在 0–7 之间（0 和 7 都表示星期日）")
        return value % 7
    if token[:3] in _DOW_NAMES and len(token) == 3:
        return _DOW_NAMES.index(token[:3])
    raise _cron_error(expr, f"星期字段“{token}”无法识别")


def _expand_dow(field: str, expr: str) -> set[int]:
    """The weekdays (0 = Sunday) a standard cron day-of-week field selects."""
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise _cron_error(expr, f"星期字段的步长“{step_text}”无效")
            step = int(step_text)
        if base == "*":
            lo, hi = 0, 6
        elif "-" in base:
            a, _, b = base.partition("-")
            lo, hi = _dow_value(a, expr), _dow_value(b, expr)
            if b.strip() == "7":
                hi = 7
            if hi < lo:
                raise _cron_error(expr, f"星期范围“{base}”须从小到大")
        else:
            lo = _dow_value(base, expr)
            hi = 7 if step_text else lo
        days.update(v % 7 for v in range(lo, hi + 1, step))
    return days


def _aps_dow(days: set[int]) -> str:
    """APScheduler 3's day_of_week text (its 0 is Monday, so we pass names)."""
    if days == set(range(7)):
        return "*"
    return ",".join(_DOW_NAMES[d] for d in sorted(days))


def _parse_cron(expr: str) -> dict[str, str]:
    """APScheduler CronTrigger fields for a standard 5-field cron; errors in Chinese."""
    fields = expr.split()
    if len(fields) != 5:
        raise _cron_error(expr, f"须有 5 个字段（分 时 日 月 星期），这里有 {len(fields)} 个")
    values: dict[str, str] = {}
    for (name, label, lo, hi), value in zip(_FIELDS, fields, strict=True):
        if name == "day_of_week":
            values[name] = _aps_dow(_expand_dow(value, expr))
            continue
        try:
            CronTrigger(**{name: value}, timezone=UTC)
        except ValueError as exc:
            text = str(exc)
            if "higher than the maximum" in text or "lower than the minimum" in text:
                raise _cron_error(expr, f"{label}须在 {lo}–{hi} 之间") from exc
            raise _cron_error(expr, f"{label}字段“{value}”无法识别") from exc
        values[name] = value
    if fields[2] != "*" and fields[4] != "*":
        # Classic cron ORs day-of-month and day-of-week, APScheduler ANDs them: refuse the ambiguity.
        raise _cron_error(expr, "不能同时限定“日”和“星期”，请只指定其一，另一个写 *")
    return values


def normalize_expr(expr: str) -> str:
    """The canonical form of a schedule expression; ScheduleError (Chinese) if invalid."""
    text = " ".join((expr or "").split())
    if not text:
        raise ScheduleError(f"计划表达式不能为空。{CRON_HELP}")
    quarterly = _parse_quarterly(text)
    if quarterly is not None:
        n, hour, minute = quarterly
        return f"@quarterly-wd{n} {hour:02d}:{minute:02d}"
    if text.startswith("@"):
        raise ScheduleError(f"“{text}” 不是支持的表达式，请用 5 字段 cron 或季度表达式。{CRON_HELP}{QUARTERLY_HELP}")
    _parse_cron(text)
    return text


class QuarterlyWorkdayTrigger(BaseTrigger):
    """Fires at HH:MM on the n-th working day after each quarter ends (module-level: picklable)."""

    def __init__(self, n: int, hour: int, minute: int, timezone: ZoneInfo = SHANGHAI) -> None:
        self.n = n
        self.hour = hour
        self.minute = minute
        self.timezone = timezone

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


def trigger_for(expr: str, tz: ZoneInfo = SHANGHAI) -> BaseTrigger:
    """An APScheduler trigger for a schedule expression (validated)."""
    text = normalize_expr(expr)
    quarterly = _parse_quarterly(text)
    if quarterly is not None:
        return QuarterlyWorkdayTrigger(*quarterly, timezone=tz)
    return CronTrigger(**_parse_cron(text), timezone=tz)


_LOOKBACKS = (
    timedelta(hours=2),
    timedelta(days=2),
    timedelta(days=9),
    timedelta(days=40),
    timedelta(days=370),
    timedelta(days=5 * 366),
)


def last_fire_time(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The latest time at or before `now` that `trigger` fires (APScheduler only looks forward)."""
    if isinstance(trigger, QuarterlyWorkdayTrigger):
        return trigger.last_fire_time(now)
    for window in _LOOKBACKS:
        last = None
        fire = trigger.get_next_fire_time(None, now - window)
        while fire is not None and fire <= now:
            last = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        if last is not None:
            return last
    return None


def next_fire_time(expr: str, now: datetime, tz: ZoneInfo = SHANGHAI) -> datetime | None:
    """The next fire time strictly after `now`, in `tz`."""
    fire = trigger_for(expr, tz).get_next_fire_time(None, now + timedelta(microseconds=1))
    return fire.astimezone(tz) if fire else None


# --- Periods -------------------------------------------------------------------


def period_for(job: str, fire_time: datetime, tz: ZoneInfo = SHANGHAI) -> str:
    """The period key a run of `job` fired at `fire_time` covers (e.g. 2026Q1, 2026-W15, 2026-04-08)."""
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
    if rule == PERIOD_DAY:
        return local.date().isoformat()
    return local.strftime("%Y-%m-%dT%H:%M")


def adhoc_period(now: datetime, tz: ZoneInfo = SHANGHAI) -> str:
    """The period key of a manual run requested at `now`."""
    return "adhoc-" + now.astimezone(tz).strftime("%Y%m%dT%H%M%S")


def is_adhoc(period: str) -> bool:
    return period.startswith("adhoc-")


# --- Descriptions ----------------------------------------------------------------

_EN_ZH = {
    "Monday": "星期一",
    "Tuesday": "星期二",
    "Wednesday": "星期三",
    "Thursday": "星期四",
    "Friday": "星期五",
    "Saturday": "星期六",
    "Sunday": "星期日",
    "January": "1月",
    "February": "2月",
    "March": "3月",
    "April": "4月",
    "May": "5月",
    "June": "6月",
    "July": "7月",
    "August": "8月",
    "September": "9月",
    "October": "10月",
    "November": "11月",
    "December": "12月",
}


def _weekday_text(days: set[int]) -> str:
    order = [d for d in (1, 2, 3, 4, 5, 6, 0) if d in days]
    positions = [(1, 2, 3, 4, 5, 6, 0).index(d) for d in order]
    if len(order) >= 3 and positions == list(range(positions[0], positions[0] + len(order))):
        return f"周{_DOW_ZH[order[0]]}至周{_DOW_ZH[order[-1]]}"
    return "、".join(f"周{_DOW_ZH[d]}" for d in order)


def describe(expr: str) -> str:
    """A Chinese description of a schedule expression."""
    text = normalize_expr(expr)
    quarterly = _parse_quarterly(text)
    if quarterly is not None:
        n, hour, minute = quarterly
        return f"每季度结束后第{n}个工作日 {hour:02d}:{minute:02d}"
    minute, hour, dom, month, dow = text.split()
    if minute.isdigit() and hour.isdigit() and month == "*":
        at = f"{int(hour):02d}:{int(minute):02d}"
        if dom == "*" and dow == "*":
            return f"每天 {at}"
        if dom == "*":
            return f"每{_weekday_text(_expand_dow(dow, text))} {at}"
        if dom.isdigit() and dow == "*":
            return f"每月{int(dom)}日 {at}"
    from cron_descriptor import Options, get_description

    options = Options(locale_code="zh_CN")
    options.use_24hour_time_format = True
    described = get_description(text, options)
    for en, zh in _EN_ZH.items():
        described = described.replace(en, zh)
    return described.replace(", 和 ", "和").replace(", ", "，")


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


def list_schedules(*, session: Session, now: datetime | None = None, tz: ZoneInfo = SHANGHAI) -> list[dict[str, Any]]:
    """Every schedule with its Chinese name and description and its next run time (in `tz`)."""
    now = now or utcnow()
    order = {name: i for i, name in enumerate(JOB_DEFS)}
    rows = sorted(session.exec(select(JobSchedule)).all(), key=lambda r: (order.get(r.job, len(order)), r.job))
    result = []
    for row in rows:
        job_def = JOB_DEFS.get(row.job)
        next_run = None if row.paused else next_fire_time(row.cron, now, tz)
        result.append(
            {
                "job": row.job,
                "name": job_def.label if job_def else row.job,
                "cron": row.cron,
                "description": describe(row.cron),
                "paused": row.paused,
                "next_run": next_run,
                "next_run_text": "已暂停" if row.paused else (f"{next_run:%Y-%m-%d %H:%M}" if next_run else "—"),
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
    *, session: Session, job: str, actor: str, period: str | None = None, now: datetime | None = None
) -> ScheduledRun:
    """Ask the worker to run `job` for `period` (default: a new ad-hoc period) as soon as it polls."""
    require_schedule(session=session, job=job)
    now = now or utcnow()
    period = (period or "").strip() or adhoc_period(now)
    existing = runs.get_run(session=session, job=job, period=period)
    if existing is not None and existing.state == RunState.DONE:
        label = JOB_DEFS[job].label if job in JOB_DEFS else job
        finished = existing.finished_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if existing.finished_at else ""
        raise ScheduleError(
            f"{label} {period} 已于 {finished} 完成，不会重复执行。如需另出一期，请不指定期别（将作为临时一期运行）。"
        )
    run = runs.request_run(session=session, job=job, period=period, actor=actor, now=now)
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


def missed_period(
    *,
    session: Session,
    schedule: JobSchedule,
    now: datetime,
    tz: ZoneInfo = SHANGHAI,
    max_attempts: int = runs.MAX_ATTEMPTS,
) -> tuple[datetime, str] | None:
    """The latest fire time at or before `now` and its period, if that period still needs a run.

    Only the latest fire counts (a worker down for three weeks sends one weekly reminder,
    for the last week; down across two quarter ends, one brief, for the last quarter),
    and only a fire after the schedule row last changed: a fire time the schedule in force
    never had (before install, before a cron change, while paused) is not "missed".
    """
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
)
define_job(
    "notice_draft",
    label="季度通报草稿",
    cron="@quarterly-wd3 09:00",
    period_rule=PERIOD_PREV_QUARTER,
    summary="在简报前起草上一季度的通报，交办公室修改、召集人审定",
)
define_job(
    "review",
    label="半年工作问效",
    cron="0 9 10 1,7 *",
    period_rule=PERIOD_PREV_HALF,
    summary="每半年对各单位和包联领导问效评分，跟踪整改台账，报召集人",
)
define_job(
    "weekly_reminder",
    label="每周报送提醒",
    cron="0 9 * * 1",
    period_rule=PERIOD_WEEK_BEFORE,
    summary="提醒上周未报送进展的单位联络员",
)
define_job(
    "daily_digest",
    label="每日逾期督办",
    cron="0 8 * * *",
    period_rule=PERIOD_DAY,
    summary="工作日把逾期未办结的问题和议定事项汇总发给办公室",
)
