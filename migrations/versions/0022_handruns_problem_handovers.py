"""each hand-over and ruling of a problem kept with its run and whether it brings the problem back,
so the shifting rules read the hand-overs in a window instead of every event of the problems in it

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "problemhandover",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("from_unit_id", sa.Integer(), nullable=True),
        sa.Column("to_unit_id", sa.Integer(), nullable=True),
        sa.Column("reason_accepted", sa.Boolean(), nullable=True),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("pass_no", sa.Integer(), nullable=False),
        sa.Column("comes_back", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["problemevent.id"]),
        sa.ForeignKeyConstraint(["problem_id"], ["problem.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_problemhandover_plan_at", "problemhandover", ["plan_id", "at"], unique=False)
    op.create_index(
        "ix_problemhandover_problem_run", "problemhandover", ["problem_id", "run_id", "pass_no"], unique=False
    )
    # The data: every problem's hand-overs from its events (and its projection and spells, unchanged).
    from models.projection import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_problemhandover_problem_run", table_name="problemhandover")
    op.drop_index("ix_problemhandover_plan_at", table_name="problemhandover")
    op.drop_table("problemhandover")
