"""办结 has one definition (oversight.measures.resolutions) that the brief, the notice and the review
all print: a problem is 办结 in a window when, at the window's end, it stands resolved or confirmed
and the resolution that led there fell inside the window, credited to the unit that resolved it.

Scenario (issue 18, one definition per measure): 林草局 holds four problems in 2026Q3 —
A resolved in the quarter; B resolved and reopened in the quarter (still open, past its deadline);
C resolved in 2026Q2 and confirmed in 2026Q3; D resolved in the quarter and reopened after it. At
the quarter's end A and D are 办结 (2 of the 3 problems it owned: A, D and the overdue B). The brief
(its problem tables, its unit table, its lead sentence and the chat summary sent with it), the notice
draft (林草局 named for 问题解决不积极, the plan asking for 90 %) and the review of 2026H2 as it stood at
the quarter's end (its window so far is the quarter) each print 2 and cite A and D."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from jobs.brief import brief_context, brief_summary
from models import Member, Plan, ProblemCategory, Role, Unit, session_scope
from models.base import row_id
from oversight.briefdata import brief_data, parse_period
from oversight.notices import draft_notice, notice_document, notice_findings
from oversight.problems import accept_problem, confirm_problem, raise_problem, reopen_problem, resolve_problem
from oversight.review import build_review, review_document

SH = ZoneInfo("Asia/Shanghai")
QUARTER_END = datetime(2026, 10, 1, tzinfo=SH).astimezone(UTC)  # 2026Q3 ends; 2026H2 so far is the quarter
AFTER = datetime(2026, 10, 15, 9, tzinfo=SH).astimezone(UTC)  # the brief and the notice of 2026Q3 are made


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


def member(s: Session, plan_id: int, key: str, tg: int) -> Member:
    unit = s.exec(select(Unit).where(Unit.plan_id == plan_id, Unit.key == key)).one()
    m = Member(
        plan_id=plan_id,
        telegram_user_id=tg,
        name=f"{unit.short}联络员",
        unit_id=unit.id,
        role=Role.CONTACT,
        joined_at=sh(2026, 3, 2, 9),
    )
    s.add(m)
    s.flush()
    return m


def four_problems(engine: Any, plan_id: int) -> dict[str, int]:
    with session_scope(engine) as s:
        plan = s.get(Plan, plan_id)
        assert plan is not None
        plan.tracking_since = date(2026, 3, 2)
        spec = dict(plan.spec or {})
        spec["thresholds"] = {**(spec.get("thresholds") or {}), "resolved_share": 0.9}
        plan.spec = spec
        raiser = member(s, plan_id, "emergency", 9101)
        holder = member(s, plan_id, "forestry", 9102)
        cat = s.exec(
            select(ProblemCategory).where(ProblemCategory.plan_id == plan_id, ProblemCategory.key == "forest_grass")
        ).one()

        def problem(name: str, raised: datetime, due: date) -> int:
            p = raise_problem(
                session=s, plan_id=plan_id, actor=raiser, text=f"林地手续{name}", category_id=cat.id, now=raised
            )
            p.due_on = due
            accept_problem(session=s, problem_id=row_id(p), actor=holder, now=raised.replace(hour=raised.hour + 1))
            return row_id(p)

        def resolve(pid: int, when: datetime) -> None:
            resolve_problem(session=s, problem_id=pid, actor=holder, evidence_text="已办理完毕", now=when)

        def reopen(pid: int, when: datetime) -> None:
            reopen_problem(session=s, problem_id=pid, actor=raiser, reason="问题仍未解决", now=when)

        ids = {
            "A": problem("甲", sh(2026, 7, 6, 10), date(2026, 12, 31)),
            "B": problem("乙", sh(2026, 7, 6, 10), date(2026, 8, 31)),
            "C": problem("丙", sh(2026, 6, 1, 10), date(2026, 12, 31)),
            "D": problem("丁", sh(2026, 7, 6, 10), date(2026, 12, 31)),
        }
        resolve(ids["A"], sh(2026, 7, 20, 15))
        resolve(ids["B"], sh(2026, 7, 21, 15))
        reopen(ids["B"], sh(2026, 8, 3, 10))
        resolve(ids["C"], sh(2026, 6, 15, 15))
        confirm_problem(session=s, problem_id=ids["C"], actor=raiser, now=sh(2026, 7, 10, 10))
        resolve(ids["D"], sh(2026, 9, 10, 15))
        reopen(ids["D"], sh(2026, 10, 12, 10))
    return ids


def test_the_brief_the_notice_and_the_review_print_the_same_resolutions(engine, banner_plan_id: int) -> None:
    ids = four_problems(engine, banner_plan_id)
    done = sorted([ids["A"], ids["D"]])
    cited = f"{done[0]}号、{done[1]}号问题"
    with Session(engine) as s:
        forestry = s.exec(select(Unit).where(Unit.plan_id == banner_plan_id, Unit.key == "forestry")).one()
        fid = row_id(forestry)

        # The brief of 2026Q3: its totals, the problems by unit, the unit table, the lead, the foot, the chat summary.
        data = brief_data(session=s, plan_id=banner_plan_id, period=parse_period("2026Q3"), now=AFTER)
        assert data["problems"]["totals"]["resolved"] == {"n": 2, "ids": done}
        (by_unit,) = [u for u in data["problems"]["by_unit"] if u["unit_id"] == fid]
        assert by_unit["resolved"] == {"n": 2, "ids": done}
        (unit_row,) = [u for u in data["units"] if u["unit_id"] == fid]
        assert unit_row["handled"] == {"n": 2, "ids": done}
        ctx = brief_context(data, issue_no=1, issued_on="2026-10-15", chart="<svg/>")
        (lead,) = [f for f in ctx["facts"] if f["kind"] == "problems_lead"]
        assert "办结2个" in lead["text"], lead
        (problems,) = [sec for sec in ctx["sections"] if sec.get("heading") == "问题办理情况"]
        _by_cat, unit_table = problems["tables"]
        assert [row[2] for row in unit_table["rows"] if row[0] == "旗林草局"] == [2], unit_table["rows"]
        foot = "办结指期末处于已办结状态（含待提出方确认的）、且于本期办结的问题"
        assert any(foot in str(p) for p in problems["paragraphs"]), problems["paragraphs"]
        (units,) = [sec for sec in ctx["sections"] if sec.get("heading") == "各单位履职情况"]
        assert [row[3] for row in units["tables"][0]["rows"] if row[0] == "旗林草局"] == [2]
        assert any("办结问题指期末处于已办结状态、且于本期由该单位办结的问题" in str(p) for p in units["paragraphs"])
        assert "问题：本期新增3个，办结2个；" in brief_summary(data, issue_no=1)

        # The notice draft of 2026Q3: 林草局 named for resolving 2 of its 3 problems, citing A and D
        # in the sentence and their resolutions in the evidence.
        notice = draft_notice(session=s, plan_id=banner_plan_id, period="2026Q3", now=AFTER)
        doc = notice_document(session=s, notice_id=row_id(notice), now=AFTER)
        body = "\n".join(doc["paragraphs"])
        assert (
            f"本期办结和逾期未办结的问题共3个，仅办结2个（{cited}，占66.7%），逾期未办结1个（{ids['B']}号问题）" in body
        ), body
        found = notice_findings(session=s, notice_id=row_id(notice))
        evidence = [e for f in found for e in f.evidence if e.get("basis") == "low_resolution"]
        assert sorted(e["problem_id"] for e in evidence if e.get("kind") == "resolved") == done, evidence
        (table,) = [t for t in doc["sections"][0]["tables"] if t["caption"] == "旗林草局：问题解决不积极、不明显"]
        # Its resolutions among the table's rows, which run in time order (sentences.ordered_evidence).
        resolved = [row[2].split("，")[0] for row in table["rows"] if row[2].startswith("办结")]
        assert {f"办结{i}号问题" for i in done} <= set(resolved), table

        def when(cell: str) -> list[int]:  # a day's events at their minute, then the day's other rows
            nums = [int(x) for x in re.findall(r"\d+", cell)]
            return nums[:3] + (nums[3:5] if ":" in cell else [99])

        assert [row[0] for row in table["rows"]] == sorted((row[0] for row in table["rows"]), key=when), table
        s.rollback()

        # The review of 2026H2 at the quarter's end: 问题办结 2 of 3, the same problems cited.
        review = build_review(session=s, plan_id=banner_plan_id, period="2026H2", now=QUARTER_END)
        (row,) = [u for u in review["units"] if u["unit_id"] == fid]
        assert row["problems"] == {"owned": 3, "resolved": 2, "resolved_ids": done}
        assert row["indicators"]["resolution"] == round(2 / 3, 3)
        rdoc = review_document(session=s, plan_id=banner_plan_id, review=review, now=QUARTER_END)
        (fact,) = [f for f in rdoc["facts"] if f["kind"] == "resolution_units"]
        assert f"旗林草局应办结问题3个，办结2个（{cited}）" in fact["text"], fact
        # 2026H2 runs on at QUARTER_END: 办结 is the state now (目前), as the brief says of a running quarter.
        assert "办结指目前处于已办结状态、且于本期办结的问题" in fact["text"]
        assert fact["ids"]["problem"] == done
        (scores,) = [sec for sec in rdoc["sections"] if sec["heading"] == "成员单位问效得分"]
        assert fact["text"] in scores["paragraphs"]
