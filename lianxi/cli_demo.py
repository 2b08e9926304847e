"""`lianxi demo --out DIR`: replay a sample quarter through the real bot (demo/replay.py) and write
the quarter's brief PDF, notice draft and ledger xlsx into DIR. The demo always works on its own
SQLite file DIR/demo.db, so it never touches the configured database."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from lianxi.chinese_help import ChineseTyper, long_running
from lianxi.common import EXIT_REFUSED, new_console


@contextmanager
def _demo_settings(out: Path) -> Iterator[None]:
    """Point the settings (database, data directory) at DIR for the run, then restore them."""
    from config.settings import get_settings

    names = ("DATABASE_URL", "DATA_DIR")
    saved = {n: os.environ.get(n) for n in names}
    os.environ["DATABASE_URL"] = f"sqlite:///{out / 'demo.db'}"
    os.environ["DATA_DIR"] = str(out / "data")
    get_settings.cache_clear()
    try:
        yield
    finally:
        for n, value in saved.items():
            if value is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = value
        get_settings.cache_clear()


@contextmanager
def _log_to(path: Path) -> Iterator[None]:
    """Send the run's log to a file (the console shows the progress bar only)."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "aiohttp.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


def demo_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="输出目录：写入简报、通报草稿、工作问效报告草稿（PDF 及 Word）、台账 xlsx 和演示数据库 demo.db",
        ),
    ],
    seed: Annotated[int, typer.Option("--seed", help="随机种子；种子相同，输出相同")] = 2026,
    quarter: Annotated[str, typer.Option("--quarter", help="重放的季度，如 2026Q1")] = "2026Q1",
    scale: Annotated[str, typer.Option("--scale", help="规模：full（完整季度）或 small（精简，用于测试）")] = "full",
) -> None:
    """用示例数据重放一个季度（通过真实机器人），生成简报、通报草稿和台账。"""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from demo.replay import SCALES, DemoError, replay_quarter

    console, err = new_console(), new_console(stderr=True)
    if scale not in SCALES:
        err.print(f"[bold red]错误：[/bold red]规模“{scale}”无效，可选：full、small。", highlight=False)
        raise typer.Exit(EXIT_REFUSED)
    out = out.expanduser().resolve()
    if out.exists() and not out.is_dir():
        err.print(f"[bold red]错误：[/bold red]输出位置 {out} 已存在且不是目录。", highlight=False)
        raise typer.Exit(EXIT_REFUSED)
    out.mkdir(parents=True, exist_ok=True)
    console.print(f"演示使用独立的数据库 {out / 'demo.db'}（每次重建），不会改动已配置的数据库。", highlight=False)

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    task_id = None

    def on_start(total: int) -> None:
        nonlocal task_id
        task_id = progress.add_task("重放季度", total=total)

    def on_step(step) -> None:
        from demo.replay import SHANGHAI

        day = step.when.astimezone(SHANGHAI)
        assert task_id is not None  # on_start ran first
        progress.update(task_id, advance=1, description=f"{day:%Y-%m-%d} {step.label}")

    try:
        with _demo_settings(out), _log_to(out / "demo.log"), progress:
            result = asyncio.run(
                replay_quarter(
                    out=out, seed=seed, quarter=quarter, scale=SCALES[scale], on_start=on_start, on_step=on_step
                )
            )
    except DemoError as exc:
        err.print(f"[bold red]错误：[/bold red]{exc.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_REFUSED) from exc
    c, t = result.counts, result.timings
    console.print(
        f"\n已重放{result.quarter}（示例数据）：{c['members']}名成员经邀请码注册，"
        f"{c['actions']}次消息和按钮操作，{c['reports']}条进展报送，{c['problems']}个问题，"
        f"{c['status_moves']}次矿业权状态变更；台账{c['rights_mining']}宗采矿权、"
        f"{c['rights_exploration']}宗探矿权（另有{c['proposed']}宗拟设探矿权）。",
        highlight=False,
    )
    console.print("已写入：", highlight=False)
    console.print(f"  工作简报（PDF 及 Word）：{result.brief_pdf}", highlight=False, soft_wrap=True)
    console.print(f"  通报草稿（PDF 及 Word）：{result.notice_path}", highlight=False, soft_wrap=True)
    console.print(f"  工作问效报告草稿（PDF 及 Word）：{result.review_pdf}", highlight=False, soft_wrap=True)
    console.print(f"  台账（xlsx）：{result.ledger_xlsx}", highlight=False, soft_wrap=True)
    if result.minutes_pdf is not None:
        console.print(f"  会议纪要（PDF 及 Word）：{result.minutes_pdf}", highlight=False, soft_wrap=True)
    for order in result.orders:
        console.print(f"  督办单（PDF 及 Word）：{order}", highlight=False, soft_wrap=True)
    console.print(f"  演示数据库：{result.db_path}；运行日志：{out / 'demo.log'}", highlight=False, soft_wrap=True)
    console.print(
        f"用时{t['total']:.1f}秒（准备{t['setup']:.1f}，重放{t['replay']:.1f}，生成文件{t['jobs']:.1f}）。",
        highlight=False,
    )


app = ChineseTyper()
app.command("demo")(long_running(demo_command))
