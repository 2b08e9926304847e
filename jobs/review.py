"""The half-yearly review job (工作问效, "review"): follow up the rectification ledger, add
the half's items, render the review report and send it to the conveners."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from jobs.render import LAYOUT_TEXTS, docx_path, office_mark_lines, render_document
from models import AuditLog, Plan, Role, read_only, row_id, session_scope
from oversight.accountability import parse_period
from oversight.audit import actor_of, audit
from oversight.distribution import Attachment, distribute
from oversight.members import members_with_role
from oversight.periods import half_of
from oversight.rectification import tell_units
from oversight.review import (
    add_item,
    build_review,
    follow_up_ledger,
    review_caption,
    review_document,
    review_item_specs,
    run_review,
    unit_scores,
)
from oversight.sample import chat_marked, sample_mark
from oversight.schedules import is_adhoc

logger = logging.getLogger(__name__)


def _settings_data_dir() -> Path:
    from config.settings import get_settings

    return get_settings().DATA_DIR


def review_number(*, plan: Plan, period: str) -> str:
    """The review's 文号: the office's 报 series, numbered by the half (乌中联办报〔2026〕1号 for
    2026H1, 2号 for 2026H2): a review is the only document of that series, one per half, so the
    number is stable however often the half is reviewed again."""
    office = (plan.spec or {}).get("office") or {}
    prefix = office.get("review_prefix") or (office.get("notice_prefix") or "联办通").removesuffix("通") + "报"
    half = parse_period(period)
    return f"{prefix}〔{half.key[:4]}〕{half.key[-1]}号"


def review_layout(doc: dict[str, Any], *, plan: Plan, period: str, issued: bool) -> dict[str, Any]:
    """The review document's 版头 and 版记: the office's red mark, its 文号 (a draft's placeholder
    when not issued), 印发 by the office on the report's date; a draft not issued reads 起草 on that
    date, as a notice's draft does (jobs.notices.draft_document), since nothing was 印发 yet."""
    office = doc.get("office") or ""
    return {
        **doc,
        "office_mark_lines": office_mark_lines(office),
        "doc_number": review_number(plan=plan, period=period) if issued else LAYOUT_TEXTS["draft_number"],
        "printed_by": office,
        "printed_date": f"{doc['date_text']}{'印发' if issued else '起草'}",
    }


def draft_document(*, session: Session, plan: Plan, period: str, now: datetime) -> dict[str, Any]:
    """The half's review as a draft document (`lianxi review --out`, the demo): computed from the
    record as of `now`, nothing recorded; 文号 to come."""
    review = build_review(session=session, plan_id=row_id(plan), period=period, now=now)
    doc = review_document(session=session, plan_id=row_id(plan), review=review, now=now)
    return review_layout(doc, plan=plan, period=period, issued=False)


def _units(session: Session, plan_id: int, role: str) -> list[int]:
    return list(dict.fromkeys(m.unit_id for m in members_with_role(session=session, plan_id=plan_id, roles=(role,))))


# A run's review recorded in short writes before its PDF is rendered outside any write: the mark
# (in the audit log) keeps the ledger's follow-up and the items added, so a retry of the run
# reports what its first attempt did; consumed (ISSUED) in the transaction that records the run.
RECORDED = "review.recorded"
ISSUED = "review.issued"
ITEMS_PER_WRITE = 5


def _summary(review: dict[str, Any]) -> dict[str, Any]:
    return {
        "units": len(review["units"]),
        "ledger": len(review["ledger"]),
        "added": len(review["added_item_ids"]),
        "added_ids": list(review["added_item_ids"]),
        "missed": list(review["follow_up"]["missed"]),
        "scored_unit_ids": [int(r["unit_id"]) for r in review["units"] if r["total"] is not None],
        "ledger_ids": [int(it["id"]) for it in review["ledger"]],
    }


def _recorded(session: Session, *, plan_id: int, period: str) -> AuditLog | None:
    """This run's recorded review of the plan not yet issued, if an attempt left one."""
    marks = session.exec(
        select(AuditLog)
        .where(AuditLog.action == RECORDED, AuditLog.object_type == "plan", AuditLog.object_id == str(plan_id))
        .order_by(col(AuditLog.id).desc())
    ).all()
    mark = next((m for m in marks if (m.detail or {}).get("run_period") == period), None)
    if mark is None:
        return None
    issued = session.exec(select(AuditLog).where(AuditLog.action == ISSUED, AuditLog.object_id == str(plan_id))).all()
    return None if any((i.detail or {}).get("mark") == mark.id for i in issued) else mark


def _record_plan(engine: Engine, *, plan_id: int, period: str, key: str, now: datetime) -> int:
    """One plan's review recorded in short writes (the reads between them in read transactions):
    the ledger's follow-up with the mark, the new items a few at a time, the units told. Returns
    the mark's id."""
    with session_scope(engine) as s:
        mark = _recorded(s, plan_id=plan_id, period=period)
        if mark is None:
            follow = follow_up_ledger(session=s, plan_id=plan_id, now=now, actor=actor_of(system="worker"))
            mark = AuditLog(
                actor=actor_of(system="worker"),
                action=RECORDED,
                object_type="plan",
                object_id=str(plan_id),
                detail={"run_period": period, "key": key, "follow_up": follow},
                at=now,
            )
            s.add(mark)
            s.flush()
        mark_id, detail = row_id(mark), dict(mark.detail)
    if "added" in detail:
        return mark_id
    with session_scope(read_only(engine)) as reading:
        scores = unit_scores(session=reading, plan_id=plan_id, period=key, now=now)
        specs = review_item_specs(session=reading, plan_id=plan_id, period=key, now=now, scores=scores)
    added: list[int] = []
    for k in range(0, len(specs), ITEMS_PER_WRITE):
        with session_scope(engine) as s:
            for spec in specs[k : k + ITEMS_PER_WRITE]:
                added.append(row_id(add_item(session=s, **spec, actor=actor_of(system="worker"), now=now)))
    with session_scope(engine) as s:
        # Each unit is told its new rectification items (item, responsible person, deadline, standard).
        tell_units(session=s, plan_id=plan_id, item_ids=added, now=now)
        row = s.get(AuditLog, mark_id)
        assert row is not None
        row.detail = {**detail, "added": added}
        s.add(row)
    return mark_id


def _ahead(session: Session) -> Engine | None:
    """The engine to record and render on before the job's own transaction begins (None: the
    caller's transaction has begun, or is bound to one connection; all of it happens there)."""
    if session.in_transaction():
        return None
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else None


def run(*, session: Session, period: str, now: datetime, data_dir: Path | None = None) -> dict[str, Any]:
    """Job review: each plan's review of the half (an ad-hoc run reviews the current half so far)."""
    key = half_of(now) if is_adhoc(period) else parse_period(period).key
    base = Path(data_dir or _settings_data_dir())
    out: dict[str, Any] = {"period": key, "plans": []}
    engine = _ahead(session)
    ready: dict[int, tuple[int, dict[str, Any], dict[str, Any], str]] = {}  # plan -> (mark, doc, summary, caption)
    if engine is not None:
        with session_scope(read_only(engine)) as reading:
            plan_ids = list(reading.exec(select(Plan.id).order_by(col(Plan.id))).all())
        for plan_id in plan_ids:
            assert plan_id is not None
            mark_id = _record_plan(engine, plan_id=plan_id, period=period, key=key, now=now)
            with session_scope(read_only(engine)) as reading:
                plan = reading.get(Plan, plan_id)
                mark = reading.get(AuditLog, mark_id)
                assert plan is not None and mark is not None
                review = build_review(session=reading, plan_id=plan_id, period=key, now=now)
                review["follow_up"], review["added_item_ids"] = mark.detail["follow_up"], mark.detail["added"]
                doc = review_document(session=reading, plan_id=plan_id, review=review, now=now)
                doc = review_layout(doc, plan=plan, period=key, issued=True)
                render_document("review", doc, out=base / "reviews" / f"{plan.key}-{key}.pdf", sample=sample_mark(plan))
                said = review_caption(title=doc["title"], review=review).message()
                ready[plan_id] = (mark_id, doc, _summary(review), said)
    for plan in session.exec(select(Plan).order_by(col(Plan.id))).all():
        pdf = base / "reviews" / f"{plan.key}-{key}.pdf"
        if row_id(plan) in ready:
            mark_id, doc, summary, said = ready[row_id(plan)]
            audit(
                session=session,
                actor=actor_of(system="worker"),
                action=ISSUED,
                object_type="plan",
                object_id=row_id(plan),
                detail={"mark": mark_id, "run_period": period},
                at=now,
            )
        else:
            review = run_review(session=session, plan_id=row_id(plan), period=key, now=now)
            # Each unit is told its new rectification items (item, responsible person, deadline, standard).
            tell_units(session=session, plan_id=row_id(plan), item_ids=review["added_item_ids"], now=now)
            doc = review_document(session=session, plan_id=row_id(plan), review=review, now=now)
            doc = review_layout(doc, plan=plan, period=key, issued=True)
            render_document("review", doc, out=pdf, sample=sample_mark(plan))
            summary = _summary(review)
            said = review_caption(title=doc["title"], review=review).message()
        caption = chat_marked(plan, said)
        sent = 0
        # The report goes to its 主送 (the conveners) and to the office that issues it, PDF and Word copy.
        lines = {
            "to": [{"unit_id": u, "role": Role.CONVENER} for u in _units(session, row_id(plan), Role.CONVENER)],
            "printed": [{"unit_id": u, "role": Role.OFFICE} for u in _units(session, row_id(plan), Role.OFFICE)],
        }
        title = doc["title"] if isinstance(doc["title"], str) else "".join(doc["title"])
        sent = distribute(
            session=session,
            lines=lines,
            files=[Attachment(pdf, f"{title}.pdf", caption), Attachment(docx_path(pdf), f"{title}.docx")],
            text=None,
            dedupe_prefix=f"review:{plan.id}:{key}",
            now=now,
        )["chats"]
        out["plans"].append(
            {"plan": plan.key, "plan_id": row_id(plan), "period": key, "pdf": str(pdf), **summary, "sent_to": sent}
        )
        logger.info(
            "review %s %s: %d units, %d ledger items, pdf %s", plan.key, key, summary["units"], summary["ledger"], pdf
        )
    return out
