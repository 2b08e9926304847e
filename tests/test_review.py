"""工作问效 as scenarios: scores from the half's records, the rectification ledger with its
half-yearly follow-up (deadline extended, deduction doubled), re-checks, and closures on
paper (纸面销号)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from jobs.reminders import send_weekly_reminders
from jobs.review import run as review_job
from models import (
    Attachment,
    AuditLog,
    Member,
    OutboxMessage,
    Plan,
    RectificationFollowUp,
    Report,
    Right,
    RightBatch,
    RightStatusEvent,
    Role,
    Task,
    Unit,
    Zone,
    ZoneLeader,
)
from models.base import row_id
from oversight.errors import InvalidInputError, PermissionDeniedError
from oversight.measures import reporting_weeks, tasks_behind
from oversight.members import assign_zone_leader
from oversight.problems import (
    accept_problem,
    confirm_problem,
    decline_problem,
    reopen_problem,
    resolve_problem,
    rule_problem,
)
from oversight.review import (
    add_item,
    build_review,
    close_item,
    follow_up_ledger,
    items_from_review,
    paper_closure_flags,
    recheck_item,
    review_document,
    unit_scores,
    verify_closure,
    zone_leader_scores,
)
from oversight.sentences import evidence_sentence
from tests.test_accountability import JOINED, SH, Cast, at

AFTER_H1 = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> Cast:
    return Cast(session, banner_plan_id)


def item(cast: Cast, unit: str = "water", source: str = "indicator:reporting", deadline: date = date(2026, 12, 31)):
    return add_item(
        session=cast.s,
        plan_id=cast.plan_id,
        period="2026H1",
        unit_id=cast.uid(unit),
        source=source,
        item="半年缺报进展",
        standard="每周按时报送",
        deadline=deadline,
        actor="test",
        now=AFTER_H1,
    )


def local_noon(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 4, tzinfo=UTC)


# --- The doubling ------------------------------------------------------------------------------


def test_an_item_missed_twice_carries_four_times_its_deduction(cast: Cast) -> None:
    it = item(cast, deadline=date(2026, 12, 31))
    assert it.deduction == 5  # rectification.deduction_points of the bundled plan
    follow_up_ledger(session=cast.s, plan_id=cast.plan_id, now=local_noon(date(2027, 1, 6)), actor="worker")
    assert (it.misses, it.deduction, it.deadline) == (1, 10, date(2027, 2, 5))  # 30 days from the follow-up
    # The same follow-up again the same day changes nothing.
    follow_up_ledger(session=cast.s, plan_id=cast.plan_id, now=local_noon(date(2027, 1, 6)), actor="worker")
    assert (it.misses, it.deduction) == (1, 10)
    follow_up_ledger(session=cast.s, plan_id=cast.plan_id, now=local_noon(date(2027, 7, 5)), actor="worker")
    assert (it.misses, it.deduction, it.deadline) == (2, 20, date(2027, 8, 4))
    kinds = [f.kind for f in cast.s.exec(select(RectificationFollowUp).where(RectificationFollowUp.item_id == it.id))]
    assert kinds == ["missed", "missed"]
    cast.s.commit()
    assert len(cast.s.exec(select(AuditLog).where(AuditLog.action == "rectification.missed")).all()) == 2


def test_an_item_rectified_in_time_is_not_doubled(cast: Cast) -> None:
    it = item(cast, deadline=date(2026, 12, 31))
    closed(cast, it, "7月起每周按时报送", at(9, 1))
    follow_up_ledger(session=cast.s, plan_id=cast.plan_id, now=local_noon(date(2027, 1, 6)), actor="worker")
    assert (it.misses, it.deduction, it.state) == (0, 5, "closed")


def test_multiplier_comes_from_the_plan(cast: Cast, session: Session) -> None:
    plan = session.get(Plan, cast.plan_id)
    plan.spec = {**plan.spec, "rectification": {**plan.spec["rectification"], "overdue_multiplier": 3}}
    session.add(plan)
    it = item(cast, deadline=date(2026, 12, 31))
    follow_up_ledger(session=cast.s, plan_id=cast.plan_id, now=local_noon(date(2027, 1, 6)), actor="worker")
    assert it.deduction == 15


def test_missed_items_are_deducted_from_the_unit_score(cast: Cast) -> None:
    cast.report_weekly("water")
    it = item(cast, deadline=date(2026, 3, 31))
    follow_up_ledger(session=cast.s, plan_id=cast.plan_id, now=at(4, 7), actor="worker")
    row = next(
        r
        for r in unit_scores(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
        if r["unit"] == "旗水利局"
    )
    assert row["deduction"] == it.deduction == 10
    assert row["total"] == pytest.approx(row["score"] - 10)


# --- Closing and re-checking ----------------------------------------------------------------------


def closed(cast: Cast, it: Any, text: str, now: Any) -> None:
    """The unit asks for 销号 with its evidence and the office accepts it."""
    close_item(session=cast.s, item_id=it.id, actor=cast["water"], evidence_text=text, now=now)
    verify_closure(session=cast.s, item_id=it.id, actor=cast.office, ok=True, now=now)


def ledger_section(cast: Cast, now: datetime) -> list[str]:
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=now)
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=now)
    return next(sec for sec in doc["sections"] if sec["heading"] == "整改台账").get("paragraphs") or []


def adding(n: int, units: int, deadline: str = "2026年12月31日") -> str:
    return f"本报告印发后，{units}个单位的{n}项事项列入整改台账（表中状态为“拟列入”），整改期限至{deadline}。"


def test_the_ledger_section_says_only_what_its_items_prove(cast: Cast) -> None:
    """A draft lists the items its issue will add (the audit saw 本期没有整改事项 above scores that
    made 15–20 of them at issue); 'extended and doubled' only for items that missed; '回头看' only
    for items 销号 — not the one fixed sentence over any ledger."""
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    below = {
        (r["unit_id"], f"indicator:{k}")
        for r in review["units"]
        for k, v in r["indicators"].items()
        if v is not None and v < 0.6
    }
    assert below and {(a["unit_id"], a["source"]) for a in review["to_add"]} == below
    units = len({u for u, _ in below})
    assert ledger_section(cast, AFTER_H1) == [adding(len(below), units)]
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=AFTER_H1)
    assert "进行了量化评价。现将有关情况报告如下。" in doc["summary"][0] and "跟踪问效" not in doc["summary"][0]
    (table,) = next(sec for sec in doc["sections"] if sec["heading"] == "整改台账")["tables"]
    assert [row[-1] for row in table["rows"]] == ["拟列入"] * len(below)
    late, done, _open = item(cast, unit="natres"), item(cast, unit="water"), item(cast, unit="forestry")
    in_hand = {(cast.uid(u), "indicator:reporting") for u in ("natres", "water", "forestry")}
    assert in_hand <= below
    # Three items in hand: nothing missed, nothing closed; the rest still to be added.
    rest = below - in_hand
    assert ledger_section(cast, AFTER_H1) == [adding(len(rest), len({u for u, _ in rest}))]
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    summary = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=AFTER_H1)["summary"][0]
    assert "进行了量化评价，并对整改台账进行了跟踪问效。" in summary
    closed(cast, done, "7月起每周按时报送", at(9, 1))
    follow_up_ledger(session=cast.s, plan_id=cast.plan_id, now=local_noon(date(2027, 1, 6)), actor="worker")
    assert (late.misses, done.misses, done.state) == (1, 0, "closed")
    assert ledger_section(cast, local_noon(date(2027, 1, 6))) == [
        "逾期未完成整改或回头看未通过的2项事项已延长整改期限并加倍扣分。",
        "已销号的1项事项将于回头看期限到期后回头看。",
        adding(len(rest), len({u for u, _ in rest})),
    ]
    # Issued: what it adds is in the ledger, and no draft's sentence of items to come is left.
    items_from_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=local_noon(date(2027, 1, 6)))
    assert ledger_section(cast, local_noon(date(2027, 1, 6))) == [
        "逾期未完成整改或回头看未通过的2项事项已延长整改期限并加倍扣分。",
        "已销号的1项事项将于回头看期限到期后回头看。",
    ]


def test_a_red_order_issued_at_the_reviews_moment_is_in_it_and_no_zero_is_printed(cast: Cast) -> None:
    """The review as of a moment in the running half sees a 督办单 issued at that very moment (the
    demo issues seven, then writes the review on the same clock: it said 本期没有…督办的单位), and
    a unit never urged reads 收到红色督办单1份, not 被催办0次、收到红色督办单1份."""
    from models import SupervisionOrder

    now = datetime(2026, 4, 8, 1, tzinfo=UTC)
    cast.s.add(
        SupervisionOrder(
            plan_id=cast.plan_id, year=2026, seq=1, doc_no="乌中联办督〔2026〕1号", kind="problem", item_id=1,
            unit_id=cast.uid("forestry"), issued_at=now,
        )
    )  # fmt: skip
    cast.s.flush()
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=now)
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=now)
    section = next(sec for sec in doc["sections"] if sec["heading"] == "督办与催办")
    assert section["paragraphs"] == [
        "本期旗林草局收到红色督办单1份。",
        "办公室本期未催办。",
        "本期发出红色督办单1份，尚未到办结时限。",
    ]


def test_units_with_the_same_supervision_counts_share_one_clause(cast: Cast) -> None:
    """Units sent the same number of 督办单 are named together, as the notice groups its findings:
    the demo's review listed 属地各苏木镇政府收到红色督办单1份；旗交通运输局收到红色督办单1份；… for five
    units one by one."""
    from models import SupervisionOrder

    now = datetime(2026, 4, 8, 1, tzinfo=UTC)
    for seq, unit in enumerate(("forestry", "forestry", "water", "natres"), start=1):
        cast.s.add(
            SupervisionOrder(
                plan_id=cast.plan_id, year=2026, seq=seq, doc_no=f"乌中联办督〔2026〕{seq}号", kind="problem",
                item_id=seq, unit_id=cast.uid(unit), issued_at=now,
            )
        )  # fmt: skip
    cast.s.flush()
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=now)
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=now)
    section = next(sec for sec in doc["sections"] if sec["heading"] == "督办与催办")
    # Equal counts in the plan's order of its units (旗自然资源局 before 旗水利局), not by code point.
    assert section["paragraphs"] == [
        "本期旗林草局收到红色督办单2份；旗自然资源局、旗水利局各收到红色督办单1份。",
        "办公室本期未催办。",
        "本期发出红色督办单4份，均尚未到办结时限。",
    ]


def test_the_reviews_supervision_section_says_what_the_units_were_told_and_that_nobody_was_urged(
    cast: Cast, tmp_path: Path
) -> None:
    """The demo's review said under 督办与催办 only which units got a 督办单, nothing of the blue and
    yellow stages the units had been told of, nor that the office had urged nobody. Two problems
    go blue, yellow and red through the worker, unurged: the rendered review (PDF read back) says
    本期向2个单位发出蓝色提醒2次、黄色督办2次，办公室未另行催办。 before the 督办单; once the office
    urges one of them the stages sentence no longer says so and the unit reads 被催办1次."""
    from pypdf import PdfReader

    from jobs.render import render_document
    from jobs.supervision import run_supervision
    from models import Problem, SupervisionEvent
    from oversight import supervision as sv
    from oversight.workdays import add_workdays
    from tests.test_supervision import _at

    def section(now: datetime) -> tuple[list[str], str]:
        review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=now)
        doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=now)
        files = render_document("review", doc, out=tmp_path / f"review-{now:%m%d%H%M%S}.pdf")
        text = "".join("".join(page.extract_text().split()) for page in PdfReader(files.pdf).pages)
        return next(sec for sec in doc["sections"] if sec["heading"] == "督办与催办")["paragraphs"], text

    problems = [
        cast.raise_(owner="forestry", when=_at(date(2026, 3, 2))),
        cast.raise_(owner="water", when=_at(date(2026, 3, 2)), category="water_permit"),
    ]
    cast.s.commit()
    due = max(cast.s.get(Problem, p).due_on for p in problems)
    days = sorted({add_workdays(cast.s.get(Problem, p).due_on, k) for p in problems for k in (-3, 1, 11)})
    for day in days:
        run_supervision(session=cast.s, now=_at(day), data_dir=tmp_path)
    cast.s.commit()
    told = cast.s.exec(select(SupervisionEvent).where(SupervisionEvent.to_colour.in_(("blue", "yellow")))).all()
    assert sorted(e.to_colour for e in told) == ["blue", "blue", "yellow", "yellow"]
    now = _at(add_workdays(due, 12))
    paragraphs, text = section(now)
    assert paragraphs == [
        "本期向2个单位发出蓝色提醒2次、黄色督办2次，办公室未另行催办。",
        "本期旗林草局、旗水利局各收到红色督办单1份。",
        "本期发出红色督办单2份，均尚未到办结时限。",
    ], paragraphs
    assert "".join(paragraphs) in text, text

    sv.urge(session=cast.s, actor=cast.office, kind="problem", item_id=problems[1], now=now)
    cast.s.commit()
    paragraphs, text = section(now + HOUR)
    assert paragraphs == [
        "本期向2个单位发出蓝色提醒2次、黄色督办2次。",
        "本期旗水利局被催办1次、收到红色督办单1份；旗林草局收到红色督办单1份。",
        "本期发出红色督办单2份，均尚未到办结时限。",
    ], paragraphs
    assert "".join(paragraphs) in text, text


def test_closing_needs_evidence_and_the_right_person(cast: Cast) -> None:
    it = item(cast)
    with pytest.raises(InvalidInputError, match="销号须提供整改佐证"):
        close_item(session=cast.s, item_id=it.id, actor=cast["water"], now=AFTER_H1)
    with pytest.raises(PermissionDeniedError):
        close_item(session=cast.s, item_id=it.id, actor=cast["eco"], evidence_text="已整改", now=AFTER_H1)
    close_item(session=cast.s, item_id=it.id, actor=cast["water"], evidence_text="已整改", now=AFTER_H1)
    # The unit's 销号 waits for the office's check; only then is it closed and its 回头看 set.
    assert it.state == "submitted" and it.recheck_on is None
    with pytest.raises(PermissionDeniedError, match="只有联席会议办公室可以核验"):
        verify_closure(session=cast.s, item_id=it.id, actor=cast["water"], ok=True, now=AFTER_H1)
    with pytest.raises(InvalidInputError, match="须说明理由"):
        verify_closure(session=cast.s, item_id=it.id, actor=cast.office, ok=False, reason="不", now=AFTER_H1)
    verify_closure(session=cast.s, item_id=it.id, actor=cast.office, ok=False, reason="佐证材料不全", now=AFTER_H1)
    assert it.state == "open" and it.recheck_on is None
    closed(cast, it, "已整改，见7月报送记录", AFTER_H1)
    assert it.state == "closed" and it.recheck_on == date(2026, 10, 4)  # recheck_days: 90


def test_failed_recheck_reopens_with_doubled_deduction(cast: Cast) -> None:
    it = item(cast)
    closed(cast, it, "已整改", AFTER_H1)
    recheck_item(session=cast.s, item_id=it.id, actor=cast.office, ok=False, text="8月、9月仍有缺报", now=at(10, 9))
    assert (it.state, it.misses, it.deduction) == ("reopened", 1, 10)
    closed(cast, it, "10月起全部按时报送", at(11, 2))
    recheck_item(session=cast.s, item_id=it.id, actor=cast.office, ok=True, now=local_noon(date(2027, 2, 1)))
    assert it.state == "rechecked"


def test_recheck_due_is_listed_at_follow_up(cast: Cast) -> None:
    it = item(cast)
    closed(cast, it, "已整改", AFTER_H1)
    assert follow_up_ledger(session=cast.s, plan_id=cast.plan_id, now=at(9, 1), actor="w")["recheck_due"] == []
    assert follow_up_ledger(session=cast.s, plan_id=cast.plan_id, now=at(10, 8), actor="w")["recheck_due"] == [it.id]


# --- 纸面销号 ----------------------------------------------------------------------------------------


def test_same_text_closing_two_items_is_flagged(cast: Cast) -> None:
    a, b = item(cast, "water"), item(cast, "water", source="indicator:response")
    c = item(cast, "eco")
    close_item(session=cast.s, item_id=a.id, actor=cast.office, evidence_text="已按要求整改到位。", now=AFTER_H1)
    close_item(session=cast.s, item_id=b.id, actor=cast.office, evidence_text="已按要求 整改到位", now=AFTER_H1)
    close_item(session=cast.s, item_id=c.id, actor=cast.office, evidence_text="每周按时报送，见报送记录", now=AFTER_H1)
    flags = paper_closure_flags(session=cast.s, plan_id=cast.plan_id, now=AFTER_H1)
    assert {(f["kind"], f["item_id"]) for f in flags} == {("same_evidence_text", a.id), ("same_evidence_text", b.id)}


def test_same_text_is_flagged_in_the_half_of_its_closures_only(cast: Cast) -> None:
    a, b = item(cast, "water"), item(cast, "water", source="indicator:response")
    close_item(session=cast.s, item_id=a.id, actor=cast.office, evidence_text="已按要求整改到位。", now=at(5, 6))
    close_item(session=cast.s, item_id=b.id, actor=cast.office, evidence_text="已按要求整改到位。", now=at(6, 8))

    def flagged(now: datetime, since: datetime | None = None) -> set[int]:
        return {f["item_id"] for f in paper_closure_flags(session=cast.s, plan_id=cast.plan_id, now=now, since=since)}

    h2 = datetime(2026, 6, 30, 16, tzinfo=UTC)  # 2026年7月1日 0时 in Shanghai
    assert flagged(AFTER_H1) == {a.id, b.id}
    assert flagged(AFTER_H1, since=h2) == set()  # the next half's review does not name them again
    assert flagged(at(6, 1)) == set()  # before the second closure, one item used that text


def test_same_file_closing_two_items_is_flagged(cast: Cast) -> None:
    a, b = item(cast, "water"), item(cast, "eco")
    files = []
    for name in ("水利整改.pdf", "生态整改.pdf"):
        att = Attachment(filename=name, mime_type="application/pdf", size=10, sha256="ab" * 32, path="x")
        cast.s.add(att)
        cast.s.flush()
        files.append(att.id)
    close_item(session=cast.s, item_id=a.id, actor=cast.office, attachment_ids=[files[0]], now=AFTER_H1)
    close_item(session=cast.s, item_id=b.id, actor=cast.office, attachment_ids=[files[1]], now=AFTER_H1)
    flags = paper_closure_flags(session=cast.s, plan_id=cast.plan_id, now=AFTER_H1)
    assert {(f["kind"], f["item_id"]) for f in flags} == {("same_evidence_file", a.id), ("same_evidence_file", b.id)}
    # A flagged closure still costs the unit its deduction.
    rows = {r["unit"]: r for r in unit_scores(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)}
    assert rows["旗水利局"]["deduction"] == 5


def test_problem_back_within_ninety_days_of_closure_is_flagged(cast: Cast) -> None:
    pid = cast.raise_("water", at(3, 2), category="water_permit")
    accept_problem(session=cast.s, problem_id=pid, actor=cast["water"], now=at(3, 2, 11))
    resolve_problem(session=cast.s, problem_id=pid, actor=cast["water"], evidence_text="已批复", now=at(3, 5))
    confirm_problem(session=cast.s, problem_id=pid, actor=cast["emergency"], now=at(3, 6))
    reopen_problem(session=cast.s, problem_id=pid, actor=cast["emergency"], reason="批复被撤回", now=at(5, 6))
    other = cast.raise_("eco", at(3, 2), category="eia")
    accept_problem(session=cast.s, problem_id=other, actor=cast["eco"], now=at(3, 2, 11))
    resolve_problem(session=cast.s, problem_id=other, actor=cast["eco"], evidence_text="已批", now=at(3, 5))
    confirm_problem(session=cast.s, problem_id=other, actor=cast["emergency"], now=at(3, 6))
    flags = paper_closure_flags(session=cast.s, plan_id=cast.plan_id, now=AFTER_H1)
    assert [(f["kind"], f["problem_id"], f["unit_id"], f["days"]) for f in flags] == [
        ("reopened_soon", pid, cast.uid("water"), 61)
    ]


def test_a_paper_closure_is_named_by_the_review_of_its_half_only(cast: Cast) -> None:
    """The demo's review of 2026H1 named 11号问题 reopened 16 days after its confirmation, and so
    would every later review, the flags having no period: a review names what happened in its half,
    up to its moment. Here a problem is reopened in May (H1) and another in August (H2)."""
    first = cast.raise_("water", at(3, 2), category="water_permit")
    second = cast.raise_("eco", at(3, 2), category="eia")
    for pid, unit, closed, back in ((first, "water", at(4, 20), at(5, 6)), (second, "eco", at(7, 20), at(8, 3))):
        accept_problem(session=cast.s, problem_id=pid, actor=cast[unit], now=at(3, 3))
        resolve_problem(session=cast.s, problem_id=pid, actor=cast[unit], evidence_text="已办结", now=closed - HOUR)
        confirm_problem(session=cast.s, problem_id=pid, actor=cast["emergency"], now=closed)
        reopen_problem(session=cast.s, problem_id=pid, actor=cast["emergency"], reason="问题反弹", now=back)
    cast.s.commit()
    later = datetime(2026, 9, 1, 1, tzinfo=UTC)

    def named(period: str, now: datetime) -> list[int]:
        return [
            f["problem_id"] for f in build_review(session=cast.s, plan_id=cast.plan_id, period=period, now=now)["flags"]
        ]

    assert named("2026H1", AFTER_H1) == [first]
    assert named("2026H1", later) == [first]  # rebuilt after August: still only its own half
    assert named("2026H2", later) == [second]  # the H1 flag is not named again
    assert named("2026H2", datetime(2026, 8, 1, 1, tzinfo=UTC)) == []  # nothing yet reopened by 1 August
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    (flag,) = review["flags"]
    assert evidence_sentence(flag) == f"{first}号问题2026年4月20日确认关闭，2026年5月6日重新打开，相隔16天。"
    # The audit's B4: the review credited 旗市场监管局 with 11号问题's 办结 and flagged it without a unit.
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=AFTER_H1)
    paragraphs = [p for sec in doc["sections"] for p in sec.get("paragraphs") or []]
    water = cast.units["water"].name
    assert (
        f"{first}号问题2026年4月20日确认关闭，2026年5月6日重新打开，相隔16天，涉嫌纸面销号（该问题由{water}办结）。"
        in paragraphs
    )


# --- Scores and the ledger --------------------------------------------------------------------------


def test_scores_follow_the_records(cast: Cast) -> None:
    """水利局 reports every week and solves at once; 林草局 reports half the weeks and is ruled
    back a problem it declined."""
    cast.list_batches()
    weeks = reporting_weeks(date(2026, 1, 1), date(2026, 6, 30))
    for i, week in enumerate(weeks):
        monday = week.first
        units = ("water", "forestry") if i % 2 == 0 else ("water",)
        for key in units:
            cast.s.add(
                Report(
                    plan_id=cast.plan_id,
                    unit_id=cast.uid(key),
                    text="进展",
                    created_at=datetime(monday.year, monday.month, monday.day, 8, tzinfo=UTC),
                )
            )
    pid = cast.raise_("forestry", at(3, 2))
    decline_problem(session=cast.s, problem_id=pid, actor=cast["forestry"], reason="不是林草的事", now=at(3, 2, 15))
    rule_problem(
        session=cast.s,
        problem_id=pid,
        actor=cast.office,
        to_unit_id=cast.uid("forestry"),
        reason="属林草",
        now=at(3, 4),
    )
    resolve_problem(session=cast.s, problem_id=pid, actor=cast["forestry"], evidence_text="已审批", now=at(3, 5))
    wp = cast.raise_("water", at(3, 2), category="water_permit")
    accept_problem(session=cast.s, problem_id=wp, actor=cast["water"], now=at(3, 2, 11))
    resolve_problem(session=cast.s, problem_id=wp, actor=cast["water"], evidence_text="已批复", now=at(3, 3))
    cast.s.commit()
    rows = {r["unit"]: r for r in unit_scores(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)}
    water, forestry = rows["旗水利局"], rows["旗林草局"]
    assert water["indicators"]["reporting"] == 1.0 and water["indicators"]["shifting"] == 1.0
    assert water["indicators"]["response"] == 1.0 and water["indicators"]["resolution"] == 1.0
    assert forestry["indicators"]["reporting"] == pytest.approx(len(weeks[::2]) / len(weeks), abs=0.001)
    assert forestry["shifting_instances"] == 1 and forestry["indicators"]["shifting"] == pytest.approx(0.667, abs=0.001)
    assert water["total"] > forestry["total"]
    assert "旗信访局" not in rows and "旗政府办公室" not in rows
    # Indicators under 60 % go into the ledger with a standard and the end of the next half as deadline.
    added = items_from_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    mine = [(i.unit_id, i.source) for i in added]
    assert (cast.uid("forestry"), "indicator:reporting") in mine
    # No right has moved yet, so every tasked unit is behind on progress; 水利局 on nothing else.
    assert {src for u, src in mine if u == cast.uid("water")} == {"indicator:progress"}
    assert all(i.deadline == date(2026, 12, 31) for i in added)
    again = items_from_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    assert [i.id for i in again] == [i.id for i in added]


def test_weights_come_from_the_plan(cast: Cast, session: Session) -> None:
    cast.list_batches()
    cast.report_weekly("water")
    base = {r["unit"]: r for r in unit_scores(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)}
    plan = session.get(Plan, cast.plan_id)
    plan.spec = {
        **plan.spec,
        "review_weights": {"reporting": 90, "progress": 10, "response": 0, "resolution": 0, "shifting": 0},
    }
    session.add(plan)
    after = {r["unit"]: r for r in unit_scores(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)}
    # 水利局 reported in Q1 only, has no right moved and no problem: with the bundled weights,
    # reporting (15) and progress (35) apply (no problem, nothing it could have shifted: no
    # 推诿扯皮 credit); with the plan's new ones, 90 % is reporting.
    share = base["旗水利局"]["indicators"]["reporting"]
    assert base["旗水利局"]["indicators"]["shifting"] is None
    assert base["旗水利局"]["score"] == pytest.approx(100 * (15 * share) / 50, abs=0.1)
    assert after["旗水利局"]["score"] == pytest.approx(90 * share, abs=0.1)


def test_zone_leader_score(cast: Cast) -> None:
    zone = cast.s.exec(select(Zone).where(Zone.plan_id == cast.plan_id, Zone.seq == 1)).one()
    leader = cast.member("banner_gov", Role.ZONE_LEADER)
    cast.s.add(ZoneLeader(zone_id=zone.id, member_id=leader.id))
    cast.s.commit()
    rows = zone_leader_scores(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    assert [(r["member_id"], r["zones"], r["indicators"]["reporting"]) for r in rows] == [
        (leader.id, ["1号常兴扎嘎乌苏铁矿整合区"], None)
    ]


def test_leaders_not_asked_to_report_weekly_are_neither_scored_nor_reminded_on_it(cast: Cast) -> None:
    """Only the department contacts file weekly progress (domain: 部门联络员). The convener, a zone
    leader and the office each lead a zone and never report: their 进展报送 is 不参评 (it read 0%
    and pulled their score down to 0.0), their score is their zones' progress alone, and the weekly
    reminder does not chase them. 旗水利局's contact, who also leads a zone and reports every
    week, is scored on reporting (100%), as their unit is."""
    zones = {
        seq: cast.s.exec(select(Zone).where(Zone.plan_id == cast.plan_id, Zone.seq == seq)).one()
        for seq in (1, 2, 3, 4)
    }
    convener, leader = cast.convener, cast.member("banner_gov", Role.ZONE_LEADER)
    office, contact = cast.office, cast["water"]
    for n, member in enumerate((convener, leader, office, contact), start=1):
        member.name = f"领导{n}"
        cast.s.add(ZoneLeader(zone_id=row_id(zones[n]), member_id=row_id(member)))
    for week in reporting_weeks(date(2026, 1, 1), date(2026, 6, 30)):
        monday = week.first
        cast.s.add(
            Report(
                plan_id=cast.plan_id,
                unit_id=contact.unit_id,
                member_id=contact.id,
                text="本周进展",
                created_at=datetime(monday.year, monday.month, monday.day, 15, tzinfo=SH).astimezone(UTC),
            )
        )
    cast.s.commit()
    rows = {
        r["member_id"]: r
        for r in zone_leader_scores(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    }
    for member in (convener, leader, office):
        r = rows[row_id(member)]
        assert r["indicators"]["reporting"] is None and not r["reports_weekly"], r
        assert r["indicators"]["progress"] is None and r["score"] is None  # no right in their zones
    assert rows[row_id(contact)]["indicators"]["reporting"] == 1.0 and rows[row_id(contact)]["score"] == 100.0
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=AFTER_H1)
    (table,) = next(sec for sec in doc["sections"] if sec["heading"] == "包联领导问效得分")["tables"]
    cells = {r[0]: r[2:] for r in table["rows"]}
    assert cells["领导4"] == ["100%", "—", "100.0"]
    for n in (1, 2, 3):
        assert cells[f"领导{n}"] == ["不参评", "—", "不参评"], cells
    # The weekly reminder for a week nobody reported in goes to 旗水利局's contact only among them.
    for report in cast.s.exec(select(Report)).all():
        cast.s.delete(report)
    cast.s.commit()
    sent = send_weekly_reminders(session=cast.s, period="2026-W12", now=datetime(2026, 3, 20, 15, tzinfo=SH))
    cast.s.commit()
    chats = {m.chat_id for m in cast.s.exec(select(OutboxMessage)).all()}
    assert sent["queued"] and contact.telegram_user_id in chats
    assert not chats & {convener.telegram_user_id, leader.telegram_user_id, office.telegram_user_id}


def zone_rights(cast: Cast, seq: int, done_on: list[datetime], count: int = 7) -> Zone:
    """Zone `seq` with `count` rights of 强化整合重组一批 (46 rights, 2026-01-01 – 2028-12-31), one
    consolidated on each day of `done_on`."""
    zone = cast.s.exec(select(Zone).where(Zone.plan_id == cast.plan_id, Zone.seq == seq)).one()
    task = cast.s.exec(select(Task).where(Task.plan_id == cast.plan_id, Task.key == "consolidate")).one()
    for n in range(count):
        right = Right(
            plan_id=cast.plan_id, code=f"Z{seq}-{n}", name=f"{zone.name}{n + 1}号矿", kind="mining", zone_id=zone.id
        )
        cast.s.add(right)
        cast.s.flush()
        cast.s.add(RightBatch(right_id=row_id(right), task_id=row_id(task)))
        if n < len(done_on):
            cast.s.add(
                RightStatusEvent(
                    right_id=row_id(right),
                    task_id=task.id,
                    from_status="baseline",
                    to_status="consolidated",
                    at=done_on[n],
                )
            )
    return zone


def test_a_leaders_zone_progress_counts_from_the_day_they_had_the_zone(cast: Cast) -> None:
    """Three leaders of seven-right zones of 强化整合重组一批 (the timeline expects ~16.5 % by the
    half's end, ~11.9 % by 11 May). 甲, in charge of 1号 all along, has one right consolidated on
    1 June: 1/7 against the whole half's expected share, 86 %. 乙 joins on 11 May and takes 2号, two
    of whose rights were consolidated in March, none since: what was done before 乙 was there is not
    乙's (0 %, where the whole half's count gave 100 %). 丙, in the system since before the half,
    is put in charge of 3号 on 11 May, which has one right consolidated on 1 June: judged on what the
    timeline asked between 11 May and the half's end, which 丙 did (100 %), not on the lag from
    before the zone was theirs (86 %). 丁, put in charge of 4号 on the review's morning, answers for
    no zone's progress yet."""
    zones = {
        "甲": zone_rights(cast, 1, [at(6, 1)]),
        "乙": zone_rights(cast, 2, [at(3, 2), at(3, 16)]),
        "丙": zone_rights(cast, 3, [at(6, 1)]),
        "丁": zone_rights(cast, 4, [at(6, 1)]),
    }
    leaders = {name: cast.member("banner_gov", Role.ZONE_LEADER) for name in zones}
    leaders["乙"].joined_at = at(5, 11, 9)
    assigned = {
        "甲": JOINED,
        "乙": at(5, 11, 10),
        "丙": at(5, 11, 10),
        "丁": datetime(2026, 7, 6, 8, tzinfo=SH).astimezone(UTC),
    }
    for name, member in leaders.items():
        member.name = f"包联领导{name}"
        assign_zone_leader(
            session=cast.s, member_id=row_id(member), zone_id=row_id(zones[name]), actor="test", now=assigned[name]
        )
    cast.s.commit()
    (row,) = [
        r
        for r in tasks_behind(session=cast.s, plan_id=cast.plan_id, as_of=at(7, 1, 0), behind_points=-1e9)
        if r["key"] == "consolidate"
    ]
    whole = (1 / 7) / row["expected_share"]
    assert 0.8 < whole < 0.9 and row["expected_share"] == pytest.approx(0.165, abs=0.001)
    rows = zone_leader_scores(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    progress = {r["member_id"]: r["indicators"]["progress"] for r in rows}
    assert progress == {
        leaders["甲"].id: round(whole, 3),
        leaders["乙"].id: 0.0,
        leaders["丙"].id: 1.0,
        leaders["丁"].id: None,
    }
    # The charge is dated by the assignment's audit row; a row written past the domain has none and
    # counts from the day the leader joined.
    assert cast.s.exec(
        select(AuditLog.at).where(AuditLog.action == "zone.leader_assigned", AuditLog.object_id == str(zones["丙"].id))
    ).one().replace(tzinfo=UTC) == at(5, 11, 10)


def test_review_job_sends_the_pdf_to_the_convener(cast: Cast, tmp_path: Path) -> None:
    from oversight.review import review_run_facts
    from tests.chatfacts import assert_review_run_facts

    cast.report_weekly("water")
    result = review_job(session=cast.s, period="2026H1", now=AFTER_H1, data_dir=tmp_path)
    cast.s.commit()
    plan = result["plans"][0]
    assert Path(plan["pdf"]).read_bytes().startswith(b"%PDF-")
    docs = cast.s.exec(select(OutboxMessage).where(OutboxMessage.kind == "document")).all()
    # The convener (主送) and the office that issues it get the PDF and its Word copy.
    office = [m.telegram_user_id for m in cast.s.exec(select(Member).where(Member.role == Role.OFFICE)).all()]
    assert plan["sent_to"] == 1 + len(office)
    to_convener = [d for d in docs if d.chat_id == cast.convener.telegram_user_id]
    assert sorted(Path(d.payload["path"]).suffix for d in to_convener) == [".docx", ".pdf"]
    assert {d.chat_id for d in docs} == {cast.convener.telegram_user_id, *office}
    assert "工作问效情况的报告" in to_convener[0].text
    run_lines = review_run_facts(session=cast.s, result=plan)
    assert_review_run_facts(cast.s, cast.plan_id, "2026H1", run_lines.message(), run_lines.listed())
    # The convener and the office got it; the units scored are those 不参评 is not said of.
    assert "召集人1人、办公室" in run_lines.message() and "位召集人" not in run_lines.message(), run_lines.message()
    scored = [
        r["unit_id"]
        for r in build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)["units"]
        if r["total"] is not None
    ]
    assert run_lines.listed()[0]["ids"]["unit"] == scored
    # Every unit's items are this half's: the caption counts them as added, and none missed.
    assert caption_sent(cast.s, cast.plan_id, plan, "2026H1", AFTER_H1, to_convener[0].text) == "caption_added"
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    assert review["ledger"] and all(r["deadline"] == "2026-12-31" for r in review["ledger"])
    # A second run (retry) queues nothing twice and adds no items.
    again = review_job(session=cast.s, period="2026H1", now=AFTER_H1, data_dir=tmp_path)
    assert again["plans"][0]["added"] == plan["added"] and again["plans"][0]["sent_to"] == 0


def caption_sent(session: Session, plan_id: int, result: dict[str, Any], period: str, at: datetime, sent: str) -> str:
    """The caption the review's PDF went out with is its fact, recounted from the ledger; returns its kind."""
    from oversight.review import review_caption
    from oversight.sample import chat_marked
    from tests.chatfacts import assert_review_caption

    review = build_review(session=session, plan_id=plan_id, period=period, now=at)
    review["added_item_ids"], review["follow_up"] = result["added_ids"], {"missed": result["missed"]}
    title = review_document(session=session, plan_id=plan_id, review=review, now=at)["title"]
    chat = review_caption(title=title, review=review)
    assert sent == chat_marked(session.get(Plan, plan_id), chat.message())
    assert_review_caption(session, plan_id, period, at, chat.message(), chat.listed())
    return chat.listed()[0]["kind"]


def test_the_review_caption_counts_the_ledger_and_says_none_in_words(
    session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    """Only the convener in chat, so no unit is scored and no review adds an item: the 2025H2 review
    goes out as 整改台账暂无事项; with one item of that half on the ledger, due at the end of 2026, the
    2026H1 review counts it and says 本期没有新增事项; past its deadline at the 2026H2 review, it is
    逾期加倍扣分1项 — never 本期新增0项 or 0项, each recounted from the ledger."""
    unit = session.exec(select(Unit).where(Unit.plan_id == banner_plan_id, Unit.key == "banner_gov")).one()
    water = session.exec(select(Unit).where(Unit.plan_id == banner_plan_id, Unit.key == "water")).one()
    convener = Member(
        plan_id=banner_plan_id,
        telegram_user_id=7001,
        name="召集人",
        unit_id=row_id(unit),
        role=Role.CONVENER,
        joined_at=datetime(2025, 6, 2, 1, tzinfo=UTC),
    )
    session.add(convener)
    session.commit()

    def review(period: str, at: datetime) -> tuple[str, str]:
        result = review_job(session=session, period=period, now=at, data_dir=tmp_path)
        session.commit()
        (plan,) = result["plans"]
        (doc,) = [
            d
            for d in session.exec(
                select(OutboxMessage).where(OutboxMessage.kind == "document", OutboxMessage.chat_id == 7001)
            ).all()
            if d.payload["path"].endswith(f"-{period}.pdf")
        ]
        from oversight.review import review_run_facts
        from tests.chatfacts import assert_review_run_facts

        lines = review_run_facts(session=session, result=plan)
        assert_review_run_facts(session, banner_plan_id, period, lines.message(), lines.listed())
        assert lines.listed()[0]["kind"] == "scored_none" and lines.listed()[-1]["text"].startswith(
            "报告已发送给召集人1人，"
        )
        return caption_sent(session, banner_plan_id, plan, period, at, doc.text), doc.text

    kind, text = review("2025H2", datetime(2026, 1, 6, 1, tzinfo=UTC))
    assert kind == "caption_empty" and text.endswith("工作问效情况的报告（整改台账暂无事项）"), text
    add_item(
        session=session,
        plan_id=banner_plan_id,
        period="2025H2",
        unit_id=row_id(water),
        source="indicator:reporting",
        item="半年缺报进展",
        standard="每周按时报送",
        deadline=date(2026, 12, 31),
        actor="test",
        now=datetime(2026, 1, 7, 1, tzinfo=UTC),
    )
    session.commit()
    kind, text = review("2026H1", AFTER_H1)
    assert kind == "caption_kept" and text.endswith("（整改台账1项，本期没有新增事项）"), text
    kind, text = review("2026H2", datetime(2027, 1, 5, 1, tzinfo=UTC))
    assert kind == "caption_missed" and text.endswith("（整改台账1项，本期没有新增事项，逾期加倍扣分1项）"), text


def test_review_needs_a_half_year(cast: Cast) -> None:
    with pytest.raises(InvalidInputError, match="按半年"):
        build_review(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_H1)


def test_cli_review(settings_env, engine) -> None:
    import json as _json

    from typer.testing import CliRunner

    from lianxi.cli import app
    from tests.conftest import load_bundled_plan

    plan_id = load_bundled_plan(engine)
    with Session(engine, expire_on_commit=False) as s:
        cast = Cast(s, plan_id)
        cast.report_weekly("water")
        s.commit()
    runner = CliRunner()
    result = runner.invoke(app, ["review", "--period", "2026H1", "--json"])
    assert result.exit_code == 0, result.output
    data = _json.loads(result.output)
    water = next(r for r in data["units"] if r["unit"] == "旗水利局")
    assert 0 < water["indicators"]["reporting"] < 1 and data["ledger"] == []
    text = runner.invoke(app, ["review", "--period", "2026H1"])
    assert text.exit_code == 0 and "2026年上半年工作问效" in text.output and "旗水利局：第1名，总分" in text.output
    assert runner.invoke(app, ["review", "--period", "2026Q1"]).exit_code == 2
    # A rectification item is cited as the admin types it back (lianxi rectification close 1): 1号整改事项.
    with Session(engine, expire_on_commit=False) as s:
        added = add_item(
            session=s,
            plan_id=plan_id,
            period="2026H1",
            unit_id=cast.uid("water"),
            source="indicator:reporting",
            item="半年缺报进展",
            standard="每周按时报送",
            deadline=date(2026, 12, 31),
            actor="test",
            now=AFTER_H1,
        )
        s.commit()
    text = runner.invoke(app, ["review", "--period", "2026H1"])
    assert f"  {added.id}号整改事项 旗水利局：半年缺报进展；" in text.output and "#" not in text.output, text.output


def test_the_review_prints_meeting_attendance_from_the_answers_only_when_a_meeting_was_held(
    session: Session, banner_plan_id: int
) -> None:
    """Seed 003 按时派人参加工作例会: the review names the units excused or not answering the notice
    of a meeting held in the half, recomputed here from the answers; a meeting circulated but not
    held counts for nothing, and with no meeting held there is no attendance section at all."""
    from datetime import timedelta

    from sqlmodel import col

    from models import Meeting, MeetingAttendance, Member
    from oversight import convening as C
    from oversight.review import attendance_paragraphs
    from tests.seed_quarter import seed_quarter

    seed = seed_quarter(session=session, plan_id=banner_plan_id)
    office = seed.members["office_a"]
    t0 = datetime(2026, 3, 2, 1, tzinfo=UTC)

    def headings(now: datetime) -> tuple[dict[str, Any], list[str]]:
        review = build_review(session=session, plan_id=banner_plan_id, period="2026H1", now=now)
        doc = review_document(session=session, plan_id=banner_plan_id, review=review, now=now)
        return review, [sec["heading"] for sec in doc["sections"]]

    meetings = []
    for k in range(3):
        m = C.schedule_meeting(
            session=session, actor=office, kind="quarterly", starts_at=t0 + timedelta(days=7 * k + 1), now=t0
        )
        C.add_agenda_item(session=session, meeting_id=m.id, actor=office, text="听取工作进展汇报", now=t0)
        C.circulate(session=session, meeting_id=m.id, actor=office, now=t0)
        meetings.append(m)
    first, second, third = meetings
    C.answer_attendance(session=session, meeting_id=first.id, actor=seed.members["forestry"], attendee="张林", now=t0)
    C.answer_attendance(session=session, meeting_id=second.id, actor=seed.members["forestry"], excused=True, now=t0)
    C.answer_attendance(session=session, meeting_id=first.id, actor=seed.members["water"], attendee="罗永刚", now=t0)
    session.commit()
    # Circulated, none held yet: no attendance section.
    review, heads = headings(t0)
    assert review["attendance"]["meetings"] == [] and "参加联席会议情况" not in heads
    for m in (first, second):
        C.mark_held(session=session, meeting_id=m.id, actor=office, now=m.starts_at + timedelta(hours=2))
    session.commit()
    now = third.starts_at + timedelta(days=1)  # the third never recorded as held
    review, heads = headings(now)
    assert "参加联席会议情况" in heads

    # Recomputed on its own: held meetings of the half, each member unit's answer to each.
    held = [
        m
        for m in session.exec(select(Meeting).where(Meeting.plan_id == banner_plan_id)).all()
        if m.circulated_at is not None
        and m.state in ("held", "minuted")
        and date(2026, 1, 1) <= m.held_on <= date(2026, 6, 30)
    ]
    assert {first.id, second.id} <= {m.id for m in held} and third.id not in {m.id for m in held}
    assert [m["id"] for m in review["attendance"]["meetings"]] == sorted(
        (m.id for m in held), key=lambda i: (session.get(Meeting, i).held_on, i)
    )
    answers = {(a.meeting_id, a.unit_id): a.state for a in session.exec(select(MeetingAttendance)).all()}
    # Told of a meeting: a unit with a contact in chat who joined before it began and was not revoked
    # before the notice went out (a unit nobody could tell did not leave a notice unanswered).
    contacts = session.exec(
        select(Member).where(
            Member.plan_id == banner_plan_id, Member.role == "contact", col(Member.telegram_user_id).is_not(None)
        )
    ).all()
    told = {
        (m.id, c.unit_id)
        for m in held
        for c in contacts
        if c.joined_at < m.starts_at and (c.revoked_at is None or c.revoked_at > m.circulated_at)
    }
    expected = {}
    for unit in C.member_units(session=session, plan_id=banner_plan_id):
        states = [
            answers.get((m.id, unit.id), "none") for m in held if (m.id, unit.id) in told or (m.id, unit.id) in answers
        ]
        if "none" in states or "excused" in states:
            expected[unit.name] = (states.count("none"), states.count("excused"))
    got = {u["unit"]: (u["none"], u["excused"]) for u in review["attendance"]["units"]}
    assert got == expected and expected[C.member_units(session=session, plan_id=banner_plan_id)[0].name]
    forestry_name = next(
        u.name for u in C.member_units(session=session, plan_id=banner_plan_id) if u.id == seed.units["forestry"]
    )
    water_name = next(
        u.name for u in C.member_units(session=session, plan_id=banner_plan_id) if u.id == seed.units["water"]
    )
    assert got[forestry_name] == (0, 1) and got[water_name] == (1, 0)
    text = "".join(attendance_paragraphs(review["attendance"]))
    d1, d2 = (f"{m.held_on.year}年{m.held_on.month}月{m.held_on.day}日" for m in (first, second))
    assert text.startswith(f"本期召开联席会议2次（{d1}、{d2}）。")
    assert f"{forestry_name}请假1次" in text and f"{water_name}未答复参会通知1次（{d2}）" in text
    assert "均" not in text  # not every unit answered
    # Every unit called answered to attend: said so, and only then.
    for unit in C.member_units(session=session, plan_id=banner_plan_id):
        for m in held:
            if (m.id, unit.id) not in answers:
                session.add(MeetingAttendance(meeting_id=m.id, unit_id=unit.id, attendee="某某", state="attend"))
            elif answers[(m.id, unit.id)] == "excused":
                row = session.exec(
                    select(MeetingAttendance).where(
                        MeetingAttendance.meeting_id == m.id, MeetingAttendance.unit_id == unit.id
                    )
                ).one()
                row.state = "attend"
                session.add(row)
    session.commit()
    review, _ = headings(now)
    assert review["attendance"]["units"] == []
    assert attendance_paragraphs(review["attendance"])[-1] == "被通知的成员单位每次均已答复派人参加。"


def test_every_fact_of_the_review_cites_records_that_exist(cast: Cast) -> None:
    """The review's record-dependent sentences are its facts, in print order, each citing the
    ledger items, problems and events, units and members it rests on — all of them rows that exist."""
    from models import SupervisionOrder
    from tests.test_notices import assert_ids_exist

    late, done = item(cast, unit="natres"), item(cast, unit="water")
    closed(cast, done, "7月起每周按时报送", at(9, 1))
    pid = cast.raise_("water", at(3, 2), category="water_permit")
    accept_problem(session=cast.s, problem_id=pid, actor=cast["water"], now=at(3, 2, 11))
    # Closed and reopened in the half reviewed (a reopening of another half is not this review's).
    resolve_problem(session=cast.s, problem_id=pid, actor=cast["water"], evidence_text="已批复", now=at(8, 5))
    confirm_problem(session=cast.s, problem_id=pid, actor=cast["emergency"], now=at(8, 6))
    reopen_problem(session=cast.s, problem_id=pid, actor=cast["emergency"], reason="批复被撤回", now=at(10, 6))
    now = local_noon(date(2027, 1, 6))
    follow_up_ledger(session=cast.s, plan_id=cast.plan_id, now=now, actor="worker")
    cast.s.add(
        SupervisionOrder(
            plan_id=cast.plan_id, year=2026, seq=1, doc_no="乌中联办督〔2026〕1号", kind="problem", item_id=pid,
            unit_id=cast.uid("forestry"), issued_at=datetime(2026, 4, 8, 1, tzinfo=UTC),
        )
    )  # fmt: skip
    cast.s.flush()
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H2", now=now)
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=now)
    facts = doc["facts"]
    assert_ids_exist(cast.s, facts)
    printed = [
        *doc["summary"],
        *(p for sec in doc["sections"] for p in sec.get("paragraphs") or [] if not p.startswith("各项指标为得分率")),
    ]
    assert printed == [f["text"] for f in facts]  # no record-dependent sentence outside a fact
    by_kind = {f["kind"]: f for f in facts}
    assert set(by_kind["summary_opening"]["ids"]["item"]) == {late.id, done.id}
    assert by_kind["ledger_missed"]["ids"]["item"] == [late.id] and by_kind["ledger_closed"]["ids"]["item"] == [done.id]
    flag = by_kind["paper_closure_unit"]["ids"]  # a reopened problem names the unit that resolved it
    assert flag["problem"] == [pid] and len(flag["event"]) == 2 and len(flag["unit"]) == 1
    # 2026H2 has no 督办单 (it was issued in H1): the 没有 sentence rests on no record and says so.
    assert by_kind["supervision_none"]["ids"] == {}
    evaluated = {r["unit_id"] for r in review["units"] if r["total"] is not None}
    assert set(by_kind["summary_opening"]["ids"]["unit"]) == evaluated
    assert by_kind["summary_opening"]["values"]["units"] == len(evaluated)


def test_a_table_with_nothing_to_list_is_left_out_and_its_sentence_says_so(
    session: Session, banner_plan_id: int
) -> None:
    """Nobody has joined: nothing is scored, nothing is in the ledger or to be added, so the section
    says 本期没有整改事项 and prints no table (it printed a row of dashes); with no zone leader named,
    the leaders' section says so instead of a dashed row; once an item is in the ledger its table is
    back with the item's row."""
    review = build_review(session=session, plan_id=banner_plan_id, period="2026H1", now=AFTER_H1)
    assert review["to_add"] == [] and review["ledger"] == []
    doc = review_document(session=session, plan_id=banner_plan_id, review=review, now=AFTER_H1)
    by = {sec["heading"]: sec for sec in doc["sections"]}
    assert by["整改台账"].get("paragraphs") == ["本期没有整改事项。"] and not by["整改台账"].get("tables")
    assert by["包联领导问效得分"] == {"heading": "包联领导问效得分", "paragraphs": ["本期没有明确包联整合区的领导。"]}
    cells = [c for sec in doc["sections"] for t in sec.get("tables") or [] for r in t["rows"] for c in r]
    assert cells and set(cells) != {"—"}
    assert [f["kind"] for f in doc["facts"]].index("leaders_none") < [f["kind"] for f in doc["facts"]].index(
        "ledger_none"
    )
    unit = session.exec(select(Unit).where(Unit.plan_id == banner_plan_id, Unit.key == "water")).one()
    add_item(
        session=session, plan_id=banner_plan_id, period="2026H1", unit_id=row_id(unit), source="manual",
        item="半年缺报进展", standard="每周按时报送", deadline=date(2026, 12, 31), actor="test", now=AFTER_H1,
    )  # fmt: skip
    review = build_review(session=session, plan_id=banner_plan_id, period="2026H1", now=AFTER_H1)
    doc = review_document(session=session, plan_id=banner_plan_id, review=review, now=AFTER_H1)
    ledger = next(sec for sec in doc["sections"] if sec["heading"] == "整改台账")
    assert len(ledger["tables"][0]["rows"]) == 1 and ledger["tables"][0]["rows"][0][0] == unit.name
    assert "ledger_none" not in [f["kind"] for f in doc["facts"]]


def test_a_unit_handed_a_problem_moments_ago_that_did_nothing_is_not_scored(cast: Cast) -> None:
    """属地苏木镇政府 joins; a 征地矛盾 problem is handed to it on 29 June and it has not answered
    by the half's end (still within its 5 working days): nothing it could act on can be judged, so
    it is 不参评 — not 100 from 问题响应 and 推诿扯皮 ranked above 旗水利局, which reported, accepted
    and resolved. A problem left unanswered past the limit is judged: a miss."""
    cast.people["township"] = cast.member("township", Role.CONTACT)
    cast.report_weekly("water")
    wp = cast.raise_("water", at(3, 2), category="water_permit")
    accept_problem(session=cast.s, problem_id=wp, actor=cast["water"], now=at(3, 2, 11))
    resolve_problem(session=cast.s, problem_id=wp, actor=cast["water"], evidence_text="已批复", now=at(3, 3))
    cast.raise_("township", at(6, 29), category="land_dispute")
    cast.s.commit()
    rows = {r["unit"]: r for r in unit_scores(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)}
    township = rows["属地苏木镇政府"]
    assert (township["evaluated"], township["score"], township["rank"]) == (False, None, None)
    assert all(v is None for v in township["indicators"].values()), township["indicators"]
    assert rows["旗水利局"]["rank"] == 1
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=AFTER_H1)
    idle = next(f for f in doc["facts"] if f["kind"] == "not_evaluated")
    assert cast.uid("township") in idle["ids"]["unit"] and "属地苏木镇政府" in idle["text"]

    # Handed on 1 June and still unanswered on 30 June: past the limit, a miss it is scored on.
    cast.raise_("township", at(6, 1), category="land_dispute")
    cast.s.commit()
    rows = {r["unit"]: r for r in unit_scores(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)}
    township = rows["属地苏木镇政府"]
    assert township["evaluated"] and township["indicators"]["response"] == 0.0
    # It has no part in any task: scored on its problems alone, listed apart and not ranked.
    assert (township["tasked"], township["rank"]) == (False, None) and rows["旗水利局"]["rank"] == 1


def test_task_progress_counts_against_a_unit_only_from_the_day_it_could_act(cast: Cast) -> None:
    """强化淘汰关闭一批 (7 mines, 2026-01-01 – 2028-12-31): nothing is closed until 旗公安局's contact
    joins on 11 May; one mine is closed on 1 June. 旗公安局 is judged on what the timeline asked
    between 11 May and the half's end, which it did (100 %), not on the lag from before it could act
    (done 1/7 against the whole half's expected share: 86 %), while 旗自然资源局, in the system all
    along, answers for the whole half. 旗人武部, whose contact joins on the review's day, answers for
    no task lag yet: no 任务进度 at all (and nothing else: 不参评)."""
    task = cast.s.exec(select(Task).where(Task.plan_id == cast.plan_id, Task.key == "close")).one()
    mine = Right(
        plan_id=cast.plan_id,
        code="G-1",
        name="待关闭矿山",
        kind="mining",
        unit_id=cast.uid("natres"),
        updated_at=at(1, 5),
    )
    cast.s.add(mine)
    cast.s.flush()
    cast.s.add(RightBatch(right_id=row_id(mine), task_id=row_id(task)))
    cast.s.add(
        RightStatusEvent(
            right_id=row_id(mine), task_id=task.id, from_status="baseline", to_status="closed", at=at(6, 1)
        )
    )
    police = cast.member("police", Role.CONTACT)
    police.joined_at = at(5, 11, 9)
    armed = cast.member("armed", Role.CONTACT)
    armed.joined_at = datetime(2026, 7, 6, 8, tzinfo=SH).astimezone(UTC)  # AFTER_H1 is 9:00 that day
    cast.s.add_all([police, armed])
    cast.s.commit()
    (row,) = [
        r
        for r in tasks_behind(session=cast.s, plan_id=cast.plan_id, as_of=at(7, 1, 0), behind_points=-1e9)
        if r["task_id"] == task.id
    ]
    whole = row["done_share"] / row["expected_share"]
    assert 0.8 < whole < 0.9  # 1/7 done against ~17 % expected by 30 June
    rows = {r["unit"]: r for r in unit_scores(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)}
    assert rows["旗公安局"]["indicators"]["progress"] == 1.0
    assert rows["旗自然资源局"]["indicators"]["progress"] < 1.0  # its other tasks: nothing done all half
    assert rows["旗人武部"]["indicators"]["progress"] is None
    assert rows["旗人武部"]["total"] is None and rows["旗人武部"]["rank"] is None


def test_a_half_with_nobody_to_evaluate_says_so_in_words(session: Session, banner_plan_id: int) -> None:
    """A fresh deployment where nobody has joined: the review's opening says 本期没有参评的成员单位和
    包联领导, never "对0个成员单位和0名包联领导"; with units but no leader it names the units alone."""
    review = build_review(session=session, plan_id=banner_plan_id, period="2026H1", now=AFTER_H1)
    doc = review_document(session=session, plan_id=banner_plan_id, review=review, now=AFTER_H1)
    opening = doc["facts"][0]
    assert opening["kind"] == "summary_opening_none" and "本期没有参评的成员单位和包联领导" in opening["text"]
    assert doc["summary"][0] == opening["text"]
    printed = "\n".join([*doc["summary"], *(p for sec in doc["sections"] for p in sec.get("paragraphs") or [])])
    assert "0个" not in printed and "0名" not in printed, printed

    cast = Cast(session, banner_plan_id)
    cast.report_weekly("water")
    review = build_review(session=session, plan_id=banner_plan_id, period="2026H1", now=AFTER_H1)
    review["zone_leaders"] = []
    doc = review_document(session=session, plan_id=banner_plan_id, review=review, now=AFTER_H1)
    opening = doc["facts"][0]
    n = opening["values"]["units"]
    assert opening["kind"] == "summary_opening" and n >= 1
    assert f"对{n}个成员单位进行了量化评价" in opening["text"] and "包联领导" not in opening["text"]


def test_a_half_with_no_unit_to_score_says_so_and_prints_no_table(cast: Cast) -> None:
    """No member unit with a task part or a problem in the half (a plan that assigns none): the units'
    section is the one sentence 本期没有参加问效评价的成员单位 (units_none), with no table, and the
    summary counts no unit (no 0个成员单位) and names none below 60 or 不参评."""
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    review["units"] = []
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=AFTER_H1)
    by = {sec["heading"]: sec for sec in doc["sections"]}
    assert by["成员单位问效得分"] == {"heading": "成员单位问效得分", "paragraphs": ["本期没有参加问效评价的成员单位。"]}
    facts = {f["kind"]: f for f in doc["facts"]}
    assert facts["units_none"]["ids"] == {}
    (opening,) = [f for k, f in facts.items() if k.startswith("summary_opening")]
    assert "个成员单位" not in opening["text"].replace("本期没有参评的成员单位", "") and opening["ids"]["unit"] == []
    assert "low_total" not in facts and not any(
        f["ids"].get("unit") for f in doc["facts"] if f["kind"] == "not_evaluated"
    )


def test_an_item_asks_for_the_share_that_takes_it_off_the_ledger(cast: Cast) -> None:
    """The audit's 附件3: 旗林草局 put on the ledger for 问题办结 at 50% with the standard 办结率不低于50%,
    which 50% meets. An item is made below 60%, so its standard asks for 60%."""
    from oversight.review import review_item_specs

    specs = review_item_specs(
        session=cast.s,
        plan_id=cast.plan_id,
        period="2026H1",
        now=AFTER_H1,
        scores=[{"unit_id": cast.uid("forestry"), "indicators": {"resolution": 0.5, "response": 0.6}}],
    )
    (spec,) = [s for s in specs if s["source"].startswith("indicator:")]
    assert spec["source"] == "indicator:resolution" and spec["item"].endswith("“问题办结”得分率50%")
    assert spec["standard"] == "应办结问题的办结率不低于60%"


def test_an_item_of_a_half_still_running_says_when_it_was_scored(cast: Cast) -> None:
    """The audit's 附件3 at 4月8日: each item read 2026年上半年工作问效…得分率52%, a half's result, while
    the half had run three months of six. An item made before the half ends says as of when, as the
    report's opening does; one made after it does not."""
    from oversight.review import review_item_specs

    scores = [{"unit_id": cast.uid("forestry"), "indicators": {"resolution": 0.5}}]
    running = review_item_specs(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=at(4, 8, 10), scores=scores)
    ended = review_item_specs(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1, scores=scores)
    (early,) = [s["item"] for s in running if s["source"] == "indicator:resolution"]
    (late,) = [s["item"] for s in ended if s["source"] == "indicator:resolution"]
    assert early == "2026年上半年（截至2026年4月8日 10:00）工作问效“问题办结”得分率50%"
    assert late == "2026年上半年工作问效“问题办结”得分率50%"


def test_a_zone_leader_scored_below_60_is_named_as_the_units_are(cast: Cast) -> None:
    """Seed 000 §五(四): 问效 evaluates the 包联人员. The audit's review scored four leaders at 25.0 and
    0.0 in its annex and said nothing of them in its body, where 总分低于60分的单位 named the units.
    A leader whose zone has not moved reads 得分低于60分的包联领导：X。; one whose zone is done is not named."""
    behind = zone_rights(cast, 1, [])
    ahead = zone_rights(cast, 2, [datetime(2026, 2, 2, 2, tzinfo=UTC)] * 7)
    slow, quick = cast.member("banner_gov", Role.ZONE_LEADER), cast.member("banner_gov", Role.ZONE_LEADER)
    slow.name, quick.name = "额尔敦", "贾宏亮"
    cast.s.add(ZoneLeader(zone_id=row_id(behind), member_id=row_id(slow)))
    cast.s.add(ZoneLeader(zone_id=row_id(ahead), member_id=row_id(quick)))
    cast.s.commit()
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_H1)
    scores = {r["member_id"]: r["score"] for r in review["zone_leaders"]}
    assert scores[row_id(slow)] < 60 <= scores[row_id(quick)], scores
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=AFTER_H1)
    (fact,) = [f for f in doc["facts"] if f["kind"] == "low_leaders"]
    assert fact["text"] == "得分低于60分的包联领导：额尔敦。" and fact["ids"] == {"member": [row_id(slow)]}
    assert fact["text"] in doc["summary"]


def test_the_review_says_which_orders_were_resolved_by_their_time_limit(cast: Cast, tmp_path: Path) -> None:
    """A 督办单 sets 办结时限 (five working days from its issue); the review's 督办与催办 said nothing
    when a unit missed it (audit B6). Three problems turn red through the worker: one resolved on its
    order's last day, one two working days after it, one never. The rendered review (PDF read back)
    counts the orders and those met, and names the two missed by 文号, unit and item: the late one
    with the day it was resolved and its working days late, the open one 截至 the review's day. Before
    any limit passed it reads 均尚未到办结时限; once the last one is resolved too, none met: 均未; a
    half whose orders were all resolved in time reads 均在办结时限内办结, and one of a single order 已."""
    from pypdf import PdfReader

    from jobs.render import render_document
    from jobs.supervision import run_supervision
    from models import Problem, SupervisionOrder
    from oversight.supervision import missed_orders, order_limit
    from oversight.workdays import add_workdays, workdays_between
    from tests.test_supervision import _at

    def section(now: datetime) -> tuple[list[str], str]:
        review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=now)
        doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=now)
        files = render_document("review", doc, out=tmp_path / f"review-{now:%m%d%H%M%S}.pdf")
        text = "".join("".join(page.extract_text().split()) for page in PdfReader(files.pdf).pages)
        lines = next(sec for sec in doc["sections"] if sec["heading"] == "督办与催办")["paragraphs"]
        return [line for line in lines if line.startswith(("本期发出", "未在办结时限内"))], text

    def cn(d: date) -> str:
        return f"{d.year}年{d.month}月{d.day}日"

    owners = ("forestry", "water", "natres")
    pids = [
        cast.raise_(owner=o, when=_at(date(2026, 3, 2)), category="water_permit" if o == "water" else "forest_grass")
        for o in owners
    ]
    cast.s.commit()
    for day in sorted({add_workdays(cast.s.get(Problem, p).due_on, 11) for p in pids}):
        run_supervision(session=cast.s, now=_at(day), data_dir=tmp_path)
    cast.s.commit()
    orders = {o.item_id: o for o in cast.s.exec(select(SupervisionOrder)).all()}
    assert sorted(orders) == sorted(pids)
    limits = {p: order_limit(orders[p]) for p in pids}
    for p in pids:  # the 办结时限 the order prints is the one it is held to
        assert limits[p] == add_workdays(orders[p].issued_at.astimezone(SH).date(), 5)
    first = min(orders[p].issued_at for p in pids)
    assert section(first + HOUR)[0] == ["本期发出红色督办单3份，均尚未到办结时限。"]

    for p, owner in zip(pids, owners, strict=True):
        accept_problem(session=cast.s, problem_id=p, actor=cast[owner], now=first + HOUR)
    resolve_problem(
        session=cast.s, problem_id=pids[0], actor=cast["forestry"], evidence_text="已办结", now=_at(limits[pids[0]])
    )
    late_day = add_workdays(limits[pids[1]], 2)
    resolve_problem(session=cast.s, problem_id=pids[1], actor=cast["water"], evidence_text="已办结", now=_at(late_day))
    cast.s.commit()
    now = _at(add_workdays(max(limits.values()), 3))
    today = now.astimezone(SH).date()
    lines, text = section(now)
    doc_no = {p: orders[p].doc_no for p in pids}
    assert lines == [
        "本期发出红色督办单3份，其中1份在办结时限内办结，2份未在办结时限内办结。",
        f"未在办结时限内办结的：{doc_no[pids[1]]}（旗水利局，{pids[1]}号问题）办结时限为{cn(limits[pids[1]])}，"
        f"{cn(late_day)}办结，逾期2个工作日；{doc_no[pids[2]]}（旗自然资源局，{pids[2]}号问题）办结时限为"
        f"{cn(limits[pids[2]])}，截至{cn(today)}仍未办结，已逾期{workdays_between(limits[pids[2]], today)}个工作日。",
    ], lines
    assert "".join(lines) in text, text
    h1 = datetime(2026, 1, 1, tzinfo=SH)
    missed = missed_orders(session=cast.s, plan_id=cast.plan_id, start=h1, end=now, as_of=now)
    assert [(m.doc_no, m.state) for m in missed] == [(doc_no[pids[1]], "late"), (doc_no[pids[2]], "open")]

    # The first reopened and resolved again after its limit: the 办结 that stands is late, none met: 均未.
    reopen_problem(session=cast.s, problem_id=pids[0], actor=cast["emergency"], reason="问题反弹", now=now)
    resolve_problem(session=cast.s, problem_id=pids[0], actor=cast["forestry"], evidence_text="已办结", now=now + HOUR)
    cast.s.commit()
    assert section(now + 2 * HOUR)[0][0] == "本期发出红色督办单3份，均未在办结时限内办结。"


def test_orders_all_resolved_in_time_read_jun_and_a_single_one_yi(cast: Cast, tmp_path: Path) -> None:
    """均在办结时限内办结 only when every order of the half met its limit; one order alone reads 已; none
    issued while units were urged reads 本期未发出红色督办单 (nobody urged nor ordered: the section's
    本期没有被催办或红色督办的单位 already says it)."""
    from jobs.supervision import run_supervision
    from models import Problem, SupervisionOrder
    from oversight import supervision as sv
    from oversight.supervision import order_limit
    from oversight.workdays import add_workdays
    from tests.test_supervision import _at

    def lines(now: datetime) -> list[str]:
        review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=now)
        doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=now)
        return next(sec for sec in doc["sections"] if sec["heading"] == "督办与催办")["paragraphs"]

    p0 = cast.raise_(owner="forestry", when=_at(date(2026, 3, 2)))
    cast.s.commit()
    sv.urge(session=cast.s, actor=cast.office, kind="problem", item_id=p0, now=_at(date(2026, 3, 3)))
    cast.s.commit()
    assert lines(_at(date(2026, 3, 4)))[-1] == "本期未发出红色督办单。"
    p1 = cast.raise_(owner="water", when=_at(date(2026, 4, 1)), category="water_permit")
    accept_problem(session=cast.s, problem_id=p0, actor=cast["forestry"], now=_at(date(2026, 3, 3)))
    accept_problem(session=cast.s, problem_id=p1, actor=cast["water"], now=_at(date(2026, 4, 2)))
    cast.s.commit()
    red0, red1 = (add_workdays(cast.s.get(Problem, p).due_on, 11) for p in (p0, p1))
    run_supervision(session=cast.s, now=_at(red0), data_dir=tmp_path)
    cast.s.commit()
    [first] = cast.s.exec(select(SupervisionOrder)).all()
    resolve_problem(
        session=cast.s, problem_id=p0, actor=cast["forestry"], evidence_text="已办结", now=_at(order_limit(first))
    )
    cast.s.commit()
    now = _at(add_workdays(order_limit(first), 1))
    assert now.date() < red1
    assert lines(now)[-1] == "本期发出红色督办单1份，已在办结时限内办结。"
    run_supervision(session=cast.s, now=_at(red1), data_dir=tmp_path)
    cast.s.commit()
    second = cast.s.exec(select(SupervisionOrder).where(SupervisionOrder.item_id == p1)).one()
    resolve_problem(session=cast.s, problem_id=p1, actor=cast["water"], evidence_text="已办结", now=_at(red1) + HOUR)
    cast.s.commit()
    assert lines(_at(add_workdays(order_limit(second), 2)))[-1] == "本期发出红色督办单2份，均在办结时限内办结。"


def test_an_order_of_the_half_before_due_in_this_one_is_said_by_this_halfs_review(cast: Cast) -> None:
    """A 督办单 issued on 26 June has its 办结时限 on 3 July: the first half's review, as of 30 June,
    reads it 尚未到办结时限; the second half's said nothing of it, so a unit that missed it was named by
    neither. The second half's review now reads 上期发出、办结时限在本期的红色督办单1份：… with the day it
    was resolved and its working days late."""
    from models import SupervisionOrder
    from oversight.supervision import order_limit
    from oversight.workdays import workdays_between
    from tests.test_supervision import _at

    pid = cast.raise_(owner="forestry", when=_at(date(2026, 6, 1)))
    accept_problem(session=cast.s, problem_id=pid, actor=cast["forestry"], now=_at(date(2026, 6, 2)))
    order = SupervisionOrder(
        plan_id=cast.plan_id, year=2026, seq=1, doc_no="乌中联办督〔2026〕1号", kind="problem", item_id=pid,
        unit_id=cast.uid("forestry"), issued_at=_at(date(2026, 6, 26)),
    )  # fmt: skip
    cast.s.add(order)
    cast.s.flush()
    limit = order_limit(order)
    assert limit == date(2026, 7, 3)
    resolve_problem(
        session=cast.s, problem_id=pid, actor=cast["forestry"], evidence_text="已办结", now=_at(date(2026, 7, 8))
    )
    cast.s.flush()

    def lines(period: str, now: datetime) -> list[str]:
        review = build_review(session=cast.s, plan_id=cast.plan_id, period=period, now=now)
        doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=now)
        return next(sec for sec in doc["sections"] if sec["heading"] == "督办与催办")["paragraphs"]

    assert lines("2026H1", AFTER_H1)[-1] == "本期发出红色督办单1份，尚未到办结时限。"
    late = workdays_between(limit, date(2026, 7, 8))
    assert lines("2026H2", _at(date(2026, 7, 20))) == [
        "本期没有被催办或红色督办的单位。",
        f"上期发出、办结时限在本期的红色督办单1份：乌中联办督〔2026〕1号（旗林草局，{pid}号问题）办结时限为2026年7月3日，"
        f"2026年7月8日办结，逾期{late}个工作日。",
    ]
