"""整合后保留: which right of an integration zone survives its consolidation is the ledger's to say
(Right.kept_in_zone), and every figure that depends on it reads it there. The brief's citations of
减少采矿权 named the absorbed rights, and 大中型矿山占比 counted the standing ones, on the guess that a
zone keeps its lowest-numbered right.

Scenarios on the 乌拉特中旗 plan: 7号张佳花岗岩整合区 keeps its second mining right, not its first
(a medium mine, absorbed); 11号乌兰赤老铁矿整合区 keeps its second too (its first a large green
mine); then zones whose ledger rows leave 整合后保留 blank; the ledger's column, read and refused
with the row named; and a database migrated from before the column."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from openpyxl import load_workbook
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from jobs.brief import brief_context
from models import AuditLog, Right, Unit, Zone, make_engine, session_scope
from models.base import UTCDateTime
from models.migrate import alembic_config, current, upgrade
from oversight.briefdata import brief_data, parse_period
from oversight.ledger import SHEET_RIGHTS, LedgerImportError, export_ledger, import_ledger, write_template
from oversight.rights import move_right_status
from oversight.targets import format_targets, plan_targets, target_sentence
from tests.conftest import load_bundled_plan
from tests.test_ledger import _fill

JUNE = datetime(2026, 6, 1, 2, tzinfo=UTC)
AS_OF = datetime(2027, 1, 1, 4, tzinfo=UTC)  # 2027-01-01 in Shanghai: the brief of 2026Q4 looks here
NOW = datetime(2027, 1, 8, 2, tzinfo=UTC)


def _zone(session: Session, plan_id: int, seq: int) -> int:
    return session.exec(select(Zone.id).where(Zone.plan_id == plan_id, Zone.seq == seq)).one()


def _add(session: Session, plan_id: int, code: str, **kw) -> Right:
    right = Right(plan_id=plan_id, code=code, name=f"{code}矿", kind=kw.pop("kind", "mining"), **kw)
    session.add(right)
    session.flush()
    return right


def _move(session: Session, right: Right, status: str) -> None:
    move_right_status(session=session, right_id=right.id, to_status=status, actor_member_id=None, actor="t", now=JUNE)


def _targets(session: Session, plan_id: int) -> dict[str, dict]:
    return {r["key"]: r for r in plan_targets(session=session, plan_id=plan_id, as_of=AS_OF)}


def _brief_targets(session: Session, plan_id: int) -> dict[str, dict]:
    """The brief's target facts of 2026Q4, by target."""
    session.commit()
    data = brief_data(session=session, plan_id=plan_id, period=parse_period("2026Q4"), now=NOW)
    ctx = brief_context(data, issue_no=1, issued_on="2027-01-08", chart="<svg/>")
    return {f["values"]["key"]: f for f in ctx["facts"] if f["kind"] == "progress_target"}


def test_the_zone_keeps_the_right_its_ledger_marks_kept_not_its_lowest_numbered(
    session: Session, banner_plan_id: int
) -> None:
    """Zone 7's first right A (medium) and zone 11's first right C (large, 自治区级绿色矿山) are
    absorbed; B and D, marked 整合后保留, stand. The brief names A and C as 整合减少 and counts the
    share and the green mines over B, D and the mines outside the zones."""
    p = banner_plan_id
    z7, z11 = _zone(session, p, 7), _zone(session, p, 11)
    a = _add(session, p, "A", zone_id=z7, size_class="medium", kept_in_zone=False)
    b = _add(session, p, "B", zone_id=z7, kept_in_zone=True)
    c = _add(session, p, "C", zone_id=z11, size_class="large", green_level="region")  # blank: the zone has a 是
    d = _add(session, p, "D", zone_id=z11, kept_in_zone=True)
    e = _add(session, p, "E")
    g = _add(session, p, "G", size_class="large", green_level="national")
    _add(session, p, "H")
    for right in (a, b, c, d):
        _move(session, right, "consolidated")
    _move(session, e, "closed")
    assert a.id < b.id and c.id < d.id  # the survivors are not the lowest-numbered rights

    rows = _targets(session, p)
    rm = rows["reduce_mining"]
    assert (rm["now"], rm["records"]["codes"], rm["zones"]) == (3, ["E", "A", "C"], [])
    assert target_sentence(rm) == (
        "减少采矿权：目标15宗（2030年12月31日前），现为3宗，按进度应为3宗；关闭注销1宗，整合减少2宗：E、A、C。"
    )
    # Standing: B, D, G, H (A, C absorbed, E closed); large or medium: G only.
    ratio = rows["min_large_medium_ratio"]
    assert ratio["now"] == pytest.approx(1 / 4) and ratio["records"]["codes"] == ["G"]
    assert "；台账存续采矿权4宗中大中型1宗：G。" in target_sentence(ratio)
    assert rows["green_mines"]["now"] == 1 and rows["green_mines"]["records"]["codes"] == ["G"]

    facts = _brief_targets(session, p)
    assert facts["reduce_mining"]["ids"] == {"right": [e.id, a.id, c.id]}
    assert "关闭注销1宗，整合减少2宗。" in facts["reduce_mining"]["text"]
    assert facts["min_large_medium_ratio"]["ids"] == {"right": [g.id]}
    assert "现为25.0%" in facts["min_large_medium_ratio"]["text"]
    assert facts["green_mines"]["ids"] == {"right": [g.id]}


def test_a_zone_without_its_survivor_stated_is_counted_but_none_of_its_rights_named(
    session: Session, banner_plan_id: int
) -> None:
    """Zone 7's A (medium) and B and zone 11's C (large, green) and D are consolidated with
    整合后保留 blank. 减少采矿权 counts one kept in each (2 absorbed) but names neither zone's absorbed
    right: its line names the zones and cites their rights and the zones; the share and the green
    mines leave those four rights out, and say so."""
    p = banner_plan_id
    z7, z11 = _zone(session, p, 7), _zone(session, p, 11)
    a = _add(session, p, "A", zone_id=z7, size_class="medium")
    b = _add(session, p, "B", zone_id=z7)
    c = _add(session, p, "C", zone_id=z11, size_class="large", green_level="region")
    d = _add(session, p, "D", zone_id=z11)
    e = _add(session, p, "E")
    g = _add(session, p, "G", size_class="large")
    _add(session, p, "H")
    for right in (a, b, c, d):
        _move(session, right, "consolidated")
    _move(session, e, "closed")

    rows = _targets(session, p)
    rm = rows["reduce_mining"]
    assert rm["now"] == 3 and rm["records"]["codes"] == ["E", "A", "B", "C", "D"] and rm["zones"] == [z7, z11]
    assert target_sentence(rm) == (
        "减少采矿权：目标15宗（2030年12月31日前），现为3宗，按进度应为3宗；关闭注销1宗，整合减少2宗"
        "（其中7号、11号整合区有4宗已整合采矿权台账未填写整合后保留，暂按每区保留1宗计减少2宗）：E、A、B、C、D。"
    )
    ratio = rows["min_large_medium_ratio"]
    # G and H stand for certain: G is the one large; one of A, B and one of C, D stand, not known which.
    assert ratio["now"] == pytest.approx(1 / 2) and ratio["records"]["codes"] == ["G"]
    assert target_sentence(ratio).endswith(
        "；7号、11号整合区有4宗已整合采矿权台账未填写整合后保留，各区保留哪一宗尚不确定，暂不计入；"
        "其余台账存续采矿权2宗中大中型1宗：G。"
    )
    green = rows["green_mines"]
    assert green["now"] == 0 and green["zones"] == [z7, z11]
    assert target_sentence(green).endswith(
        "；台账中尚无国家级、自治区级绿色矿山；7号、11号整合区台账未填写整合后保留的已整合采矿权中另有国家级、"
        "自治区级绿色矿山1宗，是否保留尚不确定，暂不计入。"
    )

    facts = _brief_targets(session, p)
    cut = facts["reduce_mining"]
    assert cut["ids"] == {"right": [e.id, a.id, b.id, c.id, d.id], "zone": [z7, z11]}
    assert "暂按每区保留1宗计减少2宗）。" in cut["text"]
    assert facts["min_large_medium_ratio"]["ids"] == {"right": [g.id], "zone": [z7, z11]}

    # Zone 7 says which: B is kept. A is named absorbed; zone 11 alone stays unnamed.
    b.kept_in_zone = True
    session.add(b)
    session.commit()
    rm = _targets(session, p)["reduce_mining"]
    assert rm["records"]["codes"] == ["E", "A", "C", "D"] and rm["zones"] == [z11]
    assert (
        rm["how"]
        == "关闭注销1宗，整合减少2宗（其中11号整合区有2宗已整合采矿权台账未填写整合后保留，暂按保留1宗计减少1宗）"
    )


def test_rights_marked_not_kept_are_absorbed_and_the_one_left_blank_stands(
    session: Session, banner_plan_id: int
) -> None:
    """Zone 13 consolidates three mining rights, two marked 否 and one blank: the zone keeps the
    blank one (it keeps one of them), so the two are named absorbed and nothing is left unsaid. Zone 7
    marks both of its consolidated rights 否: the record says neither stays, so both are absorbed."""
    p = banner_plan_id
    z13, z7 = _zone(session, p, 13), _zone(session, p, 7)
    x = _add(session, p, "X", zone_id=z13, size_class="large")  # blank: the one kept
    y = _add(session, p, "Y", zone_id=z13, kept_in_zone=False)
    w = _add(session, p, "W", zone_id=z13, kept_in_zone=False)
    u = _add(session, p, "U", zone_id=z7, kept_in_zone=False)
    v = _add(session, p, "V", zone_id=z7, kept_in_zone=False)
    _add(session, p, "K", zone_id=z7, kept_in_zone=None)  # not yet consolidated: it stands
    for right in (x, y, w, u, v):
        _move(session, right, "consolidated")

    rows = _targets(session, p)
    rm = rows["reduce_mining"]
    assert (rm["now"], rm["records"]["codes"], rm["zones"]) == (4, ["U", "V", "Y", "W"], [])
    assert rm["how"] == "整合减少4宗"
    ratio = rows["min_large_medium_ratio"]
    assert ratio["now"] == pytest.approx(1 / 2) and ratio["records"]["codes"] == ["X"]  # X and K stand


def _unit(session: Session, plan_id: int, key: str) -> int:
    return session.exec(select(Unit.id).where(Unit.plan_id == plan_id, Unit.key == key)).one()


def _row(code: str, zone: str | None, kept: str | None, kind: str = "采矿权", unit: str = "旗自然资源局") -> dict:
    return {
        "矿业权编号": code,
        "矿业权名称": f"{code}矿",
        "类型": kind,
        "所属整合区": zone,
        "处置状态": "未处置",
        "责任单位": unit,
        "整合后保留": kept,
    }


ZONE7, ZONE11 = "张佳花岗岩整合区", "乌兰赤老铁矿整合区"


def test_the_ledger_refuses_a_survivor_it_cannot_hold_naming_the_row(
    session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    """Every refused 整合后保留 cell is named by its row, with what to write instead; nothing is written."""
    p = banner_plan_id
    template = write_template(tmp_path / "t.xlsx", session=session, plan_id=p)
    rows = [
        _row("M1", ZONE7, "是"),
        _row("M2", ZONE7, "是"),  # row 4: a second 是 in zone 7
        _row("M3", None, "是"),  # row 5: in no zone
        _row("M4", None, "否"),  # row 6: in no zone
        _row("T1", ZONE11, "是", kind="探矿权"),  # row 7: an exploration right kept
        _row("M5", ZONE11, "保留"),  # row 8: not 是/否
        _row("M6", ZONE11, "否"),
    ]
    filled = _fill(template, rows, tmp_path / "bad.xlsx")
    with pytest.raises(LedgerImportError) as caught:
        import_ledger(session=session, plan_id=p, data=filled, actor="cli")
    lines = caught.value.message.splitlines()
    assert lines[0] == "台账未导入（未做任何更改），共发现5处错误："
    assert lines[1:] == [
        "矿业权台账 第4行 Q列（整合后保留）：“张佳花岗岩整合区”已有第3行的采矿权“M1”填“是”，"
        "每个整合区只能有一宗采矿权整合后保留，请只在保留的那一宗填“是”。",
        "矿业权台账 第5行 Q列（整合后保留）：此行不属于任何整合区，整合后保留只填整合区内的矿业权，"
        "请留空（如属整合区，请先填写所属整合区）。",
        "矿业权台账 第6行 Q列（整合后保留）：此行不属于任何整合区，整合后保留只填整合区内的矿业权，"
        "请留空（如属整合区，请先填写所属整合区）。",
        "矿业权台账 第7行 Q列（整合后保留）：整合后保留的须是采矿权：整合区内的探矿权整合后计入减少，"
        "不单独保留，请填“否”或留空。",
        "矿业权台账 第8行 Q列（整合后保留）：“保留” 不是有效的取值，请填“是”或“否”，尚未确定的留空。",
    ]
    assert session.exec(select(Right).where(Right.plan_id == p)).all() == []


def test_a_second_survivor_against_the_one_in_the_system_is_refused(
    session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    """Zone 7 keeps M1 in the system. A file marking M2 是 without listing M1 is refused, saying how to
    change it (the office) or whom to ask (a unit's contact, for a right of another unit); listing M1
    as 否 beside it moves the survivor, and the audit row records the change."""
    p = banner_plan_id
    natres, forestry = _unit(session, p, "natres"), _unit(session, p, "forestry")
    z7 = _zone(session, p, 7)
    _add(session, p, "M1", zone_id=z7, kept_in_zone=True, unit_id=natres)
    _add(session, p, "M2", zone_id=z7, unit_id=forestry)
    session.commit()
    template = write_template(tmp_path / "t.xlsx", session=session, plan_id=p)

    office = _fill(template, [_row("M2", ZONE7, "是", unit="旗林草局")], tmp_path / "office.xlsx")
    with pytest.raises(LedgerImportError) as caught:
        import_ledger(session=session, plan_id=p, data=office, actor="cli")
    assert caught.value.errors[0].message == (
        "系统中“张佳花岗岩整合区”整合后保留的采矿权已是“M1”（M1矿，本表未列），每个整合区只能有一宗采矿权整合后保留；"
        "如需改为本宗，请将“M1”一并列入本表并填“否”后重新提交。"
    )
    with pytest.raises(LedgerImportError) as caught:
        import_ledger(session=session, plan_id=p, data=office, actor="林草局联络员", restrict_unit_id=forestry)
    assert caught.value.errors[0].message.endswith("每个整合区只能有一宗采矿权整合后保留；请联系联席会议办公室更正。")

    both = _fill(template, [_row("M1", ZONE7, "否"), _row("M2", ZONE7, "是", unit="旗林草局")], tmp_path / "ok.xlsx")
    result = import_ledger(session=session, plan_id=p, data=both, actor="cli")
    session.commit()
    assert result.updated == 2
    kept = dict(session.exec(select(Right.code, Right.kept_in_zone).where(Right.plan_id == p)).all())
    assert kept == {"M1": False, "M2": True}
    changes = [a.detail["changes"] for a in session.exec(select(AuditLog).where(AuditLog.action == "right.updated"))]
    assert {"kept_in_zone": [True, False]} in changes and {"kept_in_zone": [None, True]} in changes


def test_the_column_round_trips_and_a_ledger_from_before_it_keeps_what_is_stored(
    session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    """Exported 是/否/blank read back the same; a file without the column (handed out before it)
    leaves each right's 整合后保留 as stored, but not for a right it moves to another zone, of which
    it was said for the zone it left."""
    p = banner_plan_id
    template = write_template(tmp_path / "t.xlsx", session=session, plan_id=p)
    rows = [_row("M1", ZONE7, "是"), _row("M2", ZONE7, "否"), _row("M3", ZONE7, None), _row("M4", ZONE11, "是")]
    import_ledger(session=session, plan_id=p, data=_fill(template, rows, tmp_path / "in.xlsx"), actor="cli")
    session.commit()
    exported = export_ledger(tmp_path / "out.xlsx", session=session, plan_id=p)
    ws = load_workbook(exported)[SHEET_RIGHTS]
    headers = [c.value for c in ws[2]]
    back = {r[0]: r[headers.index("整合后保留")] for r in ws.iter_rows(min_row=3, values_only=True) if r[0]}
    assert back == {"M1": "是", "M2": "否", "M3": None, "M4": "是"}
    again = import_ledger(session=session, plan_id=p, data=exported.read_bytes(), actor="cli")
    assert (again.updated, again.unchanged) == (0, 4)

    # The same file without the column; M4 moved to zone 7.
    wb = load_workbook(exported)
    ws = wb[SHEET_RIGHTS]
    column = headers.index("整合后保留") + 1
    zone_column = headers.index("所属整合区") + 1
    for r in range(3, ws.max_row + 1):
        if ws.cell(row=r, column=1).value == "M4":
            ws.cell(row=r, column=zone_column, value=ZONE7)
    ws.delete_cols(column)
    old = tmp_path / "old.xlsx"
    wb.save(old)
    import_ledger(session=session, plan_id=p, data=old, actor="cli")
    session.commit()
    kept = dict(session.exec(select(Right.code, Right.kept_in_zone).where(Right.plan_id == p)).all())
    assert kept == {"M1": True, "M2": False, "M3": None, "M4": None}


def test_a_database_from_before_the_column_states_no_survivor(db_url: str) -> None:
    """A deployment at 0023 with zone 7's two mining rights consolidated: the migration adds
    整合后保留 empty for every right (it infers no survivor), and the brief's figures count the zone
    as keeping one without naming which."""
    command.downgrade(alembic_config(db_url), "0023")
    assert current(db_url) == "0023"
    engine: Engine = make_engine(db_url)
    try:
        p = load_bundled_plan(engine)
        with engine.begin() as conn:
            z7 = conn.execute(text("SELECT id FROM zone WHERE plan_id = :p AND seq = 7"), {"p": p}).scalar_one()
            for code in ("OLD-1", "OLD-2"):
                conn.execute(
                    text(
                        'INSERT INTO "right" (plan_id, code, name, kind, mineral, zone_id, size_class,'
                        " production_status, status, sector, green_level, idle_cause, holder, contact_person, note,"
                        " updated_at) VALUES (:p, :c, :c, 'mining', '', :z, 'small', '', 'baseline', '', '', '', '',"
                        " '', '', :at)"
                    ).bindparams(bindparam("at", type_=UTCDateTime())),
                    {"p": p, "c": code, "z": z7, "at": datetime(2026, 1, 5, tzinfo=UTC)},
                )
        upgrade(db_url, "0024")
        assert current(db_url) == "0024"
        with session_scope(engine) as s:
            rights = s.exec(select(Right).where(Right.plan_id == p).order_by(Right.id)).all()
            assert [(r.code, r.kept_in_zone) for r in rights] == [("OLD-1", None), ("OLD-2", None)]
            for r in rights:
                _move(s, r, "consolidated")
        with Session(engine) as s:
            rm = _targets(s, p)["reduce_mining"]
            assert rm["now"] == 1 and rm["zones"] == [z7]
            assert "其中7号整合区有2宗已整合采矿权台账未填写整合后保留，暂按保留1宗计减少1宗" in format_targets(
                list(_targets(s, p).values())
            )
    finally:
        engine.dispose()
        upgrade(db_url)  # the database back at head for the tests after this one, whatever happened


def _production(path: Path) -> dict[str, str | None]:
    ws = load_workbook(path)[SHEET_RIGHTS]
    headers = [c.value for c in ws[2]]
    return {r[0]: r[headers.index("生产状态")] for r in ws.iter_rows(min_row=3, values_only=True) if r[0]}


def test_a_right_its_zone_absorbs_reads_merged_in_the_ledger_not_producing(
    session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    """Zone 7 keeps M1 (是). M2 (否) and M3 (blank, the zone keeping M1) are 已整合: absorbed into
    M1, they read 已并入保留矿山, not the 生产 they had, nor anything a reader could take for 关闭;
    so does zone 11's consolidated exploration right T1. M4 (否, still 推进中) is still its own mine
    and reads 停产. The export reads back unchanged; a row saying 生产 of an absorbed right, or
    已并入保留矿山 of one that is not, is refused with the row named and what to write."""
    p = banner_plan_id
    z7, z11 = _zone(session, p, 7), _zone(session, p, 11)
    m1 = _add(session, p, "M1", zone_id=z7, kept_in_zone=True, production_status="producing")
    m2 = _add(session, p, "M2", zone_id=z7, kept_in_zone=False, production_status="producing")
    m3 = _add(session, p, "M3", zone_id=z7, production_status="stopped")
    m4 = _add(session, p, "M4", zone_id=z11, kept_in_zone=False, production_status="stopped")
    t1 = _add(session, p, "T1", zone_id=z11, kind="exploration", production_status="exploring", size_class="")
    for right in (m1, m2, m3, t1):
        _move(session, right, "consolidated")
    _move(session, m4, "in_progress")
    session.commit()

    exported = export_ledger(tmp_path / "out.xlsx", session=session, plan_id=p)
    assert _production(exported) == {
        "M1": "生产",
        "M2": "已并入保留矿山",
        "M3": "已并入保留矿山",
        "M4": "停产",
        "T1": "已并入保留矿山",
    }
    options = load_workbook(exported)["选项"]
    assert "已并入保留矿山" in [c.value for c in options["C"]]  # the 生产状态 drop-down offers it
    again = import_ledger(session=session, plan_id=p, data=exported.read_bytes(), actor="cli")
    assert (again.updated, again.unchanged) == (0, 5)
    session.rollback()

    template = write_template(tmp_path / "t.xlsx", session=session, plan_id=p)
    rows = [
        {**_row("M1", ZONE7, "是"), "处置状态": "已整合", "生产状态": "生产"},
        {**_row("M2", ZONE7, "否"), "处置状态": "已整合", "生产状态": "生产"},  # row 4: absorbed into M1
        {**_row("M3", ZONE7, None), "处置状态": "已整合", "生产状态": "已并入保留矿山"},
        {**_row("M4", ZONE11, "否"), "处置状态": "推进中", "生产状态": "已并入保留矿山"},  # row 6: not yet
        {**_row("T1", ZONE11, "否", kind="探矿权"), "处置状态": "已整合", "生产状态": "勘查中"},  # row 7
        {**_row("M5", None, None), "处置状态": "已整合", "生产状态": "已并入"},  # row 8: in no zone
        {**_row("M6", ZONE11, None), "处置状态": "已整合", "生产状态": "已并入保留矿山"},  # row 9: zone 11 keeps none
        {**_row("M7", ZONE7, None), "处置状态": "已关闭注销", "生产状态": "已并入保留矿山"},  # row 10: closed
    ]
    with pytest.raises(LedgerImportError) as caught:
        import_ledger(session=session, plan_id=p, data=_fill(template, rows, tmp_path / "bad.xlsx"), actor="cli")
    assert caught.value.message.splitlines()[1:] == [
        "矿业权台账 第4行 H列（生产状态）：此行是“张佳花岗岩整合区”已整合的采矿权，不是整合后保留的那一宗，"
        "已并入该区保留的采矿权“M1”，不再单独生产，生产状态不能填“生产”，请填“已并入保留矿山”或留空；"
        "如该矿业权仍单独生产，请核对处置状态和整合后保留。",
        "矿业权台账 第6行 H列（生产状态）：“已并入保留矿山”只用于整合区内已整合、不是整合后保留的那一宗的矿业权："
        "此行处置状态为“推进中”，尚未整合，请填写其实际生产状态。",
        "矿业权台账 第7行 H列（生产状态）：此行是“乌兰赤老铁矿整合区”已整合的探矿权，已并入该区保留的采矿权，"
        "不再单独勘查，生产状态不能填“勘查中”，请填“已并入保留矿山”或留空；如该矿业权仍单独勘查，请核对处置状态和整合后保留。",
        "矿业权台账 第8行 H列（生产状态）：“已并入保留矿山”只用于整合区内已整合、不是整合后保留的那一宗的矿业权："
        "此行不属于任何整合区，请填写其实际生产状态。",
        "矿业权台账 第9行 H列（生产状态）：“已并入保留矿山”只用于整合区内已整合、不是整合后保留的那一宗的矿业权："
        "此行整合后保留未填，本区也没有填“是”的采矿权，尚不能确定此宗是保留还是并入，请填写其实际生产状态。",
        "矿业权台账 第10行 H列（生产状态）：“已并入保留矿山”只用于整合区内已整合、不是整合后保留的那一宗的矿业权："
        "此行处置状态为“已关闭注销”，不是“已整合”，请填写其实际生产状态。",
    ]
