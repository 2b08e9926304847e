"""The command line's help, for every command, is Chinese and whole; usage errors are Chinese sentences."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from lianxi.cli import app

runner = CliRunner()
ROOT = typer.main.get_command(app)

# Latin words a Chinese help page may hold: product and format names, environment variables,
# and the values a user types (role keys, plan keys, job keys, period forms like 2026Q1).
ALLOWED_WORDS = {
    "lianxi", "Telegram", "webhook", "PDF", "Word", "docx", "JSON", "YAML", "yaml", "xlsx", "cron",
    "TELEGRAM_WEBHOOK_URL", "SANDBOX_HOST", "SANDBOX_PORT",
    "contact", "office", "convener", "zone_leader", "supervisor", "admin", "start",
    "urad", "middle", "banner", "inner", "mongolia", "brief", "weekly_reminder",
    "Q", "H", "W", "HH", "MM", "quarterly", "wdN", "full", "small", "UTF", "txt",
}  # fmt: skip
CLICK_ENGLISH = re.compile(
    r"Usage|Options|Arguments|Commands|Show this message|default:|required|Missing|Error|Try '|"
    r"<(?:str|int|float|path|Path)>|\[OPTIONS\]|COMMAND"
)


def _walk(cmd: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _walk(sub, (*path, name))


PATHS = list(_walk(ROOT))
COMMAND_NAMES = {word for path in PATHS for name in path for word in (name, *name.split("-"))}  # rebuild-projections


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _first_paragraph(cmd: object) -> str:
    text = getattr(cmd, "short_help", None) or getattr(cmd, "help", None) or ""
    return re.split(r"\n\s*\n", text.strip())[0]


def _command(path: tuple[str, ...]) -> object:
    cmd: object = ROOT
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def test_every_command_is_listed_and_has_help():
    # Every area of the CLI is there (a module dropped from COMMAND_MODULES would fail here).
    top = set(ROOT.commands)
    assert {"up", "sandbox", "bot", "worker", "schedule", "db", "plan", "unit", "invite", "member", "zone"} <= top
    assert {"ledger", "brief", "notices", "review", "demo"} <= top
    assert len(PATHS) >= 30
    for path in PATHS:
        assert _first_paragraph(_command(path)), f"lianxi {' '.join(path)} has no description"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "lianxi")
def test_help_is_chinese_and_whole(path: tuple[str, ...]):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith(f"用法：lianxi {' '.join(path)}".rstrip() + " "), text
    assert "显示本帮助并退出。" in text
    assert not CLICK_ENGLISH.search(text), text
    latin = set(re.findall(r"[A-Za-z][A-Za-z_]*", re.sub(r"(?<!\w)--?[A-Za-z][\w-]*", " ", text)))
    assert latin <= ALLOWED_WORDS | COMMAND_NAMES, latin - ALLOWED_WORDS - COMMAND_NAMES
    cmd = _command(path)
    # The command's own description, whole (wrapped, never cut).
    assert _squash(_first_paragraph(cmd)) in _squash(text)
    # Each subcommand's description, whole, in the list of commands; nothing ends in an ellipsis.
    for sub in getattr(cmd, "commands", {}).values():
        assert _squash(_first_paragraph(sub)) in _squash(text), sub.name
    assert "…" not in text.replace("TELEGRAM_BOT_TOKEN=123456:ABC…", "")
    assert not re.search(r"\.\.\.\s*$", text.split("命令：")[-1], re.M) or not getattr(cmd, "commands", None)


def test_a_long_description_wraps_by_display_width_without_losing_a_character():
    from lianxi.chinese_help import display_width

    text = runner.invoke(app, ["--help"]).output  # CliRunner sets the width to 80 columns
    lines = text.splitlines()
    # A Chinese character takes two columns: lines are measured so, and fill the width.
    assert 70 <= max(display_width(line) for line in lines) <= 80
    assert "运行工作进程：定时生成简报、发送提醒；多开时只有一个处于工作状态，其余待命。" in _squash(text)
    # A line never starts with closing punctuation.
    assert not any(line.strip()[:1] in "，。、；：）" for line in lines if line.strip())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["nope"], "错误：没有命令“nope”。"),
        (["plan", "--wat"], "错误：没有选项 --wat。"),
        (
            ["invite", "create", "--unit", "林草局", "--role", "contact", "--days", "三天"],
            "错误：--days 的值无效，应为整数。",
        ),
        (["invite", "create", "--role", "contact"], "错误：缺少选项 --unit。"),
        (["ledger", "export"], "错误：缺少参数 输出文件.xlsx。"),
        (["brief", "--period"], "错误：选项 --period 需要一个值。"),
        (["db", "upgrade", "extra"], "错误：多余的参数：extra。"),
    ],
)
def test_usage_errors_are_chinese_with_exit_2(args: list[str], expected: str):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert expected in result.output, result.output
    if args != ["brief", "--period"]:  # click's parser raises that one without the command at hand
        assert "查看帮助：lianxi" in result.output and "用法：lianxi" in result.output
    assert not CLICK_ENGLISH.search(result.output), result.output


def test_no_arguments_shows_the_help():
    result = runner.invoke(app, ["ledger"])
    assert result.exit_code == 2
    assert "用法：lianxi ledger [选项] 命令 [参数]..." in result.output and "template" in result.output
