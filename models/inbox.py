"""The inbox: Telegram updates stored before Telegram is told they arrived, applied from here.

An update is stored (`store`, one transaction for a whole getUpdates batch) before the next
getUpdates confirms it, or before the webhook answers 200. It counts as applied once its
ProcessedUpdate row exists (written with the update's change, bot/common.py). The answers of
an applied update wait in `reply` until they are sent; at start, `requeue_replies` hands what
a crash left unsent to the outbox, and `unapplied` gives what was stored and never applied.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import col

from models.base import utcnow
from models.db import table_of
from models.tables import InboxUpdate, OutboxMessage, ProcessedUpdate

# Why an outbox message may reach its chat twice (its payload's "duplicate_cause"): sent again
# after a crash cut off the attempt between the send and its record, or after Telegram's answer
# was lost (a timeout, a dropped connection, a 5xx) when it may have taken the message.
RESENT_AFTER_CRASH = "crash"
LOST_RESPONSE = "lost_response"
DUPLICATE_CAUSES = {
    RESENT_AFTER_CRASH: "进程中断于发送与记录之间",
    LOST_RESPONSE: "Telegram 的应答丢失（超时、断线、5xx）",
}

KEEP_APPLIED = timedelta(days=7)


def store(engine: Engine, rows: Sequence[tuple[int, int | None, str]]) -> None:
    """Store (update_id, chat_id, JSON) rows in one transaction; an id stored before is kept as is."""
    if not rows:
        return
    # In update id order: two stores of overlapping batches (a replica beside another, a webhook
    # retry beside the first attempt) then wait for each other's rows in one order; in opposite
    # orders PostgreSQL would find them deadlocked.
    values = [
        {"update_id": u, "chat_id": c, "payload": p, "received_at": utcnow()}
        for u, c, p in sorted(rows, key=lambda r: r[0])
    ]
    table = table_of(InboxUpdate)
    stmt: Any
    if engine.dialect.name == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=["update_id"])
    elif engine.dialect.name == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=["update_id"])
    else:  # pragma: no cover - the product runs on SQLite and PostgreSQL only
        raise NotImplementedError(engine.dialect.name)
    with engine.begin() as conn:
        conn.execute(stmt, values)


def keep_replies(update_id: int, replies: list[dict[str, Any]]) -> Any:
    """The statement that keeps an applied update's answers until they are sent (run inside
    the transaction that applies it)."""
    return (
        update(InboxUpdate)
        .where(col(InboxUpdate.update_id) == update_id)
        .values(reply=json.dumps(replies, ensure_ascii=False))
    )


def forget_payload(engine: Engine, update_id: int, payload: str) -> None:
    """Replace an applied update's stored JSON (a /start's invite code is not kept at rest)."""
    with engine.begin() as conn:
        conn.execute(update(InboxUpdate).where(col(InboxUpdate.update_id) == update_id).values(payload=payload))


def clear_reply(engine: Engine, update_id: int) -> None:
    """The update's answers are sent."""
    with engine.begin() as conn:
        conn.execute(update(InboxUpdate).where(col(InboxUpdate.update_id) == update_id).values(reply=None))


def replies_to_outbox(
    engine: Engine,
    update_ids: Iterable[int] | None = None,
    *,
    skip: int = 0,
    cause: str | None,
    first_cause: str | None = None,
) -> int:
    """Hand the unsent answers of the given applied updates (all of them if None; the first
    `skip` of each were sent) to the outbox, in one transaction; `cause` marks them as
    possibly sent already (`first_cause` only the first of each: its send got no response).
    Returns how many messages were queued."""
    queued = 0
    with engine.begin() as conn:
        query = select(col(InboxUpdate.update_id), col(InboxUpdate.reply)).where(col(InboxUpdate.reply).is_not(None))
        if update_ids is not None:
            query = query.where(col(InboxUpdate.update_id).in_(list(update_ids)))
        rows = conn.execute(query.order_by(col(InboxUpdate.update_id))).all()
        for update_id, reply in rows:
            for k, msg in enumerate(json.loads(reply or "[]")[skip:]):
                payload: dict[str, Any] = {"buttons": msg.get("buttons") or [], "update_id": update_id}
                marked = cause if cause is not None else (first_cause if k == 0 else None)
                if marked is not None:
                    payload["duplicate_cause"], payload["repeats"] = marked, 1
                conn.execute(
                    insert(OutboxMessage).values(
                        chat_id=int(msg["chat_id"]),
                        kind="text",
                        text=str(msg["text"]),
                        payload=payload,
                        next_attempt_at=utcnow(),
                        created_at=utcnow(),
                    )
                )
                queued += 1
        if rows:
            conn.execute(
                update(InboxUpdate).where(col(InboxUpdate.update_id).in_([r[0] for r in rows])).values(reply=None)
            )
    return queued


def unapplied(engine: Engine, older_than: timedelta | None = None) -> list[str]:
    """The JSON of every stored update not applied yet (stored more than `older_than` ago), oldest first."""
    applied = select(col(ProcessedUpdate.update_id)).where(col(ProcessedUpdate.update_id) == col(InboxUpdate.update_id))
    query = select(col(InboxUpdate.payload)).where(~applied.exists())
    if older_than is not None:
        query = query.where(col(InboxUpdate.received_at) < utcnow() - older_than)
    with engine.connect() as conn:
        return list(conn.execute(query.order_by(col(InboxUpdate.update_id))).scalars())


def prune(engine: Engine, keep: timedelta = KEEP_APPLIED) -> int:
    """Forget updates applied and answered more than `keep` ago; returns how many."""
    applied = select(col(ProcessedUpdate.update_id)).where(col(ProcessedUpdate.update_id) == col(InboxUpdate.update_id))
    with engine.begin() as conn:
        result = conn.execute(
            delete(InboxUpdate).where(
                col(InboxUpdate.received_at) < utcnow() - keep,
                col(InboxUpdate.reply).is_(None),
                applied.exists(),
            )
        )
    return int(result.rowcount or 0)
