"""`lianxi ledger`: the rights ledger as an xlsx template, import and export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lianxi.common import EXIT_REFUSED, cli_session, fail, new_app, require_plan

app = ledger_app = new_app(name="ledger", help="矿业权台账（xlsx）：模板、导入、导出。")

PlanOption = Annotated[
    str | None, typer.Option("--plan", help="计划代号（文件名，如 urad-middle-banner）；默认为最后加载的计划")
]


@ledger_app.command("template")
def ledger_template(
    out_file: Annotated[Path, typer.Argument(help="输出的 xlsx 文件", metavar="输出文件.xlsx")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="填入该单位负责的矿业权（单位名称、简称或代号），供其核对更新")
    ] = None,
    prefill: Annotated[bool, typer.Option("--prefill", help="填入本计划已有的全部矿业权")] = False,
    plan: PlanOption = None,
) -> None:
    """生成矿业权台账模板（含下拉选项和填写说明）：默认空白，也可预先填入某单位或全部已有的矿业权。"""
    from lianxi.common import out
    from models.base import row_id
    from oversight.files import write_atomic
    from oversight.ledger import ledger_template as build
    from oversight.ledger import write_template
    from oversight.members import require_unit

    if unit is not None and prefill:
        fail("--unit 与 --prefill 只能选一个：--unit 填入一个单位的矿业权，--prefill 填入全部。")
    with cli_session(read_only=True) as session:
        p = require_plan(session, plan)
        name = p.short_name or p.name
        if unit is None and not prefill:
            write_template(out_file, session=session, plan_id=row_id(p))
            text = f"已生成“{name}”矿业权台账模板（空白）：{out_file}"
        else:
            owner = require_unit(session=session, plan_id=row_id(p), text=unit) if unit is not None else None
            made = build(session=session, plan_id=row_id(p), unit_id=row_id(owner) if owner is not None else None)
            write_atomic(out_file, made.data)
            who = owner.name if owner is not None else "全部单位"
            text = f"已生成“{name}”矿业权台账模板，已填入{who}的{made.rights}宗矿业权：{out_file}"
    out.print(text, highlight=False, soft_wrap=True)


@ledger_app.command("import")
def ledger_import(
    in_file: Annotated[Path, typer.Argument(help="填好的 xlsx 台账", metavar="台账文件.xlsx")],
    plan: PlanOption = None,
) -> None:
    """导入矿业权台账：全部校验通过才写入；有错误时逐条列出，数据库不变。"""
    from lianxi.common import err, out
    from models.base import row_id
    from oversight.ledger import LedgerImportError, import_ledger, import_summary

    if not in_file.is_file():
        fail(f"找不到文件 {in_file}。")
    refused: LedgerImportError | None = None
    with cli_session() as session:
        p = require_plan(session, plan)
        try:
            result = import_ledger(session=session, plan_id=row_id(p), data=in_file, actor="cli")
            summary = import_summary(session=session, plan_id=row_id(p), result=result).message()
        except LedgerImportError as exc:
            refused = exc
            session.rollback()
    if refused is not None:
        err.print(
            f"[bold red]错误：[/bold red]台账 {in_file} 未导入（未做任何更改），共{len(refused.errors)}处错误：",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
        for e in refused.errors:
            err.print(f"  {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_REFUSED)
    out.print(
        f"已导入台账 {in_file}：{summary}",
        highlight=False,
        soft_wrap=True,
    )


@ledger_app.command("export")
def ledger_export(
    out_file: Annotated[Path, typer.Argument(help="输出的 xlsx 文件", metavar="输出文件.xlsx")],
    plan: PlanOption = None,
) -> None:
    """导出台账：矿业权台账、问题台账、议定事项（时间按北京时间）。"""
    from lianxi.common import out
    from models.base import row_id
    from oversight.ledger import export_ledger

    with cli_session(read_only=True) as session:
        p = require_plan(session, plan)
        export_ledger(out_file, session=session, plan_id=row_id(p))
        name = p.short_name or p.name
    out.print(f"已导出“{name}”台账：{out_file}", highlight=False, soft_wrap=True)
