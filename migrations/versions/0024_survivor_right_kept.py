"""right: whether it is the right its integration zone keeps (整合后保留)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 16:00:00.000000

Existing rights get NULL (not yet stated): no survivor is inferred for a zone already in the ledger.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("right", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kept_in_zone", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("right", schema=None) as batch_op:
        batch_op.drop_column("kept_in_zone")
