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
            f"已加载计划“{spec.name}”（{key}）：{len(spec.units)}个单位，{len(spec.tasks)}项任务，{len(spec.zones)}个整合区。"
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


@plan_app.command("milestones")
def plan_milestones(
    key: Annotated[
        str, typer.Argument(help="任务或目标的键（如 upgrade；用 lianxi plan show --json 查看）", metavar="键")
    ],
    marks: Annotated[
        list[str] | None,
        typer.Argument(help="进度节点：日期=比例，如 2026-12-31=0.2（比例0–1，可写20%）；不写则只显示", metavar="节点"),
    ] = None,
    target: Annotated[bool, typer.Option("--target", help="设置方案总体目标（而非任务）的进度节点")] = False,
    clear: Annotated[bool, typer.Option("--clear", help="清除进度节点，恢复按起止日期线性计算")] = False,
    plan: PlanOption = None,
) -> None:
    """显示或设置任务、目标的进度节点（方案未载明中间时间节点时由管理员设定）。"""
    from datetime import date

    from lianxi.common import out
    from oversight.errors import OversightError
    from oversight.plans import plan_spec, set_milestones
    from oversight.timelines import target_points, task_points

    wanted: list[tuple[date, float]] = []
    for mark in marks or []:
        day_text, sep, share_text = mark.partition("=")
        try:
            day = date.fromisoformat(day_text.strip())
            share = float(share_text.strip().rstrip("%")) / (100 if share_text.strip().endswith("%") else 1)
        except ValueError:
            fail(f"进度节点“{mark[:40]}”格式不对，应写成 2026-12-31=0.2 或 2026-12-31=20%。")
        if not sep:
            fail(f"进度节点“{mark[:40]}”缺少“=比例”。")
        wanted.append((day, share))
    with cli_session(read_only=not (wanted or clear)) as session:
        chosen = require_plan(session, plan)
        if wanted or clear:
            try:
                points = set_milestones(
                    session=session, plan_id=chosen.id or 0, key=key, milestones=wanted, actor="cli", of_target=target
                )
            except OversightError as exc:
                fail(exc.message)
        else:
            spec = plan_spec(chosen)
            if target:
                goal = spec.target(key)
                if goal is None:
                    fail(f"计划中没有目标 {key!r}。")
                points = target_points(spec, goal)
            else:
                task = spec.task(key)
                if task is None:
                    fail(f"计划中没有任务 {key!r}。")
                points = task_points(spec, task)
    if not points:
        out.print(f"{key}：方案未载明期限，也未设置进度节点，不计算“按进度应完成”。", highlight=False)
        return
    out.print(f"{key} 的进度时间线（起点、节点、期限）：", highlight=False)
    for p in points:
        out.print(f"  {p['by']}  {p['share'] * 100:g}%", highlight=False)
    if wanted or clear:
        out.print("已保存；再次加载计划文件时保留，除非文件中为该项写明了自己的节点。", highlight=False)
