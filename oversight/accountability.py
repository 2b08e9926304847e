"""Accountability rules (seed 000 五(一)): which units a notice names as slow (推进速度慢),
not solving problems (问题解决不积极、不明显) or shifting responsibility (推诿扯皮), each
finding with the events it rests on.

Everything is computed from the event history in SQL: each rule is one or two queries
that return per-unit aggregates or the few problems that match; Python only turns
calendar days into working days and writes the Chinese summaries. The thresholds come
from the plan file (PlanSpec.thresholds, defaults in oversight.planfile).

Periods are quarters ("2026Q1") or halves ("2026H1") in the zone from Settings (TIMEZONE). Rules are
evaluated as of the end of the period, or `now` when the period has not ended yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models import (
    Member,
    Plan,
    Problem,
    ProblemEvent,
    ProblemEventKind,
    ProblemHandover,
    Unit,
    row_id,
)
from models.db import table_of
from oversight import periods
from oversight.dates import local_day, local_zone
from oversight.errors import InvalidInputError, PlanMissingError
from oversight.measures import (
    EXAMPLES,
    EXEMPT_UNIT_KINDS,
    Week,
    accountable_from,
    idle_spells,
    kind_among,
    overdue_items,
    problem_counts,
    projections_kept,
    response_waits,
    spell_stats,
    sql_moment,
    tasks_behind,
    unit_reporting,
    units_behind,
    wait_problems,
    weighted_median,
)
from oversight.members import member_label
from oversight.periods import Period
from oversight.planfile import DEFAULT_THRESHOLDS
from oversight.region_items import open_region_items
from oversight.sentences import (
    accept_reason,
    cite,
    evidence_sentence,
    idle_reason,
    overdue_items_reason,
    resolution_reason,
    unique_evidence,
    waited_on,
)

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
# A finding named with its unit, one form wherever it is listed (the notice's annex tables, its
# pages in chat, the CLI): 旗林草局：推诿扯皮. Not 单位（推诿扯皮）: a unit's name may end in
# brackets of its own, 旗应急管理局（矿山安全监管局）（问题解决不积极、不明显）.
FINDING_HEADING = "{unit}：{rule}"


def finding_heading(unit: str, rule: str) -> str:
    """A finding's unit and what it was found to be, as every list of findings heads it."""
    return FINDING_HEADING.format(unit=unit, rule=RULE_LABELS.get(rule, rule))


# What a finding rests on (NoticeFinding.evidence items carry one of these as "basis").
BASIS_LABELS: dict[str, str] = {
    "behind_plan": "任务进度滞后",
    "missed_reports": "未按周报送进展",
    "overdue_items": "事项逾期未办结",
    "low_resolution": "问题办结率低",
    "slow_accept": "问题接收迟缓",
    "idle": "问题长期无办理动作",
    "boomerang": "问题转出后又回到该单位",
    "declined_ruled_back": "退回的问题经裁定仍由其负责",
    "passed_on": "问题多次转交无人接收",
    "region_deadline": "未按期完成实施方案明确的盟市工作",
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

# What a league did not do by a region deadline, as a finding's reason says it: 未按期报送底数核实情况及工作措施台账.
REGION_DEADLINE_VERBS: dict[str, str] = {"baseline": "报送底数核实情况及工作措施台账", "first_batch": "盘活一批矿业权"}

# Events after which the holder (to_unit_id) must act next; comments are never action.
_HOLDER_MUST_ACT = (K.ASSIGNED, K.HANDED_OVER, K.ACCEPTED, K.REOPENED, K.RULED)
_WAITING_FOR_RESPONSE = (K.ASSIGNED, K.HANDED_OVER)
_STATE_KINDS = (K.ASSIGNED, K.ACCEPTED, K.HANDED_OVER, K.DECLINED, K.RULED, K.RESOLVED, K.CONFIRMED, K.REOPENED)
_OWNER_KINDS = (K.ASSIGNED, K.HANDED_OVER, K.RULED)
_DONE_KINDS = (K.RESOLVED, K.CONFIRMED)

_E = table_of(ProblemEvent)
_P = table_of(Problem)
_H = table_of(ProblemHandover)


# --- Periods -----------------------------------------------------------------------


def parse_period(period: str) -> Period:
    """A rules period: a quarter ("2026Q1") or a half-year ("2026H1")."""
    return periods.parse_period(period, kinds=(periods.QUARTERLY, periods.HALFYEARLY))


def _local_midnight(day: date) -> datetime:
    return periods.local_midnight(day)


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

    def __init__(self, units: dict[int, Unit], since: dict[int, date]) -> None:
        self.units = units
        self.since = since  # accountable from (oversight.measures): a unit never joined is named for nothing
        self.items: dict[tuple[int, str], Finding] = {}

    def add(self, unit_id: int, rule: str, basis: str, reason: str, evidence: Iterable[dict[str, Any]]) -> None:
        unit = self.units.get(unit_id)
        if unit is None or unit.kind in EXEMPT_UNIT_KINDS or unit_id not in self.since:
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
    return {u.id: u for u in session.execute(select(Unit).where(col(Unit.plan_id) == plan_id)).scalars()}


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


# --- Evidence ------------------------------------------------------------------------------


def event_evidence(*, session: Session, event_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The events with who, when, what and why, oldest first (one query)."""
    if not event_ids:
        return []
    actor_unit, from_unit, to_unit = aliased(Unit), aliased(Unit), aliased(Unit)
    rows = session.execute(
        select(ProblemEvent, Member, col(actor_unit.name), col(from_unit.name), col(to_unit.name))
        .outerjoin(Member, col(Member.id) == col(ProblemEvent.actor_member_id))
        .outerjoin(actor_unit, col(actor_unit.id) == col(ProblemEvent.actor_unit_id))
        .outerjoin(from_unit, col(from_unit.id) == col(ProblemEvent.from_unit_id))
        .outerjoin(to_unit, col(to_unit.id) == col(ProblemEvent.to_unit_id))
        .where(col(ProblemEvent.id).in_(sorted(set(event_ids))))
        .order_by(col(ProblemEvent.at), col(ProblemEvent.id))
    ).all()
    out = []
    labels: dict[int, str] = {}  # a nameless member is named as everywhere else (member_label)
    for e, actor, a_unit, f_unit, t_unit in rows:
        if actor is not None and actor.id not in labels:
            labels[row_id(actor)] = member_label(session=session, member=actor)
        out.append(
            {
                "event_id": e.id,
                "problem_id": e.problem_id,
                "kind": e.kind,
                "kind_label": EVENT_LABELS.get(e.kind, e.kind),
                "actor_member_id": e.actor_member_id,
                "actor": labels[row_id(actor)] if actor is not None else "",
                "actor_unit_id": e.actor_unit_id,
                "actor_unit": a_unit or "",
                "from_unit": f_unit or "",
                "to_unit": t_unit or "",
                "at": e.at.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M"),
                "reason": e.reason,
                "reason_accepted": e.reason_accepted,
            }
        )
    return out


def evidence_line(item: dict[str, Any]) -> str:
    """One evidence item as one Chinese sentence (oversight.sentences; an unknown kind raises)."""
    return evidence_sentence(item)


def missed_report_weeks(*, session: Session, plan_id: int, period: Period, as_of: datetime) -> dict[int, list[Week]]:
    """For each unit with a part in a task: the due reporting weeks (from when it could act) it
    filed no report in."""
    return {
        u: list(r.missed)
        for u, r in unit_reporting(session=session, plan_id=plan_id, period=period, as_of=as_of).items()
    }


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
    # The kinds are picked here, not in WHERE: see _state_at in oversight.measures (SQLite 3.40,
    # given planner statistics, returned events after `as_of` for `kind IN (…) AND at <= ?`).
    for pid, event_id, kind in session.execute(
        select(_E.c.problem_id, _E.c.id, _E.c.kind)
        .where(_E.c.problem_id.in_(sorted(pids)), _E.c.at <= sql_moment(as_of))
        .order_by(_E.c.at, _E.c.id)
    ).all():
        if kind in kinds:
            by_problem[pid].append(event_id)
    for v in out.values():
        for e in v["examples"]:
            e["event_ids"] = e.get("event_ids") or by_problem.get(e["problem_id"], [])
    return out


def _not_accepted(column: Any) -> Any:
    return or_(column.is_(None), column.is_(False))


def boomerangs(
    *,
    session: Session,
    plan_id: int,
    start: datetime,
    as_of: datetime,
    examples: int = EXAMPLES,
    kept: bool | None = None,
) -> dict[int, dict[str, Any]]:
    """Problems handed away by a unit that came back to it (A→B→A, by a hand-over or a
    ruling) within the window. Blamed on the unit the office finally ruled responsible,
    or, if the office never ruled, on the unit that first handed it away; never on a
    unit whose every hand-over of the problem had a reason the office accepted, and not
    at all when the office ruled it to a unit that never passed it on.
    Per blamed unit: the count and the first few problems with their events.
    `kept`: whether every problem has its projection (measures.projections_kept; None: ask)."""
    if kept is None:
        kept = projections_kept(session=session)
    if kept:
        out = _boomerangs_kept(session, plan_id, start, as_of, examples)
    else:
        out = _top(session, _boomerangs_replayed(plan_id, start, as_of), examples, "ruled")
    return _cited_events(session, out, as_of, (K.ASSIGNED, K.HANDED_OVER, K.RULED, K.DECLINED))


def _boomerangs_kept(
    session: Session, plan_id: int, start: datetime, as_of: datetime, examples: int
) -> dict[int, dict[str, Any]]:
    """boomerangs' blamed units, counts and first problems (as `_top` gives them) from the
    hand-overs kept with the projection (models.tables.ProblemHandover): the problems with a
    return in the window, then their hand-overs and rulings up to `as_of` in one read, the
    blame decided here per problem (a few rows each) rather than by self-joins the planner
    runs as hash joins over the whole table."""
    r = _H.alias("r")
    found = select(r.c.problem_id).where(
        r.c.plan_id == plan_id, r.c.comes_back, r.c.at >= sql_moment(start), r.c.at <= sql_moment(as_of)
    )
    rows = session.execute(
        select(_H.c.problem_id, _H.c.event_id, _H.c.kind, _H.c.from_unit_id, _H.c.to_unit_id, _H.c.reason_accepted)
        .where(_H.c.problem_id.in_(found), _H.c.at <= sql_moment(as_of))
        .order_by(_H.c.problem_id, _H.c.event_id)
    ).all()
    by_problem: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_problem[row.problem_id].append(row)
    out: dict[int, dict[str, Any]] = {}
    for pid in sorted(by_problem):
        evs = by_problem[pid]
        rulings = [e for e in evs if e.kind == K.RULED]
        passes = [e for e in evs if e.kind == K.HANDED_OVER]
        if not passes:
            continue
        # The office's last ruling (by id), else the first hand-over's giver.
        unit = rulings[-1].to_unit_id if rulings else None
        if unit is None:
            unit = passes[0].from_unit_id
        if unit is None or not any(e.from_unit_id == unit and e.reason_accepted is not True for e in passes):
            continue
        entry = out.setdefault(unit, {"count": 0, "examples": []})
        entry["count"] += 1
        if len(entry["examples"]) < examples:
            entry["examples"].append({"problem_id": pid, "ruled": bool(rulings)})
    return dict(sorted(out.items()))


def _boomerangs_replayed(plan_id: int, start: datetime, as_of: datetime) -> Any:
    """boomerangs' blamed (unit_id, problem_id, ruled) from the events (a projection not built yet)."""
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
            _P.c.plan_id == plan_id,
            r.c.kind.in_((K.HANDED_OVER, K.RULED)),
            r.c.at >= sql_moment(start),
            r.c.at <= sql_moment(as_of),
        )
    ).subquery()
    ends = (
        select(
            _E.c.problem_id,
            func.max(case((_E.c.kind == K.RULED, _E.c.id))).label("ruling_id"),
            func.min(case((_E.c.kind == K.HANDED_OVER, _E.c.id))).label("first_id"),
        )
        # No kind in WHERE (the CASEs pick them): see _cited_events.
        .where(_E.c.problem_id.in_(select(found.c.problem_id)), _E.c.at <= sql_moment(as_of))
        .group_by(_E.c.problem_id)
    ).subquery()
    ruling, first, x = _E.alias("ruling"), _E.alias("first"), _E.alias("x")
    unit = func.coalesce(ruling.c.to_unit_id, first.c.from_unit_id)
    return (
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
                x.c.at <= sql_moment(as_of),
                _not_accepted(x.c.reason_accepted),
            )
            .exists()
        )
    ).subquery()


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
            r.c.at >= sql_moment(start),
            r.c.at <= sql_moment(as_of),
        )
        .group_by(r.c.to_unit_id, r.c.problem_id, r.c.id)
    ).subquery()
    out = _top(session, blamed, examples, "decline_id", "ruling_id")
    for v in out.values():
        for e in v["examples"]:
            e["event_ids"] = [e.pop("decline_id"), e.pop("ruling_id")]
    return out


def passed_on(
    *,
    session: Session,
    plan_id: int,
    start: datetime,
    as_of: datetime,
    count: int,
    examples: int = EXAMPLES,
    kept: bool | None = None,
) -> dict[int, dict[str, Any]]:
    """Runs of `count` or more hand-overs of a problem with nobody accepting in between (an
    acceptance or a ruling ends a run), with a hand-over in the window. Each unit that
    passed it on in the run without a reason the office accepted is named.
    Per unit: the count of such problems and the first few with their hand-overs.
    `kept`: whether every problem has its projection (measures.projections_kept; None: ask)."""
    if kept is None:
        kept = projections_kept(session=session)
    if kept:
        blamed = _passed_on_kept(plan_id, start, as_of, count)
    else:
        blamed = _passed_on_replayed(session, plan_id, start, as_of, count)
    out = _top(session, blamed, examples, "passes")
    return _cited_events(session, out, as_of, (K.HANDED_OVER,))


def _passed_on_kept(plan_id: int, start: datetime, as_of: datetime, count: int) -> Any:
    """passed_on's blamed (unit_id, problem_id, passes) from the hand-overs kept with the
    projection (models.tables.ProblemHandover). A run's hand-overs are numbered in (time, id)
    order, so the last of them up to `as_of` (which is in the window when any is) carries the
    run's count at `as_of`: the window's hand-overs alone tell which runs count, and only those
    runs' earlier hand-overs are read, through the index on (problem_id, run_id, pass_no)."""
    w = _H.alias("w")
    runs = (
        select(w.c.problem_id, w.c.run_id, func.max(w.c.pass_no).label("passes"))
        .where(
            w.c.plan_id == plan_id,
            w.c.kind == K.HANDED_OVER,
            w.c.at >= sql_moment(start),
            w.c.at <= sql_moment(as_of),
        )
        .group_by(w.c.problem_id, w.c.run_id)
        .having(func.max(w.c.pass_no) >= count)
    ).subquery()
    return (
        select(_H.c.from_unit_id.label("unit_id"), _H.c.problem_id, func.max(runs.c.passes).label("passes"))
        .join(
            runs,
            and_(runs.c.problem_id == _H.c.problem_id, runs.c.run_id == _H.c.run_id, _H.c.pass_no <= runs.c.passes),
        )
        .where(_H.c.kind == K.HANDED_OVER, _not_accepted(_H.c.reason_accepted))
        .group_by(_H.c.from_unit_id, _H.c.problem_id)
    ).subquery()


def _passed_on_replayed(session: Session, plan_id: int, start: datetime, as_of: datetime, count: int) -> Any:
    """passed_on's blamed (unit_id, problem_id, passes) from the events (a projection not built yet)."""
    active = (
        select(_E.c.problem_id)
        .join(_P, _P.c.id == _E.c.problem_id)
        .where(
            _P.c.plan_id == plan_id,
            _E.c.kind == K.HANDED_OVER,
            _E.c.at >= sql_moment(start),
            _E.c.at <= sql_moment(as_of),
        )
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
        ).where(
            _E.c.problem_id.in_(active),
            kind_among(session, _E.c.kind, (K.HANDED_OVER, K.ACCEPTED, K.RULED)),
            _E.c.at <= sql_moment(as_of),
        )
    ).cte("handoffs")
    runs = (
        select(ev.c.problem_id, ev.c.seg, func.count().label("passes"))
        .where(ev.c.kind == K.HANDED_OVER)
        .group_by(ev.c.problem_id, ev.c.seg)
        .having(and_(func.count() >= count, func.max(ev.c.at) >= sql_moment(start)))
    ).subquery()
    return (
        select(ev.c.from_unit_id.label("unit_id"), ev.c.problem_id, func.max(runs.c.passes).label("passes"))
        .join(runs, and_(runs.c.problem_id == ev.c.problem_id, runs.c.seg == ev.c.seg))
        .where(ev.c.kind == K.HANDED_OVER, _not_accepted(ev.c.reason_accepted))
        .group_by(ev.c.from_unit_id, ev.c.problem_id)
    ).subquery()


# --- All rules ----------------------------------------------------------------------------


def evaluate(*, session: Session, plan_id: int, period: str, now: datetime) -> list[Finding]:
    """Every finding of the period: slow, not solving, shifting; each with its evidence
    (at most EXAMPLES problems cited per unit and basis; the summaries give full counts)."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanMissingError()
    p = parse_period(period)
    if now < p.start:
        raise InvalidInputError(f"{p.label}尚未开始，无法评价。")
    as_of = p.as_of(now)
    t = thresholds_of(plan)
    units = _units(session, plan_id)
    found = _Collector(units, accountable_from(session=session, plan_id=plan_id))
    as_of_day = p.as_of_day(now)  # the last day looked at: 截至2026年3月31日, not the midnight after it
    as_of_text = as_of_day.isoformat()
    after = local_day(as_of)  # the day the computation stands at: what fell due before it is late
    # (unit, rule, basis, reason, [evidence items or event ids]) — event ids are resolved in one query at the end.
    pending: list[tuple[int, str, str, str, list[Any]]] = []

    # 推进速度慢
    behind = tasks_behind(session=session, plan_id=plan_id, as_of=as_of, behind_points=t["behind_points"])
    answerable = units_behind(
        session=session, plan_id=plan_id, as_of=as_of, rows=behind, behind_points=t["behind_points"]
    )
    for task in behind:
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
        for unit_id in dict.fromkeys(u for u, _part in task["units"] if u in answerable[task["task_id"]]):
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
    for unit_id, weeks in missed_report_weeks(session=session, plan_id=plan_id, period=p, as_of=as_of).items():
        if len(weeks) >= t["missed_weekly_reports"]:
            pending.append(
                (
                    unit_id,
                    Rule.SLOW,
                    "missed_reports",
                    f"{len(weeks)}周未报送工作进展",
                    [
                        {"kind": "missed_week", "week": w.label, "from": w.first.isoformat(), "to": w.last.isoformat()}
                        for w in weeks
                    ],
                )
            )
    # Whether every problem has its projection: the resolutions, the spells and the hand-overs' runs
    # are then read from it (asked once, not by each measure).
    kept = projections_kept(session=session)
    counts = problem_counts(session=session, plan_id=plan_id, start=p.start, as_of=as_of, end=p.end, kept=kept)
    for unit_id, o in overdue_items(
        session=session, plan_id=plan_id, start=p.start, as_of=as_of, counts=counts
    ).items():
        if o["count"] >= t["overdue_items"]:
            probs = [i["problem_id"] for i in o["items"] if i["kind"] == "overdue_problem"]
            decs = [i["decision_id"] for i in o["items"] if i["kind"] == "overdue_decision"]
            what = "，".join(x for x in (cite("problem", probs), cite("decision", decs)) if x)
            more = "等" if len(o["items"]) < o["count"] else ""
            pending.append(
                (
                    unit_id,
                    Rule.SLOW,
                    "overdue_items",
                    overdue_items_reason(o["problems"], o["decisions"], what + more),
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
                    resolution_reason(
                        c["owned"],
                        c["resolved"],
                        c["overdue"],
                        cite("problem", ids) + more,
                        cite("problem", c["resolved_ids"]),
                    ),
                    # The resolutions that count (办结, oversight.measures.resolutions), then the overdue.
                    [*c["resolved_events"][:EXAMPLES], *(e["event_id"] for e in c["examples"])],
                )
            )
    spells = spell_stats(
        session=session, plan_id=plan_id, start=p.start, as_of=as_of, idle_days=t["idle_days"], kept=kept
    )
    waits_of = wait_problems(session=session, stats=spells)
    for unit_id, pairs in response_waits(
        session=session, plan_id=plan_id, start=p.start, as_of=as_of, stats=spells
    ).items():
        median = weighted_median(pairs)
        if median is not None and median > t["median_accept_days"]:
            n = sum(k for _, k in pairs)
            waits = {
                "kind": "response_waits",
                "waits": sorted(pairs),
                "median": median,
                "problem_ids": waits_of.get(unit_id, []),
                "all_problems": spells.cites_every_wait(unit_id),
                "as_of": as_of_text,
            }
            still = sum(spells.open_waits.get(unit_id, {}).values())
            if still:
                # A wait with no response yet is said so (it read 交办后21个工作日才作出响应).
                waits["still_waiting"] = still
            else:
                # Every wait ended: the figure is dated by the days they span (2026年1月19日至2026年1月30日),
                # not 截至 the period's end, which read as if the unit had still not responded.
                first, last = spells.wait_span[unit_id]
                waits |= {"from": first.isoformat(), "to": last.isoformat()}
            # The summary cites the problems as the figure in the annex does.
            pending.append(
                (
                    unit_id,
                    Rule.NOT_SOLVING,
                    "slow_accept",
                    accept_reason(n, median, waited_on(waits, n), limit=t["median_accept_days"], still=still),
                    [waits],
                )
            )
    for unit_id, idle in idle_spells(
        session=session, plan_id=plan_id, start=p.start, as_of=as_of, idle_days=t["idle_days"], stats=spells
    ).items():
        for sp in idle["spells"][:1]:
            others = (
                f"，另有{idle['count'] - 1}次问题办理停滞{t['idle_days']:g}个工作日以上" if idle["count"] > 1 else ""
            )
            pending.append(
                (
                    unit_id,
                    Rule.NOT_SOLVING,
                    "idle",
                    idle_reason(
                        cite("problem", [sp["problem_id"]]),
                        sp["workdays"],
                        still_idle=sp["still_idle"],
                        period_end=p.last_day if p.has_ended(now) else None,
                        others=others,
                    ),
                    [
                        *(i for x in idle["spells"] for i in (x["event_id"], x["next_event_id"]) if i),
                        # Each spell as one row: since when (its event's day, filled in below), how long.
                        *(
                            {
                                "kind": "idle_spell",
                                "problem_id": x["problem_id"],
                                "workdays": x["workdays"],
                                "_since_event": x["event_id"],
                            }
                            for x in idle["spells"]
                        ),
                    ],
                )
            )

    # Seed 003 三(四): a league or city past a region deadline (oversight.region_items) with the item
    # still open is a 地区 推进问题解决不积极.
    region_items = [i for i in open_region_items(session=session, plan_id=plan_id, today=after) if i["due_on"] < after]
    for unit_id in dict.fromkeys(i["unit_id"] for i in region_items):
        late = [i for i in region_items if i["unit_id"] == unit_id]
        pending.append(
            (
                unit_id,
                Rule.NOT_SOLVING,
                "region_deadline",
                "未按期" + "、".join(REGION_DEADLINE_VERBS[i["kind"]] for i in late),
                [
                    {
                        "kind": "region_deadline",
                        "item": i["kind"],
                        "due_on": i["due_on"].isoformat(),
                        "as_of": as_of_text,
                    }
                    for i in late
                ],
            )
        )

    # 推诿扯皮: said in the office's voice, which issues the notice, so the unit named is 该单位 or 其
    # (本单位 read as the office itself).

    def shifting(found_: dict[int, dict[str, Any]], basis: str, text: Any) -> None:
        for unit_id, v in found_.items():
            pids = [e["problem_id"] for e in v["examples"]]
            shown = cite("problem", pids, v["count"])
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
        boomerangs(session=session, plan_id=plan_id, start=p.start, as_of=as_of, kept=kept),
        "boomerang",
        lambda shown, ex: (
            f"{shown}转出后又转回"
            f"（{'经联席会议办公室裁定由其负责' if any(e['ruled'] for e in ex) else '该单位最先转出'}）"
        ),
    )
    shifting(
        declined_ruled_back(session=session, plan_id=plan_id, start=p.start, as_of=as_of),
        "declined_ruled_back",
        lambda shown, ex: f"退回{shown}，经联席会议办公室裁定仍由其负责",
    )
    shifting(
        passed_on(
            session=session, plan_id=plan_id, start=p.start, as_of=as_of, count=int(t["pass_on_count"]), kept=kept
        ),
        "passed_on",
        lambda shown, ex: f"{shown}连续转交{max(e['passes'] for e in ex)}次无单位接收，其转交理由未获办公室认可",
    )

    ids = [i for *_, ev in pending for i in ev if isinstance(i, int)]
    events = {e["event_id"]: e for e in event_evidence(session=session, event_ids=ids)}
    for unit_id, rule, basis, reason, ev in pending:
        filled = (_since_filled(i, events) for i in ev if isinstance(i, dict))
        items = [events[i] for i in ev if isinstance(i, int) and i in events] + [i for i in filled if i is not None]
        found.add(unit_id, rule, basis, reason, items)
    return found.findings()


def _since_filled(item: dict[str, Any], events: Mapping[int, Mapping[str, Any]]) -> dict[str, Any] | None:
    """An idle spell's item with the day it began (its event's time); the item as it is for any
    other kind; None for a spell whose event is not on record."""
    if "_since_event" not in item:
        return item
    event = events.get(int(item["_since_event"]))
    if event is None:
        return None
    return {**{k: v for k, v in item.items() if k != "_since_event"}, "since": event["at"][:10]}


def findings_json(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Findings as plain data (for --json and the brief)."""
    return [f.to_dict() for f in findings]
