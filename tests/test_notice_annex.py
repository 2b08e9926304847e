"""The notice's 附件 (通报事项依据) as the office reads it: every row says when, which unit and
what, from the record, for facts that are not problem events as for those that are — a missed
reporting week carries its dates and the unit that missed it, an idle problem the day since which
it lay and the unit holding it; a cell the record has nothing for reads —, never blank."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader
from sqlmodel import Session

from jobs.notices import render_notice
from oversight.measures import reporting_weeks
from oversight.notices import draft_notice
from oversight.plans import set_milestones
from oversight.problems import accept_problem, resolve_problem
from tests.test_accountability import AFTER_Q1, Cast, at


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> Cast:
    c = Cast(session, banner_plan_id)
    # Nothing of 升级改造 is due in 2026Q1, so only the scenario's findings appear.
    set_milestones(
        session=session, plan_id=banner_plan_id, key="upgrade", milestones=[(date(2026, 12, 31), 0.0)], actor="t"
    )
    for unit in c.units.values():
        # 旗水利局 misses its 4th and 8th reporting weeks (19–25 January, 23 February – 1 March).
        c.report_weekly(unit.key, skip=(3, 7) if unit.key == "water" else ())
    # 旗财政局 accepts a problem on 2 March and does nothing until it resolves it on 17 March.
    pid = c.raise_("finance", at(3, 2), category="exit_compensation")
    accept_problem(session=session, problem_id=pid, actor=c["finance"], now=at(3, 2, 11))
    resolve_problem(session=session, problem_id=pid, actor=c["finance"], evidence_text="补偿到位", now=at(3, 17))
    c.pid = pid  # type: ignore[attr-defined]
    session.commit()
    return c


def _html_tables(html: str) -> dict[str, list[list[str]]]:
    """Each annex table's rows (cells as text), by its caption."""
    out: dict[str, list[list[str]]] = {}
    for caption, body in re.findall(r"<caption[^>]*>(.*?)</caption>(.*?)</table>", html, flags=re.S):
        rows = []
        for tr in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S)
            if cells:
                rows.append([re.sub(r"<[^>]+>|\u200b|\u2060", "", c).strip() for c in cells])
        out[re.sub(r"<[^>]+>", "", caption).strip()] = rows
    return out


def test_annex_rows_of_a_missed_week_and_an_idle_problem_say_when_and_which_unit(cast: Cast, tmp_path: Path) -> None:
    notice = draft_notice(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    cast.s.commit()
    files = render_notice(session=cast.s, notice_id=notice.id, now=AFTER_Q1, data_dir=tmp_path)
    tables = _html_tables(files.html)
    weeks = reporting_weeks(date(2026, 1, 1), date(2026, 3, 31))
    assert (weeks[3].first, weeks[7].first) == (date(2026, 1, 19), date(2026, 2, 23))

    missed = tables["旗水利局：工作推进速度慢"]
    assert missed == [
        ["2026年1月19日至2026年1月25日", "旗水利局", "2026年第4周未报送工作进展。"],
        ["2026年2月23日至2026年3月1日", "旗水利局", "2026年第9周未报送工作进展。"],
    ]
    idle = tables["旗财政局：问题解决不积极、不明显"]
    p = f"{cast.pid}号问题"  # type: ignore[attr-defined]
    # In time order: the spell from the day of the acceptance, before the resolution that ended it.
    assert idle == [
        ["2026年3月2日\u202f11:00", "旗财政局联络员", f"接收{p}。"],
        ["2026年3月2日", "旗财政局", f"{p}自2026年3月2日起连续11个工作日无办理动作。"],
        ["2026年3月17日\u202f10:00", "旗财政局联络员", f"办结{p}，理由：补偿到位。"],
    ]
    for caption, rows in tables.items():
        for row in rows:
            assert len(row) == 3 and all(cell for cell in row), (caption, row)

    # The PDF and its Word copy carry the same cells.
    pdf = "".join("".join(page.extract_text() for page in PdfReader(BytesIO(files.pdf.read_bytes())).pages).split())
    for text in ("2026年1月19日至2026年1月25日", "2026年第4周未报送工作进展", f"{p}自2026年3月2日起连续11个工作日"):
        assert text in pdf, text
    word = [
        [cell.text.strip() for cell in row.cells]
        for table in Document(str(files.docx)).tables
        for row in table.rows
        if row.cells[0].text.strip() != "时间"
    ]
    assert ["2026年1月19日至2026年1月25日", "旗水利局", "2026年第4周未报送工作进展。"] in word
    assert ["2026年3月2日", "旗财政局", f"{p}自2026年3月2日起连续11个工作日无办理动作。"] in word
    assert all(all(cell for cell in row) for row in word if len(row) == 3), word


def test_a_slow_response_is_dated_by_its_span_and_one_still_waited_for_as_of_the_quarter_end(
    cast: Cast, tmp_path: Path
) -> None:
    """旗水利局 is handed a problem on 19 January and accepts it on 30 January: its row is dated
    2026年1月19日至2026年1月30日 (it read 截至2026年3月31日, as if 水利局 had still not responded);
    旗交通运输局 is handed one on 2 March
    and has not responded by the quarter's end: its figure is as of the quarter's last day, and says
    仍未作出响应."""
    water = cast.raise_("water", at(1, 19), category="water_permit")
    accept_problem(session=cast.s, problem_id=water, actor=cast["water"], now=at(1, 30, 14))
    resolve_problem(session=cast.s, problem_id=water, actor=cast["water"], evidence_text="已批复", now=at(2, 2))
    road = cast.raise_("transport", at(3, 2), category="transport_review")
    notice = draft_notice(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    cast.s.commit()
    files = render_notice(session=cast.s, notice_id=notice.id, now=AFTER_Q1, data_dir=tmp_path)
    tables = _html_tables(files.html)

    slow = tables["旗水利局：问题解决不积极、不明显"]
    assert slow == [
        ["2026年1月19日至2026年1月30日", "旗水利局", f"{water}号问题交办后9个工作日才作出响应（接收、转交或退回）。"]
    ]
    waiting = tables["旗交通运输局：问题解决不积极、不明显"]
    # Still waited for: as of the quarter's last day, and said so (it read 交办后21个工作日才作出响应).
    assert [row for row in waiting if "交办后" in row[2]] == [
        ["截至2026年3月31日", "旗交通运输局", f"{road}号问题交办后21个工作日仍未作出响应（接收、转交或退回）。"]
    ], waiting
    assert all(f"{road}号问题" in row[2] for row in waiting), waiting
    assert f"{road}号问题交办后21个工作日仍未作出响应，超过5个工作日" in notice.body, notice.body
    assert "才作出响应" not in notice.body.split(f"{road}号问题交办后", 1)[1][:12]
    # The Word copy and the PDF carry the same row.
    word = [
        [cell.text.strip() for cell in row.cells]
        for table in Document(str(files.docx)).tables
        for row in table.rows
        if row.cells[0].text.strip() != "时间"
    ]
    assert slow[0] in word, word
    pdf = "".join("".join(page.extract_text() for page in PdfReader(BytesIO(files.pdf.read_bytes())).pages).split())
    assert f"2026年1月19日至2026年1月30日旗水利局{water}号问题交办后9个工作日" in pdf, pdf


def test_a_routed_problem_claims_the_division_of_duties_only_where_seed_four_assigns_it(
    cast: Cast, tmp_path: Path
) -> None:
    """A 用地 problem is routed to 旗自然资源局 and a 林草征占用 one to 旗林草局, and neither is
    answered: the annex reads 理由：用地事项由旗自然资源局办理 (seed 000 四 gives no unit 用地; it read
    按职责分工，用地由旗自然资源局负责) and 理由：按职责分工，林草征占用由旗林草局负责 (四 gives 林草局
    征占用草原、林地的审批)."""
    land = cast.raise_("natres", at(2, 2), category="land_use")
    grass = cast.raise_("forestry", at(2, 2, 11), category="forest_grass")
    notice = draft_notice(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    cast.s.commit()
    files = render_notice(session=cast.s, notice_id=notice.id, now=AFTER_Q1, data_dir=tmp_path)
    rows = [row for rows in _html_tables(files.html).values() for row in rows]
    routed = {row[2] for row in rows if "转请" in row[2]}
    assert f"将{land}号问题转请旗自然资源局办理，理由：用地事项由旗自然资源局办理。" in routed, routed
    assert f"将{grass}号问题转请旗林草局办理，理由：按职责分工，林草征占用由旗林草局负责。" in routed, routed
    pdf = "".join("".join(page.extract_text() for page in PdfReader(BytesIO(files.pdf.read_bytes())).pages).split())
    assert "用地事项由旗自然资源局办理" in pdf and "按职责分工，用地" not in pdf
