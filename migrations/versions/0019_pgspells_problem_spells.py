"""each problem action's spell kept with the projection, so the spell rules read only the spells reaching a window

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "problemspell",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["problemevent.id"]),
        sa.ForeignKeyConstraint(["problem_id"], ["problem.id"]),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_problemspell_next_at", "problemspell", ["next_at"], unique=False)
    op.create_index("ix_problemspell_problem_at", "problemspell", ["problem_id", "at", "event_id"], unique=False)
    # The data: every problem's spells from its events (and its projection, unchanged).
    from models.projection import rebuild

    rebuild(op.get_bind(), with_handovers=False)  # their table comes with 0022


def downgrade() -> None:
    op.drop_index("ix_problemspell_problem_at", table_name="problemspell")
    op.drop_index("ix_problemspell_next_at", table_name="problemspell")
    op.drop_table("problemspell")
