"""The flow engine's own rules: every handler is a short plain function (so none can hold the
transaction across an await), and a declaration that cannot work is refused when the bot is
built, not when a user presses the button."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import pytest
from sqlmodel import select

from bot import texts
from bot.app import DECLARED
from bot.engine import Command, Dispatcher, Flow, Step, Turn, action, command, handlers_of
from models import Role
from tests.harness import button_data

MAX_HANDLER_LINES = 25


def test_every_declared_handler_is_a_plain_function_of_at_most_25_lines():
    handlers = handlers_of(DECLARED)
    assert len(handlers) >= 20  # the list is the bot: an empty one would pass anything
    too_long = {}
    for handler in handlers:
        assert not inspect.iscoroutinefunction(handler), handler.__qualname__
        lines, _ = inspect.getsourcelines(handler)
        body = [line for line in lines if not line.lstrip().startswith("@")]  # the decorator is not the handler
        if len(body) > MAX_HANDLER_LINES:
            too_long[f"{handler.__module__}.{handler.__qualname__}"] = len(body)
    assert too_long == {}


def test_a_handler_that_could_await_inside_the_transaction_is_refused():
    async def whoami(turn: Turn[None]) -> None:  # awaits would hold SQLite's write lock
        return None

    with pytest.raises(TypeError, match="plain function"):
        Dispatcher([Command("whoami", whoami)])  # the mistake under test


def test_declarations_that_cannot_work_are_refused_at_build():
    @command("nosuchcommand")
    def unknown(turn: Turn[None]) -> None:
        return None

    @action("undotted")
    def press(turn: Turn[None]) -> None:
        return None

    @dataclass
    class Clashing:
        fid: str = ""  # the engine's own key in a flow's saved data

    def step(turn: Turn[Clashing]) -> None:
        return None

    with pytest.raises(ValueError, match=r"oversight\.access"):
        Dispatcher([unknown])
    with pytest.raises(ValueError, match="dotted"):
        Dispatcher([press])
    with pytest.raises(ValueError, match="field named fid"):
        Dispatcher([Flow("clash", Clashing, steps={"one": Step(buttons={"go": step})})])
    with pytest.raises(ValueError, match="declared twice"):
        Dispatcher([*DECLARED, DECLARED[0]])


async def test_contact_revoked_mid_report_is_refused_at_the_next_button_and_the_next_line(
    engine, banner_plan_id, settings_env
):
    """林草局's contact is half-way through /report when the admin revokes them from the CLI:
    the next button and the next typed line are refused, and nothing is filed."""
    from models import Report, session_scope
    from oversight.members import revoke_member
    from tests.harness import running_bot

    async with running_bot(engine, banner_plan_id, deliver_outbox=False) as h:
        user = await h.join(7301, "周青", "林草局", Role.CONTACT)
        tasks = await h.say(user, "/report", "请选择要报送进展的批次")
        target = await h.press(user, tasks, "强化整合重组一批", "请选择报送对象")
        with session_scope(engine) as s:
            revoke_member(session=s, member_id=h.member(user).id, actor="cli")
        query = await user.press(target, button_data(target, "不指定"))
        assert (await h.server.wait_for_answer(query["id"]))["text"] == texts.NOT_MEMBER
        assert (await h.say(user, "本周完成现场核查", texts.NOT_MEMBER))["text"] == texts.NOT_MEMBER
    with session_scope(engine) as s:
        assert s.exec(select(Report)).all() == []


async def test_a_units_business_asked_in_the_group_is_answered_in_private(engine, banner_plan_id):
    """/todo in the joint meeting group: the group is told the answer went to a private chat,
    and the unit's list goes there, not to the group."""
    from tests.harness import running_bot

    async with running_bot(engine, banner_plan_id, deliver_outbox=False) as h:
        user = await h.join(7302, "吴红", "水利局", Role.CONTACT)
        group = h.server.group(-100777, "联席会议群", members=[user])
        await user.send("/todo", chat_id=group.id)
        assert (await h.server.wait_for(group.id, texts.PRIVATE_ONLY))["text"] == texts.PRIVATE_ONLY
        answer = await h.server.wait_for(user.id, "待办")
        assert "水利局" in answer["text"]
        assert not any("待办" in (m.get("text") or "") for m in h.server.messages(group.id))
