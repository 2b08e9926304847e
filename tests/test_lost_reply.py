"""Proposed test (not landed): a direct answer whose response is lost is resent marked."""

from __future__ import annotations

import asyncio
import re

from sqlmodel import select

from bot.delivery import OutboxDelivery
from localbotapi.state import Faults
from models import OutboxMessage, Role, session_scope
from models.inbox import LOST_RESPONSE
from oversight.outbox import outbox_stats
from tests.harness import running_bot

FILED = re.compile(r"已报送（(\d+)号进展报送）")


async def test_an_answer_whose_response_is_lost_is_resent_marked_and_no_error_is_claimed(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id, deliver_outbox=False) as h:
        user = await h.join(720_001, "联络员甲", "自然资源局", Role.CONTACT)
        # Telegram takes the answer, and its response never reaches the bot.
        h.server.faults = Faults(rate_drop_after=1.0, methods=["sendMessage"])
        await user.send("/report 第1处矿山地质环境恢复治理现场核查完成")
        await h.server.wait_for(user.id, "已报送", timeout=10)
        for _ in range(100):
            with session_scope(engine) as s:
                queued = s.exec(select(OutboxMessage)).all()
            if queued:
                break
            await asyncio.sleep(0.05)
        h.server.faults = Faults()
        await OutboxDelivery(engine=engine, bot=h.app.bot).deliver_due()
        said = [m.get("text") or "" for m in h.server.messages(user.id)]
    assert [t for t in said if FILED.search(t)] == [said[1]] * 2  # the answer arrived twice
    assert not [t for t in said if "出现错误" in t]  # the report was recorded: no error is claimed
    with session_scope(engine) as s:
        assert [(m.text, m.payload.get("duplicate_cause")) for m in s.exec(select(OutboxMessage))] == [
            (said[1], LOST_RESPONSE)
        ]
        assert outbox_stats(session=s).possible_duplicates[LOST_RESPONSE] == 1
