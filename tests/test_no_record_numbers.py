"""No record number in anything a user reads in chat: every dialogue run through
tests.harness.running_bot ends by scanning everything the bot gave people to read on the local
Bot API server (texts and captions as sent and as edited, file names, button labels, the answers
shown on pressed buttons, command menus) for "#12" or an id after 编号; a record is cited as body
text cites it (12号问题, 4号进展报送, 2号整改事项, 乌中联办通〔2026〕1号). These tests show the scan
catches each way a number could reach a reader, and lets through only what users typed."""

from __future__ import annotations

import pytest
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup

from localbotapi.server import BotApiServer
from tests.harness import TOKEN, assert_no_record_numbers, record_numbers


def test_record_numbers_are_found_unless_the_user_typed_them():
    said = [
        "已提交12号问题，已交办旗林草局。",  # the citation form
        "查看 #3",
        "姓名：王林\n成员编号：5",
        "找不到编号为 7 的矿业权。",
        "抱歉，处理时出现错误（错误代码：3fa9c1），已记录。",
        "【待接收】#8 林草征占用手续办理受阻",  # shown back as the user wrote it
        "矿业权编号“C1500002010001”",  # a right's own code is no record number
        "【待接收】#9 林草征占用手续办理受阻",  # a number the user did not write
    ]
    typed = ["#8 林草征占用手续办理受阻"]
    assert record_numbers(said, typed) == [said[1], said[2], said[3], said[7]]


async def test_the_scan_reads_texts_edits_buttons_answers_and_menus():
    """Each channel a number could come through, sent by a bot to the local server, fails the scan."""
    cases = {
        "text": "查看 #12",
        "button": "编号 5",
        "edit": "成员编号：5",
        "caption": "11号问题的材料（#3）",
        "menu": "撤销成员：/revoke 成员编号 5",
    }
    for channel, shown in cases.items():
        async with BotApiServer() as server:
            user = server.user(5001, "王林")
            async with Bot(TOKEN, base_url=server.api_base, base_file_url=server.file_base) as bot:
                clean = "已提交12号问题。"
                keyboard = [[InlineKeyboardButton(shown if channel == "button" else "接收", callback_data="x")]]
                sent = await bot.send_message(
                    user.id, shown if channel == "text" else clean, reply_markup=InlineKeyboardMarkup(keyboard)
                )
                if channel == "edit":
                    await bot.edit_message_text(shown, chat_id=user.id, message_id=sent.message_id)
                if channel == "caption":
                    await bot.send_document(user.id, b"%PDF-1.4\n", filename="材料.pdf", caption=shown)
                if channel == "menu":
                    await bot.set_my_commands([BotCommand("revoke", shown)])
            with pytest.raises(AssertionError, match="record numbers in what users read"):
                assert_no_record_numbers(server)
            assert any(shown in text for text in server.said()), channel


async def test_a_pressed_buttons_answer_is_scanned_and_what_users_typed_is_not():
    async with BotApiServer() as server:
        user = server.user(5002, "李四")
        async with Bot(TOKEN, base_url=server.api_base, base_file_url=server.file_base) as bot:
            await user.send("#4 用草审批未办理")
            await bot.send_message(user.id, "已提交：#4 用草审批未办理")  # the user's own words, shown back
            assert_no_record_numbers(server)
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="ok")]])
            card = await bot.send_message(user.id, "请确认", reply_markup=keyboard)
            query = await user.press(card.message_id, "ok")
            await bot.answer_callback_query(query["id"], text="已确认（申请 #7）")
        with pytest.raises(AssertionError, match="已确认（申请 #7）"):
            assert_no_record_numbers(server)
