"""The product's measures, each defined once: the brief, the notice rules, the review, the
worker's reminders and the bot all count with these functions.

- Reporting weeks (`reporting_weeks`): the Monday–Sunday weeks overlapping a span, clipped to
  it; a week (or the part of it inside the span) with no working day, by the one calendar in
  oversight.workdays, is not a reporting week; a partial week at the span's edge is one when
  its part inside the span has a working day. A week is *due* once it has ended (`due_weeks`).
- Accountable from (`accountable_from`): a unit answers for a problem, an item or a task's lag
  only from the first working day on which it had a member in the system, and never before the
  plan's tracking start (`tracking_since`: the plan file's value, else the day the plan was
  first loaded). A unit with no member yet answers for nothing.
- Reporting accountable from (`reporting_accountable_from`): a unit answers for a reporting
  week only from the first working day on which it had a member who files weekly progress
  (`REPORTING_ROLES`: a department contact), not before the tracking start; a unit whose
  members are only leaders, the office or the convener is not asked to report (不参评).
- On-time rate (`Reporting.rate`): due weeks with a report / due weeks (None with none due).
- Time to accept (`response_waits`, `weighted_median`): working days from a problem being
  assigned or handed to a unit until its first response (accept, hand on, decline) or a ruling.
- Overdue (`problem_counts`, `overdue_items`): problems unresolved past their deadline and
  agreed matters not done by theirs, as of a moment.
- Idle (`spell_stats`, `idle_spells`): spells of `idle_days` working days or more in which the
  holder of a problem took no action.
- Expected by now (`progress_by_now`, `tasks_behind`): a task's share the
  plan's timeline expects done at a moment, against the share done.
- Resolution (办结, `resolutions`): a problem is 办结 in a window when, at the window's end (or
  the as-of moment if earlier), it stands resolved or confirmed and the resolution that led there
  (its last RESOLVED event by then) fell inside the window; it is credited to the unit that
  resolved it (that event's to_unit_id). A resolution reopened before that moment is not 办结; a
  problem resolved in an earlier window and confirmed in this one is that earlier window's. In an
  office's words: 办结指期末处于已办结状态、且于本期办结的问题.
- Resolution rate (`problem_counts`): of the problems a unit owned in the window (those 办结 by
  it, and those unresolved past their deadline), the share 办结.

Everything is computed from the event history in SQL; Python turns calendar days into
working days.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Date, Integer, and_, case, false, func, literal, or_, select, true
from sqlmodel import Session, col

from models import (
    AuditLog,
    Decision,
    Member,
    Plan,
    Problem,
    ProblemEvent,
    ProblemEventKind,
    ProblemProjection,
    ProblemSpell,
    Report,
    Right,
    RightBatch,
    Role,
    Task,
    TaskUnit,
)
from models.base import UTCDateTime, row_id
from models.db import table_of
from oversight.dates import local_day, local_zone
from oversight.periods import Period, local_midnight
from oversight.rights import batch_progress
from oversight.workdays import is_workday, workdays_between

K = ProblemEventKind

# Events after which the holder (to_unit_id) must act next; comments are never action.
_HOLDER_MUST_ACT = (K.ASSIGNED, K.HANDED_OVER, K.ACCEPTED, K.REOPENED, K.RULED)
_WAITING_FOR_RESPONSE = (K.ASSIGNED, K.HANDED_OVER)
_STATE_KINDS = (K.ASSIGNED, K.ACCEPTED, K.HANDED_OVER, K.DECLINED, K.RULED, K.RESOLVED, K.CONFIRMED, K.REOPENED)
_OWNER_KINDS = (K.ASSIGNED, K.HANDED_OVER, K.RULED)
_DONE_KINDS = (K.RESOLVED, K.CONFIRMED)

_E = table_of(ProblemEvent)
_PP = table_of(ProblemProjection)
_SP = table_of(ProblemSpell)
_P = table_of(Problem)

EXAMPLES = 5  # problems cited per unit and basis; the summary gives the full count
CITE_CAP = 10  # record ids a figure keeps for citing


# --- Reporting weeks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """A reporting week: its days inside the span counted (first..last, inclusive)."""

    first: date
    last: date
    workdays: int

    @property
    def monday(self) -> date:
        return self.first - timedelta(days=self.first.weekday())

    @property
    def key(self) -> str:
        """The ISO week key (2026-W08), as the worker's weekly runs name it."""
        iso = self.monday.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"

    @property
    def label(self) -> str:
        """2026年第8周."""
        iso = self.monday.isocalendar()
        return f"{iso.year}年第{iso.week}周"

    @property
    def start(self) -> datetime:
        return local_midnight(self.first)

    @property
    def end(self) -> datetime:
        """The first instant after the week's last counted day: a report is due before it."""
        return local_midnight(self.last + timedelta(days=1))


def _workdays_in(first: date, last: date) -> int:
    return sum(1 for k in range((last - first).days + 1) if is_workday(first + timedelta(days=k)))


def reporting_weeks(first: date, last: date) -> list[Week]:
    """The reporting weeks of [first, last]: Monday–Sunday weeks clipped to the span, each with
    at least one working day in its clipped part (a holiday week is not one)."""
    weeks = []
    day = first
    while day <= last:
        end = min(day + timedelta(days=6 - day.weekday()), last)
        n = _workdays_in(day, end)
        if n:
            weeks.append(Week(day, end, n))
        day = end + timedelta(days=1)
    return weeks


def week_of(day: date) -> Week | None:
    """The whole Monday–Sunday week containing `day` as a reporting week, or None when it has
    no working day (nobody is asked to report in it)."""
    monday = day - timedelta(days=day.weekday())
    weeks = reporting_weeks(monday, monday + timedelta(days=6))
    return weeks[0] if weeks else None


def due_weeks(period: Period, as_of: datetime, since: date | None = None) -> list[Week]:
    """The period's reporting weeks that have ended by `as_of`, counted from `since` (a unit's
    accountable-from day) when that is later than the period's first day."""
    first = max(period.first_day, since) if since is not None else period.first_day
    return [w for w in reporting_weeks(first, period.last_day) if w.end <= as_of]


def reported_weeks(
    session: Session, plan_id: int, weeks: Sequence[Week], *, column: Any, where: Any = None
) -> dict[int, set[date]]:
    """Per value of `column` (Report.unit_id or Report.member_id): the Mondays of the `weeks`
    it filed a report in (one GROUP BY over the reports inside the weeks)."""
    if not weeks:
        return {}
    r = table_of(Report)
    colx = r.c[column.key]
    ordered = sorted(weeks, key=lambda w: w.first)
    # One comparison per boundary, in order (a CASE of ranges would test two per week): a report
    # in a gap between weeks (a holiday week) falls in no week (-1).
    whens: list[tuple[Any, int]] = []
    for i, w in enumerate(ordered):
        if i and w.start > ordered[i - 1].end:
            whens.append((r.c.created_at < sql_moment(w.start), -1))
        whens.append((r.c.created_at < sql_moment(w.end), i))
    bucket = case(*whens, else_=None)
    stmt = (
        select(colx, bucket)
        .where(
            r.c.plan_id == plan_id,
            colx.is_not(None),
            r.c.created_at >= sql_moment(ordered[0].start),
            r.c.created_at < sql_moment(ordered[-1].end),
        )
        .group_by(colx, bucket)
    )
    if where is not None:
        stmt = stmt.where(where)
    out: dict[int, set[date]] = defaultdict(set)
    for key, i in session.execute(stmt).all():
        if i is not None and int(i) >= 0:
            out[key].add(ordered[int(i)].monday)
    return dict(out)


@dataclass(frozen=True)
class Reporting:
    """One unit's (or member's) weekly reporting over a period as of a moment."""

    since: date | None  # accountable from; None: never had a member, answers for nothing
    due: tuple[Week, ...]
    reported: tuple[Week, ...]

    @property
    def missed(self) -> tuple[Week, ...]:
        done = {w.monday for w in self.reported}
        return tuple(w for w in self.due if w.monday not in done)

    @property
    def rate(self) -> float | None:
        """On-time rate: due weeks with a report / due weeks; None when no week was due."""
        return len(self.reported) / len(self.due) if self.due else None


def tasked_units(session: Session, plan_id: int) -> set[int]:
    """Units with a part in some task of the plan: the ones asked to report every week."""
    return set(
        session.execute(
            select(col(TaskUnit.unit_id))
            .join(Task, col(Task.id) == col(TaskUnit.task_id))
            .where(col(Task.plan_id) == plan_id)
            .distinct()
        ).scalars()
    )


def _reporting(
    period: Period, as_of: datetime, since: dict[int, date], reported: dict[int, set[date]], keys: Iterable[int]
) -> dict[int, Reporting]:
    out = {}
    for key in sorted(keys):
        start = since.get(key)
        due = tuple(due_weeks(period, as_of, start)) if start is not None else ()
        got = reported.get(key, set())
        out[key] = Reporting(since=start, due=due, reported=tuple(w for w in due if w.monday in got))
    return out


def unit_reporting(*, session: Session, plan_id: int, period: Period, as_of: datetime) -> dict[int, Reporting]:
    """Per tasked unit: the weeks it had to report in (from when it had someone who files weekly
    progress, reporting_accountable_from) and those it did; since None: it never had one."""
    since = reporting_accountable_from(session=session, plan_id=plan_id)
    reported = reported_weeks(session, plan_id, due_weeks(period, as_of), column=Report.unit_id)
    return _reporting(period, as_of, since, reported, tasked_units(session, plan_id))


# Who must file weekly progress (domain: the department contacts, 部门联络员). A leader, the office
# or the convener is not asked to, so is neither reminded nor scored on 进展报送, and a unit with
# only such members is not asked either (reporting_accountable_from). Who *may* file a report is
# another list: oversight.reports.MAY_REPORT_ROLES.
REPORTING_ROLES = (Role.CONTACT,)


def reports_weekly(member: Member) -> bool:
    """Whether `member` is one of those who must file weekly progress (REPORTING_ROLES)."""
    return member.role in REPORTING_ROLES


def member_reporting(
    *, session: Session, plan_id: int, period: Period, as_of: datetime, members: Iterable[Member]
) -> dict[int, Reporting]:
    """Per member (a zone leader reports in person): the same, from the member's own start."""
    people = {m.id: m for m in members if m.id is not None}
    start = tracking_since(session=session, plan_id=plan_id)
    since = {k: first_workday_from(max(local_day(m.joined_at), start)) for k, m in people.items()}
    reported = reported_weeks(session, plan_id, due_weeks(period, as_of), column=Report.member_id)
    return _reporting(period, as_of, since, reported, people)


# --- Accountable from ------------------------------------------------------------------------

# Units that run the mechanism rather than answer to it: the office (联席会议办公室, which issues the
# notices and the 督办单) and the government (the convener). They are named by no notice, scored by
# no review and sent no 督办单; what they hold still counts in the brief's figures.
EXEMPT_UNIT_KINDS = ("office", "government")


ZONE_LEADER_ASSIGNED = "zone.leader_assigned"  # the audit action of a zone put in a leader's charge


def first_workday_from(day: date) -> date:
    """`day` if it is a working day, else the next working day."""
    for k in range(400):
        if is_workday(day + timedelta(days=k)):
            return day + timedelta(days=k)
    return day  # no working day in 400 days: a calendar nobody could work by; count from `day`


def tracking_since(*, session: Session, plan_id: int) -> date:
    """The plan's tracking start: the plan file's tracking_since, else the day it was first loaded."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        return date.min
    if plan.tracking_since is not None:
        return plan.tracking_since
    return local_day(aware_utc(plan.loaded_at))


def accountable_from(*, session: Session, plan_id: int) -> dict[int, date]:
    """Per unit that has had a member: the first working day on which it had one, not before
    the plan's tracking start. Units never joined by anyone are absent (accountable for nothing).
    For problems, agreed matters and task lag; weekly reporting: reporting_accountable_from."""
    return _first_member_day(session, plan_id, roles=None)


def reporting_accountable_from(*, session: Session, plan_id: int) -> dict[int, date]:
    """Per unit that has had a member who files weekly progress (REPORTING_ROLES): the first
    working day on which it had one, not before the plan's tracking start. A unit whose members
    were only leaders, the office or the convener is absent: it answers for no reporting week."""
    return _first_member_day(session, plan_id, roles=REPORTING_ROLES)


def _first_member_day(session: Session, plan_id: int, *, roles: tuple[str, ...] | None) -> dict[int, date]:
    """Per unit: the first working day on which it had a member (of `roles`, if given) that was
    in the system (active, or revoked since), not before the plan's tracking start."""
    start = tracking_since(session=session, plan_id=plan_id)
    query = select(col(Member.unit_id), func.min(col(Member.joined_at))).where(
        col(Member.plan_id) == plan_id,
        or_(col(Member.active).is_(True), col(Member.revoked_at).is_not(None)),
    )
    if roles is not None:
        query = query.where(col(Member.role).in_(roles))
    first: dict[int, date] = {}
    for unit_id, joined in session.execute(query.group_by(col(Member.unit_id))).all():
        first[unit_id] = local_day(aware_utc(joined))
    return {u: first_workday_from(max(d, start)) for u, d in first.items()}


def _since_of(unit: Any, since: dict[int, date]) -> Any:
    """SQL: the accountable-from day of the unit in `unit` (a column); far in the future for a
    unit that never had a member, so that no deadline or week falls in its time."""
    if not since:
        return literal(date(9999, 12, 31), Date())
    return case(
        {u: literal(d, Date()) for u, d in since.items()}, value=unit, else_=literal(date(9999, 12, 31), Date())
    )


def aware_utc(moment: datetime | str) -> datetime:
    """A stored moment as aware UTC: SQLite hands one back naive, or as ISO text from an aggregate."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:  # SQLite may hand a value back naive: stored UTC
        value = value.replace(tzinfo=UTC)
    return value


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

    def between_offsets(self, start: int, end: int) -> int:
        """`between` for days given as offsets from `first` (day numbers as sql_day_offset gives
        them): a subtraction of two list items inside the table."""
        if end <= start:
            return 0
        if start >= 0 and end < len(self._cum):
            return self._cum[end] - self._cum[start]
        return self.between(self.first + timedelta(days=start), self.first + timedelta(days=end))


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def sql_local_day(session: Session, column: Any) -> Any:
    """SQL: the local calendar date (Settings zone) of a UTC timestamp column or expression."""
    zone = local_zone()
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(zone.key, column))
    # SQLite keeps naive UTC text and has no zones: the zone's current offset (China has had
    # no daylight saving time since 1991).
    offset = zone.utcoffset(datetime.now()) or timedelta(0)
    return func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes")


def sql_day_offset(session: Session, column: Any, base: date) -> Any:
    """SQL: the local calendar date of a UTC timestamp column (sql_local_day) as a number of
    days after `base`, an integer to group and to subtract by instead of a date."""
    day = sql_local_day(session, column)
    if session.get_bind().dialect.name == "postgresql":
        return day - literal(base, Date())  # date - date is an integer
    return func.cast(func.julianday(day) - func.julianday(base.isoformat()), Integer)


def sql_moment(moment: datetime) -> Any:
    """A moment as an SQL literal of the stored timestamp type."""
    return literal(moment, UTCDateTime())


# --- Shared SQL pieces ----------------------------------------------------------------


def kind_among(session: Session, column: Any, kinds: Sequence[str]) -> Any:
    """SQL: `column IN kinds`; on SQLite written as a condition its planner cannot take for an
    index bound (see _state_at: SQLite 3.40 with statistics scans `kind IN (…) AND at <= ?` on
    (problem_id, kind, at) wrongly). PostgreSQL keeps the IN, whose estimate its plans rest on."""
    if session.get_bind().dialect.name == "sqlite":
        return case((column.in_(kinds), true()), else_=false())
    return column.in_(kinds)


def _candidate(plan_id: int, start: datetime, as_of: datetime) -> Any:
    """SQL, on the problem row: it may have been open during [start, as_of] (a superset; the
    events decide). A problem closed before `start` and not reopened since has closed_at <
    start; reopening clears closed_at."""
    return and_(
        _P.c.plan_id == plan_id,
        _P.c.created_at <= sql_moment(as_of),
        or_(_P.c.closed_at.is_(None), _P.c.closed_at >= sql_moment(start)),
    )


def _candidate_problems(plan_id: int, start: datetime, as_of: datetime) -> Any:
    """The ids of the problems that may have been open during [start, as_of] (`_candidate`)."""
    return select(_P.c.id).where(_candidate(plan_id, start, as_of))


def _settled(problem_id: Any, moment: datetime) -> Any:
    """SQL: the problem has a projection and no event later than `moment`, so its projection
    is its state at `moment` (models.projection)."""
    return select(_PP.c.problem_id).where(_PP.c.problem_id == problem_id, _PP.c.last_at <= sql_moment(moment)).exists()


def _state_at(session: Session, plan_id: int, start: datetime, as_of: datetime) -> Any:
    """Per problem as of `as_of`: the owner unit and the event that made it owner, the kind
    and time of the last state-changing event, the deadline.

    A problem with no event after `as_of` (every problem, when evaluating up to now) is read
    from its projection; only the others' events are grouped, the latest state event being
    the one with the highest id (the domain writes them with `now`, in order)."""
    settled = (
        select(
            _PP.c.problem_id,
            _PP.c.owner_unit_id.label("owner"),
            _PP.c.owner_event_id,
            _PP.c.state_kind,
            _PP.c.state_at,
            _P.c.due_on,
            _P.c.text,
        )
        .join(_P, _P.c.id == _PP.c.problem_id)
        .where(
            _candidate(plan_id, start, as_of),
            _PP.c.last_at <= sql_moment(as_of),
            _PP.c.state_event_id.is_not(None),
            _PP.c.owner_event_id.is_not(None),
        )
    )

    # The others: few (those with an event after `as_of`), each looked up through the
    # (problem_id, at) index and the primary key rather than joined against every event.
    moving_problem = and_(_candidate(plan_id, start, as_of), ~_settled(_P.c.id, as_of))
    if session.get_bind().dialect.name == "postgresql":
        # One index pass per problem for both ids (LATERAL), then two primary-key lookups: a
        # third of the buffers of four correlated subqueries. A problem with no owner event yet
        # has no row (the lookups are inner joins), as the filter below would drop it.
        x, owner_ev, state_ev = _E.alias("x"), _E.alias("owner_ev"), _E.alias("state_ev")
        last = (
            select(
                func.max(case((x.c.kind.in_(_STATE_KINDS), x.c.id))).label("state_id"),
                func.max(case((x.c.kind.in_(_OWNER_KINDS), x.c.id))).label("owner_id"),
            )
            .where(x.c.problem_id == _P.c.id, x.c.at <= sql_moment(as_of))
            .lateral("last")
        )
        owner_row = select(owner_ev.c.to_unit_id).where(owner_ev.c.id == last.c.owner_id).lateral("owner_row")
        state_row = select(state_ev.c.kind, state_ev.c.at).where(state_ev.c.id == last.c.state_id).lateral("state_row")
        moving = (
            select(
                _P.c.id.label("problem_id"),
                owner_row.c.to_unit_id.label("owner"),
                last.c.owner_id.label("owner_event_id"),
                state_row.c.kind.label("state_kind"),
                state_row.c.at.label("state_at"),
                _P.c.due_on,
                _P.c.text,
            )
            .select_from(_P)
            .join(last, true())
            .join(owner_row, true())
            .join(state_row, true())
            .where(moving_problem)
            .offset(0)  # as below
        ).subquery()
    else:

        def last_id(kinds: Sequence[str]) -> Any:
            # The kinds are tested in the aggregate, not in WHERE (as in the lateral lookup above):
            # given planner statistics (after ANALYZE) SQLite 3.40 runs `problem_id = ? AND kind IN
            # (…) AND at <= ?` on the (problem_id, kind, at) index as one scan (OP_SeekScan) that
            # checks the time bound for the first kind only and returns the problem's later events
            # of the others: a problem confirmed after the period read as resolved in it. Without
            # the kind in WHERE the lookup is a range of the (problem_id, at) index, on any planner.
            x = _E.alias()
            return (
                select(func.max(case((x.c.kind.in_(kinds), x.c.id))))
                .where(x.c.problem_id == _P.c.id, x.c.at <= sql_moment(as_of))
                .correlate(_P)  # the problem row two levels up (inside of_event's select)
                .scalar_subquery()
            )

        def of_event(column: str, event_id: Any) -> Any:
            y = _E.alias()
            return select(y.c[column]).where(y.c.id == event_id).scalar_subquery()

        state_id, owner_id = last_id(_STATE_KINDS), last_id(_OWNER_KINDS)
        moving = (
            select(
                _P.c.id.label("problem_id"),
                of_event("to_unit_id", owner_id).label("owner"),
                owner_id.label("owner_event_id"),
                of_event("kind", state_id).label("state_kind"),
                of_event("at", state_id).label("state_at"),
                _P.c.due_on,
                _P.c.text,
            )
            .where(moving_problem)
            # OFFSET 0 keeps PostgreSQL from pushing the outer filters (on the looked-up columns)
            # below the settled check, which would look up every candidate.
            .offset(0)
        ).subquery()
    replayed = select(moving).where(moving.c.owner_event_id.is_not(None), moving.c.state_kind.is_not(None))
    return settled.union_all(replayed).subquery()


def projections_kept(*, session: Session) -> bool:
    """Whether every problem has its projection, and so its spells and hand-overs (models.projection
    writes and rebuilds them together)."""
    # Every problem has its projection when the two tables count the same rows: a projection's key
    # is its problem's (a foreign key, enforced on both databases), so none can stand for a missing
    # one. Two counts of primary keys take a third of the anti-join of the candidates against the
    # projections that this was (at 10^6 events on PostgreSQL 50 against 150 ms).
    problems, kept = session.execute(
        select(
            select(func.count()).select_from(_P).scalar_subquery(),
            select(func.count()).select_from(_PP).scalar_subquery(),
        )
    ).one()
    return bool(problems == kept)


def _gaps(session: Session, plan_id: int, start: datetime, as_of: datetime, kept: bool | None = None) -> Any:
    """Each action event of a candidate problem with the next action after it (comments
    are not action): the time the holder (to_unit_id) had the ball; next_at None while the
    spell is still running at `as_of`.

    A problem with a projection has its spells kept with it (models.tables.ProblemSpell):
    only those that reach the window are read (started by `as_of`, ended after `start` or
    not at all), through the index on next_at; a next action after `as_of` has not happened
    yet at `as_of`. A problem without one (a projection not built yet) has its events read.
    `kept`: whether every problem has its projection (projections_kept; None: ask)."""
    cand = _candidate_problems(plan_id, start, as_of)
    all_kept = projections_kept(session=session) if kept is None else kept
    reaching = select(
        _SP.c.event_id.label("id"),
        _SP.c.problem_id,
        _SP.c.kind,
        _SP.c.unit_id.label("to_unit_id"),
        _SP.c.at,
        case((_SP.c.next_at <= sql_moment(as_of), _SP.c.next_at), else_=None).label("next_at"),
    ).where(
        _SP.c.problem_id.in_(cand),
        _SP.c.at <= sql_moment(as_of),
        or_(_SP.c.next_at.is_(None), _SP.c.next_at > sql_moment(start)),
    )
    if all_kept:
        # Every candidate has its spells kept: no event is read, and no spell is checked for its
        # projection (at 10^6 events a primary-key probe for each of 60k spells, a third of the query).
        return reaching.subquery()
    reaching = reaching.where(select(_PP.c.problem_id).where(_PP.c.problem_id == _SP.c.problem_id).exists())
    has_projection = select(_PP.c.problem_id).where(_PP.c.problem_id == _E.c.problem_id).exists()
    # Ordered by (time, id): of events at the same instant (a ruling and its acceptance) the
    # later written holds the running spell, as in the projection, on every database (ordered
    # by time only, PostgreSQL broke the tie either way).
    replayed = select(
        _E.c.id,
        _E.c.problem_id,
        _E.c.kind,
        _E.c.to_unit_id,
        _E.c.at,
        func.lead(_E.c.at, type_=UTCDateTime())
        .over(partition_by=_E.c.problem_id, order_by=(_E.c.at, _E.c.id))
        .label("next_at"),
    ).where(_E.c.problem_id.in_(cand), ~has_projection, _E.c.kind != K.COMMENTED, _E.c.at <= sql_moment(as_of))
    return reaching.union_all(replayed).subquery()


# --- Expected by now ---------------------------------------------------------------------------


def progress_by_now(*, session: Session, plan_id: int, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """Expected by now, per task: target, done (from the rights' status events up to `as_of`),
    the share and number the plan's timeline expects at `as_of`, the cited right ids."""
    return batch_progress(session=session, plan_id=plan_id, as_of=as_of)


def tasks_behind(*, session: Session, plan_id: int, as_of: datetime, behind_points: float) -> list[dict[str, Any]]:
    """Tasks more than `behind_points` percentage points behind their schedule, with their units."""
    parts: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for task_id, unit_id, part in session.execute(
        select(col(TaskUnit.task_id), col(TaskUnit.unit_id), col(TaskUnit.part))
        .join(Task, col(Task.id) == col(TaskUnit.task_id))
        .where(col(Task.plan_id) == plan_id)
    ).all():
        parts[task_id].append((unit_id, part))
    out = []
    for row in progress_by_now(session=session, plan_id=plan_id, as_of=as_of):
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


def units_behind(
    *, session: Session, plan_id: int, as_of: datetime, rows: Sequence[dict[str, Any]], behind_points: float
) -> dict[int, set[int]]:
    """Per task row of `tasks_behind`: the units that answer for its lag. A unit answers only
    for the time since it could act: the share the timeline expected to be added between its
    accountable-from day and `as_of` must exceed the share actually added in that time by more
    than `behind_points` (a unit that joined today answers for nothing yet)."""
    out: dict[int, set[int]] = {row["task_id"]: set() for row in rows}
    for row, unit_id, expected, done in _shares_since(session=session, plan_id=plan_id, as_of=as_of, rows=rows):
        if (expected - done) * 100 > behind_points:
            out[row["task_id"]].add(unit_id)
    return out


def unit_progress(
    *, session: Session, plan_id: int, as_of: datetime, rows: Sequence[dict[str, Any]]
) -> dict[int, list[float]]:
    """Per unit of the task rows of `tasks_behind` (any lag): for each of its tasks of which the
    timeline expected something in the unit's time (from its accountable-from day to `as_of`), the
    share added in that time against the share expected to be added, at most 1 — the review's
    任务进度, counted like units_behind: a unit is not scored on lag from before it could act."""
    out: dict[int, list[float]] = defaultdict(list)
    for _row, unit_id, expected, done in _shares_since(session=session, plan_id=plan_id, as_of=as_of, rows=rows):
        if (share := _progress_share(expected, done)) is not None:
            out[unit_id].append(share)
    return dict(out)


def leader_progress(
    *,
    session: Session,
    plan_id: int,
    as_of: datetime,
    rows: Sequence[dict[str, Any]],
    leaders: Sequence[tuple[Member, int]],
) -> dict[int, list[float]]:
    """Per zone leader of `leaders` (an active member and a zone they lead): for each task row of
    `tasks_behind` with rights in their zones of which the timeline expected something in their
    time, the share of those rights done in that time against the share expected to be added, at
    most 1 — a leader's 任务进度, counted as unit_progress counts a unit's, each zone from the day
    the leader had it (leader_accountable_from); a zone's rights weigh by their number."""
    since = leader_accountable_from(session=session, plan_id=plan_id, leaders=leaders)
    zones_of: dict[int, list[int]] = defaultdict(list)
    for member, zone_id in leaders:
        zones_of[row_id(member)].append(zone_id)
    rights: dict[tuple[int, int], list[int]] = defaultdict(list)
    for right_id, zone_id, task_id in session.execute(
        select(col(Right.id), col(Right.zone_id), col(RightBatch.task_id))
        .join(RightBatch, col(RightBatch.right_id) == col(Right.id))
        .where(col(Right.plan_id) == plan_id, col(Right.zone_id).is_not(None))
    ).all():
        rights[(zone_id, task_id)].append(right_id)
    subjects = [
        (row, member_id, [(since[(member_id, z)], rights[(z, row["task_id"])]) for z in sorted(zones)])
        for row in rows
        for member_id, zones in sorted(zones_of.items())
        if any(rights.get((z, row["task_id"])) for z in zones)
    ]
    out: dict[int, list[float]] = defaultdict(list)
    for _row, member_id, expected, done in _added_since(
        session=session, plan_id=plan_id, as_of=as_of, subjects=subjects
    ):
        if (share := _progress_share(expected, done)) is not None:
            out[member_id].append(share)
    return dict(out)


def _progress_share(expected: float, done: float) -> float | None:
    """The share added against the share expected to be added, at most 1; None when nothing was expected."""
    return min(1.0, max(0.0, done) / expected) if expected > 0 else None


def _shares_since(
    *, session: Session, plan_id: int, as_of: datetime, rows: Sequence[dict[str, Any]]
) -> list[tuple[dict[str, Any], int, float, float]]:
    """(task row, unit, share expected to be added, share added) from each of the row's units'
    accountable-from day to `as_of`, once per task and unit; a unit that never had a member, or
    whose day has not begun by `as_of`, has none."""
    since = accountable_from(session=session, plan_id=plan_id)
    subjects = [
        (row, unit_id, [(since[unit_id], None)])
        for row in rows
        for unit_id in dict.fromkeys(u for u, _part in row["units"])
        if unit_id in since
    ]
    return _added_since(session=session, plan_id=plan_id, as_of=as_of, subjects=subjects)


def _added_since(
    *,
    session: Session,
    plan_id: int,
    as_of: datetime,
    subjects: Sequence[tuple[dict[str, Any], int, Sequence[tuple[date, Sequence[int] | None]]]],
) -> list[tuple[dict[str, Any], int, float, float]]:
    """(task row, whom, share expected to be added, share added) for each subject: a task row of
    `tasks_behind`, whom it is counted for, and the parts counted, each from its day to `as_of`:
    the whole task (None) or some of its rights (a leader's zone; the parts weigh by their rights).
    A part whose day has not begun by `as_of` counts for nothing; a subject with none has no row."""
    then_by_day: dict[date, dict[int, dict[str, Any]]] = {}
    out = []
    for row, whom, parts in subjects:
        expected = added = weight = 0.0
        for day, right_ids in parts:
            if local_midnight(day) >= as_of or (right_ids is not None and not right_ids):
                continue
            if day not in then_by_day:
                then_by_day[day] = {
                    r["task_id"]: r
                    for r in progress_by_now(session=session, plan_id=plan_id, as_of=local_midnight(day))
                }
            then = then_by_day[day].get(row["task_id"])
            expected_then = float((then or {}).get("expected_share") or 0.0)
            if right_ids is None:
                n = 1.0
                done_then = then["done"] / row["target"] if then and row["target"] else 0.0
                done = row["done_share"] - done_then
            else:
                n = float(len(right_ids))
                mine = set(right_ids)
                done = (len(mine & set(row["right_ids"])) - len(mine & set((then or {}).get("right_ids") or ()))) / n
            expected += n * (row["expected_share"] - expected_then)
            added += n * done
            weight += n
        if weight:
            out.append((row, whom, expected / weight, added / weight))
    return out


def leader_accountable_from(
    *, session: Session, plan_id: int, leaders: Sequence[tuple[Member, int]]
) -> dict[tuple[int, int], date]:
    """Per (zone leader, zone) of `leaders`: the first working day on which the leader was in the
    system and in charge of the zone — the later of the day they joined and the day the zone was put
    in their charge (its ZONE_LEADER_ASSIGNED audit row, the earliest; a row written past the domain
    has none and counts from the join) — never before the plan's tracking start."""
    start = tracking_since(session=session, plan_id=plan_id)
    zone_ids = sorted({zone_id for _member, zone_id in leaders})
    assigned: dict[tuple[int, int], date] = {}
    for at, object_id, detail in session.execute(
        select(col(AuditLog.at), col(AuditLog.object_id), col(AuditLog.detail)).where(
            col(AuditLog.action) == ZONE_LEADER_ASSIGNED,
            col(AuditLog.object_type) == "zone",
            col(AuditLog.object_id).in_([str(z) for z in zone_ids]),
        )
    ).all():
        member_id = (detail or {}).get("member_id")
        if member_id is None:
            continue
        key, day = (int(member_id), int(object_id)), local_day(aware_utc(at))
        if key not in assigned or day < assigned[key]:
            assigned[key] = day
    out = {}
    for member, zone_id in leaders:
        member_id = row_id(member)
        joined = local_day(aware_utc(member.joined_at))
        out[(member_id, zone_id)] = first_workday_from(max(joined, assigned.get((member_id, zone_id), joined), start))
    return out


def overdue_before(as_of: datetime) -> date:
    """Items due before this day are overdue at `as_of`: due on day D means done by the end of D
    (at a period's end, the midnight after its last day, an item due that last day is overdue)."""
    return local_day(as_of)


def overdue_workdays(due_on: date | None, today: date) -> int:
    """How many working days an item due on `due_on` is overdue on `today` (0 when not overdue:
    due on D means done by the end of D), for /todo and the daily digest."""
    return workdays_between(due_on, today) if due_on is not None and due_on < today else 0


class Resolution(NamedTuple):
    """A problem 办结 in a window: the resolution that counts (its event) and who is credited.
    (A named tuple: a window at 10^6 events holds ~18k, and a frozen dataclass took 60 ms to make them.)"""

    problem_id: int
    unit_id: int | None  # the unit that resolved it (the event's to_unit_id)
    event_id: int
    category_id: int | None


def resolutions(
    *,
    session: Session,
    plan_id: int,
    start: datetime,
    as_of: datetime,
    end: datetime | None = None,
    kept: bool | None = None,
    problem_ids: Collection[int] | None = None,
) -> list[Resolution]:
    """办结: the problems that, at `as_of` (and before `end`, the window's end, when given), stand
    resolved or confirmed by a resolution inside the window, each once with the unit that resolved
    it, by problem id. The window is [start, end) seen at `as_of`: a resolution reopened by then is
    not 办结; one confirmed in this window but resolved before it is not this window's.

    Read from the resolutions in the window (the (kind, at) index holds their problem and unit).
    A resolution is undone by a later state event other than a confirmation (a reopening, or
    anything past the domain). For a problem whose events all lie inside the bounds the projection
    answers (the resolution stands if it is the projection's change_event_id); the others' later
    events are looked for through the (problem_id, at) index: the latest events are the highest
    ids, as the domain writes them (and as the projection and _state_at order them). `kept`:
    whether every problem has its projection (projections_kept; None: ask); if not, every
    resolution's later events are looked for. `problem_ids`: only these problems (a 督办单's item)."""
    r, later = _E.alias("r"), _E.alias("later")

    def seen(at: Any) -> list[Any]:
        bound = [at <= sql_moment(as_of)]
        if end is not None:
            bound.append(at < sql_moment(end))
        return bound

    undone = (
        select(later.c.id)
        .where(
            later.c.problem_id == r.c.problem_id,
            later.c.id > r.c.id,
            # kind_among: see its docstring (SQLite's planner and a kind IN with a time bound).
            kind_among(session, later.c.kind, [k for k in _STATE_KINDS if k != K.CONFIRMED]),
            *seen(later.c.at),
        )
        .correlate(r)
        .exists()
    )
    query = (
        select(r.c.problem_id, r.c.to_unit_id, r.c.id, _P.c.category_id)
        .join(_P, _P.c.id == r.c.problem_id)
        .where(_P.c.plan_id == plan_id, r.c.kind == K.RESOLVED, r.c.at >= sql_moment(start), *seen(r.c.at))
        .order_by(r.c.problem_id, r.c.id)
    )
    if problem_ids is not None:
        query = query.where(r.c.problem_id.in_(list(problem_ids)))
    if kept is None:
        kept = projections_kept(session=session)
    if kept:
        # Settled: no event after the bounds, so the projection is the problem's state within them.
        # Looked up by primary key for each resolution. PostgreSQL joined the tables by hashing the
        # whole projection (60 of the query's 150 ms at 10^6 events); LATERAL with its LIMIT keeps
        # it from pulling the lookup up into that join. SQLite has no LATERAL and looks up anyway.
        pp: Any = _PP
        if session.get_bind().dialect.name == "postgresql":
            pp = (
                select(_PP.c.problem_id, _PP.c.last_at, _PP.c.change_event_id)
                .where(_PP.c.problem_id == r.c.problem_id)
                .correlate(r)
                .limit(1)
                .lateral("pp")
            )
        settled = and_(*seen(pp.c.last_at))
        query = query.join(pp, pp.c.problem_id == r.c.problem_id).where(
            or_(and_(settled, pp.c.change_event_id == r.c.id), and_(~settled, ~undone))
        )
    else:
        query = query.where(~undone)
    # A problem resolved twice in the window (reopened between) keeps its last resolution only:
    # the earlier one has a later state event (the reopening), so one row per problem remains.
    return [Resolution(pid, unit, ev, cat) for pid, unit, ev, cat in session.execute(query)]


def problem_counts(
    *,
    session: Session,
    plan_id: int,
    start: datetime,
    as_of: datetime,
    end: datetime | None = None,
    examples: int = EXAMPLES,
    kept: bool | None = None,
) -> dict[int, dict[str, Any]]:
    """Per unit as of `as_of`: problems it owned in the window, how many it resolved (办结,
    `resolutions`: the ids and resolution events of all of them), how many are overdue
    (unresolved past their deadline) and the first `examples` overdue ones.

    Counted as owned: problems 办结 by it in the window, and problems still unresolved past
    their deadline. Not counted: problems still within their time limit, problems waiting for the
    office to rule on a decline (those are the office's move), and problems resolved in an earlier
    window (confirmed in this one or not). Due on day D means done by the end of D."""
    done: dict[int, list[Resolution]] = defaultdict(list)
    for res in resolutions(session=session, plan_id=plan_id, start=start, as_of=as_of, end=end, kept=kept):
        if res.unit_id is not None:
            done[res.unit_id].append(res)
    s = _state_at(session, plan_id, start, as_of)
    # Overdue against its owner only if the deadline fell when the owner could act.
    late = and_(
        s.c.state_kind.not_in((*_DONE_KINDS, K.DECLINED)),
        s.c.due_on.is_not(None),
        s.c.due_on < overdue_before(as_of),
        s.c.due_on >= _since_of(s.c.owner, accountable_from(session=session, plan_id=plan_id)),
    )
    # One pass over the late problems: per owner their count (a window sum on every row) and a
    # rank; keep each owner's first few.
    ranked = (
        select(
            s.c.owner,
            s.c.problem_id,
            s.c.owner_event_id,
            s.c.due_on,
            s.c.text,
            func.count().over(partition_by=s.c.owner).label("n_late"),
            func.row_number().over(partition_by=s.c.owner, order_by=(s.c.due_on, s.c.problem_id)).label("rn"),
        ).where(late)
    ).subquery()
    overdue: dict[int, tuple[int, list[dict[str, Any]]]] = {}
    for owner, pid, ev, due, text, n_late, _rn in session.execute(
        select(ranked).where(ranked.c.rn <= max(examples, 1)).order_by(ranked.c.owner, ranked.c.rn)
    ).all():
        _, items = overdue.setdefault(owner, (int(n_late or 0), []))
        if len(items) < examples:
            items.append({"problem_id": pid, "event_id": ev, "due_on": _as_date(due).isoformat(), "text": text[:60]})
    out: dict[int, dict[str, Any]] = {}
    for unit_id in sorted(done.keys() | overdue.keys()):
        mine = done.get(unit_id, [])
        n_late, items = overdue.get(unit_id, (0, []))
        out[unit_id] = {
            "owned": len(mine) + n_late,
            "resolved": len(mine),
            "resolved_ids": [x.problem_id for x in mine],
            "resolved_events": [x.event_id for x in mine],
            "overdue": n_late,
            "examples": items,
        }
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
    # count: problems and agreed matters together; problems, decisions: each apart (the notice says both).
    out: dict[int, dict[str, Any]] = defaultdict(lambda: {"count": 0, "problems": 0, "decisions": 0, "items": []})
    if counts is None:
        counts = problem_counts(session=session, plan_id=plan_id, start=start, as_of=as_of, examples=examples)
    for owner, c in counts.items():
        if c["overdue"]:
            out[owner]["count"] += c["overdue"]
            out[owner]["problems"] += c["overdue"]
            out[owner]["items"] += [{"kind": "overdue_problem", **e} for e in c["examples"]]
    d = table_of(Decision)
    late = and_(
        d.c.plan_id == plan_id,
        d.c.owner_unit_id.is_not(None),
        d.c.due_on.is_not(None),
        d.c.due_on < overdue_before(as_of),
        d.c.due_on >= _since_of(d.c.owner_unit_id, accountable_from(session=session, plan_id=plan_id)),
        d.c.created_at <= sql_moment(as_of),
        or_(d.c.done_at.is_(None), d.c.done_at > sql_moment(as_of)),
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
            out[owner]["decisions"] += int(n)
        out[owner]["items"].append(
            {"kind": "overdue_decision", "decision_id": did, "text": text[:60], "due_on": _as_date(due).isoformat()}
        )
    return dict(out)


# --- Resolution, time to accept, idle ------------------------------------------------------------


def resolution_counts(
    *, session: Session, plan_id: int, start: datetime, as_of: datetime, end: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Per unit: problems owned in the window and 办结 (see problem_counts and resolutions)."""
    return problem_counts(session=session, plan_id=plan_id, start=start, as_of=as_of, end=end)


@dataclass
class SpellStats:
    """Streamed aggregates of the spells a unit had the ball: waits for a first response by
    working days, and spells of `idle_days` or more (count, the longest few)."""

    waits: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    idle_count: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    idle_top: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    # A few of the events that started waits, for citing: the smallest ids of up to two a group.
    wait_events: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    # Of `waits`, those still running at `as_of` (no response yet), by working days so far.
    open_waits: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    # The days the unit's waits span: the first one's handing-over day to the last one's response
    # day (a running wait's, the last day before `as_of`). A figure of its waits is dated by it.
    wait_span: dict[int, tuple[date, date]] = field(default_factory=dict)

    def cites_every_wait(self, unit_id: int) -> bool:
        """Whether `wait_events` kept the event of each of the unit's waits: no group had more
        than two, and none was trimmed (a figure of its waits may then cite all its problems)."""
        return len(self.wait_events.get(unit_id, [])) == sum(self.waits.get(unit_id, {}).values())


def spell_stats(
    *,
    session: Session,
    plan_id: int,
    start: datetime,
    as_of: datetime,
    idle_days: float,
    examples: int = EXAMPLES,
    kept: bool | None = None,
) -> SpellStats:
    """The spells a unit had the ball (after an event it must act on) that end in the window
    or are still running, grouped in SQL by (unit, waiting for a first response?, first
    day, last day) and streamed: memory stays bounded by units × working-day lengths,
    however many events there are."""
    g = _gaps(session, plan_id, start, as_of, kept)
    end_at = func.coalesce(g.c.next_at, sql_moment(as_of))
    # A spell still running at `as_of` ends on the last day before it (as_of may be the midnight
    # after a period's last day: that next day has not been worked yet).
    last_day = func.coalesce(g.c.next_at, sql_moment(as_of - timedelta(seconds=1)))
    oldest = session.execute(select(func.min(_P.c.created_at)).where(_candidate(plan_id, start, as_of))).scalar()
    first = local_day(start)
    if oldest is not None:
        first = min(first, (oldest if isinstance(oldest, datetime) else datetime.fromisoformat(str(oldest))).date())
    days = WorkdayIndex(first - timedelta(days=1), local_day(as_of) + timedelta(days=1))
    # The days as numbers after the table's first day: the 32k groups at 10^6 events are counted
    # by two list lookups each instead of date arithmetic (its Python was half of this function).
    d0, d1 = sql_day_offset(session, g.c.at, days.first), sql_day_offset(session, last_day, days.first)
    waiting = case((g.c.kind.in_(_WAITING_FOR_RESPONSE), 1), else_=0)
    running = case((g.c.next_at.is_(None), 1), else_=0)
    since = accountable_from(session=session, plan_id=plan_id)
    # A spell starting before its unit could act is counted from the day before that day.
    clip = {u: (d - timedelta(days=1) - days.first).days for u, d in since.items()}
    # With no idle length (idle_days infinite: the waits alone, which the brief and the review
    # ask for) only the spells waiting for a first response count, and only those are read.
    kinds = _WAITING_FOR_RESPONSE if idle_days == float("inf") else _HOLDER_MUST_ACT
    stats = SpellStats()
    spans: dict[int, tuple[int, int]] = {}  # per unit, the first and last day of its waits (offsets)
    result = session.execute(
        select(g.c.to_unit_id, waiting, running, d0, d1, func.count(), func.max(g.c.id), func.min(g.c.id))
        .where(g.c.kind.in_(kinds), g.c.to_unit_id.is_not(None), end_at > sql_moment(start))
        .group_by(g.c.to_unit_id, waiting, running, d0, d1)
        .execution_options(stream_results=True, yield_per=2000)
    )
    for unit_id, is_waiting, is_running, a, b, n, example, earliest in result:
        if unit_id not in clip:
            continue  # no member yet: the unit could not act, its spells count for nothing
        # Working days are counted from when the unit could act (a spell starting earlier is clipped).
        wd = days.between_offsets(max(a, clip[unit_id]), b)
        if is_waiting:
            stats.waits[unit_id][wd] += int(n)
            lo, hi = spans.get(unit_id, (a, b))
            spans[unit_id] = (min(lo, a), max(hi, b))
            if is_running:
                stats.open_waits[unit_id][wd] += int(n)
            # The earliest waits cited, whatever order the database groups in (PostgreSQL's hash
            # aggregate has none): keep the smallest event ids, trimmed now and then.
            cited = stats.wait_events[unit_id]
            # Both ends of the group: the two waits of a pair of the same length (the commonest
            # group of more than one) are both cited.
            cited.extend({int(earliest), int(example)})
            if len(cited) > 4 * CITE_CAP:
                cited.sort()
                del cited[CITE_CAP:]
        if wd >= idle_days:
            stats.idle_count[unit_id] += int(n)
            top = stats.idle_top[unit_id]
            top.append((wd, int(example)))
            if len(top) > 4 * examples:  # trim now and then, not on every spell (idle_spells sorts the rest)
                top.sort(key=lambda x: (-x[0], x[1]))
                del top[examples:]
    for cited in stats.wait_events.values():
        cited.sort()
        del cited[CITE_CAP:]
    stats.wait_span = {
        u: (days.first + timedelta(days=lo), days.first + timedelta(days=hi)) for u, (lo, hi) in spans.items()
    }
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


def responses_in_time(
    *,
    session: Session,
    plan_id: int,
    start: datetime,
    as_of: datetime,
    limit_days: float,
    stats: SpellStats | None = None,
) -> dict[int, tuple[int, int]]:
    """Per unit: (answered within `limit_days` working days, waits that can be judged) of the
    waits of `response_waits`. A wait still open at `as_of` within the limit is not judged yet
    (the unit may still answer in time: counting it as met would credit doing nothing); one open
    past the limit is a miss. Units with no wait that can be judged are left out."""
    if stats is None:
        stats = spell_stats(session=session, plan_id=plan_id, start=start, as_of=as_of, idle_days=float("inf"))
    out: dict[int, tuple[int, int]] = {}
    for unit_id, by_days in stats.waits.items():
        still = stats.open_waits.get(unit_id, {})
        met = sum(n - still.get(d, 0) for d, n in by_days.items() if d <= limit_days)
        judged = sum(n for d, n in by_days.items() if d > limit_days) + met
        if judged:
            out[unit_id] = (met, judged)
    return out


def response_times(
    *, session: Session, plan_id: int, start: datetime, as_of: datetime, stats: SpellStats | None = None
) -> dict[int, dict[str, Any]]:
    """Time to accept, per unit: the median of its waits (see `response_waits`) in working
    days, how many waits, and the ids of the first few problems waited on (for citing)."""
    if stats is None:
        stats = spell_stats(session=session, plan_id=plan_id, start=start, as_of=as_of, idle_days=float("inf"))
    waited_on = wait_problems(session=session, stats=stats)
    out: dict[int, dict[str, Any]] = {}
    for unit_id, pairs in response_waits(
        session=session, plan_id=plan_id, start=start, as_of=as_of, stats=stats
    ).items():
        ids = waited_on.get(unit_id, [])
        out[unit_id] = {"median": weighted_median(pairs), "n": sum(n for _, n in pairs), "ids": ids[:CITE_CAP]}
    return out


def wait_problems(*, session: Session, stats: SpellStats) -> dict[int, list[int]]:
    """Per unit: the problems of its first few waits for a response (`SpellStats.wait_events`,
    the events that handed them to it), in id order: what a figure of its waits cites."""
    events = [e for ids in stats.wait_events.values() for e in ids]
    problem_of: dict[int, int] = {}
    if events:
        problem_of = {
            int(e): int(p) for e, p in session.execute(select(_E.c.id, _E.c.problem_id).where(_E.c.id.in_(events)))
        }
    return {
        unit_id: sorted({problem_of[e] for e in cited if e in problem_of})
        for unit_id, cited in stats.wait_events.items()
    }


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
                n.c.at <= sql_moment(as_of),
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
