"""The local Bot API server, driven by a real python-telegram-bot Application over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import hashlib
import html
import os
import warnings

import httpx
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot, BotCommand, BotCommandScopeChat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.helpers import escape_markdown

from localbotapi import BotApiServer, Faults, SimError
from localbotapi.entities import EntityParseError, parse_text

TOKEN = "123456:TEST-token"
USER_ID = 4201


@pytest.fixture
async def server():
    async with BotApiServer(seed=1) as srv:
        yield srv


def _builder(server: BotApiServer, token: str = TOKEN):
    return ApplicationBuilder().token(token).base_url(f"{server.url}/bot").base_file_url(f"{server.url}/file/bot")


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="ok")]])
    await update.message.reply_text("欢迎使用联席会议助手", reply_markup=keyboard)


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data.setdefault("seen", []).append(update.update_id)
    await update.message.reply_text(update.message.text)


async def _pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer("好的")
    await update.callback_query.edit_message_text("已确认")


async def _document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    data = await (await update.message.document.get_file()).download_as_bytearray()
    await update.message.reply_text(f"收到 {hashlib.sha256(data).hexdigest()}")


@pytest.fixture
async def app(server):
    application = _builder(server).build()
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(CallbackQueryHandler(_pressed))
    application.add_handler(MessageHandler(filters.Document.ALL, _document))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    yield application
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


@pytest.fixture
async def bot(server):
    async with Bot(TOKEN, base_url=server.api_base, base_file_url=server.file_base) as b:
        yield b


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form is deprecated
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# ----------------------------------------------------------------------------- dialogues


async def test_start_command_gets_welcome_and_text_is_echoed(server, app):
    user = server.user(USER_ID, "李四")

    await user.send_command("start")
    welcome = await server.wait_for(USER_ID)
    await user.send("请提交本周进展")
    echo = await server.wait_for(USER_ID)

    assert welcome["text"] == "欢迎使用联席会议助手"
    assert welcome["from"]["username"] == "lianxi_bot"
    assert welcome["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ok"
    assert echo["text"] == "请提交本周进展"
    assert [m["text"] for m in server.messages(USER_ID)] == ["欢迎使用联席会议助手", "请提交本周进展"]
    assert server.updates_delivered == 2


async def test_button_press_is_answered_and_message_edited(server, app):
    user = server.user(USER_ID)
    await user.send_command("start")
    welcome = await server.wait_for(USER_ID)

    query = await user.press(welcome, "ok")
    answer = await server.wait_for_answer(query["id"])
    edited = await server.wait_for(USER_ID, "已确认")

    assert server.callback_answers == ["好的"]
    assert answer["user_id"] == USER_ID
    assert edited["message_id"] == welcome["message_id"]
    assert "reply_markup" not in edited  # editing text without a keyboard removes it
    assert server.last(USER_ID)["text"] == "已确认"
    with pytest.raises(SimError):  # the button is gone after the edit
        await user.press(welcome, "ok")


async def test_uploaded_document_is_downloaded_byte_identical(server, app):
    data = os.urandom(150_000)
    user = server.user(USER_ID)

    await user.upload(data, "进展.xlsx", caption="第3周")
    reply = await server.wait_for(USER_ID)

    assert reply["text"] == f"收到 {hashlib.sha256(data).hexdigest()}"


async def test_redelivered_update_arrives_twice_with_same_id(server, app):
    user = server.user(USER_ID)
    await user.send("一次")
    first = await server.wait_for(USER_ID)
    first_id = app.bot_data["seen"][0]

    server.redeliver(first_id)
    duplicate = await server.wait_for(USER_ID)
    await user.send("两次")
    await server.wait_for(USER_ID, "两次")

    assert duplicate["message_id"] > first["message_id"]
    assert app.bot_data["seen"] == [first_id, first_id, first_id + 1]
    assert [m["text"] for m in server.messages(USER_ID)] == ["一次", "一次", "两次"]


async def test_rate_limiter_retries_after_429(server):
    application = _builder(server).rate_limiter(AIORateLimiter(max_retries=2)).build()
    application.add_handler(MessageHandler(filters.TEXT, _echo))
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        user = server.user(USER_ID)
        server.faults = Faults(rate_429=1.0, retry_after=1, methods={"sendMessage"})
        await user.send("限流")
        await asyncio.sleep(0.3)
        server.faults = Faults()
        reply = await server.wait_for(USER_ID, timeout=3)
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()

    statuses = [r.status for r in server.requests if r.method == "sendMessage"]
    assert reply["text"] == "限流"
    assert statuses[0] == 429 and statuses[-1] == 200
    assert len(server.messages(USER_ID)) == 1


# ----------------------------------------------------------------------------- bot calls


async def test_bot_sends_document_and_photo(server, bot):
    server.user(USER_ID)
    data = "会议纪要\n".encode() * 1000
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
        + (640).to_bytes(4, "big")
        + (480).to_bytes(4, "big")
        + b"\x08\x02\x00\x00\x00"
    )

    sent = await bot.send_document(USER_ID, data, filename="纪要.txt", caption="<b>纪要</b>", parse_mode="HTML")
    photo = await bot.send_photo(USER_ID, png, filename="图.png")
    again = await bot.send_document(USER_ID, sent.document.file_id)

    doc = server.documents(USER_ID)[0]
    assert doc["file_name"] == "纪要.txt"
    assert doc["mime_type"] == "text/plain"
    assert server.file_bytes(doc["file_id"]) == data
    assert sent.caption == "纪要" and sent.caption_entities[0].type == "bold"
    assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 480)
    assert photo.photo[0].width == 320
    assert again.document.file_id == sent.document.file_id
    assert bytes(await (await bot.get_file(sent.document.file_id)).download_as_bytearray()) == data


async def test_text_limits_and_markup_validation(server, bot):
    server.user(USER_ID)
    too_long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])

    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER_ID, "长" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER_ID, " ")
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(USER_ID, "按钮", reply_markup=too_long_data)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER_ID, "<b>未闭合", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "无人")
    ok = await bot.send_message(USER_ID, "长" * 4096)

    assert len(ok.text) == 4096
    assert len(server.messages(USER_ID)) == 1


async def test_upload_over_limit_is_413(server, bot):
    server.user(USER_ID)
    server.max_upload_bytes = 1000

    with pytest.raises(NetworkError, match="Request Entity Too Large"):
        await bot.send_document(USER_ID, b"x" * 1001, filename="big.bin")

    assert server.documents(USER_ID) == []


async def test_html_entities_use_utf16_offsets(server, bot):
    server.user(USER_ID)

    sent = await bot.send_message(
        USER_ID, "😀 矿权 <b>整合</b> &amp; <a href='https://x.cn'>链接</a>", parse_mode="HTML"
    )

    assert sent.text == "😀 矿权 整合 & 链接"
    assert sent.parse_entity(sent.entities[0]) == "整合"
    assert sent.entities[1].url == "https://x.cn"
    assert sent.parse_entity(sent.entities[1]) == "链接"


async def test_commands_are_stored_per_scope(server, bot):
    await bot.set_my_commands([BotCommand("start", "开始"), BotCommand("report", "报送")])
    await bot.set_my_commands([BotCommand("rule", "裁定")], scope=BotCommandScopeChat(-1001))

    assert [c["command"] for c in server.commands()] == ["start", "report"]
    assert server.commands({"type": "chat", "chat_id": -1001}) == [{"command": "rule", "description": "裁定"}]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(-1001))] == ["rule"]
    await bot.delete_my_commands()
    assert server.commands("default") == []


async def test_long_poll_waits_for_timeout_or_next_update(server, bot):
    user = server.user(USER_ID)
    loop = asyncio.get_running_loop()

    started = loop.time()
    empty = await bot.get_updates(timeout=0.3)
    waited = loop.time() - started
    loop.call_later(0.1, lambda: asyncio.ensure_future(user.send("来了")))
    started = loop.time()
    updates = await bot.get_updates(timeout=5)
    woke = loop.time() - started
    again = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)

    assert empty == () and waited >= 0.29
    assert [u.message.text for u in updates] == ["来了"] and woke < 2
    assert again == ()


async def test_edit_and_delete(server, bot):
    server.user(USER_ID)
    sent = await bot.send_message(USER_ID, "草稿")

    await bot.edit_message_text("定稿", chat_id=USER_ID, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("定稿", chat_id=USER_ID, message_id=sent.message_id)
    await bot.delete_message(USER_ID, sent.message_id)

    assert server.messages(USER_ID) == []
    assert server.transcript(USER_ID)[-1]["text"] == "定稿"
    assert server.transcript(USER_ID)[-1]["deleted"] is True


async def test_groups_blocking_and_separate_bots(server, bot):
    user = server.user(USER_ID)
    group = server.group(-100500, "联席会议工作群")
    await user.join_group(group.id)
    await user.send("/start@lianxi_bot", chat_id=group.id)
    updates = await bot.get_updates()
    other = Bot("777:other", base_url=server.api_base)
    async with other:
        other_updates = await other.get_updates()
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await other.send_message(USER_ID, "不认识")

    await bot.leave_chat(group.id)
    with pytest.raises(Forbidden):
        await bot.send_message(group.id, "还在吗")
    user.block()
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(USER_ID, "提醒")

    assert updates[0].message.new_chat_members[0].id == USER_ID
    assert updates[1].message.chat.type == "supergroup"
    assert updates[1].message.entities[0].type == "bot_command"
    assert other_updates == ()
    assert (await bot.get_chat_member(group.id, USER_ID)).status == "member"


async def test_webhook_receives_updates_instead_of_queue(server, bot):
    received: list[dict] = []
    arrived = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        assert request.headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
        received.append(await request.json())
        arrived.set()
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        user = server.user(USER_ID)
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        await user.send("走网络钩子")
        await asyncio.wait_for(arrived.wait(), 3)
        with pytest.raises(Exception, match=r"(?i)webhook is active"):
            await bot.get_updates()
        info = await bot.get_webhook_info()
        await bot.delete_webhook()
        await user.send("回到轮询")
        polled = await bot.get_updates()
    finally:
        await runner.cleanup()

    assert received[0]["message"]["text"] == "走网络钩子"
    assert info.url.endswith("/hook") and info.pending_update_count == 0
    assert [u.message.text for u in polled] == ["回到轮询"]


# ----------------------------------------------------------------------------- faults


async def test_429_raises_retry_after_and_records_nothing(server, bot):
    server.user(USER_ID)
    server.faults = Faults(rate_429=1.0, retry_after=7)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER_ID, "被限流")

    assert _retry_after_seconds(caught.value) == 7
    assert server.messages(USER_ID) == []
    assert server.requests[-1].status == 429


async def test_dropped_connection_and_offline_raise_network_error(server, bot):
    server.user(USER_ID)
    server.faults = Faults(rate_drop=1.0, methods={"sendMessage"})

    with pytest.raises(NetworkError):
        await bot.send_message(USER_ID, "掉线")
    me = await bot.get_me()  # other methods unaffected
    server.faults = Faults()
    server.set_offline(True)
    with pytest.raises(NetworkError):
        await bot.get_me()
    server.set_offline(False)

    assert me.username == "lianxi_bot"
    assert server.messages(USER_ID) == []
    assert [r.status for r in server.requests if r.method == "sendMessage"] == [0]


async def test_bad_gateway_raises_network_error(server, bot):
    server.user(USER_ID)
    server.faults = Faults(rate_5xx=1.0, json_5xx=True)

    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(USER_ID, "网关")

    assert server.messages(USER_ID) == []


async def test_unknown_method_and_bad_token(server):
    async with httpx.AsyncClient(base_url=server.url) as client:
        unknown = await client.post(f"/bot{TOKEN}/sendTelepathy")
        bad = await client.get("/botnotatoken/getMe")

    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    assert bad.status_code == 404


# ----------------------------------------------------------------------------- /_sim control API


async def test_sim_http_api_drives_a_conversation(server, app):
    async with httpx.AsyncClient(base_url=server.url) as client:
        sent = (await client.post("/_sim/send", json={"user_id": 88, "first_name": "王五", "text": "/start"})).json()[
            "result"
        ]
        page = (await client.get("/_sim/messages", params={"chat_id": 88, "after": sent["seq"], "wait": 3})).json()[
            "result"
        ]
        welcome = page["messages"][0]
        pressed = await client.post(
            "/_sim/press", json={"user_id": 88, "chat_id": 88, "message_id": welcome["message_id"], "data": "ok"}
        )
        await server.wait_for(88, "已确认")
        files = {"file": ("表.csv", b"a,b\n1,2\n", "text/csv")}
        await client.post("/_sim/upload", data={"user_id": "88", "caption": "附件"}, files=files)
        receipt = await server.wait_for(88, "收到")
        everything = (await client.get("/_sim/messages", params={"chat_id": 88})).json()["result"]["messages"]
        chats = (await client.get("/_sim/chats")).json()["result"]
        faults = (await client.post("/_sim/faults", json={"rate_429": 1.0, "retry_after": 2})).json()["result"]
        answers = (await client.get("/_sim/callback_answers")).json()["result"]

    assert sent["from_bot"] is False and sent["chat"]["first_name"] == "王五"
    assert welcome["from_bot"] is True and welcome["text"] == "欢迎使用联席会议助手"
    assert pressed.json()["ok"] is True
    assert [a["text"] for a in answers] == ["好的"]
    assert receipt["text"] == "收到 " + hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert [(m["from_bot"], m.get("text") or m["document"]["file_name"]) for m in everything] == [
        (False, "/start"),
        (True, "已确认"),
        (False, "表.csv"),
        (True, receipt["text"]),
    ]
    assert [c["id"] for c in chats] == [88]
    assert server.faults.rate_429 == 1.0 and faults["retry_after"] == 2


async def test_flood_control_limits_each_chat_each_group_and_the_bot(server, bot):
    now = [1000.0]
    server.monotonic = lambda: now[0]
    server.flood_control = True
    group = server.group(-2001, "专班群")
    private = server.user(USER_ID)

    # One message a second to a chat: the second within the second is refused.
    await bot.send_message(private.id, "第1条")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(private.id, "第2条")
    assert _retry_after_seconds(caught.value) == 1
    now[0] += 1.0
    await bot.send_message(private.id, "第2条")
    # A group: 20 in a minute even when spaced by a second.
    for n in range(20):
        await bot.send_message(group.id, f"通知 {n}")
        now[0] += 1.01
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "第21条")
    assert 30 <= _retry_after_seconds(caught.value) <= 60
    await bot.send_message(private.id, "私聊不受群限制")
    # The bot: 30 a second across chats.
    now[0] += 60
    for k in range(30):
        await bot.send_message(server.user(7000 + k).id, "广播")
    with pytest.raises(RetryAfter):
        await bot.send_message(server.user(7100).id, "第31条")
    # A chat held by hand answers 429 to every message until the hold is over; the rest flow.
    now[0] += 1
    server.hold_chat(group.id, 40)
    now[0] += 10
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "被限流")
    assert _retry_after_seconds(caught.value) == 30
    await bot.send_message(private.id, "照常")
    now[0] += 31
    await bot.send_message(group.id, "恢复")

    assert len(server.messages(group.id)) == 21
    assert [m["text"] for m in server.messages(private.id)] == ["第1条", "第2条", "私聊不受群限制", "照常"]


# ----------------------------------------------------------------------------- text parsing


@given(st.text(max_size=200))
def test_escaped_html_round_trips_to_the_same_text(text):
    plain, entities = parse_text(html.escape(text, quote=False), "HTML")

    assert plain == text
    assert all(e["type"] not in ("bold", "italic", "code", "pre") for e in entities)


@given(st.text(max_size=200))
def test_escaped_markdown_v2_round_trips_to_the_same_text(text):
    plain, _ = parse_text(escape_markdown(text, version=2), "MarkdownV2")

    assert plain == text


def test_markdown_v2_rejects_unescaped_reserved_character():
    with pytest.raises(EntityParseError, match="reserved"):
        parse_text("完成率 95.5%", "MarkdownV2")

    assert parse_text("*加粗* 和 _斜体_", "MarkdownV2") == (
        "加粗 和 斜体",
        [{"type": "bold", "offset": 0, "length": 2}, {"type": "italic", "offset": 5, "length": 2}],
    )
