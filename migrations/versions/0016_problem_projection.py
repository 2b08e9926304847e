"""the accountability rules read each problem's state from a projection kept with its events

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "problemprojection",
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("last_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state_event_id", sa.Integer(), nullable=True),
        sa.Column("state_kind", sa.String(length=20), nullable=True),
        sa.Column("state_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("owner_event_id", sa.Integer(), nullable=True),
        sa.Column("owner_unit_id", sa.Integer(), nullable=True),
        sa.Column("action_event_id", sa.Integer(), nullable=True),
        sa.Column("action_kind", sa.String(length=20), nullable=True),
        sa.Column("action_unit_id", sa.Integer(), nullable=True),
        sa.Column("action_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_event_id", sa.Integer(), nullable=True),
        sa.Column("handovers", sa.Integer(), nullable=False),
        sa.Column("passed_by", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["problem_id"], ["problem.id"]),
        sa.PrimaryKeyConstraint("problem_id"),
    )
    from models.projection import rebuild

    rebuild(op.get_bind(), with_spells=False, with_handovers=False)


def downgrade() -> None:
    op.drop_table("problemprojection")
