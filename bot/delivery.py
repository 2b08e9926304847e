"""Delivers the outbox: chats side by side, each chat's messages in order; a 429 holds
its own chat for retry_after (the others go on), 5xx and network errors back off, Telegram
unreachable holds everything; long texts split at 4096 characters. The pacing to Telegram's
limits is the bot's request layer (bot/pacing.py)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import time
import weakref
from collections.abc import Collection
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Select, Update, bindparam, event, exists, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import col
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.pacing import BROADCAST, BROADCAST_PART, PRIVATE_GAP, Pacer, retry_seconds
from models import OutboxMessage, OutboxState, read_only, session_scope, utcnow
from models.db import detached, table_of
from models.inbox import LOST_RESPONSE, RESENT_AFTER_CRASH
from oversight.outbox import split_text

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(seconds=60)
BACKOFF_BASE = timedelta(seconds=0.5)
PERMANENT_AFTER = 5  # attempts before a message Telegram keeps refusing (400/403) is dropped
TRIP_AFTER = 3  # transient failures in a row: Telegram is down, hold everything
CHATS_AT_ONCE = 64  # chats sent to side by side (the Pacer releases ~30 messages a second in all)


class Outcome(Enum):
    SENT = "sent"
    HELD = "held"  # 429: nothing may be sent to this chat until retry_after has passed
    TRANSIENT = "transient"  # 5xx, network, timeout: this message backs off
    REFUSED = "refused"  # Telegram answered no (400/403), or the message cannot be sent
    GONE = "gone"  # no longer pending when its attempt began (sent or given up meanwhile): skipped


def _markup(payload: dict) -> InlineKeyboardMarkup | None:
    rows = payload.get("buttons") or []
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["text"], callback_data=b["token"]) for b in row] for row in rows]
    )


class ChatClaims:
    """PostgreSQL advisory locks held on one connection of this process. The delivery lease
    (a two-int4 key): of several bot replicas one delivers the outbox, so the Pacer of that one
    paces every broadcast; when it stops or dies (its connection, and with it its locks, gone)
    another takes the lease at its next poll. A claim per chat (a bigint key) while sending to
    it: during a take-over the old holder's last sends and the new one's never overlap in a
    chat (its order kept, nothing sent twice). A replica taking over the lease (it had found
    it held) sends nothing for TAKEOVER_QUIET: the old holder's last messages (a chat's, and
    the last second's in all) are counted by Telegram first, whether it stopped (its claims
    released at once, not after their chats' gaps) or was killed."""

    TAKEOVER_QUIET = PRIVATE_GAP + 0.25  # seconds

    NAMESPACE = 0x4C58  # "LX": the lease's first key, and the high bits of a chat's key
    LEASE = 1

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._leased = False
        self._leased_at = 0.0  # time.monotonic() when the lease was taken over
        self._seen_held = False  # the lease was found held by another replica

    _by_engine: ClassVar[weakref.WeakKeyDictionary[Engine, ChatClaims]] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, engine: Engine) -> ChatClaims:
        """The one per engine: a delivery made again in the process (a restart, a test) holds
        the lease on the same connection instead of waiting for an earlier one's. Disposing
        of the engine releases it."""
        claims = cls._by_engine.get(engine)
        if claims is None:
            claims = cls._by_engine[engine] = cls(engine)
            event.listen(engine, "engine_disposed", lambda _engine: claims.close())
        return claims

    def hold_lease(self) -> bool:
        """True while this process holds the delivery lease (taking it if free)."""
        if self._leased and self._conn is not None and not self._conn.closed and not self._conn.invalidated:
            return True
        self._leased = False
        try:
            got = self._connection().execute(
                text("SELECT pg_try_advisory_lock(:ns, :lease)"), {"ns": self.NAMESPACE, "lease": self.LEASE}
            )
        except DBAPIError:
            self.close()
            raise
        self._leased = bool(got.scalar())
        if self._leased:
            if self._seen_held:
                self._leased_at = time.monotonic()
            self._seen_held = False
            logger.info("outbox: this replica delivers the outbox (lease taken)")
        else:
            self._seen_held = True
        return self._leased

    def settling(self) -> float:
        """Seconds left of the quiet after taking the lease over (0: send)."""
        return max(0.0, self._leased_at + self.TAKEOVER_QUIET - time.monotonic()) if self._leased else 0.0

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    @staticmethod
    def _key(chat_id: int) -> int:
        return (ChatClaims.NAMESPACE << 48) ^ (chat_id & ((1 << 63) - 1))

    def claim(self, chat_id: int) -> bool:
        try:
            got = self._connection().execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key(chat_id)})
            return bool(got.scalar())
        except DBAPIError:
            self.close()  # its locks went with it; the next claim reconnects
            raise

    def release(self, chat_id: int, after: float = 0.0) -> None:
        """Release the claim, `after` seconds from now: the chat's gap since the last message
        this replica sent there (bot/pacing.py's Pacer.chat_free_in), so that the next replica
        to claim it cannot send sooner than one replica would."""
        if after > 0:
            with contextlib.suppress(RuntimeError):  # no loop running (shutting down): at once
                asyncio.get_running_loop().call_later(after, self._unlock, self._key(chat_id))
                return
        self._unlock(self._key(chat_id))

    def _unlock(self, key: int) -> None:
        if self._conn is None or self._conn.closed:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        except DBAPIError:
            self.close()

    # Replicas alive (bot/replicas.py): each holds one slot of this namespace's second keys.
    REPLICAS = 0x4C5A
    SLOTS = 64

    def join(self) -> int | None:
        """Take a free replica slot (None: all taken)."""
        conn = self._connection()
        try:
            for slot in range(self.SLOTS):
                got = conn.execute(text("SELECT pg_try_advisory_lock(:ns, :slot)"), {"ns": self.REPLICAS, "slot": slot})
                if got.scalar():
                    return slot
        except DBAPIError:
            self.close()
            raise
        return None

    def replicas(self) -> tuple[int, bool]:
        """How many replicas hold a slot, and whether this one does (its connection may be new)."""
        try:
            row = (
                self._connection()
                .execute(
                    text(
                        # Advisory locks are the database's own, but pg_locks lists the whole
                        # server's: replicas of another database on the server are not ours.
                        "SELECT count(*), coalesce(bool_or(pid = pg_backend_pid()), false) FROM pg_locks "
                        "WHERE locktype = 'advisory' AND classid = :ns AND objsubid = 2 AND granted "
                        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    ),
                    {"ns": self.REPLICAS},
                )
                .one()
            )
        except DBAPIError:
            self.close()
            raise
        return int(row[0]), bool(row[1])

    def close(self) -> None:
        """Give up the lease and the claims. The connection goes back to the pool, where
        session-level locks would stay: they are released first (or the connection dropped)."""
        self._leased = False
        if self._conn is not None:
            try:
                if not self._conn.closed and not self._conn.invalidated:
                    self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
                self._conn.close()
            except DBAPIError:
                with contextlib.suppress(DBAPIError):
                    self._conn.invalidate()
            self._conn = None


class _Statements:
    """The delivery's queries and writes, built once (Core, bound parameters): built for every
    round and every message they cost more of the bot's time than running them, the ORM's
    loads and flushes besides (bench/burst.py's busy case: 500 reminders beside 500 replies)."""

    def __init__(self, batch: int) -> None:
        t = table_of(OutboxMessage)
        earlier = t.alias("earlier")
        now = bindparam("now", type_=t.c.next_attempt_at.type)
        pending = t.c.state == OutboxState.PENDING
        # A due message waits while an earlier one to its chat is not due yet (order per chat),
        # and such a chat does not hold up the others: they are filtered in SQL, before LIMIT.
        waiting = exists().where(
            earlier.c.state == OutboxState.PENDING,
            earlier.c.chat_id == t.c.chat_id,
            earlier.c.id < t.c.id,
            earlier.c.next_attempt_at > now,
        )
        due = select(t.c.id, t.c.chat_id).where(pending, t.c.next_attempt_at <= now, ~waiting)
        self.due: Select[Any] = (
            due.where(t.c.chat_id.not_in(bindparam("exclude", expanding=True))).order_by(t.c.id).limit(batch)
        )
        self.due_in_chat: Select[Any] = due.where(t.c.chat_id == bindparam("chat")).order_by(t.c.id).limit(batch)
        self.rows: Select[Any] = select(t).where(t.c.id.in_(bindparam("ids", expanding=True))).order_by(t.c.id)
        mine = t.c.id == bindparam("mid")
        # Written only while the row is still pending: one sent or given up meanwhile (by another
        # replica) is not touched, nor sent again.
        self.begin: Update = update(t).where(mine, pending).values(payload=bindparam("payload"))
        self.parts: Update = update(t).where(mine).values(payload=bindparam("payload"))
        self.retry: Update = (
            update(t)
            .where(mine)
            .values(
                attempts=t.c.attempts + bindparam("counted"),
                next_attempt_at=bindparam("at", type_=t.c.next_attempt_at.type),
                last_error=bindparam("error"),
                payload=bindparam("payload"),
            )
        )
        self.finish: Update = (
            update(t)
            .where(mine)
            .values(
                state=bindparam("state"),
                attempts=t.c.attempts + 1,
                last_error=bindparam("error"),
                payload=bindparam("payload"),
                sent_at=bindparam("sent_at", type_=t.c.sent_at.type),
            )
        )


class OutboxDelivery:
    """The loop that sends queued messages until stopped: each chat's messages in order by a
    task of its own, the chats side by side (the bot's Pacer spaces them to Telegram's limits)."""

    def __init__(
        self,
        *,
        engine: Engine,
        bot: Bot,
        poll_seconds: float = 0.5,
        batch: int = 100,
        clock=utcnow,
        backoff_base: timedelta = BACKOFF_BASE,
        max_backoff: timedelta = MAX_BACKOFF,
        trip_after: int = TRIP_AFTER,
        chats_at_once: int = CHATS_AT_ONCE,
    ) -> None:
        self.engine, self.bot, self.poll_seconds, self.batch, self.clock = engine, bot, poll_seconds, batch, clock
        self.backoff_base, self.max_backoff, self.trip_after = backoff_base, max_backoff, trip_after
        self.chats_at_once = chats_at_once
        # Nothing is sent before this: a pause while Telegram is unreachable. (A 429 holds
        # only its own chat: the message's next_attempt_at.)
        self.hold_until: datetime | None = None
        self._outages = 0
        self._transient_in_row = 0
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._busy: dict[int, asyncio.Task[int]] = {}  # chat -> the task sending to it now
        # Through the bot's Pacer the outbox gives way to replies. Without it no such argument:
        # a bot without a rate limiter refuses it (ValueError), another limiter reads it its way.
        paced = isinstance(bot, ExtBot) and isinstance(bot.rate_limiter, Pacer)
        self._send_args: dict[str, Any] = {"rate_limit_args": BROADCAST} if paced else {}
        self.sent = 0
        self._claims = ChatClaims.of(engine) if engine.dialect.name == "postgresql" else None
        self._sql = _Statements(batch)

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        logger.info("outbox delivery started")
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._dispatch()
            except Exception:
                logger.exception("outbox delivery round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
        await asyncio.gather(*self._busy.values(), return_exceptions=True)
        if self._claims is not None:
            self._claims.close()
        logger.info("outbox delivery stopped")

    async def deliver_due(self) -> int:
        """One round: send what is due now and wait for it; returns how many were sent."""
        tasks = self._dispatch()
        return sum(await asyncio.gather(*tasks))

    def backoff(self, failures: int) -> timedelta:
        """Wait after `failures` transient failures in a row: doubling, capped."""
        return min(self.max_backoff, self.backoff_base * 2 ** min(max(failures - 1, 0), 20))

    def _due(
        self,
        now: datetime,
        exclude: Collection[int] = (),
        chat_id: int | None = None,
        chats: int | None = None,
    ) -> list[OutboxMessage]:
        """The messages due now (of `chat_id`, or of the first `chats` chats not in `exclude`:
        chats being sent to now, whose task has their messages), as detached rows in id order.
        Ids and chats first, then only the picked rows: a chat's task ending starts one more,
        and loading a whole batch each time for it cost more than the sends."""
        with read_only(self.engine).connect() as conn:
            if chat_id is not None:
                pairs = conn.execute(self._sql.due_in_chat, {"now": now, "chat": chat_id}).all()
            else:
                pairs = conn.execute(self._sql.due, {"now": now, "exclude": list(exclude)}).all()
            picked: dict[int, list[int]] = {}
            for mid, cid in pairs:
                if cid in picked or chats is None or len(picked) < chats:
                    picked.setdefault(cid, []).append(mid)
            ids = [mid for mids in picked.values() for mid in mids]
            if not ids:
                return []
            rows = conn.execute(self._sql.rows, {"ids": ids}).mappings().all()
        return [detached(OutboxMessage, row) for row in rows]

    def _dispatch(self) -> list[asyncio.Task[int]]:
        """Start a task for each chat with messages due that none is sending to yet."""
        now = self.clock()
        # After an outage one chat probes at a time, until a message goes through.
        room = (1 if self._outages else self.chats_at_once) - len(self._busy)
        if (self.hold_until is not None and now < self.hold_until) or room <= 0 or self._stop.is_set():
            return []
        if self._claims is not None:
            if not self._claims.hold_lease():
                return []  # another replica delivers; this one takes over if it goes
            if (quiet := self._claims.settling()) > 0:
                asyncio.get_running_loop().call_later(quiet, self._wake.set)
                return []  # just taken over: the previous holder's last sends are counted first
        due = self._due(now, exclude=self._busy.keys(), chats=room)
        by_chat: dict[int, list[OutboxMessage]] = {}
        for msg in due:
            by_chat.setdefault(msg.chat_id, []).append(msg)
        tasks = []
        loop = asyncio.get_running_loop()
        for chat_id, messages in itertools.islice(by_chat.items(), room):
            task = loop.create_task(self._send_chat(messages))
            self._busy[chat_id] = task
            task.add_done_callback(functools.partial(self._chat_done, chat_id))
            tasks.append(task)
        return tasks

    def _chat_done(self, chat_id: int, task: asyncio.Task[int]) -> None:
        self._busy.pop(chat_id, None)
        if not task.cancelled() and task.exception() is not None:
            logger.error("outbox: sending to chat %s failed", chat_id, exc_info=task.exception())
        self._wake.set()  # the chat may have more, and there is room for another chat

    async def _send_chat(self, messages: list[OutboxMessage]) -> int:
        """Send one chat's due messages in order, stopping at the first that does not go.
        On PostgreSQL the chat is claimed first, so that of several bot replicas one sends
        to it at a time; what is due is read again once claimed (another may just have sent it)."""
        chat_id = messages[0].chat_id
        if self._claims is not None:
            if not self._claims.claim(chat_id):
                return 0  # another replica is sending to this chat
            try:
                messages = self._due(self.clock(), chat_id=chat_id)
                return await self._send_in_order(messages)
            finally:
                self._claims.release(chat_id, after=self._chat_free_in(chat_id))
        return await self._send_in_order(messages)

    def _chat_free_in(self, chat_id: int) -> float:
        limiter = self.bot.rate_limiter if isinstance(self.bot, ExtBot) else None
        return limiter.chat_free_in(chat_id) if isinstance(limiter, Pacer) else 0.0

    async def _send_in_order(self, messages: list[OutboxMessage]) -> int:
        sent = 0
        for msg in messages:
            if self._stop.is_set() or (self.hold_until is not None and self.clock() < self.hold_until):
                break
            outcome = await self._send_one(msg)
            if outcome is Outcome.GONE:
                continue
            if outcome is Outcome.SENT:
                sent += 1
                self.sent += 1
                self._transient_in_row = self._outages = 0
                continue
            if outcome is Outcome.TRANSIENT:
                self._transient_in_row += 1
                if self._transient_in_row >= self.trip_after and (
                    self.hold_until is None or self.clock() >= self.hold_until
                ):
                    # Telegram looks unreachable: probe again later instead of failing every message now.
                    self._outages += 1
                    self.hold_until = self.clock() + self.backoff(self._outages)
                    logger.warning(
                        "outbox: %s failures in a row, holding delivery until %s",
                        self._transient_in_row,
                        self.hold_until.isoformat(),
                    )
            elif outcome is Outcome.REFUSED:
                self._transient_in_row = 0
            break  # keep the order of messages to one chat
        return sent

    async def _send_one(self, msg: OutboxMessage) -> Outcome:
        parts_sent = int(msg.payload.get("parts_sent", 0))
        if not self._begin_attempt(msg):
            return Outcome.GONE
        try:
            if msg.kind == "document":
                path = Path(msg.payload["path"])
                with path.open("rb") as fh:  # noqa: ASYNC230 - opening a local file; the client streams it
                    await self.bot.send_document(
                        msg.chat_id,
                        document=fh,
                        filename=msg.payload.get("filename") or path.name,
                        caption=msg.text or None,
                        **self._send_args,
                    )
            else:
                parts = split_text(msg.text)
                markup = _markup(msg.payload)
                for i in range(parts_sent, len(parts)):
                    last = i == len(parts) - 1
                    # A reply to the chat may go ahead of the message, not into it between parts.
                    args = self._send_args if i == 0 or not self._send_args else {"rate_limit_args": BROADCAST_PART}
                    await self.bot.send_message(msg.chat_id, parts[i], reply_markup=markup if last else None, **args)
                    parts_sent = i + 1
                    if not last:
                        self._save_parts(msg, parts_sent)  # a crash now must not resend this part
        except RetryAfter as exc:  # this chat waits; the others go on
            wait = timedelta(seconds=retry_seconds(exc))
            self._retry(msg, parts_sent, wait, f"429 retry_after {wait.total_seconds():.0f}s", count=False)
            return Outcome.HELD
        except ChatMigrated as exc:
            self._migrate(msg, int(exc.new_chat_id))
            return Outcome.REFUSED
        except (BadRequest, Forbidden) as exc:  # BadRequest before TelegramError: it is a NetworkError subclass
            self._refused(msg, parts_sent, exc)
            return Outcome.REFUSED
        except TelegramError as exc:  # 5xx, dropped connection, timeout, and a bad token: all transient
            # No answer is not no delivery: Telegram may have taken the message (a lost response).
            cause = LOST_RESPONSE if isinstance(exc, NetworkError) else None
            self._retry(
                msg, parts_sent, self.backoff(msg.attempts + 1), f"{type(exc).__name__}: {exc}", duplicate_cause=cause
            )
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
                update(OutboxMessage)
                .where(col(OutboxMessage.chat_id) == msg.chat_id, col(OutboxMessage.state) == OutboxState.PENDING)
                .values(chat_id=new_chat_id)
            )

    def _write(self, statement: Update, values: dict[str, Any]) -> int:
        """Run one of the delivery's writes on the message's row; how many rows it changed."""
        with self.engine.begin() as conn:
            return conn.execute(statement, values).rowcount

    def _save_parts(self, msg: OutboxMessage, parts_sent: int) -> None:
        msg.payload = {**msg.payload, "parts_sent": parts_sent}
        self._write(self._sql.parts, {"mid": msg.id, "payload": msg.payload})

    def _begin_attempt(self, msg: OutboxMessage) -> bool:
        """Mark the attempt before the request goes out. A message found marked was being sent
        when the process died, after its request may have reached Telegram: this attempt may
        deliver it twice, and says so. False: the row is no longer pending (not to be sent).
        (The delivery is the only writer of a pending row's payload: the one it loaded is current.)"""
        extra: dict[str, object] = {"in_flight": True}
        if msg.payload.get("in_flight"):  # each such attempt may deliver it once more
            extra["repeats"] = int(msg.payload.get("repeats", 0)) + 1
            if not msg.payload.get("duplicate_cause"):
                extra["duplicate_cause"] = RESENT_AFTER_CRASH
        payload = {**msg.payload, **extra}
        if not self._write(self._sql.begin, {"mid": msg.id, "payload": payload}):
            logger.info("outbox %s to chat %s: no longer pending, skipped", msg.id, msg.chat_id)
            return False
        msg.payload = payload
        return True

    def _retry(
        self,
        msg: OutboxMessage,
        parts_sent: int,
        wait: timedelta,
        error: str,
        count: bool = True,
        duplicate_cause: str | None = None,
    ) -> datetime:
        """Put the message back with `wait` before its next attempt; returns when that is."""
        logger.warning("outbox %s to chat %s: %s; retry in %.1fs", msg.id, msg.chat_id, error, wait.total_seconds())
        at = self.clock() + wait
        payload = {k: v for k, v in msg.payload.items() if k != "in_flight"}
        if duplicate_cause is not None:
            payload["repeats"] = int(payload.get("repeats", 0)) + 1
            payload.setdefault("duplicate_cause", duplicate_cause)
        payload["parts_sent"] = parts_sent
        values = {"mid": msg.id, "counted": int(count), "at": at, "error": error[:500], "payload": payload}
        if self._write(self._sql.retry, values):
            msg.payload = payload
            if count:
                msg.attempts += 1
        return at

    def _finish(self, msg: OutboxMessage, state: str, error: str) -> None:
        payload = {k: v for k, v in msg.payload.items() if k != "in_flight"}
        sent_at = self.clock() if state == OutboxState.SENT else None
        values = {"mid": msg.id, "state": state, "error": error[:500], "payload": payload, "sent_at": sent_at}
        self._write(self._sql.finish, values)
