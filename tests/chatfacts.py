"""Checks every chat summary's facts must pass (/todo, /progress, the daily digest, the notice
draft's overview): the message is exactly its facts' texts, every id a fact cites names a row of
its table, and no line holds a program's data representation."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import Session

from models.base import UTCDateTime

# Every table a chat fact's ids may name.
CHAT_TABLES = {
    "unit": "unit",
    "problem": "problem",
    "decision": "decision",
    "right": "right",
    "task": "task",
    "plan": "plan",
    "notice": "notice",
    "finding": "noticefinding",
    "item": "rectificationitem",
    "meeting": "meeting",
    "member": "member",
    "message": "outboxmessage",
    "attachment": "attachment",
    "urge": "supervisionevent",
    "measure": "measure",
    "milestone": "milestone",
    "claim": "rightclaim",
    "report": "report",
    "brief": "brief",
    "zone": "zone",
}
RAW = re.compile(r"\{'|\"kind\":|'kind'|\bNone\b|\bTrue\b|\bFalse\b|\[\[|\bnan\b")


def message_of(listed: Iterable[Mapping[str, Any]]) -> str:
    """The message the facts make: each section's texts one a line, a blank line between sections."""
    parts: dict[int, list[str]] = {}
    for fact in listed:
        parts.setdefault(int(fact["section"]), []).append(str(fact["text"]))
    return "\n\n".join("\n".join(lines) for _, lines in sorted(parts.items()))


def assert_chat_facts(session: Session, message: str, listed: list[dict[str, Any]]) -> None:
    """The message is its facts' texts, each fact cites rows that exist, and nothing reads as data."""
    assert message == message_of(listed), (message, [f["text"] for f in listed])
    for fact in listed:
        for noun, ids in fact["ids"].items():
            table = CHAT_TABLES[noun]
            found = {r[0] for r in session.connection().execute(text(f'SELECT id FROM "{table}"'))}
            assert ids and set(ids) <= found, (fact["kind"], noun, set(ids) - found)
    m = RAW.search(message)
    assert m is None, message[max(0, m.start() - 50) : m.end() + 50]


def kinds(listed: list[dict[str, Any]]) -> list[str]:
    return [f["kind"] for f in listed]


def cited(listed: list[dict[str, Any]], kind: str, noun: str) -> set[int]:
    """Every id of `noun` the facts of `kind` cite."""
    return {i for f in listed if f["kind"] == kind for i in f["ids"].get(noun, [])}


# --- /progress, checked against the ledger by queries of this module's own ---------------------

OPEN_STATUSES = ("baseline", "in_progress")  # a right moved back to these counts as done for nothing


def reached(session: Session, plan_id: int, as_of: Any) -> dict[int, set[str]]:
    """Every right of the plan: the statuses its history up to `as_of` reached since it was last
    moved back to 未处置/推进中 (read from the status events, not the product's counters)."""
    out: dict[int, set[str]] = {}
    for (rid,) in session.connection().execute(text('SELECT id FROM "right" WHERE plan_id = :p'), {"p": plan_id}):
        out[int(rid)] = set()
    rows = session.connection().execute(
        text(
            'SELECT e.right_id, e.to_status FROM rightstatusevent e JOIN "right" r ON r.id = e.right_id'
            " WHERE r.plan_id = :p AND e.at <= :t ORDER BY e.right_id, e.at, e.id"
        ).bindparams(bindparam("t", type_=UTCDateTime())),
        {"p": plan_id, "t": as_of},
    )
    for rid, status in rows:
        if status in OPEN_STATUSES:
            out[int(rid)].clear()
        else:
            out[int(rid)].add(status)
    return out


def _rights(session: Session, plan_id: int) -> dict[int, dict[str, Any]]:
    rows = session.connection().execute(
        text('SELECT id, kind, zone_id, kept_in_zone FROM "right" WHERE plan_id = :p ORDER BY id'), {"p": plan_id}
    )
    return {int(i): {"kind": k, "zone": z, "kept": kept} for i, k, z, kept in rows}


def target_counts(session: Session, plan_id: int, as_of: Any) -> dict[str, tuple[int, set[int]]]:
    """Each counted target's figure and the rights it cites, recounted here: closed mining rights
    plus the consolidated mining rights of each zone but the one marked 整合后保留 是 (kept_in_zone);
    in a zone with none so marked, those marked 否, and of two or more left blank all but one counted
    and all of them cited;
    exploration rights consolidated into a zone or closed; mining rights restarted; exploration
    rights converted."""
    got, rights = reached(session, plan_id, as_of), _rights(session, plan_id)
    mining = {i for i, r in rights.items() if r["kind"] == "mining"}
    explo = {i for i, r in rights.items() if r["kind"] in ("exploration", "deep")}
    closed = {i for i in mining if "closed" in got[i]}
    survivors = {i for i in mining if rights[i]["zone"] is not None and rights[i]["kept"]}
    kept = {int(rights[i]["zone"]) for i in survivors}
    zones: dict[int, list[int]] = {}
    for i in sorted(mining - closed):
        if "consolidated" in got[i] and rights[i]["zone"] is not None:
            zones.setdefault(int(rights[i]["zone"]), []).append(i)
    said_no = {i for i in mining if rights[i]["kept"] is not None and not rights[i]["kept"]}
    named = {i for z, ids in zones.items() for i in ids if (i not in survivors if z in kept else i in said_no)}
    blank = [[i for i in ids if i not in said_no] for z, ids in zones.items() if z not in kept]
    unstated = [ids for ids in blank if len(ids) > 1]
    pending = {i for ids in unstated for i in ids}
    cut = len(closed) + len(named) + len(pending) - len(unstated)
    reduced_explo = {
        i for i in explo if "closed" in got[i] or ("consolidated" in got[i] and rights[i]["zone"] is not None)
    }
    restarted = {i for i in mining if got[i] & {"restarted", "activated"}}
    converted = {i for i in explo if "converted" in got[i]}
    mined = closed | named | pending
    return {
        "reduce_mining": (cut, mined),
        "reduce_exploration": (len(reduced_explo), reduced_explo),
        "reduce_total": (cut + len(reduced_explo), mined | reduced_explo),
        "restart": (len(restarted), restarted),
        "restart_idle": (len(restarted), restarted),
        "convert_exploration": (len(converted), converted),
    }


def _due_clause(schedule: Any) -> str:
    """（2028年12月31日前）: the day a batch's timeline reaches the whole, as its line says it."""
    points = json.loads(schedule) if isinstance(schedule, str) else schedule or []
    if not points:
        return ""
    day, share = max((str(p["by"])[:10], float(p["share"])) for p in points)
    y, m, d = (int(x) for x in day.split("-"))
    return f"（{y}年{m}月{d}日前）" if share == 1.0 else ""


def batch_done(session: Session, plan_id: int, as_of: Any) -> dict[int, dict[str, Any]]:
    """Per task of the plan: its name, target, measure and the rights of its batch whose history
    reached the task's done status (recounted from the events)."""
    got = reached(session, plan_id, as_of)
    tasks = {
        int(tid): {
            "name": name,
            "target": int(target),
            "measure": measure or "",
            "status": status,
            "done": set(),
            "listed": 0,
            "due": _due_clause(schedule),
        }
        for tid, name, target, measure, status, schedule in session.connection().execute(
            text("SELECT id, name, target, measure, done_status, schedule FROM task WHERE plan_id = :p"), {"p": plan_id}
        )
    }
    for tid, rid in session.connection().execute(
        text("SELECT rb.task_id, rb.right_id FROM rightbatch rb JOIN task t ON t.id = rb.task_id WHERE t.plan_id = :p"),
        {"p": plan_id},
    ):
        tasks[int(tid)]["listed"] += 1
        if tasks[int(tid)]["status"] in got[int(rid)]:
            tasks[int(tid)]["done"].add(int(rid))
    return tasks


CAP = 20  # rights a target line names at most (oversight.targets.CODES_CAP, restated)


def assert_progress_facts(
    session: Session, plan_id: int, message: str, listed: list[dict[str, Any]], as_of: Any
) -> None:
    """/progress line by line against the ledger: the head names the plan; each counted target's
    figure and cited rights are those recounted here (尚无… only over none); each batch's done
    count and rights are its batch's, 尚未完成 only over none; no expected count with a fraction."""
    assert_chat_facts(session, message, listed)
    assert listed[0]["kind"] == "head" and listed[0]["ids"] == {"plan": [plan_id]}
    counted = target_counts(session, plan_id, as_of)
    kinds_in_ledger = {"exploration" if r["kind"] == "deep" else r["kind"] for r in _rights(session, plan_id).values()}
    needs = {"reduce_exploration": {"exploration"}, "convert_exploration": {"exploration"}}
    needs["reduce_total"] = {"mining", "exploration"}
    for fact in (f for f in listed if f["kind"] == "target"):
        key, ids = fact["values"]["key"], set(fact["ids"].get("right", []))
        assert ids <= set(_rights(session, plan_id)), key
        unloaded = not kinds_in_ledger if key == "first_batch" else not needs.get(key, {"mining"}) <= kinds_in_ledger
        if unloaded:
            # The ledger does not hold what the target counts: no figure, no rights, no 滞后.
            assert fact["values"]["now"] is None and not ids and not fact["values"]["lagging"], fact
            assert "台账尚未载入" in fact["text"] and "现为" not in fact["text"], fact["text"]
            continue
        if key in counted:
            n, want = counted[key]
            assert fact["values"]["now"] == n, (key, fact["values"]["now"], n)
            assert ids <= want and len(ids) == min(len(want), CAP), (key, ids, want)
            assert fact["text"].count("尚无") == (0 if want else 1), fact["text"]
    tasks = batch_done(session, plan_id, as_of)
    batches = [f for f in listed if f["kind"] in ("batch", "batch_none")]
    unloaded = [f for f in listed if f["kind"] == "batch_unloaded"]
    # A batch the ledger lists no right of says so, with no figure and no expectation.
    assert {f["values"]["task_id"] for f in unloaded} == {t for t, task in tasks.items() if not task["listed"]}
    for fact in unloaded:
        task = tasks[fact["values"]["task_id"]]
        assert (
            fact["text"]
            == f"{task['name']}：目标{task['target']}{task['measure']}{task['due']}，台账尚未载入该批次矿业权，完成情况暂无法计算"
        )
    assert {f["values"]["task_id"] for f in batches} == {t for t, task in tasks.items() if task["listed"]}
    assert ("no_batches" in kinds(listed)) == (not tasks)
    for fact in batches:
        task = tasks[fact["values"]["task_id"]]
        cited_ids = set(fact["ids"].get("right", []))
        assert cited_ids == task["done"] and fact["values"]["done"] == len(task["done"]), (task, fact)
        assert (fact["kind"] == "batch_none") == (not task["done"]), fact["text"]
        assert fact["values"]["target"] == task["target"]
        assert fact["text"].startswith(f"{task['name']}：目标{task['target']}{task['measure']}{task['due']}，"), fact[
            "text"
        ]
    assert not re.search(r"\d+\.\d+\s*(宗|个|家)", message), message
    assert ("rounding" in kinds(listed)) <= any(f["values"].get("expected_n") for f in batches)


# --- The daily digest, checked against the record by queries of this module's own --------------

DIGEST_CAP = 30  # item lines in one digest (oversight.digest.DIGEST_MAX_ITEMS, restated)
MARK_NOUNS = {"problem": "problem", "decision": "decision", "rectification": "item"}


def _ids(session: Session, sql: str, **params: Any) -> set[int]:
    return {int(r[0]) for r in session.connection().execute(text(sql), params)}


def assert_digest_facts(session: Session, plan_id: int, day: Any, message: str, listed: list[dict[str, Any]]) -> None:
    """The digest line by line against the record: each list's heading counts and cites the items a
    query finds overdue, every one of them is on a line or cited by the 另有 line (never both), the
    colour line counts and cites the supervision marks, and the heading says 逾期事项 only when
    every item named or counted is overdue."""
    assert_chat_facts(session, message, listed)
    late = {
        "problem": _ids(
            session,
            "SELECT id FROM problem WHERE plan_id = :p AND state IN ('assigned', 'accepted', 'disputed')"
            " AND due_on IS NOT NULL AND due_on < :d",
            p=plan_id,
            d=day,
        ),
        "decision": _ids(
            session,
            "SELECT id FROM decision WHERE plan_id = :p AND state = 'open' AND due_on IS NOT NULL AND due_on < :d",
            p=plan_id,
            d=day,
        ),
    }
    heads = {"problem": "problems", "decision": "decisions"}
    for noun, ids in late.items():
        head = [f for f in listed if f["kind"] == heads[noun]]
        assert bool(head) == bool(ids), (noun, ids)
        if ids:
            assert head[0]["values"]["n"] == len(ids) and set(head[0]["ids"][noun]) == ids
        lines = cited(listed, noun, noun)
        more = cited(listed, "more", noun)
        assert lines | more == ids and not lines & more, (noun, lines, more, ids)
    items = [f for f in listed if f["kind"] in ("problem", "decision", "region")]
    regions = sum(int(f["values"]["n"]) for f in listed if f["kind"] == "regions")
    total = len(late["problem"]) + len(late["decision"]) + regions
    assert len(items) == min(total, DIGEST_CAP) and ("more" in kinds(listed)) == (total > DIGEST_CAP)
    marks = list(
        session.connection().execute(
            text("SELECT kind, item_id, colour FROM supervisionmark WHERE plan_id = :p AND colour != ''"),
            {"p": plan_id},
        )
    )
    due = {
        kind: {int(i): d for i, d in session.connection().execute(text(sql), {"p": plan_id})}
        for kind, sql in (
            ("problem", "SELECT id, due_on FROM problem WHERE plan_id = :p"),
            ("decision", "SELECT id, due_on FROM decision WHERE plan_id = :p"),
            ("rectification", "SELECT id, deadline FROM rectificationitem WHERE plan_id = :p"),
        )
    }

    def overdue(kind: str, item_id: int) -> bool:
        when = due.get(kind, {}).get(item_id)
        return True if when is None else str(when)[:10] < str(day)[:10]  # a league's region item: by lateness

    colours = [f for f in listed if f["kind"] == "colours"]
    assert bool(colours) == bool(marks)
    if marks:
        (line,) = colours
        for colour in ("red", "yellow", "blue"):
            assert line["values"][colour] == sum(1 for m in marks if m[2] == colour), colour
        want: dict[str, set[int]] = {}
        for kind, item_id, _ in marks:
            want.setdefault(MARK_NOUNS.get(kind, "unit"), set()).add(int(item_id))
        assert {k: set(v) for k, v in line["ids"].items()} == want
        reopened = {
            int(r[0])
            for r in session.connection().execute(
                text(
                    "SELECT problem_id FROM problemevent WHERE kind = 'reopened' GROUP BY problem_id HAVING count(*) >= 2"
                )
            )
        }
        red_reopened = sum(
            1 for k, i, c in marks if c == "red" and k == "problem" and i in reopened and not overdue(k, i)
        )
        assert line["values"]["reopened"] == red_reopened
    is_late = [overdue(k, i) for k, i, _ in marks] + [True] * (len(late["problem"]) + len(late["decision"]))
    head = listed[0]["kind"]
    want_head = "head" if all(is_late) else ("head_supervised" if not any(is_late) else "head_mixed")
    if cited(listed, "regions", "unit"):  # a league's overdue region item is overdue too
        want_head = "head" if all(is_late) else "head_mixed"
    assert head == want_head, (head, want_head, marks)
    assert ("逾期事项" in message.splitlines()[0]) == (head == "head")


# --- The notice draft's overview, checked against the notice's findings --------------------------


def assert_overview_facts(session: Session, notice_id: int, message: str, listed: list[dict[str, Any]]) -> None:
    """The convener's overview line by line against the notice's findings read here: the counts
    line counts and cites the findings kept and their units (均已删除 only when every one was
    dropped, 本期没有 only when there is none), each unit's line cites all its findings (不再通报
    only when all of them were dropped), the 报 line only over a kept 问题解决不积极、不明显 finding of a
    league, and the buttons' hint only when there is a finding to open."""
    assert_chat_facts(session, message, listed)
    rows = list(
        session.connection().execute(
            text("SELECT id, unit_id, rule, dropped FROM noticefinding WHERE notice_id = :n ORDER BY id"),
            {"n": notice_id},
        )
    )
    live = [r for r in rows if not r[3]]
    assert listed[0]["kind"] == "head" and listed[0]["ids"] == {"notice": [notice_id]}
    (counts,) = [f for f in listed if f["kind"].startswith("counts")]
    want = "counts" if live else ("counts_all_dropped" if rows else "counts_none")
    assert counts["kind"] == want, (counts, rows)
    if live:
        assert counts["values"]["n"] == len(live) and set(counts["ids"]["finding"]) == {r[0] for r in live}
        assert counts["values"]["units"] == len({r[1] for r in live}) == len(set(counts["ids"]["unit"]))
        assert counts["values"]["n_dropped"] == len(rows) - len(live)
    elif rows:
        assert counts["values"]["n"] == len(rows) and set(counts["ids"]["finding"]) == {r[0] for r in rows}
    units = [f for f in listed if f["kind"] in ("unit", "unit_dropped")]
    assert {f["ids"]["unit"][0] for f in units} == {r[1] for r in rows}
    assert ("none" in kinds(listed)) == (not rows)
    for fact in units:
        (unit_id,) = fact["ids"]["unit"]
        mine = [r for r in rows if r[1] == unit_id]
        assert set(fact["ids"]["finding"]) == {r[0] for r in mine}
        assert (fact["kind"] == "unit_dropped") == all(r[3] for r in mine), fact
        assert sorted(fact["values"]["rule_keys"]) == sorted(r[2] for r in mine if not r[3])
        assert fact["text"].count("已删除") == sum(1 for r in mine if r[3])
    leagues = _ids(
        session,
        "SELECT f.id FROM noticefinding f JOIN unit u ON u.id = f.unit_id"
        " WHERE f.notice_id = :n AND NOT f.dropped AND f.rule = 'not_solving' AND u.kind = 'league'",
        n=notice_id,
    )
    assert ("report_to" in kinds(listed)) == bool(leagues)
    if leagues:
        assert cited(listed, "report_to", "finding") == leagues
    assert kinds(listed)[-1] == ("foot" if live else "foot_none")


# --- /duban, checked against the supervision marks by queries of this module's own --------------

DUBAN_CAP = 20  # item lines in one /duban (oversight.supervision.DUBAN_LISTED, restated)
DUBAN_ALL = ("office", "convener", "admin", "supervisor")  # roles that see every unit's items
LIGHT = {"red": "🔴", "yellow": "🟡", "blue": "🔵"}
COLOUR_WORDS = {"red": "红色", "yellow": "黄色", "blue": "蓝色"}
# Each supervised kind's open rows and owner (a league's region item: the league; marks say which).
OPEN_SQL = {
    "problem": "SELECT id, owner_unit_id, due_on FROM problem WHERE plan_id = :p"
    " AND state IN ('assigned', 'accepted') AND due_on IS NOT NULL",
    "decision": "SELECT id, owner_unit_id, due_on FROM decision WHERE plan_id = :p AND state = 'open'"
    " AND due_on IS NOT NULL AND owner_unit_id IS NOT NULL",
    "rectification": "SELECT id, unit_id, deadline FROM rectificationitem WHERE plan_id = :p"
    " AND state IN ('open', 'reopened')",
}


def assert_duban_facts(session: Session, member_id: int, message: str, listed: list[dict[str, Any]]) -> None:
    """/duban line by line against the record: the items it may name are the member's plan's marked
    (supervisionmark, colour set) open items, every unit's for the office, convener, admin and
    supervision group, the member's own unit's otherwise; the count line's total and colours are
    theirs and name only a colour some item has; each is on an item line (in its colour, red first,
    its deadline) or cited by the 另有 line, never both; 没有 only when there is none."""
    assert_chat_facts(session, message, listed)
    plan_id, unit_id, role = (
        session.connection()
        .execute(text("SELECT plan_id, unit_id, role FROM member WHERE id = :m"), {"m": member_id})
        .one()
    )
    rows = {
        kind: {int(i): (int(u), str(d)[:10]) for i, u, d in session.connection().execute(text(sql), {"p": plan_id})}
        for kind, sql in OPEN_SQL.items()
    }
    want: dict[tuple[str, int], str] = {}
    for kind, item_id, colour, mark_unit in session.connection().execute(
        text("SELECT kind, item_id, colour, unit_id FROM supervisionmark WHERE plan_id = :p AND colour != ''"),
        {"p": plan_id},
    ):
        if kind in rows:
            if int(item_id) not in rows[kind]:
                continue  # closed since it was marked
            owner = rows[kind][int(item_id)][0]
        else:
            owner = int(mark_unit)  # a league's region item: the league's own
        if role in DUBAN_ALL or owner == unit_id:
            want[(str(kind), int(item_id))] = str(colour)
    head = listed[0]
    if not want:
        assert [f["kind"] for f in listed] == [("none" if role in DUBAN_ALL else "unit_none")], listed
        return
    assert head["kind"] == ("counts" if role in DUBAN_ALL else "unit_counts"), head
    assert head["values"]["n"] == len(want), (head, want)
    for colour, word in COLOUR_WORDS.items():
        n = sum(1 for c in want.values() if c == colour)
        assert head["values"][colour] == n and (f"{word}{n}项" in head["text"]) == (n > 0), (colour, head["text"])
    nouns = {"problem": "problem", "decision": "decision", "rectification": "item"}

    def by_noun(keys: Iterable[tuple[str, int]]) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for kind, item_id in keys:
            out.setdefault(nouns.get(kind, "unit"), set()).add(item_id)
        return out

    mine = by_noun(want)
    if role not in DUBAN_ALL:  # the unit's own count cites the unit too
        mine.setdefault("unit", set()).add(unit_id)
    assert {k: set(v) for k, v in head["ids"].items()} == mine, (head["ids"], mine)
    lines = [f for f in listed if f["kind"] == "item"]
    keys = [(f["values"]["item_kind"], f["values"]["item_id"]) for f in lines]
    assert len(keys) == len(set(keys)) == min(len(want), DUBAN_CAP), keys
    order = list(LIGHT)
    assert [order.index(f["values"]["colour"]) for f in lines] == sorted(
        order.index(f["values"]["colour"]) for f in lines
    )
    for fact, key in zip(lines, keys, strict=True):
        assert want[key] == fact["values"]["colour"] and fact["text"].startswith(LIGHT[want[key]]), (key, fact)
        assert key[1] in fact["ids"][nouns.get(key[0], "unit")]
        if key[0] in rows:
            owner, due = rows[key[0]][key[1]]
            assert fact["values"]["due_on"] == due and owner in fact["ids"]["unit"], (key, fact)
    more = [f for f in listed if f["kind"] == "more"]
    hidden = set(want) - set(keys)
    assert bool(more) == bool(hidden)
    if hidden:
        assert more[0]["values"]["n"] == len(hidden)
        assert {k: set(v) for k, v in more[0]["ids"].items()} == by_noun(hidden)
    assert not re.search(r"(红色|黄色|蓝色) ?0 ?项", message) and not re.search(r"\d 项|项 \d", message), message


# --- /rectify, checked against the rectification ledger by queries of this module's own ----------

RECTIFY_CAP = 15  # item cards in one /rectify (oversight.rectification.RECTIFY_CARDS, restated)
RECTIFY_LIVE = ("open", "reopened", "submitted", "closed")  # items someone still has to act on
RECTIFY_WORDS = {"open": "整改中", "reopened": "重新整改", "submitted": "待核验", "closed": "待回头看"}


def assert_rectify_facts(
    session: Session, member_id: int, head: dict[str, Any], shown: list[int], more: dict[str, Any] | None
) -> None:
    """/rectify against the ledger: the items the member may act on (a contact: the unit's live
    items; the office, admin and supervision group: every unit's), counted by state in the head
    line (a state named only when some item is in it, 没有 only over none), the first fifteen by
    deadline carded, the 另有 line citing exactly the rest."""
    plan_id, unit_id, role = (
        session.connection()
        .execute(text("SELECT plan_id, unit_id, role FROM member WHERE id = :m"), {"m": member_id})
        .one()
    )
    own = role == "contact"
    rows = list(
        session.connection().execute(
            text(
                "SELECT id, state FROM rectificationitem WHERE plan_id = :p AND state IN :live"
                + (" AND unit_id = :u" if own else "")
                + " ORDER BY deadline, id"
            ).bindparams(bindparam("live", expanding=True)),
            {"p": plan_id, "live": list(RECTIFY_LIVE), "u": unit_id},
        )
    )
    for fact in (head, *([more] if more else [])):
        assert_chat_facts(session, str(fact["text"]), [{**fact, "section": 0}])
    if not rows:
        assert head["kind"] == ("unit_none" if own else "none") and not shown and more is None, head
        assert ("unit" in head["ids"]) == own
        return
    assert head["kind"] == ("unit_head" if own else "head")
    assert head["values"]["n"] == len(rows) and set(head["ids"]["item"]) == {r[0] for r in rows}
    for state, word in RECTIFY_WORDS.items():
        n = sum(1 for r in rows if r[1] == state)
        assert head["values"][state] == n and (f"{word}{n}项" in head["text"]) == (n > 0), (state, head["text"])
    assert shown == [r[0] for r in rows[:RECTIFY_CAP]]
    assert (more is None) == (len(rows) <= RECTIFY_CAP)
    if more:
        assert more["values"]["n"] == len(rows) - RECTIFY_CAP
        assert set(more["ids"]["item"]) == {r[0] for r in rows[RECTIFY_CAP:]}
    assert not re.search(r"\d 项|项 \d|\D0项", head["text"] + (more or {}).get("text", "")), head["text"]


# --- The office's meeting card, checked against the answers and agreed matters recorded ---------

ATTENDANCE_WORDS = {"attend": "出席", "excused": "请假", "none": "未确认"}


def assert_meeting_facts(session: Session, meeting_id: int, message: str, listed: list[dict[str, Any]]) -> None:
    """A circulated or held meeting's card against the record: each attendance line counts and
    cites exactly the member units (all but the government and the office) with that answer (no
    answer: 未确认), a line only for an answer some unit gave; a held meeting's decisions line
    counts and cites its agreed matters, 尚未记录 only over none, one line each."""
    assert_chat_facts(session, message, listed)
    plan_id, state = (
        session.connection().execute(text("SELECT plan_id, state FROM meeting WHERE id = :m"), {"m": meeting_id}).one()
    )
    answers = {
        int(u): str(a)
        for u, a in session.connection().execute(
            text("SELECT unit_id, state FROM meetingattendance WHERE meeting_id = :m"), {"m": meeting_id}
        )
    }
    units = _ids(session, "SELECT id FROM unit WHERE plan_id = :p AND kind NOT IN ('government', 'office')", p=plan_id)
    # Each unit as the line names it: the unit 的 the person it named to attend, else the unit alone.
    named = {
        int(u): f"{name}的{who.strip()}" if (who or "").strip() and who.strip() != name else str(name)
        for u, name, who in session.connection().execute(
            text(
                "SELECT u.id, u.name, a.attendee FROM unit u LEFT JOIN meetingattendance a"
                " ON a.unit_id = u.id AND a.meeting_id = :m WHERE u.plan_id = :p"
            ),
            {"m": meeting_id, "p": plan_id},
        )
    }
    for kind, word in ATTENDANCE_WORDS.items():
        want = {u for u in units if answers.get(u, "none") == kind}
        lines = [f for f in listed if f["kind"] == kind]
        assert len(lines) == (1 if want else 0), (kind, want, lines)
        if want:
            assert set(lines[0]["ids"]["unit"]) == want and lines[0]["text"].startswith(f"{word}{len(want)}个单位：")
            said = lines[0]["text"].split("：", 1)[1].split("、")
            assert sorted(said) == sorted(named[u] for u in want), (said, want)
    assert ("no_units" in kinds(listed)) == (not units)
    if state != "held":
        return
    decisions = _ids(session, "SELECT id FROM decision WHERE meeting_id = :m", m=meeting_id)
    head = [f for f in listed if f["kind"] in ("decisions", "no_decisions")]
    assert [f["kind"] for f in head] == ["decisions" if decisions else "no_decisions"]
    if decisions:
        assert head[0]["values"]["n"] == len(decisions) and set(head[0]["ids"]["decision"]) == decisions
    assert cited(listed, "decision", "decision") == decisions
    assert not re.search(r"\d 项|项 \d|\d 个|\D0(项|个)", message), message


def _agenda(session: Session, meeting_id: int) -> list[dict[str, Any]]:
    (raw,) = session.connection().execute(text("SELECT agenda FROM meeting WHERE id = :m"), {"m": meeting_id}).one()
    return list(json.loads(raw) if isinstance(raw, str) else raw)


def _ref_ids(items: Iterable[Mapping[str, Any]]) -> dict[str, set[int]]:
    nouns = {"problem": "problem", "decision": "decision", "task": "task", "notice": "notice"}
    out: dict[str, set[int]] = {}
    for item in items:
        noun, _, rid = str(item.get("ref") or "").partition(":")
        if noun in nouns and rid.isdigit():
            out.setdefault(nouns[noun], set()).add(int(rid))
    return out


def _member_units(session: Session, meeting_id: int) -> set[int]:
    return _ids(
        session,
        "SELECT u.id FROM unit u JOIN meeting m ON m.plan_id = u.plan_id"
        " WHERE m.id = :m AND u.kind NOT IN ('government', 'office')",
        m=meeting_id,
    )


def assert_circulation_prompt(session: Session, meeting_id: int, message: str, listed: list[dict[str, Any]]) -> None:
    """The office's question before circulating, against the record: it counts and cites the member
    units (all but the government and the office) that have an active contact in chat and those
    contacts, the agenda's items, names every member unit with none (no count of zero people: the
    nobody and no-unit cases say so in words), and ends asking to confirm."""
    assert_chat_facts(session, message, listed)
    units = _member_units(session, meeting_id)
    contacts = {
        int(i): int(u)
        for i, u in session.connection().execute(
            text(
                "SELECT c.id, c.unit_id FROM member c JOIN unit u ON u.id = c.unit_id JOIN meeting m"
                " ON m.plan_id = u.plan_id WHERE m.id = :m AND u.kind NOT IN ('government', 'office')"
                " AND c.role = 'contact' AND c.active AND c.telegram_user_id IS NOT NULL"
            ),
            {"m": meeting_id},
        )
    }
    agenda = _agenda(session, meeting_id)
    head = listed[0]
    want = "ask" if contacts else ("ask_nobody" if units else "ask_no_units")
    assert head["kind"] == want, (head, contacts, units)
    assert head["values"]["items"] == len(agenda) and f"共{len(agenda)}项" in head["text"]
    assert {k: set(v) for k, v in head["ids"].items() if k in ("problem", "decision", "task", "notice")} == _ref_ids(
        agenda
    )
    assert head["ids"]["meeting"] == [meeting_id]
    if contacts:
        reached = set(contacts.values())
        assert (
            head["values"]["units"] == len(reached) == len(set(head["ids"]["unit"]))
            and set(head["ids"]["unit"]) == reached
        )
        assert head["values"]["people"] == len(contacts) and set(head["ids"]["member"]) == set(contacts)
        assert head["text"].startswith(f"将向{len(reached)}个成员单位的{len(contacts)}名联络员")
    elif units:
        assert set(head["ids"]["unit"]) == units
    without = units - set(contacts.values())
    assert cited(listed, "ask_without", "unit") == (without if contacts else set())
    assert kinds(listed)[-1] == "ask_confirm"
    assert not re.search(r"\D0(个|名|项)", message), message


def assert_circulation_facts(session: Session, meeting_id: int, message: str, listed: list[dict[str, Any]]) -> None:
    """The office's reply after circulating, against the record: it counts and cites the notices
    queued at the circulation (the meeting's notice rows written then, read here) and the member
    units and contacts they went to, names every member unit none reached, cites the items the
    circulation's audit row left out, never prints a zero count (no notice: said in words) and
    promises the answers only when some notice went out."""
    assert_chat_facts(session, message, listed)
    (at,) = (
        session.connection()
        .execute(
            text("SELECT circulated_at FROM meeting WHERE id = :m").columns(circulated_at=UTCDateTime()),
            {"m": meeting_id},
        )
        .one()
    )
    rows = [
        (int(i), int(chat))
        for i, chat, created in session.connection().execute(
            text("SELECT id, chat_id, created_at FROM outboxmessage WHERE dedupe_key LIKE :k ORDER BY id").columns(
                created_at=UTCDateTime()
            ),
            {"k": f"meeting:{meeting_id}:notice:%"},
        )
        if created <= at
    ]
    recipients: dict[int, tuple[int, int]] = {}
    for mid, chat, unit in session.connection().execute(
        text(
            "SELECT c.id, c.telegram_user_id, c.unit_id FROM member c JOIN meeting m ON m.plan_id = c.plan_id"
            " WHERE m.id = :m AND c.role = 'contact' AND c.telegram_user_id IS NOT NULL ORDER BY c.id"
        ),
        {"m": meeting_id},
    ):
        recipients[int(chat)] = (int(mid), int(unit))
    units = _member_units(session, meeting_id)
    people = {recipients[chat][0] for _, chat in rows}
    reached = {recipients[chat][1] for _, chat in rows} & units
    head = listed[0]
    want = "sent" if rows else ("sent_nobody" if units else "sent_no_units")
    assert head["kind"] == want, (head, rows)
    if rows:
        assert head["values"]["n"] == len(rows) and set(head["ids"]["message"]) == {i for i, _ in rows}
        assert head["values"]["people"] == len(people) and set(head["ids"]["member"]) == people
        assert head["values"]["units"] == len(reached) and set(head["ids"]["unit"]) == reached
        assert head["text"] == f"已向{len(reached)}个成员单位的{len(people)}名联络员下发会议通知，共{len(rows)}条。"
        assert cited(listed, "without", "unit") == units - reached
    else:
        assert "未发给任何人" in head["text"] and "without" not in kinds(listed)
    (detail,) = session.connection().execute(
        text(
            "SELECT detail FROM auditlog WHERE object_type = 'meeting' AND object_id = :m"
            " AND action = 'meeting.circulated' ORDER BY id DESC"
        ),
        {"m": str(meeting_id)},
    ).first() or (None,)
    detail = json.loads(detail) if isinstance(detail, str) else detail or {}
    gone = list(detail.get("left_out") or [])
    left = [f for f in listed if f["kind"] in ("left_out", "left_out_one")]
    assert len(left) == (1 if gone else 0)
    if gone:
        assert left[0]["values"]["n"] == len(gone) and (left[0]["kind"] == "left_out_one") == (len(gone) == 1)
        assert {k: set(v) for k, v in left[0]["ids"].items()} == _ref_ids(gone)
        assert all(i["text"] in left[0]["text"] for i in gone)
    assert ("follow" in kinds(listed)) == bool(rows)
    assert not re.search(r"\D0(条|个|名|项)", message), message


# --- /members and /revoke, checked against the member rows by queries of this module's own --------

REVOKE_CAP = 30  # buttons in one /revoke picker (oversight.members.REVOKE_PICK_MAX, restated)


def _active_members(session: Session, plan_id: int) -> list[tuple[int, int, str, str, str, str]]:
    """The plan's active members (id, unit, name, unit name, unit short name, role), by unit, role, id."""
    return [
        (int(i), int(u), str(n or ""), str(un), str(us or ""), str(r))
        for i, u, n, un, us, r in session.connection().execute(
            text(
                "SELECT m.id, m.unit_id, m.name, u.name, u.short, m.role FROM member m JOIN unit u ON u.id = m.unit_id"
                " WHERE m.plan_id = :p AND m.active ORDER BY u.id, m.role, m.id"
            ),
            {"p": plan_id},
        )
    ]


def assert_members_facts(session: Session, plan_id: int, message: str, listed: list[dict[str, Any]]) -> None:
    """/members against the member rows: the head counts and cites every active member of the plan,
    one numbered line each (the member and their unit cited, the unit's name on it) in unit, role
    order; no members: said in words."""
    assert_chat_facts(session, message, listed)
    rows = _active_members(session, plan_id)
    if not rows:
        assert kinds(listed) == ["none"], listed
        return
    head, *lines = listed
    assert head["kind"] == "head" and head["values"]["n"] == len(rows) and head["ids"]["member"] == [r[0] for r in rows]
    assert head["text"] == f"成员列表（共{len(rows)}人）："
    assert [f["ids"] for f in lines] == [{"member": [r[0]], "unit": [r[1]]} for r in rows]
    for i, (fact, row) in enumerate(zip(lines, rows, strict=True), 1):
        assert fact["text"].startswith(f"{i}. ") and f" · {row[3]} · " in fact["text"], (fact, row)


def assert_revoke_facts(
    session: Session, admin_id: int, words: str, message: str, listed: list[dict[str, Any]], picks: int
) -> None:
    """/revoke [words] against the member rows: the members it may offer are the plan's active ones
    but the admin whose name, unit name or short name contains `words`; its one line counts and
    cites them (one: said as one; none: said in words, no count), more than thirty asks to narrow
    with no buttons, otherwise one button each."""
    assert_chat_facts(session, message, listed)
    (plan_id,) = session.connection().execute(text("SELECT plan_id FROM member WHERE id = :m"), {"m": admin_id}).one()
    want = [
        r[0]
        for r in _active_members(session, int(plan_id))
        if r[0] != admin_id and (not words or words in r[2] or words in r[3] or words in r[4])
    ]
    (fact,) = listed
    if not want:
        assert fact["kind"] == ("none_match" if words else "nobody") and fact["ids"] == {} and picks == 0
        return
    assert fact["ids"] == {"member": want} and fact["values"]["n"] == len(want)
    if len(want) > REVOKE_CAP:
        assert fact["kind"] == ("narrow_words" if words else "narrow") and picks == 0
        assert f"共{len(want)}人" in fact["text"]
    elif len(want) == 1:
        assert fact["kind"] == ("pick_one_words" if words else "pick_one") and picks == 1
        assert "只有1人" in fact["text"]
    else:
        assert fact["kind"] == "pick" and picks == len(want) and fact["text"].endswith(f"（共{len(want)}人）：")
    assert not re.search(r"\D0人", message), message


# --- The files a report or problem being written holds, checked against its conversation's record ---

FILE_WORDS = {"report": "附件", "flag": "材料"}


def conversation_files(session: Session, user_id: int, flow: str) -> list[tuple[int, str]]:
    """The files the user's conversation `flow` holds (its saved state's attachment ids, in order)
    that have an attachment row: (id, filename)."""
    row = (
        session.connection()
        .execute(text("SELECT data FROM chatstate WHERE user_id = :u AND flow = :f"), {"u": user_id, "f": flow})
        .first()
    )
    assert row is not None, (user_id, flow)
    data = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    names = {
        int(i): str(n)
        for i, n in session.connection().execute(
            text("SELECT id, filename FROM attachment WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)),
            {"ids": [int(i) for i in data.get("attachments") or []] or [0]},
        )
    }
    return [(int(i), names[int(i)]) for i in dict.fromkeys(data.get("attachments") or []) if int(i) in names]


def assert_files_facts(
    session: Session, user_id: int, flow: str, message: str, listed: list[dict[str, Any]], *, line: str
) -> None:
    """A file line against the conversation's record: `line` received (the file just kept, named;
    from the second on, how many it holds), kept (the files it started with) or listed (the
    confirm line: 无, the one name, or the count and names); each cites exactly those files."""
    assert_chat_facts(session, message, listed)
    held = conversation_files(session, user_id, flow)
    names = "、".join(n for _, n in held)
    (fact,) = listed
    assert fact["ids"] == ({"attachment": [i for i, _ in held]} if held else {}), (fact, held)
    if line == "received":
        assert held and fact["kind"] == ("received_first" if len(held) == 1 else "received")
        head = f"已收到{FILE_WORDS[flow]}：{held[-1][1]}"
        assert fact["text"].startswith(head + ("。" if len(held) == 1 else f"（共{len(held)}个）。")), fact
    elif line == "kept":
        assert held and fact["kind"] == ("kept_one" if len(held) == 1 else "kept")
        assert fact["text"].startswith(f"已带附件：{names}" + ("。" if len(held) == 1 else f"（共{len(held)}个）。"))
    else:
        want = {0: "无", 1: names}.get(len(held), f"{len(held)}个（{names}）")
        assert fact["text"] == want, (fact, held)
    assert not re.search(r"\d 个|共[01]个", message), message


def assert_minutes_caption(session: Session, meeting_id: int, message: str, listed: list[dict[str, Any]]) -> None:
    """The minutes' caption against the record: its 第N期 is the meeting's minutes number, and it
    counts and cites the meeting's agreed matters (none: 会议未形成议定事项, no 0项)."""
    assert_chat_facts(session, message, listed)
    (number,) = (
        session.connection().execute(text("SELECT minutes_no FROM meeting WHERE id = :m"), {"m": meeting_id}).one()
    )
    decisions = _ids(session, "SELECT id FROM decision WHERE meeting_id = :m", m=meeting_id)
    (fact,) = listed
    assert fact["values"]["number"] == f"第{number}期"
    if decisions:
        assert fact["kind"] == "caption" and fact["values"]["n"] == len(decisions)
        assert set(fact["ids"]["decision"]) == decisions and f"议定事项{len(decisions)}项" in fact["text"]
    else:
        assert fact["kind"] == "caption_none" and "decision" not in fact["ids"]
    assert not re.search(r"\D0项", message), message


def assert_review_caption(
    session: Session, plan_id: int, period: str, at: Any, message: str, listed: list[dict[str, Any]]
) -> None:
    """The review's caption against the record: it counts and cites every item of the plan's
    ledger, and counts the half's items (本期新增: the review adds each half's items, and nothing
    else does) and those the run's follow-up found past their deadline (a 'missed' follow-up at
    the run's moment); none added or missed is said in words or left out, never 0项."""
    assert_chat_facts(session, message, listed)
    ledger = _ids(session, "SELECT id FROM rectificationitem WHERE plan_id = :p", p=plan_id)
    added = _ids(session, "SELECT id FROM rectificationitem WHERE plan_id = :p AND period = :k", p=plan_id, k=period)
    rows = session.connection().execute(
        text(
            "SELECT f.item_id FROM rectificationfollowup f JOIN rectificationitem i ON i.id = f.item_id"
            " WHERE i.plan_id = :p AND f.kind = 'missed' AND f.at = :t"
        ).bindparams(bindparam("t", type_=UTCDateTime())),
        {"p": plan_id, "t": at},
    )
    missed = {int(r[0]) for r in rows}
    (fact,) = listed
    if not ledger:
        assert fact["kind"] == "caption_empty" and fact["ids"] == {} and "整改台账暂无事项" in message
        return
    kind = {(True, True): "caption", (True, False): "caption_added", (False, True): "caption_missed"}
    assert fact["kind"] == kind.get((bool(added), bool(missed)), "caption_kept"), (fact, added, missed)
    assert set(fact["ids"]["item"]) == ledger and f"整改台账{len(ledger)}项" in message
    assert set(fact["values"]["added_ids"]) == added and set(fact["values"]["missed_ids"]) == missed
    assert (f"本期新增{len(added)}项" in message) == bool(added)
    assert (f"逾期加倍扣分{len(missed)}项" in message) == bool(missed)
    assert not re.search(r"\D0项", message), message


def assert_urged_facts(session: Session, kind: str, item_id: int, message: str, listed: list[dict[str, Any]]) -> None:
    """The office's reply to 催办 against the record: 第N次 is the item's urge events so far, and
    it says the unit's contacts were told exactly when this urge's messages went to active
    contacts of the unit (how many when more than one), and that nobody was told otherwise."""
    assert_chat_facts(session, message, listed)
    rows = session.connection().execute(
        text(
            "SELECT id, unit_id FROM supervisionevent WHERE kind = :k AND item_id = :i AND action = 'urge' ORDER BY id"
        ),
        {"k": kind, "i": item_id},
    )
    urges = [(int(i), int(u)) for i, u in rows]
    n, unit_id = len(urges), urges[-1][1]
    (unit,) = session.connection().execute(text("SELECT name FROM unit WHERE id = :u"), {"u": unit_id}).one()
    chats = {
        int(r[0])
        for r in session.connection().execute(
            text("SELECT chat_id FROM outboxmessage WHERE dedupe_key LIKE :key"),
            {"key": f"urge:{kind}:{item_id}:{n}:%"},
        )
    }
    contacts = session.connection().execute(
        text("SELECT id, telegram_user_id FROM member WHERE unit_id = :u AND role = 'contact' AND active"),
        {"u": unit_id},
    )
    told = {int(i) for i, tg in contacts if tg is not None and int(tg) in chats}
    (fact,) = listed
    assert fact["values"]["n"] == n and f"（第{n}次）" in message, (fact, n)
    assert set(fact["ids"]["urge"]) == {i for i, _ in urges} and fact["ids"]["unit"] == [unit_id]
    if not told:
        assert fact["kind"] == "urged_nobody" and "member" not in fact["ids"], fact
        assert f"{unit}目前没有联络员加入" in message and "已通知" not in message, message
    elif len(told) == 1:
        assert fact["kind"] == "urged" and set(fact["ids"]["member"]) == told, fact
        assert message.endswith(f"已通知{unit}联络员。"), message
    else:
        assert fact["kind"] == "urged_many" and set(fact["ids"]["member"]) == told, fact
        assert message.endswith(f"已通知{unit}的{len(told)}名联络员。"), message


def assert_measure_saved(
    session: Session, right_id: int, listed_lines: bool, message: str, listed: list[dict[str, Any]]
) -> None:
    """The reply to a saved 一矿一策 against the record: it counts and cites the right's measure's
    milestones as they stand; a text that listed none kept what there was (原有N个节点不变), and
    a measure with none says so, never 0个节点."""
    assert_chat_facts(session, message, listed)
    (measure,) = session.connection().execute(text("SELECT id FROM measure WHERE right_id = :r"), {"r": right_id}).one()
    milestones = _ids(session, "SELECT id FROM milestone WHERE measure_id = :m", m=measure)
    (fact,) = listed
    assert fact["ids"]["right"] == [right_id] and fact["ids"]["measure"] == [measure]
    if not milestones:
        assert fact["kind"] == "saved_none" and "milestone" not in fact["ids"] and "未列节点" in message, fact
    else:
        assert fact["kind"] == ("saved" if listed_lines else "saved_kept"), fact
        assert set(fact["ids"]["milestone"]) == milestones and fact["values"]["n"] == len(milestones)
        assert f"{len(milestones)}个节点" in message, message
    assert not re.search(r"(?<!\d)0个节点", message), message


def assert_pending_facts(session: Session, report_id: int, message: str, listed: list[dict[str, Any]]) -> None:
    """The ledger merge's 另有… line against the record: it cites exactly the report's claims still
    pending and their rights, names the one right when there is one (its code and the state
    claimed) and counts them when more; with none there is no line at all."""
    assert_chat_facts(session, message, listed)
    rows = session.connection().execute(
        text(
            'SELECT c.id, c.right_id, r.name, r.code FROM rightclaim c JOIN "right" r ON r.id = c.right_id'
            " WHERE c.report_id = :rep AND c.state = 'pending' ORDER BY c.id"
        ),
        {"rep": report_id},
    )
    claims = [(int(c), int(r), name, code) for c, r, name, code in rows]
    if not claims:
        assert listed == [] and message == "", message
        return
    (fact,) = listed
    assert set(fact["ids"]["claim"]) == {c for c, *_ in claims} and set(fact["ids"]["right"]) == {
        r for _, r, *_ in claims
    }
    if len(claims) == 1:
        ((_, _, name, code),) = claims
        assert fact["kind"] == "pending_one" and message.startswith(f"另有{name}（{code}）变更为“"), message
    else:
        assert fact["kind"] == "pending" and message.startswith(f"另有{len(claims)}宗矿业权变更为完成状态"), message


def assert_ledger_prefilled(session: Session, unit_id: int, message: str, listed: list[dict[str, Any]]) -> None:
    """The /ledger start line or the template's caption against the record: it counts and cites
    the plan's rights whose 责任单位 is the unit; a unit with none is told so in words, never 0宗."""
    assert_chat_facts(session, message, listed)
    rights = _ids(
        session,
        'SELECT r.id FROM "right" r JOIN unit u ON u.id = r.unit_id WHERE u.id = :u AND r.plan_id = u.plan_id',
        u=unit_id,
    )
    (fact,) = listed
    assert fact["ids"]["unit"] == [unit_id], fact
    if rights:
        assert fact["kind"] in ("start", "caption") and set(fact["ids"]["right"]) == rights, (fact, rights)
        assert f"负责的{len(rights)}宗矿业权" in message, message
    else:
        assert fact["kind"] in ("start_none", "caption_none") and "right" not in fact["ids"], fact
        assert "还没有登记由" in message, message
    assert not re.search(r"(?<!\d)0宗", message), message


def assert_drafted_facts(session: Session, notice_id: int, message: str, listed: list[dict[str, Any]]) -> None:
    """The notice_draft run's line against the record: a draft counts and cites its findings not
    dropped (none: 本期没有需要通报的情况, never 0项) and the conveners its first page was queued to
    (none: 草稿未送审); a notice past draft says it is not sent again."""
    assert_chat_facts(session, message, listed)
    (state,) = session.connection().execute(text("SELECT state FROM notice WHERE id = :n"), {"n": notice_id}).one()
    findings = _ids(session, "SELECT id FROM noticefinding WHERE notice_id = :n AND dropped = :f", n=notice_id, f=False)
    chats = {
        int(r[0])
        for r in session.connection().execute(
            text("SELECT chat_id FROM outboxmessage WHERE dedupe_key LIKE :k"), {"k": f"notice:{notice_id}:draft:0:%"}
        )
    }
    (fact,) = listed
    assert fact["ids"]["notice"] == [notice_id] and set(fact["ids"].get("finding", [])) == findings, (fact, findings)
    assert fact["values"]["n"] == len(findings)
    assert (f"列入{len(findings)}项情况" in message or f"（{len(findings)}项情况）" in message) == bool(findings)
    assert ("没有需要通报的情况" in message) == (not findings), message
    if state != "draft":
        assert fact["kind"].startswith("kept") and "不再重发" in message, fact
    elif chats:
        assert fact["values"]["people"] == len(chats) and f"已送{len(chats)}位召集人审定" in message, (fact, chats)
    else:
        assert fact["kind"].endswith("_nobody") and "草稿未送审" in message, fact
    assert not re.search(r"(?<!\d)0(项|位)", message), message


def assert_weekly_run_facts(session: Session, week: str, message: str, listed: list[dict[str, Any]]) -> None:
    """The weekly reminder run's line against the record: the units due are those with a task part
    and a department contact (the only role that files weekly progress) who joined by the week's end, the units named are those of them with no report
    filed in the week (Monday 0:00 to Sunday 24:00 in Shanghai), and the reminders counted are the
    week's outbox rows to their contacts; nobody due is said in words, never 0个单位."""
    from datetime import date as _date
    from datetime import datetime as _dt
    from datetime import timedelta as _td
    from zoneinfo import ZoneInfo

    assert_chat_facts(session, message, listed)
    year, _, n = week.partition("-W")
    monday = _date.fromisocalendar(int(year), int(n), 1)
    sh = ZoneInfo("Asia/Shanghai")
    start = _dt(monday.year, monday.month, monday.day, tzinfo=sh)
    end = start + _td(days=7)

    def read(sql: str, **p: Any) -> set[int]:
        q = text(sql).bindparams(*(bindparam(k, type_=UTCDateTime()) for k in p))
        return {int(r[0]) for r in session.connection().execute(q, p)}

    due = read(
        "SELECT DISTINCT tu.unit_id FROM taskunit tu JOIN member m ON m.unit_id = tu.unit_id"
        " WHERE m.joined_at < :b AND m.active AND m.role = 'contact'",
        b=end,
    )
    reported = read("SELECT DISTINCT unit_id FROM report WHERE created_at >= :a AND created_at < :b", a=start, b=end)
    missing = due - reported
    (fact,) = listed
    if not due:
        assert fact["kind"] == "none_due" and "未发送提醒" in message and "都已报送" not in message, fact
        return
    if not missing:
        assert fact["kind"] == "all_reported" and set(fact["ids"]["unit"]) == due, fact
        return
    assert set(fact["ids"]["unit"]) == missing and fact["values"]["n"] == len(missing), (fact, missing)
    contacts = _ids(
        session, "SELECT telegram_user_id FROM member WHERE role = 'contact' AND telegram_user_id IS NOT NULL"
    )
    rows = session.connection().execute(
        text("SELECT id, chat_id, dedupe_key FROM outboxmessage WHERE dedupe_key LIKE :k"), {"k": f"weekly:{week}:%"}
    )
    units_of = {int(i): int(u) for i, u in session.connection().execute(text("SELECT id, unit_id FROM member"))}
    sent = {
        int(i) for i, chat, key in rows if units_of.get(int(key.rsplit(":", 1)[1])) in missing and int(chat) in contacts
    }
    assert set(fact["ids"].get("message", [])) == sent, (fact, sent)
    if sent:
        assert f"已向其联络员发送{len(sent)}条提醒" in message, message
    else:
        assert fact["kind"].endswith("_nobody") and "未发送提醒" in message, fact
    assert (f"{len(missing)}个单位未报送" in message) == (len(missing) > 1), message


def assert_calendar_run_facts(session: Session, week: str, message: str, listed: list[dict[str, Any]]) -> None:
    """The calendar reminder run's line against the record: 已提醒N位管理员 counts and cites the
    active admins the week's calendar reminders went to; none is said in words, never 0位."""
    assert_chat_facts(session, message, listed)
    chats = {
        int(r[0])
        for r in session.connection().execute(
            text("SELECT chat_id FROM outboxmessage WHERE dedupe_key LIKE :k"), {"k": f"calendar:%:{week}:%"}
        )
    }
    admins = {
        int(i)
        for i, tg in session.connection().execute(
            text("SELECT id, telegram_user_id FROM member WHERE role = 'admin' AND active")
        )
        if tg is not None and int(tg) in chats
    }
    (fact,) = listed
    if admins:
        assert fact["kind"] == "told" and set(fact["ids"]["member"]) == admins, (fact, admins)
        assert f"已提醒{len(admins)}位管理员" in message, message
    else:
        assert fact["kind"] == "told_nobody" and "未发送提醒" in message and "已提醒" not in message, fact
    assert not re.search(r"(?<!\d)0位", message), message


def assert_built_facts(
    session: Session, brief_id: int, created: bool, message: str, listed: list[dict[str, Any]]
) -> None:
    """The brief run's line against the record: its 第N期 is the brief's, and a new draft counts and
    cites the office members its preview text was queued to (nobody: 送审稿未发出, never 0人); a
    draft built before is not said to be sent again. (A draft goes to the office only.)"""
    assert_chat_facts(session, message, listed)
    (issue_no, revision, plan_id) = (
        session.connection()
        .execute(text("SELECT issue_no, revision, plan_id FROM brief WHERE id = :b"), {"b": brief_id})
        .one()
    )
    (fact,) = listed
    assert fact["ids"]["brief"] == [brief_id] and message.startswith(f"第{issue_no}期简报"), (fact, issue_no)
    assert "召集人" not in message, message
    if not created:
        assert fact["kind"] == "again" and "未重复发送" in message, fact
        return
    chats = {
        int(r[0])
        for r in session.connection().execute(
            text("SELECT chat_id FROM outboxmessage WHERE dedupe_key LIKE :k AND dedupe_key NOT LIKE :pdf"),
            {"k": f"briefdraft:{brief_id}:r{revision}:%", "pdf": "%:pdf"},
        )
    }
    office = {
        int(i)
        for i, tg in session.connection().execute(
            text("SELECT id, telegram_user_id FROM member WHERE plan_id = :p AND role = 'office' AND active"),
            {"p": plan_id},
        )
        if tg is not None and int(tg) in chats
    }
    if office:
        assert fact["kind"] == "built" and set(fact["ids"]["member"]) == office, (fact, office)
        assert f"已发给办公室{len(office)}人审阅" in message, message
    else:
        assert fact["kind"] == "built_nobody" and "送审稿未发出" in message, fact
    assert not re.search(r"(?<!\d)0人", message), message


def assert_review_run_facts(
    session: Session, plan_id: int, period: str, message: str, listed: list[dict[str, Any]]
) -> None:
    """The review run's lines against the record: the units it says were scored are cited, the
    ledger's count is the plan's items, and the recipients are the active conveners and office
    members whose chats got the report's PDF (outbox rows review:<plan>:<half>:<chat>), by role;
    nobody reached is said in words, and nothing reads 0个, 0项 or 0人."""
    assert_chat_facts(session, message, listed)
    by = {f["kind"]: f for f in listed}
    ledger = _ids(session, "SELECT id FROM rectificationitem WHERE plan_id = :p", p=plan_id)
    if ledger:
        (f,) = [by[k] for k in ("ledger", "ledger_kept") if k in by]
        assert set(f["ids"]["item"]) == ledger and f"整改台账{len(ledger)}项" in message, (f, ledger)
    else:
        assert "ledger_empty" in by, listed
    prefix = f"review:{plan_id}:{period}:"
    chats = {
        int(key[len(prefix) :])
        for (key,) in session.connection().execute(
            text("SELECT dedupe_key FROM outboxmessage WHERE dedupe_key LIKE :k"), {"k": prefix + "%"}
        )
        if ":" not in key[len(prefix) :]
    }
    roles = session.connection().execute(
        text(
            "SELECT role, telegram_user_id FROM member WHERE plan_id = :p AND active AND role IN ('convener', 'office')"
        ),
        {"p": plan_id},
    )
    reached: dict[str, set[int]] = {"convener": set(), "office": set()}
    for role, tg in roles:
        if tg is not None and int(tg) in chats:
            reached[role].add(int(tg))
    if not chats:
        assert "sent_nobody" in by and "报告未发出" in message, listed
    else:
        f = by["sent"]
        assert (f["values"]["conveners"], f["values"]["office"]) == (len(reached["convener"]), len(reached["office"]))
        assert ("召集人" + str(len(reached["convener"])) + "人" in message) == bool(reached["convener"]), message
        assert ("办公室" + str(len(reached["office"])) + "人" in message) == bool(reached["office"]), message
    assert not re.search(r"(?<!\d)0(个|项|人)", message), message


def assert_digest_run_facts(session: Session, day: str, message: str, listed: list[dict[str, Any]]) -> None:
    """The daily digest run's line against the record: the problems (assigned, accepted or disputed)
    and open agreed matters due before the day, each counted and cited (problems by 个, never 件),
    and the active office members whose chats got the day's digest (outbox rows
    digest:<day>:<plan>:<member>) counted and cited; nothing to tell and nobody reached are said in
    words, never 0条 or 0人."""
    from datetime import date as _date

    assert_chat_facts(session, message, listed)
    (fact,) = listed
    on = _date.fromisoformat(day)
    late = {
        "problem": _ids(
            session,
            "SELECT id FROM problem WHERE state IN ('assigned', 'accepted', 'disputed')"
            " AND due_on IS NOT NULL AND due_on < :d",
            d=on,
        ),
        "decision": _ids(
            session, "SELECT id FROM decision WHERE state = 'open' AND due_on IS NOT NULL AND due_on < :d", d=on
        ),
    }
    marked = _ids(session, "SELECT item_id FROM supervisionmark WHERE colour IN ('red', 'yellow')")
    if not late["problem"] and not late["decision"] and not fact["values"].get("regions") and not marked:
        assert fact["kind"] == "none" and "未发送督办消息" in message, fact
        return
    if not late["problem"] and not late["decision"] and not fact["values"].get("regions"):
        # Nothing overdue, items under 督办 (red for being sent back twice, blue for due soon): every
        # open item a colour marks is counted and cited, and nothing is said to be overdue.
        held: dict[str, set[int]] = {}
        for kind, item_id in session.connection().execute(
            text(
                "SELECT m.kind, m.item_id FROM supervisionmark m"
                " LEFT JOIN problem p ON m.kind = 'problem' AND p.id = m.item_id"
                " LEFT JOIN decision d ON m.kind = 'decision' AND d.id = m.item_id"
                " WHERE m.colour IN ('red', 'yellow', 'blue')"
                " AND (m.kind <> 'problem' OR p.state IN ('assigned', 'accepted', 'disputed'))"
                " AND (m.kind <> 'decision' OR d.state = 'open')"
            )
        ):
            held.setdefault(MARK_NOUNS.get(kind, "unit"), set()).add(int(item_id))
        assert fact["kind"] in ("supervised", "supervised_nobody"), fact
        cited_held = {noun: set(ids) for noun, ids in fact["ids"].items() if noun not in ("member", "message")}
        assert cited_held == held, (fact, held)
        n = sum(len(ids) for ids in held.values())
        assert fact["values"]["marked"] == n and f"目前没有逾期事项，督办事项{n}项" in message, (fact, n)
        assert "逾期问题" not in message and "逾期议定事项" not in message, message
    for noun, word, unit in (("problem", "逾期问题", "个"), ("decision", "逾期议定事项", "项")):
        if fact["kind"].startswith("supervised"):
            break
        assert set(fact["ids"].get(noun, [])) == late[noun], (noun, fact, late[noun])
        assert (f"{word}{len(late[noun])}{unit}" in message) == bool(late[noun]), message
    assert "件" not in message, message
    rows = session.connection().execute(
        text("SELECT id, chat_id, dedupe_key FROM outboxmessage WHERE dedupe_key LIKE :k"), {"k": f"digest:{day}:%"}
    )
    office = {
        int(i): int(tg)
        for i, tg in session.connection().execute(
            text(
                "SELECT id, telegram_user_id FROM member WHERE role = 'office' AND active AND telegram_user_id IS NOT NULL"
            )
        )
    }
    reached = {
        int(key.rsplit(":", 1)[1]) for _, chat, key in rows if office.get(int(key.rsplit(":", 1)[1])) == int(chat)
    }
    if reached:
        assert not fact["kind"].endswith("_nobody") and set(fact["ids"]["member"]) == reached, (fact, reached)
        assert f"督办消息已发送给办公室{len(reached)}人" in message, message
    else:
        assert fact["kind"].endswith("_nobody") and "督办消息未发出" in message and "已发送" not in message, fact
    assert not re.search(r"(?<!\d)0(个|项|条|人)", message), message


def chat_draft(session: Session, notice_id: int) -> list[str]:
    """The draft notice as the convener reads it in chat: the overview, each finding's page (what
    the overview's buttons open, 【通报事项1/2】…) and the body, as the bot sends them."""
    from models import row_id
    from oversight.notices import draft_body_text, draft_overview, finding_page, notice_findings

    pages = [
        finding_page(session=session, notice_id=notice_id, finding_id=row_id(f))[0]
        for f in notice_findings(session=session, notice_id=notice_id)
    ]
    return [
        draft_overview(session=session, notice_id=notice_id),
        *pages,
        draft_body_text(session=session, notice_id=notice_id),
    ]
