"""Several bot replicas on one PostgreSQL database behind one load balancer (webhook): an
update is applied and answered once, whichever replicas receive it, and together they keep
to Telegram's limits (bot/replicas.py)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select
from telegram import Bot
from telegram.ext import Application

from bot import texts
from bot.app import build_application
from bot.pacing import Pacer
from bot.replicas import ReplicaProcessor
from localbotapi.balancer import Balancer
from localbotapi.server import BotApiServer
from models import InboxUpdate, OutboxMessage, OutboxState, ProcessedUpdate, Report, Role, make_engine, session_scope
from oversight.members import create_invite, redeem_invite, require_unit
from oversight.outbox import enqueue_text

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)")

TOKEN = "515151:REPLICAS-token"
BOT_ID = 515151
SECRET = "replicas-secret"
UNITS = ["自然资源局", "应急管理局", "林草局"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    server: BotApiServer
    balancer: Balancer
    apps: list[Application]
    engines: list[Engine]
    plan_id: int
    users: list


@asynccontextmanager
async def cluster(
    contacts: int,
    *,
    replicas: int = 2,
    duplicate: float = 0.0,
    lose: float = 0.0,
    paced_per_chat: bool = False,
    group_limit: tuple[int, float] | None = None,
) -> AsyncIterator[Cluster]:
    """`replicas` bots, each with its own engine (connections) as separate processes would
    have, webhooks behind one balancer; `contacts` registered contacts. `group_limit` shortens
    the server's 20 a minute per group (and the Pacers' by as much, with their margin)."""
    from tests.conftest import _pg_db, load_bundled_plan

    url = _pg_db()  # migrated and empty
    engines = [make_engine(url) for _ in range(replicas)]
    plan_id = load_bundled_plan(engines[0])
    with session_scope(engines[0]) as s:
        for k in range(contacts):
            unit = require_unit(session=s, plan_id=plan_id, text=UNITS[k % len(UNITS)])
            _, code = create_invite(session=s, plan_id=plan_id, unit_id=unit.id, role=Role.CONTACT, created_by="test")
            redeem_invite(session=s, telegram_user_id=720_000 + k, name=f"联络员{k}", code=code)
    apps: list[Application] = []
    ports = [_free_port() for _ in engines]
    try:
        async with BotApiServer() as server:
            server.flood_control = paced_per_chat
            pacing: dict[str, Any] = {} if paced_per_chat else {"private_gap": 0.0}
            if group_limit is not None:
                server.group_limit = group_limit
                pacing["group_window"] = (group_limit[0], group_limit[1] + 0.5)
            for engine, port in zip(engines, ports, strict=True):
                app = build_application(
                    engine=engine,
                    token=TOKEN,
                    base_url=server.api_base,
                    base_file_url=server.file_base,
                    rate_limiter=Pacer(**pacing),
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
            async with Balancer(upstreams, duplicate=duplicate, lose=lose, seed=16) as balancer:
                async with Bot(TOKEN, base_url=server.api_base) as plain:
                    await plain.set_webhook(balancer.url, secret_token=SECRET)  # Telegram -> the balancer
                users = [server.user(720_000 + k, f"联络员{k}", bot_id=BOT_ID) for k in range(contacts)]
                yield Cluster(server, balancer, apps, engines, plan_id, users)
    finally:
        for app in apps:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()
        for e in engines:
            e.dispose()


def handled(c: Cluster) -> list[int]:
    return [p.handled for p in (a.update_processor for a in c.apps) if isinstance(p, ReplicaProcessor)]


def first_lines(c: Cluster) -> dict[int, Counter[str]]:
    return {
        u.id: Counter((m.get("text") or "").split("\n")[0] for m in c.server.messages(u.id, bot_id=BOT_ID))
        for u in c.users
    }


async def test_two_webhook_replicas_given_duplicates_apply_and_answer_each_update_once():
    contacts, each = 24, 3
    # Half the updates reach both replicas at once, a fifth are sent again (answer lost).
    async with cluster(contacts, duplicate=0.5, lose=0.2) as c:

        async def contact(k: int) -> None:
            for i in range(each):
                mark = c.server.mark()
                await c.users[k].send(f"/report 第{k}组第{i}处矿山恢复治理现场核查完成")
                await c.server.wait_for(c.users[k].id, "已报送", after=mark, timeout=30, bot_id=BOT_ID)

        await asyncio.gather(*(contact(k) for k in range(contacts)))
        await asyncio.sleep(1.5)  # a late duplicate, had one been applied again, would answer now
        duplicated, lost, per_replica = c.balancer.duplicated, c.balancer.lost, handled(c)
        answers = first_lines(c)
        errors = [r for r in c.server.requests if r.status >= 400 and r.method != "setWebhook"]
        with session_scope(c.engines[0]) as s:
            reports = Counter(s.exec(select(Report.text).where(Report.plan_id == c.plan_id)).all())
            processed = s.exec(select(func.count()).select_from(ProcessedUpdate)).one()
            stored = s.exec(select(func.count()).select_from(InboxUpdate)).one()

    assert duplicated > 10 and lost > 5  # the balancer did make duplicates
    assert len(per_replica) == 2 and all(n > 0 for n in per_replica)  # both replicas applied updates
    expected = {f"第{k}组第{i}处矿山恢复治理现场核查完成" for k in range(contacts) for i in range(each)}
    assert set(reports) == expected and set(reports.values()) == {1}  # each report applied once
    assert processed == stored == contacts * each
    for uid, counts in answers.items():
        replies = sum(n for line, n in counts.items() if "已报送" in line)
        assert replies == each, (uid, counts)  # each answered once: no second answer, no error
        assert not any("错误" in line or "系统繁忙" in line for line in counts), (uid, counts)
    assert not errors


async def test_three_replicas_keep_to_thirty_a_second_and_one_a_second_per_chat_together():
    """The server enforcing Telegram's limits (30/s per bot, 1/s per chat): 60 contacts each
    send two reports at once (the two may reach different replicas) while a reminder to each
    of them is delivered from the outbox; all answered, no 429. Without the share of the pace
    three replicas would send up to 84 a second, and two replicas would answer one chat within
    the same second."""
    contacts = 60
    async with cluster(contacts, replicas=3, paced_per_chat=True) as c:
        await asyncio.sleep(3.5)  # each replica counts the others (bot/replicas.py JOIN_WAIT)
        with session_scope(c.engines[0]) as s:
            for u in c.users:
                enqueue_text(session=s, chat_id=u.id, text="本周进展请于周五 17:00 前报送。")
        sends = [u.send(f"/report 第{u.id}号矿山第{i}次现场核查完成") for u in c.users for i in range(2)]
        await asyncio.gather(*sends)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while loop.time() < deadline:
            answered = sum(
                1
                for counts in first_lines(c).values()
                for line, n in counts.items()
                if "已报送" in line
                for _ in range(n)
            )
            with session_scope(c.engines[0]) as s:
                pending = s.exec(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state != OutboxState.SENT)
                ).one()
            if answered == 2 * contacts and not pending:
                break
            await asyncio.sleep(0.25)
        statuses = Counter(r.status for r in c.server.requests if r.method == "sendMessage")
        per_replica = handled(c)
        shares = [a.bot.rate_limiter.share for a in c.apps if isinstance(a.bot.rate_limiter, Pacer)]

    assert shares == [pytest.approx(1 / 3)] * 3
    assert sum(1 for n in per_replica if n > 0) >= 2
    assert answered == 2 * contacts and pending == 0
    assert statuses == {200: 3 * contacts}  # two answers and a reminder each; no 429


async def test_two_replicas_answering_in_one_group_keep_to_its_limit_together():
    """The group limit (shortened here to 4 messages in 6 s, the Pacers' 4 in 6.5 s) is the
    bot's: 12 members each send /todo in the joint meeting group at once, the updates spread
    over two replicas, each answering in the group that the list went to a private chat. Each
    replica counting only its own group messages would let up to 8 out in a window; counted in
    the database for both, no 429, the 12 group answers never more than 4 in any 6 s, all given."""
    group_id, count, span = -1007770001, 4, 6.0
    async with cluster(12, paced_per_chat=True, group_limit=(count, span)) as c:
        c.server.group(group_id, "乌拉特中旗矿业权联席会议", members=c.users, bot_id=BOT_ID)
        await asyncio.sleep(3.5)  # each replica counts the other (bot/replicas.py JOIN_WAIT)
        await asyncio.gather(*(u.send("/todo", chat_id=group_id) for u in c.users))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        while loop.time() < deadline:
            notes = [m for m in c.server.messages(group_id, bot_id=BOT_ID) if m.get("text") == texts.PRIVATE_ONLY]
            if len(notes) == len(c.users):
                break
            await asyncio.sleep(0.25)
        to_group = [r for r in c.server.requests if r.method == "sendMessage" and r.chat_id == group_id]
        statuses = Counter(r.status for r in c.server.requests if r.method == "sendMessage")
        per_replica = handled(c)

    assert len(notes) == len(c.users)
    assert all(n > 0 for n in per_replica)  # both replicas answered in the group
    assert 429 not in statuses and Counter(r.status for r in to_group) == {200: len(c.users)}
    times = sorted(r.at for r in to_group)
    assert max(sum(1 for t in times if t0 <= t < t0 + span) for t0 in times) <= count
    assert times[-1] - times[0] >= 2 * span  # three windows' worth: waited for, not sent at once


def test_replicas_of_another_database_on_the_server_are_not_counted():
    """Advisory locks belong to their database, but pg_locks lists the server's: two deployments
    (or two test workers) on one PostgreSQL server must not count each other's replicas."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from bot.delivery import ChatClaims
    from tests.conftest import _pg_db

    url = make_url(_pg_db())
    other_name = f"{url.database}_other_deployment"
    admin = make_engine(str(url)).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{other_name}"'))
        conn.execute(text(f'CREATE DATABASE "{other_name}"'))
    ours, theirs = (
        make_engine(str(url)),
        make_engine(url.set(database=other_name).render_as_string(hide_password=False)),
    )
    try:
        other = ChatClaims(theirs)
        assert other.join() is not None  # a replica of the other deployment
        mine = ChatClaims(ours)
        assert mine.replicas() == (0, False)
        assert mine.join() is not None
        assert mine.replicas() == (1, True)
        mine.close()  # its slot held on would count as a replica in later tests
        other.close()
    finally:
        ours.dispose()
        theirs.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{other_name}" WITH (FORCE)'))
        admin.dispose()


def test_a_replica_taking_the_delivery_over_waits_for_the_last_sends_of_the_one_before():
    """The replica delivering the outbox stops (its chat claims released at once) or dies: the
    one that takes the lease over sends nothing until Telegram has counted the other's last
    messages (a chat's gap), or it would draw a 429 in the chats the other just sent to. A
    replica that finds the lease free (the first, or one restarted alone) sends at once."""
    from bot.delivery import ChatClaims
    from tests.conftest import _pg_db

    first_engine, second_engine = make_engine(_pg_db()), make_engine(_pg_db())
    first, second = ChatClaims(first_engine), ChatClaims(second_engine)
    try:
        assert first.hold_lease() and first.settling() == 0.0
        assert not second.hold_lease() and second.settling() == 0.0
        assert first.claim(7100)
        first.close()  # stopped: the lease and its claims go together
        assert second.hold_lease()
        assert ChatClaims.TAKEOVER_QUIET - 0.2 < second.settling() <= ChatClaims.TAKEOVER_QUIET >= 1.0
        assert second.claim(7100)  # free: only the quiet keeps a send back
        second.close()
        assert first.hold_lease() and first.settling() == 0.0  # free at its first look: no take-over
    finally:
        first.close()  # the lease held on would stop every later test's delivery on this database
        second.close()
        first_engine.dispose()
        second_engine.dispose()
