"""The ledger workbook as written (XlsxWriter, constant memory) and read back by openpyxl, cell by
cell: titles, headers, formats, drop-downs, print setup, one date format, the chat's state names,
text no spreadsheet chokes on; the template empty or prefilled with a unit's own rights."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from lianxi.cli_ledger import ledger_app
from models import Decision, Meeting, Problem, Right, RightKind, Unit, Zone
from oversight import ledger as L
from oversight.ledger import (
    COLUMNS,
    DATE_FORMAT,
    DATETIME_FORMAT,
    SHEET_DECISIONS,
    SHEET_HELP,
    SHEET_OPTIONS,
    SHEET_PROBLEMS,
    SHEET_RIGHTS,
    export_bytes,
    export_ledger,
    import_ledger,
    ledger_template,
    write_template,
)
from oversight.problems import STATE_LABELS
from tests.test_ledger import ROWS, T1, _fill, _read_rights

HOSTILE = "<b>&amp;</b> \"引号\" 'single' ]]> <![CDATA[x]]> 😀🀄 =1+1 &#0; 𠮷"
# What a database can store of the characters XML forbids (PostgreSQL refuses NUL, UTF-8 a lone surrogate).
CONTROL = "a\x01b\x02c\x08d\x0be\x0cf\x1fg\ufffeh\uffffij"
PADDING = 0.7109375  # XlsxWriter stores a column width as Excel does: the characters plus padding
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _populate(session: Session, plan_id: int, tmp_path: Path) -> None:
    filled = _fill(write_template(tmp_path / "t.xlsx", session=session, plan_id=plan_id), ROWS, tmp_path / "f.xlsx")
    import_ledger(session=session, plan_id=plan_id, data=filled, actor="cli", now=T1)
    units = session.exec(select(Unit).where(Unit.plan_id == plan_id).order_by(Unit.id)).all()
    right = session.exec(select(Right).where(Right.code == ROWS[0]["矿业权编号"])).one()
    right.note = HOSTILE
    right.holder = "  leading and trailing spaces  "
    session.add(right)
    session.add(
        Right(
            plan_id=plan_id,
            code="X<&>1",
            name="名称\n第二行\t制表" + CONTROL,
            kind="mining",
            status="baseline",
            note="a" * 40_000,
            due_on=date(2030, 2, 28),
        )
    )
    session.add(
        Problem(
            plan_id=plan_id,
            text=HOSTILE * 3,
            right_id=right.id,
            raised_by_unit_id=units[0].id,
            owner_unit_id=units[1].id,
            state="resolved",
            due_on=date(2026, 6, 1),
            created_at=datetime(2026, 4, 30, 16, 5, 7, tzinfo=UTC),
            resolved_at=datetime(2026, 5, 2, 1, 2, 3, 456000, tzinfo=UTC),
        )
    )
    session.add(
        Problem(
            plan_id=plan_id,
            text="短",
            raised_by_unit_id=units[0].id,
            owner_unit_id=units[0].id,
            state="closed",
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )
    meeting = Meeting(plan_id=plan_id, kind="quarterly", period="2026Q2", held_on=date(2026, 4, 8), title="第<1>次会议")
    session.add(meeting)
    session.flush()
    session.add(
        Decision(
            plan_id=plan_id,
            meeting_id=meeting.id,
            text="林草局两周内完成草原征占用审批" * 3,
            owner_unit_id=units[2].id,
            due_on=date(2026, 4, 22),
            major=True,
            state="done",
            done_at=datetime(2026, 4, 20, 8, 0, tzinfo=UTC),
        )
    )
    session.commit()


def _printed_on_landscape_pages_with_the_header(ws: Any) -> None:
    assert ws.page_setup.orientation == "landscape", ws.title
    assert ws.print_title_rows == "$2:$2", ws.title  # the header row on every page
    assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, ws.title  # one page wide
    assert ws.page_setup.paperSize == 9, ws.title  # A4
    assert "&P" in (ws.oddFooter.center.text or ""), ws.title


def _titled(ws: Any, headers: tuple[str, ...], widths: tuple[int, ...]) -> None:
    last = chr(ord("A") + len(headers) - 1)
    assert [str(r) for r in ws.merged_cells.ranges] == [f"A1:{last}1"]
    assert ws["A1"].font.b and ws["A1"].font.sz == 14
    assert tuple(c.value for c in ws[2]) == headers
    assert all(c.font.b and c.alignment.wrap_text and c.fill.patternType == "solid" for c in ws[2])
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref == f"A2:{last}2"
    got = {i: round(d.width - PADDING, 3) for d in ws.column_dimensions.values() for i in range(d.min, d.max + 1)}
    assert got == dict(enumerate(widths, start=1))
    _printed_on_landscape_pages_with_the_header(ws)


def test_export_read_back_cell_by_cell(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    _populate(session, banner_plan_id, tmp_path)
    path = export_ledger(tmp_path / "new.xlsx", session=session, plan_id=banner_plan_id, now=T1)
    wb = load_workbook(path)
    assert wb.sheetnames == [SHEET_RIGHTS, SHEET_PROBLEMS, SHEET_DECISIONS, SHEET_HELP, SHEET_OPTIONS]
    assert [wb[n].sheet_state for n in wb.sheetnames] == ["visible"] * 4 + ["hidden"]
    assert wb.properties.creator and "乌拉特中旗" in wb.properties.creator  # the plan's name
    assert wb.properties.created == datetime(2026, 5, 6, 2, 30)  # the export time, in UTC

    # Rights: title with the export time written as every other date, headers (required ones
    # coloured apart), codes as text, dates as dates, drop-downs down to 1,000 spare rows.
    ws = wb[SHEET_RIGHTS]
    # The banner plan's columns: none of the region plan's 行业, 停产或未转采原因, 所在盟市, 底数核实日期.
    columns = [c for c in COLUMNS if c.key not in ("sector", "cause", "locality", "baseline")]
    _titled(ws, tuple(c.header for c in columns), tuple(c.width for c in columns))
    assert ws["A1"].value == "乌拉特中旗非煤矿山资源整合、增储上产 矿业权台账（导出时间：2026年5月6日 10:30）"
    fills = [c.fill.fgColor.rgb[-6:] for c in ws[2]]
    assert fills == ["FCE4D6" if c.required else "DDEBF7" for c in columns]
    rights = [row for row in ws.iter_rows(min_row=3) if row[0].value]
    assert len(rights) == len(ROWS) + 1
    for row in rights:
        assert row[0].number_format == "@" and isinstance(row[0].value, str)
        due = row[13]
        assert due.number_format == DATE_FORMAT and (due.value is None or isinstance(due.value, datetime))
    # In the sheet's order (by zone, rights outside any zone last; kind; code), as Python sorts codes.
    zone_seq = {z.id: z.seq for z in session.exec(select(Zone).where(Zone.plan_id == banner_plan_id)).all()}
    kinds = {k: i for i, k in enumerate(RightKind.ALL)}
    stored = session.exec(select(Right).where(Right.plan_id == banner_plan_id)).all()
    expected = sorted(stored, key=lambda r: (r.zone_id is None, zone_seq.get(r.zone_id, 0), kinds[r.kind], r.code))
    assert [row[0].value for row in rights] == [r.code for r in expected]
    by_code = {row[0].value: [c.value for c in row] for row in rights}
    assert by_code[ROWS[0]["矿业权编号"]][14] == HOSTILE
    assert by_code[ROWS[0]["矿业权编号"]][11] == "  leading and trailing spaces  "
    odd = by_code["X<&>1"]
    assert odd[1] == "名称\n第二行\t制表abcdefghij"  # XML-forbidden characters removed, the rest kept
    assert odd[14] == "a" * 32_767  # Excel's limit
    assert odd[13] == datetime(2030, 2, 28)
    # The columns' own formats, which Excel gives what is typed below the rights too.
    assert ws.max_row == 2 + len(rights)
    assert ws.column_dimensions["A"].number_format == "@" and ws.column_dimensions["N"].number_format == DATE_FORMAT
    validations = {
        str(dv.sqref): (dv.formula1, dv.error, dv.promptTitle, dv.allow_blank, dv.showErrorMessage)
        for dv in ws.data_validations.dataValidation
    }
    last = 3 + len(rights) + L.VALIDATION_SPARE_ROWS  # every spare row below the rights has the drop-downs
    # 类型 … 责任单位 as before, then 绿色矿山 P, 整合后保留 Q (是、否)
    assert set(validations) == {f"{c}3:{c}{last}" for c in "CEGHIKPQ"}
    assert validations[f"Q3:Q{last}"][0] == f"'{SHEET_OPTIONS}'!$I$2:$I$3"
    assert validations[f"I3:I{last}"] == (
        f"'{SHEET_OPTIONS}'!$D$2:$D${len(L.STATUS_LABELS) + 1}",
        "请从下拉列表中选择处置状态。",
        "处置状态",
        True,
        True,
    )
    options = wb[SHEET_OPTIONS]
    assert [c.value for c in options["D"][1 : len(L.STATUS_LABELS) + 1]] == list(L.STATUS_LABELS.values())
    assert next(c.value for c in options["E"][1:] if c.value) == "常兴扎嘎乌苏铁矿整合区"
    assert [c.value for c in options["I"][:3]] == ["整合后保留", "是", "否"]

    # Problems: the chat's own state names, local times, long text wrapped.
    ws = wb[SHEET_PROBLEMS]
    _titled(ws, L._PROBLEM_HEADERS, L._PROBLEM_WIDTHS)
    problems = list(ws.iter_rows(min_row=3))
    assert [p[6].value for p in problems] == [STATE_LABELS["resolved"], STATE_LABELS["closed"]]
    assert STATE_LABELS["closed"] == "已关闭"  # as /problem shows it; the ledger once said 已销号
    first = problems[0]
    assert first[1].value == HOSTILE * 3 and first[1].alignment.wrap_text
    assert first[3].value == f"乌拉特中旗乌兰赤老铁矿一号（{ROWS[0]['矿业权编号']}）"
    assert first[7].value == datetime(2026, 5, 1, 0, 5, 7) and first[7].number_format == DATETIME_FORMAT
    assert first[8].value == datetime(2026, 6, 1) and first[8].number_format == DATE_FORMAT
    assert first[9].value == datetime(2026, 5, 2, 9, 2, 3, 456000), first[9].value
    assert problems[1][1].value == "短" and not problems[1][1].alignment.wrap_text
    assert problems[1][9].value is None

    ws = wb[SHEET_DECISIONS]
    _titled(ws, L._DECISION_HEADERS, L._DECISION_WIDTHS)
    decision = [c.value for c in next(ws.iter_rows(min_row=3))]
    assert decision[1:] == [
        "第<1>次会议",
        "林草局两周内完成草原征占用审批" * 3,
        decision[3],
        None,  # no cooperating unit named: the cell is empty, not 无 or []
        datetime(2026, 4, 22),
        "已完成（2026年4月20日）",  # its day, by its deadline (oversight.meetings.completion_text)
        "是",
        datetime(2026, 4, 20, 16, 0),
    ]

    # One date format everywhere: every date cell shows 2026年1月8日 (and a time), no text is ISO.
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, datetime):
                    assert cell.number_format in (DATE_FORMAT, DATETIME_FORMAT), cell.coordinate
                elif isinstance(cell.value, str):
                    assert not ISO_DAY.search(cell.value), (sheet.title, cell.coordinate, cell.value)

    # Text beginning with "=" stays text, also read the way the import reads (data_only).
    data_only = load_workbook(path, data_only=True)[SHEET_RIGHTS]
    assert HOSTILE in [data_only.cell(r, 15).value for r in range(3, 12)]
    with zipfile.ZipFile(path) as zf:
        sheet1 = zf.read("xl/worksheets/sheet1.xml").decode()
        assert zf.getinfo("xl/worksheets/sheet1.xml").compress_type == zipfile.ZIP_DEFLATED
        assert "<f>" not in sheet1


def test_cell_text_is_cleaned_and_cut() -> None:
    assert L._clean("a\x00b\x01c\x08d\x0be\x0cf\x1fg\ufffeh\uffffi\ud800j") == "abcdefghij"
    assert L._clean("tab\tnl\ncr\r 😀 𠮷") == "tab\tnl\ncr\r 😀 𠮷"
    assert L._clean("长" * 40_000) == "长" * 32_767


def test_export_imports_back_unchanged(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    """Hostile text within the column limits survives export and import; the bytes are the same workbook."""
    filled = _fill(
        write_template(tmp_path / "t.xlsx", session=session, plan_id=banner_plan_id), ROWS, tmp_path / "f.xlsx"
    )
    import_ledger(session=session, plan_id=banner_plan_id, data=filled, actor="cli", now=T1)
    right = session.exec(select(Right).where(Right.code == ROWS[1]["矿业权编号"])).one()
    right.note, right.holder = HOSTILE, '=HYPERLINK("http://x")'
    session.add(right)
    session.commit()
    exported = export_ledger(tmp_path / "e.xlsx", session=session, plan_id=banner_plan_id, now=T1)
    back = {r["矿业权编号"]: r for r in _read_rights(exported)}
    assert back[ROWS[1]["矿业权编号"]]["备注"] == HOSTILE
    assert back[ROWS[1]["矿业权编号"]]["矿业权人"] == '=HYPERLINK("http://x")'
    again = import_ledger(session=session, plan_id=banner_plan_id, data=exported.read_bytes(), actor="cli")
    assert (again.created, again.updated, again.unchanged, again.status_changes) == (0, 0, 6, 0)
    data = export_bytes(session=session, plan_id=banner_plan_id, now=T1)
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    assert _read_rights(io.BytesIO(data)) == _read_rights(exported)


def test_a_failed_export_leaves_no_file(
    session: Session, banner_plan_id: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    old = out / "ledger.xlsx"
    export_ledger(old, session=session, plan_id=banner_plan_id, now=T1)
    before = old.read_bytes()

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("query failed")
        yield  # a generator, as the real one

    monkeypatch.setattr(L, "_problem_rows", broken)
    with pytest.raises(RuntimeError):
        export_ledger(old, session=session, plan_id=banner_plan_id, now=T1)
    assert old.read_bytes() == before  # the old file untouched, no temporary left beside it
    assert sorted(p.name for p in out.iterdir()) == ["ledger.xlsx"]


def test_template_prefilled_with_a_units_own_rights(
    settings_env, engine: Engine, banner_plan_id: int, tmp_path: Path
) -> None:
    with Session(engine) as s:
        _fill(write_template(tmp_path / "t.xlsx", session=s, plan_id=banner_plan_id), ROWS, tmp_path / "f.xlsx")
        import_ledger(session=s, plan_id=banner_plan_id, data=tmp_path / "f.xlsx", actor="cli", now=T1)
        s.commit()
        natres = s.exec(select(Unit).where(Unit.plan_id == banner_plan_id, Unit.key == "natres")).one()
        own = {r["矿业权编号"] for r in ROWS if r["责任单位"] == natres.name}
        assert 0 < len(own) < len(ROWS)
        made = ledger_template(session=s, plan_id=banner_plan_id, unit_id=natres.id, now=T1)
        assert made.rights == len(own) and made.filename == f"{natres.name}矿业权台账.xlsx"
        wb = load_workbook(io.BytesIO(made.data))
        assert wb.sheetnames == [SHEET_RIGHTS, SHEET_HELP, SHEET_OPTIONS]
        assert (
            wb[SHEET_RIGHTS]["A1"].value
            == f"乌拉特中旗非煤矿山资源整合、增储上产 矿业权台账（{natres.name}，截至2026年5月6日 10:30）"
        )
        rows = _read_rights(io.BytesIO(made.data))
        assert {r["矿业权编号"] for r in rows} == own
        filled = {r["矿业权编号"]: r for r in _read_rights(tmp_path / "f.xlsx")}
        assert {r["矿业权编号"]: r for r in rows} == {code: filled[code] for code in own}
        # Filled back in unchanged, it changes nothing.
        again = import_ledger(session=s, plan_id=banner_plan_id, data=made.data, actor="cli")
        assert (again.created, again.updated, again.unchanged) == (0, 0, len(own))
        everything = ledger_template(session=s, plan_id=banner_plan_id, now=T1)
        assert everything.rights == len(ROWS) and len(_read_rights(io.BytesIO(everything.data))) == len(ROWS)

    runner = CliRunner()
    empty = runner.invoke(ledger_app, ["template", str(tmp_path / "empty.xlsx")])
    assert empty.exit_code == 0 and "空白" in empty.output
    assert _read_rights(tmp_path / "empty.xlsx") == []
    one = runner.invoke(ledger_app, ["template", str(tmp_path / "natres.xlsx"), "--unit", "自然资源局"])
    assert one.exit_code == 0, one.output
    assert f"已填入{natres.name}的{len(own)}宗矿业权" in one.output
    assert {r["矿业权编号"] for r in _read_rights(tmp_path / "natres.xlsx")} == own
    whole = runner.invoke(ledger_app, ["template", str(tmp_path / "all.xlsx"), "--prefill"])
    assert whole.exit_code == 0 and f"全部单位的{len(ROWS)}宗" in whole.output
    nobody = runner.invoke(ledger_app, ["template", str(tmp_path / "x.xlsx"), "--unit", "不存在的局"])
    assert nobody.exit_code == 2 and "找不到单位" in nobody.output and not (tmp_path / "x.xlsx").exists()
    both = runner.invoke(ledger_app, ["template", str(tmp_path / "x.xlsx"), "--unit", "自然资源局", "--prefill"])
    assert both.exit_code == 2 and "只能选一个" in both.output


def test_opens_in_libreoffice(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.skip("LibreOffice is not installed")
    _populate(session, banner_plan_id, tmp_path)
    new = export_ledger(tmp_path / "new.xlsx", session=session, plan_id=banner_plan_id, now=T1)
    subprocess.run(
        [office, "--headless", "--convert-to", "csv", "--outdir", str(tmp_path / "csv"), str(new)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    text = next((tmp_path / "csv").glob("*.csv")).read_text(encoding="utf-8", errors="replace")
    assert ROWS[0]["矿业权编号"] in text and "2027年6月30日" in text


def _sheet_xml(write: Any) -> bytes:
    """The first sheet's XML of a workbook `write(book, ws)` fills below a titled sheet's headers."""
    buf = io.BytesIO()
    book = L._Book(buf, creator="测试", created=datetime(2026, 1, 8, 9, 5, tzinfo=UTC))
    ws = book.titled("表", "标题", ["甲", "乙", "丙", "丁", "戊", "己"], [10] * 6, column_formats={5: book.text})
    write(book, ws)
    book.close()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        return z.read("xl/worksheets/sheet1.xml")


def test_bulk_rows_write_what_xlsxwriter_writes_cell_by_cell() -> None:
    """The annex's rows go into the sheet's XML in bulk (the region's million cells): the file is
    byte for byte the one XlsxWriter's own per-cell writes make, escapes, styles and dates included."""
    texts = [
        HOSTILE,
        CONTROL,
        "  leading and trailing spaces  ",
        "line\nbreak\tand tab",
        "carriage\rreturn",
        "_x0041_ looks like an escape, _x00zz_ does not",
        "长文本" * 20,  # over WRAP_OVER_CHARS: wrapped where the column has no format of its own
        "",
        "0123",
    ]
    rows: list[list[Any]] = []
    for k, text in enumerate(texts):
        rows.append(
            [
                k,
                text,
                [0.1, -3, 1e20, 2**53 + 1, True, False, 12.5, 0, 7, 1 / 3][k],
                datetime(2026, 1, 8, 9, 5, 30, 250_000) if k % 2 else date(2026, 2, 28 - k),
                None if k % 3 else date(2022, 9, 20),
                text if k % 2 else None,
            ]
        )
    rows.append([None] * 6)  # nothing to write: no row, as XlsxWriter writes none
    rows.append([99])  # a short row
    formats: list[Any] = [None, None, None, None, "date", None]

    def per_cell(book: L._Book, ws: Any) -> None:
        fmts = [book.date if f == "date" else None for f in formats]
        for r, values in enumerate(rows, start=2):
            row_formats = [
                fmts[c] or (book.wrap if isinstance(v, str) and len(v) > L.WRAP_OVER_CHARS else None)
                for c, v in enumerate(values)
            ]
            book.row(ws, r, values, row_formats)
        ws.data_validation(2, 1, 40, 1, {"validate": "list", "source": ["是", "否"]})

    def bulk(book: L._Book, ws: Any) -> None:
        fmts = [book.date if f == "date" else None for f in formats]
        assert book.rows(ws, 2, rows, fmts, long_text=book.wrap) == len(rows)
        ws.data_validation(2, 1, 40, 1, {"validate": "list", "source": ["是", "否"]})

    expected = _sheet_xml(per_cell)
    assert b"_x005F_x0041_" in expected and b"_x000D_" in expected and b'xml:space="preserve"' in expected
    assert _sheet_xml(bulk) == expected


def test_bulk_rows_refuse_rows_already_written() -> None:
    buf = io.BytesIO()
    book = L._Book(buf, creator="测试", created=datetime(2026, 1, 8, tzinfo=UTC))
    ws = book.titled("表", "标题", ["甲", "乙"], [10, 10])
    book.rows(ws, 2, [[1, "a"], [2, "b"]], [None, None])
    with pytest.raises(RuntimeError):
        book.rows(ws, 3, [[3, "c"]], [None, None])
    book.close()
