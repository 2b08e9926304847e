"""/flag (raise a problem) and the buttons that move a problem along: accept, hand over,
decline, rule, resolve with evidence, confirm, reopen. Every press is checked again by the
domain (role, unit, current state); the buttons only carry opaque tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from sqlmodel import Session

from bot.engine import Flow, Rows, Step, Turn, Upload, action, button, command, grid, outbox_buttons
from models import Member, Problem, ProblemCategory, Right, Unit, Zone
from oversight import problems as P
from oversight.dates import cn_date
from oversight.errors import InvalidInputError
from oversight.members import responsible_units, unit_name
from oversight.records import plan_record
from oversight.rights import find_rights, plan_zones

ACTIONS = ("accept", "hand_over", "decline", "rule", "resolve", "confirm", "reopen")
BUTTON_LABELS = {
    "accept": "✅ 接收",
    "hand_over": "↪️ 转交",
    "decline": "⛔ 退回",
    "rule": "⚖️ 裁定责任单位",
    "resolve": "🏁 办结",
    "confirm": "👍 确认关闭",
    "reopen": "🔁 重新办理",
}
TEXT_PROMPT = "请描述问题（堵点），一条消息写清：发生了什么、卡在哪个环节、需要谁做什么。\n随时发送 /cancel 取消。"
PICK_CATEGORY = "请选择问题类别："
PICK_SUBJECT = "类别：{category}\n问题涉及哪个矿业权或整合区？"
TYPE_RIGHT = "请输入矿业权名称或编号的一部分："
NO_RIGHT = "没有找到包含“{text}”的矿业权，请换个关键词，或点“不指定”。"
PICK_RIGHT = "找到以下矿业权，请选择："
PICK_ZONE = "请选择整合区："
NO_ZONES = "本计划没有整合区，请点“不指定”或查找矿业权。"
OWNER_SUGGESTED = "按职责分工，建议由【{unit}】负责办理（{category}）。"
OWNER_NONE = "类别“{category}”没有对应的责任单位，请选择："
PICK_UNIT = "请选择责任单位："
RAISED = "已提交问题#{id}，已交办{owner}，办理期限 {due}。\n可发送 /problem {id} 查看全过程。"
ASK_REASON = {
    "hand_over": "请说明转交给【{unit}】的理由（必填）：",
    "decline": "请说明退回问题#{id}的理由（必填，将提交联席会议办公室裁定）：",
    "rule": "请说明裁定由【{unit}】办理问题#{id}的理由（必填）：",
    "reopen": "请说明问题#{id}需要重新办理的理由（必填）：",
    "resolve": "请发送问题#{id}的办结说明（文字），也可先上传佐证材料（PDF、Excel、图片），再发送文字说明完成办结：",
}
PICK_HANDOVER_UNIT = "问题#{id}转交给哪个单位？"
PICK_RULE_UNIT = "裁定问题#{id}由哪个单位负责办理？"
DONE = {
    "accept": "已接收问题#{id}，请在 {due} 前办结。办结时请点“办结”并附说明或材料。",
    "hand_over": "问题#{id}已转交给{owner}。",
    "decline": "问题#{id}已退回，待联席会议办公室裁定。",
    "rule": "已裁定：问题#{id}由{owner}办理。",
    "resolve": "问题#{id}已办结，已通知提出方确认。",
    "confirm": "问题#{id}已确认关闭。",
    "reopen": "问题#{id}已退回重新办理，仍由{owner}负责。",
}
EVIDENCE_SAVED = "已收到材料“{name}”。可继续上传，或发送文字说明完成办结。"
JUDGE_PROMPT = "如认为下列转交理由成立，可逐条认定（认定后该转交不计为推诿）："
JUDGED = "已认定：{unit}的转交理由{verdict}。"
PROBLEM_USAGE = "用法：/problem 问题编号，例如 /problem 12"
NOT_FOUND = "找不到问题#{id}。"
NOT_YOURS = "您无权查看问题#{id}。"
NO_SUCH = {
    "category": "该类别不存在。",
    "zone": "该整合区不存在。",
    "right": "该矿业权不存在。",
    "problem": "该问题不存在。",
    "unit": "该单位不存在。",
}
NO_SUBJECT, FIND_RIGHT, CHOOSE_ZONE, OTHER_OWNER = "不指定", "按名称查找矿业权", "选择整合区", "改为其他单位"


# --- the buttons under a problem -------------------------------------------------------


def action_buttons(session: Session, problem: Problem, member: Member) -> Rows:
    """The buttons a member may press on a problem now."""
    allowed = [a for a in ACTIONS if P.can(a, session=session, member=member, problem=problem)]
    return grid((button(BUTTON_LABELS[a], f"problem.{a}", pid=problem.id) for a in allowed), 2)


def button_maker(session: Session) -> P.ButtonMaker:
    """The ButtonMaker the domain calls for each member who must act next (outbox rows)."""

    def make(problem: Problem, member: Member) -> list[list[dict[str, str]]] | None:
        rows = action_buttons(session, problem, member)
        return outbox_buttons(session, rows, user_id=member.telegram_user_id) or None

    return make


def _due(problem: Problem) -> str:
    return cn_date(problem.due_on) if problem.due_on else "未设定"


def _unit_buttons(session: Session, plan_id: int, action_name: str, exclude: int | None = None) -> Rows:
    units = [u for u in responsible_units(session=session, plan_id=plan_id) if u.id != exclude]
    return grid((button(u.short or u.name, action_name, uid=u.id) for u in units), 3)


def _subject_buttons() -> Rows:
    return [[button(FIND_RIGHT, "find_right"), button(CHOOSE_ZONE, "zones")], [button(NO_SUBJECT, "no_subject")]]


# --- /flag ------------------------------------------------------------------------


@dataclass
class FlagState:
    """A problem being raised: its text, category and subject (a right or a zone)."""

    text: str = ""
    cid: int = 0
    rid: int | None = None
    zid: int | None = None


@command("flag")
def flag(turn: Turn[None]) -> None:
    """Start raising a problem; `/flag 文字` skips the first question."""
    turn.start(FLAG, FlagState(), "text")
    if turn.text:
        take_text(cast(Turn[FlagState], turn), turn.text)
    else:
        turn.say(TEXT_PROMPT)


def take_text(turn: Turn[FlagState], text: str) -> None:
    turn.state.text = P.clean_text(text, what="问题描述")  # the limits raise_problem enforces
    categories = P.categories_of_plan(session=turn.session, plan_id=turn.member.plan_id)
    turn.goto("category")
    turn.say(PICK_CATEGORY, grid((button(c.name, "category", cid=c.id) for c in categories), 2))


def pick_category(turn: Turn[FlagState], *, cid: int) -> None:
    category = plan_record(session=turn.session, model=ProblemCategory, record_id=cid, plan_id=turn.member.plan_id)
    if category is None or category.id is None:
        raise InvalidInputError(NO_SUCH["category"])
    turn.state.cid = category.id
    turn.goto("subject")
    turn.say(PICK_SUBJECT.format(category=category.name), _subject_buttons())


def ask_right(turn: Turn[FlagState]) -> None:
    turn.goto("right_search")
    turn.say(TYPE_RIGHT)


def search_right(turn: Turn[FlagState], text: str) -> None:
    rights = find_rights(session=turn.session, plan_id=turn.member.plan_id, text=text[:100])
    if not rights:
        turn.say(NO_RIGHT.format(text=text[:100]), [[button(NO_SUBJECT, "no_subject"), button(CHOOSE_ZONE, "zones")]])
        return
    turn.say(PICK_RIGHT, [[button(f"{r.name}（{r.code}）"[:60], "right", rid=r.id)] for r in rights])


def show_zones(turn: Turn[FlagState]) -> None:
    zones = plan_zones(session=turn.session, plan_id=turn.member.plan_id)
    if not zones:
        raise InvalidInputError(NO_ZONES)
    turn.goto("zone")
    turn.say(PICK_ZONE, grid((button(f"{z.seq}. {z.name}", "zone", zid=z.id) for z in zones), 2))


def pick_zone(turn: Turn[FlagState], *, zid: int) -> None:
    zone = plan_record(session=turn.session, model=Zone, record_id=zid, plan_id=turn.member.plan_id)
    if zone is None:
        raise InvalidInputError(NO_SUCH["zone"])
    turn.state.zid = zone.id
    _ask_owner(turn)


def pick_right(turn: Turn[FlagState], *, rid: int) -> None:
    right = plan_record(session=turn.session, model=Right, record_id=rid, plan_id=turn.member.plan_id)
    if right is None:
        raise InvalidInputError(NO_SUCH["right"])
    turn.state.rid = right.id
    turn.state.zid = right.zone_id or turn.state.zid
    _ask_owner(turn)


def no_subject(turn: Turn[FlagState]) -> None:
    _ask_owner(turn)


def _ask_owner(turn: Turn[FlagState]) -> None:
    session, plan_id = turn.session, turn.member.plan_id
    category = plan_record(session=session, model=ProblemCategory, record_id=turn.state.cid, plan_id=plan_id)
    assert category is not None and category.id is not None
    suggested = P.suggest_owner(session=session, plan_id=plan_id, category_id=category.id)
    turn.goto("owner")
    if suggested is None:
        turn.say(OWNER_NONE.format(category=category.name), _unit_buttons(session, plan_id, "owner"))
        return
    rows = [
        [button(f"确认由{suggested.short or suggested.name}办理", "owner", uid=suggested.id)],
        [button(OTHER_OWNER, "other_owner")],
    ]
    turn.say(OWNER_SUGGESTED.format(unit=suggested.name, category=category.name), rows)


def other_owner(turn: Turn[FlagState]) -> None:
    turn.say(PICK_UNIT, _unit_buttons(turn.session, turn.member.plan_id, "owner"))


def pick_owner(turn: Turn[FlagState], *, uid: int) -> None:
    problem = P.raise_problem(
        session=turn.session,
        plan_id=turn.member.plan_id,
        actor=turn.member,
        text=turn.state.text,
        category_id=turn.state.cid,
        owner_unit_id=uid or None,
        right_id=turn.state.rid,
        zone_id=turn.state.zid,
        buttons=button_maker(turn.session),
    )
    turn.end()
    owner = unit_name(turn.session, problem.owner_unit_id)
    turn.say(RAISED.format(id=problem.id, owner=owner, due=_due(problem)))
    turn.toast("已提交")


FLAG = Flow(
    "flag",
    FlagState,
    command="flag",
    steps={
        "text": Step(text=take_text),
        "category": Step(buttons={"category": pick_category}),
        "subject": Step(buttons={"find_right": ask_right, "zones": show_zones, "no_subject": no_subject}),
        "right_search": Step(
            text=search_right, buttons={"right": pick_right, "zones": show_zones, "no_subject": no_subject}
        ),
        "zone": Step(buttons={"zone": pick_zone}),
        "owner": Step(buttons={"owner": pick_owner, "other_owner": other_owner}),
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
        raise InvalidInputError(NO_SUCH["problem"])
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
        prompt = PICK_HANDOVER_UNIT if action_name == "hand_over" else PICK_RULE_UNIT
        exclude = problem.owner_unit_id if action_name == "hand_over" else None
        turn.say(prompt.format(id=pid), _unit_buttons(turn.session, turn.member.plan_id, "unit", exclude))
        return
    turn.goto("evidence" if action_name == "resolve" else "reason")
    turn.say(ASK_REASON[action_name].format(id=pid, unit=""))


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
    turn.say(DONE[action_name].format(id=pid, owner=owner, due=_due(problem)), later)
    judge = _judge_buttons(turn.session, problem, turn.member) if action_name == "rule" else []
    if judge:
        turn.say(JUDGE_PROMPT, judge)


def _judge_buttons(session: Session, problem: Problem, member: Member) -> Rows:
    """Buttons for the office to judge each hand-over reason of a problem it just ruled on."""
    if problem.id is None or not P.can("judge_reason", session=session, member=member, problem=problem):
        return []
    rows: Rows = []
    for ev in P.handovers_of(session=session, problem_id=problem.id):
        unit = session.get(Unit, ev.from_unit_id) if ev.from_unit_id else None
        label = f"{unit.short or unit.name if unit else '某单位'}：{ev.reason}"[:40]
        rows.append(
            [
                button(f"成立｜{label}", "problem.judge", eid=ev.id, ok=True),
                button("不成立", "problem.judge", eid=ev.id, ok=False),
            ]
        )
    return rows


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
        raise InvalidInputError(NO_SUCH["unit"])
    _problem(turn, turn.state.pid, turn.state.action)
    turn.state.uid = unit.id
    turn.goto("reason")
    turn.say(ASK_REASON[turn.state.action].format(id=turn.state.pid, unit=unit.name))


def take_reason(turn: Turn[ActState], text: str) -> None:
    _done(turn, turn.state.action, turn.state.pid, text)
    turn.end()


def take_evidence(turn: Turn[ActState], upload: Upload) -> None:
    kept = turn.keep(upload)
    assert kept.id is not None
    turn.state.attachments.append(kept.id)
    turn.say(EVIDENCE_SAVED.format(name=kept.filename))


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
    unit = unit_name(turn.session, event.from_unit_id) or "该单位"
    turn.say(JUDGED.format(unit=unit, verdict="成立" if ok else "不成立"))


# --- /problem ID ---------------------------------------------------------------------


@command("problem")
def problem_command(turn: Turn[None]) -> None:
    """/problem 12: the problem's whole history, and the buttons the member may press on it."""
    words = turn.args
    if len(words) != 1 or not words[0].lstrip("#").isdigit() or len(words[0]) > 12:
        turn.say(PROBLEM_USAGE)
        return
    pid = int(words[0].lstrip("#"))
    problem = plan_record(session=turn.session, model=Problem, record_id=pid, plan_id=turn.member.plan_id)
    if problem is None:
        turn.say(NOT_FOUND.format(id=pid))
    elif not P.may_view(session=turn.session, member=turn.member, problem=problem):
        turn.say(NOT_YOURS.format(id=pid))
    else:
        text = P.format_problem(session=turn.session, problem_id=pid)
        turn.say(text, action_buttons(turn.session, problem, turn.member))
