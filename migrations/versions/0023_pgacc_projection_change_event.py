"""the projection keeps each problem's last state event but a confirmation, so the resolution rules
tell a standing resolution from an undone one without looking for later events of every problem

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("problemprojection") as batch_op:
        batch_op.add_column(sa.Column("change_event_id", sa.Integer(), nullable=True))
    # The data: every problem's projection from its events (its spells and hand-overs unchanged).
    from models.projection import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("problemprojection") as batch_op:
        batch_op.drop_column("change_event_id")
