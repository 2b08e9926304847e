"""Rights: status moves keep history, batch progress is computed from that history."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from models import AuditLog, Milestone, Right, RightBatch, RightStatusEvent, Task, Zone
from oversight.errors import InvalidInputError, InvalidStateError
from oversight.planfile import parse_plan_file
from oversight.plans import load_plan, set_milestones
from oversight.rights import (
    STATUS_LABELS,
    batch_progress,
    complete_milestone,
    expected_share,
    find_rights,
    move_right_status,
    parse_status,
    save_measure,
)
from tests.conftest import BANNER_PLAN, REGION_PLAN

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
T1 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
T2 = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)


def _task(session: Session, plan_id: int, key: str) -> Task:
    return session.exec(select(Task).where(Task.plan_id == plan_id, Task.key == key)).one()


def _right(
    session: Session,
    plan_id: int,
    code: str,
    name: str,
    *,
    kind: str = "mining",
    batches: tuple[str, ...] = (),
    zone_seq: int | None = None,
) -> Right:
    zone_id = None
    if zone_seq is not None:
        zone_id = session.exec(select(Zone.id).where(Zone.plan_id == plan_id, Zone.seq == zone_seq)).one()
    right = Right(plan_id=plan_id, code=code, name=name, kind=kind, zone_id=zone_id)
    session.add(right)
    session.flush()
    for key in batches:
        session.add(RightBatch(right_id=right.id, task_id=_task(session, plan_id, key).id))
    session.flush()
    return right


def _progress(session: Session, plan_id: int, key: str, as_of: datetime) -> dict:
    """The batch's row; the batch is given one right of its own first if its ledger lists none
    (a batch with no right listed is not loaded and has no expectation)."""
    task = _task(session, plan_id, key)
    if session.exec(select(RightBatch).where(RightBatch.task_id == task.id)).first() is None:
        _right(session, plan_id, f"L-{key}", f"{task.name}示例", batches=(key,))
    return next(row for row in batch_progress(session=session, plan_id=plan_id, as_of=as_of) if row["key"] == key)


def test_every_done_status_a_plan_file_may_name_has_a_label() -> None:
    from typing import get_args

    from oversight.planfile import DoneStatus

    assert set(get_args(DoneStatus)) <= set(STATUS_LABELS)
    assert parse_status("已整合") == "consolidated"
    assert parse_status("现状") == "baseline"
    assert parse_status("整合") is None


def test_move_writes_event_and_audit_and_refuses_the_same_status(session: Session, banner_plan_id: int) -> None:
    right = _right(session, banner_plan_id, "C1500002010001", "常兴扎嘎乌苏铁矿", batches=("consolidate",))
    task_id = _task(session, banner_plan_id, "consolidate").id
    event = move_right_status(
        session=session,
        right_id=right.id,
        to_status="consolidated",
        actor_member_id=None,
        actor="cli",
        task_id=task_id,
        reason="整合完成",
        now=T1,
    )
    session.commit()

    assert (event.from_status, event.to_status, event.task_id, event.at) == ("baseline", "consolidated", task_id, T1)
    session.refresh(right)
    assert right.status == "consolidated" and right.updated_at == T1
    row = session.exec(select(AuditLog).where(AuditLog.action == "right.status_changed")).one()
    assert row.object_id == str(right.id) and row.detail["from"] == "baseline" and row.detail["to"] == "consolidated"
    assert row.detail["event_id"] == event.id

    with pytest.raises(InvalidStateError, match="已是“已整合”"):
        move_right_status(
            session=session, right_id=right.id, to_status="consolidated", actor_member_id=None, actor="cli"
        )
    with pytest.raises(InvalidInputError, match="不是有效的处置状态"):
        move_right_status(session=session, right_id=right.id, to_status="merged", actor_member_id=None, actor="cli")
    session.rollback()
    assert len(session.exec(select(RightStatusEvent)).all()) == 1


def test_move_refuses_a_task_of_another_plan(engine, session: Session, banner_plan_id: int) -> None:
    from tests.conftest import load_bundled_plan

    region_id = load_bundled_plan(engine, REGION_PLAN)
    right = _right(session, banner_plan_id, "C1", "甲矿")
    with pytest.raises(InvalidInputError, match="不属于"):
        move_right_status(
            session=session,
            right_id=right.id,
            to_status="in_progress",
            actor_member_id=None,
            actor="cli",
            task_id=_task(session, region_id, "coal_mines").id,
        )


def test_batch_progress_counts_events_not_the_status_column(session: Session, banner_plan_id: int) -> None:
    """Two rights consolidated in June, one more in September; one reopened; one only has its
    status column set (no event) and must not count."""
    a = _right(session, banner_plan_id, "C1", "甲矿", batches=("consolidate", "restart"), zone_seq=7)
    b = _right(session, banner_plan_id, "C2", "乙矿", batches=("consolidate",), zone_seq=7)
    c = _right(session, banner_plan_id, "T3", "丙探矿", kind="exploration", batches=("consolidate",), zone_seq=8)
    d = _right(session, banner_plan_id, "C4", "丁矿", batches=("consolidate",), zone_seq=8)
    e = _right(session, banner_plan_id, "C5", "戊矿", batches=("consolidate",))
    e.status = "consolidated"  # a drifted counter: no event behind it
    session.add(e)
    for right in (a, b):
        move_right_status(
            session=session, right_id=right.id, to_status="consolidated", actor_member_id=None, actor="t", now=T1
        )
    move_right_status(session=session, right_id=c.id, to_status="consolidated", actor_member_id=None, actor="t", now=T2)
    move_right_status(session=session, right_id=d.id, to_status="consolidated", actor_member_id=None, actor="t", now=T1)
    move_right_status(
        session=session,
        right_id=d.id,
        to_status="in_progress",
        actor_member_id=None,
        actor="t",
        reason="登记有误",
        now=T2,
    )
    # 甲矿 goes on from consolidated to restarted: it stays done for the consolidation batch.
    move_right_status(session=session, right_id=a.id, to_status="restarted", actor_member_id=None, actor="t", now=T2)
    session.commit()

    now = datetime(2026, 10, 1, tzinfo=UTC)
    cons = _progress(session, banner_plan_id, "consolidate", now)
    assert cons["done"] == 3 and cons["right_ids"] == sorted([a.id, b.id, c.id])
    assert cons["target"] == 46 and cons["in_batch"] == 5
    # zone 7 (张佳花岗岩) has 甲 and 乙 both done; zone 8 has 丁 reopened
    zone7 = session.exec(select(Zone.id).where(Zone.plan_id == banner_plan_id, Zone.seq == 7)).one()
    assert cons["zones_done"] == 1 and cons["zone_ids_done"] == [zone7] and cons["zones_target"] == 19
    restart = _progress(session, banner_plan_id, "restart", now)
    assert restart["done"] == 1 and restart["right_ids"] == [a.id]

    # as of July: the September events did not happen yet; 丁 was still consolidated.
    july = datetime(2026, 7, 1, tzinfo=UTC)
    past = _progress(session, banner_plan_id, "consolidate", july)
    assert past["right_ids"] == sorted([a.id, b.id, d.id])
    assert _progress(session, banner_plan_id, "restart", july)["done"] == 0
    assert _progress(session, banner_plan_id, "consolidate", T0)["done"] == 0


def test_expected_follows_the_seeds_timelines(session: Session, banner_plan_id: int) -> None:
    """Seed 000 三(二): the batches run 2026-01-01 – 2028-12-31 (1,095 days); 二(三): 升级改造
    2025-01-01 – 2030-12-31 (2,190 days). Linear in between, 0 before, all of it after."""
    end_2026 = _progress(session, banner_plan_id, "consolidate", datetime(2026, 12, 31, 4, tzinfo=UTC))
    assert end_2026["expected_share"] == pytest.approx(364 / 1095, abs=1e-4)
    assert end_2026["expected"] == pytest.approx(round(46 * 364 / 1095, 1))
    # Shanghai date: 2027-07-01 20:00 UTC is already 2027-07-02 in China (547 days in).
    midway = _progress(session, banner_plan_id, "close", datetime(2027, 7, 1, 20, tzinfo=UTC))
    assert midway["expected_share"] == pytest.approx(547 / 1095, abs=1e-4)
    q1 = _progress(session, banner_plan_id, "upgrade", datetime(2026, 3, 31, 4, tzinfo=UTC))
    assert q1["expected_share"] == pytest.approx(454 / 2190, abs=1e-4) and q1["target"] == 11
    assert _progress(session, banner_plan_id, "upgrade", datetime(2025, 7, 2, 4, tzinfo=UTC))["expected"] > 0
    assert _progress(session, banner_plan_id, "close", datetime(2025, 6, 1, tzinfo=UTC))["expected"] == 0
    assert _progress(session, banner_plan_id, "close", datetime(2029, 1, 1, 4, tzinfo=UTC))["expected"] == 7
    assert _progress(session, banner_plan_id, "upgrade", datetime(2029, 1, 1, 4, tzinfo=UTC))["expected"] < 11


def test_expected_share_is_a_step_without_a_start() -> None:
    schedule = [{"by": "2026-12-31", "share": 0.5}, {"by": "2027-12-31", "share": 1.0}]
    assert expected_share(schedule, date(2026, 6, 1)) == 0.0
    assert expected_share(schedule, date(2026, 12, 31)) == 0.5
    assert expected_share([], date(2026, 6, 1)) is None


def test_region_tasks_without_schedule_have_no_expected(engine, session: Session) -> None:
    from tests.conftest import load_bundled_plan

    region_id = load_bundled_plan(engine, REGION_PLAN)
    rows = batch_progress(session=session, plan_id=region_id, as_of=T1)
    assert [r["key"] for r in rows] == [t.key for t in parse_plan_file(REGION_PLAN).tasks]
    assert all(r["expected"] is None and r["done"] == 0 for r in rows)
    assert "zones_done" not in rows[0]


def test_find_rights_by_part_of_name_or_code(engine, session: Session, banner_plan_id: int) -> None:
    from tests.conftest import load_bundled_plan

    region_id = load_bundled_plan(engine, REGION_PLAN)
    _right(session, banner_plan_id, "C150000201", "乌兰赤老铁矿")
    _right(session, banner_plan_id, "C150000202", "乌兰西萤石矿")
    _right(session, banner_plan_id, "T150000301", "后石兰哈达铁矿深部勘探")
    _right(session, banner_plan_id, "X100%", "百分号矿")
    _right(session, region_id, "C150000299", "乌兰其他铁矿")
    session.commit()

    assert [r.name for r in find_rights(session=session, plan_id=banner_plan_id, text="乌兰")] == [
        "乌兰赤老铁矿",
        "乌兰西萤石矿",
    ]
    assert [r.code for r in find_rights(session=session, plan_id=banner_plan_id, text="铁矿")] == [
        "C150000201",
        "T150000301",
    ]
    # codes match case-insensitively, the exact code first
    assert [r.code for r in find_rights(session=session, plan_id=banner_plan_id, text="c150000202")] == ["C150000202"]
    assert len(find_rights(session=session, plan_id=banner_plan_id, text="1500", limit=2)) == 2
    assert [r.code for r in find_rights(session=session, plan_id=banner_plan_id, text="0%")] == ["X100%"]
    assert find_rights(session=session, plan_id=banner_plan_id, text="  ") == []


def test_measure_with_milestones(session: Session, banner_plan_id: int) -> None:
    right = _right(session, banner_plan_id, "C1", "甲矿")
    measure = save_measure(
        session=session,
        right_id=right.id,
        text="先办环评，再办安全生产许可证",
        actor_member_id=None,
        actor="cli",
        milestones=[("环评批复", date(2026, 6, 30)), ("安全生产许可证", None)],
    )
    session.commit()
    ms = session.exec(select(Milestone).where(Milestone.measure_id == measure.id).order_by(Milestone.id)).all()
    assert [(m.title, m.due_on) for m in ms] == [("环评批复", date(2026, 6, 30)), ("安全生产许可证", None)]

    done = complete_milestone(session=session, milestone_id=ms[0].id, actor_member_id=None, actor="cli", now=T1)
    session.commit()
    assert done.done_at == T1
    with pytest.raises(InvalidStateError):
        complete_milestone(session=session, milestone_id=ms[0].id, actor_member_id=None, actor="cli")

    # replacing the list keeps the completed milestone by title and drops the other
    again = save_measure(
        session=session,
        right_id=right.id,
        text="改为先办立项",
        actor_member_id=None,
        actor="cli",
        milestones=[("环评批复", date(2026, 7, 31)), ("立项", date(2026, 5, 1))],
    )
    session.commit()
    assert again.id == measure.id and again.text == "改为先办立项"
    ms = session.exec(select(Milestone).where(Milestone.measure_id == measure.id).order_by(Milestone.id)).all()
    assert {m.title: (m.due_on, m.done_at) for m in ms} == {
        "环评批复": (date(2026, 7, 31), T1),
        "立项": (date(2026, 5, 1), None),
    }
    actions = session.exec(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-3:] == ["measure.created", "milestone.completed", "measure.updated"]
    with pytest.raises(InvalidInputError):
        save_measure(session=session, right_id=right.id, text="  ", actor_member_id=None, actor="cli")


def test_admin_milestones_move_the_expected_figure_and_survive_a_reload(session: Session, banner_plan_id: int) -> None:
    """Seed 000 sets no intermediate dates; an admin's milestones shape the line, are checked like
    a plan file's, and stay when the unchanged plan file is loaded again."""
    q3 = datetime(2026, 9, 30, 4, tzinfo=UTC)
    assert _progress(session, banner_plan_id, "upgrade", q3)["expected_share"] == pytest.approx(637 / 2190, abs=1e-4)
    timeline = set_milestones(
        session=session, plan_id=banner_plan_id, key="upgrade", milestones=[(date(2026, 12, 31), 0.1)], actor="t"
    )
    assert timeline == [
        {"by": "2025-01-01", "share": 0.0},
        {"by": "2026-12-31", "share": 0.1},
        {"by": "2030-12-31", "share": 1.0},
    ]
    assert _progress(session, banner_plan_id, "upgrade", q3)["expected_share"] == pytest.approx(
        0.1 * 637 / 729, abs=1e-4
    )
    with pytest.raises(InvalidInputError, match="晚于期限"):
        set_milestones(
            session=session, plan_id=banner_plan_id, key="upgrade", milestones=[(date(2031, 1, 1), 0.5)], actor="t"
        )
    with pytest.raises(InvalidInputError, match="没有任务"):
        set_milestones(session=session, plan_id=banner_plan_id, key="nosuch", milestones=[], actor="t")
    result = load_plan(session=session, spec=parse_plan_file(BANNER_PLAN), actor="t")
    assert not result.changed
    session.commit()
    assert _progress(session, banner_plan_id, "upgrade", q3)["expected_share"] == pytest.approx(
        0.1 * 637 / 729, abs=1e-4
    )
    audit = session.exec(select(AuditLog).where(AuditLog.action == "plan.milestones_set")).all()
    assert len(audit) == 1 and audit[0].detail["key"] == "upgrade"
