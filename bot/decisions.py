"""/decision: the office records an agreed matter (议定事项) of a meeting — meeting → text →
owner unit → due date; the owner unit is told with a button to report it done, with evidence
(text and files) the office then accepts or returns with a reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from bot import texts as t
from bot.engine import Flow, Step, Turn, Upload, action, button, command, grid, outbox_buttons
from models import Decision, Meeting, Member, Unit, row_id
from oversight import meetings as M
from oversight.dates import cn_date, parse_cn_date
from oversight.errors import InvalidInputError
from oversight.members import responsible_units, unit_name
from oversight.records import plan_record


@dataclass
class DecisionState:
    """An agreed matter being recorded: its meeting, text and owner unit."""

    mid: int = 0
    text: str = ""
    uid: int = 0
    unit: str = ""
    coop: list[int] = field(default_factory=list)
    major: bool = False


def _meeting_label(meeting: Meeting) -> str:
    return f"{cn_date(meeting.held_on)} {meeting.title}"


@command("decision", bare=True)
def decision(turn: Turn[None]) -> None:
    meetings = M.recent_meetings(session=turn.session, plan_id=turn.member.plan_id)
    turn.start(DECISION, DecisionState(), "meeting")
    rows = [[button(_meeting_label(m), "meeting", mid=m.id)] for m in meetings]
    rows.append([button(t.DECISION_NEW_MEETING, "new_meeting")])
    turn.say(t.DECISION_PICK_MEETING if meetings else t.DECISION_NO_MEETING, rows)


def pick_meeting(turn: Turn[DecisionState], *, mid: int) -> None:
    meeting = plan_record(session=turn.session, model=Meeting, record_id=mid, plan_id=turn.member.plan_id)
    if meeting is None:
        raise InvalidInputError(t.DECISION_NO_SUCH_MEETING)
    M.check_open_for_decisions(meeting)
    _ask_text(turn, meeting)


def new_meeting(turn: Turn[DecisionState]) -> None:
    _ask_text(turn, M.open_meeting_today(session=turn.session, actor=turn.member, now=turn.now))


def _ask_text(turn: Turn[DecisionState], meeting: Meeting) -> None:
    turn.state = DecisionState(mid=row_id(meeting))
    turn.goto("text")
    turn.say(t.DECISION_ASK_TEXT.format(meeting=_meeting_label(meeting)))


def take_text(turn: Turn[DecisionState], text: str) -> None:
    turn.state.text = M.clean_decision_text(text)
    units = responsible_units(session=turn.session, plan_id=turn.member.plan_id)
    turn.goto("unit")
    turn.say(t.DECISION_PICK_UNIT, grid((button(u.short or u.name, "unit", uid=u.id) for u in units), 3))


def pick_unit(turn: Turn[DecisionState], *, uid: int) -> None:
    unit = plan_record(session=turn.session, model=Unit, record_id=uid, plan_id=turn.member.plan_id)
    if unit is None:
        raise InvalidInputError(t.DECISION_NO_SUCH_UNIT)
    turn.state.uid, turn.state.unit = row_id(unit), unit.name
    turn.state.coop = []
    turn.goto("coop")
    _ask_coop(turn)


def _ask_coop(turn: Turn[DecisionState]) -> None:
    units = [u for u in responsible_units(session=turn.session, plan_id=turn.member.plan_id) if u.id != turn.state.uid]
    chosen = [u for u in units if u.id in turn.state.coop]
    rows = grid(
        (button(("✓" if u.id in turn.state.coop else "") + (u.short or u.name), "coop", uid=u.id) for u in units), 3
    )
    label = t.DECISION_BTN_COOP_DONE if chosen else t.DECISION_BTN_NO_COOP
    rows.append([button(label, "coop_done")])
    names = "、".join(u.name for u in chosen)
    turn.say(t.DECISION_PICK_COOP.format(unit=turn.state.unit, chosen=f"\n已选：{names}" if names else ""), rows)


def toggle_coop(turn: Turn[DecisionState], *, uid: int) -> None:
    unit = plan_record(session=turn.session, model=Unit, record_id=uid, plan_id=turn.member.plan_id)
    if unit is None:
        raise InvalidInputError(t.DECISION_NO_SUCH_UNIT)
    chosen = list(turn.state.coop)
    chosen = [u for u in chosen if u != uid] if uid in chosen else [*chosen, uid]
    M.check_cooperating(session=turn.session, plan_id=turn.member.plan_id, lead_unit_id=turn.state.uid, unit_ids=chosen)
    turn.state.coop = chosen
    _ask_coop(turn)


def coop_done(turn: Turn[DecisionState]) -> None:
    turn.goto("major")
    turn.say(
        t.DECISION_ASK_MAJOR,
        [[button(t.DECISION_BTN_MAJOR, "major", major=1), button(t.DECISION_BTN_NOT_MAJOR, "major", major=0)]],
    )


def pick_major(turn: Turn[DecisionState], *, major: int) -> None:
    turn.state.major = bool(major)
    turn.goto("due")
    turn.say(t.DECISION_ASK_DUE.format(unit=turn.state.unit))


def take_due(turn: Turn[DecisionState], text: str) -> None:
    state = turn.state
    d = M.add_decision(
        session=turn.session,
        meeting_id=state.mid,
        actor=turn.member,
        text=state.text,
        owner_unit_id=state.uid,
        due_on=parse_cn_date(text, today=turn.today),
        major=state.major,
        cooperating_unit_ids=state.coop,
        buttons=lambda d, contact: _done_button(turn.session, d, contact),
    )
    turn.end()
    turn.say(_saved_text(turn.session, d, state.unit))


def _saved_text(session: Session, d: Decision, lead: str) -> str:
    helpers = "、".join(unit_name(session, u) for u in d.cooperating_unit_ids)
    return t.DECISION_SAVED.format(
        id=d.id,
        major=t.DECISION_SAVED_MAJOR if d.major else "",
        text=d.text,
        unit=lead,
        coop=f"，配合单位：{helpers}" if helpers else "",
        due=cn_date(d.due_on) if d.due_on else "",
        told="和配合单位" if helpers else "",
    )


def _done_button(session: Session, d: Decision, contact: Member) -> list[list[dict[str, str]]]:
    return outbox_buttons(
        session, [[button(t.DECISION_MARK_DONE, "decision.done", did=d.id)]], user_id=contact.telegram_user_id
    )


@dataclass
class DoneState:
    """A lead unit's report that an agreed matter is done: the matter and the files sent so far."""

    did: int = 0
    attachments: list[int] = field(default_factory=list)


@action("decision.done")
def mark_done(turn: Turn[None], *, did: int) -> None:
    """The lead unit reports it done: evidence first (files, then the text), the office accepts."""
    M.check_may_submit_decision(session=turn.session, member=turn.member, decision_id=did)
    turn.start(DECISION_DONE_FLOW, DoneState(did=did), "evidence")
    turn.say(t.DECISION_ASK_EVIDENCE.format(id=did))


def done_file(turn: Turn[DoneState], upload: Upload) -> None:
    kept = turn.keep(upload)
    turn.state.attachments.append(row_id(kept))
    turn.say(t.DECISION_FILE_KEPT.format(name=kept.filename))


def done_text(turn: Turn[DoneState], text: str) -> None:
    M.submit_decision(
        session=turn.session,
        decision_id=turn.state.did,
        actor=turn.member,
        text=text,
        attachment_ids=turn.state.attachments,
        now=turn.now,
    )
    turn.end()
    turn.say(t.DECISION_SUBMITTED.format(id=turn.state.did))


DECISION_DONE_FLOW = Flow("decision_done", DoneState, steps={"evidence": Step(text=done_text, file=done_file)})


@action("decision.accept")
def accept(turn: Turn[None], *, did: int) -> None:
    d = M.review_decision(session=turn.session, decision_id=did, actor=turn.member, ok=True, now=turn.now)
    turn.say(t.DECISION_ACCEPTED.format(id=did, completion=M.decision_completion(d)))


@dataclass
class ReturnState:
    did: int = 0


@action("decision.return")
def give_back(turn: Turn[None], *, did: int) -> None:
    M.check_may_review_decision(session=turn.session, member=turn.member, decision_id=did)
    turn.start(DECISION_RETURN_FLOW, ReturnState(did=did), "reason")
    turn.say(t.DECISION_ASK_RETURN)


def return_reason(turn: Turn[ReturnState], text: str) -> None:
    M.review_decision(
        session=turn.session, decision_id=turn.state.did, actor=turn.member, ok=False, reason=text, now=turn.now
    )
    turn.end()
    turn.say(t.DECISION_RETURNED.format(id=turn.state.did))


DECISION_RETURN_FLOW = Flow("decision_return", ReturnState, steps={"reason": Step(text=return_reason)})


DECISION = Flow(
    "decision",
    DecisionState,
    command="decision",
    steps={
        "meeting": Step(buttons={"meeting": pick_meeting, "new_meeting": new_meeting}),
        "text": Step(text=take_text),
        "unit": Step(buttons={"unit": pick_unit}),
        "coop": Step(buttons={"coop": toggle_coop, "coop_done": coop_done}),
        "major": Step(buttons={"major": pick_major}),
        "due": Step(text=take_due),
    },
)
