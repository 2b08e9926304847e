"""The flow engine's own rules: every handler is a short plain function (so none can hold the
transaction across an await), and a declaration that cannot work is refused when the bot is
built, not when a user presses the button."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import pytest

from bot.app import DECLARED
from bot.engine import Command, Dispatcher, Flow, Step, Turn, action, command, handlers_of

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
        Dispatcher([Command("whoami", whoami)])  # type: ignore[arg-type]  # the mistake under test


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
