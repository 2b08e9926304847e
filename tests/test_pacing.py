"""The bot's Pacer against the local Bot API server enforcing Telegram's limits (30/s per
bot, 1/s per chat, 20/min per group): no 429 provoked, no burst, a 429 holds only its chat,
replies ahead of broadcasts. Real time, small numbers."""

from __future__ import annotations

import asyncio
import io
import itertools
import time
from collections import Counter

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.pacing import BROADCAST, BROADCAST_PART, Pacer
from localbotapi import BotApiServer

TOKEN = "424242:PACING-token"


@pytest.fixture
async def server():
    async with BotApiServer(seed=7) as s:
        s.flood_control = True
        yield s


@pytest.fixture
async def pacer() -> Pacer:
    return Pacer()


@pytest.fixture
async def bot(server: BotApiServer, pacer: Pacer):
    b = ExtBot(TOKEN, base_url=server.api_base, base_file_url=server.file_base, rate_limiter=pacer)
    async with b:
        yield b


def sends(server: BotApiServer) -> list:
    return [r for r in server.requests if r.method.startswith("send")]


async def test_sixty_chats_go_out_evenly_under_thirty_a_second_with_no_429(server, bot):
    chats = [server.user(8000 + k, f"联络员{k}").id for k in range(60)]

    start = time.monotonic()
    await asyncio.gather(*(bot.send_message(c, "请于今日报送进展。") for c in chats))
    took = time.monotonic() - start

    records = sends(server)
    assert Counter(r.status for r in records) == {200: 60}
    assert 59 / 30 <= took <= 59 / 28 + 1.0  # (a busy machine delays releases a little)
    times = sorted(r.at for r in records)
    # No burst: never more than 30 in a second, not even at the start (PTB's AIORateLimiter
    # let 60 out at once), and a second's worth in any second after it.
    assert max(sum(1 for t in times if t0 <= t < t0 + 1.0) for t0 in times) <= 30
    assert sum(1 for t in times if t < times[0] + 0.5) <= 16


async def test_a_document_and_its_summary_to_one_chat_are_spaced_and_in_order(server, bot):
    chat = server.user(8100, "甲").id

    await asyncio.gather(
        bot.send_document(chat, document=io.BytesIO(b"%PDF-1.4 brief"), filename="简报.pdf"),
        bot.send_message(chat, "本期简报摘要：报送率 92%。"),
        bot.send_message(chat, "附件二：台账。"),
    )

    records = sends(server)
    assert [r.status for r in records] == [200, 200, 200]
    assert [r.method for r in records] == ["sendDocument", "sendMessage", "sendMessage"]
    assert all(b.at - a.at >= 1.0 for a, b in itertools.pairwise(records))
    assert [m.get("text") or m.get("document", {}).get("file_name") for m in server.messages(chat)] == [
        "简报.pdf",
        "本期简报摘要：报送率 92%。",
        "附件二：台账。",
    ]


async def test_a_group_429_holds_the_group_only_and_a_reply_there_waits_for_it(server, bot, pacer):
    group = server.group(-8200, "专班群").id
    user = server.user(8201, "乙").id
    server.hold_chat(group, 3)

    with pytest.raises(RetryAfter):  # the outbox is told at once, and keeps its message
        await bot.send_message(group, "通知一", rate_limit_args=BROADCAST)
    tried = len(sends(server))
    with pytest.raises(RetryAfter):  # known held: not even tried
        await bot.send_message(group, "通知二", rate_limit_args=BROADCAST)
    assert len(sends(server)) == tried
    assert 2 <= pacer.chat_held_for(group) <= 3

    start = time.monotonic()
    reply_in_group = asyncio.create_task(bot.send_message(group, "已收到。"))
    await bot.send_message(user, "您的报送已登记。")  # another chat meanwhile: at once
    assert time.monotonic() - start < 0.5
    assert not reply_in_group.done()
    await reply_in_group  # the reply to the group waits out the hold, then goes
    assert time.monotonic() - start >= 2.5

    statuses = Counter(r.status for r in sends(server))
    assert statuses == {429: 1, 200: 2}
    assert [m["text"] for m in server.messages(group)] == ["已收到。"]


async def test_429s_in_several_chats_slow_the_whole_bot(server, bot, pacer):
    chats = [server.group(-8300 - k, f"群{k}").id for k in range(5)]
    for c in chats:
        server.hold_chat(c, 30)
    before = pacer.pace
    for c in chats[:4]:
        with pytest.raises(RetryAfter):
            await bot.send_message(c, "通知", rate_limit_args=BROADCAST)
    assert pacer.pace == before  # four chats: still each chat's own matter
    with pytest.raises(RetryAfter):
        await bot.send_message(chats[4], "通知", rate_limit_args=BROADCAST)
    assert pacer.pace == pytest.approx(before / 1.5)


async def test_a_reply_goes_ahead_of_queued_broadcasts(server, bot):
    chats = [server.user(8400 + k, f"联络员{k}").id for k in range(40)]
    acting = server.user(8500, "丙").id

    broadcasts = [asyncio.create_task(bot.send_message(c, "周报提醒", rate_limit_args=BROADCAST)) for c in chats]
    await asyncio.sleep(0.1)  # the broadcasts are queued, a few already out
    await bot.send_message(acting, "已登记。")
    await asyncio.gather(*broadcasts)

    order = [r.chat_id for r in sends(server)]
    assert Counter(r.status for r in sends(server)) == {200: 41}
    assert order.index(acting) <= 6


async def test_while_updates_are_handled_broadcasts_trickle_and_one_in_a_replied_chat_steps_aside(server, bot, pacer):
    """Updates being handled (their replies are coming): broadcasts go at most every
    BUSY_BROADCAST_GAP; a reply to a chat whose broadcast is queued last does not wait for
    every broadcast before it (it would, its chat's turn held), nor for that broadcast and the
    chat's gap after it: the broadcast steps aside and follows the reply."""
    chats = [server.user(8600 + k, f"联络员{k}").id for k in range(30)]
    pacer.handling = 1  # as ChatOrderedProcessor counts an update being handled
    broadcasts = [asyncio.create_task(bot.send_message(c, "周报提醒", rate_limit_args=BROADCAST)) for c in chats]
    await asyncio.sleep(0.3)
    start = time.monotonic()
    await bot.send_message(chats[-1], "已登记。")
    waited = time.monotonic() - start
    early = len(sends(server))
    pacer.handling = 0
    await asyncio.gather(*broadcasts)

    assert waited < 0.5  # not 30 broadcasts at 2 a second, nor its chat's broadcast and a gap
    assert early <= 3  # the first broadcast and the reply (and at most 2 a second)
    last = [r for r in sends(server) if r.chat_id == chats[-1]]
    assert [m["text"] for m in server.messages(chats[-1])] == ["已登记。", "周报提醒"]
    assert [r.status for r in last] == [200, 200] and last[1].at - last[0].at >= 1.0
    assert Counter(r.status for r in sends(server)) == {200: 31}


async def test_a_reply_does_not_cut_into_a_broadcast_sent_in_parts(server, bot, pacer):
    """A later part of a message in parts (BROADCAST_PART) keeps its chat's turn: a reply
    asked while it waits goes after it, and first among the broadcasts still queued."""
    chats = [server.user(8700 + k, f"联络员{k}").id for k in range(30)]
    pacer.handling = 1
    broadcasts = [asyncio.create_task(bot.send_message(c, "周报提醒", rate_limit_args=BROADCAST)) for c in chats[:-1]]
    target = chats[-1]
    await bot.send_message(target, "通报（一）", rate_limit_args=BROADCAST)
    part = asyncio.create_task(bot.send_message(target, "通报（二）", rate_limit_args=BROADCAST_PART))
    await asyncio.sleep(0.2)
    start = time.monotonic()
    await bot.send_message(target, "已登记。")
    waited = time.monotonic() - start
    pacer.handling = 0
    await asyncio.gather(part, *broadcasts)

    assert [m["text"] for m in server.messages(target)] == ["通报（一）", "通报（二）", "已登记。"]
    assert waited < 3.0  # the part (after the chat's gap), then the reply's gap: not 29 broadcasts first
    assert Counter(r.status for r in sends(server)) == {200: 32}
