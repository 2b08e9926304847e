"""Soak: several bot replicas (webhook, behind one load balancer) and workers on one
PostgreSQL database, processes killed with SIGKILL and restarted, against the local Bot API
server enforcing Telegram's limits (30/s per bot, 1/s per chat, 20/min per group). Not a
test: it prints figures.

    .venv/bin/python -m bench.soak                          # 3 bots, 2 workers, 200 users, 5 minutes
    .venv/bin/python -m bench.soak --minutes 1 --users 60   # shorter
    .venv/bin/python -m bench.soak --database-url postgresql+psycopg://…   # (emptied first!)

Without --database-url a throwaway cluster is started (scripts/pg.sh, LIANXI_PG_DIR
var/pg-soak) and removed after. Each simulated contact in turn reports (`/report …`, a
unique text), asks in plain words (the bot answers with the menu) and presses the menu's
first button, with a pause of --think seconds between; every --kill-every seconds one of the
processes, at random, is killed with SIGKILL and started again. Every 30 s a reminder to a
quarter of the contacts is queued in the outbox (as the worker's jobs do). At the end traffic
stops and the bench waits for everything to settle.

Printed: updates sent / applied (once; lost; applied twice: a report stored twice); answers to
reports missing or doubled; outbox messages due / delivered / duplicated, split into those
the protocol cannot avoid (a response lost, a crash between send and record: recorded on the
message as its duplicate cause) and any other; 429s; p50/p95 of send→answer for reports.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text
from sqlmodel import func, select

from localbotapi.balancer import Balancer
from localbotapi.server import BotApiServer, SimUser
from models import InboxUpdate, OutboxMessage, OutboxState, ProcessedUpdate, Report, Role, make_engine, session_scope
from models.migrate import upgrade
from oversight.members import create_invite, redeem_invite, require_unit
from oversight.outbox import enqueue_text
from oversight.planfile import parse_plan_file
from oversight.plans import load_plan

PLAN = ROOT / "plans" / "urad-middle-banner.yaml"
TOKEN = "565656:SOAK-bot"
BOT_ID = 565656
SECRET = "soak-secret"
UNITS = ["自然资源局", "应急管理局", "林草局"]
LIANXI = [sys.executable, "-m", "lianxi"]
REMINDER = "【提醒 {n}】本周进展请于周五 17:00 前报送。"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    kills: int = 0

    def start(self) -> None:
        out = self.log.open("ab")
        self.popen = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        out.close()

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()
            self.kills += 1

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Tally:
    updates: int = 0
    reports: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0  # no answer within the wait (counted again at the end)
    reminders: list[str] = field(default_factory=list)


def _pg_cluster() -> tuple[str, dict[str, str]]:
    env = {**os.environ, "LIANXI_PG_DIR": "var/pg-soak"}
    subprocess.run(["bash", "scripts/pg.sh", "start"], cwd=ROOT, env=env, check=True, capture_output=True)
    url = subprocess.run(
        ["bash", "scripts/pg.sh", "url"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    return url, env


def _empty(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _register(url: str, users: int) -> None:
    engine = make_engine(url)
    with session_scope(engine) as s:
        plan_id = load_plan(session=s, spec=parse_plan_file(PLAN), actor="bench").plan.id
        units = [require_unit(session=s, plan_id=plan_id, text=name) for name in UNITS]
        for k in range(users):
            _, code = create_invite(
                session=s, plan_id=plan_id, unit_id=units[k % len(units)].id, role=Role.CONTACT, created_by="bench"
            )
            redeem_invite(session=s, telegram_user_id=760_000 + k, name=f"联络员{k}", code=code)
    engine.dispose()


async def _contact(
    k: int, user: SimUser, server: BotApiServer, tally: Tally, stop_at: float, think: float, rng: random.Random
) -> None:
    await asyncio.sleep(rng.uniform(0, think))
    n = 0
    while time.monotonic() < stop_at:
        step = n % 2  # a report; or a question, then a press of the menu's first button
        n += 1
        mark = server.mark()
        tally.updates += 1
        if step == 0:
            report = f"第{k}号联络员第{n}次报送：矿山地质环境恢复治理现场核查完成"
            tally.reports.append(report)
            started = time.monotonic()
            await user.send(f"/report {report}")
            try:
                await server.wait_for(user.id, "已报送", after=mark, timeout=60, bot_id=BOT_ID)
                tally.latencies.append(time.monotonic() - started)
            except TimeoutError:
                tally.unanswered += 1
        else:
            await user.send("请问本周的进展怎么报送")
            try:
                menu = await server.wait_for(
                    user.id, lambda m: bool(m.get("reply_markup")), after=mark, timeout=60, bot_id=BOT_ID
                )
            except TimeoutError:
                menu = None
            if menu is not None:
                rows = (menu.get("reply_markup") or {}).get("inline_keyboard") or []
                data = rows[0][0].get("callback_data") if rows and rows[0] else None
                if data:
                    await asyncio.sleep(rng.uniform(0.5, 2.0))
                    tally.updates += 1
                    await user.press(menu, data, check=False)
        await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


async def _reminders(url: str, users: list[SimUser], tally: Tally, stop_at: float, rng: random.Random) -> None:
    engine = make_engine(url)
    n = 0
    try:
        while time.monotonic() < stop_at:
            await asyncio.sleep(30)
            chosen = rng.sample(users, max(1, len(users) // 4))
            with session_scope(engine) as s:
                for u in chosen:
                    n += 1
                    body = REMINDER.format(n=n)
                    enqueue_text(session=s, chat_id=u.id, text=body)
                    tally.reminders.append(body)
    finally:
        engine.dispose()


async def _killer(procs: list[Proc], stop_at: float, every: float, rng: random.Random) -> None:
    while time.monotonic() + every < stop_at:
        await asyncio.sleep(every)
        victim = rng.choice(procs)
        await asyncio.to_thread(victim.kill)
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        victim.start()


async def soak(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    cluster_env: dict[str, str] | None = None
    if args.database_url:
        url = args.database_url
        _empty(url)
    else:
        url, cluster_env = _pg_cluster()
    procs: list[Proc] = []
    try:
        upgrade(url)
        _register(url, args.users)
        with tempfile.TemporaryDirectory() as tmp:
            async with BotApiServer(seed=args.seed) as server:
                server.flood_control = True
                ports = [_free_port() for _ in range(args.bots)]
                upstreams = [f"http://127.0.0.1:{p}/telegram" for p in ports]
                async with Balancer(upstreams, seed=args.seed) as balancer:
                    base = {
                        **os.environ,
                        "DATABASE_URL": url,
                        "DATA_DIR": str(Path(tmp) / "data"),
                        "TELEGRAM_BOT_TOKEN": TOKEN,
                        "TELEGRAM_API_BASE_URL": server.api_base,
                        "TELEGRAM_FILE_BASE_URL": server.file_base,
                        "TELEGRAM_WEBHOOK_URL": balancer.url,
                        "TELEGRAM_WEBHOOK_SECRET": SECRET,
                        "PYTHONUNBUFFERED": "1",
                        "PYTHONPATH": str(ROOT),
                    }
                    for i, port in enumerate(ports):
                        env = {**base, "TELEGRAM_WEBHOOK_PORT": str(port)}
                        procs.append(Proc(f"bot.{i + 1}", [*LIANXI, "bot"], env, Path(tmp) / f"bot{i + 1}.log"))
                    for i in range(args.workers):
                        procs.append(
                            Proc(f"worker.{i + 1}", [*LIANXI, "worker"], base, Path(tmp) / f"worker{i + 1}.log")
                        )
                    for p in procs:
                        p.start()
                    users = [server.user(760_000 + k, f"联络员{k}", bot_id=BOT_ID) for k in range(args.users)]
                    for _ in range(240):  # a bot has set the webhook (to the balancer)
                        if server.webhook_backlog(bot_id=BOT_ID) is not None:
                            break
                        await asyncio.sleep(0.5)
                    await asyncio.sleep(5)  # the others are up too, and the replicas count one another
                    tally = Tally()
                    started = time.monotonic()
                    stop_at = started + args.minutes * 60
                    print(
                        f"soak: {args.bots} bots, {args.workers} workers, {args.users} users, {args.minutes} min",
                        flush=True,
                    )
                    await asyncio.gather(
                        *(_contact(k, u, server, tally, stop_at, args.think, rng) for k, u in enumerate(users)),
                        _reminders(url, users, tally, stop_at, rng),
                        _killer(procs, stop_at, args.kill_every, rng),
                    )
                    settled = await _settle(url, server, tally, timeout=args.settle)
                    kills = Counter(p.name.split(".")[0] for p in procs for _ in range(p.kills))
                    for p in procs:
                        p.stop()
                    _print(
                        url, server, balancer, tally, kills, time.monotonic() - started, settled, [u.id for u in users]
                    )
    finally:
        for p in procs:
            p.stop()
        if cluster_env is not None:
            stop = ["bash", "scripts/pg.sh", "stop"]
            await asyncio.to_thread(subprocess.run, stop, cwd=ROOT, env=cluster_env, capture_output=True)


def _texts(server: BotApiServer, chat_id: int) -> list[str]:
    return [m.get("text") or "" for m in server.messages(chat_id, bot_id=BOT_ID)]


async def _settle(url: str, server: BotApiServer, tally: Tally, timeout: float) -> bool:
    """Wait until every stored update is applied and the outbox is empty."""
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with session_scope(engine) as s:
                applied = select(ProcessedUpdate.update_id).where(ProcessedUpdate.update_id == InboxUpdate.update_id)
                unapplied = s.exec(select(func.count()).select_from(InboxUpdate).where(~applied.exists())).one()
                pending = s.exec(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == OutboxState.PENDING)
                ).one()
            if not unapplied and not pending and server.webhook_backlog(bot_id=BOT_ID) == 0:
                return True
            await asyncio.sleep(1)
        return False
    finally:
        engine.dispose()


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _print(
    url: str,
    server: BotApiServer,
    balancer: Balancer,
    tally: Tally,
    kills: Counter[str],
    seconds: float,
    settled: bool,
    chats: list[int],
) -> None:
    engine = make_engine(url)
    with session_scope(engine) as s:
        stored = Counter(s.exec(select(Report.text)).all())
        processed_ids = set(s.exec(select(ProcessedUpdate.update_id)).all())
        processed = len(processed_ids)
        inboxed = s.exec(select(func.count()).select_from(InboxUpdate)).one()
        rows: list[Any] = list(s.exec(select(OutboxMessage.text, OutboxMessage.payload, OutboxMessage.state)).all())
    engine.dispose()
    reports_lost = sum(1 for r in tally.reports if stored[r] == 0)
    reports_twice = sum(1 for r in tally.reports if stored[r] > 1)
    answers: Counter[str] = Counter()
    delivered: Counter[str] = Counter()
    wanted = set(tally.reminders)
    for chat_id in chats:
        for t in _texts(server, chat_id):
            if t.startswith("已报送"):
                answers[f"{chat_id}:{t}"] += 1
            if t in wanted:
                delivered[t] += 1
    reminder_rows = {t: (p or {}) for t, p, _ in rows if t in wanted}
    dup = [t for t, n in delivered.items() if n > 1]
    forced = [t for t in dup if reminder_rows.get(t, {}).get("duplicate_cause")]
    answered_reports = sum(1 for r in tally.reports if stored[r] >= 1)
    resent = {t for t, p, _ in rows if t.startswith("已报送") and (p or {}).get("duplicate_cause")}
    doubled = [key for key, n in answers.items() if n > 1]
    doubled_forced = sum(1 for key in doubled if key.split(":", 1)[1] in resent)
    http_429 = Counter(r.status for r in server.requests)[429]
    print()
    print(f"ran {seconds / 60:.1f} min (settled: {'yes' if settled else 'NO'}); kills: {dict(kills)}")
    print(
        f"updates sent {len(server.update_ids(bot_id=BOT_ID))} (user actions {tally.updates}); stored {inboxed}, applied {processed} (each at most once: its record); "
        f"lost {len(set(server.update_ids(bot_id=BOT_ID)) - processed_ids)}"
    )
    print(
        f"reports sent {len(tally.reports)}: applied once {len(tally.reports) - reports_lost - reports_twice}, "
        f"lost {reports_lost}, applied twice {reports_twice}; answers: {len(answers)} for {answered_reports} "
        f"stored, {len(doubled)} answered twice ({doubled_forced} forced: resent after a crash between send and record, or a lost response), {tally.unanswered} not within 60 s"
    )
    print(
        f"outbox reminders due {len(wanted)}: delivered {len(delivered)}, not delivered "
        f"{len(wanted) - len(delivered)}, duplicated {len(dup)} (forced by a lost response or a crash "
        f"between send and record {len(forced)}, other {len(dup) - len(forced)})"
    )
    print(
        f"429s {http_429}; balancer: {balancer.posted} posts, {balancer.failed} to a replica down; "
        f"report answer p50 {_pct(tally.latencies, 0.5):.2f} s p95 {_pct(tally.latencies, 0.95):.2f} s"
    )
    print(
        "target: 0 lost, 0 applied twice, 0 other duplicates, 0 × 429: "
        + (
            "met"
            if not (
                reports_lost or reports_twice or len(dup) - len(forced) or len(doubled) - doubled_forced or http_429
            )
            and not set(server.update_ids(bot_id=BOT_ID)) - processed_ids
            else "NOT met"
        )
    )
    if statistics.mean(tally.latencies or [0.0]) > 30:
        print("(latencies above 30 s: the machine is overloaded for this many users)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--bots", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think", type=float, default=10.0, help="mean seconds between a contact's actions")
    parser.add_argument("--kill-every", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=90.0, help="seconds to wait for everything after")
    parser.add_argument("--database-url", help="PostgreSQL database to use (EMPTIED first)")
    parser.add_argument("--seed", type=int, default=16)
    logging.basicConfig(level=logging.CRITICAL)  # connections cut by the kills are logged by aiohttp
    asyncio.run(soak(parser.parse_args()))


if __name__ == "__main__":
    main()
