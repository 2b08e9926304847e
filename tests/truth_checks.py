"""The property test's own reading of a generated quarter (tests/test_truth_property.py): the record
as SQL written here, never the product's fact functions, and one check per sentence kind of the
brief, the notice and the review (BRIEF_CHECKS, NOTICE_CHECKS, REVIEW_CHECKS), each comparing a
fact's values, ids and text with what the record says. A kind with no check fails the test (a new
sentence must come with its check); headings, tables and the chart are checked as structure.

Each check takes the record (`Rec`, the queries, cached per example) and the fact (kind, text,
values, ids). The expected kinds of each document are also derived here from the record, so a
sentence that should be there and is not fails as surely as one that should not and is."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

# The events that set a problem's state, written out here (not taken from the product).
STATE_KINDS = ("assigned", "accepted", "handed_over", "declined", "ruled", "resolved", "confirmed", "reopened")

SH = ZoneInfo("Asia/Shanghai")
Q_START, Q_END = date(2026, 1, 1), date(2026, 3, 31)
S_UTC, E_UTC = "2025-12-31 16:00:00", "2026-03-31 16:00:00"
H1_END = date(2026, 6, 30)
LABEL = "2026年第一季度"
CAP = 10  # ids a figure cites (the first ten, ascending)
OLDEST = 3  # open problems the brief names
OPEN_STATUSES = ("baseline", "in_progress")
RULES = ("slow", "not_solving", "shifting")
RULE_LABELS = {"slow": "工作推进速度慢", "not_solving": "问题解决不积极、不明显", "shifting": "推诿扯皮"}
CN_NUM = "一二三四五六七八九十"
START_AT, END_AT = datetime(2025, 12, 31, 16, tzinfo=UTC), datetime(2026, 3, 31, 16, tzinfo=UTC)  # the quarter
MUST_ACT = ("assigned", "handed_over", "accepted", "reopened", "ruled")  # the holder must act next
WAITING = ("assigned", "handed_over")  # … and first respond
SHOWN = 5  # problem numbers a finding's summary names
CITED = 5  # problems a finding cites per basis (the summary counts them all)


def cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def local_day(stored: Any) -> date:
    """A stored UTC moment (naive text on SQLite) as its day in Shanghai."""
    moment = stored if isinstance(stored, datetime) else datetime.fromisoformat(str(stored))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(SH).date()


def moment(stored: Any) -> datetime:
    m = stored if isinstance(stored, datetime) else datetime.fromisoformat(str(stored))
    return m if m.tzinfo else m.replace(tzinfo=UTC)


def days_text(n: int) -> str:
    return "不足1个工作日" if n <= 0 else f"{n}个工作日"


def cited(ids: list[int], noun: str, measure: str, total: int | None = None) -> str:
    """The documents' citation form, written here: 3号问题; 3号、5号问题; 3号、5号、7号等4个问题."""
    n = max(total if total is not None else len(ids), len(ids))
    head = "、".join(f"{i}号" for i in ids[:3])
    return f"{head}等{n}{measure}{noun}" if n > min(len(ids), 3) else f"{head}{noun}"


class Rec:
    """The generated quarter's record, read with the test's own SQL (cached per example)."""

    def __init__(self, engine: Any, plan_id: int, cal: Any, workday: Callable[[date, Any], bool], now: datetime):
        self.engine, self.plan_id, self.cal, self._workday, self.now = engine, plan_id, cal, workday, now
        self.behind: list[int] = []  # units under half on time, counted by the property test's own calendar

    def sql(self, query: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(query), {"plan": self.plan_id, "s": S_UTC, "e": E_UTC, **params}).all())

    def workday(self, d: date) -> bool:
        return self._workday(d, self.cal)

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in (a, b], on the test's own calendar."""
        return sum(1 for k in range(1, (b - a).days + 1) if self.workday(a + timedelta(days=k)))

    # --- Plan and units ---------------------------------------------------------------------------

    @cached_property
    def plan(self) -> dict[str, Any]:
        import json

        name, short, spec = self.sql("SELECT name, short_name, spec FROM plan WHERE id = :plan")[0]
        return {"name": name, "short": short or name, "spec": json.loads(spec) if isinstance(spec, str) else spec}

    @cached_property
    def units(self) -> dict[int, dict[str, Any]]:
        rows = self.sql("SELECT id, name, short, kind, key FROM unit WHERE plan_id = :plan ORDER BY id")
        return {r[0]: {"name": r[1], "kind": r[3], "key": r[4]} for r in rows}

    def unit_name(self, unit_id: Any) -> str:
        """A unit as every document names it: the plan file's name (旗林草局), never its short form."""
        return self.units[int(unit_id)]["name"] if unit_id is not None and int(unit_id) in self.units else "—"

    @cached_property
    def joined_units(self) -> set[int]:
        return {r[0] for r in self.sql("SELECT DISTINCT unit_id FROM member WHERE plan_id = :plan")}

    # --- Problems ---------------------------------------------------------------------------------

    @cached_property
    def problems(self) -> list[dict[str, Any]]:
        """Every problem raised before the end, with its owner, closed and disputed flags at the end."""
        rows = self.sql(
            "SELECT id, created_at, due_on, owner_unit_id, category_id, zone_id, right_id FROM problem "
            "WHERE plan_id = :plan AND created_at < :e ORDER BY created_at, id"
        )
        events: dict[int, list[Any]] = {}
        for pid, kind, to_unit, from_unit, at_ in self.sql(
            "SELECT e.problem_id, e.kind, e.to_unit_id, e.from_unit_id, e.at FROM problemevent e "
            "JOIN problem p ON p.id = e.problem_id WHERE p.plan_id = :plan AND e.at < :e ORDER BY e.at, e.id"
        ):
            events.setdefault(pid, []).append((kind, to_unit, from_unit, at_))
        cats = {r[0]: r[1] for r in self.sql("SELECT id, name FROM problemcategory WHERE plan_id = :plan")}
        out = []
        for pid, created, due, owner, cat, zone, right in rows:
            evs = events.get(pid, [])
            closes = [k for k, *_ in evs if k in ("confirmed", "reopened")]
            steps = [k for k, *_ in evs if k in ("assigned", "handed_over", "declined", "ruled")]
            owners = [t for k, t, *_ in evs if k in ("assigned", "handed_over", "ruled")]
            closed = bool(closes) and closes[-1] == "confirmed"
            # 办结 at the end, waiting for the raiser: the unit's part is done, so it is not overdue.
            states = [k for k, *_ in evs if k in STATE_KINDS]
            resolved = bool(states) and states[-1] == "resolved"
            due_on = date.fromisoformat(str(due)[:10]) if due else None
            out.append(
                {
                    "id": pid,
                    "raised": local_day(created),
                    "new": str(created) >= S_UTC,
                    "owner": owners[-1] if owners else owner,
                    "category": cats.get(cat, "未分类"),
                    "zone": zone,
                    "right": right,
                    "open": not closed,
                    "overdue": not closed and not resolved and due_on is not None and due_on <= Q_END,
                    "disputed": not closed and bool(steps) and steps[-1] == "declined",
                }
            )
        return out

    @cached_property
    def resolved(self) -> list[tuple[int, int]]:
        """(problem, unit) of each problem 办结 in the quarter, counted here: at the quarter's end
        its last state event is a resolution or a confirmation, and the last resolution before the
        end (the one that led there) fell in the quarter; the unit is the one that resolved it. A
        resolution reopened before the end is not 办结, nor one confirmed in the quarter but made
        before it; one reopened after the end is."""
        events: dict[int, list[tuple[str, Any, Any]]] = {}
        for pid, kind, to_unit, at_ in self.sql(
            "SELECT e.problem_id, e.kind, e.to_unit_id, e.at FROM problemevent e JOIN problem p ON p.id = e.problem_id "
            "WHERE p.plan_id = :plan AND e.at < :e AND e.kind IN ('assigned', 'accepted', 'handed_over', "
            "'declined', 'ruled', 'resolved', 'confirmed', 'reopened') ORDER BY e.at, e.id"
        ):
            events.setdefault(pid, []).append((kind, to_unit, at_))
        out = []
        for pid, evs in sorted(events.items()):
            if evs[-1][0] not in ("resolved", "confirmed"):
                continue
            _, unit, at_ = [e for e in evs if e[0] == "resolved"][-1]
            if moment(at_) >= START_AT:
                out.append((pid, unit))
        return out

    def ids(self, pred: Callable[[dict[str, Any]], bool]) -> list[int]:
        return sorted(p["id"] for p in self.problems if pred(p))

    @cached_property
    def open_ids(self) -> list[int]:
        return [p["id"] for p in self.problems if p["open"]]  # by raised time, then id

    @cached_property
    def handovers(self) -> list[tuple[int, int]]:
        """(from unit, problem) of each hand-over in the quarter."""
        return [
            (r[0], r[1])
            for r in self.sql(
                "SELECT e.from_unit_id, e.problem_id FROM problemevent e JOIN problem p ON p.id = e.problem_id "
                "WHERE p.plan_id = :plan AND e.kind = 'handed_over' AND e.at >= :s AND e.at < :e ORDER BY e.id"
            )
        ]

    # --- Reports, zones, leaders --------------------------------------------------------------------

    @cached_property
    def reports(self) -> list[dict[str, Any]]:
        """The quarter's reports, with their zone (the report's, else its right's)."""
        return [
            {"id": r[0], "unit": r[1], "member": r[2], "zone": r[3], "text": r[4], "at": moment(r[5])}
            for r in self.sql(
                "SELECT r.id, r.unit_id, r.member_id, COALESCE(r.zone_id, g.zone_id), r.text, r.created_at "
                'FROM report r LEFT JOIN "right" g ON g.id = r.right_id '
                "WHERE r.plan_id = :plan AND r.created_at >= :s AND r.created_at < :e"
            )
        ]

    @staticmethod
    def latest(reports: list[dict[str, Any]]) -> dict[str, Any] | None:
        return max(reports, key=lambda r: (r["at"], r["id"]), default=None)

    @cached_property
    def zones(self) -> list[dict[str, Any]]:
        zones = self.sql("SELECT id, seq, name FROM zone WHERE plan_id = :plan ORDER BY seq")
        rights = Counter(
            r[0] for r in self.sql("SELECT zone_id FROM \"right\" WHERE plan_id = :plan AND kind != 'proposed'")
        )
        moves: dict[int, set[int]] = {}
        for zone, right in self.sql(
            'SELECT g.zone_id, s.right_id FROM rightstatusevent s JOIN "right" g ON g.id = s.right_id '
            "WHERE g.plan_id = :plan AND s.at >= :s AND s.at < :e AND s.to_status NOT IN ('baseline', 'in_progress')"
        ):
            moves.setdefault(zone, set()).add(right)
        right_zone = {r[0]: r[1] for r in self.sql('SELECT id, zone_id FROM "right" WHERE plan_id = :plan')}
        out = []
        for zid, seq, name in zones:
            reps = [r for r in self.reports if r["zone"] == zid]
            open_ = sorted(
                p["id"] for p in self.problems if p["open"] and (p["zone"] or right_zone.get(p["right"])) == zid
            )
            out.append(
                {
                    "id": zid,
                    "seq": seq,
                    "name": name,
                    "rights": rights.get(zid, 0),
                    "reports": reps,
                    "latest": self.latest(reps),
                    "moves": sorted(moves.get(zid, set())),
                    "open": open_,
                }
            )
        return out

    @cached_property
    def leaders(self) -> list[dict[str, Any]]:
        rows = self.sql(
            "SELECT m.id, m.name, l.zone_id, m.role FROM zoneleader l JOIN member m ON m.id = l.member_id "
            "WHERE m.plan_id = :plan ORDER BY m.id, l.zone_id"
        )
        by_zone = {z["id"]: z for z in self.zones}
        out: dict[int, dict[str, Any]] = {}
        for mid, name, zid, role in rows:
            # Only a department contact is asked to report weekly (domain.md's roles).
            row = out.setdefault(
                mid, {"id": mid, "name": name or f"成员{mid}", "zones": [], "asked": role == "contact"}
            )
            row["zones"].append(by_zone[zid])
        for ld in out.values():
            ld["own"] = [r for r in self.reports if r["member"] == ld["id"]]
        return list(out.values())

    # --- Accountability (the notice's rules) ------------------------------------------------------

    @cached_property
    def tracked(self) -> date:
        """The plan's tracking start, else the day the plan was loaded."""
        since, loaded = self.sql("SELECT tracking_since, loaded_at FROM plan WHERE id = :plan")[0]
        return date.fromisoformat(str(since)[:10]) if since is not None else local_day(loaded)

    @cached_property
    def accountable(self) -> dict[int, date]:
        """Per unit that has had a member: the first working day (the test's calendar) on which it
        had one, not before the plan's tracking start (else the day the plan was loaded)."""
        tracked = self.tracked
        first: dict[int, date] = {}
        for unit, joined in self.sql(
            "SELECT unit_id, joined_at FROM member WHERE plan_id = :plan AND (active OR revoked_at IS NOT NULL)"
        ):
            first[unit] = min(first.get(unit, date.max), local_day(joined))
        out: dict[int, date] = {}
        for unit, day in first.items():
            day = max(day, tracked)
            while not self.workday(day):
                day += timedelta(days=1)
            out[unit] = day
        return out

    @cached_property
    def reporting_accountable(self) -> dict[int, date]:
        """Per unit that has had a department contact (the only role that files weekly progress):
        the first working day on which it had one, not before the tracking start; a unit with only
        leaders, the office or the convener is absent (not asked to report)."""
        tracked = self.tracked
        out: dict[int, date] = {}
        for unit, joined in self.sql(
            "SELECT unit_id, MIN(joined_at) FROM member WHERE plan_id = :plan AND role = 'contact' "
            "AND (active OR revoked_at IS NOT NULL) GROUP BY unit_id"
        ):
            day = max(local_day(joined), tracked)
            while not self.workday(day):
                day += timedelta(days=1)
            out[unit] = day
        return out

    def named_for(self, unit: int) -> bool:
        """A notice can name the unit: a member unit (not the issuing office or government) that could act."""
        return unit in self.accountable and self.units[unit]["kind"] not in ("office", "government")

    @cached_property
    def events(self) -> dict[int, list[dict[str, Any]]]:
        """Per problem that may have been open in the quarter: its events up to the quarter's end, in (time, id) order."""
        return self.events_until(END_AT)

    def events_until(self, end: datetime) -> dict[int, list[dict[str, Any]]]:
        """Per problem raised by `end` and not closed before the quarter began: its events up to
        `end`, in (time, id) order."""
        out: dict[int, list[dict[str, Any]]] = {}
        for eid, pid, kind, fr, to, ok, at_ in self.sql(
            "SELECT e.id, e.problem_id, e.kind, e.from_unit_id, e.to_unit_id, e.reason_accepted, e.at "
            "FROM problemevent e JOIN problem p ON p.id = e.problem_id WHERE p.plan_id = :plan "
            "AND p.created_at <= :x AND (p.closed_at IS NULL OR p.closed_at >= :s)",
            x=end.strftime("%Y-%m-%d %H:%M:%S.%f"),
        ):
            when = moment(at_)
            if when <= end:
                out.setdefault(pid, []).append(
                    {"id": eid, "kind": kind, "fr": fr, "to": to, "ok": bool(ok), "at": when}
                )
        for evs in out.values():
            evs.sort(key=lambda e: (e["at"], e["id"]))
        return out

    @cached_property
    def spells(self) -> list[dict[str, Any]]:
        """Each time a unit held a problem it had to act on (assigned, handed, accepted, reopened or
        ruled to it) until the next action (a comment is none) or the quarter's end, ending in the
        quarter or still running: its working days from the day it could act to the day it ended."""
        return self.spells_until(self.events, END_AT, Q_END)

    def spells_until(
        self, events: dict[int, list[dict[str, Any]]], end: datetime, last_day: date
    ) -> list[dict[str, Any]]:
        """The spells of `events` (see `spells`) ending after the quarter began or still running at
        `end`; a running one counts its working days up to `last_day`."""
        out = []
        for pid, evs in events.items():
            acts = [e for e in evs if e["kind"] != "commented"]
            for e, nxt in zip(acts, [*acts[1:], None], strict=True):
                if e["kind"] not in MUST_ACT or e["to"] not in self.accountable:
                    continue
                if (nxt["at"] if nxt else end) <= START_AT:
                    continue
                a = max(local_day(e["at"]), self.accountable[e["to"]] - timedelta(days=1))
                days = self.workdays_between(a, local_day(nxt["at"]) if nxt else last_day)
                out.append(
                    {
                        "unit": e["to"],
                        "problem": pid,
                        "waiting": e["kind"] in WAITING,
                        "running": nxt is None,
                        "days": days,
                        "first": local_day(e["at"]),  # handed to it
                        "last": local_day(nxt["at"]) if nxt else None,  # its next action
                    }
                )
        return out

    # --- Progress ----------------------------------------------------------------------------------

    def done_rights(self, until: str) -> dict[int, set[int]]:
        """Per task: the rights of its batch whose status history up to `until` (UTC text) reached
        the task's done status and did not go back to an open one after."""
        history: dict[int, list[str]] = {}
        for right, to in self.sql(
            'SELECT s.right_id, s.to_status FROM rightstatusevent s JOIN "right" g ON g.id = s.right_id '
            "WHERE g.plan_id = :plan AND s.at <= :until ORDER BY s.at, s.id",
            until=until,
        ):
            history.setdefault(right, []).append(to)
        out: dict[int, set[int]] = {}
        for task, right, done_status in self.sql(
            "SELECT b.task_id, b.right_id, t.done_status FROM rightbatch b JOIN task t ON t.id = b.task_id "
            "WHERE t.plan_id = :plan"
        ):
            for to in reversed(history.get(right, [])):
                if to == done_status:
                    out.setdefault(task, set()).add(right)
                    break
                if to in OPEN_STATUSES:
                    break
        return out

    @cached_property
    def tasks(self) -> list[dict[str, Any]]:
        import json

        at_end = self.done_rights("2026-03-31 15:59:59.999999")
        at_start = self.done_rights("2025-12-31 15:59:59.999999")
        phases = {r[0]: r[1] for r in self.sql("SELECT key, start FROM phase WHERE plan_id = :plan")}
        issued = self.sql("SELECT issued_on FROM plan WHERE id = :plan")[0][0]
        spec = {t["key"]: t for t in self.plan["spec"].get("tasks", [])}
        out = []
        for tid, key, name, target, measure, phase, schedule in self.sql(
            "SELECT id, key, name, target, measure, phase, schedule FROM task WHERE plan_id = :plan ORDER BY seq"
        ):
            points = json.loads(schedule) if isinstance(schedule, str) else schedule
            start = phases.get(phase) or issued
            share = expected_share(points, Q_END, date.fromisoformat(str(start)[:10]) if start else None)
            done = at_end.get(tid, set())
            zones_target = (spec.get(key) or {}).get("zones_count")
            # A batch the ledger lists no right of has nothing to count and no expectation.
            (listed,) = self.sql("SELECT COUNT(*) FROM rightbatch WHERE task_id = :t", t=tid)[0]
            zone_rights: dict[int, list[int]] = {}
            for right, zone in self.sql(
                'SELECT g.id, g.zone_id FROM rightbatch b JOIN "right" g ON g.id = b.right_id WHERE b.task_id = :t',
                t=tid,
            ):
                if zone is not None:
                    zone_rights.setdefault(zone, []).append(right)
            out.append(
                {
                    "id": tid,
                    "name": name,
                    "target": target,
                    "measure": measure,
                    "done": sorted(done),
                    "new": sorted(done - at_start.get(tid, set())),
                    "unloaded": not listed,
                    "expected": None if share is None or not listed else round(target * share, 1),
                    "due": due_of(points),
                    "zones_target": zones_target,
                    "zones_done": sum(1 for ids in zone_rights.values() if all(i in done for i in ids)),
                    "zone_ids_done": sorted(z for z, ids in zone_rights.items() if all(i in done for i in ids)),
                }
            )
        return out

    @cached_property
    def targets_now(self) -> dict[str, str]:
        return target_figures(self)

    @cached_property
    def claims(self) -> list[int]:
        """Rights whose status claim waits at the end (filed by then, not decided by then)."""
        return sorted(
            {
                r[0]
                for r in self.sql(
                    "SELECT right_id FROM rightclaim WHERE plan_id = :plan AND created_at <= :e "
                    "AND (state = 'pending' OR decided_at > :e)"
                )
            }
        )

    # --- Meetings, decisions, notices ---------------------------------------------------------------

    @cached_property
    def last_meeting(self) -> dict[str, Any] | None:
        rows = self.sql(
            "SELECT id, held_on, title FROM meeting WHERE plan_id = :plan AND held_on <= '2026-03-31' "
            "AND created_at <= :now AND state IN ('held', 'minuted') AND (held_at IS NULL OR held_at <= :now) "
            "AND NOT (kind = 'adhoc' AND period = '2026Q1') ORDER BY held_on DESC, id DESC LIMIT 1",
            now=self.now.strftime("%Y-%m-%d %H:%M:%S"),
        )
        if not rows:
            return None
        mid, held, title = rows[0]
        limit = min(E_UTC, self.now.strftime("%Y-%m-%d %H:%M:%S"))
        decisions = []
        for did, owner, due, done_at in self.sql(
            "SELECT id, owner_unit_id, due_on, done_at FROM decision WHERE meeting_id = :m ORDER BY id", m=mid
        ):
            done = done_at is not None and str(done_at) < limit
            due_day = date.fromisoformat(str(due)[:10]) if due else None
            done_on = local_day(done_at) if done else None
            # Done after the end of its deadline's day: late by the working days after it (the test's calendar).
            late = done_on is not None and due_day is not None and done_on > due_day
            decisions.append(
                {
                    "id": did,
                    "owner": owner,
                    "done": done,
                    "done_on": done_on,
                    "overdue": not done and due_day is not None and due_day <= Q_END,
                    "due": due_day,
                    "late": late,
                    "late_days": self.workdays_between(due_day, done_on) if late and due_day and done_on else 0,
                }
            )
        return {"id": mid, "held": date.fromisoformat(str(held)[:10]), "title": title or "联席会议", "rows": decisions}

    def notices(self, previous: bool) -> list[dict[str, Any]]:
        now = self.now.strftime("%Y-%m-%d %H:%M:%S")
        current = "(n.period = '2026Q1' OR (n.published_at >= :s AND n.published_at < :e))"
        where = f"n.period = '2025Q4' AND NOT {current}" if previous else current
        out = []
        for nid, doc_no, title in self.sql(
            f"SELECT n.id, n.doc_no, n.title FROM notice n WHERE n.plan_id = :plan AND n.state = 'published' "
            f"AND n.published_at <= :now AND {where} ORDER BY n.id",
            now=now,
        ):
            findings = self.sql(
                "SELECT unit_id, summary FROM noticefinding WHERE notice_id = :n AND dropped = 0 ORDER BY id", n=nid
            )
            explained = self.sql(
                "SELECT unit_id, text FROM explanation WHERE notice_id = :n AND created_at <= :now ORDER BY id",
                n=nid,
                now=now,
            )
            out.append({"id": nid, "doc_no": doc_no, "title": title, "findings": findings, "explained": explained})
        return out


def expected_share(points: list[dict[str, Any]], on: date, start: date | None) -> float | None:
    """The share a timeline expects by `on`: linear between its points, from 0 at `start`."""
    if not points:
        return None
    marks = sorted((date.fromisoformat(str(p["by"])[:10]), float(p["share"])) for p in points)
    prev: tuple[date | None, float] = (start, 0.0)
    for day, share in marks:
        if on >= day:
            prev = (day, share)
            continue
        if prev[0] is None or on < prev[0]:
            return prev[1]
        span = (day - prev[0]).days
        return share if span <= 0 else prev[1] + (share - prev[1]) * (on - prev[0]).days / span
    return prev[1]


def due_of(points: list[dict[str, Any]]) -> str:
    """The clause a batch's line says its deadline in: the day its timeline reaches the whole."""
    if not points:
        return ""
    day, share = max((date.fromisoformat(str(p["by"])[:10]), float(p["share"])) for p in points)
    return f"（{cn(day)}前）" if share == 1.0 else ""


def first(ids: list[int]) -> list[int]:
    return sorted(ids)[:CAP]


def expected_whole(value: float | None) -> str:
    import math

    return "—" if value is None else str(math.ceil(round(value, 6)))


# --- The brief ---------------------------------------------------------------------------------------


def _progress_item(t: dict[str, Any]) -> str:
    head = f"{t['name']}目标{t['target']}{t['measure']}{t['due']}"
    if t["unloaded"]:
        return f"{head}，台账尚未载入该批次矿业权"
    base = f"{head}，累计完成{len(t['done'])}{t['measure']}"
    if t["expected"] is None:
        return base
    return base + f"，按进度应完成{expected_whole(t['expected'])}{t['measure']}"


def b_editor_note(r: Rec, f: dict[str, Any]) -> None:
    # The ledger sent with it is exported when the brief is compiled (r.now), and the note says when.
    local = r.now.astimezone(SH)
    ledger_at = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    want = {"label": LABEL, "plan": r.plan["short"], "as_of": "", "ledger_at": ledger_at}
    assert f["values"] == want, f  # the quarter has ended: no 统计截至
    assert f"完整台账（{ledger_at}导出）以电子表格随本期简报一并发送。" in f["text"], f
    assert f["text"].startswith(f"现将{LABEL}{r.plan['short']}工作推进情况汇总刊发。"), f


def _loaded(r: Rec) -> list[dict[str, Any]]:
    return [t for t in r.tasks if not t["unloaded"]]


def b_progress_lead(r: Rec, f: dict[str, Any]) -> None:
    want = [[t["id"], len(t["done"]), t["target"], expected_whole(t["expected"])] for t in _loaded(r)]
    assert want and [list(b) for b in f["values"]["batches"]] == want, (f, want)
    assert f["values"]["unloaded"] == [t["id"] for t in r.tasks if t["unloaded"]], f
    assert f["text"] == f"截至{cn(Q_END)}，" + "；".join(_progress_item(t) for t in r.tasks) + "。", f


def b_progress_unloaded(r: Rec, f: dict[str, Any]) -> None:
    assert r.tasks and not _loaded(r) and f["values"]["unloaded"] == [t["id"] for t in r.tasks], f
    targets = "、".join(f"{t['name']}{t['target']}{t['measure']}{t['due']}" for t in r.tasks)
    assert f["text"] == f"台账尚未载入各批次的矿业权，各批次完成情况暂无法统计。各批次目标为：{targets}。", f


def b_progress_targets(r: Rec, f: dict[str, Any]) -> None:
    assert f["text"] == f"对照实施方案总体目标（截至{cn(Q_END)}）：", f


def ledger_counts(r: Rec, until: str) -> dict[str, Any]:
    """What the targets count in the ledger as of `until` (stored UTC text), counted here: a right
    reached a status when an event up to then moved it there and no later one moved it back to an
    open status; in each zone the consolidated mining rights are absorbed but the one the ledger
    marks 整合后保留 是 (kept_in_zone); in a zone with none so marked those marked 否 are absorbed,
    and of two or more left blank one is kept, not known which: they count as one mine, and in no
    share nor green count (one left blank is the one kept)."""
    reached: dict[int, set[str]] = {}
    for right, to in r.sql(
        'SELECT s.right_id, s.to_status FROM rightstatusevent s JOIN "right" g ON g.id = s.right_id '
        "WHERE g.plan_id = :plan AND s.at <= :until ORDER BY s.right_id, s.at, s.id",
        until=until,
    ):
        got = reached.setdefault(right, set())
        got.clear() if to in OPEN_STATUSES else got.add(to)
    rows = r.sql(
        'SELECT g.id, g.kind, g.zone_id, g.size_class, g.green_level, g.kept_in_zone, z.seq FROM "right" g'
        " LEFT JOIN zone z ON z.id = g.zone_id WHERE g.plan_id = :plan ORDER BY g.id"
    )
    mining = [row for row in rows if row[1] == "mining"]
    closed = {row[0] for row in mining if "closed" in reached.get(row[0], set())}
    kept = {row[2]: row[0] for row in mining if row[2] is not None and row[5]}
    seq = {row[2]: row[6] for row in rows if row[2] is not None}
    zones: dict[int, list[int]] = {}
    for row in mining:
        if row[2] is not None and row[0] not in closed and "consolidated" in reached.get(row[0], set()):
            zones.setdefault(row[2], []).append(row[0])
    said_no = {row[0] for row in mining if row[5] is not None and not row[5]}
    named = {i for z, ids in zones.items() for i in ids if (i != kept[z] if z in kept else i in said_no)}
    blank = {z: [i for i in ids if i not in said_no] for z, ids in zones.items() if z not in kept}
    unstated = sorted((seq[z], ids) for z, ids in blank.items() if len(ids) > 1)
    pending = {i for _, ids in unstated for i in ids}
    absorbed = len(named) + len(pending) - len(unstated)
    explo = sum(
        1
        for row in rows
        if row[1] in ("exploration", "deep")
        and (
            "closed" in reached.get(row[0], set())
            or (row[2] is not None and "consolidated" in reached.get(row[0], set()))
        )
    )
    standing = [row for row in mining if row[0] not in closed | named | pending]  # known to stand
    return {
        "closed": len(closed),
        "absorbed": absorbed,
        "unstated_seqs": [s for s, _ in unstated],
        "unstated_zones": sorted(z for z, ids in blank.items() if len(ids) > 1),
        "cut_ids": closed | named | pending,
        "unstated_rights": len(pending),
        "unstated_green": sum(1 for row in mining if row[0] in pending and row[4] in ("national", "region")),
        "mines": len(standing) + len(unstated),
        "exploration": explo,
        "standing": len(standing),
        "large": sum(1 for row in standing if row[3] in ("large", "medium")),
        "green": sum(1 for row in standing if row[4] in ("national", "region")),
        "restart": sum(1 for row in mining if reached.get(row[0], set()) & {"restarted", "activated"}),
        "mining_rows": len(mining),
        "exploration_rows": sum(1 for row in rows if row[1] in ("exploration", "deep")),
        "converted": sum(
            1 for row in rows if row[1] in ("exploration", "deep") and "converted" in reached.get(row[0], set())
        ),
    }


def target_values(r: Rec, c: dict[str, Any]) -> dict[str, float | None]:
    """Each banner target's figure from the ledger's counts (a share of no standing mine: none)."""
    gone = c["closed"] + c["absorbed"]
    return {
        "reduce_mining": gone,
        "reduce_exploration": c["exploration"],
        "reduce_total": gone + c["exploration"],
        "max_mines": c["mines"],
        "min_large_medium_ratio": c["large"] / c["standing"] if c["standing"] else None,
        "green_mines": c["green"],
        "restart": c["restart"],
    }


def target_figures(r: Rec) -> dict[str, str]:
    """The figure after 现为 for each of the plan's targets as of the quarter's end, counted here."""
    values = target_values(r, ledger_counts(r, E_UTC))
    return {
        key: ("" if v is None else f"{v * 100:.1f}%" if key == "min_large_medium_ratio" else str(v))
        for key, v in values.items()
    }


def target_how(r: Rec, key: str, c: dict[str, Any]) -> str:
    """How the brief says a target is counted, or its natural zero, written here from the counts;
    a zone of two or more consolidated mining rights with none marked 整合后保留 is named by its
    序号, counted as keeping one in the reductions and left out of the share and the green mines."""
    gone = c["closed"] + c["absorbed"]
    seqs = c["unstated_seqs"]
    zones = "、".join(f"{s}号" for s in seqs[:5]) + (f"等{len(seqs)}个" if len(seqs) > 5 else "") + "整合区"
    blank = f"{zones}有{c['unstated_rights']}宗已整合采矿权台账未填写整合后保留"
    many = len(seqs) > 1
    unstated = (
        f"（其中{blank}，暂按{'每区' if many else ''}保留1宗计减少{c['unstated_rights'] - len(seqs)}宗）"
        if seqs
        else ""
    )
    if key == "reduce_mining":
        parts = [f"{label}{n}宗" for label, n in (("关闭注销", c["closed"]), ("整合减少", c["absorbed"])) if n]
        return "，".join(parts) + unstated if parts else "尚无关闭注销或整合减少的采矿权"
    if key == "reduce_exploration":
        return "整合或关闭的探矿权（含深部探矿权）" if c["exploration"] else "尚无整合或关闭的探矿权"
    if key == "reduce_total":
        return "减少的采矿权与探矿权合计" + unstated if gone + c["exploration"] else "尚无减少的采矿权和探矿权"
    if key == "max_mines":
        loaded = f"台账载入采矿权{c['mining_rows']}宗"
        how = f"{loaded}，已减少{gone}宗{unstated}" if gone else f"{loaded}，尚无减少"
        # A converted exploration right is no mining row yet: left out of the figure, and said so.
        return how + (f"，另有{c['converted']}宗探矿权已转采，待以采矿权登记入台账后计入" if c["converted"] else "")
    if key == "min_large_medium_ratio":
        left = f"{blank}，{'各区' if many else ''}保留哪一宗尚不确定，暂不计入；" if seqs else ""
        if not c["standing"]:
            return f"{left}台账中尚无{'其他' if seqs else ''}存续的采矿权"
        standing = f"{left}{'其余' if seqs else ''}台账存续采矿权{c['standing']}宗"
        return f"{standing}中大中型{c['large']}宗" if c["large"] else f"{standing}，其中尚无大中型"
    if key == "green_mines":
        how = "台账中国家级、自治区级绿色矿山" if c["green"] else "台账中尚无国家级、自治区级绿色矿山"
        if c["unstated_green"]:
            how += (
                f"；{zones}台账未填写整合后保留的已整合采矿权中另有国家级、自治区级绿色矿山{c['unstated_green']}宗，"
                "是否保留尚不确定，暂不计入"
            )
        return how
    assert key == "restart", key
    return "已复工达产（已盘活）的采矿权" if c["restart"] else "尚无复工达产（盘活）的采矿权"


def target_unloaded(r: Rec, key: str, c: dict[str, int]) -> tuple[str, str] | None:
    """(the clause, what is cited instead) when the ledger does not hold the rights a target counts,
    written here: no mining right for a target counting mining rights, no exploration right (deep
    ones included) for one counting exploration rights, both for 消减矿业权; the total of mines
    needs at least the plan's baseline of mining rights in the ledger."""
    base = r.plan["spec"]["baseline"]
    mining, explo = f"采矿权{base['mining']}宗", f"探矿权{base['exploration']}宗"
    missing = [
        kind
        for kind, needs, rows in (
            ("采矿权", key != "reduce_exploration", c["mining_rows"]),
            ("探矿权", key in ("reduce_exploration", "reduce_total"), c["exploration_rows"]),
        )
        if needs and not rows
    ]
    cited = {"reduce_exploration": explo, "reduce_total": f"{mining}、{explo}"}.get(key, mining)
    if missing:
        return f"台账尚未载入{'和'.join(missing)}", f"实施方案基数{cited}"
    if key == "max_mines" and c["mining_rows"] < int(base["mining"]):
        return (
            f"台账载入采矿权{c['mining_rows']}宗，少于实施方案基数{base['mining']}宗",
            "矿山总数待台账采矿权载入齐全后计算",
        )
    return None


def b_progress_target(r: Rec, f: dict[str, Any]) -> None:
    """The whole line: 目标 the plan file's value by its deadline, 现为 the ledger's figure at the
    quarter's end, 按进度应为 what a linear timeline from the target's start expects on the day
    the quarter has ended (a whole-unit target the nearest whole number, a half up; a level
    target from its figure at the start), 滞后 when behind that printed figure, and how the
    figure is counted."""
    from decimal import ROUND_HALF_UP, Decimal

    spec = {t["key"]: t for t in r.plan["spec"].get("targets") or []}
    t = spec[f["values"]["key"]]
    kind, key = t["kind"], t["key"]
    end = ledger_counts(r, E_UTC)
    unit = "" if kind == "min_ratio" else t["unit"]
    deadline = date.fromisoformat(str(t["deadline"]))
    unloaded = target_unloaded(r, key, end)

    def bound(v: Any) -> str:
        """The target as seed 000 says it: 控制在65个以内, 不低于75% (a share in whole percent)."""
        if kind == "min_ratio":
            return "不低于" + f"{float(v) * 100:.1f}".removesuffix(".0") + "%"
        return f"控制在{int(v)}{unit}以内" if kind == "max" else f"{int(v)}{unit}"

    if unloaded is not None:
        # The ledger does not hold what the target counts: no figure, no expectation, no 滞后.
        line = (
            f"{t['name']}：目标{bound(t['value'])}（{cn(deadline)}前），{unloaded[0]}，现状暂无法计算；{unloaded[1]}。"
        )
        assert f["text"] == line and not f.get("ids"), (f, line)
        return
    now = target_values(r, end)[key]
    start = date.fromisoformat(str(t.get("start") or r.plan["spec"]["issued_on"]))
    on = Q_END + timedelta(days=1)  # the brief looks at the quarter's end: the next day's first moment
    share = min(1.0, max(0.0, (on - start).days / (deadline - start).days))
    if kind in ("max", "min", "min_ratio"):
        at_start = datetime.combine(start, datetime.min.time(), tzinfo=SH).astimezone(UTC)
        first = target_values(r, ledger_counts(r, at_start.strftime("%Y-%m-%d %H:%M:%S")))[key]
        expected = None if first is None else first + (float(t["value"]) - first) * share
    else:
        expected = float(t["value"]) * share

    def num(v: float) -> str:
        return f"{v * 100:.1f}%" if kind == "min_ratio" else (str(int(v)) if float(v).is_integer() else f"{v:.1f}")

    figures = f"目标{bound(t['value'])}（{cn(deadline)}前）"
    behind = False
    if now is None:
        figures += "，暂无法计算"
    else:
        figures += f"，现为{num(now)}{unit}"
        if expected is not None:
            # A whole-unit target: the nearest whole number, a half up (cap alike), of the figure
            # kept to four places, and behind only against that printed figure; a share to one
            # decimal, behind on the share kept to four places.
            whole = Decimal(repr(round(expected, 4))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            said = f"{expected * 100:.1f}%" if kind == "min_ratio" else str(int(whole))
            bar = round(expected, 4) if kind == "min_ratio" else float(whole)
            figures += {"max": f"，按进度应在{said}{unit}以内", "min_ratio": f"，按进度应不低于{said}"}.get(
                kind, f"，按进度应为{said}{unit}"
            )
            behind = now > bar + 1e-9 if kind == "max" else now < bar - 1e-9
    line = f"{t['name']}：{figures}{'（滞后）' if behind else ''}；{target_how(r, key, end)}。"
    assert f["text"] == line, (f, line)
    if key == "reduce_mining":
        # It cites the rights closed, those its zones absorb, and those of a zone leaving 整合后保留
        # blank, with that zone: never a right named absorbed on a guess of which one stays.
        cited = set(f["ids"].get("right", []))
        assert cited <= end["cut_ids"] and len(cited) == min(len(end["cut_ids"]), 20), (f, end["cut_ids"])
        assert sorted(f["ids"].get("zone", [])) == end["unstated_zones"], (f, end["unstated_zones"])


def b_progress_zones(r: Rec, f: dict[str, Any]) -> None:
    (t,) = [t for t in _loaded(r) if t["zones_target"]]
    assert (f["values"]["done"], f["values"]["target"]) == (t["zones_done"], t["zones_target"]), (f, t)
    assert t["zones_done"] > 0
    assert f["text"] == f"整合重组一批已完成整合区{t['zones_done']}个（目标{t['zones_target']}个）。", f
    assert sorted(f["ids"]["zone"]) == t["zone_ids_done"], (f, t)  # cited: the zones completed


def b_progress_zones_none(r: Rec, f: dict[str, Any]) -> None:
    (t,) = [t for t in _loaded(r) if t["zones_target"]]
    assert t["zones_done"] == 0 and f["text"] == f"整合重组一批尚未完成整合区（目标{t['zones_target']}个）。", f


def b_progress_new(r: Rec, f: dict[str, Any]) -> None:
    n = sum(len(t["new"]) for t in r.tasks)
    assert n and f["values"]["n"] == n and f["ids"]["right"] == first([i for t in r.tasks for i in t["new"]]), f
    # Each batch in its own measure, in the plan's order: never one sum over batches of 宗, 家 and 个.
    parts = "、".join(f"{t['name']}{len(t['new'])}{t['measure']}" for t in r.tasks if t["new"])
    assert [list(b) for b in f["values"]["batches"]] == [[t["id"], len(t["new"])] for t in r.tasks if t["new"]], f
    assert f["text"] == f"本期新完成{parts}。", f


def b_progress_new_none(r: Rec, f: dict[str, Any]) -> None:
    assert not any(t["new"] for t in r.tasks) and f["text"] == "本期没有新完成的矿业权。", f


def b_progress_claims(r: Rec, f: dict[str, Any]) -> None:
    assert r.claims and f["ids"]["right"] == r.claims and f["values"]["n"] == len(r.claims), (f, r.claims)
    assert f["text"].startswith(f"截至{cn(Q_END)}，另有{len(r.claims)}宗矿业权的状态变更已报送"), f
    codes = dict(r.sql('SELECT id, code FROM "right" WHERE plan_id = :plan'))
    for right in r.claims[:10]:
        assert f"（{codes[right]}）" in f["text"], (f, codes[right])


def _quiet(r: Rec) -> list[int]:
    return [z["seq"] for z in r.zones if not z["reports"]]


def b_zones_none(r: Rec, f: dict[str, Any]) -> None:
    assert not r.zones and f["text"] == "本计划未划分整合区。", f


def b_zones_quiet(r: Rec, f: dict[str, Any]) -> None:
    quiet = _quiet(r)
    assert 0 < len(quiet) < len(r.zones) and f["values"]["zone_seqs"] == quiet, f
    assert f["text"] == "本期没有进展报送的整合区：" + "、".join(f"{z}号" for z in quiet) + "。", f


def b_zones_all_quiet(r: Rec, f: dict[str, Any]) -> None:
    assert len(_quiet(r)) == len(r.zones) and f["text"] == f"本期{len(r.zones)}个整合区均没有进展报送。", f


def b_zones_all_reported(r: Rec, f: dict[str, Any]) -> None:
    assert not _quiet(r) and f["text"] == f"{len(r.zones)}个整合区本期均有进展报送。", f
    # Cited as the zone table sums them: each zone's first report, then the zones' others.
    firsts = [min(x["id"] for x in z["reports"]) for z in r.zones]
    ids = f["ids"]["report"]
    assert ids[: len(firsts)] == firsts and len(set(ids)) == len(ids), f
    assert set(ids) <= {x["id"] for z in r.zones for x in z["reports"]}, f


def b_zone_news(r: Rec, f: dict[str, Any]) -> None:
    (z,) = [z for z in r.zones if z["seq"] == f["values"]["seq"]]
    latest = z["latest"]
    assert latest is not None and f["ids"]["report"] == [latest["id"]], (f, latest)
    on = cn(latest["at"].astimezone(SH).date())
    said = latest["text"].replace("“", "‘").replace("”", "’")  # quoted, nested quotes single
    assert f["text"] == f"{z['seq']}号{z['name']}（{r.unit_name(latest['unit'])}，{on}）：“{said}”", f


def b_zone_news_none(r: Rec, f: dict[str, Any]) -> None:
    assert not r.reports or not any(z["reports"] for z in r.zones), f
    assert f["text"] == "本期没有整合区报送进展。", f


def b_leader_line(r: Rec, f: dict[str, Any]) -> None:
    (ld,) = [ld for ld in r.leaders if ld["name"] == f["values"]["name"]]
    zones = ld["zones"]
    reports = sum(len(z["reports"]) for z in zones)
    moves = sum(len(z["moves"]) for z in zones)
    open_ids = [i for z in zones for i in z["open"]]
    v = f["values"]
    want = {"own": len(ld["own"]), "reports": reports, "moves": moves, "open": len(open_ids)}
    assert {k: v[k] for k in want} == want, (f, want)
    assert f["ids"].get("problem", []) == first(open_ids), f
    own = f"本人报送进展{len(ld['own'])}次，" if ld["own"] else "本人未报送进展，" if ld["asked"] else ""
    area = (f"所包联整合区本期报送进展{reports}次" if reports else "所包联整合区本期无进展报送") + (
        f"、矿业权状态变更{moves}宗" if moves else ""
    )
    open_ = f"期末未关闭问题{len(open_ids)}个" if open_ids else "期末无未关闭问题"
    seqs = "、".join(str(z["seq"]) for z in sorted(zones, key=lambda z: z["seq"]))
    assert f["text"] == f"{ld['name']}包联{seqs}号整合区，{own}{area}，{open_}。", f


def b_leader_latest(r: Rec, f: dict[str, Any]) -> None:
    owners = [ld for ld in r.leaders if (x := r.latest(ld["own"])) is not None and x["id"] == f["ids"]["report"][0]]
    assert owners, f
    latest = r.latest(owners[0]["own"])
    assert latest is not None
    said = latest["text"].replace("“", "‘").replace("”", "’")
    assert f["text"] == f"最近一次报送（{cn(latest['at'].astimezone(SH).date())}）：“{said}”", f


def _leader_figures(r: Rec, f: dict[str, Any]) -> dict[str, list[int]]:
    """The leader a clause is of, counted here: own reports, their zones' reports, rights moved, open problems."""
    (ld,) = [ld for ld in r.leaders if ld["id"] == f["values"]["member_id"]]
    zones = ld["zones"]
    return {
        "own": sorted(x["id"] for x in ld["own"]),
        "reports": sorted(x["id"] for z in zones for x in z["reports"]),
        "moves": sorted(i for z in zones for i in z["moves"]),
        "open": sorted(i for z in zones for i in z["open"]),
    }


# Each clause of a leader's line: (the figure it says, the noun it cites, its text with n).
_LEADER_CLAUSES = {
    "leader_own": ("own", "report", "本人报送进展{n}次"),
    "leader_area": ("reports", "report", "所包联整合区本期报送进展{n}次"),
    "leader_moves": ("moves", "right", "、矿业权状态变更{n}宗"),
    "leader_open": ("open", "problem", "期末未关闭问题{n}个"),
}
_LEADER_NONE = {
    "leader_own_none": ("own", "本人未报送进展"),
    "leader_area_none": ("reports", "所包联整合区本期无进展报送"),
    "leader_open_none": ("open", "期末无未关闭问题"),
}


def b_leader_clause(r: Rec, f: dict[str, Any]) -> None:
    counted = _leader_figures(r, f)
    if f["kind"] in _LEADER_NONE:
        figure, text = _LEADER_NONE[f["kind"]]
        assert not counted[figure] and f["values"]["n"] == 0 and not f["ids"], (f, counted)
        assert f["text"] == text, f
        return
    figure, noun, text = _LEADER_CLAUSES[f["kind"]]
    ids = counted[figure]
    assert ids and f["values"]["n"] == len(ids), (f, counted)
    assert f["ids"] == {noun: first(ids)}, (f, counted)
    assert f["text"] == text.format(n=len(ids)), f


def b_units_handovers_item(r: Rec, f: dict[str, Any]) -> None:
    unit = f["values"]["unit_id"]
    problems = sorted({p for u, p in r.handovers if u == unit})
    n = sum(1 for u, _ in r.handovers if u == unit)
    assert n and f["values"]["n"] == n, (f, n)
    assert f["ids"] == {"problem": first(problems)}, (f, problems)
    assert f["text"] == f"{r.unit_name(unit)}{n}次", f


def b_leaders_none(r: Rec, f: dict[str, Any]) -> None:
    assert not r.leaders and f["text"] == "本期未设包联领导。", f


def _problem_counts(r: Rec) -> dict[str, list[int]]:
    return {
        "new": r.ids(lambda p: p["new"]),
        "resolved": sorted({p for p, _ in r.resolved}),
        "open": r.ids(lambda p: p["open"]),
        "overdue": r.ids(lambda p: p["overdue"]),
        "disputed": r.ids(lambda p: p["disputed"]),
    }


def _problems_lead(r: Rec, f: dict[str, Any], kind: str) -> None:
    c = _problem_counts(r)
    n = {k: len(v) for k, v in c.items()}
    assert {k: f["values"][k] for k in n} == n, (f, n)
    assert f["ids"].get("problem", []) == first(c["overdue"]), f
    detail = "、".join(
        x
        for x in (
            f"逾期{n['overdue']}个" if n["overdue"] else "",
            f"有争议待裁定{n['disputed']}个" if n["disputed"] else "",
        )
        if x
    )
    # Nothing open: the line stops there and the next one says 期末没有未关闭的问题 (never 未关闭0个).
    tail = (f"；期末未关闭{n['open']}个" + (f"，其中{detail}" if detail else "") if n["open"] else "") + "。"
    if kind == "problems_lead":
        assert n["new"] or n["resolved"]
        assert f["text"] == f"本期新增问题{n['new']}个，办结{n['resolved']}个{tail}", f
    else:
        assert not n["new"] and not n["resolved"]
        assert f["text"] == f"本期没有新增问题，也没有办结问题{tail}", f


def _oldest(r: Rec, pid: int) -> dict[str, Any]:
    (p,) = [p for p in r.problems if p["id"] == pid]
    return {**p, "days": r.workdays_between(p["raised"], Q_END)}


def b_problems_oldest(r: Rec, f: dict[str, Any]) -> None:
    assert r.open_ids and f["values"]["problem_id"] == r.open_ids[0], f
    p = _oldest(r, r.open_ids[0])
    assert f["values"]["workdays"] == p["days"], (f, p)
    want = (
        f"最久未关闭的问题是{p['id']}号问题（{p['category']}，责任单位{r.unit_name(p['owner'])}，"
        f"{cn(p['raised'])}提出，截至期末{days_text(p['days'])}）。"  # counted to Q_END: the quarter has ended
    )
    assert f["text"] == want, (f["text"], want)


def b_problems_oldest_more(r: Rec, f: dict[str, Any]) -> None:
    more = r.open_ids[1:OLDEST]
    assert more and f["values"]["problem_ids"] == more, f
    items = "、".join(
        f"{p['id']}号问题（{r.unit_name(p['owner'])}，{days_text(p['days'])}）" for p in (_oldest(r, i) for i in more)
    )
    assert f["text"] == f"其次为{items}。", f


def b_problems_none_open(r: Rec, f: dict[str, Any]) -> None:
    assert not r.open_ids and f["text"] == "期末没有未关闭的问题。", f


def b_units_behind(r: Rec, f: dict[str, Any]) -> None:
    behind = r.behind
    assert behind and f["values"]["unit_ids"] == behind, (f, behind)
    assert f["text"] == "本期按时报送率不足一半的单位：" + "、".join(r.unit_name(u) for u in behind) + "。", f


def b_units_handovers(r: Rec, f: dict[str, Any]) -> None:
    by_unit = Counter(u for u, _ in r.handovers)
    assert r.handovers and f["values"]["n"] == len(r.handovers), f
    assert {int(k): v for k, v in f["values"]["by_unit"].items()} == dict(by_unit), f
    assert f["ids"]["problem"] == first(list({p for _, p in r.handovers})), f
    order = sorted(by_unit, key=lambda u: u)  # the units' table order (unit id)
    items = "、".join(f"{r.unit_name(u)}{by_unit[u]}次" for u in order)
    assert f["text"] == f"本期问题转交共{len(r.handovers)}次：{items}。", f


def _decisions(r: Rec, f: dict[str, Any]) -> dict[str, Any]:
    m = r.last_meeting
    assert m is not None and f["values"]["meeting_id"] == m["id"], (f, m)
    rows = m["rows"]
    done = [d for d in rows if d["done"]]
    overdue = [d["id"] for d in rows if d["overdue"]]
    late = [d["id"] for d in done if d["late"]]
    values = f["values"]
    assert (values["n"], values["done"], values["overdue"], values["done_late"]) == (
        len(rows),
        len(done),
        len(overdue),
        len(late),
    ), f
    # It rests on the matters it says are late: overdue ones and those done after their deadline.
    assert f["ids"].get("decision", []) == sorted(overdue + late), f
    late_detail = f"（其中逾期完成{len(late)}项）" if late else ""
    return {
        "m": m,
        "rows": rows,
        "done": done,
        "overdue": overdue,
        "late_detail": late_detail,
        "head": f"{cn(m['held'])}召开的{m['title']}",
    }


def b_decisions_lead(r: Rec, f: dict[str, Any]) -> None:
    d = _decisions(r, f)
    assert d["rows"] and len(d["done"]) < len(d["rows"]), f
    detail = f"，其中逾期{len(d['overdue'])}项" if d["overdue"] else ""
    want = (
        f"{d['head']}议定事项{len(d['rows'])}项，截至{cn(Q_END)}已完成{len(d['done'])}项{d['late_detail']}，"
        f"未完成{len(d['rows']) - len(d['done'])}项{detail}。"
    )
    assert f["text"] == want, (f["text"], want)


def b_decisions_lead_all_done(r: Rec, f: dict[str, Any]) -> None:
    d = _decisions(r, f)
    assert d["rows"] and len(d["done"]) == len(d["rows"]), f
    assert f["text"] == f"{d['head']}议定事项{len(d['rows'])}项，截至{cn(Q_END)}均已完成{d['late_detail']}。", f


def b_decisions_lead_empty(r: Rec, f: dict[str, Any]) -> None:
    d = _decisions(r, f)
    assert not d["rows"] and f["text"] == f"{d['head']}没有形成议定事项。", f


def b_decisions_none(r: Rec, f: dict[str, Any]) -> None:
    assert r.last_meeting is None and f["text"] == "本期之前尚未召开联席会议，无议定事项。", f


def _notice_of(r: Rec, f: dict[str, Any], previous: bool) -> dict[str, Any]:
    (n,) = [n for n in r.notices(previous) if n["id"] == f["values"]["notice_id"]]
    return n


def _named(n: dict[str, Any]) -> list[int]:
    return list(dict.fromkeys(u for u, _ in n["findings"]))


def b_notices_none(r: Rec, f: dict[str, Any]) -> None:
    assert not r.notices(False) and f["text"] == "本期未发布通报。", f


def b_notice_line(r: Rec, f: dict[str, Any]) -> None:
    n = _notice_of(r, f, False)
    named = _named(n)
    assert named and f["values"]["unit_ids"] == named, f
    want = f"{n['doc_no']}《{n['title']}》通报了" + "、".join(r.unit_name(u) for u in named) + "。"
    assert f["text"] == want, (f["text"], want)


def b_notice_line_none(r: Rec, f: dict[str, Any]) -> None:
    n = _notice_of(r, f, False)
    assert not n["findings"] and f["text"] == f"{n['doc_no']}《{n['title']}》未通报单位。", f


def b_notice_finding(r: Rec, f: dict[str, Any]) -> None:
    summary, units = f["values"]["summary"], f["values"]["unit_ids"]
    holders = [n for n in r.notices(False) if [u for u, s in n["findings"] if s == summary] == units]
    assert holders, f
    assert f["text"] == "、".join(r.unit_name(u) for u in units) + f"：{summary}。", f


def b_notice_explanation(r: Rec, f: dict[str, Any]) -> None:
    unit = f["values"]["unit_id"]
    filed = [t for n in r.notices(False) + r.notices(True) for u, t in n["explained"] if u == unit]
    assert f["values"]["text"] in filed, (f, filed)
    assert f["text"] == f"{r.unit_name(unit)}情况说明：{f['values']['text']}", f


def b_notice_missing(r: Rec, f: dict[str, Any], any_explained: bool) -> None:
    holders = [
        n
        for n in r.notices(False)
        if [u for u in _named(n) if u not in {e for e, _ in n["explained"]}] == f["values"]["unit_ids"]
        and bool(n["explained"]) == any_explained
    ]
    assert holders and f["values"]["unit_ids"], f


def b_notice_missing_explanations(r: Rec, f: dict[str, Any]) -> None:
    b_notice_missing(r, f, True)
    assert (
        f["text"]
        == "尚未提交情况说明的被通报单位：" + "、".join(r.unit_name(u) for u in f["values"]["unit_ids"]) + "。"
    ), f


def b_notice_no_explanation(r: Rec, f: dict[str, Any]) -> None:
    b_notice_missing(r, f, False)
    assert f["text"] == "被通报单位尚未提交情况说明。", f


def b_previous_notice_line(r: Rec, f: dict[str, Any]) -> None:
    n = _notice_of(r, f, True)
    assert n["explained"] and f["text"] == f"上期通报{n['doc_no']}《{n['title']}》的情况说明：", f


def b_previous_no_explanation(r: Rec, f: dict[str, Any]) -> None:
    n = _notice_of(r, f, True)
    assert n["findings"] and not n["explained"], f
    assert f["text"] == f"上期通报{n['doc_no']}《{n['title']}》的被通报单位未提交情况说明。", f


def _behind_tasks(r: Rec) -> list[dict[str, Any]]:
    return [t for t in r.tasks if t["expected"] is not None and len(t["done"]) < t["expected"]]


def b_agenda_progress(r: Rec, f: dict[str, Any]) -> None:
    assert f["text"] == "听取各成员单位本期工作进展汇报。", f


def b_agenda_behind(r: Rec, f: dict[str, Any]) -> None:
    behind = _behind_tasks(r)
    assert behind and f["values"]["task_ids"] == [t["id"] for t in behind], f
    assert f["text"] == "研究" + "、".join(t["name"] for t in behind) + "进度滞后问题。", f


def b_agenda_overdue(r: Rec, f: dict[str, Any]) -> None:
    over = _problem_counts(r)["overdue"]
    assert over and f["ids"]["problem"] == first(over) and f["text"] == f"督办逾期未办结的问题{len(over)}个。", f


def b_agenda_disputed(r: Rec, f: dict[str, Any]) -> None:
    disputed = _problem_counts(r)["disputed"]
    assert disputed and f["ids"]["problem"] == first(disputed), f
    assert f["text"] == f"裁定有争议的问题{len(disputed)}个。", f


def b_agenda_decisions(r: Rec, f: dict[str, Any]) -> None:
    m = r.last_meeting
    overdue = [d["id"] for d in (m["rows"] if m else []) if d["overdue"]]
    assert overdue and f["ids"]["decision"] == overdue[:CAP], f
    assert f["text"] == f"督办上次会议逾期未完成的议定事项{len(overdue)}项。", f


def b_agenda_next(r: Rec, f: dict[str, Any]) -> None:
    assert f["text"] == "部署下一阶段工作。", f


BRIEF_CHECKS: dict[str, Callable[[Rec, dict[str, Any]], None]] = {
    "editor_note": b_editor_note,
    "progress_lead": b_progress_lead,
    "progress_unloaded": b_progress_unloaded,
    "progress_targets": b_progress_targets,
    "progress_target": b_progress_target,
    "progress_zones": b_progress_zones,
    "progress_zones_none": b_progress_zones_none,
    "progress_new": b_progress_new,
    "progress_new_none": b_progress_new_none,
    "progress_claims": b_progress_claims,
    "zones_none": b_zones_none,
    "zones_quiet": b_zones_quiet,
    "zones_all_quiet": b_zones_all_quiet,
    "zones_all_reported": b_zones_all_reported,
    "zone_news": b_zone_news,
    "zone_news_none": b_zone_news_none,
    "leader_line": b_leader_line,
    "leader_latest": b_leader_latest,
    "leaders_none": b_leaders_none,
    **dict.fromkeys([*_LEADER_CLAUSES, *_LEADER_NONE], b_leader_clause),
    "units_handovers_item": b_units_handovers_item,
    "problems_lead": lambda r, f: _problems_lead(r, f, "problems_lead"),
    "problems_lead_none": lambda r, f: _problems_lead(r, f, "problems_lead_none"),
    "problems_oldest": b_problems_oldest,
    "problems_oldest_more": b_problems_oldest_more,
    "problems_none_open": b_problems_none_open,
    "units_behind": b_units_behind,
    "units_handovers": b_units_handovers,
    "decisions_lead": b_decisions_lead,
    "decisions_lead_all_done": b_decisions_lead_all_done,
    "decisions_lead_empty": b_decisions_lead_empty,
    "decisions_none": b_decisions_none,
    "notices_none": b_notices_none,
    "notice_line": b_notice_line,
    "notice_line_none": b_notice_line_none,
    "notice_finding": b_notice_finding,
    "notice_explanation": b_notice_explanation,
    "notice_missing_explanations": b_notice_missing_explanations,
    "notice_no_explanation": b_notice_no_explanation,
    "previous_notice_line": b_previous_notice_line,
    "previous_no_explanation": b_previous_no_explanation,
    "agenda_progress": b_agenda_progress,
    "agenda_behind": b_agenda_behind,
    "agenda_overdue": b_agenda_overdue,
    "agenda_disputed": b_agenda_disputed,
    "agenda_decisions": b_agenda_decisions,
    "agenda_next": b_agenda_next,
}


def brief_kinds(r: Rec) -> Counter[str]:
    """The brief's sentence kinds the record calls for, each as many times as it should appear."""
    loaded = _loaded(r)
    lead = "progress_lead" if loaded or not r.tasks else "progress_unloaded"
    k: Counter[str] = Counter({"editor_note": 1, lead: 1, "agenda_progress": 1, "agenda_next": 1})
    targets = r.plan["spec"].get("targets") or []
    if targets:
        k.update({"progress_targets": 1, "progress_target": len(targets)})
    for t in loaded:
        if t["zones_target"]:
            k["progress_zones" if t["zones_done"] else "progress_zones_none"] += 1
    if loaded:
        k["progress_new" if any(t["new"] for t in r.tasks) else "progress_new_none"] += 1
    if r.claims:
        k["progress_claims"] += 1
    if not r.zones:
        k["zones_none"] += 1
    else:
        quiet = _quiet(r)
        k[
            "zones_all_reported" if not quiet else "zones_all_quiet" if len(quiet) == len(r.zones) else "zones_quiet"
        ] += 1
        news = sum(1 for z in r.zones if z["reports"])
        k.update({"zone_news": news} if news else {"zone_news_none": 1})
        if r.leaders:
            k["leader_line"] += len(r.leaders)
            k["leader_latest"] += sum(1 for ld in r.leaders if ld["own"])
            for ld in r.leaders:
                counted = _leader_figures(r, {"values": {"member_id": ld["id"]}})
                if counted["own"] or ld["asked"]:
                    k["leader_own" if counted["own"] else "leader_own_none"] += 1
                k["leader_area" if counted["reports"] else "leader_area_none"] += 1
                if counted["moves"]:
                    k["leader_moves"] += 1
                k["leader_open" if counted["open"] else "leader_open_none"] += 1
        else:
            k["leaders_none"] += 1
    c = _problem_counts(r)
    k["problems_lead" if c["new"] or c["resolved"] else "problems_lead_none"] += 1
    if r.open_ids:
        k["problems_oldest"] += 1
        if len(r.open_ids) > 1:
            k["problems_oldest_more"] += 1
    else:
        k["problems_none_open"] += 1
    if r.behind:
        k["units_behind"] += 1
    if r.handovers:
        k["units_handovers"] += 1
        k["units_handovers_item"] += len({u for u, _ in r.handovers})
    m = r.last_meeting
    if m is None:
        k["decisions_none"] += 1
    else:
        done = sum(1 for d in m["rows"] if d["done"])
        k[
            "decisions_lead_empty"
            if not m["rows"]
            else "decisions_lead_all_done"
            if done == len(m["rows"])
            else "decisions_lead"
        ] += 1
        if any(d["overdue"] for d in m["rows"]):
            k["agenda_decisions"] += 1
    current = r.notices(False)
    if not current:
        k["notices_none"] += 1
    for n in r.notices(True):
        if n["explained"]:
            k.update({"previous_notice_line": 1, "notice_explanation": len(n["explained"])})
        elif n["findings"]:
            k["previous_no_explanation"] += 1
    for n in current:
        named = _named(n)
        k["notice_line" if named else "notice_line_none"] += 1
        k["notice_finding"] += len({s for _, s in n["findings"]})
        k["notice_explanation"] += len(n["explained"])
        explained = {u for u, _ in n["explained"]}
        if [u for u in named if u not in explained]:
            k["notice_missing_explanations" if explained else "notice_no_explanation"] += 1
    if _behind_tasks(r):
        k["agenda_behind"] += 1
    if c["overdue"]:
        k["agenda_overdue"] += 1
    if c["disputed"]:
        k["agenda_disputed"] += 1
    return k


SECTIONS = [
    "总体进展",
    "整合区和包联领导工作动态",
    "问题办理情况",
    "各单位履职情况",
    "上次会议议定事项落实情况",
    "通报及情况说明",
    "下次会议建议议题",
]


def check_brief_structure(r: Rec, ctx: dict[str, Any], data: dict[str, Any]) -> None:
    """Headings (h_*) only with their sections, in order; each table's rows as the record has them."""
    sections = ctx["sections"]
    assert [s["heading"] for s in sections] == SECTIONS
    assert all(s["paragraphs"] for s in sections), "a heading over an empty section"
    zones = sections[1]
    if r.zones:
        assert [s["heading"] for s in zones["subsections"]] == ["整合区动态", "包联领导工作情况"]
        assert all(s["paragraphs"] for s in zones["subsections"])
        (table,) = zones["tables"]
        assert table["rows"] == [
            [f"{z['seq']}号{z['name']}", z["rights"], len(z["reports"]), len(z["moves"]), len(z["open"])]
            for z in r.zones
        ]
    # 表1: each batch, a dash for a batch the ledger has not loaded; the chart, while one is loaded.
    # With none loaded, no table and no chart: the tables are numbered in the order printed.
    if not _loaded(r):
        assert sections[0]["tables"] == [] and sections[0]["charts"] == []
    else:
        (progress,) = sections[0]["tables"]
        assert progress["caption"] == "表1  各批次完成情况"
        assert [row[:4] for row in progress["rows"]] == [
            [t["name"], t["target"], "—", "—"]
            if t["unloaded"]
            else [t["name"], t["target"], len(t["done"]), len(t["new"])]
            for t in r.tasks
        ]
        assert [row[4] for row in progress["rows"]] == [expected_whole(t["expected"]) for t in r.tasks]
        assert len(sections[0]["charts"]) == 1
    captions = [t["caption"].split()[0] for s in sections for t in s.get("tables", [])]
    assert captions == [f"表{n}" for n in range(1, len(captions) + 1)], captions
    # Problems by category and by owning unit: every row as counted here, and the total row.
    c = _problem_counts(r)
    resolved_by = dict(r.resolved)
    cat_of = {p["id"]: p["category"] for p in r.problems}
    cats: dict[str, list[int]] = {}
    for name in dict.fromkeys(
        [p["category"] for p in r.problems if p["new"] or p["open"]] + [cat_of.get(p, "") for p in resolved_by]
    ):
        cats[name] = [
            sum(1 for p in r.problems if p["category"] == name and p["new"]),
            sum(1 for p in resolved_by if cat_of.get(p) == name),
            sum(1 for p in r.problems if p["category"] == name and p["open"]),
            sum(1 for p in r.problems if p["category"] == name and p["overdue"]),
        ]
    owners: dict[int, list[int]] = {}
    for p in r.problems:
        row = owners.setdefault(p["owner"], [0, 0, 0, 0]) if (p["new"] or p["open"]) else None
        if row is not None:
            row[0] += p["new"]
            row[2] += p["open"]
            row[3] += p["overdue"]
    for _, u in r.resolved:
        owners.setdefault(u, [0, 0, 0, 0])[1] += 1
    if not cats and not owners:  # no problem to count: the lead says so, with no table of zeros
        assert sections[2]["tables"] == [] and not any("逾期指" in str(p) for p in sections[2]["paragraphs"])
    else:
        by_cat, by_unit = sections[2]["tables"]
        assert {row[0]: row[1:] for row in by_cat["rows"][:-1]} == cats, (by_cat["rows"], cats)
        assert by_cat["rows"][-1] == ["合计", len(c["new"]), len(c["resolved"]), len(c["open"]), len(c["overdue"])]
        assert by_unit["rows"] == [[r.unit_name(u), *owners[u]] for u in sorted(owners)], (by_unit["rows"], owners)
    # Each unit: its reports of the quarter and hand-overs (the on-time rate: check_reporting).
    (units,) = sections[3]["tables"]
    reports = Counter(x["unit"] for x in r.reports)
    handed = Counter(u for u, _ in r.handovers)
    handled = Counter(u for _, u in r.resolved)
    listed = [u for u in r.units if r.units[u]["kind"] != "government"]
    assert [[row[0], row[1], row[3], row[5]] for row in units["rows"]] == [
        [r.unit_name(u), reports.get(u, 0), handled.get(u, 0), handed.get(u, 0)] for u in listed
    ]
    # Decisions of the last meeting, one row each.
    m = r.last_meeting
    if m and m["rows"]:
        (dec,) = sections[4]["tables"]
        assert [(row[0], row[2], row[4]) for row in dec["rows"]] == [
            (
                f"{d['id']}号",
                r.unit_name(d["owner"]) if d["owner"] else "—",
                _completion(d)
                if d["done"]
                else "逾期未完成"
                if d["overdue"]
                else "推进中（未到期）"
                if d["due"]
                else "推进中",
            )
            for d in m["rows"]
        ]
    else:
        assert not sections[4].get("tables")


def _completion(d: dict[str, Any]) -> str:
    """A done decision's cell: its day, and after its deadline the working days it was late by."""
    if not d["late"]:
        return f"已完成（{cn(d['done_on'])}）"
    late = f"{d['late_days']}个工作日" if d["late_days"] else "不足1个工作日"
    return f"已完成（{cn(d['done_on'])}，逾期{late}）"


def check_brief(r: Rec, ctx: dict[str, Any], data: dict[str, Any]) -> set[str]:
    """Every fact of the brief through its kind's check; the kinds as the record calls for them."""
    kinds = Counter(f["kind"] for f in ctx["facts"])
    missing = set(kinds) - set(BRIEF_CHECKS)
    assert not missing, f"brief sentence kinds with no check: {missing}"
    for f in ctx["facts"]:
        BRIEF_CHECKS[f["kind"]](r, f)
    assert kinds == brief_kinds(r), (kinds, brief_kinds(r))
    check_brief_structure(r, ctx, data)
    return set(kinds)


def check_brief_summary(r: Rec, summary: str) -> None:
    """The chat text sent with the brief: its problems line and the oldest open problem, as counted here."""
    c = _problem_counts(r)
    new, resolved, still, late = (len(c[k]) for k in ("new", "resolved", "open", "overdue"))
    line = f"问题：本期新增{new}个，办结{resolved}个；" if new or resolved else "问题：本期没有新增和办结的问题；"
    if not still:
        line += "期末没有未关闭的问题。"
    else:
        line += f"期末未关闭{still}个，" + (f"其中逾期{late}个。" if late else "均未逾期。")
    if r.open_ids:
        p = _oldest(r, r.open_ids[0])
        line += f"最久未关闭：{p['id']}号问题（{r.unit_name(p['owner'])}）。"
    assert line in summary.splitlines(), (line, summary)
    if r.tasks and not _loaded(r):
        progress = "台账尚未载入各批次的矿业权"
    else:
        progress = "；".join(
            f"{t['name']}（台账尚未载入）"
            if t["unloaded"]
            else f"{t['name']}{len(t['done'])}/{t['target']}{t['measure']}"
            for t in r.tasks
        )
    assert f"进展：{progress}" in summary.splitlines(), summary


# --- The notice draft ----------------------------------------------------------------------------------


class NoticeRec:
    """The notice's retained findings, read here (rule order, then unit, then id)."""

    def __init__(self, r: Rec, notice_id: int) -> None:
        rows = r.sql(
            "SELECT id, unit_id, rule, summary FROM noticefinding WHERE notice_id = :n AND dropped = 0", n=notice_id
        )
        self.findings = sorted(rows, key=lambda x: (RULES.index(x[2]), x[1], x[0]))
        self.units = list(dict.fromkeys(u for _, u, _, _ in self.findings))
        self.rules = [rule for rule in RULES if any(x[2] == rule for x in self.findings)]

    def group(self, rule: str) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for x in self.findings:
            if x[2] == rule:
                out.setdefault(x[3], []).append(x)
        return out


def n_opening(r: Rec, n: NoticeRec, f: dict[str, Any]) -> None:
    assert n.findings and f["ids"]["unit"] == n.units and f["ids"]["finding"] == [x[0] for x in n.findings], f
    assert f["values"]["n"] == len(n.units) and f["values"]["rules"] == n.rules, f
    kinds = "".join(f"“{RULE_LABELS[rule]}”" for rule in n.rules)
    head = f"{LABEL}，依据联席会议工作记录，{r.plan['short']}工作中有{len(n.units)}个单位存在{kinds}问题。"
    assert f["text"].startswith(head), (f["text"], head)


def n_opening_none(r: Rec, n: NoticeRec, f: dict[str, Any]) -> None:
    assert (
        not n.findings
        and f["text"] == f"{LABEL}，经核查联席会议工作记录，{r.plan['short']}工作本期没有需要通报的单位。"
    ), f


def _unit_item(r: Rec, group: list[Any]) -> str:
    return "、".join(dict.fromkeys(r.units[x[1]]["name"] for x in group)) + "：" + group[0][3]


def n_unit_item(r: Rec, n: NoticeRec, f: dict[str, Any]) -> None:
    group = n.group(f["values"]["rule"])[f["values"]["summary"]]
    assert f["ids"]["finding"] == [x[0] for x in group] and f["ids"]["unit"] == [x[1] for x in group], f
    assert f["text"] == _unit_item(r, group), f


def n_rule_line(r: Rec, n: NoticeRec, f: dict[str, Any]) -> None:
    i = CN_NUM.index(f["values"]["num"])
    rule = n.rules[i]
    items = "；".join(_unit_item(r, g) for g in n.group(rule).values())
    assert f["ids"]["finding"] == [x[0] for x in n.findings if x[2] == rule], f
    assert f["text"] == f"{CN_NUM[i]}、{RULE_LABELS[rule]}。{items}。", f


def n_closing(r: Rec, n: NoticeRec, f: dict[str, Any]) -> None:
    days = int((r.plan["spec"].get("thresholds") or {}).get("explanation_days", 5))
    assert n.findings and f["ids"]["unit"] == n.units and f"本通报印发之日起{days}个工作日内" in f["text"], f


NOTICE_CHECKS: dict[str, Callable[[Rec, NoticeRec, dict[str, Any]], None]] = {
    "opening": n_opening,
    "opening_none": n_opening_none,
    "unit_item": n_unit_item,
    "rule_line": n_rule_line,
    "closing": n_closing,
    # report_to (the 报 line naming a league's 问题解决不积极、不明显) needs a region plan:
    # tests/test_region_notice.py::test_a_region_past_its_deadline_is_named_and_the_notice_is_reported_up.
}


FINDINGS_SEEN: Counter[str] = Counter()  # per basis, the examples whose record called for it


def cite_problems(ids: list[int], total: int) -> str:
    """A finding's citation, written here: 3号问题; 3号、5号问题; 3号、5号…等7个问题 (five numbers at most)."""
    head = "、".join(f"{i}号" for i in ids[:SHOWN])
    return f"{head}等{total}个问题" if total > min(len(ids), SHOWN) else f"{head}问题"


def median(values: list[int]) -> float:
    v, n = sorted(values), len(values)
    return float(v[n // 2]) if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def slow_accept(r: Rec) -> dict[int, str]:
    """接收用时: per unit whose median wait for a first response is past the plan's limit, the reason."""
    limit = float(thresholds(r)["median_accept_days"])
    waits: dict[int, list[int]] = {}
    running: dict[int, int] = {}  # waits with no response by the quarter's end
    for sp in r.spells:
        if sp["waiting"]:
            waits.setdefault(sp["unit"], []).append(sp["days"])
            running[sp["unit"]] = running.get(sp["unit"], 0) + sp["running"]
    out = {}
    for unit, days in waits.items():
        m = median(days)
        if m > limit:
            # The median's rule, said with the limit it went past (a single wait has no 中位数); a wait
            # with no response yet is one the unit has not answered, never one it answered late.
            if len(days) == 1:
                how = "仍未作出响应" if running[unit] else "才作出响应"
                out[unit] = f"问题交办后{int(m)}个工作日{how}，超过{limit:g}个工作日"
            else:
                still = f"，其中{running[unit]}次尚未作出响应" if running[unit] else ""
                out[unit] = f"交办问题{len(days)}次，作出响应的用时中位数为{m:g}个工作日，超过{limit:g}个工作日{still}"
                WAITS_CITED["summary_still"] += bool(still)
    return out


ACCEPT_CITED = re.compile(
    r"^(?:(\d+)号问题|交办问题(\d+)次（(涉及)?((?:\d+号、)*\d+号)问题(等)?）)(?=交办后|，作出响应)"
)


def uncite_waits(r: Rec, unit: int, reason: str) -> str:
    """A slow acceptance's summary with its citation checked against the unit's waits (recounted
    from the spells) and taken out, to compare with `slow_accept`: the one problem of a single
    wait; else only problems it waited on, all of them unless 等, and 涉及 when a problem was
    waited on more than once."""
    waited = [sp["problem"] for sp in r.spells if sp["waiting"] and sp["unit"] == unit]
    m = ACCEPT_CITED.match(reason)
    assert m, ("a slow acceptance cites its problems", reason)
    one, n, some, ids, more = m.groups()
    if one:
        assert waited == [int(one)], (reason, waited)
        WAITS_CITED["summary_one"] += 1
        return "问题" + reason[m.end() :]
    cited = [int(i) for i in ids.removesuffix("号").split("号、")]
    assert int(n) == len(waited) and len(cited) == len(set(cited)) <= 5, (reason, waited)
    assert set(cited) <= set(waited), (reason, waited)
    if more:
        WAITS_CITED["summary_some"] += 1
    else:
        assert set(cited) == set(waited), (reason, waited)
        assert bool(some) == (len(set(waited)) != len(waited)), (reason, waited)
        WAITS_CITED["summary_all"] += 1
    return f"交办问题{n}次" + reason[m.end() :]


def idle(r: Rec) -> dict[int, list[dict[str, Any]]]:
    """长期无进展: per unit, its spells of the plan's idle days or more."""
    limit = float(thresholds(r)["idle_days"])
    out: dict[int, list[dict[str, Any]]] = {}
    for sp in r.spells:
        if sp["days"] >= limit:
            out.setdefault(sp["unit"], []).append(sp)
    return out


def boomerang_blame(events: dict[int, list[dict[str, Any]]]) -> dict[int, dict[int, bool]]:
    """转出后又转回: a problem handed on by a unit that came back to it (by a hand-over or a ruling
    from the quarter's start on), blamed on the unit last ruled responsible, else the one that first
    handed it on; only if that unit handed it on without a reason the office accepted. Per unit: its
    problems, each with whether the office ruled on it."""
    blamed: dict[int, dict[int, bool]] = {}
    for pid, evs in events.items():
        hands = [e for e in evs if e["kind"] == "handed_over"]
        back = any(
            e["kind"] in ("handed_over", "ruled")
            and e["at"] >= START_AT
            and any(h["fr"] == e["to"] and (h["at"], h["id"]) < (e["at"], e["id"]) for h in hands)
            for e in evs
        )
        if not back:
            continue
        rulings = [e for e in evs if e["kind"] == "ruled"]
        unit = max(rulings, key=lambda e: e["id"])["to"] if rulings else min(hands, key=lambda e: e["id"])["fr"]
        if any(h["fr"] == unit and not h["ok"] for h in hands):
            blamed.setdefault(unit, {})[pid] = bool(rulings)
    return blamed


def boomerangs(r: Rec) -> dict[int, str]:
    """The notice's 转出后又转回 reason per blamed unit (boomerang_blame over the quarter)."""
    out = {}
    for unit, probs in boomerang_blame(r.events).items():
        shown = sorted(probs)[:CITED]
        how = "经联席会议办公室裁定由其负责" if any(probs[p] for p in shown) else "该单位最先转出"
        out[unit] = f"{cite_problems(shown, len(probs))}转出后又转回（{how}）"
    return out


def passed_on_blame(r: Rec, events: dict[int, list[dict[str, Any]]]) -> dict[int, dict[int, int]]:
    """连续转交无单位接收: runs of the plan's count or more hand-overs with no acceptance or ruling
    between them, the run's last from the quarter's start on; each unit in it that handed on without
    an accepted reason is blamed. Per unit: its problems, each with its longest such run."""
    count = int(thresholds(r)["pass_on_count"])
    blamed: dict[int, dict[int, int]] = {}
    for pid, evs in events.items():
        if not any(e["kind"] == "handed_over" and e["at"] >= START_AT for e in evs):
            continue
        runs: list[list[dict[str, Any]]] = [[]]
        for e in evs:
            if e["kind"] in ("accepted", "ruled"):
                runs.append([])
            elif e["kind"] == "handed_over":
                runs[-1].append(e)
        for run in runs:
            if len(run) >= count and max(h["at"] for h in run) >= START_AT:
                for h in run:
                    if not h["ok"]:
                        got = blamed.setdefault(h["fr"], {})
                        got[pid] = max(got.get(pid, 0), len(run))
    return blamed


def passed_on(r: Rec) -> dict[int, str]:
    """The notice's 连续转交 reason per blamed unit (passed_on_blame over the quarter), with the
    longest run among the problems cited."""
    out = {}
    for unit, probs in passed_on_blame(r, r.events).items():
        shown = sorted(probs)[:CITED]
        most = max(probs[p] for p in shown)
        out[unit] = f"{cite_problems(shown, len(probs))}连续转交{most}次无单位接收，其转交理由未获办公室认可"
    return out


def thresholds(r: Rec) -> dict[str, Any]:
    defaults = {"median_accept_days": 5, "idle_days": 10, "pass_on_count": 3, "missed_weekly_reports": 2}
    return {**defaults, **(r.plan["spec"].get("thresholds") or {})}


IDLE_PART = re.compile(
    r"^(\d+)号问题(截至\d+年\d+月\d+日)?连续(\d+)个工作日(至今无办理动作|无办理动作|无任何办理动作)"
    r"(?:，另有(\d+)次问题办理停滞(\S+?)个工作日以上)?$"
)


def check_findings_against_record(r: Rec, n: NoticeRec) -> set[str]:
    """The slow-acceptance, idle, boomerang and passed-on reasons of the notice's findings, each
    recounted here: every unit past a rule's threshold is named with exactly the reason the
    record gives, and no other unit is named for it. Returns the bases that occurred."""
    parts: dict[tuple[int, str], list[str]] = {}
    for _, unit, rule, summary in n.findings:
        parts.setdefault((unit, rule), []).extend(summary.split("；"))
    seen: set[str] = set()
    for basis, rule, want, marker in (
        ("slow_accept", "not_solving", slow_accept(r), "作出响应"),
        ("boomerang", "shifting", boomerangs(r), "转出后又转回"),
        ("passed_on", "shifting", passed_on(r), "次无单位接收"),
    ):
        want = {u: t for u, t in want.items() if r.named_for(u)}
        said = {u: p for (u, ru), ps in parts.items() if ru == rule for p in ps if marker in p}
        if basis == "slow_accept":
            said = {u: uncite_waits(r, u, p) for u, p in said.items()}
        assert said == want, (basis, said, want)
        seen |= {basis} if want else set()
    spells = {u: v for u, v in idle(r).items() if r.named_for(u)}
    said_idle = {u: p for (u, ru), ps in parts.items() if ru == "not_solving" for p in ps if IDLE_PART.match(p)}
    assert set(said_idle) == set(spells), (said_idle, spells)
    for unit, text_ in said_idle.items():
        m = IDLE_PART.match(text_)
        assert m is not None
        pid, until, days, tail, others, limit = m.groups()
        longest = max(sp["days"] for sp in spells[unit])
        assert int(days) == longest, (text_, spells[unit])
        # The quarter has ended: a spell running at its end is counted to its last day and said so
        # (截至2026年3月31日…无办理动作), never 至今; one an action ended has no date.
        running = (until, tail) == (f"截至{cn(Q_END)}", "无办理动作")
        assert running or (until, tail) == (None, "无任何办理动作"), text_
        assert any(
            sp["problem"] == int(pid) and sp["days"] == longest and sp["running"] == running for sp in spells[unit]
        ), (text_, spells[unit])
        assert int(others or 0) == len(spells[unit]) - 1, (text_, spells[unit])
        assert others is None or limit == f"{float(thresholds(r)['idle_days']):g}", text_
        seen.add("idle")
    return seen


def check_notice(r: Rec, notice_id: int, facts: list[dict[str, Any]], missed: dict[int, int]) -> set[str]:
    """Every fact of the draft through its kind's check, and its findings against the record: a
    unit named for N weeks without a report missed exactly N reporting weeks by the test's count
    (`missed`), and every unit past the plan's threshold is named for it."""
    n = NoticeRec(r, notice_id)
    kinds = Counter(f["kind"] for f in facts)
    missing = set(kinds) - set(NOTICE_CHECKS)
    assert not missing, f"notice sentence kinds with no check: {missing}"
    for f in facts:
        NOTICE_CHECKS[f["kind"]](r, n, f)
    want: Counter[str] = Counter()
    if n.findings:
        want.update({"opening": 1, "closing": 1, "rule_line": len(n.rules)})
        want["unit_item"] = sum(len(n.group(rule)) for rule in n.rules)
    else:
        want["opening_none"] = 1
    assert kinds == want, (kinds, want)
    threshold = int((r.plan["spec"].get("thresholds") or {}).get("missed_weekly_reports", 0) or 0)
    said: dict[int, int] = {}
    for _, unit, rule, summary in n.findings:
        m = re.search(r"(\d+)周未报送工作进展", summary)
        if m:
            assert rule == "slow"
            said[unit] = int(m.group(1))
    if threshold:
        assert said == {u: k for u, k in missed.items() if k >= threshold}, (said, missed, threshold)
    # N个问题逾期未办结 with no 办结 said: the unit has no problem 办结 in the quarter
    # (Rec.resolved: standing resolved or closed at its end by a resolution made in it).
    mine: dict[int, list[int]] = {}
    for p, u in r.resolved:
        mine.setdefault(u, []).append(p)
    for _, unit, _, summary in n.findings:
        for part in summary.split("；"):
            if re.match(r"\d+个问题逾期未办结", part):
                assert unit not in mine, (summary, r.resolved)
            # What 办结 is counted over is said (办结和逾期未办结的问题), never 负责 alone.
            assert "本期负责的" not in part, summary
        # 仅办结N个（cited，占x%） only of a unit that resolved some, N and the problems those 办结 by
        # it: none resolved is 均未办结, never 仅办结0个（0%）.
        for done, which in re.findall(r"仅办结(\d+)个（([^，）]+)，占", summary):
            assert int(done) == len(mine.get(unit, [])) > 0, (summary, r.resolved)
            assert which == cited(sorted(mine[unit]), "问题", "个"), (summary, r.resolved)
        assert len(re.findall(r"仅办结", summary)) == len(re.findall(r"仅办结\d+个（[^，）]+，占", summary)), summary
    # Shifting: each problem a unit is named for 退回…仍由其负责 was declined by it and ruled back to it.
    for _, unit, _, summary in n.findings:
        for part in re.findall(r"退回([^，]+)，经联席会议办公室裁定仍由其负责", summary):
            for pid in re.findall(r"(\d+)号", part):
                rows = r.sql(
                    "SELECT kind, to_unit_id, actor_unit_id FROM problemevent WHERE problem_id = :p "
                    "AND kind IN ('declined', 'ruled') AND at < :e ORDER BY at, id",
                    p=int(pid),
                )
                assert any(
                    k == "declined" and a == unit and any(k2 == "ruled" and t2 == unit for k2, t2, _ in rows[i + 1 :])
                    for i, (k, _, a) in enumerate(rows)
                ), (summary, rows)
    FINDINGS_SEEN.update({"quarters", *check_findings_against_record(r, n)})
    return set(kinds)


# How a member without a name is called, by role: the unit and this word (旗林草局联络员).
ROLE_WORDS = {
    "contact": "联络员",
    "office": "工作人员",
    "convener": "召集人",
    "zone_leader": "包联领导",
    "supervisor": "督导组成员",
    "admin": "管理员",
}
WHO_SEEN: Counter[str] = Counter()  # annex rows whose who was recounted, by the kind of person


def event_who(r: Rec, event_id: int) -> str:
    """Who did a problem event, recounted from its rows: the unit 的 the member (旗林草局的联络员3,
    旗应急管理局（矿山安全监管局）的联络员1), a nameless member the unit and role (the only one of
    that role in the unit here), the unit alone without a member, 系统 without either."""
    ((member, name, role, unit_id, unit),) = r.sql(
        "SELECT e.actor_member_id, m.name, m.role, m.unit_id, u.name FROM problemevent e "
        "LEFT JOIN member m ON m.id = e.actor_member_id LEFT JOIN unit u ON u.id = e.actor_unit_id WHERE e.id = :e",
        e=event_id,
    )
    unit = unit or ""
    if member is None:
        return unit or "系统"
    if not (name or "").strip():
        (n,) = r.sql(
            "SELECT COUNT(*) FROM member WHERE unit_id = :u AND role = :r AND TRIM(name) = ''", u=unit_id, r=role
        )[0]
        assert n == 1, (unit, role, n)
        WHO_SEEN["nameless"] += 1
        return unit + ROLE_WORDS[role]
    WHO_SEEN["bracketed" if unit.endswith("）") else "named"] += 1
    return f"{unit}的{name.strip()}" if unit and name.strip() != unit else unit or name.strip()


def check_annex_who(r: Rec, notice_id: int, tables: list[dict[str, Any]]) -> None:
    """The notice's 附件: one table per retained finding (rule order, then unit), one row per
    evidence item of the finding (an event once, though two bases cite it); an event's 经办单位及人员
    is who did it (event_who), any other item's the finding's unit."""
    findings = NoticeRec(r, notice_id).findings
    assert len(tables) == len(findings), (len(tables), findings)
    for (fid, unit, _, _), table in zip(findings, tables, strict=True):
        ((raw,),) = r.sql("SELECT evidence FROM noticefinding WHERE id = :f", f=fid)
        items = json.loads(raw) if isinstance(raw, str) else raw
        seen: set[str] = set()
        kept = []
        for item in items:
            key = (
                f"event:{item['event_id']}"
                if "event_id" in item
                else json.dumps({k: v for k, v in item.items() if k != "basis"}, sort_keys=True, ensure_ascii=False)
            )
            if key not in seen:
                seen.add(key)
                kept.append(item)
        # In time order: an event at its minute, a dated item after that day's events, undated last.
        kept.sort(key=annex_when)
        assert len(kept) == len(table["rows"]), (kept, table)
        for item, row in zip(kept, table["rows"], strict=True):
            want = event_who(r, int(item["event_id"])) if "event_id" in item else r.units[int(unit)]["name"]
            assert row[1] == want, (row, want, item)
            if item.get("kind") == "response_waits":
                check_waits_cited(r, int(unit), item, row)


def annex_when(item: dict[str, Any]) -> tuple[str, str]:
    if "event_id" in item:
        return (str(item["at"])[:10], str(item["at"])[11:16])
    for key in ("from", "since", "due_on", "as_of"):
        if item.get(key):
            return (str(item[key])[:10], "~")  # "~" sorts after every HH:MM
    return ("9999", "")


def check_waits_cited(r: Rec, unit: int, item: dict[str, Any], row: list[str]) -> None:
    """A slow acceptance's row names the problems the unit waited on (recounted from the spells):
    only those, all of them when the item says so, and 等 when it does not name them all; dated
    by the days its waits span, from the first handing-over to the last response, or as of the
    quarter's last day when a wait is still running."""
    waits = [sp for sp in r.spells if sp["waiting"] and sp["unit"] == unit]
    waited = [sp["problem"] for sp in waits]
    ids = [int(i) for i in item["problem_ids"]]
    assert ids and set(ids) <= set(waited), (ids, waited)
    if item["all_problems"]:
        assert set(ids) == set(waited), (ids, waited)
    text_ = row[2]
    for pid in ids[:5]:
        assert re.search(rf"(?<!\d){pid}号", text_), (pid, text_)
    assert ("问题等" in text_) == (not item["all_problems"] or len(ids) > 5), (item, text_)
    # A wait with no response by the quarter's end is said to be one, never a response that came.
    still = sum(sp["running"] for sp in waits)
    if len(waits) == 1:
        assert ("仍未作出响应" if still else "才作出响应") in text_, (text_, waits)
    else:
        assert (f"，其中{still}次截至{cn(Q_END)}尚未作出响应。" in text_) == bool(still), (text_, waits)
    WAITS_CITED["row_still" if still else "row_answered"] += 1
    if any(sp["running"] for sp in waits):
        assert row[0] == f"截至{cn(Q_END)}", row
        WAITS_CITED["dated_as_of"] += 1
    else:
        first, last = min(sp["first"] for sp in waits), max(sp["last"] for sp in waits)
        assert row[0] == (cn(first) if first == last else f"{cn(first)}至{cn(last)}"), (row, waits)
        WAITS_CITED["dated_span"] += 1
    WAITS_CITED["all" if item["all_problems"] else "some"] += 1


WAITS_CITED: Counter[str] = Counter()  # slow acceptances whose cited problems were recounted


# --- The review --------------------------------------------------------------------------------------------


REVIEW_INDICATORS = ("reporting", "progress", "response", "resolution", "shifting")
DEFAULT_WEIGHTS = {"reporting": 15, "progress": 35, "response": 20, "resolution": 20, "shifting": 10}
H1_FIRST, H1_LAST = date(2026, 1, 1), date(2026, 6, 30)


def review_pct(v: float | None) -> str:
    """An indicator as the review's table prints it: the share to three places, as a whole percentage."""
    return "—" if v is None else f"{round(v, 3) * 100:.0f}%"


def review_points(v: float | None) -> str:
    return "不参评" if v is None else f"{round(v, 1):.1f}"


def half_rate(r: Rec, start: date | None, days: set[date]) -> float | None:
    """On-time rate over the half's Monday–Sunday weeks (clipped to the half) that ended by the
    review's moment and have a working day from `start` on: weeks with a report day / those
    weeks; None when none was due (or the reporter never could act)."""
    if start is None:
        return None
    today = local_day(r.now)
    due = got = 0
    a = H1_FIRST
    while a <= H1_LAST:
        b = min(a + timedelta(days=6 - a.weekday()), H1_LAST)
        if start <= b < today and any(
            r.workday(max(a, start) + timedelta(days=k)) for k in range((b - max(a, start)).days + 1)
        ):
            due += 1
            got += any(a <= d <= b for d in days)
        a = b + timedelta(days=1)
    return got / due if due else None


def weighted(parts: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """Out of 100: the indicators that apply, each by its weight, the weights scaled to those
    (不适用的指标不计入，权重按比例折算); None when none applies."""
    used = {k: v for k, v in parts.items() if v is not None and weights.get(k)}
    total = sum(weights[k] for k in used)
    return 100 * sum(weights[k] * v for k, v in used.items()) / total if total else None


def review_scores(r: Rec) -> dict[str, list[dict[str, Any]]]:
    """The half-year review's scores recounted from the record as of the review's moment (工作问效,
    oversight/review.py's rules read, not called), in the order the tables rank them.

    Units: each member unit with a part in a task, a problem it owned (resolved in the half, or
    unresolved past a deadline that fell when it could act), a wait for its response, a shifting
    instance or a deduction in the ledger. Indicators (None: does not apply): 进展报送 the on-time
    rate from the first working day it had a department contact (a tasked unit with none, or a unit
    with no task, is 不参评 on it); 任务进度 the mean over its tasks the timeline expects something
    of between the day it could act and now of the share added in that time / the share expected to
    be added (at most 1), lag from before it could act not its own;
    问题响应 responses within the plan's days of those that can be judged (answered, or waiting past
    the limit); 问题办结 resolved / owned; 推诿扯皮 1 − ⅓ per instance (a boomerang blamed on it, a
    problem it declined that the office ruled back to it, a problem it passed on in a run with
    nobody accepting), only for a unit that had something it could shift. The score weighs the
    indicators that apply; nothing applies: 不参评. The total is the score less the deductions of
    its items missed and not rectified, and of its items closed on evidence another item used.

    Zone leaders: their own weekly reports from when they joined, and 任务进度 counted as a unit's
    is, each zone from the first working day the leader had it (the later of the day they joined and
    the day the zone was put in their charge, its audit row; none: the join), not before tracking
    began: per task with rights in their zones, the rights done since against the share the timeline
    expected to be added since, each zone weighing by its rights (at most 1; nothing expected: the
    task does not count)."""
    t = thresholds(r)
    spec = r.plan["spec"]
    weights = {**DEFAULT_WEIGHTS, **(spec.get("review_weights") or {})}
    now_text = r.now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    today = local_day(r.now)
    events = r.events_until(r.now)
    # Spells end on the review's day while they run (as of the moment, that day is under way).
    spells = r.spells_until(events, r.now, local_day(r.now - timedelta(seconds=1)))
    member_units = {u for u, x in r.units.items() if x["kind"] not in ("office", "government")}

    # Tasks: parts, the expected share by now (to four places, as the plan's schedule is kept) and the done rights.
    import json

    done = r.done_rights(now_text)
    phases = dict(r.sql("SELECT key, start FROM phase WHERE plan_id = :plan"))
    issued = r.sql("SELECT issued_on FROM plan WHERE id = :plan")[0][0]
    schedules = r.sql("SELECT id, target, phase, schedule FROM task WHERE plan_id = :plan ORDER BY seq")

    listed = {t for (t,) in r.sql("SELECT DISTINCT task_id FROM rightbatch")}

    def tasks_on(day: date) -> dict[int, dict[str, Any]]:
        """Per task as the day `day` begins: the share its timeline expects (to four places) and the rights done."""
        midnight = datetime.combine(day, datetime.min.time(), SH).astimezone(UTC)
        done_then = r.done_rights(midnight.strftime("%Y-%m-%d %H:%M:%S.%f"))
        out = {}
        for tid, _target, phase, schedule in schedules:
            points = json.loads(schedule) if isinstance(schedule, str) else schedule
            start = phases.get(phase) or issued
            share = expected_share(points or [], day, date.fromisoformat(str(start)[:10]) if start else None)
            if tid not in listed:  # the ledger lists no right of the batch: nothing expected of it
                share = None
            ids = done_then.get(tid, set())
            out[tid] = {"share": None if share is None else round(share, 4), "done": len(ids), "ids": ids}
        return out

    now_tasks = tasks_on(today)
    tasks = [{"id": tid, "target": target, "share": now_tasks[tid]["share"]} for tid, target, _, _ in schedules]
    parts_of: dict[int, set[int]] = {}
    for tid, unit in r.sql(
        "SELECT p.task_id, p.unit_id FROM taskunit p JOIN task t ON t.id = p.task_id WHERE t.plan_id = :plan"
    ):
        parts_of.setdefault(unit, set()).add(tid)

    # Problems as of the moment: the owner (the last assignment, hand-over or ruling), the state
    # (the last state event) and the deadline.
    due_on = {
        pid: date.fromisoformat(str(d)[:10]) if d else None
        for pid, d in r.sql("SELECT id, due_on FROM problem WHERE plan_id = :plan")
    }
    state_kinds = ("assigned", "accepted", "handed_over", "declined", "ruled", "resolved", "confirmed", "reopened")
    owned: Counter[int] = Counter()
    resolved: Counter[int] = Counter()
    resolved_ids: dict[int, list[int]] = {}
    for pid, evs in sorted(events.items()):
        owners = [e for e in evs if e["kind"] in ("assigned", "handed_over", "ruled")]
        states = [e for e in evs if e["kind"] in state_kinds]
        if not owners or not states:
            continue
        owner, last = owners[-1]["to"], states[-1]
        if last["kind"] in ("resolved", "confirmed"):
            # 办结 in the half: the resolution that led to the state at the moment fell in it, credited
            # to the unit that resolved it; one made before the half (confirmed in it or not) is not.
            by = [e for e in evs if e["kind"] == "resolved"][-1]
            if by["at"] >= START_AT:
                owned[by["to"]] += 1
                resolved[by["to"]] += 1
                resolved_ids.setdefault(by["to"], []).append(pid)
        elif (
            last["kind"] not in ("resolved", "confirmed", "declined")
            and due_on.get(pid) is not None
            and owner in r.accountable
            and r.accountable[owner] <= due_on[pid] < today
        ):
            owned[owner] += 1

    waits: dict[int, list[dict[str, Any]]] = {}
    for sp in spells:
        if sp["waiting"]:
            waits.setdefault(sp["unit"], []).append(sp)

    shifting: Counter[int] = Counter()
    for unit, probs in boomerang_blame(events).items():
        shifting[unit] += len(probs)
    for unit, probs in passed_on_blame(r, events).items():
        shifting[unit] += len(probs)
    ruled_back: dict[int, set[int]] = {}
    for pid, evs in events.items():
        for i, e in enumerate(evs):
            back = e["kind"] == "ruled" and e["at"] >= START_AT and e["fr"] == e["to"]
            if back and any(d["kind"] == "declined" and d["fr"] == e["to"] and d["id"] < e["id"] for d in evs[:i]):
                ruled_back.setdefault(e["to"], set()).add(pid)
    for unit, probs in ruled_back.items():
        shifting[unit] += len(probs)

    deductions: dict[int, float] = {}
    for unit, points, misses, state in r.sql(
        "SELECT unit_id, deduction, misses, state FROM rectificationitem WHERE plan_id = :plan"
    ):
        if misses and state in ("open", "reopened"):
            deductions[unit] = deductions.get(unit, 0.0) + float(points)
    same: dict[str, set[int]] = {}
    for item, h in [
        *r.sql(
            "SELECT f.item_id, f.evidence_hash FROM rectificationfollowup f JOIN rectificationitem i ON i.id = f.item_id "
            "WHERE i.plan_id = :plan AND f.kind = 'closed' AND f.evidence_hash <> ''"
        ),
        *r.sql(
            "SELECT f.item_id, a.sha256 FROM attachment a JOIN rectificationfollowup f ON f.id = a.rectification_followup_id "
            "JOIN rectificationitem i ON i.id = f.item_id WHERE i.plan_id = :plan AND f.kind = 'closed'"
        ),
    ]:
        same.setdefault(h, set()).add(item)
    flagged = {i for ids in same.values() if len(ids) > 1 for i in ids}
    for item, unit, points, state in r.sql(
        "SELECT id, unit_id, deduction, state FROM rectificationitem WHERE plan_id = :plan"
    ):
        if item in flagged and state in ("closed", "rechecked"):
            deductions[unit] = deductions.get(unit, 0.0) + float(points)

    limit = float(t["median_accept_days"])
    involved = set(parts_of) | set(owned) | set(waits) | set(shifting) | set(deductions)
    reported: dict[int, set[date]] = {}
    by_member: dict[int, set[date]] = {}
    for unit, member, at_ in r.sql("SELECT unit_id, member_id, created_at FROM report WHERE plan_id = :plan"):
        reported.setdefault(unit, set()).add(local_day(at_))
        if member is not None:
            by_member.setdefault(member, set()).add(local_day(at_))
    units = []
    for unit in sorted(involved & member_units):
        since = r.accountable.get(unit)
        # Each task from the day the unit could act: the share added since against the share the
        # timeline expected to be added since (nothing expected in its time: the task does not count).
        shares = []
        if since is not None and datetime.combine(since, datetime.min.time(), SH) < r.now:
            before = tasks_on(since)
            for task in tasks:
                if task["id"] not in parts_of.get(unit, set()) or task["share"] is None or not task["target"]:
                    continue
                then = before[task["id"]]
                expected = task["share"] - (then["share"] or 0.0)
                added = (len(done.get(task["id"], set())) - then["done"]) / task["target"]
                if expected > 0:
                    shares.append(min(1.0, max(0.0, added) / expected))
        # 进展报送: asked of a tasked unit only once it has a contact, from that contact's first working day.
        asked = unit in parts_of and unit in r.reporting_accountable
        mine = waits.get(unit, [])
        met = sum(1 for sp in mine if not sp["running"] and sp["days"] <= limit)
        judged = met + sum(1 for sp in mine if sp["days"] > limit)
        parts: dict[str, float | None] = {
            "reporting": half_rate(r, r.reporting_accountable[unit], reported.get(unit, set())) if asked else None,
            "progress": sum(shares) / len(shares) if shares else None,
            "response": met / judged if judged else None,
            "resolution": resolved[unit] / owned[unit] if owned[unit] else None,
            "shifting": max(0.0, 1 - shifting[unit] / 3) if judged or owned[unit] or shifting[unit] else None,
        }
        score = weighted(parts, weights)
        deduction = deductions.get(unit, 0.0)
        units.append(
            {
                "unit": unit,
                "parts": parts,
                "asked": asked,
                # No part in any task: scored on its problems alone, listed apart and not ranked.
                "tasked": unit in parts_of,
                "owned": owned[unit],
                "resolved_ids": resolved_ids.get(unit, []),
                "score": score,
                "deduction": deduction,
                "total": None if score is None else round(score - deduction, 1),
            }
        )
    scored = sorted((u for u in units if u["total"] is not None), key=lambda u: (-u["total"], u["unit"]))
    idle = [u for u in units if u["total"] is None]
    # Ranked: the units with a part in a task; then those scored on problems alone; then 不参评.
    units = [u for u in scored if u["tasked"]] + [u for u in scored if not u["tasked"]] + idle

    zone_names = {z["id"]: f"{z['seq']}号{z['name']}" for z in r.zones}
    zone_rights: dict[tuple[int, int], list[int]] = {}
    for right, zone, task in r.sql(
        'SELECT g.id, g.zone_id, b.task_id FROM "right" g JOIN rightbatch b ON b.right_id = g.id '
        "WHERE g.plan_id = :plan AND g.zone_id IS NOT NULL"
    ):
        zone_rights.setdefault((zone, task), []).append(right)
    led: dict[int, dict[str, Any]] = {}
    for mid, name, joined, role, zone in r.sql(
        "SELECT m.id, m.name, m.joined_at, m.role, l.zone_id FROM member m JOIN zoneleader l ON l.member_id = m.id "
        "WHERE m.plan_id = :plan AND m.active ORDER BY m.id, l.zone_id"
    ):
        led.setdefault(mid, {"name": name, "joined": joined, "role": role, "zones": []})["zones"].append(zone)
    charged: dict[tuple[int, int], date] = {}
    for at_, zone, detail in r.sql(
        "SELECT at, object_id, detail FROM auditlog WHERE action = 'zone.leader_assigned' AND object_type = 'zone'"
    ):
        body = json.loads(detail) if isinstance(detail, str) else detail
        key = (int(body["member_id"]), int(zone))
        charged[key] = min(charged.get(key, local_day(at_)), local_day(at_))

    def first_workday(day: date) -> date:
        while not r.workday(day):
            day += timedelta(days=1)
        return day

    on_day: dict[date, dict[int, dict[str, Any]]] = {}
    leaders = []
    for mid, x in led.items():
        name, joined, zones = x["name"], x["joined"], sorted(x["zones"])
        start = first_workday(max(local_day(joined), r.tracked))
        since = {
            z: first_workday(max(local_day(joined), charged.get((mid, z), local_day(joined)), r.tracked)) for z in zones
        }
        shares = []
        for task in tasks:
            if task["share"] is None or not task["target"]:
                continue
            expected = added = weight = 0.0
            for z in zones:
                ids = set(zone_rights.get((z, task["id"]), []))
                if not ids or datetime.combine(since[z], datetime.min.time(), SH) >= r.now:
                    continue
                if since[z] not in on_day:
                    on_day[since[z]] = tasks_on(since[z])
                then = on_day[since[z]][task["id"]]
                n = float(len(ids))
                expected += n * (task["share"] - (then["share"] or 0.0))
                added += n * ((len(ids & done.get(task["id"], set())) - len(ids & then["ids"])) / n)
                weight += n
            if weight and expected / weight > 0:
                shares.append(min(1.0, max(0.0, added / weight) / (expected / weight)))
        parts = {
            # Only a department contact files weekly progress (domain.md); a leader of any other role
            # is not scored on it.
            "reporting": half_rate(r, start, by_member.get(mid, set())) if x["role"] == "contact" else None,
            "progress": sum(shares) / len(shares) if shares else None,
        }
        score = weighted(parts, weights)
        leaders.append(
            {
                "member": mid,
                "name": name.strip(),
                "zones": [zone_names[z] for z in zones],
                "parts": parts,
                "contact": x["role"] == "contact",
                "score": None if score is None else round(score, 1),
            }
        )
    ranked_l = sorted((ld for ld in leaders if ld["score"] is not None), key=lambda ld: (-ld["score"], ld["member"]))
    return {"units": units, "leaders": ranked_l + [ld for ld in leaders if ld["score"] is None]}


class ReviewRec:
    """What the half-year review rests on, read here: the ledger, the meetings and answers, the
    urges and 督办单, the closures with the same evidence and problems reopened soon after closing."""

    def __init__(self, r: Rec, doc: dict[str, Any]) -> None:
        self.r = r
        self.doc = doc
        now = r.now.strftime("%Y-%m-%d %H:%M:%S")
        self.items = r.sql("SELECT id, misses, state, unit_id FROM rectificationitem WHERE plan_id = :plan ORDER BY id")
        self.meetings = r.sql(
            "SELECT id, held_on FROM meeting WHERE plan_id = :plan AND circulated_at IS NOT NULL "
            "AND held_on >= '2026-01-01' AND held_on <= '2026-06-30' AND state IN ('held', 'minuted') ORDER BY held_on, id"
        )
        answers = {(m, u): s for m, u, s in r.sql("SELECT meeting_id, unit_id, state FROM meetingattendance")}
        members = [u for u, x in r.units.items() if x["kind"] not in ("government", "office")]
        # A unit was told of a meeting when one of its contacts (in chat) had joined before the meeting
        # began (its time, else its day's start in Shanghai) and was not revoked before the notice went
        # out; a unit nobody could tell is not absent.
        told = {
            (m, u)
            for m, u in r.sql(
                "SELECT DISTINCT mt.id, mb.unit_id FROM meeting mt JOIN member mb ON mb.plan_id = mt.plan_id"
                " WHERE mt.plan_id = :plan AND mb.role = 'contact' AND mb.telegram_user_id IS NOT NULL"
                " AND mb.joined_at < COALESCE(mt.starts_at, datetime(mt.held_on, '-8 hours')) AND (mb.revoked_at IS NULL OR mb.revoked_at > mt.circulated_at)"
            )
        }
        self.absent: dict[int, dict[str, Any]] = {}
        for mid, held in self.meetings:
            for u in members:
                state = answers.get((mid, u), "none")
                if state == "none" and (mid, u) not in told:
                    continue
                if state != "attend":
                    a = self.absent.setdefault(u, {"none": [], "excused": 0})
                    if state == "none":
                        a["none"].append(date.fromisoformat(str(held)[:10]))
                    else:
                        a["excused"] += 1
        end = min("2026-06-30 16:00:00", now + ".000001")
        self.urged = Counter(
            x[0]
            for x in r.sql(
                "SELECT unit_id FROM supervisionevent WHERE plan_id = :plan AND action = 'urge' AND at >= :s AND at < :x",
                x=end,
            )
        )
        self.orders = Counter(
            x[0]
            for x in r.sql(
                "SELECT unit_id FROM supervisionorder WHERE plan_id = :plan AND issued_at >= :s AND issued_at < :x",
                x=end,
            )
        )
        # The blue and yellow stages the units were told of: a supervision event of an item (not a
        # league's region item, reminded elsewhere) with a message queued under its sup:<id>: key.
        self.stages: dict[int, Counter[str]] = {}
        self.stage_ids: list[int] = []
        for eid, unit, to in r.sql(
            "SELECT e.id, e.unit_id, e.to_colour FROM supervisionevent e WHERE e.plan_id = :plan "
            "AND e.action = 'colour' AND e.to_colour IN ('blue', 'yellow') "
            "AND e.kind NOT IN ('baseline', 'first_batch') AND e.at >= :s AND e.at < :x "
            "AND EXISTS (SELECT 1 FROM outboxmessage m WHERE m.dedupe_key LIKE 'sup:' || e.id || ':%')",
            x=end,
        ):
            self.stages.setdefault(unit, Counter())[to] += 1
            self.stage_ids.append(eid)
        # 纸面销号 of the half: what happened in it, up to the review's moment (a shared evidence
        # one of whose closures falls in the half; a reopening in the half).
        start = "2025-12-31 16:00:00"
        same: dict[str, set[int]] = {}
        latest: dict[str, str] = {}
        for item, h, at_ in r.sql(
            "SELECT f.item_id, f.evidence_hash, f.at FROM rectificationfollowup f "
            "JOIN rectificationitem i ON i.id = f.item_id "
            "WHERE i.plan_id = :plan AND f.kind = 'closed' AND f.evidence_hash <> '' AND f.at < :x",
            x=end,
        ):
            same.setdefault(h, set()).add(item)
            latest[h] = max(latest.get(h, ""), str(at_))
        self.same_evidence = sorted(i for h, ids in same.items() if len(ids) > 1 and latest[h] >= start for i in ids)
        window = float((r.plan["spec"].get("thresholds") or {}).get("reopen_window_days", 30))
        self.reopened: list[int] = []
        self.reopened_text: dict[int, str] = {}  # the flag's sentence, written here
        events: dict[int, list[Any]] = {}
        last_resolved: dict[int, Any] = {}  # per problem, the unit of its latest resolution so far
        for pid, kind, at_, unit in r.sql(
            "SELECT e.problem_id, e.kind, e.at, e.to_unit_id FROM problemevent e JOIN problem p ON p.id = e.problem_id "
            "WHERE p.plan_id = :plan AND e.kind IN ('resolved', 'confirmed', 'reopened') ORDER BY e.problem_id, e.id"
        ):
            if kind == "resolved":
                last_resolved[pid] = unit
                continue
            events.setdefault(pid, []).append((kind, moment(at_), last_resolved.get(pid)))
        for pid, evs in events.items():
            evs.sort(key=lambda x: x[1])
            for (k1, t1, u1), (k2, t2, _u2) in itertools.pairwise(evs):
                soon = k1 == "confirmed" and k2 == "reopened" and t2 - t1 <= timedelta(days=window)
                if soon and moment(start) <= t2 < moment(end):
                    self.reopened.append(pid)
                    days = (t2 - t1).days
                    then = f"{cn(local_day(t2))}重新打开，相隔{days}天" if days else "不足1天即重新打开"
                    by = f"（该问题由{r.units[int(u1)]['name']}办结）" if u1 is not None and int(u1) in r.units else ""
                    self.reopened_text[pid] = f"{pid}号问题{cn(local_day(t1))}确认关闭，{then}，涉嫌纸面销号{by}。"
        self.order_rows = self._orders("issued_at >= :s AND issued_at < :x", lambda limit: True, x=end)
        # Issued in the fortnight or so before the half, with a 办结时限 in it (its first day on).
        self.carried_rows = self._orders(
            "issued_at >= :a AND issued_at < :s", lambda limit: limit >= date(2026, 1, 1), a="2025-11-30 16:00:00"
        )
        self.leaders = r.leaders
        self.leader_rows = [
            row
            for s in doc["sections"]
            if s["heading"] == "包联领导问效得分"
            for t in s.get("tables", [])
            for row in t["rows"]
        ]
        self.unit_rows = [
            row
            for s in doc["sections"]
            if s["heading"] == "成员单位问效得分"
            for t in s.get("tables", [])
            for row in t["rows"]
        ]
        self.apart_rows = [
            row
            for s in doc["sections"]
            if s["heading"] == "未承担批次任务单位问题办理得分"
            for t in s.get("tables", [])
            for row in t["rows"]
        ]
        self.scores = review_scores(r)

    @cached_property
    def to_add(self) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
        """What issuing the review adds to the ledger and it lacks: each finding of the half's
        published notices, and each indicator a unit scored below 60 % on (a figure within 1e-9 of
        60 % may fall either way: the second set). Less what the ledger holds for the half."""
        held = {(u, src) for u, src in self.r.sql(
            "SELECT unit_id, source FROM rectificationitem WHERE plan_id = :plan AND period = '2026H1'"
        )}  # fmt: skip
        sure = {
            (u, f"notice_finding:{fid}")
            for fid, u in self.r.sql(
                "SELECT f.id, f.unit_id FROM noticefinding f JOIN notice n ON n.id = f.notice_id "
                "WHERE n.plan_id = :plan AND n.period IN ('2026Q1', '2026Q2') AND n.state = 'published' AND NOT f.dropped"
            )
        }
        edge: set[tuple[int, str]] = set()
        for u in self.scores["units"]:
            for k, v in u["parts"].items():
                if v is not None and v < 0.6 + 1e-9:
                    (edge if abs(v - 0.6) < 1e-9 else sure).add((u["unit"], f"indicator:{k}"))
        return sure - held, edge - held

    def _orders(self, where: str, limited: Callable[[date], bool], **params: Any) -> list[dict[str, Any]]:
        """The 督办单 issued in the half up to the review's moment, in their issuing order, each with
        its 办结时限 (five working days of this calendar after its issuing day, unless the order
        stored its own) and its item's closure standing at that moment: a problem's last state
        event other than a confirmation being a resolution, an agreed matter done."""
        r = self.r
        as_of = min(moment("2026-06-30 16:00:00"), r.now)  # the half's end, or the review's moment before it
        last = local_day(as_of - timedelta(microseconds=1))
        rows = []
        for oid, doc_no, kind, item, unit, issued, data in r.sql(
            "SELECT id, doc_no, kind, item_id, unit_id, issued_at, data FROM supervisionorder "
            f"WHERE plan_id = :plan AND {where} ORDER BY issued_at, id",
            **params,
        ):
            stored = (json.loads(data) if isinstance(data, str) else data or {}).get("limit_on")
            if stored:
                limit = date.fromisoformat(stored)
            else:
                limit, n = local_day(issued), 0
                while n < 5:
                    limit += timedelta(days=1)
                    n += r.workday(limit)
            closed, event = None, None
            if kind == "problem":
                states = [
                    (eid, k, at_)
                    for eid, k, at_ in r.sql(
                        "SELECT id, kind, at FROM problemevent WHERE problem_id = :p AND kind IN "
                        "('assigned', 'accepted', 'handed_over', 'declined', 'ruled', 'resolved', 'reopened') "
                        "ORDER BY id",
                        p=item,
                    )
                    if moment(at_) <= as_of
                ]
                if states and states[-1][1] == "resolved":
                    closed, event = local_day(states[-1][2]), states[-1][0]
            elif kind == "decision":
                for (done,) in r.sql("SELECT done_at FROM decision WHERE id = :d AND state = 'done'", d=item):
                    if done is not None and moment(done) <= as_of:
                        closed = local_day(done)
            else:
                raise AssertionError(f"a generated 督办单 of kind {kind} has no recount")
            if closed is not None:
                state, late = ("met", 0) if closed <= limit else ("late", r.workdays_between(limit, closed))
            elif limit < local_day(as_of):
                state, late = "open", r.workdays_between(limit, last)
            else:
                state, late = "pending", 0
            title = f"{item}号问题" if kind == "problem" else f"{item}号议定事项"
            head = f"{doc_no}（{r.units[unit]['name']}，{title}）办结时限为{cn(limit)}"
            if not limited(limit):
                continue
            if closed is not None:
                said = f"{head}，{cn(closed)}办结" + (
                    "" if state == "met" else "，" + (f"逾期{late}个工作日" if late else "超过办结时限")
                )
            elif state == "open":
                said = f"{head}，截至{cn(last)}仍未办结" + (f"，已逾期{late}个工作日" if late else "")
            else:
                said = f"{head}，尚未到办结时限"
            rows.append(
                {"id": oid, "unit": unit, "kind": kind, "item": item, "state": state, "event": event, "text": said}
            )
        return rows


def _apart(u: dict[str, Any]) -> bool:
    """A unit scored on its problems alone (no part in any task): its own table, no rank."""
    return u["total"] is not None and not u["tasked"]


def v_problems_only(rv: ReviewRec, f: dict[str, Any]) -> None:
    apart = [u for u in rv.scores["units"] if _apart(u)]
    assert apart and f["ids"]["unit"] == [u["unit"] for u in apart], (f, apart)
    parts = {u for (u,) in rv.r.sql("SELECT DISTINCT unit_id FROM taskunit")}
    assert not parts & set(f["ids"]["unit"]), "a unit with a part in a task is listed apart"
    names = "、".join(rv.r.units[u["unit"]]["name"] for u in apart)
    assert f["text"] == names + "不承担批次任务，仅就交办问题的响应、办结和推诿扯皮情况评分，单独列示，不参与排名。", f


def _review_units(rv: ReviewRec, evaluated: bool) -> list[str]:
    """The units the recount scores (in rank order) or finds nothing to evaluate for (不参评)."""
    return [rv.r.units[u["unit"]]["name"] for u in rv.scores["units"] if (u["total"] is not None) == evaluated]


def _review_leaders(rv: ReviewRec, evaluated: bool) -> list[str]:
    return [ld["name"] for ld in rv.scores["leaders"] if (ld["score"] is not None) == evaluated]


def check_score_tables(rv: ReviewRec) -> None:
    """Both score tables equal the recount: each unit's (and leader's) indicators, score, deduction
    and total, 不参评 exactly where nothing applies, in rank order."""
    want = [
        [
            rv.r.units[u["unit"]]["name"],
            *(
                "不参评" if k == "reporting" and not u["asked"] else review_pct(u["parts"][k])
                for k in REVIEW_INDICATORS
            ),
            review_points(u["score"]),
            f"{round(u['deduction'], 1):.1f}",
            review_points(u["total"]),
        ]
        for u in rv.scores["units"]
        if not _apart(u)
    ]
    assert rv.unit_rows == want, (rv.unit_rows, want)
    apart = [
        [
            rv.r.units[u["unit"]]["name"],
            *(review_pct(u["parts"][k]) for k in ("response", "resolution", "shifting")),
            review_points(u["score"]),
            f"{round(u['deduction'], 1):.1f}",
            review_points(u["total"]),
        ]
        for u in rv.scores["units"]
        if _apart(u)
    ]
    assert rv.apart_rows == apart, (rv.apart_rows, apart)
    leaders = [
        [
            ld["name"],
            "、".join(ld["zones"]),
            review_pct(ld["parts"]["reporting"]) if ld["contact"] else "不参评",
            review_pct(ld["parts"]["progress"]),
            review_points(ld["score"]),
        ]
        for ld in rv.scores["leaders"]
    ]
    assert rv.leader_rows == leaders, (rv.leader_rows, leaders)
    units = rv.scores["units"]
    REVIEW_SEEN.update(
        {
            "quarters",
            *(k for k in REVIEW_INDICATORS if any(u["parts"][k] is not None for u in units)),
            *(["not_evaluated"] if any(u["total"] is None for u in units) else []),
            *(["problems_only"] if any(_apart(u) for u in units) else []),
            *(["deduction"] if any(u["deduction"] for u in units) else []),
            *(["leader_scored"] if any(ld["score"] is not None for ld in rv.scores["leaders"]) else []),
        }
    )


REVIEW_SEEN: Counter[str] = Counter()  # per part of the score tables, the examples whose record called for it


def v_summary_opening(rv: ReviewRec, f: dict[str, Any], kind: str = "summary_opening") -> None:
    units = _review_units(rv, True)
    names = [rv.r.units[u]["name"] for u in f["ids"]["unit"]]
    assert names == units, (f, units)
    assert not set(f["ids"]["unit"]) - rv.r.joined_units, "a unit scored that never had a member"
    leaders = _review_leaders(rv, True)
    by_id = {m["id"]: m["name"] for m in rv.leaders}
    assert [by_id[m] for m in f["ids"]["member"]] == leaders, (f, leaders)
    assert f["ids"]["item"] == [i for i, *_ in rv.items], f
    assert ("对整改台账进行了跟踪问效" in f["text"]) == bool(rv.items), f
    whom = "和".join(
        [*([f"{len(units)}个成员单位"] if units else []), *([f"{len(leaders)}名包联领导"] if leaders else [])]
    )
    if kind == "summary_opening":
        assert whom and f"对{whom}进行了量化评价" in f["text"], (f, whom)
    else:
        assert not whom and "本期没有参评的成员单位和包联领导" in f["text"], f


def v_not_evaluated(rv: ReviewRec, f: dict[str, Any]) -> None:
    units, leaders = _review_units(rv, False), _review_leaders(rv, False)
    assert units or leaders, f
    assert [rv.r.units[u]["name"] for u in f["ids"]["unit"]] == units, (f, units)
    assert [ld["member"] for ld in rv.scores["leaders"] if ld["score"] is None] == f["ids"].get("member", []), f
    listed = {u["unit"] for u in rv.scores["units"]}
    never = {u for u in listed if u not in rv.r.joined_units}
    assert never <= set(f["ids"]["unit"]), "a unit that never had a member is evaluated"
    assert f["text"] == "、".join([*units, *leaders]) + "本期没有可评价的事项，不参评、不排名。", f


def _low(rv: ReviewRec) -> list[dict[str, Any]]:
    return [u for u in rv.scores["units"] if u["total"] is not None and u["total"] < 60]


def _low_leaders(rv: ReviewRec) -> list[dict[str, Any]]:
    return [ld for ld in rv.scores["leaders"] if ld["score"] is not None and ld["score"] < 60]


def v_low_leaders(rv: ReviewRec, f: dict[str, Any]) -> None:
    low = {ld["member"]: ld["name"] for ld in _low_leaders(rv)}
    assert low and set(f["ids"]["member"]) == set(low), (f, low)
    assert f["text"] == "得分低于60分的包联领导：" + "、".join(low[m] for m in f["ids"]["member"]) + "。", f


def v_low_total(rv: ReviewRec, f: dict[str, Any]) -> None:
    low = [rv.r.units[u["unit"]]["name"] for u in _low(rv)]
    assert low and f["ids"]["unit"] == [u["unit"] for u in _low(rv)], (f, low)
    assert f["text"] == "总分低于60分的单位：" + "、".join(low) + "。", f


def v_units_none(rv: ReviewRec, f: dict[str, Any]) -> None:
    assert not rv.scores["units"] and f["text"] == "本期没有参加问效评价的成员单位。", f


def v_leaders_none(rv: ReviewRec, f: dict[str, Any]) -> None:
    assert not rv.leaders and f["text"] == "本期没有明确包联整合区的领导。", f


def v_ledger_none(rv: ReviewRec, f: dict[str, Any]) -> None:
    assert not rv.items and not rv.to_add[0] and f["text"] == "本期没有整改事项。", f


def v_ledger_to_add(rv: ReviewRec, f: dict[str, Any]) -> None:
    """A draft names what its issue will add (it said 本期没有整改事项 above scores that made items)."""
    sure, edge = rv.to_add
    n, units = f["values"]["n"], set(f["ids"]["unit"])
    assert len(sure) <= n <= len(sure | edge) and {u for u, _ in sure} <= units <= {u for u, _ in sure | edge}, (
        f,
        sure,
    )
    want = f"本报告印发后，{len(units)}个单位的{n}项事项列入整改台账（表中状态为“拟列入”），整改期限至2026年12月31日。"
    assert f["text"] == want, f
    rows = [
        row for s in rv.doc["sections"] if s["heading"] == "整改台账" for t in s.get("tables", []) for row in t["rows"]
    ]
    assert sum(1 for row in rows if row[-1] == "拟列入") == n, rows


def v_ledger_missed(rv: ReviewRec, f: dict[str, Any]) -> None:
    missed = [i for i, misses, *_ in rv.items if misses]
    assert missed and f["ids"]["item"] == missed, f
    assert f["text"] == f"逾期未完成整改或回头看未通过的{len(missed)}项事项已延长整改期限并加倍扣分。", f


def v_ledger_closed(rv: ReviewRec, f: dict[str, Any]) -> None:
    closed = [i for i, _, state, _ in rv.items if state == "closed"]
    assert closed and f["ids"]["item"] == closed, f
    assert f["text"] == f"已销号的{len(closed)}项事项将于回头看期限到期后回头看。", f


def v_meetings_held(rv: ReviewRec, f: dict[str, Any]) -> None:
    assert rv.meetings and f["ids"]["meeting"] == [m for m, _ in rv.meetings], f
    days = "、".join(cn(date.fromisoformat(str(d)[:10])) for _, d in rv.meetings)
    assert f["text"] == f"本期召开联席会议{len(rv.meetings)}次（{days}）。", f


def v_attendance_all(rv: ReviewRec, f: dict[str, Any], once: bool) -> None:
    assert rv.meetings and not rv.absent and (len(rv.meetings) == 1) == once, f
    assert f["ids"]["meeting"] == [m for m, _ in rv.meetings], f


def v_attendance_units(rv: ReviewRec, f: dict[str, Any]) -> None:
    order = sorted(
        rv.absent, key=lambda u: (-len(rv.absent[u]["none"]), -rv.absent[u]["excused"], rv.r.units[u]["name"])
    )
    assert f["ids"]["unit"] == order, (f, rv.absent)
    parts = []
    for u in order:
        a = rv.absent[u]
        said = []
        if a["none"]:
            said.append(f"未答复参会通知{len(a['none'])}次（" + "、".join(cn(d) for d in a["none"]) + "）")
        if a["excused"]:
            said.append(f"请假{a['excused']}次")
        parts.append(rv.r.units[u]["name"] + "，".join(said))
    assert f["text"] == "；".join(parts) + "。", f


def v_supervision_units(rv: ReviewRec, f: dict[str, Any]) -> None:
    units = set(rv.urged) | set(rv.orders)
    order = sorted(units, key=lambda u: (-rv.orders.get(u, 0), -rv.urged.get(u, 0), u))  # ties: the plan's order
    assert f["ids"]["unit"] == order, (f, order)
    # Units with the same counts share one clause: A、B各收到红色督办单1份.
    parts = []
    for (urged, orders), same in itertools.groupby(order, key=lambda u: (rv.urged.get(u, 0), rv.orders.get(u, 0))):
        who = [rv.r.units[u]["name"] for u in same]
        counts = [*([f"被催办{urged}次"] if urged else []), *([f"收到红色督办单{orders}份"] if orders else [])]
        parts.append("、".join(who) + ("各" if len(who) > 1 else "") + "、".join(counts))
    assert f["text"] == "本期" + "；".join(parts) + "。", f


def v_supervision_none(rv: ReviewRec, f: dict[str, Any]) -> None:
    assert not rv.urged and not rv.orders and f["text"] == "本期没有被催办或红色督办的单位。", f


def v_supervision_stages(rv: ReviewRec, f: dict[str, Any]) -> None:
    """本期向N个单位发出蓝色提醒B次、黄色督办Y次(，办公室未另行催办)。 recounted from the events told."""
    assert rv.stages, f
    blue = sum(c["blue"] for c in rv.stages.values())
    yellow = sum(c["yellow"] for c in rv.stages.values())
    said = "、".join([*([f"蓝色提醒{blue}次"] if blue else []), *([f"黄色督办{yellow}次"] if yellow else [])])
    tail = "" if rv.urged else "，办公室未另行催办"
    assert f["kind"] == ("supervision_stages" if rv.urged else "supervision_stages_not_urged"), (f, rv.urged)
    assert f["text"] == f"本期向{len(rv.stages)}个单位发出{said}{tail}。", f
    assert f["ids"]["unit"] == sorted(rv.stages) and sorted(f["ids"]["supervision"]) == sorted(rv.stage_ids), f


def v_supervision_not_urged(rv: ReviewRec, f: dict[str, Any]) -> None:
    assert not rv.urged and rv.orders and not rv.stages and f["text"] == "办公室本期未催办。", f


def _orders_head(rv: ReviewRec) -> tuple[str, str]:
    """The 督办单 sentence's kind and text, from the orders recounted (ReviewRec._orders)."""
    rows = rv.order_rows
    n, c = len(rows), Counter(o["state"] for o in rows)
    met, missed, pending = c["met"], c["late"] + c["open"], c["pending"]
    one = "_one" if n == 1 else ""
    head = f"本期发出红色督办单{n}份，"
    if met == n:
        return "orders_all_met" + one, head + ("已" if n == 1 else "均") + "在办结时限内办结。"
    if missed == n:
        return "orders_all_missed" + one, head + ("" if n == 1 else "均") + "未在办结时限内办结。"
    if pending == n:
        return "orders_all_pending" + one, head + ("" if n == 1 else "均") + "尚未到办结时限。"
    parts = [
        *([f"{met}份在办结时限内办结"] if met else []),
        *([f"{missed}份未在办结时限内办结"] if missed else []),
        *([f"{pending}份尚未到办结时限"] if pending else []),
    ]
    return "orders_mixed", head + "其中" + "，".join(parts) + "。"


def v_orders_head(rv: ReviewRec, f: dict[str, Any]) -> None:
    """本期发出红色督办单N份，均/已/其中… recounted: each order's 办结时限 and its item's closure."""
    assert rv.order_rows, f
    assert (f["kind"], f["text"]) == _orders_head(rv), (f, rv.order_rows)
    assert f["ids"]["order"] == [o["id"] for o in rv.order_rows], f
    assert f["ids"]["unit"] == list(dict.fromkeys(o["unit"] for o in rv.order_rows)), f


def v_orders_missed(rv: ReviewRec, f: dict[str, Any]) -> None:
    """未在办结时限内办结的：each order closed late or still open past its 办结时限, in issuing order."""
    missed = [o for o in rv.order_rows if o["state"] in ("late", "open")]
    assert missed, f
    assert f["text"] == "未在办结时限内办结的：" + "；".join(o["text"] for o in missed) + "。", (f, missed)
    assert f["ids"]["order"] == [o["id"] for o in missed], f
    assert f["ids"].get("problem", []) == [o["item"] for o in missed if o["kind"] == "problem"], f
    assert f["ids"].get("event", []) == [o["event"] for o in missed if o["event"] is not None], f


def v_orders_carried(rv: ReviewRec, f: dict[str, Any]) -> None:
    """上期发出、办结时限在本期的红色督办单N份：each as it stands, recounted as the half's own."""
    rows = rv.carried_rows
    assert rows, f
    assert (
        f["text"] == f"上期发出、办结时限在本期的红色督办单{len(rows)}份：" + "；".join(o["text"] for o in rows) + "。"
    ), (
        f,
        rows,
    )
    assert f["ids"]["order"] == [o["id"] for o in rows], f


def v_orders_none(rv: ReviewRec, f: dict[str, Any]) -> None:
    assert rv.urged and not rv.orders and not rv.order_rows and f["text"] == "本期未发出红色督办单。", f


def v_paper_closure(rv: ReviewRec, f: dict[str, Any]) -> None:
    item = (f["ids"].get("item") or [None])[0]
    problem = (f["ids"].get("problem") or [None])[0]
    assert (item in rv.same_evidence) or (problem in rv.reopened), (f, rv.same_evidence, rv.reopened)
    assert f["text"].endswith("，涉嫌纸面销号。") or "，涉嫌纸面销号（该问题由" in f["text"], f
    if problem is not None:
        assert f["text"] == rv.reopened_text[problem], (f, rv.reopened_text)


def v_paper_closure_none(rv: ReviewRec, f: dict[str, Any]) -> None:
    assert not rv.same_evidence and not rv.reopened, (rv.same_evidence, rv.reopened)
    assert f["text"] == "未发现重复使用佐证材料销号或销号后短期内问题反弹的情况。", f


def v_resolution_units(rv: ReviewRec, f: dict[str, Any]) -> None:
    """问题办结's figures: each unit of the table that owned a problem, in the table's order, with the
    problems it owned and those 办结 (recounted in review_scores), citing the latter."""
    owning = [u for u in rv.scores["units"] if u["owned"]]
    assert owning and f["ids"]["unit"] == [u["unit"] for u in owning], (f, owning)
    assert f["ids"].get("problem", []) == [p for u in owning for p in u["resolved_ids"]], (f, owning)
    parts = []
    for u in owning:
        ids = u["resolved_ids"]
        done = f"办结{len(ids)}个（{cited(ids, '问题', '个')}）" if ids else "未办结" if u["owned"] == 1 else "均未办结"
        parts.append(f"{rv.r.units[u['unit']]['name']}应办结问题{u['owned']}个，{done}")
    # 办结 is the state at the half's end once it has ended; while it runs, the state now (目前).
    end = "期末" if rv.r.now >= datetime(2026, 7, 1, tzinfo=SH) else "目前"
    head = (
        f"问题办结得分率为本期办结的问题占应办结问题的比例（办结指{end}处于已办结状态、且于本期办结的问题，"
        "应办结问题为本期办结的和逾期未办结的问题）："
    )
    assert f["text"] == head + "；".join(parts) + "。", (f, parts)


REVIEW_CHECKS: dict[str, Callable[[ReviewRec, dict[str, Any]], None]] = {
    "resolution_units": v_resolution_units,
    "summary_opening": v_summary_opening,
    "summary_opening_none": lambda rv, f: v_summary_opening(rv, f, "summary_opening_none"),
    "not_evaluated": v_not_evaluated,
    "problems_only": v_problems_only,
    "low_total": v_low_total,
    "low_leaders": v_low_leaders,
    "units_none": v_units_none,
    "leaders_none": v_leaders_none,
    "ledger_none": v_ledger_none,
    "ledger_to_add": v_ledger_to_add,
    "ledger_missed": v_ledger_missed,
    "ledger_closed": v_ledger_closed,
    "meetings_held": v_meetings_held,
    "attendance_all_once": lambda rv, f: v_attendance_all(rv, f, True),
    "attendance_all_each": lambda rv, f: v_attendance_all(rv, f, False),
    "attendance_units": v_attendance_units,
    "supervision_units": v_supervision_units,
    "supervision_none": v_supervision_none,
    "supervision_stages": v_supervision_stages,
    "supervision_stages_not_urged": v_supervision_stages,
    "supervision_not_urged": v_supervision_not_urged,
    **dict.fromkeys(
        (
            "orders_all_met",
            "orders_all_met_one",
            "orders_all_missed",
            "orders_all_missed_one",
            "orders_all_pending",
            "orders_all_pending_one",
            "orders_mixed",
        ),
        v_orders_head,
    ),
    "orders_missed": v_orders_missed,
    "orders_none": v_orders_none,
    "orders_carried": v_orders_carried,
    "paper_closure": v_paper_closure,
    "paper_closure_unit": v_paper_closure,
    "paper_closure_none": v_paper_closure_none,
}


def check_review(r: Rec, doc: dict[str, Any]) -> set[str]:
    rv = ReviewRec(r, doc)
    kinds = Counter(f["kind"] for f in doc["facts"])
    missing = set(kinds) - set(REVIEW_CHECKS)
    assert not missing, f"review sentence kinds with no check: {missing}"
    check_score_tables(rv)
    for f in doc["facts"]:
        REVIEW_CHECKS[f["kind"]](rv, f)
    scored = _review_units(rv, True) or _review_leaders(rv, True)
    want: Counter[str] = Counter({"summary_opening" if scored else "summary_opening_none": 1})
    if not rv.scores["units"]:
        want["units_none"] += 1
    if any(u["owned"] for u in rv.scores["units"]):
        want["resolution_units"] += 1
    if not rv.leaders:
        want["leaders_none"] += 1
    sure, edge = rv.to_add
    # A figure at exactly 60 % is added or not as the product's arithmetic falls (ReviewRec.to_add).
    if sure or (edge and kinds["ledger_to_add"]):
        want["ledger_to_add"] += 1
    elif not rv.items:
        want["ledger_none"] += 1
    if any(m for _, m, *_ in rv.items):
        want["ledger_missed"] += 1
    if any(s == "closed" for _, _, s, _ in rv.items):
        want["ledger_closed"] += 1
    if rv.meetings:
        want["meetings_held"] += 1
        want[
            "attendance_units"
            if rv.absent
            else "attendance_all_once"
            if len(rv.meetings) == 1
            else "attendance_all_each"
        ] += 1
    want["supervision_units" if rv.urged or rv.orders else "supervision_none"] += 1
    if rv.stages:
        want["supervision_stages" if rv.urged else "supervision_stages_not_urged"] += 1
    elif rv.orders and not rv.urged:
        want["supervision_not_urged"] += 1
    if rv.order_rows:
        want[_orders_head(rv)[0]] += 1
        if any(o["state"] in ("late", "open") for o in rv.order_rows):
            want["orders_missed"] += 1
    elif rv.urged:
        want["orders_none"] += 1
    if rv.carried_rows:
        want["orders_carried"] += 1
    by_unit = sum(1 for p in rv.reopened if "（该问题由" in rv.reopened_text[p])
    flagged = len(rv.same_evidence) + len(rv.reopened) - by_unit
    if flagged:
        want["paper_closure"] += flagged
    if by_unit:
        want["paper_closure_unit"] += by_unit
    if not flagged and not by_unit:
        want["paper_closure_none"] += 1
    if _review_units(rv, False) or _review_leaders(rv, False):
        want["not_evaluated"] += 1
    if any(_apart(u) for u in rv.scores["units"]):
        want["problems_only"] += 1
    if _low(rv):
        want["low_total"] += 1
    if _low_leaders(rv):
        want["low_leaders"] += 1
    assert kinds == want, (kinds, want)
    return set(kinds)
