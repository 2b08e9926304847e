"""A group chat's sends of the last minute, shared by every bot replica on one database.

Telegram allows a bot 20 messages a minute in a group, whichever of its processes sends them.
Each replica's Pacer (bot/pacing.py) counts its own; on PostgreSQL it also takes a slot here
before each message to a group: the group's row (GroupPace) is read under SELECT ... FOR
UPDATE, so two replicas asking at once are answered one after the other, and a slot is given
only while fewer than `count` messages were sent there in the last `span` seconds. A slot is
stamped when taken and stamped again when Telegram has answered (`answered`): it counted the
message by then, so the window is measured from there, as the Pacer does within a process. A
429 for the group holds it for every replica (`hold`). Times come from the database's clock,
the one clock the replicas (on several machines) share.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from models.db import table_of
from models.tables import GroupPace


@dataclass(frozen=True)
class Slot:
    """What the group's window gave: a slot (`wait` 0, `stamp` what to name it by), or the
    seconds to wait before asking again (`held`: a 429's hold rather than the window)."""

    wait: float
    stamp: float | None = None
    held: bool = False


def _now(conn: Connection) -> float:
    if conn.dialect.name == "postgresql":
        return float(conn.exec_driver_sql("SELECT extract(epoch FROM clock_timestamp())").scalar_one())
    return time.time()  # SQLite: one machine, its clock


def _locked_row(conn: Connection, chat_id: int) -> tuple[list[float], float]:
    table = table_of(GroupPace)
    stmt: Any
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=["chat_id"])
    else:
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=["chat_id"])
    conn.execute(stmt, {"chat_id": chat_id, "sent": [], "held_until": 0.0})
    row = conn.execute(
        select(col(GroupPace.sent), col(GroupPace.held_until))
        .where(col(GroupPace.chat_id) == chat_id)
        .with_for_update()
    ).one()
    return [float(t) for t in row[0]], float(row[1])


def take_slot(engine: Engine, chat_id: int, count: int, span: float) -> Slot:
    """A slot for one message to the group now, if its last `span` seconds had fewer than
    `count` messages and no 429 holds it; else how long to wait."""
    with engine.begin() as conn:
        sent, held_until = _locked_row(conn, chat_id)
        now = _now(conn)
        recent = [t for t in sent if now - t < span]
        if held_until > now:
            return Slot(wait=held_until - now, held=True)
        if len(recent) >= count:
            return Slot(wait=recent[-count] + span - now)
        recent.append(now)
        table = table_of(GroupPace)
        conn.execute(update(table).where(table.c.chat_id == chat_id).values(sent=recent[-count:]))
        return Slot(wait=0.0, stamp=now)


def answered(engine: Engine, chat_id: int, stamp: float) -> None:
    """Telegram has answered the message of the slot stamped `stamp`: it is counted from now."""
    with engine.begin() as conn:
        sent, _ = _locked_row(conn, chat_id)
        now = _now(conn)
        if stamp in sent:
            sent[sent.index(stamp)] = now
        else:  # pushed out by later ones (a window of newer messages): nothing to restamp
            return
        table = table_of(GroupPace)
        conn.execute(update(table).where(table.c.chat_id == chat_id).values(sent=sorted(sent)))


def hold(engine: Engine, chat_id: int, seconds: float) -> None:
    """A 429 for the group: no replica sends there for `seconds`."""
    with engine.begin() as conn:
        _, held_until = _locked_row(conn, chat_id)
        until = max(held_until, _now(conn) + seconds)
        table = table_of(GroupPace)
        conn.execute(update(table).where(table.c.chat_id == chat_id).values(held_until=until))
