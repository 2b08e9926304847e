"""`lianxi up` (what scripts/run.sh runs) and `lianxi sandbox` (the local chat page)."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from lianxi.chinese_help import ChineseTyper, long_running
from lianxi.common import cli_session, engine_for_cli, fail, setup_logging

app = ChineseTyper()
logger = logging.getLogger(__name__)

DEFAULT_PLAN = Path(__file__).resolve().parent.parent / "plans" / "urad-middle-banner.yaml"
NO_TOKEN = (
    "未设置机器人令牌 TELEGRAM_BOT_TOKEN，现在启动本机沙盒（模拟的 Telegram，在浏览器中使用）。\n"
    "接入真实 Telegram：向 @BotFather 申请机器人令牌，写入本目录的 .env 文件（或环境变量）：\n"
    "  TELEGRAM_BOT_TOKEN=123456789:AA…\n"
    "然后重新运行 bash scripts/run.sh。"
)
SHARED_DATABASE = (
    "注意：已设置机器人令牌，但沙盒不连接真实 Telegram。沙盒与正式机器人使用同一数据库"
    "（DATABASE_URL），待发消息可能被沙盒取走；试用时建议另设 DATABASE_URL。"
)
# Quiet loggers: one line per long poll of the page or the bot would drown the console.
CHATTY_LOGGERS = ("localbotapi", "localbotapi.server", "aiohttp.access", "telegram.ext.Updater")


def _echo(text: str) -> None:
    typer.echo(text)
    sys.stdout.flush()


def _prepare() -> None:
    """Upgrade the database and load the bundled plan when no plan is loaded."""
    from config.settings import get_settings
    from models import row_id
    from models.migrate import current
    from oversight.members import current_plan
    from oversight.planfile import PlanFileError, parse_plan_file
    from oversight.plans import load_plan
    from oversight.sample import SANDBOX_MARK, mark_sample

    url = get_settings().DATABASE_URL
    engine_for_cli(migrate=True).dispose()
    _echo(f"数据库已是最新结构（版本 {current(url)}）。")
    with cli_session() as session:
        plan = current_plan(session=session)
        if plan is not None:
            _echo(f"当前计划：{plan.short_name or plan.name}（{plan.key}）。")
            return
    try:
        spec = parse_plan_file(DEFAULT_PLAN)
    except PlanFileError as exc:
        fail(f"内置计划文件 {DEFAULT_PLAN} 未通过校验：\n{exc}")
    with cli_session() as session:
        loaded = load_plan(session=session, spec=spec, actor="cli")
        # The sandbox's plan holds sample people and data: whatever it produces is marked 示例数据.
        mark_sample(session=session, plan_id=row_id(loaded.plan), mark=SANDBOX_MARK)
    _echo(
        f"已加载计划“{spec.name}”（{spec.key}）：{len(spec.units)}个单位，{len(spec.tasks)}项任务，{len(spec.zones)}个整合区。"
    )


def _quiet_logs() -> None:
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _run_sandbox(host: str, port: int) -> None:
    """Run the sandbox in this process until Ctrl-C or SIGTERM."""
    import asyncio

    from config.settings import get_settings
    from sandbox.app import SandboxPortError, run_sandbox

    settings = get_settings()
    engine = engine_for_cli(migrate=False)

    def announce(handle) -> None:
        if handle.port_was_busy:
            _echo(f"端口 {handle.port_was_busy} 已被占用，改用其他端口。")
        if handle.people_created:
            _echo("已为计划创建示例成员（姓名后标有“示例”），可在页面左侧选择任一成员。")
        if not handle.worker_running:
            _echo("工作进程不可用：定时简报与提醒不会运行。")
        if host not in ("127.0.0.1", "localhost", "::1"):
            _echo(f"注意：沙盒监听 {host}，同一网络中的任何人都能以任一成员身份操作。")
        _echo(f"沙盒已启动：{handle.url}")
        _echo("在浏览器中打开上面的地址，选择一位成员即可与机器人对话。按 Ctrl-C 停止。")

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        await run_sandbox(engine, host, port, files_dir=settings.DATA_DIR / "sandbox-files", announce=announce)

    try:
        asyncio.run(main())
    except asyncio.CancelledError:
        pass
    except SandboxPortError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    _echo("沙盒已停止。")


def _lianxi_exe() -> str:
    beside = Path(sys.executable).parent / "lianxi"
    return str(beside) if beside.exists() else sys.argv[0]


def _run_processes(names: list[str]) -> int:
    """Run `lianxi NAME` for each name until Ctrl-C or SIGTERM; when one ends, stop the rest."""
    # Own sessions: a terminal's Ctrl-C reaches only us, and each child gets exactly one SIGINT.
    procs = {name: subprocess.Popen([_lianxi_exe(), name], start_new_session=True) for name in names}

    def stop_all(*_args: object) -> None:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)
    while all(p.poll() is None for p in procs.values()):
        time.sleep(0.2)
    first = next(name for name, p in procs.items() if p.poll() is not None)
    code = procs[first].returncode
    stop_all()
    for proc in procs.values():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if code:
        _echo(f"进程 {first} 异常退出（退出码 {code}），已停止其他进程。")
    else:
        _echo("已停止。")
    return code if code > 0 else (1 if code else 0)


@app.command("sandbox")
@long_running
def sandbox_command(
    host: Annotated[str | None, typer.Option("--host", help="沙盒页面监听的地址（默认 SANDBOX_HOST）")] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="沙盒页面的端口（默认 SANDBOX_PORT；被占用时顺延）")
    ] = None,
) -> None:
    """启动本机沙盒：本地模拟的 Telegram、机器人、工作进程和浏览器聊天页面（有令牌时也可用）。"""
    from config.settings import get_settings

    settings = get_settings()
    setup_logging()
    _quiet_logs()
    if settings.has_real_token:
        _echo(SHARED_DATABASE)
    _prepare()
    _run_sandbox(host or settings.SANDBOX_HOST, settings.SANDBOX_PORT if port is None else port)


@app.command("up")
@long_running
def up_command() -> None:
    """升级数据库、必要时加载内置计划，然后启动：有令牌时运行机器人和工作进程，否则启动本机沙盒。"""
    from config.settings import get_settings

    settings = get_settings()
    setup_logging()
    _quiet_logs()
    _prepare()
    if not settings.has_real_token:
        _echo(NO_TOKEN)
        _run_sandbox(settings.SANDBOX_HOST, settings.SANDBOX_PORT)
        return
    names = ["bot", "worker"]
    _echo(f"已设置机器人令牌，启动：{'、'.join(names)}。按 Ctrl-C 停止。")
    raise typer.Exit(_run_processes(names))
