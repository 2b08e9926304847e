"""Bad input, property-based: random and huge text, emoji, malformed callback data, files
of the wrong type or size, sent by registered and unregistered users in every state of a
conversation. No unhandled exception; every input is answered in Chinese; the database
invariants hold. The real bot runs against the local Bot API server in a background loop."""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

from models import (
    Attachment,
    CallbackToken,
    Member,
    OutboxMessage,
    Problem,
    ProblemEvent,
    Report,
    make_engine,
    session_scope,
)
from models.migrate import upgrade
from tests.conftest import BANNER_PLAN, load_bundled_plan
from tests.harness import Harness, running_bot

CJK = re.compile(r"[\u4e00-\u9fff]")
GENERIC_ERROR = "处理时出现错误"
COMMANDS = [
    "/start",
    "/help",
    "/whoami",
    "/cancel",
    "/report",
    "/ledger",
    "/flag",
    "/todo",
    "/progress",
    "/problem",
    "/invite",
    "/members",
    "/revoke",
    "/bindgroup",
    "/nosuchcommand",
]


class BotInThread:
    """The bot and the local server running in their own event loop, for sync hypothesis tests."""

    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        url = f"sqlite:///{tmp / 'fuzz.db'}"
        upgrade(url)
        self.engine = make_engine(url)
        self.plan_id = load_bundled_plan(self.engine, BANNER_PLAN)
        self._cm = running_bot(self.engine, self.plan_id)
        self.h: Harness = self.run(self._cm.__aenter__())

    def run(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.run(self._cm.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.engine.dispose()


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotInThread]:
    from config.settings import get_settings

    tmp = tmp_path_factory.mktemp("fuzz")
    old = os.environ.get("DATA_DIR")
    os.environ["DATA_DIR"] = str(tmp / "data")
    get_settings.cache_clear()
    b = BotInThread(tmp)
    b.contact = b.run(b.h.join(61001, "林草联络员", "林草局", "contact"))
    b.office = b.run(b.h.join(61002, "办公室", "旗政府办公室", "office"))
    b.stranger = b.h.server.user(61003, "路人")
    yield b
    b.close()
    if old is None:
        os.environ.pop("DATA_DIR", None)
    else:
        os.environ["DATA_DIR"] = old
    get_settings.cache_clear()


def _answered(b: BotInThread, user, action) -> dict:
    """Do `action` as `user` and return the bot's first reply to it."""

    async def go() -> dict:
        mark = b.h.server.mark()
        await action()
        return await b.h.server.wait_for(user.id, None, after=mark, timeout=10)

    return b.run(go())


def _reset(b: BotInThread, user) -> None:
    """End any open conversation and wait until the bot has said so (no reply left in flight)."""

    async def go() -> None:
        await asyncio.sleep(0.05)  # let replies to the previous input land first
        mark = b.h.server.mark()
        await user.send("/cancel")
        await b.h.server.wait_for(
            user.id,
            lambda m: (
                "取消" in (m.get("text") or "")
                or "没有进行中" in (m.get("text") or "")
                or "未注册" in (m.get("text") or "")
            ),
            after=mark,
            timeout=10,
        )

    b.run(go())


def _check_reply(reply: dict) -> None:
    text = reply.get("text") or reply.get("caption") or ""
    assert text, "empty reply"
    assert CJK.search(text), f"reply is not Chinese: {text!r}"
    assert GENERIC_ERROR not in text, f"unhandled error: {text!r}"
    assert "entities" not in reply or all(
        e["type"] in ("bot_command", "url", "mention", "hashtag", "phone_number", "email", "cashtag")
        for e in reply["entities"]
    ), "bot reply carries formatting"


def _invariants(b: BotInThread) -> None:
    with session_scope(b.engine) as s:
        # Every problem has its raised and assigned events; no event points at nothing.
        for p in s.exec(select(Problem)).all():
            kinds = [e.kind for e in s.exec(select(ProblemEvent).where(ProblemEvent.problem_id == p.id)).all()]
            assert kinds[:2] == ["raised", "assigned"]
        orphans = s.exec(
            select(func.count()).select_from(ProblemEvent).where(~ProblemEvent.problem_id.in_(select(Problem.id)))
        ).one()
        assert orphans == 0
        # Only allowed file types were stored.
        for a in s.exec(select(Attachment)).all():
            assert a.mime_type in (
                "application/pdf",
                "image/jpeg",
                "image/png",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            assert a.size <= 20 * 1024 * 1024
        # Nobody joined without an invite; no report was filed by a stranger.
        assert s.exec(select(Member).where(Member.telegram_user_id == 61003)).first() is None
        assert all(r.member_id is not None for r in s.exec(select(Report)).all())
        # Nothing is stuck undeliverable because of its size.
        assert all(m.state != "dead" for m in s.exec(select(OutboxMessage)).all())
        assert all(len(t.token) <= 24 for t in s.exec(select(CallbackToken)).all())


FLOWS = st.sampled_from([None, "/flag", "/report", "/ledger"])
TEXTS = st.one_of(
    st.text(min_size=1, max_size=300),
    st.text(alphabet=st.sampled_from("林草局🚧😀💥\u200b\u202e<>&{}/#%'\"\\\n\t "), min_size=1, max_size=200),
    st.text(min_size=3000, max_size=4096),
    st.builds(lambda c, a: f"{c} {a}", st.sampled_from(COMMANDS), st.text(max_size=100)),
).filter(lambda t: t.strip() != "")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flow=FLOWS, text=TEXTS, who=st.sampled_from(["contact", "office", "stranger"]))
def test_random_text_in_any_state_is_answered_in_chinese(bot, flow, text, who):
    user = getattr(bot, who)
    if flow:
        _check_reply(_answered(bot, user, lambda: user.send(flow)))
    reply = _answered(bot, user, lambda: user.send(text))
    _check_reply(reply)
    _reset(bot, user)
    _invariants(bot)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(st.text(max_size=64), st.binary(max_size=48).map(lambda b: b.hex()[:64])),
    flow=FLOWS,
    who=st.sampled_from(["contact", "office", "stranger"]),
)
def test_malformed_callback_data_changes_nothing(bot, data, flow, who):
    user = getattr(bot, who)
    if flow:
        _answered(bot, user, lambda: user.send(flow))
    with session_scope(bot.engine) as s:
        before = (
            s.exec(select(func.count()).select_from(Problem)).one(),
            s.exec(select(func.count()).select_from(Report)).one(),
        )

    async def press() -> dict:
        await user.send("/help")
        own = await bot.h.server.wait_for(user.id, None, timeout=10)
        query = await user.press(own["message_id"], data or "x", check=False)
        return await bot.h.server.wait_for_answer(query["id"], timeout=10)

    answer = bot.run(press())
    assert answer["text"] and CJK.search(answer["text"]) and answer.get("show_alert")
    with session_scope(bot.engine) as s:
        after = (
            s.exec(select(func.count()).select_from(Problem)).one(),
            s.exec(select(func.count()).select_from(Report)).one(),
        )
    assert after == before
    _reset(bot, user)
    _invariants(bot)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.binary(min_size=1, max_size=4000),
    name=st.text(max_size=80),
    mime=st.sampled_from(
        ["application/pdf", "image/png", "application/octet-stream", "text/plain", "application/x-msdownload"]
    ),
    flow=st.sampled_from([None, "/report", "/ledger"]),
)
def test_files_of_any_type_are_refused_or_stored_safely(bot, content, name, mime, flow):
    user = bot.contact
    if flow:
        _answered(bot, user, lambda: user.send(flow))
    reply = _answered(bot, user, lambda: user.upload(content, filename=name or "file.bin", mime_type=mime))
    _check_reply(reply)
    _reset(bot, user)
    _invariants(bot)


def test_a_file_over_the_download_limit_is_refused_before_fetching(bot):
    user = bot.contact
    _reset(bot, user)
    assert "台账" in _answered(bot, user, lambda: user.send("/ledger"))["text"]

    async def template_sent() -> None:  # /ledger also sends the unit's template: let it land first
        await bot.h.server.wait_for(user.id, lambda m: "document" in m, timeout=10)

    bot.run(template_sent())
    big = b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024)
    reply = _answered(bot, user, lambda: user.upload(big, filename="扫描件.pdf", mime_type="application/pdf"))
    _check_reply(reply)
    assert "20 MB" in reply["text"] or "过大" in reply["text"]
    _reset(bot, user)
    _invariants(bot)
