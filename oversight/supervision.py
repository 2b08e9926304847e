"""督办 in three colours (seed 000 §五): every open item with a deadline — a problem, an agreed
matter (议定事项), a rectification item, a league's 底数核实台账 — is blue when due within N working
days, yellow when overdue, red when overdue by more than M working days or reopened twice (N, M:
the plan file's office.supervision_blue_days / supervision_red_days, default 3 and 10).

`colour` is the one definition; `open_items` applies it to the record; `refresh` keeps the colour
each item had when last looked at (supervisionmark), records each change (supervisionevent) and
tells the owning unit once (outbox); an item turning red gets a numbered 督办单 (supervisionorder,
numbers never reused), rendered and sent by the worker (jobs/supervision.py). The office's 催办
(`urge`) is logged there too and counted in the review (`urge_counts`); a 督办单's 催办记录 states
both, the stages its unit was told of and the office's 催办, dated (`order_reminders`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import (
    AuditLog,
    Decision,
    Member,
    Plan,
    Problem,
    ProblemEvent,
    ProblemEventKind,
    ProblemState,
    RectificationItem,
    Right,
    Role,
    SupervisionEvent,
    SupervisionMark,
    SupervisionOrder,
    Unit,
    ZoneLeader,
)
from models.base import row_id
from oversight.audit import actor_of, audit, require_role
from oversight.dates import cn_date, local_day
from oversight.errors import InvalidStateError, NotFoundError, PlanMissingError
from oversight.facts import Chat, Say
from oversight.measures import EXEMPT_UNIT_KINDS, aware_utc, overdue_before, overdue_workdays, resolutions
from oversight.members import members_of_unit
from oversight.outbox import enqueue_text, queued_under
from oversight.plans import office_name
from oversight.region_items import BASELINE, FIRST_BATCH, ITEM_NAMES, open_region_items
from oversight.sample import chat_marked
from oversight.sentences import cite, overdue_text
from oversight.targets import region_by_league
from oversight.workdays import add_workdays, estimate_mark, workdays_between

BLUE, YELLOW, RED = "blue", "yellow", "red"
COLOURS = (RED, YELLOW, BLUE)
COLOUR_LABELS = {BLUE: "蓝色", YELLOW: "黄色", RED: "红色"}
COLOUR_MARKS = {BLUE: "🔵", YELLOW: "🟡", RED: "🔴"}
PROBLEM, DECISION, RECTIFICATION = "problem", "decision", "rectification"
# A league's region deadlines (seed 003 三(二)(三)): item_id is the league's unit id.
KINDS = (PROBLEM, DECISION, RECTIFICATION, BASELINE, FIRST_BATCH)
# The noun a supervised item is cited by (oversight.sentences.NOUNS; a league's region item: its unit).
MARK_NOUNS = {PROBLEM: "problem", DECISION: "decision", RECTIFICATION: "item"}
DEFAULT_BLUE_DAYS, DEFAULT_RED_DAYS = 3, 10
# The region deadlines' blue and yellow are told by their own reminders (oversight.region_items,
# jobs.reminders.remind_regions): here only their red, with its 督办单.
REMINDED_ELSEWHERE = (BASELINE, FIRST_BATCH)
REOPENED_RED = 2  # reopened this many times: red whatever the deadline
URGE_ROLES = (Role.OFFICE,)


def colour(
    *, due_on: date, today: date, reopened: int = 0, blue_days: int, red_days: int, late_from: date | None = None
) -> str | None:
    """The 督办 colour of an open item due on `due_on` (done by the end of that day), on `today`:
    red when overdue by more than `red_days` working days or reopened twice, yellow when overdue,
    blue when due within `blue_days` working days (today included), else none. `late_from`: the
    day its overdue days count from when that is not its deadline (a problem reopened after it)."""
    if reopened >= REOPENED_RED:
        return RED
    late = overdue_workdays(late_from or due_on, today)
    if late > red_days:
        return RED
    if due_on < today:
        return YELLOW
    if workdays_between(today, due_on) <= blue_days:
        return BLUE
    return None


@dataclass(frozen=True)
class Item:
    """An open item with a deadline, as supervised."""

    kind: str
    item_id: int
    plan_id: int
    unit_id: int
    text: str
    due_on: date
    reopened: int
    zone_id: int | None
    colour: str | None
    overdue_days: int
    # The day its overdue days count from: its deadline, or for a problem closed and then reopened
    # after its deadline the day of the reopening (it was not held, so not late, while it stood closed).
    late_from: date | None = None

    @property
    def label(self) -> str:
        return item_label(self.kind, self.item_id, self.text)

    @property
    def late(self) -> str:
        return late_text(due_on=self.due_on, late_from=self.late_from, days=self.overdue_days)


def late_text(*, due_on: date, late_from: date | None, days: int) -> str:
    """已逾期6个工作日; 2026年2月25日重新办理以来已逾期6个工作日 when counted from a reopening."""
    if late_from is not None and late_from > due_on:
        return f"{cn_date(late_from)}重新办理以来{overdue_text(days)}"
    return overdue_text(days)


CHAT_LABEL_CHARS = 40  # an item's text in a chat line; the 督办单 states it whole


def item_label(kind: str, item_id: int, text: str, *, whole: bool = False) -> str:
    """How chat and the 督办单 name an item, as body text cites records (oversight.sentences.cite):
    12号问题（林地手续办理）, 3号议定事项（…）, 2号整改事项（…）; a league's region item by its name.
    The text goes in brackets inside a sentence, so its own closing full stop is dropped
    (…（需人武部出具意见）已逾期…, not …（需人武部出具意见。）已逾期…). A chat line shortens a long
    text to CHAT_LABEL_CHARS; the 督办单, an official document, states it `whole`."""
    short = " ".join(text.split()).rstrip("。；;，,、 ")
    if not whole and len(short) > CHAT_LABEL_CHARS:
        short = short[: CHAT_LABEL_CHARS - 1] + "…"
    noun = MARK_NOUNS.get(kind)
    return f"{cite(noun, [item_id])}（{short}）" if noun else short


def thresholds(plan: Plan | None) -> tuple[int, int]:
    """(blue_days, red_days) of the plan (its office settings, or 3 and 10)."""
    office = ((plan.spec or {}) if plan else {}).get("office") or {}
    return (
        int(office.get("supervision_blue_days") or DEFAULT_BLUE_DAYS),
        int(office.get("supervision_red_days") or DEFAULT_RED_DAYS),
    )


def _problems(session: Session, plan_id: int, today: date) -> list[tuple[Any, ...]]:
    reopened = (
        select(func.count())
        .select_from(ProblemEvent)
        .where(ProblemEvent.problem_id == Problem.id, ProblemEvent.kind == ProblemEventKind.REOPENED)
        .scalar_subquery()
    )
    last_reopened = (
        select(func.max(col(ProblemEvent.at)))
        .where(ProblemEvent.problem_id == Problem.id, ProblemEvent.kind == ProblemEventKind.REOPENED)
        .scalar_subquery()
    )
    rows = session.exec(
        select(Problem, col(Right.zone_id), reopened, last_reopened)
        .outerjoin(Right, col(Right.id) == col(Problem.right_id))
        .where(
            Problem.plan_id == plan_id,
            col(Problem.state).in_((ProblemState.ASSIGNED, ProblemState.ACCEPTED)),
            col(Problem.due_on).is_not(None),
        )
    ).all()
    return [
        (
            row_id(p),
            p.owner_unit_id,
            p.text,
            p.due_on,
            int(n or 0),
            p.zone_id or rz,
            max(p.due_on, local_day(aware_utc(last))) if last is not None else p.due_on,
        )
        for p, rz, n, last in rows
        if p.due_on is not None
    ]


def _decisions(session: Session, plan_id: int, today: date) -> list[tuple[int, int, str, date, int, int | None]]:
    rows = session.exec(
        select(Decision).where(
            Decision.plan_id == plan_id,
            Decision.state == "open",
            col(Decision.due_on).is_not(None),
            col(Decision.owner_unit_id).is_not(None),
        )
    ).all()
    ids = [str(d.id) for d in rows]
    returned: dict[str, int] = {}
    if ids:
        for oid, n in session.exec(
            select(col(AuditLog.object_id), func.count())
            .where(AuditLog.action == "decision.returned", col(AuditLog.object_id).in_(ids))
            .group_by(col(AuditLog.object_id))
        ).all():
            returned[oid] = int(n)
    return [
        (row_id(d), d.owner_unit_id, d.text, d.due_on, returned.get(str(d.id), 0), None)
        for d in rows
        if d.due_on is not None and d.owner_unit_id is not None
    ]


def _rectification(session: Session, plan_id: int, today: date) -> list[tuple[int, int, str, date, int, int | None]]:
    rows = session.exec(
        select(RectificationItem).where(
            RectificationItem.plan_id == plan_id, col(RectificationItem.state).in_(("open", "reopened"))
        )
    ).all()
    return [(row_id(r), r.unit_id, r.item, r.deadline, r.misses, None) for r in rows]


def _region(kind: str) -> Any:
    def source(session: Session, plan_id: int, today: date) -> list[tuple[int, int, str, date, int, int | None]]:
        return [
            (int(i["unit_id"]), int(i["unit_id"]), ITEM_NAMES[kind], i["due_on"], 0, None)
            for i in open_region_items(session=session, plan_id=plan_id, today=today, kinds=(kind,))
        ]

    return source


_SOURCES = {
    PROBLEM: _problems,
    DECISION: _decisions,
    RECTIFICATION: _rectification,
    BASELINE: _region(BASELINE),
    FIRST_BATCH: _region(FIRST_BATCH),
}


def open_items(*, session: Session, plan_id: int, today: date, kinds: Iterable[str] = KINDS) -> list[Item]:
    """Every open item of `kinds` with a deadline and its colour on `today` (None: not yet due soon)."""
    plan = session.get(Plan, plan_id)
    blue_days, red_days = thresholds(plan)
    items: list[Item] = []
    for kind in kinds:
        for item_id, unit_id, text, due_on, reopened, zone_id, *late in _SOURCES[kind](session, plan_id, today):
            late_from = late[0] if late else due_on
            items.append(
                Item(
                    kind=kind,
                    item_id=item_id,
                    plan_id=plan_id,
                    unit_id=unit_id,
                    text=text,
                    due_on=due_on,
                    reopened=reopened,
                    zone_id=zone_id,
                    colour=colour(
                        due_on=due_on,
                        today=today,
                        reopened=reopened,
                        blue_days=blue_days,
                        red_days=red_days,
                        late_from=late_from,
                    ),
                    overdue_days=overdue_workdays(late_from, today),
                    late_from=late_from,
                )
            )
    order = {c: i for i, c in enumerate(COLOURS)}
    return sorted(items, key=lambda i: (order.get(i.colour or "", 9), i.due_on, i.kind, i.item_id))


def colour_counts(items: Sequence[Item]) -> dict[str, int]:
    """How many items are red, yellow and blue."""
    return {c: sum(1 for i in items if i.colour == c) for c in COLOURS}


def find_item(*, session: Session, plan_id: int, kind: str, item_id: int, today: date) -> Item | None:
    """One open supervised item (None when it is closed, has no deadline or is not of the plan)."""
    if kind not in _SOURCES:
        return None
    return next(
        (i for i in open_items(session=session, plan_id=plan_id, today=today, kinds=(kind,)) if i.item_id == item_id),
        None,
    )


# --- Colour changes, told once ---------------------------------------------------------------

CHANGE_TEXT = {
    BLUE: "【督办提醒·蓝色】{label}将于{due}到期，请抓紧办理，按期办结。",
    YELLOW: "【督办·黄色】{label}已超过办理期限（{due}），{late}，请尽快办结并报送办理结果。",
    RED: "【督办·红色】{label}{why}，现予红色督办，督办单（{doc_no}）随后送达，请单位主要负责人督促办结。",
}
# Red on an item the office (or the government) holds itself: the office issues no 督办单 to itself.
RED_OWN_TEXT = "【督办·红色】{label}{why}，已列为红色督办事项，请抓紧办结。"


def _why_red(item: Item) -> str:
    """Why an item is red, as the chat and the 督办单 say it: 已逾期11个工作日 (its days late are
    past the plan's red threshold; stating the threshold beside them adds nothing), or 已退回重办2次."""
    if item.reopened >= REOPENED_RED:
        return f"已退回重办{item.reopened}次"
    return item.late


def _contacts(session: Session, unit_id: int) -> list[Member]:
    return members_of_unit(session=session, unit_id=unit_id, roles=(Role.CONTACT,))


def next_order_no(*, session: Session, plan: Plan, year: int) -> tuple[int, str]:
    """The next 督办单 number of the year (乌中联办督〔2026〕N号): one more than any issued, so a
    number is never reused."""
    office = (plan.spec or {}).get("office") or {}
    prefix = office.get("supervision_prefix") or ""
    if not prefix:
        notice = office.get("notice_prefix") or ""
        prefix = (notice[:-1] + "督") if notice.endswith("通") else (notice + "督")
    last = session.exec(
        select(func.max(SupervisionOrder.seq)).where(SupervisionOrder.plan_id == plan.id, SupervisionOrder.year == year)
    ).one()
    seq = int(last or 0) + 1
    return seq, f"{prefix}〔{year}〕{seq}号"


def _order_data(session: Session, item: Item, doc_no: str, now: datetime) -> dict[str, Any]:
    unit = session.get(Unit, item.unit_id)
    unit_name = unit.name if unit else ""
    return {
        "doc_no": doc_no,
        "kind": item.kind,
        "item_id": item.item_id,
        "label": item.label,
        "text": item.text,
        "unit": unit_name,
        "due_on": item.due_on.isoformat(),
        "overdue_days": item.overdue_days,
        "late_from": (item.late_from or item.due_on).isoformat(),
        "reopened": item.reopened,
        "why": _why_red(item),
        "issued_on": local_day(now).isoformat(),
        # The 办结时限 it prints, fixed with it (a calendar loaded later does not move it).
        "limit_on": reply_by(local_day(now)).isoformat(),
    }


def _zone_leaders(session: Session, zone_id: int | None) -> list[Member]:
    if zone_id is None:
        return []
    return list(
        session.exec(
            select(Member)
            .join(ZoneLeader, col(ZoneLeader.member_id) == col(Member.id))
            .where(ZoneLeader.zone_id == zone_id, col(Member.active).is_(True))
        ).all()
    )


def order_recipients(*, session: Session, order: SupervisionOrder) -> list[Member]:
    """Who receives a 督办单: the unit's contacts, the zone leader of the item's zone, the office."""
    zone_id = None
    if order.kind == PROBLEM:
        problem = session.get(Problem, order.item_id)
        if problem is not None:
            zone_id = problem.zone_id
            if zone_id is None and problem.right_id is not None:
                right = session.get(Right, problem.right_id)
                zone_id = right.zone_id if right else None
    office = list(
        session.exec(
            select(Member).where(
                Member.plan_id == order.plan_id, Member.role == Role.OFFICE, col(Member.active).is_(True)
            )
        ).all()
    )
    seen: set[int] = set()
    out: list[Member] = []
    for m in [*_contacts(session, order.unit_id), *_zone_leaders(session, zone_id), *office]:
        if m.id not in seen:
            seen.add(row_id(m))
            out.append(m)
    return out


def refresh(*, session: Session, plan_id: int, now: datetime) -> dict[str, Any]:
    """Look at every open item's colour now: record each change (and an item closed since), tell
    the owning unit's contacts once per change, and issue a numbered 督办单 for each item turned
    red. Returns the counts by colour, the changes and the new orders' ids (for the worker to render)."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanMissingError()
    today = local_day(now)
    items = open_items(session=session, plan_id=plan_id, today=today)
    marks = {
        (m.kind, m.item_id): m for m in session.exec(select(SupervisionMark).where(SupervisionMark.plan_id == plan_id))
    }
    changes: list[dict[str, Any]] = []
    orders: list[int] = []
    seen: set[tuple[str, int]] = set()
    for item in items:
        key = (item.kind, item.item_id)
        seen.add(key)
        mark = marks.get(key)
        before = mark.colour if mark else ""
        after = item.colour or ""
        if before == after:
            continue
        if mark is None:
            mark = SupervisionMark(kind=item.kind, item_id=item.item_id, plan_id=plan_id, unit_id=item.unit_id)
        mark.colour, mark.unit_id, mark.changed_at = after, item.unit_id, now
        session.add(mark)
        event = SupervisionEvent(
            plan_id=plan_id,
            kind=item.kind,
            item_id=item.item_id,
            unit_id=item.unit_id,
            action="colour",
            from_colour=before,
            to_colour=after,
            at=now,
        )
        session.add(event)
        session.flush()
        changes.append({"kind": item.kind, "id": item.item_id, "from": before, "to": after})
        if not after or (after != RED and item.kind in REMINDED_ELSEWHERE):
            continue
        doc_no = ""
        owner = session.get(Unit, item.unit_id)
        # The office runs the 督办 and the government convenes it: an item either holds turns red
        # (listed in /duban) but gets no numbered 督办单 addressed to the office that issues them.
        issued = after == RED and (owner is None or owner.kind not in EXEMPT_UNIT_KINDS)
        if issued:
            seq, doc_no = next_order_no(session=session, plan=plan, year=today.year)
            order = SupervisionOrder(
                plan_id=plan_id,
                year=today.year,
                seq=seq,
                doc_no=doc_no,
                kind=item.kind,
                item_id=item.item_id,
                unit_id=item.unit_id,
                data=_order_data(session, item, doc_no, now),
                issued_at=now,
            )
            session.add(order)
            session.flush()
            orders.append(row_id(order))
            audit(
                session=session,
                actor=actor_of(system="worker"),
                action="supervision.order_issued",
                object_type=item.kind,
                object_id=item.item_id,
                detail={"doc_no": doc_no, "unit_id": item.unit_id},
                at=now,
            )
        text = (CHANGE_TEXT[after] if after != RED or issued else RED_OWN_TEXT).format(
            label=item.label,
            due=cn_date(item.due_on) + estimate_mark(item.due_on),
            late=item.late,
            why=_why_red(item),
            doc_no=doc_no,
        )
        for m in _contacts(session, item.unit_id):
            if m.telegram_user_id is not None:
                enqueue_text(
                    session=session,
                    chat_id=m.telegram_user_id,
                    text=chat_marked(plan, text),
                    dedupe_key=f"{stage_key_prefix(row_id(event))}{m.id}",
                    now=now,
                )
    # An item closed (or its deadline gone) since it was last coloured: its colour ends, untold.
    for key, mark in marks.items():
        if key not in seen and mark.colour:
            session.add(
                SupervisionEvent(
                    plan_id=plan_id,
                    kind=mark.kind,
                    item_id=mark.item_id,
                    unit_id=mark.unit_id,
                    action="colour",
                    from_colour=mark.colour,
                    to_colour="",
                    at=now,
                )
            )
            changes.append({"kind": mark.kind, "id": mark.item_id, "from": mark.colour, "to": ""})
            mark.colour, mark.changed_at = "", now
            session.add(mark)
    session.flush()
    passed = tell_limits_passed(session=session, plan=plan, now=now)
    return {"counts": colour_counts(items), "changes": changes, "orders": orders, "limits_passed": passed}


# The office told, once, that a 督办单's 办结时限 passed with its item still open.
LIMIT_PASSED_TEXT = (
    "【督办单逾期】{doc_no}（{unit}，{label}）办结时限为{limit}，截至{today}仍未办结{late}，请跟进督办。"
)
LIMIT_KEY = "dubanlimit:"  # dubanlimit:{order}:{member}; not sup:, which stage_counts reads as a colour event's
LIMIT_LOOKBACK_DAYS = 90  # orders issued this long ago at most: their 办结时限 passed long before


def tell_limits_passed(*, session: Session, plan: Plan, now: datetime) -> list[int]:
    """Tell the office's members in chat, once per order, of each 督办单 whose 办结时限 has passed with
    its item still open (order_outcomes as of `now`); returns the orders told of this time."""
    office = [
        m
        for m in session.exec(
            select(Member).where(Member.plan_id == plan.id, Member.role == Role.OFFICE, col(Member.active).is_(True))
        ).all()
        if m.telegram_user_id is not None
    ]
    if not office:
        return []
    open_ = [
        o
        for o in order_outcomes(
            session=session, plan_id=row_id(plan), start=now - timedelta(days=LIMIT_LOOKBACK_DAYS), end=now, as_of=now
        )
        if o.state == OPEN
    ]
    told = []
    for o in open_:
        if queued_under(session=session, prefix=f"{LIMIT_KEY}{o.order_id}:"):
            continue
        text = LIMIT_PASSED_TEXT.format(
            doc_no=o.doc_no,
            unit=unit_label(session=session, unit_id=o.unit_id),
            label=item_title(kind=o.kind, item_id=o.item_id),
            limit=cn_date(o.limit_on),
            today=cn_date(o.as_of_day),
            late=f"，{overdue_text(o.late_days)}" if o.late_days else "",
        )
        for m in office:
            enqueue_text(
                session=session,
                chat_id=int(m.telegram_user_id or 0),
                text=chat_marked(plan, text),
                dedupe_key=f"{LIMIT_KEY}{o.order_id}:{m.id}",
                now=now,
            )
        told.append(o.order_id)
    return told


def mark_order_sent(*, session: Session, order_id: int, pdf_path: str, docx_path: str, now: datetime) -> None:
    order = session.get(SupervisionOrder, order_id)
    if order is None:
        raise NotFoundError("找不到该督办单。")
    order.pdf_path, order.docx_path, order.sent_at = pdf_path, docx_path, now
    session.add(order)


def unsent_orders(*, session: Session, plan_id: int) -> list[SupervisionOrder]:
    """Orders issued but not yet rendered and sent (a worker that died in between sends them next run)."""
    return list(
        session.exec(
            select(SupervisionOrder)
            .where(SupervisionOrder.plan_id == plan_id, col(SupervisionOrder.sent_at).is_(None))
            .order_by(col(SupervisionOrder.id))
        ).all()
    )


def orders_of(*, session: Session, plan_id: int) -> list[SupervisionOrder]:
    return list(
        session.exec(
            select(SupervisionOrder).where(SupervisionOrder.plan_id == plan_id).order_by(col(SupervisionOrder.id))
        ).all()
    )


# --- 催办 -------------------------------------------------------------------------------------

URGE_TEXT = "【催办】联席会议办公室催办：{label}，办理期限{due}{late}。请抓紧办理，办结后及时报送办理结果。"


def urge(*, session: Session, actor: Member, kind: str, item_id: int, now: datetime) -> Item:
    """The office's 催办 of one open item: logged (supervisionevent and audit), the unit's contacts told."""
    require_role(
        session,
        actor=actor,
        plan_id=actor.plan_id,
        roles=URGE_ROLES,
        what="催办",
        object_type="supervision",
        object_id=item_id,
        now=now,
    )
    item = find_item(session=session, plan_id=actor.plan_id, kind=kind, item_id=item_id, today=local_day(now))
    if item is None:
        raise InvalidStateError("该事项已办结或已不在办理中，无需催办。")
    session.add(
        SupervisionEvent(
            plan_id=item.plan_id,
            kind=kind,
            item_id=item_id,
            unit_id=item.unit_id,
            action="urge",
            to_colour=item.colour or "",
            actor_member_id=actor.id,
            at=now,
        )
    )
    session.flush()
    n = urge_count(session=session, kind=kind, item_id=item_id)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="supervision.urged",
        object_type=kind,
        object_id=item_id,
        detail={"unit_id": item.unit_id, "colour": item.colour or "", "n": n},
        at=now,
    )
    plan = session.get(Plan, item.plan_id)
    late = f"，{item.late}" if item.overdue_days else ""
    text = URGE_TEXT.format(label=item.label, due=cn_date(item.due_on) + estimate_mark(item.due_on), late=late)
    for m in _contacts(session, item.unit_id):
        if m.telegram_user_id is not None:
            enqueue_text(
                session=session,
                chat_id=m.telegram_user_id,
                text=chat_marked(plan, text),
                dedupe_key=f"urge:{kind}:{item_id}:{n}:{m.id}",
                now=now,
            )
    return item


def urge_count(*, session: Session, kind: str, item_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(SupervisionEvent)
            .where(
                SupervisionEvent.kind == kind, SupervisionEvent.item_id == item_id, SupervisionEvent.action == "urge"
            )
        ).one()
    )


# The office's reply to its 催办 (oversight.facts.Chat): the urges of the item so far and the
# contacts this one was queued to, cited; a unit with no contact in chat is told apart.
URGED_TEXTS: dict[str, str] = {
    "urged": "已催办：{label}（第{n}次），已通知{unit}联络员。",
    "urged_many": "已催办：{label}（第{n}次），已通知{unit}的{people}名联络员。",
    "urged_nobody": "已催办：{label}（第{n}次）。{unit}目前没有联络员加入，本次催办未能通知到人。",
}


def urged_facts(*, session: Session, item: Item) -> Chat:
    """What the office is told after 催办 `item`: the how-manyth urge it is (its urge events, cited)
    and the unit's contacts the urge went to (the outbox rows this urge queued)."""
    urges = list(
        session.exec(
            select(SupervisionEvent.id)
            .where(
                SupervisionEvent.kind == item.kind,
                SupervisionEvent.item_id == item.item_id,
                SupervisionEvent.action == "urge",
            )
            .order_by(col(SupervisionEvent.id))
        ).all()
    )
    n = len(urges)
    sent = queued_under(session=session, prefix=f"urge:{item.kind}:{item.item_id}:{n}:")
    told = [m for m in _contacts(session, item.unit_id) if m.telegram_user_id in {x.chat_id for x in sent}]
    ids: dict[str, list[int]] = {"urge": [int(i) for i in urges if i is not None], "unit": [item.unit_id]}
    if item.kind in MARK_NOUNS:
        ids[MARK_NOUNS[item.kind]] = [item.item_id]
    unit = unit_label(session=session, unit_id=item.unit_id)
    say = Chat(URGED_TEXTS)
    if not told:
        say.fact("urged_nobody", ids, label=item.label, n=n, unit=unit, people=0)
    else:
        ids = {**ids, "member": [row_id(m) for m in told], "message": [row_id(x) for x in sent]}
        kind = "urged" if len(told) == 1 else "urged_many"
        say.fact(kind, ids, label=item.label, n=n, unit=unit, people=len(told))
    return say


def urge_counts(*, session: Session, plan_id: int, start: datetime, end: datetime) -> dict[int, int]:
    """Per unit: how many times the office urged (催办) its items in [start, end) — for the review."""
    rows = session.exec(
        select(SupervisionEvent.unit_id, func.count())
        .where(
            SupervisionEvent.plan_id == plan_id,
            SupervisionEvent.action == "urge",
            col(SupervisionEvent.at) >= start,
            col(SupervisionEvent.at) < end,
        )
        .group_by(col(SupervisionEvent.unit_id))
    ).all()
    return {int(u): int(n) for u, n in rows}


STAGE_KEY = "sup:"


def stage_key_prefix(event_id: int) -> str:
    """The dedupe key's beginning of the messages a colour event was queued as, one per contact
    (sup:{event}:{member}): written by `refresh`, read back by `stage_counts` and `order_reminders`."""
    return f"{STAGE_KEY}{event_id}:"


def _stage_event_of(dedupe_key: str) -> int:
    """The colour event a stage message was queued for (stage_key_prefix's event id)."""
    return int(dedupe_key.removeprefix(STAGE_KEY).split(":", 1)[0])


def stage_counts(*, session: Session, plan_id: int, start: datetime, end: datetime) -> dict[int, dict[str, list[int]]]:
    """Per unit: the blue and yellow stages of its items in [start, end) it was told of (a message
    queued to a contact for the supervision event), as event ids by colour — for the review. A
    league's region items are reminded of their deadlines elsewhere (REMINDED_ELSEWHERE)."""
    events = session.exec(
        select(SupervisionEvent.id, SupervisionEvent.unit_id, SupervisionEvent.to_colour)
        .where(
            SupervisionEvent.plan_id == plan_id,
            SupervisionEvent.action == "colour",
            col(SupervisionEvent.to_colour).in_((BLUE, YELLOW)),
            col(SupervisionEvent.kind).not_in(REMINDED_ELSEWHERE),
            col(SupervisionEvent.at) >= start,
            col(SupervisionEvent.at) < end,
        )
        .order_by(col(SupervisionEvent.id))
    ).all()
    # A stage's messages are queued in its event's transaction, at its moment: none before `start`.
    told = {
        _stage_event_of(m.dedupe_key)
        for m in queued_under(session=session, prefix=STAGE_KEY, since=start)
        if m.dedupe_key
    }
    out: dict[int, dict[str, list[int]]] = {}
    for eid, unit_id, to in events:
        if eid in told:
            out.setdefault(int(unit_id), {BLUE: [], YELLOW: []})[to].append(int(eid))
    return out


def red_counts(*, session: Session, plan_id: int, start: datetime, end: datetime) -> dict[int, int]:
    """Per unit: how many 督办单 it received in [start, end)."""
    rows = session.exec(
        select(SupervisionOrder.unit_id, func.count())
        .where(
            SupervisionOrder.plan_id == plan_id,
            col(SupervisionOrder.issued_at) >= start,
            col(SupervisionOrder.issued_at) < end,
        )
        .group_by(col(SupervisionOrder.unit_id))
    ).all()
    return {int(u): int(n) for u, n in rows}


# --- Whether a 督办单 was met by its 办结时限 -------------------------------------------------

MET, LATE, OPEN, PENDING = "met", "late", "open", "pending"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # before any record: a closure standing at as_of, however old


@dataclass(frozen=True)
class OrderOutcome:
    """A 督办单 and its item as of a moment: closed by its 办结时限 (MET), closed after it (LATE),
    still open past it (OPEN) or still open with the time limit to come (PENDING)."""

    order_id: int
    doc_no: str
    kind: str
    item_id: int
    unit_id: int
    issued_on: date
    limit_on: date
    state: str
    closed_on: date | None  # the day of the closure that stands as of the moment (None: open)
    as_of_day: date  # the last day seen (截至)
    late_days: int  # working days past the limit: to its closure, or to as_of_day while open
    event_id: int | None = None  # a problem's resolution that closed it

    @property
    def missed(self) -> bool:
        return self.state in (LATE, OPEN)

    def as_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "doc_no": self.doc_no,
            "kind": self.kind,
            "item_id": self.item_id,
            "unit_id": self.unit_id,
            "issued_on": self.issued_on.isoformat(),
            "limit_on": self.limit_on.isoformat(),
            "state": self.state,
            "closed_on": self.closed_on.isoformat() if self.closed_on else None,
            "as_of_day": self.as_of_day.isoformat(),
            "late_days": self.late_days,
            "event_id": self.event_id,
        }


def _closed_on(
    session: Session, plan_id: int, orders: Sequence[SupervisionOrder], as_of: datetime
) -> dict[tuple[str, int], tuple[date, int | None]]:
    """Per order's item: the day of its closure that stands at `as_of`, as each kind's record says
    办结 — a problem its standing resolution (measures.resolutions, as the brief and review count it),
    an agreed matter the office's acceptance (done_at), a rectification item its 销号 (closed_at), a
    league's 底数核实台账 its earliest 底数核实日期, its 盘活一批 the first day the region record holds it
    done (open_region_items)."""
    out: dict[tuple[str, int], tuple[date, int | None]] = {}
    of = {kind: sorted({o.item_id for o in orders if o.kind == kind}) for kind in KINDS}
    if of[PROBLEM]:
        standing = resolutions(session=session, plan_id=plan_id, start=EPOCH, as_of=as_of, problem_ids=of[PROBLEM])
        ats = dict(
            session.exec(
                select(ProblemEvent.id, ProblemEvent.at).where(col(ProblemEvent.id).in_([r.event_id for r in standing]))
            ).all()
        )
        for r in standing:
            out[(PROBLEM, r.problem_id)] = (local_day(aware_utc(ats[r.event_id])), r.event_id)
    if of[DECISION]:
        for did, done_at in session.exec(
            select(Decision.id, Decision.done_at).where(
                col(Decision.id).in_(of[DECISION]),
                Decision.state == "done",
                col(Decision.done_at) <= as_of,
            )
        ).all():
            if done_at is not None:
                out[(DECISION, int(did or 0))] = (local_day(aware_utc(done_at)), None)
    if of[RECTIFICATION]:
        for rid, closed_at in session.exec(
            select(RectificationItem.id, RectificationItem.closed_at).where(
                col(RectificationItem.id).in_(of[RECTIFICATION]),
                col(RectificationItem.state).in_(("closed", "rechecked")),
                col(RectificationItem.closed_at) <= as_of,
            )
        ).all():
            if closed_at is not None:
                out[(RECTIFICATION, int(rid or 0))] = (local_day(aware_utc(closed_at)), None)
    last = local_day(as_of - timedelta(microseconds=1))
    if of[BASELINE]:
        # The league's 底数核实台账 is done on the earliest 底数核实日期 of a right there (as the region
        # record reads it, whenever it was entered).
        for row in region_by_league(session=session, plan_id=plan_id, as_of=as_of):
            if row["unit_id"] in of[BASELINE] and row["baseline_filed"]:
                out[(BASELINE, int(row["unit_id"]))] = (date.fromisoformat(row["baseline_filed"]), None)
    for league in of[FIRST_BATCH]:
        first = min(local_day(aware_utc(o.issued_at)) for o in orders if o.kind == FIRST_BATCH and o.item_id == league)

        def open_on(day: date, league: int = league) -> bool:
            return bool(
                open_region_items(session=session, plan_id=plan_id, today=day, unit_id=league, kinds=(FIRST_BATCH,))
            )

        if open_on(last):
            continue
        # The first day it stood done: a right's statuses reached stay reached (RightsAsOf), so the
        # item closes once, and halving the days from the order to `last` finds that day.
        lo, hi = first, last
        while lo < hi:
            mid = lo + (hi - lo) // 2
            if open_on(mid):
                lo = mid + timedelta(days=1)
            else:
                hi = mid
        out[(FIRST_BATCH, league)] = (lo, None)
    return out


def order_outcomes(
    *, session: Session, plan_id: int, start: datetime, end: datetime, as_of: datetime
) -> list[OrderOutcome]:
    """The 督办单 issued in [start, end) (and by `as_of`), in their issuing order, each with whether its
    item was closed by the order's 办结时限 (order_limit) as of `as_of`: the day of the closure and the
    working days late (oversight.workdays, the one calendar), or, still open past it, the days late
    to the last day seen. Due on day D means done by the end of D."""
    return _outcomes(
        session, plan_id, _issued(session, plan_id, start, min(end, as_of + timedelta(microseconds=1))), as_of
    )


# How far before a period an order whose 办结时限 falls in it can have been issued: ORDER_WORKDAYS
# working days span at most the Spring Festival's or National Day's week off and two weekends.
CARRIED_LOOKBACK = timedelta(days=31)


def carried_outcomes(*, session: Session, plan_id: int, start: datetime, as_of: datetime) -> list[OrderOutcome]:
    """The 督办单 issued before `start` whose 办结时限 falls on or after its day (the period before
    saw them still within it), each as order_outcomes reads it as of `as_of`."""
    first = local_day(start)
    orders = [o for o in _issued(session, plan_id, start - CARRIED_LOOKBACK, start) if order_limit(o) >= first]
    return _outcomes(session, plan_id, orders, as_of)


def _issued(session: Session, plan_id: int, start: datetime, end: datetime) -> list[SupervisionOrder]:
    return list(
        session.exec(
            select(SupervisionOrder)
            .where(
                SupervisionOrder.plan_id == plan_id,
                col(SupervisionOrder.issued_at) >= start,
                col(SupervisionOrder.issued_at) < end,
            )
            .order_by(col(SupervisionOrder.issued_at), col(SupervisionOrder.id))
        ).all()
    )


def _outcomes(session: Session, plan_id: int, orders: list[SupervisionOrder], as_of: datetime) -> list[OrderOutcome]:
    closed = _closed_on(session, plan_id, orders, as_of)
    last = local_day(as_of - timedelta(microseconds=1))
    out = []
    for o in orders:
        limit = order_limit(o)
        day, event = closed.get((o.kind, o.item_id), (None, None))
        if day is not None:
            state, late = (MET, 0) if day <= limit else (LATE, workdays_between(limit, day))
        elif limit < overdue_before(as_of):
            state, late = OPEN, workdays_between(limit, last)
        else:
            state, late = PENDING, 0
        out.append(
            OrderOutcome(
                order_id=row_id(o),
                doc_no=o.doc_no,
                kind=o.kind,
                item_id=o.item_id,
                unit_id=o.unit_id,
                issued_on=local_day(aware_utc(o.issued_at)),
                limit_on=limit,
                state=state,
                closed_on=day,
                as_of_day=last,
                late_days=late,
                event_id=event,
            )
        )
    return out


def missed_orders(
    *, session: Session, plan_id: int, start: datetime, end: datetime, as_of: datetime
) -> list[OrderOutcome]:
    """The 督办单 issued in [start, end) whose 办结时限 passed, as of `as_of`, with the item still open
    or closed late (order_outcomes)."""
    return [o for o in order_outcomes(session=session, plan_id=plan_id, start=start, end=end, as_of=as_of) if o.missed]


# --- What the unit was told before its 督办单 (催办记录) --------------------------------------

URGE = "urge"
STAGE_NAMES = {BLUE: "蓝色提醒", YELLOW: "黄色督办"}


@dataclass(frozen=True)
class Reminder:
    """A blue or yellow stage of an item, or a 催办 of the office, as its supervision event records it."""

    event_id: int
    what: str  # BLUE, YELLOW or URGE
    day: date
    messages: tuple[int, ...]  # the outbox rows it was queued as to the unit's contacts (none: nobody told)


def order_reminders(*, session: Session, order: SupervisionOrder) -> list[Reminder]:
    """What the unit had been told of the item when its 督办单 was issued: each blue and yellow stage
    and each 催办 of the office (its supervision events up to the order, after any earlier order of
    the same item), in order, each with the messages it was queued as. A league's region item is
    reminded of its deadlines elsewhere (REMINDED_ELSEWHERE): only the office's 催办 are its."""
    of_item = (
        SupervisionEvent.plan_id == order.plan_id,
        SupervisionEvent.kind == order.kind,
        SupervisionEvent.item_id == order.item_id,
    )
    earlier = session.exec(
        select(func.max(SupervisionOrder.issued_at)).where(
            SupervisionOrder.plan_id == order.plan_id,
            SupervisionOrder.kind == order.kind,
            SupervisionOrder.item_id == order.item_id,
            col(SupervisionOrder.issued_at) < order.issued_at,
        )
    ).one()
    shown = [URGE] if order.kind in REMINDED_ELSEWHERE else [URGE, BLUE, YELLOW]
    events = [
        e
        for e in session.exec(
            select(SupervisionEvent)
            .where(*of_item, col(SupervisionEvent.at) <= order.issued_at)
            .order_by(col(SupervisionEvent.at), col(SupervisionEvent.id))
        ).all()
        if (earlier is None or aware_utc(e.at) > aware_utc(earlier))
        and (URGE if e.action == URGE else e.to_colour) in shown
        and e.action in (URGE, "colour")
    ]
    # An urge's messages are keyed by its number among the item's urges (urge's dedupe_key).
    urges = session.exec(
        select(SupervisionEvent.id).where(*of_item, SupervisionEvent.action == URGE).order_by(col(SupervisionEvent.id))
    ).all()
    nth = {int(i or 0): n for n, i in enumerate(urges, start=1)}
    out = []
    for e in events:
        eid = row_id(e)
        prefix = f"urge:{order.kind}:{order.item_id}:{nth[eid]}:" if e.action == URGE else stage_key_prefix(eid)
        sent = tuple(row_id(m) for m in queued_under(session=session, prefix=prefix))
        out.append(Reminder(eid, URGE if e.action == URGE else e.to_colour, local_day(aware_utc(e.at)), sent))
    return out


# The 督办单's 催办记录 (oversight.facts.Say), one template per case: the stages dated as one date is
# written everywhere (2026年2月9日), then the office's 催办; a reminder nobody was told of says so.
REMINDER_TEXTS: dict[str, str] = {
    "reminders": "{stages}；{urges}",
    "reminders_stages": "{stages}；办公室未另行催办",
    "reminders_urges": "未经蓝色提醒、黄色督办；{urges}",
    "reminders_none": "未经蓝色提醒、黄色督办，办公室未催办",
    # A league's region item, reminded of its deadlines by the region reminders: the office's 催办 only.
    "reminders_region": "{urges}",
    "reminders_region_none": "办公室未催办",
}
STAGE_TEXT = "{day}{name}"
URGES_TEXT = "办公室催办{n}次（{days}）"
UNTOLD = "（该单位尚无联络员加入系统，未能通知到人）"
URGES_UNTOLD = "，其中{n}次因该单位尚无联络员加入系统未能通知到人"


def reminders_text(*, say: Say, kind: str, reminders: Sequence[Reminder]) -> str:
    """The 催办记录 of a 督办单, as one fact citing the supervision events and messages it rests on:
    2026年2月9日蓝色提醒，2026年2月13日黄色督办；办公室未另行催办."""
    stages = [r for r in reminders if r.what != URGE]
    urges = [r for r in reminders if r.what == URGE]
    stage_text = "，".join(
        STAGE_TEXT.format(day=cn_date(r.day), name=STAGE_NAMES[r.what]) + ("" if r.messages else UNTOLD) for r in stages
    )
    untold = sum(1 for r in urges if not r.messages)
    urge_text = (
        URGES_TEXT.format(n=len(urges), days="、".join(cn_date(d) for d in dict.fromkeys(r.day for r in urges)))
        + (URGES_UNTOLD.format(n=untold) if untold else "")
        if urges
        else ""
    )
    if kind in REMINDED_ELSEWHERE:
        case = "reminders_region" if urges else "reminders_region_none"
    else:
        case = {(True, True): "reminders", (True, False): "reminders_stages", (False, True): "reminders_urges"}.get(
            (bool(stages), bool(urges)), "reminders_none"
        )
    ids = {
        "supervision": [r.event_id for r in reminders],
        "message": [m for r in reminders for m in r.messages],
    }
    return say.text(
        case,
        ids,
        stages=stage_text,
        urges=urge_text,
        blue=sum(1 for r in stages if r.what == BLUE),
        yellow=sum(1 for r in stages if r.what == YELLOW),
        urged=len(urges),
        untold=sum(1 for r in reminders if not r.messages),
    )


# --- The 督办单 as a document ----------------------------------------------------------------


def order_document(*, session: Session, order: SupervisionOrder) -> dict[str, Any]:
    """The 督办单 as plain data in the shape report_templates/supervision.html.j2 documents."""
    from oversight.notices import office_mark_lines  # the same red mark as the notice's

    plan = session.get(Plan, order.plan_id)
    assert plan is not None
    office = office_name(plan)
    d = order.data
    due = date.fromisoformat(d["due_on"])
    issued = date.fromisoformat(d["issued_on"])
    new_due = order_limit(order)
    # Why red, from the order's figures (an order stored with an older wording renders the same).
    why = (
        f"已退回重办{d['reopened']}次"
        if int(d.get("reopened") or 0) >= REOPENED_RED
        else late_text(
            due_on=due,
            late_from=date.fromisoformat(d.get("late_from") or d["due_on"]),
            days=int(d.get("overdue_days") or 0),
        )
    )
    say = Say(REMINDER_TEXTS)
    reminders = reminders_text(say=say, kind=d["kind"], reminders=order_reminders(session=session, order=order))
    # The order states the item whole (its chat label may be shortened); a region item is its name.
    label = item_label(d["kind"], int(d["item_id"]), d["text"], whole=True) if d.get("text") else d["label"]
    return {
        "office_mark_lines": office_mark_lines(office),
        "doc_number": order.doc_no,
        # The title names the item by its number only (关于督促办理8号问题的督办单): its text is in
        # the body and the 督办事项 field; a region item, which has no number, by its name.
        "title": f"关于督促办理{_title_name(d)}的督办单",
        "addressees": d["unit"],
        "paragraphs": [
            # No basis is cited: seed 000 §五 sets up the 联席会议, 联合督导, 包片包干 and 工作问效, not
            # the three colours, and no document of the office adopting them is on record.
            f"{label}由你单位负责办理，办理期限为{cn_date(due)}，{why}，现予红色督办。",
            f"请你单位主要负责人亲自督促，于{cn_date(new_due)}前办结，并通过系统报送办理结果及佐证材料。",
        ],
        "fields": [
            ["督办事项", label],
            ["责任单位", d["unit"]],
            ["督办等级", "红色督办"],
            ["原办理期限", cn_date(due)],
            ["逾期情况", why],
            ["催办记录", reminders],
            ["办结时限", cn_date(new_due)],
        ],
        "office": office,
        "date_text": cn_date(issued),
        "cc": None,
        "printed_by": office,
        "printed_date": f"{cn_date(issued)}印发",
        "facts": say.listed(),
    }


def _title_name(d: dict[str, Any]) -> str:
    return item_title(kind=d["kind"], item_id=int(d["item_id"])) if d["kind"] in MARK_NOUNS else str(d["label"])


def item_title(*, kind: str, item_id: int) -> str:
    """A supervised item by its number only, as a 督办单's title names it (8号问题, 3号议定事项), a
    league's region item by its name (底数核实台账)."""
    noun = MARK_NOUNS.get(kind)
    return cite(noun, [item_id]) if noun else ITEM_NAMES.get(kind, "")


ORDER_WORKDAYS = 5  # a 督办单's 办结时限: this many working days after the day it is issued


def reply_by(issued: date) -> date:
    """The 办结时限 of a 督办单 issued on `issued` (ORDER_WORKDAYS working days later)."""
    return add_workdays(issued, ORDER_WORKDAYS)


def order_limit(order: SupervisionOrder) -> date:
    """The 办结时限 a 督办单 prints: as stored when it was issued; an order stored before it was kept
    (or written without its data), the same count from the day it was issued."""
    stored = (order.data or {}).get("limit_on")
    if stored:
        return date.fromisoformat(stored)
    issued = (order.data or {}).get("issued_on")
    return reply_by(date.fromisoformat(issued) if issued else local_day(aware_utc(order.issued_at)))


def order_for_item(*, session: Session, kind: str, item_id: int) -> SupervisionOrder | None:
    return session.exec(
        select(SupervisionOrder)
        .where(SupervisionOrder.kind == kind, SupervisionOrder.item_id == item_id)
        .order_by(col(SupervisionOrder.id).desc())
    ).first()


# /duban's sentences (oversight.facts.Chat), one template per kind: each line is one fact citing
# the items it names (a league's region deadline cites the league). The colours are the supervision
# marks (refresh sets them once a working day, before the digest, and tells each unit of a change):
# /duban lists what the units were told, as the digest counts it.
DUBAN_TEXTS: dict[str, str] = {
    "counts": "督办事项共{n}项：{counts}。",  # every unit's; only the colours some item has
    "unit_counts": "{unit}督办事项共{n}项：{counts}。",  # a unit's own
    "none": "目前没有需要督办的事项。",  # no open item of any unit is marked
    "unit_none": "{unit}目前没有需要督办的事项。",  # none of the unit's open items is marked
    "item": "{light} {unit}：{label}，期限{due}{late}{reopened}",
    "more": "……另有{n}项未列出。",  # cites exactly the items left out
    "card": "{light} {label}",  # the office's 催办 card, one per listed item
}
DUBAN_COUNT = "{colour}{n}项"
DUBAN_REOPENED = "，已退回重办{n}次"
DUBAN_LISTED = 20  # item lines (and the office's 催办 cards) in one /duban; the rest are counted
# Who sees every unit's items; anyone else sees their own unit's.
DUBAN_ALL_ROLES = (Role.OFFICE, Role.CONVENER, Role.ADMIN, Role.SUPERVISOR)


def marked_items(*, session: Session, plan_id: int, today: date) -> list[tuple[Item, str]]:
    """Every open item with a supervision mark, with the mark's colour, red first, then by deadline.
    An item closed since it was coloured is left out (refresh ends its mark); one coloured by the
    rule today but not yet marked is not under 督办 until refresh marks it and tells its unit."""
    marks = {
        (m.kind, m.item_id): m.colour
        for m in session.exec(
            select(SupervisionMark).where(SupervisionMark.plan_id == plan_id, col(SupervisionMark.colour).in_(COLOURS))
        )
    }
    items = open_items(session=session, plan_id=plan_id, today=today)
    out = [(i, marks[(i.kind, i.item_id)]) for i in items if (i.kind, i.item_id) in marks]
    order = {c: n for n, c in enumerate(COLOURS)}
    return sorted(out, key=lambda ic: (order[ic[1]], ic[0].due_on, ic[0].kind, ic[0].item_id))


@dataclass(frozen=True)
class Card:
    """One 催办 card of /duban: its text (a Chat of one fact) and the item its button urges."""

    chat: Chat
    kind: str
    item_id: int


@dataclass(frozen=True)
class Duban:
    """What /duban replies: the summary, then (for the office) one 催办 card per listed item."""

    summary: Chat
    cards: list[Card]


def mark_citations(marked: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    """The ids of supervised items, (kind, item id) each, by the noun a fact cites them by (the
    league's region deadlines cite the league's unit), each once, in order."""
    out: dict[str, list[int]] = {}
    for kind, item_id in marked:
        out.setdefault(MARK_NOUNS.get(kind, "unit"), []).append(int(item_id))
    return {noun: list(dict.fromkeys(ids)) for noun, ids in out.items()}


def _item_ids(pairs: Sequence[tuple[Item, str]]) -> dict[str, list[int]]:
    return mark_citations((item.kind, item.item_id) for item, _ in pairs)


def duban_summary(*, session: Session, member: Member, today: date) -> Duban:
    """/duban for a member: the office, convener, admin and supervision group see every unit's
    marked items, anyone else their own unit's; the count line names only the colours some item
    has, each item line its unit, deadline and lateness (and the reopenings that made it red), the
    items past DUBAN_LISTED are counted by the 另有 line; the office gets a 催办 card per listed item."""
    pairs = marked_items(session=session, plan_id=member.plan_id, today=today)
    every = member.role in DUBAN_ALL_ROLES
    if not every:
        pairs = [(i, c) for i, c in pairs if i.unit_id == member.unit_id]
    own = {"unit": [member.unit_id]}
    say = Chat(DUBAN_TEXTS)
    if not pairs:
        if every:
            say.fact("none", n=0)
        else:
            say.fact("unit_none", own, unit=unit_label(session=session, unit_id=member.unit_id), n=0)
        return Duban(say, [])
    counts = {c: sum(1 for _, k in pairs if k == c) for c in COLOURS}
    parts = "，".join(DUBAN_COUNT.format(colour=COLOUR_LABELS[c], n=counts[c]) for c in COLOURS if counts[c])
    if every:
        say.fact("counts", _item_ids(pairs), n=len(pairs), counts=parts, **counts)
    else:
        unit = unit_label(session=session, unit_id=member.unit_id)
        ids = _item_ids(pairs)
        ids["unit"] = list(dict.fromkeys([*ids.get("unit", []), member.unit_id]))
        say.fact("unit_counts", ids, unit=unit, n=len(pairs), counts=parts, **counts)
    names = {
        int(u.id or 0): u.name
        for u in session.exec(select(Unit).where(col(Unit.id).in_({i.unit_id for i, _ in pairs})))
    }
    shown, hidden = pairs[:DUBAN_LISTED], pairs[DUBAN_LISTED:]
    for item, light in shown:
        ids = _item_ids([(item, light)])
        ids.setdefault("unit", [item.unit_id])
        say.fact(
            "item",
            ids,
            light=COLOUR_MARKS[light],
            colour=light,
            item_kind=item.kind,
            item_id=item.item_id,
            unit=names.get(item.unit_id, ""),
            label=item.label,
            due=cn_date(item.due_on) + estimate_mark(item.due_on),
            due_on=item.due_on.isoformat(),
            late=f"，{item.late}" if item.due_on < today else "",
            reopened=DUBAN_REOPENED.format(n=item.reopened) if item.reopened >= REOPENED_RED else "",
        )
    if hidden:
        say.fact("more", _item_ids(hidden), n=len(hidden))
    cards: list[Card] = []
    if member.role in URGE_ROLES:
        for item, light in shown:
            card = Chat(DUBAN_TEXTS)
            card.fact("card", _item_ids([(item, light)]), light=COLOUR_MARKS[light], label=item.label)
            cards.append(Card(card, item.kind, item.item_id))
    return Duban(say, cards)


def unit_label(*, session: Session, unit_id: int) -> str:
    unit = session.get(Unit, unit_id)
    return unit.name if unit else ""
