"""The ledger export's own xlsx writer: the same workbook openpyxl wrote (sheet by sheet, cell by
cell, with merged title, frozen header, autofilter, widths and drop-downs), safe for any text."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from models import Decision, Meeting, Problem, Right, Unit
from oversight import xlsxwriter as xw
from oversight.ledger import (
    SHEET_OPTIONS,
    SHEET_RIGHTS,
    _export_ledger_openpyxl,
    export_bytes,
    export_ledger,
    import_ledger,
    write_template,
)
from tests.test_ledger import ROWS, T1, _fill, _read_rights

HOSTILE = "<b>&amp;</b> \"引号\" 'single' ]]> <![CDATA[x]]> 😀🀄 =1+1 &#0; 𠮷"


def _compare(old_path: Path, new_path: Path) -> None:
    old, new = load_workbook(old_path), load_workbook(new_path)
    assert new.sheetnames == old.sheetnames
    for name in old.sheetnames:
        a, b = old[name], new[name]
        assert b.sheet_state == a.sheet_state, name
        assert b.freeze_panes == a.freeze_panes, name
        assert b.auto_filter.ref == a.auto_filter.ref, name
        assert sorted(map(str, b.merged_cells.ranges)) == sorted(map(str, a.merged_cells.ranges)), name
        widths_a = {k: d.width for k, d in a.column_dimensions.items() if d.customWidth}
        widths_b = {k: d.width for k, d in b.column_dimensions.items() if d.customWidth}
        assert widths_b == widths_a, name

        def dvs(ws: Any) -> list[tuple]:
            return sorted(
                (
                    dv.type,
                    dv.formula1,
                    str(dv.sqref),
                    bool(dv.allow_blank),
                    bool(dv.showErrorMessage),
                    bool(dv.showInputMessage),
                    dv.errorTitle,
                    dv.error,
                    dv.promptTitle,
                    dv.prompt,
                )
                for dv in ws.data_validations.dataValidation
            )

        assert dvs(b) == dvs(a), name
        assert (b.max_row, b.max_column) == (a.max_row, a.max_column), name
        for row_a, row_b in zip(a.iter_rows(), b.iter_rows(), strict=True):
            for ca, cb in zip(row_a, row_b, strict=True):
                where = f"{name}!{ca.coordinate}"
                assert cb.value == ca.value and type(cb.value) is type(ca.value), where
                assert cb.number_format == ca.number_format, where
                assert bool(cb.font.b) == bool(ca.font.b), where
                assert (cb.font.sz or 11) == (ca.font.sz or 11), where
                assert cb.fill.patternType == ca.fill.patternType, where
                if ca.fill.patternType == "solid":
                    assert cb.fill.fgColor.rgb[-6:] == ca.fill.fgColor.rgb[-6:], where
                assert bool(cb.alignment.wrap_text) == bool(ca.alignment.wrap_text), where
                assert cb.alignment.vertical == ca.alignment.vertical, where
    assert new.properties.creator == old.properties.creator


def _populate(session: Session, plan_id: int, tmp_path: Path) -> None:
    filled = _fill(write_template(tmp_path / "t.xlsx", session=session, plan_id=plan_id), ROWS, tmp_path / "f.xlsx")
    import_ledger(session=session, plan_id=plan_id, data=filled, actor="cli", now=T1)
    units = session.exec(select(Unit).where(Unit.plan_id == plan_id).order_by(Unit.id)).all()
    right = session.exec(select(Right).where(Right.code == ROWS[0]["矿业权编号"])).one()
    # Text no spreadsheet should choke on (openpyxl refuses control characters: tested below).
    right.note = HOSTILE
    right.holder = "  leading and trailing spaces  "
    session.add(right)
    session.add(
        Right(
            plan_id=plan_id,
            code="X<&>1",
            name="名称\n第二行\t制表",
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


def test_same_workbook_as_openpyxl(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    _populate(session, banner_plan_id, tmp_path)
    old = _export_ledger_openpyxl(tmp_path / "old.xlsx", session=session, plan_id=banner_plan_id, now=T1)
    new = export_ledger(tmp_path / "new.xlsx", session=session, plan_id=banner_plan_id, now=T1)
    _compare(old, new)
    (tmp_path / "bytes.xlsx").write_bytes(export_bytes(session=session, plan_id=banner_plan_id, now=T1))
    _compare(old, tmp_path / "bytes.xlsx")

    wb = load_workbook(new)
    assert wb[SHEET_OPTIONS].sheet_state == "hidden"
    assert wb.properties.created == datetime(2026, 5, 6, 2, 30)  # the export time, in UTC
    ws = wb[SHEET_RIGHTS]
    notes = {ws.cell(r, 1).value: ws.cell(r, 15).value for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value}
    assert notes[ROWS[0]["矿业权编号"]] == HOSTILE
    assert notes["X<&>1"] == "a" * 32_767  # Excel's limit, cut as openpyxl cut it
    # Text beginning with "=" stays text, also when read the way the import reads (data_only).
    data_only = load_workbook(new, data_only=True)[SHEET_RIGHTS]
    assert HOSTILE in [data_only.cell(r, 15).value for r in range(3, 12)]
    with zipfile.ZipFile(new) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").compress_type == zipfile.ZIP_DEFLATED
        assert "<f>" not in zf.read("xl/worksheets/sheet1.xml").decode()


def test_export_imports_back_unchanged(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    """Hostile text within the column limits survives export and import."""
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
    again = import_ledger(session=session, plan_id=banner_plan_id, data=exported.read_bytes(), actor="cli")
    assert (again.created, again.updated, again.unchanged, again.status_changes) == (0, 0, 6, 0)


def test_control_characters_are_removed(tmp_path: Path) -> None:
    wb = xw.Workbook(creator="c\x00r\x1b", created=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    ws = wb.create_sheet("s<&>'")
    ws.append(
        [
            "a\x00b\x01c\x08d\x0be\x0cf\x1fg\ufffeh\uffffi\ud800j",
            "tab\tnl\ncr\r",
            " pad ",
            "\x00",
            1,
            2.5,
            True,
            date(2026, 3, 1),
            datetime(2026, 3, 1, 13, 45, 30),
            None,
            "😀",
        ]
    )
    ws.append([xw.Cell(None, xw.Style(bold=True)), xw.Cell("wrapped", xw.Style(wrap=True, fill="FF0000"))])
    out = tmp_path / "c.xlsx"
    wb.save(out)
    got = load_workbook(out)
    sheet = got["s<&>'"]
    values = [c.value for c in sheet[1]]
    assert values[:3] == ["abcdefghij", "tab\tnl\ncr\r", " pad "]
    assert values[3] in (None, "")
    assert values[4:] == [1, 2.5, True, datetime(2026, 3, 1), datetime(2026, 3, 1, 13, 45, 30), None, "😀"]
    assert sheet["B2"].alignment.wrap_text and sheet["B2"].fill.fgColor.rgb.endswith("FF0000")
    assert got.properties.creator == "cr"


def test_column_letters() -> None:
    assert [xw.column_letter(n) for n in (1, 26, 27, 52, 53, 702, 703)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


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
    assert ROWS[0]["矿业权编号"] in text


def test_bytes_are_a_zip(session: Session, banner_plan_id: int) -> None:
    data = export_bytes(session=session, plan_id=banner_plan_id, now=T1)
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
