"""How documents say things: every sentence of a brief, notice, review or chat summary is the
Chinese template of a named fact kind, filled from the fact's values, and carries the record
ids the fact rests on.

Rules this module keeps for every document:
- A fact kind has exactly one template; an unknown kind is an error (`UnknownFactError`), never a
  `str(dict)` on the page.
- Evidence items (what a notice finding rests on) are facts too: one template per item kind.
- Record citations in body text have one form per kind of record, the one its reader can look up:
  problems, 议定事项 and the like by the ledger's 编号, "11号问题", "11号、12号等5个问题" (the full
  numbers are in the annex); a zone keeps its own "3号整合区"; where a document's reader has no
  numbered list (a brief's rights and reports), by labels: a right's name, a report's unit and day.
- Zero and one read naturally: "本期没有…", "用时9个工作日" for one case (a 中位数 only of two or
  more); an expected count of whole things is a whole number (按进度应完成9宗, never 8.5宗).
- Every date through oversight.dates (2026年1月8日).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from oversight.dates import cn_date, cn_date_range, local_day, local_zone


class UnknownFactError(KeyError):
    """A fact or evidence kind without a template: a programming error, never shown as data."""


# --- Small wording helpers -----------------------------------------------------------------------

# Record nouns as body text cites them: "11号问题", "4号进展报送", "2号议定事项".
NOUNS: dict[str, str] = {
    "problem": "问题",
    "report": "进展报送",
    "decision": "议定事项",
    "right": "矿业权",
    "item": "整改事项",
    "notice": "通报",
    "zone": "整合区",  # cited by its labels (7号张佳花岗岩整合区): the ledger numbers zones by 序号
}
# The measure word of each noun when a count is given ("等5个问题", "等3项议定事项").
MEASURES: dict[str, str] = {
    "problem": "个",
    "report": "次",
    "decision": "项",
    "right": "宗",
    "item": "项",
    "notice": "份",
    "zone": "个",
}
CITE_SHOWN = 5  # record numbers named in one body citation; the rest are in the annex


def cite(
    noun: str,
    ids: Sequence[int],
    total: int | None = None,
    *,
    shown: int = CITE_SHOWN,
    labels: Sequence[str] | None = None,
) -> str:
    """11号问题; 11号、12号问题; 11号、12号等5个问题 (total counts what `ids` stand for).

    `labels` (one per id, in order): how a reader finds records the ledger does not number, each
    naming itself (a right by its name, a report by its unit and day: 文体局2026年3月2日报送), so
    they are joined without the noun unless some are left out (…等9宗矿业权)."""
    if noun not in NOUNS:
        raise UnknownFactError(noun)
    if labels is not None:
        pairs = dict(zip(ids, labels, strict=True))
        ids, names_ = list(pairs), list(pairs.values())
    else:
        ids = list(dict.fromkeys(ids))
    n = max(total if total is not None else len(ids), len(ids))
    head = "、".join(names_[:shown] if labels is not None else [f"{i}号" for i in ids[:shown]])
    if not head:
        return ""
    if n > min(len(ids), shown):
        return f"{head}等{n}{MEASURES[noun]}{NOUNS[noun]}"
    return head if labels is not None else f"{head}{NOUNS[noun]}"


def quoted(text: str) -> str:
    """A unit's own words inside “…”: its “…” become ‘…’, as Chinese nests quotation marks."""
    return text.replace("“", "‘").replace("”", "’")


def names(items: Iterable[str]) -> str:
    """A、B、C (each name once, in order)."""
    return "、".join(dict.fromkeys(x for x in items if x))


def whole(value: float) -> int:
    """An expected count of whole things: the least whole number that reaches `value`."""
    return math.ceil(round(value, 6))


def pct(share: float) -> str:
    """A share as people write it: 25%, 92.9% (no trailing .0)."""
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def day_of(value: Any) -> date:
    """A calendar day from a date, an aware datetime or an ISO text (stored evidence)."""
    if isinstance(value, datetime):
        return local_day(value)
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def when_of(value: Any) -> str:
    """2026年1月8日 09:05 from an aware datetime or a stored "2026-01-08 09:05" (Shanghai time)."""
    if isinstance(value, datetime):
        local = value.astimezone(local_zone())
        return f"{cn_date(local.date())} {local:%H:%M}"
    text = str(value)
    m = re.match(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})", text)
    if m:
        return f"{cn_date(date.fromisoformat(m.group(1)))} {m.group(2)}"
    return cn_date(day_of(text))


def overdue_text(n: int) -> str:
    """已逾期3个工作日 (no spaces around the figure, as documents write it); 已逾期 under one day."""
    return f"已逾期{n}个工作日" if n > 0 else "已逾期"


def workdays_text(n: int) -> str:
    """用时 wording: 不足1个工作日 for 0, else N个工作日."""
    return "不足1个工作日" if n <= 0 else f"{n}个工作日"


# --- Facts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """A statement computed from the record: its kind (the name of its one template), its values
    and the ids of the records it rests on (noun -> ids, see NOUNS)."""

    kind: str
    values: Mapping[str, Any] = field(default_factory=dict)
    ids: Mapping[str, Sequence[int]] = field(default_factory=dict)
    # noun -> one label per id, for the nouns cited by name rather than by number (see cite)
    labels: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def render(self, templates: Mapping[str, str]) -> str:
        """The sentence: the kind's template filled with the values (UnknownFactError if none)."""
        template = templates.get(self.kind)
        if template is None:
            raise UnknownFactError(self.kind)
        return template.format(**self.values)

    def note(self) -> str | None:
        """The citation printed after the sentence: （见11号、12号等5个问题）."""
        parts = [cite(noun, ids, total, labels=self.labels.get(noun)) for noun, (ids, total) in self._cited().items()]
        return CITE_NOTE.format(refs="；".join(parts)) if parts else None

    def _cited(self) -> dict[str, tuple[Sequence[int], int]]:
        totals = self.values.get("_totals") or {}
        return {noun: (ids, int(totals.get(noun, len(ids)))) for noun, ids in self.ids.items() if ids}

    def to_dict(self, templates: Mapping[str, str]) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.render(templates),
            "values": {k: v for k, v in self.values.items() if not k.startswith("_")},
            "ids": {k: list(v) for k, v in self.ids.items()},
        }


CITE_NOTE = "（见{refs}）"


# --- Finding reasons (a notice finding's summary) ----------------------------------------------


def resolution_reason(owned: int, resolved: int, overdue: int, overdue_cited: str, resolved_cited: str = "") -> str:
    """What 办结 is measured on, said as what it counts (oversight.measures.resolutions: the problems
    办结 in the period and those past their deadline still open), never as 负责 alone, which read as
    every problem the unit holds (a unit with two named for 本期负责的1个问题, one not yet due):
    本期办结和逾期未办结的问题共3个，仅办结1个（5号问题，占33.3%），逾期未办结2个（…）; none 办结:
    2个问题逾期未办结（…）, never 仅办结0个（0%）."""
    if resolved == 0:
        return f"{overdue or owned}个问题逾期未办结" + (f"（{overdue_cited}）" if overdue_cited else "")
    share = f"{resolved_cited}，占{pct(resolved / owned)}" if resolved_cited else pct(resolved / owned)
    head = f"本期办结和逾期未办结的问题共{owned}个，仅办结{resolved}个（{share}）"
    return f"{head}，逾期未办结{overdue}个（{overdue_cited}）" if overdue else head


def overdue_items_reason(problems: int, decisions: int, cited: str) -> str:
    """推进速度慢 for items past their deadline, each kind with its own verb (a problem is 办结, an
    agreed matter 完成, as the brief's and the ledger's 逾期未完成 say): 逾期未办结问题1个、逾期未完成议定事项
    1项（14号问题，2号议定事项）. It read 2项事项逾期未办结, a problem's verb for both (audit 4, 7)."""
    parts = [f"逾期未办结问题{problems}个" if problems else "", f"逾期未完成议定事项{decisions}项" if decisions else ""]
    return "、".join(p for p in parts if p) + (f"（{cited}）" if cited else "")


def accept_reason(n: int, median: float, problems: str = "", limit: float | None = None, still: int = 0) -> str:
    """How long a unit took to respond to problems handed to it (a response: to accept, hand on or
    decline), citing them (`problems`, as `waited_on` words them) and, given the plan's `limit`,
    the working days it went past: 5号问题交办后9个工作日才作出响应，超过5个工作日 (one case has no
    中位数); 交办问题3次（4号、7号问题），作出响应的用时中位数为9个工作日，超过5个工作日. The rule
    is the median's, and the sentence says so: a unit with one 9-day wait among quick ones is not named.
    `still`: how many of the waits were still running when counted (no response yet), said so, never
    as a response that came: 5号问题交办后21个工作日仍未作出响应; …，其中1次尚未作出响应."""
    past = f"，超过{limit:g}个工作日" if limit is not None else ""
    if n == 1:
        return f"{problems or '问题'}交办后{_responded(int(median), still=bool(still))}{past}"
    cited = f"（{problems}）" if problems else ""
    return f"交办问题{n}次{cited}，作出响应的用时中位数为{median:g}个工作日{past}{_still(still)}"


def _responded(days: int, *, still: bool = False) -> str:
    """交办后 … : 9个工作日才作出响应; 不足1个工作日即作出响应; a wait still running, 21个工作日仍未作出响应."""
    if still:
        return f"{workdays_text(days)}仍未作出响应"
    return "不足1个工作日即作出响应" if days <= 0 else f"{days}个工作日才作出响应"


def _still(n: int, as_of: str = "") -> str:
    """Of several waits, those with no response yet: ，其中1次尚未作出响应 (截至 the day counted to, if given)."""
    return f"，其中{n}次{as_of and '截至' + as_of}尚未作出响应" if n else ""


def idle_reason(cited: str, workdays: int, *, still_idle: bool, period_end: date | None, others: str = "") -> str:
    """A problem held with no action: 至今 only when the count runs to the moment the notice was
    computed (a period still running, `period_end` None); a spell still running at the end of a
    period ended is counted to that end and said so, 截至2026年3月31日; one that an action ended
    无任何办理动作."""
    if not still_idle:
        return f"{cited}连续{workdays}个工作日无任何办理动作{others}"
    if period_end is None:
        return f"{cited}连续{workdays}个工作日至今无办理动作{others}"
    return f"{cited}截至{cn_date(period_end)}连续{workdays}个工作日无办理动作{others}"


# --- Evidence: what a notice finding rests on ----------------------------------------------------

EVENT_VERBS: dict[str, str] = {
    "raised": "提出{p}",
    # The routing when a problem is raised, done by the raiser, often a peer unit: 转请 (a peer does
    # not 交办 work to another unit), "按职责分工由…办理" following as its reason.
    "assigned": "将{p}转请{to_unit}办理",
    "accepted": "接收{p}",
    "handed_over": "将{p}转交{to_unit}",
    "declined": "退回{p}",
    "ruled": "裁定{p}由{to_unit}负责",
    "resolved": "办结{p}",
    "confirmed": "确认{p}已解决并关闭",
    "reopened": "将{p}重新交付办理",
    "commented": "对{p}作出备注",
}
EVENT_VERBS_NO_UNIT: dict[str, str] = {
    "assigned": "将{p}转请办理",
    "handed_over": "转交{p}",
    "ruled": "裁定{p}的责任单位",
}

EVIDENCE: dict[str, str] = {
    "task_progress": "截至{as_of}，“{task}”按进度应完成{expected}{measure}，实际完成{done}{measure}。",
    "missed_week": "{week}（{span}）未报送工作进展。",
    "idle_spell": "{p}自{since}起连续{workdays}个工作日无办理动作。",
    "overdue_problem": "{p}“{text}”应于{due}前办结，逾期未办结。",
    "overdue_decision": "{d}“{text}”应于{due}前完成，逾期未完成。",
    # A response is the first of: to accept, to hand on, to decline (oversight.measures.response_waits).
    "response_waits_one": "{p}交办后{responded}（接收、转交或退回）。",
    # {still}: of the waits, those with no response yet (，其中1次截至2026年3月31日尚未作出响应).
    "response_waits": "交办问题{n}次{p}，作出响应（接收、转交或退回）的用时为{spread}，中位数为{median}个工作日{still}。",
    "reopened_soon": "{p}{closed}确认关闭，{reopened}重新打开，相隔{days}天。",
    "same_evidence_file": "{item}与{others}使用同一佐证文件销号。",
    "same_evidence_text": "{item}与{others}使用相同的佐证说明销号。",
    "region_deadline": "截至{as_of}，{what}（应于{due}前完成）。",
}
# reopened_soon when the reopening came less than a day after the confirmation.
REOPENED_WITHIN_A_DAY = "{p}{closed}确认关闭，不足1天即重新打开。"
# What a league has not done by a region deadline (oversight.region_items), as of the evidence's day.
REGION_NOT_DONE: dict[str, str] = {
    "baseline": "未报送底数核实情况及工作措施台账",
    "first_batch": "台账所列本地区停产矿山、探矿权均未复工复产或转采，“盘活一批矿业权”未完成",
}
EVIDENCE_REASON = "，理由：{reason}"
EVIDENCE_REASON_UPHELD = "（理由经办公室认定成立）"
EVIDENCE_REASON_REJECTED = "（理由经办公室认定不成立）"
EVENT_SENTENCE = "{when}，{who}{what}。"
SYSTEM_ACTOR = "系统"


def reason_clause(text: object) -> str:
    """Someone's typed reason as a clause a sentence goes on from: its runs of white space as one
    space, without the full stop or comma it may end in (理由：不属本局职责。 + （…）。 read 。。)."""
    return " ".join(str(text or "").split()).rstrip("。；，,;.")


def _median_text(value: float) -> str:
    return f"{value:g}"


# A member without a name is called by their unit's short name and role: 林草局联络员 (the words
# oversight.members.member_label builds the label from; several of one unit and role are 甲, 乙, …).
ROLE_PERSONS: dict[str, str] = {
    "contact": "联络员",
    "office": "工作人员",
    "convener": "召集人",
    "zone_leader": "包联领导",
    "supervisor": "督导组成员",
    "admin": "管理员",
}
MEMBER_PERSON = "成员"  # the role word of a role with none of its own
ORDINALS = "甲乙丙丁戊己庚辛壬癸"
_ROLE_LABEL = re.compile(
    "^(?P<unit>.*?)(?P<role>(?:第\\d+位)?(?:{})[{}]?)$".format(
        "|".join([*ROLE_PERSONS.values(), MEMBER_PERSON]), ORDINALS
    )
)


def _short_of(short: str, unit: str) -> bool:
    """Whether `short` can be the unit's short name: its characters in the unit's name, in order
    (林草局 of 旗林草局, 应急管理局 of 旗应急管理局（矿山安全监管局）)."""
    rest = iter(unit)
    return all(ch in rest for ch in short)


def person_at_unit(unit: str | None, person: str | None) -> str:
    """A person acting for a unit, as every document and message names them: 旗林草局的高娜仁,
    旗应急管理局（矿山安全监管局）的周宏伟 (one form for any unit name: never brackets in brackets).
    A nameless member's label (member_label: the unit's short name and a role, 林草局联络员甲) is
    the unit and its role: 旗林草局联络员甲, never 旗林草局的林草局联络员; a person already written
    with the unit's name is left as written; the unit or the person alone when the other is missing
    or the same; 系统 when neither (or the system) acted."""
    unit, person = (unit or "").strip(), (person or "").strip()
    if person == SYSTEM_ACTOR:
        return SYSTEM_ACTOR
    if not unit or not person or person == unit:
        return unit or person or SYSTEM_ACTOR
    label = _ROLE_LABEL.match(person)
    if label is not None and _short_of(label["unit"], unit):
        return unit + label["role"]
    if person.startswith(unit):
        return person
    return f"{unit}的{person}"


def event_who(item: Mapping[str, Any]) -> str:
    """Who did a problem event (its 经办单位及人员): the member at their unit (person_at_unit)."""
    return person_at_unit(item.get("actor_unit"), item.get("actor"))


def event_what(item: Mapping[str, Any]) -> str:
    """What one problem event did, as a predicate: 将11号问题转交旗水利局，理由：…"""
    kind = item.get("kind")
    verbs = EVENT_VERBS if item.get("to_unit") else {**EVENT_VERBS, **EVENT_VERBS_NO_UNIT}
    if kind not in verbs:
        raise UnknownFactError(f"event:{kind}")
    what = verbs[str(kind)].format(p=cite("problem", [int(item["problem_id"])]), to_unit=item.get("to_unit") or "")
    reason = reason_clause(item.get("reason"))
    if reason:
        what += EVIDENCE_REASON.format(reason=reason)
    if item.get("reason_accepted") is True:
        what += EVIDENCE_REASON_UPHELD
    elif item.get("reason_accepted") is False:
        what += EVIDENCE_REASON_REJECTED
    return what


NO_CELL = "—"  # an annex cell the record has nothing to put in
ROW_MISSED_WEEK = "{week}未报送工作进展。"  # the row's 时间 carries the week's dates


def evidence_row(item: Mapping[str, Any], unit: str = "") -> tuple[str, str, str]:
    """(时间, 经办单位及人员, 记录) for a notice's evidence table. An event: when, who and what it
    did. Any other item is a fact about `unit`, the finding's unit (the one that missed the week,
    held the problem, owns the overdue item), which is its 经办单位; its 时间 is the days it spans
    (a week, waits that all ended), the day a problem has been idle since, the deadline, or the day
    the figure is as of; a cell with nothing on record reads —, never blank."""
    if "event_id" in item:
        return when_of(item["at"]), event_who(item), event_what(item) + "。"
    who = unit or NO_CELL
    key = _dated_by(item)
    when = NO_CELL
    if key == "from" and item.get("to"):
        when = cn_date_range(day_of(item["from"]), day_of(item["to"]))
    elif key is not None:
        day = cn_date(day_of(item[key]))
        # A figure, not an event: as of a day (a wait dated by the quarter's end read as if it ended then).
        when = f"截至{day}" if key == "as_of" else day
    if item.get("kind") == "missed_week":
        return when, who, ROW_MISSED_WEEK.format(week=item["week"])
    return when, who, evidence_sentence(item)


# The day an evidence item that is not an event is dated by, the first of its keys it has: a missed
# week by its first day (its row by its span), waits that all ended by the first one's day (the row
# by their span; a figure with a wait still running as of a day), a spell since the day of its last
# action, a deadline, a figure as of a day (evidence_row, evidence_order).
EVIDENCE_DAY: dict[str, tuple[str, ...]] = {
    "missed_week": ("from",),
    "idle_spell": ("since",),
    "overdue_problem": ("due_on",),
    "overdue_decision": ("due_on",),
    "task_progress": ("as_of",),
    "region_deadline": ("as_of",),
    "response_waits": ("from", "as_of"),
}


def _dated_by(item: Mapping[str, Any]) -> str | None:
    """The key of the day an evidence item is dated by (EVIDENCE_DAY); None when it has none."""
    return next((k for k in EVIDENCE_DAY.get(str(item.get("kind")), ()) if item.get(k)), None)


def evidence_order(item: Mapping[str, Any]) -> str:
    """Where an evidence item stands in its table's time order: an event at its minute (Shanghai
    time), an item of a day (EVIDENCE_DAY) after that day's events, an undated one last."""
    if "event_id" in item:
        value = item["at"]
        if isinstance(value, datetime):
            return f"{value.astimezone(local_zone()):%Y-%m-%d %H:%M}"
        return str(value)[:16].replace("T", " ")
    key = _dated_by(item)
    if key is None:
        return "9999"
    return f"{day_of(item[key]).isoformat()} 99"


def ordered_evidence(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """A finding's evidence as the notice shows it: each item once (unique_evidence), in time order
    (evidence_order; the bases' items interleave, so 接收5号问题 of 30 January no longer follows a
    figure of 31 March)."""
    return sorted(unique_evidence(items), key=evidence_order)


def annex_rows(items: Iterable[Mapping[str, Any]], unit: str = "") -> list[list[str]]:
    """A notice finding's evidence table (ordered_evidence), each row as evidence_row gives it."""
    return [list(evidence_row(item, unit)) for item in ordered_evidence(items)]


def waited_on(item: Mapping[str, Any], n: int) -> str:
    """The problems a unit's `n` waits were for (a response_waits item): 11号问题 for one wait;
    11号、12号问题 when each wait was for another of them; 涉及11号、12号问题 when they are all
    the problems but one was handed to it twice; 11号、12号问题等 when not all are named (past
    the ids a figure keeps, or past the body's citation); empty when the item names none."""
    ids = [int(i) for i in item.get("problem_ids") or []]
    if not ids:
        return ""
    if not item.get("all_problems") or len(ids) > CITE_SHOWN:
        return f"{cite('problem', ids[:CITE_SHOWN])}等"
    return cite("problem", ids) if len(ids) == n else f"涉及{cite('problem', ids)}"


def evidence_sentence(item: Mapping[str, Any]) -> str:
    """One evidence item as one Chinese sentence; an unknown kind raises UnknownFactError."""
    if "event_id" in item:
        return EVENT_SENTENCE.format(when=when_of(item["at"]), who=event_who(item), what=event_what(item))
    kind = item.get("kind")
    if kind == "task_progress":
        return EVIDENCE["task_progress"].format(
            as_of=cn_date(day_of(item["as_of"])),
            task=item["task"],
            expected=whole(float(item["expected"])),
            done=item["done"],
            measure=item.get("measure") or "",
        )
    if kind == "missed_week":
        return EVIDENCE["missed_week"].format(
            week=item["week"], span=cn_date_range(day_of(item["from"]), day_of(item["to"]))
        )
    if kind == "idle_spell":
        return EVIDENCE["idle_spell"].format(
            p=cite("problem", [int(item["problem_id"])]),
            since=cn_date(day_of(item["since"])),
            workdays=int(item["workdays"]),
        )
    if kind == "overdue_problem":
        return EVIDENCE["overdue_problem"].format(
            p=cite("problem", [int(item["problem_id"])]), text=item["text"], due=cn_date(day_of(item["due_on"]))
        )
    if kind == "overdue_decision":
        return EVIDENCE["overdue_decision"].format(
            d=cite("decision", [int(item["decision_id"])]), text=item["text"], due=cn_date(day_of(item["due_on"]))
        )
    if kind == "response_waits":
        waits = [(int(d), int(k)) for d, k in item["waits"]]
        n = sum(k for _, k in waits)
        problems = waited_on(item, n)
        still = int(item.get("still_waiting") or 0)  # waits with no response yet (none in older notices)
        if n == 1:
            responded = _responded(int(waits[0][0]), still=bool(still))
            return EVIDENCE["response_waits_one"].format(p=problems or "问题", responded=responded)
        spread = "、".join(workdays_text(d) + (f"{k}次" if k > 1 else "1次") for d, k in waits)
        as_of = cn_date(day_of(item["as_of"])) if still and item.get("as_of") else ""
        return EVIDENCE["response_waits"].format(
            n=n,
            p=f"（{problems}）" if problems else "",
            spread=spread,
            median=_median_text(float(item["median"])),
            still=_still(still, as_of),
        )
    if kind == "reopened_soon":
        p = cite("problem", [int(item["problem_id"])])
        closed, reopened = (cn_date(datetime.fromisoformat(str(item[k]))) for k in ("confirmed_at", "reopened_at"))
        if int(item["days"]) < 1:
            return REOPENED_WITHIN_A_DAY.format(p=p, closed=closed)
        return EVIDENCE["reopened_soon"].format(p=p, closed=closed, reopened=reopened, days=item["days"])
    if kind in ("same_evidence_file", "same_evidence_text"):
        return EVIDENCE[str(kind)].format(
            item=cite("item", [int(item["item_id"])]), others=cite("item", [int(x) for x in item["other_item_ids"]])
        )
    if kind == "region_deadline":
        return EVIDENCE["region_deadline"].format(
            as_of=cn_date(day_of(item["as_of"])),
            what=REGION_NOT_DONE[str(item["item"])],
            due=cn_date(day_of(item["due_on"])),
        )
    raise UnknownFactError(f"evidence:{kind}")


def evidence_kinds() -> list[str]:
    """Every evidence kind with a sentence: the problem events and the other items."""
    return sorted({*(f"event:{k}" for k in EVENT_VERBS), *(k for k in EVIDENCE if not k.endswith("_one"))})


def unique_evidence(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Evidence items in order, each once: an event cited by two bases of one finding is printed once."""
    seen: set[Any] = set()
    out = []
    for item in items:
        key: Any
        if "event_id" in item:
            key = ("event", item["event_id"])
        else:
            key = tuple(sorted((k, repr(v)) for k, v in item.items() if k != "basis"))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
