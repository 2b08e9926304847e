"""Right status claims (issue 15 item 7): a report that moves a right to a done state (已整合,
已关闭注销, 已转采, 已复工达产 …) needs an attachment and is a claim until the office, or the unit the
duty map names for that paperwork (e.g. 旗自然资源局: 矿业权变更、整合、关闭注销等手续办理), confirms
it. The right's status moves (oversight.rights.move_right_status, an event at the confirmation)
only then, so no progress figure — batch progress, targets, the brief, /progress — counts a claim.
A report by that named unit itself is its own confirmation (it handles the paperwork), still with
its attachment. The brief lists the claims still pending apart (`pending_claims`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models import Member, Report, Right, RightClaim, Role, Unit
from models.base import row_id
from oversight.audit import actor_of, audit
from oversight.dates import cn_date
from oversight.errors import InvalidInputError, InvalidStateError, NotFoundError, PermissionDeniedError
from oversight.facts import Chat
from oversight.measures import EXEMPT_UNIT_KINDS
from oversight.outbox import enqueue_text
from oversight.problems import office_unit
from oversight.rights import RightStatus, move_right_status, status_label
from oversight.sentences import cite

PENDING, CONFIRMED, REJECTED = "pending", "confirmed", "rejected"
REASON_MIN, REASON_MAX = 4, 500

# The paperwork behind each done state, as the duty map words it: the first unit whose duty
# line says it is responsible (负责) for one of these, in this order, confirms a claim of it.
PAPERWORK: dict[str, tuple[str, ...]] = {
    RightStatus.CONSOLIDATED: ("矿业权变更",),  # 整合: the 矿业权变更登记
    RightStatus.CLOSED: ("关闭注销",),
    RightStatus.CONVERTED: ("矿业权变更",),  # 转采: 探矿权转采矿权 is a 矿业权变更
    RightStatus.RESTARTED: ("复工", "安全生产许可证"),
    RightStatus.ACTIVATED: ("盘活", "复工"),
}  # others (出让, 升级改造, 勘查程度): the office alone confirms

MISSING_EVIDENCE = (
    "将矿业权变更为“{status}”须附佐证材料（如批复、登记或注销证明、验收意见），请先上传附件；确认前不计入完成进度。"
)


def is_claim(to_status: str | None) -> bool:
    """Whether a move to `to_status` is a done state that needs evidence and confirmation."""
    return to_status is not None and to_status not in RightStatus.OPEN


def check_evidence(*, to_status: str | None, attachment_ids: list[int] | tuple[int, ...]) -> None:
    """Refuse a done-state move without an attachment (the chat asks for one before the confirm step)."""
    if is_claim(to_status) and not attachment_ids:
        assert to_status is not None
        raise InvalidInputError(MISSING_EVIDENCE.format(status=status_label(to_status)))


def confirming_unit(*, session: Session, plan_id: int, to_status: str) -> Unit | None:
    """The unit the duty map names for the paperwork of `to_status` (None: the office alone confirms)."""
    units = session.exec(select(Unit).where(Unit.plan_id == plan_id).order_by(col(Unit.id))).all()
    candidates = [u for u in units if u.kind not in EXEMPT_UNIT_KINDS]
    for word in PAPERWORK.get(to_status, ()):
        for unit in candidates:
            if any(word in duty and "负责" in duty for duty in unit.duties or []):
                return unit
    return None


def confirmer_label(*, session: Session, plan_id: int, to_status: str) -> str:
    """Who confirms a claim of `to_status`, as chat says it: 联席会议办公室或旗自然资源局."""
    unit = confirming_unit(session=session, plan_id=plan_id, to_status=to_status)
    return f"联席会议办公室或{unit.name}" if unit else "联席会议办公室"


def _confirmers(session: Session, claim: RightClaim) -> list[Member]:
    office = office_unit(session=session, plan_id=claim.plan_id)
    units = {u for u in (claim.confirmer_unit_id, office.id if office else None) if u is not None}
    people = session.exec(
        select(Member).where(
            Member.plan_id == claim.plan_id, col(Member.active).is_(True), col(Member.unit_id).in_(units)
        )
    ).all()
    return [
        m for m in people if m.role == Role.OFFICE or (m.unit_id == claim.confirmer_unit_id and m.role == Role.CONTACT)
    ]


CLAIM_TEXT = (
    "【状态变更待确认】{unit}报送（{report}号进展报送）：矿业权“{right}”（{code}）{status}，附佐证材料{n}份。\n"
    "{text}\n确认前不计入完成进度。"
)


def open_claim(
    *,
    session: Session,
    report: Report,
    right: Right,
    task_id: int | None,
    actor: Member,
    to_status: str,
    attachment_ids: list[int],
    now: datetime,
) -> RightClaim:
    """Record a report's claim (called by oversight.reports.file_report). Confirmed at once when the
    reporter's unit is the one the duty map names; otherwise the office and that unit are asked."""
    check_evidence(to_status=to_status, attachment_ids=attachment_ids)
    confirmer = confirming_unit(session=session, plan_id=right.plan_id, to_status=to_status)
    claim = RightClaim(
        plan_id=right.plan_id,
        right_id=row_id(right),
        report_id=row_id(report),
        task_id=task_id,
        unit_id=actor.unit_id,
        member_id=actor.id,
        to_status=to_status,
        confirmer_unit_id=confirmer.id if confirmer else None,
        created_at=now,
    )
    session.add(claim)
    session.flush()
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="right.claimed",
        object_type="right",
        object_id=right.id,
        detail={"claim_id": claim.id, "to": to_status, "report_id": report.id, "attachments": attachment_ids},
        at=now,
    )
    if confirmer is not None and confirmer.id == actor.unit_id:
        _decide(session, claim, actor, ok=True, reason="", now=now)
        return claim
    from oversight.chatstate import button_row

    unit = session.get(Unit, actor.unit_id)
    text = CLAIM_TEXT.format(
        unit=unit.name if unit else "",
        report=report.id,
        right=right.name,
        code=right.code,
        status=status_label(to_status),
        n=len(attachment_ids),
        text=report.text[:600],
    )
    for m in _confirmers(session, claim):
        if m.telegram_user_id is None:
            continue
        buttons = button_row(
            session=session,
            user_id=m.telegram_user_id,
            args={"cid": claim.id},
            names=(("确认", "claim.confirm"), ("退回", "claim.reject")),
        )
        enqueue_text(
            session=session,
            chat_id=m.telegram_user_id,
            text=text,
            buttons=buttons,
            dedupe_key=f"claim:{claim.id}:{m.id}",
            now=now,
        )
    return claim


def check_may_decide(*, session: Session, member: Member, claim_id: int) -> RightClaim:
    """The claim, if `member` may confirm or return it now (the office, or a contact of the named unit)."""
    claim = session.get(RightClaim, claim_id)
    if claim is None or claim.plan_id != member.plan_id:
        raise NotFoundError("找不到该状态变更申请。")
    may = member.active and (
        member.role == Role.OFFICE
        or (
            member.role == Role.CONTACT
            and claim.confirmer_unit_id is not None
            and member.unit_id == claim.confirmer_unit_id
        )
    )
    if not may:
        named = session.get(Unit, claim.confirmer_unit_id) if claim.confirmer_unit_id else None
        who = f"联席会议办公室或{named.name}" if named else "联席会议办公室"
        raise PermissionDeniedError(f"只有{who}可以确认该状态变更。")
    if claim.state != PENDING:
        word = "已确认" if claim.state == CONFIRMED else "已退回"
        raise InvalidStateError(f"该状态变更申请{word}，无需再处理。")
    return claim


def _decide(session: Session, claim: RightClaim, actor: Member, *, ok: bool, reason: str, now: datetime) -> None:
    claim.state = CONFIRMED if ok else REJECTED
    claim.decided_by_member_id = actor.id
    claim.decided_at = now
    claim.reason = reason
    session.add(claim)
    if ok:
        move_right_status(
            session=session,
            right_id=claim.right_id,
            to_status=claim.to_status,
            actor_member_id=actor.id,
            actor=actor_of(actor.id),
            task_id=claim.task_id,
            report_id=claim.report_id,
            reason=f"{claim.report_id}号进展报送（已确认）",
            now=now,
        )
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="right.claim_confirmed" if ok else "right.claim_returned",
        object_type="right",
        object_id=claim.right_id,
        detail={"claim_id": claim.id, "to": claim.to_status, "reason": reason},
        at=now,
    )


DECIDED_TEXT = {
    True: "【状态变更已确认】矿业权“{right}”（{code}）{status}已经{who}确认，计入完成进度。",
    False: "【状态变更被退回】矿业权“{right}”（{code}）{status}未获{who}确认，理由：{reason}\n请补充材料后重新报送。",
}


def claim_label(*, session: Session, claim: RightClaim) -> str:
    """A claim as chat names it, by its right and its report (never by the claim's record number):
    矿业权“常兴扎嘎乌苏铁矿一号”（C1500002010001）已整合（4号进展报送）."""
    right = session.get(Right, claim.right_id)
    assert right is not None
    report = cite("report", [claim.report_id])
    return f"矿业权“{right.name}”（{right.code}）{status_label(claim.to_status)}（{report}）"


def decide(*, session: Session, claim_id: int, actor: Member, ok: bool, reason: str = "", now: datetime) -> RightClaim:
    """The office or the named unit confirms a claim (the right's status moves now) or returns it
    with a reason; the reporting unit's contacts are told."""
    claim = check_may_decide(session=session, member=actor, claim_id=claim_id)
    reason = " ".join(reason.split())
    if not ok and not REASON_MIN <= len(reason) <= REASON_MAX:
        raise InvalidInputError(f"退回理由须为{REASON_MIN}–{REASON_MAX}字，请说明缺少什么材料。")
    right = session.get(Right, claim.right_id)
    assert right is not None
    if ok and right.status == claim.to_status:
        raise InvalidStateError(f"矿业权“{right.name}”已是“{status_label(claim.to_status)}”状态。")
    _decide(session, claim, actor, ok=ok, reason=reason, now=now)
    who_unit = session.get(Unit, actor.unit_id)
    text = DECIDED_TEXT[ok].format(
        right=right.name,
        code=right.code,
        status=status_label(claim.to_status),
        who=who_unit.name if who_unit else "",
        reason=reason,
    )
    for m in session.exec(
        select(Member).where(Member.unit_id == claim.unit_id, Member.role == Role.CONTACT, col(Member.active).is_(True))
    ).all():
        if m.telegram_user_id is not None:
            enqueue_text(
                session=session, chat_id=m.telegram_user_id, text=text, dedupe_key=f"claimed:{claim.id}:{m.id}", now=now
            )
    return claim


def pending_claims(*, session: Session, plan_id: int, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """Claims not yet confirmed (filed by `as_of`, not decided by then): for the brief, apart from
    every counted figure."""
    query = select(RightClaim, Right, Unit).join(Right, col(Right.id) == col(RightClaim.right_id))
    query = query.join(Unit, col(Unit.id) == col(RightClaim.unit_id)).where(RightClaim.plan_id == plan_id)
    rows = []
    for claim, right, unit in session.exec(query.order_by(col(RightClaim.created_at), col(RightClaim.id))).all():
        if as_of is not None and claim.created_at > as_of:
            continue
        if claim.state != PENDING and (as_of is None or claim.decided_at is None or claim.decided_at <= as_of):
            continue
        rows.append(
            {
                "claim_id": claim.id,
                "right_id": right.id,
                "code": right.code,
                "right": right.name,
                "status": claim.to_status,
                "status_label": status_label(claim.to_status),
                "unit": unit.name,
                "report_id": claim.report_id,
                "filed_on": cn_date(claim.created_at),
            }
        )
    return rows


# The line a ledger's merge adds for the status moves it could not make itself (oversight.facts.Chat).
PENDING_TEXTS: dict[str, str] = {
    "pending_one": "另有{right}（{code}）变更为“{status}”，已提交确认，确认后计入完成进度。",
    "pending": "另有{n}宗矿业权变更为完成状态，已提交确认，确认后计入完成进度。",
}


def pending_facts(*, session: Session, report_id: int) -> Chat:
    """The report's claims waiting for confirmation (a ledger upload may hold several), cited with
    their rights: one is named, several counted; none, no line (an empty message)."""
    rows = session.exec(
        select(RightClaim, Right)
        .join(Right, col(Right.id) == col(RightClaim.right_id))
        .where(RightClaim.report_id == report_id, RightClaim.state == PENDING)
        .order_by(col(RightClaim.id))
    ).all()
    say = Chat(PENDING_TEXTS)
    if len(rows) == 1:
        ((claim, right),) = rows
        ids = {"claim": [row_id(claim)], "right": [row_id(right)], "report": [report_id]}
        say.fact("pending_one", ids, right=right.name, code=right.code, status=status_label(claim.to_status), n=1)
    elif rows:
        ids = {"claim": [row_id(c) for c, _ in rows], "right": [row_id(r) for _, r in rows], "report": [report_id]}
        say.fact("pending", ids, n=len(rows))
    return say
