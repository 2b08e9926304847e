"""`lianxi calendar …`: the working-day calendar's years (show, list) and adding a year from the
State Council's notice (import). Registered in lianxi/cli.py (COMMAND_MODULES) with one line."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from lianxi import common as cli

app = calendar_app = cli.new_app(
    name="calendar", help="工作日历：查看各年节假日安排，从国务院办公厅节假日安排通知添加一年。"
)


@calendar_app.command("import")
def calendar_import(
    file: Annotated[Path, typer.Argument(help="通知全文的文本文件（UTF-8），如 2027.txt", metavar="通知文件.txt")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="不再询问，直接保存（用于脚本）")] = False,
) -> None:
    """读取国务院办公厅关于某年部分节假日安排的通知，显示解析结果，确认后保存（可替换已有年份）。"""
    from oversight import workdays
    from oversight.holiday_notice import NoticeParseError, format_preview, parse_notice, store_notice

    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        cli.fail(f"找不到文件 {file}。")
    except IsADirectoryError:
        cli.fail(f"{file} 是一个目录，不是通知文件。")
    except PermissionError:
        cli.fail(f"没有读取 {file} 的权限。")
    except UnicodeDecodeError:
        cli.fail(f"{file} 不是文本文件。请把通知全文另存为 UTF-8 编码的文本文件后再导入。")
    except OSError:
        cli.fail(f"无法读取文件 {file}。")
    try:
        parsed = parse_notice(text)
    except NoticeParseError as exc:
        cli.fail(exc.message)
    with cli.cli_session() as session:
        replacing = workdays.year_data(parsed.year) is not None
        listing, grids = format_preview(parsed, replacing=replacing)
        cli.out.print(listing, highlight=False, markup=False)
        cli.out.print(grids, highlight=False, markup=False)
        if not yes and not typer.confirm(f"确认保存{parsed.year}年的节假日安排？", default=False):
            cli.out.print("未保存。")
            raise typer.Exit(cli.EXIT_REFUSED)
        result = store_notice(session=session, parsed=parsed, actor=f"cli:{getpass.getuser()}")
    verb = "替换" if result.replaced else "保存"
    cli.out.print(f"已{verb}{parsed.year}年的节假日安排。", highlight=False)
    for pid, old, new in result.moved:
        cli.out.print(f"{pid}号问题的办理期限按新日历由 {old.isoformat()} 改为 {new.isoformat()}。", highlight=False)


@calendar_app.command("show")
def calendar_show(
    year: Annotated[int, typer.Argument(help="年份，如 2026", metavar="年份")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """显示某年的放假日和调休上班日，以及数据来源。"""
    from oversight import workdays
    from oversight.holiday_notice import HOW_TO_ADD, describe_days, grids_of

    with cli.cli_session(read_only=True):
        data = workdays.year_data(year)
    if data is None:
        cli.fail(f"{year}年还没有节假日数据，工作日暂按周一至周五估算。{HOW_TO_ADD.format(year=year)}")
        return
    if as_json:
        typer.echo(json.dumps(workdays.year_json(data), ensure_ascii=False, indent=2))
        return
    who = f"，{data.stored_by} 于 {data.stored_at:%Y-%m-%d %H:%M} 保存" if data.stored and data.stored_at else ""
    cli.out.print(f"{year}年节假日安排（来源：{data.source}{who}）", highlight=False, markup=False)
    by_name: dict[str, tuple[list, list]] = {}
    for d in data.holidays:
        by_name.setdefault(data.names.get(d, ""), ([], []))[0].append(d)
    for d in data.workdays:
        by_name.setdefault(data.names.get(d, ""), ([], []))[1].append(d)
    for name, (hol, work) in sorted(by_name.items(), key=lambda kv: min(kv[1][0] or kv[1][1])):
        if hol:
            cli.out.print(f"{name or '节假日'}：{describe_days(hol, work, year)}", highlight=False, markup=False)
    cli.out.print("月历（休＝放假，班＝调休上班）：", highlight=False)
    cli.out.print("\n\n".join(grids_of(year, set(data.holidays), set(data.workdays))), highlight=False, markup=False)


@calendar_app.command("list")
def calendar_list() -> None:
    """列出有节假日数据的年份及来源；缺少的年份工作日按周一至周五估算。"""
    from oversight import workdays

    with cli.cli_session(read_only=True):
        years = sorted(workdays.known_years())
        rows = [(y, workdays.year_data(y)) for y in years]
    first, last = workdays.covered_years()
    stored = [(y, d) for y, d in rows if d is not None and d.stored]
    cli.out.print(f"软件包自带：{first}–{last}年（{workdays.PACKAGE_SOURCE}）。", highlight=False)
    for y, d in stored:
        assert d is not None
        when = f"{d.stored_at:%Y-%m-%d}" if d.stored_at else ""
        cli.out.print(f"管理员添加：{y}年（{d.source}，{d.stored_by} {when}）。", highlight=False, markup=False)
    nxt = workdays.first_estimated_year()
    cli.out.print(f"{nxt}年起没有数据，工作日按周一至周五估算。", highlight=False)
