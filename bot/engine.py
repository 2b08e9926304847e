"""The flow engine: every command, button and conversation of the bot is declared once, and one
dispatcher does around each handler what all of them need.

What the dispatcher does, so that no handler does it
----------------------------------------------------
For a command: parse its name, load the member, check the role table (oversight.access), open
the transaction, call the handler, commit, reply (privately for a unit's business). For a button:
resolve the opaque token (forged or expired: one answer, `texts.BUTTON_STALE`, and an audit row),
check it was sent to this user, load the member and the open conversation, check the token
belongs to this conversation (its id) and to the step it is at (anything else: the same stale
answer), open the transaction, call the handler with the button's arguments. For typed text or an
uploaded file: the same for the step the user's conversation is at (a file is downloaded and its
type judged from its content, in a thread, before the transaction: no lock is held across the
network, and the event loop does not parse a workbook). Everywhere: a domain error
(`OversightError`) rolls the transaction back and its Chinese message is the answer; the
conversation's new step and state are saved in the same transaction as the handler's change; the
buttons a handler shows are minted as opaque tokens bound to the recipient; the replies are sent
after the commit; the outbox loop is woken if the handler queued messages for others.

Handlers are plain functions (not coroutines): a handler cannot await inside the transaction, so
the role check, the change and the record that the update was processed cost one BEGIN and one
COMMIT (see bot.common.db), and SQLite's write lock is never held across a network call.

A handler is input -> one domain call -> reply, through its `Turn`:

    turn.session, turn.member, turn.user_id, turn.now, turn.today      what it works with
    turn.args, turn.text                                                a command's words / rest
    turn.state                                                          the flow's typed state
    turn.say(text, buttons=rows)     a reply (rows of `button(label, action, **args)`)
    turn.toast(note)                 the short answer on the pressed button
    turn.start(FLOW, State(), step)  open a conversation; turn.goto(step); turn.end()
    turn.keep(upload)                keep an uploaded file (an Attachment row)
    turn.after(job)                  an await to run after the commit (e.g. set a user's menu)

Declaring a flow (bot/decisions.py, shortened)
----------------------------------------------

    @dataclass
    class DecisionState:                       # kept in ChatState.data, so a restart resumes it
        mid: int = 0
        text: str = ""
        uid: int = 0
        unit: str = ""

    @command("decision")                       # roles: oversight.access.COMMAND_ROLES["decision"]
    def decision(turn: Turn[None]) -> None:
        meetings = M.recent_meetings(session=turn.session, plan_id=turn.member.plan_id)
        turn.start(DECISION, DecisionState(), "meeting")
        rows = [[button(_meeting_label(m), "meeting", mid=m.id)] for m in meetings]
        rows.append([button(t.DECISION_NEW_MEETING, "new_meeting")])
        turn.say(t.DECISION_PICK_MEETING if meetings else t.DECISION_NO_MEETING, rows)

    def pick_meeting(turn: Turn[DecisionState], *, mid: int) -> None:   # the "meeting" button
        meeting = plan_record(session=turn.session, model=Meeting, record_id=mid, plan_id=turn.member.plan_id)
        if meeting is None:
            raise InvalidInputError(t.DECISION_NO_SUCH_MEETING)   # the user reads this; nothing is kept
        turn.state = DecisionState(mid=row_id(meeting))
        turn.goto("text")
        turn.say(t.DECISION_ASK_TEXT.format(meeting=_meeting_label(meeting)))

    def take_text(turn: Turn[DecisionState], text: str) -> None:          # typed text at "text"
        turn.state.text = M.clean_decision_text(text)
        units = responsible_units(session=turn.session, plan_id=turn.member.plan_id)
        turn.goto("unit")
        turn.say(t.DECISION_PICK_UNIT, grid((button(u.short or u.name, "unit", uid=u.id) for u in units), 3))

    DECISION = Flow("decision", DecisionState, command="decision", steps={
        "meeting": Step(buttons={"meeting": pick_meeting, "new_meeting": new_meeting}),
        "text": Step(text=take_text),
        "unit": Step(buttons={"unit": pick_unit}),
        "due": Step(text=take_due),
    })

and list `decisions.decision` and `decisions.DECISION` in bot/app.py's `DECLARED`. A new button on a step
is one entry in its `buttons` and a function; a new step, one `Step(...)`; a new command, one
`@command` function and one line in `DECLARED`. Texts go in bot/texts.py.

A button's action is either a bare name, a button of the step the flow is at when the handler
returns (its token carries the flow's id and that step, so it goes stale when the flow moves on or
ends), or the dotted name of an `@action("problem.accept")`, a button that stands on its own (on
a card in the outbox, say) and is checked only by the domain. Its keyword arguments are the
handler's keyword parameters; a token whose arguments do not fit the handler is stale.
`Flow(command=...)` re-checks that command's roles at every step, `@action(..., command=...)` before
the button runs.

Why not PTB's ConversationHandler: it keeps conversations in memory (or in pickle persistence),
keyed by chat and user only, and matches buttons by callback_data patterns. Ours are kept in the
database (oversight.chatstate: a restart resumes them, in the transaction of the change), have an
id (a button of an earlier /report cannot act on this one), and buttons carry only opaque tokens.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any, Generic, TypeVar, cast

from sqlmodel import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError
from telegram.ext import ContextTypes

from bot import texts
from bot.common import (
    CURRENT_UPDATE,
    answer_private,
    buttons_of,
    db,
    download_file,
    in_private,
    member_of,
    reply,
    role_label,
    send_text,
)
from config.settings import get_settings
from models import Attachment, ChatState, Member, utcnow
from oversight.access import COMMAND_ROLES, PRIVATE_COMMANDS, allowed
from oversight.attachments import check_file, store_attachment
from oversight.audit import actor_of, audit
from oversight.chatstate import clear_flow, get_flow, mint_token, resolve_token, set_flow
from oversight.dates import local_day
from oversight.errors import InvalidInputError, OversightError, PermissionDeniedError
from oversight.outbox import utf16_len

logger = logging.getLogger(__name__)

S = TypeVar("S")
T = TypeVar("T")
MENU_ACTION = "menu.command"  # the engine's own actions: a menu button, a finished button
DONE_ACTION = "engine.done"
# A paste longer than Telegram's 4,096 (UTF-16 units) arrives as several messages a moment apart:
# a part this long is held (in the conversation's row, so a restart loses nothing) and joined to
# what follows within HOLD_WINDOW seconds; with nothing after it, it is taken alone after HOLD_SECONDS.
SPLIT_AT = 3900
HOLD_SECONDS = 2.5
HOLD_WINDOW = 10.0
HELD, HELD_AT = "_held", "_held_at"
HELD_MAX = 20_000  # characters held in all; more is taken (and refused by its step) at once
FLUSH = object()  # _input's value for "the held text, alone"
FID = "fid"  # the keys a flow button's token and a flow's saved data carry beside the handler's
STEP = "step"


# --- what a handler shows ------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """A button to show: its label, its action (a step's button or a dotted action) and arguments."""

    label: str
    action: str
    args: Mapping[str, Any] = field(default_factory=dict)


Rows = list[list[Button]]


LABEL_MAX = 48  # a longer label is cut by the client mid-word; the full text belongs in the message


def fit(text: str, limit: int = LABEL_MAX) -> str:
    """`text` if it fits in `limit` characters, else cut with an ellipsis (never silently)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button(label: str, action: str, **args: Any) -> Button:
    """A button whose press calls `action` with `args` as keyword arguments (its label fitted)."""
    return Button(fit(label), action, args)


def menu_button(label: str, name: str) -> Button:
    """A button that runs the command /name (as if typed without words), checked for the role."""
    return Button(fit(label), MENU_ACTION, {"name": name})


def grid(buttons: Iterable[Button], per_row: int) -> Rows:
    """Buttons laid out `per_row` to a row."""
    items = list(buttons)
    return [items[i : i + per_row] for i in range(0, len(items), per_row)]


@dataclass(frozen=True)
class Upload:
    """A file the user sent: its bytes, its name, and its type as judged from its content
    (oversight.attachments.check_file: a type we do not take is refused before any handler)."""

    data: bytes
    name: str
    mime: str


Job = Callable[[Bot], Awaitable[None]]


class Turn(Generic[S]):
    """What a handler works with and what it answers: one per update."""

    def __init__(
        self, *, session: Session, update: Update, member: Member | None, words: Sequence[str] = (), text: str = ""
    ) -> None:
        self.session = session
        self.member_or_none = member
        user, chat = update.effective_user, update.effective_chat
        self.user_id = user.id if user else 0
        self.user_name = " ".join(p for p in ((user.first_name, user.last_name) if user else ()) if p)[:64]
        self.chat_id = chat.id if chat else self.user_id
        self.chat_title = (chat.title or "") if chat else ""
        self.private = chat is None or chat.type == ChatType.PRIVATE
        self.args = list(words)
        self.text = text
        self.now = utcnow()
        self.flow: Flow[Any] | None = None
        self.state: S = cast(S, None)
        self.step = ""
        self.fid = ""
        self.ended = False
        self.out: list[tuple[str, Rows]] = []
        self.note: str | None = None
        self.jobs: list[Job] = []
        self.done: str | None = None
        self.minted: list[tuple[str, InlineKeyboardMarkup | None]] = []  # filled by the dispatcher

    @property
    def member(self) -> Member:
        """The active member behind the update; a clear refusal for anyone else."""
        if self.member_or_none is None:
            raise PermissionDeniedError(texts.NOT_MEMBER)
        return self.member_or_none

    @property
    def today(self) -> date:
        """Today in the zone from Settings."""
        return local_day(self.now)

    def say(self, text: str, buttons: Rows | None = None) -> None:
        """Reply with `text` (plain, never markup) and, under it, `buttons`."""
        self.out.append((text, buttons or []))

    def toast(self, note: str) -> None:
        """The short answer shown on the pressed button."""
        self.note = note

    def start(self, flow: Flow[T], state: T, step: str) -> None:
        """Open a conversation (replacing any the user had open) at `step`."""
        self.flow, self.state, self.fid, self.ended = flow, cast(S, state), secrets.token_hex(4), False
        self.goto(step)

    def goto(self, step: str) -> None:
        """Move the open conversation to `step`."""
        if self.flow is None or step not in self.flow.steps:
            raise ValueError(f"no step {step!r} in flow {self.flow.name if self.flow else None!r}")
        self.step = step

    def end(self, done: str | None = None) -> None:
        """Close the open conversation. With `done`, the pressed button keeps that answer: pressed
        again (a double tap, a second look), it says what came of the first press."""
        self.ended, self.done = True, done

    def keep(self, upload: Upload) -> Attachment:
        """Check and keep an uploaded file; its Attachment row."""
        return store_attachment(
            session=self.session,
            data=upload.data,
            filename=upload.name,
            mime_type=upload.mime,
            data_dir=get_settings().DATA_DIR,
        )

    def after(self, job: Job) -> None:
        """Run `job(bot)` once the transaction has committed, before the replies are sent."""
        self.jobs.append(job)


# --- what is declared ----------------------------------------------------------------------

ButtonHandler = Callable[..., None]  # (turn, **the button's arguments)
TextHandler = Callable[[Turn[S], str], None]
FileHandler = Callable[[Turn[S], Upload], None]
CommandHandler = Callable[[Turn[None]], None]


@dataclass(frozen=True)
class Step(Generic[S]):
    """One step of a flow: the buttons it shows, and what it does with typed text or a file."""

    buttons: Mapping[str, ButtonHandler] = field(default_factory=dict)
    text: TextHandler[S] | None = None
    file: FileHandler[S] | None = None


@dataclass(frozen=True)
class Flow(Generic[S]):
    """A conversation: its name, the dataclass of its state and its steps. With `command`, the
    roles of that command are checked again at every step."""

    name: str
    state: type[S]
    steps: Mapping[str, Step[S]]
    command: str | None = None

    def load(self, data: Mapping[str, Any]) -> S:
        """The typed state saved in a ChatState row (keys the dataclass does not know are dropped).
        A copy: the row's own lists must not change under it, or the new state would compare
        equal to the saved one and never be written."""
        known = {f.name for f in fields(cast(Any, self.state))}
        return self.state(**{k: copy.deepcopy(v) for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Command:
    """A /command; `read` if it only reads (a deferred transaction, no write lock); `bare` if it
    takes no words (words after it are refused with `texts.COMMAND_NO_WORDS`, nothing done)."""

    name: str
    handler: CommandHandler
    read: bool = False
    bare: bool = False


@dataclass(frozen=True)
class Action:
    """A button that stands on its own (not a step of a flow): on a card, a list, a menu. With
    `command`, the roles of that command are checked before it runs."""

    name: str
    handler: ButtonHandler
    command: str | None = None


def command(name: str, *, read: bool = False, bare: bool = False) -> Callable[[CommandHandler], Command]:
    """Declare a command handler (list it in bot/app.py's DECLARED)."""
    return lambda handler: Command(name, handler, read, bare)


def action(name: str, *, command: str | None = None) -> Callable[[ButtonHandler], Action]:
    """Declare a button handler that stands on its own (list it in bot/app.py's DECLARED)."""
    return lambda handler: Action(name, handler, command)


@dataclass(frozen=True)
class Outside:
    """What typed text or a file gets from a registered member in private when no conversation is
    open (instead of a bare "send a command first")."""

    text: TextHandler[None]
    file: FileHandler[None]


Declared = Command | Flow[Any] | Action | Outside


def handlers_of(declared: Iterable[Declared]) -> list[Callable[..., None]]:
    """Every handler function among `declared` (commands, actions, every step's inputs)."""
    found: list[Callable[..., None]] = []
    for item in declared:
        if isinstance(item, Flow):
            for step in item.steps.values():
                found += [*step.buttons.values(), *(h for h in (step.text, step.file) if h is not None)]
        elif isinstance(item, Outside):
            found += [item.text, item.file]
        else:
            found.append(item.handler)
    return found


def _keywords(handler: ButtonHandler) -> tuple[frozenset[str], frozenset[str]]:
    """The keyword parameters a button handler takes, and those it requires."""
    params = list(inspect.signature(handler).parameters.values())[1:]
    names = frozenset(p.name for p in params)
    return names, frozenset(p.name for p in params if p.default is inspect.Parameter.empty)


class Stale(OversightError):
    """A button that no longer belongs to anything the user can do."""

    message = texts.BUTTON_STALE


# --- the dispatcher ------------------------------------------------------------------------


@dataclass
class _Target:
    handler: ButtonHandler
    names: frozenset[str]
    required: frozenset[str]
    flow: Flow[Any] | None = None
    button: str = ""
    command: str | None = None

    def fits(self, args: Mapping[str, Any]) -> bool:
        return args.keys() <= self.names and self.required <= args.keys()


class Dispatcher:
    """Routes commands, buttons and messages to the declared handlers (see the module docstring)."""

    def __init__(self, declared: Sequence[Declared]) -> None:
        self.commands: dict[str, Command] = {}
        self.flows: dict[str, Flow[Any]] = {}
        self.targets: dict[str, _Target] = {}
        self.outside: Outside | None = None
        self._holds: dict[tuple[int, int], asyncio.TimerHandle] = {}
        self._held_tasks: set[asyncio.Future[None]] = set()
        self._target(MENU_ACTION, _Target(self._menu_command, *_keywords(self._menu_command)))
        for item in declared:
            self._add(item)

    def _add(self, item: Declared) -> None:
        for handler in handlers_of([item]):
            if inspect.iscoroutinefunction(handler):
                raise TypeError(f"{handler.__qualname__}: a handler is a plain function (no await in a transaction)")
        if isinstance(item, Command):
            if item.name in self.commands or item.name not in COMMAND_ROLES:
                raise ValueError(f"command /{item.name}: declared twice or not in oversight.access")
            self.commands[item.name] = item
        elif isinstance(item, Outside):
            if self.outside is not None:
                raise ValueError("Outside: declared twice")
            self.outside = item
        elif isinstance(item, Action):
            if item.command not in (None, *COMMAND_ROLES):
                raise ValueError(f"action {item.name}: its command is unknown")
            self._target(item.name, _Target(item.handler, *_keywords(item.handler), command=item.command))
        else:
            self._add_flow(item)

    def _add_flow(self, flow: Flow[Any]) -> None:
        if flow.name in self.flows or "." in flow.name or flow.command not in (None, *COMMAND_ROLES):
            raise ValueError(f"flow {flow.name}: declared twice, dotted, or its command is unknown")
        if {FID, STEP} & {f.name for f in fields(cast(Any, flow.state))}:
            raise ValueError(f"flow {flow.name}: its state may not have a field named {FID} or {STEP}")
        self.flows[flow.name] = flow
        buttons: dict[str, ButtonHandler] = {}
        for step in flow.steps.values():
            for name, handler in step.buttons.items():
                if buttons.setdefault(name, handler) is not handler:
                    raise ValueError(f"flow {flow.name}: button {name} has two handlers")
        for name, handler in buttons.items():
            target = _Target(handler, *_keywords(handler), flow=flow, button=name, command=flow.command)
            self._target(f"{flow.name}.{name}", target)

    def _target(self, name: str, target: _Target) -> None:
        if name in self.targets or "." not in name:
            raise ValueError(f"button action {name}: declared twice, or not a dotted name")
        self.targets[name] = target

    def _menu_command(self, turn: Turn[Any], *, name: str) -> None:
        """A menu button (`menu_button`): the command it names, as if typed without words."""
        cmd = self.commands.get(name)
        if cmd is None:
            raise Stale
        refusal = _refusal(name, turn.member)
        if refusal is not None:
            raise PermissionDeniedError(refusal)
        cmd.handler(cast(Turn[None], turn))

    # --- commands ---

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The callback of the one CommandHandler: the declared command the message names."""
        message = update.effective_message
        assert message is not None and message.text and message.entities  # CommandHandler matched it
        name = message.text[1 : message.entities[0].length].split("@", 1)[0].lower()
        cmd, rest = self.commands[name], message.text.split(maxsplit=1)[1:]
        private = name in PRIVATE_COMMANDS
        try:
            with db(context, read=cmd.read) as session:
                member = member_of(session, update)
                refusal = _refusal(name, member)
                if refusal is None and cmd.bare and rest:
                    raise InvalidInputError(_no_words(name, rest[0]))
                if refusal is None:
                    turn: Turn[None] = Turn(session=session, update=update, member=member, words=context.args or ())
                    turn.text = rest[0].strip() if rest else ""
                    cmd.handler(turn)
                    self._finish(turn, to=None if private else turn.chat_id)
        except OversightError as exc:
            await (answer_private(update, exc.message) if private else reply(update, exc.message))
            return
        if refusal is not None:
            await answer_private(update, refusal)
            return
        if private and not in_private(update):
            await _courtesy(update)
        await self._deliver(update, turn, to=None if private else turn.chat_id)

    # --- buttons ---

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed button: its token's action, for its recipient, at its flow's step."""
        query = update.callback_query
        if query is None:
            return
        try:
            with db(context) as session:
                turn = self._press(session, update, query.data or "", query.from_user.id)
        except OversightError as exc:
            await _answer_query(update, exc.message[:200], alert=True)
            return
        if isinstance(turn, str):
            await _answer_query(update, turn, alert=True)
            return
        await self._deliver(update, turn, to=turn.user_id)
        await _answer_query(update, turn.note[:200] if turn.note else None)

    def _press(self, session: Session, update: Update, data: str, user_id: int) -> Turn[Any] | str:
        """Run the button's handler; for a token that is unknown or not this user's, the answer."""
        token = resolve_token(session=session, token=data)
        if token is None:  # forged or expired: answered, and kept in the audit log (committed)
            who = actor_of(telegram_user_id=user_id)
            audit(session=session, actor=who, action="button.stale", detail={"data": data[:64]})
            return texts.BUTTON_STALE
        if token.user_id is not None and token.user_id != user_id:
            return texts.BUTTON_NOT_YOURS
        if token.action == DONE_ACTION:  # a button whose conversation it ended: what it did
            return str(token.args.get("note", texts.BUTTON_STALE))
        args = dict(token.args)
        fid, step = args.pop(FID, None), args.pop(STEP, None)
        target = self.targets.get(token.action)
        if target is None or not target.fits(args) or (target.flow is not None and (fid is None or step is None)):
            raise Stale
        held = get_flow(session=session, chat_id=user_id, user_id=user_id)
        if held is not None and HELD in held.data:
            # The first part of a long paste is still waiting for the rest: the press would replace
            # or move the conversation under it, so it waits until the text has gone to its step.
            return texts.PASTE_HELD
        turn: Turn[Any] = Turn(session=session, update=update, member=_member(session, update))
        _check_role(target.command, turn.member)
        if target.flow is not None:
            _resume(turn, target.flow, chat_id=user_id, fid=fid, step=step)
            if target.button not in target.flow.steps[turn.step].buttons:
                raise Stale
        target.handler(turn, **args)
        self._finish(turn, to=turn.user_id)
        if turn.ended and turn.done:
            token.action, token.args = DONE_ACTION, {"note": turn.done[:200]}
            session.add(token)
        return turn

    # --- typed text and files ---

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Typed text or an uploaded file: for the step the user's open conversation is at."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or update.effective_user is None:
            return
        outcome: Turn[Any] | str | object | None
        try:
            if message.document is not None or message.photo:
                with db(context, read=True) as session:  # refused before it is fetched,
                    outcome = self._input(session, update, None)
                if outcome is None:  # fetched and checked before the transaction, off the event loop
                    data, name, _ = await download_file(message)
                    upload = Upload(data, name, await asyncio.to_thread(check_file, data=data, filename=name))
                    with db(context) as session:
                        outcome = self._input(session, update, upload)
            else:
                self._unschedule(update)
                with db(context) as session:
                    outcome = self._input(session, update, message.text or "")
                if outcome is FLUSH:  # a first part, held: taken alone if nothing follows
                    self._schedule(update, context)
                    return
        except OversightError as exc:
            await send_text(context.bot, chat.id, exc.message)
            return
        if isinstance(outcome, Turn):
            await self._deliver(update, outcome, to=chat.id)
        elif isinstance(outcome, str) and outcome:
            await send_text(context.bot, chat.id, outcome)

    def _schedule(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        key = _hold_key(update)

        def fire() -> None:
            task = asyncio.ensure_future(self._flush(update, context))
            self._held_tasks.add(task)  # kept until done: a bare task may be collected mid-way
            task.add_done_callback(self._held_tasks.discard)

        self._holds[key] = asyncio.get_running_loop().call_later(HOLD_SECONDS, fire)

    def _unschedule(self, update: Update) -> None:
        handle = self._holds.pop(_hold_key(update), None)
        if handle is not None:
            handle.cancel()

    async def _flush(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A held first part nothing followed: given to its step alone."""
        self._holds.pop(_hold_key(update), None)
        chat = update.effective_chat
        assert chat is not None
        try:
            with db(context) as session:
                outcome = self._input(session, update, FLUSH)
        except OversightError as exc:
            await send_text(context.bot, chat.id, exc.message)
            return
        if isinstance(outcome, Turn):
            await self._deliver(update, outcome, to=chat.id)

    def _hold(self, row: ChatState, update: Update, value: Any) -> str | object | None:
        """The text to give the step (a held part joined in front), or FLUSH when this part is held."""
        data, message = dict(row.data), update.effective_message
        at = message.date.timestamp() if message is not None and message.date else 0.0
        held = data.get(HELD)
        if value is FLUSH:
            return str(held).strip() if held is not None else None
        text = str(value)
        if held is not None:
            # Within the window: the rest of the paste. After a restart lost the timer: still the
            # user's words, kept in front (nothing is dropped).
            text = str(held) + ("" if at - float(data.get(HELD_AT, 0)) <= HOLD_WINDOW else "\n") + text
        if utf16_len(str(value)) >= SPLIT_AT and len(text) < HELD_MAX:
            row.data = {**data, HELD: text, HELD_AT: at}
            row.updated_at = utcnow()
            return FLUSH
        return text.strip()

    def _input(self, session: Session, update: Update, value: Any) -> Turn[Any] | str | object | None:
        """Give `value` to the open step's text or file handler (None: only check it would take a
        file); the answer instead when there is no such step ("": nothing to say)."""
        assert update.effective_chat is not None and update.effective_user is not None
        chat_id = update.effective_chat.id
        row = get_flow(session=session, chat_id=chat_id, user_id=update.effective_user.id)
        flow = self.flows.get(row.flow) if row is not None else None
        member = member_of(session, update)
        if value is FLUSH and flow is None:
            return ""  # the conversation ended meanwhile (/cancel): nothing to give the held part to
        if flow is None:
            if isinstance(value, str):
                value = value.strip()
            if not in_private(update):
                return ""
            if member is None:
                return texts.WELCOME_UNREGISTERED
            if self.outside is None:
                return texts.NOT_IN_FLOW
            if value is None:
                return None  # fetch it, then ask what it is for
            free: Turn[None] = Turn(session=session, update=update, member=member)
            outside = self.outside.text if isinstance(value, str) else self.outside.file
            cast(Callable[[Turn[None], Any], None], outside)(free, value)
            self._finish(free, to=chat_id)
            return free
        turn: Turn[Any] = Turn(session=session, update=update, member=_member(session, update))
        _resume(turn, flow, chat_id=chat_id)
        step = flow.steps[turn.step]
        typed = isinstance(value, str) or value is FLUSH
        handler = step.text if typed else step.file
        if handler is None:
            return texts.USE_BUTTONS if typed else texts.NO_FILE_HERE
        if value is None:
            return None
        if typed:
            assert row is not None
            value = self._hold(row, update, value)
            if value is FLUSH:
                session.add(row)
                return FLUSH
            if value is None:
                return ""  # a timer for a part already taken
        cast(Callable[[Turn[Any], Any], None], handler)(turn, value)
        self._finish(turn, to=chat_id)
        return turn

    # --- after the handler ---

    def _finish(self, turn: Turn[Any], *, to: int | None) -> None:
        """Save the conversation's step and state (or close it), mint the buttons to show and
        note the replies (to `to`, privately if None) for the inbox to keep until they are sent."""
        if turn.flow is not None and turn.ended:
            clear_flow(session=turn.session, chat_id=turn.user_id, user_id=turn.user_id)
        elif turn.flow is not None:
            data = {FID: turn.fid, **asdict(turn.state)}
            set_flow(
                session=turn.session,
                chat_id=turn.user_id,
                user_id=turn.user_id,
                flow=turn.flow.name,
                step=turn.step,
                data=data,
            )
        turn.minted = [(text, self._markup(turn, rows)) for text, rows in turn.out]
        state = CURRENT_UPDATE.get()
        if state is not None:
            target = turn.user_id if to is None else to  # a private answer goes to the user's own chat
            state.replies = [
                {"chat_id": target, "text": text, "buttons": buttons_of(markup)} for text, markup in turn.minted
            ]

    def _markup(self, turn: Turn[Any], rows: Rows) -> InlineKeyboardMarkup | None:
        if not rows:
            return None
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label, callback_data=self._token(turn, b)) for b in row] for row in rows]
        )

    def _token(self, turn: Turn[Any], b: Button) -> str:
        """An opaque token for `b`, bound to the user (and to the flow's id and step, for a step's button)."""
        action, args = b.action, dict(b.args)
        if "." not in action:
            flow = turn.flow
            if flow is None or turn.ended or action not in flow.steps[turn.step].buttons:
                raise ValueError(f"button {b.label!r}: {action!r} is no button of the step the flow is at")
            action, args = f"{flow.name}.{action}", {**args, FID: turn.fid, STEP: turn.step}
        if action not in self.targets:
            raise ValueError(f"button {b.label!r}: no action {action!r} is declared")
        return mint_token(session=turn.session, action=action, args=args, user_id=turn.user_id)

    async def _deliver(self, update: Update, turn: Turn[Any], *, to: int | None) -> None:
        """Run the handler's jobs, then send its replies (privately if `to` is None)."""
        bot = update.get_bot()
        for job in turn.jobs:
            await job(bot)
        state = CURRENT_UPDATE.get()
        mine = state is not None and state.update_id == update.update_id
        for text, markup in turn.minted:
            try:
                if to is None:
                    await answer_private(update, text, reply_markup=markup)
                else:
                    await send_text(bot, to, text, reply_markup=markup)
            except BadRequest:
                raise  # refused: not delivered (a NetworkError subclass, so named first)
            except NetworkError as exc:
                if not (mine and state is not None and state.replies_kept):
                    raise
                # No answer is not no delivery: Telegram may have taken it. The kept answers
                # go by the outbox (mark_processed), this one marked as possibly sent already.
                logger.warning(
                    "update %s: answer %d got no response (%s); left to the outbox",
                    update.update_id,
                    state.replies_sent,
                    exc,
                )
                state.reply_unsure = True
                return
            if mine and state is not None:
                state.replies_sent += 1

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An undeclared /command: say so in private, stay silent in a group."""
        if in_private(update) and update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, texts.UNKNOWN_COMMAND)


def _hold_key(update: Update) -> tuple[int, int]:
    chat, user = update.effective_chat, update.effective_user
    return (chat.id if chat else 0, user.id if user else 0)


def _member(session: Session, update: Update) -> Member:
    """The active member behind the update (a button or a conversation needs one)."""
    member = member_of(session, update)
    if member is None:
        raise PermissionDeniedError(texts.NOT_MEMBER)
    return member


def _check_role(name: str | None, member: Member) -> None:
    """Refuse a member whose role may not use /name (a flow's or a button's command)."""
    if name is not None and not allowed(name, member.role):
        raise PermissionDeniedError(texts.NOT_ALLOWED.format(role=role_label(member.role), command=name))


def _refusal(name: str, member: Member | None) -> str | None:
    """Why the member may not use /name (None: they may)."""
    role = member.role if member else None
    if allowed(name, role):
        return None
    if role is None:
        return texts.NOT_REGISTERED
    return texts.NOT_ALLOWED.format(role=role_label(role), command=name)


def _resume(turn: Turn[Any], flow: Flow[Any], *, chat_id: int, fid: Any = None, step: Any = None) -> None:
    """Load the user's open conversation into `turn`: stale unless it is `flow` (with id `fid`, at
    `step`, for a button) and the member may still use its command."""
    row = get_flow(session=turn.session, chat_id=chat_id, user_id=turn.user_id)
    if row is None or row.flow != flow.name or row.step not in flow.steps:
        raise Stale
    if step is not None and (row.data.get(FID) != fid or row.step != step):
        raise Stale
    _check_role(flow.command, turn.member)
    turn.flow, turn.step, turn.fid = flow, row.step, str(row.data.get(FID, ""))
    turn.state = flow.load(row.data)


def _no_words(name: str, words: str) -> str:
    """The answer to words after a command that takes none: what to send instead."""
    shown = words.strip()
    shown = shown if len(shown) <= 20 else shown[:19] + "…"
    what = texts.COMMAND_WHAT.get(name)
    return texts.COMMAND_NO_WORDS.format(name=name, words=shown, what=f" 即可{what}" if what else "")


async def _courtesy(update: Update) -> None:
    """In a group, say that the answer to a unit's business comes in private."""
    assert update.effective_chat is not None
    try:
        await update.get_bot().send_message(update.effective_chat.id, texts.PRIVATE_ONLY)
    except Exception:  # noqa: BLE001 - the group reply is a courtesy; the work goes on
        logger.warning("update %s: could not answer in group %s", update.update_id, update.effective_chat.id)


async def _answer_query(update: Update, text: str | None, *, alert: bool = False) -> None:
    assert update.callback_query is not None
    try:
        await update.callback_query.answer(text, show_alert=alert)
    except Exception:  # noqa: BLE001 - an unanswered spinner is cosmetic
        logger.debug("update %s: answerCallbackQuery failed", update.update_id)


def outbox_buttons(session: Session, rows: Rows, *, user_id: int | None) -> list[list[dict[str, str]]]:
    """Buttons of dotted actions, minted for a message queued in the outbox ({text, token} rows)."""
    return [
        [
            {"text": b.label, "token": mint_token(session=session, action=b.action, args=dict(b.args), user_id=user_id)}
            for b in row
        ]
        for row in rows
    ]


def markup_of(rows: list[list[dict[str, str]]]) -> InlineKeyboardMarkup | None:
    """An inline keyboard from outbox-style rows of {text, token}."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["token"]) for b in r] for r in rows])
