"""right: sector, green-mine level, league or city, cause of idleness, baseline date

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:20:00.000000

Existing rights get empty values (not known yet): no figure is invented for them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("right", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sector", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("green_level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("locality_unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("idle_cause", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("baseline_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_right_locality_unit_id"), ["locality_unit_id"], unique=False)
        batch_op.create_foreign_key("fk_right_locality_unit_id_unit", "unit", ["locality_unit_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("right", schema=None) as batch_op:
        batch_op.drop_constraint("fk_right_locality_unit_id_unit", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_right_locality_unit_id"))
        for name in ("baseline_on", "idle_cause", "locality_unit_id", "green_level", "sector"):
            batch_op.drop_column(name)
