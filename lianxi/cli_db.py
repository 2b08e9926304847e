"""`lianxi db …`: the database's schema."""

from __future__ import annotations

from lianxi.common import new_app

app = db_app = new_app(name="db", help="数据库结构（迁移）。")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """将数据库结构升级到最新版本。"""
    from config.settings import get_settings
    from lianxi.common import engine_for_cli, out
    from models.migrate import current

    engine_for_cli(migrate=True).dispose()
    out.print(f"数据库已是最新结构（版本 {current(get_settings().DATABASE_URL)}）。")


@db_app.command("rebuild-projections")
def db_rebuild_projections() -> None:
    """由问题的办理记录重新计算每个问题的当前状态（问责规则所用），并报告与原记录不一致的数量。"""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from lianxi.common import console, engine_for_cli, out
    from models.projection import rebuild

    engine = engine_for_cli(migrate=True)
    try:
        with (
            Progress(
                TextColumn("重建问题状态"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console(stderr=True),
                transient=True,
            ) as bar,
            engine.begin() as conn,
        ):
            task = bar.add_task("rebuild", total=None)
            result = rebuild(conn, progress=lambda done, total: bar.update(task, completed=done, total=total))
    finally:
        engine.dispose()
    tail = f"其中{result.changed}个与原记录不一致，已更正。" if result.changed else "与原记录一致。"
    out.print(f"已由办理记录重建{result.problems}个问题的状态，{tail}")
