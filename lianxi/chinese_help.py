"""The command line's help and usage errors in Chinese, whole.

Typer renders help through its vendored click, whose texts are English literals
("Usage:", "Options", "Show this message and exit.", "Missing option …") with no gettext
catalogue to translate them, and which shortens a command's description in the command list
(at 45 characters or the first sentence). So the CLI uses its own classes, set once in
`ChineseTyper` for every command module:

- `ChineseHelpFormatter` writes the headings, the usage prefix, the option table (types,
  "[default: …]", "[required]", the help option's own line) in Chinese, and wraps by display
  width (a Chinese character takes two columns) instead of by characters;
- `ChineseCommand` / `ChineseGroup` list a command with its whole first paragraph, name the
  placeholders 选项 / 命令 / 参数, and print a usage error as a Chinese sentence (exit 2);
- Typer's rich help is off (`rich_markup_mode=None`): it is English too, and importing rich's
  pretty printing cost a tenth of a second at every start.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import typer
from typer import _click as click
from typer._click.exceptions import (
    BadArgumentUsage,
    BadOptionUsage,
    BadParameter,
    ClickException,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer.core import TyperCommand, TyperGroup

F = TypeVar("F", bound=Callable[..., Any])

HEADINGS = {"Usage": "用法", "Options": "选项", "Arguments": "参数", "Commands": "命令"}
# Help texts click and Typer write themselves (the help option, shell completion).
PHRASES = {
    "Show this message and exit.": "显示本帮助并退出。",
    "Install completion for the current shell.": "为当前终端安装命令补全。",
    "Show completion for the current shell, to copy it or customize the installation.": (
        "显示当前终端的命令补全脚本，可复制或自行安装。"
    ),
}
# The value types Typer shows beside an option ("--days <int>").
TYPE_NAMES = {
    "str": "文本",
    "int": "整数",
    "float": "数值",
    "bool": "是/否",
    "path": "路径",
    "Path": "路径",
}
_TYPE = re.compile(r"<(?:list\[)?(\w+)\]?>")  # <str>, or <list[str]> for a repeated argument
_EXTRA = re.compile(
    r"\[(?P<body>(?:default: .*?|required|env var: .*?)(?:; (?:default: .*?|required|env var: .*?))*)\]$"
)

OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]..."


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: two for a wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


_WIDE = "\u2e80-\u9fff\uff00-\uffef\u3000-\u303f"
# A line never starts with closing punctuation (the rule of Chinese typesetting): it stays
# with the character before it.
_CLOSING = "，。、；：！？）》」』】,.;:!?)"
_TOKEN = re.compile(rf"(?:[{_WIDE}]|[^\s{_WIDE}]+)[{re.escape(_CLOSING)}]*|\s+")


def _tokens(text: str) -> list[str]:
    """Break points for wrapping: each wide character alone, runs of other characters whole."""
    return _TOKEN.findall(text)


def wrap(text: str, width: int) -> list[str]:
    """`text` as lines of at most `width` columns (a token longer than a line is split)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line, used = "", 0
        for token in _tokens(paragraph):
            w = display_width(token)
            if token.isspace():
                if line:
                    line, used = line + " ", used + 1
                continue
            if used + w > width and line.strip():
                lines.append(line.rstrip())
                line, used = "", 0
            while w > width:  # a long path or URL: cut it, nothing is dropped
                cut = 0
                while cut < len(token) and display_width(token[: cut + 1]) <= width - used:
                    cut += 1
                lines.append(line + token[:cut])
                token, line, used = token[cut:], "", 0
                w = display_width(token)
            line, used = line + token, used + w
        lines.append(line.rstrip())
    return lines


def translate_help(text: str) -> str:
    """An option's help text with click's and Typer's English parts in Chinese."""
    text = PHRASES.get(text, text)
    match = _EXTRA.search(text)
    if match:
        parts = []
        for part in match.group("body").split("; "):
            if part == "required":
                parts.append("必填")
            elif part.startswith("default: "):
                parts.append(f"默认 {part.removeprefix('default: ')}")
            else:
                parts.append(f"环境变量 {part.removeprefix('env var: ')}")
        text = f"{text[: match.start()].rstrip()}（{'；'.join(parts)}）".lstrip()
    return text


def translate_term(term: str) -> str:
    """An option's name and type ("--days <int>") with the type in Chinese."""
    return _TYPE.sub(lambda m: f"<{TYPE_NAMES.get(m.group(1), m.group(1))}>", term)


class ChineseHelpFormatter(click.HelpFormatter):
    """click's help formatter with Chinese headings and texts, wrapped by display width."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        prefix = "用法：" if prefix is None else prefix
        head = f"{'':>{self.current_indent}}{prefix}{prog} "
        lines = wrap(args, max(self.width - display_width(head), 20))
        indent = " " * display_width(head)
        self.write(head + f"\n{indent}".join(lines) + "\n")

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{HEADINGS.get(heading, heading)}：\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        for paragraph in re.split(r"\n\s*\n", text.strip()):
            body = " ".join(line.strip() for line in paragraph.strip().lstrip("\b").splitlines())
            for line in wrap(body, max(self.width - self.current_indent, 20)):
                self.write(f"{indent}{line}\n")
            self.write("\n")
        if self.buffer and self.buffer[-1] == "\n":
            self.buffer.pop()

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(translate_term(first), translate_help(second)) for first, second in rows]
        first_col = min(max((display_width(first) for first, _ in rows), default=0), col_max) + col_spacing
        indent = " " * self.current_indent
        text_width = max(self.width - self.current_indent - first_col, 20)
        for first, second in rows:
            self.write(f"{indent}{first}")
            if not second:
                self.write("\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - display_width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap(second, text_width)
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(" " * (first_col + self.current_indent) + line + "\n")


class ChineseContext(click.Context):
    formatter_class = ChineseHelpFormatter


def _hint(param: Any, ctx: click.Context | None) -> str:
    """How the user wrote (or should write) a parameter: its option names or its placeholder."""
    if param is None:
        return ""
    opts = getattr(param, "opts", None)
    if param.param_type_name == "option" and opts:
        return " / ".join(opts)
    return str(param.metavar or (param.name or "").upper())


def _type_label(param: Any, ctx: click.Context | None) -> str:
    shown = param.display_type(ctx) if ctx is not None else ""
    match = _TYPE.fullmatch(shown or "")
    return TYPE_NAMES.get(match.group(1), "") if match else ""


def usage_error_text(exc: UsageError) -> str:
    """A Chinese sentence for one of click's usage errors."""
    ctx = exc.ctx
    if isinstance(exc, MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "parameter")
        label = {"option": "选项", "argument": "参数"}.get(kind, "参数")
        return f"缺少{label} {_hint(exc.param, ctx)}。".replace(" 。", "。")
    if isinstance(exc, BadParameter):
        hint = _hint(exc.param, ctx) if exc.param is not None else ""
        wanted = _type_label(exc.param, ctx) if exc.param is not None else ""
        return f"{hint} 的值无效" + (f"，应为{wanted}。" if wanted else "。")
    if isinstance(exc, NoSuchOption):
        text = f"没有选项 {exc.option_name}。"
        if exc.possibilities:
            text += f"是否要用 {'、'.join(sorted(exc.possibilities))}？"
        return text
    if isinstance(exc, BadOptionUsage):
        if "does not take a value" in exc.message:
            return f"选项 {exc.option_name} 不带值。"
        return f"选项 {exc.option_name} 需要一个值。"
    if isinstance(exc, BadArgumentUsage):
        return f"参数有误：{exc.message}"
    message = exc.message
    if message == "Missing command.":
        return "缺少命令。"
    found = re.fullmatch(r"No such command '(.*)'\.", message)
    if found:
        return f"没有命令“{found.group(1)}”。"
    found = re.fullmatch(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", message)
    if found:
        return f"多余的参数：{found.group(1)}。"
    return f"用法有误：{message}"


def show_usage_error(exc: UsageError) -> None:
    """Print a usage error the way click does (usage line, hint, error), in Chinese."""
    ctx = exc.ctx
    if ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = f"查看帮助：{ctx.command_path} {ctx.help_option_names[0]}\n"
        click.echo(f"{ctx.get_usage()}\n{hint}", err=True)
    click.echo(f"错误：{usage_error_text(exc)}", err=True)


def whole_short_help(cmd: click.Command) -> str:
    """A command's whole first paragraph: a list of commands never cuts a description."""
    text = cmd.short_help or cmd.help or ""
    return " ".join(re.split(r"\n\s*\n", text.strip())[0].split())


def run_in_chinese(main: Callable[..., Any], args: Sequence[str] | None, prog_name: str | None, **extra: Any) -> Any:
    """Run click's `main` in non-standalone mode and do what standalone mode does (print the
    error, exit with its code), in Chinese: usage errors exit 2, as in click."""
    try:
        result = main(args, prog_name, standalone_mode=False, **extra)
    except NoArgsIsHelpError as exc:
        click.echo(exc.format_message(), err=True)
        sys.exit(exc.exit_code)
    except UsageError as exc:
        show_usage_error(exc)
        sys.exit(exc.exit_code)
    except ClickException as exc:
        click.echo(f"错误：{exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        click.echo("已中止。", err=True)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


LONG_RUNNING = "lianxi_long_running"


def long_running(func: F) -> F:
    """Mark a command that runs until stopped (the bot, the worker): a busy database does not restart it."""
    setattr(func, LONG_RUNNING, True)
    return func


class ChineseCommand(TyperCommand):
    """A command with Chinese help and usage errors, run again while the database is busy."""

    context_class = ChineseContext

    def invoke(self, ctx: click.Context) -> Any:
        from lianxi.common import cli_logging, invoke_retrying  # lianxi.common imports this module

        retry = not getattr(self.callback, LONG_RUNNING, False)
        if not retry:  # the bot, the worker, the sandbox: their own log (lianxi.common.setup_logging)
            return invoke_retrying(lambda: super(ChineseCommand, self).invoke(ctx), retry=retry)
        with cli_logging():
            return invoke_retrying(lambda: super(ChineseCommand, self).invoke(ctx), retry=retry)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("options_metavar") in (None, "[OPTIONS]"):
            kwargs["options_metavar"] = OPTIONS_METAVAR
        super().__init__(*args, **kwargs)

    def get_short_help_str(self, limit: int = 45) -> str:
        return whole_short_help(self)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        return run_in_chinese(super().main, args, prog_name, complete_var=complete_var, **extra)


class ChineseGroup(TyperGroup):
    """A command group with Chinese help and usage errors."""

    context_class = ChineseContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("options_metavar") in (None, "[OPTIONS]"):
            kwargs["options_metavar"] = OPTIONS_METAVAR
        if kwargs.get("subcommand_metavar") is None:
            kwargs["subcommand_metavar"] = SUBCOMMAND_METAVAR
        super().__init__(*args, **kwargs)

    def get_short_help_str(self, limit: int = 45) -> str:
        return whole_short_help(self)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        return run_in_chinese(super().main, args, prog_name, complete_var=complete_var, **extra)


class ChineseTyper(typer.Typer):
    """A Typer whose groups and commands speak Chinese (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", ChineseGroup)
        kwargs.setdefault("rich_markup_mode", None)
        kwargs.setdefault("pretty_exceptions_enable", False)
        kwargs.setdefault("add_completion", False)
        super().__init__(**kwargs)

    def command(self, name: str | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", ChineseCommand)
        return super().command(name, **kwargs)
