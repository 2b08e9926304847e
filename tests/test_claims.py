"""Status claims on a real database: who confirms (the duty map's unit, else the office alone), a
wrong unit's or role's confirmation refused with nothing changed, a return needs a reason, and a
claim by the unit that handles the paperwork is its own confirmation (still with its evidence)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from models import Attachment, Report, Right, RightClaim, RightStatusEvent, utcnow
from oversight.claims import confirming_unit, decide, open_claim, pending_claims
from oversight.errors import InvalidInputError, PermissionDeniedError
from oversight.reports import file_report
from tests.test_accountability import Cast


def _right(s: Session, plan_id: int, code: str) -> Right:
    r = Right(plan_id=plan_id, code=code, name=f"{code}矿", kind="mining")
    s.add(r)
    s.flush()
    return r


def test_who_confirms_and_refusals(engine, banner_plan_id):
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        names = {
            st: (u.name if (u := confirming_unit(session=s, plan_id=banner_plan_id, to_status=st)) else None)
            for st in ("consolidated", "closed", "converted", "restarted", "granted")
        }
        assert names == {
            "consolidated": "旗自然资源局",
            "closed": "旗自然资源局",
            "converted": "旗自然资源局",
            "restarted": "旗应急管理局（矿山安全监管局）",
            "granted": None,
        }
        right = _right(s, banner_plan_id, "T-1")
        forestry = cast["forestry"]
        report = Report(plan_id=banner_plan_id, unit_id=forestry.unit_id, member_id=forestry.id, text="已整合")
        s.add(report)
        s.flush()
        with pytest.raises(InvalidInputError, match="须附佐证材料"):
            open_claim(
                session=s,
                report=report,
                right=right,
                task_id=None,
                actor=forestry,
                to_status="consolidated",
                attachment_ids=[],
                now=utcnow(),
            )
        claim = open_claim(
            session=s,
            report=report,
            right=right,
            task_id=None,
            actor=forestry,
            to_status="consolidated",
            attachment_ids=[1],
            now=utcnow(),
        )
        s.commit()
        for who in (cast["water"], forestry, cast.convener):
            with pytest.raises(PermissionDeniedError, match="只有联席会议办公室或旗自然资源局可以确认"):
                decide(session=s, claim_id=claim.id, actor=who, ok=True, now=utcnow())
        with pytest.raises(InvalidInputError, match="退回理由"):
            decide(session=s, claim_id=claim.id, actor=cast["natres"], ok=False, reason="不行", now=utcnow())
        s.rollback()
        assert s.get(RightClaim, claim.id).state == "pending" and s.get(Right, right.id).status == "baseline"
        assert len(pending_claims(session=s, plan_id=banner_plan_id)) == 1
        decide(session=s, claim_id=claim.id, actor=cast["natres"], ok=True, now=utcnow())
        assert s.get(Right, right.id).status == "consolidated"
        assert pending_claims(session=s, plan_id=banner_plan_id) == []


def test_the_paperwork_unit_s_own_report_moves_the_right_with_its_evidence(engine, banner_plan_id, tmp_path):
    from oversight.attachments import store_attachment
    from tests.test_bot_reports import PDF_BYTES

    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        right = _right(s, banner_plan_id, "T-2")
        natres = cast["natres"]
        with pytest.raises(InvalidInputError, match="须附佐证材料"):
            file_report(
                session=s, actor=natres, task_id=None, text="已注销", right_id=right.id, move_to_status="closed"
            )
        s.rollback()
        right = s.exec(select(Right).where(Right.code == "T-2")).first() or _right(s, banner_plan_id, "T-2")
        pdf = store_attachment(
            session=s, data=PDF_BYTES, filename="注销.pdf", mime_type="application/pdf", data_dir=tmp_path
        )
        file_report(
            session=s,
            actor=natres,
            task_id=None,
            text="已注销",
            right_id=right.id,
            move_to_status="closed",
            attachment_ids=[pdf.id],
        )
        assert s.get(Right, right.id).status == "closed"
        [claim] = s.exec(select(RightClaim)).all()
        assert claim.state == "confirmed" and claim.decided_by_member_id == natres.id
        assert len(s.exec(select(RightStatusEvent)).all()) == 1
        assert s.get(Attachment, pdf.id).report_id == claim.report_id


def pending_shown(s: Session, report_id: int) -> str:
    """The line the ledger merge adds for its claims, recounted from the claim rows; returns it."""
    from oversight.claims import pending_facts
    from tests.chatfacts import assert_pending_facts

    chat = pending_facts(session=s, report_id=report_id)
    assert_pending_facts(s, report_id, chat.message(), chat.listed())
    return chat.message()


def test_a_unit_s_ledger_claims_its_done_states(engine, banner_plan_id, tmp_path):
    from oversight.attachments import store_attachment
    from oversight.reports import submit_ledger
    from tests.test_bot_reports import GOOD_ROW, PDF_BYTES, ledger_xlsx

    row = {**GOOD_ROW, "责任单位": "旗林草局"}
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        forestry = cast["forestry"]

        def upload(status: str, n: int, *more: dict[str, str]):
            xlsx = store_attachment(
                session=s,
                data=ledger_xlsx([{**row, "处置状态": status}, *more]),
                filename=f"台账{n}.xlsx",
                mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                data_dir=tmp_path,
            )
            scan = store_attachment(
                session=s,
                data=PDF_BYTES + bytes([n]),
                filename=f"扫描件{n}.pdf",
                mime_type="application/pdf",
                data_dir=tmp_path,
            )
            return submit_ledger(
                session=s, actor=forestry, xlsx_attachment_id=xlsx.id, scan_attachment_id=scan.id, data_dir=tmp_path
            )

        said = [pending_shown(s, upload("推进中", 1)[0].id)]
        report, result = upload("已整合", 2)
        said.append(pending_shown(s, report.id))
        s.commit()
        # The merge's line names the one right claimed; nothing pending, no line (never 另有0宗).
        assert said == [
            "",
            f"另有{row['矿业权名称']}（{row['矿业权编号']}）变更为“已整合”，已提交确认，确认后计入完成进度。",
        ]
        right = s.exec(select(Right).where(Right.code == GOOD_ROW["矿业权编号"])).one()
        assert right.status == "in_progress" and result.status_changes == 0
        [claim] = s.exec(select(RightClaim)).all()
        assert (claim.report_id, claim.to_status, claim.state) == (report.id, "consolidated", "pending")
        decide(session=s, claim_id=claim.id, actor=cast.office, ok=True, now=utcnow())
        assert s.get(Right, right.id).status == "consolidated"
        # Two rights claimed closed in one upload: counted, both cited.
        other = {**row, "矿业权编号": "C1500002020002", "矿业权名称": "新乌苏二矿"}
        upload("已整合", 3, {**other, "处置状态": "推进中"})
        report, _ = upload("已关闭注销", 4, {**other, "处置状态": "已关闭注销"})
        assert pending_shown(s, report.id) == "另有2宗矿业权变更为完成状态，已提交确认，确认后计入完成进度。"
