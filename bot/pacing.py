"""Paces what the bot sends to Telegram's limits, so that no 429 is provoked.

Telegram allows a bot about 30 messages a second in all, one a second in a private chat and
20 a minute in a group. PTB's AIORateLimiter (which this replaces) does not fit them: its
bucket lets a burst of 60 messages out in the first second, it does not pace a private chat
(a document and its summary to one chat draw a 429), and any 429 stops *every* send for
retry_after (one group's flood control paused all chats for a minute). `Pacer` instead:

- releases messages one at a time, evenly spaced at `rate` a second: no burst (of a release
  the busy event loop delayed, only the first 20 ms are made up: arrivals at Telegram jitter
  under load, and releases made up wholesale would land in one second with their neighbours);
- keeps each chat's messages in order and spaced (private chat 1 s, a group besides at most
  20 in any minute), measured from when Telegram answered the previous one: it had counted
  that one by then, so however late a request reaches it, two are never closer than the gap;
  of several replicas on PostgreSQL (`groups`, bot/replicas.py) a group's 20 a minute are
  counted in the database, for all of them together (models/pace.py);
- never has more than LIMIT messages in flight or answered within the last second: whatever
  the requests' delays, Telegram cannot count more than that in any second (a request that
  reaches it in a second was sent at most a second before the latest one released in it);
- on a 429 holds *that chat* for its retry_after; only 429s in several chats within a short
  time slow the whole bot (the global pace by a third, back after a quiet spell);
- lets replies to someone who just acted go ahead of broadcasts (the outbox sends with
  `rate_limit_args=BROADCAST`): a broadcast waits while any reply does, and while updates are
  being handled (`handling`, counted by ChatOrderedProcessor: the replies they will send are
  coming) goes at most every BUSY_BROADCAST_GAP seconds; a broadcast waiting for its release
  in the chat a reply is for steps aside (the reply takes the chat's turn, the broadcast
  follows it), unless it is a later part of a message sent in parts (BROADCAST_PART: a reply
  does not cut into it), which then goes first as if it were a reply.

A reply (a handler's answer) waiting for a held chat waits for the hold, then tries again; a
broadcast is handed back its RetryAfter at once, so the outbox keeps the message for later
and goes on with other chats.

`ChatOrderedProcessor` lets the updates of different chats be handled at the same time (one
chat's updates still one after the other), so that a reply waiting for its chat's pace or
hold does not hold up everybody else's updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from telegram import Update
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter, BaseUpdateProcessor

from models.pace import Slot

logger = logging.getLogger(__name__)

REPLY = 0  # an answer to the person who just acted (the default)
BROADCAST = 1  # the outbox: notices, reminders, documents
BROADCAST_PART = 2  # the outbox: a later part of a message sent in parts (keeps its chat's turn)

# Methods that put a message in a chat: these count towards Telegram's limits.
PACED = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendAudio",
        "sendVideo",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendVideoNote",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)

# Margins under Telegram's figures: the server counts arrivals, which jitter by a few ms.
RATE = 28.0  # messages per second, the whole bot
PRIVATE_GAP = 1.05  # seconds between two messages to one chat
GROUP_WINDOW = (20, 61.0)  # at most 20 messages to one group in any 61 s
SLOW_AFTER = 5  # 429s in this many different chats ...
SLOW_WITHIN = 5.0  # ... within this many seconds slow the bot's pace by SLOWER
SLOWER = 1.5
SLOW_FOR = 15.0  # seconds without a 429 before the pace is raised by SLOWER again
SLOWEST = 4.0  # the pace is never divided by more than this
CATCH_UP = 0.02  # seconds the release grid may lag behind (see Pacer._release)
LIMIT = 29  # messages in flight or answered within the last second, at most (Telegram: 30)
BUSY_BROADCAST_GAP = 0.5  # seconds between broadcasts while updates are being handled
MAX_WAIT = 90.0  # a reply held longer than this is given up (RetryAfter reaches the caller)


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form is deprecated
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def is_group(key: int | str) -> bool:
    """A group (or channel) chat: a negative id, or a @username."""
    return isinstance(key, str) or key < 0


class SharedGroups(Protocol):
    """A group's window kept for every replica (bot/replicas.py's GroupWindows)."""

    async def take(self, chat_id: int | str, count: int, span: float) -> Slot: ...

    async def answered(self, chat_id: int | str, stamp: float) -> None: ...

    async def hold(self, chat_id: int | str, seconds: float) -> None: ...


class _StepAside(Exception):
    """A reply is to go to the chat of a broadcast waiting for its release: the reply first."""


@dataclass
class _Chat:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float = float("-inf")  # when the last message to it was sent
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=GROUP_WINDOW[0]))
    held_until: float = float("-inf")  # a 429's retry_after
    full_until: float = float("-inf")  # a group's window filled by other replicas too (SharedGroups)
    users: int = 0  # requests using this entry now (it is dropped at 0 once quiet)
    waiting: list[Any] | None = None  # its message's entry in Pacer._waiting, while there
    waiting_yields: bool = False  # that message is a broadcast that steps aside for a reply
    replies: int = 0  # replies asked for it and not sent yet


class Pacer(BaseRateLimiter[int]):
    """The bot's rate limiter (see the module's docstring)."""

    def __init__(
        self,
        *,
        rate: float = RATE,
        private_gap: float = PRIVATE_GAP,
        group_window: tuple[int, float] = GROUP_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        max_wait: float = MAX_WAIT,
        limit: int = LIMIT,
    ) -> None:
        self.interval = 1.0 / rate
        self.limit = limit
        self.private_gap, self.group_window, self.clock, self.max_wait = private_gap, group_window, clock, max_wait
        self._chats: dict[int | str, _Chat] = {}
        self._waiting: list[list[Any]] = []  # [priority, seq, future], a heap
        self._seq = itertools.count()
        self._released = float("-inf")
        self._recent: deque[float] = deque()  # releases in the last second
        self._releaser: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._slowdown = 1.0
        self._flooded: deque[tuple[float, int | str]] = deque()
        self._last_429 = float("-inf")
        self._calls = 0
        self._inflight = 0
        self._answered: deque[float] = deque()  # when Telegram answered, within the last second
        self._last_broadcast = float("-inf")
        self.handling = 0  # updates being handled now (ChatOrderedProcessor)
        # Of several bot replicas on one database each sends this share of the pace and of
        # `limit` (bot/replicas.py sets it from the replicas alive).
        self.share = 1.0
        # On PostgreSQL, each group's 20 a minute counted for all the replicas (bot/replicas.py).
        self.groups: SharedGroups | None = None
        self.held = 0  # 429s seen (for benchmarks and logs)
        self.sent = 0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        if self._releaser is not None:
            self._releaser.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._releaser
            self._releaser = None
        for _, _, future in self._waiting:
            if not future.done():
                future.cancel()
        self._waiting.clear()

    # --- what the bot sees

    def chat_held_for(self, chat_id: int | str) -> float:
        """Seconds before the chat may be sent to again (0: now)."""
        chat = self._chats.get(chat_id)
        return 0.0 if chat is None else max(0.0, chat.held_until - self.clock())

    @property
    def pace(self) -> float:
        """Messages a second the bot is sending at most, now."""
        return 1.0 / self._step()

    def _step(self) -> float:
        return self.interval * self._slowdown / self.share

    def chat_free_in(self, chat_id: int | str) -> float:
        """Seconds before the chat's next message may go, as far as this process knows (what
        another replica taking the chat over must wait: bot/replicas.py)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return 0.0
        key: int | str = chat_id
        with contextlib.suppress(ValueError, TypeError):
            key = int(chat_id)
        return max(0.0, self._chat_ready_at(key, chat) - self.clock())

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if endpoint not in PACED or chat_id is None:
            return await callback(*args, **kwargs)
        key: int | str = chat_id
        with contextlib.suppress(ValueError, TypeError):
            key = int(chat_id)
        priority = REPLY if rate_limit_args is None else BROADCAST
        yields = rate_limit_args == BROADCAST  # (a BROADCAST_PART keeps its chat's turn)
        chat = self._chats.setdefault(key, _Chat())
        chat.users += 1
        if priority == REPLY:
            chat.replies += 1
            self._reply_waits(chat)
        try:
            while True:
                try:
                    async with chat.lock:  # one message of a chat at a time, in the order asked
                        await self._chat_turn(key, chat, priority)
                        await self._global_turn(chat, priority, yields)
                        go, stamp = await self._shared_turn(key, chat)
                        if not go:
                            continue  # the group's window (or hold) in the database: wait at _chat_turn
                        chat.last = self.clock()
                        chat.recent.append(chat.last)
                        self._inflight += 1
                        try:
                            result = await callback(*args, **kwargs)
                        except RetryAfter as exc:
                            self._flood(key, chat, retry_seconds(exc))
                            await self._shared_hold(key, retry_seconds(exc))
                            if priority != REPLY or retry_seconds(exc) > self.max_wait:
                                raise
                            continue  # the reply waits for the hold at the next _chat_turn
                        finally:
                            # Telegram counted it by now: the chat's gap and the second's count from here.
                            self._answered_now(chat)
                            await self._shared_answered(key, stamp)
                        self.sent += 1
                        return result
                except _StepAside:
                    continue  # the chat's lock let go: the reply (queued on it) goes, then this
        finally:
            chat.users -= 1
            if priority == REPLY:
                chat.replies -= 1
            self._calls += 1
            if self._calls % 1000 == 0:
                self._prune()

    def _answered_now(self, chat: _Chat) -> None:
        now = self.clock()
        chat.last = now
        if chat.recent:
            chat.recent[-1] = now
        self._inflight -= 1
        self._answered.append(now)
        if self._waiting:
            self._kick.set()

    def _prune(self) -> None:
        """Forget chats nobody is sending to that no longer constrain anything."""
        now = self.clock()
        quiet = [
            k for k, c in self._chats.items() if c.users == 0 and now - max(c.last, c.held_until) > self.group_window[1]
        ]
        for k in quiet:
            del self._chats[k]

    # --- per chat

    def _chat_ready_at(self, key: int | str, chat: _Chat) -> float:
        gap = self.private_gap
        at = max(chat.last + gap, chat.held_until, chat.full_until)
        count, span = self.group_window
        if is_group(key) and len(chat.recent) >= count:
            at = max(at, chat.recent[0] + span)
        return at

    async def _chat_turn(self, key: int | str, chat: _Chat, priority: int) -> None:
        while True:
            now = self.clock()
            at = self._chat_ready_at(key, chat)
            if at <= now:
                return
            if priority != REPLY and chat.held_until > now + 1.0:
                # A broadcast to a held chat: the outbox keeps it and goes on with other chats.
                raise RetryAfter(max(1, int(chat.held_until - now + 0.999)))
            await asyncio.sleep(at - now)

    # --- a group across replicas (SharedGroups): taken once released, so a slot is stamped
    # when the message is about to go, not while it waits for the bot's pace

    async def _shared_turn(self, key: int | str, chat: _Chat) -> tuple[bool, float | None]:
        """Whether the message may go now as far as the other replicas' sends to the group
        go, and its slot's stamp; if not, the chat waits and the release goes unused."""
        if self.groups is None or not is_group(key):
            return True, None
        try:
            slot = await self.groups.take(key, *self.group_window)
        except Exception as exc:  # noqa: BLE001 - the database unreachable: this replica's own window still holds
            logger.warning("group %s: the shared window could not be read (%s); this replica's own", key, exc)
            return True, None
        if slot.wait <= 0:
            return True, slot.stamp
        self._released -= self._step()  # the release given to us goes unused
        if slot.held:
            chat.held_until = max(chat.held_until, self.clock() + slot.wait)
        else:
            chat.full_until = self.clock() + slot.wait
        return False, None

    async def _shared_answered(self, key: int | str, stamp: float | None) -> None:
        if self.groups is None or stamp is None:
            return
        try:
            await self.groups.answered(key, stamp)
        except Exception as exc:  # noqa: BLE001 - its stamp stays the earlier one: counted sooner, not later
            logger.warning("group %s: the shared window could not be restamped (%s)", key, exc)

    async def _shared_hold(self, key: int | str, seconds: float) -> None:
        if self.groups is None or not is_group(key):
            return
        try:
            await self.groups.hold(key, seconds)
        except Exception as exc:  # noqa: BLE001 - the other replicas meet the hold themselves (a 429 each)
            logger.warning("group %s: the hold could not be shared (%s)", key, exc)

    def _flood(self, key: int | str, chat: _Chat, seconds: float) -> None:
        now = self.clock()
        self.held += 1
        chat.held_until = max(chat.held_until, now + seconds)
        logger.warning("telegram flood control: chat %s held for %.0fs", key, seconds)
        self._last_429 = now
        self._flooded.append((now, key))
        while self._flooded and now - self._flooded[0][0] > SLOW_WITHIN:
            self._flooded.popleft()
        if len({k for _, k in self._flooded}) >= SLOW_AFTER and self._slowdown < SLOWEST:
            self._slowdown = min(SLOWEST, self._slowdown * SLOWER)
            self._flooded.clear()
            logger.warning("telegram flood control in several chats: pace lowered to %.1f/s", self.pace)

    # --- the whole bot

    def _next_release(self, now: float) -> float:
        """The earliest moment the next message may go: one step after the last on the grid,
        and never more than the pace's worth in any second."""
        step = self._step()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        at = self._released + step
        if len(self._recent) >= max(1, int(self.pace)):
            at = max(at, self._recent[0] + 1.0)
        while self._answered and now - self._answered[0] >= 1.0:
            self._answered.popleft()
        if self._inflight + len(self._answered) >= max(1, int(self.limit * self.share)):
            # The next answer (a kick) or the oldest answer's leaving the second frees a place.
            at = max(at, self._answered[0] + 1.0 if self._answered else now + 0.05)
        return at

    def _broadcast_at(self, at: float) -> float:
        """When a broadcast may take the release at `at`, updates being handled or not."""
        return max(at, self._last_broadcast + BUSY_BROADCAST_GAP) if self.handling > 0 else at

    def _release(self, now: float) -> None:
        step = self._step()
        # On a grid of `step`: a release the event loop made late (busy with handlers) may be
        # made up by the next ones, the grid lagging at most CATCH_UP behind (see the module's
        # docstring); the count per second above bounds it in any case.
        self._released = max(self._released + step, now - CATCH_UP)
        self._recent.append(now)

    async def _global_turn(self, chat: _Chat, priority: int, yields: bool = False) -> None:
        if priority != REPLY and chat.replies > 0:
            if yields:  # a reply came while it waited for the chat's gap: the reply first
                raise _StepAside
            priority = REPLY  # a later part holding the turn of a chat a reply waits for
        now = self.clock()
        at = self._next_release(now)
        if not self._waiting and (self._broadcast_at(at) if priority != REPLY else at) <= now:
            self._released = now - self._step()  # after a quiet spell: from now
            self._release(now)
            if priority != REPLY:
                self._last_broadcast = now
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry: list[Any] = [priority, next(self._seq), future]
        heapq.heappush(self._waiting, entry)
        chat.waiting, chat.waiting_yields = entry, yields
        self._ensure_releaser()
        self._kick.set()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._released -= self._step()  # the slot given to us goes unused
            raise
        finally:
            chat.waiting = None

    def _reply_waits(self, chat: _Chat) -> None:
        """A reply is to go to `chat`, where a broadcast may be waiting for its release, holding
        the chat's turn: it steps aside (the reply goes first, and takes no broadcast's slot and
        the chat's gap before it), or, a later part of a message, goes as a reply (else the
        reply would wait for every other reply first)."""
        entry = chat.waiting
        if entry is None or entry[0] == REPLY:
            return
        if chat.waiting_yields and not entry[2].done():
            self._waiting.remove(entry)
            heapq.heapify(self._waiting)
            entry[2].set_exception(_StepAside())
            return
        entry[0] = REPLY
        heapq.heapify(self._waiting)
        self._kick.set()

    def _ensure_releaser(self) -> None:
        if self._releaser is None or self._releaser.done():
            self._releaser = asyncio.get_running_loop().create_task(self._release_forever())

    async def _release_forever(self) -> None:
        while True:
            if not self._waiting:
                self._kick.clear()
                await self._kick.wait()
                continue
            now = self.clock()
            if self._slowdown > 1 and now - self._last_429 > SLOW_FOR:
                self._slowdown = max(1.0, self._slowdown / SLOWER)
                self._last_429 = now
                logger.info("telegram flood control over: pace back to %.1f/s", self.pace)
            at = self._next_release(now)
            if self._waiting[0][0] != REPLY:
                at = self._broadcast_at(at)
            if at > now:
                # Woken early by a new request (a reply may now be first) or an answer.
                self._kick.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._kick.wait(), at - now)
                continue
            priority, _, future = heapq.heappop(self._waiting)
            if future.done():  # its caller was cancelled meanwhile
                continue
            self._release(now)
            if priority != REPLY:
                self._last_broadcast = now
            future.set_result(None)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Handles updates of different chats concurrently, each chat's in the order received."""

    def __init__(self, max_concurrent_updates: int = 256, *, pacer: Pacer | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, list[int]]] = {}
        self.pacer = pacer  # told how many updates are being handled (their replies go first)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @staticmethod
    def _key(update: object) -> int:
        if isinstance(update, Update):
            if update.effective_chat is not None:
                return update.effective_chat.id
            if update.effective_user is not None:
                return update.effective_user.id
        return 0  # anything else: one queue of its own

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self._key(update)
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        if self.pacer is not None:
            self.pacer.handling += 1
        try:
            async with lock:
                await coroutine
        finally:
            users[0] -= 1
            if self.pacer is not None:
                self.pacer.handling -= 1
            if users[0] == 0:
                self._locks.pop(key, None)
