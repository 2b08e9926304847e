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
    plan: PlanOption = None,
) -> None:
    """生成空白矿业权台账模板（含下拉选项和填写说明）。"""
    from lianxi.common import out
    from oversight.ledger import write_template

    with cli_session(read_only=True) as session:
        p = require_plan(session, plan)
        write_template(out_file, session=session, plan_id=p.id)
        name = p.short_name or p.name
    out.print(f"已生成“{name}”矿业权台账模板：{out_file}", highlight=False, soft_wrap=True)


@ledger_app.command("import")
def ledger_import(
    in_file: Annotated[Path, typer.Argument(help="填好的 xlsx 台账", metavar="台账文件.xlsx")],
    plan: PlanOption = None,
) -> None:
    """导入矿业权台账：全部校验通过才写入；有错误时逐条列出，数据库不变。"""
    from lianxi.common import err, out
    from oversight.ledger import LedgerImportError, import_ledger

    if not in_file.is_file():
        fail(f"找不到文件 {in_file}。")
    refused: LedgerImportError | None = None
    with cli_session() as session:
        p = require_plan(session, plan)
        try:
            result = import_ledger(session=session, plan_id=p.id, data=in_file, actor="cli")
        except LedgerImportError as exc:
            refused = exc
            session.rollback()
    if refused is not None:
        err.print(
            f"[bold red]错误：[/bold red]台账 {in_file} 未导入（未做任何更改），共 {len(refused.errors)} 处错误：",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
        for e in refused.errors:
            err.print(f"  {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_REFUSED)
    out.print(
        f"已导入台账 {in_file}：共 {result.rows} 宗，新增 {result.created} 宗，更新 {result.updated} 宗，"
        f"未变 {result.unchanged} 宗；处置状态变更 {result.status_changes} 宗。",
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
    from oversight.ledger import export_ledger

    with cli_session(read_only=True) as session:
        p = require_plan(session, plan)
        export_ledger(out_file, session=session, plan_id=p.id)
        name = p.short_name or p.name
    out.print(f"已导出“{name}”台账：{out_file}", highlight=False, soft_wrap=True)
