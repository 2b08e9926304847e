"""工作问效 (seed 000 五(四)): half-yearly scores per unit and per zone leader on the
indicator set with the plan's weights, and the rectification ledger (整改台账) with its
loop 问效 → 整改 → 再问效: findings become items (responsible person, deadline,
standard); every half year the ledger is followed up; an item not rectified by its
deadline gets a new deadline and its deduction multiplied (doubled by default) at each
miss; a closed item is re-checked (回头看) after `recheck_days`; closures whose evidence
was reused, and problems that came back soon after closure, are flagged (纸面销号).

Scores come from the same SQL aggregates as the accountability rules.
"""

from __future__ import annotations

import hashlib
import itertools
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from models import (
    Attachment,
    Member,
    Notice,
    NoticeFinding,
    Plan,
    Problem,
    ProblemEvent,
    ProblemEventKind,
    RectificationFollowUp,
    RectificationItem,
    Role,
    Task,
    TaskUnit,
    Unit,
    Zone,
    ZoneLeader,
)
from models.base import UTCDateTime, row_id
from models.db import table_of
from oversight.accountability import (
    RULE_LABELS,
    boomerangs,
    declined_ruled_back,
    parse_period,
    passed_on,
    thresholds_of,
)
from oversight.attachments import is_unlinked
from oversight.audit import actor_of, audit
from oversight.dates import cn_date, cn_datetime, local_day
from oversight.errors import (
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    PlanMissingError,
)
from oversight.facts import Chat, Say, evidence_ids
from oversight.measures import (
    EXEMPT_UNIT_KINDS,
    leader_progress,
    member_reporting,
    reports_weekly,
    resolution_counts,
    response_waits,
    responses_in_time,
    spell_stats,
    tasks_behind,
    unit_progress,
    unit_reporting,
)
from oversight.members import member_label
from oversight.outbox import queued_under
from oversight.periods import half_of
from oversight.planfile import DEFAULT_REVIEW_WEIGHTS, RectificationSpec
from oversight.plans import office_name
from oversight.sentences import cite, evidence_sentence

K = ProblemEventKind

INDICATORS = ("reporting", "progress", "response", "resolution", "shifting")
INDICATOR_LABELS = {
    "reporting": "进展报送",
    "progress": "任务进度",
    "response": "问题响应",
    "resolution": "问题办结",
    "shifting": "推诿扯皮",
    "rectification": "整改扣分",
}
# A unit or zone leader with nothing to evaluate in the period gets no score.
NOT_EVALUATED = "不参评"
# An indicator below this share of its weight puts an item in the rectification ledger.
LEDGER_BELOW = 0.6
SHIFTING_PER_INSTANCE = 1 / 3  # each shifting instance takes a third of the indicator

STANDARDS = {
    "reporting": "每周按时报送工作进展，半年内缺报不超过1周",
    "progress": "承担任务进度达到方案进度安排",
    "response": "交办问题在{days}个工作日内接收或说明理由转交",
    # What 问题办结 measures (measures.resolutions): problems 办结 in the half against those 办结 or overdue,
    # late resolutions included, so not 在办理时限内办结, which no figure checks (audit 4, 5).
    "resolution": "应办结问题的办结率不低于{share}",
    "shifting": "杜绝推诿扯皮，对转交、退回的问题先行办理、主动协调",
    "slow": "加快推进承担任务，按周报送进展，逾期事项全部办结",
    "not_solving": "逾期问题全部办结，交办问题及时接收、持续办理",
}


class ItemState:
    OPEN = "open"
    SUBMITTED = "submitted"  # 销号 asked by the unit with its evidence, waiting for the office
    CLOSED = "closed"  # 销号, waiting for the re-check
    RECHECKED = "rechecked"
    REOPENED = "reopened"


ITEM_STATE_LABELS = {
    "open": "整改中",
    "submitted": "已申请销号，待办公室核验",
    "closed": "已销号待回头看",
    "rechecked": "回头看通过",
    "reopened": "回头看未通过，重新整改",
}
RESPONSIBLE_UNSET = "待责任单位指定"
ITEM_TO_ADD = "拟列入"  # a draft review's item that its issue will add to the ledger
CLOSING_ROLES = (Role.CONTACT, Role.OFFICE, Role.ADMIN)
VERIFY_ROLES = (Role.OFFICE, Role.ADMIN)
RECHECK_ROLES = (Role.OFFICE, Role.ADMIN, Role.SUPERVISOR)


def _rect(plan: Plan) -> RectificationSpec:
    return RectificationSpec.model_validate((plan.spec or {}).get("rectification") or {})


def _weights(plan: Plan) -> dict[str, float]:
    return {**DEFAULT_REVIEW_WEIGHTS, **((plan.spec or {}).get("review_weights") or {})}


def _plan(session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanMissingError()
    return plan


def _today(now: datetime) -> date:
    return local_day(now)


def _combine(parts: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """Weighted score out of 100 over the indicators that apply (weights renormalised); None
    when none applies (不参评: nothing to evaluate is no score, never 100)."""
    used = {k: v for k, v in parts.items() if v is not None and weights.get(k)}
    total = sum(weights[k] for k in used)
    return None if not total else 100 * sum(weights[k] * v for k, v in used.items()) / total


def _ranked(rows: list[dict[str, Any]], key: str, ident: str, *, ranks: Any = None) -> list[dict[str, Any]]:
    """Evaluated rows by `key` descending with their rank (ties share it), then the 不参评 rows.
    With `ranks` (a row predicate), only the rows it admits are ranked; the other evaluated rows
    follow them by `key`, unranked (rank None), before the 不参评 rows."""
    admitted = ranks if ranks is not None else (lambda r: True)
    scored = sorted((r for r in rows if r[key] is not None), key=lambda r: (-r[key], r[ident]))
    first = [r for r in scored if admitted(r)]
    rank = 0
    for i, r in enumerate(first):
        if i == 0 or r[key] != first[i - 1][key]:
            rank = i + 1
        r["rank"] = rank
    apart = [r for r in scored if not admitted(r)]
    rest = sorted((r for r in rows if r[key] is None), key=lambda r: r[ident])
    for r in apart + rest:
        r["rank"] = None
    return first + apart + rest


# --- Scores -------------------------------------------------------------------------------


def unit_scores(*, session: Session, plan_id: int, period: str, now: datetime) -> list[dict[str, Any]]:
    """Each unit with a task part or a problem in the period: indicator shares (0–1, None
    when it does not apply), the weighted score, rectification deductions and the total. Task
    progress, like every indicator, counts from the day the unit could act (measures.unit_progress)."""
    plan = _plan(session, plan_id)
    p = parse_period(period)
    as_of = p.as_of(now)
    t = thresholds_of(plan)
    weights = _weights(plan)
    units = {u.id: u for u in session.execute(select(Unit).where(col(Unit.plan_id) == plan_id)).scalars()}

    reporting = unit_reporting(session=session, plan_id=plan_id, period=p, as_of=as_of)
    # Each task's lag counts against a unit only from the day it could act (measures.unit_progress).
    task_rows = tasks_behind(session=session, plan_id=plan_id, as_of=as_of, behind_points=-1e9)
    progress = unit_progress(session=session, plan_id=plan_id, as_of=as_of, rows=task_rows)
    tasked = {unit_id for row in task_rows for unit_id, _ in row["units"]}
    # Units of tasks without a schedule still report.
    tasked |= set(
        session.execute(
            select(col(TaskUnit.unit_id))
            .join(Task, col(Task.id) == col(TaskUnit.task_id))
            .where(col(Task.plan_id) == plan_id)
        ).scalars()
    )
    resolution = resolution_counts(session=session, plan_id=plan_id, start=p.start, as_of=as_of, end=p.end)
    stats = spell_stats(session=session, plan_id=plan_id, start=p.start, as_of=as_of, idle_days=float("inf"))
    waits = response_waits(session=session, plan_id=plan_id, start=p.start, as_of=as_of, stats=stats)
    answered = responses_in_time(
        session=session, plan_id=plan_id, start=p.start, as_of=as_of, limit_days=t["median_accept_days"], stats=stats
    )
    shifting: dict[int, int] = defaultdict(int)
    for rows in (
        boomerangs(session=session, plan_id=plan_id, start=p.start, as_of=as_of),
        declined_ruled_back(session=session, plan_id=plan_id, start=p.start, as_of=as_of),
        passed_on(session=session, plan_id=plan_id, start=p.start, as_of=as_of, count=int(t["pass_on_count"])),
    ):
        for unit_id, v in rows.items():
            shifting[unit_id] += v["count"]
    deductions = rectification_deductions(session=session, plan_id=plan_id, now=now)

    involved = tasked | set(resolution) | set(waits) | set(shifting) | set(deductions)
    out = []
    for unit_id in sorted(involved):
        unit = units.get(unit_id)
        if unit is None or unit.kind in EXEMPT_UNIT_KINDS:
            continue
        met, judged = answered.get(unit_id, (0, 0))
        res = resolution.get(unit_id)
        owned = bool(res and res["owned"])
        # Scored only on what the unit could act on: a problem answered (or left past the limit)
        # or owned is what it could have shifted; a problem handed to it moments ago and still
        # within the limit is not judged yet, and no problem at all earns no 推诿扯皮 credit.
        could_shift = bool(judged) or owned or shifting.get(unit_id, 0) > 0
        # Asked to file weekly progress: a tasked unit that has had a contact (measures.unit_reporting,
        # from reporting_accountable_from); one with only leaders, or nobody, is 不参评 on 进展报送.
        asked = unit_id in reporting and reporting[unit_id].since is not None
        parts: dict[str, float | None] = {
            "reporting": reporting[unit_id].rate if asked else None,
            "progress": (sum(progress[unit_id]) / len(progress[unit_id])) if progress.get(unit_id) else None,
            "response": met / judged if judged else None,
            "resolution": (res["resolved"] / res["owned"]) if res and owned else None,
            "shifting": max(0.0, 1 - SHIFTING_PER_INSTANCE * shifting.get(unit_id, 0)) if could_shift else None,
        }
        # A unit with no indicator it could act on is 不参评 (nothing could be scored), never a 100
        # ranked above units that worked.
        evaluated = any(v is not None for v in parts.values())
        score = _combine(parts, weights) if evaluated else None
        deduction = deductions.get(unit_id, 0.0)
        out.append(
            {
                "unit_id": unit_id,
                "unit": unit.name,
                "indicators": {k: (None if v is None else round(v, 3)) for k, v in parts.items()},
                "reports_weekly": asked,
                # A unit with no part in any task is scored on its problems alone: listed apart from
                # the units that carried the plan's tasks, never ranked among them.
                "tasked": unit_id in tasked,
                "shifting_instances": shifting.get(unit_id, 0),
                # 问题办结's figures: problems owned, those 办结 (oversight.measures.resolutions) and their ids.
                "problems": {
                    "owned": res["owned"] if res else 0,
                    "resolved": res["resolved"] if res else 0,
                    "resolved_ids": list(res["resolved_ids"]) if res else [],
                },
                "evaluated": score is not None,
                "score": None if score is None else round(score, 1),
                "deduction": round(deduction, 1),
                "total": None if score is None else round(score - deduction, 1),
            }
        )
    return _ranked(out, "total", "unit_id", ranks=lambda r: r["tasked"])


def zone_leader_scores(*, session: Session, plan_id: int, period: str, now: datetime) -> list[dict[str, Any]]:
    """Each zone leader (包联领导): reporting (their own weekly reports, from the day they joined;
    only a leader who must file weekly progress, measures.reports_weekly, else 不参评) and the progress of the rights of their zones against each task's schedule, each zone from the
    day the leader had it (measures.leader_progress, counted as a unit's 任务进度 is): a leader
    is not scored on lag from before they were in charge, nor credited with what was done before."""
    plan = _plan(session, plan_id)
    p = parse_period(period)
    as_of = p.as_of(now)
    weights = _weights(plan)
    leaders = [
        (member, int(zone_id))
        for member, zone_id in session.execute(
            select(Member, col(ZoneLeader.zone_id))
            .join(ZoneLeader, col(ZoneLeader.member_id) == Member.id)
            .where(col(Member.plan_id) == plan_id, col(Member.active).is_(True))
        ).all()
    ]
    if not leaders:
        return []
    zones_of: dict[int, list[int]] = defaultdict(list)
    people: dict[int, Member] = {}
    for member, zone_id in leaders:
        zones_of[row_id(member)].append(zone_id)
        people[row_id(member)] = member
    reporting = member_reporting(session=session, plan_id=plan_id, period=p, as_of=as_of, members=people.values())
    task_rows = tasks_behind(session=session, plan_id=plan_id, as_of=as_of, behind_points=-1e9)
    progress = leader_progress(session=session, plan_id=plan_id, as_of=as_of, rows=task_rows, leaders=leaders)
    zone_names = {
        z.id: f"{z.seq}号{z.name}" for z in session.execute(select(Zone).where(col(Zone.plan_id) == plan_id)).scalars()
    }
    out = []
    for member_id, zones in sorted(zones_of.items()):
        shares = progress.get(member_id, [])
        parts: dict[str, float | None] = {
            # A leader not asked to file weekly progress (measures.reports_weekly) is not scored on it.
            "reporting": reporting[member_id].rate if reports_weekly(people[member_id]) else None,
            "progress": sum(shares) / len(shares) if shares else None,
        }
        score = _combine(parts, weights)
        member = people[member_id]
        out.append(
            {
                "member_id": member_id,
                "name": member_label(session=session, member=member),
                "zones": [zone_names.get(z, str(z)) for z in sorted(zones)],
                "indicators": {k: (None if v is None else round(v, 3)) for k, v in parts.items()},
                "reports_weekly": reports_weekly(member),
                "evaluated": score is not None,
                "score": None if score is None else round(score, 1),
            }
        )
    return _ranked(out, "score", "member_id")


# --- The rectification ledger ------------------------------------------------------------------


def rectification_deductions(*, session: Session, plan_id: int, now: datetime) -> dict[int, float]:
    """Per unit: the deductions of its items missed at least once and still not rectified,
    plus those of items flagged as closed on paper (纸面销号)."""
    out: dict[int, float] = defaultdict(float)
    for unit_id, total in session.execute(
        select(col(RectificationItem.unit_id), func.sum(col(RectificationItem.deduction)))
        .where(
            col(RectificationItem.plan_id) == plan_id,
            col(RectificationItem.misses) > 0,
            col(RectificationItem.state).in_((ItemState.OPEN, ItemState.REOPENED)),
        )
        .group_by(col(RectificationItem.unit_id))
    ).all():
        out[unit_id] += float(total or 0)
    flagged = {f["item_id"] for f in paper_closure_flags(session=session, plan_id=plan_id, now=now) if f.get("item_id")}
    if flagged:
        for item in session.execute(select(RectificationItem).where(col(RectificationItem.id).in_(flagged))).scalars():
            if item.state in (ItemState.CLOSED, ItemState.RECHECKED):
                out[item.unit_id] += item.deduction
    return dict(out)


def ledger_items(*, session: Session, plan_id: int) -> list[RectificationItem]:
    """Every item of the ledger, oldest first."""
    return list(
        session.execute(
            select(RectificationItem)
            .where(col(RectificationItem.plan_id) == plan_id)
            .order_by(col(RectificationItem.id))
        ).scalars()
    )


def add_item(
    *,
    session: Session,
    plan_id: int,
    period: str,
    unit_id: int,
    source: str,
    item: str,
    standard: str,
    deadline: date,
    actor: str,
    now: datetime,
    responsible_person: str = "",
) -> RectificationItem:
    """Put one item in the ledger (idempotent per period, unit and source)."""
    plan = _plan(session, plan_id)
    existing = (
        session.execute(
            select(RectificationItem).where(
                col(RectificationItem.plan_id) == plan_id,
                col(RectificationItem.period) == period,
                col(RectificationItem.unit_id) == unit_id,
                col(RectificationItem.source) == source,
            )
        )
        .scalars()
        .first()
    )
    if isinstance(existing, RectificationItem):
        return existing
    unit = session.get(Unit, unit_id)
    if unit is None or unit.plan_id != plan_id:
        raise InvalidInputError("该单位不属于本计划。")
    row = RectificationItem(
        plan_id=plan_id,
        period=period,
        unit_id=unit_id,
        source=source,
        item=item,
        responsible_person=responsible_person,  # a named member, chosen by the unit in chat
        standard=standard,
        deadline=deadline,
        deduction=_rect(plan).deduction_points,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit(
        session=session,
        actor=actor,
        action="rectification.item_added",
        object_type="rectification",
        object_id=row.id,
        at=now,
        detail={"unit_id": unit_id, "source": source, "deadline": deadline.isoformat()},
    )
    return row


def review_item_specs(
    *, session: Session, plan_id: int, period: str, now: datetime, scores: Sequence[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """What `items_from_review` adds (add_item's arguments), read only: to be added in short
    writes after a read transaction (add_item by its source returns an item already added)."""
    plan = _plan(session, plan_id)
    p = parse_period(period)
    t = thresholds_of(plan)
    deadline = parse_period(half_of(p.end + timedelta(days=1))).last_day
    scores = scores if scores is not None else unit_scores(session=session, plan_id=plan_id, period=period, now=now)
    quarters = [f"{p.year}Q{q}" for q in ((1, 2) if p.key.endswith("H1") else (3, 4))] if "H" in p.key else [p.key]
    specs: list[dict[str, Any]] = []
    for finding, notice in session.execute(
        select(NoticeFinding, Notice)
        .join(Notice, col(Notice.id) == NoticeFinding.notice_id)
        .where(
            col(Notice.plan_id) == plan_id,
            col(Notice.period).in_(quarters),
            col(Notice.state) == "published",
            col(NoticeFinding.dropped).is_(False),
        )
        .order_by(col(NoticeFinding.id))
    ).all():
        specs.append(
            {
                "plan_id": plan_id,
                "period": p.key,
                "unit_id": finding.unit_id,
                "source": f"notice_finding:{finding.id}",
                "item": f"{notice.doc_no}通报：{RULE_LABELS.get(finding.rule, finding.rule)}（{finding.summary}）",
                "standard": STANDARDS.get(finding.rule, "按通报要求整改到位"),
                "deadline": deadline,
            }
        )
    # A half still running is scored up to the moment computed, and its items say so (a rate as of
    # 4月8日 is not the half's).
    scored = p.label if p.has_ended(now) else f"{p.label}（截至{cn_datetime(now)}）"
    for row in scores:
        for key, value in row["indicators"].items():
            if value is None or value >= LEDGER_BELOW:
                continue
            # The share an item asks for is the one that takes it off the ledger: a rate below
            # LEDGER_BELOW makes the item, so 50% (the notice rule's share) read as already met.
            standard = STANDARDS[key].format(
                days=int(t["median_accept_days"]), share=f"{max(t['resolved_share'], LEDGER_BELOW) * 100:.0f}%"
            )
            specs.append(
                {
                    "plan_id": plan_id,
                    "period": p.key,
                    "unit_id": row["unit_id"],
                    "source": f"indicator:{key}",
                    "item": f"{scored}工作问效“{INDICATOR_LABELS[key]}”得分率{value * 100:.0f}%",
                    "standard": standard,
                    "deadline": deadline,
                }
            )
    return specs


def items_from_review(
    *, session: Session, plan_id: int, period: str, now: datetime, scores: Sequence[dict[str, Any]] | None = None
) -> list[RectificationItem]:
    """The half's findings into the ledger: each finding of the half's published notices,
    and each indicator a unit scored below 60 % on. Deadline: the end of the next half."""
    specs = review_item_specs(session=session, plan_id=plan_id, period=period, now=now, scores=scores)
    return [add_item(session=session, **spec, actor=actor_of(system="worker"), now=now) for spec in specs]


def follow_up_ledger(*, session: Session, plan_id: int, now: datetime, actor: str) -> dict[str, list[int]]:
    """The half-yearly follow-up: each item past its deadline and not rectified is missed —
    a new deadline (`extension_days` from today) and its deduction multiplied; closed items
    whose re-check (回头看) is due are listed. Running it twice the same day changes nothing."""
    plan = _plan(session, plan_id)
    rect = _rect(plan)
    today = _today(now)
    missed = []
    for item in session.execute(
        select(RectificationItem)
        .where(
            col(RectificationItem.plan_id) == plan_id,
            col(RectificationItem.state).in_((ItemState.OPEN, ItemState.REOPENED)),
            col(RectificationItem.deadline) < today,
        )
        .order_by(col(RectificationItem.id))
        .with_for_update()
    ).scalars():
        _miss(
            session,
            item=item,
            rect=rect,
            today=today,
            actor=actor,
            now=now,
            kind="missed",
            text=f"逾期未完成整改（原期限{cn_date(item.deadline)}）",
        )
        missed.append(item.id)
    due = list(
        session.execute(
            select(col(RectificationItem.id))
            .where(
                col(RectificationItem.plan_id) == plan_id,
                col(RectificationItem.state) == ItemState.CLOSED,
                col(RectificationItem.recheck_on) <= today,
            )
            .order_by(col(RectificationItem.id))
        ).scalars()
    )
    audit(
        session=session,
        actor=actor,
        action="rectification.followed_up",
        object_type="plan",
        object_id=plan_id,
        detail={"missed": missed, "recheck_due": due},
        at=now,
    )
    return {"missed": missed, "recheck_due": due}


def _miss(
    session: Session,
    *,
    item: RectificationItem,
    rect: RectificationSpec,
    today: date,
    actor: str,
    now: datetime,
    kind: str,
    text: str,
) -> None:
    """延长整改期限并加倍扣分: a new deadline and the deduction multiplied."""
    before = item.deduction
    item.misses += 1
    item.deduction = round(item.deduction * rect.overdue_multiplier, 4)
    item.deadline = today + timedelta(days=rect.extension_days)
    session.add(item)
    session.add(
        RectificationFollowUp(
            item_id=row_id(item),
            kind=kind,
            text=text,
            actor=actor,
            new_deadline=item.deadline,
            at=now,
        )
    )
    audit(
        session=session,
        actor=actor,
        action=f"rectification.{kind}",
        object_type="rectification",
        object_id=item.id,
        at=now,
        detail={
            "misses": item.misses,
            "deduction": [before, item.deduction],
            "new_deadline": item.deadline.isoformat(),
        },
    )


def evidence_hash(text: str) -> str:
    """The hash of closing evidence given as text: spacing and punctuation ignored, so a
    copied text with a full stop added still matches."""
    normal = "".join(
        ch for ch in unicodedata.normalize("NFKC", text).lower() if unicodedata.category(ch)[0] in ("L", "N")
    )
    return hashlib.sha256(normal.encode()).hexdigest()


def close_item(
    *,
    session: Session,
    item_id: int,
    actor: Member,
    evidence_text: str = "",
    attachment_ids: Sequence[int] = (),
    now: datetime,
) -> RectificationItem:
    """销号: close an item with evidence (text and/or files). Asked by the unit's contact, it waits
    for the office's check (verify_closure); closed by the office, its re-check is scheduled now."""
    item = session.get(RectificationItem, item_id, with_for_update=True)
    if item is None:
        raise NotFoundError(f"找不到{item_id}号整改事项。")
    if (
        not actor.active
        or actor.plan_id != item.plan_id
        or actor.role not in CLOSING_ROLES
        or (actor.role == Role.CONTACT and actor.unit_id != item.unit_id)
    ):
        audit(
            session=session,
            actor=actor_of(actor.id),
            action="rectification.refused",
            object_type="rectification",
            object_id=item_id,
            detail={"what": "close"},
            at=now,
        )
        raise PermissionDeniedError("只有责任单位联络员或联席会议办公室可以为该整改事项销号。")
    if item.state not in (ItemState.OPEN, ItemState.REOPENED):
        raise InvalidStateError(f"该整改事项{ITEM_STATE_LABELS.get(item.state, item.state)}，不能再次销号。")
    text = (evidence_text or "").strip()
    if not text and not attachment_ids:
        raise InvalidInputError("销号须提供整改佐证：书面说明或佐证材料。")
    files = []
    for attachment_id in attachment_ids:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None or not is_unlinked(attachment):
            raise InvalidInputError("所上传的附件不存在或已用于其他记录，请重新上传。")
        files.append(attachment)
    plan = _plan(session, item.plan_id)
    follow = RectificationFollowUp(
        item_id=row_id(item),
        kind="closed",
        text=text,
        evidence_hash=evidence_hash(text) if text else "",
        actor=actor_of(actor.id),
        at=now,
    )
    session.add(follow)
    session.flush()
    for attachment in files:
        attachment.rectification_followup_id = follow.id
        session.add(attachment)
    submitted = actor.role == Role.CONTACT
    if submitted:
        item.state = ItemState.SUBMITTED
    else:
        item.state = ItemState.CLOSED
        item.closed_at = now
        item.recheck_on = _today(now) + timedelta(days=int(thresholds_of(plan)["recheck_days"]))
    session.add(item)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="rectification.submitted" if submitted else "rectification.closed",
        object_type="rectification",
        object_id=item.id,
        at=now,
        detail={
            "followup_id": follow.id,
            "evidence_hash": follow.evidence_hash,
            "attachments": [a.sha256 for a in files],
            "recheck_on": item.recheck_on.isoformat() if item.recheck_on else None,
        },
    )
    return item


def verify_closure(
    *, session: Session, item_id: int, actor: Member, ok: bool, reason: str = "", now: datetime
) -> RectificationItem:
    """The office checks a 销号 the unit asked for: accepted, it is closed and its re-check (回头看)
    scheduled; returned (with a reason), the unit goes on rectifying under the same deadline."""
    item = session.get(RectificationItem, item_id, with_for_update=True)
    if item is None:
        raise NotFoundError(f"找不到{item_id}号整改事项。")
    if not actor.active or actor.plan_id != item.plan_id or actor.role not in VERIFY_ROLES:
        audit(
            session=session,
            actor=actor_of(actor.id),
            action="rectification.refused",
            object_type="rectification",
            object_id=item_id,
            detail={"what": "verify"},
            at=now,
        )
        raise PermissionDeniedError("只有联席会议办公室可以核验整改销号。")
    if item.state != ItemState.SUBMITTED:
        raise InvalidStateError(f"该整改事项{ITEM_STATE_LABELS.get(item.state, item.state)}，没有待核验的销号申请。")
    why = " ".join((reason or "").split())
    if not ok and len(why) < 4:
        raise InvalidInputError("退回销号申请须说明理由，不少于4个字。")
    if len(why) > 300:
        raise InvalidInputError(f"理由最多300个字，当前{len(why)}个字。")
    if ok:
        item.state = ItemState.CLOSED
        item.closed_at = now
        plan = _plan(session, item.plan_id)
        item.recheck_on = _today(now) + timedelta(days=int(thresholds_of(plan)["recheck_days"]))
    else:
        failed = session.execute(
            select(col(RectificationFollowUp.id)).where(
                col(RectificationFollowUp.item_id) == item.id, col(RectificationFollowUp.kind) == "recheck_failed"
            )
        ).first()
        item.state = ItemState.REOPENED if failed is not None else ItemState.OPEN
    session.add(item)
    session.add(
        RectificationFollowUp(
            item_id=row_id(item),
            kind="closure_accepted" if ok else "closure_returned",
            text=why,
            actor=actor_of(actor.id),
            at=now,
        )
    )
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="rectification.closed" if ok else "rectification.closure_returned",
        object_type="rectification",
        object_id=item.id,
        at=now,
        detail={"reason": why, "recheck_on": item.recheck_on.isoformat() if ok and item.recheck_on else None},
    )
    return item


def recheck_item(
    *, session: Session, item_id: int, actor: Member, ok: bool, text: str = "", now: datetime
) -> RectificationItem:
    """回头看: the office confirms a closed item stayed rectified, or reopens it (a miss: new
    deadline, deduction multiplied)."""
    item = session.get(RectificationItem, item_id, with_for_update=True)
    if item is None:
        raise NotFoundError(f"找不到{item_id}号整改事项。")
    if not actor.active or actor.plan_id != item.plan_id or actor.role not in RECHECK_ROLES:
        raise PermissionDeniedError("只有联席会议办公室或联合督导组可以回头看。")
    if item.state != ItemState.CLOSED:
        raise InvalidStateError("只有已销号的整改事项才能回头看。")
    if ok:
        item.state = ItemState.RECHECKED
        session.add(item)
        session.add(
            RectificationFollowUp(
                item_id=row_id(item),
                kind="recheck_ok",
                text=text.strip(),
                actor=actor_of(actor.id),
                at=now,
            )
        )
        audit(
            session=session,
            actor=actor_of(actor.id),
            action="rectification.recheck_ok",
            object_type="rectification",
            object_id=item.id,
            at=now,
        )
        return item
    if len(text.strip()) < 2:
        raise InvalidInputError("回头看未通过，须说明原因。")
    item.state = ItemState.REOPENED
    item.closed_at = None
    _miss(
        session,
        item=item,
        rect=_rect(_plan(session, item.plan_id)),
        today=_today(now),
        actor=actor_of(actor.id),
        now=now,
        kind="recheck_failed",
        text=text.strip(),
    )
    return item


def paper_closure_flags(
    *, session: Session, plan_id: int, now: datetime, since: datetime | None = None
) -> list[dict[str, Any]]:
    """纸面销号 as the record stands at `now`: the same evidence (file hash or text) closing
    different items, and problems reopened within `reopen_window_days` of being confirmed closed.
    With `since` (a review's period start), only what happened from then on: a reopening at or
    after it, a shared evidence one of whose closures is; so a later review does not name the
    same flag again, and a review rebuilt for an old period sees nothing that came after it."""
    plan = _plan(session, plan_id)
    window = timedelta(days=float(thresholds_of(plan)["reopen_window_days"]))
    f, i = table_of(RectificationFollowUp), table_of(RectificationItem)
    out: list[dict[str, Any]] = []
    closed = (
        select(f.c.id, f.c.item_id, f.c.evidence_hash, f.c.at)
        .join(i, i.c.id == f.c.item_id)
        .where(i.c.plan_id == plan_id, f.c.kind == "closed", f.c.at <= now)
        .subquery()
    )
    a = table_of(Attachment)
    by_file = select(a.c.sha256.label("h"), closed.c.item_id, closed.c.at).join(
        closed, closed.c.id == a.c.rectification_followup_id
    )
    by_text = select(closed.c.evidence_hash.label("h"), closed.c.item_id, closed.c.at).where(
        closed.c.evidence_hash != ""
    )
    for what, stmt in (("file", by_file), ("text", by_text)):
        sub = stmt.subquery()
        shared = select(sub.c.h).group_by(sub.c.h).having(func.count(func.distinct(sub.c.item_id)) > 1)
        if since is not None:
            shared = shared.having(func.max(sub.c.at) >= since)
        dup = shared.subquery()
        rows = session.execute(
            select(sub.c.h, sub.c.item_id).join(dup, dup.c.h == sub.c.h).distinct().order_by(sub.c.h, sub.c.item_id)
        ).all()
        groups: dict[str, list[int]] = defaultdict(list)
        for h, item_id in rows:
            groups[h].append(item_id)
        for h, ids in groups.items():
            for item_id in ids:
                out.append(
                    {
                        "kind": f"same_evidence_{what}",
                        "item_id": item_id,
                        "evidence_hash": h,
                        "other_item_ids": [x for x in ids if x != item_id],
                    }
                )
    e = table_of(ProblemEvent)
    pt = table_of(Problem)
    nxt = (
        select(
            e.c.id,
            e.c.problem_id,
            e.c.kind,
            e.c.at,
            func.lead(e.c.kind).over(partition_by=e.c.problem_id, order_by=(e.c.at, e.c.id)).label("next_kind"),
            func.lead(e.c.at, type_=UTCDateTime())
            .over(partition_by=e.c.problem_id, order_by=(e.c.at, e.c.id))
            .label("next_at"),
            func.lead(e.c.id).over(partition_by=e.c.problem_id, order_by=(e.c.at, e.c.id)).label("next_id"),
        ).where(
            e.c.problem_id.in_(
                select(e.c.problem_id)
                .join(pt, pt.c.id == e.c.problem_id)
                .where(pt.c.plan_id == plan_id, e.c.kind == K.REOPENED)
            ),
            e.c.kind.in_((K.CONFIRMED, K.REOPENED)),
        )
    ).subquery()
    for event_id, pid, closed_at, next_at, next_id in session.execute(
        select(nxt.c.id, nxt.c.problem_id, nxt.c.at, nxt.c.next_at, nxt.c.next_id)
        .where(
            nxt.c.kind == K.CONFIRMED,
            nxt.c.next_kind == K.REOPENED,
            nxt.c.next_at <= now,
            *([nxt.c.next_at >= since] if since is not None else []),
        )
        .order_by(nxt.c.problem_id, nxt.c.at)
    ).all():
        if next_at - closed_at <= window:
            # The unit whose resolution was confirmed: the last resolution before the confirmation
            # (the review names it beside the flag, having credited it with that 办结).
            u = table_of(Unit)
            resolver, resolver_name = session.execute(
                select(e.c.to_unit_id, u.c.name)
                .outerjoin(u, u.c.id == e.c.to_unit_id)
                .where(e.c.problem_id == pid, e.c.kind == K.RESOLVED, e.c.id < event_id)
                .order_by(e.c.id.desc())
                .limit(1)
            ).one_or_none() or (None, None)
            out.append(
                {
                    "kind": "reopened_soon",
                    "problem_id": pid,
                    "unit_id": resolver,
                    "unit": resolver_name,
                    "confirmed_event_id": event_id,
                    "reopened_event_id": next_id,
                    "confirmed_at": closed_at.isoformat(),
                    "reopened_at": next_at.isoformat(),
                    "days": (next_at - closed_at).days,
                }
            )
    return out


# --- The review as a whole -------------------------------------------------------------------------


def build_review(*, session: Session, plan_id: int, period: str, now: datetime) -> dict[str, Any]:
    """The half's review as plain data: unit and zone-leader scores, the ledger, the flags."""
    plan = _plan(session, plan_id)
    p = parse_period(period)
    if "H" not in p.key:
        raise InvalidInputError("工作问效按半年进行，期别应为 2026H1 或 2026H2。")
    if now < p.start:  # as the notice rules refuse a quarter to come (accountability.evaluate)
        raise InvalidInputError(f"{p.label}尚未开始，无法评价。")
    units = {u.id: u.name for u in session.execute(select(Unit).where(col(Unit.plan_id) == plan_id)).scalars()}
    scores = unit_scores(session=session, plan_id=plan_id, period=p.key, now=now)
    items = ledger_items(session=session, plan_id=plan_id)
    # What issuing the review adds to the ledger (items_from_review) and is not in it yet: a draft
    # lists them, so it never says 本期没有整改事项 above scores that will make some; once issued
    # they are in the ledger and this is empty.
    held = {(it.period, it.unit_id, it.source) for it in items}
    deduction = _rect(plan).deduction_points
    to_add = [
        {
            "unit_id": spec["unit_id"],
            "unit": units.get(spec["unit_id"], ""),
            "source": spec["source"],
            "item": spec["item"],
            "responsible_person": RESPONSIBLE_UNSET,
            "standard": spec["standard"],
            "deadline": spec["deadline"].isoformat(),
            "deduction": deduction,
        }
        for spec in review_item_specs(session=session, plan_id=plan_id, period=p.key, now=now, scores=scores)
        if (spec["period"], spec["unit_id"], spec["source"]) not in held
    ]
    return {
        "plan": plan.key,
        "period": p.key,
        "label": p.label,
        "from": p.first_day.isoformat(),
        "to": p.last_day.isoformat(),
        "weights": _weights(plan),
        "units": scores,
        "zone_leaders": zone_leader_scores(session=session, plan_id=plan_id, period=p.key, now=now),
        "ledger": [
            {
                "id": it.id,
                "period": it.period,
                "unit_id": it.unit_id,
                "unit": units.get(it.unit_id, ""),
                "item": it.item,
                "responsible_person": it.responsible_person or RESPONSIBLE_UNSET,
                "standard": it.standard,
                "deadline": it.deadline.isoformat(),
                "deduction": it.deduction,
                "misses": it.misses,
                "state": it.state,
                "state_label": ITEM_STATE_LABELS.get(it.state, it.state),
                "recheck_on": it.recheck_on.isoformat() if it.recheck_on else None,
            }
            for it in items
        ],
        "to_add": to_add,
        "flags": paper_closure_flags(
            session=session, plan_id=plan_id, now=min(p.end - timedelta(microseconds=1), now), since=p.start
        ),
        # As of `now` inclusive while the half runs: a 督办单 issued at the very moment the review is
        # computed (the demo's one clock; a job run right after the orders' job) is in it.
        "supervision": supervision_counts(
            session=session, plan_id=plan_id, start=p.start, end=min(p.end, now + timedelta(microseconds=1))
        ),
        "supervision_stages": supervision_stages(
            session=session, plan_id=plan_id, start=p.start, end=min(p.end, now + timedelta(microseconds=1))
        ),
        "supervision_orders": supervision_orders(
            session=session, plan_id=plan_id, start=p.start, end=p.end, as_of=min(p.end, now)
        ),
        # Issued in the half before, with their 办结时限 in this one: that review saw them within it.
        "supervision_orders_carried": supervision_orders(
            session=session, plan_id=plan_id, start=p.start, end=p.end, as_of=min(p.end, now), carried=True
        ),
        "attendance": meeting_attendance(session=session, plan_id=plan_id, first=p.first_day, last=p.last_day),
    }


def meeting_attendance(*, session: Session, plan_id: int, first: date, last: date) -> dict[str, Any]:
    """Seed 003 (按时派人参加工作例会): the meetings held from `first` to `last` whose notice went out,
    and the member units that were excused from or did not answer any of them
    (oversight.convening.attendance_by_unit, held meetings only)."""
    from oversight.convening import attendance_by_unit, circulated_meetings

    meetings = circulated_meetings(session=session, plan_id=plan_id, first=first, last=last, held_only=True)
    record = attendance_by_unit(session=session, plan_id=plan_id, first=first, last=last)
    days = {m.id: m.held_on for m in meetings}
    names = {u.id: u.name for u in session.execute(select(Unit).where(col(Unit.plan_id) == plan_id)).scalars()}
    units = [
        {
            "unit_id": uid,
            "unit": names.get(uid, ""),
            "called": r["called"],
            "excused": r["excused"],
            "none": r["none"],
            "missed_on": [days[m].isoformat() for m in r["missed"] if m in days],
        }
        for uid, r in record.items()
        if r["excused"] or r["none"]
    ]
    return {
        "meetings": [{"id": m.id, "held_on": m.held_on.isoformat()} for m in meetings],
        "units": sorted(units, key=lambda u: (-u["none"], -u["excused"], u["unit"])),
    }


def supervision_units_text(rows: list[dict[str, Any]]) -> str:
    """The units urged or sent a 督办单, those with the same counts in one clause (rows come most
    first, so equal counts are adjacent): 旗林草局收到红色督办单2份；旗水利局、旗人武部各收到红色督办单1份."""
    clauses = []
    for (urged, orders), group in itertools.groupby(rows, key=lambda r: (r["urged"], r["orders"])):
        names = [r["unit"] for r in group]
        said = [*([f"被催办{urged}次"] if urged else []), *([f"收到红色督办单{orders}份"] if orders else [])]
        clauses.append("、".join(names) + ("各" if len(names) > 1 else "") + "、".join(said))
    return "；".join(clauses)


def supervision_paragraphs(review: dict[str, Any], say: Say) -> list[str]:
    """督办与催办: the blue and yellow stages the units were told of, the units urged or sent a
    督办单, and that the office urged nobody when it did not."""
    supervision = review.get("supervision") or []
    stages = review.get("supervision_stages") or {}
    urged = any(r["urged"] for r in supervision)
    lines = []
    if stages:
        blue = sum(len(c.get("blue", [])) for c in stages.values())
        yellow = sum(len(c.get("yellow", [])) for c in stages.values())
        said = [*([f"蓝色提醒{blue}次"] if blue else []), *([f"黄色督办{yellow}次"] if yellow else [])]
        events = [e for c in stages.values() for e in (*c.get("blue", []), *c.get("yellow", []))]
        lines.append(
            say.text(
                "supervision_stages" if urged else "supervision_stages_not_urged",
                {"unit": sorted(int(u) for u in stages), "supervision": sorted(events)},
                units=len(stages),
                stages="、".join(said),
                blue=blue,
                yellow=yellow,
            )
        )
    if supervision:
        lines.append(
            say.text(
                "supervision_units",
                {"unit": [int(r["unit_id"]) for r in supervision]},
                units=supervision_units_text(supervision),
            )
        )
        if not urged and not stages:
            lines.append(say.text("supervision_not_urged"))
    else:
        lines.append(say.text("supervision_none"))
    return [*lines, *order_paragraphs(review, say, urged=bool(supervision)), *carried_paragraphs(review, say)]


def order_paragraphs(review: dict[str, Any], say: Say, *, urged: bool) -> list[str]:
    """督办与催办's 督办单: how many were issued and how many met their 办结时限, each case its own
    sentence (均 only when every one did, or every one did not, or none has reached it yet), then
    the missed ones by 文号, unit and item, closed late or still open. None issued is said only beside
    a sentence on the units urged (supervision_none already says nobody was urged or ordered). A
    review stored before the orders were kept says nothing of them."""
    orders = review.get("supervision_orders")
    if orders is None:
        return []
    if not orders:
        return [say.text("orders_none")] if urged else []
    n = len(orders)
    states = Counter(o["state"] for o in orders)
    met, pending = states["met"], states["pending"]
    missed = [o for o in orders if o["state"] in ("late", "open")]
    ids = {
        "order": [int(o["order_id"]) for o in orders],
        "unit": list(dict.fromkeys(int(o["unit_id"]) for o in orders)),
    }
    counts = {"n": n, "met": met, "missed": len(missed), "pending": pending}
    one = "" if n > 1 else "_one"
    if met == n:
        lines = [say.text("orders_all_met" + one, ids, **counts)]
    elif len(missed) == n:
        lines = [say.text("orders_all_missed" + one, ids, **counts)]
    elif pending == n:
        lines = [say.text("orders_all_pending" + one, ids, **counts)]
    else:
        parts = [
            *([ORDERS_MET.format(n=met)] if met else []),
            *([ORDERS_MISSED.format(n=len(missed))] if missed else []),
            *([ORDERS_PENDING.format(n=pending)] if pending else []),
        ]
        lines = [say.text("orders_mixed", ids, parts="，".join(parts), **counts)]
    if missed:
        lines.append(
            say.text("orders_missed", order_ids(missed), orders="；".join(order_missed_text(o) for o in missed))
        )
    return lines


def order_ids(orders: list[dict[str, Any]]) -> dict[str, list[int]]:
    """What sentences naming these 督办单 one by one rest on: the orders, their units, their items
    (by the item's noun) and the events that closed them."""
    ids: dict[str, list[int]] = {
        "order": [int(o["order_id"]) for o in orders],
        "unit": list(dict.fromkeys(int(o["unit_id"]) for o in orders)),
    }
    for o in orders:
        noun = ORDER_ITEM_NOUNS.get(o["kind"])
        if noun:
            ids.setdefault(noun, []).append(int(o["item_id"]))
        if o.get("event_id"):
            ids.setdefault("event", []).append(int(o["event_id"]))
    return ids


def carried_paragraphs(review: dict[str, Any], say: Say) -> list[str]:
    """The 督办单 of the half before whose 办结时限 fell in this one (its review saw them within it):
    each by 文号, unit and item, and how it stands — 办结 in time, late, still open, or not yet due."""
    carried = review.get("supervision_orders_carried") or []
    if not carried:
        return []
    orders = "；".join(order_state_text(o) for o in carried)
    return [say.text("orders_carried", order_ids(carried), n=len(carried), orders=orders)]


def order_state_text(o: dict[str, Any]) -> str:
    """One 督办单 as it stands: missed (order_missed_text), …，2026年7月2日办结 in time, or …，尚未到办结时限."""
    if o["state"] in ("late", "open"):
        return order_missed_text(o)
    head = f"{o['doc_no']}（{o['unit']}，{o['item']}）办结时限为{_cn(date.fromisoformat(o['limit_on']))}"
    if o["state"] == "met":
        return f"{head}，{_cn(date.fromisoformat(o['closed_on']))}办结"
    return f"{head}，尚未到办结时限"


# The noun a 督办单's item is cited by in a fact's ids (oversight.supervision.MARK_NOUNS; a league's
# region item is cited by the league, its unit).
ORDER_ITEM_NOUNS = {"problem": "problem", "decision": "decision", "rectification": "item"}
ORDERS_MET = "{n}份在办结时限内办结"
ORDERS_MISSED = "{n}份未在办结时限内办结"
ORDERS_PENDING = "{n}份尚未到办结时限"


def order_missed_text(o: dict[str, Any]) -> str:
    """One missed 督办单: 乌中联办督〔2026〕3号（旗林草局，8号问题）办结时限为2026年3月12日，截至2026年3月31日
    仍未办结，已逾期13个工作日; closed late: …，2026年3月16日办结，逾期2个工作日 (超过办结时限 when
    it closed on a day off right after it)."""
    head = f"{o['doc_no']}（{o['unit']}，{o['item']}）办结时限为{_cn(date.fromisoformat(o['limit_on']))}"
    days = int(o["late_days"])
    if o["state"] == "late":
        closed = _cn(date.fromisoformat(o["closed_on"]))
        return f"{head}，{closed}办结，" + (f"逾期{days}个工作日" if days else "超过办结时限")
    seen = _cn(date.fromisoformat(o["as_of_day"]))
    return f"{head}，截至{seen}仍未办结" + (f"，已逾期{days}个工作日" if days else "")


def flag_paragraph(flag: dict[str, Any], say: Say) -> str:
    """纸面销号核查's sentence of one flag: a problem reopened soon after its confirmation names the
    unit that resolved it (the flag's unit; a review stored before it was kept names none)."""
    line = evidence_sentence(flag)[:-1]
    if flag["kind"] == "reopened_soon" and flag.get("unit"):
        ids = {**evidence_ids([flag]), "unit": [int(flag["unit_id"])]}
        return say.text("paper_closure_unit", ids, line=line, unit=flag["unit"])
    return say.text("paper_closure", evidence_ids([flag]), line=line)


def supervision_stages(
    *, session: Session, plan_id: int, start: datetime, end: datetime
) -> dict[str, dict[str, list[int]]]:
    """Per unit (its id as text, as the stored review keeps it): the blue and yellow stages in
    [start, end) it was told of, as supervision event ids by colour (oversight.supervision)."""
    from oversight.supervision import stage_counts

    return {str(u): c for u, c in stage_counts(session=session, plan_id=plan_id, start=start, end=end).items()}


def supervision_orders(
    *, session: Session, plan_id: int, start: datetime, end: datetime, as_of: datetime, carried: bool = False
) -> list[dict[str, Any]]:
    """The 督办单 issued in [start, end) by `as_of` (`carried`: those issued before `start` with their
    办结时限 in the period), each with its unit's name, the item it names and whether the item was
    closed by the order's 办结时限 (oversight.supervision.order_outcomes, carried_outcomes)."""
    from oversight.supervision import carried_outcomes, item_title, order_outcomes

    units = {u.id: u.name for u in session.execute(select(Unit).where(col(Unit.plan_id) == plan_id)).scalars()}
    outcomes = (
        carried_outcomes(session=session, plan_id=plan_id, start=start, as_of=as_of)
        if carried
        else order_outcomes(session=session, plan_id=plan_id, start=start, end=end, as_of=as_of)
    )
    return [
        {**o.as_dict(), "unit": units.get(o.unit_id, ""), "item": item_title(kind=o.kind, item_id=o.item_id)}
        for o in outcomes
    ]


def supervision_counts(*, session: Session, plan_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per unit urged or ordered in [start, end): how many times the office urged (催办) its items
    and how many 督办单 it received (oversight.supervision), most first."""
    from oversight.supervision import red_counts, urge_counts

    urged = urge_counts(session=session, plan_id=plan_id, start=start, end=end)
    orders = red_counts(session=session, plan_id=plan_id, start=start, end=end)
    units = {u.id: u.name for u in session.execute(select(Unit).where(col(Unit.plan_id) == plan_id)).scalars()}
    rows = [
        {"unit_id": u, "unit": units.get(u, ""), "urged": urged.get(u, 0), "orders": orders.get(u, 0)}
        for u in set(urged) | set(orders)
    ]
    # Most first; equal counts in the plan's order of its units (their ids), as every table lists them.
    return sorted(rows, key=lambda r: (-r["orders"], -r["urged"], r["unit_id"]))


def run_review(*, session: Session, plan_id: int, period: str, now: datetime) -> dict[str, Any]:
    """The half-yearly review: follow up the ledger, add this half's items, then build the review."""
    key = parse_period(period).key
    follow = follow_up_ledger(session=session, plan_id=plan_id, now=now, actor=actor_of(system="worker"))
    scores = unit_scores(session=session, plan_id=plan_id, period=key, now=now)
    added = items_from_review(session=session, plan_id=plan_id, period=key, now=now, scores=scores)
    review = build_review(session=session, plan_id=plan_id, period=key, now=now)
    review["follow_up"] = follow
    review["added_item_ids"] = [i.id for i in added]
    return review


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.0f}%"


def _score(v: float | None) -> str:
    return NOT_EVALUATED if v is None else f"{v:.1f}"


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# Every record-dependent sentence of the review, one template per fact kind (oversight.facts).
# A quantifier (均/没有/未发现) appears only in a kind whose fact proves it.
REVIEW_TEXTS: dict[str, str] = {
    # {whom}: "11个成员单位和2名包联领导", "11个成员单位" or "2名包联领导" (only counts above zero).
    # {as_of}: empty once the half has ended; while it runs, the moment the review was computed.
    # {by}: 根据 when only zone leaders are scored, the mechanism's own object (seed 000 五(四): 对包联人员工作
    # 成效进行评估); 参照 once member units are scored too, which the mechanism does not name.
    "summary_opening": "{by}{basis}工作问效机制，联席会议办公室依据{label}工作记录{as_of}，对{whom}进行了量化评价{ledger}。"
    "现将有关情况报告如下。",
    "summary_opening_none": "参照{basis}工作问效机制，联席会议办公室依据{label}工作记录{as_of}开展工作问效，本期没有参评的成员单位"
    "和包联领导{ledger}。现将有关情况报告如下。",
    "not_evaluated": "{names}本期没有可评价的事项，不参评、不排名。",
    # Units with no part in any task, scored on the problems handed to them: listed apart, unranked.
    "problems_only": "{names}不承担批次任务，仅就交办问题的响应、办结和推诿扯皮情况评分，单独列示，不参与排名。",
    # 办结 as oversight.measures.resolutions defines it, the same figure as the brief's and the notice's.
    # 应办结问题, not 负责问题, which read as every problem the unit held (the brief's 表4 gave it more;
    # the notice had dropped 负责 for the same reason, oversight.sentences.resolution_reason).
    "resolution_units": "问题办结得分率为本期办结的问题占应办结问题的比例（办结指{end}处于已办结状态、且于本期办结的问题，"
    "应办结问题为本期办结的和逾期未办结的问题）：{units}。",
    "low_total": "总分低于60分的单位：{names}。",
    "low_leaders": "得分低于60分的包联领导：{names}。",
    "units_none": "本期没有参加问效评价的成员单位。",
    "leaders_none": "本期没有明确包联整合区的领导。",
    "ledger_none": "本期没有整改事项。",
    # A draft's items to come (build_review's to_add), in the table as 拟列入; one deadline for all
    # (the end of the next half), the latest if a plan's rules ever gave several.
    "ledger_to_add": "本报告印发后，{units}个单位的{n}项事项列入整改台账（表中状态为“{state}”），整改期限至{deadline}。",
    "ledger_missed": "逾期未完成整改或回头看未通过的{n}项事项已延长整改期限并加倍扣分。",
    "ledger_closed": "已销号的{n}项事项将于回头看期限到期后回头看。",
    "meetings_held": "本期召开联席会议{n}次（{days}）。",
    "attendance_all_once": "被通知的成员单位均已答复派人参加。",
    "attendance_all_each": "被通知的成员单位每次均已答复派人参加。",
    "attendance_units": "{units}。",
    "supervision_units": "本期{units}。",
    "supervision_none": "本期没有被催办或红色督办的单位。",
    # The blue and yellow stages the units were told of (oversight.supervision.stage_counts); with no
    # 催办 of the office, the same sentence says so (a reader of 督办与催办 is not left to guess).
    "supervision_stages": "本期向{units}个单位发出{stages}。",
    "supervision_stages_not_urged": "本期向{units}个单位发出{stages}，办公室未另行催办。",
    "supervision_not_urged": "办公室本期未催办。",
    # The 督办单 of the half and their 办结时限 (oversight.supervision.order_outcomes), one kind per case.
    "orders_none": "本期未发出红色督办单。",
    "orders_all_met_one": "本期发出红色督办单1份，已在办结时限内办结。",
    "orders_all_met": "本期发出红色督办单{n}份，均在办结时限内办结。",
    "orders_all_missed_one": "本期发出红色督办单1份，未在办结时限内办结。",
    "orders_all_missed": "本期发出红色督办单{n}份，均未在办结时限内办结。",
    "orders_all_pending_one": "本期发出红色督办单1份，尚未到办结时限。",
    "orders_all_pending": "本期发出红色督办单{n}份，均尚未到办结时限。",
    "orders_mixed": "本期发出红色督办单{n}份，其中{parts}。",
    "orders_missed": "未在办结时限内办结的：{orders}。",
    "orders_carried": "上期发出、办结时限在本期的红色督办单{n}份：{orders}。",
    "paper_closure": "{line}，涉嫌纸面销号。",
    # A problem reopened soon after it was confirmed closed: who resolved it (the unit credited with it).
    "paper_closure_unit": "{line}，涉嫌纸面销号（该问题由{unit}办结）。",
    "paper_closure_none": "未发现重复使用佐证材料销号或销号后短期内问题反弹的情况。",
}
SUMMARY_AS_OF = "（统计截至{moment}）"
LEDGER_FOLLOWED = "，并对整改台账进行了跟踪问效"
LEDGER_FOLLOWED_ALONE = "；对整改台账进行了跟踪问效"


# The indicators a unit with no part in any task can be scored on: its problems.
PROBLEM_INDICATORS = ("response", "resolution", "shifting")


def _apart(row: dict[str, Any]) -> bool:
    """A unit scored on its problems alone (no part in any task): listed apart, not ranked."""
    return row["total"] is not None and not row.get("tasked", True)


def _whom(units: int, leaders: int) -> str:
    """Who was evaluated, naming only the counts above zero (no "0名包联领导")."""
    return "和".join([*([f"{units}个成员单位"] if units else []), *([f"{leaders}名包联领导"] if leaders else [])])


def ledger_paragraphs(
    ledger: list[dict[str, Any]], say: Say | None = None, to_add: Sequence[dict[str, Any]] = ()
) -> list[str]:
    """What the ledger section says of its items, each sentence only where an item proves it:
    none at all (nor any to be added); those extended and doubled (missed at least once); those 销号
    awaiting 回头看; and, in a draft, those its issue will add (`to_add`, build_review's)."""
    say = say if say is not None else Say(REVIEW_TEXTS)
    missed = [int(it["id"]) for it in ledger if it["misses"]]
    closed = [int(it["id"]) for it in ledger if it["state"] == "closed"]
    said = [
        *([say.text("ledger_missed", {"item": missed}, n=len(missed))] if missed else []),
        *([say.text("ledger_closed", {"item": closed}, n=len(closed))] if closed else []),
    ]
    if to_add:
        units = list(dict.fromkeys(int(a["unit_id"]) for a in to_add))
        said.append(
            say.text(
                "ledger_to_add",
                {"unit": units},
                n=len(to_add),
                units=len(units),
                deadline=_cn(date.fromisoformat(max(a["deadline"] for a in to_add))),
                state=ITEM_TO_ADD,
            )
        )
    elif not ledger:
        said.append(say.text("ledger_none"))
    return said


def resolution_paragraphs(units: list[dict[str, Any]], say: Say | None = None, *, ended: bool = True) -> list[str]:
    """What 问题办结 rests on, per unit scored on it: the problems it owned and those 办结, cited
    (旗林草局应办结问题3个，办结2个（1号、4号问题）); nothing when no unit owned a problem. 办结 is the
    state at the half's end once it has ended, and while it runs the state now (目前), as the brief says."""
    say = say if say is not None else Say(REVIEW_TEXTS)
    owning = [r for r in units if r.get("problems", {}).get("owned")]
    if not owning:
        return []
    parts = []
    for r in owning:
        c = r["problems"]
        if c["resolved"]:
            done = f"办结{c['resolved']}个（{cite('problem', c['resolved_ids'])}）"
        else:
            done = "未办结" if c["owned"] == 1 else "均未办结"
        parts.append(f"{r['unit']}应办结问题{c['owned']}个，{done}")
    ids = {
        "unit": [int(r["unit_id"]) for r in owning],
        "problem": [int(i) for r in owning for i in r["problems"]["resolved_ids"]],
    }
    return [say.text("resolution_units", ids, units="；".join(parts), end="期末" if ended else "目前")]


def attendance_paragraphs(attendance: dict[str, Any], say: Say | None = None) -> list[str]:
    """What the review says of meeting attendance, only what the answers prove: the meetings held,
    then the units excused or not answering (with the days missed), or that every unit called
    named someone to attend each one. Nothing when no meeting was held."""
    say = say if say is not None else Say(REVIEW_TEXTS)
    meetings = attendance.get("meetings") or []
    if not meetings:
        return []
    held = {"meeting": [int(m["id"]) for m in meetings]}
    days = "、".join(_cn(date.fromisoformat(m["held_on"])) for m in meetings)
    out = [say.text("meetings_held", held, n=len(meetings), days=days)]
    if not attendance.get("units"):
        out.append(say.text("attendance_all_once" if len(meetings) == 1 else "attendance_all_each", held))
        return out
    parts = []
    for u in attendance["units"]:
        said = []
        if u["none"]:
            on = "、".join(_cn(date.fromisoformat(d)) for d in u["missed_on"])
            said.append(f"未答复参会通知{u['none']}次（{on}）")
        if u["excused"]:
            said.append(f"请假{u['excused']}次")
        parts.append(u["unit"] + "，".join(said))
    ids = {**held, "unit": [int(u["unit_id"]) for u in attendance["units"]]}
    out.append(say.text("attendance_units", ids, units="；".join(parts)))
    return out


def review_document(*, session: Session, plan_id: int, review: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The review as the context report_templates/review.html.j2 documents."""
    plan = _plan(session, plan_id)
    office = office_name(plan)
    convener_key = (plan.spec or {}).get("convener")
    convener = session.execute(
        select(col(Unit.name)).where(col(Unit.plan_id) == plan_id, col(Unit.key) == convener_key)
    ).scalar()
    w = review["weights"]
    cols = ["单位"] + [f"{INDICATOR_LABELS[k]}（{w.get(k, 0):g}）" for k in INDICATORS] + ["得分", "整改扣分", "总分"]
    # The units that carried the plan's tasks, ranked (then the 不参评 ones); those scored on their
    # problems alone in a table of their own, with the indicators that apply to them.
    apart = [r for r in review["units"] if _apart(r)]
    unit_rows = [
        [
            r["unit"],
            *[
                NOT_EVALUATED if k == "reporting" and not r.get("reports_weekly", True) else _pct(r["indicators"][k])
                for k in INDICATORS
            ],
            _score(r["score"]),
            f"{r['deduction']:.1f}",
            _score(r["total"]),
        ]
        for r in review["units"]
        if not _apart(r)
    ]
    apart_cols = ["单位"] + [f"{INDICATOR_LABELS[k]}（{w.get(k, 0):g}）" for k in PROBLEM_INDICATORS]
    apart_cols += ["得分", "整改扣分", "总分"]
    apart_rows = [
        [
            r["unit"],
            *[_pct(r["indicators"][k]) for k in PROBLEM_INDICATORS],
            _score(r["score"]),
            f"{r['deduction']:.1f}",
            _score(r["total"]),
        ]
        for r in apart
    ]
    leader_rows = [
        [
            r["name"],
            "、".join(r["zones"]),
            _pct(r["indicators"]["reporting"]) if r.get("reports_weekly", True) else NOT_EVALUATED,
            _pct(r["indicators"]["progress"]),
            _score(r["score"]),
        ]
        for r in review["zone_leaders"]
    ]

    def ledger_row(it: dict[str, Any], state: str) -> list[str]:
        return [
            it["unit"],
            it["item"],
            it["responsible_person"],
            _cn(date.fromisoformat(it["deadline"])),
            it["standard"],
            f"{it['deduction']:g}",
            state,
        ]

    ledger_rows = [
        ledger_row(it, it["state_label"] + (f"（逾期{it['misses']}次）" if it["misses"] else ""))
        for it in review["ledger"]
    ] + [ledger_row(a, ITEM_TO_ADD) for a in review.get("to_add") or []]
    say = Say(REVIEW_TEXTS)
    units_in = [r for r in review["units"] if r["total"] is not None]
    leaders_in = [r for r in review["zone_leaders"] if r["score"] is not None]
    evaluated = bool(units_in or leaders_in)
    summary = [
        say.text(
            "summary_opening" if evaluated else "summary_opening_none",
            {
                "unit": [int(r["unit_id"]) for r in units_in],
                "member": [int(r["member_id"]) for r in leaders_in],
                "item": [int(it["id"]) for it in review["ledger"]],
            },
            basis=f"《{plan.name}》" if plan.name else "实施方案",
            by="参照" if units_in else "根据",
            label=review["label"],
            # A half that runs on is reviewed up to the moment computed, and the report says so.
            as_of=""
            if parse_period(review["period"]).has_ended(now)
            else SUMMARY_AS_OF.format(moment=cn_datetime(now)),
            units=len(units_in),
            leaders=len(leaders_in),
            whom=_whom(len(units_in), len(leaders_in)),
            # Only a ledger with items was followed up.
            ledger=(LEDGER_FOLLOWED if evaluated else LEDGER_FOLLOWED_ALONE) if review["ledger"] else "",
        )
    ]
    idle_units = [r for r in review["units"] if r["total"] is None]
    idle_leaders = [r for r in review["zone_leaders"] if r["score"] is None]
    if idle_units or idle_leaders:
        summary.append(
            say.text(
                "not_evaluated",
                {
                    "unit": [int(r["unit_id"]) for r in idle_units],
                    "member": [int(r["member_id"]) for r in idle_leaders],
                },
                names="、".join([*(r["unit"] for r in idle_units), *(r["name"] for r in idle_leaders)]),
            )
        )
    low = [r for r in units_in if r["total"] < 60]
    if low:
        summary.append(
            say.text("low_total", {"unit": [int(r["unit_id"]) for r in low]}, names="、".join(r["unit"] for r in low))
        )
    # Seed 000 §五(四): 问效 evaluates the 包联人员 too; their low scores are said as the units' are.
    low_leaders = [r for r in leaders_in if r["score"] < 60]
    if low_leaders:
        summary.append(
            say.text(
                "low_leaders",
                {"member": [int(r["member_id"]) for r in low_leaders]},
                names="、".join(r["name"] for r in low_leaders),
            )
        )
    # Facts in print order: the sections' sentences follow the summary's.
    units_none = [] if unit_rows else [say.text("units_none")]
    ended = parse_period(review["period"]).has_ended(now)
    resolution_lines = resolution_paragraphs(review["units"], say, ended=ended)
    apart_lines = (
        [
            say.text(
                "problems_only", {"unit": [int(r["unit_id"]) for r in apart]}, names="、".join(r["unit"] for r in apart)
            )
        ]
        if apart
        else []
    )
    leaders_none = [] if leader_rows else [say.text("leaders_none")]
    ledger_lines = ledger_paragraphs(review["ledger"], say, review.get("to_add") or [])
    attendance_lines = attendance_paragraphs(review.get("attendance") or {}, say)
    supervision_lines = supervision_paragraphs(review, say)
    flag_lines = [flag_paragraph(f, say) for f in review["flags"]] or [say.text("paper_closure_none")]
    covered_to = date.fromisoformat(review["to"]) if ended else min(_today(now), date.fromisoformat(review["to"]))
    # A table with no rows is left out: the section's sentence says there is nothing to list.
    sections = [
        {
            "heading": "成员单位问效得分",
            **(
                {
                    "paragraphs": [
                        "各项指标为得分率，括号内为权重；不适用的指标不计入，权重按比例折算；进展报送自单位联络员加入系统的首个工作日起计，"
                        "不承担批次任务或尚无联络员加入系统的单位该项不参评。",
                        *resolution_lines,
                    ],
                    "tables": [{"columns": cols, "rows": unit_rows, "numeric": list(range(1, len(cols)))}],
                }
                if unit_rows
                else {"paragraphs": units_none}
            ),
        },
        *(
            [
                {
                    "heading": "未承担批次任务单位问题办理得分",
                    "paragraphs": apart_lines,
                    "tables": [{"columns": apart_cols, "rows": apart_rows, "numeric": list(range(1, len(apart_cols)))}],
                }
            ]
            if apart_rows
            else []
        ),
        {
            "heading": "包联领导问效得分",
            **(
                {
                    "tables": [
                        {
                            "columns": ["包联领导", "包联整合区", "进展报送", "整合区进度", "得分"],
                            "rows": leader_rows,
                            "numeric": [2, 3, 4],
                        }
                    ]
                }
                if leader_rows
                else {"paragraphs": leaders_none}
            ),
        },
        {
            "heading": "整改台账",
            "paragraphs": ledger_lines,
            **(
                {
                    "tables": [
                        {
                            "columns": ["单位", "整改事项", "责任人", "整改期限", "整改标准", "扣分", "状态"],
                            "rows": ledger_rows,
                            "numeric": [5],
                            # Its whole cells (a unit, a 文号, a state) overflowed a portrait page.
                            "wide": True,
                        }
                    ]
                }
                if ledger_rows
                else {}
            ),
        },
        *(
            [{"heading": "参加联席会议情况", "paragraphs": attendance_lines}]
            if review.get("attendance", {}).get("meetings")
            else []
        ),
        {
            "heading": "督办与催办",
            "paragraphs": supervision_lines,
        },
        {
            "heading": "纸面销号核查",
            "paragraphs": flag_lines,
        },
    ]
    return {
        "title": f"关于{review['label']}{plan.short_name or plan.name}工作问效情况的报告",
        # The days the record covers: a half still running is reviewed up to today, not to its end.
        "subtitle": f"（{_cn(date.fromisoformat(review['from']))}—{_cn(covered_to)}）",
        "addressees": convener,
        "summary": summary,
        "sections": sections,
        "office": office,
        "date_text": _cn(_today(now)),
        # Every record-dependent sentence above as its fact (kind, text, values, ids), in order.
        "facts": say.listed(),
    }


# The caption the review's PDF goes out with (oversight.facts.Chat): the ledger it followed up, cited.
CAPTION_TEXTS: dict[str, str] = {
    "caption": "{title}（整改台账{n}项，本期新增{added}项，逾期加倍扣分{missed}项）",
    "caption_added": "{title}（整改台账{n}项，本期新增{added}项）",
    "caption_missed": "{title}（整改台账{n}项，本期没有新增事项，逾期加倍扣分{missed}项）",
    "caption_kept": "{title}（整改台账{n}项，本期没有新增事项）",
    "caption_empty": "{title}（整改台账暂无事项）",
}


def review_caption(*, title: str, review: dict[str, Any]) -> Chat:
    """The review's caption: the ledger's items, those this run added and those its follow-up found
    past their deadline (deduction doubled), each counted and cited; none added or missed is said in
    words or left out, never 0项."""
    ledger = [int(it["id"]) for it in review["ledger"]]
    added = [int(i) for i in review.get("added_item_ids") or []]
    missed = [int(i) for i in (review.get("follow_up") or {}).get("missed") or []]
    say = Chat(CAPTION_TEXTS)
    if not ledger:
        say.fact("caption_empty", title=title, n=0)
        return say
    kind = {(True, True): "caption", (True, False): "caption_added", (False, True): "caption_missed"}
    say.fact(
        kind.get((bool(added), bool(missed)), "caption_kept"),
        {"item": ledger},
        title=title,
        n=len(ledger),
        added=len(added),
        missed=len(missed),
        added_ids=added,
        missed_ids=missed,
    )
    return say


# What the review run tells whoever pressed 立即运行 (oversight.facts.Chat): who was scored, the
# ledger, and whom the report went to (its 主送, the conveners, and the office that issues it).
RUN_TEXTS: dict[str, str] = {
    "scored": "问效评分{n}个单位。",
    "scored_none": "本期没有参评的单位。",
    "ledger": "整改台账{n}项，本期新增{added}项。",
    "ledger_kept": "整改台账{n}项，本期没有新增事项。",
    "ledger_empty": "整改台账暂无事项。",
    "sent": "报告已发送给{whom}，报告附后。",
    "sent_nobody": "目前没有召集人和办公室人员加入，报告未发出，报告附后。",
}


def review_run_facts(*, session: Session, result: dict[str, Any]) -> Chat:
    """The review run's lines for one plan, from its result's ids and the report's outbox rows
    (review:<plan>:<half>:<chat>, the PDF): the units scored (不参评 ones are not), the ledger and
    the items added, and the conveners and office members the report went to, each cited."""
    say = Chat(RUN_TEXTS)
    scored = [int(u) for u in result.get("scored_unit_ids") or []]
    if scored:
        say.fact("scored", {"unit": scored}, n=len(scored))
    else:
        say.fact("scored_none", n=0)
    ledger = [int(i) for i in result.get("ledger_ids") or []]
    added = [int(i) for i in result.get("added_ids") or []]
    if not ledger:
        say.fact("ledger_empty", n=0)
    else:
        say.fact("ledger" if added else "ledger_kept", {"item": ledger}, n=len(ledger), added=len(added))
    prefix = f"review:{result['plan_id']}:{result['period']}:"
    sent = [m for m in queued_under(session=session, prefix=prefix) if ":" not in str(m.dedupe_key)[len(prefix) :]]
    chats = {m.chat_id for m in sent}
    got = [
        m
        for m in session.execute(
            select(Member).where(
                col(Member.plan_id) == int(result["plan_id"]),
                col(Member.active).is_(True),
                col(Member.role).in_((Role.CONVENER, Role.OFFICE)),
            )
        ).scalars()
        if m.telegram_user_id in chats
    ]
    conveners = len({m.telegram_user_id for m in got if m.role == Role.CONVENER})
    office = len({m.telegram_user_id for m in got if m.role == Role.OFFICE})
    if got:
        whom = "、".join(
            x for x in (f"召集人{conveners}人" if conveners else "", f"办公室{office}人" if office else "") if x
        )
        ids = {"member": [row_id(m) for m in got], "message": [row_id(m) for m in sent]}
        say.fact("sent", ids, whom=whom, conveners=conveners, office=office)
    else:
        say.fact("sent_nobody", conveners=0, office=0)
    return say
