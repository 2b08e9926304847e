"""The half-yearly review job (工作问效, "review"): follow up the rectification ledger, add
the half's items, render the review report and send it to the conveners."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from jobs.render import render_pdf
from models import Plan, Role
from oversight.accountability import half_of, parse_period
from oversight.members import members_with_role
from oversight.outbox import enqueue_document
from oversight.review import review_document, run_review
from oversight.schedules import is_adhoc

logger = logging.getLogger(__name__)

CAPTION = "{title}（整改台账 {items} 项，本期新增 {added} 项，逾期加倍扣分 {missed} 项）"


def _settings_data_dir() -> Path:
    from config.settings import get_settings

    return get_settings().DATA_DIR


def run(*, session: Session, period: str, now: datetime, data_dir: Path | None = None) -> dict[str, Any]:
    """Job review: each plan's review of the half (an ad-hoc run reviews the current half so far)."""
    key = half_of(now) if is_adhoc(period) else parse_period(period).key
    base = Path(data_dir or _settings_data_dir())
    out: dict[str, Any] = {"period": key, "plans": []}
    for plan in session.exec(select(Plan).order_by(col(Plan.id))).all():
        review = run_review(session=session, plan_id=plan.id, period=key, now=now)  # type: ignore[arg-type]
        doc = review_document(session=session, plan_id=plan.id, review=review, now=now)  # type: ignore[arg-type]
        pdf = base / "reviews" / f"{plan.key}-{key}.pdf"
        render_pdf("review.html.j2", doc, out=pdf)
        caption = CAPTION.format(
            title=doc["title"],
            items=len(review["ledger"]),
            added=len(review["added_item_ids"]),
            missed=len(review["follow_up"]["missed"]),
        )
        sent = 0
        for m in members_with_role(session=session, plan_id=plan.id, roles=(Role.CONVENER,)):  # type: ignore[arg-type]
            if m.telegram_user_id is None:
                continue
            sent += bool(
                enqueue_document(
                    session=session,
                    chat_id=m.telegram_user_id,
                    path=str(pdf),
                    filename=f"{doc['title']}.pdf",
                    caption=caption,
                    now=now,
                    dedupe_key=f"review:{plan.id}:{key}:{m.telegram_user_id}",
                )
            )
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
