"""`lianxi bot` killed with SIGKILL at random moments while 150 reports arrive (long polling,
and again through the webhook): after the restarts every report is stored once and answered.

The bot is a real process on the local Bot API server (which, like Telegram, sends an
unconfirmed update again: polling from the last confirmed offset, the webhook until it gets a
200). An answer that reaches a contact twice may only be one the bot itself marked as
possibly sent already (a crash between sending it and recording that it was sent).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from localbotapi.server import BotApiServer
from models import InboxUpdate, OutboxMessage, ProcessedUpdate, Report, Role, session_scope
from oversight.members import create_invite, redeem_invite, require_unit
from tests.conftest import BACKENDS

ROOT = Path(__file__).resolve().parent.parent
# `python -m lianxi` from this checkout (the venv's `lianxi` script may belong to another one).
LIANXI = [sys.executable, "-m", "lianxi"]
TOKEN = "555444333:AAInboxKillTest_abcdefghijklmnopqrs"
BOT_ID = int(TOKEN.split(":")[0])
UNITS = ["自然资源局", "应急管理局", "林草局"]
CONTACTS = 10
REPORTS = 150
KILLS = 3
FILED = re.compile(r"已报送（(\d+)号进展报送）")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _report_count(engine) -> int:
    with session_scope(engine) as s:
        return int(s.exec(select(func.count()).select_from(Report)).one())


class Bot:
    """The bot process, restarted after each kill; its logs kept for the failure message."""

    def __init__(self, tmp_path: Path, env: dict[str, str], server: BotApiServer, mode: str) -> None:
        self.tmp_path, self.env, self.server, self.mode = tmp_path, env, server, mode
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def _ready_marks(self) -> int:
        # Polling: the bot's first getUpdates has arrived. Counted on arrival, not on its answer:
        # with nothing queued (before the first report, or once all were confirmed) the long poll
        # is answered only at its timeout, 10 s later; and a killed bot's last long poll may be
        # answered after it died.
        if self.mode == "polling":
            return self.server.polls_started(bot_id=BOT_ID)
        return sum(1 for r in self.server.requests if r.method == "setWebhook" and r.status == 200)

    async def start(self) -> None:
        self.starts += 1
        marks = self._ready_marks()
        log = (self.tmp_path / f"bot{self.starts}.log").open("w")
        self.proc = subprocess.Popen(
            [*LIANXI, "bot"], cwd=self.tmp_path, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + 90
        while self._ready_marks() <= marks:
            assert self.proc.poll() is None, self.logs()
            assert time.monotonic() < deadline, "the bot did not start\n" + self.logs()
            await asyncio.sleep(0.02)

    def kill(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, self.logs()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.tmp_path.glob("bot*.log")))


# Each way in on one database, not on both (4 runs of 25-37 s were a tenth of the suite): polling
# on SQLite, the webhook on PostgreSQL when the suite has it. What a kill must not break, the
# inbox's order (an update stored and committed before Telegram is told, cleared once answered),
# is the same statements on both; each database's own locking has tests of its own (test_busy,
# test_busy_lock, test_delivery's replicas).
@pytest.mark.parametrize(("db_url", "mode"), [("sqlite", "polling"), (BACKENDS[-1], "webhook")], indirect=["db_url"])
async def test_sigkill_while_150_reports_arrive_loses_none(mode, settings_env, engine, banner_plan_id, tmp_path):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    with session_scope(engine) as s:
        for k in range(CONTACTS):
            unit = require_unit(session=s, plan_id=banner_plan_id, text=UNITS[k % len(UNITS)])
            _, code = create_invite(
                session=s, plan_id=banner_plan_id, unit_id=unit.id, role=Role.CONTACT, created_by="test"
            )
            redeem_invite(session=s, telegram_user_id=710_000 + k, name=f"联络员{k}", code=code)

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
        }
        if mode == "webhook":
            port = _free_port()
            env.update(
                TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
                TELEGRAM_WEBHOOK_PORT=str(port),
                TELEGRAM_WEBHOOK_SECRET="inbox-kill-secret",
            )
        users = [server.user(710_000 + k, f"联络员{k}", bot_id=BOT_ID) for k in range(CONTACTS)]
        bot = Bot(tmp_path, env, server, mode)
        sent: list[str] = []
        in_flight_at_kill: list[tuple[int, int]] = []  # (sent, stored) at each kill

        async def send_all() -> None:
            for i in range(REPORTS):
                text = f"/report 第{i}处矿山地质环境恢复治理现场核查完成（核查编号R{i:03d}）"
                await users[i % CONTACTS].send(text)
                sent.append(text.split(maxsplit=1)[1])
                await asyncio.sleep(rng.uniform(0.005, 0.035))

        try:
            await bot.start()
            sender = asyncio.create_task(send_all())
            for _ in range(KILLS):
                # A random moment while reports arrive and the (restarted) bot works on them.
                await asyncio.sleep(rng.uniform(0.2, 1.0))
                stored = await asyncio.to_thread(_report_count, engine)
                bot.kill()
                in_flight_at_kill.append((len(sent), stored))
                await bot.start()
            await sender

            def answered() -> Counter[int]:
                ids: Counter[int] = Counter()
                for user in users:
                    for m in server.messages(user.id, bot_id=BOT_ID):
                        if hit := FILED.search(m.get("text") or ""):
                            ids[int(hit.group(1))] += 1
                return ids

            deadline = time.monotonic() + 120
            while len(answered()) < REPORTS or await asyncio.to_thread(_report_count, engine) < REPORTS:
                assert time.monotonic() < deadline, (
                    f"seed {seed}: {await asyncio.to_thread(_report_count, engine)} of {REPORTS} stored, "
                    f"{len(answered())} answered; kills at (sent, stored) {in_flight_at_kill}\n{bot.logs()}"
                )
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # anything sent twice would arrive now
            replies = answered()
        finally:
            bot.stop()

    where = f"seed {seed}, kills at (sent, stored) {in_flight_at_kill}"
    # The kills fell while reports were arriving and waiting to be applied, not before or after.
    assert any(stored < n_sent for n_sent, stored in in_flight_at_kill), where
    assert any(n_sent < REPORTS for n_sent, _ in in_flight_at_kill), where
    with session_scope(engine) as s:
        reports = s.exec(select(Report)).all()
        texts = Counter(r.text for r in reports)
        assert len(reports) == REPORTS and set(texts) == set(sent), where
        assert all(n == 1 for n in texts.values()), f"{where}: stored twice: {[t for t, n in texts.items() if n > 1]}"
        assert set(replies) == {r.id for r in reports}, where  # each report answered, naming its number
        # Every update stored, and applied: the inbox and the processed record agree.
        stored_ids = set(s.exec(select(col(InboxUpdate.update_id))).all())
        assert len(stored_ids) >= REPORTS, where
        assert stored_ids <= set(s.exec(select(col(ProcessedUpdate.update_id))).all()), where
        assert s.exec(select(InboxUpdate).where(col(InboxUpdate.reply).is_not(None))).all() == [], where
        marked = [
            m for m in s.exec(select(OutboxMessage)).all() if m.payload.get("duplicate_cause") and FILED.search(m.text)
        ]
    twice = {rid: n for rid, n in replies.items() if n > 1}
    # Each arrival beyond the first was an attempt the bot counted as a possible repeat.
    repeats: Counter[int] = Counter()
    for m in marked:
        repeats[int(FILED.search(m.text).group(1))] += int(m.payload.get("repeats", 1))
    assert all(n - 1 <= repeats[rid] for rid, n in twice.items()), f"{where}: answered twice unmarked {twice}"
