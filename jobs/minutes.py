"""The minutes job ("minutes", period meeting-<id>; requested by the office in /meeting): write the
held meeting's 会议纪要 as PDF and Word in the official layout and send both to every member
unit's contacts, the conveners, the office and, when a matter is 重大, the supervision group."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from jobs.render import docx_path, render_document
from models import Meeting, Plan
from oversight import convening as C
from oversight.distribution import Attachment, distribute
from oversight.sample import chat_marked, sample_mark

logger = logging.getLogger(__name__)


def _settings_data_dir() -> Path:
    from config.settings import get_settings

    return get_settings().DATA_DIR


def run(*, session: Session, period: str, now: datetime, data_dir: Path | None = None) -> dict[str, Any]:
    meeting_id = C.meeting_id_of_period(period)
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise ValueError(f"no meeting {meeting_id}")
    plan = session.get(Plan, meeting.plan_id)
    doc = C.minutes_document(session=session, meeting_id=meeting_id, now=meeting.minuted_at or now)
    pdf = Path(meeting.minutes_path) if meeting.minutes_path else None
    if pdf is None or not pdf.exists():  # written once; a retry after a crash writes it again
        base = Path(data_dir or _settings_data_dir())
        pdf = base / "minutes" / f"{plan.key if plan else meeting.plan_id}-meeting-{meeting_id}.pdf"
        pdf.parent.mkdir(parents=True, exist_ok=True)
        render_document("minutes", doc, out=pdf, sample=sample_mark(plan))
    C.mark_minuted(session=session, meeting_id=meeting_id, number=doc["minutes_no"], path=str(pdf), now=now)
    title = doc["title"]
    said = C.minutes_caption(session=session, meeting_id=meeting_id, title=title, number=doc["doc_number"])
    caption = chat_marked(plan, said.message())
    sent = distribute(
        session=session,
        lines=C.minutes_lines(session=session, meeting_id=meeting_id, major=doc["major"]),
        files=[Attachment(pdf, f"{title}.pdf", caption), Attachment(docx_path(pdf), f"{title}.docx")],
        text=None,
        dedupe_prefix=f"minutes:{meeting_id}",
        now=now,
    )
    logger.info("minutes of meeting %s: %s, %d chats", meeting_id, pdf, sent["chats"])
    return {"meeting": meeting_id, "pdf": str(pdf), "number": doc["doc_number"], "sent_to": sent["chats"]}
