"""a meeting is scheduled, its agenda circulated, attendance kept per unit and minutes written;
an agreed matter names its cooperating units

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(sa.JSON(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=20), nullable=False, server_default="held"))
        batch_op.add_column(sa.Column("starts_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("agenda", JSON, nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("circulated_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("held_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("minutes_no", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("minutes_path", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("minuted_at", models.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cooperating_unit_ids", JSON, nullable=False, server_default="[]"))
    op.create_table(
        "meetingattendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("attendee", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "unit_id"),
    )
    with op.batch_alter_table("meetingattendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetingattendance_meeting_id"), ["meeting_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meetingattendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetingattendance_meeting_id"))
    op.drop_table("meetingattendance")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("cooperating_unit_ids")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        for name in (
            "minuted_at",
            "minutes_path",
            "minutes_no",
            "held_at",
            "circulated_at",
            "agenda",
            "starts_at",
            "state",
        ):
            batch_op.drop_column(name)
