"""`lianxi schedule …` (schedules of the worker's jobs) and `lianxi worker` (the worker process)."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from lianxi.chinese_help import ChineseTyper, long_running
from lianxi.common import cli_session, console, engine_for_cli, new_app, setup_logging

schedule_app = new_app(name="schedule", help="工作进程定时任务的查看与设置（简报、提醒、督办）。")
app = ChineseTyper()
app.add_typer(schedule_app)

logger = logging.getLogger(__name__)


def _registry() -> None:
    """Import the job registry so every job (and its default schedule) is defined."""
    # Imported here, not at the top, so that `lianxi --help` stays light.
    import jobs.registry  # noqa: F401 - for its side effect: each @register fills the job table


@schedule_app.command("list")
def schedule_list() -> None:
    """列出全部定时任务：计划、说明、是否暂停、下次运行时间。"""
    from rich.table import Table

    from config.settings import get_settings
    from oversight.schedules import ensure_default_schedules, list_schedules

    _registry()
    with cli_session() as session:
        ensure_default_schedules(session=session)
        rows = list_schedules(session=session, tz=get_settings().tz)
    table = Table(title="定时任务")
    for name in ("任务", "名称", "时间安排", "表达式", "状态", "接下来三次运行"):
        table.add_column(name)
    for row in rows:
        table.add_row(
            row["job"],
            row["name"],
            row["description"],
            row["cron"],
            "已暂停" if row["paused"] else "运行中",
            "\n".join(row["next_runs_text"]) or "—",
        )
    console().print(table)


@schedule_app.command("set")
def schedule_set(
    job: Annotated[str, typer.Argument(help="任务代号，如 brief、weekly_reminder", metavar="任务")],
    cron: Annotated[
        str,
        typer.Argument(
            help="时间安排，需加引号：如“每周五 15:00”“工作日每天 8:30”“每季度结束后第5个工作日 09:00”，或 cron（分 时 日 月 星期）",
            metavar="时间",
        ),
    ],
) -> None:
    """修改任务的运行时间（可用中文，如“每周一上午9点”）；工作进程无需重启即生效。"""
    from config.settings import get_settings
    from oversight.schedules import describe, ensure_default_schedules, fire_time_text, next_fire_times, set_schedule

    _registry()
    with cli_session() as session:
        ensure_default_schedules(session=session)
        row = set_schedule(session=session, job=job, cron=cron, actor="cli")
        expr = row.cron
        from models import utcnow

        tz = get_settings().tz
        upcoming = [fire_time_text(expr, t, tz) for t in next_fire_times(expr, utcnow(), tz=tz)]
    console().print(f"已设置 {job}：{describe(expr)}（表达式 {expr}）。", highlight=False)
    if upcoming:
        console().print("接下来三次运行：" + "、".join(upcoming) + "。", highlight=False)


@schedule_app.command("pause")
def schedule_pause(job: Annotated[str, typer.Argument(help="任务代号", metavar="任务")]) -> None:
    """暂停任务：暂停期间错过的运行在恢复后不补做。"""
    from oversight.schedules import ensure_default_schedules, pause_schedule

    _registry()
    with cli_session() as session:
        ensure_default_schedules(session=session)
        pause_schedule(session=session, job=job, actor="cli")
    console().print(f"已暂停 {job}。用 lianxi schedule resume {job} 恢复。", highlight=False)


@schedule_app.command("resume")
def schedule_resume(job: Annotated[str, typer.Argument(help="任务代号", metavar="任务")]) -> None:
    """恢复已暂停的任务。"""
    from oversight.schedules import ensure_default_schedules, resume_schedule

    _registry()
    with cli_session() as session:
        ensure_default_schedules(session=session)
        resume_schedule(session=session, job=job, actor="cli")
    console().print(f"已恢复 {job}。", highlight=False)


@schedule_app.command("run")
def schedule_run(
    job: Annotated[str, typer.Argument(help="任务代号", metavar="任务")],
    period: Annotated[
        str | None, typer.Option("--period", help="期别，如 2026Q1、2026-W15、2026-04-08；不填则为临时一期")
    ] = None,
) -> None:
    """请工作进程立即运行一次（工作进程下次轮询时执行，结果可用 lianxi schedule list 查看）。"""
    from oversight.schedules import ensure_default_schedules, request_run_now, run_label, run_period_label

    _registry()
    with cli_session() as session:
        ensure_default_schedules(session=session)
        run = request_run_now(session=session, job=job, actor="cli", period=period)
        label = run_label(job, run.period)
        what = run_period_label(run.period)
    console().print(f"已请工作进程立即运行“{label}”（{what}），工作进程将在几秒内开始。", highlight=False)


@app.command("worker")
@long_running
def worker_command(
    poll: Annotated[float, typer.Option("--poll", help="轮询间隔（秒）")] = 5,
    lease: Annotated[
        float, typer.Option("--lease", help="租约时长（秒）；同一时间只有持有租约的工作进程运行任务")
    ] = 30,
) -> None:
    """运行工作进程：定时生成简报、发送提醒；多开时只有一个处于工作状态，其余待命。"""
    import asyncio

    from config.settings import get_settings
    from jobs.worker import Worker

    setup_logging()
    nice = get_settings().WORKER_NICE
    if nice > 0 and hasattr(os, "nice"):  # the PDF processes it starts inherit it
        os.nice(nice)
        logger.info("worker runs at nice +%d: the bot's answers come first", nice)
    engine = engine_for_cli()
    worker = Worker(engine=engine, poll_seconds=poll, lease_seconds=lease, tz=get_settings().tz)
    try:
        asyncio.run(worker.run_forever())
    except KeyboardInterrupt:
        logger.info("worker %s interrupted", worker.worker_id)
    finally:
        engine.dispose()
    console().print("工作进程已停止。")
