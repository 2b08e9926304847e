"""Joint meetings and their agreed matters (议定事项): recorded by the office, owned by a
unit with a due date, marked done by the owner. Each change writes its audit row and queues
its notifications in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from models import Decision, Meeting, Member, Role, ScheduledRun, Unit, utcnow
from oversight.audit import actor_of, audit
from oversight.dates import local_day
from oversight.errors import InvalidInputError, InvalidStateError, NotFoundError, PermissionDeniedError
from oversight.members import members_of_unit
from oversight.outbox import enqueue_text, notify_members
from oversight.schedules import ensure_default_schedules, request_run_now

RECORDING_ROLES = (Role.OFFICE, Role.CONVENER, Role.ADMIN)
CALLING_ROLES = (Role.CONVENER, Role.ADMIN)  # who may call an ad-hoc meeting (临时加开)
ADHOC_TITLE = "临时加开联席会议"
TEXT_MAX = 500
DECISION_ASSIGNED = "【议定事项】{meeting}议定由贵单位（{unit}）办理：\n{text}\n完成时限：{due}\n完成后请点“标记完成”。"
DECISION_DONE = "议定事项#{id}已由{unit}标记完成（{actor}）：{text}"
TODAYS_MEETING = "联席会议"

# The buttons a contact of the owner unit gets under a new agreed matter ({text, token} rows).
DecisionButtons = Callable[[Decision, Member], list[list[dict[str, str]]]]


@dataclass(frozen=True)
class AgreedMatter:
    text: str
    owner_unit_id: int
    due_on: date
    major: bool = False


def record_meeting(
    *,
    session: Session,
    plan_id: int,
    held_on: date,
    title: str,
    kind: str,
    period: str,
    decisions: list[AgreedMatter],
    actor: str,
    now: datetime,
) -> tuple[Meeting, list[Decision]]:
    """Record a held joint meeting and its agreed matters, each with an owner unit and a due date."""
    if not title.strip():
        raise InvalidInputError("会议名称不能为空。")
    meeting = Meeting(plan_id=plan_id, kind=kind, period=period, held_on=held_on, title=title, created_at=now)
    session.add(meeting)
    session.flush()
    rows = [
        Decision(
            plan_id=plan_id,
            meeting_id=meeting.id,
            text=d.text,
            owner_unit_id=d.owner_unit_id,
            major=d.major,
            due_on=d.due_on,
            created_at=now,
        )
        for d in decisions
    ]
    session.add_all(rows)
    session.flush()
    audit(
        session=session,
        actor=actor,
        action="meeting.recorded",
        object_type="meeting",
        object_id=meeting.id,
        detail={"held_on": held_on.isoformat(), "decisions": [d.id for d in rows]},
        at=now,
    )
    return meeting, rows


def recent_meetings(*, session: Session, plan_id: int, limit: int = 5) -> list[Meeting]:
    """The plan's latest meetings, newest first."""
    return list(
        session.exec(
            select(Meeting)
            .where(Meeting.plan_id == plan_id)
            .order_by(col(Meeting.held_on).desc(), col(Meeting.id).desc())
            .limit(limit)
        ).all()
    )


def open_meeting_today(*, session: Session, actor: Member, now: datetime) -> Meeting:
    """The office starts the record of a quarterly joint meeting held today."""
    if actor.role not in RECORDING_ROLES or not actor.active:
        raise PermissionDeniedError("只有联席会议办公室、召集人和管理员可以记录会议。")
    today = local_day(now)
    meeting, _ = record_meeting(
        session=session,
        plan_id=actor.plan_id,
        held_on=today,
        title=TODAYS_MEETING,
        kind="quarterly",
        period=f"{today.year}Q{(today.month - 1) // 3 + 1}",
        decisions=[],
        actor=actor_of(actor.id),
        now=now,
    )
    return meeting


def call_adhoc_meeting(*, session: Session, actor: Member, topic: str, now: datetime) -> tuple[Meeting, ScheduledRun]:
    """临时加开: record an ad-hoc joint meeting held today and ask the worker for its brief."""
    if actor.role not in CALLING_ROLES or not actor.active:
        raise PermissionDeniedError("只有召集人和管理员可以临时加开联席会议。")
    day = local_day(now)
    ensure_default_schedules(session=session, now=now)
    meeting = Meeting(
        plan_id=actor.plan_id,
        kind="adhoc",
        period=day.isoformat(),
        held_on=day,
        title=topic or ADHOC_TITLE,
        called_by_member_id=actor.id,
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    who = actor_of(actor.id)
    audit(
        session=session,
        actor=who,
        action="meeting.called",
        object_type="meeting",
        object_id=meeting.id,
        detail={"topic": topic},
        at=now,
    )
    run = request_run_now(session=session, job="brief", actor=who, period=day.isoformat(), now=now)
    return meeting, run


def clean_decision_text(text: str) -> str:
    """An agreed matter's text on one line; refused if empty or over TEXT_MAX."""
    body = " ".join(text.split())
    if not body or len(body) > TEXT_MAX:
        raise InvalidInputError(f"议定事项内容不能为空，且不超过 {TEXT_MAX} 字。")
    return body


def add_decision(
    *,
    session: Session,
    meeting_id: int,
    actor: Member,
    text: str,
    owner_unit_id: int,
    due_on: date,
    major: bool = False,
    now: datetime | None = None,
    buttons: DecisionButtons | None = None,
) -> Decision:
    """The office records an agreed matter of a meeting; the owner unit's contacts are told
    (with `buttons` under the message, if given)."""
    now = now or utcnow()
    if actor.role not in RECORDING_ROLES or not actor.active:
        raise PermissionDeniedError("只有联席会议办公室、召集人和管理员可以记录议定事项。")
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.plan_id != actor.plan_id:
        raise NotFoundError("找不到该会议。")
    body = clean_decision_text(text)
    unit = session.get(Unit, owner_unit_id)
    if unit is None or unit.plan_id != actor.plan_id:
        raise InvalidInputError("请选择本计划中的责任单位。")
    if due_on < meeting.held_on:
        raise InvalidInputError(f"完成时限不能早于会议日期（{meeting.held_on.isoformat()}）。")
    decision = Decision(
        plan_id=actor.plan_id,
        meeting_id=meeting.id,
        text=body,
        owner_unit_id=unit.id,
        major=major,
        due_on=due_on,
        created_at=now,
    )
    session.add(decision)
    session.flush()
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="decision.recorded",
        object_type="decision",
        object_id=decision.id,
        detail={"meeting_id": meeting.id, "owner_unit_id": unit.id, "due_on": due_on.isoformat()},
        at=now,
    )
    notice = decision_notice_text(session=session, decision=decision)
    for contact in owner_contacts(session=session, decision=decision):
        if contact.telegram_user_id is None:
            continue
        enqueue_text(
            session=session,
            chat_id=contact.telegram_user_id,
            text=notice,
            buttons=buttons(decision, contact) if buttons else None,
            dedupe_key=f"decision:{decision.id}:assigned:{contact.telegram_user_id}",
        )
    return decision


def decision_notice_text(*, session: Session, decision: Decision) -> str:
    """What the owner unit is told about a new agreed matter (plain text)."""
    meeting = session.get(Meeting, decision.meeting_id) if decision.meeting_id else None
    unit = session.get(Unit, decision.owner_unit_id) if decision.owner_unit_id else None
    title = f"{meeting.held_on.month}月{meeting.held_on.day}日{meeting.title}" if meeting else "联席会议"
    return DECISION_ASSIGNED.format(
        meeting=title,
        unit=unit.name if unit else "",
        text=decision.text,
        due=decision.due_on.isoformat() if decision.due_on else "未设定",
    )


def complete_decision(*, session: Session, decision_id: int, actor: str | Member, now: datetime) -> Decision:
    """Mark an agreed matter done: by a contact of its owner unit or by the office (a Member),
    or by a system actor string (the demo's replay)."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFoundError(f"找不到议定事项 {decision_id}。")
    if isinstance(actor, Member):
        allowed = (
            actor.active
            and actor.plan_id == decision.plan_id
            and (
                actor.role in RECORDING_ROLES
                or (actor.role == Role.CONTACT and actor.unit_id == decision.owner_unit_id)
            )
        )
        if not allowed:
            raise PermissionDeniedError("只有责任单位联络员或联席会议办公室可以标记该议定事项完成。")
    if decision.state == "done":
        raise InvalidStateError(f"议定事项 {decision_id} 已完成。")
    decision.state = "done"
    decision.done_at = now
    session.add(decision)
    who = actor_of(actor.id) if isinstance(actor, Member) else actor
    audit(session=session, actor=who, action="decision.done", object_type="decision", object_id=decision_id, at=now)
    if isinstance(actor, Member):
        from oversight.members import members_with_role

        unit = session.get(Unit, decision.owner_unit_id) if decision.owner_unit_id else None
        text = DECISION_DONE.format(
            id=decision.id, unit=unit.name if unit else "", actor=actor.name or f"成员{actor.id}", text=decision.text
        )
        office = [
            m
            for m in members_with_role(session=session, plan_id=decision.plan_id, roles=(Role.OFFICE,))
            if m.telegram_user_id != actor.telegram_user_id
        ]
        notify_members(session=session, members=office, text=text, dedupe_prefix=f"decision:{decision.id}:done")
    return decision


def owner_contacts(*, session: Session, decision: Decision) -> list[Member]:
    """The contacts of an agreed matter's owner unit."""
    return members_of_unit(session=session, unit_id=decision.owner_unit_id) if decision.owner_unit_id else []
