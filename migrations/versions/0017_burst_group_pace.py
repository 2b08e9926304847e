"""a group chat's sends of the last minute, shared by the bot replicas (models/pace.py)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 16:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grouppace",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("sent", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.Column("held_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id"),
    )


def downgrade() -> None:
    op.drop_table("grouppace")
