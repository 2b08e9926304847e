"""Agreed matters (议定事项) in chat: the office records one, the owner unit sees it in /todo and
marks it done; the next brief reports its status."""

from __future__ import annotations

from sqlmodel import select

from models import AuditLog, Decision, Role, session_scope
from tests.harness import buttons, running_bot


async def test_office_records_a_decision_and_the_owner_marks_it_done(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        office = await h.join(9601, "办公室丙", "旗政府办公室", Role.OFFICE)
        forest = await h.join(9602, "林草联络员", "林草局", Role.CONTACT)
        water = await h.join(9603, "水利联络员", "水利局", Role.CONTACT)
        start = await h.say(office, "/decision", "新建本次会议")
        ask = await h.press(office, start, "新建会议记录", "请发送议定事项内容")
        units = await h.say(office, "林草局于6月底前完成查干此老整合区征占用草原审批。", "请选择责任单位")
        await h.press(office, units, "林草局", "完成时限")
        bad = await h.say(office, "六月底", "不是有效日期")
        assert bad and ask
        saved = await h.say(office, "2027-01-29", "已记录议定事项#")
        assert "旗林草局" in saved["text"] and "2027年1月29日" in saved["text"]
        card = await h.server.wait_for(forest.id, "【议定事项】")
        assert buttons(card) == ["标记完成"]
        todo = await h.say(forest, "/todo", "待办")
        assert "征占用草原审批" in todo["text"]
        # Another unit cannot mark it done, even with the token.
        from tests.harness import button_data

        own = await h.say(water, "/help", "可以使用")
        query = await water.press(own["message_id"], button_data(card, "标记完成"), check=False)
        answer = await h.server.wait_for_answer(query["id"])
        assert answer.get("show_alert")
        done = await h.press(forest, card, "标记完成", "已标记完成")
        assert done
        contact_try = await h.say(forest, "/decision", "不能使用")
        assert contact_try
    forest_unit = h.unit("林草局").id
    with session_scope(engine) as s:
        d = s.exec(select(Decision)).one()
        assert d.state == "done" and d.owner_unit_id == forest_unit and d.done_at is not None
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.object_type == "decision")).all()]
        assert actions == ["decision.recorded", "decision.done"]
