"""The brief's sign-off in chat: the office writes the 编者按 and approves the draft it was sent;
the convener signs it (with a confirmation) or returns it with a reason; /briefs lists what waits.
The rules and the messages to others are oversight/briefs.py's; the worker renders and sends."""

from __future__ import annotations

from dataclasses import dataclass

from bot import texts as t
from bot.engine import Flow, Rows, Step, Turn, action, button, command
from models import Brief, Role, row_id
from oversight import briefs as B


def _buttons(turn: Turn[None], brief: Brief) -> Rows:
    """What the member may do with the brief now."""
    args = {"bid": row_id(brief), "rev": brief.revision}
    if turn.member.role == Role.OFFICE and brief.state == B.BriefState.DRAFT:
        return [[button(t.BRIEF_BTN_NOTE, "brief.note", **args), button(t.BRIEF_BTN_APPROVE, "brief.approve", **args)]]
    if turn.member.role == Role.CONVENER and brief.state == B.BriefState.OFFICE_APPROVED:
        return [[button(t.BRIEF_BTN_SIGN, "brief.sign", **args), button(t.BRIEF_BTN_RETURN, "brief.return", **args)]]
    return []


@command("briefs", bare=True)
def briefs(turn: Turn[None]) -> None:
    items = B.waiting_briefs(session=turn.session, member=turn.member)
    if not items:
        turn.say(t.BRIEF_NONE)
        return
    turn.say(t.BRIEF_LIST_HEAD)
    for brief in items:
        turn.say(B.status_text(session=turn.session, brief=brief), _buttons(turn, brief))


@dataclass
class NoteState:
    """The brief whose 编者按 the office is about to send, and the copy it was pressed on."""

    bid: int = 0
    rev: int = 0


@action("brief.note")
def brief_note(turn: Turn[None], *, bid: int, rev: int) -> None:
    B.check_step(session=turn.session, brief_id=bid, actor=turn.member, step="note", revision=rev, now=turn.now)
    turn.start(BRIEF_NOTE, NoteState(bid=bid, rev=rev), "text")
    turn.say(t.BRIEF_NOTE_PROMPT)


def take_note(turn: Turn[NoteState], text: str) -> None:
    B.set_editor_note(
        session=turn.session,
        brief_id=turn.state.bid,
        actor=turn.member,
        text=text,
        revision=turn.state.rev,
        now=turn.now,
    )
    turn.end()
    turn.say(t.BRIEF_NOTE_SAVED)


BRIEF_NOTE = Flow("brief_note", NoteState, steps={"text": Step(text=take_note)})


@action("brief.approve")
def brief_approve(turn: Turn[None], *, bid: int, rev: int) -> None:
    brief = B.office_approve(session=turn.session, brief_id=bid, actor=turn.member, revision=rev, now=turn.now)
    done = t.BRIEF_APPROVED_OFFICE if brief.state == B.BriefState.SIGNED else t.BRIEF_APPROVED_CONVENER
    turn.say(done.format(name=B.brief_name(brief)))


@action("brief.sign")
def brief_sign(turn: Turn[None], *, bid: int, rev: int) -> None:
    brief = B.check_step(session=turn.session, brief_id=bid, actor=turn.member, step="sign", revision=rev, now=turn.now)
    shown = (brief.data or {}).get("distribution") or {}
    lines = "\n".join(f"{t.BRIEF_LINE_NAMES.get(k, k)}：{v}" for k, v in shown.items() if v)
    turn.say(
        t.BRIEF_SIGN_CONFIRM.format(name=B.brief_name(brief), lines=lines),
        [
            [
                button(t.BRIEF_BTN_SIGN_CONFIRM, "brief.sign_confirm", bid=bid, rev=rev),
                button(t.BRIEF_BTN_NOT_NOW, "brief.not_now"),
            ]
        ],
    )


@action("brief.sign_confirm")
def brief_sign_confirm(turn: Turn[None], *, bid: int, rev: int) -> None:
    brief = B.sign_brief(session=turn.session, brief_id=bid, actor=turn.member, revision=rev, now=turn.now)
    turn.say(t.BRIEF_SIGNED.format(name=B.brief_name(brief)))


@action("brief.not_now")
def brief_not_now(turn: Turn[None]) -> None:
    turn.say(t.BRIEF_SIGN_KEPT)


@action("brief.return")
def brief_return(turn: Turn[None], *, bid: int, rev: int) -> None:
    B.check_step(session=turn.session, brief_id=bid, actor=turn.member, step="return", revision=rev, now=turn.now)
    turn.start(BRIEF_RETURN, NoteState(bid=bid, rev=rev), "text")
    turn.say(t.BRIEF_RETURN_PROMPT)


def take_reason(turn: Turn[NoteState], text: str) -> None:
    brief = B.return_brief(
        session=turn.session,
        brief_id=turn.state.bid,
        actor=turn.member,
        reason=text,
        revision=turn.state.rev,
        now=turn.now,
    )
    turn.end()
    turn.say(t.BRIEF_RETURNED.format(name=B.brief_name(brief)))


BRIEF_RETURN = Flow("brief_return", NoteState, steps={"text": Step(text=take_reason)})
