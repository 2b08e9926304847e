"""The plan-level targets (seed 000 一、工作目标; seed 003 一) measured from the record.

For every target of the plan: its figure as of a moment, the figure its timeline expects by
then (oversight/timelines.py: linear from the timeline's start unless milestones are set) and
the rights behind the figure. Every figure is counted from the rights ledger and the status
history up to that moment; the baselines are the plan file's (the seed's).

How each figure is counted (a right "reached" a status when an event moved it there and no
later event moved it back to 未处置/推进中):
- 减少采矿权: mining rights closed (已关闭注销), plus those absorbed by consolidation — in each
  integration zone, the consolidated mining rights but one (27 rights becoming 19 zones: 8). Which
  one a zone keeps is the ledger's 整合后保留 (Right.kept_in_zone): the zone's other consolidated
  mining rights are the ones absorbed, and named. In a zone with none marked 是, those marked 否
  are absorbed; of the others (blank) the zone keeps one — the one left, when one is; when two or
  more are, one of them is counted as kept (the count does not depend on which) and none is named
  as absorbed: the line names the zone, says its ledger rows leave 整合后保留 blank, and cites them.
- 减少探矿权: exploration rights (deep ones included) consolidated into a zone or closed.
- 消减矿业权: the two together.
- 矿山总数: the ledger's mining rights still standing (not closed, not absorbed), once the ledger
  holds at least the plan's baseline of mining rights (69); before that it cannot be counted.
- 大中型矿山占比: among the ledger's mining rights still standing (not closed, not absorbed), the
  share classed large or medium by production scale; none when the ledger has none. Such blank
  rights of a zone with no survivor stated are left out (which of them stands decides the share),
  and the line says so; likewise for the green mines.
- 自治区级以上绿色矿山: standing mining rights whose green-mine level is national or region.
- 复工达产 / 停产矿山复工复产: mining rights that reached 已复工达产 (or 已盘活 at region level).
- 已设探矿权转采矿权: exploration rights that reached 已转采.
For a count or reduction the timeline runs from 0; for a level (at most, at least, a share) it
runs from the figure on the timeline's first day to the target. A target in whole units is
expected in the nearest whole number (a half up) and is 滞后 only against that whole figure; a
share is printed as a percentage to one decimal and is 滞后 only when its figure so printed is
below the expected one so printed (_said: one rounding for the line and its flag).

A figure is the ledger's, so a target has none, and is never 滞后, while the ledger holds no right of
the kind it counts (a fresh deployment has the plan and no ledger): its line says 台账尚未载入… and
cites the plan file's baseline as the plan's (实施方案基数采矿权69宗).

Size class, green level and cause are the ledger's current values (the ledger keeps no history
of them); statuses are read as of the moment.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from models import (
    Plan,
    Right,
    RightBatch,
    RightKind,
    RightStatusEvent,
    SizeClass,
    Task,
    Unit,
    Zone,
    raw_rows,
    row_id,
    utcnow,
)
from oversight.dates import cn_date, local_day, local_zone
from oversight.errors import PlanMissingError
from oversight.planfile import PlanSpec, TargetSpec
from oversight.plans import plan_spec
from oversight.rights import GREEN_REGION_OR_ABOVE, RightStatus, is_absorbed
from oversight.sentences import pct
from oversight.timelines import deadline_of, expected_share, target_points

__all__ = [
    "BASELINE_DUE",
    "CODES_CAP",
    "FIRST_BATCH_DEADLINE",
    "TARGET_TEXT",
    "RightsAsOf",
    "baseline_text",
    "due_clause",
    "format_breakdown",
    "format_leagues",
    "format_targets",
    "plan_targets",
    "region_breakdown",
    "region_by_league",
    "target_parts",
    "target_sentence",
]

CODES_CAP = 20  # rights named per figure; the count is always whole
EXPLORATION_KINDS = (RightKind.EXPLORATION, RightKind.DEEP)
_LEVEL_KINDS = ("max", "min", "min_ratio")
_ACTIVE = (RightStatus.RESTARTED, RightStatus.ACTIVATED)


@dataclass
class _R:
    id: int
    code: str
    kind: str
    zone_id: int | None
    size: str
    green: str
    sector: str
    cause: str
    locality: int | None
    zone_seq: int | None = None
    kept: bool | None = None  # 整合后保留 (Right.kept_in_zone)
    reached: set[str] = field(default_factory=set)


def _moment(day: date) -> datetime:
    """The start of `day` in the Settings zone, as aware UTC."""
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)


class RightsAsOf:
    """A plan's rights as they stood at given moments, each moment read once: the brief's targets,
    its breakdown by cause and its table by league read the same moment (26,850 rights at ten
    times the region, a third of a second each). Only for reading: the rights are not re-read
    after a write in the session."""

    def __init__(self, session: Session, plan_id: int) -> None:
        self.session, self.plan_id = session, plan_id
        self._at: dict[datetime, list[_R]] = {}

    def at(self, when: datetime) -> list[_R]:
        if when not in self._at:
            self._at[when] = _rights_at(self.session, self.plan_id, when)
        return self._at[when]


def _rights_at(session: Session, plan_id: int, as_of: datetime) -> list[_R]:
    rights = {
        rid: _R(
            rid,
            code,
            kind,
            zone,
            size or SizeClass.SMALL,
            green or "",
            sector or "",
            cause or "",
            locality,
            seq,
            None if kept is None else bool(kept),
        )
        for rid, code, kind, zone, size, green, sector, cause, locality, seq, kept in raw_rows(
            session,
            sa_select(
                col(Right.id),
                col(Right.code),
                col(Right.kind),
                col(Right.zone_id),
                col(Right.size_class),
                col(Right.green_level),
                col(Right.sector),
                col(Right.idle_cause),
                col(Right.locality_unit_id),
                col(Zone.seq),
                col(Right.kept_in_zone),
            )
            .outerjoin(Zone, col(Zone.id) == col(Right.zone_id))
            .where(col(Right.plan_id) == plan_id)
            .order_by(col(Right.id)),
        )
    }
    events = raw_rows(
        session,
        sa_select(col(RightStatusEvent.right_id), col(RightStatusEvent.to_status))
        .join(Right, col(Right.id) == col(RightStatusEvent.right_id))
        .where(col(Right.plan_id) == plan_id, col(RightStatusEvent.at) <= as_of)
        .order_by(col(RightStatusEvent.right_id), col(RightStatusEvent.at), col(RightStatusEvent.id)),
    )
    for right_id, to_status in events:
        right = rights[right_id]
        if to_status in RightStatus.OPEN:
            right.reached.clear()
        else:
            right.reached.add(to_status)
    return list(rights.values())


@dataclass
class _Unstated:
    """The zones with two or more consolidated mining rights the ledger marks neither kept nor not
    (整合后保留 blank) and none marked kept: one of them is counted as kept, none named as absorbed
    or as standing."""

    zones: list[tuple[int, int]]  # (zone id, 序号), in the order of the 序号
    rights: list[_R]  # those consolidated mining rights

    @property
    def reduced(self) -> int:
        """What consolidation has cut among them: all but one in each zone."""
        return len(self.rights) - len(self.zones)

    def zone_text(self) -> str:
        """7号、11号整合区; 7号、11号…等6个整合区 past ZONES_NAMED."""
        shown = "、".join(f"{seq}号" for _, seq in self.zones[:ZONES_NAMED])
        more = f"等{len(self.zones)}个" if len(self.zones) > ZONES_NAMED else ""
        return f"{shown}{more}整合区"

    def blank(self) -> str:
        """7号整合区有2宗已整合采矿权台账未填写整合后保留."""
        return f"{self.zone_text()}有{len(self.rights)}宗已整合采矿权台账未填写整合后保留"

    def reduced_clause(self) -> str:
        """How a reduction counts these zones: one kept in each."""
        each = "每区" if len(self.zones) > 1 else ""
        return f"其中{self.blank()}，暂按{each}保留1宗计减少{self.reduced}宗"

    def share_clause(self) -> str:
        """Why the share leaves these rights out."""
        which = "各区保留哪一宗" if len(self.zones) > 1 else "保留哪一宗"
        return f"{self.blank()}，{which}尚不确定，暂不计入"


ZONES_NAMED = 5  # zones named by 序号 in a line; the count is always whole


@dataclass
class _Figures:
    """What the targets count, from the rights as of one moment."""

    closed_mining: list[_R]
    absorbed_mining: list[_R]  # named: absorbed by a zone whose survivor the ledger states
    unstated: _Unstated
    reduced_exploration: list[_R]
    standing_mining: list[_R]  # known to stand: not those of an unstated zone
    large_medium: list[_R]
    green: list[_R]
    restarted: list[_R]
    converted: list[_R]
    mining_in_ledger: int
    exploration_in_ledger: int

    @property
    def mines(self) -> int:
        """The mining rights standing: those known to, and one in each unstated zone."""
        return len(self.standing_mining) + len(self.unstated.zones)

    @classmethod
    def of(cls, rights: Iterable[_R]) -> _Figures:
        rights = list(rights)
        mining = [r for r in rights if r.kind == RightKind.MINING]
        closed = [r for r in mining if RightStatus.CLOSED in r.reached]
        kept = {r.zone_id for r in mining if r.zone_id is not None and r.kept}  # zones whose survivor is stated
        by_zone: dict[int, list[_R]] = defaultdict(list)
        for r in mining:
            if r.zone_id is not None and RightStatus.CONSOLIDATED in r.reached and r not in closed:
                by_zone[r.zone_id].append(r)
        order = sorted(by_zone, key=lambda z: (by_zone[z][0].zone_seq or 0, z))
        absorbed: list[_R] = []
        unstated = _Unstated(zones=[], rights=[])
        for z in order:
            # The zone keeps the right the ledger marks kept and absorbs the others; with none marked
            # kept, those marked 否 (rights.is_absorbed, which the ledger's 生产状态 reads too).
            absorbed += [
                r
                for r in by_zone[z]
                if is_absorbed(
                    kind=r.kind, zone_id=z, status=RightStatus.CONSOLIDATED, kept=r.kept, zone_keeps_one=z in kept
                )
            ]
            if z in kept:
                continue
            # Of the others, the zone keeps one (the count of the reduction rests on it): the one
            # left, if one; which, if two or more, the ledger has not said, and nothing names it.
            undecided = [r for r in by_zone[z] if r.kept is not False]
            if len(undecided) > 1:
                unstated.zones.append((z, by_zone[z][0].zone_seq or 0))
                unstated.rights += undecided
        gone = {r.id for r in [*closed, *absorbed]}
        # One right of each unstated zone stands, but which is not known: it is counted among the
        # mines (矿山总数), and in nothing that depends on which one it is (the share, green mines).
        pending = {r.id for r in unstated.rights}
        standing = [r for r in mining if r.id not in gone and r.id not in pending]
        reduced_exploration = [
            r
            for r in rights
            if r.kind in EXPLORATION_KINDS
            and (RightStatus.CLOSED in r.reached or (r.zone_id is not None and RightStatus.CONSOLIDATED in r.reached))
        ]
        return cls(
            closed_mining=closed,
            absorbed_mining=absorbed,
            unstated=unstated,
            reduced_exploration=reduced_exploration,
            standing_mining=standing,
            large_medium=[r for r in standing if r.size in (SizeClass.LARGE, SizeClass.MEDIUM)],
            green=[r for r in standing if r.green in GREEN_REGION_OR_ABOVE],
            restarted=[r for r in mining if r.reached & set(_ACTIVE)],
            converted=[r for r in rights if r.kind in EXPLORATION_KINDS and RightStatus.CONVERTED in r.reached],
            mining_in_ledger=len(mining),
            exploration_in_ledger=sum(1 for r in rights if r.kind in EXPLORATION_KINDS),
        )


def _records(rights: list[_R]) -> dict[str, Any]:
    return {"n": len(rights), "ids": [r.id for r in rights[:CODES_CAP]], "codes": [r.code for r in rights[:CODES_CAP]]}


def _none_or(rights: list[_R], how: str, none: str) -> str:
    """How a figure is counted, or the natural zero (尚无…) when no right is behind it."""
    return how if rights else none


def _measure(spec: PlanSpec, target: TargetSpec, f: _Figures) -> tuple[float | None, list[_R], str, list[int]] | None:
    """(figure, rights behind it, how it is counted, zones the how names) for a target the product
    knows; None otherwise."""
    key = target.key
    u = f.unstated
    zones = [z for z, _ in u.zones]
    unstated = f"（{u.reduced_clause()}）" if u.zones else ""
    if key == "reduce_mining":
        absorbed = len(f.absorbed_mining) + u.reduced
        parts = [f"{label}{n}宗" for label, n in (("关闭注销", len(f.closed_mining)), ("整合减少", absorbed)) if n]
        return (
            len(f.closed_mining) + absorbed,
            [*f.closed_mining, *f.absorbed_mining, *u.rights],
            ("，".join(parts) + unstated) if parts else "尚无关闭注销或整合减少的采矿权",
            zones,
        )
    if key == "reduce_exploration":
        how = _none_or(f.reduced_exploration, "整合或关闭的探矿权（含深部探矿权）", "尚无整合或关闭的探矿权")
        return len(f.reduced_exploration), f.reduced_exploration, how, []
    if key == "reduce_total":
        rights = [*f.closed_mining, *f.absorbed_mining, *u.rights, *f.reduced_exploration]
        n = len(f.closed_mining) + len(f.absorbed_mining) + u.reduced + len(f.reduced_exploration)
        return n, rights, _none_or(rights, "减少的采矿权与探矿权合计" + unstated, "尚无减少的采矿权和探矿权"), zones
    if key == "max_mines":
        reduced = [*f.closed_mining, *f.absorbed_mining, *u.rights]
        n = len(f.closed_mining) + len(f.absorbed_mining) + u.reduced
        loaded = f"台账载入采矿权{f.mining_in_ledger}宗"
        how = _none_or(reduced, f"{loaded}，已减少{n}宗{unstated}", f"{loaded}，尚无减少")
        if f.converted:
            # A converted exploration right holds a mining licence, but the ledger lists it as the
            # exploration right it was until its mining right is entered: the figure leaves it out, and says so.
            how += f"，另有{len(f.converted)}宗探矿权已转采，待以采矿权登记入台账后计入"
        return f.mines, reduced, how, zones
    if key == "min_large_medium_ratio":
        # Which right an unstated zone keeps decides the share: its consolidated rights are left out.
        left_out = f"{u.share_clause()}；" if u.zones else ""
        if not f.standing_mining:
            return None, [], f"{left_out}台账中尚无{'其他' if u.zones else ''}存续的采矿权", zones
        share = len(f.large_medium) / len(f.standing_mining)
        standing = f"{left_out}{'其余' if u.zones else ''}台账存续采矿权{len(f.standing_mining)}宗"
        how = _none_or(f.large_medium, f"{standing}中大中型{len(f.large_medium)}宗", f"{standing}，其中尚无大中型")
        return share, f.large_medium, how, zones
    if key == "green_mines":
        how = _none_or(f.green, "台账中国家级、自治区级绿色矿山", "台账中尚无国家级、自治区级绿色矿山")
        # A green mine among an unstated zone's consolidated rights may be the one kept, or absorbed.
        green = [r for r in u.rights if r.green in GREEN_REGION_OR_ABOVE]
        if green:
            how += (
                f"；{u.zone_text()}台账未填写整合后保留的已整合采矿权中另有国家级、自治区级绿色矿山{len(green)}宗，"
                "是否保留尚不确定，暂不计入"
            )
            return len(f.green), f.green, how, zones
        return len(f.green), f.green, how, []
    if key in ("restart", "restart_idle"):
        how = _none_or(f.restarted, "已复工达产（已盘活）的采矿权", "尚无复工达产（盘活）的采矿权")
        return len(f.restarted), f.restarted, how, []
    if key == "convert_exploration":
        return len(f.converted), f.converted, _none_or(f.converted, "已转采的探矿权", "尚无转采的探矿权"), []
    return None


# What each target counts in the ledger: its figure is the ledger's, so it is computed only once the
# ledger holds rights of that kind (a fresh deployment has the plan but no ledger yet).
_COUNTS_MINING = ("reduce_mining", "max_mines", "min_large_medium_ratio", "green_mines", "restart", "restart_idle")
_COUNTS_EXPLORATION = ("reduce_exploration", "convert_exploration")
# The plan file's baseline each target's line may cite as what it is (实施方案基数), by target.
_BASELINE = {
    "reduce_mining": (("mining", "采矿权", "宗"),),
    "max_mines": (("mining", "采矿权", "宗"),),
    "min_large_medium_ratio": (("mining", "采矿权", "宗"),),
    "green_mines": (("mining", "采矿权", "宗"),),
    "restart": (("mining", "采矿权", "宗"),),
    "reduce_exploration": (("exploration", "探矿权", "宗"),),
    "reduce_total": (("mining", "采矿权", "宗"), ("exploration", "探矿权", "宗")),
    "restart_idle": (("idle_mines", "停产矿山", "个"),),
    "convert_exploration": (("unconverted_exploration", "未转采探矿权", "个"),),
}


def _baseline_cited(spec: PlanSpec, key: str) -> str:
    """The plan's baseline for a target's kind of right, cited as the plan's (实施方案基数采矿权69宗)."""
    parts = [
        f"{label}{spec.baseline[field]}{unit}"
        for field, label, unit in _BASELINE.get(key, ())
        if spec.baseline.get(field) is not None
    ]
    return f"实施方案基数{'、'.join(parts)}" if parts else "待台账载入后计算"


def _unloaded(spec: PlanSpec, key: str, f: _Figures) -> tuple[str, str] | None:
    """(why the figure cannot be computed yet, what the line cites instead) when the ledger does not
    yet hold the rights the target counts; None when it does. The total of mines (max_mines) is the
    ledger's standing mining rights only once it holds at least the plan's baseline of them."""
    missing = []
    if key in (*_COUNTS_MINING, "reduce_total") and not f.mining_in_ledger:
        missing.append("采矿权")
    if key in (*_COUNTS_EXPLORATION, "reduce_total") and not f.exploration_in_ledger:
        missing.append("探矿权")
    if missing:
        return f"台账尚未载入{'和'.join(missing)}", _baseline_cited(spec, key)
    mining0 = spec.baseline.get("mining")
    if key == "max_mines" and mining0 is not None and f.mining_in_ledger < mining0:
        return (
            f"台账载入采矿权{f.mining_in_ledger}宗，少于实施方案基数{mining0}宗",
            "矿山总数待台账采矿权载入齐全后计算",
        )
    return None


def _expected(target: TargetSpec, share: float | None, start_value: float | None) -> float | None:
    if share is None:
        return None
    if target.kind in _LEVEL_KINDS:
        if start_value is None:
            return None
        return start_value + (float(target.value) - start_value) * share
    return float(target.value) * share


def _expected_figure(value: float, kind: str) -> float:
    """The figure a target's line prints for what the timeline expects: for a target in whole
    units (a count, a level, a cap alike) the nearest whole number, a half up (2.05 of a 2 -> 3
    green-mine target is 2, not the whole 2030 target of 3; 2.5 is 3); a share (min_ratio) as the
    line prints it (_said: a percentage to one decimal)."""
    if kind == "min_ratio":
        return _said(value, kind)
    return float(math.floor(round(value, 6) + 0.5))


def _said(value: float, kind: str) -> float:
    """A figure as its line prints it, in the line's own unit: a share as a percentage to one
    decimal (0.500274 -> 50.0, printed 50.0%), anything else as it is. The one rounding of a
    share: the line's text (_num, _expected_text) and the behind-judgement (_behind) both read it."""
    if kind == "min_ratio":
        return float(f"{value * 100:.1f}")
    return value


def _behind(kind: str, now: float | None, expected: float | None) -> bool:
    """Behind the timeline as the line says it: the figure printed after 现为 against the one
    printed after 按进度应为 (_said, _expected_figure), so no target is 滞后 by a fraction of a mine
    or by less than the tenth of a percentage point a share is printed to (现为50.0%，按进度应为50.0%
    is on schedule)."""
    if now is None or expected is None:
        return False
    shown, said = _said(now, kind), _expected_figure(expected, kind)
    if kind == "max":
        return shown > said + 1e-9
    return shown < said - 1e-9


def plan_targets(
    *, session: Session, plan_id: int, as_of: datetime | None = None, rights: RightsAsOf | None = None
) -> list[dict[str, Any]]:
    """Every target of the plan: figure as of `as_of`, the figure expected by then, the rights behind it.
    `rights`: the plan's rights as of moments already read (a RightsAsOf of this session and plan)."""
    when = as_of or utcnow()
    read = rights or RightsAsOf(session, plan_id)
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanMissingError()
    spec = plan_spec(plan)
    figures = _Figures.of(read.at(when))
    on = local_day(when)
    starts: dict[date, _Figures] = {}
    out: list[dict[str, Any]] = []
    for target in spec.targets:
        unloaded = _unloaded(spec, target.key, figures)
        measured = None if unloaded else _measure(spec, target, figures)
        points = target_points(spec, target)
        share = None if unloaded else expected_share(points, on)
        start_value: float | None = None
        if measured is not None and target.kind in _LEVEL_KINDS and points:
            first = date.fromisoformat(points[0]["by"])
            if first not in starts:
                starts[first] = _Figures.of(read.at(_moment(first)))
            at_start = _measure(spec, target, starts[first])
            start_value = at_start[0] if at_start is not None else None
        now_value: float | None
        behind_it: list[_R]
        zones: list[int]
        if unloaded:
            now_value, behind_it, how, zones = None, [], unloaded[1], []
        else:
            now_value, behind_it, how, zones = measured if measured is not None else (None, [], "尚无计算方法", [])
        # Kept to four places of what the line prints (a share's percentage: six of the fraction, so
        # its one printed decimal is not rounded twice, 0.7404932 -> 74.0%, never 0.7405 -> 74.1%), and
        # judged on what is kept as the line prints it (_behind), so the line's figures and its flag agree.
        places = 6 if target.kind == "min_ratio" else 4
        exact = _expected(target, share, start_value)
        expected = None if exact is None else round(exact, places)
        now_kept = None if now_value is None else round(float(now_value), places)
        out.append(
            {
                "key": target.key,
                "name": target.name,
                "kind": target.kind,
                "unit": target.unit,
                "value": target.value,
                "start": points[0]["by"] if points else None,
                "deadline": None if (due := deadline_of(points)) is None else due.isoformat(),
                "now": now_kept,
                "expected_share": None if share is None else round(share, 4),
                "expected": expected,
                "start_value": start_value,
                "behind": _behind(target.kind, now_kept, expected),
                "records": _records(behind_it),
                # The zones `how` names whose survivor the ledger does not state (整合后保留).
                "zones": zones,
                "how": how,
                "unloaded": unloaded[0] if unloaded else None,
            }
        )
    if spec.level == "region":
        out.append(_first_batch(spec, read, when, figures))
    return out


# Seed 003 三(二): "确保于2022年12月底前盘活一批矿业权，形成实际生产力".
FIRST_BATCH_DEADLINE = date(2022, 12, 31)


def _first_batch(spec: PlanSpec, read: RightsAsOf, when: datetime, now: _Figures) -> dict[str, Any]:
    deadline = FIRST_BATCH_DEADLINE
    for phase in spec.phases:
        if phase.key == "activate":
            deadline = phase.end
    due = _moment(date.fromordinal(deadline.toordinal() + 1))
    at = now if when <= due else _Figures.of(read.at(due))
    rights = [*at.restarted, *at.converted]
    passed = when >= due
    if not now.mining_in_ledger and not now.exploration_in_ledger:
        return {
            **_first_batch_row(deadline),
            "now": None,
            "behind": False,
            "records": _records([]),
            "how": "方案未定数量",
            "unloaded": "台账尚未载入矿业权",
        }
    return {
        **_first_batch_row(deadline),
        "now": len(rights),
        "behind": passed and not rights,
        "records": _records(rights),
        "how": (
            ("期限内复工复产或转采的矿业权（方案未定数量）" if passed else "截至目前复工复产或转采的矿业权")
            if rights
            else (
                "期限内没有复工复产或转采的矿业权（方案未定数量）" if passed else "截至目前尚无复工复产或转采的矿业权"
            )
        ),
        "unloaded": None,
    }


def _first_batch_row(deadline: date) -> dict[str, Any]:
    return {
        "key": "first_batch",
        "name": f"{cn_date(deadline)}前盘活一批矿业权",
        "kind": "batch",
        "unit": "个",
        "value": None,
        "start": None,
        "deadline": deadline.isoformat(),
        "expected_share": None,
        "expected": None,
        "start_value": None,
        "zones": [],
    }


def region_breakdown(
    *, session: Session, plan_id: int, as_of: datetime | None = None, rights: RightsAsOf | None = None
) -> list[dict[str, Any]]:
    """Per task of a region plan: the seed's count and causes, against the ledger's rights in the
    task's batch by cause, and how many of them reached the task's done status."""
    when = as_of or utcnow()
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanMissingError()
    by_id = {r.id: r for r in (rights or RightsAsOf(session, plan_id)).at(when)}
    tasks = session.exec(select(Task).where(Task.plan_id == plan_id).order_by(col(Task.seq))).all()
    members: dict[int, list[_R]] = defaultdict(list)
    for task_id, right_id in raw_rows(
        session,
        select(col(RightBatch.task_id), col(RightBatch.right_id))
        .join(Task, col(Task.id) == col(RightBatch.task_id))
        .where(Task.plan_id == plan_id)
        .order_by(col(RightBatch.right_id)),
    ):
        members[task_id].append(by_id[right_id])
    out = []
    for task in tasks:
        batch = members.get(task.id or 0, [])
        status = task.done_status
        causes = []
        for item in task.breakdown or []:
            mine = [r for r in batch if r.cause == item["key"]]
            causes.append(
                {
                    "key": item["key"],
                    "name": item["name"],
                    "seed": item["count"],
                    "ledger": len(mine),
                    "done": sum(1 for r in mine if status in r.reached),
                }
            )
        out.append(
            {
                "key": task.key,
                "seq": task.seq,
                "name": task.name,
                "seed": task.target,
                "ledger": len(batch),
                "done": sum(1 for r in batch if status in r.reached),
                "causes": causes,
                "unclassified": sum(1 for r in batch if r.cause not in {c["key"] for c in causes}) if causes else 0,
            }
        )
    return out


def region_by_league(
    *, session: Session, plan_id: int, as_of: datetime | None = None, rights: RightsAsOf | None = None
) -> list[dict[str, Any]]:
    """Per league or city of a region plan: idle mines and unconverted exploration rights in the
    ledger (by 所在盟市), and how many restarted or converted."""
    when = as_of or utcnow()
    on = local_day(when)
    by_locality: dict[int | None, list[_R]] = defaultdict(list)
    for r in (rights or RightsAsOf(session, plan_id)).at(when):
        by_locality[r.locality].append(r)
    verified: dict[int, date] = {}
    for locality, day in session.execute(
        sa_select(col(Right.locality_unit_id), func.min(col(Right.baseline_on)))
        .where(col(Right.plan_id) == plan_id, col(Right.baseline_on).is_not(None))
        .group_by(col(Right.locality_unit_id))
    ).all():
        if locality is not None:
            verified[int(locality)] = day
    due = _baseline_due(session, plan_id)
    leagues = session.exec(
        select(Unit).where(Unit.plan_id == plan_id, Unit.kind == "league").order_by(col(Unit.id))
    ).all()
    out = []
    for unit in leagues:
        mine = by_locality.get(unit.id, [])
        mines = [r for r in mine if r.kind == RightKind.MINING and r.cause != "cannot_resume"]
        explo = [r for r in mine if r.kind in EXPLORATION_KINDS]
        out.append(
            {
                "unit_id": unit.id,
                "name": unit.name,
                "short": unit.short or unit.name,
                "idle_mines": len(mines),
                "restarted": sum(1 for r in mines if r.reached & set(_ACTIVE)),
                "exploration": len(explo),
                "converted": sum(1 for r in explo if RightStatus.CONVERTED in r.reached),
                **_baseline_state(verified.get(row_id(unit)), due, on),
            }
        )
    return out


# Seed 003 三(二)(三): each league and city verifies its idle mines and unconverted exploration
# rights right by right and sends the 底数核实情况及工作措施台账 by 2022-09-20.
BASELINE_DUE = date(2022, 9, 20)
BASELINE_WARN_DAYS = 7  # yellow in the week before the deadline


def _baseline_due(session: Session, plan_id: int) -> date:
    plan = session.get(Plan, plan_id)
    for phase in ((plan.spec or {}).get("phases") or []) if plan is not None else []:
        if phase.get("key") == "baseline" and phase.get("end"):
            return date.fromisoformat(str(phase["end"]))
    return BASELINE_DUE


def _baseline_state(filed: date | None, due: date, on: date) -> dict[str, Any]:
    """The league's baseline ledger as a tracked item: filed (on time or late) or not, and its 督办
    colour — green when filed by the deadline, red when late or missing after it, yellow in the
    week before it while missing."""
    if filed is not None:
        light = "green" if filed <= due else "red"
    elif on > due:
        light = "red"
    elif (due - on).days <= BASELINE_WARN_DAYS:
        light = "yellow"
    else:
        light = "green"
    return {
        "baseline_due": due.isoformat(),
        "baseline_filed": filed.isoformat() if filed else None,
        "baseline_light": light,
    }


def _num(value: float | int | None, kind: str = "") -> str:
    if value is None:
        return "—"
    if kind == "min_ratio":
        return f"{_said(value, kind):.1f}%"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


def _expected_text(value: float, kind: str) -> str:
    """What the timeline expects, as people count it: whole things (_expected_figure), a share to
    one decimal."""
    if kind == "min_ratio":
        return f"{_expected_figure(value, kind):.1f}%"
    return str(int(_expected_figure(value, kind)))


def due_clause(deadline: str | None) -> str:
    """The day a line's target is due by, as every target and batch line says it beside its figures
    (（2030年12月31日前）), from its timeline's deadline (timelines.deadline_of, ISO); empty without
    one. A target and a batch run to different days: the clause says which timeline an expected
    figure is on."""
    return f"（{cn_date(date.fromisoformat(deadline))}前）" if deadline else ""


# One target's line (the brief's progress_target and /progress's target fact): what it is, its
# figures, whether behind, how it is counted and, in chat, the rights behind the figure.
TARGET_TEXT = "{name}：{figures}{behind}；{how}{listed}。"


def _target_text(value: float, kind: str) -> str:
    """A target's own figure as the plan states it: a share as a whole percentage where it is one
    (75%, not 75.0%), anything else as _num prints it."""
    return pct(float(value)) if kind == "min_ratio" else _num(value, kind)


def _bounded(kind: str, target: str) -> tuple[str, Callable[[str], str]]:
    """A bound said as the plan says it (seed 000: 全旗矿山总数控制在65个以内, 比例不低于75%), for the
    target and for the figure the timeline expects by now; a count or level is just its figure."""
    if kind == "max":
        return f"控制在{target}以内", lambda x: f"在{x}以内"
    if kind == "min_ratio":
        return f"不低于{target}", lambda x: f"不低于{x}"
    return target, lambda x: f"为{x}"


def target_parts(r: dict[str, Any], *, codes: bool = True) -> dict[str, str]:
    """The values TARGET_TEXT is filled with for one target (plan_targets' row)."""
    unit = "" if r["kind"] == "min_ratio" else r["unit"]
    due = due_clause(r["deadline"])
    unloaded = r.get("unloaded")
    if r["kind"] == "batch":
        figures = f"{unloaded}，现状暂无法计算" if unloaded else f"现为{_num(r['now'])}{unit}"
    else:
        target, expected_as = _bounded(r["kind"], _target_text(r["value"], r["kind"]) + unit)
        figures = f"目标{target}{due}"
        if unloaded:  # the ledger does not hold what it counts: no figure, no judgement
            undated = "，方案未定期限" if r["deadline"] is None else ""
            figures += f"{undated}，{unloaded}，现状暂无法计算"
        elif r["now"] is None:  # nothing to compute it from (a share of no standing mine)
            figures += "，暂无法计算"
        else:
            figures += f"，现为{_num(r['now'], r['kind'])}{unit}"
        if r["now"] is not None and r["expected"] is not None:
            figures += "，按进度应" + expected_as(_expected_text(r["expected"], r["kind"]) + unit)
        elif r["deadline"] is None and not unloaded:
            figures += "，方案未定期限"
    shown = r["records"]["codes"] if codes else []
    more = f"等{r['records']['n']}宗" if shown and r["records"]["n"] > len(shown) else ""
    return {
        "name": r["name"],
        "figures": figures,
        "behind": "（滞后）" if r["behind"] else "",
        "how": r["how"],
        "listed": f"：{'、'.join(shown)}{more}" if shown else "",
    }


def target_sentence(r: dict[str, Any], *, codes: bool = True) -> str:
    """One target as a Chinese sentence, e.g.
    减少采矿权：目标15宗（2030年12月31日前），现为3宗，按进度应为3宗；关闭注销1宗，整合减少2宗：E、B、D。"""
    return TARGET_TEXT.format(**target_parts(r, codes=codes))


def format_targets(rows: list[dict[str, Any]]) -> str:
    """The targets as plain Chinese lines (target_sentence), one per target."""
    if not rows:
        return "本计划未设总体目标。"
    return "\n".join(target_sentence(r) for r in rows)


def format_breakdown(rows: list[dict[str, Any]]) -> str:
    """A region plan's tasks with the seed's causes against the ledger, as Chinese lines."""
    lines = []
    for r in rows:
        lines.append(f"（{r['seq']}）{r['name']}：方案{r['seed']}个，台账登记{r['ledger']}个，已完成{r['done']}个")
        for c in r["causes"]:
            lines.append(f"    {c['name']}：方案{c['seed']}个，台账{c['ledger']}个，已完成{c['done']}个")
        if r["unclassified"]:
            lines.append(f"    台账未填写或不属上述原因：{r['unclassified']}个")
    return "\n".join(lines)


LIGHTS = {"red": "🔴", "yellow": "🟡", "green": "🟢"}


def baseline_text(r: dict[str, Any]) -> str:
    """底数核实台账 of one league: 已报送（2022年9月15日）, 逾期报送（…）, 未报送（应于…前）."""
    due = cn_date(date.fromisoformat(r["baseline_due"]))
    if r["baseline_filed"]:
        filed = cn_date(date.fromisoformat(r["baseline_filed"]))
        return f"已报送（{filed}）" if r["baseline_light"] == "green" else f"逾期报送（{filed}，应于{due}前）"
    return f"未报送（应于{due}前）"


def format_leagues(rows: list[dict[str, Any]]) -> str:
    """Per league or city: idle mines and unconverted exploration rights in the ledger, and done."""
    return "\n".join(
        f"{LIGHTS[r['baseline_light']]} {r['short']}：停产矿山{r['idle_mines']}个（已复工复产{r['restarted']}个），"
        f"未转采探矿权{r['exploration']}个（已转采{r['converted']}个）；底数核实台账{baseline_text(r)}"
        for r in rows
    )
