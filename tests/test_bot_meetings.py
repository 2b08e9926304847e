"""A joint meeting end to end through the real bot on the local Bot API server: the office
schedules it, the agenda is drafted from the record and edited, the notice is circulated to the
member units, units say who attends (or are excused), the meeting is marked held, its agreed
matters are recorded with cooperating units and the 重大 flag the supervision group follows.
Every refusal on the way (wrong role, wrong unit, stale button, bad date) answers in Chinese
and changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select

from models import AuditLog, Decision, Meeting, MeetingAttendance, Notice, Role, Unit, session_scope, utcnow
from oversight import convening as C
from oversight.dates import cn_datetime, local_zone
from tests.harness import button_data, buttons, running_bot
from tests.pdfcheck import Document, Expect, check_pdf
from tests.seed_quarter import CONTACT_UNITS, seed_quarter
from tests.test_bot_briefs import pdf_text, worker

OFFICE, OFFICE_B, CONVENER, SUPERVISOR = 9101, 9102, 9001, 9301
CONTACT = {key: 9200 + i for i, key in enumerate(CONTACT_UNITS)}


async def answer(h, user, message: dict, label: str) -> str:
    """Press a button expecting a refusal: the text shown on the button (the alert)."""
    query = await user.press(message["message_id"], button_data(message, label), check=False)
    return (await h.server.wait_for_answer(query["id"]))["text"] or ""


def when_text(days: int, clock: str = "9:30") -> tuple[str, datetime]:
    day = datetime.now(local_zone()) + timedelta(days=days)
    return f"{day.year}年{day.month}月{day.day}日 {clock}", day


def audit_actions(engine, meeting_id: int) -> list[str]:
    with session_scope(engine) as s:
        rows = s.exec(
            select(AuditLog)
            .where(AuditLog.object_type == "meeting", AuditLog.object_id == str(meeting_id))
            .order_by(AuditLog.id)
        ).all()
        return [r.action for r in rows]


def card_facts(engine, meeting_id: int, shown: str) -> None:
    """The card the office was shown is the meeting's facts, each resting on the record."""
    from tests.chatfacts import assert_meeting_facts

    with session_scope(engine) as s:
        meeting = s.get(Meeting, meeting_id)
        assert meeting is not None
        chat = C.meeting_card(session=s, meeting=meeting)
        assert shown == chat.message()
        assert_meeting_facts(s, meeting_id, chat.message(), chat.listed())


def prompt_facts(engine, meeting_id: int, office, shown: str) -> None:
    """The question the office was asked before circulating is its facts, recounted from the record."""
    from tests.chatfacts import assert_circulation_prompt

    with session_scope(engine) as s:
        chat = C.circulation_prompt(session=s, actor=office, meeting_id=meeting_id)
        assert shown == chat.message()
        assert_circulation_prompt(s, meeting_id, chat.message(), chat.listed())


def circulation_facts(engine, meeting_id: int, shown: str) -> None:
    """The office's reply after circulating is its facts, recounted from the record."""
    from tests.chatfacts import assert_circulation_facts

    with session_scope(engine) as s:
        chat = C.circulation_facts(session=s, meeting_id=meeting_id)
        assert shown == chat.message()
        assert_circulation_facts(s, meeting_id, chat.message(), chat.listed())


def minutes_shown(engine, meeting_id: int, caption: str) -> None:
    """The minutes' caption as sent is its fact, recounted from the meeting's agreed matters."""
    from tests.chatfacts import assert_minutes_caption

    with session_scope(engine) as s:
        row = s.get(Meeting, meeting_id)
        assert row is not None
        chat = C.minutes_caption(
            session=s, meeting_id=meeting_id, title=f"{row.title}纪要", number=f"第{row.minutes_no}期"
        )
        assert caption == chat.message()
        assert_minutes_caption(s, meeting_id, chat.message(), chat.listed())


def meeting_row(engine) -> Meeting:
    with session_scope(engine) as s:
        # The meeting scheduled in chat (the seed's two were recorded without a time).
        return s.exec(select(Meeting).where(col(Meeting.starts_at).is_not(None))).one()


async def test_scheduled_circulated_attended_held_agreed_and_minuted(settings_env, engine, banner_plan_id):
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)
        today = datetime.now(local_zone()).date()
        # What the agenda must list, from the record: the open agreed matters past their deadline
        # and the published notice's named units.
        late = [
            d.id
            for d in s.exec(select(Decision).where(Decision.state == "open")).all()
            if d.due_on is not None and d.due_on < today
        ]
        notice = s.exec(select(Notice).where(Notice.state == "published")).one()
        assert late and notice.doc_no
    async with running_bot(engine, banner_plan_id) as h:
        office, supervisor = h.server.user(OFFICE, "办公室李"), h.server.user(SUPERVISOR, "督导组赵")
        h.server.user(OFFICE_B, "办公室张"), h.server.user(CONVENER, "王副旗长")
        contacts = {key: h.server.user(tg, f"{key}联络员") for key, tg in CONTACT.items()}
        for other in (9401, 9501, 9502):
            h.server.user(other, "成员")

        # Wrong role: a contact has no /meeting; the office may not call an ad-hoc meeting.
        await h.say(contacts["forestry"], "/meeting", "不能使用 /meeting")
        start = await h.say(office, "/meeting", "请选择要安排的会议")
        assert "须由召集人决定" in await answer(h, office, start, "临时加开会议")
        # Bad dates, each answered and nothing stored.
        ask = await h.press(office, start, "安排季度例会", "请发送会议日期和时间")
        assert "北京时间" in ask["text"]
        await h.say(office, "下周二上午", "不是有效日期")
        await h.say(office, "12月40日 9:00", "没有12月40日这一天")
        past, _ = when_text(-1)
        await h.say(office, past, "须晚于现在")
        await h.say(office, when_text(3, "")[0], "请同时写明时间")
        with session_scope(engine) as s:
            assert s.exec(select(Meeting).where(Meeting.state == "scheduled")).all() == []

        text, day = when_text(3, "下午3点")
        card = await h.say(office, text, "议程（据系统记录生成")
        title = C.quarter_title(day.date())
        assert f"{day.year}年{day.month}月{day.day}日 15:00 {title}" in card["text"]
        for did in late:
            assert f"逾期未办结：{did}号议定事项（" in card["text"]
        assert f"通报整改：{notice.doc_no}点名" in card["text"]
        assert buttons(card) == ["添加议题", "删除议题", "改期", "取消会议", "下发会议通知"]
        m = meeting_row(engine)
        assert m.state == "scheduled" and m.starts_at is not None
        assert m.starts_at.astimezone(local_zone()).hour == 15
        assert {i["ref"] for i in m.agenda} >= {f"decision:{d}" for d in late} | {f"notice:{notice.id}"}
        drafted = len(m.agenda)

        # The office edits the agenda: adds an item of its own, refuses a bad number, drops item 1.
        await h.press(office, card, "添加议题", "请发送要添加的议题")
        added = await h.say(office, "听取各成员单位四季度工作进展汇报", "听取各成员单位四季度工作进展汇报")
        await h.press(office, added, "删除议题", "请发送要删除的议题序号")
        await h.say(office, str(drafted + 5), f"（1–{drafted + 1}）")
        first = meeting_row(engine).agenda[0]["text"]
        edited = await h.say(office, "1", "议程")
        assert first not in edited["text"]
        m = meeting_row(engine)
        assert len(m.agenda) == drafted and m.agenda[-1] == {"text": "听取各成员单位四季度工作进展汇报", "ref": ""}

        # Circulation asks first, then sends each member unit's contacts the notice with its buttons.
        ask = await h.press(office, edited, "下发会议通知", "确认下发")
        assert f"个成员单位的{len(CONTACT)}名联络员" in ask["text"]
        prompt_facts(engine, m.id, h.member(office), ask["text"])
        done = await h.press(office, ask, "确认下发", "已向")
        circulation_facts(engine, m.id, done["text"])
        assert f"{len(CONTACT)}名联络员下发会议通知，共{len(CONTACT)}条。" in done["text"]
        notices = {key: await h.server.wait_for(tg, "【会议通知】", timeout=60) for key, tg in CONTACT.items()}
        assert "听取各成员单位四季度工作进展汇报" in notices["forestry"]["text"]
        assert buttons(notices["forestry"]) == ["确认参会（报参会人员）", "请假"]
        for chat in (CONVENER, SUPERVISOR, OFFICE_B):
            assert not any("【会议通知】" in (x.get("text") or "") for x in h.server.messages(chat))
        # Stale: the agenda cannot be changed once circulated (the old card's button).
        assert "议程不能再修改" in await answer(h, office, edited, "添加议题")
        assert len(meeting_row(engine).agenda) == drafted
        # 改期 after circulation: a bad time refused, then every member unit is told the new time.
        card = await h.say(office, "/meeting", "请选择要安排的会议")
        opened = await h.press(office, card, title, "参会确认")
        await h.press(office, opened, "改期", "请发送新的会议日期和时间")
        await h.say(office, "后天下午", "不是有效日期")
        moved_to, moved_day = when_text(4, "16:00")
        await h.say(office, moved_to, "已改期，并已通知各成员单位联络员")
        moved = await h.server.wait_for(CONTACT["forestry"], "【会议改期】", timeout=30)
        assert f"{moved_day.month}月{moved_day.day}日 16:00召开" in moved["text"]
        assert buttons(moved) == ["确认参会（报参会人员）", "请假"]
        title = C.quarter_title(moved_day.date())
        assert meeting_row(engine).starts_at.astimezone(local_zone()).hour == 16

        # Attendance: a name too short is refused; the unit names its person; another is excused.
        forestry, water = contacts["forestry"], contacts["water"]
        await h.press(forestry, notices["forestry"], "确认参会", "请发送贵单位参会人员姓名")
        await h.say(forestry, "张", "须为2–40个字")
        saved = await h.say(forestry, "张林 副局长", "已报")
        assert "张林 副局长" in saved["text"]
        told = await h.server.wait_for(OFFICE, "【参会确认】")
        assert "：旗林草局的张林 副局长参会。" in told["text"]
        await h.press(water, notices["water"], "请假", "请假")
        # The office is told of the excuse through the outbox; wait for it, or it may arrive while
        # the next step waits for the meeting card, which also reads 参会确认.
        await h.server.wait_for(OFFICE, "旗水利局请假", timeout=30)
        # Wrong unit: the water contact's button pressed by the forestry contact is refused.
        assert "该按钮不是发给您的" in await answer(h, forestry, notices["water"], "请假")
        with session_scope(engine) as s:
            rows = {a.unit_id: (a.state, a.attendee) for a in s.exec(select(MeetingAttendance)).all()}
        assert rows == {h.unit("林草局").id: ("attend", "张林 副局长"), h.unit("水利局").id: ("excused", "")}

        # Held: not before its time.
        card = await h.say(office, "/meeting", "请选择要安排的会议")
        opened = await h.press(office, card, title, "参会确认")
        assert "出席1个单位：旗林草局的张林 副局长" in opened["text"] and "请假1个单位：旗水利局" in opened["text"]
        card_facts(engine, m.id, opened["text"])
        assert "时间未到" in await answer(h, office, opened, "会议已召开")
        # The meeting's time comes (the stored time is moved to a minute ago: the test has no clock).
        with session_scope(engine) as s:
            row = s.get(Meeting, m.id)
            row.starts_at = utcnow() - timedelta(minutes=1)
            s.add(row)
        assert "已召开或已开始" in await answer(h, contacts["natres"], notices["natres"], "确认参会")
        held = await h.press(office, opened, "会议已召开", "请用 /decision 记录")
        assert "尚未记录议定事项。" in held["text"] and "议定事项0项" not in held["text"]
        card_facts(engine, m.id, held["text"])

        # Its agreed matter: lead unit, two cooperating units, 重大, a deadline in Chinese.
        start = await h.say(office, "/decision", "请选择议定事项所属的会议")
        await h.press(office, start, title, "请发送议定事项内容")
        units = await h.say(office, "林草局牵头于2027年3月底前完成查干此老整合区征占用草原审批。", "请选择牵头单位")
        coop = await h.press(office, units, "林草局", "请选择配合单位")
        coop = await h.press(office, coop, "水利局", "已选：旗水利局")
        coop = await h.press(office, coop, "自然资源局", "已选：旗自然资源局、旗水利局")  # in the plan's order
        coop = await h.press(office, coop, "水利局", "已选：旗自然资源局")  # pressed again: taken off
        coop = await h.press(office, coop, "水利局", "已选：旗自然资源局、旗水利局")
        major = await h.press(office, coop, "选好了", "是否为重大议定事项")
        await h.press(office, major, "重大事项", "完成时限")
        saved = await h.say(office, "2027年3月31日", "号议定事项")
        assert "重大事项" in saved["text"] and "配合单位：旗自然资源局、旗水利局" in saved["text"]
        card = await h.server.wait_for(CONTACT["forestry"], "【议定事项】")
        assert "配合单位：旗自然资源局、旗水利局" in card["text"] and "重大" in card["text"]
        await h.server.wait_for(CONTACT["water"], "【配合办理】")
        await h.server.wait_for(CONTACT["natres"], "【配合办理】")
        follow = await h.server.wait_for(SUPERVISOR, "【重大议定事项】")
        assert "请联合督导组跟踪督办" in follow["text"]
        helpers = [h.unit("自然资源局").id, h.unit("水利局").id]
        with session_scope(engine) as s:
            d = s.exec(select(Decision).where(Decision.meeting_id == m.id)).one()
            assert d.major and d.cooperating_unit_ids == helpers
        todo = await h.say(supervisor, "/todo", "重大议定事项")
        assert f"{d.id}号议定事项" in todo["text"].split("【联合督导组跟踪的重大议定事项】")[1]
        # The lead unit reports it done: the supervision group is told of the change.
        await h.press(forestry, card, "报告完成", "完成情况")
        await h.say(forestry, "审批已取得，批复文号见台账。", "待联席会议办公室验收")
        change = await h.server.wait_for(SUPERVISOR, "【重大议定事项动态】")
        assert "报告已完成" in change["text"]
        todo = await h.say(supervisor, "/todo", "重大议定事项")
        assert "已报完成待验收" in todo["text"]

        # The 会议纪要: the office asks for it, the worker writes it (PDF and Word) and sends it.
        card = await h.say(office, "/meeting", "请选择要安排的会议")
        opened = await h.press(office, card, title, "议定事项1项：")
        card_facts(engine, m.id, opened["text"])
        await h.press(office, opened, "印发会议纪要", "已开始印发会议纪要")
        async with worker(engine):
            doc = await h.server.wait_for(OFFICE, lambda x: x.get("document") is not None, timeout=60)
        assert doc["document"]["file_name"] == f"{title}纪要.pdf"
        assert doc["caption"].startswith(f"【会议纪要】{title}纪要（第1期），议定事项1项")
        minutes_shown(engine, m.id, doc["caption"])
        text = pdf_text(h, doc["document"])
        for fact in (
            f"{title}纪要",
            "第1期",
            # the stored time (the test moved it to a minute before it was marked held)
            cn_datetime(meeting_row(engine).starts_at).replace(" ", "") + f"，{title}召开。",
            f"会议议程共{drafted}项，形成议定事项1项。",
            "听取各成员单位四季度工作进展汇报",
            "林草局牵头于2027年3月底前完成查干此老整合区征占用草原审批。",
            "由旗林草局牵头，旗自然资源局、旗水利局配合，2027年3月31日前完成。",
            "本事项为重大事项，由联合督导组跟踪督办。",
            "确认参会：旗林草局的张林副局长",
            "请假：旗水利局",
            "未报参会：",
            "乌拉特中旗非煤矿山资源整合、增储上产工作联席会议办公室",  # the 印发机关 (B8: once 旗政府办公室)
        ):
            assert fact in text, fact
        assert first not in text  # the dropped item is not on the circulated agenda
        # The official layout (GB/T 9704 10.3), checked from the PDF the office received.
        pdf = Document(h.server.file_bytes(doc["document"]["file_id"]))
        expect = Expect(
            kind="minutes",
            doc_number="第1期",
            printed_by="乌拉特中旗非煤矿山资源整合、增储上产工作联席会议办公室",
            title=f"{title}纪要",
        )
        assert [str(v) for v in check_pdf(pdf, expect)] == []
        await h.drain_outbox(timeout=30)
        for chat in (OFFICE, OFFICE_B, CONVENER, SUPERVISOR, *CONTACT.values()):
            names = [d["file_name"] for d in h.server.documents(chat)]
            assert f"{title}纪要.pdf" in names and f"{title}纪要.docx" in names, chat
        # Stale: the card's button once the minutes went out; no agreed matter added after them.
        assert "该按钮已失效" in await answer(h, office, opened, "印发会议纪要")
        again = await h.say(office, "/meeting", "请选择要安排的会议")
        assert title not in "".join(buttons(again))  # a minuted meeting is no longer listed
        start = await h.say(office, "/decision", "请选择议定事项所属的会议")
        assert "纪要已印发" in await answer(h, office, start, title)
    with session_scope(engine) as s:
        units = {u.id for u in s.exec(select(Unit)).all()}
        att = C.attendance_of(session=s, meeting_id=m.id)
        assert {r["unit_id"] for r in att} <= units
        assert [r["state"] for r in att if r["unit"] == "旗林草局"] == ["attend"]
        assert sum(r["state"] == "none" for r in att) == len(att) - 2
        member_count = len(C.member_units(session=s, plan_id=banner_plan_id))
    assert member_count == len(att)
    assert audit_actions(engine, m.id) == [
        "meeting.scheduled",
        "meeting.agenda_added",
        "meeting.agenda_dropped",
        "meeting.circulated",
        "meeting.rescheduled",
        "meeting.attendance",
        "meeting.attendance",
        "meeting.held",
        "meeting.minutes_requested",
        "meeting.minuted",
    ]
    with session_scope(engine) as s:
        row = s.get(Meeting, m.id)
        assert row.state == "minuted" and row.minutes_no == 1 and row.minutes_path.endswith(".pdf")


async def test_no_agreed_matter_before_the_meeting_is_held(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        office = await h.join(9601, "办公室丙", "旗政府办公室", Role.OFFICE)
        start = await h.say(office, "/meeting", "请选择要安排的会议")
        await h.press(office, start, "安排季度例会", "请发送会议日期和时间")
        text, _ = when_text(2)
        await h.say(office, text, "议程")
        start = await h.say(office, "/decision", "请选择议定事项所属的会议")
        label = next(b for b in buttons(start) if "联席会议" in b and "新建" not in b)
        assert "会议尚未召开" in await answer(h, office, start, label)
        with session_scope(engine) as s:
            assert s.exec(select(Decision)).all() == []


async def test_a_circulated_meeting_called_off_with_a_reason(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        office = await h.join(9601, "办公室丙", "旗政府办公室", Role.OFFICE)
        forestry = await h.join(9602, "林草联络员", "林草局", Role.CONTACT)
        start = await h.say(office, "/meeting", "请选择要安排的会议")
        await h.press(office, start, "安排季度例会", "请发送会议日期和时间")
        card = await h.say(office, when_text(2)[0], "议程")
        await h.press(office, card, "添加议题", "请发送要添加的议题")
        card = await h.say(office, "听取工作进展汇报", "听取工作进展汇报")
        ask = await h.press(office, card, "下发会议通知", "确认下发")
        await h.press(office, ask, "确认下发", "已向1个成员单位的1名联络员下发会议通知，共1条。")
        notice = await h.server.wait_for(forestry.id, "【会议通知】")
        opened = await h.server.wait_for(office.id, "参会确认")
        await h.press(office, opened, "取消会议", "请发送取消原因")
        await h.say(office, "有事", "须为4–200个字")
        m = meeting_row(engine)
        assert m.state == "circulated"
        await h.say(office, "召集人另有公务，另行通知", "已通知各成员单位联络员")
        told = await h.server.wait_for(forestry.id, "【会议取消】")
        assert "召集人另有公务，另行通知" in told["text"]
        assert "该会议已取消" in await answer(h, forestry, notice, "确认参会")
        start = await h.say(office, "/decision", "请选择议定事项所属的会议")
        label = next(b for b in buttons(start) if "联席会议" in b and "新建" not in b)
        assert "该会议已取消" in await answer(h, office, start, label)
        again = await h.say(office, "/meeting", "请选择要安排的会议")
        assert buttons(again) == ["安排季度例会", "临时加开会议"]  # a cancelled meeting is no longer listed
    with session_scope(engine) as s:
        assert s.exec(select(MeetingAttendance)).all() == [] and s.exec(select(Decision)).all() == []
    assert audit_actions(engine, m.id)[-1] == "meeting.cancelled"


async def test_a_notice_circulated_to_nobody_then_to_one_contact(engine, banner_plan_id):
    """On a new deployment the office alone circulates a meeting: the question and the reply say in
    words that no member unit has a contact in chat and no notice went out (never 0名 or 0条); the
    forestry contact joins and gets that notice; the next meeting reaches 1 unit's 1 contact and
    names every other member unit as having none."""
    async with running_bot(engine, banner_plan_id) as h:
        office = await h.join(9601, "办公室丙", "旗政府办公室", Role.OFFICE)

        async def circulate(days: int) -> tuple[int, dict, dict]:
            start = await h.say(office, "/meeting", "请选择要安排的会议")
            await h.press(office, start, "安排季度例会", "请发送会议日期和时间")
            card = await h.say(office, when_text(days)[0], "议程")
            await h.press(office, card, "添加议题", "请发送要添加的议题")
            card = await h.say(office, "听取工作进展汇报", "听取工作进展汇报")
            ask = await h.press(office, card, "下发会议通知", "确认下发")
            with session_scope(engine) as s:
                mid = s.exec(select(Meeting.id).where(Meeting.state == "scheduled")).one()
            prompt_facts(engine, mid, h.member(office), ask["text"])
            done = await h.press(office, ask, "确认下发", "会议通知")
            circulation_facts(engine, mid, done["text"])
            return mid, ask, done

        first, ask, done = await circulate(2)
        assert ask["text"].startswith("各成员单位目前都没有联络员加入，下发后没有人会收到会议通知")
        assert done["text"].startswith("会议通知未发给任何人：各成员单位目前都没有联络员加入。")
        assert "0名" not in ask["text"] + done["text"] and "0条" not in done["text"]
        assert "确认参会人员后" not in done["text"]  # no answer to wait for

        forestry = await h.join(9602, "林草联络员", "林草局", Role.CONTACT)
        await h.server.wait_for(forestry.id, "【会议通知】", after=0)  # the notice it missed, on joining
        circulation_facts(engine, first, done["text"])  # the reply still reads as the record then was

        _, ask, done = await circulate(5)
        assert ask["text"].startswith("将向1个成员单位的1名联络员下发会议通知和议程（共")
        assert done["text"].startswith("已向1个成员单位的1名联络员下发会议通知，共1条。")
        with session_scope(engine) as s:
            others = [u.name for u in C.member_units(session=s, plan_id=banner_plan_id) if u.name != "旗林草局"]
        assert others and f"{'、'.join(others)}目前没有联络员加入，未收到通知" in done["text"]
        assert "旗林草局目前" not in done["text"]


async def test_minutes_of_a_meeting_with_no_agreed_matter_say_so(engine, banner_plan_id):
    """A meeting held with no agreed matter recorded: its minutes go out with the caption
    会议未形成议定事项, never 议定事项0项, recounted from the record."""
    async with running_bot(engine, banner_plan_id) as h:
        office = await h.join(9601, "办公室丙", "旗政府办公室", Role.OFFICE)
        await h.join(9602, "林草联络员", "林草局", Role.CONTACT)
        start = await h.say(office, "/meeting", "请选择要安排的会议")
        await h.press(office, start, "安排季度例会", "请发送会议日期和时间")
        card = await h.say(office, when_text(2)[0], "议程")
        await h.press(office, card, "添加议题", "请发送要添加的议题")
        card = await h.say(office, "听取工作进展汇报", "听取工作进展汇报")
        ask = await h.press(office, card, "下发会议通知", "确认下发")
        opened = await h.press(office, ask, "确认下发", "参会确认")
        m = meeting_row(engine)
        with session_scope(engine) as s:
            row = s.get(Meeting, m.id)
            row.starts_at = utcnow() - timedelta(minutes=1)
            s.add(row)
        held = await h.press(office, opened, "会议已召开", "尚未记录议定事项。")
        await h.press(office, held, "印发会议纪要", "已开始印发会议纪要")
        async with worker(engine):
            doc = await h.server.wait_for(office.id, lambda x: x.get("document") is not None, timeout=60)
        assert doc["caption"].endswith("（第1期），会议未形成议定事项。") and "0项" not in doc["caption"]
        minutes_shown(engine, m.id, doc["caption"])
