"""Problems in chat, end to end over HTTP through the local Bot API server."""

from __future__ import annotations

from sqlmodel import select

from models import Problem, ProblemEvent, ProblemState, Role, session_scope
from tests.harness import buttons, running_bot
from tests.test_bot_reports import files_shown


async def _flag_forest_blocker(h, raiser) -> int:
    await h.say(raiser, "/flag", "请描述问题")
    groups = await h.say(raiser, "查干此老金矿整合区用草审批卡在林草征占用手续，需林草局办理。", "请选择问题类别")
    cats = await h.press(raiser, groups, "手续审批", "请选择具体类别")
    subject = await h.press(raiser, cats, "林草征占用", "涉及")
    zones = await h.press(raiser, subject, "选择整合区", "请选择整合区")
    owner = await h.press(raiser, zones, "查干此老", "建议由")
    # Seed 000 四 gives 征占用草原、林地的审批 to 林草局: the suggestion says it is by the duties.
    assert "按职责分工，建议由【旗林草局】负责办理（林草征占用）。" in owner["text"], owner["text"]
    files = await h.press(raiser, owner, "确认由", "如有相关材料")
    confirm = await h.press(raiser, files, "不附材料", "请确认要提出的问题")
    assert "\n材料：无\n" in confirm["text"]  # no file: said in words, no count
    files_shown(h.engine, raiser.id, "flag", confirm["text"], "listed")
    done = await h.press(raiser, confirm, "确认提交", "号问题，已交办")
    return int(done["text"].split("已提交")[1].split("号问题")[0])


async def test_issue_scenario_invites_join_hand_back_and_forth_office_rules_resolve_confirm(engine, banner_plan_id):
    """The admin invites in chat; contacts of 自然资源局, 林草局 and 应急管理局 join; a 林草征占用
    blocker goes 林草局 → 自然资源局 → 林草局, the office rules it to 林草局, 林草局 resolves it,
    the raiser confirms — and the recorded chain is exactly that."""
    async with running_bot(engine, banner_plan_id) as h:
        admin = await h.join(5100, "管理员", "旗政府办公室", Role.ADMIN)
        codes = {}
        for unit, role in (
            ("应急管理局", "联络员"),
            ("林草局", "联络员"),
            ("自然资源局", "联络员"),
            ("旗政府办公室", "办公室"),
        ):
            reply = await h.say(admin, f"/invite {unit} {role}", "邀请码")
            codes[unit] = reply["text"].splitlines()[1].strip()
        people = {}
        for uid, (unit, name) in enumerate(
            (
                ("应急管理局", "应急联络员"),
                ("林草局", "林草联络员"),
                ("自然资源局", "自然资源联络员"),
                ("旗政府办公室", "办公室甲"),
            ),
            start=5101,
        ):
            people[unit] = h.server.user(uid, name)
            await h.say(people[unit], f"/start {codes[unit]}", "注册成功")
        raiser, forest, natres, office = (people[u] for u in ("应急管理局", "林草局", "自然资源局", "旗政府办公室"))

        pid = await _flag_forest_blocker(h, raiser)
        card = await h.server.wait_for(forest.id, "新问题待接收")
        pick = await h.press(forest, card, "转交", "转交给哪个单位")
        await h.press(forest, pick, "自然资源局", "理由")
        await h.say(forest, "用地手续未完成，应先由自然资源局办理用地预审。", "已转交")
        card2 = await h.server.wait_for(natres.id, "转交给贵单位")
        pick = await h.press(natres, card2, "转交", "转交给哪个单位")
        await h.press(natres, pick, "林草局", "理由")
        await h.say(natres, "用地预审已完成，征占用草原审批属林草局职责。", "已转交")
        # The office opens the problem and rules on it without waiting for a decline.
        view = await h.say(office, f"/problem {pid}", "转交")
        pick = await h.press(office, view, "裁定", "由哪个单位负责")
        await h.press(office, pick, "林草局", "理由")
        await h.say(office, "征占用草原审批属林草局法定职责。", "已裁定")
        ruled = await h.server.wait_for(forest.id, "办公室裁定由贵单位办理")
        await h.press(forest, ruled, "办结", "办结说明")
        await h.say(forest, "征占用草原审批已批复，批复文号 乌中林草〔2026〕12号。", "已办结")
        to_confirm = await h.server.wait_for(raiser.id, "请提出方确认")
        await h.press(raiser, to_confirm, "确认关闭", "已确认关闭")
        # Everyone involved was told along the way.
        await h.drain_outbox()
        assert any("已由提出方确认关闭" in m["text"] for m in h.server.messages(forest.id))
        assert any("裁定" in m["text"] for m in h.server.messages(natres.id))
        assert any("已由旗林草局联络员办结" in m["text"] for m in h.server.messages(raiser.id))
    forest_id, natres_id = h.unit("林草局").id, h.unit("自然资源局").id
    with session_scope(engine) as s:
        events = s.exec(select(ProblemEvent).where(ProblemEvent.problem_id == pid).order_by(ProblemEvent.id)).all()
        assert [e.kind for e in events] == [
            "raised",
            "assigned",
            "handed_over",
            "handed_over",
            "ruled",
            "accepted",
            "resolved",
            "confirmed",
        ]
        assert [(e.from_unit_id, e.to_unit_id) for e in events if e.kind == "handed_over"] == [
            (forest_id, natres_id),
            (natres_id, forest_id),
        ]
        assert all(e.reason for e in events if e.kind in ("handed_over", "ruled"))
        assert s.get(Problem, pid).state == ProblemState.CLOSED


async def test_forest_blocker_declined_then_ruled_resolved_confirmed(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        raiser = await h.join(5001, "应急联络员", "应急管理局", Role.CONTACT)
        forest = await h.join(5002, "林草联络员", "林草局", Role.CONTACT)
        natres = await h.join(5003, "自然资源联络员", "自然资源局", Role.CONTACT)
        office = await h.join(5004, "办公室甲", "旗政府办公室", Role.OFFICE)

        pid = await _flag_forest_blocker(h, raiser)
        card = await h.server.wait_for(forest.id, "新问题待接收")
        assert {"✅ 接收", "↪️ 转交", "⛔ 退回"} <= set(buttons(card))
        # 林草局 hands it to 自然资源局, with a reason.
        pick = await h.press(forest, card, "转交", "转交给哪个单位")
        ask = await h.press(forest, pick, "自然资源局", "理由")
        await h.say(forest, "用地手续未完成，应先由自然资源局办理用地预审。", "已转交")
        card2 = await h.server.wait_for(natres.id, "转交给贵单位")
        # 自然资源局 hands it back.
        pick = await h.press(natres, card2, "转交", "转交给哪个单位")
        await h.press(natres, pick, "林草局", "理由")
        await h.say(natres, "用地预审已完成，征占用草原审批属林草局职责。", "已转交")
        back = await h.server.wait_for(forest.id, "转交给贵单位")
        # 林草局 declines: the office must rule.
        await h.press(forest, back, "退回", "号问题的理由")
        await h.say(forest, "我局认为应由自然资源局牵头协调。", "待联席会议办公室裁定")
        to_rule = await h.server.wait_for(office.id, "待裁定")
        pick = await h.press(office, to_rule, "裁定", "由哪个单位负责")
        await h.press(office, pick, "林草局", "理由")
        await h.say(office, "征占用草原审批属林草局法定职责。", "已裁定")
        ruled = await h.server.wait_for(forest.id, "办公室裁定由贵单位办理")
        assert "🏁 办结" in buttons(ruled)
        # 林草局 resolves with evidence, the raiser confirms.
        await h.press(forest, ruled, "办结", "办结说明")
        await h.say(forest, "征占用草原审批已于今日批复，批复文号 乌中林草〔2026〕12号。", "已办结")
        to_confirm = await h.server.wait_for(raiser.id, "请提出方确认")
        await h.press(raiser, to_confirm, "确认关闭", "已确认关闭")
        history = await h.say(raiser, f"/problem {pid}", "提出")
        assert "裁定" in history["text"] and "确认关闭" in history["text"]
        assert ask  # the reason prompt named the unit

    forest_id, natres_id = h.unit("林草局").id, h.unit("自然资源局").id
    with session_scope(engine) as s:
        problem = s.get(Problem, pid)
        assert problem.state == ProblemState.CLOSED
        events = s.exec(select(ProblemEvent).where(ProblemEvent.problem_id == pid).order_by(ProblemEvent.id)).all()
        chain = [e.kind for e in events]
        assert chain == [
            "raised",
            "assigned",
            "handed_over",
            "handed_over",
            "declined",
            "ruled",
            "accepted",
            "resolved",
            "confirmed",
        ]
        handovers = [(e.from_unit_id, e.to_unit_id) for e in events if e.kind == "handed_over"]
        assert handovers == [(forest_id, natres_id), (natres_id, forest_id)]
        ruled_ev = next(e for e in events if e.kind == "ruled")
        assert ruled_ev.to_unit_id == forest_id and "法定职责" in ruled_ev.reason


async def test_contact_of_another_unit_cannot_press_the_owners_buttons(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        raiser = await h.join(6001, "应急联络员", "应急管理局", Role.CONTACT)
        forest = await h.join(6002, "林草联络员", "林草局", Role.CONTACT)
        pid = await _flag_forest_blocker(h, raiser)
        card = await h.server.wait_for(forest.id, "新问题待接收")
        # The raiser replays the owner's accept button in his own chat: the token is bound to the owner.
        from tests.harness import button_data

        data = button_data(card, "接收")
        own = h.server.last(raiser.id)
        query = await raiser.press(own["message_id"], data, check=False)
        answer = await h.server.wait_for_answer(query["id"])
        assert "不是发给您的" in (answer["text"] or "")
        # A forged token changes nothing either.
        query = await forest.press(card["message_id"], "forged-token", check=False)
        answer = await h.server.wait_for_answer(query["id"])
        assert "失效" in (answer["text"] or "")
    with session_scope(engine) as s:
        assert s.get(Problem, pid).state == ProblemState.ASSIGNED


async def test_todo_and_progress(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        raiser = await h.join(7001, "应急联络员", "应急管理局", Role.CONTACT)
        forest = await h.join(7002, "林草联络员", "林草局", Role.CONTACT)
        pid = await _flag_forest_blocker(h, raiser)
        todo = await h.say(forest, "/todo", "待办")
        assert f"🟢 {pid}号问题【待接收】林草征占用，" in todo["text"] and "#" not in todo["text"]
        progress = await h.say(forest, "/progress", "任务进度")
        assert "强化整合重组一批" in progress["text"] and "46" in progress["text"]
        batches = progress["text"].split("二、各批次")[1]
        # No ledger loaded: each batch says so, with no figure and no expectation.
        assert "强化整合重组一批：目标46宗（2028年12月31日前），台账尚未载入该批次矿业权，完成情况暂无法计算" in batches
        assert "按进度应完成" not in batches and "尚未完成" not in batches
        # Seed 000's seven targets first, each saying the ledger is not loaded yet (no figure, no 滞后).
        assert "一、总体目标" in progress["text"] and progress["text"].index("一、总体目标") < progress["text"].index(
            "二、各批次"
        )
        for line in (
            "减少采矿权：目标15宗",
            "减少探矿权：目标19宗",
            "消减矿业权：目标34个",
            "全旗矿山总数：目标控制在65个以内",
            "矿山复工达产：目标28个",
        ):
            assert line in progress["text"], line
        assert (
            "全旗矿山总数：目标控制在65个以内（2030年12月31日前），台账尚未载入采矿权，现状暂无法计算"
            in progress["text"]
        )
        assert "现为69" not in progress["text"] and "滞后" not in progress["text"].split("二、各批次")[0]
        assert (
            "大中型矿山占比（按生产规模）：目标不低于75%" in progress["text"]
            and "自治区级以上绿色矿山：目标3个" in progress["text"]
        )
