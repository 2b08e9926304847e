"""The per-problem projection (models.projection) against the events it is folded from.

Generated histories of problems, written through the domain functions (refused steps are
skipped, as a user's refused button would be): the projection kept live by each event must
equal the one `rebuild` computes from the event table, and the accountability rules must
find the same whether they read the projection or, with it emptied, replay every event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlmodel import Session
from typer.testing import CliRunner

from lianxi.cli import app
from models import Problem, ProblemEvent, ProblemProjection
from models.db import table_of
from models.projection import rebuild
from oversight.accountability import evaluate, findings_json
from oversight.errors import OversightError
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
from tests.test_accountability import Cast, at

UNITS = ("forestry", "natres", "water", "eco", "market_reg")
ACTIONS = ("accept", "hand", "decline", "rule", "reason", "resolve", "confirm", "reopen", "comment")
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
        result = rebuild(s.connection())
        assert result.changed == 0 and result.problems == len(ids)
        assert _projection(s) == live

        # Evaluated mid-quarter, at its end with later events, and after everything.
        moments = [("2026Q1", at(2, 10)), ("2026Q1", at(4, 21)), ("2026Q2", datetime(2026, 12, 1, tzinfo=UTC))]
        with_projection = [
            findings_json(evaluate(session=s, plan_id=cast.plan_id, period=p, now=n)) for p, n in moments
        ]
        s.execute(delete(ProblemProjection))
        replayed = [findings_json(evaluate(session=s, plan_id=cast.plan_id, period=p, now=n)) for p, n in moments]
        assert with_projection == replayed
    finally:
        s.rollback()


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
    assert "已由办理记录重建 1 个问题的状态，其中 1 个与原记录不一致，已更正。" in result.output
    cast.s.expire_all()
    assert _projection(cast.s)[pid] == good
    cast.s.commit()

    again = CliRunner().invoke(app, ["db", "rebuild-projections"])
    assert "已由办理记录重建 1 个问题的状态，与原记录一致。" in again.output
