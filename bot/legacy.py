"""Registries of the handlers not yet declared on bot.engine (they register themselves on
import). Temporary: emptied module by module as each moves to the engine, then removed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

CallbackAction = Callable[[Update, ContextTypes.DEFAULT_TYPE, dict[str, Any]], Awaitable[str | None]]
FlowStep = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]
CALLBACK_ACTIONS: dict[str, CallbackAction] = {}
FLOW_INPUT: dict[str, FlowStep] = {}
CommandSpec = tuple[str, Callable[..., Awaitable[Any]]]
EXTRA_COMMANDS: list[CommandSpec] = []


def on_callback(action: str) -> Callable[[CallbackAction], CallbackAction]:
    """Register the function that handles buttons minted with `action`."""

    def wrap(func: CallbackAction) -> CallbackAction:
        CALLBACK_ACTIONS[action] = func
        return func

    return wrap


def on_flow_input(flow: str) -> Callable[[FlowStep], FlowStep]:
    """Register the function that takes a user's typed text or file while `flow` is open."""

    def wrap(func: FlowStep) -> FlowStep:
        FLOW_INPUT[flow] = func
        return func

    return wrap
