"""The notice workflow as a dialogue: the worker drafts, the convener drops and edits and
approves, the worker publishes, a named unit explains within five working days."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from jobs.notices import draft_message, publish_notice, publish_run, run
from models import AuditLog, GroupBinding, Notice, OutboxMessage, ScheduledRun, Unit
from oversight.errors import InvalidInputError, InvalidStateError, PermissionDeniedError
from oversight.notices import (
    NoticeExplanationClosedError,
    approve_notice,
    draft_notice,
    draft_overview,
    drop_finding,
    drop_notice,
    edit_notice_text,
    explanation_deadline,
    explanations_for_period,
    file_explanation,
    notice_findings,
)
from oversight.plans import set_milestones
from oversight.problems import accept_problem, decline_problem, resolve_problem, rule_problem
from tests.test_accountability import AFTER_Q1, Cast, at

GROUP_CHAT = -100777


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> Cast:
    c = Cast(session, banner_plan_id)
    session.add(GroupBinding(plan_id=banner_plan_id, chat_id=GROUP_CHAT, title="联席会议群"))
    # Everyone reports every week, and the admin has put 升级改造's first milestone at the end
    # of 2026 with nothing due before it, so only the scenario's findings appear.
    set_milestones(
        session=session, plan_id=banner_plan_id, key="upgrade", milestones=[(date(2026, 12, 31), 0.0)], actor="t"
    )
    for unit in c.units.values():
        c.report_weekly(unit.key)
    # 林草局 declines and is ruled back; 水利局 hands a problem away and gets it back.
    pid = c.raise_("forestry", at(3, 2))
    decline_problem(session=session, problem_id=pid, actor=c["forestry"], reason="不是林草的事", now=at(3, 2, 15))
    rule_problem(
        session=session,
        problem_id=pid,
        actor=c.office,
        to_unit_id=c.uid("forestry"),
        reason="征占用草原审批属林草局职责",
        now=at(3, 4),
    )
    resolve_problem(session=session, problem_id=pid, actor=c["forestry"], evidence_text="已审批", now=at(3, 6))
    pid2 = c.raise_("water", at(3, 5), category="water_permit")
    c.hand(pid2, "water", "eco", at(3, 5, 11))
    c.hand(pid2, "eco", "water", at(3, 5, 12))
    accept_problem(session=session, problem_id=pid2, actor=c["water"], now=at(3, 5, 13))
    resolve_problem(session=session, problem_id=pid2, actor=c["water"], evidence_text="已批复", now=at(3, 6))
    for message in session.exec(select(OutboxMessage)).all():  # the problems' own notifications: not ours
        session.delete(message)
    session.commit()
    return c


def outbox(session: Session, chat_id: int | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if chat_id is not None:
        stmt = stmt.where(OutboxMessage.chat_id == chat_id)
    return list(session.exec(stmt).all())


def draft(cast: Cast) -> Notice:
    notice = draft_notice(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    cast.s.commit()
    return notice


def test_draft_names_units_and_is_idempotent(cast: Cast) -> None:
    notice = draft(cast)
    assert notice.state == "draft" and notice.doc_no == ""
    assert notice.title == "关于2026年第一季度乌拉特中旗非煤矿山资源整合、增储上产工作推进不力单位情况的通报"
    units = {(f.unit_id, f.rule) for f in notice_findings(session=cast.s, notice_id=notice.id)}
    assert units == {(cast.uid("forestry"), "shifting"), (cast.uid("water"), "shifting")}
    assert "旗林草局" in notice.body and "旗水利局" in notice.body and "5个工作日内" in notice.body
    opening = notice.body.splitlines()[0]  # only what the findings prove: two units, one kind
    assert (
        opening.startswith("2026年第一季度，依据联席会议工作记录，")
        and "工作中有2个单位存在“推诿扯皮”问题。" in opening
    )
    assert "总体有序推进" not in notice.body and "部分单位" not in notice.body
    head = draft_overview(session=cast.s, notice_id=notice.id).splitlines()[1]
    assert head.startswith("2026年第一季度　草稿　") and "2026Q1" not in head  # the period as people name it
    again = draft_notice(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    assert again.id == notice.id
    assert cast.s.exec(select(AuditLog).where(AuditLog.action == "notice.drafted")).all().__len__() == 1


def test_nothing_is_published_before_approval(cast: Cast) -> None:
    result = run(session=cast.s, period="2026Q1", now=AFTER_Q1)
    cast.s.commit()
    assert result["notices"][0]["findings"] == 2
    chats = {m.chat_id for m in outbox(cast.s)}
    assert chats == {cast.convener.telegram_user_id}, "only the convener hears of a draft"
    pdf, message = outbox(cast.s)[:2]  # the draft as a PDF first, then the message with its buttons
    assert pdf.kind == "document" and pdf.payload["filename"].endswith("（送审稿）.pdf")
    assert Path(pdf.payload["path"]).read_bytes().startswith(b"%PDF")
    text = message.text
    assert "【通报草稿待审定】" in text and "1. 旗林草局：推诿扯皮" in text and "不是林草的事" not in text
    # The evidence is on each finding's page, opened from its button under the message.
    assert [b["text"] for b in message.payload["buttons"][0]] == ["林草局·推诿扯皮", "水利局·推诿扯皮"]
    from oversight.notices import finding_page

    forestry = next(
        f
        for f in notice_findings(session=cast.s, notice_id=cast.s.exec(select(Notice.id)).one())
        if f.unit_id == cast.uid("forestry")
    )
    page, before, after = finding_page(session=cast.s, notice_id=forestry.notice_id, finding_id=forestry.id)
    assert page.startswith("【通报事项1/2】旗林草局：推诿扯皮") and "退回" in page and "不是林草的事" in page
    assert before is None and after is not None
    # The job ran again (retry): nothing is queued twice.
    run(session=cast.s, period="2026Q1", now=AFTER_Q1)
    cast.s.commit()
    assert len(outbox(cast.s)) == len({m.dedupe_key for m in outbox(cast.s)})
    assert len(outbox(cast.s, cast.convener.telegram_user_id)) == len(outbox(cast.s))


def test_convener_drops_a_finding_and_the_wording_follows(cast: Cast) -> None:
    notice = draft(cast)
    water = next(f for f in notice_findings(session=cast.s, notice_id=notice.id) if f.unit_id == cast.uid("water"))
    drop_finding(session=cast.s, finding_id=water.id, actor=cast.convener, reason="已于季度末办结", now=AFTER_Q1)
    cast.s.commit()
    assert "旗水利局" not in notice.body and "旗林草局" in notice.body
    assert "旗水利局：不再通报（已删除“推诿扯皮”，理由：已于季度末办结）" in draft_message(
        session=cast.s, notice_id=notice.id
    )
    audit = cast.s.exec(select(AuditLog).where(AuditLog.action == "notice.finding_dropped")).one()
    assert audit.actor == f"member:{cast.convener.id}" and audit.detail["unit_id"] == cast.uid("water")
    assert audit.detail["reason"] == "已于季度末办结" and water.drop_reason == "已于季度末办结"


def test_a_finding_is_not_dropped_without_a_reason(cast: Cast) -> None:
    notice = draft(cast)
    water = next(f for f in notice_findings(session=cast.s, notice_id=notice.id) if f.unit_id == cast.uid("water"))
    for reason in ("", "  办结 ", "理" * 201):
        with pytest.raises(InvalidInputError, match="删除理由"):
            drop_finding(session=cast.s, finding_id=water.id, actor=cast.convener, reason=reason, now=AFTER_Q1)
    assert not water.dropped and water.drop_reason == ""


def test_an_edited_body_is_kept_when_a_finding_is_dropped(cast: Cast) -> None:
    """The office rewrites the body naming both units; the convener may not drop 水利局's finding
    while the rewritten text still names it; once the office takes it out, the drop keeps the
    office's text as written."""
    notice = draft(cast)
    edit_notice_text(
        session=cast.s,
        notice_id=notice.id,
        actor=cast.office,
        title="关于一季度有关单位推诿扯皮情况的通报",
        body="旗林草局、旗水利局推诿扯皮。\n请整改。",
        now=AFTER_Q1,
    )
    water = next(f for f in notice_findings(session=cast.s, notice_id=notice.id) if f.unit_id == cast.uid("water"))
    with pytest.raises(InvalidStateError, match="正文已经修改，仍写有只以该事项为依据的旗水利局"):
        drop_finding(session=cast.s, finding_id=water.id, actor=cast.convener, reason="已于季度末办结", now=AFTER_Q1)
    assert not water.dropped
    edit_notice_text(
        session=cast.s, notice_id=notice.id, actor=cast.office, body="旗林草局推诿扯皮。\n请整改。", now=AFTER_Q1
    )
    drop_finding(session=cast.s, finding_id=water.id, actor=cast.convener, reason="已于季度末办结", now=AFTER_Q1)
    assert notice.body == "旗林草局推诿扯皮。\n请整改。"
    assert notice.title == "关于一季度有关单位推诿扯皮情况的通报"


def test_an_edited_body_states_only_what_the_findings_hold(cast: Cast) -> None:
    """The office's rewrite is refused when it names a unit with no finding this period (旗财政局),
    a figure that is none of the draft's (12周), or pasted program data; nothing changes."""
    notice = draft(cast)
    before = notice.body
    for body, said in (
        ("旗林草局、旗财政局推诿扯皮。", "点名了本期没有通报事项的单位：旗财政局"),
        ("财政局推诿扯皮。", "点名了本期没有通报事项的单位：旗财政局"),  # the short name is the unit too
        ("旗林草局12周未报送工作进展。", "数字12在本期通报事项的记录中找不到依据"),
        ("旗林草局：{'kind': 'response_waits'}", "含有程序数据"),
        ("旗林草局推诿扯皮，None。", "含有程序数据"),
    ):
        with pytest.raises(InvalidInputError, match=said):
            edit_notice_text(session=cast.s, notice_id=notice.id, actor=cast.office, body=body, now=AFTER_Q1)
    with pytest.raises(InvalidInputError, match="修改后的标题点名了本期没有通报事项的单位：旗财政局"):
        edit_notice_text(
            session=cast.s, notice_id=notice.id, actor=cast.office, title="关于旗财政局推诿扯皮的通报", now=AFTER_Q1
        )
    assert notice.body == before
    # Figures and names of the draft itself are fine: 1号问题, 5个工作日, the plan's own document.
    edit_notice_text(
        session=cast.s,
        notice_id=notice.id,
        actor=cast.office,
        body="旗林草局退回1号问题，经裁定仍由其负责；旗水利局2号问题转出后又转回。\n请于5个工作日内报送情况说明。",
        now=AFTER_Q1,
    )
    assert notice.body.startswith("旗林草局退回1号问题")


def test_a_published_edited_body_is_the_offices_text_resting_on_the_findings(cast: Cast, tmp_path: Path) -> None:
    """The office rewrites the body; the published notice prints it as written, its facts are the
    office's paragraphs (office_text) citing the notice, the editor and the time, and the units each
    names with their kept findings; the PDF's text holds the paragraphs and no program data."""
    from io import BytesIO

    from pypdf import PdfReader

    from oversight.notices import notice_document

    notice = draft(cast)
    body = (
        "2026年第一季度，旗林草局、旗水利局在问题办理中存在推诿扯皮问题。\n"
        "旗林草局退回1号问题，经联席会议办公室裁定仍由其负责。\n"
        "请被通报单位于本通报印发之日起5个工作日内报送书面情况说明。"
    )
    edit_notice_text(session=cast.s, notice_id=notice.id, actor=cast.office, body=body, now=at(4, 7, 9))
    cast.s.commit()
    doc = notice_document(session=cast.s, notice_id=notice.id, now=AFTER_Q1)
    assert doc["body_edited"] and doc["paragraphs"] == body.splitlines()
    facts = doc["facts"]
    check_notice_facts(cast.s, notice, facts)
    assert [f["kind"] for f in facts] == ["office_text"] * 3
    first, second, third = facts
    assert first["values"]["edited_by"] == cast.office.name and first["values"]["edited_at"] == "2026年4月7日 09:00"
    assert first["ids"]["member"] == [cast.office.id] and first["ids"]["notice"] == [notice.id]
    assert first["ids"]["unit"] == [cast.uid("forestry"), cast.uid("water")]
    assert second["ids"]["unit"] == [cast.uid("forestry")] and second["ids"]["problem"]
    assert "unit" not in third["ids"] or third["ids"]["unit"] == []
    approve_notice(session=cast.s, notice_id=notice.id, actor=cast.convener, now=AFTER_Q1)
    cast.s.commit()
    publish_notice(session=cast.s, notice_id=notice.id, now=AFTER_Q1, data_dir=tmp_path)
    cast.s.commit()
    pages = PdfReader(BytesIO(Path(notice.pdf_path).read_bytes())).pages
    flat = "".join("".join(p.extract_text() for p in pages).split())
    for line in body.splitlines():
        assert line in flat, line
    for raw in ("{'", '"kind":', "None", "True", "False", "[["):
        assert raw not in flat, raw


def test_only_the_convener_approves(cast: Cast) -> None:
    notice = draft(cast)
    for who in (cast.office, cast["forestry"]):
        with pytest.raises(PermissionDeniedError, match="只有召集人可以审定印发通报"):
            approve_notice(session=cast.s, notice_id=notice.id, actor=who, now=AFTER_Q1)
    with pytest.raises(PermissionDeniedError):
        drop_finding(
            session=cast.s,
            finding_id=notice_findings(session=cast.s, notice_id=notice.id)[0].id,
            actor=cast["forestry"],
            reason="我单位不认可该事项",
            now=AFTER_Q1,
        )
    cast.s.commit()
    assert notice.state == "draft"
    assert len(cast.s.exec(select(AuditLog).where(AuditLog.action == "notice.refused")).all()) == 3


def test_approval_numbers_the_notice_and_asks_the_worker_to_publish(cast: Cast) -> None:
    notice = draft(cast)
    approve_notice(session=cast.s, notice_id=notice.id, actor=cast.convener, now=AFTER_Q1)
    cast.s.commit()
    assert notice.state == "approved" and notice.doc_no == "乌中联办通〔2026〕1号"
    run_row = cast.s.exec(select(ScheduledRun).where(ScheduledRun.job == "notice_publish")).one()
    assert run_row.period == f"notice-{notice.id}" and run_row.state == "pending"
    with pytest.raises(InvalidStateError):
        edit_notice_text(session=cast.s, notice_id=notice.id, actor=cast.convener, body="改", now=AFTER_Q1)
    assert {m.chat_id for m in outbox(cast.s)} <= {cast.convener.telegram_user_id}


def test_notice_numbers_count_through_the_year(cast: Cast) -> None:
    first = draft(cast)
    approve_notice(session=cast.s, notice_id=first.id, actor=cast.convener, now=AFTER_Q1)
    pid = cast.raise_("eco", at(5, 6), category="eia")
    decline_problem(session=cast.s, problem_id=pid, actor=cast["eco"], reason="不属环评", now=at(5, 6, 11))
    rule_problem(
        session=cast.s, problem_id=pid, actor=cast.office, to_unit_id=cast.uid("eco"), reason="属环评", now=at(5, 7)
    )
    second = draft_notice(session=cast.s, plan_id=cast.plan_id, period="2026Q2", now=at(7, 3))
    assert second.id != first.id
    approve_notice(session=cast.s, notice_id=second.id, actor=cast.convener, now=at(7, 3))
    assert (first.doc_no, second.doc_no) == ("乌中联办通〔2026〕1号", "乌中联办通〔2026〕2号")


def test_a_draft_with_every_finding_dropped_cannot_be_approved_and_can_be_abandoned(cast: Cast) -> None:
    notice = draft(cast)
    for f in notice_findings(session=cast.s, notice_id=notice.id):
        drop_finding(session=cast.s, finding_id=f.id, actor=cast.convener, reason="已于季度末办结", now=AFTER_Q1)
    with pytest.raises(InvalidStateError, match="没有保留任何通报事项"):
        approve_notice(session=cast.s, notice_id=notice.id, actor=cast.convener, now=AFTER_Q1)
    drop_notice(session=cast.s, notice_id=notice.id, actor=cast.convener, now=AFTER_Q1, reason="已当面约谈")
    cast.s.commit()
    fresh = draft_notice(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    assert fresh.id != notice.id and fresh.state == "draft"


def published(cast: Cast, tmp_path: Path) -> Notice:
    notice = draft(cast)
    approve_notice(session=cast.s, notice_id=notice.id, actor=cast.convener, now=AFTER_Q1)
    cast.s.commit()
    result = publish_notice(session=cast.s, notice_id=notice.id, now=AFTER_Q1, data_dir=tmp_path)
    cast.s.commit()
    assert result["doc_no"] == "乌中联办通〔2026〕1号"
    return notice


def test_publication_posts_the_pdf_to_the_group_and_each_named_unit(cast: Cast, tmp_path: Path) -> None:
    notice = published(cast, tmp_path)
    assert notice.state == "published" and Path(notice.pdf_path).read_bytes().startswith(b"%PDF-")
    group = outbox(cast.s, GROUP_CHAT)
    assert [m.kind for m in group] == ["document", "text"]
    assert "旗林草局" in group[1].text and "旗水利局" in group[1].text
    for key in ("forestry", "water"):
        mine = outbox(cast.s, cast[key].telegram_user_id)
        assert [m.kind for m in mine if m.kind == "document"] == ["document"]
        assert any("情况说明" in m.text for m in mine)
    assert not any(m.kind == "document" for m in outbox(cast.s, cast["eco"].telegram_user_id))
    # Publishing again (a retried run) sends nothing more.
    before = len(outbox(cast.s))
    assert publish_run(session=cast.s, period=f"notice-{notice.id}", now=AFTER_Q1)["already"] is True
    assert len(outbox(cast.s)) == before


def test_pdf_text_has_number_title_and_evidence(cast: Cast, tmp_path: Path) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    notice = published(cast, tmp_path)
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(Path(notice.pdf_path).read_bytes())).pages)
    flat = "".join(text.split())
    assert "乌中联办通〔2026〕1号" in flat and "通报" in flat and "不是林草的事" in flat


def test_named_unit_explains_within_five_working_days(cast: Cast, tmp_path: Path) -> None:
    notice = published(cast, tmp_path)
    deadline = explanation_deadline(session=cast.s, notice=notice)
    assert deadline is not None and deadline.date().isoformat() == "2026-04-13"  # 4-4..4-6 清明 holiday
    exp = file_explanation(
        session=cast.s,
        notice_id=notice.id,
        actor=cast["forestry"],
        text="已于4月1日完成草原征占用审批。",
        now=at(4, 10),
    )
    cast.s.commit()
    assert exp.unit_id == cast.uid("forestry")
    rows = explanations_for_period(session=cast.s, plan_id=cast.plan_id, period="2026Q1")
    assert [(r["unit"], r["text"], r["doc_no"]) for r in rows] == [
        ("旗林草局", "已于4月1日完成草原征占用审批。", "乌中联办通〔2026〕1号")
    ]
    # The office is told in one message, the unit and the notice named as the record has them.
    filed = [m.text for m in outbox(cast.s, cast.office.telegram_user_id) if m.text.startswith("【情况说明】")]
    assert filed == [
        "【情况说明】旗林草局联络员已就乌中联办通〔2026〕1号《关于2026年第一季度乌拉特中旗非煤矿山资源整合、增储上产工作"
        "推进不力单位情况的通报》报送情况说明：\n已于4月1日完成草原征占用审批。"
    ]
    unit = cast.s.get(Unit, cast.uid("forestry"))
    assert unit is not None and filed[0].startswith(
        f"【情况说明】{unit.name}联络员已就{notice.doc_no}《{notice.title}》"
    )


def test_explanation_refused_from_an_unnamed_unit_and_after_the_deadline(cast: Cast, tmp_path: Path) -> None:
    notice = published(cast, tmp_path)
    with pytest.raises(PermissionDeniedError, match="只有被通报单位的联络员"):
        file_explanation(session=cast.s, notice_id=notice.id, actor=cast["eco"], text="说明", now=at(4, 8))
    with pytest.raises(NoticeExplanationClosedError, match="已逾期") as refused:
        file_explanation(
            session=cast.s,
            notice_id=notice.id,
            actor=cast["water"],
            text="说明",
            now=datetime(2026, 4, 13, 16, 1, tzinfo=UTC),
        )  # 4-14 00:01 in Shanghai
    # The deadline in the product's one date form; 2026 has holiday data, so it is not an estimate.
    assert "情况说明应于2026年4月13日前报送" in str(refused.value) and "估算" not in str(refused.value)


def test_an_explanation_deadline_beyond_the_calendar_data_is_marked_estimated(cast: Cast, tmp_path: Path) -> None:
    notice = published(cast, tmp_path)
    notice.published_at = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)  # 10:00 Monday 28 December in Beijing
    cast.s.add(notice)
    cast.s.commit()
    deadline = explanation_deadline(session=cast.s, notice=notice)
    assert deadline is not None and deadline.date().isoformat() == "2027-01-04"  # 2027 counted Monday to Friday
    with pytest.raises(NoticeExplanationClosedError) as refused:
        file_explanation(
            session=cast.s,
            notice_id=notice.id,
            actor=cast["water"],
            text="说明",
            now=datetime(2027, 1, 5, 2, 0, tzinfo=UTC),
        )
    assert "情况说明应于2027年1月4日（估算）前报送" in str(refused.value)


def test_explanation_refused_before_publication(cast: Cast) -> None:
    notice = draft(cast)
    with pytest.raises(InvalidStateError, match="尚未印发"):
        file_explanation(session=cast.s, notice_id=notice.id, actor=cast["forestry"], text="说明", now=AFTER_Q1)


# Every table a notice fact's ids may name (the notice's facts: oversight.notices.body_facts).
FACT_TABLES = {
    "notice": "notice",
    "unit": "unit",
    "finding": "noticefinding",
    "problem": "problem",
    "event": "problemevent",
    "decision": "decision",
    "task": "task",
    "item": "rectificationitem",
    "member": "member",
    "meeting": "meeting",
    "zone": "zone",
    "right": '"right"',
    "report": "report",
    "supervision": "supervisionevent",
    "order": "supervisionorder",
    "message": "outboxmessage",
}


def assert_ids_exist(s: Session, facts: list[dict]) -> None:
    """Every id a document's facts cite names a row of its table."""
    for fact in facts:
        for noun, ids in fact["ids"].items():
            table = FACT_TABLES[noun]
            found = {r[0] for r in s.connection().execute(text(f"SELECT id FROM {table}"))}
            assert set(ids) <= found, (fact["kind"], noun, set(ids) - found)


def check_notice_facts(s: Session, notice: Notice, facts: list[dict]) -> None:
    """Each fact cites only records that exist; the body is the facts' text; the opening's count
    and each unit line's units are what the retained findings (queried here) say."""
    assert_ids_exist(s, facts)
    for fact in facts:
        assert fact["ids"] or fact["kind"] == "opening_none", fact
    if any(f["kind"] == "office_text" for f in facts):
        check_office_facts(s, notice, facts)
        return
    live = (
        s.connection()
        .execute(
            text("SELECT id, unit_id, rule, summary FROM noticefinding WHERE notice_id = :n AND NOT dropped"),
            {"n": notice.id},
        )
        .all()
    )
    kinds = [f["kind"] for f in facts]
    if not live:
        assert kinds == ["opening_none"] and notice.body == facts[0]["text"], kinds
        return
    assert kinds[0] == "opening" and kinds.count("closing") == 1, kinds
    assert facts[0]["values"]["n"] == len({r[1] for r in live})
    assert set(facts[0]["ids"]["finding"]) == {r[0] for r in live}
    for f in facts:
        if f["kind"] == "unit_item":
            same = {r[1] for r in live if r[2] == f["values"]["rule"] and r[3] == f["values"]["summary"]}
            assert set(f["ids"]["unit"]) == same, f
    body = [f["text"] for f in facts if f["kind"] not in ("unit_item", "report_to")]
    assert notice.body.splitlines() == body


def check_office_facts(s: Session, notice: Notice, facts: list[dict]) -> None:
    """A body the office rewrote: the body is its paragraphs' text; each paragraph names (by full
    or short name, found here) only units with a kept finding, and cites exactly those; the
    editor cited is the member of the last notice.edited row that changed the body."""
    conn = s.connection()
    office = [f for f in facts if f["kind"] == "office_text"]
    assert notice.body.splitlines() == [f["text"] for f in office]
    kept = {
        r[0]
        for r in conn.execute(
            text("SELECT unit_id FROM noticefinding WHERE notice_id = :n AND NOT dropped"), {"n": notice.id}
        )
    }
    names = {
        r[0]: (r[1], r[2])
        for r in conn.execute(text("SELECT id, name, short FROM unit WHERE plan_id = :p"), {"p": notice.plan_id})
    }
    edits = conn.execute(
        text("SELECT actor, detail FROM auditlog WHERE action = 'notice.edited' AND object_id = :n ORDER BY at, id"),
        {"n": str(notice.id)},
    ).all()
    editor = [a for a, d in edits if "body" in (d if isinstance(d, dict) else json.loads(d))][-1]
    for f in office:
        # A unit is named by its full name; by its short name only outside every full name.
        rest = f["text"]
        for uid, (name, _) in sorted(names.items(), key=lambda kv: -len(kv[1][0])):
            rest = rest.replace(name, f"<{uid}>")
        named = {uid for uid, (name, _) in names.items() if f"<{uid}>" in rest}
        named |= {uid for uid, (_, short) in names.items() if len(short) >= 2 and short in rest}
        assert set(f["ids"].get("unit", [])) == named, (f["text"], named)
        assert named <= kept, f"an office paragraph names a unit with no kept finding: {f['text']}"
        assert f["ids"]["notice"] == [notice.id] and f["ids"].get("member") == [int(editor.removeprefix("member:"))]  # fmt: skip


def test_every_fact_of_the_notice_cites_records_that_exist(cast: Cast) -> None:
    from oversight.notices import notice_document

    notice = draft(cast)
    doc = notice_document(session=cast.s, notice_id=notice.id, now=AFTER_Q1)
    assert not doc["body_edited"] and doc["paragraphs"] == notice.body.splitlines()
    check_notice_facts(cast.s, notice, doc["facts"])
    items = [f for f in doc["facts"] if f["kind"] == "unit_item"]
    assert {u for f in items for u in f["ids"]["unit"]} == {cast.uid("forestry"), cast.uid("water")}
    assert all(f["ids"].get("problem") for f in items), items  # each line rests on the problems' record
    # A dropped finding leaves the facts (and the default body) with the one remaining.
    forestry = next(
        f for f in notice_findings(session=cast.s, notice_id=notice.id) if f.unit_id == cast.uid("forestry")
    )
    drop_finding(session=cast.s, finding_id=forestry.id, actor=cast.convener, reason="已当面督促", now=AFTER_Q1)
    cast.s.commit()
    doc = notice_document(session=cast.s, notice_id=notice.id, now=AFTER_Q1)
    cast.s.refresh(notice)
    check_notice_facts(cast.s, notice, doc["facts"])
    assert doc["facts"][0]["values"]["n"] == 1 and "旗林草局" not in doc["facts"][0]["text"]


def test_the_overview_is_its_facts_through_drops_down_to_none_kept(cast: Cast) -> None:
    """The convener's overview, line by line against the findings: two units named; one finding
    dropped (its unit 不再通报, the counts say 已删除1项); both dropped (均已删除, no hint to open
    the findings' pages); a quarter with nothing to name (本期没有通报事项)."""
    from oversight.notices import overview_facts
    from tests.chatfacts import assert_overview_facts

    def check(notice_id: int) -> tuple[str, list[dict]]:
        facts = overview_facts(session=cast.s, notice_id=notice_id)
        text, listed = draft_message(session=cast.s, notice_id=notice_id), facts.listed()
        assert_overview_facts(cast.s, notice_id, text, listed)
        return text, listed

    notice = draft(cast)
    text, _ = check(notice.id)
    assert text.splitlines()[1] == "2026年第一季度　草稿　通报事项2项（涉及2个单位）"
    first, second = notice_findings(session=cast.s, notice_id=notice.id)
    drop_finding(session=cast.s, finding_id=first.id, actor=cast.convener, reason="已于季度末办结", now=AFTER_Q1)
    cast.s.commit()
    text, _ = check(notice.id)
    assert "通报事项1项（涉及1个单位），已删除1项" in text and "不再通报（已删除" in text
    drop_finding(session=cast.s, finding_id=second.id, actor=cast.convener, reason="经核实已整改到位", now=AFTER_Q1)
    cast.s.commit()
    text, _ = check(notice.id)
    assert "2项通报事项均已删除" in text and "点下方单位按钮" not in text and "通报事项0项" not in text
    empty = draft_notice(session=cast.s, plan_id=cast.plan_id, period="2024Q3", now=AFTER_Q1)  # before tracking began
    cast.s.commit()
    text, _ = check(empty.id)
    assert "本期没有通报事项" in text and "被通报单位及事项" not in text
    # title_none: a draft with no finding names no 不力单位 in its title
    assert empty.title == "关于2024年第三季度乌拉特中旗非煤矿山资源整合、增储上产工作推进情况的通报"


def test_the_townships_are_named_as_the_one_unit_the_record_holds(cast: Cast, tmp_path: Path) -> None:
    """属地苏木镇政府 has one contact, who accepts a 征地矛盾 problem on 3 February and does nothing
    more: the notice names it as it acts, 属地苏木镇政府：1个问题逾期未办结, in its body, its annex
    and the PDF. It read 属地各苏木镇政府, seed 000 四's collective name: 各 claimed every township
    had left the problem, when the record holds one unit answering for the township concerned. The
    seed's name still finds the unit where a name is typed."""
    from models import Role
    from oversight.members import find_unit

    cast.people["township"] = cast.member("township", Role.CONTACT)
    pid = cast.raise_("township", at(2, 2), category="land_dispute")
    accept_problem(session=cast.s, problem_id=pid, actor=cast["township"], now=at(2, 3))
    cast.s.commit()
    notice = published(cast, tmp_path)
    assert f"属地苏木镇政府：1个问题逾期未办结（{pid}号问题）" in notice.body, notice.body
    from io import BytesIO

    from pypdf import PdfReader

    pdf = "".join(p.extract_text() for p in PdfReader(BytesIO(Path(notice.pdf_path).read_bytes())).pages)
    flat = "".join(pdf.split())
    assert "属地苏木镇政府：问题解决不积极、不明显" in flat and "各苏木镇" not in flat
    assert "各苏木镇" not in notice.body
    found = find_unit(session=cast.s, plan_id=cast.plan_id, text="属地各苏木镇政府")
    assert found is not None and found.key == "township"
