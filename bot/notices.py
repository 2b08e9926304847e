"""Notices in chat: the convener reviews a draft (drops findings, edits the wording,
approves or abandons it); a named unit's contact files an explanation (/explain)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
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
    send_text,
    user_id_of,
)
from bot.legacy import EXTRA_COMMANDS, on_callback, on_flow_input
from config.settings import get_settings
from models import Member, Notice, Role, Unit, utcnow
from oversight import notices as N
from oversight.chatstate import clear_flow, get_flow, set_flow
from oversight.errors import InvalidInputError, InvalidStateError
from oversight.notices import NoticeState, notice_findings

EDIT_FLOW = "notice_edit"
EXPLAIN_FLOW = "explain"
LIST_HEAD = "【通报】"
LIST_EMPTY = "目前没有通报草稿或已印发的通报。季度结束后工作进程会自动起草。"
EDIT_PROMPT = {"title": "请发送新的通报标题（不超过 100 字）：", "body": "请发送新的通报正文（可多段）："}
EDITED = "已修改通报{what}。"
APPROVED = "已审定通报《{title}》，文号 {doc_no}。工作进程将生成正式文件，发到联席会议群和被通报单位。"
ABANDONED = "已放弃本期通报草稿。"
EXPLAIN_NONE = "贵单位目前没有可以报送情况说明的通报（须在通报印发后规定的工作日内报送）。"
EXPLAIN_PICK = "请选择要报送情况说明的通报："
EXPLAIN_PROMPT = (
    "请发送对《{title}》（{doc_no}）的情况说明（文字，可先上传佐证材料：PDF、Excel、图片），截止 {deadline}："
)
EXPLAIN_FILE = "已收到材料“{name}”。可继续上传，或发送文字说明完成报送。"
EXPLAINED = "情况说明已报送，将附入通报记录，并在下一期简报中列出。"


def draft_view(session: Session, notice: Notice, member: Member, user_id: int) -> tuple[str, Any]:
    """The notice as the convener or office reads it, with the buttons they may use."""
    text = N.draft_text(session=session, notice_id=notice.id)
    rows: list[list[tuple[str, str, dict[str, Any]]]] = []
    if notice.state == NoticeState.DRAFT and member.role in N.EDIT_ROLES:
        for f in notice_findings(session=session, notice_id=notice.id):
            label = f"恢复事项{f.id}" if f.dropped else f"删除事项{f.id}"
            rows.append([(label, "notice.restore" if f.dropped else "notice.drop", {"fid": f.id, "nid": notice.id})])
        rows.append(
            [
                ("改标题", "notice.edit", {"nid": notice.id, "what": "title"}),
                ("改正文", "notice.edit", {"nid": notice.id, "what": "body"}),
            ]
        )
        if member.role == Role.CONVENER:
            rows.append(
                [
                    ("✅ 审定印发", "notice.approve", {"nid": notice.id}),
                    ("放弃本期通报", "notice.abandon", {"nid": notice.id}),
                ]
            )
    return text, keyboard(session, rows, user_id=user_id) if rows else None


@command("notices")
async def notices(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        items = session.exec(
            select(Notice)
            .where(Notice.plan_id == member.plan_id)
            .where(col(Notice.state) != NoticeState.DROPPED)
            .order_by(col(Notice.id).desc())
            .limit(8)
        ).all()
        if not items:
            text, markup = LIST_EMPTY, None
        else:
            lines = [LIST_HEAD] + [
                f"#{n.id} {n.period} {n.doc_no or ''}《{n.title}》{N.STATE_LABELS.get(n.state, n.state)}" for n in items
            ]
            markup = keyboard(
                session, [[(f"查看 #{n.id}", "notice.open", {"nid": n.id})] for n in items], user_id=user_id
            )
            text = "\n".join(lines)
    await answer_private(update, text, reply_markup=markup)


async def _show(update: Update, context: ContextTypes.DEFAULT_TYPE, notice_id: int) -> None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        notice = N.get_notice(session=session, notice_id=notice_id)
        if notice is None or notice.plan_id != member.plan_id:
            raise InvalidInputError("该通报不存在。")
        if member.role not in (Role.CONVENER, Role.OFFICE, Role.ADMIN):
            raise InvalidStateError("只有召集人、办公室和管理员可以查看通报草稿。")
        text, markup = draft_view(session, notice, member, user_id)
    await send_text(context.bot, user_id, text, reply_markup=markup)


@on_callback("notice.open")
async def notice_open(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    await _show(update, context, int(args.get("nid", 0)))
    return None


async def _toggle(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any], drop: bool) -> str | None:
    with db(context) as session:
        member = require_member(session, update)
        func = N.drop_finding if drop else N.restore_finding
        func(session=session, finding_id=int(args.get("fid", 0)), actor=member, now=utcnow())
    await _show(update, context, int(args.get("nid", 0)))
    return "已删除该事项" if drop else "已恢复该事项"


@on_callback("notice.drop")
async def notice_drop(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    return await _toggle(update, context, args, drop=True)


@on_callback("notice.restore")
async def notice_restore(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    return await _toggle(update, context, args, drop=False)


@on_callback("notice.edit")
async def notice_edit(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    what = "body" if args.get("what") == "body" else "title"
    with db(context) as session:
        member = require_member(session, update)
        notice = N.get_notice(session=session, notice_id=int(args.get("nid", 0)))
        if notice is None or notice.plan_id != member.plan_id or member.role not in N.EDIT_ROLES:
            raise InvalidStateError("只有召集人和办公室可以修改通报草稿。")
        if notice.state != NoticeState.DRAFT:
            raise InvalidStateError("该通报已不是草稿，不能修改。")
        set_flow(
            session=session,
            chat_id=user_id,
            user_id=user_id,
            flow=EDIT_FLOW,
            step=what,
            data={"nid": notice.id, "what": what},
        )
    await context.bot.send_message(user_id, EDIT_PROMPT[what])
    return None


@on_flow_input(EDIT_FLOW)
async def notice_edit_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_id, message = user_id_of(update), update.effective_message
    text = (message.text or "") if message else ""
    with db(context) as session:
        member = require_member(session, update)
        state = get_flow(session=session, chat_id=user_id, user_id=user_id)
        data = dict(state.data) if state else {}
        what = data.get("what")
        if not text.strip():
            raise InvalidInputError("请发送文字。")
        N.edit_notice_text(
            session=session,
            notice_id=int(data.get("nid", 0)),
            actor=member,
            title=text if what == "title" else None,
            body=text if what == "body" else None,
            now=utcnow(),
        )
        clear_flow(session=session, chat_id=user_id, user_id=user_id)
    await context.bot.send_message(user_id, EDITED.format(what="标题" if what == "title" else "正文"))
    await _show(update, context, int(data.get("nid", 0)))


@on_callback("notice.approve")
async def notice_approve(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        notice = N.approve_notice(session=session, notice_id=int(args.get("nid", 0)), actor=member, now=utcnow())
        text = APPROVED.format(title=notice.title, doc_no=notice.doc_no)
    await context.bot.send_message(user_id, text)
    return "已审定"


@on_callback("notice.abandon")
async def notice_abandon(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        N.drop_notice(session=session, notice_id=int(args.get("nid", 0)), actor=member, now=utcnow())
    await context.bot.send_message(user_id, ABANDONED)
    return None


# --- /explain ----------------------------------------------------------------------


def _explainable(session: Session, member: Member) -> list[Notice]:
    now = utcnow()
    published = session.exec(
        select(Notice)
        .where(Notice.plan_id == member.plan_id)
        .where(Notice.state == NoticeState.PUBLISHED)
        .order_by(col(Notice.id).desc())
    ).all()
    result = []
    for n in published:
        deadline = N.explanation_deadline(session=session, notice=n)
        if member.unit_id in N.named_unit_ids(session=session, notice_id=n.id) and deadline and now <= deadline:
            result.append(n)
    return result


@command("explain")
async def explain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        items = _explainable(session, member)
        if not items:
            text, markup = EXPLAIN_NONE, None
        else:
            text = EXPLAIN_PICK
            markup = keyboard(
                session,
                [[(f"{n.doc_no}《{n.title}》"[:60], "notice.explain", {"nid": n.id})] for n in items],
                user_id=user_id,
            )
    await answer_private(update, text, reply_markup=markup)


@on_callback("notice.explain")
async def notice_explain(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = user_id_of(update)
    with db(context) as session:
        member = require_member(session, update)
        notice = N.get_notice(session=session, notice_id=int(args.get("nid", 0)))
        if notice is None or notice not in _explainable(session, member):
            raise InvalidStateError(EXPLAIN_NONE)
        deadline = N.explanation_deadline(session=session, notice=notice)
        set_flow(
            session=session,
            chat_id=user_id,
            user_id=user_id,
            flow=EXPLAIN_FLOW,
            step="text",
            data={"nid": notice.id, "attachments": []},
        )
        text = EXPLAIN_PROMPT.format(
            title=notice.title,
            doc_no=notice.doc_no,
            deadline=deadline.astimezone(get_settings().tz).strftime("%Y年%m月%d日") if deadline else "",
        )
    await context.bot.send_message(user_id, text)
    return None


@on_flow_input(EXPLAIN_FLOW)
async def explain_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_id, message = user_id_of(update), update.effective_message
    if message is None:
        return
    if message.document is not None or message.photo:
        blob, name, mime = await download_file(message)
        with db(context) as session:
            state = get_flow(session=session, chat_id=user_id, user_id=user_id)
            data = dict(state.data) if state else {}
            saved = attach_to_flow(
                session, user_id=user_id, flow=EXPLAIN_FLOW, step="text", data=data, blob=blob, name=name, mime=mime
            )
        await context.bot.send_message(user_id, EXPLAIN_FILE.format(name=saved))
        return
    text = (message.text or "").strip()
    if not text:
        raise InvalidInputError("请发送文字说明。")
    with db(context) as session:
        member = require_member(session, update)
        state = get_flow(session=session, chat_id=user_id, user_id=user_id)
        data = dict(state.data) if state else {}
        N.file_explanation(
            session=session,
            notice_id=int(data.get("nid", 0)),
            actor=member,
            text=text,
            attachment_ids=data.get("attachments", []),
            now=utcnow(),
        )
        clear_flow(session=session, chat_id=user_id, user_id=user_id)
    await context.bot.send_message(user_id, EXPLAINED)


EXTRA_COMMANDS.extend([("notices", notices), ("explain", explain)])
__all__ = ["Unit"]
