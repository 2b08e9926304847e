"""Property: for any quarter of activity — a working-day calendar with generated holidays and worked
Saturdays (or the published one), a tracking start, members joining on random days, weekly reports, problems
with random hand-off histories (accepted, handed on, declined and ruled or left unruled, resolved),
decisions done or not — every sentence of the brief (the facts its templates receive), the notice
draft and the review is true against queries written here, not the product's fact functions, and
a quantifier (均/全部/没有/所有) is printed only where the record proves it; each unit's reporting
weeks and on-time rate are counted here on the test's own calendar (a week with no working day is
no reporting week, a report in it counts for none).

Each example runs on a copy of one migrated database with the plan loaded: 200 quarters on the
sentences take ~85 s on a quiet 2-core machine (LIANXI_PROPERTY_EXAMPLES changes the count); 20
of them go all the way through the PDF, its text extracted (LIANXI_PROPERTY_PDF), ~2 s each. (The
"five minutes for three quarters" of the earlier opt-in PDF half was hypothesis shrinking a failing
example, one render per step: a sentence broken by the page's folio —1— was not found in the text.)"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import text
from sqlmodel import Session, select

from jobs.brief import brief_context
from jobs.render import AssetOnlyFetcher, html_to_pdf, render_html
from models import Decision, Meeting, Member, Plan, ProblemCategory, Report, Role, Unit, Zone, make_engine
from models.base import row_id
from models.migrate import upgrade
from oversight.briefdata import brief_data, parse_period
from oversight.errors import OversightError
from oversight.notices import draft_notice, draft_text, edit_notice_text, notice_facts
from oversight.problems import (
    accept_problem,
    decline_problem,
    hand_over_problem,
    raise_problem,
    resolve_problem,
    rule_problem,
)
from oversight.review import build_review, review_document
from oversight.workdays import reset as reset_calendar
from oversight.workdays import store_year
from tests.conftest import load_bundled_plan
from tests.test_notices import assert_ids_exist, check_notice_facts

SH = ZoneInfo("Asia/Shanghai")
EXAMPLES = int(os.environ.get("LIANXI_PROPERTY_EXAMPLES") or 200)
PDF_EXAMPLES = int(os.environ.get("LIANXI_PROPERTY_PDF") or 20)
FOLIO = re.compile(r"—\s*\d+\s*—\s*$")  # the page number GB/T 9704 prints at each page's foot
Q_START, Q_END = date(2026, 1, 1), date(2026, 3, 31)
NOW = datetime(2026, 4, 8, 1, tzinfo=UTC)  # after the quarter: the brief is as of its last day
S_UTC, E_UTC = "2025-12-31 16:00:00", "2026-03-31 16:00:00"
UNITS = ["natres", "emergency", "forestry", "eco", "water", "ndrc", "market_reg", "finance"]
SCORE_NOTE = "各项指标为得分率，括号内为权重；不适用的指标不计入，权重按比例折算。"  # the one fixed paragraph
RAW = re.compile(r"\{'|\"kind\":|'kind'|\bNone\b|\bTrue\b|\bFalse\b|\[\[|\bnan\b")
# The quantifier words a sentence may only use where its fact proves it (各 is also the plain
# "each" of fixed phrases such as 各成员单位, so it is checked through the kinds below).
QUANTIFIER = re.compile(r"均|全部|没有|所有")
PROVEN = {
    "zones_all_reported",
    "zones_all_quiet",
    "zones_quiet",
    "zone_news_none",
    "progress_new_none",
    "problems_none_open",
    "problems_lead_none",
    "decisions_lead_all_done",
    "decisions_lead_empty",
    "notices_none",
}


def at(day: int, hour: int = 10) -> datetime:
    """Day `day` (0-based) of 2026Q1 at `hour` in Shanghai, as UTC."""
    return datetime.combine(Q_START + timedelta(days=day), datetime.min.time(), SH).replace(hour=hour).astimezone(UTC)


_template: Path | None = None


def fresh_db(tmp: Path) -> str:
    """A copy of one migrated database holding the banner plan (made once)."""
    global _template
    if _template is None:
        _template = tmp.parent / "truth-template.db"
        url = f"sqlite:///{_template}"
        upgrade(url)
        engine = make_engine(url)
        load_bundled_plan(engine)
        engine.dispose()
    target = tmp / f"q{next(_counter)}.db"
    shutil.copy(_template, target)
    return f"sqlite:///{target}"


def _count():  # type: ignore[no-untyped-def]
    n = 0
    while True:
        n += 1
        yield n


_counter = _count()

step = st.sampled_from(["accept", "hand", "decline_rule", "decline", "resolve"])
problem = st.tuples(
    st.sampled_from(range(len(UNITS))),  # owner
    st.integers(0, 85),  # raised on day
    st.lists(st.tuples(step, st.integers(0, len(UNITS) - 1), st.integers(0, 6)), max_size=4),
)
# A generated working-day calendar for 2026 (as an admin stores it from the State Council's notice),
# or None for the real one: weeks of the quarter (0 = the week of 1 January) with some or all of
# their days off, and weeks whose Saturday is worked (调休).
calendar = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "off": st.lists(st.tuples(st.integers(0, 13), st.sets(st.integers(0, 6), min_size=1)), max_size=3),
            "makeup": st.lists(st.integers(0, 13), max_size=2),
        }
    ),
)
FIRST_MONDAY = date(2025, 12, 29)  # the Monday of the week holding 1 January 2026
quarter = st.fixed_dictionaries(
    {
        "calendar": calendar,
        "since": st.one_of(st.none(), st.integers(0, 60)),  # the plan's tracking start, else before the quarter
        "joins": st.lists(st.one_of(st.none(), st.integers(0, 80)), min_size=len(UNITS), max_size=len(UNITS)),
        "reports": st.lists(st.tuples(st.integers(0, len(UNITS) - 1), st.integers(0, 89), st.booleans()), max_size=25),
        "problems": st.lists(problem, max_size=6),
        "decisions": st.lists(st.tuples(st.integers(0, len(UNITS) - 1), st.integers(5, 85), st.booleans()), max_size=4),
    }
)


def days_off(cal: dict[str, Any]) -> tuple[set[date], set[date]]:
    """The generated calendar's holidays and worked Saturdays, inside the quarter."""
    off = {FIRST_MONDAY + timedelta(weeks=w, days=d) for w, ds in cal["off"] for d in ds}
    makeup = {FIRST_MONDAY + timedelta(weeks=w, days=5) for w in cal["makeup"]} - off
    return {d for d in off if Q_START <= d <= Q_END}, {d for d in makeup if Q_START <= d <= Q_END}


def is_workday_here(day: date, cal: dict[str, Any] | None) -> bool:
    """The test's own working-day rule: the generated 2026, else the published calendar."""
    if cal is None or day.year != 2026:
        return bool(chinese_calendar.is_workday(day))
    off, makeup = days_off(cal)
    return day in makeup or (day.weekday() < 5 and day not in off)


def build(url: str, q: dict[str, Any]) -> tuple[Any, int]:
    engine = make_engine(url)
    with Session(engine) as s:
        plan_id = s.exec(select(Unit.plan_id)).first()
        plan = s.get(Plan, plan_id)
        assert plan is not None
        plan.tracking_since = Q_START + timedelta(days=q["since"]) if q["since"] is not None else date(2025, 12, 1)
        s.add(plan)
        if q["calendar"] is not None:
            off, makeup = days_off(q["calendar"])
            store_year(
                session=s,
                year=2026,
                holidays=dict.fromkeys(off, "假日"),
                workdays=dict.fromkeys(makeup, "调休"),
                source="生成的日历",
                notice_text="",
                actor="test",
                now=at(0, 8),
            )
        units = {u.key: u for u in s.exec(select(Unit).where(Unit.plan_id == plan_id)).all()}
        zones = list(s.exec(select(Zone).where(Zone.plan_id == plan_id).order_by(Zone.seq)).all())
        cats = list(s.exec(select(ProblemCategory).where(ProblemCategory.plan_id == plan_id)).all())
        office = Member(
            plan_id=plan_id,
            telegram_user_id=1,
            name="办公室",
            unit_id=units["office"].id,
            role=Role.OFFICE,
            joined_at=at(0, 8),
        )
        s.add(office)
        members: dict[int, Member] = {}
        for i, join in enumerate(q["joins"]):
            if join is not None:
                m = Member(
                    plan_id=plan_id,
                    telegram_user_id=100 + i,
                    name=f"联络员{i}",
                    unit_id=units[UNITS[i]].id,
                    role=Role.CONTACT,
                    joined_at=at(join, 9),
                )
                s.add(m)
                members[i] = m
        s.flush()
        for i, day, in_zone in q["reports"]:
            m = members.get(i)
            if m is None or at(day, 15) < m.joined_at:
                continue
            zone = zones[(day + i) % len(zones)] if in_zone else None
            s.add(
                Report(
                    plan_id=plan_id,
                    unit_id=m.unit_id,
                    member_id=m.id,
                    zone_id=zone.id if zone else None,
                    text="本周进展",
                    created_at=at(day, 15),
                )
            )
        for owner, day, steps in q["problems"]:
            raiser = next((m for m in members.values() if m.joined_at <= at(day)), office)
            try:
                p = raise_problem(
                    session=s,
                    plan_id=plan_id,
                    actor=raiser,
                    text="手续受阻",
                    category_id=cats[day % len(cats)].id,
                    owner_unit_id=units[UNITS[owner]].id,
                    now=at(day),
                )
            except OversightError:
                continue
            d = day
            for kind, other, gap in steps:
                d = min(d + gap, 89)
                holder = next((m for m in members.values() if m.unit_id == p.owner_unit_id), None)
                try:
                    if kind == "accept" and holder:
                        accept_problem(session=s, problem_id=p.id, actor=holder, now=at(d, 11))
                    elif kind == "hand" and holder and units[UNITS[other]].id != p.owner_unit_id:
                        hand_over_problem(
                            session=s,
                            problem_id=p.id,
                            actor=holder,
                            to_unit_id=units[UNITS[other]].id,
                            reason="非本单位职责",
                            now=at(d, 12),
                        )
                    elif kind in ("decline", "decline_rule") and holder:
                        decline_problem(session=s, problem_id=p.id, actor=holder, reason="不属本单位", now=at(d, 13))
                        if kind == "decline_rule":
                            rule_problem(
                                session=s,
                                problem_id=p.id,
                                actor=office,
                                to_unit_id=units[UNITS[other]].id,
                                reason="按职责裁定",
                                now=at(d, 16),
                            )
                    elif kind == "resolve" and holder:
                        resolve_problem(session=s, problem_id=p.id, actor=holder, evidence_text="已办结", now=at(d, 17))
                except OversightError:
                    pass  # a step the rules refuse in this state: the record stays as it is
        if q["decisions"]:
            meeting = Meeting(
                plan_id=plan_id,
                kind="quarterly",
                period="2026Q1",
                held_on=Q_START + timedelta(days=3),
                title="第一季度联席会议",
                created_at=at(3),
            )
            s.add(meeting)
            s.flush()
            for owner, due, done in q["decisions"]:
                s.add(
                    Decision(
                        plan_id=plan_id,
                        meeting_id=meeting.id,
                        text="落实议定事项",
                        owner_unit_id=units[UNITS[owner]].id,
                        due_on=Q_START + timedelta(days=due),
                        state="done" if done else "open",
                        done_at=at(due - 2) if done else None,
                    )
                )
        s.commit()
    return engine, plan_id


def sql(engine: Any, query: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(query), {"s": S_UTC, "e": E_UTC, **params}).all())


OPEN_AT_END = """p.plan_id = :plan AND p.created_at < :e AND COALESCE((
    SELECT e.kind FROM problemevent e WHERE e.problem_id = p.id AND e.kind IN ('confirmed', 'reopened')
    AND e.at < :e ORDER BY e.at DESC, e.id DESC LIMIT 1), '') <> 'confirmed'"""


def local_day(stored: Any) -> date:
    """A stored UTC moment (naive text on SQLite) as its day in Shanghai."""
    moment = stored if isinstance(stored, datetime) else datetime.fromisoformat(str(stored))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(SH).date()


def check_reporting(engine: Any, plan_id: int, q: dict[str, Any], data: dict[str, Any], ctx: dict[str, Any]) -> None:
    """Each unit's weeks and on-time rate, counted here: Monday–Sunday weeks clipped to the quarter
    that hold a working day of the (generated) calendar, from the first working day the unit had a
    member and the plan was tracked; a week counts as reported if a report fell in it."""
    cal = q["calendar"]
    since = sql(engine, "SELECT tracking_since FROM plan WHERE id = :plan", plan=plan_id)[0][0]
    tracked = date.fromisoformat(str(since)[:10])
    weeks: list[tuple[date, date]] = []
    first = Q_START
    while first <= Q_END:
        last = min(first + timedelta(days=6 - first.weekday()), Q_END)
        weeks.append((first, last))
        first = last + timedelta(days=1)
    joined: dict[int, date] = {}
    for unit_id, at_ in sql(engine, "SELECT unit_id, joined_at FROM member WHERE plan_id = :plan", plan=plan_id):
        joined[unit_id] = min(joined.get(unit_id, date.max), local_day(at_))
    reported: dict[int, set[date]] = {}
    for unit_id, at_ in sql(engine, "SELECT unit_id, created_at FROM report WHERE plan_id = :plan", plan=plan_id):
        reported.setdefault(unit_id, set()).add(local_day(at_))
    behind = []
    for u in data["units"]:
        if not u["reports_expected"]:
            continue
        uid = u["unit_id"]
        if uid not in joined:
            assert (u["weeks"], u["on_time_rate"]) == (0, None), u
            continue
        start = max(joined[uid], tracked)
        while not is_workday_here(start, cal):
            start += timedelta(days=1)
        due = [
            (a, b)
            for a, b in weeks
            if b >= start
            and any(
                is_workday_here(a + timedelta(days=k), cal)
                for k in range((b - a).days + 1)
                if a + timedelta(days=k) >= start
            )
        ]
        got = [w for w in due if any(w[0] <= d <= w[1] for d in reported.get(uid, ()))]
        assert (u["weeks"], u["weeks_with_report"]) == (len(due), len(got)), (u["name"], cal, start, due, got)
        rate = round(len(got) / len(due), 4) if due else None
        assert u["on_time_rate"] == rate, u
        if rate is not None and rate < 0.5:
            behind.append(uid)
    facts = {f["kind"]: f for f in ctx["facts"]}
    if behind:
        assert facts["units_behind"]["values"]["unit_ids"] == behind
    else:
        assert "units_behind" not in facts


def check_brief(engine: Any, plan_id: int, ctx: dict[str, Any]) -> None:
    facts = {f["kind"]: f for f in ctx["facts"]}
    for f in ctx["facts"]:
        assert RAW.search(f["text"]) is None, f
        assert not re.search(r"\d{4}-\d{2}-\d{2}|#\d", f["text"]), f  # one date and citation form
        if QUANTIFIER.search(f["text"]):
            assert f["kind"] in PROVEN, f"unproven quantifier: {f}"
    # Problems: new, resolved, open at the end, as counted here.
    new = sql(
        engine,
        "SELECT COUNT(*) FROM problem WHERE plan_id = :plan AND created_at >= :s AND created_at < :e",
        plan=plan_id,
    )[0][0]
    resolved = sql(
        engine,
        "SELECT COUNT(DISTINCT e.problem_id) FROM problemevent e JOIN problem p ON p.id = e.problem_id "
        "WHERE p.plan_id = :plan AND e.kind = 'resolved' AND e.at >= :s AND e.at < :e",
        plan=plan_id,
    )[0][0]
    open_ids = [
        r[0]
        for r in sql(
            engine, f"SELECT p.id FROM problem p WHERE {OPEN_AT_END} ORDER BY p.created_at, p.id", plan=plan_id
        )
    ]
    lead = facts.get("problems_lead") or facts["problems_lead_none"]
    assert (lead["values"]["new"], lead["values"]["resolved"], lead["values"]["open"]) == (new, resolved, len(open_ids))
    assert (lead["kind"] == "problems_lead_none") == (new == 0 and resolved == 0)
    assert f"本期新增问题{new}个" in lead["text"] if new else True
    if open_ids:
        assert facts["problems_oldest"]["values"]["problem_id"] == open_ids[0]
        assert facts["problems_oldest"]["text"].startswith(f"最久未关闭的问题是{open_ids[0]}号问题")
    else:
        assert "problems_none_open" in facts and "problems_oldest" not in facts
    # Zones: which had a report in the quarter.
    seqs = [r[0] for r in sql(engine, "SELECT seq FROM zone WHERE plan_id = :plan ORDER BY seq", plan=plan_id)]
    reported = {
        r[0]
        for r in sql(
            engine,
            "SELECT DISTINCT z.seq FROM report r JOIN zone z ON z.id = r.zone_id WHERE r.plan_id = :plan AND r.created_at >= :s AND r.created_at < :e",
            plan=plan_id,
        )
    }
    quiet = [z for z in seqs if z not in reported]
    if not quiet:
        assert "zones_all_reported" in facts and "zones_quiet" not in facts
    elif len(quiet) == len(seqs):
        assert "zones_all_quiet" in facts and "zone_news_none" in facts
    else:
        assert facts["zones_quiet"]["values"]["zone_seqs"] == quiet
        assert facts["zones_quiet"]["text"] == "本期没有进展报送的整合区：" + "、".join(f"{z}号" for z in quiet) + "。"
    news = [f for f in ctx["facts"] if f["kind"] == "zone_news"]
    assert len(news) == len(reported)
    # Decisions of the last meeting.
    rows = sql(engine, "SELECT done_at FROM decision WHERE plan_id = :plan", plan=plan_id)
    if rows:
        dec = next(f for f in ctx["facts"] if f["kind"].startswith("decisions_lead"))
        done = sum(1 for (d,) in rows if d is not None and str(d) < E_UTC)
        assert dec["values"]["n"] == len(rows) and dec["values"]["done"] == done
        assert (dec["kind"] == "decisions_lead_all_done") == (done == len(rows))
    else:
        assert "decisions_none" in facts
    assert "notices_none" in facts  # nothing was published in these quarters


def check_edited_body(s: Session, engine: Any, plan_id: int, notice: Any, never_joined: set[str]) -> None:
    """The office rewrites the draft's body in its own words, naming the units the kept findings name
    (queried here): accepted, its facts are office paragraphs resting on those units; a rewrite naming
    a unit that never had a member, or a figure none of the findings hold, is refused."""
    conn = s.connection()  # the draft is not committed: read it in the session's own transaction
    kept = conn.execute(
        text(
            "SELECT DISTINCT u.name FROM noticefinding f JOIN unit u ON u.id = f.unit_id"
            " WHERE f.notice_id = :n AND NOT f.dropped ORDER BY u.name"
        ),
        {"n": row_id(notice)},
    ).all()
    shorts = dict(conn.execute(text("SELECT name, short FROM unit WHERE plan_id = :p"), {"p": plan_id}).all())
    default = notice.body  # a unit the default text itself names (a summary's other party) may be named
    office = s.exec(select(Member).where(Member.plan_id == plan_id, Member.role == Role.OFFICE)).first()
    assert office is not None
    if not kept:
        return
    named = "、".join(r[0] for r in kept)
    body = f"经核查，{named}工作推进不力。\n请被通报单位认真整改。"
    edit_notice_text(session=s, notice_id=row_id(notice), actor=office, body=body, now=NOW)
    facts = notice_facts(session=s, notice_id=row_id(notice))
    check_notice_facts(s, notice, facts)  # office paragraphs: the units each names have kept findings
    assert [f["text"] for f in facts if f["kind"] == "office_text"] == body.splitlines()
    outside = [n for n in sorted(never_joined) if n not in default and (shorts.get(n) or n) not in default]
    for stray in [f"经核查，{name}工作推进不力。" for name in outside[:1]] + [f"{named}9999周未报送。"]:
        with pytest.raises(OversightError):
            edit_notice_text(session=s, notice_id=row_id(notice), actor=office, body=stray, now=NOW)
    assert notice.body == body


def check_notice_and_review(engine: Any, plan_id: int) -> list[str]:
    never_rows = sql(
        engine,
        "SELECT u.id, u.name FROM unit u WHERE u.plan_id = :plan AND NOT EXISTS (SELECT 1 FROM member m WHERE m.unit_id = u.id)",
        plan=plan_id,
    )
    never_joined = {r[1] for r in never_rows}
    with Session(engine) as s:
        notice = draft_notice(session=s, plan_id=plan_id, period="2026Q1", now=NOW)
        draft = draft_text(session=s, notice_id=notice.id)  # type: ignore[arg-type]
        # The notice's facts: their ids exist, the body is their text, counts match the findings.
        facts = notice_facts(session=s, notice_id=row_id(notice))
        check_notice_facts(s, notice, facts)
        cited_units = {u for f in facts for u in f["ids"].get("unit", [])}
        assert not cited_units & {r[0] for r in never_rows}, "a fact rests on a unit that never had a member"
        check_edited_body(s, engine, plan_id, notice, never_joined)
        review = build_review(session=s, plan_id=plan_id, period="2026H1", now=NOW)
        doc = review_document(session=s, plan_id=plan_id, review=review, now=NOW)
        s.rollback()
    assert RAW.search(draft) is None, draft
    named = re.findall(r"〔事项\d+〕(.+?)（", draft)
    assert not set(named) & never_joined, f"a unit that never had a member is named: {set(named) & never_joined}"
    count = re.search(r"工作中有(\d+)个单位存在", draft)  # the opening counts the units the findings name
    assert (int(count.group(1)) if count else 0) == len(set(named)), draft
    assert "总体有序推进" not in draft
    review_text = "\n".join(
        [
            *doc["summary"],
            *(p if isinstance(p, str) else p["text"] for sec in doc["sections"] for p in sec.get("paragraphs") or []),
        ]
    )
    assert RAW.search(review_text) is None, review_text
    # The review's facts: the ids exist, each record-dependent sentence printed is one, and no unit
    # that never had a member is among the units evaluated.
    with Session(engine) as s:
        assert_ids_exist(s, doc["facts"])
    assert [line for line in review_text.splitlines() if line != SCORE_NOTE] == [f["text"] for f in doc["facts"]]
    opening = next(f for f in doc["facts"] if f["kind"] in ("summary_opening", "summary_opening_none"))
    assert not set(opening["ids"]["unit"]) & {r[0] for r in never_rows}
    # Zero reads as words: 本期没有参评… exactly when nobody was scored, never "0个成员单位" or "0名".
    nobody = not opening["ids"].get("unit") and not opening["ids"].get("member")
    assert (opening["kind"] == "summary_opening_none") == nobody, opening
    assert re.search(r"(?<![\d.])0(个|名)", review_text) is None, review_text
    low = re.search(r"总分低于60分的单位：(.+?)。", review_text)
    if low:
        assert not set(low.group(1).split("、")) & never_joined
    return [draft, review_text]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("truth")


@settings(
    max_examples=max(EXAMPLES, 1),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(q=quarter)
# Always: a week off (19–25 January) with two reports in it that count for no week, and a worked Saturday.
@example(
    q={
        "calendar": {"off": [(3, {0, 1, 2, 3, 4, 5, 6})], "makeup": [7]},
        "since": None,
        "joins": [0, 40, None, None, None, None, None, None],
        "reports": [(0, 5, False), (0, 19, False), (0, 20, True), (1, 47, False)],
        "problems": [],
        "decisions": [],
    }
)
def test_every_sentence_of_a_generated_quarter_rests_on_the_record(workdir: Path, q: dict[str, Any]) -> None:
    engine, plan_id = build(fresh_db(workdir), q)
    try:
        with Session(engine) as s:
            data = brief_data(session=s, plan_id=plan_id, period=parse_period("2026Q1"), now=NOW)
        ctx = brief_context(data, issue_no=1, issued_on="2026-04-08", chart="<svg/>")
        check_brief(engine, plan_id, ctx)
        check_reporting(engine, plan_id, q, data, ctx)
        check_notice_and_review(engine, plan_id)
    finally:
        engine.dispose()
        reset_calendar()  # the generated calendar was this quarter's only


@pytest.mark.slow
@settings(
    max_examples=max(PDF_EXAMPLES, 1),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(q=quarter)
def test_the_pdf_of_a_generated_quarter_prints_its_facts(workdir: Path, q: dict[str, Any]) -> None:
    engine, plan_id = build(fresh_db(workdir), q)
    try:
        with Session(engine) as s:
            data = brief_data(session=s, plan_id=plan_id, period=parse_period("2026Q1"), now=NOW)
        ctx = brief_context(data, issue_no=1, issued_on="2026-04-08", chart="<svg/>")
        check_brief(engine, plan_id, ctx)
        check_reporting(engine, plan_id, q, data, ctx)
        pdf = workdir / f"brief-{next(_counter)}.pdf"
        html_to_pdf(render_html("brief.html.j2", ctx), out=pdf, fetcher=AssetOnlyFetcher())
        pages = [p.extract_text() for p in PdfReader(pdf).pages]
        assert all(FOLIO.search(p) for p in pages[1:]), "a page without its number"
        body = re.sub(r"\s+", "", "".join(FOLIO.sub("", p) for p in pages))
        assert RAW.search(body) is None
        for f in ctx["facts"]:
            if f["kind"] != "editor_note":
                assert re.sub(r"\s+", "", f["text"]) in body, f["text"]
    finally:
        engine.dispose()
        reset_calendar()
