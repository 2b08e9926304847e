"""Diagnostic (not for landing): a direct reply whose response is lost goes to the outbox unmarked."""

from __future__ import annotations

import asyncio
import re

from sqlmodel import select

from localbotapi.state import Faults
from models import OutboxMessage, Role, session_scope
from tests.harness import running_bot

FILED = re.compile(r"已报送（(\d+)号进展报送）")


class FirstOnly:
    """The server's rng: the first roll drops (after processing), every later one does not."""

    def __init__(self) -> None:
        self.rolls = 0

    def random(self) -> float:
        self.rolls += 1
        return 0.0 if self.rolls == 2 else 1.0  # roll 1: _inject_faults; roll 2: drop after


async def test_a_direct_reply_whose_response_is_lost_is_resent_marked(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        user = await h.join(720_001, "联络员甲", "自然资源局", Role.CONTACT)
        h.server._rng = FirstOnly()
        h.server.faults = Faults(rate_drop_after=1.0, methods=["sendMessage"])
        await user.send("/report 第1处矿山地质环境恢复治理现场核查完成")
        await asyncio.sleep(3.0)
        await h.drain_outbox()
        await asyncio.sleep(1.0)
        said = [m.get("text") or "" for m in h.server.messages(user.id)]
        filed = [t for t in said if FILED.search(t)]
        with session_scope(engine) as s:
            rows = [(m.text, m.payload.get("duplicate_cause")) for m in s.exec(select(OutboxMessage)).all()]
    print("SAID", said)
    print("OUTBOX", rows)
    marked = [t for t, c in rows if c and FILED.search(t)]
    assert len(filed) - 1 <= len(marked), (said, rows)


async def test_one_marked_row_sent_three_times_after_two_crashes(engine):
    """Path A: a kept reply re-queued at start (cause crash), its send cut off by a second kill
    between the send and its record, sent again by the third process: three arrivals, one row."""

    import pytest
    from sqlalchemy import insert
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from localbotapi.server import BotApiServer
    from models import inbox
    from models.tables import ProcessedUpdate
    from tests.harness import TOKEN
    from tests.test_delivery import Clock, SimulatedCrash, delivery_for, pump, texts

    async with BotApiServer() as server:
        server.user(6600, "联络员")
        clock = Clock()
        bot = Bot(TOKEN, base_url=server.api_base, request=HTTPXRequest(connection_pool_size=8))
        await bot.initialize()
        # Process 1 applied the update, answered it directly (arrival 1), died before clear_reply.
        inbox.store(engine, [(77, 6600, "{}")])
        with engine.begin() as conn:
            conn.execute(insert(ProcessedUpdate).values(update_id=77, at=clock()))
            conn.execute(inbox.keep_replies(77, [{"chat_id": 6600, "text": "已报送（6号进展报送）。"}]))
        await bot.send_message(6600, "已报送（6号进展报送）。")
        # Process 2: initialize hands it to the outbox marked; its send goes out, then a kill.
        inbox.replies_to_outbox(engine, cause=inbox.RESENT_AFTER_CRASH)
        crashing = delivery_for(engine, bot, clock)

        def die(*_a):
            raise SimulatedCrash

        crashing._finish = die
        with pytest.raises(SimulatedCrash):
            await pump(engine, crashing, clock)
        # Process 3 sends the same row again.
        await pump(engine, delivery_for(engine, bot, clock), clock)
        got = texts(server, 6600)
        with session_scope(engine) as s:
            marked = [m for m in s.exec(select(OutboxMessage)).all() if m.payload.get("duplicate_cause")]
        await bot.shutdown()
    print("ARRIVED", got, "MARKED ROWS", len(marked))
    assert got.count("已报送（6号进展报送）。") == 3 and [m.payload["repeats"] for m in marked] == [2]
