"""One definition per measure (oversight.measures), on a real database: the brief, the notice
rules, the review and the weekly reminder count the same reporting weeks, and a unit answers
only from when it could act (its first member, the plan's tracking start)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlmodel import Session, select
from typer.testing import CliRunner

from jobs.reminders import send_weekly_reminders
from lianxi.cli import app
from models import Member, OutboxMessage, Plan, ProblemCategory, Report, Role, Unit, session_scope, utcnow
from oversight.accountability import evaluate
from oversight.briefdata import brief_data, parse_period
from oversight.dates import local_day
from oversight.planfile import parse_plan_file
from oversight.plans import load_plan
from oversight.review import unit_scores
from tests.conftest import BANNER_PLAN

SH = ZoneInfo("Asia/Shanghai")
AFTER_Q1 = datetime(2026, 4, 3, 9, tzinfo=SH).astimezone(UTC)
MISSED = (7, 10, 11, 12)  # 林草局's missed reporting weeks of 2026Q1 (7: 23 February – 1 March)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


def q1_weeks() -> list[tuple[date, date]]:
    """2026Q1's Monday–Sunday weeks clipped to the quarter that have a working day, asked of
    the calendar package directly (not the product's measures)."""
    out, day, last = [], date(2026, 1, 1), date(2026, 3, 31)
    while day <= last:
        end = min(day + timedelta(days=6 - day.weekday()), last)
        if any(chinese_calendar.is_workday(day + timedelta(days=k)) for k in range((end - day).days + 1)):
            out.append((day, end))
        day = end + timedelta(days=1)
    return out


def unit(s: Session, plan_id: int, key: str) -> Unit:
    return s.exec(select(Unit).where(Unit.plan_id == plan_id, Unit.key == key)).one()


def contact(s: Session, plan_id: int, key: str, tg: int, joined: datetime) -> Member:
    m = Member(
        plan_id=plan_id,
        telegram_user_id=tg,
        name=f"{key}联络员",
        unit_id=unit(s, plan_id, key).id,
        role=Role.CONTACT,
        joined_at=joined,
    )
    s.add(m)
    s.flush()
    return m


def report(s: Session, plan_id: int, m: Member, when: datetime) -> None:
    s.add(Report(plan_id=plan_id, unit_id=m.unit_id, member_id=m.id, text="本周进展", created_at=when))


def test_2026q1_counts_the_same_weeks_in_the_brief_the_notice_the_review_and_the_reminder(
    engine, banner_plan_id: int
) -> None:
    weeks = q1_weeks()
    assert len(weeks) == 13 and (date(2026, 2, 16), date(2026, 2, 22)) not in weeks  # 春节: no working day
    assert weeks[7][0] == date(2026, 2, 23)
    with session_scope(engine) as s:
        s.get(Plan, banner_plan_id).tracking_since = date(2025, 12, 1)
        water = contact(s, banner_plan_id, "water", 7001, sh(2025, 12, 1, 9))
        culture = contact(s, banner_plan_id, "forestry", 7002, sh(2025, 12, 1, 9))
        for first, _last in weeks:
            report(s, banner_plan_id, water, sh(first.year, first.month, first.day, 16))
        for i, (first, _last) in enumerate(weeks):  # 林草局 misses the week after 春节 and the last three
            if i not in MISSED:
                report(s, banner_plan_id, culture, sh(first.year, first.month, first.day, 16))
        # A report in the holiday week counts for no week (there was none to report in), not
        # for the week after it either.
        report(s, banner_plan_id, culture, sh(2026, 2, 18, 10))
    with Session(engine) as s:
        data = brief_data(session=s, plan_id=banner_plan_id, period=parse_period("2026Q1"), now=AFTER_Q1)
        rows = {r["unit_id"]: r for r in data["units"]}
        wid, fid = water.unit_id, culture.unit_id
        assert data["period"]["weeks"] == 13
        assert (rows[wid]["weeks_with_report"], rows[wid]["weeks"], rows[wid]["on_time_rate"]) == (13, 13, 1.0)
        assert (rows[fid]["weeks_with_report"], rows[fid]["weeks"]) == (9, 13)
        found = evaluate(session=s, plan_id=banner_plan_id, period="2026Q1", now=AFTER_Q1)
        slow = [f for f in found if f.rule == "slow" and "missed_reports" in f.bases]
        assert [f.unit_id for f in slow if f.unit_id in (wid, fid)] == [fid]
        missed = next(f for f in slow if f.unit_id == fid)
        assert missed.reasons[missed.bases.index("missed_reports")] == "4周未报送工作进展"
        assert [e["from"] for e in missed.evidence if e.get("kind") == "missed_week"] == [
            weeks[i][0].isoformat() for i in MISSED
        ]
        scores = {
            r["unit_id"]: r for r in unit_scores(session=s, plan_id=banner_plan_id, period="2026H1", now=AFTER_Q1)
        }
        # In the half-year the week of 30 March runs to 5 April: not yet due on 3 April.
        assert scores[fid]["indicators"]["reporting"] == round(9 / 12, 3)
    # The weekly reminder: none for the holiday week, one for 林草局 in a week it missed.
    with session_scope(engine) as s:
        holiday = send_weekly_reminders(session=s, period="2026-W08", now=sh(2026, 2, 20, 15))
        assert holiday["skipped"] == "no working day" and holiday["queued"] == 0
        missed_week = send_weekly_reminders(session=s, period="2026-W12", now=sh(2026, 3, 20, 15))
        assert missed_week["units_without_report"] == ["旗林草局"] and missed_week["queued"] == 1


def test_a_unit_answers_only_from_its_first_working_day_with_a_member(engine, banner_plan_id: int) -> None:
    """林草局's contact joins on Saturday 7 February: it answers from Monday 9 February (the first
    working day after), so weeks before are not asked of it; 水利局 never joins and answers for nothing."""
    with session_scope(engine) as s:
        s.get(Plan, banner_plan_id).tracking_since = date(2025, 12, 1)
        contact(s, banner_plan_id, "forestry", 7101, sh(2026, 2, 7, 11))
    due = [w for w in q1_weeks() if w[1] >= date(2026, 2, 9)]
    with Session(engine) as s:
        fid = unit(s, banner_plan_id, "forestry").id
        wid = unit(s, banner_plan_id, "water").id
        data = brief_data(session=s, plan_id=banner_plan_id, period=parse_period("2026Q1"), now=AFTER_Q1)
        rows = {r["unit_id"]: r for r in data["units"]}
        assert rows[fid]["weeks"] == len(due) and rows[fid]["accountable_from"] == "2026-02-09"
        assert rows[wid]["on_time_rate"] is None and rows[wid]["weeks"] == 0
        found = evaluate(session=s, plan_id=banner_plan_id, period="2026Q1", now=AFTER_Q1)
        named = {f.unit_id: f for f in found if "missed_reports" in f.bases}
        assert wid not in named
        assert next(e["from"] for e in named[fid].evidence if e.get("kind") == "missed_week") == "2026-02-09"
    with session_scope(engine) as s:
        before = send_weekly_reminders(session=s, period="2026-W06", now=sh(2026, 2, 6, 15))  # 2–8 Feb
        assert "旗林草局" not in before["units_without_report"]
        after = send_weekly_reminders(session=s, period="2026-W07", now=sh(2026, 2, 13, 15))
        assert after["units_without_report"] == ["旗林草局"]


def test_tracking_since_comes_from_the_plan_file_or_the_first_load(engine) -> None:
    spec = parse_plan_file(BANNER_PLAN)
    with session_scope(engine) as s:
        plan = load_plan(session=s, spec=spec, actor="test").plan
        assert plan.tracking_since == local_day(utcnow())
        pid = plan.id
    with session_scope(engine) as s:  # an edited plan file without the key keeps the stored day
        load_plan(session=s, spec=spec.model_copy(update={"name": spec.name + "（修订）"}), actor="test")
        assert s.get(Plan, pid).tracking_since == local_day(utcnow())
    with session_scope(engine) as s:
        later = spec.model_copy(update={"tracking_since": date(2026, 3, 2)})
        load_plan(session=s, spec=later, actor="test")
        contact(s, pid, "forestry", 7201, sh(2025, 12, 1, 9))
    with Session(engine) as s:
        plan = s.get(Plan, pid)
        assert plan is not None and plan.tracking_since == date(2026, 3, 2)
        found = evaluate(session=s, plan_id=pid, period="2026Q1", now=AFTER_Q1)
        missed = next(f for f in found if "missed_reports" in f.bases and f.unit == "旗林草局")
        weeks = [e["from"] for e in missed.evidence if e.get("kind") == "missed_week"]
        assert weeks == [w[0].isoformat() for w in q1_weeks() if w[0] >= date(2026, 3, 2)]


def test_a_fresh_deployment_names_no_unit_for_missed_reports(settings_env, engine) -> None:
    """Every contact joined today, on a plan loaded today: the draft for this quarter names
    nobody for weeks before anyone could act, however far into the quarter today is."""
    from tests.conftest import load_bundled_plan

    plan_id = load_bundled_plan(engine)
    now = utcnow()
    with session_scope(engine) as s:
        units = s.exec(select(Unit).where(Unit.plan_id == plan_id, Unit.kind == "department")).all()
        assert len(units) >= 10
        for i, u in enumerate(units):
            m = contact(s, plan_id, u.key, 8000 + i, now - timedelta(minutes=5))
            if i == 0:
                for k in range(3):  # reported three times on its first day
                    report(s, plan_id, m, now - timedelta(minutes=3 - k))
    quarter = f"{local_day(now).year}Q{(local_day(now).month - 1) // 3 + 1}"
    result = CliRunner().invoke(app, ["notices", "draft", "--period", quarter, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["period"] == quarter
    assert [f["unit"] for f in data["findings"] if "missed_reports" in f["bases"]] == []
    assert data["findings"] == [], "nothing else either: no unit could act before today"
    # Had the same contacts joined when the quarter began, the same draft would name them.
    with session_scope(engine) as s:
        for m in s.exec(select(Member).where(Member.plan_id == plan_id)).all():
            m.joined_at = parse_period(quarter).start
        s.get(Plan, plan_id).tracking_since = parse_period(quarter).first_day
    weeks_done = [w for w in q1_like(parse_period(quarter).first_day, local_day(now)) if w[1] < local_day(now)]
    again = json.loads(CliRunner().invoke(app, ["notices", "draft", "--period", quarter, "--json"]).output)
    named = [f["unit"] for f in again["findings"] if "missed_reports" in f["bases"]]
    assert bool(named) == (len(weeks_done) >= 2)
    with Session(engine) as s:
        assert s.exec(select(OutboxMessage)).all() == []


def q1_like(first: date, last: date) -> list[tuple[date, date]]:
    out, day = [], first
    while day <= last:
        end = min(day + timedelta(days=6 - day.weekday()), last)
        if any(chinese_calendar.is_workday(day + timedelta(days=k)) for k in range((end - day).days + 1)):
            out.append((day, end))
        day = end + timedelta(days=1)
    return out


def test_a_problem_counts_against_its_owner_only_from_when_it_could_act(engine, banner_plan_id: int) -> None:
    """A problem assigned to 林草局 on 5 January, due within 20 working days, while 林草局 had
    nobody in the system; its contact joins on 2 March. By 3 April the problem is not overdue
    against 林草局 (the deadline passed before it could act), and its idle time counts from 2 March."""
    from oversight.measures import idle_spells, overdue_items, response_waits
    from oversight.problems import raise_problem
    from oversight.workdays import workdays_between

    with session_scope(engine) as s:
        s.get(Plan, banner_plan_id).tracking_since = date(2025, 12, 1)
        raiser = contact(s, banner_plan_id, "emergency", 7301, sh(2025, 12, 1, 9))
        cat = s.exec(
            select(ProblemCategory).where(
                ProblemCategory.plan_id == banner_plan_id, ProblemCategory.key == "forest_grass"
            )
        ).one()
        p = raise_problem(
            session=s,
            plan_id=banner_plan_id,
            actor=raiser,
            text="林地手续受阻",
            category_id=cat.id,
            now=sh(2026, 1, 5, 10),
        )
        assert p.due_on is not None and p.due_on < date(2026, 3, 2)
        contact(s, banner_plan_id, "forestry", 7302, sh(2026, 3, 2, 9))
    start = parse_period("2026Q1").start
    with Session(engine) as s:
        fid = unit(s, banner_plan_id, "forestry").id
        assert fid not in overdue_items(session=s, plan_id=banner_plan_id, start=start, as_of=AFTER_Q1)
        idle = idle_spells(session=s, plan_id=banner_plan_id, start=start, as_of=AFTER_Q1, idle_days=1)
        expected = sum(
            chinese_calendar.is_workday(date(2026, 3, 2) + timedelta(days=k))
            for k in range((date(2026, 4, 3) - date(2026, 3, 2)).days + 1)
        )
        assert idle[fid]["spells"][0]["workdays"] == expected == workdays_between(date(2026, 3, 1), date(2026, 4, 3))
        assert response_waits(session=s, plan_id=banner_plan_id, start=start, as_of=AFTER_Q1)[fid] == [(expected, 1)]
        found = evaluate(session=s, plan_id=banner_plan_id, period="2026Q1", now=AFTER_Q1)
        assert not [f for f in found if f.unit_id == fid and "overdue_items" in f.bases]
    with session_scope(engine) as s:  # had it joined before the deadline, the same problem is overdue
        m = s.exec(select(Member).where(Member.telegram_user_id == 7302)).one()
        m.joined_at = sh(2026, 1, 5, 9)
    with Session(engine) as s:
        assert overdue_items(session=s, plan_id=banner_plan_id, start=start, as_of=AFTER_Q1)[fid]["count"] == 1


def test_a_unit_with_nothing_to_evaluate_is_not_scored_or_ranked(settings_env, engine) -> None:
    """水利局 reports every week; 林草局 has task parts but nobody ever joined it; 旗信访局 has
    no task and no problem: the review scores and ranks 水利局 only, 林草局 is 不参评 (not 100)."""
    from tests.conftest import load_bundled_plan

    plan_id = load_bundled_plan(engine)
    with session_scope(engine) as s:
        s.get(Plan, plan_id).tracking_since = date(2025, 12, 1)
        water = contact(s, plan_id, "water", 7401, sh(2025, 12, 1, 9))
        for first, _last in q1_weeks():
            report(s, plan_id, water, sh(first.year, first.month, first.day, 16))
    with Session(engine) as s:
        rows = {r["unit"]: r for r in unit_scores(session=s, plan_id=plan_id, period="2026H1", now=AFTER_Q1)}
        assert rows["旗水利局"]["evaluated"] and rows["旗水利局"]["rank"] == 1 and rows["旗水利局"]["total"] is not None
        forestry = rows["旗林草局"]
        assert (forestry["evaluated"], forestry["score"], forestry["total"], forestry["rank"]) == (
            False,
            None,
            None,
            None,
        )
        assert all(v is None for v in forestry["indicators"].values())
        assert "旗信访局" not in rows
        order = list(rows)
        assert order.index("旗水利局") < order.index("旗林草局")  # 不参评 rows come after the ranked ones
    out = CliRunner().invoke(app, ["review", "--period", "2026H1"])
    assert out.exit_code == 0, out.output
    assert "旗林草局：不参评（本期没有可评价的事项）" in out.output and "旗水利局：第1名" in out.output


def test_a_brief_of_the_quarter_in_progress_counts_overdue_as_of_now(engine, banner_plan_id: int) -> None:
    """On 13 March a problem due 20 March is not overdue (the period's last day is still to come),
    one due 12 March is; a problem is open for the working days up to 13 March, not to 31 March.
    At the end of the quarter, one due on 31 March and still open is overdue."""
    from oversight.problems import raise_problem
    from oversight.workdays import workdays_between

    with session_scope(engine) as s:
        s.get(Plan, banner_plan_id).tracking_since = date(2025, 12, 1)
        raiser = contact(s, banner_plan_id, "emergency", 7501, sh(2025, 12, 1, 9))
        contact(s, banner_plan_id, "forestry", 7502, sh(2025, 12, 1, 9))
        cat = s.exec(
            select(ProblemCategory).where(
                ProblemCategory.plan_id == banner_plan_id, ProblemCategory.key == "forest_grass"
            )
        ).one()
        ids = {}
        for due in (date(2026, 3, 12), date(2026, 3, 20), date(2026, 3, 31)):
            p = raise_problem(
                session=s,
                plan_id=banner_plan_id,
                actor=raiser,
                text=f"到期{due}",
                category_id=cat.id,
                now=sh(2026, 2, 2, 10),
            )
            p.due_on = due
            ids[due] = p.id
    now = sh(2026, 3, 13, 15)
    with Session(engine) as s:
        data = brief_data(session=s, plan_id=banner_plan_id, period=parse_period("2026Q1"), now=now)
        assert data["problems"]["totals"]["overdue"]["ids"] == [ids[date(2026, 3, 12)]]
        oldest = {r["id"]: r for r in data["problems"]["oldest_open"]}
        assert oldest[ids[date(2026, 3, 12)]]["workdays_open"] == workdays_between(date(2026, 2, 2), date(2026, 3, 13))
        after = brief_data(session=s, plan_id=banner_plan_id, period=parse_period("2026Q1"), now=AFTER_Q1)
        assert sorted(after["problems"]["totals"]["overdue"]["ids"]) == sorted(ids.values())


def test_the_migration_gives_a_loaded_plan_the_day_it_was_first_loaded(tmp_path) -> None:
    """An existing deployment: the plan first loaded (audited) on 6 January Beijing time and
    reloaded since keeps 6 January as its tracking start; a plan without that audit row gets
    the day of its loaded_at."""
    from sqlalchemy import text

    from models import make_engine
    from models.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0007")
    engine = make_engine(url)
    with engine.begin() as c:
        for pid, loaded in ((1, "2026-03-01 02:00:00"), (2, "2026-02-10 17:30:00")):
            c.execute(
                text(
                    "INSERT INTO plan (id, key, name, short_name, level, doc_no, spec, content_hash, loaded_at)"
                    " VALUES (:id, :k, 'p', '', 'banner', '', '{}', 'h', :at)"
                ),
                {"id": pid, "k": f"p{pid}", "at": loaded},
            )
        for at in ("2026-01-05 17:00:00", "2026-02-01 01:00:00"):  # loaded, then updated
            c.execute(
                text(
                    "INSERT INTO auditlog (at, actor, action, object_type, object_id, detail)"
                    " VALUES (:at, 'cli', :a, 'plan', '1', '{}')"
                ),
                {"at": at, "a": "plan.loaded" if at < "2026-02" else "plan.updated"},
            )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s:
        days = {p.id: p.tracking_since for p in s.exec(select(Plan)).all()}
    engine.dispose()
    assert days == {1: date(2026, 1, 6), 2: date(2026, 2, 11)}  # both in Beijing time


def test_the_waits_cited_for_time_to_accept_are_the_earliest_recorded_whatever_the_grouping_order(
    engine, banner_plan_id: int
) -> None:
    """林草局 is handed 14 problems, recorded from the latest day back to the earliest (so the
    record's order is the reverse of the days'): the time to accept cites the first ten recorded,
    on SQLite and on PostgreSQL alike, not the ten the database happens to group first."""
    from oversight.measures import CITE_CAP, response_times
    from tests.test_accountability import AFTER_Q1, Cast, at

    with session_scope(engine) as s:
        cast = Cast(s, banner_plan_id)
        days = [
            (1, 5),
            (1, 7),
            (1, 9),
            (1, 13),
            (1, 15),
            (1, 20),
            (1, 22),
            (2, 3),
            (2, 5),
            (2, 10),
            (3, 3),
            (3, 5),
            (3, 10),
            (3, 12),
        ]
        pids = [cast.raise_("forestry", at(m, d)) for m, d in reversed(days)]
        s.commit()
        fid = cast.uid("forestry")
    with Session(engine) as s:
        times = response_times(session=s, plan_id=banner_plan_id, start=parse_period("2026Q1").start, as_of=AFTER_Q1)[
            fid
        ]
    assert times["n"] == len(days)
    assert times["ids"] == sorted(pids)[:CITE_CAP]
