"""Chat that needs no training (issue 17): what an untrained contact or clerk meets, through the
real bot over HTTP on a real database."""

from __future__ import annotations

import re

from sqlmodel import col, select

from models import Attachment, InviteCode, Problem, Report, Role, session_scope
from tests.harness import button_data, buttons, running_bot
from tests.test_bot_reports import PDF_BYTES, files_shown, seed_rights


async def test_plain_words_get_the_members_own_menu_and_its_buttons_work(engine, banner_plan_id, settings_env):
    seed_rights(engine, banner_plan_id)
    async with running_bot(engine, banner_plan_id) as h:
        contact = await h.join(17001, "自然资源联络员", "自然资源局", Role.CONTACT)
        menu = await h.say(contact, "你好，请问怎么报送进展？", "您是想报送工作进展吗")
        labels = buttons(menu)
        assert labels[0] == "报送进展" and {"反映问题", "待办", "上报台账", "全部命令"} <= set(labels)
        assert "请先发送命令" not in menu["text"]
        tasks = await h.press(contact, menu, "报送进展", "请选择要报送进展的批次")
        assert "强化整合重组一批" in " ".join(buttons(tasks))

        # A problem in plain words: 反映问题 first. Words that ask nothing in particular: the menu.
        await h.say(contact, "/cancel", "已取消")
        menu = await h.say(contact, "林草那边卡住了，想反映一下", "您是想反映问题")
        assert buttons(menu)[0] == "反映问题"
        await h.press(contact, menu, "反映问题", "请描述问题")
        await h.say(contact, "/cancel", "已取消")
        menu = await h.say(contact, "早上好", "请点下面的按钮")
        assert buttons(menu)[0] == "报送进展"

        # The office's menu is the office's: no reporting, and its buttons are checked for the role.
        office = await h.join(17002, "办公室", "旗政府办公室", Role.OFFICE)
        omenu = await h.say(office, "在吗", "请点下面的按钮")
        assert "报送进展" not in buttons(omenu) and "通报草稿" in buttons(omenu)
        todo = await h.press(office, omenu, "待办", "逾期事项")
        assert "【各单位逾期事项】" in todo["text"]


async def test_a_file_sent_on_its_own_is_offered_as_a_progress_attachment(engine, banner_plan_id, settings_env):
    async with running_bot(engine, banner_plan_id) as h:
        contact = await h.join(17011, "应急联络员", "应急管理局", Role.CONTACT)
        await contact.upload(PDF_BYTES, filename="验收意见.pdf", mime_type="application/pdf")
        ask = await h.server.wait_for(contact.id, "要把这个文件作为进展附件报送吗")
        assert "验收意见.pdf" in ask["text"]
        tasks = await h.press(contact, ask, "是，报送进展", "请选择要报送进展的批次")
        assert "附件：验收意见.pdf" in tasks["text"]
        target = await h.press(contact, tasks, "强化整合重组一批", "请选择报送对象")
        await h.press(contact, target, "不指定", "请输入本次进展内容")
        files = await h.say(contact, "本周完成2家矿山安全设施竣工验收，验收意见附后。", "已带附件：验收意见.pdf。")
        files_shown(engine, contact.id, "report", files["text"], "kept")
        # A second file: counted with the first, both on the confirm line.
        await contact.upload(PDF_BYTES + b"\n", filename="验收照片.pdf", mime_type="application/pdf")
        more = await h.server.wait_for(contact.id, "已收到附件：验收照片.pdf（共2个）。")
        files_shown(engine, contact.id, "report", more["text"], "received")
        confirm = await h.press(contact, more, "完成上传", "请确认报送内容")
        assert "2个（验收意见.pdf、验收照片.pdf）" in confirm["text"]
        files_shown(engine, contact.id, "report", confirm["text"], "listed")
        await h.press(contact, confirm, "确认提交", "已报送（")

        # Declined: nothing filed, and it says so.
        await contact.upload(PDF_BYTES[:-1] + b" ", filename="草稿.pdf", mime_type="application/pdf")
        ask = await h.server.wait_for(contact.id, "要把这个文件作为进展附件报送吗")
        await h.press(contact, ask, "否", "文件“草稿.pdf”未报送")

        # Someone who does not report gets the menu, not a question about reporting.
        office = await h.join(17012, "办公室", "旗政府办公室", Role.OFFICE)
        await office.upload(PDF_BYTES, filename="会议纪要.pdf", mime_type="application/pdf")
        refused = await h.server.wait_for(office.id, "文件未保存")
        assert "报送进展" not in buttons(refused)
    with session_scope(engine) as s:
        report = s.exec(select(Report)).one()
        kept = s.exec(select(Attachment).where(Attachment.report_id == report.id)).all()
        assert [a.filename for a in kept] == ["验收意见.pdf", "验收照片.pdf"]
        assert len(s.exec(select(Attachment)).all()) == 3  # the declined one stays unlinked


async def test_one_line_report_says_where_it_went_and_help_names_both_forms(engine, banner_plan_id, settings_env):
    async with running_bot(engine, banner_plan_id) as h:
        contact = await h.join(17021, "应急联络员", "应急管理局", Role.CONTACT)
        done = await h.say(contact, "/report 本周完成2家矿山安全设施竣工验收", "已报送（")
        assert "批次：强化整合重组一批" in done["text"] and "对象：未指定" in done["text"]
        assert "只发送 /report" in done["text"]
        help_text = (await h.say(contact, "/help", "可以使用以下命令"))["text"]
        assert "/report 后直接写内容" in help_text and "直接用一句话" in help_text
        office = await h.join(17022, "办公室", "旗政府办公室", Role.OFFICE)
        assert "一行报送" not in (await h.say(office, "/help", "可以使用以下命令"))["text"]


async def test_contentless_report_and_problem_are_refused_with_an_example(engine, banner_plan_id, settings_env):
    async with running_bot(engine, banner_plan_id) as h:
        contact = await h.join(17031, "应急联络员", "应急管理局", Role.CONTACT)
        for empty in ("。", "好的。。", "啊啊啊啊啊啊！"):
            refused = await h.say(contact, f"/report {empty}", "过于简单")
            assert "例如" in refused["text"] and "标点不计" in refused["text"]
        target = await h.press(contact, await h.say(contact, "/report", "请选择"), "强化整合重组一批", "请选择报送对象")
        await h.press(contact, target, "不指定", "请输入本次进展内容")
        await h.say(contact, "……", "过于简单")
        await h.say(contact, "本周完成2家矿山安全设施竣工验收", "如需附件")  # the same step takes real text
        await h.say(contact, "/cancel", "已取消")
        await h.say(contact, "/flag", "请描述问题")
        await h.say(contact, "有问题", "问题描述过于简单")
        await h.say(contact, "某铁矿整合需林草局出具林地意见，已等待20个工作日。", "请选择问题类别")
    with session_scope(engine) as s:
        assert s.exec(select(Report)).all() == [] and s.exec(select(Problem)).all() == []


async def test_a_used_or_expired_invite_says_so_and_whom_to_ask(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        admin = await h.join(17041, "乌兰", "旗政府办公室", Role.ADMIN)
        made = await h.say(admin, "/invite 林草局 联络员", "邀请码")
        code = made["text"].splitlines()[1].strip()
        first = h.server.user(17042, "王林")
        await first.send(f"/start {code}")
        await h.server.wait_for(first.id, "注册成功")
        second = h.server.user(17043, "李四")
        await second.send(f"/start {code}")
        refusal = await h.server.wait_for(second.id, "已经使用过")
        assert (
            "只能使用一次" in refusal["text"]
            and "请向旗政府办公室的乌兰（生成此邀请码的管理员）索取" in refusal["text"]
        )
        assert "王林" not in refusal["text"]  # nothing about who used it
        stale = h.invite_code("林草局", Role.CONTACT)
        with session_scope(engine) as s:
            for row in s.exec(select(InviteCode).where(col(InviteCode.used_at).is_(None))).all():
                row.expires_at = row.created_at
                s.add(row)
        await second.send(f"/start {stale}")
        expired = await h.server.wait_for(second.id, "过期")
        assert "已经使用过" not in expired["text"] and "管理员（乌兰）" in expired["text"]


async def test_office_todo_has_one_heading_and_says_when_nothing_is_overdue(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        office = await h.join(17051, "办公室", "旗政府办公室", Role.OFFICE)
        todo = await h.say(office, "/todo", "逾期事项")
        assert todo["text"] == "【各单位逾期事项】\n没有逾期事项。"
        contact = await h.join(17052, "林草联络员", "林草局", Role.CONTACT)
        assert "旗林草局 待办" in (await h.say(contact, "/todo", "待办"))["text"]


LONG_REASON = (
    "该整合区征占用草原涉及三个嘎查的牧户意见，须先由自然资源局完成用地预审并征求苏木镇和牧户意见，我局方可受理。"
)


async def test_hand_offs_say_who_and_why_the_office_sees_the_chain_and_a_ruling_reads_as_one(engine, banner_plan_id):
    from tests.test_bot_problems import _flag_forest_blocker

    async with running_bot(engine, banner_plan_id) as h:
        raiser = await h.join(17061, "应急联络员", "应急管理局", Role.CONTACT)
        forest = await h.join(17062, "林草联络员", "林草局", Role.CONTACT)
        natres = await h.join(17063, "自然资源联络员", "自然资源局", Role.CONTACT)
        office = await h.join(17064, "李秀兰", "旗政府办公室", Role.OFFICE)
        pid = await _flag_forest_blocker(h, raiser)
        card = await h.server.wait_for(forest.id, "新问题待接收")
        pick = await h.press(forest, card, "转交", "转交给哪个单位")
        await h.press(forest, pick, "自然资源局", "理由")
        await h.say(forest, LONG_REASON, "已转交")
        handed = await h.server.wait_for(natres.id, "转交给贵单位")
        # Who handed it over, and the whole reason.
        assert handed["text"].startswith("【旗林草局转交给贵单位的问题待接收】")
        assert "转交人：旗林草局联络员\n" in handed["text"] and LONG_REASON in handed["text"]
        await h.press(natres, handed, "退回", "号问题的理由")
        await h.say(natres, "用地预审已完成，征占用草原审批属林草局职责。", "待联席会议办公室裁定")
        to_rule = await h.server.wait_for(office.id, "待裁定")
        # The office sees every step of the hand-off chain, each with its reason.
        chain = to_rule["text"].split("交办、转交和退回经过：\n", 1)[1].splitlines()
        steps = [line for line in chain if line[:1].isdigit()]
        assert len(steps) == 3 and "交办给旗林草局" in steps[0]
        assert "转交：旗林草局 → 旗自然资源局" in steps[1] and "退回（旗自然资源局）" in steps[2]
        assert LONG_REASON in to_rule["text"] and "属林草局职责" in to_rule["text"]

        pick = await h.press(office, to_rule, "裁定", "由哪个单位负责")
        await h.press(office, pick, "林草局", "理由")
        mark = h.server.mark()
        await h.say(office, "征占用草原审批属林草局法定职责。", "已裁定")
        judge = await h.server.wait_for(office.id, "如认为下列转交理由成立", after=mark)
        # Buttons are short and whole; the reason is in the message, in full.
        assert LONG_REASON in judge["text"] and "1. 旗林草局的转交理由：" in judge["text"]
        assert buttons(judge) == ["第1条（林草局）成立", "第1条不成立"]
        history = (await h.say(office, f"/problem {pid}", "办理经过"))["text"]
        # A ruling reads as a ruling: the office did not accept the problem.
        assert "旗政府办公室的李秀兰 裁定：由旗林草局办理（原为旗自然资源局）" in history
        assert "依联席会议办公室裁定，视为旗林草局接收" in history
        assert "旗政府办公室的李秀兰 接收" not in history


async def test_report_move_question_is_plain_chinese(engine, banner_plan_id, settings_env):
    seed_rights(engine, banner_plan_id)
    async with running_bot(engine, banner_plan_id) as h:
        contact = await h.join(17071, "自然资源联络员", "自然资源局", Role.CONTACT)
        msg = await h.say(contact, "/report", "请选择要报送进展的批次")
        msg = await h.press(contact, msg, "强化整合重组一批", "请选择报送对象")
        msg = await h.press(contact, msg, "按名称查找矿业权", "请输入矿业权名称")
        msg = await h.say(contact, "铁矿一号", "找到以下矿业权")
        msg = await h.press(contact, msg, "铁矿一号", "当前状态")
        await h.press(contact, msg, "报送进展", "请输入本次进展内容")
        ask = await h.say(contact, "整合完成，已换发新采矿许可证。", "是否已")
        assert ask["text"] == "该矿业权（常兴扎嘎乌苏铁矿一号）是否已完成整合？\n选“是”，其状态将改为“已整合”。"


async def test_weekly_reminder_names_the_command_and_the_deadline(engine, banner_plan_id):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from jobs.reminders import send_weekly_reminders
    from models import Member, Plan

    tz = ZoneInfo("Asia/Shanghai")
    async with running_bot(engine, banner_plan_id) as h:
        contact = await h.join(17081, "林草联络员", "林草局", Role.CONTACT)
        with session_scope(engine) as s:  # a contact, and a plan tracked, since before the weeks reminded of
            member = s.exec(select(Member).where(Member.telegram_user_id == contact.id)).one()
            member.joined_at = datetime(2026, 3, 2, 9, tzinfo=tz)
            s.get(Plan, banner_plan_id).tracking_since = date(2026, 3, 2)
        with session_scope(engine) as s:  # Monday 13 April 2026, for the week before
            send_weekly_reminders(session=s, period="2026-W15", now=datetime(2026, 4, 13, 9, tzinfo=tz))
        await h.drain_outbox()
        late = await h.server.wait_for(contact.id, "进展报送提醒")
        assert "2026年第15周（4月6日至4月12日）尚未报送工作进展" in late["text"]
        assert "该周已结束。本周（4月13日至4月19日）的进展请于4月19日（周日）24时前发送 /report" in late["text"]
        assert "/flag" in late["text"]
        with session_scope(engine) as s:  # run by hand on Friday for the running week
            send_weekly_reminders(session=s, period="2026-W16", now=datetime(2026, 4, 17, 15, tzinfo=tz))
        await h.drain_outbox()
        running = await h.server.wait_for(contact.id, "第16周")
        assert "请于4月19日（周日）24时前发送 /report" in running["text"] and "该周已结束" not in running["text"]
        # What it names works.
        await h.say(contact, "/report 本周完成征占用草原审批前期材料审核", "已报送（")


async def test_chat_texts_speak_the_users_terms(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        admin = await h.join(17091, "乌兰", "旗政府办公室", Role.ADMIN)
        refused = await h.say(admin, "/invite 不存在的局 联络员", "找不到单位")
        assert "lianxi" not in refused["text"] and "本计划的单位有：" in refused["text"]
        assert "林草局" in refused["text"]
        listing = await h.say(admin, "/notices", "通报")
        assert "工作进程" not in listing["text"]
    from bot import texts

    said = [v for v in vars(texts).values() if isinstance(v, str)]
    assert not [x for x in said if "工作进程" in x or "lianxi " in x or "adhoc" in x]


def cfb(stream: str, size: int = 4608) -> bytes:
    """A minimal compound file (OLE2, version 3) holding one stream: the binary Word 97-2003
    (WordDocument), Excel (Workbook) and WPS files are of this kind."""
    import struct

    end, free, fat_sect, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    sectors = size // 512
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
    header += struct.pack("<HHHHH6xIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, 0, 1, 1, 0, 4096, end, 0, end, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", free) * 108
    fat = [fat_sect, end] + [3 + i for i in range(sectors - 1)] + [end]
    fat_sector = struct.pack(f"<{len(fat)}I", *fat) + struct.pack("<I", free) * (128 - len(fat))

    def entry(name: str, kind: int, child: int, start: int, length: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBBIII", len(encoded), kind, 1, nostream, nostream, child)
            + bytes(16 + 4 + 16)
            + struct.pack("<IQ", start, length)
        )

    directory = entry("Root Entry", 5, 1, end, 0) + entry(stream, 2, nostream, 2, size)
    directory += entry("", 0, nostream, 0, 0) * 2
    return header + fat_sector + directory + bytes(size)


def zipped(members: dict[str, bytes], compression: int = 0) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def docx_bytes() -> bytes:
    import io

    from docx import Document

    doc = Document()
    doc.add_paragraph("关于矿业权整合工作的进展情况")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_office_formats_are_taken_by_their_content_and_lookalikes_are_refused():
    import zipfile

    from oversight.attachments import DOC, DOCX, OFD, WPS, XLS, ZIP, AttachmentRejectedError, check_file
    from tests.test_bot_reports import png_bytes

    assert check_file(data=docx_bytes(), filename="进展.docx") == DOCX
    assert check_file(data=cfb("WordDocument"), filename="进展.doc") == DOC
    assert check_file(data=cfb("WordDocument"), filename="进展.wps") == WPS
    assert check_file(data=cfb("Workbook"), filename="台账.xls") == XLS
    assert check_file(data=zipped({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<x/>"}), filename="a.ofd") == OFD
    scans = zipped({"扫描件/第1页.png": png_bytes(), "扫描件/第2页.pdf": PDF_BYTES})
    assert check_file(data=scans, filename="扫描件.zip") == ZIP
    refused = [
        (b"MZ\x90\x00" + bytes(600), "进展.docx"),  # an executable named as Word
        (cfb("Secret"), "进展.doc"),  # a compound file that is neither Word nor Excel
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "坏.doc"),  # a broken one
        (zipped({"扫描件.png": png_bytes(), "run.exe": b"MZ\x90\x00"}), "扫描件.zip"),  # not only scans
        (zipped({"a.pdf": b"%PDF-" + bytes(5_000_000)}, zipfile.ZIP_DEFLATED), "炸弹.zip"),  # 5 MB from a few KB
        (zipped({}), "空.zip"),
    ]
    for data, name in refused:
        try:
            check_file(data=data, filename=name)
        except AttachmentRejectedError as exc:
            assert "按文件内容判断" in exc.message and "Word" in exc.message
        else:
            raise AssertionError(f"{name} was taken")


async def test_a_contact_reports_with_word_wps_ofd_and_a_zip_of_scans(engine, banner_plan_id, settings_env):
    from tests.test_bot_reports import png_bytes

    files = [
        (docx_bytes(), "进展情况.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (cfb("WordDocument"), "批复.doc", "application/msword"),
        (cfb("WordDocument", 5120), "说明.wps", "application/octet-stream"),
        (cfb("Workbook"), "清单.xls", "application/vnd.ms-excel"),
        (zipped({"OFD.xml": b"<ofd:OFD/>"}), "批复.ofd", "application/octet-stream"),
        (zipped({"1.png": png_bytes(), "2.pdf": PDF_BYTES}), "扫描件.zip", "application/zip"),
    ]
    async with running_bot(engine, banner_plan_id) as h:
        contact = await h.join(17101, "应急联络员", "应急管理局", Role.CONTACT)
        target = await h.press(contact, await h.say(contact, "/report", "请选择"), "强化整合重组一批", "请选择报送对象")
        await h.press(contact, target, "不指定", "请输入本次进展内容")
        ask = await h.say(contact, "本周完成2家矿山安全设施竣工验收，材料附后。", "如需附件")
        assert "Word" in ask["text"] and "WPS" in ask["text"] and "OFD" in ask["text"]
        for n, (data, name, mime) in enumerate(files, 1):
            await contact.upload(data, filename=name, mime_type=mime)
            got = await h.server.wait_for(contact.id, "已收到附件")
            assert name in got["text"] and (f"共{n}个" in got["text"]) == (n > 1)
            files_shown(engine, contact.id, "report", got["text"], "received")
        await contact.upload(b"MZ\x90\x00" + bytes(600), filename="伪装.docx", mime_type=files[0][2])
        await h.server.wait_for(contact.id, "类型不受支持")
        confirm = await h.press(contact, got, "完成上传", "请确认报送内容")
        await h.press(contact, confirm, "确认提交", "已报送（")
    with session_scope(engine) as s:
        kept = s.exec(select(Attachment).where(col(Attachment.report_id).is_not(None))).all()
        assert sorted(a.filename for a in kept) == sorted(name for _, name, _ in files)


async def test_flag_in_groups_with_files_and_a_confirm_and_the_evidence_reaches_the_raiser(
    engine, banner_plan_id, settings_env
):
    async with running_bot(engine, banner_plan_id) as h:
        raiser = await h.join(17111, "应急联络员", "应急管理局", Role.CONTACT)
        office = await h.join(17112, "办公室", "旗政府办公室", Role.OFFICE)
        await h.say(raiser, "/flag", "请描述问题")
        groups = await h.say(raiser, "某铁矿股东对整合方案意见不一，已三次协调未果，需办公室组织协调。", "先选大类")
        assert buttons(groups) == ["手续审批", "企业自身原因", "市场", "基建技改", "其他"]
        cats = await h.press(raiser, groups, "其他", "其他：请选择具体类别")
        assert "其他问题" in buttons(cats) and "返回上一级" in buttons(cats)
        groups = await h.press(raiser, cats, "返回上一级", "先选大类")
        # A group of one category is that category.
        await h.press(raiser, groups, "市场", "类别：市场原因")
        await h.say(raiser, "/cancel", "已取消")

        await h.say(raiser, "/flag", "请描述问题")
        groups = await h.say(raiser, "某铁矿股东对整合方案意见不一，已三次协调未果，需办公室组织协调。", "先选大类")
        cats = await h.press(raiser, groups, "其他", "请选择具体类别")
        subject = await h.press(raiser, cats, "其他问题", "问题涉及哪个矿业权或整合区")
        owner = await h.press(raiser, subject, "不指定", "建议由")
        # The plan file, not seed 000 四, gives 其他问题 to the office: no 按职责分工 is claimed.
        assert "建议由【旗政府办公室】负责办理（其他问题）。" in owner["text"], owner["text"]
        assert "按职责分工" not in owner["text"], owner["text"]
        await h.press(raiser, owner, "确认由", "如有相关材料")
        await raiser.upload(docx_bytes(), filename="协调会记录.docx", mime_type="application/octet-stream")
        got = await h.server.wait_for(raiser.id, "已收到材料：协调会记录.docx。")
        files_shown(engine, raiser.id, "flag", got["text"], "received")
        confirm = await h.press(raiser, got, "完成上传", "请确认要提出的问题")
        files_shown(engine, raiser.id, "flag", confirm["text"], "listed")
        assert "类别：其他问题" in confirm["text"] and "协调会记录.docx" in confirm["text"]
        again = await h.press(raiser, confirm, "修改描述", "请重新发送问题描述")
        assert again
        confirm = await h.say(
            raiser, "某铁矿股东对整合方案意见不一，已协调三次未果，请办公室组织股东会协调。", "请确认"
        )
        assert "请办公室组织股东会协调" in confirm["text"]
        done = await h.press(raiser, confirm, "确认提交", "号问题，已交办")
        pid = int(done["text"].split("已提交")[1].split("号问题")[0])

        # The owner (the office) gets the card, naming the file, and the file itself.
        await h.drain_outbox()
        card = await h.server.wait_for(office.id, "新问题待接收")
        assert "提出方附材料1个：协调会记录.docx" in card["text"]
        assert [d["file_name"] for d in h.server.documents(office.id)] == ["协调会记录.docx"]
        accepted = await h.press(office, card, "接收", f"已接收{pid}号问题")
        await h.press(office, accepted, "办结", "办结说明")
        await office.upload(PDF_BYTES, filename="股东会决议.pdf", mime_type="application/pdf")
        await h.server.wait_for(office.id, "已收到材料")
        await h.say(office, "已组织召开股东会，形成整合决议，决议附后。", "已办结")
        await h.drain_outbox()
        # Evidence reaches the raiser as the file, not only its name.
        await h.server.wait_for(raiser.id, "请提出方确认")
        assert "股东会决议.pdf" in [d["file_name"] for d in h.server.documents(raiser.id)]

        # /problem N lists both files, each opened by its button.
        history = await h.say(raiser, f"/problem {pid}", "办理经过")
        assert "材料：协调会记录.docx（点下方按钮打开）" in history["text"]
        assert "材料：股东会决议.pdf（点下方按钮打开）" in history["text"]
        before = len(h.server.documents(raiser.id))
        query = await raiser.press(history, button_data(history, "打开：协调会记录.docx"))
        assert "正在发送" in (await h.server.wait_for_answer(query["id"]))["text"]
        await h.drain_outbox()
        opened = h.server.documents(raiser.id)
        assert len(opened) == before + 1 and opened[-1]["file_name"] == "协调会记录.docx"
        # Someone who may not view the problem cannot open its files.
        other = await h.join(17113, "林草联络员", "林草局", Role.CONTACT)
        refused = await h.say(other, f"/problem {pid}", "无权查看")
        assert not buttons(refused)


def prefilled_shown(engine, unit_id: int, start: str, caption: str, file_name: str) -> None:
    """The /ledger start line and the template's caption as sent are facts over the unit's rights."""
    from models import Unit
    from oversight.reports import prefilled_facts
    from tests.chatfacts import assert_ledger_prefilled

    with session_scope(engine) as s:
        unit = s.get(Unit, unit_id)
        assert unit is not None
        for kind, shown, values in (("start", start, {}), ("caption", caption, {"file": file_name})):
            say = prefilled_facts(session=s, plan_id=unit.plan_id, unit_id=unit_id, kind=kind, **values)
            assert shown == say.message(), (shown, say.message())
            assert_ledger_prefilled(s, unit_id, shown, say.listed())


async def test_ledger_offers_the_units_prefilled_template_and_takes_it_back(engine, banner_plan_id, settings_env):
    import io

    from openpyxl import load_workbook

    from models import Right

    async with running_bot(engine, banner_plan_id) as h:
        natres = h.unit("自然资源局")
        with session_scope(engine) as s:
            for code, name in (("C1500002017001", "本单位铁矿甲"), ("C1500002017002", "本单位萤石矿乙")):
                s.add(Right(plan_id=banner_plan_id, code=code, name=name, kind="mining", unit_id=natres.id))
            s.add(Right(plan_id=banner_plan_id, code="C1500002017009", name="他单位矿", kind="mining"))
        contact = await h.join(17121, "自然资源联络员", "自然资源局", Role.CONTACT)
        start = await h.say(contact, "/ledger", "台账模板随后发送")
        assert "已预填贵单位负责的2宗矿业权" in start["text"]
        await h.drain_outbox()
        docs = h.server.documents(contact.id)
        assert len(docs) == 1 and docs[0]["file_name"].endswith("矿业权台账.xlsx")
        (sent,) = [m for m in h.server.messages(contact.id) if "document" in m]
        prefilled_shown(engine, natres.id, start["text"].split("\n")[0], sent["caption"], docs[0]["file_name"])
        # A unit the system has no right on record for is told so, not 0宗.
        forestry = await h.join(17122, "林草联络员", "林草局", Role.CONTACT)
        empty = await h.say(forestry, "/ledger", "台账模板随后发送")
        await h.drain_outbox()
        (blank,) = [m for m in h.server.messages(forestry.id) if "document" in m]
        shown = empty["text"].split("\n")[0]
        prefilled_shown(engine, h.unit("林草局").id, shown, blank["caption"], blank["document"]["file_name"])
        assert "还没有登记由贵单位负责的矿业权" in empty["text"] and "0宗" not in blank["caption"]
        data = h.server.file_bytes(docs[0]["file_id"])
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
        cells = [[c.value for c in row] for row in sheet.iter_rows()]
        codes = {v for row in cells for v in row if isinstance(v, str) and v.startswith("C150000201700")}
        assert codes == {"C1500002017001", "C1500002017002"}  # its own rights, not the other unit's

        # Filled in and sent back as it came, with the stamped scan: merged.
        await contact.upload(data, filename=docs[0]["file_name"])
        await h.server.wait_for(contact.id, "台账电子版已通过校验")
        await contact.upload(PDF_BYTES, filename="盖章扫描件.pdf")
        done = await h.server.wait_for(contact.id, "台账已合并")
        assert "：共2宗（未变2宗）。" in done["text"]  # nothing else said of it: no 新增0宗
        # A Word file is no scan.
        await h.say(contact, "/ledger", "台账模板随后发送")
        await contact.upload(docx_bytes(), filename="扫描件.docx")
        refused = await h.server.wait_for(contact.id, "不是扫描件")
        assert "PDF、OFD、图片" in refused["text"]


async def test_a_long_paste_split_by_the_client_is_one_report(engine, banner_plan_id, settings_env):
    import asyncio

    sentence = "本周完成查干此老整合区3宗矿业权储量核实，形成核实报告并报送评审。"
    paste = (sentence * 200)[:5000]  # the client sends 4,096 and then the rest
    async with running_bot(engine, banner_plan_id) as h:
        contact = await h.join(17131, "应急联络员", "应急管理局", Role.CONTACT)
        target = await h.press(contact, await h.say(contact, "/report", "请选择"), "强化整合重组一批", "请选择报送对象")
        await h.press(contact, target, "不指定", "请输入本次进展内容")
        mark = h.server.mark()
        await contact.send(paste[:4096])
        await contact.send(paste[4096:])
        files = await h.server.wait_for(contact.id, "如需附件", after=mark, timeout=10)
        assert not [m for m in h.server.messages(contact.id) if "请点击上方消息中的按钮" in (m.get("text") or "")]
        confirm = await h.press(contact, files, "完成上传", lambda m: "确认提交" in str(m.get("reply_markup")))
        await h.press(contact, confirm, "确认提交", "已报送（")

        # One long part with nothing after it is taken alone once the moment has passed.
        target = await h.press(contact, await h.say(contact, "/report", "请选择"), "强化整合重组一批", "请选择报送对象")
        await h.press(contact, target, "不指定", "请输入本次进展内容")
        mark = h.server.mark()
        await contact.send(paste[:3950])
        await asyncio.sleep(1.0)
        assert not [m for m in h.server.messages(contact.id)[-1:] if "如需附件" in (m.get("text") or "")]
        await h.server.wait_for(contact.id, "如需附件", after=mark, timeout=10)
    with session_scope(engine) as s:
        report = s.exec(select(Report)).one()
        assert report.text == paste and len(report.text) == 5000


async def test_a_button_pressed_while_a_long_paste_is_held_waits_and_loses_nothing(
    engine, banner_plan_id, settings_env
):
    """A button pressed in the moment between a long paste's first part and what follows (or its
    being taken alone) is answered "please wait" and changes nothing: the held text still becomes
    the report, and the same button works once it has."""
    from bot import texts as t

    sentence = "本周完成查干此老整合区3宗矿业权储量核实，形成核实报告并报送评审。"
    paste = (sentence * 200)[:4000]
    async with running_bot(engine, banner_plan_id) as h:
        contact = await h.join(17132, "应急联络员", "应急管理局", Role.CONTACT)
        menu = await h.say(contact, "你好，请问怎么报送进展？", lambda m: bool(m.get("reply_markup")))
        target = await h.press(contact, await h.say(contact, "/report", "请选择"), "强化整合重组一批", "请选择报送对象")
        await h.press(contact, target, "不指定", "请输入本次进展内容")
        mark = h.server.mark()
        await contact.send(paste)
        label = buttons(menu)[-1]
        query = await contact.press(menu["message_id"], button_data(menu, label), check=False)
        answer = await h.server.wait_for_answer(query["id"])
        assert answer["text"] == t.PASTE_HELD and answer["show_alert"]
        # The held text is taken alone once the moment has passed: the report goes on.
        files = await h.server.wait_for(contact.id, "如需附件", after=mark, timeout=10)
        confirm = await h.press(contact, files, "完成上传", lambda m: "确认提交" in str(m.get("reply_markup")))
        await h.press(contact, confirm, "确认提交", "已报送（")
        # Now the menu button works as it always did.
        query = await contact.press(menu["message_id"], button_data(menu, label), check=False)
        assert (await h.server.wait_for_answer(query["id"]))["text"] != t.PASTE_HELD
    with session_scope(engine) as s:
        (report,) = s.exec(select(Report)).all()
        assert report.text == paste


def _raise(engine, plan_id: int, raiser_tid: int, text: str, days_ago: int) -> int:
    """A 林草征占用 problem the raiser flagged `days_ago` days ago (handed to 林草局 by the duty map)."""
    from datetime import UTC, datetime, timedelta

    from models import Member, ProblemCategory
    from oversight.problems import raise_problem

    with session_scope(engine) as s:
        raiser = s.exec(select(Member).where(Member.telegram_user_id == raiser_tid)).one()
        category = s.exec(
            select(ProblemCategory).where(ProblemCategory.plan_id == plan_id, ProblemCategory.key == "forest_grass")
        ).one()
        when = datetime.now(UTC) - timedelta(days=days_ago)
        problem = raise_problem(session=s, plan_id=plan_id, actor=raiser, text=text, category_id=category.id, now=when)
        return int(problem.id or 0)


def _todo_facts(engine, tid: int) -> tuple[list[dict], object]:
    from models import Member
    from oversight.dates import local_day
    from oversight.lookups import todo_summary

    with session_scope(engine) as s:
        member = s.exec(select(Member).where(Member.telegram_user_id == tid)).one()
        today = local_day(datetime_now())
        return todo_summary(session=s, member=member, today=today).listed(), today


def datetime_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_todo_is_its_facts_each_resting_on_the_record_and_none_only_when_nothing_is_there(engine, banner_plan_id):
    """林草局 owes an overdue and a fresh problem and an overdue 重大 agreed matter; 水利局 reported and
    owes nothing. Each one's /todo is the facts' text; the counts are those an SQL query finds; the
    office's 没有逾期事项 is said before anything is overdue and gives way to the items after."""
    from datetime import timedelta

    from sqlalchemy import text

    from models import Decision
    from tests.chatfacts import assert_chat_facts, cited, kinds

    async with running_bot(engine, banner_plan_id) as h:
        office = await h.join(17061, "办公室", "旗政府办公室", Role.OFFICE)
        forestry = await h.join(17062, "林草联络员", "林草局", Role.CONTACT)
        await h.join(17063, "应急联络员", "应急管理局", Role.CONTACT)
        water = await h.join(17064, "水利联络员", "水利局", Role.CONTACT)
        supervisor = await h.join(17065, "督导组", "自然资源局", Role.SUPERVISOR)
        await h.say(water, "/report 本周完成取水许可核查两宗。", "进展")
        forest_id, water_id = h.unit("林草局").id, h.unit("水利局").id

        # Nothing is overdue yet: the office is told so, and no open item with a past deadline exists.
        quiet = await h.say(office, "/todo", "逾期事项")
        listed, today = _todo_facts(engine, office.id)
        with session_scope(engine) as s:
            assert_chat_facts(s, quiet["text"], listed)
            late = s.connection().execute(
                text(
                    "SELECT (SELECT count(*) FROM problem WHERE plan_id = :p AND due_on < :d"
                    " AND state IN ('assigned', 'accepted', 'disputed'))"
                    " + (SELECT count(*) FROM decision WHERE plan_id = :p AND due_on < :d AND state = 'open')"
                ),
                {"p": banner_plan_id, "d": today},
            )
            assert late.scalar() == 0 and kinds(listed) == ["overdue_head", "no_overdue"]

        # No 重大 agreed matter is open yet: the supervision group is told so (no_major), and the record has none.
        none_major = await h.say(supervisor, "/todo", "暂无未办结的重大议定事项")
        listed, _ = _todo_facts(engine, supervisor.id)
        with session_scope(engine) as s:
            assert_chat_facts(s, none_major["text"], listed)
            assert "no_major" in kinds(listed)
            open_major = s.connection().execute(
                text("SELECT count(*) FROM decision WHERE plan_id = :p AND major AND state = 'open'"),
                {"p": banner_plan_id},
            )
            assert open_major.scalar() == 0

        old = _raise(engine, banner_plan_id, 17063, "常兴扎嘎乌苏铁矿整合区升级改造涉及征占用草原，审批未启动。", 90)
        fresh = _raise(engine, banner_plan_id, 17063, "北山整合区探矿权转采涉及林地，林地审批待受理。", 0)
        with session_scope(engine) as s:
            matter = Decision(
                plan_id=banner_plan_id,
                text="林草局牵头研究草原占补平衡方案",
                owner_unit_id=forest_id,
                due_on=today - timedelta(days=10),
                major=True,
            )
            s.add(matter)
            s.flush()
            decision_id = int(matter.id or 0)

        own = await h.say(forestry, "/todo", "待办")
        listed, today = _todo_facts(engine, forestry.id)
        with session_scope(engine) as s:
            assert_chat_facts(s, own["text"], listed)
            q = s.connection().execute(
                text(
                    "SELECT id, due_on < :d FROM problem WHERE owner_unit_id = :u AND state IN ('assigned', 'accepted')"
                ),
                {"u": forest_id, "d": today},
            )
            problems = dict(q.all())
            assert set(problems) == {old, fresh} and cited(listed, "problem", "problem") == {old, fresh}
            assert cited(listed, "decision", "decision") == {decision_id}
            (count,) = [f for f in listed if f["kind"] == "count"]
            assert count["values"]["n"] == len(problems) + 1
            assert count["values"]["red"] == sum(bool(v) for v in problems.values()) + 1  # and the agreed matter
            assert "none" not in kinds(listed)

        # 水利局 reported and owes nothing: 暂无待办事项, and the record has nothing for it.
        nothing = await h.say(water, "/todo", "待办")
        listed, _ = _todo_facts(engine, water.id)
        with session_scope(engine) as s:
            assert_chat_facts(s, nothing["text"], listed)
            assert nothing["text"] == "【旗水利局 待办】\n暂无待办事项。"
            owed = s.connection().execute(
                text(
                    "SELECT (SELECT count(*) FROM problem WHERE owner_unit_id = :u AND state IN ('assigned', 'accepted'))"
                    " + (SELECT count(*) FROM decision WHERE owner_unit_id = :u AND state = 'open')"
                ),
                {"u": water_id},
            )
            assert owed.scalar() == 0

        # Now something is overdue: no 没有逾期事项; the overdue items are named instead.
        named = await h.say(office, "/todo", "逾期事项")
        listed, _ = _todo_facts(engine, office.id)
        with session_scope(engine) as s:
            assert_chat_facts(s, named["text"], listed)
            assert "no_overdue" not in kinds(listed) and "没有逾期事项" not in named["text"]
            assert cited(listed, "count", "problem") == {old} and cited(listed, "count", "decision") == {decision_id}
            assert f"{old}号问题" in named["text"] and f"{fresh}号问题" not in named["text"]

        # The supervision group also follows the 重大 agreed matter: named, not 暂无.
        major = await h.say(supervisor, "/todo", "重大议定事项")
        listed, _ = _todo_facts(engine, supervisor.id)
        with session_scope(engine) as s:
            assert_chat_facts(s, major["text"], listed)
            assert "no_major" not in kinds(listed)
            majors = {
                r[0] for r in s.connection().execute(text("SELECT id FROM decision WHERE major AND state = 'open'"))
            }
            section = max(f["section"] for f in listed)
            assert {i for f in listed if f["section"] == section for i in f["ids"].get("decision", [])} == majors


def _progress_facts(engine, plan_id: int) -> tuple[list[dict], object]:
    from oversight.lookups import progress_summary

    now = datetime_now()
    with session_scope(engine) as s:
        return progress_summary(session=s, plan_id=plan_id, as_of=now).listed(), now


def _ledger_moves(engine, plan_id: int, ids: dict[str, int]) -> dict[str, int]:
    """Zone 1's two mining rights consolidated, the ledger keeping the second (整合后保留); a third right
    closed; a fourth closed by mistake and moved back to 推进中 (counted for nothing). Returns the
    closed one's and the reopened one's ids."""
    from models import Right, RightBatch, Task
    from oversight.rights import move_right_status

    with session_scope(engine) as s:
        close = s.exec(select(Task).where(Task.plan_id == plan_id, Task.key == "close")).one()
        extra = {}
        for code in ("C1500002010009", "C1500002010010"):
            right = Right(plan_id=plan_id, code=code, name=code, kind="mining")
            s.add(right)
            s.flush()
            s.add(RightBatch(right_id=right.id, task_id=close.id))
            extra[code] = int(right.id or 0)
        kept = s.get(Right, ids["C1500002010002"])
        assert kept is not None
        kept.kept_in_zone = True
        s.add(kept)
        s.flush()
        moves = [(i, "consolidated") for i in ids.values()]
        moves += [(extra["C1500002010009"], "closed"), (extra["C1500002010010"], "closed")]
        moves += [(extra["C1500002010010"], "in_progress")]
        for right_id, status in moves:
            move_right_status(session=s, right_id=right_id, to_status=status, actor_member_id=None, actor="t")
    return {"closed": extra["C1500002010009"], "reopened": extra["C1500002010010"]}


async def test_progress_is_its_facts_each_line_resting_on_the_ledger(engine, banner_plan_id):
    """/progress on an empty ledger says 尚未完成 and 尚无… of every batch and target, never 完成0; once
    zone 1's two mines are consolidated and one mine is closed (another closed by mistake and moved
    back), each target's figure and each batch's count are the rights a query of the events finds,
    and each line cites exactly those rights."""
    from tests.chatfacts import assert_progress_facts, cited

    ids = seed_rights(engine, banner_plan_id)
    async with running_bot(engine, banner_plan_id) as h:
        contact = await h.join(17071, "自然资源联络员", "自然资源局", Role.CONTACT)
        empty = await h.say(contact, "/progress", "任务进度")
        listed, now = _progress_facts(engine, banner_plan_id)
        with session_scope(engine) as s:
            assert_progress_facts(s, banner_plan_id, empty["text"], listed, now)
        assert "强化整合重组一批：目标46宗（2028年12月31日前），尚未完成（按进度应完成" in empty["text"]
        assert "减少采矿权：目标15宗（2030年12月31日前），现为0宗" in empty["text"] and "已完成0" not in empty["text"]
        assert "尚无关闭注销或整合减少的采矿权" in empty["text"]

        moved = _ledger_moves(engine, banner_plan_id, ids)
        after = await h.say(contact, "/progress", "任务进度")
        listed, now = _progress_facts(engine, banner_plan_id)
        with session_scope(engine) as s:
            assert_progress_facts(s, banner_plan_id, after["text"], listed, now)
        lines = after["text"].splitlines()
        assert any(line.startswith("强化整合重组一批：目标46宗（2028年12月31日前），已完成2宗") for line in lines), (
            lines
        )
        assert any(line.startswith("强化淘汰关闭一批：目标7宗（2028年12月31日前），已完成1宗") for line in lines), lines
        # Zone 1 keeps its second mine, so its first is the one absorbed; the closed one is the other
        # reduction: 2 in all, named.
        (reduce,) = [f for f in listed if f["kind"] == "target" and f["values"]["key"] == "reduce_mining"]
        assert reduce["text"].startswith("减少采矿权：目标15宗（2030年12月31日前），现为2宗")
        assert reduce["text"].endswith("；关闭注销1宗，整合减少1宗：C1500002010009、C1500002010001。")
        assert moved["reopened"] not in cited(listed, "target", "right") | cited(listed, "batch", "right")
        assert "C1500002010010" not in after["text"]


def test_every_chat_summary_of_a_whole_quarter_rests_on_the_record_and_holds_no_data(engine, banner_plan_id):
    """On the seeded quarter (twenty problems through every step, decisions, rights moved, a
    notice): every member's /todo, /progress at the quarter's end and now, the office's digest on
    each working day of April's first fortnight, every member's /duban on the last of them and
    the convener's overview of a new draft are
    each checked line by line against the record by the test's own queries, and none holds a
    program's data representation ({'…', "kind":, None, True, False, [[)."""
    from datetime import UTC, date, datetime, timedelta

    from models import Member
    from oversight.digest import digest_summary
    from oversight.lookups import progress_summary, todo_summary
    from oversight.notices import draft_notice, draft_overview, overview_facts
    from oversight.supervision import duban_summary, refresh
    from oversight.workdays import is_workday
    from tests.chatfacts import (
        RAW,
        assert_chat_facts,
        assert_digest_facts,
        assert_duban_facts,
        assert_overview_facts,
        assert_progress_facts,
    )
    from tests.seed_quarter import seed_quarter

    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)
    seen: list[str] = []
    with session_scope(engine) as s:
        day = date(2026, 4, 8)
        for member in s.exec(select(Member).where(Member.plan_id == banner_plan_id, col(Member.active))).all():
            chat = todo_summary(session=s, member=member, today=day)
            assert_chat_facts(s, chat.message(), chat.listed())
            seen.append(chat.message())
        for as_of in (datetime(2026, 3, 31, 16, tzinfo=UTC), datetime_now()):
            chat = progress_summary(session=s, plan_id=banner_plan_id, as_of=as_of)
            assert_progress_facts(s, banner_plan_id, chat.message(), chat.listed(), as_of)
            seen.append(chat.message())
        digests = 0
        for n in range(14):
            day = date(2026, 4, 1) + timedelta(days=n)
            if not is_workday(day):
                continue
            refresh(session=s, plan_id=banner_plan_id, now=datetime(day.year, day.month, day.day, 1, tzinfo=UTC))
            digest = digest_summary(session=s, plan_id=banner_plan_id, day=day)
            if digest is not None:
                assert_digest_facts(s, banner_plan_id, day, digest.message(), digest.listed())
                seen.append(digest.message())
                digests += 1
        assert digests, "the seeded quarter leaves overdue items in April"
        for member in s.exec(select(Member).where(Member.plan_id == banner_plan_id, col(Member.active))).all():
            duban = duban_summary(session=s, member=member, today=day).summary  # as marked on the last day
            assert_duban_facts(s, int(member.id or 0), duban.message(), duban.listed())
            seen.append(duban.message())
        heads = [m.split("\n")[0] for m in seen]
        assert "督办事项共" in [h[:5] for h in heads]  # the office's /duban names marked items
        assert any(re.match(r"旗.+督办事项共\d+项", h) for h in heads)  # and some unit's own does
        notice = draft_notice(
            session=s, plan_id=banner_plan_id, period="2026Q2", now=datetime(2026, 7, 1, 2, tzinfo=UTC)
        )
        overview = overview_facts(session=s, notice_id=notice.id)
        assert overview.message() == draft_overview(session=s, notice_id=notice.id)
        assert_overview_facts(s, notice.id, overview.message(), overview.listed())
        seen.append(overview.message())
    for message in seen:
        assert RAW.search(message) is None, message
        assert "。（" not in message, message  # no full stop before an item's deadline clause
        assert not re.search(r"(逾期|临期|正常|红色|黄色|蓝色|完成) ?0 ?(项|宗|个|家)", message), (
            message
        )  # no 临期 0 项
