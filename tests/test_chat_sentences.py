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
from sqlmodel import Session, select

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
        "一、逾期未办结的问题（1个）\n"
        f"1. {forestry}：某铁矿林地审批未办结（应于2026年3月10日前办结，已逾期{late_days(date(2026, 3, 10), DAY)}个工作日）\n"
        "\n"
        "二、逾期未完成的议定事项（1项）\n"
        f"1. {water}：完成取水许可审查（应于2026年3月13日前完成，已逾期{late_days(date(2026, 3, 13), DAY)}个工作日）"
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
    attendance = f"出席1个单位：{forestry}的张林 副局长\n请假1个单位：{water}\n未确认{len(silent)}个单位：" + "、".join(
        silent
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


def test_a_card_with_no_agenda_or_no_member_unit_says_so_in_words(cast: Cast) -> None:
    """Records the dialogues cannot make, written here as a hand-kept or older record could hold
    them: circulation refuses an empty agenda, and every plan file the parser accepts has member
    units; the card of such a meeting still says so in words (（暂无议题）, 暂无成员单位。)."""
    s = cast.s
    meeting = Meeting(
        plan_id=cast.plan_id,
        kind="adhoc",
        period="2026Q4",
        held_on=date(2026, 12, 7),
        title="专题会议",
        state="circulated",
        starts_at=datetime(2026, 12, 7, 8, tzinfo=UTC),
        circulated_at=datetime(2026, 12, 3, 9, 36, tzinfo=UTC),
        agenda=[],
        created_at=datetime(2026, 12, 3, 9, tzinfo=UTC),
    )
    s.add(meeting)
    s.commit()
    members = [
        r[0]
        for r in s.connection().execute(
            text("SELECT name FROM unit WHERE plan_id = :p AND kind NOT IN ('government', 'office') ORDER BY id"),
            {"p": cast.plan_id},
        )
    ]

    def card() -> str:
        chat = meeting_card(session=s, meeting=meeting)
        assert_chat_facts(s, chat.message(), chat.listed())
        return chat.message()

    head = "2026年12月7日 16:00 专题会议（临时加开，已下发通知，2026年12月3日 17:36下发）\n"
    assert card() == (head + f"议程：\n（暂无议题）\n参会确认：\n未确认{len(members)}个单位：" + "、".join(members))
    s.connection().execute(
        text("UPDATE unit SET kind = 'office' WHERE plan_id = :p AND kind <> 'government'"), {"p": cast.plan_id}
    )
    s.commit()
    assert card() == head + "议程：\n（暂无议题）\n参会确认：\n暂无成员单位。"


def test_todo_of_a_league_reads_its_region_items_whole(engine, session: Session) -> None:
    """Seed 003 三(二)(三) on the region plan: 包头市 owes its 底数核实台账 (due 20 September 2022; a
    day before, 临期; on 26 September, late by the working days counted here), 鄂尔多斯市, whose
    ledger holds an idle mine, its 盘活一批 (due 31 December 2022): /todo says each whole."""
    from sqlmodel import select

    from models import Member, Right, Unit
    from tests.conftest import REGION_PLAN, load_bundled_plan

    p = load_bundled_plan(engine, REGION_PLAN)
    units = {u.key: u for u in session.exec(select(Unit).where(Unit.plan_id == p)).all()}
    ordos, baotou = units["ordos"], units["baotou"]
    session.add(
        Right(plan_id=p, code="M-1", name="M-1", kind="mining", locality_unit_id=ordos.id, baseline_on=date(2022, 9, 1))
    )
    joined = datetime(2022, 8, 1, 2, tzinfo=UTC)
    league = Member(plan_id=p, unit_id=baotou.id, role=Role.CONTACT, name="包头联络员", joined_at=joined)
    city = Member(plan_id=p, unit_id=ordos.id, role=Role.CONTACT, name="鄂尔多斯联络员", joined_at=joined)
    session.add_all([league, city])
    session.commit()

    def todo(member: Member, day: date) -> str:
        chat = todo_summary(session=session, member=member, today=day)
        assert_chat_facts(session, chat.message(), chat.listed())
        return chat.message()

    baseline = "🟡 底数核实台账【待报送】报送底数核实情况及工作措施台账（逐矿权核实停产数量及原因、探矿权未转采原因）"
    assert todo(league, date(2022, 9, 19)) == (
        f"【{baotou.name} 待办】\n共1项：临期1项。\n{baseline}（期限 2022年9月20日）"
    )
    late = late_days(date(2022, 9, 20), date(2022, 9, 26))
    assert todo(league, date(2022, 9, 26)) == (
        f"【{baotou.name} 待办】\n共1项：逾期1项。\n"
        + baseline.replace("🟡", "🔴")
        + f"（期限 2022年9月20日，已逾期{late}个工作日）"
    )
    batch = "盘活一批矿业权【待盘活】盘活一批矿业权（停产矿山复工复产或探矿权转采矿权），形成实际生产力"
    assert todo(city, date(2022, 12, 20)) == (
        f"【{ordos.name} 待办】\n共1项：正常1项。\n🟢 {batch}（期限 2022年12月31日）"
    )
    late = late_days(date(2022, 12, 31), date(2023, 1, 9))
    assert todo(city, date(2023, 1, 9)) == (
        f"【{ordos.name} 待办】\n共1项：逾期1项。\n🔴 {batch}（期限 2022年12月31日，已逾期{late}个工作日）"
    )


def _share(start: date, deadline: date, on: date) -> float:
    """A timeline's share by `on`, linear from its start to its deadline (the plan file's dates)."""
    return min(1.0, max(0.0, (on - start).days / (deadline - start).days))


def test_progress_reads_as_the_office_would_write_it(engine, session: Session, banner_plan_id: int) -> None:
    """/progress on 1 January 2027 of the banner plan with its ledger loaded and nothing done yet:
    each target of the plan file with its figure now and what its timeline expects (the nearest
    whole one, a half up, cap alike, counted here from the plan file's dates), each batch the next
    whole one up, the rounding said once; the region plan with no ledger: its targets without a
    deadline and without a figure, its first batch not judged, its batches with no timeline, whole."""
    import math

    import yaml

    from oversight.lookups import format_progress, progress_summary
    from tests.conftest import BANNER_PLAN, REGION_PLAN, load_bundled_plan

    on = date(2027, 1, 1)
    as_of = datetime(2027, 1, 1, 4, tzinfo=UTC)  # noon in Shanghai
    plan = yaml.safe_load(BANNER_PLAN.read_text(encoding="utf-8"))
    up, near = (lambda x: math.ceil(round(x, 6))), (lambda x: math.floor(round(x, 6) + 0.5))
    expect = {}
    for t in plan["targets"]:
        expect[t["key"]] = _share(t["start"], t["deadline"], on) * t["value"]
    mining = plan["baseline"]["mining"]
    cap = plan["targets"][3]
    assert cap["key"] == "max_mines"
    cap_expected = mining + (cap["value"] - mining) * _share(cap["start"], cap["deadline"], on)
    # The ledger holds the plan's mining rights and an exploration right, none moved, none large.
    from models import Right, RightBatch, Task

    mines = [Right(plan_id=banner_plan_id, code=f"M{i}", name=f"M{i}", kind="mining") for i in range(mining)]
    session.add_all(mines)
    session.add(Right(plan_id=banner_plan_id, code="X", name="X", kind="exploration"))
    session.flush()
    # Each batch lists a mine of the ledger (a batch listing none is not loaded and not judged).
    for mine, task in zip(mines, session.exec(select(Task).where(Task.plan_id == banner_plan_id)).all(), strict=False):
        session.add(RightBatch(right_id=mine.id, task_id=task.id))
    session.commit()
    ratio = 0.75 * _share(plan["targets"][4]["start"], plan["targets"][4]["deadline"], on)
    targets = [
        f"减少采矿权：目标15宗（2030年12月31日前），现为0宗，按进度应为{near(expect['reduce_mining'])}宗（滞后）；"
        "尚无关闭注销或整合减少的采矿权。",
        f"减少探矿权：目标19宗（2030年12月31日前），现为0宗，按进度应为{near(expect['reduce_exploration'])}宗（滞后）；"
        "尚无整合或关闭的探矿权。",
        f"消减矿业权：目标34个（2030年12月31日前），现为0个，按进度应为{near(expect['reduce_total'])}个（滞后）；"
        "尚无减少的采矿权和探矿权。",
        f"全旗矿山总数：目标控制在65个以内（2030年12月31日前），现为{mining}个，按进度应在{near(cap_expected)}个以内（滞后）；"
        f"台账载入采矿权{mining}宗，尚无减少。",
        f"大中型矿山占比（按生产规模）：目标不低于75%（2030年12月31日前），现为0.0%，按进度应不低于{ratio * 100:.1f}%（滞后）；"
        f"台账存续采矿权{mining}宗，其中尚无大中型。",
        f"矿山复工达产：目标28个（2030年12月31日前），现为0个，按进度应为{near(expect['restart'])}个（滞后）；"
        "尚无复工达产（盘活）的采矿权。",
        f"自治区级以上绿色矿山：目标3个（2030年12月31日前），现为0个，按进度应为{near(expect['green_mines'])}个（滞后）；"
        "台账中尚无国家级、自治区级绿色矿山。",
    ]
    implement = next(ph for ph in plan["phases"] if ph["key"] == "implement")
    batches = []
    for t in plan["tasks"]:
        share = _share(t.get("start") or implement["start"], t["deadline"], on)
        batches.append(
            f"{t['name']}：目标{t['target']}{t['measure']}{_due(t['deadline'])}，"
            f"尚未完成（按进度应完成{up(t['target'] * share)}{t['measure']}）"
        )
    assert any(t["target"] * _share(t.get("start") or implement["start"], t["deadline"], on) % 1 for t in plan["tasks"])

    def progress(plan_id: int) -> str:
        chat = progress_summary(session=session, plan_id=plan_id, as_of=as_of)
        return chat.message()

    assert progress(banner_plan_id) == (
        f"【{plan['short_name']} 任务进度】截至2027年1月1日\n"
        "一、总体目标\n"
        + "\n".join(targets)
        + "\n\n二、各批次\n"
        + "\n".join(batches)
        + "\n注：按进度应完成数按实施方案时间节点折算，不足一宗（个）的按一宗（个）计。"
    )

    # The region plan, its ledger not loaded: its targets have no deadline and no figure yet, the
    # first batch (盘活一批, due at the end of 2022) is not judged; its batches have no timeline.
    region = yaml.safe_load(REGION_PLAN.read_text(encoding="utf-8"))
    session.commit()  # end the read: the plan is loaded in a transaction of its own
    region_id = load_bundled_plan(engine, REGION_PLAN)
    assert progress(region_id) == (
        f"【{region['short_name']} 任务进度】截至2027年1月1日\n"
        "一、总体目标\n"
        f"停产矿山复工复产：目标{region['targets'][0]['value']}个，方案未定期限，台账尚未载入采矿权，现状暂无法计算；"
        f"实施方案基数停产矿山{region['baseline']['idle_mines']}个。\n"
        f"已设探矿权转采矿权：目标{region['targets'][1]['value']}个，方案未定期限，台账尚未载入探矿权，现状暂无法计算；"
        f"实施方案基数未转采探矿权{region['baseline']['unconverted_exploration']}个。\n"
        "2022年12月31日前盘活一批矿业权：台账尚未载入矿业权，现状暂无法计算；方案未定数量。\n"
        "\n二、各批次\n"
        + "\n".join(
            f"{t['name']}：目标{t['target']}{t['measure']}，台账尚未载入该批次矿业权，完成情况暂无法计算"
            for t in region["tasks"]
        )
    )
    # No plan file the parser accepts sets no target (a region plan has its first batch) or no
    # batch; the batches' sentence for none, whole.
    assert format_progress([]) == "本计划未设批次任务。"


def test_progress_of_a_plan_stored_without_targets_says_so(session: Session, banner_plan_id: int) -> None:
    """No plan file the parser accepts sets no target, but a plan row is the record /progress reads:
    one whose stored spec has lost its targets (edited past the domain) is told 本计划未设总体目标。
    under its heading, and its batches read as before."""
    from models import Plan
    from oversight.lookups import progress_summary

    plan = session.get(Plan, banner_plan_id)
    assert plan is not None and plan.spec and plan.spec["targets"]
    plan.spec = {**plan.spec, "targets": []}
    session.add(plan)
    session.commit()
    as_of = datetime(2027, 1, 1, 4, tzinfo=UTC)
    lines = progress_summary(session=session, plan_id=banner_plan_id, as_of=as_of).message().split("\n")
    assert lines[1:4] == ["一、总体目标", "本计划未设总体目标。", ""]
    assert lines[4] == "二、各批次" and len(lines) > 6


def _due(deadline: object) -> str:
    """（2028年12月31日前）: the batch's deadline as its line says it."""
    d = date.fromisoformat(str(deadline)[:10])
    return f"（{d.year}年{d.month}月{d.day}日前）"
