"""A late 议定事项 does not read as done on time (issue 18): the demo's 2026Q1 brief printed
已完成（2026年3月27日） for a matter due 20 March, nothing saying it was late. Wherever a decision's
completion is printed — the brief's table and lead, the xlsx annex, the chat — it reads
已完成（2026年3月27日，逾期5个工作日） when done after its deadline and 已完成（2026年3月18日） when on time.

A meeting on 5 March 2026 decides two matters due Friday 20 March: 旗林草局 does its one on 18 March,
旗水利局 on 27 March (23–27 March: five working days late). Then, in chat, the office accepts a
matter due 20 March today and one due in 2027."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import Session, select

from jobs.brief import build_brief
from models import Decision, Role, session_scope, utcnow
from oversight.ledger import SHEET_DECISIONS
from oversight.meetings import AgreedMatter, complete_decision, record_meeting, submit_decision
from tests.harness import running_bot
from tests.test_accountability import AFTER_Q1, Cast, at

SH = ZoneInfo("Asia/Shanghai")
DUE = date(2026, 3, 20)
ON_TIME = "已完成（2026年3月18日）"
LATE = "已完成（2026年3月27日，逾期5个工作日）"


def late_days(due: date, done: date) -> int:
    """The test's own count: working days after `due` up to `done`, on the published calendar."""
    return sum(1 for k in range(1, (done - due).days + 1) if chinese_calendar.is_workday(due + timedelta(days=k)))


def cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> Cast:
    c = Cast(session, banner_plan_id)
    _, (forest, water) = record_meeting(
        session=session,
        plan_id=banner_plan_id,
        held_on=date(2026, 3, 5),
        title="2026年第一季度联席会议",
        kind="quarterly",
        period="2026Q1",
        decisions=[
            AgreedMatter(text="完成查干此老整合区征占用草原审批", owner_unit_id=c.uid("forestry"), due_on=DUE),
            AgreedMatter(text="完成整合区取水许可论证", owner_unit_id=c.uid("water"), due_on=DUE),
        ],
        actor="test",
        now=at(3, 5),
    )
    complete_decision(session=session, decision_id=forest.id, actor=c.office, now=at(3, 18, 15))
    complete_decision(session=session, decision_id=water.id, actor=c.office, now=at(3, 27, 15))
    c.ids = (forest.id, water.id)  # type: ignore[attr-defined]
    session.commit()
    return c


def _html_table(html: str, caption: str) -> list[list[str]]:
    """The rows (cells as text) of the table whose caption contains `caption`."""
    for cap, body in re.findall(r"<caption[^>]*>(.*?)</caption>(.*?)</table>", html, flags=re.S):
        if caption in re.sub(r"<[^>]+>", "", cap):
            rows = [
                re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S) for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)
            ]
            return [[re.sub(r"<[^>]+>|\u200b|\u2060|\s", "", c) for c in row] for row in rows if row]
    raise AssertionError(f"no table {caption!r}")


def test_a_decision_done_after_its_deadline_says_how_late_in_the_brief_and_its_annex(
    cast: Cast, tmp_path: Path
) -> None:
    assert late_days(DUE, date(2026, 3, 27)) == 5 and late_days(DUE, date(2026, 3, 18)) == 0
    forest, water = cast.ids  # type: ignore[attr-defined]
    built = build_brief(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1, out_dir=tmp_path)

    # The brief's table, as rendered: the late one says so, the one on time only its day.
    rows = _html_table(built.html, "议定事项落实情况")
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        (f"{forest}号", "旗林草局", "2026年3月20日", ON_TIME),
        (f"{water}号", "旗水利局", "2026年3月20日", LATE),
    ], rows
    # The lead counts the late one as late: all done, one of them after its deadline.
    flat_html = re.sub(r"<[^>]+>|\u200b|\u2060|\s", "", built.html)
    lead = "2026年3月5日召开的2026年第一季度联席会议议定事项2项，截至2026年3月31日均已完成（其中逾期完成1项）。"
    assert lead in flat_html

    # The PDF reads the same.
    pdf = "".join("".join(page.extract_text() for page in PdfReader(built.pdf_path).pages).split())
    for text in (ON_TIME, LATE, lead, f"（见{water}号议定事项）"):
        assert text in pdf, text
    assert "已完成（2026年3月27日）" not in pdf

    # The xlsx annex's 议定事项 sheet: the state column says it too, beside the 完成时间 cell.
    sheet = load_workbook(built.xlsx_path)[SHEET_DECISIONS]
    states = {row[0].value: (row[6].value, row[8].value) for row in sheet.iter_rows(min_row=3) if row[0].value}
    assert states[forest][0] == ON_TIME and states[water][0] == LATE, states
    assert states[water][1].date() == date(2026, 3, 27)


def test_a_decision_not_done_by_the_quarters_end_is_overdue_not_late_done(cast: Cast, tmp_path: Path) -> None:
    """A brief made before the late one was done counts it overdue; the late-done words wait for its completion."""
    _, water = cast.ids  # type: ignore[attr-defined]
    from jobs.brief import brief_context
    from oversight.briefdata import brief_data, parse_period

    data = brief_data(session=cast.s, plan_id=cast.plan_id, period=parse_period("2026Q1"), now=at(3, 24, 12))
    ctx = brief_context(data, issue_no=1, issued_on="2026-03-24", chart=None)
    (lead,) = [f for f in ctx["facts"] if f["kind"].startswith("decisions_lead")]
    assert lead["kind"] == "decisions_lead" and lead["ids"] == {"decision": [water]}
    assert lead["text"].endswith("已完成1项，未完成1项，其中逾期1项。"), lead["text"]
    (section,) = [s for s in ctx["sections"] if s["heading"] == "上次会议议定事项落实情况"]
    assert [r[4] for r in section["tables"][0]["rows"]] == [ON_TIME, "逾期未完成"]


async def test_the_office_accepting_a_late_decision_is_told_how_late_it_is(engine, banner_plan_id) -> None:
    today = utcnow().astimezone(SH).date()
    async with running_bot(engine, banner_plan_id) as h:
        office = await h.join(9701, "办公室丁", "旗政府办公室", Role.OFFICE)
        water = await h.join(9702, "水利联络员", "水利局", Role.CONTACT)
        contact = h.member(water)
        with session_scope(engine) as s:
            _, decisions = record_meeting(
                session=s,
                plan_id=banner_plan_id,
                held_on=date(2026, 3, 5),
                title="2026年第一季度联席会议",
                kind="quarterly",
                period="2026Q1",
                decisions=[
                    AgreedMatter(text="完成整合区取水许可论证", owner_unit_id=contact.unit_id or 0, due_on=DUE),
                    AgreedMatter(
                        text="完成水资源论证复核", owner_unit_id=contact.unit_id or 0, due_on=date(2027, 6, 30)
                    ),
                ],
                actor="test",
                now=utcnow(),
            )
            ids = [d.id or 0 for d in decisions]
            for did in ids:
                submit_decision(
                    session=s, decision_id=did, actor=contact, text="论证报告已印发。", attachment_ids=[], now=utcnow()
                )
        late = late_days(DUE, today)
        assert late > 0
        said = {}
        for did in ids:
            card = await h.server.wait_for(
                office.id, lambda m, did=did: f"【议定事项待验收】{did}号议定事项" in m["text"]
            )
            said[did] = await h.press(office, card, "验收通过", "该事项办结")
        assert said[ids[0]]["text"] == (
            f"已验收{ids[0]}号议定事项，该事项办结，已告知牵头单位。落实情况：已完成（{cn(today)}，逾期{late}个工作日）。"
        )
        assert said[ids[1]]["text"] == (
            f"已验收{ids[1]}号议定事项，该事项办结，已告知牵头单位。落实情况：已完成（{cn(today)}）。"
        )
        told = await h.server.wait_for(water.id, f"【议定事项已验收】{ids[0]}号议定事项")
        assert told["text"].endswith(f"该事项办结。落实情况：已完成（{cn(today)}，逾期{late}个工作日）。"), told["text"]
    with session_scope(engine) as s:
        assert [d.state for d in s.exec(select(Decision).order_by(Decision.id)).all()] == ["done", "done"]
