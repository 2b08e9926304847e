"""The notice flow end to end in chat through the local Bot API server: the worker drafts,
the convener drops one finding and approves, the worker publishes to the group and the
named units, a named unit files an explanation, and the next brief shows it."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from bot.engine import fit
from jobs.worker import Worker
from models import Explanation, Member, Notice, NoticeFinding, ScheduledRun, Unit, session_scope, utcnow
from oversight.notices import EDIT_FROM_CARD, finding_button_label, finding_label
from tests.harness import button_data, buttons, running_bot
from tests.test_accountability import AFTER_Q1
from tests.test_notices import GROUP_CHAT, cast  # noqa: F401 (fixture)
from tests.test_worker import FAST, wait_for


def pdf_flat(h, doc: dict) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(h.server.file_bytes(doc["file_id"])))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


async def test_draft_drop_approve_publish_explain(settings_env, engine, cast):  # noqa: F811
    import jobs.notices

    convener_tg = cast.convener.telegram_user_id
    async with running_bot(engine, cast.plan_id) as h:
        convener = h.server.user(convener_tg, "召集人")
        people = {key: h.server.user(m.telegram_user_id, m.name) for key, m in cast.people.items()}
        # The office gets the published notice (PDF and Word copy) too: it has a private chat.
        known = {convener_tg, *(m.telegram_user_id for m in cast.people.values())}
        with session_scope(engine) as s:
            office = [m for m in s.exec(select(Member)).all() if m.telegram_user_id not in known and m.telegram_user_id]
        for m in office:
            h.server.user(m.telegram_user_id, m.name or "办公室")
        h.server.group(GROUP_CHAT, "乌拉特中旗联席会议群").bot_member = True

        # Quarter end: the worker's job drafts the notice and sends it to the convener.
        with session_scope(engine) as s:
            jobs.notices.run(session=s, period="2026Q1", now=AFTER_Q1)
        draft = await h.server.wait_for(convener_tg, lambda m: "审定印发" in str(m.get("reply_markup")), timeout=20)
        assert "通报草稿待审定" in draft["text"]
        # The draft came as a PDF first, marked 送审稿 on every page.
        first = h.server.messages(convener_tg)[0]["document"]
        assert first["file_name"].endswith("（送审稿）.pdf")
        assert "送审稿未经审定不得外传" in pdf_flat(h, first)
        with session_scope(engine) as s:
            notice = s.exec(select(Notice)).one()
            findings = s.exec(
                select(NoticeFinding).where(NoticeFinding.notice_id == notice.id).order_by(NoticeFinding.id)
            ).all()
            assert len(findings) >= 2, [f.summary for f in findings]
            dropped_id, kept_units = findings[0].id, {f.unit_id for f in findings[1:]}
            dropped_unit = findings[0].unit_id
            label = finding_button_label(session=s, finding=findings[0])
            full_label = finding_label(session=s, finding=findings[0])
            dropped_name = s.get(Unit, dropped_unit).name

        # Nothing reached the group or the units before approval.
        assert h.server.messages(GROUP_CHAT) == []
        # The draft is one short overview: each named unit with its findings, no evidence lines;
        # each finding has its own page, opened from a button naming its unit and rule.
        assert "被通报单位及事项：" in draft["text"] and "   · " not in draft["text"]
        assert label in buttons(draft) and "✅ 审定印发" in buttons(draft)
        assert all(
            len(b["callback_data"].encode()) <= 64 for row in draft["reply_markup"]["inline_keyboard"] for b in row
        )
        view = await h.press(convener, draft, label, "【通报事项1/")
        assert "依据（联席会议工作记录）：" in view["text"] and f"删除：{label}" in buttons(view)
        assert "下一项 ▶" in buttons(view) and "◀ 上一项" not in buttons(view)
        assert all(
            len(b["callback_data"].encode()) <= 64 for row in view["reply_markup"]["inline_keyboard"] for b in row
        )
        second = await h.press(convener, view, "下一项 ▶", f"【通报事项2/{len(findings)}】")
        assert "◀ 上一项" in buttons(second) and "返回草稿概览" in buttons(second)
        # The worker's card and the bot's own overview label the same buttons alike (one source,
        # oversight/labels.py); the card's one extra opens the overview, where the edit buttons are.
        overview = await h.press(convener, second, "返回草稿概览", "被通报单位及事项：")
        assert set(buttons(draft)) - {EDIT_FROM_CARD} <= set(buttons(overview)), (buttons(draft), buttons(overview))
        assert {"查看正文", "✅ 审定印发", "放弃本期通报", label} <= set(buttons(draft))
        back = await h.press(convener, second, "◀ 上一项", "【通报事项1/")
        assert back["text"] == view["text"]
        # /notices names the draft by its title, period and state, never by a record number; its
        # button opens the same overview.
        listed = await h.say(convener, "/notices", "【通报】")
        with session_scope(engine) as s:
            title = s.get(Notice, notice.id).title
        assert listed["text"] == f"【通报】\n1. 《{title}》（2026年第一季度，草稿）", listed["text"]
        assert buttons(listed) == [fit(f"查看《{title}》（2026年第一季度，草稿）")]
        opened = await h.press(convener, listed, "查看《", "被通报单位及事项：")
        assert opened["text"] == overview["text"]
        body = await h.press(convener, draft, "查看正文", "【通报正文】")
        with session_scope(engine) as s:
            assert s.get(Notice, notice.id).body in body["text"]
        await h.press(convener, view, f"删除：{label}", "删除该事项的理由")
        await h.say(convener, "办结", "不能少于4个字")
        with session_scope(engine) as s:
            assert not s.get(NoticeFinding, dropped_id).dropped  # a refused reason changes nothing
        page = await h.say(convener, "该问题已于3月6日办结，不再通报。", "（已删除，理由：该问题已于3月6日办结")
        assert f"恢复：{label}" in buttons(page)
        after = await h.press(convener, page, "返回草稿概览", "已删除1项")
        assert f"（已删）{label}" in buttons(after)
        await h.press(convener, after, "预览PDF", "正在按当前草稿生成")
        worker = Worker(engine=engine, worker_id="w-preview", **FAST)
        task = asyncio.create_task(worker.run_forever())
        try:

            def previewed() -> bool:
                with session_scope(engine) as s:
                    run = s.exec(select(ScheduledRun).where(ScheduledRun.job == "notice_preview")).one()
                    return run.state == "done"

            await wait_for(previewed, timeout=30)
        finally:
            await worker.stop()
            await asyncio.wait_for(task, 5)
        await h.drain_outbox()
        drafts = [d for d in h.server.documents(convener_tg) if "送审稿" in d["file_name"]]
        assert len(drafts) == 2  # the draft as it stands now, the dropped finding out of it
        assert dropped_name in pdf_flat(h, drafts[0]) and dropped_name not in pdf_flat(h, drafts[1])

        # 审定印发 asks first, naming what goes out and what was dropped, and why.
        confirm = await h.press(convener, after, "审定印发", "确认审定印发？")
        assert f"已删除：{full_label}（理由：该问题已于3月6日办结" in confirm["text"]
        await h.press(convener, confirm, "暂不印发", "通报草稿待审定")
        with session_scope(engine) as s:
            assert s.get(Notice, notice.id).state == "draft"
        done = await h.press(convener, confirm, "确认审定印发", "已审定")
        assert "〔2026〕" in done["text"]
        # The same confirmation pressed again: refused, nothing issued twice.
        query = await convener.press(confirm["message_id"], button_data(confirm, "确认审定印发"), check=False)
        assert "不能再审定" in ((await h.server.wait_for_answer(query["id"]))["text"] or "")

        # The worker publishes: the group and each named unit get the PDF.
        worker = Worker(engine=engine, worker_id="w-notice", **FAST)
        task = asyncio.create_task(worker.run_forever())
        try:

            def published() -> bool:
                with session_scope(engine) as s:
                    return s.get(Notice, notice.id).state == "published"

            await wait_for(published, timeout=20)
        finally:
            await worker.stop()
            await asyncio.wait_for(task, 5)
        await h.drain_outbox()
        group_docs = h.server.documents(GROUP_CHAT)
        assert len(group_docs) == 1 and group_docs[0]["mime_type"] == "application/pdf"
        pdf = h.server.file_bytes(group_docs[0]["file_id"])
        assert pdf.startswith(b"%PDF")
        named = {key for key, m in cast.people.items() if m.unit_id in kept_units}
        assert named
        for key, user in people.items():
            got = h.server.documents(user.id)
            if key in named:
                assert len(got) == 1, key
            elif cast.people[key].unit_id == dropped_unit:
                assert got == [], f"{key} was dropped from the notice but got it"

        # Issued, it is named by its document number.
        with session_scope(engine) as s:
            doc_no = s.get(Notice, notice.id).doc_no
        assert doc_no and doc_no.endswith("〔2026〕1号")
        listed = await h.say(convener, "/notices", "【通报】")
        assert listed["text"] == f"【通报】\n1. {doc_no}《{title}》（2026年第一季度，已印发）", listed["text"]
        assert buttons(listed) == [f"查看{doc_no}"]
        await h.press(convener, listed, f"查看{doc_no}", "已印发")

        # A named unit files its explanation, as the notice's message tells it (command and deadline).
        key = sorted(named)[0]
        user = people[key]
        texts_got = [m.get("text") or m.get("caption") or "" for m in h.server.messages(user.id)]
        told = [x for x in texts_got if "【通报】贵单位（" in x]
        assert told and "前在本机器人中发送 /explain" in told[0] and "年" in told[0].split("前在本机器人")[0][-12:]
        pick = await h.say(user, "/explain", "请选择")
        await h.press(user, pick, "〔2026〕", "情况说明")
        await h.say(user, "该问题已于3月6日办结，转交系因用地预审未完成，已与相关单位沟通。", "已报送")
        other = next(k for k in people if k not in named)
        await h.say(people[other], "/explain", "没有可以报送")

    with session_scope(engine) as s:
        (explanation,) = s.exec(select(Explanation)).all()
        assert explanation.unit_id == cast.people[key].unit_id and "办结" in explanation.text
        runs = s.exec(select(ScheduledRun).where(ScheduledRun.job == "notice_publish")).all()
        assert [r.state for r in runs] == ["done"]

    # The next brief (2026Q2) carries the explanation to the 2026Q1 notice.
    from pypdf import PdfReader

    from jobs.brief import build_brief

    with session_scope(engine) as s:
        result = build_brief(
            session=s, plan_id=cast.plan_id, period="2026Q2", now=utcnow(), out_dir=settings_env.DATA_DIR
        )
    text = "".join(page.extract_text() for page in PdfReader(result.pdf_path).pages)
    flat = "".join(text.split())
    assert "上期通报" in flat and "用地预审未完成" in flat
