"""The per-problem projection (models.tables.ProblemProjection): folding one event into it,
and rebuilding it from the event table.

The accountability rules (oversight.measures) read a problem's state from here when no
event of it is later than the moment they evaluate, and from the events otherwise; so
the projection must equal the fold of the problem's events, which the live update (one
`apply` per event, in the event's transaction) and `rebuild` both compute with `fold`. The
same holds for the spells (`spells`) and the hand-overs' runs (`handovers`), kept beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, inspect, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from models.db import table_of
from models.tables import Problem, ProblemEvent, ProblemEventKind, ProblemHandover, ProblemProjection, ProblemSpell

K = ProblemEventKind
STATE_KINDS = frozenset(
    (K.ASSIGNED, K.ACCEPTED, K.HANDED_OVER, K.DECLINED, K.RULED, K.RESOLVED, K.CONFIRMED, K.REOPENED)
)
OWNER_KINDS = frozenset((K.ASSIGNED, K.HANDED_OVER, K.RULED))
RUN_ENDS = frozenset((K.ACCEPTED, K.RULED))
HANDOVER_KINDS = frozenset((K.HANDED_OVER, K.ACCEPTED, K.RULED))  # the events the runs are folded from

_E = table_of(ProblemEvent)
_PP = table_of(ProblemProjection)
_SP = table_of(ProblemSpell)
_H = table_of(ProblemHandover)
_P = table_of(Problem)
COLUMNS = tuple(c.name for c in _PP.columns)


def _later(at: datetime, event_id: int, than_at: Any, than_id: Any) -> bool:
    return than_at is None or (at, event_id) > (than_at, than_id)


def fold(
    row: dict[str, Any] | None, event_id: int, kind: str, to_unit_id: int | None, from_unit_id: int | None, at: datetime
) -> dict[str, Any]:
    """The projection after one more event (`row` None: the problem's first). Events come in
    id order; the state and the owner are the latest by id, the action the latest by (time, id)."""
    r: dict[str, Any] = dict(row) if row else dict.fromkeys(COLUMNS)
    if row is None:
        r["handovers"], r["passed_by"] = 0, []
    if r["last_at"] is None or at > r["last_at"]:
        r["last_at"] = at
    if kind in STATE_KINDS:
        r["state_event_id"], r["state_kind"], r["state_at"] = event_id, kind, at
        if kind != K.CONFIRMED:
            r["change_event_id"] = event_id
    if kind in OWNER_KINDS:
        r["owner_event_id"], r["owner_unit_id"] = event_id, to_unit_id
    if kind != K.COMMENTED and _later(at, event_id, r["action_at"], r["action_event_id"]):
        r["action_event_id"], r["action_kind"], r["action_unit_id"], r["action_at"] = event_id, kind, to_unit_id, at
    if kind in RUN_ENDS:
        r["accepted_event_id"], r["handovers"], r["passed_by"] = event_id, 0, []
    elif kind == K.HANDED_OVER:
        r["handovers"] = int(r["handovers"]) + 1
        r["passed_by"] = [*r["passed_by"], from_unit_id] if from_unit_id is not None else list(r["passed_by"])
    return r


def apply(session: Session, event: ProblemEvent) -> None:
    """Fold a just-written (flushed) event into its problem's projection, in the session's
    transaction: the event and the projection are committed or lost together."""
    assert event.id is not None, "flush the event first"
    # Read afresh: the domain holds the problem's row lock (oversight.problems._load), so this
    # is the projection as the last committed event left it, whatever this session cached.
    current = session.get(ProblemProjection, event.problem_id, populate_existing=True)
    before = None if current is None else {c: getattr(current, c) for c in COLUMNS}
    after = {**fold(before, event.id, event.kind, event.to_unit_id, event.from_unit_id, event.at)}
    after["problem_id"] = event.problem_id
    if current is None:
        current = ProblemProjection(**after)
    else:
        for c in COLUMNS:
            setattr(current, c, after[c])
    session.add(current)
    if event.kind != K.COMMENTED:
        _add_spell(session, event)
    if event.kind in HANDOVER_KINDS:
        refold_handovers(session, event.problem_id)


def refold_handovers(session: Session, problem_id: int) -> None:
    """Recompute one problem's hand-overs (ProblemHandover) from its events, in the session's
    transaction: after a hand-over, an acceptance or a ruling, and when the office judges a
    hand-over's reason. A problem has a few such events, and one written out of time order
    renumbers the runs after it, so the problem's rows are folded whole, as `rebuild` folds them."""
    session.flush()
    events = session.execute(_handover_events().where(_E.c.problem_id == problem_id)).all()
    new = handovers(events)
    mine = _H.c.problem_id == problem_id
    old = [dict(r) for r in session.execute(select(_H).where(mine).order_by(_H.c.event_id)).mappings()]
    if old != new:
        session.execute(delete(_H).where(mine))
        if new:
            session.execute(insert(_H), new)


def _handover_events() -> Any:
    """The events the runs are folded from, as the tuples `handovers` takes. Every event is read
    and the kinds picked in Python, as in oversight.accountability._cited_events."""
    return (
        select(
            _E.c.problem_id,
            _E.c.id,
            _E.c.kind,
            _E.c.to_unit_id,
            _E.c.from_unit_id,
            _E.c.at,
            _E.c.reason_accepted,
            _P.c.plan_id,
        )
        .join(_P, _P.c.id == _E.c.problem_id)
        .order_by(_E.c.problem_id, _E.c.id)
    )


def handovers(events: Iterable[Any]) -> list[dict[str, Any]]:
    """The hand-overs and rulings of one problem's events (tuples of problem_id, id, kind,
    to_unit_id, from_unit_id, at, reason_accepted, plan_id), in event id order, each with its run: the
    acceptance or ruling last before it in (time, id) order (0: none), its number in the run
    (hand-overs), and whether it gives the problem to a unit that handed it away before it."""
    out: list[dict[str, Any]] = []
    run, passes = 0, 0
    handed_away: set[int] = set()
    for pid, eid, kind, to_unit, from_unit, at, accepted, plan_id in sorted(events, key=lambda e: (e[5], e[1])):
        if kind not in HANDOVER_KINDS:
            continue
        if kind in RUN_ENDS:
            run, passes = eid, 0
        else:
            passes += 1
        if kind == K.ACCEPTED:
            continue
        out.append(
            {
                "event_id": eid,
                "problem_id": pid,
                "plan_id": plan_id,
                "kind": kind,
                "from_unit_id": from_unit,
                "to_unit_id": to_unit,
                "reason_accepted": accepted,
                "at": at,
                "run_id": run,
                "pass_no": passes if kind == K.HANDED_OVER else 0,
                "comes_back": to_unit is not None and to_unit in handed_away,
            }
        )
        if kind == K.HANDED_OVER and from_unit is not None:
            handed_away.add(from_unit)
    return sorted(out, key=lambda r: r["event_id"])


def _add_spell(session: Session, event: ProblemEvent) -> None:
    """Insert the event's spell between the problem's actions before and after it in (time, id)
    order (the event has the largest id, so those after it are the later in time): the one
    before now ends at this event, this one ends where the one before ended."""
    assert event.id is not None
    mine = _SP.c.problem_id == event.problem_id
    before = session.execute(
        select(_SP.c.event_id)
        .where(mine, _SP.c.at <= event.at)
        .order_by(_SP.c.at.desc(), _SP.c.event_id.desc())
        .limit(1)
    ).scalar()
    after = session.execute(
        select(_SP.c.at).where(mine, _SP.c.at > event.at).order_by(_SP.c.at, _SP.c.event_id).limit(1)
    ).scalar()
    session.execute(
        insert(_SP).values(
            event_id=event.id,
            problem_id=event.problem_id,
            kind=event.kind,
            unit_id=event.to_unit_id,
            at=event.at,
            next_at=after,
        )
    )
    if before is not None:
        session.execute(update(_SP).where(_SP.c.event_id == before).values(next_at=event.at))


def spells(events: Iterable[Any]) -> list[dict[str, Any]]:
    """The spells of one problem's events (tuples of problem_id, id, kind, to_unit_id,
    from_unit_id, at): each action with the time of the next action in (time, id) order."""
    actions = sorted((e for e in events if e[2] != K.COMMENTED), key=lambda e: (e[5], e[1]))
    return [
        {
            "event_id": e[1],
            "problem_id": e[0],
            "kind": e[2],
            "unit_id": e[3],
            "at": e[5],
            "next_at": actions[i + 1][5] if i + 1 < len(actions) else None,
        }
        for i, e in enumerate(actions)
    ]


def _rows(events: Iterable[Any]) -> Iterable[dict[str, Any]]:
    row: dict[str, Any] | None = None
    for pid, eid, kind, to_unit, from_unit, at, *_ in events:
        if row is not None and row["problem_id"] != pid:
            yield row
            row = None
        row = fold(row, eid, kind, to_unit, from_unit, at)
        row["problem_id"] = pid
    if row is not None:
        yield row


@dataclass(frozen=True)
class Rebuilt:
    problems: int  # projections written
    changed: int  # of which the projection or the spells differed from the stored (or were missing): 0 unless something wrote past the domain
    spells_changed: int = 0  # of those, the problems whose spells (ProblemSpell) differed
    handovers_changed: int = 0  # of those, the problems whose hand-overs' runs (ProblemHandover) differed


def rebuild(
    conn: Connection,
    *,
    chunk: int = 2000,
    progress: Callable[[int, int], None] | None = None,
    with_spells: bool = True,
    with_handovers: bool = True,
) -> Rebuilt:
    """Recompute every problem's projection and spells from its events, `chunk` problems at
    a time (memory bounded by the chunk), in the connection's transaction. `progress` is told
    (problems done, problems in all) after each chunk. `with_spells` False: the projection
    only (migration 0016 runs before the spells' table exists); `with_handovers` False: not
    the hand-overs' runs (0016 and 0019 run before their table exists). Only the projection's
    columns the database has are written: a migration before one that adds a column (0016 before
    0023's change_event_id) rebuilds the projection as its schema holds it."""
    present = {c["name"] for c in inspect(conn).get_columns(_PP.name)}
    columns = [c for c in _PP.columns if c.name in present]
    # NOT EXISTS, not NOT IN: PostgreSQL plans NOT IN (subquery) as a hashed subplan only when
    # the subquery fits in work_mem, else it rescans the events for every row (at 10^6 events
    # and 150k problems this DELETE ran for more than ten minutes); NOT EXISTS is an anti-join.
    orphan = ~select(_E.c.id).where(_E.c.problem_id == _PP.c.problem_id).exists()
    conn.execute(delete(_PP).where(orphan))
    if with_spells:
        conn.execute(delete(_SP).where(~select(_E.c.id).where(_E.c.id == _SP.c.event_id).exists()))
    if with_handovers:
        conn.execute(delete(_H).where(~select(_E.c.id).where(_E.c.id == _H.c.event_id).exists()))
    ids = select(_E.c.problem_id).distinct().order_by(_E.c.problem_id)
    total = conn.execute(select(func.count()).select_from(ids.subquery())).scalar_one()
    done = changed = spells_changed = handovers_changed = 0
    last = -1
    while True:
        batch = [r[0] for r in conn.execute(ids.where(_E.c.problem_id > last).limit(chunk))]
        if not batch:
            break
        in_batch = _PP.c.problem_id.between(batch[0], batch[-1])
        old = {r["problem_id"]: dict(r) for r in conn.execute(select(*columns).where(in_batch)).mappings()}
        events = conn.execute(_handover_events().where(_E.c.problem_id.between(batch[0], batch[-1])))
        listed = list(events)
        rows = [{c: v for c, v in r.items() if c in present} for r in _rows(listed)]
        differ = {r["problem_id"] for r in rows if old.get(r["problem_id"]) != r}
        conn.execute(delete(_PP).where(in_batch))
        conn.execute(insert(_PP), rows)
        if with_spells:
            spell_differ = _rebuild_spells(conn, batch[0], batch[-1], listed)
            spells_changed += len(spell_differ)
        else:
            spell_differ = set()
        if with_handovers:
            handover_differ = _rebuild_handovers(conn, batch[0], batch[-1], listed)
            handovers_changed += len(handover_differ)
        else:
            handover_differ = set()
        changed += len(differ | spell_differ | handover_differ)
        done += len(rows)
        last = batch[-1]
        if progress is not None:
            progress(done, total)
    return Rebuilt(problems=done, changed=changed, spells_changed=spells_changed, handovers_changed=handovers_changed)


def _rebuild_spells(conn: Connection, first: int, last: int, events: list[Any]) -> set[int]:
    """Replace the spells of problems first..last by those of their `events`; the problems
    whose spells differed from the stored ones."""
    in_batch = _SP.c.problem_id.between(first, last)
    old: dict[int, list[dict[str, Any]]] = {}
    for r in conn.execute(select(_SP).where(in_batch).order_by(_SP.c.event_id)).mappings():
        old.setdefault(r["problem_id"], []).append(dict(r))
    by_problem: dict[int, list[Any]] = {}
    for e in events:
        by_problem.setdefault(e[0], []).append(e)
    new = {pid: sorted(spells(es), key=lambda r: r["event_id"]) for pid, es in by_problem.items()}
    differ = {pid for pid, sp in new.items() if old.get(pid, []) != sp}
    conn.execute(delete(_SP).where(in_batch))
    flat = [r for sp in new.values() for r in sp]
    if flat:
        conn.execute(insert(_SP), flat)
    return differ


def _rebuild_handovers(conn: Connection, first: int, last: int, events: list[Any]) -> set[int]:
    """Replace the hand-overs' runs of problems first..last by those of their `events`; the
    problems whose rows differed from the stored ones."""
    in_batch = _H.c.problem_id.between(first, last)
    old: dict[int, list[dict[str, Any]]] = {}
    for r in conn.execute(select(_H).where(in_batch).order_by(_H.c.event_id)).mappings():
        old.setdefault(r["problem_id"], []).append(dict(r))
    by_problem: dict[int, list[Any]] = {}
    for e in events:
        by_problem.setdefault(e[0], []).append(e)
    new = {pid: handovers(es) for pid, es in by_problem.items()}
    differ = {pid for pid, rows in new.items() if old.get(pid, []) != rows}
    conn.execute(delete(_H).where(in_batch))
    flat = [r for rows in new.values() for r in rows]
    if flat:
        conn.execute(insert(_H), flat)
    return differ
