"""What /todo and /progress show: a unit's open problems and decisions with their
deadline lights, everyone's overdue items for those who oversee, and batch progress."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from models import Decision, Member, Plan, Problem, ProblemCategory, ProblemState, Role, Unit, utcnow
from oversight.dates import cn_date, local_day
from oversight.errors import PermissionDeniedError, PlanMissingError
from oversight.facts import Chat, Say
from oversight.measures import overdue_workdays, progress_by_now
from oversight.members import unit_name
from oversight.problems import STATE_LABELS, office_unit
from oversight.region_items import ITEM_NAMES, open_region_items
from oversight.sentences import cite, overdue_text, whole
from oversight.targets import TARGET_TEXT, due_clause, plan_targets, target_parts
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
    """The item's words, shortened, without the full stop its deadline clause would follow."""
    text = " ".join(text.split()).rstrip("。；，,;")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# /todo's sentences, one template per kind (oversight.facts.Chat): each line of the message is one
# fact citing the problems, agreed matters or units it names.
TODO_TEXTS: dict[str, str] = {
    "unit_head": "【{unit} 待办】",
    "none": "暂无待办事项。",  # only over an empty list
    "count": "共{n}项：{lights}。",  # only the lights some item has: no 临期 0 项
    # As the raiser and the owner know a problem: what, who, when.
    "problem": "{light} {cited}【{todo}】{unit}{category}，{raised_by}于{raised_on}提出：{text}{deadline}",
    "decision": "{light} {cited}【{todo}】{unit}{text}{deadline}",
    "region": "{light} {name}【{todo}】{unit}{text}{deadline}",
    "overdue_head": "【各单位逾期事项】",
    "no_overdue": "没有逾期事项。",  # only when no unit has an overdue item
    "major_head": "【联合督导组跟踪的重大议定事项】",
    "no_major": "暂无未办结的重大议定事项。",  # only when none is open
}
# The count line's parts, by light (those with no item left out).
TODO_LIGHTS: dict[str, str] = {"red": "逾期{n}项", "yellow": "临期{n}项", "green": "正常{n}项"}
TODO_NO_LIGHT = "均无办理期限"  # every item waits for the raiser's confirmation: none has a deadline
# A to-do line's deadline clause, by the item's light.
TODO_DEADLINE: dict[str, str] = {
    "due": "（期限 {due}{mark}）",
    "late": "（期限 {due}{mark}，{overdue}）",  # oversight.sentences.overdue_text
}


def _item_ids(items: list[dict[str, Any]]) -> dict[str, list[int]]:
    """The records a group of to-do items rests on: problems, agreed matters, the units of region items."""
    out: dict[str, list[int]] = {}
    for item in items:
        noun, rid = (item["kind"], item["id"]) if item["kind"] in ("problem", "decision") else ("unit", item["unit_id"])
        out.setdefault(noun, []).append(int(rid))
    return {noun: list(dict.fromkeys(ids)) for noun, ids in out.items()}


def _deadline(item: dict[str, Any]) -> str:
    if item["due_on"] is None or item["light"] is None:
        return ""
    kind = "late" if item["light"] == "red" else "due"
    return TODO_DEADLINE[kind].format(
        due=cn_date(item["due_on"]),
        mark=estimate_mark(item["due_on"]),
        overdue=overdue_text(int(item["overdue_days"] or 0)),
    )


def todo_lines(say: Say, items: list[dict[str, Any]], *, show_unit: bool = False) -> None:
    """The facts of one to-do list: the count by light, then one line per item (none: 暂无待办事项)."""
    if not items:
        say.fact("none", n=0)
        return
    counts = {k: sum(1 for i in items if i["light"] == k) for k in ("red", "yellow", "green")}
    lights = "，".join(TODO_LIGHTS[k].format(n=n) for k, n in counts.items() if n)
    if not lights:  # only items without a deadline of their own (a raiser's confirmation)
        lights = TODO_NO_LIGHT
    say.fact("count", _item_ids(items), n=len(items), lights=lights, **counts)
    for item in items:
        kind = item["kind"] if item["kind"] in ("problem", "decision") else "region"
        values: dict[str, Any] = {
            "light": LIGHTS[item["light"]],
            "todo": item["todo"],
            "unit": f"{item['unit']}：" if show_unit and item["unit"] else "",
            "text": _short(item["text"]),
            "deadline": _deadline(item),
            "due_on": item["due_on"].isoformat() if item["due_on"] else "",
            "overdue_days": item["overdue_days"],
        }
        if kind == "region":
            values["name"] = ITEM_NAMES[item["kind"]]
        else:
            values["cited"] = cite(kind, [item["id"]])
        if kind == "problem":
            values |= {
                "category": item["category"],
                "raised_by": item["raised_by"],
                "raised_on": cn_date(item["raised_on"]),
            }
        say.fact(kind, _item_ids([item]), **values)


def format_todo(items: list[dict[str, Any]], *, show_unit: bool = False) -> str:
    """The /todo list as plain Chinese text with 🔴🟡🟢 lights (the facts of todo_lines)."""
    say = Chat(TODO_TEXTS)
    todo_lines(say, items, show_unit=show_unit)
    return say.message()


def todo_summary(*, session: Session, member: Member, today: date) -> Chat:
    """/todo for a member: their unit's open work; an overseeing role also gets every unit's overdue
    items (its own list only when it has something), the supervision group the 重大 agreed matters."""
    own = todo_for_unit(session=session, unit_id=member.unit_id, today=today)
    say = Chat(TODO_TEXTS)
    if own or member.role not in READ_ALL_ROLES:
        say.fact("unit_head", {"unit": [member.unit_id]}, unit=unit_name(session, member.unit_id))
        todo_lines(say, own)
    if member.role not in READ_ALL_ROLES:
        return say
    _todo_section(say, "overdue_head", "no_overdue", todo_overdue_all(session=session, actor=member, today=today))
    if member.role == Role.SUPERVISOR:  # the supervision group follows the 重大 agreed matters
        _todo_section(say, "major_head", "no_major", todo_major_decisions(session=session, actor=member, today=today))
    return say


def _todo_section(say: Chat, head: str, none: str, items: list[dict[str, Any]]) -> None:
    """A section of every unit's items under its heading, or the none fact over an empty list."""
    say.section()
    say.fact(head)
    if items:
        todo_lines(say, items, show_unit=True)
    else:
        say.fact(none, n=0)


# /progress's sentences (oversight.facts.Chat): the plan's targets, one fact each citing the rights
# its figure counts (oversight.targets.TARGET_TEXT, as the brief says them), then each batch citing
# the rights done in it; an expected count of whole rights or mines is whole, the rounding said once.
PROGRESS_TEXTS: dict[str, str] = {
    "head": "【{plan} 任务进度】截至{as_of}",
    "targets_head": "一、总体目标",
    "target": TARGET_TEXT,
    "no_targets": "本计划未设总体目标。",  # only when the plan file sets none
    "batches_head": "二、各批次",
    # {due}: the batch's deadline (targets.due_clause), as a target's line says its own.
    "batch": "{name}：目标{target}{measure}{due}，已完成{done}{measure}{expected}",
    "batch_none": "{name}：目标{target}{measure}{due}，尚未完成{expected}",  # no right of the batch done
    # The ledger lists no right of the batch (batch_progress: unloaded): nothing can be counted yet.
    "batch_unloaded": "{name}：目标{target}{measure}{due}，台账尚未载入该批次矿业权，完成情况暂无法计算",
    "no_batches": "本计划未设批次任务。",  # only when the plan has no task
    "rounding": "注：按进度应完成数按实施方案时间节点折算，不足一宗（个）的按一宗（个）计。",
}
# A batch line's expected clause: none without a timeline; nothing expected before it starts.
PROGRESS_EXPECTED: dict[str, str] = {
    "due": "（按进度应完成{n}{measure}）",
    "not_yet": "（按进度尚未到完成时间）",
}


def progress_batch_lines(say: Chat, rows: list[dict[str, Any]]) -> None:
    """One fact per batch (batch_progress' rows), citing the rights done in it; the rounding note
    when an expected count was rounded up to a whole right or mine; none: no_batches."""
    if not rows:
        say.fact("no_batches", n=0)
        return
    rounded = False
    for row in rows:
        measure = row.get("measure") or ""
        if row.get("unloaded"):
            say.fact(
                "batch_unloaded",
                task_id=row.get("task_id"),
                name=row["name"],
                target=row["target"],
                measure=measure,
                due=due_clause(row.get("deadline")),
            )
            continue
        expected = row.get("expected")
        clause = ""
        if expected is not None:
            n = whole(expected)
            rounded = rounded or n != expected
            clause = PROGRESS_EXPECTED["due" if n else "not_yet"].format(n=n, measure=measure)
        done_ids = [int(i) for i in row.get("right_ids") or []]
        say.fact(
            "batch" if row.get("done") else "batch_none",
            {"right": done_ids} if done_ids else None,
            task_id=row.get("task_id"),
            name=row["name"],
            target=row["target"],
            measure=measure,
            due=due_clause(row.get("deadline")),
            done=row.get("done", 0),
            expected=clause,
            expected_n=None if expected is None else whole(expected),
        )
    if rounded:
        say.fact("rounding")


def format_progress(rows: list[dict[str, Any]]) -> str:
    """Batch progress as plain Chinese lines (progress_batch_lines), e.g.
    强化整合重组一批：目标46宗（2028年12月31日前），已完成3宗（按进度应完成10宗）."""
    say = Chat(PROGRESS_TEXTS)
    progress_batch_lines(say, rows)
    return say.message()


def progress_summary(*, session: Session, plan_id: int, as_of: datetime | None = None) -> Chat:
    """/progress: the plan's targets (each citing the rights its figure counts) and each batch
    against what the timeline expects as of `as_of` (now by default)."""
    when = as_of or utcnow()
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanMissingError()
    say = Chat(PROGRESS_TEXTS)
    say.fact("head", {"plan": [plan_id]}, plan=plan.short_name or plan.name, as_of=cn_date(local_day(when)))
    say.fact("targets_head")
    targets = plan_targets(session=session, plan_id=plan_id, as_of=when)
    if not targets:
        say.fact("no_targets", n=0)
    for r in targets:
        records = r["records"]
        cited: dict[str, Any] = {"right": {"ids": records["ids"], "n": records["n"]}} if records["n"] else {}
        if r.get("zones"):  # the zones its line names, whose survivor the ledger does not state
            cited["zone"] = r["zones"]
        say.fact(
            "target",
            cited or None,
            key=r["key"],
            now=r["now"],
            value=r["value"],
            expected=r["expected"],
            lagging=r["behind"],
            **target_parts(r),
        )
    say.section()
    say.fact("batches_head")
    progress_batch_lines(say, progress_by_now(session=session, plan_id=plan_id, as_of=when))
    return say


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
