"""`lianxi plan …`: load a plan file and show the loaded plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from lianxi.common import cli_session, fail, new_app, require_plan

app = plan_app = new_app(name="plan", help="计划（实施方案）的加载与查看。")

PlanOption = Annotated[str | None, typer.Option("--plan", help="计划代号（文件名，如 inner-mongolia-2022）")]


@plan_app.command("load")
def plan_load(file: Annotated[Path, typer.Argument(help="计划文件（YAML）", metavar="计划文件.yaml")]) -> None:
    """校验并加载计划文件；合计对不上时拒绝加载，数据库不变。"""
    from lianxi.common import out
    from oversight.planfile import PlanFileError, parse_plan_file
    from oversight.plans import load_plan

    try:
        spec = parse_plan_file(file)
    except PlanFileError as exc:
        fail(f"计划文件 {file} 未通过校验，未做任何更改。\n{exc}")
    with cli_session() as session:
        result = load_plan(session=session, spec=spec, actor="cli")
        key = result.plan.key
    if not result.changed:
        out.print(f"计划“{spec.name}”（{key}）已加载且内容相同，未做更改。")
    elif result.created:
        out.print(
            f"已加载计划“{spec.name}”（{key}）：{len(spec.units)} 个单位，{len(spec.tasks)} 项任务，{len(spec.zones)} 个整合区。"
        )
    else:
        out.print(f"已更新计划“{spec.name}”（{key}）。")


@plan_app.command("show")
def plan_show(
    plan: PlanOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """显示计划：基数、目标、各批次、整合区及合计。"""
    from oversight.planfile import plan_show_json, plan_show_text
    from oversight.plans import plan_spec

    with cli_session(read_only=True) as session:
        spec = plan_spec(require_plan(session, plan))
    if as_json:
        typer.echo(json.dumps(plan_show_json(spec), ensure_ascii=False, indent=2))
    else:
        typer.echo(plan_show_text(spec))
