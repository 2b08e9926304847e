"""至今 only where the count runs to the moment the document was computed (issue 18, as-of honesty).

Scenario: 应急管理局 raises a problem on Monday 6 July 2026; 林草局 accepts it at once and does nothing
more. The brief and the notice draft of 2026Q3 made on 15 October, after the quarter, count the
problem's working days to the quarter's last day, 30 September, and say so (the brief 截至期末, the
notice 截至2026年9月30日), where they said 至今 of a count that stopped two weeks before the document's
date (the demo's 2026Q1 brief and notice, dated 8 April: 至今47个工作日 and 连续34个工作日至今无办理动作,
both counted to 31 March). The same documents made on 15 September, inside the quarter, count to
that day and say 至今."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from jobs.brief import brief_context
from models import Plan, ProblemCategory, session_scope
from models.base import row_id
from oversight.briefdata import brief_data, parse_period
from oversight.notices import draft_notice, notice_document
from oversight.problems import accept_problem, raise_problem
from oversight.workdays import workdays_between
from tests.test_resolution_measure import member, sh

SH = ZoneInfo("Asia/Shanghai")
AFTER = datetime(2026, 10, 15, 9, tzinfo=SH).astimezone(UTC)  # the quarter ended on 30 September
DURING = datetime(2026, 9, 15, 9, tzinfo=SH).astimezone(UTC)  # the quarter still running
# Working days from the day raised (and accepted) to the quarter's last day, and to 15 September.
TO_END, TO_DURING = 62, 51


def idle_problem(engine: Any, plan_id: int) -> int:
    with session_scope(engine) as s:
        plan = s.get(Plan, plan_id)
        assert plan is not None
        plan.tracking_since = date(2026, 3, 2)
        raiser = member(s, plan_id, "emergency", 9201)
        holder = member(s, plan_id, "forestry", 9202)
        cat = s.exec(
            select(ProblemCategory).where(ProblemCategory.plan_id == plan_id, ProblemCategory.key == "forest_grass")
        ).one()
        p = raise_problem(
            session=s, plan_id=plan_id, actor=raiser, text="林地手续受阻", category_id=cat.id, now=sh(2026, 7, 6, 10)
        )
        p.due_on = date(2026, 12, 31)  # not overdue: only the idle rule names 林草局
        accept_problem(session=s, problem_id=row_id(p), actor=holder, now=sh(2026, 7, 6, 11))
        return row_id(p)


def oldest_sentence(s: Session, plan_id: int, now: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = brief_data(session=s, plan_id=plan_id, period=parse_period("2026Q3"), now=now)
    ctx = brief_context(data, issue_no=1, issued_on=now.astimezone(SH).date().isoformat(), chart="<svg/>")
    (fact,) = [f for f in ctx["facts"] if f["kind"] == "problems_oldest"]
    return fact, ctx["facts"]


def notice_body(s: Session, plan_id: int, now: datetime) -> str:
    notice = draft_notice(session=s, plan_id=plan_id, period="2026Q3", now=now)
    doc = notice_document(session=s, notice_id=row_id(notice), now=now)
    body = "\n".join(doc["paragraphs"]) + "\n" + "\n".join(str(sec) for sec in doc["sections"])
    s.rollback()
    return body


def test_a_past_quarter_counts_to_its_end_and_says_so_a_running_one_says_until_now(engine, banner_plan_id: int) -> None:
    pid = idle_problem(engine, banner_plan_id)
    assert workdays_between(date(2026, 7, 6), date(2026, 9, 30)) == TO_END
    assert workdays_between(date(2026, 7, 6), date(2026, 9, 15)) == TO_DURING
    with Session(engine) as s:
        # After the quarter: counted to 30 September, 截至期末, and no 至今 anywhere in the brief.
        fact, facts = oldest_sentence(s, banner_plan_id, AFTER)
        assert fact["values"]["workdays"] == TO_END, fact
        assert (
            f"{pid}号问题（林草征占用，责任单位旗林草局，2026年7月6日提出，截至期末{TO_END}个工作日）。" in fact["text"]
        ), fact
        assert not [f["text"] for f in facts if "至今" in f["text"]]

        body = notice_body(s, banner_plan_id, AFTER)
        assert f"{pid}号问题截至2026年9月30日连续{TO_END}个工作日无办理动作" in body, body
        assert "至今" not in body, body

        # Inside the quarter: counted to the day the documents are made, 至今.
        fact, _ = oldest_sentence(s, banner_plan_id, DURING)
        assert fact["values"]["workdays"] == TO_DURING, fact
        assert f"2026年7月6日提出，至今{TO_DURING}个工作日）。" in fact["text"], fact

        body = notice_body(s, banner_plan_id, DURING)
        assert f"{pid}号问题连续{TO_DURING}个工作日至今无办理动作" in body, body
        assert "截至2026年9月30日" not in body, body
