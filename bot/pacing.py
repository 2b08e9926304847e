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
  20 in any minute), measured from when each was actually sent;
- on a 429 holds *that chat* for its retry_after; only 429s in several chats within a short
  time slow the whole bot (the global pace by a third, back after a quiet spell);
- lets replies to someone who just acted go ahead of broadcasts (the outbox sends with
  `rate_limit_args=BROADCAST`).

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
from typing import Any

from telegram import Update
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter, BaseUpdateProcessor

logger = logging.getLogger(__name__)

REPLY = 0  # an answer to the person who just acted (the default)
BROADCAST = 1  # the outbox: notices, reminders, documents

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
MAX_WAIT = 90.0  # a reply held longer than this is given up (RetryAfter reaches the caller)


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form is deprecated
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclass
class _Chat:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float = float("-inf")  # when the last message to it was sent
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=GROUP_WINDOW[0]))
    held_until: float = float("-inf")  # a 429's retry_after
    users: int = 0  # requests using this entry now (it is dropped at 0 once quiet)


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
    ) -> None:
        self.interval = 1.0 / rate
        self.private_gap, self.group_window, self.clock, self.max_wait = private_gap, group_window, clock, max_wait
        self._chats: dict[int | str, _Chat] = {}
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._released = float("-inf")
        self._recent: deque[float] = deque()  # releases in the last second
        self._releaser: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._slowdown = 1.0
        self._flooded: deque[tuple[float, int | str]] = deque()
        self._last_429 = float("-inf")
        self._calls = 0
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
        return 1.0 / (self.interval * self._slowdown)

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
        priority = REPLY if rate_limit_args is None else int(rate_limit_args)
        chat = self._chats.setdefault(key, _Chat())
        chat.users += 1
        try:
            while True:
                async with chat.lock:  # one message of a chat at a time, in the order asked
                    await self._chat_turn(key, chat, priority)
                    await self._global_turn(priority)
                    chat.last = self.clock()
                    chat.recent.append(chat.last)
                    try:
                        result = await callback(*args, **kwargs)
                    except RetryAfter as exc:
                        self._flood(key, chat, retry_seconds(exc))
                        if priority != REPLY or retry_seconds(exc) > self.max_wait:
                            raise
                        continue  # the reply waits for the hold at the next _chat_turn
                    self.sent += 1
                    return result
        finally:
            chat.users -= 1
            self._calls += 1
            if self._calls % 1000 == 0:
                self._prune()

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
        at = max(chat.last + gap, chat.held_until)
        is_group = isinstance(key, str) or key < 0
        count, span = self.group_window
        if is_group and len(chat.recent) >= count:
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
        step = self.interval * self._slowdown
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        at = self._released + step
        if len(self._recent) >= max(1, int(self.pace)):
            at = max(at, self._recent[0] + 1.0)
        return at

    def _release(self, now: float) -> None:
        step = self.interval * self._slowdown
        # On a grid of `step`: a release the event loop made late (busy with handlers) may be
        # made up by the next ones, the grid lagging at most CATCH_UP behind (see the module's
        # docstring); the count per second above bounds it in any case.
        self._released = max(self._released + step, now - CATCH_UP)
        self._recent.append(now)

    async def _global_turn(self, priority: int) -> None:
        if not self._waiting and self._next_release(self.clock()) <= self.clock():
            self._released = self.clock() - self.interval * self._slowdown  # after a quiet spell: from now
            self._release(self.clock())
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._seq), future))
        self._ensure_releaser()
        self._kick.set()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._released -= self.interval  # the slot given to us goes unused
            raise

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
            if at > now:
                await asyncio.sleep(at - now)
                continue
            _, _, future = heapq.heappop(self._waiting)
            if future.done():  # its caller was cancelled meanwhile
                continue
            self._release(now)
            future.set_result(None)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Handles updates of different chats concurrently, each chat's in the order received."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, list[int]]] = {}

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
        try:
            async with lock:
                await coroutine
        finally:
            users[0] -= 1
            if users[0] == 0:
                self._locks.pop(key, None)
