"""The worker's part of 督办 (oversight/supervision.py): once a working day, before the daily digest,
each plan's items are coloured again (each change told once to the owning unit); every 督办单 issued
and not yet sent is rendered (PDF + Word) and sent to the unit's contacts, its zone leader and the
office. An order issued by a worker that died before sending it is sent by the next run."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from models import Plan, SupervisionOrder
from models.base import row_id
from oversight import supervision
from oversight.outbox import enqueue_document
from oversight.sample import chat_marked, sample_mark

logger = logging.getLogger(__name__)


def _data_dir() -> Path:
    from config.settings import get_settings

    return Path(get_settings().DATA_DIR)


def order_path(order: SupervisionOrder, data_dir: Path | None = None) -> Path:
    return Path(data_dir or _data_dir()) / "supervision" / f"{order.plan_id}-{order.year}-{order.seq}.pdf"


def send_order(*, session: Session, order_id: int, now: datetime, data_dir: Path | None = None) -> dict[str, Any]:
    """Render one 督办单 and queue it (PDF and Word) to its recipients; the order is marked sent."""
    from jobs.render import render_supervision

    order = session.get(SupervisionOrder, order_id)
    if order is None:
        raise ValueError(f"no supervision order {order_id}")
    plan = session.get(Plan, order.plan_id)
    out = order_path(order, data_dir)
    files = render_supervision(
        supervision.order_document(session=session, order=order), out=out, sample=sample_mark(plan)
    )
    title = f"{order.doc_no}督办单"
    queued = 0
    for m in supervision.order_recipients(session=session, order=order):
        if m.telegram_user_id is None:
            continue
        for path, name, kind in ((files.pdf, f"{title}.pdf", "pdf"), (files.docx, f"{title}.docx", "docx")):
            queued += bool(
                enqueue_document(
                    session=session,
                    chat_id=m.telegram_user_id,
                    path=str(path),
                    filename=name.replace("/", "-"),
                    caption=chat_marked(plan, f"【红色督办】{order.doc_no} {order.data.get('label', '')}")
                    if kind == "pdf"
                    else "",
                    dedupe_key=f"suporder:{order.id}:{kind}:{m.id}",
                    now=now,
                )
            )
    supervision.mark_order_sent(
        session=session, order_id=row_id(order), pdf_path=str(files.pdf), docx_path=str(files.docx), now=now
    )
    return {"order": order.id, "doc_no": order.doc_no, "pdf": str(files.pdf), "queued": queued}


def run_supervision(*, session: Session, now: datetime, data_dir: Path | None = None) -> dict[str, Any]:
    """Colour every plan's open items and send the 督办单 issued; returns counts by colour per plan."""
    totals: dict[str, Any] = {"changes": 0, "orders": [], "counts": {}, "limits_passed": []}
    for plan in session.exec(select(Plan).order_by(col(Plan.id))).all():
        result = supervision.refresh(session=session, plan_id=row_id(plan), now=now)
        totals["changes"] += len(result["changes"])
        totals["counts"][plan.key] = result["counts"]
        totals["limits_passed"] += result["limits_passed"]
        for order in supervision.unsent_orders(session=session, plan_id=row_id(plan)):
            totals["orders"].append(send_order(session=session, order_id=row_id(order), now=now, data_dir=data_dir))
    logger.info(
        "supervision: %d colour changes, %d orders sent, %d orders past their time limit told",
        totals["changes"],
        len(totals["orders"]),
        len(totals["limits_passed"]),
    )
    return totals
