"""Problems (问题/堵点) and their hand-offs: raise, accept, hand over, decline, rule,
resolve, confirm, reopen. Every step writes a ProblemEvent and an audit row and queues the
notifications to everyone involved, all in the caller's transaction (the caller commits).

State machine (ProblemState):

    raise ─► assigned ──accept──► accepted ──resolve──► resolved ──confirm──► closed
               │  ▲                 │  ▲                   │                    │
               │  └───hand over─────┘  └──────reopen───────┴────────────────────┘
               │     (reason; new owner, still assigned)      (reason; closed: within
               └─decline (reason)─► disputed                   reopen_window_days)
    office rule (reason) from assigned / accepted / disputed ─► accepted by the ruled unit

Decisions:
- A ruling is binding: the ruled unit is recorded as having accepted at once (a `ruled`
  event followed by an `accepted` event whose actor is the office member). The ruled unit
  cannot decline or hand the problem over afterwards; only a new ruling moves it.
- A hand-over or a ruling does not move the deadline (due_on): passing a problem around
  must not buy time.
- When a problem has been handed over `pass_on_count` times (plan threshold, default 3)
  since anyone last accepted it, the office is told on every further hand-over.
- Comments do not count as action (last_action_at is unchanged): a unit cannot look busy
  by commenting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from config.settings import get_settings
from models import (
    Attachment,
    Member,
    Plan,
    Problem,
    ProblemCategory,
    ProblemEvent,
    ProblemEventKind,
    ProblemState,
    Right,
    RightBatch,
    Role,
    Task,
    Unit,
    Zone,
    ZoneLeader,
    projection,
    utcnow,
)
from models.base import row_id
from oversight.audit import actor_of, audit
from oversight.content import require_content
from oversight.dates import cn_date, cn_datetime, local_day, local_zone
from oversight.errors import InvalidInputError, InvalidStateError, NotFoundError, PermissionDeniedError
from oversight.members import member_label, members_of_unit, members_with_role, unit_name
from oversight.outbox import enqueue_document, enqueue_text
from oversight.rights import SECTOR_LABELS
from oversight.sentences import SYSTEM_ACTOR, person_at_unit
from oversight.workdays import add_workdays, estimate_mark

TEXT_MAX = 2000
FILES_MAX = 10  # files with one event (a raise, a resolve)
REASON_MIN = 2
REASON_MAX = 500
DEFAULT_PASS_ON_COUNT = 3
DEFAULT_REOPEN_WINDOW_DAYS = 90

# Roles that act for a unit that owns or raised a problem. An office member acts for the
# office unit, which owns the categories no department is named for.
UNIT_ROLES = (Role.CONTACT, Role.OFFICE)
RULING_ROLES = (Role.OFFICE, Role.ADMIN)
RAISING_ROLES = (Role.CONTACT, Role.OFFICE, Role.ZONE_LEADER, Role.CONVENER, Role.ADMIN)

STATE_LABELS: dict[str, str] = {
    ProblemState.ASSIGNED: "待接收",
    ProblemState.ACCEPTED: "办理中",
    ProblemState.DISPUTED: "有争议，待办公室裁定",
    ProblemState.RESOLVED: "已办结，待提出方确认",
    ProblemState.CLOSED: "已关闭",
}

EVENT_LABELS: dict[str, str] = {
    ProblemEventKind.RAISED: "提出",
    ProblemEventKind.ASSIGNED: "交办",
    ProblemEventKind.ACCEPTED: "接收",
    ProblemEventKind.HANDED_OVER: "转交",
    ProblemEventKind.DECLINED: "退回",
    ProblemEventKind.RULED: "裁定",
    ProblemEventKind.RESOLVED: "办结",
    ProblemEventKind.CONFIRMED: "确认关闭",
    ProblemEventKind.REOPENED: "重新办理",
    ProblemEventKind.COMMENTED: "备注",
}

ACTION_LABELS: dict[str, str] = {
    "accept": "接收",
    "hand_over": "转交",
    "decline": "退回",
    "rule": "裁定",
    "resolve": "办结",
    "confirm": "确认关闭",
    "reopen": "重新办理",
    "comment": "备注",
    "judge_reason": "认定转交理由",
}

# Every text a user reads from this module. Plain text: never parsed as markup.
TEXTS: dict[str, str] = {
    "card": "{id}号问题【{category}】{state}\n{text}\n提出：{raiser}，{raised_at}\n"
    "责任单位：{owner}\n办理期限：{due}{extra}",
    "raised": "【新问题待接收】\n{card}\n\n{hint}",
    # The hint depends on whether the bot attached the buttons to this message.
    "hint_buttons": "请用下方按钮接收、转交（须说明理由）或退回（须说明理由）。",
    "hint_later": "请接收、转交（须说明理由）或退回（须说明理由），操作按钮随后发送。",
    "accepted": "{id}号问题已由{actor}接收办理。",
    "handed_over": "{id}号问题已由{actor}转交给{to_unit}。\n转交理由：{reason}",
    "handed_over_to_you": "【{from_unit}转交给贵单位的问题待接收】\n{card}\n\n"
    "转交人：{actor}\n转交理由：{reason}\n{hint}",
    "passed_on": "【提请办公室关注】{id}号问题已连续转交{count}次仍无单位接收，当前在{owner}。请及时裁定责任单位。\n{card}",
    "declined": "{id}号问题被{actor}退回，待联席会议办公室裁定。\n退回理由：{reason}",
    "declined_office": "【待裁定】{id}号问题被{owner}退回，请裁定责任单位。\n退回理由：{reason}\n{card}\n\n"
    "交办、转交和退回经过：\n{chain}",
    "ruled": "联席会议办公室裁定：{id}号问题由{to_unit}负责办理，视为已接收（{actor}）。\n裁定理由：{reason}",
    "ruled_to_you": "【办公室裁定由贵单位办理】\n{card}\n\n裁定理由：{reason}\n裁定为最终决定，已视为贵单位接收，请按期办结。",
    "reason_judged": "联席会议办公室认定：{unit}对{id}号问题的转交理由{verdict}。",
    "resolved": "{id}号问题已由{actor}办结。\n办结说明：{evidence}{files}\n请提出方确认关闭；如未解决，可说明理由要求重新办理。",
    "confirmed": "{id}号问题已由提出方确认关闭（{actor}）。",
    "reopened": "{id}号问题被提出方退回重新办理（{actor}），仍由{owner}负责。\n理由：{reason}",
    "commented": "{id}号问题有新备注（{actor}）：\n{text}",
}

# Sent to the unit that must act next; the bot adds the buttons through `buttons`.
ButtonMaker = Callable[[Problem, Member], list[list[dict[str, str]]] | None]


# --------------------------------------------------------------------------- small helpers


def _now(now: datetime | None) -> datetime:
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("naive datetime given; use aware UTC datetimes")
    return now


def local_date(moment: datetime) -> date:
    """The calendar date of an aware moment in the shown zone (Settings.TIMEZONE)."""
    return local_day(moment)


def _local_text(moment: datetime | None) -> str:
    return cn_datetime(moment) if moment else ""


def clean_text(text: str | None, *, what: str, minimum: int = 1, maximum: int = TEXT_MAX) -> str:
    """`text` stripped; refused in Chinese, naming `what`, if shorter than `minimum` or longer than `maximum`."""
    value = (text or "").strip()
    if len(value) < minimum:
        if minimum <= 1:
            raise InvalidInputError(f"{what}不能为空。")
        raise InvalidInputError(f"{what}不能为空，且至少{minimum}个字。")
    if len(value) > maximum:
        raise InvalidInputError(f"{what}最多{maximum}个字，当前{len(value)}个字。")
    return value


PROBLEM_EXAMPLE = "“某铁矿整合需出具林地意见，材料已报送20个工作日仍未办理。”"


def problem_text(text: str | None) -> str:
    """A problem's description as a person typed it, stripped; refused in Chinese if empty, too
    long or saying nothing ("有问题"). The chat checks this before raise_problem."""
    body = clean_text(text, what="问题描述")
    require_content(body, what="问题描述", ask="卡在哪个环节、需要谁做什么", example=PROBLEM_EXAMPLE)
    return body


def _reason(reason: str | None, *, what: str = "理由") -> str:
    return clean_text(reason, what=what, minimum=REASON_MIN, maximum=REASON_MAX)


def _threshold(session: Session, plan_id: int, name: str, default: float) -> float:
    plan = session.get(Plan, plan_id)
    value = ((plan.spec or {}).get("thresholds") or {}).get(name) if plan else None
    return float(value) if value is not None else float(default)


def office_unit(*, session: Session, plan_id: int) -> Unit | None:
    """The unit of the joint meeting office of a plan."""
    plan = session.get(Plan, plan_id)
    key = ((plan.spec or {}).get("office") or {}).get("unit") if plan else None
    units = session.exec(select(Unit).where(Unit.plan_id == plan_id).order_by(col(Unit.id))).all()
    return next((u for u in units if key and u.key == key), None) or next(
        (u for u in units if u.kind == "office"), None
    )


def _unit_of_plan(session: Session, unit_id: int | None, plan_id: int) -> Unit:
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    if unit is None:
        raise InvalidInputError("找不到所选单位。")
    if unit.plan_id != plan_id:
        raise InvalidInputError(f"{unit.name}不属于本计划的成员单位。")
    return unit


def _load(session: Session, problem_id: int) -> Problem:
    # Lock the row on PostgreSQL: two contacts pressing buttons at once are serialised
    # (SQLite already serialises writers with BEGIN IMMEDIATE).
    problem = session.get(Problem, problem_id, with_for_update=True, populate_existing=True)
    if problem is None:
        raise NotFoundError(f"找不到{problem_id}号问题。")
    return problem


def _events(session: Session, problem_id: int) -> list[ProblemEvent]:
    return list(
        session.exec(
            select(ProblemEvent)
            .where(ProblemEvent.problem_id == problem_id)
            .order_by(col(ProblemEvent.at), col(ProblemEvent.id))
        ).all()
    )


def passes_since_accept(*, session: Session, problem_id: int) -> int:
    """How many times a problem was handed over since anyone last accepted it."""
    count = 0
    for event in _events(session, problem_id):
        if event.kind == ProblemEventKind.HANDED_OVER:
            count += 1
        elif event.kind in (ProblemEventKind.ACCEPTED, ProblemEventKind.RULED):
            count = 0
    return count


def _bound_by_ruling(session: Session, problem: Problem) -> bool:
    """Whether the current owner holds the problem by the office's ruling."""
    moves = [
        e for e in _events(session, row_id(problem)) if e.kind in (ProblemEventKind.HANDED_OVER, ProblemEventKind.RULED)
    ]
    return bool(moves) and moves[-1].kind == ProblemEventKind.RULED and moves[-1].to_unit_id == problem.owner_unit_id


# --------------------------------------------------------------------------- permissions


def _is_owner_side(member: Member, problem: Problem) -> bool:
    return member.unit_id == problem.owner_unit_id and member.role in UNIT_ROLES


def _is_raiser_side(member: Member, problem: Problem) -> bool:
    if problem.raised_by_member_id is not None and member.id == problem.raised_by_member_id:
        return True
    return member.unit_id == problem.raised_by_unit_id and member.role in UNIT_ROLES


def _is_office(member: Member) -> bool:
    return member.role in RULING_ROLES


def check_action(
    action: str, *, session: Session, member: Member, problem: Problem, now: datetime | None = None
) -> None:
    """Raise PermissionDeniedError or InvalidStateError, saying why, if `member` may not do `action` now."""
    label = ACTION_LABELS.get(action, action)
    if action not in ACTION_LABELS:
        raise InvalidInputError(f"未知操作“{action}”。")
    if not member.active or member.plan_id != problem.plan_id:
        raise PermissionDeniedError("您不是本计划的有效成员，不能操作该问题。")
    state = problem.state
    owner = unit_name(session, problem.owner_unit_id)

    if action in ("accept", "hand_over", "decline", "resolve"):
        if not _is_owner_side(member, problem):
            raise PermissionDeniedError(f"只有当前责任单位（{owner}）的联络员可以{label}该问题。")
        if state == ProblemState.CLOSED:
            raise InvalidStateError("该问题已关闭。")
        if state == ProblemState.DISPUTED:
            raise InvalidStateError("该问题已退回，正等待联席会议办公室裁定。")
        if state == ProblemState.RESOLVED:
            raise InvalidStateError("该问题已办结，正等待提出方确认。")
        if action == "accept" and state != ProblemState.ASSIGNED:
            raise InvalidStateError("该问题已被接收，不能重复接收。")
        if action == "decline" and state != ProblemState.ASSIGNED:
            raise InvalidStateError("该问题已被接收，不能再退回。")
        if action == "resolve" and state != ProblemState.ACCEPTED:
            raise InvalidStateError("请先接收该问题，再标记办结。")
        if action in ("hand_over", "decline") and _bound_by_ruling(session, problem):
            raise InvalidStateError(
                f"该问题已由联席会议办公室裁定由{owner}办理，不能{label}；如确需调整，请联系办公室重新裁定。"
            )
        return

    if action in ("confirm", "reopen"):
        if not _is_raiser_side(member, problem):
            raise PermissionDeniedError(
                f"只有问题提出方（{unit_name(session, problem.raised_by_unit_id)}）可以{label}。"
            )
        if action == "confirm" and state != ProblemState.RESOLVED:
            if state == ProblemState.CLOSED:
                raise InvalidStateError("该问题已关闭。")
            raise InvalidStateError("该问题尚未办结，不能确认关闭。")
        if action == "reopen":
            if state == ProblemState.CLOSED:
                window = _threshold(session, problem.plan_id, "reopen_window_days", DEFAULT_REOPEN_WINDOW_DAYS)
                closed_at = problem.closed_at or problem.last_action_at
                if _now(now) - closed_at > timedelta(days=window):
                    raise InvalidStateError(f"该问题关闭已超过{window:g}天，不能重新办理，请提出新问题。")
            elif state != ProblemState.RESOLVED:
                raise InvalidStateError("该问题尚未办结，无需重新办理。")
        return

    if action in ("rule", "judge_reason"):
        if not _is_office(member):
            raise PermissionDeniedError(f"只有联席会议办公室可以{label}。")
        if action == "rule" and state not in (ProblemState.ASSIGNED, ProblemState.ACCEPTED, ProblemState.DISPUTED):
            if state == ProblemState.CLOSED:
                raise InvalidStateError("该问题已关闭，不能裁定。")
            raise InvalidStateError("该问题已办结待提出方确认，不能裁定。")
        return

    # comment: anyone involved, or anyone who oversees.
    if not (
        _is_owner_side(member, problem)
        or _is_raiser_side(member, problem)
        or member.role in (Role.OFFICE, Role.ADMIN, Role.CONVENER, Role.SUPERVISOR)
    ):
        raise PermissionDeniedError("只有问题的提出方、责任单位和联席会议办公室可以备注。")


def can(action: str, *, session: Session, member: Member, problem: Problem, now: datetime | None = None) -> bool:
    """Whether `member` may do `action` on `problem` now (used to show and to re-check buttons).

    Actions: accept, hand_over, decline, rule, resolve, confirm, reopen, comment, judge_reason.
    """
    try:
        check_action(action, session=session, member=member, problem=problem, now=now)
    except (PermissionDeniedError, InvalidStateError, InvalidInputError):
        return False
    return True


def _require(action: str, *, session: Session, member: Member, problem: Problem, now: datetime) -> None:
    """Like check_action, but a refusal leaves an audit row (kept if the caller commits)."""
    try:
        check_action(action, session=session, member=member, problem=problem, now=now)
    except (PermissionDeniedError, InvalidStateError) as exc:
        audit(
            session=session,
            actor=actor_of(member.id),
            action="problem.refused",
            object_type="problem",
            object_id=problem.id,
            detail={"action": action, "state": problem.state, "message": exc.message},
            at=now,
        )
        raise


# --------------------------------------------------------------------------- notifications


def _unit_members(session: Session, unit_id: int | None) -> list[Member]:
    return members_of_unit(session=session, unit_id=unit_id, roles=UNIT_ROLES) if unit_id is not None else []


def _raiser_side(session: Session, problem: Problem) -> list[Member]:
    people = []
    if problem.raised_by_member_id is not None:
        raiser = session.get(Member, problem.raised_by_member_id)
        if raiser is not None:
            people.append(raiser)
    return people + _unit_members(session, problem.raised_by_unit_id)


def _office_members(session: Session, plan_id: int) -> list[Member]:
    return members_with_role(session=session, plan_id=plan_id, roles=(Role.OFFICE,)) or members_with_role(
        session=session, plan_id=plan_id, roles=(Role.ADMIN,)
    )


def _notify(
    session: Session,
    *,
    problem: Problem,
    event: ProblemEvent,
    members: Sequence[Member],
    text: str,
    actor: Member | None,
    sent: set[int],
    now: datetime,
    buttons: ButtonMaker | None = None,
    tag: str = "",
    files: Sequence[Attachment] = (),
) -> None:
    """Queue `text` to each member once per event, skipping the actor (the bot answers them),
    and after it each of `files` (the event's evidence, the files themselves)."""
    for m in members:
        uid = m.telegram_user_id
        if uid is None or not m.active or uid in sent or (actor is not None and uid == actor.telegram_user_id):
            continue
        sent.add(uid)
        rows = buttons(problem, m) if buttons is not None else None
        key = f"problem:{problem.id}:ev:{event.id}{tag}:{uid}"
        enqueue_text(session=session, chat_id=uid, text=text, buttons=rows or None, dedupe_key=key, now=now)
        for n, attachment in enumerate(files, 1):
            caption = f"{problem.id}号问题的材料（{n}/{len(files)}）：{attachment.filename}"
            path = str(get_settings().DATA_DIR / attachment.path)
            enqueue_document(
                session=session,
                chat_id=uid,
                path=path,
                filename=attachment.filename,
                caption=caption,
                dedupe_key=f"{key}:file:{attachment.id}",
                now=now,
            )


def _claim_files(session: Session, attachment_ids: Sequence[int]) -> list[Attachment]:
    """The uploaded files for one event, each not yet part of any record."""
    if len(attachment_ids) > FILES_MAX:
        raise InvalidInputError(f"每次最多附{FILES_MAX}个材料。")
    files = []
    for attachment_id in dict.fromkeys(attachment_ids):
        attachment = session.get(Attachment, attachment_id)
        if attachment is None:
            raise InvalidInputError("找不到所上传的附件，请重新上传。")
        if attachment.problem_event_id is not None or attachment.report_id is not None:
            raise InvalidInputError(f"附件 {attachment.filename} 已用于其他记录。")
        files.append(attachment)
    return files


def _link_files(session: Session, files: Sequence[Attachment], event: ProblemEvent) -> None:
    for attachment in files:
        attachment.problem_event_id = event.id
        session.add(attachment)


def event_files(*, session: Session, problem_id: int) -> dict[int, list[Attachment]]:
    """The files of each event of a problem (event id -> its attachments, in upload order)."""
    rows = session.exec(
        select(Attachment)
        .join(ProblemEvent, col(ProblemEvent.id) == col(Attachment.problem_event_id))
        .where(ProblemEvent.problem_id == problem_id)
        .order_by(col(Attachment.id))
    ).all()
    found: dict[int, list[Attachment]] = {}
    for row in rows:
        found.setdefault(row.problem_event_id or 0, []).append(row)
    return found


def send_problem_file(
    *, session: Session, member: Member, attachment_id: int, now: datetime | None = None
) -> Attachment:
    """Queue a file of a problem's history to a member who may view that problem (to open it)."""
    attachment = session.get(Attachment, attachment_id)
    event_id = attachment.problem_event_id if attachment else None
    event = session.get(ProblemEvent, event_id) if event_id else None
    problem = session.get(Problem, event.problem_id) if event else None
    if attachment is None or problem is None or not may_view(session=session, member=member, problem=problem):
        raise NotFoundError("找不到该材料，或您无权查看。")
    if member.telegram_user_id is not None:
        enqueue_document(
            session=session,
            chat_id=member.telegram_user_id,
            path=str(get_settings().DATA_DIR / attachment.path),
            filename=attachment.filename,
            caption=f"{problem.id}号问题的材料：{attachment.filename}",
            now=now,
        )
    return attachment


# --------------------------------------------------------------------------- texts


def problem_card(*, session: Session, problem: Problem) -> str:
    """A problem in a few lines of plain Chinese text: what, who raised it, who owns it, by when."""
    category = session.get(ProblemCategory, problem.category_id) if problem.category_id else None
    raiser = session.get(Member, problem.raised_by_member_id) if problem.raised_by_member_id else None
    extra = []
    if problem.right_id:
        right = session.get(Right, problem.right_id)
        if right:
            extra.append(f"涉及矿业权：{right.name}（{right.code}）")
    if problem.zone_id:
        zone = session.get(Zone, problem.zone_id)
        if zone:
            extra.append(f"整合区：{zone.seq}号 {zone.name}")
    return TEXTS["card"].format(
        id=problem.id,
        category=category.name if category else "未分类",
        state=STATE_LABELS.get(problem.state, problem.state),
        text=problem.text,
        raiser=person_at_unit(
            unit_name(session, problem.raised_by_unit_id),
            member_label(session=session, member=raiser) if raiser else "",
        ),
        raised_at=_local_text(problem.created_at),
        owner=unit_name(session, problem.owner_unit_id),
        due=cn_date(problem.due_on) + estimate_mark(problem.due_on) if problem.due_on else "未设定",
        extra="".join(f"\n{line}" for line in extra),
    )


def _hint(buttons: ButtonMaker | None) -> str:
    return TEXTS["hint_buttons" if buttons is not None else "hint_later"]


def _who(session: Session, member: Member | None) -> str:
    """The member who acted, at their unit (person_at_unit: 旗林草局的高娜仁); 系统 for none."""
    if member is None:
        return SYSTEM_ACTOR
    return person_at_unit(unit_name(session, member.unit_id), member_label(session=session, member=member))


# --------------------------------------------------------------------------- steps


def _record(
    session: Session,
    *,
    problem: Problem,
    kind: str,
    actor: Member | None,
    now: datetime,
    from_unit_id: int | None = None,
    to_unit_id: int | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> ProblemEvent:
    """Write one event and its audit row."""
    event = ProblemEvent(
        problem_id=row_id(problem),
        kind=kind,
        actor_member_id=actor.id if actor else None,
        actor_unit_id=actor.unit_id if actor else None,
        from_unit_id=from_unit_id,
        to_unit_id=to_unit_id,
        reason=reason,
        at=now,
    )
    session.add(event)
    session.flush()
    projection.apply(session, event)
    audit(
        session=session,
        actor=actor_of(actor.id if actor else None, system="system"),
        action=f"problem.{kind}",
        object_type="problem",
        object_id=problem.id,
        detail={
            "event_id": event.id,
            "state": problem.state,
            "from_unit_id": from_unit_id,
            "to_unit_id": to_unit_id,
            "reason": reason,
            **(detail or {}),
        },
        at=now,
    )
    return event


def _touch(session: Session, problem: Problem, now: datetime, state: str | None = None) -> None:
    if state is not None:
        problem.state = state
    problem.last_action_at = now
    session.add(problem)


@dataclass(frozen=True)
class Route:
    """Who the plan makes owner of a category's problem, and the reason recorded with it; `basis`
    is what the reason rests on (ROUTE_BY_DUTY, ROUTE_BY_PLACE), empty where the plan names none."""

    unit: Unit
    reason: str
    basis: str = ""


# A routed problem's reason. 按职责分工 only where the plan document assigns the category's work to
# the unit (CategorySpec.duty_from_plan: seed 000 四 lists no duty for 用地, nor for the enterprise
# reasons the office takes); 按属地 where the right's place decides; else only who handles it.
ROUTE_BY_DUTY = "按职责分工"
ROUTE_BY_PLACE = "按属地"
ROUTE_REASONS: dict[str, str] = {
    ROUTE_BY_DUTY: "按职责分工，{what}由{unit}负责",
    ROUTE_BY_PLACE: "按属地，{what}由矿业权所在地{unit}负责",
    "": "{what}由{unit}办理",
}


def _route(unit: Unit, what: str, basis: str) -> Route:
    """The route to `unit` for `what` (a category's name, perhaps of a sector), its reason worded by
    `basis`: a category named without a basis reads as a matter, 用地事项由旗自然资源局办理."""
    if not basis and not what.endswith(("问题", "事项")):
        what += "事项"
    return Route(unit, ROUTE_REASONS[basis].format(what=what, unit=unit.name), basis)


def _right_sector(session: Session, right: Right, spec_tasks: dict[str, dict[str, Any]]) -> str:
    """The right's sector: the ledger's, else the one sector of the batches it is in."""
    if right.sector:
        return right.sector
    keys = session.exec(
        select(Task.key)
        .join(RightBatch, col(RightBatch.task_id) == col(Task.id))
        .where(RightBatch.right_id == right.id)
    ).all()
    sectors = {spec_tasks.get(k, {}).get("sector") for k in keys} - {None}
    return str(sectors.pop()) if len(sectors) == 1 else ""


def route_owner(*, session: Session, plan_id: int, category_id: int, right_id: int | None = None) -> Route | None:
    """The owner the plan names for a category's problem on `right_id` (seed 003 一):
    - a category marked `local` (enterprise, market, construction reasons) goes to the league or
      city where the right lies (所在盟市);
    - a category with `owner_by_sector` goes to that sector's unit (coal safety licences and restart
      approvals to 能源局, task (一)); the right's sector is the ledger's, else its batch's;
    - otherwise, or when the right's place or sector is not known, to the category's owner.
    The reason says 按职责分工 only of a category marked `duty_from_plan`. None when the category
    names no owner."""
    category = session.get(ProblemCategory, category_id)
    if category is None or category.plan_id != plan_id:
        return None
    plan = session.get(Plan, plan_id)
    spec = (plan.spec or {}) if plan is not None else {}
    cat_spec: dict[str, Any] = next((c for c in spec.get("categories", []) if c.get("key") == category.key), {})
    right = session.get(Right, right_id) if right_id is not None else None
    if right is not None and right.plan_id != plan_id:
        right = None
    if right is not None and cat_spec.get("local") and right.locality_unit_id is not None:
        place = session.get(Unit, right.locality_unit_id)
        if place is not None and place.plan_id == plan_id:
            return _route(place, category.name, ROUTE_BY_PLACE)
    basis = ROUTE_BY_DUTY if cat_spec.get("duty_from_plan") else ""
    by_sector: dict[str, str] = cat_spec.get("owner_by_sector") or {}
    if right is not None and by_sector:
        sector = _right_sector(session, right, {t.get("key"): t for t in spec.get("tasks", [])})
        key = by_sector.get(sector)
        if key is not None:
            unit = session.exec(select(Unit).where(Unit.plan_id == plan_id, Unit.key == key)).first()
            if unit is not None:
                label = SECTOR_LABELS.get(sector, sector)
                return _route(unit, f"{label}矿山的{category.name}", basis)
    if category.owner_unit_id is None:
        return None
    owner = session.get(Unit, category.owner_unit_id)
    return None if owner is None else _route(owner, category.name, basis)


def suggest_owner(*, session: Session, plan_id: int, category_id: int, right_id: int | None = None) -> Unit | None:
    """The unit the plan makes owner of a category's problem (on `right_id`, see route_owner), if any."""
    route = route_owner(session=session, plan_id=plan_id, category_id=category_id, right_id=right_id)
    return None if route is None else route.unit


def raise_problem(
    *,
    session: Session,
    plan_id: int,
    actor: Member,
    text: str,
    category_id: int,
    owner_unit_id: int | None = None,
    right_id: int | None = None,
    zone_id: int | None = None,
    now: datetime | None = None,
    buttons: ButtonMaker | None = None,
    attachment_ids: Sequence[int] = (),
) -> Problem:
    """Raise a problem and assign it to its owner (the category's duty-map owner unless given),
    with the raiser's files (sent to the owner with the card)."""
    now = _now(now)
    if not actor.active or actor.plan_id != plan_id:
        raise PermissionDeniedError("您不是本计划的有效成员，不能提出问题。")
    if actor.role not in RAISING_ROLES:
        raise PermissionDeniedError("联合督导组成员不能提出问题，请由相关单位联络员提出。")
    body = clean_text(text, what="问题描述")  # a person's words are checked by problem_text first
    category = session.get(ProblemCategory, category_id)
    if category is None or category.plan_id != plan_id:
        raise InvalidInputError("请选择本计划中的问题类别。")
    if right_id is not None:
        right = session.get(Right, right_id)
        if right is None or right.plan_id != plan_id:
            raise InvalidInputError("找不到该矿业权。")
    route = route_owner(session=session, plan_id=plan_id, category_id=category_id, right_id=right_id)
    if owner_unit_id is None:
        # No unit is named for some categories: the office owns and assigns them.
        owner = route.unit if route is not None else office_unit(session=session, plan_id=plan_id)
        if owner is None:
            raise InvalidInputError(f"类别“{category.name}”没有对应的责任单位，请指定责任单位。")
    else:
        owner = _unit_of_plan(session, owner_unit_id, plan_id)
    by_plan = route is not None and owner.id == route.unit.id
    if zone_id is not None:
        zone = session.get(Zone, zone_id)
        if zone is None or zone.plan_id != plan_id:
            raise InvalidInputError("找不到该整合区。")
    files = _claim_files(session, attachment_ids)
    problem = Problem(
        plan_id=plan_id,
        text=body,
        category_id=category.id,
        right_id=right_id,
        zone_id=zone_id,
        raised_by_member_id=actor.id,
        raised_by_unit_id=actor.unit_id,
        owner_unit_id=row_id(owner),
        state=ProblemState.ASSIGNED,
        due_on=add_workdays(local_date(now), category.limit_days),
        created_at=now,
        last_action_at=now,
    )
    session.add(problem)
    session.flush()
    raised = _record(
        session,
        problem=problem,
        kind=ProblemEventKind.RAISED,
        actor=actor,
        now=now,
        detail={
            "category": category.key,
            "due_on": problem.due_on.isoformat() if problem.due_on else None,
            "attachment_ids": [a.id for a in files],
        },
    )
    _link_files(session, files, raised)
    assigned = _record(
        session,
        problem=problem,
        kind=ProblemEventKind.ASSIGNED,
        actor=actor,
        now=now,
        to_unit_id=owner.id,
        reason=route.reason if by_plan and route is not None else "提出方指定",
    )
    card = problem_card(session=session, problem=problem)
    _notify(
        session,
        problem=problem,
        event=assigned,
        members=_unit_members(session, owner.id),
        text=TEXTS["raised"].format(card=card + _files_line(files), hint=_hint(buttons)),
        actor=actor,
        sent=set(),
        now=now,
        buttons=buttons,
        files=files,
    )
    return problem


def _files_line(files: Sequence[Attachment]) -> str:
    return f"\n提出方附材料{len(files)}个：{'、'.join(a.filename for a in files)}（随后发送）" if files else ""


def accept_problem(*, session: Session, problem_id: int, actor: Member, now: datetime | None = None) -> Problem:
    """The owner unit accepts the problem assigned to it."""
    now = _now(now)
    problem = _load(session, problem_id)
    _require("accept", session=session, member=actor, problem=problem, now=now)
    _touch(session, problem, now, ProblemState.ACCEPTED)
    problem.accepted_at = now
    event = _record(
        session, problem=problem, kind=ProblemEventKind.ACCEPTED, actor=actor, now=now, to_unit_id=problem.owner_unit_id
    )
    text = TEXTS["accepted"].format(id=problem.id, actor=_who(session, actor))
    sent: set[int] = set()
    for group in (_raiser_side(session, problem), _unit_members(session, problem.owner_unit_id)):
        _notify(session, problem=problem, event=event, members=group, text=text, actor=actor, sent=sent, now=now)
    return problem


def hand_over_problem(
    *,
    session: Session,
    problem_id: int,
    actor: Member,
    to_unit_id: int,
    reason: str,
    now: datetime | None = None,
    buttons: ButtonMaker | None = None,
) -> Problem:
    """The owner unit hands the problem to another unit (转交) with a reason; the new unit must accept."""
    now = _now(now)
    problem = _load(session, problem_id)
    _require("hand_over", session=session, member=actor, problem=problem, now=now)
    why = _reason(reason, what="转交理由")
    target = _unit_of_plan(session, to_unit_id, problem.plan_id)
    if target.id == problem.owner_unit_id:
        raise InvalidInputError("不能转交给本单位。")
    old_owner = problem.owner_unit_id
    problem.owner_unit_id = row_id(target)
    problem.accepted_at = None
    _touch(session, problem, now, ProblemState.ASSIGNED)
    event = _record(
        session,
        problem=problem,
        kind=ProblemEventKind.HANDED_OVER,
        actor=actor,
        now=now,
        from_unit_id=old_owner,
        to_unit_id=target.id,
        reason=why,
    )
    session.flush()
    card = problem_card(session=session, problem=problem)
    sent: set[int] = set()
    _notify(
        session,
        problem=problem,
        event=event,
        members=_unit_members(session, target.id),
        text=TEXTS["handed_over_to_you"].format(
            card=card,
            reason=why,
            hint=_hint(buttons),
            from_unit=unit_name(session, old_owner),
            actor=_who(session, actor),
        ),
        actor=actor,
        sent=sent,
        now=now,
        buttons=buttons,
    )
    text = TEXTS["handed_over"].format(
        id=problem.id,
        to_unit=target.name,
        actor=_who(session, actor),
        reason=why,
    )
    for group in (_raiser_side(session, problem), _unit_members(session, old_owner)):
        _notify(session, problem=problem, event=event, members=group, text=text, actor=actor, sent=sent, now=now)

    passes = passes_since_accept(session=session, problem_id=row_id(problem))
    limit = int(_threshold(session, problem.plan_id, "pass_on_count", DEFAULT_PASS_ON_COUNT))
    if passes >= limit:
        audit(
            session=session,
            actor=actor_of(system="system"),
            action="problem.flagged_passed_on",
            object_type="problem",
            object_id=problem.id,
            detail={"event_id": event.id, "passes": passes},
            at=now,
        )
        _notify(
            session,
            problem=problem,
            event=event,
            members=_office_members(session, problem.plan_id),
            text=TEXTS["passed_on"].format(id=problem.id, count=passes, owner=target.name, card=card),
            actor=actor,
            sent=set(),
            now=now,
            tag=":flag",
        )
    return problem


def decline_problem(
    *,
    session: Session,
    problem_id: int,
    actor: Member,
    reason: str,
    now: datetime | None = None,
    buttons: ButtonMaker | None = None,
) -> Problem:
    """The owner unit declines the problem (退回) with a reason; the office must rule."""
    now = _now(now)
    problem = _load(session, problem_id)
    _require("decline", session=session, member=actor, problem=problem, now=now)
    why = _reason(reason, what="退回理由")
    _touch(session, problem, now, ProblemState.DISPUTED)
    event = _record(
        session,
        problem=problem,
        kind=ProblemEventKind.DECLINED,
        actor=actor,
        now=now,
        from_unit_id=problem.owner_unit_id,
        reason=why,
    )
    owner = unit_name(session, problem.owner_unit_id)
    sent: set[int] = set()
    _notify(
        session,
        problem=problem,
        event=event,
        members=_office_members(session, problem.plan_id),
        text=TEXTS["declined_office"].format(
            id=problem.id,
            owner=owner,
            reason=why,
            card=problem_card(session=session, problem=problem),
            chain=_chain(session, problem_id=row_id(problem)),
        ),
        actor=actor,
        sent=sent,
        now=now,
        buttons=buttons,
    )
    text = TEXTS["declined"].format(id=problem.id, actor=_who(session, actor), reason=why)
    for group in (_raiser_side(session, problem), _unit_members(session, problem.owner_unit_id)):
        _notify(session, problem=problem, event=event, members=group, text=text, actor=actor, sent=sent, now=now)
    return problem


def _judge(session: Session, *, problem: Problem, event_ids: Sequence[int]) -> list[ProblemEvent]:
    events = []
    for event_id in event_ids:
        event = session.get(ProblemEvent, event_id)
        if event is None or event.problem_id != problem.id or event.kind != ProblemEventKind.HANDED_OVER:
            raise InvalidInputError(f"所选记录不是{problem.id}号问题的转交记录。")
        events.append(event)
    return events


def rule_problem(
    *,
    session: Session,
    problem_id: int,
    actor: Member,
    to_unit_id: int,
    reason: str,
    accepted_handover_event_ids: Sequence[int] = (),
    now: datetime | None = None,
    buttons: ButtonMaker | None = None,
) -> Problem:
    """The office rules which unit owns the problem (裁定); binding: the unit is taken to accept.

    `accepted_handover_event_ids` are hand-overs whose reasons the office finds valid (not
    shifting responsibility); the other hand-overs are left unjudged.
    """
    now = _now(now)
    problem = _load(session, problem_id)
    _require("rule", session=session, member=actor, problem=problem, now=now)
    why = _reason(reason, what="裁定理由")
    target = _unit_of_plan(session, to_unit_id, problem.plan_id)
    judged = _judge(session, problem=problem, event_ids=accepted_handover_event_ids)
    old_owner = problem.owner_unit_id
    for handover in judged:
        handover.reason_accepted = True
        session.add(handover)
    problem.owner_unit_id = row_id(target)
    problem.accepted_at = now
    _touch(session, problem, now, ProblemState.ACCEPTED)
    ruled = _record(
        session,
        problem=problem,
        kind=ProblemEventKind.RULED,
        actor=actor,
        now=now,
        from_unit_id=old_owner,
        to_unit_id=target.id,
        reason=why,
        detail={"accepted_handover_event_ids": [e.id for e in judged]},
    )
    _record(
        session,
        problem=problem,
        kind=ProblemEventKind.ACCEPTED,
        actor=actor,
        now=now,
        to_unit_id=target.id,
        reason="依联席会议办公室裁定视为接收",
        detail={"by_ruling": ruled.id},
    )
    sent: set[int] = set()
    _notify(
        session,
        problem=problem,
        event=ruled,
        members=_unit_members(session, target.id),
        text=TEXTS["ruled_to_you"].format(card=problem_card(session=session, problem=problem), reason=why),
        actor=actor,
        sent=sent,
        now=now,
        buttons=buttons,
    )
    text = TEXTS["ruled"].format(id=problem.id, to_unit=target.name, actor=_who(session, actor), reason=why)
    # Every unit the problem passed through is involved in the ruling, not only the last owner.
    passed = session.exec(
        select(ProblemEvent.from_unit_id, ProblemEvent.to_unit_id).where(
            ProblemEvent.problem_id == problem.id, ProblemEvent.kind == ProblemEventKind.HANDED_OVER
        )
    ).all()
    involved = sorted({u for pair in passed for u in pair if u is not None} - {target.id, old_owner})
    for group in (
        _raiser_side(session, problem),
        _unit_members(session, old_owner),
        *(_unit_members(session, u) for u in involved),
        _office_members(session, problem.plan_id),
    ):
        _notify(session, problem=problem, event=ruled, members=group, text=text, actor=actor, sent=sent, now=now)
    return problem


def accept_handover_reason(
    *, session: Session, event_id: int, actor: Member, accepted: bool = True, now: datetime | None = None
) -> ProblemEvent:
    """The office records whether a hand-over's reason was valid (a valid one is not shifting)."""
    now = _now(now)
    event = session.get(ProblemEvent, event_id)
    if event is None or event.kind != ProblemEventKind.HANDED_OVER:
        raise NotFoundError("找不到该转交记录。")
    problem = _load(session, event.problem_id)
    _require("judge_reason", session=session, member=actor, problem=problem, now=now)
    event.reason_accepted = accepted
    session.add(event)
    projection.refold_handovers(session, event.problem_id)  # the runs carry the judgement
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="problem.handover_reason_judged",
        object_type="problem",
        object_id=problem.id,
        detail={"event_id": event.id, "accepted": accepted},
        at=now,
    )
    text = TEXTS["reason_judged"].format(
        unit=unit_name(session, event.from_unit_id), id=problem.id, verdict="成立" if accepted else "不成立"
    )
    _notify(
        session,
        problem=problem,
        event=event,
        members=_unit_members(session, event.from_unit_id),
        text=text,
        actor=actor,
        sent=set(),
        now=now,
        tag=f":judged:{int(accepted)}:{int(now.timestamp())}",
    )
    return event


def resolve_problem(
    *,
    session: Session,
    problem_id: int,
    actor: Member,
    evidence_text: str = "",
    attachment_ids: Sequence[int] = (),
    now: datetime | None = None,
    buttons: ButtonMaker | None = None,
) -> Problem:
    """The owner unit marks the problem resolved, with evidence text and/or files."""
    now = _now(now)
    problem = _load(session, problem_id)
    _require("resolve", session=session, member=actor, problem=problem, now=now)
    evidence = (evidence_text or "").strip()
    if not evidence and not attachment_ids:
        raise InvalidInputError("办结须提供办理结果说明或上传佐证材料。")
    if len(evidence) > TEXT_MAX:
        raise InvalidInputError(f"办结说明最多{TEXT_MAX}个字，当前{len(evidence)}个字。")
    files = _claim_files(session, attachment_ids)
    _touch(session, problem, now, ProblemState.RESOLVED)
    problem.resolved_at = now
    event = _record(
        session,
        problem=problem,
        kind=ProblemEventKind.RESOLVED,
        actor=actor,
        now=now,
        to_unit_id=problem.owner_unit_id,
        reason=evidence,
        detail={"attachment_ids": [a.id for a in files]},
    )
    _link_files(session, files, event)
    names = "、".join(a.filename for a in files)
    text = TEXTS["resolved"].format(
        id=problem.id,
        actor=_who(session, actor),
        evidence=evidence or "（见附件）",
        files=f"\n附件：{names}" if names else "",
    )
    sent: set[int] = set()
    _notify(
        session,
        problem=problem,
        event=event,
        members=_raiser_side(session, problem),
        text=text,
        actor=actor,
        sent=sent,
        now=now,
        buttons=buttons,
        files=files,
    )
    _notify(
        session,
        problem=problem,
        event=event,
        members=_unit_members(session, problem.owner_unit_id),
        text=text,
        actor=actor,
        sent=sent,
        now=now,
    )
    return problem


def confirm_problem(*, session: Session, problem_id: int, actor: Member, now: datetime | None = None) -> Problem:
    """The raiser confirms the resolution; the problem is closed."""
    now = _now(now)
    problem = _load(session, problem_id)
    _require("confirm", session=session, member=actor, problem=problem, now=now)
    _touch(session, problem, now, ProblemState.CLOSED)
    problem.closed_at = now
    event = _record(session, problem=problem, kind=ProblemEventKind.CONFIRMED, actor=actor, now=now)
    text = TEXTS["confirmed"].format(id=problem.id, actor=_who(session, actor))
    sent: set[int] = set()
    for group in (_unit_members(session, problem.owner_unit_id), _raiser_side(session, problem)):
        _notify(session, problem=problem, event=event, members=group, text=text, actor=actor, sent=sent, now=now)
    return problem


def reopen_problem(
    *,
    session: Session,
    problem_id: int,
    actor: Member,
    reason: str,
    now: datetime | None = None,
    buttons: ButtonMaker | None = None,
) -> Problem:
    """The raiser sends a resolved (or recently closed) problem back to its owner, with a reason."""
    now = _now(now)
    problem = _load(session, problem_id)
    _require("reopen", session=session, member=actor, problem=problem, now=now)
    why = _reason(reason, what="重新办理理由")
    was = problem.state
    _touch(session, problem, now, ProblemState.ACCEPTED)
    problem.resolved_at = None
    problem.closed_at = None
    event = _record(
        session,
        problem=problem,
        kind=ProblemEventKind.REOPENED,
        actor=actor,
        now=now,
        to_unit_id=problem.owner_unit_id,
        reason=why,
        detail={"was": was},
    )
    text = TEXTS["reopened"].format(
        id=problem.id, actor=_who(session, actor), owner=unit_name(session, problem.owner_unit_id), reason=why
    )
    sent: set[int] = set()
    _notify(
        session,
        problem=problem,
        event=event,
        members=_unit_members(session, problem.owner_unit_id),
        text=text,
        actor=actor,
        sent=sent,
        now=now,
        buttons=buttons,
    )
    _notify(
        session,
        problem=problem,
        event=event,
        members=_raiser_side(session, problem),
        text=text,
        actor=actor,
        sent=sent,
        now=now,
    )
    return problem


def comment_problem(
    *, session: Session, problem_id: int, actor: Member, text: str, now: datetime | None = None
) -> ProblemEvent:
    """Add a comment to a problem's history; the raiser and the owner are told."""
    now = _now(now)
    problem = _load(session, problem_id)
    _require("comment", session=session, member=actor, problem=problem, now=now)
    body = clean_text(text, what="备注")
    event = _record(session, problem=problem, kind=ProblemEventKind.COMMENTED, actor=actor, now=now, reason=body)
    message = TEXTS["commented"].format(id=problem.id, actor=_who(session, actor), text=body)
    sent: set[int] = set()
    for group in (_unit_members(session, problem.owner_unit_id), _raiser_side(session, problem)):
        _notify(session, problem=problem, event=event, members=group, text=message, actor=actor, sent=sent, now=now)
    return event


# --------------------------------------------------------------------------- reading


def get_problem(*, session: Session, problem_id: int) -> Problem | None:
    """The problem with this id, if any."""
    return session.get(Problem, problem_id)


def categories_of_plan(*, session: Session, plan_id: int) -> list[ProblemCategory]:
    """A plan's problem categories, in the order the plan lists them."""
    return list(
        session.exec(
            select(ProblemCategory).where(ProblemCategory.plan_id == plan_id).order_by(col(ProblemCategory.id))
        ).all()
    )


def may_view(*, session: Session, member: Member, problem: Problem) -> bool:
    """Contacts see the problems their unit raised, owns or handled; a zone leader those of
    their zones; overseeing roles see all."""
    if member.plan_id != problem.plan_id:
        return False
    if member.role in (Role.OFFICE, Role.CONVENER, Role.ADMIN, Role.SUPERVISOR):
        return True
    if member.unit_id in (problem.raised_by_unit_id, problem.owner_unit_id):
        return True
    if member.role == Role.ZONE_LEADER and problem.zone_id is not None:
        return session.get(ZoneLeader, (problem.zone_id, member.id)) is not None
    touched = session.exec(
        select(ProblemEvent.id)
        .where(ProblemEvent.problem_id == problem.id)
        .where((col(ProblemEvent.from_unit_id) == member.unit_id) | (col(ProblemEvent.to_unit_id) == member.unit_id))
    ).first()
    return touched is not None


def handovers_of(*, session: Session, problem_id: int) -> list[ProblemEvent]:
    """A problem's hand-overs (转交), oldest first."""
    return list(
        session.exec(
            select(ProblemEvent)
            .where(ProblemEvent.problem_id == problem_id)
            .where(ProblemEvent.kind == ProblemEventKind.HANDED_OVER)
            .order_by(col(ProblemEvent.id))
        ).all()
    )


# Actions that need a reason (or evidence) typed after the button; accept and confirm do not.
REASONED_ACTIONS = ("hand_over", "decline", "rule", "reopen", "resolve")
UNIT_ACTIONS = ("hand_over", "rule")  # ... and a unit picked first


def act_on_problem(
    *,
    session: Session,
    action: str,
    problem_id: int,
    actor: Member,
    text: str = "",
    to_unit_id: int | None = None,
    attachment_ids: Sequence[int] = (),
    now: datetime | None = None,
    buttons: ButtonMaker | None = None,
) -> Problem:
    """Do one of the chat's actions on a problem (accept, hand_over, decline, rule, resolve,
    confirm, reopen): `text` is the reason or the evidence; `to_unit_id` the unit of a hand-over
    or a ruling. The one entry the buttons use; each action is checked by its own function."""
    if action == "accept":
        return accept_problem(session=session, problem_id=problem_id, actor=actor, now=now)
    if action == "confirm":
        return confirm_problem(session=session, problem_id=problem_id, actor=actor, now=now)
    if action in UNIT_ACTIONS and to_unit_id is None:
        raise InvalidInputError("请选择责任单位。")
    if action == "hand_over":
        assert to_unit_id is not None
        return hand_over_problem(
            session=session,
            problem_id=problem_id,
            actor=actor,
            to_unit_id=to_unit_id,
            reason=text,
            now=now,
            buttons=buttons,
        )
    if action == "rule":
        assert to_unit_id is not None
        return rule_problem(
            session=session,
            problem_id=problem_id,
            actor=actor,
            to_unit_id=to_unit_id,
            reason=text,
            now=now,
            buttons=buttons,
        )
    if action == "decline":
        return decline_problem(
            session=session, problem_id=problem_id, actor=actor, reason=text, now=now, buttons=buttons
        )
    if action == "reopen":
        return reopen_problem(
            session=session, problem_id=problem_id, actor=actor, reason=text, now=now, buttons=buttons
        )
    if action == "resolve":
        return resolve_problem(
            session=session,
            problem_id=problem_id,
            actor=actor,
            evidence_text=text,
            attachment_ids=attachment_ids,
            now=now,
            buttons=buttons,
        )
    raise InvalidInputError(f"未知操作“{action}”。")


def problem_history(*, session: Session, problem_id: int) -> list[dict[str, Any]]:
    """A problem's events, oldest first, with Chinese labels and local times."""
    rows = []
    for event in _events(session, problem_id):
        actor = session.get(Member, event.actor_member_id) if event.actor_member_id else None
        local = event.at.astimezone(local_zone())
        rows.append(
            {
                "id": event.id,
                "kind": event.kind,
                "label": EVENT_LABELS.get(event.kind, event.kind),
                "actor_member_id": event.actor_member_id,
                "actor": member_label(session=session, member=actor) if actor else "",
                "actor_unit": unit_name(session, event.actor_unit_id),
                "from_unit": unit_name(session, event.from_unit_id),
                "to_unit": unit_name(session, event.to_unit_id),
                "reason": event.reason,
                "reason_accepted": event.reason_accepted,
                "at": local,
                "at_text": local.strftime("%Y-%m-%d %H:%M"),
            }
        )
    return rows


def _history_line(row: dict[str, Any]) -> str:
    who = person_at_unit(row["actor_unit"], row["actor"])
    kind = row["kind"]
    if kind == ProblemEventKind.ACCEPTED and row["to_unit"] and row["to_unit"] != row["actor_unit"]:
        # The acceptance a ruling implies: the office ruled, the unit did not accept by itself.
        return f"{row['at_text']} 依联席会议办公室裁定，视为{row['to_unit']}接收"
    line = f"{row['at_text']} {who} {row['label']}"
    if kind == ProblemEventKind.HANDED_OVER:
        line += f"：{row['from_unit']} → {row['to_unit']}"
    elif kind == ProblemEventKind.RULED:
        line += f"：由{row['to_unit']}办理（原为{row['from_unit']}）"
    elif kind == ProblemEventKind.ASSIGNED and row["to_unit"]:
        line += f"给{row['to_unit']}"
    elif kind == ProblemEventKind.ACCEPTED:
        line += "办理"
    elif kind == ProblemEventKind.DECLINED:
        line += f"（{row['from_unit']}）"
    if row["reason"]:
        label = {"resolved": "办结说明", "commented": "内容"}.get(kind, "理由")
        line += f"\n    {label}：{row['reason']}"
    if row["reason_accepted"] is True:
        line += "\n    （办公室认定转交理由成立）"
    elif row["reason_accepted"] is False:
        line += "\n    （办公室认定转交理由不成立）"
    return line


_CHAIN_KINDS = (ProblemEventKind.ASSIGNED, ProblemEventKind.HANDED_OVER, ProblemEventKind.DECLINED)


def _chain(session: Session, *, problem_id: int) -> str:
    """Every assignment, hand-over and decline of a problem, oldest first, each with its reason."""
    session.flush()
    rows = [r for r in problem_history(session=session, problem_id=problem_id) if r["kind"] in _CHAIN_KINDS]
    return "\n".join(f"{n}. {_history_line(row)}" for n, row in enumerate(rows, 1))


def format_problem(*, session: Session, problem_id: int) -> str:
    """The problem and its whole history as plain Chinese text (for /problem ID)."""
    problem = session.get(Problem, problem_id)
    if problem is None:
        raise NotFoundError(f"找不到{problem_id}号问题。")
    history = problem_history(session=session, problem_id=problem_id)
    files = event_files(session=session, problem_id=problem_id)
    lines = [problem_card(session=session, problem=problem), "", "办理经过："]
    for n, row in enumerate(history, 1):
        line = f"{n}. {_history_line(row)}"
        if files.get(row["id"]):
            line += "\n    材料：" + "、".join(a.filename for a in files[row["id"]]) + "（点下方按钮打开）"
        lines.append(line)
    return "\n".join(lines)


def open_problems(*, session: Session, plan_id: int) -> list[Problem]:
    """Problems of a plan that are not closed, oldest first."""
    return list(
        session.exec(
            select(Problem)
            .where(Problem.plan_id == plan_id)
            .where(col(Problem.state).in_(ProblemState.OPEN_STATES))
            .order_by(col(Problem.created_at), col(Problem.id))
        ).all()
    )
