"""an index on problem events by problem, kind and time, for a problem's latest event of given kinds

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 16:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_problemevent_problem_kind_at", "problemevent", ["problem_id", "kind", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_problemevent_problem_kind_at", table_name="problemevent")
