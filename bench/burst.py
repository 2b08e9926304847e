"""Deadline burst at Telegram's limits: the real lianxi bot against the local Bot API server
in strict mode (30 messages/s per bot, 1/s per chat, 20/min per group; 429 beyond), its
Pacer (bot/pacing.py) against PTB's AIORateLimiter in the same run. Not a test: it prints
figures.

Scenarios, each on a fresh server and database, each bot in turn:

- burst: N contacts each send one `/report 文字` at a random moment within S seconds. All
  answered: time from the first send to the last reply, against the floor N/30 s.
- busy: the same while a weekly reminder to every contact and a notice (several messages)
  to the group are being delivered from the outbox.
- flood: the group is flooded (the server answers 429 to it for 55 s) while its notice is
  queued; meanwhile M contacts each send one `/report` spread over 20 s: the longest wait
  of a reply in a private chat (target ≤ 3 s).

Counted per run: 429s the server gave, replies missing, outbox messages not delivered.

    .venv/bin/python -m bench.burst                      # 500 contacts in 5 s
    .venv/bin/python -m bench.burst --contacts 200 --only burst
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select
from telegram.ext import AIORateLimiter, BaseRateLimiter

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.app import build_application
from bot.pacing import Pacer
from localbotapi.server import BotApiServer, SimUser
from models import OutboxMessage, OutboxState, Role, make_engine, session_scope
from models.migrate import upgrade
from oversight.members import create_invite, redeem_invite, require_unit
from oversight.outbox import enqueue_text
from oversight.planfile import parse_plan_file
from oversight.plans import load_plan

PLAN = ROOT / "plans" / "urad-middle-banner.yaml"
TOKEN = "555000111:BENCH-burst-bot"
BOT_ID = int(TOKEN.split(":")[0])
GROUP = -1009876543210
REPORTING_UNITS = ["自然资源局", "应急管理局", "林草局"]
TELEGRAM_RATE = 30.0
TARGET_FLOOR_RATIO = 1.1
TARGET_FLOOD_WAIT = 3.0
GROUP_HOLD = 55
NOTICE_PARTS = 6


@dataclass
class Run:
    scenario: str
    limiter: str
    contacts: int
    seconds: float = 0.0  # first /report sent -> last reply
    latencies: list[float] = field(default_factory=list)
    missing: int = 0
    http_429: int = 0
    undelivered: int = 0

    @property
    def floor(self) -> float:
        return self.contacts / TELEGRAM_RATE

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _register(engine: Engine, plan_id: int, server: BotApiServer, contacts: int) -> list[SimUser]:
    users = []
    with session_scope(engine) as s:
        units = [require_unit(session=s, plan_id=plan_id, text=name) for name in REPORTING_UNITS]
        for k in range(contacts):
            uid = 700_000 + k
            users.append(server.user(uid, f"联络员{k}", bot_id=BOT_ID))
            _, code = create_invite(
                session=s, plan_id=plan_id, unit_id=units[k % len(units)].id, role=Role.CONTACT, created_by="bench"
            )
            redeem_invite(session=s, telegram_user_id=uid, name=f"联络员{k}", code=code)
    return users


async def one(
    scenario: str, limiter_name: str, limiter: BaseRateLimiter | bool, contacts: int, spread: float, seed: int
) -> Run:
    run = Run(scenario, limiter_name, contacts)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'burst.db'}"
        upgrade(url)
        engine = make_engine(url)
        with session_scope(engine) as s:
            plan_id = load_plan(session=s, spec=parse_plan_file(PLAN), actor="bench").plan.id
        async with BotApiServer(seed=seed) as server:
            users = _register(engine, plan_id, server, contacts)
            server.group(GROUP, "乌拉特中旗矿业权联席会议", bot_id=BOT_ID)
            app = build_application(
                engine=engine,
                token=TOKEN,
                base_url=server.api_base,
                base_file_url=server.file_base,
                rate_limiter=limiter,
                outbox_poll_seconds=0.2,
            )
            await app.initialize()
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=10)
            server.flood_control = limiter is not False
            try:
                await asyncio.sleep(1.1)  # the start-up calls (menu commands) out of the windows
                if scenario == "flood":
                    server.hold_chat(GROUP, GROUP_HOLD)
                if scenario in ("busy", "flood"):
                    with session_scope(engine) as s:
                        for part in range(NOTICE_PARTS):
                            enqueue_text(session=s, chat_id=GROUP, text=f"关于矿业权清理整治工作的通报（{part + 1}）")
                        if scenario == "busy":
                            for u in users:
                                enqueue_text(session=s, chat_id=u.id, text="本周进展请于周五 17:00 前报送。")
                    app.bot_data["delivery"].wake()

                async def contact(user: SimUser) -> None:
                    await asyncio.sleep(rng.uniform(0, spread))
                    started = time.perf_counter()
                    await user.send(f"/report 本周完成矿山地质环境恢复治理现场核查（{user.id}）")
                    try:
                        await server.wait_for(user.id, "已报送", timeout=120, bot_id=BOT_ID)
                    except TimeoutError:
                        run.missing += 1
                        return
                    run.latencies.append(time.perf_counter() - started)

                start = time.perf_counter()
                await asyncio.gather(*(contact(u) for u in users))
                run.seconds = time.perf_counter() - start
                deadline = time.perf_counter() + (GROUP_HOLD + 30 if scenario == "flood" else 60)
                while time.perf_counter() < deadline:
                    with session_scope(engine) as s:
                        pending = s.exec(select(OutboxMessage.id).where(OutboxMessage.state != OutboxState.SENT)).all()
                    if not pending:
                        break
                    await asyncio.sleep(0.5)
                run.undelivered = len(pending)
                run.http_429 = Counter(r.status for r in server.requests)[429]
                if scenario == "flood":
                    run.http_429 -= 1  # the one the flooded group was bound to give
            finally:
                await app.updater.stop()
                await app.stop()
                await app.shutdown()
        engine.dispose()
    return run


def limiters() -> list[tuple[str, BaseRateLimiter | bool]]:
    """The bot's Pacer, PTB's AIORateLimiter, and no limiter against a server without limits
    (what the bot itself can do on this machine: the floor when it is above N/30 s)."""
    return [("unpaced", False), ("AIORateLimiter", AIORateLimiter(max_retries=3)), ("Pacer", Pacer())]


async def main_async(args: argparse.Namespace) -> list[Run]:
    runs = []
    scenarios = [args.only] if args.only else ["burst", "busy", "flood"]
    for scenario in scenarios:
        contacts, spread = (args.flood_contacts, 20.0) if scenario == "flood" else (args.contacts, args.spread)
        for name, _ in limiters():
            if scenario == "flood" and name == "unpaced":
                continue
            limiter = dict(limiters())[name]  # a fresh one per run
            run = await one(scenario, name, limiter, contacts, spread, args.seed)
            runs.append(run)
            print(line(run), flush=True)
    return runs


def line(r: Run) -> str:
    return (
        f"{r.scenario:<6} {r.limiter:<15} contacts {r.contacts:>4}  all answered in {r.seconds:6.2f} s "
        f"({r.seconds / r.floor:4.2f}× the floor {r.floor:.1f} s)  reply p50 {r.pct(0.5):5.2f} s "
        f"p95 {r.pct(0.95):5.2f} s max {r.pct(1.0):5.2f} s  429s {r.http_429:>3}  missing {r.missing}  "
        f"undelivered {r.undelivered}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=500)
    parser.add_argument("--spread", type=float, default=5.0, help="seconds over which the contacts send")
    parser.add_argument("--flood-contacts", type=int, default=60)
    parser.add_argument("--only", choices=["burst", "busy", "flood"])
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the baseline logs every failed reply
    runs = asyncio.run(main_async(args))
    print()
    for r in runs:
        if r.limiter != "Pacer":
            continue  # (below: base, the baseline; bare, the bot without any limit)
        base = next(b for b in runs if b.scenario == r.scenario and b.limiter == "AIORateLimiter")
        bare = next((b for b in runs if b.scenario == r.scenario and b.limiter == "unpaced"), None)
        if r.scenario == "flood":
            verdict = r.pct(1.0) <= TARGET_FLOOD_WAIT
            print(
                f"flood: longest reply wait {r.pct(1.0):.2f} s (AIORateLimiter {base.pct(1.0):.2f} s, "
                f"{base.pct(1.0) / r.pct(1.0):.1f}× longer); target ≤ {TARGET_FLOOD_WAIT} s: "
                f"{'met' if verdict and not r.http_429 and not r.missing else 'NOT met'}"
            )
        else:
            ratio = r.seconds / r.floor
            ok = ratio <= TARGET_FLOOR_RATIO and not r.http_429 and not r.missing and not r.undelivered
            if bare is not None:
                print(
                    f"{r.scenario}: the bot unpaced (no limits) takes {bare.seconds:.2f} s here: Pacer "
                    f"{r.seconds / max(bare.seconds, r.floor):.2f}× the larger of that and the floor"
                )
            print(
                f"{r.scenario}: {ratio:.2f}× the floor (AIORateLimiter {base.seconds / base.floor:.2f}×), "
                f"429s {r.http_429} (AIORateLimiter {base.http_429}); target ≤ {TARGET_FLOOR_RATIO}× and 0 × 429: "
                f"{'met' if ok else 'NOT met'}"
            )


if __name__ == "__main__":
    main()
