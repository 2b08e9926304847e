"""The rectification ledger (整改台账) in chat: each unit is told its items, names the person
responsible (a member of the unit), asks for 销号 with evidence; the office checks the 销号 and,
when it comes due, records the 回头看. The rules themselves (close, verify, re-check, the doubled
deduction) are oversight/review.py's; this module adds who sees what and who is told."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from models import Member, RectificationItem, Role, Unit, row_id
from oversight import labels
from oversight.audit import actor_of, audit
from oversight.chatstate import button_row
from oversight.dates import cn_date, local_day
from oversight.errors import InvalidStateError, NotFoundError, PermissionDeniedError
from oversight.facts import Chat
from oversight.members import member_label, members_of_unit, members_with_role, unit_name
from oversight.outbox import enqueue_text
from oversight.review import (
    ITEM_STATE_LABELS,
    RECHECK_ROLES,
    RESPONSIBLE_UNSET,
    VERIFY_ROLES,
    ItemState,
    close_item,
    recheck_item,
    verify_closure,
)
from oversight.sentences import reason_clause

OFFICE_ROLES = (Role.OFFICE, Role.ADMIN)
LIVE = (ItemState.OPEN, ItemState.REOPENED, ItemState.SUBMITTED, ItemState.CLOSED)

TEXTS = {
    "card": "〔{id}号整改事项〕{unit}\n事项：{item}\n责任人：{person}\n整改时限：{deadline}\n整改标准：{standard}\n状态：{state}",
    "recheck_on": "\n回头看：{day}起",
    "told": "【整改台账】贵单位（{unit}）有以下整改事项，请指定责任人，按时限整改；完成后发送 /rectify 申请销号（须附整改佐证）。",
    "submitted": "【销号待核验】{unit}申请为{id}号整改事项销号，佐证：{evidence}{files}",
    "files": "（附材料{n}份）",
    "accepted": "【销号已核验】{id}号整改事项（{item}）已由联席会议办公室核验销号，{day}起回头看。",
    "returned": "【销号被退回】{id}号整改事项（{item}）的销号申请被联席会议办公室退回，理由：{reason}。请继续整改后重新申请。",
    "reopened": "【回头看未通过】{id}号整改事项（{item}）回头看未通过，原因：{reason}。新的整改时限：{deadline}，扣分加倍为{deduction}分。",
}


def _item(session: Session, item_id: int) -> RectificationItem:
    item = session.get(RectificationItem, item_id)
    if item is None:
        raise NotFoundError(f"找不到{item_id}号整改事项。")
    return item


def item_for(*, session: Session, member: Member, item_id: int) -> RectificationItem:
    """An item the member may see: their unit's (a contact) or any of the plan's (office, admin, supervisor)."""
    item = session.get(RectificationItem, item_id)
    if item is None or item.plan_id != member.plan_id:
        raise NotFoundError(f"找不到{item_id}号整改事项。")
    if member.role == Role.CONTACT and member.unit_id != item.unit_id:
        raise PermissionDeniedError("这不是本单位的整改事项。")
    if member.role not in (Role.CONTACT, Role.OFFICE, Role.ADMIN, Role.SUPERVISOR):
        raise PermissionDeniedError("您的角色不能查看整改台账。")
    return item


def items_for(*, session: Session, member: Member) -> list[RectificationItem]:
    """What the member has to act on: a contact, the unit's live items; the office, every live item."""
    q = select(RectificationItem).where(
        RectificationItem.plan_id == member.plan_id, col(RectificationItem.state).in_(LIVE)
    )
    if member.role == Role.CONTACT:
        q = q.where(RectificationItem.unit_id == member.unit_id)
    elif member.role not in (Role.OFFICE, Role.ADMIN, Role.SUPERVISOR):
        raise PermissionDeniedError("您的角色不能查看整改台账。")
    return list(session.exec(q.order_by(col(RectificationItem.deadline), col(RectificationItem.id))).all())


# /rectify's count and 另有 lines (oversight.facts.Chat), each citing the items it counts; the items
# themselves are cards (`card`), one a message. A count names only the states some item is in.
RECTIFY_TEXTS: dict[str, str] = {
    "head": "【整改台账】共{n}项：{counts}。",  # every unit's (the office, admin, supervision group)
    "unit_head": "【整改台账】{unit}共{n}项：{counts}。",  # a contact's own unit's
    "none": "目前没有需要处理的整改事项。",  # no live item of any unit
    "unit_none": "{unit}目前没有需要处理的整改事项。",  # none of the unit's
    "more": "……另有{n}项未列出，请先处理以上事项。",  # cites exactly the items left out
}
RECTIFY_STATE_COUNTS = {  # the states of LIVE, as the count line names them, in this order
    ItemState.OPEN: "整改中{n}项",
    ItemState.REOPENED: "回头看未通过重新整改{n}项",
    ItemState.SUBMITTED: "已申请销号待核验{n}项",
    ItemState.CLOSED: "已销号待回头看{n}项",
}
RECTIFY_CARDS = 15  # item cards in one /rectify; the rest are counted by the 另有 line


@dataclass(frozen=True)
class RectifyList:
    """What /rectify replies: the count line, a card per listed item, then the 另有 line if any."""

    head: Chat
    shown: list[RectificationItem]
    more: Chat | None


def rectify_list(*, session: Session, member: Member) -> RectifyList:
    """/rectify for a member (items_for): the count by state, the first RECTIFY_CARDS items (soonest
    deadline first) and the 另有 line citing the rest; 没有 only when there is no live item."""
    items = items_for(session=session, member=member)
    own = member.role == Role.CONTACT
    unit = unit_name(session, member.unit_id) if own else ""
    head = Chat(RECTIFY_TEXTS)
    unit_ids = {"unit": [member.unit_id]} if own else {}
    if not items:
        head.fact("unit_none" if own else "none", unit_ids, unit=unit, n=0)
        return RectifyList(head, [], None)
    counts = {state: sum(1 for i in items if i.state == state) for state in RECTIFY_STATE_COUNTS}
    words = "，".join(RECTIFY_STATE_COUNTS[k].format(n=n) for k, n in counts.items() if n)
    head.fact(
        "unit_head" if own else "head",
        {"item": [row_id(i) for i in items], **unit_ids},
        unit=unit,
        n=len(items),
        counts=words,
        **{str(k): n for k, n in counts.items()},
    )
    shown, hidden = items[:RECTIFY_CARDS], items[RECTIFY_CARDS:]
    more = None
    if hidden:
        more = Chat(RECTIFY_TEXTS)
        more.fact("more", {"item": [row_id(i) for i in hidden]}, n=len(hidden))
    return RectifyList(head, shown, more)


def card(*, session: Session, item: RectificationItem) -> str:
    """The item as people read it: what, who, by when, to what standard, where it stands."""
    unit = session.get(Unit, item.unit_id)
    text = TEXTS["card"].format(
        id=item.id,
        unit=unit.name if unit else "",
        item=item.item,
        person=item.responsible_person or RESPONSIBLE_UNSET,
        deadline=cn_date(item.deadline),
        standard=item.standard or "—",
        state=ITEM_STATE_LABELS.get(item.state, item.state),
    )
    if item.state == ItemState.CLOSED and item.recheck_on:
        text += TEXTS["recheck_on"].format(day=cn_date(item.recheck_on))
    return text


def recheck_due(*, item: RectificationItem, now: datetime) -> bool:
    return item.state == ItemState.CLOSED and item.recheck_on is not None and item.recheck_on <= local_day(now)


def unit_people(*, session: Session, member: Member, item_id: int) -> list[Member]:
    """Whom the unit may name as responsible for the item: its active members."""
    item = item_for(session=session, member=member, item_id=item_id)
    _require_unit_contact(member, item)
    return members_of_unit(session=session, unit_id=item.unit_id, roles=tuple(Role.ALL))


def _require_unit_contact(member: Member, item: RectificationItem) -> None:
    if member.role != Role.CONTACT or member.unit_id != item.unit_id:
        raise PermissionDeniedError("只有责任单位联络员可以指定责任人、申请销号。")
    if item.state not in (ItemState.OPEN, ItemState.REOPENED):
        raise InvalidStateError(f"该整改事项{ITEM_STATE_LABELS.get(item.state, item.state)}。")


def check_may_submit(*, session: Session, member: Member, item_id: int) -> RectificationItem:
    """Refuse now what close_item would refuse for a contact, before the evidence is asked for."""
    item = item_for(session=session, member=member, item_id=item_id)
    _require_unit_contact(member, item)
    return item


def set_responsible(
    *, session: Session, item_id: int, actor: Member, person_id: int, now: datetime
) -> RectificationItem:
    """The unit names the person responsible for its item: an active member of the unit."""
    item = session.get(RectificationItem, item_id, with_for_update=True)
    if item is None or item.plan_id != actor.plan_id:
        raise NotFoundError(f"找不到{item_id}号整改事项。")
    _require_unit_contact(actor, item)
    person = session.get(Member, person_id)
    if person is None or not person.active or person.unit_id != item.unit_id:
        raise PermissionDeniedError("责任人须是本单位在册的成员。")
    before = item.responsible_person
    item.responsible_person = member_label(session=session, member=person)
    session.add(item)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="rectification.responsible",
        object_type="rectification",
        object_id=item.id,
        detail={"before": before, "after": item.responsible_person, "member_id": person.id},
        at=now,
    )
    return item


def _office_chats(session: Session, plan_id: int) -> list[int]:
    return list(
        dict.fromkeys(
            m.telegram_user_id
            for m in members_with_role(session=session, plan_id=plan_id, roles=(Role.OFFICE,))
            if m.telegram_user_id is not None
        )
    )


def _contact_chats(session: Session, unit_id: int) -> list[int]:
    return [m.telegram_user_id for m in members_of_unit(session=session, unit_id=unit_id) if m.telegram_user_id]


def submit_closure(
    *, session: Session, item_id: int, actor: Member, text: str, attachment_ids: Sequence[int], now: datetime
) -> RectificationItem:
    """The unit asks for 销号 with its evidence; the office is sent it to check."""
    check_may_submit(session=session, member=actor, item_id=item_id)
    item = close_item(
        session=session, item_id=item_id, actor=actor, evidence_text=text, attachment_ids=attachment_ids, now=now
    )
    unit = session.get(Unit, item.unit_id)
    message = TEXTS["submitted"].format(
        unit=unit.name if unit else "",
        id=item.id,
        evidence=text.strip() or "（见附材料）",
        files=TEXTS["files"].format(n=len(attachment_ids)) if attachment_ids else "",
    )
    message += "\n\n" + card(session=session, item=item)
    for chat in _office_chats(session, item.plan_id):
        buttons = button_row(
            session=session,
            user_id=chat,
            args={"iid": row_id(item)},
            names=[(labels.RECT_ACCEPT, "rect.accept"), (labels.RECT_RETURN, "rect.return")],
        )
        enqueue_text(
            session=session,
            chat_id=chat,
            text=message,
            buttons=buttons,
            dedupe_key=f"rect:{item.id}:submitted:{item_submissions(session, item)}:{chat}",
            now=now,
        )
    return item


def item_submissions(session: Session, item: RectificationItem) -> int:
    """How many times the unit has asked for this item's 销号 (a dedupe key part)."""
    from models import RectificationFollowUp

    return len(
        session.exec(
            select(RectificationFollowUp.id).where(
                RectificationFollowUp.item_id == item.id, RectificationFollowUp.kind == "closed"
            )
        ).all()
    )


def check_office(*, member: Member, roles: tuple[str, ...] = VERIFY_ROLES) -> None:
    if member.role not in roles:
        raise PermissionDeniedError("只有联席会议办公室可以核验销号、回头看。")


def verify(
    *, session: Session, item_id: int, actor: Member, ok: bool, reason: str = "", now: datetime
) -> RectificationItem:
    """The office accepts or returns a 销号; the unit's contacts are told."""
    item = verify_closure(session=session, item_id=item_id, actor=actor, ok=ok, reason=reason, now=now)
    text = (
        TEXTS["accepted"].format(id=item.id, item=item.item, day=cn_date(item.recheck_on) if item.recheck_on else "")
        if ok
        else TEXTS["returned"].format(id=item.id, item=item.item, reason=reason_clause(reason))
    )
    n = item_submissions(session, item)
    for chat in _contact_chats(session, item.unit_id):
        enqueue_text(
            session=session, chat_id=chat, text=text, dedupe_key=f"rect:{item.id}:verified:{n}:{chat}", now=now
        )
    return item


def recheck(
    *, session: Session, item_id: int, actor: Member, ok: bool, reason: str = "", now: datetime
) -> RectificationItem:
    """回头看 from chat: only once it is due; a failed one reopens the item and the unit is told."""
    item = _item(session, item_id)
    if item.state == ItemState.CLOSED and item.recheck_on and item.recheck_on > local_day(now):
        raise InvalidStateError(f"该整改事项的回头看定于{cn_date(item.recheck_on)}起进行，尚未到期。")
    item = recheck_item(session=session, item_id=item_id, actor=actor, ok=ok, text=reason, now=now)
    if not ok:
        text = TEXTS["reopened"].format(
            id=item.id,
            item=item.item,
            reason=reason_clause(reason),
            deadline=cn_date(item.deadline),
            deduction=item.deduction,
        )
        for chat in _contact_chats(session, item.unit_id):
            enqueue_text(
                session=session,
                chat_id=chat,
                text=text,
                dedupe_key=f"rect:{item.id}:reopened:{item.misses}:{chat}",
                now=now,
            )
    return item


def tell_units(*, session: Session, plan_id: int, item_ids: Sequence[int], now: datetime) -> int:
    """Each unit's contacts are sent their new items (one message per unit); how many messages."""
    items = session.exec(
        select(RectificationItem)
        .where(col(RectificationItem.id).in_(list(item_ids)))
        .order_by(col(RectificationItem.id))
    ).all()
    by_unit: dict[int, list[RectificationItem]] = {}
    for item in items:
        by_unit.setdefault(item.unit_id, []).append(item)
    sent = 0
    for unit_id, mine in by_unit.items():
        unit = session.get(Unit, unit_id)
        text = "\n\n".join(
            [TEXTS["told"].format(unit=unit.name if unit else "")] + [card(session=session, item=i) for i in mine]
        )
        key = f"{mine[0].id}-{mine[-1].id}x{len(mine)}"  # the unit's new items, within 120 characters
        for chat in _contact_chats(session, unit_id):
            sent += (
                enqueue_text(session=session, chat_id=chat, text=text, dedupe_key=f"rect:told:{key}:{chat}", now=now)
                is not None
            )
    return sent


__all__ = [
    "RECHECK_ROLES",
    "TEXTS",
    "card",
    "check_may_submit",
    "check_office",
    "item_for",
    "items_for",
    "recheck",
    "recheck_due",
    "set_responsible",
    "submit_closure",
    "tell_units",
    "unit_people",
    "verify",
]
