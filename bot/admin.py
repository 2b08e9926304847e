"""/schedule (admins set the worker's schedules in chat) and /meeting (临时加开)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.common import answer_private, command, db, keyboard, member_of
from bot.legacy import EXTRA_COMMANDS, on_callback, on_flow_input
from config.settings import get_settings
from models import Meeting, Role, utcnow
from oversight.audit import actor_of, audit
from oversight.chatstate import clear_flow, get_flow, set_flow
from oversight.errors import InvalidInputError, OversightError, PermissionDeniedError
from oversight.schedules import (
    CRON_HELP,
    QUARTERLY_HELP,
    describe,
    ensure_default_schedules,
    list_schedules,
    pause_schedule,
    request_run_now,
    require_schedule,
    resume_schedule,
    set_schedule,
)

FLOW = "schedule_set"
SCHEDULE_HEADER = "【定时任务】（北京时间）"
ASK_CRON = "请发送“{name}”的新时间表达式。\n{cron_help}\n{quarterly_help}\n当前：{cron}（{desc}）\n发送 /cancel 取消。"
SET_DONE = "已将“{name}”改为：{cron}（{desc}）。无需重启，工作进程将自动按新时间执行。"
PAUSED = "已暂停“{name}”。"
RESUMED = "已恢复“{name}”，下次运行：{next}。"
RUN_REQUESTED = "已请求立即运行“{name}”（期别 {period}），工作进程将在数秒内执行。"
MEETING_DONE = "已记录临时加开联席会议（{day}）{topic}，并请求生成本次会议简报（期别 {period}）。简报生成后将发送给召集人和办公室。"


def _admin(session, update: Update):  # type: ignore[no-untyped-def]
    member = member_of(session, update)
    if member is None or member.role != Role.ADMIN:
        raise PermissionDeniedError("只有管理员可以设置定时任务。")
    return member


def _listing(session, user_id: int) -> tuple[str, Any]:  # type: ignore[no-untyped-def]
    ensure_default_schedules(session=session)
    rows = list_schedules(session=session)
    lines = [SCHEDULE_HEADER]
    buttons = []
    for r in rows:
        state = "（已暂停）" if r["paused"] else f"，下次 {r['next_run_text']}"
        lines.append(f"• {r['name']}：{r['description']}{state}\n  表达式 {r['cron']}")
        toggle = ("恢复", "schedule.resume") if r["paused"] else ("暂停", "schedule.pause")
        buttons.append(
            [
                (f"改时间·{r['name']}", "schedule.edit", {"job": r["job"]}),
                (f"{toggle[0]}", toggle[1], {"job": r["job"]}),
                ("立即运行", "schedule.run", {"job": r["job"]}),
            ]
        )
    return "\n".join(lines), keyboard(session, buttons, user_id=user_id)


@command("schedule")
async def schedule(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_user is not None
    with db(context) as session:
        _admin(session, update)
        text, markup = _listing(session, update.effective_user.id)
    await answer_private(update, text, reply_markup=markup)


@on_callback("schedule.edit")
async def schedule_edit(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        _admin(session, update)
        row = require_schedule(session=session, job=str(args.get("job", "")))
        name = next((r["name"] for r in list_schedules(session=session) if r["job"] == row.job), row.job)
        set_flow(session=session, chat_id=user_id, user_id=user_id, flow=FLOW, step="cron", data={"job": row.job})
        text = ASK_CRON.format(
            name=name, cron_help=CRON_HELP, quarterly_help=QUARTERLY_HELP, cron=row.cron, desc=describe(row.cron)
        )
    await context.bot.send_message(user_id, text)
    return None


@on_flow_input(FLOW)
async def schedule_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user_id = update.effective_message, update.effective_user.id  # type: ignore[union-attr]
    text = (message.text or "").strip() if message else ""
    if not text:
        await context.bot.send_message(user_id, "请发送文字形式的时间表达式。\n" + CRON_HELP)
        return
    with db(context) as session:
        admin = _admin(session, update)
        state = get_flow(session=session, chat_id=user_id, user_id=user_id)
        job = (state.data or {}).get("job") if state else None
        if not job:
            raise InvalidInputError("该操作已失效，请重新发送 /schedule。")
        row = set_schedule(session=session, job=job, cron=text[:100], actor=actor_of(admin.id))
        clear_flow(session=session, chat_id=user_id, user_id=user_id)
        name = next((r["name"] for r in list_schedules(session=session) if r["job"] == job), job)
        reply = SET_DONE.format(name=name, cron=row.cron, desc=describe(row.cron))
    await context.bot.send_message(user_id, reply)


async def _toggle(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any], pause: bool) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        admin = _admin(session, update)
        job = str(args.get("job", ""))
        func = pause_schedule if pause else resume_schedule
        func(session=session, job=job, actor=actor_of(admin.id))
        row = next(r for r in list_schedules(session=session) if r["job"] == job)
        reply = (
            PAUSED.format(name=row["name"]) if pause else RESUMED.format(name=row["name"], next=row["next_run_text"])
        )
    await context.bot.send_message(user_id, reply)
    return None


@on_callback("schedule.pause")
async def schedule_pause(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    return await _toggle(update, context, args, pause=True)


@on_callback("schedule.resume")
async def schedule_resume(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    return await _toggle(update, context, args, pause=False)


@on_callback("schedule.run")
async def schedule_run(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        admin = _admin(session, update)
        job = str(args.get("job", ""))
        run = request_run_now(session=session, job=job, actor=actor_of(admin.id))
        name = next((r["name"] for r in list_schedules(session=session) if r["job"] == job), job)
        reply = RUN_REQUESTED.format(name=name, period=run.period)
    await context.bot.send_message(user_id, reply)
    return None


@command("meeting")
async def meeting(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """临时加开: record an ad-hoc joint meeting and have the worker compile its brief."""
    topic = " ".join(context.args or []).strip()[:200]
    now = utcnow()
    day = now.astimezone(get_settings().tz).date()
    try:
        with db(context) as session:
            member = member_of(session, update)
            assert member is not None
            ensure_default_schedules(session=session)
            m = Meeting(
                plan_id=member.plan_id,
                kind="adhoc",
                period=day.isoformat(),
                held_on=day,
                title=topic or "临时加开联席会议",
                called_by_member_id=member.id,
                created_at=now,
            )
            session.add(m)
            session.flush()
            audit(
                session=session,
                actor=actor_of(member.id),
                action="meeting.called",
                object_type="meeting",
                object_id=m.id,
                detail={"topic": topic},
                at=now,
            )
            run = request_run_now(
                session=session, job="brief", actor=actor_of(member.id), period=day.isoformat(), now=now
            )
            text = MEETING_DONE.format(
                day=f"{day.year}年{day.month}月{day.day}日", topic=f"：{topic}" if topic else "", period=run.period
            )
    except OversightError as exc:
        await answer_private(update, exc.message)
        return
    await answer_private(update, text)


EXTRA_COMMANDS.extend([("schedule", schedule), ("meeting", meeting)])
