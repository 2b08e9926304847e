"""/rectify: the rectification ledger in chat. A unit's contact names the person responsible and
asks for 销号 with evidence; the office checks the 销号 (accept, or return with a reason) and
records the 回头看 when it is due (a failed one reopens the item with the deduction doubled).
Rules and messages to others: oversight/rectification.py and oversight/review.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot import texts as t
from bot.engine import Flow, Rows, Step, Turn, Upload, action, button, command, grid
from models import RectificationItem, Role, row_id
from oversight import rectification as R
from oversight.dates import cn_date
from oversight.members import member_label
from oversight.review import ItemState


def _buttons(turn: Turn[None], item: RectificationItem) -> Rows:
    iid = row_id(item)
    role = turn.member.role
    if role == Role.CONTACT and item.state in (ItemState.OPEN, ItemState.REOPENED):
        return [[button(t.RECT_BTN_PERSON, "rect.pick", iid=iid), button(t.RECT_BTN_CLOSE, "rect.close", iid=iid)]]
    if role in (Role.OFFICE, Role.ADMIN) and item.state == ItemState.SUBMITTED:
        return [[button(t.RECT_BTN_ACCEPT, "rect.accept", iid=iid), button(t.RECT_BTN_RETURN, "rect.return", iid=iid)]]
    if role in (Role.OFFICE, Role.ADMIN, Role.SUPERVISOR) and R.recheck_due(item=item, now=turn.now):
        return [
            [
                button(t.RECT_BTN_RECHECK_OK, "rect.recheck_ok", iid=iid),
                button(t.RECT_BTN_RECHECK_FAIL, "rect.recheck_fail", iid=iid),
            ]
        ]
    return []


@command("rectify", bare=True)
def rectify(turn: Turn[None]) -> None:
    listed = R.rectify_list(session=turn.session, member=turn.member)
    turn.say(listed.head.message())
    for item in listed.shown:
        turn.say(R.card(session=turn.session, item=item), _buttons(turn, item))
    if listed.more is not None:
        turn.say(listed.more.message())


@action("rect.pick", command="rectify")
def rect_pick(turn: Turn[None], *, iid: int) -> None:
    people = R.unit_people(session=turn.session, member=turn.member, item_id=iid)
    turn.say(
        t.RECT_PICK_PERSON.format(id=iid),
        grid(
            (
                button(member_label(session=turn.session, member=p)[:20], "rect.person", iid=iid, mid=row_id(p))
                for p in people
            ),
            2,
        ),
    )


@action("rect.person", command="rectify")
def rect_person(turn: Turn[None], *, iid: int, mid: int) -> None:
    item = R.set_responsible(session=turn.session, item_id=iid, actor=turn.member, person_id=mid, now=turn.now)
    turn.say(t.RECT_PERSON_SET.format(id=iid, name=item.responsible_person))


@dataclass
class CloseState:
    """A 销号 being asked for: the item and the files sent so far."""

    iid: int = 0
    attachments: list[int] = field(default_factory=list)


@action("rect.close", command="rectify")
def rect_close(turn: Turn[None], *, iid: int) -> None:
    R.check_may_submit(session=turn.session, member=turn.member, item_id=iid)
    turn.start(RECT_CLOSE, CloseState(iid=iid), "evidence")
    turn.say(t.RECT_ASK_EVIDENCE)


def close_file(turn: Turn[CloseState], upload: Upload) -> None:
    kept = turn.keep(upload)
    turn.state.attachments.append(row_id(kept))
    turn.say(t.RECT_FILE_KEPT.format(name=kept.filename))


def close_text(turn: Turn[CloseState], text: str) -> None:
    R.submit_closure(
        session=turn.session,
        item_id=turn.state.iid,
        actor=turn.member,
        text=text,
        attachment_ids=turn.state.attachments,
        now=turn.now,
    )
    turn.end()
    turn.say(t.RECT_SUBMITTED.format(id=turn.state.iid))


RECT_CLOSE = Flow(
    "rect_close", CloseState, command="rectify", steps={"evidence": Step(text=close_text, file=close_file)}
)


@action("rect.accept", command="rectify")
def rect_accept(turn: Turn[None], *, iid: int) -> None:
    item = R.verify(session=turn.session, item_id=iid, actor=turn.member, ok=True, now=turn.now)
    turn.say(t.RECT_ACCEPTED.format(id=iid, day=cn_date(item.recheck_on) if item.recheck_on else ""))


@dataclass
class ReasonState:
    """The office's reason for returning a 销号 or failing a 回头看."""

    iid: int = 0
    what: str = "return"


def _ask_reason(turn: Turn[None], iid: int, what: str) -> None:
    R.check_office(member=turn.member, roles=(Role.OFFICE, Role.ADMIN) if what == "return" else R.RECHECK_ROLES)
    R.item_for(session=turn.session, member=turn.member, item_id=iid)
    turn.start(RECT_REASON, ReasonState(iid=iid, what=what), "reason")
    turn.say(t.RECT_ASK_REASON[what])


@action("rect.return", command="rectify")
def rect_return(turn: Turn[None], *, iid: int) -> None:
    _ask_reason(turn, iid, "return")


@action("rect.recheck_fail", command="rectify")
def rect_recheck_fail(turn: Turn[None], *, iid: int) -> None:
    _ask_reason(turn, iid, "recheck")


def take_reason(turn: Turn[ReasonState], text: str) -> None:
    iid = turn.state.iid
    if turn.state.what == "return":
        R.verify(session=turn.session, item_id=iid, actor=turn.member, ok=False, reason=text, now=turn.now)
        turn.end()
        turn.say(t.RECT_RETURNED.format(id=iid))
        return
    item = R.recheck(session=turn.session, item_id=iid, actor=turn.member, ok=False, reason=text, now=turn.now)
    turn.end()
    turn.say(t.RECT_RECHECK_FAILED.format(id=iid, deadline=cn_date(item.deadline), deduction=item.deduction))


RECT_REASON = Flow("rect_reason", ReasonState, command="rectify", steps={"reason": Step(text=take_reason)})


@action("rect.recheck_ok", command="rectify")
def rect_recheck_ok(turn: Turn[None], *, iid: int) -> None:
    R.recheck(session=turn.session, item_id=iid, actor=turn.member, ok=True, now=turn.now)
    turn.say(t.RECT_RECHECK_OK.format(id=iid))
