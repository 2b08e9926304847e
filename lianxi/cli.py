"""The `lianxi` command line: the sub-apps assembled in one list.

Structure (no import cycle: every command module imports `lianxi.common`, nothing imports
this module):

- `lianxi/common.py`: consoles, `fail`, `cli_session`, `require_plan`, the engine, `new_app`;
- `lianxi/chinese_help.py`: the help and usage errors in Chinese (`ChineseTyper`);
- `lianxi/cli_<area>.py`: one module per area, each with a module-level `app`, a
  `ChineseTyper`: either a named group (`new_app(name="ledger", help=…)`, giving
  `lianxi ledger …`) or an unnamed one whose commands become top-level commands
  (`@app.command("brief")`, giving `lianxi brief`).

Adding a command module is one line: its module name in `COMMAND_MODULES` below (the order is
the order of `lianxi --help`). A module that is listed but missing is an error at start, never
skipped. Keep module level light (typer and `lianxi.common` only; settings, models, the domain
and anything heavy imported inside the command functions): every start of `lianxi` imports
every listed module, and `tests/test_cli_startup.py` checks that WeasyPrint, matplotlib and
Telegram stay out.
"""

from __future__ import annotations

import importlib
from typing import Any

from lianxi.chinese_help import ChineseTyper

COMMAND_MODULES: tuple[str, ...] = (
    "lianxi.cli_sandbox",  # up, sandbox
    "lianxi.cli_bot",  # bot
    "lianxi.cli_worker",  # worker, schedule …
    "lianxi.cli_db",  # db …
    "lianxi.cli_plan",  # plan …
    "lianxi.cli_members",  # unit …, invite …, member …, zone …
    "lianxi.cli_ledger",  # ledger …
    "lianxi.cli_brief",  # brief
    "lianxi.cli_progress",  # progress
    "lianxi.cli_accountability",  # notices …, review
    "lianxi.cli_rectification",  # rectification list|close|recheck
    "lianxi.cli_calendar",  # calendar …
    "lianxi.cli_outbox",  # outbox stats
    "lianxi.cli_demo",  # demo
)


def build_app() -> ChineseTyper:
    """The root app with every module of COMMAND_MODULES added, in order."""
    root = ChineseTyper(
        name="lianxi",
        help="lianxi 联席：矿业权整合联席会议的聊天机器人与报告工作进程。",
        no_args_is_help=True,
        add_completion=True,
    )
    for name in COMMAND_MODULES:
        root.add_typer(importlib.import_module(name).app)
    return root


app = build_app()


def main() -> None:  # pragma: no cover - console entry
    app()


_COMPAT = ("EXIT_REFUSED", "cli_session", "engine_for_cli", "err", "fail", "out", "require_plan", "setup_logging")


def __getattr__(name: str) -> Any:
    """The helpers that used to live here (`from lianxi.cli import out, fail …`): now in lianxi.common.

    Kept while other branches still import them from here; new code imports lianxi.common.
    """
    if name in _COMPAT:
        import lianxi.common

        return getattr(lianxi.common, name)
    raise AttributeError(name)
