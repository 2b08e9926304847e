"""What /todo and /progress show: a unit's open problems and decisions with their
deadline lights, everyone's overdue items for those who oversee, and batch progress."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from models import Decision, Member, Problem, ProblemCategory, ProblemState, Role, Unit
from oversight.dates import cn_date, local_day
from oversight.errors import PermissionDeniedError
from oversight.measures import overdue_workdays
from oversight.members import unit_name
from oversight.problems import STATE_LABELS, office_unit
from oversight.region_items import ITEM_NAMES, open_region_items
from oversight.sentences import cite, overdue_text, whole
from oversight.workdays import due_light, estimate_mark

LIGHTS: dict[str | None, str] = {"red": "🔴", "yellow": "🟡", "green": "🟢", None: "⚪"}
_LIGHT_ORDER = {"red": 0, "yellow": 1, "green": 2, None: 3}
OVERSEEING_ROLES = (Role.OFFICE, Role.CONVENER, Role.ADMIN)
# The supervision group (联合督导组) reads everything the office reads.
READ_ALL_ROLES = (*OVERSEEING_ROLES, Role.SUPERVISOR)

# What the unit has to do, by the problem's state.
TODO_LABELS: dict[str, str] = {
    ProblemState.ASSIGNED: "待接收",
    ProblemState.ACCEPTED: "办理中",
    ProblemState.DISPUTED: "待裁定",
    ProblemState.RESOLVED: "待确认办结",
}
DECISION_LABEL = "议定事项"


def _light(due: date | None, today: date) -> str | None:
    return due_light(due=due, today=today) if due is not None else None


def _problem_item(session: Session, problem: Problem, today: date, *, todo: str, light: bool = True) -> dict[str, Any]:
    due = problem.due_on if light else None
    category = session.get(ProblemCategory, problem.category_id) if problem.category_id else None
    return {
        "kind": "problem",
        "id": problem.id,
        "text": problem.text,
        "category": category.name if category else "",
        "raised_by": unit_name(session, problem.raised_by_unit_id),
        "raised_on": local_day(problem.created_at),
        "state": problem.state,
        "state_label": STATE_LABELS.get(problem.state, problem.state),
        "todo": todo,
        "unit_id": problem.owner_unit_id,
        "unit": unit_name(session, problem.owner_unit_id),
        "due_on": problem.due_on,
        "light": _light(due, today),
        "overdue_days": overdue_workdays(due, today),
    }


def _decision_item(session: Session, decision: Decision, today: date) -> dict[str, Any]:
    return {
        "kind": "decision",
        "id": decision.id,
        "text": decision.text,
        "state": decision.state,
        "state_label": "办理中",
        "todo": DECISION_LABEL + ("（重大）" if decision.major else ""),
        "unit_id": decision.owner_unit_id,
        "unit": unit_name(session, decision.owner_unit_id),
        "due_on": decision.due_on,
        "light": _light(decision.due_on, today),
        "overdue_days": overdue_workdays(decision.due_on, today),
    }


def _sorted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda i: (_LIGHT_ORDER[i["light"]], i["due_on"] or date.max, i["kind"], i["id"]))


def todo_for_unit(*, session: Session, unit_id: int, today: date) -> list[dict[str, Any]]:
    """A unit's open work, red first: problems it owns (to accept or to solve), problems it
    raised that wait for its confirmation, disputes for the office unit, and open decisions."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        return []
    items: list[dict[str, Any]] = []
    owned = session.exec(
        select(Problem)
        .where(Problem.owner_unit_id == unit_id)
        .where(col(Problem.state).in_((ProblemState.ASSIGNED, ProblemState.ACCEPTED)))
    ).all()
    items += [_problem_item(session, p, today, todo=TODO_LABELS[p.state]) for p in owned]
    # The raiser's part has no deadline of its own: shown without a light.
    to_confirm = session.exec(
        select(Problem).where(Problem.raised_by_unit_id == unit_id).where(Problem.state == ProblemState.RESOLVED)
    ).all()
    items += [_problem_item(session, p, today, todo=TODO_LABELS[p.state], light=False) for p in to_confirm]
    office = office_unit(session=session, plan_id=unit.plan_id)
    if office is not None and office.id == unit_id:
        disputed = session.exec(
            select(Problem).where(Problem.plan_id == unit.plan_id).where(Problem.state == ProblemState.DISPUTED)
        ).all()
        items += [_problem_item(session, p, today, todo=TODO_LABELS[p.state]) for p in disputed]
    decisions = session.exec(
        select(Decision).where(Decision.owner_unit_id == unit_id).where(Decision.state == "open")
    ).all()
    items += [_decision_item(session, d, today) for d in decisions]
    if unit.kind == "league":
        items += open_region_items(session=session, plan_id=unit.plan_id, today=today, unit_id=unit_id)
    return _sorted(items)


def todo_overdue_all(*, session: Session, actor: Member, today: date) -> list[dict[str, Any]]:
    """Every unit's overdue problems and decisions (office, convener, admin and the supervision group)."""
    if not actor.active or actor.role not in READ_ALL_ROLES:
        raise PermissionDeniedError("只有联席会议办公室、召集人、管理员和联合督导组可以查看全部单位的逾期事项。")
    problems = session.exec(
        select(Problem)
        .where(Problem.plan_id == actor.plan_id)
        .where(col(Problem.state).in_((ProblemState.ASSIGNED, ProblemState.ACCEPTED, ProblemState.DISPUTED)))
        .where(col(Problem.due_on).is_not(None))
        .where(col(Problem.due_on) < today)
    ).all()
    decisions = session.exec(
        select(Decision)
        .where(Decision.plan_id == actor.plan_id)
        .where(Decision.state == "open")
        .where(col(Decision.due_on).is_not(None))
        .where(col(Decision.due_on) < today)
    ).all()
    items = [_problem_item(session, p, today, todo=TODO_LABELS[p.state]) for p in problems]
    items += [_decision_item(session, d, today) for d in decisions]
    items += [i for i in open_region_items(session=session, plan_id=actor.plan_id, today=today) if i["due_on"] < today]
    return sorted(items, key=lambda i: (-i["overdue_days"], i["unit"], i["kind"], i["id"]))


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_todo(items: list[dict[str, Any]], *, show_unit: bool = False) -> str:
    """The /todo list as plain Chinese text with 🔴🟡🟢 lights."""
    if not items:
        return "暂无待办事项。"
    lines = []
    for item in items:
        what = {"problem": cite("problem", [item["id"]]), "decision": cite("decision", [item["id"]])}.get(
            item["kind"]
        ) or ITEM_NAMES[item["kind"]]
        head = f"{LIGHTS[item['light']]} {what}【{item['todo']}】"
        if show_unit and item["unit"]:
            head += f"{item['unit']}："
        if item["kind"] == "problem":  # as the raiser and the owner know it: what, who, when
            head += f"{item['category']}，{item['raised_by']}于{cn_date(item['raised_on'])}提出："
        line = head + _short(item["text"])
        if item["due_on"] is not None and item["light"] is not None:
            line += f"（期限 {cn_date(item['due_on'])}{estimate_mark(item['due_on'])}"
            if item["light"] == "red":
                line += "，" + overdue_text(int(item["overdue_days"] or 0))
            line += "）"
        lines.append(line)
    counts = {k: sum(1 for i in items if i["light"] == k) for k in ("red", "yellow", "green")}
    summary = f"共 {len(items)} 项：逾期 {counts['red']} 项，临期 {counts['yellow']} 项，正常 {counts['green']} 项。"
    return "\n".join([summary, *lines])


PROGRESS_ROUNDING = "注：按进度应完成数按实施方案时间节点折算，不足一宗（个）的按一宗（个）计。"


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def format_progress(rows: list[dict[str, Any]]) -> str:
    """Batch progress as plain Chinese text, e.g. 强化整合重组一批：完成 3/46 宗（应完成 10）."""
    if not rows:
        return "暂无进展数据。"
    lines = []
    rounded = False
    for row in rows:
        measure = row.get("measure") or ""
        line = f"{row['name']}：完成 {_num(row.get('done', 0))}/{_num(row['target'])} {measure}".rstrip()
        expected = row.get("expected")
        if expected is not None:  # a count of rights or mines: whole ones, the rounding stated below
            rounded = rounded or whole(expected) != expected
            line += f"（按进度应完成 {whole(expected)} {measure}）".replace(" ）", "）")
        lines.append(line)
    if rounded:
        lines.append(PROGRESS_ROUNDING)
    return "\n".join(lines)


def todo_major_decisions(*, session: Session, actor: Member, today: date) -> list[dict[str, Any]]:
    """The 重大 agreed matters not yet done, every unit's, as to-do items: what the supervision
    group (联合督导组) follows, and the overseeing roles may read."""
    if not actor.active or actor.role not in READ_ALL_ROLES:
        raise PermissionDeniedError("只有联席会议办公室、召集人、管理员和联合督导组可以查看重大议定事项。")
    from oversight.meetings import major_open

    items = []
    for d in major_open(session=session, plan_id=actor.plan_id):
        item = _decision_item(session, d, today)
        if d.state == "submitted":
            item["todo"] += "·已报完成待验收"
        items.append(item)
    return items
