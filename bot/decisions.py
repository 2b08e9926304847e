"""/decision: the office records an agreed matter (议定事项) of a meeting — meeting → text →
owner unit → due date; the owner unit is told with a "标记完成" button."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import select
from telegram import Update
from telegram.ext import ContextTypes

from bot.app import EXTRA_COMMANDS, on_callback, on_flow_input
from bot.common import answer_private, command, db, keyboard, require_member, user_id_of, wake_delivery
from config.settings import get_settings
from models import Decision, Meeting, Unit, utcnow
from oversight import meetings as M
from oversight.chatstate import clear_flow, get_flow, mint_token, set_flow
from oversight.errors import InvalidInputError, InvalidStateError
from oversight.outbox import enqueue_text

FLOW = "decision"
PICK_MEETING = "请选择议定事项所属的会议："
NO_MEETING = "还没有会议记录。请先新建本次会议："
NEW_MEETING = "新建会议记录（今天）"
ASK_TEXT = "会议：{meeting}\n请发送议定事项内容（不超过 500 字）："
PICK_UNIT = "请选择责任单位："
ASK_DUE = "责任单位：{unit}\n请发送完成时限，格式 2026-06-30："
BAD_DATE = "“{text}”不是有效日期，请按 2026-06-30 的格式发送。"
SAVED = "已记录议定事项#{id}：{text}\n责任单位：{unit}，完成时限 {due}。已通知该单位联络员。"
DONE = "议定事项#{id}已标记完成。"


def _flow(session, update: Update, step: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    state = get_flow(session=session, chat_id=user_id_of(update), user_id=user_id_of(update))
    if state is None or state.flow != FLOW or state.step != step:
        raise InvalidStateError("该按钮已失效，请重新发送 /decision。")
    return dict(state.data)


@command("decision")
async def decision(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        meetings = M.recent_meetings(session=session, plan_id=member.plan_id)
        set_flow(session=session, chat_id=user_id, user_id=user_id, flow=FLOW, step="meeting", data={})
        rows = [[(f"{m.held_on.isoformat()} {m.title}"[:50], "decision.meeting", {"mid": m.id})] for m in meetings]
        rows.append([(NEW_MEETING, "decision.new_meeting", {})])
        markup = keyboard(session, rows, user_id=user_id)
    await answer_private(update, PICK_MEETING if meetings else NO_MEETING, reply_markup=markup)


async def _ask_text(update: Update, context: ContextTypes.DEFAULT_TYPE, meeting: Meeting) -> None:
    user_id = user_id_of(update)
    await context.bot.send_message(user_id, ASK_TEXT.format(meeting=f"{meeting.held_on.isoformat()} {meeting.title}"))


@on_callback("decision.meeting")
async def pick_meeting(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        _flow(session, update, "meeting")
        meeting = session.get(Meeting, int(args.get("mid", 0)))
        if meeting is None or meeting.plan_id != member.plan_id:
            raise InvalidInputError("该会议不存在。")
        set_flow(session=session, chat_id=user_id, user_id=user_id, flow=FLOW, step="text", data={"mid": meeting.id})
    await _ask_text(update, context, meeting)
    return None


@on_callback("decision.new_meeting")
async def new_meeting(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    now = utcnow()
    today = now.astimezone(get_settings().tz).date()
    with db(context) as session:
        member = require_member(session, update)
        _flow(session, update, "meeting")
        if member.role not in M.RECORDING_ROLES:
            raise InvalidStateError("只有联席会议办公室、召集人和管理员可以记录会议。")
        quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
        meeting, _ = M.record_meeting(
            session=session,
            plan_id=member.plan_id,
            held_on=today,
            title="联席会议",
            kind="quarterly",
            period=quarter,
            decisions=[],
            actor=f"member:{member.id}",
            now=now,
        )
        set_flow(session=session, chat_id=user_id, user_id=user_id, flow=FLOW, step="text", data={"mid": meeting.id})
    await _ask_text(update, context, meeting)
    return None


@on_flow_input(FLOW)
async def decision_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_id, message = user_id_of(update), update.effective_message
    text = (message.text or "").strip() if message else ""
    if not text:
        raise InvalidInputError("请发送文字。")
    with db(context) as session:
        member = require_member(session, update)
        state = get_flow(session=session, chat_id=user_id, user_id=user_id)
        data, step = (dict(state.data), state.step) if state else ({}, "")
        if step == "text":
            if len(text) > M.TEXT_MAX:
                raise InvalidInputError(f"议定事项内容不超过 {M.TEXT_MAX} 字。")
            data["text"] = text
            set_flow(session=session, chat_id=user_id, user_id=user_id, flow=FLOW, step="unit", data=data)
            units = session.exec(select(Unit).where(Unit.plan_id == member.plan_id).order_by(Unit.id)).all()
            rows = [(u.short or u.name, "decision.unit", {"uid": u.id}) for u in units if u.kind != "government"]
            reply, markup = (
                PICK_UNIT,
                keyboard(session, [rows[i : i + 3] for i in range(0, len(rows), 3)], user_id=user_id),
            )
        elif step == "due":
            try:
                due = date.fromisoformat(text)
            except ValueError:
                raise InvalidInputError(BAD_DATE.format(text=text[:30])) from None
            d = M.add_decision(
                session=session,
                meeting_id=int(data["mid"]),
                actor=member,
                text=data["text"],
                owner_unit_id=int(data["uid"]),
                due_on=due,
            )
            unit = session.get(Unit, d.owner_unit_id)
            notice = M.decision_notice_text(session=session, decision=d)
            for contact in M.owner_contacts(session=session, decision=d):
                if contact.telegram_user_id is None:
                    continue
                token = mint_token(
                    session=session, action="decision.done", args={"did": d.id}, user_id=contact.telegram_user_id
                )
                enqueue_text(
                    session=session,
                    chat_id=contact.telegram_user_id,
                    text=notice,
                    buttons=[[{"text": "标记完成", "token": token}]],
                    dedupe_key=f"decision:{d.id}:assigned:{contact.telegram_user_id}",
                )
            clear_flow(session=session, chat_id=user_id, user_id=user_id)
            reply, markup = (
                SAVED.format(id=d.id, text=d.text, unit=unit.name if unit else "", due=due.isoformat()),
                None,
            )
        else:
            reply, markup = "请使用上方的按钮选择；发送 /cancel 可取消。", None
    wake_delivery(context)
    await context.bot.send_message(user_id, reply, reply_markup=markup)


@on_callback("decision.unit")
async def pick_unit(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        data = _flow(session, update, "unit")
        unit = session.get(Unit, int(args.get("uid", 0)))
        if unit is None or unit.plan_id != member.plan_id:
            raise InvalidInputError("该单位不存在。")
        data["uid"] = unit.id
        set_flow(session=session, chat_id=user_id, user_id=user_id, flow=FLOW, step="due", data=data)
    await context.bot.send_message(user_id, ASK_DUE.format(unit=unit.name))
    return None


@on_callback("decision.done")
async def mark_done(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        d = M.complete_decision(session=session, decision_id=int(args.get("did", 0)), actor=member, now=utcnow())
        text = DONE.format(id=d.id)
    await context.bot.send_message(user_id, text)
    return "已标记完成"


EXTRA_COMMANDS.append(("decision", decision))
__all__ = ["Decision"]
