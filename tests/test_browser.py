"""Headless Chromium on the sandbox page: a newcomer joins with an invite, files a report
through the bot's buttons with a PDF attached, and sees the bot confirm it."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.pacing import Pacer
from models import Attachment, Report, session_scope
from oversight.members import create_invite, require_unit
from sandbox.app import SandboxHandle, start_sandbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path(os.environ.get("LIANXI_SCREENSHOT", "/tmp/lianxi-sandbox.png"))
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (bash scripts/install.sh --test installs it)"
    ),
]


@pytest.fixture
async def sandbox(settings_env, engine: Engine, banner_plan_id: int, tmp_path: Path) -> AsyncIterator[SandboxHandle]:
    # The bot's Pacer without its one-second gap between two messages to one chat, as running_bot's
    # (tests/harness.py): the sandbox's server does not enforce it, and a first day of twenty
    # replies in one chat waited twenty seconds for it (tests/test_pacing.py holds the gap).
    handle = await start_sandbox(
        engine,
        "127.0.0.1",
        0,
        files_dir=tmp_path / "sandbox-files",
        outbox_poll_seconds=0.05,
        rate_limiter=Pacer(private_gap=0.0),
    )
    try:
        yield handle
    finally:
        await handle.stop()


@pytest.fixture
async def page(sandbox: SandboxHandle):
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.set_default_timeout(15_000)
            yield page
            assert errors == [], f"JavaScript errors on the page: {errors}"
        finally:
            await browser.close()


def invite_code(engine: Engine, plan_id: int, unit: str, role: str) -> str:
    """A code as the admin would hand it over (lianxi invite create)."""
    with session_scope(engine) as s:
        u = require_unit(session=s, plan_id=plan_id, text=unit)
        _, code = create_invite(session=s, plan_id=plan_id, unit_id=u.id, role=role, created_by="test")
    return code


async def test_newcomer_joins_and_files_a_report_through_the_buttons(
    sandbox: SandboxHandle,
    page,
    engine: Engine,
    banner_plan_id: int,
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    code = invite_code(engine, banner_plan_id, "林草局", "contact")
    await page.goto(sandbox.url)
    await expect(page.locator("#plan-name")).to_have_text("乌拉特中旗非煤矿山资源整合、增储上产")
    await expect(page.locator("#people li")).to_have_count(20)

    # Joining: typed into the page's form, which sends /start CODE as the new person.
    await page.fill("#join-name", "赵文")
    await page.fill("#join-code", code)
    await page.click("#join-submit")
    bot = page.locator(".msg.bot")
    await expect(bot.last).to_contain_text("注册成功！您是旗林草局的部门联络员")
    await expect(page.locator("#me")).to_contain_text("部门联络员")
    await expect(page.locator("#people li.selected")).to_contain_text("赵文")

    # Text typed by a person is shown as text, never as markup.
    await page.fill("#composer-input", '<img src=x onerror="window.hacked=1"><b>粗体</b>')
    await page.press("#composer-input", "Enter")
    await expect(page.locator(".msg.mine").last).to_contain_text("<b>粗体</b>")
    assert await page.locator("#messages img, #messages b").count() == 0
    assert await page.evaluate("window.hacked === undefined")

    # /report through the buttons: batch, target, text, a PDF, confirm.
    await page.fill("#composer-input", "/report")
    await page.click("#send")
    await expect(bot.last).to_contain_text("请选择要报送进展的批次")
    await bot.last.locator(".kb-btn").first.click()
    await expect(bot.last).to_contain_text("请选择报送对象")
    await bot.last.locator(".kb-btn", has_text="不指定").click()
    await expect(bot.last).to_contain_text("请输入本次进展内容")
    await page.fill("#composer-input", "已完成3宗矿业权用林用草审查，另2宗正在补充材料。")
    await page.press("#composer-input", "Enter")
    await expect(bot.last).to_contain_text("完成上传")
    evidence = tmp_path / "林草审查意见.pdf"
    evidence.write_bytes(PDF)
    await page.set_input_files("#file-input", str(evidence))
    await expect(page.locator(".msg.mine .doc").last).to_contain_text("林草审查意见.pdf")
    await expect(bot.last).to_contain_text("已收到附件：林草审查意见.pdf")
    await bot.last.locator(".kb-btn", has_text="完成上传").click()
    await expect(bot.last).to_contain_text("请确认报送内容")
    await expect(bot.last).to_contain_text("附件：林草审查意见.pdf")
    await bot.last.locator(".kb-btn", has_text="确认提交").click()
    await expect(bot.last).to_contain_text(re.compile(r"已报送（\d+号进展报送）"))

    # The uploaded PDF opens from its link.
    href = await page.locator(".msg.mine .doc").last.get_attribute("href")
    response = await page.request.get(sandbox.url.rstrip("/") + href)
    assert response.headers["content-type"] == "application/pdf"
    assert await response.body() == PDF

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT))

    with session_scope(engine) as s:
        report = s.exec(select(Report)).one()
        attachment = s.exec(select(Attachment)).one()
    assert "用林用草审查" in report.text
    assert attachment.filename == "林草审查意见.pdf"


async def test_group_view_shows_the_bound_joint_meeting_group(sandbox: SandboxHandle, page) -> None:
    from playwright.async_api import expect

    await page.goto(sandbox.url)
    await page.locator("#people li", has_text="管理员").click()
    await page.click("#tab-group")
    await expect(page.locator("#chat-title")).to_contain_text("已绑定为联席会议群")
    await expect(page.locator(".msg.bot").last).to_contain_text("已将本群绑定")
    await page.fill("#composer-input", "/help")
    await page.press("#composer-input", "Enter")
    await expect(page.locator(".msg.bot").last).to_contain_text("您（管理员）可以使用以下命令")
    # A unit matter asked in the group is answered in private; the private tab shows it is new.
    await page.fill("#composer-input", "/whoami")
    await page.press("#composer-input", "Enter")
    await expect(page.locator(".msg.bot").last).to_contain_text("已在私聊中回复您")
    await expect(page.locator("#tab-private")).to_have_class(re.compile("has-new"))
    await page.click("#tab-private")
    await expect(page.locator(".msg.bot").last).to_contain_text("角色：管理员")
    await expect(page.locator("#tab-private")).not_to_have_class(re.compile("has-new"))


async def test_a_contacts_first_day_join_ask_report_with_word_and_raise_a_problem(
    sandbox: SandboxHandle,
    page,
    engine: Engine,
    banner_plan_id: int,
    tmp_path: Path,
) -> None:
    """What an untrained contact does on the first day, in their own words and by the buttons."""
    from docx import Document
    from playwright.async_api import expect

    from models import Problem

    code = invite_code(engine, banner_plan_id, "林草局", "contact")
    await page.goto(sandbox.url)
    await page.fill("#join-name", "孟和")
    await page.fill("#join-code", code)
    await page.click("#join-submit")
    bot = page.locator(".msg.bot")
    await expect(bot.last).to_contain_text("注册成功")

    # A question in plain words gets the contact's own menu, the asked-for button first.
    await page.fill("#composer-input", "你好，请问怎么报送进展？")
    await page.press("#composer-input", "Enter")
    await expect(bot.last).to_contain_text("您是想报送工作进展吗")
    await expect(bot.last.locator(".kb-btn").first).to_have_text("报送进展")
    await bot.last.locator(".kb-btn", has_text="报送进展").click()
    await expect(bot.last).to_contain_text("请选择要报送进展的批次")
    await bot.last.locator(".kb-btn").first.click()
    await expect(bot.last).to_contain_text("请选择报送对象")
    await bot.last.locator(".kb-btn", has_text="不指定").click()
    await expect(bot.last).to_contain_text("请输入本次进展内容")
    await page.fill("#composer-input", "已完成2宗矿业权征占用草原审查，审查意见见附件。")
    await page.press("#composer-input", "Enter")
    await expect(bot.last).to_contain_text("Word")

    # A Word file, as offices write them.
    word = tmp_path / "草原审查意见.docx"
    doc = Document()
    doc.add_paragraph("关于2宗矿业权征占用草原的审查意见")
    doc.save(str(word))
    await page.set_input_files("#file-input", str(word))
    await expect(bot.last).to_contain_text("已收到附件：草原审查意见.docx")
    await bot.last.locator(".kb-btn", has_text="完成上传").click()
    await expect(bot.last).to_contain_text("附件：草原审查意见.docx")
    await bot.last.locator(".kb-btn", has_text="确认提交").click()
    await expect(bot.last).to_contain_text(re.compile(r"已报送（\d+号进展报送）"))

    # A problem, again in plain words first.
    await page.fill("#composer-input", "有个事卡住了，想反映一下")
    await page.press("#composer-input", "Enter")
    await expect(bot.last).to_contain_text("您是想反映问题")
    await bot.last.locator(".kb-btn", has_text="反映问题").click()
    await expect(bot.last).to_contain_text("请描述问题")
    await page.fill("#composer-input", "有问题")
    await page.press("#composer-input", "Enter")
    await expect(bot.last).to_contain_text("过于简单")
    await page.fill("#composer-input", "张佳花岗岩整合区用草审批缺少用地预审意见，需自然资源局先出具。")
    await page.press("#composer-input", "Enter")
    await expect(bot.last).to_contain_text("先选大类")
    await bot.last.locator(".kb-btn", has_text="手续审批").click()
    await bot.last.locator(".kb-btn", has_text="用地").first.click()
    await expect(bot.last).to_contain_text("问题涉及哪个矿业权或整合区")
    await bot.last.locator(".kb-btn", has_text="不指定").click()
    await expect(bot.last).to_contain_text("建议由")
    await bot.last.locator(".kb-btn", has_text="确认由").click()
    await expect(bot.last).to_contain_text("如有相关材料")
    await bot.last.locator(".kb-btn", has_text="不附材料").click()
    await expect(bot.last).to_contain_text("请确认要提出的问题")
    await bot.last.locator(".kb-btn", has_text="确认提交").click()
    await expect(bot.last).to_contain_text(re.compile(r"已提交\d+号问题"))

    with session_scope(engine) as s:
        report = s.exec(select(Report)).one()
        files = s.exec(select(Attachment).where(Attachment.report_id == report.id)).all()
        problem = s.exec(select(Problem)).one()
    assert [a.filename for a in files] == ["草原审查意见.docx"]
    assert "用地预审" in problem.text
