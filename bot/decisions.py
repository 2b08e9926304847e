"""/decision: the office records an agreed matter (议定事项) of a meeting — meeting → text →
owner unit → due date; the owner unit is told with a "标记完成" button."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from bot.engine import Flow, Step, Turn, action, button, command, grid, outbox_buttons
from models import Decision, Meeting, Member, Unit
from oversight import meetings as M
from oversight.dates import cn_date
from oversight.errors import InvalidInputError
from oversight.members import responsible_units
from oversight.records import plan_record

PICK_MEETING = "请选择议定事项所属的会议："
NO_MEETING = "还没有会议记录。请先新建本次会议："
NEW_MEETING = "新建会议记录（今天）"
ASK_TEXT = "会议：{meeting}\n请发送议定事项内容（不超过 500 字）："
PICK_UNIT = "请选择责任单位："
ASK_DUE = "责任单位：{unit}\n请发送完成时限，格式 2026-06-30："
BAD_DATE = "“{text}”不是有效日期，请按 2026-06-30 的格式发送。"
SAVED = "已记录议定事项#{id}：{text}\n责任单位：{unit}，完成时限 {due}。已通知该单位联络员。"
DONE = "议定事项#{id}已标记完成。"
NO_SUCH_MEETING = "该会议不存在。"
NO_SUCH_UNIT = "该单位不存在。"
MARK_DONE = "标记完成"


@dataclass
class DecisionState:
    """An agreed matter being recorded: its meeting, text and owner unit."""

    mid: int = 0
    text: str = ""
    uid: int = 0
    unit: str = ""


def _meeting_label(meeting: Meeting) -> str:
    return f"{cn_date(meeting.held_on)} {meeting.title}"


@command("decision")
def decision(turn: Turn[None]) -> None:
    meetings = M.recent_meetings(session=turn.session, plan_id=turn.member.plan_id)
    turn.start(DECISION, DecisionState(), "meeting")
    rows = [[button(_meeting_label(m)[:50], "meeting", mid=m.id)] for m in meetings]
    rows.append([button(NEW_MEETING, "new_meeting")])
    turn.say(PICK_MEETING if meetings else NO_MEETING, rows)


def pick_meeting(turn: Turn[DecisionState], *, mid: int) -> None:
    meeting = plan_record(session=turn.session, model=Meeting, record_id=mid, plan_id=turn.member.plan_id)
    if meeting is None:
        raise InvalidInputError(NO_SUCH_MEETING)
    _ask_text(turn, meeting)


def new_meeting(turn: Turn[DecisionState]) -> None:
    _ask_text(turn, M.open_meeting_today(session=turn.session, actor=turn.member, now=turn.now))


def _ask_text(turn: Turn[DecisionState], meeting: Meeting) -> None:
    assert meeting.id is not None
    turn.state = DecisionState(mid=meeting.id)
    turn.goto("text")
    turn.say(ASK_TEXT.format(meeting=_meeting_label(meeting)))


def take_text(turn: Turn[DecisionState], text: str) -> None:
    turn.state.text = M.clean_decision_text(text)
    units = responsible_units(session=turn.session, plan_id=turn.member.plan_id)
    turn.goto("unit")
    turn.say(PICK_UNIT, grid((button(u.short or u.name, "unit", uid=u.id) for u in units), 3))


def pick_unit(turn: Turn[DecisionState], *, uid: int) -> None:
    unit = plan_record(session=turn.session, model=Unit, record_id=uid, plan_id=turn.member.plan_id)
    if unit is None or unit.id is None:
        raise InvalidInputError(NO_SUCH_UNIT)
    turn.state.uid, turn.state.unit = unit.id, unit.name
    turn.goto("due")
    turn.say(ASK_DUE.format(unit=unit.name))


def take_due(turn: Turn[DecisionState], text: str) -> None:
    state = turn.state
    d = M.add_decision(
        session=turn.session,
        meeting_id=state.mid,
        actor=turn.member,
        text=state.text,
        owner_unit_id=state.uid,
        due_on=_parse_date(text),
        buttons=lambda d, contact: _done_button(turn.session, d, contact),
    )
    turn.end()
    turn.say(SAVED.format(id=d.id, text=d.text, unit=state.unit, due=cn_date(d.due_on) if d.due_on else ""))


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(BAD_DATE.format(text=text[:30])) from None


def _done_button(session: Session, d: Decision, contact: Member) -> list[list[dict[str, str]]]:
    return outbox_buttons(session, [[button(MARK_DONE, "decision.done", did=d.id)]], user_id=contact.telegram_user_id)


@action("decision.done")
def mark_done(turn: Turn[None], *, did: int) -> None:
    d = M.complete_decision(session=turn.session, decision_id=did, actor=turn.member, now=turn.now)
    turn.say(DONE.format(id=d.id))
    turn.toast("已标记完成")


DECISION = Flow(
    "decision",
    DecisionState,
    command="decision",
    steps={
        "meeting": Step(buttons={"meeting": pick_meeting, "new_meeting": new_meeting}),
        "text": Step(text=take_text),
        "unit": Step(buttons={"unit": pick_unit}),
        "due": Step(text=take_due),
    },
)
