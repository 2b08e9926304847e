"""Every table of lianxi. States and kinds are short ASCII strings; their Chinese
labels live with the edges that show them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, utcnow


def _when(**kw: Any) -> Any:
    """An aware UTC timestamp column defaulting to now."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _json(default: Any) -> Any:
    """A JSON column (a fresh copy of `default` per row). Its values are JSON, typed
    `dict[str, Any]` / `list[Any]`: the shape of each is the business of the module writing it."""
    return Field(default_factory=lambda: type(default)(default), sa_type=JSONType)


# --- Roles, kinds, states -------------------------------------------------


class Role:
    CONTACT = "contact"
    OFFICE = "office"
    CONVENER = "convener"
    ZONE_LEADER = "zone_leader"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    ALL = (CONTACT, OFFICE, CONVENER, ZONE_LEADER, SUPERVISOR, ADMIN)


class RightKind:
    MINING = "mining"
    EXPLORATION = "exploration"
    DEEP = "deep"
    PROPOSED = "proposed"
    ALL = (MINING, EXPLORATION, DEEP, PROPOSED)


class SizeClass:
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    ALL = (LARGE, MEDIUM, SMALL)


class ProblemState:
    ASSIGNED = "assigned"  # waiting for the owner unit to accept
    ACCEPTED = "accepted"
    DISPUTED = "disputed"  # declined: waiting for the office to rule
    RESOLVED = "resolved"  # owner says done; waiting for the raiser
    CLOSED = "closed"  # raiser confirmed
    OPEN_STATES = (ASSIGNED, ACCEPTED, DISPUTED, RESOLVED)


class ProblemEventKind:
    RAISED = "raised"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    HANDED_OVER = "handed_over"
    DECLINED = "declined"
    RULED = "ruled"
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"
    REOPENED = "reopened"
    COMMENTED = "commented"


class RunState:
    PENDING = "pending"
    WORKING = "working"
    DONE = "done"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"  # taken back before a worker started it (its reason is the run's error)


class OutboxState:
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


# --- Plans, units, people ------------------------------------------------


class Plan(SQLModel, table=True):
    """A loaded plan file: its identity and the validated spec as JSON."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True, max_length=80)
    name: str
    short_name: str = ""
    level: str = "banner"
    doc_no: str = ""
    issued_on: date | None = None
    spec: dict[str, Any] = _json({})
    content_hash: str = Field(max_length=64)
    loaded_at: datetime = _when()
    # From when units answer for anything (oversight.measures.accountable_from): the plan
    # file's tracking_since, else the day the plan was first loaded.
    tracking_since: date | None = None


class Unit(SQLModel, table=True):
    """A member unit: department, league/city, township, office or government."""

    __table_args__ = (UniqueConstraint("plan_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    key: str = Field(max_length=80)
    name: str
    short: str = ""
    kind: str = "department"
    duties: list[str] = _json([])


class ProblemCategory(SQLModel, table=True):
    """A blocker category and the unit the duty map makes its owner."""

    __table_args__ = (UniqueConstraint("plan_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    key: str = Field(max_length=80)
    name: str
    owner_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    limit_days: int = 10
    group: str = "paperwork"


class Member(SQLModel, table=True):
    """A Telegram user bound to a unit with a role."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    telegram_user_id: int | None = Field(default=None, index=True, sa_type=BigInteger)
    name: str = ""
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: str = Field(max_length=20)
    active: bool = True
    joined_at: datetime = _when()
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    default_task_id: int | None = Field(default=None, foreign_key="task.id")


class InviteCode(SQLModel, table=True):
    """A single-use, expiring code that binds a Telegram user to a unit and role."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    code_hash: str = Field(index=True, unique=True, max_length=64)  # sha256: the code itself is a secret
    unit_id: int = Field(foreign_key="unit.id")
    role: str = Field(max_length=20)
    created_by: str = ""
    created_at: datetime = _when()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_member_id: int | None = Field(default=None, foreign_key="member.id")


# --- Plan structure --------------------------------------------------------


class Phase(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("plan_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    key: str
    name: str
    start: date | None = None
    end: date


class Task(SQLModel, table=True):
    """A batch (一批) or task of a plan, with its target and units."""

    __table_args__ = (UniqueConstraint("plan_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    key: str = Field(max_length=80)
    seq: int
    name: str
    target: int
    measure: str = "宗"
    done_status: str = "done"
    phase: str | None = None
    deadline: date | None = None
    breakdown: list[Any] = _json([])
    schedule: list[Any] = _json([])


class TaskUnit(SQLModel, table=True):
    """A unit's part in a task: lead (牵头), cooperating (配合) or responsible (责任)."""

    task_id: int = Field(foreign_key="task.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    part: str = Field(primary_key=True, max_length=20)


class Zone(SQLModel, table=True):
    """An integration zone (整合区) and its planned composition."""

    __table_args__ = (UniqueConstraint("plan_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    seq: int
    name: str
    minerals: list[str] = _json([])
    planned_mining: int = 0
    planned_exploration: int = 0
    planned_deep: int = 0
    planned_proposed: int = 0


class ZoneLeader(SQLModel, table=True):
    """A leader in charge of a zone (包片包干)."""

    zone_id: int = Field(foreign_key="zone.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)


class Right(SQLModel, table=True):
    """A mining, exploration, deep-exploration or proposed right."""

    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    code: str = Field(max_length=80)
    name: str
    kind: str = Field(max_length=20)
    mineral: str = ""
    zone_id: int | None = Field(default=None, foreign_key="zone.id", index=True)
    parent_right_id: int | None = Field(default=None, foreign_key="right.id")
    size_class: str = SizeClass.SMALL
    production_status: str = ""
    status: str = "baseline"
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    # What the plans' targets and routing need (issue 14): coal or non-coal, the green-mine level
    # (national / region / league-city), the league or city where the right lies (a league unit),
    # why it is idle or unconverted (seed 003's categories), and when its baseline was verified.
    sector: str = Field(default="", max_length=20)
    green_level: str = Field(default="", max_length=20)
    locality_unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    idle_cause: str = Field(default="", max_length=40)
    baseline_on: date | None = None
    # 整合后保留: whether this right of its zone is the one the consolidation keeps (True), one it
    # absorbs (False), or not yet stated in the ledger (None). The record says which right survives;
    # nothing infers it from the order of the rights.
    kept_in_zone: bool | None = None
    holder: str = ""
    contact_person: str = ""
    due_on: date | None = None
    note: str = ""
    updated_at: datetime = _when()


class RightBatch(SQLModel, table=True):
    """A right's membership in a batch (one right may be in several)."""

    right_id: int = Field(foreign_key="right.id", primary_key=True)
    task_id: int = Field(foreign_key="task.id", primary_key=True)


class RightStatusEvent(SQLModel, table=True):
    """One change of a right's status, with who, when and what caused it."""

    id: int | None = Field(default=None, primary_key=True)
    right_id: int = Field(foreign_key="right.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    from_status: str
    to_status: str
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    report_id: int | None = Field(default=None, foreign_key="report.id")
    reason: str = ""
    at: datetime = _when(index=True)


class Measure(SQLModel, table=True):
    """One measure per mine (一矿一策)."""

    id: int | None = Field(default=None, primary_key=True)
    right_id: int = Field(foreign_key="right.id", unique=True)
    text: str
    updated_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    updated_at: datetime = _when()


class Milestone(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    title: str
    due_on: date | None = None
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- Reports and problems -----------------------------------------------


class Report(SQLModel, table=True):
    """A progress report (进展) or a periodic ledger submission."""

    # A plan's reports of a period: the brief's, the rules' and the reminders' way in, and a
    # plan's reports in all (every query of reports is by plan: no index of plan_id or
    # created_at alone, two fewer to write with every report).
    # Holds who filed each report: the weeks a unit or member reported in (oversight.measures.
    # reported_weeks) are read from the index alone, not from report rows scattered over the table.
    __table_args__ = (Index("ix_report_plan_created_who", "plan_id", "created_at", "unit_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    kind: str = "progress"  # progress | ledger
    member_id: int | None = Field(default=None, foreign_key="member.id")
    unit_id: int = Field(foreign_key="unit.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    zone_id: int | None = Field(default=None, foreign_key="zone.id")
    right_id: int | None = Field(default=None, foreign_key="right.id")
    text: str = ""
    quantity: int = 0
    created_at: datetime = _when()


class Attachment(SQLModel, table=True):
    """A stored file: kept under DATA_DIR by its sha256."""

    id: int | None = Field(default=None, primary_key=True)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    problem_event_id: int | None = Field(default=None, foreign_key="problemevent.id", index=True)
    rectification_followup_id: int | None = Field(default=None, foreign_key="rectificationfollowup.id")
    explanation_id: int | None = Field(default=None, foreign_key="explanation.id")
    decision_id: int | None = Field(default=None, foreign_key="decision.id")
    filename: str
    mime_type: str
    size: int
    sha256: str = Field(index=True, max_length=64)
    path: str
    created_at: datetime = _when()


class Problem(SQLModel, table=True):
    """A blocker raised in chat; its history is in ProblemEvent."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    text: str
    category_id: int | None = Field(default=None, foreign_key="problemcategory.id")
    right_id: int | None = Field(default=None, foreign_key="right.id")
    zone_id: int | None = Field(default=None, foreign_key="zone.id")
    raised_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    raised_by_unit_id: int = Field(foreign_key="unit.id")
    owner_unit_id: int = Field(foreign_key="unit.id", index=True)
    state: str = Field(default=ProblemState.ASSIGNED, index=True)
    due_on: date | None = None
    created_at: datetime = _when(index=True)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_action_at: datetime = _when()


class ProblemEvent(SQLModel, table=True):
    """One step in a problem's life: actor, time, reason, units."""

    __table_args__ = (
        Index("ix_problemevent_problem_at", "problem_id", "at"),
        # The events of some kinds in a period with their problem and units (the brief's hand-overs
        # and resolutions, per unit): read from the index alone, not from rows spread over the table.
        Index("ix_problemevent_kind_at_units", "kind", "at", "problem_id", "from_unit_id", "to_unit_id"),
        # A problem's latest event of some kinds before a date (oversight.briefdata's problem
        # state): without it PostgreSQL, lacking statistics (a database just filled), ANDed the
        # (problem_id, at) index with the kind index per problem, 10 s a query at region scale.
        Index("ix_problemevent_problem_kind_at", "problem_id", "kind", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    problem_id: int = Field(foreign_key="problem.id")
    kind: str = Field(max_length=20, index=True)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    actor_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    from_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    to_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    reason: str = ""
    reason_accepted: bool | None = None
    at: datetime = _when(index=True)


class ProblemProjection(SQLModel, table=True):
    """What the accountability rules need of a problem's event history, kept up to date by
    oversight.problems in the transaction of each event (models.projection.apply) and
    rebuilt from the events by `lianxi db rebuild-projections`. "Last" is by event id for
    the state and the owner (events are appended as they happen) and by (time, id) for the
    last action (comments are not action)."""

    problem_id: int = Field(primary_key=True, foreign_key="problem.id")
    last_at: datetime = Field(sa_type=UTCDateTime)  # the latest event's time, comments included
    state_event_id: int | None = None  # the last event that changed the state
    state_kind: str | None = Field(default=None, max_length=20)
    state_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last state event but a confirmation (which leaves a resolution standing): a resolution
    # still stands when it is this one.
    change_event_id: int | None = None
    owner_event_id: int | None = None  # the last assignment, hand-over or ruling
    owner_unit_id: int | None = None
    action_event_id: int | None = None  # the last action: the spell running since it
    action_kind: str | None = Field(default=None, max_length=20)
    action_unit_id: int | None = None  # who must act next (the event's to_unit_id)
    action_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_event_id: int | None = None  # the last acceptance or ruling
    handovers: int = 0  # hand-overs since the last acceptance or ruling
    passed_by: list[int] = _json([])  # the units that passed it on in those hand-overs, in order


class ProblemSpell(SQLModel, table=True):
    """One action of a problem (any event but a comment) and the time of the problem's next
    action after it in (time, id) order: the spell the action's to_unit held the ball, as the
    window function over the events computes it, kept by models.projection in the transaction
    of each event and rebuilt with the projection. The spell rules (oversight.measures.spell_stats)
    read the spells that reach a window through the index on next_at instead of every event of
    each problem acting in it; a next_at after the moment evaluated counts as still running."""

    __table_args__ = (Index("ix_problemspell_problem_at", "problem_id", "at", "event_id"),)
    event_id: int = Field(primary_key=True, foreign_key="problemevent.id")
    problem_id: int = Field(foreign_key="problem.id")
    kind: str = Field(max_length=20)
    unit_id: int | None = None  # the event's to_unit_id: who must act next
    at: datetime = Field(sa_type=UTCDateTime)
    next_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)  # None: still running


class ProblemHandover(SQLModel, table=True):
    """One hand-over or ruling of a problem with its place in the problem's runs of hand-overs
    (a run: the hand-overs between two acceptances or rulings, in (time, id) order, as the window
    function over the events computes it), kept by models.projection in the transaction of each
    event and rebuilt with the projection. The shifting rules (oversight.accountability's
    passed_on and boomerangs) read who passed a problem on in which run, and which hand-over or
    ruling brought it back to a unit that had handed it away, from here instead of every event
    of each problem handed over in the window."""

    __table_args__ = (
        Index("ix_problemhandover_problem_run", "problem_id", "run_id", "pass_no"),
        # A plan's hand-overs and rulings in a window, without joining every problem for its plan.
        Index("ix_problemhandover_plan_at", "plan_id", "at"),
    )
    event_id: int = Field(primary_key=True, foreign_key="problemevent.id")
    problem_id: int = Field(foreign_key="problem.id")
    plan_id: int = Field(foreign_key="plan.id")  # the problem's (it never changes)
    kind: str = Field(max_length=20)  # handed_over or ruled
    from_unit_id: int | None = None
    to_unit_id: int | None = None
    reason_accepted: bool | None = None  # the hand-over's, as the office judged it (the event's, copied)
    at: datetime = Field(sa_type=UTCDateTime)
    # The acceptance or ruling the run follows (0: none before it); a ruling begins its own run.
    run_id: int = 0
    pass_no: int = 0  # a hand-over's number in its run, from 1 (a ruling: 0)
    comes_back: bool = False  # it gives the problem to a unit that had handed it away before


# --- Meetings, decisions, documents -----------------------------------------


class Meeting(SQLModel, table=True):
    """A joint meeting: quarterly or ad hoc (临时加开)."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    kind: str = "quarterly"
    period: str = ""
    held_on: date
    title: str = ""
    called_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _when()
    # Convening (oversight/convening.py): scheduled -> circulated (agenda sent) -> held -> minuted.
    # A meeting recorded after the fact (record_meeting, /decision's 新建) is held from the start.
    state: str = Field(default="held", max_length=20)
    starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    agenda: list[Any] = _json([])  # [{"text": str, "ref": str}]: facts of the record with their ids
    circulated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    held_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    minutes_no: int | None = None  # 第N期, numbered per plan and year when the minutes are written
    minutes_path: str = ""
    minuted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MeetingAttendance(SQLModel, table=True):
    """A member unit's answer to a meeting's notice: who attends for it (出席) or that it is excused (请假)."""

    __table_args__ = (UniqueConstraint("meeting_id", "unit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")  # who confirmed
    attendee: str = Field(default="", max_length=60)  # the person sent, as the unit named them
    state: str = Field(default="attend", max_length=10)  # attend | excused
    at: datetime = _when()


class Decision(SQLModel, table=True):
    """An agreed matter (议定事项) of a meeting, owned by a unit."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    text: str
    owner_unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    cooperating_unit_ids: list[Any] = _json([])  # 配合单位 (unit ids), in the order the office named them
    major: bool = False
    due_on: date | None = None
    state: str = "open"  # open | submitted (evidence sent, the office to accept) | done
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    evidence_text: str = ""  # what the lead unit reported when it asked to close it
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _when()


class Brief(SQLModel, table=True):
    """A compiled brief (简报): its data snapshot and files."""

    __table_args__ = (UniqueConstraint("plan_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    period: str = Field(max_length=20)
    kind: str = "quarterly"  # quarterly | adhoc
    issue_no: int
    data: dict[str, Any] = _json({})
    pdf_path: str = ""
    xlsx_path: str = ""
    created_at: datetime = _when()
    # Sign-off (oversight/briefs.py): draft -> office_approved -> signed -> distributed.
    state: str = Field(default="draft", max_length=20)
    editor_note: str = ""  # the office's 编者按; empty: the standard one
    revision: int = 0  # bumped by each edit; the PDF is re-rendered up to it
    rendered_revision: int = 0
    office_approved_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    office_approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    signed_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    distributed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Notice(SQLModel, table=True):
    """A notice (通报): drafted, approved by the convener, published."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    period: str = Field(max_length=20, index=True)
    doc_no: str = ""
    title: str = ""
    body: str = ""
    state: str = "draft"  # draft | approved | published | dropped
    approved_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pdf_path: str = ""
    created_at: datetime = _when()


class NoticeFinding(SQLModel, table=True):
    """One finding of a notice with the events it rests on."""

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    rule: str = Field(max_length=40)  # slow | not_solving | shifting
    summary: str
    evidence: list[Any] = _json([])
    dropped: bool = False
    drop_reason: str = ""  # why the convener or office took it out of the notice


class Explanation(SQLModel, table=True):
    """A named unit's explanation (情况说明) of a notice finding."""

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")
    text: str
    created_at: datetime = _when()


class RectificationItem(SQLModel, table=True):
    """An item of the rectification ledger (整改台账)."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    period: str = Field(max_length=20)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    source: str = ""  # the finding or indicator that produced it
    item: str
    responsible_person: str = ""
    standard: str = ""
    deadline: date
    deduction: float = 1.0
    misses: int = 0
    state: str = "open"  # open | closed | rechecked | reopened
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recheck_on: date | None = None
    created_at: datetime = _when()


class RectificationFollowUp(SQLModel, table=True):
    """A half-yearly follow-up, a closure with evidence, or a re-check (回头看)."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="rectificationitem.id", index=True)
    kind: str  # progress | closed | closure_accepted | closure_returned | missed | recheck_ok | recheck_failed
    text: str = ""
    evidence_hash: str = Field(default="", index=True, max_length=64)
    actor: str = ""
    new_deadline: date | None = None
    at: datetime = _when()


# --- Working-day calendar ------------------------------------------------------


class CalendarYear(SQLModel, table=True):
    """A year's holidays and make-up working days (调休) as an admin stored them from the State
    Council's notice; it replaces the chinesecalendar package's data for that year."""

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    holidays: list[str] = _json([])  # ISO dates off (weekends inside a holiday included)
    workdays: list[str] = _json([])  # ISO dates of weekend days worked (上班)
    names: dict[str, str] = _json({})  # ISO date -> festival (元旦, 春节 …)
    source: str = Field(default="", max_length=300)  # the notice's title and number
    notice_text: str = ""  # the text as pasted, kept for the record
    version: int = 1
    stored_at: datetime = _when()
    stored_by: str = ""


# --- Worker, delivery, chat state, audit -------------------------------------


class JobSchedule(SQLModel, table=True):
    """A job's schedule as admins set it."""

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(unique=True, max_length=40)
    cron: str
    paused: bool = False
    updated_at: datetime = _when()
    updated_by: str = ""
    version: int = 1


class ScheduledRun(SQLModel, table=True):
    """One run of a job for one period; (job, period) is unique."""

    __table_args__ = (UniqueConstraint("job", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40)
    period: str = Field(max_length=40)
    state: str = RunState.PENDING
    attempts: int = 0
    worker_id: str = ""
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str = ""
    result: dict[str, Any] = _json({})
    created_at: datetime = _when()


class RunWatcher(SQLModel, table=True):
    """Someone who asked for a run (立即运行) and is told its result when it is done or has failed."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="scheduledrun.id", index=True)
    chat_id: int = Field(sa_type=BigInteger)
    requested_at: datetime = _when()
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RunTransition(SQLModel, table=True):
    """A row per state change of a scheduled run."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="scheduledrun.id", index=True)
    from_state: str
    to_state: str
    worker_id: str = ""
    note: str = ""
    at: datetime = _when()


class WorkerLease(SQLModel, table=True):
    """The lease that makes one worker the active one."""

    name: str = Field(primary_key=True, max_length=40)
    holder: str
    expires_at: datetime = Field(sa_type=UTCDateTime)
    acquired_at: datetime = _when()


class OutboxMessage(SQLModel, table=True):
    """A message to send, written with the change that caused it."""

    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger)
    kind: str = "text"  # text | document
    text: str = ""
    payload: dict[str, Any] = _json({})
    dedupe_key: str | None = Field(default=None, unique=True, max_length=120)
    state: str = OutboxState.PENDING
    attempts: int = 0
    next_attempt_at: datetime = _when()
    last_error: str = ""
    created_at: datetime = _when()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class GroupPace(SQLModel, table=True):
    """The messages of the last minute to one group chat, shared by the bot replicas on one
    PostgreSQL database (models/pace.py): Telegram's 20 a minute per group is the bot's, not
    each replica's. Times are the database's clock, in seconds since the epoch."""

    chat_id: int = Field(primary_key=True, sa_type=BigInteger)
    sent: list[Any] = _json([])  # oldest first, at most the window's count
    held_until: float = 0.0  # a 429's retry_after, whichever replica was given it


class ProcessedUpdate(SQLModel, table=True):
    """An update already handled: a redelivered one is skipped."""

    update_id: int = Field(primary_key=True, sa_type=BigInteger)
    at: datetime = _when()


class InboxUpdate(SQLModel, table=True):
    """An update as Telegram sent it, stored before Telegram is told it arrived (the polling
    offset moves past it, or the webhook answers 200, only after the commit). Applied when
    its ProcessedUpdate exists; `reply` holds the answers of an applied update until they
    are sent, so a crash in between sends them after the restart."""

    update_id: int = Field(primary_key=True, sa_type=BigInteger)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    payload: str  # the update's JSON
    received_at: datetime = _when()
    reply: str | None = None  # JSON list of {"chat_id", "text", "buttons"} not yet sent


class ChatState(SQLModel, table=True):
    """A half-filled conversation, kept so a restart resumes it."""

    __table_args__ = (UniqueConstraint("chat_id", "user_id", "flow"),)
    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger)
    user_id: int = Field(sa_type=BigInteger)
    flow: str = Field(max_length=40)
    step: str = ""
    data: dict[str, Any] = _json({})
    updated_at: datetime = _when()


class CallbackToken(SQLModel, table=True):
    """An opaque button id; the action and its arguments stay on the server."""

    token: str = Field(primary_key=True, max_length=24)
    action: str = Field(max_length=40)
    args: dict[str, Any] = _json({})
    user_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = _when()


class GroupBinding(SQLModel, table=True):
    """The joint meeting group chat of a plan."""

    plan_id: int = Field(foreign_key="plan.id", primary_key=True)
    chat_id: int = Field(sa_type=BigInteger)
    title: str = ""
    bound_at: datetime = _when()


class AuditLog(SQLModel, table=True):
    """Who did what, when: one row per state change and per refusal."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(index=True)
    actor: str = ""  # member:<id>, tg:<user id>, cli, worker
    action: str = Field(max_length=60)
    object_type: str = ""
    object_id: str = ""
    detail: dict[str, Any] = _json({})


# --- 督办 (three colours) and status claims ------------------------------------------------


class SupervisionMark(SQLModel, table=True):
    """The 督办 colour an open item with a deadline had when last looked at (oversight/supervision.py),
    kept so that each change is told once. `kind` problem | decision | rectification | baseline
    (a league's 底数核实台账: item_id is the league's unit id)."""

    kind: str = Field(primary_key=True, max_length=20)
    item_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    plan_id: int = Field(foreign_key="plan.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    colour: str = Field(default="", max_length=10)  # blue | yellow | red | "" (none)
    changed_at: datetime = _when()


class SupervisionEvent(SQLModel, table=True):
    """A colour change of an item (action colour) or one 催办 of it by the office (action urge)."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    kind: str = Field(max_length=20)
    item_id: int
    unit_id: int = Field(foreign_key="unit.id", index=True)
    action: str = Field(max_length=20)
    from_colour: str = Field(default="", max_length=10)
    to_colour: str = Field(default="", max_length=10)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    at: datetime = _when(index=True)


class SupervisionOrder(SQLModel, table=True):
    """A numbered 督办单, issued when an item turns red; numbers are never reused."""

    __table_args__ = (UniqueConstraint("plan_id", "year", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    year: int
    seq: int
    doc_no: str = Field(max_length=60)
    kind: str = Field(max_length=20)
    item_id: int
    unit_id: int = Field(foreign_key="unit.id", index=True)
    data: dict[str, Any] = _json({})  # what the order says, fixed when it was issued
    pdf_path: str = ""
    docx_path: str = ""
    issued_at: datetime = _when()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RightClaim(SQLModel, table=True):
    """A report's claim that a right reached a done state: the right's status moves only when
    the office or the unit the duty map names confirms it (state pending | confirmed | rejected)."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    right_id: int = Field(foreign_key="right.id", index=True)
    report_id: int = Field(foreign_key="report.id")
    task_id: int | None = Field(default=None, foreign_key="task.id")
    unit_id: int = Field(foreign_key="unit.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")
    to_status: str = Field(max_length=20)
    confirmer_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    state: str = Field(default="pending", max_length=20, index=True)
    decided_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str = ""
    created_at: datetime = _when()
