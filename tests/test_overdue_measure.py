"""逾期 has one meaning in every document: a problem not 办结 (neither closed nor resolved and
waiting for the raiser's confirmation) past the end of its deadline day.

Scenario (issue 18, one definition per measure): 林草局 holds four problems of 2026Q3 due on 31
August — E resolved on 20 August and not yet confirmed, F resolved on 10 September (late) and not
yet confirmed, G accepted and never resolved, H resolved and confirmed. At the quarter's end E, F
and G are open (the raiser has not confirmed E and F) and only G is overdue: the brief's lead, its
tables by category and by unit and its chat summary, the notice rules and the review
(oversight.measures.problem_counts) and the daily digest's list all count G alone. The brief used
to count E and F as 逾期 too (open past their deadline), so its 表4 gave 林草局 three overdue
problems where the notice rules counted one (the demo's 2026Q1 brief counted 财政局's 12号问题,
resolved three weeks before its deadline, among 其中逾期9个)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from jobs.brief import brief_context, brief_summary
from models import Plan, ProblemCategory, Unit, session_scope
from models.base import row_id
from oversight.briefdata import brief_data, parse_period
from oversight.digest import overdue_problems
from oversight.measures import problem_counts
from oversight.problems import accept_problem, confirm_problem, raise_problem, resolve_problem
from tests.test_resolution_measure import AFTER, QUARTER_END, member, sh


def four_problems(engine: Any, plan_id: int) -> dict[str, int]:
    with session_scope(engine) as s:
        plan = s.get(Plan, plan_id)
        assert plan is not None
        plan.tracking_since = date(2026, 3, 2)
        raiser = member(s, plan_id, "emergency", 9201)
        holder = member(s, plan_id, "forestry", 9202)
        cat = s.exec(
            select(ProblemCategory).where(ProblemCategory.plan_id == plan_id, ProblemCategory.key == "forest_grass")
        ).one()
        ids = {}
        for name in "EFGH":
            p = raise_problem(
                session=s,
                plan_id=plan_id,
                actor=raiser,
                text=f"林地手续{name}",
                category_id=cat.id,
                now=sh(2026, 7, 6, 10),
            )
            p.due_on = date(2026, 8, 31)
            accept_problem(session=s, problem_id=row_id(p), actor=holder, now=sh(2026, 7, 6, 11))
            ids[name] = row_id(p)
        for name, when in (("E", sh(2026, 8, 20, 15)), ("F", sh(2026, 9, 10, 15)), ("H", sh(2026, 8, 20, 15))):
            resolve_problem(session=s, problem_id=ids[name], actor=holder, evidence_text="已办理完毕", now=when)
        confirm_problem(session=s, problem_id=ids["H"], actor=raiser, now=sh(2026, 8, 24, 10))
    return ids


def test_a_resolution_waiting_for_confirmation_is_not_overdue_in_any_document(engine, banner_plan_id: int) -> None:
    ids = four_problems(engine, banner_plan_id)
    opened, late = sorted([ids["E"], ids["F"], ids["G"]]), [ids["G"]]
    with Session(engine) as s:
        fid = row_id(s.exec(select(Unit).where(Unit.plan_id == banner_plan_id, Unit.key == "forestry")).one())

        data = brief_data(session=s, plan_id=banner_plan_id, period=parse_period("2026Q3"), now=AFTER)
        totals = data["problems"]["totals"]
        assert totals["open"] == {"n": 3, "ids": opened}
        assert totals["overdue"] == {"n": 1, "ids": late}
        (by_unit,) = [u for u in data["problems"]["by_unit"] if u["unit_id"] == fid]
        assert by_unit["overdue"] == {"n": 1, "ids": late}
        assert [c["overdue"] for c in data["problems"]["by_category"]] == [{"n": 1, "ids": late}]

        ctx = brief_context(data, issue_no=1, issued_on="2026-10-15", chart="<svg/>")
        (lead,) = [f for f in ctx["facts"] if f["kind"] == "problems_lead"]
        assert "期末未关闭3个，其中逾期1个" in lead["text"], lead
        (problems,) = [sec for sec in ctx["sections"] if sec.get("heading") == "问题办理情况"]
        by_cat, unit_table = problems["tables"]
        assert [row[1:] for row in unit_table["rows"] if row[0] == "旗林草局"] == [[4, 3, 3, 1]], unit_table["rows"]
        assert by_cat["rows"][-1][1:] == [4, 3, 3, 1], by_cat["rows"]
        foot = "逾期指期末尚未办结且截至2026年9月30日已过办理期限的问题（已办结待确认的不计"
        assert any(foot in str(p) for p in problems["paragraphs"]), problems["paragraphs"]
        assert "期末未关闭3个，其中逾期1个" in brief_summary(data, issue_no=1)

        # The notice rules and the review count the same one problem against 林草局, and the
        # digest lists it alone.
        counts = problem_counts(session=s, plan_id=banner_plan_id, start=sh(2026, 7, 1), as_of=QUARTER_END)
        assert (counts[fid]["overdue"], [e["problem_id"] for e in counts[fid]["examples"]]) == (1, late)
        assert [
            row_id(p) for p, _ in overdue_problems(session=s, plan_id=banner_plan_id, day=date(2026, 10, 15))
        ] == late
