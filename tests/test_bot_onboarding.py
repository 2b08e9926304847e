"""Onboarding in chat: invites, /start, lockout, /whoami, /help, admin commands."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from localbotapi.state import BOT_USERNAME
from models import AuditLog, InviteCode, Member, Role, session_scope
from tests.harness import button_data, buttons, running_bot


def members_shown(engine, plan_id: int, shown: str) -> None:
    """/members as the admin read it is the plan's member facts, recounted from the member rows."""
    from oversight.members import member_list
    from tests.chatfacts import assert_members_facts

    with session_scope(engine) as s:
        chat = member_list(session=s, plan_id=plan_id)
        assert shown == chat.message()
        assert_members_facts(s, plan_id, chat.message(), chat.listed())


def revoke_shown(engine, admin: Member, words: str, shown: dict) -> None:
    """/revoke [words] as the admin read it is its fact and one button per member offered, recounted."""
    from oversight.members import revoke_choices
    from tests.chatfacts import assert_revoke_facts

    with session_scope(engine) as s:
        found = revoke_choices(session=s, admin=admin, words=words)
        assert shown["text"] == found.say.message() and buttons(shown) == [label for _, label in found.choices]
        assert_revoke_facts(s, int(admin.id or 0), words, found.say.message(), found.say.listed(), len(buttons(shown)))


async def test_contact_joins_with_invite_and_sees_role_menu(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        user = h.server.user(1001, "王林")
        code = h.invite_code("林草局", Role.CONTACT)
        await user.send(f"/start {code}")
        reply = await h.server.wait_for(1001, "注册成功")
        assert "旗林草局" in reply["text"] and "部门联络员" in reply["text"]
        member = h.member(user)
        assert member.role == Role.CONTACT and member.name == "王林"
        # The menu for this chat fits the role: a contact reports, an admin command is absent.
        menu = [c["command"] for c in h.server.commands({"type": "chat", "chat_id": 1001})]
        assert "report" in menu and "flag" in menu and "invite" not in menu

        who = await h.say(user, "/whoami", "单位")
        assert (
            who["text"] == "姓名：王林\n单位：旗林草局\n角色：部门联络员\n所属计划：" + who["text"].rsplit("：", 1)[1]
        )
        assert str(member.id) not in who["text"]  # no record number in what the member reads
        # Addressed to the bot by name (as a group menu sends it), in any case: the same command.
        again = await h.say(user, f"/WhoAmI@{BOT_USERNAME}", "单位")
        assert again["text"] == who["text"]

        # The code is single-use: another user cannot reuse it.
        other = h.server.user(1002, "李四")
        await other.send(f"/start {code}")
        refusal = await h.server.wait_for(1002, "邀请码已经使用过")
        assert "管理员" in refusal["text"]
    with session_scope(engine) as s:
        assert s.exec(select(Member).where(Member.telegram_user_id == 1002)).first() is None


async def test_unknown_user_is_refused_and_only_audited(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        stranger = h.server.user(2001, "陌生人")
        reply = await h.say(stranger, "/members", "未注册")
        assert "/start 邀请码" in reply["text"]
        await h.say(stranger, "/start", "邀请码")
        await h.say(stranger, "你好", "未注册")
    with session_scope(engine) as s:
        assert s.exec(select(Member)).all() == []
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.actor == "tg:2001")).all()]
        assert "start.unregistered" in actions


async def test_five_wrong_codes_lock_the_user_out_for_an_hour(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        guesser = h.server.user(3001, "试探者")
        for i in range(5):
            await h.say(guesser, f"/start WRONGCODE{i}", "邀请码无效")
        good = h.invite_code("自然资源局", Role.CONTACT)
        reply = await h.say(guesser, f"/start {good}", "一小时")
        assert "次数过多" in reply["text"]
    with session_scope(engine) as s:
        assert s.exec(select(Member).where(Member.telegram_user_id == 3001)).first() is None
        invite = s.exec(select(InviteCode).where(InviteCode.used_at != None)).first()  # noqa: E711
        assert invite is None
        # An hour after the fifth failure the lock lifts (checked at the domain level with a clock).
        from oversight.members import locked_until, redeem_invite

        last = s.exec(select(AuditLog).where(AuditLog.action == "invite.failed").order_by(AuditLog.at.desc())).first()
        assert locked_until(session=s, telegram_user_id=3001, now=last.at + timedelta(minutes=59)) is not None
        later = last.at + timedelta(hours=1, minutes=1)
        assert locked_until(session=s, telegram_user_id=3001, now=later) is None
        member = redeem_invite(session=s, telegram_user_id=3001, name="试探者", code=good, now=later)
        assert member.role == Role.CONTACT


async def test_expired_code_is_refused(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        code = h.invite_code("应急管理局", Role.CONTACT)
        with session_scope(engine) as s:
            inv = s.exec(select(InviteCode)).one()
            inv.expires_at = inv.created_at - timedelta(seconds=1)
            s.add(inv)
        user = h.server.user(4001, "过期")
        await h.say(user, f"/start {code}", "过期。请向")


async def test_admin_invites_lists_and_revokes_in_chat(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        admin = await h.join(9001, "管理员甲", "旗政府办公室", Role.ADMIN)
        reply = await h.say(admin, "/invite 林草局 联络员 3", "邀请码")
        code = reply["text"].splitlines()[1].strip()
        contact = h.server.user(9002, "林草联络员")
        await h.say(contact, f"/start {code}", "注册成功")
        listing = await h.say(admin, "/members", "成员列表")
        assert "林草联络员" in listing["text"] and "旗林草局" in listing["text"]
        members_shown(engine, banner_plan_id, listing["text"])
        assert "#" not in listing["text"] and listing["text"].splitlines()[1].startswith("1. 管理员甲 · ")
        bad = await h.say(admin, "/invite 不存在的局 联络员", "找不到单位")
        assert "不存在的局" in bad["text"]
        bad_role = await h.say(admin, "/invite 林草局 局长", "未知角色")
        assert "局长" in bad_role["text"]
        # /revoke picks by name: a number is no name; then the member's button, then the confirmation.
        second = await h.join(9004, "林草联络员乙", "林草局", Role.CONTACT)
        none = await h.say(admin, f"/revoke {h.member(contact).id}", "没有姓名或单位包含")
        assert none["text"].startswith("没有姓名或单位包含")
        picker = await h.say(admin, "/revoke 林草", "请选择要撤销的成员（共2人）")
        revoke_shown(engine, h.member(admin), "林草", picker)
        revoke_shown(engine, h.member(admin), str(h.member(contact).id), none)
        labels = [b["text"] for row in picker["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == ["林草联络员·林草局·部门联络员", "林草联络员乙·林草局·部门联络员"], labels
        ask = await h.press(admin, picker, "林草联络员·", "确认撤销旗林草局联络员（部门联络员）？")
        assert h.member(contact).active  # not before the confirmation
        done = await h.press(admin, ask, "确认撤销", "已撤销成员旗林草局联络员（部门联络员）。")
        assert not h.member(contact).active and h.member(second).active
        refused = await h.say(contact, "/whoami", "未注册")
        assert refused
        # Pressed again: it says what came of the first press; nothing else changes.
        query = await admin.press(ask["message_id"], button_data(ask, "确认撤销"), check=False)
        assert (await h.server.wait_for_answer(query["id"]))["text"] == done["text"]
        # The admin is never among those to pick; a name matching nobody says so.
        mine = await h.say(admin, "/revoke 管理员甲", "没有姓名或单位包含“管理员甲”")
        assert not mine.get("reply_markup")
        # One left of 林草局: offered as the one there is.
        one = await h.say(admin, "/revoke 林草", "姓名或单位包含“林草”的在册成员只有1人")
        assert buttons(one) == ["林草联络员乙·林草局·部门联络员"]
        revoke_shown(engine, h.member(admin), "林草", one)
        # A contact cannot use admin commands.
        c2 = await h.join(9003, "联络员乙", "自然资源局", Role.CONTACT)
        no = await h.say(c2, "/invite 林草局 联络员", "不能使用")
        assert "/invite" in no["text"]


async def test_group_binding_and_unit_business_answered_in_private(engine, banner_plan_id):
    from models import GroupBinding

    async with running_bot(engine, banner_plan_id) as h:
        admin = await h.join(9101, "管理员乙", "旗政府办公室", Role.ADMIN)
        contact = await h.join(9102, "林草联络员丙", "林草局", Role.CONTACT)
        group = h.server.group(-100777, "乌拉特中旗联席会议群", members=[admin, contact])
        group.bot_member = True
        # A contact cannot bind the group; the admin can.
        mark = h.server.mark()
        await contact.send("/bindgroup", chat_id=-100777)
        refusal = await h.server.wait_for(contact.id, "不能使用", after=mark)
        assert "/bindgroup" in refusal["text"]
        mark = h.server.mark()
        await admin.send("/bindgroup", chat_id=-100777)
        bound = await h.server.wait_for(-100777, "已将本群绑定", after=mark)
        assert "联席会议群" in bound["text"]
        # /todo in the group is about one unit's business: the answer goes to the private chat.
        mark = h.server.mark()
        await contact.send("/todo", chat_id=-100777)
        private = await h.server.wait_for(contact.id, "待办", after=mark)
        assert "旗林草局" in private["text"]
        in_group = [m["text"] for m in h.server.messages(-100777)]
        assert not any("待办】" in t for t in in_group)
        assert any("私聊" in t for t in in_group)
    with session_scope(engine) as s:
        binding = s.get(GroupBinding, banner_plan_id)
        assert binding is not None and binding.chat_id == -100777


async def test_members_and_revoke_say_none_one_and_too_many_in_words(engine, banner_plan_id):
    """A new deployment's first admin is alone: /revoke says there is nobody else (no 共0人) and
    /members lists the admin as its one member; with one contact /revoke offers that one; with 31
    more members (added to the record directly) it asks to narrow, with their count and no buttons,
    and narrowed by a unit it offers that unit's members; each line recounted from the member rows."""
    from models import Unit

    async with running_bot(engine, banner_plan_id) as h:
        admin = await h.join(9001, "管理员甲", "旗政府办公室", Role.ADMIN)
        alone = await h.say(admin, "/revoke", "除您以外没有可撤销的在册成员。")
        assert not buttons(alone) and "0人" not in alone["text"]
        revoke_shown(engine, h.member(admin), "", alone)
        listing = await h.say(admin, "/members", "成员列表（共1人）：")
        assert listing["text"].splitlines()[1].startswith("1. 管理员甲 · 旗政府办公室 · ")
        members_shown(engine, banner_plan_id, listing["text"])

        await h.join(9002, "林草联络员", "林草局", Role.CONTACT)
        one = await h.say(admin, "/revoke", "可撤销的在册成员只有1人，如需撤销请点击：")
        revoke_shown(engine, h.member(admin), "", one)

        with session_scope(engine) as s:
            units = s.exec(select(Unit).where(Unit.plan_id == banner_plan_id).order_by(Unit.id)).all()
            water = next(u for u in units if u.name == "旗水利局")
            for i in range(31):
                unit = water if i < 3 else units[i % len(units)]
                s.add(Member(plan_id=banner_plan_id, unit_id=unit.id, role=Role.CONTACT, name=f"联络员{i:02d}"))
        many = await h.say(admin, "/revoke", "除您以外在册成员共32人，请在 /revoke 后写姓名或单位的一部分缩小范围")
        assert not buttons(many)
        revoke_shown(engine, h.member(admin), "", many)
        narrowed = await h.say(admin, "/revoke 联络员", "姓名或单位包含“联络员”的在册成员共32人，请写得更具体一些")
        revoke_shown(engine, h.member(admin), "联络员", narrowed)
        water_only = await h.say(admin, "/revoke 水利", "请选择要撤销的成员（共")
        revoke_shown(engine, h.member(admin), "水利", water_only)
        listing = await h.say(admin, "/members", "成员列表（共33人）：")
        members_shown(engine, banner_plan_id, listing["text"])
