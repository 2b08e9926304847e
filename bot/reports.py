"""/report: progress reports through buttons (or in one line), with status moves,
measures (一矿一策) and attachments; /ledger: the unit's ledger xlsx plus its stamped scan.

Conversation state lives in ChatState (oversight.chatstate), keyed by the user's private
chat, so a restart resumes it. Every button carries the flow id and the step it belongs
to; a press re-checks role, flow and step on the server and refuses a stale one."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from bot import report_texts as t
from bot.app import EXTRA_COMMANDS, on_callback, on_flow_input
from bot.common import answer_private, command, db, keyboard, member_of
from config.settings import get_settings
from models import Attachment, Member, Right, Role, Task, Zone
from oversight.access import allowed
from oversight.attachments import ALLOWED_TEXT, MAX_BYTES, XLSX, check_file, store_attachment
from oversight.chatstate import clear_flow, get_flow, set_flow
from oversight.errors import OversightError, PermissionDeniedError
from oversight.reports import (
    MAX_ATTACHMENTS,
    TEXT_MAX,
    check_ledger_submitter,
    check_may_report,
    check_report_text,
    complete_right_milestone,
    default_task_for,
    file_report,
    measure_of,
    move_choice,
    submit_ledger,
    tasks_for,
    update_measure,
    validate_ledger,
    zones_for,
)
from oversight.rights import find_rights, status_label

logger = logging.getLogger(__name__)

FLOW = "report"
LEDGER_FLOW = "ledger"
LEDGER_ERROR_LINES = 30
Rows = list[list[tuple[str, str, dict[str, Any]]]]


# --- small helpers ----------------------------------------------------------------


async def _send(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    await context.bot.send_message(chat_id, text, reply_markup=markup)


def _rows(user_id: int, fid: str, step: str, buttons: list[list[tuple[str, str, dict[str, Any]]]]) -> Rows:
    """Button rows whose tokens carry the flow id and the step they belong to."""
    return [[(label, action, {**args, "fid": fid, "step": step}) for label, action, args in row] for row in buttons]


def _reporter(session: Session, update: Update) -> Member:
    member = member_of(session, update)
    if member is None or not allowed("report", member.role):
        raise PermissionDeniedError(t.NOT_A_REPORTER)
    return member


def _flow_for_button(session: Session, update: Update, args: dict[str, Any]) -> tuple[Member, Any]:
    """The member and open report flow a button belongs to; a stale button raises."""
    member = _reporter(session, update)
    user_id = update.effective_user.id  # type: ignore[union-attr]
    state = get_flow(session=session, chat_id=user_id, user_id=user_id)
    if (
        state is None
        or state.flow != FLOW
        or state.data.get("fid") != args.get("fid")
        or state.step != args.get("step")
    ):
        raise OversightError(t.STALE_STEP)
    return member, state


def _advance(session: Session, user_id: int, step: str, data: dict[str, Any]) -> None:
    set_flow(session=session, chat_id=user_id, user_id=user_id, flow=FLOW, step=step, data=data)


def _target_text(session: Session, data: dict[str, Any]) -> str:
    if data.get("right_id"):
        right = session.get(Right, data["right_id"])
        return t.TARGET_RIGHT.format(name=right.name, code=right.code) if right else t.TARGET_NONE
    if data.get("zone_id"):
        zone = session.get(Zone, data["zone_id"])
        return t.TARGET_ZONE.format(name=zone.name) if zone else t.TARGET_NONE
    return t.TARGET_NONE


def _task_name(session: Session, task_id: int | None) -> str:
    task = session.get(Task, task_id) if task_id else None
    return task.name if task else t.TARGET_NONE


# --- /report ----------------------------------------------------------------------


@command("report", shares_transaction=True)
async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report starts the button flow; /report 文字 files to the default task at once."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    parts = (message.text or "").split(maxsplit=1)
    text = parts[1].strip() if len(parts) > 1 else ""
    try:
        if text:
            with db(context) as session:
                member = _reporter(session, update)
                task = default_task_for(session=session, member=member)
                if task is None:
                    raise OversightError(t.NO_DEFAULT_TASK)
                report = file_report(session=session, actor=member, task_id=task.id, text=text)
                reply = t.REPORT_FILED.format(report_id=report.id)
            await answer_private(update, reply)
            return
        with db(context) as session:
            member = _reporter(session, update)
            tasks = tasks_for(session=session, member=member)
            if not tasks:
                raise OversightError(t.NO_TASKS)
            fid = secrets.token_hex(4)
            _advance(session, user.id, "task", {"fid": fid})
            rows = _rows(
                user.id, fid, "task", [[(f"{x.seq}. {x.name}", "report.task", {"task_id": x.id})] for x in tasks]
            )
            markup = keyboard(session, rows, user.id)
    except OversightError as exc:
        await answer_private(update, exc.message)
        return
    await _send(context, user.id, t.PICK_TASK, markup)


@on_callback("report.task")
async def on_task(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        member, state = _flow_for_button(session, update, args)
        task, _, _ = check_may_report(session=session, actor=member, task_id=args["task_id"], zone_required=False)
        assert task is not None
        if task.id not in {x.id for x in tasks_for(session=session, member=member)}:
            raise PermissionDeniedError(f"您不能报送“{task.name}”的进展。")
        data = {**state.data, "task_id": task.id}
        _advance(session, user_id, "target", data)
        buttons = [[(t.BTN_ZONES, "report.zones", {}), (t.BTN_SEARCH, "report.search", {})]]
        if member.role != Role.ZONE_LEADER:
            buttons[0].append((t.BTN_NONE, "report.none", {}))
        markup = keyboard(session, _rows(user_id, data["fid"], "target", buttons), user_id)
        text = t.PICK_TARGET.format(task=task.name)
    await _send(context, user_id, text, markup)
    return None


@on_callback("report.zones")
async def on_zones(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        member, state = _flow_for_button(session, update, args)
        zones = zones_for(session=session, member=member)
        if not zones:
            return t.NO_ZONES
        _advance(session, user_id, "zone", state.data)
        pairs = [(f"{z.seq}. {z.name}", "report.zone", {"zone_id": z.id}) for z in zones]
        markup = keyboard(
            session,
            _rows(user_id, state.data["fid"], "zone", [pairs[i : i + 2] for i in range(0, len(pairs), 2)]),
            user_id,
        )
    await _send(context, user_id, t.PICK_ZONE, markup)
    return None


@on_callback("report.zone")
async def on_zone(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        member, state = _flow_for_button(session, update, args)
        check_may_report(session=session, actor=member, task_id=state.data.get("task_id"), zone_id=args["zone_id"])
        data = {**state.data, "zone_id": args["zone_id"], "right_id": None}
        _advance(session, user_id, "text", data)
        text = t.ASK_TEXT.format(target=_target_text(session, data), limit=TEXT_MAX)
    await _send(context, user_id, text)
    return None


@on_callback("report.none")
async def on_none(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        member, state = _flow_for_button(session, update, args)
        check_may_report(session=session, actor=member, task_id=state.data.get("task_id"))
        data = {**state.data, "zone_id": None, "right_id": None}
        _advance(session, user_id, "text", data)
        text = t.ASK_TEXT.format(target=t.TARGET_NONE, limit=TEXT_MAX)
    await _send(context, user_id, text)
    return None


@on_callback("report.search")
async def on_search(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        _, state = _flow_for_button(session, update, args)
        _advance(session, user_id, "search", state.data)
    await _send(context, user_id, t.ASK_SEARCH)
    return None


def _right_menu(session: Session, user_id: int, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    right = session.get(Right, data["right_id"])
    assert right is not None
    measure, milestones = measure_of(session=session, right_id=right.id)
    text = t.RIGHT_MENU.format(
        name=right.name,
        code=right.code,
        status=status_label(right.status),
        measure=measure.text[:300] if measure else t.NO_MEASURE,
    )
    if milestones:
        text += (
            "\n"
            + t.MILESTONES
            + "\n"
            + "\n".join(
                t.MILESTONE_LINE.format(
                    mark=t.DONE_MARK if m.done_at else t.OPEN_MARK,
                    due=m.due_on.isoformat() if m.due_on else t.NO_DUE,
                    title=m.title,
                )
                for m in milestones
            )
        )
    buttons: list[list[tuple[str, str, dict[str, Any]]]] = [
        [(t.BTN_PROGRESS, "report.progress", {}), (t.BTN_MEASURE, "report.measure", {})]
    ]
    buttons += [
        [(t.BTN_MILESTONE_DONE.format(title=m.title[:30]), "report.milestone", {"milestone_id": m.id})]
        for m in milestones
        if m.done_at is None
    ][:8]
    buttons.append([(t.BTN_FINISH, "report.finish", {})])
    return text, keyboard(session, _rows(user_id, data["fid"], "right", buttons), user_id)


@on_callback("report.milestone")
async def on_milestone(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        member, state = _flow_for_button(session, update, args)
        milestone = complete_right_milestone(
            session=session, actor=member, milestone_id=args["milestone_id"], task_id=state.data.get("task_id")
        )
        title = milestone.title
        _advance(session, user_id, "right", state.data)  # new tokens: the old menu's buttons go stale
        menu, markup = _right_menu(session, user_id, state.data)
    await _send(context, user_id, t.MILESTONE_DONE.format(title=title) + "\n" + menu, markup)
    return None


@on_callback("report.right")
async def on_right(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        member, state = _flow_for_button(session, update, args)
        _, zone, right = check_may_report(
            session=session, actor=member, task_id=state.data.get("task_id"), right_id=args["right_id"]
        )
        assert right is not None
        data = {**state.data, "right_id": right.id, "zone_id": zone.id if zone else None}
        _advance(session, user_id, "right", data)
        text, markup = _right_menu(session, user_id, data)
    await _send(context, user_id, text, markup)
    return None


@on_callback("report.measure")
async def on_measure(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        _, state = _flow_for_button(session, update, args)
        _advance(session, user_id, "measure", state.data)
    await _send(context, user_id, t.ASK_MEASURE)
    return None


@on_callback("report.progress")
async def on_progress(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        _, state = _flow_for_button(session, update, args)
        _advance(session, user_id, "text", state.data)
        text = t.ASK_TEXT.format(target=_target_text(session, state.data), limit=TEXT_MAX)
    await _send(context, user_id, text)
    return None


@on_callback("report.finish")
async def on_finish(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        _flow_for_button(session, update, args)
        clear_flow(session=session, chat_id=user_id, user_id=user_id)
    await _send(context, user_id, t.FINISHED)
    return None


def _files_prompt(session: Session, user_id: int, data: dict[str, Any]) -> InlineKeyboardMarkup:
    return keyboard(
        session, _rows(user_id, data["fid"], "files", [[(t.BTN_FILES_DONE, "report.files_done", {})]]), user_id
    )


@on_callback("report.move")
async def on_move(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        _, state = _flow_for_button(session, update, args)
        to_status = move_choice(session=session, task_id=state.data.get("task_id"), right_id=state.data.get("right_id"))
        data = {**state.data, "move_to": to_status if args.get("yes") else None}
        _advance(session, user_id, "files", data)
        markup = _files_prompt(session, user_id, data)
    await _send(context, user_id, t.ASK_FILES.format(allowed=ALLOWED_TEXT), markup)
    return None


def _confirm(session: Session, user_id: int, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    names = [a.filename for a in (session.get(Attachment, i) for i in data.get("attachments", [])) if a is not None]
    text = t.CONFIRM.format(
        task=_task_name(session, data.get("task_id")),
        target=_target_text(session, data),
        move=status_label(data["move_to"]) if data.get("move_to") else t.NO_MOVE,
        files=f"{len(names)} 个（{'、'.join(names)}）" if names else t.NO_FILES,
        text=data.get("text", ""),
    )
    buttons = [[(t.BTN_SUBMIT, "report.submit", {}), (t.BTN_ABORT, "report.abort", {})]]
    return text, keyboard(session, _rows(user_id, data["fid"], "confirm", buttons), user_id)


@on_callback("report.files_done")
async def on_files_done(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        _, state = _flow_for_button(session, update, args)
        _advance(session, user_id, "confirm", state.data)
        text, markup = _confirm(session, user_id, state.data)
    await _send(context, user_id, text, markup)
    return None


@on_callback("report.submit")
async def on_submit(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        member, state = _flow_for_button(session, update, args)
        data = state.data
        report = file_report(
            session=session,
            actor=member,
            task_id=data.get("task_id"),
            text=data.get("text", ""),
            zone_id=data.get("zone_id"),
            right_id=data.get("right_id"),
            move_to_status=data.get("move_to"),
            attachment_ids=data.get("attachments", []),
        )
        clear_flow(session=session, chat_id=user_id, user_id=user_id)
        if data.get("move_to") and report.right_id:
            right = session.get(Right, report.right_id)
            text = t.REPORT_FILED_MOVED.format(
                report_id=report.id, right=right.name if right else "", status=status_label(data["move_to"])
            )
        else:
            text = t.REPORT_FILED.format(report_id=report.id)
    await _send(context, user_id, text)
    return None


@on_callback("report.abort")
async def on_abort(update: Update, context: ContextTypes.DEFAULT_TYPE, args: dict[str, Any]) -> str | None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        _flow_for_button(session, update, args)
        clear_flow(session=session, chat_id=user_id, user_id=user_id)
    await _send(context, user_id, t.ABORTED)
    return None


# --- typed text and files while /report is open ---------------------------------------


async def _download(message: Message) -> tuple[bytes, str, str]:
    """The bytes, name and claimed type of a document or photo; too-big files are refused before fetching."""
    if message.document is not None:
        doc = message.document
        name, mime, size = doc.file_name or "file", doc.mime_type or "", doc.file_size or 0
        source = doc
    else:
        photo = message.photo[-1]
        name, mime, size, source = "photo.jpg", "image/jpeg", photo.file_size or 0, photo  # type: ignore[assignment]
    if size > MAX_BYTES:
        raise OversightError(t.FILE_TOO_BIG.format(name=name, size=size / 1024 / 1024))
    data = bytes(await (await source.get_file()).download_as_bytearray())
    return data, name, mime


@on_flow_input(FLOW)
async def report_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text or an uploaded file, for the step the report flow is at."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    has_file = message.document is not None or bool(message.photo)
    with db(context) as session:
        _reporter(session, update)
        state = get_flow(session=session, chat_id=user.id, user_id=user.id)
        step = state.step if state else ""
    if has_file:
        if step != "files":
            await _send(context, user.id, t.NO_FILE_HERE)
            return
        await _report_file(update, context, message)
        return
    text = (message.text or "").strip()
    handler = {"search": _typed_search, "measure": _typed_measure, "text": _typed_text}.get(step)
    if handler is None:
        await _send(context, user.id, t.USE_BUTTONS)
        return
    await handler(update, context, text)


async def _typed_search(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        member = _reporter(session, update)
        state = get_flow(session=session, chat_id=user_id, user_id=user_id)
        assert state is not None
        found = find_rights(session=session, plan_id=member.plan_id, text=text[:80])
        if member.role == Role.ZONE_LEADER:
            mine = {z.id for z in zones_for(session=session, member=member)}
            found = [r for r in found if r.zone_id in mine]
        if not found:
            reply, markup = t.SEARCH_NONE.format(text=text[:40]), None
        else:
            rows = [
                [(f"{r.name}（{r.code}）· {status_label(r.status)}", "report.right", {"right_id": r.id})] for r in found
            ]
            reply, markup = (
                t.SEARCH_RESULTS,
                keyboard(session, _rows(user_id, state.data["fid"], "search", rows), user_id),
            )
    await _send(context, user_id, reply, markup)


async def _typed_measure(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    with db(context) as session:
        member = _reporter(session, update)
        state = get_flow(session=session, chat_id=user_id, user_id=user_id)
        assert state is not None
        _, count = update_measure(
            session=session, actor=member, right_id=state.data["right_id"], text=text, task_id=state.data.get("task_id")
        )
        _advance(session, user_id, "right", state.data)
        menu, markup = _right_menu(session, user_id, state.data)
    await _send(context, user_id, t.MEASURE_SAVED.format(n=count) + "\n" + menu, markup)


async def _typed_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    text = check_report_text(text)
    with db(context) as session:
        _reporter(session, update)
        state = get_flow(session=session, chat_id=user_id, user_id=user_id)
        assert state is not None
        data = {**state.data, "text": text, "attachments": state.data.get("attachments", [])}
        to_status = move_choice(session=session, task_id=data.get("task_id"), right_id=data.get("right_id"))
        if to_status is not None:
            right = session.get(Right, data["right_id"])
            _advance(session, user_id, "move", data)
            buttons = [[(t.BTN_YES, "report.move", {"yes": True}), (t.BTN_NO, "report.move", {"yes": False})]]
            markup = keyboard(session, _rows(user_id, data["fid"], "move", buttons), user_id)
            reply = t.ASK_MOVE.format(right=right.name if right else "", status=status_label(to_status))
        else:
            _advance(session, user_id, "files", {**data, "move_to": None})
            markup = _files_prompt(session, user_id, data)
            reply = t.ASK_FILES.format(allowed=ALLOWED_TEXT)
    await _send(context, user_id, reply, markup)


async def _report_file(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    data, name, mime = await _download(message)
    with db(context) as session:
        _reporter(session, update)
        state = get_flow(session=session, chat_id=user_id, user_id=user_id)
        if state is None or state.flow != FLOW or state.step != "files":
            raise OversightError(t.NO_FILE_HERE)
        ids = list(state.data.get("attachments", []))
        if len(ids) >= MAX_ATTACHMENTS:
            raise OversightError(t.TOO_MANY_FILES.format(n=MAX_ATTACHMENTS))
        row = store_attachment(
            session=session, data=data, filename=name, mime_type=mime, data_dir=get_settings().DATA_DIR
        )
        earlier = [session.get(Attachment, i) for i in ids]
        if any(a is not None and a.sha256 == row.sha256 for a in earlier):
            session.delete(row)  # the bytes are already kept; one row per file in a report
            reply = t.FILE_DUPLICATE.format(name=row.filename)
        else:
            ids.append(row.id)
            _advance(session, user_id, "files", {**state.data, "attachments": ids})
            reply = t.FILE_RECEIVED.format(name=row.filename, n=len(ids))
        markup = _files_prompt(session, user_id, state.data)
    await _send(context, user_id, reply, markup)


# --- /ledger ----------------------------------------------------------------------


@command("ledger")
async def ledger_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ledger waits for the ledger xlsx and the stamped scan, in either order."""
    user = update.effective_user
    if user is None:
        return
    try:
        with db(context) as session:
            member = member_of(session, update)
            assert member is not None
            check_ledger_submitter(member)
            set_flow(
                session=session,
                chat_id=user.id,
                user_id=user.id,
                flow=LEDGER_FLOW,
                step="wait",
                data={"xlsx": None, "scan": None},
            )
    except OversightError as exc:
        await answer_private(update, exc.message)
        return
    await _send(context, user.id, t.LEDGER_START)


def _missing(data: dict[str, Any]) -> str:
    parts = [label for key, label in (("xlsx", t.LEDGER_XLSX), ("scan", t.LEDGER_SCAN)) if not data.get(key)]
    return t.LEDGER_MISSING.format(missing="、".join(parts))


def format_ledger_errors(exc: Exception) -> str:
    """Cell-by-cell lines of a LedgerImportError, capped at LEDGER_ERROR_LINES."""
    errors = list(getattr(exc, "errors", None) or [])
    lines = [str(e) for e in errors[:LEDGER_ERROR_LINES]]
    if not lines:
        return getattr(exc, "message", str(exc))
    text = t.LEDGER_ERRORS.format(n=len(errors), lines="\n".join(lines))
    if len(errors) > LEDGER_ERROR_LINES:
        text += "\n" + t.LEDGER_MORE.format(n=len(errors) - LEDGER_ERROR_LINES)
    return text


@on_flow_input(LEDGER_FLOW)
async def ledger_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file for the ledger submission: the xlsx is validated at once; when both are in, merge."""
    from oversight.ledger import LedgerImportError

    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if message.document is None and not message.photo:
        with db(context) as session:
            state = get_flow(session=session, chat_id=user.id, user_id=user.id)
            data = dict(state.data) if state else {}
        await _send(context, user.id, t.LEDGER_SEND_FILES + _missing(data))
        return
    blob, name, _ = await _download(message)
    mime = check_file(data=blob, filename=name)
    data_dir = get_settings().DATA_DIR
    try:
        with db(context) as session:
            member = member_of(session, update)
            assert member is not None
            check_ledger_submitter(member)
            state = get_flow(session=session, chat_id=user.id, user_id=user.id)
            if state is None or state.flow != LEDGER_FLOW:
                raise OversightError(t.NO_FILE_HERE)
            data = dict(state.data)
            if mime == XLSX:
                validate_ledger(session=session, actor=member, data=blob)
                got = t.LEDGER_GOT_XLSX
            else:
                got = t.LEDGER_GOT_SCAN
            row = store_attachment(session=session, data=blob, filename=name, mime_type=mime, data_dir=data_dir)
            data["xlsx" if mime == XLSX else "scan"] = row.id
            if data.get("xlsx") and data.get("scan"):
                report, result = submit_ledger(
                    session=session,
                    actor=member,
                    xlsx_attachment_id=data["xlsx"],
                    scan_attachment_id=data["scan"],
                    data_dir=data_dir,
                )
                clear_flow(session=session, chat_id=user.id, user_id=user.id)
                reply = got + "\n" + t.LEDGER_DONE.format(report_id=report.id, summary=_summary(result))
            else:
                set_flow(session=session, chat_id=user.id, user_id=user.id, flow=LEDGER_FLOW, step="wait", data=data)
                reply = got + _missing(data)
    except LedgerImportError as exc:
        await _send(context, user.id, format_ledger_errors(exc))
        return
    await _send(context, user.id, reply)


def _summary(result: Any) -> str:
    return t.LEDGER_SUMMARY.format(
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        moves=result.status_changes,
    )


EXTRA_COMMANDS.append(("report", report_command))
EXTRA_COMMANDS.append(("ledger", ledger_command))
