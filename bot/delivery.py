"""Delivers the outbox: one loop, retries on 429 (honouring retry_after), 5xx and
network errors, long texts split at 4096 characters, per-chat order kept."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from models import OutboxMessage, OutboxState, read_only, session_scope, utcnow
from oversight.outbox import split_text

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(seconds=60)
BACKOFF_BASE = timedelta(seconds=0.5)
PERMANENT_AFTER = 5  # attempts before a message Telegram keeps refusing (400/403) is dropped
TRIP_AFTER = 3  # transient failures in a row in one round: Telegram is down, hold everything


class Outcome(Enum):
    SENT = "sent"
    HELD = "held"  # 429: nothing may be sent until retry_after has passed
    TRANSIENT = "transient"  # 5xx, network, timeout: this message backs off
    REFUSED = "refused"  # Telegram answered no (400/403), or the message cannot be sent


def _markup(payload: dict) -> InlineKeyboardMarkup | None:
    rows = payload.get("buttons") or []
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["text"], callback_data=b["token"]) for b in row] for row in rows]
    )


def _retry_after(exc: RetryAfter) -> timedelta:
    with warnings.catch_warnings():  # PTB 22 warns that the int form is deprecated
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


class OutboxDelivery:
    """The loop that sends queued messages until stopped."""

    def __init__(
        self,
        *,
        engine: Engine,
        bot: Bot,
        poll_seconds: float = 0.5,
        batch: int = 100,
        clock=utcnow,
        backoff_base: timedelta = BACKOFF_BASE,  # type: ignore[no-untyped-def]
        max_backoff: timedelta = MAX_BACKOFF,
        trip_after: int = TRIP_AFTER,
    ) -> None:
        self.engine, self.bot, self.poll_seconds, self.batch, self.clock = engine, bot, poll_seconds, batch, clock
        self.backoff_base, self.max_backoff, self.trip_after = backoff_base, max_backoff, trip_after
        # Nothing is sent before this: a 429's retry_after, or a pause while Telegram is unreachable.
        self.hold_until: datetime | None = None
        self._outages = 0
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self.sent = 0

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        logger.info("outbox delivery started")
        while not self._stop.is_set():
            try:
                busy = await self.deliver_due()
            except Exception:
                logger.exception("outbox delivery round failed")
                busy = 0
            if busy:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
        logger.info("outbox delivery stopped")

    def backoff(self, failures: int) -> timedelta:
        """Wait after `failures` transient failures in a row: doubling, capped."""
        return min(self.max_backoff, self.backoff_base * 2 ** min(max(failures - 1, 0), 20))

    def _due(self, session: Session, now: datetime) -> list[OutboxMessage]:
        # A due message waits while an earlier one to its chat is not due yet (order per chat),
        # and such a chat does not hold up the others: they are filtered in SQL, before LIMIT.
        earlier = aliased(OutboxMessage)
        waiting = (
            select(earlier.id)
            .where(
                earlier.state == OutboxState.PENDING,
                earlier.chat_id == OutboxMessage.chat_id,
                earlier.id < OutboxMessage.id,
                earlier.next_attempt_at > now,
            )
            .exists()
        )
        return list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.state == OutboxState.PENDING, col(OutboxMessage.next_attempt_at) <= now, ~waiting)
                .order_by(col(OutboxMessage.id))
                .limit(self.batch)
            ).all()
        )

    async def deliver_due(self) -> int:
        """Send what is due; returns how many were sent this round."""
        now = self.clock()
        if self.hold_until is not None and now < self.hold_until:
            return 0
        with session_scope(read_only(self.engine)) as session:
            due = self._due(session, now)
        blocked: set[int] = set()
        sent = transient_in_row = 0
        for msg in due:
            if self._stop.is_set():
                break
            if msg.chat_id in blocked:
                continue
            outcome = await self._send_one(msg)
            if outcome is Outcome.SENT:
                sent += 1
                transient_in_row = self._outages = 0
                continue
            blocked.add(msg.chat_id)  # keep the order of messages to one chat
            if outcome is Outcome.HELD:
                break
            if outcome is Outcome.TRANSIENT:
                transient_in_row += 1
                if transient_in_row >= self.trip_after:
                    # Telegram looks unreachable: probe again later instead of failing every message now.
                    self._outages += 1
                    self.hold_until = self.clock() + self.backoff(self._outages)
                    logger.warning(
                        "outbox: %s failures in a row, holding delivery until %s",
                        transient_in_row,
                        self.hold_until.isoformat(),
                    )
                    break
            else:
                transient_in_row = 0
        self.sent += sent
        return sent

    async def _send_one(self, msg: OutboxMessage) -> Outcome:
        parts_sent = int(msg.payload.get("parts_sent", 0))
        try:
            if msg.kind == "document":
                path = Path(msg.payload["path"])
                with path.open("rb") as fh:  # noqa: ASYNC230 - opening a local file; the client streams it
                    await self.bot.send_document(
                        msg.chat_id,
                        document=fh,
                        filename=msg.payload.get("filename") or path.name,
                        caption=msg.text or None,
                    )
            else:
                parts = split_text(msg.text)
                markup = _markup(msg.payload)
                for i in range(parts_sent, len(parts)):
                    last = i == len(parts) - 1
                    await self.bot.send_message(msg.chat_id, parts[i], reply_markup=markup if last else None)
                    parts_sent = i + 1
                    if not last:
                        self._save_parts(msg, parts_sent)  # a crash now must not resend this part
        except RetryAfter as exc:
            wait = _retry_after(exc)
            self.hold_until = self._retry(
                msg, parts_sent, wait, f"429 retry_after {wait.total_seconds():.0f}s", count=False
            )
            return Outcome.HELD
        except ChatMigrated as exc:
            self._migrate(msg, int(exc.new_chat_id))
            return Outcome.REFUSED
        except (BadRequest, Forbidden) as exc:  # BadRequest before TelegramError: it is a NetworkError subclass
            self._refused(msg, parts_sent, exc)
            return Outcome.REFUSED
        except TelegramError as exc:  # 5xx, dropped connection, timeout, and a bad token: all transient
            self._retry(msg, parts_sent, self.backoff(msg.attempts + 1), f"{type(exc).__name__}: {exc}")
            return Outcome.TRANSIENT
        except OSError as exc:  # the document's file: retrying will not bring it back
            reason = "文件不存在" if isinstance(exc, FileNotFoundError) else "文件无法读取"
            logger.error("outbox %s to chat %s: %s: %s", msg.id, msg.chat_id, reason, exc)
            self._finish(msg, OutboxState.DEAD, f"{reason}: {exc.filename}")
            return Outcome.REFUSED
        self._finish(msg, OutboxState.SENT, "")
        return Outcome.SENT

    def _refused(self, msg: OutboxMessage, parts_sent: int, exc: Exception) -> None:
        if msg.attempts + 1 >= PERMANENT_AFTER:
            logger.error("outbox %s to chat %s refused for good: %s", msg.id, msg.chat_id, exc)
            self._finish(msg, OutboxState.DEAD, f"{type(exc).__name__}: {exc}")
        else:
            self._retry(msg, parts_sent, timedelta(seconds=5 * (msg.attempts + 1)), f"{type(exc).__name__}: {exc}")

    def _migrate(self, msg: OutboxMessage, new_chat_id: int) -> None:
        """The group became a supergroup: send what is queued for it to the new id."""
        logger.warning("outbox %s: chat %s migrated to %s", msg.id, msg.chat_id, new_chat_id)
        with session_scope(self.engine) as session:
            session.exec(
                update(OutboxMessage)  # type: ignore[call-overload]
                .where(col(OutboxMessage.chat_id) == msg.chat_id, col(OutboxMessage.state) == OutboxState.PENDING)
                .values(chat_id=new_chat_id)
            )

    def _save_parts(self, msg: OutboxMessage, parts_sent: int) -> None:
        with session_scope(self.engine) as session:
            row = session.get(OutboxMessage, msg.id)
            if row is not None:
                row.payload = {**row.payload, "parts_sent": parts_sent}
                session.add(row)
        msg.payload = {**msg.payload, "parts_sent": parts_sent}

    def _retry(self, msg: OutboxMessage, parts_sent: int, wait: timedelta, error: str, count: bool = True) -> datetime:
        """Put the message back with `wait` before its next attempt; returns when that is."""
        logger.warning("outbox %s to chat %s: %s; retry in %.1fs", msg.id, msg.chat_id, error, wait.total_seconds())
        at = self.clock() + wait
        with session_scope(self.engine) as session:
            row = session.get(OutboxMessage, msg.id)
            if row is None:
                return at
            if count:
                row.attempts += 1
            row.next_attempt_at = at
            row.last_error = error[:500]
            row.payload = {**row.payload, "parts_sent": parts_sent}
            session.add(row)
        if count:
            msg.attempts += 1
        return at

    def _finish(self, msg: OutboxMessage, state: str, error: str) -> None:
        with session_scope(self.engine) as session:
            row = session.get(OutboxMessage, msg.id)
            if row is None:
                return
            row.state = state
            row.attempts += 1
            row.last_error = error[:500]
            if state == OutboxState.SENT:
                row.sent_at = self.clock()
            session.add(row)
