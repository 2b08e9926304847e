"""The ledger workbooks of sample data carry its mark on every sheet, and a real plan's none.

A plan is first worked as a real one (the seeded quarter): its ledger export, the brief's 完整台账
annex, the prefilled template and the CLI's files have no 示例数据 anywhere. Then the plan is marked
as the demo marks its own (oversight.sample.mark_sample): each of those workbooks now leads every
sheet's title with the plan's mark and prints it in every page's header, the hidden list sheet
holds it beside the lists, and nothing else of the sheet moves (title, headers, frozen panes,
filter, repeated rows, widths, every row below the title). Every file is stored readable, 0644,
as oversight.files writes every other stored file."""

from __future__ import annotations

import io
import stat
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

import jobs.brief as brief_job
from lianxi.cli_ledger import ledger_app
from models import read_only, session_scope
from oversight.ledger import (
    SHEET_DECISIONS,
    SHEET_HELP,
    SHEET_OPTIONS,
    SHEET_PROBLEMS,
    SHEET_RIGHTS,
    export_bytes,
    export_ledger,
    import_ledger,
    ledger_template,
)
from oversight.sample import DEMO_MARK, mark_sample
from tests.seed_quarter import at, seed_quarter

NOW = at(2026, 4, 8, 9)
SHEETS = [SHEET_RIGHTS, SHEET_PROBLEMS, SHEET_DECISIONS, SHEET_HELP, SHEET_OPTIONS]
TITLED = [SHEET_RIGHTS, SHEET_PROBLEMS, SHEET_DECISIONS]  # merged title, headers, filter, frozen panes


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def _cells(ws: Worksheet) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def _layout(ws: Worksheet) -> dict[str, Any]:
    """What a sheet's layout is made of, beside its cells."""
    return {
        "merged": sorted(str(r) for r in ws.merged_cells.ranges),
        "freeze": ws.freeze_panes,
        "filter": ws.auto_filter.ref,
        "repeat": ws.print_title_rows,
        "widths": {k: d.width for k, d in ws.column_dimensions.items()},
        "footer": ws.oddFooter.center.text,
        "state": ws.sheet_state,
    }


def _workbook(source: Path | bytes) -> Any:
    return load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source)


def assert_unmarked(source: Path | bytes) -> None:
    """No sheet, cell, page header or property of a real plan's workbook says 示例数据."""
    wb = _workbook(source)
    titles = [ws.title for ws in wb.worksheets]
    assert titles in (SHEETS, [SHEET_RIGHTS, SHEET_HELP, SHEET_OPTIONS]), titles  # an export, a template
    for ws in wb.worksheets:
        said = [str(v) for row in _cells(ws) for v in row if v is not None]
        assert not [t for t in said if "示例数据" in t], ws.title
        assert not ws.oddHeader.center.text, ws.title
    assert not wb.properties.subject and not wb.properties.keywords


def assert_marked(source: Path | bytes, real: Path | bytes, mark: str = DEMO_MARK) -> None:
    """Every sheet carries `mark` in its title row (the hidden list sheet beside its lists) and in
    its printed page header; everything else is the real plan's workbook as it was."""
    wb, plain = _workbook(source), _workbook(real)
    assert [ws.title for ws in wb.worksheets] == [ws.title for ws in plain.worksheets]
    for ws in wb.worksheets:
        was = plain[ws.title]
        assert ws.oddHeader.center.text == mark, ws.title  # printed on every page
        assert _layout(ws) == _layout(was), ws.title
        cells, before = _cells(ws), _cells(was)
        if ws.title == SHEET_OPTIONS:
            lists = len(before[0])
            assert cells[0] == (*before[0], mark)  # beside the lists, not in them
            assert [row[:lists] for row in cells] == before and all(row[lists:] == (None,) for row in cells[1:])
            continue
        assert cells[0][0] == f"【{mark}】{before[0][0]}", ws.title  # the title row, led by the mark
        assert cells[1:] == before[1:], ws.title  # the headers and every row below as they were
    for title in (t for t in TITLED if t in wb):
        layout = _layout(wb[title])
        assert layout["freeze"] == "A3" and layout["repeat"] == "$2:$2" and layout["filter"].startswith("A2:")
        assert layout["merged"] and layout["merged"][0].startswith("A1:")
    assert wb.properties.subject == mark and wb.properties.keywords == "示例数据"


def test_a_sample_plans_ledger_is_marked_on_every_sheet_and_a_real_plans_is_not(
    engine: Engine, banner_plan_id: int, tmp_path: Path
) -> None:
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)
    with Session(engine) as s:
        real = export_ledger(tmp_path / "real.xlsx", session=s, plan_id=banner_plan_id, now=NOW)
        real_bytes = export_bytes(session=s, plan_id=banner_plan_id, now=NOW)
        real_template = ledger_template(session=s, plan_id=banner_plan_id, now=NOW)
    assert _mode(real) == "0o644"
    for workbook in (real, real_bytes, real_template.data):
        assert_unmarked(workbook)

    with session_scope(engine) as s:  # the plan as the demo marks its own
        mark_sample(session=s, plan_id=banner_plan_id, mark=DEMO_MARK)
    with Session(engine) as s:
        sample = export_ledger(tmp_path / "sample.xlsx", session=s, plan_id=banner_plan_id, now=NOW)
        sample_bytes = export_bytes(session=s, plan_id=banner_plan_id, now=NOW)
        template = ledger_template(session=s, plan_id=banner_plan_id, now=NOW)
        assert _mode(sample) == "0o644"
        assert_marked(sample, real)
        assert_marked(sample_bytes, real_bytes)
        assert_marked(template.data, real_template.data)
        # The marked template still reads back: filled in unchanged, it changes nothing.
        again = import_ledger(session=s, plan_id=banner_plan_id, data=template.data, actor="cli", now=NOW)
        assert (again.created, again.updated, again.unchanged) == (0, 0, template.rights) and template.rights > 0
        s.rollback()


def test_the_briefs_full_ledger_annex_is_marked_for_a_sample_plan_and_stored_readable(
    engine: Engine, banner_plan_id: int, tmp_path: Path
) -> None:
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)

    def annex(out: Path) -> Path:
        with session_scope(read_only(engine)) as s:
            built = brief_job.build_brief(
                session=s, plan_id=banner_plan_id, period="2026Q1", now=NOW, out_dir=out, word=False
            )
        assert built.xlsx_path.parent == out and built.pdf_path.exists()
        return built.xlsx_path

    real = annex(tmp_path / "real")
    assert _mode(real) == "0o644", "the annex is stored as every other file is"
    assert_unmarked(real)
    with session_scope(engine) as s:
        mark_sample(session=s, plan_id=banner_plan_id, mark=DEMO_MARK)
    sample = annex(tmp_path / "sample")
    assert _mode(sample) == "0o644"
    assert_marked(sample, real)
    assert sorted(p.name for p in sample.parent.iterdir() if p.name.startswith(".")) == []  # no temporary left


def test_the_clis_ledger_files_are_marked_for_a_sample_plan_and_stored_readable(
    settings_env, engine: Engine, banner_plan_id: int, tmp_path: Path
) -> None:
    with session_scope(engine) as s:
        seed_quarter(session=s, plan_id=banner_plan_id)
    runner = CliRunner()
    for name, args in (("real-export.xlsx", ["export"]), ("real-template.xlsx", ["template", "--prefill"])):
        result = runner.invoke(ledger_app, [*args[:1], str(tmp_path / name), *args[1:]])
        assert result.exit_code == 0, result.output
        assert _mode(tmp_path / name) == "0o644", name
        assert_unmarked(tmp_path / name)
    with session_scope(engine) as s:
        mark_sample(session=s, plan_id=banner_plan_id, mark=DEMO_MARK)
    for name, args in (("export.xlsx", ["export"]), ("template.xlsx", ["template", "--prefill"])):
        result = runner.invoke(ledger_app, [*args[:1], str(tmp_path / name), *args[1:]])
        assert result.exit_code == 0, result.output
        assert _mode(tmp_path / name) == "0o644", name
        wb = load_workbook(tmp_path / name)
        for ws in wb.worksheets:
            assert ws.oddHeader.center.text == DEMO_MARK, (name, ws.title)
            top = ws["A1"].value if ws.title != SHEET_OPTIONS else ws.cell(1, ws.max_column).value
            assert str(top).startswith(f"【{DEMO_MARK}】") or top == DEMO_MARK, (name, ws.title, top)
