"""/flag (raise a problem) and the buttons that move a problem along: accept, hand over,
decline, rule, resolve with evidence, confirm, reopen. Every press is checked again by the
domain (role, unit, current state); the buttons only carry opaque tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from sqlmodel import Session

from bot import texts as t
from bot.engine import Flow, Rows, Step, Turn, Upload, action, button, command, grid, outbox_buttons
from models import Member, Problem, ProblemCategory, Right, Unit, Zone, row_id
from oversight import problems as P
from oversight import supervision as S
from oversight.attachments import ALLOWED_TEXT, files_listed, files_received
from oversight.dates import cn_date
from oversight.errors import InvalidInputError
from oversight.members import responsible_units, unit_name
from oversight.records import plan_record
from oversight.rights import find_rights, plan_zones

ACTIONS = ("accept", "hand_over", "decline", "rule", "resolve", "confirm", "reopen")


# --- the buttons under a problem -------------------------------------------------------


def action_buttons(session: Session, problem: Problem, member: Member) -> Rows:
    """The buttons a member may press on a problem now."""
    allowed = [a for a in ACTIONS if P.can(a, session=session, member=member, problem=problem)]
    return grid((button(t.PROBLEM_BUTTON_LABELS[a], f"problem.{a}", pid=problem.id) for a in allowed), 2)


def button_maker(session: Session) -> P.ButtonMaker:
    """The ButtonMaker the domain calls for each member who must act next (outbox rows)."""

    def make(problem: Problem, member: Member) -> list[list[dict[str, str]]] | None:
        rows = action_buttons(session, problem, member)
        return outbox_buttons(session, rows, user_id=member.telegram_user_id) or None

    return make


def _due(problem: Problem) -> str:
    return cn_date(problem.due_on) if problem.due_on else t.PROBLEM_NO_DUE


def _unit_buttons(session: Session, plan_id: int, action_name: str, exclude: int | None = None) -> Rows:
    units = [u for u in responsible_units(session=session, plan_id=plan_id) if u.id != exclude]
    return grid((button(u.short or u.name, action_name, uid=u.id) for u in units), 3)


def _subject_buttons() -> Rows:
    return [
        [button(t.PROBLEM_FIND_RIGHT, "find_right"), button(t.PROBLEM_CHOOSE_ZONE, "zones")],
        [button(t.PROBLEM_NO_SUBJECT, "no_subject")],
    ]


# --- /flag ------------------------------------------------------------------------


@dataclass
class FlagState:
    """A problem being raised: its text, category, subject (a right or a zone), owner and files."""

    text: str = ""
    cid: int = 0
    category: str = ""
    rid: int | None = None
    zid: int | None = None
    subject: str = ""
    uid: int = 0
    owner: str = ""
    attachments: list[int] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


@command("flag")
def flag(turn: Turn[None]) -> None:
    """Start raising a problem; `/flag 文字` skips the first question."""
    turn.start(FLAG, FlagState(), "text")
    if turn.text:
        take_text(cast(Turn[FlagState], turn), turn.text)
    else:
        turn.say(t.PROBLEM_TEXT_PROMPT)


def take_text(turn: Turn[FlagState], text: str) -> None:
    turn.state.text = P.problem_text(text)  # the checks raise_problem makes
    if turn.state.cid:  # corrected at the confirm step: back to it
        _confirm(turn)
        return
    _ask_group(turn)


def _ask_group(turn: Turn[FlagState]) -> None:
    categories = P.categories_of_plan(session=turn.session, plan_id=turn.member.plan_id)
    present = {c.group for c in categories}
    groups = [g for g in t.PROBLEM_GROUPS if g in present]
    turn.goto("group")
    turn.say(t.PROBLEM_PICK_GROUP, grid((button(t.PROBLEM_GROUPS[g], "group", key=g) for g in groups), 2))


def pick_group(turn: Turn[FlagState], *, key: str) -> None:
    categories = [c for c in P.categories_of_plan(session=turn.session, plan_id=turn.member.plan_id) if c.group == key]
    if not categories:
        raise InvalidInputError(t.PROBLEM_NO_SUCH["category"])
    if len(categories) == 1:  # 市场, 基建技改: the group is the category
        pick_category(turn, cid=row_id(categories[0]))
        return
    turn.goto("category")
    rows = grid((button(c.name, "category", cid=c.id) for c in categories), 2)
    rows.append([button(t.PROBLEM_BACK_GROUPS, "back")])
    turn.say(t.PROBLEM_PICK_CATEGORY.format(group=t.PROBLEM_GROUPS.get(key, "")), rows)


def back_to_groups(turn: Turn[FlagState]) -> None:
    _ask_group(turn)


def pick_category(turn: Turn[FlagState], *, cid: int) -> None:
    category = plan_record(session=turn.session, model=ProblemCategory, record_id=cid, plan_id=turn.member.plan_id)
    if category is None:
        raise InvalidInputError(t.PROBLEM_NO_SUCH["category"])
    turn.state.cid, turn.state.category = row_id(category), category.name
    turn.goto("subject")
    turn.say(t.PROBLEM_PICK_SUBJECT.format(category=category.name), _subject_buttons())


def ask_right(turn: Turn[FlagState]) -> None:
    turn.goto("right_search")
    turn.say(t.PROBLEM_TYPE_RIGHT)


def search_right(turn: Turn[FlagState], text: str) -> None:
    rights = find_rights(session=turn.session, plan_id=turn.member.plan_id, text=text[:100])
    if not rights:
        turn.say(
            t.PROBLEM_NO_RIGHT.format(text=text[:100]),
            [[button(t.PROBLEM_NO_SUBJECT, "no_subject"), button(t.PROBLEM_CHOOSE_ZONE, "zones")]],
        )
        return
    turn.say(
        t.PROBLEM_PICK_RIGHT,
        [[button(t.PROBLEM_RIGHT_LABEL.format(name=r.name, code=r.code), "right", rid=r.id)] for r in rights],
    )


def show_zones(turn: Turn[FlagState]) -> None:
    zones = plan_zones(session=turn.session, plan_id=turn.member.plan_id)
    if not zones:
        raise InvalidInputError(t.PROBLEM_NO_ZONES)
    turn.goto("zone")
    turn.say(t.PROBLEM_PICK_ZONE, grid((button(f"{z.seq}. {z.name}", "zone", zid=z.id) for z in zones), 2))


def pick_zone(turn: Turn[FlagState], *, zid: int) -> None:
    zone = plan_record(session=turn.session, model=Zone, record_id=zid, plan_id=turn.member.plan_id)
    if zone is None:
        raise InvalidInputError(t.PROBLEM_NO_SUCH["zone"])
    turn.state.zid, turn.state.subject = zone.id, t.PROBLEM_SUBJECT_ZONE.format(seq=zone.seq, name=zone.name)
    _ask_owner(turn)


def pick_right(turn: Turn[FlagState], *, rid: int) -> None:
    right = plan_record(session=turn.session, model=Right, record_id=rid, plan_id=turn.member.plan_id)
    if right is None:
        raise InvalidInputError(t.PROBLEM_NO_SUCH["right"])
    turn.state.rid = right.id
    turn.state.zid = right.zone_id or turn.state.zid
    turn.state.subject = t.PROBLEM_RIGHT_LABEL.format(name=right.name, code=right.code)
    _ask_owner(turn)


def no_subject(turn: Turn[FlagState]) -> None:
    turn.state.subject = t.PROBLEM_NO_SUBJECT
    _ask_owner(turn)


def _ask_owner(turn: Turn[FlagState]) -> None:
    session, plan_id = turn.session, turn.member.plan_id
    category = plan_record(session=session, model=ProblemCategory, record_id=turn.state.cid, plan_id=plan_id)
    assert category is not None  # chosen at the category step, of this plan
    route = P.route_owner(session=session, plan_id=plan_id, category_id=row_id(category), right_id=turn.state.rid)
    turn.goto("owner")
    if route is None:
        turn.say(t.PROBLEM_OWNER_NONE.format(category=category.name), _unit_buttons(session, plan_id, "owner"))
        return
    suggested = route.unit
    rows = [
        [button(t.PROBLEM_CONFIRM_OWNER.format(unit=suggested.short or suggested.name), "owner", uid=suggested.id)],
        [button(t.PROBLEM_OTHER_OWNER, "other_owner")],
    ]
    basis = f"{route.basis}，" if route.basis else ""
    turn.say(t.PROBLEM_OWNER_SUGGESTED.format(basis=basis, unit=suggested.name, category=category.name), rows)


def other_owner(turn: Turn[FlagState]) -> None:
    turn.say(t.PROBLEM_PICK_UNIT, _unit_buttons(turn.session, turn.member.plan_id, "owner"))


def pick_owner(turn: Turn[FlagState], *, uid: int) -> None:
    unit = plan_record(session=turn.session, model=Unit, record_id=uid, plan_id=turn.member.plan_id)
    if unit is None:
        raise InvalidInputError(t.PROBLEM_NO_SUCH["unit"])
    turn.state.uid, turn.state.owner = row_id(unit), unit.name
    turn.goto("files")
    turn.say(t.PROBLEM_ASK_FILES.format(allowed=ALLOWED_TEXT), [[button(t.PROBLEM_BTN_NO_FILES, "files_done")]])


def flag_file(turn: Turn[FlagState], upload: Upload) -> None:
    state = turn.state
    if len(state.attachments) >= P.FILES_MAX:
        raise InvalidInputError(t.PROBLEM_TOO_MANY_FILES.format(n=P.FILES_MAX))
    row = turn.keep(upload)
    state.attachments.append(row_id(row))
    state.files.append(row.filename)
    got = files_received(session=turn.session, attachment_ids=state.attachments, flow="problem")
    turn.say(got.message(), [[button(t.PROBLEM_BTN_FILES_DONE, "files_done")]])


def files_done(turn: Turn[FlagState]) -> None:
    _confirm(turn)


def _confirm(turn: Turn[FlagState]) -> None:
    s = turn.state
    files = files_listed(session=turn.session, attachment_ids=s.attachments).message()
    text = t.PROBLEM_CONFIRM.format(text=s.text, category=s.category, subject=s.subject, owner=s.owner, files=files)
    turn.goto("confirm")
    rows = [
        [button(t.REPORT_BTN_SUBMIT, "submit"), button(t.PROBLEM_BTN_EDIT, "edit")],
        [button(t.REPORT_BTN_ABORT, "abort")],
    ]
    turn.say(text, rows)


def edit_text(turn: Turn[FlagState]) -> None:
    turn.goto("text")
    turn.say(t.PROBLEM_EDIT_TEXT)


def submit_flag(turn: Turn[FlagState]) -> None:
    s = turn.state
    problem = P.raise_problem(
        session=turn.session,
        plan_id=turn.member.plan_id,
        actor=turn.member,
        text=s.text,
        category_id=s.cid,
        owner_unit_id=s.uid or None,
        right_id=s.rid,
        zone_id=s.zid,
        buttons=button_maker(turn.session),
        attachment_ids=s.attachments,
    )
    turn.end(done=t.PROBLEM_ALREADY_RAISED.format(id=problem.id))
    owner = unit_name(turn.session, problem.owner_unit_id)
    turn.say(t.PROBLEM_RAISED.format(id=problem.id, owner=owner, due=_due(problem)))
    turn.toast(t.PROBLEM_RAISED_TOAST)


def abort_flag(turn: Turn[FlagState]) -> None:
    turn.end(done=t.PROBLEM_ABORTED)
    turn.say(t.PROBLEM_ABORTED)


FLAG = Flow(
    "flag",
    FlagState,
    command="flag",
    steps={
        "text": Step(text=take_text),
        "group": Step(buttons={"group": pick_group}),
        "category": Step(buttons={"category": pick_category, "back": back_to_groups}),
        "subject": Step(buttons={"find_right": ask_right, "zones": show_zones, "no_subject": no_subject}),
        "right_search": Step(
            text=search_right, buttons={"right": pick_right, "zones": show_zones, "no_subject": no_subject}
        ),
        "zone": Step(buttons={"zone": pick_zone}),
        "owner": Step(buttons={"owner": pick_owner, "other_owner": other_owner}),
        "files": Step(file=flag_file, buttons={"files_done": files_done}),
        "confirm": Step(buttons={"submit": submit_flag, "edit": edit_text, "abort": abort_flag}),
    },
)


# --- the action buttons on a problem ----------------------------------------------------


@dataclass
class ActState:
    """An action on a problem that needs a unit and/or a reason (or evidence) typed after the button."""

    action: str = ""
    pid: int = 0
    uid: int | None = None
    attachments: list[int] = field(default_factory=list)


def _problem(turn: Turn[ActState] | Turn[None], pid: int, action_name: str) -> Problem:
    """The member's plan's problem `pid`, if they may do `action_name` on it now (else the domain says why)."""
    problem = plan_record(session=turn.session, model=Problem, record_id=pid, plan_id=turn.member.plan_id)
    if problem is None:
        raise InvalidInputError(t.PROBLEM_NO_SUCH["problem"])
    P.check_action(action_name, session=turn.session, member=turn.member, problem=problem)
    return problem


def _start(turn: Turn[None], action_name: str, pid: int) -> None:
    """A problem's button: do the action, or ask for its unit or reason."""
    problem = _problem(turn, pid, action_name)
    if action_name in ("accept", "confirm"):
        _done(turn, action_name, pid)
        return
    turn.start(PROBLEM, ActState(action=action_name, pid=pid), "unit")
    if action_name in P.UNIT_ACTIONS:
        prompt = t.PROBLEM_PICK_HANDOVER_UNIT if action_name == "hand_over" else t.PROBLEM_PICK_RULE_UNIT
        exclude = problem.owner_unit_id if action_name == "hand_over" else None
        turn.say(prompt.format(id=pid), _unit_buttons(turn.session, turn.member.plan_id, "unit", exclude))
        return
    turn.goto("evidence" if action_name == "resolve" else "reason")
    turn.say(t.PROBLEM_ASK_REASON[action_name].format(id=pid, unit=""))


def _done(turn: Turn[ActState] | Turn[None], action_name: str, pid: int, text: str = "") -> None:
    """Do the action and say what became of the problem (and, after a ruling, ask about the hand-overs)."""
    state = cast(ActState, turn.state) if turn.flow is not None else ActState()
    problem = P.act_on_problem(
        session=turn.session,
        action=action_name,
        problem_id=pid,
        actor=turn.member,
        text=text,
        to_unit_id=state.uid,
        attachment_ids=state.attachments,
        buttons=button_maker(turn.session),
    )
    owner = unit_name(turn.session, problem.owner_unit_id)
    later = action_buttons(turn.session, problem, turn.member) if action_name == "accept" else []
    turn.say(t.PROBLEM_DONE[action_name].format(id=pid, owner=owner, due=_due(problem)), later)
    lines, judge = _judge_buttons(turn.session, problem, turn.member) if action_name == "rule" else ([], [])
    if judge:
        turn.say("\n".join([t.PROBLEM_JUDGE_PROMPT, *lines]), judge)


def _judge_buttons(session: Session, problem: Problem, member: Member) -> tuple[list[str], Rows]:
    """Each hand-over of a problem the office just ruled on, in full and numbered, and a short
    pair of buttons per number to judge its reason (a reason never goes on a button)."""
    if not P.can("judge_reason", session=session, member=member, problem=problem):
        return [], []
    lines: list[str] = []
    rows: Rows = []
    for n, ev in enumerate(P.handovers_of(session=session, problem_id=row_id(problem)), 1):
        unit = session.get(Unit, ev.from_unit_id) if ev.from_unit_id else None
        name = (unit.short or unit.name) if unit else t.PROBLEM_SOME_UNIT
        full = unit.name if unit else t.PROBLEM_SOME_UNIT
        lines.append(t.PROBLEM_HANDOVER_LINE.format(n=n, unit=full, reason=ev.reason))
        rows.append(
            [
                button(t.PROBLEM_BTN_VALID.format(n=n, unit=name), "problem.judge", eid=ev.id, ok=True),
                button(t.PROBLEM_BTN_INVALID.format(n=n), "problem.judge", eid=ev.id, ok=False),
            ]
        )
    return lines, rows


@action("problem.accept")
def accept(turn: Turn[None], *, pid: int) -> None:
    _start(turn, "accept", pid)


@action("problem.hand_over")
def hand_over(turn: Turn[None], *, pid: int) -> None:
    _start(turn, "hand_over", pid)


@action("problem.decline")
def decline(turn: Turn[None], *, pid: int) -> None:
    _start(turn, "decline", pid)


@action("problem.rule")
def rule(turn: Turn[None], *, pid: int) -> None:
    _start(turn, "rule", pid)


@action("problem.resolve")
def resolve(turn: Turn[None], *, pid: int) -> None:
    _start(turn, "resolve", pid)


@action("problem.confirm")
def confirm(turn: Turn[None], *, pid: int) -> None:
    _start(turn, "confirm", pid)


@action("problem.reopen")
def reopen(turn: Turn[None], *, pid: int) -> None:
    _start(turn, "reopen", pid)


def pick_unit(turn: Turn[ActState], *, uid: int) -> None:
    unit = plan_record(session=turn.session, model=Unit, record_id=uid, plan_id=turn.member.plan_id)
    if unit is None:
        raise InvalidInputError(t.PROBLEM_NO_SUCH["unit"])
    _problem(turn, turn.state.pid, turn.state.action)
    turn.state.uid = unit.id
    turn.goto("reason")
    turn.say(t.PROBLEM_ASK_REASON[turn.state.action].format(id=turn.state.pid, unit=unit.name))


def take_reason(turn: Turn[ActState], text: str) -> None:
    _done(turn, turn.state.action, turn.state.pid, text)
    turn.end()


def take_evidence(turn: Turn[ActState], upload: Upload) -> None:
    kept = turn.keep(upload)
    turn.state.attachments.append(row_id(kept))
    turn.say(t.PROBLEM_EVIDENCE_SAVED.format(name=kept.filename))


PROBLEM = Flow(
    "problem",
    ActState,
    steps={
        "unit": Step(buttons={"unit": pick_unit}),
        "reason": Step(text=take_reason),
        "evidence": Step(text=take_reason, file=take_evidence),
    },
)


@action("problem.judge")
def judge(turn: Turn[None], *, eid: int, ok: bool) -> None:
    event = P.accept_handover_reason(session=turn.session, event_id=eid, actor=turn.member, accepted=ok)
    unit = unit_name(turn.session, event.from_unit_id) or t.PROBLEM_THAT_UNIT
    turn.say(t.PROBLEM_JUDGED.format(unit=unit, verdict=t.PROBLEM_VALID if ok else t.PROBLEM_INVALID))


# --- /problem ID ---------------------------------------------------------------------


@command("problem")
def problem_command(turn: Turn[None]) -> None:
    """/problem 12: the problem's whole history, and the buttons the member may press on it."""
    words = turn.args
    if len(words) != 1 or not words[0].lstrip("#").isdigit() or len(words[0]) > 12:
        turn.say(t.PROBLEM_USAGE)
        return
    pid = int(words[0].lstrip("#"))
    problem = plan_record(session=turn.session, model=Problem, record_id=pid, plan_id=turn.member.plan_id)
    if problem is None:
        turn.say(t.PROBLEM_NOT_FOUND.format(id=pid))
    elif not P.may_view(session=turn.session, member=turn.member, problem=problem):
        turn.say(t.PROBLEM_NOT_YOURS.format(id=pid))
    else:
        text = P.format_problem(session=turn.session, problem_id=pid)
        files = [a for group in P.event_files(session=turn.session, problem_id=pid).values() for a in group]
        opens = [[button(t.PROBLEM_BTN_FILE.format(name=a.filename), "problem.file", aid=a.id)] for a in files]
        urge = []  # the office's 催办 on an open problem with a deadline (oversight.supervision)
        if turn.member.role in S.URGE_ROLES and S.find_item(
            session=turn.session, plan_id=turn.member.plan_id, kind=S.PROBLEM, item_id=pid, today=turn.today
        ):
            urge = [[button(t.DUBAN_BTN_URGE, "sup.urge", kind=S.PROBLEM, iid=pid)]]
        turn.say(text, action_buttons(turn.session, problem, turn.member) + urge + opens)


@action("problem.file")
def open_file(turn: Turn[None], *, aid: int) -> None:
    """A file listed under /problem N: sent to whoever may view the problem."""
    sent = P.send_problem_file(session=turn.session, member=turn.member, attachment_id=aid, now=turn.now)
    turn.toast(t.PROBLEM_FILE_SENT.format(name=sent.filename))
