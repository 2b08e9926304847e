"""Joint meetings and their agreed matters (议定事项): recorded by the office, owned by a
unit with a due date, marked done by the owner. Each change writes its audit row and queues
its notifications in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from models import Attachment, AuditLog, Decision, Meeting, Member, Role, ScheduledRun, Unit, row_id, utcnow
from oversight import runs
from oversight.attachments import is_unlinked
from oversight.audit import actor_of, audit
from oversight.dates import cn_date, local_day
from oversight.errors import InvalidInputError, InvalidStateError, NotFoundError, PermissionDeniedError
from oversight.measures import overdue_workdays
from oversight.members import member_label, members_of_unit, unit_name
from oversight.outbox import enqueue_text, notify_members
from oversight.schedules import ensure_default_schedules
from oversight.sentences import person_at_unit, reason_clause

RECORDING_ROLES = (Role.OFFICE, Role.CONVENER, Role.ADMIN)
CALLING_ROLES = (Role.CONVENER, Role.ADMIN)  # who may call an ad-hoc meeting (临时加开)
ADHOC_TITLE = "临时加开联席会议"
TEXT_MAX = 500
DECISION_ASSIGNED = "【议定事项】{meeting}议定由贵单位（{unit}）牵头办理{major}：\n{text}{helpers}\n完成时限：{due}\n完成后请点“报告完成”并附佐证。"
DECISION_COOPERATE = "【配合办理】{id}号议定事项由{lead}牵头、贵单位（{unit}）配合办理：\n{text}\n完成时限：{due}"
DECISION_MAJOR_NEW = (
    "【重大议定事项】{id}号议定事项由{lead}牵头{helpers}，请联合督导组跟踪督办：\n{text}\n完成时限：{due}"
)
DECISION_MAJOR_CHANGE = "【重大议定事项动态】{id}号议定事项：{text}\n{what}"
DECISION_DONE = "{id}号议定事项{lead}已由{actor}标记完成：{text}\n落实情况：{completion}"
DECISION_LEAD = "（牵头单位：{unit}）"
TODAYS_MEETING = "联席会议"

# How a decision's completion reads wherever it is printed (completion_text).
COMPLETION_ON_TIME = "已完成（{on}）"
COMPLETION_LATE = "已完成（{on}，逾期{late}）"

# The buttons a contact of the owner unit gets under a new agreed matter ({text, token} rows).
DecisionButtons = Callable[[Decision, Member], list[list[dict[str, str]]]]


@dataclass(frozen=True)
class AgreedMatter:
    text: str
    owner_unit_id: int
    due_on: date
    major: bool = False


def done_late(*, due_on: date | None, done_on: date) -> bool:
    """An agreed matter done on `done_on` was done late: after the end of its deadline's day."""
    return due_on is not None and done_on > due_on


def late_workdays(*, due_on: date | None, done_on: date) -> int:
    """Working days an agreed matter done on `done_on` was late for its deadline (0 when done by the
    end of `due_on`, or with no deadline), on the one calendar (oversight.measures.overdue_workdays)."""
    return overdue_workdays(due_on, done_on)


def completion_text(*, due_on: date | None, done_on: date) -> str:
    """How an agreed matter's completion reads in every document and message: 已完成（2026年3月18日）
    when done by its deadline, 已完成（2026年3月27日，逾期5个工作日） after it (completion_words)."""
    late = done_late(due_on=due_on, done_on=done_on)
    days = late_workdays(due_on=due_on, done_on=done_on) if late else 0
    return completion_words(done_on=done_on, late=late, late_workdays=days)


def completion_words(*, done_on: date, late: bool, late_workdays: int) -> str:
    """completion_text from facts already computed (done_late, late_workdays): 逾期不足1个工作日
    when done after the deadline on a day off before the next working day."""
    if not late:
        return COMPLETION_ON_TIME.format(on=cn_date(done_on))
    return COMPLETION_LATE.format(
        on=cn_date(done_on), late=f"{late_workdays}个工作日" if late_workdays else "不足1个工作日"
    )


def decision_completion(decision: Decision) -> str:
    """A done agreed matter's completion (completion_text of its done day); 已完成 without a day on record."""
    if decision.done_at is None:
        return "已完成"
    return completion_text(due_on=decision.due_on, done_on=local_day(decision.done_at))


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
    from oversight.briefs import ask_for_day

    ask_for_day(session=session, plan_id=actor.plan_id, day=day, actor=who, reason="该日另有会议", now=now)
    run = runs.get_run(session=session, job="brief", period=day.isoformat())
    assert run is not None  # asked for just now, or done with the day's brief that serves
    return meeting, run


def check_open_for_decisions(meeting: Meeting) -> None:
    """Agreed matters are recorded after the meeting was held and before its minutes went out."""
    if meeting.state in ("scheduled", "circulated"):
        raise InvalidStateError("会议尚未召开，请在会后记录议定事项（在 /meeting 中先记录会议已召开）。")
    if meeting.state == "minuted":
        raise InvalidStateError("该会议纪要已印发，不能再增加议定事项。")
    if meeting.state == "cancelled":
        raise InvalidStateError("该会议已取消，不能记录议定事项。")


def clean_decision_text(text: str) -> str:
    """An agreed matter's text on one line; refused if empty or over TEXT_MAX."""
    body = " ".join(text.split())
    if not body or len(body) > TEXT_MAX:
        raise InvalidInputError(f"议定事项内容不能为空，且不超过{TEXT_MAX}字。")
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
    cooperating_unit_ids: Sequence[int] = (),
    now: datetime | None = None,
    buttons: DecisionButtons | None = None,
) -> Decision:
    """The office records an agreed matter of a meeting: its lead unit, cooperating units, deadline
    and 重大 flag. The lead unit's contacts are told (with `buttons` under the message, if given),
    the cooperating units' contacts too, and the supervision group when it is 重大."""
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
    check_open_for_decisions(meeting)
    if due_on < meeting.held_on:
        raise InvalidInputError(f"完成时限不能早于会议日期（{cn_date(meeting.held_on)}）。")
    helpers = check_cooperating(
        session=session, plan_id=actor.plan_id, lead_unit_id=row_id(unit), unit_ids=cooperating_unit_ids
    )
    decision = Decision(
        plan_id=actor.plan_id,
        meeting_id=meeting.id,
        text=body,
        owner_unit_id=unit.id,
        cooperating_unit_ids=[row_id(u) for u in helpers],
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
        detail={
            "meeting_id": meeting.id,
            "owner_unit_id": unit.id,
            "cooperating_unit_ids": decision.cooperating_unit_ids,
            "major": major,
            "due_on": due_on.isoformat(),
        },
        at=now,
    )
    notice = decision_notice_text(session=session, decision=decision)
    due = cn_date(due_on)
    for helper in helpers:
        notify_members(
            session=session,
            members=members_of_unit(session=session, unit_id=row_id(helper)),
            text=DECISION_COOPERATE.format(id=decision.id, lead=unit.name, unit=helper.name, text=body, due=due),
            dedupe_prefix=f"decision:{decision.id}:cooperate",
        )
    names = "、".join(h.name for h in helpers)
    tell_supervision(
        session=session,
        decision=decision,
        text=DECISION_MAJOR_NEW.format(
            id=decision.id, lead=unit.name, helpers=f"、{names}配合" if names else "", text=body, due=due
        ),
        event="recorded",
    )
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
    helpers = [unit_name(session, u) for u in decision.cooperating_unit_ids]
    return DECISION_ASSIGNED.format(
        meeting=title,
        major="（重大事项，联合督导组跟踪督办）" if decision.major else "",
        unit=unit.name if unit else "",
        helpers=f"\n配合单位：{'、'.join(helpers)}" if helpers else "",
        text=decision.text,
        due=cn_date(decision.due_on) if decision.due_on else "未设定",
    )


COOPERATING_MAX = 10


def check_cooperating(*, session: Session, plan_id: int, lead_unit_id: int, unit_ids: Sequence[int]) -> list[Unit]:
    """The cooperating units (配合单位) of an agreed matter: units of the plan, not the lead unit, each once."""
    ids = list(dict.fromkeys(unit_ids))
    if len(ids) > COOPERATING_MAX:
        raise InvalidInputError(f"配合单位最多{COOPERATING_MAX}个。")
    out = []
    for uid in ids:
        unit = session.get(Unit, uid)
        if unit is None or unit.plan_id != plan_id:
            raise InvalidInputError("请选择本计划中的配合单位。")
        if uid == lead_unit_id:
            raise InvalidInputError("牵头单位不能同时作为配合单位。")
        out.append(unit)
    return out


def tell_supervision(*, session: Session, decision: Decision, text: str, event: str) -> int:
    """A 重大 agreed matter's change, told to the supervision group (联合督导组), once per event."""
    if not decision.major:
        return 0
    from oversight.members import members_with_role

    return notify_members(
        session=session,
        members=members_with_role(session=session, plan_id=decision.plan_id, roles=(Role.SUPERVISOR,)),
        text=text,
        dedupe_prefix=f"decision:{decision.id}:supervision:{event}",
    )


def major_open(*, session: Session, plan_id: int) -> list[Decision]:
    """The plan's 重大 agreed matters not yet done (open or reported done), by deadline: what the
    supervision group follows."""
    return list(
        session.exec(
            select(Decision)
            .where(Decision.plan_id == plan_id, col(Decision.major).is_(True), Decision.state != "done")
            .order_by(col(Decision.due_on), col(Decision.id))
        ).all()
    )


def complete_decision(*, session: Session, decision_id: int, actor: str | Member, now: datetime) -> Decision:
    """Mark an agreed matter done: by a contact of its owner unit or by the office (a Member),
    or by a system actor string (the demo's replay)."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFoundError(f"找不到{decision_id}号议定事项。")
    if isinstance(actor, Member):
        allowed = actor.active and actor.plan_id == decision.plan_id and actor.role in RECORDING_ROLES
        if not allowed:
            raise PermissionDeniedError(
                "牵头单位须报告完成情况并附佐证，经联席会议办公室验收后办结；只有办公室可以直接办结议定事项。"
            )
    if decision.state == "done":
        raise InvalidStateError(f"{decision_id}号议定事项已完成。")
    decision.state = "done"
    decision.done_at = now
    session.add(decision)
    who = actor_of(actor.id) if isinstance(actor, Member) else actor
    audit(session=session, actor=who, action="decision.done", object_type="decision", object_id=decision_id, at=now)
    if isinstance(actor, Member):
        from oversight.members import members_with_role

        unit = session.get(Unit, decision.owner_unit_id) if decision.owner_unit_id else None
        text = DECISION_DONE.format(
            id=decision.id,
            lead=DECISION_LEAD.format(unit=unit.name) if unit else "",
            actor=person_at_unit(unit_name(session, actor.unit_id), member_label(session=session, member=actor)),
            text=decision.text,
            completion=decision_completion(decision),
        )
        office = [
            m
            for m in members_with_role(session=session, plan_id=decision.plan_id, roles=(Role.OFFICE,))
            if m.telegram_user_id != actor.telegram_user_id
        ]
        notify_members(session=session, members=office, text=text, dedupe_prefix=f"decision:{decision.id}:done")
    tell_supervision(
        session=session,
        decision=decision,
        text=DECISION_MAJOR_CHANGE.format(
            id=decision.id,
            text=decision.text,
            what=f"联席会议办公室已直接办结该事项。落实情况：{decision_completion(decision)}。",
        ),
        event="done",
    )
    return decision


DECISION_SUBMITTED = "【议定事项待验收】{id}号议定事项（{unit}）报告已完成：{text}\n完成情况：{evidence}{files}"
DECISION_ACCEPTED = (
    "【议定事项已验收】{id}号议定事项：{text}\n联席会议办公室已验收，该事项办结。落实情况：{completion}。"
)
DECISION_RETURNED = (
    "【议定事项被退回】{id}号议定事项：{text}\n联席会议办公室退回，理由：{reason}。请继续办理后重新报告。"
)
EVIDENCE_MAX = 1000


def _decision_for_update(session: Session, decision_id: int) -> Decision:
    decision = session.get(Decision, decision_id, with_for_update=True, populate_existing=True)
    if decision is None:
        raise NotFoundError(f"找不到{decision_id}号议定事项。")
    return decision


def check_may_submit_decision(*, session: Session, member: Member, decision_id: int) -> Decision:
    """The lead unit's contact may report an open agreed matter done (with evidence)."""
    decision = session.get(Decision, decision_id)
    if decision is None or decision.plan_id != member.plan_id:
        raise NotFoundError(f"找不到{decision_id}号议定事项。")
    if not member.active or member.role != Role.CONTACT or member.unit_id != decision.owner_unit_id:
        raise PermissionDeniedError("只有牵头单位联络员可以报告该议定事项完成。")
    if decision.state != "open":
        label = {"submitted": "已报告完成，待办公室验收", "done": "已办结"}.get(decision.state, decision.state)
        raise InvalidStateError(f"{decision_id}号议定事项{label}。")
    return decision


def submit_decision(
    *, session: Session, decision_id: int, actor: Member, text: str, attachment_ids: Sequence[int], now: datetime
) -> Decision:
    """The lead unit reports the matter done with its evidence (text, and files if any); the office
    is sent it to accept or return. Nothing is closed until the office accepts."""
    check_may_submit_decision(session=session, member=actor, decision_id=decision_id)
    decision = _decision_for_update(session, decision_id)
    evidence = (text or "").strip()
    if len(evidence) < 4:
        raise InvalidInputError("请说明完成情况（不少于4个字），可另附佐证材料。")
    if len(evidence) > EVIDENCE_MAX:
        raise InvalidInputError(f"完成情况最多{EVIDENCE_MAX}个字，当前{len(evidence)}个字。")
    files = []
    for attachment_id in attachment_ids:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None or not is_unlinked(attachment):
            raise InvalidInputError("所上传的附件不存在或已用于其他记录，请重新上传。")
        files.append(attachment)
    for attachment in files:
        attachment.decision_id = decision.id
        session.add(attachment)
    decision.state = "submitted"
    decision.evidence_text = evidence
    decision.submitted_at = now
    session.add(decision)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="decision.submitted",
        object_type="decision",
        object_id=decision.id,
        detail={"evidence": evidence, "attachments": [a.sha256 for a in files]},
        at=now,
    )
    unit = session.get(Unit, decision.owner_unit_id) if decision.owner_unit_id else None
    message = DECISION_SUBMITTED.format(
        id=decision.id,
        unit=unit.name if unit else "",
        text=decision.text,
        evidence=evidence,
        files=f"（附材料{len(files)}份）" if files else "",
    )
    from oversight.chatstate import button_row
    from oversight.members import members_with_role

    n = len(
        session.exec(
            select(AuditLog.id).where(AuditLog.object_type == "decision", AuditLog.object_id == str(decision.id))
        ).all()
    )
    for m in members_with_role(session=session, plan_id=decision.plan_id, roles=(Role.OFFICE,)):
        if m.telegram_user_id is None:
            continue
        buttons = button_row(
            session=session,
            user_id=m.telegram_user_id,
            args={"did": decision.id},
            names=(("验收通过", "decision.accept"), ("退回", "decision.return")),
        )
        enqueue_text(
            session=session,
            chat_id=m.telegram_user_id,
            text=message,
            buttons=buttons,
            dedupe_key=f"decision:{decision.id}:submitted:{n}:{m.telegram_user_id}",
            now=now,
        )
    tell_supervision(
        session=session,
        decision=decision,
        text=DECISION_MAJOR_CHANGE.format(
            id=decision.id,
            text=decision.text,
            what=f"{unit.name if unit else ''}报告已完成，待联席会议办公室验收。完成情况：{evidence}",
        ),
        event=f"submitted:{n}",
    )
    return decision


def check_may_review_decision(*, session: Session, member: Member, decision_id: int) -> Decision:
    """The office may accept or return an agreed matter its lead unit reported done."""
    decision = session.get(Decision, decision_id)
    if decision is None or decision.plan_id != member.plan_id:
        raise NotFoundError(f"找不到{decision_id}号议定事项。")
    if not member.active or member.role not in (Role.OFFICE, Role.ADMIN):
        raise PermissionDeniedError("只有联席会议办公室可以验收议定事项。")
    if decision.state != "submitted":
        raise InvalidStateError(f"{decision_id}号议定事项没有待验收的完成报告。")
    return decision


def review_decision(
    *, session: Session, decision_id: int, actor: Member, ok: bool, reason: str = "", now: datetime
) -> Decision:
    """The office accepts the reported matter (it is done) or returns it with a reason (open again);
    the lead unit's contacts are told."""
    check_may_review_decision(session=session, member=actor, decision_id=decision_id)
    decision = _decision_for_update(session, decision_id)
    why = " ".join((reason or "").split())
    if not ok and len(why) < 4:
        raise InvalidInputError("退回须说明理由，不少于4个字。")
    if len(why) > 300:
        raise InvalidInputError(f"理由最多300个字，当前{len(why)}个字。")
    if ok:
        decision.state = "done"
        decision.done_at = now
        text = DECISION_ACCEPTED.format(id=decision.id, text=decision.text, completion=decision_completion(decision))
    else:
        decision.state = "open"
        text = DECISION_RETURNED.format(id=decision.id, text=decision.text, reason=reason_clause(why))
    session.add(decision)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="decision.done" if ok else "decision.returned",
        object_type="decision",
        object_id=decision.id,
        detail={"reason": why} if not ok else {"evidence": decision.evidence_text},
        at=now,
    )
    stamp = int(now.timestamp())
    notify_members(
        session=session,
        members=owner_contacts(session=session, decision=decision),
        text=text,
        dedupe_prefix=f"decision:{decision.id}:{'accepted' if ok else 'returned'}:{stamp}",
    )
    tell_supervision(
        session=session,
        decision=decision,
        text=DECISION_MAJOR_CHANGE.format(
            id=decision.id,
            text=decision.text,
            what=f"联席会议办公室验收通过，该事项办结。落实情况：{decision_completion(decision)}。"
            if ok
            else f"联席会议办公室退回，理由：{reason_clause(why)}。",
        ),
        event=f"{'accepted' if ok else 'returned'}:{stamp}",
    )
    return decision


def owner_contacts(*, session: Session, decision: Decision) -> list[Member]:
    """The contacts of an agreed matter's owner unit."""
    return members_of_unit(session=session, unit_id=decision.owner_unit_id) if decision.owner_unit_id else []
