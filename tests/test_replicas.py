"""Several bot replicas on one PostgreSQL database behind one load balancer (webhook): an
update is applied and answered once, whichever replicas receive it (bot/replicas.py)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections import Counter

import pytest
from sqlmodel import func, select
from telegram import Bot

from bot.app import build_application
from bot.pacing import Pacer
from bot.replicas import ReplicaProcessor
from localbotapi.balancer import Balancer
from localbotapi.server import BotApiServer
from models import InboxUpdate, ProcessedUpdate, Report, Role, make_engine, session_scope
from oversight.members import create_invite, redeem_invite, require_unit

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)")

TOKEN = "515151:REPLICAS-token"
BOT_ID = 515151
SECRET = "replicas-secret"
CONTACTS = 24
REPORTS_EACH = 3
UNITS = ["自然资源局", "应急管理局", "林草局"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_two_webhook_replicas_given_duplicates_apply_and_answer_each_update_once():
    from tests.conftest import _pg_db, load_bundled_plan

    url = _pg_db()  # migrated and empty
    engines = [make_engine(url), make_engine(url)]
    plan_id = load_bundled_plan(engines[0])
    with session_scope(engines[0]) as s:
        for k in range(CONTACTS):
            unit = require_unit(session=s, plan_id=plan_id, text=UNITS[k % len(UNITS)])
            _, code = create_invite(session=s, plan_id=plan_id, unit_id=unit.id, role=Role.CONTACT, created_by="test")
            redeem_invite(session=s, telegram_user_id=720_000 + k, name=f"联络员{k}", code=code)

    apps = []
    ports = [_free_port(), _free_port()]
    try:
        async with BotApiServer() as server:
            for engine, port in zip(engines, ports, strict=True):
                app = build_application(
                    engine=engine,
                    token=TOKEN,
                    base_url=server.api_base,
                    base_file_url=server.file_base,
                    rate_limiter=Pacer(private_gap=0.0),
                    outbox_poll_seconds=0.05,
                )
                await app.initialize()
                await app.start()
                assert app.updater is not None
                await app.updater.start_webhook(
                    listen="127.0.0.1",
                    port=port,
                    url_path="telegram",
                    webhook_url=f"http://127.0.0.1:{port}/telegram",
                    secret_token=SECRET,
                )
                apps.append(app)
            upstreams = [f"http://127.0.0.1:{p}/telegram" for p in ports]
            # Half the updates reach both replicas at once, a fifth are sent again (answer lost).
            async with Balancer(upstreams, duplicate=0.5, lose=0.2, seed=16) as balancer:
                async with Bot(TOKEN, base_url=server.api_base) as plain:
                    await plain.set_webhook(balancer.url, secret_token=SECRET)  # Telegram -> the balancer
                users = [server.user(720_000 + k, f"联络员{k}", bot_id=BOT_ID) for k in range(CONTACTS)]

                async def contact(k: int) -> None:
                    for i in range(REPORTS_EACH):
                        mark = server.mark()
                        await users[k].send(f"/report 第{k}组第{i}处矿山恢复治理现场核查完成")
                        await server.wait_for(users[k].id, "已报送", after=mark, timeout=30, bot_id=BOT_ID)

                await asyncio.gather(*(contact(k) for k in range(CONTACTS)))
                await asyncio.sleep(1.5)  # a late duplicate, had one been applied again, would answer now
                duplicated, lost = balancer.duplicated, balancer.lost
            handled = [p.handled for p in (a.update_processor for a in apps) if isinstance(p, ReplicaProcessor)]
            answers = {
                u.id: Counter((m.get("text") or "").split("\n")[0] for m in server.messages(u.id, bot_id=BOT_ID))
                for u in users
            }
            errors = [r for r in server.requests if r.status >= 400 and r.method != "setWebhook"]
        with session_scope(engines[0]) as s:
            reports = Counter(s.exec(select(Report.text).where(Report.plan_id == plan_id)).all())
            processed = s.exec(select(func.count()).select_from(ProcessedUpdate)).one()
            stored = s.exec(select(func.count()).select_from(InboxUpdate)).one()
    finally:
        for app in apps:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()
        for e in engines:
            e.dispose()

    assert duplicated > 10 and lost > 5  # the balancer did make duplicates
    assert len(handled) == 2 and all(n > 0 for n in handled)  # both replicas applied updates
    expected = {f"第{k}组第{i}处矿山恢复治理现场核查完成" for k in range(CONTACTS) for i in range(REPORTS_EACH)}
    assert set(reports) == expected and set(reports.values()) == {1}  # each report applied once
    assert processed == stored == CONTACTS * REPORTS_EACH
    for uid, counts in answers.items():
        replies = sum(n for line, n in counts.items() if "已报送" in line)
        assert replies == REPORTS_EACH, (uid, counts)  # each answered once: no second answer, no error
        assert not any("错误" in line or "系统繁忙" in line for line in counts), (uid, counts)
    assert not errors
