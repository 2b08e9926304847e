"""The office's daily digest (每日督办) as named facts (oversight.facts.Chat): the overdue problems,
agreed matters and leagues' region items, each line citing its record and unit, the items left out
past the cap cited by the "另有N项" line, and the 督办 colours as the supervision marks hold them
(oversight.supervision.refresh sets them just before). The heading says what the digest holds: 逾期事项
only when every item it names or counts is overdue (a red item reopened twice before its deadline,
or a blue one, is a 督办事项, not an overdue one). The worker (jobs/reminders.py) only delivers it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from models import Decision, Member, Problem, ProblemState, Role, SupervisionMark, Unit
from models.base import row_id
from oversight.dates import cn_date
from oversight.facts import Chat
from oversight.measures import overdue_workdays
from oversight.outbox import queued_under
from oversight.region_items import open_region_items
from oversight.sentences import overdue_text
from oversight.supervision import COLOUR_LABELS, COLOURS, RED, REOPENED_RED, YELLOW, mark_citations, open_items
from oversight.workdays import estimate_mark

__all__ = [
    "DIGEST_MAX_ITEMS",
    "DIGEST_RUN_TEXTS",
    "DIGEST_TEXTS",
    "digest_run_facts",
    "digest_summary",
    "overdue_decisions",
    "overdue_problems",
]

DIGEST_MAX_ITEMS = 30  # item lines in one message; the rest are counted (and cited) by the 另有 line

# The digest's sentences, one template per kind: each line of the message is one fact.
DIGEST_TEXTS: dict[str, str] = {
    "head": "【每日督办】{day} 逾期事项",  # every item named or counted is overdue
    "head_mixed": "【每日督办】{day} 逾期及督办事项",  # some overdue, some only under 督办
    "head_supervised": "【每日督办】{day} 督办事项",  # none overdue (e.g. red for being reopened twice)
    "problems": "{num}、逾期未办结的问题（{n}个）",
    "problem": "{i}. {unit}：{text}（应于{due}前办结，{late}）",
    "decisions": "{num}、逾期未完成的议定事项（{n}项）",
    "decision": "{i}. {unit}：{text}（应于{due}前完成，{late}）",
    "regions": "{num}、逾期未完成的盟市事项（{n}项）",
    "region": "{i}. {unit}：{name}（应于{due}前完成，{late}）",
    "more": "……另有{n}项未列出，请在机器人中查看待办。",
    "colours": "督办事项：{counts}（发送 /duban 查看并催办）。",
}
NO_UNIT = "未指定单位"
NUMERALS = "一二三"
# The colour line's counts: only colours some item has; a red count holding items red for being
# reopened twice (not for lateness) says how many.
COLOUR_COUNT = "{colour}{n}项"
COLOUR_REOPENED = "（其中{n}项系两次以上退回重办）"


def overdue_problems(*, session: Session, plan_id: int, day: date) -> list[tuple[Problem, str]]:
    """Problems not yet resolved (to accept, in hand, or waiting for a ruling) past their due date on
    `day`, oldest due first, with the owner unit's name. A resolved one waiting for the raiser's
    confirmation is 办结 and not listed."""
    rows = session.exec(
        select(Problem, Unit.name)
        .join(Unit, col(Unit.id) == Problem.owner_unit_id)
        .where(
            Problem.plan_id == plan_id,
            col(Problem.state).in_((ProblemState.ASSIGNED, ProblemState.ACCEPTED, ProblemState.DISPUTED)),
            col(Problem.due_on).is_not(None),
            col(Problem.due_on) < day,
        )
        .order_by(col(Problem.due_on), col(Problem.id))
    )
    return [(p, name) for p, name in rows.all()]


def overdue_decisions(*, session: Session, plan_id: int, day: date) -> list[tuple[Decision, str]]:
    """Open agreed matters past their due date on `day`, with the owner unit's name."""
    rows = session.exec(
        select(Decision, Unit.name)
        .outerjoin(Unit, col(Unit.id) == Decision.owner_unit_id)
        .where(
            Decision.plan_id == plan_id,
            Decision.state == "open",
            col(Decision.due_on).is_not(None),
            col(Decision.due_on) < day,
        )
        .order_by(col(Decision.due_on), col(Decision.id))
    )
    return [(d, name or NO_UNIT) for d, name in rows.all()]


def _short(text: str, limit: int = 60) -> str:
    """The item's words, shortened, without the full stop the clause after them would follow."""
    text = " ".join(text.split()).rstrip("。；，,;")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class _Line:
    """One item line of the digest: its kind, what it cites, its values."""

    kind: str
    ids: dict[str, list[int]]
    values: dict[str, Any]


def _overdue_lines(
    kind: str, rows: Sequence[tuple[Problem | Decision, str]], day: date, *, estimate: bool
) -> list[_Line]:
    """The lines of overdue problems or agreed matters: each cites its record and, when it has one, its
    unit; a problem's due date carries its estimate mark (a matter's deadline is agreed, not estimated)."""
    return [
        _Line(
            kind,
            {kind: [int(item.id or 0)], **({"unit": [item.owner_unit_id]} if item.owner_unit_id else {})},
            {
                "unit": unit,
                "text": _short(item.text),
                "due": cn_date(item.due_on) + (estimate_mark(item.due_on) if estimate else ""),
                "late": overdue_text(overdue_workdays(item.due_on, day)),
            },
        )
        for item, unit in rows
        if item.due_on is not None
    ]


def _lines(session: Session, plan_id: int, day: date) -> list[tuple[str, list[_Line]]]:
    problems = _overdue_lines(
        "problem", overdue_problems(session=session, plan_id=plan_id, day=day), day, estimate=True
    )
    decisions = _overdue_lines(
        "decision", overdue_decisions(session=session, plan_id=plan_id, day=day), day, estimate=False
    )
    regions = [
        _Line(
            "region",
            {"unit": [int(i["unit_id"])]},
            {
                "unit": i["unit"],
                "name": i["name"],
                "region": i["kind"],
                "due": cn_date(i["due_on"]),
                "late": overdue_text(int(i["overdue_days"])),
            },
        )
        for i in open_region_items(session=session, plan_id=plan_id, today=day)
        if i["due_on"] < day
    ]
    return [(head, rows) for head, rows in (("problems", problems), ("decisions", decisions), ("regions", regions))]


def _marks(session: Session, plan_id: int, day: date) -> dict[str, list[tuple[str, int, bool, bool]]]:
    """Per colour, the items the supervision marks hold: (kind, id, overdue, red for being reopened)."""
    items = {(i.kind, i.item_id): i for i in open_items(session=session, plan_id=plan_id, today=day)}
    out: dict[str, list[tuple[str, int, bool, bool]]] = {c: [] for c in COLOURS}
    for mark in session.exec(
        select(SupervisionMark)
        .where(SupervisionMark.plan_id == plan_id, col(SupervisionMark.colour).in_(COLOURS))
        .order_by(col(SupervisionMark.kind), col(SupervisionMark.item_id))
    ).all():
        item = items.get((mark.kind, mark.item_id))
        if item is None:  # closed since it was coloured: refresh ends its mark
            continue
        overdue = item.due_on < day
        reopened = mark.colour == RED and not overdue and item.reopened >= REOPENED_RED
        out[mark.colour].append((mark.kind, mark.item_id, overdue, reopened))
    return out


def _mark_ids(marks: list[tuple[str, int, bool, bool]]) -> dict[str, list[int]]:
    return mark_citations((kind, item_id) for kind, item_id, _, _ in marks)


def digest_summary(*, session: Session, plan_id: int, day: date) -> Chat | None:
    """The office's digest on `day`, or None when there is nothing to tell it: no overdue item and
    no item marked red or yellow (blue alone is not yet overdue: the units were told, the office is not)."""
    sections = _lines(session, plan_id, day)
    marks = _marks(session, plan_id, day)
    listed = [line for _, rows in sections for line in rows]
    if not listed and not marks[RED] and not marks[YELLOW]:
        return None
    marked = [m for c in COLOURS for m in marks[c]]
    overdue = bool(listed) or any(m[2] for m in marked)
    others = [m for m in marked if not m[2]]
    say = Chat(DIGEST_TEXTS)
    head = "head" if not others else ("head_mixed" if overdue else "head_supervised")
    say.fact(head, day=cn_date(day))
    shown, num = 0, 0
    hidden: list[_Line] = []
    for head_kind, rows in sections:
        if not rows:
            continue
        say.section()
        ids: dict[str, list[int]] = {}
        for line in rows:
            for noun, got in line.ids.items():
                ids.setdefault(noun, []).extend(got)
        say.fact(head_kind, {k: list(dict.fromkeys(v)) for k, v in ids.items()}, num=NUMERALS[num], n=len(rows))
        num += 1
        for i, line in enumerate(rows, 1):
            if shown >= DIGEST_MAX_ITEMS:
                hidden.append(line)
                continue
            say.fact(line.kind, line.ids, i=i, **line.values)
            shown += 1
    if hidden:
        # The items left out: each by its own record (a region item by its league).
        left: dict[str, list[int]] = {}
        for line in hidden:
            noun = "unit" if line.kind == "region" else line.kind
            left.setdefault(noun, []).extend(line.ids[noun])
        say.fact("more", left, n=len(hidden))
    if marked:
        say.section()
        counts = {c: len(marks[c]) for c in COLOURS}
        reopened = sum(1 for m in marks[RED] if m[3])
        parts = [COLOUR_COUNT.format(colour=COLOUR_LABELS[c], n=counts[c]) for c in COLOURS if counts[c]]
        if reopened:
            parts[0] += COLOUR_REOPENED.format(n=reopened)  # red comes first
        say.fact(
            "colours",
            _mark_ids(marked),
            counts="，".join(parts),
            red=counts[RED],
            yellow=counts["yellow"],
            blue=counts["blue"],
            reopened=reopened,
        )
    return say


# What the daily_digest run tells whoever pressed 立即运行: what the day's digests held and the office
# members they went to. One line: the items counted (problems by 个, as every other line counts
# them), then whom the digest reached, or that nobody of the office is in chat to receive it.
DIGEST_RUN_TEXTS: dict[str, str] = {
    "skipped": "今天不是工作日，未发送每日督办。",
    "none": "目前没有逾期事项，未发送督办消息。",
    "overdue": "{counts}，督办消息已发送给办公室{n}人。",
    "overdue_nobody": "{counts}，办公室目前没有人员加入，督办消息未发出。",
    "supervised": "目前没有逾期事项，督办事项{marked}项，督办消息已发送给办公室{n}人。",
    "supervised_nobody": "目前没有逾期事项，督办事项{marked}项；办公室目前没有人员加入，督办消息未发出。",
}
RUN_COUNTS = (
    ("problem_ids", "problem", "逾期问题{n}个"),
    ("decision_ids", "decision", "逾期议定事项{n}项"),
)
RUN_REGIONS = "逾期盟市事项{n}项"


def digest_run_facts(*, session: Session, result: dict[str, Any]) -> Chat:
    """The daily digest run's line, from its result's ids (the problems and agreed matters the day's
    digests listed, the leagues whose region items they listed, the items the 督办 colours hold) and
    the day's digest rows in the outbox (digest:<day>:<plan>:<member>): the items counted and cited,
    and the active office members the digest was queued to, cited; nobody reached is said in words."""
    say = Chat(DIGEST_RUN_TEXTS)
    if result.get("skipped"):
        say.fact("skipped")
        return say
    plans = [int(p) for p in result.get("digest_plan_ids") or []]
    if not plans:  # no plan had an overdue item or one marked red or yellow
        say.fact("none", n=0)
        return say
    ids: dict[str, list[int]] = {}
    parts: list[str] = []
    values: dict[str, Any] = {}
    for key, noun, template in RUN_COUNTS:
        got = [int(i) for i in result.get(key) or []]
        values[noun] = len(got)
        if got:
            ids[noun] = got
            parts.append(template.format(n=len(got)))
    regions = int(result.get("regions") or 0)
    values["regions"] = regions
    if regions:
        ids["unit"] = [int(u) for u in result.get("region_unit_ids") or []]
        parts.append(RUN_REGIONS.format(n=regions))
    keys = tuple(f"digest:{result['day']}:{p}:" for p in plans)
    sent = [
        m
        for m in queued_under(session=session, prefix=f"digest:{result['day']}:")
        if str(m.dedupe_key).startswith(keys)
    ]
    by_member = {int(str(m.dedupe_key).rsplit(":", 1)[1]): m for m in sent}
    office = [
        m
        for m in session.exec(
            select(Member)
            .where(col(Member.id).in_(list(by_member)), Member.role == Role.OFFICE, col(Member.active).is_(True))
            .order_by(col(Member.id))
        ).all()
        if m.telegram_user_id == by_member[row_id(m)].chat_id
    ]
    reached = {"member": [row_id(m) for m in office], "message": [row_id(by_member[row_id(m)]) for m in office]}
    more: dict[str, Any]
    if parts:
        kind, more = "overdue", {"counts": "、".join(parts)}
    else:  # only items the 督办 colours hold (red or yellow, none of them overdue)
        marked = {noun: [int(i) for i in got] for noun, got in (result.get("marked_ids") or {}).items() if got}
        for noun, got in marked.items():
            ids.setdefault(noun, []).extend(got)
        kind, more = "supervised", {"marked": int(result.get("marked") or 0)}
    ids = {noun: list(dict.fromkeys(got)) for noun, got in ids.items()}
    if office:
        say.fact(kind, {**ids, **reached}, n=len(office), **more, **values)
    else:
        say.fact(f"{kind}_nobody", ids, n=0, **more, **values)
    return say
