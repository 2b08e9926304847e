"""reports indexed by (plan, time) only: drop the indexes of plan_id and created_at alone

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 17:12:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_plan_id")
        batch_op.drop_index("ix_report_created_at")


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index("ix_report_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_report_plan_id", ["plan_id"], unique=False)
