"""Issue 18, item 7 and its neighbours, as the office would meet them in the half-year review:

- 旗信访局 carries no task of the plan; it accepts and resolves the one petition handed to it and
  scores 100 on what it did. It was ranked first, above 旗水利局, which reported every week,
  carried its batches and resolved its problem. Now it is scored on its problems in a table of
  its own and ranked with nobody; the ranking is of the units that carried the plan's tasks.
- A review made while the half runs says 办结指目前…, not 期末 (a state it cannot know yet).
- A 涉法涉诉 problem the plan routes to the office itself goes red: the office issues no 督办单 to
  itself, and the review does not list 旗政府办公室 among the units that received one."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from jobs.review import run as review_job
from jobs.supervision import run_supervision
from models import OutboxMessage, Problem, Role, SupervisionMark, SupervisionOrder
from oversight import supervision as sv
from oversight.problems import accept_problem, resolve_problem
from oversight.review import build_review, review_document, unit_scores
from oversight.workdays import add_workdays
from tests.test_accountability import SH, Cast, at

AFTER_H1 = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)
IN_H1 = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)  # 10:00 on 20 May in Shanghai: the half runs on


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> Cast:
    return Cast(session, banner_plan_id)


def _pdf_text(path: str) -> str:
    return "".join("".join((page.extract_text() or "").split()) for page in PdfReader(path).pages)


def _half(cast: Cast) -> None:
    """旗水利局 reports and resolves a water problem; 旗信访局 (no task) resolves a petition in a day."""
    cast.people["petition"] = cast.member("petition", Role.CONTACT)
    cast.report_weekly("water")
    wp = cast.raise_("water", at(3, 2), category="water_permit")
    accept_problem(session=cast.s, problem_id=wp, actor=cast["water"], now=at(3, 2, 11))
    resolve_problem(session=cast.s, problem_id=wp, actor=cast["water"], evidence_text="已批复", now=at(3, 3))
    pp = cast.raise_("petition", at(3, 9), category="petition")
    accept_problem(session=cast.s, problem_id=pp, actor=cast["petition"], now=at(3, 9, 11))
    resolve_problem(session=cast.s, problem_id=pp, actor=cast["petition"], evidence_text="已答复", now=at(3, 10))
    cast.s.commit()


def test_a_unit_with_no_task_is_scored_on_its_problems_apart_and_ranked_with_nobody(cast: Cast, tmp_path: Path) -> None:
    _half(cast)
    rows = {r["unit"]: r for r in unit_scores(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)}
    petition, water = rows["旗信访局"], rows["旗水利局"]
    assert petition["score"] == 100.0 and water["score"] < 100.0  # what each did, as before
    assert (petition["tasked"], petition["rank"]) == (False, None)
    assert water["tasked"] and water["rank"] is not None
    ranked = sorted((r for r in rows.values() if r["rank"] is not None), key=lambda r: r["rank"])
    assert "旗信访局" not in [r["unit"] for r in ranked] and ranked[0]["rank"] == 1

    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=AFTER_H1)
    by = {sec["heading"]: sec for sec in doc["sections"]}
    main_units = [row[0] for t in by["成员单位问效得分"]["tables"] for row in t["rows"]]
    assert "旗信访局" not in main_units and main_units[0] == ranked[0]["unit"]
    apart = by["未承担批次任务单位问题办理得分"]
    (table,) = apart["tables"]
    assert table["columns"] == [
        "单位",
        "问题响应（20）",
        "问题办结（20）",
        "推诿扯皮（10）",
        "得分",
        "整改扣分",
        "总分",
    ]
    assert table["rows"] == [["旗信访局", "100%", "100%", "100%", "100.0", "0.0", "100.0"]]
    (fact,) = [f for f in doc["facts"] if f["kind"] == "problems_only"]
    assert fact["ids"]["unit"] == [cast.uid("petition")]
    assert fact["text"] == "旗信访局不承担批次任务，仅就交办问题的响应、办结和推诿扯皮情况评分，单独列示，不参与排名。"
    (res,) = [f for f in doc["facts"] if f["kind"] == "resolution_units"]
    assert "办结指期末处于已办结状态" in res["text"]  # the half has ended

    # The PDF as the convener reads it: the section and its sentence, 旗信访局 not in 附件1's ranking.
    result = review_job(session=cast.s, period="2026H1", now=AFTER_H1, data_dir=tmp_path)
    cast.s.commit()
    (plan,) = result["plans"]
    text = _pdf_text(plan["pdf"])
    assert "二、未承担批次任务单位问题办理得分" in text
    assert "旗信访局不承担批次任务，仅就交办问题的响应、办结和推诿扯皮情况评分，单独列示，不参与排名。" in text
    annex = text[text.index("附件1成员单位问效得分") :]
    assert "旗信访局" not in annex[: annex.index("附件2")] and "旗水利局" in annex


def test_a_review_while_the_half_runs_says_resolved_as_of_now(cast: Cast) -> None:
    _half(cast)
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=IN_H1)
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=IN_H1)
    (res,) = [f for f in doc["facts"] if f["kind"] == "resolution_units"]
    assert "办结指目前处于已办结状态、且于本期办结的问题" in res["text"] and "期末" not in res["text"], res
    (opening,) = [f for f in doc["facts"] if f["kind"] == "summary_opening"]
    assert "（统计截至2026年5月20日 10:00）" in opening["text"], opening


def test_the_office_issues_no_order_to_itself(engine, banner_plan_id: int, tmp_path: Path) -> None:
    """A 涉法涉诉 problem is the office's own (the plan's duty map): red after 11 working days late,
    listed red in /duban, but no numbered 督办单 and no 收到红色督办单 for 旗政府办公室 in the review;
    旗林草局's red problem beside it gets its order as before."""
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        start = datetime.combine(date(2026, 3, 2), time(9), tzinfo=SH)
        own = cast.raise_(owner="office", when=start, category="litigation")
        theirs = cast.raise_(owner="forestry", when=start)
        s.commit()
        due = max(s.get(Problem, own).due_on, s.get(Problem, theirs).due_on)
        late = datetime.combine(add_workdays(due, 11), time(9), tzinfo=SH)
        run_supervision(session=s, now=late, data_dir=tmp_path)
        s.commit()
        orders = s.exec(select(SupervisionOrder)).all()
        assert [(o.kind, o.item_id) for o in orders] == [("problem", theirs)]
        marks = {m.item_id: m.colour for m in s.exec(select(SupervisionMark)).all()}
        assert marks[own] == sv.RED and marks[theirs] == sv.RED
        office_texts = [
            m.text
            for m in s.exec(select(OutboxMessage).where(OutboxMessage.kind == "text")).all()
            if f"{own}号问题" in (m.text or "") and "督办单" in (m.text or "")
        ]
        assert office_texts == []  # no message speaks of an order for the office's own problem

        review = build_review(session=s, plan_id=banner_plan_id, period="2026H1", now=AFTER_H1)
        doc = review_document(session=s, plan_id=banner_plan_id, review=review, now=AFTER_H1)
        (sup,) = [f for f in doc["facts"] if f["kind"] == "supervision_units"]
        assert "旗政府办公室" not in sup["text"] and "旗林草局收到红色督办单1份" in sup["text"], sup
        assert cast.uid("office") not in sup["ids"]["unit"]
