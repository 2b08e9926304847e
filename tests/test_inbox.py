"""The inbox's storage (models/inbox.py) on each database the product runs on (SQLite, and
PostgreSQL when TEST_DATABASE_URL is set): insert-or-ignore by update id, also when two stores
race, what is unapplied, answers kept until sent and handed to the outbox, and pruning."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlmodel import col

from models import inbox, utcnow
from models.tables import InboxUpdate, OutboxMessage, ProcessedUpdate

BIG = 9_000_000_000  # update and chat ids beyond 32 bits


def _payload(update_id: int, text: str) -> str:
    return json.dumps({"update_id": update_id, "message": {"text": text}}, ensure_ascii=False)


def _stored(engine) -> dict[int, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(col(InboxUpdate.update_id), col(InboxUpdate.payload))).all()
    return {int(u): str(p) for u, p in rows}


def test_an_update_stored_twice_is_kept_as_first_stored(engine):
    inbox.store(engine, [(BIG + 1, BIG, _payload(BIG + 1, "第一次")), (BIG + 2, None, _payload(BIG + 2, "二"))])
    # The same batch fetched again (the offset was not confirmed), with one new update.
    inbox.store(engine, [(BIG + 2, None, _payload(BIG + 2, "改")), (BIG + 3, 5, _payload(BIG + 3, "三"))])
    inbox.store(engine, [])
    stored = _stored(engine)
    assert sorted(stored) == [BIG + 1, BIG + 2, BIG + 3]
    assert "二" in stored[BIG + 2] and "改" not in stored[BIG + 2]


def test_two_stores_racing_on_the_same_ids_both_succeed(engine):
    """Two bot processes (or a webhook retry beside the first attempt) storing one batch at once."""
    rows = [(BIG + i, BIG, _payload(BIG + i, f"报送{i}")) for i in range(200)]
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def store(part: list) -> None:
        try:
            start.wait()
            for k in range(0, len(part), 20):
                inbox.store(engine, part[k : k + 20])
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=store, args=(rows if n % 2 == 0 else rows[::-1],)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(_stored(engine)) == [BIG + i for i in range(200)]


def test_unapplied_answers_and_pruning(engine):
    inbox.store(engine, [(u, 7, _payload(u, str(u))) for u in (BIG + 30, BIG + 10, BIG + 20)])
    assert [json.loads(p)["update_id"] for p in inbox.unapplied(engine)] == [BIG + 10, BIG + 20, BIG + 30]
    assert inbox.unapplied(engine, older_than=timedelta(hours=1)) == []

    # BIG+10 applied, its two answers kept with it; the first was sent before a crash.
    replies = [{"chat_id": BIG, "text": "已报送", "buttons": []}, {"chat_id": BIG, "text": "下一步", "buttons": []}]
    with engine.begin() as conn:
        conn.execute(insert(ProcessedUpdate).values(update_id=BIG + 10))
        conn.execute(inbox.keep_replies(BIG + 10, replies))
    assert [json.loads(p)["update_id"] for p in inbox.unapplied(engine)] == [BIG + 20, BIG + 30]
    assert inbox.replies_to_outbox(engine, [BIG + 10], skip=1, cause=inbox.RESENT_AFTER_CRASH) == 1
    assert inbox.replies_to_outbox(engine, [BIG + 10], cause=None) == 0  # handed over once
    with engine.connect() as conn:
        sent = conn.execute(
            select(col(OutboxMessage.chat_id), col(OutboxMessage.text), col(OutboxMessage.payload))
        ).all()
    assert [(c, t) for c, t, _ in sent] == [(BIG, "下一步")]
    assert sent[0][2]["duplicate_cause"] == inbox.RESENT_AFTER_CRASH and sent[0][2]["update_id"] == BIG + 10

    # Pruned: only what was applied, answered and stored longer ago than kept.
    with engine.begin() as conn:
        conn.execute(insert(ProcessedUpdate).values(update_id=BIG + 20))
        conn.execute(inbox.keep_replies(BIG + 20, replies[:1]))
    assert inbox.prune(engine, keep=timedelta(hours=1)) == 0  # all recent
    with engine.begin() as conn:
        conn.execute(update(InboxUpdate).values(received_at=utcnow() - timedelta(days=8)))
    assert inbox.prune(engine) == 1  # BIG+10; BIG+20's answer is unsent, BIG+30 unapplied
    assert sorted(_stored(engine)) == [BIG + 20, BIG + 30]
    inbox.clear_reply(engine, BIG + 20)
    assert inbox.prune(engine) == 1
    assert sorted(_stored(engine)) == [BIG + 30]
