"""/todo (待办) and /progress (进度)."""

from __future__ import annotations

from bot import texts as t
from bot.common import plan_of
from bot.engine import Turn, command
from models import Role
from oversight.lookups import (
    READ_ALL_ROLES,
    format_progress,
    format_todo,
    todo_for_unit,
    todo_major_decisions,
    todo_overdue_all,
)
from oversight.measures import progress_by_now
from oversight.members import unit_name
from oversight.targets import format_targets, plan_targets


@command("todo", read=True)
def todo(turn: Turn[None]) -> None:
    """A unit's open problems and decisions with lights; overseeing roles also see every overdue item."""
    member = turn.member
    own = todo_for_unit(session=turn.session, unit_id=member.unit_id, today=turn.today)
    head = t.TODO_HEAD.format(unit=unit_name(turn.session, member.unit_id))
    if member.role not in READ_ALL_ROLES:
        turn.say(head + format_todo(own))
        return
    overdue = todo_overdue_all(session=turn.session, actor=member, today=turn.today)
    # An overseeing role: every unit's overdue items under one heading; its own unit's list
    # only when it has something of its own.
    part = t.TODO_OVERDUE_HEAD + (format_todo(overdue, show_unit=True) if overdue else t.TODO_NO_OVERDUE)
    parts = [*([head + format_todo(own)] if own else []), part]
    if member.role == Role.SUPERVISOR:  # the supervision group follows the 重大 agreed matters
        major = todo_major_decisions(session=turn.session, actor=member, today=turn.today)
        parts.append(t.TODO_MAJOR_HEAD + (format_todo(major, show_unit=True) if major else t.TODO_NO_MAJOR))
    turn.say("\n\n".join(parts))


@command("progress", read=True)
def progress(turn: Turn[None]) -> None:
    """The plan's targets and each batch against what the timeline expects by now."""
    plan = plan_of(turn.session, turn.member)
    targets = plan_targets(session=turn.session, plan_id=turn.member.plan_id)
    rows = progress_by_now(session=turn.session, plan_id=turn.member.plan_id)
    head = t.PROGRESS_HEAD.format(plan=plan.short_name or plan.name if plan else "")
    turn.say(head + t.PROGRESS_TARGETS + format_targets(targets) + "\n\n" + t.PROGRESS_BATCHES + format_progress(rows))
