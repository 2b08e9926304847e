"""End-to-end harness: the real bot Application polling the project's local Bot API
server over HTTP, on a real database."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select
from telegram.ext import Application

from bot.app import build_application
from bot.pacing import Pacer
from localbotapi.server import BotApiServer, SimUser
from models import Member, Unit, session_scope
from oversight.members import create_invite, require_unit

TOKEN = "123456789:TEST-token-for-local-server"


@dataclass
class Harness:
    server: BotApiServer
    app: Application
    engine: Engine
    plan_id: int
    users: dict[str, SimUser] = field(default_factory=dict)

    def invite_code(self, unit: str, role: str) -> str:
        """An invite code made as the CLI would."""
        with session_scope(self.engine) as s:
            u = require_unit(session=s, plan_id=self.plan_id, text=unit)
            _, code = create_invite(session=s, plan_id=self.plan_id, unit_id=u.id, role=role, created_by="test")
        return code

    async def join(self, user_id: int, name: str, unit: str, role: str) -> SimUser:
        """A simulated person who joins with a fresh invite."""
        user = self.server.user(user_id, name)
        code = self.invite_code(unit, role)
        await user.send(f"/start {code}")
        await self.server.wait_for(user_id, "注册成功")
        self.users[name] = user
        return user

    async def say(self, user: SimUser, text: str, expect: str | None = None, timeout: float = 5.0) -> dict:
        """Send text and wait for the bot's reply (containing `expect` if given)."""
        await user.send(text)
        return await self.server.wait_for(user.id, expect, timeout=timeout)

    async def press(
        self,
        user: SimUser,
        message: dict,
        label: str,
        expect: str | None = None,
        chat_id: int | None = None,
        timeout: float = 5.0,
    ) -> dict:
        """Press the button labelled `label` on `message`, then wait for the bot's next message."""
        data = button_data(message, label)
        mark = self.server.mark()
        await user.press(message, data, chat_id=chat_id)
        return await self.server.wait_for(chat_id or user.id, expect, timeout=timeout, after=mark)

    def member(self, user: SimUser) -> Member:
        with session_scope(self.engine) as s:
            return s.exec(select(Member).where(Member.telegram_user_id == user.id)).one()

    def unit(self, text: str) -> Unit:
        with session_scope(self.engine) as s:
            return require_unit(session=s, plan_id=self.plan_id, text=text)

    async def drain_outbox(self, timeout: float = 10.0) -> None:
        """Wait until the outbox has nothing pending that is due."""
        from models import OutboxMessage, OutboxState

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            with session_scope(self.engine) as s:
                pending = s.exec(select(OutboxMessage.id).where(OutboxMessage.state == OutboxState.PENDING)).first()
            if pending is None:
                return
            delivery = self.app.bot_data.get("delivery")
            if delivery is not None:
                delivery.wake()
            await asyncio.sleep(0.05)
        raise TimeoutError("outbox not drained")


def button_data(message: dict, label: str) -> str:
    """The callback_data of the button whose text contains `label`."""
    markup = message.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if label in button["text"]:
                return button["callback_data"]
    labels = [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
    raise AssertionError(f"no button {label!r} in {labels}")


# What nobody should read in chat: a record number ("#12") or an internal id after 编号 ("成员编号：5",
# "编号 12"). Records are cited as body text cites them (12号问题, 4号进展报送, 乌中联办通〔2026〕1号).
RECORD_NUMBER = re.compile(r"#\d+|编号[\s：:为]*\d+|成员\d+")


def record_numbers(said: list[str], typed: list[str]) -> list[str]:
    """The texts of `said` that show a record number the users did not type themselves (a problem
    whose text a user wrote as "#3 …" is shown back as written)."""
    theirs = {m.group() for text in typed for m in RECORD_NUMBER.finditer(text)}
    return [text for text in said if any(m.group() not in theirs for m in RECORD_NUMBER.finditer(text))]


def assert_no_record_numbers(server: BotApiServer) -> None:
    """Fail when anything the bot gave people to read (texts, captions, file names, button labels,
    button answers, menus) shows a record number: every dialogue run through `running_bot`."""
    shown = record_numbers(server.said(), server.typed())
    assert not shown, "record numbers in what users read:\n" + "\n---\n".join(shown[:10])


def buttons(message: dict) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


@asynccontextmanager
async def running_bot(engine: Engine, plan_id: int, **kwargs: Any) -> AsyncIterator[Harness]:
    """Start the local server and the real bot polling it; stop both after."""
    async with BotApiServer() as server:
        # The bot's own Pacer, without its one-second gap between two messages to one chat: this
        # server does not enforce Telegram's per-chat limit (tests/test_pacing.py and bench/burst.py
        # hold the Pacer to it), and a dialogue of ten turns would otherwise wait ten seconds.
        kwargs.setdefault("rate_limiter", Pacer(private_gap=0.0))
        app = build_application(
            engine=engine,
            token=TOKEN,
            base_url=server.api_base,
            base_file_url=server.file_base,
            outbox_poll_seconds=0.05,
            **kwargs,
        )
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1, drop_pending_updates=False)
        h = Harness(server=server, app=app, engine=engine, plan_id=plan_id)
        try:
            yield h
        finally:
            # Stop whichever Application is current: a test may restart the bot.
            if h.app.updater is not None and h.app.updater.running:
                await h.app.updater.stop()
            if h.app.running:
                await h.app.stop()
            await h.app.shutdown()
        assert_no_record_numbers(server)
