"""The ledger spreadsheet: a template is filled in, imported all-or-nothing, exported and
read back unchanged; bad cells are named by sheet, row and column."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from lianxi.cli_ledger import ledger_app
from models import AuditLog, Decision, Meeting, Problem, Right, RightBatch, RightStatusEvent, Task, Unit
from oversight.ledger import (
    COLUMNS,
    HEADERS,
    LATER_COLUMNS,
    SHEET_DECISIONS,
    SHEET_HELP,
    SHEET_OPTIONS,
    SHEET_PROBLEMS,
    SHEET_RIGHTS,
    LedgerFileError,
    LedgerImportError,
    export_ledger,
    import_ledger,
    import_summary,
    write_template,
)
from oversight.rights import batch_progress
from tests.conftest import table_counts

T1 = datetime(2026, 5, 6, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai

# Every column, several kinds, a deep right with its parent, several batches per right.
ROWS: list[dict[str, Any]] = [
    {
        "矿业权编号": "C1500002011041120001",
        "矿业权名称": "乌拉特中旗乌兰赤老铁矿一号",
        "类型": "采矿权",
        "矿种": "铁",
        "所属整合区": "乌兰赤老铁矿整合区",
        "所属深部探矿权的采矿权编号": None,
        "规模": "大型",
        "生产状态": "生产",
        "处置状态": "推进中",
        "所属批次": "强化整合重组一批、复工达产一批",
        "责任单位": "旗自然资源局",
        "矿业权人": "乌拉特中旗乌兰赤老矿业有限公司",
        "责任人": "张三 13800000000",
        "完成时限": date(2027, 6, 30),
        "备注": "需补办环评",
        "绿色矿山": "自治区级",
    },
    {
        "矿业权编号": "C1500002011041120002",
        "矿业权名称": "乌兰赤老铁矿二号",
        "类型": "采矿权",
        "矿种": "铁",
        "所属整合区": "乌兰赤老铁矿整合区",
        "所属深部探矿权的采矿权编号": None,
        "规模": "小型",
        "生产状态": "停产",
        "处置状态": "未处置",
        "所属批次": "强化整合重组一批",
        "责任单位": "旗自然资源局",
        "矿业权人": "某某矿业有限公司",
        "责任人": "李四",
        "完成时限": None,
        "备注": None,
    },
    {
        "矿业权编号": "T15420080602009876",
        "矿业权名称": "乌兰赤老铁矿一号深部勘探",
        "类型": "采矿权深部探矿权",
        "矿种": "铁",
        "所属整合区": "乌兰赤老铁矿整合区",
        "所属深部探矿权的采矿权编号": "C1500002011041120001",
        "规模": None,
        "生产状态": "已并入保留矿山",
        "处置状态": "已整合",
        "所属批次": "强化整合重组一批",
        "责任单位": "旗自然资源局",
        "矿业权人": "乌拉特中旗乌兰赤老矿业有限公司",
        "责任人": "张三",
        "完成时限": date(2026, 12, 31),
        "备注": None,
    },
    {
        "矿业权编号": "T15420080602001111",
        "矿业权名称": "浩尧尔忽洞金矿外围勘探",
        "类型": "探矿权",
        "矿种": "金",
        "所属整合区": "浩尧尔忽洞金矿整合区",
        "所属深部探矿权的采矿权编号": None,
        "规模": None,
        "生产状态": None,
        "处置状态": "推进中",
        "所属批次": "强化整合重组一批、推进转采一批",
        "责任单位": "旗林草局",
        "矿业权人": "浩尧尔忽洞勘查有限公司",
        "责任人": "王五",
        "完成时限": date(2028, 1, 15),
        "备注": "涉及草原征占用",
    },
    {
        "矿业权编号": "拟设-06",
        "矿业权名称": "查干此老地区金矿拟设探矿权",
        "类型": "拟设探矿权",
        "矿种": "金",
        "所属整合区": "查干此老地区金矿整合区",
        "所属深部探矿权的采矿权编号": None,
        "规模": None,
        "生产状态": None,
        "处置状态": "未处置",
        "所属批次": None,
        "责任单位": "旗自然资源局",
        "矿业权人": None,
        "责任人": None,
        "完成时限": None,
        "备注": None,
    },
    {
        "矿业权编号": "C1500002099000007",
        "矿业权名称": "某石料厂",
        "类型": "采矿权",
        "矿种": "花岗岩",
        "所属整合区": None,
        "所属深部探矿权的采矿权编号": None,
        "规模": "小型",
        "生产状态": "关闭",
        "处置状态": "已关闭注销",
        "所属批次": "强化淘汰关闭一批",
        "责任单位": "旗财政局",
        "矿业权人": "某石料厂",
        "责任人": "赵六",
        "完成时限": date(2026, 9, 30),
        "备注": "价款已退还",
    },
]
# 整合后保留: 乌兰赤老铁矿整合区 keeps its first mining right and absorbs the second and the deep right.
ROWS[0]["整合后保留"], ROWS[1]["整合后保留"], ROWS[2]["整合后保留"] = "是", "否", "否"
# The columns added for the banner plan's targets (绿色矿山, issue 14) and 整合后保留; empty where a row
# does not give them. The banner's ledger has none of the region plan's (oversight.ledger.plan_columns).
for _row in ROWS:
    for _header in ("绿色矿山", "整合后保留"):
        _row.setdefault(_header, None)
BANNER_HEADERS = tuple(c.header for c in COLUMNS if c.key not in ("sector", "cause", "locality", "baseline"))


def _fill(template: Path, rows: list[dict[str, Any]], out: Path, *, start: int = 3) -> Path:
    wb = load_workbook(template)
    ws = wb[SHEET_RIGHTS]
    col = {ws.cell(row=2, column=c).value: c for c in range(1, ws.max_column + 1)}
    for i, row in enumerate(rows):
        for header, value in row.items():
            ws.cell(row=start + i, column=col[header], value=value)
    wb.save(out)
    return out


def _read_rights(path: Path) -> list[dict[str, Any]]:
    ws = load_workbook(path)[SHEET_RIGHTS]
    headers = [c.value for c in ws[2]]
    rows = []
    for values in ws.iter_rows(min_row=3, values_only=True):
        if all(v is None for v in values):
            continue
        row = dict(zip(headers, values, strict=True))
        for header in ("完成时限", "底数核实日期"):
            if isinstance(row.get(header), datetime):
                row[header] = row[header].date()
        rows.append(row)
    return rows


def _template(session: Session, plan_id: int, tmp_path: Path) -> Path:
    return write_template(tmp_path / "template.xlsx", session=session, plan_id=plan_id)


def _unit_id(session: Session, plan_id: int, key: str) -> int:
    return session.exec(select(Unit.id).where(Unit.plan_id == plan_id, Unit.key == key)).one()


def test_template_has_headers_dropdowns_and_help(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    wb = load_workbook(_template(session, banner_plan_id, tmp_path))
    assert wb.sheetnames == [SHEET_RIGHTS, SHEET_HELP, SHEET_OPTIONS]
    assert wb[SHEET_OPTIONS].sheet_state == "hidden"
    ws = wb[SHEET_RIGHTS]
    assert tuple(c.value for c in ws[2]) == BANNER_HEADERS
    assert ws.freeze_panes == "A3"
    validated = {str(dv.sqref).split(":")[0][0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    letters = {c.value: c.column_letter for c in ws[2]}
    dropdowns = (
        "类型",
        "所属整合区",
        "规模",
        "生产状态",
        "绿色矿山",
        "处置状态",
        "责任单位",
        "整合后保留",
    )
    # 行业, 停产或未转采原因, 所在盟市 and 底数核实日期: the region plan's columns, not in the banner's ledger
    assert set(validated) == {letters[h] for h in dropdowns}
    assert all(f.startswith(f"'{SHEET_OPTIONS}'!") for f in validated.values())
    options = wb[SHEET_OPTIONS]
    zone_names = [c.value for c in options["E"][1:] if c.value]
    assert len(zone_names) == 19 and zone_names[0] == "常兴扎嘎乌苏铁矿整合区"
    help_text = "\n".join(str(c.value) for row in wb[SHEET_HELP].iter_rows() for c in row if c.value)
    for header in BANNER_HEADERS:
        assert header in help_text
    assert "行业" not in help_text and "所在盟市" not in help_text


def test_round_trip_keeps_every_field(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    filled = _fill(_template(session, banner_plan_id, tmp_path), ROWS, tmp_path / "filled.xlsx")
    result = import_ledger(session=session, plan_id=banner_plan_id, data=filled, actor="cli", now=T1)
    session.commit()
    assert (result.rows, result.created, result.updated, result.unchanged) == (6, 6, 0, 0)
    assert result.status_changes == 4  # 推进中 ×2, 已整合, 已关闭注销; 未处置 is where new rights start
    # What the bot and the CLI say of it: each change some row had, citing the rights created.
    said = import_summary(session=session, plan_id=banner_plan_id, result=result)
    plan_rights = set(session.exec(select(Right.id).where(Right.plan_id == banner_plan_id)).all())
    (fact,) = said.listed()
    assert said.message() == "共6宗（新增6宗，处置状态变更4宗）。" and set(fact["ids"]["right"]) == plan_rights

    deep = session.exec(select(Right).where(Right.code == "T15420080602009876")).one()
    parent = session.exec(select(Right).where(Right.code == "C1500002011041120001")).one()
    assert deep.parent_right_id == parent.id and deep.kind == "deep" and deep.status == "consolidated"
    batches = session.exec(
        select(Task.key)
        .join(RightBatch, RightBatch.task_id == Task.id)
        .where(RightBatch.right_id == parent.id)
        .order_by(Task.seq)
    ).all()
    assert batches == ["consolidate", "restart"]

    exported = export_ledger(tmp_path / "export.xlsx", session=session, plan_id=banner_plan_id, now=T1)
    back = {r["矿业权编号"]: r for r in _read_rights(exported)}
    assert back == {r["矿业权编号"]: r for r in ROWS}

    # Importing the export changes nothing and writes no status event.
    events = len(session.exec(select(RightStatusEvent)).all())
    again = import_ledger(session=session, plan_id=banner_plan_id, data=exported.read_bytes(), actor="cli")
    session.commit()
    assert (again.created, again.updated, again.unchanged, again.status_changes) == (0, 0, 6, 0)
    said = import_summary(session=session, plan_id=banner_plan_id, result=again)
    assert said.message() == "共6宗（未变6宗）。" and said.listed()[0]["ids"] == {}  # no 新增0宗
    assert len(session.exec(select(RightStatusEvent)).all()) == events

    wb = load_workbook(exported)
    assert wb.sheetnames[:4] == [SHEET_RIGHTS, SHEET_PROBLEMS, SHEET_DECISIONS, SHEET_HELP]
    title = wb[SHEET_RIGHTS]["A1"].value
    assert "乌拉特中旗" in title and "2026年5月6日 10:30" in title  # the export time in Shanghai


def test_the_template_sent_back_empty_is_refused_and_an_import_of_no_row_says_so(
    engine, session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    """A contact sends the template back without filling a row: the import is refused in words and
    nothing is written, so the import reply's sentence for no row (台账中没有矿业权记录。, never
    共0宗) is one no upload reaches; it is read whole from an import of no row."""
    from oversight.ledger import ImportResult

    template = _template(session, banner_plan_id, tmp_path)
    session.commit()
    before = table_counts(engine)
    with pytest.raises(LedgerImportError) as refused:
        import_ledger(session=session, plan_id=banner_plan_id, data=template.read_bytes(), actor="cli", now=T1)
    session.rollback()
    assert str(refused.value) == (
        "台账未导入（未做任何更改），共发现1处错误：\n矿业权台账：表中没有任何矿业权（从列名下一行起填写）。"
    )
    assert table_counts(engine) == before
    said = import_summary(session=session, plan_id=banner_plan_id, result=ImportResult())
    assert said.message() == "台账中没有矿业权记录。"
    (fact,) = said.listed()
    assert fact["kind"] == "none" and fact["ids"] == {}


def test_export_lists_problems_and_decisions(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    filled = _fill(_template(session, banner_plan_id, tmp_path), ROWS[:1], tmp_path / "filled.xlsx")
    import_ledger(session=session, plan_id=banner_plan_id, data=filled, actor="cli")
    right = session.exec(select(Right)).one()
    forestry, natres = _unit_id(session, banner_plan_id, "forestry"), _unit_id(session, banner_plan_id, "natres")
    session.add(
        Problem(
            plan_id=banner_plan_id,
            text="草原征占用审批未办结",
            right_id=right.id,
            raised_by_unit_id=natres,
            owner_unit_id=forestry,
            state="accepted",
            due_on=date(2026, 6, 1),
            created_at=datetime(2026, 4, 30, 16, 5, tzinfo=UTC),
        )
    )
    meeting = Meeting(plan_id=banner_plan_id, kind="quarterly", period="2026Q2", held_on=date(2026, 4, 8))
    session.add(meeting)
    session.flush()
    session.add(
        Decision(
            plan_id=banner_plan_id,
            meeting_id=meeting.id,
            text="林草局两周内完成草原征占用审批",
            owner_unit_id=forestry,
            # The office named the cooperating units in this order: the sheet keeps it.
            cooperating_unit_ids=[_unit_id(session, banner_plan_id, "water"), natres],
            due_on=date(2026, 4, 22),
            major=True,
        )
    )
    session.commit()

    wb = load_workbook(export_ledger(tmp_path / "export.xlsx", session=session, plan_id=banner_plan_id, now=T1))
    problems = list(wb[SHEET_PROBLEMS].iter_rows(min_row=2, values_only=True))
    assert problems[0] == (
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
    p = problems[1]
    assert p[1] == "草原征占用审批未办结" and p[3] == "乌拉特中旗乌兰赤老铁矿一号（C1500002011041120001）"
    assert (p[4], p[5], p[6]) == ("旗自然资源局", "旗林草局", "办理中")
    assert p[7] == datetime(2026, 5, 1, 0, 5)  # 16:05 UTC is past midnight in Shanghai
    decisions = list(wb[SHEET_DECISIONS].iter_rows(min_row=3, values_only=True))
    assert next(wb[SHEET_DECISIONS].iter_rows(min_row=2, max_row=2, values_only=True))[3:5] == (
        "责任单位",
        "配合单位",
    )
    assert decisions[0][1:7] == (
        "2026年4月8日季度联席会议",
        "林草局两周内完成草原征占用审批",
        "旗林草局",
        "旗水利局、旗自然资源局",
        datetime(2026, 4, 22),
        "逾期未完成",  # due 2026-04-22, open at the export (now)
    )


def test_bad_cells_are_all_named_and_nothing_is_written(
    settings_env, engine: Engine, banner_plan_id: int, tmp_path: Path
) -> None:
    """Row 7 has 类型 “采矿”; other rows have an unknown unit, a bad date, a duplicate code and
    a deep right whose parent is an exploration right. The CLI lists each and exits 2."""
    with Session(engine) as s:
        template = _template(s, banner_plan_id, tmp_path)
    rows = [dict(r) for r in ROWS]
    rows[4]["类型"] = "采矿"  # sheet row 7
    rows[1]["责任单位"] = "旗国土局"
    rows[3]["完成时限"] = "明年底"
    rows[5]["矿业权编号"] = rows[0]["矿业权编号"]
    rows[2]["所属深部探矿权的采矿权编号"] = "T15420080602001111"
    rows[0]["所属批次"] = "强化整合重组一批、整合提升一批"
    filled = _fill(template, rows, tmp_path / "bad.xlsx")
    before = table_counts(engine)

    result = CliRunner().invoke(ledger_app, ["import", str(filled), "--plan", "urad-middle-banner"])

    assert result.exit_code == 2, result.output
    text = result.output
    assert (
        "矿业权台账 第7行 C列（类型）：“采矿” 不是有效的类型，可选：采矿权、探矿权、采矿权深部探矿权、拟设探矿权"
        in text
    )
    assert "矿业权台账 第4行 K列（责任单位）：“旗国土局” 不是本计划的成员单位" in text
    assert "矿业权台账 第6行 N列（完成时限）：“明年底” 不是有效的日期" in text
    assert "矿业权台账 第8行 A列（矿业权编号）：矿业权编号“C1500002011041120001”与第3行重复" in text
    assert "矿业权台账 第5行 F列（所属深部探矿权的采矿权编号）" in text and "只能依附于采矿权" in text
    assert "矿业权台账 第3行 J列（所属批次）：“整合提升一批” 不是本计划的批次" in text
    assert "共6处错误" in text
    assert table_counts(engine) == before


def test_deep_right_without_a_known_parent_is_refused(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    rows = [dict(ROWS[2], 所属深部探矿权的采矿权编号="C404"), dict(ROWS[0], 所属深部探矿权的采矿权编号="C1")]
    filled = _fill(_template(session, banner_plan_id, tmp_path), rows, tmp_path / "bad.xlsx")
    with pytest.raises(LedgerImportError) as info:
        import_ledger(session=session, plan_id=banner_plan_id, data=filled, actor="cli")
    messages = [str(e) for e in info.value.errors]
    assert messages == [
        "矿业权台账 第3行 F列（所属深部探矿权的采矿权编号）：找不到采矿权“C404”：须是本表或系统中已有的采矿权编号。",
        "矿业权台账 第4行 F列（所属深部探矿权的采矿权编号）：只有“采矿权深部探矿权”才填写所属采矿权编号，类型为采矿权的请留空。",
    ]
    assert session.exec(select(Right)).all() == []


def test_parent_already_in_the_database_is_accepted(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    template = _template(session, banner_plan_id, tmp_path)
    import_ledger(
        session=session, plan_id=banner_plan_id, data=_fill(template, [ROWS[0]], tmp_path / "a.xlsx"), actor="cli"
    )
    result = import_ledger(
        session=session, plan_id=banner_plan_id, data=_fill(template, [ROWS[2]], tmp_path / "b.xlsx"), actor="cli"
    )
    assert result.created == 1


def test_a_proposed_right_cannot_count_in_a_batch(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    row = dict(ROWS[4], 所属批次="强化整合重组一批")
    filled = _fill(_template(session, banner_plan_id, tmp_path), [row], tmp_path / "bad.xlsx")
    with pytest.raises(LedgerImportError, match="拟设探矿权的矿业权不能列入“强化整合重组一批”"):
        import_ledger(session=session, plan_id=banner_plan_id, data=filled, actor="cli")


def test_not_an_xlsx_gets_a_clear_message(
    settings_env, engine: Engine, session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    with pytest.raises(LedgerFileError, match=r"不是 Excel 工作簿（\.xlsx）"):
        import_ledger(session=session, plan_id=banner_plan_id, data="矿业权编号,矿业权名称\n".encode(), actor="cli")
    with pytest.raises(LedgerFileError, match=r"\.xls"):
        import_ledger(
            session=session, plan_id=banner_plan_id, data=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, actor="cli"
        )
    with pytest.raises(LedgerFileError, match="不是 Excel 工作簿"):
        import_ledger(session=session, plan_id=banner_plan_id, data=b"PK\x03\x04 truncated zip", actor="cli")
    session.rollback()

    csv = tmp_path / "ledger.xlsx"
    csv.write_text("矿业权编号,矿业权名称\nC1,甲矿\n", encoding="utf-8")
    before = table_counts(engine)
    result = CliRunner().invoke(ledger_app, ["import", str(csv)])
    assert result.exit_code == 2 and "不是 Excel 工作簿" in result.output
    assert table_counts(engine) == before


def test_missing_sheet_or_header(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.append(["矿业权编号", "矿业权名称"])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(LedgerImportError, match="找不到工作表“矿业权台账”（文件中的工作表：Sheet）"):
        import_ledger(session=session, plan_id=banner_plan_id, data=buf.getvalue(), actor="cli")

    wb.active.title = SHEET_RIGHTS
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(LedgerImportError) as info:
        import_ledger(session=session, plan_id=banner_plan_id, data=buf.getvalue(), actor="cli")
    # The columns added later (LATER_COLUMNS) may be missing: an older template still imports.
    assert [e.header for e in info.value.errors] == [c.header for c in COLUMNS[2:] if c.key not in LATER_COLUMNS]
    assert str(info.value.errors[0]) == "矿业权台账 第1行（类型）：缺少此列，请使用台账模板，勿删除或改动列名。"


def test_unit_contact_may_submit_only_own_rights(
    engine: Engine, session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    template = _template(session, banner_plan_id, tmp_path)
    import_ledger(
        session=session, plan_id=banner_plan_id, data=_fill(template, ROWS, tmp_path / "all.xlsx"), actor="cli"
    )
    natres = _unit_id(session, banner_plan_id, "natres")
    session.commit()  # SQLite: release the write lock before counting
    before = table_counts(engine)

    # A 自然资源局 contact sends a row of 林草局, and claims 林草局's existing right for 自然资源局.
    foreign = dict(ROWS[3])
    claimed = dict(ROWS[3], 责任单位="旗自然资源局", 矿业权编号=ROWS[3]["矿业权编号"])
    for rows in ([ROWS[0], foreign], [claimed]):
        filled = _fill(template, rows, tmp_path / "unit.xlsx")
        with pytest.raises(LedgerImportError, match="只能提交本单位的矿业权") as info:
            import_ledger(
                session=session,
                plan_id=banner_plan_id,
                data=filled,
                actor="member:1",
                restrict_unit_id=natres,
                actor_member_id=None,
            )
        session.rollback()
        assert len(info.value.errors) == 1
    assert table_counts(engine) == before

    own = dict(ROWS[0], 备注="环评已受理")
    result = import_ledger(
        session=session,
        plan_id=banner_plan_id,
        data=_fill(template, [own], tmp_path / "own.xlsx"),
        actor="member:1",
        restrict_unit_id=natres,
    )
    assert (result.updated, result.unchanged) == (1, 0)


def test_status_change_through_import_keeps_history(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    template = _template(session, banner_plan_id, tmp_path)
    import_ledger(
        session=session,
        plan_id=banner_plan_id,
        data=_fill(template, ROWS, tmp_path / "a.xlsx"),
        actor="cli",
        now=datetime(2026, 4, 1, tzinfo=UTC),
    )
    session.commit()
    later = datetime(2026, 8, 1, tzinfo=UTC)
    changed = dict(ROWS[1], 处置状态="已关闭注销", 所属批次="强化淘汰关闭一批")
    result = import_ledger(
        session=session,
        plan_id=banner_plan_id,
        data=_fill(template, [changed], tmp_path / "b.xlsx"),
        actor="cli",
        now=later,
    )
    session.commit()
    assert (result.updated, result.status_changes) == (1, 1)

    right = session.exec(select(Right).where(Right.code == ROWS[1]["矿业权编号"])).one()
    event = session.exec(select(RightStatusEvent).where(RightStatusEvent.right_id == right.id)).one()
    assert (event.from_status, event.to_status, event.at, event.reason) == ("baseline", "closed", later, "台账导入")
    batch_keys = session.exec(
        select(Task.key).join(RightBatch, RightBatch.task_id == Task.id).where(RightBatch.right_id == right.id)
    ).all()
    assert batch_keys == ["close"]  # memberships replaced, not added to
    close = next(r for r in batch_progress(session=session, plan_id=banner_plan_id, as_of=later) if r["key"] == "close")
    assert close["done"] == 2 and right.id in close["right_ids"]
    log = session.exec(
        select(AuditLog).where(AuditLog.action == "ledger.imported").order_by(AuditLog.id.desc())
    ).first()
    assert log.detail["updated"] == 1 and log.detail["status_changes"] == 1
    upd = session.exec(select(AuditLog).where(AuditLog.action == "right.updated")).one()
    assert upd.detail["changes"]["status"] == ["baseline", "closed"]
    assert upd.detail["changes"]["batches"] == [["强化整合重组一批"], ["强化淘汰关闭一批"]]


def test_dates_and_codes_typed_in_other_forms(session: Session, banner_plan_id: int, tmp_path: Path) -> None:
    rows = [
        dict(ROWS[0], 完成时限="2027年6月30日", 规模=None, 矿业权编号=150000201104112),
        dict(ROWS[1], 完成时限="2027/1/5", 所属批次="整合重组", 所属整合区="乌兰赤老铁矿"),
    ]
    filled = _fill(_template(session, banner_plan_id, tmp_path), rows, tmp_path / "forms.xlsx")
    import_ledger(session=session, plan_id=banner_plan_id, data=filled, actor="cli")
    got = {r.code: r for r in session.exec(select(Right)).all()}
    assert got["150000201104112"].due_on == date(2027, 6, 30) and got["150000201104112"].size_class == "small"
    second = got[ROWS[1]["矿业权编号"]]
    assert second.due_on == date(2027, 1, 5) and second.zone_id == got["150000201104112"].zone_id is not None


def test_a_ledger_naming_the_townships_as_the_seed_does_finds_their_unit(
    session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    """A ledger filled before the townships' unit was named 属地苏木镇政府 writes the seed's
    属地各苏木镇政府 in 责任单位: the plan file's alias finds the unit."""
    row = dict(ROWS[0], 责任单位="属地各苏木镇政府")
    filled = _fill(_template(session, banner_plan_id, tmp_path), [row], tmp_path / "old.xlsx")
    import_ledger(session=session, plan_id=banner_plan_id, data=filled, actor="cli")
    right = session.exec(select(Right)).one()
    assert right.unit_id == _unit_id(session, banner_plan_id, "township")


def test_cli_template_import_export(settings_env, banner_plan_id: int, tmp_path: Path) -> None:
    runner = CliRunner()
    template = tmp_path / "t.xlsx"
    assert runner.invoke(ledger_app, ["template", str(template)]).exit_code == 0
    filled = _fill(template, ROWS, tmp_path / "f.xlsx")
    result = runner.invoke(ledger_app, ["import", str(filled), "--plan", "urad-middle-banner"])
    assert result.exit_code == 0, result.output
    assert "共6宗（新增6宗" in result.output
    out = tmp_path / "e.xlsx"
    assert runner.invoke(ledger_app, ["export", str(out)]).exit_code == 0
    assert len(_read_rights(out)) == 6
    assert runner.invoke(ledger_app, ["export", str(out), "--plan", "nope"]).exit_code == 2


def test_region_ledger_carries_sector_place_cause_and_baseline(engine, session: Session, tmp_path: Path) -> None:
    """Seed 003: each league verifies its idle mines by 2022-09-20 (三(三)), coal and non-coal apart,
    with the cause in the seed's categories; the ledger carries them, and refuses a wrong cell."""
    from tests.conftest import REGION_PLAN, load_bundled_plan

    region_id = load_bundled_plan(engine, REGION_PLAN)
    row = {
        "矿业权编号": "C1500002010061110001",
        "矿业权名称": "鄂尔多斯市某煤矿",
        "类型": "采矿权",
        "矿种": "煤",
        "处置状态": "未处置",
        "所属批次": "加快推进已取得采矿许可证煤矿相关手续办理",
        "责任单位": "鄂尔多斯市",
        "行业": "煤炭",
        "停产或未转采原因": "缺少相关手续",
        "所在盟市": "鄂尔多斯市人民政府",
        "底数核实日期": date(2022, 9, 15),
    }
    template = _template(session, region_id, tmp_path)
    # The region plan's columns; no 绿色矿山 (seed 003 sets no green-mines target, seed 000 does).
    assert tuple(c.value for c in load_workbook(template)[SHEET_RIGHTS][2]) == tuple(
        h for h in HEADERS if h != "绿色矿山"
    )
    notes = [str(c.value) for row in load_workbook(template)[SHEET_HELP].iter_rows() for c in row if c.value]
    assert any("已复工复产或已转采的保留原来的原因" in t for t in notes)
    options = load_workbook(template)[SHEET_OPTIONS]
    leagues = {c.value for column in options.iter_cols() if column[0].value == "所在盟市" for c in column[1:]} - {None}
    assert len(leagues) == 12 and "鄂尔多斯市人民政府" in leagues
    filled = _fill(template, [row], tmp_path / "region.xlsx")
    import_ledger(session=session, plan_id=region_id, data=filled, actor="cli", now=T1)
    session.commit()
    right = session.exec(select(Right).where(Right.plan_id == region_id, Right.code == row["矿业权编号"])).one()
    ordos = _unit_id(session, region_id, "ordos")
    assert (right.sector, right.idle_cause, right.locality_unit_id, right.baseline_on) == (
        "coal",
        "paperwork",
        ordos,
        date(2022, 9, 15),
    )
    back = _read_rights(export_ledger(tmp_path / "back.xlsx", session=session, plan_id=region_id, now=T1))
    assert back[0]["所在盟市"] == "鄂尔多斯市人民政府" and back[0]["行业"] == "煤炭"

    bad = _fill(
        template, [{**row, "所在盟市": "旗自然资源局", "行业": "煤", "停产或未转采原因": "不想干"}], tmp_path / "b.xlsx"
    )
    with pytest.raises(LedgerImportError) as info:
        import_ledger(session=session, plan_id=region_id, data=bad, actor="cli", now=T1)
    messages = "\n".join(str(e) for e in info.value.errors)
    assert "“旗自然资源局” 不是本计划的盟市" in messages and "“不想干” 不是有效的原因" in messages
    assert "行业" not in messages  # 煤 is read as 煤炭

    # A ledger filled on the older template (without the new columns) leaves them as they are.
    old = Workbook()
    ws = old.active
    ws.title = SHEET_RIGHTS
    older = [c for c in COLUMNS if c.key not in LATER_COLUMNS]
    ws.append([c.header for c in older])
    ws.append([row.get(c.header) for c in older])
    buf = io.BytesIO()
    old.save(buf)
    import_ledger(session=session, plan_id=region_id, data=buf.getvalue(), actor="cli", now=T1)
    session.commit()
    session.refresh(right)
    assert (right.sector, right.locality_unit_id, right.baseline_on) == ("coal", ordos, date(2022, 9, 15))


def test_a_mine_restarted_or_closed_reads_so_in_the_ledger_and_keeps_its_cause(
    session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    """The audit's ledger printed 生产状态 停产 and its stoppage cause beside 已复工达产. A status that
    says how the mine stands sets its 生产状态 (已复工达产: 生产, 已关闭注销: 关闭, recorded in the audit
    row); the cause stays, the plan's baseline cause by which the brief counts each cause's mines done,
    and the sheet's instructions say so. An exploration right's 生产状态 is left as it is."""
    from oversight.rights import move_right_status

    rights = [
        Right(plan_id=banner_plan_id, code=code, name=name, kind=kind, production_status=prod, idle_cause="market")
        for code, name, kind, prod in (
            ("C1", "甲铁矿", "mining", "stopped"),
            ("C2", "乙铁矿", "mining", "stopped"),
            ("T3", "丙铁矿勘查", "exploration", "exploring"),
        )
    ]
    session.add_all(rights)
    session.flush()
    for right, status in zip(rights, ("restarted", "closed", "closed"), strict=True):
        move_right_status(
            session=session, right_id=right.id, to_status=status, actor_member_id=None, actor="test", now=T1
        )
    session.commit()
    back = {
        r["矿业权编号"]: r
        for r in _read_rights(export_ledger(tmp_path / "e.xlsx", session=session, plan_id=banner_plan_id, now=T1))
    }
    assert [(back[c]["处置状态"], back[c]["生产状态"]) for c in ("C1", "C2", "T3")] == [
        ("已复工达产", "生产"),
        ("已关闭注销", "关闭"),
        ("已关闭注销", "勘查中"),
    ]
    # The banner's ledger has no 停产或未转采原因 column (the region plan's); the record keeps the cause.
    assert "停产或未转采原因" not in back["C1"]
    for right in rights:
        session.refresh(right)
    assert {r.idle_cause for r in rights} == {"market"}
    changed = session.exec(select(AuditLog).where(AuditLog.action == "right.status_changed")).all()
    assert sorted(tuple(a.detail.get("production") or ()) for a in changed) == [
        (),
        ("stopped", "closed"),
        ("stopped", "producing"),
    ]


def test_the_banner_ledger_carries_only_its_plan_columns_and_reads_a_workbook_with_the_others(
    session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    """行业, 停产或未转采原因, 所在盟市 and 底数核实日期 are what the region plan counts (seed 003); the
    banner plan (seed 000) counts none of them, and its template and export no longer carry them (its
    绿色矿山 stays: seed 000 sets 自治区级以上绿色矿山达到3个). A workbook handed out with them is still
    read, their cells kept; the export without them reads back changing nothing, the record keeping
    what they said."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_RIGHTS
    ws.append(list(HEADERS))  # every column, as the banner's ledger had before
    row = {**ROWS[0], "行业": "非煤", "停产或未转采原因": "缺少相关手续", "底数核实日期": date(2026, 1, 20)}
    ws.append([row.get(h) for h in HEADERS])
    buf = io.BytesIO()
    wb.save(buf)
    import_ledger(session=session, plan_id=banner_plan_id, data=buf.getvalue(), actor="cli", now=T1)
    session.commit()
    right = session.exec(select(Right).where(Right.code == ROWS[0]["矿业权编号"])).one()
    assert (right.sector, right.idle_cause, right.baseline_on, right.green_level) == (
        "noncoal",
        "paperwork",
        date(2026, 1, 20),
        "region",
    )

    exported = export_ledger(tmp_path / "e.xlsx", session=session, plan_id=banner_plan_id, now=T1)
    book = load_workbook(exported)
    assert tuple(c.value for c in book[SHEET_RIGHTS][2]) == BANNER_HEADERS
    assert [c.value for c in book[SHEET_OPTIONS][1]] == [
        "类型",
        "规模",
        "生产状态",
        "处置状态",
        "所属整合区",
        "责任单位",
        "所属批次",
        "绿色矿山",
        "整合后保留",
    ]
    (back,) = _read_rights(exported)
    assert back == {h: v for h, v in row.items() if h in BANNER_HEADERS}
    again = import_ledger(session=session, plan_id=banner_plan_id, data=exported.read_bytes(), actor="cli")
    session.commit()
    assert (again.updated, again.unchanged) == (0, 1)
    session.refresh(right)
    assert (right.sector, right.idle_cause, right.baseline_on) == ("noncoal", "paperwork", date(2026, 1, 20))


def test_an_exploration_right_has_no_size_and_a_size_given_of_one_is_not_imported(
    session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    """规模 is a mine's production scale (seed 000 一: 矿山按照生产规模统计, 大中型矿山占比): the export
    printed 小型 of every exploration right. It leaves the cell empty for any but a mining right; a
    规模 typed on an exploration, deep or proposed right's row is not imported, and the import's
    summary names the rows; the share of large and medium mines counts the mining rights alone."""
    from oversight.targets import plan_targets

    rows = [
        {**ROWS[0]},
        {**ROWS[2], "规模": "小型", "生产状态": "勘查中", "处置状态": "推进中"},  # row 4: a deep right
        {**ROWS[3], "规模": "大型"},  # row 5: an exploration right
        {**ROWS[4], "规模": "中型"},  # row 6: a proposed one
        {**ROWS[5]},
    ]
    filled = _fill(_template(session, banner_plan_id, tmp_path), rows, tmp_path / "f.xlsx")
    result = import_ledger(session=session, plan_id=banner_plan_id, data=filled, actor="cli", now=T1)
    session.commit()
    said = import_summary(session=session, plan_id=banner_plan_id, result=result)
    assert said.message().splitlines()[1] == "第4、5、6行是探矿权，规模按矿山生产规模划分，只填采矿权，所填规模未导入。"
    ignored = said.listed()[1]["ids"]["right"]
    sizes = {r.code: (r.kind, r.size_class) for r in session.exec(select(Right)).all()}
    assert {sizes[c] for c in sizes} == {
        ("mining", "large"),
        ("mining", "small"),
        ("deep", ""),
        ("exploration", ""),
        ("proposed", ""),
    }
    assert {session.get(Right, i).kind for i in ignored} == {"deep", "exploration", "proposed"}

    exported = export_ledger(tmp_path / "e.xlsx", session=session, plan_id=banner_plan_id, now=T1)
    back = {r["矿业权编号"]: r["规模"] for r in _read_rights(exported)}
    assert back == {r["矿业权编号"]: ("大型" if r is rows[0] else "小型" if r is rows[4] else None) for r in rows}
    again = import_ledger(session=session, plan_id=banner_plan_id, data=exported.read_bytes(), actor="cli")
    assert again.unchanged == 5 and not again.size_ignored
    assert len(import_summary(session=session, plan_id=banner_plan_id, result=again).listed()) == 1
    # 大中型矿山占比: of the two mining rights (the closed one not standing), the large one.
    ratio = next(
        t
        for t in plan_targets(session=session, plan_id=banner_plan_id, as_of=T1)
        if t["key"] == "min_large_medium_ratio"
    )
    assert ratio["now"] == 1.0 and ratio["records"]["codes"] == [ROWS[0]["矿业权编号"]]


def test_the_migration_clears_the_size_of_exploration_rights(db_url: str) -> None:
    """A deployment at 0024 whose import gave its exploration rights 小型: 0025 clears it, and leaves the
    mining rights' 规模."""
    from alembic import command
    from sqlalchemy import bindparam, text

    from models import make_engine, session_scope
    from models.base import UTCDateTime
    from models.migrate import alembic_config, current, upgrade
    from tests.conftest import load_bundled_plan

    command.downgrade(alembic_config(db_url), "0024")
    engine = make_engine(db_url)
    try:
        p = load_bundled_plan(engine)
        with engine.begin() as conn:
            for code, kind, size in (("M", "mining", "medium"), ("T", "exploration", "small"), ("D", "deep", "small")):
                conn.execute(
                    text(
                        'INSERT INTO "right" (plan_id, code, name, kind, mineral, size_class, production_status,'
                        " status, sector, green_level, idle_cause, holder, contact_person, note, updated_at)"
                        " VALUES (:p, :c, :c, :k, '', :s, '', 'baseline', '', '', '', '', '', '', :at)"
                    ).bindparams(bindparam("at", type_=UTCDateTime())),
                    {"p": p, "c": code, "k": kind, "s": size, "at": T1},
                )
        upgrade(db_url, "0025")
        assert current(db_url) == "0025"
        with session_scope(engine) as s:
            sizes = dict(s.exec(select(Right.code, Right.size_class).where(Right.plan_id == p)).all())
        assert sizes == {"M": "medium", "T": "", "D": ""}
    finally:
        engine.dispose()
        upgrade(db_url)
