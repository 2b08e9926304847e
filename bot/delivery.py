"""Delivers the outbox: one loop, retries on 429 (honouring retry_after), 5xx and
network errors, long texts split at 4096 characters, per-chat order kept."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from models import OutboxMessage, OutboxState, session_scope, utcnow
from oversight.outbox import split_text

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(seconds=60)
PERMANENT_AFTER = 5  # attempts before a message Telegram keeps refusing (400/403) is dropped


def _markup(payload: dict) -> InlineKeyboardMarkup | None:
    rows = payload.get("buttons") or []
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["token"]) for b in row] for row in rows])


class OutboxDelivery:
    """The loop that sends queued messages until stopped."""

    def __init__(self, *, engine: Engine, bot: Bot, poll_seconds: float = 0.5, batch: int = 100,
                 clock=utcnow) -> None:  # type: ignore[no-untyped-def]
        self.engine, self.bot, self.poll_seconds, self.batch, self.clock = engine, bot, poll_seconds, batch, clock
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
            except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
                logger.exception("outbox delivery round failed")
                busy = 0
            if busy:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
        logger.info("outbox delivery stopped")

    def _due(self, session: Session, now: datetime) -> list[OutboxMessage]:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.state == OutboxState.PENDING)
                .order_by(col(OutboxMessage.id))
                .limit(self.batch)
            ).all()
        )

    async def deliver_due(self) -> int:
        """Send what is due; returns how many were sent this round."""
        now = self.clock()
        with session_scope(self.engine) as session:
            due = self._due(session, now)
        blocked: set[int] = set()
        sent = 0
        for msg in due:
            if self._stop.is_set():
                break
            if msg.chat_id in blocked:
                continue
            if msg.next_attempt_at > now:
                blocked.add(msg.chat_id)  # keep the order of messages to one chat
                continue
            ok = await self._send_one(msg)
            if ok:
                sent += 1
            else:
                blocked.add(msg.chat_id)
        self.sent += sent
        return sent

    async def _send_one(self, msg: OutboxMessage) -> bool:
        parts_sent = int(msg.payload.get("parts_sent", 0))
        try:
            if msg.kind == "document":
                path = Path(msg.payload["path"])
                with path.open("rb") as fh:
                    await self.bot.send_document(msg.chat_id, document=fh, filename=msg.payload.get("filename") or path.name,
                                                 caption=msg.text or None)
            else:
                parts = split_text(msg.text)
                markup = _markup(msg.payload)
                for i in range(parts_sent, len(parts)):
                    last = i == len(parts) - 1
                    await self.bot.send_message(msg.chat_id, parts[i], reply_markup=markup if last else None)
                    parts_sent = i + 1
        except RetryAfter as exc:
            wait = exc.retry_after if isinstance(exc.retry_after, timedelta) else timedelta(seconds=float(exc.retry_after))
            self._retry(msg, parts_sent, wait, f"429 retry_after {wait.total_seconds():.0f}s", count=False)
            return False
        except (TimedOut, NetworkError) as exc:
            if isinstance(exc, (BadRequest, Forbidden, InvalidToken)):
                return self._refused(msg, parts_sent, exc)
            backoff = min(MAX_BACKOFF, timedelta(seconds=0.5 * 2 ** min(msg.attempts, 7)))
            self._retry(msg, parts_sent, backoff, f"{type(exc).__name__}: {exc}")
            return False
        except (BadRequest, Forbidden) as exc:
            return self._refused(msg, parts_sent, exc)
        except FileNotFoundError as exc:
            self._finish(msg, OutboxState.DEAD, f"文件不存在: {exc.filename}")
            return False
        self._finish(msg, OutboxState.SENT, "")
        return True

    def _refused(self, msg: OutboxMessage, parts_sent: int, exc: Exception) -> bool:
        if msg.attempts + 1 >= PERMANENT_AFTER:
            logger.error("outbox %s to chat %s refused for good: %s", msg.id, msg.chat_id, exc)
            self._finish(msg, OutboxState.DEAD, f"{type(exc).__name__}: {exc}")
        else:
            self._retry(msg, parts_sent, timedelta(seconds=5 * (msg.attempts + 1)), f"{type(exc).__name__}: {exc}")
        return False

    def _retry(self, msg: OutboxMessage, parts_sent: int, wait: timedelta, error: str, count: bool = True) -> None:
        logger.warning("outbox %s to chat %s: %s; retry in %.1fs", msg.id, msg.chat_id, error, wait.total_seconds())
        with session_scope(self.engine) as session:
            row = session.get(OutboxMessage, msg.id)
            if row is None:
                return
            row.attempts += 1
            row.next_attempt_at = self.clock() + wait
            row.last_error = error[:500]
            row.payload = {**row.payload, "parts_sent": parts_sent}
            session.add(row)
        msg.attempts += 1

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
