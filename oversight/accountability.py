"""Accountability rules (seed 000 五(一)): which units a notice names as slow (推进速度慢),
not solving problems (问题解决不积极、不明显) or shifting responsibility (推诿扯皮), each
finding with the events it rests on.

Everything is computed from the event history in SQL: each rule is one or two queries
that return per-unit aggregates or the few problems that match; Python only turns
calendar days into working days and writes the Chinese summaries. The thresholds come
from the plan file (PlanSpec.thresholds, defaults in oversight.planfile).

Periods are quarters ("2026Q1") or halves ("2026H1") in Asia/Shanghai. Rules are
evaluated as of the end of the period, or `now` when the period has not ended yet.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models import (
    Decision,
    Member,
    Plan,
    Problem,
    ProblemEvent,
    ProblemEventKind,
    Report,
    Task,
    TaskUnit,
    Unit,
)
from models.base import UTCDateTime
from oversight.errors import InvalidInputError, NotFoundError
from oversight.planfile import DEFAULT_THRESHOLDS
from oversight.rights import batch_progress
from oversight.workdays import is_workday

SHANGHAI = ZoneInfo("Asia/Shanghai")
K = ProblemEventKind

# --- Vocabulary ---------------------------------------------------------------------

class Rule:
    SLOW = "slow"
    NOT_SOLVING = "not_solving"
    SHIFTING = "shifting"
    ALL = (SLOW, NOT_SOLVING, SHIFTING)


RULE_LABELS: dict[str, str] = {
    Rule.SLOW: "工作推进速度慢",
    Rule.NOT_SOLVING: "问题解决不积极、不明显",
    Rule.SHIFTING: "推诿扯皮",
}

# What a finding rests on (NoticeFinding.evidence items carry one of these as "basis").
BASIS_LABELS: dict[str, str] = {
    "behind_plan": "任务进度滞后",
    "missed_reports": "未按周报送进展",
    "overdue_items": "事项逾期未办结",
    "low_resolution": "问题办结率低",
    "slow_accept": "问题接收迟缓",
    "idle": "问题长期无办理动作",
    "boomerang": "问题转出后又回到本单位",
    "declined_ruled_back": "退回的问题经裁定仍由本单位负责",
    "passed_on": "问题多次转交无人接收",
}

EVENT_LABELS: dict[str, str] = {
    K.RAISED: "提出", K.ASSIGNED: "交办", K.ACCEPTED: "接收", K.HANDED_OVER: "转交", K.DECLINED: "退回",
    K.RULED: "裁定", K.RESOLVED: "办结", K.CONFIRMED: "确认关闭", K.REOPENED: "重新办理", K.COMMENTED: "备注",
}

# Units that issue the notice rather than receive it.
EXEMPT_UNIT_KINDS = ("office", "government")

# Events after which the holder (to_unit_id) must act next; comments are never action.
_HOLDER_MUST_ACT = (K.ASSIGNED, K.HANDED_OVER, K.ACCEPTED, K.REOPENED, K.RULED)
_WAITING_FOR_RESPONSE = (K.ASSIGNED, K.HANDED_OVER)
_STATE_KINDS = (K.ASSIGNED, K.ACCEPTED, K.HANDED_OVER, K.DECLINED, K.RULED, K.RESOLVED, K.CONFIRMED, K.REOPENED)
_OWNER_KINDS = (K.ASSIGNED, K.HANDED_OVER, K.RULED)
_DONE_KINDS = (K.RESOLVED, K.CONFIRMED)

_E = ProblemEvent.__table__
_P = Problem.__table__


# --- Periods -----------------------------------------------------------------------

_PERIOD_RE = re.compile(r"^(\d{4})(?:Q([1-4])|H([12]))$")
_CN_QUARTER = {1: "一", 2: "二", 3: "三", 4: "四"}


@dataclass(frozen=True)
class Period:
    """A quarter or half-year in Asia/Shanghai: [start, end) as aware UTC moments."""

    key: str
    year: int
    start: datetime
    end: datetime
    label: str  # "2026年第一季度", "2026年上半年"

    @property
    def first_day(self) -> date:
        return self.start.astimezone(SHANGHAI).date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).astimezone(SHANGHAI).date()

    def as_of(self, now: datetime) -> datetime:
        """The moment the rules look at: the period's end, or `now` if that is earlier."""
        return min(self.end, now)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def parse_period(period: str) -> Period:
    """A period key like 2026Q1 or 2026H1; InvalidInputError otherwise."""
    m = _PERIOD_RE.match(period.strip().upper())
    if m is None:
        raise InvalidInputError(f"期别“{period}”格式有误，应为 2026Q1（季度）或 2026H1（半年）。")
    year = int(m.group(1))
    if m.group(2):
        q = int(m.group(2))
        first, months, label = date(year, 3 * q - 2, 1), 3, f"{year}年第{_CN_QUARTER[q]}季度"
    else:
        h = int(m.group(3))
        first, months, label = date(year, 6 * h - 5, 1), 6, f"{year}年{'上' if h == 1 else '下'}半年"
    month = first.month + months
    after = date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return Period(key=m.group(0), year=year, start=_local_midnight(first), end=_local_midnight(after), label=label)


def quarter_of(moment: datetime) -> str:
    """The quarter key containing `moment` (Asia/Shanghai)."""
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def half_of(moment: datetime) -> str:
    """The half-year key containing `moment` (Asia/Shanghai)."""
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}H{1 if local.month <= 6 else 2}"


def previous_period(period: str) -> str:
    """The quarter or half before `period` (2026Q1 → 2025Q4; 2026H1 → 2025H2)."""
    p = parse_period(period)
    return quarter_of(p.start - timedelta(seconds=1)) if "Q" in p.key else half_of(p.start - timedelta(seconds=1))


# --- Working days, in bulk -------------------------------------------------------------

class WorkdayIndex:
    """Working-day ordinals for a span of dates, so counting is a subtraction, not a loop."""

    def __init__(self, first: date, last: date) -> None:
        self.first = first
        self._days: list[date] = []
        self._cum: list[int] = []
        n, day = 0, first
        while day <= last:
            if is_workday(day):
                n += 1
            self._days.append(day)
            self._cum.append(n)
            day += timedelta(days=1)

    def _ordinal(self, day: date) -> int:
        if day < self.first:
            return 0
        i = (day - self.first).days
        if i < len(self._cum):
            return self._cum[i]
        # Past the table: extend lazily (rare: only for dates after `last`).
        extra = sum(1 for k in range(1, i - len(self._cum) + 2)
                    if is_workday(self._days[-1] + timedelta(days=k)))
        return self._cum[-1] + extra

    def between(self, start: date, end: date) -> int:
        """Working days in (start, end]; 0 if end <= start (same as workdays.workdays_between)."""
        if end <= start:
            return 0
        if start < self.first:
            # Before the table: fall back to counting directly.
            return sum(1 for k in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=k)))
        return self._ordinal(end) - self._ordinal(start)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _local_day(session: Session, column: Any) -> Any:
    """SQL: the Asia/Shanghai calendar date of a UTC timestamp column or expression."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    # SQLite keeps naive UTC text; China has had no daylight saving time since 1991.
    return func.date(column, "+8 hours")


def _at(moment: datetime) -> Any:
    return literal(moment, UTCDateTime())


# --- Findings -------------------------------------------------------------------------

@dataclass
class Finding:
    """One unit named under one rule, with the reasons (`bases`) and their evidence."""

    unit_id: int
    unit: str
    rule: str
    bases: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return "；".join(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "unit": self.unit, "rule": self.rule, "rule_label": RULE_LABELS[self.rule],
                "bases": list(self.bases), "summary": self.summary, "evidence": list(self.evidence)}


class _Collector:
    """Findings by (unit, rule), in the order units and rules first appear."""

    def __init__(self, units: dict[int, Unit]) -> None:
        self.units = units
        self.items: dict[tuple[int, str], Finding] = {}

    def add(self, unit_id: int, rule: str, basis: str, reason: str, evidence: Iterable[dict[str, Any]]) -> None:
        unit = self.units.get(unit_id)
        if unit is None or unit.kind in EXEMPT_UNIT_KINDS:
            return
        f = self.items.get((unit_id, rule))
        if f is None:
            f = self.items[(unit_id, rule)] = Finding(unit_id=unit_id, unit=unit.name, rule=rule)
        if basis not in f.bases:
            f.bases.append(basis)
        f.reasons.append(reason)
        f.evidence.extend({**e, "basis": basis} for e in evidence)

    def findings(self) -> list[Finding]:
        order = {r: i for i, r in enumerate(Rule.ALL)}
        return sorted(self.items.values(), key=lambda f: (order[f.rule], f.unit_id))


def thresholds_of(plan: Plan) -> dict[str, float]:
    """The plan's accountability thresholds, defaults filled in."""
    return {**DEFAULT_THRESHOLDS, **((plan.spec or {}).get("thresholds") or {})}


def _units(session: Session, plan_id: int) -> dict[int, Unit]:
    return {u.id: u for u in session.execute(select(Unit).where(Unit.plan_id == plan_id)).scalars()}  # type: ignore[misc]


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _ids(ids: Iterable[int], prefix: str = "#") -> str:
    return "、".join(f"{prefix}{i}" for i in ids)


# --- Evidence ------------------------------------------------------------------------------

def event_evidence(*, session: Session, event_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The events with who, when, what and why, oldest first (one query)."""
    if not event_ids:
        return []
    actor_unit, from_unit, to_unit = aliased(Unit), aliased(Unit), aliased(Unit)
    rows = session.execute(
        select(ProblemEvent, Member.name, actor_unit.name, from_unit.name, to_unit.name)
        .outerjoin(Member, Member.id == ProblemEvent.actor_member_id)
        .outerjoin(actor_unit, actor_unit.id == ProblemEvent.actor_unit_id)
        .outerjoin(from_unit, from_unit.id == ProblemEvent.from_unit_id)
        .outerjoin(to_unit, to_unit.id == ProblemEvent.to_unit_id)
        .where(ProblemEvent.id.in_(sorted(set(event_ids))))  # type: ignore[union-attr]
        .order_by(ProblemEvent.at, ProblemEvent.id)
    ).all()
    out = []
    for e, actor, a_unit, f_unit, t_unit in rows:
        out.append({
            "event_id": e.id,
            "problem_id": e.problem_id,
            "kind": e.kind,
            "kind_label": EVENT_LABELS.get(e.kind, e.kind),
            "actor_member_id": e.actor_member_id,
            "actor": actor or "",
            "actor_unit_id": e.actor_unit_id,
            "actor_unit": a_unit or "",
            "from_unit": f_unit or "",
            "to_unit": t_unit or "",
            "at": e.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            "reason": e.reason,
            "reason_accepted": e.reason_accepted,
        })
    return out


def evidence_line(item: dict[str, Any]) -> str:
    """One evidence item as a line of Chinese text."""
    if "event_id" in item:
        who = f"{item['actor']}（{item['actor_unit']}）" if item.get("actor") else (item.get("actor_unit") or "系统")
        what = item["kind_label"]
        if item["kind"] in (K.HANDED_OVER, K.RULED) and item.get("to_unit"):
            what += f"：{item['from_unit']} → {item['to_unit']}"
        elif item["kind"] in (K.ASSIGNED, K.ACCEPTED) and item.get("to_unit"):
            what += f"：{item['to_unit']}"
        line = f"问题#{item['problem_id']} {item['at']} {who} {what}"
        if item.get("reason"):
            line += f"，理由：{item['reason']}"
        if item.get("reason_accepted") is True:
            line += "（理由经办公室认定成立）"
        elif item.get("reason_accepted") is False:
            line += "（理由经办公室认定不成立）"
        return line
    kind = item.get("kind")
    if kind == "task_progress":
        return (f"{item['task']}：应完成 {item['expected']:g}{item['measure']}，实际完成 {item['done']}{item['measure']}"
                f"（截至 {item['as_of']}）")
    if kind == "missed_week":
        return f"{item['week']}（{item['from']}至{item['to']}）未报送进展"
    if kind == "overdue_problem":
        return f"问题#{item['problem_id']}：{item['text']}（应于 {item['due_on']} 前办结）"
    if kind == "overdue_decision":
        return f"议定事项#{item['decision_id']}：{item['text']}（应于 {item['due_on']} 前落实）"
    return str(item)


# --- Shared SQL pieces ----------------------------------------------------------------

def _candidate_problems(plan_id: int, start: datetime, as_of: datetime) -> Any:
    """Problems that may have been open during [start, as_of] (a superset, from the
    problem rows; the events decide). A problem closed before `start` and not reopened
    since has closed_at < start; reopening clears closed_at."""
    return (select(_P.c.id).where(_P.c.plan_id == plan_id, _P.c.created_at <= _at(as_of),
                                  or_(_P.c.closed_at.is_(None), _P.c.closed_at >= _at(start))))


def _state_at(session: Session, plan_id: int, start: datetime, as_of: datetime) -> Any:
    """Per problem as of `as_of`: owner unit (and the event that made it owner), the kind
    and time of the last state-changing event, and the deadline."""
    cand = _candidate_problems(plan_id, start, as_of)
    order = (_E.c.at.desc(), _E.c.id.desc())
    st = (select(_E.c.problem_id, _E.c.kind, _E.c.at,
                 func.row_number().over(partition_by=_E.c.problem_id, order_by=order).label("rn"))
          .where(_E.c.problem_id.in_(cand), _E.c.kind.in_(_STATE_KINDS), _E.c.at <= _at(as_of))).subquery()
    own = (select(_E.c.problem_id, _E.c.to_unit_id, _E.c.id.label("event_id"),
                  func.row_number().over(partition_by=_E.c.problem_id, order_by=order).label("rn"))
           .where(_E.c.problem_id.in_(cand), _E.c.kind.in_(_OWNER_KINDS), _E.c.at <= _at(as_of))).subquery()
    return (select(own.c.problem_id, own.c.to_unit_id.label("owner"), own.c.event_id.label("owner_event_id"),
                   st.c.kind.label("state_kind"), st.c.at.label("state_at"), _P.c.due_on, _P.c.text)
            .join(st, and_(st.c.problem_id == own.c.problem_id, st.c.rn == 1))
            .join(_P, _P.c.id == own.c.problem_id)
            .where(own.c.rn == 1)).subquery()


def _gaps(session: Session, plan_id: int, start: datetime, as_of: datetime) -> Any:
    """Each action event of a candidate problem with the next action after it (comments
    are not action): the time the holder (to_unit_id) had the ball."""
    cand = _candidate_problems(plan_id, start, as_of)
    w = dict(partition_by=_E.c.problem_id, order_by=(_E.c.at, _E.c.id))
    return (select(_E.c.id, _E.c.problem_id, _E.c.kind, _E.c.to_unit_id, _E.c.at,
                   func.lead(_E.c.at, type_=UTCDateTime()).over(**w).label("next_at"),
                   func.lead(_E.c.id).over(**w).label("next_id"))
            .where(_E.c.problem_id.in_(cand), _E.c.kind != K.COMMENTED, _E.c.at <= _at(as_of))).subquery()


# --- Rule: slow (推进速度慢) ---------------------------------------------------------------

def tasks_behind(*, session: Session, plan_id: int, as_of: datetime, behind_points: float) -> list[dict[str, Any]]:
    """Tasks more than `behind_points` percentage points behind their schedule, with their units."""
    parts: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for task_id, unit_id, part in session.execute(
        select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.part)
        .join(Task, Task.id == TaskUnit.task_id).where(Task.plan_id == plan_id)
    ).all():
        parts[task_id].append((unit_id, part))
    out = []
    for row in batch_progress(session=session, plan_id=plan_id, as_of=as_of):
        share = row["expected_share"]
        if share is None or not row["target"]:
            continue
        done_share = row["done"] / row["target"]
        points = (share - done_share) * 100
        if points > behind_points:
            out.append({**row, "done_share": done_share, "behind_points": round(points, 1),
                        "units": parts.get(row["task_id"], [])})
    return out


def report_weeks(period_start: date, last_day: date) -> list[tuple[date, date]]:
    """The Monday–Sunday weeks that lie wholly in [period_start, last_day] and have a working day."""
    monday = period_start + timedelta(days=(7 - period_start.weekday()) % 7)
    weeks = []
    while monday + timedelta(days=6) <= last_day:
        sunday = monday + timedelta(days=6)
        if any(is_workday(monday + timedelta(days=i)) for i in range(7)):
            weeks.append((monday, sunday))
        monday += timedelta(days=7)
    return weeks


def missed_report_weeks(*, session: Session, plan_id: int, start: datetime, as_of: datetime) -> dict[int, list[tuple[date, date]]]:
    """For each unit with a part in a task: the weeks of the window it filed no report in (one GROUP BY)."""
    first = start.astimezone(SHANGHAI).date()
    last = (as_of - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
    weeks = report_weeks(first, last)
    tasked = set(session.execute(
        select(TaskUnit.unit_id).join(Task, Task.id == TaskUnit.task_id).where(Task.plan_id == plan_id).distinct()
    ).scalars())
    if not weeks or not tasked:
        return {}
    r = Report.__table__
    bucket = case(*[(r.c.created_at < _at(_local_midnight(sun + timedelta(days=1))), i)
                    for i, (_, sun) in enumerate(weeks)], else_=None)
    rows = session.execute(
        select(r.c.unit_id, bucket.label("week")).where(
            r.c.plan_id == plan_id, r.c.created_at >= _at(_local_midnight(weeks[0][0])),
            r.c.created_at < _at(_local_midnight(weeks[-1][1] + timedelta(days=1))))
        .group_by(r.c.unit_id, bucket)
    ).all()
    reported: dict[int, set[int]] = defaultdict(set)
    for unit_id, week in rows:
        if week is not None:
            reported[unit_id].add(int(week))
    return {u: [w for i, w in enumerate(weeks) if i not in reported.get(u, set())] for u in sorted(tasked)}


def overdue_items(*, session: Session, plan_id: int, start: datetime, as_of: datetime) -> dict[int, list[dict[str, Any]]]:
    """Per unit: problems it held open past their deadline as of `as_of` (from the events),
    and its agreed matters (议定事项) not done by their deadline."""
    # Due on day D means done by the end of D: as of a period's end (the next midnight),
    # an item due on its last day is overdue.
    today = as_of.astimezone(SHANGHAI).date()
    s = _state_at(session, plan_id, start, as_of)
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for pid, owner, due, text in session.execute(
        select(s.c.problem_id, s.c.owner, s.c.due_on, s.c.text)
        .where(s.c.state_kind.not_in((*_DONE_KINDS, K.DECLINED)), s.c.due_on.is_not(None), s.c.due_on < today)
        .order_by(s.c.due_on, s.c.problem_id)
    ).all():
        out[owner].append({"kind": "overdue_problem", "problem_id": pid, "text": text[:60],
                           "due_on": _as_date(due).isoformat()})
    d = Decision.__table__
    for did, owner, due, text in session.execute(
        select(d.c.id, d.c.owner_unit_id, d.c.due_on, d.c.text)
        .where(d.c.plan_id == plan_id, d.c.owner_unit_id.is_not(None), d.c.due_on.is_not(None), d.c.due_on < today,
               d.c.created_at <= _at(as_of), or_(d.c.done_at.is_(None), d.c.done_at > _at(as_of)))
        .order_by(d.c.due_on, d.c.id)
    ).all():
        out[owner].append({"kind": "overdue_decision", "decision_id": did, "text": text[:60],
                           "due_on": _as_date(due).isoformat()})
    return dict(out)


# --- Rule: not solving (问题解决不积极、不明显) -----------------------------------------------

def resolution_counts(*, session: Session, plan_id: int, start: datetime, as_of: datetime) -> dict[int, dict[str, Any]]:
    """Per owner unit as of `as_of`: problems it owned in the window and how many it resolved.

    Counted: problems it resolved in the window, and problems still unresolved past
    their deadline. Not counted: problems still within their time limit, and problems
    waiting for the office to rule on a decline (those are the office's move)."""
    today = as_of.astimezone(SHANGHAI).date()
    s = _state_at(session, plan_id, start, as_of)
    done = and_(s.c.state_kind.in_(_DONE_KINDS), s.c.state_at >= _at(start))
    open_late = and_(s.c.state_kind.not_in((*_DONE_KINDS, K.DECLINED)), s.c.due_on.is_not(None), s.c.due_on < today)
    rows = session.execute(
        select(s.c.owner, func.count().label("owned"), func.sum(case((done, 1), else_=0)).label("resolved"))
        .where(or_(done, open_late)).group_by(s.c.owner)
    ).all()
    out = {owner: {"owned": int(n), "resolved": int(r or 0), "unresolved": []} for owner, n, r in rows}
    if out:
        for owner, pid, ev in session.execute(
            select(s.c.owner, s.c.problem_id, s.c.owner_event_id).where(open_late).order_by(s.c.problem_id)
        ).all():
            out[owner]["unresolved"].append((pid, ev))
    return out


def response_waits(*, session: Session, plan_id: int, start: datetime, as_of: datetime,
                   days: WorkdayIndex) -> dict[int, list[tuple[int, int]]]:
    """Per unit: (working days, how many) from a problem being assigned or handed to it until
    its first response (accept, hand on, decline) or a ruling; a wait still open at
    `as_of` counts up to `as_of`. Only waits that overlap the window. Aggregated by
    calendar day pairs in SQL."""
    g = _gaps(session, plan_id, start, as_of)
    end_at = func.coalesce(g.c.next_at, _at(as_of))
    d0, d1 = _local_day(session, g.c.at), _local_day(session, end_at)
    rows = session.execute(
        select(g.c.to_unit_id, d0.label("d0"), d1.label("d1"), func.count())
        .where(g.c.kind.in_(_WAITING_FOR_RESPONSE), g.c.to_unit_id.is_not(None), end_at > _at(start))
        .group_by(g.c.to_unit_id, d0, d1)
    ).all()
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for unit_id, a, b, n in rows:
        out[unit_id].append((days.between(_as_date(a), _as_date(b)), int(n)))
    return dict(out)


def weighted_median(pairs: Sequence[tuple[int, int]]) -> float | None:
    """The median of values given as (value, count) pairs."""
    total = sum(n for _, n in pairs)
    if total == 0:
        return None
    ordered = sorted(pairs)
    cum, values = 0, []
    cums = []
    for v, n in ordered:
        cum += n
        cums.append(cum)
        values.append(v)

    def nth(k: int) -> int:  # 1-based
        return values[bisect_right(cums, k - 1)]

    if total % 2:
        return float(nth(total // 2 + 1))
    return (nth(total // 2) + nth(total // 2 + 1)) / 2


def idle_spells(*, session: Session, plan_id: int, start: datetime, as_of: datetime, idle_days: float,
                days: WorkdayIndex) -> list[dict[str, Any]]:
    """Times a unit held a problem it had to act on for `idle_days` working days or more with
    no action (comments do not count), ending in the window or still running at `as_of`."""
    g = _gaps(session, plan_id, start, as_of)
    end_at = func.coalesce(g.c.next_at, _at(as_of))
    d0, d1 = _local_day(session, g.c.at), _local_day(session, end_at)
    # Prefilter in SQL on calendar days (n working days always span at least n days).
    span = (func.julianday(d1) - func.julianday(d0)) if session.get_bind().dialect.name == "sqlite" else \
        (func.cast(d1, _date_type()) - func.cast(d0, _date_type()))
    rows = session.execute(
        select(g.c.id, g.c.problem_id, g.c.to_unit_id, g.c.next_id, d0.label("d0"), d1.label("d1"))
        .where(g.c.kind.in_(_HOLDER_MUST_ACT), g.c.to_unit_id.is_not(None), end_at > _at(start), span >= idle_days)
        .order_by(g.c.problem_id, g.c.at)
    ).all()
    out = []
    for event_id, pid, unit_id, next_id, a, b in rows:
        n = days.between(_as_date(a), _as_date(b))
        if n >= idle_days:
            out.append({"unit_id": unit_id, "problem_id": pid, "event_id": event_id, "next_event_id": next_id,
                        "workdays": n, "still_idle": next_id is None})
    return out


def _date_type() -> Any:
    from sqlalchemy import Date

    return Date()


# --- Rule: shifting (推诿扯皮) -------------------------------------------------------------

def _moves(session: Session, problem_ids: Iterable[int], as_of: datetime) -> dict[int, list[ProblemEvent]]:
    """Hand-overs, declines, rulings and acceptances of a few problems, oldest first."""
    ids = sorted(set(problem_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(ProblemEvent)
        .where(ProblemEvent.problem_id.in_(ids),  # type: ignore[attr-defined]
               ProblemEvent.kind.in_((K.ASSIGNED, K.HANDED_OVER, K.DECLINED, K.RULED, K.ACCEPTED)),  # type: ignore[attr-defined]
               ProblemEvent.at <= as_of)
        .order_by(ProblemEvent.at, ProblemEvent.id)
    ).scalars().all()
    out: dict[int, list[ProblemEvent]] = defaultdict(list)
    for e in rows:
        out[e.problem_id].append(e)
    return out


def boomerangs(*, session: Session, plan_id: int, start: datetime, as_of: datetime) -> list[dict[str, Any]]:
    """Problems handed away by a unit that came back to it (A→B→A, by a hand-over or a
    ruling) within the window. Blamed on the unit the office finally ruled responsible,
    or, if the office never ruled, on the unit that first handed it away; never on a
    unit whose every hand-over of the problem had a reason the office accepted, and not
    at all when the office ruled it to a unit that never passed it on."""
    h, r = _E.alias("h"), _E.alias("r")
    found = session.execute(
        select(r.c.problem_id).distinct()
        .join(_P, _P.c.id == r.c.problem_id)
        .join(h, and_(h.c.problem_id == r.c.problem_id, h.c.kind == K.HANDED_OVER,
                      h.c.from_unit_id == r.c.to_unit_id,
                      or_(h.c.at < r.c.at, and_(h.c.at == r.c.at, h.c.id < r.c.id))))
        .where(_P.c.plan_id == plan_id, r.c.kind.in_((K.HANDED_OVER, K.RULED)),
               r.c.at >= _at(start), r.c.at <= _at(as_of))
    ).scalars().all()
    out = []
    for pid, events in sorted(_moves(session, found, as_of).items()):
        handovers = [e for e in events if e.kind == K.HANDED_OVER]
        rulings = [e for e in events if e.kind == K.RULED]
        blamed = rulings[-1].to_unit_id if rulings else handovers[0].from_unit_id
        own = [e for e in handovers if e.from_unit_id == blamed]
        if not own or all(e.reason_accepted is True for e in own):
            continue
        cited = [e.id for e in events if e.kind in (K.ASSIGNED, K.HANDED_OVER, K.RULED, K.DECLINED)]
        out.append({"unit_id": blamed, "problem_id": pid, "ruled": bool(rulings), "event_ids": cited,
                    "path": [e.to_unit_id for e in events if e.kind in (K.ASSIGNED, K.HANDED_OVER, K.RULED)]})
    return out


def declined_ruled_back(*, session: Session, plan_id: int, start: datetime, as_of: datetime) -> list[dict[str, Any]]:
    """Problems a unit declined (退回) that the office then ruled back to it, ruled in the window."""
    d, r = _E.alias("d"), _E.alias("r")
    rows = session.execute(
        select(r.c.to_unit_id, r.c.problem_id, func.max(d.c.id), r.c.id)
        .join(_P, _P.c.id == r.c.problem_id)
        .join(d, and_(d.c.problem_id == r.c.problem_id, d.c.kind == K.DECLINED, d.c.from_unit_id == r.c.to_unit_id,
                      d.c.at <= r.c.at, d.c.id < r.c.id))
        .where(_P.c.plan_id == plan_id, r.c.kind == K.RULED, r.c.from_unit_id == r.c.to_unit_id,
               r.c.at >= _at(start), r.c.at <= _at(as_of))
        .group_by(r.c.to_unit_id, r.c.problem_id, r.c.id)
        .order_by(r.c.problem_id, r.c.id)
    ).all()
    return [{"unit_id": unit_id, "problem_id": pid, "event_ids": [decline_id, ruling_id]}
            for unit_id, pid, decline_id, ruling_id in rows]


def passed_on(*, session: Session, plan_id: int, start: datetime, as_of: datetime, count: int) -> list[dict[str, Any]]:
    """Runs of `count` or more hand-overs of a problem with nobody accepting in between (an
    acceptance or a ruling ends a run), with a hand-over in the window. Each unit that
    passed it on in the run without a reason the office accepted is named."""
    active = (select(_E.c.problem_id).join(_P, _P.c.id == _E.c.problem_id)
              .where(_P.c.plan_id == plan_id, _E.c.kind == K.HANDED_OVER,
                     _E.c.at >= _at(start), _E.c.at <= _at(as_of)))
    ends_run = case((_E.c.kind.in_((K.ACCEPTED, K.RULED)), 1), else_=0)
    ev = (select(_E.c.id, _E.c.problem_id, _E.c.kind, _E.c.from_unit_id, _E.c.reason_accepted, _E.c.at,
                 func.sum(ends_run).over(partition_by=_E.c.problem_id, order_by=(_E.c.at, _E.c.id)).label("seg"))
          .where(_E.c.problem_id.in_(active), _E.c.kind.in_((K.HANDED_OVER, K.ACCEPTED, K.RULED)),
                 _E.c.at <= _at(as_of))).subquery()
    runs = (select(ev.c.problem_id, ev.c.seg).where(ev.c.kind == K.HANDED_OVER)
            .group_by(ev.c.problem_id, ev.c.seg)
            .having(and_(func.count() >= count, func.max(ev.c.at) >= _at(start)))).subquery()
    rows = session.execute(
        select(ev.c.problem_id, ev.c.seg, ev.c.id, ev.c.from_unit_id, ev.c.reason_accepted)
        .join(runs, and_(runs.c.problem_id == ev.c.problem_id, runs.c.seg == ev.c.seg))
        .where(ev.c.kind == K.HANDED_OVER).order_by(ev.c.problem_id, ev.c.at, ev.c.id)
    ).all()
    by_run: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for row in rows:
        by_run[(row[0], row[1])].append(row)
    out = []
    for (pid, _), hs in by_run.items():
        ids = [row[2] for row in hs]
        for unit_id in dict.fromkeys(row[3] for row in hs if row[4] is not True):
            out.append({"unit_id": unit_id, "problem_id": pid, "passes": len(hs), "event_ids": ids})
    return out


# --- All rules ----------------------------------------------------------------------------

def evaluate(*, session: Session, plan_id: int, period: str, now: datetime) -> list[Finding]:
    """Every finding of the period: slow, not solving, shifting; each with its evidence."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"找不到编号为 {plan_id} 的计划。")
    p = parse_period(period)
    if now < p.start:
        raise InvalidInputError(f"{p.label}尚未开始，无法评价。")
    as_of = p.as_of(now)
    t = thresholds_of(plan)
    units = _units(session, plan_id)
    days = WorkdayIndex(p.first_day - timedelta(days=400), p.last_day + timedelta(days=1))
    found = _Collector(units)
    as_of_text = as_of.astimezone(SHANGHAI).strftime("%Y-%m-%d")

    # 推进速度慢
    for task in tasks_behind(session=session, plan_id=plan_id, as_of=as_of, behind_points=t["behind_points"]):
        item = {"kind": "task_progress", "task_id": task["task_id"], "task": task["name"], "measure": task["measure"],
                "target": task["target"], "done": task["done"], "expected": task["expected"],
                "behind_points": task["behind_points"], "as_of": as_of_text}
        for unit_id in dict.fromkeys(u for u, _part in task["units"]):
            found.add(unit_id, Rule.SLOW, "behind_plan",
                      f"承担的“{task['name']}”应完成{_pct(task['expected_share'])}，实际完成{_pct(task['done_share'])}，"
                      f"落后{task['behind_points']:g}个百分点", [item])
    for unit_id, missed in missed_report_weeks(session=session, plan_id=plan_id, start=p.start, as_of=as_of).items():
        if len(missed) >= t["missed_weekly_reports"]:
            found.add(unit_id, Rule.SLOW, "missed_reports", f"{len(missed)}周未报送工作进展", [
                {"kind": "missed_week", "week": f"{a.isocalendar().year}年第{a.isocalendar().week}周",
                 "from": a.isoformat(), "to": b.isoformat()} for a, b in missed])
    for unit_id, items in overdue_items(session=session, plan_id=plan_id, start=p.start, as_of=as_of).items():
        if len(items) >= t["overdue_items"]:
            probs = [i["problem_id"] for i in items if i["kind"] == "overdue_problem"]
            decs = [i["decision_id"] for i in items if i["kind"] == "overdue_decision"]
            what = "、".join(x for x in (f"问题{_ids(probs)}" if probs else "", f"议定事项{_ids(decs)}" if decs else "") if x)
            found.add(unit_id, Rule.SLOW, "overdue_items", f"{len(items)}项事项逾期未办结（{what}）", items)

    # 问题解决不积极、不明显
    for unit_id, c in resolution_counts(session=session, plan_id=plan_id, start=p.start, as_of=as_of).items():
        if c["owned"] and c["resolved"] / c["owned"] < t["resolved_share"]:
            ids = [pid for pid, _ in c["unresolved"]]
            found.add(unit_id, Rule.NOT_SOLVING, "low_resolution",
                      f"本期负责的{c['owned']}个问题仅办结{c['resolved']}个（{_pct(c['resolved'] / c['owned'])}），"
                      f"逾期未办结：问题{_ids(ids)}",
                      event_evidence(session=session, event_ids=[ev for _, ev in c["unresolved"]]))
    for unit_id, pairs in response_waits(session=session, plan_id=plan_id, start=p.start, as_of=as_of, days=days).items():
        median = weighted_median(pairs)
        if median is not None and median > t["median_accept_days"]:
            n = sum(k for _, k in pairs)
            found.add(unit_id, Rule.NOT_SOLVING, "slow_accept",
                      f"交办问题从收到到接收（或转交、退回）的时间中位数为{median:g}个工作日（共{n}次交办）",
                      [{"kind": "response_waits", "waits": sorted(pairs), "median": median}])
    spells = idle_spells(session=session, plan_id=plan_id, start=p.start, as_of=as_of, idle_days=t["idle_days"],
                         days=days)
    cited = event_evidence(session=session, event_ids=[i for s in spells for i in (s["event_id"], s["next_event_id"]) if i])
    by_id = {e["event_id"]: e for e in cited}
    for s in spells:
        tail = "至今无办理动作" if s["still_idle"] else "无任何办理动作"
        found.add(s["unit_id"], Rule.NOT_SOLVING, "idle", f"问题#{s['problem_id']}连续{s['workdays']}个工作日{tail}",
                  [by_id[i] for i in (s["event_id"], s["next_event_id"]) if i in by_id])

    # 推诿扯皮
    for b in boomerangs(session=session, plan_id=plan_id, start=p.start, as_of=as_of):
        how = "经联席会议办公室裁定由本单位负责" if b["ruled"] else "本单位最先转出"
        found.add(b["unit_id"], Rule.SHIFTING, "boomerang", f"问题#{b['problem_id']}转出后又转回（{how}）",
                  event_evidence(session=session, event_ids=b["event_ids"]))
    for d in declined_ruled_back(session=session, plan_id=plan_id, start=p.start, as_of=as_of):
        found.add(d["unit_id"], Rule.SHIFTING, "declined_ruled_back",
                  f"退回问题#{d['problem_id']}，经联席会议办公室裁定仍由本单位负责",
                  event_evidence(session=session, event_ids=d["event_ids"]))
    for r in passed_on(session=session, plan_id=plan_id, start=p.start, as_of=as_of, count=int(t["pass_on_count"])):
        found.add(r["unit_id"], Rule.SHIFTING, "passed_on",
                  f"问题#{r['problem_id']}连续转交{r['passes']}次无单位接收，本单位转交理由未获办公室认可",
                  event_evidence(session=session, event_ids=r["event_ids"]))
    return found.findings()


def findings_json(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Findings as plain data (for --json and the brief)."""
    return [f.to_dict() for f in findings]
