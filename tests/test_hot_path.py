"""The one-line `/report 文字` hot path, made cheap without weakening it: a revoke from the
CLI refuses the very next update, a redelivered report is not filed twice (even after a
restart, when only the database remembers), and one update costs one transaction."""

from __future__ import annotations

import asyncio
import traceback

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import texts
from models import AuditLog, ProcessedUpdate, Report, Role, make_engine, session_scope
from oversight.members import revoke_member
from tests.harness import running_bot
from tests.test_bot_reports import restart, restartable_bot

REPORT = "/report 本周完成第一处矿山地质环境恢复治理现场核查"


def reports_of(engine: Engine, member_id: int) -> list[Report]:
    with session_scope(engine) as s:
        return list(s.exec(select(Report).where(Report.member_id == member_id)).all())


def processed_ids(engine: Engine) -> set[int]:
    with session_scope(engine) as s:
        return set(s.exec(select(ProcessedUpdate.update_id)).all())


async def new_processed_id(engine: Engine, before: set[int]) -> int:
    """The update id recorded since `before` (the record commits with the report)."""
    for _ in range(100):
        new = processed_ids(engine) - before
        if new:
            [update_id] = new
            return update_id
        await asyncio.sleep(0.02)
    raise AssertionError("no update recorded as processed")


async def test_contact_revoked_from_the_cli_is_refused_on_the_next_update(engine, banner_plan_id, settings_env):
    async with running_bot(engine, banner_plan_id) as h:
        user = await h.join(7101, "赵敏", "林草局", Role.CONTACT)
        member_id = h.member(user).id
        await h.say(user, REPORT, "已报送")
        assert len(reports_of(engine, member_id)) == 1

        # The CLI runs in another process: its own engine, its own transaction.
        cli_engine = make_engine(str(engine.url))
        try:
            with session_scope(cli_engine) as s:
                revoke_member(session=s, member_id=member_id, actor="cli")
        finally:
            cli_engine.dispose()

        reply = await h.say(user, REPORT, texts.NOT_REGISTERED)
        assert reply["text"] == texts.NOT_REGISTERED
        assert len(reports_of(engine, member_id)) == 1
        with session_scope(engine) as s:
            filed = s.exec(select(AuditLog).where(AuditLog.action == "report.filed")).all()
        assert len(filed) == 1


async def test_redelivered_report_is_filed_once_even_after_a_restart(engine, banner_plan_id, settings_env):
    async with restartable_bot(engine, banner_plan_id) as h:
        user = await h.join(7102, "钱进", "自然资源局", Role.CONTACT)
        member_id = h.member(user).id
        before = processed_ids(engine)
        await h.say(user, REPORT, "已报送")
        update_id = await new_processed_id(engine, before)
        [report] = reports_of(engine, member_id)
        with session_scope(engine) as s:
            audit_rows = s.exec(
                select(AuditLog).where(AuditLog.action == "report.filed", AuditLog.object_id == str(report.id))
            ).all()
        assert len(audit_rows) == 1  # the report, its audit row and the record commit together

        h.server.redeliver(update_id)  # the same process: the in-memory guard remembers it
        await h.say(user, "/help")
        assert len(reports_of(engine, member_id)) == 1

        await restart(h)  # a fresh process: only the database remembers
        h.server.redeliver(update_id)
        await h.say(user, "/help")
        assert len(reports_of(engine, member_id)) == 1
        filed = [m for m in h.server.messages(user.id) if m.get("text", "").startswith("已报送")]
        assert len(filed) == 1


async def test_one_line_report_costs_one_transaction(engine, banner_plan_id, settings_env):
    async with running_bot(engine, banner_plan_id, deliver_outbox=False) as h:
        user = await h.join(7103, "孙立", "应急管理局", Role.CONTACT)
        member_id = h.member(user).id
        await h.say(user, REPORT, "已报送")  # warm: the dedupe guard's first look at the table

        begins: list[str] = []

        def count(_conn) -> None:
            # Which part of the bot opened it: the inbox's store of the fetched batch, its clearing
            # of an update's kept answers once they are sent, the dedupe guard's look whether the
            # update was applied, or the update's own work.
            names = {f.name for f in traceback.extract_stack()}
            if "store" in names:
                begins.append("store")
            elif "clear_reply" in names:
                begins.append("clear")
            elif "seen" in names:
                begins.append("seen")
            else:
                begins.append("work")

        checker = make_engine(str(engine.url))  # looks at the database without being counted
        try:
            with session_scope(checker) as s:
                before = set(s.exec(select(ProcessedUpdate.update_id)).all())
            event.listen(engine, "begin", count)
            try:
                await h.say(user, REPORT, "已报送")
                for _ in range(100):  # the update is done once its record is committed
                    with session_scope(checker) as s:
                        if set(s.exec(select(ProcessedUpdate.update_id)).all()) - before:
                            break
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.05)  # mark_processed runs after the reply
            finally:
                event.remove(engine, "begin", count)
        finally:
            checker.dispose()
        assert len(reports_of(engine, member_id)) == 2
        # The update's work (member, task, report, processed record) is one transaction; the inbox
        # adds its store before the update is confirmed to Telegram and the clearing of the kept
        # answers after they are sent (the warm-up update's clearing may also fall in the window).
        assert begins.count("work") == 1, f"{begins}: the /report update's work took more than one transaction"
        assert begins.count("store") == 1, begins
        assert 1 <= begins.count("clear") <= 2, begins
        # On PostgreSQL other replicas may have applied the update (bot/replicas.py), so the guard
        # reads the record once before the work; on SQLite (one bot) it knows from what it applied.
        assert begins.count("seen") == (1 if engine.dialect.name == "postgresql" else 0), begins
