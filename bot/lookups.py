"""/todo (待办) and /progress (进度)."""

from __future__ import annotations

from bot import texts as t
from bot.common import plan_of
from bot.engine import Turn, command
from oversight.lookups import format_progress, todo_summary
from oversight.measures import progress_by_now
from oversight.targets import format_targets, plan_targets


@command("todo", read=True)
def todo(turn: Turn[None]) -> None:
    """A unit's open problems and decisions with lights; overseeing roles also see every overdue item."""
    turn.say(todo_summary(session=turn.session, member=turn.member, today=turn.today).message())


@command("progress", read=True)
def progress(turn: Turn[None]) -> None:
    """The plan's targets and each batch against what the timeline expects by now."""
    plan = plan_of(turn.session, turn.member)
    targets = plan_targets(session=turn.session, plan_id=turn.member.plan_id)
    rows = progress_by_now(session=turn.session, plan_id=turn.member.plan_id)
    head = t.PROGRESS_HEAD.format(plan=plan.short_name or plan.name if plan else "")
    turn.say(head + t.PROGRESS_TARGETS + format_targets(targets) + "\n\n" + t.PROGRESS_BATCHES + format_progress(rows))
