"""表2's 矿业权 column counts a zone's rights, not its proposed exploration rights (拟设探矿权): the
seed counts 46 rights in the 19 zones and says the 3 proposed ones are not yet rights. The demo's
brief printed 2 for 6号查干此老地区金矿 (1 mining right + 1 proposed) and a column summing to 49.

Scenario: the banner plan's zone 6 holds its planned mining right and its proposed one, as its
plan says (1 + 1 proposed); the brief of 2026Q1 counts 1 right there, in its data and its table."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from jobs.brief import brief_context
from models import Right, RightKind, Zone
from oversight.briefdata import brief_data, parse_period

NOW = datetime(2026, 4, 8, 2, tzinfo=UTC)


def test_a_proposed_right_is_not_counted_among_a_zones_rights(session: Session, banner_plan_id: int) -> None:
    zone = session.exec(select(Zone).where(Zone.plan_id == banner_plan_id, Zone.seq == 6)).one()
    assert (zone.planned_mining, zone.planned_exploration, zone.planned_proposed) == (1, 0, 1)
    session.add_all(
        [
            Right(plan_id=banner_plan_id, code="C1", name="查干此老金矿", kind=RightKind.MINING, zone_id=zone.id),
            Right(
                plan_id=banner_plan_id, code="P1", name="查干此老拟设探矿权", kind=RightKind.PROPOSED, zone_id=zone.id
            ),
        ]
    )
    session.commit()

    data = brief_data(session=session, plan_id=banner_plan_id, period=parse_period("2026Q1"), now=NOW)
    (row,) = [z for z in data["zones"]["zones"] if z["seq"] == 6]
    assert row["rights"] == 1
    ctx = brief_context(data, issue_no=1, issued_on="2026-04-08", chart="<svg/>")
    tables = [t for s in ctx["sections"] for t in s.get("tables", [])]
    (zones_table,) = [t for t in tables if t["columns"][:2] == ["整合区", "矿业权"]]
    assert ["6号查干此老地区金矿整合区", 1, 0, 0, 0] in zones_table["rows"]
