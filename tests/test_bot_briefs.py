"""The brief's sign-off end to end, through the real bot on the local Bot API server: the worker's
run makes a draft only the office sees; the office writes the 编者按 (the worker renders it again)
and approves; the convener confirms and signs (签发); only then do the member units, the
supervision group and the joint-meeting group get it. A convener's return, the plan setting that
lets the office sign, the reminder of a waiting draft and each refusal."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from io import BytesIO

from pypdf import PdfReader
from sqlmodel import select

import jobs.brief as brief_job
from jobs.worker import Worker
from models import AuditLog, Brief, GroupBinding, OutboxMessage, Plan, session_scope
from oversight import briefs as B
from tests.harness import button_data, buttons, running_bot
from tests.seed_quarter import CONTACT_UNITS, at, seed_quarter
from tests.test_worker import FAST, wait_for

GROUP = -1007001
NOTE = "本期重点反映一季度整合进度滞后情况，请各成员单位对照问题清单逐项整改，按时报送整改进展。"
OFFICE, OFFICE_B, CONVENER, SUPERVISOR = 9101, 9102, 9001, 9301
CONTACTS = [9200 + i for i in range(len(CONTACT_UNITS))]
BUILT = at(2026, 4, 8, 9)
DRAIN = 90.0  # the seed's cards go out too, one a second per chat (Telegram's pace)


@asynccontextmanager
async def worker(engine) -> AsyncIterator[None]:
    w = Worker(engine=engine, worker_id="w-brief", **FAST)
    task = asyncio.create_task(w.run_forever())
    try:
        yield
    finally:
        await w.stop()
        await asyncio.wait_for(task, 5)


def brief_row(engine) -> Brief:
    with session_scope(engine) as s:
        return s.exec(select(Brief)).one()


_TEXTS: dict[bytes, str] = {}  # by the file's SHA-256: the distributed PDF is one file sent to a dozen chats


def pdf_text(h, doc: dict) -> str:
    """The text of the PDF the chat was sent (extracted once per distinct file: ~0.25 s each)."""
    data = h.server.file_bytes(doc["file_id"])
    key = hashlib.sha256(data).digest()
    if key not in _TEXTS:
        reader = PdfReader(BytesIO(data))
        _TEXTS[key] = "".join("".join(page.extract_text().split()) for page in reader.pages)
    return _TEXTS[key]


def has_button(label: str):
    return lambda m: any(label in b for b in buttons(m))


def not_briefed(h, chat: int) -> bool:
    """Nothing of the brief in the chat: no file, no message naming it (the seed sent other cards)."""
    return h.server.documents(chat) == [] and not any("简报" in (m.get("text") or "") for m in h.server.messages(chat))


async def refused(h, user, message: dict, label: str) -> str:
    query = await user.press(message["message_id"], button_data(message, label), check=False)
    return (await h.server.wait_for_answer(query["id"]))["text"] or ""


async def test_draft_note_approve_sign_then_distributed(settings_env, engine, banner_plan_id):
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)
        s.add(GroupBinding(plan_id=banner_plan_id, chat_id=GROUP, title="联席会议群"))
    async with running_bot(engine, banner_plan_id) as h:
        office, office_b = h.server.user(OFFICE, "办公室李"), h.server.user(OFFICE_B, "办公室张")
        convener = h.server.user(CONVENER, "王副旗长")
        contacts = [h.server.user(c, "联络员") for c in CONTACTS]
        h.server.user(SUPERVISOR, "督导组赵")
        for other in (9401, 9501, 9502):  # the seed's other people, sent their own cards
            h.server.user(other, "成员")
        h.server.group(GROUP, "联席会议群").bot_member = True

        # The scheduled run: a draft, to the office only, its PDF before the buttons.
        with session_scope(engine) as s:
            brief_job.run(session=s, period="2026Q1", now=BUILT)
        draft = await h.server.wait_for(OFFICE, has_button("审核通过"), timeout=20)
        assert "送审稿" in draft["text"] and "报召集人签发" in draft["text"]
        (doc,) = h.server.documents(OFFICE)
        assert doc["file_name"].endswith("（送审稿）.pdf")
        assert "现将2026年第一季度" in pdf_text(h, doc)
        await h.server.wait_for(OFFICE_B, has_button("审核通过"), timeout=10)
        await h.drain_outbox(timeout=DRAIN)
        for chat in (CONVENER, SUPERVISOR, GROUP, *CONTACTS):
            assert not_briefed(h, chat), chat

        # Refusals, each changing nothing: a contact has no /briefs; the convener has nothing to sign yet.
        await h.say(contacts[0], "/briefs", "不能使用 /briefs")
        await h.say(convener, "/briefs", "没有待您审核或签发")

        # The office writes the 编者按; too short first.
        await h.press(office, draft, "修改编者按", "编者按全文")
        await h.say(office, "太短了", "不能少于10个字")
        await h.say(office, NOTE, "已保存编者按")
        # The copy the other office member holds is now stale, and the new PDF is not there yet.
        draft_b = h.server.last(OFFICE_B)
        assert "更新的版本" in await refused(h, office_b, draft_b, "审核通过")
        assert brief_row(engine).state == B.BriefState.DRAFT

        async with worker(engine):
            await wait_for(lambda: brief_row(engine).rendered_revision == 1, timeout=60)
        await h.drain_outbox(timeout=DRAIN)
        second = await h.server.wait_for(OFFICE, lambda m: has_button("审核通过")(m) and "当前编者按" in m["text"])
        sent = [m for m in h.server.messages(OFFICE) if "document" in m][-1]
        latest = sent["document"]
        assert latest["file_name"].endswith("（送审稿）.pdf") and sent["caption"].endswith("（第2稿）")
        assert "".join(NOTE.split()) in pdf_text(h, latest)

        done = await h.press(office, second, "审核通过", "已报召集人签发")
        assert "签发前不会分发" in done["text"]
        # Pressed again on the same copy: refused, nothing sent twice.
        assert "待召集人签发" in await refused(h, office, second, "审核通过")

        # The convener gets the PDF to sign; a contact still has nothing.
        sign = await h.server.wait_for(CONVENER, has_button("签发"), timeout=10)
        assert "办公室李" in sign["text"]
        assert h.server.documents(CONVENER)[-1]["file_name"].endswith("（送签稿）.pdf")
        assert all(not_briefed(h, c) for c in CONTACTS)
        confirm = await h.press(convener, sign, "签发", "确认签发")
        assert "送：" in confirm["text"] and "联合督导组" in confirm["text"]
        kept = await h.press(convener, confirm, "暂不签发", "未签发")
        assert kept and brief_row(engine).state == B.BriefState.OFFICE_APPROVED
        await h.press(convener, confirm, "确认签发", "已签发")
        await h.server.wait_for(OFFICE, "已由召集人王副旗长签发", timeout=10)

        async with worker(engine):
            await wait_for(lambda: brief_row(engine).state == B.BriefState.DISTRIBUTED, timeout=30)
        await h.drain_outbox(timeout=DRAIN)
        for chat in (*CONTACTS, SUPERVISOR):
            names = sorted(d["file_name"].rsplit(".", 1)[1] for d in h.server.documents(chat))
            assert names == ["docx", "pdf", "xlsx"], (chat, names)
            pdf = next(d for d in h.server.documents(chat) if d["file_name"].endswith("期.pdf"))
            assert "".join(NOTE.split()) in pdf_text(h, pdf)
        group_docs = h.server.documents(GROUP)
        assert len(group_docs) == 1 and group_docs[0]["file_name"].endswith("第1期.pdf")

    with session_scope(engine) as s:
        actions = [
            a.action
            for a in s.exec(select(AuditLog).where(AuditLog.object_type == "brief").order_by(AuditLog.id)).all()
        ]
    assert actions == [
        "brief.editor_note",
        "brief.office_approved",
        "brief.signed",
        "brief.distributed",
    ], actions


async def test_returned_with_reason_then_office_signs_where_the_plan_says_so(settings_env, engine, banner_plan_id):
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)
    async with running_bot(engine, banner_plan_id) as h:
        office = h.server.user(OFFICE, "办公室李")
        h.server.user(OFFICE_B, "办公室张")
        convener = h.server.user(CONVENER, "王副旗长")
        for c in (*CONTACTS, SUPERVISOR, 9401, 9501, 9502):
            h.server.user(c, "成员")
        with session_scope(engine) as s:
            brief_job.run(session=s, period="2026Q1", now=BUILT)
        draft = await h.server.wait_for(OFFICE, has_button("审核通过"), timeout=20)
        await h.press(office, draft, "审核通过", "已报召集人签发")
        sign = await h.server.wait_for(CONVENER, has_button("退回办公室"), timeout=10)
        await h.press(convener, sign, "退回办公室", "退回理由")
        await h.say(convener, "短", "不能少于4个字")
        await h.say(convener, "第二部分数据口径请与自然资源局核对后再报。", "已将")
        back = await h.server.wait_for(OFFICE, "被召集人王副旗长退回修改", timeout=10)
        assert "与自然资源局核对" in back["text"]
        again = await h.server.wait_for(OFFICE, has_button("审核通过"), timeout=10)
        assert "召集人退回意见" in again["text"]
        # The convener's old buttons are stale now.
        assert "送审稿" in await refused(h, convener, sign, "签发")

        # The plan file says the office's approval is enough: approving signs it, no convener step.
        with session_scope(engine) as s:
            plan = s.get(Plan, banner_plan_id)
            plan.spec = {**plan.spec, "office": {**plan.spec["office"], "brief_signoff": "office"}}
            s.add(plan)
        await h.press(office, again, "审核通过", "已审核通过并签发")
        async with worker(engine):
            await wait_for(lambda: brief_row(engine).state == B.BriefState.DISTRIBUTED, timeout=30)
        await h.drain_outbox(timeout=DRAIN)
        assert all(len(h.server.documents(c)) == 3 for c in CONTACTS)
    with session_scope(engine) as s:
        returned = s.exec(select(AuditLog).where(AuditLog.action == "brief.returned")).one()
        assert "自然资源局" in returned.detail["reason"]
        signed = s.exec(select(AuditLog).where(AuditLog.action == "brief.signed")).one()
        assert signed.detail["role"] == "office"


def test_a_waiting_draft_is_reminded_to_its_holder_once_a_working_day(settings_env, engine, banner_plan_id):
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)
        brief_job.run(session=s, period="2026Q1", now=BUILT)
    with session_scope(engine) as s:
        assert B.remind_waiting(session=s, now=BUILT + timedelta(hours=2)) == 0  # the same day
        assert B.remind_waiting(session=s, now=at(2026, 4, 9, 9)) == 2  # the two office members
        assert B.remind_waiting(session=s, now=at(2026, 4, 9, 15)) == 0  # once a day
    with session_scope(engine) as s:
        texts = [m.text for m in s.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("briefremind:%")))]
    assert len(texts) == 2 and all("待办公室审核" in t and "2026年4月8日" in t for t in texts)
