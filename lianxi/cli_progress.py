"""`lianxi progress`: each plan-level target and batch against what the timeline expects by now."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from lianxi.chinese_help import ChineseTyper
from lianxi.common import cli_session, require_plan

app = ChineseTyper()


@app.command("progress")
def progress_command(
    plan: Annotated[
        str | None, typer.Option("--plan", help="计划代号（如 urad-middle-banner）；默认为最后加载的计划")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（含每个数字所依据的矿业权）")] = False,
) -> None:
    """显示方案总体目标和各批次的进度：当前数、按时间节点应达到的数及所依据的矿业权。"""
    from models import row_id, utcnow
    from oversight.lookups import progress_summary
    from oversight.measures import progress_by_now
    from oversight.targets import format_breakdown, format_leagues, plan_targets, region_breakdown, region_by_league

    now = utcnow()
    with cli_session(read_only=True) as session:
        chosen = require_plan(session, plan)
        plan_id = row_id(chosen)
        region = chosen.level == "region"
        breakdown = region_breakdown(session=session, plan_id=plan_id, as_of=now) if region else []
        leagues = region_by_league(session=session, plan_id=plan_id, as_of=now) if region else []
        if as_json:
            targets = plan_targets(session=session, plan_id=plan_id, as_of=now)
            batches = progress_by_now(session=session, plan_id=plan_id, as_of=now)
        else:
            summary = progress_summary(session=session, plan_id=plan_id, as_of=now).message()
    if as_json:
        data = {"plan": chosen.key, "as_of": now.isoformat(), "targets": targets, "batches": batches}
        if region:
            data |= {"breakdown": breakdown, "leagues": leagues}
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    lines = [summary]  # what /progress says, the region's breakdown and leagues after it
    if region:
        lines += ["三、各项任务及原因分项", format_breakdown(breakdown), "四、各盟市", format_leagues(leagues)]
    typer.echo("\n".join(lines))
