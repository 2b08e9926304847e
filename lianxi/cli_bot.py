"""`lianxi bot`: the Telegram bot."""

from __future__ import annotations

from typing import Any

from lianxi.chinese_help import ChineseTyper, long_running
from lianxi.common import engine_for_cli, fail, setup_logging

app = ChineseTyper()


@app.command("bot")
@long_running
def bot_command() -> None:
    """运行 Telegram 机器人（默认长轮询；配置 TELEGRAM_WEBHOOK_URL 时用 webhook）。"""
    from config.settings import get_settings

    settings = get_settings()
    if not settings.has_real_token:
        fail(
            "未设置机器人令牌 TELEGRAM_BOT_TOKEN。\n"
            "请向 @BotFather 申请令牌，写入环境变量或 .env 文件：TELEGRAM_BOT_TOKEN=123456:ABC…\n"
            "没有令牌时可运行 lianxi sandbox，在本机浏览器中试用（本地模拟的 Telegram）。"
        )
    setup_logging()
    from bot.app import build_application

    engine = engine_for_cli()
    application = build_application(
        engine=engine,
        token=settings.TELEGRAM_BOT_TOKEN,
        base_url=settings.TELEGRAM_API_BASE_URL,
        base_file_url=settings.TELEGRAM_FILE_BASE_URL,
    )
    from telegram.error import InvalidToken

    try:
        _run(application, settings)
    except InvalidToken:
        # PTB's exception text carries the token: only this message is printed, never it.
        fail(
            "Telegram 拒绝了机器人令牌（TELEGRAM_BOT_TOKEN）：令牌无效或已被撤销。\n"
            "请向 @BotFather 核对令牌（或重新生成），写入环境变量或 .env 文件后再启动。"
        )


def _run(application: Any, settings: Any) -> None:
    if settings.TELEGRAM_WEBHOOK_URL:
        application.run_webhook(
            listen=settings.TELEGRAM_WEBHOOK_LISTEN,
            port=settings.TELEGRAM_WEBHOOK_PORT,
            url_path="telegram",
            webhook_url=settings.TELEGRAM_WEBHOOK_URL,
            secret_token=settings.TELEGRAM_WEBHOOK_SECRET or None,
        )
    else:
        application.run_polling()
