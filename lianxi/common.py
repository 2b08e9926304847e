"""What every command module of the CLI uses: the consoles, `fail`, the database session, the plan.

Messages a user reads are Chinese; exit code 2 means the input was refused (or the database
could not be used) and nothing was changed. Nothing heavy is imported at module level: the
settings, the models and the domain are imported by the functions that need them, so
`lianxi --help` starts at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

from lianxi.chinese_help import ChineseTyper

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from models import Plan

logger = logging.getLogger(__name__)
T = TypeVar("T")

EXIT_REFUSED = 2
STALE_SCHEMA = "数据库结构不是最新版本（或尚未建立）。请先运行 lianxi db upgrade，再重试。"

_consoles: dict[str, Console] = {}
# The width a console lays out for when its stream is no terminal: wider than any line or table.
UNFOLDED_WIDTH = 10_000


def new_console(*, stderr: bool = False) -> Console:
    """A rich console that wraps at a terminal's own width, and never into a pipe or a file.

    Rich lays out for 80 columns when its stream is no terminal and folds a sentence at the 80th
    wherever it falls (接下来三次运行：…2027年4月7日 / 09:00…); what goes to a pipe or a file keeps each
    printed line whole and each table at its natural width, for a clerk to paste or a script to read.
    """
    from rich.console import Console

    made = Console(stderr=stderr)
    if made.is_terminal:
        return made
    return Console(stderr=stderr, soft_wrap=True, width=UNFOLDED_WIDTH)


def __getattr__(name: str) -> Console:
    """`out` and `err`, the CLI's consoles, made on first use (rich costs an import)."""
    if name in ("out", "err"):
        if name not in _consoles:
            _consoles[name] = new_console(stderr=name == "err")
        return _consoles[name]
    raise AttributeError(name)


def console(stderr: bool = False) -> Console:
    """The console for standard output (or standard error)."""
    return __getattr__("err" if stderr else "out")


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    """Print a Chinese error and exit with `code`."""
    console(stderr=True).print(f"[bold red]错误：[/bold red]{message}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def setup_logging() -> None:
    """Plain logging to stderr at the configured level, the token redacted."""
    from config.logsetup import setup_logging as _setup
    from config.settings import get_settings

    settings = get_settings()
    _setup(settings.LOG_LEVEL, secrets=[settings.TELEGRAM_BOT_TOKEN])


CALENDAR_ESTIMATED = (
    "{year}年的节假日安排尚未载入，本次按周一至周五计算工作日，据此推算的日期标“估算”。"
    "国务院办公厅发布该年节假日安排通知后，请用 lianxi calendar import 通知文件.txt 载入。"
)


class CliLogHandler(logging.Handler):
    """While a command runs: the calendar's log line on a year without holiday data becomes its
    Chinese notice; any other warning is printed as Python's last-resort handler would have."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        from oversight.workdays import UNCOVERED_YEAR

        year = getattr(record, UNCOVERED_YEAR, None)
        if year is not None:
            console(stderr=True).print(CALENDAR_ESTIMATED.format(year=year), highlight=False, soft_wrap=True)
        elif logging.lastResort is not None:
            logging.lastResort.handle(record)


@contextmanager
def cli_logging() -> Iterator[None]:
    """The command's log lines handled by `CliLogHandler` (on the root logger) while it runs."""
    handler = CliLogHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


def busy_attempt_ms() -> int:
    """How long one attempt waits for a lock: a quarter of the command's wait (at most SQLite's 30 s)."""
    from config.settings import get_settings
    from models.db import SQLITE_BUSY_TIMEOUT_MS

    return max(50, min(SQLITE_BUSY_TIMEOUT_MS, round(get_settings().CLI_BUSY_WAIT_SECONDS * 1000 / 4)))


def engine_for_cli(*, migrate: bool = True) -> Engine:
    """The settings' engine, with the schema brought up to date first when `migrate`."""
    from config.settings import get_settings
    from models import make_engine

    url = get_settings().DATABASE_URL
    engine = make_engine(url, busy_timeout_ms=busy_attempt_ms())
    if migrate:
        from models.migrate import upgrade

        try:
            upgrade(url, engine=engine)
        except BaseException:
            engine.dispose()
            raise
    return engine


BUSY = "数据库正忙（另一进程正在写入），已等待{seconds}秒仍未就绪，命令未完成，未提交的更改已撤销。请稍后重试。"
UNAVAILABLE = "无法连接数据库，已重试{seconds}秒，命令未完成。请确认数据库已启动、DATABASE_URL 设置正确后重试。"


def invoke_retrying(
    run: Callable[[], T],
    *,
    retry: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run a command; while the database is busy or unreachable, run it again (pausing a little
    longer each time) until CLI_BUSY_WAIT_SECONDS have passed, then say so in Chinese and exit 2.

    A whole command is run again because its transaction was rolled back: what it did before
    the error was not committed. A long-running command (`retry=False`: the bot, the worker,
    the sandbox) is not restarted; it gets the message at once.
    """
    from config.settings import get_settings
    from models.busy import is_busy_error, is_transient_error

    budget = get_settings().CLI_BUSY_WAIT_SECONDS
    start = clock()
    pause = min(0.5, budget / 8)
    while True:
        try:
            return run()
        except Exception as exc:
            if not is_transient_error(exc):
                raise
            waited = clock() - start
            busy = is_busy_error(exc)
            if not retry or waited + pause > budget:
                text = BUSY if busy else UNAVAILABLE
                logger.info(
                    "CLI gave up on a %s database after %.1f s: %s",
                    "busy" if busy else "unavailable",
                    waited,
                    exc.__class__.__name__,
                )
                fail(text.format(seconds=max(1, round(waited))))
            console(stderr=True).print(
                f"数据库{'正忙' if busy else '暂时无法连接'}，{pause:.1f}秒后重试……", highlight=False, soft_wrap=True
            )
            sleep(pause)
            pause = min(pause * 2, 5.0)


def is_stale_schema_error(exc: BaseException) -> bool:
    """True when `exc` says a table or column is missing: the database is behind the migrations."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in ("42P01", "42703"):  # PostgreSQL: undefined table / column
        return True
    text = str(orig).lower()
    return "no such table" in text or "no such column" in text or "has no column named" in text


@contextmanager
def cli_session(*, read_only: bool = False) -> Iterator[Session]:
    """A committed-on-success session; domain errors become a message and exit 2.

    A command that changes something brings the schema up to date first. A command that only
    reads (`read_only=True`) skips that check (Alembic costs a third of a second) and reads in
    a transaction that does not take SQLite's write lock; if the database is behind the
    migrations, the user is told to run `lianxi db upgrade` (exit 2).
    """
    from sqlalchemy.exc import DBAPIError

    from models import read_only as read_only_engine
    from models import session_scope
    from oversight.errors import OversightError

    engine = engine_for_cli(migrate=not read_only)
    try:
        with session_scope(read_only_engine(engine) if read_only else engine) as session:
            from oversight.workdays import refresh

            refresh(session=session, max_age=0)  # the years an admin stored count in every command
            yield session
    except OversightError as exc:
        fail(exc.message)
    except DBAPIError as exc:
        if read_only and is_stale_schema_error(exc):
            fail(STALE_SCHEMA)
        raise
    finally:
        engine.dispose()


def require_plan(session: Session, key: str | None) -> Plan:
    """The plan named by `key`, or the one loaded last; exit 2 if none."""
    from oversight.errors import PlanNotLoadedError
    from oversight.members import current_plan

    plan = current_plan(session=session, key=key)
    if plan is None:
        if key:
            fail(f"未找到计划“{key}”。已加载的计划可用 lianxi plan show 查看；加载用 lianxi plan load 文件。")
        raise PlanNotLoadedError()
    return plan


def new_app(*, name: str, help: str) -> ChineseTyper:
    """A command group (`lianxi NAME …`) whose help and errors are Chinese."""
    return ChineseTyper(name=name, help=help, no_args_is_help=True)
