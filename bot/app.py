"""Builds the python-telegram-bot Application: handlers, the dedupe guard, the
callback dispatcher, the error handler and the outbox delivery loop."""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from telegram import Update
from telegram.constants import ChatType
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import texts
from bot.common import CURRENT_UPDATE, Handler, UpdateState, db, member_of
from models import ProcessedUpdate, read_only, utcnow
from models.db import WalCheckpointer
from oversight.audit import actor_of, audit
from oversight.chatstate import get_flow, resolve_token
from oversight.errors import OversightError

logger = logging.getLogger(__name__)

# Extension points: feature modules register their buttons and conversation steps here.
CallbackAction = Callable[[Update, ContextTypes.DEFAULT_TYPE, dict[str, Any]], Awaitable[str | None]]
FlowStep = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]
CALLBACK_ACTIONS: dict[str, CallbackAction] = {}
FLOW_INPUT: dict[str, FlowStep] = {}
CommandSpec = tuple[str, Callable[..., Awaitable[Any]]]
EXTRA_COMMANDS: list[CommandSpec] = []


def on_callback(action: str) -> Callable[[CallbackAction], CallbackAction]:
    """Register the function that handles buttons minted with `action`."""

    def wrap(func: CallbackAction) -> CallbackAction:
        CALLBACK_ACTIONS[action] = func
        return func

    return wrap


def on_flow_input(flow: str) -> Callable[[FlowStep], FlowStep]:
    """Register the function that takes a user's typed text or file while `flow` is open."""

    def wrap(func: FlowStep) -> FlowStep:
        FLOW_INPUT[flow] = func
        return func

    return wrap


def _load_features() -> None:
    """Import the feature modules so their handlers register themselves."""
    import importlib

    for name in (
        "bot.onboarding",
        "bot.reports",
        "bot.problems",
        "bot.lookups",
        "bot.admin",
        "bot.notices",
        "bot.decisions",
    ):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


class Deduper:
    """Remembers processed update ids. Update ids only grow, so an id above the highest one
    recorded before this process started, and not seen since, is new without a query."""

    RECENT = 10_000

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.start_max: int | None = None
        self.recent: set[int] = set()

    def _load(self) -> int:
        if self.start_max is None:
            with read_only(self.engine).connect() as conn:
                self.start_max = conn.execute(select(func.max(ProcessedUpdate.update_id))).scalar() or 0
        return self.start_max

    def seen(self, update_id: int) -> bool:
        if update_id in self.recent:
            return True
        if update_id > self._load():
            return False
        with read_only(self.engine).connect() as conn:
            return (
                conn.execute(select(ProcessedUpdate.update_id).where(ProcessedUpdate.update_id == update_id)).first()
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
        logger.info("update %s: already processed, skipped", update.update_id)
        raise ApplicationHandlerStop
    CURRENT_UPDATE.set(UpdateState(update_id=update.update_id))


async def mark_processed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record an update whose handlers wrote nothing (a writing one was recorded with its change)."""
    state = CURRENT_UPDATE.get()
    context.application.bot_data["deduper"].remember(update.update_id)
    if state is not None and state.update_id == update.update_id and state.recorded:
        return
    try:
        with context.application.bot_data["engine"].begin() as conn:
            conn.execute(insert(ProcessedUpdate).values(update_id=update.update_id, at=utcnow()))
    except IntegrityError:
        logger.info("update %s: processed concurrently", update.update_id)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Resolve an opaque button id and run its action; forged or stale ids change nothing."""
    query = update.callback_query
    if query is None:
        return
    with db(context) as session:
        token = resolve_token(session=session, token=query.data or "")
        action = token.action if token else None
        args = dict(token.args) if token else {}
        owner = token.user_id if token else None
        if token is None:
            audit(
                session=session,
                actor=actor_of(telegram_user_id=query.from_user.id),
                action="button.stale",
                detail={"data": (query.data or "")[:64]},
            )
    if action is None or action not in CALLBACK_ACTIONS:
        await query.answer(texts.BUTTON_STALE, show_alert=True)
        return
    if owner is not None and owner != query.from_user.id:
        await query.answer(texts.BUTTON_NOT_YOURS, show_alert=True)
        return
    try:
        note = await CALLBACK_ACTIONS[action](update, context, args)
    except OversightError as exc:
        await query.answer(exc.message[:200], show_alert=True)
        return
    try:
        await query.answer(note[:200] if note else None)
    except Exception:  # noqa: BLE001 - an unanswered spinner is cosmetic
        logger.debug("update %s: answerCallbackQuery failed", update.update_id)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text or an uploaded file: goes to the user's open conversation, if any."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    with db(context) as session:
        state = get_flow(session=session, chat_id=chat.id, user_id=user.id)
        flow = state.flow if state else None
        registered = member_of(session, update) is not None
    if flow and flow in FLOW_INPUT:
        try:
            await FLOW_INPUT[flow](update, context)
        except OversightError as exc:
            await context.bot.send_message(chat.id, exc.message)
        return
    if chat.type == ChatType.PRIVATE:
        await context.bot.send_message(chat.id, texts.NOT_IN_FLOW if registered else texts.WELCOME_UNREGISTERED)


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
        await context.bot.send_message(update.effective_chat.id, texts.UNKNOWN_COMMAND)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: log with the update id, tell the user something useful."""
    ref = secrets.token_hex(3)
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("update %s: unhandled error (ref %s)", update_id, ref, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, texts.ERROR_GENERIC.format(ref=ref))
        except Exception:  # noqa: BLE001 - reporting the error must not raise another
            logger.warning("update %s: could not tell the user about error %s", update_id, ref)


class LianxiApplication(Application):
    """PTB's Application that also runs the outbox delivery loop while it is started,
    whether it is run by run_polling/run_webhook or started by hand (tests, sandbox)."""

    def __init__(self, *, deliver_outbox: bool = True, outbox_poll_seconds: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._deliver_outbox = deliver_outbox
        self._outbox_poll_seconds = outbox_poll_seconds
        self._delivery_task: asyncio.Task | None = None
        self._checkpointer: WalCheckpointer | None = None

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

    async def stop(self) -> None:
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


def _dispatcher(commands: dict[str, Handler]) -> Handler:
    """The callback of the one CommandHandler: the handler registered for the message's command."""

    async def dispatch(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
        message = update.effective_message
        assert message is not None and message.text and message.entities  # CommandHandler matched it
        name = message.text[1 : message.entities[0].length].split("@", 1)[0].lower()
        return await commands[name](update, context)

    return dispatch


def build_application(
    *,
    engine: Engine,
    token: str,
    base_url: str | None = None,
    base_file_url: str | None = None,
    rate_limiter: bool = True,
    deliver_outbox: bool = True,
    outbox_poll_seconds: float = 0.5,
) -> Application:
    """The bot's Application, wired to `engine`; the outbox loop starts with it."""
    from bot import onboarding

    _load_features()
    builder = ApplicationBuilder().token(token).concurrent_updates(False)
    if base_url:
        builder = builder.base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    builder = builder.application_class(
        LianxiApplication,
        kwargs={"deliver_outbox": deliver_outbox, "outbox_poll_seconds": outbox_poll_seconds},
    )
    app = builder.build()
    app.bot_data["engine"] = engine
    app.bot_data["deduper"] = Deduper(engine)
    app.add_handler(TypeHandler(Update, dedupe_guard), group=-1)
    commands: dict[str, Handler] = {}
    for name, handler in [
        ("start", onboarding.start),
        ("cancel", onboarding.cancel),
        ("whoami", onboarding.whoami),
        ("help", onboarding.help_command),
        ("invite", onboarding.invite),
        ("members", onboarding.members),
        ("revoke", onboarding.revoke),
        ("bindgroup", onboarding.bindgroup),
        *EXTRA_COMMANDS,
    ]:
        commands.setdefault(name, handler)  # the first registered for a name, as PTB would pick
    # One CommandHandler for every command, dispatching on the name: PTB would otherwise parse
    # the message once per registered command until one matched (/report is the ninth).
    app.add_handler(CommandHandler(list(commands), _dispatcher(commands)))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.COMMAND, on_unknown_command))
    app.add_handler(MessageHandler((filters.TEXT | filters.Document.ALL | filters.PHOTO) & ~filters.COMMAND, on_text))
    app.add_handler(TypeHandler(Update, mark_processed), group=99)
    app.add_error_handler(on_error)
    return app
