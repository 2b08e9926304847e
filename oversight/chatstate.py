"""Half-filled conversations and opaque button ids, kept in the database so a
restart of the bot resumes them and a button never carries trusted content."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from models import CallbackToken, ChatState, utcnow

TOKEN_BYTES = 9  # 12 url-safe characters: far below Telegram's 64-byte callback_data limit
TOKEN_TTL = timedelta(days=30)


def get_flow(*, session: Session, chat_id: int, user_id: int) -> ChatState | None:
    """The conversation a user has open in a chat, if any."""
    return session.exec(
        select(ChatState).where(ChatState.chat_id == chat_id).where(ChatState.user_id == user_id)
    ).first()


def set_flow(*, session: Session, chat_id: int, user_id: int, flow: str, step: str, data: dict[str, Any]) -> ChatState:
    """Start or advance a conversation; one open conversation per user and chat."""
    row = get_flow(session=session, chat_id=chat_id, user_id=user_id)
    if row is None:
        row = ChatState(chat_id=chat_id, user_id=user_id, flow=flow)
    row.flow, row.step, row.data, row.updated_at = flow, step, dict(data), utcnow()
    session.add(row)
    return row


def clear_flow(*, session: Session, chat_id: int, user_id: int) -> bool:
    """End the user's conversation in a chat; True if there was one."""
    row = get_flow(session=session, chat_id=chat_id, user_id=user_id)
    if row is None:
        return False
    session.delete(row)
    return True


def mint_token(*, session: Session, action: str, args: dict[str, Any] | None = None, user_id: int | None = None) -> str:
    """An opaque id for a button; the action and its arguments stay here."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(CallbackToken(token=token, action=action, args=args or {}, user_id=user_id))
    return token


def button_row(
    *, session: Session, user_id: int, args: dict[str, Any], names: Sequence[tuple[str, str]]
) -> list[list[dict[str, str]]]:
    """One row of buttons for a queued message: (label, action) each, on the same arguments, for one user."""
    return [
        [
            {"text": label, "token": mint_token(session=session, action=action, args=args, user_id=user_id)}
            for label, action in names
        ]
    ]


def resolve_token(*, session: Session, token: str, now: datetime | None = None) -> CallbackToken | None:
    """The action behind a button id, or None if unknown or too old."""
    if not token or len(token) > 24:
        return None
    row = session.get(CallbackToken, token)
    if row is None or row.created_at < (now or utcnow()) - TOKEN_TTL:
        return None
    return row
