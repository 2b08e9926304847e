"""an index on problem events by kind and time that holds each event's problem and units, so the
events of some kinds in a period are read from the index alone

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 12:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # It replaces the index it begins with: every lookup the narrower one served, it serves.
    op.create_index(
        "ix_problemevent_kind_at_units",
        "problemevent",
        ["kind", "at", "problem_id", "from_unit_id", "to_unit_id"],
        unique=False,
    )
    op.drop_index("ix_problemevent_kind_at", table_name="problemevent")


def downgrade() -> None:
    op.create_index("ix_problemevent_kind_at", "problemevent", ["kind", "at"], unique=False)
    op.drop_index("ix_problemevent_kind_at_units", table_name="problemevent")
