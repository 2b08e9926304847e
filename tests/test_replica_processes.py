"""Two `lianxi bot` processes on one PostgreSQL database (webhook mode, as two replicas behind
a load balancer) deliver one outbox of 200 messages to 20 private chats: each message arrives
once, each chat's messages in the order they were queued, no 429 from a server enforcing
Telegram's limits, and when the replica delivering it is stopped half-way the other takes over and finishes it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from localbotapi.server import BotApiServer
from models import OutboxMessage, OutboxState, make_engine, session_scope
from oversight.outbox import enqueue_text
from oversight.planfile import parse_plan_file
from oversight.plans import load_plan
from tests.conftest import BANNER_PLAN

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)")

LIANXI = str(Path(sys.executable).parent / "lianxi")
TOKEN = "424242:TwoReplicaProcessesToken_abcdefghij"
CHATS = [7100 + k for k in range(20)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _states(url: str) -> Counter[str]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as s:
            return Counter(str(r.state) for r in s.exec(select(OutboxMessage)).all())
    finally:
        engine.dispose()


async def test_two_bot_processes_deliver_one_outbox_once_each_chat_in_order(tmp_path):
    from tests.conftest import _pg_db

    url = _pg_db()  # this worker's database, migrated and empty
    engine = make_engine(url)
    items = [(CHATS[i % len(CHATS)], f"督办通知第{i + 1:03d}号：请于本周五前报送矿山整改进展。") for i in range(200)]
    try:
        with session_scope(engine) as s:
            load_plan(session=s, spec=parse_plan_file(BANNER_PLAN), actor="test")
            now = datetime.now(UTC)
            for chat, body in items:
                enqueue_text(session=s, chat_id=chat, text=body, now=now)
    finally:
        engine.dispose()

    async with BotApiServer() as server:
        server.flood_control = True  # 30/s per bot, 1/s per chat: a 429 would show here
        for k, chat in enumerate(CHATS):
            server.user(chat, f"联络员{k}")
        ports = [_free_port(), _free_port()]
        procs: list[subprocess.Popen[bytes]] = []
        logs = []
        try:
            for i, port in enumerate(ports):
                env = {
                    **os.environ,
                    "DATABASE_URL": url,
                    "DATA_DIR": str(tmp_path / "data"),
                    "TELEGRAM_BOT_TOKEN": TOKEN,
                    "TELEGRAM_API_BASE_URL": server.api_base,
                    "TELEGRAM_FILE_BASE_URL": server.file_base,
                    "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
                    "TELEGRAM_WEBHOOK_PORT": str(port),
                    "TELEGRAM_WEBHOOK_SECRET": "two-replicas",
                    "PYTHONUNBUFFERED": "1",
                }
                log = (tmp_path / f"bot{i + 1}.log").open("wb")
                logs.append(log)
                procs.append(subprocess.Popen([LIANXI, "bot"], cwd=tmp_path, env=env, stdout=log, stderr=log))
            loop = asyncio.get_running_loop()

            def delivered() -> int:
                return sum(len(server.messages(chat)) for chat in CHATS)

            deadline = loop.time() + 120
            while delivered() < 80:  # both are up and one of them delivers
                assert all(p.poll() is None for p in procs), (tmp_path / "bot1.log").read_text()
                assert loop.time() < deadline, f"only {delivered()} of 200 delivered"
                await asyncio.sleep(0.1)
            # The replica delivering the outbox goes: the other takes the lease over and carries on,
            # never sooner in a chat (or the bot) than one replica would have sent.
            (gone,) = [i for i in (0, 1) if "lease taken" in (tmp_path / f"bot{i + 1}.log").read_text()]
            procs[gone].send_signal(signal.SIGTERM)
            await asyncio.to_thread(procs[gone].wait, 30)
            other = procs[1 - gone]
            deadline = loop.time() + 120
            while delivered() < 200 or _states(url) != Counter({str(OutboxState.SENT): 200}):
                assert other.poll() is None, (tmp_path / f"bot{2 - gone}.log").read_text()
                assert loop.time() < deadline, (delivered(), _states(url))
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.5)  # nothing more arrives after the outbox is done
        finally:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
                    try:
                        await asyncio.to_thread(p.wait, 20)
                    except subprocess.TimeoutExpired:
                        p.kill()
            for log in logs:
                log.close()

        for chat in CHATS:
            got = [m.get("text") for m in server.messages(chat)]
            assert got == [body for c, body in items if c == chat], chat
        sends = [r for r in server.requests if r.method == "sendMessage"]
        assert Counter(r.status for r in sends) == {200: 200}  # none twice, no 429, nothing refused
    for i in (1, 2):
        text = (tmp_path / f"bot{i}.log").read_text()
        assert TOKEN.split(":")[1] not in text and "Traceback" not in text, text
