"""an index on reports that holds who filed each, so the weeks reported in are read from the index alone

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 09:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # It replaces the index it begins with: every lookup the narrower one served, it serves.
    op.create_index(
        "ix_report_plan_created_who", "report", ["plan_id", "created_at", "unit_id", "member_id"], unique=False
    )
    op.drop_index("ix_report_plan_created", table_name="report")


def downgrade() -> None:
    op.create_index("ix_report_plan_created", "report", ["plan_id", "created_at"], unique=False)
    op.drop_index("ix_report_plan_created_who", table_name="report")
