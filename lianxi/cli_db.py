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
