"""/todo (待办) and /progress (进度)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.common import answer_private, command, db, member_of, reply
from bot.legacy import EXTRA_COMMANDS
from config.settings import get_settings
from models import Plan, utcnow
from oversight.lookups import READ_ALL_ROLES, format_progress, format_todo, todo_for_unit, todo_overdue_all
from oversight.members import unit_name
from oversight.rights import batch_progress


@command("todo")
async def todo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A unit's open problems and decisions with lights; overseeing roles also see every overdue item."""
    today = utcnow().astimezone(get_settings().tz).date()
    with db(context) as session:
        member = member_of(session, update)
        assert member is not None
        own = todo_for_unit(session=session, unit_id=member.unit_id, today=today)
        parts = [f"【{unit_name(session, member.unit_id)} 待办】\n" + format_todo(own)]
        if member.role in READ_ALL_ROLES:
            overdue = todo_overdue_all(session=session, actor=member, today=today)
            parts.append("【全部逾期事项】\n" + format_todo(overdue, show_unit=True))
    await answer_private(update, "\n\n".join(parts))


@command("progress")
async def progress(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Each batch against its target and what the timeline expects by now."""
    with db(context) as session:
        member = member_of(session, update)
        assert member is not None
        plan = session.get(Plan, member.plan_id)
        rows = batch_progress(session=session, plan_id=member.plan_id)
        text = f"【{plan.short_name or plan.name if plan else ''} 任务进度】\n" + format_progress(rows)
    await reply(update, text)


EXTRA_COMMANDS.extend([("todo", todo), ("progress", progress)])
