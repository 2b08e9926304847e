"""`lianxi brief`: build a period's brief offline (PDF, Word copy and xlsx annex); nothing is recorded or sent."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lianxi.chinese_help import ChineseTyper
from lianxi.common import cli_session, fail, require_plan

app = ChineseTyper()


@app.command("brief")
def brief_command(
    period: Annotated[str, typer.Option("--period", help="期别：季度写作 2026Q1；临时会议写作会议日期 2026-04-15")],
    out: Annotated[Path, typer.Option("--out", help="输出目录（生成 PDF、Word 文档和 xlsx 附件）")],
    plan: Annotated[
        str | None, typer.Option("--plan", help="计划代号（如 urad-middle-banner）；默认为最后加载的计划")
    ] = None,
) -> None:
    """离线生成工作简报（PDF、Word 文档和 xlsx 台账附件），不编期号记录、不发送。"""
    from jobs.brief import build_brief
    from lianxi.common import out as console
    from models import utcnow
    from models.base import row_id
    from oversight.briefdata import parse_period
    from oversight.dates import cn_date, cn_datetime, local_day
    from oversight.periods import PeriodError

    try:
        p = parse_period(period)
    except PeriodError as exc:
        fail(exc.message)
    now = utcnow()
    if p.first_day > local_day(now):
        fail(f"期别“{period}”（{p.label}）尚未开始，不能生成简报。")
    if out.exists() and not out.is_dir():
        fail(f"输出位置 {out} 已存在且不是目录。")
    with cli_session() as session:
        chosen = require_plan(session, plan)
        result = build_brief(session=session, plan_id=row_id(chosen), period=p, now=now, out_dir=out)
    # A quarter that runs on is 截至 the moment computed, as the brief itself says (never its last day).
    as_of = cn_date(p.last_day) if p.has_ended(now) else cn_datetime(now)
    console.print(f"已生成{result.title}第{result.issue_no}期（{p.label}，截至{as_of}）：", highlight=False)
    console.print(f"  {result.pdf_path}", highlight=False, soft_wrap=True)
    console.print(f"  {result.docx_path}", highlight=False, soft_wrap=True)
    console.print(f"  {result.xlsx_path}", highlight=False, soft_wrap=True)
