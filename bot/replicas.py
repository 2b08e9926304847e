"""Several bot replicas on one PostgreSQL database, behind one load balancer (webhook).

Telegram sends an update again when its POST was not answered in time, and the balancer may
hand the second copy to another replica: both store it in the inbox (keyed by update id, the
second store a no-op) and both would apply it. So on PostgreSQL a replica claims the update's
chat (an advisory lock on its claims connection, bot/delivery.py's ChatClaims) before handling
it and releases it after; the dedupe guard then reads whether the update was applied (by any
replica: no shortcut by the ids this process has seen). A replica that finds the chat claimed
queues the update again a moment later (the inbox keeps it meanwhile): by then the other has
applied it and it is skipped, or the other died (its locks went with its connection) and this
one applies it. One chat's updates are thereby also handled one at a time across replicas.

Pacing (bot/pacing.py) across replicas: the claim is the one the outbox takes to send to a
chat (one replica handles or sends to a chat at a time), and it is released only once the
chat's gap since this replica's last message there has passed, so a message from the next
replica to claim it cannot come sooner than the one replica's Pacer would have let it. Each
replica holds a slot of PostgreSQL advisory locks while alive; counting them (every
MEMBERS_SECONDS) each sends 1/N of the bot's pace. A replica joining starts sending only
after JOIN_WAIT, once the others have counted it; one gone (its locks with its connection)
is uncounted at the next count, until which the others stay at the lower share. The limit of
20 messages a minute to a group holds for all the replicas together: before each message to a
group a replica takes a slot of the group's row in the database, under SELECT ... FOR UPDATE
(GroupWindows, models/pace.py); a 429 for a group holds it there for all of them.

An update stored by a replica that died before applying it is applied by whichever replica
sweeps the inbox next (every SWEEP_SECONDS, updates stored more than SWEEP_AFTER ago).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from telegram import Bot, Update

from bot.delivery import ChatClaims
from bot.inbox import InboxQueue
from bot.pacing import ChatOrderedProcessor, Pacer
from models import inbox, pace

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 10.0
SWEEP_AFTER = timedelta(seconds=20)
CLAIMED_RETRY = (0.2, 1.0)  # seconds: an update whose chat another replica has, tried again
MEMBERS_SECONDS = 1.0
JOIN_WAIT = 2.5 * MEMBERS_SECONDS


def shared(engine: Engine) -> bool:
    """Whether other bot replicas may share the database (PostgreSQL)."""
    return engine.dialect.name == "postgresql"


class ReplicaProcessor(ChatOrderedProcessor):
    """ChatOrderedProcessor that, on PostgreSQL, claims the chat across replicas first."""

    def __init__(
        self, engine: Engine, queue: InboxQueue, max_concurrent_updates: int = 256, *, pacer: Pacer | None = None
    ) -> None:
        super().__init__(max_concurrent_updates, pacer=pacer)
        self.claims = ChatClaims.of(engine)
        self.queue = queue
        self.pacer = pacer
        self.deferred = 0  # updates put back because another replica was handling their chat
        self.handled = 0  # updates handled here (applied, or skipped as applied by another)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await super().do_process_update(update, self._claimed(update, coroutine))

    async def _claimed(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self._key(update)
        if not self.claims.claim(key):
            if asyncio.iscoroutine(coroutine):
                coroutine.close()  # not started: nothing of it ran
            if isinstance(update, Update):
                self.deferred += 1
                logger.info("update %s: its chat is being handled by another replica; again shortly", update.update_id)
                self.queue.retry_later(update, first=CLAIMED_RETRY[0], most=CLAIMED_RETRY[1])
            return
        try:
            self.handled += 1
            await coroutine
        finally:
            self.claims.release(key, after=self.pacer.chat_free_in(key) if self.pacer is not None else 0.0)


class GroupWindows:
    """The Pacer's SharedGroups on the database (models/pace.py), off the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def take(self, chat_id: int | str, count: int, span: float) -> pace.Slot:
        if isinstance(chat_id, str):  # a @username: no id to key a row by; this replica's own window
            return pace.Slot(wait=0.0)
        return await asyncio.to_thread(pace.take_slot, self.engine, chat_id, count, span)

    async def answered(self, chat_id: int | str, stamp: float) -> None:
        if not isinstance(chat_id, str):
            await asyncio.to_thread(pace.answered, self.engine, chat_id, stamp)

    async def hold(self, chat_id: int | str, seconds: float) -> None:
        if not isinstance(chat_id, str):
            await asyncio.to_thread(pace.hold, self.engine, chat_id, seconds)


async def members_forever(engine: Engine, pacer: Pacer) -> None:
    """Hold a replica slot and keep the Pacer's share at 1/(replicas alive): see the module."""
    claims = ChatClaims.of(engine)
    loop = asyncio.get_running_loop()
    waiting_until = 0.0  # a replica joining others sends (almost) nothing until they count it
    while True:
        try:
            count, mine = claims.replicas()
            if not mine:
                if claims.join() is None:
                    logger.warning("replicas: all %d slots taken", claims.SLOTS)
                count, _ = claims.replicas()
                if count > 1:
                    waiting_until = loop.time() + JOIN_WAIT
            share = 1.0 / claims.SLOTS if loop.time() < waiting_until else 1.0 / max(1, count)
            if share != pacer.share and loop.time() >= waiting_until:
                logger.info("replicas: %d bot replicas alive, each sends 1/%d of the pace", count, max(1, count))
            pacer.share = share
        except Exception as exc:  # noqa: BLE001 - counted again next time; meanwhile the lower share
            logger.warning("replicas: could not count the replicas: %s", type(exc).__name__)
            pacer.share = min(pacer.share, 1.0 / 2)
        await asyncio.sleep(MEMBERS_SECONDS)


async def sweep_forever(engine: Engine, queue: InboxQueue, bot: Bot) -> None:
    """Queue updates stored long ago and never applied (their replica died): see the module."""
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            payloads = await asyncio.to_thread(inbox.unapplied, engine, older_than=SWEEP_AFTER)
            for payload in payloads:
                update = Update.de_json(json.loads(payload), bot)
                queue.stored([update.update_id])
                await queue.put(update)
        except Exception as exc:  # noqa: BLE001 - the next sweep tries again; the bot goes on
            logger.warning("inbox sweep failed: %s", type(exc).__name__)
            continue
        if payloads:
            logger.info("inbox sweep: %d stored updates not applied by their replica, queued here", len(payloads))
