"""an agreed matter is closed with evidence the office accepts: its evidence and files

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 02:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence_text", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("submitted_at", models.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_attachment_decision", "decision", ["decision_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_constraint("fk_attachment_decision", type_="foreignkey")
        batch_op.drop_column("decision_id")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("submitted_at")
        batch_op.drop_column("evidence_text")
