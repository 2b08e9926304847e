"""A group chat's 20 a minute shared by the bot replicas (models/pace.py): many connections
asking for a slot at once get exactly the window's count, the rest how long to wait; a 429
held there holds the group for all of them; a slot counts from when Telegram answered."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from models import GroupPace, make_engine, session_scope
from models.pace import Slot, answered, hold, take_slot

GROUP = -1004242000001


def test_asked_at_once_from_eight_connections_a_group_gives_its_count_of_slots_and_no_more(db_url):
    count, span, asks = 5, 30.0, 8
    engines = [make_engine(db_url) for _ in range(asks)]
    start = threading.Barrier(asks)

    def ask(k: int) -> list[Slot]:
        start.wait()
        return [take_slot(engines[k], GROUP, count, span) for _ in range(4)]

    try:
        with ThreadPoolExecutor(asks) as pool:
            slots = [s for got in pool.map(ask, range(asks)) for s in got]
    finally:
        for e in engines:
            e.dispose()

    given = [s for s in slots if s.wait == 0]
    refused = [s for s in slots if s.wait > 0]
    assert len(given) == count and len({s.stamp for s in given}) == count
    assert len(refused) == 4 * asks - count
    assert all(0 < s.wait <= span and not s.held for s in refused)


def test_a_hold_stops_every_asker_and_an_answer_restamps_its_slot(engine):
    first = take_slot(engine, GROUP, 20, 60.0)
    assert first.wait == 0 and first.stamp is not None
    answered(engine, GROUP, first.stamp)
    with session_scope(engine) as s:
        row = s.get(GroupPace, GROUP)
        assert row is not None and len(row.sent) == 1 and row.sent[0] >= first.stamp
    hold(engine, GROUP, 12)
    held = take_slot(engine, GROUP, 20, 60.0)
    assert held.held and 11 < held.wait <= 12
    other = take_slot(engine, -1004242000002, 20, 60.0)  # another group is not held
    assert other.wait == 0
