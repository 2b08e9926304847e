"""The half-yearly review job (工作问效, "review"): follow up the rectification ledger, add
the half's items, render the review report and send it to the conveners."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from jobs.render import LAYOUT_TEXTS, docx_path, office_mark_lines, render_document
from models import Plan, Role, row_id
from oversight.accountability import parse_period
from oversight.distribution import Attachment, distribute
from oversight.members import members_with_role
from oversight.periods import half_of
from oversight.rectification import tell_units
from oversight.review import build_review, review_document, run_review
from oversight.sample import chat_marked, sample_mark
from oversight.schedules import is_adhoc

logger = logging.getLogger(__name__)

CAPTION = "{title}（整改台账 {items} 项，本期新增 {added} 项，逾期加倍扣分 {missed} 项）"


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
    when not issued), 印发 by the office on the report's date."""
    office = doc.get("office") or ""
    return {
        **doc,
        "office_mark_lines": office_mark_lines(office),
        "doc_number": review_number(plan=plan, period=period) if issued else LAYOUT_TEXTS["draft_number"],
        "printed_by": office,
        "printed_date": f"{doc['date_text']}印发",
    }


def draft_document(*, session: Session, plan: Plan, period: str, now: datetime) -> dict[str, Any]:
    """The half's review as a draft document (`lianxi review --out`, the demo): computed from the
    record as of `now`, nothing recorded; 文号 to come."""
    review = build_review(session=session, plan_id=row_id(plan), period=period, now=now)
    doc = review_document(session=session, plan_id=row_id(plan), review=review, now=now)
    return review_layout(doc, plan=plan, period=period, issued=False)


def _units(session: Session, plan_id: int, role: str) -> list[int]:
    return list(dict.fromkeys(m.unit_id for m in members_with_role(session=session, plan_id=plan_id, roles=(role,))))


def run(*, session: Session, period: str, now: datetime, data_dir: Path | None = None) -> dict[str, Any]:
    """Job review: each plan's review of the half (an ad-hoc run reviews the current half so far)."""
    key = half_of(now) if is_adhoc(period) else parse_period(period).key
    base = Path(data_dir or _settings_data_dir())
    out: dict[str, Any] = {"period": key, "plans": []}
    for plan in session.exec(select(Plan).order_by(col(Plan.id))).all():
        review = run_review(session=session, plan_id=row_id(plan), period=key, now=now)
        # Each unit is told its new rectification items (item, responsible person, deadline, standard).
        tell_units(session=session, plan_id=row_id(plan), item_ids=review["added_item_ids"], now=now)
        doc = review_document(session=session, plan_id=row_id(plan), review=review, now=now)
        pdf = base / "reviews" / f"{plan.key}-{key}.pdf"
        doc = review_layout(doc, plan=plan, period=key, issued=True)
        render_document("review", doc, out=pdf, sample=sample_mark(plan))
        caption = chat_marked(
            plan,
            CAPTION.format(
                title=doc["title"],
                items=len(review["ledger"]),
                added=len(review["added_item_ids"]),
                missed=len(review["follow_up"]["missed"]),
            ),
        )
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
            {
                "plan": plan.key,
                "pdf": str(pdf),
                "units": len(review["units"]),
                "ledger": len(review["ledger"]),
                "added": len(review["added_item_ids"]),
                "missed": review["follow_up"]["missed"],
                "sent_to": sent,
            }
        )
        logger.info(
            "review %s %s: %d units, %d ledger items, pdf %s",
            plan.key,
            key,
            len(review["units"]),
            len(review["ledger"]),
            pdf,
        )
    return out
