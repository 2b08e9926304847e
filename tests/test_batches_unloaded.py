"""A batch whose ledger lists no right has nothing that can be counted: the documents say the
ledger has not been loaded instead of 累计完成0宗…按进度应完成10宗 and finding it 滞后 (issue 18:
a fresh deployment has the plan and no ledger, and its first brief put every batch behind).

Scenarios on a fresh deployment of the 乌拉特中旗 plan: no right at all, then two rights in the
consolidation batch (one consolidated) and none in the others."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from jobs.brief import brief_context, brief_summary, chart_rows
from models import Right, RightBatch, Task
from oversight.briefdata import brief_data, parse_period
from oversight.lookups import progress_summary
from oversight.measures import tasks_behind
from oversight.rights import move_right_status

NOW = datetime(2026, 12, 3, 4, tzinfo=UTC)  # 3 December 2026, noon in Beijing: 2026Q4 is running
MOVED = datetime(2026, 11, 2, 4, tzinfo=UTC)

TARGETS = (
    "强化整合重组一批46宗（2028年12月31日前）、强化淘汰关闭一批7宗（2028年12月31日前）、加强升级改造一批11家（2030年12月31日前）、"
    "优选出让一批39个（2028年12月31日前）、推进转采一批23宗（2028年12月31日前）、复工达产一批28个（2028年12月31日前）"
)


def _brief(session: Session, plan_id: int) -> tuple[dict, dict]:
    data = brief_data(session=session, plan_id=plan_id, period=parse_period("2026Q4"), now=NOW)
    return data, brief_context(data, issue_no=1, issued_on="2026-12-03", chart=None)


def _section(ctx: dict, heading: str) -> dict:
    return next(s for s in ctx["sections"] if s["heading"] == heading)


def _texts(paragraphs: list) -> list[str]:
    return [p if isinstance(p, str) else p["text"] for p in paragraphs]


def test_no_batch_loaded_is_said_once_with_no_figure_table_chart_or_lag(session: Session, banner_plan_id: int) -> None:
    p = banner_plan_id
    data, ctx = _brief(session, p)
    assert all(r["unloaded"] for r in data["progress"]) and len(data["progress"]) == 6
    progress = _section(ctx, "总体进展")
    texts = _texts(progress["paragraphs"])
    assert texts[0] == f"台账尚未载入各批次的矿业权，各批次完成情况暂无法统计。各批次目标为：{TARGETS}。"
    joined = "".join(texts)
    for wrong in ("累计完成", "按进度应完成", "本期没有新完成", "尚未完成整合区", "滞后"):
        assert wrong not in joined, wrong
    assert progress["tables"] == [] and progress["charts"] == []
    # The tables are numbered from 1 in the order printed: the zones' table is the first.
    captions = [t["caption"] for s in ctx["sections"] for t in s.get("tables", [])]
    assert captions[0] == "表1  各整合区本期动态"
    # No problem at all: the problems' lead says so, with no 表 of zeros (a 合计 row of 0s) below it.
    problems = _section(ctx, "问题办理情况")
    assert problems["tables"] == [] and _texts(problems["paragraphs"]) == [
        "本期没有新增问题，也没有办结问题。",
        "目前没有未关闭的问题。",
    ]
    assert captions[1] == "表2  各单位履职情况"
    assert [c.split()[0] for c in captions] == [f"表{n}" for n in range(1, len(captions) + 1)]
    kinds = [f["kind"] for f in ctx["facts"]]
    assert "agenda_behind" not in kinds and "progress_lead" not in kinds
    assert "进展：台账尚未载入各批次的矿业权\n" in brief_summary(data, issue_no=1)
    # No rule finds an unloaded batch behind (the notice's and the meeting's 进度滞后 rest on it).
    assert tasks_behind(session=session, plan_id=p, as_of=NOW, behind_points=0) == []
    chat = progress_summary(session=session, plan_id=p, as_of=NOW)
    batches = [f for f in chat.listed() if f["kind"].startswith("batch") and f["kind"] != "batches_head"]
    assert [f["kind"] for f in batches] == ["batch_unloaded"] * 6
    assert (
        batches[0]["text"]
        == "强化整合重组一批：目标46宗（2028年12月31日前），台账尚未载入该批次矿业权，完成情况暂无法计算"
    )
    assert "按进度" not in chat.message()


def test_a_batch_not_loaded_beside_one_loaded_shows_a_dash(session: Session, banner_plan_id: int) -> None:
    p = banner_plan_id
    consolidate = session.exec(select(Task).where(Task.plan_id == p, Task.key == "consolidate")).one()
    rights = [Right(plan_id=p, code=f"C{i}", name=f"C{i}", kind="mining") for i in range(2)]
    session.add_all(rights)
    session.flush()
    session.add_all(RightBatch(right_id=r.id, task_id=consolidate.id) for r in rights)
    session.flush()
    move_right_status(
        session=session, right_id=rights[0].id, to_status="consolidated", actor_member_id=None, actor="t", now=MOVED
    )
    session.commit()

    data, ctx = _brief(session, p)
    assert [r["unloaded"] for r in data["progress"]] == [False, True, True, True, True, True]
    progress = _section(ctx, "总体进展")
    texts = _texts(progress["paragraphs"])
    assert texts[0].startswith(
        "截至2026年12月3日 12:00，强化整合重组一批目标46宗（2028年12月31日前），累计完成1宗，按进度应完成15宗；"
    )
    assert (
        "；强化淘汰关闭一批目标7宗（2028年12月31日前），台账尚未载入该批次矿业权；"
        "加强升级改造一批目标11家（2030年12月31日前），台账尚未载入该批次矿业权；" in texts[0]
    )
    assert texts[0].endswith("复工达产一批目标28个（2028年12月31日前），台账尚未载入该批次矿业权。")
    assert texts[1] == "本期新完成强化整合重组一批1宗。", texts
    assert texts[-1].startswith("注：") and "台账尚未载入矿业权的批次，完成情况记“—”。" in texts[-1]
    # The targets round to the nearest whole, the batches up: the note says both.
    assert texts[-1].endswith("对照总体目标的按进度数值按各目标时间节点折算，取最接近的整数，占比保留一位小数。")
    (table,) = progress["tables"]
    assert table["caption"] == "表1  各批次完成情况"
    assert table["rows"][0][:4] == ["强化整合重组一批", 46, 1, 1]
    assert table["rows"][1] == ["强化淘汰关闭一批", 7, "—", "—", "—", "—"]
    captions = [t["caption"] for s in ctx["sections"] for t in s.get("tables", [])]
    assert captions[:2] == ["表1  各批次完成情况", "表2  各整合区本期动态"]
    assert [r["name"] for r in chart_rows(data["progress"])] == ["强化整合重组一批"]
    behind = tasks_behind(session=session, plan_id=p, as_of=NOW, behind_points=0)
    assert [r["key"] for r in behind] == ["consolidate"]  # 1 of 46 against its timeline; the others wait
    summary = brief_summary(data, issue_no=1)
    assert "进展：强化整合重组一批1/46宗；强化淘汰关闭一批（台账尚未载入）；" in summary
    chat = progress_summary(session=session, plan_id=p, as_of=NOW)
    kinds = [f["kind"] for f in chat.listed() if f["kind"] in ("batch", "batch_none", "batch_unloaded")]
    assert kinds == ["batch"] + ["batch_unloaded"] * 5
