"""Seed 003 三(四): a league or city past a region deadline (底数核实台账 by 2022-09-20, 盘活一批 by
2022-12-31) with the item still open is named 问题解决不积极、不明显 with the record as evidence, and
the notice that names it is reported to 自治区人民政府 (its 报 line); a notice naming no region has no 报
line, nor one whose region finding the convener dropped."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session, select

from jobs.render import render_html
from models import Member, Right, Role, Unit
from oversight.notices import (
    draft_notice,
    draft_overview,
    drop_finding,
    notice_document,
    notice_findings,
    report_to,
)
from oversight.sentences import evidence_sentence
from tests.conftest import REGION_PLAN, load_bundled_plan
from tests.test_notices import check_notice_facts

JOINED = datetime(2022, 8, 1, 2, tzinfo=UTC)
AFTER_Q4 = datetime(2023, 1, 9, 2, tzinfo=UTC)


def test_a_region_past_its_deadline_is_named_and_the_notice_is_reported_up(engine, session: Session) -> None:
    p = load_bundled_plan(engine, REGION_PLAN)
    units = {u.key: u for u in session.exec(select(Unit).where(Unit.plan_id == p)).all()}
    ordos, baotou = units["ordos"], units["baotou"]
    for unit in (ordos, baotou):
        session.add(Member(plan_id=p, unit_id=unit.id, role=Role.CONTACT, name=unit.short, joined_at=JOINED))
    convener = Member(plan_id=p, unit_id=units["natres"].id, role=Role.CONVENER, name="召集人", joined_at=JOINED)
    session.add(convener)
    # 鄂尔多斯市 filed its baseline on time; 包头市 filed nothing. Neither activated a right by the end of 2022.
    session.add(
        Right(
            plan_id=p, code="M-1", name="M-1", kind="mining", locality_unit_id=ordos.id, baseline_on=date(2022, 9, 19)
        )
    )
    session.commit()

    notice = draft_notice(session=session, plan_id=p, period="2022Q4", now=AFTER_Q4)
    findings = {(f.unit_id, f.rule): f for f in notice_findings(session=session, notice_id=notice.id)}
    baotou_f = findings[(baotou.id, "not_solving")]
    ordos_f = findings[(ordos.id, "not_solving")]
    assert "未按期报送底数核实情况及工作措施台账" in baotou_f.summary
    assert "盘活一批矿业权" not in baotou_f.summary  # no right of 包头市 in the ledger: nothing to count
    assert "未按期盘活一批矿业权" in ordos_f.summary and "底数核实" not in ordos_f.summary
    sentences = [evidence_sentence(e) for e in baotou_f.evidence if e.get("basis") == "region_deadline"]
    assert sentences == ["截至2022年12月31日，未报送底数核实情况及工作措施台账（应于2022年9月20日前完成）。"]
    (ordos_line,) = [evidence_sentence(e) for e in ordos_f.evidence if e.get("basis") == "region_deadline"]
    assert "均未复工复产或转采" in ordos_line and "应于2022年12月31日前完成" in ordos_line
    assert "包头市人民政府" in notice.body and "鄂尔多斯市人民政府" in notice.body

    assert report_to(session=session, notice_id=notice.id) == "自治区人民政府"
    doc = notice_document(session=session, notice_id=notice.id, now=AFTER_Q4)
    check_notice_facts(session, notice, doc["facts"])
    (bao,) = [f for f in doc["facts"] if f["kind"] == "report_to"]  # the 报 line and its reason
    government = next(u for u in units.values() if u.kind == "government")
    assert bao["text"] == government.name == "自治区人民政府"
    assert set(bao["ids"]["unit"]) == {baotou.id, ordos.id, government.id}
    assert set(bao["ids"]["finding"]) == {baotou_f.id, ordos_f.id}
    html = render_html("notice.html.j2", doc)
    assert '<span class="label">报：</span><span class="nobr">自治区人民政府</span>' in html
    assert '</h1><p class="addressees">各成员单位：</p><div class="body">' in html  # 主送, under the title
    # The convener's overview in chat, whole: both regions named, and the 报 line's reason said.
    assert draft_overview(session=session, notice_id=notice.id) == (
        f"【通报草稿待审定】{notice.title}\n"
        "2022年第四季度　草稿　通报事项2项（涉及2个单位）\n"
        "\n"
        "被通报单位及事项：\n"
        f"1. {baotou.name}：问题解决不积极、不明显\n"
        f"2. {ordos.name}：问题解决不积极、不明显\n"
        "\n"
        f"本通报点名{baotou.name}、{ordos.name}问题解决不积极、不明显，印发时报{government.name}。\n"
        "\n"
        "点下方单位按钮逐项查看通报依据，可删除个别事项；“查看正文”阅读通报正文。"
        "确认无误后审定印发，未经召集人审定，通报不会发出。"
    )

    # 包头市's finding dropped: the 报 line's reason names 鄂尔多斯市 alone.
    drop_finding(session=session, finding_id=baotou_f.id, actor=convener, reason="已当面督促整改", now=AFTER_Q4)
    assert draft_overview(session=session, notice_id=notice.id).splitlines()[2:8] == [
        "",
        "被通报单位及事项：",
        f"1. {baotou.name}：不再通报（已删除“问题解决不积极、不明显”，理由：已当面督促整改）",
        f"2. {ordos.name}：问题解决不积极、不明显",
        "",
        f"本通报点名{ordos.name}问题解决不积极、不明显，印发时报{government.name}。",
    ]
    # Dropped, both region findings: the notice names no region and is not reported up.
    drop_finding(session=session, finding_id=ordos_f.id, actor=convener, reason="已当面督促整改", now=AFTER_Q4)
    assert report_to(session=session, notice_id=notice.id) is None
    assert "印发时报" not in draft_overview(session=session, notice_id=notice.id)
    assert all(
        f["kind"] != "report_to" for f in notice_document(session=session, notice_id=notice.id, now=AFTER_Q4)["facts"]
    )
    html = render_html("notice.html.j2", notice_document(session=session, notice_id=notice.id, now=AFTER_Q4))
    assert "报：" not in html
