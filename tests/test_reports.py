"""Reports and attachments: what a unit may report on, the status move a report makes,
and files checked by content and kept once by hash."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from models import (
    Attachment,
    AuditLog,
    Member,
    Milestone,
    OutboxMessage,
    Report,
    Right,
    RightBatch,
    RightStatusEvent,
    Role,
    Task,
    TaskUnit,
    Zone,
    ZoneLeader,
)
from oversight.attachments import (
    JPEG,
    MAX_BYTES,
    PDF,
    PNG,
    XLSX,
    AttachmentRejectedError,
    detect_type,
    store_attachment,
)
from oversight.errors import InvalidInputError, PermissionDeniedError
from oversight.members import require_unit
from oversight.reports import (
    complete_right_milestone,
    default_task_for,
    file_report,
    parse_measure_text,
    reports_between,
    update_measure,
)
from oversight.rights import batch_progress

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
T1 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def xlsx_bytes() -> bytes:
    wb = Workbook()
    wb.active["A1"] = "台账"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def zip_bytes() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
    return buf.getvalue()


def _member(session: Session, plan_id: int, unit: str, role: str = Role.CONTACT, tg: int = 1) -> Member:
    u = require_unit(session=session, plan_id=plan_id, text=unit)
    m = Member(plan_id=plan_id, telegram_user_id=tg, name=f"{unit}{role}", unit_id=u.id, role=role)
    session.add(m)
    session.flush()
    return m


def _task(session: Session, plan_id: int, key: str) -> Task:
    return session.exec(select(Task).where(Task.plan_id == plan_id, Task.key == key)).one()


def _right(session: Session, plan_id: int, code: str, batch: str, zone_seq: int | None = None) -> Right:
    zone_id = (
        session.exec(select(Zone.id).where(Zone.plan_id == plan_id, Zone.seq == zone_seq)).one() if zone_seq else None
    )
    right = Right(plan_id=plan_id, code=code, name=f"{code}铁矿", kind="mining", zone_id=zone_id)
    session.add(right)
    session.flush()
    session.add(RightBatch(right_id=right.id, task_id=_task(session, plan_id, batch).id))
    session.flush()
    return right


# --- attachments ---------------------------------------------------------------------


def test_allowed_types_are_recognised_by_content_not_by_name() -> None:
    assert detect_type(PDF_BYTES) == PDF
    assert detect_type(PNG_BYTES) == PNG
    assert detect_type(JPEG_BYTES) == JPEG
    assert detect_type(xlsx_bytes()) == XLSX
    assert detect_type(zip_bytes()) is None  # a zip that is not a workbook
    assert detect_type(b"MZ\x90\x00\x03") is None  # a Windows executable
    assert detect_type("这不是PDF".encode()) is None


def test_store_keeps_the_bytes_once_by_hash(session: Session, tmp_path: Path) -> None:
    a = store_attachment(
        session=session, data=PDF_BYTES, filename="../../etc/批复.pdf", mime_type="text/plain", data_dir=tmp_path
    )
    b = store_attachment(
        session=session, data=PDF_BYTES, filename="again.pdf", mime_type="application/pdf", data_dir=tmp_path
    )
    session.commit()
    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    assert a.sha256 == b.sha256 == digest
    assert a.mime_type == PDF  # the content decides, not the claimed type
    assert a.filename == "批复.pdf"  # no path parts
    stored = tmp_path / "attachments" / digest[:2] / digest
    assert (tmp_path / a.path) == stored and stored.read_bytes() == PDF_BYTES
    assert len(list((tmp_path / "attachments").rglob("*"))) == 2  # one directory, one file
    assert a.id != b.id


@pytest.mark.parametrize(
    ("data", "name", "needle"),
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "setup.exe", "类型不受支持"),
        (b"just some text", "scan.pdf", "类型不受支持"),
        (b"", "empty.pdf", "空文件"),
        (b"%PDF-" + b"\x00" * (MAX_BYTES - 4), "big.pdf", "20 MB"),
    ],
)
def test_refused_files_store_nothing(session: Session, tmp_path: Path, data: bytes, name: str, needle: str) -> None:
    with pytest.raises(AttachmentRejectedError, match=needle) as info:
        store_attachment(session=session, data=data, filename=name, mime_type=PDF, data_dir=tmp_path)
    if needle == "类型不受支持":
        assert "PDF" in info.value.message and "xlsx" in info.value.message and "PNG" in info.value.message
    assert session.exec(select(Attachment)).all() == []
    assert not (tmp_path / "attachments").exists()


# --- file_report --------------------------------------------------------------------


def test_contact_of_a_unit_without_a_part_in_the_task_is_refused(session: Session, banner_plan_id: int) -> None:
    police = _member(session, banner_plan_id, "公安局")  # in 淘汰关闭 only, not in 整合重组
    consolidate = _task(session, banner_plan_id, "consolidate")
    with pytest.raises(PermissionDeniedError, match="不是“强化整合重组一批”的责任单位"):
        file_report(session=session, actor=police, task_id=consolidate.id, text="已完成整合方案")
    close = _task(session, banner_plan_id, "close")
    report = file_report(session=session, actor=police, task_id=close.id, text="已收缴火工用品")
    assert report.unit_id == police.unit_id and report.quantity == 0
    assert default_task_for(session=session, member=police).key == "close"


def test_a_units_part_in_a_task_is_read_again_in_each_transaction(session: Session, banner_plan_id: int) -> None:
    # default_task_for proves the unit's part in its task for the rest of its transaction (the
    # report check does not read it twice); a later transaction must read it afresh.
    police = _member(session, banner_plan_id, "公安局")
    close = default_task_for(session=session, member=police)
    assert close is not None and close.key == "close"
    file_report(session=session, actor=police, task_id=close.id, text="同一事务：已知其参与")
    session.commit()
    for part in session.exec(select(TaskUnit).where(TaskUnit.task_id == close.id, TaskUnit.unit_id == police.unit_id)):
        session.delete(part)
    session.commit()
    with pytest.raises(PermissionDeniedError, match="不是“"):
        file_report(session=session, actor=police, task_id=close.id, text="参与已撤销")


def test_report_that_completes_a_right_moves_it_and_the_batch(
    session: Session, banner_plan_id: int, tmp_path: Path
) -> None:
    natres = _member(session, banner_plan_id, "自然资源局")
    task = _task(session, banner_plan_id, "consolidate")
    right = _right(session, banner_plan_id, "C150001", "consolidate", zone_seq=1)
    leader = _member(session, banner_plan_id, "旗人民政府", Role.ZONE_LEADER, tg=77)
    session.add(ZoneLeader(zone_id=right.zone_id, member_id=leader.id))
    pdf = store_attachment(session=session, data=PDF_BYTES, filename="整合批复.pdf", mime_type=PDF, data_dir=tmp_path)
    session.commit()
    before = next(
        r for r in batch_progress(session=session, plan_id=banner_plan_id, as_of=T1) if r["key"] == "consolidate"
    )

    report = file_report(
        session=session,
        actor=natres,
        task_id=task.id,
        text="完成整合",
        right_id=right.id,
        quantity=1,
        attachment_ids=[pdf.id],
        now=T1,
    )
    session.commit()

    event = session.exec(select(RightStatusEvent).where(RightStatusEvent.right_id == right.id)).one()
    assert (event.from_status, event.to_status, event.report_id, event.task_id) == (
        "baseline",
        "consolidated",
        report.id,
        task.id,
    )
    assert report.quantity == 1 and report.zone_id == right.zone_id
    assert session.get(Attachment, pdf.id).report_id == report.id
    after = next(
        r for r in batch_progress(session=session, plan_id=banner_plan_id, as_of=T1) if r["key"] == "consolidate"
    )
    assert (before["done"], after["done"]) == (0, 1) and after["right_ids"] == [right.id]
    assert session.exec(select(AuditLog).where(AuditLog.action == "report.filed")).one().object_id == str(report.id)
    # The zone's leader hears about it.
    note = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 77)).one()
    assert f"{report.id}号进展报送" in note.text and "已整合" in note.text
    assert [
        r.id
        for r in reports_between(
            session=session, plan_id=banner_plan_id, start=T1, end=datetime(2026, 6, 2, tzinfo=UTC)
        )
    ] == [report.id]
    # The attachment cannot be claimed by a second report.
    with pytest.raises(InvalidInputError, match="已属于其他记录"):
        file_report(session=session, actor=natres, task_id=task.id, text="再报", attachment_ids=[pdf.id])


def test_a_move_must_name_one_right(session: Session, banner_plan_id: int) -> None:
    natres = _member(session, banner_plan_id, "自然资源局")
    task = _task(session, banner_plan_id, "consolidate")
    with pytest.raises(InvalidInputError, match="必须指明"):
        file_report(session=session, actor=natres, task_id=task.id, text="完成 3 宗", quantity=1)
    right = _right(session, banner_plan_id, "C150002", "close")  # in another batch
    with pytest.raises(InvalidInputError, match="只能完成一宗"):
        file_report(session=session, actor=natres, task_id=task.id, text="完成 3 宗", quantity=3, right_id=right.id)
    with pytest.raises(InvalidInputError, match="不在“强化整合重组一批”中"):
        file_report(session=session, actor=natres, task_id=task.id, text="完成", quantity=1, right_id=right.id)
    with pytest.raises(InvalidInputError, match="不能为空"):
        file_report(session=session, actor=natres, task_id=task.id, text="  ")
    with pytest.raises(InvalidInputError, match="10000"):
        file_report(session=session, actor=natres, task_id=task.id, text="字" * 10_001)
    session.rollback()
    assert session.exec(select(Report)).all() == [] and session.exec(select(RightStatusEvent)).all() == []


def test_zone_leader_reports_only_on_their_zones(session: Session, banner_plan_id: int) -> None:
    leader = _member(session, banner_plan_id, "旗人民政府", Role.ZONE_LEADER)
    zones = session.exec(select(Zone).where(Zone.plan_id == banner_plan_id).order_by(Zone.seq)).all()
    session.add(ZoneLeader(zone_id=zones[0].id, member_id=leader.id))
    task = _task(session, banner_plan_id, "consolidate")
    with pytest.raises(PermissionDeniedError, match="不是“"):
        file_report(session=session, actor=leader, task_id=task.id, text="督导", zone_id=zones[1].id)
    report = file_report(session=session, actor=leader, task_id=task.id, text="现场督导")  # their only zone
    assert report.zone_id == zones[0].id
    office = _member(session, banner_plan_id, "旗政府办公室", Role.OFFICE, tg=5)
    with pytest.raises(PermissionDeniedError):
        file_report(session=session, actor=office, task_id=task.id, text="办公室不报送")


# --- measures ------------------------------------------------------------------------


def test_measure_text_with_milestones_and_bad_dates(session: Session, banner_plan_id: int) -> None:
    text, milestones = parse_measure_text("企业负责储量核实\n2026-06-30 完成储量核实\n2026年12月31日 完成变更登记")
    assert text == "企业负责储量核实"
    assert milestones == [("完成储量核实", date(2026, 6, 30)), ("完成变更登记", date(2026, 12, 31))]
    with pytest.raises(InvalidInputError, match="2026-2-30 不存在"):
        parse_measure_text("措施\n2026-2-30 完成")
    with pytest.raises(InvalidInputError, match="缺少节点名称"):
        parse_measure_text("措施\n2026-06-30")
    with pytest.raises(InvalidInputError, match="无法识别"):
        parse_measure_text("措施\n2026-6 完成")

    natres = _member(session, banner_plan_id, "自然资源局")
    right = _right(session, banner_plan_id, "C150003", "consolidate")
    _, n = update_measure(
        session=session,
        actor=natres,
        right_id=right.id,
        task_id=_task(session, banner_plan_id, "consolidate").id,
        text="牵头办理整合手续\n2026-06-30 完成储量核实",
    )
    assert n == 1
    assert [m.title for m in session.exec(select(Milestone)).all()] == ["完成储量核实"]
    police = _member(session, banner_plan_id, "公安局", tg=2)
    with pytest.raises(PermissionDeniedError):
        update_measure(
            session=session,
            actor=police,
            right_id=right.id,
            task_id=_task(session, banner_plan_id, "consolidate").id,
            text="越权",
        )
    with pytest.raises(PermissionDeniedError, match="不负责"):
        update_measure(session=session, actor=police, right_id=right.id, text="越权")
    milestone = session.exec(select(Milestone)).one()
    with pytest.raises(PermissionDeniedError):
        complete_right_milestone(
            session=session,
            actor=police,
            milestone_id=milestone.id,
            task_id=_task(session, banner_plan_id, "consolidate").id,
        )
    done = complete_right_milestone(session=session, actor=natres, milestone_id=milestone.id)
    assert done.done_at is not None


def test_a_saved_measure_is_answered_with_the_milestones_it_has(session: Session, banner_plan_id: int) -> None:
    """Saving 一矿一策 with two milestone lines says 2个节点; saving it again with the text alone
    keeps them and says 原有2个节点不变 (not 0个节点); a right's first measure without milestone lines
    says 未列节点 — each recounted from the measure and milestone rows."""
    from oversight.reports import measure_saved
    from tests.chatfacts import assert_measure_saved

    natres = _member(session, banner_plan_id, "自然资源局")
    task = _task(session, banner_plan_id, "consolidate").id
    right = _right(session, banner_plan_id, "C150003", "consolidate")
    said = []
    for rid, body in (
        (right.id, "牵头办理整合手续\n2026-06-30 完成储量核实\n2026-12-31 完成变更登记"),
        (right.id, "牵头办理整合手续，企业配合"),
    ):
        measure_id, n = update_measure(session=session, actor=natres, right_id=rid, task_id=task, text=body)
        chat = measure_saved(session=session, measure_id=measure_id, listed=n > 0)
        assert_measure_saved(session, rid, n > 0, chat.message(), chat.listed())
        said.append(chat.message())
    assert said == ["已更新一矿一策（2个节点）。", "已更新一矿一策措施，原有2个节点不变。"]
    other = _right(session, banner_plan_id, "C150004", "consolidate")
    measure_id, n = update_measure(
        session=session, actor=natres, right_id=other.id, task_id=task, text="由旗自然资源局牵头核查"
    )
    chat = measure_saved(session=session, measure_id=measure_id, listed=n > 0)
    assert_measure_saved(session, other.id, False, chat.message(), chat.listed())
    assert chat.message() == "已更新一矿一策措施，未列节点。"
