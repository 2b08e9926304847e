"""A local Telegram Bot API server (aiohttp, in-memory) with a simulated user side."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import math
import mimetypes
import random
import re
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from .entities import EntityParseError, auto_entities, parse_text, utf16_len
from .state import (
    BOT_USERNAME,
    DEFAULT_UPDATE_TYPES,
    ApiError,
    BotState,
    CallbackRecord,
    Entry,
    Faults,
    Notifier,
    QueuedUpdate,
    RequestRecord,
    SimChat,
    SimError,
    StoredFile,
)

__all__ = ["BotApiServer", "SimUser"]

logger = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_UPLOAD = 50 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024

_TOKEN_RE = re.compile(r"^(\d+):(\S+)$")
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_JSON_PARAMS = {
    "reply_markup",
    "reply_parameters",
    "link_preview_options",
    "entities",
    "caption_entities",
    "allowed_updates",
    "commands",
    "scope",
    "menu_button",
    "message_ids",
}

Handler = Callable[[BotState, dict, dict], Awaitable[Any]]


class _Dropped(Exception):
    """The connection must be closed without an answer."""


def _redact(path: str) -> str:
    return re.sub(r"/bot[^/]+", "/bot<redacted>", path, count=1)


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF or JPEG image; None when it is not one."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + length
        return 0, 0
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return 0, 0
    return None


def _readable(content: dict) -> list[str]:
    """What a person reads of a message (or of an edit's changes): its text or caption, the name of
    its file, the labels of its buttons."""
    out = [str(content[key]) for key in ("text", "caption") if content.get(key)]
    name = (content.get("document") or {}).get("file_name")
    if name:
        out.append(str(name))
    for row in (content.get("reply_markup") or {}).get("inline_keyboard", []):
        out += [str(button.get("text") or "") for button in row]
    return out


class BotApiServer:
    """Local Bot API server; bots talk HTTP to it, tests drive users through SimUser."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        files_dir: Path | None = None,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.port = port
        self.files_dir = Path(files_dir) if files_dir is not None else None
        self.faults = Faults()
        self.max_upload_bytes = MAX_UPLOAD
        self.privacy_mode = False
        # Opt-in Telegram flood control (strict mode): 30 messages/s per bot, 1/s per chat,
        # 20 messages/min per group: a message over a limit is answered 429 with the rest of
        # that limit's window as retry_after. hold_chat() floods one chat on demand.
        self.flood_control = False
        # The group limit (messages, seconds); a test may shorten the minute to see it in seconds.
        self.group_limit: tuple[int, float] = (20, 60.0)
        self._sent_times: dict[tuple, deque[float]] = {}
        self._chat_holds: dict[int, float] = {}
        self.monotonic: Callable[[], float] = time.monotonic  # the flood control's clock
        self.requests: list[RequestRecord] = []
        self.updates_delivered = 0
        self._clock = clock
        self._rng = random.Random(seed)
        self._offline = False
        self._stopping = False
        self._bots: dict[int, BotState] = {}
        self._default: BotState | None = None
        self._files: dict[str, StoredFile] = {}
        self._file_paths: dict[str, str] = {}
        self._seq = 0
        self._changed = Notifier()  # anything changed (a callback answered, a message anywhere)
        # A chat's messages changed: its waiters only (wait_for). Hundreds of contacts waiting
        # for their replies are not all woken by every message sent anywhere, which cost the
        # simulation, in the bot's own process, more than the bot (bench/burst.py).
        self._chat_changed: dict[int, Notifier] = {}
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._methods: dict[str, Handler] = {
            name.removeprefix("_m_").lower(): getattr(self, name) for name in dir(self) if name.startswith("_m_")
        }

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind the port and start serving."""
        app = web.Application(client_max_size=self.max_upload_bytes + 2 * 1024 * 1024)
        app.router.add_route("*", r"/bot{token}/{method}", self._handle_api)
        app.router.add_get(r"/file/bot{token}/{path:.+}", self._handle_file)
        self._add_sim_routes(app)
        # The access log would print tokens; we log our own redacted line per request.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = server.sockets if isinstance(server, asyncio.Server) else []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self._session = aiohttp.ClientSession()
        self._stopping = False

    async def stop(self) -> None:
        """Wake long polls, stop webhook delivery and close the server."""
        self._stopping = True
        for bot in self._all_bots():
            bot.notifier.notify()
            if bot.webhook_task:
                bot.webhook_task.cancel()
        self._changed.notify()
        for notifier in self._chat_changed.values():
            notifier.notify()
        if self._session:
            await self._session.close()
            self._session = None
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.url}/bot"

    @property
    def file_base(self) -> str:
        return f"{self.url}/file/bot"

    # ----------------------------------------------------------------- bots and chats

    def _all_bots(self) -> list[BotState]:
        bots = list(self._bots.values())
        if self._default is not None and self._default not in bots:
            bots.append(self._default)
        return bots

    def _bot(self, bot_id: int | None = None) -> BotState:
        """The state of one bot; None is the first bot (created as a placeholder if needed)."""
        if bot_id is None:
            if self._default is None:
                self._default = self._new_bot_state(None)
            return self._default
        state = self._bots.get(bot_id)
        if state is None:
            if self._default is not None and self._default.id is None:
                state = self._default
                state.id = bot_id
            else:
                state = self._new_bot_state(bot_id)
                if self._default is None:
                    self._default = state
            self._bots[bot_id] = state
        return state

    def _new_bot_state(self, bot_id: int | None) -> BotState:
        return BotState(id=bot_id, next_update_id=self._rng.randint(100_000_000, 900_000_000))

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _chat(self, bot: BotState, chat_id: int) -> SimChat | None:
        return bot.chats.get(chat_id)

    def _private_chat(self, bot: BotState, user: dict) -> SimChat:
        chat = bot.chats.get(user["id"])
        if chat is None:
            chat = SimChat(
                id=user["id"], type="private", first_name=user.get("first_name"), username=user.get("username")
            )
            chat.members[user["id"]] = "member"
            bot.chats[chat.id] = chat
        return chat

    def _add_message(self, bot: BotState, chat: SimChat, sender: dict, *, from_bot: bool, content: dict) -> Entry:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message = {
            "message_id": message_id,
            "from": copy.deepcopy(sender),
            "chat": chat.as_dict(),
            "date": int(self._clock()),
            **content,
        }
        entry = Entry(message=message, from_bot=from_bot, seq=self._next_seq())
        chat.transcript.append(entry)
        chat.by_id[message_id] = entry
        if not from_bot:
            chat.last_user_seq = entry.seq
        self._notify_chat(chat.id)
        return entry

    def _touch(self, entry: Entry) -> None:
        entry.seq = self._next_seq()
        self._notify_chat(int(entry.message["chat"]["id"]))

    def _notify_chat(self, chat_id: int) -> None:
        self._changed.notify()
        notifier = self._chat_changed.get(chat_id)
        if notifier is not None:
            notifier.notify()

    def _chat_notifier(self, chat_id: int) -> Notifier:
        return self._chat_changed.setdefault(chat_id, Notifier())

    def _enqueue(self, bot: BotState, kind: str, payload: dict) -> dict:
        update: dict[str, Any] = {"update_id": bot.next_update_id, kind: copy.deepcopy(payload)}
        bot.next_update_id += 1
        bot.history[update["update_id"]] = update
        self._queue_update(bot, update)
        return update

    def _queue_update(self, bot: BotState, update: dict) -> None:
        if bot.webhook.get("url") and bot.webhook_queue is not None:
            bot.webhook_queue.put_nowait(update)
        else:
            bot.queue.append(QueuedUpdate(update=copy.deepcopy(update)))
        bot.notifier.notify()

    # ----------------------------------------------------------------- HTTP: Bot API

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        method = request.match_info["method"]
        token = request.match_info["token"]
        bot: BotState | None = None
        chat_id: Any = None
        try:
            match = _TOKEN_RE.match(token)
            if not match:
                raise ApiError(404, "Not Found")
            bot = self._bot(int(match.group(1)))
            if bot.secret is None:
                bot.secret = match.group(2)
            elif bot.secret != match.group(2):
                raise ApiError(401, "Unauthorized")
            await self._inject_faults(method)
            handler = self._methods.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            params, files = await self._read_params(request)
            chat_id = params.get("chat_id")
            result = await handler(bot, params, files)
            if (
                self.faults.rate_drop_after
                and self.faults.applies_to(method)
                and self._rng.random() < self.faults.rate_drop_after
            ):
                raise _Dropped
            status, body = 200, {"ok": True, "result": result}
        except _Dropped:
            self._record(method, bot, 0, started, chat_id, request.path)
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError from None
        except _FiveXX as exc:
            self._record(method, bot, 502, started, chat_id, request.path)
            if exc.json_body:
                return web.json_response({"ok": False, "error_code": 502, "description": "Bad Gateway"}, status=502)
            return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")
        except ApiError as exc:
            status, body = exc.code, exc.envelope()
        self._record(method, bot, status, started, chat_id, request.path)
        return web.json_response(body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))

    def _record(self, method: str, bot: BotState | None, status: int, started: float, chat_id: Any, path: str) -> None:
        duration = time.monotonic() - started
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id) if chat_id is not None else None
        self.requests.append(
            RequestRecord(
                method=method,
                bot_id=bot.id if bot else None,
                status=status,
                at=time.time(),
                duration=duration,
                chat_id=chat_id,
            )
        )
        logger.info("%s -> %s (%.1f ms)", _redact(path), status or "dropped", duration * 1000)

    async def _inject_faults(self, method: str) -> None:
        if self._offline:
            raise _Dropped
        faults = self.faults
        if not faults.applies_to(method):
            return
        if faults.delay:
            await asyncio.sleep(faults.delay)
        roll = self._rng.random()
        if roll < faults.rate_drop:
            raise _Dropped
        roll -= faults.rate_drop
        if roll < faults.rate_429:
            raise ApiError(
                429, f"Too Many Requests: retry after {faults.retry_after}", {"retry_after": faults.retry_after}
            )
        roll -= faults.rate_429
        if roll < faults.rate_5xx:
            raise _FiveXX(faults.json_5xx)

    async def _read_params(self, request: web.Request) -> tuple[dict, dict]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, web.FileField] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise ApiError(400, "Bad Request: can't parse JSON") from exc
                if isinstance(body, dict):
                    params.update(body)
            else:
                try:
                    form = await request.post()
                except web.HTTPRequestEntityTooLarge as exc:
                    raise ApiError(413, "Request Entity Too Large") from exc
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = value
                    else:
                        params[key] = value
        for key in _JSON_PARAMS & params.keys():
            if isinstance(params[key], str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError as exc:
                    raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from exc
        return params, files

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        match = _TOKEN_RE.match(request.match_info["token"])
        bot = self._bot(int(match.group(1))) if match else None
        try:
            await self._inject_faults("getFileContent")
        except _Dropped:
            self._record("file", bot, 0, started, None, request.path)
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError from None
        except (ApiError, _FiveXX):
            pass
        file_id = self._file_paths.get(request.match_info["path"])
        if not match or file_id is None:
            self._record("file", bot, 404, started, None, request.path)
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        stored = self._files[file_id]
        self._record("file", bot, 200, started, None, request.path)
        return web.Response(body=stored.read(), content_type=stored.mime_type or "application/octet-stream")

    # ----------------------------------------------------------------- parameter helpers

    @staticmethod
    def _int(params: dict, name: str, default: int | None = None) -> int | None:
        value = params.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, f"Bad Request: invalid {name} specified") from exc

    @staticmethod
    def _bool(params: dict, name: str) -> bool:
        value = params.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def _target_chat(self, bot: BotState, params: dict, *, sending: bool = True) -> SimChat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "Bad Request: chat not found") from exc
        chat = bot.chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if sending:
            if chat.type == "private" and chat.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if chat.type != "private" and not chat.bot_member:
                raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    def _entry(self, chat: SimChat, params: dict, verb: str) -> Entry:
        message_id = self._int(params, "message_id")
        if message_id is None:
            if params.get("inline_message_id"):
                raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
            raise ApiError(400, "Bad Request: message identifier is not specified")
        entry = chat.by_id.get(message_id)
        if entry is None or entry.deleted:
            raise ApiError(400, f"Bad Request: message to {verb} not found")
        return entry

    def _text(
        self, params: dict, key: str, mode_key: str, entities_key: str, limit: int, too_long: str
    ) -> tuple[str, list[dict]]:
        raw = params.get(key)
        raw = "" if raw is None else str(raw)
        try:
            plain, entities = parse_text(raw, params.get(mode_key), params.get(entities_key))
        except EntityParseError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        if utf16_len(plain) > limit:
            raise ApiError(400, too_long)
        return plain, entities

    def _markup(self, params: dict) -> tuple[dict | None, dict | None]:
        """(inline keyboard for the message, reply keyboard change for the chat)."""
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None, None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: InlineKeyboardMarkup must be an Array of Arrays",
                )
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise ApiError(
                            400,
                            "Bad Request: can't parse inline keyboard button: "
                            "Text buttons are unallowed in the inline keyboard",
                        )
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                    if "url" in button and not str(button["url"]).strip():
                        raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
            return ({"inline_keyboard": rows} if any(rows) else None), None
        if "keyboard" in markup or markup.get("remove_keyboard") or "force_reply" in markup:
            return None, markup
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")

    def _reply_to(self, chat: SimChat, params: dict) -> dict | None:
        reply = params.get("reply_parameters")
        message_id = self._int(params, "reply_to_message_id")
        allow = self._bool(params, "allow_sending_without_reply")
        if isinstance(reply, dict):
            message_id = reply.get("message_id", message_id)
            allow = bool(reply.get("allow_sending_without_reply", allow))
        if message_id is None:
            return None
        entry = chat.by_id.get(int(message_id))
        if entry is None or entry.deleted:
            if allow:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        replied = copy.deepcopy(entry.message)
        replied.pop("reply_to_message", None)
        return replied

    def _send(self, bot: BotState, chat: SimChat, params: dict, content: dict) -> dict:
        """Record a bot message in the chat and return it as the API result."""
        self._check_flood(bot, chat)
        inline, reply_keyboard = self._markup(params)
        replied = self._reply_to(chat, params)
        if inline:
            content["reply_markup"] = inline
        if replied:
            content["reply_to_message"] = replied
        if self._bool(params, "protect_content"):
            content["has_protected_content"] = True
        entry = self._add_message(bot, chat, bot.user_dict(), from_bot=True, content=content)
        bot.said += _readable(entry.message)
        if reply_keyboard is not None:
            entry.reply_keyboard = reply_keyboard
            chat.reply_keyboard = None if reply_keyboard.get("remove_keyboard") else reply_keyboard
        return copy.deepcopy(entry.message)

    def hold_chat(self, chat_id: int, seconds: int) -> None:
        """Answer 429 (retry_after: what is left of `seconds`) to every bot message to the chat
        for `seconds`, as Telegram does to a flooded chat; works with flood control off too."""
        self._chat_holds[int(chat_id)] = self.monotonic() + seconds

    def _check_flood(self, bot: BotState, chat: SimChat) -> None:
        now = self.monotonic()
        held = self._chat_holds.get(chat.id)
        if held is not None:
            if now < held:
                retry = max(1, math.ceil(held - now))
                raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
            del self._chat_holds[chat.id]
        if not self.flood_control:
            return
        windows = [((bot.id, None), 30, 1.0), ((bot.id, chat.id, "s"), 1, 1.0)]
        if chat.type != "private":
            windows.append(((bot.id, chat.id), *self.group_limit))
        for key, limit, span in windows:
            times = self._sent_times.setdefault(key, deque())
            while times and now - times[0] >= span:
                times.popleft()
            if len(times) >= limit:
                retry = max(1, math.ceil(span - (now - times[0])))
                raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        for key, _, _ in windows:
            self._sent_times[key].append(now)

    def _caption(self, params: dict) -> dict:
        caption, entities = self._text(
            params, "caption", "parse_mode", "caption_entities", MAX_CAPTION, "Bad Request: message caption is too long"
        )
        content: dict[str, Any] = {}
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return content

    # ----------------------------------------------------------------- files

    def _new_file_id(self, prefix: str) -> tuple[str, str]:
        body = f"{self._rng.getrandbits(128):032x}"
        return f"{prefix}{body}", f"AgAD{body[:12]}"

    def store_file(
        self, data: bytes, *, file_name: str | None, mime_type: str | None, kind: str = "documents"
    ) -> StoredFile:
        """Keep uploaded bytes and make them retrievable by file_id and file_path."""
        if len(data) > self.max_upload_bytes:
            raise ApiError(413, "Request Entity Too Large")
        file_id, unique_id = self._new_file_id("AgAC" if kind == "photos" else "BQAC")
        suffix = Path(file_name).suffix if file_name else (mimetypes.guess_extension(mime_type or "") or "")
        file_path = f"{kind}/file_{len(self._files)}{suffix}"
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            file_path=file_path,
            size=len(data),
            file_name=file_name,
            mime_type=mime_type,
        )
        if self.files_dir is not None:
            disk = self.files_dir / file_path
            disk.parent.mkdir(parents=True, exist_ok=True)
            disk.write_bytes(data)
            stored.disk_path = disk
        else:
            stored.data = bytes(data)
        self._files[file_id] = stored
        self._file_paths[file_path] = file_id
        return stored

    def _photo_sizes(self, data: bytes, *, file_name: str | None, mime_type: str | None) -> list[dict]:
        size = _image_size(data)
        if size is None:
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        width, height = size if size != (0, 0) else (1280, 720)
        stored = self.store_file(data, file_name=file_name, mime_type=mime_type, kind="photos")
        stored.width, stored.height = width, height
        sizes = []
        if max(width, height) > 320:
            scale = 320 / max(width, height)
            thumb = self.store_file(data, file_name=file_name, mime_type=mime_type, kind="photos")
            thumb.width, thumb.height = max(1, int(width * scale)), max(1, int(height * scale))
            sizes.append(thumb)
        sizes.append(stored)
        return [
            {
                "file_id": s.file_id,
                "file_unique_id": s.file_unique_id,
                "file_size": s.size,
                "width": s.width,
                "height": s.height,
            }
            for s in sizes
        ]

    def _input_file(
        self, params: dict, files: dict, field: str
    ) -> tuple[StoredFile | None, bytes | None, str | None, str | None]:
        """(known file, or new bytes with file name and mime type) for an upload field."""
        value = params.get(field)
        part = files.get(field)
        if part is None and isinstance(value, str) and value.startswith("attach://"):
            part = files.get(value.removeprefix("attach://"))
            if part is None:
                raise ApiError(400, f"Bad Request: {field} attach not found")
        if part is not None:
            data = part.file.read()
            if len(data) > self.max_upload_bytes:
                raise ApiError(413, "Request Entity Too Large")
            return None, data, part.filename, part.content_type
        if isinstance(value, str) and value:
            stored = self._files.get(value)
            if stored is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            return stored, None, None, None
        raise ApiError(400, f"Bad Request: there is no {field} in the request")

    # ----------------------------------------------------------------- Bot API methods

    async def _m_getMe(self, bot: BotState, params: dict, files: dict) -> dict:
        return {
            **bot.user_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_logOut(self, bot: BotState, params: dict, files: dict) -> bool:
        return True

    async def _m_close(self, bot: BotState, params: dict, files: dict) -> bool:
        return True

    async def _m_getUpdates(self, bot: BotState, params: dict, files: dict) -> list[dict]:
        if bot.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = self._int(params, "offset", 0) or 0
        limit = min(max(self._int(params, "limit", 100) or 100, 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES
        # Confirmation: an update is confirmed once getUpdates asks for a higher offset.
        # Only delivered ones are dropped, so a redelivered duplicate still goes out once.
        if offset > 0:
            bot.queue = [q for q in bot.queue if not (q.delivered and q.update_id < offset)]
        elif offset < 0:
            bot.queue = bot.queue[offset:]
        bot.poll_generation += 1
        generation = bot.poll_generation
        bot.notifier.notify()  # an older long poll of this bot ends with 409 Conflict
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            bot.queue = [q for q in bot.queue if q.kind in bot.allowed_updates]
            ready = [q for q in bot.queue if not q.delivered or q.update_id >= offset]
            remaining = deadline - asyncio.get_running_loop().time()
            if ready or remaining <= 0 or self._stopping:
                break
            await bot.notifier.wait(remaining)
            if bot.poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
        batch = sorted(ready, key=lambda q: q.update_id)[:limit]
        for queued in batch:
            queued.delivered = True
        self.updates_delivered += len(batch)
        return [copy.deepcopy(q.update) for q in batch]

    async def _m_setWebhook(self, bot: BotState, params: dict, files: dict) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._m_deleteWebhook(bot, params, files)
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if self._bool(params, "drop_pending_updates"):
            bot.queue.clear()
        bot.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "max_connections": self._int(params, "max_connections", 40),
        }
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES
        if bot.webhook_queue is None:
            bot.webhook_queue = asyncio.Queue()
        for queued in bot.queue:
            bot.webhook_queue.put_nowait(queued.update)
        bot.queue.clear()
        if bot.webhook_task is None or bot.webhook_task.done():
            bot.webhook_task = asyncio.create_task(self._webhook_worker(bot))
        return True

    async def _m_deleteWebhook(self, bot: BotState, params: dict, files: dict) -> bool:
        if bot.webhook_task:
            bot.webhook_task.cancel()
            bot.webhook_task = None
        pending = []
        while bot.webhook_queue is not None and not bot.webhook_queue.empty():
            pending.append(bot.webhook_queue.get_nowait())
        bot.webhook = {}
        if self._bool(params, "drop_pending_updates"):
            bot.queue.clear()
        else:
            bot.queue.extend(QueuedUpdate(update=u) for u in pending)
        return True

    async def _m_getWebhookInfo(self, bot: BotState, params: dict, files: dict) -> dict:
        pending = bot.webhook_queue.qsize() if bot.webhook.get("url") and bot.webhook_queue else len(bot.queue)
        info: dict[str, Any] = {
            "url": bot.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }
        for key in ("max_connections", "last_error_date", "last_error_message"):
            if bot.webhook.get(key) is not None:
                info[key] = bot.webhook[key]
        return info

    async def _webhook_worker(self, bot: BotState) -> None:
        """POST queued updates to the webhook one at a time, retrying like Telegram does: an
        update not answered with a 2xx is sent again (backing off to once a second) until it
        is, or until the webhook is removed."""
        assert bot.webhook_queue is not None
        while True:
            update = await bot.webhook_queue.get()
            headers = {}
            if bot.webhook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = bot.webhook["secret_token"]
            attempt = 0
            while True:
                attempt += 1
                try:
                    assert self._session is not None
                    async with self._session.post(bot.webhook["url"], json=update, headers=headers) as response:
                        if response.status < 300:
                            self.updates_delivered += 1
                            break
                        error = f"Wrong response from the webhook: {response.status}"
                except (aiohttp.ClientError, OSError) as exc:
                    error = f"Connection failed: {exc!r}"
                bot.webhook["last_error_date"] = int(self._clock())
                bot.webhook["last_error_message"] = error
                await asyncio.sleep(min(0.05 * 2**attempt, 1.0))

    async def _m_sendMessage(self, bot: BotState, params: dict, files: dict) -> dict:
        chat = self._target_chat(bot, params)
        if not str(params.get("text") or "").strip():
            raise ApiError(400, "Bad Request: message text is empty")
        text, entities = self._text(
            params, "text", "parse_mode", "entities", MAX_TEXT, "Bad Request: message is too long"
        )
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        return self._send(bot, chat, params, content)

    async def _m_sendDocument(self, bot: BotState, params: dict, files: dict) -> dict:
        chat = self._target_chat(bot, params)
        content = self._caption(params)
        known, data, file_name, mime_type = self._input_file(params, files, "document")
        if known is None:
            assert data is not None
            if mime_type in (None, "application/octet-stream") and file_name:
                mime_type = mimetypes.guess_type(file_name)[0] or mime_type
            known = self.store_file(data, file_name=file_name, mime_type=mime_type)
        content["document"] = known.as_document()
        return self._send(bot, chat, params, content)

    async def _m_sendPhoto(self, bot: BotState, params: dict, files: dict) -> dict:
        chat = self._target_chat(bot, params)
        content = self._caption(params)
        known, data, file_name, mime_type = self._input_file(params, files, "photo")
        if known is not None:
            data, file_name, mime_type = known.read(), known.file_name, known.mime_type
        assert data is not None
        content["photo"] = self._photo_sizes(data, file_name=file_name, mime_type=mime_type)
        return self._send(bot, chat, params, content)

    async def _m_sendChatAction(self, bot: BotState, params: dict, files: dict) -> bool:
        chat = self._target_chat(bot, params)
        action = str(params.get("action") or "")
        if action not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        chat.chat_actions.append(action)
        return True

    async def _m_editMessageText(self, bot: BotState, params: dict, files: dict) -> dict:
        chat = self._target_chat(bot, params)
        entry = self._entry(chat, params, "edit")
        if not entry.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        if "text" not in entry.message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if not str(params.get("text") or "").strip():
            raise ApiError(400, "Bad Request: message text is empty")
        text, entities = self._text(
            params, "text", "parse_mode", "entities", MAX_TEXT, "Bad Request: message is too long"
        )
        inline, _ = self._markup(params)
        return self._edit(bot, entry, {"text": text, "entities": entities or None, "reply_markup": inline})

    async def _m_editMessageCaption(self, bot: BotState, params: dict, files: dict) -> dict:
        chat = self._target_chat(bot, params)
        entry = self._entry(chat, params, "edit")
        if not entry.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        content = self._caption(params)
        inline, _ = self._markup(params)
        return self._edit(
            bot,
            entry,
            {
                "caption": content.get("caption"),
                "caption_entities": content.get("caption_entities"),
                "reply_markup": inline,
            },
        )

    async def _m_editMessageReplyMarkup(self, bot: BotState, params: dict, files: dict) -> dict:
        chat = self._target_chat(bot, params)
        entry = self._entry(chat, params, "edit")
        if not entry.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        inline, _ = self._markup(params)
        return self._edit(bot, entry, {"reply_markup": inline})

    def _edit(self, bot: BotState, entry: Entry, changes: dict) -> dict:
        message = entry.message
        if all(message.get(key) == value for key, value in changes.items()):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same as a current "
                "content and reply markup of the message",
            )
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(self._clock())
        self._touch(entry)
        bot.said += _readable(changes)
        return copy.deepcopy(message)

    async def _m_deleteMessage(self, bot: BotState, params: dict, files: dict) -> bool:
        chat = self._target_chat(bot, params, sending=False)
        entry = self._entry(chat, params, "delete")
        entry.deleted = True
        self._touch(entry)
        return True

    async def _m_deleteMessages(self, bot: BotState, params: dict, files: dict) -> bool:
        chat = self._target_chat(bot, params, sending=False)
        for message_id in params.get("message_ids") or []:
            entry = chat.by_id.get(int(message_id))
            if entry is not None and not entry.deleted:
                entry.deleted = True
                self._touch(entry)
        return True

    async def _m_answerCallbackQuery(self, bot: BotState, params: dict, files: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        record = bot.callbacks.get(query_id)
        if record is None or record.answered:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        record.answered = True
        if params.get("text"):
            bot.said.append(str(params["text"]))
        bot.callback_answers.append(
            {
                "callback_query_id": query_id,
                "text": params.get("text"),
                "show_alert": self._bool(params, "show_alert"),
                "url": params.get("url"),
                "user_id": record.query["from"]["id"],
                "chat_id": record.chat_id,
                "seq": self._next_seq(),
            }
        )
        self._changed.notify()
        return True

    async def _m_pinChatMessage(self, bot: BotState, params: dict, files: dict) -> bool:
        chat = self._target_chat(bot, params)
        entry = self._entry(chat, params, "pin")
        chat.pinned.append(entry.message["message_id"])
        return True

    async def _m_unpinChatMessage(self, bot: BotState, params: dict, files: dict) -> bool:
        chat = self._target_chat(bot, params)
        message_id = self._int(params, "message_id")
        if message_id is None:
            chat.pinned[-1:] = []
        elif message_id in chat.pinned:
            chat.pinned.remove(message_id)
        return True

    async def _m_getFile(self, bot: BotState, params: dict, files: dict) -> dict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.size > MAX_DOWNLOAD:
            raise ApiError(400, "Bad Request: file is too big")
        return stored.as_file()

    @staticmethod
    def _scope_key(scope: Any, language_code: Any = None) -> tuple:
        if scope is None or scope == "":
            scope = {"type": "default"}
        elif isinstance(scope, str):
            scope = {"type": scope}
        elif hasattr(scope, "to_dict"):
            scope = scope.to_dict()
        if not isinstance(scope, dict) or "type" not in scope:
            raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
        chat_id = scope.get("chat_id")
        user_id = scope.get("user_id")
        return (
            scope["type"],
            int(chat_id) if chat_id is not None else None,
            int(user_id) if user_id is not None else None,
            language_code or "",
        )

    async def _m_setMyCommands(self, bot: BotState, params: dict, files: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        cleaned = []
        for command in commands:
            name = str(command.get("command", "")).removeprefix("/")
            description = str(command.get("description", ""))
            if not _COMMAND_NAME_RE.match(name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        bot.said += [c["description"] for c in cleaned]
        bot.commands[self._scope_key(params.get("scope"), params.get("language_code"))] = cleaned
        return True

    async def _m_getMyCommands(self, bot: BotState, params: dict, files: dict) -> list[dict]:
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(bot.commands.get(key, []))

    async def _m_deleteMyCommands(self, bot: BotState, params: dict, files: dict) -> bool:
        bot.commands.pop(self._scope_key(params.get("scope"), params.get("language_code")), None)
        return True

    async def _m_setChatMenuButton(self, bot: BotState, params: dict, files: dict) -> bool:
        chat_id = self._int(params, "chat_id")
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
            raise ApiError(400, "Bad Request: can't parse menu button JSON object")
        bot.menu_buttons[chat_id] = button
        return True

    async def _m_getChatMenuButton(self, bot: BotState, params: dict, files: dict) -> dict:
        chat_id = self._int(params, "chat_id")
        return copy.deepcopy(bot.menu_buttons.get(chat_id) or bot.menu_buttons.get(None) or {"type": "commands"})

    async def _m_getChat(self, bot: BotState, params: dict, files: dict) -> dict:
        chat = self._target_chat(bot, params, sending=False)
        return {
            **chat.as_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _m_getChatMember(self, bot: BotState, params: dict, files: dict) -> dict:
        chat = self._target_chat(bot, params, sending=False)
        user_id = self._int(params, "user_id")
        if user_id == bot.id:
            status = "member" if chat.type == "private" or chat.bot_member else "left"
            return {"status": status, "user": bot.user_dict()}
        user = bot.users.get(user_id or 0)
        if user is None:
            raise ApiError(400, "Bad Request: user not found")
        status = chat.members.get(user["id"], "left")
        member: dict[str, Any] = {"status": status, "user": copy.deepcopy(user)}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                dict.fromkeys(
                    (
                        "can_be_edited",
                        "is_anonymous",
                        "can_restrict_members",
                        "can_promote_members",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                    ),
                    False,
                )
            )
            member.update(
                dict.fromkeys(
                    (
                        "can_manage_chat",
                        "can_delete_messages",
                        "can_manage_video_chats",
                        "can_change_info",
                        "can_invite_users",
                        "can_pin_messages",
                    ),
                    True,
                )
            )
        return member

    async def _m_leaveChat(self, bot: BotState, params: dict, files: dict) -> bool:
        chat = self._target_chat(bot, params, sending=False)
        if chat.type == "private":
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        chat.bot_member = False
        return True

    # ----------------------------------------------------------------- simulated users

    def user(
        self, user_id: int, first_name: str = "张三", username: str | None = None, *, bot_id: int | None = None
    ) -> SimUser:
        """A simulated person who has opened a private chat with the bot."""
        bot = self._bot(bot_id)
        user: dict[str, Any] = {
            "id": int(user_id),
            "is_bot": False,
            "first_name": first_name,
            "language_code": "zh-hans",
        }
        if username:
            user["username"] = username
        bot.users[user["id"]] = user
        self._private_chat(bot, user)
        return SimUser(self, bot, user)

    def group(
        self, chat_id: int, title: str, *, members: list[SimUser] | tuple = (), bot_id: int | None = None
    ) -> SimChat:
        """A group chat (negative id) the bot is in, with the given members."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        bot = self._bot(bot_id)
        chat = bot.chats.get(chat_id)
        if chat is None:
            chat = SimChat(id=chat_id, type="supergroup" if str(chat_id).startswith("-100") else "group", title=title)
            bot.chats[chat_id] = chat
        chat.title = title
        for member in members:
            chat.members[member.id] = "member"
        return chat

    def _user_message(self, bot: BotState, user: dict, chat_id: int | None, content: dict) -> dict:
        chat = self._chat_for_user(bot, user, chat_id)
        entry = self._add_message(bot, chat, user, from_bot=False, content=content)
        message = copy.deepcopy(entry.message)
        if self._bot_sees(bot, chat, message):
            self._enqueue(bot, "message", message)
        return message

    def _chat_for_user(self, bot: BotState, user: dict, chat_id: int | None) -> SimChat:
        if chat_id is None or chat_id == user["id"]:
            chat = self._private_chat(bot, user)
            chat.blocked = False
            return chat
        found = bot.chats.get(chat_id)
        if found is None:
            raise SimError(f"chat {chat_id} does not exist; create it with server.group()")
        chat = found
        if chat.type == "private":
            raise SimError("a user cannot write into another user's private chat")
        chat.members.setdefault(user["id"], "member")
        return chat

    def _bot_sees(self, bot: BotState, chat: SimChat, message: dict) -> bool:
        if chat.type != "private" and not chat.bot_member:
            return False
        if not self.privacy_mode or chat.type == "private":
            return True
        text = message.get("text") or message.get("caption") or ""
        replied = message.get("reply_to_message", {}).get("from", {})
        return (
            text.startswith("/")
            or f"@{BOT_USERNAME}" in text
            or replied.get("id") == bot.id
            or "new_chat_members" in message
        )

    def _press(
        self,
        bot: BotState,
        user: dict,
        message_or_id: dict | int,
        data: str,
        chat_id: int | None,
        *,
        check: bool = True,
    ) -> dict:
        if isinstance(message_or_id, dict):
            message_id = message_or_id["message_id"]
            chat_id = chat_id if chat_id is not None else message_or_id["chat"]["id"]
        else:
            message_id = int(message_or_id)
        chat = self._chat_for_user(bot, user, chat_id)
        entry = chat.by_id.get(message_id)
        if entry is None or entry.deleted:
            raise SimError(f"message {message_id} is not in chat {chat.id}")
        buttons = [
            b.get("callback_data")
            for row in entry.message.get("reply_markup", {}).get("inline_keyboard", [])
            for b in row
        ]
        if check and data not in buttons:
            raise SimError(f"message {message_id} has no button with callback_data {data!r}; buttons: {buttons}")
        query_id = f"{self._rng.getrandbits(63)}"
        query = {
            "id": query_id,
            "from": copy.deepcopy(user),
            "message": copy.deepcopy(entry.message),
            "chat_instance": str(abs(hash((bot.id, chat.id))) % 10**18),
            "data": data,
        }
        bot.callbacks[query_id] = CallbackRecord(query=query, chat_id=chat.id)
        chat.last_user_seq = self._seq
        self._enqueue(bot, "callback_query", query)
        return copy.deepcopy(query)

    def _upload(
        self,
        bot: BotState,
        user: dict,
        data: bytes,
        filename: str | None,
        mime_type: str | None,
        caption: str | None,
        chat_id: int | None,
        as_photo: bool,
    ) -> dict:
        if mime_type is None and filename:
            mime_type = mimetypes.guess_type(filename)[0]
        content: dict[str, Any] = {}
        if caption:
            content["caption"] = caption
            entities = auto_entities(caption)
            if entities:
                content["caption_entities"] = entities
        try:
            if as_photo:
                content["photo"] = self._photo_sizes(data, file_name=filename, mime_type=mime_type)
            else:
                stored = self.store_file(data, file_name=filename, mime_type=mime_type)
                content["document"] = stored.as_document()
        except ApiError as exc:
            raise SimError(exc.description) from exc
        return self._user_message(bot, user, chat_id, content)

    def _join(self, bot: BotState, user: dict, chat_id: int, title: str | None) -> dict:
        chat = bot.chats.get(chat_id)
        if chat is None:
            chat = self.group(chat_id, title or str(chat_id), bot_id=bot.id)
        chat.members[user["id"]] = "member"
        return self._user_message(bot, user, chat_id, {"new_chat_members": [copy.deepcopy(user)]})

    # ----------------------------------------------------------------- read side

    def _chat_or_empty(self, chat_id: int, bot_id: int | None) -> SimChat:
        return self._bot(bot_id).chats.get(int(chat_id)) or SimChat(id=int(chat_id), type="none")

    def messages(self, chat_id: int, *, bot_id: int | None = None) -> list[dict]:
        """Messages the bot sent in a chat, in order, as they look now (edits applied)."""
        chat = self._chat_or_empty(chat_id, bot_id)
        return [copy.deepcopy(e.message) for e in chat.transcript if e.from_bot and not e.deleted]

    def said(self, *, bot_id: int | None = None) -> list[str]:
        """Everything the bot gave people to read, in order: each message's text or caption, file
        name and button labels as sent and as each edit changed them, the answers shown on pressed
        buttons, the descriptions of its command menus."""
        return list(self._bot(bot_id).said)

    def typed(self, *, bot_id: int | None = None) -> list[str]:
        """Everything users sent the bot to read: their messages' texts, captions and file names."""
        return [
            text
            for chat in self._bot(bot_id).chats.values()
            for e in chat.transcript
            if not e.from_bot
            for text in _readable(e.message)
        ]

    def transcript(self, chat_id: int, *, after: int = 0, bot_id: int | None = None) -> list[dict]:
        """Every message of a chat (user and bot) changed after seq `after`, flattened."""
        chat = self._chat_or_empty(chat_id, bot_id)
        return [e.flat() for e in sorted(chat.transcript, key=lambda e: e.message["message_id"]) if e.seq > after]

    def last(self, chat_id: int, *, bot_id: int | None = None) -> dict | None:
        """The latest message the bot sent in a chat, or None."""
        messages = self.messages(chat_id, bot_id=bot_id)
        return messages[-1] if messages else None

    def update_ids(self, *, bot_id: int | None = None) -> list[int]:
        """Every update made for the bot so far (users' actions), by id."""
        return list(self._bot(bot_id).history)

    def webhook_backlog(self, *, bot_id: int | None = None) -> int | None:
        """Updates waiting to be POSTed to the bot's webhook (None: no webhook set)."""
        bot = self._bot(bot_id)
        if not bot.webhook.get("url") or bot.webhook_queue is None:
            return None
        return bot.webhook_queue.qsize()

    def polls_started(self, *, bot_id: int | None = None) -> int:
        """getUpdates calls the bot has made, each counted as it arrives: a long poll waiting for
        updates counts before it is answered (server.requests records a call once answered)."""
        return self._bot(bot_id).poll_generation

    def mark(self) -> int:
        """A point in time for wait_for(after=...): the current change counter."""
        return self._seq

    async def wait_for(
        self,
        chat_id: int,
        predicate: Callable[[dict], bool] | str | None = None,
        timeout: float = 5.0,
        *,
        after: int | None = None,
        bot_id: int | None = None,
    ) -> dict:
        """The first bot message in the chat sent or edited after a point that matches.

        The point defaults to the later of the user's latest action in the chat (send,
        press, upload) and the message the previous wait_for on this chat returned, so
        consecutive calls walk through the bot's replies. A string predicate matches text
        or caption containing it.
        """
        chat_id = int(chat_id)
        if isinstance(predicate, str):
            needle = predicate

            def predicate(m: dict[str, Any]) -> bool:
                return needle in (m.get("text") or m.get("caption") or "")

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            chat = self._chat_or_empty(chat_id, bot_id)
            since = after if after is not None else max(chat.last_user_seq, chat.wait_cursor)
            for entry in sorted(chat.transcript, key=lambda e: e.seq):
                if (
                    entry.from_bot
                    and not entry.deleted
                    and entry.seq > since
                    and (predicate is None or predicate(entry.message))
                ):
                    chat.wait_cursor = entry.seq
                    return copy.deepcopy(entry.message)
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [m.get("text") or m.get("caption") for m in self.messages(chat_id)][-5:]
                raise TimeoutError(
                    f"no matching bot message in chat {chat_id} within {timeout}s; last bot messages: {seen}"
                )
            await self._chat_notifier(chat_id).wait(remaining)

    async def wait_for_answer(self, callback_query_id: str, timeout: float = 5.0, *, bot_id: int | None = None) -> dict:
        """The answerCallbackQuery record for a pressed button, once the bot answers."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for answer in self._bot(bot_id).callback_answers:
                if answer["callback_query_id"] == callback_query_id:
                    return dict(answer)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"callback query {callback_query_id} was not answered")
            await self._changed.wait(remaining)

    @property
    def callback_answers(self) -> list[str | None]:
        """Texts of answerCallbackQuery calls, in order (default bot)."""
        return [a["text"] for a in self._bot().callback_answers]

    @property
    def callback_answer_log(self) -> list[dict]:
        """Full answerCallbackQuery records (text, show_alert, user, chat), default bot."""
        return [dict(a) for a in self._bot().callback_answers]

    def commands(self, scope: Any = None, language_code: str = "", *, bot_id: int | None = None) -> list[dict]:
        """Commands set with setMyCommands for a scope ("default", a dict or a PTB scope)."""
        return copy.deepcopy(self._bot(bot_id).commands.get(self._scope_key(scope, language_code), []))

    def menu_button(self, chat_id: int | None = None, *, bot_id: int | None = None) -> dict | None:
        """The menu button set for a chat (None = the default one)."""
        return copy.deepcopy(self._bot(bot_id).menu_buttons.get(chat_id))

    def chat(self, chat_id: int, *, bot_id: int | None = None) -> SimChat | None:
        """The server's record of a chat (members, blocked, chat_actions, reply_keyboard)."""
        return self._bot(bot_id).chats.get(int(chat_id))

    def documents(self, chat_id: int, *, bot_id: int | None = None) -> list[dict]:
        """Document objects the bot sent in a chat, in order."""
        return [m["document"] for m in self.messages(chat_id, bot_id=bot_id) if "document" in m]

    def file_bytes(self, file_id: str) -> bytes:
        """Content of a stored file; KeyError if unknown."""
        return self._files[file_id].read()

    def redeliver(self, update_id: int, *, bot_id: int | None = None) -> dict:
        """Queue an already created update again, same update_id (at-least-once delivery)."""
        bot = self._bot(bot_id)
        update = bot.history.get(update_id)
        if update is None:
            raise KeyError(f"unknown update_id {update_id}")
        self._queue_update(bot, update)
        return copy.deepcopy(update)

    def set_offline(self, offline: bool = True) -> None:
        """Make every bot-facing call fail with a dropped connection (Telegram unreachable)."""
        self._offline = offline

    @property
    def offline(self) -> bool:
        return self._offline

    # ----------------------------------------------------------------- HTTP: /_sim control API

    def _add_sim_routes(self, app: web.Application) -> None:
        routes = [
            ("POST", "/_sim/send", self._sim_send),
            ("POST", "/_sim/press", self._sim_press),
            ("POST", "/_sim/upload", self._sim_upload),
            ("POST", "/_sim/join", self._sim_join),
            ("GET", "/_sim/messages", self._sim_messages),
            ("GET", "/_sim/chats", self._sim_chats),
            ("GET", "/_sim/callback_answers", self._sim_callback_answers),
            ("GET", "/_sim/faults", self._sim_faults),
            ("POST", "/_sim/faults", self._sim_faults),
            ("POST", "/_sim/offline", self._sim_offline),
            ("POST", "/_sim/redeliver", self._sim_redeliver),
            ("GET", "/_sim/commands", self._sim_commands),
            ("GET", "/_sim/stats", self._sim_stats),
            ("GET", "/_sim/files/{file_id}", self._sim_file),
        ]
        for verb, path, handler in routes:
            app.router.add_route(verb, path, self._sim_wrap(handler))
        app.router.add_route("OPTIONS", "/_sim/{tail:.*}", self._sim_wrap(self._sim_options))

    @staticmethod
    def _sim_wrap(
        handler: Callable[[web.Request], Awaitable[Any]],
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        # Permissive CORS: the sandbox chat page may be served from another origin.
        cors = {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        }

        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                result = await handler(request)
            except (SimError, KeyError, ValueError, TypeError) as exc:
                logger.info("%s %s -> 400 (%s)", request.method, request.path, exc)
                return web.json_response({"ok": False, "error": str(exc)}, status=400, headers=cors)
            logger.info("%s %s -> 200", request.method, request.path)
            if isinstance(result, web.StreamResponse):
                result.headers.update(cors)
                return result
            return web.json_response(
                {"ok": True, "result": result}, headers=cors, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
            )

        return wrapped

    async def _sim_options(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    @staticmethod
    async def _sim_body(request: web.Request) -> dict:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON object expected")
            return body
        return dict(await request.post())

    def _sim_user(self, body: dict) -> SimUser:
        bot_id = int(body["bot_id"]) if body.get("bot_id") else None
        user_id = int(body["user_id"])
        known = self._bot(bot_id).users.get(user_id)
        first_name = body.get("first_name") or (known or {}).get("first_name") or "张三"
        username = body.get("username") or (known or {}).get("username")
        return self.user(user_id, first_name, username, bot_id=bot_id)

    @staticmethod
    def _opt_int(value: Any) -> int | None:
        return int(value) if value not in (None, "") else None

    async def _sim_send(self, request: web.Request) -> dict:
        body = await self._sim_body(request)
        user = self._sim_user(body)
        message = await user.send(
            str(body["text"]),
            chat_id=self._opt_int(body.get("chat_id")),
            reply_to=self._opt_int(body.get("reply_to_message_id")),
        )
        return self._flat(user.bot, message)

    async def _sim_press(self, request: web.Request) -> dict:
        body = await self._sim_body(request)
        user = self._sim_user(body)
        return await user.press(int(body["message_id"]), str(body["data"]), chat_id=self._opt_int(body.get("chat_id")))

    async def _sim_upload(self, request: web.Request) -> dict:
        form = await request.post()
        part = form.get("file")
        if not isinstance(part, web.FileField):
            raise ValueError("multipart field 'file' is required")
        user = self._sim_user(dict(form))
        as_photo = str(form.get("as_photo", "")).lower() in ("1", "true")
        message = await user.upload(
            part.file.read(),
            part.filename,
            part.content_type,
            caption=str(form.get("caption") or "") or None,
            chat_id=self._opt_int(form.get("chat_id")),
            as_photo=as_photo,
        )
        return self._flat(user.bot, message)

    async def _sim_join(self, request: web.Request) -> dict:
        body = await self._sim_body(request)
        user = self._sim_user(body)
        message = await user.join_group(int(body["chat_id"]), body.get("title"))
        return self._flat(user.bot, message)

    def _flat(self, bot: BotState, message: dict) -> dict:
        chat = bot.chats[message["chat"]["id"]]
        return chat.by_id[message["message_id"]].flat()

    async def _sim_messages(self, request: web.Request) -> dict:
        query = request.query
        bot_id = self._opt_int(query.get("bot_id"))
        chat_id = int(query["chat_id"])
        after = int(query.get("after") or 0)
        wait = min(float(query.get("wait") or 0), 60.0)
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            messages = self.transcript(chat_id, after=after, bot_id=bot_id)
            remaining = deadline - asyncio.get_running_loop().time()
            if messages or remaining <= 0 or self._stopping:
                return {"messages": messages, "seq": self._seq}
            await self._chat_notifier(chat_id).wait(remaining)

    async def _sim_chats(self, request: web.Request) -> list[dict]:
        bot = self._bot(self._opt_int(request.query.get("bot_id")))
        return [
            {
                **chat.as_dict(),
                "members": {str(k): v for k, v in chat.members.items()},
                "message_count": len(chat.transcript),
                "last_seq": max((e.seq for e in chat.transcript), default=0),
                "reply_keyboard": chat.reply_keyboard,
                "blocked": chat.blocked,
                "bot_member": chat.bot_member,
            }
            for chat in bot.chats.values()
        ]

    async def _sim_callback_answers(self, request: web.Request) -> list[dict]:
        bot = self._bot(self._opt_int(request.query.get("bot_id")))
        after = int(request.query.get("after") or 0)
        return [dict(a) for a in bot.callback_answers if a["seq"] > after]

    async def _sim_faults(self, request: web.Request) -> dict:
        if request.method == "POST":
            body = await self._sim_body(request)
            known = Faults.__dataclass_fields__.keys()
            unknown = set(body) - set(known)
            if unknown:
                raise ValueError(f"unknown fault fields: {sorted(unknown)}")
            self.faults = Faults(**body)
        return self.faults.to_dict()

    async def _sim_offline(self, request: web.Request) -> dict:
        body = await self._sim_body(request)
        self.set_offline(bool(body.get("offline", True)))
        return {"offline": self._offline}

    async def _sim_redeliver(self, request: web.Request) -> dict:
        body = await self._sim_body(request)
        return self.redeliver(int(body["update_id"]), bot_id=self._opt_int(body.get("bot_id")))

    async def _sim_commands(self, request: web.Request) -> list[dict]:
        query = request.query
        scope: Any = query.get("scope") or "default"
        if query.get("chat_id"):
            scope = {"type": scope, "chat_id": int(query["chat_id"])}
        return self.commands(scope, query.get("language_code", ""), bot_id=self._opt_int(query.get("bot_id")))

    async def _sim_stats(self, request: web.Request) -> dict:
        by_status: dict[str, int] = {}
        for record in self.requests:
            key = f"{record.method}:{record.status}"
            by_status[key] = by_status.get(key, 0) + 1
        return {
            "updates_delivered": self.updates_delivered,
            "requests": len(self.requests),
            "by_method_status": by_status,
            "offline": self._offline,
            "faults": self.faults.to_dict(),
        }

    async def _sim_file(self, request: web.Request) -> web.Response:
        stored = self._files[request.match_info["file_id"]]
        return web.Response(body=stored.read(), content_type=stored.mime_type or "application/octet-stream")


class _FiveXX(Exception):
    def __init__(self, json_body: bool) -> None:
        super().__init__("injected 5xx")
        self.json_body = json_body


class SimUser:
    """A simulated Telegram user; each action becomes an update for the bot."""

    def __init__(self, server: BotApiServer, bot: BotState, user: dict) -> None:
        self.server = server
        self.bot = bot
        self.user = user

    @property
    def id(self) -> int:
        return self.user["id"]

    @property
    def first_name(self) -> str:
        return self.user["first_name"]

    @property
    def username(self) -> str | None:
        return self.user.get("username")

    async def send(self, text: str, chat_id: int | None = None, *, reply_to: int | None = None) -> dict:
        """Send a text message (private chat by default); returns the Message dict."""
        content: dict[str, Any] = {"text": text}
        entities = auto_entities(text)
        if entities:
            content["entities"] = entities
        chat = self.server._chat_for_user(self.bot, self.user, chat_id)
        if reply_to is not None:
            entry = chat.by_id.get(reply_to)
            if entry is None or entry.deleted:
                raise SimError(f"message {reply_to} is not in chat {chat.id}")
            replied = copy.deepcopy(entry.message)
            replied.pop("reply_to_message", None)
            content["reply_to_message"] = replied
        message = self.server._user_message(self.bot, self.user, chat_id, content)
        await asyncio.sleep(0)
        return message

    async def send_command(self, command: str, args: str = "", chat_id: int | None = None) -> dict:
        """Send /command (with optional arguments)."""
        text = command if command.startswith("/") else f"/{command}"
        return await self.send(f"{text} {args}".strip(), chat_id=chat_id)

    async def press(
        self, message_or_id: dict | int, callback_data: str, chat_id: int | None = None, *, check: bool = True
    ) -> dict:
        """Press an inline button; returns the callback_query dict (its "id" is unique)."""
        query = self.server._press(self.bot, self.user, message_or_id, callback_data, chat_id, check=check)
        await asyncio.sleep(0)
        return query

    async def upload(
        self,
        path_or_bytes: Path | str | bytes,
        filename: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        as_photo: bool = False,
    ) -> dict:
        """Send a document (or photo) message; the bot can fetch it with getFile."""
        if isinstance(path_or_bytes, (bytes, bytearray)):
            data = bytes(path_or_bytes)
        else:
            path = Path(path_or_bytes)
            data = path.read_bytes()
            filename = filename or path.name
        message = self.server._upload(self.bot, self.user, data, filename, mime_type, caption, chat_id, as_photo)
        await asyncio.sleep(0)
        return message

    async def join_group(self, chat_id: int, title: str | None = None) -> dict:
        """Join a group (created if needed); the bot gets a new_chat_members message."""
        message = self.server._join(self.bot, self.user, chat_id, title)
        await asyncio.sleep(0)
        return message

    def block(self, blocked: bool = True) -> None:
        """Block the bot: its sends to this private chat fail with 403 until the user writes."""
        self.server._private_chat(self.bot, self.user).blocked = blocked
