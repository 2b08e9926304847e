"""One plan's records by id: what a button or a typed id may name is looked up in the member's
plan only, so an id of another plan's record is as unknown as a made-up one."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session, SQLModel

Record = TypeVar("Record", bound=SQLModel)


def plan_record(*, session: Session, model: type[Record], record_id: int | None, plan_id: int) -> Record | None:
    """The `model` row with this id if it belongs to plan `plan_id`, else None."""
    if record_id is None:
        return None
    row = session.get(model, record_id)
    if row is None or getattr(row, "plan_id", None) != plan_id:
        return None
    return row
