"""Progress reports (进展) and periodic ledger submissions: who may report on what,
the status move a report causes, and measures (一矿一策) updated from chat."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import bindparam, insert
from sqlalchemy import select as core_select
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from models import (
    Attachment,
    AuditLog,
    Measure,
    Member,
    Milestone,
    Plan,
    Report,
    Right,
    RightBatch,
    Role,
    Task,
    TaskUnit,
    Zone,
    ZoneLeader,
    utcnow,
)
from models.base import row_id
from models.db import detached, table_of
from oversight.attachments import (
    JPEG,
    OFD,
    PDF,
    PNG,
    XLS,
    XLSX,
    ZIP,
    check_file,
    is_unlinked,
    read_attachment,
    store_attachment,
)
from oversight.audit import actor_of, audit
from oversight.content import require_content
from oversight.errors import InvalidInputError, InvalidStateError, NotFoundError, PermissionDeniedError
from oversight.facts import Chat
from oversight.files import write_atomic
from oversight.members import unit_name
from oversight.outbox import notify_members
from oversight.rights import (
    complete_milestone,
    find_rights,
    list_milestones,
    move_right_status,
    save_measure,
    status_label,
)

if TYPE_CHECKING:
    from oversight.ledger import ImportResult

TEXT_MAX = 10_000  # a long paste arrives in parts and is joined (bot.engine); 5,000 characters are common
REPORT_EXAMPLE = "“本周完成2宗矿业权的储量核实，下周报送变更登记材料。”"
MAX_ATTACHMENTS = 10
# Who may file a progress report: a department contact, and a zone leader from the field. Who must
# file one every week is another list: oversight.measures.REPORTING_ROLES.
MAY_REPORT_ROLES = (Role.CONTACT, Role.ZONE_LEADER)
LEDGER_SCAN_TYPES = (PDF, OFD, JPEG, PNG, ZIP)  # what a stamped scan may come as


class ReportKind:
    PROGRESS = "progress"
    LEDGER = "ledger"


# --- What a member may report on -----------------------------------------------------

# Built once, with bound parameters: building a select() per call costs more than running it.
# The tasks' JSON columns (breakdown, schedule) are not needed to report and cost most of a
# task's load: deferred here, loaded if ever read.
_LEAN = (defer(Task.breakdown), defer(Task.schedule))  # type: ignore[arg-type]  # sqlmodel types a column as its value
_PLAN_TASKS = (
    select(Task).where(Task.plan_id == bindparam("plan_id")).order_by(col(Task.seq), col(Task.id)).options(*_LEAN)
)
# IN, not JOIN + DISTINCT: PostgreSQL cannot compare the task's JSON columns.
_UNIT_TASKS = (
    select(Task)
    .where(
        col(Task.plan_id) == bindparam("plan_id"),
        col(Task.id).in_(select(TaskUnit.task_id).where(TaskUnit.unit_id == bindparam("unit_id"))),
    )
    .order_by(col(Task.seq), col(Task.id))
    .options(*_LEAN)
)
# What a report needs of its task (see TaskRef), as plain rows: no ORM load per report.
_REF = (col(Task.id), col(Task.plan_id), col(Task.key), col(Task.seq), col(Task.name), col(Task.done_status))
_TASK_REF = core_select(*_REF).where(col(Task.id) == bindparam("task_id"))
_FIRST_PLAN_TASK = (
    core_select(*_REF).where(col(Task.plan_id) == bindparam("plan_id")).order_by(col(Task.seq), col(Task.id)).limit(1)
)
_FIRST_UNIT_TASK = (
    core_select(*_REF)
    .where(
        col(Task.plan_id) == bindparam("plan_id"),
        col(Task.id).in_(select(TaskUnit.task_id).where(TaskUnit.unit_id == bindparam("unit_id"))),
    )
    .order_by(col(Task.seq), col(Task.id))
    .limit(1)
)


class TaskRef(Protocol):
    """A task as a report sees it (a row of id, plan_id, key, seq, name and done_status)."""

    id: int
    plan_id: int
    key: str
    seq: int
    name: str
    done_status: str


def tasks_for(*, session: Session, member: Member) -> list[Task]:
    """The tasks a member can report on: a contact's unit's tasks; a zone leader's plan tasks."""
    if member.role == Role.ZONE_LEADER:
        return list(session.exec(_PLAN_TASKS, params={"plan_id": member.plan_id}).all())
    return list(session.exec(_UNIT_TASKS, params={"plan_id": member.plan_id, "unit_id": member.unit_id}).all())


def led_zone_ids(*, session: Session, member: Member) -> list[int]:
    """Ids of the zones a member leads (包片包干)."""
    return sorted(session.exec(select(ZoneLeader.zone_id).where(ZoneLeader.member_id == member.id)).all())


def zones_for(*, session: Session, member: Member) -> list[Zone]:
    """The zones a member may name in a report: a zone leader's own; every zone of the plan for a contact."""
    stmt = select(Zone).where(Zone.plan_id == member.plan_id)
    if member.role == Role.ZONE_LEADER:
        stmt = stmt.where(col(Zone.id).in_(led_zone_ids(session=session, member=member)))
    return list(session.exec(stmt.order_by(col(Zone.seq))).all())


def default_task_for(*, session: Session, member: Member) -> TaskRef | None:
    """The member's default task, else the first task their unit takes part in."""
    if member.default_task_id is not None:
        task = task_ref(session=session, task_id=member.default_task_id)
        if task is not None and task.plan_id == member.plan_id:
            return task
    # The first of tasks_for, as one row.
    conn = session.connection()
    if member.role == Role.ZONE_LEADER:
        task = conn.execute(_FIRST_PLAN_TASK, {"plan_id": member.plan_id}).first()
    else:
        task = conn.execute(_FIRST_UNIT_TASK, {"plan_id": member.plan_id, "unit_id": member.unit_id}).first()
        if task is not None:
            _read_in_transaction(session, "task_parts")[task.id, member.unit_id] = True  # among the unit's tasks
    if task is not None:
        _read_in_transaction(session, "tasks")[task.id] = task
    return task


def task_ref(*, session: Session, task_id: int) -> TaskRef | None:
    """The task, as a report sees it; read once per transaction."""
    tasks = _read_in_transaction(session, "tasks")
    if task_id not in tasks:
        tasks[task_id] = session.connection().execute(_TASK_REF, {"task_id": task_id}).first()
    ref: TaskRef | None = tasks[task_id]
    return ref


def _read_in_transaction(session: Session, name: str) -> dict[Any, Any]:
    """What this transaction has read already, by name: asked again in the same transaction, it
    is not read again; the next transaction reads afresh."""
    txn = session.get_transaction()
    held = session.info.get(name)
    if held is None or held[0] is not txn:
        held = session.info[name] = (txn, {})
    return held[1]


def in_batch(*, session: Session, right_id: int, task_id: int) -> bool:
    """Is the right a member of the task's batch?"""
    return session.get(RightBatch, (right_id, task_id)) is not None


def _require_reporter(member: Member) -> None:
    if not member.active or member.role not in MAY_REPORT_ROLES:
        raise PermissionDeniedError("只有部门联络员和包联领导可以报送工作进展。")


_TASK_PART = (
    select(TaskUnit.task_id)  # built once: this check runs on every report
    .where(TaskUnit.task_id == bindparam("task_id"), TaskUnit.unit_id == bindparam("unit_id"))
    .limit(1)
)


def check_may_report(
    *,
    session: Session,
    actor: Member,
    task_id: int | None,
    zone_id: int | None = None,
    right_id: int | None = None,
    zone_required: bool = True,
) -> tuple[TaskRef | None, Zone | None, Right | None]:
    """The task, zone and right of a report the actor may file; raises with a Chinese reason otherwise.
    `zone_required=False` checks a step taken before the zone is chosen (the batch step)."""
    _require_reporter(actor)
    task = zone = right = None
    if task_id is not None:
        task = task_ref(session=session, task_id=task_id)
        if task is None or task.plan_id != actor.plan_id:
            raise NotFoundError("找不到所选批次（任务）。")
    if right_id is not None:
        right = session.get(Right, right_id)
        if right is None or right.plan_id != actor.plan_id:
            raise NotFoundError("找不到所选矿业权（可能已删除）。")
        if zone_id is None:
            zone_id = right.zone_id
        elif right.zone_id is not None and right.zone_id != zone_id:
            raise InvalidInputError(f"矿业权“{right.name}”不在所选整合区内。")
    if zone_id is not None:
        zone = session.get(Zone, zone_id)
        if zone is None or zone.plan_id != actor.plan_id:
            raise NotFoundError("找不到所选整合区。")
    if (
        actor.role == Role.CONTACT
        and task is not None
        and (task.id, actor.unit_id) not in _read_in_transaction(session, "task_parts")
    ):
        part = session.connection().execute(_TASK_PART, {"task_id": task.id, "unit_id": actor.unit_id}).first()
        if part is None:
            raise PermissionDeniedError(
                f"{unit_name(session, actor.unit_id)}不是“{task.name}”的责任单位，不能报送该批次的进展。"
            )
    if actor.role == Role.ZONE_LEADER:
        mine = led_zone_ids(session=session, member=actor)
        if zone is None:
            if zone_required:
                raise PermissionDeniedError("包联领导报送进展时须选择所包联的整合区或其中的矿业权。")
            if not mine:
                raise PermissionDeniedError("您尚未被指定包联任何整合区，请联系管理员。")
        elif zone.id not in mine:
            raise PermissionDeniedError(f"您不是“{zone.name}”的包联领导，不能报送该整合区的进展。")
    return task, zone, right


def find_reportable_rights(*, session: Session, member: Member, text: str) -> list[Right]:
    """Rights matching `text` that the member may name in a report (a zone leader: in their zones)."""
    found = find_rights(session=session, plan_id=member.plan_id, text=text[:80])
    if member.role == Role.ZONE_LEADER:
        mine = set(led_zone_ids(session=session, member=member))
        found = [r for r in found if r.zone_id in mine]
    return found


def move_choice(*, session: Session, task_id: int | None, right_id: int | None) -> str | None:
    """The status a report may move the right to (the task's done status), or None when no move fits."""
    if task_id is None or right_id is None:
        return None
    task, right = session.get(Task, task_id), session.get(Right, right_id)
    if task is None or right is None or not in_batch(session=session, right_id=right_id, task_id=task_id):
        return None
    return None if right.status == task.done_status else task.done_status


# --- Filing ------------------------------------------------------------------------


def _report_body(text: str) -> str:
    body = (text or "").strip()
    if not body:
        raise InvalidInputError("进展内容不能为空。")
    if len(body) > TEXT_MAX:
        raise InvalidInputError(f"进展内容过长（{len(body)}字），请控制在{TEXT_MAX}字以内。")
    return body


def check_report_text(text: str) -> str:
    """The stripped text a person typed as a report, or a Chinese refusal (empty, over TEXT_MAX,
    or saying nothing: "。" would count toward the on-time rate). Every chat entry checks this
    before filing; file_report itself checks only the bounds (imports and replays of the record)."""
    body = _report_body(text)
    require_content(body, what="进展内容", ask="做了什么、到了哪一步", example=REPORT_EXAMPLE)
    return body


def _claim_attachments(session: Session, ids: Iterable[int], report_id: int) -> list[Attachment]:
    rows = []
    for attachment_id in dict.fromkeys(ids):
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise NotFoundError("找不到所上传的附件，请重新上传。")
        if not is_unlinked(row):
            raise InvalidInputError(f"附件“{row.filename}”已属于其他记录，请重新上传。")
        row.report_id = report_id
        session.add(row)
        rows.append(row)
    if len(rows) > MAX_ATTACHMENTS:
        raise InvalidInputError(f"每次报送最多{MAX_ATTACHMENTS}个附件。")
    return rows


def keep_report_file(
    *, session: Session, attachment_ids: Sequence[int], data: bytes, filename: str, mime_type: str, data_dir: Path
) -> tuple[Attachment, bool]:
    """Keep a file for a report being written, beside `attachment_ids`: its row, and False if
    the same file is among them already (then no row is kept: one row per file in a report)."""
    if len(attachment_ids) >= MAX_ATTACHMENTS:
        raise InvalidInputError(f"每次报送最多{MAX_ATTACHMENTS}个附件，请点“完成上传”。")
    row = store_attachment(session=session, data=data, filename=filename, mime_type=mime_type, data_dir=data_dir)
    earlier = (session.get(Attachment, i) for i in attachment_ids)
    if any(a is not None and a.sha256 == row.sha256 for a in earlier):
        session.delete(row)  # the bytes are kept once, by their hash, whatever the rows
        return row, False
    return row, True


_AUDIT_ROW = insert(table_of(AuditLog))  # the row oversight.audit.audit() adds
_REPORT_ROW = insert(table_of(Report))


def file_report(
    *,
    session: Session,
    actor: Member,
    task_id: int | None,
    text: str,
    zone_id: int | None = None,
    right_id: int | None = None,
    quantity: int = 0,
    move_to_status: str | None = None,
    attachment_ids: Iterable[int] = (),
    now: datetime | None = None,
) -> Report:
    """File a progress report; a report that completes a right (quantity 1 or a status
    move) moves the right's status, so the batch's progress follows from its history."""
    body = _report_body(text)
    if quantity < 0 or quantity > 1:
        raise InvalidInputError("一次报送只能完成一宗矿业权（数量为0或1）；请逐宗报送并指明矿业权。")
    if (quantity or move_to_status) and right_id is None:
        raise InvalidInputError("报送完成数量或变更状态时必须指明是哪一宗矿业权。")
    if actor.role == Role.ZONE_LEADER and zone_id is None and right_id is None:
        zones = led_zone_ids(session=session, member=actor)
        if len(zones) == 1:
            zone_id = zones[0]
    task, zone, right = check_may_report(
        session=session, actor=actor, task_id=task_id, zone_id=zone_id, right_id=right_id
    )
    if quantity and move_to_status is None:
        if task is None:
            raise InvalidInputError("报送完成数量时须选择批次（任务）。")
        move_to_status = task.done_status
    if (
        move_to_status is not None
        and task is not None
        and right is not None
        and not in_batch(session=session, right_id=row_id(right), task_id=row_id(task))
    ):
        raise InvalidInputError(f"矿业权“{right.name}”不在“{task.name}”中，不能计入该批次的完成数。")
    at = now or utcnow()
    attachment_ids = list(attachment_ids)
    from oversight.claims import check_evidence, confirming_unit, is_claim

    claimed = right is not None and is_claim(move_to_status)
    own = False
    if claimed:  # a done state: evidence, and a claim until the office or the named unit confirms it
        assert move_to_status is not None and right is not None
        check_evidence(to_status=move_to_status, attachment_ids=attachment_ids)
        confirmer = confirming_unit(session=session, plan_id=actor.plan_id, to_status=move_to_status)
        own = confirmer is not None and confirmer.id == actor.unit_id
    counts = (
        move_to_status is not None and task is not None and move_to_status == task.done_status and (not claimed or own)
    )
    values = {
        "plan_id": actor.plan_id,
        "kind": ReportKind.PROGRESS,
        "member_id": actor.id,
        "unit_id": actor.unit_id,
        "task_id": task.id if task else None,
        "zone_id": zone.id if zone else None,
        "right_id": right.id if right else None,
        "text": body,
        "quantity": 1 if counts else 0,
        "created_at": at,
    }
    # One Core insert, not session.add + flush: the unit of work's bookkeeping for a row this
    # function only hands back cost as much as the rest of filing (this runs per report).
    session.flush()  # whatever the row refers to that is still pending (a no-op in the bot)
    inserted = session.connection().execute(_REPORT_ROW, values).inserted_primary_key
    assert inserted is not None  # an INSERT of one row
    report_id = inserted[0]
    session.info["wrote"] = True  # bot.common.db() records the update as processed with this change
    report = detached(Report, {**values, "id": report_id})
    files = _claim_attachments(session, attachment_ids, row_id(report))
    who = actor_of(actor.id)
    if claimed:
        from oversight.claims import open_claim

        assert move_to_status is not None and right is not None
        open_claim(
            session=session,
            report=report,
            right=right,
            task_id=task.id if task else None,
            actor=actor,
            to_status=move_to_status,
            attachment_ids=[f.id for f in files if f.id is not None],
            now=at,
        )
    elif move_to_status is not None and right is not None:
        move_right_status(
            session=session,
            right_id=row_id(right),
            to_status=move_to_status,
            actor_member_id=actor.id,
            actor=who,
            task_id=task.id if task else None,
            report_id=report.id,
            reason=f"{report.id}号进展报送",
            now=at,
        )
    # The audit row as one Core insert after the report's flush: a second unit-of-work flush
    # at commit for this one row cost more than the rest of filing (this runs per report).
    session.connection().execute(
        _AUDIT_ROW,
        {
            "at": at,
            "actor": who,
            "action": "report.filed",
            "object_type": "report",
            "object_id": str(report.id),
            "detail": {
                "task_id": report.task_id,
                "zone_id": report.zone_id,
                "right_id": report.right_id,
                "quantity": report.quantity,
                "to_status": move_to_status,
                "attachments": [f.id for f in files],
            },
        },
    )
    if zone is not None:
        _notify_zone_leaders(session, zone, report, actor, right, move_to_status)
    return report


def _notify_zone_leaders(
    session: Session, zone: Zone, report: Report, actor: Member, right: Right | None, to_status: str | None
) -> None:
    leader_ids = session.exec(select(ZoneLeader.member_id).where(ZoneLeader.zone_id == zone.id)).all()
    leaders = [m for m in (session.get(Member, i) for i in leader_ids) if m is not None and m.id != actor.id]
    if not leaders:
        return
    lines = [f"【{zone.name}】新进展：{report.id}号进展报送（{unit_name(session, actor.unit_id)}）"]
    if right is not None:
        lines.append(f"矿业权：{right.name}（{right.code}）")
    if to_status:
        lines.append(f"状态变更为：{status_label(to_status)}")
    lines.append(report.text[:500])
    notify_members(session=session, members=leaders, text="\n".join(lines), dedupe_prefix=f"report:{report.id}")


def reports_between(
    *,
    session: Session,
    plan_id: int,
    start: datetime,
    end: datetime,
    unit_id: int | None = None,
    kind: str | None = None,
) -> list[Report]:
    """Reports of a plan filed in [start, end), optionally of one unit or kind, oldest first."""
    stmt = select(Report).where(
        Report.plan_id == plan_id, col(Report.created_at) >= start, col(Report.created_at) < end
    )
    if unit_id is not None:
        stmt = stmt.where(Report.unit_id == unit_id)
    if kind is not None:
        stmt = stmt.where(Report.kind == kind)
    return list(session.exec(stmt.order_by(col(Report.created_at), col(Report.id))).all())


def units_silent_between(*, session: Session, plan_id: int, start: datetime, end: datetime) -> list[int]:
    """Ids of units taking part in some task that filed no report in [start, end) (for reminders)."""
    active = set(
        session.exec(
            select(TaskUnit.unit_id).join(Task, col(Task.id) == col(TaskUnit.task_id)).where(Task.plan_id == plan_id)
        ).all()
    )
    reported = {r.unit_id for r in reports_between(session=session, plan_id=plan_id, start=start, end=end)}
    return sorted(active - reported)


# --- One measure per mine, from chat ---------------------------------------------------

_DATE_LINE = re.compile(r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*(.*)$")
_DATEISH = re.compile(r"^\s*\d{2,4}\s*[-/.年]\s*\d")


def parse_measure_text(text: str) -> tuple[str, list[tuple[str, date | None]]]:
    """Split typed text into the measure and its milestones: lines like
    "2026-06-30 完成储量核实" are milestones, the other lines the measure."""
    body: list[str] = []
    milestones: list[tuple[str, date | None]] = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        m = _DATE_LINE.match(line)
        if m is None:
            if _DATEISH.match(line):
                raise InvalidInputError(f"第{n}行的日期无法识别：“{line.strip()[:40]}”。请写成 2026-06-30 节点名称。")
            body.append(line)
            continue
        year, month, day, title = m.groups()
        try:
            due = date(int(year), int(month), int(day))
        except ValueError as exc:
            raise InvalidInputError(f"第{n}行的日期 {year}-{month}-{day} 不存在，请检查。") from exc
        if not title.strip():
            raise InvalidInputError(f"第{n}行只有日期，缺少节点名称（例如：2026-06-30 完成储量核实）。")
        milestones.append((title.strip(), due))
    measure = "\n".join(body).strip()
    if not measure:
        raise InvalidInputError("请写出一矿一策的措施内容（节点行之外至少一行文字）。")
    return measure, milestones


def update_measure(
    *,
    session: Session,
    actor: Member,
    right_id: int,
    text: str,
    task_id: int | None = None,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Save a right's measure and milestones typed in chat; returns (measure id, milestone count)."""
    check_may_report(session=session, actor=actor, task_id=task_id, right_id=right_id)
    if actor.role == Role.CONTACT and task_id is None:
        tasks = session.exec(
            select(RightBatch.task_id)
            .join(TaskUnit, col(TaskUnit.task_id) == col(RightBatch.task_id))
            .where(RightBatch.right_id == right_id, TaskUnit.unit_id == actor.unit_id)
        ).first()
        if tasks is None:
            raise PermissionDeniedError(
                f"{unit_name(session, actor.unit_id)}不负责该矿业权所在的任何批次，不能修改其一矿一策。"
            )
    measure_text, milestones = parse_measure_text(text)
    measure = save_measure(
        session=session,
        right_id=right_id,
        text=measure_text,
        actor_member_id=actor.id,
        actor=actor_of(actor.id),
        milestones=milestones or None,
        now=now,
    )
    assert measure.id is not None
    return measure.id, len(milestones)


# The line a saved 一矿一策 is answered with (oversight.facts.Chat): its milestones as they stand.
MEASURE_TEXTS: dict[str, str] = {
    "saved": "已更新一矿一策（{n}个节点）。",
    "saved_kept": "已更新一矿一策措施，原有{n}个节点不变。",
    "saved_none": "已更新一矿一策措施，未列节点。",
}


def measure_saved(*, session: Session, measure_id: int, listed: bool) -> Chat:
    """The reply to a saved measure: the milestones it has now, counted and cited; text without
    milestone lines (`listed` False) keeps the ones it had, and says so."""
    measure = session.get(Measure, measure_id)
    if measure is None:
        raise NotFoundError("找不到该一矿一策。")
    ids = {"right": [measure.right_id], "measure": [measure_id]}
    milestones = [row_id(m) for m in list_milestones(session=session, measure_id=measure_id)]
    say = Chat(MEASURE_TEXTS)
    if milestones:
        say.fact("saved" if listed else "saved_kept", {**ids, "milestone": milestones}, n=len(milestones))
    else:
        say.fact("saved_none", ids, n=0)
    return say


def measure_of(*, session: Session, right_id: int) -> tuple[Measure | None, list[Milestone]]:
    """A right's measure and its milestones (by due date), if it has one."""
    measure = session.exec(select(Measure).where(Measure.right_id == right_id)).first()
    if measure is None or measure.id is None:
        return None, []
    return measure, list_milestones(session=session, measure_id=measure.id)


def complete_right_milestone(
    *,
    session: Session,
    actor: Member,
    milestone_id: int,
    task_id: int | None = None,
    now: datetime | None = None,
) -> Milestone:
    """Mark a milestone of a right's measure done, if the actor may report on that right."""
    milestone = session.get(Milestone, milestone_id)
    measure = session.get(Measure, milestone.measure_id) if milestone else None
    if milestone is None or measure is None:
        raise NotFoundError("找不到所选节点（可能已删除）。")
    check_may_report(session=session, actor=actor, task_id=task_id, right_id=measure.right_id)
    return complete_milestone(
        session=session, milestone_id=milestone_id, actor_member_id=actor.id, actor=actor_of(actor.id), now=now
    )


# --- Periodic ledger submission (台账电子版 + 加盖公章扫描版) -------------------------


def check_ledger_submitter(member: Member) -> None:
    """Only a unit's contact submits its ledger."""
    if not member.active or member.role != Role.CONTACT:
        raise PermissionDeniedError("只有部门（盟市）联络员可以上报台账。")


def submit_ledger(
    *,
    session: Session,
    actor: Member,
    xlsx_attachment_id: int,
    scan_attachment_id: int,
    data_dir: Path,
    now: datetime | None = None,
) -> tuple[Report, ImportResult]:
    """Merge the unit's ledger spreadsheet (its own rights only) and keep both files with a
    ledger Report; returns the report and the import result. Raises LedgerImportError with
    cell errors, changing nothing."""
    from oversight.ledger import import_ledger  # written alongside; imported late to keep this module importable

    check_ledger_submitter(actor)
    xlsx, scan = session.get(Attachment, xlsx_attachment_id), session.get(Attachment, scan_attachment_id)
    if xlsx is None or scan is None:
        raise NotFoundError("找不到已上传的台账文件，请重新上传。")
    if xlsx.mime_type != XLSX:
        raise InvalidInputError("台账电子版须为 Excel 表格（.xlsx）。")
    if scan.mime_type == XLSX:
        raise InvalidInputError("盖章扫描件须为 PDF 或图片。")
    data = read_attachment(attachment=xlsx, data_dir=data_dir)
    at = now or utcnow()
    who = actor_of(actor.id)
    result = import_ledger(
        session=session,
        plan_id=actor.plan_id,
        data=data,
        actor=who,
        restrict_unit_id=actor.unit_id,
        actor_member_id=actor.id,
        claim_done=True,
    )
    plan = session.get(Plan, actor.plan_id)
    report = Report(
        plan_id=actor.plan_id,
        kind=ReportKind.LEDGER,
        member_id=actor.id,
        unit_id=actor.unit_id,
        text=f"{unit_name(session, actor.unit_id)}上报台账（{plan.short_name if plan else ''}）".strip(),
        created_at=at,
    )
    session.add(report)
    session.flush()
    assert report.id is not None
    _claim_attachments(session, (row_id(xlsx), row_id(scan)), row_id(report))
    if result.claims:  # done states in a unit's ledger: claims, the stamped scan their evidence
        from oversight.claims import confirming_unit, open_claim

        for right_id, status in result.claims:
            right = session.get(Right, right_id)
            assert right is not None
            open_claim(
                session=session,
                report=report,
                right=right,
                task_id=None,
                actor=actor,
                to_status=status,
                attachment_ids=[row_id(scan)],
                now=at,
            )
            confirmer = confirming_unit(session=session, plan_id=actor.plan_id, to_status=status)
            if confirmer is not None and confirmer.id == actor.unit_id:
                result.status_changes += 1  # its own paperwork: confirmed at once
    audit(
        session=session,
        actor=who,
        action="ledger.submitted",
        object_type="report",
        object_id=report.id,
        detail={"xlsx": xlsx.sha256, "scan": scan.sha256},
        at=at,
    )
    return report, result


def validate_ledger(*, session: Session, actor: Member, data: bytes) -> object:
    """Dry-run the unit's ledger merge in a savepoint that is always rolled back; raises
    LedgerImportError with cell errors. Lets the bot answer errors before the scan arrives."""
    from oversight.ledger import import_ledger

    check_ledger_submitter(actor)
    nested = session.begin_nested()
    try:
        return import_ledger(
            session=session,
            plan_id=actor.plan_id,
            data=data,
            actor=actor_of(actor.id),
            restrict_unit_id=actor.unit_id,
            actor_member_id=actor.id,
            claim_done=True,
        )
    finally:
        nested.rollback()


# The /ledger start and the template's caption (oversight.facts.Chat): the rights prefilled, cited.
LEDGER_TEXTS: dict[str, str] = {
    "start": "本单位的台账模板随后发送（已预填贵单位负责的{n}宗矿业权），请在模板中填写后上传。",
    "start_none": "本单位的台账模板随后发送（系统中还没有登记由贵单位负责的矿业权，请在模板中逐行填写），填写后上传。",
    "caption": "{file}（已预填本单位负责的{n}宗矿业权）",
    "caption_none": "{file}（系统中还没有登记由本单位负责的矿业权）",
}


def prefilled_facts(
    *, session: Session, plan_id: int, unit_id: int, kind: str, rights: int | None = None, **values: Any
) -> Chat:
    """One line (kind start or caption) over the rights a unit's template is prefilled with (the
    ledger's own filter: the plan's rights whose 责任单位 is the unit), counted and cited; `rights`,
    the count the template wrote, must agree."""
    ids = [
        int(i)
        for i in session.exec(
            select(Right.id).where(Right.plan_id == plan_id, Right.unit_id == unit_id).order_by(col(Right.id))
        ).all()
        if i is not None
    ]
    if rights is not None and len(ids) != rights:  # the template and this line read the same rows
        raise InvalidStateError("台账模板与矿业权记录不一致，请稍后再试。")
    say = Chat(LEDGER_TEXTS)
    if ids:
        say.fact(kind, {"right": ids, "unit": [unit_id]}, n=len(ids), **values)
    else:
        say.fact(f"{kind}_none", {"unit": [unit_id]}, n=0, **values)
    return say


def send_ledger_template(*, session: Session, actor: Member, data_dir: Path, now: datetime | None = None) -> Chat:
    """Queue to a contact the ledger template prefilled with the rights their unit is responsible
    for (the file kept under DATA_DIR/templates until sent); returns the line that says so."""
    from oversight.ledger import ledger_template
    from oversight.outbox import enqueue_document

    check_ledger_submitter(actor)
    template = ledger_template(session=session, plan_id=actor.plan_id, unit_id=actor.unit_id, now=now)
    path = Path(data_dir) / "templates" / f"{hashlib.sha256(template.data).hexdigest()}.xlsx"
    if not path.exists():
        write_atomic(path, template.data)
    if actor.telegram_user_id is not None:
        caption = prefilled_facts(
            session=session,
            plan_id=actor.plan_id,
            unit_id=actor.unit_id,
            kind="caption",
            rights=template.rights,
            file=template.filename,
        ).message()
        enqueue_document(
            session=session,
            chat_id=actor.telegram_user_id,
            path=str(path),
            filename=template.filename,
            caption=caption,
            now=now,
        )
    return prefilled_facts(
        session=session, plan_id=actor.plan_id, unit_id=actor.unit_id, kind="start", rights=template.rights
    )


def keep_ledger_file(*, session: Session, actor: Member, data: bytes, filename: str, data_dir: Path) -> Attachment:
    """Keep one of the two files of a ledger submission: the spreadsheet is checked at once (a
    LedgerImportError lists every bad cell), anything else is taken as the stamped scan."""
    check_ledger_submitter(actor)
    mime = check_file(data=data, filename=filename)
    if mime == XLS:
        raise InvalidInputError("台账电子版须为 .xlsx 格式：请在 Excel 或 WPS 表格中“另存为”.xlsx 后重新上传。")
    if mime == XLSX:
        validate_ledger(session=session, actor=actor, data=data)
    elif mime not in LEDGER_SCAN_TYPES:
        raise InvalidInputError(
            f"“{filename[:60]}”不是扫描件。加盖公章的扫描件请上传 PDF、OFD、图片，或装有扫描件的 .zip。"
        )
    return store_attachment(session=session, data=data, filename=filename, mime_type=mime, data_dir=data_dir)
