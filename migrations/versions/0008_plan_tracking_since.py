"""plan.tracking_since: from when units answer for anything

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:40:00.000000

An existing plan gets the day it was first loaded (its earliest plan.loaded audit row, else
its loaded_at), in the zone from Settings.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _aware(value: object) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def upgrade() -> None:
    from config.settings import get_settings

    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracking_since", sa.Date(), nullable=True))
    bind = op.get_bind()
    tz = get_settings().tz
    plans = bind.execute(sa.text("SELECT id, loaded_at FROM plan")).all()
    for plan_id, loaded_at in plans:
        first = bind.execute(
            sa.text(
                "SELECT MIN(at) FROM auditlog WHERE action = 'plan.loaded' AND object_type = 'plan' AND object_id = :id"
            ),
            {"id": str(plan_id)},
        ).scalar()
        day = _aware(first if first is not None else loaded_at).astimezone(tz).date()
        bind.execute(sa.text("UPDATE plan SET tracking_since = :d WHERE id = :id"), {"d": day, "id": plan_id})


def downgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("tracking_since")
