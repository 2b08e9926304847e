"""right: an exploration right has no 规模 (size_class '')

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 21:00:00.000000

规模 is a mine's production scale (seed 000 一: 矿山按照生产规模统计); the ledger import gave every
right it read without one 小型, exploration rights (deep and proposed ones too) included. Their
size_class is cleared, as the import now leaves it; mining rights keep theirs. Downgrade gives them
小型 again, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text("UPDATE \"right\" SET size_class = '' WHERE kind <> 'mining'"))


def downgrade() -> None:
    op.execute(sa.text("UPDATE \"right\" SET size_class = 'small' WHERE kind <> 'mining' AND size_class = ''"))
