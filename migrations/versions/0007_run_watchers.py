"""run watchers: who asked for a run now and is told its result

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "runwatcher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["scheduledrun.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("runwatcher", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runwatcher_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("runwatcher", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runwatcher_run_id"))
    op.drop_table("runwatcher")
