"""Seed 003's region deadlines as tracked items, owned by each league and city (盟行政公署、市人民政府):

- 三(三): the 底数核实情况及工作措施台账, due 2022-09-20 (the plan's `baseline` phase end). Open until a
  right located there carries its 底数核实日期.
- 三(二): 盘活一批矿业权 by the end of 2022 (the plan's `activate` phase end). Open until a right located
  there reached 复工复产 (已复工达产 / 已盘活) or 已转采. Only a league with idle rights in the ledger owes it:
  a league whose ledger holds none has nothing the record could count.

`open_region_items` is the one public list of them (the to-do list, the reminders, the 督办 colours and
the accountability rule behind the notice's 报 line read it), each item in the shape of the other to-do items (oversight.lookups)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from models import Plan
from oversight.dates import local_zone
from oversight.measures import overdue_workdays
from oversight.targets import BASELINE_DUE, FIRST_BATCH_DEADLINE, region_by_league
from oversight.workdays import due_light

BASELINE = "baseline"
FIRST_BATCH = "first_batch"
REGION_ITEM_KINDS: tuple[str, ...] = (BASELINE, FIRST_BATCH)

# What the league has to do, as its to-do line and reminders say it.
ITEM_TEXTS = {
    BASELINE: "报送底数核实情况及工作措施台账（逐矿权核实停产数量及原因、探矿权未转采原因）",
    FIRST_BATCH: "盘活一批矿业权（停产矿山复工复产或探矿权转采矿权），形成实际生产力",
}
ITEM_NAMES = {BASELINE: "底数核实台账", FIRST_BATCH: "盘活一批矿业权"}
ITEM_TODO = {BASELINE: "待报送", FIRST_BATCH: "待盘活"}
PHASE_OF = {BASELINE: "baseline", FIRST_BATCH: "activate"}


def region_item_due(*, session: Session, plan_id: int, kind: str) -> date | None:
    """The deadline of a region item: the plan file's phase end (seed 003's dates by default);
    None for a plan that is not a region plan."""
    plan = session.get(Plan, plan_id)
    if plan is None or plan.level != "region":
        return None
    for phase in (plan.spec or {}).get("phases") or []:
        if phase.get("key") == PHASE_OF[kind] and phase.get("end"):
            return date.fromisoformat(str(phase["end"]))
    return FIRST_BATCH_DEADLINE if kind == FIRST_BATCH else BASELINE_DUE


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=local_zone())


def open_region_items(
    *,
    session: Session,
    plan_id: int,
    today: date,
    unit_id: int | None = None,
    kinds: Iterable[str] = REGION_ITEM_KINDS,
) -> list[dict[str, Any]]:
    """Every open region item of a plan (one league's with `unit_id`): kind, owner (unit_id, unit),
    deadline (due_on), its light on `today` and the working days overdue. Empty for a banner plan."""
    wanted = [k for k in REGION_ITEM_KINDS if k in set(kinds)]
    dues = {k: region_item_due(session=session, plan_id=plan_id, kind=k) for k in wanted}
    if not wanted or any(d is None for d in dues.values()):
        return []
    items: list[dict[str, Any]] = []
    for row in region_by_league(session=session, plan_id=plan_id, as_of=_end_of(today)):
        if unit_id is not None and row["unit_id"] != unit_id:
            continue
        open_kinds = []
        if BASELINE in wanted and not row["baseline_filed"]:
            open_kinds.append(BASELINE)
        has_rights = row["idle_mines"] + row["exploration"] > 0
        if FIRST_BATCH in wanted and has_rights and row["restarted"] + row["converted"] == 0:
            open_kinds.append(FIRST_BATCH)
        for kind in open_kinds:
            due = dues[kind]
            assert due is not None  # checked above
            items.append(
                {
                    "kind": kind,
                    "id": 0,
                    "name": ITEM_NAMES[kind],
                    "text": ITEM_TEXTS[kind],
                    "state": "open",
                    "state_label": ITEM_TODO[kind],
                    "todo": ITEM_TODO[kind],
                    "unit_id": row["unit_id"],
                    "unit": row["name"],
                    "due_on": due,
                    "light": due_light(due=due, today=today),
                    "overdue_days": overdue_workdays(due, today),
                }
            )
    return items
