"""The brief's agenda for the next meeting 督办s only the 议定事项 that are past their deadline
(issue 18): the demo's 2026Q1 brief read 督办上次会议未完成的议定事项2项 where one of the two was
not due until 30 June — a matter not yet due is not behind, and the meeting's own agenda
(oversight.convening.draft_agenda) lists only overdue ones.

A meeting on 5 March 2026 decides a matter for 旗林草局 due Friday 20 March and one for 旗水利局
due 30 June; neither is done when the quarter's brief is made."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from pypdf import PdfReader
from sqlmodel import Session

from jobs.brief import brief_context, build_brief
from oversight.briefdata import brief_data, parse_period
from oversight.meetings import AgreedMatter, record_meeting
from tests.test_accountability import AFTER_Q1, Cast, at


def _meeting(session: Session, cast: Cast, *dues: tuple[str, date]) -> list[int]:
    _, decisions = record_meeting(
        session=session,
        plan_id=cast.plan_id,
        held_on=date(2026, 3, 5),
        title="2026年第一季度联席会议",
        kind="quarterly",
        period="2026Q1",
        decisions=[
            AgreedMatter(text=f"完成{unit}牵头事项", owner_unit_id=cast.uid(unit), due_on=due) for unit, due in dues
        ],
        actor="test",
        now=at(3, 5),
    )
    session.commit()
    return [int(d.id or 0) for d in decisions]


def _agenda(cast: Cast) -> list[dict]:
    data = brief_data(session=cast.s, plan_id=cast.plan_id, period=parse_period("2026Q1"), now=AFTER_Q1)
    ctx = brief_context(data, issue_no=1, issued_on="2026-04-01", chart=None)
    return [f for f in ctx["facts"] if f["kind"].startswith("agenda_")]


def test_the_agenda_follows_up_only_the_matter_past_its_deadline(
    session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    cast = Cast(session, banner_plan_id)
    due, later = _meeting(session, cast, ("forestry", date(2026, 3, 20)), ("water", date(2026, 6, 30)))

    (item,) = [f for f in _agenda(cast) if f["kind"] == "agenda_decisions"]
    assert item["text"] == "督办上次会议逾期未完成的议定事项1项。", item
    assert item["ids"] == {"decision": [due]}, item

    # The delivered PDF says the same, and nothing of the matter not yet due being followed up.
    built = build_brief(session=session, plan_id=banner_plan_id, period="2026Q1", now=AFTER_Q1, out_dir=tmp_path)
    pdf = "".join("".join(page.extract_text() for page in PdfReader(built.pdf_path).pages).split())
    assert "督办上次会议逾期未完成的议定事项1项。" in pdf
    assert not re.search(r"督办上次会议\S*议定事项2项", pdf)
    assert later not in item["ids"]["decision"]


def test_no_follow_up_item_while_every_open_matter_is_still_within_its_deadline(
    session: Session, banner_plan_id: int
) -> None:
    cast = Cast(session, banner_plan_id)
    _meeting(session, cast, ("forestry", date(2026, 6, 30)), ("water", date(2026, 6, 30)))

    agenda = _agenda(cast)
    assert not [f for f in agenda if f["kind"] == "agenda_decisions"], agenda
    assert not [f for f in agenda if "督办上次会议" in f["text"]], agenda
