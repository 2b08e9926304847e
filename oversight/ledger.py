"""The ledger (台账) as a spreadsheet: a template to fill, an all-or-nothing import that
upserts rights by code, and an export of rights, problems and agreed matters.

The rights sheet has a title row, then the header row, then one right per row. Import
finds the header row by its first header, so a sheet without the title row is read too.
Every value written by export is read back to the same value by import (round trip).
A sample plan's workbook (oversight.sample) carries its mark on every sheet: in the title row
and in the printed page header.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any, BinaryIO

import xlsxwriter
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import case
from sqlalchemy import select as core_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet as XlsxSheet

from config.settings import get_settings
from models import (
    Decision,
    Meeting,
    Plan,
    Problem,
    ProblemCategory,
    Right,
    RightBatch,
    RightKind,
    SizeClass,
    Task,
    Unit,
    Zone,
    raw_rows,
    utcnow,
)
from models.base import row_id
from oversight.attachments import MAX_BYTES
from oversight.audit import audit
from oversight.dates import cn_date, cn_datetime, local_zone
from oversight.errors import LedgerError, NotFoundError, PlanMissingError
from oversight.facts import Chat
from oversight.files import atomic_target
from oversight.inputlimits import BrokenWorkbookError, FileLimitError, check_xlsx
from oversight.measures import overdue_before
from oversight.meetings import completion_text
from oversight.planfile import unit_aliases
from oversight.problems import STATE_LABELS as PROBLEM_STATES
from oversight.rights import (
    ABSORBED_ALIASES,
    ABSORBED_PRODUCTION,
    GREEN_LABELS,
    IDLE_CAUSE_LABELS,
    KIND_COUNTS_AS,
    KIND_LABELS,
    PRODUCTION_LABELS,
    SECTOR_LABELS,
    SIZE_LABELS,
    STATUS_LABELS,
    RightStatus,
    is_absorbed,
    move_right_status,
    parse_green,
    parse_idle_cause,
    parse_kind,
    parse_production,
    parse_sector,
    parse_size,
    parse_status,
)
from oversight.sample import sample_mark

SHEET_RIGHTS = "矿业权台账"
SHEET_PROBLEMS = "问题台账"
SHEET_DECISIONS = "议定事项"
SHEET_HELP = "说明"
SHEET_OPTIONS = "选项"

BATCH_SEPARATOR = "、"
BATCH_SPLIT_RE = re.compile(r"[、，,；;/\n]+")
MAX_ERRORS_IN_MESSAGE = 30
HEADER_SEARCH_ROWS = 5
VALIDATION_SPARE_ROWS = 1000

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls format


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int
    required: bool
    max_len: int
    help: str


COLUMNS: tuple[Column, ...] = (
    Column(
        "code",
        "矿业权编号",
        24,
        True,
        80,
        "许可证号或统一编号，每宗矿业权唯一；导入时按编号新增或更新。拟设探矿权可自拟编号（如 拟设-06）。",
    ),
    Column("name", "矿业权名称", 32, True, 200, "许可证上的矿山或勘查项目名称。"),
    Column("kind", "类型", 16, True, 0, "下拉选择：采矿权、探矿权、采矿权深部探矿权、拟设探矿权。"),
    Column("mineral", "矿种", 10, False, 40, "主要矿种，如 铁、金、萤石。"),
    Column("zone", "所属整合区", 24, False, 0, "下拉选择方案确定的整合区；不在整合区内的留空。"),
    Column(
        "parent",
        "所属深部探矿权的采矿权编号",
        24,
        False,
        80,
        "仅“采矿权深部探矿权”填写：该深部探矿权所依附的采矿权编号，须是本表或系统中已有的采矿权。其他类型留空。",
    ),
    Column(
        "size",
        "规模",
        8,
        False,
        0,
        "采矿权按生产规模下拉选择：大型、中型、小型；留空按小型。探矿权（含深部探矿权、拟设探矿权）没有生产规模，不填，所填的不导入。",
    ),
    Column(
        "production",
        "生产状态",
        12,
        False,
        0,
        "下拉选择：" + "、".join(PRODUCTION_LABELS.values()) + "；探矿权可留空。"
        f"整合区内已整合、不是整合后保留的那一宗的矿业权（整合后保留填“否”，或本区另有一宗填“是”），"
        f"已并入保留的采矿权，不再单独生产或勘查，填“{ABSORBED_PRODUCTION}”或留空。",
    ),
    Column(
        "status",
        "处置状态",
        16,
        True,
        0,
        "下拉选择：" + "、".join(STATUS_LABELS.values()) + "。状态变化会记入该矿业权的处置历史。",
    ),
    Column(
        "batches",
        "所属批次",
        36,
        False,
        0,
        "方案中的“一批”名称，一宗矿业权可属于多个批次，用“、”分隔，如 强化整合重组一批、复工达产一批。",
    ),
    Column("unit", "责任单位", 22, False, 0, "下拉选择成员单位。通过系统报送时只能填写本单位。"),
    Column("holder", "矿业权人", 28, False, 200, "企业名称。"),
    Column("contact", "责任人", 12, False, 100, "责任单位的具体负责人，可附电话。"),
    Column("due", "完成时限", 16, False, 0, "日期，如 2026年12月31日。"),
    Column("note", "备注", 36, False, 1000, "其他需要说明的情况。"),
    Column("sector", "行业", 8, False, 0, "下拉选择：煤炭、非煤。"),
    Column(
        "cause",
        "停产或未转采原因",
        24,
        False,
        0,
        "下拉选择：" + "、".join(IDLE_CAUSE_LABELS.values()) + "。填方案基数时的原因，正常生产的留空；"
        "已复工复产或已转采的保留原来的原因，按原因统计完成情况。",
    ),
    Column(
        "green", "绿色矿山", 10, False, 0, "已纳入绿色矿山名录的，下拉选择级别：国家级、自治区级、盟市级；否则留空。"
    ),
    Column("locality", "所在盟市", 16, False, 0, "矿业权所在的盟行政公署或市人民政府，下拉选择；方案未分盟市的留空。"),
    Column("baseline", "底数核实日期", 16, False, 0, "盟市逐矿权核实底数的日期，如 2022年9月20日。"),
    Column(
        "kept",
        "整合后保留",
        10,
        False,
        0,
        "仅整合区内的矿业权填写，下拉选择：整合后保留的采矿权填“是”，整合后并入保留矿山的填“否”，尚未确定的留空。"
        "每个整合区只能有一宗采矿权填“是”。工作简报据此确定整合减少的是哪几宗采矿权；"
        "整合区内没有填“是”、已整合的采矿权有两宗以上留空的，暂按保留其中1宗计数，不认定减少的是哪一宗。",
    ),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
# Columns added after ledgers were handed out: a file without them leaves those fields as they are.
LATER_COLUMNS = frozenset({"sector", "cause", "green", "locality", "baseline", "kept"})
# 整合后保留 (Right.kept_in_zone): the zone's right the consolidation keeps, one it absorbs; blank: not stated.
KEPT_LABELS: dict[bool, str] = {True: "是", False: "否"}
HEADERS = tuple(c.header for c in COLUMNS)

# A problem's state named as the chat names it (one source: oversight.problems).
PROBLEM_STATE_LABELS: dict[str, str] = PROBLEM_STATES
DECISION_STATE_LABELS: dict[str, str] = {"open": "推进中", "submitted": "已报告完成，待办公室验收", "done": "已完成"}
# An open matter by its deadline as of the export (as the brief's 议定事项 table reads it).
DECISION_OPEN_LABELS: dict[str, str] = {"overdue": "逾期未完成", "due": "推进中（未到期）"}
MEETING_KIND_LABELS: dict[str, str] = {"quarterly": "季度联席会议", "adhoc": "临时联席会议"}


# --- Errors and results ---------------------------------------------------------------


@dataclass(frozen=True)
class CellError:
    """One refused cell (or a sheet-level problem when row is None)."""

    sheet: str
    row: int | None
    column_letter: str
    header: str
    message: str

    def __str__(self) -> str:
        where = self.sheet
        if self.row is not None:
            where += f" 第{self.row}行"
        if self.column_letter:
            where += f" {self.column_letter}列"
        if self.header:
            where += f"（{self.header}）"
        return f"{where}：{self.message}"


class LedgerFileError(LedgerError):
    message = "上传的文件不是 Excel 工作簿（.xlsx），请用 Excel 或 WPS 打开后“另存为 Excel 工作簿（*.xlsx）”再提交。"


class LedgerImportError(LedgerError):
    """The ledger was refused; `errors` lists every bad cell. Nothing was written."""

    def __init__(self, errors: list[CellError]) -> None:
        self.errors = list(errors)
        shown = [str(e) for e in self.errors[:MAX_ERRORS_IN_MESSAGE]]
        more = len(self.errors) - len(shown)
        lines = [f"台账未导入（未做任何更改），共发现{len(self.errors)}处错误：", *shown]
        if more > 0:
            lines.append(f"……另有{more}处错误未列出，请先改正以上各处后重新提交。")
        super().__init__("\n".join(lines))


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0
    # A unit's upload claims its done states (oversight.claims): (right id, status), moved only once confirmed.
    claims: list[tuple[int, str]] = field(default_factory=list)
    created_codes: list[str] = field(default_factory=list)
    updated_codes: list[str] = field(default_factory=list)
    # Rows of exploration rights whose 规模 was not imported (a mine's production scale): (row, code).
    size_ignored: list[tuple[int, str]] = field(default_factory=list)


# What an import did, as the bot and `lianxi ledger import` both say it (oversight.facts.Chat): the
# count line names only what some row is, and cites the rights it created or updated.
IMPORT_TEXTS: dict[str, str] = {
    "counts": "共{rows}宗（{parts}）。",
    "none": "台账中没有矿业权记录。",
    "size_ignored": "{where}是探矿权，规模按矿山生产规模划分，只填采矿权，所填规模未导入。",
}
SIZE_IGNORED_ROWS_NAMED = 10  # rows named in the line; more are counted
IMPORT_PARTS = (
    ("created", "新增{n}宗"),
    ("updated", "更新{n}宗"),
    ("unchanged", "未变{n}宗"),
    ("status_changes", "处置状态变更{n}宗"),
)


def import_summary(*, session: Session, plan_id: int, result: ImportResult) -> Chat:
    """The import's count line: the rows merged, then each kind of change some row had."""
    counts = {key: int(getattr(result, key)) for key, _ in IMPORT_PARTS}
    parts = "，".join(words.format(n=counts[key]) for key, words in IMPORT_PARTS if counts[key])
    codes = [*result.created_codes, *result.updated_codes]
    ids = (
        session.exec(select(Right.id).where(Right.plan_id == plan_id, col(Right.code).in_(codes))).all()
        if codes
        else []
    )
    say = Chat(IMPORT_TEXTS)
    if not result.rows:
        say.fact("none", rows=0)
        return say
    say.fact(
        "counts",
        {"right": [int(i) for i in ids if i is not None]} if ids else None,
        rows=result.rows,
        parts=parts,
        **counts,
    )
    if result.size_ignored:
        numbers = [n for n, _ in result.size_ignored]
        shown = "、".join(str(n) for n in numbers[:SIZE_IGNORED_ROWS_NAMED])
        more = f"等{len(numbers)}行" if len(numbers) > SIZE_IGNORED_ROWS_NAMED else ""
        ignored = session.exec(
            select(Right.id).where(
                Right.plan_id == plan_id, col(Right.code).in_([code for _, code in result.size_ignored])
            )
        ).all()
        say.fact(
            "size_ignored",
            {"right": [int(i) for i in ignored if i is not None]} if ignored else None,
            where=f"第{shown}行{more}",
            n=len(numbers),
        )
    return say


# --- Reference data of a plan ----------------------------------------------------------


@dataclass
class _Refs:
    plan: Plan
    zones: list[Zone]
    units: list[Unit]
    tasks: list[Task]
    right_kinds: dict[str, list[str]]  # task key -> plan-file right_kinds
    columns: tuple[Column, ...] = COLUMNS  # the rights sheet's columns for this plan (plan_columns)

    @property
    def zone_by_id(self) -> dict[int, Zone]:
        return {z.id: z for z in self.zones if z.id is not None}

    @property
    def unit_by_id(self) -> dict[int, Unit]:
        return {u.id: u for u in self.units if u.id is not None}


def _refs(session: Session, plan_id: int) -> _Refs:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanMissingError()
    zones = list(session.exec(select(Zone).where(Zone.plan_id == plan_id).order_by(col(Zone.seq))).all())
    units = list(session.exec(select(Unit).where(Unit.plan_id == plan_id).order_by(col(Unit.id))).all())
    tasks = list(session.exec(select(Task).where(Task.plan_id == plan_id).order_by(col(Task.seq))).all())
    kinds = {t.get("key"): list(t.get("right_kinds") or []) for t in (plan.spec or {}).get("tasks", [])}
    return _Refs(plan=plan, zones=zones, units=units, tasks=tasks, right_kinds=kinds, columns=plan_columns(plan, units))


# The rights sheet's columns that only some plans count or route by, and what in the plan file says
# it does: 行业 where a task is of one sector or a category's owner depends on it (seed 003 一, coal
# and non-coal apart); 停产或未转采原因 where a task breaks its count down by cause (seed 003 一 (一)–(六));
# 绿色矿山 where the plan sets the green-mines target (seed 000 一: 自治区级以上绿色矿山达到3个);
# 所在盟市 and 底数核实日期 where the plan has leagues and cities, who verify the baseline right by right
# (seed 003 三(二)). A plan's export and template carry only its own; the import reads a workbook with
# or without any of them (LATER_COLUMNS: a column a file lacks leaves the field as stored).
_PLAN_COLUMN_KEYS = frozenset({"sector", "cause", "green", "locality", "baseline"})


def plan_columns(plan: Plan, units: Iterable[Unit]) -> tuple[Column, ...]:
    """The rights sheet's columns for `plan` (whose `units` are given), in the sheet's order."""
    spec = plan.spec or {}
    tasks = list(spec.get("tasks") or [])
    leagues = any(u.kind == "league" for u in units)
    uses = {
        "sector": any(t.get("sector") for t in tasks)
        or any(c.get("owner_by_sector") for c in spec.get("categories") or []),
        "cause": any(t.get("breakdown") for t in tasks),
        "green": any(t.get("key") == "green_mines" for t in spec.get("targets") or []),
        "locality": leagues,
        "baseline": leagues,
    }
    return tuple(c for c in COLUMNS if c.key not in _PLAN_COLUMN_KEYS or uses[c.key])


def _plan_title(plan: Plan) -> str:
    return plan.short_name or plan.name


def _local(moment: datetime | None) -> datetime | None:
    """A naive local datetime for a cell (Excel has no time zones), in the zone from Settings."""
    if moment is None:
        return None
    return moment.astimezone(local_zone()).replace(tzinfo=None)


# --- Writing ---------------------------------------------------------------------------
# XlsxWriter in constant-memory mode: a row goes to disk as soon as the next one begins, so the
# region's ledger is written straight from the query with flat memory. Rows are written strictly
# top to bottom; a sheet's widths, panes, print setup and merged title are set on its first rows,
# its drop-downs (which do not depend on row order) after the last.
#
# Dates and times are shown as every other text of the product shows them (oversight.dates:
# 2026年1月8日, 2026年1月8日 09:05); the cells hold real dates, which the import reads back.

DATE_FORMAT = 'yyyy"年"m"月"d"日"'
DATETIME_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'
MAX_CELL_CHARS = 32_767  # Excel's limit on a cell's text; longer text is cut to it
WRAP_OVER_CHARS = 30  # text longer than this wraps in its cell (problems, agreed matters)
# Characters XML 1.0 does not allow at all (C0 controls but tab, newline and carriage return;
# lone surrogates; U+FFFE, U+FFFF): removed, so no cell text can break the file.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_WORKBOOK_OPTIONS = {
    "constant_memory": True,
    # User text stays text: never a formula ("=HYPERLINK(…)"), a link or a number.
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
_HEADER_COLOR, _REQUIRED_COLOR = "#DDEBF7", "#FCE4D6"
_A4 = 9  # XlsxWriter's paper code


def _clean(text: str) -> str:
    """Cell text as Excel can hold it: XML-forbidden characters removed, cut at Excel's limit."""
    if _XML_ILLEGAL.search(text) is not None:
        text = _XML_ILLEGAL.sub("", text)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS]


class _Book:
    """One ledger workbook being written (XlsxWriter, constant memory) and its cell formats."""

    def __init__(self, target: Path | BinaryIO, *, creator: str, created: datetime, mark: str | None = None) -> None:
        self.wb = xlsxwriter.Workbook(target, _WORKBOOK_OPTIONS)
        self.mark = mark  # a sample plan's mark (示例数据：…), on every sheet; None for real data
        properties: dict[str, Any] = {"author": creator, "created": created.astimezone(UTC).replace(tzinfo=None)}
        if mark:
            properties |= {"subject": mark, "keywords": "示例数据"}
        self.wb.set_properties(properties)
        add = self.wb.add_format
        self.title = add({"bold": True, "font_size": 14})
        self.bold = add({"bold": True})
        self.header = add(
            {"bold": True, "bg_color": _HEADER_COLOR, "pattern": 1, "text_wrap": True, "valign": "vcenter"}
        )
        self.header_required = add(
            {"bold": True, "bg_color": _REQUIRED_COLOR, "pattern": 1, "text_wrap": True, "valign": "vcenter"}
        )
        self.header_plain = add({"bold": True, "bg_color": _HEADER_COLOR, "pattern": 1})
        self.wrap = add({"text_wrap": True, "valign": "vcenter"})
        self.text = add({"num_format": "@"})
        self.date = add({"num_format": DATE_FORMAT})
        self.datetime = add({"num_format": DATETIME_FORMAT})

    def marked(self, title: str) -> str:
        """A sheet's title, led by the sample mark when the plan is sample data."""
        return f"【{self.mark}】{title}" if self.mark else title

    def sheet(
        self,
        name: str,
        widths: Iterable[float],
        *,
        landscape: bool = True,
        column_formats: dict[int, Format] | None = None,
    ) -> XlsxSheet:
        """A new sheet with its column widths (and formats), printed on A4 one page wide, pages numbered."""
        ws = self.wb.add_worksheet(name)
        for c, width in enumerate(widths):
            ws.set_column(c, c, width, (column_formats or {}).get(c))
        ws.set_paper(_A4)
        if landscape:
            ws.set_landscape()
        ws.fit_to_pages(1, 0)  # as wide as one page, as many pages down as it takes
        ws.set_footer("&C第 &P 页，共 &N 页")
        if self.mark:  # on every printed page, whatever rows the page holds
            ws.set_header("&C" + _clean(self.mark).replace("&", "&&"))
        return ws

    def titled(
        self,
        name: str,
        title: str,
        headers: Sequence[str],
        widths: Iterable[float],
        header_formats: Sequence[Format] | None = None,
        column_formats: dict[int, Format] | None = None,
    ) -> XlsxSheet:
        """Title merged over row 1 (led by a sample plan's mark), headers in row 2 (filtered, frozen
        and printed on every page)."""
        ws = self.sheet(name, widths, column_formats=column_formats)
        last = len(headers) - 1
        ws.merge_range(0, 0, 0, last, _clean(self.marked(title)), self.title)
        formats = header_formats or [self.header] * len(headers)
        for c, (header, fmt) in enumerate(zip(headers, formats, strict=True)):
            ws.write_string(1, c, header, fmt)
        ws.freeze_panes(2, 0)
        ws.autofilter(1, 0, 1, last)
        ws.repeat_rows(1)
        return ws

    def row(self, ws: XlsxSheet, r: int, values: Sequence[Any], formats: Sequence[Format | None] = ()) -> None:
        """Write one row: each value by its type, with the column's format where it has one."""
        for c, value in enumerate(values):
            fmt = formats[c] if c < len(formats) else None
            if value is None:
                if fmt is not None:
                    ws.write_blank(r, c, None, fmt)
            elif isinstance(value, str):
                ws.write_string(r, c, _clean(value), fmt)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value, fmt)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value, fmt)
            elif isinstance(value, datetime):
                ws.write_datetime(r, c, value, fmt or self.datetime)
            elif isinstance(value, date):
                ws.write_datetime(r, c, datetime.combine(value, time()), fmt or self.date)
            else:
                raise TypeError(f"ledger cell of type {type(value).__name__}")

    def rows(
        self,
        ws: XlsxSheet,
        first: int,
        rows: Iterable[Sequence[Any]],
        formats: Sequence[Format | None],
        *,
        long_text: Format | None = None,
    ) -> int:
        """Write `rows` from row `first` down: the cells `row` writes for each (`formats` by column;
        `long_text`, if given, for a string over WRAP_OVER_CHARS in a column without one), at a
        fraction of its cost. Returns the rows written (the sheet's last rows so far).

        A region's ledger is a million cells, and XlsxWriter spends ~10 µs of Python on each (a
        cell object, per-cell type dispatch, dimension checks, attribute escaping). Here each
        column's cell reference prefix and style are worked out once and a row's cells go straight
        into the constant-memory sheet's XML as XlsxWriter's writer spells them (inline strings,
        the same escapes, Excel serial dates); a test compares the two byte for byte. Relies on
        XlsxWriter's constant-memory internals (the row file, the pending row, the dimensions),
        checked on entry."""
        if not ws.constant_memory or ws.fh is not ws.row_data_fh or first < ws.previous_row:
            raise RuntimeError("bulk rows need a constant-memory sheet written top to bottom")
        if first > ws.previous_row:
            ws._write_single_row(first)  # the row XlsxWriter holds (the headers) goes out first
        elif ws.table:
            raise RuntimeError(f"row {first} has cells written already")
        ncols = len(formats)
        letters = [xl_col_to_name(c) for c in range(ncols)]
        # Style attributes, each worked out at its first use: XlsxWriter numbers formats in the
        # order cells first use them, and so must this, for the same file.
        styles: dict[Any, str] = {}

        def style(key: Any) -> str:
            if key not in styles:
                if key == "wrap":
                    fmt = long_text
                elif key == "datetime":
                    fmt = self.datetime
                elif key == "date":
                    fmt = self.date
                else:
                    fmt = formats[key]
                    if fmt is None and key in ws.col_info:
                        fmt = ws.col_info[key].column_format
                styles[key] = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
            return styles[key]

        out: list[str] = []
        write = ws.fh.write
        r = first - 1
        last_col = -1
        own = [f is not None for f in formats]
        search = _NOT_PLAIN.search
        wrapping = long_text is not None
        for r, values in enumerate(rows, start=first):
            if len(values) > ncols:
                raise ValueError(f"row {r} has {len(values)} cells for {ncols} columns")
            n = str(r + 1)
            cells: list[str] = []
            last = -1  # this row's last cell with a value (cells go left to right)
            for c, v in enumerate(values):
                # The per-cell work kept to lookups: each column's style once worked out, no call
                # per cell but the text's one search (a million cells at ten times the region).
                if v is None:
                    if own[c]:
                        cells.append(f'<c r="{letters[c]}{n}"{styles[c] if c in styles else style(c)}/>')
                    continue
                last = c
                if isinstance(v, str):
                    key = "wrap" if wrapping and not own[c] and len(v) > WRAP_OVER_CHARS else c
                    s_ = styles[key] if key in styles else style(key)
                    if len(v) <= MAX_CELL_CHARS and search(v) is None and not (v[:1].isspace() or v[-1:].isspace()):
                        cells.append(f'<c r="{letters[c]}{n}"{s_} t="inlineStr"><is><t>{v}</t></is></c>')
                    else:
                        cells.append(f'<c r="{letters[c]}{n}"{s_} t="inlineStr">{_inline(_clean(v))}</c>')
                elif isinstance(v, bool):
                    cells.append(f'<c r="{letters[c]}{n}"{style(c)} t="b"><v>{int(v)}</v></c>')
                elif isinstance(v, (int, float)):
                    cells.append(f'<c r="{letters[c]}{n}"{styles[c] if c in styles else style(c)}><v>{v:.16G}</v></c>')
                elif isinstance(v, datetime):
                    key = c if own[c] else "datetime"
                    s_ = styles[key] if key in styles else style(key)
                    cells.append(f'<c r="{letters[c]}{n}"{s_}><v>{_serial(ws, v):.16G}</v></c>')
                elif isinstance(v, date):
                    number = _serial(ws, datetime.combine(v, time()))
                    cells.append(f'<c r="{letters[c]}{n}"{style(c if own[c] else "date")}><v>{number:.16G}</v></c>')
                else:
                    raise TypeError(f"ledger cell of type {type(v).__name__}")
            if last > last_col:
                last_col = last
            if cells:
                out.append(f'<row r="{n}">{"".join(cells)}</row>')
            if len(out) >= 500:
                write("".join(out))
                out.clear()
        write("".join(out))
        if r >= first:
            ws._check_dimensions(r, max(last_col, 0))
            ws.previous_row = r + 1  # written: XlsxWriter may not write these rows again
        return r - first + 1

    def close(self) -> None:
        self.wb.close()


_EXCEL_EPOCH = datetime(1899, 12, 31)
_XLSX_ESCAPE = re.compile("[&<>]")
_XLSX_ESCAPED_LOOKALIKE = re.compile("(_x[0-9a-fA-F]{4}_)")  # text that reads as an escape: escaped itself


# Whatever _clean or _inline would change (XML-forbidden and control characters, an escape's
# look-alike, & < >): text without any of them, and with no space at its edges, goes as it is.
_NOT_PLAIN = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff&<>]|_x")


def _edge_space(text: str) -> bool:
    return text[:1].isspace() or text[-1:].isspace()


def _inline(text: str) -> str:
    """An inline string's <is> element as XlsxWriter writes it (text already through _clean):
    text that looks like Excel's _xHHHH_ escape escaped, a carriage return as _x000D_, leading or
    trailing space preserved, & < > as entities. (XlsxWriter writes a text that begins with <r>
    and ends with </r> unescaped, as rich text; here it is text like any other.)"""
    if "_x" in text:
        text = _XLSX_ESCAPED_LOOKALIKE.sub(r"_x005F\1", text)
    if "\r" in text:
        text = text.replace("\r", "_x000D_")
    if _XLSX_ESCAPE.search(text) is not None:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if _edge_space(text):
        return f'<is><t xml:space="preserve">{text}</t></is>'
    return f"<is><t>{text}</t></is>"


def _serial(ws: XlsxSheet, moment: datetime) -> float:
    """Excel's serial number of a naive datetime, computed as XlsxWriter computes it."""
    if moment.tzinfo is not None or moment.year <= 1900:
        return float(ws._convert_date_time(moment))  # its own rules (time zones refused, 1900's quirks)
    delta = moment - _EXCEL_EPOCH
    return delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / (60 * 60 * 24) + 1


def _option_lists(refs: _Refs) -> list[tuple[str, str, list[str]]]:
    return [
        ("kind", "类型", list(KIND_LABELS.values())),
        ("size", "规模", list(SIZE_LABELS.values())),
        ("production", "生产状态", [*PRODUCTION_LABELS.values(), ABSORBED_PRODUCTION]),
        ("status", "处置状态", list(STATUS_LABELS.values())),
        ("zone", "所属整合区", [z.name for z in refs.zones]),
        ("unit", "责任单位", [u.name for u in refs.units]),
        ("batches", "所属批次", [t.name for t in refs.tasks]),
        ("sector", "行业", list(SECTOR_LABELS.values())),
        ("cause", "停产或未转采原因", list(IDLE_CAUSE_LABELS.values())),
        ("green", "绿色矿山", list(GREEN_LABELS.values())),
        ("locality", "所在盟市", [u.name for u in refs.units if u.kind == "league"]),
        ("kept", "整合后保留", list(KEPT_LABELS.values())),
    ]


def _plan_option_lists(refs: _Refs) -> list[tuple[str, str, list[str]]]:
    """The drop-down lists of the plan's own columns (plan_columns)."""
    keys = {c.key for c in refs.columns}
    return [entry for entry in _option_lists(refs) if entry[0] in keys]


def _option_formulas(refs: _Refs) -> dict[str, str]:
    """Column key -> list formula on the options sheet, for data validation.

    Lists live on a sheet because an inline list formula is limited to 255 characters,
    and 12 leagues or 19 zone names exceed it."""
    formulas: dict[str, str] = {}
    for i, (key, _header, values) in enumerate(_plan_option_lists(refs), start=1):
        letter = get_column_letter(i)
        if values and key != "batches":  # several batches per cell: no single-choice list
            formulas[key] = f"'{SHEET_OPTIONS}'!${letter}$2:${letter}${len(values) + 1}"
    return formulas


def _options_sheet(book: _Book, refs: _Refs) -> None:
    """The hidden list sheet the drop-downs point at (see _option_formulas)."""
    lists = _plan_option_lists(refs)
    ws = book.sheet(SHEET_OPTIONS, [30] * len(lists), landscape=False)
    book.row(ws, 0, [header for _key, header, _values in lists], [book.bold] * len(lists))
    if book.mark:  # beside the lists, which the drop-downs' formulas address from row 2
        book.row(ws, 0, [None] * len(lists) + [book.mark], [None] * len(lists) + [book.bold])
    for j in range(max(len(values) for _k, _h, values in lists)):
        book.row(ws, j + 1, [values[j] if j < len(values) else None for _k, _h, values in lists])
    ws.hide()


def _rights_sheet(book: _Book, refs: _Refs, title: str, rows: Iterable[list[Any]]) -> int:
    """The rights sheet: `rows` (streamed), then room to fill, with drop-downs. Returns the rights written."""
    # Codes stay text (no 1.5E+13) and dates show as dates: the columns' own formats, which
    # Excel also gives what is typed into the empty rows below.
    columns = refs.columns
    at = {c.key: i for i, c in enumerate(columns)}
    dates = [at[k] for k in ("due", "baseline") if k in at]
    ws = book.titled(
        SHEET_RIGHTS,
        title,
        [c.header for c in columns],
        (c.width for c in columns),
        [book.header_required if c.required else book.header for c in columns],
        column_formats={at["code"]: book.text, **dict.fromkeys(dates, book.date)},
    )
    formats: list[Format | None] = [None] * len(columns)
    for i in dates:
        formats[i] = book.date  # a date cell's own format (row() would give its default)
    if len(columns) < len(COLUMNS):  # the plan's own columns of each full row (_right_rows)
        pick = [i for i, c in enumerate(COLUMNS) if c.key in at]
        rows = ([row[i] for i in pick] for row in rows)
    written = book.rows(ws, 2, rows, formats)
    last = 2 + written + VALIDATION_SPARE_ROWS  # 0-based: rows 3 … 3 + rights + spare in Excel
    for key, formula in _option_formulas(refs).items():
        c = at[key]
        header = COLUMN_BY_KEY[key].header
        ws.data_validation(
            2,
            c,
            last,
            c,
            {
                "validate": "list",
                "source": f"={formula}",
                "ignore_blank": True,
                "error_title": "无效的取值",
                "error_message": f"请从下拉列表中选择{header}。",
                "input_title": header,
                "input_message": "请从下拉列表中选择。",
            },
        )
    return written


def _help_rows(refs: _Refs) -> list[list[Any]]:
    """The 说明 sheet's rows; a styled cell is a (value, tag) pair, tag one of _Book's formats."""
    lines = [
        f"{_plan_title(refs.plan)} 矿业权台账填写说明",
        "",
        f"1. 在“{SHEET_RIGHTS}”工作表填写，第1行为标题，第2行为列名，请勿修改、删除或调换列名；从第3行起每行一宗矿业权。",
        "2. 同一矿业权编号在表中只能出现一次；系统中已有的编号会被更新（每一列都以本表为准，所属批次按本表整体替换），没有的会新增。",
        "3. 导入时先逐格校验，全部通过才写入；只要有一处错误就全部不写入，并列出每处错误的工作表、行号、列号和原因，改正后重新提交即可。",
        "4. 处置状态的变化会记入该矿业权的处置历史，工作简报和通报据此统计进度。",
        "5. 通过系统报送时，只能报送本单位负责的矿业权。",
        "6. 台账电子版提交后，另按要求报送加盖公章的扫描版。",
        "",
    ]
    rows: list[list[Any]] = [[(lines[0], "title")]]
    rows.extend([text] for text in lines[1:])
    rows.append([(header, "header_plain") for header in ("列名", "是否必填", "填写说明")])
    for column in refs.columns:
        limit = f"（不超过{column.max_len}字）" if column.max_len else ""
        rows.append([column.header, "必填" if column.required else "选填", (column.help + limit, "wrap")])
    if refs.tasks:
        rows.append([])
        rows.append([("本方案的批次", "bold")])
        for task in refs.tasks:
            rows.append(
                [
                    task.name,
                    None,
                    f"目标{task.target}{task.measure}，完成状态为“{STATUS_LABELS.get(task.done_status, task.done_status)}”",
                ]
            )
    if refs.zones:
        rows.append([])
        rows.append([("本方案的整合区", "bold")])
        for zone in refs.zones:
            rows.append(
                [
                    zone.name,
                    f"第{zone.seq}区",
                    f"采矿权{zone.planned_mining}，探矿权{zone.planned_exploration}，深部探矿权{zone.planned_deep}，拟设探矿权{zone.planned_proposed}",
                ]
            )
    return rows


_HELP_WIDTHS = (28, 10, 90)


def _help_sheet(book: _Book, refs: _Refs) -> None:
    ws = book.sheet(SHEET_HELP, _HELP_WIDTHS, landscape=False)
    for r, row in enumerate(_help_rows(refs)):
        values = [v[0] if isinstance(v, tuple) else v for v in row]
        if r == 0:
            values[0] = book.marked(values[0])
        formats = [getattr(book, v[1]) if isinstance(v, tuple) else None for v in row]
        book.row(ws, r, values, formats)


def _binary(column: Any, session: Session) -> Any:
    """`column` compared character by character (as Python sorts), whatever the database's collation."""
    return column.collate("C") if session.get_bind().dialect.name == "postgresql" else column


_RIGHT_ROW_KEYS = (
    "code",
    "name",
    "kind",
    "mineral",
    "zone",
    "parent",
    "size",
    "production",
    "status",
    "batches",
    "unit",
    "holder",
    "contact",
    "due",
    "note",
    "sector",
    "cause",
    "green",
    "locality",
    "baseline",
    "kept",
)


def _right_rows(session: Session, refs: _Refs, *, unit_id: int | None = None) -> Iterator[list[Any]]:
    """The plan's rights (or one responsible unit's) as rights-sheet rows, streamed from the query.

    In the sheet's order: by zone (rights outside any zone last), kind, then code. Read on the
    session's connection (Core rows, without the ORM's per-row work), as _problem_rows."""
    if tuple(c.key for c in COLUMNS) != _RIGHT_ROW_KEYS:
        raise RuntimeError("the rights sheet's columns are not in the order its rows are built in")
    zone_names: dict[int | None, str] = {z: zone.name for z, zone in refs.zone_by_id.items()}
    unit_names: dict[int | None, str] = {u: unit.name for u, unit in refs.unit_by_id.items()}
    task_by_id = {t.id: t for t in refs.tasks}
    batches: dict[int | None, list[Task]] = {}
    for right_id, task_id in session.connection().execute(
        select(RightBatch.right_id, RightBatch.task_id)
        .join(Task, col(Task.id) == col(RightBatch.task_id))
        .where(Task.plan_id == refs.plan.id)
    ):
        batches.setdefault(right_id, []).append(task_by_id[task_id])
    # The zones whose survivor the ledger states: their other consolidated rights are absorbed.
    keeping = {zone_id for zone_id, _code in _stated_survivors(session, row_id(refs.plan))}
    parent = aliased(Right)
    kind_order = case({k: i for i, k in enumerate(RightKind.ALL)}, value=col(Right.kind), else_=len(RightKind.ALL))
    query = (
        core_select(
            col(Right.id),
            col(Right.code),
            col(Right.name),
            col(Right.kind),
            col(Right.mineral),
            col(Right.zone_id),
            col(parent.code),
            col(Right.size_class),
            col(Right.production_status),
            col(Right.status),
            col(Right.unit_id),
            col(Right.holder),
            col(Right.contact_person),
            col(Right.due_on),
            col(Right.note),
            col(Right.sector),
            col(Right.idle_cause),
            col(Right.green_level),
            col(Right.locality_unit_id),
            col(Right.baseline_on),
            col(Right.kept_in_zone),
        )
        .outerjoin(Zone, (col(Zone.id) == col(Right.zone_id)) & (col(Zone.plan_id) == refs.plan.id))
        .outerjoin(parent, col(parent.id) == col(Right.parent_right_id))
        .where(col(Right.plan_id) == refs.plan.id)
        .order_by(col(Zone.id).is_(None), col(Zone.seq), kind_order, _binary(col(Right.code), session))
    )
    if unit_id is not None:
        query = query.where(col(Right.unit_id) == unit_id)
    for r in session.connection().execute(query.execution_options(yield_per=1000)):
        (rid, code, name, kind, mineral, zone_id, parent_code, size, production, status) = r[:10]
        (owner, holder, contact, due, note, sector, cause, green, locality, baseline, kept) = r[10:]
        # In the order of COLUMNS (checked above), built as the row it is: no dict per right.
        yield [
            code,
            name,
            KIND_LABELS.get(kind, kind),
            mineral or None,
            zone_names.get(zone_id),
            parent_code,
            SIZE_LABELS.get(size, size) or None if kind == RightKind.MINING else None,  # a mine's production scale
            ABSORBED_PRODUCTION
            if is_absorbed(
                kind=kind,
                zone_id=zone_id,
                status=status,
                kept=None if kept is None else bool(kept),
                zone_keeps_one=zone_id in keeping,
            )
            else PRODUCTION_LABELS.get(production, production) or None,
            STATUS_LABELS.get(status, status),
            BATCH_SEPARATOR.join(t.name for t in sorted(batches.get(rid, []), key=lambda t: t.seq)) or None,
            unit_names.get(owner),
            holder or None,
            contact or None,
            due,
            note or None,
            SECTOR_LABELS.get(sector, sector) or None,
            IDLE_CAUSE_LABELS.get(cause, cause) or None,
            GREEN_LABELS.get(green, green) or None,
            unit_names.get(locality),
            baseline,
            None if kept is None else KEPT_LABELS[bool(kept)],
        ]


def _save(path: Path, write: Callable[[Path], Any]) -> Path:
    """Write the workbook to a temporary file beside `path`, then put it in place (never half a
    file), readable as every stored file is (oversight.files)."""
    path = Path(path)
    with atomic_target(path) as tmp:
        write(tmp)
    return path


def _to_bytes(write: Callable[[BinaryIO], Any]) -> bytes:
    buf = io.BytesIO()
    write(buf)
    return buf.getvalue()


@dataclass(frozen=True)
class LedgerTemplate:
    """A ledger template to send or save: its file name, its bytes and how many rights it holds."""

    filename: str
    data: bytes
    rights: int


def _write_template(
    target: Path | BinaryIO,
    *,
    session: Session,
    plan_id: int,
    unit_id: int | None,
    prefill: bool,
    now: datetime,
) -> int:
    refs = _refs(session, plan_id)
    name = _plan_title(refs.plan)
    unit = refs.unit_by_id.get(unit_id) if unit_id is not None else None
    if unit_id is not None and unit is None:
        raise NotFoundError("本计划中没有该单位。")
    book = _Book(target, creator=refs.plan.name, created=now, mark=sample_mark(refs.plan))
    try:
        if unit is not None:
            title = f"{name} 矿业权台账（{unit.name}，截至{cn_datetime(now)}）"
            written = _rights_sheet(book, refs, title, _right_rows(session, refs, unit_id=unit.id))
        elif prefill:
            title = f"{name} 矿业权台账（截至{cn_datetime(now)}）"
            written = _rights_sheet(book, refs, title, _right_rows(session, refs))
        else:
            written = _rights_sheet(book, refs, f"{name} 矿业权台账", [])
        _help_sheet(book, refs)
        _options_sheet(book, refs)
    finally:
        book.close()
    return written


def write_template(
    path: Path,
    *,
    session: Session,
    plan_id: int,
    unit_id: int | None = None,
    prefill: bool = False,
    now: datetime | None = None,
) -> Path:
    """Write a ledger to fill: headers, drop-downs and a 说明 sheet; empty, or prefilled with the
    rights one unit is responsible for (`unit_id`) or with all the plan's rights (`prefill`)."""
    moment = now or utcnow()
    return _save(
        path,
        lambda p: _write_template(p, session=session, plan_id=plan_id, unit_id=unit_id, prefill=prefill, now=moment),
    )


def ledger_template(
    *, session: Session, plan_id: int, unit_id: int | None = None, now: datetime | None = None
) -> LedgerTemplate:
    """The ledger template as a file to send: prefilled with `unit_id`'s own rights (the rights it
    is responsible for), or with all the plan's rights when `unit_id` is None."""
    moment = now or utcnow()
    refs = _refs(session, plan_id)
    counted: list[int] = []
    data = _to_bytes(
        lambda buf: counted.append(
            _write_template(buf, session=session, plan_id=plan_id, unit_id=unit_id, prefill=True, now=moment)
        )
    )
    unit = refs.unit_by_id.get(unit_id) if unit_id is not None else None
    who = unit.name if unit is not None else _plan_title(refs.plan)
    return LedgerTemplate(filename=f"{who}矿业权台账.xlsx", data=data, rights=counted[0])


def template_bytes(*, session: Session, plan_id: int) -> bytes:
    """The empty ledger as xlsx bytes (for sending through the bot)."""
    return _to_bytes(
        lambda buf: _write_template(buf, session=session, plan_id=plan_id, unit_id=None, prefill=False, now=utcnow())
    )


def _write_export(target: Path | BinaryIO, *, session: Session, plan_id: int, now: datetime) -> None:
    refs = _refs(session, plan_id)
    stamp = f"（导出时间：{cn_datetime(now)}）"
    name = _plan_title(refs.plan)
    book = _Book(target, creator=refs.plan.name, created=now, mark=sample_mark(refs.plan))
    try:
        _rights_sheet(book, refs, f"{name} 矿业权台账{stamp}", _right_rows(session, refs))
        ws = book.titled(SHEET_PROBLEMS, f"{name} 问题台账{stamp}", _PROBLEM_HEADERS, _PROBLEM_WIDTHS)
        _write_rows(book, ws, _problem_rows(session, refs), _PROBLEM_FORMATS, columns=len(_PROBLEM_HEADERS))
        ws = book.titled(SHEET_DECISIONS, f"{name} 议定事项{stamp}", _DECISION_HEADERS, _DECISION_WIDTHS)
        _write_rows(book, ws, _decision_rows(session, refs, now), _DECISION_FORMATS, columns=len(_DECISION_HEADERS))
        _help_sheet(book, refs)
        _options_sheet(book, refs)
    finally:
        book.close()


def export_ledger(path: Path, *, session: Session, plan_id: int, now: datetime | None = None) -> Path:
    """Write the rights, problems and agreed matters of a plan to one workbook (atomically)."""
    moment = now or utcnow()
    return _save(path, lambda p: _write_export(p, session=session, plan_id=plan_id, now=moment))


def export_bytes(*, session: Session, plan_id: int, now: datetime | None = None) -> bytes:
    """The export as xlsx bytes (for sending through the bot)."""
    moment = now or utcnow()
    return _to_bytes(lambda buf: _write_export(buf, session=session, plan_id=plan_id, now=moment))


def _write_rows(
    book: _Book, ws: XlsxSheet, rows: Iterable[list[Any]], formats: dict[int, str], *, columns: int
) -> None:
    """Rows below a titled sheet's header: dates and times in their column's format, long text wrapped."""
    by_format = {DATE_FORMAT: book.date, DATETIME_FORMAT: book.datetime}
    column_formats = [by_format[formats[c]] if c in formats else None for c in range(1, columns + 1)]
    book.rows(ws, 2, rows, column_formats, long_text=book.wrap)


_PROBLEM_HEADERS = (
    "编号",
    "问题",
    "类别",
    "矿业权/整合区",
    "提出单位",
    "责任单位",
    "状态",
    "提出时间",
    "期限",
    "解决时间",
)
_PROBLEM_WIDTHS = (8, 48, 18, 28, 20, 20, 22, 22, 16, 22)
_PROBLEM_FORMATS = {8: DATETIME_FORMAT, 9: DATE_FORMAT, 10: DATETIME_FORMAT}
_DECISION_HEADERS = ("编号", "会议", "事项", "责任单位", "配合单位", "期限", "状态", "重大事项", "完成时间")
_DECISION_WIDTHS = (8, 28, 56, 20, 28, 16, 40, 10, 22)
_DECISION_FORMATS = {6: DATE_FORMAT, 9: DATETIME_FORMAT}


def _problem_rows(session: Session, refs: _Refs) -> Iterator[list[Any]]:
    """The plan's problems as rows, streamed from the query (columns, not ORM objects).

    Read off the driver's cursor (models.raw_rows: no ORM or type processing a row; the times
    converted here, in one step each), and the zone looked up once: 50,000 problems at ten times
    the region."""
    names: dict[int | None, str] = {u: unit.name for u, unit in refs.unit_by_id.items()}
    zone = local_zone()
    query = (
        core_select(
            col(Problem.id),
            col(Problem.text),
            col(ProblemCategory.name),
            col(Right.name),
            col(Right.code),
            col(Zone.name),
            col(Problem.raised_by_unit_id),
            col(Problem.owner_unit_id),
            col(Problem.state),
            col(Problem.created_at),
            col(Problem.due_on),
            col(Problem.resolved_at),
        )
        .outerjoin(ProblemCategory, col(ProblemCategory.id) == col(Problem.category_id))
        .outerjoin(Right, col(Right.id) == col(Problem.right_id))
        .outerjoin(Zone, (col(Zone.id) == col(Problem.zone_id)) & (col(Zone.plan_id) == refs.plan.id))
        .where(col(Problem.plan_id) == refs.plan.id)
        .order_by(col(Problem.id))
    )
    for (
        pid,
        text,
        category,
        right_name,
        right_code,
        zone_name,
        raised_by,
        owner,
        state,
        created,
        due,
        resolved,
    ) in raw_rows(session, query):
        subject = f"{right_name}（{right_code}）" if right_code is not None else zone_name
        yield [
            pid,
            text,
            category or "",
            subject or None,
            names.get(raised_by),
            names.get(owner),
            PROBLEM_STATE_LABELS.get(state, state),
            _raw_local(created, zone),
            date.fromisoformat(due) if isinstance(due, str) else due,
            _raw_local(resolved, zone) if resolved is not None else None,
        ]


def _raw_local(value: datetime | str, zone: tzinfo) -> datetime:
    """A UTC time as the driver gives it (SQLite: text, naive; PostgreSQL: aware) as a naive local
    datetime for a cell, as models.base.UTCDateTime and _local would make it."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).replace(tzinfo=None)


def _decision_rows(session: Session, refs: _Refs, now: datetime) -> Iterator[list[Any]]:
    """The plan's agreed matters as rows, streamed from the query; an open one says whether its
    deadline has passed at `now`."""
    late_before = overdue_before(now)
    units = refs.unit_by_id
    query = (
        core_select(
            col(Decision.id),
            col(Meeting.title),
            col(Meeting.held_on),
            col(Meeting.kind),
            col(Decision.text),
            col(Decision.owner_unit_id),
            col(Decision.cooperating_unit_ids),
            col(Decision.due_on),
            col(Decision.state),
            col(Decision.major),
            col(Decision.done_at),
        )
        .outerjoin(Meeting, col(Meeting.id) == col(Decision.meeting_id))
        .where(col(Decision.plan_id) == refs.plan.id)
        .order_by(col(Decision.id))
    )
    for did, title, held_on, kind, text, owner, helpers, due, state, major, done_at in session.execute(
        query.execution_options(yield_per=1000)
    ):
        meeting = None
        if held_on is not None:
            meeting = title or f"{cn_date(held_on)}{MEETING_KIND_LABELS.get(kind, '联席会议')}"
        done = _local(done_at)
        if state == "done" and done is not None:  # its day, and 逾期N个工作日 when done after the deadline
            label = completion_text(due_on=due, done_on=done.date())
        elif state == "open" and due is not None:
            label = DECISION_OPEN_LABELS["overdue" if due < late_before else "due"]
        else:
            label = DECISION_STATE_LABELS.get(state, state)
        yield [
            did,
            meeting,
            text,
            units[owner].name if owner in units else None,
            # The cooperating units (配合单位) as the office named them, in that order.
            "、".join(units[u].name for u in helpers or [] if u in units) or None,
            due,
            label,
            "是" if major else "否",
            done,
        ]


# --- Reading ---------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    code: str = ""
    name: str = ""
    kind: str = ""
    mineral: str = ""
    zone_id: int | None = None
    parent_code: str = ""
    size: str = SizeClass.SMALL
    production: str = ""
    status: str = ""
    task_ids: list[int] = field(default_factory=list)
    unit_id: int | None = None
    holder: str = ""
    contact: str = ""
    due: date | None = None
    note: str = ""
    sector: str = ""
    cause: str = ""
    green: str = ""
    locality_id: int | None = None
    baseline: date | None = None
    kept: bool | None = None
    absent: frozenset[str] = frozenset()  # LATER_COLUMNS the file does not have
    size_ignored: bool = False  # a 规模 given of an exploration right, not imported
    says_absorbed: bool = False  # 生产状态 reads ABSORBED_PRODUCTION
    absorbed: bool = False  # the row, as imported, is a right its zone absorbs (rights.is_absorbed)


def _open_workbook(data: bytes | Path) -> Any:
    """The workbook, read-only (its sheets streamed), once its size, zip directory, rows and
    cells are within the limits (oversight/inputlimits.py)."""
    if isinstance(data, (str, Path)):
        try:
            size = Path(data).stat().st_size
            if size > MAX_BYTES:
                raise FileLimitError(
                    f"文件 {Path(data).name} 为{size / 1024 / 1024:,.1f} MB，超过{MAX_BYTES // 1024 // 1024} MB 的上限，已拒收。"
                )
            raw = Path(data).read_bytes()
        except OSError as exc:
            raise LedgerFileError(f"无法读取文件 {data}（{exc.strerror or exc}）。") from exc
    else:
        raw = bytes(data)
    if raw.startswith(_OLE_MAGIC):
        raise LedgerFileError(
            "这是旧版 Excel 97-2003 文件（.xls），请用 Excel 或 WPS 打开后“另存为 Excel 工作簿（*.xlsx）”再提交。"
        )
    if not raw.startswith(b"PK"):
        raise LedgerFileError()
    try:
        check_xlsx(raw)
    except BrokenWorkbookError as exc:
        raise LedgerFileError() from exc
    try:
        return load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a zip that is not a workbook; kept as the cause
        raise LedgerFileError() from exc


def _text(value: Any) -> str:
    """A cell value as stripped text; integral floats lose their '.0' (codes typed as numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


_DATE_RES = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _date(value: Any) -> date | None:
    """A date from a date cell, an Excel serial number or common Chinese/ISO text; raises ValueError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 <= value <= 80000:  # an Excel serial day (1954–2119) in a cell not formatted as a date
            result = from_excel(value)
            return result.date() if isinstance(result, datetime) else result
        text = _text(value)
    else:
        text = str(value).strip()
    text = re.sub(r"\s+\d{1,2}:\d{2}(:\d{2})?$", "", text)  # a midnight time typed after the date
    for pattern in _DATE_RES:
        m = pattern.match(text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))  # ValueError if not a real day
    raise ValueError(text)


def _find_header(ws: Worksheet) -> tuple[int, dict[str, int]] | None:
    """The header row number and header -> column number, found by its first header."""
    # Read-only sheets give consecutive rows, each padded from column A (missing cells empty).
    for number, row in enumerate(ws.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS), start=1):
        texts = [_text(c.value) for c in row]
        if COLUMNS[0].header in texts:
            mapping: dict[str, int] = {}
            for column, text in enumerate(texts, start=1):
                if text and text not in mapping:
                    mapping[text] = column
            return number, mapping
    return None


class _Lookup:
    """Names a cell may use for a zone, unit or batch, mapped to ids."""

    def __init__(self, refs: _Refs) -> None:
        self.zones: dict[str, int] = {}
        for z in refs.zones:
            self.zones[z.name] = row_id(z)
            self.zones.setdefault(str(z.seq), row_id(z))
            if z.name.endswith("整合区") and len(z.name) > 3:  # 乌兰赤老铁矿 for 乌兰赤老铁矿整合区
                self.zones.setdefault(z.name[:-3], row_id(z))
        self.units: dict[str, int] = {}
        aliases = unit_aliases(refs.plan.spec)
        for u in refs.units:
            for alias in (u.name, u.short, u.key, *aliases.get(u.key, ())):
                if alias:
                    self.units.setdefault(alias, row_id(u))
        self.leagues: dict[str, int] = {}
        for u in refs.units:
            if u.kind == "league":
                for alias in (u.name, u.short, u.key):
                    if alias:
                        self.leagues.setdefault(alias, row_id(u))
        self.tasks: dict[str, Task] = {}
        for t in refs.tasks:
            self.tasks.setdefault(t.name, t)
            self.tasks.setdefault(t.key, t)
        self.task_list = refs.tasks

    def task(self, text: str) -> Task | None:
        if text in self.tasks:
            return self.tasks[text]
        partial = [t for t in self.task_list if text in t.name]
        return partial[0] if len(partial) == 1 else None


def _choices(labels: dict[str, str]) -> str:
    return "、".join(labels.values())


def _parse_rows(
    session: Session, refs: _Refs, wb: Any, restrict_unit_id: int | None
) -> tuple[list[_Row], list[CellError]]:
    errors: list[CellError] = []
    if SHEET_RIGHTS not in wb.sheetnames:
        errors.append(
            CellError(
                SHEET_RIGHTS,
                None,
                "",
                "",
                f"找不到工作表“{SHEET_RIGHTS}”（文件中的工作表：{'、'.join(wb.sheetnames)}）。请使用统一的台账模板（在机器人中发送 /ledger 即可收到预填本单位矿业权的模板）。",
            )
        )
        return [], errors
    ws = wb[SHEET_RIGHTS]
    found = _find_header(ws)
    if found is None:
        errors.append(
            CellError(
                SHEET_RIGHTS,
                None,
                "",
                "",
                f"前{HEADER_SEARCH_ROWS}行中找不到列名行（第一列应为“{COLUMNS[0].header}”）。请使用台账模板，勿删除列名。",
            )
        )
        return [], errors
    header_row, mapping = found
    missing = [c.header for c in COLUMNS if c.header not in mapping and c.key not in LATER_COLUMNS]
    if missing:
        for header in missing:
            errors.append(
                CellError(SHEET_RIGHTS, header_row, "", header, "缺少此列，请使用台账模板，勿删除或改动列名。")
            )
        return [], errors
    col_of = {c.key: mapping[c.header] for c in COLUMNS if c.header in mapping}
    absent = frozenset(c.key for c in COLUMNS if c.header not in mapping)
    max_rows = get_settings().LEDGER_MAX_ROWS
    lookup = _Lookup(refs)
    unit_names = refs.unit_by_id
    rows: list[_Row] = []
    first_row_of: dict[str, int] = {}
    # Streamed (a read-only workbook), stopping at the row limit rather than after the sheet.
    for number, cells in enumerate(ws.iter_rows(min_row=header_row + 1), start=header_row + 1):
        if number - header_row > max_rows:
            errors.append(CellError(SHEET_RIGHTS, None, "", "", f"数据超过{max_rows:,}行的上限，请分批提交。"))
            return [], errors
        raw = {
            c.key: (cells[col_of[c.key] - 1].value if c.key in col_of and col_of[c.key] - 1 < len(cells) else None)
            for c in COLUMNS
        }
        if all(_text(v) == "" for v in raw.values()):
            continue
        row = _Row(number=number, absent=absent)

        def bad(key: str, message: str, *, _n: int = number) -> None:
            column = COLUMN_BY_KEY[key]
            errors.append(CellError(SHEET_RIGHTS, _n, get_column_letter(col_of[key]), column.header, message))

        text = {c.key: _text(raw[c.key]) for c in COLUMNS}
        for column in COLUMNS:
            value = text[column.key]
            if column.required and not value:
                bad(column.key, "必填，不能为空。")
            elif column.max_len and len(value) > column.max_len:
                bad(column.key, f"不能超过{column.max_len}个字（现为{len(value)}个字）。")
        row.code, row.name, row.mineral = text["code"], text["name"], text["mineral"]
        row.holder, row.contact, row.note = text["holder"], text["contact"], text["note"]
        if row.code:
            if row.code in first_row_of:
                bad("code", f"矿业权编号“{row.code}”与第{first_row_of[row.code]}行重复，同一编号只能出现一次。")
            else:
                first_row_of[row.code] = number
        if text["kind"]:
            kind = parse_kind(text["kind"])
            if kind is None:
                bad("kind", f"“{text['kind']}” 不是有效的类型，可选：{_choices(KIND_LABELS)}")
            else:
                row.kind = kind
        if row.kind and row.kind != RightKind.MINING:
            # 规模 is a mine's production scale (seed 000 一: 矿山按照生产规模统计): none of an exploration right.
            row.size = ""
            row.size_ignored = bool(text["size"])
        elif text["size"]:
            size = parse_size(text["size"])
            if size is None:
                bad("size", f"“{text['size']}” 不是有效的规模，可选：{_choices(SIZE_LABELS)}")
            else:
                row.size = size
        if text["production"] in ABSORBED_ALIASES:
            row.says_absorbed = True  # checked against the row's status and 整合后保留 (_absorbed_errors)
        elif text["production"]:
            production = parse_production(text["production"])
            if production is None:
                bad("production", f"“{text['production']}” 不是有效的生产状态，可选：{_choices(PRODUCTION_LABELS)}")
            else:
                row.production = production
        if text["status"]:
            status = parse_status(text["status"])
            if status is None:
                bad("status", f"“{text['status']}” 不是有效的处置状态，可选：{_choices(STATUS_LABELS)}")
            else:
                row.status = status
        if text["sector"]:
            sector = parse_sector(text["sector"])
            if sector is None:
                bad("sector", f"“{text['sector']}” 不是有效的行业，可选：{_choices(SECTOR_LABELS)}")
            else:
                row.sector = sector
        if text["cause"]:
            cause = parse_idle_cause(text["cause"])
            if cause is None:
                bad("cause", f"“{text['cause']}” 不是有效的原因，可选：{_choices(IDLE_CAUSE_LABELS)}")
            else:
                row.cause = cause
        if text["green"]:
            green = parse_green(text["green"])
            if green is None:
                bad(
                    "green",
                    f"“{text['green']}” 不是有效的绿色矿山级别，可选：{_choices(GREEN_LABELS)}；不是绿色矿山的留空",
                )
            else:
                row.green = green
        if text["locality"]:
            league_id = lookup.leagues.get(text["locality"])
            if league_id is None:
                hint = "本计划未分盟市，请留空" if not lookup.leagues else "请从下拉列表中选择盟行政公署或市人民政府"
                bad("locality", f"“{text['locality']}” 不是本计划的盟市（{hint}）。")
            row.locality_id = league_id
        try:
            row.baseline = _date(raw["baseline"])
        except ValueError:
            bad("baseline", f"“{text['baseline']}” 不是有效的日期，请写成 2022-09-20 这样的格式。")
        if text["kept"]:
            kept = {label: value for value, label in KEPT_LABELS.items()}.get(text["kept"])
            if kept is None:
                bad("kept", f"“{text['kept']}” 不是有效的取值，请填“是”或“否”，尚未确定的留空。")
            row.kept = kept
        if text["zone"]:
            zone_id = lookup.zones.get(text["zone"])
            if zone_id is None:
                hint = "本计划没有整合区，请留空" if not refs.zones else "请从下拉列表中选择整合区名称"
                bad("zone", f"“{text['zone']}” 不是本计划的整合区（{hint}）。")
            row.zone_id = zone_id
        if text["unit"]:
            unit_id = lookup.units.get(text["unit"])
            if unit_id is None:
                bad("unit", f"“{text['unit']}” 不是本计划的成员单位，请从下拉列表中选择单位名称。")
            elif restrict_unit_id is not None and unit_id != restrict_unit_id:
                own = unit_names[restrict_unit_id].name if restrict_unit_id in unit_names else "本单位"
                bad("unit", f"只能提交本单位的矿业权：此行责任单位为“{unit_names[unit_id].name}”，您的单位是“{own}”。")
            row.unit_id = unit_id
        elif restrict_unit_id is not None:
            bad("unit", "通过系统报送时须填写责任单位（本单位名称）。")
        if text["batches"]:
            seen: set[int] = set()
            for part in (p.strip() for p in BATCH_SPLIT_RE.split(text["batches"])):
                if not part:
                    continue
                task = lookup.task(part)
                if task is None:
                    names = "、".join(t.name for t in refs.tasks)
                    bad("batches", f"“{part}” 不是本计划的批次，可选：{names}（多个批次用“、”分隔）")
                    continue
                if task.id in seen:
                    continue
                seen.add(row_id(task))
                row.task_ids.append(row_id(task))
                allowed = refs.right_kinds.get(task.key) or []
                if row.kind and allowed and KIND_COUNTS_AS.get(row.kind) not in allowed:
                    kinds = "、".join({"mining": "采矿权", "exploration": "探矿权"}[k] for k in allowed)
                    bad("batches", f"类型为{KIND_LABELS[row.kind]}的矿业权不能列入“{task.name}”（该批次只含{kinds}）。")
        row.parent_code = text["parent"]
        if row.kind and row.kind != RightKind.DEEP and row.parent_code:
            bad(
                "parent",
                f"只有“{KIND_LABELS[RightKind.DEEP]}”才填写所属采矿权编号，类型为{KIND_LABELS[row.kind]}的请留空。",
            )
        elif row.kind == RightKind.DEEP and not row.parent_code:
            bad("parent", f"类型为{KIND_LABELS[RightKind.DEEP]}的，须填写其所属采矿权的编号。")
        elif row.parent_code and row.parent_code == row.code:
            bad("parent", "所属采矿权编号不能是本矿业权自己的编号。")
        try:
            row.due = _date(raw["due"])
        except ValueError:
            bad("due", f"“{text['due']}” 不是有效的日期，请写成 2026-12-31 这样的格式。")
        rows.append(row)

    # Deep rights: the parent is a mining right in this file, or in the database.
    file_kinds = {r.code: r.kind for r in rows if r.code}
    parent_codes = {
        r.parent_code for r in rows if r.kind == RightKind.DEEP and r.parent_code and r.parent_code not in file_kinds
    }
    db_parents = (
        {
            r.code: r
            for r in session.exec(
                select(Right).where(Right.plan_id == refs.plan.id, col(Right.code).in_(parent_codes))
            ).all()
        }
        if parent_codes
        else {}
    )
    for row in rows:
        if row.kind != RightKind.DEEP or not row.parent_code or row.parent_code == row.code:
            continue
        kind = file_kinds.get(row.parent_code)
        if kind is None and row.parent_code in db_parents:
            kind = db_parents[row.parent_code].kind
        letter = get_column_letter(col_of["parent"])
        header = COLUMN_BY_KEY["parent"].header
        if kind is None:
            errors.append(
                CellError(
                    SHEET_RIGHTS,
                    row.number,
                    letter,
                    header,
                    f"找不到采矿权“{row.parent_code}”：须是本表或系统中已有的采矿权编号。",
                )
            )
        elif kind != RightKind.MINING:
            errors.append(
                CellError(
                    SHEET_RIGHTS,
                    row.number,
                    letter,
                    header,
                    f"“{row.parent_code}”的类型是{KIND_LABELS.get(kind, kind)}，深部探矿权只能依附于采矿权。",
                )
            )

    if "kept" not in absent:
        errors.extend(_kept_errors(session, refs, rows, get_column_letter(col_of["kept"]), restrict_unit_id))
    errors.extend(_absorbed_errors(session, refs, rows, get_column_letter(col_of["production"])))

    # A unit contact may touch only the rights of the unit.
    if restrict_unit_id is not None:
        codes = [r.code for r in rows if r.code]
        existing = (
            {
                r.code: r
                for r in session.exec(
                    select(Right).where(Right.plan_id == refs.plan.id, col(Right.code).in_(codes))
                ).all()
            }
            if codes
            else {}
        )
        for row in rows:
            current = existing.get(row.code)
            if current is None or current.unit_id == restrict_unit_id or row.unit_id != restrict_unit_id:
                continue  # new, own, or the row's 责任单位 cell is already refused
            owner = unit_names[current.unit_id].name if current.unit_id in unit_names else None
            why = f"该矿业权由“{owner}”负责" if owner else "该矿业权尚未指定责任单位，请联系联席会议办公室"
            errors.append(
                CellError(
                    SHEET_RIGHTS,
                    row.number,
                    get_column_letter(col_of["code"]),
                    COLUMN_BY_KEY["code"].header,
                    f"只能提交本单位的矿业权：{why}。",
                )
            )
    if not rows and not errors:
        errors.append(CellError(SHEET_RIGHTS, None, "", "", "表中没有任何矿业权（从列名下一行起填写）。"))
    errors.sort(key=lambda e: (e.row or 0, _column_number(e.column_letter)))
    return rows, errors


def _kept_errors(
    session: Session, refs: _Refs, rows: list[_Row], letter: str, restrict_unit_id: int | None
) -> list[CellError]:
    """整合后保留 as the record can hold it: only of a right in a zone, 是 only of a mining right, and
    at most one 是 in a zone, counting the zone's rights in the system that the file does not list."""
    header = COLUMN_BY_KEY["kept"].header
    errors: list[CellError] = []

    def bad(row: _Row, message: str) -> None:
        errors.append(CellError(SHEET_RIGHTS, row.number, letter, header, message))

    zone_names = {z: zone.name for z, zone in refs.zone_by_id.items()}
    first_kept: dict[int, _Row] = {}
    for row in rows:
        if row.kept is None:
            continue
        if row.zone_id is None:
            bad(row, "此行不属于任何整合区，整合后保留只填整合区内的矿业权，请留空（如属整合区，请先填写所属整合区）。")
        elif row.kept and row.kind and row.kind != RightKind.MINING:
            bad(
                row,
                f"整合后保留的须是采矿权：整合区内的{KIND_LABELS[row.kind]}整合后计入减少，不单独保留，请填“否”或留空。",
            )
        elif row.kept and row.zone_id in first_kept:
            other = first_kept[row.zone_id]
            bad(
                row,
                f"“{zone_names[row.zone_id]}”已有第{other.number}行的采矿权“{other.code}”填“是”，"
                "每个整合区只能有一宗采矿权整合后保留，请只在保留的那一宗填“是”。",
            )
        elif row.kept:
            first_kept[row.zone_id] = row
    if not first_kept:
        return errors
    # The zones' survivors already in the system, among the rights this file does not list.
    listed = {r.code for r in rows}
    for zone_id, code, name, unit_id in session.execute(
        core_select(col(Right.zone_id), col(Right.code), col(Right.name), col(Right.unit_id)).where(
            col(Right.plan_id) == refs.plan.id,
            col(Right.kind) == RightKind.MINING,
            col(Right.kept_in_zone).is_(True),
            col(Right.zone_id).in_(list(first_kept)),
        )
    ):
        if code in listed:
            continue
        row = first_kept[zone_id]
        fix = (
            "请联系联席会议办公室更正"
            if restrict_unit_id is not None and unit_id != restrict_unit_id
            else f"如需改为本宗，请将“{code}”一并列入本表并填“否”后重新提交"
        )
        bad(
            row,
            f"系统中“{zone_names[zone_id]}”整合后保留的采矿权已是“{code}”（{name}，本表未列），"
            f"每个整合区只能有一宗采矿权整合后保留；{fix}。",
        )
    return errors


def _stated_survivors(session: Session, plan_id: int) -> list[tuple[int, str]]:
    """(zone id, code) of each mining right the system marks 整合后保留 是: a zone's stated survivor."""
    rows = session.connection().execute(
        core_select(col(Right.zone_id), col(Right.code)).where(
            col(Right.plan_id) == plan_id,
            col(Right.kind) == RightKind.MINING,
            col(Right.kept_in_zone).is_(True),
            col(Right.zone_id).is_not(None),
        )
    )
    return [(zone_id, code) for zone_id, code in rows if zone_id is not None]


def _absorbed_errors(session: Session, refs: _Refs, rows: list[_Row], letter: str) -> list[CellError]:
    """生产状态 against what the row says of its zone: a right its zone absorbs (rights.is_absorbed:
    已整合, not the one kept) has no 生产状态 of its own, and only such a right reads
    ABSORBED_PRODUCTION. Marks each row `absorbed` as the import will store it: 整合后保留 as the row
    gives it, or (a file from before the column) as the system has it; the zone's survivor from the
    file, else from the system among the rights the file does not list."""
    header = COLUMN_BY_KEY["production"].header
    codes = [r.code for r in rows if r.code]
    stored = (
        {
            code: (zone_id, kind, None if kept is None else bool(kept))
            for code, zone_id, kind, kept in session.execute(
                core_select(col(Right.code), col(Right.zone_id), col(Right.kind), col(Right.kept_in_zone)).where(
                    col(Right.plan_id) == refs.plan.id, col(Right.code).in_(codes)
                )
            )
        }
        if codes
        else {}
    )

    def kept_of(row: _Row) -> bool | None:
        if "kept" not in row.absent:
            return row.kept
        zone_id, kind, kept = stored.get(row.code, (None, "", None))
        return kept if (zone_id, kind) == (row.zone_id, row.kind) else None

    survivor: dict[int, str] = {}  # zone id -> the code of the mining right it keeps
    listed = set(codes)
    for zone_id, code in _stated_survivors(session, row_id(refs.plan)):
        if code not in listed:
            survivor.setdefault(zone_id, code)
    for row in rows:
        if row.zone_id is not None and row.kind == RightKind.MINING and kept_of(row) is True:
            survivor.setdefault(row.zone_id, row.code)

    zone_names = {z: zone.name for z, zone in refs.zone_by_id.items()}
    errors: list[CellError] = []
    for row in rows:
        if not row.kind or not row.status:
            continue  # its 类型 or 处置状态 is refused already
        row.absorbed = is_absorbed(
            kind=row.kind,
            zone_id=row.zone_id,
            status=row.status,
            kept=kept_of(row),
            zone_keeps_one=row.zone_id in survivor,
        )
        if row.absorbed and row.production:
            zone = zone_names.get(row.zone_id or 0, "")
            kept = survivor.get(row.zone_id or 0)
            into = f"已并入该区保留的采矿权“{kept}”" if kept and kept != row.code else "已并入该区保留的采矿权"
            work = "生产" if row.kind == RightKind.MINING else "勘查"
            which = "不是整合后保留的那一宗，" if row.kind == RightKind.MINING else ""
            errors.append(
                CellError(
                    SHEET_RIGHTS,
                    row.number,
                    letter,
                    header,
                    f"此行是“{zone}”已整合的{KIND_LABELS[row.kind]}，{which}{into}，"
                    f"不再单独{work}，生产状态不能填“{PRODUCTION_LABELS[row.production]}”，"
                    f"请填“{ABSORBED_PRODUCTION}”或留空；如该矿业权仍单独{work}，请核对处置状态和整合后保留。",
                )
            )
        elif row.says_absorbed and not row.absorbed:
            if row.zone_id is None:
                why = "此行不属于任何整合区"
            elif row.status != RightStatus.CONSOLIDATED:
                not_yet = (
                    "尚未整合" if row.status in RightStatus.OPEN else f"不是“{STATUS_LABELS[RightStatus.CONSOLIDATED]}”"
                )
                why = f"此行处置状态为“{STATUS_LABELS[row.status]}”，{not_yet}"
            elif row.kind == RightKind.MINING and kept_of(row) is True:
                why = "此行是整合后保留的采矿权"
            elif row.kind == RightKind.MINING:
                why = "此行整合后保留未填，本区也没有填“是”的采矿权，尚不能确定此宗是保留还是并入"
            else:
                why = f"{KIND_LABELS[row.kind]}尚未设立，不是一宗矿业权"
            errors.append(
                CellError(
                    SHEET_RIGHTS,
                    row.number,
                    letter,
                    header,
                    f"“{ABSORBED_PRODUCTION}”只用于整合区内已整合、不是整合后保留的那一宗的矿业权：{why}，"
                    "请填写其实际生产状态。",
                )
            )
    return errors


def _column_number(letter: str) -> int:
    from openpyxl.utils import column_index_from_string

    return column_index_from_string(letter) if letter else 0


# --- Import ----------------------------------------------------------------------------

_FIELDS = (
    "name",
    "kind",
    "mineral",
    "zone_id",
    "size_class",
    "production_status",
    "unit_id",
    "holder",
    "contact_person",
    "due_on",
    "note",
)


_LATER_FIELDS = {
    "sector": "sector",
    "cause": "idle_cause",
    "green": "green_level",
    "locality": "locality_unit_id",
    "baseline": "baseline_on",
}


def import_ledger(
    *,
    session: Session,
    plan_id: int,
    data: bytes | Path,
    actor: str,
    restrict_unit_id: int | None = None,
    actor_member_id: int | None = None,
    now: datetime | None = None,
    claim_done: bool = False,
) -> ImportResult:
    """Check every cell, then upsert the rights by code; any bad cell refuses the whole file.

    Status changes go through move_right_status, so each leaves an event and an audit row.
    """
    refs = _refs(session, plan_id)
    wb = _open_workbook(data)
    try:
        rows, errors = _parse_rows(session, refs, wb, restrict_unit_id)
    finally:
        wb.close()
    if errors:
        raise LedgerImportError(errors)

    at = now or utcnow()
    existing = {r.code: r for r in session.exec(select(Right).where(Right.plan_id == plan_id)).all()}
    result = ImportResult(rows=len(rows), size_ignored=[(r.number, r.code) for r in rows if r.size_ignored])
    changed: dict[str, dict[str, list[Any]]] = {}
    by_code: dict[str, Right] = {}
    created: set[str] = set()
    for row in rows:
        right = existing.get(row.code)
        wanted: dict[str, Any] = {
            "name": row.name,
            "kind": row.kind,
            "mineral": row.mineral,
            "zone_id": row.zone_id,
            "size_class": row.size,
            "production_status": row.production,
            "unit_id": row.unit_id,
            "holder": row.holder,
            "contact_person": row.contact,
            "due_on": row.due,
            "note": row.note,
            "sector": row.sector,
            "idle_cause": row.cause,
            "green_level": row.green,
            "locality_unit_id": row.locality_id,
            "baseline_on": row.baseline,
            "kept_in_zone": row.kept,
        }
        for key, field_name in _LATER_FIELDS.items():
            if key in row.absent:
                del wanted[field_name]
        if row.absorbed and right is not None:
            # Absorbed: the ledger reads 已并入保留矿山 of it from its status and 整合后保留, and what
            # it last said of the mine's own production is left as it was.
            del wanted["production_status"]
        if "kept" in row.absent:
            # A file from before the column keeps what the system has, but not for a right it moves
            # to another zone or kind: 整合后保留 was said of the right as it was.
            if right is not None and right.zone_id == row.zone_id and right.kind == row.kind:
                del wanted["kept_in_zone"]
            else:
                wanted["kept_in_zone"] = None
        if right is None:
            right = Right(plan_id=plan_id, code=row.code, status="baseline", updated_at=at, **wanted)
            created.add(row.code)
        else:
            diff = {
                k: [_jsonable(getattr(right, k)), _jsonable(v)] for k, v in wanted.items() if getattr(right, k) != v
            }
            if diff:
                for k, v in wanted.items():
                    setattr(right, k, v)
                right.updated_at = at
                changed[row.code] = diff
        session.add(right)
        by_code[row.code] = right
    session.flush()

    all_codes = {**{r.code: r for r in existing.values()}, **by_code}
    current_batches: dict[int, set[int]] = {}
    ids = [r.id for r in by_code.values()]
    for rb in session.exec(select(RightBatch).where(col(RightBatch.right_id).in_(ids))).all():
        current_batches.setdefault(rb.right_id, set()).add(rb.task_id)
    task_names = {t.id: t.name for t in refs.tasks}
    for row in rows:
        right = by_code[row.code]
        parent_id = all_codes[row.parent_code].id if row.parent_code else None
        if right.parent_right_id != parent_id:
            if row.code not in created:
                old = next((c for c, r in all_codes.items() if r.id == right.parent_right_id), None)
                changed.setdefault(row.code, {})["parent"] = [old, row.parent_code or None]
            right.parent_right_id = parent_id
            right.updated_at = at
            session.add(right)
        have = current_batches.get(row_id(right), set())
        want = set(row.task_ids)
        if have != want:
            for task_id in have - want:
                stale = session.get(RightBatch, (right.id, task_id))
                if stale is not None:
                    session.delete(stale)
            for task_id in sorted(want - have):
                session.add(RightBatch(right_id=row_id(right), task_id=task_id))
            if row.code not in created:
                changed.setdefault(row.code, {})["batches"] = [
                    sorted(task_names[t] for t in have),
                    sorted(task_names[t] for t in want),
                ]
    session.flush()

    for row in rows:
        right = by_code[row.code]
        if right.status != row.status and claim_done and row.status not in RightStatus.OPEN:
            result.claims.append((row_id(right), row.status))  # the caller files the claim with its report
        elif right.status != row.status:
            old = right.status
            move_right_status(
                session=session,
                right_id=row_id(right),
                to_status=row.status,
                actor_member_id=actor_member_id,
                actor=actor,
                reason="台账导入",
                now=at,
            )
            result.status_changes += 1
            if row.code not in created:
                changed.setdefault(row.code, {})["status"] = [old, row.status]

    for row in rows:
        right = by_code[row.code]
        if row.code in created:
            result.created += 1
            result.created_codes.append(row.code)
            audit(
                session=session,
                actor=actor,
                action="right.created",
                object_type="right",
                object_id=right.id,
                detail={"code": row.code, "source": "ledger"},
                at=at,
            )
        elif row.code in changed:
            result.updated += 1
            result.updated_codes.append(row.code)
            audit(
                session=session,
                actor=actor,
                action="right.updated",
                object_type="right",
                object_id=right.id,
                detail={"code": row.code, "source": "ledger", "changes": changed[row.code]},
                at=at,
            )
        else:
            result.unchanged += 1
    audit(
        session=session,
        actor=actor,
        action="ledger.imported",
        object_type="plan",
        object_id=plan_id,
        detail={
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "status_changes": result.status_changes,
            "claims": len(result.claims),
            "size_ignored": len(result.size_ignored),
            "restrict_unit_id": restrict_unit_id,
            "member_id": actor_member_id,
        },
        at=at,
    )
    session.flush()
    return result


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
