"""Invite codes never reach the logs, the answers of a refused /start, exception texts, the
audit log or (once applied) the inbox; and Telegram's expected network errors are one log line each, not a traceback.

`lianxi bot` runs as a real process with LOG_LEVEL=DEBUG (the most it ever prints) on the local
Bot API server. People join with a good code, the same code again (used up), a wrong code and,
after the lockout, a good one; the admin makes a code in chat. Then getUpdates answers HTML 502s
for a while, and the bot carries on.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlmodel import select

from localbotapi.server import BotApiServer
from localbotapi.state import Faults
from models import AuditLog, Role, session_scope
from oversight.members import create_invite, require_unit

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "555444777:AASecretsInLogsTest_abcdefghijklmnop"
BOT_ID = int(TOKEN.split(":")[0])
CODE = re.compile(r"/start (\S+)")


async def test_invite_codes_and_network_errors_in_the_bot_process_log(settings_env, engine, banner_plan_id, tmp_path):
    with session_scope(engine) as s:
        office = require_unit(session=s, plan_id=banner_plan_id, text="旗政府办公室")
        _, admin_code = create_invite(
            session=s, plan_id=banner_plan_id, unit_id=office.id, role=Role.ADMIN, created_by="test"
        )
    log_path = tmp_path / "bot.log"
    async with BotApiServer() as server:
        env = {
            **os.environ,
            "DATABASE_URL": settings_env.DATABASE_URL,
            "DATA_DIR": str(tmp_path / "data"),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.api_base,
            "TELEGRAM_FILE_BASE_URL": server.file_base,
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "DEBUG",
        }
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "lianxi", "bot"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            admin, joiner, late, wrong = (server.user(9101 + i, f"成员{i}", bot_id=BOT_ID) for i in range(4))

            async def say(user, words: str, expect: str) -> str:
                await user.send(words)
                return str((await server.wait_for(user.id, expect, timeout=60))["text"])

            await say(admin, f"/start {admin_code}", "注册成功")
            made = await say(admin, "/invite 林草局 联络员", "/start ")
            match = CODE.search(made)
            assert match, made
            code = match.group(1)
            await say(joiner, f"/start {code}", "注册成功")
            used = await say(late, f"/start {code}", "邀请码")  # used up
            guesses = [f"WRONG{i}X{code[:2]}" for i in range(6)]
            refusals = [await say(wrong, f"/start {g}", "邀请码") for g in guesses]  # wrong, then locked
            with session_scope(engine) as s:
                _, late_code = create_invite(
                    session=s, plan_id=banner_plan_id, unit_id=office.id, role=Role.CONTACT, created_by="test"
                )
            locked = await say(wrong, f"/start {late_code}", None)  # a good code while locked out

            # getUpdates answered with HTML 502s (the long poll running returns with a message
            # sent meanwhile; the next calls fail) until three failed; then the bot answers again.
            started = len(server.requests)
            server.faults = Faults(rate_5xx=1.0, include_get_updates=True, methods=["getUpdates"])
            await joiner.send("/help")

            def failures() -> int:
                return sum(1 for r in server.requests[started:] if r.method == "getUpdates" and r.status == 502)

            for _ in range(300):  # up to 30 s
                if failures() >= 3:
                    break
                await asyncio.sleep(0.1)
            failed = failures()
            server.faults = Faults()
            await say(joiner, "/whoami", "所属计划：")
        finally:
            proc.terminate()  # the server still answers while the bot stops
            try:
                await asyncio.to_thread(proc.wait, 20)
            except subprocess.TimeoutExpired:
                proc.kill()
    out = log_path.read_text()
    codes = [admin_code, code, late_code, *guesses]

    # The codes: not in the log, not in any refusal, not in the audit log.
    for c in codes:
        assert c not in out, f"invite code in the bot's log:\n{out[-3000:]}"
    for answer in (used, *refusals, locked):
        assert not any(c in answer for c in codes), answer
    with session_scope(engine) as s:
        audit = [json.dumps([a.action, a.actor, a.detail], ensure_ascii=False) for a in s.exec(select(AuditLog)).all()]
    assert any("invite.failed" in a for a in audit) and any("invite.locked" in a for a in audit), audit
    assert not [a for a in audit if any(c in a for c in codes)]
    with engine.connect() as conn:  # nor in any outbox message (what a crash would resend) ...
        outbox = " ".join(str(v) for r in conn.execute(text('SELECT * FROM "outboxmessage"')).all() for v in r)
        # ... nor in the inbox once the /start is applied (its update kept as "/start")
        stored = " ".join(str(p) for p in conn.execute(text('SELECT payload FROM "inboxupdate"')).scalars())
    assert not [c for c in codes if c in outbox]
    assert "/start" in stored and not [c for c in codes if c in stored]

    # The 502s: one line each at most, no traceback, and no token.
    assert failed >= 1, "the fault was never hit"
    assert "Traceback" not in out, out[-3000:]
    assert TOKEN not in out and TOKEN.split(":")[1] not in out
    logged = [line for line in out.splitlines() if " WARNING " in line or " ERROR " in line]
    lines = [line for line in logged if "Bad Gateway" in line]
    assert 1 <= len(lines) <= failed, lines[:5]
    assert not [line for line in logged if "unhandled error" in line], logged
