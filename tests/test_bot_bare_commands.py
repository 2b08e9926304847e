"""A command that takes no words is not silently taken for itself when words follow it: /whoami 张三,
/help xyz, /ledger 本季度 are refused with what to send instead, and nothing is done (no
conversation opened, no group bound, an open conversation left open). The flag is on each
command's declaration (bot.engine.Command.bare), and the one dispatcher refuses."""

from __future__ import annotations

from sqlmodel import select

from bot import texts
from bot.app import DECLARED
from bot.engine import Command
from models import ChatState, GroupBinding, Role, session_scope
from tests.harness import running_bot

# Every command that takes nothing after it: /start, /invite, /revoke, /calendar, /meeting, /flag,
# /report and /problem use their words; these have none to use.
BARE = {
    "whoami",
    "help",
    "cancel",
    "members",
    "bindgroup",
    "todo",
    "progress",
    "schedule",
    "decision",
    "notices",
    "briefs",
    "explain",
    "ledger",
    "rectify",
    "duban",
}
WORDS = "附加内容"


def _refusal(name: str, what: str) -> str:
    return f"/{name} 后面不用加文字，“{WORDS}”未作处理。直接发送 /{name} 即可{what}。"


def test_every_command_that_takes_no_words_is_declared_so():
    declared = {c.name for c in DECLARED if isinstance(c, Command) and c.bare}
    assert declared == BARE
    assert all(texts.COMMAND_WHAT.get(name) for name in BARE)


def _open_flows(engine, user_id: int) -> list[str]:
    with session_scope(engine) as s:
        return [row.flow for row in s.exec(select(ChatState).where(ChatState.user_id == user_id)).all()]


async def test_each_bare_command_with_words_is_refused_with_its_use_and_nothing_is_done(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        admin = await h.join(18101, "管理员", "旗政府办公室", Role.ADMIN)
        office = await h.join(18102, "办公室", "旗政府办公室", Role.OFFICE)
        contact = await h.join(18103, "林草联络员", "林草局", Role.CONTACT)
        stranger = h.server.user(18104, "未注册者")
        by_user = {
            "whoami": stranger,
            "help": stranger,
            "cancel": contact,
            "members": admin,
            "todo": contact,
            "progress": contact,
            "schedule": admin,
            "decision": office,
            "notices": office,
            "briefs": office,
            "explain": contact,
            "ledger": contact,
            "rectify": contact,
            "duban": office,
        }
        assert set(by_user) | {"bindgroup"} == BARE
        for name, user in by_user.items():
            said = await h.say(user, f"/{name} {WORDS}", "不用加文字")
            assert said["text"] == _refusal(name, texts.COMMAND_WHAT[name]), name
            assert "reply_markup" not in said, name
        # /ledger and /decision with words opened no conversation.
        assert _open_flows(engine, contact.id) == [] and _open_flows(engine, office.id) == []

        # /whoami 张三 by a member: refused; /whoami alone still answers.
        said = await h.say(admin, "/whoami 张三", "不用加文字")
        assert said["text"] == "/whoami 后面不用加文字，“张三”未作处理。直接发送 /whoami 即可查看本人的注册信息。"
        assert "姓名" in (await h.say(admin, "/whoami", "姓名："))["text"]
        assert "可以使用以下命令" in (await h.say(admin, "/help", "可以使用以下命令"))["text"]

        # /cancel with words leaves the open conversation open; /cancel alone closes it.
        await h.say(contact, "/ledger", "台账")
        assert _open_flows(engine, contact.id) == ["ledger"]
        said = await h.say(contact, "/cancel 不报了", "不用加文字")
        assert said["text"].startswith("/cancel 后面不用加文字，“不报了”未作处理。")
        assert _open_flows(engine, contact.id) == ["ledger"]
        await h.say(contact, "/cancel", texts.CANCELLED)
        assert _open_flows(engine, contact.id) == []

        # /bindgroup with words, in the group: refused there, the group not bound.
        group = h.server.group(-100818, "乌拉特中旗联席会议群", members=[admin])
        group.bot_member = True
        mark = h.server.mark()
        await admin.send(f"/bindgroup {WORDS}", chat_id=-100818)
        said = await h.server.wait_for(-100818, "不用加文字", after=mark)
        assert said["text"] == _refusal("bindgroup", texts.COMMAND_WHAT["bindgroup"])
        with session_scope(engine) as s:
            assert s.get(GroupBinding, banner_plan_id) is None
        mark = h.server.mark()
        await admin.send("/bindgroup", chat_id=-100818)
        await h.server.wait_for(-100818, "已将本群绑定", after=mark)
