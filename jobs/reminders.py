"""Reminders: the weekly "you have not reported" note to unit contacts and the daily
digest of overdue items to the office (its facts are the domain's: oversight/digest.py). Both
queue through the outbox with dedupe keys, so a retried or caught-up run never sends a message twice."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from jobs.supervision import run_supervision
from models import Member, Plan, Report, Role, Unit
from models.base import row_id
from oversight.briefs import remind_waiting
from oversight.convening import remind_unanswered
from oversight.dates import local_zone
from oversight.digest import digest_summary
from oversight.holiday_notice import HOW_TO_ADD, missing_years
from oversight.measures import (
    REPORTING_ROLES,
    Week,
    reported_weeks,
    reporting_accountable_from,
    tasked_units,
    week_of,
)
from oversight.outbox import enqueue_text
from oversight.region_items import open_region_items
from oversight.schedules import is_adhoc, period_for
from oversight.sentences import overdue_text
from oversight.workdays import is_workday

logger = logging.getLogger(__name__)

# --- Texts (Chinese; reviewed here, not in the logic below) ----------------------

WEEKLY_TEXT = (
    "【进展报送提醒】\n"
    "{unit}：{week_label}（{start}至{end}）尚未报送工作进展。\n"
    "{when}发送 /report，按提示报送本单位承担任务的进展（也可一行报送：/report 进展内容）。\n"
    "如遇困难或问题，发送 /flag 反映，办公室将协调解决。"
)
WEEKLY_WHEN_OPEN = "请于{end}（周日）24时前"  # the week reminded of is still running
WEEKLY_WHEN_NEXT = "该周已结束。本周（{start}至{end}）的进展请于{end}（周日）24时前"
REGION_TEXT = {
    "soon": "【工作提醒】\n{unit}：按{source}，请于{due}前{text}。\n{how}",
    "late": "【逾期提醒】\n{unit}：按{source}，应于{due}前{text}；至今未完成，{late}。\n{how}",
}
REGION_SOURCE = {"baseline": "实施方案三（三）", "first_batch": "实施方案三（二）"}
REGION_HOW = {
    "baseline": "请发送 /ledger，按机器人发来的模板逐矿权填写核实情况（含底数核实日期），连同加盖公章的扫描件报送。",
    "first_batch": "矿业权复工复产或转采后，请发送 /report 报送进展；遇到困难请发送 /flag 反映。",
}
CALENDAR_TEXT = (
    "【节假日数据提醒】\n"
    "{years}的法定节假日和调休安排还没有录入本系统。录入之前，办理期限、督办时限和简报、通报等定时任务"
    "在这段时间内按周一至周五计算工作日，显示时标有“估算”。\n"
    "国务院办公厅通常在每年11月前后发布下一年的《关于部分节假日安排的通知》，发布后请及时添加。\n{how}"
)


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- Weekly reminder ----------------------------------------------------------------


def week_bounds(period: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week key like 2026-W15."""
    year, _, week = period.partition("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    return monday, monday + timedelta(days=6)


def units_due(*, session: Session, plan_id: int, week: Week) -> list[int]:
    """Units with a part in the plan's tasks that answer for `week` (they had someone who files
    weekly progress in it: see oversight.measures.reporting_accountable_from)."""
    since = reporting_accountable_from(session=session, plan_id=plan_id)
    return [u for u in tasked_units(session, plan_id) if u in since and since[u] <= week.last]


def units_without_report(*, session: Session, plan_id: int, week: Week) -> list[Unit]:
    """Units with a part in the plan's tasks that answer for `week` (units_due) and filed no
    report in it."""
    reported = reported_weeks(session, plan_id, [week], column=Report.unit_id)
    ids = [
        u for u in units_due(session=session, plan_id=plan_id, week=week) if week.monday not in reported.get(u, set())
    ]
    if not ids:
        return []
    return list(session.exec(select(Unit).where(col(Unit.id).in_(ids)).order_by(col(Unit.id))).all())


def contacts_of(*, session: Session, unit_ids: list[int]) -> list[Member]:
    """Active contacts (联络员) of the given units: those who file weekly progress
    (oversight.measures.REPORTING_ROLES), never a leader, the office or the convener."""
    if not unit_ids:
        return []
    return list(
        session.exec(
            select(Member)
            .where(
                col(Member.unit_id).in_(unit_ids), col(Member.role).in_(REPORTING_ROLES), col(Member.active).is_(True)
            )
            .order_by(col(Member.id))
        ).all()
    )


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _when_to_report(today: date, sunday: date) -> str:
    """By when to report: the reminded week's end while it runs, else the current week's (a
    report counts for the week it is filed in, Monday 0:00 to Sunday 24:00)."""
    if today <= sunday:
        return WEEKLY_WHEN_OPEN.format(end=_md(sunday))
    start = today - timedelta(days=today.weekday())
    return WEEKLY_WHEN_NEXT.format(start=_md(start), end=_md(start + timedelta(days=6)))


def send_weekly_reminders(*, session: Session, period: str, now: datetime, tz: ZoneInfo | None = None) -> dict:
    """Queue a reminder to each contact of each unit that filed no report in the ISO week `period`."""
    tz = tz or local_zone()
    week = period_for("weekly_reminder", now, tz) if is_adhoc(period) else period
    monday, sunday = week_bounds(week)
    reporting_week = week_of(monday)
    if reporting_week is None:
        # A week of holidays (e.g. 春节) is no reporting week (oversight.measures): no one is asked.
        logger.info("weekly reminder %s: no working day that week, nothing to remind", week)
        return {"week": week, "skipped": "no working day", "units_without_report": [], "queued": 0}
    week_label = reporting_week.label
    when = _when_to_report(now.astimezone(tz).date(), sunday)
    queued = 0
    missing: list[str] = []
    missing_ids: list[int] = []
    due: list[int] = []
    for plan in session.exec(select(Plan).order_by(col(Plan.id))).all():
        due.extend(units_due(session=session, plan_id=row_id(plan), week=reporting_week))
        units = units_without_report(session=session, plan_id=row_id(plan), week=reporting_week)
        names = {row_id(u): u.name for u in units}
        missing.extend(u.name for u in units)
        missing_ids.extend(names)
        for member in contacts_of(session=session, unit_ids=list(names)):
            if member.telegram_user_id is None:
                continue
            text = WEEKLY_TEXT.format(
                unit=names[member.unit_id],
                week_label=week_label,
                start=_md(monday),
                end=_md(sunday),
                when=when,
            )
            if enqueue_text(
                session=session,
                chat_id=member.telegram_user_id,
                text=text,
                dedupe_key=f"weekly:{week}:{member.id}",
                now=now,
            ):
                queued += 1
    logger.info("weekly reminder %s: %d units without report, %d reminders queued", week, len(missing), queued)
    return {
        "week": week,
        "units_without_report": missing,
        "unit_ids": missing_ids,
        "due_unit_ids": due,
        "queued": queued,
    }


# --- Daily digest ---------------------------------------------------------------------


def office_members(*, session: Session, plan_id: int) -> list[Member]:
    return list(
        session.exec(
            select(Member)
            .where(Member.plan_id == plan_id, Member.role == Role.OFFICE, col(Member.active).is_(True))
            .order_by(col(Member.id))
        ).all()
    )


def remind_regions(*, session: Session, items: list[dict[str, Any]], day: date, now: datetime) -> int:
    """Tell a league's contacts of its open region items: once when the deadline is near (the item's
    light turns yellow), then once a week while it is overdue. Returns the messages queued."""
    queued = 0
    iso = day.isocalendar()
    for item in items:
        if item["light"] == "green":
            continue
        stage = "late" if item["due_on"] < day else "soon"
        when = f"{iso.year}-W{iso.week:02d}" if stage == "late" else "soon"
        text = REGION_TEXT[stage].format(
            unit=item["unit"],
            due=_cn_date(item["due_on"]),
            text=item["text"],
            source=REGION_SOURCE[item["kind"]],
            late=overdue_text(int(item["overdue_days"])),
            how=REGION_HOW[item["kind"]],
        )
        for member in contacts_of(session=session, unit_ids=[item["unit_id"]]):
            if member.telegram_user_id is None:
                continue
            key = f"region:{item['kind']}:{item['unit_id']}:{item['due_on'].isoformat()}:{when}:{member.id}"
            if enqueue_text(session=session, chat_id=member.telegram_user_id, text=text, dedupe_key=key, now=now):
                queued += 1
    return queued


# The digest's list headings and the ids each cites for the run's reply: (result key, noun).
DIGEST_CITES = {
    "problems": ("problem_ids", "problem"),
    "decisions": ("decision_ids", "decision"),
    "regions": ("region_unit_ids", "unit"),
}


def send_daily_digest(*, session: Session, period: str, now: datetime, tz: ZoneInfo | None = None) -> dict:
    """Queue one digest of overdue items per office member per plan; nothing on non-working days."""
    tz = tz or local_zone()
    day = now.astimezone(tz).date() if is_adhoc(period) else date.fromisoformat(period)
    if not is_workday(day):
        return {"day": day.isoformat(), "skipped": "non-working day"}
    totals = {"problems": 0, "decisions": 0, "regions": 0, "digests": 0, "queued": 0, "region_reminders": 0}
    # What the digests listed, by id, for the run's reply (oversight.digest.digest_run_facts).
    cited: dict[str, list[int]] = {"problem_ids": [], "decision_ids": [], "region_unit_ids": [], "digest_plan_ids": []}
    marked: dict[str, list[int]] = {}
    marked_n = 0
    # 督办 first: each item's colour now, changes told to the units, 督办单 sent (jobs/supervision.py).
    run_supervision(session=session, now=now)
    for plan in session.exec(select(Plan).order_by(col(Plan.id))).all():
        totals["region_reminders"] += remind_regions(
            session=session, items=open_region_items(session=session, plan_id=row_id(plan), today=day), day=day, now=now
        )
        digest = digest_summary(session=session, plan_id=row_id(plan), day=day)
        if digest is None:
            continue  # nothing overdue, nothing red or yellow
        totals["digests"] += 1
        cited["digest_plan_ids"].append(row_id(plan))
        for fact in digest.listed():
            if fact["kind"] in totals:
                totals[fact["kind"]] += int(fact["values"]["n"])
            if fact["kind"] in DIGEST_CITES:
                key, noun = DIGEST_CITES[fact["kind"]]
                cited[key].extend(int(i) for i in fact["ids"].get(noun, []))
            if fact["kind"] == "colours":
                marked_n += sum(int(fact["values"][c]) for c in ("red", "yellow", "blue"))
                for noun, got in fact["ids"].items():
                    marked.setdefault(noun, []).extend(int(i) for i in got)
        text = digest.message()
        for member in office_members(session=session, plan_id=row_id(plan)):
            if member.telegram_user_id is None:
                continue
            if enqueue_text(
                session=session,
                chat_id=member.telegram_user_id,
                text=text,
                dedupe_key=f"digest:{day.isoformat()}:{plan.id}:{member.id}",
                now=now,
            ):
                totals["queued"] += 1
    # A brief waiting for the office's approval or the convener's 签发, reminded to its holder.
    totals["brief_reminders"] = remind_waiting(session=session, now=now)
    # A circulated meeting tomorrow (the next working day): units that have not answered are reminded.
    totals["meeting_reminders"] = remind_unanswered(session=session, now=now, today=day)
    logger.info("daily digest %s: %s", day, totals)
    return {"day": day.isoformat(), **totals, **cited, "marked": marked_n, "marked_ids": marked}


# --- Calendar data reminder -----------------------------------------------------------


def send_calendar_reminders(*, session: Session, period: str, now: datetime, tz: ZoneInfo | None = None) -> dict:
    """Tell each admin, once a week, which years the calendar lacks (this year; next year from the plan's day)."""
    tz = tz or local_zone()
    from oversight.accountability import thresholds_of

    today = now.astimezone(tz).date()
    iso = today.isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"
    missing_all: set[int] = set()
    queued = 0
    for plan in session.exec(select(Plan).order_by(col(Plan.id))).all():
        th = thresholds_of(plan)
        missing = missing_years(today, notice_from=(int(th["calendar_notice_month"]), int(th["calendar_notice_day"])))
        if not missing:
            continue
        missing_all.update(missing)
        years = "、".join(f"{y}年" for y in missing)
        text = CALENDAR_TEXT.format(years=years, how=HOW_TO_ADD.format(year=missing[-1]))
        admins = session.exec(
            select(Member)
            .where(Member.plan_id == plan.id, Member.role == Role.ADMIN, col(Member.active).is_(True))
            .order_by(col(Member.id))
        ).all()
        for member in admins:
            if member.telegram_user_id is None:
                continue
            key = f"calendar:{'-'.join(map(str, missing))}:{week}:{member.telegram_user_id}"
            if enqueue_text(session=session, chat_id=member.telegram_user_id, text=text, dedupe_key=key, now=now):
                queued += 1
    logger.info("calendar reminder %s: missing %s, %d admins told", week, sorted(missing_all) or "none", queued)
    return {"week": week, "missing": sorted(missing_all), "queued": queued}
