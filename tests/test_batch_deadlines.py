"""A batch's line says the deadline its expectation runs to, as a target's line does (issue 18,
"one definition"): the 乌拉特中旗 plan's 复工达产一批 runs 2026-01-01 – 2028-12-31 (三(二) 组织实施阶段)
and its target 矿山复工达产 to 2030-12-31, so on the brief of 2026Q1 the batch expects 3 and the
target 1 of the same 28; main printed 复工达产一批累计完成2个（目标28个，按进度应完成3个） beside
矿山复工达产：目标28个（2030年12月31日前）…按进度应为1个 with no word of which timeline is which.

Scenario: three mining rights in the restart batch (two restarted in February 2026), one in the
upgrade batch (2025-01-01 – 2030-12-31, 二(三)), none in the others; the brief of 2026Q1 (its
facts and its table), /progress on the day the brief looks at, and the timelines' deadline."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from jobs.brief import brief_context
from models import Right, RightBatch, Task
from oversight.briefdata import brief_data, parse_period
from oversight.lookups import progress_summary
from oversight.planfile import ScheduleItem
from oversight.rights import move_right_status
from oversight.timelines import deadline_of, points

NOW = datetime(2026, 4, 8, 2, tzinfo=UTC)
RESTARTED = datetime(2026, 2, 10, 2, tzinfo=UTC)
DAY = date(2026, 4, 1)  # the brief of 2026Q1 looks at the first moment after 31 March


def _expected(target: int, start: date, end: date) -> int:
    """A batch's expected count as of DAY, written here: linear from start to deadline, to one
    decimal, then up to a whole right (不足一宗的按一宗计)."""
    return math.ceil(round(target * (DAY - start).days / (end - start).days, 1))


def _load(session: Session, plan_id: int) -> None:
    tasks = {t.key: t for t in session.exec(select(Task).where(Task.plan_id == plan_id)).all()}
    rights = [Right(plan_id=plan_id, code=f"R{i}", name=f"R{i}", kind="mining") for i in range(4)]
    session.add_all(rights)
    session.flush()
    for right, key in zip(rights, ("restart", "restart", "restart", "upgrade"), strict=True):
        session.add(RightBatch(right_id=right.id, task_id=tasks[key].id))
    session.flush()
    for right in rights[:2]:
        move_right_status(
            session=session, right_id=right.id, to_status="restarted", actor_member_id=None, actor="t", now=RESTARTED
        )
    session.commit()


def test_each_batch_line_says_its_deadline_beside_the_targets(session: Session, banner_plan_id: int) -> None:
    p = banner_plan_id
    _load(session, p)
    restart = _expected(28, date(2026, 1, 1), date(2028, 12, 31))
    upgrade = _expected(11, date(2025, 1, 1), date(2030, 12, 31))
    assert (restart, upgrade) == (3, 3)

    data = brief_data(session=session, plan_id=p, period=parse_period("2026Q1"), now=NOW)
    ctx = brief_context(data, issue_no=1, issued_on="2026-04-08", chart="<svg/>")
    facts = {f["kind"]: f for f in ctx["facts"] if f["kind"] == "progress_lead"}
    lead = facts["progress_lead"]["text"]
    unloaded = "台账尚未载入该批次矿业权"
    assert lead == (
        f"截至2026年3月31日，强化整合重组一批目标46宗（2028年12月31日前），{unloaded}；"
        f"强化淘汰关闭一批目标7宗（2028年12月31日前），{unloaded}；"
        f"加强升级改造一批目标11家（2030年12月31日前），累计完成0家，按进度应完成{upgrade}家；"
        f"优选出让一批目标39个（2028年12月31日前），{unloaded}；"
        f"推进转采一批目标23宗（2028年12月31日前），{unloaded}；"
        f"复工达产一批目标28个（2028年12月31日前），累计完成2个，按进度应完成{restart}个。"
    ), lead
    # The target beside it, on its own timeline (2026-01-01 – 2030-12-31: 28 × 90 / 1,825 = 1.38, 1).
    (target,) = [f["text"] for f in ctx["facts"] if f["kind"] == "progress_target" and f["values"]["key"] == "restart"]
    assert target.startswith("矿山复工达产：目标28个（2030年12月31日前），现为2个，按进度应为1个；"), target
    # 表1 keeps its six columns (a seventh ran past the text block); the lines above say the deadlines, and its foot.
    (section,) = [s for s in ctx["sections"] if s["heading"] == "总体进展"]
    (table,) = section["tables"]
    assert table["columns"] == ["批次", "目标", "累计完成", "本期完成", "按进度应完成", "完成率"]
    rows = {r[0]: r for r in table["rows"]}
    assert rows["复工达产一批"] == ["复工达产一批", 28, 2, 2, str(restart), "7.1%"]
    assert rows["加强升级改造一批"] == ["加强升级改造一批", 11, 0, 0, str(upgrade), "0.0%"]
    assert rows["强化淘汰关闭一批"] == ["强化淘汰关闭一批", 7, "—", "—", "—", "—"]
    texts = [p if isinstance(p, str) else p["text"] for p in section["paragraphs"]]
    assert texts[-1].startswith(
        "注：“按进度应完成”按各批次实施方案时间节点（至其完成期限）在2026年3月31日应达到的比例计算"
    ), texts

    chat = progress_summary(session=session, plan_id=p, as_of=datetime(2026, 4, 1, 4, tzinfo=UTC))
    batches = {
        f["values"]["name"]: f["text"] for f in chat.listed() if f["kind"] in ("batch", "batch_none", "batch_unloaded")
    }
    assert (
        batches["复工达产一批"] == f"复工达产一批：目标28个（2028年12月31日前），已完成2个（按进度应完成{restart}个）"
    )
    assert (
        batches["加强升级改造一批"]
        == f"加强升级改造一批：目标11家（2030年12月31日前），尚未完成（按进度应完成{upgrade}家）"
    )
    assert batches["强化淘汰关闭一批"] == (
        "强化淘汰关闭一批：目标7宗（2028年12月31日前），台账尚未载入该批次矿业权，完成情况暂无法计算"
    )
    assert "矿山复工达产：目标28个（2030年12月31日前），现为2个，按进度应为1个；" in chat.message()


def test_a_timeline_is_due_on_the_day_it_expects_the_whole() -> None:
    """The deadline a line names is the day its timeline expects the whole: the deadline (a milestone
    on it is the whole), none for milestones short of the whole with no deadline, none without a
    timeline."""
    start, end = date(2026, 1, 1), date(2028, 12, 31)
    assert deadline_of(points(start=start, deadline=end, milestones=[])) == end
    half = [ScheduleItem(by=date(2027, 6, 30), share=0.5)]
    assert deadline_of(points(start=start, deadline=end, milestones=half)) == end
    assert deadline_of(points(start=start, deadline=None, milestones=half)) is None
    whole = [*half, ScheduleItem(by=date(2028, 6, 30), share=1.0)]
    assert deadline_of(points(start=start, deadline=None, milestones=whole)) == date(2028, 6, 30)
    assert deadline_of(points(start=start, deadline=None, milestones=[])) is None
