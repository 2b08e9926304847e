"""Meetings and their agreed matters (议定事项): record a joint meeting with its decisions,
and mark a decision done. The product has no domain function for these yet, so the demo
keeps its own here (each change writes its audit row in the caller's transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from models import Decision, Meeting
from oversight.audit import audit
from oversight.errors import InvalidInputError, InvalidStateError, NotFoundError


@dataclass(frozen=True)
class AgreedMatter:
    text: str
    owner_unit_id: int
    due_on: date
    major: bool = False


def record_meeting(*, session: Session, plan_id: int, held_on: date, title: str, kind: str, period: str,
                   decisions: list[AgreedMatter], actor: str, now: datetime) -> tuple[Meeting, list[Decision]]:
    """Record a held joint meeting and its agreed matters, each with an owner unit and a due date."""
    if not title.strip():
        raise InvalidInputError("会议名称不能为空。")
    meeting = Meeting(plan_id=plan_id, kind=kind, period=period, held_on=held_on, title=title, created_at=now)
    session.add(meeting)
    session.flush()
    rows = [Decision(plan_id=plan_id, meeting_id=meeting.id, text=d.text, owner_unit_id=d.owner_unit_id, major=d.major,
                     due_on=d.due_on, created_at=now) for d in decisions]
    session.add_all(rows)
    session.flush()
    audit(session=session, actor=actor, action="meeting.recorded", object_type="meeting", object_id=meeting.id,
          detail={"held_on": held_on.isoformat(), "decisions": [d.id for d in rows]}, at=now)
    return meeting, rows


def complete_decision(*, session: Session, decision_id: int, actor: str, now: datetime) -> Decision:
    """Mark an agreed matter done."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFoundError(f"找不到议定事项 {decision_id}。")
    if decision.state == "done":
        raise InvalidStateError(f"议定事项 {decision_id} 已完成。")
    decision.state = "done"
    decision.done_at = now
    session.add(decision)
    audit(session=session, actor=actor, action="decision.done", object_type="decision", object_id=decision_id, at=now)
    return decision
