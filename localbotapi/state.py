"""In-memory state of the local Bot API server: bots, chats, transcripts, files, faults."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ApiError", "Entry", "Faults", "RequestRecord", "SimChat", "SimError", "StoredFile"]

BOT_USERNAME = "lianxi_bot"
BOT_FIRST_NAME = "联席会议助手"

# Update types delivered when allowed_updates is empty (Telegram's documented default).
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


class ApiError(Exception):
    """A Bot API error answered as {"ok": false, "error_code": ..., "description": ...}."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class SimError(RuntimeError):
    """The simulated user tried something a real Telegram client could not do."""


@dataclass
class Faults:
    """Fault injection for bot-facing calls; rates are probabilities drawn per request."""

    rate_429: float = 0.0
    retry_after: int = 1
    rate_5xx: float = 0.0
    rate_drop: float = 0.0
    delay: float = 0.0
    methods: set[str] | frozenset[str] | list[str] | None = None
    include_get_updates: bool = False
    # Process the call, then lose the response: the message exists but the bot sees an error.
    rate_drop_after: float = 0.0
    json_5xx: bool = False

    def applies_to(self, method: str) -> bool:
        """Whether this fault configuration covers the (case-insensitive) method."""
        name = method.lower()
        if self.methods is not None:
            return name in {m.lower() for m in self.methods}
        return name != "getupdates" or self.include_get_updates

    def to_dict(self) -> dict:
        data = asdict(self)
        data["methods"] = sorted(self.methods) if self.methods is not None else None
        return data


@dataclass(frozen=True)
class RequestRecord:
    """One bot-facing HTTP call as the server saw it; status 0 means the connection was dropped."""

    method: str
    bot_id: int | None
    status: int
    at: float
    duration: float
    chat_id: int | str | None = None


@dataclass
class Entry:
    """A message in a chat transcript; seq changes on every edit or deletion."""

    message: dict
    from_bot: bool
    seq: int
    deleted: bool = False
    reply_keyboard: dict | None = None

    def flat(self) -> dict:
        data = copy.deepcopy(self.message)
        data["from_bot"] = self.from_bot
        data["seq"] = self.seq
        data["deleted"] = self.deleted
        if self.reply_keyboard is not None:
            data["reply_keyboard"] = copy.deepcopy(self.reply_keyboard)
        return data


@dataclass
class SimChat:
    """A chat as the server knows it: private (id == user id) or a group (negative id)."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    bot_member: bool = True
    blocked: bool = False
    next_message_id: int = 1
    transcript: list[Entry] = field(default_factory=list)
    by_id: dict[int, Entry] = field(default_factory=dict)
    last_user_seq: int = 0
    wait_cursor: int = 0  # seq of the message the last wait_for returned
    reply_keyboard: dict | None = None
    chat_actions: list[str] = field(default_factory=list)
    pinned: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name or ""
            if self.username:
                data["username"] = self.username
        else:
            data["title"] = self.title or ""
        return data


@dataclass
class StoredFile:
    """An uploaded file; bytes live in memory or under files_dir."""

    file_id: str
    file_unique_id: str
    file_path: str
    size: int
    data: bytes | None = None
    disk_path: Any = None
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        return self.disk_path.read_bytes()

    def as_document(self) -> dict:
        doc: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": self.size}
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc

    def as_file(self) -> dict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


class Notifier:
    """Wakes every waiter on notify(); waiters that arrive later wait for the next one."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), max(timeout, 0))
        except TimeoutError:
            return False
        return True


@dataclass
class QueuedUpdate:
    update: dict
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return self.update["update_id"]

    @property
    def kind(self) -> str:
        return next(k for k in self.update if k != "update_id")


@dataclass
class CallbackRecord:
    query: dict
    chat_id: int | None
    answered: bool = False


@dataclass
class BotState:
    """Everything one bot (one token) sees; bots on the same server never share it."""

    id: int | None
    secret: str | None = None
    next_update_id: int = 1
    queue: list[QueuedUpdate] = field(default_factory=list)
    history: dict[int, dict] = field(default_factory=dict)
    notifier: Notifier = field(default_factory=Notifier)
    poll_generation: int = 0
    allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
    webhook: dict = field(default_factory=dict)
    webhook_queue: asyncio.Queue | None = None
    webhook_task: asyncio.Task | None = None
    commands: dict[tuple, list[dict]] = field(default_factory=dict)
    menu_buttons: dict[int | None, dict] = field(default_factory=dict)
    chats: dict[int, SimChat] = field(default_factory=dict)
    callbacks: dict[str, CallbackRecord] = field(default_factory=dict)
    callback_answers: list[dict] = field(default_factory=list)
    users: dict[int, dict] = field(default_factory=dict)
    # Everything the bot gave people to read, as sent and as edited (BotApiServer.said).
    said: list[str] = field(default_factory=list)

    def user_dict(self) -> dict:
        return {"id": self.id or 0, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}
