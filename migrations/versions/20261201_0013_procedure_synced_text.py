"""procedure keeps the text last brought in from its library file

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Left empty for the procedures from before: the next sync adopts the file's text as the one
    # brought in when a version holds it, and so never drafts a reversal of a later approval.
    with op.batch_alter_table("procedure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("synced_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("procedure", schema=None) as batch_op:
        batch_op.drop_column("synced_sha256")
