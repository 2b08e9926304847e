"""A unit answers for weekly progress only from when it had someone who files it (issue 18,
"accountable from when it could act"): only a department contact (部门联络员) files weekly progress
(oversight.measures.REPORTING_ROLES), so a unit whose only member is a 包联领导 is not asked to
report. Main counted its weeks from its leader's join: 林草局 read 0.0% in the brief's table and in
本期按时报送率不足一半的单位：水利局、林草局。, the notice draft named it for 13周未报送工作进展, the
review scored its 进展报送 0% and the weekly reminder counted it among the units without a report.

Scenario, 2026Q1 of the 乌拉特中旗 plan, tracked from 1 December 2025: 林草局 has only a zone leader
(A), 水利局 a contact who never reports (B), 文体局 nobody (C), 自然资源局 a contact who reports
every week (D); 应急管理局's leader joined in the quarter's first week and its contact on Monday
26 January, the fifth, and it reports every week from then (E). A and C are not evaluated, named or
chased; B is named and 0%; D and E 100%, E over its nine weeks from 26 January. Problems, agreed
matters and task lag keep counting from a unit's first member of any role (measures.accountable_from)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
from pypdf import PdfReader
from sqlmodel import Session, select
from typer.testing import CliRunner

from jobs.brief import brief_context
from jobs.reminders import send_weekly_reminders
from jobs.render import AssetOnlyFetcher, html_to_pdf, render_html
from lianxi.cli import app
from models import Member, OutboxMessage, Plan, Report, Right, RightBatch, Role, Task, Unit, session_scope
from oversight.briefdata import brief_data, parse_period
from oversight.measures import accountable_from, reporting_accountable_from
from oversight.review import build_review, review_document
from oversight.schedules import weekly_run_facts

SH = ZoneInfo("Asia/Shanghai")
AFTER_Q1 = datetime(2026, 4, 3, 9, tzinfo=SH).astimezone(UTC)
FIFTH_MONDAY = date(2026, 1, 26)


def sh(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH).astimezone(UTC)


def q1_weeks() -> list[tuple[date, date]]:
    """2026Q1's Monday–Sunday weeks clipped to the quarter that have a working day, asked of the
    calendar package (not of the product's measures)."""
    out, day, last = [], date(2026, 1, 1), date(2026, 3, 31)
    while day <= last:
        end = min(day + timedelta(days=6 - day.weekday()), last)
        if any(chinese_calendar.is_workday(day + timedelta(days=k)) for k in range((end - day).days + 1)):
            out.append((day, end))
        day = end + timedelta(days=1)
    return out


class Scene:
    """The plan's units by key and the members the scenario gives them."""

    def __init__(self, s: Session, plan_id: int) -> None:
        s.get(Plan, plan_id).tracking_since = date(2025, 12, 1)
        self.units = {u.key: u for u in s.exec(select(Unit).where(Unit.plan_id == plan_id)).all()}
        self.s, self.plan_id, self.tg = s, plan_id, 9100

    def member(self, key: str, role: str, joined: datetime) -> Member:
        self.tg += 1
        m = Member(
            plan_id=self.plan_id,
            telegram_user_id=self.tg,
            name="",
            unit_id=self.units[key].id,
            role=role,
            joined_at=joined,
        )
        self.s.add(m)
        self.s.flush()
        return m

    def weekly(self, m: Member, weeks: list[tuple[date, date]]) -> None:
        for first, _last in weeks:
            self.s.add(
                Report(
                    plan_id=self.plan_id, unit_id=m.unit_id, member_id=m.id, text="本周进展", created_at=sh(first, 16)
                )
            )

    def list_batches(self) -> None:
        """One right in each batch, none moved: each batch's lag can be counted (the review's 任务进度)."""
        for task in self.s.exec(select(Task).where(Task.plan_id == self.plan_id)).all():
            right = Right(plan_id=self.plan_id, code=f"L-{task.key}", name=f"{task.name}示例", kind="mining")
            self.s.add(right)
            self.s.flush()
            self.s.add(RightBatch(right_id=right.id, task_id=task.id))


def test_only_units_with_a_contact_answer_for_weekly_progress(settings_env, engine, banner_plan_id, tmp_path: Path):
    weeks = q1_weeks()
    assert len(weeks) == 13 and weeks[4][0] == FIFTH_MONDAY
    with session_scope(engine) as s:
        scene = Scene(s, banner_plan_id)
        scene.list_batches()
        scene.member("forestry", Role.ZONE_LEADER, sh(date(2025, 12, 1), 9))  # A: only a leader
        water = scene.member("water", Role.CONTACT, sh(date(2025, 12, 1), 9))  # B: never reports
        natres = scene.member("natres", Role.CONTACT, sh(date(2025, 12, 1), 9))  # D: every week
        scene.weekly(natres, weeks)
        scene.member("emergency", Role.ZONE_LEADER, sh(date(2026, 1, 4), 9))  # E: leader in week 1,
        emergency = scene.member("emergency", Role.CONTACT, sh(FIFTH_MONDAY, 9))  # its contact in week 5
        scene.weekly(emergency, weeks[4:])
        ids = {k: scene.units[k].id for k in ("forestry", "water", "culture", "natres", "emergency")}
        water_chat = water.telegram_user_id
    a, b, c, d, e = (ids[k] for k in ("forestry", "water", "culture", "natres", "emergency"))

    with Session(engine) as s:
        # One definition each: reporting from the first contact, the rest from the first member.
        reporting = reporting_accountable_from(session=s, plan_id=banner_plan_id)
        anyone = accountable_from(session=s, plan_id=banner_plan_id)
        assert a not in reporting and c not in reporting and reporting[e] == FIFTH_MONDAY
        assert anyone[a] == date(2025, 12, 1) and anyone[e] == date(2026, 1, 4) and c not in anyone

        # The brief: A and C are not evaluated (—, as a unit nobody joined), B 0%, D 100%, E 9 of 9.
        data = brief_data(session=s, plan_id=banner_plan_id, period=parse_period("2026Q1"), now=AFTER_Q1)
        rows = {r["unit_id"]: r for r in data["units"]}
        for unit in (a, c):
            assert (rows[unit]["weeks"], rows[unit]["on_time_rate"], rows[unit]["accountable_from"]) == (0, None, None)
        assert (rows[b]["weeks"], rows[b]["weeks_with_report"], rows[b]["on_time_rate"]) == (13, 0, 0.0)
        assert (rows[d]["weeks"], rows[d]["weeks_with_report"], rows[d]["on_time_rate"]) == (13, 13, 1.0)
        assert (rows[e]["weeks"], rows[e]["weeks_with_report"], rows[e]["on_time_rate"]) == (9, 9, 1.0)
        assert rows[e]["accountable_from"] == FIFTH_MONDAY.isoformat()
    ctx = brief_context(data, issue_no=1, issued_on="2026-04-08", chart="<svg/>")
    (units,) = [sec for sec in ctx["sections"] if sec["heading"] == "各单位履职情况"]
    table = {r[0]: r[2] for r in units["tables"][0]["rows"]}
    assert (
        table["旗林草局"],
        table["旗文体局"],
        table["旗水利局"],
        table["旗自然资源局"],
        table["旗应急管理局（矿山安全监管局）"],
    ) == (
        "—",
        "—",
        "0.0%",
        "100.0%",
        "100.0%",
    )
    (behind,) = [f["text"] for f in ctx["facts"] if f["kind"] == "units_behind"]
    assert behind == "本期按时报送率不足一半的单位：旗水利局。", behind
    (foot,) = [p for p in units["paragraphs"] if str(p).startswith("注：报送次数")]
    assert "单位自其联络员加入系统的首个工作日起计" in str(foot) and "尚无联络员加入系统的单位不计" in str(foot)
    # The same, as the PDF prints it.
    pdf = tmp_path / "brief.pdf"
    html_to_pdf(render_html("brief.html.j2", ctx), out=pdf, fetcher=AssetOnlyFetcher())
    body = re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(pdf).pages))
    assert "本期按时报送率不足一半的单位：旗水利局。" in body
    assert "旗林草局0—" in body and "旗文体局0—" in body and "旗水利局00.0%" in body

    # The notice draft names B for its 13 weeks, and neither A nor C nor E.
    out = CliRunner().invoke(app, ["notices", "draft", "--period", "2026Q1", "--json"])
    assert out.exit_code == 0, out.output
    findings = json.loads(out.output)["findings"]
    missed = {f["unit"]: f for f in findings if "missed_reports" in f["bases"]}
    assert list(missed) == ["旗水利局"], list(missed)
    weeks_cited = [x["from"] for x in missed["旗水利局"]["evidence"] if x.get("kind") == "missed_week"]
    assert weeks_cited == [w[0].isoformat() for w in weeks]
    assert not [f for f in findings if f["unit"] in ("旗林草局", "旗文体局")]

    # The review: 进展报送 不参评 for A and C (A scored on its task progress alone), 0% for B, 100% for D and E.
    with Session(engine) as s:
        review = build_review(session=s, plan_id=banner_plan_id, period="2026H1", now=AFTER_Q1)
        doc = review_document(session=s, plan_id=banner_plan_id, review=review, now=AFTER_Q1)
    scores = {r["unit_id"]: r for r in review["units"]}
    assert [scores[u]["indicators"]["reporting"] for u in (a, c, b, d, e)] == [None, None, 0.0, 1.0, 1.0]
    assert not scores[a]["reports_weekly"] and not scores[c]["reports_weekly"] and scores[b]["reports_weekly"]
    progress = scores[a]["indicators"]["progress"]
    assert progress is not None and abs(scores[a]["score"] - 100 * progress) < 0.1, scores[a]
    assert scores[c]["score"] is None and scores[c]["rank"] is None  # nobody ever joined: nothing to score
    (unit_table,) = next(sec for sec in doc["sections"] if sec["heading"] == "成员单位问效得分")["tables"]
    cells = {r[0]: r[1] for r in unit_table["rows"]}
    assert [
        cells[n] for n in ("旗林草局", "旗文体局", "旗水利局", "旗自然资源局", "旗应急管理局（矿山安全监管局）")
    ] == [
        "不参评",
        "不参评",
        "0%",
        "100%",
        "100%",
    ], cells

    # The weekly reminder of 16–22 March: B is chased, A and C are not owed a report.
    with session_scope(engine) as s:
        result = send_weekly_reminders(session=s, period="2026-W12", now=sh(date(2026, 3, 20), 15))
        assert result["units_without_report"] == ["旗水利局"] and result["queued"] == 1, result
        assert {b, d, e} <= set(result["due_unit_ids"]) and not {a, c} & set(result["due_unit_ids"])
        assert weekly_run_facts(session=s, result=result).message() == "旗水利局未报送，已向其联络员发送1条提醒。"
    with Session(engine) as s:
        assert {m.chat_id for m in s.exec(select(OutboxMessage)).all()} == {water_chat}
