"""/todo (待办) and /progress (进度): each is one domain summary of named facts, sent as it is."""

from __future__ import annotations

from bot.engine import Turn, command
from oversight.lookups import progress_summary, todo_summary


@command("todo", read=True, bare=True)
def todo(turn: Turn[None]) -> None:
    """A unit's open problems and decisions with lights; overseeing roles also see every overdue item."""
    turn.say(todo_summary(session=turn.session, member=turn.member, today=turn.today).message())


@command("progress", read=True, bare=True)
def progress(turn: Turn[None]) -> None:
    """The plan's targets and each batch against what the timeline expects by now."""
    turn.say(progress_summary(session=turn.session, plan_id=turn.member.plan_id, as_of=turn.now).message())
