"""brief sign-off: a brief is a draft until the office approves it and the convener signs it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("brief", schema=None) as batch_op:
        # Briefs stored before sign-off existed were sent when they were built.
        batch_op.add_column(sa.Column("state", sa.String(length=20), nullable=False, server_default="distributed"))
        batch_op.add_column(sa.Column("editor_note", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("rendered_revision", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("office_approved_by_member_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("office_approved_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("signed_by_member_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("signed_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("distributed_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key("fk_brief_office_approver", "member", ["office_approved_by_member_id"], ["id"])
        batch_op.create_foreign_key("fk_brief_signer", "member", ["signed_by_member_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("brief", schema=None) as batch_op:
        batch_op.drop_constraint("fk_brief_signer", type_="foreignkey")
        batch_op.drop_constraint("fk_brief_office_approver", type_="foreignkey")
        for name in (
            "distributed_at",
            "signed_at",
            "signed_by_member_id",
            "office_approved_at",
            "office_approved_by_member_id",
            "rendered_revision",
            "revision",
            "editor_note",
            "state",
        ):
            batch_op.drop_column(name)
