"""What the brief says is true as of the moment it is made (issue 18, items 3–5): a quantifier
only where the record proves it, 截至 the moment for a period still running, the notices issued
and explained before it, and 上次会议 the meeting before the one being called."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import Session, select

from jobs.brief import brief_context, brief_summary
from models import Decision, Explanation, Meeting, Notice, NoticeFinding, Report, Right, RightClaim, Unit, Zone
from oversight.briefdata import brief_data, parse_period
from oversight.claims import decide, open_claim
from oversight.ledger import export_ledger
from oversight.meetings import call_adhoc_meeting
from tests.test_accountability import Cast

SH = ZoneInfo("Asia/Shanghai")
QUANTIFIERS = ("各", "均", "全部", "没有", "所有")


def sh(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(UTC)


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> Cast:
    return Cast(session, banner_plan_id)


def context(cast: Cast, period: str, now: datetime) -> dict:
    cast.s.commit()
    data = brief_data(session=cast.s, plan_id=cast.plan_id, period=parse_period(period), now=now)
    ctx = brief_context(data, issue_no=1, issued_on=now.astimezone(SH).date().isoformat(), chart="<svg/>")
    ctx["_data"] = data
    return ctx


def texts(ctx: dict) -> list[str]:
    return [f["text"] for f in ctx["facts"]]


def kinds(ctx: dict) -> list[str]:
    return [f["kind"] for f in ctx["facts"]]


def zones(cast: Cast) -> list[Zone]:
    return list(cast.s.exec(select(Zone).where(Zone.plan_id == cast.plan_id).order_by(Zone.seq)).all())


def report(cast: Cast, key: str, when: datetime, zone: Zone | None = None, text: str = "进展") -> int:
    r = Report(
        plan_id=cast.plan_id,
        unit_id=cast.uid(key),
        member_id=cast[key].id,
        zone_id=zone.id if zone else None,
        text=text,
        created_at=when,
    )
    cast.s.add(r)
    cast.s.flush()
    return r.id


def test_no_zone_reported_is_said_so_never_that_each_zone_did(cast: Cast) -> None:
    """2026Q4 with no zone reports: the brief says no zone reported, above the table of zeros."""
    ctx = context(cast, "2026Q4", sh(2027, 1, 8, 9))
    n = len(zones(cast))
    assert "zones_all_reported" not in kinds(ctx)
    assert f"本期{n}个整合区均没有进展报送。" in texts(ctx)
    assert not any("均有进展报送" in t for t in texts(ctx))
    assert "本期没有整合区报送进展。" in texts(ctx)  # the news subsection names none either
    zone_table = ctx["sections"][1]["tables"][0]
    assert all(row[2] == 0 for row in zone_table["rows"])


def test_some_zones_reported_the_others_are_named_and_all_reported_only_when_all_did(cast: Cast) -> None:
    zs = zones(cast)
    first = report(cast, "natres", sh(2026, 11, 3), zs[0], "1号区核查完成")
    ctx = context(cast, "2026Q4", sh(2027, 1, 8, 9))
    quiet = next(f for f in ctx["facts"] if f["kind"] == "zones_quiet")
    assert quiet["values"]["zone_seqs"] == [z.seq for z in zs[1:]]
    assert quiet["text"] == "本期没有进展报送的整合区：" + "、".join(f"{z.seq}号" for z in zs[1:]) + "。"
    news = next(f for f in ctx["facts"] if f["kind"] == "zone_news")
    assert news["ids"] == {"report": [first]} and "2026年11月3日" in news["text"]
    # The unit's own words are quoted (a quarterly brief read 本周… as its own voice).
    assert news["text"].endswith("）：“1号区核查完成”"), news["text"]
    for z in zs[1:]:
        report(cast, "forestry", sh(2026, 11, 4), z)
    second = report(cast, "natres", sh(2026, 11, 5), zs[0], "1号区再次报送")
    ctx = context(cast, "2026Q4", sh(2027, 1, 8, 9))
    assert f"{len(zs)}个整合区本期均有进展报送。" in texts(ctx)
    assert "zones_quiet" not in kinds(ctx)
    # Its citation counts the reports as 表2 sums them (the audit saw 等19次 above a table of 31):
    # each zone's first named first, then the rest.
    (section,) = [s for s in ctx["sections"] if s["heading"] == "整合区和包联领导工作动态"]
    total = sum(row[2] for row in section["tables"][0]["rows"])
    assert total == len(zs) + 1
    lead = section["paragraphs"][0]
    assert lead["text"] == f"{len(zs)}个整合区本期均有进展报送。"
    # Reports are cited by unit and day: the ledger sent with the brief has no sheet of them.
    natres = cast.s.get(Unit, cast.uid("natres"))
    assert natres is not None
    assert lead["note"].startswith(f"（见{natres.name}2026年11月3日报送、"), lead
    assert lead["note"].endswith(f"等{total}次进展报送）"), lead
    fact = next(f for f in ctx["facts"] if f["kind"] == "zones_all_reported")
    assert fact["ids"]["report"][0] == first and second in fact["ids"]["report"][len(zs) :]


def test_a_brief_of_the_quarter_in_progress_says_until_when_it_was_made(cast: Cast) -> None:
    """On 2 December the 2026Q4 brief is 截至2026年12月2日 10:15, never 截至2026年12月31日, and
    counts what was recorded that morning."""
    rid = report(cast, "natres", sh(2026, 12, 2, 9), zones(cast)[0], "今晨报送")
    cast.list_batches()
    now = sh(2026, 12, 2, 10, 15)
    ctx = context(cast, "2026Q4", now)
    every = "\n".join([ctx["editor_note"], *texts(ctx)])
    assert "2026年12月31日" not in every
    lead = next(f for f in ctx["facts"] if f["kind"] == "progress_lead")
    assert lead["text"].startswith("截至2026年12月2日 10:15，")
    assert "统计截至2026年12月2日 10:15" in ctx["editor_note"]
    news = next(f for f in ctx["facts"] if f["kind"] == "zone_news")
    assert news["ids"] == {"report": [rid]}
    problems = next(f for f in ctx["facts"] if f["kind"].startswith("problems_lead"))
    assert problems["text"] == "本期没有新增问题，也没有办结问题。", "nothing open: no 目前未关闭0个"
    none_open = next(f for f in ctx["facts"] if f["kind"] == "problems_none_open")
    assert none_open["text"] == "目前没有未关闭的问题。"
    summary = brief_summary(ctx["_data"], issue_no=1)
    assert "第1期（2026年第四季度，截至2026年12月2日 10:15）" in summary and "期末" not in summary
    # After the quarter, the same brief is 截至 its last day.
    ended = context(cast, "2026Q4", sh(2027, 1, 8, 9))
    assert next(f for f in ended["facts"] if f["kind"] == "progress_lead")["text"].startswith("截至2026年12月31日，")


def test_a_meeting_brief_carries_the_notice_just_issued_and_explained_and_the_previous_meeting(cast: Cast) -> None:
    """乌中联办通〔2026〕1号 is published at 09:00 and explained at 09:30; the convener calls a
    meeting at 09:50: its brief names the notice and the explanation, and its 上次会议 is the
    October meeting, not the one being called."""
    s = cast.s
    october = Meeting(
        plan_id=cast.plan_id,
        kind="quarterly",
        period="2026Q4",
        held_on=date(2026, 10, 12),
        title="第三季度联席会议",
        created_at=sh(2026, 10, 12),
    )
    s.add(october)
    s.flush()
    s.add(
        Decision(
            plan_id=cast.plan_id,
            meeting_id=october.id,
            text="完成整合区用地预审",
            owner_unit_id=cast.uid("natres"),
            due_on=date(2026, 11, 30),
        )
    )
    notice = Notice(
        plan_id=cast.plan_id,
        period="2026Q3",
        doc_no="乌中联办通〔2026〕1号",
        title="关于第三季度工作推进不力单位情况的通报",
        state="published",
        approved_at=sh(2026, 12, 2, 8, 30),
        published_at=sh(2026, 12, 2, 9),
        created_at=sh(2026, 12, 1),
    )
    s.add(notice)
    s.flush()
    s.add(NoticeFinding(notice_id=notice.id, unit_id=cast.uid("water"), rule="slow", summary="8周未报送工作进展"))
    s.add(NoticeFinding(notice_id=notice.id, unit_id=cast.uid("eco"), rule="slow", summary="8周未报送工作进展"))
    s.add(
        Explanation(
            notice_id=notice.id,
            unit_id=cast.uid("water"),
            member_id=cast["water"].id,
            text="已补报全部周报。",
            created_at=sh(2026, 12, 2, 9, 30),
        )
    )
    meeting, _run = call_adhoc_meeting(session=s, actor=cast.convener, topic="研究通报整改", now=sh(2026, 12, 2, 9, 50))
    ctx = context(cast, meeting.period, sh(2026, 12, 2, 9, 51))
    said = texts(ctx)
    assert "本期未发布通报。" not in said
    assert (
        "乌中联办通〔2026〕1号《关于第三季度工作推进不力单位情况的通报》通报了旗水利局、市生态环境局中旗分局。" in said
    )
    assert "旗水利局、市生态环境局中旗分局：8周未报送工作进展。" in said  # one sentence for the same finding
    assert "旗水利局情况说明：已补报全部周报。" in said
    assert "尚未提交情况说明的被通报单位：市生态环境局中旗分局。" in said
    lead = next(f for f in ctx["facts"] if f["kind"].startswith("decisions_lead"))
    assert lead["values"]["meeting_id"] == october.id != meeting.id
    assert lead["text"].startswith("2026年10月12日召开的第三季度联席会议议定事项1项")
    # A brief made before the notice was published does not know it.
    before = context(cast, meeting.period, sh(2026, 12, 2, 8, 59))
    assert "本期未发布通报。" in texts(before)


def _pending_rights(cast: Cast, as_of: datetime) -> int:
    """Counted here on its own: rights with a claim filed by `as_of` and not decided by then."""
    rows = cast.s.exec(select(RightClaim).where(RightClaim.plan_id == cast.plan_id)).all()

    def utc(t: datetime) -> datetime:
        return t if t.tzinfo else t.replace(tzinfo=UTC)

    return len(
        {c.right_id for c in rows if utc(c.created_at) <= as_of and (c.decided_at is None or utc(c.decided_at) > as_of)}
    )


def test_status_claims_waiting_are_one_fact_citing_their_rights_and_only_while_they_wait(cast: Cast) -> None:
    """截至…另有N宗矿业权的状态变更已报送、待确认: a fact of its own (kind, count, the rights it rests
    on), present only while a claim waits, its N the rights counted independently."""
    s = cast.s
    now = sh(2027, 1, 8, 9)
    assert "progress_claims" not in kinds(context(cast, "2026Q4", now))  # nothing filed: no sentence
    forestry = cast["forestry"]
    rights = []
    for code in ("T-1", "T-2"):
        right = Right(plan_id=cast.plan_id, code=code, name=f"{code}矿", kind="mining")
        s.add(right)
        s.flush()
        rights.append(right)
    claims = []
    for i, right in enumerate(rights):
        rep = Report(plan_id=cast.plan_id, unit_id=forestry.unit_id, member_id=forestry.id, text="已整合")
        s.add(rep)
        s.flush()
        claims.append(
            open_claim(
                session=s,
                report=rep,
                right=right,
                task_id=None,
                actor=forestry,
                to_status="consolidated",
                attachment_ids=[1],
                now=sh(2026, 12, 10 + i),
            )
        )
    ctx = context(cast, "2026Q4", now)
    [fact] = [f for f in ctx["facts"] if f["kind"] == "progress_claims"]
    assert fact["values"]["n"] == _pending_rights(cast, sh(2026, 12, 31, 23, 59)) == 2
    assert sorted(fact["ids"]["right"]) == sorted(r.id for r in rights)
    assert fact["text"].startswith("截至2026年12月31日，另有2宗矿业权的状态变更已报送")
    assert "旗林草局2026年12月10日报送T-1矿（T-1）已整合" in fact["text"]
    # One confirmed: the sentence counts the other; both confirmed: no sentence at all.
    decide(session=s, claim_id=claims[0].id, actor=cast["natres"], ok=True, now=sh(2026, 12, 20))
    ctx = context(cast, "2026Q4", now)
    [fact] = [f for f in ctx["facts"] if f["kind"] == "progress_claims"]
    assert fact["values"]["n"] == _pending_rights(cast, sh(2026, 12, 31, 23, 59)) == 1
    assert fact["ids"]["right"] == [rights[1].id] and "T-1矿" not in fact["text"]
    decide(session=s, claim_id=claims[1].id, actor=cast["natres"], ok=True, now=sh(2026, 12, 21))
    ctx = context(cast, "2026Q4", now)
    assert "progress_claims" not in kinds(ctx) and _pending_rights(cast, sh(2026, 12, 31, 23, 59)) == 0
    # A brief as of before the confirmations still shows them waiting (the record as it stood).
    early = context(cast, "2026Q4", sh(2026, 12, 15, 9))
    [fact] = [f for f in early["facts"] if f["kind"] == "progress_claims"]
    assert fact["values"]["n"] == _pending_rights(cast, sh(2026, 12, 15, 9)) == 2


def _crossing_histories(cast: Cast) -> dict[str, int]:
    """Four histories crossing 2026Q1's end and three settled in it, committed (see the test below)."""
    from oversight.problems import (
        accept_problem,
        confirm_problem,
        decline_problem,
        hand_over_problem,
        reopen_problem,
        resolve_problem,
        rule_problem,
    )

    s = cast.s
    closed_then = cast.raise_("natres", sh(2026, 1, 12))
    accept_problem(session=s, problem_id=closed_then, actor=cast["natres"], now=sh(2026, 1, 13))
    resolve_problem(session=s, problem_id=closed_then, actor=cast["natres"], evidence_text="已办", now=sh(2026, 2, 2))
    confirm_problem(session=s, problem_id=closed_then, actor=cast["emergency"], now=sh(2026, 2, 3))
    reopen_problem(session=s, problem_id=closed_then, actor=cast["emergency"], reason="复发", now=sh(2026, 4, 2))
    disputed_then = cast.raise_("water", sh(2026, 2, 9))
    decline_problem(
        session=s, problem_id=disputed_then, actor=cast["water"], reason="不属于本单位", now=sh(2026, 2, 10)
    )
    rule_problem(
        session=s,
        problem_id=disputed_then,
        actor=cast.office,
        to_unit_id=cast.uid("water"),
        reason="裁定",
        now=sh(2026, 4, 3),
    )
    moved_after = cast.raise_("eco", sh(2026, 3, 2))
    hand_over_problem(
        session=s,
        problem_id=moved_after,
        actor=cast["eco"],
        to_unit_id=cast.uid("forestry"),
        reason="职责",
        now=sh(2026, 4, 6),
    )
    open_then = cast.raise_("forestry", sh(2026, 3, 9))
    accept_problem(session=s, problem_id=open_then, actor=cast["forestry"], now=sh(2026, 3, 10))
    resolve_problem(session=s, problem_id=open_then, actor=cast["forestry"], evidence_text="已办", now=sh(2026, 4, 7))
    confirm_problem(session=s, problem_id=open_then, actor=cast["emergency"], now=sh(2026, 4, 8))
    # Nothing after the quarter: read off their projections.
    settled = cast.raise_("natres", sh(2026, 3, 16))
    closed_settled = cast.raise_("natres", sh(2026, 1, 19))
    accept_problem(session=s, problem_id=closed_settled, actor=cast["natres"], now=sh(2026, 1, 20))
    resolve_problem(
        session=s, problem_id=closed_settled, actor=cast["natres"], evidence_text="已办", now=sh(2026, 1, 21)
    )
    confirm_problem(session=s, problem_id=closed_settled, actor=cast["emergency"], now=sh(2026, 1, 22))
    disputed_settled = cast.raise_("water", sh(2026, 3, 23))
    decline_problem(
        session=s, problem_id=disputed_settled, actor=cast["water"], reason="不属于本单位", now=sh(2026, 3, 24)
    )
    s.commit()
    return {
        "closed_then": closed_then,
        "disputed_then": disputed_then,
        "moved_after": moved_after,
        "open_then": open_then,
        "settled": settled,
        "closed_settled": closed_settled,
        "disputed_settled": disputed_settled,
    }


def _assert_as_at_the_quarters_end(cast: Cast, data: dict, p: dict[str, int]) -> None:
    t = data["problems"]["totals"]
    assert t["new"] == {"n": 7, "ids": sorted(p.values())}
    assert t["open"]["ids"] == sorted(
        [p["disputed_then"], p["moved_after"], p["open_then"], p["settled"], p["disputed_settled"]]
    )
    assert t["disputed"]["ids"] == sorted([p["disputed_then"], p["disputed_settled"]])
    open_by_unit = {u["unit_id"]: u["open"]["ids"] for u in data["problems"]["by_unit"] if u["open"]["n"]}
    assert open_by_unit == {
        cast.uid("water"): sorted([p["disputed_then"], p["disputed_settled"]]),
        cast.uid("eco"): [p["moved_after"]],
        cast.uid("forestry"): [p["open_then"]],
        cast.uid("natres"): [p["settled"]],
    }


def test_problems_stand_in_a_later_brief_as_they_stood_at_the_quarters_end(cast: Cast) -> None:
    """A quarter's brief made after it: problems with no event since are read off their projection,
    the others off their events as of the quarter's end, and both give the same figures. Four
    histories cross 2026Q1's end: confirmed in the quarter and reopened after it (closed then),
    declined in it and ruled after (disputed then), handed over after it (owned by the first unit
    then), resolved and confirmed after it (open then)."""
    p = _crossing_histories(cast)
    now = sh(2026, 4, 20)
    data = context(cast, "2026Q1", now)["_data"]
    _assert_as_at_the_quarters_end(cast, data, p)

    # From the events alone (no projection to read): the same brief.
    cast.s.execute(text("DELETE FROM problemprojection"))
    again = brief_data(session=cast.s, plan_id=cast.plan_id, period=parse_period("2026Q1"), now=now)
    assert again["problems"] == data["problems"]
    cast.s.rollback()


def test_problems_stand_as_at_the_quarters_end_on_a_database_with_planner_statistics(cast: Cast) -> None:
    """The same histories on a database that has run ANALYZE, over enough settled problems of
    several events each for the statistics to describe them, read off their events alone: the
    brief's problem figures are those of the quarter's end. (SQLite 3.40, given statistics, runs
    `problem_id = ? AND kind IN (…) AND at < ?` on the (problem_id, kind, at) index as one scan
    that checks the time bound for the first kind only, see c11b7aa: the reopening after the
    quarter, the ruling after it and the hand-over after it would be read as the state then.)"""
    from oversight.problems import accept_problem, confirm_problem, resolve_problem

    s = cast.s
    for i in range(12):
        filler = cast.raise_("eco", sh(2025, 12, 1 + i), category="eia")
        accept_problem(session=s, problem_id=filler, actor=cast["eco"], now=sh(2025, 12, 1 + i, 11))
        resolve_problem(session=s, problem_id=filler, actor=cast["eco"], evidence_text="已批", now=sh(2025, 12, 2 + i))
        confirm_problem(session=s, problem_id=filler, actor=cast["emergency"], now=sh(2025, 12, 2 + i, 15))
    p = _crossing_histories(cast)
    s.execute(text("DELETE FROM problemprojection"))  # every problem read off its events
    s.commit()
    s.execute(text("ANALYZE"))
    s.commit()
    data = context(cast, "2026Q1", sh(2026, 4, 20))["_data"]
    _assert_as_at_the_quarters_end(cast, data, p)


def test_a_plan_without_zones_says_so_and_claims_nothing_of_zones_or_leaders(cast: Cast) -> None:
    """A plan that draws no integration zones: the zones' section is the one sentence 本计划未划分整合区
    (zones_none), with no table, no 整合区动态 and no leaders' paragraph, and no sentence anywhere
    says each zone reported or none did."""
    for z in zones(cast):
        cast.s.delete(z)
    cast.s.flush()
    report(cast, "natres", sh(2026, 2, 3))
    ctx = context(cast, "2026Q1", sh(2026, 4, 8))
    (section,) = [s for s in ctx["sections"] if s["heading"] == "整合区和包联领导工作动态"]
    assert section == {"heading": "整合区和包联领导工作动态", "paragraphs": ["本计划未划分整合区。"]}
    assert [k for k in kinds(ctx) if k.startswith(("zone", "leader"))] == ["zones_none"]


def test_the_chat_summary_sent_with_the_brief_reads_as_the_office_would_write_it(cast: Cast) -> None:
    """The short text sent with the PDF, whole: the brief's title and number, each batch's rights
    done of its target (one mine consolidated in November), the quarter's problems (two raised, the
    forestry one past its due date of 30 November, none resolved) and the oldest open one with its
    owner; for the quarter in progress it is 截至 the moment, inside the label's brackets."""
    from models import Problem, RightBatch, Task
    from oversight.rights import move_right_status

    s = cast.s
    category = s.connection().execute(
        text("SELECT id FROM problemcategory WHERE plan_id = :p AND key = 'forest_grass'"), {"p": cast.plan_id}
    )
    cat = category.scalar_one()
    first, second = (
        Problem(
            plan_id=cast.plan_id,
            text=words,
            category_id=cat,
            raised_by_unit_id=cast.uid("emergency"),
            owner_unit_id=cast.uid(owner),
            due_on=due,
            created_at=when,
        )
        for words, owner, due, when in (
            ("某铁矿林地审批未办结。", "forestry", date(2026, 11, 30), sh(2026, 10, 12)),
            ("某矿取水许可待核。", "water", None, sh(2026, 11, 3)),
        )
    )
    s.add_all([first, second])
    consolidate = s.exec(select(Task).where(Task.plan_id == cast.plan_id, Task.key == "consolidate")).one()
    mine = Right(plan_id=cast.plan_id, code="C1500002010001", name="某铁矿", kind="mining")
    s.add(mine)
    s.flush()
    s.add(RightBatch(right_id=mine.id, task_id=consolidate.id))
    s.flush()
    move_right_status(
        session=s, right_id=mine.id, to_status="consolidated", actor_member_id=None, actor="t", now=sh(2026, 11, 5)
    )
    conn = s.connection()
    title = "乌拉特中旗非煤矿山资源整合、增储上产工作简报"  # the plan file's office.brief_title, its two lines
    tasks = conn.execute(
        text("SELECT id, name, target, measure FROM task WHERE plan_id = :p ORDER BY seq"), {"p": cast.plan_id}
    ).all()
    # Only the consolidation batch lists a right in this ledger: the others are not loaded yet.
    progress = "；".join(
        f"{name}1/{target}{measure}" if tid == consolidate.id else f"{name}（台账尚未载入）"
        for tid, name, target, measure in tasks
    )
    forestry = conn.execute(text("SELECT name FROM unit WHERE id = :u"), {"u": cast.uid("forestry")}).scalar_one()

    def summary(now: datetime, issue_no: int) -> str:
        return brief_summary(context(cast, "2026Q4", now)["_data"], issue_no=issue_no)

    def whole(label: str, issue_no: int, end: str) -> str:
        return (
            f"【{title}】第{issue_no}期（{label}）\n"
            f"进展：{progress}\n"
            f"问题：本期新增2个，办结0个；{end}未关闭2个，其中逾期1个。最久未关闭：{first.id}号问题（{forestry}）。\n"
            "全文见所附PDF（另附可编辑的Word文档）；完整台账见所附xlsx附件。"
        )

    assert summary(sh(2027, 1, 8, 9), 1) == whole("2026年第四季度", 1, "期末")
    assert summary(sh(2026, 12, 2, 10, 15), 2) == whole("2026年第四季度，截至2026年12月2日 10:15", 2, "目前")


def test_the_chat_summary_says_a_quarter_without_problems_in_words(cast: Cast) -> None:
    """A quarter in which nothing was raised or resolved and nothing is open: the summary's problem
    line says so in words (没有新增和办结的问题；期末没有未关闭的问题。), never 新增0个 or 未关闭0个，
    其中逾期0个, and names no oldest problem; with one problem open and not yet due it says 均未逾期."""
    from models import Problem

    def problems_line(now: datetime) -> str:
        text_ = brief_summary(context(cast, "2026Q4", now)["_data"], issue_no=1)
        return next(line for line in text_.split("\n") if line.startswith("问题："))

    assert problems_line(sh(2027, 1, 8, 9)) == "问题：本期没有新增和办结的问题；期末没有未关闭的问题。"
    s = cast.s
    cat = s.connection().execute(
        text("SELECT id FROM problemcategory WHERE plan_id = :p AND key = 'forest_grass'"), {"p": cast.plan_id}
    )
    p = Problem(
        plan_id=cast.plan_id,
        text="某矿林地审批待办。",
        category_id=cat.scalar_one(),
        raised_by_unit_id=cast.uid("emergency"),
        owner_unit_id=cast.uid("forestry"),
        due_on=date(2027, 2, 26),
        created_at=sh(2026, 12, 14),
    )
    s.add(p)
    s.flush()
    forestry = s.connection().execute(text("SELECT name FROM unit WHERE id = :u"), {"u": cast.uid("forestry")})
    assert problems_line(sh(2027, 1, 8, 9)) == (
        f"问题：本期新增1个，办结0个；期末未关闭1个，均未逾期。最久未关闭：{p.id}号问题（{forestry.scalar_one()}）。"
    )


def test_the_editor_note_says_where_the_full_ledger_is(cast: Cast, tmp_path: Path) -> None:
    """The brief has no 附件 page or 附件 line: its full ledger is the spreadsheet sent with it
    (test_bot_briefs: every recipient gets the PDF, the Word copy and the xlsx). The 编者按 said
    完整台账见附件, pointing at an attachment the document does not have."""
    ctx = context(cast, "2026Q1", sh(2026, 4, 8, 9))
    # The ledger is the record when it was exported with the brief, not as of 31 March: the note says
    # when, as the workbook's title row does (audit 4, 3).
    assert "完整台账（2026年4月8日 09:00导出）以电子表格随本期简报一并发送。" in ctx["editor_note"], ctx["editor_note"]
    assert "见附件" not in ctx["editor_note"]
    out = tmp_path / "ledger.xlsx"
    export_ledger(out, session=cast.s, plan_id=cast.plan_id, now=sh(2026, 4, 8, 9))
    title = load_workbook(out, read_only=True).worksheets[0]["A1"].value
    assert "（导出时间：2026年4月8日 09:00）" in title, title


def test_rights_are_cited_by_name_as_the_ledger_lists_them(cast: Cast) -> None:
    """The brief's citations of rights name them (the audit found （见51号、18号矿业权）, numbers the
    ledger sent with the brief does not carry: it lists rights by 编号 and 名称). Two rights of one
    name are told apart by their codes."""
    from models import RightBatch, Task
    from oversight.rights import move_right_status

    s = cast.s
    consolidate = s.exec(select(Task).where(Task.plan_id == cast.plan_id, Task.key == "consolidate")).one()
    mines = [
        Right(plan_id=cast.plan_id, code=code, name=name, kind="mining")
        for code, name in (("C1500002010001", "某铁矿"), ("C1500002010002", "某铁矿"), ("C1500002010003", "某萤石矿"))
    ]
    s.add_all(mines)
    s.flush()
    for day, mine in enumerate(mines, start=3):
        s.add(RightBatch(right_id=mine.id, task_id=consolidate.id))
        s.flush()
        move_right_status(
            session=s,
            right_id=mine.id,
            to_status="consolidated",
            actor_member_id=None,
            actor="t",
            now=sh(2026, 11, day),
        )
    ctx = context(cast, "2026Q4", sh(2027, 1, 8, 9))
    (progress,) = [sec for sec in ctx["sections"] if sec["heading"] == "总体进展"]
    new = next(
        p for p in progress["paragraphs"] if isinstance(p, dict) and p["text"] == "本期新完成强化整合重组一批3宗。"
    )
    assert new["note"] == "（见某铁矿（C1500002010001）、某铁矿（C1500002010002）、某萤石矿）", new
    fact = next(f for f in ctx["facts"] if f["kind"] == "progress_new")
    assert sorted(fact["ids"]["right"]) == sorted(m.id for m in mines)
    notes = [p["note"] for sec in ctx["sections"] for p in sec.get("paragraphs", []) if isinstance(p, dict)]
    assert notes and not any(re.search(r"\d号(矿业权|进展报送)", n) for n in notes), notes


def test_the_zone_table_says_what_it_counts_a_report_filed_on_the_zone_or_its_right(cast: Cast) -> None:
    """表2's 本期进展 counts the reports filed on a zone or on a right in it; a report whose text names
    a zone but was filed on none is not read for it (the product reads no free text), and the foot
    under the zones' lead says so, with 状态变更 and 未关闭问题 defined as they are counted (audit 3, A2)."""
    zs = zones(cast)
    report(cast, "natres", sh(2026, 11, 3), zs[0], "1号区核查完成")
    report(cast, "natres", sh(2026, 11, 4), None, f"本周组织{zs[1].name}企业召开推进会")
    right = Right(plan_id=cast.plan_id, code="Z-1", name="Z-1矿", kind="mining", zone_id=zs[2].id)
    cast.s.add(right)
    cast.s.flush()
    cast.s.add(
        Report(
            plan_id=cast.plan_id,
            unit_id=cast.uid("natres"),
            member_id=cast["natres"].id,
            right_id=right.id,
            text="矿业权核查",
            created_at=sh(2026, 11, 5),
        )
    )
    ctx = context(cast, "2026Q4", sh(2027, 1, 8, 9))
    (section,) = [s for s in ctx["sections"] if s["heading"] == "整合区和包联领导工作动态"]
    counted = {row[0]: row[2] for row in section["tables"][0]["rows"]}
    assert counted[f"{zs[0].seq}号{zs[0].name}"] == 1
    assert counted[f"{zs[1].seq}号{zs[1].name}"] == 0  # named in a text, filed on no zone
    assert counted[f"{zs[2].seq}号{zs[2].name}"] == 1  # filed on a right in the zone
    foot = section["paragraphs"][-1]
    assert foot == (
        "注：本期进展为本期报送时选定该整合区或区内矿业权的进展报送次数；状态变更为本期处置状态改为已整合、"
        "已关闭注销、已转采等完成状态的矿业权宗数；未关闭问题为截至2026年12月31日提出方尚未确认关闭的问题个数。"
    )


def test_each_unit_is_named_in_one_form_in_the_briefs_sentences_and_tables(cast: Cast) -> None:
    """A quarter where 旗林草局 hands a problem to 旗水利局 and leaves one overdue, 旗文体局 reports in
    3 weeks of 13 and 旗自然资源局 reports on a zone: every sentence and table of the brief names
    each unit by the plan file's name, as the notice, review, minutes and 督办单 do. The brief read
    林草局 in its sentences and tables beside 旗林草局 in its own 送 line and in the notice it
    reports on, 旗政府办 beside 发：旗政府办公室."""
    from oversight.problems import accept_problem

    cast.list_batches()
    zs = zones(cast)
    report(cast, "natres", sh(2026, 2, 3), zs[0], "1号区核查完成")
    for key in cast.people:
        cast.report_weekly(key, skip=tuple(range(3, 13)) if key == "culture" else ())
    late = cast.raise_("forestry", sh(2026, 1, 12))
    accept_problem(session=cast.s, problem_id=late, actor=cast["forestry"], now=sh(2026, 1, 13))
    handed = cast.raise_("forestry", sh(2026, 2, 2), category="water_permit")
    cast.hand(handed, "forestry", "water", sh(2026, 2, 3))
    ctx = context(cast, "2026Q1", sh(2026, 4, 8, 9))
    words = [*texts(ctx)]
    cells: list[str] = []
    for sec in ctx["sections"]:
        for table in sec.get("tables") or []:
            cells += [str(row[0]) for row in table["rows"]]
            words += [str(cell) for row in table["rows"] for cell in row]
    units = list(cast.s.exec(select(Unit).where(Unit.plan_id == cast.plan_id)).all())
    rest = words
    for name in sorted((u.name for u in units), key=len, reverse=True):  # 旗政府办公室 before 旗政府
        rest = [w.replace(name, "") for w in rest]
    for unit in units:
        stray = [w for w in rest if unit.short in w]
        assert not stray, (unit.short, stray)
    said = "\n".join(texts(ctx))
    assert f"最久未关闭的问题是{late}号问题（林草征占用，责任单位旗林草局，" in said
    assert "本期问题转交共1次：旗林草局1次。" in said
    assert "本期按时报送率不足一半的单位：旗文体局。" in said
    assert "1号常兴扎嘎乌苏铁矿整合区（旗自然资源局，2026年2月3日）：“1号区核查完成”" in said
    assert {"旗林草局", "旗水利局", "旗文体局", "旗应急管理局（矿山安全监管局）", "旗政府办公室"} <= set(cells)


def test_the_proposed_topics_are_numbered_as_the_minutes_number_theirs(cast: Cast) -> None:
    """下次会议建议议题 reads 1.听取…, the numeral run into its item as GB/T 9704 documents and the
    minutes write it: a space after it was stretched by the justified line (2.   研究…, audit 4, 8)."""
    ctx = context(cast, "2026Q1", sh(2026, 4, 8, 9))
    (section,) = [s for s in ctx["sections"] if s["heading"] == "下次会议建议议题"]
    lines = [p["text"] if isinstance(p, dict) else p for p in section["paragraphs"]]
    assert lines[0] == "1.听取各成员单位本期工作进展汇报。", lines
    assert all(re.match(r"\d+\.\S", line) for line in lines), lines
