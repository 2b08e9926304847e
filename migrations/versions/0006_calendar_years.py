"""calendar years an admin stored from the State Council's holiday notice

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendaryear",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holidays", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.Column("workdays", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.Column("names", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("notice_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stored_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stored_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )


def downgrade() -> None:
    op.drop_table("calendaryear")
