"""Update intake: every update is in the inbox (models/inbox.py) before Telegram is told it
arrived, so a kill -9 loses nothing that reached the bot.

Polling: InboxBot.get_updates stores the whole batch in one transaction before returning it;
PTB's Updater confirms a batch only with the next getUpdates (its offset), which therefore
never moves past an update not stored. Webhook: PTB answers the POST once the update queue's
put returns, and InboxQueue.put stores the update first. A store that fails (the database
busy or down) confirms nothing: polling fetches the batch again, the webhook answers 500 and
Telegram sends it again.

The queue drops an update already queued in this process (the inbox replayed at start and
Telegram sending the same update again); one processed before is skipped by the dedupe guard.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine
from telegram import Update
from telegram.ext import ExtBot

from models import inbox
from models.busy import is_transient_error, short_error

logger = logging.getLogger(__name__)

STORE_RETRY_SECONDS = 1.0
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 15.0


def _row(update: Update) -> tuple[int, int | None, str]:
    chat = update.effective_chat
    return update.update_id, chat.id if chat is not None else None, json.dumps(update.to_dict(), ensure_ascii=False)


class InboxQueue(asyncio.Queue[object]):
    """The Application's update queue: an update is stored before it is queued."""

    REMEMBER = 10_000

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self._stored: set[int] = set()  # stored by InboxBot, not queued yet
        self._queued: set[int] = set()
        self._retries: dict[int, int] = {}  # update id -> busy attempts so far
        self._retry_tasks: set[asyncio.Task[None]] = set()

    def stored(self, update_ids: Sequence[int]) -> None:
        self._stored.update(update_ids)

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            uid = item.update_id
            if uid in self._queued:
                self._stored.discard(uid)
                return
            if uid not in self._stored:  # the webhook: stored before PTB answers 200
                await asyncio.to_thread(inbox.store, self.engine, [_row(item)])
            self._stored.discard(uid)
            if len(self._queued) >= self.REMEMBER:
                self._queued.clear()  # older ones are recorded as processed: the dedupe guard skips them
            self._queued.add(uid)
        await super().put(item)

    def retry_later(
        self, update: Update, *, first: float = RETRY_FIRST_SECONDS, most: float = RETRY_MAX_SECONDS
    ) -> bool:
        """Apply `update` again after a pause (the database was busy); True the first time, when
        its sender is still to be told. Backs off to RETRY_MAX_SECONDS; the inbox keeps it
        meanwhile, so a restart applies it too."""
        uid = update.update_id
        attempts = self._retries.get(uid, 0) + 1
        self._retries[uid] = attempts
        delay = min(first * 2 ** (attempts - 1), most)

        async def again() -> None:
            await asyncio.sleep(delay)
            self._queued.discard(uid)
            self._stored.add(uid)  # it is in the inbox already
            await self.put(update)

        task = asyncio.get_running_loop().create_task(again())
        self._retry_tasks.add(task)
        task.add_done_callback(self._retry_tasks.discard)
        return attempts == 1

    def applied(self, update_id: int) -> None:
        self._retries.pop(update_id, None)

    async def replay(self, bot: ExtBot[Any]) -> int:
        """Queue what the inbox holds and was never applied (a crash), oldest first; returns how many."""
        payloads = await asyncio.to_thread(inbox.unapplied, self.engine)
        for payload in payloads:
            update = Update.de_json(json.loads(payload), bot)
            self._stored.add(update.update_id)
            await self.put(update)
        return len(payloads)


class InboxBot(ExtBot[Any]):
    """The bot whose getUpdates stores its batch in the inbox before handing it to the Updater."""

    def __init__(self, *args: Any, queue: InboxQueue, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():
            self._inbox_queue = queue

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        if not updates:
            return updates
        queue = self._inbox_queue
        try:
            await asyncio.to_thread(inbox.store, queue.engine, [_row(u) for u in updates])
        except Exception as exc:
            if not is_transient_error(exc):
                raise
            # Nothing handed on, so the offset stays: the same batch is fetched again.
            logger.warning("inbox: %d updates not stored (%s); fetched again shortly", len(updates), short_error(exc))
            await asyncio.sleep(STORE_RETRY_SECONDS)
            return ()
        queue.stored([u.update_id for u in updates])
        return updates
