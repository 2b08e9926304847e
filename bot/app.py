"""Builds the python-telegram-bot Application: the declared commands, flows and buttons (one
list, DECLARED, routed by bot.engine), the dedupe guard, the error handler and the outbox
delivery loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import secrets
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from telegram import Update
from telegram.error import NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import (
    admin,
    briefs,
    calendar,
    claims,
    decisions,
    lookups,
    meetings,
    menu,
    notices,
    onboarding,
    problems,
    rectification,
    replicas,
    reports,
    supervision,
    texts,
)
from bot.common import CURRENT_UPDATE, UpdateState, send_text, wake_delivery
from bot.engine import Declared, Dispatcher
from bot.inbox import InboxBot, InboxQueue
from bot.pacing import ChatOrderedProcessor, Pacer
from models import ProcessedUpdate, inbox, read_only, utcnow
from models.busy import is_transient_error, short_error
from models.db import WalCheckpointer

logger = logging.getLogger(__name__)

# Everything the bot answers, declared once (bot/engine.py says how). Explicit: a module or
# name missing here is an import error, never skipped.
DECLARED: list[Declared] = [
    # bot/onboarding.py
    onboarding.start,
    onboarding.cancel,
    onboarding.whoami,
    onboarding.help_command,
    onboarding.invite,
    onboarding.members,
    onboarding.revoke,
    onboarding.revoke_pick,
    onboarding.revoke_confirm,
    onboarding.bindgroup,
    # bot/lookups.py
    lookups.todo,
    lookups.progress,
    # bot/reports.py
    reports.report,
    reports.REPORT,
    reports.ledger,
    reports.LEDGER,
    # bot/problems.py
    problems.flag,
    problems.FLAG,
    problems.problem_command,
    problems.accept,
    problems.hand_over,
    problems.decline,
    problems.rule,
    problems.resolve,
    problems.confirm,
    problems.reopen,
    problems.PROBLEM,
    problems.judge,
    problems.open_file,
    # bot/decisions.py
    decisions.decision,
    decisions.DECISION,
    decisions.mark_done,
    decisions.DECISION_DONE_FLOW,
    decisions.accept,
    decisions.give_back,
    # bot/meetings.py
    meetings.meeting,
    meetings.MEETING,
    meetings.attend,
    meetings.ATTEND_FLOW,
    meetings.excuse,
    decisions.DECISION_RETURN_FLOW,
    # bot/notices.py
    notices.notices,
    notices.notice_open,
    notices.notice_page,
    notices.notice_body,
    notices.notice_drop,
    notices.NOTICE_DROP,
    notices.notice_preview,
    notices.notice_approve_confirm,
    notices.notice_restore,
    notices.notice_edit,
    notices.NOTICE_EDIT,
    notices.notice_approve,
    notices.notice_abandon,
    notices.explain,
    notices.notice_explain,
    notices.EXPLAIN,
    # bot/admin.py
    admin.schedule,
    admin.schedule_edit,
    admin.SCHEDULE,
    admin.schedule_pause,
    admin.schedule_resume,
    admin.schedule_run,
    # bot/calendar.py
    calendar.calendar,
    calendar.CALENDAR,
    # bot/menu.py
    menu.OUTSIDE,
    menu.LOOSE,
    # bot/briefs.py
    briefs.briefs,
    briefs.brief_note,
    briefs.BRIEF_NOTE,
    briefs.brief_approve,
    briefs.brief_sign,
    briefs.brief_sign_confirm,
    briefs.brief_not_now,
    briefs.brief_return,
    briefs.BRIEF_RETURN,
    # bot/rectification.py
    rectification.rectify,
    rectification.rect_pick,
    rectification.rect_person,
    rectification.rect_close,
    rectification.RECT_CLOSE,
    rectification.rect_accept,
    rectification.rect_return,
    rectification.rect_recheck_fail,
    rectification.RECT_REASON,
    rectification.rect_recheck_ok,
    # bot/claims.py
    claims.confirm,
    claims.reject,
    claims.CLAIM_REJECT_FLOW,
    # bot/supervision.py
    supervision.duban,
    supervision.urge,
]


class Deduper:
    """Remembers processed update ids. Update ids only grow, so an id above the highest one
    recorded before this process started, and not seen since, is new without a query."""

    RECENT = 10_000

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.start_max: int | None = None
        self.recent: set[int] = set()
        # Other replicas apply updates too (bot/replicas.py): an id above start_max may be theirs.
        self.shared = replicas.shared(engine)

    def _load(self) -> int:
        if self.start_max is None:
            with read_only(self.engine).connect() as conn:
                self.start_max = conn.execute(select(func.max(col(ProcessedUpdate.update_id)))).scalar() or 0
        return self.start_max

    def seen(self, update_id: int) -> bool:
        if update_id in self.recent:
            return True
        if not self.shared and update_id > self._load():
            return False
        with read_only(self.engine).connect() as conn:
            return (
                conn.execute(
                    select(col(ProcessedUpdate.update_id)).where(col(ProcessedUpdate.update_id) == update_id)
                ).first()
                is not None
            )

    def remember(self, update_id: int) -> None:
        if len(self.recent) >= self.RECENT:
            self.recent.clear()  # older ids are still in the table (and below start_max after a restart)
            self.start_max = None
        self.recent.add(update_id)


async def dedupe_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Skip an update already processed (a redelivery); open the update's shared state."""
    deduper: Deduper = context.application.bot_data["deduper"]
    if deduper.seen(update.update_id):
        queue = context.application.update_queue
        if isinstance(queue, InboxQueue):
            queue.applied(update.update_id)  # (tried again here while another replica applied it)
        logger.info("update %s: already processed, skipped", update.update_id)
        raise ApplicationHandlerStop
    CURRENT_UPDATE.set(UpdateState(update_id=update.update_id))


def _forget_invite_code(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An applied `/start CODE` is kept in the inbox as `/start`: the code is not stored at rest."""
    message = update.message
    if message is None or not message.text or not message.text.startswith("/start") or " " not in message.text:
        return
    data = update.to_dict()
    data["message"]["text"] = "/start"
    data["message"].pop("entities", None)
    try:
        inbox.forget_payload(context.application.bot_data["engine"], update.update_id, json.dumps(data))
    except Exception as exc:  # noqa: BLE001 - pruned with the update after a week in any case
        logger.warning("update %s: its invite code stays in the inbox until pruned (%s)", update.update_id, exc)


async def mark_processed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record an update whose handlers wrote nothing (a writing one was recorded with its change)."""
    state = CURRENT_UPDATE.get()
    queue = context.application.update_queue
    if state is not None and state.update_id == update.update_id and state.retry:
        if isinstance(queue, InboxQueue) and queue.retry_later(update) and update.effective_chat is not None:
            with contextlib.suppress(TelegramError):  # told once; the answer follows when it is applied
                await send_text(context.bot, update.effective_chat.id, texts.BUSY_WILL_RETRY)
        return
    if isinstance(queue, InboxQueue):
        queue.applied(update.update_id)
        _forget_invite_code(update, context)
    context.application.bot_data["deduper"].remember(update.update_id)
    if state is not None and state.update_id == update.update_id and state.recorded:
        if state.replies_kept:  # the answers kept with the change: sent, or left to the outbox
            engine = context.application.bot_data["engine"]
            if state.replies_sent >= len(state.replies):
                inbox.clear_reply(engine, update.update_id)
            elif inbox.replies_to_outbox(
                engine,
                [update.update_id],
                skip=state.replies_sent,
                cause=None,
                first_cause=inbox.LOST_RESPONSE if state.reply_unsure else None,
            ):
                wake_delivery(context)
        return
    try:
        with context.application.bot_data["engine"].begin() as conn:
            conn.execute(insert(ProcessedUpdate).values(update_id=update.update_id, at=utcnow()))
    except IntegrityError:
        logger.info("update %s: processed concurrently", update.update_id)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: log with the update id, tell the user something useful."""
    ref = secrets.token_hex(3)
    update_id = update.update_id if isinstance(update, Update) else None
    state = CURRENT_UPDATE.get()
    error = context.error
    if (
        isinstance(update, Update)
        and error is not None
        and is_transient_error(error)
        and state is not None
        and state.update_id == update.update_id
        and not state.recorded
    ):
        # Nothing of it was committed: it stays in the inbox and is applied again shortly.
        logger.warning(
            "update %s: database busy or unavailable (%s); applied again shortly", update_id, short_error(error)
        )
        state.retry = True
        return
    if update is None and isinstance(error, NetworkError):
        # Polling met a 5xx, a dropped connection or a timeout: PTB retries; one line, no traceback.
        logger.warning("Telegram unreachable or answered an error (%s); retrying", short_error(error))
        return
    logger.error("update %s: unhandled error (ref %s)", update_id, ref, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, texts.ERROR_GENERIC.format(ref=ref))
        except Exception:  # noqa: BLE001 - reporting the error must not raise another
            logger.warning("update %s: could not tell the user about error %s", update_id, ref)
    if isinstance(update, Update) and update.callback_query is not None:
        with contextlib.suppress(TelegramError):  # the button's spinner stops; the message above says why
            await update.callback_query.answer()


class LianxiApplication(Application):
    """PTB's Application that also runs the outbox delivery loop while it is started,
    whether it is run by run_polling/run_webhook or started by hand (tests, sandbox)."""

    def __init__(self, *, deliver_outbox: bool = True, outbox_poll_seconds: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._deliver_outbox = deliver_outbox
        self._outbox_poll_seconds = outbox_poll_seconds
        self._delivery_task: asyncio.Task | None = None
        self._sweep_task: asyncio.Task | None = None
        self._members_task: asyncio.Task | None = None
        self._checkpointer: WalCheckpointer | None = None

    async def initialize(self) -> None:
        """Before any new update: what a crash left behind. Answers of applied updates that
        were never sent go to the outbox (marked as possibly sent already); updates stored
        and never applied are queued first, oldest first."""
        await super().initialize()
        engine = self.bot_data["engine"]
        resent = await asyncio.to_thread(inbox.replies_to_outbox, engine, cause=inbox.RESENT_AFTER_CRASH)
        pruned = await asyncio.to_thread(inbox.prune, engine)
        queue = self.update_queue
        replayed = await queue.replay(self.bot) if isinstance(queue, InboxQueue) else 0
        if resent or replayed or pruned:
            logger.info(
                "inbox: %d stored updates to apply, %d unsent answers to the outbox, %d old updates forgotten",
                replayed,
                resent,
                pruned,
            )

    async def start(self) -> None:
        await super().start()
        from bot import onboarding
        from bot.delivery import OutboxDelivery

        await onboarding.set_default_menu(self)
        # Everything loaded so far (PTB, SQLAlchemy, the models, the plan's rows cached by
        # SQLAlchemy...) lives as long as the process: moved out of the collector's reach, a
        # full collection scans only what updates leave behind (~90 ms -> a few ms, and no
        # pause of that length in the middle of 20 contacts' replies).
        gc.freeze()
        self._checkpointer = WalCheckpointer(self.bot_data["engine"]).start()
        if self._deliver_outbox:
            delivery = OutboxDelivery(
                engine=self.bot_data["engine"], bot=self.bot, poll_seconds=self._outbox_poll_seconds
            )
            self.bot_data["delivery"] = delivery
            self._delivery_task = asyncio.get_running_loop().create_task(delivery.run_forever())
        queue = self.update_queue
        if replicas.shared(self.bot_data["engine"]) and isinstance(queue, InboxQueue):
            sweep = replicas.sweep_forever(self.bot_data["engine"], queue, self.bot)
            self._sweep_task = asyncio.get_running_loop().create_task(sweep)
            if isinstance(self.bot.rate_limiter, Pacer):
                members = replicas.members_forever(self.bot_data["engine"], self.bot.rate_limiter)
                self._members_task = asyncio.get_running_loop().create_task(members)

    async def stop(self) -> None:
        for task in (self._sweep_task, self._members_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._sweep_task = self._members_task = None
        delivery = self.bot_data.get("delivery")
        if delivery is not None:
            await delivery.stop()
        if self._delivery_task is not None:
            await asyncio.gather(self._delivery_task, return_exceptions=True)
            self._delivery_task = None
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)
            self._checkpointer = None
        await super().stop()


def build_application(
    *,
    engine: Engine,
    token: str,
    base_url: str | None = None,
    base_file_url: str | None = None,
    rate_limiter: bool | BaseRateLimiter[Any] = True,
    deliver_outbox: bool = True,
    outbox_poll_seconds: float = 0.5,
) -> Application:
    """The bot's Application, wired to `engine`; the outbox loop starts with it."""
    # Any: each builder call changes the builder's type parameters (the rate limiter's among them).
    queue = InboxQueue(engine)
    urls = {"base_url": base_url, "base_file_url": base_file_url}
    limiter = (Pacer() if rate_limiter is True else rate_limiter) if rate_limiter else None
    bot = InboxBot(
        token,
        **{k: v for k, v in urls.items() if v},
        # What ApplicationBuilder would build: a pool for the sends, one connection for getUpdates.
        request=HTTPXRequest(connection_pool_size=256),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        # Ours (bot/pacing.py); another limiter only for a benchmark's baseline.
        rate_limiter=limiter,
        queue=queue,
    )
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = ApplicationBuilder().bot(bot)
    # Chats side by side, each chat's updates in order: a reply waiting for its chat's pace
    # (bot/pacing.py) holds up no one else.
    builder = builder.update_queue(queue)
    pacer = limiter if isinstance(limiter, Pacer) else None
    if replicas.shared(engine):  # and across replicas, one update of a chat at a time
        builder = builder.concurrent_updates(replicas.ReplicaProcessor(engine, queue, pacer=pacer))
        if pacer is not None:  # and a group's 20 a minute for all of them
            pacer.groups = replicas.GroupWindows(engine)
    else:
        builder = builder.concurrent_updates(ChatOrderedProcessor(pacer=pacer))
    builder = builder.application_class(
        LianxiApplication,
        kwargs={"deliver_outbox": deliver_outbox, "outbox_poll_seconds": outbox_poll_seconds},
    )
    app = builder.build()
    app.bot_data["engine"] = engine
    app.bot_data["deduper"] = Deduper(engine)
    app.add_handler(TypeHandler(Update, dedupe_guard), group=-1)
    dispatcher = Dispatcher(DECLARED)
    # One CommandHandler for every command, dispatching on the name: PTB would otherwise parse
    # the message once per registered command until one matched.
    app.add_handler(CommandHandler(list(dispatcher.commands), dispatcher.on_command))
    app.add_handler(CallbackQueryHandler(dispatcher.on_button))
    app.add_handler(MessageHandler(filters.COMMAND, dispatcher.on_unknown_command))
    files = filters.Document.ALL | filters.PHOTO
    app.add_handler(MessageHandler((filters.TEXT | files) & ~filters.COMMAND, dispatcher.on_message))
    app.add_handler(TypeHandler(Update, mark_processed), group=99)
    app.add_error_handler(on_error)
    return app
