"""The audit log: one row per state change and per refusal, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from models import AuditLog, Member, Role, utcnow
from oversight.errors import PermissionDeniedError


def actor_of(member_id: int | None = None, *, telegram_user_id: int | None = None, system: str | None = None) -> str:
    """The audit actor string for a member, a bare Telegram user or a system part."""
    if member_id is not None:
        return f"member:{member_id}"
    if telegram_user_id is not None:
        return f"tg:{telegram_user_id}"
    return system or "system"


def audit(
    *,
    session: Session,
    actor: str,
    action: str,
    object_type: str = "",
    object_id: Any = "",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditLog:
    """Add an audit row to the session (committed with the change it records)."""
    row = AuditLog(
        at=at or utcnow(),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id != "" else "",
        detail=detail or {},
    )
    session.add(row)
    return row


def require_role(
    session: Session,
    *,
    actor: Member,
    plan_id: int,
    roles: tuple[str, ...],
    what: str,
    object_type: str,
    object_id: int | None,
    now: datetime,
) -> None:
    """Let an active member of the plan with one of `roles` go on; otherwise record the refusal
    (`<object_type>.refused`) and raise PermissionDeniedError naming who may do `what`."""
    if actor.active and actor.plan_id == plan_id and actor.role in roles:
        return
    who = "、".join({Role.CONVENER: "召集人", Role.OFFICE: "联席会议办公室"}.get(r, r) for r in roles)
    message = f"只有{who}可以{what}。"
    audit(
        session=session,
        actor=actor_of(actor.id),
        action=f"{object_type}.refused",
        object_type=object_type,
        object_id=object_id,
        detail={"what": what, "message": message},
        at=now,
    )
    raise PermissionDeniedError(message)
