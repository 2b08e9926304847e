"""/flag (raise a problem) and the buttons that move a problem along: accept, hand over,
decline, rule, resolve with evidence, confirm, reopen. Every press is checked again by the
domain (role, unit, current state); the buttons only carry opaque tokens."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session, select
from telegram import Update
from telegram.ext import ContextTypes

from bot.common import (
    answer_private,
    attach_to_flow,
    command,
    db,
    download_file,
    keyboard,
    require_member,
    user_id_of,
    wake_delivery,
)
from bot.legacy import EXTRA_COMMANDS, on_callback, on_flow_input
from models import Member, Problem, ProblemCategory, ProblemEvent, ProblemEventKind, Unit, Zone
from oversight import problems as P
from oversight.chatstate import clear_flow, get_flow, mint_token, set_flow
from oversight.errors import InvalidInputError, InvalidStateError
from oversight.rights import find_rights

logger = logging.getLogger(__name__)

FLOW = "flag"
ACT_FLOW = "problem_act"
ACTIONS = ("accept", "hand_over", "decline", "rule", "resolve", "confirm", "reopen")
BUTTON_LABELS = {
    "accept": "✅ 接收",
    "hand_over": "↪️ 转交",
    "decline": "⛔ 退回",
    "rule": "⚖️ 裁定责任单位",
    "resolve": "🏁 办结",
    "confirm": "👍 确认关闭",
    "reopen": "🔁 重新办理",
}
TEXT_PROMPT = "请描述问题（堵点），一条消息写清：发生了什么、卡在哪个环节、需要谁做什么。\n随时发送 /cancel 取消。"
PICK_CATEGORY = "请选择问题类别："
PICK_SUBJECT = "问题涉及哪个矿业权或整合区？"
TYPE_RIGHT = "请输入矿业权名称或编号的一部分："
NO_RIGHT = "没有找到包含“{text}”的矿业权，请换个关键词，或点“不指定”。"
PICK_RIGHT = "找到以下矿业权，请选择："
PICK_ZONE = "请选择整合区："
OWNER_SUGGESTED = "按职责分工，建议由【{unit}】负责办理（{category}）。"
OWNER_NONE = "类别“{category}”没有对应的责任单位，请选择："
PICK_UNIT = "请选择责任单位："
RAISED = "已提交问题#{id}，已交办{owner}，办理期限 {due}。\n可发送 /problem {id} 查看全过程。"
ASK_REASON = {
    "hand_over": "请说明转交给【{unit}】的理由（必填）：",
    "decline": "请说明退回问题#{id}的理由（必填，将提交联席会议办公室裁定）：",
    "rule": "请说明裁定由【{unit}】办理问题#{id}的理由（必填）：",
    "reopen": "请说明问题#{id}需要重新办理的理由（必填）：",
    "resolve": "请发送问题#{id}的办结说明（文字），也可先上传佐证材料（PDF、Excel、图片），再发送文字说明完成办结：",
}
PICK_HANDOVER_UNIT = "问题#{id}转交给哪个单位？"
PICK_RULE_UNIT = "裁定问题#{id}由哪个单位负责办理？"
DONE = {
    "accept": "已接收问题#{id}，请在 {due} 前办结。办结时请点“办结”并附说明或材料。",
    "hand_over": "问题#{id}已转交给{owner}。",
    "decline": "问题#{id}已退回，待联席会议办公室裁定。",
    "rule": "已裁定：问题#{id}由{owner}办理。",
    "resolve": "问题#{id}已办结，已通知提出方确认。",
    "confirm": "问题#{id}已确认关闭。",
    "reopen": "问题#{id}已退回重新办理，仍由{owner}负责。",
}
EVIDENCE_SAVED = "已收到材料“{name}”。可继续上传，或发送文字说明完成办结。"
JUDGE_PROMPT = "如认为下列转交理由成立，可逐条认定（认定后该转交不计为推诿）："
JUDGED = "已认定：{unit}的转交理由{verdict}。"
PROBLEM_USAGE = "用法：/problem 问题编号，例如 /problem 12"
NOT_YOURS = "您无权查看问题#{id}。"


# --- buttons ---------------------------------------------------------------------


def action_rows(session: Session, problem: Problem, member: Member) -> list[list[dict[str, str]]]:
    """The buttons a member may press on a problem now, as outbox rows of {text, token}."""
    allowed = [a for a in ACTIONS if P.can(a, session=session, member=member, problem=problem)]
    buttons = [
        {
            "text": BUTTON_LABELS[a],
            "token": mint_token(
                session=session, action=f"problem.{a}", args={"pid": problem.id}, user_id=member.telegram_user_id
            ),
        }
        for a in allowed
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def button_maker(session: Session) -> P.ButtonMaker:
    """The ButtonMaker the domain calls for each member who must act next."""
    return lambda problem, member: action_rows(session, problem, member) or None


def _markup(rows: list[list[dict[str, str]]]):  # type: ignore[no-untyped-def]
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["text"], callback_data=b["token"]) for b in row] for row in rows]
    )


# --- /flag ------------------------------------------------------------------------


@command("flag")
async def flag(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start raising a problem; `/flag 文字` skips the first question."""
    user_id = user_id_of(update)
    text = " ".join(context.args or []).strip()
    with db(context) as session:
        set_flow(session=session, chat_id=user_id, user_id=user_id, flow=FLOW, step="text", data={})
    if text:
        await _take_text(update, context, text)
    else:
        await context.bot.send_message(user_id, TEXT_PROMPT)


async def _take_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        body = P._clean_text(text, what="问题描述")  # same limits the domain enforces
        set_flow(session=session, chat_id=user_id, user_id=user_id, flow=FLOW, step="category", data={"text": body})
        categories = session.exec(
            select(ProblemCategory).where(ProblemCategory.plan_id == member.plan_id).order_by(ProblemCategory.id)
        ).all()
        rows = [(c.name, "flag.category", {"cid": c.id}) for c in categories]
        markup = keyboard(session, [rows[i : i + 2] for i in range(0, len(rows), 2)], user_id=user_id)
    await context.bot.send_message(user_id, PICK_CATEGORY, reply_markup=markup)


def _flow_data(session: Session, update: Update, step: str | tuple[str, ...]) -> dict[str, Any]:
    """The open /flag flow's data, if the flow is at `step`; a stale button otherwise."""
    user_id = user_id_of(update)
    state = get_flow(session=session, chat_id=user_id, user_id=user_id)
    steps = (step,) if isinstance(step, str) else step
    if state is None or state.flow != FLOW or state.step not in steps:
        raise InvalidStateError("该按钮已失效（问题填报已结束或已进入下一步），请重新发送 /flag。")
    return dict(state.data)


@on_callback("flag.category")
async def flag_category(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        data = _flow_data(session, update, "category")
        category = session.get(ProblemCategory, int(args.get("cid", 0)))
        if category is None or category.plan_id != member.plan_id:
            raise InvalidInputError("该类别不存在。")
        data["cid"] = category.id
        set_flow(session=session, chat_id=user_id, user_id=user_id, flow=FLOW, step="subject", data=data)
        markup = keyboard(
            session,
            [
                [("按名称查找矿业权", "flag.find_right", {}), ("选择整合区", "flag.zones", {})],
                [("不指定", "flag.no_subject", {})],
            ],
            user_id=user_id,
        )
    await context.bot.send_message(user_id, f"类别：{category.name}\n{PICK_SUBJECT}", reply_markup=markup)
    return None


@on_callback("flag.find_right")
async def flag_find_right(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    with db(context) as session:
        data = _flow_data(session, update, ("subject", "right_search"))
        set_flow(session=session, chat_id=user_id, user_id=user_id, flow=FLOW, step="right_search", data=data)
    await context.bot.send_message(user_id, TYPE_RIGHT)
    return None


@on_callback("flag.zones")
async def flag_zones(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        _flow_data(session, update, ("subject", "right_search"))
        zones = session.exec(select(Zone).where(Zone.plan_id == member.plan_id).order_by(Zone.seq)).all()
        if not zones:
            raise InvalidInputError("本计划没有整合区，请点“不指定”或查找矿业权。")
        rows = [(f"{z.seq}. {z.name}", "flag.zone", {"zid": z.id}) for z in zones]
        markup = keyboard(session, [rows[i : i + 2] for i in range(0, len(rows), 2)], user_id=user_id)
    await context.bot.send_message(user_id, PICK_ZONE, reply_markup=markup)
    return None


@on_callback("flag.zone")
async def flag_zone(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    with db(context) as session:
        member = require_member(session, update)
        data = _flow_data(session, update, ("subject", "right_search"))
        zone = session.get(Zone, int(args.get("zid", 0)))
        if zone is None or zone.plan_id != member.plan_id:
            raise InvalidInputError("该整合区不存在。")
        data["zid"] = zone.id
    await _ask_owner(update, context, data)
    return None


@on_callback("flag.right")
async def flag_right(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    from models import Right

    with db(context) as session:
        member = require_member(session, update)
        data = _flow_data(session, update, "right_search")
        right = session.get(Right, int(args.get("rid", 0)))
        if right is None or right.plan_id != member.plan_id:
            raise InvalidInputError("该矿业权不存在。")
        data["rid"] = right.id
        if right.zone_id:
            data["zid"] = right.zone_id
    await _ask_owner(update, context, data)
    return None


@on_callback("flag.no_subject")
async def flag_no_subject(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    with db(context) as session:
        data = _flow_data(session, update, ("subject", "right_search"))
    await _ask_owner(update, context, data)
    return None


async def _ask_owner(update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any]) -> None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        category = session.get(ProblemCategory, data["cid"])
        assert category is not None
        set_flow(session=session, chat_id=user_id, user_id=user_id, flow=FLOW, step="owner", data=data)
        suggested = P.suggest_owner(session=session, plan_id=member.plan_id, category_id=category.id)
        if suggested is not None:
            text = OWNER_SUGGESTED.format(unit=suggested.name, category=category.name)
            markup = keyboard(
                session,
                [
                    [(f"确认由{suggested.short or suggested.name}办理", "flag.owner", {"uid": suggested.id})],
                    [("改为其他单位", "flag.other_owner", {})],
                ],
                user_id=user_id,
            )
        else:
            text = OWNER_NONE.format(category=category.name)
            markup = _unit_keyboard(session, member.plan_id, "flag.owner", {}, user_id)
    await context.bot.send_message(user_id, text, reply_markup=markup)


def _unit_keyboard(
    session: Session, plan_id: int, action: str, extra: dict[str, Any], user_id: int, exclude: int | None = None
):  # type: ignore[no-untyped-def]
    units = session.exec(select(Unit).where(Unit.plan_id == plan_id).order_by(Unit.id)).all()
    rows = [
        (u.short or u.name, action, {**extra, "uid": u.id})
        for u in units
        if u.id != exclude and u.kind not in ("government",)
    ]
    return keyboard(session, [rows[i : i + 3] for i in range(0, len(rows), 3)], user_id=user_id)


@on_callback("flag.other_owner")
async def flag_other_owner(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        _flow_data(session, update, "owner")
        markup = _unit_keyboard(session, member.plan_id, "flag.owner", {}, user_id)
    await context.bot.send_message(user_id, PICK_UNIT, reply_markup=markup)
    return None


@on_callback("flag.owner")
async def flag_owner(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        data = _flow_data(session, update, "owner")
        problem = P.raise_problem(
            session=session,
            plan_id=member.plan_id,
            actor=member,
            text=data["text"],
            category_id=data["cid"],
            owner_unit_id=int(args.get("uid", 0)) or None,
            right_id=data.get("rid"),
            zone_id=data.get("zid"),
            buttons=button_maker(session),
        )
        clear_flow(session=session, chat_id=user_id, user_id=user_id)
        owner = session.get(Unit, problem.owner_unit_id)
        text = RAISED.format(id=problem.id, owner=owner.name if owner else "", due=problem.due_on)
    wake_delivery(context)
    await context.bot.send_message(user_id, text)
    return "已提交"


# --- typed input: the /flag flow and reasons for problem actions --------------------


@on_flow_input(FLOW)
async def flag_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user_id = update.effective_message, user_id_of(update)
    if message is None:
        return
    text = (message.text or "").strip()
    with db(context) as session:
        member = require_member(session, update)
        state = get_flow(session=session, chat_id=user_id, user_id=user_id)
        step = state.step if state else ""
    if not text:
        await context.bot.send_message(user_id, "请发送文字。")
        return
    if step == "text":
        await _take_text(update, context, text)
    elif step == "right_search":
        with db(context) as session:
            rights = find_rights(session=session, plan_id=member.plan_id, text=text[:100])
            if not rights:
                reply, markup = (
                    NO_RIGHT.format(text=text[:100]),
                    keyboard(
                        session,
                        [[("不指定", "flag.no_subject", {}), ("选择整合区", "flag.zones", {})]],
                        user_id=user_id,
                    ),
                )
            else:
                reply = PICK_RIGHT
                markup = keyboard(
                    session,
                    [[(f"{r.name}（{r.code}）"[:60], "flag.right", {"rid": r.id})] for r in rights],
                    user_id=user_id,
                )
        await context.bot.send_message(user_id, reply, reply_markup=markup)
    else:
        await context.bot.send_message(user_id, "请使用上方的按钮选择；发送 /cancel 可取消。")


@on_flow_input(ACT_FLOW)
async def act_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The reason (or the evidence) for the problem action the user started with a button."""
    message, user_id = update.effective_message, user_id_of(update)
    if message is None:
        return
    with db(context) as session:
        state = get_flow(session=session, chat_id=user_id, user_id=user_id)
        data = dict(state.data) if state else {}
    action = data.get("action")
    if message.document is not None or message.photo:
        if action != "resolve":
            await context.bot.send_message(user_id, "此步骤请发送文字理由。")
            return
        blob, name, mime = await download_file(message)
        with db(context) as session:
            saved = attach_to_flow(
                session, user_id=user_id, flow=ACT_FLOW, step="reason", data=data, blob=blob, name=name, mime=mime
            )
        await context.bot.send_message(user_id, EVIDENCE_SAVED.format(name=saved))
        return
    text = (message.text or "").strip()
    await _perform(update, context, data, text)


async def _perform(update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any], text: str) -> None:
    user_id = user_id_of(update)
    action, pid = data.get("action"), int(data.get("pid", 0))
    with db(context) as session:
        member = require_member(session, update)
        buttons = button_maker(session)
        if action == "hand_over":
            problem = P.hand_over_problem(
                session=session, problem_id=pid, actor=member, to_unit_id=int(data["uid"]), reason=text, buttons=buttons
            )
        elif action == "decline":
            problem = P.decline_problem(session=session, problem_id=pid, actor=member, reason=text, buttons=buttons)
        elif action == "rule":
            problem = P.rule_problem(
                session=session, problem_id=pid, actor=member, to_unit_id=int(data["uid"]), reason=text, buttons=buttons
            )
        elif action == "reopen":
            problem = P.reopen_problem(session=session, problem_id=pid, actor=member, reason=text, buttons=buttons)
        elif action == "resolve":
            problem = P.resolve_problem(
                session=session,
                problem_id=pid,
                actor=member,
                evidence_text=text,
                attachment_ids=data.get("attachments", []),
                buttons=buttons,
            )
        else:
            clear_flow(session=session, chat_id=user_id, user_id=user_id)
            raise InvalidStateError("该操作已失效，请重新打开问题：/problem 编号")
        clear_flow(session=session, chat_id=user_id, user_id=user_id)
        owner = session.get(Unit, problem.owner_unit_id)
        reply = DONE[action].format(id=problem.id, owner=owner.name if owner else "", due=problem.due_on)
        judge = _judge_rows(session, problem, member) if action == "rule" else []
    wake_delivery(context)
    await context.bot.send_message(user_id, reply)
    if judge:
        with db(context) as session:
            markup = keyboard(session, judge, user_id=user_id)
        await context.bot.send_message(user_id, JUDGE_PROMPT, reply_markup=markup)


def _judge_rows(session: Session, problem: Problem, member: Member) -> list[list[tuple[str, str, dict[str, Any]]]]:
    """Buttons for the office to judge each hand-over reason of a problem it just ruled on."""
    if not P.can("judge_reason", session=session, member=member, problem=problem):
        return []
    events = session.exec(
        select(ProblemEvent)
        .where(ProblemEvent.problem_id == problem.id)
        .where(ProblemEvent.kind == ProblemEventKind.HANDED_OVER)
        .order_by(ProblemEvent.id)
    ).all()
    rows = []
    for ev in events:
        unit = session.get(Unit, ev.from_unit_id) if ev.from_unit_id else None
        label = f"{unit.short or unit.name if unit else '某单位'}：{ev.reason}"[:40]
        rows.append(
            [
                (f"成立｜{label}", "problem.judge", {"eid": ev.id, "ok": True}),
                ("不成立", "problem.judge", {"eid": ev.id, "ok": False}),
            ]
        )
    return rows


# --- the action buttons -------------------------------------------------------------


async def _start_action(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, pid: int) -> str | None:
    """Check the action is allowed now, then do it or ask for what it needs."""
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        problem = P.get_problem(session=session, problem_id=pid)
        if problem is None or problem.plan_id != member.plan_id:
            raise InvalidInputError("该问题不存在。")
        if not P.can(action, session=session, member=member, problem=problem):
            # Let the domain say exactly why (wrong unit, wrong state …).
            P._check(action, session=session, member=member, problem=problem)
            raise InvalidStateError("当前不能执行此操作。")
        if action in ("accept", "confirm"):
            func = P.accept_problem if action == "accept" else P.confirm_problem
            problem = func(session=session, problem_id=pid, actor=member)
            owner = session.get(Unit, problem.owner_unit_id)
            reply = DONE[action].format(id=pid, owner=owner.name if owner else "", due=problem.due_on)
            rows = action_rows(session, problem, member) if action == "accept" else []
            markup = _markup(rows)
            done = True
        elif action in ("hand_over", "rule"):
            prompt = PICK_HANDOVER_UNIT if action == "hand_over" else PICK_RULE_UNIT
            reply = prompt.format(id=pid)
            markup = _unit_keyboard(
                session,
                member.plan_id,
                "problem.pick_unit",
                {"pid": pid, "action": action},
                user_id,
                exclude=problem.owner_unit_id if action == "hand_over" else None,
            )
            done = False
        else:
            set_flow(
                session=session,
                chat_id=user_id,
                user_id=user_id,
                flow=ACT_FLOW,
                step="reason",
                data={"action": action, "pid": pid},
            )
            reply, markup, done = ASK_REASON[action].format(id=pid, unit=""), None, False
    if done:
        wake_delivery(context)
    await context.bot.send_message(user_id, reply, reply_markup=markup)
    return None


def _make_action(action: str):  # type: ignore[no-untyped-def]
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
        return await _start_action(update, context, action, int(args.get("pid", 0)))

    handler.__name__ = f"problem_{action}"
    return handler


for _action in ACTIONS:
    on_callback(f"problem.{_action}")(_make_action(_action))


@on_callback("problem.pick_unit")
async def pick_unit(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    action, pid, uid = args.get("action"), int(args.get("pid", 0)), int(args.get("uid", 0))
    with db(context) as session:
        member = require_member(session, update)
        problem = P.get_problem(session=session, problem_id=pid)
        unit = session.get(Unit, uid)
        if problem is None or unit is None or unit.plan_id != member.plan_id or action not in ("hand_over", "rule"):
            raise InvalidInputError("该按钮已失效。")
        if not P.can(action, session=session, member=member, problem=problem):
            P._check(action, session=session, member=member, problem=problem)
        set_flow(
            session=session,
            chat_id=user_id,
            user_id=user_id,
            flow=ACT_FLOW,
            step="reason",
            data={"action": action, "pid": pid, "uid": uid},
        )
    await context.bot.send_message(user_id, ASK_REASON[action].format(id=pid, unit=unit.name))
    return None


@on_callback("problem.judge")
async def judge(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        event = P.accept_handover_reason(
            session=session, event_id=int(args.get("eid", 0)), actor=member, accepted=bool(args.get("ok"))
        )
        unit = session.get(Unit, event.from_unit_id) if event.from_unit_id else None
        text = JUDGED.format(unit=unit.name if unit else "该单位", verdict="成立" if args.get("ok") else "不成立")
    wake_delivery(context)
    await context.bot.send_message(user_id, text)
    return None


# --- /problem ID ---------------------------------------------------------------------


@command("problem")
async def problem_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    if len(args) != 1 or not args[0].lstrip("#").isdigit() or len(args[0]) > 12:
        await answer_private(update, PROBLEM_USAGE)
        return
    pid = int(args[0].lstrip("#"))
    with db(context) as session:
        member = require_member(session, update)
        problem = P.get_problem(session=session, problem_id=pid)
        if problem is None or problem.plan_id != member.plan_id:
            text, markup = f"找不到问题#{pid}。", None
        elif not _may_view(session, member, problem):
            text, markup = NOT_YOURS.format(id=pid), None
        else:
            text = P.format_problem(session=session, problem_id=pid)
            markup = _markup(action_rows(session, problem, member))
    await answer_private(update, text, reply_markup=markup)


def _may_view(session: Session, member: Member, problem: Problem) -> bool:
    """Contacts see the problems their unit raised, owns or handled; overseeing roles see all."""
    from models import Role

    if member.role in (Role.OFFICE, Role.CONVENER, Role.ADMIN, Role.SUPERVISOR):
        return True
    if member.unit_id in (problem.raised_by_unit_id, problem.owner_unit_id):
        return True
    if member.role == Role.ZONE_LEADER and problem.zone_id is not None:
        from models import ZoneLeader

        return session.get(ZoneLeader, (problem.zone_id, member.id)) is not None
    touched = session.exec(
        select(ProblemEvent.id)
        .where(ProblemEvent.problem_id == problem.id)
        .where((ProblemEvent.from_unit_id == member.unit_id) | (ProblemEvent.to_unit_id == member.unit_id))
    ).first()
    return touched is not None


EXTRA_COMMANDS.extend([("flag", flag), ("problem", problem_command)])
