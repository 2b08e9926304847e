"""Accountability rules as scenarios: who passes a problem on, who is ruled responsible,
who reports, who lets things lie — and which units the quarter's findings name."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text as sql
from sqlmodel import Session, select

from models import Decision, Member, Plan, ProblemCategory, ProblemEvent, Report, Right, RightBatch, Role, Task, Unit
from oversight.accountability import (
    Finding,
    evaluate,
    parse_period,
)
from oversight.errors import InvalidInputError
from oversight.measures import WorkdayIndex, problem_counts, reporting_weeks, weighted_median
from oversight.periods import previous_period
from oversight.problems import (
    accept_handover_reason,
    accept_problem,
    confirm_problem,
    decline_problem,
    hand_over_problem,
    raise_problem,
    resolve_problem,
    rule_problem,
)
from oversight.workdays import workdays_between

SH = ZoneInfo("Asia/Shanghai")
AFTER_Q1 = datetime(2026, 4, 3, 1, 0, tzinfo=UTC)
JOINED = datetime(2024, 12, 2, 9, tzinfo=SH).astimezone(UTC)  # everyone joined before the 2025 timelines began


def at(month: int, day: int, hour: int = 10) -> datetime:
    """A moment of 2026 in Asia/Shanghai, as aware UTC."""
    return datetime(2026, month, day, hour, tzinfo=SH).astimezone(UTC)


class Cast:
    """Units of the 乌拉特中旗 plan and one contact each, plus the office and the convener."""

    def __init__(self, session: Session, plan_id: int) -> None:
        self.s = session
        self.plan_id = plan_id
        plan = session.get(Plan, plan_id)
        assert plan is not None
        plan.tracking_since = JOINED.astimezone(SH).date()  # the system was in use before 2026Q1
        self.units = {u.key: u for u in session.exec(select(Unit).where(Unit.plan_id == plan_id)).all()}
        self.tg = 5000
        self.people: dict[str, Member] = {}
        for key in (
            "emergency",
            "forestry",
            "natres",
            "water",
            "eco",
            "market_reg",
            "finance",
            "ndrc",
            "miit",
            "culture",
            "transport",
        ):
            self.people[key] = self.member(key, Role.CONTACT)
        self.office = self.member("office", Role.OFFICE)
        self.convener = self.member("banner_gov", Role.CONVENER)
        session.commit()

    def member(self, key: str, role: str) -> Member:
        self.tg += 1
        m = Member(
            plan_id=self.plan_id,
            telegram_user_id=self.tg,
            name=f"{self.units[key].short}联络员",
            unit_id=self.units[key].id,
            role=role,
            joined_at=JOINED,
        )
        self.s.add(m)
        self.s.flush()
        return m

    def __getitem__(self, key: str) -> Member:
        return self.people[key]

    def list_batches(self) -> None:
        """One right in each batch of the ledger, none of them moved: each batch can be counted
        (at nothing done), where a batch with no right listed is not loaded and has no lag."""
        for task in self.s.exec(select(Task).where(Task.plan_id == self.plan_id)).all():
            right = Right(plan_id=self.plan_id, code=f"L-{task.key}", name=f"{task.name}示例", kind="mining")
            self.s.add(right)
            self.s.flush()
            self.s.add(RightBatch(right_id=right.id, task_id=task.id))
        self.s.flush()

    def uid(self, key: str) -> int:
        return self.units[key].id

    def raise_(self, owner: str, when: datetime, category: str = "forest_grass", by: str = "emergency") -> int:
        cat = self.s.exec(
            select(ProblemCategory).where(ProblemCategory.plan_id == self.plan_id, ProblemCategory.key == category)
        ).one()
        p = raise_problem(
            session=self.s,
            plan_id=self.plan_id,
            actor=self.people[by],
            text=f"{category}手续受阻",
            category_id=cat.id,
            owner_unit_id=self.uid(owner),
            now=when,
        )
        return p.id

    def hand(self, pid: int, frm: str, to: str, when: datetime, reason: str = "不属于本单位职责") -> None:
        hand_over_problem(
            session=self.s, problem_id=pid, actor=self.people[frm], to_unit_id=self.uid(to), reason=reason, now=when
        )

    def report_weekly(self, key: str, skip: tuple[int, ...] = ()) -> None:
        """File one progress report in each week of 2026Q1 except the `skip`-th weeks (0-based)."""
        weeks = reporting_weeks(date(2026, 1, 1), date(2026, 3, 31))
        for i, week in enumerate(weeks):
            monday = week.first
            if i in skip:
                continue
            member = self.people.get(key)
            self.s.add(
                Report(
                    plan_id=self.plan_id,
                    unit_id=self.uid(key),
                    member_id=member.id if member else None,
                    text="进展",
                    created_at=datetime(monday.year, monday.month, monday.day, 15, tzinfo=SH).astimezone(UTC),
                )
            )
        self.s.flush()


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> Cast:
    return Cast(session, banner_plan_id)


def findings(cast: Cast, period: str = "2026Q1", now: datetime = AFTER_Q1) -> list[Finding]:
    cast.s.commit()
    return evaluate(session=cast.s, plan_id=cast.plan_id, period=period, now=now)


def named(found: list[Finding], rule: str, basis: str | None = None) -> set[str]:
    """Short names of the units named under `rule` (and `basis`, if given)."""
    return {f.unit for f in found if f.rule == rule and (basis is None or basis in f.bases)}


def unit_names(cast: Cast, *keys: str) -> set[str]:
    return {cast.units[k].name for k in keys}


def finding(found: list[Finding], unit: str, rule: str) -> Finding:
    return next(f for f in found if f.unit == unit and f.rule == rule)


# --- 推诿扯皮 -------------------------------------------------------------------------------


def test_ruled_after_a_b_a_names_the_ruled_unit(cast: Cast) -> None:
    """林草局 hands to 自然资源局, who hands it straight back; the office rules 自然资源局
    responsible: 自然资源局 is named for shifting, 林草局 is not."""
    pid = cast.raise_("forestry", at(3, 2))
    cast.hand(pid, "forestry", "natres", at(3, 2, 14), "涉及用地，应由自然资源局办理")
    cast.hand(pid, "natres", "forestry", at(3, 3), "涉及草原，退回林草局")
    rule_problem(
        session=cast.s,
        problem_id=pid,
        actor=cast.office,
        to_unit_id=cast.uid("natres"),
        reason="用地手续在先，由自然资源局牵头",
        now=at(3, 4),
    )
    found = findings(cast)
    assert named(found, "shifting") == unit_names(cast, "natres")
    f = finding(found, cast.units["natres"].name, "shifting")
    assert f.bases == ["boomerang"] and "裁定" in f.summary
    kinds = [(e["kind"], e["from_unit"], e["to_unit"]) for e in f.evidence]
    assert ("handed_over", "旗林草局", "旗自然资源局") in kinds
    assert ("handed_over", "旗自然资源局", "旗林草局") in kinds
    assert ("ruled", "旗林草局", "旗自然资源局") in kinds
    back = next(e for e in f.evidence if e["kind"] == "handed_over" and e["from_unit"] == "旗自然资源局")
    assert back["actor"] == "自然资源局联络员" and back["reason"] == "涉及草原，退回林草局"
    assert back["at"] == "2026-03-03 10:00" and back["problem_id"] == pid


def test_a_b_a_without_ruling_names_the_unit_that_first_handed_it_away(cast: Cast) -> None:
    pid = cast.raise_("forestry", at(3, 2))
    cast.hand(pid, "forestry", "natres", at(3, 2, 14))
    cast.hand(pid, "natres", "forestry", at(3, 3))
    accept_problem(session=cast.s, problem_id=pid, actor=cast["forestry"], now=at(3, 3, 15))
    found = findings(cast)
    assert named(found, "shifting", "boomerang") == unit_names(cast, "forestry")


def test_declined_then_ruled_back_names_the_decliner(cast: Cast) -> None:
    pid = cast.raise_("forestry", at(3, 2))
    decline_problem(session=cast.s, problem_id=pid, actor=cast["forestry"], reason="不是林草的事", now=at(3, 2, 15))
    rule_problem(
        session=cast.s,
        problem_id=pid,
        actor=cast.office,
        to_unit_id=cast.uid("forestry"),
        reason="征占用草原审批属林草局职责",
        now=at(3, 4),
    )
    found = findings(cast)
    assert named(found, "shifting") == unit_names(cast, "forestry")
    f = finding(found, "旗林草局", "shifting")
    assert f.bases == ["declined_ruled_back"]
    assert [e["kind"] for e in f.evidence] == ["declined", "ruled"]
    assert f.evidence[0]["reason"] == "不是林草的事"


def test_declined_and_ruled_to_another_unit_is_not_shifting(cast: Cast) -> None:
    pid = cast.raise_("forestry", at(3, 2))
    decline_problem(session=cast.s, problem_id=pid, actor=cast["forestry"], reason="属用地问题", now=at(3, 2, 15))
    rule_problem(
        session=cast.s,
        problem_id=pid,
        actor=cast.office,
        to_unit_id=cast.uid("natres"),
        reason="用地问题由自然资源局办理",
        now=at(3, 4),
    )
    assert named(findings(cast), "shifting") == set()


def test_passed_on_three_times_names_every_passer_without_an_accepted_reason(cast: Cast) -> None:
    """林草局 → 自然资源局 (reason the office accepts) → 水利局 → 生态环境局, nobody accepting:
    自然资源局 and 水利局 are named; 林草局, whose reason was accepted, is not."""
    pid = cast.raise_("forestry", at(3, 2))
    cast.hand(pid, "forestry", "natres", at(3, 2, 11), "实为用地问题")
    handover = cast.s.exec(
        select(ProblemEvent).where(ProblemEvent.problem_id == pid, ProblemEvent.kind == "handed_over")
    ).one()
    accept_handover_reason(session=cast.s, event_id=handover.id, actor=cast.office, now=at(3, 2, 12))
    cast.hand(pid, "natres", "water", at(3, 3))
    cast.hand(pid, "water", "eco", at(3, 4))
    found = findings(cast)
    assert named(found, "shifting", "passed_on") == unit_names(cast, "natres", "water")
    assert "旗林草局" not in named(found, "shifting")
    f = finding(found, "旗水利局", "shifting")
    assert len([e for e in f.evidence if e["kind"] == "handed_over"]) == 3


def test_hand_over_with_a_reason_the_office_accepted_is_not_shifting(cast: Cast) -> None:
    pid = cast.raise_("forestry", at(3, 2))
    cast.hand(pid, "forestry", "natres", at(3, 2, 11), "实为用地问题")
    cast.hand(pid, "natres", "forestry", at(3, 2, 12), "草原占用未批")
    for e in cast.s.exec(
        select(ProblemEvent).where(ProblemEvent.problem_id == pid, ProblemEvent.kind == "handed_over")
    ).all():
        accept_handover_reason(session=cast.s, event_id=e.id, actor=cast.office, now=at(3, 2, 13))
    accept_problem(session=cast.s, problem_id=pid, actor=cast["forestry"], now=at(3, 2, 14))
    assert named(findings(cast), "shifting") == set()


def test_two_passes_are_not_passed_on(cast: Cast) -> None:
    pid = cast.raise_("forestry", at(3, 2))
    cast.hand(pid, "forestry", "natres", at(3, 2, 11))
    cast.hand(pid, "natres", "water", at(3, 2, 12))
    accept_problem(session=cast.s, problem_id=pid, actor=cast["water"], now=at(3, 2, 13))
    assert named(findings(cast), "shifting") == set()


def test_pass_on_count_comes_from_the_plan(cast: Cast, session: Session) -> None:
    plan = session.get(Plan, cast.plan_id)
    plan.spec = {**plan.spec, "thresholds": {**plan.spec["thresholds"], "pass_on_count": 2}}
    session.add(plan)
    pid = cast.raise_("forestry", at(3, 2))
    cast.hand(pid, "forestry", "natres", at(3, 2, 11))
    cast.hand(pid, "natres", "water", at(3, 2, 12))
    assert named(findings(cast), "shifting", "passed_on") == unit_names(cast, "forestry", "natres")


# --- 问题解决不积极、不明显 ---------------------------------------------------------------------


def test_accepted_at_once_but_resolved_late_is_not_solving_not_shifting(cast: Cast) -> None:
    """水利局 accepts at once, then does nothing until after the quarter."""
    pid = cast.raise_("water", at(1, 5), category="water_permit")
    accept_problem(session=cast.s, problem_id=pid, actor=cast["water"], now=at(1, 5, 11))
    resolve_problem(session=cast.s, problem_id=pid, actor=cast["water"], evidence_text="已批复", now=at(4, 20))
    found = evaluate(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=at(4, 21))
    assert "旗水利局" in named(found, "not_solving")
    f = finding(found, "旗水利局", "not_solving")
    assert {"low_resolution", "idle"} <= set(f.bases)
    assert "slow_accept" not in f.bases
    assert "旗水利局" not in named(found, "shifting")
    assert f"{pid}号问题" in f.summary and "#" not in f.summary


def test_resolved_in_time_is_not_named(cast: Cast) -> None:
    pid = cast.raise_("water", at(3, 2), category="water_permit")
    accept_problem(session=cast.s, problem_id=pid, actor=cast["water"], now=at(3, 2, 11))
    resolve_problem(session=cast.s, problem_id=pid, actor=cast["water"], evidence_text="已批复", now=at(3, 6))
    assert "旗水利局" not in named(findings(cast), "not_solving")


def test_fewer_than_half_resolved(cast: Cast) -> None:
    """Three overdue problems, one resolved: 33 % < 50 %; the finding cites the one 办结 (its
    resolution in the evidence) and the two overdue."""
    ids = [cast.raise_("eco", at(1, 6 + i), category="eia") for i in range(3)]
    for pid in ids:
        accept_problem(session=cast.s, problem_id=pid, actor=cast["eco"], now=at(1, 8))
    resolve_problem(session=cast.s, problem_id=ids[0], actor=cast["eco"], evidence_text="已批", now=at(1, 12))
    found = findings(cast)
    f = finding(found, "市生态环境局中旗分局", "not_solving")
    assert "low_resolution" in f.bases
    assert f"问题共3个，仅办结1个（{ids[0]}号问题，占33.3%）" in f.summary
    evidence = [e for e in f.evidence if e.get("basis") == "low_resolution"]
    assert {e["problem_id"] for e in evidence} == set(ids)
    assert [e["problem_id"] for e in evidence if e.get("kind") == "resolved"] == [ids[0]]


def test_a_unit_holding_a_problem_not_yet_due_is_not_said_to_own_only_its_overdue_one(cast: Cast) -> None:
    """The audit's 苏木镇: two problems, 16号 overdue and 33号 not due until after the quarter; the
    notice read 本期负责的1个问题未办结 beside a brief counting 2. It now says what it counts: the
    overdue one, 1个问题逾期未办结（16号问题）, and never 本期负责的."""
    late = cast.raise_("eco", at(1, 6), category="eia")
    accept_problem(session=cast.s, problem_id=late, actor=cast["eco"], now=at(1, 8))
    fresh = cast.raise_("eco", at(3, 30), category="eia")
    accept_problem(session=cast.s, problem_id=fresh, actor=cast["eco"], now=at(3, 30, 15))
    f = finding(findings(cast), "市生态环境局中旗分局", "not_solving")
    assert f.summary.startswith(f"1个问题逾期未办结（{late}号问题）"), f.summary
    assert "本期负责的" not in f.summary and f"{fresh}号" not in f.summary


def test_none_resolved_is_said_in_words_never_as_none_of_so_many(cast: Cast) -> None:
    """Three overdue problems accepted and none resolved: the finding says 3个问题逾期未办结, never
    仅办结0个（0%） (issue 18, item 8), and cites all three."""
    ids = [cast.raise_("eco", at(1, 6 + i), category="eia") for i in range(3)]
    for pid in ids:
        accept_problem(session=cast.s, problem_id=pid, actor=cast["eco"], now=at(1, 8))
    f = finding(findings(cast), "市生态环境局中旗分局", "not_solving")
    assert "low_resolution" in f.bases
    cited = "、".join(f"{i}号" for i in ids) + "问题"
    assert f.summary.startswith(f"3个问题逾期未办结（{cited}）；"), f.summary
    assert "仅办结" not in f.summary and "0%" not in f.summary
    assert {e["problem_id"] for e in f.evidence if e.get("basis") == "low_resolution"} == set(ids)


def test_a_problem_still_within_its_time_limit_does_not_count(cast: Cast) -> None:
    pid = cast.raise_("eco", at(3, 25), category="eia")
    accept_problem(session=cast.s, problem_id=pid, actor=cast["eco"], now=at(3, 25, 11))
    assert "市生态环境局中旗分局" not in named(findings(cast), "not_solving", "low_resolution")


def test_slow_to_accept_median_over_five_working_days(cast: Cast) -> None:
    late = [cast.raise_("ndrc", at(3, 2, 9 + i), category="project_approval") for i in range(3)]
    quick = cast.raise_("ndrc", at(3, 2, 13), category="project_approval")
    accept_problem(session=cast.s, problem_id=quick, actor=cast["ndrc"], now=at(3, 2, 14))
    for pid in late:
        accept_problem(session=cast.s, problem_id=pid, actor=cast["ndrc"], now=at(3, 11))  # 7 working days
        resolve_problem(session=cast.s, problem_id=pid, actor=cast["ndrc"], evidence_text="已立项", now=at(3, 12))
    resolve_problem(session=cast.s, problem_id=quick, actor=cast["ndrc"], evidence_text="已立项", now=at(3, 12))
    f = finding(findings(cast), "旗发改委", "not_solving")
    assert f.bases == ["slow_accept"]
    assert "中位数为7个工作日" in f.summary


def test_idle_for_ten_working_days(cast: Cast) -> None:
    pid = cast.raise_("finance", at(3, 2), category="exit_compensation")
    accept_problem(session=cast.s, problem_id=pid, actor=cast["finance"], now=at(3, 2, 11))
    # A comment is not action.
    from oversight.problems import comment_problem

    comment_problem(session=cast.s, problem_id=pid, actor=cast["finance"], text="正在研究", now=at(3, 10))
    resolve_problem(session=cast.s, problem_id=pid, actor=cast["finance"], evidence_text="补偿到位", now=at(3, 17))
    assert workdays_between(date(2026, 3, 2), date(2026, 3, 17)) == 11
    f = finding(findings(cast), "旗财政局", "not_solving")
    assert f.bases == ["idle"] and "连续11个工作日" in f.summary
    assert [e["kind"] for e in f.evidence] == ["accepted", "resolved", "idle_spell"]
    assert {k: v for k, v in f.evidence[-1].items() if k != "basis"} == {
        "kind": "idle_spell",
        "problem_id": pid,
        "workdays": 11,
        "since": "2026-03-02",
    }


def test_nine_working_days_is_not_idle(cast: Cast) -> None:
    pid = cast.raise_("finance", at(3, 2), category="exit_compensation")
    accept_problem(session=cast.s, problem_id=pid, actor=cast["finance"], now=at(3, 2, 11))
    resolve_problem(session=cast.s, problem_id=pid, actor=cast["finance"], evidence_text="补偿到位", now=at(3, 13))
    assert "旗财政局" not in named(findings(cast), "not_solving")


# --- 推进速度慢 -------------------------------------------------------------------------------


def test_two_missed_weekly_reports_make_a_unit_slow_one_does_not(cast: Cast) -> None:
    cast.list_batches()
    cast.report_weekly("water", skip=(3, 7))
    cast.report_weekly("eco", skip=(5,))
    found = findings(cast)
    f = finding(found, "旗水利局", "slow")
    # 旗水利局 is also responsible for 升级改造, 0 of 11 while its timeline expects 20.8 % (behind_plan).
    assert f.bases == ["behind_plan", "missed_reports"] and "2周未报送" in f.summary
    assert [e["from"] for e in f.evidence if e["kind"] != "task_progress"] == [
        reporting_weeks(date(2026, 1, 1), date(2026, 3, 31))[i].first.isoformat() for i in (3, 7)
    ]
    assert "missed_reports" not in finding_or_none(found, "市生态环境局中旗分局", "slow")


def finding_or_none(found: list[Finding], unit: str, rule: str) -> list[str]:
    f = next((f for f in found if f.unit == unit and f.rule == rule), None)
    return f.bases if f else []


def test_two_overdue_items_make_a_unit_slow(cast: Cast) -> None:
    cast.list_batches()
    cast.report_weekly("market_reg")
    pid = cast.raise_("market_reg", at(3, 2), category="business_licence")  # 10 working days: due 3-16
    accept_problem(session=cast.s, problem_id=pid, actor=cast["market_reg"], now=at(3, 2, 11))
    cast.s.add(
        Decision(
            plan_id=cast.plan_id,
            text="完成营业执照注销",
            owner_unit_id=cast.uid("market_reg"),
            due_on=date(2026, 3, 20),
            created_at=at(3, 1),
        )
    )
    cast.report_weekly("water")
    cast.s.add(
        Decision(
            plan_id=cast.plan_id,
            text="完成取水许可",
            owner_unit_id=cast.uid("water"),
            due_on=date(2026, 3, 20),
            created_at=at(3, 1),
        )
    )
    found = findings(cast)
    f = finding(found, "旗市场监管局", "slow")
    # 旗市场监管局 is also responsible for 升级改造, behind its timeline in Q1 2026 (behind_plan).
    assert f.bases == ["behind_plan", "overdue_items"]
    assert {e["kind"] for e in f.evidence} == {"overdue_problem", "overdue_decision", "task_progress"}
    assert "overdue_items" not in finding_or_none(found, "旗水利局", "slow")


def test_a_decision_done_late_was_still_overdue_at_quarter_end(cast: Cast) -> None:
    cast.report_weekly("water")
    for text in ("完成取水许可", "完成水保方案"):
        cast.s.add(
            Decision(
                plan_id=cast.plan_id,
                text=text,
                owner_unit_id=cast.uid("water"),
                due_on=date(2026, 3, 20),
                created_at=at(3, 1),
                state="done",
                done_at=at(4, 2),
            )
        )
    assert "旗水利局" in named(findings(cast), "slow", "overdue_items")


def test_task_behind_its_schedule_names_its_units_threshold_from_the_plan(cast: Cast, session: Session) -> None:
    cast.list_batches()
    task = session.exec(select(Task).where(Task.plan_id == cast.plan_id, Task.key == "close")).one()
    task.schedule = [{"by": "2026-03-01", "share": 0.5}, {"by": "2030-12-31", "share": 1.0}]
    session.add(task)
    found = findings(cast)
    assert unit_names(cast, "natres", "finance", "market_reg") <= named(found, "slow", "behind_plan")
    f = finding(found, "旗财政局", "slow")
    assert "强化淘汰关闭一批" in f.summary and f.evidence[0]["kind"] == "task_progress"
    # 公安局 shares the task but nobody of it ever joined: it could not act, so it is not named.
    assert "旗公安局" not in named(found, "slow", "behind_plan")
    plan = session.get(Plan, cast.plan_id)
    plan.spec = {**plan.spec, "thresholds": {**plan.spec["thresholds"], "behind_points": 60}}
    session.add(plan)
    assert named(findings(cast), "slow", "behind_plan") == set()


def test_upgrade_at_nought_in_2026_names_its_units_slow_with_the_expected_figure(cast: Cast) -> None:
    """Seed 000 二(三): 11 mines upgraded over 2025–2030. At the end of 2026Q1 (2026-04-01 00:00) the
    timeline expects 455/2,190 of them (20.8 %, 2.3 of 11); at 0 done that is more than 20 points
    behind. The other batches run 2026-01-01 – 2028-12-31 (三(二)): 90/1,095 = 8.2 % expected, not 20 behind."""
    cast.list_batches()
    found = findings(cast)
    upgrade_units = unit_names(
        cast, "emergency", "miit", "natres", "forestry", "eco", "culture", "water", "ndrc", "transport", "market_reg"
    )
    assert named(found, "slow", "behind_plan") == upgrade_units
    f = finding(found, "旗工信局", "slow")
    assert "加强升级改造一批" in f.summary and "应完成21%" in f.summary and "实际完成0%" in f.summary
    evidence = next(e for e in f.evidence if e["kind"] == "task_progress")
    assert evidence["expected"] == pytest.approx(round(11 * 455 / 2190, 1)) and evidence["done"] == 0
    assert evidence["behind_points"] == pytest.approx(round(100 * 455 / 2190, 1), abs=0.05)
    assert "强化淘汰关闭一批" not in " ".join(x.summary for x in found)


# --- Who is never named ---------------------------------------------------------------------


def test_a_unit_with_nothing_assigned_is_not_named(cast: Cast) -> None:
    """信访局 has no task and no problem: never named, though others are."""
    pid = cast.raise_("forestry", at(3, 2))
    decline_problem(session=cast.s, problem_id=pid, actor=cast["forestry"], reason="不是林草的事", now=at(3, 2, 15))
    rule_problem(
        session=cast.s,
        problem_id=pid,
        actor=cast.office,
        to_unit_id=cast.uid("forestry"),
        reason="属林草局职责",
        now=at(3, 4),
    )
    found = findings(cast)
    assert found, "others are named"
    everyone = {f.unit for f in found}
    assert "旗信访局" not in everyone and "属地苏木镇政府" not in everyone
    assert "旗政府办公室" not in everyone and "旗人民政府" not in everyone


def test_events_after_the_quarter_do_not_count(cast: Cast) -> None:
    pid = cast.raise_("forestry", at(4, 7))
    decline_problem(session=cast.s, problem_id=pid, actor=cast["forestry"], reason="不是林草的事", now=at(4, 7, 15))
    rule_problem(
        session=cast.s,
        problem_id=pid,
        actor=cast.office,
        to_unit_id=cast.uid("forestry"),
        reason="属林草局职责",
        now=at(4, 8),
    )
    assert named(findings(cast, now=at(4, 9)), "shifting") == set()
    assert named(findings(cast, period="2026Q2", now=at(4, 9)), "shifting") == unit_names(cast, "forestry")


def test_events_after_the_quarter_do_not_count_on_a_database_with_planner_statistics(cast: Cast) -> None:
    """水利局 accepts a problem on 2 March and lets it lie past its deadline; it resolves it on 20 April
    and 应急管理局 confirms it the next day. 林草局 hands another to 自然资源局, who hands it straight
    back (a boomerang in the quarter); in April 林草局 hands it to 水利局. Evaluated on 22 April after
    ANALYZE, 2026Q1 still sees 水利局's problem open and overdue at the quarter's end, not resolved,
    and cites no event of the boomerang from April. (With planner statistics SQLite 3.40 ran `problem_id
    = ? AND kind IN (…) AND at <= ?` on the (problem_id, kind, at) index as one scan that checked the time
    bound against the first kind only, and returned the later confirmation: resolved 1 of 1, no overdue.)"""
    for i in range(12):  # enough history for the statistics to describe problems of several events each
        filler = cast.raise_("eco", at(1, 5 + i), category="eia")
        accept_problem(session=cast.s, problem_id=filler, actor=cast["eco"], now=at(1, 5 + i, 11))
        resolve_problem(session=cast.s, problem_id=filler, actor=cast["eco"], evidence_text="已批", now=at(1, 6 + i))
        confirm_problem(session=cast.s, problem_id=filler, actor=cast["emergency"], now=at(1, 6 + i, 15))
    late = cast.raise_("water", at(3, 2), category="water_permit")
    accept_problem(session=cast.s, problem_id=late, actor=cast["water"], now=at(3, 2, 11))
    resolve_problem(session=cast.s, problem_id=late, actor=cast["water"], evidence_text="已批复", now=at(4, 20))
    confirm_problem(session=cast.s, problem_id=late, actor=cast["emergency"], now=at(4, 21))
    back = cast.raise_("forestry", at(3, 9))
    cast.hand(back, "forestry", "natres", at(3, 9, 14))
    cast.hand(back, "natres", "forestry", at(3, 10))
    cast.hand(back, "forestry", "water", at(4, 10))
    cast.s.commit()
    cast.s.execute(sql("ANALYZE"))
    cast.s.commit()
    q = parse_period("2026Q1")
    counts = problem_counts(session=cast.s, plan_id=cast.plan_id, start=q.start, as_of=q.as_of(at(4, 22)))
    water = counts[cast.uid("water")]
    assert (water["owned"], water["resolved"], water["overdue"]) == (1, 0, 1)
    assert [e["problem_id"] for e in water["examples"]] == [late]
    found = findings(cast, now=at(4, 22))
    assert "旗水利局" in named(found, "not_solving", "low_resolution")
    f = finding(found, "旗林草局", "shifting")
    cited = [e for e in f.evidence if e["problem_id"] == back]
    assert [(e["kind"], e["to_unit"]) for e in cited] == [
        ("assigned", "旗林草局"),
        ("handed_over", "旗自然资源局"),
        ("handed_over", "旗林草局"),
    ]


# --- Pieces ----------------------------------------------------------------------------------------


def test_periods() -> None:
    q = parse_period("2026Q1")
    assert q.first_day == date(2026, 1, 1) and q.last_day == date(2026, 3, 31) and q.label == "2026年第一季度"
    h = parse_period("2026h2")
    assert h.first_day == date(2026, 7, 1) and h.last_day == date(2026, 12, 31) and h.label == "2026年下半年"
    assert previous_period("2026Q1") == "2025Q4" and previous_period("2026H1") == "2025H2"
    with pytest.raises(InvalidInputError):
        parse_period("2026-Q1")


def test_workday_index_matches_the_calendar() -> None:
    idx = WorkdayIndex(date(2025, 12, 1), date(2026, 12, 31))
    for a, b in [
        (date(2026, 1, 30), date(2026, 3, 2)),
        (date(2026, 9, 25), date(2026, 10, 12)),
        (date(2025, 11, 1), date(2026, 1, 5)),
        (date(2026, 12, 1), date(2027, 1, 20)),
    ]:
        assert idx.between(a, b) == workdays_between(a, b)


def test_weighted_median() -> None:
    assert weighted_median([(7, 3), (0, 1)]) == 7
    assert weighted_median([(1, 1), (3, 1)]) == 2
    assert weighted_median([]) is None


def test_report_weeks_skip_weeks_without_working_days() -> None:
    weeks = reporting_weeks(date(2025, 10, 1), date(2025, 12, 31))
    # 10月1日–5日 (the quarter's part of its first week) are all 国庆 holidays: no reporting week.
    assert weeks[0].first == date(2025, 10, 6) and weeks[0].workdays == 3  # 9, 10 and the make-up 11
    assert (weeks[-1].first, weeks[-1].last) == (date(2025, 12, 29), date(2025, 12, 31))  # partial, counts


# --- The command line ----------------------------------------------------------------------------


def test_cli_notices_draft_shows_the_findings_offline(settings_env, engine) -> None:
    import json as _json

    from typer.testing import CliRunner

    from lianxi.cli import app
    from models import Notice, OutboxMessage
    from tests.conftest import load_bundled_plan

    plan_id = load_bundled_plan(engine)
    with Session(engine, expire_on_commit=False) as s:
        cast = Cast(s, plan_id)
        pid = cast.raise_("forestry", at(3, 2))
        decline_problem(session=s, problem_id=pid, actor=cast["forestry"], reason="不是林草的事", now=at(3, 2, 15))
        rule_problem(
            session=s,
            problem_id=pid,
            actor=cast.office,
            to_unit_id=cast.uid("forestry"),
            reason="属林草局职责",
            now=at(3, 4),
        )
        s.commit()
        outbox_before = len(s.exec(select(OutboxMessage)).all())
    runner = CliRunner()
    result = runner.invoke(app, ["notices", "draft", "--period", "2026Q1", "--json"])
    assert result.exit_code == 0, result.output
    data = _json.loads(result.output)
    shifting = [f for f in data["findings"] if f["rule"] == "shifting"]
    assert [(f["unit"], f["bases"]) for f in shifting] == [("旗林草局", ["declined_ruled_back"])]
    assert [e["reason"] for e in shifting[0]["evidence"]] == ["不是林草的事", "属林草局职责"]
    text = runner.invoke(app, ["notices", "draft", "--period", "2026Q1"])
    assert text.exit_code == 0 and "旗林草局：推诿扯皮" in text.output and "理由：不是林草的事" in text.output
    bad = runner.invoke(app, ["notices", "draft", "--period", "2026-1"])
    assert bad.exit_code == 2 and "格式不正确" in bad.output
    with Session(engine) as s:
        assert s.exec(select(Notice)).all() == [], "offline: no draft is written"
        assert len(s.exec(select(OutboxMessage)).all()) == outbox_before, "and nothing is sent"
