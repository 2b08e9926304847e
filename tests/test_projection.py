"""The per-problem projection (models.projection) against the events it is folded from.

Generated histories of problems, written through the domain functions (refused steps are
skipped, as a user's refused button would be): the projection kept live by each event must
equal the one `rebuild` computes from the event table, and so must the spells kept with it
(models.tables.ProblemSpell: each action and the next action's time) and the hand-overs' runs
(models.tables.ProblemHandover), each also recomputed here from the events; and the
accountability rules must find the same whether they read the projection, the spells and the
hand-overs or, with all three emptied, replay every event.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlmodel import Session
from typer.testing import CliRunner

from lianxi.cli import app
from models import Problem, ProblemEvent, ProblemHandover, ProblemProjection, ProblemSpell, make_engine
from models.db import table_of
from models.migrate import alembic_config
from models.projection import rebuild
from oversight.accountability import evaluate, findings_json
from oversight.dates import local_day
from oversight.errors import OversightError
from oversight.measures import accountable_from, spell_stats
from oversight.problems import (
    accept_handover_reason,
    accept_problem,
    comment_problem,
    confirm_problem,
    decline_problem,
    hand_over_problem,
    passes_since_accept,
    reopen_problem,
    resolve_problem,
    rule_problem,
)
from oversight.workdays import workdays_between
from tests.test_accountability import Cast, at

UNITS = ("forestry", "natres", "water", "eco", "market_reg")
ACTIONS = ("accept", "hand", "decline", "rule", "reason", "resolve", "confirm", "reopen", "comment")
MUST_ACT = ("assigned", "handed_over", "accepted", "reopened", "ruled")  # the holder must act next
T0 = at(1, 5)  # histories run from early 2026Q1 into 2026Q2


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> Cast:
    return Cast(session, banner_plan_id)


step = st.tuples(
    st.integers(0, 3),  # which problem (a new one when past the last)
    st.sampled_from(ACTIONS),
    st.sampled_from(UNITS),  # a target unit (hand-over, ruling) or a new problem's owner
    st.floats(0.0, 9.0),  # days since the previous step
)


def _projection(session: Session) -> dict[int, dict[str, Any]]:
    pp = table_of(ProblemProjection)
    return {r["problem_id"]: dict(r) for r in session.execute(select(pp)).mappings()}


def _spells(session: Session) -> dict[int, dict[str, Any]]:
    sp = table_of(ProblemSpell)
    return {r["event_id"]: dict(r) for r in session.execute(select(sp)).mappings()}


def _spells_replayed(session: Session) -> dict[int, dict[str, Any]]:
    """The spells recomputed here from the events: each action (not a comment) and the time of
    the problem's next action in (time, id) order."""
    e = table_of(ProblemEvent)
    rows = session.execute(select(e).where(e.c.kind != "commented").order_by(e.c.problem_id, e.c.at, e.c.id)).all()
    out: dict[int, dict[str, Any]] = {}
    for i, r in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) and rows[i + 1].problem_id == r.problem_id else None
        out[r.id] = {
            "event_id": r.id,
            "problem_id": r.problem_id,
            "kind": r.kind,
            "unit_id": r.to_unit_id,
            "at": r.at,
            "next_at": nxt.at if nxt else None,
        }
    return out


def _handovers(session: Session) -> dict[int, dict[str, Any]]:
    h = table_of(ProblemHandover)
    return {r["event_id"]: dict(r) for r in session.execute(select(h)).mappings()}


def _handovers_replayed(session: Session) -> dict[int, dict[str, Any]]:
    """The hand-overs' runs recomputed here from the events: for each hand-over and ruling, the
    last acceptance or ruling at or before it in (time, id) order (0: none), the hand-overs of
    that run up to it, and whether an earlier hand-over came from the unit it goes to."""
    e, p = table_of(ProblemEvent), table_of(Problem)
    plan_of = {r.id: r.plan_id for r in session.execute(select(p.c.id, p.c.plan_id))}
    by_problem: dict[int, list[Any]] = {}
    for r in session.execute(select(e)).all():
        by_problem.setdefault(r.problem_id, []).append(r)
    out: dict[int, dict[str, Any]] = {}
    for evs in by_problem.values():
        for r in evs:
            if r.kind not in ("handed_over", "ruled"):
                continue
            upto = [x for x in evs if (x.at, x.id) <= (r.at, r.id)]
            ends = [x for x in upto if x.kind in ("accepted", "ruled")]
            run = max(ends, key=lambda x: (x.at, x.id)).id if ends else 0
            last_end = max(((x.at, x.id) for x in ends), default=None)
            in_run = [x for x in upto if x.kind == "handed_over" and (last_end is None or (x.at, x.id) > last_end)]
            before = [x for x in upto if x.kind == "handed_over" and (x.at, x.id) < (r.at, r.id)]
            out[r.id] = {
                "event_id": r.id,
                "problem_id": r.problem_id,
                "plan_id": plan_of[r.problem_id],
                "kind": r.kind,
                "from_unit_id": r.from_unit_id,
                "to_unit_id": r.to_unit_id,
                "reason_accepted": r.reason_accepted,
                "at": r.at,
                "run_id": run,
                "pass_no": len(in_run) if r.kind == "handed_over" else 0,
                "comes_back": any(x.from_unit_id == r.to_unit_id for x in before if r.to_unit_id is not None),
            }
    return out


def _play(cast: Cast, steps: list[tuple[int, str, str, float]]) -> list[int]:
    s, keys = cast.s, {u.id: k for k, u in cast.units.items()}
    ids: list[int] = []
    when = T0
    for which, action, unit, days in steps:
        when += timedelta(days=days, minutes=7)
        if which >= len(ids):
            ids.append(cast.raise_(unit, when))
            continue
        pid = ids[which]
        problem = s.get(Problem, pid)
        assert problem is not None
        holder = cast[keys[problem.owner_unit_id]]
        try:
            with s.begin_nested():  # a refused step leaves nothing behind
                if action == "accept":
                    accept_problem(session=s, problem_id=pid, actor=holder, now=when)
                elif action == "hand":
                    hand_over_problem(
                        session=s,
                        problem_id=pid,
                        actor=holder,
                        to_unit_id=cast.uid(unit),
                        reason="不属于本单位",
                        now=when,
                    )
                elif action == "decline":
                    decline_problem(session=s, problem_id=pid, actor=holder, reason="不属于本单位职责", now=when)
                elif action == "rule":
                    rule_problem(
                        session=s, problem_id=pid, actor=cast.office, to_unit_id=cast.uid(unit), reason="裁定", now=when
                    )
                elif action == "reason":
                    last = s.execute(
                        select(ProblemEvent.id)
                        .where(ProblemEvent.problem_id == pid, ProblemEvent.kind == "handed_over")
                        .order_by(ProblemEvent.id.desc())  # type: ignore[union-attr]  # mypy does not check tests
                    ).scalar()
                    if last is not None:
                        accept_handover_reason(session=s, event_id=last, actor=cast.office, now=when)
                elif action == "resolve":
                    resolve_problem(session=s, problem_id=pid, actor=holder, evidence_text="已办结", now=when)
                elif action == "confirm":
                    confirm_problem(session=s, problem_id=pid, actor=cast["emergency"], now=when)
                elif action == "reopen":
                    reopen_problem(session=s, problem_id=pid, actor=cast["emergency"], reason="仍未解决", now=when)
                else:
                    comment_problem(session=s, problem_id=pid, actor=holder, text="正在协调办理", now=when)
        except OversightError:
            pass
    s.flush()
    return ids


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=30))
@example(  # passed on, accepted, passed on again and accepted; declined, ruled, resolved, confirmed, reopened
    steps=[
        (0, "accept", "water", 0.5),
        (0, "hand", "eco", 0.5),
        (0, "accept", "eco", 0.5),
        (0, "hand", "forestry", 3.0),
        (0, "hand", "natres", 30.0),
        (0, "accept", "natres", 1.0),
        (1, "accept", "natres", 1.0),
        (1, "decline", "water", 1.0),
        (1, "rule", "natres", 40.0),
        (1, "resolve", "water", 1.0),
        (1, "confirm", "water", 1.0),
        (1, "reopen", "water", 20.0),
        (0, "comment", "water", 1.0),
    ]
)
def test_the_live_projection_equals_the_rebuilt_one_and_the_rules_find_the_same_without_it(
    cast: Cast, steps: list[tuple[int, str, str, float]]
) -> None:
    s = cast.s
    try:
        ids = _play(cast, steps)
        live = _projection(s)
        assert set(live) == set(ids)
        for pid in ids:  # the run of hand-overs, against the domain's own count from the events
            assert live[pid]["handovers"] == passes_since_accept(session=s, problem_id=pid)
            assert len(live[pid]["passed_by"]) == live[pid]["handovers"]
        spells = _spells(s)
        assert spells == _spells_replayed(s)
        handovers = _handovers(s)
        assert handovers == _handovers_replayed(s)
        result = rebuild(s.connection())
        assert result.changed == 0 and result.spells_changed == 0 and result.handovers_changed == 0
        assert result.problems == len(ids)
        assert _projection(s) == live
        assert _spells(s) == spells
        assert _handovers(s) == handovers

        # Evaluated mid-quarter, at its end with later events, and after everything.
        moments = [("2026Q1", at(2, 10)), ("2026Q1", at(4, 21)), ("2026Q2", datetime(2026, 12, 1, tzinfo=UTC))]
        with_projection = [
            findings_json(evaluate(session=s, plan_id=cast.plan_id, period=p, now=n)) for p, n in moments
        ]
        s.execute(delete(ProblemProjection))
        s.execute(delete(ProblemSpell))
        s.execute(delete(ProblemHandover))
        replayed = [findings_json(evaluate(session=s, plan_id=cast.plan_id, period=p, now=n)) for p, n in moments]
        assert with_projection == replayed
    finally:
        s.rollback()


def test_migrating_a_database_with_problems_up_from_before_the_projection_rebuilds_all_of_it(
    cast: Cast, db_url: str
) -> None:
    """A deployment upgraded from before the projection (0015) through every migration that
    rebuilds it (0016, 0019, 0022, 0023) ends with the projection, the spells and the hand-overs
    the domain keeps live: the earlier migrations' rebuilds write only the columns their schema
    has (0016 runs before 0023's change_event_id), and 0023 fills that column for every problem."""
    _play(
        cast,
        [
            (0, "accept", "water", 0.5),
            (0, "resolve", "water", 1.0),
            (0, "reopen", "water", 1.0),
            (0, "resolve", "water", 1.0),
            (0, "confirm", "water", 1.0),
            (1, "hand", "eco", 1.0),
            (1, "accept", "eco", 1.0),
            (1, "resolve", "eco", 1.0),
            (1, "confirm", "eco", 1.0),
        ],
    )
    cast.s.commit()
    live, spells, handovers = _projection(cast.s), _spells(cast.s), _handovers(cast.s)
    assert all(row["change_event_id"] is not None for row in live.values())
    cast.s.close()
    cast.s.get_bind().dispose()  # type: ignore[union-attr]  # no connection left open across the migrations

    command.downgrade(alembic_config(db_url), "0015")
    command.upgrade(alembic_config(db_url), "head")

    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            assert _projection(s) == live
            assert _spells(s) == spells
            assert _handovers(s) == handovers
    finally:
        engine.dispose()


def test_rebuild_projections_corrects_a_projection_written_past_the_domain(cast: Cast, settings_env: Any) -> None:
    """`lianxi db rebuild-projections` finds and corrects a projection that disagrees with
    the events (here: one edited by hand), and says how many it corrected."""
    pid = cast.raise_("water", at(1, 6))
    accept_problem(session=cast.s, problem_id=pid, actor=cast["water"], now=at(1, 7))
    cast.s.commit()
    good = _projection(cast.s)[pid]
    row = cast.s.get(ProblemProjection, pid)
    assert row is not None
    row.state_kind, row.owner_unit_id = "resolved", cast.uid("eco")
    cast.s.commit()

    result = CliRunner().invoke(app, ["db", "rebuild-projections"])
    assert result.exit_code == 0, result.output
    assert "已由办理记录重建1个问题的状态，其中1个与原记录不一致，已更正。" in result.output
    cast.s.expire_all()
    assert _projection(cast.s)[pid] == good
    cast.s.commit()

    again = CliRunner().invoke(app, ["db", "rebuild-projections"])
    assert "已由办理记录重建1个问题的状态，与原记录一致。" in again.output


def test_rebuild_projections_corrects_spells_written_past_the_domain(cast: Cast, settings_env: Any) -> None:
    """A spell edited by hand (the raising's spell made to run on past the acceptance) and one
    deleted are found and corrected by `lianxi db rebuild-projections`."""
    pid = cast.raise_("water", at(1, 6))
    accept_problem(session=cast.s, problem_id=pid, actor=cast["water"], now=at(1, 7))
    cast.s.commit()
    good = _spells(cast.s)
    kept = [good[e]["next_at"] is None for e in sorted(good)]
    assert kept[-1] and not any(kept[:-1])  # only the acceptance's spell still runs
    first, second = min(good), max(good)
    row = cast.s.get(ProblemSpell, first)
    assert row is not None
    row.next_at = None
    cast.s.delete(cast.s.get(ProblemSpell, second))
    cast.s.commit()

    result = CliRunner().invoke(app, ["db", "rebuild-projections"])
    assert result.exit_code == 0, result.output
    assert "已由办理记录重建1个问题的状态，其中1个与原记录不一致，已更正。" in result.output
    cast.s.expire_all()
    assert _spells(cast.s) == good


def test_rebuild_projections_corrects_hand_overs_written_past_the_domain(cast: Cast, settings_env: Any) -> None:
    """A hand-over's run edited by hand (its number in the run and its judged reason) and a
    ruling's row deleted are found and corrected by `lianxi db rebuild-projections`."""
    pid = cast.raise_("water", at(1, 6))
    s = cast.s
    hand_over_problem(
        session=s, problem_id=pid, actor=cast["water"], to_unit_id=cast.uid("eco"), reason="不属于本单位", now=at(1, 7)
    )
    hand_over_problem(
        session=s, problem_id=pid, actor=cast["eco"], to_unit_id=cast.uid("water"), reason="不属于本单位", now=at(1, 8)
    )
    rule_problem(session=s, problem_id=pid, actor=cast.office, to_unit_id=cast.uid("eco"), reason="裁定", now=at(1, 9))
    s.commit()
    good = _handovers(s)
    assert [(r["kind"], r["pass_no"], r["comes_back"]) for _, r in sorted(good.items())] == [
        ("handed_over", 1, False),
        ("handed_over", 2, True),  # back to 水利局, which handed it away first
        ("ruled", 0, True),  # and ruled to 生态环境局, which had handed it away too
    ]
    first, _second, ruling = sorted(good)
    row = s.get(ProblemHandover, first)
    assert row is not None
    row.pass_no, row.reason_accepted = 5, True
    s.delete(s.get(ProblemHandover, ruling))
    s.commit()

    result = CliRunner().invoke(app, ["db", "rebuild-projections"])
    assert result.exit_code == 0, result.output
    assert "已由办理记录重建1个问题的状态，其中1个与原记录不一致，已更正。" in result.output
    s.expire_all()
    assert _handovers(s) == good


def test_a_judged_reason_reaches_the_hand_overs_run(cast: Cast) -> None:
    """The office judging a hand-over's reason (in a ruling or on its own) is carried to the
    hand-over's row, which the shifting rules read."""
    s = cast.s
    pid = cast.raise_("water", at(1, 6))
    hand_over_problem(
        session=s, problem_id=pid, actor=cast["water"], to_unit_id=cast.uid("eco"), reason="不属于本单位", now=at(1, 7)
    )
    (event_id,) = _handovers(s)
    accept_handover_reason(session=s, event_id=event_id, actor=cast.office, accepted=False, now=at(1, 8))
    assert _handovers(s)[event_id]["reason_accepted"] is False
    accept_handover_reason(session=s, event_id=event_id, actor=cast.office, now=at(1, 9))
    assert _handovers(s)[event_id]["reason_accepted"] is True
    assert _handovers(s) == _handovers_replayed(s)


def _spells_by_hand(cast: Cast, start: datetime, as_of: datetime, idle_days: float) -> tuple[dict, dict, dict]:
    """The spells the rules count, recomputed from every event in Python (not the rules' SQL):
    each action of a problem that may have been open in the window, up to `as_of`, on which
    its holder must act, runs to the next action (comments are not action) or, still running,
    to the day before `as_of`; it counts when it ends after `start`. Working days from when
    the unit could act. Per unit: waits by working days, idle spells' count and their lengths."""
    s = cast.s
    since = accountable_from(session=s, plan_id=cast.plan_id)
    problems = {p.id: p for p in s.execute(select(Problem).where(Problem.plan_id == cast.plan_id)).scalars()}
    actions: dict[int, list[ProblemEvent]] = {}
    for e in s.execute(select(ProblemEvent).order_by(ProblemEvent.at, ProblemEvent.id)).scalars():  # type: ignore[arg-type]  # mypy does not check tests
        if e.kind != "commented" and e.at <= as_of:
            actions.setdefault(e.problem_id, []).append(e)
    waits: dict[int, dict[int, int]] = {}
    idle: dict[int, int] = {}
    lengths: dict[int, dict[tuple[bool, bool, date, date], int]] = {}  # spells alike cite one example
    for pid, evs in actions.items():
        p = problems[pid]
        if p.created_at > as_of or (p.closed_at is not None and p.closed_at < start):
            continue
        for i, e in enumerate(evs):
            nxt = evs[i + 1].at if i + 1 < len(evs) else None
            unit = e.to_unit_id
            if e.kind not in MUST_ACT or unit is None or (nxt or as_of) <= start or unit not in since:
                continue
            last = local_day(nxt) if nxt is not None else local_day(as_of - timedelta(seconds=1))
            wd = workdays_between(max(local_day(e.at), since[unit] - timedelta(days=1)), last)
            waiting = e.kind in ("assigned", "handed_over")
            if waiting:
                waits.setdefault(unit, {}).setdefault(wd, 0)
                waits[unit][wd] += 1
            if wd >= idle_days:
                idle[unit] = idle.get(unit, 0) + 1
                lengths.setdefault(unit, {})[(waiting, nxt is None, local_day(e.at), last)] = wd
    return waits, idle, lengths


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=30), idle_days=st.sampled_from([1, 3, 10]))
@example(  # a spell open across the window's start, one inside it, one still running at its end
    steps=[
        (0, "accept", "water", 80.0),
        (0, "hand", "eco", 5.0),
        (1, "accept", "natres", 1.0),
        (0, "comment", "water", 9.0),
        (0, "accept", "eco", 9.0),
    ],
    idle_days=3,
)
@example(steps=[(0, "accept", "forestry", 0.0), (1, "accept", "forestry", 0.0)], idle_days=1)  # two alike: one example
def test_the_spells_the_rules_count_are_those_recomputed_from_every_event(
    cast: Cast, steps: list[tuple[int, str, str, float]], idle_days: int
) -> None:
    """spell_stats reads only the spells that reach the window (models.tables.ProblemSpell),
    or every event of a problem without a projection: the waits and idle spells it counts are
    those recomputed from every event, with and without the projection and the spells."""
    s = cast.s
    try:
        _play(cast, steps)
        windows = [
            (at(1, 1, 0), at(2, 10)),
            (at(2, 1, 0), at(4, 1, 0)),
            (at(4, 1, 0), datetime(2026, 12, 1, tzinfo=UTC)),
        ]
        for emptied in (False, True):
            if emptied:
                s.execute(delete(ProblemProjection))
                s.execute(delete(ProblemSpell))
            for start, as_of in windows:
                got = spell_stats(session=s, plan_id=cast.plan_id, start=start, as_of=as_of, idle_days=idle_days)
                waits, idle, lengths = _spells_by_hand(cast, start, as_of, idle_days)
                assert {u: dict(v) for u, v in got.waits.items() if v} == waits
                assert {u: n for u, n in got.idle_count.items() if n} == idle
                for unit, top in got.idle_top.items():  # the longest few, each a real idle spell of the unit
                    chosen = sorted(top, key=lambda x: (-x[0], x[1]))[:5]
                    assert [wd for wd, _ in chosen] == sorted(lengths[unit].values(), reverse=True)[:5]
                    for _wd, event_id in chosen:
                        event = s.get(ProblemEvent, event_id)
                        assert event is not None and event.to_unit_id == unit
    finally:
        s.rollback()
