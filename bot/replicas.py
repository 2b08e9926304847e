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
from models import inbox

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 10.0
SWEEP_AFTER = timedelta(seconds=20)


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
        self.deferred = 0  # updates put back because another replica was handling their chat
        self.handled = 0  # updates handled here (applied, or skipped as applied by another)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await super().do_process_update(update, self._claimed(update, coroutine))

    async def _claimed(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self._key(update)
        if not self.claims.claim_handling(key):
            if asyncio.iscoroutine(coroutine):
                coroutine.close()  # not started: nothing of it ran
            if isinstance(update, Update):
                self.deferred += 1
                logger.info("update %s: its chat is being handled by another replica; again shortly", update.update_id)
                self.queue.retry_later(update)
            return
        try:
            self.handled += 1
            await coroutine
        finally:
            self.claims.release_handling(key)


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
