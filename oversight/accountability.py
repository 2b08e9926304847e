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

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, or_, select
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
from oversight import periods
from oversight.errors import InvalidInputError, NotFoundError
from oversight.periods import Period
from oversight.planfile import DEFAULT_THRESHOLDS
from oversight.rights import batch_progress
from oversight.sentences import evidence_sentence, unique_evidence
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
    K.RAISED: "提出",
    K.ASSIGNED: "交办",
    K.ACCEPTED: "接收",
    K.HANDED_OVER: "转交",
    K.DECLINED: "退回",
    K.RULED: "裁定",
    K.RESOLVED: "办结",
    K.CONFIRMED: "确认关闭",
    K.REOPENED: "重新办理",
    K.COMMENTED: "备注",
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


def parse_period(period: str) -> Period:
    """A rules period: a quarter ("2026Q1") or a half-year ("2026H1")."""
    return periods.parse_period(period, kinds=(periods.QUARTERLY, periods.HALFYEARLY))


def _local_midnight(day: date) -> datetime:
    return periods.local_midnight(day)


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
        extra = sum(1 for k in range(1, i - len(self._cum) + 2) if is_workday(self._days[-1] + timedelta(days=k)))
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
        return {
            "unit_id": self.unit_id,
            "unit": self.unit,
            "rule": self.rule,
            "rule_label": RULE_LABELS[self.rule],
            "bases": list(self.bases),
            "summary": self.summary,
            "evidence": list(self.evidence),
        }


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
        for f in self.items.values():  # an event cited by two bases of one finding is listed once
            f.evidence = [dict(e) for e in unique_evidence(f.evidence)]
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
        out.append(
            {
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
            }
        )
    return out


def evidence_line(item: dict[str, Any]) -> str:
    """One evidence item as one Chinese sentence (oversight.sentences; an unknown kind raises)."""
    return evidence_sentence(item)


# --- Shared SQL pieces ----------------------------------------------------------------


def _candidate_problems(plan_id: int, start: datetime, as_of: datetime) -> Any:
    """Problems that may have been open during [start, as_of] (a superset, from the
    problem rows; the events decide). A problem closed before `start` and not reopened
    since has closed_at < start; reopening clears closed_at."""
    return select(_P.c.id).where(
        _P.c.plan_id == plan_id,
        _P.c.created_at <= _at(as_of),
        or_(_P.c.closed_at.is_(None), _P.c.closed_at >= _at(start)),
    )


def _state_at(session: Session, plan_id: int, start: datetime, as_of: datetime) -> Any:
    """Per problem as of `as_of`: the owner unit and the event that made it owner, the kind
    and time of the last state-changing event, the deadline.

    One GROUP BY over the candidate problems' events (read in index order, no sort): a
    problem's events are appended as they happen, so within a problem the latest event is
    the one with the highest id (the domain writes them with `now`, in order)."""
    cand = _candidate_problems(plan_id, start, as_of)
    last = (
        select(
            _E.c.problem_id,
            func.max(_E.c.id).label("state_event_id"),
            func.max(case((_E.c.kind.in_(_OWNER_KINDS), _E.c.id))).label("owner_event_id"),
        )
        .where(_E.c.problem_id.in_(cand), _E.c.kind.in_(_STATE_KINDS), _E.c.at <= _at(as_of))
        .group_by(_E.c.problem_id)
    ).subquery()
    se, oe = _E.alias("se"), _E.alias("oe")
    return (
        select(
            last.c.problem_id,
            oe.c.to_unit_id.label("owner"),
            last.c.owner_event_id,
            se.c.kind.label("state_kind"),
            se.c.at.label("state_at"),
            _P.c.due_on,
            _P.c.text,
        )
        .join(se, se.c.id == last.c.state_event_id)
        .join(oe, oe.c.id == last.c.owner_event_id)
        .join(_P, _P.c.id == last.c.problem_id)
    ).subquery()


def _gaps(session: Session, plan_id: int, start: datetime, as_of: datetime) -> Any:
    """Each action event of a candidate problem with the next action after it (comments
    are not action): the time the holder (to_unit_id) had the ball."""
    cand = _candidate_problems(plan_id, start, as_of)
    # Ordered by time only, so the (problem_id, at) index gives the order without a sort;
    # events at the same instant (a ruling and its acceptance) leave a zero-length gap
    # whichever comes first.
    w = dict(partition_by=_E.c.problem_id, order_by=_E.c.at)
    return (
        select(
            _E.c.id,
            _E.c.problem_id,
            _E.c.kind,
            _E.c.to_unit_id,
            _E.c.at,
            func.lead(_E.c.at, type_=UTCDateTime()).over(**w).label("next_at"),
        ).where(_E.c.problem_id.in_(cand), _E.c.kind != K.COMMENTED, _E.c.at <= _at(as_of))
    ).subquery()


# --- Rule: slow (推进速度慢) ---------------------------------------------------------------


def tasks_behind(*, session: Session, plan_id: int, as_of: datetime, behind_points: float) -> list[dict[str, Any]]:
    """Tasks more than `behind_points` percentage points behind their schedule, with their units."""
    parts: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for task_id, unit_id, part in session.execute(
        select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.part)
        .join(Task, Task.id == TaskUnit.task_id)
        .where(Task.plan_id == plan_id)
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
            out.append(
                {
                    **row,
                    "done_share": done_share,
                    "behind_points": round(points, 1),
                    "units": parts.get(row["task_id"], []),
                }
            )
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


def missed_report_weeks(
    *, session: Session, plan_id: int, start: datetime, as_of: datetime
) -> dict[int, list[tuple[date, date]]]:
    """For each unit with a part in a task: the weeks of the window it filed no report in (one GROUP BY)."""
    first = start.astimezone(SHANGHAI).date()
    last = (as_of - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
    weeks = report_weeks(first, last)
    tasked = set(
        session.execute(
            select(TaskUnit.unit_id).join(Task, Task.id == TaskUnit.task_id).where(Task.plan_id == plan_id).distinct()
        ).scalars()
    )
    if not weeks or not tasked:
        return {}
    r = Report.__table__
    bucket = case(
        *[(r.c.created_at < _at(_local_midnight(sun + timedelta(days=1))), i) for i, (_, sun) in enumerate(weeks)],
        else_=None,
    )
    rows = session.execute(
        select(r.c.unit_id, bucket.label("week"))
        .where(
            r.c.plan_id == plan_id,
            r.c.created_at >= _at(_local_midnight(weeks[0][0])),
            r.c.created_at < _at(_local_midnight(weeks[-1][1] + timedelta(days=1))),
        )
        .group_by(r.c.unit_id, bucket)
    ).all()
    reported: dict[int, set[int]] = defaultdict(set)
    for unit_id, week in rows:
        if week is not None:
            reported[unit_id].add(int(week))
    return {u: [w for i, w in enumerate(weeks) if i not in reported.get(u, set())] for u in sorted(tasked)}


EXAMPLES = 5  # problems cited per unit and basis; the summary gives the full count


def problem_counts(
    *, session: Session, plan_id: int, start: datetime, as_of: datetime, examples: int = EXAMPLES
) -> dict[int, dict[str, Any]]:
    """Per owner unit as of `as_of` (one query): problems it owned in the window, how
    many it resolved, how many are overdue (unresolved past their deadline), and the
    first `examples` overdue ones.

    Counted as owned: problems it resolved in the window, and problems still unresolved
    past their deadline. Not counted: problems still within their time limit, and
    problems waiting for the office to rule on a decline (those are the office's move).
    Due on day D means done by the end of D."""
    today = as_of.astimezone(SHANGHAI).date()
    s = _state_at(session, plan_id, start, as_of)
    done = and_(s.c.state_kind.in_(_DONE_KINDS), s.c.state_at >= _at(start))
    late = and_(s.c.state_kind.not_in((*_DONE_KINDS, K.DECLINED)), s.c.due_on.is_not(None), s.c.due_on < today)
    is_done, is_late = case((done, 1), else_=0), case((late, 1), else_=0)
    # One pass: per owner the totals (window sums) on every row, and a rank among its late
    # problems; keep each owner's first row (for the totals) and its first few late ones.
    ranked = (
        select(
            s.c.owner,
            s.c.problem_id,
            s.c.owner_event_id,
            s.c.due_on,
            s.c.text,
            is_late.label("late"),
            func.sum(is_done).over(partition_by=s.c.owner).label("n_done"),
            func.sum(is_late).over(partition_by=s.c.owner).label("n_late"),
            func.row_number()
            .over(partition_by=(s.c.owner, is_late), order_by=(s.c.due_on, s.c.problem_id))
            .label("rn"),
        ).where(or_(done, late))
    ).subquery()
    out: dict[int, dict[str, Any]] = {}
    for owner, pid, ev, due, text, is_l, n_done, n_late, _rn in session.execute(
        select(ranked)
        .where(or_(ranked.c.rn == 1, and_(ranked.c.late == 1, ranked.c.rn <= examples)))
        .order_by(ranked.c.owner, ranked.c.late.desc(), ranked.c.rn)
    ).all():
        entry = out.setdefault(
            owner,
            {
                "owned": int(n_done or 0) + int(n_late or 0),
                "resolved": int(n_done or 0),
                "overdue": int(n_late or 0),
                "examples": [],
            },
        )
        if is_l:
            entry["examples"].append(
                {"problem_id": pid, "event_id": ev, "due_on": _as_date(due).isoformat(), "text": text[:60]}
            )
    return out


def overdue_items(
    *,
    session: Session,
    plan_id: int,
    start: datetime,
    as_of: datetime,
    examples: int = EXAMPLES,
    counts: dict[int, dict[str, Any]] | None = None,
) -> dict[int, dict[str, Any]]:
    """Per unit: how many problems it held open past their deadline as of `as_of` (from the
    events) and agreed matters (议定事项) not done by theirs, with the first few of each.
    `counts` is problem_counts for the same window, if already computed."""
    today = as_of.astimezone(SHANGHAI).date()
    out: dict[int, dict[str, Any]] = defaultdict(lambda: {"count": 0, "items": []})
    if counts is None:
        counts = problem_counts(session=session, plan_id=plan_id, start=start, as_of=as_of, examples=examples)
    for owner, c in counts.items():
        if c["overdue"]:
            out[owner]["count"] += c["overdue"]
            out[owner]["items"] += [{"kind": "overdue_problem", **e} for e in c["examples"]]
    d = Decision.__table__
    late = and_(
        d.c.plan_id == plan_id,
        d.c.owner_unit_id.is_not(None),
        d.c.due_on.is_not(None),
        d.c.due_on < today,
        d.c.created_at <= _at(as_of),
        or_(d.c.done_at.is_(None), d.c.done_at > _at(as_of)),
    )
    ranked = (
        select(
            d.c.id,
            d.c.owner_unit_id,
            d.c.due_on,
            d.c.text,
            func.row_number().over(partition_by=d.c.owner_unit_id, order_by=(d.c.due_on, d.c.id)).label("rn"),
            func.count().over(partition_by=d.c.owner_unit_id).label("n"),
        ).where(late)
    ).subquery()
    for did, owner, due, text, _, n in session.execute(
        select(ranked).where(ranked.c.rn <= examples).order_by(ranked.c.owner_unit_id, ranked.c.rn)
    ).all():
        if not any(i["kind"] == "overdue_decision" for i in out[owner]["items"]):
            out[owner]["count"] += int(n)
        out[owner]["items"].append(
            {"kind": "overdue_decision", "decision_id": did, "text": text[:60], "due_on": _as_date(due).isoformat()}
        )
    return dict(out)


# --- Rule: not solving (问题解决不积极、不明显) -----------------------------------------------


def resolution_counts(*, session: Session, plan_id: int, start: datetime, as_of: datetime) -> dict[int, dict[str, Any]]:
    """Per owner unit: problems owned in the window and resolved (see problem_counts)."""
    return problem_counts(session=session, plan_id=plan_id, start=start, as_of=as_of)


@dataclass
class SpellStats:
    """Streamed aggregates of the spells a unit had the ball: waits for a first response by
    working days, and spells of `idle_days` or more (count, the longest few)."""

    waits: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    idle_count: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    idle_top: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))


def spell_stats(
    *, session: Session, plan_id: int, start: datetime, as_of: datetime, idle_days: float, examples: int = EXAMPLES
) -> SpellStats:
    """The spells a unit had the ball (after an event it must act on) that end in the window
    or are still running, grouped in SQL by (unit, waiting for a first response?, first
    day, last day) and streamed: memory stays bounded by units × working-day lengths,
    however many events there are."""
    g = _gaps(session, plan_id, start, as_of)
    end_at = func.coalesce(g.c.next_at, _at(as_of))
    d0, d1 = _local_day(session, g.c.at), _local_day(session, end_at)
    waiting = case((g.c.kind.in_(_WAITING_FOR_RESPONSE), 1), else_=0)
    oldest = session.execute(
        select(func.min(_P.c.created_at)).where(_P.c.id.in_(_candidate_problems(plan_id, start, as_of)))
    ).scalar()
    first = start.astimezone(SHANGHAI).date()
    if oldest is not None:
        first = min(first, (oldest if isinstance(oldest, datetime) else datetime.fromisoformat(str(oldest))).date())
    days = WorkdayIndex(first - timedelta(days=1), as_of.astimezone(SHANGHAI).date() + timedelta(days=1))
    stats = SpellStats()
    result = session.execute(
        select(g.c.to_unit_id, waiting, d0, d1, func.count(), func.max(g.c.id))
        .where(g.c.kind.in_(_HOLDER_MUST_ACT), g.c.to_unit_id.is_not(None), end_at > _at(start))
        .group_by(g.c.to_unit_id, waiting, d0, d1)
        .execution_options(stream_results=True, yield_per=2000)
    )
    for unit_id, is_waiting, a, b, n, example in result:
        wd = days.between(_as_date(a), _as_date(b))
        if is_waiting:
            stats.waits[unit_id][wd] += int(n)
        if wd >= idle_days:
            stats.idle_count[unit_id] += int(n)
            top = stats.idle_top[unit_id]
            top.append((wd, int(example)))
            if len(top) > examples:
                top.sort(key=lambda x: (-x[0], x[1]))
                del top[examples:]
    return stats


def response_waits(
    *, session: Session, plan_id: int, start: datetime, as_of: datetime, stats: SpellStats | None = None
) -> dict[int, list[tuple[int, int]]]:
    """Per unit: (working days, how many) from a problem being assigned or handed to it until
    its first response (accept, hand on, decline) or a ruling; a wait still open at
    `as_of` counts up to `as_of`. Only waits that overlap the window."""
    if stats is None:
        stats = spell_stats(session=session, plan_id=plan_id, start=start, as_of=as_of, idle_days=float("inf"))
    return {u: sorted(d.items()) for u, d in stats.waits.items()}


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


def idle_spells(
    *,
    session: Session,
    plan_id: int,
    start: datetime,
    as_of: datetime,
    idle_days: float,
    examples: int = EXAMPLES,
    stats: SpellStats | None = None,
) -> dict[int, dict[str, Any]]:
    """Per unit: how many times it held a problem it had to act on for `idle_days` working
    days or more with no action (comments do not count), ending in the window or still
    running at `as_of`; with the longest few (their event and the next action)."""
    if stats is None:
        stats = spell_stats(
            session=session, plan_id=plan_id, start=start, as_of=as_of, idle_days=idle_days, examples=examples
        )
    chosen = {u: sorted(v, key=lambda x: (-x[0], x[1]))[:examples] for u, v in stats.idle_top.items()}
    ids = [ex for v in chosen.values() for _, ex in v]
    nxt: dict[int, tuple[int, int | None]] = {}
    if ids:
        e, n = _E.alias("e"), _E.alias("n")
        next_id = (
            select(n.c.id)
            .where(
                n.c.problem_id == e.c.problem_id,
                n.c.kind != K.COMMENTED,
                n.c.at <= _at(as_of),
                or_(n.c.at > e.c.at, and_(n.c.at == e.c.at, n.c.id > e.c.id)),
            )
            .order_by(n.c.at, n.c.id)
            .limit(1)
            .correlate(e)
            .scalar_subquery()
        )
        for event_id, pid, following_id in session.execute(
            select(e.c.id, e.c.problem_id, next_id).where(e.c.id.in_(ids))
        ).all():
            nxt[event_id] = (pid, following_id)
    out: dict[int, dict[str, Any]] = {}
    for unit_id, v in chosen.items():
        out[unit_id] = {
            "count": stats.idle_count[unit_id],
            "spells": [
                {
                    "problem_id": nxt[ex][0],
                    "event_id": ex,
                    "next_event_id": nxt[ex][1],
                    "workdays": wd,
                    "still_idle": nxt[ex][1] is None,
                }
                for wd, ex in v
                if ex in nxt
            ],
        }
    return out


# --- Rule: shifting (推诿扯皮) -------------------------------------------------------------


def _top(session: Session, blamed: Any, examples: int, *extra: str) -> dict[int, dict[str, Any]]:
    """Per blamed unit: how many, and the first `examples` problems (one windowed query).
    `blamed` has columns unit_id, problem_id and `extra`."""
    ranked = (
        select(
            blamed,
            func.row_number().over(partition_by=blamed.c.unit_id, order_by=blamed.c.problem_id).label("rn"),
            func.count().over(partition_by=blamed.c.unit_id).label("n"),
        )
    ).subquery()
    out: dict[int, dict[str, Any]] = {}
    for row in session.execute(
        select(ranked).where(ranked.c.rn <= examples).order_by(ranked.c.unit_id, ranked.c.rn)
    ).mappings():
        entry = out.setdefault(row["unit_id"], {"count": int(row["n"]), "examples": []})
        entry["examples"].append({"problem_id": row["problem_id"], **{k: row[k] for k in extra}})
    return out


def _cited_events(
    session: Session, out: dict[int, dict[str, Any]], as_of: datetime, kinds: Sequence[str]
) -> dict[int, dict[str, Any]]:
    """Fill each example with the ids of its problem's events of `kinds` up to `as_of` (one query)."""
    pids = {e["problem_id"] for v in out.values() for e in v["examples"]}
    if not pids:
        return out
    by_problem: dict[int, list[int]] = defaultdict(list)
    for pid, event_id in session.execute(
        select(_E.c.problem_id, _E.c.id)
        .where(_E.c.problem_id.in_(sorted(pids)), _E.c.kind.in_(kinds), _E.c.at <= _at(as_of))
        .order_by(_E.c.at, _E.c.id)
    ).all():
        by_problem[pid].append(event_id)
    for v in out.values():
        for e in v["examples"]:
            e["event_ids"] = e.get("event_ids") or by_problem.get(e["problem_id"], [])
    return out


def _not_accepted(column: Any) -> Any:
    return or_(column.is_(None), column.is_(False))


def boomerangs(
    *, session: Session, plan_id: int, start: datetime, as_of: datetime, examples: int = EXAMPLES
) -> dict[int, dict[str, Any]]:
    """Problems handed away by a unit that came back to it (A→B→A, by a hand-over or a
    ruling) within the window. Blamed on the unit the office finally ruled responsible,
    or, if the office never ruled, on the unit that first handed it away; never on a
    unit whose every hand-over of the problem had a reason the office accepted, and not
    at all when the office ruled it to a unit that never passed it on.
    Per blamed unit: the count and the first few problems with their events."""
    h, r = _E.alias("h"), _E.alias("r")
    found = (
        select(r.c.problem_id)
        .distinct()
        .join(_P, _P.c.id == r.c.problem_id)
        .join(
            h,
            and_(
                h.c.problem_id == r.c.problem_id,
                h.c.kind == K.HANDED_OVER,
                h.c.from_unit_id == r.c.to_unit_id,
                or_(h.c.at < r.c.at, and_(h.c.at == r.c.at, h.c.id < r.c.id)),
            ),
        )
        .where(
            _P.c.plan_id == plan_id, r.c.kind.in_((K.HANDED_OVER, K.RULED)), r.c.at >= _at(start), r.c.at <= _at(as_of)
        )
    ).subquery()
    ends = (
        select(
            _E.c.problem_id,
            func.max(case((_E.c.kind == K.RULED, _E.c.id))).label("ruling_id"),
            func.min(case((_E.c.kind == K.HANDED_OVER, _E.c.id))).label("first_id"),
        )
        .where(
            _E.c.problem_id.in_(select(found.c.problem_id)),
            _E.c.kind.in_((K.RULED, K.HANDED_OVER)),
            _E.c.at <= _at(as_of),
        )
        .group_by(_E.c.problem_id)
    ).subquery()
    ruling, first, x = _E.alias("ruling"), _E.alias("first"), _E.alias("x")
    unit = func.coalesce(ruling.c.to_unit_id, first.c.from_unit_id)
    blamed = (
        select(unit.label("unit_id"), ends.c.problem_id, ruling.c.id.is_not(None).label("ruled"))
        .select_from(ends)
        .join(first, first.c.id == ends.c.first_id)
        .outerjoin(ruling, ruling.c.id == ends.c.ruling_id)
        .where(
            select(x.c.id)
            .where(
                x.c.problem_id == ends.c.problem_id,
                x.c.kind == K.HANDED_OVER,
                x.c.from_unit_id == unit,
                x.c.at <= _at(as_of),
                _not_accepted(x.c.reason_accepted),
            )
            .exists()
        )
    ).subquery()
    out = _top(session, blamed, examples, "ruled")
    return _cited_events(session, out, as_of, (K.ASSIGNED, K.HANDED_OVER, K.RULED, K.DECLINED))


def declined_ruled_back(
    *, session: Session, plan_id: int, start: datetime, as_of: datetime, examples: int = EXAMPLES
) -> dict[int, dict[str, Any]]:
    """Problems a unit declined (退回) that the office then ruled back to it, ruled in the
    window. Per unit: the count and the first few with the decline and the ruling."""
    d, r = _E.alias("d"), _E.alias("r")
    blamed = (
        select(
            r.c.to_unit_id.label("unit_id"),
            r.c.problem_id,
            func.max(d.c.id).label("decline_id"),
            r.c.id.label("ruling_id"),
        )
        .join(_P, _P.c.id == r.c.problem_id)
        .join(
            d,
            and_(
                d.c.problem_id == r.c.problem_id,
                d.c.kind == K.DECLINED,
                d.c.from_unit_id == r.c.to_unit_id,
                d.c.at <= r.c.at,
                d.c.id < r.c.id,
            ),
        )
        .where(
            _P.c.plan_id == plan_id,
            r.c.kind == K.RULED,
            r.c.from_unit_id == r.c.to_unit_id,
            r.c.at >= _at(start),
            r.c.at <= _at(as_of),
        )
        .group_by(r.c.to_unit_id, r.c.problem_id, r.c.id)
    ).subquery()
    out = _top(session, blamed, examples, "decline_id", "ruling_id")
    for v in out.values():
        for e in v["examples"]:
            e["event_ids"] = [e.pop("decline_id"), e.pop("ruling_id")]
    return out


def passed_on(
    *, session: Session, plan_id: int, start: datetime, as_of: datetime, count: int, examples: int = EXAMPLES
) -> dict[int, dict[str, Any]]:
    """Runs of `count` or more hand-overs of a problem with nobody accepting in between (an
    acceptance or a ruling ends a run), with a hand-over in the window. Each unit that
    passed it on in the run without a reason the office accepted is named.
    Per unit: the count of such problems and the first few with their hand-overs."""
    active = (
        select(_E.c.problem_id)
        .join(_P, _P.c.id == _E.c.problem_id)
        .where(_P.c.plan_id == plan_id, _E.c.kind == K.HANDED_OVER, _E.c.at >= _at(start), _E.c.at <= _at(as_of))
    )
    ends_run = case((_E.c.kind.in_((K.ACCEPTED, K.RULED)), 1), else_=0)
    ev = (
        select(
            _E.c.id,
            _E.c.problem_id,
            _E.c.kind,
            _E.c.from_unit_id,
            _E.c.reason_accepted,
            _E.c.at,
            func.sum(ends_run).over(partition_by=_E.c.problem_id, order_by=(_E.c.at, _E.c.id)).label("seg"),
        ).where(_E.c.problem_id.in_(active), _E.c.kind.in_((K.HANDED_OVER, K.ACCEPTED, K.RULED)), _E.c.at <= _at(as_of))
    ).cte("handoffs")
    runs = (
        select(ev.c.problem_id, ev.c.seg, func.count().label("passes"))
        .where(ev.c.kind == K.HANDED_OVER)
        .group_by(ev.c.problem_id, ev.c.seg)
        .having(and_(func.count() >= count, func.max(ev.c.at) >= _at(start)))
    ).subquery()
    blamed = (
        select(ev.c.from_unit_id.label("unit_id"), ev.c.problem_id, func.max(runs.c.passes).label("passes"))
        .join(runs, and_(runs.c.problem_id == ev.c.problem_id, runs.c.seg == ev.c.seg))
        .where(ev.c.kind == K.HANDED_OVER, _not_accepted(ev.c.reason_accepted))
        .group_by(ev.c.from_unit_id, ev.c.problem_id)
    ).subquery()
    out = _top(session, blamed, examples, "passes")
    return _cited_events(session, out, as_of, (K.HANDED_OVER,))


# --- All rules ----------------------------------------------------------------------------


def evaluate(*, session: Session, plan_id: int, period: str, now: datetime) -> list[Finding]:
    """Every finding of the period: slow, not solving, shifting; each with its evidence
    (at most EXAMPLES problems cited per unit and basis; the summaries give full counts)."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"找不到编号为 {plan_id} 的计划。")
    p = parse_period(period)
    if now < p.start:
        raise InvalidInputError(f"{p.label}尚未开始，无法评价。")
    as_of = p.as_of(now)
    t = thresholds_of(plan)
    units = _units(session, plan_id)
    found = _Collector(units)
    as_of_text = as_of.astimezone(SHANGHAI).strftime("%Y-%m-%d")
    # (unit, rule, basis, reason, [evidence items or event ids]) — event ids are resolved in one query at the end.
    pending: list[tuple[int, str, str, str, list[Any]]] = []

    # 推进速度慢
    for task in tasks_behind(session=session, plan_id=plan_id, as_of=as_of, behind_points=t["behind_points"]):
        item = {
            "kind": "task_progress",
            "task_id": task["task_id"],
            "task": task["name"],
            "measure": task["measure"],
            "target": task["target"],
            "done": task["done"],
            "expected": task["expected"],
            "behind_points": task["behind_points"],
            "as_of": as_of_text,
        }
        for unit_id in dict.fromkeys(u for u, _part in task["units"]):
            pending.append(
                (
                    unit_id,
                    Rule.SLOW,
                    "behind_plan",
                    f"承担的“{task['name']}”应完成{_pct(task['expected_share'])}，实际完成{_pct(task['done_share'])}，"
                    f"落后{task['behind_points']:g}个百分点",
                    [item],
                )
            )
    for unit_id, missed in missed_report_weeks(session=session, plan_id=plan_id, start=p.start, as_of=as_of).items():
        if len(missed) >= t["missed_weekly_reports"]:
            pending.append(
                (
                    unit_id,
                    Rule.SLOW,
                    "missed_reports",
                    f"{len(missed)}周未报送工作进展",
                    [
                        {
                            "kind": "missed_week",
                            "week": f"{a.isocalendar().year}年第{a.isocalendar().week}周",
                            "from": a.isoformat(),
                            "to": b.isoformat(),
                        }
                        for a, b in missed
                    ],
                )
            )
    counts = problem_counts(session=session, plan_id=plan_id, start=p.start, as_of=as_of)
    for unit_id, o in overdue_items(
        session=session, plan_id=plan_id, start=p.start, as_of=as_of, counts=counts
    ).items():
        if o["count"] >= t["overdue_items"]:
            probs = [i["problem_id"] for i in o["items"] if i["kind"] == "overdue_problem"]
            decs = [i["decision_id"] for i in o["items"] if i["kind"] == "overdue_decision"]
            what = "、".join(
                x for x in (f"问题{_ids(probs)}" if probs else "", f"议定事项{_ids(decs)}" if decs else "") if x
            )
            more = "等" if len(o["items"]) < o["count"] else ""
            pending.append(
                (
                    unit_id,
                    Rule.SLOW,
                    "overdue_items",
                    f"{o['count']}项事项逾期未办结（{what}{more}）",
                    [{k: v for k, v in i.items() if k != "event_id"} for i in o["items"]],
                )
            )

    # 问题解决不积极、不明显
    for unit_id, c in counts.items():
        if c["owned"] and c["resolved"] / c["owned"] < t["resolved_share"]:
            ids = [e["problem_id"] for e in c["examples"]]
            more = "等" if c["overdue"] > len(ids) else ""
            pending.append(
                (
                    unit_id,
                    Rule.NOT_SOLVING,
                    "low_resolution",
                    f"本期负责的{c['owned']}个问题仅办结{c['resolved']}个（{_pct(c['resolved'] / c['owned'])}），"
                    f"逾期未办结{c['overdue']}个（问题{_ids(ids)}{more}）",
                    [e["event_id"] for e in c["examples"]],
                )
            )
    spells = spell_stats(session=session, plan_id=plan_id, start=p.start, as_of=as_of, idle_days=t["idle_days"])
    for unit_id, pairs in response_waits(
        session=session, plan_id=plan_id, start=p.start, as_of=as_of, stats=spells
    ).items():
        median = weighted_median(pairs)
        if median is not None and median > t["median_accept_days"]:
            n = sum(k for _, k in pairs)
            pending.append(
                (
                    unit_id,
                    Rule.NOT_SOLVING,
                    "slow_accept",
                    f"交办问题从收到到接收（或转交、退回）的时间中位数为{median:g}个工作日（共{n}次交办）",
                    [{"kind": "response_waits", "waits": sorted(pairs), "median": median}],
                )
            )
    for unit_id, idle in idle_spells(
        session=session, plan_id=plan_id, start=p.start, as_of=as_of, idle_days=t["idle_days"], stats=spells
    ).items():
        for sp in idle["spells"][:1]:
            tail = "至今无办理动作" if sp["still_idle"] else "无任何办理动作"
            others = (
                f"，另有{idle['count'] - 1}次问题办理停滞{t['idle_days']:g}个工作日以上" if idle["count"] > 1 else ""
            )
            pending.append(
                (
                    unit_id,
                    Rule.NOT_SOLVING,
                    "idle",
                    f"问题#{sp['problem_id']}连续{sp['workdays']}个工作日{tail}{others}",
                    [i for x in idle["spells"] for i in (x["event_id"], x["next_event_id"]) if i],
                )
            )

    # 推诿扯皮
    def shifting(found_: dict[int, dict[str, Any]], basis: str, text: Any) -> None:
        for unit_id, v in found_.items():
            pids = [e["problem_id"] for e in v["examples"]]
            shown = _ids(pids) + (f"等{v['count']}个问题" if v["count"] > len(pids) else "")
            pending.append(
                (
                    unit_id,
                    Rule.SHIFTING,
                    basis,
                    text(shown, v["examples"]),
                    [i for e in v["examples"] for i in e["event_ids"]],
                )
            )

    shifting(
        boomerangs(session=session, plan_id=plan_id, start=p.start, as_of=as_of),
        "boomerang",
        lambda shown, ex: (
            f"问题{shown}转出后又转回"
            f"（{'经联席会议办公室裁定由本单位负责' if any(e['ruled'] for e in ex) else '本单位最先转出'}）"
        ),
    )
    shifting(
        declined_ruled_back(session=session, plan_id=plan_id, start=p.start, as_of=as_of),
        "declined_ruled_back",
        lambda shown, ex: f"退回问题{shown}，经联席会议办公室裁定仍由本单位负责",
    )
    shifting(
        passed_on(session=session, plan_id=plan_id, start=p.start, as_of=as_of, count=int(t["pass_on_count"])),
        "passed_on",
        lambda shown, ex: (
            f"问题{shown}连续转交{max(e['passes'] for e in ex)}次无单位接收，本单位转交理由未获办公室认可"
        ),
    )

    ids = [i for *_, ev in pending for i in ev if isinstance(i, int)]
    events = {e["event_id"]: e for e in event_evidence(session=session, event_ids=ids)}
    for unit_id, rule, basis, reason, ev in pending:
        items = [events[i] for i in ev if isinstance(i, int) and i in events] + [i for i in ev if isinstance(i, dict)]
        found.add(unit_id, rule, basis, reason, items)
    return found.findings()


def findings_json(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Findings as plain data (for --json and the brief)."""
    return [f.to_dict() for f in findings]
