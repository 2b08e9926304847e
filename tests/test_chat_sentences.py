"""The chat summaries read whole: for a small record made here, the daily digest, /todo and the
meeting card are exactly the message a clerk would write from that record, every line of it, so a
sentence kind whose template says something else fails here even where tests/chatfacts.py (which
recounts each fact's figures and ids) is satisfied. The working days late are counted here on the
published calendar (chinese_calendar), not with the product's own count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from sqlalchemy import text
from sqlmodel import Session

from models import Decision, Meeting, MeetingAttendance, Problem, Role
from oversight.convening import meeting_card
from oversight.digest import digest_summary
from oversight.lookups import todo_summary
from tests.chatfacts import assert_chat_facts, assert_digest_facts
from tests.test_accountability import Cast

DAY = date(2026, 3, 20)  # a Friday


def late_days(due: date, day: date) -> int:
    """Working days after `due` up to and including `day`, on the published calendar."""
    return sum(chinese_calendar.is_workday(due + timedelta(days=k)) for k in range(1, (day - due).days + 1))


def unit_name(s: Session, unit_id: int) -> str:
    return s.connection().execute(text("SELECT name FROM unit WHERE id = :u"), {"u": unit_id}).scalar_one()


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> Cast:
    return Cast(session, banner_plan_id)


def overdue_record(cast: Cast) -> tuple[int, int, int]:
    """林草局 owns a problem due 10 March and 水利局 an agreed matter due 13 March, a major one due
    27 March (not yet late on 20 March), both of the February meeting."""
    s = cast.s
    category = s.connection().execute(
        text("SELECT id FROM problemcategory WHERE plan_id = :p AND key = 'forest_grass'"), {"p": cast.plan_id}
    )
    problem = Problem(
        plan_id=cast.plan_id,
        text="某铁矿林地审批未办结。",
        category_id=category.scalar_one(),
        raised_by_unit_id=cast.uid("emergency"),
        owner_unit_id=cast.uid("forestry"),
        due_on=date(2026, 3, 10),
        created_at=datetime(2026, 3, 2, 2, tzinfo=UTC),
    )
    meeting = Meeting(
        plan_id=cast.plan_id,
        kind="quarterly",
        period="2026Q1",
        held_on=date(2026, 2, 10),
        title="第一季度联席会议",
        created_at=datetime(2026, 2, 10, 2, tzinfo=UTC),
    )
    s.add_all([problem, meeting])
    s.flush()
    late = Decision(
        plan_id=cast.plan_id,
        meeting_id=meeting.id,
        text="完成取水许可审查",
        owner_unit_id=cast.uid("water"),
        due_on=date(2026, 3, 13),
    )
    major = Decision(
        plan_id=cast.plan_id,
        meeting_id=meeting.id,
        text="研究整合区用水指标",
        owner_unit_id=cast.uid("water"),
        due_on=date(2026, 3, 27),
        major=True,
    )
    s.add_all([late, major])
    s.commit()
    return int(problem.id or 0), int(late.id or 0), int(major.id or 0)


def test_the_digest_reads_as_the_office_would_write_its_overdue_items(cast: Cast) -> None:
    """On 20 March the office's digest lists 林草局's problem (due 10 March) and 水利局's agreed
    matter (due 13 March), each with its due date and the working days it is late, under 逾期事项;
    the major matter due 27 March is not late and not listed."""
    pid, did, _major = overdue_record(cast)
    s = cast.s
    digest = digest_summary(session=s, plan_id=cast.plan_id, day=DAY)
    assert digest is not None
    assert_digest_facts(s, cast.plan_id, DAY, digest.message(), digest.listed())
    forestry, water = unit_name(s, cast.uid("forestry")), unit_name(s, cast.uid("water"))
    assert digest.message() == (
        "【每日督办】2026年3月20日 逾期事项\n"
        "\n"
        "一、逾期未办结的问题（1件）\n"
        f"1. {forestry}：某铁矿林地审批未办结（应于2026年3月10日前办结，已逾期{late_days(date(2026, 3, 10), DAY)}个工作日）\n"
        "\n"
        "二、逾期未落实的议定事项（1项）\n"
        f"1. {water}：完成取水许可审查（应于2026年3月13日前落实，已逾期{late_days(date(2026, 3, 13), DAY)}个工作日）"
    )
    assert late_days(date(2026, 3, 10), DAY) == 8 and late_days(date(2026, 3, 13), DAY) == 5
    assert {f["kind"]: f["ids"] for f in digest.listed()}["decision"]["decision"] == [did]
    assert {f["kind"]: f["ids"] for f in digest.listed()}["problem"]["problem"] == [pid]


def test_todo_reads_as_each_unit_and_the_supervision_group_would_write_it(cast: Cast) -> None:
    """On 20 March: 林草局's contact sees its one late problem (what, who raised it and when, due
    and days late); 水利局's its late agreed matter first, then the major one due 27 March; the
    supervision group the major matter it follows, with its unit; each list counted by light."""
    pid, did, major = overdue_record(cast)
    s = cast.s
    forestry, water = unit_name(s, cast.uid("forestry")), unit_name(s, cast.uid("water"))
    category, raiser = (
        s.connection()
        .execute(
            text(
                "SELECT c.name, u.name FROM problem p JOIN problemcategory c ON c.id = p.category_id"
                " JOIN unit u ON u.id = p.raised_by_unit_id WHERE p.id = :p"
            ),
            {"p": pid},
        )
        .one()
    )

    def todo(member) -> str:
        chat = todo_summary(session=s, member=member, today=DAY)
        assert_chat_facts(s, chat.message(), chat.listed())
        return chat.message()

    assert todo(cast["forestry"]) == (
        f"【{forestry} 待办】\n"
        "共1项：逾期1项。\n"
        f"🔴 {pid}号问题【待接收】{category}，{raiser}于2026年3月2日提出：某铁矿林地审批未办结"
        f"（期限 2026年3月10日，已逾期{late_days(date(2026, 3, 10), DAY)}个工作日）"
    )
    assert todo(cast["water"]) == (
        f"【{water} 待办】\n"
        "共2项：逾期1项，正常1项。\n"
        f"🔴 {did}号议定事项【议定事项】完成取水许可审查（期限 2026年3月13日，已逾期{late_days(date(2026, 3, 13), DAY)}个工作日）\n"
        f"🟢 {major}号议定事项【议定事项（重大）】研究整合区用水指标（期限 2026年3月27日）"
    )
    supervisor = cast.member("natres", Role.SUPERVISOR)
    assert todo(supervisor) == (
        "【各单位逾期事项】\n"
        "共2项：逾期2项。\n"
        f"🔴 {pid}号问题【待接收】{forestry}：{category}，{raiser}于2026年3月2日提出：某铁矿林地审批未办结"
        f"（期限 2026年3月10日，已逾期{late_days(date(2026, 3, 10), DAY)}个工作日）\n"
        f"🔴 {did}号议定事项【议定事项】{water}：完成取水许可审查（期限 2026年3月13日，已逾期{late_days(date(2026, 3, 13), DAY)}个工作日）\n"
        "\n"
        "【联合督导组跟踪的重大议定事项】\n"
        "共1项：正常1项。\n"
        f"🟢 {major}号议定事项【议定事项（重大）】{water}：研究整合区用水指标（期限 2026年3月27日）"
    )


def test_the_meeting_card_reads_as_the_office_would_write_it(cast: Cast) -> None:
    """A meeting circulated at 17:36 on 3 December for 16:00 on 7 December, two agenda items:
    林草局 sends 张林 副局长, 水利局 is excused, the others have not answered (named, in the plan's
    order). Held, with a major agreed matter for 林草局 and one with no unit or deadline."""
    s = cast.s
    pid, _did, _major = overdue_record(cast)
    meeting = Meeting(
        plan_id=cast.plan_id,
        kind="quarterly",
        period="2026Q4",
        held_on=date(2026, 12, 7),
        title="2026年第四季度联席会议",
        state="circulated",
        starts_at=datetime(2026, 12, 7, 8, tzinfo=UTC),
        circulated_at=datetime(2026, 12, 3, 9, 36, tzinfo=UTC),
        agenda=[{"text": "听取各成员单位工作进展汇报", "ref": ""}, {"text": "督办林地审批", "ref": f"problem:{pid}"}],
        created_at=datetime(2026, 12, 3, 9, tzinfo=UTC),
    )
    s.add(meeting)
    s.flush()
    s.add(MeetingAttendance(meeting_id=meeting.id, unit_id=cast.uid("forestry"), attendee="张林 副局长"))
    s.add(MeetingAttendance(meeting_id=meeting.id, unit_id=cast.uid("water"), state="excused"))
    s.commit()
    forestry, water = unit_name(s, cast.uid("forestry")), unit_name(s, cast.uid("water"))
    silent = [
        r[0]
        for r in s.connection().execute(
            text(
                "SELECT name FROM unit WHERE plan_id = :p AND kind NOT IN ('government', 'office')"
                " AND id NOT IN (:f, :w) ORDER BY id"
            ),
            {"p": cast.plan_id, "f": cast.uid("forestry"), "w": cast.uid("water")},
        )
    ]
    attendance = (
        f"出席1个单位：{forestry}（张林 副局长）\n请假1个单位：{water}\n未确认{len(silent)}个单位：" + "、".join(silent)
    )

    def card() -> str:
        chat = meeting_card(session=s, meeting=meeting)
        assert_chat_facts(s, chat.message(), chat.listed())
        return chat.message()

    assert card() == (
        "2026年12月7日 16:00 2026年第四季度联席会议（季度例会，已下发通知，2026年12月3日 17:36下发）\n"
        "议程：\n1. 听取各成员单位工作进展汇报\n2. 督办林地审批\n参会确认：\n" + attendance
    )
    meeting.state = "held"
    s.add(meeting)
    s.commit()
    assert card() == (
        "2026年12月7日 16:00 2026年第四季度联席会议（季度例会，已召开）\n参会情况：\n"
        + attendance
        + "\n尚未记录议定事项。\n请用 /decision 记录本次会议的议定事项，记录完毕后印发会议纪要。"
    )
    major = Decision(
        plan_id=cast.plan_id,
        meeting_id=meeting.id,
        text="完成查干此老整合区征占用草原审批",
        owner_unit_id=cast.uid("forestry"),
        due_on=date(2027, 3, 31),
        major=True,
    )
    loose = Decision(plan_id=cast.plan_id, meeting_id=meeting.id, text="研究矿山退出补偿政策")
    s.add_all([major, loose])
    s.commit()
    assert card() == (
        "2026年12月7日 16:00 2026年第四季度联席会议（季度例会，已召开）\n参会情况：\n"
        + attendance
        + "\n议定事项2项：\n"
        f"1. {major.id}号议定事项 完成查干此老整合区征占用草原审批（{forestry}牵头，2027年3月31日）【重大】\n"
        f"2. {loose.id}号议定事项 研究矿山退出补偿政策（未指定牵头单位，未设定办理期限）\n"
        "请用 /decision 记录本次会议的议定事项，记录完毕后印发会议纪要。"
    )
