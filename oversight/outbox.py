"""The outbox: messages to send, written in the transaction of the change that causes them.
One delivery loop in the bot process sends them (bot/delivery.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from models import Member, OutboxMessage, OutboxState, utcnow
from models.inbox import DUPLICATE_CAUSES

TELEGRAM_TEXT_LIMIT = 4096


def enqueue_text(
    *,
    session: Session,
    chat_id: int,
    text: str,
    buttons: list[list[dict[str, str]]] | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Queue a plain-text message (never parsed as markup). `buttons` rows hold
    {"text": label, "token": callback token}. Returns None if `dedupe_key` was queued before."""
    if dedupe_key and session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first():
        return None
    payload: dict[str, Any] = {}
    if buttons:
        payload["buttons"] = buttons
    msg = OutboxMessage(
        chat_id=chat_id,
        kind="text",
        text=text,
        payload=payload,
        dedupe_key=dedupe_key,
        next_attempt_at=now or utcnow(),
        created_at=now or utcnow(),
    )
    session.add(msg)
    return msg


def enqueue_document(
    *,
    session: Session,
    chat_id: int,
    path: str,
    filename: str,
    caption: str = "",
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Queue a file (a PDF or xlsx stored under DATA_DIR) with an optional caption."""
    if dedupe_key and session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first():
        return None
    msg = OutboxMessage(
        chat_id=chat_id,
        kind="document",
        text=caption[:1024],
        payload={"path": path, "filename": filename},
        dedupe_key=dedupe_key,
        next_attempt_at=now or utcnow(),
        created_at=now or utcnow(),
    )
    session.add(msg)
    return msg


def notify_members(
    *,
    session: Session,
    members: list[Member],
    text: str,
    dedupe_prefix: str | None = None,
    buttons: list[list[dict[str, str]]] | None = None,
) -> int:
    """Queue `text` to each member's private chat; returns how many were queued."""
    sent = 0
    seen: set[int] = set()
    for m in members:
        if m.telegram_user_id is None or m.telegram_user_id in seen or not m.active:
            continue
        seen.add(m.telegram_user_id)
        key = f"{dedupe_prefix}:{m.telegram_user_id}" if dedupe_prefix else None
        if enqueue_text(session=session, chat_id=m.telegram_user_id, text=text, buttons=buttons, dedupe_key=key):
            sent += 1
    return sent


def queued_under(*, session: Session, prefix: str, since: datetime | None = None) -> list[OutboxMessage]:
    """The messages queued with a dedupe key that begins with `prefix` (the key names what a message
    is of: briefdraft:7:r2:, review:3:2026H1:, urge:…), in the order they were queued: what a
    reply's fact counts and cites as sent. `since`: only those queued from then on."""
    query = select(OutboxMessage).where(col(OutboxMessage.dedupe_key).startswith(prefix, autoescape=True))
    if since is not None:
        query = query.where(col(OutboxMessage.created_at) >= since)
    return list(session.exec(query.order_by(col(OutboxMessage.id))).all())


def withdraw_pending(*, session: Session, prefixes: Sequence[str], reason: str) -> int:
    """Take back the messages not sent yet whose dedupe key begins with one of `prefixes` (a brief
    of a meeting called off): they are marked dead with the reason and never delivered."""
    if not prefixes:
        return 0
    rows = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.state == OutboxState.PENDING,
            or_(*(col(OutboxMessage.dedupe_key).startswith(p, autoescape=True) for p in prefixes)),
        )
    ).all()
    for row in rows:
        row.state = OutboxState.DEAD
        row.last_error = f"withdrawn: {reason}"[:500]
        session.add(row)
    session.flush()
    return len(rows)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (a character beyond U+FFFF, such as an emoji, is two)."""
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int) -> int:
    """How many leading characters of `text` fit in `limit` UTF-16 units."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split a long text into Telegram-sized parts (counted in UTF-16 units, as Telegram
    counts them), at line breaks where possible; the line break at a cut is dropped."""
    if utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        end = _fitting(rest, limit)
        cut = rest.rfind("\n", 0, end)
        if cut < end // 2:
            cut = end
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest:
        parts.append(rest)
    return parts


@dataclass(frozen=True)
class OutboxStats:
    """The outbox in numbers: messages per state, and the sent ones that may have reached
    their chat twice, per cause (models.inbox.DUPLICATE_CAUSES)."""

    sent: int
    pending: int
    failed: int
    possible_duplicates: dict[str, int]


def outbox_stats(*, session: Session) -> OutboxStats:
    """Count the outbox (one pass over its states and causes)."""
    counts: dict[str, int] = {}
    duplicates: dict[str, int] = dict.fromkeys(DUPLICATE_CAUSES, 0)
    rows = session.exec(select(col(OutboxMessage.state), col(OutboxMessage.payload))).all()
    for state, payload in rows:
        counts[state] = counts.get(state, 0) + 1
        cause = (payload or {}).get("duplicate_cause")
        if state == OutboxState.SENT and cause in duplicates:
            duplicates[cause] += 1
    return OutboxStats(
        sent=counts.get(OutboxState.SENT, 0),
        pending=counts.get(OutboxState.PENDING, 0),
        failed=counts.get(OutboxState.DEAD, 0),
        possible_duplicates=duplicates,
    )
