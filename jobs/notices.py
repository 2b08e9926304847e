"""Notice jobs: the quarter-end draft sent to the conveners ("notice_draft") and the
publication of an approved notice ("notice_publish": PDF to the group and to each
named unit's contacts). Both queue through the outbox with dedupe keys in the run's
transaction, so a retried run sends nothing twice."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from jobs.render import LAYOUT_TEXTS, DocumentFiles, draft_mark, render_document
from models import GroupBinding, Member, Notice, OutboxMessage, Plan, Role, Unit, read_only, row_id, session_scope
from oversight.accountability import RULE_LABELS, Finding, evaluate
from oversight.dates import cn_date
from oversight.distribution import Attachment, distribute, line_texts, notice_copy_lines
from oversight.members import members_with_role
from oversight.notices import (
    NoticeState,
    draft_notice,
    draft_overview,
    explanation_deadline,
    mark_published,
    notice_document,
    notice_findings,
    notice_for_period,
    notice_id_of_period,
    notice_recipients,
    preview_of_period,
    review_buttons,
)
from oversight.outbox import enqueue_document, enqueue_text, split_text
from oversight.periods import quarter_of
from oversight.sample import chat_marked, sample_mark
from oversight.schedules import is_adhoc
from oversight.workdays import estimate_mark

logger = logging.getLogger(__name__)


# --- Texts (Chinese) ---------------------------------------------------------------------

GROUP_CAPTION = "{doc_no} {title}"
PREVIEW_CAPTION = "《{title}》送审稿（审定印发时编号）"
GROUP_TEXT = "【通报】{doc_no}《{title}》已印发，被通报单位：{units}。"
UNIT_TEXT = (
    "【通报】贵单位（{unit}）被{doc_no}《{title}》通报：\n{items}\n\n"
    "请认真整改，并于 {deadline} 前在本机器人中发送 /explain，按提示报送书面情况说明（可附佐证材料）。"
)


def _settings_data_dir() -> Path:
    from config.settings import get_settings

    return get_settings().DATA_DIR


def _ahead(session: Session) -> Engine | None:
    """The engine to read (and render) on before the job's own transaction begins: the PDFs take
    seconds, and a write transaction would hold SQLite's lock (the bot's writes waiting) all that
    time. None when the work has to stay in `session` (it has begun, or is bound to a connection)."""
    if session.in_transaction():
        return None
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else None


def draft_message(*, session: Session, notice_id: int) -> str:
    """The draft's overview as the conveners read it in chat (the text lives with the domain);
    each finding's page opens from its button."""
    return draft_overview(session=session, notice_id=notice_id)


DRAFT_MARK = "送审稿 未经审定 不得外传"
# One placeholder for every draft of the office (the review's too): it read （草稿，文号审定后编排） here
# and （文号印发时编排） on the review (audit 4, 11b).
DRAFT_NUMBER = LAYOUT_TEXTS["draft_number"]


def render_draft(*, session: Session, notice_id: int, now: datetime, tag: str) -> tuple[Path, str]:
    """The draft as it stands, as a PDF marked 送审稿 on every page (no number yet); (path, file name)."""
    notice = session.get(Notice, notice_id)
    assert notice is not None
    plan = session.get(Plan, notice.plan_id)
    assert plan is not None
    out = Path(_settings_data_dir()) / "notices" / "drafts" / f"{plan.key}-{notice.period}-{notice.id}-{tag}.pdf"
    doc = notice_document(session=session, notice_id=notice_id, now=now)
    doc["doc_number"] = DRAFT_NUMBER  # numbered when approved, not before
    render_document("notice", doc, out=out, sample=draft_mark(DRAFT_MARK, sample_mark(plan)))
    return out, f"{notice.title}（送审稿）.pdf".replace("/", "-")


def _preview_wanted(session: Session, notice_id: int, member_id: int) -> bool:
    notice, member = session.get(Notice, notice_id), session.get(Member, member_id)
    return not (
        notice is None or member is None or member.telegram_user_id is None or notice.state != NoticeState.DRAFT
    )


def preview_run(*, session: Session, period: str, now: datetime) -> dict[str, Any]:
    """Job notice_preview (period notice-<id>-p<n>-m<member>): the draft as a PDF to the member who asked."""
    notice_id, member_id = preview_of_period(period)
    tag = period.rsplit("-", 2)[1]
    rendered: tuple[Path, str] | None = None
    engine = _ahead(session)
    if engine is not None:
        with session_scope(read_only(engine)) as reading:
            if _preview_wanted(reading, notice_id, member_id):
                rendered = render_draft(session=reading, notice_id=notice_id, now=now, tag=tag)
    if not _preview_wanted(session, notice_id, member_id):
        return {"notice_id": notice_id, "sent": False}
    notice, member = session.get(Notice, notice_id), session.get(Member, member_id)
    assert notice is not None and member is not None and member.telegram_user_id is not None
    path, name = rendered or render_draft(session=session, notice_id=notice_id, now=now, tag=tag)
    enqueue_document(
        session=session,
        chat_id=member.telegram_user_id,
        path=str(path),
        filename=name,
        caption=chat_marked(session.get(Plan, notice.plan_id), PREVIEW_CAPTION.format(title=notice.title)),
        dedupe_key=f"{period}:doc",
        now=now,
    )
    return {"notice_id": notice_id, "sent": True, "pdf": str(path)}


def _draft_pdf_keys(session: Session, notice: Notice) -> list[str]:
    """The dedupe keys of the draft's PDF, one per convener's chat."""
    chats = dict.fromkeys(
        m.telegram_user_id
        for m in members_with_role(session=session, plan_id=notice.plan_id, roles=(Role.CONVENER,))
        if m.telegram_user_id is not None
    )
    return [f"notice:{notice.id}:draft:pdf:{chat}" for chat in chats]


def _draft_pdf_due(session: Session, notice: Notice) -> bool:
    """Whether a convener still lacks the draft's PDF."""
    keys = _draft_pdf_keys(session, notice)
    sent = set(session.exec(select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(keys))).all())
    return any(k not in sent for k in keys)


def send_draft(*, session: Session, notice_id: int, now: datetime, pdf: tuple[Path, str] | None = None) -> int:
    """Queue the draft, as a PDF (`pdf` if rendered beforehand) and as the message with its
    buttons, to every convener of the plan; returns how many chats."""
    notice = session.get(Notice, notice_id)
    assert notice is not None
    parts = split_text(draft_message(session=session, notice_id=notice_id))
    sent = 0
    seen: set[int] = set()
    for m in members_with_role(session=session, plan_id=notice.plan_id, roles=(Role.CONVENER,)):
        if m.telegram_user_id is None or m.telegram_user_id in seen:
            continue
        seen.add(m.telegram_user_id)
        key = f"notice:{notice.id}:draft:pdf:{m.telegram_user_id}"
        if not session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first():
            pdf = pdf or render_draft(session=session, notice_id=notice_id, now=now, tag="p0")
            enqueue_document(
                session=session,
                chat_id=m.telegram_user_id,
                path=str(pdf[0]),
                filename=pdf[1],
                caption=chat_marked(session.get(Plan, notice.plan_id), PREVIEW_CAPTION.format(title=notice.title)),
                dedupe_key=key,
                now=now,
            )
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            buttons = (
                review_buttons(session=session, notice_id=row_id(notice), user_id=m.telegram_user_id) if last else None
            )
            if enqueue_text(
                session=session,
                chat_id=m.telegram_user_id,
                text=part,
                now=now,
                buttons=buttons,
                dedupe_key=f"notice:{notice.id}:draft:{i}:{m.telegram_user_id}",
            ):
                sent += i == 0
    return sent


def run(*, session: Session, period: str, now: datetime) -> dict[str, Any]:
    """Job notice_draft: draft each plan's notice for the quarter and send it to the conveners.
    An ad-hoc run drafts the current quarter so far."""
    key = quarter_of(now) if is_adhoc(period) else period
    out: dict[str, Any] = {"period": key, "notices": []}
    engine = _ahead(session)
    pdfs = _draft_ahead(engine, period=key, now=now) if engine is not None else {}
    for plan in session.exec(select(Plan).order_by(col(Plan.id))).all():
        notice = draft_notice(session=session, plan_id=row_id(plan), period=key, now=now)
        sent = (
            send_draft(session=session, notice_id=row_id(notice), now=now, pdf=pdfs.get(row_id(notice)))
            if notice.state == NoticeState.DRAFT
            else 0
        )
        live = list(notice_findings(session=session, notice_id=row_id(notice), include_dropped=False))
        out["notices"].append(
            {"plan": plan.key, "notice_id": notice.id, "state": notice.state, "findings": len(live), "sent_to": sent}
        )
        logger.info(
            "notice draft %s %s: notice %s, %d findings, %d conveners", plan.key, key, notice.id, len(live), sent
        )
    return out


def _draft_ahead(engine: Engine, *, period: str, now: datetime) -> dict[int, tuple[Path, str]]:
    """Before the job's transaction: the rules evaluated in a read transaction, each missing
    draft recorded in a short write of its own (drafting again returns it, so a retried run
    finds it), and the drafts' PDFs rendered in a read transaction; the PDFs by notice id."""
    todo: dict[int, list[Finding]] = {}
    with session_scope(read_only(engine)) as reading:
        for plan in reading.exec(select(Plan).order_by(col(Plan.id))).all():
            if notice_for_period(session=reading, plan_id=row_id(plan), period=period) is None:
                todo[row_id(plan)] = evaluate(session=reading, plan_id=row_id(plan), period=period, now=now)
    if todo:
        with session_scope(engine) as writing:
            for plan_id, findings in todo.items():
                draft_notice(session=writing, plan_id=plan_id, period=period, now=now, findings=findings)
    pdfs: dict[int, tuple[Path, str]] = {}
    with session_scope(read_only(engine)) as reading:
        for plan in reading.exec(select(Plan).order_by(col(Plan.id))).all():
            notice = notice_for_period(session=reading, plan_id=row_id(plan), period=period)
            if notice is not None and notice.state == NoticeState.DRAFT and _draft_pdf_due(reading, notice):
                pdfs[row_id(notice)] = render_draft(session=reading, notice_id=row_id(notice), now=now, tag="p0")
    return pdfs


def _with_copy_line(session: Session, plan: Plan, doc: dict[str, Any]) -> dict[str, Any]:
    """抄送 and 印发: exactly whom the Word copy and the PDF go to besides the 主送 (oversight.distribution)."""
    copies = notice_copy_lines(session=session, plan_id=row_id(plan))
    texts = line_texts(session=session, plan_id=row_id(plan), lines=copies)
    if texts.get("cc"):
        doc["cc"] = texts["cc"].replace("、", "，") + "。"
    return doc


def draft_document(*, session: Session, plan_id: int, period: str, now: datetime) -> dict[str, Any]:
    """The period's notice as a document to read before it is approved (`lianxi notices draft
    --out`, the demo): drafted from the rules if the period has none yet (the caller rolls back to
    leave nothing recorded); while it has no 文号 it reads as a draft (文号 to come, 起草 date); its
    抄送 as publishing prints it."""
    notice = draft_notice(session=session, plan_id=plan_id, period=period, now=now)
    plan = session.get(Plan, plan_id)
    assert plan is not None
    doc = _with_copy_line(session, plan, notice_document(session=session, notice_id=row_id(notice), now=now))
    if not notice.doc_no:
        doc["doc_number"] = DRAFT_NUMBER
        doc["printed_date"] = f"{doc['date_text']}起草"
    return doc


def render_notice(*, session: Session, notice_id: int, now: datetime, data_dir: Path | None = None) -> DocumentFiles:
    """The notice as it will be published: PDF and Word copy under DATA_DIR/notices."""
    notice = session.get(Notice, notice_id)
    assert notice is not None
    plan = session.get(Plan, notice.plan_id)
    assert plan is not None
    out = Path(data_dir or _settings_data_dir()) / "notices" / f"{plan.key}-{notice.period}-{notice.id}.pdf"
    doc = _with_copy_line(session, plan, notice_document(session=session, notice_id=row_id(notice), now=now))
    return render_document("notice", doc, out=out, sample=sample_mark(plan))


def publish_notice(
    *,
    session: Session,
    notice_id: int,
    now: datetime,
    data_dir: Path | None = None,
    rendered: DocumentFiles | None = None,
) -> dict[str, Any]:
    """Render an approved notice to PDF (unless `rendered` beforehand) and queue it to the group
    and to each named unit's contacts."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise ValueError(f"no notice {notice_id}")
    if notice.state == NoticeState.PUBLISHED:
        return {"notice_id": notice_id, "already": True}
    plan = session.get(Plan, notice.plan_id)
    assert plan is not None
    files = rendered or render_notice(session=session, notice_id=notice_id, now=now, data_dir=data_dir)
    out = files.pdf
    filename = f"{notice.doc_no}{notice.title}.pdf".replace("/", "-")
    mark_published(session=session, notice_id=row_id(notice), pdf_path=str(out), now=now)
    deadline = explanation_deadline(session=session, notice=notice)
    units = {u.id: u.name for u in session.exec(select(Unit).where(Unit.plan_id == plan.id)).all()}
    recipients = notice_recipients(session=session, notice_id=row_id(notice))
    queued = 0
    group = session.get(GroupBinding, plan.id)
    if group is not None:
        queued += bool(
            enqueue_document(
                session=session,
                chat_id=group.chat_id,
                path=str(out),
                filename=filename,
                caption=chat_marked(plan, GROUP_CAPTION.format(doc_no=notice.doc_no, title=notice.title)),
                dedupe_key=f"notice:{notice.id}:group:doc",
                now=now,
            )
        )
        enqueue_text(
            session=session,
            chat_id=group.chat_id,
            now=now,
            dedupe_key=f"notice:{notice.id}:group:text",
            text=GROUP_TEXT.format(
                doc_no=notice.doc_no, title=notice.title, units="、".join(units.get(u, "") for u in recipients)
            ),
        )
    findings = notice_findings(session=session, notice_id=row_id(notice), include_dropped=False)
    for unit_id, members in recipients.items():
        items = "\n".join(f"{RULE_LABELS.get(f.rule, f.rule)}：{f.summary}" for f in findings if f.unit_id == unit_id)
        text = UNIT_TEXT.format(
            unit=units.get(unit_id, ""),
            doc_no=notice.doc_no,
            title=notice.title,
            items=items,
            deadline=cn_date(deadline) + estimate_mark(deadline.date()) if deadline else "",
        )
        for m in members:
            if m.telegram_user_id is None:
                continue
            queued += bool(
                enqueue_document(
                    session=session,
                    chat_id=m.telegram_user_id,
                    path=str(out),
                    filename=filename,
                    caption=chat_marked(plan, f"{notice.doc_no} {notice.title}"),
                    dedupe_key=f"notice:{notice.id}:doc:{m.telegram_user_id}",
                    now=now,
                )
            )
            for i, part in enumerate(split_text(text)):
                enqueue_text(
                    session=session,
                    chat_id=m.telegram_user_id,
                    text=part,
                    now=now,
                    dedupe_key=f"notice:{notice.id}:unit:{i}:{m.telegram_user_id}",
                )
    sent = distribute(
        session=session,
        lines=notice_copy_lines(session=session, plan_id=row_id(plan)),
        files=[
            Attachment(
                out, filename, chat_marked(plan, GROUP_CAPTION.format(doc_no=notice.doc_no, title=notice.title))
            ),
            Attachment(files.docx, filename.removesuffix(".pdf") + ".docx"),
        ],
        text=None,
        dedupe_prefix=f"notice:{notice.id}:copy",
        now=now,
    )
    queued += sent["queued"]
    logger.info("notice %s published as %s: %s, %d documents queued", notice.id, notice.doc_no, out, queued)
    return {
        "notice_id": notice.id,
        "doc_no": notice.doc_no,
        "pdf": str(out),
        "docx": str(files.docx),
        "documents": queued,
        "group": group is not None,
        "units": sorted(recipients),
    }


def publish_run(*, session: Session, period: str, now: datetime) -> dict[str, Any]:
    """Job notice_publish: the run period is notice-<id> (queued by oversight.notices.approve_notice).
    The PDF is rendered in a read transaction first; the publication is recorded in a short write."""
    notice_id = notice_id_of_period(period)
    rendered = None
    engine = _ahead(session)
    if engine is not None:
        with session_scope(read_only(engine)) as reading:
            notice = reading.get(Notice, notice_id)
            if notice is not None and notice.state == NoticeState.APPROVED:
                rendered = render_notice(session=reading, notice_id=notice_id, now=now)
    return publish_notice(session=session, notice_id=notice_id, now=now, rendered=rendered)
