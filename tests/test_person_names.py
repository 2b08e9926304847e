"""A person acting for a unit means the same everywhere (issue 18): 周宏伟 of 旗应急管理局（矿山安全监管局）
(a unit whose name ends in brackets), 高娜仁 of 旗林草局 and the nameless contact of 旗自然资源局 raise,
hand over, accept and resolve problems, answer a meeting's notice and are read back from every place
that prints them: the problem card and the hand-over and acceptance messages in chat, the problem's
history, the notice's 附件 (from the rendered HTML and PDF), the meeting's card, the office's
attendance message and the minutes' PDF. Each prints the one form, 旗林草局的高娜仁,
旗应急管理局（矿山安全监管局）的周宏伟, 旗自然资源局联络员: never 旗林草局（高娜仁）, never a bracket in a
bracket, never 旗自然资源局的自然资源局联络员."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import Session

from jobs import minutes
from jobs.notices import render_notice
from models import Meeting, Problem, utcnow
from oversight import convening as C
from oversight.notices import draft_notice
from oversight.plans import set_milestones
from oversight.problems import accept_problem, format_problem, hand_over_problem, problem_card, resolve_problem
from tests.chatfacts import assert_meeting_facts
from tests.test_accountability import AFTER_Q1, Cast, at
from tests.test_notice_annex import _html_tables
from tests.test_notices import outbox

BRACKETED, PLAIN, NAMELESS = "emergency", "forestry", "natres"


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> Cast:
    c = Cast(session, banner_plan_id)
    set_milestones(
        session=session, plan_id=banner_plan_id, key="upgrade", milestones=[(date(2026, 12, 31), 0.0)], actor="t"
    )
    c[BRACKETED].name, c[PLAIN].name, c[NAMELESS].name = "周宏伟", "高娜仁", ""
    for unit in c.units.values():
        c.report_weekly(unit.key)
    session.commit()
    return c


def expected(cast: Cast) -> dict[str, str]:
    """The one form, written here from the units' names: the unit 的 the person; a nameless contact
    the unit and its role."""
    bracketed, plain, nameless = (cast.units[k].name for k in (BRACKETED, PLAIN, NAMELESS))
    assert bracketed.endswith("）") and not plain.endswith("）")
    return {BRACKETED: f"{bracketed}的周宏伟", PLAIN: f"{plain}的高娜仁", NAMELESS: f"{nameless}联络员"}


def old_forms(cast: Cast) -> list[str]:
    """How the same people were printed before: the person in brackets after the unit, the unit in
    brackets after the person, the nameless contact's unit said twice."""
    bracketed, plain, nameless = (cast.units[k].name for k in (BRACKETED, PLAIN, NAMELESS))
    short = cast.units[NAMELESS].short
    return [
        f"{plain}（高娜仁）",
        f"高娜仁（{plain}）",
        f"周宏伟（{bracketed}）",
        f"{bracketed}（周宏伟",
        f"{short}联络员（",
        f"{nameless}（{short}联络员）",
        f"{nameless}的{short}联络员",
        f"（{bracketed}）",  # a person followed by the bracketed unit: a bracket in a bracket
    ]


def assert_one_form(cast: Cast, text: str) -> None:
    for old in old_forms(cast):
        assert old not in text, (old, text)


def test_the_problem_the_notice_and_the_meeting_print_each_person_in_one_form(cast: Cast, tmp_path: Path) -> None:
    s, who = cast.s, expected(cast)
    # 周宏伟 raises a problem for 旗自然资源局; its nameless contact hands it to 旗林草局, where
    # 高娜仁 accepts it on 2 March and does nothing until resolving it on 18 March.
    first = cast.raise_(NAMELESS, at(3, 2), by=BRACKETED)
    hand_over_problem(
        session=s,
        problem_id=first,
        actor=cast[NAMELESS],
        to_unit_id=cast.uid(PLAIN),
        reason="征占用草原审批属林草局职责",
        now=at(3, 2, 11),
    )
    accept_problem(session=s, problem_id=first, actor=cast[PLAIN], now=at(3, 2, 14))
    resolve_problem(session=s, problem_id=first, actor=cast[PLAIN], evidence_text="审批已批复", now=at(3, 18))
    # 高娜仁 raises two more: 周宏伟 and the nameless contact each accept one and let it lie.
    second = cast.raise_(BRACKETED, at(3, 2), by=PLAIN)
    third = cast.raise_(NAMELESS, at(3, 2), by=PLAIN)
    for pid, key in ((second, BRACKETED), (third, NAMELESS)):
        accept_problem(session=s, problem_id=pid, actor=cast[key], now=at(3, 2, 11))
        resolve_problem(session=s, problem_id=pid, actor=cast[key], evidence_text="已办结", now=at(3, 17))
    s.commit()

    # In chat: the card names the raiser, the hand-over who handed it, the acceptance who accepted.
    card = problem_card(session=s, problem=s.get_one(Problem, first))
    assert f"提出：{who[BRACKETED]}，2026年3月2日 10:00\n" in card, card
    to_forestry = [m.text for m in outbox(s, cast[PLAIN].telegram_user_id) if "转交给贵单位" in m.text]
    assert len(to_forestry) == 1 and f"\n转交人：{who[NAMELESS]}\n转交理由：" in to_forestry[0], to_forestry
    raiser = [m.text for m in outbox(s, cast[BRACKETED].telegram_user_id)]
    assert f"{first}号问题已由{who[NAMELESS]}转交给{cast.units[PLAIN].name}。" in "\n".join(raiser), raiser
    assert f"{first}号问题已由{who[PLAIN]}接收办理。" in raiser, raiser
    assert any(t.startswith(f"{first}号问题已由{who[PLAIN]}办结。") for t in raiser), raiser
    told = [m.text for m in outbox(s, cast[PLAIN].telegram_user_id)]
    assert (
        f"{second}号问题已由{who[BRACKETED]}接收办理。" in told
        and f"{third}号问题已由{who[NAMELESS]}接收办理。" in told
    )
    history = format_problem(session=s, problem_id=first)
    for line in (f"{who[BRACKETED]} 提出", f"{who[NAMELESS]} 转交：", f"{who[PLAIN]} 接收办理"):
        assert line in history, (line, history)
    for text in (card, history, *(m.text for m in outbox(s))):
        assert_one_form(cast, text)

    # The notice's 附件: each idle problem's events name who acted, in the HTML and in the PDF.
    notice = draft_notice(session=s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    s.commit()
    files = render_notice(session=s, notice_id=notice.id, now=AFTER_Q1, data_dir=tmp_path)
    tables = _html_tables(files.html)
    for key, pid, done in (
        (PLAIN, first, "2026年3月18日"),
        (BRACKETED, second, "2026年3月17日"),
        (NAMELESS, third, "2026年3月17日"),
    ):
        (rows,) = [
            rows for caption, rows in tables.items() if caption == f"{cast.units[key].name}：问题解决不积极、不明显"
        ]
        events = [row for row in rows if row[2].startswith(("接收", "办结"))]
        assert [row[:2] for row in events] == [
            ["2026年3月2日\u202f" + ("14:00" if key == PLAIN else "11:00"), who[key]],
            [done + "\u202f10:00", who[key]],
        ], rows
        assert all(f"{pid}号问题" in row[2] for row in events), rows
    # A unit whose name ends in brackets is headed with one pair: 旗应急管理局（矿山安全监管局）：问题…
    assert f"{cast.units[BRACKETED].name}：问题解决不积极、不明显" in tables, list(tables)
    assert not any("）（" in caption for caption in tables), list(tables)
    cells = [cell for rows in tables.values() for row in rows for cell in row]
    assert_one_form(cast, "\n".join(cells))
    pdf = "".join("".join(page.extract_text().split()) for page in PdfReader(BytesIO(files.pdf.read_bytes())).pages)
    for key in (BRACKETED, PLAIN, NAMELESS):
        assert who[key] in pdf, who[key]
    assert_one_form(cast, pdf)

    # A meeting: 周宏伟 and 高娜仁 are named to attend, 旗自然资源局 asks leave; the card, the office's
    # message and the minutes name them as everywhere else.
    now = utcnow()
    office = cast.office
    meeting = C.schedule_meeting(session=s, actor=office, kind="quarterly", starts_at=now + timedelta(hours=1), now=now)
    C.add_agenda_item(session=s, meeting_id=meeting.id, actor=office, text="听取工作进展汇报", now=now)
    C.circulate(session=s, meeting_id=meeting.id, actor=office, now=now)
    C.answer_attendance(session=s, meeting_id=meeting.id, actor=cast[BRACKETED], attendee="周宏伟", now=now)
    C.answer_attendance(session=s, meeting_id=meeting.id, actor=cast[PLAIN], attendee="高娜仁", now=now)
    C.answer_attendance(session=s, meeting_id=meeting.id, actor=cast[NAMELESS], excused=True, now=now)
    card_chat = C.meeting_card(session=s, meeting=s.get_one(Meeting, meeting.id))
    shown = card_chat.message()
    assert_meeting_facts(s, meeting.id, shown, card_chat.listed())  # each line recounted from the answers
    assert who[BRACKETED] in shown and who[PLAIN] in shown and f"请假1个单位：{cast.units[NAMELESS].name}" in shown, (
        shown
    )
    assert_one_form(cast, shown)
    answers = [m.text for m in outbox(s, office.telegram_user_id) if m.text.startswith("【参会确认】")]
    assert [a.split("：", 1)[1] for a in answers] == [
        f"{who[BRACKETED]}参会。",
        f"{who[PLAIN]}参会。",
        f"{cast.units[NAMELESS].name}请假。",
    ], answers
    later = now + timedelta(hours=2)
    C.mark_held(session=s, meeting_id=meeting.id, actor=office, now=later)
    C.request_minutes(session=s, meeting_id=meeting.id, actor=office, now=later)
    s.commit()
    done = minutes.run(session=s, period=C.minutes_period(meeting.id), now=later, data_dir=tmp_path)
    text = "".join("".join(page.extract_text().split()) for page in PdfReader(done["pdf"]).pages)
    attended = text.split("确认参会：", 1)[1].split("请假：", 1)[0]
    assert who[BRACKETED] in attended and who[PLAIN] in attended, attended
    assert f"请假：{cast.units[NAMELESS].name}" in text, text
    assert_one_form(cast, text)
