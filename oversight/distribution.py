"""Who a document goes to, printed and delivered from one list (分发).

A document's foot block names its recipients (the brief's 报/送/发 lines, a notice's 抄送); the
same list, fixed when the document is built and stored with it, is what `distribute` queues to.
So the lines never name a unit that is not sent the document, and nobody outside them gets it.

A list is {label: [{"unit_id": id, "role": role}, …]}: each entry is a unit and the members of it
who receive (报: the conveners' units, their conveners; 送: member units, their contacts, and the
supervision group's members, printed 联合督导组; 发: the office, its members; 抄送: the conveners' units). Delivery goes to the active members of each unit
with that role at the moment of distribution (a contact who joined since is not left out).
`distribute` is one call for the caller to make once the document may go out (after sign-off).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from models import Member, Role, Unit
from oversight.members import members_of_unit
from oversight.outbox import enqueue_document, enqueue_text, split_text

logger = logging.getLogger(__name__)

Lines = dict[str, list[dict[str, Any]]]

ALL_MEMBER_UNITS = "联席会议各成员单位"
SUPERVISION_GROUP = "联合督导组"
# Units that are not member units of the joint meeting: the convening government and the office.
_NOT_MEMBERS = ("government", "office")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a document: where it is and the name the recipient sees."""

    path: Path
    filename: str
    caption: str = ""


def _units_with(session: Session, plan_id: int, role: str) -> list[int]:
    """Units (in plan order) that have an active member with `role` who can be reached in chat."""
    rows = session.exec(
        select(Member.unit_id)
        .join(Unit, col(Unit.id) == col(Member.unit_id))
        .where(Member.plan_id == plan_id, Member.role == role, col(Member.active).is_(True))
        .where(col(Member.telegram_user_id).is_not(None))
        .order_by(col(Unit.id))
    ).all()
    return list(dict.fromkeys(rows))


def brief_lines(*, session: Session, plan_id: int) -> Lines:
    """The brief's 报/送/发: the conveners' units, the member units with contacts, the office."""
    lines: Lines = {
        "bao": [{"unit_id": u, "role": Role.CONVENER} for u in _units_with(session, plan_id, Role.CONVENER)],
        "song": [{"unit_id": u, "role": Role.CONTACT} for u in _units_with(session, plan_id, Role.CONTACT)]
        + [{"unit_id": u, "role": Role.SUPERVISOR} for u in _units_with(session, plan_id, Role.SUPERVISOR)],
        "fa": [{"unit_id": u, "role": Role.OFFICE} for u in _units_with(session, plan_id, Role.OFFICE)],
    }
    return {k: v for k, v in lines.items() if v}


def notice_copy_lines(*, session: Session, plan_id: int) -> Lines:
    """A notice's 抄送 (its conveners' units) and its 印发 office: they get the PDF and the Word copy."""
    lines: Lines = {
        "cc": [{"unit_id": u, "role": Role.CONVENER} for u in _units_with(session, plan_id, Role.CONVENER)],
        "printed": [{"unit_id": u, "role": Role.OFFICE} for u in _units_with(session, plan_id, Role.OFFICE)],
    }
    return {k: v for k, v in lines.items() if v}


def line_texts(*, session: Session, plan_id: int, lines: Lines) -> dict[str, str]:
    """Each line as printed: unit names joined by 、; all member units as 联席会议各成员单位."""
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.plan_id == plan_id).order_by(col(Unit.id))).all()}
    members = {uid for uid, u in units.items() if u.kind not in _NOT_MEMBERS}
    out: dict[str, str] = {}
    for label, entries in lines.items():
        ids = [e["unit_id"] for e in entries if e["role"] != Role.SUPERVISOR]
        if label == "song" and members and set(ids) >= members:
            names = [ALL_MEMBER_UNITS]
        else:
            names = [units[i].name for i in ids if i in units]
        if any(e["role"] == Role.SUPERVISOR for e in entries):
            names.append(SUPERVISION_GROUP)  # its members, whichever unit they sit in
        out[label] = "、".join(names)
    return out


def copies(lines: Lines) -> int:
    """The copies a foot block's （共印N份） counts: one for each unit on each line (a unit on two
    lines gets two), and one for the 联合督导组 named on a line, however many members it has."""
    units = {(label, e["unit_id"]) for label, entries in lines.items() for e in entries if e["role"] != Role.SUPERVISOR}
    groups = {label for label, entries in lines.items() if any(e["role"] == Role.SUPERVISOR for e in entries)}
    return len(units) + len(groups)


def recipients(*, session: Session, lines: Lines) -> list[tuple[int, Member]]:
    """(unit id, member) of everyone the lines name, each chat once, in line order."""
    seen: set[int] = set()
    out: list[tuple[int, Member]] = []
    for entries in lines.values():
        for e in entries:
            for m in members_of_unit(session=session, unit_id=e["unit_id"], roles=(e["role"],)):
                if m.telegram_user_id is None or m.telegram_user_id in seen:
                    continue
                seen.add(m.telegram_user_id)
                out.append((e["unit_id"], m))
    return out


def distribute(
    *,
    session: Session,
    lines: Lines,
    files: list[Attachment],
    text: str | None,
    dedupe_prefix: str,
    now: datetime,
) -> dict[str, Any]:
    """Queue the document's files (and a text) to every member the lines name, once each.
    Returns how many chats got something new and how many messages were queued; a named unit nobody can be reached in is
    reported (and logged) so that it is not silently left out."""
    chats = 0
    queued = 0
    reached: set[int] = set()
    for unit_id, m in recipients(session=session, lines=lines):
        chat = m.telegram_user_id
        assert chat is not None
        reached.add(unit_id)
        before = queued
        for i, f in enumerate(files):
            msg = enqueue_document(
                session=session,
                chat_id=chat,
                path=str(f.path),
                filename=f.filename,
                caption=f.caption,
                dedupe_key=f"{dedupe_prefix}:{chat}" if i == 0 else f"{dedupe_prefix}:{chat}:file{i}",
                now=now,
            )
            queued += msg is not None
        for j, part in enumerate(split_text(text) if text else []):
            suffix = "summary" if j == 0 else f"summary{j}"
            queued += (
                enqueue_text(
                    session=session, chat_id=chat, text=part, dedupe_key=f"{dedupe_prefix}:{chat}:{suffix}", now=now
                )
                is not None
            )
        chats += queued > before
    unreached = sorted({e["unit_id"] for entries in lines.values() for e in entries} - reached)
    if unreached:
        logger.warning("%s: units %s are named but nobody there can be reached", dedupe_prefix, unreached)
    return {"chats": chats, "queued": queued, "unreached": unreached}


__all__ = [
    "ALL_MEMBER_UNITS",
    "Attachment",
    "Lines",
    "brief_lines",
    "distribute",
    "line_texts",
    "notice_copy_lines",
    "recipients",
]
