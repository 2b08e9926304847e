"""Agreed matters (议定事项) in chat: the office records one, the owner unit sees it in /todo and
reports it done with evidence; the office returns it once with a reason, then accepts it."""

from __future__ import annotations

from sqlmodel import col, select

from models import Attachment, AuditLog, Decision, Role, session_scope
from tests.harness import buttons, running_bot
from tests.test_bot_reports import PDF_BYTES


async def test_office_records_a_decision_and_the_owner_marks_it_done(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        office = await h.join(9601, "办公室丙", "旗政府办公室", Role.OFFICE)
        forest = await h.join(9602, "林草联络员", "林草局", Role.CONTACT)
        water = await h.join(9603, "水利联络员", "水利局", Role.CONTACT)
        start = await h.say(office, "/decision", "新建本次会议")
        ask = await h.press(office, start, "新建会议记录", "请发送议定事项内容")
        units = await h.say(office, "林草局于6月底前完成查干此老整合区征占用草原审批。", "请选择牵头单位")
        coop = await h.press(office, units, "林草局", "请选择配合单位")
        assert "林草局" not in buttons(coop)  # the lead unit is not offered as its own helper
        major = await h.press(office, coop, "无配合单位", "是否为重大议定事项")
        await h.press(office, major, "一般事项", "完成时限")
        bad = await h.say(office, "六月底", "不是有效日期")
        assert bad and ask
        saved = await h.say(office, "2027-01-29", "号议定事项")
        assert "旗林草局" in saved["text"] and "2027年1月29日" in saved["text"]
        card = await h.server.wait_for(forest.id, "【议定事项】")
        assert buttons(card) == ["报告完成（附佐证）"]
        todo = await h.say(forest, "/todo", "待办")
        assert "征占用草原审批" in todo["text"]
        # Another unit cannot report it, even with the token.
        from tests.harness import button_data

        own = await h.say(water, "/help", "可以使用")
        query = await water.press(own["message_id"], button_data(card, "报告完成"), check=False)
        answer = await h.server.wait_for_answer(query["id"])
        assert answer.get("show_alert")
        # The lead unit reports it done: evidence is required; the office returns it once, then accepts.
        await h.press(forest, card, "报告完成", "完成情况")
        await h.say(forest, "完成", "不少于4个字")
        await h.say(forest, "审批已于1月20日取得，批复文号见台账。", "待联席会议办公室验收")
        with session_scope(engine) as s:
            assert s.exec(select(Decision)).one().state == "submitted"  # not done before the office accepts
        check = await h.server.wait_for(office.id, "【议定事项待验收】")
        assert "批复文号见台账" in check["text"]
        await h.press(office, check, "退回", "退回理由")
        await h.say(office, "请上传批复扫描件。", "已退回")
        back = await h.server.wait_for(forest.id, "【议定事项被退回】")
        # The office's reason ends in its own full stop; the message does not add a second one.
        assert "退回，理由：请上传批复扫描件。请继续办理后重新报告。" in back["text"]
        query = await office.press(check["message_id"], button_data(check, "验收通过"), check=False)
        assert "没有待验收" in ((await h.server.wait_for_answer(query["id"]))["text"] or "")
        await h.press(forest, card, "报告完成", "完成情况")
        await forest.upload(PDF_BYTES, filename="批复.pdf", mime_type="application/pdf")
        await h.server.wait_for(forest.id, "已收到材料")
        await h.say(forest, "批复扫描件已附。", "待联席会议办公室验收")
        again = await h.server.wait_for(
            office.id, lambda m: "【议定事项待验收】" in m["text"] and "附材料1份" in m["text"]
        )
        await h.press(office, again, "验收通过", "该事项办结")
        await h.server.wait_for(forest.id, "【议定事项已验收】")
        contact_try = await h.say(forest, "/decision", "不能使用")
        assert contact_try
    forest_unit = h.unit("林草局").id
    with session_scope(engine) as s:
        d = s.exec(select(Decision)).one()
        assert d.state == "done" and d.owner_unit_id == forest_unit and d.done_at is not None
        (kept,) = s.exec(select(Attachment).where(Attachment.decision_id == d.id)).all()
        assert kept.filename == "批复.pdf" and "批复扫描件已附" in d.evidence_text
        actions = [
            a.action
            for a in s.exec(select(AuditLog).where(AuditLog.object_type == "decision").order_by(col(AuditLog.id))).all()
        ]
        assert actions == [
            "decision.recorded",
            "decision.submitted",
            "decision.returned",
            "decision.submitted",
            "decision.done",
        ]
