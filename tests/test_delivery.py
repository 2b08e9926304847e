"""Outbox delivery against the local Bot API server: faults, an hour offline, long texts,
documents, refusals, per-chat order, and a redelivered update processed once.

The delivery loop runs on a fake clock: "retry in 60 s" or "an hour offline" is a clock
advance, so the file runs in seconds. Requests are logged with the fake time at which the
delivery made them, which is how the tests check that retry_after was honoured.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.delivery import PERMANENT_AFTER, OutboxDelivery
from localbotapi.server import BotApiServer
from localbotapi.state import Faults
from models import OutboxMessage, OutboxState, ProcessedUpdate, make_engine, session_scope
from oversight.outbox import TELEGRAM_TEXT_LIMIT, enqueue_document, enqueue_text
from tests.harness import TOKEN, running_bot


class Clock:
    """A UTC clock that moves only when told."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class RecordingRequest(HTTPXRequest):
    """PTB's real HTTP request, logging (fake time, method, chat_id, HTTP status or 0 for a
    connection error) per call; `before` runs ahead of each call so a test can cut the line."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(connection_pool_size=8)
        self.clock = clock
        self.log: list[tuple[datetime, str, Any, int]] = []
        self.before: Callable[[str, dict], None] | None = None

    async def do_request(
        self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        if self.before is not None:
            self.before(name, params)
        try:
            code, payload = await super().do_request(url, method, request_data, *args, **kwargs)
        except Exception:
            self.log.append((self.clock(), name, params.get("chat_id"), 0))
            raise
        self.log.append((self.clock(), name, params.get("chat_id"), code))
        return code, payload

    def sends(self) -> list[tuple[datetime, str, Any, int]]:
        return [r for r in self.log if r[1] in ("sendMessage", "sendDocument")]


class SimulatedCrash(BaseException):
    """The process dies mid-send (not an error the delivery could catch)."""


@pytest.fixture
async def server():
    async with BotApiServer(seed=20240601) as s:
        yield s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(server: BotApiServer, clock: Clock):
    """A plain PTB Bot (no rate limiter: the delivery itself must honour 429s)."""
    request = RecordingRequest(clock)
    async with Bot(TOKEN, base_url=server.api_base, base_file_url=server.file_base, request=request) as b:
        yield b


def delivery_for(engine: Engine, bot: Bot, clock: Clock) -> OutboxDelivery:
    return OutboxDelivery(engine=engine, bot=bot, clock=clock)


def log_of(bot: Bot) -> RecordingRequest:
    return bot.request


def queue(engine: Engine, clock: Clock, items: list[tuple[int, str]]) -> list[int]:
    """Queue texts in one transaction, as a job would; returns the outbox ids."""
    with session_scope(engine) as s:
        rows = [enqueue_text(session=s, chat_id=chat, text=text, now=clock()) for chat, text in items]
        s.flush()
        return [r.id for r in rows]


def rows(engine: Engine) -> list[OutboxMessage]:
    with session_scope(engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def next_moment(engine: Engine, delivery: OutboxDelivery) -> datetime | None:
    """When the delivery could next send something: the earliest pending row, or the hold."""
    heads = (
        select(func.min(OutboxMessage.id))
        .where(OutboxMessage.state == OutboxState.PENDING)
        .group_by(OutboxMessage.chat_id)
    )
    with session_scope(engine) as s:  # a chat's later messages wait for its first one
        due = s.exec(select(func.min(OutboxMessage.next_attempt_at)).where(col(OutboxMessage.id).in_(heads))).one()
    if due is None:
        return None
    hold = getattr(delivery, "hold_until", None)
    return max(due, hold) if hold else due


async def pump(
    engine: Engine, delivery: OutboxDelivery, clock: Clock, *, until: datetime | None = None, max_rounds: int = 20_000
) -> int:
    """Run delivery rounds, jumping the clock to the next due moment, until the outbox is
    empty (or the clock reaches `until`); returns the rounds it took."""
    for n in range(max_rounds):
        if until is not None and clock() >= until:
            return n
        if await delivery.deliver_due():
            continue
        moment = next_moment(engine, delivery)
        if moment is None:
            return n
        if until is not None:
            moment = min(moment, until)
        clock.now = max(clock.now, moment)
    raise AssertionError(f"outbox not drained in {max_rounds} rounds: {Counter(r.state for r in rows(engine))}")


def texts(server: BotApiServer, chat_id: int) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in server.messages(chat_id)]


# --------------------------------------------------------------------------- faults


async def test_thousand_notifications_through_429s_5xx_and_drops_arrive_once_in_order(engine, server, bot, clock):
    chats = [6000 + k for k in range(50)]
    for k, chat in enumerate(chats):
        server.user(chat, f"联络员{k}")
    items = [(chats[i % 50], f"通知 {i:04d}：请于本周五前报送矿山整改进展。") for i in range(1000)]
    queue(engine, clock, items)
    server.faults = Faults(rate_429=0.2, retry_after=1, rate_5xx=0.1, rate_drop=0.05)

    delivery = delivery_for(engine, bot, clock)
    await pump(engine, delivery, clock)

    # Every notification arrived exactly once, in the order it was queued for its chat.
    for chat in chats:
        assert texts(server, chat) == [text for c, text in items if c == chat]
    assert {r.state for r in rows(engine)} == {OutboxState.SENT}
    # The faults really happened.
    statuses = Counter(r.status for r in server.requests if r.method == "sendMessage")
    assert statuses[200] == 1000 and statuses[429] > 150 and statuses[502] > 60 and statuses[0] > 25
    # retry_after honoured for the chat it concerns: the 429'd chat is not sent to again
    # before then, while other chats are (a 429 does not pause the whole bot).
    sends = log_of(bot).sends()
    others_meanwhile = 0
    for at, _, chat_429, status in sends:
        if status == 429:
            others_meanwhile += any(at < r[0] < at + timedelta(seconds=1) and r[2] != chat_429 for r in sends)
    assert others_meanwhile > 100
    for chat in chats:
        mine = [r for r in sends if r[2] == chat]
        for before, after in itertools.pairwise(mine):
            if before[3] == 429:
                assert after[0] >= before[0] + timedelta(seconds=1)


async def test_response_lost_after_telegram_recorded_the_message_loses_nothing(engine, server, bot, clock):
    """A connection dropped after Telegram stored the message looks exactly like one dropped
    before: the Bot API has no idempotency key, so the delivery must resend, and the
    recipient may see that message twice. Delivery is at-least-once; this pins down that
    nothing is lost, order holds, and the only duplicates are those lost responses."""
    chats = [6100 + k for k in range(10)]
    for chat in chats:
        server.user(chat, "联络员")
    items = [(chats[i % 10], f"提醒 {i:03d}") for i in range(200)]
    queue(engine, clock, items)
    server.faults = Faults(rate_drop_after=0.05)

    await pump(engine, delivery_for(engine, bot, clock), clock)

    lost_responses = sum(1 for r in server.requests if r.method == "sendMessage" and r.status == 0)
    assert lost_responses > 0
    duplicates = 0
    for chat in chats:
        got = texts(server, chat)
        first_seen = list(dict.fromkeys(got))
        assert first_seen == [text for c, text in items if c == chat]
        # A duplicate is the same message resent straight after itself, never out of order.
        assert [t for i, t in enumerate(got) if i == 0 or got[i - 1] != t] == first_seen
        duplicates += len(got) - len(first_seen)
    assert duplicates == lost_responses
    assert {r.state for r in rows(engine)} == {OutboxState.SENT}


async def test_an_hour_offline_keeps_everything_pending_then_delivers_it_all(engine, server, bot, clock):
    chats = [6200 + k for k in range(10)]
    for chat in chats:
        server.user(chat, "联络员")
    items = [(chats[i % 10], f"督办通知 {i:03d}") for i in range(100)]
    queue(engine, clock, items[:60])
    server.set_offline(True)
    delivery = delivery_for(engine, bot, clock)
    start = clock()

    head_attempts = []
    for minute in range(10, 61, 10):
        await pump(engine, delivery, clock, until=start + timedelta(minutes=minute))
        head_attempts.append(rows(engine)[0].attempts)
        if minute == 30:
            queue(engine, clock, items[60:])  # work goes on while Telegram is away
    assert clock() >= start + timedelta(hours=1)

    # Nothing sent, nothing dead, nothing lost; the attempts keep growing.
    states = Counter(r.state for r in rows(engine))
    assert states == {OutboxState.PENDING: 100}
    assert head_attempts == sorted(head_attempts) and head_attempts[-1] > head_attempts[0] >= 1
    assert "NetworkError" in rows(engine)[0].last_error
    # It probes rather than hammering: a bounded number of calls in the hour, at most a minute apart.
    offline_sends = log_of(bot).sends()
    assert 10 < len(offline_sends) < 500
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(offline_sends)]
    assert max(gaps) <= timedelta(seconds=60)

    server.set_offline(False)
    await pump(engine, delivery, clock)
    for chat in chats:
        assert texts(server, chat) == [text for c, text in items if c == chat]
    assert {r.state for r in rows(engine)} == {OutboxState.SENT}
    # Back online, the first probe goes out within the longest backoff.
    first_ok = next(r for r in log_of(bot).sends() if r[3] == 200)
    assert first_ok[0] - (start + timedelta(hours=1)) <= timedelta(seconds=60)


# --------------------------------------------------------------------------- long texts


def long_text(chars: int) -> str:
    lines, n = [], 0
    while sum(map(len, lines)) + len(lines) < chars:
        lines.append(f"第{n:03d}项：该矿山生态修复任务按期推进，已完成复绿面积统计与现场核查，" + "详" * (n % 40))
        n += 1
    return "\n".join(lines)[:chars].rstrip("\n")


async def test_long_text_arrives_in_three_ordered_parts_and_a_failure_does_not_resend_part_one(
    engine, server, bot, clock
):
    server.user(6300, "联络员")
    text = long_text(10_000)
    assert len(text) == 10_000
    queue(engine, clock, [(6300, text)])
    calls = {"n": 0}

    def cut_before_second_part(method: str, params: dict) -> None:
        if method == "sendMessage":
            calls["n"] += 1
            server.set_offline(calls["n"] == 2)

    log_of(bot).before = cut_before_second_part
    delivery = delivery_for(engine, bot, clock)
    await delivery.deliver_due()
    [row] = rows(engine)
    assert row.state == OutboxState.PENDING and row.payload["parts_sent"] == 1
    assert len(server.messages(6300)) == 1

    log_of(bot).before = None
    server.set_offline(False)
    await pump(engine, delivery, clock)

    parts = texts(server, 6300)
    assert len(parts) == 3 and all(len(p) <= TELEGRAM_TEXT_LIMIT for p in parts)
    assert "\n".join(parts) == text  # split at line breaks, in order, nothing repeated or lost
    assert rows(engine)[0].state == OutboxState.SENT


async def test_text_of_emoji_is_split_by_telegrams_count_of_utf16_units(engine, server, bot, clock):
    # Telegram's 4096 counts UTF-16 code units: an emoji is two. 3,000 emoji fit in 4096 Python
    # characters but not in one message; split by characters, the server refused it (400).
    server.user(6302, "联络员")
    text = "问题描述：" + "🚧⛏" * 1500 + "\n" + "已处理。" * 10
    queue(engine, clock, [(6302, text)])
    await pump(engine, delivery_for(engine, bot, clock), clock)
    parts = texts(server, 6302)
    assert len(parts) >= 2 and all(len(p.encode("utf-16-le")) // 2 <= TELEGRAM_TEXT_LIMIT for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    assert rows(engine)[0].state == OutboxState.SENT


async def test_crash_between_parts_resumes_after_the_part_already_sent(engine, server, bot, clock):
    server.user(6301, "联络员")
    text = long_text(9_000)
    queue(engine, clock, [(6301, text)])
    calls = {"n": 0}

    def die_before_second_part(method: str, params: dict) -> None:
        if method == "sendMessage":
            calls["n"] += 1
            if calls["n"] == 2:
                raise SimulatedCrash

    log_of(bot).before = die_before_second_part
    with pytest.raises(SimulatedCrash):
        await delivery_for(engine, bot, clock).deliver_due()
    log_of(bot).before = None

    await pump(engine, delivery_for(engine, bot, clock), clock)  # a fresh process
    parts = texts(server, 6301)
    assert len(parts) == 3 and "\n".join(parts) == text


# --------------------------------------------------------------------------- documents


def minimal_pdf(title: str) -> bytes:
    """A small valid one-page PDF, with a correct xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
    ]
    stream = f"BT /F1 12 Tf 72 770 Td ({title}) Tj ET".encode()
    objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


async def test_document_arrives_byte_identical_and_a_missing_file_is_dead_not_retried(
    engine, server, bot, clock, tmp_path: Path
):
    server.user(6400, "办公室")
    pdf = tmp_path / "brief-2025-w10.pdf"
    pdf.write_bytes(minimal_pdf("Weekly brief") + bytes(range(256)) * 40)
    missing = tmp_path / "gone.pdf"
    with session_scope(engine) as s:
        enqueue_document(session=s, chat_id=6400, path=str(missing), filename="旧简报.pdf", now=clock())
        enqueue_document(
            session=s, chat_id=6400, path=str(pdf), filename="第10周简报.pdf", caption="第10周工作简报", now=clock()
        )
        enqueue_text(session=s, chat_id=6400, text="简报已发送，请查收。", now=clock())

    delivery = delivery_for(engine, bot, clock)
    await pump(engine, delivery, clock)

    gone, brief, note = rows(engine)
    assert gone.state == OutboxState.DEAD and "文件不存在" in gone.last_error and "gone.pdf" in gone.last_error
    assert gone.attempts == 1
    assert brief.state == OutboxState.SENT and note.state == OutboxState.SENT
    [doc] = server.documents(6400)
    assert doc["file_name"] == "第10周简报.pdf" and doc["mime_type"] == "application/pdf"
    assert server.file_bytes(doc["file_id"]) == pdf.read_bytes()
    assert texts(server, 6400) == ["第10周工作简报", "简报已发送，请查收。"]
    # Later rounds leave the dead one alone.
    before = len(log_of(bot).sends())
    clock.advance(timedelta(hours=1))
    assert await delivery.deliver_due() == 0
    assert len(log_of(bot).sends()) == before


# --------------------------------------------------------------------------- refusals


async def test_blocked_user_and_bad_request_are_given_up_after_a_few_attempts(engine, server, bot, clock):
    blocker = server.user(6500, "已屏蔽")
    server.user(6501, "正常")
    blocker.block()
    queue(engine, clock, [(6500, "您有一项待办"), (6501, "您有一项待办"), (6501, ""), (6501, "第二条")])

    await pump(engine, delivery_for(engine, bot, clock), clock)

    blocked, ok, empty, second = rows(engine)
    assert blocked.state == OutboxState.DEAD and "Forbidden" in blocked.last_error
    assert empty.state == OutboxState.DEAD and "BadRequest" in empty.last_error
    assert ok.state == second.state == OutboxState.SENT
    assert texts(server, 6501) == ["您有一项待办", "第二条"]
    sends = Counter((r[2], r[3]) for r in log_of(bot).sends())
    assert sends[(6500, 403)] == PERMANENT_AFTER
    assert sends[(6501, 400)] == PERMANENT_AFTER


# --------------------------------------------------------------------------- order


async def test_later_messages_to_a_chat_wait_behind_one_held_by_retry_after(engine, server, bot, clock):
    server.user(6600, "甲")
    server.user(6601, "乙")
    queue(engine, clock, [(6600, "一"), (6600, "二"), (6601, "丙"), (6600, "三")])
    server.monotonic = lambda: clock().timestamp()  # the server's flood control on the test's clock
    server.hold_chat(6600, 7)  # 6600 is flooded: 429, retry after 7 s
    delivery = delivery_for(engine, bot, clock)
    start = clock()
    assert await delivery.deliver_due() == 1  # 丙: 6601 is not held
    # Nothing goes out during the wait, however often the loop looks.
    for _ in range(3):
        clock.advance(timedelta(seconds=2))
        assert await delivery.deliver_due() == 0
    await pump(engine, delivery, clock)

    assert texts(server, 6600) == ["一", "二", "三"]
    assert texts(server, 6601) == ["丙"]
    sends = log_of(bot).sends()
    assert sends[0][2] == 6600 and sends[0][3] == 429
    # The other chat did not wait for 6600's hold; 6600's messages did, all of them.
    assert [at for at, _, chat, _ in sends if chat == 6601] == [start]
    assert all(at >= start + timedelta(seconds=7) for at, _, chat, _ in sends[1:] if chat == 6600)


# --------------------------------------------------------------------------- updates


async def test_redelivered_update_is_answered_once(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        user = await h.join(6700, "王林", "林草局", "contact")
        with session_scope(engine) as s:
            seen = set(s.exec(select(ProcessedUpdate.update_id)).all())
        await h.say(user, "/whoami", "单位")
        whoami_id = None
        for _ in range(100):  # mark_processed runs after the reply is sent
            with session_scope(engine) as s:
                new = set(s.exec(select(ProcessedUpdate.update_id)).all()) - seen
            if new:
                [whoami_id] = new
                break
            await asyncio.sleep(0.02)
        assert whoami_id is not None

        h.server.redeliver(whoami_id)
        # Updates are handled one at a time: once /help is answered, the duplicate was handled.
        await h.say(user, "/help")
        replies = [m["text"] for m in h.server.messages(6700) if "单位" in m.get("text", "")]
        assert len([t for t in replies if "所属计划：" in t]) == 1
        with session_scope(engine) as s:
            assert s.get(ProcessedUpdate, whoami_id) is not None


async def test_a_long_direct_answer_goes_in_parts_with_its_buttons_on_the_last(server, bot):
    # Answers sent straight from a handler (/todo, /problem ID) can outgrow one message too.
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    from bot.common import send_text

    server.user(6303, "办公室")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("接收", callback_data="t" * 12)]])
    text = "\n".join(f"#{n} 林草征占用手续办理受阻，需协调 🌲" for n in range(400))
    await send_text(bot, 6303, text, reply_markup=markup)
    sent = server.messages(6303)
    assert len(sent) >= 2 and "\n".join(m["text"] for m in sent) == text
    assert all(len(m["text"].encode("utf-16-le")) // 2 <= TELEGRAM_TEXT_LIMIT for m in sent)
    assert [bool(m.get("reply_markup")) for m in sent] == [False] * (len(sent) - 1) + [True]


# --------------------------------------------------------------------------- replicas


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)")
async def test_two_bot_replicas_on_postgresql_deliver_one_outbox_once_each_chat_in_order(server):
    """Two deliveries, each with its own engine (connections) and its own Bot, as two bot
    processes: one delivers (the lease), the other takes over when it stops; 200 messages to
    20 chats arrive once each, in each chat's order."""
    from tests.conftest import _pg_db

    url = _pg_db()  # this worker's database, migrated and empty
    chats = [6900 + k for k in range(20)]
    for chat in chats:
        server.user(chat, "联络员")
    engines = [make_engine(url), make_engine(url)]
    clock = Clock()  # only to date the queued rows: the deliveries run on real time
    items = [(chats[i % 20], f"督办通知 {i:03d}") for i in range(200)]
    queue(engines[0], clock, items)
    try:
        async with (
            Bot(TOKEN, base_url=server.api_base, base_file_url=server.file_base) as bot_a,
            Bot(TOKEN, base_url=server.api_base, base_file_url=server.file_base) as bot_b,
        ):
            first, second = (
                OutboxDelivery(engine=engines[0], bot=bot_a, poll_seconds=0.05, batch=7),
                OutboxDelivery(engine=engines[1], bot=bot_b, poll_seconds=0.05, batch=7),
            )
            run_first = asyncio.create_task(first.run_forever())
            await asyncio.sleep(0.3)  # the first takes the lease
            run_second = asyncio.create_task(second.run_forever())
            for _ in range(3000):
                if first.sent >= 80:
                    break
                await asyncio.sleep(0.01)
            assert second.sent == 0  # one replica delivers at a time
            await first.stop()  # the first replica goes: the second takes over
            await run_first
            for _ in range(600):
                if {r.state for r in rows(engines[0])} == {OutboxState.SENT}:
                    break
                await asyncio.sleep(0.05)
            await second.stop()
            await run_second
        states = {r.state for r in rows(engines[0])}
    finally:
        for e in engines:
            e.dispose()

    assert states == {OutboxState.SENT}, (first.sent, second.sent)
    for chat in chats:
        assert texts(server, chat) == [text for c, text in items if c == chat]
    assert first.sent >= 80 and second.sent > 0 and first.sent + second.sent == 200


@pytest.mark.parametrize("rate_limiter", [True, False])
async def test_the_outbox_is_delivered_with_and_without_the_pacer(engine, banner_plan_id, rate_limiter):
    async with running_bot(engine, banner_plan_id, rate_limiter=rate_limiter) as h:
        h.server.user(6950, "联络员")
        queue(engine, Clock(), [(6950, "请于本周五前报送。")])
        h.app.bot_data["delivery"].wake()
        await h.server.wait_for(6950, "请于本周五前报送。", timeout=10)
    assert {r.state for r in rows(engine)} == {OutboxState.SENT}


# --------------------------------------------------------------------------- counted duplicates


async def test_each_possible_duplicate_is_counted_with_its_cause(engine, server, bot, clock, settings_env):
    """The two ways a message can reach its chat twice are recorded on it and counted by
    `lianxi outbox stats`: a response lost after Telegram took the message, and a crash
    between a send and its record. A message sent cleanly is never counted."""
    from typer.testing import CliRunner

    from lianxi.cli import app
    from models.inbox import LOST_RESPONSE, RESENT_AFTER_CRASH
    from oversight.outbox import outbox_stats

    chats = [6400 + k for k in range(5)]
    for chat in chats:
        server.user(chat, "联络员")
    items = [(chats[i % 5], f"通知 {i:03d}") for i in range(100)]
    queue(engine, clock, items)
    server.faults = Faults(rate_drop_after=0.08, methods=["sendMessage"])
    await pump(engine, delivery_for(engine, bot, clock), clock)
    server.faults = Faults()

    twice = {t for chat in chats for t, n in Counter(texts(server, chat)).items() if n > 1}
    assert twice, "no response was lost; the test proves nothing"
    caused = {r.text: r.payload.get("duplicate_cause") for r in rows(engine)}
    assert {t for t, c in caused.items() if c} == twice  # exactly the ones that arrived twice
    assert {caused[t] for t in twice} == {LOST_RESPONSE}

    # A crash after Telegram took the message and before the delivery recorded it.
    server.user(6499, "联络员")
    queue(engine, clock, [(6499, "会议通知")])
    crashing = delivery_for(engine, bot, clock)

    def die(*_args: Any) -> None:
        raise SimulatedCrash

    crashing._finish = die
    with pytest.raises(SimulatedCrash):
        await pump(engine, crashing, clock)
    await pump(engine, delivery_for(engine, bot, clock), clock)  # the restarted process
    assert texts(server, 6499) == ["会议通知", "会议通知"]
    with session_scope(engine) as s:
        stats = outbox_stats(session=s)
    assert stats.possible_duplicates == {LOST_RESPONSE: len(twice), RESENT_AFTER_CRASH: 1}
    assert (stats.sent, stats.pending, stats.failed) == (101, 0, 0)

    result = CliRunner().invoke(app, ["outbox", "stats"])
    assert result.exit_code == 0, result.output
    assert "已发送：101条" in result.output and "发送失败（已放弃）：0条" in result.output
    assert f"可能重复送达：{len(twice) + 1}条" in result.output
    assert f"Telegram 的应答丢失（超时、断线、5xx）：{len(twice)}条" in result.output
    assert "进程中断于发送与记录之间：1条" in result.output
