"""The engine's infrastructure (bot/engine.py uses these; handlers do not): the transaction of
an update, the member behind it, sending plain text, the one file downloader."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Document, InlineKeyboardMarkup, Message, PhotoSize, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import texts
from models import Member, OutboxMessage, Plan, ProcessedUpdate, inbox, read_only, utcnow
from oversight.attachments import MAX_BYTES
from oversight.errors import InvalidInputError
from oversight.members import ROLE_LABELS, current_plan, member_for_user
from oversight.outbox import split_text
from oversight.workdays import refresh as refresh_calendar

logger = logging.getLogger(__name__)


def engine_of(context: ContextTypes.DEFAULT_TYPE) -> Engine:
    """The database engine the application was built with."""
    return context.application.bot_data["engine"]


@dataclass
class UpdateState:
    """What one update's handlers share: its id, whether it is recorded as processed, the member."""

    update_id: int
    recorded: bool = False
    members: dict[int, Member] = field(default_factory=dict)
    # The answers the handler will send ({"chat_id", "text", "buttons"}), kept in the inbox
    # with the change (replies_kept) until sent: a crash in between sends them after the restart.
    replies: list[dict[str, Any]] = field(default_factory=list)
    replies_kept: bool = False
    replies_sent: int = 0
    reply_unsure: bool = False  # the send of replies[replies_sent] got no response: it may have arrived
    retry: bool = False  # the database was busy: applied again later, not recorded as processed


# Set by the dedupe guard for the update being handled (PTB runs its handlers in one task).
CURRENT_UPDATE: ContextVar[UpdateState | None] = ContextVar("lianxi_current_update", default=None)


@event.listens_for(Session, "after_flush")
def _note_write(session: Session, _flush_context: Any) -> None:
    session.info["wrote"] = True
    if any(isinstance(row, OutboxMessage) for row in session.new):
        session.info["outbox"] = True  # db() wakes the delivery loop once this commits


_RECORD_UPDATE = insert(ProcessedUpdate)


@contextmanager
def db(context: ContextTypes.DEFAULT_TYPE, *, read: bool = False) -> Iterator[Session]:
    """A session committed when the block ends without error. The first transaction of an
    update that writes anything also records the update as processed, so the change and
    the record commit together: a redelivered update cannot apply its change twice. If it
    queued messages in the outbox, the delivery loop is woken once they are committed."""
    state = CURRENT_UPDATE.get()
    session = Session(read_only(engine_of(context)) if read else engine_of(context), expire_on_commit=False)
    with session:
        try:
            refresh_calendar(session=session)  # years stored by another process (at most one query in 30 s)
            yield session
            wrote = bool(session.new or session.dirty or session.deleted or session.info.get("wrote"))
            record = state if state is not None and not state.recorded and wrote else None
            if record is not None:
                # Core, not session.add: no unit-of-work bookkeeping for a row nobody reads back.
                session.connection().execute(_RECORD_UPDATE, {"update_id": record.update_id, "at": utcnow()})
                if record.replies:
                    session.connection().execute(inbox.keep_replies(record.update_id, record.replies))
            session.commit()
            if record is not None:
                record.recorded = True
                record.replies_kept = bool(record.replies)
        except BaseException:
            session.rollback()
            raise
    if session.info.pop("outbox", False):
        wake_delivery(context)


def member_of(session: Session, update: Update) -> Member | None:
    """The active member behind an update, or None for an unregistered user (looked up
    once per update: the handlers of one update share it)."""
    user = update.effective_user
    if user is None:
        return None
    state = CURRENT_UPDATE.get()
    if state is not None and user.id in state.members:
        return state.members[user.id]
    member = member_for_user(session=session, telegram_user_id=user.id)
    if state is not None and member is not None:
        state.members[user.id] = member
    return member


def wake_delivery(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Have the outbox loop look now at what this update queued, not at its next poll."""
    delivery = context.application.bot_data.get("delivery")
    if delivery is not None:
        delivery.wake()


def plan_of(session: Session, member: Member | None) -> Plan | None:
    """The member's plan, or the plan loaded last for an unregistered user."""
    if member is not None:
        return session.get(Plan, member.plan_id)
    return current_plan(session=session)


def role_label(role: str | None) -> str:
    return ROLE_LABELS.get(role or "", texts.UNREGISTERED_ROLE)


async def send_text(bot: Any, chat_id: int, text: str, **kwargs: Any) -> None:
    """Send plain text (never parsed as markup); a text over Telegram's limit goes in parts,
    the buttons (reply_markup and the like) with the last."""
    parts = split_text(text)
    for part in parts[:-1]:
        await bot.send_message(chat_id, part)
    await bot.send_message(chat_id, parts[-1], **kwargs)


async def reply(update: Update, text: str, **kwargs: Any) -> None:
    """Answer in the chat of the update, as plain text (never parsed as markup)."""
    if update.effective_chat is None:
        return
    await send_text(update.get_bot(), update.effective_chat.id, text, **kwargs)


def in_private(update: Update) -> bool:
    """Whether the update comes from a private chat (or from no chat at all)."""
    return update.effective_chat is None or update.effective_chat.type == ChatType.PRIVATE


def private_target(update: Update) -> int | None:
    """Where a private answer to the update goes: the user's own chat."""
    user, chat = update.effective_user, update.effective_chat
    return user.id if (not in_private(update) and user is not None) else (chat.id if chat else None)


def buttons_of(markup: InlineKeyboardMarkup | None) -> list[list[dict[str, str]]]:
    """Inline buttons as the outbox keeps them: rows of {"text", "token"}."""
    if markup is None:
        return []
    return [[{"text": b.text, "token": str(b.callback_data)} for b in row] for row in markup.inline_keyboard]


async def answer_private(update: Update, text: str, **kwargs: Any) -> None:
    """Reply to the user privately (in a group, unit business never goes to the group)."""
    target = private_target(update)
    if target is not None:
        await send_text(update.get_bot(), target, text, **kwargs)


async def download_file(message: Message) -> tuple[bytes, str, str]:
    """The bytes, name and claimed type of a document or photo; a file over the bot
    download limit is refused before it is fetched."""
    source: Document | PhotoSize
    if message.document is not None:
        doc = message.document
        name, mime, size, source = doc.file_name or "file", doc.mime_type or "", doc.file_size or 0, doc
    else:
        photo = message.photo[-1]
        name, mime, size, source = "photo.jpg", "image/jpeg", photo.file_size or 0, photo
    if size > MAX_BYTES:
        raise InvalidInputError(texts.FILE_TOO_BIG.format(name=name, size=size / 1024 / 1024))
    data = bytes(await (await source.get_file()).download_as_bytearray())
    return data, name, mime
