"""The notice draft's body and overview and the review's opening, read whole: for a small record
made here, each is exactly the text a clerk would write from that record, so a sentence kind whose
template says something else fails here even where the facts' figures and ids are right (those are
checked by tests/test_notices.py and the property test). Issue 18: the note lists each document's
sentence kinds and the test that covers each."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from sqlalchemy import text
from sqlmodel import Session, select

from models import Member, OutboxMessage, Plan, Role, Unit
from oversight import convening as C
from oversight.errors import InvalidInputError
from oversight.members import assign_zone_leader
from oversight.notices import draft_notice, draft_overview, drop_finding, notice_findings
from oversight.plans import set_milestones
from oversight.problems import accept_problem, decline_problem, resolve_problem, rule_problem
from oversight.review import build_review, review_document
from tests.test_accountability import AFTER_Q1, JOINED, Cast, at
from tests.test_review import zone_rights


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> Cast:
    """Every unit reports each week; 林草局 declines a problem and is ruled back, 水利局 hands one to
    生态环境局 and gets it back: both are named for 推诿扯皮 and nothing else (as in test_notices)."""
    c = Cast(session, banner_plan_id)
    set_milestones(
        session=session, plan_id=banner_plan_id, key="upgrade", milestones=[(date(2026, 12, 31), 0.0)], actor="t"
    )
    for unit in c.units.values():
        c.report_weekly(unit.key)
    pid = c.raise_("forestry", at(3, 2))
    decline_problem(session=session, problem_id=pid, actor=c["forestry"], reason="不是林草的事", now=at(3, 2, 15))
    rule_problem(
        session=session,
        problem_id=pid,
        actor=c.office,
        to_unit_id=c.uid("forestry"),
        reason="征占用草原审批属林草局职责",
        now=at(3, 4),
    )
    resolve_problem(session=session, problem_id=pid, actor=c["forestry"], evidence_text="已审批", now=at(3, 6))
    pid2 = c.raise_("water", at(3, 5), category="water_permit")
    c.hand(pid2, "water", "eco", at(3, 5, 11))
    c.hand(pid2, "eco", "water", at(3, 5, 12))
    accept_problem(session=session, problem_id=pid2, actor=c["water"], now=at(3, 5, 13))
    resolve_problem(session=session, problem_id=pid2, actor=c["water"], evidence_text="已批复", now=at(3, 6))
    for message in session.exec(select(OutboxMessage)).all():
        session.delete(message)
    session.commit()
    return c


SUBJECT = "乌拉特中旗非煤矿山资源整合、增储上产"
BASIS = "《乌拉特中旗非煤矿山资源整合、增储上产实施方案》（乌中政办发〔2026〕4号）"
CLOSING = (
    "请被通报单位高度重视，认真查找原因，切实抓好整改，并于本通报印发之日起5个工作日内向联席会议办公室"
    "报送书面情况说明。各成员单位要引以为戒，按照职责分工主动担当、密切配合，确保各项工作任务按期完成。"
)


def problem_of(s: Session, unit_id: int) -> int:
    """The problem the unit owns in this record (one each), found here."""
    return s.connection().execute(text("SELECT id FROM problem WHERE owner_unit_id = :u"), {"u": unit_id}).scalar_one()


def test_the_draft_body_and_overview_read_as_the_office_would_write_them(cast: Cast) -> None:
    """The draft's body: the opening counts the two units and names the one kind, the rule's line
    names each unit with its finding (the problem it declined and was ruled back; the one it handed
    away and got back), the closing gives the plan's five working days. The convener's overview
    lists both; after one finding is dropped it says so; a quarter before tracking began names none."""
    s = cast.s
    notice = draft_notice(session=s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    s.commit()
    forestry, water = cast.units["forestry"].name, cast.units["water"].name
    declined, boomerang = problem_of(s, cast.uid("forestry")), problem_of(s, cast.uid("water"))
    assert notice.body == (
        f"2026年第一季度，依据联席会议工作记录，{SUBJECT}工作中有2个单位存在“推诿扯皮”问题。根据{BASIS}"
        "“对工作推进速度慢，问题解决不积极、不明显，推诿扯皮的部门，予以严肃通报”的要求，现将有关情况通报如下。\n"
        f"一、推诿扯皮。{forestry}：退回{declined}号问题，经联席会议办公室裁定仍由其负责；"
        f"{water}：{boomerang}号问题转出后又转回（该单位最先转出）。\n" + CLOSING
    )
    title = f"关于2026年第一季度{SUBJECT}工作推进不力单位情况的通报"
    foot = (
        "点下方单位按钮逐项查看通报依据，可删除个别事项；“查看正文”阅读通报正文。"
        "确认无误后审定印发，未经召集人审定，通报不会发出。"
    )
    assert draft_overview(session=s, notice_id=notice.id) == (
        f"【通报草稿待审定】{title}\n"
        "2026年第一季度　草稿　通报事项2项（涉及2个单位）\n\n"
        "被通报单位及事项：\n"
        f"1. {forestry}：推诿扯皮\n"
        f"2. {water}：推诿扯皮\n\n" + foot
    )
    first = next(f for f in notice_findings(session=s, notice_id=notice.id) if f.unit_id == cast.uid("forestry"))
    drop_finding(session=s, finding_id=first.id, actor=cast.convener, reason="已于季度末办结", now=AFTER_Q1)
    s.commit()
    assert draft_overview(session=s, notice_id=notice.id) == (
        f"【通报草稿待审定】{title}\n"
        "2026年第一季度　草稿　通报事项1项（涉及1个单位），已删除1项\n\n"
        "被通报单位及事项：\n"
        f"1. {forestry}：不再通报（已删除“推诿扯皮”，理由：已于季度末办结）\n"
        f"2. {water}：推诿扯皮\n\n" + foot
    )
    assert notice.body.splitlines()[1] == (f"一、推诿扯皮。{water}：{boomerang}号问题转出后又转回（该单位最先转出）。")
    empty = draft_notice(session=s, plan_id=cast.plan_id, period="2024Q3", now=AFTER_Q1)  # before tracking began
    s.commit()
    assert empty.body == f"2024年第三季度，经核查联席会议工作记录，{SUBJECT}工作本期没有需要通报的单位。"
    assert draft_overview(session=s, notice_id=empty.id) == (
        f"【通报草稿待审定】关于2024年第三季度{SUBJECT}工作推进情况的通报\n"
        "2024年第三季度　草稿　本期没有通报事项\n\n"
        "经核查，本期没有需要通报的单位。如无异议，可放弃本期通报。\n\n"
        "“查看正文”阅读通报正文。未经召集人审定，通报不会发出。"
    )


AFTER_H1 = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)


def review_facts(s: Session, plan_id: int) -> list[dict]:
    review = build_review(session=s, plan_id=plan_id, period="2026H1", now=AFTER_H1)
    return review_document(session=s, plan_id=plan_id, review=review, now=AFTER_H1)["facts"]


def test_a_review_scoring_only_zone_leaders_opens_according_to_the_mechanism_whose_object_they_are(
    session: Session, banner_plan_id: int
) -> None:
    """工作问效 evaluates 包联人员 (seed 000 五(四)): a review that scores zone leaders only opens
    根据…工作问效机制; one that scores member units too opens 参照 it (the next test), since the
    mechanism does not name the units."""

    s = session
    plan = s.get(Plan, banner_plan_id)
    assert plan is not None
    plan.tracking_since = date(2025, 12, 31)
    gov = s.exec(select(Unit).where(Unit.plan_id == banner_plan_id, Unit.key == "banner_gov")).one()
    leader = Member(
        plan_id=banner_plan_id,
        telegram_user_id=7001,
        name="包联领导甲",
        unit_id=gov.id,
        role=Role.ZONE_LEADER,
        joined_at=JOINED,
    )
    s.add(leader)
    s.flush()
    zone = zone_rights(SimpleNamespace(s=s, plan_id=banner_plan_id), 1, [datetime(2026, 3, 2, 2, tzinfo=UTC)])
    assign_zone_leader(session=s, member_id=leader.id, zone_id=zone.id, actor="test", now=JOINED)
    s.commit()
    plan_name = plan.name
    opening = review_facts(s, banner_plan_id)[0]
    assert opening["kind"] == "summary_opening" and opening["values"]["units"] == 0, opening
    assert opening["text"] == (
        f"根据《{plan_name}》工作问效机制，联席会议办公室依据2026年上半年工作记录，对1名包联领导进行了量化评价。"
        "现将有关情况报告如下。"
    )


def test_a_review_of_the_half_in_progress_says_when_it_was_computed_and_a_half_to_come_is_refused(
    session: Session, banner_plan_id: int
) -> None:
    """On 8 April (the demo's day) the 2026H1 review covers the record up to that moment and its
    opening says 统计截至 it, as a brief of a quarter in progress does; after 30 June it does not; a
    half not begun is refused in words, as the notice rules refuse a quarter to come."""
    s = session
    cast = Cast(s, banner_plan_id)
    cast.report_weekly("water")
    s.commit()
    during = datetime(2026, 4, 8, 1, 30, tzinfo=UTC)
    review = build_review(session=s, plan_id=banner_plan_id, period="2026H1", now=during)
    doc = review_document(session=s, plan_id=banner_plan_id, review=review, now=during)
    opening = doc["facts"][0]
    assert opening["kind"] == "summary_opening"
    assert "依据2026年上半年工作记录（统计截至2026年4月8日 09:30），对" in opening["text"]
    # The days under the title are the days the record covers (it read 1月1日—6月30日 on 8 April).
    assert doc["subtitle"] == "（2026年1月1日—2026年4月8日）"
    assert "统计截至" not in review_facts(s, banner_plan_id)[0]["text"]
    after = build_review(session=s, plan_id=banner_plan_id, period="2026H1", now=AFTER_H1)
    assert review_document(session=s, plan_id=banner_plan_id, review=after, now=AFTER_H1)["subtitle"] == (
        "（2026年1月1日—2026年6月30日）"
    )
    with pytest.raises(InvalidInputError) as refused:
        build_review(session=s, plan_id=banner_plan_id, period="2026H2", now=during)
    assert refused.value.message == "2026年下半年尚未开始，无法评价。"


def test_the_reviews_opening_and_attendance_read_as_the_office_would_write_them(
    session: Session, banner_plan_id: int
) -> None:
    """Nobody has joined: the opening says in words that nobody was evaluated. Then every unit's
    contact joins and reports, one meeting is held on 3 March and every member unit called named
    someone to attend: the opening counts the units and the leaders scored, the attendance section
    gives the day and says every unit called answered (均已答复), once."""
    s = session
    plan_name = s.connection().execute(text("SELECT name FROM plan WHERE id = :p"), {"p": banner_plan_id}).scalar_one()
    facts = review_facts(s, banner_plan_id)
    assert facts[0]["kind"] == "summary_opening_none"
    assert facts[0]["text"] == (
        f"参照《{plan_name}》工作问效机制，联席会议办公室依据2026年上半年工作记录开展工作问效，"
        "本期没有参评的成员单位和包联领导。现将有关情况报告如下。"
    )
    cast = Cast(s, banner_plan_id)
    for unit in cast.units.values():
        cast.report_weekly(unit.key)
    t0 = datetime(2026, 3, 2, 1, tzinfo=UTC)
    meeting = C.schedule_meeting(
        session=s, actor=cast.office, kind="quarterly", starts_at=t0 + timedelta(days=1), now=t0
    )
    C.add_agenda_item(session=s, meeting_id=meeting.id, actor=cast.office, text="听取工作进展汇报", now=t0)
    C.circulate(session=s, meeting_id=meeting.id, actor=cast.office, now=t0)
    called = {
        r[0]
        for r in s.connection().execute(
            text(
                "SELECT DISTINCT m.unit_id FROM member m JOIN unit u ON u.id = m.unit_id"
                " WHERE m.plan_id = :p AND u.kind NOT IN ('government', 'office')"
            ),
            {"p": banner_plan_id},
        )
    }
    for key, member in cast.people.items():
        if member.unit_id in called:
            C.answer_attendance(session=s, meeting_id=meeting.id, actor=member, attendee=f"{key}参会人", now=t0)
    C.mark_held(session=s, meeting_id=meeting.id, actor=cast.office, now=meeting.starts_at + timedelta(hours=2))
    s.commit()
    facts = review_facts(s, banner_plan_id)
    by = {f["kind"]: f for f in facts}
    opening = by["summary_opening"]
    units, leaders = opening["values"]["units"], opening["values"]["leaders"]
    assert units == len(opening["ids"]["unit"]) >= 1 and leaders == len(opening["ids"]["member"])
    whom = f"{units}个成员单位" + (f"和{leaders}名包联领导" if leaders else "")
    assert opening["text"] == (
        # Member units scored: 参照 the mechanism, whose object is the 包联人员 (seed 000 五(四)).
        f"参照《{plan_name}》工作问效机制，联席会议办公室依据2026年上半年工作记录，对{whom}进行了量化评价。"
        "现将有关情况报告如下。"
    )
    assert by["meetings_held"]["text"] == "本期召开联席会议1次（2026年3月3日）。"
    assert by["attendance_all_once"]["text"] == "被通知的成员单位均已答复派人参加。"
    assert "attendance_units" not in by and "attendance_all_each" not in by


def test_the_notice_names_a_shifting_unit_in_the_offices_voice(cast: Cast, tmp_path: Path) -> None:
    """发改委 and 工信局 pass a problem between them three times and the office rules it to 发改委: the
    notice, which the office issues, says 经联席会议办公室裁定由其负责 and 其转交理由未获办公室认可 (本单位
    read as the office itself), while the annex quotes the units' own 不属于本单位职责 as they wrote it."""
    from jobs.notices import render_notice

    s = cast.s
    pid = cast.raise_("ndrc", at(3, 9), category="project_approval")
    cast.hand(pid, "ndrc", "miit", at(3, 9, 11))
    cast.hand(pid, "miit", "ndrc", at(3, 10))
    cast.hand(pid, "ndrc", "miit", at(3, 10, 15))
    rule_problem(
        session=s, problem_id=pid, actor=cast.office, to_unit_id=cast.uid("ndrc"), reason="立项属发改委", now=at(3, 11)
    )
    resolve_problem(session=s, problem_id=pid, actor=cast["ndrc"], evidence_text="已立项", now=at(3, 12))
    notice = draft_notice(session=s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    s.commit()
    ndrc, miit = cast.units["ndrc"].name, cast.units["miit"].name
    shifting = next(line for line in notice.body.splitlines() if line.startswith("一、推诿扯皮。"))
    print(notice.body)
    assert (
        f"{ndrc}：{pid}号问题转出后又转回（经联席会议办公室裁定由其负责）；{pid}号问题连续转交3次无单位接收，其转交理由未获办公室认可"
        in shifting
    )
    assert f"{miit}：{pid}号问题连续转交3次无单位接收，其转交理由未获办公室认可" in shifting
    files = render_notice(session=s, notice_id=notice.id, now=AFTER_Q1, data_dir=tmp_path)
    pdf = "".join("".join(page.extract_text() for page in PdfReader(BytesIO(files.pdf.read_bytes())).pages).split())
    body, annex = pdf.split("附件：", 1)
    assert "经联席会议办公室裁定由其负责" in body and "本单位" not in body, body
    assert "仍由其负责" in body
    assert "理由：不属于本单位职责" in annex, annex  # the unit's own words, quoted
