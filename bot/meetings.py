"""/meeting: the office (or the convener) schedules a joint meeting — quarterly, or ad hoc (临时加开,
the convener) — with its date and time; the bot drafts the agenda from the record, the office edits
it and circulates the notice to the member units, each unit's contact says who attends, the office
marks the meeting held and, once its agreed matters are recorded (/decision), has the 会议纪要
written and sent (by the worker)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot import texts as t
from bot.engine import Flow, Rows, Step, Turn, action, button, command, outbox_buttons
from models import Meeting, Member, row_id
from oversight import convening as C
from oversight.dates import parse_cn_datetime
from oversight.errors import InvalidInputError


@dataclass
class MeetingState:
    """A meeting being scheduled (its kind and topic) or the one the office's card shows."""

    kind: str = ""
    topic: str = ""
    mid: int = 0


def _kind_label(meeting: Meeting) -> str:
    return C.KIND_LABELS.get(meeting.kind, meeting.kind)


@command("meeting")
def meeting(turn: Turn[None]) -> None:
    """With words after it (/meeting 研究用地问题): 临时加开 on that topic; without: the choice."""
    topic = " ".join(turn.args).strip()
    if topic:
        C.check_may_schedule(actor=turn.member, kind="adhoc")
        turn.start(MEETING, MeetingState(kind="adhoc", topic=topic[: C.TOPIC_MAX]), "when")
        turn.say(t.MEETING_ASK_WHEN.format(kind=t.MEETING_KIND_ADHOC_TOPIC.format(topic=topic[: C.TOPIC_MAX])))
        return
    turn.start(MEETING, MeetingState(), "kind")
    rows: Rows = [
        [button(t.MEETING_BTN_QUARTERLY, "kind", kind="quarterly"), button(t.MEETING_BTN_ADHOC, "kind", kind="adhoc")]
    ]
    rows += [
        [button(C.meeting_label(m), "open", mid=m.id)]
        for m in C.upcoming(session=turn.session, plan_id=turn.member.plan_id)
    ]
    turn.say(t.MEETING_START, rows)


def pick_kind(turn: Turn[MeetingState], *, kind: str) -> None:
    C.check_may_schedule(actor=turn.member, kind=kind)
    turn.state.kind = kind
    turn.goto("when")
    turn.say(t.MEETING_ASK_WHEN.format(kind=C.KIND_LABELS.get(kind, kind)))


def take_when(turn: Turn[MeetingState], text: str) -> None:
    starts_at = parse_cn_datetime(text, now=turn.now)
    m = C.schedule_meeting(
        session=turn.session,
        actor=turn.member,
        kind=turn.state.kind,
        starts_at=starts_at,
        topic=turn.state.topic,
        now=turn.now,
    )
    _show(turn, m)


def open_card(turn: Turn[MeetingState], *, mid: int) -> None:
    _show(turn, C.get_meeting(session=turn.session, actor=turn.member, meeting_id=mid))


def _show(turn: Turn[MeetingState], m: Meeting) -> None:
    """The office's card of the meeting, with what can be done at its state."""
    turn.state = MeetingState(kind=m.kind, mid=row_id(m))
    turn.goto("card")
    mid = row_id(m)
    head = {"label": C.meeting_label(m), "kind": _kind_label(m), "state": C.STATE_LABELS.get(m.state, m.state)}
    if m.state == "scheduled":
        turn.say(
            t.MEETING_CARD_SCHEDULED.format(**head, agenda=C.agenda_text(m)),
            [
                [button(t.MEETING_BTN_ADD, "add", mid=mid), button(t.MEETING_BTN_DROP, "drop", mid=mid)],
                [button(t.MEETING_BTN_MOVE, "move", mid=mid), button(t.MEETING_BTN_CANCEL, "cancel", mid=mid)],
                [button(t.MEETING_BTN_CIRCULATE, "circulate", mid=mid)],
            ],
        )
    elif m.state == "circulated":
        turn.say(
            C.meeting_card(session=turn.session, meeting=m).message(),
            [
                [button(t.MEETING_BTN_REFRESH, "open", mid=mid), button(t.MEETING_BTN_MOVE, "move", mid=mid)],
                [button(t.MEETING_BTN_HELD, "held", mid=mid), button(t.MEETING_BTN_CANCEL, "cancel", mid=mid)],
            ],
        )
    elif m.state == "held":
        turn.say(
            C.meeting_card(session=turn.session, meeting=m).message(),
            [[button(t.MEETING_BTN_REFRESH, "open", mid=mid), button(t.MEETING_BTN_MINUTES, "minutes", mid=mid)]],
        )
    else:
        turn.end()
        turn.say(t.MEETING_CARD_MINUTED.format(**head))


def ask_add(turn: Turn[MeetingState], *, mid: int) -> None:
    C.check_editable(session=turn.session, actor=turn.member, meeting_id=mid)
    turn.state.mid = mid
    turn.goto("add_text")
    turn.say(t.MEETING_ASK_ADD)


def add_text(turn: Turn[MeetingState], text: str) -> None:
    m = C.add_agenda_item(session=turn.session, meeting_id=turn.state.mid, actor=turn.member, text=text, now=turn.now)
    _show(turn, m)


def ask_drop(turn: Turn[MeetingState], *, mid: int) -> None:
    m = C.check_editable(session=turn.session, actor=turn.member, meeting_id=mid)
    if not m.agenda:
        raise InvalidInputError("议程已无议题。")
    turn.state.mid = mid
    turn.goto("drop_text")
    turn.say(t.MEETING_ASK_DROP.format(n=len(m.agenda)) + "\n" + C.agenda_text(m))


def drop_text(turn: Turn[MeetingState], text: str) -> None:
    m = C.drop_agenda_item(
        session=turn.session, meeting_id=turn.state.mid, actor=turn.member, number=text, now=turn.now
    )
    _show(turn, m)


def ask_circulate(turn: Turn[MeetingState], *, mid: int) -> None:
    prompt = C.circulation_prompt(session=turn.session, actor=turn.member, meeting_id=mid)
    turn.goto("confirm")
    turn.say(
        prompt.message(),
        [[button(t.MEETING_BTN_CONFIRM, "confirm", mid=mid), button(t.MEETING_BTN_BACK, "open", mid=mid)]],
    )


def confirm(turn: Turn[MeetingState], *, mid: int) -> None:
    done = C.circulate(
        session=turn.session,
        meeting_id=mid,
        actor=turn.member,
        now=turn.now,
        buttons=lambda m, contact: _notice_buttons(turn.session, m, contact),
    )
    turn.say(done.message())
    _show(turn, C.get_meeting(session=turn.session, actor=turn.member, meeting_id=mid))


def _notice_buttons(session: Session, m: Meeting, contact: Member) -> list[list[dict[str, str]]]:
    rows: Rows = [
        [
            button(t.MEETING_BTN_ATTEND, "meeting.attend", mid=m.id),
            button(t.MEETING_BTN_EXCUSE, "meeting.excuse", mid=m.id),
        ]
    ]
    return outbox_buttons(session, rows, user_id=contact.telegram_user_id)


def ask_move(turn: Turn[MeetingState], *, mid: int) -> None:
    m = C.get_meeting(session=turn.session, actor=turn.member, meeting_id=mid)
    C.check_movable(m)
    turn.state.mid = mid
    turn.goto("move_when")
    turn.say(t.MEETING_ASK_MOVE.format(label=C.meeting_label(m)))


def move_when(turn: Turn[MeetingState], text: str) -> None:
    m = C.reschedule(
        session=turn.session,
        meeting_id=turn.state.mid,
        actor=turn.member,
        starts_at=parse_cn_datetime(text, now=turn.now),
        now=turn.now,
        buttons=lambda m, contact: _notice_buttons(turn.session, m, contact),
    )
    if m.state == "circulated":
        turn.say(t.MEETING_MOVED_TOLD)
    _show(turn, m)


def ask_cancel(turn: Turn[MeetingState], *, mid: int) -> None:
    m = C.get_meeting(session=turn.session, actor=turn.member, meeting_id=mid)
    C.check_movable(m)
    turn.state.mid = mid
    turn.goto("cancel_reason")
    turn.say(t.MEETING_ASK_CANCEL.format(label=C.meeting_label(m)))


def cancel_reason(turn: Turn[MeetingState], text: str) -> None:
    m = C.cancel_meeting(session=turn.session, meeting_id=turn.state.mid, actor=turn.member, reason=text, now=turn.now)
    turn.end()
    turn.say(
        t.MEETING_CANCELLED.format(label=C.meeting_label(m), told=t.MEETING_CANCEL_TOLD if m.circulated_at else "")
    )


def held(turn: Turn[MeetingState], *, mid: int) -> None:
    _show(turn, C.mark_held(session=turn.session, meeting_id=mid, actor=turn.member, now=turn.now))


def minutes(turn: Turn[MeetingState], *, mid: int) -> None:
    C.request_minutes(session=turn.session, meeting_id=mid, actor=turn.member, now=turn.now)
    turn.end()
    turn.say(t.MEETING_MINUTES_REQUESTED)


MEETING = Flow(
    "meeting",
    MeetingState,
    command="meeting",
    steps={
        "kind": Step(buttons={"kind": pick_kind, "open": open_card}),
        "when": Step(text=take_when),
        "card": Step(
            buttons={
                "open": open_card,
                "add": ask_add,
                "drop": ask_drop,
                "circulate": ask_circulate,
                "held": held,
                "minutes": minutes,
                "move": ask_move,
                "cancel": ask_cancel,
            }
        ),
        "cancel_reason": Step(text=cancel_reason),
        "move_when": Step(text=move_when),
        "add_text": Step(text=add_text),
        "drop_text": Step(text=drop_text),
        "confirm": Step(buttons={"confirm": confirm, "open": open_card}),
    },
)


# --- A member unit's answer to the notice ----------------------------------------------------


@dataclass
class AttendState:
    mid: int = 0


@action("meeting.attend")
def attend(turn: Turn[None], *, mid: int) -> None:
    C.check_may_answer(session=turn.session, member=turn.member, meeting_id=mid, now=turn.now)
    turn.start(ATTEND_FLOW, AttendState(mid=mid), "name")
    turn.say(t.MEETING_ATTEND_ASK)


def attend_name(turn: Turn[AttendState], text: str) -> None:
    row = C.answer_attendance(
        session=turn.session, meeting_id=turn.state.mid, actor=turn.member, attendee=text, now=turn.now
    )
    m = C.check_may_answer(session=turn.session, member=turn.member, meeting_id=turn.state.mid, now=turn.now)
    turn.end()
    turn.say(t.MEETING_ATTEND_SAVED.format(title=m.title, name=row.attendee))


ATTEND_FLOW = Flow("meeting_attend", AttendState, steps={"name": Step(text=attend_name)})


@action("meeting.excuse")
def excuse(turn: Turn[None], *, mid: int) -> None:
    C.answer_attendance(session=turn.session, meeting_id=mid, actor=turn.member, excused=True, now=turn.now)
    m = C.check_may_answer(session=turn.session, member=turn.member, meeting_id=mid, now=turn.now)
    turn.say(t.MEETING_EXCUSED_SAVED.format(title=m.title))
