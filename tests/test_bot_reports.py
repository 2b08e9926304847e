"""/report and /ledger end to end: the real Application polling the local Bot API server."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import select
from telegram.ext import Application

from bot import texts
from bot.app import build_application
from bot.pacing import Pacer
from localbotapi.server import BotApiServer
from models import (
    Attachment,
    AuditLog,
    ChatState,
    Measure,
    Milestone,
    Report,
    Right,
    RightBatch,
    RightStatusEvent,
    Role,
    Task,
    Zone,
    session_scope,
)
from models.base import row_id
from oversight.attachments import PDF, XLSX
from oversight.ledger import HEADERS
from tests.harness import TOKEN, Harness, button_data, buttons, running_bot

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def measure_shown(engine: Engine, shown: str) -> None:
    """The line a saved 一矿一策 was answered with is its fact, recounted from the measure's milestones."""
    from oversight.reports import measure_saved
    from tests.chatfacts import assert_measure_saved

    with session_scope(engine) as s:
        (measure,) = s.exec(select(Measure)).all()
        chat = measure_saved(session=s, measure_id=row_id(measure), listed=True)
        assert shown == chat.message()
        assert_measure_saved(s, measure.right_id, True, chat.message(), chat.listed())


def files_shown(engine: Engine, user_id: int, flow: str, shown: str, line: str) -> None:
    """A file line the user was shown (the reply, or within the confirm message) is its fact over
    the files the conversation holds, recounted from its saved state and the attachment rows."""
    from oversight.attachments import files_kept, files_listed, files_received
    from tests.chatfacts import assert_files_facts, conversation_files

    with session_scope(engine) as s:
        ids = [i for i, _ in conversation_files(s, user_id, flow)]
        if line == "received":
            chat = files_received(session=s, attachment_ids=ids, flow={"flag": "problem"}.get(flow, flow))
        else:
            chat = (files_kept if line == "kept" else files_listed)(session=s, attachment_ids=ids)
        assert shown == chat.message() if line != "listed" else chat.message() in shown, (shown, chat.message())
        assert_files_facts(s, user_id, flow, chat.message(), chat.listed(), line=line)


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def seed_rights(engine: Engine, plan_id: int) -> dict[str, int]:
    """Two rights of zone 1 in the consolidation batch; returns code -> id."""
    with session_scope(engine) as s:
        zone = s.exec(select(Zone).where(Zone.plan_id == plan_id, Zone.seq == 1)).one()
        task = s.exec(select(Task).where(Task.plan_id == plan_id, Task.key == "consolidate")).one()
        ids = {}
        for code, name in (("C1500002010001", "常兴扎嘎乌苏铁矿一号"), ("C1500002010002", "常兴扎嘎乌苏铁矿二号")):
            right = Right(plan_id=plan_id, code=code, name=name, kind="mining", zone_id=zone.id)
            s.add(right)
            s.flush()
            s.add(RightBatch(right_id=right.id, task_id=task.id))
            ids[code] = right.id
    return ids


def counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return {
            model.__name__: len(s.exec(select(model)).all())
            for model in (Report, Attachment, RightStatusEvent, Right, Measure)
        }


async def _start_app(engine: Engine, server: BotApiServer) -> Application:
    # The Pacer without its one-second gap between two messages to one chat, as running_bot's
    # (tests/harness.py): this server does not enforce that limit, and with the gap the ten
    # replies of a half-filled report waited ten seconds (tests/test_pacing.py holds the gap).
    app = build_application(
        engine=engine,
        token=TOKEN,
        base_url=server.api_base,
        base_file_url=server.file_base,
        rate_limiter=Pacer(private_gap=0.0),
        outbox_poll_seconds=0.05,
    )
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1, drop_pending_updates=False)
    return app


async def _stop_app(app: Application) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


@asynccontextmanager
async def restartable_bot(engine: Engine, plan_id: int) -> AsyncIterator[Harness]:
    """Like running_bot, but `restart(h)` may swap the Application; the current one is stopped at the end."""
    async with BotApiServer() as server:
        h = Harness(server=server, app=await _start_app(engine, server), engine=engine, plan_id=plan_id)
        try:
            yield h
        finally:
            await _stop_app(h.app)


async def restart(h: Harness) -> None:
    """Stop the bot's Application and start a fresh one on the same database and server."""
    await _stop_app(h.app)
    h.app = await _start_app(h.engine, h.server)


async def test_contact_reports_through_buttons_with_pdf_moving_a_right(engine, banner_plan_id, settings_env):
    ids = seed_rights(engine, banner_plan_id)
    right_id = ids["C1500002010001"]
    async with running_bot(engine, banner_plan_id) as h:
        user = await h.join(5001, "自然资源联络员", "自然资源局", Role.CONTACT)
        msg = await h.say(user, "/report", "请选择要报送进展的批次")
        assert {"1. 强化整合重组一批", "2. 强化淘汰关闭一批"} <= set(buttons(msg))  # the unit's batches
        msg = await h.press(user, msg, "强化整合重组一批", "请选择报送对象")
        assert buttons(msg) == ["整合区", "按名称查找矿业权", "不指定"]
        msg = await h.press(user, msg, "按名称查找矿业权", "请输入矿业权名称")
        none = await h.say(user, "不存在的矿", "没有找到")
        assert "不存在的矿" in none["text"]
        msg = await h.say(user, "常兴扎嘎", "找到以下矿业权")
        assert len(buttons(msg)) == 2
        msg = await h.press(user, msg, "铁矿一号", "当前状态：未处置")

        # 一矿一策 in the same flow: a bad date is explained, a good one saves the milestone.
        await h.press(user, msg, "更新一矿一策", "一矿一策措施")
        bad = await h.say(user, "自然资源局牵头办理整合手续\n2026-02-30 完成储量核实", "不存在")
        assert "2026-02-30" in bad["text"]
        msg = await h.say(user, "自然资源局牵头办理整合手续\n2026-06-30 完成储量核实", "已更新一矿一策（1个节点）")
        measure_shown(engine, msg["text"].split("\n")[0])
        assert "牵头办理整合手续" in msg["text"] and "○ 2026年6月30日 完成储量核实" in msg["text"]
        msg = await h.press(user, msg, "完成节点：完成储量核实", "已确认节点")
        assert "✔ 2026年6月30日 完成储量核实" in msg["text"] and not any("完成节点" in b for b in buttons(msg))

        msg = await h.press(user, msg, "报送进展", "请输入本次进展内容")
        assert "常兴扎嘎乌苏铁矿一号" in msg["text"]
        msg = await h.say(user, "整合完成，已换发新采矿许可证 <b>", "是否已完成整合？")
        assert msg["text"].startswith("该矿业权（常兴扎嘎乌苏铁矿一号）是否已完成整合？") and "“已整合”" in msg["text"]
        msg = await h.press(user, msg, "是", "须上传佐证材料")
        await user.upload(PDF_BYTES, filename="整合批复.pdf", mime_type="application/pdf")
        msg = await h.server.wait_for(user.id, "已收到附件")
        assert msg["text"].startswith("已收到附件：整合批复.pdf。") and "共1个" not in msg["text"]
        files_shown(engine, user.id, "report", msg["text"], "received")
        msg = await h.press(user, msg, "完成上传", "请确认报送内容")
        files_shown(engine, user.id, "report", msg["text"], "listed")
        assert "已整合" in msg["text"] and "整合批复.pdf" in msg["text"] and "<b>" in msg["text"]
        assert "parse_mode" not in msg and not msg.get("entities")  # user text stays plain
        confirm = msg
        done = await h.press(user, msg, "确认提交", "已报送（")

        # Pressing 确认提交 again changes nothing and says what the first press did.
        before = counts(engine)
        query = await user.press(confirm, button_data(confirm, "确认提交"))
        answer = await h.server.wait_for_answer(query["id"])
        assert answer["text"].startswith("已提交（") and "无需重复提交" in answer["text"]
        assert counts(engine) == before

    with session_scope(engine) as s:
        report = s.exec(select(Report)).one()
        assert f"{report.id}号进展报送" in done["text"]
        assert report.right_id == right_id and report.quantity == 1 and report.text.endswith("<b>")
        attachment = s.exec(select(Attachment)).one()
        assert attachment.report_id == report.id and attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
        assert (settings_env.DATA_DIR / attachment.path).read_bytes() == PDF_BYTES
        event = s.exec(select(RightStatusEvent)).one()
        assert (event.right_id, event.to_status, event.report_id) == (right_id, "consolidated", report.id)
        assert s.get(Right, right_id).status == "consolidated"
        measure = s.exec(select(Measure)).one()
        milestone = s.exec(select(Milestone)).one()
        assert milestone.title == "完成储量核实" and milestone.done_at is not None and measure.right_id == right_id
        assert s.exec(select(ChatState)).all() == []


async def test_one_line_report_and_roles(engine, banner_plan_id, settings_env):
    async with running_bot(engine, banner_plan_id) as h:
        user = await h.join(5101, "应急联络员", "应急管理局", Role.CONTACT)
        reply = await h.say(user, "/report 本周完成2家矿山安全设施竣工验收", "已报送（")
        office = await h.join(5102, "办公室", "旗政府办公室", Role.OFFICE)
        refused = await h.say(office, "/report 办公室不报送", "不能使用")
        assert "/report" in refused["text"]
        unit_id = h.unit("应急管理局").id
    with session_scope(engine) as s:
        report = s.exec(select(Report)).one()
        task = s.get(Task, report.task_id)
        assert reply["text"].startswith(f"已报送（{report.id}号进展报送）")
        assert task.key == "consolidate" and report.text == "本周完成2家矿山安全设施竣工验收"
        assert report.unit_id == unit_id


async def test_half_filled_report_survives_a_restart(engine, banner_plan_id, settings_env):
    ids = seed_rights(engine, banner_plan_id)
    async with restartable_bot(engine, banner_plan_id) as h:
        user = await h.join(5201, "林草联络员", "林草局", Role.CONTACT)
        msg = await h.say(user, "/report", "请选择要报送进展的批次")
        assert not any("淘汰关闭" in b for b in buttons(msg))  # 林草局 has no part in 淘汰关闭
        msg = await h.press(user, msg, "强化整合重组一批", "请选择报送对象")
        msg = await h.press(user, msg, "整合区", "请选择整合区")
        assert len(buttons(msg)) == 19
        await h.press(user, msg, "常兴扎嘎乌苏铁矿", "请输入本次进展内容")

        await restart(h)

        msg = await h.say(user, "常兴扎嘎乌苏整合区林地手续已批复", "如需附件")
        # Wrong types are refused by content, whatever the name says.
        await user.upload(b"MZ\x90\x00\x03\x00\x00\x00", filename="setup.exe")
        refused = await h.server.wait_for(user.id, "类型不受支持")
        assert "PDF" in refused["text"] and "PNG" in refused["text"]
        await user.upload("这不是PDF文件".encode(), filename="批复.pdf", mime_type="application/pdf")
        await h.server.wait_for(user.id, "类型不受支持")
        await user.upload(b"%PDF-" + bytes(21 * 1024 * 1024), filename="全部材料.pdf")
        too_big = await h.server.wait_for(user.id, "过大")
        assert "20 MB" in too_big["text"] and "全部材料.pdf" in too_big["text"]
        await user.upload(png_bytes(), as_photo=True)
        msg = await h.server.wait_for(user.id, "已收到附件")
        msg = await h.press(user, msg, "完成上传", "请确认报送内容")
        assert "整合区 常兴扎嘎乌苏铁矿" in msg["text"] and "状态变更：无" in msg["text"]
        await h.press(user, msg, "确认提交", "已报送")
    with session_scope(engine) as s:
        report = s.exec(select(Report)).one()
        assert report.zone_id is not None and report.right_id is None and report.quantity == 0
        (attachment,) = s.exec(select(Attachment)).all()
        assert attachment.mime_type == "image/png" and attachment.report_id == report.id
        assert s.exec(select(RightStatusEvent)).all() == []
        assert all(s.get(Right, i).status == "baseline" for i in ids.values())


async def test_stale_and_forged_buttons_change_nothing(engine, banner_plan_id, settings_env):
    seed_rights(engine, banner_plan_id)
    async with running_bot(engine, banner_plan_id) as h:
        user = await h.join(5301, "自然资源联络员", "自然资源局", Role.CONTACT)
        tasks_msg = await h.say(user, "/report", "请选择要报送进展的批次")
        target = await h.press(user, tasks_msg, "强化整合重组一批", "请选择报送对象")
        before = counts(engine)
        step_before = _step(engine, user.id)

        forged = await user.press(target, "forged", check=False)
        assert (await h.server.wait_for_answer(forged["id"]))["text"] == texts.BUTTON_STALE
        old = await user.press(tasks_msg, button_data(tasks_msg, "强化整合重组一批"))  # an earlier step's button
        assert (await h.server.wait_for_answer(old["id"]))["text"] == texts.BUTTON_STALE  # one answer for both
        assert _step(engine, user.id) == step_before == "target"

        await h.say(user, "/cancel", "已取消")
        after_cancel = await user.press(target, button_data(target, "不指定"))
        assert "已过期" in (await h.server.wait_for_answer(after_cancel["id"]))["text"]
        # A new /report does not revive the buttons of the old one.
        await h.say(user, "/report", "请选择要报送进展的批次")
        again = await user.press(target, button_data(target, "不指定"))
        assert "已过期" in (await h.server.wait_for_answer(again["id"]))["text"]
        assert _step(engine, user.id) == "task"
        assert counts(engine) == before
    with session_scope(engine) as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "button.stale")).first() is not None


def _step(engine: Engine, user_id: int) -> str | None:
    with session_scope(engine) as s:
        state = s.exec(select(ChatState).where(ChatState.user_id == user_id)).first()
        return state.step if state else None


def ledger_xlsx(rows: list[dict[str, str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "矿业权台账"
    ws.append(["矿业权台账"])
    ws.append(list(HEADERS))
    for row in rows:
        ws.append([row.get(h, "") for h in HEADERS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD_ROW = {
    "矿业权编号": "C1500002020001",
    "矿业权名称": "新乌苏铁铜矿",
    "类型": "采矿权",
    "处置状态": "推进中",
    "所属批次": "强化整合重组一批",
    "责任单位": "旗自然资源局",
    "责任人": "张工",
}


async def test_ledger_bad_cell_then_good_file_and_scan(engine, banner_plan_id, settings_env):
    bad = ledger_xlsx(
        [GOOD_ROW, {**GOOD_ROW, "矿业权编号": "C1500002020002", "处置状态": "差不多了", "责任单位": "旗林草局"}]
    )
    async with running_bot(engine, banner_plan_id) as h:
        user = await h.join(5401, "自然资源联络员", "自然资源局", Role.CONTACT)
        await h.say(user, "/ledger", "台账电子版")
        before = counts(engine)
        await user.upload(bad, filename="台账.xlsx")
        errors = await h.server.wait_for(user.id, "共发现2处错误")  # the domain's message, as is
        assert "第4行 I列（处置状态）" in errors["text"] and "差不多了" in errors["text"]
        assert "第4行 K列（责任单位）" in errors["text"] and "只能提交本单位" in errors["text"]
        assert counts(engine) == before

        await user.upload(PDF_BYTES, filename="盖章扫描件.pdf")
        waiting = await h.server.wait_for(user.id, "已收到盖章扫描件")
        assert "还需要：台账电子版" in waiting["text"]
        await h.say(user, "好了吗", "请发送文件")
        await user.upload(ledger_xlsx([GOOD_ROW]), filename="台账.xlsx")
        done = await h.server.wait_for(user.id, "台账已合并")
        assert "：共1宗（新增1宗，处置状态变更1宗）。" in done["text"] and "0宗" not in done["text"]
        unit_id = h.unit("自然资源局").id
    with session_scope(engine) as s:
        right = s.exec(select(Right)).one()
        assert right.code == "C1500002020001" and right.status == "in_progress"
        assert right.unit_id == unit_id
        report = s.exec(select(Report)).one()
        assert report.kind == "ledger" and f"台账已合并（{report.id}号进展报送）：" in done["text"]
        files = s.exec(select(Attachment).where(Attachment.report_id == report.id)).all()
        assert sorted(a.mime_type for a in files) == [PDF, XLSX]
        assert s.exec(select(ChatState)).all() == []


async def test_zone_leader_reports_on_a_zone_it_leads(engine, banner_plan_id, settings_env):
    from models import Report, Zone
    from oversight.members import assign_zone_leader

    async with running_bot(engine, banner_plan_id) as h:
        leader = await h.join(8801, "包联领导甲", "旗人民政府", "zone_leader")
        member_id = h.member(leader).id
        with session_scope(engine) as s:
            zones = s.exec(select(Zone).where(Zone.plan_id == banner_plan_id).order_by(Zone.seq)).all()
            for z in zones[:2]:
                assign_zone_leader(session=s, member_id=member_id, zone_id=z.id, actor="test")
            zone_name = zones[1].name
        tasks = await h.say(leader, "/report", "请选择要报送进展的批次")
        target = await h.press(leader, tasks, "强化整合重组一批", "请选择报送对象")
        picked = await h.press(leader, target, "整合区", "请选择整合区")
        assert zone_name in str(picked.get("reply_markup"))
        ask = await h.press(leader, picked, zone_name[:4], None)
        assert ask["text"]
        # Whatever menu follows, reach the text step and file it.
        if "报送进展" in str(ask.get("reply_markup")):
            ask = await h.press(leader, ask, "报送进展", "请输入本次进展内容")
        files = await h.say(leader, "包联领导现场调度，整合区两宗采矿权已完成协议签订。", None)
        while "确认提交" not in str(files.get("reply_markup")):
            label = "否" if "是" in list(buttons(files)) else "完成上传"
            files = await h.press(leader, files, label, None)
        done = await h.press(leader, files, "确认提交", "已报送")
        assert "号进展报送" in done["text"]
    with session_scope(engine) as s:
        report = s.exec(select(Report).where(Report.member_id == member_id)).one()
        assert report.zone_id == zones[1].id
