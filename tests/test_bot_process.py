"""`lianxi bot` as a real process: a webhook when TELEGRAM_WEBHOOK_URL is set; a refusal
with instructions when no token is set; the token never in the logs."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

from localbotapi.server import BotApiServer
from tests.conftest import BANNER_PLAN

LIANXI = str(Path(sys.executable).parent / "lianxi")
TOKEN = "987654321:AAFakeTokenForTheWebhookTest_abcdefgh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_token_is_refused_with_instructions(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "TELEGRAM_BOT_TOKEN": ""}
    proc = subprocess.run([LIANXI, "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in proc.stderr and "BotFather" in proc.stderr and "lianxi sandbox" in proc.stderr


async def test_webhook_mode_receives_updates_and_answers(tmp_path):
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'hook.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": db,
        "DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "TELEGRAM_WEBHOOK_PORT": str(port),
        "TELEGRAM_WEBHOOK_SECRET": "s3cret-hook",
        "LOG_LEVEL": "DEBUG",
        "PYTHONUNBUFFERED": "1",
    }
    load = subprocess.run(
        [LIANXI, "plan", "load", str(BANNER_PLAN)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert load.returncode == 0, load.stderr
    async with BotApiServer() as server:
        env.update(TELEGRAM_API_BASE_URL=server.api_base, TELEGRAM_FILE_BASE_URL=server.file_base)
        log = (tmp_path / "bot.log").open("w")
        proc = subprocess.Popen([LIANXI, "bot"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = asyncio.get_running_loop().time() + 60
            while not any(r.method == "setWebhook" and r.status == 200 for r in server.requests):
                assert proc.poll() is None, (tmp_path / "bot.log").read_text()
                assert asyncio.get_running_loop().time() < deadline, "the bot never set its webhook"
                await asyncio.sleep(0.1)
            user = server.user(4242, "网钩")
            await user.send("/whoami")
            reply = await server.wait_for(4242, "未注册", timeout=30)
            assert reply["text"]
            assert not any(r.method == "getUpdates" for r in server.requests)  # webhook, not polling
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
    text = (tmp_path / "bot.log").read_text()
    assert TOKEN not in text and TOKEN.split(":")[1] not in text


async def test_a_token_telegram_rejects_is_refused_in_chinese_and_never_printed(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "LOG_LEVEL": "DEBUG",
    }
    async with BotApiServer() as server:
        from telegram import Bot

        bot_id = TOKEN.split(":")[0]
        async with Bot(TOKEN, base_url=server.api_base) as owner:  # the bot's real token, known to the server
            await owner.get_me()
        wrong = f"{bot_id}:AAWrongSecretTheServerRejects_0123456789"
        env.update(
            TELEGRAM_BOT_TOKEN=wrong,
            TELEGRAM_API_BASE_URL=server.api_base,
            TELEGRAM_FILE_BASE_URL=server.file_base,
        )
        proc = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "lianxi", "bot"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Telegram 拒绝了机器人令牌" in out and "BotFather" in out, out
    assert wrong not in out and wrong.split(":")[1] not in out, out
    assert "Traceback" not in out, out
